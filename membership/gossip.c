/*
 * gossip.c — scuttlebutt reconciliation: choosing peers, building digests
 * and deltas under the datagram limit, and applying what arrives.
 *
 * The exchange (push-pull, the default):
 *
 *   A -> B  SYN     A's digest: for each member, (generation, max_version)
 *   B -> A  SYNACK  deltas A lacks + B's digest over the same name range
 *   A -> B  ACK     deltas B lacks
 *
 * pull stops after the SYNACK (and B sends no digest); push sends one PUSH
 * with recent changes and a rotating slice of full state.
 *
 * Fitting a datagram. Deltas that do not all fit are chosen in this order:
 * members the peer does not know at all, then (scuttle-depth) the member
 * missing the most versions, ties broken at random so no member starves.
 * Within a member, entries go out in ascending version order and a cut
 * delta claims only up to its last entry, so whatever arrives leaves the
 * receiver with a gap-free prefix of that member's versions.
 *
 * Digests larger than a datagram. A digest line costs ~20-40 bytes, so a
 * 1400-byte datagram holds some 40 members. Beyond that the digest is
 * paged: each SYN covers a contiguous range of names [lo, hi], the next SYN
 * continues where the last stopped, and the responder answers for that
 * range only (narrowing it if its own digest of the range is larger). Full
 * anti-entropy therefore takes ceil(N / page) exchanges per pair, which is
 * too slow on its own for news: so every change a node learns is also
 * pushed unasked, for rumor_rounds rounds, in whatever room a SYNACK, ACK
 * or PUSH has left ("rumor mongering backed by anti-entropy", Demers et al.
 * 1987). A rumor is a delta from the version the node held before the
 * change; a receiver that holds less cannot apply it and waits for the
 * anti-entropy page that covers the member.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "membership/core_impl.h"

/* Room kept for the two range names of a paged digest: the longest name
 * in the view, twice, with tags and length prefixes. */
static size_t range_reserve(const hs_core *c)
{
    return 2 * (c->members.max_name_len + 3);
}
#define HB_TEXT 24 /* decimal uint64 + NUL */

/* One message under construction. Arrays are sized once from the datagram
 * size (no item costs fewer than 4 bytes), so pointers into them stay valid
 * while the message grows. */
typedef struct builder {
    hs_wire_msg msg;
    hs_wire_digest_entry *digest;
    hs_wire_delta *deltas;
    hs_wire_entry *entries;
    char (*hb)[HB_TEXT]; /* heartbeat value text, one per delta */
    size_t cap;          /* of each array */
    size_t n_entries;
    size_t used, budget;
    uint32_t max_entries;
    bool truncated;
    bool no_digest; /* a SYNACK whose digest did not fit at all */
} builder;

static hs_err builder_init(hs_core *c, builder *b, hs_wire_type type)
{
    memset(b, 0, sizeof *b);
    b->cap = c->cfg.max_datagram / 4 + 1;
    if (b->cap > HS_WIRE_MAX_ENTRIES)
        b->cap = HS_WIRE_MAX_ENTRIES;
    /* One allocation for the four arrays: a message is built for every
     * datagram sent, and four mallocs of up to 30 KB each were a visible
     * share of a simulated round. Every element size is a multiple of 8,
     * so each array stays aligned. */
    char *p = malloc(b->cap * (sizeof *b->digest + sizeof *b->deltas +
                               sizeof *b->entries + sizeof *b->hb));
    if (!p)
        return HS_ENOMEM;
    b->digest = (hs_wire_digest_entry *)p;
    b->deltas = (hs_wire_delta *)(p + b->cap * sizeof *b->digest);
    b->entries = (hs_wire_entry *)((char *)b->deltas +
                                   b->cap * sizeof *b->deltas);
    b->hb = (char (*)[HB_TEXT])((char *)b->entries +
                                b->cap * sizeof *b->entries);
    b->msg.type = type;
    b->msg.cluster = c->cluster;
    b->msg.sender.name = c->name;
    b->msg.sender.generation = c->cfg.generation;
    b->msg.sender.addr = c->addr;
    b->msg.range_lo = "";
    b->msg.range_hi = "";
    b->msg.digest = b->digest;
    b->msg.deltas = b->deltas;
    b->budget = c->cfg.max_datagram;
    b->used = hs_wire_base_size(&b->msg);
    b->max_entries = c->cfg.max_entries_per_msg ? c->cfg.max_entries_per_msg
                                                : UINT32_MAX;
    if (b->max_entries > b->cap)
        b->max_entries = (uint32_t)b->cap;
    return HS_OK;
}

static void builder_free(builder *b)
{
    free(b->digest); /* the one allocation */
}

static bool name_in_range(const char *name, const char *lo, const char *hi)
{
    return (!*lo || strcmp(name, lo) >= 0) && (!*hi || strcmp(name, hi) <= 0);
}

/* ---- Digests ------------------------------------------------------------ */

static hs_wire_digest_entry digest_of(const hs_mrec *m)
{
    hs_wire_digest_entry e = {.name = m->name,
                              .generation = m->generation,
                              .max_version = m->max_version,
                              .gc_version = m->gc_version,
                              .left = m->left_version != 0};
    return e;
}

/* Adds digest lines for sorted members [i, end) while they fit in `room`
 * bytes. Returns the index one past the last added. */
static size_t add_digest(hs_core *c, builder *b, size_t i, size_t end,
                         size_t room)
{
    size_t spent = 0;
    for (; i < end && b->msg.n_digest < b->cap; i++) {
        hs_wire_digest_entry e = digest_of(c->members.sorted[i]);
        size_t sz = hs_wire_digest_entry_size(&e);
        if (spent + sz > room)
            break;
        b->digest[b->msg.n_digest++] = e;
        spent += sz;
    }
    b->used += spent;
    return i;
}

static size_t digest_size_of(const hs_core *c, size_t i);

