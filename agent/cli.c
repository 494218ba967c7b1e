/*
 * cli.c — `hearsay`, the command-line client of hearsayd's HTTP API
 * (libcurl for HTTP, jansson for JSON; keygen uses libsodium).
 *
 *   hearsay members [--state S] [--tag K=V]... [--name RE] [--json]
 *                                          the cluster, as an aligned table
 *   hearsay watch [--type T] [--json]      follow the event stream
 *   hearsay tag set KEY VALUE | del KEY    this node's tags
 *   hearsay leave                          graceful leave; the daemon exits
 *   hearsay keys list|install|use|remove   the daemon's keyring
 *   hearsay keygen                         a new 32-byte key, base64
 *
 * Every command takes --http ADDR (default $HEARSAY_HTTP_ADDR, then
 * 127.0.0.1:7947), --token-file FILE (default: $HEARSAY_HTTP_TOKEN, the
 * token itself) and --help. Exit status: 0 success, 1 failure (daemon
 * unreachable, HTTP error), 2 usage error. Failures are one line on stderr.
 */
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "agent/buf.h"
#include "agent/config.h"
#include "agent/keyring.h"
#include "hearsay.h"

/* Replies larger than this are refused: the largest real one is the member
 * list of a 16384-member cluster with tags, well under this. */
#define MAX_REPLY (256u * 1024 * 1024)
/* The library's limits in the help text, as the header publishes them. */
#define STR_(x) #x
#define XSTR_(x) STR_(x)
#define CONNECT_TIMEOUT_MS 3000L
#define REQUEST_TIMEOUT_MS 30000L
/* hearsayd answers POST /v1/leave when the leave is done: its
 * --leave-timeout at most, plus the time to exit. */
#define LEAVE_TIMEOUT_MS 300000L

typedef struct cli {
    char base[512]; /* http://host:port */
    const char *prog;
    char token[HSA_TOKEN_MAX + 1]; /* "" = none */
} cli;

static const char usage_main[] =
    "usage: hearsay [--http ADDR] COMMAND [ARGS]\n"
    "\n"
    "Talks to a running hearsayd over its HTTP API.\n"
    "\n"
    "commands:\n"
    "  members [--state S] [--tag K=V] [--name RE] [--json]\n"
    "                                list the members this node knows\n"
    "  watch [--type T] [--json]     print membership events as they happen\n"
    "  tag set KEY VALUE             set a tag of this node\n"
    "  tag del KEY                   delete a tag of this node\n"
    "  leave                         leave the cluster gracefully; hearsayd "
    "exits\n"
    "  keys list                     the keyring's key ids, primary first\n"
    "  keys install|use|remove KEY   rotate keys (see hearsay keys --help)\n"
    "  keygen                        print a new random 32-byte key, base64\n"
    "  version                       print the version\n"
    "\n"
    "options for every command:\n"
    "  --http ADDR   hearsayd's HTTP address, HOST:PORT or a URL (default\n"
    "                $HEARSAY_HTTP_ADDR, then " HSA_DEFAULT_HTTP ")\n"
    "  --token-file FILE  the API token for write commands (default: the\n"
    "                token in $HEARSAY_HTTP_TOKEN)\n"
    "  --help        help for the command\n";

static const char usage_members[] =
    "usage: hearsay members [--state S] [--tag KEY=VALUE]... [--name REGEX]\n"
    "                       [--json] [--http ADDR]\n"
    "\n"
    "Lists the members hearsayd knows (itself included) as a table:\n"
    "NAME ADDR STATE GENERATION HEARTBEAT PHI TAGS.\n"
    "\n"
    "  --state S        only members in these states (comma-separated:\n"
    "                   alive, suspect, dead, left)\n"
    "  --tag KEY=VALUE  only members with this tag value; repeatable, all\n"
    "                   must match\n"
    "  --name REGEX     only members whose name matches REGEX (POSIX\n"
    "                   extended, unanchored: ^web- for a prefix)\n"
    "  --json           print GET /v1/members as JSON instead (filtered\n"
    "                   the same way)\n";

