/*
 * detector/phi.h — the phi-accrual failure detector, private to the library.
 *
 * phi(t) = -log10(P(the next heartbeat arrives later than t after the last))
 *
 * where the inter-arrival distribution is estimated from a sliding window of
 * observed intervals. Two models (docs/detector.md gives the formulas, the
 * defaults and what a threshold means in seconds):
 *
 *   HS_PHI_NORMAL       intervals ~ Normal(mean + acceptable_pause,
 *                       max(stddev, min_stddev)), as in Akka;
 *   HS_PHI_EXPONENTIAL  intervals ~ Exponential(mean), as in Cassandra,
 *                       with the acceptable pause subtracted from t.
 *
 * Everything here is a pure function of (samples, now): no clock, no I/O, no
 * knowledge of members or the network. Times are milliseconds as doubles on
 * whatever monotonic timeline the caller uses.
 */
#ifndef HS_PHI_H
#define HS_PHI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hearsay.h"

typedef enum hs_phi_model {
    HS_PHI_NORMAL = 0,
    HS_PHI_EXPONENTIAL = 1
} hs_phi_model;

typedef struct hs_phi_config {
    hs_phi_model model;
    uint32_t window;            /* max intervals kept (ring size), >= 2 */
    double min_stddev_ms;       /* floor for the normal model's sigma */
    double acceptable_pause_ms; /* added to the mean (normal) / taken off t */
    double first_interval_ms;   /* bootstrap estimate before real samples */
    double max_interval_ms;     /* longer intervals span an outage: ignored */
} hs_phi_config;

/* One monitored member's history. Treat as opaque; zero-initialise or call
 * hs__phi_init(). The ring grows on demand up to cfg->window, so a member
 * that was seen a few times costs a few bytes, not a full window. */
typedef struct hs_phi {
    float *ring;   /* intervals in ms; NULL until the first interval */
    uint32_t cap;  /* allocated slots */
    uint32_t n;    /* valid samples */
    uint32_t head; /* next slot to write */
    uint32_t since_recompute;
    double sum;     /* of (sample - shift) over the n samples */
    double sumsq;   /* of (sample - shift)^2 */
    double shift;   /* centre of sum/sumsq (a recent mean): see phi.c */
    double last_ms; /* last arrival */
    bool has_last;
} hs_phi;

/* Fills cfg with the documented defaults. */
void hs__phi_config_init(hs_phi_config *cfg);

/* HS_OK, or HS_EINVAL naming nothing more: unknown model, window < 2,
 * negative, NaN or infinite durations, first_interval_ms <= 0,
 * max_interval_ms <= first_interval_ms. */
hs_err hs__phi_config_check(const hs_phi_config *cfg);

void hs__phi_init(hs_phi *d);
void hs__phi_free(hs_phi *d); /* releases the ring; d may be reused after */

/* Drops every sample and the last arrival (used when a member is declared
 * dead or restarts: its old rhythm says nothing about the new one). */
void hs__phi_reset(hs_phi *d);

/* A heartbeat arrived at now_ms. Records the interval since the previous
 * arrival, unless there was none, time went backwards (the arrival is then
 * taken as now without a sample), time did not advance (the same delivery:
 * nothing changes), or the interval exceeds cfg->max_interval_ms (it spans
 * an outage: not a sample of the rhythm).
 * HS_ENOMEM if the ring could not grow (the arrival still counts);
 * HS_EINVAL if now_ms is not finite (nothing changes). */
hs_err hs__phi_heartbeat(hs_phi *d, const hs_phi_config *cfg, double now_ms);

/* Sets the last arrival to now_ms without recording an interval: used after
 * a known outage on the observer's side (a local pause), so the time the
 * observer was not running is not charged to the member. A non-finite
 * now_ms is ignored. */
void hs__phi_mark(hs_phi *d, double now_ms);

/* phi at now_ms. 0 when there is no last arrival or now <= last arrival.
 * Finite for any finite input (the tail is computed in log space), and
 * accurate to a relative 1e-9 up to at least phi = 30. */
double hs__phi_value(const hs_phi *d, const hs_phi_config *cfg, double now_ms);

/* The normal quantile for a threshold: the z with -log10(Q(z)) == phi, Q the
 * standard normal upper tail. Depends only on phi, so callers compute it once
 * per threshold. phi <= 0 gives -INFINITY (Q = 1), NaN gives NaN. */
double hs__phi_normal_z(double phi);

/* Milliseconds after the last arrival at which phi reaches `phi` (given its
 * z from hs__phi_normal_z, ignored by the exponential model). Lets a caller
 * schedule its next check instead of polling. >= 0. */
double hs__phi_crossing_ms(const hs_phi *d, const hs_phi_config *cfg,
                           double phi, double z);

/* The current estimate used by hs__phi_value (bootstrap included): the
 * window's mean (acceptable pause not added), and for the normal model the
 * sigma used, max(stddev, min_stddev_ms, 1 us); for the exponential model,
 * which ignores it, the window's stddev. */
double hs__phi_mean_ms(const hs_phi *d, const hs_phi_config *cfg);
double hs__phi_stddev_ms(const hs_phi *d, const hs_phi_config *cfg);

#endif /* HS_PHI_H */
