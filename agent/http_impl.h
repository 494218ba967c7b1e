/*
 * http_impl.h — what http.c (the server's lifecycle), http_conn.c
 * (connections: admission, limits, deadlines) and http_request.c (one
 * request, its checks and its answer) share: the server's state, one
 * connection's state, one request's. Private to agent/http*.c.
 */
#ifndef HSA_HTTP_IMPL_H
#define HSA_HTTP_IMPL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <ev.h>
#include <microhttpd.h>

#include "agent/buf.h"
#include "agent/config.h"
#include "agent/http.h"

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

/* ---- http_request.c ------------------------------------------------------ */

/* MHD's callbacks for a request: its first sight (the URI log callback,
 * whose result is the request's context), every call of the access
 * handler, and the "request completed" notification. */
void *hsa_http_uri_cb(void *cls, const char *uri, struct MHD_Connection *conn);
enum MHD_Result hsa_http_access_cb(void *cls, struct MHD_Connection *conn,
                                   const char *url, const char *method,
                                   const char *version, const char *upload,
                                   size_t *upload_size, void **con_cls);
void hsa_http_completed_cb(void *cls, struct MHD_Connection *conn,
                           void **con_cls, enum MHD_RequestTerminationCode toe);

/* ---- http_conn.c --------------------------------------------------------- */

/* Moves c (may be NULL) to the end of phase ph's queue, its clock
 * restarted; a closing connection stays closing. */
void hsa_conn_phase(hsa_http *h, hsa_conn *c, enum phase ph);
/* The connection state of an MHD connection (its socket context). */
hsa_conn *hsa_conn_of(struct MHD_Connection *conn);
/* A WARN line about refusals of kind r, at most one per WARN_EVERY_S. */
void hsa_http_warn(hsa_http *h, hsa_http_reject r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The watchers and MHD callback that run the connections. */
void hsa_http_listen_cb(struct ev_loop *loop, ev_io *w, int revents);
void hsa_http_accept_retry_cb(struct ev_loop *loop, ev_timer *w, int revents);
void hsa_http_sweep_cb(struct ev_loop *loop, ev_timer *w, int revents);
void hsa_http_notify_cb(void *cls, struct MHD_Connection *conn,
                        void **socket_context,
                        enum MHD_ConnectionNotificationCode toe);
/* The listening socket for sa, non-blocking; -1 with err set. */
int hsa_http_listener(const struct sockaddr_storage *sa, socklen_t len,
                      const char *addr, char *err, size_t errlen);
/* Raises the descriptor limit to fit max_connections (WARN if it cannot). */
void hsa_http_fit_fd_limit(hsa_http *h);

#endif /* HSA_HTTP_IMPL_H */
