/*
 * hearsay.h — the public API of libhearsay, and the only installed header.
 *
 * hearsay is a failure-detection and cluster-membership library: members
 * gossip versioned key/value state (scuttlebutt reconciliation), heartbeats
 * ride on that state, and a phi-accrual detector turns heartbeat staleness
 * into suspicion.
 *
 * Conventions used by every declaration below:
 *   - Functions return an hs_err: HS_OK (0) on success, a negative code on
 *     failure. Results come back through out-parameters.
 *   - hs_strerror() turns any code into a static, human-readable string.
 *   - Nothing in this header exposes protobuf-c, libev or internal structs.
 *
 * The ABI promise: a program built against this header keeps working with
 * a later 0.x library. What makes it true:
 *   - Configuration and statistics are opaque and addressed by name or by
 *     a stable position in a table (hs_option_at, hs_stat_at): options
 *     and counters are added without any layout changing.
 *   - Structs the library hands out by pointer, one at a time (hs_event,
 *     hs_member_list, hs_option, hs_stat_info), only ever grow at the end.
 *   - Structs a program allocates (hs_join_status, hs_key_info arrays) or
 *     indexes as arrays (hs_member, hs_tag) never change size or layout;
 *     what they lack comes by new functions.
 *   - Enum values, error codes and constants keep their values; new ones
 *     are appended.
 * tests/abi holds this header as released and checks each rule against
 * the current one, and a program built against it against the current
 * shared library.
 */
#ifndef HEARSAY_H
#define HEARSAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define HS_EXPORT __attribute__((visibility("default")))
#else
#define HS_EXPORT
#endif

#define HS_VERSION_MAJOR 0
#define HS_VERSION_MINOR 1
#define HS_VERSION_PATCH 0
/* Monotonic integer form, for #if comparisons: 0x00MMmmpp. */
#define HS_VERSION_HEX                                                         \
    ((HS_VERSION_MAJOR << 16) | (HS_VERSION_MINOR << 8) | HS_VERSION_PATCH)

/*
 * Error codes. One enum for the whole library, including the reasons a
 * datagram is rejected, so metrics can count rejections by these names.
 * Values are stable once released: new codes are only ever appended.
 *
 * XX(NAME, value, "message")
 */
#define HS_ERRNO_MAP(XX)                                                       \
    XX(OK, 0, "success")                                                       \
    XX(ENOMEM, -1, "out of memory")                                            \
    XX(EINVAL, -2, "invalid argument")                                         \
    XX(ETRUNCATED, -3, "message truncated")                                    \
    XX(EMAGIC, -4, "bad magic: not a hearsay message")                         \
    XX(EVERSION, -5, "unsupported protocol version")                           \
    XX(ETOOBIG, -6, "exceeds a size or count limit")                           \
    XX(ECLUSTER, -7, "message for another cluster")                            \
    XX(EMALFORMED, -8, "malformed message")                                    \
    XX(ENOSPC, -9, "does not fit in the buffer")                               \
    XX(ESEALED, -10, "sealed message but no key configured")                   \
    XX(EAUTH, -11, "authentication failed")                                    \
    XX(ENOTFOUND, -12, "not found")                                            \
    XX(ESTATE, -13, "operation not valid in the current state")                \
    XX(ESELF, -14, "message claims to come from this node")                    \
    XX(ESTALE, -15, "stale: older generation or removed member")               \
    XX(EFULL, -16, "member or key limit reached")                              \
    XX(ERESERVED, -17, "key name is reserved")                                 \
    XX(EIO, -18, "I/O error")                                                  \
    XX(EADDR, -19, "bad or unresolvable address")                              \
    XX(EREPLAY, -20, "replayed, or outside the replay window")                 \
    XX(EKEY, -21, "sealed with a key not in the keyring")                      \
    XX(ERATE, -22, "over a rate limit (datagrams per source, announcements)")  \
    XX(EPLAINTEXT, -23, "plaintext message but a keyring is configured")

typedef enum hs_err {
#define HS_ERR_ENUM_(name, val, msg) HS_##name = (val),
    HS_ERRNO_MAP(HS_ERR_ENUM_)
#undef HS_ERR_ENUM_
    /* One below the lowest code; not an error. Derived from the map (codes
     * are 0, -1, -2, ... without gaps; errors.c asserts it), so appending a
     * code moves it along. */
    HS_ERR_LAST_ = -(int)(0
#define HS_ERR_COUNT_(name, val, msg) +1
                          HS_ERRNO_MAP(HS_ERR_COUNT_)
#undef HS_ERR_COUNT_
                              )
} hs_err;

/* A static string describing err. Never NULL, never to be freed; unknown
 * codes give "unknown error". Safe from any thread. */
HS_EXPORT const char *hs_strerror(int err);

/* The short symbolic name of err ("ETRUNCATED"), for logs and metric labels.
 * Never NULL; unknown codes give "EUNKNOWN". Safe from any thread. */
HS_EXPORT const char *hs_err_name(int err);

/* The library's version as "MAJOR.MINOR.PATCH" (static string) and as
 * HS_VERSION_HEX. These may differ from the macros when a program runs
 * against a newer shared library than it was compiled with. */
HS_EXPORT const char *hs_version_string(void);
HS_EXPORT unsigned hs_version(void);

/* ======================================================================== */
/* Members, events, statistics                                              */
/* ======================================================================== */

struct ev_loop; /* libev's loop; this header does not include ev.h */

/* One cluster member: this process's membership in one cluster. Opaque. */
typedef struct hs_node hs_node;

