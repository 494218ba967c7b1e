/*
 * api_query.c — hearsayd's HTTP route for queries (serf's `serf query`):
 *
 *   POST /v1/queries/NAME[?timeout=2s][&node=a,b][&tag=k=v,k2=v2]
 *        (body = payload)
 *
 * The request is held open (a pending reply) until the query ends, then
 * answered with every response collected:
 *
 *   {"name", "id", "timeout_ms", "acks": [NAME...],
 *    "responses": [{"from", "payload" (text, or null when it is not
 *    UTF-8), "payload_base64"}], "timed_out": true}
 *
 * The library judges every argument (hs_node_query); this file parses the
 * query string and turns refusals into a status code and a sentence: 400
 * for a bad name, timeout or filter, 413 for a payload over 512 bytes, 429
 * over the announcement rate limit or with 16 queries already waiting, 409
 * while leaving. Refusals are logged at most once every LOG_EVERY_S. It is
 * a write (it makes every member run its handlers), so it needs the bearer
 * token when hearsayd has one.
 */
#include <stdlib.h>
#include <string.h>

#include <ev.h>
#include <jansson.h>

#include "agent/agent.h"
#include "agent/buf.h"

#define LOG_EVERY_S 10.0

static const char prefix[] = "/v1/queries/";

/* One query waiting for its end, with what came in so far; listed in the
 * agent so that a daemon that exits first frees it. */
typedef struct hsa_query_wait waiting;
struct hsa_query_wait {
    waiting *next, *prev;
    hsa_agent *a;
    hsa_http_req *conn;
    char name[HSA_OPS_NAME_MAX + 1];
    uint32_t timeout_ms;
    json_t *acks, *responses;
};

static void unlist(waiting *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        w->a->queries = w->next;
    if (w->next)
        w->next->prev = w->prev;
}

static void wait_free(waiting *w)
{
    json_decref(w->acks);
    json_decref(w->responses);
    free(w);
}

void hsa_api_queries_free(hsa_agent *a)
{
    while (a->queries) {
        waiting *w = a->queries;
        unlist(w);
        wait_free(w);
    }
}

static void refused(hsa_agent *a, const hsa_request *rq, const hsa_reply *out)
{
    static const double every = LOG_EVERY_S;
    ev_tstamp now = a->loop ? ev_now(a->loop) : 0;
    if (a->ops_warned_at > 0 && now - a->ops_warned_at < every)
        return;
    a->ops_warned_at = now > 0 ? now : 1;
    hsa_logf(&a->log, HS_LOG_WARN, "refused %s %.200s: %u (%.300s)", rq->method,
             rq->path, out->code, out->body ? out->body : "");
}

static char *base64(const uint8_t *p, size_t n)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        *o++ = tab[(v >> 18) & 63];
        *o++ = tab[(v >> 12) & 63];
        *o++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        *o++ = i + 2 < n ? tab[v & 63] : '=';
    }
    *o = 0;
    return out;
}

static void finish(waiting *w, uint64_t id)
{
    hsa_reply rep = {0};
    json_t *doc = json_object();
    if (doc) {
        json_object_set_new(doc, "name", json_string(w->name));
        json_object_set_new(doc, "id", json_integer((json_int_t)id));
        json_object_set_new(doc, "timeout_ms",
                            json_integer((json_int_t)w->timeout_ms));
        json_object_set(doc, "acks", w->acks);
        json_object_set(doc, "responses", w->responses);
        json_object_set_new(doc, "timed_out", json_true());
    }
    char *body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (body) {
        rep.code = 200;
        rep.ctype = "application/json";
        rep.body = body;
        rep.len = strlen(body);
    } else {
        hsa_reply_error(&rep, 503, "out of memory");
    }
    hsa_http_complete(w->conn, &rep);
    hsa_logf(&w->a->log, HS_LOG_INFO,
             "query %.200s ended: %zu acks, %zu responses", w->name,
             json_array_size(w->acks), json_array_size(w->responses));
    unlist(w);
    wait_free(w);
}

