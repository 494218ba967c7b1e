/*
 * vloop.h — a virtual event loop for nodes in tests: the loop adapter of
 * membership/loop_adapter.h over a clock the test advances.
 *
 * Nodes created with vloop_node_new() run the real runtime (loop.c) on
 * real loopback sockets, but their time is the vloop's: timers fire in
 * order of their virtual deadlines, and only when the test runs the loop,
 * so a test of detection, leave or join timing is as fast as the work
 * and does not depend on how loaded the machine is. Datagrams are read as
 * soon as poll(..., 0) sees them, before the clock moves on: loopback
 * normally queues a datagram at its receiver before sendto() returns, so
 * it is read at the virtual time it was sent (one that the kernel queues
 * later is read at the next timer's time instead, like a slow network).
 *
 * One thread: the test's. Wake-ups may come from other threads (the
 * resolver's), and are taken at the next step.
 */
#ifndef HS_VLOOP_H
#define HS_VLOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "hearsay.h"

typedef struct vloop vloop;

/* A virtual loop whose clock reads start_ms. NULL on allocation failure. */
vloop *vloop_new(uint64_t start_ms);
/* Frees the loop; every node on it must have been freed first. */
void vloop_free(vloop *vl);

/* hs_node_new() on the virtual loop (embedded mode). */
hs_err vloop_node_new(vloop *vl, const hs_config *cfg, hs_node **out);

uint64_t vloop_now(const vloop *vl);

/* Runs the loop: wake-ups, readable sockets and due timers at the current
 * time, then the clock moves to the next timer, until pred(arg) holds
 * (checked before every step; pred may be NULL) or the clock would pass
 * until_ms, where it stops. Returns whether pred held. */
bool vloop_run_until(vloop *vl, bool (*pred)(void *arg), void *arg,
                     uint64_t until_ms);

/* Moves the clock by ms without running anything: the loop was stalled
 * (a stopped VM, a callback that blocked). What fell due runs at the next
 * vloop_run_until(). */
void vloop_stall(vloop *vl, uint64_t ms);

/* Callbacks the loop made into nodes so far (timers, readable sockets,
 * wake-ups): the wake-ups an idle node costs. */
uint64_t vloop_callbacks(const vloop *vl);

#endif /* HS_VLOOP_H */
