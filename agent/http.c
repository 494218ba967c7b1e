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
 * Why this file accepts connections itself (MHD_USE_NO_LISTEN_SOCKET and
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
 *
 * A request's context (hsa_http_req) lives from the request line (MHD's
 * URI log callback, which sees the target before it is decoded) to the
 * "request completed" notification. Bodies are accumulated up to
 * HSA_HTTP_MAX_BODY; past that the rest is discarded and the answer is 413.
 * A route may answer later (POST /v1/leave waits for the leave to finish):
 * the connection is suspended and resumed by hsa_http_complete().
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/tcp.h> /* struct tcp_info with tcpi_bytes_received */
#include <stddef.h>

#include <ev.h>
#include <microhttpd.h>

#include "agent/buf.h"
#include "agent/config.h"
#include "agent/http.h"
#include "agent/json.h"

/* Connections accepted per wake-up of the listening socket: enough to
 * drain a burst quickly, few enough that a flood of connects cannot keep
 * gossip waiting (each costs a few microseconds). */
#define ACCEPT_BATCH 64
/* How often deadlines are checked: timeouts are in seconds, so a quarter
 * of one is precise enough and costs nothing on an idle server. */
#define SWEEP_S 0.25
/* After accept() failed for want of descriptors, wait this long before
 * trying again rather than spin on a socket that stays readable. */
#define ACCEPT_RETRY_S 0.25
/* One warning per reason per this many seconds: a flood must not turn
 * into a flood of log lines. */
#define WARN_EVERY_S 10.0
/* Connections shut down but not yet freed by MHD may briefly exceed
 * max_connections; MHD's own limit leaves them this much room. */
#define CLOSING_ROOM 64

enum phase {
    PH_HEAD,    /* waiting for a request head: idle, sheddable */
    PH_BODY,    /* head read, receiving the body */
    PH_BUSY,    /* answered or answering (streams, pending leaves) */
    PH_CLOSING, /* shut down by us; MHD frees it on its next run */
    PH_COUNT
};

/* One accepted connection, from accept() to MHD's "closed" notification
 * (its socket context). */
typedef struct hsa_conn {
    int fd;
    enum phase phase;
    ev_tstamp since; /* when the current phase began */
    uint8_t ip[16];  /* the client address (v4 in the first 4 bytes) */
    int family;
    unsigned bucket;
    unsigned requests;
    bool begun; /* the current request's line has arrived */
    bool shut;  /* we shut it down: MHD's close is not news */
    char ipstr[INET6_ADDRSTRLEN];
    struct hsa_conn *prev, *next;   /* in the queue of its phase */
    struct hsa_conn *bprev, *bnext; /* in its address bucket */
} hsa_conn;

typedef struct conn_queue {
    hsa_conn *head, *tail; /* oldest first */
} conn_queue;

struct hsa_http_req {
    hsa_http *h;
    struct MHD_Connection *conn;
    hsa_conn *hc;
    const char *method;
    const char *url;
    const char *bad_target; /* why the request target is refused */
    const char *raw_target; /* as the URI callback saw it, and its length */
    size_t raw_len;
    bool started; /* the access handler has seen it */
    hsa_buf body;
    bool too_big;
    bool pending; /* suspended, waiting for hsa_http_complete */
    bool done;    /* hsa_http_complete was called */
    bool close;   /* the framing is in doubt: close after the answer */
    hsa_reply reply;
    hsa_http_req *next_pending, *prev_pending;
};

struct hsa_http {
    struct ev_loop *loop;
    hsa_log *log;
    hsa_agent_stats *stats;
    hsa_http_limits lim;
    struct MHD_Daemon *d;
    int lfd; /* the listening socket, ours */
    ev_io listen_io;
    ev_timer accept_retry;
    ev_io io;
    ev_timer timer;
    ev_timer sweep;
    ev_prepare prepare;
    hsa_http_route_cb route;
    void *arg;
    bool started;
    bool resumed; /* a connection was resumed: run MHD before polling */
    unsigned port;
    hsa_http_req *pending; /* suspended requests, to resume at shutdown */
    struct sockaddr_storage sa;

    conn_queue q[PH_COUNT];
    uint32_t n_conns;   /* every hsa_conn, closing ones included */
    uint32_t n_live;    /* not closing */
    hsa_conn **buckets; /* by client address, for the per-address count */
    unsigned n_buckets; /* a power of two */
    uint64_t hash_key;
    hsa_conn *adding; /* handed to MHD_add_connection right now */

