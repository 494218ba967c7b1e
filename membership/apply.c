/*
 * apply.c — applying the deltas that arrive: new members, restarts,
 * writes, leaves, resets, and the heartbeat every delta carries.
 *
 * The rules that keep a view honest, each a defect once:
 *
 *   - Within one generation a member's versions never go backwards. A
 *     reset ("drop what you hold first") is taken only from a copy at
 *     least as new as ours: push mode sends full copies as resets, and a
 *     peer behind us would otherwise roll our state back.
 *   - A member first learned dead or left is created in that state, with
 *     no join: a newcomer must not replay joins of the dead to every
 *     handler (they are kept for a day).
 *   - A leave never passes through alive: the delta that carries it marks
 *     the member left before its versions count as evidence of life.
 *   - Our own name belongs to us: a delta about us is never applied.
 */
#include <string.h>

#include "membership/gossip.h"

/* Versions are counters bumped once per write or beat; 2^53 is beyond any
 * real member's lifetime (a write per microsecond for 285 years) and keeps
 * every "+1" far from overflow. */
#define MAX_SANE_VERSION (UINT64_C(1) << 53)

static void set_written(hs_core *c, hs_mrec *m, uint64_t v)
{
    if (v > m->wr_version) {
        m->wr_version = v;
        hs__view_touch(c);
    }
}

/* Applies d's entries to m (whose generation matches). `clean` says the
 * delta replaced everything we held of m (a reset or a first copy), so its
 * collection point becomes ours even if the copy was cut short. */
static void apply_entries(hs_core *c, hs_mrec *m, const hs_wire_delta *d,
                          bool announce, bool clean)
{
    bool stopped = false;
    uint64_t old_max = m->max_version;
    for (size_t i = 0; i < d->n_entries; i++) {
        const hs_wire_entry *e = &d->entries[i];
        if (e->version <= m->max_version)
            continue; /* already held (duplicate or overlapping delta) */
        if (strncmp(e->key, HS_KEY_PREFIX, 3) != 0) {
            int at = hs__kv_find(m, e->key);
            bool fresh = at < 0 || m->kv[at].tombstone;
            hs_err err = HS_OK;
            if (!e->tombstone && fresh &&
                m->n_kv - m->n_tombs >= c->cfg.max_keys &&
                hs__announce_user_keys(m) >= c->cfg.max_keys)
                err = HS_EFULL;
            else
                err = hs__kv_put(m, e->key, e->value, e->value_len,
                                 e->tombstone, e->version, c->now);
            if (err != HS_OK) {
                /* Stop here: what was applied is still a gap-free prefix. */
                if (err == HS_ENOMEM)
                    hs__core_nomem(c);
                else
                    hs__core_reject(c, err);
                stopped = true;
                break;
            }
            if (announce && !(e->tombstone && at < 0))
                hs__core_emit(c, HS_EVENT_UPDATE, m, e->key, e->tombstone);
        } else if (hs__announce_slot_of(e->key) >= 0) {
            /* An announcement (announce.c): held, relayed, acted on. */
            hs_err err = hs__announce_apply(c, m, e, announce);
            if (err != HS_OK) {
                hs__core_reject(c, err);
                stopped = true;
                break;
            }
        }
        /* A reserved key this version does not know is skipped, but its
         * version still counts so the member does not stall. */
        c->stats.entries_applied++;
        m->max_version = e->version;
        set_written(c, m, e->version);
    }
    if (!stopped && d->to_version > m->max_version)
        m->max_version = d->to_version;
    if (clean && d->gc_version > m->gc_version)
        m->gc_version = d->gc_version;
    if (d->gc_version > m->gc_version && d->gc_version <= m->max_version)
        c->stats.tombstones_collected += hs__kv_collect(m, d->gc_version, 0);
    /* The collection point is a write (a collected tombstone): holding
     * every write up to it, we hold it as our newest if nothing is newer,
     * so digests agree with the owner's. */
    if (d->gc_version && d->gc_version <= m->max_version)
        set_written(c, m, d->gc_version);
    if (d->left_version && d->left_version <= m->max_version)
        set_written(c, m, d->left_version);
    if (m->max_version > old_max) {
        c->stats.deltas_applied++;
        hs__core_mark_hot(c, m, old_max);
        hs__core_evidence(c, m, m->max_version);
    }
}

