/*
 * api.c — hearsayd's HTTP routes (the table is in docs/operations.md):
 *
 *   GET    /v1/members[?state=alive,suspect]   the cluster as this node sees it
 *   GET    /v1/members/NAME                    one member
 *   PUT    /v1/tags/KEY    (body = value)      set one of this node's tags
 *   DELETE /v1/tags/KEY                        delete it
 *   GET    /v1/events[?type=join,fail]         Server-Sent Events
 *   POST   /v1/leave                           leave gracefully, then exit
 *   GET    /v1/keys                            key ids (never the keys)
 *   POST   /v1/keys        {"key": K}          install a key
 *   PUT    /v1/keys/primary {"key": K}|{"id": I}  seal with it
 *   DELETE /v1/keys/ID                         remove a key
 *   GET    /metrics                            Prometheus text format
 *   GET    /healthz                            200 while the node runs
 *   GET    /, /dashboard/FILE, /v1/stats       the dashboard (dashboard.c)
 *   GET    /readyz                             200 once joined (or no seeds)
 *
 * Every error is a JSON {"error": "..."} with a 4xx code (5xx only for the
 * daemon's own trouble: out of memory, shutting down, a keyring file that
 * cannot be rewritten). Library errors map to codes in one place,
 * status_of().
 *
 * Routes see a request as plain strings (hsa_request), never a socket, so
 * tests/fuzz/fuzz_http_route.c drives this file directly. Writes (tags,
 * leave, keys) need the bearer token when hearsayd has one (it must, when
 * the API listens beyond loopback: hearsayd.c); reads do not.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/agent.h"
#include "agent/dashboard.h"
#include "agent/json.h"

static bool is_get(const char *m)
{
    return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
}

static void not_allowed(hsa_reply *out, const char *method, const char *path,
                        const char *allow)
{
    hsa_reply_error(out, 405, "method %s not allowed on %s (allowed: %s)",
                    method, path, allow);
    out->allow = allow;
}

/* The HTTP status for a library error from a request. */
static unsigned status_of(hs_err e)
{
    switch (e) {
    case HS_EINVAL:
    case HS_ERESERVED:
        return 400;
    case HS_ENOTFOUND:
        return 404;
    case HS_ESTATE:
    case HS_EFULL:
        return 409;
    case HS_ETOOBIG:
        return 413;
    default:
        return 500;
    }
}

static void json_reply(hsa_reply *out, unsigned code, char *body, size_t len)
{
    out->code = code;
    out->ctype = "application/json";
    out->body = body;
    out->len = len;
    if (!body)
        hsa_reply_error(out, 500, "out of memory");
}

static void get_members(hsa_agent *a, const hsa_request *rq, hsa_reply *out)
{
    unsigned mask = 0;
    const char *state = rq->state;
    if (state && *state && hsa_state_mask_parse(state, &mask) < 0) {
        hsa_reply_error(out, 400,
                        "bad state filter '%.100s' (comma-separated alive, "
                        "suspect, dead, left)",
                        state);
        return;
    }
    hs_member_list *l = NULL;
    hs_err e = hs_node_members(a->node, &l);
    if (e != HS_OK) {
        hsa_reply_error(out, status_of(e), "members: %s", hs_strerror(e));
        return;
    }
    size_t len = 0;
    char *body = hsa_json_members(a->cfg->name, l, mask, &len);
    hs_member_list_free(l);
    json_reply(out, 200, body, len);
}

static void get_member(hsa_agent *a, const char *name, hsa_reply *out)
{
    hs_member_list *l = NULL;
    if (!*name) {
        hsa_reply_error(out, 404, "no member name in the path");
        return;
    }
    hs_err e = hs_node_member(a->node, name, &l);
    if (e == HS_ENOTFOUND || (e == HS_OK && l->count == 0)) {
        hs_member_list_free(l);
        hsa_reply_error(out, 404, "no member named '%.200s'", name);
        return;
    }
    if (e != HS_OK) {
        hsa_reply_error(out, status_of(e), "member: %s", hs_strerror(e));
        return;
    }
    size_t len = 0;
    char *body = hsa_json_member(&l->members[0], &len);
    hs_member_list_free(l);
    json_reply(out, 200, body, len);
}

