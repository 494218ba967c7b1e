/*
 * test_agent_dashboard.c — the dashboard's side of hearsayd (dashboard.c):
 * which path serves which embedded file, with which type and ETag, how
 * If-None-Match is read, the page's files keeping to what the
 * Content-Security-Policy allows (no inline script or style, no markup
 * built from strings), and GET /v1/stats from a real, started node. The
 * browser itself is tests/dashboard/.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ev.h>
#include <jansson.h>

#include "agent/agent.h"
#include "agent/dashboard.h"

static void quiet(void *arg, hs_log_level level, const char *line)
{
    (void)arg;
    (void)level;
    (void)line;
}

/* A started node behind the routes, as hearsayd has one. */
typedef struct fixture {
    hsa_agent a;
    hsa_settings s;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->s.name = "dash";
    assert_int_equal(hs_config_new(&f->s.node), HS_OK);
    assert_int_equal(hs_config_set_uint(f->s.node, "gossip-interval", 150),
                     HS_OK);
    f->a.cfg = &f->s;
    hsa_log_init(&f->a.log, "test", "dash", HS_LOG_ERROR - 1);
    f->a.loop = ev_loop_new(EVFLAG_AUTO);
    assert_non_null(f->a.loop);
    hs_config *cfg = NULL;
    char err[200];
    assert_int_equal(hsa_settings_to_config(&f->s, &cfg, err, sizeof err), 0);
    assert_int_equal(hs_config_set_str(cfg, "bind", "127.0.0.1:0"), HS_OK);
    assert_int_equal(hs_config_set_log(cfg, quiet, NULL), HS_OK);
    assert_int_equal(hs_node_new(cfg, f->a.loop, &f->a.node), HS_OK);
    hs_config_free(cfg);
    assert_int_equal(hs_node_start(f->a.node), HS_OK);
    f->a.phase = HSA_RUNNING;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    hs_node_free(f->a.node);
    ev_loop_destroy(f->a.loop);
    hs_config_free(f->s.node);
    free(f);
    return 0;
}

static hsa_reply route(fixture *f, const char *method, const char *path)
{
    hsa_request rq = {.method = method, .path = path};
    hsa_reply out = {0};
    hsa_api_route(&f->a, &rq, &out);
    return out;
}

static void paths_map_to_files(void **state)
{
    (void)state;
    const hsa_asset *i = hsa_dashboard_asset("/");
    assert_non_null(i);
    assert_string_equal(i->name, "index.html");
    assert_ptr_equal(hsa_dashboard_asset("/index.html"), i);
    assert_string_equal(hsa_dashboard_asset("/dashboard/app.js")->ctype,
                        "text/javascript; charset=utf-8");
    assert_string_equal(hsa_dashboard_asset("/dashboard/style.css")->ctype,
                        "text/css; charset=utf-8");
    assert_string_equal(hsa_dashboard_asset("/dashboard/icon.svg")->ctype,
                        "image/svg+xml");
    assert_null(hsa_dashboard_asset("/dashboard/"));
    assert_null(hsa_dashboard_asset("/dashboard/../api.c"));
    assert_null(hsa_dashboard_asset("/dashboardapp.js"));
    assert_null(hsa_dashboard_asset("/v1/members"));
    assert_null(hsa_dashboard_asset(""));
    for (const hsa_asset *a = hsa_dashboard_assets; a->name; a++) {
        assert_true(a->len > 0);
        /* A quoted 32-hex-digit tag, distinct per file. */
        assert_int_equal(strlen(a->etag), 34);
        assert_true(a->etag[0] == '"' && a->etag[33] == '"');
        for (const hsa_asset *b = a + 1; b->name; b++)
            assert_string_not_equal(a->etag, b->etag);
    }
}

static void if_none_match(void **state)
{
    (void)state;
    const char *e = "\"0123456789abcdef0123456789abcdef\"";
    assert_true(hsa_dashboard_etag_matches(e, e));
    assert_true(hsa_dashboard_etag_matches("*", e));
    assert_true(hsa_dashboard_etag_matches(
        "\"x\", \"0123456789abcdef0123456789abcdef\"", e));
    assert_true(hsa_dashboard_etag_matches(
        "W/\"0123456789abcdef0123456789abcdef\"", e));
    assert_false(hsa_dashboard_etag_matches(NULL, e));
    assert_false(hsa_dashboard_etag_matches("", e));
    assert_false(hsa_dashboard_etag_matches("\"0123\"", e));
    assert_false(
        hsa_dashboard_etag_matches("x\"0123456789abcdef0123456789abcdef\"", e));
}