    ev_tstamp warned_at[HSA_REJ_COUNT];
    uint64_t suppressed[HSA_REJ_COUNT];
};

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
static void set_phase(hsa_http *h, hsa_conn *c, enum phase ph)
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
__attribute__((format(printf, 3, 4))) static void
warn_reject(hsa_http *h, hsa_http_reject r, const char *fmt, ...)
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
    set_phase(h, c, PH_CLOSING);
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
        warn_reject(h, HSA_REJ_CLIENT_LIMIT,
                    "refused a connection from %s: it has %u open "
                    "(--http-max-connections-per-ip)",
                    c->ipstr, h->lim.max_per_ip);
        free(c);
        return;
    }
    if (h->n_live >= h->lim.max_connections) {
        hsa_conn *v = idlest(h);
        if (v) {
            warn_reject(h, HSA_REJ_IDLE_SHED,
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
        warn_reject(h, HSA_REJ_CONNECTION_LIMIT,
                    "refused a connection from %s: %u connections open, "
                    "none idle (--http-max-connections)",
                    c->ipstr, h->n_live);
        free(c);
        return;
    }
    /* MHD calls notify_cb(STARTED) from inside, which files c; on failure
     * it closes fd itself (and, if it got that far, notifies CLOSED). */
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
        warn_reject(h, HSA_REJ_ACCEPT_ERROR,
                    "libmicrohttpd could not take a connection from %s", who);
        return;
    }
    /* Nothing to run now: the socket is in MHD's epoll set, ready to
     * write, so MHD's descriptor is readable at the next poll. */
    h->stats->http_connections_total++;
}

static void accept_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    hsa_http *h = w->data;
    ev_io_start(loop, &h->listen_io);
}

static void listen_cb(struct ev_loop *loop, ev_io *w, int revents)
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
        warn_reject(h, HSA_REJ_ACCEPT_ERROR,
                    "accept: %s (%u connections open); retrying in %.0f ms",
                    strerror(e), h->n_conns, ACCEPT_RETRY_S * 1000);
        ev_io_stop(loop, &h->listen_io);
        ev_timer_set(&h->accept_retry, ACCEPT_RETRY_S, 0.);
        ev_timer_start(loop, &h->accept_retry);
        return;
    }
}

/* Closes connections past their header or body deadline, with a 408. */
static void sweep_cb(struct ev_loop *loop, ev_timer *w, int revents)
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
        warn_reject(h, HSA_REJ_HEADER_TIMEOUT,
                    "closed a connection from %s: no complete request head "
                    "within %u ms (--http-header-timeout)",
                    c->ipstr, h->lim.header_timeout_ms);
        shut(h, c, HSA_REJ_HEADER_TIMEOUT);
    }
    while ((c = h->q[PH_BODY].head) && now - c->since >= body_s) {
        raw_answer(h, c->fd, 408, "Request Timeout",
                   "the request body did not arrive in time");
        warn_reject(h, HSA_REJ_BODY_TIMEOUT,
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
static void notify_cb(void *cls, struct MHD_Connection *conn,
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
            warn_reject(h, HSA_REJ_MALFORMED,
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

static hsa_conn *conn_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* ---- Requests ----------------------------------------------------------- */

/* Why a raw request target (path and query, before decoding) is refused,
 * or NULL. Decoding happens once, in MHD; every route, and every query
 * parameter, gets a C string, so a decoded NUL would silently cut it
 * ("a%00b" would name the tag "a"). Invalid escapes would reach the
 * routes undecoded, as text nobody meant. Both are refused here, once,
 * for every path segment and parameter. */
static const char *bad_target(const char *uri)
{
    if (!uri)
        return NULL;
    for (const char *p = uri; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '%') {
            if (!isxdigit((unsigned char)p[1]) ||
                !isxdigit((unsigned char)p[2]))
                return "invalid percent-encoding in the URL (a '%' must be "
                       "followed by two hex digits)";
            if (p[1] == '0' && p[2] == '0')
                return "the URL contains an encoded NUL byte (%00)";
            p += 2;
        } else if (ch <= 0x20 || ch == 0x7f) {
            return "the URL contains a space or a control character";
        }
    }
    return NULL;
}

/* MHD's URI log callback: the first sight of a request, with its target
 * as sent. Its return value becomes the request's context. */
static void *uri_cb(void *cls, const char *uri, struct MHD_Connection *conn)
{
    hsa_http *h = cls;
    hsa_http_req *r = calloc(1, sizeof *r);
    if (!r)
        return NULL; /* the access handler tries again, then gives up */
    r->h = h;
    r->conn = conn;
    r->bad_target = bad_target(uri);
    r->raw_target = uri;
    r->raw_len = uri ? strlen(uri) : 0;
    r->hc = conn_of(conn);
    if (r->hc) {
        r->hc->requests++;
        r->hc->begun = true;
    }
    return r;
}

/* Whether a raw NUL byte cut the request target short. libmicrohttpd
 * 0.9.75 keeps the request line in place in its read buffer: the target,
 * the NUL that replaced the space before the version, the version. A NUL
 * inside the target ends the C string early, so the version then starts
 * further on than the string's end + 1. Only that exact shape is
 * refused: if a library ever lays the line out differently (the version
 * elsewhere), nothing is. */
static bool target_cut_by_nul(const hsa_http_req *r, const char *url,
                              const char *version)
{
    if (!r->raw_target || url != r->raw_target || !version ||
        strncmp(version, "HTTP/", 5) != 0)
        return false;
    uintptr_t end = (uintptr_t)r->raw_target + r->raw_len + 1;
    uintptr_t v = (uintptr_t)version;
    return v > end && v - end < 65536 &&
           memchr(r->raw_target + r->raw_len + 1, '\0', v - end - 1) == NULL;
}

/* Content-Length and Transfer-Encoding as sent, for the framing check. */
typedef struct framing {
    unsigned n_length;
    bool lengths_differ;
    const char *first_length;
    bool chunked;
} framing;

static enum MHD_Result framing_cb(void *cls, enum MHD_ValueKind kind,
                                  const char *key, const char *value)
{
    framing *f = cls;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        if (f->n_length++ == 0)
            f->first_length = value ? value : "";
        else if (strcmp(f->first_length, value ? value : "") != 0)
            f->lengths_differ = true;
    } else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        f->chunked = true;
    }
    return MHD_YES;
}

/* Why the request's framing is ambiguous, or NULL: two Content-Lengths
 * that disagree, or a Content-Length next to a Transfer-Encoding, let a
 * proxy in front and this server disagree on where a request ends (the
 * root of request smuggling). RFC 9112 section 6.3: reject. */
static const char *bad_framing(struct MHD_Connection *conn)
{
    framing f = {0};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, framing_cb, &f);
    if (f.lengths_differ)
        return "conflicting Content-Length headers";
    if (f.n_length && f.chunked)
        return "both Content-Length and Transfer-Encoding: the request's "
               "length is ambiguous";
    return NULL;
}

