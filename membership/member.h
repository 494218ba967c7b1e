/*
 * membership/member.h — one member's record and the table of all of them.
 * Private to membership/.
 *
 * A member's user keys live in an array kept in ascending version order.
 * Every write takes the member's next version, so a write is "remove the
 * old entry for the key, append the new one": the array stays sorted with
 * no sorting, and "entries newer than v" is a binary search plus a tail.
 * Members carry a handful of keys (serf tags, a role, an address), so the
 * linear key lookup costs less than a hash would.
 *
 * The heartbeat is not in that array: it is a bare version (hb_version),
 * the member's version counter at its newest beat. It changes every
 * interval and every member has one; on the wire it travels by position
 * (view.c), never as a key/value entry.
 *
 * Three versions, then, all of one counter that only the owner advances:
 * max_version, up to which this node holds every write (a key set or
 * delete, or the leave); wr_version, the newest write it holds (what a
 * digest compares: heartbeats are not writes); hb_version, the newest
 * heartbeat it knows, which may run ahead of max_version (a heartbeat seen
 * by position says nothing about the writes before it).
 *
 * Size. Every node holds a record for every member: N^2 records in a
 * cluster, and 10^8 in a 10,000-node simulation. So a record is one
 * allocation (name and address inline after the fixed fields), the name
 * index is an open-addressing table of pointers (no chain link per
 * record), small fields are packed together, and the detector's history
 * (64 bytes plus its window) is allocated only when the member's first
 * heartbeat arrives: a record without heartbeats is one 176-byte chunk
 * for a 10-byte name and a 16-byte address.
 */
#ifndef HS_MEMBER_H
#define HS_MEMBER_H

#include "membership/core.h"

typedef struct hs_kv {
    char *key;
    uint8_t *value; /* NULL when len == 0 */
    uint32_t len;
    bool tombstone;
    uint64_t version;
    uint64_t tomb_ms; /* local time this node learned the tombstone */
} hs_kv;

struct hs_mrec {
    char *addr; /* in name[] while it fits there, else its own allocation */
    uint64_t generation;
    uint64_t max_version;  /* holds every version <= this (scuttlebutt) */
    uint64_t gc_version;   /* tombstones <= this were collected */
    uint64_t left_version; /* != 0: left at this version */

    uint64_t wr_version; /* newest write held; 0: none */
    uint64_t hb_version; /* newest heartbeat known; 0: none */

    uint64_t state_since; /* local ms of the last state change */
    /* Highest version of this incarnation counted as an arrival for the
     * detector (hs__core_evidence). */
    uint64_t seen_version;
    uint64_t rumor_base;  /* versions above this are pushed unasked ... */
    uint64_t rumor_until; /* ... until this gossip round */
    /* Announcements (announce.c): slot writes at or below an_floor were
     * there when this node first saw this incarnation (an_seq below). */
    uint64_t an_floor;

    hs_kv *kv;
    /* The detector: its history once the first heartbeat arrived, before
     * that at most the time a detector was started without one. Only the
     * hs__mrec_phi* functions below touch it. */
    union {
        hs_phi *phi; /* det_kind == HS_DET_PHI */
        double mark; /* det_kind == HS_DET_MARK */
    } det;

    uint32_t n_kv; /* capacity: see kv_cap in member_kv.c */
    uint32_t n_tombs;
    uint32_t rumor_start; /* round the rumor_base was set (mod 2^32) */
    uint32_t key_start;   /* round the newest user key arrived (mod 2^32) */
    uint32_t hot_slot;    /* 1 + index in hs_members.hot; 0: not listed */
    /* The highest announcement number seen of this incarnation (0: none
     * yet). 32 bits: at 4 a second, 34 years of announcements. */
    uint32_t an_seq;

    uint8_t state; /* hs_member_state */
    bool is_self;
    uint8_t det_kind;  /* HS_DET_* */
    uint8_t addr_room; /* address bytes name[] has room for after the name */
    char name[];       /* name NUL address NUL; never changes */
};

enum { HS_DET_NONE = 0, HS_DET_MARK = 1, HS_DET_PHI = 2 };

/* Name index (open addressing), name order (sorted array of the members
 * that are not reaped), the graveyard (reaped members, FIFO, bounded) and
 * the hot list (members with a rumor under way, see hs__core_mark_hot). */
