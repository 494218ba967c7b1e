/*
 * identity.c — claims on this node's own name: another process using it,
 * or this node's own past incarnation still on record with a higher
 * generation.
 *
 * Only this node writes its state, so any incarnation of its name it hears
 * of other than its own is either
 *
 *   - its own past: it restarted with a lower generation (the generation
 *     is the start time in ms, and the clock was set back), and peers keep
 *     the old, higher, dead one; they refuse everything it says
 *     (HS_ESTALE) and it is invisible until it takes a generation above
 *     the record; or
 *   - another live process with the same name (a cloned host keeps its
 *     hostname), whose heartbeat keeps advancing.
 *
 * Which of two live processes keeps the name: the older one, and a
 * member's age is in its heartbeat version, which only grows (every beat
 * takes one) and survives a refutation (a new generation keeps the
 * counter). The rules, which need no coordination and cannot loop:
 *
 *   1. A claim (a newer generation of our name) whose heartbeat is not
 *      ahead of ours comes from a younger process: refute it at once by
 *      taking a generation above it, so every peer replaces the claimant's
 *      record with ours (a restart of the name); emit a conflict.
 *   2. A claim whose heartbeat is ahead of ours is watched. If it advances,
 *      an older live process holds the name: this node is the newcomer and
 *      yields — it stops gossiping and emits a conflict, and hearsayd
 *      exits. If it does not advance for HS_STALE_WAIT_MS, it was our own
 *      past incarnation (a restart with the clock set back, which peers
 *      keep for a day): take a generation above it, and say so.
 *
 * A newcomer's claim reaches the owner at its first exchange; the owner's
 * refutation reaches the newcomer a round or two later, with the owner's
 * (higher) heartbeat, and the newcomer yields. So the owner keeps its name
 * within seconds, and a clock set back no longer makes a node invisible.
 */
#include <stdio.h>

#include "membership/gossip.h"

void hs__core_claim(hs_core *c, uint64_t generation, uint64_t heartbeat)
{
    if (c->yielded || generation <= c->cfg.generation)
        return;
    if (c->rival_gen != generation) {
        c->rival_gen = generation;
        c->rival_hb = heartbeat;
        c->rival_since = c->now;
        c->rival_live = false;
    } else if (heartbeat > c->rival_hb) {
        c->rival_hb = heartbeat;
        c->rival_live = true;
    }
    if (c->rival_hb <= c->self->hb_version) {
        /* A younger claimant (or one that said nothing of its age). */
        hs__core_take_generation(c, generation + 1, true);
        return;
    }
    if (!c->rival_live)
        return; /* an older one: live, or our own past? hs__core_check_claims */
    /* An older live process holds this name: this node is the newcomer. */
    c->yielded = true;
    c->stats.name_conflicts++;
    hs_mrec *s = c->self;
    uint64_t own = s->generation;
    s->generation = generation; /* the event names the holder's */
    s->state = HS_STATE_LEFT;
    hs__core_emit(c, HS_EVENT_CONFLICT, s, NULL, false);
    s->generation = own;
}

void hs__core_take_generation(hs_core *c, uint64_t generation, bool refute)
{
    hs_mrec *s = c->self;
    c->stats.name_conflicts += refute;
    c->cfg.generation = generation;
    s->generation = generation;
    c->rival_gen = 0;
    hs__view_touch(c);
    /* A new incarnation is news: peers restart the name from our state. */
    hs__core_mark_hot(c, s, 0);
    c->news = true;
    hs__core_emit(c, refute ? HS_EVENT_CONFLICT : HS_EVENT_RESTART, s, NULL,
                  false);
}

void hs__core_check_claims(hs_core *c)
{
    if (c->yielded || !c->rival_gen || c->rival_live)
        return;
    if (c->now >= c->rival_since + HS_STALE_WAIT_MS)
        hs__core_take_generation(c, c->rival_gen + 1, false);
}
