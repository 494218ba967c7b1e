/*
 * fuzz_core_receive.c — a real hs_core fed a sequence of datagrams from the
 * fuzzer, as the runtime would after opening them: what a key holder, or
 * anyone on a plaintext cluster, can make a node do.
 *
 * Input: records of [ctl: 1 byte][len: 2 bytes, little endian][len bytes].
 * ctl bits 2..7 advance the clock by that many 50 ms steps first (so timers
 * run: suspicion, death, reaping, tombstone collection, leaves); bits 0..1
 * pick the source address (0..2), or 3 for a local operation on the core's
 * own state (set, delete, leave) chosen by the record's bytes. A short
 * final record is used as far as it goes.
 *
 * Oracle, after every record, beyond ASan/UBSan/LSan's own:
 *   - the member count never exceeds max_members (self included);
 *   - every datagram the core wants to send fits max_datagram and decodes
 *     (with our cluster name) — the core never emits what peers refuse;
 *   - no more datagrams or events come out than the queue bounds allow.
 * Memory stays bounded by max_members x max_keys x the wire's size limits
 * (fuzz.sh also caps RSS and single allocations).
 *
 * The seed corpus (corpus/fuzz_core_receive/) is conversations between
 * real cores, written by tests/fuzz/gen_core_corpus.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "membership/core.h"
#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_MEMBERS 32
#define MAX_KEYS 8
#define MAX_PENDING 64
#define MAX_EVENTS 256

static const char *const sources[3] = {"10.0.0.2:7946", "10.0.0.3:7946",
                                       "[fd00::4]:7946"};

static void drain(hs_core *c)
{
    hs_datagram d;
    int n = 0;
    while (hs__core_next_datagram(c, &d)) {
        if (++n > MAX_PENDING || d.len > HS_WIRE_DEFAULT_DATAGRAM)
            abort();
        hs_wire_msg *msg = NULL;
        if (hs__wire_decode(d.buf, d.len, "fuzz", HS_WIRE_DEFAULT_DATAGRAM,
                            &msg) != HS_OK)
            abort(); /* the core sent something peers would refuse */
        hs__wire_msg_free(msg);
    }
    hs_core_event ev;
    n = 0;
    while (hs__core_next_event(c, &ev))
        if (++n > MAX_EVENTS)
            abort();
    if (hs__core_member_count(c) > MAX_MEMBERS)
        abort();
}

static void local_op(hs_core *c, const uint8_t *p, size_t len, uint64_t now)
{
    if (len == 0)
        return;
    char key[8];
    snprintf(key, sizeof key, "k%u", (unsigned)(p[0] & 15));
    switch (p[0] >> 6) {
    case 0:
    case 1:
        hs__core_set(c, key, p + 1, len - 1 > 300 ? 300 : len - 1, now);
        break;
    case 2:
        hs__core_del(c, key, now);
        break;
    default:
        if (p[0] == 0xff)
            hs__core_leave(c, now);
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hs_core_config cfg;
    hs__core_config_init(&cfg);
    cfg.cluster = "fuzz";
    cfg.name = "self";
    cfg.addr = "10.0.0.1:7946";
    cfg.generation = 1000;
    cfg.seed = 42;
    cfg.gossip_interval_ms = 100;
    cfg.heartbeat_interval_ms = 100;
    cfg.dead_after_ms = 500;
    cfg.reap_dead_after_ms = 3000;
    cfg.reap_left_after_ms = 2000;
    cfg.tombstone_gc_ms = 2500;
    cfg.max_members = MAX_MEMBERS;
    cfg.max_keys = MAX_KEYS;
    cfg.max_pending = MAX_PENDING;
    cfg.max_events = MAX_EVENTS;
    cfg.graveyard = 16;
    uint64_t now = 1000000;
    hs_core *c = NULL;
    if (hs__core_new(&cfg, now, &c) != HS_OK)
        abort();
    hs__core_add_seed(c, sources[0]);
    size_t pos = 0;
    while (pos + 3 <= size) {
        uint8_t ctl = data[pos];
        size_t len = (size_t)data[pos + 1] | (size_t)data[pos + 2] << 8;
        pos += 3;
        if (len > size - pos)
            len = size - pos;
        const uint8_t *p = data + pos;
        pos += len;
        now += (uint64_t)(ctl >> 2) * 50;
        hs__core_tick(c, now);
        drain(c);
        if ((ctl & 3) == 3)
            local_op(c, p, len, now);
        else
            hs__core_receive(c, now, sources[ctl & 3], p, len);
        drain(c);
    }
    /* Let the timers run out on what the input built. */
    for (int i = 0; i < 8; i++) {
        now += 1000;
        hs__core_tick(c, now);
        drain(c);
    }
    hs__core_free(c);
    return 0;
}
