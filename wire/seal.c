/*
 * seal.c — the keyring, sealing and opening of datagrams, and the replay
 * window. See seal.h for the layout and the reasons behind it.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "wire/seal.h"
#include "wire/wire.h"

#define HDR HS_WIRE_HEADER_LEN
#define B64_LEN 45 /* sodium_base64_ENCODED_LEN(32, ORIGINAL) incl. NUL */

typedef struct hs_key {
    uint8_t key[HS_KEY_BYTES];
    uint8_t id[HS_KEYID_BYTES];
} hs_key;

struct hs_keyring {
    hs_key keys[HS_KEYRING_MAX]; /* keys[0] is the primary */
    size_t n;
};

/* ---- Keyring ------------------------------------------------------------ */

hs_err hs__keyring_new(hs_keyring **out)
{
    *out = NULL;
    if (sodium_init() < 0)
        return HS_EIO;
    hs_keyring *kr = calloc(1, sizeof *kr);
    if (!kr)
        return HS_ENOMEM;
    *out = kr;
    return HS_OK;
}

void hs__keyring_free(hs_keyring *kr)
{
    if (!kr)
        return;
    sodium_memzero(kr, sizeof *kr);
    free(kr);
}

static bool decode_key(const char *b64, size_t len, uint8_t key[HS_KEY_BYTES])
{
    size_t bin_len = 0;
    const char *end = NULL;
    if (len == 0 || len >= B64_LEN + 8)
        return false;
    if (sodium_base642bin(key, HS_KEY_BYTES, b64, len, NULL, &bin_len, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return false;
    return bin_len == HS_KEY_BYTES && end == b64 + len;
}

static void key_id(const uint8_t key[HS_KEY_BYTES], uint8_t id[HS_KEYID_BYTES])
{
    /* A keyed-free hash of the key, domain-separated so the id is not
     * useful for anything else. 4 bytes only pick the key to try; a
     * collision costs one failed open, nothing more. */
    static const uint8_t domain[] = "hearsay key id v1";
    uint8_t h[crypto_generichash_BYTES];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof h);
    crypto_generichash_update(&st, domain, sizeof domain - 1);
    crypto_generichash_update(&st, key, HS_KEY_BYTES);
    crypto_generichash_final(&st, h, sizeof h);
    memcpy(id, h, HS_KEYID_BYTES);
}

static int find_key(const hs_keyring *kr, const uint8_t key[HS_KEY_BYTES])
{
    for (size_t i = 0; i < kr->n; i++)
        if (sodium_memcmp(kr->keys[i].key, key, HS_KEY_BYTES) == 0)
            return (int)i;
    return -1;
}

static hs_err add_key(hs_keyring *kr, const uint8_t key[HS_KEY_BYTES])
{
    if (find_key(kr, key) >= 0)
        return HS_OK;
    if (kr->n == HS_KEYRING_MAX)
        return HS_EFULL;
    memcpy(kr->keys[kr->n].key, key, HS_KEY_BYTES);
    key_id(key, kr->keys[kr->n].id);
    kr->n++;
    return HS_OK;
}

hs_err hs__keyring_parse(const char *text, size_t len, hs_keyring **out,
                         int *line)
{
    *out = NULL;
    if (line)
        *line = 0;
    if (len > HS_KEYRING_MAX_TEXT)
        return HS_ETOOBIG;
    hs_keyring *kr;
    hs_err err = hs__keyring_new(&kr);
    if (err != HS_OK)
        return err;
    size_t pos = 0;
    int lineno = 0;
    while (pos < len) {
        size_t eol = pos;
        while (eol < len && text[eol] != '\n')
            eol++;
        lineno++;
        size_t a = pos, b = eol;
        while (a < b && isspace((unsigned char)text[a]))
            a++;
        while (b > a && isspace((unsigned char)text[b - 1]))
            b--;
        pos = eol + 1;
        if (a == b || text[a] == '#')
            continue;
        uint8_t key[HS_KEY_BYTES];
        bool ok = decode_key(text + a, b - a, key);
        if (!ok || find_key(kr, key) >= 0) {
            sodium_memzero(key, sizeof key);
            err = HS_EINVAL;
            goto fail;
        }
        err = add_key(kr, key);
        sodium_memzero(key, sizeof key);
        if (err != HS_OK) {
            err = err == HS_EFULL ? HS_ETOOBIG : err;
            goto fail;
        }
    }
    if (kr->n == 0) {
        err = HS_ENOTFOUND;
        lineno = 0;
        goto fail;
    }
    *out = kr;
    return HS_OK;
fail:
    if (line)
        *line = lineno;
    hs__keyring_free(kr);
    return err;
}

hs_err hs__keyring_key(const hs_keyring *kr, size_t i, char *buf, size_t cap)
{
    if (i >= kr->n)
        return HS_ENOTFOUND;
    if (cap < B64_LEN)
        return HS_ENOSPC;
    sodium_bin2base64(buf, cap, kr->keys[i].key, HS_KEY_BYTES,
                      sodium_base64_VARIANT_ORIGINAL);
    return HS_OK;
}

hs_err hs__keyring_key_id(const hs_keyring *kr, size_t i,
                          uint8_t id[HS_KEYID_BYTES])
{
    if (i >= kr->n)
        return HS_ENOTFOUND;
    memcpy(id, kr->keys[i].id, HS_KEYID_BYTES);
    return HS_OK;
}

hs_err hs__keyring_format(const hs_keyring *kr, char *buf, size_t cap,
                          size_t *len)
{
    size_t need = kr->n * B64_LEN; /* 44 chars + '\n' per key */
    *len = need;
    if (cap < need + 1)
        return HS_ENOSPC;
    char *p = buf;
    for (size_t i = 0; i < kr->n; i++) {
        hs__keyring_key(kr, i, p, B64_LEN);
        p += B64_LEN - 1;
        *p++ = '\n';
    }
    *p = 0;
    return HS_OK;
}

size_t hs__keyring_count(const hs_keyring *kr)
{
    return kr->n;
}

hs_err hs__keyring_add(hs_keyring *kr, const char *b64)
{
    uint8_t key[HS_KEY_BYTES];
    if (!b64 || !decode_key(b64, strlen(b64), key))
        return HS_EINVAL;
    hs_err err = add_key(kr, key);
    sodium_memzero(key, sizeof key);
    return err;
}

hs_err hs__keyring_use(hs_keyring *kr, const char *b64)
{
    uint8_t key[HS_KEY_BYTES];
    if (!b64 || !decode_key(b64, strlen(b64), key))
        return HS_EINVAL;
    int i = find_key(kr, key);
    sodium_memzero(key, sizeof key);
    if (i < 0)
        return HS_ENOTFOUND;
    hs_key k = kr->keys[i];
    memmove(&kr->keys[1], &kr->keys[0], (size_t)i * sizeof k);
    kr->keys[0] = k;
    sodium_memzero(&k, sizeof k);
    return HS_OK;
}

hs_err hs__keyring_remove(hs_keyring *kr, const char *b64)
{
    uint8_t key[HS_KEY_BYTES];
    if (!b64 || !decode_key(b64, strlen(b64), key))
        return HS_EINVAL;
    int i = find_key(kr, key);
    sodium_memzero(key, sizeof key);
    if (i < 0)
        return HS_ENOTFOUND;
    if (i == 0)
        return HS_ESTATE;
    memmove(&kr->keys[i], &kr->keys[i + 1],
            (kr->n - (size_t)i - 1) * sizeof kr->keys[0]);
    kr->n--;
    sodium_memzero(&kr->keys[kr->n], sizeof kr->keys[0]);
    return HS_OK;
}

hs_err hs_key_generate(char *buf, size_t cap)
{
    if (cap < B64_LEN)
        return HS_ENOSPC;
    if (sodium_init() < 0)
        return HS_EIO;
    uint8_t key[HS_KEY_BYTES];
    randombytes_buf(key, sizeof key);
    sodium_bin2base64(buf, cap, key, sizeof key,
                      sodium_base64_VARIANT_ORIGINAL);
    sodium_memzero(key, sizeof key);
    return HS_OK;
}

/* ---- Sealing ------------------------------------------------------------ */

/* Associated data: header || key id || cluster name. */
static size_t make_ad(uint8_t *ad, const uint8_t *hdr, const uint8_t *id,
                      const char *cluster)
{
    size_t n = strlen(cluster);
    if (n > HS_WIRE_MAX_NAME)
        n = HS_WIRE_MAX_NAME;
    memcpy(ad, hdr, HDR);
    memcpy(ad + HDR, id, HS_KEYID_BYTES);
    memcpy(ad + HDR + HS_KEYID_BYTES, cluster, n);
    return HDR + HS_KEYID_BYTES + n;
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

hs_err hs__seal(const hs_keyring *kr, const char *cluster, uint64_t now_ms,
                const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                size_t *out_len)
{
    bool sealed;
    hs_err err = hs__wire_check_header(in, len, &sealed);
    if (err != HS_OK)
        return err;
    if (sealed)
        return HS_EINVAL;
    if (kr->n == 0)
        return HS_ESTATE;
    if (len > HS_WIRE_MAX_DATAGRAM || cap < len + HS_SEAL_OVERHEAD)
        return HS_ENOSPC;
    const hs_key *k = &kr->keys[0];
    size_t body = len - HDR;

    uint8_t *plain = malloc(HS_STAMP_BYTES + body);
    if (!plain)
        return HS_ENOMEM;
    put_le64(plain, now_ms);
    memcpy(plain + HS_STAMP_BYTES, in + HDR, body);

    memcpy(out, in, HDR);
    out[3] |= HS_WIRE_FLAG_SEALED;
    memcpy(out + HDR, k->id, HS_KEYID_BYTES);
    uint8_t *nonce = out + HDR + HS_KEYID_BYTES;
    randombytes_buf(nonce, HS_NONCE_BYTES);
    uint8_t ad[HDR + HS_KEYID_BYTES + HS_WIRE_MAX_NAME];
    size_t ad_len = make_ad(ad, out, k->id, cluster);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + HS_NONCE_BYTES, &clen,
                                               plain, HS_STAMP_BYTES + body, ad,
                                               ad_len, NULL, nonce, k->key);
    sodium_memzero(plain, HS_STAMP_BYTES + body);
    free(plain);
    *out_len = HDR + HS_KEYID_BYTES + HS_NONCE_BYTES + (size_t)clen;
    return HS_OK;
}

/* ---- Replay window ------------------------------------------------------ */

/* A FIFO of (nonce fingerprint, stamp) with an open-addressing index over
 * the fingerprints. Fingerprints are 8 bytes of a random nonce: among a few
 * thousand live entries a false "seen before" has probability ~2^-50. */
typedef struct replay_slot {
    uint64_t fp;
    uint64_t stamp;
} replay_slot;

struct hs_replay {
    uint32_t window_ms;
    uint32_t cap; /* FIFO capacity */
    replay_slot *fifo;
    uint32_t head, len;
    uint64_t *index; /* fp + 1, 0 = empty; size idx_cap (power of 2) */
    uint32_t idx_cap;
    uint64_t evicted_early;
    /* The index's key (idx_home), random per cache. */
    unsigned char hash_key[crypto_shorthash_KEYBYTES];
};

hs_err hs__replay_new(uint32_t window_ms, uint32_t capacity, hs_replay **out)
{
    *out = NULL;
    if (capacity == 0 || capacity > (1u << 24))
        return HS_EINVAL;
    hs_replay *r = calloc(1, sizeof *r);
    if (!r)
        return HS_ENOMEM;
    r->window_ms = window_ms;
    r->cap = capacity;
    if (sodium_init() < 0) { /* idempotent; the key below is its first use */
        free(r);
        return HS_EIO;
    }
    randombytes_buf(r->hash_key, sizeof r->hash_key);
    r->idx_cap = 16;
    while (r->idx_cap < capacity * 2u)
        r->idx_cap *= 2;
    r->fifo = calloc(capacity, sizeof *r->fifo);
    r->index = calloc(r->idx_cap, sizeof *r->index);
    if (!r->fifo || !r->index) {
        hs__replay_free(r);
        return HS_ENOMEM;
    }
    *out = r;
    return HS_OK;
}

void hs__replay_free(hs_replay *r)
{
    if (!r)
        return;
    free(r->fifo);
    free(r->index);
    free(r);
}

uint64_t hs__replay_evicted_early(const hs_replay *r)
{
    return r->evicted_early;
}

/* Keyed (SipHash-2-4, libsodium's crypto_shorthash): a fingerprint is
 * nonce bytes the sender chose, so any key holder could otherwise pick
 * nonces that share a home slot (with the multiplicative hash this
 * replaced, any that differ only in their top bits) and make every lookup
 * walk them all. Only authenticated datagrams get here, so this guards
 * against a member, not a stranger; it costs well under the AEAD open. */
static uint32_t idx_home(const hs_replay *r, uint64_t fp)
{
    uint8_t in[8], out[crypto_shorthash_BYTES];
    put_le64(in, fp);
    crypto_shorthash(out, in, sizeof in, r->hash_key);
    return (uint32_t)get_le64(out) & (r->idx_cap - 1);
}

static bool idx_has(const hs_replay *r, uint64_t fp)
{
    for (uint32_t i = idx_home(r, fp);; i = (i + 1) & (r->idx_cap - 1)) {
        if (r->index[i] == 0)
            return false;
        if (r->index[i] == fp + 1)
            return true;
    }
}

size_t hs__replay_probes(const hs_replay *r, uint64_t fp)
{
    size_t n = 1;
    for (uint32_t i = idx_home(r, fp);; i = (i + 1) & (r->idx_cap - 1), n++)
        if (r->index[i] == 0 || r->index[i] == fp + 1)
            return n;
}

static void idx_put(hs_replay *r, uint64_t fp)
{
    uint32_t i = idx_home(r, fp);
    while (r->index[i] != 0)
        i = (i + 1) & (r->idx_cap - 1);
    r->index[i] = fp + 1;
}

/* Linear-probing delete with backward shift, so lookups stay correct with
 * no tombstones. */
static void idx_del(hs_replay *r, uint64_t fp)
{
    uint32_t mask = r->idx_cap - 1, i = idx_home(r, fp);
    while (r->index[i] != fp + 1) {
        if (r->index[i] == 0)
            return;
        i = (i + 1) & mask;
    }
    for (uint32_t j = (i + 1) & mask; r->index[j] != 0; j = (j + 1) & mask) {
        uint32_t h = idx_home(r, r->index[j] - 1);
        /* Move j into the hole at i unless its home lies in (i, j]. */
        bool stays = i <= j ? (h > i && h <= j) : (h > i || h <= j);
        if (!stays) {
            r->index[i] = r->index[j];
            i = j;
        }
    }
    r->index[i] = 0;
}

static void replay_expire(hs_replay *r, uint64_t now_ms)
{
    while (r->len) {
        replay_slot *s = &r->fifo[r->head];
        if (s->stamp + r->window_ms >= now_ms)
            break;
        idx_del(r, s->fp);
        r->head = (r->head + 1) % r->cap;
        r->len--;
    }
}

static void replay_add(hs_replay *r, uint64_t fp, uint64_t stamp)
{
    if (r->len == r->cap) {
        idx_del(r, r->fifo[r->head].fp);
        r->head = (r->head + 1) % r->cap;
        r->len--;
        r->evicted_early++;
    }
    replay_slot *s = &r->fifo[(r->head + r->len) % r->cap];
    s->fp = fp;
    s->stamp = stamp;
    r->len++;
    idx_put(r, fp);
}

hs_err hs__open(const hs_keyring *kr, hs_replay *replay, const char *cluster,
                uint64_t now_ms, const uint8_t *in, size_t len, uint8_t *out,
                size_t cap, size_t *out_len)
{
    bool sealed;
    hs_err err = hs__wire_check_header(in, len, &sealed);
    if (err != HS_OK)
        return err;
    if (!sealed)
        return HS_EINVAL;
    if (len < HDR + HS_SEAL_OVERHEAD)
        return HS_ETRUNCATED;
    if (len > HS_WIRE_MAX_DATAGRAM)
        return HS_ETOOBIG;
    const uint8_t *id = in + HDR;
    const uint8_t *nonce = id + HS_KEYID_BYTES;
    const uint8_t *box = nonce + HS_NONCE_BYTES;
    size_t box_len = len - HDR - HS_KEYID_BYTES - HS_NONCE_BYTES;
    size_t plain_len = box_len - HS_TAG_BYTES;
    if (cap < HDR + plain_len - HS_STAMP_BYTES)
        return HS_ENOSPC;

    uint8_t ad[HDR + HS_KEYID_BYTES + HS_WIRE_MAX_NAME];
    size_t ad_len = make_ad(ad, in, id, cluster);
    uint8_t *plain = malloc(plain_len);
    if (!plain)
        return HS_ENOMEM;
    err = HS_EKEY;
    for (size_t i = 0; i < kr->n; i++) {
        if (memcmp(kr->keys[i].id, id, HS_KEYID_BYTES) != 0)
            continue;
        unsigned long long mlen = 0;
        if (crypto_aead_xchacha20poly1305_ietf_decrypt(
                plain, &mlen, NULL, box, box_len, ad, ad_len, nonce,
                kr->keys[i].key) == 0 &&
            mlen == plain_len) {
            err = HS_OK;
            break;
        }
        err = HS_EAUTH;
    }
    if (err == HS_OK && replay) {
        uint64_t stamp = get_le64(plain);
        uint64_t fp = get_le64(nonce);
        replay_expire(replay, now_ms);
        uint64_t age = stamp > now_ms ? stamp - now_ms : now_ms - stamp;
        if (age > replay->window_ms || idx_has(replay, fp))
            err = HS_EREPLAY;
        else /* forget it only once neither clock can call it fresh */
            replay_add(replay, fp, stamp > now_ms ? stamp : now_ms);
    }
    if (err == HS_OK) {
        memcpy(out, in, HDR);
        out[3] &= (uint8_t)~HS_WIRE_FLAG_SEALED;
        memcpy(out + HDR, plain + HS_STAMP_BYTES, plain_len - HS_STAMP_BYTES);
        *out_len = HDR + plain_len - HS_STAMP_BYTES;
    }
    sodium_memzero(plain, plain_len);
    free(plain);
    return err;
}
