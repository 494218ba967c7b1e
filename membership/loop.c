/*
 * loop.c — the event-loop side of a node: sending, the one timer, the
 * wake-ups from other threads, the own thread, event dispatch and
 * shutting down. Reading the socket is in loop_recv.c, watching a join
 * in loop_join.c. It reaches the loop only through the node's adapter
 * (loop_adapter.h): libev in production (loop_ev.c), a virtual loop and
 * clock in tests.
 *
 * The core says when it next needs the time (hs__core_next_deadline), so
 * the node keeps exactly one timer, re-armed to that deadline after
 * every call into the core: no fixed tick, no polling. After every call the
 * core's outgoing queue is drained with non-blocking sendto(); a datagram
 * that does not fit the socket buffer is dropped and counted, because
 * gossip is repaired by the next round and a queue would only make stale
 * news later. The core's time is the adapter's clock in ms
 * (CLOCK_MONOTONIC with libev), read fresh for every call; if the loop
 * did not run for a while (a stopped VM, SIGSTOP, a callback that
 * blocked), the core sees a call late against its own deadline and
 * forgives the gap, so a paused node convicts nobody.
 *
 * API calls from other threads (own-thread mode) change the core under the
 * node's mutex and wake the loop (an ev_async), which then sends what was
 * queued, re-arms the timer and dispatches events; embedded mode uses the
 * same path, so an API call never runs user callbacks re-entrantly.
 * Callbacks run on the loop thread with the mutex released, so they may
 * call the API.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "membership/node_impl.h"

/* A callback slower than this holds up gossip and detection. */
#define HS_SLOW_CALLBACK_US 10000

/* ---- This node's own key changes ---------------------------------------- */

void hs__loop_local_event(hs_node *n, const char *key, bool deleted)
{
    char *k = NULL;
    if (n->n_local_events >= HS_MAX_LOCAL_EVENTS) {
        n->rt.events_dropped++;
        return;
    }
    if (!(k = strdup(key))) {
        n->rt.events_dropped++;
        n->rt.alloc_failures++;
        hs__rt_check_nomem(n);
        return;
    }
    if (!n->local_events) {
        n->local_events = calloc(HS_MAX_LOCAL_EVENTS, sizeof *n->local_events);
        if (!n->local_events) {
            free(k);
            n->rt.events_dropped++;
            n->rt.alloc_failures++;
            hs__rt_check_nomem(n);
            return;
        }
    }
    n->local_events[n->n_local_events++] = (hs_local_event){k, deleted};
}

/* Takes the oldest local event, if any, into *out (the caller frees its
 * key). With mu held. */
static bool next_local_event(hs_node *n, hs_local_event *out)
{
    if (!n->n_local_events)
        return false;
    *out = n->local_events[0];
    n->n_local_events--;
    memmove(n->local_events, n->local_events + 1,
            n->n_local_events * sizeof *n->local_events);
    return true;
}

/* ---- Sending and the timer (loop thread, mu held) ----------------------- */

static void send_all(hs_node *n)
{
    hs_datagram d;
    while (hs__core_next_datagram(n->core, &d)) {
        if (n->fd < 0)
            continue;
        hs_sockaddr to, dst;
        if (hs__addr_parse(d.to, &to) != HS_OK ||
            hs__addr_for_socket(&to, n->family, &dst) != HS_OK) {
            n->rt.send_errors++;
            hs__rt_warn(n, HS_WARN_SEND,
                        "cannot send to '%s': not a numeric address this "
                        "socket can reach",
                        d.to);
            continue;
        }
        const uint8_t *buf = d.buf;
        size_t len = d.len;
        hs_err err = hs__guard_seal(n, &buf, &len);
        if (err != HS_OK) {
            n->rt.send_errors++;
            n->rt.alloc_failures += err == HS_ENOMEM;
            hs__rt_warn(n, HS_WARN_SEND, "cannot seal a datagram to %s: %s",
                        d.to, hs_strerror(err));
            continue;
        }
        ssize_t r;
        do
            r = sendto(n->fd, buf, len, MSG_DONTWAIT,
                       (struct sockaddr *)&dst.ss, dst.len);
        while (r < 0 && errno == EINTR);
        if (r < 0) {
            int e = errno;
            n->rt.send_errors++;
            hs__rt_warn(n, HS_WARN_SEND, "sendto %s: %s%s", d.to, strerror(e),
                        e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS
                            ? " (datagram dropped)"
                            : "");
        }
    }
}

