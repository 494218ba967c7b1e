/*
 * sim/converge.c — how fast a new version reaches every member (converge),
 * and how long a cluster takes to form (join).
 *
 * converge: start from a converged view (seeded, or reached by gossip with
 * --from-join), let the cluster settle, then per trial write one key on a
 * random member at a random moment and count gossip intervals until every
 * live member holds that version. "Rounds" = ceil(elapsed / interval): the
 * cores gossip asynchronously, each at its own phase, so this is the
 * number of intervals any observer would have had to wait. Trials run one
 * after another in the same cluster, each starting at a random point of
 * the interval after the previous one ended, so the steady-state traffic
 * (heartbeats, digests, the previous key's rumors) is part of the figure.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/scenario.h"

typedef struct conv {
    bool active;
    uint32_t writer;
    uint64_t version, generation;
    uint8_t *reached;
    uint32_t n_reached, n_need;
    uint64_t t_done;
} conv;

static void conv_receive(sim_net *net, uint32_t node, void *arg)
{
    conv *c = arg;
    if (!c->active || c->reached[node])
        return;
    hs_member_info info;
    if (!sim_view(net, node, c->writer, &info) ||
        info.generation != c->generation || info.max_version < c->version)
        return;
    c->reached[node] = 1;
    if (++c->n_reached == c->n_need) {
        c->t_done = net->now;
        c->active = false;
        net->stop = true;
    }
}

/* Every up node knows every up node as alive (the view a cluster that
 * finished joining has). */
static bool views_complete(const sim_net *net, uint32_t n_up)
{
    for (uint32_t i = 0; i < net->n; i++)
        if (net->nodes[i].state == SIM_UP &&
            hs__core_member_count(net->nodes[i].core) < n_up)
            return false;
    return true;
}

/* Runs until every up node's view holds n_up members, checking once per
 * second. Returns the time it happened, or 0 at `limit`. */
static uint64_t run_until_complete(sim_net *net, uint32_t n_up, uint64_t limit)
{
    while (net->now < limit && !net->timed_out && !net->oom) {
        if (views_complete(net, n_up))
            return net->now;
        sim_run_until(net, net->now + 1000);
    }
    return views_complete(net, n_up) ? net->now : 0;
}