typedef struct hs_members {
    uint64_t key[2]; /* the name hash's key (member.c says why) */
    hs_mrec **slots; /* linear probing, NULL = empty */
    size_t n_slots;  /* power of two, load <= 3/4 */
    size_t n_hashed; /* everything in the index, graveyard included */

    hs_mrec **sorted;
    size_t n_sorted, cap_sorted;
    size_t max_name_len; /* longest name ever added (sizes digest ranges) */

    /* Ring of reaped members, oldest at grave_head. It grows on demand up
     * to grave_max: most nodes never bury anyone, and 4096 slots up front
     * were 32 KB per node. */
    hs_mrec **grave;
    size_t grave_cap, grave_max, grave_head, n_grave;

    /* Unordered, except that hot[0, n_hot_keys) are members whose rumor
     * carries a user key (found without looking at the rest). Entries may
     * have cooled down since; the core drops them as it meets them. */
    hs_mrec **hot;
    size_t n_hot, n_hot_keys, cap_hot;

    /* Set when the sorted array changes (a member added, buried or
     * revived): positions and the view hashes must be recomputed
     * (view.c). The core sets it too when a generation or a newest write
     * changes. */
    bool changed;
} hs_members;

/* `key` keys the name index (SipHash-1-3, see member.c): names come from
 * peers, so it must be secret to them; the core derives it from its seed. */
hs_err hs__members_init(hs_members *t, size_t graveyard, const uint64_t key[2]);
void hs__members_free(hs_members *t);

hs_mrec *hs__members_find(const hs_members *t, const char *name);
/* Slots a lookup of name inspects, the one that ends it included (1: the
 * name, or an empty slot, sits at its home). What a flood of colliding
 * names would drive up; tests/unit/test_member.c counts it. */
size_t hs__members_probes(const hs_members *t, const char *name);

/* Index of the first sorted member whose name is >= name. */
size_t hs__members_lower_bound(const hs_members *t, const char *name);

/* Creates a member and indexes it (state ALIVE, no versions). */
hs_err hs__members_add(hs_members *t, const char *name, const char *addr,
                       uint64_t generation, hs_mrec **out);

/* Moves m to the graveyard: drops its keys and detector history, keeps name,
 * generation and max_version so stale gossip about it can be refused. When
 * the graveyard is full the oldest grave is forgotten entirely. HS_ENOMEM
 * when the graveyard could not grow: m is buried all the same, an older
 * grave forgotten early (or, with no ring at all, m stays indexed). */
hs_err hs__members_bury(hs_members *t, hs_mrec *m);

/* Brings a reaped member back (a newer incarnation appeared). */
hs_err hs__members_revive(hs_members *t, hs_mrec *m);

/* Key/value map of one member (member_kv.c). */
int hs__kv_find(const hs_mrec *m, const char *key);
/* First index whose version is > v. */
uint32_t hs__kv_after(const hs_mrec *m, uint64_t v);
/* Writes key at version (> every version in the map). Takes copies. */
hs_err hs__kv_put(hs_mrec *m, const char *key, const uint8_t *value, size_t len,
                  bool tombstone, uint64_t version, uint64_t now_ms);
/* Drops every entry, keeps the member. */
void hs__kv_clear(hs_mrec *m);
/* Drops tombstones with version <= upto, or learned before `before_ms` when
 * before_ms != 0; raises gc_version accordingly. Returns how many. */
uint32_t hs__kv_collect(hs_mrec *m, uint64_t upto, uint64_t before_ms);

hs_err hs__member_set_addr(hs_mrec *m, const char *addr);

/* The hot list: hs__members_hot_add() lists m (once), in the key part when
 * `keys`; the core moves members whose rumor no longer carries a key out
 * of it (hs__members_hot_demote) and drops those whose rumor is over
 * (hs__members_hot_del). Burying a member delists it, so the list never
 * points at a freed record. */
hs_err hs__members_hot_add(hs_members *t, hs_mrec *m, bool keys);
void hs__members_hot_demote(hs_members *t, hs_mrec *m);
/* Swaps two entries of the same part (for shuffling in place). */
void hs__members_hot_swap(hs_members *t, size_t i, size_t j);
void hs__members_hot_del(hs_members *t, hs_mrec *m);

/* The detector of one member. The history is allocated on the first
 * arrival; before it a started detector is only a start time, and every
 * reader sees an hs_phi with that time as the last arrival and no
 * samples, exactly what an allocated one would hold. */

/* A heartbeat arrived (hs__phi_heartbeat). HS_ENOMEM if the history could
 * not be allocated: the arrival then still counts, as a start time. */
hs_err hs__mrec_phi_heartbeat(hs_mrec *m, const hs_phi_config *cfg,
                              double now_ms);
/* Sets the last arrival without a sample (hs__phi_mark). */
void hs__mrec_phi_mark(hs_mrec *m, double now_ms);
/* Forgets everything (hs__phi_reset), allocation included. */
void hs__mrec_phi_reset(hs_mrec *m);
/* The detector to read: m's history, or *tmp filled from the start time. */
const hs_phi *hs__mrec_phi(const hs_mrec *m, hs_phi *tmp);

/* A malloc'd copy of s, or NULL (member.c, member_kv.c). */
char *hs__member_dup_str(const char *s);

#endif /* HS_MEMBER_H */
