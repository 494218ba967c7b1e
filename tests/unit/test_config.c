/*
 * test_config.c — the option table and the statistics table behind the
 * public header, and the promise that a failed hs_node_start() leaves the
 * node as it was.
 *
 * The tables are the ABI: a program reads options and counters by name
 * or position, so these tests pin what a name means (its default, its
 * bounds, the slot it reads) rather than any struct layout. The defaults
 * are also checked against the core's own (hs__core_config_init), which
 * the simulator uses directly: the two must never disagree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "hearsay.h"
#include "membership/core.h"
#include "membership/stats.h"

size_t hs__stats_values_total(void); /* stats.c */

static hs_config *fresh(void)
{
    hs_config *c = NULL;
    assert_int_equal(hs_config_new(&c), HS_OK);
    assert_non_null(c);
    return c;
}

/* ---- Options ------------------------------------------------------------ */

static void every_option_is_described_and_round_trips(void **state)
{
    (void)state;
    hs_config *c = fresh();
    assert_true(hs_option_count() >= 24);
    assert_null(hs_option_at(hs_option_count()));
    for (size_t i = 0; i < hs_option_count(); i++) {
        const hs_option *o = hs_option_at(i);
        assert_non_null(o);
        assert_non_null(o->name);
        assert_non_null(o->help);
        assert_non_null(o->metavar);
        assert_true(o->help[0] != '\0');
        assert_ptr_equal(hs_option_find(o->name), o);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(hs_option_at(j)->name, o->name);
        /* The names are hearsayd's flags: lower case and dashes. */
        for (const char *p = o->name; *p; p++)
            assert_true((*p >= 'a' && *p <= 'z') || *p == '-');
        char buf[HS_NAME_MAX + 1];
        assert_int_equal(hs_config_get_str(c, o->name, buf, sizeof buf), HS_OK);
        assert_string_equal(buf, o->dflt ? o->dflt : "");
        if (o->dflt)
            assert_int_equal(hs_config_set_str(c, o->name, o->dflt), HS_OK);
        if (o->type == HS_OPT_ENUM) {
            assert_non_null(o->choices);
            size_t n = 0;
            while (o->choices[n])
                n++;
            assert_int_equal(n, o->max + 1);
        }
    }
    assert_null(hs_option_find("no-such-option"));
    assert_null(hs_option_find(NULL));
    hs_config_free(c);
}

static void bounds_and_types_are_enforced(void **state)
{
    (void)state;
    hs_config *c = fresh();
    for (size_t i = 0; i < hs_option_count(); i++) {
        const hs_option *o = hs_option_at(i);
        char before[HS_NAME_MAX + 1], after[HS_NAME_MAX + 1];
        assert_int_equal(hs_config_get_str(c, o->name, before, sizeof before),
                         HS_OK);
        uint64_t u;
        double d;
        switch (o->type) {
        case HS_OPT_UINT:
        case HS_OPT_MS:
        case HS_OPT_ENUM:
            assert_int_equal(hs_config_set_uint(c, o->name, o->min), HS_OK);
            assert_int_equal(hs_config_get_uint(c, o->name, &u), HS_OK);
            assert_int_equal(u, o->min);
            if (o->min > 0)
                assert_int_equal(hs_config_set_uint(c, o->name, o->min - 1),
                                 HS_EINVAL);
            if (o->max < UINT64_MAX)
                assert_int_equal(hs_config_set_uint(c, o->name, o->max + 1),
                                 HS_EINVAL);
            assert_int_equal(hs_config_set_double(c, o->name, 1.0), HS_EINVAL);
            assert_int_equal(hs_config_get_double(c, o->name, &d), HS_EINVAL);
            assert_int_equal(hs_config_set_str(c, o->name, "x1"), HS_EINVAL);
            break;
        case HS_OPT_DOUBLE:
            assert_int_equal(hs_config_set_double(c, o->name, o->max_double),
                             HS_OK);
            assert_int_equal(
                hs_config_set_double(c, o->name, o->max_double + 1), HS_EINVAL);
            assert_int_equal(
                hs_config_set_double(c, o->name, o->min_double - 1), HS_EINVAL);
            assert_int_equal(hs_config_set_uint(c, o->name, 1), HS_EINVAL);
            assert_int_equal(hs_config_get_uint(c, o->name, &u), HS_EINVAL);
            break;
        case HS_OPT_STR:
        case HS_OPT_ADDR:
            assert_int_equal(hs_config_set_uint(c, o->name, 1), HS_EINVAL);
            break;
        }
        /* A refused value leaves the option as it was before it. */
        if (o->dflt) {
            assert_int_equal(hs_config_set_str(c, o->name, o->dflt), HS_OK);
            assert_int_equal(hs_config_get_str(c, o->name, after, sizeof after),
                             HS_OK);
            assert_string_equal(before, after);
        }
    }
    assert_int_equal(hs_config_set_str(c, "cluster", "has space"), HS_EINVAL);
    assert_int_equal(hs_config_set_str(c, "cluster", NULL), HS_EINVAL);
    assert_int_equal(hs_config_set_str(c, "nope", "1"), HS_ENOTFOUND);
    assert_int_equal(hs_config_set_uint(c, "nope", 1), HS_ENOTFOUND);
    assert_int_equal(hs_config_set_double(c, "nope", 1), HS_ENOTFOUND);
    char buf[8];
    assert_int_equal(hs_config_get_str(c, "nope", buf, sizeof buf),
                     HS_ENOTFOUND);
    assert_int_equal(hs_config_get_str(c, "bind", buf, 4), HS_ENOSPC);
    assert_int_equal(hs_config_set_str(NULL, "bind", "x"), HS_EINVAL);
    hs_config_free(c);
}

