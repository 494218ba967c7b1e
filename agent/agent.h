/*
 * agent.h — the state of one hearsayd process, shared by its main file
 * (hearsayd.c: start-up; hearsayd_events.c: the node's events;
 * hearsayd_leave.c: leaving, signals, exiting) and its HTTP routes (api.c).
 * Everything hangs off one hsa_agent; nothing is global. Private to agent/.
 */
#ifndef HSA_AGENT_H
#define HSA_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include <ev.h>

#include "agent/config.h"
#include "agent/handlers.h"
#include "agent/http.h"
#include "agent/keyring.h"
#include "agent/log.h"
#include "agent/metrics.h"
#include "agent/notify.h"
#include "agent/sse.h"
#include "hearsay.h"

typedef enum hsa_phase {
    HSA_RUNNING,  /* gossiping */
    HSA_LEAVING,  /* hs_node_leave in progress */
    HSA_STOPPING, /* left (or gave up); the loop ends shortly */
} hsa_phase;

/* POST /v1/leave requests waiting for the leave to finish. */
#define HSA_MAX_LEAVE_WAITERS 16

typedef struct hsa_agent hsa_agent;

struct hsa_agent {
    hsa_settings *cfg;
    hsa_log log;
    struct ev_loop *loop;
    hs_node *node;
    hsa_http *http;
    hsa_sse *sse;
    hsa_handlers *handlers;
    hsa_agent_stats stats;
    hsa_phase phase;
    uint64_t event_seq;
    char http_addr[300]; /* host:port actually served, for handlers */
    hsa_http_req *leave_waiters[HSA_MAX_LEAVE_WAITERS];
    size_t n_leave_waiters;
    ev_signal sigint, sigterm, sighup;
    ev_timer leave_backstop; /* in case the done callback never comes */
    ev_timer exit_timer;     /* lets the last HTTP answers go out */
    ev_timer join_deadline;  /* --join-timeout */
    int exit_code;
    /* The bearer token write endpoints require ("" = none: only allowed
     * with the API on loopback). */
    char token[HSA_TOKEN_MAX + 1];
    /* Starts a graceful leave (hsa_agent_leave in hearsayd_leave.c); NULL where
     * there is no daemon to stop (the fuzzer). */
    bool (*leave)(hsa_agent *a, const char *why);
    /* The command line, re-parsed by a reload (reload.c). */
    int argc;
    char **argv;
    hsa_notify notify;       /* systemd readiness and watchdog (notify.c) */
    ev_tstamp ops_warned_at; /* last refused operation logged (api_ops.c) */
    struct hsa_query_wait *queries; /* POST /v1/queries waiting (api_query.c) */
};

/* Starts a graceful leave (signal or POST /v1/leave); `why` is logged.
 * Returns false if one is already under way or the node cannot leave. */
bool hsa_agent_leave(hsa_agent *a, const char *why);

/* Ends the process with exit_code after one more loop iteration (the last
 * HTTP answers and event streams go out first; hearsayd_leave.c). */
void hsa_agent_finish(hsa_agent *a, int exit_code);
/* SIGINT and SIGTERM start the leave (a second one exits at once), SIGHUP
 * reloads (hearsayd_leave.c). */
void hsa_agent_signal_cb(struct ev_loop *loop, ev_signal *w, int revents);
/* --join-timeout: no peer reached by then exits 1 (hearsayd_leave.c). */
void hsa_agent_join_deadline_cb(struct ev_loop *loop, ev_timer *w, int revents);
/* The node's event callback: logs, event handlers, the event stream and
 * a conflict over the daemon's own name (hearsayd_events.c). */
void hsa_agent_on_event(hs_node *node, const hs_event *ev, void *arg);

/* Loads the token file (if any) into token and checks the rule that a
 * non-loopback API needs one (reload.c). 0, or -1 with err. */
int hsa_http_access_check(const hsa_settings *cfg, char *token, size_t toklen,
                          char *err, size_t errlen);

/* hearsayd --check: validates everything a start would, binds nothing,
 * prints "ok" and the effective settings. The exit status: 0 or 2. */
int hsa_check(const hsa_settings *cfg);

/* SIGHUP: re-reads the configuration and applies what can change at run
 * time, or keeps the running one (logged and counted) if it is invalid. */
void hsa_reload(hsa_agent *a);

/* The HTTP routes (api.c); the hsa_http_route_cb of the server. */
void hsa_api_route(void *agent, const hsa_request *rq, hsa_reply *out);

/* Whether a write request carries the bearer token hearsayd requires
 * (api.c); false with 401 in out. */
bool hsa_api_authorized(hsa_agent *a, const hsa_request *rq, hsa_reply *out);

/* User events and force-leave (api_ops.c): POST /v1/user-events/NAME and
 * POST /v1/members/NAME/force-leave. True when rq was one of them (out is
 * then the answer). */
#define HSA_OPS_NAME_MAX 128
bool hsa_api_ops_route(hsa_agent *a, const hsa_request *rq, hsa_reply *out);

/* Queries (api_query.c): POST /v1/queries/NAME, answered when the query
 * ends. True when rq was one (out is then the answer, or pending). */
bool hsa_api_query_route(hsa_agent *a, const hsa_request *rq, hsa_reply *out);
/* Forgets the queries still waiting once the node is freed (their
 * requests are answered by the server as it closes). */
void hsa_api_queries_free(hsa_agent *a);
/* Runs the query:NAME handlers for query event ev; each one's standard
 * output (up to 512 bytes) answers it, the first to finish winning. */
void hsa_query_handlers_run(hsa_agent *a, const hs_event *ev, char *const *env,
                            const char *input, size_t len);

#endif /* HSA_AGENT_H */
