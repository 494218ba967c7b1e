/*
 * core.c — the membership core's lifecycle, clock handling, heartbeats,
 * detector checks, queues and queries. The exchanges themselves (digests,
 * deltas, applying them) are in gossip.c.
 *
 * Time. The core never reads a clock: every entry point takes `now`. It
 * remembers the deadline it last handed out; a call that arrives much later
 * than that deadline means the caller's loop did not run (a GC pause, a
 * stopped VM, SIGSTOP). The silence of every peer during that gap is the
 * observer's fault, not theirs, so the gap is taken off every detector
 * history and timer before anything is judged: a paused node never convicts
 * others on the timestamps its own pause made stale.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "membership/gossip.h"

static const char *const state_names[] = {"alive", "suspect", "dead", "left",
                                          "reaped"};
static const char *const event_names[] = {
    "join", "update", "suspect", "recover", "fail", "leave", "restart", "reap",
    "conflict", "user", "query"};
_Static_assert(sizeof event_names / sizeof *event_names == HS_EVENT_TYPES,
               "one name per event type");

HS_EXPORT const char *hs_member_state_name(hs_member_state s)
{
    return (unsigned)s < sizeof state_names / sizeof *state_names
               ? state_names[s]
               : "unknown";
}

HS_EXPORT const char *hs_event_type_name(hs_event_type t)
{
    return (unsigned)t < HS_EVENT_COUNT_ ? event_names[t] : "unknown";
}

HS_EXPORT const char *hs_msg_type_name(int type)
{
    return hs__wire_type_name(type);
}

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

/* splitmix64: tiny, fast, and good enough to pick peers. */
static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t hs__core_rand(hs_core *c)
{
    return splitmix64(&c->rng);
}

double hs__core_rand01(hs_core *c)
{
    return (double)(hs__core_rand(c) >> 11) * 0x1.0p-53;
}

static void self_heartbeat(hs_core *c);

hs_err hs__core_new(const hs_core_config *cfg, uint64_t now_ms, hs_core **out)
{
    *out = NULL;
    hs_err err = hs__core_config_check(cfg);
    if (err != HS_OK)
        return err;
    hs_core *c = calloc(1, sizeof *c);
    if (!c)
        return HS_ENOMEM;
    c->cfg = *cfg;
    snprintf(c->cluster, sizeof c->cluster, "%s", cfg->cluster);
    snprintf(c->name, sizeof c->name, "%s", cfg->name);
    snprintf(c->addr, sizeof c->addr, "%s", cfg->addr);
    c->cfg.cluster = c->cluster;
    c->cfg.name = c->name;
    c->cfg.addr = c->addr;
    c->rng = cfg->seed;
    c->phi = cfg->phi;
    c->phi_z = hs__phi_normal_z(cfg->phi_threshold > 0 ? cfg->phi_threshold
                                                      : 1.0);
    c->now = now_ms;

    /* The member index's key (member.c): from the seed, but from a stream
     * of its own, so keying it changes none of the choices the PRNG makes
     * and a seeded core stays reproducible. With a seed from the OS (the
     * runtime's default) peers cannot know it. */
    uint64_t key_state = cfg->seed ^ 0x6d656d6265722d6bULL; /* "member-k" */
    uint64_t key[2] = {splitmix64(&key_state), splitmix64(&key_state)};
    if ((err = hs__members_init(&c->members, cfg->graveyard, key)) != HS_OK)
        goto fail;
    if ((err = hs__members_add(&c->members, c->name, c->addr, cfg->generation,
                              &c->self)) != HS_OK)
        goto fail;
    c->self->is_self = true;
    c->view_dirty = true;
    hs__announce_init(c);

    /* Start the first round at a random point of the interval so nodes
     * started together do not gossip in lock-step. */
    c->next_gossip = now_ms + hs__core_rand(c) % cfg->gossip_interval_ms;
    c->next_heartbeat = now_ms;
    c->next_check = UINT64_MAX;
    c->next_gc = now_ms + cfg->tombstone_gc_ms / 4 + 1000;
    if (cfg->heartbeat_interval_ms)
        self_heartbeat(c);
    hs__core_update_deadline(c);
    *out = c;
    return HS_OK;
fail:
    hs__core_free(c);
    return err;
}