static const char usage_watch[] =
    "usage: hearsay watch [--type T] [--json] [--http ADDR]\n"
    "\n"
    "Follows hearsayd's event stream (GET /v1/events) and prints one line\n"
    "per event: TIME TYPE NAME ADDR STATE [KEY]. Runs until interrupted;\n"
    "exits with status 1 if the stream ends.\n"
    "\n"
    "  --type T    only these event types (comma-separated: join, leave,\n"
    "              fail, suspect, recover, update, restart, reap)\n"
    "  --json      print each event's JSON document instead\n";

static const char usage_tag[] =
    "usage: hearsay tag set KEY VALUE [--http ADDR]\n"
    "       hearsay tag del KEY [--http ADDR]\n"
    "\n"
    "Sets or deletes one of this node's tags; the change gossips to the\n"
    "cluster. Keys: 1.." XSTR_(HS_KEY_MAX) " printable ASCII bytes, no spaces, "
    "not starting\n"
    "with \"" HS_KEY_RESERVED "\". Values: up to " XSTR_(HS_VALUE_MAX) " bytes. "
    "A value that starts with\n"
    "\"--\" goes after a \"--\": hearsay tag set opts -- --fast.\n";

static const char usage_leave[] =
    "usage: hearsay leave [--http ADDR]\n"
    "\n"
    "Asks hearsayd to leave the cluster gracefully (POST /v1/leave). Returns\n"
    "once the leave has spread; hearsayd then exits.\n";

static const char usage_keys[] =
    "usage: hearsay keys list [--json] [--http ADDR]\n"
    "       hearsay keys install KEY [--http ADDR]\n"
    "       hearsay keys use KEY|ID [--http ADDR]\n"
    "       hearsay keys remove KEY|ID [--http ADDR]\n"
    "\n"
    "Manages hearsayd's keyring (it must run with --keyring); each change is\n"
    "written back to the keyring file. KEY is a base64 key (`hearsay "
    "keygen`),\n"
    "or - to read it from standard input (keeps it out of `ps`); ID is a\n"
    "key id as `keys list` prints it. Rotation without downtime: install the\n"
    "new key on every node, then use it on every node, then remove the old\n"
    "one everywhere (docs/security.md).\n";

static const char usage_keygen[] =
    "usage: hearsay keygen\n"
    "\n"
    "Prints a new random 32-byte key, base64-encoded, on one line (for the\n"
    "keyring of encrypted clusters).\n";

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

/* ---- HTTP -------------------------------------------------------------- */

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
    hsa_buf *b = arg;
    size_t len = size * n;
    if (b->len + len > MAX_REPLY || hsa_buf_append(b, p, len) < 0)
        return 0; /* makes curl fail with CURLE_WRITE_ERROR */
    return len;
}

static CURL *easy(const cli *c, const char *path, char *errbuf)
{
    CURL *h = curl_easy_init();
    if (!h) {
        fail("cannot initialise libcurl");
        return NULL;
    }
    char url[1024];
    snprintf(url, sizeof url, "%s%s", c->base, path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "hearsay-cli");
    errbuf[0] = '\0';
    return h;
}

static void unreachable(const cli *c, CURLcode rc, const char *errbuf)
{
    fail("cannot reach hearsayd at %s: %s (is it running? set --http ADDR "
         "or HEARSAY_HTTP_ADDR)",
         c->base, errbuf[0] ? errbuf : curl_easy_strerror(rc));
}

/* Prints the error of a non-2xx reply: its JSON "error" if it has one. */
static void http_error(long code, const hsa_buf *body)
{
    json_t *j = json_loadb(hsa_buf_head(body), hsa_buf_avail(body), 0, NULL);
    const char *msg = j ? json_string_value(json_object_get(j, "error")) : NULL;
    if (msg)
        fail("%s (HTTP %ld)", msg, code);
    else
        fail("hearsayd answered HTTP %ld", code);
    json_decref(j);
}

/* One request; the reply body in *out. Returns 0 on a 2xx reply, 1
 * otherwise (already reported). */
