/*
 * sim/net.c — the simulator's virtual network and clock (see sim.h).
 *
 * One binary heap holds every future event: a datagram's arrival, a
 * node's next deadline, a scenario callback. Node deadlines are kept
 * lazily: a node has at most one *live* tick entry (node->sched); when its
 * deadline moves, a new entry is pushed and the old one is recognised as
 * stale when it surfaces. That keeps every core interaction O(log events)
 * with no decrease-key, which is what lets thousands of cores share one
 * loop.
 *
 * Randomness: the network draws from its own splitmix64 stream (loss,
 * delay, duplication); each core gets a seed derived from the run's seed,
 * its index and its generation. Ties in time are broken by insertion
 * order, so a run is a pure function of its seed and its calls.
 */
#include "sim/sim.h"

#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

enum { EV_TICK = 0, EV_DELIVER = 1, EV_CALL = 2 };

typedef struct sim_link_over {
    uint64_t key; /* (from << 32 | to) + 1; 0 = empty slot */
    sim_link link;
} sim_link_over;

typedef struct sim_call {
    void (*fn)(sim_net *, void *);
    void *arg;
} sim_call;

/* ---- Randomness --------------------------------------------------------- */

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t sim_rand(sim_net *net)
{
    return splitmix(&net->rng);
}

double sim_rand01(sim_net *net)
{
    return (double)(sim_rand(net) >> 11) * 0x1.0p-53;
}

/* ---- Clocks and memory -------------------------------------------------- */

double sim_wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double sim_wall(const sim_net *net)
{
    return sim_wall_now() - net->wall_start;
}

uint64_t sim_peak_rss(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (uint64_t)ru.ru_maxrss * 1024u;
}

uint64_t sim_heap_used(void)
{
    struct mallinfo2 mi = mallinfo2();
    return (uint64_t)mi.uordblks + (uint64_t)mi.hblkhd;
}

uint64_t sim_rss(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, res = 0;
    if (!f)
        return 0;
    if (fscanf(f, "%lu %lu", &size, &res) != 2)
        res = 0;
    fclose(f);
    return (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* ---- The event heap ----------------------------------------------------- */

static bool ev_less(const sim_ev *a, const sim_ev *b)
{
    return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static bool heap_push(sim_net *net, uint64_t at, uint32_t kind, uint32_t node,
                      void *ptr)
{
    if (net->n_heap == net->cap_heap) {
        size_t cap = net->cap_heap ? net->cap_heap * 2 : 1024;
        sim_ev *h = realloc(net->heap, cap * sizeof *h);
        if (!h) {
            net->oom = true;
            return false;
        }
        net->heap = h;
        net->cap_heap = cap;
    }
    sim_ev e = {
        .at = at, .seq = net->seq++, .kind = kind, .node = node, .ptr = ptr};
    size_t i = net->n_heap++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!ev_less(&e, &net->heap[p]))
            break;
        net->heap[i] = net->heap[p];
        i = p;
    }
    net->heap[i] = e;
    return true;
}

static sim_ev heap_pop(sim_net *net)
{
    sim_ev top = net->heap[0];
    sim_ev last = net->heap[--net->n_heap];
    size_t n = net->n_heap, i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const sim_ev *best = &last;
        if (l < n && ev_less(&net->heap[l], best)) {
            m = l;
            best = &net->heap[l];
        }
        if (r < n && ev_less(&net->heap[r], best))
            m = r;
        if (m == i)
            break;
        net->heap[i] = net->heap[m];
        i = m;
    }
    if (n)
        net->heap[i] = last;
    return top;
}

/* ---- Names and addresses ------------------------------------------------ */

static void node_names(sim_node *nd, uint32_t i)
{
    uint32_t a = i + 1;
    snprintf(nd->name, sizeof nd->name, "node-%05u", i);
    snprintf(nd->addr, sizeof nd->addr, "10.%u.%u.%u:7946", (a >> 16) & 255,
             (a >> 8) & 255, a & 255);
}