static void tag_error(hsa_reply *out, hs_err e, const char *key)
{
    switch (e) {
    case HS_EINVAL:
        hsa_reply_error(out, 400,
                        "invalid tag key '%.200s': 1..%d printable ASCII "
                        "bytes, no spaces",
                        key, HS_KEY_MAX);
        break;
    case HS_ERESERVED:
        hsa_reply_error(out, 400,
                        "tag key '%.200s' is reserved (keys starting with "
                        "\"" HS_KEY_RESERVED "\" belong to hearsay)",
                        key);
        break;
    case HS_ETOOBIG:
        hsa_reply_error(out, 413, "tag value too large (at most %d bytes)",
                        HS_VALUE_MAX);
        break;
    case HS_ENOTFOUND:
        hsa_reply_error(out, 404, "no tag '%.200s' on this node", key);
        break;
    case HS_EFULL:
        hsa_reply_error(out, 409, "this node has the most tags it may have");
        break;
    case HS_ESTATE:
        hsa_reply_error(out, 409, "the node is leaving; tags are frozen");
        break;
    default:
        hsa_reply_error(out, status_of(e), "tag '%.200s': %s", key,
                        hs_strerror(e));
        break;
    }
}

static void put_tag(hsa_agent *a, const hsa_request *rq, const char *key,
                    hsa_reply *out)
{
    size_t len = rq->body_len;
    const char *value = rq->body;
    hs_err e = hs_node_set(a->node, key, value, len);
    if (e != HS_OK) {
        tag_error(out, e, key);
        return;
    }
    hsa_logf(&a->log, HS_LOG_INFO, "tag %s set over HTTP (%zu bytes)", key,
             len);
    char *v = hsa_utf8_sanitize((const uint8_t *)value, len, NULL);
    size_t blen = 0;
    char *body = v ? hsa_json_pairs(&blen, "key", key, "value", v) : NULL;
    free(v);
    json_reply(out, 200, body, blen);
}

static void del_tag(hsa_agent *a, const char *key, hsa_reply *out)
{
    hs_err e = hs_node_del(a->node, key);
    if (e != HS_OK) {
        tag_error(out, e, key);
        return;
    }
    hsa_logf(&a->log, HS_LOG_INFO, "tag %s deleted over HTTP", key);
    size_t len = 0;
    char *body = hsa_json_pairs(&len, "key", key, "status", "deleted");
    json_reply(out, 200, body, len);
}

static void get_events(hsa_agent *a, const hsa_request *rq, hsa_reply *out)
{
    unsigned mask = (1u << HS_EVENT_TYPES) - 1;
    const char *types = rq->type;
    char why[300];
    if (types && *types &&
        hsa_event_mask_parse(types, &mask, why, sizeof why) < 0) {
        hsa_reply_error(out, 400, "bad type filter: %s", why);
        return;
    }
    if (a->phase != HSA_RUNNING) {
        hsa_reply_error(out, 503, "hearsayd is leaving the cluster");
        return;
    }
    if (!a->sse || !rq->conn) {
        hsa_reply_error(out, 503, "the event stream is not available");
        return;
    }
    int full = 0;
    struct MHD_Response *r =
        hsa_sse_open(a->sse, hsa_req_conn(rq->conn), mask, a->cfg->name, &full);
    if (!r) {
        if (full)
            hsa_reply_error(out, 503,
                            "too many event-stream clients (at most %u; see "
                            "--sse-max-clients)",
                            a->cfg->sse_max_clients);
        else
            hsa_reply_error(out, 500, "out of memory");
        return;
    }
    hsa_logf(&a->log, HS_LOG_DEBUG, "event stream: a client connected");
    out->code = 200;
    out->stream = r;
}

static void post_leave(hsa_agent *a, const hsa_request *rq, hsa_reply *out)
{
    if (a->phase == HSA_STOPPING) {
        size_t len = 0;
        char *body = hsa_json_pairs(&len, "status", "left", NULL, NULL);
        json_reply(out, 200, body, len);
        return;
    }
    if (!a->leave || !rq->conn) {
        hsa_reply_error(out, 503, "leaving is not available here");
        return;
    }
    if (a->n_leave_waiters >= HSA_MAX_LEAVE_WAITERS) {
        hsa_reply_error(out, 503, "too many leave requests waiting");
        return;
    }
    if (a->phase == HSA_RUNNING && !a->leave(a, "POST /v1/leave")) {
        hsa_reply_error(out, 409, "the node cannot leave now");
        return;
    }
    /* Answered by the leave's completion (hearsayd.c). */
    a->leave_waiters[a->n_leave_waiters++] = rq->conn;
    out->pending = true;
}

