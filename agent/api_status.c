/*
 * api_status.c — what monitoring reads: GET /healthz (up while the node
 * runs), GET /readyz (joined, or the reason not), GET /metrics (the
 * library's and the daemon's counters in Prometheus text format).
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "agent/api_impl.h"
#include "agent/json.h"

void hsa_api_get_health(hsa_agent *a, const hsa_request *rq, const char *rest,
                        hsa_reply *out)
{
    size_t len = 0;
    bool up = a->phase == HSA_RUNNING;
    char *body = hsa_json_pairs(&len, "status", up ? "ok" : "leaving", "name",
                                a->cfg->name);
    hsa_api_json_reply(out, up ? 200 : 503, body, len);
}

/* Readiness: a node with seeds is ready once a peer has exchanged state
 * with it (hs_join_status); one without seeds is ready at once, being
 * perhaps the first of its cluster. Not ready is 503 with the reason, so
 * a load balancer or an orchestrator can hold traffic and say why. */
void hsa_api_get_ready(hsa_agent *a, const hsa_request *rq, const char *rest,
                       hsa_reply *out)
{
    hs_join_status js;
    hs_err e = hs_node_join_status(a->node, &js);
    if (e != HS_OK) {
        hsa_reply_error(out, 500, "readiness: %s", hs_strerror(e));
        return;
    }
    bool ready = a->phase == HSA_RUNNING && (js.seeds == 0 || js.joined);
    const char *reason = NULL;
    char why[300];
    if (a->phase != HSA_RUNNING) {
        reason = "leaving the cluster";
    } else if (!ready) {
        snprintf(why, sizeof why, "not joined: %s (%llu failed join round%s)",
                 js.reason[0] ? js.reason : "no peer has answered yet",
                 (unsigned long long)js.failed_rounds,
                 js.failed_rounds == 1 ? "" : "s");
        reason = why;
    }
    /* Answers from peers: what "joined" is made of (hs_join_status). */
    uint64_t heard = 0;
    for (int t = 1; t < HS_MSG_TYPES; t++) {
        const char *mt = hs_msg_type_name(t);
        uint64_t v = 0;
        if ((!strcmp(mt, "synack") || !strcmp(mt, "ack") ||
             !strcmp(mt, "push")) &&
            hs_node_stat(a->node, "msgs_recv", (size_t)t, &v) == HS_OK)
            heard += v;
    }
    json_t *doc = json_pack(
        "{s:s, s:s, s:b, s:I, s:I, s:I, s:s?}", "status",
        ready ? "ready" : "not ready", "name", a->cfg->name, "joined",
        js.joined, "seeds", (json_int_t)js.seeds, "failed_join_rounds",
        (json_int_t)js.failed_rounds, "peers_heard",
        (json_int_t)(heard > INT64_MAX ? INT64_MAX : heard), "reason", reason);
    char *body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    hsa_api_json_reply(out, ready ? 200 : 503, body, body ? strlen(body) : 0);
}

void hsa_api_get_metrics(hsa_agent *a, const hsa_request *rq, const char *rest,
                         hsa_reply *out)
{
    hs_stats *st = NULL;
    hs_member_list *l = NULL;
    hs_err e = hs_node_stats(a->node, &st);
    if (e == HS_OK)
        e = hs_node_members(a->node, &l);
    if (e != HS_OK) {
        hs_stats_free(st);
        hsa_reply_error(out, 500, "metrics: %s", hs_strerror(e));
        return;
    }
    hs_join_status js;
    if (hs_node_join_status(a->node, &js) == HS_OK) {
        a->stats.join_failures = js.failed_rounds;
        a->stats.joined = js.joined;
    }
    hsa_buf b = HSA_BUF_INIT;
    hsa_metrics_render(&b, st, l, &a->stats);
    hs_member_list_free(l);
    hs_stats_free(st);
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
