/*
 * wire/announce.c — the Announcement message: the value of a member's
 * announcement slots (user events, force-leaves, queries), encoded and decoded
 * with strict bounds.
 *
 * An announcement never travels on its own: it is the value of an ordinary
 * Entry under a reserved key, already bounded by the datagram's own rules.
 * Its decoder runs in the core on every slot write it applies, so it judges
 * the inner message as strictly as decode.c judges an Envelope: a bound
 * exceeded is HS_ETOOBIG, anything else wrong is HS_EMALFORMED, and the
 * input is at most HS_WIRE_MAX_ANNOUNCE bytes, so protobuf-c's own memory
 * for it stays a small multiple of that (no budget allocator is needed for
 * a kilobyte). The result is a fixed-size struct: nothing to free.
 */
#include <string.h>

#include "wire/wire_int.h"

typedef Hearsay__V2__Announcement hs_pb_announce;
typedef Hearsay__V2__UserEvent hs_pb_user;
typedef Hearsay__V2__ForceLeave hs_pb_force;
typedef Hearsay__V2__Query hs_pb_query;

/* 1..HS_WIRE_MAX_NAME bytes of 0x21..0x7e, length given (no NUL to find). */
static hs_err check_name(const ProtobufCBinaryData *b)
{
    if (b->len > HS_WIRE_MAX_NAME)
        return HS_ETOOBIG;
    if (b->len == 0)
        return HS_EMALFORMED;
    for (size_t i = 0; i < b->len; i++)
        if (b->data[i] < 0x21 || b->data[i] > 0x7e)
            return HS_EMALFORMED;
    return HS_OK;
}

/* A query's tag filter "KEY=VALUE": KEY a key (no '='), VALUE 0..128
 * bytes of 0x20..0x7e. */
static hs_err check_tag(const ProtobufCBinaryData *b)
{
    if (b->len > HS_WIRE_MAX_QTAG)
        return HS_ETOOBIG;
    const uint8_t *eq = b->len ? memchr(b->data, '=', b->len) : NULL;
    if (!eq || eq == b->data || (size_t)(eq - b->data) > HS_WIRE_MAX_KEY ||
        b->len - (size_t)(eq - b->data) - 1 > HS_WIRE_MAX_NAME)
        return HS_EMALFORMED;
    for (const uint8_t *p = b->data; p < eq; p++)
        if (*p < 0x21 || *p > 0x7e)
            return HS_EMALFORMED;
    for (const uint8_t *p = eq + 1; p < b->data + b->len; p++)
        if (*p < 0x20 || *p > 0x7e)
            return HS_EMALFORMED;
    return HS_OK;
}

static hs_err judge_query(const hs_pb_query *q)
{
    hs_err err;
    if (!q)
        return HS_EMALFORMED;
    if (q->payload.len > HS_WIRE_MAX_PAYLOAD ||
        q->addr.len > HS_WIRE_MAX_ADDR || q->n_nodes > HS_WIRE_MAX_QNODES ||
        q->n_tags > HS_WIRE_MAX_QTAGS)
        return HS_ETOOBIG;
    if ((err = check_name(&q->name)) != HS_OK ||
        (err = check_name(&q->addr)) != HS_OK)
        return err;
    for (size_t i = 0; i < q->n_nodes; i++)
        if ((err = check_name(&q->nodes[i])) != HS_OK)
            return err;
    for (size_t i = 0; i < q->n_tags; i++)
        if ((err = check_tag(&q->tags[i])) != HS_OK)
            return err;
    if (q->id == 0 || q->timeout_ms == 0 ||
        q->timeout_ms > HS_WIRE_MAX_QTIMEOUT)
        return HS_EMALFORMED;
    return HS_OK;
}

static hs_err judge(const hs_pb_announce *pb)
{
    hs_err err = HS_OK;
    switch (pb->body_case) {
    case HEARSAY__V2__ANNOUNCEMENT__BODY_USER:
        if (!pb->user)
            return HS_EMALFORMED;
        if (pb->user->payload.len > HS_WIRE_MAX_PAYLOAD)
            return HS_ETOOBIG;
        if ((err = check_name(&pb->user->name)) != HS_OK)
            return err;
        if (pb->user->ltime == 0)
            return HS_EMALFORMED;
        break;
    case HEARSAY__V2__ANNOUNCEMENT__BODY_FORCE_LEAVE:
        if (!pb->force_leave)
            return HS_EMALFORMED;
        if ((err = check_name(&pb->force_leave->name)) != HS_OK)
            return err;
        if (pb->force_leave->generation == 0)
            return HS_EMALFORMED;
        break;
    case HEARSAY__V2__ANNOUNCEMENT__BODY_QUERY:
        if ((err = judge_query(pb->query)) != HS_OK)
            return err;
        break;
    default:
        return HS_EMALFORMED; /* no body, or one this version does not know */
    }
    return pb->seq == 0 ? HS_EMALFORMED : HS_OK;
}

