/*
 * digest.c — digest pages: "of each member in this name range, I hold
 * every write up to this version", for two views that differ.
 *
 * In protocol v2 a digest travels only when the View hashes of two nodes
 * disagree (view.c): after a join, a restart, a tag write, a leave, until
 * the change has spread. A digest line still costs 20-40 bytes, so a
 * 1400-byte datagram holds some 40 members; beyond that the digest is
 * paged: each page covers a contiguous range of names [lo, hi], the next
 * page continues where the last stopped, and the answer covers that range
 * only. Full anti-entropy therefore takes ceil(N / page) disagreeing
 * exchanges per pair; news travels faster as rumors (rumor.c).
 *
 * A line also carries the newest heartbeat the sender knows: when the
 * member sets differ, positions mean nothing, and digests and deltas are
 * then the only way heartbeats travel.
 */
#include <stdio.h>
#include <string.h>

#include "membership/gossip.h"

/* Room kept for the two range names of a paged digest: the longest name
 * in the view, twice, with tags and length prefixes. */
static size_t range_reserve(const hs_core *c)
{
    return 2 * (c->members.max_name_len + 3);
}

hs_wire_digest_entry hs__digest_of(const hs_mrec *m)
{
    hs_wire_digest_entry e = {.name = m->name,
                              .generation = m->generation,
                              .max_version = m->wr_version,
                              .heartbeat = m->hb_version,
                              .gc_version = m->gc_version,
                              .left = m->left_version != 0,
                              .dead = m->state == HS_STATE_DEAD};
    return e;
}

static size_t line_size(const hs_core *c, size_t i)
{
    hs_wire_digest_entry e = hs__digest_of(c->members.sorted[i]);
    return hs__wire_digest_entry_size(&e);
}

/* One page, starting where the last one stopped. Pages are of equal
 * length (the view split into as few pages as fit): a short last page was
 * answered more completely than the others, so its members' news
 * travelled faster. */
void hs__digest_page(hs_core *c, hs_builder *b, size_t room)
{
    size_t n = c->members.n_sorted;
    size_t i0 = hs__members_lower_bound(&c->members, c->digest_cursor);
    if (i0 >= n)
        i0 = 0;
    size_t reserve = range_reserve(c);
    size_t limit = room > reserve ? room - reserve : 0;
    size_t fit = 0, spent = 0;
    while (i0 + fit < n && spent + line_size(c, i0 + fit) <= limit)
        spent += line_size(c, i0 + fit++);
    size_t last = n;
    if (fit > 0 && !(i0 == 0 && fit == n)) {
        size_t pages = (n + fit - 1) / fit;
        size_t len = (n + pages - 1) / pages;
        if (i0 + len < n)
            last = i0 + len;
    }
    size_t end = i0;
    spent = 0;
    for (; end < last && b->msg.n_digest < b->cap; end++) {
        hs_wire_digest_entry e = hs__digest_of(c->members.sorted[end]);
        size_t sz = hs__wire_digest_entry_size(&e);
        if (spent + sz > limit)
            break;
        b->digest[b->msg.n_digest++] = e;
        spent += sz;
    }
    b->used += spent;
    if (end == i0) /* nothing fits: the datagram is too small for names */
        return;
    b->msg.digest = b->digest;
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

void hs__digest_apply_beats(hs_core *c, const hs_wire_msg *msg)
{
    for (size_t i = 0; i < msg->n_digest; i++) {
        const hs_wire_digest_entry *e = &msg->digest[i];
        if (strcmp(e->name, c->name) == 0) {
            hs__core_claim(c, e->generation, e->heartbeat);
            continue;
        }
        hs_mrec *m = hs__members_find(&c->members, e->name);
        if (!m || m->state == HS_STATE_REAPED || m->generation != e->generation)
            continue;
        /* A leave is nobody's newest write but the leaver's last: it is
         * marked first, so the heartbeat beside it is no sign of life. */
        if (e->left && !m->left_version && e->max_version)
            hs__apply_left(c, m, e->max_version);
        if (e->heartbeat)
            hs__beat_seen(c, m, e->heartbeat);
    }
}

static bool name_in_range(const char *name, const char *lo, const char *hi)
{
    return (!*lo || strcmp(name, lo) >= 0) && (!*hi || strcmp(name, hi) <= 0);
}

size_t hs__digest_size_in(hs_core *c, const char *lo, const char *hi)
{
    size_t n = c->members.n_sorted, sz = range_reserve(c);
    size_t i = *lo ? hs__members_lower_bound(&c->members, lo) : 0;
    for (; i < n && name_in_range(c->members.sorted[i]->name, lo, hi); i++)
        sz += line_size(c, i);
    return sz;
}

/* Our digest over a peer's range [lo, hi] or, when that does not fit, a
 * contiguous window of it at a random place, with the range narrowed to
 * match. (Always taking the window at the start of the range meant the
 * answer never covered the second half of a page.) */
void hs__digest_range(hs_core *c, hs_builder *b, const char *lo, const char *hi,
                      size_t room)
{
    size_t n = c->members.n_sorted;
    size_t i0 = *lo ? hs__members_lower_bound(&c->members, lo) : 0;
    size_t end = i0;
    while (end < n && name_in_range(c->members.sorted[end]->name, lo, hi))
        end++;
    size_t reserve = range_reserve(c);
    room = room > reserve ? room - reserve : 0;
    size_t s = i0, e = i0, spent = 0;
    while (e < end && spent + line_size(c, e) <= room)
        spent += line_size(c, e++);
    if (e < end) {
        /* Grow a window from a random member, forward then backward while
         * there is room, or (half the time) backward then forward, so that
         * members at either end are not covered less often. */
        uint64_t r = hs__core_rand(c);
        s = e = i0 + (r >> 1) % (end - i0);
        spent = 0;
        for (int pass = 0; pass < 2; pass++) {
            if ((pass == 0) == !(r & 1)) {
                while (e < end && spent + line_size(c, e) <= room)
                    spent += line_size(c, e++);
            } else {
                while (s > i0 && spent + line_size(c, s - 1) <= room)
                    spent += line_size(c, --s);
            }
        }
    }
    if (e == s)
        return; /* nothing fits: no digest, nothing to answer */
    for (size_t i = s; i < e && b->msg.n_digest < b->cap; i++)
        b->digest[b->msg.n_digest++] = hs__digest_of(c->members.sorted[i]);
    b->msg.digest = b->digest;
    b->used += spent + reserve;
    b->msg.range_lo = s > i0 ? c->members.sorted[s]->name : lo;
    b->msg.range_hi = e < end ? c->members.sorted[e - 1]->name : hi;
    if (!*b->msg.range_lo && !*b->msg.range_hi && b->msg.n_digest == 0)
        b->msg.digest = NULL;
}
