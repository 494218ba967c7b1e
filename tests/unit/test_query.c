/*
 * test_query.c — queries in the core (membership/query.c, wire/query.c)
 * on the simulator's deterministic network: virtual time, seeded loss and
 * duplication, no sockets. What the runtime tests (test_node_query.c)
 * cannot pin down: every answer and ack reported once though the network
 * duplicates datagrams, an answer after the end counted late at the asker,
 * the end reported exactly at the timeout, the default timeout's rule,
 * forged and malformed answers rejected and counted, and the bounds.
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
#include "sim/sim.h"

#define N 5
#define MAX_ASKED 64

/* Queries reported to each node (its handles), from the event hook. */
typedef struct rec {
    uint64_t handle[N][MAX_ASKED];
    uint32_t timeout[N][MAX_ASKED];
    char name[N][MAX_ASKED][16];
    int n[N];
} rec;

static void on_event(sim_net *net, uint32_t node, const hs_core_event *ev,
                     void *arg)
{
    (void)net;
    rec *r = arg;
    if (ev->type != HS_EVENT_QUERY || r->n[node] == MAX_ASKED)
        return;
    assert_non_null(ev->user);
    r->handle[node][r->n[node]] = ev->query_id;
    r->timeout[node][r->n[node]] = ev->query_timeout_ms;
    snprintf(r->name[node][r->n[node]], 16, "%.15s", ev->user->name);
    r->n[node]++;
}

static void dummy_cb(hs_node *node, const hs_query_reply *r, void *arg)
{
    (void)node, (void)r, (void)arg;
}

static void init(sim_net *net, rec *r, double loss, double dup)
{
    memset(r, 0, sizeof *r);
    hs_core_config tmpl;
    hs__core_config_init(&tmpl);
    tmpl.cluster = "test";
    sim_hooks hooks = {.on_event = on_event, .arg = r};
    assert_true(sim_net_init(net, N, 42, &tmpl, &hooks));
    net->n_seeds = 1;
    for (int i = 0; i < N; i++) {
        char name[8];
        snprintf(name, sizeof name, "n%d", i);
        sim_node_rename(net, (uint32_t)i, name);
        assert_true(sim_node_start(net, (uint32_t)i, 1));
    }
    net->link.loss = loss;
    net->link.dup = dup;
    net->link.delay_ms = 5;
    net->link.jitter_ms = 10;
}

static void run_for(sim_net *net, uint64_t ms)
{
    for (uint32_t i = 0; i < net->n; i++)
        sim_node_touch(net, i);
    sim_run_until(net, net->now + ms);
    assert_false(net->oom);
}

static uint64_t stat_of(sim_net *net, int i, size_t off)
{
    const hs_core_stats *st = hs__core_stats_get(net->nodes[i].core);
    return *(const uint64_t *)((const char *)st + off);
}
#define STAT(net, i, f) stat_of(net, i, offsetof(hs_core_stats, f))

typedef struct tally {
    int acks, resps, done;
    uint32_t done_acks, done_resps;
    uint64_t done_at;
    char from[N][HS_NAME_MAX + 1];
} tally;

static void take_replies(sim_net *net, int i, uint64_t id, tally *t)
{
    hs_core_reply r;
    while (hs__core_next_reply(net->nodes[i].core, &r)) {
        assert_int_equal(r.id, id);
        assert_ptr_equal(r.cb, dummy_cb);
        if (r.kind == HS_QUERY_ACK) {
            t->acks++;
        } else if (r.kind == HS_QUERY_RESPONSE) {
            assert_true(t->resps < N);
            snprintf(t->from[t->resps++], HS_NAME_MAX + 1, "%s", r.from);
            assert_int_equal(r.payload[r.len], 0);
        } else {
            t->done++;
            t->done_acks = r.acks;
            t->done_resps = r.responses;
            t->done_at = net->now;
        }
    }
}

