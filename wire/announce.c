/*
 * wire/announce.c — the Announcement message: the value of a member's
 * announcement slots (user events and force-leaves), encoded and decoded
 * with strict bounds.
 *
 * An announcement never travels on its own: it is the value of an ordinary
 * Entry under a reserved key, already bounded by the datagram's own rules.
 * Its decoder runs in the core on every slot write it applies, so it judges
 * the inner message as strictly as decode.c judges an Envelope: a bound
 * exceeded is HS_ETOOBIG, anything else wrong is HS_EMALFORMED, and the
 * input is at most HS_WIRE_MAX_ANNOUNCE bytes, so protobuf-c's own memory
 * for it stays a small multiple of that (no budget allocator is needed for
 * 700 bytes). The result is a fixed-size struct: nothing to free.
 */
#include <string.h>

#include "wire/wire_int.h"

typedef Hearsay__V2__Announcement hs_pb_announce;
typedef Hearsay__V2__UserEvent hs_pb_user;
typedef Hearsay__V2__ForceLeave hs_pb_force;

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
    hs_pb_announce *pb =
        hearsay__v2__announcement__unpack(NULL, len, len ? buf : (const uint8_t *)"");
    if (!pb)
        return HS_EMALFORMED; /* not protobuf, or out of memory on 700 B */
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
