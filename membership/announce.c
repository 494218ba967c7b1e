/*
 * announce.c — announcements: user events, force-leaves and queries (whose
 * answers are query.c's), carried as
 * reserved keys of the announcer's own state.
 *
 * Why not a message type of their own. Everything an announcement needs
 * (reaching every member, surviving loss, never arriving twice) is what
 * scuttlebutt already does for a member's writes: a version is applied
 * once, a receiver that missed it pulls it by digest, and a retransmission
 * is a duplicate version that is skipped. So an announcement is a write:
 * the value of one of the announcer's slots "hs.an.0" .. "hs.an.31" (an
 * Announcement of wire/hearsay.proto). A cluster where nothing is announced
 * sends not one byte more; a new announcement takes the slot written
 * longest ago, and the owner deletes a slot HS_AN_TTL_MS after writing it,
 * so a member's state holds at most HS_AN_SLOTS of them and is back to its
 * usual size a minute after the last.
 *
 * User events are delivered when a node applies a slot write it did not
 * have, of a member it already knew: not on the first sight of a member's
 * state (a node that starts, or restarts, sees the cluster's recent events
 * as part of the members it learns, like serf ignoring old events on join),
 * and at most once per (origin, generation, seq): each announcer numbers
 * its announcements 1, 2, ... per incarnation, and a receiver remembers the
 * highest it has seen of each member (an_seq), so a reset copy applied
 * again delivers nothing twice. "First sight" is a version: the newest one
 * the delta that introduced the member spoke of (an_floor); a slot at or
 * below it existed before this node knew the member, even when that first
 * copy was cut short and the rest arrives later. A gap in the numbers is
 * an announcement this node never saw (a slot overwritten or deleted
 * before it arrived): counted in announcements_lost. Each user event also
 * carries a Lamport time (serf's ltime): every node's clock is max'ed with
 * each one it sees and incremented for each it sends.
 *
 * Force-leave is state, not an event: every node that applies the slot,
 * first sight included, turns the named member left if it holds it at the
 * announced generation with no newer heartbeat. Such a member keeps
 * left_version 0 (it never wrote a leave), which is what sets it apart
 * from a graceful leave: its own later heartbeat or write still brings it
 * back (recover), while a real leave stays final. The named member, if it
 * hears of it, beats at once so that heartbeat comes quickly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "membership/gossip.h"

#define SLOT_PREFIX "hs.an."

/* Own slots, rate. A slot is reused after HS_AN_SLOTS newer announcements,
 * so a receiver further behind than that loses the older ones (counted).
 * The burst is half the ring and the sustained rate turns the ring over in
 * 8 s, several times the few seconds a write takes to reach every member
 * of a thousand-node cluster (docs/performance.md). */
#define RATE_PER_SEC 4.0
#define BURST 16.0

int hs__announce_slot_of(const char *key)
{
    if (strncmp(key, SLOT_PREFIX, sizeof SLOT_PREFIX - 1) != 0)
        return -1;
    const char *p = key + sizeof SLOT_PREFIX - 1;
    int v = 0;
    if (!*p || (p[0] == '0' && p[1]))
        return -1;
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || v >= HS_AN_SLOTS)
            return -1;
        v = v * 10 + (*p - '0');
    }
    return v < HS_AN_SLOTS ? v : -1;
}

bool hs__announce_forced(const hs_mrec *m)
{
    return m->state == HS_STATE_LEFT && m->left_version == 0;
}

uint32_t hs__announce_user_keys(const hs_mrec *m)
{
    uint32_t n = m->n_kv - m->n_tombs;
    for (uint32_t i = 0; i < m->n_kv; i++)
        if (!m->kv[i].tombstone && m->kv[i].key[0] == 'h' &&
            strncmp(m->kv[i].key, HS_KEY_PREFIX, 3) == 0)
            n--;
    return n;
}

void hs__announce_init(hs_core *c)
{
    c->an_tokens = BURST;
    c->an_refill = c->now;
}

void hs__announce_first_sight(hs_mrec *m, uint64_t floor)
{
    m->an_floor = floor;
    m->an_seq = 0;
}

/* ---- Delivery ----------------------------------------------------------- */

