/*
 * sim/detect.c — failure detection scenarios: crash, partition, pause,
 * churn. Each runs a cluster with heartbeats and the phi detector on,
 * does something to it, and sorts every SUSPECT and FAIL event the cores
 * emit into "right" (about a member that really was crashed, paused or cut
 * off from the observer) and "false" (about one that was up and
 * reachable): the false ones are the false positives the figures report.
 *
 * Heartbeat inter-arrival times are measured as the detector sees them:
 * after every datagram a node takes in, each member with a version above
 * any the node had seen (hs__core_evidence) had an arrival, and the time
 * since its previous arrival at that node is a sample. That is the rhythm phi
 * is fitted to, so its mean, spread and tail are what the detector defaults
 * must be chosen from.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/scenario.h"

/* ---- Heartbeat arrivals ------------------------------------------------- */

#define HB_BUCKET_MS 100
#define HB_BUCKETS 6000 /* 10 minutes; longer gaps land in the last */

typedef struct hbmeter {
    uint32_t n;        /* nodes measured (pairs are n x n) */
    uint64_t *last_hb; /* [observer * n + member] */
    uint64_t *last_at;
    uint64_t *hist; /* inter-arrival histogram, HB_BUCKET_MS wide */
    uint64_t count;
    double sum, sumsq, max;
    bool on;
} hbmeter;

static bool hb_init(hbmeter *h, uint32_t n)
{
    memset(h, 0, sizeof *h);
    h->n = n;
    size_t pairs = (size_t)n * n;
    h->last_hb = calloc(pairs, sizeof *h->last_hb);
    h->last_at = calloc(pairs, sizeof *h->last_at);
    h->hist = calloc(HB_BUCKETS, sizeof *h->hist);
    return h->last_hb && h->last_at && h->hist;
}

static void hb_free(hbmeter *h)
{
    free(h->last_hb);
    free(h->last_at);
    free(h->hist);
}

static uint32_t name_index(const char *name)
{
    if (strncmp(name, "node-", 5) != 0)
        return UINT32_MAX;
    return (uint32_t)strtoul(name + 5, NULL, 10);
}

/* Reads the observer's versions (hs__core_member_versions_at): the
 * member queries would evaluate phi for every member after every
 * datagram. */
static void hb_observe(hbmeter *h, const sim_net *net, uint32_t obs)
{
    if (!h->on || obs >= h->n)
        return;
    const hs_core *c = net->nodes[obs].core;
    hs_member_versions mv, *m = &mv;
    for (size_t k = 0; hs__core_member_versions_at(c, k, m) == HS_OK; k++) {
        uint32_t j = name_index(m->name);
        if (m->is_self || j >= h->n)
            continue;
        size_t p = (size_t)obs * h->n + j;
        /* An arrival for the detector: a version above any seen before
         * (hs__core_evidence), by a delta or a digest line. */
        if (m->seen_version <= h->last_hb[p])
            continue;
        if (h->last_at[p]) {
            double iv = (double)(net->now - h->last_at[p]);
            size_t b = (size_t)(iv / HB_BUCKET_MS);
            h->hist[b < HB_BUCKETS ? b : HB_BUCKETS - 1]++;
            h->count++;
            h->sum += iv;
            h->sumsq += iv * iv;
            if (iv > h->max)
                h->max = iv;
        }
        h->last_hb[p] = m->seen_version;
        h->last_at[p] = net->now;
    }
}

/* Forgets a member's arrivals (it crashed or restarted). */
static void hb_forget(hbmeter *h, uint32_t j)
{
    for (uint32_t i = 0; j < h->n && i < h->n; i++) {
        h->last_hb[(size_t)i * h->n + j] = 0;
        h->last_at[(size_t)i * h->n + j] = 0;
        h->last_hb[(size_t)j * h->n + i] = 0;
        h->last_at[(size_t)j * h->n + i] = 0;
    }
}

