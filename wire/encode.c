/*
 * wire/encode.c — hs__wire_encode(): an hs_wire_msg to a datagram.
 *
 * The message is mirrored into protobuf-c structs that point at the
 * caller's strings (nothing is copied), judged by hs__wire__validate() — the
 * same function decode runs — and packed after the 4-byte header. A message
 * decode would refuse is a bug at the sender, so it fails here with
 * HS_EINVAL instead of leaving as a datagram every peer drops.
 *
 * The repeated fields need arrays of structs and of pointers; they come
 * from one allocation sized from the (capped) counts. The fixed parts of
 * the envelope live on the stack.
 */
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire_int.h"

static ProtobufCBinaryData bin(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return (ProtobufCBinaryData){n, n ? (uint8_t *)s : NULL};
}

/* Fields of hs_wire_msg that the message's type does not carry must be
 * empty: silently dropping them would hide a bug in the caller. */
static bool shape_ok(const hs_wire_msg *m)
{
    bool has_range =
        (m->range_lo && m->range_lo[0]) || (m->range_hi && m->range_hi[0]);
    bool digest_ok = m->type == HS_WIRE_SYN || m->type == HS_WIRE_SYNACK ||
                     m->type == HS_WIRE_ACK || (m->n_digest == 0 && !has_range);
    bool deltas_ok = m->type != HS_WIRE_LEAVE || m->n_deltas == 0;
    bool view_ok = m->type == HS_WIRE_SYN || m->type == HS_WIRE_SYNACK ||
                   m->type == HS_WIRE_PUSH || !m->has_view;
    const hs_wire_beats *b = &m->beats;
    bool has_beats = b->n || b->span || b->n_dead;

    if (m->type < HS_WIRE_SYN || m->type > HS_WIRE_LEAVE)
        return false;
    if (m->cluster == NULL || m->sender.name == NULL)
        return false;
    if (!digest_ok || !deltas_ok || !view_ok || (has_beats && !m->has_view))
        return false;
    /* Positions: ascending inside [first, first + span) (convictions below
     * the view's count), checked here so the gap coding below cannot
     * underflow; the validator repeats it on the encoded form. */
    if (b->n > HS_WIRE_MAX_VIEW || b->n_dead > HS_WIRE_MAX_VIEW)
        return false;
    if ((b->n && (!b->pos || !b->low)) ||
        (b->n_dead && (!b->dead_pos || !b->dead_low)))
        return false;
    uint64_t end = (uint64_t)b->first + b->span;
    for (size_t i = 0; i < b->n; i++)
        if (b->pos[i] < b->first || b->pos[i] >= end ||
            (i && b->pos[i] <= b->pos[i - 1]))
            return false;
    for (size_t i = 0; i < b->n_dead; i++)
        if (i && b->dead_pos[i] <= b->dead_pos[i - 1])
            return false;
    if (m->pull_only && m->type != HS_WIRE_SYN)
        return false;
    if (m->answered && m->type != HS_WIRE_SYNACK)
        return false;
    if (m->leave_version && m->type != HS_WIRE_LEAVE)
        return false;
    /* Caps before anything is sized from the counts. */
    if (m->n_digest > HS_WIRE_MAX_DIGEST_ENTRIES ||
        m->n_deltas > HS_WIRE_MAX_DELTAS)
        return false;
    if ((m->n_digest && m->digest == NULL) ||
        (m->n_deltas && m->deltas == NULL))
        return false;
    for (size_t i = 0; i < m->n_digest; i++)
        if (m->digest[i].name == NULL)
            return false;
    size_t total = 0;
    for (size_t i = 0; i < m->n_deltas; i++) {
        const hs_wire_delta *d = &m->deltas[i];
        if (d->name == NULL || (d->n_entries && d->entries == NULL))
            return false;
        if (d->n_entries > HS_WIRE_MAX_ENTRIES - total)
            return false;
        total += d->n_entries;
        for (size_t j = 0; j < d->n_entries; j++) {
            const hs_wire_entry *e = &d->entries[j];
            if (e->key == NULL || (e->value_len && e->value == NULL))
                return false;
        }
    }
    return true;
}

static size_t round_up(size_t n)
{
    return (n + alignof(max_align_t) - 1) / alignof(max_align_t) *
           alignof(max_align_t);
}

/* The next n bytes of the arena, or NULL for none: an empty message has no
 * arena, and arithmetic on a NULL pointer is undefined even by zero. */
static void *slice(void *arena, size_t *off, size_t n)
{
    if (n == 0)
        return NULL;
    void *p = (char *)arena + *off;
    *off += n;
    return p;
}

/* The protobuf-c mirror of a message. `arena` holds every repeated item. */
typedef struct mirror {
    hs_pb_envelope env;
    hs_pb_sender sender;
    hs_pb_syn syn;
    hs_pb_synack synack;
    hs_pb_ack ack;
    hs_pb_push push;
    hs_pb_leave leave;
    hs_pb_digest digest;
    hs_pb_view view;
    hs_pb_beats beats;
    void *arena;
} mirror;

