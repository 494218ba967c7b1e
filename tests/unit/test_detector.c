/*
 * test_detector.c — the phi-accrual detector (detector/phi.c).
 *
 * The accuracy tests compare against references computed independently of
 * the C code: tests/unit/gen_detector_ref.py evaluates the tails with mpmath
 * at 60 digits (no libm erfc, no continued fraction), cross-checked against
 * Python's math.erfc where that is representable. The constants are that
 * script's output, detector_ref.inc, included verbatim:
 *
 *     python3 tests/unit/gen_detector_ref.py > tests/unit/detector_ref.inc
 *
 * A window with an exact mean m and population stddev s is built by feeding
 * intervals m - s, m + s, m - s, ... and hs__phi_mark(0) then makes the last
 * arrival 0, so phi is asked at exactly the t the reference was computed for.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <float.h>
#include <math.h>

#include "detector/phi.h"

struct normal_ref {
    double mean, sd, pause, t, phi;
};
struct exp_ref {
    double mean, pause, t, phi;
};
struct z_ref {
    double phi, z;
};

/* The references: tests/unit/gen_detector_ref.py's output, verbatim
 * (regenerate with: python3 tests/unit/gen_detector_ref.py >
 * tests/unit/detector_ref.inc). */
#include "detector_ref.inc"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* The accuracy phi.h promises up to phi = 30; the tests hold it everywhere,
 * huge phi included. */
#define PHI_REL_TOL 1e-9

static void check_rel(double got, double want, double tol, const char *what,
                      double arg)
{
    double err = fabs(got - want);
    double scale = fabs(want) > 0 ? fabs(want) : 1;
    if (!(err <= tol * scale))
        fail_msg("%s(%.17g): got %.17g, want %.17g (rel err %.3g > %.3g)", what,
                 arg, got, want, err / scale, tol);
}

/* A config that adds nothing of its own: no stddev floor, no pause, and an
 * outage limit far beyond any interval the tests feed unless they mean it. */
static hs_phi_config plain_config(hs_phi_model model, double pause)
{
    hs_phi_config cfg;
    hs__phi_config_init(&cfg);
    cfg.model = model;
    cfg.min_stddev_ms = 0;
    cfg.acceptable_pause_ms = pause;
    cfg.first_interval_ms = 1000;
    cfg.max_interval_ms = 1e9;
    cfg.window = 200;
    return cfg;
}

/* Feeds `count` intervals alternating mean - sd, mean + sd (count even gives
 * exactly that mean and population stddev), then marks the last arrival at
 * 0 so hs__phi_value(d, cfg, t) is phi at elapsed time t exactly. */
static void load(hs_phi *d, const hs_phi_config *cfg, double mean, double sd,
                 unsigned count)
{
    double now = 0;
    assert_int_equal(hs__phi_heartbeat(d, cfg, now), HS_OK);
    for (unsigned i = 0; i < count; i++) {
        now += (i % 2 == 0) ? mean - sd : mean + sd;
        assert_int_equal(hs__phi_heartbeat(d, cfg, now), HS_OK);
    }
    hs__phi_mark(d, 0);
}

/* ---- config -------------------------------------------------------------- */

static void defaults_are_the_documented_ones(void **state)
{
    (void)state;
    hs_phi_config cfg;
    memset(&cfg, 0xab, sizeof cfg);
    hs__phi_config_init(&cfg);
    /* docs/detector.md "Defaults" gives these and why; change both. */
    assert_int_equal(cfg.model, HS_PHI_NORMAL);
    assert_int_equal(cfg.window, 200);
    assert_true(cfg.min_stddev_ms == 500.0);
    assert_true(cfg.acceptable_pause_ms == 1000.0);
    assert_true(cfg.first_interval_ms == 1000.0);
    assert_true(cfg.max_interval_ms == 30000.0);
    assert_int_equal(hs__phi_config_check(&cfg), HS_OK);
}

