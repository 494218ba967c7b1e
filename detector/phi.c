/*
 * detector/phi.c — the phi-accrual failure detector (see phi.h for the
 * contract and docs/detector.md for the formulas and the defaults).
 *
 * How it is built, and why:
 *
 *   - The window is a ring of floats that grows on demand (4, 8, 16, ... up
 *     to cfg->window). Most members of a large cluster are seen often, but a
 *     member that just joined or keeps restarting should not cost a full
 *     window; floats halve the memory and their 24-bit mantissa (0.06 ms at
 *     1000 s) is far finer than any heartbeat jitter.
 *
 *   - Mean and variance come from running sums, so phi is O(1) per query
 *     (it is asked for every member on every tick). The sums are kept about
 *     a shift (a recent mean) rather than about zero: sumsq/n - mean^2 would
 *     otherwise cancel catastrophically for a regular member (mean 100 s,
 *     stddev 1 ms: the variance is 1e-10 of sumsq/n, so 10 of 16 digits
 *     would be lost before any drift). Evictions subtract, and rounding
 *     errors of subtractions accumulate, so every time as many samples were
 *     added as the window holds the sums are recomputed exactly (two passes)
 *     and the shift is re-centred: the drift is bounded by one window's worth
 *     of roundings, never by uptime, for one extra pass per window (O(1)
 *     amortised).
 *
 *   - The tail is computed in log space. For the normal model
 *     ln Q(z) = ln(erfc(x) / 2), x = z / sqrt(2), straight from libm while
 *     erfc(x) is comfortably representable (x < 20, erfc ~ 5e-176), and for
 *     x >= 20 as -x^2 - ln(sqrt(pi)) - ln(F(x)) - ln 2 where F is the
 *     continued fraction with erfc(x) = exp(-x^2) / (sqrt(pi) F(x)). So phi
 *     is accurate where it matters and finite for any finite input (phi is
 *     clamped to DBL_MAX only when the true value exceeds it).
 */
