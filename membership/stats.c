/*
 * stats.c — the statistics table: every counter of a node by name, kind,
 * index meaning and length, and the snapshot functions that read the
 * private struct hs_stats (stats.h) through it.
 *
 * Why a table and not a public struct: a struct the caller allocates
 * fixes every offset at compile time, and an array in the middle of it
 * ("rejected", one slot per error code) moves every later field when a
 * code is appended. Read by name or by table position, a counter can be
 * added, or an array lengthened, without an old program noticing. Rows
 * are only ever appended, so positions stay stable too.
 */
#include <stdlib.h>
#include <string.h>

#include "membership/stats.h"

typedef struct stat_row {
    hs_stat_info pub;
    size_t off; /* of the first value in struct hs_stats */
} stat_row;

#define LEN(field) (sizeof(((struct hs_stats *)0)->field) / sizeof(uint64_t))
#define ROW(field, kind, index, unit, help)                                    \
    {                                                                          \
        {#field, kind, index, LEN(field), unit, help},                         \
            offsetof(struct hs_stats, field)                                   \
    }
#define C HS_STAT_COUNTER
#define G HS_STAT_GAUGE
#define S HS_STAT_SCALAR

static const stat_row rows[] = {
    ROW(msgs_sent, C, HS_STAT_BY_MSG, "", "gossip messages sent, by type"),
    ROW(bytes_sent, C, HS_STAT_BY_MSG, "bytes",
        "bytes of gossip messages sent, by type"),
    ROW(msgs_recv, C, HS_STAT_BY_MSG, "", "gossip messages received, by type"),
    ROW(bytes_recv, C, HS_STAT_BY_MSG, "bytes",
        "bytes of gossip messages received, by type"),
    ROW(rejected, C, HS_STAT_BY_REASON, "",
        "datagrams or deltas dropped, by reason (-hs_err)"),
    ROW(events, C, HS_STAT_BY_EVENT, "", "events reported, by type"),
    ROW(rounds, C, S, "", "gossip rounds started"),
    ROW(deltas_applied, C, S, "", "member deltas that advanced a member"),
    ROW(entries_applied, C, S, "", "key/value entries applied from deltas"),
    ROW(deltas_gap, C, S, "", "deltas that could not be applied yet (gap)"),
    ROW(resets_sent, C, S, "", "from-scratch copies for peers behind GC"),
    ROW(truncated_msgs, C, S, "", "messages that had more to say than room"),
    ROW(pauses, C, S, "", "local pauses detected and forgiven"),
    ROW(sends_dropped, C, S, "", "outgoing datagrams dropped: queue full"),
    ROW(events_dropped, C, S, "", "events dropped: queue full"),
    ROW(tombstones_collected, C, S, "", "deleted-key tombstones collected"),
    ROW(max_datagram_sent, G, S, "bytes", "largest datagram sent"),
    ROW(send_errors, C, S, "", "sendto() failures"),
    ROW(recv_errors, C, S, "", "recvfrom() failures"),
    ROW(resolve_errors, C, S, "", "seed names that did not resolve"),
    ROW(round_us_sum, C, S, "us",
        "time in ticks that ran a gossip round, heartbeat and detector "
        "work included"),
    ROW(round_us_max, G, S, "us", "slowest such tick"),
    ROW(callbacks_slow, C, S, "", "event callbacks that took over 10 ms"),
    ROW(keyring_keys, G, S, "", "keys in the keyring; 0: plaintext"),
    ROW(datagrams_opened, C, S, "", "sealed datagrams that authenticated"),
    ROW(replay_evicted_early, C, S, "",
        "nonces forgotten before their replay window ran out"),
    ROW(view_matches, C, S, "",
        "exchanges whose views agreed, so heartbeats went by position"),
    ROW(view_mismatches, C, S, "", "exchanges whose views did not agree"),
    ROW(convictions_followed, C, S, "",
        "members declared dead on a peer's conviction"),
    ROW(refuted, C, S, "", "peers that held this node dead; it beat at once"),
    ROW(name_conflicts, C, S, "",
        "claims on this node's name by another live process"),
    ROW(alloc_failures, C, S, "",
        "allocations that failed and cost a round, an answer, a delta or "
        "an event"),
    ROW(user_events_sent, C, S, "", "user events this node sent"),
    ROW(user_events_delivered, C, S, "",
        "user events of other members delivered here"),
    ROW(user_events_rate_limited, C, S, "",
        "user events and force-leaves refused over the rate limit"),
    ROW(announcements_lost, C, S, "",
        "user events and force-leaves of other members never seen here"),
    ROW(force_leaves_sent, C, S, "", "force-leaves this node announced"),
    ROW(force_leaves_applied, C, S, "",
        "members marked left here by a force-leave"),
    ROW(queries_sent, C, S, "", "queries this node sent"),
    ROW(queries_received, C, S, "",
        "queries of other members that this node passed the filters of"),
    ROW(queries_filtered, C, S, "",
        "queries of other members whose filters this node did not pass"),
    ROW(queries_rate_limited, C, S, "",
        "queries refused over the announcement rate limit"),
    ROW(query_acks_sent, C, S, "", "acks sent to other members' queries"),
    ROW(query_responses_sent, C, S, "",
        "responses sent to other members' queries"),
    ROW(query_acks_received, C, S, "", "distinct acks to this node's queries"),
    ROW(query_responses_received, C, S, "",
        "distinct responses to this node's queries"),
    ROW(query_responses_late, C, S, "",
        "query answers after the query's end, dropped"),
    ROW(query_responses_dropped, C, S, "",
        "query answers dropped: duplicates, or past a bound"),
};
#define N_ROWS (sizeof rows / sizeof *rows)

#undef LEN
#undef ROW
#undef C
#undef G
#undef S

/* Every counter is in the table: a field added to struct hs_stats without
 * a row would be invisible to every program (test_config compares
 * hs__stats_values_total() with the struct's size). */
_Static_assert(sizeof(struct hs_stats) % sizeof(uint64_t) == 0,
               "hs_stats holds uint64_t values only");

HS_EXPORT size_t hs_stat_count(void)
{
    return N_ROWS;
}

HS_EXPORT const hs_stat_info *hs_stat_at(size_t i)
{
    return i < N_ROWS ? &rows[i].pub : NULL;
}

static ssize_t find_row(const char *name)
{
    if (!name)
        return -1;
    for (size_t i = 0; i < N_ROWS; i++)
        if (strcmp(rows[i].pub.name, name) == 0)
            return (ssize_t)i;
    return -1;
}

HS_EXPORT const hs_stat_info *hs_stat_find(const char *name)
{
    ssize_t i = find_row(name);
    return i < 0 ? NULL : &rows[i].pub;
}

size_t hs__stats_values_total(void);
size_t hs__stats_values_total(void)
{
    size_t n = 0;
    for (size_t i = 0; i < N_ROWS; i++)
        n += rows[i].pub.len;
    return n;
}

HS_EXPORT uint64_t hs_stats_value(const hs_stats *st, size_t stat, size_t index)
{
    if (!st || stat >= N_ROWS || index >= rows[stat].pub.len)
        return 0;
    uint64_t v;
    memcpy(&v, (const char *)st + rows[stat].off + index * sizeof v, sizeof v);
    return v;
}

HS_EXPORT hs_err hs_stats_get(const hs_stats *st, const char *name,
                              size_t index, uint64_t *out)
{
    if (!st || !out)
        return HS_EINVAL;
    ssize_t i = find_row(name);
    if (i < 0)
        return HS_ENOTFOUND;
    if (index >= rows[i].pub.len)
        return HS_EINVAL;
    *out = hs_stats_value(st, (size_t)i, index);
    return HS_OK;
}

HS_EXPORT void hs_stats_free(hs_stats *st)
{
    free(st);
}
