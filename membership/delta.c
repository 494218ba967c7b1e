/*
 * delta.c — deltas: what of a member a peer lacks, chosen and packed under
 * the datagram limit.
 *
 * Fitting a datagram. Deltas that do not all fit are chosen in this order:
 * members the peer does not know at all, then (scuttle-depth) the member
 * missing the most versions, ties broken at random so no member starves.
 * Within a member, entries go out in ascending version order and a cut
 * delta claims only up to its last entry, so whatever arrives leaves the
 * receiver with a gap-free prefix of that member's writes.
 *
 * Every delta also carries the newest heartbeat version the sender knows
 * of the member and whether it holds the member dead: two or three bytes
 * that let a node which learns a member from a delta start it in the right
 * state (a newcomer does not take a dead member for alive) with the right
 * heartbeat to rebuild positional advances from.
 */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "membership/gossip.h"

hs_err hs__builder_init(hs_core *c, hs_builder *b, hs_wire_type type)
{
    memset(b, 0, sizeof *b);
    b->cap = c->cfg.max_datagram / 4 + 1;
    if (b->cap > HS_WIRE_MAX_ENTRIES)
        b->cap = HS_WIRE_MAX_ENTRIES;
    /* A position costs at least one byte on the wire; verdicts ride in the
     * same arrays after the beats. */
    b->cap_pos = c->cfg.max_datagram + HS_MAX_VERDICTS;
    /* One allocation for every array: a message is built for every
     * datagram sent. Each element size of the first three is a multiple of
     * 8 and pos is 4-byte, so each array stays aligned. */
    char *p = malloc(
        b->cap * (sizeof *b->digest + sizeof *b->deltas + sizeof *b->entries) +
        b->cap_pos * (sizeof *b->pos + sizeof *b->low));
    if (!p)
        return HS_ENOMEM;
    b->digest = (hs_wire_digest_entry *)p;
    b->deltas = (hs_wire_delta *)(p + b->cap * sizeof *b->digest);
    b->entries =
        (hs_wire_entry *)((char *)b->deltas + b->cap * sizeof *b->deltas);
    b->pos = (uint32_t *)((char *)b->entries + b->cap * sizeof *b->entries);
    b->low = (uint8_t *)(b->pos + b->cap_pos);
    b->msg.type = type;
    b->msg.cluster = c->cluster;
    b->msg.sender.name = c->name;
    b->msg.sender.generation = c->cfg.generation;
    /* The address rides only where a receiver may need it to reach us
     * (pull mode's candidates, a leave): an answer goes back to where the
     * request came from, and a node that does not know us learns our
     * address from our own delta, which every exchange between differing
     * views carries first. 15-25 bytes saved on most datagrams. */
    b->msg.sender.addr = (type == HS_WIRE_SYN && c->cfg.mode == HS_MODE_PULL) ||
                                 type == HS_WIRE_LEAVE
                             ? c->addr
                             : "";
    b->msg.range_lo = "";
    b->msg.range_hi = "";
    b->msg.deltas = b->deltas;
    b->budget = c->cfg.max_datagram;
    b->used = hs__wire_base_size(&b->msg);
    b->max_entries =
        c->cfg.max_entries_per_msg ? c->cfg.max_entries_per_msg : UINT32_MAX;
    if (b->max_entries > b->cap)
        b->max_entries = (uint32_t)b->cap;
    return HS_OK;
}

void hs__builder_free(hs_builder *b)
{
    free(b->digest); /* the one allocation */
}

size_t hs__builder_room(const hs_builder *b)
{
    return b->budget > b->used ? b->budget - b->used : 0;
}

static bool need_addr(const hs_cand *k)
{
    return k->from == 0 || k->reset;
}

static hs_wire_delta delta_head(const hs_cand *k)
{
    const hs_mrec *m = k->m;
    hs_wire_delta d = {.name = m->name,
                       .generation = m->generation,
                       .addr = need_addr(k) ? m->addr : "",
                       .from_version = k->from,
                       .to_version = m->max_version,
                       .gc_version = m->gc_version,
                       .left_version = m->left_version,
                       .reset = k->reset,
                       .heartbeat = m->hb_version,
                       .held_version = m->max_version,
                       .dead =
                           m->state == HS_STATE_DEAD || hs__announce_forced(m)};
    if (d.to_version < d.from_version)
        d.to_version = d.from_version;
    return d;
}