/* A member's state as this node sees it. */
typedef enum hs_member_state {
    HS_STATE_ALIVE = 0,   /* heartbeats arrive as expected */
    HS_STATE_SUSPECT = 1, /* phi crossed the threshold */
    HS_STATE_DEAD = 2,    /* suspect for longer than dead-after */
    HS_STATE_LEFT = 3     /* announced a graceful leave */
} hs_member_state;

/* "alive", "suspect", "dead", "left"; "unknown" otherwise. */
HS_EXPORT const char *hs_member_state_name(hs_member_state s);

/* What happened to a member. Each is reported once per transition, never
 * per heartbeat. */
typedef enum hs_event_type {
    HS_EVENT_JOIN = 0,    /* a member appeared (or came back after a reap) */
    HS_EVENT_UPDATE = 1,  /* one of its keys changed (or was deleted) */
    HS_EVENT_SUSPECT = 2, /* phi crossed the threshold */
    HS_EVENT_RECOVER = 3, /* a suspect or dead member's heartbeat rose again */
    HS_EVENT_FAIL = 4,    /* suspect for longer than dead-after: dead */
    HS_EVENT_LEAVE = 5,   /* it left gracefully */
    HS_EVENT_RESTART = 6, /* a higher generation replaced the old one */
    HS_EVENT_REAP = 7,    /* a dead or left member was forgotten */
    /* Another process claims this node's name. About this node itself;
     * `generation` is the claimant's. state ALIVE: this node refuted the
     * claim (took a higher generation) and keeps the name. state LEFT: a
     * live member already held the name when this node joined; this node
     * yielded and gossips no more (hearsayd exits with status 2). */
    HS_EVENT_CONFLICT = 8,
    /* A user event (hs_node_user_event()) from member `name`, the origin:
     * once per event at every member that knew the origin when the event
     * was sent, the origin included (with `local` set). The user_* fields
     * of hs_event carry it. */
    HS_EVENT_USER = 9,
    /* A query (hs_node_query()) from member `name`, the origin, that this
     * node passes the filters of: once per query, the origin included
     * (`local` set). user_name and user_payload carry the query's name and
     * payload, query_id the handle to answer it with (hs_node_respond()). */
    HS_EVENT_QUERY = 10
} hs_event_type;
#define HS_EVENT_TYPES 11

/* "join", "update", "suspect", "recover", "fail", "leave", "restart",
 * "reap", "conflict", "user", "query"; "unknown" otherwise. Static; any thread.
 */
HS_EXPORT const char *hs_event_type_name(hs_event_type t);

/* Message types on the wire, for statistics: index 1..5 are syn, synack,
 * ack, push, leave (hs_msg_type_name); index 0 is unused. */
#define HS_MSG_TYPES 6
/* "syn", "synack", "ack", "push", "leave"; "unknown" otherwise. Static;
 * any thread. */
HS_EXPORT const char *hs_msg_type_name(int type);

/* Rejection reasons are hs_err codes: index -err of the statistic
 * "rejected" counts datagrams or deltas dropped for reason err
 * (HS_ETRUNCATED, HS_ECLUSTER, ...). The array's length at run time is
 * hs_stat_info.len (a newer library may know more reasons than this
 * header); HS_REASONS is this header's count. */
#define HS_REASONS (-HS_ERR_LAST_)

/* ---- Limits ---------------------------------------------------------------
 * Sizes the library enforces (docs/protocol.md). Names and keys are
 * printable ASCII without spaces; the constants count bytes, without the
 * NUL. */
#define HS_NAME_MAX 128       /* member and cluster names */
#define HS_KEY_MAX 128        /* a key ("tag") name */
#define HS_VALUE_MAX 1024     /* a key's value */
#define HS_KEY_RESERVED "hs." /* key names starting so are the library's */
#define HS_DATAGRAM_MIN 512   /* smallest max-datagram accepted */
#define HS_DATAGRAM_MAX 65507 /* largest: a UDP/IPv4 payload */
#define HS_SEEDS_MAX 64       /* seeds per node, addresses and names */
#define HS_CALLBACKS_MAX 16   /* event callbacks per node */

/* ---- Statistics -----------------------------------------------------------
 *
 * A node's counters are read by name or by a stable index, never by a
 * struct layout, so a library with more counters (or longer arrays) than
 * the header a program was built with still gives that program the ones
 * it knows. Each statistic is a scalar or an array of `len` values
 * addressed by (name, index); see hs_stat_info. Indices into the table
 * (hs_stat_at) never change meaning: new statistics are appended.
 *
 *   uint64_t rounds;
 *   hs_node_stat(node, "rounds", 0, &rounds);
 *
 *   hs_stats *st;                       (many values under one lock)
 *   hs_node_stats(node, &st);
 *   hs_stats_get(st, "msgs_sent", 1, &syns);
 *   hs_stats_free(st);
 */

/* What a statistic's value is. */
typedef enum hs_stat_kind {
    HS_STAT_COUNTER = 0, /* monotonic since the node started */
    HS_STAT_GAUGE = 1    /* a level: may go down, or is a maximum */
} hs_stat_kind;

/* What an array statistic's index means. */
typedef enum hs_stat_index {
    HS_STAT_SCALAR = 0,    /* not an array: index 0 only */
    HS_STAT_BY_MSG = 1,    /* message type: hs_msg_type_name(i) */
    HS_STAT_BY_REASON = 2, /* -hs_err: hs_err_name(-i) */
    HS_STAT_BY_EVENT = 3   /* hs_event_type: hs_event_type_name(i) */
} hs_stat_index;

