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
#define HS_VERSION_HEX \
    ((HS_VERSION_MAJOR << 16) | (HS_VERSION_MINOR << 8) | HS_VERSION_PATCH)

/*
 * Error codes. One enum for the whole library, including the reasons a
 * datagram is rejected, so metrics can count rejections by these names.
 * Values are stable once released: new codes are only ever appended.
 *
 * XX(NAME, value, "message")
 */
#define HS_ERRNO_MAP(XX)                                                     \
    XX(OK, 0, "success")                                                     \
    XX(ENOMEM, -1, "out of memory")                                          \
    XX(EINVAL, -2, "invalid argument")                                       \
    XX(ETRUNCATED, -3, "message truncated")                                  \
    XX(EMAGIC, -4, "bad magic: not a hearsay message")                      \
    XX(EVERSION, -5, "unsupported protocol version")                         \
    XX(ETOOBIG, -6, "exceeds a size or count limit")                         \
    XX(ECLUSTER, -7, "message for another cluster")                          \
    XX(EMALFORMED, -8, "malformed message")                                  \
    XX(ENOSPC, -9, "does not fit in the buffer")                             \
    XX(ESEALED, -10, "sealed message but no key configured")                 \
    XX(EAUTH, -11, "authentication failed")                                  \
    XX(ENOTFOUND, -12, "not found")                                          \
    XX(ESTATE, -13, "operation not valid in the current state")              \
    XX(ESELF, -14, "message claims to come from this node")                  \
    XX(ESTALE, -15, "stale: older generation or removed member")             \
    XX(EFULL, -16, "member or key limit reached")                            \
    XX(ERESERVED, -17, "key name is reserved")                               \
    XX(EIO, -18, "I/O error")                                                \
    XX(EADDR, -19, "bad or unresolvable address")                           \
    XX(EREPLAY, -20, "replayed, or outside the replay window")               \
    XX(EKEY, -21, "sealed with a key not in the keyring")                    \
    XX(ERATE, -22, "source over its datagram rate limit")                    \
    XX(EPLAINTEXT, -23, "plaintext message but a keyring is configured")

