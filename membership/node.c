/*
 * node.c — a node's lifecycle: creating it, starting it (binding the
 * socket, choosing the address to advertise, creating the core with the
 * keys set before), leaving, stopping and freeing it, and registering
 * callbacks. The rest of the public node API is a file per concept: the
 * configuration's translation into the core's (node_config.c; the
 * options themselves are in config.c), keys and announcements
 * (node_keys.c), seeds (node_seeds.c), statistics and identity
 * (node_stats.c), clocks and logging (node_log.c). The event-loop side
 * (socket, timer, the own thread, event dispatch) is in loop.c, on the
 * loop adapter of loop_adapter.h (libev: loop_ev.c); member snapshots in
 * snapshot.c.
 *
 * A node exists before it runs: hs_node_new() only checks and copies the
 * configuration, so keys, seeds and callbacks can be registered first and
 * the first datagram already carries them. hs_node_start() binds the
 * socket, learns the address to advertise (which, with port 0 or a
 * wildcard bind, is only known then) and creates the core with it.
 */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "membership/node_impl.h"

/* The limits the header publishes are the runtime's. */
_Static_assert(HS_SEEDS_MAX == HS_MAX_SEEDS_TOTAL, "seed limit");
_Static_assert(HS_CALLBACKS_MAX == HS_MAX_CALLBACKS, "callback limit");

/* ---- Lifecycle ---------------------------------------------------------- */

static void node_destroy(hs_node *n)
{
    for (size_t i = 0; i < n->n_pending; i++) {
        free(n->pending[i].key);
        free(n->pending[i].value);
    }
    free(n->pending);
    for (unsigned i = 0; i < n->n_local_events; i++)
        free(n->local_events[i].key);
    free(n->local_events);
    free(n->seeds);
    free(n->rbuf);
    hs__guard_free(n);
    hs__core_free(n->core);
    hs__resolver_free(n->resolver);
    n->ad.ops->free(n->ad.data);
    free(n);
}

HS_EXPORT hs_err hs_node_new(const hs_config *cfg, struct ev_loop *loop,
                             hs_node **out)
{
    if (!out)
        return HS_EINVAL;
    *out = NULL;
    if (!cfg)
        return HS_EINVAL;
    hs_loop_adapter ad;
    if (hs__loop_ev_new(loop, &ad) != HS_OK)
        return HS_ENOMEM;
    return hs__node_new_on(cfg, ad.ops, ad.data, out);
}

hs_err hs__node_new_on(const hs_config *cfg, const hs_loop_ops *ops, void *data,
                       hs_node **out)
{
    if (out)
        *out = NULL;
    hs_node *n = out && cfg ? calloc(1, sizeof *n) : NULL;
    if (!n) {
        ops->free(data);
        return out && cfg ? HS_ENOMEM : HS_EINVAL;
    }
    n->ad = (hs_loop_adapter){ops, data};
    n->own_loop = ops->run != NULL;
    n->fd = -1;
    bool mu_ok = false, cv_ok = false;
    hs_err err = hs__node_configure(n, cfg);
    if (err != HS_OK)
        goto fail;
    err = HS_ENOMEM;
    if (pthread_mutex_init(&n->mu, NULL) != 0)
        goto fail;
    mu_ok = true;
    if (pthread_cond_init(&n->leave_cv, NULL) != 0)
        goto fail;
    cv_ok = true;
    n->rbuf = malloc(HS_WIRE_MAX_DATAGRAM + 1);
    if (!n->rbuf)
        goto fail;
    if ((err = hs__resolver_new(&n->resolver)) != HS_OK)
        goto fail;
    hs__loop_init(n);
    *out = n;
    return HS_OK;
fail:
    if (cv_ok)
        pthread_cond_destroy(&n->leave_cv);
    if (mu_ok)
        pthread_mutex_destroy(&n->mu);
    node_destroy(n);
    return err;
}

