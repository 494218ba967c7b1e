/*
 * fast_config.h — the configuration the runtime tests give a node on
 * loopback: the name and cluster given, any port on 127.0.0.1, gossip and
 * heartbeats every 100 ms, dead 500 ms after suspicion, a fixed PRNG
 * seed. Shared by test_node (node_cluster.c), test_node_announce and
 * test_node_query so the three clusters behave alike.
 */
#ifndef HS_TEST_FAST_CONFIG_H
#define HS_TEST_FAST_CONFIG_H

#include <stdint.h>

#include "hearsay.h"

/* A new config (the caller frees it); asserts every setter succeeded. */
hs_config *fast_config(const char *name, const char *cluster, uint64_t seed);

#endif