uint32_t sim_addr_index(const char *addr)
{
    /* "10.A.B.C:7946" -> ((A << 16) | (B << 8) | C) - 1 */
    if (strncmp(addr, "10.", 3) != 0)
        return UINT32_MAX;
    const char *p = addr + 3;
    uint32_t v = 0;
    for (int part = 0; part < 3; part++) {
        uint32_t b = 0;
        int digits = 0;
        while (*p >= '0' && *p <= '9' && digits < 4) {
            b = b * 10 + (uint32_t)(*p++ - '0');
            digits++;
        }
        if (digits == 0 || b > 255 || *p != (part < 2 ? '.' : ':'))
            return UINT32_MAX;
        p++;
        v = (v << 8) | b;
    }
    if (strcmp(p, "7946") != 0 || v == 0)
        return UINT32_MAX;
    return v - 1;
}

/* ---- Set-up ------------------------------------------------------------- */

bool sim_net_init(sim_net *net, uint32_t n, uint64_t seed,
                  const hs_core_config *tmpl, const sim_hooks *hooks)
{
    memset(net, 0, sizeof *net);
    net->wall_start = sim_wall_now();
    if (n == 0 || n > SIM_MAX_NODES)
        return false;
    net->n = n;
    net->seed = seed;
    net->rng = seed ^ 0x5eed5eed5eed5eedULL;
    net->now = 1000000;
    net->cfg = *tmpl;
    if (hooks)
        net->hooks = *hooks;
    net->link.delay_ms = 1;
    net->link.jitter_ms = 4;
    net->n_seeds = n < 3 ? n : 3;
    net->nodes = calloc(n, sizeof *net->nodes);
    if (!net->nodes)
        return false;
    for (uint32_t i = 0; i < n; i++) {
        node_names(&net->nodes[i], i);
        net->nodes[i].sched = UINT64_MAX;
    }
    return true;
}

static void free_held(sim_node *nd)
{
    for (uint32_t k = 0; k < nd->n_held; k++)
        free(nd->held[k]);
    nd->n_held = 0;
    nd->held_bytes = 0;
}

void sim_net_free(sim_net *net)
{
    if (net->nodes) {
        for (uint32_t i = 0; i < net->n; i++) {
            hs__core_free(net->nodes[i].core);
            free_held(&net->nodes[i]);
            free(net->nodes[i].held);
        }
    }
    for (size_t k = 0; k < net->n_heap; k++)
        if (net->heap[k].kind != EV_TICK)
            free(net->heap[k].ptr);
    free(net->heap);
    free(net->over);
    free(net->nodes);
    memset(net, 0, sizeof *net);
}

/* ---- Links -------------------------------------------------------------- */

static size_t over_slot(const sim_net *net, uint64_t key)
{
    uint64_t h = key * 0x9e3779b97f4a7c15ULL;
    return (size_t)(h >> 20) & (net->cap_over - 1);
}

bool sim_link_set(sim_net *net, uint32_t from, uint32_t to,
                  const sim_link *link)
{
    uint64_t key = ((uint64_t)from << 32 | to) + 1;
    if (2 * (net->n_over + 1) > net->cap_over) {
        size_t cap = net->cap_over ? net->cap_over * 2 : 64;
        sim_link_over *old = net->over;
        size_t old_cap = net->cap_over;
        net->over = calloc(cap, sizeof *net->over);
        if (!net->over) {
            net->over = old;
            return false;
        }
        net->cap_over = cap;
        for (size_t k = 0; k < old_cap; k++) {
            if (!old[k].key)
                continue;
            size_t s = over_slot(net, old[k].key);
            while (net->over[s].key)
                s = (s + 1) & (cap - 1);
            net->over[s] = old[k];
        }
        free(old);
    }
    size_t s = over_slot(net, key);
    while (net->over[s].key && net->over[s].key != key)
        s = (s + 1) & (net->cap_over - 1);
    if (!net->over[s].key)
        net->n_over++;
    net->over[s].key = key;
    net->over[s].link = *link;
    return true;
}

static const sim_link *link_of(const sim_net *net, uint32_t from, uint32_t to)
{
    if (net->n_over) {
        uint64_t key = ((uint64_t)from << 32 | to) + 1;
        size_t s = over_slot(net, key);
        while (net->over[s].key) {
            if (net->over[s].key == key)
                return &net->over[s].link;
            s = (s + 1) & (net->cap_over - 1);
        }
    }
    return &net->link;
}

