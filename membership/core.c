/*
 * core.c — the membership core's lifecycle (creating and freeing a core,
 * its seeds, its randomness), clock handling, heartbeats and the entry
 * points that drive it (tick, receive, next deadline). Its configuration
 * is in core_config.c, the event and datagram queues in queue.c, the
 * node's own writes in local.c, reads of the view in lookup.c; the
 * exchanges themselves are the files gossip.h lists.
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
    "join",    "update", "suspect",  "recover", "fail", "leave",
    "restart", "reap",   "conflict", "user",    "query"};
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
    c->phi_z =
        hs__phi_normal_z(cfg->phi_threshold > 0 ? cfg->phi_threshold : 1.0);
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
    uint64_t before =
        c->now > c->cfg.tombstone_gc_ms ? c->now - c->cfg.tombstone_gc_ms : 0;
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
        err = msg->sender.generation < c->cfg.generation ? HS_ESTALE : HS_ESELF;
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
