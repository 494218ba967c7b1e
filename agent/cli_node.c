/*
 * cli_node.c — the commands that change the node hearsayd runs:
 * `hearsay tag set|del` (PUT and DELETE /v1/tags/KEY), `hearsay leave`
 * (POST /v1/leave, which answers once the leave has spread) and `hearsay
 * join` (POST /v1/join).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cli.h"

/* hearsayd answers POST /v1/leave when the leave is done: its
 * --leave-timeout at most, plus the time to exit. */
#define LEAVE_TIMEOUT_MS 300000L

/* The library's limits in the help text, as the header publishes them. */
#define STR_(x) #x
#define XSTR_(x) STR_(x)

static const char usage_tag[] =
    "usage: hearsay tag set KEY VALUE [--http ADDR]\n"
    "       hearsay tag del KEY [--http ADDR]\n"
    "\n"
    "Sets or deletes one of this node's tags; the change gossips to the\n"
    "cluster. Keys: 1.." XSTR_(
        HS_KEY_MAX) " printable ASCII bytes, no spaces, "
                    "not starting\n"
                    "with \"" HS_KEY_RESERVED "\". Values: up to " XSTR_(
                        HS_VALUE_MAX) " bytes. "
                                      "A value that starts with\n"
                                      "\"--\" goes after a \"--\": hearsay tag "
                                      "set opts -- --fast.\n";

static const char usage_leave[] =
    "usage: hearsay leave [--http ADDR]\n"
    "\n"
    "Asks hearsayd to leave the cluster gracefully (POST /v1/leave). Returns\n"
    "once the leave has spread; hearsayd then exits.\n";

static const char usage_join[] =
    "usage: hearsay join SEED... [--http ADDR] [--token-file FILE]\n"
    "\n"
    "Gives the running hearsayd more seeds to gossip with (POST /v1/join),\n"
    "as --join does at start: HOST:PORT, [IPV6]:PORT, a DNS name (resolved\n"
    "again on a schedule) or srv+NAME (DNS SRV records). Returns once the\n"
    "seeds are taken; `hearsay members` and GET /readyz show the join.\n";

int hsa_cli_join(hsa_cli *c, int argc, char **argv)
{
    hsa_cli_args a = {0};
    int rc = hsa_cli_parse_args(c, argc, argv, usage_join, &a, 0, HS_SEEDS_MAX);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (a.npos < 1) {
        hsa_cli_fail("usage: hearsay join SEED... (see --help)");
        return 2;
    }
    json_t *seeds = json_array();
    for (int i = 0; seeds && i < a.npos; i++) {
        if (json_array_append_new(seeds, json_string(a.pos[i])) < 0) {
            json_decref(seeds);
            seeds = NULL;
        }
    }
    json_t *doc = seeds ? json_pack("{s:o}", "seeds", seeds) : NULL;
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!text) {
        hsa_cli_fail("out of memory, or a seed that is not valid UTF-8");
        return 1;
    }
    hsa_buf body = HSA_BUF_INIT;
    rc = hsa_cli_request(c, "POST", "/v1/join", text, strlen(text),
                         REQUEST_TIMEOUT_MS, &body);
    free(text);
    if (rc == 0)
        printf("hearsayd is joining through %d seed%s\n", a.npos,
               a.npos == 1 ? "" : "s");
    hsa_buf_free(&body);
    return rc;
}

int hsa_cli_tag(hsa_cli *c, int argc, char **argv)
{
    hsa_cli_args a = {0};
    int rc = hsa_cli_parse_args(c, argc, argv, usage_tag, &a, 0, 3);
    if (rc)
        return rc < 0 ? 0 : rc;
    bool set = a.npos == 3 && strcmp(a.pos[0], "set") == 0;
    bool del = a.npos == 2 && strcmp(a.pos[0], "del") == 0;
    if (!set && !del) {
        hsa_cli_fail("usage: hearsay tag set KEY VALUE | hearsay tag del KEY");
        return 2;
    }
    char path[1024];
    if (hsa_cli_escaped_path(path, sizeof path, "/v1/tags/", a.pos[1]) < 0)
        return 1;
    hsa_buf body = HSA_BUF_INIT;
    if (set)
        rc = hsa_cli_request(c, "PUT", path, a.pos[2], strlen(a.pos[2]),
                             REQUEST_TIMEOUT_MS, &body);
    else
        rc = hsa_cli_request(c, "DELETE", path, NULL, 0, REQUEST_TIMEOUT_MS,
                             &body);
    hsa_buf_free(&body);
    return rc;
}

int hsa_cli_leave(hsa_cli *c, int argc, char **argv)
{
    hsa_cli_args a = {0};
    int rc = hsa_cli_parse_args(c, argc, argv, usage_leave, &a, 0, 0);
    if (rc)
        return rc < 0 ? 0 : rc;
    hsa_buf body = HSA_BUF_INIT;
    rc =
        hsa_cli_request(c, "POST", "/v1/leave", "", 0, LEAVE_TIMEOUT_MS, &body);
    if (rc == 0) {
        json_t *j =
            json_loadb(hsa_buf_head(&body), hsa_buf_avail(&body), 0, NULL);
        const char *name = json_string_value(json_object_get(j, "name"));
        printf("hearsayd %s left the cluster\n", name ? name : "");
        json_decref(j);
    }
    hsa_buf_free(&body);
    return rc;
}