void sim_cut(sim_net *net, uint8_t ga, uint8_t gb, bool on)
{
    if (ga < SIM_MAX_GROUPS && gb < SIM_MAX_GROUPS)
        net->cut[ga][gb] = on;
}

void sim_heal(sim_net *net)
{
    memset(net->cut, 0, sizeof net->cut);
}

/* ---- Moving datagrams and events out of a core -------------------------- */

static void send_one(sim_net *net, uint32_t from, uint32_t to,
                     const sim_link *l, const uint8_t *buf, size_t len)
{
    uint64_t at = net->now + l->delay_ms;
    if (l->jitter_ms)
        at += sim_rand(net) % (l->jitter_ms + 1u);
    if (l->reorder > 0 && sim_rand01(net) < l->reorder) {
        at += l->reorder_ms;
        net->stats.reordered++;
    }
    sim_pkt *p = malloc(sizeof *p + len);
    if (!p) {
        net->oom = true;
        return;
    }
    p->from = from;
    p->to = to;
    p->len = (uint32_t)len;
    memcpy(p->data, buf, len);
    if (!heap_push(net, at, EV_DELIVER, to, p))
        free(p);
}

static void drain(sim_net *net, uint32_t i)
{
    sim_node *nd = &net->nodes[i];
    hs_datagram d;
    while (hs__core_next_datagram(nd->core, &d)) {
        net->stats.msgs_sent++;
        net->stats.bytes_sent += d.len;
        nd->msgs_sent++;
        nd->bytes_sent += d.len;
        if (d.len > net->stats.max_datagram)
            net->stats.max_datagram = d.len;
        uint32_t to = sim_addr_index(d.to);
        if (to >= net->n) {
            net->stats.misaddressed++;
            continue;
        }
        if (net->cut[nd->group][net->nodes[to].group]) {
            net->stats.dropped_cut++;
            continue;
        }
        const sim_link *l = link_of(net, i, to);
        if (l->loss > 0 && sim_rand01(net) < l->loss) {
            net->stats.dropped_loss++;
            continue;
        }
        send_one(net, i, to, l, d.buf, d.len);
        if (l->dup > 0 && sim_rand01(net) < l->dup) {
            net->stats.duplicated++;
            send_one(net, i, to, l, d.buf, d.len);
        }
    }
    hs_core_event ev;
    while (hs__core_next_event(nd->core, &ev))
        if (net->hooks.on_event)
            net->hooks.on_event(net, i, &ev, net->hooks.arg);
}

/* Makes sure node i has a live tick entry at its core's deadline. */
static void reschedule(sim_net *net, uint32_t i)
{
    sim_node *nd = &net->nodes[i];
    if (nd->state != SIM_UP)
        return;
    uint64_t d = hs__core_next_deadline(nd->core);
    if (d != nd->sched) {
        nd->sched = d;
        heap_push(net, d, EV_TICK, i, NULL);
    }
}

void sim_node_touch(sim_net *net, uint32_t i)
{
    if (net->nodes[i].state != SIM_UP)
        return;
    drain(net, i);
    reschedule(net, i);
}

/* ---- Node lifecycle ----------------------------------------------------- */

void sim_node_rename(sim_net *net, uint32_t i, const char *name)
{
    snprintf(net->nodes[i].name, sizeof net->nodes[i].name, "%s", name);
}

bool sim_node_start(sim_net *net, uint32_t i, uint64_t generation)
{
    sim_node *nd = &net->nodes[i];
    hs__core_free(nd->core);
    nd->core = NULL;
    free_held(nd);
    hs_core_config cfg = net->cfg;
    cfg.name = nd->name;
    cfg.addr = nd->addr;
    cfg.generation = generation;
    uint64_t s = net->seed * 0x100000001b3ULL + i;
    s = splitmix(&s) ^ generation;
    cfg.seed = splitmix(&s);
    if (net->hooks.tweak)
        net->hooks.tweak(net, i, &cfg, net->hooks.arg);
    if (hs__core_new(&cfg, net->now, &nd->core) != HS_OK) {
        net->oom = true;
        return false;
    }
    for (uint32_t k = 0; k < net->n_seeds; k++)
        if (k != i)
            hs__core_add_seed(nd->core, net->nodes[k].addr);
    nd->generation = generation;
    nd->state = SIM_UP;
    nd->sched = UINT64_MAX;
    drain(net, i);
    reschedule(net, i);
    return true;
}