static void rearm(hs_node *n, uint64_t now)
{
    uint64_t deadline = hs__core_next_deadline(n->core);
    if (n->state == HS_NODE_LEAVING && n->leave_deadline < deadline)
        deadline = n->leave_deadline;
    /* Never postpone a timer that is already armed, nor touch one that has
     * expired and waits for its callback in this loop iteration (stopping
     * it would cancel that callback). A call into the core while a tick is
     * due moves the core's deadline to now + 1 ms; were the timer re-armed
     * to that each time, datagrams or API calls arriving every millisecond
     * would keep the tick (heartbeats, gossip, the detector) from ever
     * running. Firing early is harmless: the tick does what is due and
     * hands out the next deadline. */
    hs_timer_state ts = hs_loop_timer_state(n, HS_TIMER_TICK);
    if (ts == HS_TIMER_DUE || (ts == HS_TIMER_ARMED && n->armed_ms <= deadline))
        return;
    n->armed_ms = deadline;
    n->ad.ops->timer_arm(n->ad.data, HS_TIMER_TICK,
                         deadline > now ? deadline - now : 0);
}

/* Sends what the core queued and follows its new deadline. */
void hs__loop_service(hs_node *n)
{
    if (n->state != HS_NODE_RUNNING && n->state != HS_NODE_LEAVING)
        return;
    send_all(n);
    hs__rt_check_nomem(n);
    rearm(n, hs_loop_now(n));
    if (n->state == HS_NODE_RUNNING && n->join_wanted && !n->joined_ms)
        hs__loop_join_arm(n);
}

/* ---- Events (loop thread, mu not held) ---------------------------------- */

void hs__loop_dispatch(hs_node *n)
{
    if (n->dispatching) /* a callback ran the loop recursively */
        return;
    n->dispatching = true;
    for (;;) {
        hs_core_event ce;
        hs_local_event le = {0};
        hs_callback cbs[HS_MAX_CALLBACKS];
        unsigned k = 0;
        pthread_mutex_lock(&n->mu);
        bool live = n->state != HS_NODE_STOPPED && n->core;
        bool got = live && hs__core_next_event(n->core, &ce);
        bool local = live && !got && next_local_event(n, &le);
        hs_event ev;
        if (got)
            ev = (hs_event){.type = ce.type,
                            .name = ce.name,
                            .addr = ce.addr,
                            .generation = ce.generation,
                            .state = ce.state,
                            .key = ce.type == HS_EVENT_UPDATE ? ce.key : NULL,
                            .deleted = ce.deleted};
        if (got && ce.user) { /* HS_EVENT_USER (announce.c) */
            ev.user_name = ce.user->name;
            ev.user_payload = ce.user->payload;
            ev.user_payload_len = ce.user->len;
            ev.user_ltime = ce.user->ltime;
            ev.local = ce.user->local;
            ev.query_id = ce.query_id; /* QUERY (query.c) */
            ev.query_timeout_ms = ce.query_timeout_ms;
        } else if (local)
            ev = (hs_event){.type = HS_EVENT_UPDATE,
                            .name = n->name,
                            .addr = n->advertised,
                            .generation = n->core_cfg.generation,
                            .state = HS_STATE_ALIVE,
                            .key = le.key,
                            .deleted = le.deleted,
                            .local = 1};
        for (unsigned i = 0; (got || local) && i < n->n_callbacks; i++)
            if (n->callbacks[i].mask & (1u << ev.type))
                cbs[k++] = n->callbacks[i];
        pthread_mutex_unlock(&n->mu);
        if (!got && !local)
            break;
        for (unsigned j = 0; j < k; j++) {
            uint64_t t0 = hs__rt_now_us();
            cbs[j].cb(n, &ev, cbs[j].arg);
            uint64_t took = hs__rt_now_us() - t0;
            if (took > HS_SLOW_CALLBACK_US) {
                pthread_mutex_lock(&n->mu);
                n->rt.callbacks_slow++;
                hs__rt_warn(n, HS_WARN_SLOW_CB,
                            "a callback for event '%s' took %llu ms: "
                            "callbacks hold up gossip and failure detection",
                            hs_event_type_name(ev.type),
                            (unsigned long long)(took / 1000));
                pthread_mutex_unlock(&n->mu);
            }
        }
        free(le.key);
    }
    hs__query_dispatch(n); /* answers to this node's queries */
    n->dispatching = false;
}

/* ---- Shutting down (loop thread) ---------------------------------------- */

/* Closes the socket and stops every watcher. A leave in progress ends with
 * `status`: HS_OK when it ran its course, HS_ESTATE when stopped early. */