/* One statistic, as the library describes it. Owned by the library and
 * never freed; fields are only ever appended (a program only reads the
 * ones its header has, and never allocates this struct). */
typedef struct hs_stat_info {
    const char *name; /* "rounds", "msgs_sent", ... (snake_case) */
    hs_stat_kind kind;
    hs_stat_index index; /* what the index of an array means */
    size_t len;          /* values: 1 for a scalar */
    const char *unit;    /* "", "bytes" or "us" */
    const char *help;    /* one line */
} hs_stat_info;

/* How many statistics this library has; their descriptions by index
 * 0..count-1 (NULL past the end), or by name (NULL if unknown). Static
 * data: any thread, before or without a node. */
HS_EXPORT size_t hs_stat_count(void);
HS_EXPORT const hs_stat_info *hs_stat_at(size_t i);
HS_EXPORT const hs_stat_info *hs_stat_find(const char *name);

/* A snapshot of one node's counters, taken at once (under one lock).
 * Opaque; freed with hs_stats_free(). */
typedef struct hs_stats hs_stats;

/* Takes a snapshot of the node's counters (all zero before start except
 * the runtime's). The caller owns *out. HS_EINVAL, HS_ENOMEM. Safe from
 * any thread in own-thread mode. */
HS_EXPORT hs_err hs_node_stats(hs_node *node, hs_stats **out);
/* Frees a snapshot from hs_node_stats(). NULL is a no-op. */
HS_EXPORT void hs_stats_free(hs_stats *st);

/* Value `index` (0 for a scalar) of the statistic `name` in a snapshot.
 * HS_ENOTFOUND for a name this library does not have, HS_EINVAL for an
 * index past the statistic's len or a NULL argument. Any thread. */
HS_EXPORT hs_err hs_stats_get(const hs_stats *st, const char *name,
                              size_t index, uint64_t *out);
/* The same by the statistic's position in hs_stat_at(); 0 for a position
 * or index out of range. For loops over every statistic. */
HS_EXPORT uint64_t hs_stats_value(const hs_stats *st, size_t stat,
                                  size_t index);
/* One value read straight from the node: hs_node_stats() and
 * hs_stats_get() in one call, without the allocation. */
HS_EXPORT hs_err hs_node_stat(hs_node *node, const char *name, size_t index,
                              uint64_t *out);

/* ======================================================================== */
/* Nodes                                                                    */
/* ======================================================================== */

/* How a gossip round exchanges state (option "mode"). */
typedef enum hs_gossip_mode {
    HS_MODE_PUSH_PULL = 0, /* SYN -> SYN-ACK -> ACK (default) */
    HS_MODE_PULL = 1,      /* SYN(pull) -> SYN-ACK with deltas only */
    HS_MODE_PUSH = 2       /* unsolicited deltas of recent changes */
} hs_gossip_mode;

/* Log levels (option "log-level"): a line is passed on when its level is
 * at most the configured one. */
typedef enum hs_log_level {
    HS_LOG_ERROR = 0,
    HS_LOG_WARN = 1,
    HS_LOG_INFO = 2,
    HS_LOG_DEBUG = 3
} hs_log_level;

/* Log sink: called with one complete line (no newline) at `level`, in the
 * form "hearsay[NAME] LEVEL: message". Called on the node's loop thread,
 * and on the calling thread when an hs_node_* call fails (the line says
 * why). It may run while the node holds its internal lock, so it must not
 * call hs_node_* functions: it is a sink. The default (none) writes to
 * stderr; only levels up to "log-level" are passed on. `arg` is the one
 * given to hs_config_set_log(). */
typedef void (*hs_log_cb)(void *arg, hs_log_level level, const char *line);

/* ---- Configuration ----------------------------------------------------------
 *
 * A configuration is opaque and set option by option, by name, so that
 * options can be added without changing any layout a program was built
 * against (nng's way). Every option is described by one table in the
 * library (hs_option_at): its name, type, default, bounds and a line of
 * help; programs can list it to build their own flags or docs, as
 * hearsayd does. The options are (defaults in the table; docs/embedding.md
 * and docs/operations.md say more):
 *
 *   name                required: unique member name (HS_NAME_MAX)
 *   cluster             cluster name; other clusters' messages are dropped
 *   bind                numeric "ip:port" or "[ipv6]:port", port 0 for
 *                       any; "[::]" is dual-stack (takes IPv4 peers too)
 *   advertise           numeric "ip:port" peers use (port 0: the bound
 *                       port); unset: the bound address, or for a wildcard
 *                       bind the first address of an interface that is up
 *                       and not loopback (loopback, with a warning)
 *   generation          0: wall-clock ms at hs_node_new(). A clock stepped
 *                       back across a restart could then give a lower
 *                       generation than the last run's: a program that
 *                       must rule that out persists the last value and
 *                       sets max(now, last + 1) itself
 *   seed                PRNG seed; 0: from the OS
 *   mode                push-pull, pull or push (hs_gossip_mode)
 *   gossip-interval, heartbeat-interval (ms; heartbeat 0: none). The
 *                       detector's allowances and the local pause guard
 *                       are tuned for a 1 s rhythm and scaled by the
 *                       slower of the two / 1000
 *   fanout, phi-threshold (0 disables suspicion), dead-after,
 *   reap-dead-after, reap-left-after, tombstone-gc, max-datagram,
 *   max-members, max-keys, resolve-interval (0: resolve each name once),
 *   log-level, replay-window, replay-cache-size, max-source-rate,
 *   max-pending-sends   (see each option's help)
 *
 * Sealing: a configuration with keys (hs_config_set_keys) seals every
 * datagram; see there.
 */

