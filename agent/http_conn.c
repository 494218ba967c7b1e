/*
 * http_conn.c — the HTTP server's connections, from accept() to close:
 * admission (per-address and total limits, shedding), deadlines, and the
 * bookkeeping behind them (see http_impl.h).
 *
 * Why hearsayd accepts connections itself (MHD_USE_NO_LISTEN_SOCKET and
 * MHD_add_connection) instead of letting MHD listen: at its connection
 * limit MHD takes its listening socket out of its epoll set and puts it
 * back only at the start of a later MHD_run(). The connections' sockets
 * are edge-triggered, so once the last of them has closed nothing in
 * that set can ever become ready again; with no connection left there is
 * no timeout either, so nothing calls MHD_run() again: the API stays dark
 * for good while gossip goes on (about 270 connections opened and closed
 * at once did it). Owning the listening socket removes that state: it is
 * an ordinary level-triggered ev_io that is always watched, and every
 * admission decision is made here, where it can be answered, counted and
 * logged:
 *
 *   - a client address past its share (max_per_ip) gets a 429 and is
 *     closed; at max_connections the oldest idle connection (one waiting
 *     for a request head) is shed to make room, and only when none is
 *     idle is the newcomer answered 503. Idle connections cannot lock
 *     anyone out, and a request in flight is never cut;
 *   - a request head must arrive within header_timeout of the accept (or
 *     of the previous answer), its body within body_timeout of the head:
 *     a client that sends one byte every few seconds is answered 408 and
 *     closed (MHD's own timeout only measures silence, which a byte every
 *     10 s never reaches);
 *   - refusals are written straight to the socket (a fixed JSON answer,
 *     nothing read or allocated for it), counted by reason and logged at
 *     most once per 10 s per reason.
 * Connections being closed are shut down (shutdown(2)) rather than closed:
 * MHD sees the hang-up on its next run and frees them the normal way.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/tcp.h> /* struct tcp_info with tcpi_bytes_received */
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/http_impl.h"

/* ---- Connections: queues, addresses, refusals ------------------------- */

static void q_push(hsa_http *h, hsa_conn *c, enum phase ph)
{
    conn_queue *q = &h->q[ph];
    c->phase = ph;
    c->since = ev_now(h->loop);
    c->next = NULL;
    c->prev = q->tail;
    if (q->tail)
        q->tail->next = c;
    else
        q->head = c;
    q->tail = c;
}

static void q_unlink(hsa_http *h, hsa_conn *c)
{
    conn_queue *q = &h->q[c->phase];
    if (c->prev)
        c->prev->next = c->next;
    else
        q->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        q->tail = c->prev;
    c->prev = c->next = NULL;
}

/* Moves c to the end of phase ph's queue, its clock restarted. */
void hsa_conn_phase(hsa_http *h, hsa_conn *c, enum phase ph)
{
    if (!c || c->phase == PH_CLOSING)
        return;
    q_unlink(h, c);
    q_push(h, c, ph);
}

static unsigned ip_hash(const hsa_http *h, const uint8_t ip[16])
{
    /* FNV-1a from a per-process random start: a client cannot pick
     * addresses that all land in one bucket. */
    uint64_t x = 0xcbf29ce484222325ull ^ h->hash_key;
    for (int i = 0; i < 16; i++) {
        x ^= ip[i];
        x *= 0x100000001b3ull;
    }
    return (unsigned)(x ^ (x >> 29)) & (h->n_buckets - 1);
}

/* The client address of ss as 16 bytes, and as text. v4-mapped IPv6
 * addresses count as the IPv4 address they are. */
static void client_addr(const struct sockaddr_storage *ss, uint8_t ip[16],
                        int *family, char *text, size_t len)
{
    memset(ip, 0, 16);
    *family = ss->ss_family;
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const void *)ss;
        if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
            memcpy(ip, a->sin6_addr.s6_addr + 12, 4);
            *family = AF_INET;
        } else {
            memcpy(ip, a->sin6_addr.s6_addr, 16);
        }
    } else if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const void *)ss;
        memcpy(ip, &a->sin_addr, 4);
    }
    if (!inet_ntop(*family, ip, text, (socklen_t)len))
        snprintf(text, len, "?");
}

static uint32_t count_addr(const hsa_http *h, const uint8_t ip[16], int family,
                           unsigned bucket)
{
    uint32_t n = 0;
    for (const hsa_conn *c = h->buckets[bucket]; c; c = c->bnext)
        n += c->family == family && memcmp(c->ip, ip, 16) == 0;
    return n;
}

