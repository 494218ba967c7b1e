/*
 * node.c — the public node API: the configuration's translation into the
 * core's (the options themselves are in config.c), creating and starting
 * a node, local keys, seeds, callbacks, leave, stop, statistics and
 * logging. The event-loop side (socket, timer, the own thread, event
 * dispatch) is in loop.c, on the loop adapter of loop_adapter.h (libev:
 * loop_ev.c); member snapshots in snapshot.c.
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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "membership/node_impl.h"

/* The limits the header publishes are the runtime's. */
_Static_assert(HS_SEEDS_MAX == HS_MAX_SEEDS_TOTAL, "seed limit");
_Static_assert(HS_CALLBACKS_MAX == HS_MAX_CALLBACKS, "callback limit");

/* ---- Time and logging --------------------------------------------------- */

uint64_t hs__rt_now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

static const char *const level_names[] = {"error", "warn", "info", "debug"};

__attribute__((format(printf, 3, 0))) static void
vlog(hs_node *n, int level, const char *fmt, va_list ap)
{
    if (level > __atomic_load_n(&n->cfg.log_level, __ATOMIC_RELAXED))
        return;
    char line[640];
    int off = snprintf(line, sizeof line,
                       "hearsay[%s] %s: ", n->name[0] ? n->name : "?",
                       level_names[level < 0   ? 0
                                   : level > 3 ? 3
                                               : level]);
    if (off < 0)
        return;
    vsnprintf(line + off, sizeof line - (size_t)off, fmt, ap);
    if (n->cfg.log_cb)
        n->cfg.log_cb(n->cfg.log_arg, level, line);
    else
        fprintf(stderr, "%s\n", line);
}

void hs__rt_log(hs_node *n, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(n, level, fmt, ap);
    va_end(ap);
}

/* Ten seconds: often enough that an operator sees a problem persists,
 * rarely enough that a dead seed does not flood the log every round. */
#define HS_WARN_EVERY_MS 10000

void hs__rt_warn(hs_node *n, int kind, const char *fmt, ...)
{
    uint64_t now = hs_loop_now(n);
    if (n->warn_at[kind] && now - n->warn_at[kind] < HS_WARN_EVERY_MS) {
        n->warn_suppressed[kind]++;
        return;
    }
    n->warn_at[kind] = now ? now : 1;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n->warn_suppressed[kind])
        hs__rt_log(n, HS_LOG_WARN, "%s (and %" PRIu64 " more like it)", msg,
                  n->warn_suppressed[kind]);
    else
        hs__rt_log(n, HS_LOG_WARN, "%s", msg);
    n->warn_suppressed[kind] = 0;
}

void hs__rt_check_nomem(hs_node *n)
{
    uint64_t total = n->rt.alloc_failures;
    if (n->core)
        total += hs__core_stats_get(n->core)->alloc_failures;
    if (total <= n->nomem_logged)
        return;
    hs__rt_warn(n, HS_WARN_NOMEM,
               "out of memory: %" PRIu64 " allocation%s failed (a gossip "
               "round, an answer, a delta or an event was dropped; "
               "alloc_failures counts them)",
               total - n->nomem_logged, total - n->nomem_logged == 1 ? "" : "s");
    n->nomem_logged = total;
}

/* ---- Configuration ------------------------------------------------------ */

static uint64_t os_seed(const hs_node *n)
{
    uint64_t s = 0;
    if (getrandom(&s, sizeof s, GRND_NONBLOCK) != (ssize_t)sizeof s || !s) {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        s = ((uint64_t)t.tv_sec << 32) ^ (uint64_t)t.tv_nsec ^
            ((uint64_t)getpid() << 16) ^ (uint64_t)(uintptr_t)n;
    }
    return s ? s : 1;
}

uint64_t hs__rt_wall_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static hs_err copy_str(hs_node *n, const char *what, const char *src, char *dst,
                       size_t len)
{
    if (!src || strlen(src) >= len) {
        hs__rt_log(n, HS_LOG_ERROR, "config: %s is %s", what,
                  src ? "too long" : "missing");
        return HS_EINVAL;
    }
    memcpy(dst, src, strlen(src) + 1);
    return HS_OK;
}

