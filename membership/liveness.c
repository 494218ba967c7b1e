/*
 * liveness.c — the member lifecycle in time: detector arrivals, the
 * cluster's observed rhythm, suspicion, conviction, reaping, and the pause
 * guard.
 *
 * A member's states: alive -> suspect (phi past the threshold) -> dead
 * (suspect for dead_after_ms, or a peer's conviction our own detector
 * leans towards, see view.c) -> reaped (dead for reap_dead_after_ms), and
 * left for a graceful leave. Any evidence of life of the current
 * incarnation (a newer heartbeat or write) brings a suspect or dead member
 * back; nothing brings back a member that left.
 */
#include <math.h>
#include <stdint.h>

#include "membership/gossip.h"

static uint64_t suspect_time(const hs_core *c, const hs_mrec *m)
{
    hs_phi tmp;
    const hs_phi *phi = hs__mrec_phi(m, &tmp);
    if (m->is_self || c->cfg.phi_threshold <= 0 || !phi->has_last)
        return UINT64_MAX;
    /* Before this node knows the cluster's rhythm (observe_rhythm) every
     * detector is on a bootstrap estimate or a window of one or two
     * intervals, so phi is not trusted: a member is suspected only after
     * the longest silence the detector ever takes for an interval. Without
     * this a member heard a few times that then went silent (a two-node
     * cluster whose peer died at once) was never suspected at all: the
     * rhythm is learned from arrivals, and none came. */
    if (!c->rhythm_known) {
        double at = phi->last_ms + c->phi.max_interval_ms;
        return at >= 1.8e19 ? UINT64_MAX : (uint64_t)at;
    }
    double after =
        hs__phi_crossing_ms(phi, &c->phi, c->cfg.phi_threshold, c->phi_z);
    double at = phi->last_ms + ceil(after);
    return at >= 1.8e19 ? UINT64_MAX : (uint64_t)at;
}

/* Makes sure a check runs when m will be suspected. (The time is computed
 * from the detector when needed, not stored: it is a pure function of
 * the history, and a field for it in each of N^2 records costs more than
 * the arithmetic.) */
void hs__core_watch(hs_core *c, hs_mrec *m)
{
    uint64_t at = suspect_time(c, m);
    if (at < c->next_check)
        c->next_check = at;
}

/*
 * Evidence of life: version `version` of m's current incarnation exists
 * (we just applied it). The first time a version above every one seen
 * before shows up is an arrival for m's detector. Any version counts, not
 * only a heartbeat: a member that wrote a key was alive when it did.
 * seen_version remembers what was counted, so a version is one arrival
 * however often it is applied again (a reset copy, a duplicate).
 */
void hs__core_evidence(hs_core *c, hs_mrec *m, uint64_t version)
{
    if (version <= m->seen_version)
        return;
    m->seen_version = version;
    hs__core_heard(c, m);
}

/*
 * The rhythm this node observes. Heartbeats reach an observer when gossip
 * carries them, so the intervals a detector sees are set by the cluster's
 * size and the datagram limit, not by heartbeat_interval_ms: 1.4 s on
 * average at 16 members, 3.6 s at 128 (sd 2.4 s), 7 s at 256, with the
 * defaults (docs/performance.md). A detector that starts from "one beat
 * per heartbeat interval" therefore suspects every member it has just
 * met, or has just taken back after a false alarm, whose next beat is an
 * ordinary four seconds away; with 128 members that was thousands of
 * false suspicions a minute. So every interval any member shows is also
 * folded into one running mean and variance per node (over about the last
 * 1,000 intervals), and the detectors start from that rhythm instead, and
 * never assume a member beats more regularly than the cluster as a whole
 * does (adapt_detector). Each interval is weighted by its length: members
 * heard often (recent exchange partners) contribute many short intervals,
 * and an unweighted mean is the harmonic mean of the members' rhythms, far
 * below a typical member's at 1,000 members; weighted, every member counts
 * for the time it covers, and the estimate errs long, the safe side for a
 * member the detector knows nothing about yet.
 *
 * Until the node has seen two intervals per member on average, the rhythm
 * is biased low (the short intervals are the first to complete) and every
 * detector is on its bootstrap estimate or a window of one or two
 * intervals; a node that has just met everyone at once (its own start)
 * would suspect the members whose first interval is merely long. So no
 * one is suspected before that: a few seconds after a node starts (7 s at
 * 128 members), sooner in a small cluster.
 */

