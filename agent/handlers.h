/*
 * handlers.h — --event-handler programs: one run per matching event, with
 * the event in the environment and the member line on stdin, as serf runs
 * its handlers. Private to agent/.
 *
 * Runs are asynchronous: an event only queues a run, so a slow or stuck
 * handler never delays gossip. At most `concurrency` run at once, at most
 * `queue_max` wait (more are dropped and counted), and a run that exceeds
 * `timeout_ms` has its whole process group killed. Needs libev's default
 * loop (child watchers live there), and SIGPIPE ignored by the process (a
 * handler that exits without reading stdin then gives EPIPE).
 */
#ifndef HSA_HANDLERS_H
#define HSA_HANDLERS_H

#include <stddef.h>
#include <stdint.h>

#include "agent/config.h"
#include "agent/log.h"
#include "agent/metrics.h"
#include "hearsay.h"

struct ev_loop;

typedef struct hsa_handlers hsa_handlers;

hsa_handlers *hsa_handlers_new(struct ev_loop *loop, hsa_log *log,
                               hsa_agent_stats *stats,
                               const hsa_handler_spec *specs, size_t n,
                               uint32_t concurrency, uint32_t queue_max,
                               uint32_t timeout_ms);

/* Whether any handler wants events of type t (so the caller can skip
 * building the environment). */
int hsa_handlers_wants(const hsa_handlers *h, hs_event_type t);

/* Queues a run of every handler that wants t. env: NULL-terminated
 * "NAME=value" strings added to (and overriding) the daemon's environment;
 * input: what the handler reads on stdin. Both are copied. */
void hsa_handlers_run(hsa_handlers *h, hs_event_type t, char *const *env,
                      const char *input, size_t len);

/* The same for a user event named `user`: handlers filtered with
 * user:NAME run only for their names. */
void hsa_handlers_run_named(hsa_handlers *h, hs_event_type t, const char *user,
                            char *const *env, const char *input, size_t len);

/* A query's run ended: `out` is the first HSA_QUERY_OUT_MAX bytes of its
 * standard output when it exited 0, NULL when it failed, timed out or
 * never ran (each run calls it exactly once). */
#define HSA_QUERY_OUT_MAX 512
typedef void (*hsa_query_done_cb)(void *ctx, uint64_t query_id, const char *out,
                                  size_t len);

/* The same for a query named `user` (handlers filtered with "query" or
 * query:NAME): each run's standard output goes to done instead of the log
 * (its standard error is still logged). */
void hsa_handlers_run_query(hsa_handlers *h, hs_event_type t, const char *user,
                            char *const *env, const char *input, size_t len,
                            hsa_query_done_cb done, void *ctx,
                            uint64_t query_id);

/* Replaces the handler list (borrowed, as in hsa_handlers_new) after a
 * configuration reload. Runs already started finish as they are; queued
 * runs of a handler that no longer exists are dropped when their turn
 * comes. */
void hsa_handlers_set_specs(hsa_handlers *h, const hsa_handler_spec *specs,
                            size_t n);

/* Sends SIGTERM to the process group of every run still going and forgets
 * them; drops the queue. */
void hsa_handlers_free(hsa_handlers *h);

/* The environment and stdin of one event (see docs/operations.md):
 *   HEARSAY_EVENT=member-join  HEARSAY_SELF=<this node>
 *   HEARSAY_MEMBER_NAME/ADDR/STATE/GENERATION, HEARSAY_MEMBER_TAG_<KEY>
 *   HEARSAY_TAG_<KEY> (this node's own tags, as serf's SERF_TAG_*)
 *   HEARSAY_KEY, HEARSAY_KEY_DELETED (member-update only)
 *   HEARSAY_HTTP_ADDR (when the HTTP API is on, so `hearsay` works)
 * stdin: "name\taddr\tstate\tkey=value,key=value\n".
 * m and self_m may be NULL (member already forgotten; no snapshot). The
 * returned vector and its strings are one allocation: free() it. */
char **hsa_handler_env(const hs_event *ev, const hs_member *m, const char *self,
                       const hs_member *self_m, const char *http_addr);
char *hsa_handler_input(const hs_event *ev, const hs_member *m, size_t *len);

#endif /* HSA_HANDLERS_H */