static hs_err configure(hs_node *n, const hs_config *cfg)
{
    n->cfg = *cfg;
    if (cfg->log_level < HS_LOG_ERROR)
        n->cfg.log_level = HS_LOG_ERROR;
    if (cfg->name && strlen(cfg->name) < sizeof n->name)
        memcpy(n->name, cfg->name, strlen(cfg->name) + 1);
    if (!cfg->name || !hs__wire_valid_name(cfg->name, HS_WIRE_MAX_NAME)) {
        hs__rt_log(n, HS_LOG_ERROR,
                  "config: name must be 1..%d printable ASCII bytes "
                  "without spaces",
                  HS_WIRE_MAX_NAME);
        return HS_EINVAL;
    }
    hs_err err;
    if ((err = copy_str(n, "cluster", cfg->cluster ? cfg->cluster : "default",
                        n->cluster, sizeof n->cluster)) != HS_OK ||
        (err = copy_str(n, "bind", cfg->bind ? cfg->bind : "127.0.0.1:7946",
                        n->bind_str, sizeof n->bind_str)) != HS_OK ||
        (err = copy_str(n, "advertise", cfg->advertise ? cfg->advertise : "",
                        n->adv_str, sizeof n->adv_str)) != HS_OK)
        return err;
    n->cfg.name = n->name;
    n->cfg.cluster = n->cluster;
    n->cfg.bind = n->bind_str;
    n->cfg.advertise = n->adv_str[0] ? n->adv_str : NULL;

    hs_core_config *cc = &n->core_cfg;
    hs__core_config_init(cc);
    cc->cluster = n->cluster;
    cc->name = n->name;
    cc->addr = "";
    cc->generation = cfg->generation ? cfg->generation : hs__rt_wall_ms();
    cc->seed = cfg->seed ? cfg->seed : os_seed(n);
    cc->mode = cfg->mode;
    cc->gossip_interval_ms = cfg->gossip_interval_ms;
    cc->heartbeat_interval_ms = cfg->heartbeat_interval_ms;
    cc->fanout = cfg->fanout;
    cc->max_datagram = cfg->max_datagram;
    cc->phi_threshold = cfg->phi_threshold;
    cc->dead_after_ms = cfg->dead_after_ms;
    cc->reap_dead_after_ms = cfg->reap_dead_after_ms;
    cc->reap_left_after_ms = cfg->reap_left_after_ms;
    cc->tombstone_gc_ms = cfg->tombstone_gc_ms;
    cc->max_members = cfg->max_members;
    cc->max_keys = cfg->max_keys;
    cc->max_pending = cfg->max_pending_sends;
    if (cfg->n_keys) {
        /* The core packs into what is left after sealing. */
        if (cfg->max_datagram < HS_WIRE_MIN_DATAGRAM + HS_SEAL_OVERHEAD) {
            hs__rt_log(n, HS_LOG_ERROR,
                      "config: max-datagram must be at least %d with keys "
                      "(sealing adds %d bytes)",
                      HS_WIRE_MIN_DATAGRAM + HS_SEAL_OVERHEAD,
                      HS_SEAL_OVERHEAD);
            return HS_EINVAL;
        }
        cc->max_datagram = cfg->max_datagram - HS_SEAL_OVERHEAD;
    }
    hs__core_config_scale_timing(cc);
    if (hs__core_config_check(cc) != HS_OK) {
        hs__rt_log(n, HS_LOG_ERROR,
                  "config: out of range (cluster name, mode, intervals > 0, "
                  "fanout 1..16, max-datagram %d..%d, phi-threshold 0..1000, "
                  "max-members, max-keys and max-pending-sends >= 1, "
                  "generation < 2^62)",
                  HS_WIRE_MIN_DATAGRAM, HS_WIRE_MAX_DATAGRAM);
        return HS_EINVAL;
    }
    err = hs__guard_init(n, cfg);
    /* The keyring holds the keys now; the caller's copies are theirs. */
    n->cfg.keys = NULL;
    return err;
}

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

hs_err hs__node_new_on(const hs_config *cfg, const hs_loop_ops *ops,
                      void *data, hs_node **out)
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
    hs_err err = configure(n, cfg);
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
    hs__rt_log(n, HS_LOG_INFO, "leaving: spreading the leave for %" PRIu32 " ms",
              timeout_ms);
    hs__loop_wake(n);
    while (block && !n->leave_finished)
        pthread_cond_wait(&n->leave_cv, &n->mu);
    if (block)
        err = n->leave_status;
out:
    pthread_mutex_unlock(&n->mu);
    return err;
}

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

/* ---- Seeds -------------------------------------------------------------- */

