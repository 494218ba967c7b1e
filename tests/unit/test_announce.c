/*
 * test_announce.c — user events and force-leave (membership/announce.c),
 * over real cores on the simulator's virtual network (sim/net.c, hs_vnet,
 * through the helpers of tn.h), read only through membership/core.h:
 * exactly-once delivery under loss and duplication, no replay to a
 * newcomer (even when its first copy of the sender is cut short) or after
 * a restart, lost announcements counted, force-leave turning the dead
 * left everywhere and a later heartbeat winning; plus the Announcement
 * codec.
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

static uint64_t run_until_converged(sim_net *net, uint64_t limit_ms)
{
    uint64_t took = tn_run_until_converged(net, limit_ms);
    assert_true(tn_converged(net));
    return took;
}

/* User events node i reported with `name` from `origin` (NULL: any). */
static int count_user(const sim_net *net, int i, const char *origin,
                      const char *name)
{
    int n = 0;
    const tn_log *l = tn_events(net, i);
    for (size_t k = 0; k < l->n; k++) {
        const hs_core_event *ev = &l->ev[k];
        if (ev->type != HS_EVENT_USER)
            continue;
        assert_non_null(ev->user);
        if ((!origin || strcmp(ev->name, origin) == 0) &&
            (!name || strcmp(ev->user->name, name) == 0))
            n++;
    }
    return n;
}

static const hs_core_user *find_user(const sim_net *net, int i,
                                     const char *origin, const char *name)
{
    const tn_log *l = tn_events(net, i);
    for (size_t k = 0; k < l->n; k++) {
        const hs_core_event *ev = &l->ev[k];
        if (ev->type == HS_EVENT_USER && strcmp(ev->name, origin) == 0 &&
            strcmp(ev->user->name, name) == 0)
            return ev->user;
    }
    return NULL;
}

static const hs_core_stats *stats(const sim_net *net, int i)
{
    return hs__core_stats_get(net->nodes[i].core);
}

/* No announcement slot ever shows among a member's keys. */
static void no_slot_keys(const sim_net *net, int i, const char *member)
{
    for (uint32_t k = 0;; k++) {
        const char *key;
        const uint8_t *v;
        size_t len;
        if (hs__core_member_key(net->nodes[i].core, member, k, &key, &v,
                                &len) != HS_OK)
            break;
        assert_true(strncmp(key, "hs.", 3) != 0);
    }
}

/* ---- User events -------------------------------------------------------- */

static void exactly_once_under_loss(void **state)
{
    (void)state;
    enum { N = 8, SENDERS = 4, PER = 6 };
    sim_net net;
    tn_init(&net, N, 7, NULL);
    run_until_converged(&net, 30000);
    net.link.loss = 0.2;
    net.link.dup = 0.1;
    char name[32], payload[64];
    for (int r = 0; r < PER; r++) {
        for (int s = 0; s < SENDERS; s++) {
            snprintf(name, sizeof name, "ev-%d", r);
            int len =
                snprintf(payload, sizeof payload, "from n%d round %d", s, r);
            assert_int_equal(hs__core_user_event(net.nodes[s].core, name,
                                                 payload, (size_t)len, net.now),
                             HS_OK);
        }
        tn_run_for(&net, 700);
    }
    /* Long enough for every slot to expire and be deleted too. */
    tn_run_for(&net, 90000);
    for (int i = 0; i < N; i++) {
        for (int s = 0; s < SENDERS; s++) {
            char origin[8];
            snprintf(origin, sizeof origin, "n%d", s);
            for (int r = 0; r < PER; r++) {
                snprintf(name, sizeof name, "ev-%d", r);
                assert_int_equal(count_user(&net, i, origin, name), 1);
                const hs_core_user *u = find_user(&net, i, origin, name);
                int len = snprintf(payload, sizeof payload, "from n%d round %d",
                                   s, r);
                assert_int_equal(u->len, (size_t)len);
                assert_memory_equal(u->payload, payload, u->len);
                assert_int_equal(u->payload[u->len], 0);
                assert_int_equal(u->local, i == s);
                assert_int_equal(u->seq, (uint64_t)r + 1);
            }
        }
        assert_int_equal(count_user(&net, i, NULL, NULL), SENDERS * PER);
        assert_int_equal(stats(&net, i)->announcements_lost, 0);
        assert_int_equal(
            stats(&net, i)->user_events_delivered,
            (uint64_t)(i < SENDERS ? (SENDERS - 1) * PER : SENDERS * PER));
        for (int j = 0; j < N; j++)
            no_slot_keys(&net, i, net.nodes[j].name);
    }
    /* Lamport time: round r+1 was sent after round r was seen everywhere
     * (700 ms apart, loss aside), so it is later at every sender. */
    for (int s = 0; s < SENDERS; s++) {
        char origin[8];
        snprintf(origin, sizeof origin, "n%d", s);
        const hs_core_user *a = find_user(&net, 0, origin, "ev-0");
        const hs_core_user *b = find_user(&net, 0, origin, "ev-5");
        assert_true(b->ltime > a->ltime);
    }
    /* Every slot was deleted after its minute, and the deletes spread like
     * any write. */
    net.link.loss = net.link.dup = 0;
    run_until_converged(&net, 30000);
    for (int s = 0; s < SENDERS; s++) {
        hs_core_entry e;
        for (uint32_t k = 0;
             hs__core_member_entry(net.nodes[s].core, net.nodes[s].name, k,
                                   &e) == HS_OK;
             k++)
            assert_true(e.tombstone);
    }
    tn_free(&net);
}