void hs__apply_left(hs_core *c, hs_mrec *m, uint64_t version)
{
    if (m->state == HS_STATE_LEFT && m->left_version)
        return;
    /* Left by a force-leave already: its own leave makes it final, with no
     * second LEAVE event. */
    bool forced = m->state == HS_STATE_LEFT;
    if (!m->left_version)
        m->left_version = version ? version : 1;
    if (m->left_version <= m->max_version)
        set_written(c, m, m->left_version);
    if (forced)
        return;
    m->state = HS_STATE_LEFT;
    m->state_since = c->now;
    hs__core_emit(c, HS_EVENT_LEAVE, m, NULL, false);
    uint64_t due = c->now + c->cfg.reap_left_after_ms;
    if (due < c->next_check)
        c->next_check = due;
}

/* Starts a member's state afresh for a new incarnation. */
static void restart_member(hs_core *c, hs_mrec *m, uint64_t generation)
{
    hs__kv_clear(m);
    hs__mrec_phi_reset(m);
    m->generation = generation;
    m->max_version = m->gc_version = m->left_version = 0;
    m->wr_version = m->hb_version = 0;
    m->rumor_base = 0;
    m->rumor_until = 0;
    m->seen_version = 0;
    hs__announce_first_sight(m, 0);
    hs__view_touch(c);
}

/* The state a member first learned from d starts in: what the sender
 * holds, if it holds it dead or left; alive otherwise. */
static hs_member_state first_state(const hs_wire_delta *d)
{
    if (d->left_version)
        return HS_STATE_LEFT;
    return d->dead ? HS_STATE_DEAD : HS_STATE_ALIVE;
}

/* A delta about this node: only we write our state. A newer version or
 * generation of us elsewhere is a name clash or a forgery. */
static void about_us(hs_core *c, const hs_wire_delta *d)
{
    if (d->generation > c->cfg.generation ||
        (d->generation == c->cfg.generation &&
         d->to_version > c->self->max_version))
        hs__core_reject(c, HS_ESELF);
    hs__core_claim(c, d->generation, d->heartbeat);
}

/* How far a member's past reaches as the delta that first shows it says:
 * announcement slots at or below this version are not news here. The
 * sender's heartbeat may trail its newest writes (they came since), and a
 * delta cut short stops below them: held_version then says where they end. */
static uint64_t first_floor(const hs_wire_delta *d)
{
    uint64_t f = d->heartbeat > d->to_version ? d->heartbeat : d->to_version;
    return d->held_version > f ? d->held_version : f;
}

