/*
 * api.c — hearsayd's HTTP routes (the table is in docs/operations.md):
 *
 *   GET    /v1/members[?state=alive,suspect]   the cluster as this node sees it
 *   GET    /v1/members/NAME                    one member
 *   PUT    /v1/tags/KEY    (body = value)      set one of this node's tags
 *   DELETE /v1/tags/KEY                        delete it
 *   GET    /v1/events[?type=join,fail]         Server-Sent Events
 *   POST   /v1/leave                           leave gracefully, then exit
 *   GET    /metrics                            Prometheus text format
 *   GET    /healthz                            200 while the node runs
 *
 * Every error is a JSON {"error": "..."} with a 4xx code (5xx only for the
 * daemon's own trouble: out of memory, shutting down). Library errors map
 * to codes in one place, status_of().
 */
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/json.h"

static bool is_get(const char *m)
{
    return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
}

static void not_allowed(hsa_reply *out, const char *method, const char *path,
                        const char *allow)
{
    hsa_reply_error(out, 405, "method %s not allowed on %s (allowed: %s)",
                    method, path, allow);
    out->allow = allow;
}

/* The HTTP status for a library error from a request. */
static unsigned status_of(hs_err e)
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

static void json_reply(hsa_reply *out, unsigned code, char *body, size_t len)
{
    out->code = code;
    out->ctype = "application/json";
    out->body = body;
    out->len = len;
    if (!body)
        hsa_reply_error(out, 500, "out of memory");
}

static void get_members(hsa_agent *a, hsa_http_req *req, hsa_reply *out)
{
    unsigned mask = 0;
    const char *state = hsa_req_query(req, "state");
    if (state && *state && hsa_state_mask_parse(state, &mask) < 0) {
        hsa_reply_error(out, 400,
                        "bad state filter '%.100s' (comma-separated alive, "
                        "suspect, dead, left)",
                        state);
        return;
    }
    hs_member_list *l = NULL;
    hs_err e = hs_node_members(a->node, &l);
    if (e != HS_OK) {
        hsa_reply_error(out, status_of(e), "members: %s", hs_strerror(e));
        return;
    }
    size_t len = 0;
    char *body = hsa_json_members(a->cfg->name, l, mask, &len);
    hs_member_list_free(l);
    json_reply(out, 200, body, len);
}

static void get_member(hsa_agent *a, const char *name, hsa_reply *out)
{
    hs_member_list *l = NULL;
    if (!*name) {
        hsa_reply_error(out, 404, "no member name in the path");
        return;
    }
    hs_err e = hs_node_member(a->node, name, &l);
    if (e == HS_ENOTFOUND || (e == HS_OK && l->count == 0)) {
        hs_member_list_free(l);
        hsa_reply_error(out, 404, "no member named '%.200s'", name);
        return;
    }
    if (e != HS_OK) {
        hsa_reply_error(out, status_of(e), "member: %s", hs_strerror(e));
        return;
    }
    size_t len = 0;
    char *body = hsa_json_member(&l->members[0], &len);
    hs_member_list_free(l);
    json_reply(out, 200, body, len);
}

static void tag_error(hsa_reply *out, hs_err e, const char *key)
{
    switch (e) {
    case HS_EINVAL:
        hsa_reply_error(out, 400,
                        "invalid tag key '%.200s': 1..128 printable ASCII "
                        "bytes, no spaces",
                        key);
        break;
    case HS_ERESERVED:
        hsa_reply_error(out, 400,
                        "tag key '%.200s' is reserved (keys starting with "
                        "\"hs.\" belong to hearsay)",
                        key);
        break;
    case HS_ETOOBIG:
        hsa_reply_error(out, 413, "tag value too large (at most 1024 bytes)");
        break;
    case HS_ENOTFOUND:
        hsa_reply_error(out, 404, "no tag '%.200s' on this node", key);
        break;
    case HS_EFULL:
        hsa_reply_error(out, 409, "this node has the most tags it may have");
        break;
    case HS_ESTATE:
        hsa_reply_error(out, 409, "the node is leaving; tags are frozen");
        break;
    default:
        hsa_reply_error(out, status_of(e), "tag '%.200s': %s", key,
                        hs_strerror(e));
        break;
    }
}

static void put_tag(hsa_agent *a, hsa_http_req *req, const char *key,
                    hsa_reply *out)
{
    size_t len;
    const char *value = hsa_req_body(req, &len);
    hs_err e = hs_node_set(a->node, key, value, len);
    if (e != HS_OK) {
        tag_error(out, e, key);
        return;
    }
    hsa_logf(&a->log, HS_LOG_INFO, "tag %s set over HTTP (%zu bytes)", key,
             len);
    char *v = hsa_utf8_sanitize((const uint8_t *)value, len, NULL);
    size_t blen = 0;
    char *body = v ? hsa_json_pairs(&blen, "key", key, "value", v) : NULL;
    free(v);
    json_reply(out, 200, body, blen);
}

static void del_tag(hsa_agent *a, const char *key, hsa_reply *out)
{
    hs_err e = hs_node_del(a->node, key);
    if (e != HS_OK) {
        tag_error(out, e, key);
        return;
    }
    hsa_logf(&a->log, HS_LOG_INFO, "tag %s deleted over HTTP", key);
    size_t len = 0;
    char *body = hsa_json_pairs(&len, "key", key, "status", "deleted");
    json_reply(out, 200, body, len);
}

