/*
 * test_agent_render.c — the documents hearsayd builds from library
 * snapshots: the /v1/members JSON (shape, state filter, hostile bytes, an
 * infinite phi), event JSON, the Prometheus exposition (families, label
 * escaping, zero series) and an event handler's environment and stdin line.
 * The snapshots are built by hand, so each case is exact.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "agent/buf.h"
#include "agent/handlers.h"
#include "agent/json.h"
#include "agent/metrics.h"
/* A statistics snapshot is this struct; the test fills one by hand to
 * render known values (the agent itself reads it only by name). */
#include "membership/stats.h"

static const hs_tag tags_a[] = {
    {"role", (const uint8_t *)"db", 2},
    {"zone.name", (const uint8_t *)"eu\twest", 7},
};
static const hs_tag tags_bad[] = {
    {"bin", (const uint8_t *)"ok\xff\xc3", 4}, /* invalid UTF-8 */
};

static hs_member members[] = {
    {.name = "a",
     .addr = "127.0.0.1:7001",
     .generation = 1700000000000ull,
     .state = HS_STATE_ALIVE,
     .heartbeat = 42,
     .phi = 0,
     .is_self = 1,
     .n_tags = 2,
     .tags = tags_a},
    {.name = "b\"q",
     .addr = "127.0.0.1:7002",
     .generation = 5,
     .state = HS_STATE_SUSPECT,
     .heartbeat = 7,
     .phi = INFINITY,
     .n_tags = 1,
     .tags = tags_bad},
    {.name = "c",
     .addr = "127.0.0.1:7003",
     .generation = UINT64_MAX, /* clamped, not negative */
     .state = HS_STATE_DEAD,
     .heartbeat = 1},
};
static const hs_member_list list = {3, members};

static json_t *load(const char *s)
{
    json_error_t e;
    json_t *j = json_loads(s, 0, &e);
    if (!j)
        fail_msg("invalid JSON (%s): %s", e.text, s);
    return j;
}

static void test_members_json(void **state)
{
    size_t len;
    char *s = hsa_json_members("a", &list, 0, &len);
    assert_non_null(s);
    assert_int_equal(strlen(s), len);
    json_t *j = load(s);
    assert_string_equal(json_string_value(json_object_get(j, "self")), "a");
    json_t *ms = json_object_get(j, "members");
    assert_int_equal(json_array_size(ms), 3);

    json_t *a = json_array_get(ms, 0);
    static const char *const fields[] = {
        "name", "addr", "state", "generation", "heartbeat", "phi", "tags"};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        assert_non_null(json_object_get(a, fields[i]));
    assert_string_equal(json_string_value(json_object_get(a, "state")),
                        "alive");
    assert_int_equal(json_integer_value(json_object_get(a, "generation")),
                     1700000000000ll);
    assert_int_equal(json_integer_value(json_object_get(a, "heartbeat")), 42);
    assert_true(json_is_true(json_object_get(a, "self")));
    json_t *tags = json_object_get(a, "tags");
    assert_string_equal(json_string_value(json_object_get(tags, "role")), "db");
    assert_string_equal(json_string_value(json_object_get(tags, "zone.name")),
                        "eu\twest");

    json_t *b = json_array_get(ms, 1);
    assert_string_equal(json_string_value(json_object_get(b, "name")), "b\"q");
    assert_true(json_is_null(json_object_get(b, "phi"))); /* +inf */
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(b, "tags"), "bin")),
        "ok\xef\xbf\xbd\xef\xbf\xbd");

    json_t *c = json_array_get(ms, 2);
    assert_int_equal(json_integer_value(json_object_get(c, "generation")),
                     INT64_MAX);
    json_decref(j);
    free(s);

    /* ?state=suspect,dead */
    unsigned mask;
    assert_int_equal(hsa_state_mask_parse("suspect,dead", &mask), 0);
    assert_int_equal(hsa_state_mask_parse("alive,zombie", &mask), -1);
    assert_int_equal(hsa_state_mask_parse("suspect,dead", &mask), 0);
    s = hsa_json_members("a", &list, mask, NULL);
    j = load(s);
    ms = json_object_get(j, "members");
    assert_int_equal(json_array_size(ms), 2);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(ms, 1), "name")), "c");
    json_decref(j);
    free(s);

    /* An empty list still has the shape. */
    hs_member_list empty = {0, NULL};
    s = hsa_json_members("a", &empty, 0, NULL);
    assert_string_equal(s, "{\"self\":\"a\",\"members\":[]}");
    free(s);
}