static void emit_user(hs_core *c, const hs_mrec *origin,
                      const hs_wire_announce *a, bool local)
{
    hs_core_user *u = malloc(sizeof *u + a->payload_len + 1);
    if (!u) {
        c->stats.events_dropped++;
        hs__core_reject(c, HS_ENOMEM);
        return;
    }
    u->ltime = a->ltime;
    u->seq = a->seq;
    u->len = a->payload_len;
    u->local = local;
    snprintf(u->name, sizeof u->name, "%s", a->name);
    if (a->payload_len)
        memcpy(u->payload, a->payload, a->payload_len);
    u->payload[a->payload_len] = 0; /* text prints as a string */
    hs_core_event *ev = hs__core_emit(c, HS_EVENT_USER, origin, NULL, false);
    if (!ev) {
        free(u);
        return;
    }
    ev->user = u;
}

/* Turns x left on a force-leave at heartbeat hb (its caller checked). */
static void force_left(hs_core *c, hs_mrec *x, uint64_t hb)
{
    /* The announcer knew hb: only a heartbeat or write above it is news
     * of life (hs__beat_seen, hs__core_evidence). */
    if (hb > x->hb_version)
        x->hb_version = hb;
    if (hb > x->seen_version)
        x->seen_version = hb;
    x->state = HS_STATE_LEFT;
    x->state_since = c->now;
    hs__mrec_phi_reset(x);
    c->stats.force_leaves_applied++;
    hs__core_emit(c, HS_EVENT_LEAVE, x, NULL, false);
    uint64_t due = c->now + c->cfg.reap_left_after_ms;
    if (due < c->next_check)
        c->next_check = due;
}

/* Keeps a force-leave of a member (or an incarnation) not known yet, for
 * as long as its slot lives, so the member, when it arrives, arrives
 * left. The oldest is forgotten first. */
static void remember_force(hs_core *c, const hs_wire_announce *a)
{
    struct hs_an_pending *p = NULL;
    for (uint32_t i = 0; i < HS_AN_PENDING && !p; i++)
        if (strcmp(c->an_pending[i].name, a->name) == 0 &&
            c->an_pending[i].generation == a->generation)
            p = &c->an_pending[i]; /* the same one, relayed again */
    if (!p) {
        p = &c->an_pending[c->an_pending_next];
        c->an_pending_next = (c->an_pending_next + 1) % HS_AN_PENDING;
    }
    snprintf(p->name, sizeof p->name, "%s", a->name);
    p->generation = a->generation;
    if (a->heartbeat > p->heartbeat || p->until <= c->now)
        p->heartbeat = a->heartbeat;
    p->until = c->now + HS_AN_TTL_MS;
}

static void apply_force(hs_core *c, const hs_mrec *origin,
                        const hs_wire_announce *a)
{
    hs_mrec *x = hs__members_find(&c->members, a->name);
    if (!x || (x->state != HS_STATE_REAPED && x->generation < a->generation)) {
        remember_force(c, a);
        return;
    }
    if (x == origin || x->state == HS_STATE_REAPED ||
        x->generation != a->generation)
        return;
    if (x->is_self) {
        /* Someone holds us gone: beat now, as a refutation of a dead
         * conviction does, so our heartbeat wins everywhere soon. */
        if (x->state != HS_STATE_LEFT) {
            c->stats.refuted++;
            if (c->cfg.heartbeat_interval_ms && c->next_heartbeat > c->now)
                c->next_heartbeat = c->now;
        }
        return;
    }
    if (x->state == HS_STATE_LEFT || x->hb_version > a->heartbeat)
        return; /* gone already, or heard from since the announcer had */
    force_left(c, x, a->heartbeat);
}

void hs__announce_member_seen(hs_core *c, hs_mrec *m)
{
    for (uint32_t i = 0; i < HS_AN_PENDING; i++) {
        struct hs_an_pending *p = &c->an_pending[i];
        if (p->until <= c->now || p->generation != m->generation ||
            strcmp(p->name, m->name) != 0)
            continue;
        p->until = 0; /* used */
        if (!m->is_self && m->state != HS_STATE_LEFT &&
            m->hb_version <= p->heartbeat)
            force_left(c, m, p->heartbeat);
    }
}

