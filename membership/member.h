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
 * The heartbeat is kept out of that array (hb_value/hb_version): it changes
 * every interval and every member has one, so giving it fixed fields saves
 * an allocation per member and a memmove per beat. On the wire it is an
 * ordinary entry under HS_KEY_HEARTBEAT, merged into version order.
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
    hs_mrec *hnext; /* name-hash chain */
    char *name;
    char *addr;
    uint64_t generation;
    uint64_t max_version;  /* holds every version <= this (scuttlebutt) */
    uint64_t gc_version;   /* tombstones <= this were collected */
    uint64_t left_version; /* != 0: left at this version */

    uint64_t hb_value;
    uint64_t hb_version; /* 0: no heartbeat seen */

    hs_kv *kv;
    uint32_t n_kv, cap_kv;
    uint32_t n_tombs;

    hs_member_state state;
    uint64_t state_since; /* local ms of the last state change */
    uint64_t suspect_at;  /* ALIVE: local ms at which phi crosses */
    hs_phi phi;

    uint64_t rumor_base;  /* versions above this are pushed unasked ... */
    uint64_t rumor_until; /* ... until this gossip round */
    bool is_self;
};

/* Name index (chained hash), name order (sorted array of the members that
 * are not reaped) and the graveyard (reaped members, FIFO, bounded). */
typedef struct hs_members {
    hs_mrec **buckets;
    size_t n_buckets; /* power of two */
    size_t n_hashed;  /* everything in the hash, graveyard included */

    hs_mrec **sorted;
    size_t n_sorted, cap_sorted;
    size_t max_name_len; /* longest name ever added (sizes digest ranges) */

    hs_mrec **grave; /* ring of reaped members, oldest at grave_head */
    size_t grave_cap, grave_head, n_grave;
} hs_members;

hs_err hs_members_init(hs_members *t, size_t graveyard);
void hs_members_free(hs_members *t);

hs_mrec *hs_members_find(const hs_members *t, const char *name);

/* Index of the first sorted member whose name is >= name. */
size_t hs_members_lower_bound(const hs_members *t, const char *name);

/* Creates a member and indexes it (state ALIVE, no versions). */
hs_err hs_members_add(hs_members *t, const char *name, const char *addr,
                      uint64_t generation, hs_mrec **out);

/* Moves m to the graveyard: drops its keys and detector history, keeps name,
 * generation and max_version so stale gossip about it can be refused. When
 * the graveyard is full the oldest grave is forgotten entirely. */
void hs_members_bury(hs_members *t, hs_mrec *m);

/* Brings a reaped member back (a newer incarnation appeared). */
hs_err hs_members_revive(hs_members *t, hs_mrec *m);

/* Key/value map of one member. */
int hs_kv_find(const hs_mrec *m, const char *key);
/* First index whose version is > v. */
uint32_t hs_kv_after(const hs_mrec *m, uint64_t v);
/* Writes key at version (> every version in the map). Takes copies. */
hs_err hs_kv_put(hs_mrec *m, const char *key, const uint8_t *value,
                 size_t len, bool tombstone, uint64_t version,
                 uint64_t now_ms);
/* Drops every entry, keeps the member. */
void hs_kv_clear(hs_mrec *m);
/* Drops tombstones with version <= upto, or learned before `before_ms` when
 * before_ms != 0; raises gc_version accordingly. Returns how many. */
uint32_t hs_kv_collect(hs_mrec *m, uint64_t upto, uint64_t before_ms);

hs_err hs_member_set_addr(hs_mrec *m, const char *addr);

#endif /* HS_MEMBER_H */
