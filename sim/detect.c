/*
 * sim/detect.c — failure detection scenarios: crash, partition, pause,
 * churn. Each runs a cluster with heartbeats and the phi detector on,
 * does something to it, and sorts every SUSPECT and FAIL event the cores
 * emit into "right" (about a member that really was crashed, paused or cut
 * off from the observer) and "false" (about one that was up and
 * reachable): the false ones are the false positives the figures report.
 * This file is what the scenarios share (detect.h): the heartbeat meter
 * and that bookkeeping; each scenario is a file of its own
 * (detect_crash.c, detect_partition.c, detect_pause.c, detect_churn.c).
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

#include "sim/detect.h"

/* ---- Heartbeat arrivals ------------------------------------------------- */

#define HB_BUCKET_MS 100
#define HB_BUCKETS 6000 /* 10 minutes; longer gaps land in the last */

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

uint32_t sim_name_index(const char *name)
{
    if (strncmp(name, "node-", 5) != 0)
        return UINT32_MAX;
    return (uint32_t)strtoul(name + 5, NULL, 10);
}

/* Reads the observer's versions (hs__core_member_versions_at): the
 * member queries would evaluate phi for every member after every
 * datagram. */
void sim_hb_observe(hbmeter *h, const sim_net *net, uint32_t obs)
{
    if (!h->on || obs >= h->n)
        return;
    const hs_core *c = net->nodes[obs].core;
    hs_member_versions mv, *m = &mv;
    for (size_t k = 0; hs__core_member_versions_at(c, k, m) == HS_OK; k++) {
        uint32_t j = sim_name_index(m->name);
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
void sim_hb_forget(hbmeter *h, uint32_t j)
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

void sim_hb_report(sim_rep *r, const hbmeter *h)
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

bool sim_crashed_excused(const sim_net *net, const watch *w, uint32_t i,
                         uint32_t j, const hs_core_event *ev)
{
    (void)i;
    (void)w;
    const sim_node *nd = &net->nodes[j];
    /* About an earlier incarnation, or about a node that is not up. */
    return nd->state != SIM_UP || ev->generation < nd->generation;
}

void sim_watch_event(sim_net *net, uint32_t i, const hs_core_event *ev,
                     void *arg)
{
    watch *w = arg;
    if (ev->type != HS_EVENT_SUSPECT && ev->type != HS_EVENT_FAIL &&
        ev->type != HS_EVENT_RECOVER)
        return;
    uint32_t j = sim_name_index(ev->name);
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
    sim_hb_observe(&w->hb, net, i);
}

bool sim_watch_init(watch *w, uint32_t n)
{
    memset(w, 0, sizeof *w);
    w->excused = sim_crashed_excused;
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

void sim_watch_free(watch *w)
{
    hb_free(&w->hb);
    free(w->suspect_at);
    free(w->fail_at);
    free(w->recover_at);
    free(w->side);
}

void sim_watch_reset_episode(watch *w, uint32_t n, uint32_t target, uint64_t t)
{
    w->target = target;
    w->t_event = t;
    memset(w->suspect_at, 0, n * sizeof *w->suspect_at);
    memset(w->fail_at, 0, n * sizeof *w->fail_at);
    memset(w->recover_at, 0, n * sizeof *w->recover_at);
    w->n_fail = w->n_suspect = w->n_recover = 0;
}

/* Earliest and latest time in at[] over the observers that count. */
void sim_span(const sim_net *net, const uint64_t *at, uint64_t t0,
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

bool sim_is_survivor(const sim_net *net, uint32_t i, const void *arg)
{
    const watch *w = arg;
    return i != w->target && net->nodes[i].state == SIM_UP;
}

uint32_t sim_count_survivors(const sim_net *net, const watch *w)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < net->n; i++)
        n += sim_is_survivor(net, i, w);
    return n;
}

int sim_detect_finish(sim_net *net, int rc)
{
    if (net->timed_out)
        rc = 3;
    else if (net->oom)
        rc = 1;
    return rc;
}

/* Starts and seeds a cluster for a detection scenario. */
bool sim_detect_build(sim_net *net, const sim_opts *o, uint64_t seed, watch *w)
{
    sim_opts oo = *o;
    oo.seed = seed;
    sim_hooks hooks = {
        .on_event = sim_watch_event, .on_receive = watch_receive, .arg = w};
    if (!sim_build(net, &oo, &hooks) || !sim_seed_views(net)) {
        fprintf(stderr, "hearsay-sim: could not build %u nodes\n", o->nodes);
        return false;
    }
    return true;
}
