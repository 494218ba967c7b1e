/*
 * node_cluster.c — the runtime tests' harness (node_cluster.h): clusters
 * of real nodes on loopback in each loop mode, the recorders of their
 * events and log lines, and the bounded waits and probes the tests use.
 */
#include "fast_config.h"
#include "node_cluster.h"

static uint64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

/* ---- Recording events and log lines ------------------------------------- */

void record(hs_node *node, const hs_event *ev, void *arg)
{
    (void)node;
    recorder *r = arg;
    pthread_mutex_lock(&r->mu);
    /* The hammer threads' own writes (thousands of local updates of
     * "load") would crowd every other event out of the record. */
    bool hammered = ev->local && ev->key && !strcmp(ev->key, "load");
    if (r->n < MAX_EVENTS && !hammered) {
        rec_event *e = &r->ev[r->n++];
        e->type = ev->type;
        snprintf(e->name, sizeof e->name, "%s", ev->name);
        snprintf(e->key, sizeof e->key, "%s", ev->key ? ev->key : "");
        e->generation = ev->generation;
        e->deleted = ev->deleted;
        e->local = ev->local;
    }
    if ((ev->type == HS_EVENT_UPDATE) != (ev->key != NULL) || !ev->name ||
        !ev->addr || (ev->local && ev->type != HS_EVENT_UPDATE))
        r->bad++;
    pthread_mutex_unlock(&r->mu);
}

int count_events(recorder *r, hs_event_type type, const char *name)
{
    int k = 0;
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->n; i++)
        if (r->ev[i].type == type && (!name || !strcmp(r->ev[i].name, name)))
            k++;
    pthread_mutex_unlock(&r->mu);
    return k;
}

static void capture_log(void *arg, hs_log_level level, const char *line)
{
    logbuf *b = arg;
    (void)level;
    pthread_mutex_lock(&b->mu);
    size_t at = strlen(b->text);
    snprintf(b->text + at, sizeof b->text - at, "%s\n", line);
    b->lines++;
    pthread_mutex_unlock(&b->mu);
}

bool log_has(logbuf *b, const char *needle)
{
    pthread_mutex_lock(&b->mu);
    bool has = strstr(b->text, needle) != NULL;
    pthread_mutex_unlock(&b->mu);
    return has;
}

/* ---- A cluster on one loop ---------------------------------------------- */

/* A fresh configuration for node i in *out (owned by the cluster). */
void test_config(cluster *c, hs_config **out, int i)
{
    assert_true(c->n_configs < sizeof c->configs / sizeof *c->configs);
    hs_config *cfg = fast_config(c->names[i], c->cluster_name, (uint64_t)i + 1);
    c->configs[c->n_configs++] = cfg;
    assert_int_equal(hs_config_set_log(cfg, capture_log, &c->log), HS_OK);
    *out = cfg;
}

/* Value i of a node's statistic `name` (asserted to exist). */
uint64_t stat_of(hs_node *n, const char *name, size_t i)
{
    uint64_t v = 0;
    assert_int_equal(hs_node_stat(n, name, i, &v), HS_OK);
    return v;
}

cluster *cluster_new(const char *name, loop_mode mode)
{
    cluster *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->mode = mode;
    if (mode == ON_VLOOP) {
        c->vl = vloop_new(1000000);
        assert_non_null(c->vl);
    } else if (mode == ON_LIBEV) {
        c->loop = ev_loop_new(EVFLAG_AUTO);
        assert_non_null(c->loop);
    }
    snprintf(c->cluster_name, sizeof c->cluster_name, "%s", name);
    pthread_mutex_init(&c->log.mu, NULL);
    for (int i = 0; i < MAX_NODES; i++) {
        pthread_mutex_init(&c->rec[i].mu, NULL);
        snprintf(c->names[i], sizeof c->names[i], "n%d", i);
    }
    return c;
}

/* hs_node_new() in the cluster's mode. */
hs_err node_new(cluster *c, const hs_config *cfg, hs_node **out)
{
    if (c->mode == ON_VLOOP)
        return vloop_node_new(c->vl, cfg, out);
    return hs_node_new(cfg, c->loop, out);
}

/* The cluster's clock: the nodes' time, virtual or real (ms). */
uint64_t cluster_now(cluster *c)
{
    return c->vl ? vloop_now(c->vl) : now_ms();
}

/* Creates, starts and (i > 0) joins node i to node 0; cfg may be NULL. */
void node_up(cluster *c, int i, hs_config *cfg)
{
    if (!cfg)
        test_config(c, &cfg, i);
    assert_int_equal(node_new(c, cfg, &c->nodes[i]), HS_OK);
    assert_int_equal(hs_node_on(c->nodes[i], ~0u, record, &c->rec[i]), HS_OK);
    assert_int_equal(hs_node_start(c->nodes[i]), HS_OK);
    assert_int_equal(
        hs_node_bound_addr(c->nodes[i], c->addr[i], sizeof c->addr[i]), HS_OK);
    if (i > 0) {
        const char *seed = c->addr[0];
        assert_int_equal(hs_node_join(c->nodes[i], &seed, 1), HS_OK);
    }
    if (i >= c->n)
        c->n = i + 1;
}