/* Configuration of one node; opaque. */
typedef struct hs_config hs_config;

/* The type of an option's value. */
typedef enum hs_option_type {
    HS_OPT_STR = 0,    /* text */
    HS_OPT_ADDR = 1,   /* text: "host:port" or "[ipv6]:port" */
    HS_OPT_UINT = 2,   /* whole number */
    HS_OPT_MS = 3,     /* whole number of milliseconds (a duration) */
    HS_OPT_DOUBLE = 4, /* real number */
    HS_OPT_ENUM = 5    /* one of `choices`, stored as its index */
} hs_option_type;

/* One option, as the library describes it. Owned by the library, never
 * freed; fields are only ever appended (a program reads the ones its
 * header has and never allocates this struct). */
typedef struct hs_option {
    const char *name; /* "gossip-interval" (also hearsayd's flag) */
    hs_option_type type;
    const char *metavar; /* placeholder for usage text: "DUR", "N", ... */
    const char *help;    /* one line, no default in it */
    const char *dflt;    /* the default as hs_config_get_str() prints it;
                            NULL: none (unset) */
    uint64_t min, max;   /* UINT, MS, ENUM: accepted range */
    double min_double, max_double; /* DOUBLE: accepted range */
    const char *const *choices;    /* ENUM: names by value, NULL-ended */
} hs_option;

/* How many options there are; their descriptions by position (NULL past
 * the end) or by name (NULL if unknown). Positions are stable: new options
 * are appended. Static data: any thread. */
HS_EXPORT size_t hs_option_count(void);
HS_EXPORT const hs_option *hs_option_at(size_t i);
HS_EXPORT const hs_option *hs_option_find(const char *name);

/* A configuration with every option at its default (hs_option.dflt), no
 * keys and the default log sink. The caller owns *out and frees it with
 * hs_config_free(). HS_EINVAL (out NULL), HS_ENOMEM. Any thread. */
HS_EXPORT hs_err hs_config_new(hs_config **out);
/* A copy of cfg (options, keys and log sink). HS_EINVAL, HS_ENOMEM. */
HS_EXPORT hs_err hs_config_dup(const hs_config *cfg, hs_config **out);
/* Frees cfg, wiping the copies of its keys. NULL is a no-op. */
HS_EXPORT void hs_config_free(hs_config *cfg);

/* Sets option `name` from text, parsed by the option's type: STR and ADDR
 * as given (copied; NULL unsets an option without a default, e.g.
 * advertise), UINT as a decimal number, MS as a duration ("250ms", "2s",
 * "5m", "24h"; a bare number is ms), DOUBLE as a number, ENUM as one of
 * its choices. HS_ENOTFOUND for an unknown name; HS_EINVAL for text the
 * type does not accept or a value out of the option's range (the config
 * is unchanged then); HS_ENOMEM. */
HS_EXPORT hs_err hs_config_set_str(hs_config *cfg, const char *name,
                                   const char *value);
/* Sets a UINT, MS (in ms) or ENUM (by index) option. HS_ENOTFOUND,
 * HS_EINVAL (another type, or out of range). */
HS_EXPORT hs_err hs_config_set_uint(hs_config *cfg, const char *name,
                                    uint64_t value);
/* Sets a DOUBLE option. HS_ENOTFOUND, HS_EINVAL. */
HS_EXPORT hs_err hs_config_set_double(hs_config *cfg, const char *name,
                                      double value);

/* Parses a duration as MS options take it: "250ms", "1.5s", "5m", "24h";
 * a bare number is milliseconds. Rounded to the nearest ms into *ms.
 * HS_EINVAL for anything else (a sign, another unit, trailing text, over
 * 2^63 ms). For programs that read durations in the same form as the
 * library (hearsayd's own options do). Any thread. */
HS_EXPORT hs_err hs_duration_parse(const char *s, uint64_t *ms);

/* Writes option `name` as text into buf, in the form hs_config_set_str()
 * takes (durations in their largest exact unit: "500ms", "30s", "24h");
 * "" for an unset option. HS_ENOTFOUND, HS_ENOSPC if len is too small
 * (HS_NAME_MAX + 1 bytes always suffice), HS_EINVAL. */
HS_EXPORT hs_err hs_config_get_str(const hs_config *cfg, const char *name,
                                   char *buf, size_t len);
/* Reads a UINT, MS or ENUM option. HS_ENOTFOUND, HS_EINVAL (type). */
HS_EXPORT hs_err hs_config_get_uint(const hs_config *cfg, const char *name,
                                    uint64_t *out);
/* Reads a DOUBLE option. HS_ENOTFOUND, HS_EINVAL (type). */
HS_EXPORT hs_err hs_config_get_double(const hs_config *cfg, const char *name,
                                      double *out);

/* Sets the log sink (NULL: stderr) and the argument passed to it. */
HS_EXPORT hs_err hs_config_set_log(hs_config *cfg, hs_log_cb cb, void *arg);