static void get_metrics(hsa_agent *a, hsa_reply *out)
{
    hs_stats *st = NULL;
    hs_member_list *l = NULL;
    hs_err e = hs_node_stats(a->node, &st);
    if (e == HS_OK)
        e = hs_node_members(a->node, &l);
    if (e != HS_OK) {
        hs_stats_free(st);
        hsa_reply_error(out, 500, "metrics: %s", hs_strerror(e));
        return;
    }
    hs_join_status js;
    if (hs_node_join_status(a->node, &js) == HS_OK) {
        a->stats.join_failures = js.failed_rounds;
        a->stats.joined = js.joined;
    }
    hsa_buf b = HSA_BUF_INIT;
    hsa_metrics_render(&b, st, l, &a->stats);
    hs_member_list_free(l);
    hs_stats_free(st);
    size_t len = 0;
    char *body = hsa_buf_steal(&b, &len);
    if (!body) {
        hsa_reply_error(out, 500, "out of memory");
        return;
    }
    out->code = 200;
    out->ctype = "text/plain; version=0.0.4; charset=utf-8";
    out->body = body;
    out->len = len;
}

static void get_health(hsa_agent *a, hsa_reply *out)
{
    size_t len = 0;
    bool up = a->phase == HSA_RUNNING;
    char *body = hsa_json_pairs(&len, "status", up ? "ok" : "leaving", "name",
                                a->cfg->name);
    json_reply(out, up ? 200 : 503, body, len);
}

/* Readiness: a node with seeds is ready once a peer has exchanged state
 * with it (hs_join_status); one without seeds is ready at once, being
 * perhaps the first of its cluster. Not ready is 503 with the reason, so
 * a load balancer or an orchestrator can hold traffic and say why. */
static void get_ready(hsa_agent *a, hsa_reply *out)
{
    hs_join_status js;
    hs_err e = hs_node_join_status(a->node, &js);
    if (e != HS_OK) {
        hsa_reply_error(out, 500, "readiness: %s", hs_strerror(e));
        return;
    }
    bool ready = a->phase == HSA_RUNNING && (js.seeds == 0 || js.joined);
    const char *reason = NULL;
    char why[300];
    if (a->phase != HSA_RUNNING) {
        reason = "leaving the cluster";
    } else if (!ready) {
        snprintf(why, sizeof why, "not joined: %s (%llu failed join round%s)",
                 js.reason[0] ? js.reason : "no peer has answered yet",
                 (unsigned long long)js.failed_rounds,
                 js.failed_rounds == 1 ? "" : "s");
        reason = why;
    }
    /* Answers from peers: what "joined" is made of (hs_join_status). */
    uint64_t heard = 0;
    for (int t = 1; t < HS_MSG_TYPES; t++) {
        const char *mt = hs_msg_type_name(t);
        uint64_t v = 0;
        if ((!strcmp(mt, "synack") || !strcmp(mt, "ack") ||
             !strcmp(mt, "push")) &&
            hs_node_stat(a->node, "msgs_recv", (size_t)t, &v) == HS_OK)
            heard += v;
    }
    json_t *doc = json_pack(
        "{s:s, s:s, s:b, s:I, s:I, s:I, s:s?}", "status",
        ready ? "ready" : "not ready", "name", a->cfg->name, "joined",
        js.joined, "seeds", (json_int_t)js.seeds, "failed_join_rounds",
        (json_int_t)js.failed_rounds, "peers_heard",
        (json_int_t)(heard > INT64_MAX ? INT64_MAX : heard), "reason", reason);
    char *body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    json_reply(out, ready ? 200 : 503, body, body ? strlen(body) : 0);
}

/* ---- Authorization ------------------------------------------------------ */

/* Whether the request carries the token, compared in time independent of
 * where the first difference is, so the token cannot be guessed byte by
 * byte from response times. */
static bool token_matches(const char *token, const char *authz)
{
    static const char scheme[] = "Bearer ";
    if (!authz || strncasecmp(authz, scheme, sizeof scheme - 1) != 0)
        return false;
    const char *t = authz + sizeof scheme - 1;
    while (*t == ' ')
        t++;
    size_t tl = strlen(t);
    while (tl && t[tl - 1] == ' ')
        tl--;
    size_t kl = strlen(token);
    unsigned diff = tl != kl;
    for (size_t i = 0; i < kl; i++)
        diff |= (unsigned char)token[i] ^ (unsigned char)(i < tl ? t[i] : 0);
    return diff == 0;
}