static int request(const cli *c, const char *method, const char *path,
                   const char *data, size_t dlen, long timeout_ms, hsa_buf *out)
{
    char errbuf[CURL_ERROR_SIZE];
    CURL *h = easy(c, path, errbuf);
    if (!h)
        return 1;
    struct curl_slist *hdrs = NULL;
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        if (data) {
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, data);
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)dlen);
            hdrs = curl_slist_append(hdrs,
                                     "Content-Type: application/octet-stream");
        }
        if (c->token[0]) {
            char auth[HSA_TOKEN_MAX + 32];
            snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->token);
            struct curl_slist *more = curl_slist_append(hdrs, auth);
            hsa_wipe(auth, sizeof auth);
            if (!more) {
                fail("out of memory");
                curl_slist_free_all(hdrs);
                curl_easy_cleanup(h);
                return 1;
            }
            hdrs = more;
        }
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    }
    CURLcode rc = curl_easy_perform(h);
    long code = 0;
    int ret = 1;
    if (rc != CURLE_OK) {
        unreachable(c, rc, errbuf);
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    if (code < 200 || code > 299) {
        http_error(code, out);
        goto out;
    }
    ret = 0;
out:
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    return ret;
}

/* A path segment, percent-encoded. */
static int escaped_path(char *out, size_t len, const char *prefix,
                        const char *segment)
{
    char *e = curl_easy_escape(NULL, segment, 0);
    if (!e) {
        fail("out of memory");
        return -1;
    }
    int n = snprintf(out, len, "%s%s", prefix, e);
    curl_free(e);
    if (n < 0 || (size_t)n >= len) {
        fail("argument too long");
        return -1;
    }
    return 0;
}

/* ---- Arguments --------------------------------------------------------- */

/* --tag filters one `hearsay members` takes: more than a member can
 * usefully be matched on, few enough to keep in the arguments. */
#define MAX_TAG_FILTERS 32

typedef struct args {
    const char *state;
    const char *type;
    bool json;
    bool filters; /* --tag and --name are allowed (members) */
    const char *tags[MAX_TAG_FILTERS];
    int ntags;
    const char *name;
    const char *pos[4];
    int npos;
} args;

/* Parses a command's options. Returns 0 to go on, or an exit status. */
static int parse_args(cli *c, int argc, char **argv, const char *usage, args *a,
                      bool allow_state, bool allow_type, bool allow_json,
                      int max_pos)
{
    bool only_pos = false; /* after "--": everything is an argument */
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        const char *val = NULL;
        if (!only_pos && strcmp(s, "--") == 0) {
            only_pos = true;
            continue;
        }
        if (only_pos) {
            if (a->npos >= max_pos) {
                fail("unexpected argument '%s' (see --help)", s);
                return 2;
            }
            a->pos[a->npos++] = s;
            continue;
        }
        if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
            fputs(usage, stdout);
            return -1; /* exit 0 */
        }
        if (strncmp(s, "--", 2) != 0 || s[2] == '\0') {
            if (a->npos >= max_pos) {
                fail("unexpected argument '%s' (see --help)", s);
                return 2;
            }
            a->pos[a->npos++] = s;
            continue;
        }
        const char *eq = strchr(s, '=');
        size_t nl = eq ? (size_t)(eq - s) : strlen(s);
        bool takes_value =
            (nl == 6 && strncmp(s, "--http", 6) == 0) ||
            (nl == 12 && strncmp(s, "--token-file", 12) == 0) ||
            (allow_state && nl == 7 && strncmp(s, "--state", 7) == 0) ||
            (allow_type && nl == 6 && strncmp(s, "--type", 6) == 0) ||
            (a->filters && nl == 5 && strncmp(s, "--tag", 5) == 0) ||
            (a->filters && nl == 6 && strncmp(s, "--name", 6) == 0);
        if (takes_value) {
            if (eq)
                val = eq + 1;
            else if (i + 1 < argc)
                val = argv[++i];
            else {
                fail("%s needs a value (see --help)", s);
                return 2;
            }
            if (strncmp(s, "--token-file", 12) == 0) {
                char why[600];
                if (hsa_token_load(val, c->token, sizeof c->token, why,
                                   sizeof why) < 0) {
                    fail("%s", why);
                    return 2;
                }
            } else if (strncmp(s, "--http", 6) == 0) {
                if (strncmp(val, "http://", 7) == 0 ||
                    strncmp(val, "https://", 8) == 0)
                    snprintf(c->base, sizeof c->base, "%s", val);
                else
                    snprintf(c->base, sizeof c->base, "http://%s", val);
                size_t bl = strlen(c->base);
                while (bl && c->base[bl - 1] == '/')
                    c->base[--bl] = '\0';
            } else if (strncmp(s, "--state", 7) == 0) {
                a->state = val;
            } else if (nl == 5 && strncmp(s, "--tag", 5) == 0) {
                const char *eqv = strchr(val, '=');
                if (!eqv || eqv == val) {
                    fail("--tag: '%s' is not KEY=VALUE", val);
                    return 2;
                }
                if (a->ntags >= MAX_TAG_FILTERS) {
                    fail("--tag: at most %d filters", MAX_TAG_FILTERS);
                    return 2;
                }
                a->tags[a->ntags++] = val;
            } else if (nl == 6 && strncmp(s, "--name", 6) == 0) {
                a->name = val;
            } else {
                a->type = val;
            }
        } else if (allow_json && strcmp(s, "--json") == 0) {
            a->json = true;
        } else {
            fail("unknown option '%s' (see --help)", s);
            return 2;
        }
    }
    return 0;
}