static void config_check_rejects_bad_configs(void **state)
{
    (void)state;
    hs_phi_config ok;
    hs__phi_config_init(&ok);
    hs_phi_config c;

    assert_int_equal(hs__phi_config_check(NULL), HS_EINVAL);

    c = ok, c.model = (hs_phi_model)2;
    assert_int_equal(hs__phi_config_check(&c), HS_EINVAL);
    c = ok, c.window = 1;
    assert_int_equal(hs__phi_config_check(&c), HS_EINVAL);
    c = ok, c.window = 0;
    assert_int_equal(hs__phi_config_check(&c), HS_EINVAL);
    c = ok, c.window = 2; /* the smallest that has a spread */
    assert_int_equal(hs__phi_config_check(&c), HS_OK);

    c = ok, c.min_stddev_ms = -1;
    assert_int_equal(hs__phi_config_check(&c), HS_EINVAL);
    c = ok, c.min_stddev_ms = NAN;
    assert_int_equal(hs__phi_config_check(&c), HS_EINVAL);
    c = ok, c.min_stddev_ms = 0; /* allowed: no floor */
    assert_int_equal(hs__phi_config_check(&c), HS_OK);

    c = ok, c.acceptable_pause_ms = -0.5;
    assert_int_equal(hs__phi_config_check(&c), HS_EINVAL);
    c = ok, c.acceptable_pause_ms = NAN;
    assert_int_equal(hs__phi_config_check(&c), HS_EINVAL);
    c = ok, c.acceptable_pause_ms = INFINITY;
    assert_int_equal(hs__phi_config_check(&c), HS_EINVAL);
    c = ok, c.acceptable_pause_ms = 0;
    assert_int_equal(hs__phi_config_check(&c), HS_OK);

    c = ok, c.first_interval_ms = 0;
    assert_int_equal(hs__phi_config_check(&c), HS_EINVAL);
    c = ok, c.first_interval_ms = -1000;
    assert_int_equal(hs__phi_config_check(&c), HS_EINVAL);
    c = ok, c.first_interval_ms = NAN;
    assert_int_equal(hs__phi_config_check(&c), HS_EINVAL);

    c = ok, c.max_interval_ms = c.first_interval_ms;
    assert_int_equal(hs__phi_config_check(&c), HS_EINVAL);
    c = ok, c.max_interval_ms = c.first_interval_ms / 2;
    assert_int_equal(hs__phi_config_check(&c), HS_EINVAL);
    c = ok, c.max_interval_ms = NAN;
    assert_int_equal(hs__phi_config_check(&c), HS_EINVAL);
    c = ok, c.max_interval_ms = INFINITY;
    assert_int_equal(hs__phi_config_check(&c), HS_EINVAL);
    c = ok, c.max_interval_ms = c.first_interval_ms * 1.001;
    assert_int_equal(hs__phi_config_check(&c), HS_OK);
}

/* ---- accuracy against the references ------------------------------------ */

static void normal_phi_matches_reference(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_OF(normal_refs); i++) {
        const struct normal_ref *r = &normal_refs[i];
        hs_phi_config cfg = plain_config(HS_PHI_NORMAL, r->pause);
        hs_phi d;
        hs__phi_init(&d);
        load(&d, &cfg, r->mean, r->sd, 200);
        /* The window must hold exactly the reference's parameters, or the
         * comparison below would test the test. */
        assert_true(hs__phi_mean_ms(&d, &cfg) == r->mean);
        check_rel(hs__phi_stddev_ms(&d, &cfg), r->sd, 1e-15, "sd", r->sd);
        check_rel(hs__phi_value(&d, &cfg, r->t), r->phi, PHI_REL_TOL, "phi",
                  r->t);
        hs__phi_free(&d);
    }
}

static void normal_phi_is_accurate_far_into_the_tail(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_OF(normal_large_refs); i++) {
        const struct normal_ref *r = &normal_large_refs[i];
        hs_phi_config cfg = plain_config(HS_PHI_NORMAL, r->pause);
        hs_phi d;
        hs__phi_init(&d);
        load(&d, &cfg, r->mean, r->sd, 200);
        double phi = hs__phi_value(&d, &cfg, r->t);
        assert_true(isfinite(phi));
        check_rel(phi, r->phi, PHI_REL_TOL, "phi", r->t);
        hs__phi_free(&d);
    }
}

static void exponential_phi_matches_reference(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_OF(exp_refs); i++) {
        const struct exp_ref *r = &exp_refs[i];
        hs_phi_config cfg = plain_config(HS_PHI_EXPONENTIAL, r->pause);
        hs_phi d;
        hs__phi_init(&d);
        /* The exponential model reads only the mean; give it a spread
         * anyway so a mix-up with the normal model shows. */
        load(&d, &cfg, r->mean, r->mean / 4, 200);
        assert_true(hs__phi_mean_ms(&d, &cfg) == r->mean);
        check_rel(hs__phi_value(&d, &cfg, r->t), r->phi, PHI_REL_TOL, "phi",
                  r->t);
        hs__phi_free(&d);
    }
}

