/*
 * sim/detect_crash.c — the crash scenario: false positives in a quiet
 * cluster, then how long the survivors take to suspect and convict a
 * member that crashed (detect.c has the bookkeeping every detection
 * scenario shares).
 */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/detect.h"

/*
 * crash: a converged cluster runs for --duration seconds (60; the false
 * positive figure comes from this part), then a random member crashes
 * and the run continues until every survivor has declared it dead (or
 * 600 s). Trials use fresh clusters with seeds seed, seed+1, ...
 */
int sim_crash(const sim_opts *o, sim_rep *r)
{
    uint32_t trials = o->trials ? o->trials : 1;
    double observe_s = o->duration_s > 0 ? o->duration_s : 60;
    double *d_first = calloc(trials, sizeof(double));
    double *d_all = calloc(trials, sizeof(double));
    double *s_first = calloc(trials, sizeof(double));
    double *s_all = calloc(trials, sizeof(double));
    watch w;
    if (o->nodes < 2 || !d_first || !d_all || !s_first || !s_all ||
        !sim_watch_init(&w, o->nodes)) {
        fprintf(stderr, "hearsay-sim: crash needs --nodes >= 2 (and memory)\n");
        return 1;
    }
    sim_net net;
    uint32_t undetected = 0, done = 0;
    double setup_s = 0, observed_s = 0, t_begin = sim_wall_now();
    int rc = 0;
    memset(&net, 0, sizeof net);
    for (uint32_t t = 0; t < trials && rc == 0; t++) {
        if (t > 0)
            sim_net_free(&net);
        memset(w.hb.last_hb, 0, (size_t)w.hb.n * w.hb.n * sizeof *w.hb.last_hb);
        memset(w.hb.last_at, 0, (size_t)w.hb.n * w.hb.n * sizeof *w.hb.last_at);
        w.target = UINT32_MAX;
        w.t_event = 0;
        if (!sim_detect_build(&net, o, o->seed + t, &w)) {
            rc = 1;
            break;
        }
        setup_s += sim_wall(&net);
        /* The first 10 s are the cluster's start (every detector still on
         * its bootstrap estimate): arrivals are measured after that. */
        uint64_t t0 = net.now;
        sim_run_until(&net, t0 + 10000);
        w.hb.on = true;
        sim_run_until(&net, t0 + (uint64_t)(observe_s * 1000));
        observed_s += observe_s;
        uint32_t v = (uint32_t)(sim_rand(&net) % net.n);
        sim_node_crash(&net, v);
        sim_hb_forget(&w.hb, v);
        sim_watch_reset_episode(&w, net.n, v, net.now);
        uint64_t tc = net.now;
        uint32_t need = sim_count_survivors(&net, &w);
        /* Without suspicion nothing can be detected: measure only. */
        uint64_t cap = o->core.phi_threshold > 0 ? 600000 : 0;
        while (w.n_fail < need && net.now < tc + cap && !net.timed_out &&
               !net.oom)
            sim_run_until(&net, net.now + 1000);
        if (net.timed_out || net.oom) {
            rc = sim_detect_finish(&net, 0);
            break;
        }
        sim_span(&net, w.fail_at, tc, sim_is_survivor, &w, &d_first[t],
                 &d_all[t]);
        sim_span(&net, w.suspect_at, tc, sim_is_survivor, &w, &s_first[t],
                 &s_all[t]);
        if (w.n_fail < need && cap)
            undetected++;
        done++;
    }
    sim_report_head(r, o);
    sim_rep_u64(r, "trials", done);
    sim_rep_num(r, "observed_s", observed_s);
    sim_rep_num(r, "detect_first_s", sim_percentile(d_first, done, 50));
    sim_rep_num(r, "detect_all_s", sim_percentile(d_all, done, 50));
    sim_rep_num(r, "detect_all_s_max", sim_percentile(d_all, done, 100));
    sim_rep_num(r, "suspect_first_s", sim_percentile(s_first, done, 50));
    sim_rep_num(r, "suspect_all_s", sim_percentile(s_all, done, 50));
    sim_rep_u64(r, "undetected", undetected);
    sim_rep_u64(r, "false_positives", w.false_fail);
    sim_rep_u64(r, "false_suspicions", w.false_suspect);
    sim_hb_report(r, &w.hb);
    net.wall_start = t_begin; /* wall_s: all trials */
    sim_report_tail(r, &net, o, setup_s);
    rc = rc ? rc : sim_detect_finish(&net, undetected ? 1 : 0);
    sim_net_free(&net);
    sim_watch_free(&w);
    free(d_first);
    free(d_all);
    free(s_first);
    free(s_all);
    return rc;
}