/* ---- members ----------------------------------------------------------- */

/* Text from the network, made safe for a terminal. */
static char *printable(const char *s)
{
    char *p = strdup(s ? s : "");
    if (!p)
        return NULL;
    for (char *q = p; *q; q++) {
        if ((unsigned char)*q < 0x20 || *q == 0x7f)
            *q = '?';
    }
    return p;
}

enum { COLS = 7 };

static int print_table(json_t *root)
{
    json_t *members = json_object_get(root, "members");
    if (!json_is_array(members)) {
        fail("unexpected reply: no \"members\" list");
        return 1;
    }
    size_t n = json_array_size(members);
    char **cells = calloc((n + 1) * COLS, sizeof *cells);
    if (!cells) {
        fail("out of memory");
        return 1;
    }
    static const char *const head[COLS] = {
        "NAME", "ADDR", "STATE", "GENERATION", "HEARTBEAT", "PHI", "TAGS"};
    int rc = 1;
    for (int k = 0; k < COLS; k++) {
        if (!(cells[k] = strdup(head[k])))
            goto out;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *m = json_array_get(members, i);
        char **row = cells + (i + 1) * COLS;
        char num[64];
        row[0] = printable(json_string_value(json_object_get(m, "name")));
        row[1] = printable(json_string_value(json_object_get(m, "addr")));
        row[2] = printable(json_string_value(json_object_get(m, "state")));
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(m, "generation")));
        row[3] = strdup(num);
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(m, "heartbeat")));
        row[4] = strdup(num);
        json_t *phi = json_object_get(m, "phi");
        if (json_is_number(phi))
            snprintf(num, sizeof num, "%.2f", json_number_value(phi));
        else
            snprintf(num, sizeof num, "inf");
        row[5] = strdup(num);
        hsa_buf tags = HSA_BUF_INIT;
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(m, "tags"), k, v)
        {
            if (tags.len)
                hsa_buf_puts(&tags, ",");
            hsa_buf_printf(&tags, "%s=%s", k,
                           json_is_string(v) ? json_string_value(v) : "");
        }
        char *t = hsa_buf_steal(&tags, NULL);
        row[6] = t ? printable(t) : NULL;
        free(t);
        for (int c = 0; c < COLS; c++) {
            if (!row[c])
                goto out;
        }
    }
    size_t width[COLS] = {0};
    for (size_t i = 0; i <= n; i++) {
        for (int c = 0; c < COLS; c++) {
            size_t l = strlen(cells[i * COLS + c]);
            if (l > width[c])
                width[c] = l;
        }
    }
    for (size_t i = 0; i <= n; i++) {
        for (int c = 0; c < COLS; c++) {
            const char *s = cells[i * COLS + c];
            if (c == COLS - 1)
                printf("%s\n", s);
            else
                printf("%-*s  ", (int)width[c], s);
        }
    }
    rc = 0;
out:
    if (rc)
        fail("out of memory");
    for (size_t i = 0; i < (n + 1) * COLS; i++)
        free(cells[i]);
    free(cells);
    return rc;
}

/* GET path and parse the reply as JSON into *out (the caller decrefs).
 * 0, or the exit status after saying what went wrong. */
static int get_json(const cli *c, const char *path, json_t **out)
{
    hsa_buf body = HSA_BUF_INIT;
    int rc = request(c, "GET", path, NULL, 0, REQUEST_TIMEOUT_MS, &body);
    if (rc) {
        hsa_buf_free(&body);
        return rc;
    }
    json_error_t jerr;
    *out = json_loadb(hsa_buf_head(&body), hsa_buf_avail(&body), 0, &jerr);
    hsa_buf_free(&body);
    if (!*out) {
        fail("unexpected reply from hearsayd: %s", jerr.text);
        return 1;
    }
    return 0;
}

