/*
 * test_node.c — the runtime over real loopback sockets: several nodes in
 * this process, embedded on one virtual loop (vloop.h: the runtime's own
 * code on a clock the test advances), on a caller's libev loop, or on
 * their own threads (own-thread mode, with other threads querying them
 * concurrently).
 *
 * Timing behaviour (detection, leave, restart, joins, pauses, the timer
 * under busy callers) is tested on the virtual loop: no wall-clock waits,
 * nothing that a loaded machine slows into a failure. The tests that need
 * real threads (own-thread mode, the resolver's) run on libev and wait for
 * conditions with generous bounds, never asserting on elapsed time.
 * Intervals are 100 ms (failure detection then takes about a second of
 * the node's time), every wait is bounded by run_until(), and ports are 0
 * so tests never collide with each other or with anything else on the
 * host.
 *
 * The harness (clusters in each mode, recorders, bounded waits) is
 * node_cluster.c; own-thread mode under concurrent callers is
 * test_node_thread.c.
 */
#include "node_cluster.h"

/* ---- Tests: embedded mode ----------------------------------------------- */

static void join_and_converge(void **state)
{
    (void)state;
    cluster *c = cluster_up("converge", 4, ON_VLOOP);
    assert_converges(c);
    for (int i = 0; i < c->n; i++) {
        for (int j = 0; j < c->n; j++)
            if (i != j)
                assert_int_equal(
                    count_events(&c->rec[i], HS_EVENT_JOIN, c->names[j]), 1);
        assert_int_equal(count_events(&c->rec[i], HS_EVENT_FAIL, NULL), 0);

        hs_member_list *l;
        assert_int_equal(hs_node_members(c->nodes[i], &l), HS_OK);
        assert_int_equal(l->count, 4);
        for (size_t k = 0; k < l->count; k++) {
            assert_string_equal(l->members[k].name, c->names[k]); /* sorted */
            assert_string_equal(l->members[k].addr, c->addr[k]);
            assert_int_equal(l->members[k].is_self, (int)k == i);
        }
        hs_member_list_free(l);

        char adv[HS_ADDRSTRLEN];
        assert_int_equal(hs_node_advertised_addr(c->nodes[i], adv, sizeof adv),
                         HS_OK);
        assert_string_equal(adv, c->addr[i]);
        assert_string_not_equal(c->addr[i], "127.0.0.1:0");

        hs_node *n = c->nodes[i];
        assert_true(stat_of(n, "rounds", 0) > 0);
        assert_true(stat_of(n, "msgs_sent", 1) > 0); /* syn */
        assert_true(stat_of(n, "msgs_recv", 2) + stat_of(n, "msgs_recv", 1) >
                    0);
        assert_int_equal(stat_of(n, "send_errors", 0), 0);
        assert_int_equal(stat_of(n, "recv_errors", 0), 0);
        assert_true(stat_of(n, "round_us_sum", 0) > 0);
        assert_true(stat_of(n, "round_us_max", 0) > 0);
    }
    cluster_free(c);
}

