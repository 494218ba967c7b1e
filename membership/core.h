/*
 * membership/core.h — the sans-I/O membership core, private to the library.
 *
 * The core is the whole protocol (cluster view, versioned state, scuttlebutt
 * exchanges, heartbeats, the member lifecycle, events) and nothing else: it
 * opens no socket, reads no clock and keeps no global. It is driven from
 * outside, which is what lets the libev runtime, the many-node simulator and
 * the deterministic tests all run the same code:
 *
 *     hs__core_tick(core, now)              the time is now `now` (ms)
 *     hs__core_receive(core, now, from, b)  a datagram arrived from `from`
 *     hs__core_next_datagram(core, &d)      what should I send, and to whom?
 *     hs__core_next_event(core, &ev)        what happened?
 *     hs__core_next_deadline(core)          when must you call me again?
 *
 * Time is a caller-chosen monotonic timeline in milliseconds; randomness
 * comes from cfg.seed, so the same inputs give the same outputs.
 *
 * Addresses are opaque strings ("10.0.0.1:7946", "[::1]:7946", or a
 * simulator's node name): the core only stores, compares and returns them.
 *
 * Threading: a core is not thread-safe; one caller at a time.
 */
#ifndef HS_CORE_H
#define HS_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "detector/phi.h"
#include "hearsay.h"
#include "membership/stats.h"
#include "wire/wire.h"

typedef struct hs_core hs_core;
typedef struct hs_mrec hs_mrec;

/* How deltas compete for room in a datagram that cannot hold them all
 * (van Renesse et al. 2008). Members the peer does not know always go first. */
typedef enum hs_order {
    HS_ORDER_DEPTH = 0,  /* member with the most missing versions first */
    HS_ORDER_BREADTH = 1 /* one entry per member in turn, oldest first */
} hs_order;

/* Beyond the public states: a member forgotten after dead/left, kept in
 * the graveyard only to refuse stale gossip about it. Never reported. */
#define HS_STATE_REAPED ((hs_member_state)4)
#define HS_EVENT_COUNT_ HS_EVENT_TYPES

/* Reserved keys. Keys starting with "hs." belong to the protocol; users may
 * not write them. The heartbeat travels as an ordinary versioned entry under
 * HS_KEY_HEARTBEAT whose value is the decimal heartbeat counter. */
#define HS_KEY_PREFIX "hs."
#define HS_KEY_HEARTBEAT "hs.hb"

typedef struct hs_core_config {
    const char *cluster; /* copied; valid name (see wire.h) */
    const char *name;    /* copied; this member's unique name */
    uint64_t generation; /* >= 1; grows on every restart */
    const char *addr;    /* copied; advertised gossip address */
    uint64_t seed;       /* PRNG seed: same seed, same choices */

    hs_gossip_mode mode;
    hs_order order;
    uint32_t gossip_interval_ms;
    uint32_t heartbeat_interval_ms; /* 0 disables own heartbeats */
    uint32_t fanout;                /* peers per gossip round */
    size_t max_datagram;            /* HS_WIRE_MIN..MAX_DATAGRAM */
    uint32_t max_entries_per_msg;   /* 0 = only the datagram size limits */

    double phi_threshold;
    hs_phi_config phi;
    uint32_t dead_after_ms;      /* suspect this long -> dead */
    uint32_t reap_dead_after_ms; /* dead this long -> forgotten */
    uint32_t reap_left_after_ms; /* left this long -> forgotten */
    uint32_t tombstone_gc_ms;    /* deleted keys are kept this long */
    uint32_t rumor_rounds;       /* rounds a change is pushed unasked */

    uint32_t max_members;    /* members besides the graveyard */
    uint32_t max_keys;       /* user keys per member */
    uint32_t graveyard;      /* reaped members remembered */
    uint32_t max_pending;    /* outgoing datagrams queued */
    uint32_t max_events;     /* events queued */
    uint32_t leave_fanout;   /* peers told directly on leave */
    uint32_t pause_grace_ms; /* lateness past a deadline that is a pause */
} hs_core_config;

