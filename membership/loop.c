/*
 * loop.c — the event-loop side of a node: the UDP socket, the one timer,
 * the wake-ups from other threads, the own thread, and event dispatch. It
 * reaches the loop only through the node's adapter (loop_adapter.h):
 * libev in production (loop_ev.c), a virtual loop and clock in tests.
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

/* Datagrams read per wake-up. The socket is drained completely in the
 * common case; the cap only bounds how long a flood can keep the timer and
 * other watchers on a shared loop waiting (libev calls back at once while
 * more is pending). At ~2 us per datagram through the core, 4096 is under
 * 10 ms. */
#define HS_RECV_BATCH 4096

/* A callback slower than this holds up gossip and detection. */
#define HS_SLOW_CALLBACK_US 10000

/* Join reports (hs_join_status): the first after this, or four gossip
 * intervals if longer (a round needs a few exchanges' time), then twice
 * as long each time up to HS_JOIN_REPORT_MAX_MS. The seeds themselves
 * are contacted every gossip round meanwhile (one SYN, a few dozen
 * bytes); the backoff is for the log, the counter and re-resolution. */
#define HS_JOIN_REPORT_FIRST_MS 2000
#define HS_JOIN_REPORT_MAX_MS 60000

/* ---- Joining (loop thread, mu held) -------------------------------------- */

/* Whether a peer has exchanged state with this node: gossip that only a
 * member of the same cluster, with the same keys, sends in answer. */
static bool heard_peer(const hs_stats *st)
{
    /* By name, not number, so a renumbered message table keeps the rule. */
    for (int t = 1; t < HS_MSG_TYPES; t++) {
        const char *m = hs_msg_type_name(t);
        if (st->msgs_recv[t] &&
            (!strcmp(m, "synack") || !strcmp(m, "ack") || !strcmp(m, "push")))
            return true;
    }
    return false;
}

/* The counters a failed round is explained with. */
static void join_counters(const hs_node *n, hs_stats *out)
{
    *out = *hs__core_stats_get(n->core);
    for (int i = 0; i < HS_REASONS; i++)
        out->rejected[i] += n->rt.rejected[i];
    out->resolve_errors = n->rt.resolve_errors;
    out->send_errors = n->rt.send_errors;
}

static uint64_t join_delay_ms(const hs_node *n)
{
    uint64_t base = 4ull * n->cfg.gossip_interval_ms;
    if (base < HS_JOIN_REPORT_FIRST_MS)
        base = HS_JOIN_REPORT_FIRST_MS;
    uint64_t d = base << (n->join_rounds < 6 ? n->join_rounds : 6);
    return d < HS_JOIN_REPORT_MAX_MS ? d : HS_JOIN_REPORT_MAX_MS;
}

static void join_arm(hs_node *n)
{
    if (hs_loop_timer_state(n, HS_TIMER_JOIN) == HS_TIMER_ARMED)
        return;
    n->ad.ops->timer_arm(n->ad.data, HS_TIMER_JOIN, join_delay_ms(n));
    join_counters(n, &n->join_base);
}

/* Notes the first exchange with a peer; stops the reports. */
static void join_check(hs_node *n)
{
    if (n->joined_ms || !heard_peer(hs__core_stats_get(n->core)))
        return;
    n->joined_ms = hs_loop_now(n);
    n->join_reason[0] = '\0';
    if (n->join_wanted || n->join_failures)
        hs__rt_log(n, n->join_failures ? HS_LOG_WARN : HS_LOG_INFO,
                  "joined: first exchange with a peer %llu ms after start%s",
                  (unsigned long long)(n->joined_ms - n->started_ms),
                  n->join_failures ? " (after failed join rounds)" : "");
    n->ad.ops->timer_disarm(n->ad.data, HS_TIMER_JOIN);
}

