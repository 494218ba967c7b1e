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
 * the deadlines and hands each one to MHD (MHD_add_connection); this
 * file serves what MHD parses.
 *
 * A request's context (hsa_http_req) lives from the request line (MHD's
 * URI log callback, which sees the target before it is decoded) to the
 * "request completed" notification. Bodies are accumulated up to
 * HSA_HTTP_MAX_BODY; past that the rest is discarded and the answer is 413.
 * A route may answer later (POST /v1/leave waits for the leave to finish):
 * the connection is suspended and resumed by hsa_http_complete().
 */
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/http_impl.h"
#include "agent/json.h"

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
    r->hc = hsa_conn_of(conn);
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
    hsa_conn_phase(r->h, r->hc, PH_BUSY);
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
            r->hc = hsa_conn_of(conn);
            *con_cls = r;
        }
        r->started = true;
        r->method = method;
        r->url = url;
        /* The head is in: the body's deadline starts now. */
        hsa_conn_phase(h, r->hc, PH_BODY);
        const char *why = r->bad_target;
        if (!why && target_cut_by_nul(r, url, version))
            why = "the URL contains a NUL byte";
        if (!why && (why = bad_framing(conn)) != NULL)
            r->close = true;
        if (why) {
            h->stats->http_rejected[HSA_REJ_BAD_REQUEST]++;
            hsa_http_warn(h, HSA_REJ_BAD_REQUEST,
                          "refused %s %.200s from %s: %s", method, url,
                          r->hc ? r->hc->ipstr : "?", why);
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
        .force =
            MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "force"),
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
    hsa_conn_phase(r->h, r->hc, PH_HEAD);
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
        flags, 0, NULL, NULL, access_cb, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
        h, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)(h->lim.max_connections + CLOSING_ROOM),
        MHD_OPTION_CONNECTION_TIMEOUT, idle_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)(HSA_HTTP_MAX_BODY + 32 * 1024), MHD_OPTION_NOTIFY_COMPLETED,
        completed_cb, h, MHD_OPTION_NOTIFY_CONNECTION, hsa_http_notify_cb, h,
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