static void test_event_and_error_json(void **state)
{
    hs_event ev = {.type = HS_EVENT_UPDATE,
                   .name = "a",
                   .addr = "127.0.0.1:7001",
                   .generation = 9,
                   .state = HS_STATE_ALIVE,
                   .key = "role",
                   .deleted = 1};
    char *s = hsa_json_event(&ev, &members[0], 17, NULL);
    json_t *j = load(s);
    assert_int_equal(json_integer_value(json_object_get(j, "id")), 17);
    assert_string_equal(json_string_value(json_object_get(j, "type")),
                        "update");
    assert_string_equal(json_string_value(json_object_get(j, "key")), "role");
    assert_true(json_is_true(json_object_get(j, "deleted")));
    assert_true(json_is_false(json_object_get(j, "local")));
    assert_non_null(json_object_get(j, "tags"));
    assert_non_null(json_object_get(j, "time"));
    assert_null(strchr(s, '\n')); /* one SSE data line */
    json_decref(j);
    free(s);

    /* A member already forgotten: no tags, no key for non-updates. */
    ev.type = HS_EVENT_REAP;
    s = hsa_json_event(&ev, NULL, 18, NULL);
    j = load(s);
    assert_null(json_object_get(j, "tags"));
    assert_null(json_object_get(j, "key"));
    assert_string_equal(json_string_value(json_object_get(j, "type")), "reap");
    json_decref(j);
    free(s);

    s = hsa_json_error(NULL, "no member named '%s'", "x\"y");
    j = load(s);
    assert_string_equal(json_string_value(json_object_get(j, "error")),
                        "no member named 'x\"y'");
    json_decref(j);
    free(s);
}

static void test_metrics(void **state)
{
    struct hs_stats st;
    memset(&st, 0, sizeof st);
    st.msgs_sent[1] = 11;
    st.bytes_recv[2] = 2048;
    st.rejected[-HS_ECLUSTER] = 3;
    st.events[HS_EVENT_FAIL] = 2;
    st.rounds = 4;
    st.round_us_sum = 1500000;
    hsa_agent_stats ag;
    memset(&ag, 0, sizeof ag);
    hsa_agent_stats_http(&ag, 200);
    hsa_agent_stats_http(&ag, 200);
    hsa_agent_stats_http(&ag, 404);
    hsa_agent_stats_http(&ag, 418); /* not one the API sends: listed as seen */
    ag.handler_timeout = 1;

    hsa_buf b = HSA_BUF_INIT;
    assert_int_equal(hsa_metrics_render(&b, &st, &list, &ag), 0);
    const char *t = b.data;
    static const char *const want[] = {
        "# TYPE hearsay_members gauge\n",
        "hearsay_members{state=\"alive\"} 1\n",
        "hearsay_members{state=\"left\"} 0\n",
        "hearsay_member_phi{member=\"b\\\"q\"} +Inf\n",
        "hearsay_messages_sent_total{type=\"syn\"} 11\n",
        "hearsay_received_bytes_total{type=\"synack\"} 2048\n",
        "hearsay_rejected_total{reason=\"ECLUSTER\"} 3\n",
        "hearsay_rejected_total{reason=\"EMAGIC\"} 0\n",
        "hearsay_events_total{type=\"fail\"} 2\n",
        "# TYPE hearsay_gossip_round_duration_seconds summary\n",
        "hearsay_gossip_round_duration_seconds_sum 1.5\n",
        "hearsay_gossip_round_duration_seconds_count 4\n",
        "hearsay_agent_http_responses_total{code=\"200\"} 2\n",
        "hearsay_agent_http_responses_total{code=\"404\"} 1\n",
        /* The API's codes are there before they are first sent. */
        "hearsay_agent_http_responses_total{code=\"503\"} 0\n",
        "hearsay_agent_http_responses_total{code=\"418\"} 1\n",
        "hearsay_agent_handler_runs_total{result=\"timeout\"} 1\n",
        "hearsay_build_info{version=\"",
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        if (!strstr(t, want[i]))
            fail_msg("metrics lack \"%s\"", want[i]);
    }
    /* Self has no phi series. */
    assert_null(strstr(t, "hearsay_member_phi{member=\"a\"}"));
    /* Every sample line's family has a TYPE. */
    for (const char *line = t; *line;) {
        const char *nl = strchr(line, '\n');
        assert_non_null(nl);
        if (*line != '#') {
            char fam[128];
            size_t n = strcspn(line, "{ ");
            assert_true(n < sizeof fam);
            memcpy(fam, line, n);
            fam[n] = '\0';
            char *suffix = strstr(fam, "_sum");
            if (!suffix)
                suffix = strstr(fam, "_count");
            if (suffix && strstr(fam, "round_duration"))
                *suffix = '\0';
            char type_line[200];
            snprintf(type_line, sizeof type_line, "# TYPE %s ", fam);
            if (!strstr(t, type_line))
                fail_msg("no TYPE for %s", fam);
        }
        line = nl + 1;
    }
    hsa_buf_free(&b);
}

