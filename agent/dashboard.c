/*
 * dashboard.c — the dashboard hearsayd serves at GET / (docs/operations.md,
 * "The dashboard").
 *
 * The page is three static files under agent/dashboard/, compiled into the
 * binary (cmake/embed_assets.cmake), so a node needs nothing on disk and a
 * browser fetches nothing from elsewhere. Each is served with its content
 * type, an ETag from its SHA-256 and "Cache-Control: no-cache" (the
 * browser keeps it and revalidates: a 304 until the binary changes), and a
 * strict Content-Security-Policy: scripts, styles and requests from this
 * origin only, nothing inline, no framing. The page then reads the API
 * like any client (GET /v1/members, GET /v1/events), plus GET /v1/stats
 * below: this node's counters as JSON, the same hs_node_stats() figures
 * /metrics exposes, so the page shows what Prometheus would.
 *
 * Like every read, these need no token (docs/security.md: reads are open);
 * the page sends one when given (see app.js) so that it keeps working
 * behind a proxy that asks for it.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "agent/agent.h"
#include "agent/dashboard.h"
#include "agent/json.h"

const hsa_asset *hsa_dashboard_asset(const char *path)
{
    static const char prefix[] = "/dashboard/";
    const char *name;
    if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0)
        name = "index.html";
    else if (strncmp(path, prefix, sizeof prefix - 1) == 0)
        name = path + sizeof prefix - 1;
    else
        return NULL;
    for (const hsa_asset *f = hsa_dashboard_assets; f->name; f++) {
        if (strcmp(f->name, name) == 0)
            return f;
    }
    return NULL;
}

bool hsa_dashboard_etag_matches(const char *inm, const char *etag)
{
    if (!inm)
        return false;
    if (strcmp(inm, "*") == 0)
        return true;
    size_t el = strlen(etag);
    for (const char *p = inm; (p = strstr(p, etag)) != NULL; p += el) {
        bool start = p == inm || p[-1] == ' ' || p[-1] == ',' || p[-1] == '/';
        bool end = p[el] == '\0' || p[el] == ',' || p[el] == ' ';
        if (start && end)
            return true;
    }
    return false;
}

static void add_headers(struct MHD_Response *r, const hsa_asset *f)
{
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, f->ctype);
    MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, f->etag);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(r, "Content-Security-Policy", HSA_DASHBOARD_CSP);
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
}

static void serve_asset(const hsa_request *rq, const hsa_asset *f,
                        hsa_reply *out)
{
    if (!rq->conn) {
        /* No connection (the route fuzzer): a plain copy of the body. */
        char *body = malloc(f->len ? f->len : 1);
        if (!body) {
            hsa_reply_error(out, 500, "out of memory");
            return;
        }
        memcpy(body, f->data, f->len);
        out->code = 200;
        out->ctype = f->ctype;
        out->body = body;
        out->len = f->len;
        return;
    }
    struct MHD_Connection *conn = hsa_req_conn(rq->conn);
    const char *inm = MHD_lookup_connection_value(
        conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
    bool fresh = hsa_dashboard_etag_matches(inm, f->etag);
    /* The bytes are static and live as long as the process. */
    struct MHD_Response *r = MHD_create_response_from_buffer(
        fresh ? 0 : f->len, fresh ? NULL : (void *)f->data,
        MHD_RESPMEM_PERSISTENT);
    if (!r) {
        hsa_reply_error(out, 500, "out of memory");
        return;
    }
    add_headers(r, f);
    out->code = fresh ? 304 : 200;
    out->stream = r;
}

/* ---- GET /v1/stats ----------------------------------------------------- */

static json_t *count(uint64_t v)
{
    return json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v);
}