/* A node that restarts, or joins late, sees the recent events as part of
 * the state it learns: it reports none of them, only what comes after. */
static void no_replay_to_newcomers_or_after_restart(void **state)
{
    (void)state;
    sim_net net;
    tn_init(&net, 5, 11, NULL);
    tn_crash(&net, 4); /* joins later */
    run_until_converged(&net, 30000);
    assert_int_equal(
        hs__core_user_event(net.nodes[1].core, "deploy", "v1", 2, net.now),
        HS_OK);
    tn_run_for(&net, 10000);
    for (int i = 0; i < 4; i++)
        assert_int_equal(count_user(&net, i, "n1", "deploy"), 1);

    tn_start(&net, 3, 2); /* restart, within the event's minute */
    tn_start(&net, 4, 1); /* newcomer */
    run_until_converged(&net, 30000);
    tn_run_for(&net, 5000);
    assert_int_equal(count_user(&net, 3, "n1", "deploy"), 1); /* the old one */
    assert_int_equal(count_user(&net, 4, "n1", NULL), 0);
    assert_int_equal(
        hs__core_user_event(net.nodes[1].core, "deploy", "v2", 2, net.now),
        HS_OK);
    tn_run_for(&net, 10000);
    for (int i = 0; i < 5; i++) {
        const hs_core_user *u = NULL;
        int n = 0;
        const tn_log *l = tn_events(&net, i);
        for (size_t k = 0; k < l->n; k++)
            if (l->ev[k].type == HS_EVENT_USER) {
                u = l->ev[k].user;
                n++;
            }
        assert_int_equal(n, i == 3 ? 2 : i == 4 ? 1 : 2);
        assert_memory_equal(u->payload, "v2", 2);
        assert_int_equal(stats(&net, i)->announcements_lost, 0);
    }
    tn_free(&net);
}

/* Cuts node i off both ways (or joins it again). */
static void cut_off(sim_net *net, int i, bool cut)
{
    tn_isolate(net, i, cut, cut);
}

/* A node that falls more than a ring of slots behind one sender misses
 * the oldest of its events: they are counted, never delivered late or
 * twice, and everything it did get arrives once. */
