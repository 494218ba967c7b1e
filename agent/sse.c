/*
 * sse.c — the event stream (see sse.h).
 *
 * Each client has its own byte queue. libmicrohttpd pulls from it through a
 * content-reader callback; when the queue is empty the callback suspends the
 * connection (allowed from a content reader) and returns 0, and the next
 * publish or keep-alive resumes it. Everything runs on the daemon's loop
 * thread, so no locks. The client struct lives as long as its MHD
 * response: the response's free callback unlinks and frees it.
 *
 * The last events, already formatted, are kept in a ring (bounded in count
 * and bytes) so that a client reconnecting with Last-Event-ID resumes
 * where it stopped: what it missed is queued before anything live.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>
#include <microhttpd.h>

#include "agent/buf.h"
#include "agent/sse.h"
#include "hearsay.h"

typedef struct client {
    hsa_sse *hub;
    struct MHD_Connection *conn;
    unsigned mask;
    hsa_buf q;
    bool suspended;
    bool closing; /* end the stream once the queue is sent */
    bool dropped; /* end it now, with an error */
    struct client *prev, *next;
} client;

typedef struct replay_ev {
    uint64_t id;
    int type;
    char *text; /* the whole SSE message */
    size_t len;
} replay_ev;

struct hsa_sse {
    struct ev_loop *loop;
    hsa_log *log;
    hsa_agent_stats *stats;
    uint32_t max_clients;
    uint32_t n_clients;
    client *clients;
    ev_timer keepalive;
    void (*resumed)(void *); /* tells the HTTP server to run */
    void *resumed_arg;
    replay_ev ring[HSA_SSE_REPLAY_EVENTS]; /* oldest at head */
    size_t ring_head, ring_n, ring_bytes;
};

static void wake(client *c)
{
    if (c->suspended) {
        c->suspended = false;
        MHD_resume_connection(c->conn);
        if (c->hub->resumed)
            c->hub->resumed(c->hub->resumed_arg);
    }
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    client *c = cls;
    if (c->dropped)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    size_t n = hsa_buf_avail(&c->q);
    if (n) {
        if (n > max)
            n = max;
        memcpy(buf, hsa_buf_head(&c->q), n);
        hsa_buf_consume(&c->q, n);
        return (ssize_t)n;
    }
    if (c->closing)
        return MHD_CONTENT_READER_END_OF_STREAM;
    c->suspended = true;
    MHD_suspend_connection(c->conn);
    return 0;
}

static void client_free(void *cls)
{
    client *c = cls;
    hsa_sse *s = c->hub;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->n_clients--;
    s->stats->sse_clients = s->n_clients;
    hsa_buf_free(&c->q);
    free(c);
}

/* Appends text to c's queue, dropping c if it is too far behind. */
static void enqueue(hsa_sse *s, client *c, const char *text, size_t len)
{
    if (c->dropped || c->closing)
        return;
    size_t queued = hsa_buf_avail(&c->q);
    if ((queued && queued + len > HSA_SSE_MAX_QUEUE) ||
        hsa_buf_append(&c->q, text, len) < 0) {
        c->dropped = true;
        hsa_buf_free(&c->q);
        s->stats->sse_dropped++;
        hsa_logf(s->log, HS_LOG_WARN,
                 "event stream: dropping a client that is %zu KiB behind",
                 queued / 1024);
    }
    wake(c);
}

static void keepalive_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    hsa_sse *s = w->data;
    static const char ka[] = ": keep-alive\n\n";
    for (client *c = s->clients; c; c = c->next)
        enqueue(s, c, ka, sizeof ka - 1);
}

hsa_sse *hsa_sse_new(struct ev_loop *loop, hsa_log *log, hsa_agent_stats *stats,
                     uint32_t max_clients, uint32_t keepalive_ms)
{
    hsa_sse *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->loop = loop;
    s->log = log;
    s->stats = stats;
    s->max_clients = max_clients;
    double ka = (double)keepalive_ms / 1000.0;
    ev_timer_init(&s->keepalive, keepalive_cb, ka, ka);
    s->keepalive.data = s;
    ev_timer_start(loop, &s->keepalive);
    /* The keep-alive alone must not keep the loop running at shutdown. */
    ev_unref(loop);
    return s;
}

/* The event id a reconnecting client last saw: the Last-Event-ID header,
 * else ?last-event-id=; 0 (replay nothing) if absent or not a number. */
static uint64_t last_event_id(struct MHD_Connection *conn)
{
    const char *v =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Last-Event-ID");
    if (!v)
        v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
                                        "last-event-id");
    if (!v || *v < '0' || *v > '9')
        return 0;
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    return *end == '\0' ? (uint64_t)n : 0;
}

