/*
 * wire/wire.c — the rules of the datagram format: the 4-byte header, what a
 * valid name is, and hs__wire__validate(), the single judge of an Envelope
 * that decode.c runs on every received datagram and encode.c on every
 * message before it leaves.
 *
 * The validator reports HS_ETOOBIG in preference to HS_EMALFORMED: it
 * returns at the first bound exceeded, but only remembers the first
 * structural fault and keeps scanning, so the answer for a given datagram
 * does not depend on the order in which fields happen to be checked. Every
 * loop is bounded by a count cap that is checked before the loop.
 */
#include <string.h>

#include "wire/wire_int.h"

hs_err hs__wire_check_header(const uint8_t *buf, size_t len, bool *sealed)
{
    if (sealed)
        *sealed = false;
    if (buf == NULL || len < HS_WIRE_HEADER_LEN)
        return HS_ETRUNCATED;
    if (buf[0] != HS_WIRE_MAGIC0 || buf[1] != HS_WIRE_MAGIC1)
        return HS_EMAGIC;
    /* A flag this version does not know may change how the payload is read
     * (compression, a new seal), so it is treated like a newer version. */
    if (buf[2] != HS_WIRE_PROTO_VERSION || (buf[3] & ~HS_WIRE_FLAG_SEALED))
        return HS_EVERSION;
    if (sealed)
        *sealed = (buf[3] & HS_WIRE_FLAG_SEALED) != 0;
    return HS_OK;
}

bool hs__wire_valid_name(const char *s, size_t max)
{
    if (s == NULL || s[0] == '\0')
        return false;
    /* Bounded by max + 1 so an unterminated or huge string costs nothing. */
    for (size_t i = 0; i <= max; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\0')
            return true;
        if (c < 0x21 || c > 0x7e || i == max)
            return false;
    }
    return false;
}

const char *hs__wire_type_name(int type)
{
    switch (type) {
    case HS_WIRE_SYN:
        return "syn";
    case HS_WIRE_SYNACK:
        return "synack";
    case HS_WIRE_ACK:
        return "ack";
    case HS_WIRE_PUSH:
        return "push";
    case HS_WIRE_LEAVE:
        return "leave";
    default:
        return "unknown";
    }
}

hs_wire_type hs__wire__body_type(const hs_pb_envelope *env)
{
    switch (env->body_case) {
    case HEARSAY__V2__ENVELOPE__BODY_SYN:
        return env->syn ? HS_WIRE_SYN : 0;
    case HEARSAY__V2__ENVELOPE__BODY_SYNACK:
        return env->synack ? HS_WIRE_SYNACK : 0;
    case HEARSAY__V2__ENVELOPE__BODY_ACK:
        return env->ack ? HS_WIRE_ACK : 0;
    case HEARSAY__V2__ENVELOPE__BODY_PUSH:
        return env->push ? HS_WIRE_PUSH : 0;
    case HEARSAY__V2__ENVELOPE__BODY_LEAVE:
        return env->leave ? HS_WIRE_LEAVE : 0;
    default:
        return 0;
    }
}

void hs__wire__body_parts(const hs_pb_envelope *env, hs_wire__parts *out)
{
    memset(out, 0, sizeof *out);
    switch (hs__wire__body_type(env)) {
    case HS_WIRE_SYN:
        out->deltas = env->syn->deltas;
        out->n_deltas = env->syn->n_deltas;
        out->digest = env->syn->digest;
        out->view = env->syn->view;
        out->beats = env->syn->beats;
        break;
    case HS_WIRE_SYNACK:
        out->deltas = env->synack->deltas;
        out->n_deltas = env->synack->n_deltas;
        out->digest = env->synack->digest;
        out->view = env->synack->view;
        out->beats = env->synack->beats;
        break;
    case HS_WIRE_ACK:
        out->deltas = env->ack->deltas;
        out->n_deltas = env->ack->n_deltas;
        out->digest = env->ack->digest;
        break;
    case HS_WIRE_PUSH:
        out->deltas = env->push->deltas;
        out->n_deltas = env->push->n_deltas;
        out->view = env->push->view;
        out->beats = env->push->beats;
        break;
    default:
        break;
    }
}