static void text_is_parsed_by_type(void **state)
{
    (void)state;
    hs_config *c = fresh();
    uint64_t u;
    double d;
    char buf[64];
    assert_int_equal(hs_config_set_str(c, "gossip-interval", "1.5s"), HS_OK);
    assert_int_equal(hs_config_get_uint(c, "gossip-interval", &u), HS_OK);
    assert_int_equal(u, 1500);
    assert_int_equal(hs_config_set_str(c, "reap-dead-after", "2h"), HS_OK);
    assert_int_equal(hs_config_get_str(c, "reap-dead-after", buf, sizeof buf),
                     HS_OK);
    assert_string_equal(buf, "2h");
    assert_int_equal(hs_config_set_str(c, "dead-after", "250"), HS_OK);
    assert_int_equal(hs_config_get_str(c, "dead-after", buf, sizeof buf),
                     HS_OK);
    assert_string_equal(buf, "250ms");
    assert_int_equal(hs_config_set_str(c, "dead-after", "soon"), HS_EINVAL);
    assert_int_equal(hs_config_set_str(c, "mode", "pull"), HS_OK);
    assert_int_equal(hs_config_get_uint(c, "mode", &u), HS_OK);
    assert_int_equal(u, HS_MODE_PULL);
    assert_int_equal(hs_config_set_str(c, "mode", "shout"), HS_EINVAL);
    assert_int_equal(hs_config_set_str(c, "log-level", "debug"), HS_OK);
    assert_int_equal(hs_config_get_uint(c, "log-level", &u), HS_OK);
    assert_int_equal(u, HS_LOG_DEBUG);
    assert_int_equal(hs_config_set_str(c, "phi-threshold", "9.5"), HS_OK);
    assert_int_equal(hs_config_get_double(c, "phi-threshold", &d), HS_OK);
    assert_true(d == 9.5);
    assert_int_equal(hs_config_set_str(c, "phi-threshold", "9x"), HS_EINVAL);
    assert_int_equal(hs_config_set_str(c, "fanout", "-1"), HS_EINVAL);
    assert_int_equal(hs_config_set_str(c, "advertise", "10.0.0.1:7946"), HS_OK);
    assert_int_equal(hs_config_set_str(c, "advertise", NULL), HS_OK);
    assert_int_equal(hs_config_get_str(c, "advertise", buf, sizeof buf), HS_OK);
    assert_string_equal(buf, "");

    /* A copy is independent of its original. */
    char key[HS_KEY_TEXT_LEN];
    assert_int_equal(hs_key_generate(key, sizeof key), HS_OK);
    const char *keys[] = {key};
    assert_int_equal(hs_config_set_keys(c, keys, 1), HS_OK);
    assert_int_equal(hs_config_set_keys(c, keys, HS_KEYS_MAX + 1), HS_EINVAL);
    const char *null_key[] = {NULL};
    assert_int_equal(hs_config_set_keys(c, null_key, 1), HS_EINVAL);
    assert_int_equal(hs_config_set_str(c, "cluster", "c1"), HS_OK);
    hs_config *d2 = NULL;
    assert_int_equal(hs_config_dup(c, &d2), HS_OK);
    hs_config_free(c);
    assert_int_equal(hs_config_get_str(d2, "mode", buf, sizeof buf), HS_OK);
    assert_string_equal(buf, "pull");
    /* Strings are the copy's own (ASan sees a use after free otherwise). */
    assert_int_equal(hs_config_get_str(d2, "cluster", buf, sizeof buf), HS_OK);
    assert_string_equal(buf, "c1");
    hs_config_free(d2);
    hs_config_free(NULL);
    assert_int_equal(hs_config_new(NULL), HS_EINVAL);
}

