/*
 * test_wire.c — the datagram format (wire/): round trips of every message
 * type, every documented rejection, the size accounting a packer relies
 * on, and robustness against truncated, mutated and random bytes.
 *
 * Invalid datagrams that hs__wire_encode() would refuse to produce are
 * crafted by packing the generated protobuf-c structs directly ("raw"
 * below). Randomised tests use a fixed-seed xorshift generator, so a
 * failure reproduces.
 *
 * `test_wire --gen-corpus DIR` writes the seed corpus of the
 * fuzz_wire_decode fuzzer (tests/fuzz/corpus/fuzz_wire_decode): valid and
 * near-valid datagrams of every type, for cluster "fuzz".
 */
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

/* ---- deterministic randomness ------------------------------------------ */

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rnd(rng *r)
{
    /* xorshift64*: plenty for test data, and the same everywhere. */
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545F4914F6CDD1DULL;
}

static uint64_t below(rng *r, uint64_t n)
{
    return n ? rnd(r) % n : 0;
}

static bool chance(rng *r, unsigned percent)
{
    return below(r, 100) < percent;
}

/* ---- memory for built messages ----------------------------------------- */

typedef struct arena {
    char *buf;
    size_t used, cap;
} arena;

static void arena_init(arena *a, size_t cap)
{
    a->buf = malloc(cap);
    assert_non_null(a->buf);
    a->used = 0;
    a->cap = cap;
}

static void *arena_get(arena *a, size_t n)
{
    size_t at = (a->used + 15) & ~(size_t)15;
    assert_true(at + n <= a->cap);
    a->used = at + n;
    return a->buf + at;
}

static char *fill(arena *a, char c, size_t len)
{
    char *s = arena_get(a, len + 1);
    memset(s, c, len);
    s[len] = '\0';
    return s;
}

static char *rand_name(arena *a, rng *r, size_t len)
{
    char *s = arena_get(a, len + 1);
    for (size_t i = 0; i < len; i++)
        s[i] = (char)(0x21 + below(r, 0x7e - 0x21 + 1));
    s[len] = '\0';
    return s;
}

/* Short names most of the time, the longest allowed now and then. */
static char *some_name(arena *a, rng *r, size_t max)
{
    size_t len = chance(r, 5) ? max : 1 + below(r, max < 24 ? max : 24);
    return rand_name(a, r, len);
}

static uint64_t some_u64(rng *r)
{
    switch (below(r, 4)) {
    case 0:
        return 0;
    case 1:
        return below(r, 200);
    case 2:
        return rnd(r) >> below(r, 64);
    default:
        return UINT64_MAX - below(r, 3);
    }
}

/* ---- comparing messages ------------------------------------------------ */

static const char *str(const char *s)
{
    return s ? s : "";
}

static void assert_msg_equal(const hs_wire_msg *a, const hs_wire_msg *b)
{
    assert_int_equal(a->type, b->type);
    assert_string_equal(str(a->cluster), str(b->cluster));
    assert_string_equal(str(a->sender.name), str(b->sender.name));
    assert_true(a->sender.generation == b->sender.generation);
    assert_string_equal(str(a->sender.addr), str(b->sender.addr));
    assert_string_equal(str(a->range_lo), str(b->range_lo));
    assert_string_equal(str(a->range_hi), str(b->range_hi));
    assert_int_equal(a->pull_only, b->pull_only);
    assert_true(a->leave_version == b->leave_version);

    assert_int_equal(a->n_digest, b->n_digest);
    for (size_t i = 0; i < a->n_digest; i++) {
        const hs_wire_digest_entry *x = &a->digest[i], *y = &b->digest[i];
        assert_string_equal(x->name, y->name);
        assert_true(x->generation == y->generation);
        assert_true(x->max_version == y->max_version);
        assert_true(x->gc_version == y->gc_version);
        assert_int_equal(x->left, y->left);
    }
    assert_int_equal(a->n_deltas, b->n_deltas);
    for (size_t i = 0; i < a->n_deltas; i++) {
        const hs_wire_delta *x = &a->deltas[i], *y = &b->deltas[i];
        assert_string_equal(x->name, y->name);
        assert_true(x->generation == y->generation);
        assert_string_equal(str(x->addr), str(y->addr));
        assert_true(x->from_version == y->from_version);
        assert_true(x->to_version == y->to_version);
        assert_true(x->gc_version == y->gc_version);
        assert_true(x->left_version == y->left_version);
        assert_int_equal(x->reset, y->reset);
        assert_int_equal(x->n_entries, y->n_entries);
        for (size_t j = 0; j < x->n_entries; j++) {
            const hs_wire_entry *p = &x->entries[j], *q = &y->entries[j];
            assert_string_equal(p->key, q->key);
            assert_true(p->version == q->version);
            assert_int_equal(p->tombstone, q->tombstone);
            assert_int_equal(p->value_len, q->value_len);
            if (p->value_len)
                assert_memory_equal(p->value, q->value, p->value_len);
        }
    }
}

/* ---- the size accounting contract -------------------------------------- */

/* The sum wire.h promises is an upper bound of the encoded size. */
static size_t accounted_size(const hs_wire_msg *m)
{
    hs_wire_msg base = *m;
    base.digest = NULL;
    base.n_digest = 0;
    base.deltas = NULL;
    base.n_deltas = 0;
    size_t sum = hs__wire_base_size(&base);
    for (size_t i = 0; i < m->n_digest; i++)
        sum += hs__wire_digest_entry_size(&m->digest[i]);
    for (size_t i = 0; i < m->n_deltas; i++) {
        hs_wire_delta head = m->deltas[i];
        head.entries = NULL;
        head.n_entries = 0;
        sum += hs__wire_delta_size(&head);
        for (size_t j = 0; j < m->deltas[i].n_entries; j++)
            sum += hs__wire_entry_size(&m->deltas[i].entries[j]);
    }
    return sum;
}

/* Bound and tightness: each sub-message whose length prefix the accounting
 * takes at 3 bytes (body, each delta) may over-count by 2; the digest's
 * tag and prefix (4) are counted even when an empty digest is left out. */
static void assert_accounting(const hs_wire_msg *m, size_t encoded)
{
    size_t sum = accounted_size(m);
    assert_true(encoded <= sum);
    assert_true(sum - encoded <= 2 + 4 + 2 * m->n_deltas);
}

/* ---- encode/decode helpers --------------------------------------------- */

static size_t encode_ok(const hs_wire_msg *m, uint8_t *buf)
{
    size_t n = 0;
    assert_int_equal(hs__wire_encode(m, buf, BUFSZ, &n), HS_OK);
    assert_int_equal(n, hs__wire_encoded_size(m));
    assert_int_equal(buf[0], 'H');
    assert_int_equal(buf[1], 'S');
    assert_int_equal(buf[2], HS_WIRE_PROTO_VERSION);
    assert_int_equal(buf[3], 0);
    return n;
}

static hs_err decode_as(const uint8_t *buf, size_t len, const char *cluster)
{
    hs_wire_msg *m = (hs_wire_msg *)&m; /* must be overwritten */
    hs_err err = hs__wire_decode(buf, len, cluster, HS_WIRE_MAX_DATAGRAM, &m);
    if (err == HS_OK) {
        assert_non_null(m);
        hs__wire_msg_free(m);
    } else {
        assert_null(m);
    }
    return err;
}

static hs_err decode_err(const uint8_t *buf, size_t len)
{
    return decode_as(buf, len, CLUSTER);
}

static void roundtrip(const hs_wire_msg *m)
{
    uint8_t *buf = malloc(BUFSZ);
    assert_non_null(buf);
    size_t n = encode_ok(m, buf);
    assert_accounting(m, n);

    hs_wire_msg *got = NULL;
    assert_int_equal(
        hs__wire_decode(buf, n, m->cluster, HS_WIRE_MAX_DATAGRAM, &got), HS_OK);
    assert_msg_equal(m, got);
    /* Decoded strings are never NULL, even when empty. */
    assert_non_null(got->sender.addr);
    assert_non_null(got->range_lo);
    assert_non_null(got->range_hi);
    for (size_t i = 0; i < got->n_deltas; i++)
        assert_non_null(got->deltas[i].addr);

    /* And the decoded message encodes to the same bytes. */
    uint8_t *again = malloc(BUFSZ);
    assert_non_null(again);
    assert_int_equal(encode_ok(got, again), n);
    assert_memory_equal(buf, again, n);
    hs__wire_msg_free(got);
    free(again);
    free(buf);
}

/* ---- sample messages with every field set ------------------------------ */

typedef struct sample {
    hs_wire_msg msg;
    hs_wire_digest_entry digest[3];
    hs_wire_delta deltas[3];
    hs_wire_entry entries[5];
} sample;

static const uint8_t hb_value[] = {0x00, 0x01, 0xff, 0x7f};

