/*
 * sim/vrenesse.c — the flow-control experiment of van Renesse, Dumitriu,
 * Gough and Thomas, "Efficient Reconciliation and Flow Control for
 * Anti-Entropy Protocols" (LADIS 2008): 128 members with 64 keys each,
 * one exchange per member per second, at most 100 deltas per message;
 * every member updates random keys of its own, at a base rate that doubles
 * from t = 25 s to t = 75 s, and all updates stop at t = 120 s. Once a
 * second we count the stale entries (observer p's copy of member q's key k
 * is older than q's own) and the largest staleness (how long ago q made
 * the first update p has not seen).
 *
 * Scuttlebutt (depth and breadth) runs on the real cores, with
 * max_entries_per_msg = 100, a datagram large enough that only the entry
 * count limits it, no heartbeats and no suspicion. Precise reconciliation
 * (oldest first, newest first) is not something hearsay's core does, so
 * it is modelled here — clearly a model: every member keeps a version per
 * key, an exchange compares the two tables exactly and each side sends at
 * most 100 of the entries the other lacks, oldest or newest updates first;
 * exchanges happen at the same random phases, with no loss and no delay.
 * Both use the same update schedule (its own random stream), so the four
 * curves differ only in how they reconcile.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/scenario.h"

#define VR_MTU 100 /* deltas per message, as in the paper */

/* One member's updates, in version order. */
typedef struct vr_upd {
    uint64_t version;
    uint64_t t; /* ms since the experiment started */
    uint16_t key;
} vr_upd;

typedef struct vr_log {
    vr_upd *u;
    size_t n, cap;
    uint64_t *latest;   /* [key]: version of the key's current value */
    uint64_t *last_upd; /* [key]: index+1 in u of its latest update */
} vr_log;

typedef struct vr {
    const sim_opts *o;
    uint32_t n, keys;
    double rate; /* base updates per member per second */
    vr_log *log;
    uint64_t t0; /* virtual ms of the experiment's t = 0 */
    uint64_t urng;
    /* Precise model: have[p][q][k] = version p holds of q's key k. */
    uint64_t *have;
    uint64_t *next_round; /* [p] ms of the model's next exchange */
    uint64_t mrng;
    sim_net *net; /* core runs */
    char keyname[256][8];
} vr;

static uint64_t vr_split(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double vr_unit(uint64_t *s)
{
    return (double)(vr_split(s) >> 11) * 0x1.0p-53;
}

static double vr_rate_at(const vr *x, double t_s)
{
    if (t_s >= 120)
        return 0;
    return t_s >= 25 && t_s < 75 ? 2 * x->rate : x->rate;
}

static bool vr_log_add(vr_log *l, uint64_t version, uint64_t t, uint16_t key)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        vr_upd *u = realloc(l->u, cap * sizeof *u);
        if (!u)
            return false;
        l->u = u;
        l->cap = cap;
    }
    l->u[l->n++] = (vr_upd){.version = version, .t = t, .key = key};
    l->latest[key] = version;
    l->last_upd[key] = l->n;
    return true;
}

/* When q made the first update of key k above version `held` (ms since
 * t0), or UINT64_MAX when p is not stale. Updates of one member are in
 * version order, so: the first update with version > held, then forward
 * to the first of those that touches k. */
static uint64_t vr_stale_since(const vr_log *l, uint16_t k, uint64_t held)
{
    if (l->latest[k] <= held)
        return UINT64_MAX;
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (l->u[mid].version <= held)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < l->n; i++)
        if (l->u[i].key == k)
            return l->u[i].t;
    return UINT64_MAX;
}

/* ---- The update schedule ------------------------------------------------ */

/* Next update after time t (ms since t0), by thinning a Poisson process
 * at the peak rate; UINT64_MAX when updates have stopped. */
static uint64_t vr_next_update(vr *x, uint64_t t, uint32_t *who, uint16_t *key)
{
    double peak = 2 * x->rate * x->n;
    if (peak <= 0)
        return UINT64_MAX;
    double ts = (double)t / 1000;
    for (;;) {
        ts += -log(1 - vr_unit(&x->urng)) / peak;
        if (ts >= 120)
            return UINT64_MAX;
        double keep = vr_rate_at(x, ts) * x->n / peak;
        bool ok = vr_unit(&x->urng) < keep;
        *who = (uint32_t)(vr_split(&x->urng) % x->n);
        *key = (uint16_t)(vr_split(&x->urng) % x->keys);
        if (ok)
            return (uint64_t)(ts * 1000);
    }
}