static double hb_quantile(const hbmeter *h, double q)
{
    uint64_t want = (uint64_t)ceil(q * (double)h->count), seen = 0;
    for (size_t b = 0; b < HB_BUCKETS; b++) {
        seen += h->hist[b];
        if (seen >= want && want > 0)
            return (double)(b + 1) * HB_BUCKET_MS / 1000.0;
    }
    return NAN;
}

static void hb_report(sim_rep *r, const hbmeter *h)
{
    double mean = h->count ? h->sum / (double)h->count : NAN;
    double var = h->count ? h->sumsq / (double)h->count - mean * mean : NAN;
    sim_rep_begin(r, "heartbeat_interarrival");
    sim_rep_u64(r, "samples", h->count);
    sim_rep_num(r, "mean_s", mean / 1000.0);
    sim_rep_num(r, "sd_s", var > 0 ? sqrt(var) / 1000.0 : 0);
    sim_rep_num(r, "p50_s", hb_quantile(h, 0.5));
    sim_rep_num(r, "p99_s", hb_quantile(h, 0.99));
    sim_rep_num(r, "p999_s", hb_quantile(h, 0.999));
    sim_rep_num(r, "p99999_s", hb_quantile(h, 0.99999));
    sim_rep_num(r, "max_s", h->max / 1000.0);
    sim_rep_end(r);
}

/* ---- Event bookkeeping -------------------------------------------------- */

typedef struct watch {
    hbmeter hb;
    /* Whether observer i should be unable to hear member j right now. */
    bool (*excused)(const sim_net *net, const struct watch *w, uint32_t i,
                    uint32_t j, const hs_core_event *ev);
    uint64_t false_suspect, false_fail;
    uint64_t right_suspect, right_fail;
    /* Per member: when each observer first suspected / convicted it in the
     * current episode (0: not yet), and when the episode started. */
    uint32_t target;      /* member whose detection is timed */
    uint64_t t_event;     /* when it crashed / was cut / paused */
    uint64_t *suspect_at; /* [observer] */
    uint64_t *fail_at;
    uint64_t *recover_at;
    uint32_t n_fail, n_suspect, n_recover;
    uint8_t *side; /* partition: each node's half */
    bool cut_on;
    uint64_t pause_end; /* pause: when the paused node resumed */
    uint64_t paused_fp; /* pause: false alarms raised by the paused node */
} watch;

static bool crashed_excused(const sim_net *net, const watch *w, uint32_t i,
                            uint32_t j, const hs_core_event *ev)
{
    (void)i;
    (void)w;
    const sim_node *nd = &net->nodes[j];
    /* About an earlier incarnation, or about a node that is not up. */
    return nd->state != SIM_UP || ev->generation < nd->generation;
}

static void watch_event(sim_net *net, uint32_t i, const hs_core_event *ev,
                        void *arg)
{
    watch *w = arg;
    if (ev->type != HS_EVENT_SUSPECT && ev->type != HS_EVENT_FAIL &&
        ev->type != HS_EVENT_RECOVER)
        return;
    uint32_t j = name_index(ev->name);
    if (j >= net->n)
        return;
    if (ev->type == HS_EVENT_RECOVER) {
        if (j == w->target && w->recover_at && w->t_event &&
            !w->recover_at[i] && net->now >= w->pause_end && w->pause_end) {
            w->recover_at[i] = net->now;
            w->n_recover++;
        }
        return;
    }
    bool fail = ev->type == HS_EVENT_FAIL;
    if (w->excused(net, w, i, j, ev)) {
        fail ? w->right_fail++ : w->right_suspect++;
    } else {
        fail ? w->false_fail++ : w->false_suspect++;
        if (w->pause_end && i == w->target)
            w->paused_fp++;
    }
    if (j == w->target && w->t_event && w->fail_at) {
        uint64_t *at = fail ? w->fail_at : w->suspect_at;
        if (!at[i]) {
            at[i] = net->now;
            fail ? w->n_fail++ : w->n_suspect++;
        }
    }
}

static void watch_receive(sim_net *net, uint32_t i, void *arg)
{
    watch *w = arg;
    hb_observe(&w->hb, net, i);
}