static void lost_announcements_are_counted(void **state)
{
    (void)state;
    enum { MORE = 40 };
    sim_net net;
    tn_init(&net, 4, 13, NULL);
    run_until_converged(&net, 30000);
    assert_int_equal(
        hs__core_user_event(net.nodes[1].core, "tick", "0", 1, net.now), HS_OK);
    tn_run_for(&net, 5000);
    assert_int_equal(count_user(&net, 3, "n1", "tick"), 1);

    cut_off(&net, 3, true);
    int sent = 0;
    while (sent < MORE) {
        hs_err err =
            hs__core_user_event(net.nodes[1].core, "tick", "x", 1, net.now);
        if (err == HS_OK)
            sent++;
        else
            assert_int_equal(err, HS_ERATE);
        tn_run_for(&net, 50);
    }
    assert_true(stats(&net, 1)->user_events_rate_limited > 0);
    tn_run_for(&net, 3000);
    cut_off(&net, 3, false);
    tn_run_for(&net, 30000);
    assert_int_equal(tn_state(&net, 3, "n1"), HS_STATE_ALIVE);
    uint64_t got = stats(&net, 3)->user_events_delivered - 1;
    uint64_t lost = stats(&net, 3)->announcements_lost;
    assert_int_equal(got + lost, MORE);
    assert_true(lost >= MORE - HS_AN_SLOTS);
    assert_int_equal(count_user(&net, 3, "n1", "tick"), 1 + (int)got);
    /* The nodes that stayed connected lost nothing. */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(count_user(&net, i, "n1", "tick"), 1 + MORE);
        assert_int_equal(stats(&net, i)->announcements_lost, 0);
    }
    tn_free(&net);
}

static void fast_gc(hs_core_config *cfg, int i)
{
    (void)i;
    cfg->tombstone_gc_ms = 5000;
}

/* A peer that missed a tombstone collection gets the sender's whole state
 * again (a reset): the slots it already had are applied a second time,
 * and delivered nothing twice. */