void hs__core_free(hs_core *c)
{
    if (!c)
        return;
    hs__members_free(&c->members);
    for (uint32_t i = 0; i < c->outq_len; i++) {
        hs_outq_item *it = &c->outq[(c->outq_head + i) % c->outq_cap];
        free(it->to);
        free(it->buf);
    }
    free(c->out_cur.to);
    free(c->out_cur.buf);
    free(c->outq);
    for (uint32_t i = 0; i < c->evq_len; i++)
        free(c->evq[(c->evq_head + i) % c->evq_cap].user);
    free(c->evq);
    free(c->ev_user);
    hs__query_free(c);
    hs__core_clear_seeds(c);
    for (uint32_t i = 0; i < c->n_candidates; i++)
        free(c->candidates[i]);
    free(c);
}


hs_err hs__core_add_seed(hs_core *c, const char *addr)
{
    if (!addr || !*addr || strlen(addr) > HS_WIRE_MAX_ADDR)
        return HS_EINVAL;
    for (uint32_t i = 0; i < c->n_seeds; i++)
        if (strcmp(c->seeds[i], addr) == 0)
            return HS_OK;
    if (c->n_seeds == HS_MAX_SEEDS)
        return HS_EFULL;
    char *s = strdup(addr);
    if (!s) {
        /* Counted here as well: callers re-adding a list may not look. */
        hs__core_nomem(c);
        return HS_ENOMEM;
    }
    c->seeds[c->n_seeds++] = s;
    /* A node that knows nobody yet contacts a new seed within an eighth
     * interval (at once when it has not gossiped yet) rather than at a
     * random point of its first interval: joining is news too (see
     * hs__core_tick). */
    if (c->members.n_sorted <= 1) {
        c->news = true;
        hs__core_update_deadline(c);
    }
    return HS_OK;
}

void hs__core_clear_seeds(hs_core *c)
{
    for (uint32_t i = 0; i < c->n_seeds; i++)
        free(c->seeds[i]);
    c->n_seeds = 0;
}

/* ---- Events and sends --------------------------------------------------- */

/* Doubles a full ring (from 16) up to `max` items, unrolling it so the
 * oldest item lands at index 0; the caller resets its head. HS_EFULL at
 * `max`, HS_ENOMEM when the allocation failed. The queues
 * grow on demand because a core that is drained after every call (the
 * runtime, the simulator) only ever holds a handful of items, while
 * allocating max_events up front pins 16384 x ~350 bytes = 5.6 MB per
 * core: 56 GB for the 10,000 cores of a large simulation. */
static hs_err ring_grow(void **ring, uint32_t *cap, uint32_t head, uint32_t len,
                        size_t item, uint32_t max)
{
    uint32_t ncap = *cap ? (*cap > max / 2 ? max : *cap * 2) : 16;
    if (ncap > max)
        ncap = max;
    if (ncap <= *cap)
        return HS_EFULL;
    char *n = malloc((size_t)ncap * item);
    if (!n)
        return HS_ENOMEM;
    for (uint32_t i = 0; i < len; i++)
        memcpy(n + (size_t)i * item,
               (char *)*ring + (size_t)((head + i) % *cap) * item, item);
    free(*ring);
    *ring = n;
    *cap = ncap;
    return HS_OK;
}

hs_core_event *hs__core_emit(hs_core *c, hs_event_type type, const hs_mrec *m,
                            const char *key, bool deleted)
{
    if (type != HS_EVENT_UPDATE && type != HS_EVENT_USER)
        c->view_dirty = true; /* a state changed: recount peers */
    if (c->evq_len == c->evq_cap) {
        void *ring = c->evq;
        hs_err err = ring_grow(&ring, &c->evq_cap, c->evq_head, c->evq_len,
                               sizeof *c->evq, c->cfg.max_events);
        if (err != HS_OK) {
            c->stats.events_dropped++;
            if (err == HS_ENOMEM)
                c->stats.alloc_failures++;
            return NULL;
        }
        c->evq = ring;
        c->evq_head = 0;
    }
    hs_core_event *ev = &c->evq[(c->evq_head + c->evq_len) % c->evq_cap];
    c->evq_len++;
    memset(ev, 0, sizeof *ev);
    ev->type = type;
    ev->state = m->state;
    ev->generation = m->generation;
    ev->at_ms = c->now;
    snprintf(ev->name, sizeof ev->name, "%s", m->name);
    snprintf(ev->addr, sizeof ev->addr, "%s", m->addr);
    if (key)
        snprintf(ev->key, sizeof ev->key, "%s", key);
    ev->deleted = deleted;
    c->stats.events[type]++;
    return ev;
}

