/*
 * api_ops.c — hearsayd's HTTP routes for cluster operations:
 *
 *   POST /v1/user-events/NAME   (body = payload)   a user event to everyone
 *   POST /v1/members/NAME/force-leave[?force=1]    a dead member made left
 *
 * Both are writes: they need the bearer token when hearsayd has one, like
 * tags and leave. The library judges every argument (hs_node_user_event,
 * hs_node_force_leave); this file turns its answer into a status code and a
 * sentence that says what to do: 400 for a bad name, 404 for an unknown
 * member, 409 for a live member without ?force=1 (or a node that is
 * leaving), 413 for a payload over 512 bytes, 429 over the rate limit.
 * Refusals are logged at most once every LOG_EVERY_S, so a client retrying
 * in a loop cannot flood the log; every answer is counted by status in
 * hearsay_agent_http_responses_total.
 */
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "agent/agent.h"
#include "agent/json.h"

#define LOG_EVERY_S 10.0

static const char user_prefix[] = "/v1/user-events/";
static const char members_prefix[] = "/v1/members/";
static const char force_suffix[] = "/force-leave";

/* Logs a refused request, at most once every LOG_EVERY_S. */
static void refused(hsa_agent *a, const hsa_request *rq, const hsa_reply *out)
{
    ev_tstamp now = a->loop ? ev_now(a->loop) : 0;
    if (a->ops_warned_at > 0 && now - a->ops_warned_at < LOG_EVERY_S)
        return;
    a->ops_warned_at = now > 0 ? now : 1;
    hsa_logf(&a->log, HS_LOG_WARN, "refused %s %.200s: %u (%.300s)", rq->method,
             rq->path, out->code, out->body ? out->body : "");
}

static void json_ok(hsa_reply *out, char *body, size_t len)
{
    out->code = 200;
    out->ctype = "application/json";
    out->body = body;
    out->len = len;
    if (!body)
        hsa_reply_error(out, 500, "out of memory");
}

static void post_user_event(hsa_agent *a, const hsa_request *rq,
                            const char *name, hsa_reply *out)
{
    hs_err e = hs_node_user_event(a->node, name, rq->body, rq->body_len);
    switch (e) {
    case HS_OK: {
        hsa_logf(&a->log, HS_LOG_INFO,
                 "user event %.200s sent over HTTP (%zu bytes)", name,
                 rq->body_len);
        char n[32];
        snprintf(n, sizeof n, "%zu", rq->body_len);
        size_t len = 0;
        char *body = hsa_json_pairs(&len, "name", name, "payload_len", n);
        json_ok(out, body, len);
        return;
    }
    case HS_EINVAL:
        hsa_reply_error(out, 400,
                        "invalid user event name '%.200s': 1..128 printable "
                        "ASCII bytes, no spaces",
                        name);
        break;
    case HS_ETOOBIG:
        hsa_reply_error(out, 413,
                        "user event payload too large: %zu bytes (at most "
                        "512, and it must fit the gossip datagram)",
                        rq->body_len);
        break;
    case HS_ERATE:
        hsa_reply_error(out, 429,
                        "too many user events and force-leaves from this "
                        "node: at most 4 a second, bursts of 16; retry later");
        break;
    case HS_ESTATE:
        hsa_reply_error(out, 409, "the node is leaving: no more user events");
        break;
    default:
        hsa_reply_error(out, e == HS_ENOMEM ? 503 : 500, "user event: %s",
                        hs_strerror(e));
        break;
    }
    refused(a, rq, out);
}

/* ?force=: "1", "true", "yes" or "" (present) force; "0", "false", "no"
 * do not; anything else is an error. */
static int parse_force(const char *v, bool *force)
{
    *force = false;
    if (!v)
        return 0;
    if (!*v || strcmp(v, "1") == 0 || strcmp(v, "true") == 0 ||
        strcmp(v, "yes") == 0) {
        *force = true;
        return 0;
    }
    if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0 || strcmp(v, "no") == 0)
        return 0;
    return -1;
}