/* Encryption and admission (docs/security.md). Sets n_keys keys as
 * base64 text (32 random bytes each, as hs_key_generate() and `hearsay
 * keygen` make them), up to HS_KEYS_MAX, replacing earlier ones; n_keys 0
 * clears them. keys[0] is the primary: every datagram is sealed with it
 * (XChaCha20-Poly1305, the cluster name bound as associated data); a
 * datagram sealed with any of the keys is accepted. With keys, plaintext
 * datagrams are refused (EPLAINTEXT); without, gossip is plaintext and
 * sealed datagrams are refused (ESEALED). The choice is made here, once:
 * keys can be rotated later (hs_node_key_add/use/remove) but a plaintext
 * node cannot start sealing. The strings are copied (and the copies wiped
 * when freed); a malformed key is reported by hs_node_new() (HS_EINVAL).
 * Sealing adds HS_SEAL_BYTES to every datagram, so max-datagram must then
 * be at least HS_DATAGRAM_MIN + HS_SEAL_BYTES. A sealed datagram carries
 * its sender's wall-clock time: one stamped more than replay-window away
 * from this node's clock is refused as a replay (EREPLAY), and so is one
 * whose nonce was already seen within the window (up to replay-cache-size
 * nonces are remembered; more are counted in replay_evicted_early).
 * HS_EINVAL (more than HS_KEYS_MAX, or a NULL key), HS_ENOMEM. */
HS_EXPORT hs_err hs_config_set_keys(hs_config *cfg, const char *const *keys,
                                    size_t n_keys);

/* Creates a node from cfg (copied: the caller may free cfg at once).
 * `loop` is the libev loop it will run on: every call on the
 * node must then come from that loop's thread, and callbacks run there. With
 * loop == NULL the node gets its own loop and thread (started by
 * hs_node_start()): every function may then be called from any thread and
 * callbacks run on the node's thread. Nothing touches the network yet; the
 * generation is fixed here. The caller owns *out and frees it with
 * hs_node_free(). HS_EINVAL (bad config, reported in the log), HS_ENOMEM. */
HS_EXPORT hs_err hs_node_new(const hs_config *cfg, struct ev_loop *loop,
                             hs_node **out);

/* Binds the gossip socket and starts gossiping (and, with loop == NULL,
 * the node's thread). Keys set and seeds joined before take effect now.
 * HS_EADDR (bind or advertise address not numeric, or not local),
 * HS_EIO (bind failed, e.g. in use: the log says why), HS_ETOOBIG (a key
 * set before start does not fit max-datagram), HS_ENOMEM (also: the own
 * thread could not be created), HS_ESTATE (already started or stopped).
 * A failed start leaves the node as it was, keys set and seeds joined
 * before it included: it may be started again. */
HS_EXPORT hs_err hs_node_start(hs_node *node);

/* Adds seeds ("host:port"; host may be an IP literal, "[ipv6]", or a DNS
 * name) and starts gossiping with them; before hs_node_start() they are
 * kept for it. DNS names are resolved on a separate thread, never on the
 * loop, and re-resolved every resolve-interval (and every 2 s while no
 * other member is alive or suspect), so a Kubernetes headless service
 * works as a seed list; a name that fails to resolve is logged, counted in
 * resolve_errors and keeps its previous addresses. "srv+NAME" (no port)
 * names DNS SRV records: each target is a seed at the port its record
 * gives ("srv+_gossip._udp.hearsay.ns.svc.cluster.local"). The strings
 * are copied. HS_EADDR if an entry is malformed (nothing is added then),
 * HS_EFULL past HS_SEEDS_MAX (64) seeds in all, HS_ESTATE after leave or stop.
 */
HS_EXPORT hs_err hs_node_join(hs_node *node, const char *const *seeds,
                              size_t n_seeds);

/* Sets or deletes one of this member's keys ("tags"); once started, each
 * success is reported to this node's own callbacks as an UPDATE with
 * `local` set (hs_event). Keys are 1..128
 * printable ASCII bytes without spaces (HS_KEY_MAX), not starting with
 * HS_KEY_RESERVED ("hs."); values up to HS_VALUE_MAX (1024) bytes (copied).
 * Before hs_node_start() keys are kept and written when it runs. HS_EINVAL,
 * HS_ERESERVED, HS_ETOOBIG, HS_EFULL, HS_ENOTFOUND (delete of an absent key),
 * HS_ESTATE (after leave or stop). */
HS_EXPORT hs_err hs_node_set(hs_node *node, const char *key, const void *value,
                             size_t len);
HS_EXPORT hs_err hs_node_del(hs_node *node, const char *key);

/* A key/value pair of a member. Indexed as an array (hs_member.tags): its
 * layout is frozen. */
typedef struct hs_tag {
    const char *key;
    const uint8_t *value; /* value_len bytes, then a NUL not counted in
                             value_len (so text prints as a string) */
    size_t value_len;
} hs_tag;

/* A snapshot of one member. Indexed as an array (hs_member_list.members):
 * its layout is frozen. */
typedef struct hs_member {
    const char *name;
    const char *addr;
    uint64_t generation;
    hs_member_state state;
    uint64_t heartbeat;
    double phi;            /* suspicion now; 0 for self, dead and left */
    uint64_t state_age_ms; /* time in the current state */
    bool is_self;          /* this node */
    size_t n_tags;
    const hs_tag *tags;
} hs_member;

/* A snapshot of several members; one allocation owned by the caller, freed
 * with hs_member_list_free(). */
typedef struct hs_member_list {
    size_t count;
    const hs_member *members; /* sorted by name */
} hs_member_list;

/* Every member this node knows (self included, reaped excluded). After
 * hs_node_stop() or a finished leave: the view as it was then.
 * HS_ESTATE before hs_node_start(), HS_ENOMEM. */
HS_EXPORT hs_err hs_node_members(hs_node *node, hs_member_list **out);
/* One member by name, as a list of one. HS_ENOTFOUND. */
HS_EXPORT hs_err hs_node_member(hs_node *node, const char *name,
                                hs_member_list **out);
/* Frees a list from hs_node_members() or hs_node_member(), with every
 * string and tag in it (one allocation). NULL is a no-op. Any thread. */
