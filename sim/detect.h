/*
 * sim/detect.h — what the failure detection scenarios (detect_crash.c,
 * detect_partition.c, detect_pause.c, detect_churn.c) share from detect.c:
 * the heartbeat inter-arrival meter and the bookkeeping that sorts every
 * SUSPECT and FAIL into right and false. Private to sim/detect*.c.
 */
#ifndef HS_SIM_DETECT_H
#define HS_SIM_DETECT_H

#include "sim/scenario.h"

typedef struct hbmeter {
    uint32_t n;        /* nodes measured (pairs are n x n) */
    uint64_t *last_hb; /* [observer * n + member] */
    uint64_t *last_at;
    uint64_t *hist; /* inter-arrival histogram, HB_BUCKET_MS wide */
    uint64_t count;
    double sum, sumsq, max;
    bool on;
} hbmeter;

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

/* The member index of a simulated node's name ("node-N"), or UINT32_MAX. */
uint32_t sim_name_index(const char *name);
/* After observer obs took in a datagram: an arrival for each member whose
 * version moved, timed since its previous one at obs. */
void sim_hb_observe(hbmeter *h, const sim_net *net, uint32_t obs);
/* Member j restarted: its next arrival starts a new series. */
void sim_hb_forget(hbmeter *h, uint32_t j);
/* The inter-arrival figures (count, mean, spread, quantiles, max). */
void sim_hb_report(sim_rep *r, const hbmeter *h);

/* Excuses a crashed or paused member's observers and target (the
 * default `excused`). */
bool sim_crashed_excused(const sim_net *net, const watch *w, uint32_t i,
                         uint32_t j, const hs_core_event *ev);
/* The event hook: sorts SUSPECT and FAIL into right and false, and times
 * the episode's target. */
void sim_watch_event(sim_net *net, uint32_t i, const hs_core_event *ev,
                     void *arg);
bool sim_watch_init(watch *w, uint32_t n);
void sim_watch_free(watch *w);
/* Starts timing the detection of `target`, which failed at t. */
void sim_watch_reset_episode(watch *w, uint32_t n, uint32_t target, uint64_t t);
/* Earliest and latest time in at[] over the observers that count. */
void sim_span(const sim_net *net, const uint64_t *at, uint64_t t0,
              bool (*counts)(const sim_net *, uint32_t, const void *),
              const void *arg, double *first, double *all);
/* An observer of the episode: up, and not its target. */
bool sim_is_survivor(const sim_net *net, uint32_t i, const void *arg);
uint32_t sim_count_survivors(const sim_net *net, const watch *w);
/* A scenario's exit status: 3 when it ran out of time, 1 out of memory. */
int sim_detect_finish(sim_net *net, int rc);
/* Starts and seeds a cluster for a detection scenario. */
bool sim_detect_build(sim_net *net, const sim_opts *o, uint64_t seed, watch *w);

#endif /* HS_SIM_DETECT_H */
