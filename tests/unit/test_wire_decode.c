/*
 * test_wire_decode.c — what decoding a datagram refuses: a bad header,
 * fields, names, counts and ranges out of bounds (crafted by packing the
 * generated protobuf-c structs directly, "raw", since hs__wire_encode()
 * would refuse to produce them), the memory bound while parsing, and
 * robustness against truncated, mutated and random bytes. The helpers
 * are wire_fixtures.c's; round trips and encoding are test_wire.c.
 */
#include "wire_fixtures.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
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
    };
    return cmocka_run_group_tests_name("wire_decode", tests, NULL, NULL);
}
