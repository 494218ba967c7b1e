/*
 * parse.c — the small parsers behind hearsayd's options (shared with the
 * CLI and the tests): whole numbers, durations ("250ms", "2s", "5m", "1h";
 * a bare number is milliseconds, the unit of every knob in hs_config),
 * host:port, event names and filters, and --event-handler specs.
 *
 * Event names: the environment of a handler uses serf's style
 * ("member-join"); filters accept that, the short form ("join") and serf's
 * own spellings where they differ ("member-failed"), so serf users can
 * bring their handler flags along.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/config_impl.h"

int hsa_parse_u32(const char *s, uint32_t *out)
{
    if (!s || !isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > UINT32_MAX)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

int hsa_parse_duration_ms(const char *s, uint32_t *out)
{
    uint64_t ms = 0;
    if (hs_duration_parse(s, &ms) != HS_OK || ms > UINT32_MAX)
        return -1;
    *out = (uint32_t)ms;
    return 0;
}

int hsa_split_hostport(const char *s, char *host, size_t hostlen,
                       uint16_t *port)
{
    const char *colon, *h = s;
    size_t hl;
    if (!s || !*s)
        return -1;
    if (*s == '[') {
        const char *rb = strchr(s, ']');
        if (!rb || rb[1] != ':')
            return -1;
        h = s + 1;
        hl = (size_t)(rb - h);
        colon = rb + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || memchr(s, ':', (size_t)(colon - s)))
            return -1; /* no port, or an unbracketed IPv6 literal */
        hl = (size_t)(colon - s);
    }
    if (hl == 0 || hl >= hostlen)
        return -1;
    uint32_t p;
    if (hsa_parse_u32(colon + 1, &p) < 0 || p > 65535)
        return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (uint16_t)p;
    return 0;
}

/* ---- Events -------------------------------------------------------------- */

static const struct {
    const char *env; /* HEARSAY_EVENT and the long filter name */
    const char *short_;
    const char *alias; /* serf's spelling, where it differs */
} event_names[HS_EVENT_TYPES] = {
    [HS_EVENT_JOIN] = {"member-join", "join", NULL},
    [HS_EVENT_UPDATE] = {"member-update", "update", NULL},
    [HS_EVENT_SUSPECT] = {"member-suspect", "suspect", NULL},
    [HS_EVENT_RECOVER] = {"member-recover", "recover", NULL},
    [HS_EVENT_FAIL] = {"member-fail", "fail", "member-failed"},
    [HS_EVENT_LEAVE] = {"member-leave", "leave", NULL},
    [HS_EVENT_RESTART] = {"member-restart", "restart", NULL},
    [HS_EVENT_REAP] = {"member-reap", "reap", NULL},
    [HS_EVENT_CONFLICT] = {"member-conflict", "conflict", NULL},
    [HS_EVENT_USER] = {"user", "user", NULL},    /* serf's SERF_EVENT=user */
    [HS_EVENT_QUERY] = {"query", "query", NULL}, /* serf's SERF_EVENT=query */
};

const char *hsa_event_env_name(hs_event_type t)
{
    return (unsigned)t < HS_EVENT_TYPES ? event_names[t].env : "unknown";
}

int hsa_event_mask_parse(const char *list, unsigned *mask, char *err,
                         size_t errlen)
{
    unsigned m = 0;
    const char *p = list;
    if (!*p) {
        snprintf(err, errlen, "empty event list");
        return -1;
    }
    for (;;) {
        size_t n = strcspn(p, ",");
        bool found = false;
        if ((n == 1 && *p == '*') || (n == 3 && strncmp(p, "all", 3) == 0)) {
            m |= (1u << HS_EVENT_TYPES) - 1;
            found = true;
        }
        for (int t = 0; t < HS_EVENT_TYPES && !found; t++) {
            const char *names[] = {event_names[t].env, event_names[t].short_,
                                   event_names[t].alias};
            for (int k = 0; k < 3; k++) {
                if (names[k] && strlen(names[k]) == n &&
                    strncmp(p, names[k], n) == 0) {
                    m |= 1u << t;
                    found = true;
                    break;
                }
            }
        }
        if (!found) {
            snprintf(err, errlen,
                     "unknown event type '%.*s' (one of member-join, "
                     "member-leave, member-fail, member-suspect, "
                     "member-recover, member-update, member-restart, "
                     "member-reap, member-conflict, user, query, or *)",
                     (int)(n > 64 ? 64 : n), p);
            return -1;
        }
        if (!p[n])
            break;
        p += n + 1;
    }
    *mask = m;
    return 0;
}

/* Whether [p, end) is one filter item: lowercase letters, '-' and '*',
 * or "user:NAME" with NAME printable (0x21..0x7e) but for ',' and '='. */