/* Queues an encoded datagram (a query's answer, query.c); buf is taken
 * over. Dropped and counted when the queue is full. */
void hs__core_send_raw(hs_core *c, const char *to, uint8_t *buf, size_t len)
{
    char *dst = strdup(to);
    hs_err err = dst ? HS_OK : HS_ENOMEM;
    if (err == HS_OK && c->outq_len == c->outq_cap) {
        void *ring = c->outq;
        err = ring_grow(&ring, &c->outq_cap, c->outq_head, c->outq_len,
                        sizeof *c->outq, c->cfg.max_pending);
        if (err == HS_OK) {
            c->outq = ring;
            c->outq_head = 0;
        }
    }
    if (err != HS_OK) {
        free(dst);
        free(buf);
        c->stats.sends_dropped++;
        if (err == HS_ENOMEM)
            c->stats.alloc_failures++;
        return;
    }
    hs_outq_item *it = &c->outq[(c->outq_head + c->outq_len) % c->outq_cap];
    *it = (hs_outq_item){dst, buf, len, HS_WIRE_RESPONSE};
    c->outq_len++;
}

bool hs__core_next_event(hs_core *c, hs_core_event *out)
{
    free(c->ev_user);
    c->ev_user = NULL;
    if (c->evq_len == 0)
        return false;
    *out = c->evq[c->evq_head];
    c->ev_user = out->user;
    c->evq_head = (c->evq_head + 1) % c->evq_cap;
    c->evq_len--;
    return true;
}

void hs__core_reject(hs_core *c, hs_err why)
{
    int slot = -(int)why;
    if (slot > 0 && slot < HS_REASON_SLOTS)
        c->stats.rejected[slot]++;
}

void hs__core_nomem(hs_core *c)
{
    c->stats.alloc_failures++;
    hs__core_reject(c, HS_ENOMEM);
}

void hs__core_send(hs_core *c, const char *to, const hs_wire_msg *msg)
{
    if (c->outq_len == c->outq_cap) {
        void *ring = c->outq;
        hs_err err = ring_grow(&ring, &c->outq_cap, c->outq_head, c->outq_len,
                               sizeof *c->outq, c->cfg.max_pending);
        if (err != HS_OK) {
            c->stats.sends_dropped++;
            if (err == HS_ENOMEM)
                c->stats.alloc_failures++;
            return;
        }
        c->outq = ring;
        c->outq_head = 0;
    }
    uint8_t *buf = malloc(c->cfg.max_datagram);
    char *dst = strdup(to);
    size_t len = 0;
    hs_err err = HS_ENOMEM;
    if (buf && dst)
        err = hs__wire_encode(msg, buf, c->cfg.max_datagram, &len);
    if (err != HS_OK) {
        /* The packer keeps every message under max_datagram, so this is a
         * bug or memory exhaustion: count it where an operator looks. */
        free(buf);
        free(dst);
        c->stats.sends_dropped++;
        if (err == HS_ENOMEM)
            hs__core_nomem(c);
        else
            hs__core_reject(c, err);
        return;
    }
    hs_outq_item *it = &c->outq[(c->outq_head + c->outq_len) % c->outq_cap];
    it->to = dst;
    it->buf = buf;
    it->len = len;
    it->type = msg->type;
    c->outq_len++;
    if ((unsigned)msg->type < HS_WIRE_TYPE_SLOTS) {
        c->stats.msgs_sent[msg->type]++;
        c->stats.bytes_sent[msg->type] += len;
    }
    if (len > c->stats.max_datagram_sent)
        c->stats.max_datagram_sent = len;
}

bool hs__core_next_datagram(hs_core *c, hs_datagram *out)
{
    free(c->out_cur.to);
    free(c->out_cur.buf);
    memset(&c->out_cur, 0, sizeof c->out_cur);
    if (c->outq_len == 0)
        return false;
    c->out_cur = c->outq[c->outq_head];
    c->outq_head = (c->outq_head + 1) % c->outq_cap;
    c->outq_len--;
    out->to = c->out_cur.to;
    out->buf = c->out_cur.buf;
    out->len = c->out_cur.len;
    out->type = c->out_cur.type;
    return true;
}

/* A heartbeat is a bare version: the counter moves, no write is made, and
 * it travels by position (view.c), never as a rumor. */
static void self_heartbeat(hs_core *c)
{
    hs_mrec *s = c->self;
    if (s->state == HS_STATE_LEFT)
        return;
    s->hb_version = ++s->max_version;
}

