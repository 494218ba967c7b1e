/*
 * test_snapshot.c — what a member snapshot (hs_node_member, hs_node_members)
 * costs, counted rather than timed.
 *
 * A snapshot runs under the node's lock, and hearsayd takes one or two per
 * event, so its cost must be linear in what it copies. The test is linked
 * with `-Wl,--wrap` around the core's lookup by name (hs__members_find) and
 * its key accessors, so every call the snapshot makes into them is counted
 * on the way through: name lookups, and key entries visited (a call of
 * hs__core_member_key for the k-th key scans k + 1 entries from the start;
 * a step of hs__core_key_next visits one). The real functions still do the
 * work; nothing is faked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <ev.h>

#include "membership/core.h"
#include "membership/member.h"

static size_t lookups, visits;

hs_mrec *__real_hs__members_find(const hs_members *t, const char *name);
hs_mrec *__wrap_hs__members_find(const hs_members *t, const char *name);
hs_mrec *__wrap_hs__members_find(const hs_members *t, const char *name)
{
    lookups++;
    return __real_hs__members_find(t, name);
}

hs_err __real_hs__core_member_key(const hs_core *c, const char *name,
                                  uint32_t k, const char **key,
                                  const uint8_t **value, size_t *len);
hs_err __wrap_hs__core_member_key(const hs_core *c, const char *name,
                                  uint32_t k, const char **key,
                                  const uint8_t **value, size_t *len);
hs_err __wrap_hs__core_member_key(const hs_core *c, const char *name,
                                  uint32_t k, const char **key,
                                  const uint8_t **value, size_t *len)
{
    visits += (size_t)k + 1;
    return __real_hs__core_member_key(c, name, k, key, value, len);
}

bool __real_hs__core_key_next(const hs_member_info *info, uint32_t *pos,
                              const char **key, const uint8_t **value,
                              size_t *len);
bool __wrap_hs__core_key_next(const hs_member_info *info, uint32_t *pos,
                              const char **key, const uint8_t **value,
                              size_t *len);
bool __wrap_hs__core_key_next(const hs_member_info *info, uint32_t *pos,
                              const char **key, const uint8_t **value,
                              size_t *len)
{
    visits++;
    return __real_hs__core_key_next(info, pos, key, value, len);
}

static void quiet(void *arg, hs_log_level level, const char *line)
{
    (void)arg;
    (void)level;
    (void)line;
}

#define KEYS 200

/* A started node with KEYS keys of its own, on a loop that never runs:
 * nothing but the snapshot touches the core while it is counted. */
static void test_snapshot_is_linear_in_keys(void **state)
{
    (void)state;
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    assert_non_null(loop);
    hs_config *cfg = NULL;
    assert_int_equal(hs_config_new(&cfg), HS_OK);
    assert_int_equal(hs_config_set_str(cfg, "name", "self"), HS_OK);
    assert_int_equal(hs_config_set_str(cfg, "cluster", "snapshot"), HS_OK);
    assert_int_equal(hs_config_set_str(cfg, "bind", "127.0.0.1:0"), HS_OK);
    assert_int_equal(hs_config_set_uint(cfg, "seed", 1), HS_OK);
    assert_int_equal(hs_config_set_log(cfg, quiet, NULL), HS_OK);
    hs_node *n = NULL;
    assert_int_equal(hs_node_new(cfg, loop, &n), HS_OK);
    hs_config_free(cfg);
    for (int i = 0; i < KEYS; i++) {
        char key[16], value[16];
        snprintf(key, sizeof key, "k%03d", i);
        snprintf(value, sizeof value, "v%d", i);
        assert_int_equal(hs_node_set(n, key, value, strlen(value)), HS_OK);
    }
    assert_int_equal(hs_node_start(n), HS_OK);

    hs_member_list *l = NULL;
    lookups = visits = 0;
    assert_int_equal(hs_node_member(n, "self", &l), HS_OK);
    size_t one_lookups = lookups, one_visits = visits;
    assert_int_equal(l->count, 1);
    assert_int_equal(l->members[0].n_tags, KEYS);
    assert_string_equal(l->members[0].tags[KEYS - 1].key, "k199");
    assert_memory_equal(l->members[0].tags[KEYS - 1].value, "v199", 4);
    hs_member_list_free(l);

    lookups = visits = 0;
    assert_int_equal(hs_node_members(n, &l), HS_OK);
    size_t all_lookups = lookups, all_visits = visits;
    assert_int_equal(l->count, 1);
    assert_int_equal(l->members[0].n_tags, KEYS);
    hs_member_list_free(l);

    printf("snapshot of one member with %d keys: hs_node_member %zu name "
           "lookups, %zu key entries visited; hs_node_members %zu, %zu\n",
           KEYS, one_lookups, one_visits, all_lookups, all_visits);
    /* Two passes (measure, then copy): one lookup by name each for a
     * named member, none for the list, and every key visited once a pass
     * plus the step that finds the end. Quadratic was 2 x (KEYS + 1)
     * lookups and about KEYS^2 visits. */
    assert_true(one_lookups <= 2);
    assert_true(all_lookups == 0);
    assert_true(one_visits <= 2 * (KEYS + 1));
    assert_true(all_visits <= 2 * (KEYS + 1));

    hs_node_free(n);
    ev_loop_destroy(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snapshot_is_linear_in_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