void sim_node_crash(sim_net *net, uint32_t i)
{
    sim_node *nd = &net->nodes[i];
    nd->state = SIM_DOWN;
    nd->sched = UINT64_MAX;
    net->stats.dropped_down += nd->n_held;
    free_held(nd);
}

bool sim_node_restart(sim_net *net, uint32_t i)
{
    sim_node_crash(net, i);
    return sim_node_start(net, i, net->nodes[i].generation + 1);
}

void sim_node_pause(sim_net *net, uint32_t i)
{
    sim_node *nd = &net->nodes[i];
    if (nd->state != SIM_UP)
        return;
    nd->state = SIM_PAUSED;
    nd->sched = UINT64_MAX;
    nd->paused_at = net->now;
}

static void deliver(sim_net *net, sim_pkt *p)
{
    sim_node *nd = &net->nodes[p->to];
    hs__core_receive(nd->core, net->now, net->nodes[p->from].addr, p->data,
                     p->len);
    net->stats.msgs_delivered++;
    net->stats.bytes_delivered += p->len;
    drain(net, p->to);
    reschedule(net, p->to);
    if (net->hooks.on_receive)
        net->hooks.on_receive(net, p->to, net->hooks.arg);
}

void sim_node_resume(sim_net *net, uint32_t i)
{
    sim_node *nd = &net->nodes[i];
    if (nd->state != SIM_PAUSED)
        return;
    nd->state = SIM_UP;
    /* The loop wakes up late: timers first (the core notices the gap and
     * forgives its peers), then whatever the socket kept, in order. */
    hs__core_tick(nd->core, net->now);
    net->stats.ticks++;
    drain(net, i);
    for (uint32_t k = 0; k < nd->n_held && nd->state == SIM_UP; k++) {
        sim_pkt *p = nd->held[k];
        nd->held[k] = NULL;
        deliver(net, p);
        free(p);
    }
    free_held(nd);
    reschedule(net, i);
}

/* ---- Seeding converged views -------------------------------------------- */

/* One member's current state as a from-scratch delta, as the owner would
 * send it to a peer that never heard of it. */
typedef struct seed_member {
    hs_wire_delta d;
} seed_member;

static bool seed_flush(sim_net *net, hs_wire_msg *msg, uint8_t *buf, size_t cap)
{
    size_t len = 0;
    if (msg->n_deltas == 0)
        return true;
    if (hs__wire_encode(msg, buf, cap, &len) != HS_OK)
        return false;
    for (uint32_t i = 0; i < net->n; i++) {
        sim_node *nd = &net->nodes[i];
        if (nd->state != SIM_UP)
            continue;
        hs__core_receive(nd->core, net->now, "", buf, len);
        drain(net, i);
    }
    msg->n_deltas = 0;
    return true;
}

bool sim_seed_views(sim_net *net)
{
    size_t cap = net->cfg.max_datagram;
    seed_member *sm = calloc(net->n, sizeof *sm);
    hs_wire_delta *ds = calloc(net->n, sizeof *ds);
    uint8_t *buf = malloc(cap);
    bool ok = sm && ds && buf;
    uint32_t n_up = 0;
    for (uint32_t i = 0; ok && i < net->n; i++) {
        sim_node *nd = &net->nodes[i];
        if (nd->state != SIM_UP)
            continue;
        n_up++;
        hs_member_info info;
        if (hs__core_member_get(nd->core, nd->name, net->now, &info) != HS_OK ||
            info.n_keys != 0 || info.max_version > 1) {
            ok = false; /* only fresh cores can be described this way */
            break;
        }
        seed_member *s = &sm[i];
        s->d.name = nd->name;
        s->d.generation = info.generation;
        s->d.addr = nd->addr;
        s->d.to_version = info.max_version;
        /* A fresh core's only version is its first heartbeat: a bare
         * version, carried as the delta's heartbeat. */
        s->d.heartbeat = info.heartbeat;
    }
    hs_wire_msg msg = {.type = HS_WIRE_PUSH,
                       .cluster = net->cfg.cluster,
                       .sender = {"sim-seeder", 1, ""},
                       .range_lo = "",
                       .range_hi = "",
                       .deltas = ds};
    size_t base = ok ? hs__wire_base_size(&msg) : 0, used = base;
    for (uint32_t i = 0; ok && i < net->n; i++) {
        if (net->nodes[i].state != SIM_UP)
            continue;
        size_t sz = hs__wire_delta_size(&sm[i].d);
        if (used + sz > cap) {
            ok = seed_flush(net, &msg, buf, cap);
            used = base;
        }
        ds[msg.n_deltas++] = sm[i].d;
        used += sz;
    }
    if (ok)
        ok = seed_flush(net, &msg, buf, cap);
    for (uint32_t i = 0; ok && i < net->n; i++) {
        if (net->nodes[i].state != SIM_UP)
            continue;
        if (hs__core_member_count(net->nodes[i].core) != n_up)
            ok = false;
        reschedule(net, i);
    }
    free(sm);
    free(ds);
    free(buf);
    return ok;
}