void hs__core_advance(hs_core *c, uint64_t now)
{
    if (now <= c->now)
        return;
    uint64_t late_by = now > c->deadline ? now - c->deadline : 0;
    c->now = now;
    if (late_by > c->cfg.pause_grace_ms)
        hs__core_forgive_pause(c, late_by);
}

/* When the next round runs: on schedule, or, with news (a member that
 * joined, restarted or was convicted), an eighth of an interval after the
 * last one (see hs__core_tick). */
static uint64_t round_due(const hs_core *c)
{
    if (c->news) {
        uint32_t eighth = c->cfg.gossip_interval_ms / 8;
        uint64_t early = c->last_round + (eighth ? eighth : 1);
        if (early < c->next_gossip)
            return early;
    }
    return c->next_gossip;
}

void hs__core_update_deadline(hs_core *c)
{
    uint64_t d = round_due(c);
    if (c->cfg.heartbeat_interval_ms && c->next_heartbeat < d)
        d = c->next_heartbeat;
    if (c->next_check < d)
        d = c->next_check;
    if (c->next_gc < d)
        d = c->next_gc;
    uint64_t q = hs__query_next_deadline(c); /* a query's end (query.c) */
    if (q && q < d)
        d = q;
    if (d <= c->now)
        d = c->now + 1;
    c->deadline = d;
}

static void collect_tombstones(hs_core *c)
{
    uint64_t before = c->now > c->cfg.tombstone_gc_ms
                          ? c->now - c->cfg.tombstone_gc_ms
                          : 0;
    if (before == 0)
        return;
    for (size_t i = 0; i < c->members.n_sorted; i++) {
        hs_mrec *m = c->members.sorted[i];
        if (m->n_tombs)
            c->stats.tombstones_collected += hs__kv_collect(m, 0, before);
    }
}

void hs__core_tick(hs_core *c, uint64_t now)
{
    hs__core_advance(c, now);
    now = c->now;
    if (c->yielded) {
        /* Another live member holds our name: nothing more to say. */
        c->deadline = now + c->cfg.gossip_interval_ms;
        return;
    }
    hs__core_check_claims(c);
    hs__announce_tick(c);
    hs__query_tick(c);
    if (c->cfg.heartbeat_interval_ms && now >= c->next_heartbeat) {
        self_heartbeat(c);
        c->next_heartbeat += c->cfg.heartbeat_interval_ms;
        if (c->next_heartbeat <= now)
            c->next_heartbeat = now + c->cfg.heartbeat_interval_ms;
    }
    if (now >= c->next_gossip && hs__core_adapt_detector(c))
        c->next_check = now;
    if (now >= c->next_check)
        hs__core_check_members(c);
    if (now >= c->next_gc) {
        collect_tombstones(c);
        uint64_t step = c->cfg.tombstone_gc_ms / 4;
        c->next_gc = now + (step > 1000 ? step : 1000);
    }
    /*
     * A member that joined, restarted or was convicted is news everyone
     * wants at once: a node that learns of one runs its next round an
     * eighth of an interval after the last instead of waiting for the
     * schedule. Without it a
     * cluster forming at once (every node pointed at one seed) converged
     * in log N scheduled rounds after the seed had heard from everyone;
     * serf's joins spread as fast-gossiped broadcasts, and so do these
     * now. At most one extra round per eighth interval, and only while
     * members keep arriving, so a join storm costs a bounded burst and a
     * stable cluster nothing; the schedule itself is unchanged.
     */
    if (now >= round_due(c)) {
        bool early = now < c->next_gossip;
        c->news = false;
        hs__gossip_round(c);
        c->last_round = now;
        if (!early) {
            c->next_gossip += c->cfg.gossip_interval_ms;
            if (c->next_gossip <= now)
                c->next_gossip = now + c->cfg.gossip_interval_ms;
        }
    }
    hs__core_update_deadline(c);
}

uint64_t hs__core_next_deadline(const hs_core *c)
{
    return c->deadline;
}

