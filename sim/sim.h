/*
 * sim/sim.h — the deterministic many-node simulator: real membership cores
 * (membership/core.h), a virtual clock and a virtual network, in one
 * process. The network (net.c) is also the library hs_vnet, the one
 * virtual network of the tree: the simulator's scenarios and the core's
 * unit tests (tests/unit/test_core.c) both run their cores on it.
 *
 * Nothing here models the protocol. Every node is an hs_core created with
 * hs__core_new(); the simulator only does what a runtime does — hands a core
 * the time, carries the datagrams it emits to the core they are addressed
 * to, collects its events — except that time is virtual and the network
 * is a set of rules: per-link loss, delay, jitter, duplication and
 * reordering, partitions between groups of nodes (two-way or one-way),
 * crashes, restarts with a new generation, and pauses of one node's loop.
 *
 * Everything is driven by one binary heap of timed events (packet
 * deliveries, node deadlines from hs__core_next_deadline(), scenario
 * callbacks), ordered by (time, insertion sequence): the same seed and the
 * same calls give the same run, bit for bit.
 *
 * Naming. Node i is named "node-%05u" and advertises "10.a.b.c:7946", where
 * a.b.c are the bytes of i + 1: realistic lengths (so byte figures mean
 * something), and an address maps back to an index by parsing, not by a
 * lookup.
 */
#ifndef HS_SIM_H
#define HS_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "membership/core.h"

/* Largest cluster the simulator addresses (a.b.c has 24 bits; the core's
 * default max_members is 16384). */
#define SIM_MAX_NODES 65536
/* Partition groups: enough for any split a scenario wants. */
#define SIM_MAX_GROUPS 8
/* Bytes a paused node's socket holds before the kernel drops: Linux's
 * default net.core.rmem_default. */
#define SIM_HOLD_BYTES 212992

/* How one direction of a link treats datagrams. */
typedef struct sim_link {
    double loss;         /* probability a datagram is dropped */
    uint32_t delay_ms;   /* base one-way delay */
    uint32_t jitter_ms;  /* + uniform 0..jitter_ms */
    double dup;          /* probability a datagram arrives twice */
    double reorder;      /* probability a datagram is held back ... */
    uint32_t reorder_ms; /* ... by this much more, so later ones pass it */
} sim_link;

typedef enum sim_node_state {
    SIM_DOWN = 0, /* not started, or crashed: no ticks, packets vanish */
    SIM_UP = 1,
    SIM_PAUSED = 2 /* loop stopped: no ticks, packets held in the socket */
} sim_node_state;

/* A datagram in flight. */
typedef struct sim_pkt {
    uint32_t from, to;
    uint32_t len;
    uint8_t data[];
} sim_pkt;

typedef struct sim_node {
    hs_core *core; /* NULL until started; kept (frozen) after a crash */
    uint64_t generation;
    uint64_t sched; /* time of this node's live tick entry in the heap */
    uint8_t state;  /* sim_node_state */
    uint8_t group;  /* partition group */
    char name[16];  /* "node-00042" */
    char addr[24];  /* "10.0.0.43:7946" */
    sim_pkt **held; /* datagrams that arrived while paused */
    uint32_t n_held, cap_held;
    size_t held_bytes;
    uint64_t paused_at;
    uint64_t bytes_sent, msgs_sent;
} sim_node;

typedef struct sim_ev {
    uint64_t at;
    uint64_t seq;
    uint32_t kind;
    uint32_t node;
    void *ptr;
} sim_ev;

typedef struct sim_net sim_net;

/* Hooks a scenario installs. Each may be NULL. */
typedef struct sim_hooks {
    /* An event one node's core emitted. ev, and a USER event's ev->user
     * (which the core owns only until its next hs__core_next_event()),
     * are valid during the call only: a hook that keeps them copies both
     * (tests/unit/tn.c does). */
    void (*on_event)(sim_net *net, uint32_t node, const hs_core_event *ev,
                     void *arg);
    /* A datagram was handed to node's core (after the core processed it). */
    void (*on_receive)(sim_net *net, uint32_t node, void *arg);
    /* Per-node config changes before a core is created (or re-created). */
    void (*tweak)(sim_net *net, uint32_t node, hs_core_config *cfg, void *arg);
    /* Node's core was ticked (after what it queued was collected). With
     * on_receive, a check after every step (the core's property tests). */
    void (*on_tick)(sim_net *net, uint32_t node, void *arg);
    void *arg;
} sim_hooks;

typedef struct sim_stats {
    uint64_t msgs_sent, bytes_sent; /* everything the cores emitted */
    uint64_t msgs_delivered, bytes_delivered;
    uint64_t dropped_loss, dropped_cut, dropped_down, dropped_hold;
    uint64_t duplicated, reordered, misaddressed;
    uint64_t max_datagram; /* largest datagram any core emitted */
    uint64_t events;       /* heap events processed */
    uint64_t ticks;
} sim_stats;

