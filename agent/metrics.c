/*
 * metrics.c — the Prometheus text exposition of a node (see metrics.h).
 *
 * Naming follows the Prometheus conventions that `promtool check metrics`
 * enforces: snake_case, base units (seconds, bytes), counters end in
 * _total, one HELP and TYPE per family. Everything is under "hearsay_";
 * what the daemon adds on top of the library is under "hearsay_agent_".
 * Labelled families list every label value, zeros included, so a
 * dashboard's rate() has a series from the first scrape on.
 */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "agent/metrics.h"

void hsa_agent_stats_http(hsa_agent_stats *st, unsigned code)
{
    /* The last slot is "other" (code 0), so a label never changes meaning. */
    for (int i = 0; i < HSA_HTTP_CODES - 1; i++) {
        if (st->http[i].count && st->http[i].code == code) {
            st->http[i].count++;
            return;
        }
        if (st->http[i].count == 0) {
            st->http[i].code = code;
            st->http[i].count = 1;
            return;
        }
    }
    st->http[HSA_HTTP_CODES - 1].code = 0;
    st->http[HSA_HTTP_CODES - 1].count++;
}

const char *hsa_http_reject_name(hsa_http_reject r)
{
    static const char *const names[HSA_REJ_COUNT] = {
        [HSA_REJ_CONNECTION_LIMIT] = "connection_limit",
        [HSA_REJ_CLIENT_LIMIT] = "client_limit",
        [HSA_REJ_IDLE_SHED] = "idle_shed",
        [HSA_REJ_HEADER_TIMEOUT] = "header_timeout",
        [HSA_REJ_BODY_TIMEOUT] = "body_timeout",
        [HSA_REJ_IDLE_TIMEOUT] = "idle_timeout",
        [HSA_REJ_BAD_REQUEST] = "bad_request",
        [HSA_REJ_MALFORMED] = "malformed",
        [HSA_REJ_ACCEPT_ERROR] = "accept_error",
    };
    return (unsigned)r < HSA_REJ_COUNT ? names[r] : "unknown";
}

static void family(hsa_buf *b, const char *name, const char *type,
                   const char *help)
{
    hsa_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: backslash, double quote and newline escaped. */
static void label_value(hsa_buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            hsa_buf_puts(b, "\\\\");
        else if (*s == '"')
            hsa_buf_puts(b, "\\\"");
        else if (*s == '\n')
            hsa_buf_puts(b, "\\n");
        else
            hsa_buf_append(b, s, 1);
    }
}

static void sample_u64(hsa_buf *b, const char *name, const char *label,
                       const char *lvalue, uint64_t v)
{
    hsa_buf_puts(b, name);
    if (label) {
        hsa_buf_printf(b, "{%s=\"", label);
        label_value(b, lvalue);
        hsa_buf_puts(b, "\"}");
    }
    hsa_buf_printf(b, " %" PRIu64 "\n", v);
}

static void sample_f(hsa_buf *b, const char *name, const char *label,
                     const char *lvalue, double v)
{
    hsa_buf_puts(b, name);
    if (label) {
        hsa_buf_printf(b, "{%s=\"", label);
        label_value(b, lvalue);
        hsa_buf_puts(b, "\"}");
    }
    if (isnan(v))
        hsa_buf_puts(b, " NaN\n");
    else if (isinf(v))
        hsa_buf_puts(b, v > 0 ? " +Inf\n" : " -Inf\n");
    else
        hsa_buf_printf(b, " %.10g\n", v);
}

uint64_t hsa_stat_of(const hs_stats *st, const char *name, size_t i)
{
    uint64_t v = 0;
    hs_stats_get(st, name, i, &v);
    return v;
}

size_t hsa_stat_len(const char *name)
{
    const hs_stat_info *si = hs_stat_find(name);
    return si ? si->len : 0;
}