static unsigned delta_bit(const hs_mrec *m)
{
    return (unsigned)(((uint64_t)(uintptr_t)m * 0x9e3779b97f4a7c15ULL) >> 54);
}

/* Starts a delta for k if its header fits. */
static hs_wire_delta *delta_open(hs_builder *b, const hs_cand *k)
{
    if (b->msg.n_deltas >= b->cap)
        return NULL;
    hs_wire_delta *d = &b->deltas[b->msg.n_deltas];
    *d = delta_head(k);
    d->entries = &b->entries[b->n_entries];
    /* Room for held_version too, which the delta carries if it is cut
     * short (delta_close gives the room back if it is not). */
    size_t sz = hs__wire_delta_size(d) + hs__wire_held_size(d);
    if (b->used + sz > b->budget) {
        b->truncated = true;
        return NULL;
    }
    b->used += sz;
    b->msg.n_deltas++;
    unsigned bit = delta_bit(k->m);
    b->has_delta[bit / 64] |= UINT64_C(1) << (bit % 64);
    return d;
}

static hs_wire_entry entry_of(const hs_kv *kv)
{
    hs_wire_entry e = {.key = kv->key,
                       .value = kv->value,
                       .value_len = kv->len,
                       .version = kv->version,
                       .tombstone = kv->tombstone};
    return e;
}

/* Appends entry i of m to d if it fits. */
static bool delta_push(hs_builder *b, hs_wire_delta *d, const hs_mrec *m,
                       uint32_t i)
{
    if (i >= m->n_kv || b->n_entries >= b->max_entries)
        return false;
    hs_wire_entry e = entry_of(&m->kv[i]);
    size_t sz = hs__wire_entry_size(&e);
    if (b->used + sz > b->budget)
        return false;
    b->entries[b->n_entries++] = e;
    d->n_entries++;
    b->used += sz;
    return true;
}

/* Closes d: a delta that could not carry all it had claims only up to its
 * last entry. One that carries nothing useful is withdrawn. */
static void delta_close(hs_builder *b, hs_wire_delta *d, bool complete)
{
    if (complete) {
        b->used -= hs__wire_held_size(d); /* not cut: no held_version */
        return;
    }
    b->truncated = true;
    if (d->n_entries == 0) {
        b->used -= hs__wire_delta_size(d) + hs__wire_held_size(d);
        b->msg.n_deltas--;
        return;
    }
    /* A cut reset stays a reset: the prefix is a clean slate. Cut short,
     * the header now carries held_version: the room reserved for it. */
    d->to_version = d->entries[d->n_entries - 1].version;
}

bool hs__delta_pack(hs_builder *b, const hs_cand *k)
{
    hs_wire_delta *d = delta_open(b, k);
    if (!d)
        return false;
    uint32_t i = hs__kv_after(k->m, k->from);
    while (delta_push(b, d, k->m, i))
        i++;
    bool complete = i >= k->m->n_kv;
    delta_close(b, d, complete);
    return complete;
}

/* Depth order, with one refinement: among members the peer knows, those
 * whose missing part holds a user key go first, then those that differ
 * only in heartbeat (when sets differ, the only way beats travel). */
static int cmp_depth(const void *pa, const void *pb)
{
    const hs_cand *a = pa, *b = pb;
    if (a->unknown != b->unknown)
        return a->unknown ? -1 : 1;
    if (a->keys != b->keys)
        return a->keys ? -1 : 1;
    if (a->missing != b->missing)
        return a->missing > b->missing ? -1 : 1;
    return a->rnd < b->rnd ? -1 : a->rnd > b->rnd;
}

static int cmp_random(const void *pa, const void *pb)
{
    const hs_cand *a = pa, *b = pb;
    if (a->unknown != b->unknown)
        return a->unknown ? -1 : 1;
    return a->rnd < b->rnd ? -1 : a->rnd > b->rnd;
}

static void pack_depth(hs_builder *b, const hs_cand *ks, size_t n)
{
    for (size_t i = 0; i < n && hs__delta_pack(b, &ks[i]); i++)
        ;
}

/* The breadth heap orders candidates by their next entry's version, ties
 * by index: the order a scan for the smallest would give. */
static bool breadth_less(const hs_cand *ks, const uint32_t *next, uint32_t a,
                         uint32_t b)
{
    uint64_t va = ks[a].m->kv[next[a]].version;
    uint64_t vb = ks[b].m->kv[next[b]].version;
    return va < vb || (va == vb && a < b);
}

