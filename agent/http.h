/*
 * http.h — the HTTP server under hearsayd's API: libmicrohttpd in
 * "external epoll" mode, driven from the daemon's libev loop (no thread of
 * its own), with bounded requests. Routing and documents are the caller's
 * (api.c); this file only moves bytes. Private to agent/.
 */
#ifndef HSA_HTTP_H
#define HSA_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/log.h"
#include "agent/metrics.h"

struct ev_loop;
struct MHD_Connection;
struct MHD_Response;

/* Request bodies above this are refused with 413: the largest legitimate
 * body is a tag value (1024 bytes in the library); 64 KiB leaves room for
 * future endpoints without letting a client park megabytes in the daemon. */
#define HSA_HTTP_MAX_BODY (64 * 1024)

/* The server's limits (docs/operations.md, docs/security.md; the defaults
 * are hearsayd's flags'). Connections are counted from accept() to close;
 * "idle" ones wait for a request head (a new connection, or keep-alive
 * between two requests) and are the ones shed to make room. */
typedef struct hsa_http_limits {
    uint32_t max_connections;   /* open at once, event streams included */
    uint32_t max_per_ip;        /* from one client address; 0: no limit */
    uint32_t header_timeout_ms; /* accept (or the last answer) -> head */
    uint32_t body_timeout_ms;   /* head -> whole body */
    uint32_t idle_timeout_ms;   /* no byte either way (suspended event
                                   streams are exempt: keep-alives) */
} hsa_http_limits;

typedef struct hsa_http hsa_http;
typedef struct hsa_http_req hsa_http_req;

/* What a route answers. Either a body (owned by the server once returned),
 * a ready response (an event stream), or `pending`: the route keeps the
 * request and answers later with hsa_http_complete(). */
typedef struct hsa_reply {
    unsigned code;
    const char *ctype; /* default application/json */
    char *body;        /* malloc'd */
    size_t len;
    const char *allow; /* Allow header, for 405 */
    bool challenge;    /* 401: add WWW-Authenticate: Bearer */
    struct MHD_Response *stream;
    bool pending;
} hsa_reply;

/* One request as the routes see it: plain strings, no socket. The server
 * fills it from libmicrohttpd (path percent-decoded, without the query);
 * the fuzzer (tests/fuzz/fuzz_http_route.c) fills it from its input. Only
 * streams and delayed answers need the connection, `conn`, which is NULL
 * outside the server. */
typedef struct hsa_request {
    const char *method;
    const char *path;
    const char *state;         /* ?state= filter, NULL if absent */
    const char *type;          /* ?type= filter, NULL if absent */
    const char *authorization; /* the Authorization header, NULL if absent */
    const char *force;         /* ?force= (force-leave), NULL if absent */
    const char *body;
    size_t body_len;
    hsa_http_req *conn;
    /* Queries (api_query.c): ?timeout=, ?node=, ?tag=; NULL if absent. */
    const char *timeout;
    const char *node;
    const char *tag;
} hsa_request;

typedef void (*hsa_http_route_cb)(void *arg, const hsa_request *rq,
                                  hsa_reply *out);

/* Whether addr ("host:port") resolves to a loopback address only (127/8,
 * ::1). 1 yes, 0 no (wildcards included), -1 with err if it does not
 * resolve. */
int hsa_http_addr_is_loopback(const char *addr, char *err, size_t errlen);

/* Binds addr ("host:port", "[v6]:port") and starts serving on loop. NULL
 * with a message in err on failure. */
hsa_http *hsa_http_new(struct ev_loop *loop, hsa_log *log,
                       hsa_agent_stats *stats, const char *addr,
                       const hsa_http_limits *limits, hsa_http_route_cb route,
                       void *arg, char *err, size_t errlen);
/* The port actually bound (useful with port 0). */
unsigned hsa_http_port(const hsa_http *h);
/* Closes every connection and frees the server. */
void hsa_http_free(hsa_http *h);
/* Tells the server a connection was resumed (MHD_resume_connection) from
 * outside its callbacks, so it runs before the loop next waits. `arg` is
 * the hsa_http; the signature suits a plain callback. */
void hsa_http_resumed(void *arg);

/* The connection of a request from the server, for an event stream. */
struct MHD_Connection *hsa_req_conn(const hsa_http_req *r);

/* Answers a pending request. reply's body is taken over. */
void hsa_http_complete(hsa_http_req *r, hsa_reply *reply);

/* Fills out with a JSON error {"error": message}. */
void hsa_reply_error(hsa_reply *out, unsigned code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif /* HSA_HTTP_H */
