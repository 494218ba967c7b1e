/*
 * sim/detect_partition.c — the partition scenario: a cluster cut in two
 * halves (both ways or one way), how far each half gets in convicting the
 * other, and how long the whole cluster takes to heal once the cut ends
 * (detect.c has the shared bookkeeping).
 */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/detect.h"

static bool cut_excused(const sim_net *net, const watch *w, uint32_t i,
                        uint32_t j, const hs_core_event *ev)
{
    if (sim_crashed_excused(net, w, i, j, ev))
        return true;
    /* Across the cut, while it lasts and until the heal has had time to
     * reach the observer (a suspect turns dead dead_after_ms later). */
    return w->side[i] != w->side[j] && w->cut_on;
}

/* Every up node sees every up node alive. */
static bool all_alive(const sim_net *net)
{
    hs_member_info info;
    for (uint32_t i = 0; i < net->n; i++) {
        if (net->nodes[i].state != SIM_UP)
            continue;
        for (uint32_t j = 0; j < net->n; j++) {
            if (i == j || net->nodes[j].state != SIM_UP)
                continue;
            if (!sim_view(net, i, j, &info) ||
                info.generation != net->nodes[j].generation ||
                info.state != HS_STATE_ALIVE)
                return false;
        }
    }
    return true;
}

/* The share of (observer, member) pairs across the cut in which the
 * observer has declared the member dead: 1 when each half has convicted
 * every node of the other. */
static double halves_convicted(const sim_net *net, const watch *w)
{
    hs_member_info info;
    uint64_t pairs = 0, dead = 0;
    for (uint32_t i = 0; i < net->n; i++)
        for (uint32_t j = 0; j < net->n; j++) {
            if (w->side[i] == w->side[j])
                continue;
            pairs++;
            if (!sim_view(net, i, j, &info) || info.state == HS_STATE_DEAD)
                dead++;
        }
    return pairs ? (double)dead / (double)pairs : 0;
}

/*
 * partition: the cluster splits into two halves for --duration seconds
 * (60): two-way, or with --one-way only half A's datagrams to half B are
 * lost. convicted_s is when every node had declared every node of the
 * other half dead (NaN if that never happened during the cut;
 * convicted_share is how far it got by the end of the cut); heal_s is
 * the time after the cut ends until every node sees every node alive
 * again, with the current generation.
 */
int sim_partition(const sim_opts *o, sim_rep *r)
{
    double cut_s = o->duration_s > 0 ? o->duration_s : 60;
    watch w;
    sim_net net;
    if (o->nodes < 2 || !sim_watch_init(&w, o->nodes)) {
        fprintf(stderr, "hearsay-sim: partition needs --nodes >= 2\n");
        return 1;
    }
    w.excused = cut_excused;
    if (!sim_detect_build(&net, o, o->seed, &w))
        return 1;
    double setup_s = sim_wall(&net);
    for (uint32_t i = 0; i < net.n; i++)
        w.side[i] = net.nodes[i].group = i < net.n / 2 ? 0 : 1;
    double warm = o->warmup_s > 0 ? o->warmup_s : 30;
    sim_run_until(&net, net.now + (uint64_t)(warm * 1000));
    uint64_t tp = net.now, convicted = 0;
    w.cut_on = true;
    sim_cut(&net, 0, 1, true);
    if (!o->one_way)
        sim_cut(&net, 1, 0, true);
    uint64_t end = tp + (uint64_t)(cut_s * 1000);
    double share = 0;
    while (net.now < end && !net.timed_out && !net.oom) {
        sim_run_until(&net, net.now + 1000);
        share = halves_convicted(&net, &w);
        if (!convicted && share >= 1)
            convicted = net.now;
    }
    sim_heal(&net);
    uint64_t th = net.now, healed = 0;
    while (!healed && net.now < th + 600000 && !net.timed_out && !net.oom) {
        sim_run_until(&net, net.now + 1000);
        if (all_alive(&net))
            healed = net.now;
        /* Alarms raised within dead_after of the heal were already under
         * way during the cut. */
        if (net.now > th + o->core.dead_after_ms + 1000)
            w.cut_on = false;
    }
    sim_report_head(r, o);
    sim_rep_bool(r, "one_way", o->one_way);
    sim_rep_num(r, "partition_s", cut_s);
    sim_rep_num(r, "convicted_s",
                convicted ? (double)(convicted - tp) / 1000 : NAN);
    sim_rep_num(r, "convicted_share", share);
    sim_rep_num(r, "heal_s", healed ? (double)(healed - th) / 1000 : NAN);
    sim_rep_u64(r, "expected_fails", w.right_fail);
    sim_rep_u64(r, "false_positives", w.false_fail);
    sim_rep_u64(r, "false_suspicions", w.false_suspect);
    sim_report_tail(r, &net, o, setup_s);
    int rc = sim_detect_finish(&net, healed ? 0 : 1);
    sim_net_free(&net);
    sim_watch_free(&w);
    return rc;
}
