/*
 * wire/decode.c — hs__wire_decode(): bytes from the network to an
 * hs_wire_msg, or a precise reason why not.
 *
 * The order of work is the order of cost. The 4-byte header rejects foreign
 * traffic before anything is allocated; the length bound comes next; only
 * then does protobuf-c parse, and the parsed envelope is judged in full
 * (wire.c) before any of it is copied out.
 *
 * Memory has two hard bounds. While protobuf-c parses, every allocation goes
 * through a budget allocator that refuses to hold more than
 * DECODE_BUDGET(len) bytes at once, whatever the input does (empty
 * sub-messages, merged duplicates, unknown fields). protobuf-c's own usage
 * is an implementation detail of the library; the budget makes the bound
 * ours. The result is then copied into one allocation sized from the
 * validated counts and lengths, so what the caller keeps is proportional to
 * what arrived and is released with a single free().
 */
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire_int.h"

/* Live bytes protobuf-c may hold while parsing a datagram of len bytes.
 * Measured with protobuf-c 1.4 on a 64-bit host, counting the header each
 * block carries here: a valid datagram peaks at about 60x its length (one
 * made of nothing but unknown fields: scan slabs, unknown-field records,
 * a copy of each), 47x when made of minimal deltas, under 30x for ordinary
 * traffic. Floods of empty sub-messages, which can never be valid, reach
 * 110x. 80x sits between the two; for the largest UDP datagram it is 5 MiB.
 * The constant covers the fixed-size top-level structs. test_wire pins both
 * sides (decode_budget_*). */
#define DECODE_BUDGET_FACTOR 80
#define DECODE_BUDGET(len) ((len)*DECODE_BUDGET_FACTOR + 16384)

typedef struct budget {
    size_t live;  /* bytes held now, headers included */
    size_t limit; /* live never exceeds this */
    bool over;    /* a request was refused for the budget */
    bool oom;     /* malloc itself failed */
} budget;

/* Each block carries its charged size in front, so free can un-charge it. */
typedef union block_head {
    size_t cost;
    max_align_t align_;
} block_head;

static void *budget_alloc(void *data, size_t size)
{
    budget *b = data;
    if (size > b->limit || sizeof(block_head) > b->limit - size ||
        size + sizeof(block_head) > b->limit - b->live) {
        b->over = true;
        return NULL;
    }
    size_t cost = size + sizeof(block_head);
    block_head *h = malloc(cost);
    if (h == NULL) {
        b->oom = true;
        return NULL;
    }
    h->cost = cost;
    b->live += cost;
    return h + 1;
}

static void budget_free(void *data, void *ptr)
{
    budget *b = data;
    if (ptr == NULL)
        return;
    block_head *h = (block_head *)ptr - 1;
    b->live -= h->cost;
    free(h);
}

/* size += n, false on overflow. Counts and lengths here are bounded by the
 * datagram and the caps, so overflow cannot happen; the check keeps that
 * true if a bound ever moves. */
static bool add_size(size_t *size, size_t n)
{
    if (n > SIZE_MAX - *size)
        return false;
    *size += n;
    return true;
}

static bool add_array(size_t *size, size_t n, size_t elem)
{
    if (elem != 0 && n > SIZE_MAX / elem)
        return false;
    /* Keep every array aligned for the structs it holds. */
    size_t pad = (alignof(max_align_t) - *size % alignof(max_align_t)) %
                 alignof(max_align_t);
    return add_size(size, pad) && add_size(size, n * elem);
}

/* Bytes the copied-out message needs: structs first (aligned), then every
 * string with its NUL and every value. */
static bool block_size(const hs_pb_envelope *env, size_t n_entries, size_t *out)
{
    hs_wire__parts parts;
    size_t n_digest, size = sizeof(hs_wire_msg);
    bool ok = true;

    hs__wire__body_parts(env, &parts);
    hs_pb_delta *const *deltas = parts.deltas;
    size_t n_deltas = parts.n_deltas;
    const hs_pb_digest *digest = parts.digest;
    n_digest = digest ? digest->n_entries : 0;
    size_t n_low = parts.beats ? parts.beats->low.len : 0;
    size_t n_dead = parts.beats ? parts.beats->dead_low.len : 0;

    ok = ok && add_array(&size, n_digest, sizeof(hs_wire_digest_entry));
    ok = ok && add_array(&size, n_deltas, sizeof(hs_wire_delta));
    ok = ok && add_array(&size, n_entries, sizeof(hs_wire_entry));
    ok = ok && add_array(&size, n_low + n_dead, sizeof(uint32_t));
    ok = ok && add_size(&size, n_low + n_dead);
    ok = ok && add_size(&size, env->cluster.len + 1);
    ok = ok && add_size(&size, env->sender->name.len + 1);
    ok = ok && add_size(&size, env->sender->addr.len + 1);
    ok = ok && add_size(&size, (digest ? digest->range_lo.len : 0) + 1);
    ok = ok && add_size(&size, (digest ? digest->range_hi.len : 0) + 1);
    for (size_t i = 0; ok && i < n_digest; i++)
        ok = add_size(&size, digest->entries[i]->name.len + 1);
    for (size_t i = 0; ok && i < n_deltas; i++) {
        const hs_pb_delta *d = deltas[i];
        ok = add_size(&size, d->name.len + 1) &&
             add_size(&size, d->addr.len + 1);
        for (size_t j = 0; ok && j < d->n_entries; j++)
            ok = add_size(&size, d->entries[j]->key.len + 1) &&
                 add_size(&size, d->entries[j]->value.len);
    }
    *out = size;
    return ok;
}

