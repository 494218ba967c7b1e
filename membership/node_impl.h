/*
 * membership/node_impl.h — the runtime's node, shared by node.c (the
 * lifecycle) and the other node_*.c files of the public node API,
 * loop.c (socket, timer, own thread, dispatch) and snapshot.c (member
 * lists). Private.
 *
 * Locking. One mutex, `mu`, guards the core and every field marked [mu].
 * Every API call and every loop watcher takes it, in both modes: it costs
 * a few nanoseconds uncontended, and one rule for both modes is easier to
 * get right than two. User event and done callbacks never run with it
 * held; log lines may (hs_log_cb says so). The resolver has its own lock;
 * the order is resolver, then node, and no code holding `mu` calls into
 * the resolver.
 *
 * Fields marked [loop] are only touched on the loop thread (the adapter's
 * io and timers may only be started and stopped there), or before that
 * thread exists;
 * [const] ones are set by hs_node_new() and never change.
 */
#ifndef HS_NODE_IMPL_H
#define HS_NODE_IMPL_H

#include <pthread.h>

#include "hearsay.h"
#include "membership/addr.h"
#include "membership/config.h"
#include "membership/core.h"
#include "membership/loop_adapter.h"
#include "membership/resolve.h"
#include "wire/seal.h"

#define HS_MAX_CALLBACKS 16
/* Seeds per node, numeric and names together: the core keeps 64. */
#define HS_MAX_SEEDS_TOTAL 64
/* A DNS name is at most 253 bytes. */
#define HS_MAX_HOSTLEN 256

typedef enum hs_node_state {
    HS_NODE_NEW = 0, /* created, not started: no core, no socket */
    HS_NODE_RUNNING,
    HS_NODE_LEAVING, /* left; still gossiping until leave_deadline */
    HS_NODE_STOPPED  /* socket closed; the last view stays queryable */
} hs_node_state;

typedef struct hs_callback {
    unsigned mask;
    hs_event_cb cb;
    void *arg;
} hs_callback;

/* A key set before start, applied by hs_node_start(). */
typedef struct hs_pending_tag {
    char *key;
    uint8_t *value;
    size_t len;
} hs_pending_tag;

/* Indices into warn_at: one rate limit per kind of repeated warning. */
enum {
    HS_WARN_SEND = 0,
    HS_WARN_RECV = 1,
    HS_WARN_SLOW_CB = 2,
    HS_WARN_SEEDS = 3,
    HS_WARN_REJECT = 4,  /* datagrams refused by the keyring or replay check */
    HS_WARN_RATE = 5,    /* a source over its rate limit */
    HS_WARN_VERSION = 6, /* a peer speaking another protocol version */
    HS_WARN_NOMEM = 7,   /* allocation failures (alloc_failures grew) */
    HS_WARN_KINDS_ = 8
};

/* This node's own key changes, reported to its callbacks (loop.c). The
 * queue is drained on the next wake-up; the bound only matters for a
 * caller that writes keys faster than its own loop runs. */
#define HS_MAX_LOCAL_EVENTS 1024

typedef struct hs_local_event {
    char *key;
    bool deleted;
} hs_local_event;

/* The per-source rate limiter's table: HS_RATE_SETS sets of HS_RATE_WAYS
 * slots, a source hashed (with a per-node secret, so a sender cannot
 * choose its set) to one set and, when absent, taking the set's least
 * recently heard slot. 2048 sources cost 48 KiB; a cluster's peers fit
 * with room to spare, and a flood from more sources than that only churns
 * the table, which fails open (a forgotten peer comes back with a full
 * bucket), never shut. */
#define HS_RATE_SETS 256
#define HS_RATE_WAYS 8

typedef struct hs_rate_slot {
    uint64_t tag;     /* hash of the source, 0 = free */
    uint64_t last_ms; /* last refill */
    uint64_t milli;   /* tokens, in thousandths */
} hs_rate_slot;

