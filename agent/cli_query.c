/*
 * cli_query.c — `hearsay query`, the CLI side of POST /v1/queries/NAME:
 *
 *   hearsay query NAME [PAYLOAD|-] [--timeout D] [--node N]... [--tag K=V]...
 *                [--json]
 *
 * Sends the query, waits for its end (the daemon answers then) and prints
 * each response, one line each: the member's name and its payload (made
 * safe for a terminal; "(binary, N bytes)" for a payload that is not
 * text), then a summary. --json prints the daemon's document as it is.
 * The payload comes from standard input for "-" or when left out and
 * standard input is not a terminal, as for `hearsay event`.
 *
 * --timeout, --node and --tag are this command's own and are taken out
 * before the shared parser (cli_args.c) sees the rest. Exit status: 0, 1
 * (unreachable or refused: the reason on stderr), 2 (usage).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/cli.h"

/* The daemon answers when the query ends: wait that long and this much. */
#define ANSWER_SLACK_MS 15000L
/* What the daemon would pick for an unspecified timeout at most, to wait
 * for: its gossip interval x 4 x log10(N + 1) stays under a minute for any
 * cluster hearsay runs. */
#define DEFAULT_WAIT_MS 60000L

static const char usage[] =
    "usage: hearsay query NAME [PAYLOAD|-] [--timeout D] [--node NAME]...\n"
    "                     [--tag KEY=VALUE]... [--json] [--http ADDR]\n"
    "                     [--token-file FILE]\n"
    "\n"
    "Asks every member (POST /v1/queries/NAME) and prints the responses\n"
    "that arrive before the timeout. Members report it on /v1/events as\n"
    "type \"query\" and run --event-handler query:NAME, whose standard\n"
    "output (up to 512 bytes) is the response.\n"
    "\n"
    "  --timeout D     how long to collect answers (500ms, 5s; at most\n"
    "                  10m; default: the gossip interval x 4 x\n"
    "                  log10(members + 1), at least 2s)\n"
    "  --node NAME     only this member answers (repeatable, up to 16)\n"
    "  --tag KEY=VALUE only members with this tag answer (repeatable, up\n"
    "                  to 4, all must match)\n"
    "  --json          print the daemon's answer as JSON\n"
    "\n"
    "NAME: 1..128 printable ASCII bytes, no spaces; PAYLOAD: up to 512\n"
    "bytes. Queries share the user events' rate limit: 4 a second per\n"
    "node, bursts of 16 (HTTP 429 past that).\n";

/* A duration as hearsayd takes it (hs_duration_parse: "500ms", "5s",
 * "2m"), for how long to wait; the daemon judges the value itself. -1
 * for anything else or over an hour. */
static int parse_wait(const char *s, uint32_t *ms)
{
    uint64_t v = 0;
    if (hs_duration_parse(s, &v) != HS_OK || v > 3600000u)
        return -1;
    *ms = (uint32_t)v;
    return 0;
}

typedef struct qopts {
    const char *timeout;
    const char *nodes[16];
    int n_nodes;
    const char *tags[4];
    int n_tags;
} qopts;

/* Takes --timeout, --node and --tag (as "--opt V" or "--opt=V") out of
 * argv; the rest stays in order. argc after, or -1 (reported). */
static int take_own(int argc, char **argv, qopts *q)
{
    int o = 0;
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        const char *names[] = {"--timeout", "--node", "--tag"};
        int which = -1;
        const char *val = NULL;
        for (int k = 0; k < 3 && which < 0; k++) {
            size_t nl = strlen(names[k]);
            if (strncmp(s, names[k], nl) == 0 && (s[nl] == 0 || s[nl] == '=')) {
                which = k;
                val = s[nl] == '=' ? s + nl + 1 : NULL;
            }
        }
        if (which < 0) {
            argv[o++] = argv[i];
            continue;
        }
        if (!val) {
            if (i + 1 >= argc) {
                hsa_cli_fail("%s needs a value (see --help)", names[which]);
                return -1;
            }
            val = argv[++i];
        }
        if (which == 0) {
            q->timeout = val;
        } else if (which == 1) {
            if (q->n_nodes == 16) {
                hsa_cli_fail("at most 16 --node filters");
                return -1;
            }
            q->nodes[q->n_nodes++] = val;
        } else {
            if (q->n_tags == 4 || !strchr(val, '=') || val[0] == '=') {
                hsa_cli_fail(q->n_tags == 4 ? "at most 4 --tag filters"
                                            : "--tag takes KEY=VALUE");
                return -1;
            }
            q->tags[q->n_tags++] = val;
        }
    }
    return o;
}

/* Appends "&key=a,b" (each item percent-encoded) to path. -1 if it does
 * not fit. */