void hsa_reply_error(hsa_reply *out, unsigned code, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    free(out->body);
    out->code = code;
    out->ctype = "application/json";
    out->body = hsa_json_error(&out->len, "%s", msg);
}

struct MHD_Connection *hsa_req_conn(const hsa_http_req *r)
{
    return r->conn;
}

static void unlink_pending(hsa_http_req *r)
{
    if (!r->pending)
        return;
    if (r->prev_pending)
        r->prev_pending->next_pending = r->next_pending;
    else
        r->h->pending = r->next_pending;
    if (r->next_pending)
        r->next_pending->prev_pending = r->prev_pending;
    r->next_pending = r->prev_pending = NULL;
    r->pending = false;
}

/* Queues rep on r's connection; takes rep's body or stream. */
static enum MHD_Result send_reply(hsa_http_req *r, hsa_reply *rep)
{
    struct MHD_Response *resp = rep->stream;
    unsigned code = rep->code ? rep->code : 200;
    if (!resp) {
        if (!rep->body) {
            /* Out of memory building the document: say so, statically. */
            static const char oom[] = "{\"error\":\"out of memory\"}";
            code = 500;
            resp = MHD_create_response_from_buffer(sizeof oom - 1, (void *)oom,
                                                   MHD_RESPMEM_PERSISTENT);
        } else {
            resp = MHD_create_response_from_buffer(rep->len, rep->body,
                                                   MHD_RESPMEM_MUST_FREE);
            if (!resp)
                free(rep->body);
        }
        rep->body = NULL;
        if (!resp)
            return MHD_NO;
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                rep->ctype ? rep->ctype : "application/json");
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
                                "no-store");
    }
    rep->stream = NULL;
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (r->close)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    set_phase(r->h, r->hc, PH_BUSY);
    if (rep->allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, rep->allow);
    if (rep->challenge)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Bearer realm=\"hearsayd\"");
    enum MHD_Result rc = MHD_queue_response(r->conn, code, resp);
    MHD_destroy_response(resp);
    hsa_agent_stats_http(r->h->stats, code);
    hsa_logf(r->h->log, HS_LOG_DEBUG, "http %s %s -> %u", r->method, r->url,
             code);
    return rc;
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *conn,
                                 const char *url, const char *method,
                                 const char *version, const char *upload,
                                 size_t *upload_size, void **con_cls)
{
    hsa_http *h = cls;
    hsa_http_req *r = *con_cls;
    if (!r || !r->started) {
        if (!r) { /* uri_cb ran out of memory */
            r = calloc(1, sizeof *r);
            if (!r)
                return MHD_NO; /* MHD closes the connection */
            r->h = h;
            r->conn = conn;
            r->hc = conn_of(conn);
            *con_cls = r;
        }
        r->started = true;
        r->method = method;
        r->url = url;
        /* The head is in: the body's deadline starts now. */
        set_phase(h, r->hc, PH_BODY);
        const char *why = r->bad_target;
        if (!why && target_cut_by_nul(r, url, version))
            why = "the URL contains a NUL byte";
        if (!why && (why = bad_framing(conn)) != NULL)
            r->close = true;
        if (why) {
            h->stats->http_rejected[HSA_REJ_BAD_REQUEST]++;
            warn_reject(h, HSA_REJ_BAD_REQUEST, "refused %s %.200s from %s: %s",
                        method, url, r->hc ? r->hc->ipstr : "?", why);
            hsa_reply rep = {0};
            hsa_reply_error(&rep, 400, "%s", why);
            return send_reply(r, &rep);
        }
        /* Refuse an announced oversized body before reading any of it. */
        const char *cl = MHD_lookup_connection_value(
            conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > HSA_HTTP_MAX_BODY) {
            hsa_reply rep = {0};
            hsa_reply_error(&rep, 413, "request body larger than %d bytes",
                            HSA_HTTP_MAX_BODY);
            return send_reply(r, &rep);
        }
        return MHD_YES;
    }
    if (r->pending) {
        if (!r->done)
            return MHD_YES; /* a spurious call; still waiting */
        unlink_pending(r);
        return send_reply(r, &r->reply);
    }
    if (*upload_size) {
        if (!r->too_big &&
            (hsa_buf_avail(&r->body) + *upload_size > HSA_HTTP_MAX_BODY ||
             hsa_buf_append(&r->body, upload, *upload_size))) {
            r->too_big = true;
            hsa_buf_free(&r->body);
        }
        *upload_size = 0;
        return MHD_YES;
    }
    hsa_reply rep = {0};
    if (r->too_big) {
        hsa_reply_error(&rep, 413, "request body larger than %d bytes",
                        HSA_HTTP_MAX_BODY);
        return send_reply(r, &rep);
    }
    hsa_request rq = {
        .method = r->method,
        .path = r->url,
        .state =
            MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "state"),
        .type =
            MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "type"),
        .authorization = MHD_lookup_connection_value(
            conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
        .body = hsa_buf_head(&r->body),
        .body_len = hsa_buf_avail(&r->body),
        .conn = r,
    };
    h->route(h->arg, &rq, &rep);
    if (rep.pending) {
        r->pending = true;
        r->next_pending = h->pending;
        if (h->pending)
            h->pending->prev_pending = r;
        h->pending = r;
        MHD_suspend_connection(conn);
        return MHD_YES;
    }
    return send_reply(r, &rep);
}

