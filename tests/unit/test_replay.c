/*
 * test_replay.c — the replay cache's index under nonces a sender chooses.
 *
 * The cache remembers 8 bytes of each authenticated datagram's nonce, and
 * the nonce is the sender's choice: any key holder (a compromised or buggy
 * member) can pick them. Unkeyed, the index took the high bits of a
 * multiplication, so nonces that differ only above those bits all had one
 * home slot and each lookup walked all of them. The test is linked with
 * `-Wl,--wrap=randombytes_buf`, so that hs__seal() takes the nonces it is
 * given (real sealing, real opening), floods a cache with such nonces and
 * counts the slots a lookup inspects (hs__replay_probes), never time.
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

static const char *K1 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/* The nonce the next hs__seal() uses, when `forced`. */
static bool forced;
static uint8_t next_nonce[24];

void __real_randombytes_buf(void *buf, size_t size);
void __wrap_randombytes_buf(void *buf, size_t size);
void __wrap_randombytes_buf(void *buf, size_t size)
{
    if (forced && size == sizeof next_nonce) {
        memcpy(buf, next_nonce, size);
        return;
    }
    __real_randombytes_buf(buf, size);
}

static size_t plain_syn(uint8_t *buf, size_t cap)
{
    hs_wire_msg msg = {.type = HS_WIRE_SYN,
                       .cluster = "replay",
                       .sender = {"node-a", 7, "10.0.0.1:7946"},
                       .range_lo = "",
                       .range_hi = ""};
    size_t len = 0;
    assert_int_equal(hs__wire_encode(&msg, buf, cap, &len), HS_OK);
    return len;
}

/* The fingerprint is the nonce's first 8 bytes, little-endian. */
static uint64_t set_nonce(uint32_t j)
{
    /* Low 48 bits fixed, the flood in the top 16: the old index looked at
     * bits 32..46 of fp * constant, which bits above 46 never reach. */
    uint64_t fp = 0x0000123456789abcULL | (uint64_t)j << 48;
    memset(next_nonce, 0x5a, sizeof next_nonce);
    for (int i = 0; i < 8; i++)
        next_nonce[i] = (uint8_t)(fp >> (8 * i));
    return fp;
}

#define FLOOD 3000

static void test_chosen_nonces_do_not_degrade_lookups(void **state)
{
    (void)state;
    hs_keyring *kr = NULL;
    assert_int_equal(hs__keyring_new(&kr), HS_OK);
    assert_int_equal(hs__keyring_add(kr, K1), HS_OK);
    hs_replay *rp = NULL;
    assert_int_equal(hs__replay_new(60000, 4096, &rp), HS_OK);

    uint8_t plain[256], box[512], opened[512];
    size_t plen = plain_syn(plain, sizeof plain), blen, olen;
    static uint64_t fps[FLOOD];
    uint64_t now = 1700000000000ULL;
    for (uint32_t j = 0; j < FLOOD; j++) {
        fps[j] = set_nonce(j);
        forced = true;
        assert_int_equal(
            hs__seal(kr, "replay", now, plain, plen, box, sizeof box, &blen),
            HS_OK);
        forced = false;
        assert_int_equal(hs__open(kr, rp, "replay", now, box, blen, opened,
                                  sizeof opened, &olen),
                         HS_OK);
        /* and the replay is caught */
        if (j % 500 == 0)
            assert_int_equal(hs__open(kr, rp, "replay", now, box, blen, opened,
                                      sizeof opened, &olen),
                             HS_EREPLAY);
    }
    size_t sum = 0, worst = 0;
    for (uint32_t j = 0; j < FLOOD; j++) {
        size_t p = hs__replay_probes(rp, fps[j]);
        sum += p;
        if (p > worst)
            worst = p;
    }
    double mean = (double)sum / FLOOD;
    printf("%d chosen nonces in a cache of 4096 (8192 slots): probes per "
           "lookup mean %.2f, worst %zu\n",
           FLOOD, mean, worst);
    /* At a load of 3000/8192 a random index needs about 1.3 slots; the
     * unkeyed one needed about FLOOD / 2. */
    assert_true(mean < 3.0);
    assert_true(worst < FLOOD / 8);
    hs__replay_free(rp);
    hs__keyring_free(kr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chosen_nonces_do_not_degrade_lookups),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