/* The SYN's digest: one page, starting where the last one stopped. Pages
 * are of equal length (the view split into as few pages as fit): a short
 * last page was answered more completely than the others, so its members'
 * heartbeats travelled faster and the rest set the detector's tail. */
static void syn_digest(hs_core *c, builder *b)
{
    size_t n = c->members.n_sorted;
    size_t room = b->budget - b->used;
    size_t i0 = hs_members_lower_bound(&c->members, c->digest_cursor);
    if (i0 >= n)
        i0 = 0;
    size_t reserve = range_reserve(c);
    size_t fit = 0, spent = 0, limit = room > reserve ? room - reserve : 0;
    while (i0 + fit < n && spent + digest_size_of(c, i0 + fit) <= limit)
        spent += digest_size_of(c, i0 + fit++);
    size_t last = n;
    if (fit > 0 && !(i0 == 0 && fit == n)) {
        size_t pages = (n + fit - 1) / fit;
        size_t len = (n + pages - 1) / pages;
        if (i0 + len < n)
            last = i0 + len;
    }
    size_t end = add_digest(c, b, i0, last, limit);
    if (end == i0) /* nothing fits: the datagram is too small for names */
        return;
    if (i0 == 0 && end == n) { /* everything fits: no range */
        c->digest_cursor[0] = 0;
        return;
    }
    b->msg.range_lo = i0 == 0 ? "" : c->members.sorted[i0]->name;
    b->msg.range_hi = end == n ? "" : c->members.sorted[end - 1]->name;
    b->used += reserve;
    snprintf(c->digest_cursor, sizeof c->digest_cursor, "%s",
             end == n ? "" : c->members.sorted[end]->name);
}

/* Bytes a digest of every member we know in [lo, hi] would take. */
static size_t digest_size_in(const hs_core *c, const char *lo, const char *hi)
{
    size_t n = c->members.n_sorted, sz = 0;
    size_t i = *lo ? hs_members_lower_bound(&c->members, lo) : 0;
    for (; i < n && name_in_range(c->members.sorted[i]->name, lo, hi); i++) {
        hs_wire_digest_entry e = digest_of(c->members.sorted[i]);
        sz += hs_wire_digest_entry_size(&e);
    }
    return sz;
}

static size_t digest_size_of(const hs_core *c, size_t i)
{
    hs_wire_digest_entry e = digest_of(c->members.sorted[i]);
    return hs_wire_digest_entry_size(&e);
}

/* The SYNACK's digest: every member we know in the initiator's range or,
 * when that does not fit, a contiguous window of it at a random place,
 * with the range narrowed to match. (Always taking the window at the
 * start of the range meant the ACK, which answers only this digest, never
 * covered the second half of a page: at 128 members those members'
 * heartbeats reached observers every 4.9 s on average against 3.2 s for
 * the first half, and the slow half made the detector's tail.) */
static void synack_digest(hs_core *c, builder *b, const char *lo,
                          const char *hi, size_t room)
{
    size_t n = c->members.n_sorted;
    size_t i0 = *lo ? hs_members_lower_bound(&c->members, lo) : 0;
    size_t end = i0;
    while (end < n && name_in_range(c->members.sorted[end]->name, lo, hi))
        end++;
    size_t reserve = range_reserve(c);
    room = room > reserve ? room - reserve : 0;
    b->msg.range_lo = lo;
    b->msg.range_hi = hi;
    size_t s = i0, e = i0, spent = 0;
    while (e < end && spent + digest_size_of(c, e) <= room)
        spent += digest_size_of(c, e++);
    if (e < end) {
        /* Does not fit: grow a window from a random member, forward then
         * backward while there is room, or (half the time) backward then
         * forward, so that members at either end of the range are not
         * covered less often than those in the middle. */
        uint64_t r = hs_core_rand(c);
        s = e = i0 + (r >> 1) % (end - i0);
        spent = 0;
        for (int pass = 0; pass < 2; pass++) {
            if ((pass == 0) == !(r & 1)) {
                while (e < end && spent + digest_size_of(c, e) <= room)
                    spent += digest_size_of(c, e++);
            } else {
                while (s > i0 && spent + digest_size_of(c, s - 1) <= room)
                    spent += digest_size_of(c, --s);
            }
        }
    }
    add_digest(c, b, s, e, room);
    if (e == s) {
        /* Nothing fits: send no digest (the initiator then has nothing
         * to answer). */
        b->msg.n_digest = 0;
        b->msg.range_lo = b->msg.range_hi = "";
        b->no_digest = true;
    } else {
        if (s > i0)
            b->msg.range_lo = c->members.sorted[s]->name;
        if (e < end)
            b->msg.range_hi = c->members.sorted[e - 1]->name;
    }
    b->used += reserve;
}

/* ---- Deltas ------------------------------------------------------------- */

/* What to send of one member. */
typedef struct cand {
    hs_mrec *m;
    uint64_t from;
    uint64_t missing; /* versions the peer lacks (depth order) */
    uint64_t rnd;
    bool unknown; /* the peer does not know the member */
    bool keys;    /* what the peer lacks includes a user key, not only beats */
    bool reset;
} cand;

/* Entries of m above `from` in version order: user keys merged with the
 * heartbeat. */
typedef struct entry_iter {
    const hs_mrec *m;
    uint32_t i;
    bool hb;
} entry_iter;

static void iter_init(entry_iter *it, const hs_mrec *m, uint64_t from)
{
    it->m = m;
    it->i = hs_kv_after(m, from);
    it->hb = m->hb_version > from;
}

/* Peeks the next entry's version; 0 when done. */
static uint64_t iter_peek(const entry_iter *it)
{
    uint64_t kv = it->i < it->m->n_kv ? it->m->kv[it->i].version : 0;
    if (it->hb && (kv == 0 || it->m->hb_version < kv))
        return it->m->hb_version;
    return kv;
}

static bool iter_at_hb(const entry_iter *it)
{
    return it->hb && iter_peek(it) == it->m->hb_version;
}

