/*
 * exchange.c — the gossip round and the handlers of every message: which
 * parts each message carries, and in what order they claim its room.
 *
 * Push-pull, the default (docs/protocol.md has the byte-level example):
 *
 *   A -> B  SYN     A's view, A's heartbeats for one page of positions,
 *                   rumors of recent writes in the room left
 *   B -> A  SYNACK  B's view; if the member sets agree, the heartbeats of
 *                   that page B knows newer than A; if the views differ,
 *                   a page of B's digest, and rumors
 *   A -> B  ACK     (only when the SYNACK had a digest) deltas B lacks
 *                   in that range, and A's digest of the same range
 *   B -> A  ACK     (only when the ACK had a digest) deltas A lacks
 *
 * In a stable cluster every exchange is the first two messages, about
 * N + 2 x (what A lags on) bytes of heartbeats plus headers: no names, no
 * digest. The last two run only while a write, join, restart or leave is
 * spreading. While A's own view changed in the last HS_NEWS_ROUNDS rounds
 * its SYN carries a digest page already; B then answers it in the SYNACK
 * (`answered`) with its own digest of the range, and A's ACK ends the
 * exchange: v1's three messages, when a digest is needed anyway.
 *
 * Pull sends the digest page in the SYN (the responder sends nothing but
 * what the initiator lacks) and stops after the SYNACK; push sends one
 * PUSH with the view, a heartbeat page, rumors and a rotating slice of
 * full state.
 *
 * A message without a view (a peer that has none to offer) is taken as one
 * from a view that differs: nothing by position, digests by name.
 */
#include <stdlib.h>
#include <string.h>

#include "membership/gossip.h"

static bool has_digest(const hs_wire_msg *m)
{
    return m->n_digest || *m->range_lo || *m->range_hi;
}

static void send_built(hs_core *c, const char *to, hs_builder *b)
{
    if (b->truncated)
        c->stats.truncated_msgs++;
    hs__core_send(c, to, &b->msg);
}

static void count_view(hs_core *c, bool same)
{
    if (same)
        c->stats.view_matches++;
    else
        c->stats.view_mismatches++;
}

static void send_syn(hs_core *c, const char *to)
{
    hs_builder b;
    if (hs__builder_init(c, &b, HS_WIRE_SYN) != HS_OK) {
        hs__core_nomem(c);
        return;
    }
    hs__view_put(c, &b);
    if (c->cfg.mode == HS_MODE_PULL) {
        /* The digest rides here: the answer is all there is. */
        b.msg.pull_only = true;
        size_t budget = b.budget;
        b.budget = b.used + hs__builder_room(&b) / 2;
        hs__beats_page(c, &b);
        b.budget = budget;
        hs__digest_page(c, &b, hs__builder_room(&b));
    } else {
        hs__beats_page(c, &b);
        hs__rumor_keys_first(c, &b, NULL, NULL);
        hs__view_get(c);
        if (c->round < c->view_round + HS_NEWS_ROUNDS)
            hs__digest_page(c, &b, hs__builder_room(&b));
        hs__rumor_add(c, &b, b.msg.range_lo, b.msg.range_hi, false);
    }
    send_built(c, to, &b);
    hs__builder_free(&b);
}

static void send_push(hs_core *c, const char *to)
{
    hs_builder b;
    if (hs__builder_init(c, &b, HS_WIRE_PUSH) != HS_OK) {
        hs__core_nomem(c);
        return;
    }
    hs__view_put(c, &b);
    size_t budget = b.budget;
    b.budget = b.used + hs__builder_room(&b) / 2;
    hs__beats_page(c, &b);
    b.budget = budget;
    /* Rumors of every member (no range is covered precisely), then full
     * state in the room left. */
    hs__rumor_add(c, &b, NULL, NULL, false);
    hs__delta_full_states(c, &b);
    send_built(c, to, &b);
    hs__builder_free(&b);
}

/* Pull never pushes: remember the sender of a SYN we do not know so that
 * we pull from it too, or a newcomer would never be learned. */
static void remember_candidate(hs_core *c, const hs_wire_msg *syn)
{
    if (hs__members_find(&c->members, syn->sender.name) || !*syn->sender.addr ||
        c->n_candidates >= HS_MAX_CANDIDATES)
        return;
    char *a = strdup(syn->sender.addr);
    if (!a) {
        hs__core_nomem(c);
        return;
    }
    c->candidates[c->n_candidates++] = a;
}

/* Fills b with the answer to a peer's digest: our own state first (when
 * the member sets differ), user-key rumors, the deltas the peer lacks in
 * the digest's range, then, if `ours`, our digest of the same range for
 * the peer to answer in turn, and rumors of the rest. `beats`: the member
 * sets differ, so heartbeats ride in deltas. */
static void fill_answer(hs_core *c, hs_builder *b, const hs_wire_msg *msg,
                        bool ours, bool beats)
{
    if (beats)
        hs__rumor_self(c, b, msg);
    hs__rumor_keys_first(c, b, msg->range_lo, msg->range_hi);
    size_t reserve = 0;
    if (ours) {
        /* Our digest keeps at least half of the room (or all it needs, if
         * less): with too little the range shrinks and the last answer
         * covers less. */
        size_t room = hs__builder_room(b);
        size_t want = hs__digest_size_in(c, msg->range_lo, msg->range_hi);
        reserve = want < room / 2 ? want : room / 2;
    }
    b->budget -= reserve;
    hs__delta_for_digest(c, b, msg->digest, msg->n_digest, msg->range_lo,
                         msg->range_hi, beats);
    b->budget += reserve;
    if (ours)
        hs__digest_range(c, b, msg->range_lo, msg->range_hi,
                         hs__builder_room(b));
    hs__rumor_add(c, b, msg->range_lo, msg->range_hi, false);
}