struct hs_node {
    /* [const] configuration; strings point at the node's copies */
    hs_config cfg;
    char name[HS_WIRE_MAX_NAME + 1];
    char cluster[HS_WIRE_MAX_NAME + 1];
    char bind_str[HS_ADDR_STRLEN];
    char adv_str[HS_ADDR_STRLEN]; /* as configured; "" if none */
    hs_core_config core_cfg;      /* translated; addr is set by start */
    /* Peers already told of in the log for speaking another protocol
     * version (once per peer, loop_recv.c); a ring, so a flood of sources
     * costs at most this many lines and the rest go to the rate limit. */
    char version_warned[32][HS_ADDR_STRLEN];
    uint32_t n_version_warned;
    hs_loop_adapter ad; /* the event loop (loop_adapter.h) */
    bool own_loop;      /* own-thread mode */
    hs_resolver *resolver;

    pthread_mutex_t mu;
    pthread_cond_t leave_cv; /* [mu] the leave finished */

    /* [mu] */
    hs_node_state state;
    hs_core *core; /* NULL until start */
    uint64_t started_ms, stopped_ms;
    hs_callback callbacks[HS_MAX_CALLBACKS];
    unsigned n_callbacks;
    hs_pending_tag *pending;
    size_t n_pending;
    char (*seeds)[HS_ADDR_STRLEN]; /* numeric seeds, canonical form */
    unsigned n_seeds;
    hs_stats rt; /* only the runtime's counters are used */
    char bound[HS_ADDR_STRLEN];
    char advertised[HS_ADDR_STRLEN];
    bool stop_requested;     /* own thread: shut down on the next wake */
    uint64_t leave_deadline; /* LEAVING: stop gossiping then */
    hs_done_cb leave_done;
    void *leave_arg;
    bool leave_finished; /* for a blocked hs_node_leave() */
    hs_err leave_status;
    uint64_t warn_at[HS_WARN_KINDS_];
    uint64_t warn_suppressed[HS_WARN_KINDS_];
    uint64_t nomem_logged; /* alloc_failures (core's + runtime's) logged */
    bool thread_started, thread_joined;
    hs_local_event *local_events; /* own key changes to report */
    unsigned n_local_events;
    /* joining (loop_join.c): seeds given and the join not yet seen */
    bool join_wanted;
    uint64_t joined_ms;     /* when a peer first exchanged state; 0: not */
    uint64_t join_failures; /* rounds that reached no peer */
    unsigned join_rounds;   /* rounds reported, for the backoff */
    char join_reason[200];
    hs_stats join_base; /* counters at the start of the round */
    pthread_t loop_tid; /* own thread: set by the thread itself */
    int fd;             /* written on start/stop only; -1 when closed */

    /* [mu] sealing and admission (guard.c); keyring and replay are NULL
     * for a plaintext node, rate is NULL without a rate limit */
    hs_keyring *keyring;
    hs_replay *replay;
    hs_rate_slot *rate;
    uint64_t rate_secret;
    uint8_t *obuf; /* an opened datagram */
    uint8_t *sbuf; /* a sealed datagram */

    /* [loop] */
    int family;
    uint64_t armed_ms;         /* when HS_TIMER_TICK fires, if it is armed */
    uint64_t alone_checked_ms; /* last look for a live peer (loop.c) */
    uint8_t *rbuf;             /* receive buffer */
    bool dispatching;
    pthread_t thread;
};

/* ---- node_config.c ------------------------------------------------------ */

/* Copies cfg into the node and translates it into n->core_cfg (the
 * runtime's defaults, the room sealing takes, scaled timing), then sets up
 * the guard; logs and returns HS_EINVAL for what is out of range. */
hs_err hs__node_configure(hs_node *n, const hs_config *cfg);

/* ---- node_log.c --------------------------------------------------------- */

/* The node's clock, the core's timeline in ms: the loop adapter's
 * (CLOCK_MONOTONIC with libev, virtual in tests). */
static inline uint64_t hs_loop_now(const hs_node *n)
{
    return n->ad.ops->now_ms(n->ad.data);
}

static inline hs_timer_state hs_loop_timer_state(const hs_node *n, unsigned t)
{
    return n->ad.ops->timer_state(n->ad.data, t);
}