/* Why a round reached no peer, from what changed during it. */
static void join_explain(hs_node *n, char *buf, size_t len)
{
    hs_stats now;
    join_counters(n, &now);
    const hs_stats *b = &n->join_base;
#define GREW(f) (now.f > b->f)
    if (GREW(rejected[-HS_ECLUSTER]))
        snprintf(buf, len,
                 "datagrams from another cluster were dropped (is "
                 "--cluster the same everywhere?)");
    else if (GREW(rejected[-HS_EKEY]) || GREW(rejected[-HS_EAUTH]) ||
             GREW(rejected[-HS_EPLAINTEXT]) || GREW(rejected[-HS_ESEALED]))
        snprintf(buf, len,
                 "datagrams that this node's keys do not open were "
                 "refused (is the keyring the same everywhere?)");
    else if (GREW(resolve_errors))
        snprintf(buf, len, "seed names did not resolve");
    else if (GREW(send_errors))
        snprintf(buf, len, "sending to the seeds failed");
    else
        snprintf(buf, len,
                 "no answer: nothing listening there, or a node of another "
                 "cluster or with other keys (it drops what this node "
                 "sends), or a firewall");
#undef GREW
}

static void on_join_timer(hs_node *n)
{
    unsigned names = hs__resolver_count(n->resolver); /* before mu */
    pthread_mutex_lock(&n->mu);
    bool refresh = false;
    if (n->state == HS_NODE_RUNNING && n->core) {
        join_check(n);
        if (!n->joined_ms) {
            char seeds[200] = "";
            size_t off = 0;
            for (unsigned i = 0; i < n->n_seeds && i < 4 && off < sizeof seeds;
                 i++)
                off += (size_t)snprintf(seeds + off, sizeof seeds - off, "%s%s",
                                        i ? ", " : "", n->seeds[i]);
            if (off < sizeof seeds && (n->n_seeds > 4 || names))
                snprintf(seeds + off, sizeof seeds - off,
                         "%s%u more, %u DNS name%s", off ? "; " : "",
                         n->n_seeds > 4 ? n->n_seeds - 4 : 0, names,
                         names == 1 ? "" : "s");
            join_explain(n, n->join_reason, sizeof n->join_reason);
            n->join_failures++;
            n->join_rounds++;
            uint64_t next = join_delay_ms(n);
            hs__rt_log(n, HS_LOG_WARN,
                      "join: no peer has answered %llu ms after start "
                      "(round %llu; seeds %s): %s; still trying every "
                      "gossip round, next report in %llu s",
                      (unsigned long long)(hs_loop_now(n) - n->started_ms),
                      (unsigned long long)n->join_failures, seeds,
                      n->join_reason, (unsigned long long)(next / 1000));
            join_arm(n);
            refresh = names > 0;
        }
    }
    pthread_mutex_unlock(&n->mu);
    if (refresh) /* outside mu: the resolver's lock comes first */
        hs__resolver_refresh(n->resolver);
}

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
static void service(hs_node *n)
{
    if (n->state != HS_NODE_RUNNING && n->state != HS_NODE_LEAVING)
        return;
    send_all(n);
    hs__rt_check_nomem(n);
    rearm(n, hs_loop_now(n));
    if (n->state == HS_NODE_RUNNING && n->join_wanted && !n->joined_ms)
        join_arm(n);
}

/* ---- Events (loop thread, mu not held) ---------------------------------- */

static void dispatch(hs_node *n)
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
        }
        else if (local)
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

/* Counts a datagram the runtime refused before the core saw it. Refusals
 * an operator should hear about (a peer with the wrong key, a clock off by
 * more than the replay window, a flood) are logged, at most once per 10 s
 * per kind; the rest only at debug. */
static void refused(hs_node *n, const char *from, hs_err err)
{
    if (err < 0 && err > HS_ERR_LAST_)
        n->rt.rejected[-err]++;
    n->rt.alloc_failures += err == HS_ENOMEM; /* logged by service() */
    switch (err) {
    case HS_EKEY:
    case HS_EAUTH:
    case HS_EPLAINTEXT:
        hs__rt_warn(n, HS_WARN_REJECT,
                   "refused a datagram from %s: %s (a peer without this "
                   "cluster's key, or not a peer)",
                   from, hs_strerror(err));
        break;
    case HS_EREPLAY:
        hs__rt_warn(n, HS_WARN_REJECT,
                   "refused a datagram from %s: %s (a replay, or a peer "
                   "whose clock is off by more than the replay window)",
                   from, hs_strerror(err));
        break;
    case HS_ERATE:
        hs__rt_warn(n, HS_WARN_RATE,
                   "dropping datagrams from %s: more than %u a second", from,
                   n->cfg.max_datagrams_per_sec_per_source);
        break;
    default:
        hs__rt_log(n, HS_LOG_DEBUG, "dropped a datagram from %s: %s", from,
                  hs_strerror(err));
    }
}