static void breadth_sift(const hs_cand *ks, const uint32_t *next,
                         uint32_t *heap, size_t len, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < len && breadth_less(ks, next, heap[l], heap[m]))
            m = l;
        if (r < len && breadth_less(ks, next, heap[r], heap[m]))
            m = r;
        if (m == i)
            return;
        uint32_t t = heap[i];
        heap[i] = heap[m];
        heap[m] = t;
        i = m;
    }
}

/* Breadth: the oldest pending version across all members goes next, so
 * every member advances a little. First decide how many entries each
 * member gets, then emit them, since a delta's entries are contiguous.
 * The next oldest comes from a heap: scanning every candidate for each
 * entry cost candidates x entries a message. */
static void pack_breadth(hs_core *c, hs_builder *b, const hs_cand *ks, size_t n)
{
    uint32_t *take = NULL, *next = NULL, *heap = NULL;
    if (n <= UINT32_MAX / 3)
        take = calloc(3 * (n ? n : 1), sizeof *take);
    if (!take) {
        hs__core_nomem(c);
        pack_depth(b, ks, n);
        return;
    }
    next = take + (n ? n : 1);
    heap = next + (n ? n : 1);
    size_t used = b->used, count = 0, len = 0;
    for (size_t i = 0; i < n; i++) {
        next[i] = hs__kv_after(ks[i].m, ks[i].from);
        if (next[i] < ks[i].m->n_kv)
            heap[len++] = (uint32_t)i;
    }
    for (size_t i = len / 2; i-- > 0;)
        breadth_sift(ks, next, heap, len, i);
    while (len > 0 && count < b->max_entries) {
        uint32_t best = heap[0];
        hs_wire_entry e = entry_of(&ks[best].m->kv[next[best]]);
        size_t sz = hs__wire_entry_size(&e);
        if (take[best] == 0) {
            hs_wire_delta d = delta_head(&ks[best]);
            sz += hs__wire_delta_size(&d);
        }
        if (used + sz > b->budget)
            break;
        used += sz;
        next[best]++;
        take[best]++;
        count++;
        if (next[best] >= ks[best].m->n_kv)
            heap[0] = heap[--len];
        breadth_sift(ks, next, heap, len, 0);
    }
    for (size_t i = 0; i < n; i++) {
        /* Members with nothing but a newer heartbeat or a leave still get
         * their (empty) delta after the entries. */
        if (!take[i] && hs__kv_after(ks[i].m, ks[i].from) < ks[i].m->n_kv)
            continue;
        hs_wire_delta *d = delta_open(b, &ks[i]);
        if (!d)
            break;
        uint32_t at = hs__kv_after(ks[i].m, ks[i].from);
        for (uint32_t k = 0; k < take[i] && delta_push(b, d, ks[i].m, at); k++)
            at++;
        delta_close(b, d, at >= ks[i].m->n_kv);
    }
    free(take); /* next and heap share its allocation */
}

bool hs__delta_already_in(const hs_builder *b, const hs_mrec *m)
{
    unsigned bit = delta_bit(m);
    if (!(b->has_delta[bit / 64] & (UINT64_C(1) << (bit % 64))))
        return false;
    for (size_t i = 0; i < b->msg.n_deltas; i++)
        if (b->deltas[i].name == m->name)
            return true;
    return false;
}

static int cmp_digest_name(const void *pa, const void *pb)
{
    const hs_wire_digest_entry *a = *(const hs_wire_digest_entry *const *)pa;
    const hs_wire_digest_entry *b = *(const hs_wire_digest_entry *const *)pb;
    return strcmp(a->name, b->name);
}

static bool name_in_range(const char *name, const char *lo, const char *hi)
{
    return (!*lo || strcmp(name, lo) >= 0) && (!*hi || strcmp(name, hi) <= 0);
}

/* What the peer whose digest line for m is p (NULL: it lists none) lacks
 * of m; false when nothing. */
