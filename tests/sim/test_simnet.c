/*
 * test_simnet.c — the simulator's virtual network (sim/net.c) does what
 * its figures rely on: a run is a pure function of its seed; loss,
 * duplication, partitions (both ways and one way), crashes, restarts and
 * pauses behave as documented; seeded views are complete; and addresses
 * map back to node indices. The cores themselves are tested elsewhere;
 * here they are only the traffic.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sim/sim.h"

static void small_cfg(hs_core_config *cfg)
{
    hs__core_config_init(cfg);
    cfg->cluster = "simtest";
    cfg->name = "node-00000";
    cfg->addr = "10.0.0.1:7946";
}

/* Counts events of one type about one member at one observer. */
typedef struct counter {
    hs_event_type type;
    uint32_t observer;
    char name[32];
    int n;
} counter;

static void count_event(sim_net *net, uint32_t node, const hs_core_event *ev,
                        void *arg)
{
    (void)net;
    counter *c = arg;
    if (ev->type == c->type && node == c->observer &&
        strcmp(ev->name, c->name) == 0)
        c->n++;
}

static void addresses_round_trip(void **state)
{
    (void)state;
    char buf[32];
    for (uint32_t i = 0; i < 70000; i += 997) {
        uint32_t a = i + 1;
        snprintf(buf, sizeof buf, "10.%u.%u.%u:7946", (a >> 16) & 255,
                 (a >> 8) & 255, a & 255);
        assert_int_equal(sim_addr_index(buf), i);
    }
    assert_int_equal(sim_addr_index("10.0.0.0:7946"), UINT32_MAX);
    assert_int_equal(sim_addr_index("10.0.0.1:7947"), UINT32_MAX);
    assert_int_equal(sim_addr_index("10.0.256.1:7946"), UINT32_MAX);
    assert_int_equal(sim_addr_index("127.0.0.1:7946"), UINT32_MAX);
    assert_int_equal(sim_addr_index("10.0.1:7946"), UINT32_MAX);
}

/* Runs 30 nodes for 20 s with loss, duplication and reordering and
 * returns a fingerprint of everything that happened. */
static uint64_t fingerprint(uint64_t seed)
{
    hs_core_config cfg;
    small_cfg(&cfg);
    sim_net net;
    assert_true(sim_net_init(&net, 30, seed, &cfg, NULL));
    net.link.loss = 0.1;
    net.link.dup = 0.05;
    net.link.reorder = 0.1;
    net.link.reorder_ms = 30;
    for (uint32_t i = 0; i < net.n; i++)
        assert_true(sim_node_start(&net, i, 1));
    sim_run_until(&net, net.now + 20000);
    uint64_t h = net.stats.msgs_sent * 31 + net.stats.bytes_sent;
    h = h * 31 + net.stats.dropped_loss;
    h = h * 31 + net.stats.duplicated;
    h = h * 31 + net.stats.reordered;
    h = h * 31 + net.stats.events;
    for (uint32_t i = 0; i < net.n; i++)
        h = h * 31 + hs__core_member_count(net.nodes[i].core);
    sim_net_free(&net);
    return h;
}

static void same_seed_same_run(void **state)
{
    (void)state;
    assert_true(fingerprint(7) == fingerprint(7));
    assert_true(fingerprint(7) != fingerprint(8));
}

static void loss_and_duplication_rates(void **state)
{
    (void)state;
    hs_core_config cfg;
    small_cfg(&cfg);
    sim_net net;
    assert_true(sim_net_init(&net, 20, 3, &cfg, NULL));
    net.link.loss = 0.2;
    net.link.dup = 0.1;
    for (uint32_t i = 0; i < net.n; i++)
        sim_node_start(&net, i, 1);
    sim_run_until(&net, net.now + 60000);
    double sent = (double)net.stats.msgs_sent;
    double lost = (double)net.stats.dropped_loss / sent;
    double dup = (double)net.stats.duplicated / (sent - net.stats.dropped_loss);
    assert_true(sent > 1000);
    assert_true(lost > 0.17 && lost < 0.23);
    assert_true(dup > 0.08 && dup < 0.12);
    /* Every datagram that was not lost arrived (duplicates included),
     * or is still in flight (in the heap with the timers). */
    uint64_t expect =
        net.stats.msgs_sent - net.stats.dropped_loss + net.stats.duplicated;
    assert_true(net.stats.msgs_delivered <= expect);
    assert_true(net.stats.msgs_delivered + net.n_heap >= expect);
    sim_net_free(&net);
}

/* A per-link override applies to that direction only. */
static void per_link_loss(void **state)
{
    (void)state;
    hs_core_config cfg;
    small_cfg(&cfg);
    sim_net net;
    assert_true(sim_net_init(&net, 2, 4, &cfg, NULL));
    sim_link dead = net.link;
    dead.loss = 0.99;
    assert_true(sim_link_set(&net, 0, 1, &dead));
    sim_node_start(&net, 0, 1);
    sim_node_start(&net, 1, 1);
    sim_run_until(&net, net.now + 30000);
    /* Node 1 hears almost nothing from node 0, node 0 hears node 1. */
    assert_true(net.stats.dropped_loss > 0);
    assert_true(net.nodes[0].msgs_sent > 0 && net.nodes[1].msgs_sent > 0);
    double frac =
        (double)net.stats.dropped_loss / (double)net.nodes[0].msgs_sent;
    assert_true(frac > 0.9);
    sim_net_free(&net);
}

