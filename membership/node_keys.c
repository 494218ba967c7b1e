/*
 * node_keys.c — what a node writes of its own: keys (kept in the node
 * before start, written into the core once it runs), user events and
 * force-leaves (announcements, which need a running core).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "membership/node_impl.h"

/* ---- Local keys --------------------------------------------------------- */

static hs_err check_key(const hs_node *n, const char *key, const void *value,
                        size_t len)
{
    if (!key || !hs__wire_valid_name(key, HS_WIRE_MAX_KEY))
        return HS_EINVAL;
    if (strncmp(key, HS_KEY_PREFIX, strlen(HS_KEY_PREFIX)) == 0)
        return HS_ERESERVED;
    if (len > HS_WIRE_MAX_VALUE)
        return HS_ETOOBIG;
    if (len && !value)
        return HS_EINVAL;
    return HS_OK;
}

static ssize_t find_pending(const hs_node *n, const char *key)
{
    for (size_t i = 0; i < n->n_pending; i++)
        if (strcmp(n->pending[i].key, key) == 0)
            return (ssize_t)i;
    return -1;
}

/* Before start a key is kept in the node; hs_node_start() writes it into
 * the core (and reports a value too big for max_datagram there). */
static hs_err set_pending(hs_node *n, const char *key, const void *value,
                          size_t len)
{
    hs_err err = check_key(n, key, value, len);
    if (err != HS_OK)
        return err;
    ssize_t at = find_pending(n, key);
    if (at < 0 && n->n_pending >= n->cfg.max_keys)
        return HS_EFULL;
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return HS_ENOMEM;
    if (len)
        memcpy(copy, value, len);
    if (at >= 0) {
        free(n->pending[at].value);
        n->pending[at].value = copy;
        n->pending[at].len = len;
        return HS_OK;
    }
    hs_pending_tag *p =
        realloc(n->pending, (n->n_pending + 1) * sizeof *n->pending);
    char *k = strdup(key);
    if (p)
        n->pending = p;
    if (!p || !k) {
        free(copy);
        free(k);
        return HS_ENOMEM;
    }
    n->pending[n->n_pending++] = (hs_pending_tag){k, copy, len};
    return HS_OK;
}

static hs_err del_pending(hs_node *n, const char *key)
{
    hs_err err = check_key(n, key, NULL, 0);
    if (err != HS_OK)
        return err;
    ssize_t at = find_pending(n, key);
    if (at < 0)
        return HS_ENOTFOUND;
    free(n->pending[at].key);
    free(n->pending[at].value);
    n->pending[at] = n->pending[--n->n_pending];
    return HS_OK;
}

HS_EXPORT hs_err hs_node_set(hs_node *n, const char *key, const void *value,
                             size_t len)
{
    if (!n)
        return HS_EINVAL;
    pthread_mutex_lock(&n->mu);
    hs_err err = HS_ESTATE;
    if (n->state == HS_NODE_NEW) {
        err = set_pending(n, key, value, len);
    } else if (n->state == HS_NODE_RUNNING) {
        err = hs__core_set(n->core, key, value, len, hs_loop_now(n));
        if (err == HS_OK)
            hs__loop_local_event(n, key, false);
        hs__loop_wake(n);
    }
    pthread_mutex_unlock(&n->mu);
    return err;
}

HS_EXPORT hs_err hs_node_del(hs_node *n, const char *key)
{
    if (!n)
        return HS_EINVAL;
    pthread_mutex_lock(&n->mu);
    hs_err err = HS_ESTATE;
    if (n->state == HS_NODE_NEW) {
        err = del_pending(n, key);
    } else if (n->state == HS_NODE_RUNNING) {
        err = hs__core_del(n->core, key, hs_loop_now(n));
        if (err == HS_OK)
            hs__loop_local_event(n, key, true);
        hs__loop_wake(n);
    }
    pthread_mutex_unlock(&n->mu);
    return err;
}

/* ---- User events and force-leave ---------------------------------------- */

HS_EXPORT hs_err hs_node_user_event(hs_node *n, const char *name,
                                    const void *payload, size_t len)
{
    if (!n)
        return HS_EINVAL;
    pthread_mutex_lock(&n->mu);
    hs_err err = HS_ESTATE;
    if (n->state == HS_NODE_RUNNING) {
        err = hs__core_user_event(n->core, name, payload, len, hs_loop_now(n));
        hs__loop_wake(n); /* the origin's own report, and the new write */
    }
    pthread_mutex_unlock(&n->mu);
    return err;
}

HS_EXPORT hs_err hs_node_force_leave(hs_node *n, const char *name, bool force)
{
    if (!n)
        return HS_EINVAL;
    pthread_mutex_lock(&n->mu);
    hs_err err = HS_ESTATE;
    if (n->state == HS_NODE_RUNNING) {
        err = hs__core_force_leave(n->core, name, force, hs_loop_now(n));
        hs__loop_wake(n);
    }
    pthread_mutex_unlock(&n->mu);
    return err;
}
