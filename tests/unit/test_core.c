/*
 * test_core.c — the membership core, driven deterministically: several real
 * cores wired together by the simulator's virtual network (sim/net.c,
 * hs_vnet: virtual clock, per-link delay, loss and duplication, partitions,
 * crashes, pauses). The tests name their nodes n0..n(N-1) and point every
 * node at n0 as its one seed (tn.h, shared with test_announce.c); they
 * read the cores only through membership/core.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tn.h"

/* ---- Helpers ------------------------------------------------------------ */

static bool has_key(const sim_net *net, int i, const char *member,
                    const char *key, const char *value)
{
    for (uint32_t k = 0;; k++) {
        const char *kk;
        const uint8_t *v;
        size_t len;
        if (hs__core_member_key(net->nodes[i].core, member, k, &kk, &v, &len) !=
            HS_OK)
            return false;
        if (strcmp(kk, key) == 0)
            return !value ||
                   (len == strlen(value) && memcmp(v, value, len) == 0);
    }
}

/* ---- Basic convergence -------------------------------------------------- */

static void two_nodes_converge(void **state)
{
    (void)state;
    sim_net net;
    tn_init(&net, 2, 1, NULL);
    assert_int_equal(hs__core_set(net.nodes[0].core, "role", "db", 2, net.now),
                     HS_OK);
    uint64_t took = tn_run_until_converged(&net, 10000);
    assert_true(tn_converged(&net));
    assert_true(took <= 5000);
    assert_true(has_key(&net, 1, "n0", "role", "db"));
    assert_int_equal(hs__core_member_count(net.nodes[0].core), 2);
    assert_int_equal(tn_count_events(&net, 1, HS_EVENT_JOIN, "n0"), 1);
    assert_int_equal(tn_count_events(&net, 0, HS_EVENT_JOIN, "n1"), 1);
    /* Heartbeats keep flowing but are never events. */
    tn_run_for(&net, 20000);
    assert_int_equal(tn_count_events(&net, 0, HS_EVENT_UPDATE, NULL), 0);
    assert_int_equal(tn_count_events(&net, 1, HS_EVENT_UPDATE, NULL), 0);
    assert_int_equal(tn_count_events(&net, 1, HS_EVENT_SUSPECT, NULL), 0);
    hs_member_info info;
    assert_int_equal(
        hs__core_member_get(net.nodes[1].core, "n0", net.now, &info), HS_OK);
    assert_true(info.heartbeat >= 20);
    tn_free(&net);
}

static void one_second_rounds(hs_core_config *cfg, int i)
{
    (void)i;
    cfg->gossip_interval_ms = 1000;
    cfg->heartbeat_interval_ms = 1000;
}

/* 24 nodes start at once, all pointed at n0. News of joins brings rounds
 * forward (a quarter interval after the last), so the cluster forms in a
 * couple of scheduled intervals' time, not the ~log N scheduled rounds
 * after a random first round it took before; once nothing new arrives the
 * nodes are back to one round per interval. */
static void joins_spread_in_early_rounds(void **state)
{
    (void)state;
    sim_net net;
    tn_init(&net, 24, 9, one_second_rounds);
    uint64_t took = tn_run_until_converged(&net, 30000);
    assert_true(tn_converged(&net));
    assert_true(took <= 1200); /* 600 ms here; 2,000 without early rounds */
    /* Nobody joins any more: 20 s are 20 scheduled rounds (+-1 for the
     * phase), with no early ones. */
    tn_run_for(&net, 5000);
    uint64_t before[24];
    for (int i = 0; i < 24; i++)
        before[i] = hs__core_round(net.nodes[i].core);
    tn_run_for(&net, 20000);
    for (int i = 0; i < 24; i++) {
        uint64_t r = hs__core_round(net.nodes[i].core) - before[i];
        assert_true(r >= 19 && r <= 21);
    }
    tn_free(&net);
}

static void update_reaches_all_of_20(void **state)
{
    (void)state;
    sim_net net;
    tn_init(&net, 20, 2, NULL);
    tn_run_until_converged(&net, 60000);
    assert_true(tn_converged(&net));
    for (int i = 0; i < 20; i++)
        assert_int_equal(tn_count_events(&net, i, HS_EVENT_JOIN, NULL), 19);

    assert_int_equal(
        hs__core_set(net.nodes[7].core, "version", "2.1", 3, net.now), HS_OK);
    uint64_t start = net.now;
    int have = 0;
    while (net.now - start < 30000) {
        tn_run_for(&net, 100);
        have = 0;
        for (int i = 0; i < 20; i++)
            have += has_key(&net, i, "n7", "version", "2.1");
        if (have == 20)
            break;
    }
    assert_int_equal(have, 20);
    /* log3(20) + log2(ln 20) ~ 4.4 rounds; allow generous slack for the
     * random start phases, but not an order of magnitude. */
    assert_true(net.now - start <= 12000);
    for (int i = 0; i < 20; i++)
        if (i != 7)
            assert_int_equal(tn_count_events(&net, i, HS_EVENT_UPDATE, "n7"),
                             1);
    tn_free(&net);
}

static void small_datagram(hs_core_config *cfg, int i)
{
    (void)i;
    cfg->max_datagram = HS_WIRE_MIN_DATAGRAM;
}

