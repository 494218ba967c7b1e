/*
 * wire/wire_int.h — what the files of wire/ share and nothing else sees:
 * the generated protobuf-c types and the one validator that both decode and
 * encode run.
 *
 * Decode and encode apply the same rules by construction: encode builds the
 * protobuf-c structs from an hs_wire_msg and hands them to the very function
 * that judges a received datagram, so "encode accepts" implies "decode
 * accepts" without two lists of rules to keep in step.
 */
#ifndef HS_WIRE_INT_H
#define HS_WIRE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hearsay.pb-c.h"
#include "wire/wire.h"

typedef Hearsay__V2__Envelope hs_pb_envelope;
typedef Hearsay__V2__Sender hs_pb_sender;
typedef Hearsay__V2__Digest hs_pb_digest;
typedef Hearsay__V2__DigestEntry hs_pb_digest_entry;
typedef Hearsay__V2__MemberDelta hs_pb_delta;
typedef Hearsay__V2__Entry hs_pb_entry;
typedef Hearsay__V2__Syn hs_pb_syn;
typedef Hearsay__V2__SynAck hs_pb_synack;
typedef Hearsay__V2__Ack hs_pb_ack;
typedef Hearsay__V2__Push hs_pb_push;
typedef Hearsay__V2__Leave hs_pb_leave;
typedef Hearsay__V2__View hs_pb_view;
typedef Hearsay__V2__Beats hs_pb_beats;

/* Checks every rule of the format except the cluster match (the caller
 * knows which cluster it expects). Returns HS_OK, HS_ETOOBIG (a count or
 * size over a bound; reported in preference to anything else) or
 * HS_EMALFORMED. On HS_OK, *n_entries is the number of key/value entries
 * summed over all deltas. */
hs_err hs__wire__validate(const hs_pb_envelope *env, size_t *n_entries);

/* The message type carried by env's body, or 0 when there is none. */
hs_wire_type hs__wire__body_type(const hs_pb_envelope *env);

/* The parts an envelope's body carries (NULL/0 when its type carries
 * none). */
typedef struct hs_wire__parts {
    hs_pb_delta *const *deltas;
    size_t n_deltas;
    const hs_pb_digest *digest;
    const hs_pb_view *view;
    const hs_pb_beats *beats;
} hs_wire__parts;

void hs__wire__body_parts(const hs_pb_envelope *env, hs_wire__parts *out);

/* Reads the varint at *p (before end) into *v and advances *p. False when
 * it runs past end or past 5 bytes (positions fit in 32 bits). */
bool hs__wire__varint32(const uint8_t **p, const uint8_t *end, uint32_t *v);

#endif /* HS_WIRE_INT_H */