static void sample_init(sample *s, hs_wire_type type, const char *cluster)
{
    memset(s, 0, sizeof *s);
    hs_wire_msg *m = &s->msg;
    m->type = type;
    m->cluster = cluster;
    m->sender =
        (hs_wire_sender){"node-1.example", 1700000000123ULL, "10.0.0.1:7946"};

    s->digest[0] = (hs_wire_digest_entry){"alpha", 1, 10, 3, false, 42, false};
    s->digest[1] = (hs_wire_digest_entry){"beta", 2, 0, 0, true, 0, true};
    s->digest[2] = (hs_wire_digest_entry){"gamma", UINT64_MAX, UINT64_MAX,
                                          UINT64_MAX, false, UINT64_MAX, true};

    s->entries[0] =
        (hs_wire_entry){"heartbeat", hb_value, sizeof hb_value, 4, false};
    s->entries[1] = (hs_wire_entry){"role", NULL, 0, 7, true};
    s->entries[2] =
        (hs_wire_entry){"zone", (const uint8_t *)"eu-1", 4, 9, false};
    s->entries[3] = (hs_wire_entry){"x", NULL, 0, 12, false};
    s->entries[4] =
        (hs_wire_entry){"y", (const uint8_t *)"1", 1, UINT64_MAX, false};
    s->deltas[0] = (hs_wire_delta){.name = "alpha",
                                   .generation = 5,
                                   .addr = "[fe80::1%eth0]:7946",
                                   .from_version = 3,
                                   .to_version = 9,
                                   .gc_version = 2,
                                   .entries = &s->entries[0],
                                   .n_entries = 3};
    s->deltas[1] = (hs_wire_delta){
        .name = "beta", .generation = 9, .addr = "", .reset = true};
    s->deltas[2] = (hs_wire_delta){.name = "gamma",
                                   .generation = 1,
                                   .addr = "gamma:1",
                                   .from_version = 10,
                                   .to_version = UINT64_MAX,
                                   .gc_version = 11,
                                   .left_version = 12,
                                   .entries = &s->entries[3],
                                   .n_entries = 2};

    switch (type) {
    case HS_WIRE_SYN:
        m->digest = s->digest;
        m->n_digest = 3;
        m->range_lo = "alpha";
        m->range_hi = "gamma";
        m->pull_only = true;
        break;
    case HS_WIRE_SYNACK:
        m->deltas = s->deltas;
        m->n_deltas = 3;
        m->digest = s->digest;
        m->n_digest = 3;
        m->range_lo = "";
        m->range_hi = "m";
        break;
    case HS_WIRE_ACK:
        m->deltas = s->deltas;
        m->n_deltas = 2;
        break;
    case HS_WIRE_PUSH:
        m->deltas = s->deltas;
        m->n_deltas = 3;
        break;
    case HS_WIRE_LEAVE:
        m->leave_version = 42;
        break;
    }
}

static void roundtrip_syn(void **state)
{
    (void)state;
    sample s;
    sample_init(&s, HS_WIRE_SYN, CLUSTER);
    roundtrip(&s.msg);
    s.msg.pull_only = false;
    s.msg.range_lo = s.msg.range_hi = "";
    roundtrip(&s.msg);
}

static void roundtrip_synack(void **state)
{
    (void)state;
    sample s;
    sample_init(&s, HS_WIRE_SYNACK, CLUSTER);
    roundtrip(&s.msg);
    /* Pull mode: deltas only. */
    s.msg.n_digest = 0;
    s.msg.digest = NULL;
    s.msg.range_lo = s.msg.range_hi = NULL;
    roundtrip(&s.msg);
}

static void roundtrip_ack_push_leave(void **state)
{
    (void)state;
    sample s;
    sample_init(&s, HS_WIRE_ACK, CLUSTER);
    roundtrip(&s.msg);
    sample_init(&s, HS_WIRE_PUSH, CLUSTER);
    roundtrip(&s.msg);
    sample_init(&s, HS_WIRE_LEAVE, CLUSTER);
    roundtrip(&s.msg);
}

/* Everything empty or zero that may be: still a valid message. */
static void roundtrip_minimal(void **state)
{
    (void)state;
    for (int t = HS_WIRE_SYN; t <= HS_WIRE_LEAVE; t++) {
        hs_wire_msg m = {.type = t, .cluster = "c", .sender = {"n", 0, ""}};
        roundtrip(&m);
        m.sender.addr = NULL; /* encode takes NULL as "" */
        roundtrip(&m);
    }
    hs_wire_delta d = {.name = "m", .addr = NULL};
    hs_wire_msg m = {.type = HS_WIRE_PUSH,
                     .cluster = "c",
                     .sender = {"n", 0, ""},
                     .deltas = &d,
                     .n_deltas = 1};
    roundtrip(&m);
}

/* The largest of every field: names, address, key and value at their
 * bounds, values holding every byte. */
static void roundtrip_max_sizes(void **state)
{
    (void)state;
    arena a;
    arena_init(&a, 1 << 20);
    uint8_t value[HS_WIRE_MAX_VALUE];
    for (size_t i = 0; i < sizeof value; i++)
        value[i] = (uint8_t)i;
    hs_wire_entry e[2] = {
        {fill(&a, 'k', HS_WIRE_MAX_KEY), value, sizeof value, 1, false},
        {fill(&a, '~', HS_WIRE_MAX_KEY), NULL, 0, 2, true},
    };
    hs_wire_delta d = {.name = fill(&a, 'd', HS_WIRE_MAX_NAME),
                       .generation = UINT64_MAX,
                       .addr = fill(&a, ':', HS_WIRE_MAX_ADDR),
                       .to_version = 2,
                       .left_version = UINT64_MAX,
                       .gc_version = UINT64_MAX,
                       .entries = e,
                       .n_entries = 2};
    hs_wire_digest_entry de = {fill(&a, 'm', HS_WIRE_MAX_NAME), UINT64_MAX,
                               UINT64_MAX, UINT64_MAX, true, UINT64_MAX, true};
    hs_wire_msg m = {.type = HS_WIRE_SYNACK,
                     .cluster = fill(&a, 'c', HS_WIRE_MAX_NAME),
                     .sender = {fill(&a, '!', HS_WIRE_MAX_NAME), UINT64_MAX,
                                fill(&a, 'a', HS_WIRE_MAX_ADDR)},
                     .digest = &de,
                     .n_digest = 1,
                     .range_lo = fill(&a, 'm', HS_WIRE_MAX_NAME),
                     .range_hi = fill(&a, 'm', HS_WIRE_MAX_NAME),
                     .deltas = &d,
                     .n_deltas = 1};
    roundtrip(&m);
    free(a.buf);
}

/* ---- random valid messages ---------------------------------------------- */

/* A random valid message of `type`; `scale` bounds the item counts. */
static void rand_msg(rng *r, arena *a, hs_wire_msg *m, hs_wire_type type,
                     const char *cluster, size_t scale)
{
    memset(m, 0, sizeof *m);
    m->type = type;
    m->cluster = cluster;
    m->sender.name = some_name(a, r, HS_WIRE_MAX_NAME);
    m->sender.generation = some_u64(r);
    m->sender.addr = rand_name(a, r, below(r, HS_WIRE_MAX_ADDR + 1));

    if (type == HS_WIRE_SYN || type == HS_WIRE_SYNACK) {
        size_t n = below(r, scale + 1);
        hs_wire_digest_entry *d = arena_get(a, (n + 1) * sizeof *d);
        const char *lo = NULL, *hi = NULL;
        for (size_t i = 0; i < n; i++) {
            d[i] = (hs_wire_digest_entry){some_name(a, r, HS_WIRE_MAX_NAME),
                                          some_u64(r), some_u64(r), some_u64(r),
                                          chance(r, 20), some_u64(r),
                                          chance(r, 20)};
            if (!lo || strcmp(d[i].name, lo) < 0)
                lo = d[i].name;
            if (!hi || strcmp(d[i].name, hi) > 0)
                hi = d[i].name;
        }
        if (n == 0) {
            lo = some_name(a, r, HS_WIRE_MAX_NAME);
            hi = some_name(a, r, HS_WIRE_MAX_NAME);
            if (strcmp(lo, hi) > 0) {
                const char *t = lo;
                lo = hi;
                hi = t;
            }
        }
        m->digest = d;
        m->n_digest = n;
        m->range_lo = chance(r, 50) ? lo : "";
        m->range_hi = chance(r, 50) ? hi : "";
        m->pull_only = type == HS_WIRE_SYN && chance(r, 50);
    }

    if (type == HS_WIRE_SYNACK || type == HS_WIRE_ACK || type == HS_WIRE_PUSH) {
        size_t n = below(r, scale + 1), total = 0;
        hs_wire_delta *d = arena_get(a, (n + 1) * sizeof *d);
        for (size_t i = 0; i < n; i++) {
            size_t ne = below(r, 2 * scale + 1);
            if (ne > HS_WIRE_MAX_ENTRIES - total)
                ne = HS_WIRE_MAX_ENTRIES - total;
            total += ne;
            hs_wire_entry *e = arena_get(a, (ne + 1) * sizeof *e);
            uint64_t v = chance(r, 50) ? below(r, 1000) : rnd(r) >> 2;
            uint64_t from = v;
            for (size_t j = 0; j < ne; j++) {
                v += 1 + (chance(r, 70) ? 0 : below(r, 1000));
                bool tomb = chance(r, 15);
                size_t vl = tomb           ? 0
                            : chance(r, 5) ? HS_WIRE_MAX_VALUE
                                           : below(r, 40);
                uint8_t *val = vl ? arena_get(a, vl) : NULL;
                for (size_t k = 0; k < vl; k++)
                    val[k] = (uint8_t)rnd(r);
                e[j] = (hs_wire_entry){some_name(a, r, HS_WIRE_MAX_KEY), val,
                                       vl, v, tomb};
            }
            d[i] = (hs_wire_delta){
                .name = some_name(a, r, HS_WIRE_MAX_NAME),
                .generation = some_u64(r),
                .addr = rand_name(a, r, below(r, HS_WIRE_MAX_ADDR + 1)),
                .from_version = from,
                .to_version = v + (chance(r, 30) ? below(r, 100) : 0),
                .gc_version = some_u64(r),
                .left_version = chance(r, 10) ? some_u64(r) : 0,
                .reset = chance(r, 10),
                .entries = ne ? e : NULL,
                .n_entries = ne};
        }
        m->deltas = d;
        m->n_deltas = n;
    }
    if (type == HS_WIRE_LEAVE)
        m->leave_version = some_u64(r);
}