static void observe_rhythm(hs_core *c, double iv)
{
    double keep = 1.0 - 1.0 / 1024;
    c->rhythm_w = c->rhythm_w * keep + iv;
    c->rhythm_wx = c->rhythm_wx * keep + iv * iv;
    c->rhythm_wxx = c->rhythm_wxx * keep + iv * iv * iv;
    c->rhythm_n++;
    if (!c->rhythm_known && c->rhythm_n >= 2 * c->members.n_sorted) {
        c->rhythm_known = true;
        hs__core_adapt_detector(c);
        c->next_check = c->now; /* bootstrap detectors may suspect now */
    }
}

/* Puts the observed rhythm into the detector configuration in use: the
 * bootstrap interval is at least the observed mean, the minimum deviation
 * at least the observed deviation, and an interval is taken for an outage
 * (not a sample) only past eight times the mean: at 1,000 members the mean
 * is about 20 s, and the configured 30 s would discard the long half of
 * every member's rhythm and leave windows that convict on ordinary gaps.
 * (Intervals up to twice that bound feed the rhythm itself, so it can
 * grow.) Called once per gossip round; returns true when it changed, and
 * every member is checked again then, since every suspicion time moved. */
bool hs__core_adapt_detector(hs_core *c)
{
    if (!c->rhythm_known)
        return false;
    double first = c->cfg.phi.first_interval_ms;
    double sd = c->cfg.phi.min_stddev_ms;
    if (!(c->rhythm_w > 0))
        return false;
    double mean = c->rhythm_wx / c->rhythm_w;
    double var = c->rhythm_wxx / c->rhythm_w - mean * mean;
    double dev = var > 0 ? sqrt(var) : 0;
    if (mean > first)
        first = mean;
    if (dev > sd)
        sd = dev;
    double max_iv = c->cfg.phi.max_interval_ms;
    if (8 * mean > max_iv)
        max_iv = 8 * mean;
    /* The detector refuses a bootstrap interval at or past the longest
     * interval it accepts. */
    if (first >= max_iv)
        first = max_iv / 2;
    if (fabs(first - c->phi.first_interval_ms) <
            0.02 * c->phi.first_interval_ms &&
        fabs(sd - c->phi.min_stddev_ms) < 0.02 * c->phi.min_stddev_ms + 1 &&
        fabs(max_iv - c->phi.max_interval_ms) < 0.02 * c->phi.max_interval_ms)
        return false;
    c->phi.first_interval_ms = first;
    c->phi.min_stddev_ms = sd;
    c->phi.max_interval_ms = max_iv;
    return true;
}

/* An arrival for m's detector (see hs__core_evidence). */
void hs__core_heard(hs_core *c, hs_mrec *m)
{
    if (m->is_self || (m->state == HS_STATE_LEFT && !hs__announce_forced(m)))
        return;
    hs_phi tmp;
    const hs_phi *phi = hs__mrec_phi(m, &tmp);
    if (phi->has_last) {
        double iv = (double)c->now - phi->last_ms;
        if (iv > 0 && iv <= 2 * c->phi.max_interval_ms)
            observe_rhythm(c, iv);
    }
    /* Out of memory the arrival still counts, as a start time. */
    if (hs__mrec_phi_heartbeat(m, &c->phi, (double)c->now) == HS_ENOMEM)
        hs__core_nomem(c);
    hs__core_watch(c, m);
    if (m->state == HS_STATE_SUSPECT || m->state == HS_STATE_DEAD ||
        m->state == HS_STATE_LEFT) { /* LEFT: force-left, heard from again */
        m->state = HS_STATE_ALIVE;
        m->state_since = c->now;
        hs__core_emit(c, HS_EVENT_RECOVER, m, NULL, false);
    }
}

