/*
 * member_kv.c — a member's key/value map: an array kept in ascending
 * version order, so a write is "remove the old entry, append the new one"
 * and "entries newer than v" is a binary search plus a tail (member.h says
 * why), its tombstones, and collecting the ones old enough to forget.
 */
#include <stdlib.h>
#include <string.h>

#include "membership/member.h"

int hs__kv_find(const hs_mrec *m, const char *key)
{
    for (uint32_t i = 0; i < m->n_kv; i++)
        if (strcmp(m->kv[i].key, key) == 0)
            return (int)i;
    return -1;
}

uint32_t hs__kv_after(const hs_mrec *m, uint64_t v)
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

/* The key array's capacity is not stored (4 bytes in each of N^2
 * records): it is the smallest power of two, at least 4, that holds n_kv,
 * and the allocation is never smaller (it only grows, by doubling from 4,
 * and removals leave it as it is). */
static uint32_t kv_cap(const hs_mrec *m)
{
    if (!m->kv)
        return 0;
    uint32_t c = 4;
    while (c < m->n_kv)
        c *= 2;
    return c;
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

hs_err hs__kv_put(hs_mrec *m, const char *key, const uint8_t *value, size_t len,
                  bool tombstone, uint64_t version, uint64_t now_ms)
{
    if (len > UINT32_MAX)
        return HS_ETOOBIG;
    hs_kv kv = {0};
    kv.key = hs__member_dup_str(key);
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

    int old = hs__kv_find(m, key);
    if (old < 0 && m->n_kv == kv_cap(m)) {
        uint32_t cap = m->kv ? kv_cap(m) * 2 : 4;
        hs_kv *a = realloc(m->kv, cap * sizeof *a);
        if (!a) {
            free(kv.key);
            free(kv.value);
            return HS_ENOMEM;
        }
        m->kv = a;
    }
    if (old >= 0)
        kv_remove_at(m, (uint32_t)old);
    m->kv[m->n_kv++] = kv;
    if (tombstone)
        m->n_tombs++;
    return HS_OK;
}

void hs__kv_clear(hs_mrec *m)
{
    for (uint32_t i = 0; i < m->n_kv; i++) {
        free(m->kv[i].key);
        free(m->kv[i].value);
    }
    m->n_kv = 0;
    m->n_tombs = 0;
}

/* One pass that compacts the array: removing each collected entry with
 * its own memmove made collecting many tombstones quadratic. */
uint32_t hs__kv_collect(hs_mrec *m, uint64_t upto, uint64_t before_ms)
{
    if (m->n_tombs == 0)
        return 0;
    uint32_t n = 0, w = 0;
    for (uint32_t i = 0; i < m->n_kv; i++) {
        hs_kv *kv = &m->kv[i];
        if (kv->tombstone &&
            (kv->version <= upto || (before_ms && kv->tomb_ms <= before_ms))) {
            if (kv->version > m->gc_version)
                m->gc_version = kv->version;
            free(kv->key);
            free(kv->value);
            m->n_tombs--;
            n++;
        } else {
            if (w != i)
                m->kv[w] = *kv;
            w++;
        }
    }
    m->n_kv = w;
    return n;
}