static void reset_copy_delivers_nothing_twice(void **state)
{
    (void)state;
    sim_net net;
    tn_init(&net, 4, 41, fast_gc);
    hs_core *owner = net.nodes[1].core;
    assert_int_equal(hs__core_set(owner, "a", "1", 1, net.now), HS_OK);
    run_until_converged(&net, 30000);
    assert_int_equal(hs__core_user_event(owner, "once", "x", 1, net.now),
                     HS_OK);
    tn_run_for(&net, 3000);
    assert_int_equal(count_user(&net, 3, "n1", "once"), 1);
    cut_off(&net, 3, true);
    assert_int_equal(hs__core_del(owner, "a", net.now), HS_OK);
    tn_run_for(&net, 20000); /* > tombstone_gc_ms + the sweep period */
    cut_off(&net, 3, false);
    tn_run_for(&net, 20000); /* within the event's minute */
    uint64_t resets = 0;
    for (int i = 0; i < 3; i++)
        resets += stats(&net, i)->resets_sent;
    assert_true(resets > 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(count_user(&net, i, "n1", "once"), 1);
    tn_free(&net);
}

static void small_datagram(hs_core_config *cfg, int i)
{
    (void)i;
    cfg->max_datagram = 512;
}

/* Ten keys long enough that a member's first copy in 512-byte datagrams
 * needs two of them. */
static void write_long_keys(const sim_net *net, hs_core *owner)
{
    char key[16], val[64];
    for (int k = 0; k < 10; k++) {
        snprintf(key, sizeof key, "k%d", k);
        int len = snprintf(val, sizeof val, "%d-%s", k,
                           "a-value-long-enough-to-need-two-datagrams");
        assert_int_equal(hs__core_set(owner, key, val, (size_t)len, net->now),
                         HS_OK);
    }
}

/* A newcomer whose first copy of a member is cut short (small datagrams,
 * keys written before the event fill the first one) gets the event's slot
 * in a later datagram: still part of the state it learned, not news. */
static void no_replay_when_first_copy_is_cut_short(void **state)
{
    (void)state;
    sim_net net;
    tn_init(&net, 3, 47, small_datagram);
    tn_crash(&net, 2); /* joins later */
    hs_core *owner = net.nodes[1].core;
    write_long_keys(&net, owner);
    run_until_converged(&net, 30000);
    assert_int_equal(hs__core_user_event(owner, "deploy", "v1", 2, net.now),
                     HS_OK);
    tn_run_for(&net, 5000);
    assert_int_equal(count_user(&net, 0, "n1", "deploy"), 1);
    tn_start(&net, 2, 1); /* within the event's minute */
    run_until_converged(&net, 30000);
    tn_run_for(&net, 5000);
    uint64_t truncated = 0; /* the copies were cut short */
    for (int i = 0; i < 3; i++)
        truncated += stats(&net, i)->truncated_msgs;
    assert_true(truncated > 0);
    assert_int_equal(count_user(&net, 2, "n1", NULL), 0);
    assert_int_equal(stats(&net, 2)->announcements_lost, 0);
    /* What comes after is news. */
    assert_int_equal(hs__core_user_event(owner, "deploy", "v2", 2, net.now),
                     HS_OK);
    tn_run_for(&net, 5000);
    assert_int_equal(count_user(&net, 2, "n1", "deploy"), 1);
    const hs_core_user *u = find_user(&net, 2, "n1", "deploy");
    assert_non_null(u);
    assert_memory_equal(u->payload, "v2", 2);
    tn_free(&net);
}

/* n1 beats rarely: its events are newer than any heartbeat of it that
 * the others hold, and small datagrams cut a newcomer's first copy short. */
static void slow_beats_small_datagram(hs_core_config *cfg, int i)
{
    cfg->max_datagram = 512;
    if (i == 1)
        cfg->heartbeat_interval_ms = 30000;
}

/* A first copy cut short below events newer than the sender's heartbeat of
 * their origin: the delta's held_version says how far that past reaches,
 * so the newcomer reports none of them. */
static void no_replay_when_events_outrun_the_heartbeat(void **state)
{
    (void)state;
    sim_net net;
    tn_init(&net, 3, 59, slow_beats_small_datagram);
    tn_crash(&net, 2); /* joins later */
    hs_core *owner = net.nodes[1].core;
    write_long_keys(&net, owner);
    run_until_converged(&net, 30000);
    for (int e = 0; e < 12; e++)
        assert_int_equal(hs__core_user_event(owner, "burst", "x", 1, net.now),
                         HS_OK);
    tn_run_for(&net, 3000);
    assert_int_equal(count_user(&net, 0, "n1", "burst"), 12);
    tn_start(&net, 2, 1);
    tn_run_for(&net, 8000);
    assert_int_equal(tn_state(&net, 2, "n1") >= 0, 1);
    uint64_t truncated = 0;
    for (int i = 0; i < 3; i++)
        truncated += stats(&net, i)->truncated_msgs;
    assert_true(truncated > 0);
    assert_int_equal(count_user(&net, 2, "n1", NULL), 0);
    tn_free(&net);
}

static void user_events_are_validated(void **state)
{
    (void)state;
    sim_net net;
    tn_init(&net, 2, 17, NULL);
    run_until_converged(&net, 30000);
    hs_core *c = net.nodes[0].core;
    uint8_t big[HS_WIRE_MAX_PAYLOAD + 1];
    memset(big, 'p', sizeof big);
    assert_int_equal(hs__core_user_event(c, "", "x", 1, net.now), HS_EINVAL);
    assert_int_equal(hs__core_user_event(c, NULL, "x", 1, net.now), HS_EINVAL);
    assert_int_equal(hs__core_user_event(c, "a b", "x", 1, net.now), HS_EINVAL);
    assert_int_equal(hs__core_user_event(c, "x", NULL, 1, net.now), HS_EINVAL);
    char longname[HS_WIRE_MAX_NAME + 2];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    assert_int_equal(hs__core_user_event(c, longname, "x", 1, net.now),
                     HS_EINVAL);
    longname[HS_WIRE_MAX_NAME] = 0;
    assert_int_equal(hs__core_user_event(c, longname, big, sizeof big, net.now),
                     HS_ETOOBIG);
    assert_int_equal(
        hs__core_user_event(c, longname, big, sizeof big - 1, net.now), HS_OK);
    assert_int_equal(hs__core_user_event(c, "empty", NULL, 0, net.now), HS_OK);
    /* The burst, then the rate limit. */
    int ok = 2;
    while (hs__core_user_event(c, "burst", "x", 1, net.now) == HS_OK)
        ok++;
    assert_int_equal(ok, 16);
    assert_int_equal(hs__core_user_event(c, "burst", "x", 1, net.now),
                     HS_ERATE);
    assert_int_equal(hs__core_force_leave(c, "n1", true, net.now), HS_ERATE);
    tn_run_for(&net, 600); /* two more tokens */
    assert_int_equal(hs__core_user_event(c, "burst", "x", 1, net.now), HS_OK);
    assert_int_equal(hs__core_user_event(c, "burst", "x", 1, net.now), HS_OK);
    assert_int_equal(hs__core_user_event(c, "burst", "x", 1, net.now),
                     HS_ERATE);
    assert_int_equal(stats(&net, 0)->user_events_sent, 18);
    tn_run_for(&net, 10000);
    assert_int_equal(count_user(&net, 1, "n0", NULL), 18);
    const hs_core_user *u = find_user(&net, 1, "n0", longname);
    assert_int_equal(u->len, HS_WIRE_MAX_PAYLOAD);
    /* Slots are not keys: user keys are still limited by max_keys alone. */
    hs_member_info info;
    assert_int_equal(
        hs__core_member_get(net.nodes[1].core, "n0", net.now, &info), HS_OK);
    assert_int_equal(info.n_keys, 0);
    assert_int_equal(hs__core_leave(c, net.now), HS_OK);
    assert_int_equal(hs__core_user_event(c, "late", "x", 1, net.now),
                     HS_ESTATE);
    tn_free(&net);

    /* An event that cannot fit the datagram is refused up front. */
    tn_init(&net, 1, 19, small_datagram);
    assert_int_equal(hs__core_user_event(net.nodes[0].core, "x", big,
                                         HS_WIRE_MAX_PAYLOAD, net.now),
                     HS_ETOOBIG);
    assert_int_equal(
        hs__core_user_event(net.nodes[0].core, "x", big, 100, net.now), HS_OK);
    tn_free(&net);
}

/* ---- Force-leave -------------------------------------------------------- */

static void fast_reap(hs_core_config *cfg, int i)
{
    (void)i;
    cfg->reap_left_after_ms = 20000;
}

static void wait_state_all(sim_net *net, int skip, const char *member, int want,
                           uint64_t limit_ms)
{
    uint64_t start = net->now;
    for (;;) {
        bool all = true;
        for (int i = 0; i < (int)net->n; i++)
            if (i != skip && tn_up(net, i) && tn_state(net, i, member) != want)
                all = false;
        if (all)
            return;
        assert_true(net->now - start < limit_ms);
        tn_run_for(net, 100);
    }
}

static void force_leave_turns_dead_into_left(void **state)
{
    (void)state;
    sim_net net;
    tn_init(&net, 6, 23, fast_reap);
    run_until_converged(&net, 30000);
    tn_run_for(&net, 10000);
    tn_crash(&net, 5);
    wait_state_all(&net, 5, "n5", HS_STATE_DEAD, 60000);
    net.link.loss = 0.1;
    assert_int_equal(
        hs__core_force_leave(net.nodes[2].core, "n5", false, net.now), HS_OK);
    assert_int_equal(tn_state(&net, 2, "n5"), HS_STATE_LEFT);
    wait_state_all(&net, 5, "n5", HS_STATE_LEFT, 30000);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(tn_count_events(&net, i, HS_EVENT_LEAVE, "n5"), 1);
        assert_int_equal(stats(&net, i)->force_leaves_applied, 1);
    }
    assert_int_equal(stats(&net, 2)->force_leaves_sent, 1);
    /* Already left: nothing more to say. */
    assert_int_equal(
        hs__core_force_leave(net.nodes[2].core, "n5", false, net.now), HS_OK);
    assert_int_equal(stats(&net, 2)->force_leaves_sent, 1);
    /* Reaped like a graceful leave, after reap_left_after_ms. */
    tn_run_for(&net, 30000);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(tn_state(&net, i, "n5"), -1);
        assert_int_equal(tn_count_events(&net, i, HS_EVENT_REAP, "n5"), 1);
    }
    assert_int_equal(
        hs__core_force_leave(net.nodes[2].core, "n5", false, net.now),
        HS_ENOTFOUND);
    tn_free(&net);
}

