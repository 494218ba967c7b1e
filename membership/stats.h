/*
 * membership/stats.h — the counters behind the public statistics. Private:
 * the public header only names `hs_stats` (an opaque snapshot) and reads
 * it by name or position through the table in stats.c, so fields here may
 * be added, moved or resized without breaking any program.
 *
 * The core counts into this struct (hs_core_stats), the runtime adds its
 * own fields, and a snapshot handed to a caller is a heap copy of it.
 */
#ifndef HS_STATS_H
#define HS_STATS_H

#include <stdint.h>

#include "hearsay.h"

/* Counters of one node since it started. All monotonic except the gauges
 * (the table in stats.c says which). */
struct hs_stats {
    uint64_t msgs_sent[HS_MSG_TYPES];
    uint64_t bytes_sent[HS_MSG_TYPES];
    uint64_t msgs_recv[HS_MSG_TYPES];
    uint64_t bytes_recv[HS_MSG_TYPES];
    uint64_t rejected[HS_REASONS]; /* by -hs_err */
    uint64_t events[HS_EVENT_TYPES];
    uint64_t rounds;          /* gossip rounds started */
    uint64_t deltas_applied;  /* member deltas that advanced a member */
    uint64_t entries_applied; /* key/value entries applied */
    uint64_t deltas_gap;      /* deltas that could not be applied yet */
    uint64_t resets_sent;     /* from-scratch copies for peers behind GC */
    uint64_t truncated_msgs;  /* messages that had more to say than room */
    uint64_t pauses;          /* local pauses detected and forgiven */
    uint64_t sends_dropped;   /* outgoing queue full */
    uint64_t events_dropped;  /* event queue full */
    uint64_t tombstones_collected;
    uint64_t max_datagram_sent; /* gauge: largest datagram sent, bytes */
    /* Filled by the runtime (zero in the bare core): */
    uint64_t send_errors;    /* sendto() failures */
    uint64_t recv_errors;    /* recvfrom() failures */
    uint64_t resolve_errors; /* seed names that did not resolve */
    uint64_t round_us_sum;   /* time in ticks that ran a gossip round
                                (heartbeat and detector work of the
                                same tick included), us */
    uint64_t round_us_max;   /* gauge: slowest such tick, us */
    uint64_t callbacks_slow; /* user callbacks that took over 10 ms */
    /* Sealing (runtime). Datagrams the runtime refuses before the core
     * sees them are counted in rejected[] like the core's: ERATE
     * (per-source rate limit), ETOOBIG (over max-datagram), EPLAINTEXT
     * (plaintext with a keyring), EKEY, EAUTH, EREPLAY. */
    uint64_t keyring_keys;     /* gauge: keys in the keyring; 0 = plaintext */
    uint64_t datagrams_opened; /* sealed datagrams that authenticated */
    uint64_t replay_evicted_early; /* nonces forgotten before their window
                                      ran out (a flood filled the replay
                                      cache): replays of those datagrams
                                      could not have been detected */
    /* Protocol v2: */
    uint64_t view_matches;    /* exchanges whose views agreed on the members,
                                 so heartbeats went by position */
    uint64_t view_mismatches; /* ... that did not: digests by name */
    uint64_t convictions_followed; /* members declared dead on a peer's
                                      conviction (our detector leaning) */
    uint64_t refuted;              /* peers that held this node dead; it beat at
                                      once */
    uint64_t name_conflicts;       /* claims on this node's name by another live
                                      process: refuted, or yielded to */
    uint64_t alloc_failures;       /* allocations that failed and cost work no
                                      call could report: a round or an answer
                                      not sent, a delta or event dropped (also
                                      counted in rejected[] or *_dropped where
                                      they were before), and logged */
    /* User events and force-leave (see hs_node_user_event): */
    uint64_t user_events_sent;         /* accepted by hs_node_user_event() */
    uint64_t user_events_delivered;    /* from other members, reported here */
    uint64_t user_events_rate_limited; /* user events and force-leaves
                                          refused with HS_ERATE */
    uint64_t announcements_lost;       /* user events and force-leaves of other
                                          members never seen here (gaps in
                                          their numbers) */
    uint64_t force_leaves_sent;        /* by hs_node_force_leave() */
    uint64_t force_leaves_applied;     /* members marked left by a force-leave
                                          (this node's or a peer's) */
    /* Queries (see hs_node_query): */
    uint64_t queries_sent;             /* accepted by hs_node_query() */
    uint64_t queries_received;         /* of other members, passed here */
    uint64_t queries_filtered;         /* ... that this node's name or tags
                                          did not pass */
    uint64_t queries_rate_limited;     /* refused with HS_ERATE (also in
                                          user_events_rate_limited) */
    uint64_t query_acks_sent;          /* acks to other members' queries */
    uint64_t query_responses_sent;     /* responses to them */
    uint64_t query_acks_received;      /* distinct acks to own queries */
    uint64_t query_responses_received; /* distinct responses to them */
    uint64_t query_responses_late;     /* answers after a query's end
                                          (here or at its origin) */
    uint64_t query_responses_dropped;  /* duplicates, past the per-query
                                          bound or the queue's */
};

#endif /* HS_STATS_H */
