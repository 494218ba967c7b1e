/*
 * test_node_thread.c — the runtime in own-thread mode under concurrent
 * callers: nodes on threads of their own while other threads query and
 * write them, callbacks that call back into the API, and a node stopped
 * from its own callback. Real threads, so these run on libev and wait for
 * conditions with generous bounds (run_until), never on elapsed time.
 * The harness is node_cluster.c.
 */
#include "node_cluster.h"

/* ---- Own-thread mode under concurrent callers --------------------------- */

/* Threads calling the API of running own-thread nodes. cmocka's asserts
 * may only fail on the main thread, so they count what went wrong. */
typedef struct hammer {
    cluster *c;
    pthread_mutex_t mu;
    bool stop;
    unsigned long calls, failures;
} hammer;

typedef struct hammer_arg {
    hammer *h;
    unsigned seed;
} hammer_arg;

static bool hammer_stopped(hammer *h)
{
    pthread_mutex_lock(&h->mu);
    bool s = h->stop;
    pthread_mutex_unlock(&h->mu);
    return s;
}

static void *hammer_main(void *arg)
{
    hammer *h = ((hammer_arg *)arg)->h;
    unsigned r = ((hammer_arg *)arg)->seed;
    unsigned long calls = 0, failures = 0;
    while (!hammer_stopped(h)) {
        r = r * 1103515245u + 12345u;
        hs_node *n = h->c->nodes[(r >> 16) % 3];
        hs_member_list *l;
        hs_stats *st = NULL;
        char buf[HS_ADDRSTRLEN], val[16];
        switch ((r >> 8) % 5) {
        case 0:
            if (hs_node_members(n, &l) == HS_OK) {
                failures += l->count < 1 || !l->members[0].name;
                hs_member_list_free(l);
            } else {
                failures++;
            }
            break;
        case 1:
            if (hs_node_member(n, "n1", &l) == HS_OK)
                hs_member_list_free(l);
            break;
        case 2:
            failures += hs_node_stats(n, &st) != HS_OK;
            hs_stats_free(st);
            break;
        case 3:
            snprintf(val, sizeof val, "%u", r % 1000);
            hs_node_set(n, "load", val, strlen(val));
            break;
        default:
            hs_node_bound_addr(n, buf, sizeof buf);
            break;
        }
        calls++;
        /* Busy, not hostile: a thread spinning on the node's mutex could
         * otherwise keep the node's own thread from it for seconds. */
        sched_yield();
    }
    pthread_mutex_lock(&h->mu);
    h->calls += calls;
    h->failures += failures;
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

typedef struct reentrant {
    pthread_mutex_t mu;
    int joins_seen;
    int leave_rc; /* from a blocking leave attempted in a callback */
    bool tried_leave;
} reentrant;

/* Runs on a node's own thread: calls back into the API (which must not
 * deadlock) and tries a blocking leave (which must refuse). */
static void reenter(hs_node *node, const hs_event *ev, void *arg)
{
    reentrant *re = arg;
    hs_member_list *l;
    if (hs_node_member(node, ev->name, &l) == HS_OK)
        hs_member_list_free(l);
    hs_node_set(node, "last-join", ev->name, strlen(ev->name));
    pthread_mutex_lock(&re->mu);
    re->joins_seen++;
    bool try_leave = !re->tried_leave;
    re->tried_leave = true;
    pthread_mutex_unlock(&re->mu);
    if (try_leave) {
        hs_err rc = hs_node_leave(node, 100, NULL, NULL);
        pthread_mutex_lock(&re->mu);
        re->leave_rc = rc;
        pthread_mutex_unlock(&re->mu);
    }
}

static void own_thread_under_concurrent_queries(void **state)
{
    (void)state;
    cluster *c = cluster_new("threads", ON_THREAD);
    reentrant re = {.leave_rc = 1};
    pthread_mutex_init(&re.mu, NULL);
    hammer h = {.c = c};
    pthread_mutex_init(&h.mu, NULL);
    pthread_t threads[4];
    hammer_arg args[4];

    node_up(c, 0, NULL);
    assert_int_equal(hs_node_on(c->nodes[0], 1u << HS_EVENT_JOIN, reenter, &re),
                     HS_OK);
    node_up(c, 1, NULL);
    node_up(c, 2, NULL);
    for (int i = 0; i < 4; i++) {
        args[i] = (hammer_arg){&h, (unsigned)i + 1};
        assert_int_equal(
            pthread_create(&threads[i], NULL, hammer_main, &args[i]), 0);
    }
    assert_converges(c);
    /* The blocking leave from the node's own thread was refused. */
    pthread_mutex_lock(&re.mu);
    assert_true(re.joins_seen >= 2);
    assert_int_equal(re.leave_rc, HS_ESTATE);
    pthread_mutex_unlock(&re.mu);

    /* A key set from here reaches the other nodes' threads. */
    assert_int_equal(hs_node_set(c->nodes[2], "role", "db", 2), HS_OK);
    tag_probe role = {"n2", "role", "db"};
    assert_true(run_until(c, tag_everywhere, &role, WAIT_MS));

    /* Blocking leave from another thread, while the hammers go on. */
    assert_int_equal(hs_node_leave(c->nodes[2], 300, NULL, NULL), HS_OK);
    assert_int_equal(hs_node_set(c->nodes[2], "k", "v", 1), HS_ESTATE);
    state_probe left = {"n2", HS_STATE_LEFT, {0, 1, -1}};
    assert_true(run_until(c, seen_as, &left, WAIT_MS));
    for (int i = 0; i < 2; i++)
        assert_int_equal(count_events(&c->rec[i], HS_EVENT_LEAVE, "n2"), 1);

    /* Stop one node while the hammers still query it. */
    assert_int_equal(hs_node_stop(c->nodes[1]), HS_OK);
    state_probe dead = {"n1", HS_STATE_DEAD, {0, -1}};
    assert_true(run_until(c, seen_as, &dead, WAIT_MS));

    pthread_mutex_lock(&h.mu);
    h.stop = 1;
    pthread_mutex_unlock(&h.mu);
    for (int i = 0; i < 4; i++)
        pthread_join(threads[i], NULL);
    for (int i = 0; i < 3; i++) {
        print_message(
            "n%d: %llu pauses, %llu slow callbacks\n", i,
            (unsigned long long)stat_of(c->nodes[i], "pauses", 0),
            (unsigned long long)stat_of(c->nodes[i], "callbacks_slow", 0));
    }
    print_message("%lu concurrent API calls\n", h.calls);
    assert_true(h.calls > 100);
    assert_int_equal(h.failures, 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(c->rec[i].bad, 0);
    cluster_free(c);
    pthread_mutex_destroy(&h.mu);
    pthread_mutex_destroy(&re.mu);
}

static void stop_self(hs_node *node, const hs_event *ev, void *arg)
{
    (void)ev;
    int *calls = arg;
    (*calls)++; /* only ever on the node's one loop thread */
    hs_node_stop(node);
}

static bool stopped(cluster *c, void *arg)
{
    (void)arg;
    return hs_node_set(c->nodes[1], "k", "v", 1) == HS_ESTATE;
}

/* A callback may stop its own node: on a caller's loop the watchers stop
 * at once; on the node's own thread it cannot join itself, so
 * hs_node_free() does. */
static void stop_from_a_callback(void **state)
{
    (void)state;
    for (int own = 0; own < 2; own++) {
        cluster *c = cluster_new(own ? "stop-cb-own" : "stop-cb",
                                 own ? ON_THREAD : ON_VLOOP);
        int calls = 0;
        node_up(c, 0, NULL);
        hs_config *cfg = NULL;
        test_config(c, &cfg, 1);
        assert_int_equal(node_new(c, cfg, &c->nodes[1]), HS_OK);
        assert_int_equal(
            hs_node_on(c->nodes[1], 1u << HS_EVENT_JOIN, stop_self, &calls),
            HS_OK);
        assert_int_equal(hs_node_start(c->nodes[1]), HS_OK);
        const char *seed = c->addr[0];
        assert_int_equal(hs_node_join(c->nodes[1], &seed, 1), HS_OK);
        c->n = 2;
        assert_true(run_until(c, stopped, NULL, WAIT_MS));
        run_for(c, 300);
        assert_int_equal(calls, 1); /* no events after the stop */
        hs_member_list *l;
        assert_int_equal(hs_node_members(c->nodes[1], &l), HS_OK);
        assert_int_equal(l->count, 2); /* the view it had */
        hs_member_list_free(l);
        cluster_free(c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(own_thread_under_concurrent_queries),
        cmocka_unit_test(stop_from_a_callback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