/* ---- Running ------------------------------------------------------------ */

bool sim_at(sim_net *net, uint64_t at, void (*fn)(sim_net *, void *), void *arg)
{
    sim_call *c = malloc(sizeof *c);
    if (!c) {
        net->oom = true;
        return false;
    }
    c->fn = fn;
    c->arg = arg;
    if (at < net->now)
        at = net->now;
    if (!heap_push(net, at, EV_CALL, 0, c)) {
        free(c);
        return false;
    }
    return true;
}

static void on_deliver(sim_net *net, sim_pkt *p)
{
    sim_node *nd = &net->nodes[p->to];
    if (nd->state == SIM_DOWN) {
        net->stats.dropped_down++;
        free(p);
        return;
    }
    if (nd->state == SIM_PAUSED) {
        if (nd->held_bytes + p->len > SIM_HOLD_BYTES) {
            net->stats.dropped_hold++;
            free(p);
            return;
        }
        if (nd->n_held == nd->cap_held) {
            uint32_t cap = nd->cap_held ? nd->cap_held * 2 : 16;
            sim_pkt **h = realloc(nd->held, cap * sizeof *h);
            if (!h) {
                net->oom = true;
                free(p);
                return;
            }
            nd->held = h;
            nd->cap_held = cap;
        }
        nd->held[nd->n_held++] = p;
        nd->held_bytes += p->len;
        return;
    }
    deliver(net, p);
    free(p);
}

uint64_t sim_run_until(sim_net *net, uint64_t until)
{
    net->stop = false;
    while (net->n_heap && net->heap[0].at <= until && !net->stop && !net->oom) {
        sim_ev e = heap_pop(net);
        net->now = e.at;
        net->stats.events++;
        if ((net->stats.events & 0xffff) == 0 && net->wall_limit_s > 0 &&
            sim_wall(net) > net->wall_limit_s) {
            net->timed_out = true;
            net->stop = true;
        }
        switch (e.kind) {
        case EV_TICK: {
            sim_node *nd = &net->nodes[e.node];
            if (nd->state != SIM_UP || nd->sched != e.at)
                break; /* stale entry */
            nd->sched = UINT64_MAX;
            hs__core_tick(nd->core, net->now);
            net->stats.ticks++;
            drain(net, e.node);
            reschedule(net, e.node);
            if (net->hooks.on_tick)
                net->hooks.on_tick(net, e.node, net->hooks.arg);
            break;
        }
        case EV_DELIVER:
            on_deliver(net, e.ptr);
            break;
        case EV_CALL: {
            sim_call c = *(sim_call *)e.ptr;
            free(e.ptr);
            c.fn(net, c.arg);
            break;
        }
        }
    }
    if (!net->stop && !net->oom && until > net->now)
        net->now = until;
    return net->now;
}

bool sim_view(const sim_net *net, uint32_t i, uint32_t j, hs_member_info *out)
{
    const sim_node *a = &net->nodes[i];
    if (!a->core)
        return false;
    return hs__core_member_get(a->core, net->nodes[j].name, net->now, out) ==
           HS_OK;
}
