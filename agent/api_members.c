/*
 * api_members.c — the routes that read the cluster as this node sees it:
 * GET /v1/members (with ?state=), GET /v1/members/NAME, and GET
 * /v1/events, its changes as Server-Sent Events (sse.c runs the streams).
 */
#include <stdlib.h>
#include <string.h>

#include "agent/api_impl.h"
#include "agent/json.h"

void hsa_api_get_members(hsa_agent *a, const hsa_request *rq, const char *rest,
                         hsa_reply *out)
{
    unsigned mask = 0;
    const char *state = rq->state;
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
        hsa_reply_error(out, hsa_api_status_of(e), "members: %s",
                        hs_strerror(e));
        return;
    }
    size_t len = 0;
    char *body = hsa_json_members(a->cfg->name, l, mask, &len);
    hs_member_list_free(l);
    hsa_api_json_reply(out, 200, body, len);
}

void hsa_api_get_member(hsa_agent *a, const hsa_request *rq, const char *name,
                        hsa_reply *out)
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
        hsa_reply_error(out, hsa_api_status_of(e), "member: %s",
                        hs_strerror(e));
        return;
    }
    size_t len = 0;
    char *body = hsa_json_member(&l->members[0], &len);
    hs_member_list_free(l);
    hsa_api_json_reply(out, 200, body, len);
}

void hsa_api_get_events(hsa_agent *a, const hsa_request *rq, const char *rest,
                        hsa_reply *out)
{
    unsigned mask = (1u << HS_EVENT_TYPES) - 1;
    const char *types = rq->type;
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
    if (!a->sse || !rq->conn) {
        hsa_reply_error(out, 503, "the event stream is not available");
        return;
    }
    int full = 0;
    struct MHD_Response *r =
        hsa_sse_open(a->sse, hsa_req_conn(rq->conn), mask, a->cfg->name, &full);
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
