/*
 * gen_core_corpus.c — writes the seed corpus of fuzz_core_receive: what a
 * core named "self" hears from two real peers over a few simulated
 * seconds, in that fuzzer's record format (see fuzz_core_receive.c).
 *
 *     gen_core_corpus DIR
 *
 * Scenarios: peers joining with tags, tag churn with deletes (tombstones),
 * a graceful leave, a crash (suspicion, death, reaping) and a restart with
 * a higher generation. Everything is deterministic (fixed seeds, a virtual
 * clock), so the files only change when the protocol does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "membership/core.h"
#include "wire/wire.h"

#define STEP_MS 50
#define MAX_FILE 48000

static const char *const addrs[3] = {"10.0.0.1:7946", "10.0.0.2:7946",
                                     "10.0.0.3:7946"};
static const char *const names[3] = {"self", "alpha", "beta"};

typedef struct sim {
    hs_core *c[3];
    bool up[3];
    uint64_t now, last_rec;
    uint8_t out[MAX_FILE];
    size_t len;
} sim;

static hs_core *make(int i, uint64_t gen, uint64_t now)
{
    hs_core_config cfg;
    hs__core_config_init(&cfg);
    cfg.cluster = "fuzz";
    cfg.name = names[i];
    cfg.addr = addrs[i];
    cfg.generation = gen;
    cfg.seed = i == 0 ? 42 : (uint64_t)i * 7 + 1;
    cfg.gossip_interval_ms = 100;
    cfg.heartbeat_interval_ms = 100;
    cfg.dead_after_ms = 500;
    cfg.reap_dead_after_ms = 3000;
    cfg.reap_left_after_ms = 2000;
    cfg.tombstone_gc_ms = 2500;
    cfg.max_members = 32;
    cfg.max_keys = 8;
    cfg.max_pending = 64;
    cfg.max_events = 256;
    cfg.graveyard = 16;
    hs_core *c = NULL;
    if (hs__core_new(&cfg, now, &c) != HS_OK)
        abort();
    for (int j = 0; j < 3; j++)
        if (j != i)
            hs__core_add_seed(c, addrs[j]);
    return c;
}

/* Appends one record to self's input: the time since the last record in
 * 50 ms steps (empty local records carry gaps over 63 steps). */
static void record(sim *s, int src, const uint8_t *buf, size_t len)
{
    uint64_t steps = (s->now - s->last_rec) / STEP_MS;
    while (steps > 63) {
        if (s->len + 3 > MAX_FILE)
            return;
        s->out[s->len++] = (uint8_t)(63 << 2 | 3);
        s->out[s->len++] = 0;
        s->out[s->len++] = 0;
        steps -= 63;
    }
    if (s->len + 3 + len > MAX_FILE)
        return;
    s->last_rec += (s->now - s->last_rec) / STEP_MS * STEP_MS;
    s->out[s->len++] = (uint8_t)(steps << 2 | (unsigned)(src - 1));
    s->out[s->len++] = (uint8_t)len;
    s->out[s->len++] = (uint8_t)(len >> 8);
    memcpy(s->out + s->len, buf, len);
    s->len += len;
}

static void deliver(sim *s, int from)
{
    hs_datagram d;
    while (hs__core_next_datagram(s->c[from], &d)) {
        for (int to = 0; to < 3; to++) {
            if (strcmp(d.to, addrs[to]) != 0 || !s->up[to])
                continue;
            if (to == 0)
                record(s, from, d.buf, d.len);
            hs__core_receive(s->c[to], s->now, addrs[from], d.buf, d.len);
        }
    }
    hs_core_event ev;
    while (hs__core_next_event(s->c[from], &ev))
        ;
}

static void run(sim *s, uint64_t ms)
{
    for (uint64_t t = 0; t < ms; t += STEP_MS) {
        s->now += STEP_MS;
        for (int i = 0; i < 3; i++)
            if (s->up[i])
                hs__core_tick(s->c[i], s->now);
        for (int k = 0; k < 3; k++) /* replies of replies */
            for (int i = 0; i < 3; i++)
                if (s->up[i])
                    deliver(s, i);
    }
}

static void start(sim *s)
{
    memset(s, 0, sizeof *s);
    s->now = s->last_rec = 1000000;
    for (int i = 0; i < 3; i++) {
        s->c[i] = make(i, 1000 + (uint64_t)i, s->now);
        s->up[i] = true;
    }
    hs__core_set(s->c[1], "role", "db", 2, s->now);
    hs__core_set(s->c[2], "zone", "eu-west-1a", 10, s->now);
}

static void finish(sim *s, const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(s->out, 1, s->len, f) != s->len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
    for (int i = 0; i < 3; i++)
        hs__core_free(s->c[i]);
    printf("%s: %zu bytes\n", path, s->len);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_core_corpus DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    sim *s = malloc(sizeof *s);
    if (!s)
        return 1;

    start(s);
    run(s, 1500);
    finish(s, dir, "join");

    start(s);
    run(s, 800);
    char key[8], val[64];
    for (int i = 0; i < 12; i++) {
        snprintf(key, sizeof key, "k%d", i % 6);
        snprintf(val, sizeof val, "value-%d-%0*d", i, i * 3, 0);
        hs__core_set(s->c[1 + i % 2], key, val, strlen(val), s->now);
        if (i % 3 == 2)
            hs__core_del(s->c[1 + i % 2], key, s->now);
        run(s, 150);
    }
    run(s, 3000); /* tombstones collected */
    finish(s, dir, "tags");

    start(s);
    run(s, 800);
    hs__core_leave(s->c[2], s->now);
    run(s, 2600); /* spread, then reaped */
    finish(s, dir, "leave");

    start(s);
    run(s, 800);
    s->up[2] = false; /* a crash: silence */
    run(s, 4500);
    finish(s, dir, "crash");

    start(s);
    run(s, 800);
    hs__core_free(s->c[2]);
    s->c[2] = make(2, 5000, s->now); /* restart: higher generation */
    hs__core_set(s->c[2], "zone", "eu-west-1b", 10, s->now);
    run(s, 1500);
    finish(s, dir, "restart");
    free(s);
    return 0;
}
