/*
 * api.c — hearsayd's HTTP routes (the table is in docs/operations.md):
 *
 *   GET    /v1/members[?state=alive,suspect]   the cluster as this node sees it
 *   GET    /v1/members/NAME                    one member
 *   PUT    /v1/tags/KEY    (body = value)      set one of this node's tags
 *   DELETE /v1/tags/KEY                        delete it
 *   GET    /v1/events[?type=join,fail]         Server-Sent Events
 *   POST   /v1/leave                           leave gracefully, then exit
 *   POST   /v1/join {"seeds": [ADDR...]}       more seeds, as --join
 *   POST   /v1/user-events/NAME (body)         a user event (api_ops.c)
 *   POST   /v1/members/NAME/force-leave[?force=1]  a dead member left
 *   POST   /v1/queries/NAME (body)             a query; answers (api_query.c)
 *   GET    /v1/keys                            key ids (never the keys)
 *   POST   /v1/keys        {"key": K}          install a key
 *   PUT    /v1/keys/primary {"key": K}|{"id": I}  seal with it
 *   DELETE /v1/keys/ID                         remove a key
 *   GET    /metrics                            Prometheus text format
 *   GET    /healthz                            200 while the node runs
 *   GET    /, /dashboard/FILE, /v1/stats       the dashboard (dashboard.c)
 *   GET    /readyz                             200 once joined (or no seeds)
 *
 * Every error is a JSON {"error": "..."} with a 4xx code (5xx only for the
 * daemon's own trouble: out of memory, shutting down, a keyring file that
 * cannot be rewritten). Library errors map to codes in one place,
 * hsa_api_status_of().
 *
 * Routes see a request as plain strings (hsa_request), never a socket, so
 * tests/fuzz/fuzz_http_route.c drives these files directly. Writes (tags,
 * leave, keys) need the bearer token when hearsayd has one (it must, when
 * the API listens beyond loopback: hearsayd.c); reads do not.
 *
 * This file is the router: the table below says which path and method
 * reach which handler and which need the token, and answers 404, 405
 * (with Allow) and 401 itself. The handlers live in the file of their
 * topic (api_impl.h lists them).
 */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "agent/api_impl.h"
#include "agent/dashboard.h"
#include "agent/json.h"

/* The HTTP status for a library error from a request. */
unsigned hsa_api_status_of(hs_err e)
{
    switch (e) {
    case HS_EINVAL:
    case HS_ERESERVED:
        return 400;
    case HS_ENOTFOUND:
        return 404;
    case HS_ESTATE:
    case HS_EFULL:
        return 409;
    case HS_ETOOBIG:
        return 413;
    default:
        return 500;
    }
}

void hsa_api_json_reply(hsa_reply *out, unsigned code, char *body, size_t len)
{
    out->code = code;
    out->ctype = "application/json";
    out->body = body;
    out->len = len;
    if (!body)
        hsa_reply_error(out, 500, "out of memory");
}

/* ---- Authorization ------------------------------------------------------ */

/* Whether the request carries the token, compared in time independent of
 * where the first difference is, so the token cannot be guessed byte by
 * byte from response times. */
static bool token_matches(const char *token, const char *authz)
{
    static const char scheme[] = "Bearer ";
    if (!authz || strncasecmp(authz, scheme, sizeof scheme - 1) != 0)
        return false;
    const char *t = authz + sizeof scheme - 1;
    while (*t == ' ')
        t++;
    size_t tl = strlen(t);
    while (tl && t[tl - 1] == ' ')
        tl--;
    size_t kl = strlen(token);
    unsigned diff = tl != kl;
    for (size_t i = 0; i < kl; i++)
        diff |= (unsigned char)token[i] ^ (unsigned char)(i < tl ? t[i] : 0);
    return diff == 0;
}

/* Write endpoints: true to go on; false with a 401 in out. */
static bool authorized(hsa_agent *a, const hsa_request *rq, hsa_reply *out)
{
    if (!a->token[0] || token_matches(a->token, rq->authorization))
        return true;
    a->stats.http_unauthorized++;
    hsa_logf(&a->log, HS_LOG_WARN, "refused %s %.200s: %s bearer token",
             rq->method, rq->path, rq->authorization ? "wrong" : "no");
    hsa_reply_error(out, 401,
                    "this endpoint needs the API token: send "
                    "\"Authorization: Bearer TOKEN\" (hearsay: "
                    "--token-file FILE or HEARSAY_HTTP_TOKEN)");
    out->challenge = true;
    return false;
}

bool hsa_api_authorized(hsa_agent *a, const hsa_request *rq, hsa_reply *out)
{
    return authorized(a, rq, out);
}

