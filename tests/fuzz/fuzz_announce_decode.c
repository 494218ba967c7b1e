/*
 * fuzz_announce_decode.c — libFuzzer target for hs__wire_announce_decode(),
 * which the core runs on every announcement slot value it applies (user
 * events, force-leaves and queries, wire/announce.c): bytes any member can
 * write.
 *
 * Beyond "does not crash or leak", on every input:
 *   - only HS_OK, HS_ETOOBIG and HS_EMALFORMED come back, and a refusal
 *     leaves the output all zero;
 *   - a decoded announcement keeps its bounds (name 1..128 printable bytes,
 *     payload <= 512, seq >= 1, ltime or generation >= 1 by kind, a query's
 *     id, timeout, address and filters), is one
 *     hs__wire_announce_encode() accepts, no longer than the input, and
 *     decodes again to the same announcement.
 * Any violation aborts, which libFuzzer reports as a crash. The seed corpus
 * is corpus/fuzz_announce_decode/ (a user event, a force-leave).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "fuzz_announce_decode: %s:%d: %s\n", __FILE__,     \
                    __LINE__, #cond);                                          \
            abort();                                                           \
        }                                                                      \
    } while (0)

static bool all_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

static bool same(const hs_wire_announce *x, const hs_wire_announce *y)
{
    return x->kind == y->kind && x->seq == y->seq &&
           strcmp(x->name, y->name) == 0 && x->ltime == y->ltime &&
           x->payload_len == y->payload_len &&
           memcmp(x->payload, y->payload, x->payload_len) == 0 &&
           x->generation == y->generation && x->heartbeat == y->heartbeat &&
           x->query_id == y->query_id && x->timeout_ms == y->timeout_ms &&
           strcmp(x->addr, y->addr) == 0 && x->n_nodes == y->n_nodes &&
           x->n_tags == y->n_tags &&
           memcmp(x->nodes, y->nodes, sizeof x->nodes) == 0 &&
           memcmp(x->tags, y->tags, sizeof x->tags) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static hs_wire_announce a, b;
    hs_err err = hs__wire_announce_decode(data, size, &a);
    CHECK(err == HS_OK || err == HS_ETOOBIG || err == HS_EMALFORMED);
    if (err != HS_OK) {
        CHECK(all_zero(&a, sizeof a));
        return 0;
    }
    CHECK(size <= HS_WIRE_MAX_ANNOUNCE);
    CHECK(a.seq >= 1);
    CHECK(hs__wire_valid_name(a.name, HS_WIRE_MAX_NAME));
    CHECK(a.payload_len <= HS_WIRE_MAX_PAYLOAD);
    if (a.kind == HS_WIRE_AN_USER)
        CHECK(a.ltime >= 1 && a.generation == 0 && a.heartbeat == 0);
    else if (a.kind == HS_WIRE_AN_QUERY)
        CHECK(a.query_id >= 1 && a.timeout_ms >= 1 &&
              a.timeout_ms <= HS_WIRE_MAX_QTIMEOUT &&
              hs__wire_valid_name(a.addr, HS_WIRE_MAX_ADDR) &&
              a.n_nodes <= HS_WIRE_MAX_QNODES &&
              a.n_tags <= HS_WIRE_MAX_QTAGS && a.ltime == 0 &&
              a.generation == 0);
    else
        CHECK(a.kind == HS_WIRE_AN_FORCE_LEAVE && a.generation >= 1 &&
              a.ltime == 0 && a.payload_len == 0);
    uint8_t buf[HS_WIRE_MAX_ANNOUNCE];
    size_t len = 0;
    CHECK(hs__wire_announce_encode(&a, buf, sizeof buf, &len) == HS_OK);
    CHECK(len <= size);
    CHECK(hs__wire_announce_decode(buf, len, &b) == HS_OK);
    CHECK(same(&a, &b));
    return 0;
}