static void truncation_still_converges(void **state)
{
    (void)state;
    sim_net net;
    tn_init(&net, 30, 3, small_datagram);
    char key[16], val[64];
    for (int i = 0; i < 30; i++)
        for (int k = 0; k < 10; k++) {
            snprintf(key, sizeof key, "k%d", k);
            snprintf(val, sizeof val, "%d-%d-%s", i, k,
                     "a-value-long-enough-to-need-several-datagrams");
            assert_int_equal(
                hs__core_set(net.nodes[i].core, key, val, strlen(val), net.now),
                HS_OK);
        }
    tn_run_until_converged(&net, 120000);
    assert_true(tn_converged(&net));
    for (int i = 0; i < 30; i++) {
        const hs_core_stats *st = hs__core_stats_get(net.nodes[i].core);
        assert_true(st->max_datagram_sent <= HS_WIRE_MIN_DATAGRAM);
        for (int j = 0; j < 30; j++)
            for (int k = 0; k < 10; k++) {
                char member[8];
                snprintf(member, sizeof member, "n%d", j);
                snprintf(key, sizeof key, "k%d", k);
                snprintf(val, sizeof val, "%d-%d-%s", j, k,
                         "a-value-long-enough-to-need-several-datagrams");
                assert_true(has_key(&net, i, member, key, val));
            }
    }
    /* The digest of 30 members does not fit 512 bytes: it was paged. */
    uint64_t truncated = 0;
    for (int i = 0; i < 30; i++)
        truncated += hs__core_stats_get(net.nodes[i].core)->truncated_msgs;
    assert_true(truncated > 0);
    tn_free(&net);
}

/* ---- Lifecycle ---------------------------------------------------------- */

static void crash_is_suspected_then_dead_everywhere(void **state)
{
    (void)state;
    sim_net net;
    tn_init(&net, 8, 4, NULL);
    tn_run_until_converged(&net, 30000);
    assert_true(tn_converged(&net));
    tn_run_for(&net, 30000); /* let the detectors learn the rhythm */
    for (int i = 0; i < 8; i++)
        assert_int_equal(tn_count_events(&net, i, HS_EVENT_SUSPECT, NULL), 0);

    tn_crash(&net, 3);
    tn_run_for(&net, 60000);
    for (int i = 0; i < 8; i++) {
        if (i == 3)
            continue;
        assert_int_equal(tn_state(&net, i, "n3"), HS_STATE_DEAD);
        assert_int_equal(tn_count_events(&net, i, HS_EVENT_SUSPECT, "n3"), 1);
        assert_int_equal(tn_count_events(&net, i, HS_EVENT_FAIL, "n3"), 1);
        /* nobody else was blamed */
        assert_int_equal(tn_count_events(&net, i, HS_EVENT_FAIL, NULL), 1);
        assert_int_equal(tn_count_events(&net, i, HS_EVENT_LEAVE, NULL), 0);
    }
    tn_free(&net);
}

/* A peer heard only a few times that then goes silent is still
 * suspected and convicted: before the node knows the cluster's rhythm it
 * waits the longest interval the detector takes, not forever. */
static void early_silence_is_still_convicted(void **state)
{
    (void)state;
    sim_net net;
    tn_init(&net, 2, 23, NULL);
    tn_run_for(&net, 600);
    assert_int_equal(tn_state(&net, 1, "n0"), HS_STATE_ALIVE);
    tn_crash(&net, 0);
    tn_run_for(&net, 60000);
    assert_int_equal(tn_state(&net, 1, "n0"), HS_STATE_DEAD);
    assert_int_equal(tn_count_events(&net, 1, HS_EVENT_FAIL, "n0"), 1);
    tn_free(&net);
}

static void leave_is_left_not_fail(void **state)
{
    (void)state;
    sim_net net;
    tn_init(&net, 6, 5, NULL);
    tn_run_until_converged(&net, 30000);
    assert_int_equal(hs__core_leave(net.nodes[2].core, net.now), HS_OK);
    assert_int_equal(hs__core_leave(net.nodes[2].core, net.now), HS_ESTATE);
    tn_run_for(&net, 2000); /* the leaver keeps gossiping for a moment */
    tn_crash(&net, 2);
    tn_run_for(&net, 60000);
    for (int i = 0; i < 6; i++) {
        if (i == 2)
            continue;
        assert_int_equal(tn_state(&net, i, "n2"), HS_STATE_LEFT);
        assert_int_equal(tn_count_events(&net, i, HS_EVENT_LEAVE, "n2"), 1);
        assert_int_equal(tn_count_events(&net, i, HS_EVENT_FAIL, "n2"), 0);
        assert_int_equal(tn_count_events(&net, i, HS_EVENT_SUSPECT, "n2"), 0);
    }
    tn_free(&net);
}

/* A newcomer that learns of a member already dead, or already left,
 * creates it in that state: it never lists it alive and fires no join for
 * it (dead members are kept a day: every restart within it replayed false
 * joins to every handler). */
typedef struct late_watch {
    int node;
    bool saw_alive;
} late_watch;

static void watch_late(sim_net *net, void *arg)
{
    late_watch *w = arg;
    if (!tn_up(net, w->node))
        return;
    int s4 = tn_state(net, w->node, "n4"), s3 = tn_state(net, w->node, "n3");
    if (s4 == HS_STATE_ALIVE || s4 == HS_STATE_SUSPECT ||
        s3 == HS_STATE_ALIVE || s3 == HS_STATE_SUSPECT)
        w->saw_alive = true;
}