static int list_members(cli *c, const args *a, const regex_t *re);

/* Whether member m has every KEY=VALUE tag in a. */
static bool tags_match(const args *a, json_t *m)
{
    json_t *tags = json_object_get(m, "tags");
    for (int i = 0; i < a->ntags; i++) {
        const char *eq = strchr(a->tags[i], '=');
        size_t kl = (size_t)(eq - a->tags[i]);
        char key[256];
        if (kl >= sizeof key)
            return false; /* longer than any key the library allows */
        memcpy(key, a->tags[i], kl);
        key[kl] = '\0';
        const char *v = json_string_value(json_object_get(tags, key));
        if (!v || strcmp(v, eq + 1) != 0)
            return false;
    }
    return true;
}

/* Drops the members that do not pass --tag and --name from root. */
static void filter_members(const args *a, const regex_t *re, json_t *root)
{
    json_t *members = json_object_get(root, "members");
    for (size_t i = json_array_size(members); i-- > 0;) {
        json_t *m = json_array_get(members, i);
        const char *name = json_string_value(json_object_get(m, "name"));
        bool keep = tags_match(a, m) &&
                    (!re || (name && regexec(re, name, 0, NULL, 0) == 0));
        if (!keep)
            json_array_remove(members, i);
    }
}

static int cmd_members(cli *c, int argc, char **argv)
{
    args a = {.filters = true};
    int rc = parse_args(c, argc, argv, usage_members, &a, true, false, true, 0);
    if (rc)
        return rc < 0 ? 0 : rc;
    regex_t re;
    if (a.name) {
        int e = regcomp(&re, a.name, REG_EXTENDED | REG_NOSUB);
        if (e) {
            char why[256];
            regerror(e, &re, why, sizeof why);
            fail("--name: '%s' is not a valid regular expression: %s", a.name,
                 why);
            return 2;
        }
    }
    rc = list_members(c, &a, a.name ? &re : NULL);
    if (a.name)
        regfree(&re);
    return rc;
}

static int list_members(cli *c, const args *a, const regex_t *re)
{
    int rc;
    char path[512] = "/v1/members";
    if (a->state &&
        escaped_path(path, sizeof path, "/v1/members?state=", a->state) < 0)
        return 1;
    json_t *root;
    if ((rc = get_json(c, path, &root)))
        return rc;
    if (a->ntags || re)
        filter_members(a, re, root);
    if (a->json) {
        char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (s)
            puts(s);
        else
            fail("out of memory");
        rc = s ? 0 : 1;
        free(s);
    } else {
        rc = print_table(root);
    }
    json_decref(root);
    return rc;
}

/* ---- watch ------------------------------------------------------------- */

typedef struct sse_parser {
    CURL *h;
    hsa_buf line;
    hsa_buf data;
    hsa_buf errbody; /* the body of a non-2xx answer */
    bool json;
    bool failed;
} sse_parser;

static void print_event(sse_parser *p)
{
    if (p->json) {
        printf("%s\n", hsa_buf_head(&p->data));
        fflush(stdout);
        return;
    }
    json_t *j =
        json_loadb(hsa_buf_head(&p->data), hsa_buf_avail(&p->data), 0, NULL);
    if (!j) {
        printf("%s\n", hsa_buf_head(&p->data));
        fflush(stdout);
        return;
    }
    char *f[6];
    const char *keys[6] = {"time", "type", "name", "addr", "state", "key"};
    for (int i = 0; i < 6; i++)
        f[i] = printable(json_string_value(json_object_get(j, keys[i])));
    if (f[0] && f[1] && f[2] && f[3] && f[4] && f[5]) {
        printf("%s %-8s %s %s %s", f[0], f[1], f[2], f[3], f[4]);
        if (*f[5])
            printf(" %s%s", f[5],
                   json_is_true(json_object_get(j, "deleted")) ? " (deleted)"
                                                               : "");
        printf("\n");
        fflush(stdout);
    }
    for (int i = 0; i < 6; i++)
        free(f[i]);
    json_decref(j);
}