static void get_events(hsa_agent *a, hsa_http_req *req, hsa_reply *out)
{
    unsigned mask = (1u << HS_EVENT_TYPES) - 1;
    const char *types = hsa_req_query(req, "type");
    char why[300];
    if (types && *types &&
        hsa_event_mask_parse(types, &mask, why, sizeof why) < 0) {
        hsa_reply_error(out, 400, "bad type filter: %s", why);
        return;
    }
    if (a->phase != HSA_RUNNING) {
        hsa_reply_error(out, 503, "hearsayd is leaving the cluster");
        return;
    }
    int full = 0;
    struct MHD_Response *r =
        hsa_sse_open(a->sse, hsa_req_conn(req), mask, a->cfg->name, &full);
    if (!r) {
        if (full)
            hsa_reply_error(out, 503,
                            "too many event-stream clients (at most %u; see "
                            "--sse-max-clients)",
                            a->cfg->sse_max_clients);
        else
            hsa_reply_error(out, 500, "out of memory");
        return;
    }
    hsa_logf(&a->log, HS_LOG_DEBUG, "event stream: a client connected");
    out->code = 200;
    out->stream = r;
}

static void post_leave(hsa_agent *a, hsa_http_req *req, hsa_reply *out)
{
    if (a->phase == HSA_STOPPING) {
        size_t len = 0;
        char *body = hsa_json_pairs(&len, "status", "left", NULL, NULL);
        json_reply(out, 200, body, len);
        return;
    }
    if (a->n_leave_waiters >= HSA_MAX_LEAVE_WAITERS) {
        hsa_reply_error(out, 503, "too many leave requests waiting");
        return;
    }
    if (a->phase == HSA_RUNNING && !hsa_agent_leave(a, "POST /v1/leave")) {
        hsa_reply_error(out, 409, "the node cannot leave now");
        return;
    }
    /* Answered by the leave's completion (hearsayd.c). */
    a->leave_waiters[a->n_leave_waiters++] = req;
    out->pending = true;
}

static void get_metrics(hsa_agent *a, hsa_reply *out)
{
    hs_stats st;
    hs_member_list *l = NULL;
    hs_err e = hs_node_stats(a->node, &st);
    if (e == HS_OK)
        e = hs_node_members(a->node, &l);
    if (e != HS_OK) {
        hsa_reply_error(out, 500, "metrics: %s", hs_strerror(e));
        return;
    }
    hsa_buf b = HSA_BUF_INIT;
    hsa_metrics_render(&b, &st, l, &a->stats);
    hs_member_list_free(l);
    size_t len = 0;
    char *body = hsa_buf_steal(&b, &len);
    if (!body) {
        hsa_reply_error(out, 500, "out of memory");
        return;
    }
    out->code = 200;
    out->ctype = "text/plain; version=0.0.4; charset=utf-8";
    out->body = body;
    out->len = len;
}

static void get_health(hsa_agent *a, hsa_reply *out)
{
    size_t len = 0;
    bool up = a->phase == HSA_RUNNING;
    char *body = hsa_json_pairs(&len, "status", up ? "ok" : "leaving", "name",
                                a->cfg->name);
    json_reply(out, up ? 200 : 503, body, len);
}

void hsa_api_route(void *arg, hsa_http_req *req, hsa_reply *out)
{
    hsa_agent *a = arg;
    const char *m = hsa_req_method(req);
    const char *p = hsa_req_path(req);
    static const char members_prefix[] = "/v1/members/";
    static const char tags_prefix[] = "/v1/tags/";

    if (strcmp(p, "/healthz") == 0) {
        if (!is_get(m))
            return not_allowed(out, m, p, "GET, HEAD");
        return get_health(a, out);
    }
    if (strcmp(p, "/metrics") == 0) {
        if (!is_get(m))
            return not_allowed(out, m, p, "GET, HEAD");
        return get_metrics(a, out);
    }
    if (strcmp(p, "/v1/members") == 0) {
        if (!is_get(m))
            return not_allowed(out, m, p, "GET, HEAD");
        return get_members(a, req, out);
    }
    if (strncmp(p, members_prefix, sizeof members_prefix - 1) == 0) {
        if (!is_get(m))
            return not_allowed(out, m, p, "GET, HEAD");
        return get_member(a, p + sizeof members_prefix - 1, out);
    }
    if (strncmp(p, tags_prefix, sizeof tags_prefix - 1) == 0) {
        const char *key = p + sizeof tags_prefix - 1;
        if (strcmp(m, "PUT") == 0)
            return put_tag(a, req, key, out);
        if (strcmp(m, "DELETE") == 0)
            return del_tag(a, key, out);
        return not_allowed(out, m, p, "PUT, DELETE");
    }
    if (strcmp(p, "/v1/events") == 0) {
        if (strcmp(m, "GET") != 0)
            return not_allowed(out, m, p, "GET");
        return get_events(a, req, out);
    }
    if (strcmp(p, "/v1/leave") == 0) {
        if (strcmp(m, "POST") != 0)
            return not_allowed(out, m, p, "POST");
        return post_leave(a, req, out);
    }
    hsa_reply_error(out, 404,
                    "no such endpoint: %.200s (see /v1/members, /v1/events, "
                    "/metrics, /healthz)",
                    p);
}