/* Write endpoints: true to go on; false with a 401 in out. */
static bool authorized(hsa_agent *a, const hsa_request *rq, hsa_reply *out)
{
    if (!a->token[0] || token_matches(a->token, rq->authorization))
        return true;
    a->stats.http_unauthorized++;
    hsa_logf(&a->log, HS_LOG_WARN, "refused %s %.200s: %s bearer token",
             rq->method, rq->path, rq->authorization ? "wrong" : "no");
    hsa_reply_error(out, 401,
                    "this endpoint needs the API token: send "
                    "\"Authorization: Bearer TOKEN\" (hearsay: "
                    "--token-file FILE or HEARSAY_HTTP_TOKEN)");
    out->challenge = true;
    return false;
}

/* ---- Keys --------------------------------------------------------------- */

/* The keys as JSON: ids and which is primary, never the keys. */
static void get_keys(hsa_agent *a, hsa_reply *out)
{
    hs_key_info keys[HS_KEYS_MAX];
    size_t n = 0;
    hs_err e = hs_node_keys(a->node, keys, HS_KEYS_MAX, &n);
    json_t *list = json_array();
    for (size_t i = 0; e == HS_OK && list && i < n; i++) {
        json_t *k = json_pack("{s:s, s:b}", "id", keys[i].id, "primary",
                              keys[i].primary);
        if (!k || json_array_append_new(list, k) < 0) {
            json_decref(list);
            list = NULL;
        }
    }
    hsa_wipe(keys, sizeof keys);
    if (e != HS_OK) {
        json_decref(list);
        hsa_reply_error(out, status_of(e), "keys: %s", hs_strerror(e));
        return;
    }
    json_t *doc = list
                      ? json_pack("{s:b, s:s?, s:o}", "encrypted", n > 0,
                                  "keyring_file", a->cfg->keyring, "keys", list)
                      : NULL;
    char *body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    json_reply(out, 200, body, body ? strlen(body) : 0);
}

/* The key named by a JSON body {"key": K} (or, with allow_id, {"id": I}),
 * as base64 text in key. false with a 4xx in out. */
static bool key_from_body(hsa_agent *a, const hsa_request *rq, bool allow_id,
                          char key[HS_KEY_TEXT_LEN], hsa_reply *out);

/* The key whose id is `id`, into key. false with a 404/409 in out. */
static bool key_by_id(hsa_agent *a, const char *id, char key[HS_KEY_TEXT_LEN],
                      hsa_reply *out)
{
    hs_key_info keys[HS_KEYS_MAX];
    size_t n = 0, found = 0;
    if (hs_node_keys(a->node, keys, HS_KEYS_MAX, &n) != HS_OK)
        n = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcasecmp(keys[i].id, id) == 0) {
            memcpy(key, keys[i].key, HS_KEY_TEXT_LEN);
            found++;
        }
    }
    hsa_wipe(keys, sizeof keys);
    if (found == 1)
        return true;
    hsa_wipe(key, HS_KEY_TEXT_LEN);
    if (found > 1)
        hsa_reply_error(out, 409,
                        "two keys have id '%.20s': name the key itself", id);
    else
        hsa_reply_error(out, 404,
                        "no key with id '%.20s' in the keyring (GET "
                        "/v1/keys lists them)",
                        id);
    return false;
}

static bool key_from_body(hsa_agent *a, const hsa_request *rq, bool allow_id,
                          char key[HS_KEY_TEXT_LEN], hsa_reply *out)
{
    json_error_t jerr;
    json_t *doc = json_loadb(rq->body ? rq->body : "", rq->body_len,
                             JSON_REJECT_DUPLICATES, &jerr);
    const char *want =
        allow_id ? "{\"key\": KEY} or {\"id\": ID}" : "{\"key\": KEY}";
    bool ok = false;
    if (!json_is_object(doc) || json_object_size(doc) != 1) {
        hsa_reply_error(out, 400, "the body must be %s", want);
        goto out;
    }
    json_t *k = json_object_get(doc, "key");
    json_t *i = allow_id ? json_object_get(doc, "id") : NULL;
    if (json_is_string(k) && json_string_length(k) < HS_KEY_TEXT_LEN &&
        strlen(json_string_value(k)) == json_string_length(k)) {
        memcpy(key, json_string_value(k), json_string_length(k) + 1);
        char id[HS_KEY_ID_LEN];
        ok = hs_key_id(key, id, sizeof id) == HS_OK;
        if (!ok)
            hsa_reply_error(out, 400,
                            "\"key\" is not a base64 32-byte key (`hearsay "
                            "keygen` makes one)");
    } else if (json_is_string(i) && json_string_length(i) < HS_KEY_ID_LEN &&
               strlen(json_string_value(i)) == json_string_length(i)) {
        ok = key_by_id(a, json_string_value(i), key, out);
    } else {
        hsa_reply_error(out, 400, "the body must be %s", want);
    }
out:
    if (!ok)
        hsa_wipe(key, HS_KEY_TEXT_LEN);
    json_decref(doc); /* jansson does not wipe: keys stay in freed memory
                         until reused, as in any JSON library */
    return ok;
}

