/*
 * test_node_announce.c — hs_node_user_event() and hs_node_force_leave()
 * through the public API: real nodes on loopback sockets, each on its own
 * thread, callbacks recording what they see. The core's rules are tested
 * in test_announce.c; this checks what a library user gets: the event's
 * fields in hs_event (valid in the callback, payload NUL-terminated),
 * `local` at the sender, the errors before start and after stop, and a
 * stopped node force-left on the others.
 *
 * Every wait is bounded (WAIT_MS) and polls a condition.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fast_config.h"

#include <pthread.h>
#include <time.h>

#include "hearsay.h"

#define N 3
#define MAX_EVENTS 256
#define WAIT_MS 15000

typedef struct seen {
    hs_event_type type;
    char name[129];
    char user[129];
    uint8_t payload[513];
    size_t len;
    uint64_t ltime;
    int local;
    int terminated; /* payload[len] was NUL in the callback */
} seen;

typedef struct recorder {
    pthread_mutex_t mu;
    seen ev[MAX_EVENTS];
    size_t n;
    int bad; /* a user event without its fields, or one with them */
} recorder;

static recorder rec[N];
static hs_node *nodes[N];
static char addr[N][HS_ADDRSTRLEN];

static void on_event(hs_node *node, const hs_event *ev, void *arg)
{
    (void)node;
    recorder *r = arg;
    pthread_mutex_lock(&r->mu);
    bool user = ev->type == HS_EVENT_USER;
    if (user != (ev->user_name != NULL) ||
        (user && ev->user_payload_len && !ev->user_payload))
        r->bad++;
    if (r->n < MAX_EVENTS) {
        seen *s = &r->ev[r->n++];
        memset(s, 0, sizeof *s);
        s->type = ev->type;
        snprintf(s->name, sizeof s->name, "%s", ev->name);
        s->local = ev->local;
        if (user && ev->user_name) {
            snprintf(s->user, sizeof s->user, "%s", ev->user_name);
            s->len = ev->user_payload_len < 512 ? ev->user_payload_len : 512;
            memcpy(s->payload, ev->user_payload, s->len);
            s->terminated = ev->user_payload[ev->user_payload_len] == 0;
            s->ltime = ev->user_ltime;
        }
    }
    pthread_mutex_unlock(&r->mu);
}

static int count(int i, hs_event_type type, const char *name)
{
    int k = 0;
    pthread_mutex_lock(&rec[i].mu);
    for (size_t j = 0; j < rec[i].n; j++)
        if (rec[i].ev[j].type == type &&
            (!name || strcmp(type == HS_EVENT_USER ? rec[i].ev[j].user
                                                   : rec[i].ev[j].name,
                             name) == 0))
            k++;
    pthread_mutex_unlock(&rec[i].mu);
    return k;
}

static uint64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static void sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static int state_of(int i, const char *name)
{
    hs_member_list *l = NULL;
    int st = -1;
    if (hs_node_member(nodes[i], name, &l) == HS_OK && l->count)
        st = (int)l->members[0].state;
    hs_member_list_free(l);
    return st;
}

/* Waits until nodes [0, upto) all hold `name` in state `want`. */
static bool wait_state(int upto, const char *name, int want)
{
    uint64_t end = now_ms() + WAIT_MS;
    while (now_ms() < end) {
        bool all = true;
        for (int i = 0; i < upto; i++)
            all = all && state_of(i, name) == want;
        if (all)
            return true;
        sleep_ms(20);
    }
    return false;
}

static bool wait_count(int i, hs_event_type type, const char *name, int want)
{
    uint64_t end = now_ms() + WAIT_MS;
    while (now_ms() < end) {
        if (count(i, type, name) >= want)
            return true;
        sleep_ms(20);
    }
    return false;
}

/* One counter of node i, by name (hs_node_stat). */
static uint64_t stat(int i, const char *name, size_t index)
{
    uint64_t v = 0;
    assert_int_equal(hs_node_stat(nodes[i], name, index, &v), HS_OK);
    return v;
}

