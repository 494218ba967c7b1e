/*
 * json.c — the HTTP API's JSON documents (see json.h).
 *
 * 64-bit counters: JSON numbers are doubles for most readers, and jansson's
 * integers are signed; generation and heartbeat are emitted as integers and
 * clamped at INT64_MAX (a millisecond generation reaches that in 292 million
 * years). phi can be +inf for a member that went silent long ago: JSON has
 * no infinity, so a non-finite phi is emitted as null.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "agent/json.h"

int hsa_state_mask_parse(const char *list, unsigned *mask)
{
    unsigned m = 0;
    const char *p = list;
    for (;;) {
        size_t n = strcspn(p, ",");
        bool found = false;
        for (int s = HS_STATE_ALIVE; s <= HS_STATE_LEFT; s++) {
            const char *name = hs_member_state_name((hs_member_state)s);
            if (strlen(name) == n && strncmp(p, name, n) == 0) {
                m |= 1u << s;
                found = true;
            }
        }
        if (!found)
            return -1;
        if (!p[n])
            break;
        p += n + 1;
    }
    *mask = m;
    return 0;
}

static json_int_t clamp64(uint64_t v)
{
    return v > (uint64_t)INT64_MAX ? (json_int_t)INT64_MAX : (json_int_t)v;
}

char *hsa_utf8_sanitize(const uint8_t *p, size_t n, size_t *out_len)
{
    /* Worst case every byte becomes the 3-byte U+FFFD. */
    if (n > (SIZE_MAX - 1) / 3)
        return NULL;
    char *out = malloc(n * 3 + 1);
    if (!out)
        return NULL;
    size_t o = 0, i = 0;
    while (i < n) {
        uint8_t c = p[i];
        size_t need;
        uint32_t cp;
        if (c < 0x80) {
            out[o++] = (char)c;
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            need = 1;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            need = 2;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            need = 3;
            cp = c & 0x07;
        } else {
            goto bad;
        }
        if (i + need >= n)
            goto bad; /* the sequence runs past the end */
        for (size_t k = 1; k <= need; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                goto bad;
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        /* Overlong forms, surrogates and values past U+10FFFF. */
        if ((need == 1 && cp < 0x80) || (need == 2 && cp < 0x800) ||
            (need == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            goto bad;
        memcpy(out + o, p + i, need + 1);
        o += need + 1;
        i += need + 1;
        continue;
    bad:
        memcpy(out + o, "\xef\xbf\xbd", 3);
        o += 3;
        i++;
    }
    out[o] = '\0';
    if (out_len)
        *out_len = o;
    return out;
}

/* Sets obj[key] to a new reference; returns -1 if v is NULL or the set
 * fails (v is consumed either way). */
static int put(json_t *obj, const char *key, json_t *v)
{
    if (!v)
        return -1;
    return json_object_set_new(obj, key, v);
}

static json_t *tags_json(const hs_member *m)
{
    json_t *tags = json_object();
    if (!tags)
        return NULL;
    for (size_t i = 0; i < m->n_tags; i++) {
        size_t len;
        char *v =
            hsa_utf8_sanitize(m->tags[i].value, m->tags[i].value_len, &len);
        char *k = hsa_utf8_sanitize((const uint8_t *)m->tags[i].key,
                                    strlen(m->tags[i].key), NULL);
        int rc = (v && k) ? put(tags, k, json_stringn(v, len)) : -1;
        free(v);
        free(k);
        if (rc < 0) {
            json_decref(tags);
            return NULL;
        }
    }
    return tags;
}

static json_t *phi_json(double phi)
{
    return isfinite(phi) ? json_real(phi) : json_null();
}

/* A string that may hold bytes from the network. */
static json_t *str_json(const char *s)
{
    if (!s)
        return json_null();
    size_t len;
    char *c = hsa_utf8_sanitize((const uint8_t *)s, strlen(s), &len);
    if (!c)
        return NULL;
    json_t *j = json_stringn(c, len);
    free(c);
    return j;
}

static json_t *member_json(const hs_member *m)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    if (put(o, "name", str_json(m->name)) < 0 ||
        put(o, "addr", str_json(m->addr)) < 0 ||
        put(o, "state", json_string(hs_member_state_name(m->state))) < 0 ||
        put(o, "generation", json_integer(clamp64(m->generation))) < 0 ||
        put(o, "heartbeat", json_integer(clamp64(m->heartbeat))) < 0 ||
        put(o, "phi", phi_json(m->phi)) < 0 ||
        put(o, "state_age_ms", json_integer(clamp64(m->state_age_ms))) < 0 ||
        put(o, "self", json_boolean(m->is_self)) < 0 ||
        put(o, "tags", tags_json(m)) < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* Serialises and frees j. */
static char *dump(json_t *j, size_t *len)
{
    if (!j)
        return NULL;
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);
    if (s && len)
        *len = strlen(s);
    return s;
}

char *hsa_json_members(const char *self, const hs_member_list *l,
                       unsigned state_mask, size_t *len)
{
    json_t *root = json_object();
    json_t *arr = json_array();
    if (!root || !arr || put(root, "self", str_json(self)) < 0) {
        json_decref(arr);
        json_decref(root);
        return NULL;
    }
    if (json_object_set_new(root, "members", arr) < 0) {
        json_decref(root);
        return NULL;
    }
    for (size_t i = 0; l && i < l->count; i++) {
        const hs_member *m = &l->members[i];
        if (state_mask && !(state_mask & (1u << m->state)))
            continue;
        if (json_array_append_new(arr, member_json(&l->members[i])) < 0) {
            json_decref(root);
            return NULL;
        }
    }
    return dump(root, len);
}

char *hsa_json_member(const hs_member *m, size_t *len)
{
    return dump(member_json(m), len);
}

void hsa_time_iso(char *buf, size_t len)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L);
}

