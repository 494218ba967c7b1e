/*
 * loop_recv.c — the socket's read side: datagrams read until EAGAIN (at
 * most a batch per wake-up), admitted by the guard, handed to the core,
 * and those refused on the way counted and, where an operator should
 * hear of it, logged. On the loop thread; takes mu for the batch and
 * dispatches the events it made after releasing it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "membership/node_impl.h"

/* Datagrams read per wake-up. The socket is drained completely in the
 * common case; the cap only bounds how long a flood can keep the timer and
 * other watchers on a shared loop waiting (libev calls back at once while
 * more is pending). At ~2 us per datagram through the core, 4096 is under
 * 10 ms. */
#define HS_RECV_BATCH 4096

/* Counts a datagram the runtime refused before the core saw it. Refusals
 * an operator should hear about (a peer with the wrong key, a clock off by
 * more than the replay window, a flood) are logged, at most once per 10 s
 * per kind; the rest only at debug. */
static void refused(hs_node *n, const char *from, hs_err err)
{
    if (err < 0 && err > HS_ERR_LAST_)
        n->rt.rejected[-err]++;
    n->rt.alloc_failures += err == HS_ENOMEM; /* logged by hs__loop_service() */
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
    snprintf(n->version_warned[n->n_version_warned % 32], HS_ADDR_STRLEN, "%s",
             from);
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
        hs_err err =
            hs__guard_admit(n, (struct sockaddr *)&ss, now, &buf, &len);
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
        hs__loop_join_check(n);
    hs__loop_service(n);
    pthread_mutex_unlock(&n->mu);
    hs__loop_dispatch(n);
}

/* The adapter's callback for a readable socket (loop.c has the rest). */
void hs__loop_readable(hs_node *n)
{
    on_readable(n);
}
