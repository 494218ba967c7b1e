/*
 * sim/detect_churn.c — the churn scenario: members crash at random and
 * come back with the next generation; how long until everyone sees a new
 * incarnation, and the false alarms about members that were up all along
 * (detect.c has the shared bookkeeping).
 */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/detect.h"

typedef struct churn_up {
    struct churn *ch;
    uint32_t node;
} churn_up;

typedef struct churn {
    watch w;
    churn_up *up;         /* per node: its pending restart's argument */
    uint32_t *restarting; /* nodes down, waiting to come back */
    uint64_t *restart_at; /* per node: when its new incarnation started */
    uint32_t *seen;       /* per node: observers that saw it */
    double *lat;          /* restart -> seen by all, seconds */
    size_t n_lat, cap_lat;
    uint64_t restarts;
    double downtime_s;
} churn;

static void churn_event(sim_net *net, uint32_t i, const hs_core_event *ev,
                        void *arg)
{
    churn *ch = arg;
    sim_watch_event(net, i, ev, &ch->w);
    if (ev->type != HS_EVENT_RESTART && ev->type != HS_EVENT_JOIN)
        return;
    uint32_t j = sim_name_index(ev->name);
    if (j >= net->n || !ch->restart_at[j] ||
        ev->generation != net->nodes[j].generation)
        return;
    uint32_t need = 0;
    for (uint32_t k = 0; k < net->n; k++)
        need += k != j && net->nodes[k].state == SIM_UP;
    if (++ch->seen[j] >= need && ch->n_lat < ch->cap_lat) {
        ch->lat[ch->n_lat++] = (double)(net->now - ch->restart_at[j]) / 1000;
        ch->restart_at[j] = 0;
    }
}

static void churn_receive(sim_net *net, uint32_t i, void *arg)
{
    churn *ch = arg;
    sim_hb_observe(&ch->w.hb, net, i);
}

static void churn_start(sim_net *net, void *arg)
{
    churn_up *u = arg;
    churn *ch = u->ch;
    uint32_t j = u->node;
    if (!sim_node_start(net, j, net->nodes[j].generation + 1))
        return;
    sim_hb_forget(&ch->w.hb, j);
    ch->restart_at[j] = net->now;
    ch->seen[j] = 0;
    ch->restarts++;
}

/*
 * churn: for --duration seconds (600), members crash at random (Poisson,
 * --rate per second over the whole cluster, 0.1) and come back 10 s later
 * with the next generation. Figures: how long until every member saw a
 * restarted member's new incarnation, and the false alarms about members
 * that were up all along.
 */
int sim_churn(const sim_opts *o, sim_rep *r)
{
    double dur_s = o->duration_s > 0 ? o->duration_s : 600;
    churn ch = {0};
    sim_net net;
    if (o->nodes < 4 || !sim_watch_init(&ch.w, o->nodes)) {
        fprintf(stderr, "hearsay-sim: churn needs --nodes >= 4\n");
        return 1;
    }
    ch.downtime_s = 10;
    ch.restart_at = calloc(o->nodes, sizeof *ch.restart_at);
    ch.seen = calloc(o->nodes, sizeof *ch.seen);
    ch.up = calloc(o->nodes, sizeof *ch.up);
    ch.cap_lat = 100000;
    ch.lat = calloc(ch.cap_lat, sizeof *ch.lat);
    sim_hooks hooks = {
        .on_event = churn_event, .on_receive = churn_receive, .arg = &ch};
    if (!ch.restart_at || !ch.seen || !ch.up || !ch.lat ||
        !sim_build(&net, o, &hooks) || !sim_seed_views(&net)) {
        fprintf(stderr, "hearsay-sim: could not build %u nodes\n", o->nodes);
        return 1;
    }
    double setup_s = sim_wall(&net);
    sim_run_until(&net, net.now + 30000);
    uint64_t t0 = net.now, end = t0 + (uint64_t)(dur_s * 1000);
    uint64_t crashes = 0;
    while (net.now < end && !net.timed_out && !net.oom) {
        /* Exponential gaps: a Poisson process of crashes. */
        double gap = o->rate > 0 ? -log(1 - sim_rand01(&net)) / o->rate : 1e9;
        uint64_t next = net.now + (uint64_t)(gap * 1000) + 1;
        sim_run_until(&net, next < end ? next : end);
        if (net.now >= end)
            break;
        uint32_t j = (uint32_t)(sim_rand(&net) % net.n);
        if (net.nodes[j].state != SIM_UP || j < net.n_seeds)
            continue; /* seeds stay up: a restart rejoins through them */
        sim_node_crash(&net, j);
        ch.restart_at[j] = 0;
        crashes++;
        churn_up *u = &ch.up[j];
        u->ch = &ch;
        u->node = j;
        sim_at(&net, net.now + (uint64_t)(ch.downtime_s * 1000), churn_start,
               u);
    }
    /* Let the last restarts be seen. */
    sim_run_until(&net, net.now + 60000);
    sim_report_head(r, o);
    sim_rep_num(r, "churn_s", dur_s);
    sim_rep_num(r, "rate_per_s", o->rate);
    sim_rep_num(r, "downtime_s", ch.downtime_s);
    sim_rep_u64(r, "crashes", crashes);
    sim_rep_u64(r, "restarts", ch.restarts);
    sim_rep_u64(r, "restarts_seen_by_all", ch.n_lat);
    sim_rep_num(r, "restart_seen_p50_s", sim_percentile(ch.lat, ch.n_lat, 50));
    sim_rep_num(r, "restart_seen_p99_s", sim_percentile(ch.lat, ch.n_lat, 99));
    sim_rep_num(r, "restart_seen_max_s", sim_percentile(ch.lat, ch.n_lat, 100));
    sim_rep_u64(r, "expected_fails", ch.w.right_fail);
    sim_rep_u64(r, "false_positives", ch.w.false_fail);
    sim_rep_u64(r, "false_suspicions", ch.w.false_suspect);
    sim_report_tail(r, &net, o, setup_s);
    int rc = sim_detect_finish(&net, 0);
    sim_net_free(&net);
    sim_watch_free(&ch.w);
    free(ch.restart_at);
    free(ch.seen);
    free(ch.up);
    free(ch.lat);
    return rc;
}