static void keys_reach_every_node(void **state)
{
    (void)state;
    cluster *c = cluster_new("keys", ON_VLOOP);
    node_up(c, 0, NULL);
    node_up(c, 1, NULL);
    /* A key set before start goes out with the first gossip. */
    hs_config *cfg = NULL;
    test_config(c, &cfg, 2);
    assert_int_equal(node_new(c, cfg, &c->nodes[2]), HS_OK);
    assert_int_equal(hs_node_set(c->nodes[2], "zone", "eu-1", 4), HS_OK);
    assert_int_equal(hs_node_set(c->nodes[2], "tmp", "x", 1), HS_OK);
    assert_int_equal(hs_node_del(c->nodes[2], "tmp"), HS_OK);
    assert_int_equal(hs_node_del(c->nodes[2], "tmp"), HS_ENOTFOUND);
    assert_int_equal(hs_node_on(c->nodes[2], ~0u, record, &c->rec[2]), HS_OK);
    assert_int_equal(hs_node_start(c->nodes[2]), HS_OK);
    const char *seed = c->addr[0];
    assert_int_equal(hs_node_join(c->nodes[2], &seed, 1), HS_OK);
    c->n = 3;
    assert_converges(c);
    tag_probe zone = {"n2", "zone", "eu-1"}, tmp = {"n2", "tmp", NULL};
    assert_true(run_until(c, tag_everywhere, &zone, WAIT_MS));
    assert_true(tag_everywhere(c, &tmp));

    /* Set on one, seen on all, with an UPDATE event naming the key. */
    assert_int_equal(hs_node_set(c->nodes[1], "role", "db", 2), HS_OK);
    tag_probe role = {"n1", "role", "db"};
    assert_true(run_until(c, tag_everywhere, &role, WAIT_MS));
    assert_int_equal(hs_node_set(c->nodes[1], "role", "cache", 5), HS_OK);
    tag_probe role2 = {"n1", "role", "cache"};
    assert_true(run_until(c, tag_everywhere, &role2, WAIT_MS));
    assert_int_equal(hs_node_del(c->nodes[1], "role"), HS_OK);
    tag_probe gone = {"n1", "role", NULL};
    assert_true(run_until(c, tag_everywhere, &gone, WAIT_MS));
    run_for(c, 200); /* let the last events be dispatched */
    for (int i = 0; i < 3; i++) {
        if (i == 1)
            continue;
        int updates = 0, deletes = 0;
        pthread_mutex_lock(&c->rec[i].mu);
        for (size_t k = 0; k < c->rec[i].n; k++) {
            rec_event *e = &c->rec[i].ev[k];
            if (e->type == HS_EVENT_UPDATE && !strcmp(e->name, "n1") &&
                !strcmp(e->key, "role"))
                e->deleted ? deletes++ : updates++;
        }
        pthread_mutex_unlock(&c->rec[i].mu);
        assert_true(updates >= 1); /* the two sets may arrive as one */
        assert_int_equal(deletes, 1);
    }
    /* Keys of the node's own: validated like the core does. */
    assert_int_equal(hs_node_set(c->nodes[0], "hs.x", "1", 1), HS_ERESERVED);
    assert_int_equal(hs_node_set(c->nodes[0], "a b", "1", 1), HS_EINVAL);
    char big[2048] = {0};
    assert_int_equal(hs_node_set(c->nodes[0], "big", big, sizeof big),
                     HS_ETOOBIG);
    assert_int_equal(hs_node_del(c->nodes[0], "absent"), HS_ENOTFOUND);
    cluster_free(c);
}

static void stopped_node_is_declared_failed(void **state)
{
    (void)state;
    cluster *c = cluster_up("fail", 3, ON_VLOOP);
    assert_converges(c);
    uint64_t t0 = cluster_now(c);
    assert_int_equal(hs_node_stop(c->nodes[2]), HS_OK);
    assert_int_equal(hs_node_stop(c->nodes[2]), HS_OK); /* idempotent */
    state_probe dead = {"n2", HS_STATE_DEAD, {0, 1, -1}};
    assert_true(run_until(c, seen_as, &dead, WAIT_MS));
    uint64_t took = cluster_now(c) - t0;
    print_message("stopped node declared dead after %llu ms\n",
                  (unsigned long long)took);
    for (int i = 0; i < 2; i++) {
        assert_true(count_events(&c->rec[i], HS_EVENT_SUSPECT, "n2") >= 1);
        assert_int_equal(count_events(&c->rec[i], HS_EVENT_FAIL, "n2"), 1);
        assert_int_equal(count_events(&c->rec[i], HS_EVENT_LEAVE, "n2"), 0);
    }
    /* The survivors still see each other alive. */
    int live[] = {0, 1, -1};
    assert_true(all_alive(c, live));
    /* A stopped node keeps its last view and refuses writes. */
    assert_int_equal(state_of(c, 2, "n0", NULL), HS_STATE_ALIVE);
    assert_int_equal(hs_node_set(c->nodes[2], "k", "v", 1), HS_ESTATE);
    assert_int_equal(hs_node_leave(c->nodes[2], 100, NULL, NULL), HS_ESTATE);
    cluster_free(c);
}