static void phi_is_finite_for_any_finite_input(void **state)
{
    (void)state;
    const double ts[] = {1e12, 1e100, 1e300, DBL_MAX};
    for (int model = 0; model < 2; model++) {
        hs_phi_config cfg = plain_config((hs_phi_model)model, 0);
        hs_phi d;
        hs__phi_init(&d);
        /* Identical intervals and no min stddev: the steepest curve there
         * is (sigma hits the internal 1 us floor). */
        load(&d, &cfg, 1000, 0, 50);
        double prev = 0;
        for (size_t i = 0; i < N_OF(ts); i++) {
            double phi = hs__phi_value(&d, &cfg, ts[i]);
            assert_true(isfinite(phi));
            assert_true(phi > 0);
            assert_true(phi >= prev);
            prev = phi;
        }
        /* now - last itself overflows to +inf. */
        hs__phi_mark(&d, -DBL_MAX);
        double phi = hs__phi_value(&d, &cfg, DBL_MAX);
        assert_true(isfinite(phi) && phi > 0);
        assert_true(hs__phi_value(&d, &cfg, NAN) == 0);
        hs__phi_free(&d);
    }
}

/* The tail switches method at x = z / sqrt(2) = 20 (phi ~ 175.6): the two
 * sides must join smoothly, without a step or a dip. */
static void phi_is_smooth_across_the_tail_switch(void **state)
{
    (void)state;
    hs_phi_config cfg = plain_config(HS_PHI_NORMAL, 0);
    hs_phi d;
    hs__phi_init(&d);
    load(&d, &cfg, 1000, 100, 200);
    const double sigma = 100, mu = 1000;
    double prev = 0, prev_slope = 0;
    for (int i = -100; i <= 100; i++) {
        double x = 20 + i * 1e-4;
        double t = mu + sigma * M_SQRT2 * x;
        double phi = hs__phi_value(&d, &cfg, t);
        if (i > -100) {
            /* d phi / dx ~ 2x / ln 10 ~ 17.4: each 1e-4 step adds ~1.7e-3,
             * varying only in the 4th digit over this range. */
            double slope = (phi - prev) / 1e-4;
            assert_true(slope > 17.3 && slope < 17.5);
            if (i > -99)
                assert_true(fabs(slope - prev_slope) < 1e-3);
            prev_slope = slope;
        }
        prev = phi;
    }
    hs__phi_free(&d);
}

/* ---- bootstrap, outages, clock, reset, mark ------------------------------ */

static void no_arrival_means_phi_zero(void **state)
{
    (void)state;
    hs_phi_config cfg;
    hs__phi_config_init(&cfg);
    hs_phi d;
    hs__phi_init(&d);
    assert_true(hs__phi_value(&d, &cfg, 0) == 0);
    assert_true(hs__phi_value(&d, &cfg, 1e9) == 0);

    assert_int_equal(hs__phi_heartbeat(&d, &cfg, 5000), HS_OK);
    assert_int_equal(d.n, 0); /* one arrival is no interval */
    assert_true(hs__phi_value(&d, &cfg, 5000) == 0);
    assert_true(hs__phi_value(&d, &cfg, 4000) == 0); /* before last */
    assert_true(hs__phi_value(&d, &cfg, 5000 + 10000) > 1);
    hs__phi_free(&d);
}

static void bootstrap_until_two_samples(void **state)
{
    (void)state;
    hs_phi_config cfg = plain_config(HS_PHI_NORMAL, 0);
    hs_phi d;
    hs__phi_init(&d);

    /* No sample: first_interval and first_interval / 4. */
    assert_true(hs__phi_mean_ms(&d, &cfg) == 1000);
    assert_true(hs__phi_stddev_ms(&d, &cfg) == 250);
    /* ... and phi is that of Normal(1000, 250): the reference rows. */
    assert_int_equal(hs__phi_heartbeat(&d, &cfg, 0), HS_OK);
    int checked = 0;
    for (size_t i = 0; i < N_OF(normal_refs); i++) {
        const struct normal_ref *r = &normal_refs[i];
        if (r->mean != 1000 || r->sd != 250 || r->pause != 0)
            continue;
        check_rel(hs__phi_value(&d, &cfg, r->t), r->phi, PHI_REL_TOL,
                  "bootstrap phi", r->t);
        checked++;
    }
    assert_true(checked >= 10);

    /* The default min stddev (500) floors the bootstrap's 250. */
    hs_phi_config def;
    hs__phi_config_init(&def);
    assert_true(hs__phi_stddev_ms(&d, &def) == 500);

    /* One sample: the estimate of {750, 1250, x}. */
    assert_int_equal(hs__phi_heartbeat(&d, &cfg, 1600), HS_OK);
    assert_int_equal(d.n, 1);
    check_rel(hs__phi_mean_ms(&d, &cfg), ONE_SAMPLE_MEAN, 1e-15, "mean", 1);
    check_rel(hs__phi_stddev_ms(&d, &cfg), ONE_SAMPLE_SD, 1e-14, "sd", 1);

    /* Two samples (1600, 900): the samples alone. */
    assert_int_equal(hs__phi_heartbeat(&d, &cfg, 2500), HS_OK);
    assert_int_equal(d.n, 2);
    check_rel(hs__phi_mean_ms(&d, &cfg), 1250, 1e-15, "mean", 2);
    check_rel(hs__phi_stddev_ms(&d, &cfg), 350, 1e-14, "sd", 2);

    /* The exponential model bootstraps its mean the same way. */
    hs_phi_config ecfg = plain_config(HS_PHI_EXPONENTIAL, 0);
    hs_phi e;
    hs__phi_init(&e);
    assert_true(hs__phi_mean_ms(&e, &ecfg) == 1000);
    assert_int_equal(hs__phi_heartbeat(&e, &ecfg, 0), HS_OK);
    check_rel(hs__phi_value(&e, &ecfg, 1000), 1 / M_LN10, 1e-15, "exp", 1000);
    hs__phi_free(&e);
    hs__phi_free(&d);
}

