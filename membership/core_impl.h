/*
 * membership/core_impl.h — the core's state, shared by the core's files:
 * core.c (lifecycle, time), core_config.c, queue.c (events and sends),
 * local.c (own writes), lookup.c (reads of the view), the liveness,
 * identity and announcement files and the exchange's (gossip.h).
 * Private.
 */
#ifndef HS_CORE_IMPL_H
#define HS_CORE_IMPL_H

#include "membership/core.h"
#include "membership/member.h"

#define HS_MAX_SEEDS 64
#define HS_MAX_CANDIDATES 16
/* Convictions spread at once (view.c): a node rarely declares more than a
 * few members dead within rumor_rounds rounds; past that the oldest is
 * dropped and the others' detectors convict it on their own. */
#define HS_MAX_VERDICTS 8
/* A peer's conviction is followed when our own phi for the member is at
 * least this share of the threshold (view.c): half-way means our detector
 * has also gone a long stretch without news, far past the jitter of an
 * ordinary interval (phi 4 is mean + 3.7 sigma under the normal model). */
#define HS_FOLLOW_PHI 0.5
/* A node whose view changed within this many rounds puts a digest page in
 * its SYNs (exchange.c): its peers' views most likely differ too, and the
 * digest saves the two messages it would take them to ask for one. A join
 * or a write reaches everyone in about log2 N rounds, so four covers the
 * busy part of a change at the node that learns it. */
#define HS_NEWS_ROUNDS 4
/* identity.c: a claim on our name from an older process whose heartbeat
 * does not advance for this long is our own past incarnation: a live
 * holder beats every interval (six at the default 500 ms). */
#define HS_STALE_WAIT_MS 3000

typedef struct hs_outq_item {
    char *to;
    uint8_t *buf;
    size_t len;
    hs_wire_type type;
} hs_outq_item;

struct hs_core {
    hs_core_config cfg; /* strings point at the copies below */
    char cluster[HS_WIRE_MAX_NAME + 1];
    char name[HS_WIRE_MAX_NAME + 1];
    char addr[HS_WIRE_MAX_ADDR + 1];

    hs_members members;
    hs_mrec *self;
    uint64_t rng;
    double phi_z; /* hs__phi_normal_z(cfg.phi_threshold) */

    /* The detector configuration in use: cfg.phi with its bootstrap
     * interval and minimum deviation raised to the rhythm this node
     * actually observes across all members (see adapt_detector). */
    hs_phi_config phi;
    /* Recent inter-arrival times (ms), each weighted by its length, with
     * exponential forgetting: sum of w, w x and w x^2 (observe_rhythm). */
    double rhythm_w, rhythm_wx, rhythm_wxx;
    uint64_t rhythm_n;
    bool rhythm_known; /* enough intervals seen to trust the rhythm */

    uint64_t now;      /* last time seen */
    uint64_t deadline; /* last deadline handed out */
    uint64_t next_gossip;
    /* A member joined or restarted since the last round: the next round
     * is brought forward to last_round + a quarter interval (see
     * hs__core_tick). */
    bool news;
    uint64_t last_round; /* when the last round ran */
    uint64_t next_heartbeat;
    uint64_t next_check; /* earliest member timer that may be due */
    uint64_t next_gc;
    uint64_t round;

    char *seeds[HS_MAX_SEEDS];
    uint32_t n_seeds;
    /* Senders of SYNs we do not know yet: gossiped with next round so that
     * a pull-only cluster still learns about newcomers. */
    char *candidates[HS_MAX_CANDIDATES];
    uint32_t n_candidates;

    /* Peers that are live / dead, recounted only after the view changed:
     * every state change emits an event, and hs__core_emit() (or an
     * address change) sets view_dirty. */
    size_t n_live, n_dead;
    bool view_dirty;

    /* The view summary (view.c), valid while members.changed is false. */
    hs_wire_view view;
    uint32_t beats_cursor; /* first position of the next beats page */
    uint64_t view_round;   /* round the view summary last changed */
    struct {
        char name[HS_WIRE_MAX_NAME + 1];
        uint64_t until; /* round the conviction stops being spread */
    } verdicts[HS_MAX_VERDICTS];

    char digest_cursor[HS_WIRE_MAX_NAME + 1]; /* next digest page start */
    char push_cursor[HS_WIRE_MAX_NAME + 1];   /* next full-state push */
    uint64_t push_from; /* ... from this version of it (a sliced state) */

    /* Both queues are rings that start empty and double on demand up to
     * max_pending / max_events (see ring_grow in queue.c). */
    hs_outq_item *outq;
    uint32_t outq_head, outq_len, outq_cap;
    hs_outq_item out_cur; /* the datagram last handed out */

    hs_core_event *evq;
    uint32_t evq_head, evq_len, evq_cap;

    /* Claims on our name (identity.c). */
    uint64_t rival_gen;   /* a newer incarnation of our name; 0: none */
    uint64_t rival_hb;    /* its newest heartbeat seen */
    uint64_t rival_since; /* when it was first seen */
    bool rival_live;      /* its heartbeat advanced while we watched */
    bool yielded;         /* a live member holds our name: we are silent */

    /* Announcements (announce.c): own slots' expiry times (0: free), the
     * next slot to write, the last number used this generation, the
     * Lamport clock, and the rate limit's token bucket. */
    uint64_t an_until[HS_AN_SLOTS];
    uint32_t an_next;
    uint64_t an_seq;
    uint64_t an_ltime;
    double an_tokens;
    uint64_t an_refill;
    hs_core_user *ev_user; /* the user content of the event last handed out */
    /* Force-leaves heard before the member they name (announce.c): a
     * newcomer may read the announcer's slot before anyone's copy of that
     * member reaches it. Kept for the slot's lifetime; the oldest goes
     * first when the table is full. */
    struct hs_an_pending {
        char name[HS_WIRE_MAX_NAME + 1];
        uint64_t generation, heartbeat, until;
    } an_pending[HS_AN_PENDING];
    uint32_t an_pending_next;
    /* Queries (query.c): allocated on first use, NULL until then. */
    struct hs_query_state *q;