static void roundtrip_random(void **state)
{
    (void)state;
    rng r = {0x9e3779b97f4a7c15ULL};
    arena a;
    arena_init(&a, 8 << 20);
    for (int i = 0; i < 1500; i++) {
        hs_wire_msg m;
        a.used = 0;
        rand_msg(&r, &a, &m, (hs_wire_type)(1 + i % 5), CLUSTER, 1 + i % 9);
        if (hs__wire_encoded_size(&m) > HS_WIRE_MAX_DATAGRAM)
            continue;
        roundtrip(&m);
    }
    free(a.buf);
}

/* ---- size accounting ---------------------------------------------------- */

static void encoded_size_is_exact(void **state)
{
    (void)state;
    rng r = {42};
    arena a;
    arena_init(&a, 8 << 20);
    uint8_t *buf = malloc(BUFSZ);
    assert_non_null(buf);
    for (int i = 0; i < 3000; i++) {
        hs_wire_msg m;
        a.used = 0;
        rand_msg(&r, &a, &m, (hs_wire_type)(1 + i % 5), CLUSTER, i % 12);
        size_t want = hs__wire_encoded_size(&m);
        if (want > HS_WIRE_MAX_DATAGRAM)
            continue;
        size_t n = encode_ok(&m, buf); /* asserts n == want */
        assert_int_equal(n, want);
        assert_accounting(&m, n);
    }
    free(buf);
    free(a.buf);
}

/* What a greedy packer does: add items while the accounted sum stays within
 * its budget. The result must always encode into a buffer of that budget —
 * including budgets near 64 KiB, where length prefixes reach 3 bytes. */
static void greedy_packing_never_overflows(void **state)
{
    (void)state;
    rng r = {7};
    arena a;
    arena_init(&a, 64 << 20);
    uint8_t *buf = malloc(BUFSZ);
    assert_non_null(buf);
    int near_full = 0;

    for (int round = 0; round < 400; round++) {
        size_t budget =
            round % 4 == 0 ? HS_WIRE_MAX_DATAGRAM - below(&r, 64)
            : round % 4 == 1
                ? HS_WIRE_DEFAULT_DATAGRAM
                : HS_WIRE_MIN_DATAGRAM +
                      below(&r, HS_WIRE_MAX_DATAGRAM - HS_WIRE_MIN_DATAGRAM);
        hs_wire_type type = (hs_wire_type)(1 + below(&r, 4));
        hs_wire_msg pool, m;
        a.used = 0;
        /* A large pool of candidate items to pack from. */
        rand_msg(&r, &a, &pool, type, CLUSTER, 300);
        m = pool;
        m.n_digest = 0;
        m.n_deltas = 0;
        size_t sum = hs__wire_base_size(&m);
        assert_true(sum <= budget);

        for (size_t i = 0; i < pool.n_digest; i++) {
            size_t add = hs__wire_digest_entry_size(&pool.digest[i]);
            if (sum + add > budget)
                break;
            sum += add;
            m.n_digest++;
        }
        /* The range must still cover the packed entries; widen it. */
        m.range_lo = m.range_hi = "";

        hs_wire_delta *deltas =
            arena_get(&a, (pool.n_deltas + 1) * sizeof *deltas);
        m.deltas = deltas;
        for (size_t i = 0; i < pool.n_deltas; i++) {
            hs_wire_delta d = pool.deltas[i];
            d.n_entries = 0;
            size_t add = hs__wire_delta_size(&d);
            if (sum + add > budget)
                break;
            sum += add;
            for (size_t j = 0; j < pool.deltas[i].n_entries; j++) {
                size_t e = hs__wire_entry_size(&pool.deltas[i].entries[j]);
                if (sum + e > budget)
                    break;
                sum += e;
                d.n_entries++;
            }
            /* A truncated delta ends at its last included entry. */
            if (d.n_entries < pool.deltas[i].n_entries)
                d.to_version = d.n_entries ? d.entries[d.n_entries - 1].version
                                           : d.from_version;
            deltas[m.n_deltas++] = d;
        }

        size_t n = 0;
        assert_int_equal(hs__wire_encode(&m, buf, budget, &n), HS_OK);
        assert_true(n <= sum);
        assert_accounting(&m, n);
        if (n > 60000)
            near_full++;
    }
    /* The property was exercised where it is tight. */
    assert_true(near_full > 20);
    free(buf);
    free(a.buf);
}

/* ---- header ------------------------------------------------------------- */

static void header_checks(void **state)
{
    (void)state;
    bool sealed = true;
    uint8_t h[4] = {'H', 'S', HS_WIRE_PROTO_VERSION, 0};

    for (size_t n = 0; n < 4; n++)
        assert_int_equal(hs__wire_check_header(h, n, &sealed), HS_ETRUNCATED);
    assert_int_equal(hs__wire_check_header(NULL, 4, &sealed), HS_ETRUNCATED);
    assert_int_equal(hs__wire_check_header(h, 4, &sealed), HS_OK);
    assert_false(sealed);
    h[3] = HS_WIRE_FLAG_SEALED;
    assert_int_equal(hs__wire_check_header(h, 4, &sealed), HS_OK);
    assert_true(sealed);
    h[3] = 0x02; /* a flag version 1 does not know */
    assert_int_equal(hs__wire_check_header(h, 4, &sealed), HS_EVERSION);
    h[3] = 0;
    h[2] = HS_WIRE_PROTO_VERSION + 1;
    assert_int_equal(hs__wire_check_header(h, 4, &sealed), HS_EVERSION);
    h[2] = 0;
    assert_int_equal(hs__wire_check_header(h, 4, &sealed), HS_EVERSION);
    h[2] = HS_WIRE_PROTO_VERSION;
    h[0] = 'h';
    assert_int_equal(hs__wire_check_header(h, 4, &sealed), HS_EMAGIC);
    h[0] = 'H';
    h[1] = 'T';
    assert_int_equal(hs__wire_check_header(h, 4, &sealed), HS_EMAGIC);
    h[1] = 'S';
    assert_int_equal(hs__wire_check_header(h, 4, NULL), HS_OK);
}

/* The header's verdict comes first, then the sealed flag, then the length:
 * the cheapest checks reject first and nothing is parsed needlessly. */
static void decode_rejects_by_header(void **state)
{
    (void)state;
    sample s;
    uint8_t *buf = malloc(BUFSZ);
    assert_non_null(buf);
    sample_init(&s, HS_WIRE_PUSH, CLUSTER);
    size_t n = encode_ok(&s.msg, buf);
    assert_int_equal(decode_err(buf, n), HS_OK);

    buf[0] = 'X';
    assert_int_equal(decode_err(buf, n), HS_EMAGIC);
    buf[0] = 'H';
    buf[2] = 1; /* a protocol v1 datagram */
    assert_int_equal(decode_err(buf, n), HS_EVERSION);
    buf[2] = 3;
    assert_int_equal(decode_err(buf, n), HS_EVERSION);
    buf[2] = HS_WIRE_PROTO_VERSION;
    buf[3] = HS_WIRE_FLAG_SEALED;
    assert_int_equal(decode_err(buf, n), HS_ESEALED);
    buf[3] = 0x80;
    assert_int_equal(decode_err(buf, n), HS_EVERSION);
    buf[3] = 0;
    assert_int_equal(decode_err(buf, 3), HS_ETRUNCATED);
    assert_int_equal(decode_err(buf, 0), HS_ETRUNCATED);
    assert_int_equal(decode_err(NULL, 0), HS_ETRUNCATED);

    /* Longer than the receiver's maximum. */
    hs_wire_msg *m = NULL;
    assert_int_equal(hs__wire_decode(buf, n, CLUSTER, n - 1, &m), HS_ETOOBIG);
    assert_null(m);
    assert_int_equal(hs__wire_decode(buf, n, CLUSTER, n, &m), HS_OK);
    hs__wire_msg_free(m);
    /* A sealed datagram says so whatever its length. */
    buf[3] = HS_WIRE_FLAG_SEALED;
    assert_int_equal(hs__wire_decode(buf, n, CLUSTER, n - 1, &m), HS_ESEALED);
    buf[3] = 0;

    /* No configuration lifts the bound past the largest UDP payload. */
    memset(buf + n, 0, BUFSZ - n);
    assert_int_equal(
        hs__wire_decode(buf, HS_WIRE_MAX_DATAGRAM + 1, CLUSTER, BUFSZ, &m),
        HS_ETOOBIG);
    assert_null(m);

    /* Arguments. */
    assert_int_equal(hs__wire_decode(buf, n, CLUSTER, n, NULL), HS_EINVAL);
    assert_int_equal(hs__wire_decode(buf, n, NULL, n, &m), HS_EINVAL);
    assert_int_equal(hs__wire_decode(NULL, 5, CLUSTER, n, &m), HS_EINVAL);
    free(buf);
}

/* ---- raw protobuf: datagrams encode would refuse ------------------------ */

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

static ProtobufCBinaryData B(const char *s)
{
    return (ProtobufCBinaryData){strlen(s), (uint8_t *)s};
}

static ProtobufCBinaryData BN(const void *p, size_t n)
{
    return (ProtobufCBinaryData){n, (uint8_t *)p};
}

static void raw_common(raw *r, const char *cluster)
{
    memset(r, 0, sizeof *r);
    hearsay__v2__envelope__init(&r->env);
    hearsay__v2__sender__init(&r->sender);
    r->env.cluster = B(cluster);
    r->env.sender = &r->sender;
    r->sender.name = B("n1");
    r->sender.generation = 1;
    r->sender.addr = B("127.0.0.1:7946");
}

