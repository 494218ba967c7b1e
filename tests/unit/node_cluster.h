/*
 * node_cluster.h — the harness of the runtime's tests (test_node.c,
 * test_node_thread.c): a cluster of real nodes on real loopback sockets,
 * embedded on one virtual loop (vloop.h), on a libev loop the test runs,
 * or each on its own thread; their events and log lines recorded; and
 * run_until(), the bounded wait every test goes through.
 */
#ifndef HS_TEST_NODE_CLUSTER_H
#define HS_TEST_NODE_CLUSTER_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <ev.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hearsay.h"
#include "vloop.h"

#define MAX_NODES 6
#define MAX_EVENTS 1024

/* Generous for a loaded CI machine under sanitizers; converging takes a
 * few hundred ms and detection about one second when all is well. On the
 * virtual loop this is virtual time, which costs only the work done. */
#define WAIT_MS 15000

/* Options set by name: a typo in a test is a failed assert, not a
 * silently ignored knob. */
#define SET_STR(cfg, opt, v)                                                   \
    assert_int_equal(hs_config_set_str(cfg, opt, v), HS_OK)
#define SET_UINT(cfg, opt, v)                                                  \
    assert_int_equal(hs_config_set_uint(cfg, opt, v), HS_OK)

typedef struct rec_event {
    hs_event_type type;
    char name[129];
    char key[129];
    uint64_t generation;
    int deleted;
    int local;
} rec_event;

typedef struct recorder {
    pthread_mutex_t mu; /* callbacks may run on the nodes' own threads */
    rec_event ev[MAX_EVENTS];
    size_t n;
    int bad; /* events that broke the contract (checked on the main thread) */
} recorder;

typedef struct logbuf {
    pthread_mutex_t mu;
    char text[8192];
    int lines;
} logbuf;

/* Where a cluster's nodes run. */
typedef enum loop_mode {
    ON_VLOOP = 0, /* embedded, on a virtual loop and clock */
    ON_LIBEV = 1, /* embedded, on a libev loop the test runs */
    ON_THREAD = 2 /* own-thread mode: each node on a libev loop of its own */
} loop_mode;

typedef struct cluster {
    loop_mode mode;
    vloop *vl;            /* ON_VLOOP */
    struct ev_loop *loop; /* ON_LIBEV */
    char cluster_name[32];
    int n;
    hs_node *nodes[MAX_NODES];
    char addr[MAX_NODES][HS_ADDRSTRLEN];
    char names[MAX_NODES][16];
    recorder rec[MAX_NODES];
    logbuf log;
    hs_config *configs[64]; /* made by test_config, freed with the cluster */
    unsigned n_configs;
} cluster;

typedef struct pred_call {
    cluster *c;
    bool (*pred)(cluster *, void *);
    void *arg;
} pred_call;

typedef struct tag_probe {
    const char *member, *key, *value; /* value NULL: must be absent */
} tag_probe;

typedef struct state_probe {
    const char *member;
    int state;
    int observers[MAX_NODES + 1]; /* -1 terminated */
} state_probe;

void record(hs_node *node, const hs_event *ev, void *arg);
int count_events(recorder *r, hs_event_type type, const char *name);
bool log_has(logbuf *b, const char *needle);
void test_config(cluster *c, hs_config **out, int i);
uint64_t stat_of(hs_node *n, const char *name, size_t i);
cluster *cluster_new(const char *name, loop_mode mode);
hs_err node_new(cluster *c, const hs_config *cfg, hs_node **out);
uint64_t cluster_now(cluster *c);
void node_up(cluster *c, int i, hs_config *cfg);
cluster *cluster_up(const char *name, int n, loop_mode mode);
void cluster_free(cluster *c);
bool run_until(cluster *c, bool (*pred)(cluster *, void *), void *arg,
               uint64_t timeout_ms);
bool never(cluster *c, void *arg);
void run_for(cluster *c, uint64_t ms);
int state_of(cluster *c, int i, const char *name, uint64_t *gen);
bool all_alive(cluster *c, void *arg);
void assert_converges(cluster *c);
bool tag_everywhere(cluster *c, void *arg);
bool seen_as(cluster *c, void *arg);

#endif /* HS_TEST_NODE_CLUSTER_H */
