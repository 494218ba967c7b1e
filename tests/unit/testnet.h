/*
 * testnet.h — a tiny deterministic network for wiring real cores together
 * inside one test process: a virtual clock, per-datagram delay, loss,
 * duplication and reordering from a seeded PRNG, link cuts, crashes.
 *
 * Every node is a real hs_core; the network only carries bytes between
 * them, exactly as the runtime or the simulator would.
 */
#ifndef HS_TESTNET_H
#define HS_TESTNET_H

#include "membership/core_impl.h"

#define TN_MAX 64

typedef struct tn_packet {
    uint64_t at;
    int from, to;
    uint8_t *buf;
    size_t len;
} tn_packet;

typedef struct tn_node {
    hs_core *core;
    hs_core_config cfg;
    char name[32];
    char addr[32];
    bool up;
    bool paused; /* not ticked, packets held */
    hs_core_event *events; /* every event the node emitted, in order */
    size_t n_events, cap_events;
} tn_node;

typedef struct testnet {
    tn_node nodes[TN_MAX];
    int n;
    uint64_t now;
    uint64_t rng;
    double loss, dup;
    uint32_t delay_min, delay_max; /* ms, uniform */
    bool cut[TN_MAX][TN_MAX];      /* cut[a][b]: a's packets to b are lost */
    tn_packet *q;
    size_t nq, capq;
    uint64_t delivered;
    /* Called after every delivery and tick (property checks). */
    void (*after_step)(struct testnet *net, void *arg);
    void *after_arg;
} testnet;

/* Creates n nodes named n0..n(n-1) at addresses "a0".."a(n-1)", each with
 * hs_core_config defaults passed through `tweak` (may be NULL), all seeded
 * with node 0's address. */
void tn_init(testnet *net, int n, uint64_t seed,
             void (*tweak)(hs_core_config *cfg, int i));
void tn_free(testnet *net);

/* Starts (or restarts, with generation+1) node i at the current time. */
void tn_start(testnet *net, int i, uint64_t generation);
/* Crashes node i: no leave, no more ticks, its packets vanish. */
void tn_crash(testnet *net, int i);

/* Runs the network until virtual time `until` (ms). */
void tn_run_until(testnet *net, uint64_t until);
void tn_run_for(testnet *net, uint64_t ms);

/* Node index of an address, or -1. */
int tn_index(const testnet *net, const char *addr);

/* State of member `name` in node i's view, or -1 when not present. */
int tn_state(const testnet *net, int i, const char *name);
/* Count of events of `type` about `name` seen by node i. */
int tn_count_events(const testnet *net, int i, hs_event_type type,
                    const char *name);
/* True when every up node sees every up node alive, with its current
 * generation and exactly its user keys (heartbeats always lag a little, so
 * versions are not compared). */
bool tn_converged(const testnet *net);

#endif
