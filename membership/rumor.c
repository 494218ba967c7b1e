/*
 * rumor.c — recent writes pushed unasked, and our own state first.
 *
 * Anti-entropy by digest pages is precise but slow for news once the view
 * outgrows a datagram, so every write a node learns is also pushed unasked,
 * for rumor_rounds rounds, in whatever room a message has left ("rumor
 * mongering backed by anti-entropy", Demers et al. 1987). A rumor is a
 * delta from the version the node held before the write; a receiver that
 * holds less cannot apply it and waits for the digest page that covers
 * the member. Heartbeats are not rumors in protocol v2: they travel by
 * position (view.c), so the hot list holds only members with a write under
 * way.
 */
#include <string.h>

#include "membership/gossip.h"

/* A write to m's versions happened at this node: keep pushing versions
 * above what we held before it for the next rumor_rounds rounds.
 *
 * A new rumor window starts when the last one cooled down, and also when
 * it has run for rumor_rounds, but an aged window does not move past a
 * user key this node has pushed for fewer than rumor_rounds: a write that
 * happened to start the window rounds before the key arrived would
 * otherwise end the key's rumor at this node a round or two after it
 * began. */
void hs__core_mark_hot(hs_core *c, hs_mrec *m, uint64_t old_max)
{
    uint32_t round = (uint32_t)c->round;
    bool key_new = m->n_kv && m->kv[m->n_kv - 1].version > old_max;
    bool key_live = m->n_kv && m->kv[m->n_kv - 1].version > m->rumor_base &&
                    (uint32_t)(round - m->key_start) < c->cfg.rumor_rounds;
    /* Nothing but heartbeats: they go by position. A member we just
     * learned (old_max 0) is news itself: its existence is the rumor. */
    if (old_max && m->wr_version <= old_max)
        return;
    if (c->round >= m->rumor_until ||
        ((uint32_t)(round - m->rumor_start) >= c->cfg.rumor_rounds &&
         !key_live)) {
        m->rumor_base = old_max;
        m->rumor_start = round;
    }
    if (key_new)
        m->key_start = round;
    m->rumor_until = c->round + c->cfg.rumor_rounds + 1;
    /* Listed so rumors are found without scanning every member; if the
     * list cannot grow the write still spreads by anti-entropy. */
    bool keys = m->n_kv && m->kv[m->n_kv - 1].version > m->rumor_base;
    if (hs__members_hot_add(&c->members, m, keys) != HS_OK)
        hs__core_nomem(c);
}

#define RUMOR_MIN_ROOM 16

/* Where a rumor of m starts. rumor_base is what this node held before the
 * write, but a receiver holding less could not apply a delta from there
 * (a gap). Every version between m's last user-key entry at or below the
 * base and the base itself was a heartbeat, so a delta from that entry
 * carries exactly the same entries and applies at any receiver that has
 * m's keys: the rumor reaches stale peers for free. Never below the
 * collection point, or a receiver could miss a delete. */
uint64_t hs__rumor_from(const hs_mrec *m)
{
    uint32_t i = hs__kv_after(m, m->rumor_base);
    uint64_t from = i ? m->kv[i - 1].version : 0;
    return from > m->gc_version ? from : m->gc_version;
}

static bool name_in_range(const char *name, const char *lo, const char *hi)
{
    return (!*lo || strcmp(name, lo) >= 0) && (!*hi || strcmp(name, hi) <= 0);
}

void hs__rumor_add(hs_core *c, hs_builder *b, const char *lo, const char *hi,
                   bool keys_only)
{
    if (lo && !*lo && !*hi)
        return; /* the whole view was reconciled precisely */
    if (hs__builder_room(b) < RUMOR_MIN_ROOM)
        return;
    /* The hot list is shuffled in place, one step at a time (lazy
     * Fisher-Yates), first its key part, then the rest, and rumors are
     * taken in that order until the datagram is full. So a message costs
     * the few members it carries, not a pass over every hot member.
     * Members whose rumor is over leave the list when met; each swap keeps
     * the unvisited part intact. */
    hs_members *t = &c->members;
    for (int g = 0; g < (keys_only ? 1 : 2); g++) {
        size_t i = g ? t->n_hot_keys : 0;
        for (;;) {
            size_t end = g ? t->n_hot : t->n_hot_keys;
            if (i >= end)
                break;
            hs__members_hot_swap(t, i, i + hs__core_rand(c) % (end - i));
            hs_mrec *m = t->hot[i];
            if (c->round >= m->rumor_until || m->max_version <= m->rumor_base) {
                hs__members_hot_del(t, m); /* an unvisited one moves to i */
                continue;
            }
            if (g == 0 &&
                !(m->n_kv && m->kv[m->n_kv - 1].version > m->rumor_base)) {
                hs__members_hot_demote(t, m); /* to the other part */
                continue;
            }
            i++;
            if ((lo && name_in_range(m->name, lo, hi)) ||
                hs__delta_already_in(b, m))
                continue;
            hs_cand k = {.m = m, .from = hs__rumor_from(m)};
            if (!hs__delta_pack(b, &k))
                return;
        }
    }
}

/* User-key rumors go first, in at most a quarter of the room: without the
 * cap a burst of tag writes would stop anti-entropy; without going first
 * a paged digest would fill the room rumors were meant to use. */
void hs__rumor_keys_first(hs_core *c, hs_builder *b, const char *lo,
                          const char *hi)
{
    size_t budget = b->budget;
    b->budget = b->used + hs__builder_room(b) / 4;
    hs__rumor_add(c, b, lo, hi, true);
    b->budget = budget;
}

/*
 * Our own latest state goes first into every message of an exchange whose
 * views differ, unless the peer's digest shows it has it. Nobody else can
 * say that we are alive, and while the member sets differ our heartbeat
 * cannot travel by position; v1 measured runs of 25 s in which a member's
 * heartbeat reached nobody when it waited for its turn in a digest.
 *
 * Outside the digest's range we do not know what the peer holds. While a
 * write of ours is a rumor, the delta starts where the rumor does, so it
 * carries the write; otherwise after our newest write: the heartbeat
 * alone, which applies at any peer that has our keys.
 */
void hs__rumor_self(hs_core *c, hs_builder *b, const hs_wire_msg *peer)
{
    hs_mrec *s = c->self;
    hs_cand k = {.m = s, .beat = true};
    const char *lo = peer ? peer->range_lo : "";
    const char *hi = peer ? peer->range_hi : "";
    bool covered = peer && (peer->n_digest || *lo || *hi) &&
                   name_in_range(s->name, lo, hi);
    if (covered) {
        const hs_wire_digest_entry *p = NULL;
        for (size_t i = 0; i < peer->n_digest && !p; i++)
            if (strcmp(peer->digest[i].name, s->name) == 0)
                p = &peer->digest[i];
        if (!p || p->generation != s->generation)
            return; /* unknown or stale incarnation: the answer sends all */
        if (p->max_version >= s->wr_version && p->heartbeat >= s->hb_version &&
            (!s->left_version || p->left))
            return;
        uint64_t clean =
            p->max_version > p->gc_version ? p->max_version : p->gc_version;
        if (clean < s->gc_version)
            return; /* needs a reset: the answer decides */
        k.from = p->max_version;
    } else if (c->round < s->rumor_until && s->max_version > s->rumor_base) {
        k.from = hs__rumor_from(s);
    } else {
        uint64_t base = s->n_kv ? s->kv[s->n_kv - 1].version : 0;
        k.from = base > s->gc_version ? base : s->gc_version;
    }
    hs__delta_pack(b, &k);
}
