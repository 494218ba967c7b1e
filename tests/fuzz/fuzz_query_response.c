/*
 * fuzz_query_response.c — libFuzzer target for the query answer datagram
 * (wire/query.c): hs__wire_is_response(), which the core runs on every
 * datagram it is handed, and hs__wire_response_decode(), on each one that
 * says it is an answer. Bytes anyone who can reach the port can send (or,
 * with a keyring, any member).
 *
 * Beyond "does not crash or leak", on every input:
 *   - decode gives only the documented errors, and a refusal leaves the
 *     output all zero;
 *   - a decoded answer keeps its bounds (names printable, id and
 *     generations >= 1, payload <= 512 and empty on an ack), encodes
 *     again, and decodes to the same answer.
 * Any violation aborts, which libFuzzer reports as a crash. The seed corpus
 * is corpus/fuzz_query_response/ (an ack, a response).
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
            fprintf(stderr, "fuzz_query_response: %s:%d: %s\n", __FILE__,      \
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static hs_wire_response r, s;
    (void)hs__wire_is_response(data, size);
    hs_err err = hs__wire_response_decode(data, size, "default",
                                          HS_WIRE_MAX_DATAGRAM, &r);
    CHECK(err == HS_OK || err == HS_ETRUNCATED || err == HS_EMAGIC ||
          err == HS_EVERSION || err == HS_ESEALED || err == HS_ETOOBIG ||
          err == HS_EMALFORMED || err == HS_ECLUSTER);
    if (err != HS_OK) {
        CHECK(all_zero(&r, sizeof r));
        return 0;
    }
    CHECK(hs__wire_is_response(data, size));
    CHECK(strcmp(r.cluster, "default") == 0);
    CHECK(hs__wire_valid_name(r.from, HS_WIRE_MAX_NAME));
    CHECK(r.id >= 1 && r.generation >= 1 && r.from_generation >= 1);
    CHECK(r.payload_len <= HS_WIRE_MAX_PAYLOAD && (!r.ack || !r.payload_len));
    static uint8_t buf[HS_WIRE_MAX_DATAGRAM];
    size_t len = 0;
    CHECK(hs__wire_response_encode(&r, "", buf, sizeof buf, &len) == HS_OK);
    CHECK(hs__wire_is_response(buf, len));
    CHECK(hs__wire_response_decode(buf, len, "default", HS_WIRE_MAX_DATAGRAM,
                                   &s) == HS_OK);
    CHECK(memcmp(&r, &s, sizeof r) == 0);
    return 0;
}