/* ---- Measuring ---------------------------------------------------------- */

typedef struct vr_sample {
    double t;
    uint64_t stale;
    double max_staleness;
} vr_sample;

/* held(p, q, k): the version of q's key k that p holds, as far as
 * staleness goes. For scuttlebutt that is p's max_version of q for every
 * key; for the model, the per-key version. */
static vr_sample vr_measure(vr *x, uint64_t now_rel,
                            uint64_t (*held)(vr *, uint32_t, uint32_t,
                                             uint16_t))
{
    vr_sample s = {.t = (double)now_rel / 1000};
    uint64_t oldest = UINT64_MAX;
    for (uint32_t p = 0; p < x->n; p++)
        for (uint32_t q = 0; q < x->n; q++) {
            if (p == q)
                continue;
            for (uint16_t k = 0; k < x->keys; k++) {
                uint64_t since =
                    vr_stale_since(&x->log[q], k, held(x, p, q, k));
                if (since == UINT64_MAX)
                    continue;
                s.stale++;
                if (since < oldest)
                    oldest = since;
            }
        }
    s.max_staleness =
        oldest == UINT64_MAX ? 0 : (double)(now_rel - oldest) / 1000;
    return s;
}

static uint64_t held_core(vr *x, uint32_t p, uint32_t q, uint16_t k)
{
    (void)k;
    hs_member_info info;
    if (!sim_view(x->net, p, q, &info))
        return 0;
    return info.max_version;
}

static uint64_t held_model(vr *x, uint32_t p, uint32_t q, uint16_t k)
{
    return x->have[((size_t)p * x->n + q) * x->keys + k];
}

/* ---- Scuttlebutt on the real cores -------------------------------------- */

static bool vr_write(vr *x, uint32_t q, uint16_t k, uint64_t t_rel)
{
    hs_core *core = x->net->nodes[q].core;
    char val[24];
    snprintf(val, sizeof val, "%llu", (unsigned long long)t_rel);
    if (hs__core_set(core, x->keyname[k], val, strlen(val), x->net->now) !=
        HS_OK)
        return false;
    sim_node_touch(x->net, q);
    hs_member_info self;
    sim_view(x->net, q, q, &self);
    return vr_log_add(&x->log[q], self.max_version, t_rel, k);
}

/* Runs the cores until no entry is stale or `limit` ms pass; returns the
 * time it took, or UINT64_MAX. */
static uint64_t vr_settle(vr *x, uint64_t limit)
{
    uint64_t start = x->net->now;
    while (x->net->now - start < limit && !x->net->timed_out) {
        vr_sample s = vr_measure(x, 0, held_core);
        if (s.stale == 0)
            return x->net->now - start;
        sim_run_until(x->net, x->net->now + 1000);
    }
    return UINT64_MAX;
}

static int vr_run_core(vr *x, vr_sample *series, size_t n_samples, sim_net *net)
{
    sim_opts o = *x->o;
    /* The paper's setting, whatever hearsay's default: one exchange per
     * member per second, the same cadence as the precise model. */
    o.core.gossip_interval_ms = 1000;
    o.core.heartbeat_interval_ms = 0;
    o.core.phi_threshold = 0;
    o.core.max_entries_per_msg = VR_MTU;
    o.core.max_datagram = HS_WIRE_MAX_DATAGRAM;
    o.core.max_keys = x->keys;
    x->net = net;
    if (!sim_build(net, &o, NULL) || !sim_seed_views(net))
        return 1;
    /* Every member writes all its keys, then the cluster settles. */
    for (uint32_t q = 0; q < x->n; q++)
        for (uint16_t k = 0; k < x->keys; k++)
            if (!vr_write(x, q, k, 0))
                return 1;
    if (vr_settle(x, 600000) == UINT64_MAX)
        return 1;
    for (uint32_t q = 0; q < x->n; q++)
        x->log[q].n = 0; /* t = 0: nothing is stale */
    x->t0 = net->now;
    uint32_t who;
    uint16_t key;
    uint64_t next = vr_next_update(x, 0, &who, &key);
    for (size_t i = 0; i < n_samples && !net->timed_out; i++) {
        uint64_t until = (uint64_t)(i + 1) * 1000;
        while (next <= until) {
            sim_run_until(net, x->t0 + next);
            if (!vr_write(x, who, key, next))
                return 1;
            next = vr_next_update(x, next, &who, &key);
        }
        sim_run_until(net, x->t0 + until);
        series[i] = vr_measure(x, until, held_core);
    }
    return net->timed_out ? 3 : 0;
}

