/*
 * wire/query.c — query responses: the one datagram that is not gossip. A
 * member that answers a query (membership/query.c) sends an Envelope whose
 * body is a QueryResponse straight to the query's origin, sealed like any
 * datagram by the runtime.
 *
 * Why its own decoder. hs__wire_decode() copies a gossip message into one
 * block of plain structs sized from its deltas and digest; a response has
 * none of those, only a few scalars and a payload of at most 512 bytes, so
 * it decodes into a fixed-size struct instead and the gossip decoder stays
 * as it is (it refuses this body as it refuses any it does not know). The
 * rules are as strict: a bound exceeded is HS_ETOOBIG, anything else wrong
 * HS_EMALFORMED, and encode runs the same judge before a byte leaves.
 */
#include <string.h>

#include "wire/wire_int.h"

typedef Hearsay__V2__QueryResponse hs_pb_response;

/* The Envelope field that holds a QueryResponse (hearsay.proto). */
#define RESPONSE_FIELD 12

static bool varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return true;
        }
    }
    return false;
}

bool hs__wire_is_response(const uint8_t *buf, size_t len)
{
    if (hs__wire_check_header(buf, len, NULL) != HS_OK)
        return false;
    const uint8_t *p = buf + HS_WIRE_HEADER_LEN, *end = buf + len;
    while (p < end) {
        uint64_t tag, n;
        if (!varint(&p, end, &tag))
            return false;
        if ((tag >> 3) == RESPONSE_FIELD)
            return (tag & 7) == 2;
        switch (tag & 7) {
        case 0:
            if (!varint(&p, end, &n))
                return false;
            break;
        case 1:
            if (end - p < 8)
                return false;
            p += 8;
            break;
        case 2:
            if (!varint(&p, end, &n) || n > (uint64_t)(end - p))
                return false;
            p += n;
            break;
        case 5:
            if (end - p < 4)
                return false;
            p += 4;
            break;
        default:
            return false;
        }
    }
    return false;
}

/* 1..max bytes of 0x21..0x7e. */
static hs_err check_name(const ProtobufCBinaryData *b, size_t max)
{
    if (b->len > max)
        return HS_ETOOBIG;
    if (b->len == 0 || !b->data)
        return HS_EMALFORMED;
    for (size_t i = 0; i < b->len; i++)
        if (b->data[i] < 0x21 || b->data[i] > 0x7e)
            return HS_EMALFORMED;
    return HS_OK;
}

static hs_err judge(const hs_pb_envelope *env)
{
    hs_err err;
    if (env->body_case != HEARSAY__V2__ENVELOPE__BODY_RESPONSE ||
        !env->response || !env->sender)
        return HS_EMALFORMED;
    const hs_pb_response *r = env->response;
    if (r->payload.len > HS_WIRE_MAX_PAYLOAD)
        return HS_ETOOBIG;
    if ((err = check_name(&env->cluster, HS_WIRE_MAX_NAME)) != HS_OK ||
        (err = check_name(&env->sender->name, HS_WIRE_MAX_NAME)) != HS_OK)
        return err;
    if (env->sender->addr.len > HS_WIRE_MAX_ADDR)
        return HS_ETOOBIG;
    if (r->id == 0 || r->generation == 0 || env->sender->generation == 0 ||
        (r->ack && r->payload.len))
        return HS_EMALFORMED;
    return HS_OK;
}

hs_err hs__wire_response_decode(const uint8_t *buf, size_t len,
                                const char *cluster, size_t max_datagram,
                                hs_wire_response *out)
{
    memset(out, 0, sizeof *out);
    bool sealed = false;
    hs_err err = hs__wire_check_header(buf, len, &sealed);
    if (err != HS_OK)
        return err;
    if (sealed)
        return HS_ESEALED;
    if (len > max_datagram)
        return HS_ETOOBIG;
    hs_pb_envelope *env = hearsay__v2__envelope__unpack(
        NULL, len - HS_WIRE_HEADER_LEN, buf + HS_WIRE_HEADER_LEN);
    if (!env)
        return HS_EMALFORMED;
    err = judge(env);
    if (err == HS_OK &&
        (strlen(cluster) != env->cluster.len ||
         memcmp(cluster, env->cluster.data, env->cluster.len) != 0))
        err = HS_ECLUSTER;
    if (err == HS_OK) {
        const hs_pb_response *r = env->response;
        memcpy(out->cluster, env->cluster.data, env->cluster.len);
        memcpy(out->from, env->sender->name.data, env->sender->name.len);
        out->from_generation = env->sender->generation;
        out->id = r->id;
        out->generation = r->generation;
        out->ack = r->ack;
        out->payload_len = r->payload.len;
        if (r->payload.len)
            memcpy(out->payload, r->payload.data, r->payload.len);
    }
    hearsay__v2__envelope__free_unpacked(env, NULL);
    if (err != HS_OK)
        memset(out, 0, sizeof *out);
    return err;
}

hs_err hs__wire_response_encode(const hs_wire_response *r, const char *addr,
                                uint8_t *buf, size_t cap, size_t *len)
{
    *len = 0;
    hs_pb_envelope env = HEARSAY__V2__ENVELOPE__INIT;
    hs_pb_sender sender = HEARSAY__V2__SENDER__INIT;
    hs_pb_response pr = HEARSAY__V2__QUERY_RESPONSE__INIT;
    if (r->payload_len > HS_WIRE_MAX_PAYLOAD)
        return HS_EINVAL;
    env.cluster.len = strnlen(r->cluster, sizeof r->cluster);
    env.cluster.data = (uint8_t *)r->cluster;
    sender.name.len = strnlen(r->from, sizeof r->from);
    sender.name.data = (uint8_t *)r->from;
    sender.generation = r->from_generation;
    sender.addr.len = addr ? strlen(addr) : 0;
    sender.addr.data = (uint8_t *)addr;
    env.sender = &sender;
    pr.id = r->id;
    pr.generation = r->generation;
    pr.ack = r->ack;
    pr.payload.len = r->payload_len;
    pr.payload.data = (uint8_t *)r->payload;
    env.body_case = HEARSAY__V2__ENVELOPE__BODY_RESPONSE;
    env.response = &pr;
    if (judge(&env) != HS_OK)
        return HS_EINVAL;
    size_t need =
        hearsay__v2__envelope__get_packed_size(&env) + HS_WIRE_HEADER_LEN;
    if (need > cap)
        return HS_ENOSPC;
    buf[0] = HS_WIRE_MAGIC0;
    buf[1] = HS_WIRE_MAGIC1;
    buf[2] = HS_WIRE_PROTO_VERSION;
    buf[3] = 0;
    hearsay__v2__envelope__pack(&env, buf + HS_WIRE_HEADER_LEN);
    *len = need;
    return HS_OK;
}