typedef struct done_probe {
    int calls;
    hs_err status;
} done_probe;

static void on_done(hs_node *node, hs_err status, void *arg)
{
    (void)node;
    done_probe *d = arg;
    d->calls++;
    d->status = status;
}

static bool left_and_done(cluster *c, void *arg)
{
    state_probe left = {"n2", HS_STATE_LEFT, {0, 1, -1}};
    return ((done_probe *)arg)->calls > 0 && seen_as(c, &left);
}

static void graceful_leave_is_seen_as_leave(void **state)
{
    (void)state;
    cluster *c = cluster_up("leave", 3, ON_VLOOP);
    assert_converges(c);
    done_probe done = {0, HS_EIO};
    assert_int_equal(hs_node_leave(c->nodes[2], 500, on_done, &done), HS_OK);
    assert_int_equal(hs_node_leave(c->nodes[2], 500, on_done, &done),
                     HS_ESTATE);
    assert_int_equal(hs_node_set(c->nodes[2], "k", "v", 1), HS_ESTATE);
    assert_true(run_until(c, left_and_done, &done, WAIT_MS));
    assert_int_equal(done.calls, 1);
    assert_int_equal(done.status, HS_OK);
    /* Well past detection time: left stays left, never "failed". */
    run_for(c, 2000);
    state_probe left = {"n2", HS_STATE_LEFT, {0, 1, -1}};
    assert_true(seen_as(c, &left));
    for (int i = 0; i < 2; i++) {
        assert_int_equal(count_events(&c->rec[i], HS_EVENT_LEAVE, "n2"), 1);
        assert_int_equal(count_events(&c->rec[i], HS_EVENT_FAIL, "n2"), 0);
    }
    assert_int_equal(state_of(c, 2, "n2", NULL), HS_STATE_LEFT);
    assert_int_equal(done.calls, 1);
    cluster_free(c);
}

static void stop_during_leave_reports_estate(void **state)
{
    (void)state;
    cluster *c = cluster_up("leave-stop", 2, ON_VLOOP);
    assert_converges(c);
    done_probe done = {0, HS_OK};
    assert_int_equal(hs_node_leave(c->nodes[1], 60000, on_done, &done), HS_OK);
    run_for(c, 100);
    assert_int_equal(done.calls, 0);
    assert_int_equal(hs_node_stop(c->nodes[1]), HS_OK);
    assert_int_equal(done.calls, 1);
    assert_int_equal(done.status, HS_ESTATE);
    state_probe left = {"n1", HS_STATE_LEFT, {0, -1}};
    assert_true(run_until(c, seen_as, &left, WAIT_MS));
    cluster_free(c);
}

typedef struct gen_probe {
    uint64_t generation;
    const char *addr;
} gen_probe;

static bool restarted_everywhere(cluster *c, void *arg)
{
    const gen_probe *p = arg;
    for (int i = 0; i < 2; i++) {
        hs_member_list *l;
        if (hs_node_member(c->nodes[i], "n2", &l) != HS_OK)
            return false;
        bool ok = l->members[0].generation == p->generation &&
                  l->members[0].state == HS_STATE_ALIVE &&
                  strcmp(l->members[0].addr, p->addr) == 0;
        hs_member_list_free(l);
        if (!ok)
            return false;
    }
    return true;
}

static void restart_with_higher_generation_replaces(void **state)
{
    (void)state;
    cluster *c = cluster_new("restart", ON_VLOOP);
    node_up(c, 0, NULL);
    node_up(c, 1, NULL);
    hs_config *cfg = NULL;
    test_config(c, &cfg, 2);
    SET_UINT(cfg, "generation", 1000);
    node_up(c, 2, cfg);
    assert_int_equal(hs_node_generation(c->nodes[2]), 1000);
    assert_converges(c);
    assert_int_equal(hs_node_set(c->nodes[2], "old", "1", 1), HS_OK);
    tag_probe old = {"n2", "old", "1"};
    assert_true(run_until(c, tag_everywhere, &old, WAIT_MS));

    /* Crash (no leave) and come back on a new port, generation 2000. */
    hs_node_free(c->nodes[2]);
    c->nodes[2] = NULL;
    SET_UINT(cfg, "generation", 2000);
    node_up(c, 2, cfg);
    gen_probe p = {2000, c->addr[2]};
    assert_true(run_until(c, restarted_everywhere, &p, WAIT_MS));
    for (int i = 0; i < 2; i++)
        assert_true(count_events(&c->rec[i], HS_EVENT_RESTART, "n2") >= 1);
    /* The old incarnation's keys went with it. */
    tag_probe gone = {"n2", "old", NULL};
    assert_true(run_until(c, tag_everywhere, &gone, WAIT_MS));
    cluster_free(c);
}