/* {type: n} over the gossip message types, as /metrics labels them. */
static json_t *by_type(const hs_stats *st, const char *which)
{
    json_t *o = json_object();
    for (size_t t = 1; o && t < hsa_stat_len(which); t++) {
        if (json_object_set_new(o, hs_msg_type_name((int)t),
                                count(hsa_stat_of(st, which, t))) < 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

static char *stats_json(hsa_agent *a, const hs_stats *st, size_t *len)
{
    json_t *rej = json_object(), *ev = json_object();
    for (size_t r = 1; rej && r < hsa_stat_len("rejected"); r++) {
        if (json_object_set_new(rej, hs_err_name(-(int)r),
                                count(hsa_stat_of(st, "rejected", r))))
            json_decref(rej), rej = NULL;
    }
    for (size_t t = 0; ev && t < hsa_stat_len("events"); t++) {
        if (json_object_set_new(ev, hs_event_type_name((hs_event_type)t),
                                count(hsa_stat_of(st, "events", t))))
            json_decref(ev), ev = NULL;
    }
    /* The knobs as the node runs them: the library's defaults under the
     * flags given, as hearsayd built its configuration. */
    uint64_t gi = 0, hi = 0, da = 0;
    double phi = 0;
    hs_config_get_uint(a->cfg->node, "gossip-interval", &gi);
    hs_config_get_uint(a->cfg->node, "heartbeat-interval", &hi);
    hs_config_get_uint(a->cfg->node, "dead-after", &da);
    hs_config_get_double(a->cfg->node, "phi-threshold", &phi);
    /* "o" steals a reference even when the pack fails, so every part
     * built above is released either way (a NULL part fails the pack). */
    json_t *doc = json_pack(
        "{s:s, s:f, s:{s:f, s:I, s:I, s:I}, s:o, s:o, s:o, s:o, s:o, s:o, "
        "s:o, s:o, s:o}",
        "name", a->cfg->name ? a->cfg->name : "", "start_time",
        a->stats.start_time, "config", "phi_threshold", phi,
        "gossip_interval_ms", (json_int_t)gi, "heartbeat_interval_ms",
        (json_int_t)hi, "dead_after_ms", (json_int_t)da, "gossip_rounds",
        count(hsa_stat_of(st, "rounds", 0)), "messages_sent",
        by_type(st, "msgs_sent"), "messages_received", by_type(st, "msgs_recv"),
        "sent_bytes", by_type(st, "bytes_sent"), "received_bytes",
        by_type(st, "bytes_recv"), "rejected", rej ? rej : json_null(),
        "events", ev ? ev : json_null(), "truncated_messages",
        count(hsa_stat_of(st, "truncated_msgs", 0)), "pauses",
        count(hsa_stat_of(st, "pauses", 0)));
    if (doc && (!rej || !ev)) {
        json_decref(doc);
        doc = NULL;
    }
    char *s = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    *len = s ? strlen(s) : 0;
    return s;
}

static void get_stats(hsa_agent *a, hsa_reply *out)
{
    hs_stats *st = NULL;
    hs_err e = hs_node_stats(a->node, &st);
    if (e != HS_OK) {
        hsa_reply_error(out, 500, "stats: %s", hs_strerror(e));
        return;
    }
    size_t len = 0;
    char *body = stats_json(a, st, &len);
    hs_stats_free(st);
    if (!body) {
        hsa_reply_error(out, 500, "out of memory");
        return;
    }
    out->code = 200;
    out->ctype = "application/json";
    out->body = body;
    out->len = len;
}

bool hsa_dashboard_route(hsa_agent *a, const hsa_request *rq, hsa_reply *out)
{
    const char *m = rq->method ? rq->method : "";
    const char *p = rq->path ? rq->path : "";
    bool get = strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
    if (strcmp(p, "/v1/stats") == 0) {
        if (!get) {
            hsa_reply_error(out, 405,
                            "method %s not allowed on %s "
                            "(allowed: GET, HEAD)",
                            m, p);
            out->allow = "GET, HEAD";
        } else {
            get_stats(a, out);
        }
        return true;
    }
    const hsa_asset *f = hsa_dashboard_asset(p);
    if (!f) {
        if (strncmp(p, "/dashboard/", 11) != 0)
            return false;
        hsa_reply_error(out, 404, "no dashboard file %.200s", p);
        return true;
    }
    if (!get) {
        hsa_reply_error(out, 405,
                        "method %s not allowed on %s (allowed: GET, "
                        "HEAD)",
                        m, p);
        out->allow = "GET, HEAD";
        return true;
    }
    serve_asset(rq, f, out);
    return true;
}
