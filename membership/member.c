/*
 * member.c — member records and the member table (the name index, the
 * name-sorted array, the graveyard, the hot list); a record's key/value
 * map is in member_kv.c.
 *
 * See member.h for the layout and why keys are a version-sorted array.
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "membership/member.h"

/*
 * The name index is keyed: names come from peers, and with an unkeyed hash
 * a sender can pick names that share a home slot, so that every lookup of
 * them (and of whatever hashes near them) walks one long run of the
 * open-addressing table: O(members) per delta, digest line and beat, under
 * the node's lock. FNV-1a, which this index used, does not become safe by
 * starting from a secret: its multiply only carries upward, so the low
 * bits that choose a slot depend on the low bits of the start and of the
 * name alone, and a flood built against them needs no secret at all.
 * SipHash (Aumasson and Bernstein, 2012) is the keyed hash made for this
 * job; the 1-3 variant (one round per word, three at the end), as Rust's
 * and Python's tables use, costs little more than FNV on names of at most
 * 64 bytes. The key comes from the core's seed (hs__members_init), so a
 * simulation stays reproducible and every node of a cluster has its own.
 */
static uint64_t rotl64(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

#define SIPROUND                                                               \
    do {                                                                       \
        v0 += v1;                                                              \
        v1 = rotl64(v1, 13);                                                   \
        v1 ^= v0;                                                              \
        v0 = rotl64(v0, 32);                                                   \
        v2 += v3;                                                              \
        v3 = rotl64(v3, 16);                                                   \
        v3 ^= v2;                                                              \
        v0 += v3;                                                              \
        v3 = rotl64(v3, 21);                                                   \
        v3 ^= v0;                                                              \
        v2 += v1;                                                              \
        v1 = rotl64(v1, 17);                                                   \
        v1 ^= v2;                                                              \
        v2 = rotl64(v2, 32);                                                   \
    } while (0)

static uint64_t name_hash(const hs_members *t, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s);
    uint64_t v0 = 0x736f6d6570736575ULL ^ t->key[0];
    uint64_t v1 = 0x646f72616e646f6dULL ^ t->key[1];
    uint64_t v2 = 0x6c7967656e657261ULL ^ t->key[0];
    uint64_t v3 = 0x7465646279746573ULL ^ t->key[1];
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t m = 0;
        for (int k = 7; k >= 0; k--)
            m = m << 8 | p[i + (size_t)k];
        v3 ^= m;
        SIPROUND;
        v0 ^= m;
    }
    uint64_t b = (uint64_t)len << 56;
    for (size_t k = 0; i + k < len; k++)
        b |= (uint64_t)p[i + k] << (8 * k);
    v3 ^= b;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

char *hs__member_dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* The table starts at 64 slots: a small cluster never grows it. */
#define HS_MEMBERS_MIN_SLOTS 64

hs_err hs__members_init(hs_members *t, size_t graveyard, const uint64_t key[2])
{
    memset(t, 0, sizeof *t);
    t->key[0] = key[0];
    t->key[1] = key[1];
    t->n_slots = HS_MEMBERS_MIN_SLOTS;
    t->slots = calloc(t->n_slots, sizeof *t->slots);
    t->grave_max = graveyard ? graveyard : 1;
    if (!t->slots) {
        memset(t, 0, sizeof *t);
        return HS_ENOMEM;
    }
    return HS_OK;
}

/* Where the address goes when it fits in the record. */
static char *addr_slot(hs_mrec *m)
{
    return m->name + strlen(m->name) + 1;
}

static bool addr_inline(const hs_mrec *m)
{
    return m->addr == m->name + strlen(m->name) + 1;
}

static void member_free(hs_mrec *m)
{
    hs__kv_clear(m);
    free(m->kv);
    hs__mrec_phi_reset(m);
    if (!addr_inline(m))
        free(m->addr);
    free(m);
}

void hs__members_free(hs_members *t)
{
    if (!t->slots)
        return;
    for (size_t i = 0; i < t->n_slots; i++)
        if (t->slots[i])
            member_free(t->slots[i]);
    free(t->slots);
    free(t->sorted);
    free(t->grave);
    free(t->hot);
    memset(t, 0, sizeof *t);
}

