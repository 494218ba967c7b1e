/* The option and statistics tables of libhearsay 0.1 as released:
 * position, name and what a program built then relies on. Generated
 * from that library; never edited, only replaced by the next release's. */
static const struct released_option {
    const char *name;
    hs_option_type type;
    const char *dflt;
} released_options[] = {
    {"name", 0, NULL},
    {"cluster", 0, "default"},
    {"bind", 1, "127.0.0.1:7946"},
    {"advertise", 1, NULL},
    {"generation", 2, "0"},
    {"seed", 2, "0"},
    {"mode", 5, "push-pull"},
    {"gossip-interval", 3, "500ms"},
    {"heartbeat-interval", 3, "500ms"},
    {"fanout", 2, "1"},
    {"phi-threshold", 4, "8"},
    {"dead-after", 3, "500ms"},
    {"reap-dead-after", 3, "24h"},
    {"reap-left-after", 3, "1h"},
    {"tombstone-gc", 3, "30m"},
    {"max-datagram", 2, "1400"},
    {"max-members", 2, "16384"},
    {"max-keys", 2, "256"},
    {"resolve-interval", 3, "30s"},
    {"log-level", 5, "warn"},
    {"replay-window", 3, "1m"},
    {"replay-cache-size", 2, "16384"},
    {"max-source-rate", 2, "1000"},
    {"max-pending-sends", 2, "1024"},
};

static const struct released_stat {
    const char *name;
    hs_stat_kind kind;
    hs_stat_index index;
    size_t len;
} released_stats[] = {
    {"msgs_sent", 0, 1, 6},
    {"bytes_sent", 0, 1, 6},
    {"msgs_recv", 0, 1, 6},
    {"bytes_recv", 0, 1, 6},
    {"rejected", 0, 2, 24},
    {"events", 0, 3, 9},
    {"rounds", 0, 0, 1},
    {"deltas_applied", 0, 0, 1},
    {"entries_applied", 0, 0, 1},
    {"deltas_gap", 0, 0, 1},
    {"resets_sent", 0, 0, 1},
    {"truncated_msgs", 0, 0, 1},
    {"pauses", 0, 0, 1},
    {"sends_dropped", 0, 0, 1},
    {"events_dropped", 0, 0, 1},
    {"tombstones_collected", 0, 0, 1},
    {"max_datagram_sent", 1, 0, 1},
    {"send_errors", 0, 0, 1},
    {"recv_errors", 0, 0, 1},
    {"resolve_errors", 0, 0, 1},
    {"round_us_sum", 0, 0, 1},
    {"round_us_max", 1, 0, 1},
    {"callbacks_slow", 0, 0, 1},
    {"keyring_keys", 1, 0, 1},
    {"datagrams_opened", 0, 0, 1},
    {"replay_evicted_early", 0, 0, 1},
    {"view_matches", 0, 0, 1},
    {"view_mismatches", 0, 0, 1},
    {"convictions_followed", 0, 0, 1},
    {"refuted", 0, 0, 1},
    {"name_conflicts", 0, 0, 1},
};