/* PUSH of one delta "m1" (0, 2] with entries v1 k1=v, v2 k2 tombstone. */
static void raw_push(raw *r, const char *cluster)
{
    raw_common(r, cluster);
    hearsay__v2__push__init(&r->push);
    hearsay__v2__member_delta__init(&r->delta);
    for (int i = 0; i < 2; i++) {
        hearsay__v2__entry__init(&r->entry[i]);
        r->entryp[i] = &r->entry[i];
    }
    r->entry[0].version = 1;
    r->entry[0].key = B("k1");
    r->entry[0].value = B("v");
    r->entry[1].version = 2;
    r->entry[1].key = B("k2");
    r->entry[1].tombstone = true;
    r->delta.name = B("m1");
    r->delta.generation = 2;
    r->delta.to_version = 2;
    r->delta.n_entries = 2;
    r->delta.entries = r->entryp;
    r->deltap[0] = &r->delta;
    r->push.n_deltas = 1;
    r->push.deltas = r->deltap;
    r->env.body_case = HEARSAY__V2__ENVELOPE__BODY_PUSH;
    r->env.push = &r->push;
}

/* SYN with digest b, c, d over range [b, d]. */
static void raw_syn(raw *r, const char *cluster)
{
    static const char *names[3] = {"b", "c", "d"};
    raw_common(r, cluster);
    hearsay__v2__syn__init(&r->syn);
    hearsay__v2__digest__init(&r->digest);
    for (int i = 0; i < 3; i++) {
        hearsay__v2__digest_entry__init(&r->de[i]);
        r->de[i].name = B(names[i]);
        r->de[i].version = (uint64_t)i + 1;
        r->dep[i] = &r->de[i];
    }
    r->digest.n_entries = 3;
    r->digest.entries = r->dep;
    r->digest.range_lo = B("b");
    r->digest.range_hi = B("d");
    r->syn.digest = &r->digest;
    r->env.body_case = HEARSAY__V2__ENVELOPE__BODY_SYN;
    r->env.syn = &r->syn;
}

static size_t raw_pack(const Hearsay__V2__Envelope *env, uint8_t *buf,
                       size_t cap)
{
    size_t n = hearsay__v2__envelope__get_packed_size(env);
    assert_true(n + HS_WIRE_HEADER_LEN <= cap);
    buf[0] = 'H';
    buf[1] = 'S';
    buf[2] = HS_WIRE_PROTO_VERSION;
    buf[3] = 0;
    assert_int_equal(hearsay__v2__envelope__pack(env, buf + 4), n);
    return n + HS_WIRE_HEADER_LEN;
}

static hs_err raw_decode(const raw *r)
{
    uint8_t *buf = malloc(BUFSZ);
    assert_non_null(buf);
    size_t n = raw_pack(&r->env, buf, BUFSZ);
    hs_err err = decode_err(buf, n);
    free(buf);
    return err;
}

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

static void oversized_fields(void **state)
{
    (void)state;
    raw r;
    char big[2048];
    memset(big, 'a', sizeof big);

    RAW_PUSH(r);
    r.sender.name = BN(big, HS_WIRE_MAX_NAME);
    assert_int_equal(raw_decode(&r), HS_OK);
    r.sender.name = BN(big, HS_WIRE_MAX_NAME + 1);
    assert_int_equal(raw_decode(&r), HS_ETOOBIG);

    RAW_PUSH(r);
    r.env.cluster = BN(big, HS_WIRE_MAX_NAME + 1);
    assert_int_equal(raw_decode(&r), HS_ETOOBIG);

    RAW_PUSH(r);
    r.sender.addr = BN(big, HS_WIRE_MAX_ADDR);
    assert_int_equal(raw_decode(&r), HS_OK);
    r.sender.addr = BN(big, HS_WIRE_MAX_ADDR + 1);
    assert_int_equal(raw_decode(&r), HS_ETOOBIG);

    RAW_PUSH(r);
    r.delta.name = BN(big, HS_WIRE_MAX_NAME + 1);
    assert_int_equal(raw_decode(&r), HS_ETOOBIG);

    RAW_PUSH(r);
    r.delta.addr = BN(big, HS_WIRE_MAX_ADDR + 1);
    assert_int_equal(raw_decode(&r), HS_ETOOBIG);

    RAW_PUSH(r);
    r.entry[0].key = BN(big, HS_WIRE_MAX_KEY);
    assert_int_equal(raw_decode(&r), HS_OK);
    r.entry[0].key = BN(big, HS_WIRE_MAX_KEY + 1);
    assert_int_equal(raw_decode(&r), HS_ETOOBIG);

    RAW_PUSH(r);
    r.entry[0].value = BN(big, HS_WIRE_MAX_VALUE);
    assert_int_equal(raw_decode(&r), HS_OK);
    r.entry[0].value = BN(big, HS_WIRE_MAX_VALUE + 1);
    assert_int_equal(raw_decode(&r), HS_ETOOBIG);

    RAW_SYN(r);
    r.de[1].name = BN(big, HS_WIRE_MAX_NAME + 1);
    r.digest.range_hi = B("");
    assert_int_equal(raw_decode(&r), HS_ETOOBIG);

    RAW_SYN(r);
    r.digest.range_lo = BN(big, HS_WIRE_MAX_NAME + 1);
    assert_int_equal(raw_decode(&r), HS_ETOOBIG);

    /* A bound exceeded wins over a fault found earlier or in the same
     * field, whatever the order of fields. */
    RAW_PUSH(r);
    r.env.cluster = B("bad cluster");
    r.entry[1].value = BN(big, HS_WIRE_MAX_VALUE + 1);
    assert_int_equal(raw_decode(&r), HS_ETOOBIG);
    RAW_PUSH(r);
    memset(big, ' ', HS_WIRE_MAX_NAME + 1);
    r.sender.name = BN(big, HS_WIRE_MAX_NAME + 1);
    assert_int_equal(raw_decode(&r), HS_ETOOBIG);
}

/* Pack a PUSH of `n_deltas` deltas with `per` entries each (versions
 * 1..per, key "k"), or a SYN of `n_digest` entries. */
static hs_err decode_counts(size_t n_digest, size_t n_deltas, size_t per)
{
    raw r;
    Hearsay__V2__MemberDelta *d = calloc(n_deltas + 1, sizeof *d);
    Hearsay__V2__MemberDelta **dp = calloc(n_deltas + 1, sizeof *dp);
    Hearsay__V2__Entry *e = calloc(per + 1, sizeof *e);
    Hearsay__V2__Entry **ep = calloc(per + 1, sizeof *ep);
    Hearsay__V2__DigestEntry *de = calloc(n_digest + 1, sizeof *de);
    Hearsay__V2__DigestEntry **dep = calloc(n_digest + 1, sizeof *dep);
    assert_true(d && dp && e && ep && de && dep);

    for (size_t j = 0; j < per; j++) {
        hearsay__v2__entry__init(&e[j]);
        e[j].version = j + 1;
        e[j].key = B("k");
        ep[j] = &e[j];
    }
    for (size_t i = 0; i < n_deltas; i++) {
        hearsay__v2__member_delta__init(&d[i]);
        d[i].name = B("m");
        d[i].to_version = per;
        d[i].n_entries = per;
        d[i].entries = per ? ep : NULL;
        dp[i] = &d[i];
    }
    for (size_t i = 0; i < n_digest; i++) {
        hearsay__v2__digest_entry__init(&de[i]);
        de[i].name = B("m");
        dep[i] = &de[i];
    }
    if (n_digest) {
        raw_syn(&r, CLUSTER);
        r.digest.n_entries = n_digest;
        r.digest.entries = dep;
        r.digest.range_lo = r.digest.range_hi = B("");
    } else {
        raw_push(&r, CLUSTER);
        r.push.n_deltas = n_deltas;
        r.push.deltas = dp;
    }
    hs_err err = raw_decode(&r);
    free(d);
    free(dp);
    free(e);
    free(ep);
    free(de);
    free(dep);
    return err;
}

static void too_many_items(void **state)
{
    (void)state;
    assert_int_equal(decode_counts(HS_WIRE_MAX_DIGEST_ENTRIES, 0, 0), HS_OK);
    assert_int_equal(decode_counts(HS_WIRE_MAX_DIGEST_ENTRIES + 1, 0, 0),
                     HS_ETOOBIG);
    assert_int_equal(decode_counts(0, HS_WIRE_MAX_DELTAS, 0), HS_OK);
    assert_int_equal(decode_counts(0, HS_WIRE_MAX_DELTAS + 1, 0), HS_ETOOBIG);
    /* Entries count over all deltas: 64 x 128 is the cap exactly. Versions
     * stay small so the datagram stays under 64 KiB and it is the count,
     * not the length, that is judged. */
    assert_int_equal(decode_counts(0, HS_WIRE_MAX_ENTRIES / 128, 128), HS_OK);
    assert_int_equal(decode_counts(0, HS_WIRE_MAX_ENTRIES / 127 + 1, 127),
                     HS_ETOOBIG);
}

static void bad_names(void **state)
{
    (void)state;
    raw r;
    static const char nul[] = {'a', '\0', 'b'};
    static const char *bad[] = {"a b", "tab\t", "\x7f", "caf\xc3\xa9", ""};

    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        RAW_PUSH(r);
        r.sender.name = B(bad[i]);
        assert_int_equal(raw_decode(&r), HS_EMALFORMED);
        RAW_PUSH(r);
        r.env.cluster = B(bad[i]);
        assert_int_equal(raw_decode(&r), HS_EMALFORMED);
        RAW_PUSH(r);
        r.delta.name = B(bad[i]);
        assert_int_equal(raw_decode(&r), HS_EMALFORMED);
        RAW_PUSH(r);
        r.entry[0].key = B(bad[i]);
        assert_int_equal(raw_decode(&r), HS_EMALFORMED);
        RAW_SYN(r);
        r.de[0].name = B(bad[i]);
        r.digest.range_lo = B("");
        assert_int_equal(raw_decode(&r), HS_EMALFORMED);
    }
    /* An embedded NUL must not shorten a name to a valid one. */
    RAW_PUSH(r);
    r.sender.name = BN(nul, sizeof nul);
    assert_int_equal(raw_decode(&r), HS_EMALFORMED);
    RAW_PUSH(r);
    r.entry[0].key = BN(nul, sizeof nul);
    assert_int_equal(raw_decode(&r), HS_EMALFORMED);
    RAW_PUSH(r);
    r.env.cluster = BN(CLUSTER "\0", sizeof CLUSTER);
    assert_int_equal(raw_decode(&r), HS_EMALFORMED);
    /* Addresses may be empty, not blank. */
    RAW_PUSH(r);
    r.sender.addr = B("");
    assert_int_equal(raw_decode(&r), HS_OK);
    r.sender.addr = B("a b:1");
    assert_int_equal(raw_decode(&r), HS_EMALFORMED);
    RAW_PUSH(r);
    r.delta.addr = BN(nul, sizeof nul);
    assert_int_equal(raw_decode(&r), HS_EMALFORMED);
}

