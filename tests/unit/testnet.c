/*
 * testnet.c — see testnet.h. Deliberately simple: an unsorted packet list
 * scanned for the earliest, fine for the few dozen nodes a unit test runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testnet.h"

static uint64_t tn_rand(testnet *net)
{
    uint64_t z = (net->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double tn_rand01(testnet *net)
{
    return (double)(tn_rand(net) >> 11) * 0x1.0p-53;
}

void tn_init(testnet *net, int n, uint64_t seed,
             void (*tweak)(hs_core_config *cfg, int i))
{
    memset(net, 0, sizeof *net);
    net->n = n;
    net->rng = seed;
    net->delay_min = 1;
    net->delay_max = 5;
    net->now = 1000000;
    for (int i = 0; i < n; i++) {
        tn_node *nd = &net->nodes[i];
        snprintf(nd->name, sizeof nd->name, "n%d", i);
        snprintf(nd->addr, sizeof nd->addr, "a%d", i);
        hs_core_config_init(&nd->cfg);
        nd->cfg.cluster = "test";
        nd->cfg.name = nd->name;
        nd->cfg.addr = nd->addr;
        nd->cfg.seed = seed * 1000 + (uint64_t)i;
        nd->cfg.generation = 1;
        if (tweak)
            tweak(&nd->cfg, i);
    }
    for (int i = 0; i < n; i++)
        tn_start(net, i, 1);
}

void tn_free(testnet *net)
{
    for (int i = 0; i < net->n; i++) {
        hs_core_free(net->nodes[i].core);
        for (size_t k = 0; k < net->nodes[i].n_events; k++)
            free(net->nodes[i].events[k].user);
        free(net->nodes[i].events);
    }
    for (size_t i = 0; i < net->nq; i++)
        free(net->q[i].buf);
    free(net->q);
}

void tn_start(testnet *net, int i, uint64_t generation)
{
    tn_node *nd = &net->nodes[i];
    hs_core_free(nd->core);
    nd->core = NULL;
    nd->cfg.generation = generation;
    if (hs_core_new(&nd->cfg, net->now, &nd->core) != HS_OK) {
        fprintf(stderr, "tn_start: hs_core_new failed for node %d\n", i);
        abort();
    }
    if (i != 0)
        hs_core_add_seed(nd->core, net->nodes[0].addr);
    nd->up = true;
    nd->paused = false;
}

void tn_crash(testnet *net, int i)
{
    net->nodes[i].up = false;
}

int tn_index(const testnet *net, const char *addr)
{
    for (int i = 0; i < net->n; i++)
        if (strcmp(net->nodes[i].addr, addr) == 0)
            return i;
    return -1;
}

static void enqueue(testnet *net, int from, int to, const uint8_t *buf,
                    size_t len)
{
    if (net->nq == net->capq) {
        net->capq = net->capq ? net->capq * 2 : 256;
        net->q = realloc(net->q, net->capq * sizeof *net->q);
        if (!net->q)
            abort();
    }
    tn_packet *p = &net->q[net->nq++];
    uint32_t span = net->delay_max - net->delay_min + 1;
    p->at = net->now + net->delay_min + tn_rand(net) % span;
    p->from = from;
    p->to = to;
    p->buf = malloc(len ? len : 1);
    if (!p->buf)
        abort();
    memcpy(p->buf, buf, len);
    p->len = len;
}

/* Moves node i's outgoing datagrams and events out of its core. */
static void drain(testnet *net, int i)
{
    tn_node *nd = &net->nodes[i];
    hs_datagram d;
    while (hs_core_next_datagram(nd->core, &d)) {
        int to = tn_index(net, d.to);
        if (to < 0 || net->cut[i][to])
            continue;
        if (tn_rand01(net) < net->loss)
            continue;
        enqueue(net, i, to, d.buf, d.len);
        if (tn_rand01(net) < net->dup)
            enqueue(net, i, to, d.buf, d.len);
    }
    hs_core_event ev;
    while (hs_core_next_event(nd->core, &ev)) {
        if (nd->n_events == nd->cap_events) {
            nd->cap_events = nd->cap_events ? nd->cap_events * 2 : 64;
            nd->events =
                realloc(nd->events, nd->cap_events * sizeof *nd->events);
            if (!nd->events)
                abort();
        }
        if (ev.user) {
            /* The core keeps a user event's content only until its next
             * event: the log keeps a copy (freed by tn_free). */
            size_t sz = sizeof *ev.user + ev.user->len + 1;
            hs_core_user *u = malloc(sz);
            if (!u)
                abort();
            memcpy(u, ev.user, sz);
            ev.user = u;
        }
        nd->events[nd->n_events++] = ev;
    }
}

