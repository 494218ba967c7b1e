/*
 * test_seal.c — keyring parsing and management, sealing and opening, the
 * replay window.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "wire/seal.h"
#include "wire/wire.h"

/* Two fixed keys (32 bytes each, base64) and one generated per test. */
static const char *K1 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
static const char *K2 = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";

static size_t plain_syn(uint8_t *buf, size_t cap, const char *cluster)
{
    hs_wire_digest_entry d = {
        .name = "node-a", .generation = 7, .max_version = 42};
    hs_wire_msg msg = {.type = HS_WIRE_SYN,
                       .cluster = cluster,
                       .sender = {"node-a", 7, "10.0.0.1:7946"},
                       .digest = &d,
                       .n_digest = 1,
                       .range_lo = "",
                       .range_hi = ""};
    size_t len = 0;
    assert_int_equal(hs__wire_encode(&msg, buf, cap, &len), HS_OK);
    return len;
}

static hs_keyring *ring(const char *text)
{
    hs_keyring *kr = NULL;
    int line = -1;
    assert_int_equal(hs__keyring_parse(text, strlen(text), &kr, &line), HS_OK);
    return kr;
}

static void keyring_parses_the_file_format(void **state)
{
    (void)state;
    char text[256];
    snprintf(text, sizeof text, "# cluster keys\n\n  %s  \n%s\n", K1, K2);
    hs_keyring *kr = ring(text);
    assert_int_equal(hs__keyring_count(kr), 2);
    char b64[64];
    assert_int_equal(hs__keyring_key(kr, 0, b64, sizeof b64), HS_OK);
    assert_string_equal(b64, K1);
    assert_int_equal(hs__keyring_key(kr, 1, b64, sizeof b64), HS_OK);
    assert_string_equal(b64, K2);
    assert_int_equal(hs__keyring_key(kr, 2, b64, sizeof b64), HS_ENOTFOUND);

    char out[256];
    size_t len;
    assert_int_equal(hs__keyring_format(kr, out, sizeof out, &len), HS_OK);
    char want[256];
    snprintf(want, sizeof want, "%s\n%s\n", K1, K2);
    assert_string_equal(out, want);
    assert_int_equal(len, strlen(want));
    assert_int_equal(hs__keyring_format(kr, out, 10, &len), HS_ENOSPC);
    hs__keyring_free(kr);
}

static void keyring_rejects_bad_files_with_the_line(void **state)
{
    (void)state;
    hs_keyring *kr = NULL;
    int line = 0;
    char text[512];

    snprintf(text, sizeof text, "%s\nnot-base64!\n", K1);
    assert_int_equal(hs__keyring_parse(text, strlen(text), &kr, &line),
                     HS_EINVAL);
    assert_int_equal(line, 2);
    assert_null(kr);

    /* 16 bytes, valid base64, wrong length */
    const char *short_key = "AAECAwQFBgcICQoLDA0ODw==";
    assert_int_equal(
        hs__keyring_parse(short_key, strlen(short_key), &kr, &line), HS_EINVAL);
    assert_int_equal(line, 1);

    snprintf(text, sizeof text, "%s\n# again\n%s\n", K1, K1);
    assert_int_equal(hs__keyring_parse(text, strlen(text), &kr, &line),
                     HS_EINVAL);
    assert_int_equal(line, 3);

    assert_int_equal(hs__keyring_parse("# nothing\n\n", 11, &kr, &line),
                     HS_ENOTFOUND);

    /* trailing junk after a valid key on the same line */
    snprintf(text, sizeof text, "%s extra\n", K1);
    assert_int_equal(hs__keyring_parse(text, strlen(text), &kr, &line),
                     HS_EINVAL);

    char big[HS_KEYRING_MAX_TEXT + 2];
    memset(big, '#', sizeof big);
    assert_int_equal(hs__keyring_parse(big, sizeof big, &kr, &line),
                     HS_ETOOBIG);

    /* 17 distinct keys: one more than a ring holds */
    size_t off = 0;
    static char many[HS_KEYRING_MAX_TEXT];
    for (int i = 0; i <= HS_KEYRING_MAX; i++) {
        char k[64];
        assert_int_equal(hs_key_generate(k, sizeof k), HS_OK);
        off += (size_t)snprintf(many + off, sizeof many - off, "%s\n", k);
    }
    assert_int_equal(hs__keyring_parse(many, off, &kr, &line), HS_ETOOBIG);
    assert_int_equal(line, HS_KEYRING_MAX + 1);
}

static void rotation_add_use_remove(void **state)
{
    (void)state;
    hs_keyring *kr = ring(K1);
    assert_int_equal(hs__keyring_add(kr, K2), HS_OK);
    assert_int_equal(hs__keyring_add(kr, K2), HS_OK); /* idempotent */
    assert_int_equal(hs__keyring_count(kr), 2);
    assert_int_equal(hs__keyring_remove(kr, K1), HS_ESTATE); /* primary */
    assert_int_equal(hs__keyring_use(kr, K2), HS_OK);
    char b64[64];
    hs__keyring_key(kr, 0, b64, sizeof b64);
    assert_string_equal(b64, K2);
    assert_int_equal(hs__keyring_remove(kr, K1), HS_OK);
    assert_int_equal(hs__keyring_count(kr), 1);
    assert_int_equal(hs__keyring_remove(kr, K1), HS_ENOTFOUND);
    assert_int_equal(hs__keyring_use(kr, K1), HS_ENOTFOUND);
    assert_int_equal(hs__keyring_add(kr, "garbage"), HS_EINVAL);
    hs__keyring_free(kr);
}