static void force_leave_of_live_member(void **state)
{
    (void)state;
    sim_net net;
    tn_init(&net, 4, 29, NULL);
    run_until_converged(&net, 30000);
    hs_core *c = net.nodes[0].core;
    assert_int_equal(hs__core_force_leave(c, "n1", false, net.now), HS_ESTATE);
    assert_int_equal(hs__core_force_leave(c, "nobody", false, net.now),
                     HS_ENOTFOUND);
    assert_int_equal(hs__core_force_leave(c, "n0", true, net.now), HS_EINVAL);
    assert_int_equal(hs__core_force_leave(c, "bad name", true, net.now),
                     HS_EINVAL);
    assert_int_equal(stats(&net, 0)->force_leaves_sent, 0);
    /* Forced: it goes left here, and n1, hearing of it, beats at once and
     * comes back everywhere. */
    assert_int_equal(hs__core_force_leave(c, "n1", true, net.now), HS_OK);
    assert_int_equal(tn_state(&net, 0, "n1"), HS_STATE_LEFT);
    wait_state_all(&net, -1, "n1", HS_STATE_ALIVE, 30000);
    assert_true(tn_count_events(&net, 0, HS_EVENT_RECOVER, "n1") >= 1);
    assert_true(stats(&net, 1)->refuted >= 1);
    tn_run_for(&net, 20000);
    assert_true(tn_converged(&net));
    tn_free(&net);
}