static void seeded_views_are_complete(void **state)
{
    (void)state;
    hs_core_config cfg;
    small_cfg(&cfg);
    sim_net net;
    assert_true(sim_net_init(&net, 300, 5, &cfg, NULL));
    for (uint32_t i = 0; i < net.n; i++)
        sim_node_start(&net, i, 1);
    assert_true(sim_seed_views(&net));
    hs_member_info info;
    for (uint32_t i = 0; i < net.n; i += 37)
        for (uint32_t j = 0; j < net.n; j++) {
            assert_true(sim_view(&net, i, j, &info));
            assert_int_equal(info.state, HS_STATE_ALIVE);
            assert_int_equal(info.generation, 1);
        }
    sim_net_free(&net);
}

/* Crash, then restart with the next generation: the others see a RESTART
 * and the new generation. */
static void crash_and_restart(void **state)
{
    (void)state;
    hs_core_config cfg;
    small_cfg(&cfg);
    counter c = {.type = HS_EVENT_RESTART, .observer = 0};
    snprintf(c.name, sizeof c.name, "node-00005");
    sim_hooks hooks = {.on_event = count_event, .arg = &c};
    sim_net net;
    assert_true(sim_net_init(&net, 10, 6, &cfg, &hooks));
    for (uint32_t i = 0; i < net.n; i++)
        sim_node_start(&net, i, 1);
    assert_true(sim_seed_views(&net));
    sim_run_until(&net, net.now + 10000);
    sim_node_crash(&net, 5);
    uint64_t before = net.stats.dropped_down;
    sim_run_until(&net, net.now + 5000);
    assert_true(net.stats.dropped_down > before); /* its socket is gone */
    assert_true(sim_node_restart(&net, 5));
    assert_int_equal(net.nodes[5].generation, 2);
    sim_run_until(&net, net.now + 20000);
    assert_true(c.n >= 1);
    hs_member_info info;
    assert_true(sim_view(&net, 0, 5, &info));
    assert_int_equal(info.generation, 2);
    sim_net_free(&net);
}

/* Two-way and one-way cuts drop exactly the datagrams they should. */
static void partitions(void **state)
{
    (void)state;
    hs_core_config cfg;
    small_cfg(&cfg);
    sim_net net;
    assert_true(sim_net_init(&net, 8, 7, &cfg, NULL));
    for (uint32_t i = 0; i < net.n; i++) {
        net.nodes[i].group = i < 4 ? 0 : 1;
        sim_node_start(&net, i, 1);
    }
    assert_true(sim_seed_views(&net));
    sim_run_until(&net, net.now + 5000);

    sim_cut(&net, 0, 1, true); /* one way: A -> B lost */
    uint64_t cut0 = net.stats.dropped_cut;
    sim_run_until(&net, net.now + 30000);
    assert_true(net.stats.dropped_cut > cut0);
    /* With push-pull, a one-way cut starves both sides of deltas: B's
     * SYNs reach A but A's answers do not come back. */
    hs_member_info info;
    assert_true(sim_view(&net, 4, 0, &info));
    assert_int_not_equal(info.state, HS_STATE_ALIVE);

    sim_cut(&net, 1, 0, true); /* now both ways */
    sim_run_until(&net, net.now + 10000);
    uint64_t cut1 = net.stats.dropped_cut;
    sim_heal(&net);
    sim_run_until(&net, net.now + 60000);
    assert_int_equal(net.stats.dropped_cut, cut1); /* healed: none lost */
    for (uint32_t i = 0; i < net.n; i++)
        for (uint32_t j = 0; j < net.n; j++) {
            assert_true(sim_view(&net, i, j, &info));
            assert_int_equal(info.state, HS_STATE_ALIVE);
        }
    sim_net_free(&net);
}

/* A paused node gets no ticks; what arrives meanwhile waits in its socket
 * and is read after the resume, when its core notices the pause. */
static void pause_holds_datagrams(void **state)
{
    (void)state;
    hs_core_config cfg;
    small_cfg(&cfg);
    sim_net net;
    assert_true(sim_net_init(&net, 6, 8, &cfg, NULL));
    for (uint32_t i = 0; i < net.n; i++)
        sim_node_start(&net, i, 1);
    assert_true(sim_seed_views(&net));
    sim_run_until(&net, net.now + 30000);
    const hs_core_stats *st = hs__core_stats_get(net.nodes[2].core);
    uint64_t rounds = st->rounds;
    sim_node_pause(&net, 2);
    sim_run_until(&net, net.now + 20000);
    assert_int_equal(st->rounds, rounds); /* no ticks while paused */
    assert_true(net.nodes[2].n_held > 0);
    uint64_t recv = 0;
    for (int t = 0; t < HS_WIRE_TYPE_SLOTS; t++)
        recv += st->msgs_recv[t];
    sim_node_resume(&net, 2);
    uint64_t recv2 = 0;
    for (int t = 0; t < HS_WIRE_TYPE_SLOTS; t++)
        recv2 += st->msgs_recv[t];
    assert_true(recv2 > recv); /* the socket was read */
    assert_int_equal(net.nodes[2].n_held, 0);
    assert_true(st->pauses >= 1);
    sim_run_until(&net, net.now + 5000);
    assert_true(st->rounds > rounds);
    sim_net_free(&net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(addresses_round_trip),
        cmocka_unit_test(same_seed_same_run),
        cmocka_unit_test(loss_and_duplication_rates),
        cmocka_unit_test(per_link_loss),
        cmocka_unit_test(seeded_views_are_complete),
        cmocka_unit_test(crash_and_restart),
        cmocka_unit_test(partitions),
        cmocka_unit_test(pause_holds_datagrams),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
