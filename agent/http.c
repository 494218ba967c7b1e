/*
 * http.c — libmicrohttpd driven by hearsayd's libev loop (see http.h).
 *
 * Why external epoll mode and not MHD's own threads: the node runs on the
 * same loop, so a route can call hs_node_* and an event callback can feed
 * the event stream with no lock anywhere. MHD's epoll descriptor sits in an
 * ev_io; before each loop iteration an ev_prepare re-arms an ev_timer from
 * MHD_get_timeout(), which is all MHD needs to run its timeouts. Every
 * handler is short (a snapshot and a JSON dump), so gossip never waits for
 * HTTP for long; the slowest route, /metrics on a very large cluster, is
 * bounded by the member limit.
 *
 * Connections are accepted by http_conn.c, which applies the limits and
 * the deadlines and hands each one to MHD (MHD_add_connection); requests
 * are served by http_request.c. This file is the server itself: its
 * address, its start and stop, and the watchers that drive MHD.
 */
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/http_impl.h"

__attribute__((format(printf, 2, 0))) static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
    hsa_http *h = cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    /* Before the server runs these are why it could not start; after, they
     * are mostly clients hanging up, which is not news. */
    hsa_logf(h->log, h->started ? HS_LOG_DEBUG : HS_LOG_WARN, "http: %s", line);
}

static void run_mhd(hsa_http *h)
{
    MHD_run(h->d);
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    run_mhd(w->data);
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    run_mhd(w->data);
}

static void prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
    hsa_http *h = w->data;
    MHD_UNSIGNED_LONG_LONG ms;
    if (h->resumed) {
        h->resumed = false;
        run_mhd(h);
    }
    ev_timer_stop(loop, &h->timer);
    if (MHD_get_timeout(h->d, &ms) == MHD_YES) {
        ev_timer_set(&h->timer, (double)ms / 1000.0, 0.);
        ev_timer_start(loop, &h->timer);
    }
}

void hsa_http_resumed(void *arg)
{
    hsa_http *h = arg;
    if (h)
        h->resumed = true;
}

/* The --http address: HOST:PORT resolved (numeric port, any family), or
 * NULL with err set. *port_out gets the port. */
static struct addrinfo *resolve_http_addr(const char *addr, uint16_t *port_out,
                                          char *err, size_t errlen)
{
    char host[256], port[8];
    uint16_t p;
    if (hsa_split_hostport(addr, host, sizeof host, &p) < 0) {
        snprintf(err, errlen, "--http: '%s' is not HOST:PORT", addr);
        return NULL;
    }
    snprintf(port, sizeof port, "%u", p);
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0 || !res) {
        snprintf(err, errlen, "--http %s: %s", addr, gai_strerror(gai));
        return NULL;
    }
    *port_out = p;
    return res;
}

int hsa_http_addr_is_loopback(const char *addr, char *err, size_t errlen)
{
    uint16_t p;
    struct addrinfo *res = resolve_http_addr(addr, &p, err, errlen);
    if (!res)
        return -1;
    /* hsa_http_new binds the first answer; every answer must be loopback
     * for the claim to hold whichever that is. */
    int loopback = 1;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if (ai->ai_family == AF_INET) {
            const struct sockaddr_in *a = (const void *)ai->ai_addr;
            if ((ntohl(a->sin_addr.s_addr) >> 24) != 127)
                loopback = 0;
        } else if (ai->ai_family == AF_INET6) {
            const struct sockaddr_in6 *a = (const void *)ai->ai_addr;
            const uint8_t *b = a->sin6_addr.s6_addr;
            bool mapped127 =
                IN6_IS_ADDR_V4MAPPED(&a->sin6_addr) && b[12] == 127;
            if (!IN6_IS_ADDR_LOOPBACK(&a->sin6_addr) && !mapped127)
                loopback = 0;
        } else {
            loopback = 0;
        }
    }
    freeaddrinfo(res);
    return loopback;
}

