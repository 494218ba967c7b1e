/*
 * membership/loop_adapter.h — the event loop a node runs on, as a small
 * table of functions (hiredis's adapters/libev.h is the model). Private.
 *
 * The runtime (loop.c) needs very little of a loop: one socket watched
 * for reading, two one-shot timers (the core's next deadline and the next
 * join report), wake-ups that other threads can send (an API call queued
 * something; the resolver has answers), and the time. loop.c asks for
 * those through hs_loop_ops and nothing else, so the same runtime code
 * runs on libev (loop_ev.c, the only file that includes ev.h) and on the
 * tests' virtual loop (tests/unit/vloop.c), where a test advances the
 * clock and the node's timing behaviour is checked without a wall-clock
 * wait.
 *
 * An adapter calls back into the node with hs__loop_readable(),
 * hs__loop_timer() and hs__loop_woken() (loop_recv.c, loop.c), on the
 * loop's thread, without the node's lock held.
 */
#ifndef HS_LOOP_ADAPTER_H
#define HS_LOOP_ADAPTER_H

#include <stdbool.h>
#include <stdint.h>

#include "hearsay.h"

/* The node's two timers. */
enum {
    HS_TIMER_TICK = 0, /* the core's next deadline (or the leave's end) */
    HS_TIMER_JOIN = 1, /* the next join report, while not joined */
    HS_TIMERS_ = 2
};

/* The node's two kinds of wake-up. */
enum {
    HS_WAKE_API = 0,      /* an API call queued something: flush */
    HS_WAKE_RESOLVED = 1, /* the resolver has answers */
    HS_WAKES_ = 2
};

/* What hs_loop_ops.timer_state says. */
typedef enum hs_timer_state {
    HS_TIMER_IDLE = 0,
    HS_TIMER_ARMED = 1, /* will fire */
    HS_TIMER_DUE = 2    /* fired; its callback has not run yet */
} hs_timer_state;

typedef struct hs_loop_ops {
    /* Binds the adapter's data to the node it calls back (once, from
     * hs_node_new). */
    void (*attach)(void *data, hs_node *n);
    /* Watches fd for reading, and delivers wake-ups, until io_stop().
     * io_stop() also disarms both timers. */
    void (*io_start)(void *data, int fd);
    void (*io_stop)(void *data);
    /* Arms timer t to fire once, after_ms from now; an armed timer is
     * moved. disarm is a no-op on an idle timer. */
    void (*timer_arm)(void *data, unsigned t, uint64_t after_ms);
    void (*timer_disarm)(void *data, unsigned t);
    hs_timer_state (*timer_state)(void *data, unsigned t);
    /* From any thread: have hs__loop_woken(n, w) run on the loop thread
     * soon. Wake-ups of one kind may be merged. */
    void (*wake)(void *data, unsigned w);
    /* The loop's monotonic clock, in ms: the core's timeline. */
    uint64_t (*now_ms)(void *data);
    /* Own-thread mode only (NULL otherwise): runs the loop on the node's
     * thread until run_stop() is called on it. */
    void (*run)(void *data);
    void (*run_stop)(void *data);
    /* Frees the adapter's data (the node is being freed). */
    void (*free)(void *data);
} hs_loop_ops;

typedef struct hs_loop_adapter {
    const hs_loop_ops *ops;
    void *data;
} hs_loop_adapter;

/* The libev adapter (loop_ev.c). With loop NULL it creates a loop of its
 * own for the node's thread (own-thread mode). HS_ENOMEM. */
hs_err hs__loop_ev_new(struct ev_loop *loop, hs_loop_adapter *out);

/* A node on a given adapter (node.c): hs_node_new() is this with the
 * libev adapter. The node owns data from here on (ops->free), on failure
 * too. An adapter with run is own-thread mode (the node's thread runs
 * it); one without is embedded mode, driven by whoever runs that loop.
 * Not public: the table is free to change with the runtime. */
hs_err hs__node_new_on(const hs_config *cfg, const hs_loop_ops *ops, void *data,
                       hs_node **out);

/* The adapter's callbacks into the node (loop.c). */
void hs__loop_readable(hs_node *n);
void hs__loop_timer(hs_node *n, unsigned t);
void hs__loop_woken(hs_node *n, unsigned w);

#endif /* HS_LOOP_ADAPTER_H */
