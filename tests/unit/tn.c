/*
 * tn.c — the protocol tests' network (tn.h): the simulator's network with
 * the tests' naming, one seed, and an event recorder hung off its hooks.
 *
 * The recorder copies each event as it comes out of a core. A user
 * event's content (hs_core_user) belongs to the core only until the next
 * hs__core_next_event() call, so it is copied too: without that, a test
 * reading a payload after the run would read freed memory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tn.h"

/* The logs and the tests' per-node config change and per-step check,
 * passed to every hook as its arg. */
typedef struct tn_rec {
    tn_log log[TN_MAX];
    void (*tweak)(hs_core_config *cfg, int i);
    void (*after_step)(sim_net *net, void *arg);
    void *after_arg;
} tn_rec;

static tn_rec *rec_of(const sim_net *net)
{
    return net->hooks.arg;
}

static void rec_event(sim_net *net, uint32_t node, const hs_core_event *ev,
                      void *arg)
{
    (void)net;
    tn_log *l = &((tn_rec *)arg)->log[node];
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        hs_core_event *grown = realloc(l->ev, cap * sizeof *grown);
        assert_non_null(grown);
        l->ev = grown;
        l->cap = cap;
    }
    hs_core_event copy = *ev;
    if (ev->user) {
        /* The core allocates the payload with a NUL after it. */
        size_t sz = sizeof *ev->user + ev->user->len + 1;
        copy.user = malloc(sz);
        assert_non_null(copy.user);
        memcpy(copy.user, ev->user, sz);
    }
    l->ev[l->n++] = copy;
}

static void rec_tweak(sim_net *net, uint32_t node, hs_core_config *cfg,
                      void *arg)
{
    (void)net;
    tn_rec *r = arg;
    if (r->tweak)
        r->tweak(cfg, (int)node);
}

static void rec_step(sim_net *net, uint32_t node, void *arg)
{
    (void)node;
    tn_rec *r = arg;
    if (r->after_step)
        r->after_step(net, r->after_arg);
}

void tn_init(sim_net *net, int n, uint64_t seed,
             void (*tweak)(hs_core_config *cfg, int i))
{
    assert_true(n >= 1 && n <= TN_MAX);
    tn_rec *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->tweak = tweak;
    hs_core_config tmpl;
    hs__core_config_init(&tmpl);
    tmpl.cluster = "test";
    sim_hooks hooks = {.on_event = rec_event,
                       .on_receive = rec_step,
                       .tweak = rec_tweak,
                       .on_tick = rec_step,
                       .arg = r};
    assert_true(sim_net_init(net, (uint32_t)n, seed, &tmpl, &hooks));
    net->n_seeds = 1;
    for (int i = 0; i < n; i++) {
        char name[16];
        snprintf(name, sizeof name, "n%d", i);
        sim_node_rename(net, (uint32_t)i, name);
    }
    for (int i = 0; i < n; i++)
        assert_true(sim_node_start(net, (uint32_t)i, 1));
}

void tn_free(sim_net *net)
{
    tn_rec *r = rec_of(net);
    for (int i = 0; i < TN_MAX; i++) {
        for (size_t k = 0; k < r->log[i].n; k++)
            free(r->log[i].ev[k].user);
        free(r->log[i].ev);
    }
    free(r);
    sim_net_free(net);
}

void tn_after_step(sim_net *net, void (*fn)(sim_net *, void *), void *arg)
{
    rec_of(net)->after_step = fn;
    rec_of(net)->after_arg = arg;
}

void tn_start(sim_net *net, int i, uint64_t generation)
{
    assert_true(sim_node_start(net, (uint32_t)i, generation));
}

void tn_crash(sim_net *net, int i)
{
    sim_node_crash(net, (uint32_t)i);
}

bool tn_up(const sim_net *net, int i)
{
    return net->nodes[i].state != SIM_DOWN;
}

void tn_run_for(sim_net *net, uint64_t ms)
{
    for (uint32_t i = 0; i < net->n; i++)
        sim_node_touch(net, i);
    sim_run_until(net, net->now + ms);
    assert_false(net->oom);
}

uint64_t tn_run_until_converged(sim_net *net, uint64_t limit_ms)
{
    uint64_t start = net->now;
    while (!tn_converged(net) && net->now - start < limit_ms)
        tn_run_for(net, 100);
    return net->now - start;
}

void tn_isolate(sim_net *net, int i, bool in, bool out)
{
    net->nodes[i].group = in || out ? 1 : 0;
    sim_cut(net, 0, 1, in);
    sim_cut(net, 1, 0, out);
}

int tn_state(const sim_net *net, int i, const char *name)
{
    hs_member_info info;
    if (hs__core_member_get(net->nodes[i].core, name, net->now, &info) != HS_OK)
        return -1;
    return (int)info.state;
}

const tn_log *tn_events(const sim_net *net, int i)
{
    return &rec_of(net)->log[i];
}

int tn_count_events(const sim_net *net, int i, hs_event_type type,
                    const char *name)
{
    int n = 0;
    const tn_log *l = tn_events(net, i);
    for (size_t k = 0; k < l->n; k++)
        if (l->ev[k].type == type &&
            (!name || strcmp(l->ev[k].name, name) == 0))
            n++;
    return n;
}

/* Node i's copy of member j's user keys equals j's own. */
static bool same_keys(const sim_net *net, int i, int j)
{
    const char *name = net->nodes[j].name;
    for (uint32_t k = 0;; k++) {
        const char *ka, *kb;
        const uint8_t *va, *vb;
        size_t la, lb;
        hs_err ea =
            hs__core_member_key(net->nodes[i].core, name, k, &ka, &va, &la);
        hs_err eb =
            hs__core_member_key(net->nodes[j].core, name, k, &kb, &vb, &lb);
        if (ea != eb)
            return false;
        if (ea != HS_OK)
            return true;
        if (strcmp(ka, kb) != 0 || la != lb || (la && memcmp(va, vb, la)))
            return false;
    }
}

bool tn_converged(const sim_net *net)
{
    for (uint32_t i = 0; i < net->n; i++) {
        if (!tn_up(net, (int)i))
            continue;
        for (uint32_t j = 0; j < net->n; j++) {
            if (!tn_up(net, (int)j))
                continue;
            hs_member_info a;
            if (hs__core_member_get(net->nodes[i].core, net->nodes[j].name,
                                    net->now, &a) != HS_OK)
                return false;
            if (a.state != HS_STATE_ALIVE ||
                a.generation != net->nodes[j].generation ||
                !same_keys(net, (int)i, (int)j))
                return false;
        }
    }
    return true;
}