/* Hands out the string area of the block, front to back. */
typedef struct strings {
    char *next;
} strings;

static const char *copy_str(strings *s, const ProtobufCBinaryData *b)
{
    char *p = s->next;
    if (b->len)
        memcpy(p, b->data, b->len);
    p[b->len] = '\0';
    s->next += b->len + 1;
    return p;
}

static const uint8_t *copy_value(strings *s, const ProtobufCBinaryData *b)
{
    if (b->len == 0)
        return NULL;
    uint8_t *p = (uint8_t *)s->next;
    memcpy(p, b->data, b->len);
    s->next += b->len;
    return p;
}

static char *align_up(char *base, char *p)
{
    size_t off = (size_t)(p - base);
    off += (alignof(max_align_t) - off % alignof(max_align_t)) %
           alignof(max_align_t);
    return base + off;
}

/* Copies a validated envelope into one block laid out as block_size()
 * computed. */
/* Positions from varint gaps (validated already), starting at `first`. */
static void read_positions(const ProtobufCBinaryData *gaps, uint32_t first,
                           uint32_t *pos)
{
    const uint8_t *p = gaps->data, *end = p + gaps->len;
    uint32_t next = first, g = 0;
    for (size_t i = 0; p < end; i++) {
        hs__wire__varint32(&p, end, &g);
        pos[i] = next + g;
        next = pos[i] + 1;
    }
}

static void copy_beats(const hs_pb_view *v, const hs_pb_beats *b,
                       hs_wire_msg *msg, uint32_t *pos, uint8_t *low)
{
    msg->has_view = true;
    msg->view.members = v->members;
    msg->view.state = v->state;
    msg->view.count = v->count;
    if (!b)
        return;
    hs_wire_beats *w = &msg->beats;
    w->first = b->first;
    w->span = b->span;
    w->n = b->low.len;
    w->n_dead = b->dead_low.len;
    if (w->n) {
        if (b->gaps.len)
            read_positions(&b->gaps, b->first, pos);
        else
            for (size_t i = 0; i < w->n; i++)
                pos[i] = b->first + (uint32_t)i;
        memcpy(low, b->low.data, w->n);
        w->pos = pos;
        w->low = low;
    }
    if (w->n_dead) {
        read_positions(&b->dead, 0, pos + w->n);
        memcpy(low + w->n, b->dead_low.data, w->n_dead);
        w->dead_pos = pos + w->n;
        w->dead_low = low + w->n;
    }
}

