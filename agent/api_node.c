/*
 * api_node.c — the routes that change this node: PUT and DELETE
 * /v1/tags/KEY (a tag gossips to the cluster; the library's errors become
 * messages that say which rule a key or value broke), POST /v1/leave,
 * answered once the leave is done (hearsayd.c completes it), and POST
 * /v1/join, more seeds for a running node.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agent/api_impl.h"
#include "agent/json.h"

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
        hsa_reply_error(out, hsa_api_status_of(e), "tag '%.200s': %s", key,
                        hs_strerror(e));
        break;
    }
}

void hsa_api_put_tag(hsa_agent *a, const hsa_request *rq, const char *key,
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
    hsa_api_json_reply(out, 200, body, blen);
}

void hsa_api_del_tag(hsa_agent *a, const hsa_request *rq, const char *key,
                     hsa_reply *out)
{
    hs_err e = hs_node_del(a->node, key);
    if (e != HS_OK) {
        tag_error(out, e, key);
        return;
    }
    hsa_logf(&a->log, HS_LOG_INFO, "tag %s deleted over HTTP", key);
    size_t len = 0;
    char *body = hsa_json_pairs(&len, "key", key, "status", "deleted");
    hsa_api_json_reply(out, 200, body, len);
}

void hsa_api_post_leave(hsa_agent *a, const hsa_request *rq, const char *rest,
                        hsa_reply *out)
{
    if (a->phase == HSA_STOPPING) {
        size_t len = 0;
        char *body = hsa_json_pairs(&len, "status", "left", NULL, NULL);
        hsa_api_json_reply(out, 200, body, len);
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

/* POST /v1/join {"seeds": ["HOST:PORT", "srv+NAME", ...]}: more seeds for
 * a running node (serf's `serf join`), as --join gives them at start.
 * Joining is gossip, so the answer says the seeds were taken, not that a
 * peer answered yet: /readyz and `hearsay members` say that. */
void hsa_api_post_join(hsa_agent *a, const hsa_request *rq, const char *rest,
                       hsa_reply *out)
{
    (void)rest;
    json_error_t jerr;
    json_t *doc = json_loadb(rq->body ? rq->body : "", rq->body_len,
                             JSON_REJECT_DUPLICATES, &jerr);
    json_t *arr = json_object_get(doc, "seeds");
    size_t n = json_array_size(arr);
    const char *seeds[HS_SEEDS_MAX];
    bool ok = json_is_object(doc) && json_object_size(doc) == 1 &&
              json_is_array(arr) && n >= 1 && n <= HS_SEEDS_MAX;
    for (size_t i = 0; ok && i < n; i++) {
        json_t *v = json_array_get(arr, i);
        ok = json_is_string(v) && json_string_length(v) > 0 &&
             strlen(json_string_value(v)) == json_string_length(v);
        seeds[i] = ok ? json_string_value(v) : NULL;
    }
    if (!ok) {
        hsa_reply_error(out, 400,
                        "the body must be {\"seeds\": [\"HOST:PORT\", ...]} "
                        "with 1..%d addresses, DNS names or srv+NAME",
                        HS_SEEDS_MAX);
        json_decref(doc);
        return;
    }
    hs_err e = hs_node_join(a->node, seeds, n);
    switch (e) {
    case HS_OK: {
        hsa_logf(&a->log, HS_LOG_INFO,
                 "join over HTTP: %zu seed%s added, "
                 "first %.200s",
                 n, n == 1 ? "" : "s", seeds[0]);
        char count[24];
        snprintf(count, sizeof count, "%zu", n);
        size_t len = 0;
        char *body =
            hsa_json_pairs(&len, "status", "joining", "seeds_added", count);
        hsa_api_json_reply(out, 200, body, len);
        break;
    }
    case HS_EADDR:
        hsa_reply_error(out, 400,
                        "a seed is malformed: each is HOST:PORT, "
                        "[IPV6]:PORT, or srv+NAME (nothing was added)");
        break;
    case HS_EFULL:
        hsa_reply_error(out, 409,
                        "this node has the most seeds it may have "
                        "(%d in all)",
                        HS_SEEDS_MAX);
        break;
    case HS_ESTATE:
        hsa_reply_error(out, 409, "the node is leaving: it joins nothing");
        break;
    default:
        hsa_reply_error(out, hsa_api_status_of(e), "join: %s", hs_strerror(e));
        break;
    }
    json_decref(doc);
}
