/*
 * api_node.c — the routes that change this node: PUT and DELETE
 * /v1/tags/KEY (a tag gossips to the cluster; the library's errors become
 * messages that say which rule a key or value broke), and POST /v1/leave,
 * answered once the leave is done (hearsayd.c completes it).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
