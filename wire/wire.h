/*
 * wire/wire.h — hearsay's datagram format, private to the library.
 *
 * A datagram is a 4-byte clear header followed by a protobuf-encoded
 * Envelope (wire/hearsay.proto):
 *
 *     byte 0..1  magic "HS" (0x48 0x53)
 *     byte 2     protocol version (HS_WIRE_PROTO_VERSION)
 *     byte 3     flags (HS_WIRE_FLAG_SEALED: the rest is an AEAD box)
 *     byte 4..   Envelope
 *
 * The header sits outside protobuf so a datagram from another program is
 * rejected by a 4-byte compare, before any allocation, and so a sealed
 * datagram can be recognised without a key.
 *
 * This header is the only view the rest of hearsay has of the format: the
 * generated protobuf-c types never leave wire/. Messages are described by the
 * plain structs below; decoding returns one allocation that owns every string
 * and array it points to.
 *
 * Bounds. Every count and size that arrives from the network is bounded by
 * the constants below *and* by the datagram size, so a decoded message never
 * costs more than a small multiple of the bytes received.
 */
#ifndef HS_WIRE_H
#define HS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hearsay.h"

#define HS_WIRE_MAGIC0 0x48 /* 'H' */
#define HS_WIRE_MAGIC1 0x53 /* 'S' */
#define HS_WIRE_PROTO_VERSION 2
#define HS_WIRE_HEADER_LEN 4
#define HS_WIRE_FLAG_SEALED 0x01u

/* Datagram size. 1400 leaves room for IPv6 (40) + UDP (8) headers and a
 * tunnel or two inside a 1500-byte MTU, so no datagram is fragmented on an
 * ordinary Ethernet path. 65507 is the largest UDP payload over IPv4. */
#define HS_WIRE_DEFAULT_DATAGRAM 1400
#define HS_WIRE_MIN_DATAGRAM 512
#define HS_WIRE_MAX_DATAGRAM 65507

/* Sizes in bytes, excluding any terminating NUL. Names are member and
 * cluster names: printable ASCII without spaces (0x21..0x7e), 1..128 bytes —
 * enough for a DNS name or a Kubernetes pod name. Keys follow the same rule.
 * Values are arbitrary bytes; 1024 keeps one value well inside a default
 * datagram together with its member's header. */
#define HS_WIRE_MAX_NAME 128
#define HS_WIRE_MAX_ADDR 64 /* "[v6%scope]:port" or "host:port" */
#define HS_WIRE_MAX_KEY 128
#define HS_WIRE_MAX_VALUE 1024

/* Counts per message. A 64 KiB datagram cannot carry more than this many
 * well-formed items anyway; the caps make the bound explicit and cheap. */
#define HS_WIRE_MAX_DIGEST_ENTRIES 4096
#define HS_WIRE_MAX_DELTAS 4096
#define HS_WIRE_MAX_ENTRIES 8192 /* key/value entries, summed over deltas */
/* Positions of a view (members, dead and left ones included, that a node
 * holds at once): the core's member limit is below it, and four times the
 * default max_members leaves room without letting a datagram claim a view
 * large enough to make position arithmetic costly. */
#define HS_WIRE_MAX_VIEW 65536

typedef enum hs_wire_type {
    HS_WIRE_SYN = 1,    /* digest; "what do you have that I lack?" */
    HS_WIRE_SYNACK = 2, /* deltas for the initiator + responder's digest */
    HS_WIRE_ACK = 3,    /* deltas for the responder */
    HS_WIRE_PUSH = 4,   /* unsolicited deltas */
    HS_WIRE_LEAVE = 5   /* the sender leaves the cluster gracefully */
} hs_wire_type;
/* A query's answer (wire/query.c): not a gossip message, so outside the
 * enum's switches and the statistics' types. */
#define HS_WIRE_RESPONSE ((hs_wire_type)6)

/* Who sent the datagram: a member's identity. */
typedef struct hs_wire_sender {
    const char *name;    /* 1..HS_WIRE_MAX_NAME, see above */
    uint64_t generation; /* grows on every restart of the sender */
    const char *addr;    /* advertised gossip address, "" if none */
} hs_wire_sender;

/* A summary of the sender's view (hearsay.proto, View): equal `members`
 * means the same members in the same order, so positions agree; equal
 * `state` also means the same newest write of every member. */
typedef struct hs_wire_view {
    uint64_t members;
    uint64_t state;
    uint32_t count; /* positions 0 .. count-1; 0 in an answer (unsaid) */
} hs_wire_view;