/* Writes positions as varint gaps (hearsay.proto, Beats) from `next`,
 * returns the bytes written (at most 5 per position). */
static size_t put_gaps(uint8_t *out, const uint32_t *pos, size_t n,
                       uint32_t next)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t g = pos[i] - next;
        next = pos[i] + 1;
        while (g >= 0x80) {
            out[k++] = (uint8_t)(g | 0x80);
            g >>= 7;
        }
        out[k++] = (uint8_t)g;
    }
    return k;
}

static bool is_dense(const hs_wire_beats *b)
{
    return b->n == 0 || b->pos[b->n - 1] - b->first == b->n - 1;
}

static hs_err build(const hs_wire_msg *m, mirror *mr)
{
    size_t n_entries = 0;
    for (size_t i = 0; i < m->n_deltas; i++)
        n_entries += m->deltas[i].n_entries;

    /* Counts are capped by shape_ok() (at most 8192 of anything), so none
     * of these products can overflow. */
    size_t sz_de = round_up(m->n_digest * sizeof(hs_pb_digest_entry));
    size_t sz_dep = round_up(m->n_digest * sizeof(hs_pb_digest_entry *));
    size_t sz_d = round_up(m->n_deltas * sizeof(hs_pb_delta));
    size_t sz_dp = round_up(m->n_deltas * sizeof(hs_pb_delta *));
    size_t sz_e = round_up(n_entries * sizeof(hs_pb_entry));
    size_t sz_ep = round_up(n_entries * sizeof(hs_pb_entry *));
    size_t sz_gaps = round_up(5 * (m->beats.n + m->beats.n_dead));
    size_t total = sz_de + sz_dep + sz_d + sz_dp + sz_e + sz_ep + sz_gaps;

    mr->arena = NULL;
    if (total) {
        mr->arena = malloc(total);
        if (mr->arena == NULL)
            return HS_ENOMEM;
    }
    size_t off = 0;
    hs_pb_digest_entry *de = slice(mr->arena, &off, sz_de);
    hs_pb_digest_entry **dep = slice(mr->arena, &off, sz_dep);
    hs_pb_delta *d = slice(mr->arena, &off, sz_d);
    hs_pb_delta **dp = slice(mr->arena, &off, sz_dp);
    hs_pb_entry *e = slice(mr->arena, &off, sz_e);
    hs_pb_entry **ep = slice(mr->arena, &off, sz_ep);
    uint8_t *gaps = slice(mr->arena, &off, sz_gaps);

    hs_pb_view *view = NULL;
    hs_pb_beats *beats = NULL;
    if (m->has_view) {
        view = &mr->view;
        hearsay__v2__view__init(view);
        view->members = m->view.members;
        view->state = m->view.state;
        view->count = m->view.count;
        const hs_wire_beats *b = &m->beats;
        if (b->n || b->span || b->n_dead) {
            beats = &mr->beats;
            hearsay__v2__beats__init(beats);
            beats->first = b->first;
            beats->span = b->span;
            beats->low.len = b->n;
            beats->low.data = b->n ? (uint8_t *)b->low : NULL;
            size_t k = 0;
            if (!is_dense(b)) {
                k = put_gaps(gaps, b->pos, b->n, b->first);
                beats->gaps.len = k;
                beats->gaps.data = gaps;
            }
            if (b->n_dead) {
                size_t kd = put_gaps(gaps + k, b->dead_pos, b->n_dead, 0);
                beats->dead.len = kd;
                beats->dead.data = gaps + k;
                beats->dead_low.len = b->n_dead;
                beats->dead_low.data = (uint8_t *)b->dead_low;
            }
        }
    }

    hearsay__v2__envelope__init(&mr->env);
    hearsay__v2__sender__init(&mr->sender);
    mr->env.cluster = bin(m->cluster);
    mr->env.sender = &mr->sender;
    mr->sender.name = bin(m->sender.name);
    mr->sender.generation = m->sender.generation;
    mr->sender.addr = bin(m->sender.addr);

    /* The digest goes out only when it says something, so a re-encoded
     * datagram is never longer than the one decoded. */
    hs_pb_digest *digest = NULL;
    bool has_range =
        (m->range_lo && m->range_lo[0]) || (m->range_hi && m->range_hi[0]);
    if (m->n_digest || has_range) {
        digest = &mr->digest;
        hearsay__v2__digest__init(digest);
        digest->range_lo = bin(m->range_lo);
        digest->range_hi = bin(m->range_hi);
        digest->n_entries = m->n_digest;
        digest->entries = m->n_digest ? dep : NULL;
        for (size_t i = 0; i < m->n_digest; i++) {
            const hs_wire_digest_entry *s = &m->digest[i];
            hearsay__v2__digest_entry__init(&de[i]);
            de[i].name = bin(s->name);
            de[i].generation = s->generation;
            de[i].version = s->max_version;
            de[i].heartbeat = s->heartbeat;
            de[i].dead = s->dead;
            de[i].gc_version = s->gc_version;
            de[i].left = s->left;
            dep[i] = &de[i];
        }
    }

    size_t k = 0;
    for (size_t i = 0; i < m->n_deltas; i++) {
        const hs_wire_delta *s = &m->deltas[i];
        hearsay__v2__member_delta__init(&d[i]);
        d[i].name = bin(s->name);
        d[i].generation = s->generation;
        d[i].addr = bin(s->addr);
        d[i].from_version = s->from_version;
        d[i].to_version = s->to_version;
        d[i].gc_version = s->gc_version;
        d[i].left_version = s->left_version;
        d[i].reset = s->reset;
        d[i].dead = s->dead;
        d[i].heartbeat = s->heartbeat;
        d[i].held_version =
            s->held_version > s->to_version ? s->held_version : 0;
        d[i].n_entries = s->n_entries;
        d[i].entries = s->n_entries ? ep + k : NULL;
        for (size_t j = 0; j < s->n_entries; j++, k++) {
            const hs_wire_entry *se = &s->entries[j];
            hearsay__v2__entry__init(&e[k]);
            e[k].version = se->version;
            e[k].key = bin(se->key);
            e[k].value.len = se->value_len;
            e[k].value.data = se->value_len ? (uint8_t *)se->value : NULL;
            e[k].tombstone = se->tombstone;
            ep[k] = &e[k];
        }
        dp[i] = &d[i];
    }

    switch (m->type) {
    case HS_WIRE_SYN:
        hearsay__v2__syn__init(&mr->syn);
        mr->syn.view = view;
        mr->syn.beats = beats;
        mr->syn.n_deltas = m->n_deltas;
        mr->syn.deltas = m->n_deltas ? dp : NULL;
        mr->syn.digest = digest;
        mr->syn.pull_only = m->pull_only;
        mr->env.body_case = HEARSAY__V2__ENVELOPE__BODY_SYN;
        mr->env.syn = &mr->syn;
        break;
    case HS_WIRE_SYNACK:
        hearsay__v2__syn_ack__init(&mr->synack);
        mr->synack.n_deltas = m->n_deltas;
        mr->synack.deltas = m->n_deltas ? dp : NULL;
        mr->synack.digest = digest;
        mr->synack.view = view;
        mr->synack.answered = m->answered;
        mr->synack.beats = beats;
        mr->env.body_case = HEARSAY__V2__ENVELOPE__BODY_SYNACK;
        mr->env.synack = &mr->synack;
        break;
    case HS_WIRE_ACK:
        hearsay__v2__ack__init(&mr->ack);
        mr->ack.n_deltas = m->n_deltas;
        mr->ack.deltas = m->n_deltas ? dp : NULL;
        mr->ack.digest = digest;
        mr->env.body_case = HEARSAY__V2__ENVELOPE__BODY_ACK;
        mr->env.ack = &mr->ack;
        break;
    case HS_WIRE_PUSH:
        hearsay__v2__push__init(&mr->push);
        mr->push.n_deltas = m->n_deltas;
        mr->push.deltas = m->n_deltas ? dp : NULL;
        mr->push.view = view;
        mr->push.beats = beats;
        mr->env.body_case = HEARSAY__V2__ENVELOPE__BODY_PUSH;
        mr->env.push = &mr->push;
        break;
    case HS_WIRE_LEAVE:
        hearsay__v2__leave__init(&mr->leave);
        mr->leave.max_version = m->leave_version;
        mr->env.body_case = HEARSAY__V2__ENVELOPE__BODY_LEAVE;
        mr->env.leave = &mr->leave;
        break;
    }
    return HS_OK;
}