static void missing_parts(void **state)
{
    (void)state;
    raw r;
    RAW_PUSH(r);
    r.env.sender = NULL;
    assert_int_equal(raw_decode(&r), HS_EMALFORMED);
    RAW_PUSH(r);
    r.env.body_case = HEARSAY__V2__ENVELOPE__BODY__NOT_SET;
    assert_int_equal(raw_decode(&r), HS_EMALFORMED);
    RAW_PUSH(r);
    r.env.cluster = B("");
    assert_int_equal(raw_decode(&r), HS_EMALFORMED);

    /* A body this version does not know (field 12, reserved for future
     * types) is unknown, so the message has no body. */
    RAW_PUSH(r);
    uint8_t sub[] = {0x02, 0x08, 0x01}; /* length 2: {field 1: 1} */
    ProtobufCMessageUnknownField uf = {12, PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED,
                                       sizeof sub, sub};
    r.env.body_case = HEARSAY__V2__ENVELOPE__BODY__NOT_SET;
    r.env.base.n_unknown_fields = 1;
    r.env.base.unknown_fields = &uf;
    assert_int_equal(raw_decode(&r), HS_EMALFORMED);

    /* Bytes that are not protobuf at all, after a good header. */
    uint8_t junk[] = {'H', 'S', HS_WIRE_PROTO_VERSION, 0, 0x0a, 0x7f, 'x'};
    assert_int_equal(decode_err(junk, sizeof junk), HS_EMALFORMED);
    /* A known field with the wrong wire type. */
    uint8_t wt[] = {'H', 'S', HS_WIRE_PROTO_VERSION, 0, 0x08, 0x01};
    assert_int_equal(decode_err(wt, sizeof wt), HS_EMALFORMED);
    /* Just a header: no envelope at all. */
    assert_int_equal(decode_err(wt, 4), HS_EMALFORMED);
}

static void entries_out_of_order_or_range(void **state)
{
    (void)state;
    raw r;

    RAW_PUSH(r);
    r.entry[0].version = 2;
    r.entry[1].version = 1;
    assert_int_equal(raw_decode(&r), HS_EMALFORMED);
    RAW_PUSH(r);
    r.entry[0].version = 2; /* a repeated version */
    assert_int_equal(raw_decode(&r), HS_EMALFORMED);
    RAW_PUSH(r);
    r.entry[0].version = 0; /* version 0 is "nothing", never an entry */
    assert_int_equal(raw_decode(&r), HS_EMALFORMED);
    RAW_PUSH(r);
    r.delta.from_version = 1; /* v1 is no longer in (1, 2] */
    assert_int_equal(raw_decode(&r), HS_EMALFORMED);
    RAW_PUSH(r);
    r.delta.to_version = 1; /* v2 beyond to_version */
    assert_int_equal(raw_decode(&r), HS_EMALFORMED);
    RAW_PUSH(r);
    r.delta.n_entries = 0;
    r.delta.from_version = 5;
    r.delta.to_version = 4; /* an empty delta that goes backwards */
    assert_int_equal(raw_decode(&r), HS_EMALFORMED);
    RAW_PUSH(r);
    r.delta.n_entries = 0;
    r.delta.from_version = r.delta.to_version = 5; /* empty but sound */
    assert_int_equal(raw_decode(&r), HS_OK);
    RAW_PUSH(r);
    r.delta.to_version = UINT64_MAX; /* versions overwritten since */
    assert_int_equal(raw_decode(&r), HS_OK);

    /* A tombstone carries no value. */
    RAW_PUSH(r);
    r.entry[1].value = B("x");
    assert_int_equal(raw_decode(&r), HS_EMALFORMED);
    RAW_PUSH(r);
    r.entry[0].value = B(""); /* an empty value is still a value */
    assert_int_equal(raw_decode(&r), HS_OK);
}

static void digest_ranges(void **state)
{
    (void)state;
    raw r;

    RAW_SYN(r);
    r.digest.range_lo = B("c"); /* "b" below the page */
    assert_int_equal(raw_decode(&r), HS_EMALFORMED);
    RAW_SYN(r);
    r.digest.range_hi = B("c"); /* "d" above the page */
    assert_int_equal(raw_decode(&r), HS_EMALFORMED);
    RAW_SYN(r);
    r.digest.range_hi = B("cz"); /* byte order: "cz" < "d" */
    assert_int_equal(raw_decode(&r), HS_EMALFORMED);
    RAW_SYN(r);
    r.digest.range_lo = B("a");
    r.digest.range_hi = B("");
    assert_int_equal(raw_decode(&r), HS_OK);
    RAW_SYN(r);
    r.digest.n_entries = 0;
    r.digest.range_lo = B("x");
    r.digest.range_hi = B("w"); /* an empty range is a bug */
    assert_int_equal(raw_decode(&r), HS_EMALFORMED);
    RAW_SYN(r);
    r.digest.n_entries = 0;
    r.digest.range_lo = r.digest.range_hi = B("w"); /* one name */
    assert_int_equal(raw_decode(&r), HS_OK);
    RAW_SYN(r);
    r.digest.range_lo = B("a a");
    assert_int_equal(raw_decode(&r), HS_EMALFORMED);
    RAW_SYN(r);
    r.syn.digest = NULL; /* no digest at all: a node that knows nobody */
    assert_int_equal(raw_decode(&r), HS_OK);
}

static void foreign_cluster(void **state)
{
    (void)state;
    sample s;
    uint8_t *buf = malloc(BUFSZ);
    assert_non_null(buf);
    sample_init(&s, HS_WIRE_SYNACK, "other");
    size_t n = encode_ok(&s.msg, buf);
    assert_int_equal(decode_as(buf, n, "other"), HS_OK);
    assert_int_equal(decode_as(buf, n, CLUSTER), HS_ECLUSTER);
    assert_int_equal(decode_as(buf, n, "othe"), HS_ECLUSTER);
    assert_int_equal(decode_as(buf, n, "otherr"), HS_ECLUSTER);
    assert_int_equal(decode_as(buf, n, ""), HS_ECLUSTER);

    /* Structure is judged before the cluster (see wire.h's order). */
    raw r;
    raw_push(&r, "other");
    r.entry[1].value = B("x");
    n = raw_pack(&r.env, buf, BUFSZ);
    assert_int_equal(decode_as(buf, n, CLUSTER), HS_EMALFORMED);
    free(buf);
}

static void unknown_fields_are_ignored(void **state)
{
    (void)state;
    raw r;
    uint8_t v42[] = {42};
    uint8_t lp[] = {3, 'x', 'y', 'z'};
    uint8_t f64[] = {1, 2, 3, 4, 5, 6, 7, 8};
    ProtobufCMessageUnknownField uf[3] = {
        {100, PROTOBUF_C_WIRE_TYPE_VARINT, sizeof v42, v42},
        {1000, PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED, sizeof lp, lp},
        {2000, PROTOBUF_C_WIRE_TYPE_64BIT, sizeof f64, f64},
    };
    uint8_t *plain = malloc(BUFSZ), *extra = malloc(BUFSZ);
    assert_true(plain && extra);

    RAW_PUSH(r);
    size_t n_plain = raw_pack(&r.env, plain, BUFSZ);
    ProtobufCMessage *at[] = {&r.env.base, &r.sender.base, &r.push.base,
                              &r.delta.base, &r.entry[0].base};
    for (size_t i = 0; i < sizeof at / sizeof *at; i++) {
        at[i]->n_unknown_fields = 3;
        at[i]->unknown_fields = uf;
    }
    size_t n_extra = raw_pack(&r.env, extra, BUFSZ);
    assert_true(n_extra > n_plain);

    hs_wire_msg *a = NULL, *b = NULL;
    assert_int_equal(
        hs__wire_decode(plain, n_plain, CLUSTER, HS_WIRE_MAX_DATAGRAM, &a),
        HS_OK);
    assert_int_equal(
        hs__wire_decode(extra, n_extra, CLUSTER, HS_WIRE_MAX_DATAGRAM, &b),
        HS_OK);
    assert_msg_equal(a, b);
    hs__wire_msg_free(a);
    hs__wire_msg_free(b);
    free(plain);
    free(extra);
}

/* ---- memory bound while parsing ---------------------------------------- */

static size_t put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* Header + cluster "test" + sender "n" + PUSH { body }. */
static size_t push_with_body(uint8_t *buf, const uint8_t *body, size_t len)
{
    size_t n = 0;
    static const uint8_t head[] = {'H',  'S',  HS_WIRE_PROTO_VERSION,
                                   0,    0x0a, 4,
                                   't',  'e',  's',
                                   't',  0x12, 3,
                                   0x0a, 1,    'n'};
    memcpy(buf, head, sizeof head);
    n = sizeof head;
    buf[n++] = 0x32; /* field 6 (push), length-delimited */
    n += put_varint(buf + n, len);
    memcpy(buf + n, body, len);
    return n + len;
}