static void zero_variance_is_floored_by_min_stddev(void **state)
{
    (void)state;
    hs_phi_config cfg;
    hs__phi_config_init(&cfg);
    cfg.acceptable_pause_ms = 0;
    hs_phi flat, spread;
    hs__phi_init(&flat);
    hs__phi_init(&spread);
    load(&flat, &cfg, 1000, 0, 50);
    hs_phi_config nofloor = cfg;
    nofloor.min_stddev_ms = 0;
    assert_true(hs__phi_stddev_ms(&flat, &nofloor) < 1e-2);
    assert_true(hs__phi_stddev_ms(&flat, &cfg) == cfg.min_stddev_ms);

    /* Floored to 500, a flat window behaves exactly like a window with a
     * true stddev of 500 and the same mean. */
    load(&spread, &nofloor, 1000, 500, 50);
    for (double t = 500; t <= 6000; t += 250) {
        double a = hs__phi_value(&flat, &cfg, t);
        double b = hs__phi_value(&spread, &nofloor, t);
        check_rel(a, b, 1e-14, "floored phi", t);
    }
    /* Without a floor the flat window still gives a finite, steep curve. */
    assert_true(hs__phi_value(&flat, &nofloor, 999) < 1e-9);
    double steep = hs__phi_value(&flat, &nofloor, 1001);
    assert_true(isfinite(steep) && steep > 1e5);
    hs__phi_free(&flat);
    hs__phi_free(&spread);
}

static void outage_intervals_are_not_samples(void **state)
{
    (void)state;
    hs_phi_config cfg;
    hs__phi_config_init(&cfg);
    hs_phi d;
    hs__phi_init(&d);
    double now = 0;
    assert_int_equal(hs__phi_heartbeat(&d, &cfg, now), HS_OK);
    for (int i = 0; i < 10; i++)
        assert_int_equal(hs__phi_heartbeat(&d, &cfg, now += 1000), HS_OK);
    assert_int_equal(d.n, 10);
    assert_true(hs__phi_mean_ms(&d, &cfg) == 1000);

    /* Longer than max_interval: the arrival counts, the interval does not. */
    now += cfg.max_interval_ms + 1;
    assert_int_equal(hs__phi_heartbeat(&d, &cfg, now), HS_OK);
    assert_int_equal(d.n, 10);
    assert_true(hs__phi_mean_ms(&d, &cfg) == 1000);
    assert_true(d.last_ms == now);
    assert_true(hs__phi_value(&d, &cfg, now + 500) < 1);

    /* Exactly max_interval is still a (slow) rhythm. */
    now += cfg.max_interval_ms;
    assert_int_equal(hs__phi_heartbeat(&d, &cfg, now), HS_OK);
    assert_int_equal(d.n, 11);
    assert_true(hs__phi_mean_ms(&d, &cfg) > 3000);

    /* A gap that long while unobserved gives a huge but finite phi. */
    double phi = hs__phi_value(&d, &cfg, now + 1e12);
    assert_true(isfinite(phi) && phi > 1e6);
    hs__phi_free(&d);
}