hs_err hs__announce_apply(hs_core *c, hs_mrec *m, const hs_wire_entry *e,
                          bool announce)
{
    hs_err err = hs__kv_put(m, e->key, e->value, e->value_len, e->tombstone,
                            e->version, c->now);
    if (err != HS_OK)
        return err;
    if (e->tombstone)
        return HS_OK; /* the owner's slot expired */
    hs_wire_announce *a = malloc(sizeof *a);
    if (!a)
        return HS_OK; /* held and relayed; only acting on it is lost */
    err = hs__wire_announce_decode(e->value, e->value_len, a);
    if (err == HS_OK && a->seq > UINT32_MAX)
        err = HS_EMALFORMED; /* no member gets that far (see member.h) */
    if (err != HS_OK) {
        /* Kept (so replicas stay equal) but not acted on. */
        hs__core_reject(c, err);
        free(a);
        return HS_OK;
    }
    bool fresh = a->seq > m->an_seq;
    bool above = e->version > m->an_floor;
    if (fresh) {
        if (above && m->an_seq && a->seq > (uint64_t)m->an_seq + 1)
            c->stats.announcements_lost += a->seq - m->an_seq - 1;
        m->an_seq = (uint32_t)a->seq;
    }
    if (a->kind == HS_WIRE_AN_USER) {
        if (a->ltime > c->an_ltime)
            c->an_ltime = a->ltime;
        if (announce && above && fresh) {
            c->stats.user_events_delivered++;
            emit_user(c, m, a, false);
        }
    } else if (a->kind == HS_WIRE_AN_QUERY) {
        if (announce && above && fresh)
            hs__query_deliver(c, m, a); /* query.c */
    } else {
        apply_force(c, m, a);
    }
    free(a);
    return HS_OK;
}

/* ---- Announcing --------------------------------------------------------- */

static bool take_token(hs_core *c)
{
    double t = c->an_tokens +
               (double)(c->now - c->an_refill) * (RATE_PER_SEC / 1000.0);
    c->an_refill = c->now;
    c->an_tokens = t > BURST ? BURST : t;
    if (c->an_tokens < 1.0)
        return false;
    c->an_tokens -= 1.0;
    return true;
}

/* Writes a (numbered seq) into the oldest own slot. */
static hs_err write_slot(hs_core *c, const hs_wire_announce *a)
{
    uint8_t buf[HS_WIRE_MAX_ANNOUNCE];
    size_t len = 0;
    hs_err err = hs__wire_announce_encode(a, buf, sizeof buf, &len);
    if (err != HS_OK)
        return err;
    char key[16];
    snprintf(key, sizeof key, SLOT_PREFIX "%u", (unsigned)c->an_next);
    if (!hs__core_entry_fits(c, key, len))
        return HS_ETOOBIG;
    hs_mrec *s = c->self;
    uint64_t old = s->max_version;
    if ((err = hs__kv_put(s, key, buf, len, false, old + 1, c->now)) != HS_OK)
        return err;
    s->max_version = s->wr_version = old + 1;
    hs__view_touch(c);
    hs__core_mark_hot(c, s, old);
    c->an_until[c->an_next] = c->now + HS_AN_TTL_MS;
    c->an_next = (c->an_next + 1) % HS_AN_SLOTS;
    return HS_OK;
}

static hs_err can_announce(hs_core *c)
{
    if (c->self->state == HS_STATE_LEFT || c->yielded)
        return HS_ESTATE;
    return HS_OK;
}

hs_err hs__core_user_event(hs_core *c, const char *name, const void *payload,
                           size_t len, uint64_t now)
{
    hs__core_advance(c, now);
    if (!name || !hs__wire_valid_name(name, HS_WIRE_MAX_NAME) ||
        (len && !payload))
        return HS_EINVAL;
    if (len > HS_WIRE_MAX_PAYLOAD)
        return HS_ETOOBIG;
    hs_err err = can_announce(c);
    if (err != HS_OK)
        return err;
    hs_wire_announce *a = calloc(1, sizeof *a);
    if (!a)
        return HS_ENOMEM;
    a->kind = HS_WIRE_AN_USER;
    a->seq = c->an_seq + 1;
    a->ltime = c->an_ltime + 1;
    snprintf(a->name, sizeof a->name, "%s", name);
    a->payload_len = len;
    if (len)
        memcpy(a->payload, payload, len);
    /* Size first, then the rate: a refused oversize event costs no token. */
    uint8_t probe[HS_WIRE_MAX_ANNOUNCE];
    size_t plen = 0;
    err = hs__wire_announce_encode(a, probe, sizeof probe, &plen);
    if (err == HS_OK && !hs__core_entry_fits(c, SLOT_PREFIX "00", plen))
        err = HS_ETOOBIG;
    if (err == HS_OK && !take_token(c)) {
        c->stats.user_events_rate_limited++;
        err = HS_ERATE;
    }
    if (err == HS_OK)
        err = write_slot(c, a);
    if (err == HS_OK) {
        c->an_seq = a->seq;
        c->an_ltime = a->ltime;
        c->self->an_seq = (uint32_t)a->seq;
        c->stats.user_events_sent++;
        emit_user(c, c->self, a, true);
    }
    free(a);
    hs__core_update_deadline(c);
    return err;
}

