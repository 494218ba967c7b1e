/*
 * wire_fixtures.c — the wire tests' shared helpers (wire_fixtures.h):
 * deterministic randomness, built messages and their comparison, the size
 * accounting contract, sample, random and raw datagrams. Randomised
 * helpers use a fixed-seed xorshift generator, so a failure reproduces.
 */
#include "wire_fixtures.h"

/* ---- deterministic randomness ------------------------------------------ */

uint64_t rnd(rng *r)
{
    /* xorshift64*: plenty for test data, and the same everywhere. */
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545F4914F6CDD1DULL;
}

uint64_t below(rng *r, uint64_t n)
{
    return n ? rnd(r) % n : 0;
}

bool chance(rng *r, unsigned percent)
{
    return below(r, 100) < percent;
}

/* ---- memory for built messages ----------------------------------------- */

void arena_init(arena *a, size_t cap)
{
    a->buf = malloc(cap);
    assert_non_null(a->buf);
    a->used = 0;
    a->cap = cap;
}

void *arena_get(arena *a, size_t n)
{
    size_t at = (a->used + 15) & ~(size_t)15;
    assert_true(at + n <= a->cap);
    a->used = at + n;
    return a->buf + at;
}

char *fill(arena *a, char c, size_t len)
{
    char *s = arena_get(a, len + 1);
    memset(s, c, len);
    s[len] = '\0';
    return s;
}

char *rand_name(arena *a, rng *r, size_t len)
{
    char *s = arena_get(a, len + 1);
    for (size_t i = 0; i < len; i++)
        s[i] = (char)(0x21 + below(r, 0x7e - 0x21 + 1));
    s[len] = '\0';
    return s;
}

/* Short names most of the time, the longest allowed now and then. */
char *some_name(arena *a, rng *r, size_t max)
{
    size_t len = chance(r, 5) ? max : 1 + below(r, max < 24 ? max : 24);
    return rand_name(a, r, len);
}

uint64_t some_u64(rng *r)
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

const char *str(const char *s)
{
    return s ? s : "";
}

void assert_msg_equal(const hs_wire_msg *a, const hs_wire_msg *b)
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
size_t accounted_size(const hs_wire_msg *m)
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
void assert_accounting(const hs_wire_msg *m, size_t encoded)
{
    size_t sum = accounted_size(m);
    assert_true(encoded <= sum);
    assert_true(sum - encoded <= 2 + 4 + 2 * m->n_deltas);
}

/* ---- encode/decode helpers --------------------------------------------- */

size_t encode_ok(const hs_wire_msg *m, uint8_t *buf)
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

hs_err decode_as(const uint8_t *buf, size_t len, const char *cluster)
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

hs_err decode_err(const uint8_t *buf, size_t len)
{
    return decode_as(buf, len, CLUSTER);
}

void roundtrip(const hs_wire_msg *m)
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

const uint8_t hb_value[4] = {0x00, 0x01, 0xff, 0x7f};

void sample_init(sample *s, hs_wire_type type, const char *cluster)
{
    memset(s, 0, sizeof *s);
    hs_wire_msg *m = &s->msg;
    m->type = type;
    m->cluster = cluster;
    m->sender =
        (hs_wire_sender){"node-1.example", 1700000000123ULL, "10.0.0.1:7946"};

    s->digest[0] = (hs_wire_digest_entry){"alpha", 1, 10, 3, false, 42, false};
    s->digest[1] = (hs_wire_digest_entry){"beta", 2, 0, 0, true, 0, true};
    s->digest[2] = (hs_wire_digest_entry){
        "gamma", UINT64_MAX, UINT64_MAX, UINT64_MAX, false, UINT64_MAX, true};

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

/* ---- random valid messages ---------------------------------------------- */

/* A random valid message of `type`; `scale` bounds the item counts. */
void rand_msg(rng *r, arena *a, hs_wire_msg *m, hs_wire_type type,
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
                                          some_u64(r),
                                          some_u64(r),
                                          some_u64(r),
                                          chance(r, 20),
                                          some_u64(r),
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
/* ---- raw protobuf: datagrams encode would refuse ------------------------ */

ProtobufCBinaryData B(const char *s)
{
    return (ProtobufCBinaryData){strlen(s), (uint8_t *)s};
}

ProtobufCBinaryData BN(const void *p, size_t n)
{
    return (ProtobufCBinaryData){n, (uint8_t *)p};
}

void raw_common(raw *r, const char *cluster)
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
void raw_push(raw *r, const char *cluster)
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
void raw_syn(raw *r, const char *cluster)
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

size_t raw_pack(const Hearsay__V2__Envelope *env, uint8_t *buf, size_t cap)
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

hs_err raw_decode(const raw *r)
{
    uint8_t *buf = malloc(BUFSZ);
    assert_non_null(buf);
    size_t n = raw_pack(&r->env, buf, BUFSZ);
    hs_err err = decode_err(buf, n);
    free(buf);
    return err;
}
/* Pack a PUSH of `n_deltas` deltas with `per` entries each (versions
 * 1..per, key "k"), or a SYN of `n_digest` entries. */
hs_err decode_counts(size_t n_digest, size_t n_deltas, size_t per)
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