static void on_syn(hs_core *c, const char *from, const hs_wire_msg *syn)
{
    /* Judge the view before applying anything: a delta that adds a member
     * would shift every position after it. */
    bool same = syn->has_view && hs__view_same_members(c, &syn->view);
    bool same_state = same && hs__view_same_state(c, &syn->view);
    count_view(c, same);
    hs__apply_leaves(c, syn);
    if (same)
        hs__beats_apply(c, &syn->beats);
    if (has_digest(syn) && !same)
        hs__digest_apply_beats(c, syn);
    hs__apply_deltas(c, syn);

    hs_builder b;
    if (hs__builder_init(c, &b, HS_WIRE_SYNACK) != HS_OK) {
        hs__core_nomem(c);
        return;
    }
    hs__view_put(c, &b);
    if (same)
        hs__beats_answer(c, &b, &syn->beats);
    if (syn->pull_only) {
        fill_answer(c, &b, syn, false, !same);
        remember_candidate(c, syn);
    } else if (has_digest(syn)) {
        /* A digest came with the SYN: answer it here, and send ours of the
         * same range for the ACK, which then ends the exchange. */
        fill_answer(c, &b, syn, true, !same);
        b.msg.answered = true;
    } else if (!same_state) {
        /* Ask: a page of our digest, for the initiator to answer. */
        if (!same)
            hs__rumor_self(c, &b, NULL);
        hs__rumor_keys_first(c, &b, NULL, NULL);
        hs__digest_page(c, &b, hs__builder_room(&b));
        hs__rumor_add(c, &b, b.msg.range_lo, b.msg.range_hi, false);
    }
    send_built(c, from, &b);
    hs__builder_free(&b);
}

/* Answers a digest that came in a SYNACK or an ACK with an ACK. */
static void answer_digest(hs_core *c, const char *from, const hs_wire_msg *msg,
                          bool ours, bool beats)
{
    hs_builder b;
    if (hs__builder_init(c, &b, HS_WIRE_ACK) != HS_OK) {
        hs__core_nomem(c);
        return;
    }
    fill_answer(c, &b, msg, ours, beats);
    if (b.msg.n_deltas || has_digest(&b.msg))
        send_built(c, from, &b);
    hs__builder_free(&b);
}

static void on_synack(hs_core *c, const char *from, const hs_wire_msg *msg)
{
    bool same = msg->has_view && hs__view_same_members(c, &msg->view);
    hs__apply_leaves(c, msg);
    if (same)
        hs__beats_apply(c, &msg->beats);
    if (has_digest(msg) && !same)
        hs__digest_apply_beats(c, msg);
    hs__apply_deltas(c, msg);
    if (c->cfg.mode == HS_MODE_PUSH_PULL && has_digest(msg))
        answer_digest(c, from, msg, !msg->answered, !same);
}

static void on_ack(hs_core *c, const char *from, const hs_wire_msg *msg)
{
    hs__digest_apply_beats(c, msg);
    hs__apply_deltas(c, msg);
    if (has_digest(msg))
        answer_digest(c, from, msg, false, false);
}

static void on_push(hs_core *c, const hs_wire_msg *msg)
{
    hs__apply_leaves(c, msg);
    if (msg->has_view && hs__view_same_members(c, &msg->view))
        hs__beats_apply(c, &msg->beats);
    hs__apply_deltas(c, msg);
}

static void on_leave(hs_core *c, const hs_wire_msg *msg)
{
    hs_mrec *m = hs__members_find(&c->members, msg->sender.name);
    if (!m || m->state == HS_STATE_REAPED)
        return;
    if (msg->sender.generation < m->generation) {
        hs__core_reject(c, HS_ESTALE);
        return;
    }
    if (msg->sender.generation > m->generation)
        return; /* a newer incarnation we have not seen: wait for its state */
    hs__apply_left(c, m, msg->leave_version);
}

void hs__gossip_handle(hs_core *c, const char *from, const hs_wire_msg *msg)
{
    switch (msg->type) {
    case HS_WIRE_SYN:
        on_syn(c, from, msg);
        break;
    case HS_WIRE_SYNACK:
        on_synack(c, from, msg);
        break;
    case HS_WIRE_ACK:
        on_ack(c, from, msg);
        break;
    case HS_WIRE_PUSH:
        on_push(c, msg);
        break;
    case HS_WIRE_LEAVE:
        on_leave(c, msg);
        break;
    default:
        hs__core_reject(c, HS_EMALFORMED);
    }
}

void hs__gossip_round(hs_core *c)
{
    c->round++;
    c->stats.rounds++;
    hs_targets t = {0};
    hs__peers_choose(c, &t);
    for (size_t i = 0; i < t.n; i++) {
        if (c->cfg.mode == HS_MODE_PUSH)
            send_push(c, t.addr[i]);
        else
            send_syn(c, t.addr[i]);
    }
    for (uint32_t i = 0; i < c->n_candidates; i++)
        free(c->candidates[i]);
    c->n_candidates = 0;
}

void hs__gossip_send_leave(hs_core *c)
{
    hs_targets t = {0};
    hs__peers_for_leave(c, &t, c->cfg.leave_fanout);
    hs_wire_msg msg = {.type = HS_WIRE_LEAVE,
                       .cluster = c->cluster,
                       .sender = {c->name, c->cfg.generation, c->addr},
                       .range_lo = "",
                       .range_hi = "",
                       .leave_version = c->self->left_version};
    for (size_t i = 0; i < t.n; i++)
        hs__core_send(c, t.addr[i], &msg);
}