/* Standard base64 with padding, NUL-terminated; NULL on out of memory. */
static char *base64(const uint8_t *p, size_t n)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = malloc((n + 2) / 3 * 4 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        out[o++] = tab[(v >> 18) & 63];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

/* A user event's own fields: the event's name (the member's is "origin"),
 * its payload as text when it is UTF-8 (else null) and always as base64,
 * its Lamport time. */
static int put_user(json_t *o, const hs_event *ev)
{
    char *b64 = base64(ev->user_payload, ev->user_payload_len);
    if (!b64)
        return -1;
    /* jansson refuses bytes that are not UTF-8: then the text is null. */
    json_t *text =
        json_stringn((const char *)ev->user_payload, ev->user_payload_len);
    int r =
        put(o, "origin", str_json(ev->name)) < 0 ||
                put(o, "name", str_json(ev->user_name)) < 0 ||
                put(o, "payload", text ? text : json_null()) < 0 ||
                put(o, "payload_base64", json_string(b64)) < 0 ||
                put(o, "payload_len",
                    json_integer((json_int_t)ev->user_payload_len)) < 0 ||
                put(o, "ltime", json_integer(clamp64(ev->user_ltime))) < 0 ||
                put(o, "local", json_boolean(ev->local)) < 0
            ? -1
            : 0;
    free(b64);
    return r;
}

char *hsa_json_event(const hs_event *ev, const hs_member *m, uint64_t id,
                     size_t *len)
{
    char now[40];
    hsa_time_iso(now, sizeof now);
    json_t *o = json_object();
    if (!o)
        return NULL;
    if (put(o, "id", json_integer(clamp64(id))) < 0 ||
        put(o, "type", json_string(hs_event_type_name(ev->type))) < 0 ||
        put(o, "time", json_string(now)) < 0 ||
        put(o, "name", str_json(ev->name)) < 0 ||
        put(o, "addr", str_json(ev->addr)) < 0 ||
        put(o, "generation", json_integer(clamp64(ev->generation))) < 0 ||
        put(o, "state", json_string(hs_member_state_name(ev->state))) < 0)
        goto fail;
    if (ev->type == HS_EVENT_UPDATE &&
        (put(o, "key", str_json(ev->key)) < 0 ||
         put(o, "deleted", json_boolean(ev->deleted)) < 0 ||
         put(o, "local", json_boolean(ev->local)) < 0))
        goto fail;
    if (ev->type == HS_EVENT_USER && ev->user_name && put_user(o, ev) < 0)
        goto fail;
    /* A query: the same fields (ltime 0) and this node's handle for it. */
    if (ev->type == HS_EVENT_QUERY && ev->user_name &&
        (put_user(o, ev) < 0 ||
         put(o, "query_id", json_integer(clamp64(ev->query_id))) < 0 ||
         put(o, "timeout_ms", json_integer((json_int_t)ev->query_timeout_ms)) <
             0))
        goto fail;
    if (m && (put(o, "heartbeat", json_integer(clamp64(m->heartbeat))) < 0 ||
              put(o, "phi", phi_json(m->phi)) < 0 ||
              put(o, "tags", tags_json(m)) < 0))
        goto fail;
    return dump(o, len);
fail:
    json_decref(o);
    return NULL;
}

char *hsa_json_error(size_t *len, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *o = json_object();
    if (!o || put(o, "error", str_json(msg)) < 0) {
        json_decref(o);
        return NULL;
    }
    return dump(o, len);
}

char *hsa_json_pairs(size_t *len, const char *k1, const char *v1,
                     const char *k2, const char *v2)
{
    json_t *o = json_object();
    if (!o || (k1 && put(o, k1, str_json(v1)) < 0) ||
        (k2 && put(o, k2, str_json(v2)) < 0)) {
        json_decref(o);
        return NULL;
    }
    return dump(o, len);
}
