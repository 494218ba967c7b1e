/*
 * addr.c — parsing and formatting gossip addresses, and choosing the one to
 * advertise for a wildcard bind.
 *
 * Everything here is numeric and non-blocking: it runs on the loop for every
 * datagram sent (parsing the core's destination string) and received
 * (formatting the source). The plain IPv4/IPv6 forms take the inet_pton()
 * fast path; only a scoped IPv6 literal ("fe80::1%eth0") goes through
 * getaddrinfo(AI_NUMERICHOST), which never touches DNS. Parsing costs well
 * under a microsecond, far below a sendto(), so parsed addresses are not
 * cached.
 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "membership/addr.h"

hs_err hs__addr_split(const char *s, char *host, size_t host_len,
                      unsigned *port)
{
    if (!s || !*s)
        return HS_EADDR;
    const char *h = s, *h_end, *colon;
    if (*s == '[') {
        h = s + 1;
        h_end = strchr(h, ']');
        if (!h_end || h_end[1] != ':')
            return HS_EADDR;
        colon = h_end + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || memchr(s, ':', (size_t)(colon - s)))
            return HS_EADDR; /* no port, or an unbracketed IPv6 literal */
        h_end = colon;
    }
    size_t n = (size_t)(h_end - h);
    if (n == 0 || n >= host_len)
        return HS_EADDR;
    const char *p = colon + 1;
    if (!*p || strlen(p) > 5)
        return HS_EADDR;
    unsigned v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return HS_EADDR;
        v = v * 10 + (unsigned)(*p - '0');
    }
    if (v > 65535)
        return HS_EADDR;
    memcpy(host, h, n);
    host[n] = 0;
    for (size_t i = 0; i < n; i++)
        if (host[i] <= ' ' || host[i] > '~')
            return HS_EADDR;
    *port = v;
    return HS_OK;
}

static hs_err parse_host(const char *host, unsigned port, hs_sockaddr *out)
{
    memset(out, 0, sizeof *out);
    struct sockaddr_in *v4 = (struct sockaddr_in *)&out->ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&out->ss;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        out->len = sizeof *v4;
        return HS_OK;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        out->len = sizeof *v6;
        return HS_OK;
    }
    if (!strchr(host, '%') || !strchr(host, ':'))
        return HS_EADDR;
    /* Scoped IPv6 literal: AI_NUMERICHOST makes this a pure parse. */
    struct addrinfo hints = {.ai_family = AF_INET6,
                             .ai_socktype = SOCK_DGRAM,
                             .ai_flags = AI_NUMERICHOST},
                    *res = NULL;
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res)
        return HS_EADDR;
    if (res->ai_addrlen > sizeof out->ss) {
        freeaddrinfo(res);
        return HS_EADDR;
    }
    memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
    out->len = res->ai_addrlen;
    freeaddrinfo(res);
    v6->sin6_port = htons((uint16_t)port);
    return HS_OK;
}

bool hs__addr_host_is_numeric(const char *host)
{
    hs_sockaddr tmp;
    return parse_host(host, 0, &tmp) == HS_OK;
}

hs_err hs__addr_parse(const char *s, hs_sockaddr *out)
{
    char host[HS_ADDR_STRLEN];
    unsigned port;
    hs_err err = hs__addr_split(s, host, sizeof host, &port);
    if (err != HS_OK)
        return err;
    return parse_host(host, port, out);
}

hs_err hs__addr_format(const struct sockaddr *sa, char *buf, size_t len)
{
    char ip[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
    int n;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)sa;
        if (!inet_ntop(AF_INET, &v4->sin_addr, ip, sizeof ip))
            return HS_EADDR;
        n = snprintf(buf, len, "%s:%u", ip, (unsigned)ntohs(v4->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)sa;
        if (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr)) {
            struct sockaddr_in v4 = {.sin_family = AF_INET,
                                     .sin_port = v6->sin6_port};
            memcpy(&v4.sin_addr, &v6->sin6_addr.s6_addr[12], 4);
            return hs__addr_format((const struct sockaddr *)&v4, buf, len);
        }
        if (!inet_ntop(AF_INET6, &v6->sin6_addr, ip, sizeof ip))
            return HS_EADDR;
        if (v6->sin6_scope_id) {
            char ifname[IF_NAMESIZE];
            size_t at = strlen(ip);
            if (if_indextoname(v6->sin6_scope_id, ifname))
                snprintf(ip + at, sizeof ip - at, "%%%s", ifname);
            else
                snprintf(ip + at, sizeof ip - at, "%%%u",
                         (unsigned)v6->sin6_scope_id);
        }
        n = snprintf(buf, len, "[%s]:%u", ip, (unsigned)ntohs(v6->sin6_port));
    } else {
        return HS_EADDR;
    }
    return n < 0 || (size_t)n >= len ? HS_ENOSPC : HS_OK;
}