/* Binds the socket described by bind_str; fills n->fd, n->family, bound. */
static hs_err bind_socket(hs_node *n, hs_sockaddr *bound)
{
    hs_sockaddr a;
    if (hs__addr_parse(n->bind_str, &a) != HS_OK) {
        hs__rt_log(n, HS_LOG_ERROR,
                   "bind address '%s' is not a numeric ip:port or [ipv6]:port",
                   n->bind_str);
        return HS_EADDR;
    }
    int family = a.ss.ss_family;
    int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        hs__rt_log(n, HS_LOG_ERROR, "socket for %s: %s", n->bind_str,
                   strerror(errno));
        return HS_EIO;
    }
    if (family == AF_INET6 && hs__addr_is_wildcard((struct sockaddr *)&a.ss)) {
        /* "[::]:port" takes IPv4 peers too, as their v4-mapped form. */
        int off = 0;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    }
    if (bind(fd, (struct sockaddr *)&a.ss, a.len) != 0) {
        int e = errno;
        hs__rt_log(n, HS_LOG_ERROR, "bind %s: %s", n->bind_str, strerror(e));
        close(fd);
        return e == EADDRNOTAVAIL ? HS_EADDR : HS_EIO;
    }
    bound->len = sizeof bound->ss;
    if (getsockname(fd, (struct sockaddr *)&bound->ss, &bound->len) != 0 ||
        hs__addr_format((struct sockaddr *)&bound->ss, n->bound,
                        sizeof n->bound) != HS_OK) {
        hs__rt_log(n, HS_LOG_ERROR, "getsockname: %s", strerror(errno));
        close(fd);
        return HS_EIO;
    }
    n->fd = fd;
    n->family = family;
    return HS_OK;
}

/* What peers should send to: --advertise, else the bound address, else
 * (wildcard bind) an interface address with the bound port. */
static hs_err choose_advertised(hs_node *n, const hs_sockaddr *bound)
{
    hs_sockaddr a;
    unsigned port = hs__addr_port(bound);
    if (n->adv_str[0]) {
        if (hs__addr_parse(n->adv_str, &a) != HS_OK ||
            hs__addr_is_wildcard((struct sockaddr *)&a.ss)) {
            hs__rt_log(n, HS_LOG_ERROR,
                       "advertise address '%s' must be a numeric, "
                       "non-wildcard ip:port or [ipv6]:port",
                       n->adv_str);
            return HS_EADDR;
        }
        if (hs__addr_port(&a) == 0)
            hs__addr_set_port(&a, port);
    } else if (hs__addr_is_wildcard((const struct sockaddr *)&bound->ss)) {
        bool loopback = false;
        if (hs__addr_pick_local(n->family, &a, &loopback) != HS_OK) {
            hs__rt_log(n, HS_LOG_ERROR,
                       "getifaddrs: %s; set an advertise address",
                       strerror(errno));
            return HS_EADDR;
        }
        if (loopback && n->family == AF_INET6) {
            /* A dual-stack socket can advertise an IPv4 address too. */
            hs_sockaddr v4;
            bool v4_loopback = true;
            if (hs__addr_pick_local(AF_INET, &v4, &v4_loopback) == HS_OK &&
                !v4_loopback) {
                a = v4;
                loopback = false;
            }
        }
        hs__addr_set_port(&a, port);
        if (loopback)
            hs__rt_log(n, HS_LOG_WARN,
                       "bound to a wildcard address but no non-loopback "
                       "interface is up: advertising loopback; set an "
                       "advertise address for a multi-host cluster");
    } else {
        a = *bound;
    }
    if (hs__addr_format((struct sockaddr *)&a.ss, n->advertised,
                        sizeof n->advertised) != HS_OK)
        return HS_EADDR;
    return HS_OK;
}

/* Writes the keys set before start into the new core. They stay kept
 * until the start has succeeded (drop_pending), so a start that fails
 * later still leaves them for the next try. */
static hs_err apply_pending(hs_node *n, uint64_t now)
{
    for (size_t i = 0; i < n->n_pending; i++) {
        hs_pending_tag *t = &n->pending[i];
        hs_err err = hs__core_set(n->core, t->key, t->value, t->len, now);
        if (err != HS_OK) {
            hs__rt_log(n, HS_LOG_ERROR, "key '%s' set before start: %s", t->key,
                       hs_strerror(err));
            return err;
        }
    }
    return HS_OK;
}

static void drop_pending(hs_node *n)
{
    for (size_t i = 0; i < n->n_pending; i++) {
        free(n->pending[i].key);
        free(n->pending[i].value);
    }
    free(n->pending);
    n->pending = NULL;
    n->n_pending = 0;
}

/* The resolver has answers (on its thread): the loop collects them. */
static void resolved(void *arg)
{
    hs_node *n = arg;
    n->ad.ops->wake(n->ad.data, HS_WAKE_RESOLVED);
}

