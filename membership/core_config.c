/*
 * core_config.c — the core's configuration: its defaults (the protocol's,
 * which config.c's option table must agree with), the detector's
 * allowances scaled to the configured rhythm, and the range check every
 * core is created through.
 */
#include <math.h>
#include <string.h>

#include "membership/core_impl.h"

void hs__core_config_init(hs_core_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->cluster = "default";
    cfg->generation = 1;
    cfg->addr = "";
    cfg->seed = 1;
    cfg->mode = HS_MODE_PUSH_PULL;
    cfg->order = HS_ORDER_DEPTH;
    /* Two exchanges a second per node, one peer per round, and a
     * heartbeat every round. In protocol v2 an exchange between agreeing
     * views is a SYN of about N bytes of heartbeats and an answer of about
     * two bytes per member the initiator lags on, plus ~75 bytes of
     * headers each (with IP and UDP), so the exchange rate is what bytes
     * cost; detection follows the rhythm at which heartbeats reach an
     * observer, which the exchange rate also sets. Measured with
     * hearsay-sim (crash, 64 members, 300 s, dead_after 500 ms, seeds 1-2;
     * docs/performance.md), seconds until the first / every survivor
     * declared a crashed member dead, and bytes sent per node per second:
     *
     *     gossip/heartbeat   no loss        5% loss        bytes/s
     *     250/500  ms        3.1 / 3.7      -              914
     *     500/500  ms        3.9-4.0 / 4.7-5.0  4.0-4.5 / 4.8-5.5  473
     *     500/1000 ms        5.2 / 6.6      -              495
     *
     * with no false failure in any of them. 500/500 costs half the bytes
     * of 250 ms rounds for about a second more; side by side with serf at
     * 64 agents (bench/vs-serf) it is about 2x serf's bytes for half its
     * detection time. */
    cfg->gossip_interval_ms = 500;
    cfg->heartbeat_interval_ms = 500;
    cfg->fanout = 1;
    cfg->max_datagram = HS_WIRE_DEFAULT_DATAGRAM;
    cfg->max_entries_per_msg = 0;
    /* phi 8 under the default normal model is about mean + 5.6 sigma of
     * the observed inter-arrival time; docs/detector.md turns it into
     * seconds. */
    cfg->phi_threshold = 8.0;
    hs__phi_config_init(&cfg->phi);
    cfg->phi.first_interval_ms = cfg->heartbeat_interval_ms;
    /* Suspicion already means phi >= 8, well past every gap the detector
     * has seen; the grace turns it into a conviction only if no heartbeat
     * arrives for one more round. 1 s here cost half a second of detection
     * and changed nothing in the false-failure counts above (all zero). */
    cfg->dead_after_ms = 500;
    /* Dead members are kept a day so a healed partition merges back (serf's
     * reconnect_timeout is also 24 h); left members an hour, long enough
     * for every peer to have heard the leave. */
    cfg->reap_dead_after_ms = 24u * 3600u * 1000u;
    cfg->reap_left_after_ms = 3600u * 1000u;
    /* A deleted key is remembered 30 min: far longer than any gossip
     * spread, so a peer only needs a reset after a long partition. */
    cfg->tombstone_gc_ms = 30u * 60u * 1000u;
    /* A change is pushed unasked for 14 rounds after a node learns it.
     * In push mode the share of members a rumor misses falls about e-fold
     * per extra round its carriers keep pushing (Demers et al. 1987), and
     * a missed member waits for the full-state slices: with 8 rounds one
     * push trial in ten at 1,000 members took 74 rounds instead of 15;
     * with 14, 20 of 20 finished within 16 (theory 16.9), and 14 leaves
     * margin up to 10,000 members (docs/performance.md). Push-pull barely
     * notices: rumors only fill leftover room, a user key's rumor at most
     * a quarter of it. */
    cfg->rumor_rounds = 14;
    cfg->max_members = 16384;
    cfg->max_keys = 256;
    cfg->graveyard = 4096;
    cfg->max_pending = 1024;
    cfg->max_events = 16384;
    cfg->leave_fanout = 4;
    cfg->pause_grace_ms = 2000;
}

/* The detector's and the pause guard's defaults are durations tuned for
 * a one-second rhythm (docs/detector.md): a minimum sigma of half an
 * interval, an acceptable pause of one, a pause guard of two. A member's
 * heartbeat is observed when gossip delivers it, so the rhythm a detector
 * sees is the slower of the heartbeat and gossip intervals; the durations
 * are scaled by it, so that 100 ms intervals detect ten times faster
 * instead of convicting on the one-second allowances. */
void hs__core_config_scale_timing(hs_core_config *cc)
{
    uint32_t rhythm = cc->heartbeat_interval_ms;
    if (rhythm < cc->gossip_interval_ms)
        rhythm = cc->gossip_interval_ms;
    double k = rhythm / 1000.0;
    cc->phi.min_stddev_ms *= k;
    cc->phi.acceptable_pause_ms *= k;
    cc->phi.first_interval_ms = rhythm;
    cc->phi.max_interval_ms *= k;
    double grace = cc->pause_grace_ms * k;
    /* Below 50 ms a "pause" is ordinary scheduling jitter. */
    if (grace < 50)
        grace = 50;
    cc->pause_grace_ms = grace > UINT32_MAX ? UINT32_MAX : (uint32_t)grace;
}

hs_err hs__core_config_check(const hs_core_config *cfg)
{
    if (!cfg->cluster || !hs__wire_valid_name(cfg->cluster, HS_WIRE_MAX_NAME))
        return HS_EINVAL;
    if (!cfg->name || !hs__wire_valid_name(cfg->name, HS_WIRE_MAX_NAME))
        return HS_EINVAL;
    if (!cfg->addr || strlen(cfg->addr) > HS_WIRE_MAX_ADDR)
        return HS_EINVAL;
    if (cfg->generation == 0 || cfg->generation > (UINT64_C(1) << 62))
        return HS_EINVAL;
    if ((unsigned)cfg->mode > HS_MODE_PUSH || (unsigned)cfg->order > 1)
        return HS_EINVAL;
    if (cfg->gossip_interval_ms == 0 || cfg->fanout == 0 || cfg->fanout > 16)
        return HS_EINVAL;
    if (cfg->max_datagram < HS_WIRE_MIN_DATAGRAM ||
        cfg->max_datagram > HS_WIRE_MAX_DATAGRAM)
        return HS_EINVAL;
    if (!(cfg->phi_threshold >= 0) || cfg->phi_threshold > 1000)
        return HS_EINVAL;
    if (hs__phi_config_check(&cfg->phi) != HS_OK)
        return HS_EINVAL;
    if (cfg->max_members < 1 || cfg->max_keys < 1 || cfg->max_pending < 1 ||
        cfg->max_events < 1)
        return HS_EINVAL;
    return HS_OK;
}