static void on_reply(hs_node *node, const hs_query_reply *r, void *arg)
{
    (void)node;
    waiting *w = arg;
    if (r->kind == HS_QUERY_DONE) {
        w->timeout_ms = r->timeout_ms; /* the default, when none was asked */
        finish(w, r->id);
        return;
    }
    if (r->kind == HS_QUERY_ACK) {
        json_array_append_new(w->acks, json_string(r->from));
        return;
    }
    json_t *o = json_object();
    if (!o)
        return;
    json_t *text = json_stringn((const char *)r->payload, r->payload_len);
    if (text && memchr(r->payload, 0, r->payload_len)) {
        json_decref(text); /* NUL: not text to most readers */
        text = NULL;
    }
    char *b64 = base64(r->payload, r->payload_len);
    json_object_set_new(o, "from", json_string(r->from));
    json_object_set_new(o, "payload", text ? text : json_null());
    json_object_set_new(o, "payload_base64",
                        b64 ? json_string(b64) : json_null());
    free(b64);
    json_array_append_new(w->responses, o);
}

/* Splits a comma-separated list into up to max items (pointers into buf).
 * -1 past max or on an empty item. */
static int split(char *buf, const char **items, int max)
{
    int n = 0;
    for (char *p = buf; p && *p;) {
        char *c = strchr(p, ',');
        if (c)
            *c = 0;
        if (!*p || n == max)
            return -1;
        items[n++] = p;
        p = c ? c + 1 : NULL;
    }
    return n;
}

static void post_query(hsa_agent *a, const hsa_request *rq, const char *name,
                       hsa_reply *out)
{
    hs_query_opts o = {0};
    const char *nodes[HS_QUERY_NODES_MAX], *tags[HS_QUERY_TAGS_MAX];
    char nbuf[HS_QUERY_NODES_MAX * (HS_NAME_MAX + 1) + 1];
    char tbuf[HS_QUERY_TAGS_MAX * (HS_KEY_MAX + HS_NAME_MAX + 2) + 1];
    if (rq->timeout &&
        (hsa_parse_duration_ms(rq->timeout, &o.timeout_ms) < 0 ||
         o.timeout_ms == 0 || o.timeout_ms > HS_QUERY_TIMEOUT_MAX)) {
        hsa_reply_error(out, 400,
                        "bad timeout '%.40s': a duration such as 500ms or 5s, "
                        "at most 10m",
                        rq->timeout);
        goto refuse;
    }
    if (rq->node) {
        int n = strlen(rq->node) < sizeof nbuf
                    ? split(strcpy(nbuf, rq->node), nodes, HS_QUERY_NODES_MAX)
                    : -1;
        if (n < 0) {
            hsa_reply_error(out, 400,
                            "bad node filter: up to %d member names, "
                            "comma-separated",
                            HS_QUERY_NODES_MAX);
            goto refuse;
        }
        o.nodes = nodes;
        o.n_nodes = (size_t)n;
    }
    if (rq->tag) {
        int n = strlen(rq->tag) < sizeof tbuf
                    ? split(strcpy(tbuf, rq->tag), tags, HS_QUERY_TAGS_MAX)
                    : -1;
        if (n < 0) {
            hsa_reply_error(out, 400,
                            "bad tag filter: up to %d KEY=VALUE items, "
                            "comma-separated",
                            HS_QUERY_TAGS_MAX);
            goto refuse;
        }
        o.tags = tags;
        o.n_tags = (size_t)n;
    }
    if (!rq->conn) { /* no connection to answer later on (the fuzzer) */
        hsa_reply_error(out, 501, "queries need a connection");
        return;
    }
    waiting *w = calloc(1, sizeof *w);
    if (w) {
        w->acks = json_array();
        w->responses = json_array();
    }
    if (!w || !w->acks || !w->responses) {
        if (w) {
            json_decref(w->acks);
            json_decref(w->responses);
        }
        free(w);
        hsa_reply_error(out, 503, "out of memory");
        return;
    }
    w->a = a;
    w->conn = rq->conn;
    w->timeout_ms = o.timeout_ms;
    snprintf(w->name, sizeof w->name, "%s", name);
    uint64_t id = 0;
    hs_err e = hs_node_query(a->node, name, rq->body, rq->body_len, &o,
                             on_reply, w, &id);
    if (e == HS_OK) {
        w->next = a->queries;
        if (a->queries)
            a->queries->prev = w;
        a->queries = w;
        hsa_logf(&a->log, HS_LOG_INFO,
                 "query %.200s sent over HTTP (%zu bytes, id %llu)", name,
                 rq->body_len, (unsigned long long)id);
        out->pending = true;
        return;
    }
    json_decref(w->acks);
    json_decref(w->responses);
    free(w);
    switch (e) {
    case HS_EINVAL:
        hsa_reply_error(out, 400,
                        "invalid query: the name '%.200s' must be 1..128 "
                        "printable ASCII bytes without spaces, node names "
                        "likewise, tags KEY=VALUE",
                        name);
        break;
    case HS_ETOOBIG:
        hsa_reply_error(out, 413,
                        "query too large: %zu bytes of payload (at most 512), "
                        "or the filters do not fit one announcement",
                        rq->body_len);
        break;
    case HS_ERATE:
        hsa_reply_error(out, 429,
                        "too many queries, user events and force-leaves from "
                        "this node: at most 4 a second, bursts of 16; retry "
                        "later");
        break;
    case HS_EFULL:
        hsa_reply_error(out, 429,
                        "%d queries of this node are already waiting for "
                        "answers; retry when one ends",
                        HS_QUERY_PENDING_MAX);
        break;
    case HS_ESTATE:
        hsa_reply_error(out, 409, "the node is leaving: no more queries");
        break;
    default:
        hsa_reply_error(out, e == HS_ENOMEM ? 503 : 500, "query: %s",
                        hs_strerror(e));
        break;
    }
refuse:
    refused(a, rq, out);
}