static bool watch_init(watch *w, uint32_t n)
{
    memset(w, 0, sizeof *w);
    w->excused = crashed_excused;
    w->target = UINT32_MAX;
    w->suspect_at = calloc(n, sizeof *w->suspect_at);
    w->fail_at = calloc(n, sizeof *w->fail_at);
    w->recover_at = calloc(n, sizeof *w->recover_at);
    w->side = calloc(n, 1);
    /* Pairwise arrival tracking is n^2: measured up to 4096 nodes. */
    if (!hb_init(&w->hb, n <= 4096 ? n : 0))
        return false;
    return w->suspect_at && w->fail_at && w->recover_at && w->side;
}

static void watch_free(watch *w)
{
    hb_free(&w->hb);
    free(w->suspect_at);
    free(w->fail_at);
    free(w->recover_at);
    free(w->side);
}

static void watch_reset_episode(watch *w, uint32_t n, uint32_t target,
                                uint64_t t)
{
    w->target = target;
    w->t_event = t;
    memset(w->suspect_at, 0, n * sizeof *w->suspect_at);
    memset(w->fail_at, 0, n * sizeof *w->fail_at);
    memset(w->recover_at, 0, n * sizeof *w->recover_at);
    w->n_fail = w->n_suspect = w->n_recover = 0;
}

/* Earliest and latest time in at[] over the observers that count. */
static void span(const sim_net *net, const uint64_t *at, uint64_t t0,
                 bool (*counts)(const sim_net *, uint32_t, const void *),
                 const void *arg, double *first, double *all)
{
    uint64_t lo = UINT64_MAX, hi = 0;
    bool missing = false;
    for (uint32_t i = 0; i < net->n; i++) {
        if (!counts(net, i, arg))
            continue;
        if (!at[i]) {
            missing = true;
            continue;
        }
        if (at[i] < lo)
            lo = at[i];
        if (at[i] > hi)
            hi = at[i];
    }
    *first = lo == UINT64_MAX ? NAN : (double)(lo - t0) / 1000.0;
    *all = missing || hi == 0 ? NAN : (double)(hi - t0) / 1000.0;
}

static bool is_survivor(const sim_net *net, uint32_t i, const void *arg)
{
    const watch *w = arg;
    return i != w->target && net->nodes[i].state == SIM_UP;
}

static uint32_t count_survivors(const sim_net *net, const watch *w)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < net->n; i++)
        n += is_survivor(net, i, w);
    return n;
}

static int finish(sim_net *net, int rc)
{
    if (net->timed_out)
        rc = 3;
    else if (net->oom)
        rc = 1;
    return rc;
}

/* Starts and seeds a cluster for a detection scenario. */
static bool detect_build(sim_net *net, const sim_opts *o, uint64_t seed,
                         watch *w)
{
    sim_opts oo = *o;
    oo.seed = seed;
    sim_hooks hooks = {
        .on_event = watch_event, .on_receive = watch_receive, .arg = w};
    if (!sim_build(net, &oo, &hooks) || !sim_seed_views(net)) {
        fprintf(stderr, "hearsay-sim: could not build %u nodes\n", o->nodes);
        return false;
    }
    return true;
}