static void pause_is_forgiven(void **state)
{
    (void)state;
    cluster *c = cluster_up("pause", 3, ON_VLOOP);
    assert_converges(c);
    /* The whole loop stalls for 2 s, longer than the ~1 s it takes to
     * convict at these intervals: every node must blame itself. */
    vloop_stall(c->vl, 2000);
    run_for(c, 1500);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(count_events(&c->rec[i], HS_EVENT_FAIL, NULL), 0);
        assert_true(stat_of(c->nodes[i], "pauses", 0) >= 1);
    }
    assert_true(all_alive(c, NULL));
    cluster_free(c);
}

static void idle_node_does_not_spin(void **state)
{
    (void)state;
    cluster *c = cluster_up("idle", 1, ON_VLOOP);
    uint64_t before = vloop_callbacks(c->vl);
    run_for(c, 1000);
    unsigned iterations = (unsigned)(vloop_callbacks(c->vl) - before);
    print_message("1 s idle: %u loop wake-ups\n", iterations);
    /* One gossip round and one heartbeat per 100 ms: ~20 wake-ups. */
    assert_true(iterations >= 5);
    assert_true(iterations <= 100);
    cluster_free(c);
}

/* API calls (or datagrams) every fraction of a millisecond must not keep
 * the timer from ticking: each call moves the core's deadline to now + 1
 * while a tick is due. On the virtual loop a call comes every millisecond
 * of the node's time, after the clock moved and before the loop runs what
 * fell due: a timer re-armed to now + 1 by each call would never fire. */
static void busy_callers_do_not_starve_ticks(void **state)
{
    (void)state;
    cluster *c = cluster_up("busy", 2, ON_VLOOP);
    assert_converges(c);
    uint64_t before = stat_of(c->nodes[1], "rounds", 0);
    uint64_t end = vloop_now(c->vl) + 1500;
    unsigned i = 0;
    while (vloop_now(c->vl) < end) {
        char v[16];
        snprintf(v, sizeof v, "%u", i++);
        vloop_stall(c->vl, 1);
        assert_int_equal(hs_node_set(c->nodes[1], "busy", v, strlen(v)), HS_OK);
        vloop_run_until(c->vl, NULL, NULL, vloop_now(c->vl));
    }
    uint64_t after = stat_of(c->nodes[1], "rounds", 0);
    print_message("%u sets; %llu rounds in 1.5 s\n", i,
                  (unsigned long long)(after - before));
    assert_true(after - before >= 7); /* 15 due */
    assert_int_equal(count_events(&c->rec[0], HS_EVENT_FAIL, NULL), 0);
    assert_true(all_alive(c, NULL));
    cluster_free(c);
}

static bool resolved_seed_converged(cluster *c, void *arg)
{
    (void)arg;
    return all_alive(c, NULL);
}

static bool resolve_failed(cluster *c, void *arg)
{
    return stat_of(c->nodes[*(int *)arg], "resolve_errors", 0) > 0;
}