/* Fills cfg with the documented defaults (docs/protocol.md). Identity
 * fields (cluster, name, addr, generation) must still be set. */
void hs__core_config_init(hs_core_config *cfg);

/* Scales the detector's durations (minimum sigma, acceptable pause,
 * longest interval, bootstrap interval) and the pause guard, which
 * hs__core_config_init sets for a one-second rhythm, to the rhythm the
 * intervals in cfg actually give: the slower of heartbeat_interval_ms and
 * gossip_interval_ms. Call it once, after setting the intervals; the
 * runtime and the simulator both do. */
void hs__core_config_scale_timing(hs_core_config *cfg);

/* HS_OK or HS_EINVAL for a config the core would not run with. */
hs_err hs__core_config_check(const hs_core_config *cfg);

/* Creates a core at time now_ms. The config is copied. */
hs_err hs__core_new(const hs_core_config *cfg, uint64_t now_ms, hs_core **out);
void hs__core_free(hs_core *core);

/* Adds a seed address to gossip with while the view is small and, now and
 * then, to merge split clusters. Duplicates are ignored. HS_EFULL past 64. */
hs_err hs__core_add_seed(hs_core *core, const char *addr);
void hs__core_clear_seeds(hs_core *core);

/* Writes or deletes one of this member's keys; takes the next version.
 * HS_ERESERVED for "hs." keys, HS_EINVAL for bad names/sizes, HS_EFULL past
 * max_keys, HS_ESTATE after leave. Deleting an absent key is HS_ENOTFOUND. */
hs_err hs__core_set(hs_core *core, const char *key, const void *value,
                    size_t len, uint64_t now_ms);
hs_err hs__core_del(hs_core *core, const char *key, uint64_t now_ms);

/* Starts a graceful leave: marks this member left, queues LEAVE datagrams to
 * up to leave_fanout peers and keeps gossiping the left state for as long
 * as the caller keeps ticking. HS_ESTATE if already left. */
hs_err hs__core_leave(hs_core *core, uint64_t now_ms);

/* Advances time: heartbeats, gossip rounds, detector checks, reaping and
 * tombstone collection that are due. Time never goes backwards: an earlier
 * now_ms is treated as the last one seen. */
void hs__core_tick(hs_core *core, uint64_t now_ms);

/* Hands the core one datagram. Returns HS_OK, or why it was dropped (the
 * same reason is counted in the stats): a decode error from wire.h,
 * HS_ESELF for a message claiming to be from us, HS_ESTALE for an old
 * incarnation. Never fails on memory in a way that corrupts state. */
hs_err hs__core_receive(hs_core *core, uint64_t now_ms, const char *from,
                        const uint8_t *buf, size_t len);

/* An outgoing datagram. The pointers stay valid until the next call to
 * hs__core_next_datagram() or any other call on the core. */
typedef struct hs_datagram {
    const char *to;
    const uint8_t *buf;
    size_t len;
    hs_wire_type type;
} hs_datagram;

bool hs__core_next_datagram(hs_core *core, hs_datagram *out);

/* A user event's content (HS_EVENT_USER), owned by the core: valid until
 * the next hs__core_next_event() or hs__core_free(). */
typedef struct hs_core_user {
    uint64_t ltime; /* the origin's Lamport time */
    uint64_t seq;   /* the origin's announcement number (per generation) */
    size_t len;     /* payload bytes */
    bool local;     /* sent by this node (hs__core_user_event) */
    char name[HS_WIRE_MAX_NAME + 1];
    uint8_t payload[];
} hs_core_user;