/* How long a suspect stays suspect before it is dead: dead_after_ms, or
 * twice the deviation of the rhythm this node observes, if longer. The
 * tail of gossip-delivered heartbeats grows with the path a heartbeat
 * travels: at 64 members the deviation is about 0.26 s and the configured
 * 500 ms rules; at 1,000 members with 5% loss it is 0.51 s, and a 500 ms
 * grace turned one suspicion in 18 into a false failure in 40 simulated
 * seconds (hearsay-sim --nodes 1000 --scenario crash --duration 40
 * --loss 0.05), where a grace of about 1 s turned none. */
static uint64_t grace_ms(const hs_core *c)
{
    double g = 2.0 * c->phi.min_stddev_ms;
    return g > c->cfg.dead_after_ms ? (uint64_t)g : c->cfg.dead_after_ms;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* The next time m's state may change on its own. */
static uint64_t member_timer(const hs_core *c, const hs_mrec *m)
{
    switch (m->state) {
    case HS_STATE_ALIVE:
        return suspect_time(c, m);
    case HS_STATE_SUSPECT:
        return sat_add(m->state_since, grace_ms(c));
    case HS_STATE_DEAD:
        return sat_add(m->state_since, c->cfg.reap_dead_after_ms);
    case HS_STATE_LEFT:
        return m->is_self ? UINT64_MAX
                          : sat_add(m->state_since, c->cfg.reap_left_after_ms);
    default:
        return UINT64_MAX;
    }
}

void hs__core_check_members(hs_core *c)
{
    uint64_t now = c->now, next = UINT64_MAX;
    /* Backwards, so burying (which removes from the sorted array) does not
     * disturb the part not visited yet. */
    for (size_t i = c->members.n_sorted; i-- > 0;) {
        hs_mrec *m = c->members.sorted[i];
        if (m->is_self)
            continue;
        uint64_t due = member_timer(c, m);
        if (now >= due) {
            switch (m->state) {
            case HS_STATE_ALIVE:
                m->state = HS_STATE_SUSPECT;
                m->state_since = now;
                hs__core_emit(c, HS_EVENT_SUSPECT, m, NULL, false);
                break;
            case HS_STATE_SUSPECT:
                hs__core_convict(c, m);
                break;
            case HS_STATE_DEAD:
            case HS_STATE_LEFT:
                m->state_since = now;
                hs__core_emit(c, HS_EVENT_REAP, m, NULL, false);
                if (hs__members_bury(&c->members, m) != HS_OK)
                    hs__core_nomem(c);
                continue;
            default:
                break;
            }
            due = member_timer(c, m);
        }
        if (due < next)
            next = due;
    }
    c->next_check = next;
}

/* Takes `gap` ms of local silence off every detector and timer. */
void hs__core_forgive_pause(hs_core *c, uint64_t gap)
{
    c->stats.pauses++;
    for (size_t i = 0; i < c->members.n_sorted; i++) {
        hs_mrec *m = c->members.sorted[i];
        if (m->is_self)
            continue;
        hs_phi tmp;
        const hs_phi *phi = hs__mrec_phi(m, &tmp);
        if (phi->has_last) {
            double last = phi->last_ms + (double)gap;
            hs__mrec_phi_mark(m, last < (double)c->now ? last : (double)c->now);
        }
        if (m->state == HS_STATE_SUSPECT)
            m->state_since = sat_add(m->state_since, gap);
    }
    c->next_check = c->now;
}

void hs__core_convict(hs_core *c, hs_mrec *m)
{
    if (m->state != HS_STATE_ALIVE && m->state != HS_STATE_SUSPECT)
        return;
    if (m->state == HS_STATE_ALIVE) {
        /* Following a peer's conviction skips the grace, not the state:
         * handlers always see suspect before fail. */
        m->state = HS_STATE_SUSPECT;
        m->state_since = c->now;
        hs__core_emit(c, HS_EVENT_SUSPECT, m, NULL, false);
    }
    m->state = HS_STATE_DEAD;
    m->state_since = c->now;
    /* Its old rhythm says nothing about its next life. */
    hs__mrec_phi_reset(m);
    hs__core_emit(c, HS_EVENT_FAIL, m, NULL, false);
    hs__verdict_add(c, m);
    /* A conviction is news, like a join: the next round comes forward so
     * the last survivors follow the first within a few early rounds. */
    c->news = true;
    uint64_t due = c->now + c->cfg.reap_dead_after_ms;
    if (due < c->next_check)
        c->next_check = due;
}
