/*
 * vloop.c — see vloop.h. The loop adapter's functions over a small table
 * of nodes: each node's socket, its two timers (a virtual deadline and the
 * order they were armed in, which breaks ties) and its pending wake-ups.
 * A step does what is due now — wake-ups, then every readable socket
 * until none is, then the earliest due timer — and when no timer is due
 * moves the clock to the next one.
 */
#include "vloop.h"

#include <poll.h>
#include <sched.h>
#include <stdlib.h>

#include "membership/loop_adapter.h"

#define VL_MAX 64

typedef struct vl_node {
    vloop *vl;
    hs_node *node;
    int fd;
    bool io_on;
    bool armed[HS_TIMERS_];
    uint64_t at[HS_TIMERS_];
    uint64_t order[HS_TIMERS_];
    unsigned wakes; /* bit per kind; set from any thread (atomic) */
} vl_node;

struct vloop {
    uint64_t now;
    uint64_t arms; /* timers armed so far: the tie-break order */
    uint64_t callbacks;
    vl_node *nodes[VL_MAX];
};

vloop *vloop_new(uint64_t start_ms)
{
    vloop *vl = calloc(1, sizeof *vl);
    if (vl)
        vl->now = start_ms;
    return vl;
}

void vloop_free(vloop *vl)
{
    free(vl);
}

uint64_t vloop_now(const vloop *vl)
{
    return vl->now;
}

uint64_t vloop_callbacks(const vloop *vl)
{
    return vl->callbacks;
}

void vloop_stall(vloop *vl, uint64_t ms)
{
    vl->now += ms;
}

/* ---- The adapter -------------------------------------------------------- */

static void vl_attach(void *data, hs_node *n)
{
    ((vl_node *)data)->node = n;
}

static void vl_io_start(void *data, int fd)
{
    vl_node *v = data;
    v->fd = fd;
    v->io_on = true;
}

static void vl_io_stop(void *data)
{
    vl_node *v = data;
    v->io_on = false;
    v->fd = -1;
    for (unsigned t = 0; t < HS_TIMERS_; t++)
        v->armed[t] = false;
    __atomic_store_n(&v->wakes, 0, __ATOMIC_SEQ_CST);
}

static void vl_timer_arm(void *data, unsigned t, uint64_t after_ms)
{
    vl_node *v = data;
    v->armed[t] = true;
    v->at[t] = v->vl->now + after_ms;
    v->order[t] = v->vl->arms++;
}

static void vl_timer_disarm(void *data, unsigned t)
{
    ((vl_node *)data)->armed[t] = false;
}

/* A due timer fires as soon as the test runs the loop; until then it is
 * armed, as a libev timer is until its loop iteration notices it. */
static hs_timer_state vl_timer_state(void *data, unsigned t)
{
    return ((vl_node *)data)->armed[t] ? HS_TIMER_ARMED : HS_TIMER_IDLE;
}

static void vl_wake(void *data, unsigned w)
{
    vl_node *v = data;
    __atomic_or_fetch(&v->wakes, 1u << w, __ATOMIC_SEQ_CST);
}

static uint64_t vl_now_ms(void *data)
{
    return ((vl_node *)data)->vl->now;
}

static void vl_free(void *data)
{
    vl_node *v = data;
    for (int i = 0; i < VL_MAX; i++)
        if (v->vl->nodes[i] == v)
            v->vl->nodes[i] = NULL;
    free(v);
}

static const hs_loop_ops vl_ops = {
    .attach = vl_attach,
    .io_start = vl_io_start,
    .io_stop = vl_io_stop,
    .timer_arm = vl_timer_arm,
    .timer_disarm = vl_timer_disarm,
    .timer_state = vl_timer_state,
    .wake = vl_wake,
    .now_ms = vl_now_ms,
    .free = vl_free,
};