static void sse_line(sse_parser *p)
{
    const char *s = hsa_buf_head(&p->line);
    size_t n = hsa_buf_avail(&p->line);
    if (n && s[n - 1] == '\r')
        n--;
    if (n == 0) {
        if (hsa_buf_avail(&p->data))
            print_event(p);
        hsa_buf_reset(&p->data);
    } else if (n >= 5 && strncmp(s, "data:", 5) == 0) {
        const char *v = s + 5;
        if (*v == ' ')
            v++;
        if (hsa_buf_avail(&p->data))
            hsa_buf_puts(&p->data, "\n");
        hsa_buf_append(&p->data, v, n - (size_t)(v - s));
    }
    /* "event:", "id:", "retry:" and ": comments" need nothing here. */
    hsa_buf_reset(&p->line);
}

static size_t on_stream(char *ptr, size_t size, size_t n, void *arg)
{
    sse_parser *p = arg;
    size_t len = size * n;
    long code = 0;
    curl_easy_getinfo(p->h, CURLINFO_RESPONSE_CODE, &code);
    if (code >= 300)
        return collect(ptr, size, n, &p->errbody);
    for (size_t i = 0; i < len; i++) {
        if (ptr[i] == '\n') {
            sse_line(p);
        } else if (p->line.len > 1024 * 1024 ||
                   hsa_buf_append(&p->line, ptr + i, 1) < 0) {
            p->failed = true;
            return 0;
        }
    }
    return len;
}

static int cmd_watch(cli *c, int argc, char **argv)
{
    args a = {0};
    int rc = parse_args(c, argc, argv, usage_watch, &a, false, true, true, 0);
    if (rc)
        return rc < 0 ? 0 : rc;
    char path[512] = "/v1/events";
    if (a.type &&
        escaped_path(path, sizeof path, "/v1/events?type=", a.type) < 0)
        return 1;
    char errbuf[CURL_ERROR_SIZE];
    CURL *h = easy(c, path, errbuf);
    if (!h)
        return 1;
    sse_parser p = {h, HSA_BUF_INIT, HSA_BUF_INIT, HSA_BUF_INIT, a.json, false};
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_stream);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &p);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    CURLcode cr = curl_easy_perform(h);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    rc = 1;
    if (code >= 300)
        http_error(code, &p.errbody);
    else if (cr != CURLE_OK && code == 0)
        unreachable(c, cr, errbuf);
    else if (p.failed)
        fail("event stream: line too long or out of memory");
    else
        fail("event stream ended (hearsayd stopped or left)");
    hsa_buf_free(&p.errbody);
    hsa_buf_free(&p.line);
    hsa_buf_free(&p.data);
    curl_easy_cleanup(h);
    return rc;
}

/* ---- tag, leave, keygen ------------------------------------------------ */

static int cmd_tag(cli *c, int argc, char **argv)
{
    args a = {0};
    int rc = parse_args(c, argc, argv, usage_tag, &a, false, false, false, 3);
    if (rc)
        return rc < 0 ? 0 : rc;
    bool set = a.npos == 3 && strcmp(a.pos[0], "set") == 0;
    bool del = a.npos == 2 && strcmp(a.pos[0], "del") == 0;
    if (!set && !del) {
        fail("usage: hearsay tag set KEY VALUE | hearsay tag del KEY");
        return 2;
    }
    char path[1024];
    if (escaped_path(path, sizeof path, "/v1/tags/", a.pos[1]) < 0)
        return 1;
    hsa_buf body = HSA_BUF_INIT;
    if (set)
        rc = request(c, "PUT", path, a.pos[2], strlen(a.pos[2]),
                     REQUEST_TIMEOUT_MS, &body);
    else
        rc = request(c, "DELETE", path, NULL, 0, REQUEST_TIMEOUT_MS, &body);
    hsa_buf_free(&body);
    return rc;
}