hs_err hs__wire_encode(const hs_wire_msg *msg, uint8_t *buf, size_t cap,
                       size_t *out_len)
{
    mirror mr;
    size_t n_entries, size;
    hs_err err;

    if (out_len)
        *out_len = 0;
    if (msg == NULL || out_len == NULL || (buf == NULL && cap > 0))
        return HS_EINVAL;
    if (!shape_ok(msg))
        return HS_EINVAL;
    err = build(msg, &mr);
    if (err != HS_OK)
        return err;

    if (hs__wire__validate(&mr.env, &n_entries) != HS_OK) {
        err = HS_EINVAL;
        goto done;
    }
    /* Past the largest UDP payload no receiver would take it, whatever the
     * buffer: to the caller that is "does not fit", like a small buffer.
     * protobuf-c's own count is the one trusted with the buffer; that it
     * equals hs__wire_encoded_size() is pinned by the tests. */
    size = hearsay__v2__envelope__get_packed_size(&mr.env) + HS_WIRE_HEADER_LEN;
    if (size > cap || size > HS_WIRE_MAX_DATAGRAM) {
        err = HS_ENOSPC;
        goto done;
    }
    buf[0] = HS_WIRE_MAGIC0;
    buf[1] = HS_WIRE_MAGIC1;
    buf[2] = HS_WIRE_PROTO_VERSION;
    buf[3] = 0;
    hearsay__v2__envelope__pack(&mr.env, buf + HS_WIRE_HEADER_LEN);
    *out_len = size;
done:
    free(mr.arena);
    return err;
}