static void shutdown_node(hs_node *n, hs_err status)
{
    pthread_mutex_lock(&n->mu);
    if (n->state == HS_NODE_STOPPED) {
        pthread_mutex_unlock(&n->mu);
        return;
    }
    send_all(n); /* whatever the leave still had to say */
    hs_done_cb done = NULL;
    void *done_arg = NULL;
    if (n->state == HS_NODE_LEAVING) {
        done = n->leave_done;
        done_arg = n->leave_arg;
        n->leave_done = NULL;
        n->leave_finished = true;
        n->leave_status = status;
        pthread_cond_broadcast(&n->leave_cv);
    }
    n->state = HS_NODE_STOPPED;
    n->stopped_ms = hs_loop_now(n);
    n->ad.ops->io_stop(n->ad.data); /* the timers and wake-ups too */
    close(n->fd);
    n->fd = -1;
    hs__rt_log(n, HS_LOG_INFO, "stopped");
    pthread_mutex_unlock(&n->mu);
    hs__resolver_stop(n->resolver);
    if (n->own_loop)
        n->ad.ops->run_stop(n->ad.data);
    if (done)
        done(n, status, done_arg);
}

/* ---- Watchers ----------------------------------------------------------- */

/* A node with seed names that knows no live peer (it started before its
 * seeds' DNS records existed, or every member it knew died and the
 * records moved on) asks for its names again this often instead of
 * waiting out resolve_interval_ms: alone, the answer is all it has. 2 s
 * is a few gossip rounds, and one query per name per 2 s is nothing to a
 * DNS server. */
#define HS_ALONE_RESOLVE_MS 2000

/* [mu] Whether no other member is alive or suspect. Stops at the first
 * live one, so a healthy cluster pays for one or two lookups. */
static bool alone(hs_node *n, uint64_t now)
{
    size_t count = hs__core_member_count(n->core);
    for (size_t i = 0; i < count; i++) {
        hs_member_info mi;
        if (hs__core_member_at(n->core, i, now, &mi) != HS_OK)
            break;
        if (!mi.is_self &&
            (mi.state == HS_STATE_ALIVE || mi.state == HS_STATE_SUSPECT))
            return false;
    }
    return true;
}

static void on_timer(hs_node *n)
{
    pthread_mutex_lock(&n->mu);
    uint64_t now = hs_loop_now(n);
    bool kick = false;
    if (n->state == HS_NODE_RUNNING &&
        now - n->alone_checked_ms >= HS_ALONE_RESOLVE_MS) {
        n->alone_checked_ms = now;
        kick = alone(n, now);
    }
    bool finish = n->state == HS_NODE_LEAVING && now >= n->leave_deadline;
    if (!finish &&
        (n->state == HS_NODE_RUNNING || n->state == HS_NODE_LEAVING)) {
        const hs_stats *st = hs__core_stats_get(n->core);
        uint64_t rounds = st->rounds, t0 = hs__rt_now_us();
        hs__core_tick(n->core, now);
        if (st->rounds != rounds) {
            /* Round timing: the whole tick that ran a gossip round. */
            uint64_t us = hs__rt_now_us() - t0;
            n->rt.round_us_sum += us;
            if (us > n->rt.round_us_max)
                n->rt.round_us_max = us;
        }
        hs__loop_service(n);
    }
    pthread_mutex_unlock(&n->mu);
    /* After mu: the resolver's lock comes first (node_impl.h). */
    if (kick)
        hs__resolver_refresh(n->resolver);
    if (finish) {
        shutdown_node(n, HS_OK);
        return;
    }
    hs__loop_dispatch(n);
}

static void on_wake(hs_node *n)
{
    pthread_mutex_lock(&n->mu);
    bool stop = n->stop_requested;
    if (!stop)
        hs__loop_service(n);
    pthread_mutex_unlock(&n->mu);
    if (stop) {
        shutdown_node(n, HS_ESTATE);
        return;
    }
    hs__loop_dispatch(n);
}

/* The resolver's answers replace the core's seed list: numeric seeds, then
 * every name's latest successful answer. Called under the resolver's lock;
 * takes the node's. */