bool hs__wire__varint32(const uint8_t **p, const uint8_t *end, uint32_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 35 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            if (x > UINT32_MAX)
                return false;
            *v = (uint32_t)x;
            return true;
        }
    }
    return false;
}

/* A name or key: 1..max bytes of 0x21..0x7e (0..max for an optional bound
 * or address). Length first, so an oversized field is HS_ETOOBIG whatever
 * its content. */
static hs_err check_ident(const ProtobufCBinaryData *b, size_t max,
                          bool may_be_empty)
{
    if (b->len > max)
        return HS_ETOOBIG;
    if (b->len == 0)
        return may_be_empty ? HS_OK : HS_EMALFORMED;
    if (b->data == NULL)
        return HS_EMALFORMED;
    for (size_t i = 0; i < b->len; i++)
        if (b->data[i] < 0x21 || b->data[i] > 0x7e)
            return HS_EMALFORMED;
    return HS_OK;
}

/* Bytewise order of two names, as strcmp() would give for the C strings
 * (names hold no NUL). */
static int cmp_bytes(const ProtobufCBinaryData *a, const ProtobufCBinaryData *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int c = n ? memcmp(a->data, b->data, n) : 0;
    if (c != 0)
        return c;
    return (a->len > b->len) - (a->len < b->len);
}

/* ETOOBIG ends the check at once; EMALFORMED is kept and the scan goes on
 * in case a bound is exceeded further on. */
#define NOTE(expr)                                                             \
    do {                                                                       \
        hs_err note_ = (expr);                                                 \
        if (note_ == HS_ETOOBIG)                                               \
            return note_;                                                      \
        if (note_ != HS_OK && acc == HS_OK)                                    \
            acc = note_;                                                       \
    } while (0)

static hs_err check_digest(const hs_pb_digest *dg)
{
    hs_err acc = HS_OK;

    if (dg == NULL)
        return HS_OK;
    if (dg->n_entries > HS_WIRE_MAX_DIGEST_ENTRIES)
        return HS_ETOOBIG;
    NOTE(check_ident(&dg->range_lo, HS_WIRE_MAX_NAME, true));
    NOTE(check_ident(&dg->range_hi, HS_WIRE_MAX_NAME, true));
    bool has_lo = dg->range_lo.len > 0, has_hi = dg->range_hi.len > 0;
    if (has_lo && has_hi && cmp_bytes(&dg->range_lo, &dg->range_hi) > 0)
        NOTE(HS_EMALFORMED); /* an empty range can only be a bug */

    for (size_t i = 0; i < dg->n_entries; i++) {
        const hs_pb_digest_entry *e = dg->entries[i];
        if (e == NULL) {
            NOTE(HS_EMALFORMED);
            continue;
        }
        NOTE(check_ident(&e->name, HS_WIRE_MAX_NAME, false));
        /* A page lists the members in its range and nothing else: an entry
         * outside would be read as "the sender knows this member" by one
         * receiver and ignored by another. */
        if ((has_lo && cmp_bytes(&e->name, &dg->range_lo) < 0) ||
            (has_hi && cmp_bytes(&e->name, &dg->range_hi) > 0))
            NOTE(HS_EMALFORMED);
    }
    return acc;
}

static hs_err check_delta(const hs_pb_delta *d, size_t *n_entries)
{
    hs_err acc = HS_OK;

    if (d == NULL)
        return HS_EMALFORMED;
    /* Checked before the entries are visited, so the total stays bounded
     * even when one delta claims them all. */
    if (d->n_entries > HS_WIRE_MAX_ENTRIES - *n_entries)
        return HS_ETOOBIG;
    *n_entries += d->n_entries;

    NOTE(check_ident(&d->name, HS_WIRE_MAX_NAME, false));
    NOTE(check_ident(&d->addr, HS_WIRE_MAX_ADDR, true));
    if (d->to_version < d->from_version)
        NOTE(HS_EMALFORMED);

    /* Strictly ascending inside (from_version, to_version]: a receiver that
     * applies entries in order keeps a gap-free prefix, and version 0 (the
     * "nothing yet" value of a digest) can never be an entry. */
    uint64_t prev = d->from_version;
    for (size_t i = 0; i < d->n_entries; i++) {
        const hs_pb_entry *e = d->entries[i];
        if (e == NULL) {
            NOTE(HS_EMALFORMED);
            continue;
        }
        NOTE(check_ident(&e->key, HS_WIRE_MAX_KEY, false));
        if (e->value.len > HS_WIRE_MAX_VALUE)
            return HS_ETOOBIG;
        if (e->value.len > 0 && e->value.data == NULL)
            NOTE(HS_EMALFORMED);
        if (e->tombstone && e->value.len > 0)
            NOTE(HS_EMALFORMED);
        if (e->version <= prev || e->version > d->to_version)
            NOTE(HS_EMALFORMED);
        prev = e->version;
    }
    return acc;
}

