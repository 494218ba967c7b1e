/*
 * membership/addr.h — gossip addresses as the runtime sees them. Private.
 *
 * The core treats addresses as opaque strings; the runtime owns the one
 * canonical text form, so that the address a datagram came from compares
 * equal to the address the same peer advertises:
 *
 *     IPv4   "192.0.2.1:7946"
 *     IPv6   "[2001:db8::1]:7946", "[fe80::1%eth0]:7946"
 *
 * An IPv4-mapped IPv6 source (a dual-stack socket receiving from an IPv4
 * peer) is written in the IPv4 form. Only numeric hosts are parsed here:
 * names go through the resolver thread (resolve.h), never the loop.
 */
#ifndef HS_ADDR_H
#define HS_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "hearsay.h"
#include "wire/wire.h"

/* Room for any canonical address plus its NUL (public: HS_ADDRSTRLEN). */
#define HS_ADDR_STRLEN (HS_WIRE_MAX_ADDR + 1)
_Static_assert(HS_ADDR_STRLEN == HS_ADDRSTRLEN, "public and wire bounds");

/* A parsed address. */
typedef struct hs_sockaddr {
    struct sockaddr_storage ss;
    socklen_t len;
} hs_sockaddr;

/* Splits "host:port" or "[v6host]:port" into its parts. An unbracketed host
 * with a colon (a bare IPv6 literal) is refused as ambiguous. The port must
 * be decimal 0..65535. HS_EADDR on any malformed input or overflow of the
 * output buffers. */
hs_err hs__addr_split(const char *s, char *host, size_t host_len,
                      unsigned *port);

/* Parses a numeric "ip:port" / "[v6]:port" (no DNS). HS_EADDR if it is not
 * one (including a DNS name: see hs__addr_split for telling them apart). */
hs_err hs__addr_parse(const char *s, hs_sockaddr *out);

/* true if host is an IPv4 or IPv6 literal (with an optional %scope). */
bool hs__addr_host_is_numeric(const char *host);

/* Writes the canonical form of sa into buf. HS_ENOSPC if it does not fit,
 * HS_EADDR for a family other than IPv4/IPv6. */
hs_err hs__addr_format(const struct sockaddr *sa, char *buf, size_t len);

/* true for 0.0.0.0 and :: */
bool hs__addr_is_wildcard(const struct sockaddr *sa);

/* Fits `to` for a socket of family `sock_family`: an IPv4 address becomes
 * IPv4-mapped for a (dual-stack) IPv6 socket. HS_EADDR if it cannot be sent
 * from such a socket (IPv6 over an IPv4 socket). */
hs_err hs__addr_for_socket(const hs_sockaddr *to, int sock_family,
                           hs_sockaddr *out);

/* Picks the address to advertise for a wildcard bind of family `family`:
 * the first address of an interface that is up and not loopback (for IPv6
 * a global one before a link-local one). Falls back to the loopback
 * address, and says so through *is_loopback. HS_EADDR if getifaddrs()
 * fails. */
hs_err hs__addr_pick_local(int family, hs_sockaddr *out, bool *is_loopback);

/* Sets the port of an IPv4/IPv6 address; returns it for reading. */
void hs__addr_set_port(hs_sockaddr *a, unsigned port);
unsigned hs__addr_port(const hs_sockaddr *a);

#endif /* HS_ADDR_H */