static hs_wire_msg *copy_out(const hs_pb_envelope *env, size_t n_entries)
{
    hs_wire__parts parts;
    size_t size;

    if (!block_size(env, n_entries, &size))
        return NULL;
    char *base = malloc(size);
    if (base == NULL)
        return NULL;
    hs__wire__body_parts(env, &parts);
    hs_pb_delta *const *pdeltas = parts.deltas;
    size_t n_deltas = parts.n_deltas;
    const hs_pb_digest *pdigest = parts.digest;
    size_t n_digest = pdigest ? pdigest->n_entries : 0;
    size_t n_low = parts.beats ? parts.beats->low.len : 0;
    size_t n_dead = parts.beats ? parts.beats->dead_low.len : 0;

    hs_wire_msg *msg = (hs_wire_msg *)base;
    memset(msg, 0, sizeof *msg);
    char *p = base + sizeof *msg;
    p = align_up(base, p);
    hs_wire_digest_entry *digest = (hs_wire_digest_entry *)p;
    p = align_up(base, p + n_digest * sizeof *digest);
    hs_wire_delta *deltas = (hs_wire_delta *)p;
    p = align_up(base, p + n_deltas * sizeof *deltas);
    hs_wire_entry *entries = (hs_wire_entry *)p;
    p = align_up(base, p + n_entries * sizeof *entries);
    uint32_t *pos = (uint32_t *)p;
    uint8_t *low = (uint8_t *)(pos + n_low + n_dead);
    strings s = {(char *)(low + n_low + n_dead)};

    static const ProtobufCBinaryData empty = {0, NULL};
    msg->type = hs__wire__body_type(env);
    msg->cluster = copy_str(&s, &env->cluster);
    msg->sender.name = copy_str(&s, &env->sender->name);
    msg->sender.generation = env->sender->generation;
    msg->sender.addr = copy_str(&s, &env->sender->addr);
    msg->range_lo = copy_str(&s, pdigest ? &pdigest->range_lo : &empty);
    msg->range_hi = copy_str(&s, pdigest ? &pdigest->range_hi : &empty);
    if (msg->type == HS_WIRE_SYN)
        msg->pull_only = env->syn->pull_only;
    if (msg->type == HS_WIRE_SYNACK)
        msg->answered = env->synack->answered;
    if (msg->type == HS_WIRE_LEAVE)
        msg->leave_version = env->leave->max_version;
    if (parts.view)
        copy_beats(parts.view, parts.beats, msg, pos, low);

    msg->digest = n_digest ? digest : NULL;
    msg->n_digest = n_digest;
    for (size_t i = 0; i < n_digest; i++) {
        const hs_pb_digest_entry *e = pdigest->entries[i];
        digest[i] = (hs_wire_digest_entry){
            .name = copy_str(&s, &e->name),
            .generation = e->generation,
            .max_version = e->version,
            .heartbeat = e->heartbeat,
            .dead = e->dead != 0,
            .gc_version = e->gc_version,
            .left = e->left != 0,
        };
    }

    msg->deltas = n_deltas ? deltas : NULL;
    msg->n_deltas = n_deltas;
    size_t k = 0;
    for (size_t i = 0; i < n_deltas; i++) {
        const hs_pb_delta *d = pdeltas[i];
        hs_wire_entry *first = entries + k;
        for (size_t j = 0; j < d->n_entries; j++, k++) {
            const hs_pb_entry *e = d->entries[j];
            entries[k] = (hs_wire_entry){
                .key = copy_str(&s, &e->key),
                .value = copy_value(&s, &e->value),
                .value_len = e->value.len,
                .version = e->version,
                .tombstone = e->tombstone != 0,
            };
        }
        deltas[i] = (hs_wire_delta){
            .name = copy_str(&s, &d->name),
            .generation = d->generation,
            .addr = copy_str(&s, &d->addr),
            .from_version = d->from_version,
            .to_version = d->to_version,
            .gc_version = d->gc_version,
            .left_version = d->left_version,
            .reset = d->reset != 0,
            .dead = d->dead != 0,
            .heartbeat = d->heartbeat,
            .held_version = d->held_version,
            .entries = d->n_entries ? first : NULL,
            .n_entries = d->n_entries,
        };
    }
    return msg;
}

static bool same_cluster(const ProtobufCBinaryData *got, const char *want)
{
    size_t n = strlen(want);
    return got->len == n && memcmp(got->data, want, n) == 0;
}

hs_err hs__wire_decode(const uint8_t *buf, size_t len, const char *cluster,
                       size_t max_datagram, hs_wire_msg **out)
{
    bool sealed;
    hs_err err;

    if (out == NULL || cluster == NULL || (buf == NULL && len > 0))
        return HS_EINVAL;
    *out = NULL;

    err = hs__wire_check_header(buf, len, &sealed);
    if (err != HS_OK)
        return err;
    if (sealed)
        return HS_ESEALED;
    /* No receiver may be configured past the largest UDP payload: that is
     * what keeps DECODE_BUDGET and the copied-out block small. */
    if (max_datagram > HS_WIRE_MAX_DATAGRAM)
        max_datagram = HS_WIRE_MAX_DATAGRAM;
    if (len > max_datagram)
        return HS_ETOOBIG;

    budget b = {.limit = DECODE_BUDGET(len)};
    ProtobufCAllocator alloc = {budget_alloc, budget_free, &b};
    hs_pb_envelope *env = hearsay__v2__envelope__unpack(
        &alloc, len - HS_WIRE_HEADER_LEN, buf + HS_WIRE_HEADER_LEN);
    if (env == NULL)
        return b.over ? HS_ETOOBIG : b.oom ? HS_ENOMEM : HS_EMALFORMED;

    size_t n_entries;
    err = hs__wire__validate(env, &n_entries);
    if (err == HS_OK && !same_cluster(&env->cluster, cluster))
        err = HS_ECLUSTER;
    if (err == HS_OK) {
        *out = copy_out(env, n_entries);
        if (*out == NULL)
            err = HS_ENOMEM;
    }
    hearsay__v2__envelope__free_unpacked(env, &alloc);
    return err;
}

void hs__wire_msg_free(hs_wire_msg *msg)
{
    free(msg);
}