static void time_going_back_records_nothing(void **state)
{
    (void)state;
    hs_phi_config cfg;
    hs__phi_config_init(&cfg);
    hs_phi d;
    hs__phi_init(&d);
    assert_int_equal(hs__phi_heartbeat(&d, &cfg, 10000), HS_OK);
    assert_int_equal(hs__phi_heartbeat(&d, &cfg, 11000), HS_OK);
    assert_int_equal(d.n, 1);

    /* Backwards: taken as the new last arrival, no sample. */
    assert_int_equal(hs__phi_heartbeat(&d, &cfg, 4000), HS_OK);
    assert_int_equal(d.n, 1);
    assert_true(d.last_ms == 4000);
    assert_true(hs__phi_value(&d, &cfg, 4000) == 0);
    /* The rhythm resumes from the new timeline. */
    assert_int_equal(hs__phi_heartbeat(&d, &cfg, 5200), HS_OK);
    assert_int_equal(d.n, 2);
    check_rel(hs__phi_mean_ms(&d, &cfg), 1100, 1e-15, "mean", 5200);

    /* The same instant again: one delivery, no sample, nothing moves. */
    assert_int_equal(hs__phi_heartbeat(&d, &cfg, 5200), HS_OK);
    assert_int_equal(d.n, 2);

    /* Not a time at all: refused, nothing changes. */
    assert_int_equal(hs__phi_heartbeat(&d, &cfg, NAN), HS_EINVAL);
    assert_int_equal(hs__phi_heartbeat(&d, &cfg, INFINITY), HS_EINVAL);
    hs__phi_mark(&d, NAN);
    assert_true(d.last_ms == 5200);
    assert_int_equal(d.n, 2);
    hs__phi_free(&d);
}

static void reset_forgets_everything(void **state)
{
    (void)state;
    hs_phi_config cfg = plain_config(HS_PHI_NORMAL, 0);
    hs_phi d;
    hs__phi_init(&d);
    load(&d, &cfg, 3000, 100, 20);
    assert_true(hs__phi_mean_ms(&d, &cfg) == 3000);
    assert_true(hs__phi_value(&d, &cfg, 2000) > 0);

    hs__phi_reset(&d);
    assert_false(d.has_last);
    assert_int_equal(d.n, 0);
    assert_null(d.ring);
    assert_true(hs__phi_value(&d, &cfg, 2000) == 0);
    /* Back to the bootstrap, not to the old rhythm. */
    assert_true(hs__phi_mean_ms(&d, &cfg) == 1000);
    assert_true(hs__phi_stddev_ms(&d, &cfg) == 250);

    /* And usable again. */
    assert_int_equal(hs__phi_heartbeat(&d, &cfg, 0), HS_OK);
    assert_int_equal(hs__phi_heartbeat(&d, &cfg, 700), HS_OK);
    assert_int_equal(hs__phi_heartbeat(&d, &cfg, 1500), HS_OK);
    check_rel(hs__phi_mean_ms(&d, &cfg), 750, 1e-15, "mean", 0);
    hs__phi_free(&d);
}

static void mark_moves_the_last_arrival_only(void **state)
{
    (void)state;
    hs_phi_config cfg;
    hs__phi_config_init(&cfg);
    hs_phi d;
    hs__phi_init(&d);
    double now = 0;
    assert_int_equal(hs__phi_heartbeat(&d, &cfg, now), HS_OK);
    for (int i = 0; i < 10; i++)
        assert_int_equal(hs__phi_heartbeat(&d, &cfg, now += 1000), HS_OK);
    double before = hs__phi_value(&d, &cfg, now + 4000);
    assert_true(before > 1);

    /* The observer was paused 20 s: its silence is not the member's. */
    hs__phi_mark(&d, now + 20000);
    assert_int_equal(d.n, 10);
    assert_true(hs__phi_value(&d, &cfg, now + 20000) == 0);
    check_rel(hs__phi_value(&d, &cfg, now + 24000), before, 1e-15, "phi", 0);

    /* The next interval is measured from the mark. */
    assert_int_equal(hs__phi_heartbeat(&d, &cfg, now + 21000), HS_OK);
    assert_int_equal(d.n, 11);
    check_rel(hs__phi_mean_ms(&d, &cfg), 1000, 1e-15, "mean", 0);

    /* Mark on a fresh detector starts the clock like a first arrival. */
    hs_phi e;
    hs__phi_init(&e);
    hs__phi_mark(&e, 100);
    assert_int_equal(e.n, 0);
    assert_true(hs__phi_value(&e, &cfg, 5100) > 1);
    hs__phi_free(&e);
    hs__phi_free(&d);
}

/* ---- the window ---------------------------------------------------------- */

