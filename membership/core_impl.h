/*
 * membership/core_impl.h — the core's state, shared by core.c (lifecycle,
 * time, queues) and gossip.c (digests, deltas, exchanges). Private.
 */
#ifndef HS_CORE_IMPL_H
#define HS_CORE_IMPL_H

#include "membership/core.h"
#include "membership/member.h"

#define HS_MAX_SEEDS 64
#define HS_MAX_CANDIDATES 16

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
    double phi_z; /* hs_phi_normal_z(cfg.phi_threshold) */

    /* The detector configuration in use: cfg.phi with its bootstrap
     * interval and minimum deviation raised to the rhythm this node
     * actually observes across all members (see adapt_detector). */
    hs_phi_config phi;
    /* Recent inter-arrival times (ms), each weighted by its length, with
     * exponential forgetting: sum of w, w x and w x^2 (observe_rhythm). */
    double rhythm_w, rhythm_wx, rhythm_wxx;
    uint64_t rhythm_n;
    bool rhythm_known; /* enough intervals seen to trust the rhythm */

    uint64_t now;        /* last time seen */
    uint64_t deadline;   /* last deadline handed out */
    uint64_t next_gossip;
    /* A member joined or restarted since the last round: the next round
     * is brought forward to last_round + a quarter interval (see
     * hs_core_tick). */
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
     * every state change emits an event, and hs_core_emit() (or an
     * address change) sets view_dirty. */
    size_t n_live, n_dead;
    bool view_dirty;

    char digest_cursor[HS_WIRE_MAX_NAME + 1]; /* next digest page start */
    char push_cursor[HS_WIRE_MAX_NAME + 1];   /* next full-state push */

    /* Both queues are rings that start empty and double on demand up to
     * max_pending / max_events (see ring_grow in core.c). */
    hs_outq_item *outq;
    uint32_t outq_head, outq_len, outq_cap;
    hs_outq_item out_cur; /* the datagram last handed out */

    hs_core_event *evq;
    uint32_t evq_head, evq_len, evq_cap;

    hs_core_stats stats;
};

/* core.c */
uint64_t hs_core_rand(hs_core *c);
double hs_core_rand01(hs_core *c);
void hs_core_emit(hs_core *c, hs_event_type type, const hs_mrec *m,
                  const char *key, bool deleted);
void hs_core_send(hs_core *c, const char *to, const hs_wire_msg *msg);
void hs_core_reject(hs_core *c, hs_err why);
void hs_core_mark_hot(hs_core *c, hs_mrec *m, uint64_t old_max);
void hs_core_heard(hs_core *c, hs_mrec *m);
void hs_core_evidence(hs_core *c, hs_mrec *m, uint64_t version);
void hs_core_watch(hs_core *c, hs_mrec *m);

/* gossip.c */
void hs_gossip_round(hs_core *c);
void hs_gossip_handle(hs_core *c, const char *from, const hs_wire_msg *msg);
void hs_gossip_send_leave(hs_core *c);

#endif /* HS_CORE_IMPL_H */