static void test_http_code_table(void **state)
{
    hsa_agent_stats ag;
    memset(&ag, 0, sizeof ag);
    for (unsigned c = 100; c < 100 + 2 * HSA_HTTP_CODES; c++)
        hsa_agent_stats_http(&ag, c);
    /* The first codes keep their own slot; the overflow goes to "other". */
    assert_int_equal(ag.http[0].code, 100);
    assert_int_equal(ag.http[0].count, 1);
    assert_int_equal(ag.http[HSA_HTTP_CODES - 1].code, 0);
    assert_int_equal(ag.http[HSA_HTTP_CODES - 1].count, HSA_HTTP_CODES + 1);
}

static const char *env_get(char **env, const char *name)
{
    size_t n = strlen(name);
    for (; *env; env++) {
        if (strncmp(*env, name, n) == 0 && (*env)[n] == '=')
            return *env + n + 1;
    }
    return NULL;
}

static void test_handler_env(void **state)
{
    hs_event ev = {.type = HS_EVENT_JOIN,
                   .name = "b\"q",
                   .addr = "127.0.0.1:7002",
                   .generation = 5,
                   .state = HS_STATE_ALIVE};
    char **env =
        hsa_handler_env(&ev, &members[1], "a", &members[0], "127.0.0.1:7947");
    assert_non_null(env);
    assert_string_equal(env_get(env, "HEARSAY_EVENT"), "member-join");
    assert_string_equal(env_get(env, "HEARSAY_SELF"), "a");
    assert_string_equal(env_get(env, "HEARSAY_MEMBER_NAME"), "b\"q");
    assert_string_equal(env_get(env, "HEARSAY_MEMBER_ADDR"), "127.0.0.1:7002");
    assert_string_equal(env_get(env, "HEARSAY_MEMBER_STATE"), "alive");
    assert_string_equal(env_get(env, "HEARSAY_MEMBER_GENERATION"), "5");
    assert_string_equal(env_get(env, "HEARSAY_MEMBER_TAG_BIN"), "ok\xff\xc3");
    assert_string_equal(env_get(env, "HEARSAY_TAG_ROLE"), "db");
    assert_string_equal(env_get(env, "HEARSAY_TAG_ZONE_NAME"), "eu\twest");
    assert_string_equal(env_get(env, "HEARSAY_HTTP_ADDR"), "127.0.0.1:7947");
    assert_null(env_get(env, "HEARSAY_KEY"));
    free(env);

    size_t len;
    char *in = hsa_handler_input(&ev, &members[0], &len);
    assert_string_equal(in, "b\"q\t127.0.0.1:7002\talive\trole=db,"
                            "zone.name=eu west\n");
    assert_int_equal(len, strlen(in));
    free(in);

    ev.type = HS_EVENT_UPDATE;
    ev.key = "role";
    ev.deleted = 0;
    env = hsa_handler_env(&ev, NULL, "a", NULL, NULL);
    assert_string_equal(env_get(env, "HEARSAY_EVENT"), "member-update");
    assert_string_equal(env_get(env, "HEARSAY_KEY"), "role");
    assert_string_equal(env_get(env, "HEARSAY_KEY_DELETED"), "0");
    assert_null(env_get(env, "HEARSAY_HTTP_ADDR"));
    free(env);
}

static void test_buf(void **state)
{
    hsa_buf b = HSA_BUF_INIT;
    for (int i = 0; i < 1000; i++)
        assert_int_equal(hsa_buf_printf(&b, "%04d", i), 0);
    assert_int_equal(hsa_buf_avail(&b), 4000);
    hsa_buf_consume(&b, 3996);
    assert_string_equal(hsa_buf_head(&b), "0999");
    /* A queue written and drained in turns compacts instead of growing. */
    size_t cap = b.cap;
    for (int i = 0; i < 1000; i++) {
        hsa_buf_append(&b, "0123456789", 10);
        hsa_buf_consume(&b, 10);
    }
    assert_int_equal(b.cap, cap);
    assert_int_equal(hsa_buf_avail(&b), 4);
    size_t n;
    char *s = hsa_buf_steal(&b, &n);
    assert_string_equal(s, "6789"); /* FIFO: the last 4 bytes written */
    assert_int_equal(n, 4);
    free(s);
    assert_null(b.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_members_json),
        cmocka_unit_test(test_event_and_error_json),
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_http_code_table),
        cmocka_unit_test(test_handler_env),
        cmocka_unit_test(test_buf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
