/*
 * cli_ops.c — `hearsay event` and `hearsay force-leave`, the CLI side of
 * POST /v1/user-events/NAME and POST /v1/members/NAME/force-leave.
 *
 *   hearsay event NAME [PAYLOAD|-]     a user event to every member
 *   hearsay force-leave NAME [--force] a dead member made left everywhere
 *
 * Both take --http ADDR and --token-file FILE like every command (cli.c
 * has already applied the ones given before the command and the
 * environment). The payload comes from standard input when it is "-", or
 * when it is left out and standard input is not a terminal (`echo v2 |
 * hearsay event deploy`), as serf's `serf event` has it. Exit status: 0,
 * 1 (daemon unreachable or refused: the reason on stderr), 2 (usage).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "agent/buf.h"
#include "agent/cli_ops.h"
#include "agent/keyring.h"

#define CONNECT_TIMEOUT_MS 3000L
#define REQUEST_TIMEOUT_MS 30000L
/* More than any payload hearsayd takes (512 bytes): the daemon answers the
 * rest with 413; a reply is a small JSON document. */
#define MAX_STDIN (64u * 1024)
#define MAX_REPLY (64u * 1024)

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

typedef struct ops {
    char base[512];
    char token[HSA_TOKEN_MAX + 1];
    const char *pos[2];
    int npos;
    bool force;
} ops;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
    va_list ap;
    fputs("hearsay: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* Options and arguments after the command. 0 to go on, -1 for --help
 * (printed), 2 for a usage error (reported). */
static int parse(ops *o, int argc, char **argv, const char *usage,
                 int max_pos, bool allow_force)
{
    bool only_pos = false;
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        if (!only_pos && strcmp(s, "--") == 0) {
            only_pos = true;
            continue;
        }
        bool opt = !only_pos && s[0] == '-' && s[1] == '-' && s[2];
        if (!opt) {
            if (o->npos >= max_pos) {
                fail("unexpected argument '%s' (see --help)", s);
                return 2;
            }
            o->pos[o->npos++] = s;
            continue;
        }
        if (strcmp(s, "--help") == 0) {
            fputs(usage, stdout);
            return -1;
        }
        if (allow_force && strcmp(s, "--force") == 0) {
            o->force = true;
            continue;
        }
        const char *eq = strchr(s, '=');
        size_t nl = eq ? (size_t)(eq - s) : strlen(s);
        bool http = nl == 6 && strncmp(s, "--http", 6) == 0;
        bool tokf = nl == 12 && strncmp(s, "--token-file", 12) == 0;
        if (!http && !tokf) {
            fail("unknown option '%s' (see --help)", s);
            return 2;
        }
        const char *val = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
        if (!val) {
            fail("%s needs a value (see --help)", s);
            return 2;
        }
        if (tokf) {
            char why[600];
            if (hsa_token_load(val, o->token, sizeof o->token, why,
                               sizeof why) < 0) {
                fail("%s", why);
                return 2;
            }
        } else {
            bool url = strncmp(val, "http://", 7) == 0 ||
                       strncmp(val, "https://", 8) == 0;
            snprintf(o->base, sizeof o->base, "%s%s", url ? "" : "http://",
                     val);
            size_t bl = strlen(o->base);
            while (bl && o->base[bl - 1] == '/')
                o->base[--bl] = '\0';
        }
    }
    return 0;
}

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
    hsa_buf *b = arg;
    size_t len = size * n;
    if (b->len + len > MAX_REPLY || hsa_buf_append(b, p, len) < 0)
        return 0;
    return len;
}

/* POSTs body to path; the JSON reply in *out. 0 on 2xx, else 1
 * (reported: the daemon's "error" sentence, or why it was unreachable). */
