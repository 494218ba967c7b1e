/*
 * metrics.h — GET /metrics in the Prometheus text exposition format
 * (version 0.0.4), from the node's hs_stats, a member snapshot and the
 * agent's own counters. Private to agent/. docs/operations.md lists every
 * metric.
 */
#ifndef HSA_METRICS_H
#define HSA_METRICS_H

#include <stdint.h>

#include "agent/buf.h"
#include "hearsay.h"

#define HSA_HTTP_CODES 16

/* Why the HTTP server refused or closed a connection or a request
 * (hearsay_agent_http_rejected_total{reason=...}; names in
 * hsa_http_reject_name). */
typedef enum hsa_http_reject {
    HSA_REJ_CONNECTION_LIMIT, /* every slot busy, none idle: 503 */
    HSA_REJ_CLIENT_LIMIT,     /* that address has its share: 429 */
    HSA_REJ_IDLE_SHED,        /* an idle connection closed to make room */
    HSA_REJ_HEADER_TIMEOUT,   /* request head too slow: 408 */
    HSA_REJ_BODY_TIMEOUT,     /* request body too slow: 408 */
    HSA_REJ_IDLE_TIMEOUT,     /* silent too long (libmicrohttpd's timer) */
    HSA_REJ_BAD_REQUEST,      /* bad URL encoding, ambiguous framing: 400 */
    HSA_REJ_MALFORMED,        /* closed by the HTTP parser itself */
    HSA_REJ_ACCEPT_ERROR,     /* accept() failed: out of descriptors */
    HSA_REJ_COUNT
} hsa_http_reject;

/* "connection_limit", "client_limit", ... (the metric's label values). */
const char *hsa_http_reject_name(hsa_http_reject r);

/* The agent's counters (monotonic unless marked gauge). */
typedef struct hsa_agent_stats {
    struct {
        unsigned code;
        uint64_t count;
    } http[HSA_HTTP_CODES]; /* responses by code; the last slot is "other" */
    uint64_t sse_clients;   /* gauge: event-stream clients now */
    uint64_t sse_connections;
    uint64_t sse_dropped;  /* clients dropped for not reading */
    uint64_t sse_rejected; /* refused: too many clients */
    uint64_t sse_events;   /* events queued to clients */
    uint64_t handler_ok;
    uint64_t handler_failed;  /* non-zero exit or killed by a signal */
    uint64_t handler_timeout; /* killed at --handler-timeout */
    uint64_t handler_spawn_errors;
    uint64_t handler_dropped;        /* the queue was full */
    uint64_t handlers_running;       /* gauge */
    uint64_t handlers_queued;        /* gauge */
    double start_time;               /* gauge: unix seconds */
    uint64_t http_unauthorized;      /* write requests refused: bad token */
    uint64_t keyring_writes;         /* keyring file rewrites */
    uint64_t keyring_write_errors;   /* rewrites that failed (rolled back) */
    uint64_t config_reloads_ok;      /* SIGHUP reloads applied */
    uint64_t config_reloads_error;   /* refused: the running config kept */
    uint64_t http_connections;       /* gauge: open HTTP connections */
    uint64_t http_connections_total; /* accepted and handed to the server */
    uint64_t http_rejected[HSA_REJ_COUNT];
    uint64_t join_failures; /* the node's failed join rounds (a copy) */
    int joined;             /* the node has exchanged state with a peer */
} hsa_agent_stats;

/* Counts one response with status code (codes beyond the table's room are
 * folded into the last slot as code 0, never lost). */
void hsa_agent_stats_http(hsa_agent_stats *st, unsigned code);

/* Appends the whole exposition to out. -1 if out ran out of memory. */
/* Value i of the library's statistic `name` (hs_stats_get); 0 for one
 * this library does not have. */
uint64_t hsa_stat_of(const hs_stats *st, const char *name, size_t i);
/* The length of an array statistic as this library has it: a newer one
 * may count more reasons than the header the agent was built with. */
size_t hsa_stat_len(const char *name);

int hsa_metrics_render(hsa_buf *out, const hs_stats *st,
                       const hs_member_list *members,
                       const hsa_agent_stats *ag);

#endif /* HSA_METRICS_H */