HS_EXPORT void hs_member_list_free(hs_member_list *list);

/* An event, valid only during the callback. Handed out by pointer: fields
 * may be appended. */
typedef struct hs_event {
    hs_event_type type;
    const char *name;
    const char *addr;
    uint64_t generation;
    hs_member_state state; /* the member's state after the event */
    const char *key;       /* UPDATE: the key; NULL otherwise */
    bool deleted;          /* UPDATE: the key was deleted */
    /* UPDATE of this node's own key by hs_node_set()/hs_node_del() on
     * this node: true. Peers learn the change by gossip and report it as
     * an ordinary UPDATE (local false); the node itself reports it once, right
     * after the call succeeded (dispatched from the loop, never from
     * inside the call). Keys set before hs_node_start() report nothing:
     * they are part of the member as it first appears. */
    bool local;
    /* USER and QUERY (NULL / 0 otherwise; user_ltime is 0 for a query).
     * The event's name (1..128 printable
     * bytes), its payload (user_payload_len bytes, up to 512, then a NUL
     * not counted, so text prints as a string) and its Lamport time: every
     * node's clock is raised past each event it sees and each event sent
     * takes the next tick, so an event sent after another was seen has a
     * larger ltime (concurrent ones may tie). `local` is 1 at the origin,
     * which reports its own event once, right after the call. */
    const char *user_name;
    const uint8_t *user_payload;
    size_t user_payload_len;
    uint64_t user_ltime;
    /* QUERY only (0 otherwise): this node's handle for the query, for
     * hs_node_respond(), and how long the origin waits for answers. */
    uint64_t query_id;
    uint32_t query_timeout_ms;
} hs_event;

/* An event callback (hs_node_on): `ev` and every string in it are valid
 * only during the call; `arg` is the one given with the callback. */
typedef void (*hs_event_cb)(hs_node *node, const hs_event *ev, void *arg);

/* Registers cb for the event types in `mask` (bit 1 << HS_EVENT_*; ~0u for
 * all). Up to HS_CALLBACKS_MAX (16) callbacks per node, never removed; register
 * them before hs_node_start() to see every event. Callbacks run on the node's
 * loop thread (its own thread with loop == NULL), one event at a time, without
 * any internal lock held and never from inside another hs_node_* call;
 * they may call any hs_node_* function except hs_node_free() (and a
 * blocking hs_node_leave(), see there). A callback slower than 10 ms holds
 * up gossip: it is counted in callbacks_slow and logged. HS_EFULL past 16,
 * HS_EINVAL if cb is NULL. */
HS_EXPORT hs_err hs_node_on(hs_node *node, unsigned mask, hs_event_cb cb,
                            void *arg);

/* Called once when an asynchronous operation (hs_node_leave) ends, with
 * its status; `arg` is the one given with it. */
typedef void (*hs_done_cb)(hs_node *node, hs_err status, void *arg);

/* Leaves the cluster gracefully: marks this member left, tells a few peers
 * at once and keeps gossiping for timeout_ms so the leave spreads, then
 * stops as hs_node_stop() does (the view stays queryable). `done` (may be
 * NULL) is called on the loop thread with HS_OK when that is over, or with
 * HS_ESTATE if the node is stopped first (then while hs_node_stop() or
 * hs_node_free() runs: it must not free the node). In own-thread mode with
 * done == NULL the call blocks until then and returns that status; from a
 * callback on the node's own thread it cannot wait for itself and returns
 * HS_ESTATE without leaving. On a caller's loop it never blocks.
 * HS_ESTATE if not started, already leaving or stopped. */
HS_EXPORT hs_err hs_node_leave(hs_node *node, uint32_t timeout_ms,
                               hs_done_cb done, void *arg);

/* Stops gossiping and closes the socket (no leave: peers will see a
 * failure). In own-thread mode also stops and joins the thread (when
 * called from a callback on that thread, hs_node_free() joins it). A leave
 * in progress ends: its done callback gets HS_ESTATE. Idempotent. */
HS_EXPORT hs_err hs_node_stop(hs_node *node);

/* Stops if needed and frees everything. Not from inside a callback; with a
 * caller's loop, on that loop's thread and before the loop is destroyed.
 * NULL is a no-op. */
HS_EXPORT void hs_node_free(hs_node *node);

/* Changes the level above which the node's log lines are dropped (as
 * option "log-level"), e.g. on a configuration reload. Takes effect for
 * the next line. HS_EINVAL for a level outside hs_log_level. Any thread. */
HS_EXPORT hs_err hs_node_set_log_level(hs_node *node, hs_log_level level);

/* Room for any gossip address this library formats ("ip:port",
 * "[ipv6%scope]:port": at most 64 characters) and its NUL. */
#define HS_ADDRSTRLEN 65

/* The address the gossip socket is bound to ("ip:port"; useful with port
 * 0) and the one advertised to peers. HS_ESTATE before start, HS_ENOSPC if
 * buf is too small (HS_ADDRSTRLEN bytes always suffice). */
HS_EXPORT hs_err hs_node_bound_addr(hs_node *node, char *buf, size_t len);
HS_EXPORT hs_err hs_node_advertised_addr(hs_node *node, char *buf, size_t len);

/* ---- Joining ------------------------------------------------------------- */

/* How joining through the seeds goes. A node with seeds has "joined" once
 * a peer has exchanged state with it (it received a SYN-ACK, an ACK or a
 * PUSH: gossip from a member of the same cluster, with the same keys).
 * Until then it keeps contacting the seeds every gossip round (the core's
 * own rule: a node that knows nobody gossips with a seed), and reports
 * failed rounds with a backoff: after 2 s (or four gossip intervals, if
 * longer), then twice as long each time up to every 60 s, each logged at
 * WARN with the reason and counted, and each also
 * re-resolving DNS seeds at once rather than at the next
 * resolve-interval. A node without seeds is never "failing": it may
 * be the first of its cluster. */