/* A family labelled by message type (1..len-1) from the statistic `stat`. */
static void by_msg_type(hsa_buf *b, const char *name, const char *help,
                        const hs_stats *st, const char *which)
{
    family(b, name, "counter", help);
    for (size_t t = 1; t < hsa_stat_len(which); t++)
        sample_u64(b, name, "type", hs_msg_type_name((int)t),
                   hsa_stat_of(st, which, t));
}

static void counter(hsa_buf *b, const char *name, const char *help, uint64_t v)
{
    family(b, name, "counter", help);
    sample_u64(b, name, NULL, NULL, v);
}

static void gauge(hsa_buf *b, const char *name, const char *help, double v)
{
    family(b, name, "gauge", help);
    sample_f(b, name, NULL, NULL, v);
}

int hsa_metrics_render(hsa_buf *b, const hs_stats *st, const hs_member_list *l,
                       const hsa_agent_stats *ag)
{
    char v[64];

    family(b, "hearsay_build_info", "gauge",
           "Versions of the agent and of the library it runs; always 1.");
    snprintf(v, sizeof v, "%d.%d.%d", HS_VERSION_MAJOR, HS_VERSION_MINOR,
             HS_VERSION_PATCH);
    hsa_buf_puts(b, "hearsay_build_info{version=\"");
    label_value(b, v);
    hsa_buf_puts(b, "\",library_version=\"");
    label_value(b, hs_version_string());
    hsa_buf_puts(b, "\"} 1\n");

    /* Members by state, self included (as in GET /v1/members). */
    uint64_t by_state[4] = {0};
    for (size_t i = 0; l && i < l->count; i++) {
        if ((unsigned)l->members[i].state < 4)
            by_state[l->members[i].state]++;
    }
    family(b, "hearsay_members", "gauge",
           "Members this node knows, by state (itself included).");
    for (int s = 0; s < 4; s++)
        sample_u64(b, "hearsay_members", "state",
                   hs_member_state_name((hs_member_state)s), by_state[s]);

    family(b, "hearsay_member_phi", "gauge",
           "Phi-accrual suspicion of each peer (0 for dead and left).");
    for (size_t i = 0; l && i < l->count; i++) {
        if (!l->members[i].is_self)
            sample_f(b, "hearsay_member_phi", "member", l->members[i].name,
                     l->members[i].phi);
    }

    by_msg_type(b, "hearsay_messages_sent_total",
                "Gossip messages sent, by type.", st, "msgs_sent");
    by_msg_type(b, "hearsay_messages_received_total",
                "Gossip messages received and decoded, by type.", st,
                "msgs_recv");
    by_msg_type(b, "hearsay_sent_bytes_total",
                "Bytes of gossip datagrams sent, by message type.", st,
                "bytes_sent");
    by_msg_type(b, "hearsay_received_bytes_total",
                "Bytes of gossip datagrams received, by message type.", st,
                "bytes_recv");

    family(b, "hearsay_rejected_total", "counter",
           "Datagrams or deltas dropped, by reason (hearsay error name).");
    for (size_t r = 1; r < hsa_stat_len("rejected"); r++)
        sample_u64(b, "hearsay_rejected_total", "reason", hs_err_name(-(int)r),
                   hsa_stat_of(st, "rejected", r));

    family(b, "hearsay_events_total", "counter",
           "Membership events reported, by type.");
    for (size_t t = 0; t < hsa_stat_len("events"); t++)
        sample_u64(b, "hearsay_events_total", "type",
                   hs_event_type_name((hs_event_type)t),
                   hsa_stat_of(st, "events", t));

    counter(b, "hearsay_gossip_rounds_total", "Gossip rounds started.",
            hsa_stat_of(st, "rounds", 0));
    family(b, "hearsay_gossip_round_duration_seconds", "summary",
           "Time spent running gossip rounds.");
    sample_f(b, "hearsay_gossip_round_duration_seconds_sum", NULL, NULL,
             (double)hsa_stat_of(st, "round_us_sum", 0) / 1e6);
    sample_u64(b, "hearsay_gossip_round_duration_seconds_count", NULL, NULL,
               hsa_stat_of(st, "rounds", 0));
    gauge(b, "hearsay_gossip_round_duration_max_seconds",
          "Slowest gossip round since start.",
          (double)hsa_stat_of(st, "round_us_max", 0) / 1e6);

    counter(b, "hearsay_deltas_applied_total",
            "Member deltas that advanced a member's state.",
            hsa_stat_of(st, "deltas_applied", 0));
    counter(b, "hearsay_entries_applied_total",
            "Key/value entries applied from deltas.",
            hsa_stat_of(st, "entries_applied", 0));
    counter(b, "hearsay_deltas_gap_total",
            "Deltas that could not be applied yet (a version gap).",
            hsa_stat_of(st, "deltas_gap", 0));
    counter(b, "hearsay_resets_sent_total",
            "From-scratch state copies sent to peers behind tombstone GC.",
            hsa_stat_of(st, "resets_sent", 0));
    counter(b, "hearsay_truncated_messages_total",
            "Messages that had more to say than the datagram could hold.",
            hsa_stat_of(st, "truncated_msgs", 0));
    counter(b, "hearsay_pauses_total",
            "Local pauses detected (and not blamed on peers).",
            hsa_stat_of(st, "pauses", 0));
    counter(b, "hearsay_view_agreements_total",
            "Exchanges answered whose views held the same members "
            "(heartbeats by position).",
            hsa_stat_of(st, "view_matches", 0));
    counter(b, "hearsay_view_disagreements_total",
            "Exchanges answered whose views differed (digests by name).",
            hsa_stat_of(st, "view_mismatches", 0));
    counter(b, "hearsay_convictions_followed_total",
            "Members declared dead on a peer's conviction.",
            hsa_stat_of(st, "convictions_followed", 0));
    counter(b, "hearsay_name_conflicts_total",
            "Claims on this node's name by another live process "
            "(refuted, or yielded to).",
            hsa_stat_of(st, "name_conflicts", 0));
    counter(b, "hearsay_refutations_total",
            "Times a peer held this node dead (it beat at once).",
            hsa_stat_of(st, "refuted", 0));
    counter(b, "hearsay_alloc_failures_total",
            "Allocations that failed and cost a round, an answer, a delta "
            "or an event.",
            hsa_stat_of(st, "alloc_failures", 0));
    counter(b, "hearsay_user_events_sent_total", "User events this node sent.",
            hsa_stat_of(st, "user_events_sent", 0));
    counter(b, "hearsay_user_events_delivered_total",
            "User events from other members delivered here.",
            hsa_stat_of(st, "user_events_delivered", 0));
    counter(b, "hearsay_user_events_rate_limited_total",
            "User events and force-leaves refused: over the rate limit.",
            hsa_stat_of(st, "user_events_rate_limited", 0));
    counter(b, "hearsay_announcements_lost_total",
            "User events and force-leaves of other members never seen "
            "here (overwritten before they arrived).",
            hsa_stat_of(st, "announcements_lost", 0));
    counter(b, "hearsay_force_leaves_sent_total",
            "Force-leaves this node announced.",
            hsa_stat_of(st, "force_leaves_sent", 0));
    counter(b, "hearsay_force_leaves_applied_total",
            "Members marked left here by a force-leave.",
            hsa_stat_of(st, "force_leaves_applied", 0));
    /* Queries (hs_node_query): */
    counter(b, "hearsay_queries_sent_total", "Queries this node sent.",
            hsa_stat_of(st, "queries_sent", 0));
    counter(b, "hearsay_queries_received_total",
            "Queries of other members whose filters this node passed.",
            hsa_stat_of(st, "queries_received", 0));
    counter(b, "hearsay_queries_filtered_total",
            "Queries of other members whose filters this node did not pass.",
            hsa_stat_of(st, "queries_filtered", 0));
    counter(b, "hearsay_queries_rate_limited_total",
            "Queries refused: over the announcement rate limit.",
            hsa_stat_of(st, "queries_rate_limited", 0));
    counter(b, "hearsay_query_acks_sent_total",
            "Acks sent to other members' queries.",
            hsa_stat_of(st, "query_acks_sent", 0));
    counter(b, "hearsay_query_responses_sent_total",
            "Responses sent to other members' queries (answered).",
            hsa_stat_of(st, "query_responses_sent", 0));
    counter(b, "hearsay_query_acks_received_total",
            "Distinct acks to this node's queries.",
            hsa_stat_of(st, "query_acks_received", 0));
    counter(b, "hearsay_query_responses_received_total",
            "Distinct responses to this node's queries.",
            hsa_stat_of(st, "query_responses_received", 0));
    counter(b, "hearsay_query_responses_late_total",
            "Query answers after the query's end, dropped.",
            hsa_stat_of(st, "query_responses_late", 0));
    counter(b, "hearsay_query_responses_dropped_total",
            "Query answers dropped: duplicates, or past a bound.",
            hsa_stat_of(st, "query_responses_dropped", 0));
    counter(b, "hearsay_sends_dropped_total",
            "Outgoing datagrams dropped: send queue full.",
            hsa_stat_of(st, "sends_dropped", 0));
    counter(b, "hearsay_events_dropped_total",
            "Events dropped: event queue full.",
            hsa_stat_of(st, "events_dropped", 0));
    counter(b, "hearsay_tombstones_collected_total",
            "Deleted-key tombstones collected.",
            hsa_stat_of(st, "tombstones_collected", 0));
    gauge(b, "hearsay_max_datagram_sent_bytes",
          "Largest datagram sent since start.",
          (double)hsa_stat_of(st, "max_datagram_sent", 0));
    counter(b, "hearsay_send_errors_total", "sendto() failures.",
            hsa_stat_of(st, "send_errors", 0));
    counter(b, "hearsay_receive_errors_total", "recvfrom() failures.",
            hsa_stat_of(st, "recv_errors", 0));
    counter(b, "hearsay_resolve_errors_total",
            "Seed names that did not resolve.",
            hsa_stat_of(st, "resolve_errors", 0));
    counter(b, "hearsay_slow_callbacks_total",
            "Event callbacks that took over 10 ms.",
            hsa_stat_of(st, "callbacks_slow", 0));
    gauge(b, "hearsay_keyring_keys",
          "Keys in the keyring; 0 means gossip is plaintext.",
          (double)hsa_stat_of(st, "keyring_keys", 0));
    counter(b, "hearsay_datagrams_opened_total",
            "Sealed datagrams that authenticated and opened.",
            hsa_stat_of(st, "datagrams_opened", 0));
    counter(b, "hearsay_replay_evicted_early_total",
            "Nonces forgotten before their replay window ran out (the "
            "replay cache was full).",
            hsa_stat_of(st, "replay_evicted_early", 0));

    counter(b, "hearsay_join_failures_total",
            "Join rounds that reached no peer (logged at WARN with the "
            "reason).",
            ag->join_failures);
    gauge(b, "hearsay_joined",
          "1 once a peer has exchanged state with this node.",
          (double)ag->joined);

    /* The agent. */
    /* The codes the API answers with are listed from the first scrape, so
     * rate() over any of them works at once; codes beyond those (none
     * today) follow as they occur, and "0" is the overflow slot. */
    static const unsigned api_codes[] = {200, 304, 400, 401, 404,
                                         405, 409, 413, 500, 503};
    enum { N_API_CODES = sizeof api_codes / sizeof api_codes[0] };
    family(b, "hearsay_agent_http_responses_total", "counter",
           "HTTP API responses, by status code.");
    for (int k = 0; k < N_API_CODES; k++) {
        uint64_t n = 0;
        for (int i = 0; i < HSA_HTTP_CODES; i++) {
            if (ag->http[i].count && ag->http[i].code == api_codes[k])
                n = ag->http[i].count;
        }
        snprintf(v, sizeof v, "%u", api_codes[k]);
        sample_u64(b, "hearsay_agent_http_responses_total", "code", v, n);
    }
    for (int i = 0; i < HSA_HTTP_CODES; i++) {
        bool listed = false;
        for (int k = 0; k < N_API_CODES; k++)
            listed = listed || ag->http[i].code == api_codes[k];
        if (ag->http[i].count == 0 || listed)
            continue;
        snprintf(v, sizeof v, "%u", ag->http[i].code);
        sample_u64(b, "hearsay_agent_http_responses_total", "code", v,
                   ag->http[i].count);
    }
    gauge(b, "hearsay_agent_event_stream_clients",
          "Clients connected to GET /v1/events.", (double)ag->sse_clients);
    counter(b, "hearsay_agent_event_stream_connections_total",
            "Event-stream clients accepted.", ag->sse_connections);
    counter(b, "hearsay_agent_event_stream_dropped_total",
            "Event-stream clients dropped because they did not keep up.",
            ag->sse_dropped);
    counter(b, "hearsay_agent_event_stream_rejected_total",
            "Event-stream clients refused (503): too many clients.",
            ag->sse_rejected);
    counter(b, "hearsay_agent_event_stream_events_total",
            "Events queued to event-stream clients.", ag->sse_events);

    family(b, "hearsay_agent_handler_runs_total", "counter",
           "Event-handler runs, by result.");
    sample_u64(b, "hearsay_agent_handler_runs_total", "result", "ok",
               ag->handler_ok);
    sample_u64(b, "hearsay_agent_handler_runs_total", "result", "failed",
               ag->handler_failed);
    sample_u64(b, "hearsay_agent_handler_runs_total", "result", "timeout",
               ag->handler_timeout);
    sample_u64(b, "hearsay_agent_handler_runs_total", "result", "spawn_error",
               ag->handler_spawn_errors);
    counter(b, "hearsay_agent_handler_dropped_total",
            "Event-handler runs dropped: the queue was full.",
            ag->handler_dropped);
    gauge(b, "hearsay_agent_handlers_running",
          "Event-handler processes running now.", (double)ag->handlers_running);
    gauge(b, "hearsay_agent_handler_queue_length",
          "Event-handler runs waiting for a slot.",
          (double)ag->handlers_queued);
    gauge(b, "hearsay_agent_http_connections", "HTTP connections open now.",
          (double)ag->http_connections);
    counter(b, "hearsay_agent_http_connections_total",
            "HTTP connections accepted.", ag->http_connections_total);
    family(b, "hearsay_agent_http_rejected_total", "counter",
           "HTTP connections or requests refused or closed by a limit or "
           "a timeout, by reason.");
    for (int r = 0; r < HSA_REJ_COUNT; r++)
        sample_u64(b, "hearsay_agent_http_rejected_total", "reason",
                   hsa_http_reject_name((hsa_http_reject)r),
                   ag->http_rejected[r]);
    counter(b, "hearsay_agent_http_unauthorized_total",
            "HTTP write requests refused (401): missing or wrong token.",
            ag->http_unauthorized);
    family(b, "hearsay_agent_keyring_writes_total", "counter",
           "Keyring file rewrites after a key change, by result.");
    sample_u64(b, "hearsay_agent_keyring_writes_total", "result", "ok",
               ag->keyring_writes);
    sample_u64(b, "hearsay_agent_keyring_writes_total", "result", "error",
               ag->keyring_write_errors);
    family(b, "hearsay_config_reloads_total", "counter",
           "Configuration reloads (SIGHUP), by result; an error keeps the "
           "running configuration.");
    sample_u64(b, "hearsay_config_reloads_total", "result", "ok",
               ag->config_reloads_ok);
    sample_u64(b, "hearsay_config_reloads_total", "result", "error",
               ag->config_reloads_error);
    gauge(b, "hearsay_agent_start_time_seconds",
          "When the agent started, in unix seconds.", ag->start_time);
    return b->oom ? -1 : 0;
}
