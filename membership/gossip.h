/*
 * membership/gossip.h — what the files of the exchange share: the message
 * builder, the candidates for a delta, and the entry points of each
 * concept. Private to membership/.
 *
 *     exchange.c  the rounds and the handlers of SYN, SYNACK, ACK, PUSH,
 *                 LEAVE: which parts each message carries, and in what order
 *     view.c      the view hashes, positions, heartbeats by position and
 *                 convictions
 *     digest.c    digest pages (names and newest writes), for views that
 *                 differ
 *     delta.c     deltas: choosing and packing what a peer lacks
 *     apply.c     applying deltas and digest lines that arrive
 *     rumor.c     recent writes pushed unasked, and our own state first
 *     peers.c     whom to gossip with
 */
#ifndef HS_GOSSIP_H
#define HS_GOSSIP_H

#include "membership/core_impl.h"

/* One message under construction. Arrays are sized once from the datagram
 * size (no item costs fewer than 1 byte for beats, 4 for the rest), so
 * pointers into them stay valid while the message grows. */
typedef struct hs_builder {
    hs_wire_msg msg;
    hs_wire_digest_entry *digest;
    hs_wire_delta *deltas;
    hs_wire_entry *entries;
    uint32_t *pos;  /* beats: positions, then convictions' positions */
    uint8_t *low;   /* beats: low bytes, likewise */
    size_t cap;     /* of digest, deltas and entries */
    size_t cap_pos; /* of pos and low */
    size_t n_entries;
    size_t used, budget;
    uint32_t max_entries;
    bool truncated;
    /* A 1024-bit filter of the members given a delta (bits stay set when
     * one is withdrawn): hs__delta_already_in scans the deltas only on a
     * hit, where callers ask it once per member they consider. */
    uint64_t has_delta[16];
} hs_builder;

/* Starts a message of `type` from this node. HS_ENOMEM is counted by the
 * caller (hs__core_nomem). */
hs_err hs__builder_init(hs_core *c, hs_builder *b, hs_wire_type type);
void hs__builder_free(hs_builder *b);
/* Room left, in bytes. */
size_t hs__builder_room(const hs_builder *b);

/* What to send of one member. */
typedef struct hs_cand {
    hs_mrec *m;
    uint64_t from;
    uint64_t missing; /* versions the peer lacks (depth order) */
    uint64_t rnd;
    bool unknown; /* the peer does not know the member */
    bool keys;    /* what the peer lacks includes a user key */
    bool reset;
    bool beat; /* carry our newest heartbeat even with no entry */
} hs_cand;

/* ---- view.c ---- */

/* The view summary (recomputed when the view changed). */
const hs_wire_view *hs__view_get(hs_core *c);
/* A generation or newest write of m changed: the state hash moves. */
void hs__view_touch(hs_core *c);
/* Whether `v` (a peer's) holds the same members as ours, in the same order. */
bool hs__view_same_members(hs_core *c, const hs_wire_view *v);
bool hs__view_same_state(hs_core *c, const hs_wire_view *v);
/* Adds the view to b (call right after hs__builder_init). */
void hs__view_put(hs_core *c, hs_builder *b);
/* A SYN's or PUSH's heartbeats: one page of positions, every member's low
 * byte, from a rotating cursor; convictions in the room they need. */
void hs__beats_page(hs_core *c, hs_builder *b);
/* A SYNACK's heartbeats: within the initiator's page, the members we know
 * a newer heartbeat of than it does (sets must agree). */
void hs__beats_answer(hs_core *c, hs_builder *b, const hs_wire_beats *theirs);
/* Applies a peer's beats and convictions (sets must agree). */
void hs__beats_apply(hs_core *c, const hs_wire_beats *beats);
/* A heartbeat version of m became known (from any path). */
void hs__beat_seen(hs_core *c, hs_mrec *m, uint64_t hb_version);
/* This node declared m dead: say so for rumor_rounds rounds. */
void hs__verdict_add(hs_core *c, const hs_mrec *m);

/* ---- digest.c ---- */

/* A digest page from our rotating cursor, in at most `room` bytes. */
void hs__digest_page(hs_core *c, hs_builder *b, size_t room);
hs_wire_digest_entry hs__digest_of(const hs_mrec *m);
/* Our digest over a peer's range [lo, hi], or a window of it that fits. */
void hs__digest_range(hs_core *c, hs_builder *b, const char *lo, const char *hi,
                      size_t room);
/* Bytes our digest over [lo, hi] would take, range names included. */
size_t hs__digest_size_in(hs_core *c, const char *lo, const char *hi);
/* Heartbeats a digest tells us of (when sets differ, the only path). */
void hs__digest_apply_beats(hs_core *c, const hs_wire_msg *msg);

/* ---- delta.c ---- */

/* Adds all of k's entries, or the prefix that fits. False when it did not
 * fit whole: the datagram is full. */
bool hs__delta_pack(hs_builder *b, const hs_cand *k);
/* Deltas for a peer whose digest over [lo, hi] is `digest`: everything we
 * hold in that range that it lacks. `beats` also sends our newer
 * heartbeats (when the peer cannot get them by position). */
void hs__delta_for_digest(hs_core *c, hs_builder *b,
                          const hs_wire_digest_entry *digest, size_t n_digest,
                          const char *lo, const char *hi, bool beats);
/* Push mode's anti-entropy: full state of members from a rotating cursor. */
void hs__delta_full_states(hs_core *c, hs_builder *b);
bool hs__delta_already_in(const hs_builder *b, const hs_mrec *m);

/* ---- apply.c ---- */

void hs__apply_deltas(hs_core *c, const hs_wire_msg *msg);
/* Marks the leaves a message carries for members we know, before its
 * heartbeats are applied: a leave never passes through alive. */
void hs__apply_leaves(hs_core *c, const hs_wire_msg *msg);
/* Marks m left at `version` (once per incarnation). */
void hs__apply_left(hs_core *c, hs_mrec *m, uint64_t version);

/* ---- rumor.c ---- */

/* Recent writes of members outside [lo, hi] (lo == NULL: none covered) in
 * the room left; keys_only: only members whose user keys changed. */
void hs__rumor_add(hs_core *c, hs_builder *b, const char *lo, const char *hi,
                   bool keys_only);
/* User-key rumors first, in at most a quarter of the room. */
void hs__rumor_keys_first(hs_core *c, hs_builder *b, const char *lo,
                          const char *hi);
/* Our own latest state, unless the peer's digest shows it has it. */
void hs__rumor_self(hs_core *c, hs_builder *b, const hs_wire_msg *peer);
/* Where a rumor of m starts (see rumor.c). */
uint64_t hs__rumor_from(const hs_mrec *m);

/* ---- peers.c ---- */

typedef struct hs_targets {
    const char *addr[16 + 3 + HS_MAX_CANDIDATES];
    size_t n;
    bool seed; /* a seed is among them */
} hs_targets;

void hs__peers_choose(hs_core *c, hs_targets *t);
/* Up to k live peers (for the leave), or the seeds when none. */
void hs__peers_for_leave(hs_core *c, hs_targets *t, uint32_t k);

#endif /* HS_GOSSIP_H */