/* Logs a refusal of kind r, at most once per WARN_EVERY_S per kind. */
void hsa_http_warn(hsa_http *h, hsa_http_reject r, const char *fmt, ...)
{
    ev_tstamp now = ev_now(h->loop);
    if (h->warned_at[r] > 0 && now - h->warned_at[r] < WARN_EVERY_S) {
        h->suppressed[r]++;
        return;
    }
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (h->suppressed[r])
        hsa_logf(h->log, HS_LOG_WARN,
                 "http: %s (and %" PRIu64 " more like it since the last "
                 "such line)",
                 msg, h->suppressed[r]);
    else
        hsa_logf(h->log, HS_LOG_WARN, "http: %s", msg);
    h->warned_at[r] = now;
    h->suppressed[r] = 0;
}

/* Writes a whole, small HTTP answer straight to a socket, without
 * waiting: used where no request has been parsed (admission) or where
 * the request is abandoned (timeouts). A client that is not reading may
 * miss it; that client is being shed anyway. */
static void raw_answer(hsa_http *h, int fd, unsigned code, const char *status,
                       const char *msg)
{
    char body[300], head[300];
    int bl = snprintf(body, sizeof body, "{\"error\":\"%s\"}", msg);
    if (bl < 0 || (size_t)bl >= sizeof body)
        return;
    int hl = snprintf(head, sizeof head,
                      "HTTP/1.1 %u %s\r\nContent-Type: application/json\r\n"
                      "Content-Length: %d\r\nConnection: close\r\n"
                      "Cache-Control: no-store\r\n%s\r\n",
                      code, status, bl,
                      code == 503 || code == 429 ? "Retry-After: 1\r\n" : "");
    if (hl < 0 || (size_t)hl >= sizeof head)
        return;
    char out[600];
    memcpy(out, head, (size_t)hl);
    memcpy(out + hl, body, (size_t)bl);
    ssize_t w = send(fd, out, (size_t)(hl + bl), MSG_DONTWAIT | MSG_NOSIGNAL);
    (void)w; /* best effort, as said */
    hsa_agent_stats_http(h->stats, code);
}

/* Refuses a connection that was accepted but never handed to MHD. */
static void refuse(hsa_http *h, int fd, unsigned code, const char *status,
                   hsa_http_reject r, const char *msg)
{
    /* Read what the client already sent, so the close that follows does
     * not turn into a reset that would destroy the answer in flight. */
    char junk[4096];
    for (int i = 0; i < 4; i++)
        if (recv(fd, junk, sizeof junk, MSG_DONTWAIT) <= 0)
            break;
    raw_answer(h, fd, code, status, msg);
    shutdown(fd, SHUT_WR);
    close(fd);
    h->stats->http_rejected[r]++;
}

/* Ends a connection MHD holds: it sees the hang-up on its next run. */
static void shut(hsa_http *h, hsa_conn *c, hsa_http_reject r)
{
    if (c->phase == PH_CLOSING)
        return;
    hsa_conn_phase(h, c, PH_CLOSING);
    c->phase = PH_CLOSING;
    c->shut = true;
    h->n_live--;
    shutdown(c->fd, SHUT_RDWR);
    h->stats->http_rejected[r]++;
}

/* The connection to shed for a newcomer: the one idle the longest. */
static hsa_conn *idlest(hsa_http *h)
{
    return h->q[PH_HEAD].head;
}