static void apply_delta(hs_core *c, const hs_wire_delta *d)
{
    if (d->to_version > MAX_SANE_VERSION || d->heartbeat > MAX_SANE_VERSION ||
        d->generation == 0 || d->generation > (UINT64_C(1) << 62)) {
        hs__core_reject(c, HS_EMALFORMED);
        return;
    }
    if (strcmp(d->name, c->name) == 0) {
        about_us(c, d);
        return;
    }
    bool whole = d->from_version == 0 || d->reset;
    hs_mrec *m = hs__members_find(&c->members, d->name);
    bool created = false, restarted = false;

    if (m && m->state == HS_STATE_REAPED) {
        if (d->generation <= m->generation) {
            hs__core_reject(c, HS_ESTALE);
            return;
        }
        if (!whole) {
            c->stats.deltas_gap++;
            return;
        }
        if (hs__members_revive(&c->members, m) != HS_OK) {
            hs__core_nomem(c);
            return;
        }
        restart_member(c, m, d->generation);
        created = true;
    } else if (!m) {
        if (!whole) {
            c->stats.deltas_gap++;
            return;
        }
        if (c->members.n_sorted >= c->cfg.max_members) {
            hs__core_reject(c, HS_EFULL);
            return;
        }
        if (hs__members_add(&c->members, d->name, d->addr, d->generation, &m) !=
            HS_OK) {
            hs__core_nomem(c);
            return;
        }
        created = true;
    } else if (d->generation < m->generation) {
        hs__core_reject(c, HS_ESTALE);
        return;
    } else if (d->generation > m->generation) {
        restart_member(c, m, d->generation);
        m->state = HS_STATE_ALIVE;
        m->state_since = c->now;
        restarted = true;
        if (!whole) {
            /* We know a newer incarnation exists but not its state yet:
             * our digest now asks for it from scratch. */
            hs__core_emit(c, HS_EVENT_RESTART, m, NULL, false);
            c->news = true;
            c->stats.deltas_gap++;
            /* Whatever it announced up to here is old news once it comes. */
            hs__announce_first_sight(m, first_floor(d));
            return;
        }
    } else if (d->reset) {
        if (d->to_version < m->max_version) {
            /* A copy older than ours: taking it would roll us back. */
            hs__core_reject(c, HS_ESTALE);
            return;
        }
        hs__kv_clear(m);
        m->max_version = 0;
    } else if (d->from_version > m->max_version) {
        c->stats.deltas_gap++;
        return;
    }

    if (created) {
        m->state = first_state(d);
        m->state_since = c->now;
    }
    if (created || restarted)
        hs__announce_first_sight(m, first_floor(d));
    if (*d->addr && strcmp(d->addr, m->addr) != 0) {
        c->view_dirty = true; /* peers without an address are not picked */
        if (hs__member_set_addr(m, d->addr) != HS_OK)
            hs__core_nomem(c);
    }
    if (created && m->state == HS_STATE_ALIVE)
        hs__core_emit(c, HS_EVENT_JOIN, m, NULL, false);
    if (restarted)
        hs__core_emit(c, HS_EVENT_RESTART, m, NULL, false);
    if ((created && m->state == HS_STATE_ALIVE) || restarted)
        c->news = true;
    if (created && m->state != HS_STATE_ALIVE) {
        /* Dead or left on arrival: nothing to announce, nothing to watch.
         * The member's own later heartbeat still brings it back. */
        c->view_dirty = true;
        if (m->state == HS_STATE_LEFT) {
            m->left_version = d->left_version;
            uint64_t due = c->now + c->cfg.reap_left_after_ms;
            if (due < c->next_check)
                c->next_check = due;
        } else {
            uint64_t due = c->now + c->cfg.reap_dead_after_ms;
            if (due < c->next_check)
                c->next_check = due;
        }
        m->hb_version = d->heartbeat;
        m->seen_version =
            d->heartbeat > d->to_version ? d->heartbeat : d->to_version;
        apply_entries(c, m, d, false, whole);
        hs__announce_member_seen(c, m);
        return;
    }

    /* A leave is marked before the delta's versions count as evidence, so
     * a member dead during a partition goes straight to left. */
    if (d->left_version)
        hs__apply_left(c, m, d->left_version);
    apply_entries(c, m, d, !created && !restarted, whole);
    if (d->heartbeat)
        hs__beat_seen(c, m, d->heartbeat);
    /* A member first seen without a heartbeat gets its detector started
     * now, so one that never beats is still suspected once the bootstrap
     * estimate runs out. */
    hs_phi tmp;
    if ((created || restarted) && m->state == HS_STATE_ALIVE &&
        !hs__mrec_phi(m, &tmp)->has_last) {
        hs__mrec_phi_mark(m, (double)c->now);
        hs__core_watch(c, m);
    }
    if (created || restarted)
        hs__announce_member_seen(c, m);
}

void hs__apply_leaves(hs_core *c, const hs_wire_msg *msg)
{
    for (size_t i = 0; i < msg->n_deltas; i++) {
        const hs_wire_delta *d = &msg->deltas[i];
        if (!d->left_version || strcmp(d->name, c->name) == 0)
            continue;
        hs_mrec *m = hs__members_find(&c->members, d->name);
        if (m && m->state != HS_STATE_REAPED &&
            m->generation == d->generation && d->from_version <= m->max_version)
            hs__apply_left(c, m, d->left_version);
    }
}

void hs__apply_deltas(hs_core *c, const hs_wire_msg *msg)
{
    for (size_t i = 0; i < msg->n_deltas; i++)
        apply_delta(c, &msg->deltas[i]);
}