static void window_keeps_only_the_last_intervals(void **state)
{
    (void)state;
    hs_phi_config cfg = plain_config(HS_PHI_NORMAL, 0);
    cfg.window = 8;
    hs_phi d;
    hs__phi_init(&d);
    double now = 0;
    assert_int_equal(hs__phi_heartbeat(&d, &cfg, now), HS_OK);
    for (int i = 0; i < 8; i++)
        assert_int_equal(hs__phi_heartbeat(&d, &cfg, now += 100), HS_OK);
    assert_true(hs__phi_mean_ms(&d, &cfg) == 100);
    /* window + 3: the three oldest 100s are gone. */
    for (int i = 0; i < 3; i++)
        assert_int_equal(hs__phi_heartbeat(&d, &cfg, now += 200), HS_OK);
    assert_int_equal(d.n, 8);
    check_rel(hs__phi_mean_ms(&d, &cfg), (5 * 100 + 3 * 200) / 8.0, 1e-15,
              "mean", 11);
    /* population stddev of {100 x5, 200 x3} */
    check_rel(hs__phi_stddev_ms(&d, &cfg), sqrt(15.0) / 8 * 100, 1e-12, "sd",
              11);
    /* Another full window: nothing of the old rhythm is left. */
    for (int i = 0; i < 8; i++)
        assert_int_equal(hs__phi_heartbeat(&d, &cfg, now += 300), HS_OK);
    check_rel(hs__phi_mean_ms(&d, &cfg), 300, 1e-15, "mean", 19);
    hs_phi_config raw = cfg; /* reports the window's own stddev */
    raw.model = HS_PHI_EXPONENTIAL;
    assert_true(hs__phi_stddev_ms(&d, &raw) < 1e-6);
    hs__phi_free(&d);
}

static void ring_grows_on_demand(void **state)
{
    (void)state;
    hs_phi_config cfg;
    hs__phi_config_init(&cfg);
    hs_phi d;
    hs__phi_init(&d);
    double now = 0;
    assert_int_equal(hs__phi_heartbeat(&d, &cfg, now), HS_OK);
    assert_null(d.ring); /* no interval, no memory */
    assert_int_equal(hs__phi_heartbeat(&d, &cfg, now += 1000), HS_OK);
    assert_non_null(d.ring);
    assert_true(d.cap >= 1 && d.cap <= 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(hs__phi_heartbeat(&d, &cfg, now += 1000 + i), HS_OK);
    assert_int_equal(d.n, 5);
    assert_true(d.cap >= 5 && d.cap <= 10); /* grown, not the full window */
    for (int i = 0; i < 500; i++) {
        assert_int_equal(hs__phi_heartbeat(&d, &cfg, now += 1000 + i % 7),
                         HS_OK);
        assert_true(d.cap <= cfg.window);
        assert_true(d.n <= d.cap);
    }
    assert_int_equal(d.n, cfg.window);
    assert_int_equal(d.cap, cfg.window);

    /* Growth of a wrapped ring keeps the samples and their order: window
     * 4 wraps, then a larger window must grow it and evict oldest-first. */
    hs_phi_config small = cfg;
    small.window = 4;
    hs_phi e;
    hs__phi_init(&e);
    now = 0;
    assert_int_equal(hs__phi_heartbeat(&e, &small, now), HS_OK);
    for (int i = 1; i <= 6; i++) /* keeps 300, 400, 500, 600 */
        assert_int_equal(hs__phi_heartbeat(&e, &small, now += 100 * i), HS_OK);
    check_rel(hs__phi_mean_ms(&e, &small), 450, 1e-15, "mean", 6);
    hs_phi_config big = small;
    big.window = 6;
    assert_int_equal(hs__phi_heartbeat(&e, &big, now += 700), HS_OK);
    assert_int_equal(hs__phi_heartbeat(&e, &big, now += 800), HS_OK);
    assert_int_equal(e.n, 6);
    check_rel(hs__phi_mean_ms(&e, &big), 550, 1e-15, "mean", 8);
    /* One more: the oldest (300) must go, not a newer one. */
    assert_int_equal(hs__phi_heartbeat(&e, &big, now += 900), HS_OK);
    check_rel(hs__phi_mean_ms(&e, &big), 650, 1e-15, "mean", 9);

    /* A window that shrinks drops the oldest excess at the next sample. */
    assert_int_equal(hs__phi_heartbeat(&e, &small, now += 1000), HS_OK);
    assert_int_equal(e.n, 4);
    check_rel(hs__phi_mean_ms(&e, &small), 850, 1e-15, "mean", 10);
    hs__phi_free(&e);
    hs__phi_free(&d);
}

/* A very regular member far from zero is where running sums go wrong:
 * sumsq/n - mean^2 cancels, every eviction adds a rounding, and a sum
 * centred on an old rhythm is centred wrongly for a new one. The rhythm here
 * jumps between 100 s +- 1 ms and 1 s +- 0.01 ms (mean / stddev ~ 1.7e5 in
 * both); one window after each jump, and for many windows after, the
 * estimate must match a fresh two-pass computation over the same floats. */
static void running_sums_do_not_drift(void **state)
{
    (void)state;
    hs_phi_config cfg = plain_config(HS_PHI_NORMAL, 0);
    cfg.window = 50;
    hs_phi d;
    hs__phi_init(&d);
    float kept[50];
    uint64_t lcg = 12345;
    double now = 0;
    int checks = 0;
    assert_int_equal(hs__phi_heartbeat(&d, &cfg, now), HS_OK);
    for (int i = 0; i < 120000; i++) {
        int phase = (i / 20000) % 2;
        double base = phase == 0 ? 100000 : 1000;
        double spread = phase == 0 ? 1 : 0.01;
        lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
        double u = (double)(lcg >> 11) / (double)(1ull << 53) * 2 - 1;
        double next = now + base + spread * u;
        kept[i % 50] = (float)(next - now);
        now = next;
        assert_int_equal(hs__phi_heartbeat(&d, &cfg, now), HS_OK);
        if (i % 20000 < 2 * 50 || i % 499 != 0)
            continue;
        double s = 0, ss = 0;
        for (int k = 0; k < 50; k++)
            s += kept[k];
        double mean = s / 50;
        for (int k = 0; k < 50; k++)
            ss += (kept[k] - mean) * (kept[k] - mean);
        check_rel(hs__phi_mean_ms(&d, &cfg), mean, 1e-13, "mean", i);
        check_rel(hs__phi_stddev_ms(&d, &cfg), sqrt(ss / 50), 1e-9, "sd", i);
        checks++;
    }
    assert_true(checks > 200);
    hs__phi_free(&d);
}

/* ---- quantile and crossing time ------------------------------------------ */

static void normal_z_matches_reference(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_OF(z_refs); i++) {
        double z = hs__phi_normal_z(z_refs[i].phi);
        double want = z_refs[i].z;
        double scale = fabs(want) > 1 ? fabs(want) : 1;
        if (!(fabs(z - want) <= 1e-12 * scale))
            fail_msg("normal_z(%.17g) = %.17g, want %.17g", z_refs[i].phi, z,
                     want);
    }
    /* Round trip through libm where erfc is representable. */
    for (double phi = 0.05; phi < 250; phi *= 1.37) {
        double z = hs__phi_normal_z(phi);
        double back = -log10(0.5 * erfc(z / M_SQRT2));
        check_rel(back, phi, 1e-12, "round trip", phi);
    }
    assert_true(hs__phi_normal_z(log10(2.0)) < 1e-15 &&
                hs__phi_normal_z(log10(2.0)) > -1e-15);
    assert_true(isinf(hs__phi_normal_z(0)) && hs__phi_normal_z(0) < 0);
    assert_true(isinf(hs__phi_normal_z(-3)) && hs__phi_normal_z(-3) < 0);
    assert_true(isnan(hs__phi_normal_z(NAN)));
    assert_true(isinf(hs__phi_normal_z(INFINITY)));
    /* Beyond the Newton range: sqrt(2 phi ln 10) and finite. */
    double zbig = hs__phi_normal_z(1e200);
    check_rel(zbig, sqrt(2 * 1e200 * M_LN10), 1e-14, "z", 1e200);
    assert_true(isfinite(hs__phi_normal_z(DBL_MAX)));
}

