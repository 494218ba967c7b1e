/*
 * abi_client.c — a program as an embedder wrote it against libhearsay 0.1:
 * compiled against tests/abi/v0.1/hearsay.h (the header as released),
 * linked against the shared library just built, and run. It must keep
 * working with every later 0.x library.
 *
 * It exercises what an old program relies on: the option table by name
 * and by position (an option renamed or moved fails here), configuration
 * through the setters, two real nodes on loopback gossiping in their own
 * threads, events read through the released hs_event layout, member lists
 * walked with the released hs_member stride, statistics by name and by
 * position, and the caller-allocated hs_join_status. Exit status 0, or 1
 * with each failure named.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hearsay.h"
#include "tables.h"

static int failures;

__attribute__((format(printf, 2, 3))) static void check(bool ok,
                                                        const char *fmt, ...)
{
    if (ok)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "ABI FAIL: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    failures++;
}

#define N(a) (sizeof(a) / sizeof *(a))

static void options_as_released(void)
{
    check(hs_option_count() >= N(released_options),
          "%zu options, the released library had %zu", hs_option_count(),
          N(released_options));
    hs_config *c = NULL;
    check(hs_config_new(&c) == HS_OK, "hs_config_new");
    for (size_t i = 0; i < N(released_options); i++) {
        const struct released_option *r = &released_options[i];
        const hs_option *o = hs_option_find(r->name);
        check(o != NULL, "option \"%s\" is gone (renamed?)", r->name);
        if (!o)
            continue;
        const hs_option *at = hs_option_at(i);
        check(at == o, "option \"%s\" moved from position %zu (now \"%s\")",
              r->name, i, at ? at->name : "none");
        check(o->type == r->type, "option \"%s\": type %d, released %d",
              r->name, (int)o->type, (int)r->type);
        check((!o->dflt && !r->dflt) ||
                  (o->dflt && r->dflt && !strcmp(o->dflt, r->dflt)),
              "option \"%s\": default %s, released %s", r->name,
              o->dflt ? o->dflt : "(none)", r->dflt ? r->dflt : "(none)");
        char buf[HS_NAME_MAX + 1];
        check(hs_config_get_str(c, r->name, buf, sizeof buf) == HS_OK &&
                  !strcmp(buf, r->dflt ? r->dflt : ""),
              "option \"%s\": a new config reads \"%s\"", r->name, buf);
    }
    hs_config_free(c);
}

static void stats_as_released(const hs_stats *st)
{
    check(hs_stat_count() >= N(released_stats),
          "%zu statistics, the released library had %zu", hs_stat_count(),
          N(released_stats));
    for (size_t i = 0; i < N(released_stats); i++) {
        const struct released_stat *r = &released_stats[i];
        const hs_stat_info *si = hs_stat_find(r->name);
        check(si != NULL, "statistic \"%s\" is gone", r->name);
        if (!si)
            continue;
        check(hs_stat_at(i) == si, "statistic \"%s\" moved from %zu", r->name,
              i);
        check(si->kind == r->kind && si->index == r->index,
              "statistic \"%s\": kind or index changed", r->name);
        check(si->len >= r->len, "statistic \"%s\": %zu values, released %zu",
              r->name, si->len, r->len);
        uint64_t v = 0;
        check(hs_stats_get(st, r->name, r->len - 1, &v) == HS_OK,
              "statistic \"%s\"[%zu] unreadable", r->name, r->len - 1);
        check(hs_stats_value(st, i, 0) == (hs_stats_get(st, r->name, 0, &v), v),
              "statistic \"%s\": by position and by name differ", r->name);
    }
}

/* ---- Two nodes ----------------------------------------------------------- */

typedef struct seen {
    int joins;   /* JOIN of the other node */
    int updates; /* UPDATE of key "abi" with a name */
} seen;

static void on_event(hs_node *node, const hs_event *ev, void *arg)
{
    (void)node;
    seen *s = arg;
    /* Read through the released hs_event layout. */
    if (ev->type == HS_EVENT_JOIN && ev->name && ev->addr &&
        ev->state == HS_STATE_ALIVE)
        __atomic_add_fetch(&s->joins, 1, __ATOMIC_SEQ_CST);
    if (ev->type == HS_EVENT_UPDATE && ev->key && !strcmp(ev->key, "abi") &&
        !ev->deleted && !ev->local)
        __atomic_add_fetch(&s->updates, 1, __ATOMIC_SEQ_CST);
}

static void quiet(void *arg, hs_log_level level, const char *line)
{
    (void)arg;
    if (level == HS_LOG_ERROR)
        fprintf(stderr, "%s\n", line);
}