static void admit(hsa_http *h, int fd, const struct sockaddr_storage *ss,
                  socklen_t sl)
{
    hsa_conn *c = calloc(1, sizeof *c);
    if (!c) {
        refuse(h, fd, 503, "Service Unavailable", HSA_REJ_CONNECTION_LIMIT,
               "out of memory");
        return;
    }
    c->fd = fd;
    client_addr(ss, c->ip, &c->family, c->ipstr, sizeof c->ipstr);
    c->bucket = ip_hash(h, c->ip);
    char msg[200];
    if (h->lim.max_per_ip &&
        count_addr(h, c->ip, c->family, c->bucket) >= h->lim.max_per_ip) {
        snprintf(msg, sizeof msg,
                 "too many connections from %s (at most %u per client "
                 "address)",
                 c->ipstr, h->lim.max_per_ip);
        refuse(h, fd, 429, "Too Many Requests", HSA_REJ_CLIENT_LIMIT, msg);
        hsa_http_warn(h, HSA_REJ_CLIENT_LIMIT,
                      "refused a connection from %s: it has %u open "
                      "(--http-max-connections-per-ip)",
                      c->ipstr, h->lim.max_per_ip);
        free(c);
        return;
    }
    if (h->n_live >= h->lim.max_connections) {
        hsa_conn *v = idlest(h);
        if (v) {
            hsa_http_warn(h, HSA_REJ_IDLE_SHED,
                          "%u connections open (--http-max-connections): "
                          "closed an idle one from %s to make room",
                          h->n_live, v->ipstr);
            shut(h, v, HSA_REJ_IDLE_SHED);
        }
    }
    if (h->n_live >= h->lim.max_connections ||
        h->n_conns >= h->lim.max_connections + CLOSING_ROOM) {
        snprintf(msg, sizeof msg,
                 "the server is at its limit of %u connections, all busy",
                 h->lim.max_connections);
        refuse(h, fd, 503, "Service Unavailable", HSA_REJ_CONNECTION_LIMIT,
               msg);
        hsa_http_warn(h, HSA_REJ_CONNECTION_LIMIT,
                      "refused a connection from %s: %u connections open, "
                      "none idle (--http-max-connections)",
                      c->ipstr, h->n_live);
        free(c);
        return;
    }
    /* MHD calls hsa_http_notify_cb(STARTED) from inside, which files c; on
     * failure it closes fd itself (and, if it got that far, notifies CLOSED).
     */
    char who[sizeof c->ipstr];
    memcpy(who, c->ipstr, sizeof who); /* c may be gone when MHD returns */
    h->adding = c;
    enum MHD_Result ok =
        MHD_add_connection(h->d, fd, (const struct sockaddr *)ss, sl);
    if (h->adding == c) /* never started (MHD notifies synchronously) */
        free(c);
    h->adding = NULL;
    if (ok != MHD_YES) {
        h->stats->http_rejected[HSA_REJ_ACCEPT_ERROR]++;
        hsa_http_warn(h, HSA_REJ_ACCEPT_ERROR,
                      "libmicrohttpd could not take a connection from %s", who);
        return;
    }
    /* Nothing to run now: the socket is in MHD's epoll set, ready to
     * write, so MHD's descriptor is readable at the next poll. */
    h->stats->http_connections_total++;
}

void hsa_http_accept_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    hsa_http *h = w->data;
    ev_io_start(loop, &h->listen_io);
}

void hsa_http_listen_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    hsa_http *h = w->data;
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(h->lfd, (struct sockaddr *)&ss, &sl,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            admit(h, fd, &ss, sl);
            continue;
        }
        int e = errno;
        if (e == EINTR || e == ECONNABORTED || e == EPROTO)
            continue;
        if (e == EAGAIN || e == EWOULDBLOCK)
            return;
        /* EMFILE, ENFILE, ENOBUFS, ENOMEM: the connection stays queued in
         * the kernel; try again shortly instead of spinning. */
        h->stats->http_rejected[HSA_REJ_ACCEPT_ERROR]++;
        hsa_http_warn(h, HSA_REJ_ACCEPT_ERROR,
                      "accept: %s (%u connections open); retrying in %.0f ms",
                      strerror(e), h->n_conns, ACCEPT_RETRY_S * 1000);
        ev_io_stop(loop, &h->listen_io);
        ev_timer_set(&h->accept_retry, ACCEPT_RETRY_S, 0.);
        ev_timer_start(loop, &h->accept_retry);
        return;
    }
}

/* Closes connections past their header or body deadline, with a 408. */
void hsa_http_sweep_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    hsa_http *h = w->data;
    ev_tstamp now = ev_now(loop);
    double head_s = h->lim.header_timeout_ms / 1000.0;
    double body_s = h->lim.body_timeout_ms / 1000.0;
    hsa_conn *c;
    while ((c = h->q[PH_HEAD].head) && now - c->since >= head_s) {
        /* A 408 where a request was begun (or could have been: nothing
         * was ever answered on this connection); a kept-alive connection
         * with nothing begun is closed silently, as any server does, so
         * that a client sending its next request just then never takes
         * the 408 for that request's answer. */
        if (c->begun || c->requests == 0)
            raw_answer(h, c->fd, 408, "Request Timeout",
                       "the request head did not arrive in time");
        hsa_http_warn(h, HSA_REJ_HEADER_TIMEOUT,
                      "closed a connection from %s: no complete request head "
                      "within %u ms (--http-header-timeout)",
                      c->ipstr, h->lim.header_timeout_ms);
        shut(h, c, HSA_REJ_HEADER_TIMEOUT);
    }
    while ((c = h->q[PH_BODY].head) && now - c->since >= body_s) {
        raw_answer(h, c->fd, 408, "Request Timeout",
                   "the request body did not arrive in time");
        hsa_http_warn(h, HSA_REJ_BODY_TIMEOUT,
                      "closed a connection from %s: request body not complete "
                      "within %u ms (--http-body-timeout)",
                      c->ipstr, h->lim.body_timeout_ms);
        shut(h, c, HSA_REJ_BODY_TIMEOUT);
    }
}

/* Bytes the client sent on fd (the kernel's count), or at least whether
 * any are still unread; 0 if it sent nothing. */
