/*
 * view.c — the view summary, heartbeats by position, and convictions.
 *
 * Why positions. Every member's heartbeat advances every interval, so a
 * digest that names every member (20-40 bytes a line) is out of date as
 * soon as it is sent, and v1 spent most of its bytes on such lines. But
 * the set of members changes rarely. Two nodes whose views hold the same
 * members (names and generations) in the same name order can refer to a
 * member by its index in that order, and a heartbeat by the low byte of
 * its version: one byte per member for "this is what I know", about two
 * for "this is what you lack". The View hashes say whether two nodes may
 * talk that way:
 *
 *     members = sum over members of H(name, generation)
 *     state   = sum over members of H(H(name, generation), newest write)
 *
 * Sums of a strong 64-bit mix, so the order of arrival does not matter and
 * a collision needs 2^32 views. Equal `members`: positions agree. Equal
 * `state` too: nothing but heartbeats differs, and no digest is needed.
 * Dead and left members keep their positions until they are reaped.
 *
 * Rebuilding a version from its low byte: the receiver holds v for the
 * member; the sender's low byte b means the version v + d with
 * d = (b - v) mod 256 when 1 <= d <= 127 (the sender is ahead), and
 * nothing otherwise (equal, or the sender is behind). A member's counter
 * moves once per heartbeat (500 ms by default) plus once per write, so a
 * receiver more than 127 versions (a minute) behind a sender could take
 * an advance for a smaller one; it is then off by a multiple of 256, which
 * only the displayed heartbeat shows until a digest or delta, which carry
 * the full version, corrects it. Every advance is an arrival for the
 * detector either way.
 *
 * Convictions. A node that declares a member dead says so in the beats of
 * its next rumor_rounds messages, with the low byte of the heartbeat it
 * convicted on. A receiver follows only if it knows no newer heartbeat and
 * its own detector already leans the same way (phi past half the
 * threshold): so the last survivors follow the first within a few rounds,
 * while a member one node merely lost touch with is refuted by everyone
 * who heard it since, and their beats bring the convicting node back.
 */
#include <stdio.h>
#include <string.h>

#include "membership/gossip.h"

/* splitmix64's finaliser: a bijective mix of all 64 bits. */
static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t name_gen_hash(const hs_mrec *m)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a over the name */
    for (const char *s = m->name; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return mix(h ^ mix(m->generation + 0x9e3779b97f4a7c15ULL));
}

void hs__view_touch(hs_core *c)
{
    c->members.changed = true;
}

const hs_wire_view *hs__view_get(hs_core *c)
{
    if (!c->members.changed)
        return &c->view;
    uint64_t mh = 0, sh = 0;
    for (size_t i = 0; i < c->members.n_sorted; i++) {
        const hs_mrec *m = c->members.sorted[i];
        uint64_t h = name_gen_hash(m);
        mh += h;
        sh += mix(h ^ mix(m->wr_version));
    }
    if (mh != c->view.members || sh != c->view.state)
        c->view_round = c->round;
    c->view.members = mh;
    c->view.state = sh;
    c->view.count = (uint32_t)c->members.n_sorted;
    c->members.changed = false;
    return &c->view;
}

bool hs__view_same_members(hs_core *c, const hs_wire_view *v)
{
    const hs_wire_view *mine = hs__view_get(c);
    /* An answer's view carries the members hash alone (hs__view_put). */
    return v->members == mine->members &&
           (!v->count || v->count == mine->count);
}

bool hs__view_same_state(hs_core *c, const hs_wire_view *v)
{
    return hs__view_same_members(c, v) && v->state == hs__view_get(c)->state;
}

void hs__view_put(hs_core *c, hs_builder *b)
{
    b->msg.has_view = true;
    b->msg.view = *hs__view_get(c);
    /* A SYNACK's view only lets the initiator check, on arrival, that
     * positions still mean what they meant when it asked: the members hash
     * does that; the state hash and count would be 11 bytes for nothing. */
    if (b->msg.type == HS_WIRE_SYNACK) {
        b->msg.view.state = 0;
        b->msg.view.count = 0;
    }
    b->used = hs__wire_base_size(&b->msg);
}

/* The version `low` stands for, given ours; 0 when it is not newer. */
static uint64_t rebuild(uint64_t mine, uint8_t low)
{
    if (mine == 0)
        return low; /* nothing to rebuild from: take the byte as it is */
    uint8_t d = (uint8_t)(low - (uint8_t)mine);
    return d >= 1 && d <= 127 ? mine + d : 0;
}

