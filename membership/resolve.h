/*
 * membership/resolve.h — seed names resolved off the loop. Private.
 *
 * A seed given as a DNS name ("hearsay.ns.svc.cluster.local:7946", a
 * Kubernetes headless service) is resolved by a small thread, never on the
 * loop, and re-resolved every interval so the seed list follows the pods.
 * The resolver announces results with a callback the node gives it (which
 * wakes the node's loop); the node then collects them with
 * hs__resolver_collect() on its loop thread.
 *
 * A name written "srv+_hearsay._udp.example.com" is looked up as DNS SRV
 * records (RFC 2782): every target, with the port its record gives, in
 * priority order (weights are ignored: every target becomes a seed, and
 * the core already spreads its contacts at random).
 */
#ifndef HS_RESOLVE_H
#define HS_RESOLVE_H

#include <stdint.h>

#include "membership/addr.h"

/* Addresses kept per name: more pods than this are not needed as seeds
 * (the core keeps at most 64 seeds in all, and one live seed suffices). */
#define HS_RESOLVE_MAX_ADDRS 16

/* How a seed names DNS SRV records instead of a host (see above). */
#define HS_SRV_PREFIX "srv+"

typedef struct hs_resolver hs_resolver;

/* What one name resolved to, as of the last attempt. */
typedef struct hs_resolved {
    /* "name" with a port, or "srv+_service._proto.name" with port 0: a
     * DNS SRV name, whose records give each target's port. */
    const char *host;
    unsigned port;
    /* The last successful answer; kept across failed attempts, so a DNS
     * hiccup does not empty the seed list. */
    char (*addrs)[HS_ADDR_STRLEN];
    unsigned n_addrs;
    unsigned attempts; /* resolutions finished so far */
    int error;         /* getaddrinfo() code of the last attempt, 0 = ok */
    const char *error_text;
    bool fresh; /* attempts changed since the last collect */
} hs_resolved;

hs_err hs__resolver_new(hs_resolver **out);

/* Starts resolving: results are announced with announce(arg), from the
 * resolver's thread with its lock held (so announce must only wake a
 * loop, as ev_async_send() does). `family` filters answers (AF_INET for an IPv4
 * socket; AF_UNSPEC for a dual-stack IPv6 one). interval_ms == 0 resolves
 * each name once. The thread is started when the first name is known. */
hs_err hs__resolver_start(hs_resolver *r, void (*announce)(void *arg),
                          void *arg, int family, uint32_t interval_ms);

/* Adds a name (deduplicated) and has it resolved at once. HS_EFULL past
 * max_names, HS_ENOMEM, HS_EIO if the thread could not be created. */
hs_err hs__resolver_add(hs_resolver *r, const char *host, unsigned port,
                        unsigned max_names);

/* Has every name resolved again now, without waiting for the interval
 * (a join round that reached nobody, or the node is alone: its seeds may
 * have moved). No-op before start or when there are no names. Never with
 * the node's lock held. */
void hs__resolver_refresh(hs_resolver *r);

/* Number of names added. */
unsigned hs__resolver_count(hs_resolver *r);

/* Calls fn once with every name's current result, under the resolver's
 * lock (fn must not call back into the resolver), and clears `fresh`. */
void hs__resolver_collect(hs_resolver *r,
                          void (*fn)(void *arg, const hs_resolved *names,
                                     unsigned n),
                          void *arg);

/* Stops announcing: after this returns the thread never calls announce
 * again. An idle thread is joined; one blocked in getaddrinfo() is
 * left to finish on its own and frees what it shares when it does, so
 * stopping a node never waits for a DNS timeout. Idempotent. */
void hs__resolver_stop(hs_resolver *r);

/* Stops and drops the caller's reference. */
void hs__resolver_free(hs_resolver *r);

#endif /* HS_RESOLVE_H */