/* The parse budget admits every valid datagram, however it is shaped: the
 * shapes that cost protobuf-c the most per byte are nothing but unknown
 * fields, and nothing but minimal deltas or digest entries. */
static void decode_budget_admits_valid_floods(void **state)
{
    (void)state;
    uint8_t *body = malloc(BUFSZ), *buf = malloc(BUFSZ);
    assert_true(body && buf);

    for (size_t count = 1; count <= 32000; count += 97) {
        size_t m = 0;
        for (size_t i = 0; i < count; i++) {
            body[m++] = 12 << 3; /* unknown varint field 12 = 0 */
            body[m++] = 0;
        }
        if (m + 32 > HS_WIRE_MAX_DATAGRAM)
            break;
        assert_int_equal(decode_err(buf, push_with_body(buf, body, m)), HS_OK);
    }
    for (size_t count = 1; count <= HS_WIRE_MAX_DELTAS; count += 13) {
        size_t m = 0;
        for (size_t i = 0; i < count; i++) {
            /* Push field 3 (deltas): a delta with name "m". */
            static const uint8_t d[] = {0x1a, 3, 0x0a, 1, 'm'};
            memcpy(body + m, d, sizeof d);
            m += sizeof d;
        }
        assert_int_equal(decode_err(buf, push_with_body(buf, body, m)), HS_OK);
    }
    assert_int_equal(decode_counts(HS_WIRE_MAX_DIGEST_ENTRIES, 0, 0), HS_OK);
    free(body);
    free(buf);
}

/* A flood of empty deltas costs protobuf-c over 100 bytes of memory per
 * byte received. Within the count caps, it is the budget that stops it:
 * without the budget this would parse and come back HS_EMALFORMED (no
 * name), as the short version below does. Ratios are for 64-bit hosts. */
static void decode_budget_refuses_empty_flood(void **state)
{
    (void)state;
    if (sizeof(void *) < 8)
        skip();
    uint8_t *body = malloc(BUFSZ), *buf = malloc(BUFSZ);
    assert_true(body && buf);
    size_t m = 0;
    for (size_t i = 0; i < HS_WIRE_MAX_DELTAS; i++) {
        body[m++] = 0x1a; /* Push field 3 (deltas), empty */
        body[m++] = 0;
    }
    assert_int_equal(decode_err(buf, push_with_body(buf, body, m)), HS_ETOOBIG);
    assert_int_equal(decode_err(buf, push_with_body(buf, body, 20)),
                     HS_EMALFORMED);
    free(body);
    free(buf);
}

/* ---- hostile bytes ------------------------------------------------------ */

static bool documented_decode_error(hs_err err)
{
    switch (err) {
    case HS_ETRUNCATED:
    case HS_EMAGIC:
    case HS_EVERSION:
    case HS_ESEALED:
    case HS_ETOOBIG:
    case HS_EMALFORMED:
    case HS_ECLUSTER:
    case HS_ENOMEM:
        return true;
    default:
        return false;
    }
}

/* Every prefix of a valid datagram is rejected: the body is one
 * length-delimited field at the end, so protobuf cannot stop cleanly in the
 * middle of it and hand back "the same message, minus a bit". */
static void every_truncation_is_rejected(void **state)
{
    (void)state;
    uint8_t *buf = malloc(BUFSZ);
    assert_non_null(buf);
    for (int t = HS_WIRE_SYN; t <= HS_WIRE_LEAVE; t++) {
        sample s;
        sample_init(&s, (hs_wire_type)t, CLUSTER);
        size_t n = encode_ok(&s.msg, buf);
        assert_int_equal(decode_err(buf, n), HS_OK);
        for (size_t len = 0; len < n; len++) {
            /* Copy, so ASan sees a read past the cut. */
            uint8_t *cut = malloc(len ? len : 1);
            assert_non_null(cut);
            memcpy(cut, buf, len);
            hs_err err = decode_err(cut, len);
            assert_int_equal(err, len < 4 ? HS_ETRUNCATED : HS_EMALFORMED);
            free(cut);
        }
    }
    free(buf);
}

/* On success, a decoded message must be one encode accepts and that
 * survives the trip again unchanged. */
static void check_decoded(const uint8_t *buf, size_t len)
{
    hs_wire_msg *m = NULL;
    hs_err err = hs__wire_decode(buf, len, CLUSTER, HS_WIRE_MAX_DATAGRAM, &m);
    assert_true(documented_decode_error(err) || err == HS_OK);
    if (err != HS_OK) {
        assert_null(m);
        return;
    }
    assert_true(hs__wire_encoded_size(m) <= len);
    roundtrip(m);
    hs__wire_msg_free(m);
}

static void random_bytes_never_crash(void **state)
{
    (void)state;
    rng r = {0xdecafbad};
    uint8_t *buf = malloc(4096);
    assert_non_null(buf);
    for (int i = 0; i < 20000; i++) {
        size_t len = below(&r, 4096);
        for (size_t j = 0; j < len; j++)
            buf[j] = (uint8_t)rnd(&r);
        /* Most get a valid header, or the header would stop them all. */
        if (len >= 4 && chance(&r, 90)) {
            memcpy(buf, "HS\x01", 3);
            buf[3] = 0;
        }
        check_decoded(buf, len);
    }
    free(buf);
}

/* Valid datagrams with a few bytes changed reach the validator far more
 * often than random bytes do. */
static void mutated_datagrams_never_crash(void **state)
{
    (void)state;
    rng r = {0xfeedface};
    uint8_t *orig = malloc(BUFSZ), *buf = malloc(BUFSZ);
    assert_true(orig && buf);
    int accepted = 0;
    for (int i = 0; i < 20000; i++) {
        sample s;
        sample_init(&s, (hs_wire_type)(1 + i % 5), CLUSTER);
        size_t n = encode_ok(&s.msg, orig);
        memcpy(buf, orig, n);
        size_t flips = 1 + below(&r, 3);
        for (size_t k = 0; k < flips; k++) {
            size_t at = 4 + below(&r, n - 4);
            buf[at] = chance(&r, 50)
                          ? (uint8_t)rnd(&r)
                          : (uint8_t)(buf[at] ^ (1u << below(&r, 8)));
        }
        hs_wire_msg *m = NULL;
        if (hs__wire_decode(buf, n, CLUSTER, HS_WIRE_MAX_DATAGRAM, &m) ==
            HS_OK) {
            accepted++;
            hs__wire_msg_free(m);
        }
        check_decoded(buf, n);
    }
    /* Some mutations (inside values, numbers) keep a datagram valid; the
     * round trip above then ran on them. */
    assert_true(accepted > 1000);
    free(orig);
    free(buf);
}

/* ---- encode errors ------------------------------------------------------ */

static void encode_reports_no_space(void **state)
{
    (void)state;
    sample s;
    uint8_t *buf = malloc(BUFSZ);
    assert_non_null(buf);
    sample_init(&s, HS_WIRE_SYNACK, CLUSTER);
    size_t need = hs__wire_encoded_size(&s.msg), n = 99;

    assert_int_equal(hs__wire_encode(&s.msg, buf, need - 1, &n), HS_ENOSPC);
    assert_int_equal(n, 0);
    assert_int_equal(hs__wire_encode(&s.msg, buf, 3, &n), HS_ENOSPC);
    assert_int_equal(hs__wire_encode(&s.msg, NULL, 0, &n), HS_ENOSPC);
    assert_int_equal(hs__wire_encode(&s.msg, buf, need, &n), HS_OK);
    assert_int_equal(n, need);

    /* Larger than any datagram: no buffer is big enough. */
    static uint8_t value[HS_WIRE_MAX_VALUE];
    hs_wire_entry e[70];
    for (size_t i = 0; i < 70; i++)
        e[i] = (hs_wire_entry){"k", value, sizeof value, i + 1, false};
    hs_wire_delta d = {
        .name = "m", .to_version = 70, .entries = e, .n_entries = 70};
    hs_wire_msg m = {.type = HS_WIRE_PUSH,
                     .cluster = CLUSTER,
                     .sender = {"n", 1, ""},
                     .deltas = &d,
                     .n_deltas = 1};
    assert_true(hs__wire_encoded_size(&m) > HS_WIRE_MAX_DATAGRAM);
    assert_int_equal(hs__wire_encode(&m, buf, BUFSZ, &n), HS_ENOSPC);
    d.n_entries = 60;
    d.to_version = 60;
    assert_int_equal(hs__wire_encode(&m, buf, BUFSZ, &n), HS_OK);
    free(buf);
}