static void seal_open_round_trip_hides_the_content(void **state)
{
    (void)state;
    hs_keyring *kr = ring(K1);
    uint8_t plain[512], sealed[600], opened[600];
    size_t plen = plain_syn(plain, sizeof plain, "prod");
    size_t slen, olen;
    assert_int_equal(
        hs__seal(kr, "prod", 1000, plain, plen, sealed, sizeof sealed, &slen),
        HS_OK);
    assert_int_equal(slen, plen + HS_SEAL_OVERHEAD);
    bool is_sealed = false;
    assert_int_equal(hs__wire_check_header(sealed, slen, &is_sealed), HS_OK);
    assert_true(is_sealed);
    /* No name or address in clear. */
    assert_null(memmem(sealed, slen, "node-a", 6));
    assert_null(memmem(sealed, slen, "10.0.0.1", 8));
    assert_null(memmem(sealed, slen, "prod", 4));
    /* A sealed datagram is refused by the plain decoder. */
    hs_wire_msg *msg = NULL;
    assert_int_equal(hs__wire_decode(sealed, slen, "prod", 1400, &msg),
                     HS_ESEALED);

    assert_int_equal(hs__open(kr, NULL, "prod", 1000, sealed, slen, opened,
                              sizeof opened, &olen),
                     HS_OK);
    assert_int_equal(olen, plen);
    assert_memory_equal(opened, plain, plen);
    assert_int_equal(hs__wire_decode(opened, olen, "prod", 1400, &msg), HS_OK);
    assert_string_equal(msg->sender.name, "node-a");
    hs__wire_msg_free(msg);

    /* Two seals of the same datagram differ (random nonces). */
    uint8_t again[600];
    size_t alen;
    hs__seal(kr, "prod", 1000, plain, plen, again, sizeof again, &alen);
    assert_int_not_equal(memcmp(again, sealed, slen), 0);
    assert_int_equal(
        hs__seal(kr, "prod", 1000, plain, plen, again, plen + 10, &alen),
        HS_ENOSPC);
    hs__keyring_free(kr);
}

static void open_rejects_wrong_key_cluster_and_tampering(void **state)
{
    (void)state;
    hs_keyring *kr1 = ring(K1), *kr2 = ring(K2);
    uint8_t plain[512], sealed[600], opened[600];
    size_t plen = plain_syn(plain, sizeof plain, "prod");
    size_t slen, olen;
    hs__seal(kr1, "prod", 1000, plain, plen, sealed, sizeof sealed, &slen);

    assert_int_equal(hs__open(kr2, NULL, "prod", 1000, sealed, slen, opened,
                              sizeof opened, &olen),
                     HS_EKEY);
    assert_int_equal(hs__open(kr1, NULL, "staging", 1000, sealed, slen, opened,
                              sizeof opened, &olen),
                     HS_EAUTH);
    for (size_t i = 0; i < slen; i++) {
        uint8_t bad[600];
        memcpy(bad, sealed, slen);
        bad[i] ^= 0x20;
        hs_err err = hs__open(kr1, NULL, "prod", 1000, bad, slen, opened,
                              sizeof opened, &olen);
        assert_int_not_equal(err, HS_OK);
    }
    for (size_t cut = 0; cut < slen; cut++)
        assert_int_not_equal(hs__open(kr1, NULL, "prod", 1000, sealed, cut,
                                      opened, sizeof opened, &olen),
                             HS_OK);
    /* Plaintext is not "sealed". */
    assert_int_equal(hs__open(kr1, NULL, "prod", 1000, plain, plen, opened,
                              sizeof opened, &olen),
                     HS_EINVAL);
    /* After rotation (K2 primary, K1 still accepted) old boxes open. */
    assert_int_equal(hs__keyring_add(kr2, K1), HS_OK);
    assert_int_equal(hs__open(kr2, NULL, "prod", 1000, sealed, slen, opened,
                              sizeof opened, &olen),
                     HS_OK);
    hs__keyring_free(kr1);
    hs__keyring_free(kr2);
}