/* Allocated by the caller: the layout is frozen. */
typedef struct hs_join_status {
    unsigned seeds;           /* seeds given: addresses and DNS names */
    bool joined;              /* a peer has exchanged state with this node */
    uint64_t joined_after_ms; /* from hs_node_start() to that exchange */
    uint64_t failed_rounds;   /* rounds that reached no peer */
    char reason[200];         /* why the last round failed; "" if none */
} hs_join_status;

/* Fills *out (all zero before start). Any thread in own-thread mode. */
HS_EXPORT hs_err hs_node_join_status(hs_node *node, hs_join_status *out);

/* ---- Keys ---------------------------------------------------------------- */

/* Bytes sealing adds to a datagram: 4 key id + 24 nonce + 8 time stamp +
 * 16 authentication tag. */
#define HS_SEAL_BYTES 52

/* The most keys a node holds at once: more than a rotation needs (install
 * the new key, make it primary, remove the old: two at most). */
#define HS_KEYS_MAX 16
/* Room for a key as base64 text (44 characters) and its NUL. */
#define HS_KEY_TEXT_LEN 45
/* Room for a key id (8 hex digits) and its NUL. */
#define HS_KEY_ID_LEN 9

/* Writes a new random key (32 bytes from the OS's CSPRNG) as base64 text
 * into buf. HS_ENOSPC if cap < HS_KEY_TEXT_LEN, HS_EIO if libsodium cannot
 * initialise. Safe from any thread. */
HS_EXPORT hs_err hs_key_generate(char *buf, size_t cap);

/* The id of a key: 8 hex digits of a hash of it, the same 4 bytes that
 * every datagram sealed with it carries in clear. An id names a key in
 * logs and in listings without revealing it. HS_EINVAL if key is not a
 * base64 32-byte key, HS_ENOSPC if cap < HS_KEY_ID_LEN. */
HS_EXPORT hs_err hs_key_id(const char *key, char *buf, size_t cap);

/* One key of a node's keyring. The caller allocates the array: the
 * layout is frozen. */
typedef struct hs_key_info {
    char key[HS_KEY_TEXT_LEN]; /* base64 text */
    char id[HS_KEY_ID_LEN];    /* hs_key_id() of it */
    bool primary;              /* the key datagrams are sealed with */
} hs_key_info;

/* The node's keys, primary first, into out[0..cap); *count gets how many
 * there are (0 for a plaintext node). HS_ENOSPC if cap is too small
 * (HS_KEYS_MAX always suffices). out[] then holds the keys themselves:
 * wipe it when done. */
HS_EXPORT hs_err hs_node_keys(hs_node *node, hs_key_info *out, size_t cap,
                              size_t *count);

/* Key rotation without downtime (docs/security.md): add the new key on
 * every node (each then opens datagrams sealed with it), make it primary
 * on every node (each then seals with it; peers can already open), remove
 * the old one. Each takes effect for the next datagram.
 *
 * add: HS_OK if already present; HS_EFULL past HS_KEYS_MAX.
 * use: makes a present key the primary; HS_ENOTFOUND.
 * remove: HS_ENOTFOUND; HS_ESTATE for the primary (make another key
 *     primary first, so the node never stops sealing).
 * All: HS_EINVAL for text that is not a base64 32-byte key, HS_ESTATE on a
 * node created without keys. Any thread in own-thread mode. */
HS_EXPORT hs_err hs_node_key_add(hs_node *node, const char *key);
HS_EXPORT hs_err hs_node_key_use(hs_node *node, const char *key);
HS_EXPORT hs_err hs_node_key_remove(hs_node *node, const char *key);

/* ---- User events and force-leave ----------------------------------------
 *
 * Both travel as announcements: reserved entries of this node's own state
 * ("hs.an.0".."hs.an.31", never listed among its tags), spread, retried and
 * deduplicated by gossip like any write, and deleted by this node 60 s
 * after it wrote them (docs/protocol.md, "Announcements"). Together they
 * are limited to 4 a second per node on average with bursts of 16
 * (HS_ERATE past that); a node that falls more than 32 announcements
 * behind one sender loses the oldest, counted in announcements_lost. */

/* Sends user event `name` with `len` bytes of payload (copied) to every
 * member: each reports it once as HS_EVENT_USER, this node right after the
 * call (local 1). A member that first learns of this node after the event
 * (a newcomer, or a member restarted since) does not report it: events are
 * news, not state (one still spreading when a member joins may reach it
 * as news, once). name: 1..128 bytes of 0x21..0x7e; payload: up to 512
 * bytes, any (NULL when len is 0). HS_EINVAL, HS_ETOOBIG (payload over 512,
 * or the event cannot fit max_datagram), HS_ERATE, HS_ESTATE (not started,
 * left or stopped), HS_ENOMEM. Any thread in own-thread mode. */
HS_EXPORT hs_err hs_node_user_event(hs_node *node, const char *name,
                                    const void *payload, size_t len);