static size_t home_slot(const hs_members *t, const char *name)
{
    return (size_t)name_hash(t, name) & (t->n_slots - 1);
}

size_t hs__members_probes(const hs_members *t, const char *name)
{
    size_t mask = t->n_slots - 1, n = 1;
    for (size_t i = home_slot(t, name);; i = (i + 1) & mask, n++) {
        hs_mrec *m = t->slots[i];
        if (!m || strcmp(m->name, name) == 0)
            return n;
    }
}

hs_mrec *hs__members_find(const hs_members *t, const char *name)
{
    size_t mask = t->n_slots - 1;
    for (size_t i = home_slot(t, name);; i = (i + 1) & mask) {
        hs_mrec *m = t->slots[i];
        if (!m || strcmp(m->name, name) == 0)
            return m;
    }
}

static void slot_insert(const hs_members *t, hs_mrec **slots, size_t n,
                        hs_mrec *m)
{
    size_t i = (size_t)name_hash(t, m->name) & (n - 1);
    while (slots[i])
        i = (i + 1) & (n - 1);
    slots[i] = m;
}

/* Linear probing deletes by shifting back the entries of the run that
 * follows, so lookups never need tombstones. */
static void hash_remove(hs_members *t, hs_mrec *m)
{
    size_t mask = t->n_slots - 1, i = home_slot(t, m->name);
    while (t->slots[i] && t->slots[i] != m)
        i = (i + 1) & mask;
    if (!t->slots[i])
        return;
    t->slots[i] = NULL;
    t->n_hashed--;
    for (size_t j = (i + 1) & mask; t->slots[j]; j = (j + 1) & mask) {
        size_t h = home_slot(t, t->slots[j]->name);
        /* Move j back to the hole unless its home lies in (i, j]. */
        bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
        if (!stays) {
            t->slots[i] = t->slots[j];
            t->slots[j] = NULL;
            i = j;
        }
    }
}

/* Doubles the table before it passes 3/4 full. */
static hs_err hash_grow(hs_members *t)
{
    if (4 * (t->n_hashed + 1) <= 3 * t->n_slots)
        return HS_OK;
    size_t n = t->n_slots * 2;
    hs_mrec **ns = calloc(n, sizeof *ns);
    if (!ns)
        return HS_ENOMEM;
    for (size_t i = 0; i < t->n_slots; i++)
        if (t->slots[i])
            slot_insert(t, ns, n, t->slots[i]);
    free(t->slots);
    t->slots = ns;
    t->n_slots = n;
    return HS_OK;
}