static void crossing_time_is_where_phi_reaches_the_threshold(void **state)
{
    (void)state;
    const double thresholds[] = {0.3, 1, 3, 5, 8, 10, 12, 16, 30, 100, 1000};
    const struct {
        double mean, sd, pause;
        unsigned count;
    } states[] = {
        {1000, 250, 0, 0},      /* bootstrap */
        {1500, 900, 1000, 1},   /* one sample (bootstrap blend) */
        {1500, 900, 1000, 200}, /* the measured gossip rhythm */
        {1000, 10, 3000, 200},  /* regular, under min stddev */
    };
    for (int model = 0; model < 2; model++) {
        for (size_t s = 0; s < N_OF(states); s++) {
            hs_phi_config cfg;
            hs__phi_config_init(&cfg);
            cfg.model = (hs_phi_model)model;
            cfg.acceptable_pause_ms = states[s].pause;
            hs_phi d;
            hs__phi_init(&d);
            load(&d, &cfg, states[s].mean, states[s].sd, states[s].count);
            double prev = 0;
            for (size_t k = 0; k < N_OF(thresholds); k++) {
                double T = thresholds[k];
                double c =
                    hs__phi_crossing_ms(&d, &cfg, T, hs__phi_normal_z(T));
                assert_true(c > prev); /* higher bar, later conviction */
                prev = c;
                check_rel(hs__phi_value(&d, &cfg, c), T, PHI_REL_TOL,
                          "phi at crossing", T);
            }
            assert_true(hs__phi_crossing_ms(&d, &cfg, 0, -INFINITY) == 0);
            hs__phi_free(&d);
        }
    }
    /* Exponential: pause + phi * mean * ln 10, in closed form. */
    hs_phi_config cfg = plain_config(HS_PHI_EXPONENTIAL, 2000);
    hs_phi d;
    hs__phi_init(&d);
    load(&d, &cfg, 1500, 100, 200);
    check_rel(hs__phi_crossing_ms(&d, &cfg, 8, 0), 2000 + 8 * 1500 * M_LN10,
              1e-15, "exp crossing", 8);
    /* A normal curve whose crossing would be before 0 clips at 0: phi 1e-30
     * is z ~ -11.4, i.e. 1140 ms before a mean of 1000 ms. */
    cfg = plain_config(HS_PHI_NORMAL, 0);
    load(&d, &cfg, 1000, 100, 200);
    assert_true(hs__phi_normal_z(1e-30) < -10);
    assert_true(hs__phi_crossing_ms(&d, &cfg, 1e-30, hs__phi_normal_z(1e-30)) ==
                0);
    /* Huge thresholds stay finite. */
    assert_true(isfinite(
        hs__phi_crossing_ms(&d, &cfg, DBL_MAX, hs__phi_normal_z(DBL_MAX))));
    cfg.model = HS_PHI_EXPONENTIAL;
    assert_true(isfinite(hs__phi_crossing_ms(&d, &cfg, DBL_MAX, 0)));
    hs__phi_free(&d);
}