/* A datagram of another protocol version: counted (EVERSION) like every
 * refusal, and said once per peer at WARN, since a peer that was not
 * upgraded is invisible otherwise. */
static void other_version(hs_node *n, const char *from, const uint8_t *buf,
                          size_t len)
{
    uint32_t k = n->n_version_warned < 32 ? n->n_version_warned : 32;
    for (uint32_t i = 0; i < k; i++)
        if (strcmp(n->version_warned[i], from) == 0)
            return;
    snprintf(n->version_warned[n->n_version_warned % 32], HS_ADDR_STRLEN,
             "%s", from);
    n->n_version_warned++;
    unsigned v = len > 2 ? buf[2] : 0;
    if (n->n_version_warned > 32)
        hs__rt_warn(n, HS_WARN_VERSION,
                   "peer %s speaks hearsay protocol v%u, this node v%u: "
                   "its datagrams are dropped (and more such peers)",
                   from, v, HS_WIRE_PROTO_VERSION);
    else
        hs__rt_log(n, HS_LOG_WARN,
                  "peer %s speaks hearsay protocol v%u, this node v%u: its "
                  "datagrams are dropped until both run the same version",
                  from, v, HS_WIRE_PROTO_VERSION);
}

static void on_readable(hs_node *n)
{
    pthread_mutex_lock(&n->mu);
    for (int i = 0; i < HS_RECV_BATCH && n->fd >= 0; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        ssize_t r = recvfrom(n->fd, n->rbuf, HS_WIRE_MAX_DATAGRAM + 1, 0,
                             (struct sockaddr *)&ss, &sl);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                n->rt.recv_errors++;
                hs__rt_warn(n, HS_WARN_RECV, "recvfrom: %s", strerror(errno));
            }
            break;
        }
        char from[HS_ADDR_STRLEN];
        if (hs__addr_format((struct sockaddr *)&ss, from, sizeof from) !=
            HS_OK) {
            n->rt.recv_errors++;
            continue;
        }
        uint64_t now = hs_loop_now(n);
        const uint8_t *buf = n->rbuf;
        size_t len = (size_t)r;
        hs_err err = hs__guard_admit(n, (struct sockaddr *)&ss, now, &buf, &len);
        if (err == HS_EVERSION)
            other_version(n, from, n->rbuf, (size_t)r);
        if (err != HS_OK) {
            refused(n, from, err);
            continue;
        }
        err = hs__core_receive(n->core, now, from, buf, len);
        if (err == HS_EVERSION)
            other_version(n, from, buf, len);
        if (err == HS_ECLUSTER)
            /* A node configured for another cluster is trying to join
             * through this one: it cannot tell why nobody answers, so
             * this side says it (at most once per 10 s). */
            hs__rt_warn(n, HS_WARN_REJECT,
                       "dropped a datagram from %s: %s (this node's cluster "
                       "is \"%s\")",
                       from, hs_strerror(err), n->cluster);
        else if (err != HS_OK && err != HS_ESELF && err != HS_EVERSION)
            hs__rt_log(n, HS_LOG_DEBUG, "dropped a datagram from %s: %s", from,
                      hs_strerror(err));
    }
    if (n->core && !n->joined_ms)
        join_check(n);
    service(n);
    pthread_mutex_unlock(&n->mu);
    dispatch(n);
}

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
        service(n);
    }
    pthread_mutex_unlock(&n->mu);
    /* After mu: the resolver's lock comes first (node_impl.h). */
    if (kick)
        hs__resolver_refresh(n->resolver);
    if (finish) {
        shutdown_node(n, HS_OK);
        return;
    }
    dispatch(n);
}

static void on_wake(hs_node *n)
{
    pthread_mutex_lock(&n->mu);
    bool stop = n->stop_requested;
    if (!stop)
        service(n);
    pthread_mutex_unlock(&n->mu);
    if (stop) {
        shutdown_node(n, HS_ESTATE);
        return;
    }
    dispatch(n);
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
                      x->host, port, x->n_addrs,
                      x->n_addrs == 1 ? "" : "es");
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

void hs__loop_readable(hs_node *n)
{
    on_readable(n);
}

void hs__loop_timer(hs_node *n, unsigned t)
{
    if (t == HS_TIMER_TICK)
        on_timer(n);
    else
        on_join_timer(n);
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
        join_arm(n);
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