static void newcomer_learns_the_dead_as_dead(void **state)
{
    (void)state;
    sim_net net;
    tn_init(&net, 6, 21, NULL);
    tn_crash(&net, 5); /* joins later */
    tn_run_until_converged(&net, 30000);
    tn_run_for(&net, 10000);
    tn_crash(&net, 4);
    assert_int_equal(hs__core_leave(net.nodes[3].core, net.now), HS_OK);
    tn_run_for(&net, 2000);
    tn_crash(&net, 3);
    tn_run_for(&net, 30000);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(tn_state(&net, i, "n4"), HS_STATE_DEAD);
        assert_int_equal(tn_state(&net, i, "n3"), HS_STATE_LEFT);
    }
    late_watch w = {.node = 5};
    tn_after_step(&net, watch_late, &w);
    tn_start(&net, 5, 1);
    tn_run_for(&net, 20000);
    assert_int_equal(tn_state(&net, 5, "n4"), HS_STATE_DEAD);
    assert_int_equal(tn_state(&net, 5, "n3"), HS_STATE_LEFT);
    assert_false(w.saw_alive);
    assert_int_equal(tn_count_events(&net, 5, HS_EVENT_JOIN, "n4"), 0);
    assert_int_equal(tn_count_events(&net, 5, HS_EVENT_JOIN, "n3"), 0);
    assert_int_equal(tn_count_events(&net, 5, HS_EVENT_LEAVE, "n3"), 0);
    assert_int_equal(tn_count_events(&net, 5, HS_EVENT_JOIN, "n1"), 1);
    tn_free(&net);
}

/* A member declared dead during a partition that leaves as the partition
 * heals goes dead -> left, never through alive: the versions that carry
 * its leave are not evidence of life. */
static void leave_after_partition_is_no_recovery(void **state)
{
    (void)state;
    sim_net net;
    tn_init(&net, 5, 22, NULL);
    tn_run_until_converged(&net, 30000);
    tn_run_for(&net, 10000);
    tn_isolate(&net, 1, true, true);
    tn_run_for(&net, 30000);
    for (int i = 0; i < 5; i++)
        if (i != 1)
            assert_int_equal(tn_state(&net, i, "n1"), HS_STATE_DEAD);
    assert_int_equal(hs__core_leave(net.nodes[1].core, net.now), HS_OK);
    tn_isolate(&net, 1, false, false);
    tn_run_for(&net, 20000);
    for (int i = 0; i < 5; i++) {
        if (i == 1)
            continue;
        assert_int_equal(tn_state(&net, i, "n1"), HS_STATE_LEFT);
        assert_int_equal(tn_count_events(&net, i, HS_EVENT_RECOVER, "n1"), 0);
        assert_int_equal(tn_count_events(&net, i, HS_EVENT_LEAVE, "n1"), 1);
    }
    tn_free(&net);
}

/* A second process takes the name of a live member (a cloned host keeps
 * its hostname): the live owner refutes the claim and keeps its name,
 * and the newcomer yields. Without this the newcomer's higher generation
 * silently replaced the owner everywhere. */
static bool yielded_with_conflict(const sim_net *net, int i)
{
    const tn_log *l = tn_events(net, i);
    if (!hs__core_yielded(net->nodes[i].core))
        return false;
    for (size_t k = 0; k < l->n; k++)
        if (l->ev[k].type == HS_EVENT_CONFLICT &&
            l->ev[k].state == HS_STATE_LEFT)
            return true;
    return false;
}

static void duplicate_name_is_refuted(void **state)
{
    (void)state;
    sim_net net;
    tn_init(&net, 6, 24, NULL);
    tn_crash(&net, 5);
    tn_run_until_converged(&net, 30000);
    tn_run_for(&net, 40000); /* n2 is well past its join window */
    uint64_t owner_gen = hs__core_generation(net.nodes[2].core);
    /* Node 5 comes up as "n2" at its own address, with a newer
     * generation, as a second process started later would. */
    sim_node_rename(&net, 5, "n2");
    tn_start(&net, 5, owner_gen + 1000);
    tn_run_for(&net, 15000);
    assert_true(yielded_with_conflict(&net, 5));
    assert_int_equal(tn_count_events(&net, 2, HS_EVENT_CONFLICT, "n2"), 1);
    uint64_t gen = hs__core_generation(net.nodes[2].core);
    assert_true(gen > owner_gen + 1000);
    assert_true(hs__core_stats_get(net.nodes[2].core)->name_conflicts >= 1);
    for (int i = 0; i < 5; i++) {
        if (i == 2)
            continue;
        hs_member_info info;
        assert_int_equal(
            hs__core_member_get(net.nodes[i].core, "n2", net.now, &info),
            HS_OK);
        assert_int_equal(info.state, HS_STATE_ALIVE);
        assert_int_equal(info.generation, gen);
        assert_string_equal(info.addr, net.nodes[2].addr);
    }
    /* Long after the impostor went silent, the owner is still alive
     * everywhere. */
    tn_crash(&net, 5);
    tn_run_for(&net, 30000);
    for (int i = 0; i < 5; i++)
        if (i != 2)
            assert_int_equal(tn_state(&net, i, "n2"), HS_STATE_ALIVE);
    tn_free(&net);
}

/* A node restarted with a lower generation (its clock set back) while the
 * cluster keeps its old, higher, dead one takes a generation above the
 * record by itself and is visible again; it says so (a RESTART about
 * itself). It used to stay invisible for the day the dead are kept. */
static void stale_generation_recovers(void **state)
{
    (void)state;
    sim_net net;
    tn_init(&net, 4, 25, NULL);
    tn_crash(&net, 3);
    tn_start(&net, 3, 5000);
    tn_run_until_converged(&net, 30000);
    tn_run_for(&net, 5000);
    tn_crash(&net, 3);
    tn_run_for(&net, 20000);
    assert_int_equal(tn_state(&net, 0, "n3"), HS_STATE_DEAD);
    tn_start(&net, 3, 100); /* an hour behind, say */
    tn_run_for(&net, 15000);
    uint64_t gen = hs__core_generation(net.nodes[3].core);
    assert_true(gen > 5000);
    assert_int_equal(tn_count_events(&net, 3, HS_EVENT_RESTART, "n3"), 1);
    for (int i = 0; i < 3; i++) {
        hs_member_info info;
        assert_int_equal(
            hs__core_member_get(net.nodes[i].core, "n3", net.now, &info),
            HS_OK);
        assert_int_equal(info.state, HS_STATE_ALIVE);
        assert_int_equal(info.generation, gen);
    }
    tn_free(&net);
}