void hsa_http_complete(hsa_http_req *r, hsa_reply *reply)
{
    if (!r->pending || r->done) {
        free(reply->body);
        return;
    }
    r->reply = *reply;
    memset(reply, 0, sizeof *reply);
    r->done = true;
    MHD_resume_connection(r->conn);
    r->h->resumed = true;
}

static void completed_cb(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    hsa_http_req *r = *con_cls;
    if (!r)
        return;
    /* Keep-alive: the wait for the next request head starts now. */
    set_phase(r->h, r->hc, PH_HEAD);
    if (r->hc)
        r->hc->begun = false;
    unlink_pending(r);
    free(r->reply.body);
    if (r->reply.stream)
        MHD_destroy_response(r->reply.stream);
    hsa_buf_free(&r->body);
    free(r);
    *con_cls = NULL;
}

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

/* The listening socket, non-blocking; -1 with err set. */
static int open_listener(const struct sockaddr_storage *sa, socklen_t len,
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
static void fit_fd_limit(hsa_http *h)
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
    fit_fd_limit(h);
    if ((h->lfd = open_listener(&h->sa, salen, addr, err, errlen)) < 0)
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
        flags, 0, NULL, NULL, access_cb, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
        h, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)(h->lim.max_connections + CLOSING_ROOM),
        MHD_OPTION_CONNECTION_TIMEOUT, idle_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)(HSA_HTTP_MAX_BODY + 32 * 1024), MHD_OPTION_NOTIFY_COMPLETED,
        completed_cb, h, MHD_OPTION_NOTIFY_CONNECTION, notify_cb, h,
        MHD_OPTION_URI_LOG_CALLBACK, uri_cb, h, MHD_OPTION_END);
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
    ev_io_init(&h->listen_io, listen_cb, h->lfd, EV_READ);
    h->listen_io.data = h;
    ev_io_start(loop, &h->listen_io);
    ev_timer_init(&h->accept_retry, accept_retry_cb, ACCEPT_RETRY_S, 0.);
    h->accept_retry.data = h;
    ev_timer_init(&h->sweep, sweep_cb, SWEEP_S, SWEEP_S);
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
    /* Stopping frees every connection (notify_cb(CLOSED) for each). */
    h->started = false;
    MHD_stop_daemon(h->d);
    free(h->buckets);
    free(h);
}