/* An event. Strings are copies owned by the event. */
typedef struct hs_core_event {
    hs_event_type type;
    hs_member_state state; /* the member's state after the event */
    uint64_t generation;
    uint64_t at_ms;
    char name[HS_WIRE_MAX_NAME + 1];
    char addr[HS_WIRE_MAX_ADDR + 1];
    char key[HS_WIRE_MAX_KEY + 1]; /* UPDATE only; "" otherwise */
    bool deleted;                  /* UPDATE: the key was deleted */
    hs_core_user *user;            /* USER, QUERY (name: the origin) */
    uint64_t query_id;             /* QUERY: the handle to respond with */
    uint32_t query_timeout_ms;     /* QUERY */
} hs_core_event;

bool hs__core_next_event(hs_core *core, hs_core_event *out);

/* The time the core next needs a tick. Always > the last now given, and at
 * most one gossip interval away. */
uint64_t hs__core_next_deadline(const hs_core *core);

/* ---- Announcements (announce.c) ---------------------------------------- */

/* Announcement slots per member, and how long the owner keeps one
 * (docs/protocol.md, "Announcements"). */
#define HS_AN_SLOTS 32
#define HS_AN_TTL_MS 60000u
/* Force-leaves of members not known yet that a node keeps in mind. */
#define HS_AN_PENDING 16

/* Spreads a user event to every member once, and reports it here at once
 * (HS_EVENT_USER, user->local set). name: 1..128 bytes of 0x21..0x7e;
 * payload: up to HS_WIRE_MAX_PAYLOAD bytes. HS_EINVAL, HS_ETOOBIG (also when
 * it cannot fit max_datagram), HS_ERATE (more than 4 a second on average,
 * bursts of 16; shared with force-leaves), HS_ESTATE after leave,
 * HS_ENOMEM. */
hs_err hs__core_user_event(hs_core *core, const char *name, const void *payload,
                           size_t len, uint64_t now_ms);
/* Marks member `name` left cluster-wide (event LEAVE here and everywhere),
 * unless it is heard from again. HS_ENOTFOUND (unknown or reaped),
 * HS_EINVAL (bad name, or this node's own), HS_ESTATE for an alive or
 * suspect member without `force` (and after leave), HS_ERATE, HS_ETOOBIG
 * (max_datagram too small), HS_ENOMEM. A member already left: HS_OK and
 * nothing announced. */
hs_err hs__core_force_leave(hs_core *core, const char *name, bool force,
                            uint64_t now_ms);

/* ---- Queries with responses (query.c) ----------------------------------- */

/* Sends a query (an announcement, under the same rate limit) and reports
 * it here as HS_EVENT_QUERY if this node passes its filters. `cb` and
 * `arg` are only kept and handed back with each reply (the core calls
 * nothing). Errors as hs_node_query(). */
hs_err hs__core_query(hs_core *core, const char *name, const void *payload,
                      size_t len, const hs_query_opts *opts, hs_query_cb cb,
                      void *arg, uint64_t now_ms, uint64_t *id_out);
/* Answers query handle `handle` (hs_core_event.query_id) once. */
hs_err hs__core_respond(hs_core *core, uint64_t handle, const void *payload,
                        size_t len, uint64_t now_ms);

/* An ack, a response or the end of one of this node's queries. */
typedef struct hs_core_reply {
    hs_query_reply_kind kind;
    uint64_t id;
    hs_query_cb cb;
    void *arg;
    uint32_t acks, responses; /* DONE */
    uint32_t timeout_ms;
    char from[HS_WIRE_MAX_NAME + 1];
    size_t len;
    uint8_t payload[HS_WIRE_MAX_PAYLOAD + 1];
} hs_core_reply;

/* Takes the oldest reply into *out. */
bool hs__core_next_reply(hs_core *core, hs_core_reply *out);

/* ---- Member queries ----------------------------------------------------- */

/* A read-only view of a member, valid until the next non-const call. */
typedef struct hs_member_info {
    const char *name;
    const char *addr;
    uint64_t generation;
    hs_member_state state;
    uint64_t heartbeat;
    uint64_t max_version;
    uint64_t state_since_ms;
    double phi;
    bool is_self;
    uint32_t n_keys;    /* live user keys (tombstones excluded) */
    const hs_mrec *rec; /* the record, for hs__core_key_next */
} hs_member_info;

