/*
 * wire/seal.h — authenticated encryption of whole datagrams, the keyring,
 * and the replay window. Private to the library.
 *
 * A sealed datagram keeps the 4-byte clear header (with HS_WIRE_FLAG_SEALED)
 * and replaces the Envelope with an AEAD box:
 *
 *     0..3    "HS", version, flags = SEALED          (clear, authenticated)
 *     4..7    key id: first 4 bytes of BLAKE2b(key)  (clear, authenticated)
 *     8..31   nonce, 24 random bytes                 (clear)
 *     32..    XChaCha20-Poly1305( sent_at_ms (8 bytes, little endian)
 *                                 || Envelope )      + 16-byte tag
 *
 * The associated data is the header, the key id and the cluster name, so a
 * datagram sealed for another cluster with the same key does not open.
 * XChaCha20-Poly1305 is used everywhere (rather than AES-256-GCM where the
 * CPU has it) because its 24-byte nonces can be drawn at random for every
 * datagram with no risk of reuse across restarts, and it is fast without
 * hardware support; on the sizes gossip sends the difference is noise.
 *
 * Replay. The sender's wall-clock time travels inside the box. A receiver
 * refuses boxes older or newer than its window (default 60 s) and, within
 * the window, boxes whose nonce it has already seen (a bounded cache). So a
 * captured datagram can be replayed only if it is both fresh and has fallen
 * out of a flooded cache — and gossip messages are idempotent anyway: a
 * replayed digest or delta cannot move any state backwards. docs/security.md
 * has the full threat model.
 *
 * Like the rest of wire/, nothing here reads a clock: callers pass the time.
 */
#ifndef HS_SEAL_H
#define HS_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hearsay.h"

#define HS_KEY_BYTES 32
#define HS_KEYID_BYTES 4
#define HS_NONCE_BYTES 24
#define HS_TAG_BYTES 16
#define HS_STAMP_BYTES 8
/* Bytes sealing adds to a plaintext datagram: the caller packs messages into
 * max_datagram - HS_SEAL_OVERHEAD so the sealed datagram still fits. */
#define HS_SEAL_OVERHEAD                                                       \
    (HS_KEYID_BYTES + HS_NONCE_BYTES + HS_STAMP_BYTES + HS_TAG_BYTES)

/* A keyring holds up to 16 keys: more than any rotation needs (install new,
 * make primary, remove old: three at most), few enough to scan. */
#define HS_KEYRING_MAX 16
/* A keyring file is at most this long; longer input is HS_ETOOBIG. */
#define HS_KEYRING_MAX_TEXT 4096

typedef struct hs_keyring hs_keyring;

/* An empty keyring (seals nothing until a key is added). HS_ENOMEM, or
 * HS_EIO if libsodium cannot initialise. */
hs_err hs__keyring_new(hs_keyring **out);
/* Wipes the keys from memory and frees. */
void hs__keyring_free(hs_keyring *kr);

/* Parses the keyring file format: one base64 key (32 bytes, standard
 * alphabet with padding) per line, the first the primary; blank lines and
 * lines starting with '#' are ignored; surrounding spaces are trimmed.
 * Errors: HS_EINVAL with *line set to the 1-based line at fault (a bad
 * base64 key, a wrong length, a duplicate), HS_ETOOBIG (text over
 * HS_KEYRING_MAX_TEXT or more than HS_KEYRING_MAX keys), HS_ENOTFOUND (no
 * key at all). */
hs_err hs__keyring_parse(const char *text, size_t len, hs_keyring **out,
                         int *line);

/* Writes the keyring in the file format (primary first, one key per line,
 * newline-terminated). HS_ENOSPC if cap is too small; *len gets the length
 * needed either way. */
hs_err hs__keyring_format(const hs_keyring *kr, char *buf, size_t cap,
                          size_t *len);

/* Key management. A key is named by its base64 text. `add` appends (HS_OK
 * if present already; HS_EFULL past HS_KEYRING_MAX; it becomes primary when
 * the ring was empty); `use` makes a present key primary (HS_ENOTFOUND);
 * `remove` drops a key (HS_ENOTFOUND; HS_ESTATE for the primary — make
 * another primary first, so a node never stops sealing). HS_EINVAL for text
 * that is not a base64 32-byte key. */
hs_err hs__keyring_add(hs_keyring *kr, const char *b64);
hs_err hs__keyring_use(hs_keyring *kr, const char *b64);
hs_err hs__keyring_remove(hs_keyring *kr, const char *b64);

size_t hs__keyring_count(const hs_keyring *kr);

/* The base64 text of key i (0 = primary) into buf (45 bytes suffice).
 * HS_ENOTFOUND past the end. */
hs_err hs__keyring_key(const hs_keyring *kr, size_t i, char *buf, size_t cap);

/* The 4-byte id of key i, as sealed datagrams carry it in clear.
 * HS_ENOTFOUND past the end. */
hs_err hs__keyring_key_id(const hs_keyring *kr, size_t i,
                          uint8_t id[HS_KEYID_BYTES]);

/* A fresh random key as base64 text (45 bytes suffice). */
hs_err hs_key_generate(char *buf, size_t cap);

/* Seals a plaintext datagram (header with flags 0, as hs__wire_encode
 * writes it) with the primary key. `now_ms` is wall-clock time (Unix ms).
 * HS_ESTATE with an empty keyring, HS_EMAGIC/HS_ETRUNCATED for a bad
 * plaintext, HS_ENOSPC if out is smaller than len + HS_SEAL_OVERHEAD. */
hs_err hs__seal(const hs_keyring *kr, const char *cluster, uint64_t now_ms,
                const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                size_t *out_len);

/* The replay window: boxes stamped more than window_ms away from the
 * receiver's now are refused, and nonces seen within the window are
 * remembered (up to `capacity`, oldest forgotten first). */
typedef struct hs_replay hs_replay;

hs_err hs__replay_new(uint32_t window_ms, uint32_t capacity, hs_replay **out);
void hs__replay_free(hs_replay *r);
/* Nonces forgotten before their window ran out (a flood filled the cache):
 * the count of boxes whose replay could no longer be detected. */
uint64_t hs__replay_evicted_early(const hs_replay *r);
/* Index slots a lookup of nonce fingerprint fp inspects, the one that ends
 * it included: what a flood of chosen nonces would drive up
 * (tests/unit/test_replay.c counts it). */
size_t hs__replay_probes(const hs_replay *r, uint64_t fp);

/* Opens a sealed datagram into a plaintext one (flags 0) that
 * hs__wire_decode accepts. `replay` may be NULL (no replay check).
 * Errors: HS_ETRUNCATED, HS_EMAGIC, HS_EVERSION (header), HS_EINVAL (not
 * sealed), HS_EKEY (key id not in the ring), HS_EAUTH (does not
 * authenticate: wrong key, wrong cluster, tampered), HS_EREPLAY (outside the
 * window or seen before), HS_ENOSPC (out too small). Nothing is written to
 * the replay cache unless the box authenticates. */
hs_err hs__open(const hs_keyring *kr, hs_replay *replay, const char *cluster,
                uint64_t now_ms, const uint8_t *in, size_t len, uint8_t *out,
                size_t cap, size_t *out_len);

#endif /* HS_SEAL_H */