/* The next entry, without consuming it: a caller that finds it does not
 * fit must leave it for the next message. */
static void iter_get(const entry_iter *it, hs_wire_entry *e, char *hbtext)
{
    memset(e, 0, sizeof *e);
    if (iter_at_hb(it)) {
        snprintf(hbtext, HB_TEXT, "%" PRIu64, it->m->hb_value);
        e->key = HS_KEY_HEARTBEAT;
        e->value = (const uint8_t *)hbtext;
        e->value_len = strlen(hbtext);
        e->version = it->m->hb_version;
        return;
    }
    const hs_kv *kv = &it->m->kv[it->i];
    e->key = kv->key;
    e->value = kv->value;
    e->value_len = kv->len;
    e->version = kv->version;
    e->tombstone = kv->tombstone;
}

static void iter_next(entry_iter *it)
{
    if (iter_at_hb(it))
        it->hb = false;
    else
        it->i++;
}

static bool need_addr(const cand *k)
{
    return k->from == 0 || k->reset;
}

/* Starts a delta for k if its header fits. */
static hs_wire_delta *delta_open(builder *b, const cand *k)
{
    if (b->msg.n_deltas >= b->cap)
        return NULL;
    hs_wire_delta *d = &b->deltas[b->msg.n_deltas];
    memset(d, 0, sizeof *d);
    d->name = k->m->name;
    d->generation = k->m->generation;
    d->addr = need_addr(k) ? k->m->addr : "";
    d->from_version = k->from;
    d->to_version = k->m->max_version;
    d->gc_version = k->m->gc_version;
    d->left_version = k->m->left_version;
    d->reset = k->reset;
    d->entries = &b->entries[b->n_entries];
    size_t sz = hs_wire_delta_size(d);
    if (b->used + sz > b->budget) {
        b->truncated = true;
        return NULL;
    }
    b->used += sz;
    b->msg.n_deltas++;
    return d;
}

/* Appends the next entry of `it` to d if it fits; false when it does not
 * (or there is none). */
static bool delta_push(builder *b, hs_wire_delta *d, entry_iter *it)
{
    if (!iter_peek(it))
        return false;
    if (b->n_entries >= b->max_entries)
        return false;
    hs_wire_entry e;
    iter_get(it, &e, b->hb[b->msg.n_deltas - 1]);
    size_t sz = hs_wire_entry_size(&e);
    if (b->used + sz > b->budget)
        return false;
    iter_next(it);
    b->entries[b->n_entries++] = e;
    d->n_entries++;
    b->used += sz;
    return true;
}

/* Closes d: a delta that could not carry all it had claims only up to its
 * last entry. One that carries nothing useful is withdrawn. */
static void delta_close(builder *b, hs_wire_delta *d, bool complete)
{
    if (!complete) {
        b->truncated = true;
        if (d->n_entries == 0) {
            b->used -= hs_wire_delta_size(d);
            b->msg.n_deltas--;
            return;
        }
        /* A cut reset stays a reset: the prefix is a clean slate. */
        d->to_version = d->entries[d->n_entries - 1].version;
    }
}

/* Depth order, with one refinement: among members the peer knows, those
 * whose missing part holds a user key go first. Every member's heartbeat
 * moves every second, so in a paged digest nearly every line differs and
 * "most versions missing" alone would let a tag change wait behind pages
 * of heartbeats; a key change is rarer and what users wait for. */
static int cmp_depth(const void *pa, const void *pb)
{
    const cand *a = pa, *b = pb;
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
    const cand *a = pa, *b = pb;
    if (a->unknown != b->unknown)
        return a->unknown ? -1 : 1;
    return a->rnd < b->rnd ? -1 : a->rnd > b->rnd;
}

/* Adds all of k's entries, or the prefix that fits. False when it did
 * not fit whole: the datagram is full. */
static bool pack_one(builder *b, const cand *k)
{
    hs_wire_delta *d = delta_open(b, k);
    if (!d)
        return false;
    entry_iter it;
    iter_init(&it, k->m, k->from);
    while (delta_push(b, d, &it))
        ;
    bool complete = iter_peek(&it) == 0;
    delta_close(b, d, complete);
    return complete;
}

/* Depth: whole members in priority order until the datagram is full. */
static void pack_depth(builder *b, const cand *ks, size_t n)
{
    for (size_t i = 0; i < n && pack_one(b, &ks[i]); i++)
        ;
}

/* Breadth: the oldest pending version across all members goes next, so
 * every member advances a little. First decide how many entries each
 * member gets, then emit them, since a delta's entries are contiguous. */
static void pack_breadth(hs_core *c, builder *b, const cand *ks, size_t n)
{
    uint32_t *take = calloc(n ? n : 1, sizeof *take);
    entry_iter *its = calloc(n ? n : 1, sizeof *its);
    if (!take || !its) {
        free(take);
        free(its);
        pack_depth(b, ks, n);
        return;
    }
    size_t used = b->used, count = 0;
    char hbtext[HB_TEXT];
    for (size_t i = 0; i < n; i++)
        iter_init(&its[i], ks[i].m, ks[i].from);
    for (;;) {
        size_t best = n;
        uint64_t bv = 0;
        for (size_t i = 0; i < n; i++) {
            uint64_t v = iter_peek(&its[i]);
            if (v && (best == n || v < bv)) {
                best = i;
                bv = v;
            }
        }
        if (best == n || count >= b->max_entries)
            break;
        hs_wire_entry e;
        iter_get(&its[best], &e, hbtext);
        iter_next(&its[best]);
        size_t sz = hs_wire_entry_size(&e);
        if (take[best] == 0) {
            hs_wire_delta d = {.name = ks[best].m->name,
                               .addr = need_addr(&ks[best]) ? ks[best].m->addr
                                                            : "",
                               .generation = ks[best].m->generation,
                               .from_version = ks[best].from,
                               .to_version = ks[best].m->max_version,
                               .gc_version = ks[best].m->gc_version,
                               .left_version = ks[best].m->left_version,
                               .reset = ks[best].reset};
            sz += hs_wire_delta_size(&d);
        }
        if (used + sz > b->budget)
            break;
        used += sz;
        take[best]++;
        count++;
    }
    (void)c;
    for (size_t i = 0; i < n; i++) {
        if (!take[i])
            continue;
        hs_wire_delta *d = delta_open(b, &ks[i]);
        if (!d)
            break;
        entry_iter it;
        iter_init(&it, ks[i].m, ks[i].from);
        for (uint32_t k = 0; k < take[i] && delta_push(b, d, &it); k++)
            ;
        delta_close(b, d, iter_peek(&it) == 0);
    }
    free(take);
    free(its);
}