static void post_force_leave(hsa_agent *a, const hsa_request *rq,
                             const char *name, hsa_reply *out)
{
    bool force = false;
    if (parse_force(rq->force, &force) < 0) {
        hsa_reply_error(out, 400, "bad force value '%.40s' (1 or 0)",
                        rq->force);
        refused(a, rq, out);
        return;
    }
    /* The state before, to say why a refusal was one. */
    hs_member_state was = HS_STATE_ALIVE;
    hs_member_list *l = NULL;
    if (hs_node_member(a->node, name, &l) == HS_OK && l->count)
        was = l->members[0].state;
    hs_member_list_free(l);

    hs_err e = hs_node_force_leave(a->node, name, force);
    switch (e) {
    case HS_OK: {
        hsa_logf(&a->log, HS_LOG_INFO,
                 "force-leave of %.200s over HTTP (it was %s%s)", name,
                 hs_member_state_name(was), force ? ", forced" : "");
        size_t len = 0;
        char *body =
            hsa_json_pairs(&len, "name", name, "status",
                           was == HS_STATE_LEFT ? "already left" : "left");
        json_ok(out, body, len);
        return;
    }
    case HS_ENOTFOUND:
        hsa_reply_error(out, 404, "no member named '%.200s'", name);
        break;
    case HS_EINVAL:
        if (strcmp(name, a->cfg->name) == 0)
            hsa_reply_error(out, 400,
                            "'%.200s' is this node: it leaves with POST "
                            "/v1/leave",
                            name);
        else
            hsa_reply_error(out, 400, "invalid member name '%.200s'", name);
        break;
    case HS_ESTATE:
        if (was == HS_STATE_ALIVE || was == HS_STATE_SUSPECT)
            hsa_reply_error(out, 409,
                            "member '%.200s' is %s: force-leave is for dead "
                            "members (force it with ?force=1, or hearsay "
                            "force-leave --force; a live member comes back "
                            "with its next heartbeat)",
                            name, hs_member_state_name(was));
        else
            hsa_reply_error(out, 409, "the node is leaving");
        break;
    case HS_ERATE:
        hsa_reply_error(out, 429,
                        "too many user events and force-leaves from this "
                        "node: at most 4 a second, bursts of 16; retry later");
        break;
    default:
        hsa_reply_error(out, e == HS_ENOMEM ? 503 : 500, "force-leave: %s",
                        hs_strerror(e));
        break;
    }
    refused(a, rq, out);
}

bool hsa_api_ops_route(hsa_agent *a, const hsa_request *rq, hsa_reply *out)
{
    const char *m = rq->method ? rq->method : "";
    const char *p = rq->path ? rq->path : "";
    size_t pl = strlen(p), sl = sizeof force_suffix - 1;
    size_t ul = sizeof user_prefix - 1, ml = sizeof members_prefix - 1;
    const char *name = NULL;
    bool user = false;
    if (pl >= ul && memcmp(p, user_prefix, ul) == 0) {
        name = p + ul;
        user = true;
    } else if (pl > ml + sl && memcmp(p, members_prefix, ml) == 0 &&
               memcmp(p + pl - sl, force_suffix, sl) == 0) {
        name = p + ml;
    } else {
        return false; /* not ours */
    }
    if (strcmp(m, "POST") != 0) {
        hsa_reply_error(out, 405,
                        "method %s not allowed on %.200s (allowed: "
                        "POST)",
                        m, p);
        out->allow = "POST";
        return true;
    }
    if (!hsa_api_authorized(a, rq, out))
        return true;
    char buf[HSA_OPS_NAME_MAX + 2];
    size_t nl = user ? strlen(name) : (size_t)(pl - sl - (name - p));
    if (nl == 0 || nl > HSA_OPS_NAME_MAX) {
        hsa_reply_error(out, 400, "%s name in the path: 1..128 bytes",
                        user ? "a user event" : "a member");
        refused(a, rq, out);
        return true;
    }
    memcpy(buf, name, nl);
    buf[nl] = '\0';
    if (user)
        post_user_event(a, rq, buf, out);
    else
        post_force_leave(a, rq, buf, out);
    return true;
}
