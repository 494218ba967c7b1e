/*
 * tn.h — what the core's protocol tests (test_core.c, test_announce.c)
 * share on top of the simulator's virtual network (sim/sim.h, hs_vnet):
 * a cluster of nodes named n0..n(N-1), every one pointed at n0 as its one
 * seed, a recorder of every event each node emitted, and the few questions
 * the tests ask of the cores, read only through membership/core.h.
 *
 * The helpers fail the running cmocka test (they assert) rather than
 * return errors: a test that cannot build its network has nothing to say.
 */
#ifndef HS_TEST_TN_H
#define HS_TEST_TN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/sim.h"

/* Nodes a test network may have (the recorder keeps a log per node). */
#define TN_MAX 64

/* Every event one node emitted, in order, across its restarts. A USER
 * event's ev.user points to the log's own copy of the core's content
 * (origin's name in ev.name; event name, payload with a NUL after it as
 * the core adds, ltime, seq and the local flag in *ev.user), which the
 * core keeps only until its next event: valid until tn_free(). */
typedef struct tn_log {
    hs_core_event *ev;
    size_t n, cap;
} tn_log;

/* n (1..TN_MAX) nodes named n0..n(n-1), each with hs__core_config_init()
 * defaults (cluster "test") passed through `tweak` (may be NULL), all
 * seeded with n0's address, started at generation 1. The network's own
 * rules (net->link, groups, cuts) are the simulator's defaults: no loss,
 * 1..5 ms a datagram. */
void tn_init(sim_net *net, int n, uint64_t seed,
             void (*tweak)(hs_core_config *cfg, int i));
/* Frees the nodes, the network and every log. */
void tn_free(sim_net *net);

/* fn(net, arg) after every delivery and tick (property checks); NULL
 * stops it. */
void tn_after_step(sim_net *net, void (*fn)(sim_net *, void *), void *arg);

/* Starts node i with `generation` at the current time: a first start, a
 * start after a crash, or (for an up node) a process restart. Its log
 * goes on. */
void tn_start(sim_net *net, int i, uint64_t generation);
/* Crashes node i: no leave, no more ticks, its packets vanish. Its core is
 * kept, frozen, so tests may still read what it last knew. */
void tn_crash(sim_net *net, int i);
/* Whether node i is running (up or paused). */
bool tn_up(const sim_net *net, int i);

/* Runs the network for `ms`. The tests call cores directly between runs
 * (hs__core_set, hs__core_leave, a forged datagram): what those queued is
 * collected, and the new deadlines read, first. */
void tn_run_for(sim_net *net, uint64_t ms);
/* Runs 100 ms at a time until tn_converged() or `limit_ms` have passed;
 * returns the time it ran. */
uint64_t tn_run_until_converged(sim_net *net, uint64_t limit_ms);

/* Cuts node i off (or joins it again): datagrams to it when `in`, from
 * it when `out`. Node i is moved to group 1, everyone else is in 0, so one
 * node at a time is cut off. */
void tn_isolate(sim_net *net, int i, bool in, bool out);

/* State of member `name` in node i's view, or -1 when not present. */
int tn_state(const sim_net *net, int i, const char *name);
/* Node i's log. */
const tn_log *tn_events(const sim_net *net, int i);
/* Count of events of `type` about `name` (NULL: anyone) seen by node i. */
int tn_count_events(const sim_net *net, int i, hs_event_type type,
                    const char *name);
/* True when every up node sees every up node alive, with its current
 * generation and exactly its user keys (heartbeats always lag a little, so
 * versions are not compared). */
bool tn_converged(const sim_net *net);

#endif /* HS_TEST_TN_H */