static bool lacks(hs_core *c, hs_mrec *m, const hs_wire_digest_entry *p,
                  bool beats, hs_cand *k)
{
    *k = (hs_cand){.m = m, .rnd = hs__core_rand(c)};
    if (!p || p->generation < m->generation) {
        k->unknown = !p;
        k->missing = m->max_version;
    } else if (p->generation > m->generation) {
        return false; /* the peer knows a newer incarnation */
    } else {
        uint64_t clean =
            p->max_version > p->gc_version ? p->max_version : p->gc_version;
        if (clean < m->gc_version) {
            k->reset = true;
            k->missing = m->max_version;
            c->stats.resets_sent++;
        } else if (p->max_version < m->wr_version) {
            k->from = p->max_version;
            k->missing = m->wr_version - p->max_version;
        } else if ((m->left_version && !p->left) ||
                   (beats && m->hb_version > p->heartbeat)) {
            /* Nothing but the leave, or a newer heartbeat. */
            k->from = m->wr_version;
            k->missing = 0;
        } else {
            return false;
        }
    }
    k->keys = m->n_kv && m->kv[m->n_kv - 1].version > k->from;
    return true;
}

void hs__delta_for_digest(hs_core *c, hs_builder *b,
                          const hs_wire_digest_entry *digest, size_t n_digest,
                          const char *lo, const char *hi, bool beats)
{
    size_t n = c->members.n_sorted;
    const hs_wire_digest_entry **peer =
        malloc((n_digest ? n_digest : 1) * sizeof *peer);
    hs_cand *ks = malloc((n ? n : 1) * sizeof *ks);
    if (!peer || !ks) {
        free(peer);
        free(ks);
        hs__core_nomem(c);
        return;
    }
    for (size_t i = 0; i < n_digest; i++)
        peer[i] = &digest[i];
    qsort(peer, n_digest, sizeof *peer, cmp_digest_name);

    size_t nk = 0, j = 0;
    size_t i = *lo ? hs__members_lower_bound(&c->members, lo) : 0;
    for (; i < n; i++) {
        hs_mrec *m = c->members.sorted[i];
        if (!name_in_range(m->name, lo, hi))
            break;
        if (hs__delta_already_in(b, m))
            continue; /* our own state went first */
        while (j < n_digest && strcmp(peer[j]->name, m->name) < 0)
            j++;
        const hs_wire_digest_entry *p =
            j < n_digest && strcmp(peer[j]->name, m->name) == 0 ? peer[j]
                                                                : NULL;
        if (lacks(c, m, p, beats, &ks[nk]))
            nk++;
    }
    if (c->cfg.order == HS_ORDER_BREADTH) {
        qsort(ks, nk, sizeof *ks, cmp_random);
        pack_breadth(c, b, ks, nk);
    } else {
        qsort(ks, nk, sizeof *ks, cmp_depth);
        pack_depth(b, ks, nk);
    }
    free(peer);
    free(ks);
}

/* Push mode's anti-entropy: full state of members from a rotating cursor,
 * so a node that missed rumors still catches up eventually. A member whose
 * state does not fit one datagram goes out in slices over several pushes,
 * each from where the last stopped (push_from): receivers that hold the
 * start take each slice in turn, and the cursor comes back to the start.
 * A complete copy is a reset when the owner collected tombstones, which
 * heals a peer behind a collection; the receiver takes a reset only when
 * it is not older than what it holds (apply.c). */
void hs__delta_full_states(hs_core *c, hs_builder *b)
{
    size_t n = c->members.n_sorted;
    size_t i = hs__members_lower_bound(&c->members, c->push_cursor);
    uint64_t from = c->push_from;
    if (i >= n || strcmp(c->members.sorted[i]->name, c->push_cursor) != 0)
        from = 0; /* the member left the view: start the next afresh */
    for (size_t k = 0; k < n; k++, i++, from = 0) {
        if (i >= n)
            i = 0;
        hs_mrec *m = c->members.sorted[i];
        if (hs__delta_already_in(b, m))
            continue;
        if (from > m->max_version)
            from = 0;
        hs_cand kd = {.m = m, .from = from};
        hs_wire_delta *d = delta_open(b, &kd);
        if (!d) {
            snprintf(c->push_cursor, sizeof c->push_cursor, "%s", m->name);
            c->push_from = from;
            return;
        }
        uint32_t at = hs__kv_after(m, from);
        while (delta_push(b, d, m, at))
            at++;
        bool complete = at >= m->n_kv;
        d->reset = from == 0 && complete && m->gc_version > 0;
        delta_close(b, d, complete);
        if (!complete) {
            /* The rest of this member goes in the next push. */
            snprintf(c->push_cursor, sizeof c->push_cursor, "%s", m->name);
            c->push_from = d->n_entries ? d->to_version : from;
            return;
        }
    }
    snprintf(c->push_cursor, sizeof c->push_cursor, "%s",
             i < n ? c->members.sorted[i]->name : "");
    c->push_from = 0;
}