static bool already_in(const builder *b, const hs_mrec *m);

static int cmp_digest_name(const void *pa, const void *pb)
{
    const hs_wire_digest_entry *a = *(const hs_wire_digest_entry *const *)pa;
    const hs_wire_digest_entry *b = *(const hs_wire_digest_entry *const *)pb;
    return strcmp(a->name, b->name);
}

/* Deltas for a peer whose digest over [lo, hi] is `digest`: everything we
 * hold in that range that the peer lacks. Marks each member sent with
 * `serial` so rumors do not repeat it. */
static void add_deltas_for_digest(hs_core *c, builder *b,
                                  const hs_wire_digest_entry *digest,
                                  size_t n_digest, const char *lo,
                                  const char *hi)
{
    size_t n = c->members.n_sorted;
    const hs_wire_digest_entry **peer =
        malloc((n_digest ? n_digest : 1) * sizeof *peer);
    cand *ks = malloc((n ? n : 1) * sizeof *ks);
    if (!peer || !ks) {
        free(peer);
        free(ks);
        return;
    }
    for (size_t i = 0; i < n_digest; i++)
        peer[i] = &digest[i];
    qsort(peer, n_digest, sizeof *peer, cmp_digest_name);

    size_t nk = 0, j = 0;
    size_t i = *lo ? hs_members_lower_bound(&c->members, lo) : 0;
    for (; i < n; i++) {
        hs_mrec *m = c->members.sorted[i];
        if (!name_in_range(m->name, lo, hi))
            break;
        if (m->is_self && already_in(b, m))
            continue; /* add_self() sent it already */
        while (j < n_digest && strcmp(peer[j]->name, m->name) < 0)
            j++;
        const hs_wire_digest_entry *p =
            j < n_digest && strcmp(peer[j]->name, m->name) == 0 ? peer[j]
                                                                : NULL;
        cand k = {.m = m, .rnd = hs_core_rand(c)};
        if (!p || p->generation < m->generation) {
            k.unknown = !p;
            k.from = 0;
            k.missing = m->max_version;
        } else if (p->generation > m->generation) {
            continue; /* the peer knows a newer incarnation */
        } else {
            uint64_t clean = p->max_version > p->gc_version ? p->max_version
                                                            : p->gc_version;
            if (clean < m->gc_version) {
                k.reset = true;
                k.from = 0;
                k.missing = m->max_version;
                c->stats.resets_sent++;
            } else if (p->max_version < m->max_version) {
                k.from = p->max_version;
                k.missing = m->max_version - p->max_version;
            } else if (m->left_version && !p->left) {
                k.from = m->max_version; /* nothing but the leave */
            } else {
                continue;
            }
        }
        k.keys = m->n_kv && m->kv[m->n_kv - 1].version > k.from;
        ks[nk++] = k;
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

static bool already_in(const builder *b, const hs_mrec *m)
{
    for (size_t i = 0; i < b->msg.n_deltas; i++)
        if (b->deltas[i].name == m->name)
            return true;
    return false;
}

#define RUMOR_MIN_ROOM 16

/* Where a rumor of m starts. rumor_base is what this node held before the
 * change, but a receiver holding less could not apply a delta from there
 * (a gap), and with heartbeats moving every second most receivers hold a
 * little less. Every version between m's last user-key entry at or below
 * the base and the base itself was a heartbeat, since overwritten, so a
 * delta from that entry carries exactly the same entries and applies at
 * any receiver that has m's keys: the rumor reaches stale peers for free.
 * Never below the collection point, or a receiver could miss a delete. */
static uint64_t rumor_from(const hs_mrec *m)
{
    uint32_t i = hs_kv_after(m, m->rumor_base);
    uint64_t from = i ? m->kv[i - 1].version : 0;
    return from > m->gc_version ? from : m->gc_version;
}

/* Rumors: recent changes of members outside [lo, hi] (the range the
 * anti-entropy part of this message covers; lo == NULL: none), in the
 * room left. Members whose user keys changed go before heartbeat-only
 * changes: a tag change is rarer and what a user waits for. keys_only
 * adds only those (see key_rumors_first). */
static void add_rumors(hs_core *c, builder *b, const char *lo, const char *hi,
                       bool keys_only)
{
    if (lo && !*lo && !*hi)
        return; /* the whole view was reconciled precisely */
    /* Under load the anti-entropy part leaves crumbs: no delta fits in
     * fewer bytes than this (header and one entry of a one-byte name). */
    if (b->budget - b->used < RUMOR_MIN_ROOM)
        return;
    /* The hot list is shuffled in place, one step at a time (lazy
     * Fisher-Yates), first its key part, then the rest, and rumors are
     * taken in that order until the datagram is full. So a message costs
     * the few members it carries, not a pass over every hot member: with
     * heartbeats every member is hot, and that pass was the largest cost
     * of a simulated round at 1,000 members. Members whose rumor is over
     * leave the list when met; each swap keeps the unvisited part intact. */
    hs_members *t = &c->members;
    for (int g = 0; g < (keys_only ? 1 : 2); g++) {
        size_t i = g ? t->n_hot_keys : 0;
        for (;;) {
            size_t end = g ? t->n_hot : t->n_hot_keys;
            if (i >= end)
                break;
            hs_members_hot_swap(t, i, i + hs_core_rand(c) % (end - i));
            hs_mrec *m = t->hot[i];
            if (c->round >= m->rumor_until || m->max_version <= m->rumor_base) {
                hs_members_hot_del(t, m); /* an unvisited one moves to i */
                continue;
            }
            if (g == 0 &&
                !(m->n_kv && m->kv[m->n_kv - 1].version > m->rumor_base)) {
                hs_members_hot_demote(t, m); /* to the other part */
                continue;
            }
            i++;
            if ((lo && name_in_range(m->name, lo, hi)) || already_in(b, m))
                continue;
            cand k = {.m = m, .from = rumor_from(m)};
            if (!pack_one(b, &k))
                return;
        }
    }
}

/*
 * Our own latest state goes first into every SYNACK and ACK, unless the
 * peer's digest shows it has it. Nobody else can say that we are alive:
 * every other copy of our heartbeat descends from one we sent, yet our own
 * delta used to travel only when our name fell in the digest range being
 * reconciled and won its place in depth order, or as a rumor in leftover
 * room. At 128 members with 5% loss that left runs of 25 s in which a
 * member's heartbeat reached nobody, and every observer saw the same gap at
 * once: the whole tail of the detector's inter-arrival times. It costs one
 * small delta (~45 bytes) per message.
 *
 * Outside the range we do not know what the peer holds. While a change of
 * ours is a rumor, the delta starts where the rumor does (rumor_from), so
 * it carries the change; otherwise after our newest user key (or
 * collection point): the heartbeat alone, which applies at any peer that
 * has our keys.
 */
static void add_self(hs_core *c, builder *b, const hs_wire_digest_entry *dg,
                     size_t n_dg, const char *lo, const char *hi)
{
    hs_mrec *s = c->self;
    cand k = {.m = s};
    if (name_in_range(s->name, lo, hi)) {
        const hs_wire_digest_entry *p = NULL;
        for (size_t i = 0; i < n_dg && !p; i++)
            if (strcmp(dg[i].name, s->name) == 0)
                p = &dg[i];
        if (!p || p->generation != s->generation)
            return; /* unknown or stale incarnation: anti-entropy sends all */
        if (p->max_version >= s->max_version &&
            (!s->left_version || p->left))
            return;
        uint64_t clean =
            p->max_version > p->gc_version ? p->max_version : p->gc_version;
        if (clean < s->gc_version)
            return; /* needs a reset: anti-entropy decides */
        k.from = p->max_version;
    } else if (c->round < s->rumor_until && s->max_version > s->rumor_base) {
        k.from = rumor_from(s);
    } else {
        uint64_t base = s->n_kv ? s->kv[s->n_kv - 1].version : 0;
        k.from = base > s->gc_version ? base : s->gc_version;
        if (k.from >= s->max_version)
            return;
    }
    pack_one(b, &k);
}

/* User-key rumors go into a SYNACK or ACK before anything else, in at
 * most a quarter of the room. Without this a paged cluster spread a tag
 * change by push alone: the SYNACK's digest and heartbeat deltas filled
 * the room rumors were meant to use, so only the ACK carried them, and at
 * 1,000 members a change took 14 rounds to reach everyone (push-pull
 * theory: 9). The quarter keeps anti-entropy going under a burst of tag
 * writes. */
static void key_rumors_first(hs_core *c, builder *b, const char *lo,
                             const char *hi)
{
    size_t budget = b->budget;
    size_t cap = (budget - b->used) / 4;
    b->budget = b->used + cap;
    add_rumors(c, b, lo, hi, true);
    b->budget = budget;
}

/* Push mode's anti-entropy: full state of members from a rotating cursor,
 * so a node that missed rumors still catches up eventually. */
static void add_full_states(hs_core *c, builder *b)
{
    size_t n = c->members.n_sorted;
    size_t i = hs_members_lower_bound(&c->members, c->push_cursor);
    for (size_t k = 0; k < n; k++, i++) {
        if (i >= n)
            i = 0;
        hs_mrec *m = c->members.sorted[i];
        if (already_in(b, m))
            continue;
        cand kd = {.m = m, .from = 0};
        hs_wire_delta *d = delta_open(b, &kd);
        if (!d)
            break;
        entry_iter it;
        iter_init(&it, m, 0);
        while (delta_push(b, d, &it))
            ;
        bool complete = iter_peek(&it) == 0;
        /* A complete from-scratch copy can replace whatever the receiver
         * holds, which also heals a peer behind a tombstone collection. */
        d->reset = complete && m->gc_version > 0;
        delta_close(b, d, complete);
        if (!complete)
            break;
    }
    snprintf(c->push_cursor, sizeof c->push_cursor, "%s",
             i < n ? c->members.sorted[i]->name : "");
}

/* ---- Applying ----------------------------------------------------------- */

static uint64_t parse_u64(const uint8_t *p, size_t len)
{
    uint64_t v = 0;
    if (len == 0 || len > 20)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9' || v > (UINT64_MAX - 9) / 10)
            return 0;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

/* Versions are counters bumped once per write; 2^53 is beyond any real
 * member's lifetime (a write per microsecond for 285 years) and keeps
 * every "+1" far from overflow. */
#define MAX_SANE_VERSION (UINT64_C(1) << 53)

/* Applies d's entries to m (whose generation matches). `clean` says the
 * delta replaced everything we held of m (a reset or a first copy), so its
 * collection point becomes ours even if the copy was cut short. */
static void apply_entries(hs_core *c, hs_mrec *m, const hs_wire_delta *d,
                          bool announce, bool clean)
{
    bool stopped = false;
    uint64_t old_max = m->max_version;
    for (size_t i = 0; i < d->n_entries && !stopped; i++) {
        const hs_wire_entry *e = &d->entries[i];
        if (e->version <= m->max_version)
            continue; /* already held (duplicate or overlapping delta) */
        if (strcmp(e->key, HS_KEY_HEARTBEAT) == 0) {
            m->hb_value = parse_u64(e->value, e->value_len);
            m->hb_version = e->version;
        } else if (strncmp(e->key, HS_KEY_PREFIX, 3) == 0) {
            /* A reserved key this version does not know: skipped, but its
             * version still counts so the member does not stall. */
        } else {
            int at = hs_kv_find(m, e->key);
            bool fresh = at < 0 || m->kv[at].tombstone;
            hs_err err = HS_OK;
            if (!e->tombstone && fresh &&
                m->n_kv - m->n_tombs >= c->cfg.max_keys)
                err = HS_EFULL;
            else
                err = hs_kv_put(m, e->key, e->value, e->value_len,
                                e->tombstone, e->version, c->now);
            if (err != HS_OK) {
                /* Stop here: what was applied is still a gap-free prefix. */
                hs_core_reject(c, err);
                stopped = true;
                break;
            }
            if (announce && !(e->tombstone && at < 0))
                hs_core_emit(c, HS_EVENT_UPDATE, m, e->key, e->tombstone);
        }
        c->stats.entries_applied++;
        m->max_version = e->version;
    }
    if (!stopped && d->to_version > m->max_version)
        m->max_version = d->to_version;
    if (clean && d->gc_version > m->gc_version)
        m->gc_version = d->gc_version;
    if (d->gc_version > m->gc_version && d->gc_version <= m->max_version)
        c->stats.tombstones_collected += hs_kv_collect(m, d->gc_version, 0);
    if (m->max_version > old_max) {
        c->stats.deltas_applied++;
        hs_core_mark_hot(c, m, old_max);
    }
    if (m->max_version > old_max)
        hs_core_evidence(c, m, m->max_version);
}

/* Marks m left (once per incarnation). */
static void mark_left(hs_core *c, hs_mrec *m, uint64_t version)
{
    if (m->state == HS_STATE_LEFT)
        return;
    if (!m->left_version)
        m->left_version = version ? version : 1;
    m->state = HS_STATE_LEFT;
    m->state_since = c->now;
    hs_core_emit(c, HS_EVENT_LEAVE, m, NULL, false);
    uint64_t due = c->now + c->cfg.reap_left_after_ms;
    if (due < c->next_check)
        c->next_check = due;
}

/* Starts a member's state afresh for a new incarnation. */
static void restart_member(hs_mrec *m, uint64_t generation)
{
    hs_kv_clear(m);
    hs_mrec_phi_reset(m);
    m->generation = generation;
    m->max_version = m->gc_version = m->left_version = 0;
    m->hb_value = m->hb_version = 0;
    m->rumor_base = 0;
    m->rumor_until = 0;
    m->seen_version = 0;
}

static void apply_delta(hs_core *c, const hs_wire_delta *d)
{
    if (d->to_version > MAX_SANE_VERSION || d->generation == 0 ||
        d->generation > (UINT64_C(1) << 62)) {
        hs_core_reject(c, HS_EMALFORMED);
        return;
    }
    if (strcmp(d->name, c->name) == 0) {
        /* Only we write our state. A newer version or generation of us
         * elsewhere is a name clash or a forgery: count it. */
        if (d->generation > c->cfg.generation ||
            (d->generation == c->cfg.generation &&
             d->to_version > c->self->max_version))
            hs_core_reject(c, HS_ESELF);
        return;
    }
    bool whole = d->from_version == 0 || d->reset;
    hs_mrec *m = hs_members_find(&c->members, d->name);
    bool joined = false, restarted = false;

    if (m && m->state == HS_STATE_REAPED) {
        if (d->generation <= m->generation) {
            hs_core_reject(c, HS_ESTALE);
            return;
        }
        if (!whole) {
            c->stats.deltas_gap++;
            return;
        }
        if (hs_members_revive(&c->members, m) != HS_OK) {
            hs_core_reject(c, HS_ENOMEM);
            return;
        }
        restart_member(m, d->generation);
        joined = true;
    } else if (!m) {
        if (!whole) {
            c->stats.deltas_gap++;
            return;
        }
        if (c->members.n_sorted >= c->cfg.max_members) {
            hs_core_reject(c, HS_EFULL);
            return;
        }
        if (hs_members_add(&c->members, d->name, d->addr, d->generation, &m) !=
            HS_OK) {
            hs_core_reject(c, HS_ENOMEM);
            return;
        }
        joined = true;
    } else if (d->generation < m->generation) {
        hs_core_reject(c, HS_ESTALE);
        return;
    } else if (d->generation > m->generation) {
        restart_member(m, d->generation);
        m->state = HS_STATE_ALIVE;
        m->state_since = c->now;
        restarted = true;
        if (!whole) {
            /* We know a newer incarnation exists but not its state yet:
             * our digest now asks for it from scratch. */
            hs_core_emit(c, HS_EVENT_RESTART, m, NULL, false);
            c->stats.deltas_gap++;
            return;
        }
    } else if (d->reset) {
        hs_kv_clear(m);
        m->max_version = 0;
        m->hb_version = 0;
    } else if (d->from_version > m->max_version) {
        c->stats.deltas_gap++;
        return;
    }

    if (joined) {
        m->state = HS_STATE_ALIVE;
        m->state_since = c->now;
    }
    if (*d->addr && strcmp(d->addr, m->addr) != 0) {
        c->view_dirty = true; /* peers without an address are not picked */
        if (hs_member_set_addr(m, d->addr) != HS_OK)
            hs_core_reject(c, HS_ENOMEM);
    }
    if (joined)
        hs_core_emit(c, HS_EVENT_JOIN, m, NULL, false);
    if (restarted)
        hs_core_emit(c, HS_EVENT_RESTART, m, NULL, false);
    if (joined || restarted)
        c->news = true;

    apply_entries(c, m, d, !joined && !restarted, whole);
    /* A member first seen without a heartbeat gets its detector started
     * now, so one that never beats is still suspected once the bootstrap
     * estimate runs out. */
    hs_phi tmp;
    if ((joined || restarted) && !hs_mrec_phi(m, &tmp)->has_last) {
        hs_mrec_phi_mark(m, (double)c->now);
        hs_core_watch(c, m);
    }
    if (d->left_version)
        mark_left(c, m, d->left_version);
}

static void apply_deltas(hs_core *c, const hs_wire_msg *msg)
{
    for (size_t i = 0; i < msg->n_deltas; i++)
        apply_delta(c, &msg->deltas[i]);
}

/* ---- Exchanges ---------------------------------------------------------- */

static void send_syn(hs_core *c, const char *to)
{
    builder b;
    if (builder_init(c, &b, HS_WIRE_SYN) != HS_OK)
        return;
    b.msg.pull_only = c->cfg.mode == HS_MODE_PULL;
    syn_digest(c, &b);
    hs_core_send(c, to, &b.msg);
    builder_free(&b);
}

static void send_push(hs_core *c, const char *to)
{
    builder b;
    if (builder_init(c, &b, HS_WIRE_PUSH) != HS_OK)
        return;
    /* Rumors of every member (no range is covered precisely), then full
     * state in the room left. */
    add_rumors(c, &b, NULL, NULL, false);
    add_full_states(c, &b);
    if (b.msg.n_deltas)
        hs_core_send(c, to, &b.msg);
    builder_free(&b);
}

static void on_syn(hs_core *c, const char *from, const hs_wire_msg *syn)
{
    builder b;
    if (builder_init(c, &b, HS_WIRE_SYNACK) != HS_OK)
        return;
    add_self(c, &b, syn->digest, syn->n_digest, syn->range_lo, syn->range_hi);
    key_rumors_first(c, &b, syn->range_lo, syn->range_hi);
    if (syn->pull_only) {
        add_deltas_for_digest(c, &b, syn->digest, syn->n_digest,
                              syn->range_lo, syn->range_hi);
        add_rumors(c, &b, syn->range_lo, syn->range_hi, false);
        if (b.msg.n_deltas)
            hs_core_send(c, from, &b.msg);
        builder_free(&b);
        /* Pull never pushes: remember the sender so that we pull from it
         * too, or a newcomer would never be learned. */
        if (!hs_members_find(&c->members, syn->sender.name) &&
            *syn->sender.addr && c->n_candidates < HS_MAX_CANDIDATES) {
            char *a = strdup(syn->sender.addr);
            if (a)
                c->candidates[c->n_candidates++] = a;
        }
        return;
    }
    /* Deltas and our digest share the datagram. The digest is kept at
     * least half of the room (or all it needs, if less): without it the
     * initiator cannot answer, and with too little the range shrinks. The
     * deltas go in first under that reservation, then the digest takes
     * what is left, then rumors fill any gap. */
    size_t room = b.budget - b.used;
    size_t want = digest_size_in(c, syn->range_lo, syn->range_hi) +
                  range_reserve(c);
    size_t reserve = want < room / 2 ? want : room / 2;
    b.budget -= reserve;
    add_deltas_for_digest(c, &b, syn->digest, syn->n_digest, syn->range_lo,
                          syn->range_hi);
    b.budget += reserve;
    synack_digest(c, &b, syn->range_lo, syn->range_hi, b.budget - b.used);
    add_rumors(c, &b, syn->range_lo, syn->range_hi, false);
    if (b.truncated)
        c->stats.truncated_msgs++;
    hs_core_send(c, from, &b.msg);
    builder_free(&b);
}

static void on_synack(hs_core *c, const char *from, const hs_wire_msg *msg)
{
    apply_deltas(c, msg);
    /* A SYNACK without a digest answered a pull, or had no room for one:
     * either way there is nothing to answer. */
    if (c->cfg.mode != HS_MODE_PUSH_PULL ||
        (msg->n_digest == 0 && !*msg->range_lo && !*msg->range_hi))
        return;
    builder b;
    if (builder_init(c, &b, HS_WIRE_ACK) != HS_OK)
        return;
    add_self(c, &b, msg->digest, msg->n_digest, msg->range_lo, msg->range_hi);
    key_rumors_first(c, &b, msg->range_lo, msg->range_hi);
    add_deltas_for_digest(c, &b, msg->digest, msg->n_digest, msg->range_lo,
                          msg->range_hi);
    add_rumors(c, &b, msg->range_lo, msg->range_hi, false);
    if (b.truncated)
        c->stats.truncated_msgs++;
    if (b.msg.n_deltas)
        hs_core_send(c, from, &b.msg);
    builder_free(&b);
}

static void on_leave(hs_core *c, const hs_wire_msg *msg)
{
    hs_mrec *m = hs_members_find(&c->members, msg->sender.name);
    if (!m || m->state == HS_STATE_REAPED)
        return;
    if (msg->sender.generation < m->generation) {
        hs_core_reject(c, HS_ESTALE);
        return;
    }
    if (msg->sender.generation > m->generation)
        return; /* a newer incarnation we have not seen: wait for its state */
    mark_left(c, m, msg->leave_version);
}

void hs_gossip_handle(hs_core *c, const char *from, const hs_wire_msg *msg)
{
    switch (msg->type) {
    case HS_WIRE_SYN:
        on_syn(c, from, msg);
        break;
    case HS_WIRE_SYNACK:
        on_synack(c, from, msg);
        break;
    case HS_WIRE_ACK:
    case HS_WIRE_PUSH:
        apply_deltas(c, msg);
        break;
    case HS_WIRE_LEAVE:
        on_leave(c, msg);
        break;
    default:
        hs_core_reject(c, HS_EMALFORMED);
    }
}

/* ---- Peer choice -------------------------------------------------------- */

static bool is_live(const hs_mrec *m)
{
    return !m->is_self && *m->addr &&
           (m->state == HS_STATE_ALIVE || m->state == HS_STATE_SUSPECT);
}

typedef struct targets {
    const char *addr[16 + 3 + HS_MAX_CANDIDATES];
    size_t n;
    bool seed; /* a seed is among them */
} targets;

static void target_add(hs_core *c, targets *t, const char *addr)
{
    if (!*addr || strcmp(addr, c->addr) == 0)
        return;
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->addr[i], addr) == 0)
            return;
    if (t->n < sizeof t->addr / sizeof *t->addr)
        t->addr[t->n++] = addr;
    for (uint32_t i = 0; i < c->n_seeds; i++)
        if (strcmp(c->seeds[i], addr) == 0)
            t->seed = true;
}

/* k distinct random members satisfying pred, by partial Fisher-Yates
 * over a scan of the view. */
static void pick_scan(hs_core *c, targets *t, uint32_t k,
                      bool (*pred)(const hs_mrec *), size_t *n_match)
{
    size_t n = c->members.n_sorted, nm = 0;
    size_t *idx = malloc((n ? n : 1) * sizeof *idx);
    if (!idx)
        return;
    for (size_t i = 0; i < n; i++)
        if (pred(c->members.sorted[i]))
            idx[nm++] = i;
    for (size_t i = 0; i < k && i < nm; i++) {
        size_t j = i + hs_core_rand(c) % (nm - i);
        size_t tmp = idx[i];
        idx[i] = idx[j];
        idx[j] = tmp;
        target_add(c, t, c->members.sorted[idx[i]]->addr);
    }
    free(idx);
    if (n_match)
        *n_match = nm;
}

static bool is_dead(const hs_mrec *m)
{
    return !m->is_self && *m->addr && m->state == HS_STATE_DEAD;
}

static void count_peers(hs_core *c)
{
    if (!c->view_dirty)
        return;
    size_t nl = 0, nd = 0;
    for (size_t i = 0; i < c->members.n_sorted; i++) {
        nl += is_live(c->members.sorted[i]);
        nd += is_dead(c->members.sorted[i]);
    }
    c->n_live = nl;
    c->n_dead = nd;
    c->view_dirty = false;
}

/* k (<= 16) distinct random members satisfying pred, of the nm there are.
 * When they are at least a quarter of the view, by drawing members at
 * random and skipping misses (four draws each on average): scanning the
 * whole view every round made peer choice the largest cost of a round at
 * 1,000 members. Otherwise, or after too many misses, by a scan. Both
 * give every k-subset the same chance. */
static void pick_random(hs_core *c, targets *t, uint32_t k,
                        bool (*pred)(const hs_mrec *), size_t nm)
{
    size_t n = c->members.n_sorted;
    if (k > nm)
        k = (uint32_t)nm;
    if (k == 0)
        return;
    if (k > 16 || 4 * nm < n) {
        pick_scan(c, t, k, pred, NULL);
        return;
    }
    const hs_mrec *got[16];
    uint32_t n_got = 0;
    for (uint32_t tries = 0; n_got < k && tries < 64u * k; tries++) {
        const hs_mrec *m = c->members.sorted[hs_core_rand(c) % n];
        bool dup = false;
        for (uint32_t i = 0; i < n_got; i++)
            dup |= got[i] == m;
        if (dup || !pred(m))
            continue;
        got[n_got++] = m;
    }
    if (n_got < k) {
        pick_scan(c, t, k, pred, NULL);
        return;
    }
    for (uint32_t i = 0; i < n_got; i++)
        target_add(c, t, got[i]->addr);
}

/* Who to gossip with this round: `fanout` random live peers; now and then
 * a dead one, so a healed partition merges back (probability
 * dead / (live + 1), Cassandra's rule); and a seed when we know no one, or
 * with probability seeds / (live + dead + 1), so clusters split at start-up
 * find each other through the seeds. */
static void choose_targets(hs_core *c, targets *t)
{
    count_peers(c);
    size_t n_live = c->n_live, n_dead = c->n_dead;
    pick_random(c, t, c->cfg.fanout, is_live, n_live);
    if (n_dead && hs_core_rand01(c) < (double)n_dead / (double)(n_live + 1))
        pick_random(c, t, 1, is_dead, n_dead);
    if (c->n_seeds && !t->seed &&
        (n_live == 0 || hs_core_rand01(c) < (double)c->n_seeds /
                                                (double)(n_live + n_dead + 1)))
        target_add(c, t, c->seeds[hs_core_rand(c) % c->n_seeds]);
    for (uint32_t i = 0; i < c->n_candidates; i++)
        target_add(c, t, c->candidates[i]);
}

void hs_gossip_round(hs_core *c)
{
    c->round++;
    c->stats.rounds++;
    targets t = {0};
    choose_targets(c, &t);
    for (size_t i = 0; i < t.n; i++) {
        if (c->cfg.mode == HS_MODE_PUSH)
            send_push(c, t.addr[i]);
        else
            send_syn(c, t.addr[i]);
    }
    for (uint32_t i = 0; i < c->n_candidates; i++)
        free(c->candidates[i]);
    c->n_candidates = 0;
}

void hs_gossip_send_leave(hs_core *c)
{
    targets t = {0};
    pick_scan(c, &t, c->cfg.leave_fanout, is_live, NULL);
    for (uint32_t i = 0; t.n == 0 && i < c->n_seeds; i++)
        target_add(c, &t, c->seeds[i]);
    hs_wire_msg msg = {.type = HS_WIRE_LEAVE,
                       .cluster = c->cluster,
                       .sender = {c->name, c->cfg.generation, c->addr},
                       .range_lo = "",
                       .range_hi = "",
                       .leave_version = c->self->left_version};
    for (size_t i = 0; i < t.n; i++)
        hs_core_send(c, t.addr[i], &msg);
}