hs_err vloop_node_new(vloop *vl, const hs_config *cfg, hs_node **out)
{
    int slot = 0;
    while (slot < VL_MAX && vl->nodes[slot])
        slot++;
    vl_node *v = slot < VL_MAX ? calloc(1, sizeof *v) : NULL;
    if (!v)
        return HS_ENOMEM;
    v->vl = vl;
    v->fd = -1;
    vl->nodes[slot] = v;
    return hs__node_new_on(cfg, &vl_ops, v, out); /* frees v on failure */
}

/* ---- Running ------------------------------------------------------------ */

/* Runs the wake-ups that are pending. Whether any ran. */
static bool run_wakes(vloop *vl)
{
    bool did = false;
    for (int i = 0; i < VL_MAX; i++) {
        vl_node *v = vl->nodes[i];
        if (!v)
            continue;
        unsigned w = __atomic_exchange_n(&v->wakes, 0, __ATOMIC_SEQ_CST);
        for (unsigned k = 0; k < HS_WAKES_; k++) {
            /* A callback may have stopped (or freed) this node. */
            if (!(w & (1u << k)) || vl->nodes[i] != v || !v->io_on)
                continue;
            vl->callbacks++;
            hs__loop_woken(v->node, k);
            did = true;
        }
    }
    return did;
}

/* Reads every socket that has a datagram waiting. Whether any had. */
static bool run_readable(vloop *vl)
{
    struct pollfd fds[VL_MAX];
    vl_node *who[VL_MAX];
    nfds_t n = 0;
    for (int i = 0; i < VL_MAX; i++) {
        vl_node *v = vl->nodes[i];
        if (v && v->io_on && v->fd >= 0) {
            fds[n] = (struct pollfd){.fd = v->fd, .events = POLLIN};
            who[n++] = v;
        }
    }
    if (n == 0 || poll(fds, n, 0) <= 0)
        return false;
    bool did = false;
    for (nfds_t k = 0; k < n; k++) {
        if (!(fds[k].revents & POLLIN))
            continue;
        bool live = false; /* still on the loop after earlier callbacks? */
        for (int i = 0; i < VL_MAX; i++)
            live |= vl->nodes[i] == who[k];
        if (!live || !who[k]->io_on || who[k]->fd != fds[k].fd)
            continue;
        vl->callbacks++;
        hs__loop_readable(who[k]->node);
        did = true;
    }
    return did;
}

/* The earliest armed timer: its node and index. */
static vl_node *earliest(vloop *vl, unsigned *t)
{
    vl_node *best = NULL;
    for (int i = 0; i < VL_MAX; i++) {
        vl_node *v = vl->nodes[i];
        for (unsigned k = 0; v && k < HS_TIMERS_; k++) {
            if (!v->armed[k])
                continue;
            if (!best || v->at[k] < best->at[*t] ||
                (v->at[k] == best->at[*t] && v->order[k] < best->order[*t])) {
                best = v;
                *t = k;
            }
        }
    }
    return best;
}

bool vloop_run_until(vloop *vl, bool (*pred)(void *arg), void *arg,
                     uint64_t until_ms)
{
    for (;;) {
        if (pred && pred(arg))
            return true;
        /* One step: the wake-ups (a test's pred may make one every time
         * it looks, so they never hold the clock), every datagram, and
         * the datagrams those sent, then one due timer. */
        run_wakes(vl);
        while (run_readable(vl))
            ;
        unsigned t = 0;
        vl_node *v = earliest(vl, &t);
        if (v && v->at[t] <= vl->now) {
            v->armed[t] = false; /* idle while its callback runs */
            vl->callbacks++;
            hs__loop_timer(v->node, t);
            continue;
        }
        /* Nothing left at this time. A datagram the kernel has not queued
         * yet gets one more chance before the clock moves on. */
        sched_yield();
        if (run_readable(vl))
            continue;
        if (!v || v->at[t] > until_ms) {
            if (until_ms > vl->now)
                vl->now = until_ms;
            return pred && pred(arg);
        }
        vl->now = v->at[t];
    }
}