/* Queues the kept events after `after` that c wants. */
static void replay(hsa_sse *s, client *c, uint64_t after)
{
    for (size_t k = 0; k < s->ring_n; k++) {
        const replay_ev *e =
            &s->ring[(s->ring_head + k) % HSA_SSE_REPLAY_EVENTS];
        if (e->id > after && (c->mask & (1u << e->type)))
            hsa_buf_append(&c->q, e->text, e->len);
    }
}

static void ring_drop_oldest(hsa_sse *s)
{
    replay_ev *e = &s->ring[s->ring_head];
    s->ring_bytes -= e->len;
    free(e->text);
    e->text = NULL;
    s->ring_head = (s->ring_head + 1) % HSA_SSE_REPLAY_EVENTS;
    s->ring_n--;
}

/* Keeps one formatted event for replay (or, too big to keep, forgets it:
 * a client resuming across it sees the gap in the ids). */
static void ring_push(hsa_sse *s, uint64_t id, int type, const char *text,
                      size_t len)
{
    if (len > HSA_SSE_REPLAY_BYTES)
        return;
    while (s->ring_n && (s->ring_n == HSA_SSE_REPLAY_EVENTS ||
                         s->ring_bytes + len > HSA_SSE_REPLAY_BYTES))
        ring_drop_oldest(s);
    char *copy = malloc(len);
    if (!copy)
        return;
    memcpy(copy, text, len);
    replay_ev *e = &s->ring[(s->ring_head + s->ring_n) % HSA_SSE_REPLAY_EVENTS];
    *e = (replay_ev){.id = id, .type = type, .text = copy, .len = len};
    s->ring_n++;
    s->ring_bytes += len;
}

struct MHD_Response *hsa_sse_open(hsa_sse *s, struct MHD_Connection *conn,
                                  unsigned mask, const char *self, int *full)
{
    *full = 0;
    if (s->n_clients >= s->max_clients) {
        *full = 1;
        s->stats->sse_rejected++;
        return NULL;
    }
    client *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->hub = s;
    c->conn = conn;
    c->mask = mask;
    /* A first comment, so the client sees the stream is live at once, and a
     * reconnect delay for EventSource clients. */
    hsa_buf_printf(&c->q, ": hearsay event stream of %s\nretry: 2000\n\n",
                   self);
    uint64_t after = conn ? last_event_id(conn) : 0;
    if (after)
        replay(s, c, after);
    if (c->q.oom) {
        hsa_buf_free(&c->q);
        free(c);
        return NULL;
    }
    struct MHD_Response *r = MHD_create_response_from_callback(
        MHD_SIZE_UNKNOWN, 4096, reader, c, client_free);
    if (!r) {
        hsa_buf_free(&c->q);
        free(c);
        return NULL;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            "text/event-stream");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Accel-Buffering", "no");
    c->next = s->clients;
    if (s->clients)
        s->clients->prev = c;
    s->clients = c;
    s->n_clients++;
    s->stats->sse_clients = s->n_clients;
    s->stats->sse_connections++;
    return r;
}

void hsa_sse_publish(hsa_sse *s, int type, uint64_t id, const char *json,
                     size_t len)
{
    hsa_buf msg = HSA_BUF_INIT;
    hsa_buf_printf(&msg, "id: %llu\nevent: %s\ndata: ", (unsigned long long)id,
                   hs_event_type_name((hs_event_type)type));
    /* The compact JSON document has no newline; SSE data must not. */
    hsa_buf_append(&msg, json, len);
    hsa_buf_puts(&msg, "\n\n");
    if (msg.oom) {
        hsa_logf(s->log, HS_LOG_WARN, "event stream: out of memory");
        hsa_buf_free(&msg);
        return;
    }
    ring_push(s, id, type, msg.data, msg.len);
    for (client *c = s->clients; c; c = c->next) {
        if (c->mask & (1u << type)) {
            enqueue(s, c, msg.data, msg.len);
            s->stats->sse_events++;
        }
    }
    hsa_buf_free(&msg);
}

void hsa_sse_on_resume(hsa_sse *s, void (*cb)(void *), void *arg)
{
    s->resumed = cb;
    s->resumed_arg = arg;
}

void hsa_sse_close_all(hsa_sse *s)
{
    for (client *c = s->clients; c; c = c->next) {
        c->closing = true;
        wake(c);
    }
}

void hsa_sse_free(hsa_sse *s)
{
    if (!s)
        return;
    ev_ref(s->loop);
    ev_timer_stop(s->loop, &s->keepalive);
    while (s->ring_n)
        ring_drop_oldest(s);
    /* Clients still linked here would mean the HTTP server outlived us. */
    free(s);
}
