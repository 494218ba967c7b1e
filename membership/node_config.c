/*
 * node_config.c — the node's configuration translated into the core's:
 * the node's own copies of the strings, the defaults only the runtime
 * knows (a wall-clock generation, a seed from the OS), the room sealing
 * takes out of each datagram, and the timing allowances scaled to the
 * configured intervals. The options themselves are in config.c.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "membership/node_impl.h"

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

hs_err hs__node_configure(hs_node *n, const hs_config *cfg)
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
