/*
 * wire/size.c — how many bytes a message, or one item of it, takes on the
 * wire, computed from protobuf's encoding rules without building anything.
 *
 * The rules used (proto3, as protobuf-c packs hearsay.proto):
 *   - every field number is below 16, so every tag is one byte;
 *   - a scalar or bytes field equal to its default (0, false, empty) is not
 *     sent at all;
 *   - a sub-message is sent when present, as tag + varint length + body;
 *   - varints take 7 bits per byte.
 *
 * hs__wire_encoded_size() is exact (the tests compare it with protobuf-c's
 * count for random messages). The per-item functions feed a greedy packer:
 * each counts its own tag and length prefix, and a sub-message whose body
 * grows as items are added (the envelope's body, a digest, a delta) has its
 * length prefix taken at 3 bytes, enough for any body under 2 MiB, so the
 * sum of the parts never undercounts a datagram.
 */
#include <string.h>

#include "wire/wire_int.h"

/* Widest length prefix a growing sub-message of a datagram can need. */
#define WIDE_PREFIX 3

static size_t varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static size_t slen(const char *s)
{
    return s ? strlen(s) : 0;
}

static size_t f_u64(uint64_t v)
{
    return v ? 1 + varint_len(v) : 0;
}

static size_t f_bytes(size_t len)
{
    return len ? 1 + varint_len(len) + len : 0;
}

static size_t f_bool(bool b)
{
    return b ? 2 : 0;
}

static size_t f_msg(size_t body)
{
    return 1 + varint_len(body) + body;
}

static size_t f_msg_wide(size_t body)
{
    return 1 + WIDE_PREFIX + body;
}

static size_t f_fixed64(uint64_t v)
{
    return v ? 9 : 0;
}

static size_t gaps_len(const uint32_t *pos, size_t n, uint32_t next)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        k += varint_len(pos[i] - next);
        next = pos[i] + 1;
    }
    return k;
}

static size_t beats_body(const hs_wire_beats *b)
{
    bool dense = b->n == 0 || b->pos[b->n - 1] - b->first == b->n - 1;
    return f_u64(b->first) + f_u64(b->span) + f_bytes(b->n) +
           (dense ? 0 : f_bytes(gaps_len(b->pos, b->n, b->first))) +
           f_bytes(gaps_len(b->dead_pos, b->n_dead, 0)) + f_bytes(b->n_dead);
}

size_t hs__wire_beats_size(const hs_wire_beats *b)
{
    if (!b->n && !b->span && !b->n_dead)
        return 0;
    return f_msg(beats_body(b));
}

/* View, and Beats when it carries anything. */
static size_t view_fields(const hs_wire_msg *m)
{
    if (!m->has_view)
        return 0;
    size_t v = f_fixed64(m->view.members) + f_fixed64(m->view.state) +
               f_u64(m->view.count);
    return f_msg(v) + hs__wire_beats_size(&m->beats);
}

static size_t sender_body(const hs_wire_sender *s)
{
    return f_bytes(slen(s->name)) + f_u64(s->generation) +
           f_bytes(slen(s->addr));
}

static size_t digest_entry_body(const hs_wire_digest_entry *e)
{
    return f_bytes(slen(e->name)) + f_u64(e->generation) +
           f_u64(e->max_version) + f_u64(e->gc_version) + f_bool(e->left) +
           f_u64(e->heartbeat) + f_bool(e->dead);
}

static size_t entry_body(const hs_wire_entry *e)
{
    return f_u64(e->version) + f_bytes(slen(e->key)) + f_bytes(e->value_len) +
           f_bool(e->tombstone);
}

static size_t delta_head_body(const hs_wire_delta *d)
{
    return f_bytes(slen(d->name)) + f_u64(d->generation) +
           f_bytes(slen(d->addr)) + f_u64(d->from_version) +
           f_u64(d->to_version) + f_u64(d->gc_version) +
           f_u64(d->left_version) + f_bool(d->reset) + f_u64(d->heartbeat) +
           f_bool(d->dead) +
           f_u64(d->held_version > d->to_version ? d->held_version : 0);
}

size_t hs__wire_held_size(const hs_wire_delta *d)
{
    return f_u64(d->held_version);
}

static size_t delta_body(const hs_wire_delta *d)
{
    size_t n = delta_head_body(d);
    for (size_t i = 0; d->entries && i < d->n_entries; i++)
        n += f_msg(entry_body(&d->entries[i]));
    return n;
}

static size_t ranges(const hs_wire_msg *m)
{
    return f_bytes(slen(m->range_lo)) + f_bytes(slen(m->range_hi));
}

/* The Digest sub-message is sent only when it has entries or a range. */
static size_t digest_field(const hs_wire_msg *m)
{
    size_t n = ranges(m);
    for (size_t i = 0; m->digest && i < m->n_digest; i++)
        n += f_msg(digest_entry_body(&m->digest[i]));
    return n ? f_msg(n) : 0;
}

static size_t deltas_fields(const hs_wire_msg *m)
{
    size_t n = 0;
    for (size_t i = 0; m->deltas && i < m->n_deltas; i++)
        n += f_msg(delta_body(&m->deltas[i]));
    return n;
}

static size_t body(const hs_wire_msg *m)
{
    switch (m->type) {
    case HS_WIRE_SYN:
        return view_fields(m) + deltas_fields(m) + digest_field(m) +
               f_bool(m->pull_only);
    case HS_WIRE_SYNACK:
        return view_fields(m) + deltas_fields(m) + digest_field(m) +
               f_bool(m->answered);
    case HS_WIRE_ACK:
        return deltas_fields(m) + digest_field(m);
    case HS_WIRE_PUSH:
        return view_fields(m) + deltas_fields(m);
    case HS_WIRE_LEAVE:
        return f_u64(m->leave_version);
    default:
        return 0;
    }
}

size_t hs__wire_encoded_size(const hs_wire_msg *msg)
{
    return HS_WIRE_HEADER_LEN + f_bytes(slen(msg->cluster)) +
           f_msg(sender_body(&msg->sender)) + f_msg(body(msg));
}

size_t hs__wire_base_size(const hs_wire_msg *msg)
{
    size_t n = 0;
    /* The view is fixed once the message starts; beats, deltas and digest
     * lines are counted by the functions below as they are added. */
    hs_wire_msg bare = *msg;
    bare.beats = (hs_wire_beats){0};
    switch (msg->type) {
    case HS_WIRE_SYN:
        n = view_fields(&bare) + f_msg_wide(ranges(msg)) +
            f_bool(msg->pull_only);
        break;
    case HS_WIRE_SYNACK:
        n = view_fields(&bare) + f_msg_wide(ranges(msg)) +
            f_bool(msg->answered);
        break;
    case HS_WIRE_ACK:
        n = f_msg_wide(ranges(msg));
        break;
    case HS_WIRE_PUSH:
        n = view_fields(&bare);
        break;
    case HS_WIRE_LEAVE:
        n = f_u64(msg->leave_version);
        break;
    default:
        break;
    }
    return HS_WIRE_HEADER_LEN + f_bytes(slen(msg->cluster)) +
           f_msg(sender_body(&msg->sender)) + f_msg_wide(n);
}

size_t hs__wire_digest_entry_size(const hs_wire_digest_entry *e)
{
    return f_msg(digest_entry_body(e));
}

size_t hs__wire_delta_size(const hs_wire_delta *d)
{
    return f_msg_wide(delta_head_body(d));
}

size_t hs__wire_entry_size(const hs_wire_entry *e)
{
    return f_msg(entry_body(e));
}