hs_err hs__core_force_leave(hs_core *c, const char *name, bool force,
                            uint64_t now)
{
    hs__core_advance(c, now);
    if (!name || !hs__wire_valid_name(name, HS_WIRE_MAX_NAME))
        return HS_EINVAL;
    hs_mrec *x = hs__members_find(&c->members, name);
    if (!x || x->state == HS_STATE_REAPED)
        return HS_ENOTFOUND;
    if (x->is_self)
        return HS_EINVAL; /* a node leaves itself with hs__core_leave */
    hs_err err = can_announce(c);
    if (err != HS_OK)
        return err;
    if (x->state == HS_STATE_LEFT)
        return HS_OK; /* nothing to do: every node hears of it anyway */
    if (!force && (x->state == HS_STATE_ALIVE || x->state == HS_STATE_SUSPECT))
        return HS_ESTATE;
    if (!take_token(c)) {
        c->stats.user_events_rate_limited++;
        return HS_ERATE;
    }
    hs_wire_announce a = {.kind = HS_WIRE_AN_FORCE_LEAVE,
                          .seq = c->an_seq + 1,
                          .generation = x->generation,
                          .heartbeat = x->hb_version};
    snprintf(a.name, sizeof a.name, "%s", name);
    if ((err = write_slot(c, &a)) == HS_OK) {
        c->an_seq = a.seq;
        c->self->an_seq = (uint32_t)a.seq;
        c->stats.force_leaves_sent++;
        force_left(c, x, x->hb_version);
    }
    hs__core_update_deadline(c);
    return err;
}

hs_err hs__announce_send(hs_core *c, hs_wire_announce *a)
{
    hs_err err = can_announce(c);
    if (err != HS_OK)
        return err;
    a->seq = c->an_seq + 1;
    uint8_t probe[HS_WIRE_MAX_ANNOUNCE];
    size_t plen = 0;
    err = hs__wire_announce_encode(a, probe, sizeof probe, &plen);
    if (err == HS_EINVAL || err == HS_ENOSPC)
        err = HS_ETOOBIG; /* its filters took it past one announcement */
    if (err == HS_OK && !hs__core_entry_fits(c, SLOT_PREFIX "00", plen))
        err = HS_ETOOBIG;
    if (err == HS_OK && !take_token(c)) {
        c->stats.user_events_rate_limited++;
        err = HS_ERATE;
    }
    if (err == HS_OK)
        err = write_slot(c, a);
    if (err == HS_OK) {
        c->an_seq = a->seq;
        c->self->an_seq = (uint32_t)a->seq;
    }
    return err;
}

/* Deletes own slots whose time is up (one tombstone each, a write like any
 * delete, collected after tombstone_gc_ms). */
void hs__announce_tick(hs_core *c)
{
    hs_mrec *s = c->self;
    if (s->state == HS_STATE_LEFT)
        return;
    for (uint32_t i = 0; i < HS_AN_SLOTS; i++) {
        if (!c->an_until[i] || c->now < c->an_until[i])
            continue;
        char key[16];
        snprintf(key, sizeof key, SLOT_PREFIX "%u", (unsigned)i);
        uint64_t old = s->max_version;
        if (hs__kv_put(s, key, NULL, 0, true, old + 1, c->now) != HS_OK) {
            hs__core_reject(c, HS_ENOMEM);
            return; /* tried again next tick */
        }
        c->an_until[i] = 0;
        s->max_version = s->wr_version = old + 1;
        hs__view_touch(c);
        hs__core_mark_hot(c, s, old);
    }
}