static bool ahead_of(uint64_t mine, uint8_t theirs)
{
    if (mine == 0)
        return false;
    uint8_t d = (uint8_t)((uint8_t)mine - theirs);
    return d >= 1 && d <= 127;
}

void hs__beat_seen(hs_core *c, hs_mrec *m, uint64_t v)
{
    if (m->is_self || v <= m->hb_version)
        return;
    /* A leaver's heartbeat stays where it was when we learned the leave: a
     * later one (it beat on in a partition) would tell peers that still
     * hold it dead that it is alive, on its way to left. */
    if ((m->state == HS_STATE_LEFT && !hs__announce_forced(m)) ||
        m->state == HS_STATE_REAPED)
        return; /* (a force-left member's own heartbeat still counts) */
    m->hb_version = v;
    hs__core_evidence(c, m, v);
}

/* ---- Convictions -------------------------------------------------------- */

void hs__verdict_add(hs_core *c, const hs_mrec *m)
{
    uint32_t slot = 0;
    for (uint32_t i = 0; i < HS_MAX_VERDICTS; i++) {
        if (strcmp(c->verdicts[i].name, m->name) == 0) {
            slot = i;
            break;
        }
        if (c->verdicts[i].until < c->verdicts[slot].until)
            slot = i;
    }
    snprintf(c->verdicts[slot].name, sizeof c->verdicts[slot].name, "%s",
             m->name);
    c->verdicts[slot].until = c->round + c->cfg.rumor_rounds + 1;
}

/* Appends our live convictions to b's beats while they fit. */
static void put_verdicts(hs_core *c, hs_builder *b)
{
    hs_wire_beats *w = &b->msg.beats;
    uint32_t pos[HS_MAX_VERDICTS];
    uint8_t low[HS_MAX_VERDICTS];
    size_t n = 0;
    for (uint32_t i = 0; i < HS_MAX_VERDICTS; i++) {
        if (c->verdicts[i].until <= c->round || !c->verdicts[i].name[0])
            continue;
        size_t p = hs__members_lower_bound(&c->members, c->verdicts[i].name);
        if (p >= c->members.n_sorted ||
            strcmp(c->members.sorted[p]->name, c->verdicts[i].name) != 0 ||
            c->members.sorted[p]->state != HS_STATE_DEAD) {
            c->verdicts[i].until = 0; /* recovered, left or reaped */
            continue;
        }
        /* Insertion sort: positions go out ascending. */
        size_t j = n++;
        while (j > 0 && pos[j - 1] > p) {
            pos[j] = pos[j - 1];
            low[j] = low[j - 1];
            j--;
        }
        pos[j] = (uint32_t)p;
        low[j] = (uint8_t)c->members.sorted[p]->hb_version;
    }
    if (n == 0 || b->cap_pos - w->n < n)
        return;
    size_t before = hs__wire_beats_size(w);
    uint32_t *dp = b->pos + w->n;
    uint8_t *dl = b->low + w->n;
    memcpy(dp, pos, n * sizeof *pos);
    memcpy(dl, low, n);
    w->dead_pos = dp;
    w->dead_low = dl;
    w->n_dead = n;
    size_t after = hs__wire_beats_size(w);
    if (b->used + after - before > b->budget) {
        w->n_dead = 0;
        w->dead_pos = NULL;
        w->dead_low = NULL;
        return;
    }
    b->used += after - before;
}

/* Should this node follow a peer's conviction of m at heartbeat `low`? */
static bool follows(hs_core *c, const hs_mrec *m, uint8_t low)
{
    if (m->state != HS_STATE_ALIVE && m->state != HS_STATE_SUSPECT)
        return false;
    if (ahead_of(m->hb_version, low))
        return false; /* we heard from it since: our beats refute */
    if (m->state == HS_STATE_SUSPECT)
        return true;
    hs_phi tmp;
    double phi = hs__phi_value(hs__mrec_phi(m, &tmp), &c->phi, (double)c->now);
    return c->rhythm_known && phi >= c->cfg.phi_threshold * HS_FOLLOW_PHI;
}

/* ---- Heartbeats by position --------------------------------------------- */

/* A node that left sends no heartbeats: the newest it holds of itself
 * may postdate what a peer holds (it beat on while the peer held it dead
 * in a partition), and would bring it back as alive on the way to left. */
static bool beats_off(const hs_core *c)
{
    return c->self->state == HS_STATE_LEFT;
}

