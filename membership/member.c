/*
 * member.c — member records, their key/value maps, and the member table.
 *
 * See member.h for the layout and why keys are a version-sorted array.
 */
#include <stdlib.h>
#include <string.h>

#include "membership/member.h"

/* FNV-1a: names are short and this is not exposed to hash flooding in a
 * way that matters (the member count is capped, chains stay short). */
static uint64_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

hs_err hs_members_init(hs_members *t, size_t graveyard)
{
    memset(t, 0, sizeof *t);
    t->n_buckets = 64;
    t->buckets = calloc(t->n_buckets, sizeof *t->buckets);
    t->grave_cap = graveyard ? graveyard : 1;
    t->grave = calloc(t->grave_cap, sizeof *t->grave);
    if (!t->buckets || !t->grave) {
        free(t->buckets);
        free(t->grave);
        memset(t, 0, sizeof *t);
        return HS_ENOMEM;
    }
    return HS_OK;
}

static void member_free(hs_mrec *m)
{
    hs_kv_clear(m);
    free(m->kv);
    hs_phi_free(&m->phi);
    free(m->name);
    free(m->addr);
    free(m);
}

void hs_members_free(hs_members *t)
{
    if (!t->buckets)
        return;
    for (size_t b = 0; b < t->n_buckets; b++) {
        hs_mrec *m = t->buckets[b];
        while (m) {
            hs_mrec *next = m->hnext;
            member_free(m);
            m = next;
        }
    }
    free(t->buckets);
    free(t->sorted);
    free(t->grave);
    memset(t, 0, sizeof *t);
}

hs_mrec *hs_members_find(const hs_members *t, const char *name)
{
    hs_mrec *m = t->buckets[name_hash(name) & (t->n_buckets - 1)];
    while (m && strcmp(m->name, name) != 0)
        m = m->hnext;
    return m;
}

static void hash_insert(hs_mrec **buckets, size_t n, hs_mrec *m)
{
    size_t b = name_hash(m->name) & (n - 1);
    m->hnext = buckets[b];
    buckets[b] = m;
}

static void hash_remove(hs_members *t, hs_mrec *m)
{
    hs_mrec **p = &t->buckets[name_hash(m->name) & (t->n_buckets - 1)];
    while (*p && *p != m)
        p = &(*p)->hnext;
    if (*p) {
        *p = m->hnext;
        t->n_hashed--;
    }
}

/* Grows the hash at load factor 1: chains average under one member. */
static hs_err hash_grow(hs_members *t)
{
    if (t->n_hashed < t->n_buckets)
        return HS_OK;
    size_t n = t->n_buckets * 2;
    hs_mrec **nb = calloc(n, sizeof *nb);
    if (!nb)
        return HS_ENOMEM;
    for (size_t b = 0; b < t->n_buckets; b++) {
        hs_mrec *m = t->buckets[b];
        while (m) {
            hs_mrec *next = m->hnext;
            hash_insert(nb, n, m);
            m = next;
        }
    }
    free(t->buckets);
    t->buckets = nb;
    t->n_buckets = n;
    return HS_OK;
}

size_t hs_members_lower_bound(const hs_members *t, const char *name)
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
        size_t cap = t->cap_sorted ? t->cap_sorted * 2 : 16;
        hs_mrec **s = realloc(t->sorted, cap * sizeof *s);
        if (!s)
            return HS_ENOMEM;
        t->sorted = s;
        t->cap_sorted = cap;
    }
    size_t i = hs_members_lower_bound(t, m->name);
    memmove(&t->sorted[i + 1], &t->sorted[i],
            (t->n_sorted - i) * sizeof *t->sorted);
    t->sorted[i] = m;
    t->n_sorted++;
    return HS_OK;
}

static void sorted_remove(hs_members *t, hs_mrec *m)
{
    size_t i = hs_members_lower_bound(t, m->name);
    if (i < t->n_sorted && t->sorted[i] == m) {
        memmove(&t->sorted[i], &t->sorted[i + 1],
                (t->n_sorted - i - 1) * sizeof *t->sorted);
        t->n_sorted--;
    }
}

hs_err hs_members_add(hs_members *t, const char *name, const char *addr,
                      uint64_t generation, hs_mrec **out)
{
    *out = NULL;
    if (hash_grow(t) != HS_OK)
        return HS_ENOMEM;
    hs_mrec *m = calloc(1, sizeof *m);
    if (!m)
        return HS_ENOMEM;
    m->name = dup_str(name);
    m->addr = dup_str(addr ? addr : "");
    if (!m->name || !m->addr)
        goto fail;
    m->generation = generation;
    m->state = HS_STATE_ALIVE;
    hs_phi_init(&m->phi);
    if (sorted_insert(t, m) != HS_OK)
        goto fail;
    hash_insert(t->buckets, t->n_buckets, m);
    t->n_hashed++;
    if (strlen(m->name) > t->max_name_len)
        t->max_name_len = strlen(m->name);
    *out = m;
    return HS_OK;
fail:
    free(m->name);
    free(m->addr);
    free(m);
    return HS_ENOMEM;
}