/* A newcomer that learns of a force-left member from nodes that hold it
 * left takes it for dead, not alive: no join, never listed alive. */
static void newcomer_learns_force_left_as_dead(void **state)
{
    (void)state;
    sim_net net;
    tn_init(&net, 5, 43, NULL);
    tn_crash(&net, 4); /* joins later */
    run_until_converged(&net, 30000);
    tn_run_for(&net, 5000);
    tn_crash(&net, 3);
    wait_state_all(&net, 3, "n3", HS_STATE_DEAD, 60000);
    assert_int_equal(
        hs__core_force_leave(net.nodes[0].core, "n3", false, net.now), HS_OK);
    wait_state_all(&net, 3, "n3", HS_STATE_LEFT, 30000);
    /* Past the slot's minute: the newcomer can only learn of n3 from the
     * others' copies of it. */
    tn_run_for(&net, 70000);
    tn_start(&net, 4, 1);
    tn_run_for(&net, 20000);
    int st = tn_state(&net, 4, "n3");
    assert_true(st == HS_STATE_DEAD || st == HS_STATE_LEFT);
    assert_int_equal(tn_count_events(&net, 4, HS_EVENT_JOIN, "n3"), 0);
    assert_int_equal(tn_count_events(&net, 4, HS_EVENT_JOIN, "n1"), 1);
    tn_free(&net);
}

/* A newcomer that arrives while the force-leave's slot is still held
 * learns it on first sight: the member is left there too, not dead. */
static void newcomer_within_the_slot_learns_left(void **state)
{
    (void)state;
    sim_net net;
    tn_init(&net, 5, 47, NULL);
    tn_crash(&net, 4); /* joins later */
    run_until_converged(&net, 30000);
    tn_run_for(&net, 5000);
    tn_crash(&net, 3);
    wait_state_all(&net, 3, "n3", HS_STATE_DEAD, 60000);
    assert_int_equal(
        hs__core_force_leave(net.nodes[0].core, "n3", false, net.now), HS_OK);
    wait_state_all(&net, 3, "n3", HS_STATE_LEFT, 30000);
    tn_start(&net, 4, 1); /* well within the slot's minute */
    tn_run_for(&net, 15000);
    assert_int_equal(tn_state(&net, 4, "n3"), HS_STATE_LEFT);
    assert_int_equal(tn_count_events(&net, 4, HS_EVENT_JOIN, "n3"), 0);
    tn_free(&net);
}

/* A force-leave made from a stale view loses to a newer heartbeat: n0,
 * cut off, holds n4 dead at an old heartbeat and force-leaves it; the
 * members that kept hearing n4 never mark it left. */
static void stale_force_leave_loses(void **state)
{
    (void)state;
    sim_net net;
    tn_init(&net, 5, 53, NULL);
    run_until_converged(&net, 30000);
    tn_run_for(&net, 5000);
    cut_off(&net, 0, true);
    uint64_t start = net.now;
    while (tn_state(&net, 0, "n4") != HS_STATE_DEAD) {
        assert_true(net.now - start < 60000);
        tn_run_for(&net, 100);
    }
    assert_int_equal(
        hs__core_force_leave(net.nodes[0].core, "n4", false, net.now), HS_OK);
    tn_run_for(&net, 5000); /* n4's heartbeat moves on meanwhile */
    cut_off(&net, 0, false);
    tn_run_for(&net, 30000);
    for (int i = 1; i < 4; i++) {
        assert_int_equal(tn_count_events(&net, i, HS_EVENT_LEAVE, "n4"), 0);
        assert_int_equal(tn_state(&net, i, "n4"), HS_STATE_ALIVE);
    }
    assert_int_equal(tn_state(&net, 0, "n4"), HS_STATE_ALIVE);
    tn_free(&net);
}