/* ---- Precise reconciliation, modelled ----------------------------------- */

typedef struct vr_cand {
    uint64_t t; /* when the value p would send was written */
    uint32_t q;
    uint16_t k;
} vr_cand;

static int cmp_old(const void *a, const void *b)
{
    const vr_cand *x = a, *y = b;
    return x->t < y->t ? -1 : x->t > y->t;
}

static int cmp_new(const void *a, const void *b)
{
    return cmp_old(b, a);
}

/* from sends to `to` at most VR_MTU entries `to` lacks, oldest or newest
 * first (ties in random order, as the paper's "at random" baseline). */
static void vr_send(vr *x, uint32_t from, uint32_t to, vr_cand *cs)
{
    size_t nc = 0;
    for (uint32_t q = 0; q < x->n; q++) {
        if (q == to)
            continue;
        const uint64_t *a = &x->have[((size_t)from * x->n + q) * x->keys];
        const uint64_t *b = &x->have[((size_t)to * x->n + q) * x->keys];
        for (uint16_t k = 0; k < x->keys; k++) {
            if (a[k] <= b[k])
                continue;
            /* The value `from` holds was written by q at version a[k]. */
            uint64_t t = 0;
            const vr_log *l = &x->log[q];
            size_t lo = 0, hi = l->n;
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (l->u[mid].version < a[k])
                    lo = mid + 1;
                else
                    hi = mid;
            }
            if (lo < l->n && l->u[lo].version == a[k])
                t = l->u[lo].t;
            cs[nc++] = (vr_cand){
                .t = t * 64 + (vr_split(&x->mrng) & 63), .q = q, .k = k};
        }
    }
    qsort(cs, nc, sizeof *cs,
          x->o->recon == SIM_RECON_PRECISE_OLD ? cmp_old : cmp_new);
    for (size_t i = 0; i < nc && i < VR_MTU; i++) {
        size_t at = ((size_t)to * x->n + cs[i].q) * x->keys + cs[i].k;
        uint64_t v =
            x->have[((size_t)from * x->n + cs[i].q) * x->keys + cs[i].k];
        if (v > x->have[at])
            x->have[at] = v;
    }
}

static int vr_run_model(vr *x, vr_sample *series, size_t n_samples)
{
    size_t cells = (size_t)x->n * x->n * x->keys;
    x->have = calloc(cells, sizeof *x->have);
    x->next_round = calloc(x->n, sizeof *x->next_round);
    vr_cand *cs = malloc((size_t)x->n * x->keys * sizeof *cs);
    if (!x->have || !x->next_round || !cs) {
        free(cs);
        return 1;
    }
    /* Start converged: every key at version 0 everywhere. */
    for (uint32_t p = 0; p < x->n; p++)
        x->next_round[p] = vr_split(&x->mrng) % 1000;
    uint64_t *own_v = calloc(x->n, sizeof *own_v);
    if (!own_v) {
        free(cs);
        return 1;
    }
    uint32_t who;
    uint16_t key;
    uint64_t next = vr_next_update(x, 0, &who, &key);
    uint64_t now = 0;
    for (size_t i = 0; i < n_samples; i++) {
        uint64_t until = (uint64_t)(i + 1) * 1000;
        for (;;) {
            /* The earliest of: an update, an exchange. */
            uint32_t p_min = 0;
            for (uint32_t p = 1; p < x->n; p++)
                if (x->next_round[p] < x->next_round[p_min])
                    p_min = p;
            uint64_t t_ex = x->next_round[p_min];
            uint64_t t = next < t_ex ? next : t_ex;
            if (t > until)
                break;
            now = t;
            if (next <= t_ex) {
                uint64_t v = ++own_v[who];
                x->have[((size_t)who * x->n + who) * x->keys + key] = v;
                if (!vr_log_add(&x->log[who], v, now, key)) {
                    free(cs);
                    free(own_v);
                    return 1;
                }
                next = vr_next_update(x, next, &who, &key);
            } else {
                uint32_t peer = (uint32_t)(vr_split(&x->mrng) % (x->n - 1));
                if (peer >= p_min)
                    peer++;
                vr_send(x, peer, p_min, cs); /* pull */
                vr_send(x, p_min, peer, cs); /* push */
                x->next_round[p_min] += 1000;
            }
        }
        series[i] = vr_measure(x, until, held_model);
    }
    (void)now;
    free(cs);
    free(own_v);
    return 0;
}