static void dns_seeds_are_resolved_off_loop(void **state)
{
    (void)state;
    /* On libev: the names are resolved on the resolver's thread, in real
     * time, and reach the loop as wake-ups from it. */
    cluster *c = cluster_new("dns", ON_LIBEV);
    node_up(c, 0, NULL);
    hs_config *cfg = NULL;
    test_config(c, &cfg, 1);
    SET_UINT(cfg, "resolve-interval", 200);
    assert_int_equal(node_new(c, cfg, &c->nodes[1]), HS_OK);
    char seed[80];
    const char *p = strrchr(c->addr[0], ':');
    snprintf(seed, sizeof seed, "localhost%s", p);
    const char *seeds[] = {seed};
    /* Joined before start: resolved once the node runs. */
    assert_int_equal(hs_node_join(c->nodes[1], seeds, 1), HS_OK);
    assert_int_equal(hs_node_start(c->nodes[1]), HS_OK);
    c->n = 2;
    assert_true(run_until(c, resolved_seed_converged, NULL, WAIT_MS));

    /* A name that does not resolve is counted and logged, not fatal. */
    const char *bad[] = {"no-such-host.invalid:7946"};
    assert_int_equal(hs_node_join(c->nodes[1], bad, 1), HS_OK);
    int who = 1;
    assert_true(run_until(c, resolve_failed, &who, 30000));
    assert_true(log_has(&c->log, "no-such-host.invalid"));
    assert_true(all_alive(c, NULL));
    cluster_free(c);
}

static void wildcard_bind_advertises_an_interface(void **state)
{
    (void)state;
    cluster *c = cluster_new("wildcard", ON_VLOOP);
    node_up(c, 0, NULL);
    hs_config *cfg = NULL;
    test_config(c, &cfg, 1);
    SET_STR(cfg, "bind", "0.0.0.0:0");
    node_up(c, 1, cfg);
    char adv[HS_ADDRSTRLEN];
    assert_int_equal(hs_node_advertised_addr(c->nodes[1], adv, sizeof adv),
                     HS_OK);
    assert_true(strncmp(adv, "0.0.0.0:", 8) != 0);
    assert_true(strncmp(c->addr[1], "0.0.0.0:", 8) == 0);
    assert_string_equal(strrchr(adv, ':'), strrchr(c->addr[1], ':'));
    assert_true(run_until(c, all_alive, NULL, WAIT_MS));
    cluster_free(c);
}