static void encode_rejects_what_decode_would(void **state)
{
    (void)state;
    uint8_t *buf = malloc(BUFSZ);
    assert_non_null(buf);
    char big[HS_WIRE_MAX_VALUE + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    size_t n;

#define EXPECT_EINVAL(type, mutate)                                            \
    do {                                                                       \
        sample s;                                                              \
        sample_init(&s, (type), CLUSTER);                                      \
        n = 99;                                                                \
        assert_int_equal(hs__wire_encode(&s.msg, buf, BUFSZ, &n), HS_OK);       \
        mutate;                                                                \
        assert_int_equal(hs__wire_encode(&s.msg, buf, BUFSZ, &n), HS_EINVAL);   \
        assert_int_equal(n, 0);                                                \
    } while (0)

    EXPECT_EINVAL(HS_WIRE_PUSH, s.msg.cluster = NULL);
    EXPECT_EINVAL(HS_WIRE_PUSH, s.msg.cluster = "");
    EXPECT_EINVAL(HS_WIRE_PUSH, s.msg.cluster = "a b");
    EXPECT_EINVAL(HS_WIRE_PUSH, s.msg.cluster = big + sizeof big - 130);
    EXPECT_EINVAL(HS_WIRE_PUSH, s.msg.sender.name = NULL);
    EXPECT_EINVAL(HS_WIRE_PUSH, s.msg.sender.name = "");
    EXPECT_EINVAL(HS_WIRE_PUSH, s.msg.sender.name = "n\x01");
    EXPECT_EINVAL(HS_WIRE_PUSH, s.msg.sender.addr = big + sizeof big - 66);
    EXPECT_EINVAL(HS_WIRE_PUSH, s.msg.type = 0);
    EXPECT_EINVAL(HS_WIRE_PUSH, s.msg.type = 6);
    /* Fields the type does not carry. */
    EXPECT_EINVAL(HS_WIRE_LEAVE, s.msg.deltas = s.deltas; s.msg.n_deltas = 1);
    EXPECT_EINVAL(HS_WIRE_PUSH, s.msg.digest = s.digest; s.msg.n_digest = 1);
    EXPECT_EINVAL(HS_WIRE_LEAVE, s.msg.digest = s.digest; s.msg.n_digest = 1);
    EXPECT_EINVAL(HS_WIRE_ACK, s.msg.has_view = true);
    EXPECT_EINVAL(HS_WIRE_LEAVE, s.msg.has_view = true);
    EXPECT_EINVAL(HS_WIRE_SYNACK, s.msg.pull_only = true);
    EXPECT_EINVAL(HS_WIRE_SYN, s.msg.answered = true);
    EXPECT_EINVAL(HS_WIRE_PUSH, s.msg.range_lo = "a");
    EXPECT_EINVAL(HS_WIRE_LEAVE, s.msg.range_hi = "a");
    EXPECT_EINVAL(HS_WIRE_SYNACK, s.msg.pull_only = true);
    EXPECT_EINVAL(HS_WIRE_SYN, s.msg.leave_version = 1);
    /* Digest. */
    EXPECT_EINVAL(HS_WIRE_SYN, s.msg.digest = NULL);
    EXPECT_EINVAL(HS_WIRE_SYN, s.digest[1].name = NULL);
    EXPECT_EINVAL(HS_WIRE_SYN, s.digest[1].name = "b c");
    EXPECT_EINVAL(HS_WIRE_SYN, s.msg.range_lo = "b");
    EXPECT_EINVAL(HS_WIRE_SYN, s.msg.range_hi = "b");
    EXPECT_EINVAL(HS_WIRE_SYN, s.msg.n_digest = 0; s.msg.range_lo = "z");
    EXPECT_EINVAL(HS_WIRE_SYN, s.msg.n_digest = HS_WIRE_MAX_DIGEST_ENTRIES + 1);
    /* Deltas and entries. */
    EXPECT_EINVAL(HS_WIRE_PUSH, s.msg.deltas = NULL);
    EXPECT_EINVAL(HS_WIRE_PUSH, s.msg.n_deltas = HS_WIRE_MAX_DELTAS + 1);
    EXPECT_EINVAL(HS_WIRE_PUSH, s.deltas[0].name = NULL);
    EXPECT_EINVAL(HS_WIRE_PUSH, s.deltas[0].addr = "a b");
    EXPECT_EINVAL(HS_WIRE_PUSH, s.deltas[0].entries = NULL);
    EXPECT_EINVAL(HS_WIRE_PUSH, s.deltas[0].to_version = 8);
    EXPECT_EINVAL(HS_WIRE_PUSH, s.deltas[0].from_version = 4);
    EXPECT_EINVAL(HS_WIRE_PUSH, s.deltas[1].from_version = 1);
    EXPECT_EINVAL(HS_WIRE_PUSH, s.entries[1].version = 4);
    EXPECT_EINVAL(HS_WIRE_PUSH, s.entries[1].value = hb_value;
                  s.entries[1].value_len = 1);
    EXPECT_EINVAL(HS_WIRE_PUSH, s.entries[0].value = NULL);
    EXPECT_EINVAL(HS_WIRE_PUSH, s.entries[0].key = NULL);
    EXPECT_EINVAL(HS_WIRE_PUSH, s.entries[0].key = "");
    EXPECT_EINVAL(HS_WIRE_PUSH, s.entries[0].value = (const uint8_t *)big;
                  s.entries[0].value_len = HS_WIRE_MAX_VALUE + 1);
    EXPECT_EINVAL(HS_WIRE_PUSH,
                  s.deltas[0].n_entries = HS_WIRE_MAX_ENTRIES + 1);
#undef EXPECT_EINVAL

    sample s;
    sample_init(&s, HS_WIRE_PUSH, CLUSTER);
    assert_int_equal(hs__wire_encode(NULL, buf, BUFSZ, &n), HS_EINVAL);
    assert_int_equal(hs__wire_encode(&s.msg, buf, BUFSZ, NULL), HS_EINVAL);
    assert_int_equal(hs__wire_encode(&s.msg, NULL, 10, &n), HS_EINVAL);
    free(buf);
}

/* ---- small functions ---------------------------------------------------- */

static void valid_names(void **state)
{
    (void)state;
    char s[HS_WIRE_MAX_NAME + 2];
    memset(s, 'x', sizeof s);
    s[HS_WIRE_MAX_NAME] = '\0';
    assert_true(hs__wire_valid_name(s, HS_WIRE_MAX_NAME));
    s[HS_WIRE_MAX_NAME] = 'x';
    s[HS_WIRE_MAX_NAME + 1] = '\0';
    assert_false(hs__wire_valid_name(s, HS_WIRE_MAX_NAME));

    assert_true(hs__wire_valid_name("a", 1));
    assert_true(hs__wire_valid_name("!~", 2));
    assert_true(hs__wire_valid_name("node-1.example:x/y", 128));
    assert_false(hs__wire_valid_name("ab", 1));
    assert_false(hs__wire_valid_name("", 128));
    assert_false(hs__wire_valid_name(NULL, 128));
    assert_false(hs__wire_valid_name("a b", 128));
    assert_false(hs__wire_valid_name("a\x7f", 128));
    assert_false(hs__wire_valid_name("\x80", 128));
    assert_false(hs__wire_valid_name("a\n", 128));
}

static void type_names(void **state)
{
    (void)state;
    assert_string_equal(hs__wire_type_name(HS_WIRE_SYN), "syn");
    assert_string_equal(hs__wire_type_name(HS_WIRE_SYNACK), "synack");
    assert_string_equal(hs__wire_type_name(HS_WIRE_ACK), "ack");
    assert_string_equal(hs__wire_type_name(HS_WIRE_PUSH), "push");
    assert_string_equal(hs__wire_type_name(HS_WIRE_LEAVE), "leave");
    assert_string_equal(hs__wire_type_name(0), "unknown");
    assert_string_equal(hs__wire_type_name(6), "unknown");
    assert_string_equal(hs__wire_type_name(-1), "unknown");
}

/* ---- seed corpus for fuzz_wire_decode ----------------------------------- */

static int gen_count;

static int write_file(const char *dir, const char *name, const uint8_t *buf,
                      size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        return -1;
    }
    gen_count++;
    return 0;
}

/* Valid and near-valid datagrams of every type, for cluster "fuzz". */
static int gen_corpus(const char *dir)
{
    static const char *names[] = {"", "syn", "synack", "ack", "push", "leave"};
    rng r = {2024};
    arena a;
    uint8_t *buf = malloc(BUFSZ), *cut = malloc(BUFSZ);
    char name[64];
    int rc = 0;
    a.buf = malloc(8 << 20);
    a.cap = 8 << 20;
    if (!buf || !cut || !a.buf)
        return 1;

    for (int t = HS_WIRE_SYN; t <= HS_WIRE_LEAVE; t++) {
        sample s;
        size_t n;
        sample_init(&s, (hs_wire_type)t, "fuzz");
        if (hs__wire_encode(&s.msg, buf, BUFSZ, &n) != HS_OK)
            return 1;
        snprintf(name, sizeof name, "%s-sample", names[t]);
        rc |= write_file(dir, name, buf, n);

        /* Near-valid: cut short, wrong header bits, foreign cluster, a few
         * bytes changed. */
        snprintf(name, sizeof name, "%s-cut1", names[t]);
        rc |= write_file(dir, name, buf, n - 1);
        snprintf(name, sizeof name, "%s-cuthalf", names[t]);
        rc |= write_file(dir, name, buf, n / 2);
        memcpy(cut, buf, n);
        cut[3] = HS_WIRE_FLAG_SEALED;
        snprintf(name, sizeof name, "%s-sealed", names[t]);
        rc |= write_file(dir, name, cut, n);
        cut[3] = 0;
        cut[2] = 2;
        snprintf(name, sizeof name, "%s-v2", names[t]);
        rc |= write_file(dir, name, cut, n);
        for (int k = 0; k < 4; k++) {
            memcpy(cut, buf, n);
            cut[4 + below(&r, n - 4)] ^= (uint8_t)(1u << below(&r, 8));
            snprintf(name, sizeof name, "%s-flip%d", names[t], k);
            rc |= write_file(dir, name, cut, n);
        }
        sample_init(&s, (hs_wire_type)t, "other");
        if (hs__wire_encode(&s.msg, buf, BUFSZ, &n) != HS_OK)
            return 1;
        snprintf(name, sizeof name, "%s-foreign", names[t]);
        rc |= write_file(dir, name, buf, n);

        /* Valid: minimal, and random at a few scales. */
        hs_wire_msg m = {.type = t, .cluster = "fuzz", .sender = {"n", 0, ""}};
        if (hs__wire_encode(&m, buf, BUFSZ, &n) != HS_OK)
            return 1;
        snprintf(name, sizeof name, "%s-minimal", names[t]);
        rc |= write_file(dir, name, buf, n);
        for (int k = 0; k < 8; k++) {
            a.used = 0;
            rand_msg(&r, &a, &m, (hs_wire_type)t, "fuzz", (size_t)k);
            if (hs__wire_encode(&m, buf, BUFSZ, &n) != HS_OK)
                continue;
            snprintf(name, sizeof name, "%s-random%d", names[t], k);
            rc |= write_file(dir, name, buf, n);
        }
    }

    /* Rule breakers only raw protobuf can produce. */
    raw rw;
    size_t n;
    raw_push(&rw, "fuzz");
    rw.entry[0].version = 3;
    n = raw_pack(&rw.env, buf, BUFSZ);
    rc |= write_file(dir, "push-out-of-order", buf, n);
    raw_push(&rw, "fuzz");
    rw.entry[1].value = B("x");
    n = raw_pack(&rw.env, buf, BUFSZ);
    rc |= write_file(dir, "push-tombstone-value", buf, n);
    raw_push(&rw, "fuzz");
    rw.sender.name = B("a b");
    n = raw_pack(&rw.env, buf, BUFSZ);
    rc |= write_file(dir, "push-bad-name", buf, n);
    raw_syn(&rw, "fuzz");
    rw.digest.range_lo = B("c");
    n = raw_pack(&rw.env, buf, BUFSZ);
    rc |= write_file(dir, "syn-out-of-range", buf, n);

    fprintf(stderr, "wrote %d files to %s\n", gen_count, dir);
    free(a.buf);
    free(buf);
    free(cut);
    return rc ? 1 : 0;
}