hs_err hs__core_receive(hs_core *c, uint64_t now, const char *from,
                       const uint8_t *buf, size_t len)
{
    hs__core_advance(c, now);
    if (hs__wire_is_response(buf, len)) { /* a query's answer (query.c) */
        hs_err qerr = c->yielded ? HS_ESTATE : hs__query_receive(c, buf, len);
        if (qerr != HS_OK)
            hs__core_reject(c, qerr);
        hs__core_update_deadline(c);
        return qerr;
    }
    hs_wire_msg *msg = NULL;
    hs_err err =
        hs__wire_decode(buf, len, c->cluster, c->cfg.max_datagram, &msg);
    if (err == HS_OK && c->yielded)
        err = HS_ESTATE;
    if (err == HS_OK && strcmp(msg->sender.name, c->name) == 0) {
        err = msg->sender.generation < c->cfg.generation ? HS_ESTALE
                                                         : HS_ESELF;
        hs__core_claim(c, msg->sender.generation, 0);
    }
    if (err != HS_OK) {
        if (err == HS_ENOMEM)
            hs__core_nomem(c); /* the decoder's: the datagram is lost */
        else
            hs__core_reject(c, err);
        hs__wire_msg_free(msg);
        hs__core_update_deadline(c);
        return err;
    }
    if ((unsigned)msg->type < HS_WIRE_TYPE_SLOTS) {
        c->stats.msgs_recv[msg->type]++;
        c->stats.bytes_recv[msg->type] += len;
    }
    hs__gossip_handle(c, from ? from : "", msg);
    hs__wire_msg_free(msg);
    hs__core_update_deadline(c);
    return HS_OK;
}

/* ---- Local state -------------------------------------------------------- */

static bool key_is_reserved(const char *key)
{
    return strncmp(key, HS_KEY_PREFIX, strlen(HS_KEY_PREFIX)) == 0;
}

/* Largest message a single entry of this size would need: base message
 * with the longest names, one delta with the longest name and address, and
 * the entry. An entry that cannot fit one datagram could never be sent and
 * would stop its member's state at a gap forever, so it is refused. */
bool hs__core_entry_fits(const hs_core *c, const char *key, size_t len)
{
    char longname[HS_WIRE_MAX_NAME + 1], longaddr[HS_WIRE_MAX_ADDR + 1];
    memset(longname, 'x', HS_WIRE_MAX_NAME);
    longname[HS_WIRE_MAX_NAME] = 0;
    memset(longaddr, 'x', HS_WIRE_MAX_ADDR);
    longaddr[HS_WIRE_MAX_ADDR] = 0;
    hs_wire_msg msg = {.type = HS_WIRE_ACK,
                       .cluster = c->cluster,
                       .sender = {c->name, c->cfg.generation, c->addr},
                       .range_lo = "",
                       .range_hi = ""};
    hs_wire_delta d = {.name = longname,
                       .generation = UINT64_MAX >> 2,
                       .addr = longaddr,
                       .from_version = UINT64_MAX >> 12,
                       .to_version = UINT64_MAX >> 11,
                       .gc_version = UINT64_MAX >> 12,
                       .left_version = UINT64_MAX >> 11,
                       .heartbeat = UINT64_MAX >> 11,
                       .dead = true};
    hs_wire_entry e = {.key = key,
                       .value = NULL,
                       .value_len = len,
                       .version = UINT64_MAX >> 11};
    size_t need = hs__wire_base_size(&msg) + hs__wire_delta_size(&d) +
                  hs__wire_entry_size(&e);
    return need <= c->cfg.max_datagram;
}

static hs_err check_write(hs_core *c, const char *key)
{
    if (!key || !hs__wire_valid_name(key, HS_WIRE_MAX_KEY))
        return HS_EINVAL;
    if (key_is_reserved(key))
        return HS_ERESERVED;
    if (c->self->state == HS_STATE_LEFT)
        return HS_ESTATE;
    return HS_OK;
}

hs_err hs__core_set(hs_core *c, const char *key, const void *value, size_t len,
                   uint64_t now)
{
    hs__core_advance(c, now);
    hs_err err = check_write(c, key);
    if (err != HS_OK)
        return err;
    if (len > HS_WIRE_MAX_VALUE || !hs__core_entry_fits(c, key, len))
        return HS_ETOOBIG;
    if (len && !value)
        return HS_EINVAL;
    hs_mrec *s = c->self;
    int at = hs__kv_find(s, key);
    if (at < 0 && hs__announce_user_keys(s) >= c->cfg.max_keys)
        return HS_EFULL;
    uint64_t old = s->max_version;
    err = hs__kv_put(s, key, value, len, false, old + 1, c->now);
    if (err != HS_OK)
        return err;
    s->max_version = s->wr_version = old + 1;
    hs__view_touch(c);
    hs__core_mark_hot(c, s, old);
    hs__core_update_deadline(c);
    return HS_OK;
}