static int add_list(char *path, size_t cap, const char *key,
                    const char *const *items, int n)
{
    size_t len = strlen(path);
    for (int i = 0; i < n; i++) {
        char *e = curl_easy_escape(NULL, items[i], 0);
        if (!e)
            return -1;
        int w = snprintf(path + len, cap - len, "%s%s", i ? "," : "", e);
        curl_free(e);
        if (w < 0 || (size_t)w >= cap - len)
            return -1;
        len += (size_t)w;
        (void)key;
    }
    return 0;
}

static int build_path(char *path, size_t cap, const char *name, const qopts *q)
{
    if (hsa_cli_escaped_path(path, cap, "/v1/queries/", name) < 0)
        return -1;
    char sep = '?';
    size_t len = strlen(path);
    if (q->timeout) {
        char *e = curl_easy_escape(NULL, q->timeout, 0);
        int w =
            e ? snprintf(path + len, cap - len, "%ctimeout=%s", sep, e) : -1;
        curl_free(e);
        if (w < 0 || (size_t)w >= cap - len)
            return -1;
        sep = '&';
    }
    const char *keys[] = {"node", "tag"};
    const char *const *lists[] = {q->nodes, q->tags};
    int counts[] = {q->n_nodes, q->n_tags};
    for (int k = 0; k < 2; k++) {
        if (!counts[k])
            continue;
        len = strlen(path);
        int w = snprintf(path + len, cap - len, "%c%s=", sep, keys[k]);
        if (w < 0 || (size_t)w >= cap - len ||
            add_list(path, cap, keys[k], lists[k], counts[k]) < 0)
            return -1;
        sep = '&';
    }
    return 0;
}

static void print_answer(const json_t *j)
{
    const json_t *resps = json_object_get(j, "responses");
    size_t i;
    const json_t *r;
    json_array_foreach(resps, i, r)
    {
        const char *from = json_string_value(json_object_get(r, "from"));
        const json_t *p = json_object_get(r, "payload");
        char *safe_from = hsa_cli_printable(from ? from : "?");
        if (json_is_string(p)) {
            /* A handler's echo ends in a newline: not part of the line. */
            char *text = strdup(json_string_value(p));
            size_t n = text ? strlen(text) : 0;
            while (n && (text[n - 1] == '\n' || text[n - 1] == '\r'))
                text[--n] = 0;
            char *safe = text ? hsa_cli_printable(text) : NULL;
            printf("%s\t%s\n", safe_from ? safe_from : "?", safe ? safe : "");
            free(safe);
            free(text);
        } else {
            const char *b =
                json_string_value(json_object_get(r, "payload_base64"));
            printf("%s\t(binary, base64 %s)\n", safe_from ? safe_from : "?",
                   b ? b : "");
        }
        free(safe_from);
    }
    printf("%zu responses, %zu acks\n", json_array_size(resps),
           json_array_size(json_object_get(j, "acks")));
}

int hsa_cli_query(hsa_cli *c, int argc, char **argv)
{
    qopts q = {0};
    argc = take_own(argc, argv, &q);
    if (argc < 0)
        return 2;
    hsa_cli_args a = {0};
    int rc = hsa_cli_parse_args(c, argc, argv, usage, &a, HSA_CLI_JSON, 2);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (a.npos < 1) {
        hsa_cli_fail("usage: hearsay query NAME [PAYLOAD|-] (see --help)");
        return 2;
    }
    uint32_t tmo = 0;
    if (q.timeout && (parse_wait(q.timeout, &tmo) < 0 || !tmo)) {
        hsa_cli_fail("bad --timeout '%s' (a duration such as 500ms or 5s)",
                     q.timeout);
        return 2;
    }
    char path[4096];
    if (build_path(path, sizeof path, a.pos[0], &q) < 0) {
        hsa_cli_fail("query name or filters too long");
        return 2;
    }
    hsa_buf payload = HSA_BUF_INIT, reply = HSA_BUF_INIT;
    rc = hsa_cli_read_payload(a.npos > 1 ? a.pos[1] : NULL, &payload);
    size_t plen = hsa_buf_avail(&payload);
    long wait = (tmo ? (long)tmo : DEFAULT_WAIT_MS) + ANSWER_SLACK_MS;
    if (rc == 0)
        rc =
            hsa_cli_request(c, "POST", path, plen ? hsa_buf_head(&payload) : "",
                            plen, wait, &reply);
    if (rc == 0 && a.json) {
        fwrite(hsa_buf_head(&reply), 1, hsa_buf_avail(&reply), stdout);
        if (!hsa_buf_avail(&reply) ||
            hsa_buf_head(&reply)[hsa_buf_avail(&reply) - 1] != '\n')
            putchar('\n');
    } else if (rc == 0) {
        json_t *j =
            json_loadb(hsa_buf_head(&reply), hsa_buf_avail(&reply), 0, NULL);
        if (!j) {
            hsa_cli_fail("hearsayd's answer is not JSON");
            rc = 1;
        } else {
            print_answer(j);
        }
        json_decref(j);
    }
    hsa_buf_free(&payload);
    hsa_buf_free(&reply);
    return rc;
}
