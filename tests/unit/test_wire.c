/*
 * test_wire.c — the datagram format (wire/): round trips of every message
 * type, the size accounting a packer relies on, what the encoder refuses,
 * the small functions, and views and heartbeats by position. What decoding
 * refuses (the header, fields and counts out of bounds, the memory bound,
 * truncated, mutated and random bytes) is test_wire_decode.c; the helpers
 * both use are wire_fixtures.c.
 *
 * `test_wire --gen-corpus DIR` writes the seed corpus of the
 * fuzz_wire_decode fuzzer (tests/fuzz/corpus/fuzz_wire_decode): valid and
 * near-valid datagrams of every type, for cluster "fuzz".
 */
#include "wire_fixtures.h"

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
    hs_wire_digest_entry de = {fill(&a, 'm', HS_WIRE_MAX_NAME),
                               UINT64_MAX,
                               UINT64_MAX,
                               UINT64_MAX,
                               true,
                               UINT64_MAX,
                               true};
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
        assert_int_equal(hs__wire_encode(&s.msg, buf, BUFSZ, &n), HS_OK);      \
        mutate;                                                                \
        assert_int_equal(hs__wire_encode(&s.msg, buf, BUFSZ, &n), HS_EINVAL);  \
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
    hs_wire_msg m = {
        .type = HS_WIRE_SYN,
        .cluster = CLUSTER,
        .sender = {"a", 1700000000000ULL, ""},
        .range_lo = "",
        .range_hi = "",
        .has_view = true,
        .view = {0x0123456789abcdefULL, 0xfedcba9876543210ULL, 300},
        .beats = {.first = 0,
                  .span = 300,
                  .n = 300,
                  .pos = pos,
                  .low = low,
                  .n_dead = 3,
                  .dead_pos = dead,
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
    m.beats =
        (hs_wire_beats){.first = 10, .span = 300, .n = 4, .pos = sp, .low = sl};
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
    hs_wire_msg m = {
        .type = HS_WIRE_PUSH,
        .cluster = CLUSTER,
        .sender = {"a", 1, ""},
        .range_lo = "",
        .range_hi = "",
        .has_view = true,
        .view = {1, 2, 10},
        .beats = {.first = 4, .span = 3, .n = 3, .pos = pos, .low = low}};
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
        cmocka_unit_test(encode_reports_no_space),
        cmocka_unit_test(encode_rejects_what_decode_would),
        cmocka_unit_test(valid_names),
        cmocka_unit_test(type_names),
    };
    return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
