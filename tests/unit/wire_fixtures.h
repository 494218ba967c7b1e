/*
 * wire_fixtures.h — what the wire tests (test_wire.c: round trips, sizes,
 * encoding, the seed corpus; test_wire_decode.c: what decoding refuses)
 * share: a fixed-seed random generator, an arena for built messages,
 * message comparison, the size accounting contract, encode/decode
 * helpers, sample and random valid messages, and raw protobuf datagrams
 * that hs__wire_encode() would refuse to produce.
 */
#ifndef HS_TEST_WIRE_FIXTURES_H
#define HS_TEST_WIRE_FIXTURES_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hearsay.pb-c.h"
#include "wire/wire.h"

#define CLUSTER "test"
#define BUFSZ 70000 /* above HS_WIRE_MAX_DATAGRAM, for the too-big cases */

typedef struct rng {
    uint64_t s;
} rng;

typedef struct arena {
    char *buf;
    size_t used, cap;
} arena;

typedef struct sample {
    hs_wire_msg msg;
    hs_wire_digest_entry digest[3];
    hs_wire_delta deltas[3];
    hs_wire_entry entries[5];
} sample;

typedef struct raw {
    Hearsay__V2__Envelope env;
    Hearsay__V2__Sender sender;
    Hearsay__V2__Push push;
    Hearsay__V2__Syn syn;
    Hearsay__V2__Digest digest;
    Hearsay__V2__DigestEntry de[3];
    Hearsay__V2__DigestEntry *dep[3];
    Hearsay__V2__MemberDelta delta;
    Hearsay__V2__MemberDelta *deltap[1];
    Hearsay__V2__Entry entry[2];
    Hearsay__V2__Entry *entryp[2];
} raw;

uint64_t rnd(rng *r);
uint64_t below(rng *r, uint64_t n);
bool chance(rng *r, unsigned percent);
void arena_init(arena *a, size_t cap);
void *arena_get(arena *a, size_t n);
char *fill(arena *a, char c, size_t len);
char *rand_name(arena *a, rng *r, size_t len);
char *some_name(arena *a, rng *r, size_t max);
uint64_t some_u64(rng *r);
const char *str(const char *s);
void assert_msg_equal(const hs_wire_msg *a, const hs_wire_msg *b);
size_t accounted_size(const hs_wire_msg *m);
void assert_accounting(const hs_wire_msg *m, size_t encoded);
size_t encode_ok(const hs_wire_msg *m, uint8_t *buf);
hs_err decode_as(const uint8_t *buf, size_t len, const char *cluster);
hs_err decode_err(const uint8_t *buf, size_t len);
void roundtrip(const hs_wire_msg *m);
/* The bytes sample_init() gives its "heartbeat" entry. */
extern const uint8_t hb_value[4];
void sample_init(sample *s, hs_wire_type type, const char *cluster);
void rand_msg(rng *r, arena *a, hs_wire_msg *m, hs_wire_type type,
              const char *cluster, size_t scale);
ProtobufCBinaryData B(const char *s);
ProtobufCBinaryData BN(const void *p, size_t n);
void raw_common(raw *r, const char *cluster);
void raw_push(raw *r, const char *cluster);
void raw_syn(raw *r, const char *cluster);
size_t raw_pack(const Hearsay__V2__Envelope *env, uint8_t *buf, size_t cap);
hs_err raw_decode(const raw *r);
hs_err decode_counts(size_t n_digest, size_t n_deltas, size_t per);

/* Every raw test starts from a datagram that decodes, so a failure of the
 * mutation cannot hide behind a broken baseline. */
#define RAW_PUSH(r)                                                            \
    do {                                                                       \
        raw_push(&(r), CLUSTER);                                               \
        assert_int_equal(raw_decode(&(r)), HS_OK);                             \
    } while (0)
#define RAW_SYN(r)                                                             \
    do {                                                                       \
        raw_syn(&(r), CLUSTER);                                                \
        assert_int_equal(raw_decode(&(r)), HS_OK);                             \
    } while (0)

#endif /* HS_TEST_WIRE_FIXTURES_H */