/* A member cut off long enough to be held dead and then force-left comes
 * back when the partition heals: its own later heartbeat wins. */
static void later_heartbeat_wins(void **state)
{
    (void)state;
    sim_net net;
    tn_init(&net, 5, 31, NULL);
    run_until_converged(&net, 30000);
    tn_run_for(&net, 10000);
    cut_off(&net, 4, true);
    wait_state_all(&net, 4, "n4", HS_STATE_DEAD, 60000);
    assert_int_equal(
        hs__core_force_leave(net.nodes[0].core, "n4", false, net.now), HS_OK);
    wait_state_all(&net, 4, "n4", HS_STATE_LEFT, 30000);
    cut_off(&net, 4, false);
    wait_state_all(&net, -1, "n4", HS_STATE_ALIVE, 60000);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(tn_count_events(&net, i, HS_EVENT_LEAVE, "n4"), 1);
        assert_true(tn_count_events(&net, i, HS_EVENT_RECOVER, "n4") >= 1);
    }
    run_until_converged(&net, 60000);
    tn_free(&net);
}

/* A graceful leave after a force-leave makes it final: the member ends
 * left and stays left. (Its last heartbeats, newer than the force-leave's,
 * may arrive before its leave and bring it back for a moment: a truthful
 * recover, then leave.) */
static void own_leave_after_force_leave(void **state)
{
    (void)state;
    sim_net net;
    tn_init(&net, 3, 37, NULL);
    run_until_converged(&net, 30000);
    cut_off(&net, 2, true);
    wait_state_all(&net, 2, "n2", HS_STATE_DEAD, 60000);
    assert_int_equal(
        hs__core_force_leave(net.nodes[0].core, "n2", false, net.now), HS_OK);
    wait_state_all(&net, 2, "n2", HS_STATE_LEFT, 30000);
    assert_int_equal(hs__core_leave(net.nodes[2].core, net.now), HS_OK);
    cut_off(&net, 2, false);
    tn_run_for(&net, 20000);
    int recovers[2];
    for (int i = 0; i < 2; i++) {
        assert_int_equal(tn_state(&net, i, "n2"), HS_STATE_LEFT);
        recovers[i] = tn_count_events(&net, i, HS_EVENT_RECOVER, "n2");
        assert_int_equal(tn_count_events(&net, i, HS_EVENT_LEAVE, "n2"),
                         1 + recovers[i]);
    }
    tn_run_for(&net, 30000);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(tn_state(&net, i, "n2"), HS_STATE_LEFT);
        assert_int_equal(tn_count_events(&net, i, HS_EVENT_RECOVER, "n2"),
                         recovers[i]);
    }
    tn_free(&net);
}

/* ---- The codec ---------------------------------------------------------- */