HS_EXPORT hs_err hs_node_start(hs_node *n)
{
    if (!n)
        return HS_EINVAL;
    pthread_mutex_lock(&n->mu);
    hs_err err = HS_ESTATE;
    hs_sockaddr bound;
    if (n->state != HS_NODE_NEW)
        goto out;
    if ((err = bind_socket(n, &bound)) != HS_OK)
        goto out;
    if ((err = choose_advertised(n, &bound)) != HS_OK)
        goto fail;
    uint64_t now = hs_loop_now(n);
    n->core_cfg.addr = n->advertised;
    if ((err = hs__core_new(&n->core_cfg, now, &n->core)) != HS_OK)
        goto fail;
    if ((err = apply_pending(n, now)) != HS_OK)
        goto fail;
    for (unsigned i = 0; i < n->n_seeds; i++)
        if ((err = hs__core_add_seed(n->core, n->seeds[i])) != HS_OK)
            hs__rt_warn(n, HS_WARN_SEEDS, "seed %s: %s", n->seeds[i],
                        hs_strerror(err));
    err = HS_OK;
    n->started_ms = now;
    n->state = HS_NODE_RUNNING;
    if ((err = hs__loop_start(n)) != HS_OK) {
        n->state = HS_NODE_NEW;
        n->started_ms = 0;
        goto fail;
    }
    drop_pending(n);
    hs__rt_log(
        n, HS_LOG_INFO,
        "started: bound %s, advertising %s, generation %" PRIu64 ", gossip %s",
        n->bound, n->advertised, n->core_cfg.generation,
        n->keyring ? "sealed (XChaCha20-Poly1305)" : "in plaintext (no keys)");
out:
    pthread_mutex_unlock(&n->mu);
    if (err == HS_OK) {
        /* Outside mu: the resolver's lock comes first (node_impl.h). */
        hs_err rerr =
            hs__resolver_start(n->resolver, resolved, n,
                               n->family == AF_INET ? AF_INET : AF_UNSPEC,
                               n->cfg.resolve_interval_ms);
        if (rerr != HS_OK)
            hs__rt_log(n, HS_LOG_ERROR,
                       "could not start the seed resolver thread: DNS seeds "
                       "will not be resolved");
    }
    return err;
fail:
    hs__core_free(n->core);
    n->core = NULL;
    close(n->fd);
    n->fd = -1;
    n->bound[0] = n->advertised[0] = 0;
    goto out;
}

HS_EXPORT hs_err hs_node_stop(hs_node *n)
{
    if (!n)
        return HS_EINVAL;
    hs__loop_stop(n);
    return HS_OK;
}

HS_EXPORT void hs_node_free(hs_node *n)
{
    if (!n)
        return;
    hs__loop_stop(n);
    pthread_cond_destroy(&n->leave_cv);
    pthread_mutex_destroy(&n->mu);
    node_destroy(n);
}

HS_EXPORT hs_err hs_node_leave(hs_node *n, uint32_t timeout_ms, hs_done_cb done,
                               void *arg)
{
    if (!n)
        return HS_EINVAL;
    pthread_mutex_lock(&n->mu);
    hs_err err = HS_ESTATE;
    bool block = n->own_loop && !done;
    if (n->state != HS_NODE_RUNNING)
        goto out;
    /* Blocking on the node's own thread would wait for itself. */
    if (block && hs__loop_on_node_thread(n))
        goto out;
    uint64_t now = hs_loop_now(n);
    if ((err = hs__core_leave(n->core, now)) != HS_OK)
        goto out;
    n->state = HS_NODE_LEAVING;
    n->leave_deadline = now + timeout_ms;
    n->leave_done = done;
    n->leave_arg = arg;
    n->leave_finished = false;
    n->leave_status = HS_OK;
    hs__rt_log(n, HS_LOG_INFO,
               "leaving: spreading the leave for %" PRIu32 " ms", timeout_ms);
    hs__loop_wake(n);
    while (block && !n->leave_finished)
        pthread_cond_wait(&n->leave_cv, &n->mu);
    if (block)
        err = n->leave_status;
out:
    pthread_mutex_unlock(&n->mu);
    return err;
}

/* ---- Callbacks ---------------------------------------------------------- */

HS_EXPORT hs_err hs_node_on(hs_node *n, unsigned mask, hs_event_cb cb,
                            void *arg)
{
    if (!n || !cb)
        return HS_EINVAL;
    pthread_mutex_lock(&n->mu);
    hs_err err = HS_EFULL;
    if (n->n_callbacks < HS_MAX_CALLBACKS) {
        n->callbacks[n->n_callbacks++] = (hs_callback){mask, cb, arg};
        err = HS_OK;
    }
    pthread_mutex_unlock(&n->mu);
    return err;
}