/* Number of members in the view (self included, reaped excluded). */
size_t hs__core_member_count(const hs_core *core);

/* The i-th member in name order, 0 <= i < member_count. HS_ENOTFOUND past
 * the end. phi is evaluated at now_ms. */
hs_err hs__core_member_at(const hs_core *core, size_t i, uint64_t now_ms,
                          hs_member_info *out);
hs_err hs__core_member_get(const hs_core *core, const char *name,
                           uint64_t now_ms, hs_member_info *out);

/* The k-th live user key of a member (in version order). A lookup by name
 * and a scan from the first key: O(k) a call, so a loop over every key
 * uses hs__core_key_next instead. */
hs_err hs__core_member_key(const hs_core *core, const char *name, uint32_t k,
                           const char **key, const uint8_t **value,
                           size_t *len);

/* The live user keys of the member `info` describes, in version order, one
 * a call: start with *pos = 0; each call fills the next key and advances
 * *pos; false after the last. O(1) a key. info must still be valid (no
 * non-const call on the core since it was filled). */
bool hs__core_key_next(const hs_member_info *info, uint32_t *pos,
                       const char **key, const uint8_t **value, size_t *len);

/* ---- Statistics --------------------------------------------------------- */

/* The core's counters are the public hs_stats (runtime fields stay 0). */
#define HS_WIRE_TYPE_SLOTS HS_MSG_TYPES
#define HS_REASON_SLOTS HS_REASONS
typedef hs_stats hs_core_stats;

const hs_core_stats *hs__core_stats_get(const hs_core *core);

/* ---- Inspection (inspect.c) --------------------------------------------- */

/* What the simulator's meters and the core's property tests read of a
 * core besides the queries above: the counters a runtime never needs,
 * read through functions so that nothing outside the core depends on how
 * its records are laid out. None of them evaluates a detector, so they
 * are cheap enough to call for every member after every datagram. */

/* One member's versions as this core holds them (member.h explains the
 * three): every write up to max_version, its newest write wr_version, its
 * newest heartbeat hb_version; tombstones up to gc_version collected;
 * seen_version, the highest version counted as an arrival for the
 * detector. Pointers valid until the next non-const call. */
typedef struct hs_member_versions {
    const char *name;
    uint64_t generation;
    hs_member_state state;
    bool is_self;
    uint64_t max_version, wr_version, hb_version;
    uint64_t gc_version;
    uint64_t seen_version;
} hs_member_versions;

/* Member `name`, or the i-th in name order; HS_ENOTFOUND when absent or
 * reaped (as hs__core_member_get). */
hs_err hs__core_member_versions(const hs_core *core, const char *name,
                                hs_member_versions *out);
hs_err hs__core_member_versions_at(const hs_core *core, size_t i,
                                   hs_member_versions *out);

/* One entry of a member's key/value map, tombstones included. */
typedef struct hs_core_entry {
    const char *key;
    const uint8_t *value; /* NULL when len == 0 */
    size_t len;
    uint64_t version;
    bool tombstone;
} hs_core_entry;

/* The k-th entry of member `name` in version order, tombstones included
 * (hs__core_member_key skips them), or the entry for `key`. HS_ENOTFOUND
 * past the end, for an absent key, or an absent or reaped member. */
hs_err hs__core_member_entry(const hs_core *core, const char *name, uint32_t k,
                             hs_core_entry *out);
hs_err hs__core_member_entry_find(const hs_core *core, const char *name,
                                  const char *key, hs_core_entry *out);

/* Gossip rounds this core has run. */
uint64_t hs__core_round(const hs_core *core);
/* This node's current generation (a refutation or a yield changes it). */
uint64_t hs__core_generation(const hs_core *core);
/* Whether this node went silent because a live member holds its name
 * (identity.c). */
bool hs__core_yielded(const hs_core *core);

#endif /* HS_CORE_H */
