/*
 * hostile.c — crafts the datagrams of tests/security/hostile_test.py: what
 * an attacker on the network could send to a hearsay cluster, made with
 * the library's own (private) wire and seal functions so they are exactly
 * right where they are meant to be and wrong only where intended.
 *
 *     hostile KIND CLUSTER KEY|- [NAME GENERATION]
 *
 * prints one datagram as a hex line. KEY is a base64 key to seal with
 * ("-": leave it plaintext), CLUSTER the cluster name it is made for (and
 * sealed for: another cluster's name makes a datagram that does not open).
 *
 *   syn        a valid SYN from a stranger, "mallory", with a digest
 *   leave      a LEAVE claiming to come from member NAME at GENERATION:
 *              a forged graceful leave of a live member
 *   restart    a PUSH from mallory carrying member NAME at GENERATION + 1:
 *              a forged restart that would hijack NAME's identity (its real
 *              heartbeats would then be stale and it would be declared dead)
 *   truncated  a valid SYN cut short before sealing: malformed protobuf
 *              inside a box that authenticates
 *   oversized  a valid SYN of about 3000 bytes: over the 1400-byte limit
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wire/seal.h"
#include "wire/wire.h"

static uint64_t wall_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static int usage(void)
{
    fprintf(stderr, "usage: hostile syn|leave|restart|truncated|oversized "
                    "CLUSTER KEY|- [NAME GENERATION]\n");
    return 2;
}

/* A SYN from mallory with n digest entries. */
static size_t make_syn(const char *cluster, size_t n, uint8_t *buf, size_t cap)
{
    static char names[200][32];
    hs_wire_digest_entry d[200];
    if (n > 200)
        n = 200;
    for (size_t i = 0; i < n; i++) {
        snprintf(names[i], sizeof names[i], "ghost-%03zu", i);
        d[i] = (hs_wire_digest_entry){
            .name = names[i], .generation = 1 + i, .max_version = 1000 + i};
    }
    hs_wire_msg msg = {.type = HS_WIRE_SYN,
                       .cluster = cluster,
                       .sender = {"mallory", 1, "127.0.0.1:9"},
                       .digest = d,
                       .n_digest = n,
                       .range_lo = "",
                       .range_hi = ""};
    size_t len = 0;
    if (hs__wire_encode(&msg, buf, cap, &len) != HS_OK)
        exit(1);
    return len;
}

int main(int argc, char **argv)
{
    if (argc != 4 && argc != 6)
        return usage();
    const char *kind = argv[1], *cluster = argv[2], *key = argv[3];
    const char *name = argc == 6 ? argv[4] : NULL;
    uint64_t gen = argc == 6 ? strtoull(argv[5], NULL, 10) : 0;
    static uint8_t plain[HS_WIRE_MAX_DATAGRAM], out[HS_WIRE_MAX_DATAGRAM + 64];
    size_t len = 0;

    if (strcmp(kind, "syn") == 0) {
        len = make_syn(cluster, 3, plain, sizeof plain);
    } else if (strcmp(kind, "truncated") == 0) {
        len = make_syn(cluster, 20, plain, sizeof plain);
        len = HS_WIRE_HEADER_LEN + (len - HS_WIRE_HEADER_LEN) / 2;
    } else if (strcmp(kind, "oversized") == 0) {
        len = make_syn(cluster, 120, plain, sizeof plain);
    } else if (strcmp(kind, "leave") == 0 && name) {
        hs_wire_msg msg = {.type = HS_WIRE_LEAVE,
                           .cluster = cluster,
                           .sender = {name, gen, ""},
                           .range_lo = "",
                           .range_hi = "",
                           .leave_version = 1u << 20};
        if (hs__wire_encode(&msg, plain, sizeof plain, &len) != HS_OK)
            return 1;
    } else if (strcmp(kind, "restart") == 0 && name) {
        hs_wire_entry e = {.key = "hs.hb",
                           .value = (const uint8_t *)"1",
                           .value_len = 1,
                           .version = 1};
        hs_wire_delta d = {.name = name,
                           .generation = gen + 1,
                           .addr = "127.0.0.1:9",
                           .from_version = 0,
                           .to_version = 1,
                           .reset = true,
                           .entries = &e,
                           .n_entries = 1};
        hs_wire_msg msg = {.type = HS_WIRE_PUSH,
                           .cluster = cluster,
                           .sender = {"mallory", 1, "127.0.0.1:9"},
                           .range_lo = "",
                           .range_hi = "",
                           .deltas = &d,
                           .n_deltas = 1};
        if (hs__wire_encode(&msg, plain, sizeof plain, &len) != HS_OK)
            return 1;
    } else {
        return usage();
    }

    const uint8_t *dgram = plain;
    if (strcmp(key, "-") != 0) {
        hs_keyring *kr = NULL;
        if (hs__keyring_new(&kr) != HS_OK ||
            hs__keyring_add(kr, key) != HS_OK) {
            fprintf(stderr, "hostile: bad key\n");
            return 2;
        }
        size_t olen = 0;
        if (hs__seal(kr, cluster, wall_ms(), plain, len, out, sizeof out,
                     &olen) != HS_OK)
            return 1;
        hs__keyring_free(kr);
        dgram = out;
        len = olen;
    }
    for (size_t i = 0; i < len; i++)
        printf("%02x", dgram[i]);
    printf("\n");
    return 0;
}
