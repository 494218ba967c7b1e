/*
 * membership/config.h — the configuration behind the opaque public
 * hs_config. Private: programs set it option by option through the table
 * in config.c, so fields may be added or moved freely. node_config.c
 * translates it into the core's hs_core_config; guard.c and the loop's
 * files read the fields of the node's own copy (hs_node.cfg).
 */
#ifndef HS_CONFIG_H
#define HS_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "hearsay.h"

struct hs_config {
    /* Strings: owned by the configuration (config.c frees them). In a
     * node's copy they point at the node's own buffers instead. */
    char *name; /* NULL until set: required */
    char *cluster;
    char *bind;
    char *advertise; /* NULL: none */
    uint64_t generation;
    uint64_t seed;

    hs_gossip_mode mode;
    uint32_t gossip_interval_ms;
    uint32_t heartbeat_interval_ms;
    uint32_t fanout;
    double phi_threshold;
    uint32_t dead_after_ms;
    uint32_t reap_dead_after_ms;
    uint32_t reap_left_after_ms;
    uint32_t tombstone_gc_ms;
    size_t max_datagram;
    uint32_t max_members;
    uint32_t max_keys;
    uint32_t resolve_interval_ms;

    hs_log_cb log_cb;
    void *log_arg;
    int log_level; /* an hs_log_level; int for node_log.c's atomic store */

    /* Sealing and admission (guard.c). keys: n_keys copies, owned; a
     * node's copy has keys NULL once the keyring holds them. */
    char **keys;
    size_t n_keys;
    uint32_t replay_window_ms;
    uint32_t replay_cache_size;
    uint32_t max_datagrams_per_sec_per_source;
    uint32_t max_pending_sends;
};

#endif /* HS_CONFIG_H */