static void answers_once_despite_duplicates(void **state)
{
    (void)state;
    sim_net net;
    rec r;
    init(&net, &r, 0.0, 0.5); /* every other datagram arrives twice */
    run_for(&net, 10000);
    uint64_t id = 0, t0 = net.now;
    hs_query_opts o = {.timeout_ms = 3000};
    assert_int_equal(hs__core_query(net.nodes[0].core, "who", "p", 1, &o,
                                    dummy_cb, NULL, net.now, &id),
                     HS_OK);
    assert_int_equal(id, 1);
    tally t = {0};
    for (int step = 0; step < 30; step++) {
        run_for(&net, 100);
        for (int i = 0; i < N; i++)
            for (int k = 0; k < r.n[i]; k++)
                if (r.handle[i][k]) {
                    char out[16];
                    int len = snprintf(out, sizeof out, "n%d", i);
                    assert_int_equal(hs__core_respond(net.nodes[i].core,
                                                      r.handle[i][k], out,
                                                      (size_t)len, net.now),
                                     HS_OK);
                    assert_int_equal(hs__core_respond(net.nodes[i].core,
                                                      r.handle[i][k], "x", 1,
                                                      net.now),
                                     HS_ESTATE);
                    r.handle[i][k] = 0;
                }
        take_replies(&net, 0, id, &t);
    }
    run_for(&net, 1000);
    take_replies(&net, 0, id, &t);
    for (int i = 0; i < N; i++) {
        assert_int_equal(r.n[i], 1); /* reported once */
        assert_string_equal(r.name[i][0], "who");
        assert_int_equal(r.timeout[i][0], 3000);
    }
    assert_int_equal(t.acks, N);
    assert_int_equal(t.resps, N);
    assert_int_equal(t.done, 1);
    assert_int_equal(t.done_acks, N);
    assert_int_equal(t.done_resps, N);
    assert_true(t.done_at >= t0 + 3000 && t.done_at <= t0 + 3100);
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++)
            assert_string_not_equal(t.from[i], t.from[j]);
    /* The copies the network made were dropped as duplicates. */
    assert_true(STAT(&net, 0, query_responses_dropped) >= 1);
    assert_int_equal(STAT(&net, 0, query_responses_received), N);
    assert_int_equal(STAT(&net, 0, query_acks_received), N);
    assert_int_equal(STAT(&net, 3, queries_received), 1);
    assert_int_equal(STAT(&net, 3, query_acks_sent), 1);
    assert_int_equal(STAT(&net, 3, query_responses_sent), 1);
    sim_net_free(&net);
}

/* An answer datagram from `from` for query `id` of generation `gen`. */
static size_t forge(uint8_t *buf, size_t cap, const char *cluster,
                    const char *from, uint64_t id, uint64_t gen, bool ack)
{
    hs_wire_response w = {.from_generation = 1,
                          .id = id,
                          .generation = gen,
                          .ack = ack,
                          .payload_len = ack ? 0 : 2};
    snprintf(w.cluster, sizeof w.cluster, "%s", cluster);
    snprintf(w.from, sizeof w.from, "%s", from);
    memcpy(w.payload, "ok", 2);
    size_t len = 0;
    assert_int_equal(hs__wire_response_encode(&w, "n9", buf, cap, &len), HS_OK);
    assert_true(hs__wire_is_response(buf, len));
    return len;
}