hs_err hs__wire_announce_decode(const uint8_t *buf, size_t len,
                                hs_wire_announce *out)
{
    memset(out, 0, sizeof *out);
    if (len > HS_WIRE_MAX_ANNOUNCE)
        return HS_ETOOBIG;
    if (!buf && len)
        return HS_EMALFORMED;
    hs_pb_announce *pb = hearsay__v2__announcement__unpack(
        NULL, len, len ? buf : (const uint8_t *)"");
    if (!pb)
        return HS_EMALFORMED; /* not protobuf, or out of memory on 1 KiB */
    hs_err err = judge(pb);
    if (err == HS_OK) {
        out->seq = pb->seq;
        const ProtobufCBinaryData *name;
        if (pb->body_case == HEARSAY__V2__ANNOUNCEMENT__BODY_USER) {
            out->kind = HS_WIRE_AN_USER;
            name = &pb->user->name;
            out->ltime = pb->user->ltime;
            out->payload_len = pb->user->payload.len;
            if (out->payload_len)
                memcpy(out->payload, pb->user->payload.data, out->payload_len);
        } else if (pb->body_case == HEARSAY__V2__ANNOUNCEMENT__BODY_QUERY) {
            const hs_pb_query *q = pb->query;
            out->kind = HS_WIRE_AN_QUERY;
            name = &q->name;
            out->payload_len = q->payload.len;
            if (out->payload_len)
                memcpy(out->payload, q->payload.data, out->payload_len);
            out->query_id = q->id;
            out->timeout_ms = q->timeout_ms;
            memcpy(out->addr, q->addr.data, q->addr.len);
            out->n_nodes = (uint32_t)q->n_nodes;
            for (size_t i = 0; i < q->n_nodes; i++)
                memcpy(out->nodes[i], q->nodes[i].data, q->nodes[i].len);
            out->n_tags = (uint32_t)q->n_tags;
            for (size_t i = 0; i < q->n_tags; i++)
                memcpy(out->tags[i], q->tags[i].data, q->tags[i].len);
        } else {
            out->kind = HS_WIRE_AN_FORCE_LEAVE;
            name = &pb->force_leave->name;
            out->generation = pb->force_leave->generation;
            out->heartbeat = pb->force_leave->heartbeat;
        }
        memcpy(out->name, name->data, name->len);
        out->name[name->len] = '\0';
    }
    hearsay__v2__announcement__free_unpacked(pb, NULL);
    if (err != HS_OK)
        memset(out, 0, sizeof *out);
    return err;
}

hs_err hs__wire_announce_encode(const hs_wire_announce *a, uint8_t *buf,
                                size_t cap, size_t *len)
{
    *len = 0;
    hs_pb_announce pb = HEARSAY__V2__ANNOUNCEMENT__INIT;
    hs_pb_user user = HEARSAY__V2__USER_EVENT__INIT;
    hs_pb_force force = HEARSAY__V2__FORCE_LEAVE__INIT;
    hs_pb_query query = HEARSAY__V2__QUERY__INIT;
    ProtobufCBinaryData nodes[HS_WIRE_MAX_QNODES], tags[HS_WIRE_MAX_QTAGS];
    size_t nlen = strnlen(a->name, sizeof a->name);
    if (nlen == sizeof a->name)
        return HS_EINVAL;
    ProtobufCBinaryData name = {nlen, (uint8_t *)a->name};
    pb.seq = a->seq;
    if (a->kind == HS_WIRE_AN_USER) {
        if (a->payload_len > HS_WIRE_MAX_PAYLOAD)
            return HS_EINVAL;
        user.name = name;
        user.payload.len = a->payload_len;
        user.payload.data = (uint8_t *)a->payload;
        user.ltime = a->ltime;
        pb.body_case = HEARSAY__V2__ANNOUNCEMENT__BODY_USER;
        pb.user = &user;
    } else if (a->kind == HS_WIRE_AN_FORCE_LEAVE) {
        force.name = name;
        force.generation = a->generation;
        force.heartbeat = a->heartbeat;
        pb.body_case = HEARSAY__V2__ANNOUNCEMENT__BODY_FORCE_LEAVE;
        pb.force_leave = &force;
    } else if (a->kind == HS_WIRE_AN_QUERY) {
        if (a->payload_len > HS_WIRE_MAX_PAYLOAD ||
            a->n_nodes > HS_WIRE_MAX_QNODES || a->n_tags > HS_WIRE_MAX_QTAGS)
            return HS_EINVAL;
        query.name = name;
        query.payload.len = a->payload_len;
        query.payload.data = (uint8_t *)a->payload;
        query.id = a->query_id;
        query.addr.len = strnlen(a->addr, sizeof a->addr);
        query.addr.data = (uint8_t *)a->addr;
        query.timeout_ms = a->timeout_ms;
        for (uint32_t i = 0; i < a->n_nodes; i++)
            nodes[i] =
                (ProtobufCBinaryData){strnlen(a->nodes[i], sizeof a->nodes[i]),
                                      (uint8_t *)a->nodes[i]};
        for (uint32_t i = 0; i < a->n_tags; i++)
            tags[i] = (ProtobufCBinaryData){
                strnlen(a->tags[i], sizeof a->tags[i]), (uint8_t *)a->tags[i]};
        query.n_nodes = a->n_nodes;
        query.nodes = a->n_nodes ? nodes : NULL;
        query.n_tags = a->n_tags;
        query.tags = a->n_tags ? tags : NULL;
        pb.body_case = HEARSAY__V2__ANNOUNCEMENT__BODY_QUERY;
        pb.query = &query;
    } else {
        return HS_EINVAL;
    }
    /* The sender refuses what a receiver would: a bug shows up here, not
     * as rejections all over the cluster. */
    if (judge(&pb) != HS_OK)
        return HS_EINVAL;
    size_t need = hearsay__v2__announcement__get_packed_size(&pb);
    if (need > HS_WIRE_MAX_ANNOUNCE)
        return HS_EINVAL;
    if (need > cap)
        return HS_ENOSPC;
    *len = hearsay__v2__announcement__pack(&pb, buf);
    return HS_OK;
}