/* The table's defaults are the core's: the simulator and the core tests
 * run on hs__core_config_init(), programs on the table. */
static void defaults_agree_with_the_core(void **state)
{
    (void)state;
    hs_core_config cc;
    hs__core_config_init(&cc);
    hs_config *c = fresh();
    struct {
        const char *name;
        uint64_t core;
    } u[] = {
        {"mode", (uint64_t)cc.mode},
        {"gossip-interval", cc.gossip_interval_ms},
        {"heartbeat-interval", cc.heartbeat_interval_ms},
        {"fanout", cc.fanout},
        {"dead-after", cc.dead_after_ms},
        {"reap-dead-after", cc.reap_dead_after_ms},
        {"reap-left-after", cc.reap_left_after_ms},
        {"tombstone-gc", cc.tombstone_gc_ms},
        {"max-datagram", cc.max_datagram},
        {"max-members", cc.max_members},
        {"max-keys", cc.max_keys},
        {"max-pending-sends", cc.max_pending},
    };
    for (size_t i = 0; i < sizeof u / sizeof *u; i++) {
        uint64_t v = 0;
        assert_int_equal(hs_config_get_uint(c, u[i].name, &v), HS_OK);
        if (v != u[i].core)
            fail_msg("%s: table %llu, core %llu", u[i].name,
                     (unsigned long long)v, (unsigned long long)u[i].core);
    }
    double phi = 0;
    assert_int_equal(hs_config_get_double(c, "phi-threshold", &phi), HS_OK);
    assert_true(phi == cc.phi_threshold);
    hs_config_free(c);
}

/* ---- Statistics --------------------------------------------------------- */

static void every_counter_has_one_name(void **state)
{
    (void)state;
    /* Every value of the private struct is reachable by some name. */
    assert_int_equal(hs__stats_values_total(),
                     sizeof(struct hs_stats) / sizeof(uint64_t));
    assert_null(hs_stat_at(hs_stat_count()));
    assert_int_equal(hs_stat_find("rejected")->len, HS_REASONS);
    assert_int_equal(hs_stat_find("msgs_sent")->len, HS_MSG_TYPES);
    assert_int_equal(hs_stat_find("events")->len, HS_EVENT_TYPES);
    assert_int_equal(hs_stat_find("rounds")->len, 1);
    assert_int_equal(hs_stat_find("max_datagram_sent")->kind, HS_STAT_GAUGE);
    assert_null(hs_stat_find("nope"));

    /* Distinct values in every slot: each (name, index) reads its own. */
    struct hs_stats st;
    uint64_t *slot = (uint64_t *)&st;
    size_t n = sizeof st / sizeof *slot;
    for (size_t i = 0; i < n; i++)
        slot[i] = 1000 + i;
    bool *seen = calloc(n, sizeof *seen);
    assert_non_null(seen);
    for (size_t s = 0; s < hs_stat_count(); s++) {
        const hs_stat_info *si = hs_stat_at(s);
        assert_ptr_equal(hs_stat_find(si->name), si);
        assert_non_null(si->help);
        for (size_t i = 0; i < si->len; i++) {
            uint64_t v = 0;
            assert_int_equal(hs_stats_get(&st, si->name, i, &v), HS_OK);
            assert_int_equal(hs_stats_value(&st, s, i), v);
            assert_true(v >= 1000 && v < 1000 + n);
            assert_false(seen[v - 1000]);
            seen[v - 1000] = true;
        }
        uint64_t v;
        assert_int_equal(hs_stats_get(&st, si->name, si->len, &v), HS_EINVAL);
        assert_int_equal(hs_stats_value(&st, s, si->len), 0);
    }
    free(seen);
    /* Named fields land where their names say. */
    st.rounds = 42;
    st.rejected[-HS_ECLUSTER] = 7;
    uint64_t v = 0;
    assert_int_equal(hs_stats_get(&st, "rounds", 0, &v), HS_OK);
    assert_int_equal(v, 42);
    assert_int_equal(hs_stats_get(&st, "rejected", -HS_ECLUSTER, &v), HS_OK);
    assert_int_equal(v, 7);
}

static void error_range_follows_the_map(void **state)
{
    (void)state;
    int count = 0;
#define COUNT_(name, val, msg) count++;
    HS_ERRNO_MAP(COUNT_)
#undef COUNT_
    assert_int_equal(HS_ERR_LAST_, -count);
    assert_string_not_equal(hs_err_name(HS_ERR_LAST_ + 1), "EUNKNOWN");
    assert_string_equal(hs_err_name(HS_ERR_LAST_), "EUNKNOWN");
}

/* ---- A failed start ----------------------------------------------------- */