cluster *cluster_up(const char *name, int n, loop_mode mode)
{
    cluster *c = cluster_new(name, mode);
    for (int i = 0; i < n; i++)
        node_up(c, i, NULL);
    return c;
}

void cluster_free(cluster *c)
{
    for (int i = 0; i < MAX_NODES; i++)
        hs_node_free(c->nodes[i]);
    for (int i = 0; i < MAX_NODES; i++)
        assert_int_equal(c->rec[i].bad, 0);
    if (c->loop)
        ev_loop_destroy(c->loop);
    vloop_free(c->vl);
    for (int i = 0; i < MAX_NODES; i++)
        pthread_mutex_destroy(&c->rec[i].mu);
    pthread_mutex_destroy(&c->log.mu);
    for (unsigned i = 0; i < c->n_configs; i++)
        hs_config_free(c->configs[i]);
    free(c);
}

static void tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
}

static bool call_pred(void *arg)
{
    pred_call *p = arg;
    return p->pred(p->c, p->arg);
}

/* Runs the loop (or, own-thread mode, sleeps) until pred holds or timeout
 * passes on the cluster's clock. Returns whether pred held. */
bool run_until(cluster *c, bool (*pred)(cluster *, void *), void *arg,
               uint64_t timeout_ms)
{
    if (c->vl) {
        pred_call p = {c, pred, arg};
        return vloop_run_until(c->vl, call_pred, &p,
                               vloop_now(c->vl) + timeout_ms);
    }
    uint64_t end = now_ms() + timeout_ms;
    ev_timer tick;
    if (c->loop) {
        ev_timer_init(&tick, tick_cb, 0.02, 0.02);
        ev_timer_start(c->loop, &tick);
    }
    bool ok;
    while (!(ok = pred(c, arg)) && now_ms() < end) {
        if (c->loop)
            ev_run(c->loop, EVRUN_ONCE);
        else
            usleep(10000);
    }
    if (c->loop)
        ev_timer_stop(c->loop, &tick);
    return ok;
}

bool never(cluster *c, void *arg)
{
    (void)c;
    (void)arg;
    return false;
}

void run_for(cluster *c, uint64_t ms)
{
    run_until(c, never, NULL, ms);
}

/* State of `name` in node i's view; -1 if absent. */
int state_of(cluster *c, int i, const char *name, uint64_t *gen)
{
    hs_member_list *l;
    if (hs_node_member(c->nodes[i], name, &l) != HS_OK)
        return -1;
    assert_int_equal(l->count, 1);
    int s = (int)l->members[0].state;
    if (gen)
        *gen = l->members[0].generation;
    hs_member_list_free(l);
    return s;
}

/* Every listed live node sees every listed node alive. */
bool all_alive(cluster *c, void *arg)
{
    const int *live = arg; /* -1 terminated; NULL: all */
    int all[MAX_NODES + 1];
    if (!live) {
        for (int i = 0; i < c->n; i++)
            all[i] = i;
        all[c->n] = -1;
        live = all;
    }
    for (const int *i = live; *i >= 0; i++)
        for (const int *j = live; *j >= 0; j++)
            if (state_of(c, *i, c->names[*j], NULL) != HS_STATE_ALIVE)
                return false;
    return true;
}

void assert_converges(cluster *c)
{
    assert_true(run_until(c, all_alive, NULL, WAIT_MS));
}

static bool tag_is(cluster *c, int i, const tag_probe *p)
{
    hs_member_list *l;
    if (hs_node_member(c->nodes[i], p->member, &l) != HS_OK)
        return false;
    const hs_member *m = &l->members[0];
    bool found = false, equal = false;
    for (size_t t = 0; t < m->n_tags; t++) {
        if (strcmp(m->tags[t].key, p->key) == 0) {
            found = true;
            equal =
                p->value && m->tags[t].value_len == strlen(p->value) &&
                memcmp(m->tags[t].value, p->value, m->tags[t].value_len) == 0 &&
                m->tags[t].value[m->tags[t].value_len] == 0;
        }
    }
    hs_member_list_free(l);
    return p->value ? equal : !found;
}

bool tag_everywhere(cluster *c, void *arg)
{
    for (int i = 0; i < c->n; i++)
        if (!tag_is(c, i, arg))
            return false;
    return true;
}

bool seen_as(cluster *c, void *arg)
{
    const state_probe *p = arg;
    for (const int *i = p->observers; *i >= 0; i++)
        if (state_of(c, *i, p->member, NULL) != p->state)
            return false;
    return true;
}
