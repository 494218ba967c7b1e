/*
 * test_node_query.c — hs_node_query() and hs_node_respond() through the
 * public API: real nodes on loopback sockets, each on its own thread. Every
 * member answers from its HS_EVENT_QUERY callback with its own name; the
 * asker's callback records acks, responses and the end. Checked: every
 * member answers (the origin too), name and tag filters, duplicates never
 * reported, the end after the timeout with the counts, a stopped member
 * not answering, an answer after the timeout refused and counted late,
 * and the errors.
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
#define WAIT_MS 15000

typedef struct member {
    pthread_mutex_t mu;
    bool silent;          /* does not answer from the callback */
    uint64_t last_handle; /* of the last query seen */
    int queries;          /* HS_EVENT_QUERY seen */
    int bad;              /* a query event without its fields */
    hs_err second;        /* a second hs_node_respond() for one query */
    char qname[129];
} member;

typedef struct asker {
    pthread_mutex_t mu;
    int acks, responses, done, after_done;
    char from[N * 2][129];
    char payload[N * 2][513];
    uint32_t done_acks, done_responses, done_timeout;
} asker;

static member mem[N];
static hs_node *nodes[N];
static char addr[N][HS_ADDRSTRLEN];

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

static void on_event(hs_node *node, const hs_event *ev, void *arg)
{
    member *m = arg;
    if (ev->type != HS_EVENT_QUERY)
        return;
    pthread_mutex_lock(&m->mu);
    if (!ev->user_name || !ev->query_id || !ev->query_timeout_ms)
        m->bad++;
    m->queries++;
    m->last_handle = ev->query_id;
    snprintf(m->qname, sizeof m->qname, "%s", ev->user_name);
    bool silent = m->silent;
    pthread_mutex_unlock(&m->mu);
    if (silent)
        return;
    /* Answers with its name and the query's payload. */
    char out[300];
    int len =
        snprintf(out, sizeof out, "%s:%.*s", hs_node_name(node),
                 (int)ev->user_payload_len, (const char *)ev->user_payload);
    if (hs_node_respond(node, ev->query_id, out, (size_t)len) != HS_OK)
        m->bad++;
    hs_err again = hs_node_respond(node, ev->query_id, "x", 1);
    pthread_mutex_lock(&m->mu);
    m->second = again;
    pthread_mutex_unlock(&m->mu);
}

static void on_reply(hs_node *node, const hs_query_reply *r, void *arg)
{
    (void)node;
    asker *a = arg;
    pthread_mutex_lock(&a->mu);
    if (a->done)
        a->after_done++;
    switch (r->kind) {
    case HS_QUERY_ACK:
        a->acks++;
        break;
    case HS_QUERY_RESPONSE:
        if (a->responses < N * 2) {
            snprintf(a->from[a->responses], 129, "%s", r->from);
            snprintf(a->payload[a->responses], 513, "%.*s", (int)r->payload_len,
                     (const char *)r->payload);
        }
        a->responses++;
        break;
    case HS_QUERY_DONE:
        a->done++;
        a->done_acks = r->acks;
        a->done_responses = r->responses;
        a->done_timeout = r->timeout_ms;
        break;
    }
    pthread_mutex_unlock(&a->mu);
}