static void ipv6_loopback_converges(void **state)
{
    (void)state;
    int probe = socket(AF_INET6, SOCK_DGRAM, 0);
    struct sockaddr_in6 sa = {.sin6_family = AF_INET6,
                              .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    bool have_v6 =
        probe >= 0 && bind(probe, (struct sockaddr *)&sa, sizeof sa) == 0;
    if (probe >= 0)
        close(probe);
    if (!have_v6)
        skip();
    cluster *c = cluster_new("ipv6", ON_VLOOP);
    hs_config *cfg[3] = {NULL};
    for (int i = 0; i < 3; i++) {
        test_config(c, &cfg[i], i);
        SET_STR(cfg[i], "bind", i < 2 ? "[::1]:0" : "[::]:0");
    }
    /* Node 2 is dual-stack: it talks to [::1] peers and advertises
     * whatever interface address it picked. */
    SET_STR(cfg[2], "advertise", "[::1]:0");
    for (int i = 0; i < 3; i++)
        node_up(c, i, cfg[i]);
    assert_true(strncmp(c->addr[0], "[::1]:", 6) == 0);
    assert_true(run_until(c, all_alive, NULL, WAIT_MS));
    char adv[HS_ADDRSTRLEN];
    assert_int_equal(hs_node_advertised_addr(c->nodes[2], adv, sizeof adv),
                     HS_OK);
    assert_string_equal(strrchr(adv, ':'), strrchr(c->addr[2], ':'));
    cluster_free(c);
}

/* ---- Tests: errors ------------------------------------------------------ */

static void bad_configs_and_addresses_are_errors(void **state)
{
    (void)state;
    cluster *c = cluster_new("errors", ON_VLOOP);
    hs_config *cfg = NULL;
    hs_node *n = NULL;

    test_config(c, &cfg, 0);
    SET_STR(cfg, "name", NULL);
    assert_int_equal(node_new(c, cfg, &n), HS_EINVAL);
    assert_null(n);
    assert_true(log_has(&c->log, "hearsay[?] error: config: name"));
    /* Out-of-range values are refused by the setter, the config unchanged. */
    assert_int_equal(hs_config_set_str(cfg, "name", "has space"), HS_EINVAL);
    assert_int_equal(hs_config_set_uint(cfg, "gossip-interval", 0), HS_EINVAL);
    assert_int_equal(hs_config_set_uint(cfg, "fanout", 17), HS_EINVAL);
    assert_int_equal(hs_config_set_uint(cfg, "max-datagram", 100), HS_EINVAL);
    assert_int_equal(hs_config_set_uint(cfg, "no-such-option", 1),
                     HS_ENOTFOUND);
    assert_int_equal(node_new(c, cfg, &n), HS_EINVAL);
    /* Keys and a datagram too small to seal them: a cross-field check. */
    test_config(c, &cfg, 0);
    char key[HS_KEY_TEXT_LEN];
    assert_int_equal(hs_key_generate(key, sizeof key), HS_OK);
    const char *keys[] = {key};
    assert_int_equal(hs_config_set_keys(cfg, keys, 1), HS_OK);
    SET_UINT(cfg, "max-datagram", 520);
    assert_int_equal(node_new(c, cfg, &n), HS_EINVAL);
    assert_true(log_has(&c->log, "max-datagram must be at least"));
    assert_int_equal(node_new(c, NULL, &n), HS_EINVAL);
    assert_int_equal(hs_node_new(NULL, NULL, &n), HS_EINVAL);
    assert_int_equal(hs_node_new(cfg, NULL, NULL), HS_EINVAL);

    /* Not started yet. */
    test_config(c, &cfg, 0);
    assert_int_equal(node_new(c, cfg, &n), HS_OK);
    hs_member_list *l = NULL;
    char buf[HS_ADDRSTRLEN];
    assert_int_equal(hs_node_members(n, &l), HS_ESTATE);
    assert_null(l);
    assert_int_equal(hs_node_bound_addr(n, buf, sizeof buf), HS_ESTATE);
    assert_int_equal(hs_node_leave(n, 10, NULL, NULL), HS_ESTATE);
    hs_stats *st = NULL;
    assert_int_equal(hs_node_stats(n, &st), HS_OK);
    uint64_t rounds = 1;
    assert_int_equal(hs_stats_get(st, "rounds", 0, &rounds), HS_OK);
    assert_int_equal(rounds, 0);
    assert_int_equal(hs_stats_get(st, "no_such_stat", 0, &rounds),
                     HS_ENOTFOUND);
    assert_int_equal(hs_stats_get(st, "rounds", 1, &rounds), HS_EINVAL);
    hs_stats_free(st);

    /* Malformed seeds: nothing added. */
    const char *bad[] = {"nope",  "1.2.3.4", "[::1]",     "host:0", "::1:7946",
                         "a b:1", "h:65536", "[::1:7946", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        const char *one[] = {"127.0.0.1:7946", bad[i]};
        assert_int_equal(hs_node_join(n, one, 2), HS_EADDR);
    }
    assert_int_equal(hs_node_join(n, NULL, 1), HS_EINVAL);
    assert_int_equal(hs_node_start(n), HS_OK);
    assert_int_equal(hs_node_start(n), HS_ESTATE);
    assert_int_equal(hs_node_bound_addr(n, buf, 4), HS_ENOSPC);
    assert_int_equal(hs_node_bound_addr(n, buf, sizeof buf), HS_OK);
    assert_int_equal(hs_node_member(n, "nobody", &l), HS_ENOTFOUND);

    /* Address in use: an error code and a clear log line, no abort. */
    hs_config *cfg2 = NULL;
    test_config(c, &cfg2, 1);
    SET_STR(cfg2, "bind", buf);
    hs_node *m = NULL;
    assert_int_equal(node_new(c, cfg2, &m), HS_OK);
    assert_int_equal(hs_node_start(m), HS_EIO);
    assert_true(log_has(&c->log, "Address already in use"));
    assert_int_equal(hs_node_members(m, &l), HS_ESTATE);
    hs_node_free(m);

    /* Bind addresses must be numeric and local. */
    const char *binds[] = {"localhost:0", "1.2.3:80", "127.0.0.1:99999",
                           "203.0.113.7:0", "127.0.0.1"};
    for (size_t i = 0; i < sizeof binds / sizeof *binds; i++) {
        SET_STR(cfg2, "bind", binds[i]);
        assert_int_equal(node_new(c, cfg2, &m), HS_OK);
        assert_int_equal(hs_node_start(m), HS_EADDR);
        hs_node_free(m);
    }
    SET_STR(cfg2, "bind", "127.0.0.1:0");
    SET_STR(cfg2, "advertise", "example.com:7946");
    assert_int_equal(node_new(c, cfg2, &m), HS_OK);
    assert_int_equal(hs_node_start(m), HS_EADDR);
    hs_node_free(m);

    /* At most 16 callbacks. */
    for (int i = 0; i < 16; i++)
        assert_int_equal(hs_node_on(n, 1u, record, &c->rec[0]), HS_OK);
    assert_int_equal(hs_node_on(n, 1u, record, &c->rec[0]), HS_EFULL);
    assert_int_equal(hs_node_on(n, 1u, NULL, NULL), HS_EINVAL);

    assert_string_equal(hs_node_name(n), "n0");
    hs_node_free(n);
    hs_node_free(NULL);
    assert_int_equal(hs_node_stop(NULL), HS_EINVAL);
    cluster_free(c);
}

/* ---- Own key changes and joining ----------------------------------------- */

typedef struct update_probe {
    int node;         /* whose recorder */
    const char *name; /* whose key */
    const char *key;
    int deleted, local;
} update_probe;

static int count_updates(cluster *c, const update_probe *p)
{
    recorder *r = &c->rec[p->node];
    int k = 0;
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->n; i++)
        k += r->ev[i].type == HS_EVENT_UPDATE &&
             !strcmp(r->ev[i].name, p->name) && !strcmp(r->ev[i].key, p->key) &&
             r->ev[i].deleted == p->deleted && r->ev[i].local == p->local;
    pthread_mutex_unlock(&r->mu);
    return k;
}

