/*
 * test_alloc.c — allocation failures inside the core are counted, never
 * silent.
 *
 * The core allocates while it gossips (a message builder per datagram, the
 * datagram itself, members and keys learned, detector histories, queue
 * growth). A failure there cannot be returned to anyone: the round, the
 * answer or the delta is simply lost, so it must at least show in
 * alloc_failures (and the runtime logs it). This test is linked with
 * `-Wl,--wrap` around malloc, calloc, realloc and strdup, so that it can
 * make the n-th allocation from now fail, and sweeps n over every
 * allocation a step of a two-node join makes: whenever a failure was
 * injected, the cores' alloc_failures must have grown. The cores run
 * unchanged; only the allocator says no.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "membership/core.h"

/* ---- The failing allocator ---------------------------------------------- */

static long fail_at = -1; /* allocations left before the one that fails */
static bool fail_all;     /* every allocation fails */
static size_t injected;   /* failures handed out */
static size_t seen;       /* allocations while armed */

static bool should_fail(void)
{
    if (fail_all) {
        injected++;
        return true;
    }
    if (fail_at < 0)
        return false;
    seen++;
    if (fail_at-- == 0) {
        injected++;
        return true;
    }
    return false;
}

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t k, size_t n);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);

void *__wrap_malloc(size_t n)
{
    return should_fail() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t k, size_t n)
{
    return should_fail() ? NULL : __real_calloc(k, n);
}

void *__wrap_realloc(void *p, size_t n)
{
    return should_fail() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
    return should_fail() ? NULL : __real_strdup(s);
}

static void arm(long n)
{
    fail_at = n;
    injected = seen = 0;
}

static void disarm(void)
{
    fail_at = -1;
    fail_all = false;
}

/* ---- Two cores and a wire between them ---------------------------------- */

typedef struct pair {
    hs_core *c[2];
    uint64_t now;
} pair;

static const char *const names[2] = {"a", "b"};

static hs_core *new_core(int i, uint64_t now)
{
    hs_core_config cfg;
    hs__core_config_init(&cfg);
    cfg.cluster = "alloc";
    cfg.name = names[i];
    cfg.addr = names[i];
    cfg.seed = 11 + (uint64_t)i;
    cfg.gossip_interval_ms = 100;
    cfg.heartbeat_interval_ms = 100;
    hs__core_config_scale_timing(&cfg);
    hs_core *c = NULL;
    assert_int_equal(hs__core_new(&cfg, now, &c), HS_OK);
    return c;
}

static void pair_init(pair *p)
{
    p->now = 1000;
    for (int i = 0; i < 2; i++)
        p->c[i] = new_core(i, p->now);
    /* a has keys for b to learn (entries, tags, the key part of a rumor) */
    for (int k = 0; k < 8; k++) {
        char key[8];
        snprintf(key, sizeof key, "k%d", k);
        assert_int_equal(hs__core_set(p->c[0], key, "value", 5, p->now), HS_OK);
    }
    assert_int_equal(hs__core_add_seed(p->c[1], "a"), HS_OK);
}

static void pair_free(pair *p)
{
    for (int i = 0; i < 2; i++)
        hs__core_free(p->c[i]);
}

/* 50 ms of both cores: ticks, then every datagram delivered (answers
 * included) until both are quiet; events drained. */
static void step(pair *p)
{
    p->now += 50;
    for (int i = 0; i < 2; i++)
        hs__core_tick(p->c[i], p->now);
    for (int round = 0; round < 16; round++) {
        bool any = false;
        for (int i = 0; i < 2; i++) {
            hs_datagram d;
            while (hs__core_next_datagram(p->c[i], &d)) {
                int to = strcmp(d.to, "a") == 0 ? 0 : 1;
                /* The buffer is the sender's until its next call: copy. */
                uint8_t buf[HS_WIRE_MAX_DATAGRAM];
                memcpy(buf, d.buf, d.len);
                size_t len = d.len;
                hs__core_receive(p->c[to], p->now, names[i], buf, len);
                any = true;
            }
        }
        if (!any)
            break;
    }
    hs_core_event ev;
    for (int i = 0; i < 2; i++)
        while (hs__core_next_event(p->c[i], &ev))
            ;
}

static uint64_t failures(const pair *p)
{
    return hs__core_stats_get(p->c[0])->alloc_failures +
           hs__core_stats_get(p->c[1])->alloc_failures;
}

/* ---- Tests -------------------------------------------------------------- */

/* A round whose message cannot be built sends nothing, and says so. */
static void test_failed_round_is_counted(void **state)
{
    (void)state;
    pair p;
    pair_init(&p);
    for (int s = 0; s < 20; s++)
        step(&p);
    const hs_stats *st = hs__core_stats_get(p.c[0]);
    uint64_t rounds = st->rounds, before = st->alloc_failures;
    assert_int_equal(before, 0);
    /* Tick a until it runs a round, with every allocation refused. */
    hs_datagram d;
    for (int t = 0; t < 10 && st->rounds == rounds; t++) {
        p.now += 50;
        fail_all = true;
        hs__core_tick(p.c[0], p.now);
        disarm();
    }
    assert_true(st->rounds > rounds);
    assert_false(hs__core_next_datagram(p.c[0], &d));
    printf("a round under a refusing allocator: %zu allocations refused, "
           "alloc_failures %llu, rejected[ENOMEM] %llu\n",
           injected, (unsigned long long)st->alloc_failures,
           (unsigned long long)st->rejected[-HS_ENOMEM]);
    assert_true(st->alloc_failures > before);
    /* And the pair still converges once memory is back. */
    for (int s = 0; s < 20; s++)
        step(&p);
    assert_int_equal(hs__core_member_count(p.c[0]), 2);
    assert_int_equal(hs__core_member_count(p.c[1]), 2);
    pair_free(&p);
}

/* Every allocation of each of the first steps of a join, failed in turn. */
static void test_every_failure_is_counted(void **state)
{
    (void)state;
    const int steps = 12;
    size_t runs = 0, silent = 0, total_injected = 0;
    for (int s = 0; s < steps; s++) {
        for (long k = 0;; k++) {
            pair p;
            pair_init(&p);
            for (int i = 0; i < s; i++)
                step(&p);
            uint64_t before = failures(&p);
            arm(k);
            step(&p);
            size_t got = injected, allocs = seen;
            disarm();
            runs++;
            total_injected += got;
            if (got && failures(&p) == before) {
                silent++;
                print_message("step %d: allocation %ld of %zu failed "
                              "silently\n",
                              s, k, allocs);
            }
            /* Whatever failed, the pair recovers. */
            for (int i = 0; i < 30; i++)
                step(&p);
            assert_int_equal(hs__core_member_count(p.c[1]), 2);
            pair_free(&p);
            if (!got)
                break; /* the step made fewer than k + 1 allocations */
        }
    }
    printf("%zu runs, %zu allocation failures injected, %zu silent\n", runs,
           total_injected, silent);
    assert_true(total_injected > 50);
    assert_int_equal(silent, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failed_round_is_counted),
        cmocka_unit_test(test_every_failure_is_counted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