static bool has_key(hs_node *n, const char *key, const char *value)
{
    hs_member_list *l = NULL;
    if (hs_node_member(n, hs_node_name(n), &l) != HS_OK)
        return false;
    bool found = false;
    for (size_t i = 0; i < l->members[0].n_tags; i++)
        found |= strcmp(l->members[0].tags[i].key, key) == 0 &&
                 strcmp((const char *)l->members[0].tags[i].value, value) == 0;
    hs_member_list_free(l);
    return found;
}

/* In a child: the own thread cannot be created (its stack cannot be
 * mapped under a tight address-space limit), so the start fails after the
 * core was made and the pending keys written into it. The keys must still
 * be there for the next start. Exit status 0 when they are. */
static int start_fails_then_succeeds(void)
{
    hs_config *c = NULL;
    hs_node *n = NULL;
    if (hs_config_new(&c) != HS_OK ||
        hs_config_set_str(c, "name", "again") != HS_OK ||
        hs_config_set_str(c, "bind", "127.0.0.1:0") != HS_OK ||
        hs_config_set_uint(c, "max-members", 16) != HS_OK ||
        hs_config_set_uint(c, "log-level", HS_LOG_ERROR) != HS_OK ||
        hs_node_new(c, NULL, &n) != HS_OK)
        return 10;
    hs_config_free(c);
    if (hs_node_set(n, "zone", "eu-1", 4) != HS_OK)
        return 11;
    const char *seed[] = {"127.0.0.1:9"};
    if (hs_node_join(n, seed, 1) != HS_OK)
        return 12;

    long page = sysconf(_SC_PAGESIZE);
    unsigned long long vm_pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f || fscanf(f, "%llu", &vm_pages) != 1)
        return 13;
    fclose(f);
    struct rlimit old, tight;
    getrlimit(RLIMIT_AS, &old);
    /* 2 MiB of room: the core and a socket fit, an 8 MiB stack does not. */
    tight.rlim_cur = (rlim_t)(vm_pages * (unsigned long long)page + (2u << 20));
    tight.rlim_max = old.rlim_max;
    if (setrlimit(RLIMIT_AS, &tight) != 0)
        return 14;
    hs_err e = hs_node_start(n);
    setrlimit(RLIMIT_AS, &old);
    if (e == HS_OK)
        return 15; /* the limit did not bite: nothing tested */
    if (e != HS_ENOMEM)
        return 16;
    hs_member_list *l = NULL;
    if (hs_node_members(n, &l) != HS_ESTATE) /* as it was: not started */
        return 17;
    if (hs_node_start(n) != HS_OK)
        return 18;
    if (!has_key(n, "zone", "eu-1"))
        return 19; /* the key set before the first start was lost */
    hs_join_status js;
    if (hs_node_join_status(n, &js) != HS_OK || js.seeds != 1)
        return 20;
    hs_node_free(n);
    return 0;
}

static void failed_start_keeps_pending_keys(void **state)
{
    (void)state;
#if defined(__SANITIZE_ADDRESS__)
    skip(); /* ASan's shadow memory cannot live under an address limit */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    skip();
#endif
#endif
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(start_fails_then_succeeds());
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) != 0)
        fail_msg("child step %d failed (19: keys lost on a failed start)",
                 WEXITSTATUS(status));
}

/* hs_duration_parse: the form MS options take, for programs (hearsayd)
 * that read durations of their own. */
static void durations_parse_as_options_do(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        uint64_t ms;
    } good[] = {{"0", 0},       {"250", 250},   {"250ms", 250},
                {"1.5s", 1500}, {"5m", 300000}, {"24h", 86400000},
                {".5s", 500}};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        uint64_t ms = 1;
        assert_int_equal(hs_duration_parse(good[i].text, &ms), HS_OK);
        assert_int_equal(ms, good[i].ms);
    }
    static const char *const bad[] = {"",   "-1",  "1d",  "s",     "1 s", "1sx",
                                      "+5", "nan", "inf", "1e400", NULL};
    for (size_t i = 0; bad[i]; i++) {
        uint64_t ms = 7;
        assert_int_equal(hs_duration_parse(bad[i], &ms), HS_EINVAL);
        assert_int_equal(ms, 7); /* untouched */
    }
    uint64_t ms;
    assert_int_equal(hs_duration_parse(NULL, &ms), HS_EINVAL);
    assert_int_equal(hs_duration_parse("1s", NULL), HS_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_option_is_described_and_round_trips),
        cmocka_unit_test(bounds_and_types_are_enforced),
        cmocka_unit_test(text_is_parsed_by_type),
        cmocka_unit_test(durations_parse_as_options_do),
        cmocka_unit_test(defaults_agree_with_the_core),
        cmocka_unit_test(every_counter_has_one_name),
        cmocka_unit_test(error_range_follows_the_map),
        cmocka_unit_test(failed_start_keeps_pending_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
