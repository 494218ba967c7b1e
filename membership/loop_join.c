/*
 * loop_join.c — watching a join: noticing the first exchange with a peer,
 * and until then a report on a backing-off timer (hs_join_status, a log
 * line, seed names re-resolved) saying why the rounds reach nobody, told
 * from the counters that changed during them. On the loop thread, with mu
 * held; the timer itself is loop.c's HS_TIMER_JOIN.
 */
#include <stdio.h>
#include <string.h>

#include "membership/node_impl.h"

/* Join reports (hs_join_status): the first after this, or four gossip
 * intervals if longer (a round needs a few exchanges' time), then twice
 * as long each time up to HS_JOIN_REPORT_MAX_MS. The seeds themselves
 * are contacted every gossip round meanwhile (one SYN, a few dozen
 * bytes); the backoff is for the log, the counter and re-resolution. */
#define HS_JOIN_REPORT_FIRST_MS 2000
#define HS_JOIN_REPORT_MAX_MS 60000

/* ---- Joining (loop thread, mu held) -------------------------------------- */

/* Whether a peer has exchanged state with this node: gossip that only a
 * member of the same cluster, with the same keys, sends in answer. */
static bool heard_peer(const hs_stats *st)
{
    /* By name, not number, so a renumbered message table keeps the rule. */
    for (int t = 1; t < HS_MSG_TYPES; t++) {
        const char *m = hs_msg_type_name(t);
        if (st->msgs_recv[t] &&
            (!strcmp(m, "synack") || !strcmp(m, "ack") || !strcmp(m, "push")))
            return true;
    }
    return false;
}

/* The counters a failed round is explained with. */
static void join_counters(const hs_node *n, hs_stats *out)
{
    *out = *hs__core_stats_get(n->core);
    for (int i = 0; i < HS_REASONS; i++)
        out->rejected[i] += n->rt.rejected[i];
    out->resolve_errors = n->rt.resolve_errors;
    out->send_errors = n->rt.send_errors;
}

static uint64_t join_delay_ms(const hs_node *n)
{
    uint64_t base = 4ull * n->cfg.gossip_interval_ms;
    if (base < HS_JOIN_REPORT_FIRST_MS)
        base = HS_JOIN_REPORT_FIRST_MS;
    uint64_t d = base << (n->join_rounds < 6 ? n->join_rounds : 6);
    return d < HS_JOIN_REPORT_MAX_MS ? d : HS_JOIN_REPORT_MAX_MS;
}

void hs__loop_join_arm(hs_node *n)
{
    if (hs_loop_timer_state(n, HS_TIMER_JOIN) == HS_TIMER_ARMED)
        return;
    n->ad.ops->timer_arm(n->ad.data, HS_TIMER_JOIN, join_delay_ms(n));
    join_counters(n, &n->join_base);
}

/* Notes the first exchange with a peer; stops the reports. */
void hs__loop_join_check(hs_node *n)
{
    if (n->joined_ms || !heard_peer(hs__core_stats_get(n->core)))
        return;
    n->joined_ms = hs_loop_now(n);
    n->join_reason[0] = '\0';
    if (n->join_wanted || n->join_failures)
        hs__rt_log(n, n->join_failures ? HS_LOG_WARN : HS_LOG_INFO,
                   "joined: first exchange with a peer %llu ms after start%s",
                   (unsigned long long)(n->joined_ms - n->started_ms),
                   n->join_failures ? " (after failed join rounds)" : "");
    n->ad.ops->timer_disarm(n->ad.data, HS_TIMER_JOIN);
}

/* Why a round reached no peer, from what changed during it. */
static void join_explain(hs_node *n, char *buf, size_t len)
{
    hs_stats now;
    join_counters(n, &now);
    const hs_stats *b = &n->join_base;
#define GREW(f) (now.f > b->f)
    if (GREW(rejected[-HS_ECLUSTER]))
        snprintf(buf, len,
                 "datagrams from another cluster were dropped (is "
                 "--cluster the same everywhere?)");
    else if (GREW(rejected[-HS_EKEY]) || GREW(rejected[-HS_EAUTH]) ||
             GREW(rejected[-HS_EPLAINTEXT]) || GREW(rejected[-HS_ESEALED]))
        snprintf(buf, len,
                 "datagrams that this node's keys do not open were "
                 "refused (is the keyring the same everywhere?)");
    else if (GREW(resolve_errors))
        snprintf(buf, len, "seed names did not resolve");
    else if (GREW(send_errors))
        snprintf(buf, len, "sending to the seeds failed");
    else
        snprintf(buf, len,
                 "no answer: nothing listening there, or a node of another "
                 "cluster or with other keys (it drops what this node "
                 "sends), or a firewall");
#undef GREW
}

void hs__loop_join_timer(hs_node *n)
{
    unsigned names = hs__resolver_count(n->resolver); /* before mu */
    pthread_mutex_lock(&n->mu);
    bool refresh = false;
    if (n->state == HS_NODE_RUNNING && n->core) {
        hs__loop_join_check(n);
        if (!n->joined_ms) {
            char seeds[200] = "";
            size_t off = 0;
            for (unsigned i = 0; i < n->n_seeds && i < 4 && off < sizeof seeds;
                 i++)
                off += (size_t)snprintf(seeds + off, sizeof seeds - off, "%s%s",
                                        i ? ", " : "", n->seeds[i]);
            if (off < sizeof seeds && (n->n_seeds > 4 || names))
                snprintf(seeds + off, sizeof seeds - off,
                         "%s%u more, %u DNS name%s", off ? "; " : "",
                         n->n_seeds > 4 ? n->n_seeds - 4 : 0, names,
                         names == 1 ? "" : "s");
            join_explain(n, n->join_reason, sizeof n->join_reason);
            n->join_failures++;
            n->join_rounds++;
            uint64_t next = join_delay_ms(n);
            hs__rt_log(n, HS_LOG_WARN,
                       "join: no peer has answered %llu ms after start "
                       "(round %llu; seeds %s): %s; still trying every "
                       "gossip round, next report in %llu s",
                       (unsigned long long)(hs_loop_now(n) - n->started_ms),
                       (unsigned long long)n->join_failures, seeds,
                       n->join_reason, (unsigned long long)(next / 1000));
            hs__loop_join_arm(n);
            refresh = names > 0;
        }
    }
    pthread_mutex_unlock(&n->mu);
    if (refresh) /* outside mu: the resolver's lock comes first */
        hs__resolver_refresh(n->resolver);
}
