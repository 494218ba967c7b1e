/*
 * sim/scenario.h — the experiments hearsay-sim runs over sim/net.c, and
 * the options they share. Each scenario sets up a cluster of real cores,
 * does something to it (writes a key, crashes a node, cuts the network),
 * measures, and writes its figures to a sim_rep. Every run is bounded in
 * virtual time (and optionally in wall time), so none can hang a sweep.
 */
#ifndef HS_SIM_SCENARIO_H
#define HS_SIM_SCENARIO_H

#include "sim/report.h"
#include "sim/sim.h"

typedef enum sim_recon {
    SIM_RECON_CORE = 0,    /* the core, in its configured order */
    SIM_RECON_PRECISE_OLD, /* modelled: precise, oldest first */
    SIM_RECON_PRECISE_NEW  /* modelled: precise, newest first */
} sim_recon;

typedef struct sim_opts {
    const char *scenario;
    uint32_t nodes;
    uint64_t seed;
    uint32_t trials;
    bool json;

    /* The cores' configuration (hs__core_config_init() defaults unless
     * given on the command line). */
    hs_core_config core;

    /* The network's default link. */
    sim_link link;

    /* Scenario knobs; 0 means "the scenario's default". */
    double duration_s;   /* observation / partition / pause / churn length */
    double warmup_s;     /* time before the measured part starts */
    uint32_t max_rounds; /* converge: give up on a trial after this */
    double wall_limit_s; /* give up (exit 3) after this much real time */
    bool one_way;        /* partition: cut only group 0 -> group 1 */
    bool from_join;      /* converge: reach the converged start by gossip */
    double rate;         /* vrenesse: base updates per member per second;
                            churn: restarts per second (whole cluster) */
    uint32_t keys;       /* vrenesse: keys per member */
    sim_recon recon;     /* vrenesse: who reconciles */
} sim_opts;

/* Fills o with the documented defaults (hearsay-sim --help). */
void sim_opts_init(sim_opts *o);

/* Each returns the process exit status: 0 ok, 1 failed to run (memory,
 * bad combination), 3 wall-clock limit hit. Figures go to r. */
int sim_converge(const sim_opts *o, sim_rep *r);
int sim_join(const sim_opts *o, sim_rep *r);
int sim_crash(const sim_opts *o, sim_rep *r);
int sim_partition(const sim_opts *o, sim_rep *r);
int sim_pause(const sim_opts *o, sim_rep *r);
int sim_churn(const sim_opts *o, sim_rep *r);
int sim_vrenesse(const sim_opts *o, sim_rep *r);

/* ---- Shared by the scenarios (scenario.c) ------------------------------- */

/* Builds a net of o->nodes nodes with o's core config and link, and
 * starts them all at the same time. */
bool sim_build(sim_net *net, const sim_opts *o, const sim_hooks *hooks);

/* The common header every report starts with. */
void sim_report_head(sim_rep *r, const sim_opts *o);
/* Network and cost figures every report ends with. */
void sim_report_tail(sim_rep *r, const sim_net *net, const sim_opts *o,
                     double setup_s);

const char *sim_mode_name(hs_gossip_mode m);

/* Nearest-rank percentile (0 < p <= 100) of v[0..n), sorting v. */
double sim_percentile(double *v, size_t n, double p);

/* Rounds the theory predicts for a new version to reach all N members
 * with fanout 1 (Karp et al. 2000, Doerr and Kostrygin 2017):
 * push-pull log3(N) + log2(ln N), push log2(N) + ln(N); pull, which
 * finishes like push-pull but starts slower, log2(N) + log2(ln N) — the
 * "pull" phase's doubly-exponential finish after a push-like start. */
double sim_theory_rounds(hs_gossip_mode m, double n);

#endif /* HS_SIM_SCENARIO_H */