/* Heartbeats by position (hearsay.proto, Beats). pos[i] is a position in
 * [first, first + span), strictly ascending, and low[i] the low 8 bits of
 * the newest heartbeat version the sender knows of that member. The
 * encoder picks the dense form when pos[] is first, first+1, ...
 * Convictions: dead_pos[i] (ascending, < the view's count) was declared
 * dead by the sender at heartbeat version low byte dead_low[i]. */
typedef struct hs_wire_beats {
    uint32_t first, span;
    size_t n;
    const uint32_t *pos;
    const uint8_t *low;
    size_t n_dead;
    const uint32_t *dead_pos;
    const uint8_t *dead_low;
} hs_wire_beats;

/* One line of a digest: "of member `name`, incarnation `generation`, I hold
 * every write up to and including `max_version`, the newest I know of"
 * (heartbeats are not writes: they travel by position or in `heartbeat`). */
typedef struct hs_wire_digest_entry {
    const char *name;
    uint64_t generation;
    uint64_t max_version; /* newest write held; 0 = none */
    /* The sender holds no entry that a tombstone collected at or below this
     * version would have deleted: it saw every version up to max_version, or
     * it was reset from scratch by a peer whose collection point this was.
     * A responder whose own collection point is higher sends a reset. */
    uint64_t gc_version;
    bool left;          /* the sender knows this member left */
    uint64_t heartbeat; /* newest heartbeat version known; 0 = none */
    bool dead;          /* the sender holds the member dead */
} hs_wire_digest_entry;

/* One versioned key/value entry of a member's map. A tombstone carries no
 * value: the key was deleted at `version`. */
typedef struct hs_wire_entry {
    const char *key;
    const uint8_t *value; /* may be NULL when value_len == 0 */
    size_t value_len;
    uint64_t version; /* >= 1 */
    bool tombstone;
} hs_wire_entry;

/* The part of one member's state that the receiver lacks.
 *
 * Entries are in strictly ascending version order and each lies in
 * (from_version, to_version]. After applying, the receiver holds every
 * version of this member up to to_version: to_version may exceed the last
 * entry's version when the versions in between were overwritten or
 * collected, but a sender that truncates a delta sets it to the last entry
 * it included, so the receiver keeps a gap-free prefix. */
typedef struct hs_wire_delta {
    const char *name;
    uint64_t generation;
    const char *addr;      /* member's gossip address; "" = unchanged */
    uint64_t from_version; /* the receiver's max_version this delta builds on */
    uint64_t to_version;
    uint64_t gc_version;   /* owner collected tombstones up to this version */
    uint64_t left_version; /* != 0: the member left at this version */
    bool reset;            /* drop what you hold of this member first */
    const hs_wire_entry *entries;
    size_t n_entries;
    uint64_t heartbeat; /* newest heartbeat version the sender knows */
    bool dead;          /* the sender holds the member dead */
    /* The sender's newest version of the member; sent only when the delta
     * stops short of it (held_version > to_version). */
    uint64_t held_version;
} hs_wire_delta;

/* A whole message. Which fields are meaningful depends on `type`:
 *
 *   SYN     view, beats, deltas (rumors), digest (+ range; pull only),
 *           pull_only
 *   SYNACK  view, beats, deltas, digest (+ range), answered
 *   ACK     deltas, digest (+ range; when the views differ)
 *   PUSH    view, beats, deltas
 *   LEAVE   leave_version
 *
 * `has_view` says whether view (and beats) are present; beats without a
 * view are malformed, since positions mean nothing without one.
 *
 * Digest range: when a digest does not fit one datagram it covers only the
 * members whose names sort within [range_lo, range_hi] (byte order,
 * inclusive; "" means unbounded on that side) and lists *every* member the
 * sender knows in that range. A member in range but absent from the digest
 * is one the sender does not know; a member out of range says nothing. */
typedef struct hs_wire_msg {
    hs_wire_type type;
    const char *cluster;
    hs_wire_sender sender;

    const hs_wire_digest_entry *digest;
    size_t n_digest;
    const char *range_lo; /* never NULL after decode; "" = unbounded */
    const char *range_hi;
    bool pull_only; /* SYN: answer with deltas only, no ACK round */
    bool answered;  /* SYNACK: the SYN's digest is answered; ACK ends it */

    bool has_view;
    hs_wire_view view;
    hs_wire_beats beats;

    const hs_wire_delta *deltas;
    size_t n_deltas;

    uint64_t leave_version; /* LEAVE: sender's last version before leaving */
} hs_wire_msg;