/* Rewrites the keyring file (if hearsayd has one) after a change. false
 * with a 500 in out if it cannot: the caller rolls the change back, so
 * the node never runs with keys a restart would lose. */
static bool persist_keys(hsa_agent *a, hsa_reply *out)
{
    if (!a->cfg->keyring)
        return true;
    hs_key_info keys[HS_KEYS_MAX];
    size_t n = 0;
    char err[600];
    int rc = -1;
    if (hs_node_keys(a->node, keys, HS_KEYS_MAX, &n) == HS_OK)
        rc = hsa_keyring_save(a->cfg->keyring, keys, n, err, sizeof err);
    else
        snprintf(err, sizeof err, "cannot list the keys");
    hsa_wipe(keys, sizeof keys);
    if (rc < 0) {
        a->stats.keyring_write_errors++;
        hsa_logf(&a->log, HS_LOG_ERROR, "%s; key change rolled back", err);
        hsa_reply_error(out, 500, "%s; the change was rolled back", err);
        return false;
    }
    a->stats.keyring_writes++;
    return true;
}

static void key_error(hsa_reply *out, hs_err e)
{
    switch (e) {
    case HS_ESTATE:
        hsa_reply_error(out, 409,
                        "gossip is not encrypted: start hearsayd with "
                        "--keyring FILE to use keys");
        break;
    case HS_EFULL:
        hsa_reply_error(out, 409,
                        "the keyring holds %d keys already: remove one first",
                        HS_KEYS_MAX);
        break;
    case HS_EINVAL:
        hsa_reply_error(out, 400, "not a base64 32-byte key");
        break;
    case HS_ENOTFOUND:
        hsa_reply_error(out, 404,
                        "that key is not in the keyring: install "
                        "it first (POST /v1/keys)");
        break;
    default:
        hsa_reply_error(out, status_of(e), "keys: %s", hs_strerror(e));
    }
}

static void key_done(hsa_agent *a, hsa_reply *out, const char *key,
                     const char *status)
{
    char id[HS_KEY_ID_LEN] = "?";
    hs_key_id(key, id, sizeof id);
    hsa_logf(&a->log, HS_LOG_INFO, "keyring over HTTP: key %s %s", id, status);
    size_t len = 0;
    char *body = hsa_json_pairs(&len, "id", id, "status", status);
    json_reply(out, 200, body, len);
}

static bool has_key(hsa_agent *a, const char *key)
{
    char id[HS_KEY_ID_LEN], other[HS_KEY_TEXT_LEN];
    hsa_reply scratch = {0};
    bool found = hs_key_id(key, id, sizeof id) == HS_OK &&
                 key_by_id(a, id, other, &scratch) && strcmp(other, key) == 0;
    hsa_wipe(other, sizeof other);
    free(scratch.body);
    return found;
}

static void post_key(hsa_agent *a, const hsa_request *rq, hsa_reply *out)
{
    char key[HS_KEY_TEXT_LEN];
    if (!key_from_body(a, rq, false, key, out))
        return;
    bool present = has_key(a, key);
    hs_err e = hs_node_key_add(a->node, key);
    if (e != HS_OK)
        key_error(out, e);
    else if (present)
        key_done(a, out, key, "present");
    else if (!persist_keys(a, out))
        hs_node_key_remove(a->node, key);
    else
        key_done(a, out, key, "installed");
    hsa_wipe(key, sizeof key);
}

static void put_primary(hsa_agent *a, const hsa_request *rq, hsa_reply *out)
{
    char key[HS_KEY_TEXT_LEN], old[HS_KEY_TEXT_LEN] = "";
    if (!key_from_body(a, rq, true, key, out))
        return;
    hs_key_info keys[HS_KEYS_MAX];
    size_t n = 0;
    if (hs_node_keys(a->node, keys, HS_KEYS_MAX, &n) == HS_OK && n)
        memcpy(old, keys[0].key, sizeof old);
    hsa_wipe(keys, sizeof keys);
    hs_err e = hs_node_key_use(a->node, key);
    if (e != HS_OK)
        key_error(out, e);
    else if (!persist_keys(a, out))
        hs_node_key_use(a->node, old);
    else
        key_done(a, out, key, "primary");
    hsa_wipe(key, sizeof key);
    hsa_wipe(old, sizeof old);
}