typedef enum hs_err {
#define HS_ERR_ENUM_(name, val, msg) HS_##name = (val),
    HS_ERRNO_MAP(HS_ERR_ENUM_)
#undef HS_ERR_ENUM_
    HS_ERR_LAST_ = -24 /* one below the lowest code; not an error */
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

/* A member's state as this node sees it. */
typedef enum hs_member_state {
    HS_STATE_ALIVE = 0,   /* heartbeats arrive as expected */
    HS_STATE_SUSPECT = 1, /* phi crossed the threshold */
    HS_STATE_DEAD = 2,    /* suspect for longer than dead_after_ms */
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
    HS_EVENT_FAIL = 4,    /* suspect for longer than dead_after_ms: dead */
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
    HS_EVENT_USER = 9
} hs_event_type;
#define HS_EVENT_TYPES 10

/* "join", "update", "suspect", "recover", "fail", "leave", "restart",
 * "reap", "conflict", "user"; "unknown" otherwise. */
HS_EXPORT const char *hs_event_type_name(hs_event_type t);

/* Message types on the wire, for statistics: index 1..5 are syn, synack,
 * ack, push, leave (hs_msg_type_name); index 0 is unused. */
#define HS_MSG_TYPES 6
HS_EXPORT const char *hs_msg_type_name(int type);

/* Rejection reasons are hs_err codes: rejected[-err] counts datagrams or
 * deltas dropped for reason err (HS_ETRUNCATED, HS_ECLUSTER, ...). */
#define HS_REASONS (-HS_ERR_LAST_)

/* Counters of one node since it started. All monotonic except where said. */
typedef struct hs_stats {
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
    /* Sealing (runtime; see hs_config.keys). Datagrams the runtime refuses
     * before the core sees them are counted in rejected[] like the core's:
     * ERATE (per-source rate limit), ETOOBIG (over max_datagram),
     * EPLAINTEXT (plaintext with a keyring), EKEY, EAUTH, EREPLAY. */
    uint64_t keyring_keys;     /* gauge: keys in the keyring; 0 = plaintext */
    uint64_t datagrams_opened; /* sealed datagrams that authenticated */
    uint64_t replay_evicted_early; /* nonces forgotten before their window
                                      ran out (a flood filled the replay
                                      cache): replays of those datagrams
                                      could not have been detected */
    /* Protocol v2 (appended): */
    uint64_t view_matches;   /* exchanges whose views agreed on the members,
                                so heartbeats went by position */
    uint64_t view_mismatches; /* ... that did not: digests by name */
    uint64_t convictions_followed; /* members declared dead on a peer's
                                      conviction (our detector leaning) */
    uint64_t refuted;        /* peers that held this node dead; it beat at
                                once */
    uint64_t name_conflicts; /* claims on this node's name by another live
                                process: refuted, or yielded to */
    uint64_t alloc_failures; /* allocations that failed and cost work no
                                call could report: a round or an answer
                                not sent, a delta or event dropped (also
                                counted in rejected[] or *_dropped where
                                they were before), and logged */
    /* User events and force-leave (appended; see hs_node_user_event): */
    uint64_t user_events_sent;      /* accepted by hs_node_user_event() */
    uint64_t user_events_delivered; /* from other members, reported here */
    uint64_t user_events_rate_limited; /* user events and force-leaves
                                          refused with HS_ERATE */
    uint64_t announcements_lost;    /* user events and force-leaves of other
                                       members never seen here (gaps in
                                       their numbers: overwritten before
                                       they arrived) */
    uint64_t force_leaves_sent;     /* by hs_node_force_leave() */
    uint64_t force_leaves_applied;  /* members marked left by a force-leave
                                       (this node's or a peer's) */
} hs_stats;

/* ======================================================================== */
/* Nodes                                                                    */
/* ======================================================================== */

struct ev_loop; /* libev's loop; this header does not include ev.h */

/* One cluster member: this process's membership in one cluster. Opaque. */
typedef struct hs_node hs_node;

typedef enum hs_gossip_mode {
    HS_MODE_PUSH_PULL = 0, /* SYN -> SYN-ACK -> ACK (default) */
    HS_MODE_PULL = 1,      /* SYN(pull) -> SYN-ACK with deltas only */
    HS_MODE_PUSH = 2       /* unsolicited deltas of recent changes */
} hs_gossip_mode;

enum { HS_LOG_ERROR = 0, HS_LOG_WARN = 1, HS_LOG_INFO = 2, HS_LOG_DEBUG = 3 };

/* Log sink: called with one complete line (no newline) at `level`, in the
 * form "hearsay[NAME] LEVEL: message". Called on the node's loop thread,
 * and on the calling thread when an hs_node_* call fails (the line says
 * why). It may run while the node holds its internal lock, so it must not
 * call hs_node_* functions: it is a sink. The default (NULL) writes to
 * stderr; only levels up to log_level are passed on. */
typedef void (*hs_log_cb)(void *arg, int level, const char *line);

/* Configuration. Always start from hs_config_init(): fields are only ever
 * appended, so a program compiled against an older header keeps working.
 * Strings are copied by hs_node_new(); the caller keeps ownership. */
typedef struct hs_config {
    const char *name;      /* required: unique member name (see docs) */
    const char *cluster;   /* default "default" */
    const char *bind;      /* numeric "ip:port" or "[ipv6]:port", port 0
                              for any; default "127.0.0.1:7946". "[::]"
                              is dual-stack (takes IPv4 peers too) */
    const char *advertise; /* numeric "ip:port" peers use (port 0: the
                              bound port); default: the bound address, or
                              for a wildcard bind the first address of an
                              interface that is up and not loopback
                              (loopback, with a warning, if none is) */
    uint64_t generation;   /* 0: wall-clock ms at hs_node_new(). A clock
                              stepped back across a restart could then
                              give a lower generation than the last run's:
                              a program that must rule that out persists
                              the last value and passes max(now, last + 1)
                              itself */
    uint64_t seed;         /* PRNG seed; 0: from the OS */

    hs_gossip_mode mode;
    /* The detector's allowances (minimum sigma, acceptable pause) and the
     * local pause guard are tuned for a 1 s rhythm; they are scaled by the
     * slower of these two intervals / 1000, so shorter intervals detect
     * proportionally faster (docs/embedding.md). */
    uint32_t gossip_interval_ms;    /* default 500 */
    uint32_t heartbeat_interval_ms; /* default 500; 0: no heartbeats */
    uint32_t fanout;                /* peers per round, default 1 */
    double phi_threshold;           /* default 8; 0 disables suspicion */
    uint32_t dead_after_ms;         /* suspect -> dead, default 500 */
    uint32_t reap_dead_after_ms;    /* dead -> forgotten, default 24 h */
    uint32_t reap_left_after_ms;    /* left -> forgotten, default 1 h */
    uint32_t tombstone_gc_ms;       /* deleted keys kept, default 30 min */
    size_t max_datagram;            /* default 1400 bytes */
    uint32_t max_members;           /* default 16384 */
    uint32_t max_keys;              /* per member, default 256 */
    uint32_t resolve_interval_ms;   /* seed DNS re-resolution, default 30 s;
                                       0: resolve each name once */

    hs_log_cb log_cb;
    void *log_arg;
    int log_level; /* HS_LOG_*, default HS_LOG_WARN */

    /* ---- Encryption and admission (docs/security.md) ----
     *
     * keys: n_keys keys as base64 text (32 random bytes each, as
     * hs_key_generate() and `hearsay keygen` make them), up to HS_KEYS_MAX.
     * keys[0] is the primary: every datagram is sealed with it
     * (XChaCha20-Poly1305, the cluster name bound as associated data); a
     * datagram sealed with any of the keys is accepted. With keys, plaintext
     * datagrams are refused (EPLAINTEXT); without, gossip is plaintext and
     * sealed datagrams are refused (ESEALED). The choice is made here, once:
     * keys can be rotated later (hs_node_key_add/use/remove) but a plaintext
     * node cannot start sealing. The strings are copied (and the copies
     * wiped when the node is freed); a malformed key is HS_EINVAL.
     * Sealing adds HS_SEAL_BYTES to every datagram (key id, nonce, time
     * stamp, tag), so max_datagram must then be at least 512 + 52. */
    const char *const *keys;
    size_t n_keys;
    /* A sealed datagram carries its sender's wall-clock time: one stamped
     * more than replay_window_ms away from this node's clock is refused as
     * a replay (EREPLAY), and so is one whose nonce was already seen within
     * the window (up to replay_cache_size nonces are remembered; more are
     * counted in replay_evicted_early). Clocks must agree to within the
     * window. Defaults 60 s and 16384; the window must be >= 1000 ms. */
    uint32_t replay_window_ms;
    uint32_t replay_cache_size;
    /* Datagrams accepted per second from one source address (ip and port),
     * with a burst of one second's worth; the excess is dropped before any
     * decoding or decryption and counted as ERATE. Up to 2048 sources are
     * tracked (the least recently heard is forgotten first). A peer sends
     * a handful per gossip interval; the default, 1000, leaves room for
     * 10 ms intervals. 0: no limit. */
    uint32_t max_datagrams_per_sec_per_source;
    /* Outgoing datagrams queued in the core between two sends; more are
     * dropped and counted in sends_dropped. Default 1024. */
    uint32_t max_pending_sends;
} hs_config;

HS_EXPORT void hs_config_init(hs_config *cfg);

/* Creates a node. `loop` is the libev loop it will run on: every call on the
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
 * set before start does not fit max_datagram), HS_ENOMEM, HS_ESTATE
 * (already started or stopped). A failed start leaves the node as it was:
 * it may be started again. */
HS_EXPORT hs_err hs_node_start(hs_node *node);

/* Adds seeds ("host:port"; host may be an IP literal, "[ipv6]", or a DNS
 * name) and starts gossiping with them; before hs_node_start() they are
 * kept for it. DNS names are resolved on a separate thread, never on the
 * loop, and re-resolved every resolve_interval_ms (and every 2 s while no
 * other member is alive or suspect), so a Kubernetes headless service
 * works as a seed list; a name that fails to resolve is logged, counted in
 * resolve_errors and keeps its previous addresses. "srv+NAME" (no port)
 * names DNS SRV records: each target is a seed at the port its record
 * gives ("srv+_gossip._udp.hearsay.ns.svc.cluster.local"). The strings
 * are copied. HS_EADDR if an entry is malformed (nothing is added then),
 * HS_EFULL past 64 seeds in all, HS_ESTATE after leave or stop. */
HS_EXPORT hs_err hs_node_join(hs_node *node, const char *const *seeds,
                              size_t n_seeds);

/* Sets or deletes one of this member's keys ("tags"); once started, each
 * success is reported to this node's own callbacks as an UPDATE with
 * `local` set (hs_event). Keys are 1..128
 * printable ASCII bytes without spaces, not starting with "hs."; values up
 * to 1024 bytes (copied). Before hs_node_start() keys are kept and
 * written when it runs. HS_EINVAL, HS_ERESERVED, HS_ETOOBIG, HS_EFULL,
 * HS_ENOTFOUND (delete of an absent key), HS_ESTATE (after leave or
 * stop). */
HS_EXPORT hs_err hs_node_set(hs_node *node, const char *key, const void *value,
                             size_t len);
HS_EXPORT hs_err hs_node_del(hs_node *node, const char *key);

/* A key/value pair of a member. */
typedef struct hs_tag {
    const char *key;
    const uint8_t *value; /* value_len bytes, then a NUL not counted in
                             value_len (so text prints as a string) */
    size_t value_len;
} hs_tag;

/* A snapshot of one member. */
typedef struct hs_member {
    const char *name;
    const char *addr;
    uint64_t generation;
    hs_member_state state;
    uint64_t heartbeat;
    double phi;            /* suspicion now; 0 for self, dead and left */
    uint64_t state_age_ms; /* time in the current state */
    int is_self;
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
HS_EXPORT void hs_member_list_free(hs_member_list *list);

/* An event, valid only during the callback. */
typedef struct hs_event {
    hs_event_type type;
    const char *name;
    const char *addr;
    uint64_t generation;
    hs_member_state state; /* the member's state after the event */
    const char *key;       /* UPDATE: the key; NULL otherwise */
    int deleted;           /* UPDATE: the key was deleted */
    /* UPDATE of this node's own key by hs_node_set()/hs_node_del() on
     * this node: 1. Peers learn the change by gossip and report it as an
     * ordinary UPDATE (local 0); the node itself reports it once, right
     * after the call succeeded (dispatched from the loop, never from
     * inside the call). Keys set before hs_node_start() report nothing:
     * they are part of the member as it first appears. */
    int local;
    /* USER only (NULL / 0 otherwise). The event's name (1..128 printable
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
} hs_event;

typedef void (*hs_event_cb)(hs_node *node, const hs_event *ev, void *arg);

/* Registers cb for the event types in `mask` (bit 1 << HS_EVENT_*; ~0u for
 * all). Up to 16 callbacks per node, never removed; register them before
 * hs_node_start() to see every event. Callbacks run on the node's loop
 * thread (its own thread with loop == NULL), one event at a time, without
 * any internal lock held and never from inside another hs_node_* call;
 * they may call any hs_node_* function except hs_node_free() (and a
 * blocking hs_node_leave(), see there). A callback slower than 10 ms holds
 * up gossip: it is counted in callbacks_slow and logged. HS_EFULL past 16,
 * HS_EINVAL if cb is NULL. */
HS_EXPORT hs_err hs_node_on(hs_node *node, unsigned mask, hs_event_cb cb,
                            void *arg);

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

/* Changes the level below which the node's log lines are dropped (as
 * hs_config.log_level), e.g. on a configuration reload. Takes effect for
 * the next line. Any thread. */
HS_EXPORT hs_err hs_node_set_log_level(hs_node *node, int level);

/* Copies the node's counters into *out (all zero before start except the
 * runtime's). Safe from any thread in own-thread mode. */
HS_EXPORT hs_err hs_node_stats(hs_node *node, hs_stats *out);

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
 * resolve_interval_ms. A node without seeds is never "failing": it may
 * be the first of its cluster. */
typedef struct hs_join_status {
    unsigned seeds;           /* seeds given: addresses and DNS names */
    int joined;               /* a peer has exchanged state with this node */
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

/* One key of a node's keyring. */
typedef struct hs_key_info {
    char key[HS_KEY_TEXT_LEN]; /* base64 text */
    char id[HS_KEY_ID_LEN];    /* hs_key_id() of it */
    int primary;               /* the key datagrams are sealed with */
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
 * news, not state. name: 1..128 bytes of 0x21..0x7e; payload: up to 512
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

/* This member's name and generation. */
HS_EXPORT const char *hs_node_name(const hs_node *node);
HS_EXPORT uint64_t hs_node_generation(const hs_node *node);

#ifdef __cplusplus
}
#endif
#endif /* HEARSAY_H */
