/*
 * sim/scenario.c — what the scenarios share: the default options, building
 * and starting a cluster, the head and tail of every report, percentiles
 * and the theory the convergence figures are compared with.
 */
#include "sim/scenario.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void sim_opts_init(sim_opts *o)
{
    memset(o, 0, sizeof *o);
    o->scenario = "converge";
    o->nodes = 128;
    o->seed = 1;
    o->trials = 0; /* per-scenario default */
    hs__core_config_init(&o->core);
    o->core.cluster = "sim";
    /* Overwritten per node; set so the template passes the config check. */
    o->core.name = "node-00000";
    o->core.addr = "10.0.0.1:7946";
    /* A data-centre link: 1-5 ms one way. */
    o->link.delay_ms = 1;
    o->link.jitter_ms = 4;
    o->link.reorder_ms = 20;
    o->keys = 64;
}

const char *sim_mode_name(hs_gossip_mode m)
{
    switch (m) {
    case HS_MODE_PUSH:
        return "push";
    case HS_MODE_PULL:
        return "pull";
    default:
        return "push-pull";
    }
}

bool sim_build(sim_net *net, const sim_opts *o, const sim_hooks *hooks)
{
    if (!sim_net_init(net, o->nodes, o->seed, &o->core, hooks))
        return false;
    net->link = o->link;
    net->wall_limit_s = o->wall_limit_s;
    for (uint32_t i = 0; i < net->n; i++)
        if (!sim_node_start(net, i, 1))
            return false;
    return true;
}

void sim_report_head(sim_rep *r, const sim_opts *o)
{
    sim_rep_begin(r, NULL);
    sim_rep_str(r, "scenario", o->scenario);
    sim_rep_u64(r, "nodes", o->nodes);
    sim_rep_str(r, "mode", sim_mode_name(o->core.mode));
    sim_rep_num(r, "loss", o->link.loss);
    sim_rep_u64(r, "seed", o->seed);
    sim_rep_u64(r, "fanout", o->core.fanout);
    sim_rep_u64(r, "gossip_interval_ms", o->core.gossip_interval_ms);
    sim_rep_u64(r, "heartbeat_interval_ms", o->core.heartbeat_interval_ms);
    sim_rep_num(r, "phi_threshold", o->core.phi_threshold);
    sim_rep_u64(r, "max_datagram_limit", o->core.max_datagram);
}

void sim_report_tail(sim_rep *r, const sim_net *net, const sim_opts *o,
                     double setup_s)
{
    const sim_stats *s = &net->stats;
    sim_rep_u64(r, "max_datagram_bytes", s->max_datagram);
    sim_rep_u64(r, "datagrams_sent", s->msgs_sent);
    sim_rep_u64(r, "datagrams_lost", s->dropped_loss + s->dropped_cut);
    sim_rep_u64(r, "datagrams_duplicated", s->duplicated);
    /* Every event the live cores emitted, by type: a scenario's own
     * figures say which of them were right. */
    uint64_t ev[HS_EVENT_TYPES] = {0}, gaps = 0, trunc = 0, rej = 0;
    uint64_t vm = 0, vmm = 0, followed = 0;
    for (uint32_t i = 0; i < net->n; i++) {
        if (!net->nodes[i].core)
            continue;
        const hs_core_stats *cs = hs__core_stats_get(net->nodes[i].core);
        for (int t = 0; t < HS_EVENT_TYPES; t++)
            ev[t] += cs->events[t];
        gaps += cs->deltas_gap;
        trunc += cs->truncated_msgs;
        vm += cs->view_matches;
        vmm += cs->view_mismatches;
        followed += cs->convictions_followed;
        for (int k = 0; k < HS_REASONS; k++)
            rej += cs->rejected[k];
    }
    sim_rep_begin(r, "events");
    for (int t = 0; t < HS_EVENT_TYPES; t++)
        sim_rep_u64(r, hs_event_type_name((hs_event_type)t), ev[t]);
    sim_rep_end(r);
    sim_rep_u64(r, "deltas_gap", gaps);
    sim_rep_u64(r, "truncated_msgs", trunc);
    sim_rep_u64(r, "rejected", rej);
    sim_rep_u64(r, "view_matches", vm);
    sim_rep_u64(r, "view_mismatches", vmm);
    sim_rep_u64(r, "convictions_followed", followed);
    /* Gossip bytes per node per simulated second over the whole run (the
     * converge scenario reports its own over the measured window), and
     * with 28 bytes of IPv4 and UDP header per datagram, which is what a
     * network carries and what docs/performance.md's floor counts. */
    double sim_s = (double)(net->now - 1000000) / 1000.0;
    if (strcmp(o->scenario, "converge") != 0 && sim_s > 0 && net->n) {
        sim_rep_num(r, "bytes_per_node_per_s",
                    (double)s->bytes_sent / net->n / sim_s);
        sim_rep_num(r, "ip_bytes_per_node_per_s",
                    ((double)s->bytes_sent + 28.0 * (double)s->msgs_sent) /
                        net->n / sim_s);
    }
    sim_rep_num(r, "simulated_s", (double)(net->now - 1000000) / 1000.0);
    sim_rep_num(r, "setup_wall_s", setup_s);
    sim_rep_num(r, "wall_s", sim_wall(net));
    sim_rep_num(r, "peak_rss_mb", (double)sim_peak_rss() / 1048576.0);
    sim_rep_bool(r, "wall_limit_hit", net->timed_out);
    sim_rep_end(r);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double sim_percentile(double *v, size_t n, double p)
{
    if (n == 0)
        return NAN;
    qsort(v, n, sizeof *v, cmp_double);
    size_t k = (size_t)ceil(p / 100.0 * (double)n);
    if (k < 1)
        k = 1;
    if (k > n)
        k = n;
    return v[k - 1];
}

double sim_theory_rounds(hs_gossip_mode m, double n)
{
    if (n < 2)
        return 0;
    double lnn = log(n);
    switch (m) {
    case HS_MODE_PUSH:
        return log2(n) + lnn;
    case HS_MODE_PULL:
        return log2(n) + (lnn > 1 ? log2(lnn) : 0);
    default:
        return log(n) / log(3.0) + (lnn > 1 ? log2(lnn) : 0);
    }
}