static void restart_replaces_old_incarnation(void **state)
{
    (void)state;
    sim_net net;
    tn_init(&net, 5, 6, NULL);
    hs__core_set(net.nodes[4].core, "old", "yes", 3, net.now);
    tn_run_until_converged(&net, 30000);
    assert_true(has_key(&net, 0, "n4", "old", "yes"));

    tn_crash(&net, 4);
    tn_run_for(&net, 1500);
    tn_start(&net, 4, 2);
    hs__core_set(net.nodes[4].core, "new", "yes", 3, net.now);
    tn_run_until_converged(&net, 30000);
    assert_true(tn_converged(&net));
    for (int i = 0; i < 4; i++) {
        hs_member_info info;
        assert_int_equal(
            hs__core_member_get(net.nodes[i].core, "n4", net.now, &info),
            HS_OK);
        assert_int_equal(info.generation, 2);
        assert_int_equal(info.state, HS_STATE_ALIVE);
        assert_true(has_key(&net, i, "n4", "new", "yes"));
        assert_false(has_key(&net, i, "n4", "old", NULL));
        assert_int_equal(tn_count_events(&net, i, HS_EVENT_RESTART, "n4"), 1);
        assert_int_equal(tn_count_events(&net, i, HS_EVENT_JOIN, "n4"), 1);
    }
    tn_free(&net);
}

static void fast_reap(hs_core_config *cfg, int i)
{
    (void)i;
    cfg->reap_left_after_ms = 5000;
    cfg->reap_dead_after_ms = 5000;
}

/* Captures every datagram node `who` sends, for replaying later. */
typedef struct capture {
    uint8_t buf[64][HS_WIRE_DEFAULT_DATAGRAM];
    size_t len[64];
    int n;
} capture;

static void reaped_members_stay_gone(void **state)
{
    (void)state;
    sim_net net;
    tn_init(&net, 5, 7, fast_reap);
    tn_run_until_converged(&net, 30000);

    /* Record a datagram of n3 carrying its state, as an attacker or a slow
     * network path could replay it later. */
    static capture cap;
    memset(&cap, 0, sizeof cap);
    /* Force a SYN/PUSH: drive n3 by hand until it emits something, its
     * loop stopped meanwhile so that the network does not tick it. */
    sim_node_pause(&net, 3);
    hs_datagram d;
    for (int tries = 0; cap.n == 0 && tries < 20; tries++) {
        uint64_t t = hs__core_next_deadline(net.nodes[3].core);
        if (t > net.now)
            sim_run_until(&net, t);
        hs__core_tick(net.nodes[3].core, net.now);
        while (hs__core_next_datagram(net.nodes[3].core, &d) && cap.n < 64) {
            memcpy(cap.buf[cap.n], d.buf, d.len);
            cap.len[cap.n++] = d.len;
        }
    }
    assert_true(cap.n > 0);
    sim_node_resume(&net, 3);

    assert_int_equal(hs__core_leave(net.nodes[3].core, net.now), HS_OK);
    tn_run_for(&net, 2000);
    tn_crash(&net, 3);
    tn_run_for(&net, 20000);
    for (int i = 0; i < 5; i++) {
        if (i == 3)
            continue;
        assert_int_equal(tn_state(&net, i, "n3"), -1);
        assert_int_equal(tn_count_events(&net, i, HS_EVENT_REAP, "n3"), 1);
    }
    /* Replay the old datagrams (a SYN from n3): they must not resurrect n3
     * at n0, and a delta about n3 relayed by others must not either. */
    const hs_core_stats *st = hs__core_stats_get(net.nodes[0].core);
    uint64_t stale_before = st->rejected[-HS_ESTALE];
    for (int k = 0; k < cap.n; k++)
        hs__core_receive(net.nodes[0].core, net.now, net.nodes[3].addr,
                         cap.buf[k], cap.len[k]);
    tn_run_for(&net, 10000);
    for (int i = 0; i < 5; i++)
        if (i != 3)
            assert_int_equal(tn_state(&net, i, "n3"), -1);
    assert_int_equal(tn_count_events(&net, 0, HS_EVENT_JOIN, "n3"), 1);
    (void)stale_before;
    tn_free(&net);
}

static void fast_gc(hs_core_config *cfg, int i)
{
    (void)i;
    cfg->tombstone_gc_ms = 5000;
}