hs_err hs__core_del(hs_core *c, const char *key, uint64_t now)
{
    hs__core_advance(c, now);
    hs_err err = check_write(c, key);
    if (err != HS_OK)
        return err;
    hs_mrec *s = c->self;
    int at = hs__kv_find(s, key);
    if (at < 0 || s->kv[at].tombstone)
        return HS_ENOTFOUND;
    uint64_t old = s->max_version;
    err = hs__kv_put(s, key, NULL, 0, true, old + 1, c->now);
    if (err != HS_OK)
        return err;
    s->max_version = s->wr_version = old + 1;
    hs__view_touch(c);
    hs__core_mark_hot(c, s, old);
    hs__core_update_deadline(c);
    return HS_OK;
}

hs_err hs__core_leave(hs_core *c, uint64_t now)
{
    hs__core_advance(c, now);
    hs_mrec *s = c->self;
    if (s->state == HS_STATE_LEFT)
        return HS_ESTATE;
    uint64_t old = s->max_version;
    /* The leave takes a version of its own so that every digest that has
     * not seen it differs from ours and pulls it. */
    s->max_version = s->wr_version = old + 1;
    s->left_version = s->max_version;
    hs__view_touch(c);
    s->state = HS_STATE_LEFT;
    s->state_since = c->now;
    hs__core_mark_hot(c, s, old);
    hs__gossip_send_leave(c);
    hs__core_update_deadline(c);
    return HS_OK;
}

/* ---- Queries ------------------------------------------------------------ */

static void fill_info(const hs_core *c, const hs_mrec *m, uint64_t now,
                      hs_member_info *out)
{
    out->name = m->name;
    out->addr = m->addr;
    out->generation = m->generation;
    out->state = m->state;
    out->heartbeat = m->hb_version;
    out->max_version = m->max_version;
    out->state_since_ms = m->state_since;
    out->is_self = m->is_self;
    out->n_keys = hs__announce_user_keys(m);
    out->rec = m;
    out->phi = 0;
    if (!m->is_self &&
        (m->state == HS_STATE_ALIVE || m->state == HS_STATE_SUSPECT))
    {
        hs_phi tmp;
        out->phi = hs__phi_value(hs__mrec_phi(m, &tmp), &c->phi, (double)now);
    }
}

size_t hs__core_member_count(const hs_core *c)
{
    return c->members.n_sorted;
}

hs_err hs__core_member_at(const hs_core *c, size_t i, uint64_t now,
                         hs_member_info *out)
{
    if (i >= c->members.n_sorted)
        return HS_ENOTFOUND;
    fill_info(c, c->members.sorted[i], now, out);
    return HS_OK;
}

hs_err hs__core_member_get(const hs_core *c, const char *name, uint64_t now,
                          hs_member_info *out)
{
    const hs_mrec *m = name ? hs__members_find(&c->members, name) : NULL;
    if (!m || m->state == HS_STATE_REAPED)
        return HS_ENOTFOUND;
    fill_info(c, m, now, out);
    return HS_OK;
}

hs_err hs__core_member_key(const hs_core *c, const char *name, uint32_t k,
                          const char **key, const uint8_t **value, size_t *len)
{
    const hs_mrec *m = name ? hs__members_find(&c->members, name) : NULL;
    if (!m || m->state == HS_STATE_REAPED)
        return HS_ENOTFOUND;
    for (uint32_t i = 0; i < m->n_kv; i++) {
        if (m->kv[i].tombstone || key_is_reserved(m->kv[i].key))
            continue; /* announcement slots are not the member's keys */
        if (k-- == 0) {
            *key = m->kv[i].key;
            *value = m->kv[i].value;
            *len = m->kv[i].len;
            return HS_OK;
        }
    }
    return HS_ENOTFOUND;
}

bool hs__core_key_next(const hs_member_info *info, uint32_t *pos,
                      const char **key, const uint8_t **value, size_t *len)
{
    const hs_mrec *m = info->rec;
    while (*pos < m->n_kv &&
           (m->kv[*pos].tombstone || key_is_reserved(m->kv[*pos].key)))
        (*pos)++; /* announcement slots are not the member's keys */
    if (*pos >= m->n_kv)
        return false;
    const hs_kv *kv = &m->kv[(*pos)++];
    *key = kv->key;
    *value = kv->value;
    *len = kv->len;
    return true;
}

const hs_core_stats *hs__core_stats_get(const hs_core *c)
{
    return &c->stats;
}
