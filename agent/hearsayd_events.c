/*
 * hearsayd_events.c — the node's events in the daemon: each one logged,
 * handed to the event handlers that asked for its type (with the member
 * as it is now), and the one the daemon acts on itself: a conflict over
 * its own name, after which it cannot stay in the cluster.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "agent/agent.h"
#include "agent/json.h"
#include "agent/state.h"

static void log_event(hsa_agent *a, const hs_event *ev)
{
    if (ev->type == HS_EVENT_USER && ev->user_name)
        hsa_logf(&a->log, HS_LOG_INFO,
                 "user event %s from %s (%zu bytes, ltime %" PRIu64 ")",
                 ev->user_name, ev->name, ev->user_payload_len, ev->user_ltime);
    else if (ev->type == HS_EVENT_UPDATE)
        hsa_logf(&a->log, HS_LOG_INFO, "member %s: %s %s%s", ev->name,
                 hsa_event_env_name(ev->type), ev->key ? ev->key : "?",
                 ev->deleted ? " (deleted)" : "");
    else
        hsa_logf(&a->log, ev->type == HS_EVENT_FAIL ? HS_LOG_WARN : HS_LOG_INFO,
                 "member %s: %s at %s (generation %" PRIu64 ", now %s)",
                 ev->name, hsa_event_env_name(ev->type),
                 ev->addr ? ev->addr : "?", ev->generation,
                 hs_member_state_name(ev->state));
}

static void run_handlers(hsa_agent *a, const hs_event *ev, const hs_member *m)
{
    hs_member_list *self_l = NULL;
    const hs_member *self_m = NULL;
    if (m && m->is_self)
        self_m = m;
    else if (hs_node_member(a->node, a->cfg->name, &self_l) == HS_OK &&
             self_l->count)
        self_m = &self_l->members[0];
    size_t len = 0;
    char **env = hsa_handler_env(ev, m, a->cfg->name, self_m,
                                 a->http ? a->http_addr : NULL);
    char *input = hsa_handler_input(ev, m, &len);
    if (env && input && ev->type == HS_EVENT_QUERY)
        hsa_query_handlers_run(a, ev, env, input, len); /* api_query.c */
    else if (env && input)
        hsa_handlers_run_named(a->handlers, ev->type, ev->user_name, env, input,
                               len);
    else
        hsa_logf(&a->log, HS_LOG_ERROR,
                 "event handlers: out of memory, %s of %s not run",
                 hsa_event_env_name(ev->type), ev->name);
    free(env);
    free(input);
    hs_member_list_free(self_l);
}

/* Events about this node's own name: said loudly, and a conflict this node
 * lost ends it (identity.c in the library has the rules). */
static void own_name_event(hsa_agent *a, const hs_event *ev)
{
    if (ev->type == HS_EVENT_CONFLICT && ev->state == HS_STATE_LEFT) {
        hsa_logf(&a->log, HS_LOG_ERROR,
                 "name conflict: another live member already uses the name "
                 "%s (generation %" PRIu64 "); this node stopped gossiping "
                 "and exits: give it a name of its own (--name)",
                 ev->name, ev->generation);
        hsa_agent_finish(a, 2);
    } else if (ev->type == HS_EVENT_CONFLICT) {
        hsa_logf(&a->log, HS_LOG_WARN,
                 "name conflict: another process claimed the name %s; this "
                 "node refuted it with generation %" PRIu64
                 " and keeps the name (the claimant should exit)",
                 ev->name, ev->generation);
    } else if (ev->type == HS_EVENT_RESTART) {
        hsa_logf(&a->log, HS_LOG_WARN,
                 "the cluster held a newer generation of this node's name "
                 "than its own (a restart with the clock behind, and no "
                 "--data-dir?): it now uses generation %" PRIu64
                 " and is visible again",
                 ev->generation);
    }
}

void hsa_agent_on_event(hs_node *node, const hs_event *ev, void *arg)
{
    hsa_agent *a = arg;
    uint64_t id = ++a->event_seq;
    log_event(a, ev);
    if (strcmp(ev->name, a->cfg->name) == 0)
        own_name_event(a, ev);

    /* The member as it is after the event; gone after a reap. */
    hs_member_list *l = NULL;
    const hs_member *m = NULL;
    if (hs_node_member(node, ev->name, &l) == HS_OK && l->count)
        m = &l->members[0];

    size_t len = 0;
    char *json = hsa_json_event(ev, m, id, &len);
    if (json)
        hsa_sse_publish(a->sse, ev->type, id, json, len);
    else
        hsa_logf(&a->log, HS_LOG_ERROR, "event stream: out of memory");
    free(json);

    if (a->handlers && hsa_handlers_wants(a->handlers, ev->type))
        run_handlers(a, ev, m);
    hs_member_list_free(l);
}