static bool filter_item(const char *p, const char *end)
{
    if ((end - p > 5 && strncmp(p, "user:", 5) == 0) ||
        (end - p > 6 && strncmp(p, "query:", 6) == 0)) {
        for (p += *p == 'u' ? 5 : 6; p < end; p++)
            if (*p < 0x21 || *p > 0x7e || *p == '=')
                return false;
        return true;
    }
    for (; p < end; p++)
        if (!(islower((unsigned char)*p) || *p == '-' || *p == '*'))
            return false;
    return true;
}

/* "[EVENTS=]CMD". The part before the first '=' is a filter only if it
 * looks like one (comma-separated items of lowercase letters, '-' and '*',
 * or serf's "user:NAME" for the user events named NAME), so commands such
 * as "VAR=1 /bin/x" still run unfiltered; a filter-looking prefix with an
 * unknown name is an error rather than a silently different command.
 * "user" alone takes every user event; "user:NAME" items take those
 * names only (kept after the command, in the same allocation, as
 * out->users: "NAME\0NAME\0\0"). */
int hsa_handler_spec_parse(const char *spec, hsa_handler_spec *out, char *err,
                           size_t errlen)
{
    const char *eq = strchr(spec, '=');
    const char *cmd = spec;
    unsigned mask = (1u << HS_EVENT_TYPES) - 1;
    char list[256], names[256], qnames[256];
    size_t n_names = 0, n_qnames = 0;
    bool all_users = false, queries = false, all_queries = false;
    if (eq && eq > spec) {
        bool filter = true;
        for (const char *p = spec; p < eq && filter;) {
            const char *end = memchr(p, ',', (size_t)(eq - p));
            if (!end)
                end = eq;
            filter = end > p && filter_item(p, end);
            p = end + 1;
        }
        if (filter) {
            size_t n = (size_t)(eq - spec), o = 0;
            if (n >= sizeof list) {
                snprintf(err, errlen, "event filter too long");
                return -1;
            }
            /* user:NAME items become "user" for the mask, and their
             * names are kept. */
            for (const char *p = spec; p < eq;) {
                const char *end = memchr(p, ',', (size_t)(eq - p));
                if (!end)
                    end = eq;
                size_t len = (size_t)(end - p);
                if (len > 6 && strncmp(p, "query:", 6) == 0) {
                    /* query:NAME: the same for queries. */
                    memcpy(qnames + n_qnames, p + 6, len - 6);
                    n_qnames += len - 6;
                    qnames[n_qnames++] = '\0';
                    memcpy(list + o, "query", 5);
                    o += 5;
                    queries = true;
                } else if (len > 5 && strncmp(p, "user:", 5) == 0) {
                    memcpy(names + n_names, p + 5, len - 5);
                    n_names += len - 5;
                    names[n_names++] = '\0';
                    memcpy(list + o, "user", 4);
                    o += 4;
                } else {
                    if (len == 4 && strncmp(p, "user", 4) == 0)
                        all_users = true;
                    if (len == 5 && strncmp(p, "query", 5) == 0)
                        queries = all_queries = true;
                    memcpy(list + o, p, len);
                    o += len;
                }
                list[o++] = ',';
                p = end + 1;
            }
            list[o ? o - 1 : 0] = '\0';
            if (hsa_event_mask_parse(list, &mask, err, errlen) < 0)
                return -1;
            if (mask == (1u << HS_EVENT_TYPES) - 1)
                all_users = true; /* "*" takes every user event too */
            cmd = eq + 1;
        }
    }
    while (*cmd == ' ')
        cmd++;
    if (!*cmd) {
        snprintf(err, errlen, "empty command");
        return -1;
    }
    if (all_users)
        n_names = 0;
    /* A handler's standard output answers the queries it takes, so only
     * one that names them ("query", query:NAME) runs for them: an
     * unfiltered or "*" handler never answers by accident. */
    if (!queries)
        mask &= ~(1u << HS_EVENT_QUERY);
    if (all_queries)
        n_qnames = 0;
    size_t cl = strlen(cmd);
    out->cmd = malloc(cl + 1 + n_names + 1 + n_qnames + 1);
    if (!out->cmd) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(out->cmd, cmd, cl + 1);
    out->users = NULL;
    if (n_names) {
        memcpy(out->cmd + cl + 1, names, n_names);
        out->cmd[cl + 1 + n_names] = '\0';
        out->users = out->cmd + cl + 1;
    }
    out->queries = NULL;
    if (n_qnames) {
        char *q = out->cmd + cl + 1 + n_names + 1;
        memcpy(q, qnames, n_qnames);
        q[n_qnames] = '\0';
        out->queries = q;
    }
    out->mask = mask;
    return 0;
}

void hsa_format_duration(uint32_t ms, char *buf, size_t len)
{
    if (ms && ms % 3600000u == 0)
        snprintf(buf, len, "%uh", ms / 3600000u);
    else if (ms && ms % 60000u == 0)
        snprintf(buf, len, "%um", ms / 60000u);
    else if (ms && ms % 1000u == 0)
        snprintf(buf, len, "%us", ms / 1000u);
    else
        snprintf(buf, len, "%ums", ms);
}