static void replay_window_and_cache(void **state)
{
    (void)state;
    hs_keyring *kr = ring(K1);
    hs_replay *rp = NULL;
    assert_int_equal(hs__replay_new(60000, 4, &rp), HS_OK);
    uint8_t plain[512], box[8][600], opened[600];
    size_t plen = plain_syn(plain, sizeof plain, "prod"), blen[8], olen;
    uint64_t t0 = 1700000000000ULL;
    for (int i = 0; i < 8; i++)
        hs__seal(kr, "prod", t0, plain, plen, box[i], sizeof box[i], &blen[i]);

    assert_int_equal(hs__open(kr, rp, "prod", t0 + 10, box[0], blen[0], opened,
                              sizeof opened, &olen),
                     HS_OK);
    assert_int_equal(hs__open(kr, rp, "prod", t0 + 20, box[0], blen[0], opened,
                              sizeof opened, &olen),
                     HS_EREPLAY);
    /* Outside the window either way. */
    assert_int_equal(hs__open(kr, rp, "prod", t0 + 60001, box[1], blen[1],
                              opened, sizeof opened, &olen),
                     HS_EREPLAY);
    assert_int_equal(hs__open(kr, rp, "prod", t0 - 60001, box[1], blen[1],
                              opened, sizeof opened, &olen),
                     HS_EREPLAY);
    /* A failed authentication does not poison the cache. */
    uint8_t bad[600];
    memcpy(bad, box[2], blen[2]);
    bad[blen[2] - 1] ^= 1;
    assert_int_equal(hs__open(kr, rp, "prod", t0, bad, blen[2], opened,
                              sizeof opened, &olen),
                     HS_EAUTH);
    assert_int_equal(hs__open(kr, rp, "prod", t0, box[2], blen[2], opened,
                              sizeof opened, &olen),
                     HS_OK);
    /* Flood past the cache capacity: the oldest is forgotten early and the
     * loss is counted. */
    for (int i = 3; i < 8; i++)
        assert_int_equal(hs__open(kr, rp, "prod", t0, box[i], blen[i], opened,
                                  sizeof opened, &olen),
                         HS_OK);
    assert_true(hs__replay_evicted_early(rp) >= 2);
    assert_int_equal(hs__open(kr, rp, "prod", t0, box[7], blen[7], opened,
                              sizeof opened, &olen),
                     HS_EREPLAY);
    hs__replay_free(rp);
    hs__keyring_free(kr);
}

/* The index must stay exact through many inserts and expiries (backward
 * shift deletion): every live nonce found, every expired one forgotten. */
static void replay_index_survives_churn(void **state)
{
    (void)state;
    hs_keyring *kr = ring(K2);
    hs_replay *rp = NULL;
    assert_int_equal(hs__replay_new(1000, 64, &rp), HS_OK);
    uint8_t plain[512], box[600], opened[600], keep[600];
    size_t plen = plain_syn(plain, sizeof plain, "c"), blen, olen, klen = 0;
    uint64_t t = 5000000;
    for (int i = 0; i < 3000; i++, t += 37) {
        hs__seal(kr, "c", t, plain, plen, box, sizeof box, &blen);
        assert_int_equal(
            hs__open(kr, rp, "c", t, box, blen, opened, sizeof opened, &olen),
            HS_OK);
        if (i % 500 == 0) {
            memcpy(keep, box, blen);
            klen = blen;
        }
        if (klen && i % 500 == 10) /* still inside the window */
            assert_int_equal(hs__open(kr, rp, "c", t, keep, klen, opened,
                                      sizeof opened, &olen),
                             HS_EREPLAY);
    }
    assert_int_equal(hs__replay_evicted_early(rp), 0);
    hs__replay_free(rp);
    hs__keyring_free(kr);
}

/* test_seal --gen-corpus DIR writes the fuzz_seal_open seed corpus: boxes
 * sealed with each key of the fuzzer's ring for cluster "fuzz", one for
 * another cluster, and a few with a flipped byte. */
static int gen_corpus(const char *dir)
{
    const char *keys[] = {K1, K2};
    int n = 0;
    for (int k = 0; k < 2; k++) {
        hs_keyring *kr = NULL;
        int line;
        if (hs__keyring_parse(keys[k], strlen(keys[k]), &kr, &line) != HS_OK)
            return 1;
        for (int v = 0; v < 4; v++) {
            uint8_t plain[512], box[600];
            size_t plen =
                plain_syn(plain, sizeof plain, v == 3 ? "other" : "fuzz");
            size_t blen;
            hs__seal(kr, v == 3 ? "other" : "fuzz", 1000, plain, plen, box,
                     sizeof box, &blen);
            if (v == 2)
                box[blen / 2] ^= 0x40;
            char path[512];
            snprintf(path, sizeof path, "%s/sealed-k%d-%d", dir, k, v);
            FILE *f = fopen(path, "wb");
            if (!f || fwrite(box, 1, blen, f) != blen)
                return 1;
            fclose(f);
            n++;
        }
        hs__keyring_free(kr);
    }
    printf("wrote %d files to %s\n", n, dir);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--gen-corpus") == 0)
        return gen_corpus(argv[2]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keyring_parses_the_file_format),
        cmocka_unit_test(keyring_rejects_bad_files_with_the_line),
        cmocka_unit_test(rotation_add_use_remove),
        cmocka_unit_test(seal_open_round_trip_hides_the_content),
        cmocka_unit_test(open_rejects_wrong_key_cluster_and_tampering),
        cmocka_unit_test(replay_window_and_cache),
        cmocka_unit_test(replay_index_survives_churn),
    };
    return cmocka_run_group_tests_name("seal", tests, NULL, NULL);
}
