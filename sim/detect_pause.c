/*
 * sim/detect_pause.c — the pause scenario: one node's loop stops and runs
 * again; the others may convict it meanwhile and must see it alive once it
 * beats, and the paused node must convict nobody on its own stale
 * timestamps (detect.c has the shared bookkeeping).
 */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/detect.h"

static bool pause_excused(const sim_net *net, const watch *w, uint32_t i,
                          uint32_t j, const hs_core_event *ev)
{
    if (sim_crashed_excused(net, w, i, j, ev))
        return true;
    /* The paused node was silent: others may suspect it until its news
     * reaches them again. */
    if (j == w->target && i != w->target)
        return true;
    return net->nodes[j].state == SIM_PAUSED;
}

/* Every other up node sees node j alive, in its current generation. */
static bool seen_alive_by_all(const sim_net *net, uint32_t j)
{
    hs_member_info info;
    for (uint32_t i = 0; i < net->n; i++) {
        if (i == j || net->nodes[i].state != SIM_UP)
            continue;
        if (!sim_view(net, i, j, &info) || info.state != HS_STATE_ALIVE ||
            info.generation != net->nodes[j].generation)
            return false;
    }
    return true;
}

static bool is_other(const sim_net *net, uint32_t i, const void *arg)
{
    const watch *w = arg;
    return i != w->target && net->nodes[i].state == SIM_UP;
}

/*
 * pause: one node's loop stops for --duration seconds (30) and runs again.
 * Others may convict it meanwhile (convicted_by, detect_*_s) and must see
 * it alive again once it beats (recover_all_s: every other node, after the
 * resume; recover_first_s: the first RECOVER event); the paused node must
 * not convict anyone on the stale timestamps its own pause left behind
 * (paused_node_false_positives).
 */
int sim_pause(const sim_opts *o, sim_rep *r)
{
    double pause_s = o->duration_s > 0 ? o->duration_s : 30;
    watch w;
    sim_net net;
    if (o->nodes < 2 || !sim_watch_init(&w, o->nodes)) {
        fprintf(stderr, "hearsay-sim: pause needs --nodes >= 2\n");
        return 1;
    }
    w.excused = pause_excused;
    if (!sim_detect_build(&net, o, o->seed, &w))
        return 1;
    double setup_s = sim_wall(&net);
    double warm = o->warmup_s > 0 ? o->warmup_s : 60;
    sim_run_until(&net, net.now + (uint64_t)(warm * 1000));
    uint32_t p = (uint32_t)(sim_rand(&net) % net.n);
    sim_watch_reset_episode(&w, net.n, p, net.now);
    uint64_t tp = net.now;
    sim_node_pause(&net, p);
    sim_run_until(&net, tp + (uint64_t)(pause_s * 1000));
    w.pause_end = net.now;
    sim_node_resume(&net, p);
    uint64_t tr = net.now, back = 0;
    uint32_t need = sim_count_survivors(&net, &w);
    /* Run until every other node sees it alive again, and at least 60 s so
     * late false alarms by the paused node show. */
    while ((net.now < tr + 60000 || (!back && net.now < tr + 600000)) &&
           !net.timed_out && !net.oom) {
        sim_run_until(&net, net.now + 1000);
        if (!back && seen_alive_by_all(&net, p))
            back = net.now;
    }
    double d_first, d_all, rc_first, rc_all;
    sim_span(&net, w.fail_at, tp, is_other, &w, &d_first, &d_all);
    sim_span(&net, w.recover_at, tr, is_other, &w, &rc_first, &rc_all);
    rc_all = back ? (double)(back - tr) / 1000.0 : NAN;
    const hs_core_stats *ps = hs__core_stats_get(net.nodes[p].core);
    sim_report_head(r, o);
    sim_rep_num(r, "pause_s", pause_s);
    sim_rep_num(r, "detect_first_s", d_first);
    sim_rep_num(r, "detect_all_s", d_all);
    sim_rep_u64(r, "convicted_by", w.n_fail);
    sim_rep_u64(r, "observers", need);
    sim_rep_num(r, "recover_first_s", rc_first);
    sim_rep_num(r, "recover_all_s", rc_all);
    sim_rep_u64(r, "pauses_detected", ps->pauses);
    sim_rep_u64(r, "paused_node_false_positives", w.paused_fp);
    sim_rep_u64(r, "false_positives", w.false_fail);
    sim_rep_u64(r, "false_suspicions", w.false_suspect);
    sim_report_tail(r, &net, o, setup_s);
    int rc = sim_detect_finish(&net, w.paused_fp ? 1 : 0);
    sim_net_free(&net);
    sim_watch_free(&w);
    return rc;
}