static int cmd_leave(cli *c, int argc, char **argv)
{
    args a = {0};
    int rc = parse_args(c, argc, argv, usage_leave, &a, false, false, false, 0);
    if (rc)
        return rc < 0 ? 0 : rc;
    hsa_buf body = HSA_BUF_INIT;
    rc = request(c, "POST", "/v1/leave", "", 0, LEAVE_TIMEOUT_MS, &body);
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

static int cmd_keygen(cli *c, int argc, char **argv)
{
    args a = {0};
    int rc =
        parse_args(c, argc, argv, usage_keygen, &a, false, false, false, 0);
    if (rc)
        return rc < 0 ? 0 : rc;
    char key[HS_KEY_TEXT_LEN];
    hs_err e = hs_key_generate(key, sizeof key);
    if (e != HS_OK) {
        fail("cannot make a key: %s", hs_strerror(e));
        return 1;
    }
    puts(key);
    hsa_wipe(key, sizeof key);
    return 0;
}

/* ---- keys -------------------------------------------------------------- */

/* KEY from the command line, or from standard input for "-". */
static int key_arg(const char *arg, char key[HS_KEY_TEXT_LEN])
{
    char line[256];
    const char *src = arg;
    if (strcmp(arg, "-") == 0) {
        if (!fgets(line, sizeof line, stdin)) {
            fail("no key on standard input");
            return -1;
        }
        line[strcspn(line, "\r\n")] = '\0';
        src = line;
    }
    size_t n = strlen(src);
    int rc = 0;
    if (n >= HS_KEY_TEXT_LEN)
        rc = -1;
    else
        memcpy(key, src, n + 1);
    hsa_wipe(line, sizeof line);
    return rc;
}

static int keys_list(cli *c, bool json)
{
    json_t *root;
    int rc = get_json(c, "/v1/keys", &root);
    if (rc)
        return rc;
    json_t *keys = json_object_get(root, "keys");
    if (!json_is_array(keys)) {
        fail("unexpected reply from hearsayd");
        json_decref(root);
        return 1;
    }
    if (json) {
        char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (s)
            puts(s);
        free(s);
    } else if (json_array_size(keys) == 0) {
        puts("no keys: gossip is not encrypted (start hearsayd with "
             "--keyring FILE)");
    } else {
        size_t i;
        json_t *k;
        json_array_foreach(keys, i, k)
        {
            const char *id = json_string_value(json_object_get(k, "id"));
            bool primary = json_is_true(json_object_get(k, "primary"));
            printf("%s%s\n", id ? id : "?", primary ? " primary" : "");
        }
    }
    json_decref(root);
    return 0;
}

static int cmd_keys(cli *c, int argc, char **argv)
{
    args a = {0};
    int rc = parse_args(c, argc, argv, usage_keys, &a, false, false, true, 2);
    if (rc)
        return rc < 0 ? 0 : rc;
    const char *sub = a.npos ? a.pos[0] : "";
    if (strcmp(sub, "list") == 0 && a.npos == 1)
        return keys_list(c, a.json);
    bool install = strcmp(sub, "install") == 0;
    bool use = strcmp(sub, "use") == 0;
    bool remove = strcmp(sub, "remove") == 0;
    if ((!install && !use && !remove) || a.npos != 2) {
        fail("usage: hearsay keys list | install KEY | use KEY|ID | remove "
             "KEY|ID (see --help)");
        return 2;
    }
    char key[HS_KEY_TEXT_LEN] = "", id[HS_KEY_ID_LEN] = "";
    bool is_key =
        key_arg(a.pos[1], key) == 0 && hs_key_id(key, id, sizeof id) == HS_OK;
    if (!is_key && (install || strlen(a.pos[1]) >= HS_KEY_ID_LEN ||
                    !a.pos[1][0] || strcmp(a.pos[1], "-") == 0)) {
        hsa_wipe(key, sizeof key);
        fail("'%s' is not a base64 32-byte key%s", install ? "KEY" : "KEY|ID",
             install ? " (`hearsay keygen` makes one)" : " or a key id");
        return 2;
    }
    if (!is_key)
        snprintf(id, sizeof id, "%s", a.pos[1]);
    hsa_buf body = HSA_BUF_INIT;
    char doc[128], path[64];
    if (remove) {
        snprintf(path, sizeof path, "/v1/keys/%s", id);
        rc = request(c, "DELETE", path, NULL, 0, REQUEST_TIMEOUT_MS, &body);
    } else {
        if (is_key)
            snprintf(doc, sizeof doc, "{\"key\": \"%s\"}", key);
        else
            snprintf(doc, sizeof doc, "{\"id\": \"%s\"}", id);
        rc = request(c, install ? "POST" : "PUT",
                     install ? "/v1/keys" : "/v1/keys/primary", doc,
                     strlen(doc), REQUEST_TIMEOUT_MS, &body);
        hsa_wipe(doc, sizeof doc);
    }
    hsa_wipe(key, sizeof key);
    if (rc == 0) {
        json_t *j =
            json_loadb(hsa_buf_head(&body), hsa_buf_avail(&body), 0, NULL);
        const char *st = json_string_value(json_object_get(j, "status"));
        const char *kid = json_string_value(json_object_get(j, "id"));
        printf("key %s: %s\n", kid ? kid : id, st ? st : "done");
        json_decref(j);
    }
    hsa_buf_free(&body);
    return rc;
}

int main(int argc, char **argv)
{
    cli c = {.prog = "hearsay"};
    const char *tok = getenv("HEARSAY_HTTP_TOKEN");
    if (tok && *tok) {
        if (hsa_token_check(tok, strlen(tok)) < 0 ||
            strlen(tok) >= sizeof c.token) {
            fail("HEARSAY_HTTP_TOKEN: not a valid token (%d..%d printable "
                 "characters)",
                 HSA_TOKEN_MIN, HSA_TOKEN_MAX);
            return 2;
        }
        snprintf(c.token, sizeof c.token, "%s", tok);
    }
    const char *env = getenv("HEARSAY_HTTP_ADDR");
    const char *addr = env && *env ? env : HSA_DEFAULT_HTTP;
    if (strncmp(addr, "http://", 7) == 0 || strncmp(addr, "https://", 8) == 0)
        snprintf(c.base, sizeof c.base, "%s", addr);
    else
        snprintf(c.base, sizeof c.base, "http://%s", addr);

    /* Options before the command: --http ADDR, --token-file FILE, --help,
     * --version. */
    int i = 1;
    while (i < argc && strncmp(argv[i], "-", 1) == 0) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage_main, stdout);
            return 0;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("hearsay %d.%d.%d\n", HS_VERSION_MAJOR, HS_VERSION_MINOR,
                   HS_VERSION_PATCH);
            return 0;
        }
        bool http = strcmp(argv[i], "--http") == 0 ||
                    strncmp(argv[i], "--http=", 7) == 0;
        bool tokf = strcmp(argv[i], "--token-file") == 0 ||
                    strncmp(argv[i], "--token-file=", 13) == 0;
        if (http || tokf) {
            args a = {0};
            size_t ol = http ? 6 : 12;
            int n = argv[i][ol] == '=' ? 1 : 2;
            if (i + n > argc) {
                fail("%s needs a value (see --help)", argv[i]);
                return 2;
            }
            int rc = parse_args(&c, n, argv + i, usage_main, &a, false, false,
                                false, 0);
            if (rc)
                return rc < 0 ? 0 : rc;
            i += n;
            continue;
        }
        fail("unknown option '%s' (see hearsay --help)", argv[i]);
        return 2;
    }
    if (i >= argc) {
        fputs(usage_main, stderr);
        return 2;
    }
    const char *cmd = argv[i];
    int sub_argc = argc - i - 1;
    char **sub_argv = argv + i + 1;
    if (strcmp(cmd, "keygen") == 0)
        return cmd_keygen(&c, sub_argc, sub_argv);
    if (strcmp(cmd, "version") == 0) {
        printf("hearsay %d.%d.%d\n", HS_VERSION_MAJOR, HS_VERSION_MINOR,
               HS_VERSION_PATCH);
        return 0;
    }
    if (strcmp(cmd, "help") == 0) {
        fputs(usage_main, stdout);
        return 0;
    }
    int (*fn)(cli *, int, char **) = NULL;
    if (strcmp(cmd, "members") == 0)
        fn = cmd_members;
    else if (strcmp(cmd, "watch") == 0)
        fn = cmd_watch;
    else if (strcmp(cmd, "tag") == 0)
        fn = cmd_tag;
    else if (strcmp(cmd, "leave") == 0)
        fn = cmd_leave;
    else if (strcmp(cmd, "keys") == 0)
        fn = cmd_keys;
    if (!fn) {
        fail("unknown command '%s' (see hearsay --help)", cmd);
        return 2;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fail("cannot initialise libcurl");
        return 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    int rc = fn(&c, sub_argc, sub_argv);
    curl_global_cleanup();
    return rc;
}