    hs_core_stats stats;
};

/* core.c */
/* The time is now `now` (never backwards; a late call is a pause). */
void hs__core_advance(hs_core *c, uint64_t now);
void hs__core_update_deadline(hs_core *c);
uint64_t hs__core_rand(hs_core *c);
double hs__core_rand01(hs_core *c);

/* local.c */
/* Whether one entry of `len` value bytes under `key` fits a datagram with
 * the longest names (else it could never be sent). */
bool hs__core_entry_fits(const hs_core *c, const char *key, size_t len);
/* Whether key is under the reserved prefix HS_KEY_PREFIX (the core's own
 * keys: announcements), which callers may not write and lookups hide. */
bool hs__core_key_is_reserved(const char *key);

/* queue.c */
/* Queues an event; the queued copy, or NULL when the queue was full
 * (counted in events_dropped). */
hs_core_event *hs__core_emit(hs_core *c, hs_event_type type, const hs_mrec *m,
                             const char *key, bool deleted);
void hs__core_send(hs_core *c, const char *to, const hs_wire_msg *msg);
/* Queues an encoded datagram; buf (malloc'd) is taken over. */
void hs__core_send_raw(hs_core *c, const char *to, uint8_t *buf, size_t len);
void hs__core_reject(hs_core *c, hs_err why);
/* An allocation failed and the work it was for is lost (a round, an
 * answer, part of a datagram): counted in alloc_failures, and in
 * rejected[ENOMEM] as before. Never silent: every such path calls it. */
void hs__core_nomem(hs_core *c);
void hs__core_mark_hot(hs_core *c, hs_mrec *m, uint64_t old_max);
void hs__core_heard(hs_core *c, hs_mrec *m);
void hs__core_evidence(hs_core *c, hs_mrec *m, uint64_t version);
void hs__core_watch(hs_core *c, hs_mrec *m);
/* Declares m dead (from alive or suspect): FAIL, and the conviction is
 * spread (liveness.c). */
void hs__core_convict(hs_core *c, hs_mrec *m);
/* Time-driven member state changes that are due (liveness.c). */
void hs__core_check_members(hs_core *c);
/* The node's observed rhythm changed the detector in use (liveness.c). */
bool hs__core_adapt_detector(hs_core *c);
/* Takes `gap` ms of local silence off every detector and timer. */
void hs__core_forgive_pause(hs_core *c, uint64_t gap);

/* identity.c */
/* Someone holds incarnation `generation` of our name, at `heartbeat`. */
void hs__core_claim(hs_core *c, uint64_t generation, uint64_t heartbeat);
/* Takes a new generation for this node (a refutation, or leaving its own
 * past behind). */
void hs__core_take_generation(hs_core *c, uint64_t generation, bool refute);
/* A claim watched long enough without a heartbeat was our own past. */
void hs__core_check_claims(hs_core *c);

/* announce.c */
/* The slot index of an announcement key ("hs.an.N"), or -1. */
int hs__announce_slot_of(const char *key);
/* Left by a force-leave (no leave of its own): a newer heartbeat or write
 * of it brings it back. */
bool hs__announce_forced(const hs_mrec *m);
/* Live keys of m that are not reserved (what max_keys limits). */
uint32_t hs__announce_user_keys(const hs_mrec *m);
void hs__announce_init(hs_core *c);
/* m is first seen (or restarted) by a delta that spoke of versions up to
 * floor: slot writes at or below it are not news. */
void hs__announce_first_sight(hs_mrec *m, uint64_t floor);
/* Stores the slot write e of m (version above m's max_version) and acts
 * on it: a user event is delivered when `announce` (m was known before
 * this delta), a force-leave always applies. HS_ENOMEM only when it could
 * not be stored (the caller stops there: prefixes stay gap-free). */
hs_err hs__announce_apply(hs_core *c, hs_mrec *m, const hs_wire_entry *e,
                          bool announce);
/* Deletes own slots whose time is up. */
void hs__announce_tick(hs_core *c);
/* m was just created or restarted: applies a force-leave of it heard
 * before it was (hs_core.an_pending). */
void hs__announce_member_seen(hs_core *c, hs_mrec *m);
/* Numbers a (kind and body filled in) and writes it into the oldest own
 * slot: HS_ESTATE after leave, HS_ETOOBIG when it cannot fit a datagram,
 * HS_ERATE over the shared rate limit. */
hs_err hs__announce_send(hs_core *c, hs_wire_announce *a);

/* query.c */
/* A query slot of m (already stored) is news here: filter, ack, report. */
void hs__query_deliver(hs_core *c, const hs_mrec *origin,
                       const hs_wire_announce *a);
/* A QueryResponse datagram arrived (the caller checked it is one). */
hs_err hs__query_receive(hs_core *c, const uint8_t *buf, size_t len);
/* Ends queries whose time is up; the earliest deadline left, or 0. */
uint64_t hs__query_tick(hs_core *c);
uint64_t hs__query_next_deadline(const hs_core *c);
void hs__query_free(hs_core *c);

/* exchange.c */
void hs__gossip_round(hs_core *c);
void hs__gossip_handle(hs_core *c, const char *from, const hs_wire_msg *msg);
void hs__gossip_send_leave(hs_core *c);

#endif /* HS_CORE_IMPL_H */