/* What the CSP forbids must not be in the files: it would be refused by
 * the browser, silently, on a page nobody tests by hand. */
static void files_keep_to_the_csp(void **state)
{
    (void)state;
    for (const hsa_asset *a = hsa_dashboard_assets; a->name; a++) {
        char *t = malloc(a->len + 1);
        assert_non_null(t);
        memcpy(t, a->data, a->len);
        t[a->len] = '\0';
        if (strstr(a->name, ".html")) {
            for (const char *p = t; (p = strstr(p, "<script")); p++) {
                const char *gt = strchr(p, '>'), *src = strstr(p, " src=");
                assert_true(gt && src && src < gt); /* no inline script */
            }
            assert_null(strstr(t, "<style"));
            assert_null(strstr(t, " style="));
            assert_null(strstr(t, " onclick="));
            assert_null(strstr(t, " onload="));
            assert_null(strstr(t, "javascript:"));
            assert_null(strstr(t, "http://"));
            assert_null(strstr(t, "https://"));
        }
        if (strstr(a->name, ".js")) {
            assert_null(strstr(t, "innerHTML"));
            assert_null(strstr(t, "outerHTML"));
            assert_null(strstr(t, "insertAdjacentHTML"));
            assert_null(strstr(t, "document.write"));
            assert_null(strstr(t, "eval("));
            assert_null(strstr(t, "new Function"));
            assert_null(strstr(t, "'style'"));
        }
        free(t);
    }
}

static void routes_serve_files(void **state)
{
    fixture *f = *state;
    hsa_reply r = route(f, "GET", "/");
    const hsa_asset *i = hsa_dashboard_asset("/");
    assert_int_equal(r.code, 200);
    assert_string_equal(r.ctype, "text/html; charset=utf-8");
    assert_int_equal(r.len, i->len);
    assert_memory_equal(r.body, i->data, i->len);
    free(r.body);

    r = route(f, "HEAD", "/dashboard/app.js");
    assert_int_equal(r.code, 200);
    free(r.body);

    r = route(f, "POST", "/");
    assert_int_equal(r.code, 405);
    assert_string_equal(r.allow, "GET, HEAD");
    free(r.body);

    r = route(f, "GET", "/dashboard/nope.js");
    assert_int_equal(r.code, 404);
    assert_string_equal(r.ctype, "application/json");
    free(r.body);

    r = route(f, "DELETE", "/v1/stats");
    assert_int_equal(r.code, 405);
    free(r.body);
}

static void stats_document(void **state)
{
    fixture *f = *state;
    hsa_reply r = route(f, "GET", "/v1/stats");
    assert_int_equal(r.code, 200);
    assert_string_equal(r.ctype, "application/json");
    json_error_t jerr;
    json_t *j = json_loadb(r.body, r.len, 0, &jerr);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "name")), "dash");
    json_t *c = json_object_get(j, "config");
    /* The flag given, and the library's defaults for the rest. */
    assert_int_equal(
        json_integer_value(json_object_get(c, "gossip_interval_ms")), 150);
    hs_config *def = NULL;
    assert_int_equal(hs_config_new(&def), HS_OK);
    uint64_t hb = 0;
    double phi = 0;
    assert_int_equal(hs_config_get_uint(def, "heartbeat-interval", &hb), HS_OK);
    assert_int_equal(hs_config_get_double(def, "phi-threshold", &phi), HS_OK);
    hs_config_free(def);
    assert_int_equal(
        json_integer_value(json_object_get(c, "heartbeat_interval_ms")), hb);
    assert_true(json_real_value(json_object_get(c, "phi_threshold")) == phi);
    json_t *rej = json_object_get(j, "rejected");
    assert_int_equal(json_object_size(rej), HS_REASONS - 1);
    assert_true(json_is_integer(json_object_get(rej, "ESELF")));
    assert_true(json_is_integer(json_object_get(rej, "EPLAINTEXT")));
    json_t *sent = json_object_get(j, "messages_sent");
    assert_int_equal(json_object_size(sent), HS_MSG_TYPES - 1);
    assert_true(json_is_integer(json_object_get(sent, "syn")));
    assert_int_equal(json_object_size(json_object_get(j, "events")),
                     HS_EVENT_TYPES);
    json_decref(j);
    free(r.body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(paths_map_to_files),
        cmocka_unit_test(if_none_match),
        cmocka_unit_test(files_keep_to_the_csp),
        cmocka_unit_test_setup_teardown(routes_serve_files, setup, teardown),
        cmocka_unit_test_setup_teardown(stats_document, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