/* ---- The scenario ------------------------------------------------------- */

static const char *recon_name(const sim_opts *o)
{
    switch (o->recon) {
    case SIM_RECON_PRECISE_OLD:
        return "precise-oldest";
    case SIM_RECON_PRECISE_NEW:
        return "precise-newest";
    default:
        return o->core.order == HS_ORDER_BREADTH ? "scuttle-breadth"
                                                 : "scuttle-depth";
    }
}

int sim_vrenesse(const sim_opts *o, sim_rep *r)
{
    vr x = {.o = o, .n = o->nodes, .keys = o->keys, .rate = o->rate};
    x.urng = o->seed * 0x2545f4914f6cdd1dULL + 17;
    x.mrng = o->seed ^ 0xabcdef;
    size_t n_samples = o->duration_s > 0 ? (size_t)o->duration_s : 180;
    vr_sample *series = calloc(n_samples, sizeof *series);
    x.log = calloc(x.n, sizeof *x.log);
    bool ok = series && x.log && x.n >= 2;
    for (uint32_t q = 0; ok && q < x.n; q++) {
        x.log[q].latest = calloc(x.keys, sizeof(uint64_t));
        x.log[q].last_upd = calloc(x.keys, sizeof(uint64_t));
        ok = x.log[q].latest && x.log[q].last_upd;
    }
    for (int k = 0; k < 256; k++)
        snprintf(x.keyname[k], sizeof x.keyname[k], "k%d", k);
    int rc = ok ? 0 : 1;
    sim_net net;
    memset(&net, 0, sizeof net);
    double t_start = sim_wall_now();
    if (rc == 0)
        rc = o->recon == SIM_RECON_CORE
                 ? vr_run_core(&x, series, n_samples, &net)
                 : vr_run_model(&x, series, n_samples);
    if (rc == 1) {
        fprintf(stderr, "hearsay-sim: vrenesse could not run\n");
    } else {
        uint64_t updates = 0, peak_stale = 0;
        double peak_age = 0, clear_s = NAN;
        for (uint32_t q = 0; q < x.n; q++)
            updates += x.log[q].n;
        for (size_t i = 0; i < n_samples; i++) {
            if (series[i].stale > peak_stale)
                peak_stale = series[i].stale;
            if (series[i].max_staleness > peak_age)
                peak_age = series[i].max_staleness;
            if (isnan(clear_s) && series[i].t > 120 && series[i].stale == 0)
                clear_s = series[i].t;
        }
        sim_rep_begin(r, NULL);
        sim_rep_str(r, "scenario", "vrenesse");
        sim_rep_str(r, "reconciliation", recon_name(o));
        sim_rep_bool(r, "modelled", o->recon != SIM_RECON_CORE);
        sim_rep_u64(r, "nodes", x.n);
        sim_rep_u64(r, "keys", x.keys);
        sim_rep_u64(r, "mtu_deltas", VR_MTU);
        sim_rep_num(r, "base_rate_per_member_s", x.rate);
        sim_rep_u64(r, "seed", o->seed);
        sim_rep_u64(r, "updates", updates);
        sim_rep_u64(r, "peak_stale_entries", peak_stale);
        sim_rep_num(r, "peak_max_staleness_s", peak_age);
        sim_rep_num(r, "all_fresh_at_s", clear_s);
        sim_rep_abegin(r, "series");
        for (size_t i = 0; i < n_samples; i++) {
            sim_rep_begin(r, NULL);
            sim_rep_num(r, "t", series[i].t);
            sim_rep_u64(r, "stale", series[i].stale);
            sim_rep_num(r, "max_staleness_s", series[i].max_staleness);
            sim_rep_end(r);
        }
        sim_rep_aend(r);
        if (o->recon == SIM_RECON_CORE) {
            sim_rep_u64(r, "max_datagram_bytes", net.stats.max_datagram);
            sim_rep_u64(r, "datagrams_sent", net.stats.msgs_sent);
        }
        sim_rep_num(r, "wall_s", sim_wall_now() - t_start);
        sim_rep_bool(r, "wall_limit_hit", net.timed_out);
        sim_rep_end(r);
    }
    if (net.nodes)
        sim_net_free(&net);
    for (uint32_t q = 0; x.log && q < x.n; q++) {
        free(x.log[q].u);
        free(x.log[q].latest);
        free(x.log[q].last_upd);
    }
    free(x.log);
    free(x.have);
    free(x.next_round);
    free(series);
    return rc;
}