static void tombstones_collected_and_lagging_peer_resets(void **state)
{
    (void)state;
    sim_net net;
    tn_init(&net, 6, 8, fast_gc);
    hs_core *owner = net.nodes[1].core;
    hs__core_set(owner, "a", "1", 1, net.now);
    hs__core_set(owner, "b", "2", 1, net.now);
    tn_run_until_converged(&net, 30000);
    assert_true(has_key(&net, 5, "n1", "a", "1"));

    /* Cut n5 off (both ways) for long enough to miss a collection. */
    tn_isolate(&net, 5, true, true);
    hs__core_del(owner, "a", net.now);
    hs__core_set(owner, "c", "3", 1, net.now);
    tn_run_for(&net, 4000);
    assert_false(has_key(&net, 0, "n1", "a", NULL));
    tn_run_for(&net, 20000); /* > tombstone_gc_ms + the sweep period */
    uint64_t collected = 0;
    for (int i = 0; i < 5; i++)
        collected +=
            hs__core_stats_get(net.nodes[i].core)->tombstones_collected;
    assert_true(collected >= 5);
    assert_true(has_key(&net, 5, "n1", "a", "1")); /* still stale there */

    tn_isolate(&net, 5, false, false);
    tn_run_for(&net, 30000);
    assert_false(has_key(&net, 5, "n1", "a", NULL));
    assert_true(has_key(&net, 5, "n1", "b", "2"));
    assert_true(has_key(&net, 5, "n1", "c", "3"));
    uint64_t resets = 0;
    for (int i = 0; i < 5; i++)
        resets += hs__core_stats_get(net.nodes[i].core)->resets_sent;
    assert_true(resets > 0);
    tn_free(&net);
}

/* Node 0's loop stops for 30 s. What it would read first on waking up
 * is lost (the socket buffer of a long pause overflows): protocol v2's
 * SYNs carry heartbeats, and queued ones would otherwise refute every
 * stale timestamp before the first check, hiding what the guard does. */
static void pause_node0(sim_net *net, uint64_t ms)
{
    sim_node_pause(net, 0);
    tn_isolate(net, 0, true, false);
    tn_run_for(net, ms);
    tn_isolate(net, 0, false, false);
    sim_node_resume(net, 0);
}

static void pause_does_not_convict(void **state)
{
    (void)state;
    sim_net net;
    tn_init(&net, 5, 9, NULL);
    tn_run_until_converged(&net, 30000);
    tn_run_for(&net, 20000);
    pause_node0(&net, 30000);
    tn_run_for(&net, 20000);
    const hs_core_stats *st = hs__core_stats_get(net.nodes[0].core);
    assert_true(st->pauses >= 1);
    assert_int_equal(tn_count_events(&net, 0, HS_EVENT_FAIL, NULL), 0);
    assert_int_equal(tn_count_events(&net, 0, HS_EVENT_SUSPECT, NULL), 0);
    tn_free(&net);
}

static void slow_rhythm(hs_core_config *cfg, int i)
{
    (void)i;
    cfg->pause_grace_ms = UINT32_MAX / 2; /* pause guard off */
}

/* The same pause with the guard disabled does convict: the test above
 * is therefore measuring the guard, not luck. */
static void pause_without_guard_convicts(void **state)
{
    (void)state;
    sim_net net;
    tn_init(&net, 5, 9, slow_rhythm);
    tn_run_until_converged(&net, 30000);
    tn_run_for(&net, 20000);
    pause_node0(&net, 30000);
    tn_run_for(&net, 20000);
    assert_true(tn_count_events(&net, 0, HS_EVENT_SUSPECT, NULL) > 0);
    tn_free(&net);
}

/* ---- Hostile input ------------------------------------------------------ */

static void hostile_datagrams_are_counted_not_fatal(void **state)
{
    (void)state;
    sim_net net;
    tn_init(&net, 3, 10, NULL);
    tn_run_until_converged(&net, 30000);
    hs_core *c = net.nodes[0].core;
    const hs_core_stats *st = hs__core_stats_get(c);

    uint8_t junk[2000];
    uint64_t r = 12345;
    for (int i = 0; i < 2000; i++) {
        size_t len = (size_t)(r % sizeof junk);
        for (size_t k = 0; k < len; k++) {
            r = r * 6364136223846793005ULL + 1442695040888963407ULL;
            junk[k] = (uint8_t)(r >> 56);
        }
        if (i % 2 == 0 && len >= 4) { /* get past the header check */
            junk[0] = HS_WIRE_MAGIC0;
            junk[1] = HS_WIRE_MAGIC1;
            junk[2] = HS_WIRE_PROTO_VERSION;
            junk[3] = 0;
        }
        assert_int_not_equal(hs__core_receive(c, net.now, "x", junk, len),
                             HS_OK);
    }
    uint64_t rejected = 0;
    for (int k = 0; k < HS_REASON_SLOTS; k++)
        rejected += st->rejected[k];
    assert_int_equal(rejected, 2000);

    /* A message claiming to be from us. */
    hs_wire_msg msg = {.type = HS_WIRE_SYN,
                       .cluster = "test",
                       .sender = {"n0", 1, "a0"},
                       .range_lo = "",
                       .range_hi = ""};
    uint8_t buf[HS_WIRE_DEFAULT_DATAGRAM];
    size_t len;
    assert_int_equal(hs__wire_encode(&msg, buf, sizeof buf, &len), HS_OK);
    assert_int_equal(hs__core_receive(c, net.now, "x", buf, len), HS_ESELF);
    /* Another cluster. */
    msg.cluster = "other";
    msg.sender.name = "evil";
    assert_int_equal(hs__wire_encode(&msg, buf, sizeof buf, &len), HS_OK);
    assert_int_equal(hs__core_receive(c, net.now, "x", buf, len), HS_ECLUSTER);
    assert_true(st->rejected[-HS_ECLUSTER] >= 1);

    /* A delta about us with versions from the future is refused. */
    hs_wire_entry e = {.key = "role",
                       .value = (const uint8_t *)"x",
                       .value_len = 1,
                       .version = 1000000};
    hs_wire_delta dl = {.name = "n0",
                        .generation = 1,
                        .addr = "",
                        .from_version = 0,
                        .to_version = 1000000,
                        .entries = &e,
                        .n_entries = 1};
    hs_wire_msg push = {.type = HS_WIRE_PUSH,
                        .cluster = "test",
                        .sender = {"evil", 1, "ax"},
                        .range_lo = "",
                        .range_hi = "",
                        .deltas = &dl,
                        .n_deltas = 1};
    assert_int_equal(hs__wire_encode(&push, buf, sizeof buf, &len), HS_OK);
    uint64_t self_before = st->rejected[-HS_ESELF];
    hs__core_receive(c, net.now, "x", buf, len);
    assert_int_equal(st->rejected[-HS_ESELF], self_before + 1);
    assert_false(has_key(&net, 0, "n0", "role", NULL));

    /* Versions beyond any sane counter. */
    e.version = UINT64_C(1) << 60;
    dl.name = "ghost";
    dl.to_version = e.version;
    assert_int_equal(hs__wire_encode(&push, buf, sizeof buf, &len), HS_OK);
    hs__core_receive(c, net.now, "x", buf, len);
    assert_int_equal(tn_state(&net, 0, "ghost"), -1);

    /* The cluster is unharmed. */
    tn_run_for(&net, 10000);
    assert_true(tn_converged(&net));
    tn_free(&net);
}