static uint64_t unread_or_received(int fd)
{
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    memset(&ti, 0, sizeof ti);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 &&
        len >= offsetof(struct tcp_info, tcpi_bytes_received) +
                   sizeof ti.tcpi_bytes_received) {
        /* The count includes the client's FIN, once it has sent one. */
        /* Linux's TCP states (include/net/tcp_states.h), which no
         * userspace header next to linux/tcp.h names. MHD shuts its side
         * down on the client's FIN, so by now the socket may be past
         * CLOSE_WAIT and LAST_ACK, in CLOSE. */
        enum {
            TIME_WAIT = 6,
            CLOSE = 7,
            CLOSE_WAIT = 8,
            LAST_ACK = 9,
            CLOSING = 11
        };
        unsigned st = ti.tcpi_state;
        bool fin = st == CLOSE_WAIT || st == LAST_ACK || st == CLOSING ||
                   st == TIME_WAIT || st == CLOSE;
        return ti.tcpi_bytes_received > fin ? ti.tcpi_bytes_received - fin : 0;
    }
    char b;
    return recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

/* MHD's connection notifications: the start and the end of an hsa_conn. */
void hsa_http_notify_cb(void *cls, struct MHD_Connection *conn,
                        void **socket_context,
                        enum MHD_ConnectionNotificationCode toe)
{
    hsa_http *h = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        hsa_conn *c = h->adding;
        h->adding = NULL;
        *socket_context = c;
        if (!c)
            return;
        unsigned b = c->bucket;
        c->bnext = h->buckets[b];
        if (c->bnext)
            c->bnext->bprev = c;
        h->buckets[b] = c;
        q_push(h, c, PH_HEAD);
        h->n_conns++;
        h->n_live++;
        h->stats->http_connections = h->n_conns;
        return;
    }
    hsa_conn *c = *socket_context;
    *socket_context = NULL;
    if (!c)
        return;
    if (!c->shut && c->phase == PH_HEAD && c->requests == 0 && h->started) {
        /* MHD closed it before any request line got through, not us.
         * Bytes received mean the client sent something MHD's parser
         * refused (a garbage request line is closed without an answer by
         * libmicrohttpd 0.9.75) or hung up mid-line; none, and silent for
         * the idle timeout, is MHD's idle timer. */
        uint64_t got = unread_or_received(c->fd);
        bool idle =
            ev_now(h->loop) - c->since >= h->lim.idle_timeout_ms / 1000.0 - 0.5;
        if (got) {
            h->stats->http_rejected[HSA_REJ_MALFORMED]++;
            hsa_http_warn(h, HSA_REJ_MALFORMED,
                          "closed a connection from %s: libmicrohttpd could "
                          "not parse its request line (%" PRIu64 " bytes)",
                          c->ipstr, got);
        } else if (idle) {
            h->stats->http_rejected[HSA_REJ_IDLE_TIMEOUT]++;
        }
    }
    q_unlink(h, c);
    if (c->bprev)
        c->bprev->bnext = c->bnext;
    else
        h->buckets[c->bucket] = c->bnext;
    if (c->bnext)
        c->bnext->bprev = c->bprev;
    if (c->phase != PH_CLOSING)
        h->n_live--;
    h->n_conns--;
    h->stats->http_connections = h->n_conns;
    free(c);
}

hsa_conn *hsa_conn_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* The listening socket, non-blocking; -1 with err set. */
int hsa_http_listener(const struct sockaddr_storage *sa, socklen_t len,
                      const char *addr, char *err, size_t errlen)
{
    int fd =
        socket(sa->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "cannot serve HTTP on %s: %s", addr,
                 strerror(errno));
        return -1;
    }
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (sa->ss_family == AF_INET6) /* [::] means IPv6 only, as before */
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    /* The kernel's accept queue holds connections between two wake-ups;
     * SOMAXCONN caps whatever is asked. */
    if (bind(fd, (const struct sockaddr *)sa, len) != 0 ||
        listen(fd, 1024) != 0) {
        snprintf(err, errlen, "cannot serve HTTP on %s: %s", addr,
                 strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* Makes room in the descriptor limit for every connection allowed, and
 * says so when the system will not give it. */
void hsa_http_fit_fd_limit(hsa_http *h)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)h->lim.max_connections + CLOSING_ROOM + 128;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
        return;
    rlim_t old = rl.rlim_cur;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want
                      ? want
                      : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < want)
        hsa_logf(h->log, HS_LOG_WARN,
                 "the descriptor limit (%llu, at most %llu) is below what "
                 "--http-max-connections %u needs; connections past it are "
                 "refused (accept_error)",
                 (unsigned long long)old, (unsigned long long)rl.rlim_max,
                 h->lim.max_connections);
}
