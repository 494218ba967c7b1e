/*
 * node_stats.c — what a node reports about itself: its statistics (the
 * core's counters with the runtime's added in, read by name through
 * stats.c's table), how its join is going, its bound and advertised
 * addresses, its name and generation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "membership/node_impl.h"

/* The core's counters with the runtime's added in, into *out. With mu. */
static void collect_stats(hs_node *n, hs_stats *out)
{
    if (n->core)
        *out = *hs__core_stats_get(n->core);
    else
        memset(out, 0, sizeof *out);
    out->send_errors = n->rt.send_errors;
    out->recv_errors = n->rt.recv_errors;
    out->resolve_errors = n->rt.resolve_errors;
    out->round_us_sum = n->rt.round_us_sum;
    out->round_us_max = n->rt.round_us_max;
    out->callbacks_slow = n->rt.callbacks_slow;
    out->events_dropped += n->rt.events_dropped; /* own key changes */
    /* The runtime refuses some datagrams before the core sees them. */
    for (int i = 0; i < HS_REASONS; i++)
        out->rejected[i] += n->rt.rejected[i];
    out->keyring_keys = n->keyring ? hs__keyring_count(n->keyring) : 0;
    out->datagrams_opened = n->rt.datagrams_opened;
    out->replay_evicted_early =
        n->replay ? hs__replay_evicted_early(n->replay) : 0;
    out->alloc_failures += n->rt.alloc_failures;
}

HS_EXPORT hs_err hs_node_stats(hs_node *n, hs_stats **out)
{
    if (!out)
        return HS_EINVAL;
    *out = NULL;
    if (!n)
        return HS_EINVAL;
    hs_stats *st = malloc(sizeof *st);
    if (!st)
        return HS_ENOMEM;
    pthread_mutex_lock(&n->mu);
    collect_stats(n, st);
    pthread_mutex_unlock(&n->mu);
    *out = st;
    return HS_OK;
}

HS_EXPORT hs_err hs_node_stat(hs_node *n, const char *name, size_t index,
                              uint64_t *out)
{
    if (!n || !out)
        return HS_EINVAL;
    /* On the stack: one value must not cost an allocation. */
    hs_stats st;
    pthread_mutex_lock(&n->mu);
    collect_stats(n, &st);
    pthread_mutex_unlock(&n->mu);
    return hs_stats_get(&st, name, index, out);
}

HS_EXPORT hs_err hs_node_join_status(hs_node *n, hs_join_status *out)
{
    if (!n || !out)
        return HS_EINVAL;
    unsigned names = hs__resolver_count(n->resolver); /* before mu */
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&n->mu);
    out->seeds = n->n_seeds + names;
    out->joined = n->joined_ms != 0;
    out->joined_after_ms = n->joined_ms ? n->joined_ms - n->started_ms : 0;
    out->failed_rounds = n->join_failures;
    if (!n->joined_ms)
        snprintf(out->reason, sizeof out->reason, "%s", n->join_reason);
    pthread_mutex_unlock(&n->mu);
    return HS_OK;
}

static hs_err copy_addr(hs_node *n, const char *addr, char *buf, size_t len)
{
    if (!n || !buf)
        return HS_EINVAL;
    pthread_mutex_lock(&n->mu);
    hs_err err = HS_ESTATE;
    if (n->state != HS_NODE_NEW) {
        err = HS_ENOSPC;
        if (strlen(addr) < len) {
            memcpy(buf, addr, strlen(addr) + 1);
            err = HS_OK;
        }
    }
    pthread_mutex_unlock(&n->mu);
    return err;
}

HS_EXPORT hs_err hs_node_bound_addr(hs_node *n, char *buf, size_t len)
{
    return copy_addr(n, n ? n->bound : "", buf, len);
}

HS_EXPORT hs_err hs_node_advertised_addr(hs_node *n, char *buf, size_t len)
{
    return copy_addr(n, n ? n->advertised : "", buf, len);
}

HS_EXPORT const char *hs_node_name(const hs_node *n)
{
    return n ? n->name : "";
}

HS_EXPORT uint64_t hs_node_generation(const hs_node *n)
{
    return n ? n->core_cfg.generation : 0;
}
