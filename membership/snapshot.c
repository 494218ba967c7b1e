/*
 * snapshot.c — hs_node_members() and hs_node_member(): copies of the view
 * that the caller owns.
 *
 * A snapshot is one allocation: the list header, the hs_member array, every
 * member's hs_tag array and all the strings and values, laid out in that
 * order. One malloc and one free, no partial failure to unwind, and the
 * caller may hand it to another thread. It is built in two passes under the
 * node's lock (measure, then fill), so the view cannot change in between;
 * every size is added with an overflow check, since member and key counts
 * come from the network. Each pass walks the members in order and each
 * member's keys with hs__core_key_next: no lookup by name per key (that
 * made a member with K keys cost K^2, twice, under the lock), so a
 * snapshot costs what it copies (tests/unit/test_snapshot.c counts it).
 */
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "membership/node_impl.h"

typedef struct sizer {
    size_t bytes; /* strings and values */
    size_t tags;
    bool overflow;
} sizer;

static void add(sizer *s, size_t *acc, size_t v)
{
    if (SIZE_MAX - *acc < v)
        s->overflow = true;
    else
        *acc += v;
}

/* The i-th selected member: all members in name order, or just `only`. */
static bool get_member(hs_node *n, const char *only, size_t i, uint64_t now,
                       hs_member_info *info)
{
    if (only)
        return i == 0 && hs__core_member_get(n->core, only, now, info) == HS_OK;
    return hs__core_member_at(n->core, i, now, info) == HS_OK;
}

static void measure(hs_node *n, const char *only, uint64_t now, sizer *s,
                    size_t *count)
{
    hs_member_info info;
    size_t i = 0;
    for (; get_member(n, only, i, now, &info); i++) {
        add(s, &s->bytes, strlen(info.name) + 1);
        add(s, &s->bytes, strlen(info.addr) + 1);
        const char *key;
        const uint8_t *value;
        size_t len;
        for (uint32_t pos = 0;
             hs__core_key_next(&info, &pos, &key, &value, &len);) {
            add(s, &s->tags, 1);
            add(s, &s->bytes, strlen(key) + 1);
            add(s, &s->bytes, len);
            add(s, &s->bytes, 1); /* the NUL after each value */
        }
    }
    *count = i;
}

static char *put(char **pool, const void *src, size_t len)
{
    char *at = *pool;
    if (len)
        memcpy(at, src, len);
    at[len] = 0;
    *pool += len + 1;
    return at;
}

static size_t align_up(size_t v, size_t a)
{
    return (v + a - 1) / a * a;
}

static hs_err build(hs_node *n, const char *only, hs_member_list **out)
{
    uint64_t now = n->state == HS_NODE_STOPPED ? n->stopped_ms : hs_loop_now(n);
    sizer s = {0, 0, false};
    size_t count = 0;
    measure(n, only, now, &s, &count);
    if (only && count == 0)
        return HS_ENOTFOUND;

    /* Layout: list | members[count] | tags[s.tags] | bytes. */
    size_t off_members = align_up(sizeof(hs_member_list), alignof(hs_member));
    size_t off_tags = 0, off_bytes = 0, total = 0;
    if (s.overflow || count > (SIZE_MAX - off_members) / sizeof(hs_member))
        return HS_ENOMEM;
    off_tags =
        align_up(off_members + count * sizeof(hs_member), alignof(hs_tag));
    if (s.tags > (SIZE_MAX - off_tags) / sizeof(hs_tag))
        return HS_ENOMEM;
    off_bytes = off_tags + s.tags * sizeof(hs_tag);
    if (SIZE_MAX - off_bytes < s.bytes)
        return HS_ENOMEM;
    total = off_bytes + s.bytes;

    char *mem = malloc(total);
    if (!mem)
        return HS_ENOMEM;
    hs_member_list *list = (hs_member_list *)mem;
    hs_member *members = (hs_member *)(mem + off_members);
    hs_tag *tags = (hs_tag *)(mem + off_tags);
    char *pool = mem + off_bytes;

    hs_member_info info;
    for (size_t i = 0; i < count; i++) {
        get_member(n, only, i, now, &info);
        hs_member *m = &members[i];
        uint64_t since = info.state_since_ms;
        /* The core starts its own member's clock at 0: count from start. */
        if (since < n->started_ms)
            since = n->started_ms;
        *m = (hs_member){.name = put(&pool, info.name, strlen(info.name)),
                         .addr = put(&pool, info.addr, strlen(info.addr)),
                         .generation = info.generation,
                         .state = info.state,
                         .heartbeat = info.heartbeat,
                         .phi = info.phi,
                         .state_age_ms = now > since ? now - since : 0,
                         .is_self = info.is_self,
                         .n_tags = 0,
                         .tags = tags};
        const char *key;
        const uint8_t *value;
        size_t len;
        for (uint32_t pos = 0;
             hs__core_key_next(&info, &pos, &key, &value, &len);) {
            hs_tag *t = &tags[m->n_tags++];
            t->key = put(&pool, key, strlen(key));
            t->value = (const uint8_t *)put(&pool, value, len);
            t->value_len = len;
        }
        tags += m->n_tags;
    }
    list->count = count;
    list->members = members;
    *out = list;
    return HS_OK;
}

static hs_err snapshot(hs_node *n, const char *only, hs_member_list **out)
{
    if (!out)
        return HS_EINVAL;
    *out = NULL;
    if (!n)
        return HS_EINVAL;
    pthread_mutex_lock(&n->mu);
    hs_err err = n->core ? build(n, only, out) : HS_ESTATE;
    pthread_mutex_unlock(&n->mu);
    return err;
}

HS_EXPORT hs_err hs_node_members(hs_node *n, hs_member_list **out)
{
    return snapshot(n, NULL, out);
}

HS_EXPORT hs_err hs_node_member(hs_node *n, const char *name,
                                hs_member_list **out)
{
    if (!name) {
        if (out)
            *out = NULL;
        return HS_EINVAL;
    }
    return snapshot(n, name, out);
}

HS_EXPORT void hs_member_list_free(hs_member_list *list)
{
    free(list);
}
