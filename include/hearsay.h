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
    XX(EADDR, -19, "bad or unresolvable address")

typedef enum hs_err {
#define HS_ERR_ENUM_(name, val, msg) HS_##name = (val),
    HS_ERRNO_MAP(HS_ERR_ENUM_)
#undef HS_ERR_ENUM_
    HS_ERR_LAST_ = -20 /* one below the lowest code; not an error */
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

#ifdef __cplusplus
}
#endif
#endif /* HEARSAY_H */