static hs_node *node(const char *name, seen *s)
{
    hs_config *c = NULL;
    hs_node *n = NULL;
    hs_err e = hs_config_new(&c);
    if (e == HS_OK)
        e = hs_config_set_str(c, "name", name);
    if (e == HS_OK)
        e = hs_config_set_str(c, "cluster", "abi");
    if (e == HS_OK)
        e = hs_config_set_str(c, "bind", "127.0.0.1:0");
    if (e == HS_OK)
        e = hs_config_set_str(c, "gossip-interval", "100ms");
    if (e == HS_OK)
        e = hs_config_set_uint(c, "heartbeat-interval", 100);
    if (e == HS_OK)
        e = hs_config_set_double(c, "phi-threshold", 8);
    if (e == HS_OK)
        e = hs_config_set_log(c, quiet, NULL);
    hs_config *copy = NULL;
    if (e == HS_OK)
        e = hs_config_dup(c, &copy);
    hs_config_free(c);
    if (e == HS_OK)
        e = hs_node_new(copy, NULL, &n);
    hs_config_free(copy);
    if (e == HS_OK)
        e = hs_node_on(n, ~0u, on_event, s);
    check(e == HS_OK, "node %s: %s", name, hs_strerror(e));
    return e == HS_OK ? n : NULL;
}

static void sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static void two_nodes(void)
{
    seen sa = {0, 0}, sb = {0, 0};
    hs_node *a = node("a", &sa), *b = node("b", &sb);
    if (!a || !b)
        goto out;
    check(hs_node_set(b, "abi", "1", 1) == HS_OK, "set before start");
    check(hs_node_start(a) == HS_OK, "start a");
    char addr[HS_ADDRSTRLEN];
    check(hs_node_bound_addr(a, addr, sizeof addr) == HS_OK, "bound addr");
    const char *seed = addr;
    check(hs_node_join(b, &seed, 1) == HS_OK, "join");
    check(hs_node_start(b) == HS_OK, "start b");
    /* Bounded wait for the condition, not a timed assert. */
    for (int i = 0; i < 300; i++) {
        if (__atomic_load_n(&sa.joins, __ATOMIC_SEQ_CST) >= 1 &&
            __atomic_load_n(&sb.joins, __ATOMIC_SEQ_CST) >= 1)
            break;
        sleep_ms(100);
    }
    check(sa.joins >= 1 && sb.joins >= 1, "no JOIN events (a %d, b %d)",
          sa.joins, sb.joins);
    check(hs_node_set(b, "abi", "2", 1) == HS_OK, "set after start");
    for (int i = 0;
         i < 300 && __atomic_load_n(&sa.updates, __ATOMIC_SEQ_CST) < 1; i++)
        sleep_ms(100);
    check(sa.updates >= 1, "no UPDATE of key abi at a");

    /* The member list, walked with the released stride. */
    hs_member_list *l = NULL;
    check(hs_node_members(a, &l) == HS_OK && l, "members");
    if (l) {
        check(l->count == 2, "%zu members", l->count);
        for (size_t i = 0; i < l->count && l->count == 2; i++) {
            const hs_member *m = &l->members[i];
            check(!strcmp(m->name, i ? "b" : "a"), "member %zu is %s", i,
                  m->name);
            check(m->is_self == (i == 0), "member %s: is_self", m->name);
            check(m->state == HS_STATE_ALIVE, "member %s not alive", m->name);
            if (i == 1)
                check(m->n_tags == 1 && !strcmp(m->tags[0].key, "abi") &&
                          m->tags[0].value_len == 1,
                      "member b's tags");
        }
        hs_member_list_free(l);
    }

    hs_stats *st = NULL;
    check(hs_node_stats(a, &st) == HS_OK && st, "stats");
    if (st) {
        uint64_t rounds = 0, syn = 0, cl = 0;
        check(hs_stats_get(st, "rounds", 0, &rounds) == HS_OK && rounds > 0,
              "rounds");
        check(hs_stats_get(st, "msgs_sent", 1, &syn) == HS_OK && syn > 0,
              "msgs_sent[syn]");
        check(hs_stats_get(st, "rejected", (size_t)-HS_ECLUSTER, &cl) == HS_OK,
              "rejected[ECLUSTER]");
        stats_as_released(st);
        hs_stats_free(st);
    }
    uint64_t v = 0;
    check(hs_node_stat(a, "rounds", 0, &v) == HS_OK && v > 0, "hs_node_stat");

    hs_join_status js;
    check(hs_node_join_status(b, &js) == HS_OK, "join status");
    check(js.joined && js.seeds == 1, "join status: joined %d, seeds %u",
          (int)js.joined, js.seeds);
    check(hs_node_leave(b, 200, NULL, NULL) == HS_OK, "leave");
out:
    hs_node_free(a);
    hs_node_free(b);
}

int main(void)
{
    printf("abi_client: built against %d.%d.%d, running libhearsay %s\n",
           HS_VERSION_MAJOR, HS_VERSION_MINOR, HS_VERSION_PATCH,
           hs_version_string());
    check(hs_version() >> 16 == HS_VERSION_MAJOR, "major version changed");
    check(!strcmp(hs_err_name(HS_EPLAINTEXT), "EPLAINTEXT"), "error names");
    options_as_released();
    two_nodes();
    if (failures)
        fprintf(stderr, "abi_client: %d failure(s)\n", failures);
    else
        printf("abi_client: ok\n");
    return failures ? 1 : 0;
}