static bool has_update(cluster *c, void *arg)
{
    return count_updates(c, arg) > 0;
}

static void own_key_changes(bool own_thread)
{
    cluster *c = cluster_new(own_thread ? "local-t" : "local-l",
                             own_thread ? ON_THREAD : ON_VLOOP);
    hs_config *cfg = NULL;
    test_config(c, &cfg, 0);
    assert_int_equal(node_new(c, cfg, &c->nodes[0]), HS_OK);
    assert_int_equal(hs_node_on(c->nodes[0], ~0u, record, &c->rec[0]), HS_OK);
    /* Before start: part of the member as it first appears, no event. */
    assert_int_equal(hs_node_set(c->nodes[0], "early", "1", 1), HS_OK);
    assert_int_equal(hs_node_start(c->nodes[0]), HS_OK);
    assert_int_equal(
        hs_node_bound_addr(c->nodes[0], c->addr[0], sizeof c->addr[0]), HS_OK);
    c->n = 1;
    node_up(c, 1, NULL);
    assert_converges(c);

    assert_int_equal(hs_node_set(c->nodes[0], "color", "red", 3), HS_OK);
    update_probe mine = {0, "n0", "color", 0, 1};
    assert_true(run_until(c, has_update, &mine, WAIT_MS));
    /* Peers hear it by gossip, as an ordinary update. */
    update_probe theirs = {1, "n0", "color", 0, 0};
    assert_true(run_until(c, has_update, &theirs, WAIT_MS));
    assert_int_equal(hs_node_del(c->nodes[0], "color"), HS_OK);
    update_probe gone = {0, "n0", "color", 1, 1};
    assert_true(run_until(c, has_update, &gone, WAIT_MS));
    /* A refused write reports nothing; nor does the early key. */
    assert_int_equal(hs_node_set(c->nodes[0], "hs.x", "1", 1), HS_ERESERVED);
    assert_int_equal(hs_node_del(c->nodes[0], "absent"), HS_ENOTFOUND);
    run_for(c, 300);
    assert_int_equal(count_updates(c, &mine), 1);
    assert_int_equal(count_updates(c, &gone), 1);
    update_probe early = {0, "n0", "early", 0, 1};
    assert_int_equal(count_updates(c, &early), 0);
    update_probe nolocal = {0, "n1", "color", 0, 1};
    assert_int_equal(count_updates(c, &nolocal), 0);
    cluster_free(c);
}