static bool wait_done(asker *a)
{
    uint64_t end = now_ms() + WAIT_MS;
    while (now_ms() < end) {
        pthread_mutex_lock(&a->mu);
        int d = a->done;
        pthread_mutex_unlock(&a->mu);
        if (d)
            return true;
        sleep_ms(20);
    }
    return false;
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

static uint64_t stat(int i, const char *name)
{
    uint64_t v = 0;
    assert_int_equal(hs_node_stat(nodes[i], name, 0, &v), HS_OK);
    return v;
}

static bool answered_by(asker *a, const char *who)
{
    for (int i = 0; i < a->responses && i < N * 2; i++)
        if (strncmp(a->from[i], who, 128) == 0)
            return true;
    return false;
}

static int setup(void **state)
{
    (void)state;
    for (int i = 0; i < N; i++) {
        memset(&mem[i], 0, sizeof mem[i]);
        pthread_mutex_init(&mem[i].mu, NULL);
        char name[8];
        snprintf(name, sizeof name, "n%d", i);
        hs_config *cfg = fast_config(name, "query", (uint64_t)i + 1);
        assert_int_equal(hs_config_set_str(cfg, "log-level", "error"), HS_OK);
        assert_int_equal(hs_node_new(cfg, NULL, &nodes[i]), HS_OK);
        hs_config_free(cfg);
        const char *role = i == 2 ? "db" : "web";
        assert_int_equal(hs_node_set(nodes[i], "role", role, strlen(role)),
                         HS_OK);
        assert_int_equal(hs_node_on(nodes[i], ~0u, on_event, &mem[i]), HS_OK);
        uint64_t id = 7;
        assert_int_equal(hs_node_query(nodes[i], "early", NULL, 0, NULL,
                                       on_reply, NULL, &id),
                         HS_ESTATE);
        assert_int_equal(id, 0);
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
        assert_int_equal(mem[i].bad, 0);
        pthread_mutex_destroy(&mem[i].mu);
    }
    return 0;
}

static void every_member_answers(void **state)
{
    (void)state;
    asker a = {0};
    pthread_mutex_init(&a.mu, NULL);
    hs_query_opts o = {.timeout_ms = 2000};
    uint64_t id = 0;
    assert_int_equal(
        hs_node_query(nodes[1], "who", "hi", 2, &o, on_reply, &a, &id), HS_OK);
    assert_true(id >= 1);
    assert_true(wait_done(&a));
    sleep_ms(300); /* nothing after the end */
    pthread_mutex_lock(&a.mu);
    assert_int_equal(a.done, 1);
    assert_int_equal(a.after_done, 0);
    assert_int_equal(a.acks, N);
    assert_int_equal(a.responses, N);
    assert_int_equal(a.done_acks, N);
    assert_int_equal(a.done_responses, N);
    assert_int_equal(a.done_timeout, 2000);
    assert_true(answered_by(&a, "n0") && answered_by(&a, "n1") &&
                answered_by(&a, "n2"));
    for (int i = 0; i < N; i++) {
        char want[HS_NAME_MAX + 8];
        snprintf(want, sizeof want, "%s:hi", a.from[i]);
        assert_string_equal(a.payload[i], want);
    }
    pthread_mutex_unlock(&a.mu);
    for (int i = 0; i < N; i++) {
        assert_int_equal(mem[i].queries, 1);
        assert_string_equal(mem[i].qname, "who");
        assert_int_equal(mem[i].second, HS_ESTATE); /* once per query */
    }
    assert_int_equal(stat(1, "queries_sent"), 1);
    assert_int_equal(stat(1, "query_responses_received"), N);
    assert_int_equal(stat(1, "query_acks_received"), N);
    assert_int_equal(stat(0, "queries_received"), 1);
    assert_int_equal(stat(0, "query_responses_sent"), 1);
    assert_int_equal(stat(2, "query_acks_sent"), 1);
    assert_string_equal(hs_event_type_name(HS_EVENT_QUERY), "query");
    pthread_mutex_destroy(&a.mu);
}

static void filters_pick_members(void **state)
{
    (void)state;
    asker by_name = {0}, by_tag = {0}, both = {0};
    pthread_mutex_init(&by_name.mu, NULL);
    pthread_mutex_init(&by_tag.mu, NULL);
    pthread_mutex_init(&both.mu, NULL);
    const char *names[] = {"n1", "n2"};
    const char *db[] = {"role=db"};
    const char *web[] = {"role=web"};
    hs_query_opts o1 = {.timeout_ms = 1500, .nodes = names, .n_nodes = 2};
    hs_query_opts o2 = {.timeout_ms = 1500, .tags = db, .n_tags = 1};
    hs_query_opts o3 = {.timeout_ms = 1500,
                        .nodes = names,
                        .n_nodes = 2,
                        .tags = web,
                        .n_tags = 1};
    assert_int_equal(
        hs_node_query(nodes[0], "f1", NULL, 0, &o1, on_reply, &by_name, NULL),
        HS_OK);
    assert_int_equal(
        hs_node_query(nodes[0], "f2", NULL, 0, &o2, on_reply, &by_tag, NULL),
        HS_OK);
    assert_int_equal(
        hs_node_query(nodes[0], "f3", NULL, 0, &o3, on_reply, &both, NULL),
        HS_OK);
    assert_true(wait_done(&by_name) && wait_done(&by_tag) && wait_done(&both));
    assert_int_equal(by_name.responses, 2);
    assert_true(answered_by(&by_name, "n1") && answered_by(&by_name, "n2"));
    assert_int_equal(by_tag.responses, 1);
    assert_true(answered_by(&by_tag, "n2"));
    assert_int_equal(both.responses, 1);
    assert_true(answered_by(&both, "n1"));
    assert_true(stat(0, "queries_filtered") >= 2); /* n0 itself: f1, f2 */
    pthread_mutex_destroy(&by_name.mu);
    pthread_mutex_destroy(&by_tag.mu);
    pthread_mutex_destroy(&both.mu);
}

static void late_and_stopped_do_not_count(void **state)
{
    (void)state;
    /* n2 answers nothing from its callback; its answer after the end is
     * refused and counted. */
    pthread_mutex_lock(&mem[2].mu);
    mem[2].silent = true;
    pthread_mutex_unlock(&mem[2].mu);
    asker a = {0};
    pthread_mutex_init(&a.mu, NULL);
    hs_query_opts o = {.timeout_ms = 500};
    assert_int_equal(
        hs_node_query(nodes[0], "slow", NULL, 0, &o, on_reply, &a, NULL),
        HS_OK);
    assert_true(wait_done(&a));
    assert_int_equal(a.responses, 2);
    assert_false(answered_by(&a, "n2"));
    assert_int_equal(a.done_acks, 3);
    sleep_ms(700); /* past n2's own deadline for it too */
    pthread_mutex_lock(&mem[2].mu);
    uint64_t h = mem[2].last_handle;
    pthread_mutex_unlock(&mem[2].mu);
    assert_true(h != 0);
    assert_int_equal(hs_node_respond(nodes[2], h, "late", 4), HS_ENOTFOUND);
    assert_int_equal(stat(2, "query_responses_late"), 1);
    assert_int_equal(hs_node_respond(nodes[2], 999999, "x", 1), HS_ENOTFOUND);

    /* A stopped member neither acks nor answers. */
    assert_int_equal(hs_node_stop(nodes[2]), HS_OK);
    asker b = {0};
    pthread_mutex_init(&b.mu, NULL);
    o.timeout_ms = 1000;
    assert_int_equal(
        hs_node_query(nodes[1], "gone", NULL, 0, &o, on_reply, &b, NULL),
        HS_OK);
    assert_true(wait_done(&b));
    assert_int_equal(b.done_acks, 2);
    assert_int_equal(b.done_responses, 2);
    assert_false(answered_by(&b, "n2"));
    pthread_mutex_destroy(&a.mu);
    pthread_mutex_destroy(&b.mu);
}

static void bad_queries_are_refused(void **state)
{
    (void)state;
    asker a = {0};
    uint8_t big[513] = {0};
    const char *bad_node[] = {"has space"};
    const char *bad_tag[] = {"novalue"};
    const char *many[HS_QUERY_NODES_MAX + 1];
    for (int i = 0; i <= HS_QUERY_NODES_MAX; i++)
        many[i] = "n1";
    hs_query_opts on = {.nodes = bad_node, .n_nodes = 1};
    hs_query_opts ot = {.tags = bad_tag, .n_tags = 1};
    hs_query_opts om = {.nodes = many, .n_nodes = HS_QUERY_NODES_MAX + 1};
    hs_query_opts ol = {.timeout_ms = HS_QUERY_TIMEOUT_MAX + 1};
    hs_node *n = nodes[0];
    assert_int_equal(
        hs_node_query(n, "bad name", NULL, 0, NULL, on_reply, &a, NULL),
        HS_EINVAL);
    assert_int_equal(hs_node_query(n, "q", NULL, 0, NULL, NULL, &a, NULL),
                     HS_EINVAL);
    assert_int_equal(
        hs_node_query(n, "q", big, sizeof big, NULL, on_reply, &a, NULL),
        HS_ETOOBIG);
    assert_int_equal(hs_node_query(n, "q", NULL, 0, &on, on_reply, &a, NULL),
                     HS_EINVAL);
    assert_int_equal(hs_node_query(n, "q", NULL, 0, &ot, on_reply, &a, NULL),
                     HS_EINVAL);
    assert_int_equal(hs_node_query(n, "q", NULL, 0, &om, on_reply, &a, NULL),
                     HS_EINVAL);
    assert_int_equal(hs_node_query(n, "q", NULL, 0, &ol, on_reply, &a, NULL),
                     HS_EINVAL);
    assert_int_equal(
        hs_node_query(NULL, "q", NULL, 0, NULL, on_reply, &a, NULL), HS_EINVAL);
    assert_int_equal(hs_node_respond(n, 0, "x", 1), HS_EINVAL);
    assert_int_equal(hs_node_respond(n, 1, big, sizeof big), HS_ETOOBIG);
    /* Pending queries are bounded; the long ones end with the node. */
    pthread_mutex_init(&a.mu, NULL);
    hs_query_opts lng = {.timeout_ms = 60000};
    int ok = 0;
    hs_err e = HS_OK;
    for (int i = 0; i < HS_QUERY_PENDING_MAX + 1 && e == HS_OK; i++) {
        e = hs_node_query(n, "many", NULL, 0, &lng, on_reply, &a, NULL);
        ok += e == HS_OK;
    }
    assert_int_equal(ok, HS_QUERY_PENDING_MAX);
    assert_int_equal(e, HS_EFULL);
    hs_node_stop(n);
    pthread_mutex_destroy(&a.mu);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(every_member_answers, setup, teardown),
        cmocka_unit_test_setup_teardown(filters_pick_members, setup, teardown),
        cmocka_unit_test_setup_teardown(late_and_stopped_do_not_count, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(bad_queries_are_refused, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