/* Checks the 4-byte header only: HS_OK, HS_ETRUNCATED, HS_EMAGIC,
 * HS_EVERSION. Sets *sealed from the flags. Cheap; no allocation. */
hs_err hs__wire_check_header(const uint8_t *buf, size_t len, bool *sealed);

/* Decodes a plaintext datagram (header included).
 *
 * `cluster` is the expected cluster name; a message for another cluster gives
 * HS_ECLUSTER (and still nothing allocated). `max_datagram` is the receiver's
 * configured maximum; anything longer is HS_ETOOBIG.
 *
 * Errors, most specific first: HS_ETRUNCATED (shorter than the header),
 * HS_EMAGIC, HS_EVERSION, HS_ESEALED (sealed flag set: open it first),
 * HS_ETOOBIG (datagram, count or size over a bound), HS_EMALFORMED (protobuf
 * that does not parse, missing body, bad name characters, entries out of
 * order or outside their delta's range), HS_ECLUSTER, HS_ENOMEM.
 *
 * On HS_OK, *out owns all it points to; free it with hs__wire_msg_free(). On
 * error *out is NULL. Unknown protobuf fields are ignored. */
hs_err hs__wire_decode(const uint8_t *buf, size_t len, const char *cluster,
                       size_t max_datagram, hs_wire_msg **out);

void hs__wire_msg_free(hs_wire_msg *msg);

/* Encodes msg (header included, flags 0) into buf[0..cap).
 * HS_ENOSPC when it does not fit (nothing useful is left in buf),
 * HS_EINVAL when msg breaks a rule decode would reject (so a bug surfaces at
 * the sender, not as a remote HS_EMALFORMED). *out_len gets the length. */
hs_err hs__wire_encode(const hs_wire_msg *msg, uint8_t *buf, size_t cap,
                       size_t *out_len);

/* Exact encoded length of msg, header included. */
size_t hs__wire_encoded_size(const hs_wire_msg *msg);

/*
 * Size accounting for packing a datagram greedily. Each function returns the
 * bytes an item adds to a message, counting its own field tag and length
 * prefix, with length prefixes of enclosing sub-messages taken at their
 * widest (3 bytes covers any datagram up to 2 MiB). So for any message:
 *
 *   hs__wire_encoded_size(msg) <= hs__wire_base_size(msg with no digest
 *       and no deltas) + sum(hs__wire_digest_entry_size)
 *       + sum(hs__wire_delta_size(delta with no entries))
 *       + sum(hs__wire_entry_size)
 *
 * and a packer that keeps that sum under its budget never overflows.
 */
size_t hs__wire_base_size(const hs_wire_msg *msg);
size_t hs__wire_digest_entry_size(const hs_wire_digest_entry *e);
size_t hs__wire_delta_size(const hs_wire_delta *d); /* header only */
/* What held_version adds to a delta's header once the delta is cut short
 * of it (a builder reserves it at the start). */
size_t hs__wire_held_size(const hs_wire_delta *d);
size_t hs__wire_entry_size(const hs_wire_entry *e);
/* Exact bytes the Beats sub-message adds (0 when it carries nothing). */
size_t hs__wire_beats_size(const hs_wire_beats *b);

/* True when s is a valid name or key: 1..max bytes of 0x21..0x7e. */
bool hs__wire_valid_name(const char *s, size_t max);

/* Name of a message type for logs and metric labels ("syn", "synack", ...);
 * "unknown" for anything else. */
const char *hs__wire_type_name(int type);

/* ---- Announcements (wire/announce.c) ------------------------------------
 *
 * The value of one announcement slot of a member's state (the Announcement
 * message of hearsay.proto; docs/protocol.md, "Announcements"). It travels
 * inside an ordinary Entry, so it is bounded by HS_WIRE_MAX_VALUE as every
 * value is; its own bounds are these. */
#define HS_WIRE_MAX_PAYLOAD 512 /* a user event's payload (serf's default) */
/* The largest encoded announcement: a user event (seq and ltime at 10
 * bytes, a name and a payload at their bounds with their tags and length
 * prefixes) takes about 670; a query with its address and filters may take
 * up to a value's bound, and one that would not fit is refused. */
#define HS_WIRE_MAX_ANNOUNCE HS_WIRE_MAX_VALUE
/* A query's filters (wire/query.c, Query in hearsay.proto). */
#define HS_WIRE_MAX_QNODES 16
#define HS_WIRE_MAX_QTAGS 4
#define HS_WIRE_MAX_QTAG (HS_WIRE_MAX_KEY + 1 + HS_WIRE_MAX_NAME) /* K=V */
#define HS_WIRE_MAX_QTIMEOUT 600000u