void tn_run_until(testnet *net, uint64_t until)
{
    for (;;) {
        uint64_t t = UINT64_MAX;
        for (int i = 0; i < net->n; i++) {
            tn_node *nd = &net->nodes[i];
            if (nd->up && !nd->paused) {
                uint64_t d = hs_core_next_deadline(nd->core);
                if (d < t)
                    t = d;
            }
        }
        size_t pi = SIZE_MAX;
        for (size_t k = 0; k < net->nq; k++) {
            tn_node *to = &net->nodes[net->q[k].to];
            if (to->paused)
                continue;
            if (net->q[k].at < t || (pi == SIZE_MAX && net->q[k].at == t)) {
                t = net->q[k].at;
                pi = k;
            }
        }
        if (t > until) {
            net->now = until;
            return;
        }
        if (t > net->now)
            net->now = t;
        if (pi != SIZE_MAX && net->q[pi].at <= net->now) {
            tn_packet p = net->q[pi];
            net->q[pi] = net->q[--net->nq];
            tn_node *to = &net->nodes[p.to];
            if (to->up) {
                hs_core_receive(to->core, net->now, net->nodes[p.from].addr,
                                p.buf, p.len);
                net->delivered++;
                drain(net, p.to);
            }
            free(p.buf);
        } else {
            for (int i = 0; i < net->n; i++) {
                tn_node *nd = &net->nodes[i];
                if (nd->up && !nd->paused &&
                    hs_core_next_deadline(nd->core) <= net->now) {
                    hs_core_tick(nd->core, net->now);
                    drain(net, i);
                }
            }
        }
        if (net->after_step)
            net->after_step(net, net->after_arg);
    }
}

void tn_run_for(testnet *net, uint64_t ms)
{
    tn_run_until(net, net->now + ms);
}

int tn_state(const testnet *net, int i, const char *name)
{
    hs_member_info info;
    if (hs_core_member_get(net->nodes[i].core, name, net->now, &info) !=
        HS_OK)
        return -1;
    return (int)info.state;
}

int tn_count_events(const testnet *net, int i, hs_event_type type,
                    const char *name)
{
    int n = 0;
    const tn_node *nd = &net->nodes[i];
    for (size_t k = 0; k < nd->n_events; k++)
        if (nd->events[k].type == type &&
            (!name || strcmp(nd->events[k].name, name) == 0))
            n++;
    return n;
}

/* Node i's copy of member j's user keys equals j's own. */
static bool same_keys(const testnet *net, int i, int j)
{
    const char *name = net->nodes[j].name;
    for (uint32_t k = 0;; k++) {
        const char *ka, *kb;
        const uint8_t *va, *vb;
        size_t la, lb;
        hs_err ea = hs_core_member_key(net->nodes[i].core, name, k, &ka, &va,
                                       &la);
        hs_err eb = hs_core_member_key(net->nodes[j].core, name, k, &kb, &vb,
                                       &lb);
        if (ea != eb)
            return false;
        if (ea != HS_OK)
            return true;
        if (strcmp(ka, kb) != 0 || la != lb || (la && memcmp(va, vb, la)))
            return false;
    }
}

bool tn_converged(const testnet *net)
{
    for (int i = 0; i < net->n; i++) {
        if (!net->nodes[i].up)
            continue;
        for (int j = 0; j < net->n; j++) {
            if (!net->nodes[j].up)
                continue;
            hs_member_info a;
            if (hs_core_member_get(net->nodes[i].core, net->nodes[j].name,
                                   net->now, &a) != HS_OK)
                return false;
            if (a.state != HS_STATE_ALIVE ||
                a.generation != net->nodes[j].cfg.generation ||
                !same_keys(net, i, j))
                return false;
        }
    }
    return true;
}