size_t hs__members_lower_bound(const hs_members *t, const char *name)
{
    size_t lo = 0, hi = t->n_sorted;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(t->sorted[mid]->name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static hs_err sorted_insert(hs_members *t, hs_mrec *m)
{
    if (t->n_sorted == t->cap_sorted) {
        /* Grows by half: the array is one pointer per member per node,
         * and doubling would leave a quarter of it unused on average. */
        size_t cap = t->cap_sorted ? t->cap_sorted + t->cap_sorted / 2 : 16;
        hs_mrec **s = realloc(t->sorted, cap * sizeof *s);
        if (!s)
            return HS_ENOMEM;
        t->sorted = s;
        t->cap_sorted = cap;
    }
    size_t i = hs__members_lower_bound(t, m->name);
    memmove(&t->sorted[i + 1], &t->sorted[i],
            (t->n_sorted - i) * sizeof *t->sorted);
    t->sorted[i] = m;
    t->n_sorted++;
    t->changed = true;
    return HS_OK;
}

static void sorted_remove(hs_members *t, hs_mrec *m)
{
    size_t i = hs__members_lower_bound(t, m->name);
    if (i < t->n_sorted && t->sorted[i] == m) {
        memmove(&t->sorted[i], &t->sorted[i + 1],
                (t->n_sorted - i - 1) * sizeof *t->sorted);
        t->n_sorted--;
        t->changed = true;
    }
}

/* Room for the address inline: exactly the first one (addresses rarely
 * change; a longer one later gets an allocation of its own). Capped by
 * what addr_room can hold. */
static size_t addr_room_for(size_t len)
{
    return len > UINT8_MAX ? UINT8_MAX : len;
}

hs_err hs__members_add(hs_members *t, const char *name, const char *addr,
                       uint64_t generation, hs_mrec **out)
{
    *out = NULL;
    if (!addr)
        addr = "";
    if (hash_grow(t) != HS_OK)
        return HS_ENOMEM;
    size_t nlen = strlen(name), alen = strlen(addr);
    size_t room = addr_room_for(alen);
    /* The fixed fields end before sizeof (padding): the strings start at
     * the flexible member, which decides whether a typical record is a
     * 160- or a 176-byte heap chunk. */
    size_t sz = offsetof(hs_mrec, name) + nlen + 1 + room + 1;
    hs_mrec *m = calloc(1, sz > sizeof *m ? sz : sizeof *m);
    if (!m)
        return HS_ENOMEM;
    memcpy(m->name, name, nlen + 1);
    m->addr = m->name + nlen + 1;
    m->addr_room = (uint8_t)room;
    if (alen <= room) {
        memcpy(m->addr, addr, alen + 1);
    } else {
        m->addr = hs__member_dup_str(addr);
        if (!m->addr) {
            free(m);
            return HS_ENOMEM;
        }
    }
    m->generation = generation;
    m->state = HS_STATE_ALIVE;
    if (sorted_insert(t, m) != HS_OK) {
        member_free(m);
        return HS_ENOMEM;
    }
    slot_insert(t, t->slots, t->n_slots, m);
    t->n_hashed++;
    if (nlen > t->max_name_len)
        t->max_name_len = nlen;
    *out = m;
    return HS_OK;
}

hs_err hs__members_bury(hs_members *t, hs_mrec *m)
{
    hs_err err = HS_OK;
    if (m->state == HS_STATE_REAPED)
        return HS_OK;
    sorted_remove(t, m);
    hs__members_hot_del(t, m);
    hs__kv_clear(m);
    free(m->kv);
    m->kv = NULL;
    hs__mrec_phi_reset(m);
    m->state = HS_STATE_REAPED;
    if (t->n_grave == t->grave_cap && t->grave_cap < t->grave_max) {
        /* Grow (unrolling the ring); if that fails, forget the oldest. */
        size_t cap = t->grave_cap ? t->grave_cap * 2 : 16;
        if (cap > t->grave_max)
            cap = t->grave_max;
        hs_mrec **g = malloc(cap * sizeof *g);
        if (g) {
            for (size_t k = 0; k < t->n_grave; k++)
                g[k] = t->grave[(t->grave_head + k) % t->grave_cap];
            free(t->grave);
            t->grave = g;
            t->grave_cap = cap;
            t->grave_head = 0;
        } else {
            err = HS_ENOMEM;
        }
    }
    if (t->grave_cap == 0)
        return err; /* no ring at all (out of memory): stays indexed, reaped */
    if (t->n_grave == t->grave_cap) {
        hs_mrec *old = t->grave[t->grave_head];
        t->grave_head = (t->grave_head + 1) % t->grave_cap;
        t->n_grave--;
        hash_remove(t, old);
        member_free(old);
    }
    t->grave[(t->grave_head + t->n_grave) % t->grave_cap] = m;
    t->n_grave++;
    return err;
}

hs_err hs__members_revive(hs_members *t, hs_mrec *m)
{
    if (m->state != HS_STATE_REAPED)
        return HS_OK;
    if (sorted_insert(t, m) != HS_OK)
        return HS_ENOMEM;
    /* Take it out of the graveyard ring, keeping the others' order. */
    for (size_t k = 0; k < t->n_grave; k++) {
        size_t i = (t->grave_head + k) % t->grave_cap;
        if (t->grave[i] != m)
            continue;
        for (size_t j = k; j + 1 < t->n_grave; j++)
            t->grave[(t->grave_head + j) % t->grave_cap] =
                t->grave[(t->grave_head + j + 1) % t->grave_cap];
        t->n_grave--;
        break;
    }
    m->state = HS_STATE_ALIVE;
    m->max_version = m->gc_version = m->left_version = 0;
    m->wr_version = m->hb_version = 0;
    m->seen_version = 0;
    hs__mrec_phi_reset(m);
    return HS_OK;
}

void hs__members_hot_swap(hs_members *t, size_t i, size_t j)
{
    hs_mrec *a = t->hot[i], *b = t->hot[j];
    t->hot[i] = b;
    t->hot[j] = a;
    b->hot_slot = (uint32_t)i + 1;
    a->hot_slot = (uint32_t)j + 1;
}

hs_err hs__members_hot_add(hs_members *t, hs_mrec *m, bool keys)
{
    if (!m->hot_slot) {
        if (t->n_hot == t->cap_hot) {
            size_t cap = t->cap_hot ? t->cap_hot * 2 : 16;
            hs_mrec **h = realloc(t->hot, cap * sizeof *h);
            if (!h)
                return HS_ENOMEM;
            t->hot = h;
            t->cap_hot = cap;
        }
        t->hot[t->n_hot++] = m;
        m->hot_slot = (uint32_t)t->n_hot;
    }
    if (keys && m->hot_slot - 1 >= t->n_hot_keys)
        hs__members_hot_swap(t, m->hot_slot - 1, t->n_hot_keys++);
    return HS_OK;
}

void hs__members_hot_demote(hs_members *t, hs_mrec *m)
{
    if (m->hot_slot && m->hot_slot - 1 < t->n_hot_keys)
        hs__members_hot_swap(t, m->hot_slot - 1, --t->n_hot_keys);
}

void hs__members_hot_del(hs_members *t, hs_mrec *m)
{
    if (!m->hot_slot)
        return;
    hs__members_hot_demote(t, m);
    hs__members_hot_swap(t, m->hot_slot - 1, t->n_hot - 1);
    t->n_hot--;
    m->hot_slot = 0;
}

hs_err hs__mrec_phi_heartbeat(hs_mrec *m, const hs_phi_config *cfg,
                              double now_ms)
{
    if (m->det_kind != HS_DET_PHI) {
        hs_phi *d = malloc(sizeof *d);
        if (!d) {
            hs__mrec_phi_mark(m, now_ms);
            return HS_ENOMEM;
        }
        hs__phi_init(d);
        if (m->det_kind == HS_DET_MARK)
            hs__phi_mark(d, m->det.mark);
        m->det.phi = d;
        m->det_kind = HS_DET_PHI;
    }
    return hs__phi_heartbeat(m->det.phi, cfg, now_ms);
}

void hs__mrec_phi_mark(hs_mrec *m, double now_ms)
{
    if (m->det_kind == HS_DET_PHI) {
        hs__phi_mark(m->det.phi, now_ms);
    } else if (isfinite(now_ms)) {
        m->det.mark = now_ms;
        m->det_kind = HS_DET_MARK;
    }
}

void hs__mrec_phi_reset(hs_mrec *m)
{
    if (m->det_kind == HS_DET_PHI) {
        hs__phi_free(m->det.phi);
        free(m->det.phi);
    }
    m->det.phi = NULL;
    m->det_kind = HS_DET_NONE;
}

const hs_phi *hs__mrec_phi(const hs_mrec *m, hs_phi *tmp)
{
    if (m->det_kind == HS_DET_PHI)
        return m->det.phi;
    hs__phi_init(tmp);
    if (m->det_kind == HS_DET_MARK)
        hs__phi_mark(tmp, m->det.mark);
    return tmp;
}

hs_err hs__member_set_addr(hs_mrec *m, const char *addr)
{
    if (strcmp(m->addr, addr) == 0)
        return HS_OK;
    size_t alen = strlen(addr);
    char *slot = addr_slot(m);
    if (alen <= m->addr_room) {
        if (m->addr != slot)
            free(m->addr);
        memcpy(slot, addr, alen + 1);
        m->addr = slot;
        return HS_OK;
    }
    char *a = hs__member_dup_str(addr);
    if (!a)
        return HS_ENOMEM;
    if (m->addr != slot)
        free(m->addr);
    m->addr = a;
    return HS_OK;
}