static void delete_key(hsa_agent *a, const char *id, hsa_reply *out)
{
    char key[HS_KEY_TEXT_LEN];
    if (!key_by_id(a, id, key, out))
        return;
    hs_err e = hs_node_key_remove(a->node, key);
    if (e == HS_ESTATE)
        hsa_reply_error(out, 409,
                        "key %.20s is the primary: make another key primary "
                        "first (PUT /v1/keys/primary)",
                        id);
    else if (e != HS_OK)
        key_error(out, e);
    else if (!persist_keys(a, out))
        hs_node_key_add(a->node, key);
    else
        key_done(a, out, key, "removed");
    hsa_wipe(key, sizeof key);
}

void hsa_api_route(void *arg, const hsa_request *rq, hsa_reply *out)
{
    hsa_agent *a = arg;
    const char *m = rq->method ? rq->method : "";
    const char *p = rq->path ? rq->path : "";
    static const char members_prefix[] = "/v1/members/";
    static const char tags_prefix[] = "/v1/tags/";
    static const char keys_prefix[] = "/v1/keys/";

    if (hsa_dashboard_route(a, rq, out))
        return;
    if (strcmp(p, "/healthz") == 0) {
        if (!is_get(m))
            return not_allowed(out, m, p, "GET, HEAD");
        return get_health(a, out);
    }
    if (strcmp(p, "/readyz") == 0) {
        if (!is_get(m))
            return not_allowed(out, m, p, "GET, HEAD");
        return get_ready(a, out);
    }
    if (strcmp(p, "/metrics") == 0) {
        if (!is_get(m))
            return not_allowed(out, m, p, "GET, HEAD");
        return get_metrics(a, out);
    }
    if (strcmp(p, "/v1/members") == 0) {
        if (!is_get(m))
            return not_allowed(out, m, p, "GET, HEAD");
        return get_members(a, rq, out);
    }
    if (strncmp(p, members_prefix, sizeof members_prefix - 1) == 0) {
        if (!is_get(m))
            return not_allowed(out, m, p, "GET, HEAD");
        return get_member(a, p + sizeof members_prefix - 1, out);
    }
    if (strncmp(p, tags_prefix, sizeof tags_prefix - 1) == 0) {
        const char *key = p + sizeof tags_prefix - 1;
        bool put = strcmp(m, "PUT") == 0, del = strcmp(m, "DELETE") == 0;
        if (!put && !del)
            return not_allowed(out, m, p, "PUT, DELETE");
        if (!authorized(a, rq, out))
            return;
        return put ? put_tag(a, rq, key, out) : del_tag(a, key, out);
    }
    if (strcmp(p, "/v1/events") == 0) {
        if (strcmp(m, "GET") != 0)
            return not_allowed(out, m, p, "GET");
        return get_events(a, rq, out);
    }
    if (strcmp(p, "/v1/leave") == 0) {
        if (strcmp(m, "POST") != 0)
            return not_allowed(out, m, p, "POST");
        if (!authorized(a, rq, out))
            return;
        return post_leave(a, rq, out);
    }
    if (strcmp(p, "/v1/keys") == 0) {
        bool post = strcmp(m, "POST") == 0;
        if (!is_get(m) && !post)
            return not_allowed(out, m, p, "GET, HEAD, POST");
        if (!post)
            return get_keys(a, out);
        if (!authorized(a, rq, out))
            return;
        return post_key(a, rq, out);
    }
    if (strcmp(p, "/v1/keys/primary") == 0) {
        if (strcmp(m, "PUT") != 0)
            return not_allowed(out, m, p, "PUT");
        if (!authorized(a, rq, out))
            return;
        return put_primary(a, rq, out);
    }
    if (strncmp(p, keys_prefix, sizeof keys_prefix - 1) == 0) {
        if (strcmp(m, "DELETE") != 0)
            return not_allowed(out, m, p, "DELETE");
        if (!authorized(a, rq, out))
            return;
        return delete_key(a, p + sizeof keys_prefix - 1, out);
    }
    hsa_reply_error(out, 404,
                    "no such endpoint: %.200s (see /, /v1/members, /v1/events, "
                    "/v1/stats, /v1/keys, /metrics, /healthz, /readyz)",
                    p);
}