static void own_key_changes_are_local_events(void **state)
{
    (void)state;
    own_key_changes(false);
    own_key_changes(true);
}

static bool join_failed_twice(cluster *c, void *arg)
{
    hs_join_status js;
    hs_node_join_status(c->nodes[*(int *)arg], &js);
    return js.failed_rounds >= 2;
}

static bool joined(cluster *c, void *arg)
{
    hs_join_status js;
    hs_node_join_status(c->nodes[*(int *)arg], &js);
    return js.joined;
}

static void join_failures_are_reported(void **state)
{
    (void)state;
    /* A port nobody listens on (for now). */
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
    close(s);
    char seed[40], bind_at[40];
    snprintf(seed, sizeof seed, "127.0.0.1:%u", ntohs(a.sin_port));
    snprintf(bind_at, sizeof bind_at, "%s", seed);

    cluster *c = cluster_new("joinrep", ON_VLOOP);
    hs_config *cfg = NULL;
    test_config(c, &cfg, 0);
    assert_int_equal(node_new(c, cfg, &c->nodes[0]), HS_OK);
    hs_join_status js;
    assert_int_equal(hs_node_join_status(c->nodes[0], &js), HS_OK);
    assert_int_equal(js.seeds, 0);
    assert_int_equal(js.failed_rounds, 0);
    assert_int_equal(hs_node_start(c->nodes[0]), HS_OK);
    const char *seeds[] = {seed};
    assert_int_equal(hs_node_join(c->nodes[0], seeds, 1), HS_OK);
    c->n = 1;
    int who = 0;
    assert_true(run_until(c, join_failed_twice, &who, 30000));
    assert_int_equal(hs_node_join_status(c->nodes[0], &js), HS_OK);
    assert_int_equal(js.seeds, 1);
    assert_false(js.joined);
    assert_true(strstr(js.reason, "no answer") != NULL);
    assert_true(log_has(&c->log, "join: no peer has answered"));
    assert_true(log_has(&c->log, seed));

    /* The seed comes up: joined by itself, the failures stay counted. */
    hs_config *sc = NULL;
    test_config(c, &sc, 1);
    SET_STR(sc, "bind", bind_at);
    assert_int_equal(node_new(c, sc, &c->nodes[1]), HS_OK);
    assert_int_equal(hs_node_start(c->nodes[1]), HS_OK);
    c->n = 2;
    assert_true(run_until(c, joined, &who, WAIT_MS));
    assert_int_equal(hs_node_join_status(c->nodes[0], &js), HS_OK);
    assert_true(js.joined && js.joined_after_ms > 0 && js.failed_rounds >= 2);
    assert_string_equal(js.reason, "");
    assert_true(log_has(&c->log, "joined: first exchange with a peer"));
    /* The seed had no seeds: it never failed a round. */
    assert_int_equal(hs_node_join_status(c->nodes[1], &js), HS_OK);
    assert_int_equal(js.seeds, 0);
    assert_int_equal(js.failed_rounds, 0);
    cluster_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(join_and_converge),
        cmocka_unit_test(keys_reach_every_node),
        cmocka_unit_test(stopped_node_is_declared_failed),
        cmocka_unit_test(graceful_leave_is_seen_as_leave),
        cmocka_unit_test(stop_during_leave_reports_estate),
        cmocka_unit_test(restart_with_higher_generation_replaces),
        cmocka_unit_test(pause_is_forgiven),
        cmocka_unit_test(idle_node_does_not_spin),
        cmocka_unit_test(busy_callers_do_not_starve_ticks),
        cmocka_unit_test(dns_seeds_are_resolved_off_loop),
        cmocka_unit_test(wildcard_bind_advertises_an_interface),
        cmocka_unit_test(ipv6_loopback_converges),
        cmocka_unit_test(bad_configs_and_addresses_are_errors),
        cmocka_unit_test(own_key_changes_are_local_events),
        cmocka_unit_test(join_failures_are_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