typedef enum hs_wire_announce_kind {
    HS_WIRE_AN_USER = 1,        /* a user event */
    HS_WIRE_AN_FORCE_LEAVE = 2, /* a member declared gone */
    HS_WIRE_AN_QUERY = 3        /* a query: answers go back to addr */
} hs_wire_announce_kind;

/* Fixed size, no pointers: decoding allocates nothing the caller keeps. */
typedef struct hs_wire_announce {
    hs_wire_announce_kind kind;
    uint64_t seq;                    /* >= 1 */
    char name[HS_WIRE_MAX_NAME + 1]; /* event name, or the member's */
    uint64_t ltime;                  /* USER: >= 1 */
    uint8_t payload[HS_WIRE_MAX_PAYLOAD];
    size_t payload_len;  /* USER */
    uint64_t generation; /* FORCE_LEAVE: >= 1 */
    uint64_t heartbeat;  /* FORCE_LEAVE */
    /* QUERY: name and payload as USER, and: */
    uint64_t query_id;               /* >= 1 */
    char addr[HS_WIRE_MAX_ADDR + 1]; /* the origin's, non-empty */
    uint32_t timeout_ms;             /* 1..HS_WIRE_MAX_QTIMEOUT */
    uint32_t n_nodes, n_tags;
    char nodes[HS_WIRE_MAX_QNODES][HS_WIRE_MAX_NAME + 1];
    char tags[HS_WIRE_MAX_QTAGS][HS_WIRE_MAX_QTAG + 1]; /* "KEY=VALUE" */
} hs_wire_announce;

/* Encodes a into buf. HS_EINVAL for an announcement a receiver would
 * refuse (bad name, seq 0, ...), HS_ENOSPC when cap is too small
 * (HS_WIRE_MAX_ANNOUNCE always suffices). */
hs_err hs__wire_announce_encode(const hs_wire_announce *a, uint8_t *buf,
                                size_t cap, size_t *len);
/* Decodes and checks one slot value: HS_OK, HS_ETOOBIG (longer than
 * HS_WIRE_MAX_ANNOUNCE, a name or payload over its bound) or HS_EMALFORMED
 * (not protobuf, no body, a name outside 0x21..0x7e, seq, ltime or
 * generation 0). Unknown fields are ignored. */
hs_err hs__wire_announce_decode(const uint8_t *buf, size_t len,
                                hs_wire_announce *out);

/* ---- Query responses (wire/query.c) -------------------------------------
 *
 * A member's answer to a query goes straight to the query's origin as an
 * Envelope whose body is a QueryResponse (hearsay.proto), sealed like any
 * datagram. hs__wire_decode() does not take it (its body is none of the
 * five gossip types): the core asks hs__wire_is_response() first, which
 * reads only the Envelope's top-level field tags. */
typedef struct hs_wire_response {
    char cluster[HS_WIRE_MAX_NAME + 1];
    char from[HS_WIRE_MAX_NAME + 1]; /* the responder (Envelope.sender) */
    uint64_t from_generation;
    uint64_t id;         /* the query's, >= 1 */
    uint64_t generation; /* the origin's, >= 1 */
    bool ack;            /* an ack carries no payload */
    uint8_t payload[HS_WIRE_MAX_PAYLOAD];
    size_t payload_len;
} hs_wire_response;

/* Whether buf (a whole plaintext datagram, header included) holds an
 * Envelope with a QueryResponse body. Cheap: no allocation; false for
 * anything that does not parse that far. */
bool hs__wire_is_response(const uint8_t *buf, size_t len);
/* Decodes a response datagram: HS_OK, or HS_ETRUNCATED, HS_EMAGIC,
 * HS_EVERSION, HS_ESEALED, HS_ETOOBIG (over max_datagram, a name or payload
 * over its bound), HS_EMALFORMED (not protobuf, a bad name, id or
 * generation 0, an ack with a payload), HS_ECLUSTER. */
hs_err hs__wire_response_decode(const uint8_t *buf, size_t len,
                                const char *cluster, size_t max_datagram,
                                hs_wire_response *out);
/* Encodes r (header included, flags 0): HS_EINVAL for what a receiver
 * would refuse, HS_ENOSPC when cap is too small. */
hs_err hs__wire_response_encode(const hs_wire_response *r, const char *addr,
                                uint8_t *buf, size_t cap, size_t *len);

#endif /* HS_WIRE_H */
