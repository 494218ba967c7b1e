/*
 * loop_ev.c — the libev adapter (loop_adapter.h): the node's socket as an
 * ev_io, its two timers as ev_timers, its wake-ups as ev_asyncs, and, in
 * own-thread mode, a loop of its own run on the node's thread. The only
 * file of the runtime that includes ev.h.
 *
 * Time is CLOCK_MONOTONIC read fresh (not libev's cached ev_now()), so a
 * callback that ran long is seen by the core as the lateness it was.
 */
#include <stdlib.h>
#include <time.h>

#include <ev.h>

#include "membership/loop_adapter.h"

typedef struct ev_adapter {
    struct ev_loop *loop;
    bool own; /* created here, for the node's own thread */
    hs_node *node;
    ev_io io;
    ev_timer timers[HS_TIMERS_];
    ev_async wakes[HS_WAKES_];
} ev_adapter;

static void on_io(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    hs__loop_readable(((ev_adapter *)w->data)->node);
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    ev_adapter *a = w->data;
    hs__loop_timer(a->node, (unsigned)(w - a->timers));
}

static void on_async(struct ev_loop *loop, ev_async *w, int revents)
{
    (void)loop;
    (void)revents;
    ev_adapter *a = w->data;
    hs__loop_woken(a->node, (unsigned)(w - a->wakes));
}

static void ev_attach(void *data, hs_node *n)
{
    ((ev_adapter *)data)->node = n;
}

static void ev_io_start_(void *data, int fd)
{
    ev_adapter *a = data;
    ev_io_set(&a->io, fd, EV_READ);
    ev_io_start(a->loop, &a->io);
    for (unsigned w = 0; w < HS_WAKES_; w++)
        ev_async_start(a->loop, &a->wakes[w]);
}

static void ev_io_stop_(void *data)
{
    ev_adapter *a = data;
    ev_io_stop(a->loop, &a->io);
    for (unsigned t = 0; t < HS_TIMERS_; t++)
        ev_timer_stop(a->loop, &a->timers[t]);
    for (unsigned w = 0; w < HS_WAKES_; w++)
        ev_async_stop(a->loop, &a->wakes[w]);
}

static void ev_timer_arm(void *data, unsigned t, uint64_t after_ms)
{
    ev_adapter *a = data;
    /* libev measures `after` from its cached ev_now(), which may lag the
     * clock by a long callback: refresh it so the timer does not fire
     * early and tick the core for nothing. */
    ev_now_update(a->loop);
    ev_timer_stop(a->loop, &a->timers[t]);
    ev_timer_set(&a->timers[t], (double)after_ms / 1000.0, 0.0);
    ev_timer_start(a->loop, &a->timers[t]);
}

static void ev_timer_disarm(void *data, unsigned t)
{
    ev_adapter *a = data;
    ev_timer_stop(a->loop, &a->timers[t]);
}

static hs_timer_state ev_timer_state(void *data, unsigned t)
{
    ev_adapter *a = data;
    if (ev_is_pending(&a->timers[t]))
        return HS_TIMER_DUE;
    return ev_is_active(&a->timers[t]) ? HS_TIMER_ARMED : HS_TIMER_IDLE;
}

static void ev_wake(void *data, unsigned w)
{
    ev_adapter *a = data;
    ev_async_send(a->loop, &a->wakes[w]);
}

static uint64_t ev_now_ms(void *data)
{
    (void)data;
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static void ev_run_(void *data)
{
    ev_run(((ev_adapter *)data)->loop, 0);
}

static void ev_run_stop(void *data)
{
    ev_break(((ev_adapter *)data)->loop, EVBREAK_ALL);
}

static void ev_free_(void *data)
{
    ev_adapter *a = data;
    if (a && a->own)
        ev_loop_destroy(a->loop);
    free(a);
}

/* On the caller's loop: no run, the caller runs it. */
static const hs_loop_ops embedded_ops = {
    .attach = ev_attach,
    .io_start = ev_io_start_,
    .io_stop = ev_io_stop_,
    .timer_arm = ev_timer_arm,
    .timer_disarm = ev_timer_disarm,
    .timer_state = ev_timer_state,
    .wake = ev_wake,
    .now_ms = ev_now_ms,
    .free = ev_free_,
};

static const hs_loop_ops own_thread_ops = {
    .attach = ev_attach,
    .io_start = ev_io_start_,
    .io_stop = ev_io_stop_,
    .timer_arm = ev_timer_arm,
    .timer_disarm = ev_timer_disarm,
    .timer_state = ev_timer_state,
    .wake = ev_wake,
    .now_ms = ev_now_ms,
    .run = ev_run_,
    .run_stop = ev_run_stop,
    .free = ev_free_,
};

hs_err hs__loop_ev_new(struct ev_loop *loop, hs_loop_adapter *out)
{
    ev_adapter *a = calloc(1, sizeof *a);
    if (!a)
        return HS_ENOMEM;
    a->loop = loop;
    if (!loop) {
        /* Never ev_default_loop(): that one belongs to the application. */
        a->own = true;
        a->loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOENV);
        if (!a->loop) {
            free(a);
            return HS_ENOMEM;
        }
    }
    ev_init(&a->io, on_io);
    a->io.data = a;
    for (unsigned t = 0; t < HS_TIMERS_; t++) {
        ev_init(&a->timers[t], on_timer);
        a->timers[t].data = a;
    }
    for (unsigned w = 0; w < HS_WAKES_; w++) {
        ev_async_init(&a->wakes[w], on_async);
        a->wakes[w].data = a;
    }
    *out = (hs_loop_adapter){a->own ? &own_thread_ops : &embedded_ops, a};
    return HS_OK;
}