static void few_members(hs_core_config *cfg, int i)
{
    (void)i;
    cfg->max_members = 4;
}

static void member_limit_is_enforced(void **state)
{
    (void)state;
    sim_net net;
    tn_init(&net, 8, 11, few_members);
    tn_run_for(&net, 30000);
    for (int i = 0; i < 8; i++)
        assert_true(hs__core_member_count(net.nodes[i].core) <= 4);
    assert_true(hs__core_stats_get(net.nodes[0].core)->rejected[-HS_EFULL] > 0);
    tn_free(&net);
}

static void local_writes_are_validated(void **state)
{
    (void)state;
    sim_net net;
    tn_init(&net, 1, 12, NULL);
    hs_core *c = net.nodes[0].core;
    char big[HS_WIRE_MAX_VALUE + 1];
    memset(big, 'v', sizeof big);
    assert_int_equal(hs__core_set(c, "hs.hb", "1", 1, net.now), HS_ERESERVED);
    assert_int_equal(hs__core_set(c, "has space", "1", 1, net.now), HS_EINVAL);
    assert_int_equal(hs__core_set(c, "", "1", 1, net.now), HS_EINVAL);
    assert_int_equal(hs__core_set(c, "k", big, sizeof big, net.now),
                     HS_ETOOBIG);
    assert_int_equal(hs__core_set(c, "k", big, HS_WIRE_MAX_VALUE, net.now),
                     HS_OK);
    assert_int_equal(hs__core_del(c, "absent", net.now), HS_ENOTFOUND);
    assert_int_equal(hs__core_del(c, "k", net.now), HS_OK);
    assert_int_equal(hs__core_del(c, "k", net.now), HS_ENOTFOUND);
    hs_core_config cfg;
    hs__core_config_init(&cfg);
    cfg.name = "bad name";
    hs_core *bad = NULL;
    assert_int_equal(hs__core_new(&cfg, 0, &bad), HS_EINVAL);
    assert_null(bad);
    cfg.name = "ok";
    cfg.max_datagram = 100;
    assert_int_equal(hs__core_new(&cfg, 0, &bad), HS_EINVAL);
    tn_free(&net);
}

/* ---- Modes -------------------------------------------------------------- */

static hs_gossip_mode g_mode;
static void set_mode(hs_core_config *cfg, int i)
{
    (void)i;
    cfg->mode = g_mode;
}

static void every_mode_converges(void **state)
{
    (void)state;
    const hs_gossip_mode modes[] = {HS_MODE_PUSH_PULL, HS_MODE_PULL,
                                    HS_MODE_PUSH};
    for (size_t m = 0; m < 3; m++) {
        g_mode = modes[m];
        sim_net net;
        tn_init(&net, 12, 13 + m, set_mode);
        hs__core_set(net.nodes[5].core, "x", "y", 1, net.now);
        tn_run_until_converged(&net, 60000);
        assert_true(tn_converged(&net));
        for (int i = 0; i < 12; i++)
            assert_true(has_key(&net, i, "n5", "x", "y"));
        tn_free(&net);
    }
}

/* ---- Properties over random seeds --------------------------------------- */

/* Scuttlebutt's invariants, checked after every delivery and tick, in
 * every mode, with tombstone collection and restarts on:
 *
 *   - a node holding member j up to max_version v agrees with j's *current*
 *     state on every entry whose version is <= v (entries overwritten or
 *     collected since cannot be sent any more, so a copy is a gap-free
 *     prefix of the owner's live versions), and holds nothing above v;
 *   - its newest write is at most v and at most the owner's newest write;
 *     its heartbeat is never ahead of the owner's;
 *   - within one generation, none of max_version, the newest write and the
 *     heartbeat ever goes backwards (a reset from a peer that is behind
 *     once rolled a member back, and the test ran push-pull only with
 *     collection off, so it did not see it). */
typedef struct pstate {
    uint64_t gen[TN_MAX][TN_MAX];
    uint64_t seen[TN_MAX][TN_MAX]; /* last max_version i held of j */
    uint64_t wr[TN_MAX][TN_MAX];
    uint64_t hb[TN_MAX][TN_MAX];
    uint64_t obs_gen[TN_MAX]; /* a restarted observer starts afresh */
    uint64_t checks;
    bool failed;
    char why[256];
} pstate;

static void pfail(pstate *ps, const char *msg, int i, int j, uint64_t v)
{
    if (ps->failed)
        return;
    ps->failed = true;
    snprintf(ps->why, sizeof ps->why, "%s (node %d, member %d, version %llu)",
             msg, i, j, (unsigned long long)v);
}