/* Positions coded as varint gaps (hearsay.proto, Beats): strictly
 * ascending from `first` and below `limit`, one per byte of `low`. */
static hs_err check_positions(const ProtobufCBinaryData *gaps,
                              const ProtobufCBinaryData *low, uint32_t first,
                              uint64_t limit)
{
    if (gaps->len && !gaps->data)
        return HS_EMALFORMED;
    if (low->len && !low->data)
        return HS_EMALFORMED;
    if (gaps->len == 0) /* (and data may be NULL: no arithmetic on it) */
        return low->len == 0 ? HS_OK : HS_EMALFORMED;
    const uint8_t *p = gaps->data, *end = p + gaps->len;
    uint64_t pos = (uint64_t)first; /* next position that may be listed */
    size_t n = 0;
    while (p < end) {
        uint32_t g;
        if (!hs__wire__varint32(&p, end, &g))
            return HS_EMALFORMED;
        pos += g;
        if (pos >= limit)
            return HS_EMALFORMED;
        pos++;
        n++;
    }
    return n == low->len ? HS_OK : HS_EMALFORMED;
}

static hs_err check_view(const hs_pb_view *v, const hs_pb_beats *b)
{
    if (!v)
        return b ? HS_EMALFORMED : HS_OK;
    if (v->count > HS_WIRE_MAX_VIEW)
        return HS_ETOOBIG;
    if (!b)
        return HS_OK;
    if (b->low.len > HS_WIRE_MAX_VIEW || b->dead_low.len > HS_WIRE_MAX_VIEW)
        return HS_ETOOBIG;
    /* An answer's view may leave the count out (it speaks of the asker's
     * positions); the cap bounds positions then. */
    uint64_t count = v->count ? v->count : HS_WIRE_MAX_VIEW;
    uint64_t end = (uint64_t)b->first + b->span;
    if (end > count)
        return HS_EMALFORMED;
    hs_err acc = HS_OK;
    if (b->gaps.len == 0) {
        if (b->low.len > b->span)
            NOTE(HS_EMALFORMED);
    } else {
        NOTE(check_positions(&b->gaps, &b->low, b->first, end));
    }
    NOTE(check_positions(&b->dead, &b->dead_low, 0, count));
    return acc;
}

hs_err hs__wire__validate(const hs_pb_envelope *env, size_t *n_entries)
{
    hs_err acc = HS_OK;
    hs_wire__parts parts;

    *n_entries = 0;
    NOTE(check_ident(&env->cluster, HS_WIRE_MAX_NAME, false));
    if (env->sender == NULL) {
        NOTE(HS_EMALFORMED);
    } else {
        NOTE(check_ident(&env->sender->name, HS_WIRE_MAX_NAME, false));
        NOTE(check_ident(&env->sender->addr, HS_WIRE_MAX_ADDR, true));
    }

    /* A body this version does not know (a newer peer's message type) is
     * malformed here: there is nothing a receiver could do with it. */
    if (hs__wire__body_type(env) == 0)
        NOTE(HS_EMALFORMED);
    hs__wire__body_parts(env, &parts);

    NOTE(check_view(parts.view, parts.beats));
    NOTE(check_digest(parts.digest));
    if (parts.n_deltas > HS_WIRE_MAX_DELTAS)
        return HS_ETOOBIG;
    for (size_t i = 0; i < parts.n_deltas; i++)
        NOTE(check_delta(parts.deltas[i], n_entries));
    return acc;
}
