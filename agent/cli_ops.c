/*
 * cli_ops.c — `hearsay event` and `hearsay force-leave`, the CLI side of
 * POST /v1/user-events/NAME and POST /v1/members/NAME/force-leave.
 *
 *   hearsay event NAME [PAYLOAD|-]     a user event to every member
 *   hearsay force-leave NAME [--force] a dead member made left everywhere
 *
 * The payload comes from standard input when it is "-", or when it is left
 * out and standard input is not a terminal (`echo v2 | hearsay event
 * deploy`), as serf's `serf event` has it. Exit status: 0, 1 (daemon
 * unreachable or refused: the reason on stderr), 2 (usage).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent/cli.h"

static const char usage_event[] =
    "usage: hearsay event NAME [PAYLOAD|-] [--http ADDR] [--token-file FILE]\n"
    "\n"
    "Sends user event NAME with PAYLOAD to every member of the cluster\n"
    "(POST /v1/user-events/NAME). Each member reports it once: on\n"
    "/v1/events as type \"user\", and to --event-handler user:NAME (the\n"
    "payload on the handler's stdin). Members that join later do not see\n"
    "it. NAME: 1..128 printable ASCII bytes, no spaces; PAYLOAD: up to 512\n"
    "bytes, from standard input for \"-\" or when left out (an empty\n"
    "payload if standard input is a terminal). At most 4 a second per node,\n"
    "bursts of 16 (HTTP 429 past that).\n";

static const char usage_force_leave[] =
    "usage: hearsay force-leave NAME [--force] [--http ADDR]\n"
    "                           [--token-file FILE]\n"
    "\n"
    "Marks member NAME left on every member (POST\n"
    "/v1/members/NAME/force-leave), so it is reaped like a member that left\n"
    "and its handlers see member-leave, instead of staying dead for a day.\n"
    "For dead members: an alive or suspect one is refused unless --force,\n"
    "and comes back anyway with its next heartbeat, as does a dead one that\n"
    "was only cut off.\n";

int hsa_cli_event(hsa_cli *c, int argc, char **argv)
{
    hsa_cli_args a = {0};
    int rc = hsa_cli_parse_args(c, argc, argv, usage_event, &a, 0, 2);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (a.npos < 1) {
        hsa_cli_fail("usage: hearsay event NAME [PAYLOAD|-] (see --help)");
        return 2;
    }
    hsa_buf payload = HSA_BUF_INIT, reply = HSA_BUF_INIT;
    char path[1024];
    rc = hsa_cli_read_payload(a.npos > 1 ? a.pos[1] : NULL, &payload);
    if (rc == 0 && hsa_cli_escaped_path(path, sizeof path, "/v1/user-events/",
                                        a.pos[0]) < 0)
        rc = 2;
    size_t plen = hsa_buf_avail(&payload);
    if (rc == 0)
        rc =
            hsa_cli_request(c, "POST", path, plen ? hsa_buf_head(&payload) : "",
                            plen, REQUEST_TIMEOUT_MS, &reply);
    if (rc == 0)
        printf("user event %s sent (%zu bytes)\n", a.pos[0], plen);
    hsa_buf_free(&payload);
    hsa_buf_free(&reply);
    return rc;
}

int hsa_cli_force_leave(hsa_cli *c, int argc, char **argv)
{
    hsa_cli_args a = {0};
    int rc = hsa_cli_parse_args(c, argc, argv, usage_force_leave, &a,
                                HSA_CLI_FORCE, 1);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (a.npos != 1) {
        hsa_cli_fail("usage: hearsay force-leave NAME [--force] (see --help)");
        return 2;
    }
    char path[1024];
    if (hsa_cli_escaped_path(path, sizeof path, "/v1/members/", a.pos[0]) < 0)
        return 2;
    size_t n = strlen(path);
    const char *suffix = a.force ? "/force-leave?force=1" : "/force-leave";
    if (n + strlen(suffix) >= sizeof path) {
        hsa_cli_fail("member name too long (at most 128 bytes)");
        return 2;
    }
    memcpy(path + n, suffix, strlen(suffix) + 1);
    hsa_buf reply = HSA_BUF_INIT;
    rc = hsa_cli_request(c, "POST", path, "", 0, REQUEST_TIMEOUT_MS, &reply);
    if (rc == 0) {
        json_t *j =
            json_loadb(hsa_buf_head(&reply), hsa_buf_avail(&reply), 0, NULL);
        const char *st = json_string_value(json_object_get(j, "status"));
        printf("member %s: %s\n", a.pos[0], st ? st : "left");
        json_decref(j);
    }
    hsa_buf_free(&reply);
    return rc;
}
