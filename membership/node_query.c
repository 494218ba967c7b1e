/*
 * node_query.c — the public face of queries (hs_node_query,
 * hs_node_respond) and the hand-out of their answers to the callbacks the
 * asker gave, on the loop thread.
 *
 * The core (query.c) keeps each query's callback and argument only to hand
 * them back with every ack, response and end it queues; this file takes
 * those replies under the node's lock and calls the callbacks without it,
 * as event callbacks are called (loop.c, dispatch), so a callback may call
 * back into the node.
 */
#include <pthread.h>

#include "membership/node_impl.h"

HS_EXPORT hs_err hs_node_query(hs_node *n, const char *name,
                               const void *payload, size_t len,
                               const hs_query_opts *opts, hs_query_cb cb,
                               void *arg, uint64_t *id_out)
{
    if (id_out)
        *id_out = 0;
    if (!n)
        return HS_EINVAL;
    pthread_mutex_lock(&n->mu);
    hs_err err = HS_ESTATE;
    if (n->state == HS_NODE_RUNNING) {
        err = hs__core_query(n->core, name, payload, len, opts, cb, arg,
                             hs_loop_now(n), id_out);
        hs__loop_wake(n); /* the slot write, the ack, its own report */
    }
    pthread_mutex_unlock(&n->mu);
    return err;
}

HS_EXPORT hs_err hs_node_respond(hs_node *n, uint64_t query_id,
                                 const void *payload, size_t len)
{
    if (!n)
        return HS_EINVAL;
    pthread_mutex_lock(&n->mu);
    hs_err err = HS_ESTATE;
    if (n->state == HS_NODE_RUNNING || n->state == HS_NODE_LEAVING) {
        err = hs__core_respond(n->core, query_id, payload, len, hs_loop_now(n));
        hs__loop_wake(n); /* the response datagram */
    }
    pthread_mutex_unlock(&n->mu);
    return err;
}

void hs__query_dispatch(hs_node *n)
{
    for (;;) {
        hs_core_reply r;
        pthread_mutex_lock(&n->mu);
        bool got = n->state != HS_NODE_STOPPED && n->core &&
                   hs__core_next_reply(n->core, &r);
        pthread_mutex_unlock(&n->mu);
        if (!got)
            return;
        hs_query_reply qr = {.kind = r.kind,
                             .id = r.id,
                             .from = r.kind == HS_QUERY_DONE ? NULL : r.from,
                             .payload = r.payload,
                             .payload_len = r.len,
                             .acks = r.acks,
                             .responses = r.responses,
                             .timeout_ms = r.timeout_ms};
        r.cb(n, &qr, r.arg);
    }
}