/* docs/detector.md tabulates conviction times from
 * docs/tools/detector_table.py; if the defaults or the model change, these
 * fail until the doc is regenerated. */
static void documented_conviction_times(void **state)
{
    (void)state;
    const struct {
        hs_phi_model model;
        double pause, mean, sd, threshold, seconds;
    } rows[] = {
        /* "Heartbeat interval I = 1 s", T = 8, J = 0.9 s and 0.1 s */
        {HS_PHI_NORMAL, 1000, 1000, 900, 8, 7.05},
        {HS_PHI_NORMAL, 1000, 1000, 100, 8, 4.81},
        /* "I = 2 s", T = 16, J = 0.9 s; "I = 0.5 s", T = 3, J = 0.1 s */
        {HS_PHI_NORMAL, 1000, 2000, 900, 16, 10.40},
        {HS_PHI_NORMAL, 1000, 500, 100, 3, 3.05},
        /* side by side, gossip rhythm: hearsay defaults */
        {HS_PHI_NORMAL, 1000, 1500, 900, 8, 7.55},
        /* exponential, no pause and pause 1 s, I = 1 s, T = 8 */
        {HS_PHI_EXPONENTIAL, 0, 1000, 100, 8, 18.42},
        {HS_PHI_EXPONENTIAL, 1000, 1000, 100, 8, 19.42},
    };
    for (size_t i = 0; i < N_OF(rows); i++) {
        hs_phi_config cfg;
        hs__phi_config_init(&cfg);
        cfg.model = rows[i].model;
        cfg.acceptable_pause_ms = rows[i].pause;
        hs_phi d;
        hs__phi_init(&d);
        load(&d, &cfg, rows[i].mean, rows[i].sd, 200);
        double t = rows[i].threshold;
        double s = hs__phi_crossing_ms(&d, &cfg, t, hs__phi_normal_z(t)) / 1000;
        if (!(fabs(s - rows[i].seconds) <= 0.005))
            fail_msg("row %zu: conviction after %.4f s, doc says %.2f s", i, s,
                     rows[i].seconds);
        hs__phi_free(&d);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_are_the_documented_ones),
        cmocka_unit_test(config_check_rejects_bad_configs),
        cmocka_unit_test(normal_phi_matches_reference),
        cmocka_unit_test(normal_phi_is_accurate_far_into_the_tail),
        cmocka_unit_test(exponential_phi_matches_reference),
        cmocka_unit_test(phi_is_finite_for_any_finite_input),
        cmocka_unit_test(phi_is_smooth_across_the_tail_switch),
        cmocka_unit_test(no_arrival_means_phi_zero),
        cmocka_unit_test(bootstrap_until_two_samples),
        cmocka_unit_test(zero_variance_is_floored_by_min_stddev),
        cmocka_unit_test(outage_intervals_are_not_samples),
        cmocka_unit_test(time_going_back_records_nothing),
        cmocka_unit_test(reset_forgets_everything),
        cmocka_unit_test(mark_moves_the_last_arrival_only),
        cmocka_unit_test(window_keeps_only_the_last_intervals),
        cmocka_unit_test(ring_grows_on_demand),
        cmocka_unit_test(running_sums_do_not_drift),
        cmocka_unit_test(normal_z_matches_reference),
        cmocka_unit_test(crossing_time_is_where_phi_reaches_the_threshold),
        cmocka_unit_test(documented_conviction_times),
    };
    return cmocka_run_group_tests_name("detector", tests, NULL, NULL);
}