hsa_http *hsa_http_new(struct ev_loop *loop, hsa_log *log,
                       hsa_agent_stats *stats, const char *addr,
                       const hsa_http_limits *limits, hsa_http_route_cb route,
                       void *arg, char *err, size_t errlen)
{
    uint16_t p;
    struct addrinfo *res = resolve_http_addr(addr, &p, err, errlen);
    if (!res)
        return NULL;
    hsa_http *h = calloc(1, sizeof *h);
    if (!h) {
        freeaddrinfo(res);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    memcpy(&h->sa, res->ai_addr, res->ai_addrlen);
    socklen_t salen = res->ai_addrlen;
    freeaddrinfo(res);
    h->loop = loop;
    h->log = log;
    h->stats = stats;
    h->route = route;
    h->arg = arg;
    h->lim = *limits;
    h->lfd = -1;
    if (h->lim.max_connections == 0)
        h->lim.max_connections = 1;
    /* About two connections per bucket at the limit. */
    h->n_buckets = 64;
    while (h->n_buckets < h->lim.max_connections / 2)
        h->n_buckets *= 2;
    h->buckets = calloc(h->n_buckets, sizeof *h->buckets);
    if (!h->buckets) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (getrandom(&h->hash_key, sizeof h->hash_key, GRND_NONBLOCK) !=
        (ssize_t)sizeof h->hash_key)
        h->hash_key = (uint64_t)(uintptr_t)h ^ (uint64_t)getpid();
    hsa_http_fit_fd_limit(h);
    if ((h->lfd = hsa_http_listener(&h->sa, salen, addr, err, errlen)) < 0)
        goto fail;
    struct sockaddr_storage bound;
    socklen_t bl = sizeof bound;
    h->port = p;
    if (getsockname(h->lfd, (struct sockaddr *)&bound, &bl) == 0)
        h->port = ntohs(bound.ss_family == AF_INET6
                            ? ((struct sockaddr_in6 *)&bound)->sin6_port
                            : ((struct sockaddr_in *)&bound)->sin_port);

    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG | MHD_USE_NO_LISTEN_SOCKET;
    /* MHD's idle timer counts whole seconds; round up. */
    unsigned idle_s = (h->lim.idle_timeout_ms + 999) / 1000;
    errno = 0;
    /* The logger goes first, so that MHD reports everything through it. */
    h->d = MHD_start_daemon(
        flags, 0, NULL, NULL, hsa_http_access_cb, h, MHD_OPTION_EXTERNAL_LOGGER,
        mhd_log, h, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)(h->lim.max_connections + CLOSING_ROOM),
        MHD_OPTION_CONNECTION_TIMEOUT, idle_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)(HSA_HTTP_MAX_BODY + 32 * 1024), MHD_OPTION_NOTIFY_COMPLETED,
        hsa_http_completed_cb, h, MHD_OPTION_NOTIFY_CONNECTION,
        hsa_http_notify_cb, h, MHD_OPTION_URI_LOG_CALLBACK, hsa_http_uri_cb, h,
        MHD_OPTION_END);
    if (!h->d) {
        int e = errno;
        snprintf(err, errlen, "cannot serve HTTP on %s: %s", addr,
                 e ? strerror(e) : "libmicrohttpd failed to start");
        goto fail;
    }
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
    if (!info) {
        snprintf(err, errlen, "libmicrohttpd has no epoll descriptor");
        goto fail;
    }
    int efd = info->epoll_fd;
    h->started = true;

    ev_io_init(&h->io, io_cb, efd, EV_READ);
    h->io.data = h;
    ev_io_start(loop, &h->io);
    ev_io_init(&h->listen_io, hsa_http_listen_cb, h->lfd, EV_READ);
    h->listen_io.data = h;
    ev_io_start(loop, &h->listen_io);
    ev_timer_init(&h->accept_retry, hsa_http_accept_retry_cb, ACCEPT_RETRY_S,
                  0.);
    h->accept_retry.data = h;
    ev_timer_init(&h->sweep, hsa_http_sweep_cb, SWEEP_S, SWEEP_S);
    h->sweep.data = h;
    ev_timer_start(loop, &h->sweep);
    /* The sweep alone must not keep the loop running at shutdown. */
    ev_unref(loop);
    ev_timer_init(&h->timer, timer_cb, 0., 0.);
    h->timer.data = h;
    ev_prepare_init(&h->prepare, prepare_cb);
    h->prepare.data = h;
    ev_prepare_start(loop, &h->prepare);
    return h;
fail:
    if (h->d)
        MHD_stop_daemon(h->d);
    if (h->lfd >= 0)
        close(h->lfd);
    free(h->buckets);
    free(h);
    return NULL;
}

unsigned hsa_http_port(const hsa_http *h)
{
    return h->port;
}

void hsa_http_free(hsa_http *h)
{
    if (!h)
        return;
    /* No new connections from here on. */
    ev_io_stop(h->loop, &h->listen_io);
    ev_timer_stop(h->loop, &h->accept_retry);
    close(h->lfd);
    h->lfd = -1;
    /* MHD refuses to stop with suspended connections: answer the pending
     * ones first (the caller has already ended its event streams). */
    for (hsa_http_req *r = h->pending; r; r = r->next_pending) {
        if (!r->done) {
            hsa_reply rep = {0};
            hsa_reply_error(&rep, 503, "hearsayd is shutting down");
            hsa_http_complete(r, &rep);
        }
    }
    for (int i = 0; i < 4; i++)
        MHD_run(h->d);
    ev_io_stop(h->loop, &h->io);
    ev_timer_stop(h->loop, &h->timer);
    ev_ref(h->loop);
    ev_timer_stop(h->loop, &h->sweep);
    ev_prepare_stop(h->loop, &h->prepare);
    /* Stopping frees every connection (hsa_http_notify_cb(CLOSED) for each). */
    h->started = false;
    MHD_stop_daemon(h->d);
    free(h->buckets);
    free(h);
}