static void apply_resolved(void *arg, const hs_resolved *names, unsigned cnt)
{
    hs_node *n = arg;
    pthread_mutex_lock(&n->mu);
    if (!n->core || n->state == HS_NODE_STOPPED) {
        pthread_mutex_unlock(&n->mu);
        return;
    }
    hs__core_clear_seeds(n->core);
    for (unsigned i = 0; i < n->n_seeds; i++) {
        hs_err err = hs__core_add_seed(n->core, n->seeds[i]);
        if (err != HS_OK)
            hs__rt_warn(n, HS_WARN_SEEDS, "seed %s: %s", n->seeds[i],
                        hs_strerror(err));
    }
    for (unsigned i = 0; i < cnt; i++) {
        const hs_resolved *x = &names[i];
        char port[12] = ""; /* none for an SRV name: its records carry them */
        if (x->port)
            snprintf(port, sizeof port, ":%u", x->port);
        if (x->fresh && x->error) {
            n->rt.resolve_errors++;
            hs__rt_log(n, HS_LOG_WARN,
                       "seed %s%s did not resolve: %s (keeping %u address%s "
                       "from before)",
                       x->host, port, x->error_text, x->n_addrs,
                       x->n_addrs == 1 ? "" : "es");
        } else if (x->fresh) {
            hs__rt_log(n, HS_LOG_DEBUG, "seed %s%s resolved to %u address%s",
                       x->host, port, x->n_addrs, x->n_addrs == 1 ? "" : "es");
        }
        for (unsigned j = 0; j < x->n_addrs; j++) {
            hs_err err = hs__core_add_seed(n->core, x->addrs[j]);
            if (err != HS_OK)
                hs__rt_warn(n, HS_WARN_SEEDS, "seed %s (from %s): %s",
                            x->addrs[j], x->host, hs_strerror(err));
        }
    }
    pthread_mutex_unlock(&n->mu);
}

static void on_resolved(hs_node *n)
{
    hs__resolver_collect(n->resolver, apply_resolved, n);
}

/* ---- The adapter's callbacks (loop_adapter.h) ---------------------------- */

void hs__loop_timer(hs_node *n, unsigned t)
{
    if (t == HS_TIMER_TICK)
        on_timer(n);
    else
        hs__loop_join_timer(n);
}

void hs__loop_woken(hs_node *n, unsigned w)
{
    if (w == HS_WAKE_API)
        on_wake(n);
    else
        on_resolved(n);
}

/* ---- Own thread --------------------------------------------------------- */

static void *node_main(void *arg)
{
    hs_node *n = arg;
    pthread_mutex_lock(&n->mu);
    n->loop_tid = pthread_self();
    pthread_mutex_unlock(&n->mu);
    n->ad.ops->run(n->ad.data);
    return NULL;
}

bool hs__loop_on_node_thread(hs_node *n)
{
    return n->own_loop && n->thread_started &&
           pthread_equal(n->loop_tid, pthread_self());
}

/* ---- Entry points ------------------------------------------------------- */

void hs__loop_init(hs_node *n)
{
    n->ad.ops->attach(n->ad.data, n);
}

hs_err hs__loop_start(hs_node *n)
{
    n->ad.ops->io_start(n->ad.data, n->fd);
    rearm(n, hs_loop_now(n));
    if (n->join_wanted)
        hs__loop_join_arm(n);
    if (!n->own_loop)
        return HS_OK;
    /* The node's thread takes no signals: they stay with the
     * application's threads (e.g. its sigwait() loop). */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&n->thread, NULL, node_main, n);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        hs__rt_log(n, HS_LOG_ERROR, "pthread_create: %s", strerror(rc));
        n->ad.ops->io_stop(n->ad.data);
        return HS_ENOMEM;
    }
    n->thread_started = true;
    n->thread_joined = false;
    return HS_OK;
}

void hs__loop_wake(hs_node *n)
{
    if (n->state == HS_NODE_RUNNING || n->state == HS_NODE_LEAVING)
        n->ad.ops->wake(n->ad.data, HS_WAKE_API);
}

void hs__loop_stop(hs_node *n)
{
    pthread_mutex_lock(&n->mu);
    bool on_thread = hs__loop_on_node_thread(n);
    bool join = false, here = false;
    if (n->state == HS_NODE_NEW) {
        n->state = HS_NODE_STOPPED;
    } else if (n->state != HS_NODE_STOPPED) {
        if (n->own_loop && !on_thread) {
            /* The node's thread shuts down on this wake-up. */
            n->stop_requested = true;
            n->ad.ops->wake(n->ad.data, HS_WAKE_API);
        } else {
            here = true;
        }
    }
    if (n->own_loop && n->thread_started && !n->thread_joined && !on_thread) {
        n->thread_joined = true;
        join = true;
    }
    pthread_mutex_unlock(&n->mu);
    if (here)
        shutdown_node(n, HS_ESTATE);
    if (join)
        pthread_join(n->thread, NULL);
}