bool hs__addr_is_wildcard(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return ((const struct sockaddr_in *)sa)->sin_addr.s_addr ==
               htonl(INADDR_ANY);
    if (sa->sa_family == AF_INET6)
        return IN6_IS_ADDR_UNSPECIFIED(
            &((const struct sockaddr_in6 *)sa)->sin6_addr);
    return false;
}

hs_err hs__addr_for_socket(const hs_sockaddr *to, int sock_family,
                           hs_sockaddr *out)
{
    int fam = to->ss.ss_family;
    if (fam == sock_family) {
        *out = *to;
        return HS_OK;
    }
    if (fam == AF_INET && sock_family == AF_INET6) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)&to->ss;
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&out->ss;
        memset(out, 0, sizeof *out);
        v6->sin6_family = AF_INET6;
        v6->sin6_port = v4->sin_port;
        v6->sin6_addr.s6_addr[10] = 0xff;
        v6->sin6_addr.s6_addr[11] = 0xff;
        memcpy(&v6->sin6_addr.s6_addr[12], &v4->sin_addr, 4);
        out->len = sizeof *v6;
        return HS_OK;
    }
    return HS_EADDR;
}

void hs__addr_set_port(hs_sockaddr *a, unsigned port)
{
    if (a->ss.ss_family == AF_INET)
        ((struct sockaddr_in *)&a->ss)->sin_port = htons((uint16_t)port);
    else if (a->ss.ss_family == AF_INET6)
        ((struct sockaddr_in6 *)&a->ss)->sin6_port = htons((uint16_t)port);
}

unsigned hs__addr_port(const hs_sockaddr *a)
{
    if (a->ss.ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
    if (a->ss.ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
    return 0;
}

/* Preference of an interface address for advertising; higher is better,
 * 0 = unusable. Loopback is the last resort (a single-host cluster, or a
 * container with no other interface yet). */
static int rank(const struct ifaddrs *ifa, int family)
{
    if (!ifa->ifa_addr || ifa->ifa_addr->sa_family != family ||
        !(ifa->ifa_flags & IFF_UP))
        return 0;
    if (ifa->ifa_flags & IFF_LOOPBACK)
        return 1;
    if (family == AF_INET6) {
        const struct in6_addr *a =
            &((const struct sockaddr_in6 *)ifa->ifa_addr)->sin6_addr;
        if (IN6_IS_ADDR_LINKLOCAL(a))
            return 2;
    }
    return 3;
}

hs_err hs__addr_pick_local(int family, hs_sockaddr *out, bool *is_loopback)
{
    struct ifaddrs *list = NULL;
    if (getifaddrs(&list) != 0)
        return HS_EADDR;
    const struct ifaddrs *best = NULL;
    int best_rank = 0;
    for (const struct ifaddrs *ifa = list; ifa; ifa = ifa->ifa_next) {
        int r = rank(ifa, family);
        if (r > best_rank) {
            best = ifa;
            best_rank = r;
        }
    }
    memset(out, 0, sizeof *out);
    if (best) {
        out->len = family == AF_INET ? sizeof(struct sockaddr_in)
                                     : sizeof(struct sockaddr_in6);
        memcpy(&out->ss, best->ifa_addr, out->len);
    } else if (family == AF_INET) {
        struct sockaddr_in *v4 = (struct sockaddr_in *)&out->ss;
        v4->sin_family = AF_INET;
        v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        out->len = sizeof *v4;
    } else {
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&out->ss;
        v6->sin6_family = AF_INET6;
        v6->sin6_addr = in6addr_loopback;
        out->len = sizeof *v6;
    }
    *is_loopback = best_rank <= 1;
    freeifaddrs(list);
    return HS_OK;
}