static const char *const pkeys[] = {"a", "b", "c", "d", "e", "f"};

/* Node i's copy m of member j against j's own record. */
static void check_copy(pstate *ps, const hs_core *oc, const hs_core *ic,
                       const char *name, const hs_member_versions *own,
                       const hs_member_versions *m, int i, int j)
{
    uint64_t v = m->max_version;
    hs_core_entry o, e;
    for (uint32_t k = 0; hs__core_member_entry(oc, name, k, &o) == HS_OK; k++) {
        if (o.version > v)
            continue;
        /* Each node collects tombstones on its own clock. */
        if (o.tombstone && o.version <= m->gc_version)
            continue;
        if (hs__core_member_entry_find(ic, name, o.key, &e) != HS_OK ||
            e.version != o.version || e.tombstone != o.tombstone ||
            e.len != o.len || (o.len && memcmp(e.value, o.value, o.len) != 0))
            pfail(ps, "gap: misses a live entry at or below max_version", i, j,
                  v);
    }
    for (uint32_t k = 0; hs__core_member_entry(ic, name, k, &e) == HS_OK; k++)
        if (e.version > v)
            pfail(ps, "holds an entry above max_version", i, j, v);
    if (m->wr_version > v || m->wr_version > own->wr_version)
        pfail(ps, "newest write above max_version or the owner's", i, j,
              m->wr_version);
    if (m->hb_version > own->hb_version)
        pfail(ps, "heartbeat ahead of the owner's", i, j, m->hb_version);
}

static void check_prefix(sim_net *net, void *arg)
{
    pstate *ps = arg;
    for (int j = 0; j < (int)net->n && !ps->failed; j++) {
        if (!tn_up(net, j))
            continue;
        const hs_core *oc = net->nodes[j].core;
        const char *name = net->nodes[j].name;
        hs_member_versions own, mv, *m = &mv;
        if (hs__core_member_versions(oc, name, &own) != HS_OK) {
            pfail(ps, "the owner does not know itself", j, j, 0);
            return;
        }
        for (int i = 0; i < (int)net->n; i++) {
            if (i == j || !tn_up(net, i))
                continue;
            if (ps->obs_gen[i] != net->nodes[i].generation) {
                ps->obs_gen[i] = net->nodes[i].generation;
                memset(ps->gen[i], 0, sizeof ps->gen[i]);
            }
            const hs_core *ic = net->nodes[i].core;
            if (hs__core_member_versions(ic, name, m) != HS_OK)
                continue; /* unknown, or reaped */
            if (m->generation != ps->gen[i][j]) {
                if (m->generation < ps->gen[i][j])
                    pfail(ps, "generation went backwards", i, j, m->generation);
                ps->gen[i][j] = m->generation;
                ps->seen[i][j] = ps->wr[i][j] = ps->hb[i][j] = 0;
            }
            if (m->max_version < ps->seen[i][j])
                pfail(ps, "version went backwards", i, j, m->max_version);
            if (m->wr_version < ps->wr[i][j])
                pfail(ps, "newest write went backwards", i, j, m->wr_version);
            if (m->hb_version < ps->hb[i][j])
                pfail(ps, "heartbeat went backwards", i, j, m->hb_version);
            ps->seen[i][j] = m->max_version;
            ps->wr[i][j] = m->wr_version;
            ps->hb[i][j] = m->hb_version;
            ps->checks++;
            /* Against the owner's state only when both are the same
             * incarnation (a restarted owner starts from nothing). */
            if (m->generation == own.generation)
                check_copy(ps, oc, ic, name, &own, m, i, j);
        }
    }
}

static hs_gossip_mode prop_mode;

static void prop_tweak(hs_core_config *cfg, int i)
{
    (void)i;
    cfg->mode = prop_mode;
    cfg->max_datagram = HS_WIRE_MIN_DATAGRAM;
    /* Deleted keys are collected a few seconds after they are learned, so
     * peers fall behind collections and need resets all the time. */
    cfg->tombstone_gc_ms = 4000;
    cfg->phi_threshold = 0; /* membership churn is not tested */
}

static void prefix_property_run(uint64_t seed)
{
    static pstate ps;
    memset(&ps, 0, sizeof ps);
    sim_net net;
    tn_init(&net, 8, seed, prop_tweak);
    net.link.loss = 0.2;
    net.link.dup = 0.1;
    net.link.delay_ms = 1;
    net.link.jitter_ms = 1499; /* 1..1500 ms: reorders across rounds */
    tn_after_step(&net, check_prefix, &ps);
    uint64_t r = seed;
    uint64_t gens[8];
    for (int i = 0; i < 8; i++)
        gens[i] = net.nodes[i].generation;
    for (int step = 0; step < 60 && !ps.failed; step++) {
        tn_run_for(&net, 500 + (r >> 33) % 1500);
        r = r * 6364136223846793005ULL + 1442695040888963407ULL;
        int who = (int)((r >> 33) % 8);
        hs_core *c = net.nodes[who].core;
        const char *key = pkeys[(r >> 40) % 6];
        if (step % 17 == 16 && who != 0) {
            /* A restart: a new incarnation, its old state gone. */
            tn_crash(&net, who);
            tn_run_for(&net, 200);
            tn_start(&net, who, ++gens[who] + 1000);
            gens[who] += 1000;
        } else if ((r >> 50) % 4 == 0) {
            hs__core_del(c, key, net.now); /* may be absent: fine */
        } else {
            /* 40..100 bytes: six keys outgrow a 512-byte datagram, so
             * deltas are cut all the time. */
            char value[112];
            int len = snprintf(value, sizeof value, "v%d-%.*s", step,
                               40 + (int)((r >> 20) % 61),
                               "012345678901234567890123456789012345678901"
                               "234567890123456789012345678901234567890123"
                               "45678901234567890123");
            assert_int_equal(hs__core_set(c, key, value, (size_t)len, net.now),
                             HS_OK);
        }
    }
    if (ps.failed)
        fail_msg("mode %d seed %llu: %s", (int)prop_mode,
                 (unsigned long long)seed, ps.why);
    assert_true(ps.checks > 1000);
    /* Heal the network: the views converge. */
    net.link.loss = 0;
    net.link.dup = 0;
    net.link.jitter_ms = 4; /* 1..5 ms */
    tn_run_until_converged(&net, 120000);
    if (!tn_converged(&net))
        fail_msg("mode %d seed %llu: no convergence after healing",
                 (int)prop_mode, (unsigned long long)seed);
    if (ps.failed)
        fail_msg("mode %d seed %llu: %s", (int)prop_mode,
                 (unsigned long long)seed, ps.why);
    tn_free(&net);
}