static int post(const ops *o, const char *path, const char *body, size_t len,
                json_t **out)
{
    *out = NULL;
    char url[1024], errbuf[CURL_ERROR_SIZE] = "";
    snprintf(url, sizeof url, "%s%s", o->base, path);
    CURL *h = curl_easy_init();
    if (!h) {
        fail("cannot initialise libcurl");
        return 1;
    }
    hsa_buf reply = HSA_BUF_INIT;
    struct curl_slist *hdrs =
        curl_slist_append(NULL, "Content-Type: application/octet-stream");
    if (o->token[0]) {
        char auth[HSA_TOKEN_MAX + 32];
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", o->token);
        struct curl_slist *more = hdrs ? curl_slist_append(hdrs, auth) : NULL;
        hsa_wipe(auth, sizeof auth);
        if (more)
            hdrs = more;
        else {
            curl_slist_free_all(hdrs);
            hdrs = NULL;
        }
    }
    int rc = 1;
    if (!hdrs) {
        fail("out of memory");
        goto done;
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, REQUEST_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "hearsay-cli");
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)len);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &reply);
    CURLcode cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        fail("cannot reach hearsayd at %s: %s (is it running? set --http "
             "ADDR or HEARSAY_HTTP_ADDR)",
             o->base, errbuf[0] ? errbuf : curl_easy_strerror(cc));
        goto done;
    }
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    json_t *j = json_loadb(hsa_buf_head(&reply), hsa_buf_avail(&reply), 0,
                           NULL);
    if (code < 200 || code > 299) {
        const char *msg =
            j ? json_string_value(json_object_get(j, "error")) : NULL;
        if (msg)
            fail("%s (HTTP %ld)", msg, code);
        else
            fail("hearsayd answered HTTP %ld", code);
        json_decref(j);
        goto done;
    }
    *out = j;
    rc = 0;
done:
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    hsa_buf_free(&reply);
    return rc;
}

/* A path segment, percent-encoded, after prefix, then suffix. */
static int path_of(char *out, size_t len, const char *prefix,
                   const char *segment, const char *suffix)
{
    char *e = curl_easy_escape(NULL, segment, 0);
    if (!e) {
        fail("out of memory");
        return -1;
    }
    int n = snprintf(out, len, "%s%s%s", prefix, e, suffix);
    curl_free(e);
    if (n < 0 || (size_t)n >= len) {
        fail("name too long (at most 128 bytes)");
        return -1;
    }
    return 0;
}

static void start(ops *o, const char *base, const char *token)
{
    memset(o, 0, sizeof *o);
    snprintf(o->base, sizeof o->base, "%s", base);
    snprintf(o->token, sizeof o->token, "%s", token ? token : "");
}

int hsa_cli_event(const char *base, const char *token, int argc, char **argv)
{
    ops o;
    start(&o, base, token);
    int rc = parse(&o, argc, argv, usage_event, 2, false);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (o.npos < 1) {
        fail("usage: hearsay event NAME [PAYLOAD|-] (see --help)");
        return 2;
    }
    hsa_buf payload = HSA_BUF_INIT;
    const char *arg = o.npos > 1 ? o.pos[1] : NULL;
    bool from_stdin = arg ? strcmp(arg, "-") == 0 : !isatty(STDIN_FILENO);
    if (from_stdin) {
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0) {
            if (payload.len + n > MAX_STDIN) {
                fail("payload on standard input is too large (hearsayd "
                     "takes at most 512 bytes)");
                hsa_buf_free(&payload);
                return 2;
            }
            hsa_buf_append(&payload, chunk, n);
        }
    } else if (arg) {
        hsa_buf_puts(&payload, arg);
    }
    if (payload.oom) {
        fail("out of memory");
        hsa_buf_free(&payload);
        return 1;
    }
    char path[1024];
    json_t *reply = NULL;
    size_t plen = hsa_buf_avail(&payload);
    rc = path_of(path, sizeof path, "/v1/user-events/", o.pos[0], "") < 0
             ? 2
             : post(&o, path, plen ? hsa_buf_head(&payload) : "", plen,
                    &reply);
    if (rc == 0)
        printf("user event %s sent (%zu bytes)\n", o.pos[0], plen);
    json_decref(reply);
    hsa_buf_free(&payload);
    hsa_wipe(o.token, sizeof o.token);
    return rc;
}

int hsa_cli_force_leave(const char *base, const char *token, int argc,
                        char **argv)
{
    ops o;
    start(&o, base, token);
    int rc = parse(&o, argc, argv, usage_force_leave, 1, true);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (o.npos != 1) {
        fail("usage: hearsay force-leave NAME [--force] (see --help)");
        return 2;
    }
    char path[1024];
    json_t *reply = NULL;
    rc = path_of(path, sizeof path, "/v1/members/", o.pos[0],
                 o.force ? "/force-leave?force=1" : "/force-leave") < 0
             ? 2
             : post(&o, path, "", 0, &reply);
    if (rc == 0) {
        const char *st = json_string_value(json_object_get(reply, "status"));
        printf("member %s: %s\n", o.pos[0], st ? st : "left");
    }
    json_decref(reply);
    hsa_wipe(o.token, sizeof o.token);
    return rc;
}