static int setup(void **state)
{
    (void)state;
    for (int i = 0; i < N; i++) {
        memset(&rec[i], 0, sizeof rec[i]);
        pthread_mutex_init(&rec[i].mu, NULL);
        char name[8];
        snprintf(name, sizeof name, "n%d", i);
        hs_config *cfg = fast_config(name, "announce", (uint64_t)i + 1);
        assert_int_equal(hs_config_set_str(cfg, "log-level", "error"), HS_OK);
        assert_int_equal(hs_node_new(cfg, NULL, &nodes[i]), HS_OK);
        hs_config_free(cfg);
        assert_int_equal(hs_node_on(nodes[i], ~0u, on_event, &rec[i]), HS_OK);
        /* Not running yet: nothing to announce from. */
        assert_int_equal(hs_node_user_event(nodes[i], "early", "x", 1),
                         HS_ESTATE);
        assert_int_equal(hs_node_force_leave(nodes[i], "n9", false), HS_ESTATE);
        assert_int_equal(hs_node_start(nodes[i]), HS_OK);
        assert_int_equal(hs_node_bound_addr(nodes[i], addr[i], sizeof addr[i]),
                         HS_OK);
        if (i) {
            const char *seed = addr[0];
            assert_int_equal(hs_node_join(nodes[i], &seed, 1), HS_OK);
        }
    }
    for (int i = 0; i < N; i++) {
        char name[8];
        snprintf(name, sizeof name, "n%d", i);
        assert_true(wait_state(N, name, HS_STATE_ALIVE));
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < N; i++) {
        hs_node_free(nodes[i]);
        nodes[i] = NULL;
        assert_int_equal(rec[i].bad, 0);
        pthread_mutex_destroy(&rec[i].mu);
    }
    return 0;
}

static void user_event_reaches_every_callback(void **state)
{
    (void)state;
    assert_int_equal(hs_node_user_event(nodes[0], "deploy", "v1", 2), HS_OK);
    assert_int_equal(hs_node_user_event(nodes[1], "flush", NULL, 0), HS_OK);
    for (int i = 0; i < N; i++) {
        assert_true(wait_count(i, HS_EVENT_USER, "deploy", 1));
        assert_true(wait_count(i, HS_EVENT_USER, "flush", 1));
    }
    sleep_ms(1000); /* nothing comes twice */
    for (int i = 0; i < N; i++) {
        assert_int_equal(count(i, HS_EVENT_USER, "deploy"), 1);
        assert_int_equal(count(i, HS_EVENT_USER, "flush"), 1);
        pthread_mutex_lock(&rec[i].mu);
        for (size_t j = 0; j < rec[i].n; j++) {
            const seen *s = &rec[i].ev[j];
            if (s->type != HS_EVENT_USER)
                continue;
            bool deploy = strcmp(s->user, "deploy") == 0;
            assert_string_equal(s->name, deploy ? "n0" : "n1");
            assert_int_equal(s->local, i == (deploy ? 0 : 1));
            assert_int_equal(s->len, deploy ? 2 : 0);
            if (deploy)
                assert_memory_equal(s->payload, "v1", 2);
            assert_true(s->terminated);
            assert_true(s->ltime >= 1);
        }
        pthread_mutex_unlock(&rec[i].mu);
        assert_int_equal(stat(i, "user_events_sent", 0), i < 2 ? 1 : 0);
        assert_int_equal(stat(i, "user_events_delivered", 0), i < 2 ? 1 : 2);
        assert_int_equal(stat(i, "events", HS_EVENT_USER), 2);
    }
    /* Announcement slots are not tags. */
    hs_member_list *l = NULL;
    assert_int_equal(hs_node_member(nodes[2], "n0", &l), HS_OK);
    assert_int_equal(l->members[0].n_tags, 0);
    hs_member_list_free(l);
    assert_string_equal(hs_event_type_name(HS_EVENT_USER), "user");

    uint8_t big[513] = {0};
    assert_int_equal(hs_node_user_event(nodes[0], "bad name", "x", 1),
                     HS_EINVAL);
    assert_int_equal(hs_node_user_event(nodes[0], "big", big, sizeof big),
                     HS_ETOOBIG);
    assert_int_equal(hs_node_user_event(NULL, "x", "x", 1), HS_EINVAL);
}

static void stopped_node_is_force_left(void **state)
{
    (void)state;
    assert_int_equal(hs_node_force_leave(nodes[0], "n1", false), HS_ESTATE);
    assert_int_equal(hs_node_force_leave(nodes[0], "n0", true), HS_EINVAL);
    assert_int_equal(hs_node_force_leave(nodes[0], "n9", false), HS_ENOTFOUND);
    assert_int_equal(hs_node_stop(nodes[2]), HS_OK);
    assert_true(wait_state(2, "n2", HS_STATE_DEAD));
    assert_int_equal(hs_node_force_leave(nodes[0], "n2", false), HS_OK);
    assert_true(wait_state(2, "n2", HS_STATE_LEFT));
    for (int i = 0; i < 2; i++) {
        assert_true(wait_count(i, HS_EVENT_LEAVE, "n2", 1));
        assert_int_equal(count(i, HS_EVENT_FAIL, "n2"), 1);
        assert_int_equal(stat(i, "force_leaves_applied", 0), 1);
        assert_int_equal(stat(i, "force_leaves_sent", 0), i == 0 ? 1 : 0);
    }
    /* A stopped node announces nothing. */
    assert_int_equal(hs_node_user_event(nodes[2], "late", "x", 1), HS_ESTATE);
    assert_int_equal(hs_node_force_leave(nodes[2], "n0", true), HS_ESTATE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(user_event_reaches_every_callback,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(stopped_node_is_force_left, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