struct sim_net {
    sim_node *nodes;
    uint32_t n;
    uint64_t now;
    uint64_t rng;
    uint64_t seed;
    hs_core_config cfg; /* template: identity fields are filled per node */
    sim_hooks hooks;

    sim_link link; /* every link, unless overridden */
    struct sim_link_over *over;
    size_t n_over, cap_over; /* open-addressing table, power of two */
    bool cut[SIM_MAX_GROUPS][SIM_MAX_GROUPS]; /* [from][to] */
    uint32_t n_seeds;                         /* nodes 0..n_seeds-1 */

    sim_ev *heap;
    size_t n_heap, cap_heap;
    uint64_t seq;

    sim_stats stats;
    bool stop;           /* set by a hook: sim_run_until() returns */
    double wall_limit_s; /* 0: none; else sim_run_until() gives up */
    double wall_start;   /* when sim_net_init() ran (CLOCK_MONOTONIC) */
    bool timed_out;      /* the wall-clock limit was hit */
    bool oom;            /* an allocation failed: results are void */
};

/* Creates n nodes (not started) with config `tmpl` (identity fields are
 * set per node, tmpl's are ignored). The first min(3, n) nodes are every
 * node's seeds. The clock starts at 1,000,000 ms. Returns false on
 * allocation failure. */
bool sim_net_init(sim_net *net, uint32_t n, uint64_t seed,
                  const hs_core_config *tmpl, const sim_hooks *hooks);
void sim_net_free(sim_net *net);

/* Node index from an address, or UINT32_MAX. */
uint32_t sim_addr_index(const char *addr);

/* Gives node i another name (at most 15 bytes), used from its next start
 * on: tests name nodes "n0".."n5", or give two nodes the same name. */
void sim_node_rename(sim_net *net, uint32_t i, const char *name);

/* Starts node i (first start, or restart after a crash) with `generation`
 * at the current time. */
bool sim_node_start(sim_net *net, uint32_t i, uint64_t generation);
/* Stops node i without a word: no leave, no more ticks, its socket is
 * gone (in-flight datagrams to it vanish). */
void sim_node_crash(sim_net *net, uint32_t i);
/* Crash + start with generation + 1 (a process restart). */
bool sim_node_restart(sim_net *net, uint32_t i);
/* Stops node i's loop: no ticks; datagrams to it wait in its socket (up
 * to SIM_HOLD_BYTES, the rest are dropped). */
void sim_node_pause(sim_net *net, uint32_t i);
/* Runs node i's loop again: it is ticked at once (late: the core sees the
 * pause) and then reads what its socket held. */
void sim_node_resume(sim_net *net, uint32_t i);

/* Per-link override for datagrams from -> to. */
bool sim_link_set(sim_net *net, uint32_t from, uint32_t to,
                  const sim_link *link);
/* Partitions: datagrams from a node of group ga to one of group gb are
 * dropped while cut[ga][gb]. sim_cut(net, a, b, true) is one-way;
 * call it both ways for a two-way partition. sim_heal() clears all. */
void sim_cut(sim_net *net, uint8_t ga, uint8_t gb, bool on);
void sim_heal(sim_net *net);

/* Gives every up node a converged view of every other up node, as if it
 * had gossiped until converged: hands each core PUSH datagrams (built with
 * wire.h, under the core's max_datagram) carrying every member's current
 * state. Only valid right after the nodes were started (no user keys set,
 * at most the first heartbeat). Returns false if a core's view did not
 * come out complete. */
bool sim_seed_views(sim_net *net);

/* After calling node i's core directly (hs__core_set(), hs__core_leave()):
 * collects what it queued and re-reads its deadline. */
void sim_node_touch(sim_net *net, uint32_t i);

/* Calls fn(net, arg) at time `at` (>= now). */
bool sim_at(sim_net *net, uint64_t at, void (*fn)(sim_net *, void *),
            void *arg);

/* Runs the network until virtual time `until`, or until a hook sets
 * net->stop, or the wall-clock limit is hit. Returns the time reached. */
uint64_t sim_run_until(sim_net *net, uint64_t until);

/* PRNG for scenarios (never the cores'): splitmix64 on net->rng. */
uint64_t sim_rand(sim_net *net);
double sim_rand01(sim_net *net);

/* Node i's view of node j: true with *out filled if i knows j. */
bool sim_view(const sim_net *net, uint32_t i, uint32_t j, hs_member_info *out);

/* Seconds since sim_net_init() on the wall clock. */
double sim_wall(const sim_net *net);
double sim_wall_now(void);

/* Peak resident set of this process, bytes (getrusage). */
uint64_t sim_peak_rss(void);
/* Current resident set, bytes (/proc/self/statm). */
uint64_t sim_rss(void);
/* Bytes in allocated heap chunks (mallinfo2: headers included, free
 * space and fragmentation not). */
uint64_t sim_heap_used(void);

#endif /* HS_SIM_H */