/* ---- Protocol v2: views and heartbeats by position ---------------------- */

static hs_wire_msg *decode_msg(const uint8_t *buf, size_t len)
{
    hs_wire_msg *m = NULL;
    assert_int_equal(
        hs__wire_decode(buf, len, CLUSTER, HS_WIRE_MAX_DATAGRAM, &m), HS_OK);
    return m;
}

/* A SYN's dense page and a SYNACK's sparse answer survive the round trip
 * exactly, with convictions, and the size accounting matches protobuf-c's
 * byte for byte: a gap of 200 positions takes a two-byte varint. */
static void beats_round_trip(void **state)
{
    (void)state;
    uint8_t *buf = malloc(BUFSZ);
    assert_non_null(buf);
    uint32_t pos[300], dead[3] = {2, 130, 299};
    uint8_t low[300], dead_low[3] = {7, 0, 255};
    for (uint32_t i = 0; i < 300; i++) {
        pos[i] = i;
        low[i] = (uint8_t)(i * 37);
    }
    hs_wire_msg m = {.type = HS_WIRE_SYN,
                     .cluster = CLUSTER,
                     .sender = {"a", 1700000000000ULL, ""},
                     .range_lo = "",
                     .range_hi = "",
                     .has_view = true,
                     .view = {0x0123456789abcdefULL, 0xfedcba9876543210ULL,
                              300},
                     .beats = {.first = 0, .span = 300, .n = 300, .pos = pos,
                               .low = low, .n_dead = 3, .dead_pos = dead,
                               .dead_low = dead_low}};
    size_t n = encode_ok(&m, buf);
    /* Dense: one byte per member, no gaps sent. */
    assert_true(n < 300 + 80);
    hs_wire_msg *d = decode_msg(buf, n);
    assert_true(d->has_view);
    assert_true(d->view.members == m.view.members &&
                d->view.state == m.view.state && d->view.count == 300);
    assert_int_equal(d->beats.n, 300);
    assert_memory_equal(d->beats.pos, pos, sizeof pos);
    assert_memory_equal(d->beats.low, low, sizeof low);
    assert_int_equal(d->beats.n_dead, 3);
    assert_memory_equal(d->beats.dead_pos, dead, sizeof dead);
    assert_memory_equal(d->beats.dead_low, dead_low, sizeof dead_low);
    hs__wire_msg_free(d);

    /* Sparse, within a page [10, 310) of a view of 400. */
    uint32_t sp[4] = {10, 11, 211, 309};
    uint8_t sl[4] = {1, 2, 3, 4};
    m.type = HS_WIRE_SYNACK;
    m.view.count = 0; /* an answer's view: the members hash alone */
    m.view.state = 0;
    m.beats = (hs_wire_beats){.first = 10, .span = 300, .n = 4, .pos = sp,
                              .low = sl};
    n = encode_ok(&m, buf);
    d = decode_msg(buf, n);
    assert_int_equal(d->beats.first, 10);
    assert_int_equal(d->beats.span, 300);
    assert_int_equal(d->beats.n, 4);
    assert_memory_equal(d->beats.pos, sp, sizeof sp);
    assert_memory_equal(d->beats.low, sl, sizeof sl);
    assert_int_equal(d->beats.n_dead, 0);
    hs__wire_msg_free(d);

    /* The packer's accounting never undercounts. */
    hs_wire_msg bare = m;
    bare.beats = (hs_wire_beats){0};
    assert_true(hs__wire_base_size(&bare) + hs__wire_beats_size(&m.beats) >=
                hs__wire_encoded_size(&m));
    free(buf);
}

/* Positions that would make a receiver index past its view, or say
 * something ambiguous, are refused by encode (EINVAL) and decode
 * (EMALFORMED) alike. */
static void beats_bounds_are_enforced(void **state)
{
    (void)state;
    uint8_t *buf = malloc(BUFSZ);
    assert_non_null(buf);
    uint32_t pos[3] = {5, 4, 6};
    uint8_t low[3] = {1, 2, 3};
    hs_wire_msg m = {.type = HS_WIRE_PUSH,
                     .cluster = CLUSTER,
                     .sender = {"a", 1, ""},
                     .range_lo = "",
                     .range_hi = "",
                     .has_view = true,
                     .view = {1, 2, 10},
                     .beats = {.first = 4, .span = 3, .n = 3, .pos = pos,
                               .low = low}};
    size_t n = 0;
    /* Not ascending. */
    assert_int_equal(hs__wire_encode(&m, buf, BUFSZ, &n), HS_EINVAL);
    /* Beyond the span. */
    pos[0] = 4, pos[1] = 5, pos[2] = 7;
    assert_int_equal(hs__wire_encode(&m, buf, BUFSZ, &n), HS_EINVAL);
    /* A span past the view: encode builds it, the shared validator
     * refuses it. */
    pos[2] = 6;
    m.beats.span = 7;
    assert_int_equal(hs__wire_encode(&m, buf, BUFSZ, &n), HS_EINVAL);
    /* Beats without a view. */
    m.beats.span = 3;
    m.has_view = false;
    assert_int_equal(hs__wire_encode(&m, buf, BUFSZ, &n), HS_EINVAL);
    /* A view where the type carries none. */
    m.has_view = true;
    m.type = HS_WIRE_ACK;
    assert_int_equal(hs__wire_encode(&m, buf, BUFSZ, &n), HS_EINVAL);

    /* On the wire: gaps that do not match the low bytes, a cut varint, a
     * position past the span, a view larger than the cap. */
    raw r;
    Hearsay__V2__View v;
    Hearsay__V2__Beats b;
    static const uint8_t two_gaps[] = {0, 0};
    static const uint8_t cut[] = {0x80};
    static const uint8_t far[] = {50};
    static const uint8_t lows[] = {1, 2};
    struct {
        const uint8_t *gaps;
        size_t n_gaps, n_low;
        uint32_t count;
        hs_err want;
    } cases[] = {
        {two_gaps, 2, 1, 10, HS_EMALFORMED},
        {cut, 1, 1, 10, HS_EMALFORMED},
        {far, 1, 1, 10, HS_EMALFORMED},
        {two_gaps, 2, 2, HS_WIRE_MAX_VIEW + 1, HS_ETOOBIG},
        {two_gaps, 2, 2, 10, HS_OK},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        raw_push(&r, CLUSTER);
        hearsay__v2__view__init(&v);
        hearsay__v2__beats__init(&b);
        v.members = 1;
        v.count = cases[i].count;
        b.first = 0;
        b.span = 10;
        b.gaps.data = (uint8_t *)cases[i].gaps;
        b.gaps.len = cases[i].n_gaps;
        b.low.data = (uint8_t *)lows;
        b.low.len = cases[i].n_low;
        r.push.view = &v;
        r.push.beats = &b;
        assert_int_equal(raw_decode(&r), cases[i].want);
    }
    free(buf);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--gen-corpus") == 0)
        return gen_corpus(argv[2]);

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(beats_round_trip),
        cmocka_unit_test(beats_bounds_are_enforced),
        cmocka_unit_test(roundtrip_syn),
        cmocka_unit_test(roundtrip_synack),
        cmocka_unit_test(roundtrip_ack_push_leave),
        cmocka_unit_test(roundtrip_minimal),
        cmocka_unit_test(roundtrip_max_sizes),
        cmocka_unit_test(roundtrip_random),
        cmocka_unit_test(encoded_size_is_exact),
        cmocka_unit_test(greedy_packing_never_overflows),
        cmocka_unit_test(header_checks),
        cmocka_unit_test(decode_rejects_by_header),
        cmocka_unit_test(oversized_fields),
        cmocka_unit_test(too_many_items),
        cmocka_unit_test(bad_names),
        cmocka_unit_test(missing_parts),
        cmocka_unit_test(entries_out_of_order_or_range),
        cmocka_unit_test(digest_ranges),
        cmocka_unit_test(foreign_cluster),
        cmocka_unit_test(unknown_fields_are_ignored),
        cmocka_unit_test(decode_budget_admits_valid_floods),
        cmocka_unit_test(decode_budget_refuses_empty_flood),
        cmocka_unit_test(every_truncation_is_rejected),
        cmocka_unit_test(random_bytes_never_crash),
        cmocka_unit_test(mutated_datagrams_never_crash),
        cmocka_unit_test(encode_reports_no_space),
        cmocka_unit_test(encode_rejects_what_decode_would),
        cmocka_unit_test(valid_names),
        cmocka_unit_test(type_names),
    };
    return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
