/*
 * http_request.c — one HTTP request, from its request line to its answer:
 * the checks that refuse a target or a framing a proxy could read
 * differently (before any route runs), the body (bounded by
 * HSA_HTTP_MAX_BODY; past that the rest is discarded and the answer is
 * 413), the route's reply turned into an MHD response, and answers given
 * later (POST /v1/leave waits for the leave to finish: the connection is
 * suspended and resumed by hsa_http_complete()).
 *
 * A request's context (hsa_http_req) lives from the request line (MHD's
 * URI log callback, which sees the target before it is decoded) to the
 * "request completed" notification.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/http_impl.h"
#include "agent/json.h"

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
void *hsa_http_uri_cb(void *cls, const char *uri, struct MHD_Connection *conn)
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

enum MHD_Result hsa_http_access_cb(void *cls, struct MHD_Connection *conn,
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
        .timeout =
            MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "timeout"),
        .node =
            MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "node"),
        .tag = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "tag"),
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

void hsa_http_completed_cb(void *cls, struct MHD_Connection *conn,
                           void **con_cls, enum MHD_RequestTerminationCode toe)
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