void hs__beats_page(hs_core *c, hs_builder *b)
{
    size_t n = c->members.n_sorted;
    hs_wire_beats *w = &b->msg.beats;
    if (n == 0 || beats_off(c))
        return;
    /* Fixed part of the Beats message (tags, first, span, length prefixes)
     * at its widest, and a quarter of the room for rumors when a write is
     * being spread. */
    size_t room = hs__builder_room(b);
    size_t fixed = 2 + 2 * 4 + 1 + 3;
    if (c->members.n_hot_keys && room > 64)
        room -= room / 4;
    size_t fit = room > fixed + 16 ? room - fixed - 16 : 0;
    if (fit > b->cap_pos)
        fit = b->cap_pos;
    if (fit == 0)
        return;
    size_t first = c->beats_cursor < n ? c->beats_cursor : 0;
    size_t len = n;
    if (fit < n) {
        /* Pages of equal length: a short last page would be answered more
         * completely than the others. */
        size_t pages = (n + fit - 1) / fit;
        len = (n + pages - 1) / pages;
    }
    if (first + len > n)
        len = n - first;
    for (size_t i = 0; i < len; i++) {
        b->pos[i] = (uint32_t)(first + i);
        b->low[i] = (uint8_t)c->members.sorted[first + i]->hb_version;
    }
    w->first = (uint32_t)first;
    w->span = (uint32_t)len;
    w->n = len;
    w->pos = b->pos;
    w->low = b->low;
    b->used += hs__wire_beats_size(w);
    c->beats_cursor = first + len >= n ? 0 : (uint32_t)(first + len);
    put_verdicts(c, b);
}

void hs__beats_answer(hs_core *c, hs_builder *b, const hs_wire_beats *theirs)
{
    size_t n = c->members.n_sorted;
    hs_wire_beats *w = &b->msg.beats;
    uint64_t end = (uint64_t)theirs->first + theirs->span;
    if (end > n || beats_off(c))
        return; /* (end > n cannot happen with equal views: a bad datagram) */
    size_t room = hs__builder_room(b);
    size_t fixed = 2 + 2 * 4 + 2 * 4;
    if (room <= fixed)
        return;
    room -= fixed;
    /* What the initiator lacks, sparse: about two bytes a member. */
    size_t k = 0, cost = 0;
    uint32_t next = theirs->first;
    for (size_t i = 0; i < theirs->n && k < b->cap_pos; i++) {
        uint32_t p = theirs->pos[i];
        const hs_mrec *m = c->members.sorted[p];
        if (!ahead_of(m->hb_version, theirs->low[i]))
            continue;
        uint32_t g = p - next;
        size_t sz = 1 + (g < 128 ? 1 : g < 16384 ? 2 : 3);
        if (cost + sz > room)
            break;
        cost += sz;
        b->pos[k] = p;
        b->low[k] = (uint8_t)m->hb_version;
        k++;
        next = p + 1;
    }
    /* Dense is cheaper past about half the page: every position of the
     * span, advances or not (the initiator ignores what is not newer). */
    if (k && cost > theirs->span && theirs->span <= room &&
        theirs->span <= b->cap_pos) {
        for (uint32_t i = 0; i < theirs->span; i++) {
            b->pos[i] = theirs->first + i;
            b->low[i] =
                (uint8_t)c->members.sorted[theirs->first + i]->hb_version;
        }
        k = theirs->span;
    }
    w->first = theirs->first;
    w->span = theirs->span;
    w->n = k;
    w->pos = k ? b->pos : NULL;
    w->low = k ? b->low : NULL;
    b->used += hs__wire_beats_size(w);
    put_verdicts(c, b);
}

void hs__beats_apply(hs_core *c, const hs_wire_beats *beats)
{
    size_t n = c->members.n_sorted;
    for (size_t i = 0; i < beats->n; i++) {
        if (beats->pos[i] >= n)
            break; /* ascending: the rest is out of range too */
        hs_mrec *m = c->members.sorted[beats->pos[i]];
        uint64_t v = rebuild(m->hb_version, beats->low[i]);
        if (v)
            hs__beat_seen(c, m, v);
    }
    for (size_t i = 0; i < beats->n_dead; i++) {
        if (beats->dead_pos[i] >= n)
            break;
        hs_mrec *m = c->members.sorted[beats->dead_pos[i]];
        if (m->is_self) {
            /* Someone holds us dead: beat now rather than at the next
             * interval, so the refutation starts this round. */
            c->stats.refuted++;
            if (c->cfg.heartbeat_interval_ms && c->next_heartbeat > c->now)
                c->next_heartbeat = c->now;
            continue;
        }
        if (follows(c, m, beats->dead_low[i])) {
            c->stats.convictions_followed++;
            hs__core_convict(c, m);
        }
    }
}