static void codec_round_trip_and_bounds(void **state)
{
    (void)state;
    hs_wire_announce a = {.kind = HS_WIRE_AN_USER, .seq = 7, .ltime = 99};
    memset(a.name, 'n', HS_WIRE_MAX_NAME);
    a.payload_len = HS_WIRE_MAX_PAYLOAD;
    memset(a.payload, 0xff, a.payload_len);
    uint8_t buf[HS_WIRE_MAX_ANNOUNCE];
    size_t len = 0;
    assert_int_equal(hs__wire_announce_encode(&a, buf, sizeof buf, &len),
                     HS_OK);
    assert_true(len <= HS_WIRE_MAX_ANNOUNCE && len <= HS_WIRE_MAX_VALUE);
    hs_wire_announce *b = malloc(sizeof *b);
    assert_non_null(b);
    assert_int_equal(hs__wire_announce_decode(buf, len, b), HS_OK);
    assert_int_equal(b->kind, HS_WIRE_AN_USER);
    assert_int_equal(b->seq, 7);
    assert_int_equal(b->ltime, 99);
    assert_string_equal(b->name, a.name);
    assert_int_equal(b->payload_len, HS_WIRE_MAX_PAYLOAD);
    assert_memory_equal(b->payload, a.payload, b->payload_len);
    assert_int_equal(hs__wire_announce_encode(&a, buf, 10, &len), HS_ENOSPC);

    hs_wire_announce f = {.kind = HS_WIRE_AN_FORCE_LEAVE,
                          .seq = 1,
                          .generation = 5,
                          .heartbeat = 0};
    strcpy(f.name, "db-1");
    assert_int_equal(hs__wire_announce_encode(&f, buf, sizeof buf, &len),
                     HS_OK);
    assert_int_equal(hs__wire_announce_decode(buf, len, b), HS_OK);
    assert_int_equal(b->kind, HS_WIRE_AN_FORCE_LEAVE);
    assert_string_equal(b->name, "db-1");
    assert_int_equal(b->generation, 5);

    /* What a receiver refuses, the sender refuses. */
    hs_wire_announce bad = f;
    bad.seq = 0;
    assert_int_equal(hs__wire_announce_encode(&bad, buf, sizeof buf, &len),
                     HS_EINVAL);
    bad = f;
    bad.generation = 0;
    assert_int_equal(hs__wire_announce_encode(&bad, buf, sizeof buf, &len),
                     HS_EINVAL);
    bad = f;
    strcpy(bad.name, "a b");
    assert_int_equal(hs__wire_announce_encode(&bad, buf, sizeof buf, &len),
                     HS_EINVAL);
    bad = a;
    bad.ltime = 0;
    assert_int_equal(hs__wire_announce_encode(&bad, buf, sizeof buf, &len),
                     HS_EINVAL);

    /* Hand-made bytes. */
    static const uint8_t empty[] = {0x08, 0x01};         /* seq, no body */
    static const uint8_t garbage[] = {0xff, 0xff, 0xff}; /* not protobuf */
    static const uint8_t nul_name[] = {0x08, 0x01, 0x1a, 0x05, 0x0a,
                                       0x01, 0x00, 0x10, 0x01}; /* name "\0" */
    static const uint8_t unknown[] = {0x08, 0x02, 0x1a, 0x05, 0x0a, 0x01,
                                      'x',  0x10, 0x03, 0xf8, 0x01, 0x05};
    assert_int_equal(hs__wire_announce_decode(empty, sizeof empty, b),
                     HS_EMALFORMED);
    assert_int_equal(hs__wire_announce_decode(garbage, sizeof garbage, b),
                     HS_EMALFORMED);
    assert_int_equal(hs__wire_announce_decode(nul_name, sizeof nul_name, b),
                     HS_EMALFORMED);
    assert_int_equal(hs__wire_announce_decode(NULL, 0, b), HS_EMALFORMED);
    assert_int_equal(hs__wire_announce_decode(buf, HS_WIRE_MAX_ANNOUNCE + 1, b),
                     HS_ETOOBIG);
    /* An unknown field (31) is ignored. */
    assert_int_equal(hs__wire_announce_decode(unknown, sizeof unknown, b),
                     HS_OK);
    assert_int_equal(b->kind, HS_WIRE_AN_FORCE_LEAVE);
    assert_int_equal(b->generation, 3);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(codec_round_trip_and_bounds),
        cmocka_unit_test(exactly_once_under_loss),
        cmocka_unit_test(no_replay_to_newcomers_or_after_restart),
        cmocka_unit_test(lost_announcements_are_counted),
        cmocka_unit_test(reset_copy_delivers_nothing_twice),
        cmocka_unit_test(no_replay_when_first_copy_is_cut_short),
        cmocka_unit_test(no_replay_when_events_outrun_the_heartbeat),
        cmocka_unit_test(user_events_are_validated),
        cmocka_unit_test(force_leave_turns_dead_into_left),
        cmocka_unit_test(force_leave_of_live_member),
        cmocka_unit_test(newcomer_learns_force_left_as_dead),
        cmocka_unit_test(newcomer_within_the_slot_learns_left),
        cmocka_unit_test(stale_force_leave_loses),
        cmocka_unit_test(later_heartbeat_wins),
        cmocka_unit_test(own_leave_after_force_leave),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