/* CLOCK_MONOTONIC in us, for what the runtime's own work costs (round
 * and callback timing): real time even on a virtual loop. */
uint64_t hs__rt_now_us(void);

/* Writes one line "hearsay[name] level: ..." if level passes the filter. */
void hs__rt_log(hs_node *n, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* hs__rt_log at WARN, at most once per 10 s per kind: a dead seed or a full
 * socket buffer would otherwise log every round. The next line that gets
 * through says how many were suppressed. With mu held. */
void hs__rt_warn(hs_node *n, int kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* [mu] Logs (rate-limited) when the core's or the runtime's
 * alloc_failures grew since the last call: an allocation failure cost a
 * round, an answer or an event (node_log.c). */
void hs__rt_check_nomem(hs_node *n);

/* Wall-clock time (CLOCK_REALTIME) in Unix ms: sealed datagrams carry it
 * for the replay window. */
uint64_t hs__rt_wall_ms(void);

/* ---- guard.c ------------------------------------------------------------ */

/* Sets up sealing (keyring, replay cache) and the rate limiter from cfg;
 * logs and returns HS_EINVAL for a bad key or bound, HS_ENOMEM. */
hs_err hs__guard_init(hs_node *n, const hs_config *cfg);
/* Frees (and wipes) what hs__guard_init made. */
void hs__guard_free(hs_node *n);

/* Admission of one received datagram, before the core sees it: the
 * per-source rate limit, the size limit and, with a keyring, opening.
 * On HS_OK *buf and *len describe the datagram to hand to the core (the
 * opened one, in n->obuf, when sealed). Otherwise the reason to count.
 * With mu held. */
hs_err hs__guard_admit(hs_node *n, const struct sockaddr *from, uint64_t now_ms,
                       const uint8_t **buf, size_t *len);

/* Seals an outgoing datagram into n->sbuf when the node has a keyring;
 * passes it through otherwise. With mu held. */
hs_err hs__guard_seal(hs_node *n, const uint8_t **buf, size_t *len);

/* ---- loop.c ------------------------------------------------------------- */

/* Binds the node's adapter to it; nothing is started. */
void hs__loop_init(hs_node *n);

/* Starts the watchers and, in own-thread mode, the thread. With mu held,
 * the socket bound and the core created; on the loop thread (embedded) or
 * before the node's thread exists (own thread). HS_ENOMEM if the thread
 * could not be created (nothing is left started then). */
hs_err hs__loop_start(hs_node *n);

/* Makes the loop flush what an API call queued in the core (datagrams, a
 * new deadline, events). With mu held; a no-op unless running or leaving. */
void hs__loop_wake(hs_node *n);
/* Calls the query callbacks for the answers the core holds (node_query.c;
 * loop thread, mu not held). */
void hs__query_dispatch(hs_node *n);

/* hs_node_stop(): from any thread in own-thread mode, from the loop
 * thread otherwise. Joins the own thread unless called on it. */
void hs__loop_stop(hs_node *n);

/* Queues an UPDATE of this node's own key for its callbacks. With mu
 * held, running. */
void hs__loop_local_event(hs_node *n, const char *key, bool deleted);

/* true when called on the node's own thread (own-thread mode only). */
bool hs__loop_on_node_thread(hs_node *n);

/* Within the loop's files (loop.c, loop_recv.c, loop_join.c), on the
 * loop thread. */
/* [mu] Sends what the core queued and follows its new deadline. */
void hs__loop_service(hs_node *n);
/* Runs the callbacks for what the core reported; mu not held. */
void hs__loop_dispatch(hs_node *n);
/* [mu] Arms the join report timer unless it is armed (loop_join.c). */
void hs__loop_join_arm(hs_node *n);
/* [mu] Notes the first exchange with a peer; stops the reports. */
void hs__loop_join_check(hs_node *n);
/* The join report timer fired (loop_join.c); takes mu. */
void hs__loop_join_timer(hs_node *n);

#endif /* HS_NODE_IMPL_H */