/* ---- crash -------------------------------------------------------------- */

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
        !watch_init(&w, o->nodes)) {
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
        if (!detect_build(&net, o, o->seed + t, &w)) {
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
        hb_forget(&w.hb, v);
        watch_reset_episode(&w, net.n, v, net.now);
        uint64_t tc = net.now;
        uint32_t need = count_survivors(&net, &w);
        /* Without suspicion nothing can be detected: measure only. */
        uint64_t cap = o->core.phi_threshold > 0 ? 600000 : 0;
        while (w.n_fail < need && net.now < tc + cap && !net.timed_out &&
               !net.oom)
            sim_run_until(&net, net.now + 1000);
        if (net.timed_out || net.oom) {
            rc = finish(&net, 0);
            break;
        }
        span(&net, w.fail_at, tc, is_survivor, &w, &d_first[t], &d_all[t]);
        span(&net, w.suspect_at, tc, is_survivor, &w, &s_first[t], &s_all[t]);
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
    hb_report(r, &w.hb);
    net.wall_start = t_begin; /* wall_s: all trials */
    sim_report_tail(r, &net, o, setup_s);
    rc = rc ? rc : finish(&net, undetected ? 1 : 0);
    sim_net_free(&net);
    watch_free(&w);
    free(d_first);
    free(d_all);
    free(s_first);
    free(s_all);
    return rc;
}

/* ---- partition ---------------------------------------------------------- */

static bool cut_excused(const sim_net *net, const watch *w, uint32_t i,
                        uint32_t j, const hs_core_event *ev)
{
    if (crashed_excused(net, w, i, j, ev))
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
    if (o->nodes < 2 || !watch_init(&w, o->nodes)) {
        fprintf(stderr, "hearsay-sim: partition needs --nodes >= 2\n");
        return 1;
    }
    w.excused = cut_excused;
    if (!detect_build(&net, o, o->seed, &w))
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
    int rc = finish(&net, healed ? 0 : 1);
    sim_net_free(&net);
    watch_free(&w);
    return rc;
}

/* ---- pause -------------------------------------------------------------- */

static bool pause_excused(const sim_net *net, const watch *w, uint32_t i,
                          uint32_t j, const hs_core_event *ev)
{
    if (crashed_excused(net, w, i, j, ev))
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
    if (o->nodes < 2 || !watch_init(&w, o->nodes)) {
        fprintf(stderr, "hearsay-sim: pause needs --nodes >= 2\n");
        return 1;
    }
    w.excused = pause_excused;
    if (!detect_build(&net, o, o->seed, &w))
        return 1;
    double setup_s = sim_wall(&net);
    double warm = o->warmup_s > 0 ? o->warmup_s : 60;
    sim_run_until(&net, net.now + (uint64_t)(warm * 1000));
    uint32_t p = (uint32_t)(sim_rand(&net) % net.n);
    watch_reset_episode(&w, net.n, p, net.now);
    uint64_t tp = net.now;
    sim_node_pause(&net, p);
    sim_run_until(&net, tp + (uint64_t)(pause_s * 1000));
    w.pause_end = net.now;
    sim_node_resume(&net, p);
    uint64_t tr = net.now, back = 0;
    uint32_t need = count_survivors(&net, &w);
    /* Run until every other node sees it alive again, and at least 60 s so
     * late false alarms by the paused node show. */
    while ((net.now < tr + 60000 || (!back && net.now < tr + 600000)) &&
           !net.timed_out && !net.oom) {
        sim_run_until(&net, net.now + 1000);
        if (!back && seen_alive_by_all(&net, p))
            back = net.now;
    }
    double d_first, d_all, rc_first, rc_all;
    span(&net, w.fail_at, tp, is_other, &w, &d_first, &d_all);
    span(&net, w.recover_at, tr, is_other, &w, &rc_first, &rc_all);
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
    int rc = finish(&net, w.paused_fp ? 1 : 0);
    sim_net_free(&net);
    watch_free(&w);
    return rc;
}

/* ---- churn -------------------------------------------------------------- */

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
    watch_event(net, i, ev, &ch->w);
    if (ev->type != HS_EVENT_RESTART && ev->type != HS_EVENT_JOIN)
        return;
    uint32_t j = name_index(ev->name);
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
    hb_observe(&ch->w.hb, net, i);
}

static void churn_start(sim_net *net, void *arg)
{
    churn_up *u = arg;
    churn *ch = u->ch;
    uint32_t j = u->node;
    if (!sim_node_start(net, j, net->nodes[j].generation + 1))
        return;
    hb_forget(&ch->w.hb, j);
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
    if (o->nodes < 4 || !watch_init(&ch.w, o->nodes)) {
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
    int rc = finish(&net, 0);
    sim_net_free(&net);
    watch_free(&ch.w);
    free(ch.restart_at);
    free(ch.seen);
    free(ch.up);
    free(ch.lat);
    return rc;
}