#include "detector/phi.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * Defaults. They are a first choice from one published measurement and
 * will be re-measured with the simulator; docs/detector.md explains each.
 *
 * The normal model (Akka's) because with a minimum stddev and a pause it
 * adapts to the measured spread: gossip-delivered heartbeats at a 1 s
 * interval arrived with mean 1.5 s and stddev 0.9 s at 128 nodes, and the
 * exponential model, which knows only the mean, would convict such a member
 * at threshold 8 only after 8 * ln(10) * 1.5 s = 27.6 s.
 */
#define HS_PHI_DEFAULT_MODEL HS_PHI_NORMAL
/* 200 intervals is ~5 minutes of history at the measured 1.5 s mean: the
 * stddev estimate then has a standard error of 1/sqrt(2 * 200) = 5 %, yet a
 * change of rhythm (the cluster grew, gossip slowed) is followed within
 * minutes. Akka keeps 1000 for direct heartbeats; gossip rhythms drift with
 * cluster size, so a shorter memory fits better. 800 bytes per member. */
#define HS_PHI_DEFAULT_WINDOW 200u
/* Half a heartbeat interval. Protects members whose window happens to be
 * very regular (small clusters, direct delivery: stddev of a few ms) from
 * being convicted by the first scheduling hiccup: with 500 ms a heartbeat a
 * full interval late is 2 sigma, not 100 or more. Below the measured 0.9 s, so
 * it does not blunt the detector in the gossip case it was measured for. */
#define HS_PHI_DEFAULT_MIN_STDDEV_MS 500.0
/* One heartbeat interval of slack on the mean: a pause of the member (GC,
 * a stalled event loop, a lost datagram) that the window has not yet seen.
 * Akka uses 3 s for direct 1 s heartbeats with a 100 ms min stddev; here the
 * measured gossip stddev already widens the curve, so 1 s is enough and
 * keeps conviction at threshold 8 near 7.5 s for the measured rhythm. */
#define HS_PHI_DEFAULT_ACCEPTABLE_PAUSE_MS 1000.0
/* The default heartbeat interval: before a member's rhythm is measured it
 * is assumed to be the configured one. Callers with another interval should
 * set this to theirs. */
#define HS_PHI_DEFAULT_FIRST_INTERVAL_MS 1000.0
/* Longer than any conviction time the normal model produces with these
 * defaults (threshold 16 at a 2 s interval with 0.9 s jitter convicts after
 * ~10 s; docs/detector.md has the table), so a slow but real rhythm is
 * never discarded; a longer silence means the member was already convicted
 * or the observer was away, and is not a sample of the rhythm. */
#define HS_PHI_DEFAULT_MAX_INTERVAL_MS 30000.0

/* The first allocation: a handful of intervals for a member seen a few
 * times; doubling from here reaches 200 in six steps. */
#define HS_PHI_INITIAL_CAP 4u

/* The normal model needs sigma > 0. With min_stddev_ms = 0 and a window of
 * identical intervals (a simulator's exact timers) sigma would be 0; one
 * microsecond is below any real clock's meaningful resolution for
 * heartbeats and turns the division by zero into a (very steep) curve. */
#define HS_PHI_SIGMA_FLOOR_MS 1e-3

/* Where the normal tail switches from libm's erfc to the continued
 * fraction: erfc(20) ~ 5.4e-176, far from underflow, and at x >= 20 twelve
 * terms of the fraction are exact to ~1e-25 (checked against mpmath). */
#define HS_PHI_ERFC_SWITCH 20.0
#define HS_PHI_CF_TERMS 12

/* Above this phi the quantile is sqrt(2 phi ln 10) to within ~1e-98
 * relative (the next term is ln(z)/z^2), and z^2 would start to overflow. */
#define HS_PHI_Z_ASYMPTOTIC 1e100

#define HS_LN_SQRT_PI 0.57236494292470008707  /* ln(sqrt(pi)) */
#define HS_LN_SQRT_2PI 0.91893853320467274178 /* ln(sqrt(2 pi)) */

void hs__phi_config_init(hs_phi_config *cfg)
{
    cfg->model = HS_PHI_DEFAULT_MODEL;
    cfg->window = HS_PHI_DEFAULT_WINDOW;
    cfg->min_stddev_ms = HS_PHI_DEFAULT_MIN_STDDEV_MS;
    cfg->acceptable_pause_ms = HS_PHI_DEFAULT_ACCEPTABLE_PAUSE_MS;
    cfg->first_interval_ms = HS_PHI_DEFAULT_FIRST_INTERVAL_MS;
    cfg->max_interval_ms = HS_PHI_DEFAULT_MAX_INTERVAL_MS;
}

static bool is_duration(double v)
{
    return isfinite(v) && v >= 0;
}

hs_err hs__phi_config_check(const hs_phi_config *cfg)
{
    if (cfg == NULL)
        return HS_EINVAL;
    if (cfg->model != HS_PHI_NORMAL && cfg->model != HS_PHI_EXPONENTIAL)
        return HS_EINVAL;
    if (cfg->window < 2)
        return HS_EINVAL;
    if (!is_duration(cfg->min_stddev_ms) ||
        !is_duration(cfg->acceptable_pause_ms) ||
        !is_duration(cfg->first_interval_ms) ||
        !is_duration(cfg->max_interval_ms))
        return HS_EINVAL;
    if (cfg->first_interval_ms <= 0)
        return HS_EINVAL;
    if (cfg->max_interval_ms <= cfg->first_interval_ms)
        return HS_EINVAL;
    return HS_OK;
}

void hs__phi_init(hs_phi *d)
{
    memset(d, 0, sizeof *d);
}

void hs__phi_free(hs_phi *d)
{
    free(d->ring);
    hs__phi_init(d);
}

/* A dead or restarted member keeps nothing, not even the allocation: a
 * graveyard of members must cost what never-seen members cost. */
void hs__phi_reset(hs_phi *d)
{
    hs__phi_free(d);
}

/* Index of the i-th oldest valid sample. */
static uint32_t slot(const hs_phi *d, uint32_t i)
{
    return (uint32_t)(((uint64_t)d->head + d->cap - d->n + i) % d->cap);
}

/* Exact two-pass recomputation of the sums, re-centred on the mean. */
static void recompute(hs_phi *d)
{
    d->since_recompute = 0;
    if (d->n == 0) {
        d->shift = d->sum = d->sumsq = 0;
        return;
    }
    double s = 0;
    for (uint32_t i = 0; i < d->n; i++)
        s += d->ring[slot(d, i)];
    double mean = s / d->n;
    double s1 = 0, s2 = 0;
    for (uint32_t i = 0; i < d->n; i++) {
        double dev = d->ring[slot(d, i)] - mean;
        s1 += dev;
        s2 += dev * dev;
    }
    d->shift = mean;
    d->sum = s1;
    d->sumsq = s2;
}

static void evict_oldest(hs_phi *d)
{
    double dev = d->ring[slot(d, 0)] - d->shift;
    d->sum -= dev;
    d->sumsq -= dev * dev;
    d->n--;
    if (d->n == 0)
        recompute(d);
}

/* Overflow-checked: on a 32-bit size_t, 4 * UINT32_MAX bytes would wrap. */
static float *alloc_floats(size_t n)
{
    if (n > SIZE_MAX / sizeof(float))
        return NULL;
    return malloc(n * sizeof(float));
}

/* Grows a full ring toward `window`: doubling keeps growth amortised O(1),
 * and the last step lands exactly on the window so no slot is wasted. The
 * samples are copied oldest first, so the new ring is not wrapped. */
static hs_err grow(hs_phi *d, uint32_t window)
{
    uint32_t cap;
    if (d->cap == 0)
        cap = HS_PHI_INITIAL_CAP < window ? HS_PHI_INITIAL_CAP : window;
    else if (d->cap > window / 2)
        cap = window;
    else
        cap = d->cap * 2;
    float *ring = alloc_floats(cap);
    if (ring == NULL)
        return HS_ENOMEM;
    for (uint32_t i = 0; i < d->n; i++)
        ring[i] = d->ring[slot(d, i)];
    free(d->ring);
    d->ring = ring;
    d->cap = cap;
    d->head = d->n % cap;
    return HS_OK;
}

static hs_err add_sample(hs_phi *d, uint32_t window, float v)
{
    /* window < 2 is refused by hs__phi_config_check; an unchecked config
     * still gets a working (two-slot) detector rather than a crash. */
    if (window < 2)
        window = 2;
    /* A config whose window shrank since the last call drops the excess. */
    while (d->n >= window)
        evict_oldest(d);
    if (d->n == d->cap) {
        hs_err err = grow(d, window);
        if (err != HS_OK)
            return err;
    }
    d->ring[d->head] = v;
    d->head = (d->head + 1) % d->cap;
    if (d->n == 0) {
        /* The first sample is the best centre there is until the first
         * recomputation. */
        d->shift = v;
        d->sum = d->sumsq = 0;
    } else {
        double dev = (double)v - d->shift;
        d->sum += dev;
        d->sumsq += dev * dev;
    }
    d->n++;
    if (++d->since_recompute >= d->n)
        recompute(d);
    return HS_OK;
}

hs_err hs__phi_heartbeat(hs_phi *d, const hs_phi_config *cfg, double now_ms)
{
    if (!isfinite(now_ms))
        return HS_EINVAL;
    if (!d->has_last) {
        d->last_ms = now_ms;
        d->has_last = true;
        return HS_OK;
    }
    double iv = now_ms - d->last_ms;
    if (iv < 0) {
        /* The caller's clock stepped back: restart the rhythm from now
         * rather than wait for time to catch up with the old arrival. */
        d->last_ms = now_ms;
        return HS_OK;
    }
    if (!(iv > 0))
        return HS_OK; /* same instant: one delivery, not a rhythm */
    d->last_ms = now_ms;
    if (iv > cfg->max_interval_ms || iv > FLT_MAX)
        return HS_OK; /* spans an outage */
    float v = (float)iv;
    if (!(v > 0))
        return HS_OK; /* below float resolution: the same instant */
    return add_sample(d, cfg->window, v);
}

void hs__phi_mark(hs_phi *d, double now_ms)
{
    if (!isfinite(now_ms))
        return;
    d->last_ms = now_ms;
    d->has_last = true;
}

/*
 * The window's mean and (population) stddev, bootstrap included:
 *   0 samples: first_interval F and F/4, as Akka seeds its window;
 *   1 sample x: the estimate of the three values {F - F/4, F + F/4, x},
 *     which is what Akka's seeded window holds after its first interval.
 *     One interval says little about a rhythm (gossip can deliver two
 *     heartbeats back to back), so it moves the estimate a third of the way
 *     and widens the spread if it disagrees, rather than replacing it;
 *   2+ samples: the samples alone.
 */
static void estimate(const hs_phi *d, const hs_phi_config *cfg, double *mean,
                     double *sd)
{
    double f = cfg->first_interval_ms;
    if (d->n == 0) {
        *mean = f;
        *sd = f / 4;
    } else if (d->n == 1) {
        double a = f - f / 4, b = f + f / 4, x = d->ring[slot(d, 0)];
        double m = (a + b + x) / 3;
        *mean = m;
        *sd = sqrt(((a - m) * (a - m) + (b - m) * (b - m) + (x - m) * (x - m)) /
                   3);
    } else {
        double dm = d->sum / d->n;
        double var = d->sumsq / d->n - dm * dm;
        *mean = d->shift + dm;
        *sd = var > 0 ? sqrt(var) : 0;
    }
}

static double normal_sigma(const hs_phi_config *cfg, double sd)
{
    double s = sd > cfg->min_stddev_ms ? sd : cfg->min_stddev_ms;
    return s > HS_PHI_SIGMA_FLOOR_MS ? s : HS_PHI_SIGMA_FLOOR_MS;
}

double hs__phi_mean_ms(const hs_phi *d, const hs_phi_config *cfg)
{
    double mean, sd;
    estimate(d, cfg, &mean, &sd);
    return mean;
}

double hs__phi_stddev_ms(const hs_phi *d, const hs_phi_config *cfg)
{
    double mean, sd;
    estimate(d, cfg, &mean, &sd);
    return cfg->model == HS_PHI_NORMAL ? normal_sigma(cfg, sd) : sd;
}

/* F(x) = x + (1/2) / (x + 1 / (x + (3/2) / (x + ...))), so that
 * erfc(x) = exp(-x^2) / (sqrt(pi) F(x)). Evaluated bottom up; for x >= 20
 * the truncation error is far below a double's resolution. */
static double erfc_cf(double x)
{
    double f = x;
    for (int k = HS_PHI_CF_TERMS; k >= 1; k--)
        f = x + (k / 2.0) / f;
    return f;
}

/*
 * ln Q(z), Q the standard normal upper tail, and, if ratio is not NULL,
 * the hazard phi(z) / Q(z) (phi the density), which Newton needs and which
 * must not be formed as exp(ln phi - ln Q) for large z: both are ~ -z^2/2
 * and their difference would cancel.
 */
static double log_q(double z, double *ratio)
{
    double x = z / M_SQRT2;
    double lq;
    if (z < 0) {
        /* Q(z) = 1 - Q(-z): log1p keeps small phi (Q near 1) accurate. */
        double qm = 0.5 * erfc(-x);
        lq = log1p(-qm);
        if (ratio)
            *ratio = exp(-0.5 * z * z - HS_LN_SQRT_2PI - lq);
    } else if (x < HS_PHI_ERFC_SWITCH) {
        double q = 0.5 * erfc(x);
        lq = log(q);
        if (ratio)
            *ratio = exp(-0.5 * z * z - HS_LN_SQRT_2PI) / q;
    } else {
        double f = erfc_cf(x);
        lq = -x * x - HS_LN_SQRT_PI - log(f) - M_LN2;
        if (ratio)
            *ratio = M_SQRT2 * f;
    }
    return lq;
}

/* phi is >= 0 by definition; the clamp turns -0, a rounding below 0 and
 * an overflowed +inf (true phi beyond DBL_MAX) into representable values. */
static double clamp_phi(double phi)
{
    if (!(phi > 0))
        return 0;
    return phi > DBL_MAX ? DBL_MAX : phi;
}

double hs__phi_value(const hs_phi *d, const hs_phi_config *cfg, double now_ms)
{
    if (!d->has_last || !(now_ms > d->last_ms))
        return 0;
    double t = now_ms - d->last_ms;
    double mean, sd;
    estimate(d, cfg, &mean, &sd);
    if (cfg->model == HS_PHI_EXPONENTIAL) {
        /* P(X > t) = exp(-t' / mean): phi = t' / (mean ln 10), exactly. */
        double tp = t - cfg->acceptable_pause_ms;
        if (!(tp > 0))
            return 0;
        return clamp_phi(tp / (mean * M_LN10));
    }
    double z = (t - (mean + cfg->acceptable_pause_ms)) / normal_sigma(cfg, sd);
    return clamp_phi(-log_q(z, NULL) / M_LN10);
}

/* The w >= 0 with -ln Q(w) = c, for c >= ln 2. -ln Q is convex, and
 * Q(w) <= exp(-w^2/2) / 2 puts w0 = sqrt(2c) at or right of the root, so
 * Newton descends monotonically onto it; quadratic convergence takes it to
 * a double's resolution in a handful of steps (< 10 over the whole range;
 * 100 is a guard, not an expectation). */
static double solve_upper(double c)
{
    double w = sqrt(2 * c);
    for (int i = 0; i < 100; i++) {
        double r;
        double g = log_q(w, &r) + c; /* <= 0 right of the root */
        double step = g / r;
        w += step;
        if (!(fabs(step) > 1e-15 * (w > 1 ? w : 1)))
            break;
    }
    return w;
}

double hs__phi_normal_z(double phi)
{
    if (isnan(phi))
        return NAN;
    if (phi <= 0)
        return -INFINITY; /* Q(z) = 1 only as z -> -inf */
    if (phi > HS_PHI_Z_ASYMPTOTIC)
        return sqrt(phi) * sqrt(2 * M_LN10); /* also covers +inf */
    double c = phi * M_LN10;
    if (c >= M_LN2)
        return solve_upper(c);
    /* z < 0: Q(z) = 10^-phi <=> Q(-z) = 1 - 10^-phi, solved as an upper
     * tail so Newton never crawls along the flat lower tail. */
    return -solve_upper(-log(-expm1(-c)));
}

double hs__phi_crossing_ms(const hs_phi *d, const hs_phi_config *cfg,
                           double phi, double z)
{
    if (!(phi > 0))
        return 0; /* phi is >= 0 from the start */
    double mean, sd;
    estimate(d, cfg, &mean, &sd);
    double t;
    if (cfg->model == HS_PHI_EXPONENTIAL)
        t = cfg->acceptable_pause_ms + phi * mean * M_LN10;
    else
        t = mean + cfg->acceptable_pause_ms + normal_sigma(cfg, sd) * z;
    if (!(t > 0))
        return 0;
    return t > DBL_MAX ? DBL_MAX : t;
}