void hs_members_bury(hs_members *t, hs_mrec *m)
{
    if (m->state == HS_STATE_REAPED)
        return;
    sorted_remove(t, m);
    hs_kv_clear(m);
    free(m->kv);
    m->kv = NULL;
    m->cap_kv = 0;
    hs_phi_free(&m->phi);
    m->state = HS_STATE_REAPED;
    if (t->n_grave == t->grave_cap) {
        hs_mrec *old = t->grave[t->grave_head];
        t->grave_head = (t->grave_head + 1) % t->grave_cap;
        t->n_grave--;
        hash_remove(t, old);
        member_free(old);
    }
    t->grave[(t->grave_head + t->n_grave) % t->grave_cap] = m;
    t->n_grave++;
}

hs_err hs_members_revive(hs_members *t, hs_mrec *m)
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
    m->hb_value = m->hb_version = 0;
    hs_phi_init(&m->phi);
    return HS_OK;
}

int hs_kv_find(const hs_mrec *m, const char *key)
{
    for (uint32_t i = 0; i < m->n_kv; i++)
        if (strcmp(m->kv[i].key, key) == 0)
            return (int)i;
    return -1;
}

uint32_t hs_kv_after(const hs_mrec *m, uint64_t v)
{
    uint32_t lo = 0, hi = m->n_kv;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (m->kv[mid].version <= v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void kv_remove_at(hs_mrec *m, uint32_t i)
{
    if (m->kv[i].tombstone)
        m->n_tombs--;
    free(m->kv[i].key);
    free(m->kv[i].value);
    memmove(&m->kv[i], &m->kv[i + 1], (m->n_kv - i - 1) * sizeof *m->kv);
    m->n_kv--;
}

hs_err hs_kv_put(hs_mrec *m, const char *key, const uint8_t *value,
                 size_t len, bool tombstone, uint64_t version,
                 uint64_t now_ms)
{
    if (len > UINT32_MAX)
        return HS_ETOOBIG;
    hs_kv kv = {0};
    kv.key = dup_str(key);
    if (!kv.key)
        return HS_ENOMEM;
    if (len && !tombstone) {
        kv.value = malloc(len);
        if (!kv.value) {
            free(kv.key);
            return HS_ENOMEM;
        }
        memcpy(kv.value, value, len);
        kv.len = (uint32_t)len;
    }
    kv.tombstone = tombstone;
    kv.version = version;
    kv.tomb_ms = now_ms;

    int old = hs_kv_find(m, key);
    if (old < 0 && m->n_kv == m->cap_kv) {
        uint32_t cap = m->cap_kv ? m->cap_kv * 2 : 4;
        hs_kv *a = realloc(m->kv, cap * sizeof *a);
        if (!a) {
            free(kv.key);
            free(kv.value);
            return HS_ENOMEM;
        }
        m->kv = a;
        m->cap_kv = cap;
    }
    if (old >= 0)
        kv_remove_at(m, (uint32_t)old);
    m->kv[m->n_kv++] = kv;
    if (tombstone)
        m->n_tombs++;
    return HS_OK;
}

void hs_kv_clear(hs_mrec *m)
{
    for (uint32_t i = 0; i < m->n_kv; i++) {
        free(m->kv[i].key);
        free(m->kv[i].value);
    }
    m->n_kv = 0;
    m->n_tombs = 0;
}

uint32_t hs_kv_collect(hs_mrec *m, uint64_t upto, uint64_t before_ms)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < m->n_kv && m->n_tombs > 0;) {
        hs_kv *kv = &m->kv[i];
        if (kv->tombstone &&
            (kv->version <= upto || (before_ms && kv->tomb_ms <= before_ms))) {
            if (kv->version > m->gc_version)
                m->gc_version = kv->version;
            kv_remove_at(m, i);
            n++;
        } else {
            i++;
        }
    }
    return n;
}

hs_err hs_member_set_addr(hs_mrec *m, const char *addr)
{
    if (strcmp(m->addr, addr) == 0)
        return HS_OK;
    char *a = dup_str(addr);
    if (!a)
        return HS_ENOMEM;
    free(m->addr);
    m->addr = a;
    return HS_OK;
}