static void late_answers_and_bad_ones_are_counted(void **state)
{
    (void)state;
    sim_net net;
    rec r;
    init(&net, &r, 0.0, 0.0);
    run_for(&net, 10000);
    hs_core *c0 = net.nodes[0].core;
    /* The default timeout: 500 ms x 4 x ceil(log10(6)) = 2 s, the floor. */
    uint64_t id = 0, t0 = net.now;
    assert_int_equal(
        hs__core_query(c0, "slow", NULL, 0, NULL, dummy_cb, NULL, net.now, &id),
        HS_OK);
    run_for(&net, 1000);
    assert_int_equal(r.n[2], 1);
    assert_int_equal(r.timeout[2][0], 2000);
    tally t = {0};
    for (int step = 0; step < 24; step++) {
        run_for(&net, 50);
        take_replies(&net, 0, id, &t);
    }
    assert_int_equal(t.done, 1);
    assert_true(t.done_at - t0 >= 2000 && t.done_at - t0 <= 2100);
    assert_int_equal(t.done_acks, N);
    assert_int_equal(t.done_resps, 0);

    /* After the end: late, at the asker and at a responder. */
    uint8_t buf[2048];
    size_t len = forge(buf, sizeof buf, "test", "n3", id, 1, false);
    assert_int_equal(hs__core_receive(c0, net.now, "n3", buf, len), HS_OK);
    assert_int_equal(STAT(&net, 0, query_responses_late), 1);
    len = forge(buf, sizeof buf, "test", "n3", id, 7, false); /* another gen */
    assert_int_equal(hs__core_receive(c0, net.now, "n3", buf, len), HS_OK);
    assert_int_equal(STAT(&net, 0, query_responses_late), 2);
    run_for(&net, 3000);
    assert_int_equal(
        hs__core_respond(net.nodes[2].core, r.handle[2][0], "x", 1, net.now),
        HS_ENOTFOUND);
    assert_int_equal(STAT(&net, 2, query_responses_late), 1);
    assert_false(hs__core_next_reply(c0, &(hs_core_reply){0}));

    /* Bad answers: another cluster, our own name, cut short. */
    uint64_t rej_cluster = hs__core_stats_get(c0)->rejected[-HS_ECLUSTER];
    len = forge(buf, sizeof buf, "other", "n3", id, 1, true);
    assert_int_equal(hs__core_receive(c0, net.now, "n3", buf, len),
                     HS_ECLUSTER);
    assert_int_equal(hs__core_stats_get(c0)->rejected[-HS_ECLUSTER],
                     rej_cluster + 1);
    len = forge(buf, sizeof buf, "test", "n0", id, 1, true);
    assert_int_equal(hs__core_receive(c0, net.now, "n0", buf, len), HS_ESELF);
    len = forge(buf, sizeof buf, "test", "n3", id, 1, false);
    assert_int_equal(hs__core_receive(c0, net.now, "n3", buf, len - 1),
                     HS_EMALFORMED);
    /* An ack with a payload, and a zero id, are refused by the encoder too. */
    hs_wire_response w = {.from_generation = 1, .id = 0, .generation = 1};
    snprintf(w.cluster, sizeof w.cluster, "test");
    snprintf(w.from, sizeof w.from, "n3");
    assert_int_equal(hs__wire_response_encode(&w, "", buf, sizeof buf, &len),
                     HS_EINVAL);
    w.id = 1;
    w.ack = true;
    w.payload_len = 1;
    assert_int_equal(hs__wire_response_encode(&w, "", buf, sizeof buf, &len),
                     HS_EINVAL);
    sim_net_free(&net);
}

static void bounds(void **state)
{
    (void)state;
    sim_net net;
    rec r;
    init(&net, &r, 0.0, 0.0);
    run_for(&net, 5000);
    hs_core *c = net.nodes[1].core;
    /* Filters that cannot fit one announcement. */
    char longname[HS_NAME_MAX + 1];
    memset(longname, 'a', HS_NAME_MAX);
    longname[HS_NAME_MAX] = 0;
    const char *many[HS_QUERY_NODES_MAX];
    for (int i = 0; i < HS_QUERY_NODES_MAX; i++)
        many[i] = longname;
    hs_query_opts big = {.nodes = many, .n_nodes = HS_QUERY_NODES_MAX};
    assert_int_equal(
        hs__core_query(c, "q", NULL, 0, &big, dummy_cb, NULL, net.now, NULL),
        HS_ETOOBIG);
    assert_int_equal(STAT(&net, 1, queries_sent), 0);
    /* Waiting queries are bounded before the rate limit is touched. */
    hs_query_opts lng = {.timeout_ms = 60000};
    int ok = 0;
    hs_err e = HS_OK;
    for (int i = 0; i < 40 && e == HS_OK; i++) {
        e = hs__core_query(c, "q", NULL, 0, &lng, dummy_cb, NULL, net.now,
                           NULL);
        ok += e == HS_OK;
    }
    assert_int_equal(ok, HS_QUERY_PENDING_MAX);
    assert_int_equal(e, HS_EFULL);
    /* The shared rate limit: n2's user events spend the burst. */
    hs_core *c2 = net.nodes[2].core;
    int sent = 0;
    while (hs__core_user_event(c2, "e", NULL, 0, net.now) == HS_OK && sent < 64)
        sent++;
    assert_int_equal(sent, 16);
    assert_int_equal(
        hs__core_query(c2, "q", NULL, 0, NULL, dummy_cb, NULL, net.now, NULL),
        HS_ERATE);
    assert_int_equal(STAT(&net, 2, queries_rate_limited), 1);
    sim_net_free(&net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(answers_once_despite_duplicates),
        cmocka_unit_test(late_answers_and_bad_ones_are_counted),
        cmocka_unit_test(bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