/* Declares member `name` gone: every member that holds it at its current
 * generation, with no heartbeat newer than this node has, marks it left
 * (HS_EVENT_LEAVE), and reaps it after reap_left_after_ms as after a
 * graceful leave, so its handlers see a leave rather than waiting a day
 * for a dead member's reap. Its own later heartbeat still wins: if it is
 * alive after all it comes back (HS_EVENT_RECOVER), and if it hears of the
 * force-leave it beats at once. Meant for dead members; an alive or
 * suspect one is refused with HS_ESTATE unless `force`. HS_ENOTFOUND
 * (unknown or already reaped), HS_EINVAL (bad name, or this node's own:
 * use hs_node_leave()), HS_ERATE, HS_ESTATE (also: not started, left or
 * stopped), HS_ENOMEM. A member already left: HS_OK, nothing sent. Any
 * thread in own-thread mode. */
HS_EXPORT hs_err hs_node_force_leave(hs_node *node, const char *name,
                                     bool force);

/* ---- Queries --------------------------------------------------------------
 *
 * A query is a user event that asks for answers (serf's `serf query`): it
 * spreads as an announcement (sharing the rate limit above), every member
 * that passes its filters reports HS_EVENT_QUERY and acknowledges it with
 * a datagram straight to the origin, and each member may answer once with
 * hs_node_respond(), also straight to the origin. The origin collects acks
 * and responses (one of each per member; duplicates dropped) until the
 * timeout and then reports the end. Answers that arrive later are counted
 * in query_responses_late and dropped. */

/* Filters and timeout for hs_node_query(); all zero (or a NULL pointer to
 * the struct) asks every member with the default timeout. */
typedef struct hs_query_opts {
    /* How long the origin collects answers. 0: gossip interval x 4 x
     * ceil(log10(members + 1)), at least 2 s (serf's rule, scaled to
     * hearsay's interval). At most HS_QUERY_TIMEOUT_MAX. */
    uint32_t timeout_ms;
    /* Only these members answer (up to HS_QUERY_NODES_MAX names); none:
     * every member. */
    const char *const *nodes;
    size_t n_nodes;
    /* Only members with every one of these tags answer: each "KEY=VALUE"
     * (up to HS_QUERY_TAGS_MAX; VALUE 0..128 bytes of 0x20..0x7e) matches a
     * member whose tag KEY is exactly VALUE. */
    const char *const *tags;
    size_t n_tags;
} hs_query_opts;

#define HS_QUERY_TIMEOUT_MAX 600000u /* ms */
#define HS_QUERY_NODES_MAX 16
#define HS_QUERY_TAGS_MAX 4
#define HS_QUERY_PAYLOAD_MAX 512    /* a query's and a response's payload */
#define HS_QUERY_RESPONSES_MAX 1024 /* responses (and acks) per query */
#define HS_QUERY_PENDING_MAX 16     /* queries of one node waiting at once */

typedef enum hs_query_reply_kind {
    HS_QUERY_ACK = 0,      /* member `from` received the query */
    HS_QUERY_RESPONSE = 1, /* member `from` answered: payload */
    HS_QUERY_DONE = 2      /* the timeout ended: the last call */
} hs_query_reply_kind;

/* What a query callback receives, valid only during the call. Handed out
 * by pointer: fields may be appended. */
typedef struct hs_query_reply {
    hs_query_reply_kind kind;
    uint64_t id;            /* the query's (hs_node_query's *id_out) */
    const char *from;       /* ACK, RESPONSE: the member; NULL at DONE */
    const uint8_t *payload; /* RESPONSE: then a NUL not counted */
    size_t payload_len;
    /* DONE: how many distinct members acked and answered. */
    uint32_t acks, responses;
    uint32_t timeout_ms; /* the query's timeout (the default, if 0 was given) */
} hs_query_reply;

typedef void (*hs_query_cb)(hs_node *node, const hs_query_reply *r, void *arg);

/* Sends query `name` with `len` bytes of payload (copied) to every member
 * that passes opts' filters, and calls cb (on the loop thread, like event
 * callbacks, never from inside this call) for each ack and response, then
 * once with HS_QUERY_DONE when the timeout ends; not at all if the node is
 * stopped first. *id_out (may be NULL) gets the query's id. name: 1..128
 * bytes of 0x21..0x7e; payload up to 512 bytes. HS_EINVAL (bad name,
 * filter, timeout over the maximum, cb NULL), HS_ETOOBIG (payload over
 * 512, or the query with its filters cannot fit one announcement),
 * HS_ERATE (the announcement rate limit, shared with user events),
 * HS_EFULL (HS_QUERY_PENDING_MAX queries already waiting), HS_ESTATE (not
 * started, left or stopped), HS_ENOMEM. Any thread in own-thread mode. */
HS_EXPORT hs_err hs_node_query(hs_node *node, const char *name,
                               const void *payload, size_t len,
                               const hs_query_opts *opts, hs_query_cb cb,
                               void *arg, uint64_t *id_out);

/* Answers the query this node reported as HS_EVENT_QUERY with query_id,
 * once, with up to 512 bytes (copied; NULL when len is 0). HS_ENOTFOUND
 * (no such query, or its timeout has passed here: counted late),
 * HS_ESTATE (answered already, or the node is not running), HS_ETOOBIG,
 * HS_EINVAL, HS_ENOMEM. Any thread in own-thread mode, and from the
 * event callback itself. */
HS_EXPORT hs_err hs_node_respond(hs_node *node, uint64_t query_id,
                                 const void *payload, size_t len);

/* This member's name (the node's copy: valid until hs_node_free) and
 * generation (fixed by hs_node_new). NULL node: "" and 0. Any thread. */
HS_EXPORT const char *hs_node_name(const hs_node *node);
HS_EXPORT uint64_t hs_node_generation(const hs_node *node);

#ifdef __cplusplus
}
#endif
#endif /* HEARSAY_H */