/* A DNS name as a seed host: letters, digits, '-', '_' and '.'. */
static bool valid_dns_name(const char *h)
{
    size_t len = strlen(h);
    if (len == 0 || len > 253)
        return false;
    for (const char *p = h; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
            return false;
    return true;
}

typedef struct parsed_seed {
    char host[HS_MAX_HOSTLEN];
    unsigned port;
    bool numeric;
    char canon[HS_ADDR_STRLEN]; /* numeric only */
} parsed_seed;

static hs_err parse_seed(hs_node *n, const char *s, parsed_seed *out)
{
    hs_sockaddr a;
    /* "srv+_service._proto.domain": SRV records give targets and ports
     * (resolve.h); kept whole, with port 0, as the resolver's name. */
    if (s && strncmp(s, HS_SRV_PREFIX, strlen(HS_SRV_PREFIX)) == 0) {
        const char *name = s + strlen(HS_SRV_PREFIX);
        if (strlen(s) >= sizeof out->host || !valid_dns_name(name))
            goto bad;
        memcpy(out->host, s, strlen(s) + 1);
        out->port = 0;
        out->numeric = false;
        return HS_OK;
    }
    if (!s ||
        hs__addr_split(s, out->host, sizeof out->host, &out->port) != HS_OK ||
        out->port == 0)
        goto bad;
    out->numeric = hs__addr_parse(s, &a) == HS_OK;
    if (out->numeric) {
        if (hs__addr_format((struct sockaddr *)&a.ss, out->canon,
                           sizeof out->canon) != HS_OK)
            goto bad;
        return HS_OK;
    }
    if (!valid_dns_name(out->host))
        goto bad;
    return HS_OK;
bad:
    hs__rt_log(n, HS_LOG_ERROR,
              "join: bad seed '%s': expected host:port, [ipv6]:port with "
              "a port of 1..65535, or srv+NAME for DNS SRV records",
              s ? s : "(null)");
    return HS_EADDR;
}

static bool has_seed(const hs_node *n, const char *canon)
{
    for (unsigned i = 0; i < n->n_seeds; i++)
        if (strcmp(n->seeds[i], canon) == 0)
            return true;
    return false;
}

HS_EXPORT hs_err hs_node_join(hs_node *n, const char *const *seeds,
                              size_t n_seeds)
{
    if (!n || (!seeds && n_seeds))
        return HS_EINVAL;
    if (n_seeds > HS_MAX_SEEDS_TOTAL)
        return HS_EFULL;
    parsed_seed *ps = calloc(n_seeds ? n_seeds : 1, sizeof *ps);
    if (!ps)
        return HS_ENOMEM;
    hs_err err = HS_OK;
    for (size_t i = 0; i < n_seeds && err == HS_OK; i++)
        err = parse_seed(n, seeds[i], &ps[i]);
    if (err != HS_OK)
        goto out;
    /* Read before taking mu: the resolver's lock is never taken inside. */
    unsigned n_names = hs__resolver_count(n->resolver), add_numeric = 0;
    for (size_t i = 0; i < n_seeds; i++)
        add_numeric += ps[i].numeric;

    pthread_mutex_lock(&n->mu);
    if (n->state != HS_NODE_NEW && n->state != HS_NODE_RUNNING) {
        err = HS_ESTATE;
    } else if (n->n_seeds + add_numeric + n_names > HS_MAX_SEEDS_TOTAL) {
        hs__rt_log(n, HS_LOG_ERROR, "join: more than %d seeds",
                  HS_MAX_SEEDS_TOTAL);
        err = HS_EFULL;
    } else if (!n->seeds &&
               !(n->seeds = calloc(HS_MAX_SEEDS_TOTAL, sizeof *n->seeds))) {
        err = HS_ENOMEM;
    } else {
        for (size_t i = 0; i < n_seeds; i++) {
            if (!ps[i].numeric || has_seed(n, ps[i].canon))
                continue;
            memcpy(n->seeds[n->n_seeds++], ps[i].canon, sizeof ps[i].canon);
            hs_err serr = n->core ? hs__core_add_seed(n->core, ps[i].canon)
                                  : HS_OK;
            if (serr != HS_OK)
                hs__rt_warn(n, HS_WARN_SEEDS, "join: seed %s: %s",
                           ps[i].canon, hs_strerror(serr));
        }
        /* Watch the join (loop.c); the loop arms the report timer. */
        if (n_seeds)
            n->join_wanted = true;
        hs__loop_wake(n);
    }
    unsigned room = HS_MAX_SEEDS_TOTAL - n->n_seeds;
    pthread_mutex_unlock(&n->mu);

    for (size_t i = 0; i < n_seeds && err == HS_OK; i++) {
        if (ps[i].numeric)
            continue;
        err = hs__resolver_add(n->resolver, ps[i].host, ps[i].port, room);
        if (err != HS_OK) {
            pthread_mutex_lock(&n->mu);
            hs__rt_log(n, HS_LOG_ERROR, "join: cannot add seed name %s: %s",
                      ps[i].host, hs_strerror(err));
            pthread_mutex_unlock(&n->mu);
        }
    }
out:
    free(ps);
    return err;
}

/* ---- Callbacks, statistics, identity ------------------------------------ */

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

HS_EXPORT hs_err hs_node_set_log_level(hs_node *n, hs_log_level level)
{
    if (!n || (int)level < HS_LOG_ERROR || level > HS_LOG_DEBUG)
        return HS_EINVAL;
    /* Read without the lock by every log line, so atomic, not under mu. */
    __atomic_store_n(&n->cfg.log_level, (int)level, __ATOMIC_RELAXED);
    return HS_OK;
}

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
