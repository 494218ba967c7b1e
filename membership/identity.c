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
 * The rules, which need no coordination and cannot loop:
 *
 *   1. A node that has been running longer than HS_JOIN_WINDOW_MS and hears
 *      of a newer incarnation of its name refutes it at once: it takes a
 *      generation above the claim, so every peer replaces the claimant's
 *      record with its own (a restart of the name), and says so.
 *   2. A node still joining that hears of a newer incarnation watches it:
 *      if its heartbeat advances, a live member holds the name (it is the
 *      owner's refutation of us, per rule 1): the newcomer yields — it
 *      stops gossiping and reports the conflict, and hearsayd exits.
 *      If nothing advances for HS_STALE_WAIT_MS, it was our own past:
 *      take a generation above it, and say so loudly.
 *
 * A newcomer's first claim always comes from a refutation (peers holding
 * the owner's older generation take the newcomer's newer one at once), so
 * the owner keeps its name within a round or two, and a clock set back no
 * longer makes a node invisible.
 */
#include <stdio.h>

#include "membership/gossip.h"

void hs_core_claim(hs_core *c, uint64_t generation, uint64_t heartbeat)
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
    bool joining = c->now < c->born + HS_JOIN_WINDOW_MS;
    if (!joining) {
        hs_core_take_generation(c, generation + 1, true);
        return;
    }
    if (c->rival_live) {
        /* A live member holds this name: this node is the newcomer. */
        c->yielded = true;
        c->stats.name_conflicts++;
        hs_mrec *s = c->self;
        uint64_t own = s->generation;
        s->generation = generation; /* the event names the holder's */
        s->state = HS_STATE_LEFT;
        hs_core_emit(c, HS_EVENT_CONFLICT, s, NULL, false);
        s->generation = own;
    }
    /* Otherwise the check in hs_core_tick decides once the wait is over. */
}

void hs_core_take_generation(hs_core *c, uint64_t generation, bool refute)
{
    hs_mrec *s = c->self;
    c->stats.name_conflicts += refute;
    c->cfg.generation = generation;
    s->generation = generation;
    c->rival_gen = 0;
    hs_view_touch(c);
    /* A new incarnation is news: peers restart the name from our state. */
    hs_core_mark_hot(c, s, 0);
    c->news = true;
    hs_core_emit(c, refute ? HS_EVENT_CONFLICT : HS_EVENT_RESTART, s, NULL,
                 false);
}

void hs_core_check_claims(hs_core *c)
{
    if (c->yielded || !c->rival_gen || c->rival_live)
        return;
    if (c->now >= c->rival_since + HS_STALE_WAIT_MS)
        hs_core_take_generation(c, c->rival_gen + 1, false);
}