/* ---- Routes ------------------------------------------------------------- */

/* Methods, as bits, so a route can take several. HEAD goes with GET
 * wherever a document is served (not on the event stream). */
enum {
    M_GET = 1 << 0,
    M_HEAD = 1 << 1,
    M_POST = 1 << 2,
    M_PUT = 1 << 3,
    M_DELETE = 1 << 4,
    M_DOC = M_GET | M_HEAD,
};

static unsigned method_bit(const char *m)
{
    static const struct {
        const char *name;
        unsigned bit;
    } methods[] = {{"GET", M_GET},
                   {"HEAD", M_HEAD},
                   {"POST", M_POST},
                   {"PUT", M_PUT},
                   {"DELETE", M_DELETE}};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        if (strcmp(m, methods[i].name) == 0)
            return methods[i].bit;
    }
    return 0;
}

/* One path and what it answers. A path that ends in '/' is a prefix (the
 * handler gets the rest); the first route whose path matches decides, so
 * an exact path goes before a prefix that covers it. `allow` is the Allow
 * header of its 405, the union of its methods. */
typedef struct route {
    const char *path;
    const char *allow;
    struct {
        unsigned methods;
        bool write; /* needs the token (authorized()) */
        hsa_api_handler *fn;
    } on[2];
} route;

static const route routes[] = {
    {"/healthz", "GET, HEAD", {{M_DOC, false, hsa_api_get_health}}},
    {"/readyz", "GET, HEAD", {{M_DOC, false, hsa_api_get_ready}}},
    {"/metrics", "GET, HEAD", {{M_DOC, false, hsa_api_get_metrics}}},
    {"/v1/members", "GET, HEAD", {{M_DOC, false, hsa_api_get_members}}},
    {"/v1/members/", "GET, HEAD", {{M_DOC, false, hsa_api_get_member}}},
    {"/v1/tags/",
     "PUT, DELETE",
     {{M_PUT, true, hsa_api_put_tag}, {M_DELETE, true, hsa_api_del_tag}}},
    {"/v1/events", "GET", {{M_GET, false, hsa_api_get_events}}},
    {"/v1/leave", "POST", {{M_POST, true, hsa_api_post_leave}}},
    {"/v1/join", "POST", {{M_POST, true, hsa_api_post_join}}},
    {"/v1/keys",
     "GET, HEAD, POST",
     {{M_DOC, false, hsa_api_get_keys}, {M_POST, true, hsa_api_post_key}}},
    {"/v1/keys/primary", "PUT", {{M_PUT, true, hsa_api_put_primary}}},
    {"/v1/keys/", "DELETE", {{M_DELETE, true, hsa_api_delete_key}}},
};

/* The route for path p, with what follows a prefix in *rest; NULL if
 * none. */
static const route *find_route(const char *p, const char **rest)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        const char *rp = routes[i].path;
        size_t n = strlen(rp);
        bool prefix = n && rp[n - 1] == '/';
        if (prefix ? strncmp(p, rp, n) == 0 : strcmp(p, rp) == 0) {
            *rest = prefix ? p + n : "";
            return &routes[i];
        }
    }
    return NULL;
}

void hsa_api_route(void *arg, const hsa_request *rq, hsa_reply *out)
{
    hsa_agent *a = arg;
    const char *m = rq->method ? rq->method : "";
    const char *p = rq->path ? rq->path : "";

    if (hsa_dashboard_route(a, rq, out))
        return;
    /* User events and force-leave (api_ops.c): a name in the middle of
     * the path (/v1/members/NAME/force-leave), which a prefix row cannot
     * say; that file checks its method and token itself. */
    if (hsa_api_ops_route(a, rq, out))
        return;
    if (hsa_api_query_route(a, rq, out)) /* api_query.c */
        return;
    const char *rest = "";
    const route *r = find_route(p, &rest);
    if (!r) {
        hsa_reply_error(out, 404,
                        "no such endpoint: %.200s (see /, /v1/members, "
                        "/v1/events, /v1/stats, /v1/keys, /metrics, /healthz, "
                        "/readyz)",
                        p);
        return;
    }
    unsigned bit = method_bit(m);
    for (size_t i = 0; i < sizeof r->on / sizeof r->on[0]; i++) {
        if (!r->on[i].fn || !(r->on[i].methods & bit))
            continue;
        if (r->on[i].write && !authorized(a, rq, out))
            return;
        r->on[i].fn(a, rq, rest, out);
        return;
    }
    hsa_reply_error(out, 405, "method %s not allowed on %s (allowed: %s)", m, p,
                    r->allow);
    out->allow = r->allow;
}