int sim_converge(const sim_opts *o, sim_rep *r)
{
    conv c = {0};
    sim_hooks hooks = {.on_receive = conv_receive, .arg = &c};
    sim_net net;
    uint32_t trials = o->trials ? o->trials : 20;
    uint32_t max_rounds = o->max_rounds ? o->max_rounds : 100;
    uint64_t interval = o->core.gossip_interval_ms;
    double *rounds = calloc(trials, sizeof *rounds);
    double *secs = calloc(trials, sizeof *secs);
    c.reached = calloc(o->nodes, 1);
    uint64_t rss0 = sim_rss(), heap0 = sim_heap_used();
    if (!rounds || !secs || !c.reached || !sim_build(&net, o, &hooks)) {
        fprintf(stderr, "hearsay-sim: out of memory building %u nodes\n",
                o->nodes);
        return 1;
    }

    /* A converged start. */
    uint64_t join_ms = 0;
    if (o->from_join) {
        uint64_t t0 = net.now;
        uint64_t done = run_until_complete(&net, net.n, t0 + 3600 * 1000);
        if (!done) {
            fprintf(stderr, "hearsay-sim: the cluster did not form\n");
            return net.timed_out ? 3 : 1;
        }
        join_ms = done - t0;
    } else if (!sim_seed_views(&net)) {
        fprintf(stderr, "hearsay-sim: seeding the views failed\n");
        return 1;
    }
    uint64_t rss_views = sim_rss(), heap_views = sim_heap_used();
    /* Settle: the seeding's rumors die out after rumor_rounds. */
    double warm = o->warmup_s > 0 ? o->warmup_s
                                  : (double)(o->core.rumor_rounds + 2) *
                                        (double)interval / 1000.0;
    sim_run_until(&net, net.now + (uint64_t)(warm * 1000));
    double setup_s = sim_wall(&net);

    uint64_t bytes0 = net.stats.bytes_sent, t_start = net.now;
    uint32_t unconverged = 0, done = 0;
    char value[32];
    for (uint32_t t = 0; t < trials && !net.timed_out && !net.oom; t++) {
        sim_run_until(&net, net.now + sim_rand(&net) % interval);
        uint32_t w;
        do
            w = (uint32_t)(sim_rand(&net) % net.n);
        while (net.nodes[w].state != SIM_UP);
        snprintf(value, sizeof value, "%u", t);
        hs_core *core = net.nodes[w].core;
        if (hs__core_set(core, "k", value, strlen(value), net.now) != HS_OK) {
            fprintf(stderr, "hearsay-sim: write failed\n");
            return 1;
        }
        sim_node_touch(&net, w);
        hs_member_info self;
        sim_view(&net, w, w, &self);
        memset(c.reached, 0, net.n);
        c.writer = w;
        c.version = self.max_version;
        c.generation = self.generation;
        c.reached[w] = 1;
        c.n_reached = 1;
        c.n_need = 0;
        for (uint32_t i = 0; i < net.n; i++)
            c.n_need += net.nodes[i].state == SIM_UP;
        c.active = c.n_reached < c.n_need;
        uint64_t t_write = net.now;
        c.t_done = t_write;
        if (c.active)
            sim_run_until(&net, t_write + max_rounds * interval);
        if (c.active) {
            c.active = false;
            unconverged++;
            rounds[t] = max_rounds + 1;
            secs[t] = (double)(max_rounds * interval) / 1000.0;
        } else {
            uint64_t el = c.t_done - t_write;
            rounds[t] = (double)((el + interval - 1) / interval);
            secs[t] = (double)el / 1000.0;
        }
        done++;
    }
    double elapsed_rounds = (double)(net.now - t_start) / (double)interval;
    double per_node_round = elapsed_rounds > 0
                                ? (double)(net.stats.bytes_sent - bytes0) /
                                      ((double)net.n * elapsed_rounds)
                                : 0;
    double mean = 0;
    for (uint32_t t = 0; t < done; t++)
        mean += rounds[t];
    mean = done ? mean / done : NAN;

    sim_report_head(r, o);
    sim_rep_u64(r, "trials", done);
    sim_rep_num(r, "rounds_p50", sim_percentile(rounds, done, 50));
    sim_rep_num(r, "rounds_p99", sim_percentile(rounds, done, 99));
    sim_rep_num(r, "rounds_max", sim_percentile(rounds, done, 100));
    sim_rep_num(r, "rounds_mean", mean);
    sim_rep_num(r, "theory_rounds", sim_theory_rounds(o->core.mode, net.n));
    sim_rep_num(r, "seconds_p50", sim_percentile(secs, done, 50));
    sim_rep_num(r, "seconds_p99", sim_percentile(secs, done, 99));
    sim_rep_u64(r, "unconverged", unconverged);
    sim_rep_u64(r, "max_rounds", max_rounds);
    sim_rep_num(r, "bytes_per_node_per_round", per_node_round);
    sim_rep_num(r, "bytes_per_node_per_s",
                per_node_round * 1000.0 / (double)interval);
    if (o->from_join)
        sim_rep_num(r, "join_s", (double)join_ms / 1000.0);
    /* The simulator's own speed over the measured part. */
    double run_s = sim_wall(&net) - setup_s;
    sim_rep_num(r, "measured_rounds", elapsed_rounds);
    sim_rep_num(r, "node_rounds_per_s",
                run_s > 0 ? (double)net.n * elapsed_rounds / run_s : NAN);
    /* What the N^2 member records cost: the views' growth in resident
     * memory over the records held. */
    double recs = (double)net.n * (double)net.n;
    sim_rep_num(r, "view_bytes_per_record",
                rss_views > rss0 ? (double)(rss_views - rss0) / recs : NAN);
    sim_rep_num(r, "view_heap_bytes_per_record",
                heap_views > heap0 ? (double)(heap_views - heap0) / recs : NAN);
    sim_report_tail(r, &net, o, setup_s);
    int rc = net.timed_out ? 3 : net.oom ? 1 : 0;
    sim_net_free(&net);
    free(rounds);
    free(secs);
    free(c.reached);
    return rc;
}