static void prefix_property_over_random_seeds(void **state)
{
    (void)state;
    static const hs_gossip_mode modes[] = {HS_MODE_PUSH_PULL, HS_MODE_PULL,
                                           HS_MODE_PUSH};
    for (size_t k = 0; k < 3; k++) {
        prop_mode = modes[k];
        for (uint64_t seed = 100; seed < 112; seed++)
            prefix_property_run(seed);
    }
}

/* A reset older than what the receiver holds is refused: member x at
 * version 5 with a=new, then a reset from a peer that is behind
 * (to_version 3, a=old), as push mode sends full copies once gc_version
 * > 0, must leave x at 5 with a=new and emit no update. */
static void stale_reset_does_not_roll_back(void **state)
{
    (void)state;
    hs_core_config cfg;
    hs__core_config_init(&cfg);
    cfg.name = "me";
    cfg.addr = "a0";
    cfg.heartbeat_interval_ms = 0;
    hs_core *c;
    assert_int_equal(hs__core_new(&cfg, 1000, &c), HS_OK);
    hs_wire_entry newer[] = {{"a", (const uint8_t *)"new", 3, 5, false}};
    hs_wire_delta d = {.name = "x",
                       .generation = 7,
                       .addr = "ax",
                       .to_version = 5,
                       .gc_version = 2,
                       .entries = newer,
                       .n_entries = 1};
    hs_wire_msg msg = {.type = HS_WIRE_ACK,
                       .cluster = "default",
                       .sender = {"peer", 1, ""},
                       .range_lo = "",
                       .range_hi = "",
                       .deltas = &d,
                       .n_deltas = 1};
    uint8_t buf[HS_WIRE_DEFAULT_DATAGRAM];
    size_t len;
    assert_int_equal(hs__wire_encode(&msg, buf, sizeof buf, &len), HS_OK);
    assert_int_equal(hs__core_receive(c, 1001, "ap", buf, len), HS_OK);
    hs_core_event ev;
    while (hs__core_next_event(c, &ev))
        ;
    hs_wire_entry older[] = {{"a", (const uint8_t *)"old", 3, 3, false}};
    d.to_version = 3;
    d.reset = true;
    d.entries = older;
    assert_int_equal(hs__wire_encode(&msg, buf, sizeof buf, &len), HS_OK);
    assert_int_equal(hs__core_receive(c, 1002, "ap", buf, len), HS_OK);
    hs_member_info info;
    assert_int_equal(hs__core_member_get(c, "x", 1002, &info), HS_OK);
    assert_int_equal(info.max_version, 5);
    const char *k;
    const uint8_t *v;
    size_t vl;
    assert_int_equal(hs__core_member_key(c, "x", 0, &k, &v, &vl), HS_OK);
    assert_int_equal(vl, 3);
    assert_memory_equal(v, "new", 3);
    while (hs__core_next_event(c, &ev))
        assert_int_not_equal(ev.type, HS_EVENT_UPDATE);
    assert_true(hs__core_stats_get(c)->rejected[-HS_ESTALE] >= 1);
    hs__core_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_nodes_converge),
        cmocka_unit_test(update_reaches_all_of_20),
        cmocka_unit_test(joins_spread_in_early_rounds),
        cmocka_unit_test(truncation_still_converges),
        cmocka_unit_test(crash_is_suspected_then_dead_everywhere),
        cmocka_unit_test(leave_is_left_not_fail),
        cmocka_unit_test(early_silence_is_still_convicted),
        cmocka_unit_test(restart_replaces_old_incarnation),
        cmocka_unit_test(duplicate_name_is_refuted),
        cmocka_unit_test(stale_generation_recovers),
        cmocka_unit_test(newcomer_learns_the_dead_as_dead),
        cmocka_unit_test(leave_after_partition_is_no_recovery),
        cmocka_unit_test(reaped_members_stay_gone),
        cmocka_unit_test(tombstones_collected_and_lagging_peer_resets),
        cmocka_unit_test(pause_does_not_convict),
        cmocka_unit_test(pause_without_guard_convicts),
        cmocka_unit_test(hostile_datagrams_are_counted_not_fatal),
        cmocka_unit_test(member_limit_is_enforced),
        cmocka_unit_test(local_writes_are_validated),
        cmocka_unit_test(every_mode_converges),
        cmocka_unit_test(prefix_property_over_random_seeds),
        cmocka_unit_test(stale_reset_does_not_roll_back),
    };
    return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