/* ---- Answering: query:NAME handlers ------------------------------------ */

static void handler_done(void *ctx, uint64_t query_id, const char *out,
                         size_t len)
{
    hsa_agent *a = ctx;
    if (!out)
        return; /* failed, timed out, or never ran: no answer */
    hs_err e = hs_node_respond(a->node, query_id, out, len);
    if (e != HS_OK && e != HS_ESTATE) /* ESTATE: another handler answered */
        hsa_logf(&a->log, HS_LOG_WARN,
                 "query handler's answer not sent: %s (%s)", hs_strerror(e),
                 e == HS_ENOTFOUND ? "the query's timeout passed first"
                                   : "see the log");
}

void hsa_query_handlers_run(hsa_agent *a, const hs_event *ev, char *const *env,
                            const char *input, size_t len)
{
    hsa_handlers_run_query(a->handlers, ev->type, ev->user_name, env, input,
                           len, handler_done, a, ev->query_id);
}

bool hsa_api_query_route(hsa_agent *a, const hsa_request *rq, hsa_reply *out)
{
    const char *m = rq->method ? rq->method : "";
    const char *p = rq->path ? rq->path : "";
    size_t pl = sizeof prefix - 1;
    if (strncmp(p, prefix, pl) != 0)
        return false;
    if (strcmp(m, "POST") != 0) {
        hsa_reply_error(
            out, 405, "method %s not allowed on %.200s (allowed: POST)", m, p);
        out->allow = "POST";
        return true;
    }
    if (!hsa_api_authorized(a, rq, out))
        return true;
    const char *name = p + pl;
    size_t nl = strlen(name);
    if (nl == 0 || nl > HSA_OPS_NAME_MAX) {
        hsa_reply_error(out, 400, "a query name in the path: 1..128 bytes");
        refused(a, rq, out);
        return true;
    }
    post_query(a, rq, name, out);
    return true;
}