/* ---- join --------------------------------------------------------------- */

typedef struct joinst {
    uint64_t false_fail, false_suspect;
} joinst;

static void join_event(sim_net *net, uint32_t node, const hs_core_event *ev,
                       void *arg)
{
    joinst *j = arg;
    (void)node;
    uint32_t who = UINT32_MAX;
    if (strncmp(ev->name, "node-", 5) == 0)
        who = (uint32_t)strtoul(ev->name + 5, NULL, 10);
    bool up = who < net->n && net->nodes[who].state == SIM_UP;
    if (ev->type == HS_EVENT_FAIL && up)
        j->false_fail++;
    if (ev->type == HS_EVENT_SUSPECT && up)
        j->false_suspect++;
}

/*
 * join: nodes 0..N-2 start at the same moment, knowing only the seeds
 * (nodes 0..2); the time until every one of them knows all the others is
 * join_all_s. Then node N-1 starts alone: newcomer_known_s is the time
 * until every member knows it, newcomer_view_s until it knows everyone.
 */
int sim_join(const sim_opts *o, sim_rep *r)
{
    joinst j = {0};
    sim_hooks hooks = {.on_event = join_event, .arg = &j};
    sim_net net;
    if (o->nodes < 3) {
        fprintf(stderr, "hearsay-sim: join needs --nodes >= 3\n");
        return 1;
    }
    if (!sim_net_init(&net, o->nodes, o->seed, &o->core, &hooks)) {
        fprintf(stderr, "hearsay-sim: out of memory\n");
        return 1;
    }
    net.link = o->link;
    net.wall_limit_s = o->wall_limit_s;
    double limit_s = o->duration_s > 0 ? o->duration_s : 3600;
    uint64_t t0 = net.now;
    for (uint32_t i = 0; i + 1 < net.n; i++)
        sim_node_start(&net, i, 1);
    uint64_t formed =
        run_until_complete(&net, net.n - 1, t0 + (uint64_t)(limit_s * 1000));
    double bps = (double)net.stats.bytes_sent /
                 ((double)(net.n - 1) * (double)(net.now - t0) / 1000.0);

    uint64_t t1 = net.now, known = 0, view = 0;
    sim_node_start(&net, net.n - 1, 1);
    uint32_t last = net.n - 1;
    uint64_t limit = t1 + (uint64_t)(limit_s * 1000);
    while (formed && net.now < limit && (!known || !view) && !net.timed_out) {
        sim_run_until(&net, net.now + 100);
        if (!view && hs__core_member_count(net.nodes[last].core) == net.n)
            view = net.now;
        if (!known) {
            bool all = true;
            hs_member_info info;
            for (uint32_t i = 0; i < last && all; i++)
                all = sim_view(&net, i, last, &info);
            if (all)
                known = net.now;
        }
    }

    sim_report_head(r, o);
    sim_rep_num(r, "join_all_s", formed ? (double)(formed - t0) / 1000 : NAN);
    sim_rep_num(r, "join_rounds",
                formed
                    ? ceil((double)(formed - t0) / o->core.gossip_interval_ms)
                    : NAN);
    sim_rep_num(r, "join_bytes_per_node_per_s", bps);
    sim_rep_num(r, "newcomer_known_s",
                known ? (double)(known - t1) / 1000 : NAN);
    sim_rep_num(r, "newcomer_view_s", view ? (double)(view - t1) / 1000 : NAN);
    sim_rep_u64(r, "false_positives", j.false_fail);
    sim_rep_u64(r, "false_suspicions", j.false_suspect);
    sim_report_tail(r, &net, o, 0);
    int rc = net.timed_out ? 3 : (!formed || !known || !view) ? 1 : 0;
    sim_net_free(&net);
    return rc;
}
