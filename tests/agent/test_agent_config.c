/*
 * test_agent_config.c — hearsayd's flags and JSON config file
 * (agent/config.c, config_apply.c, config_file.c): defaults, every value
 * kind, precedence between the file and the flags, and that each kind of
 * mistake is refused with a message naming the option. The files the
 * daemon reads and writes beside its options (keyring, token, --data-dir
 * state) are test_agent_files.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <sys/stat.h>

#include "agent/config.h"
#include "agent/keyring.h"
#include "agent/state.h"

#define ARGV(...) ((char *[]){"hearsayd", __VA_ARGS__, NULL})
#define ARGC(...)                                                              \
    ((int)(sizeof((char *[]){"hearsayd", __VA_ARGS__}) / sizeof(char *)))

static char err[512];

static int parse(hsa_settings *s, int argc, char **argv)
{
    err[0] = '\0';
    return hsa_settings_parse(s, argc, argv, err, sizeof err);
}

/* Writes text to a fresh temporary file; returns its path (static). */
static const char *tmpfile_with(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/hs_cfg_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

/* Parses argv and expects failure with `needle` in the message. */
static void expect_error(int argc, char **argv, const char *needle)
{
    hsa_settings s;
    int rc = parse(&s, argc, argv);
    hsa_settings_free(&s);
    if (rc == 0 || !strstr(err, needle))
        fail_msg("expected an error containing \"%s\", got rc=%d \"%s\"",
                 needle, rc, err);
}

/* A library knob of s as text, and as numbers (hs_config_get_*). */
static const char *knob(const hsa_settings *s, const char *name)
{
    static char buf[4][HS_NAME_MAX + 1];
    static unsigned next;
    char *b = buf[next++ % 4];
    assert_int_equal(hs_config_get_str(s->node, name, b, sizeof buf[0]), HS_OK);
    return b;
}

static uint64_t knob_u(const hsa_settings *s, const char *name)
{
    uint64_t v = 0;
    assert_int_equal(hs_config_get_uint(s->node, name, &v), HS_OK);
    return v;
}

static double knob_d(const hsa_settings *s, const char *name)
{
    double v = 0;
    assert_int_equal(hs_config_get_double(s->node, name, &v), HS_OK);
    return v;
}

static void test_defaults(void **state)
{
    hsa_settings s;
    assert_int_equal(parse(&s, ARGC("--name", "n1"), ARGV("--name", "n1")), 0);
    assert_string_equal(s.name, "n1");
    assert_string_equal(s.http, HSA_DEFAULT_HTTP);
    assert_int_equal(s.log_level, HS_LOG_INFO);
    /* Node knobs left to the library: each at the table's default. */
    for (size_t i = 0; i < hs_option_count(); i++) {
        const hs_option *o = hs_option_at(i);
        assert_string_equal(knob(&s, o->name), o->dflt ? o->dflt : "");
    }
    assert_int_equal(s.leave_timeout_ms, 5000);
    assert_int_equal(s.sse_max_clients, 64);
    assert_null(s.keyring);
    hsa_settings_free(&s);

    /* No --name: the host name. */
    assert_int_equal(parse(&s, 1, (char *[]){"hearsayd", NULL}), 0);
    char host[256];
    gethostname(host, sizeof host);
    assert_string_equal(s.name, host);
    hsa_settings_free(&s);
}

/* Every knob in the library's table is a flag and a config key of its
 * name, taking the table's default as a value; except the two the daemon
 * sets itself. A knob added to the library needs nothing here. */
static void test_library_knobs_are_flags(void **state)
{
    (void)state;
    size_t flags = 0;
    for (size_t i = 0; i < hs_option_count(); i++) {
        const hs_option *o = hs_option_at(i);
        char flag[80];
        snprintf(flag, sizeof flag, "--%s", o->name);
        if (!strcmp(o->name, "generation") || !strcmp(o->name, "seed")) {
            expect_error(ARGC("--name", "n1", flag, "1"),
                         ARGV("--name", "n1", flag, "1"), "unknown option");
            continue;
        }
        if (!o->dflt || !strcmp(o->name, "name"))
            continue;
        hsa_settings s;
        char dflt[64];
        snprintf(dflt, sizeof dflt, "%s", o->dflt);
        assert_int_equal(parse(&s, ARGC("--name", "n1", flag, dflt),
                               ARGV("--name", "n1", flag, dflt)),
                         0);
        if (strcmp(o->name, "log-level") != 0)
            assert_string_equal(knob(&s, o->name), o->dflt);
        char doc[160], key[64];
        snprintf(key, sizeof key, "%s", o->name);
        for (char *p = key; *p; p++)
            *p = *p == '-' ? '_' : *p;
        snprintf(doc, sizeof doc, "{\"%s\": \"%s\"}", key, o->dflt);
        assert_int_equal(hsa_settings_apply_json(&s, "k.json", doc, strlen(doc),
                                                 err, sizeof err),
                         0);
        hsa_settings_free(&s);
        flags++;
    }
    assert_true(flags >= 20);
}

static void test_all_kinds(void **state)
{
    hsa_settings s;
    char **argv = ARGV(
        "--name=n2", "--bind", "127.0.0.1:7001", "--advertise", "[::1]:7001",
        "--join", "10.0.0.1:7946", "--join=seed.example:7946", "--cluster",
        "prod", "--http", "off", "--tag", "role=db", "--tag", "zone=a=b",
        "--log-level", "debug", "--mode", "pull", "--gossip-interval", "250ms",
        "--heartbeat-interval", "1.5s", "--phi-threshold", "9.5",
        "--dead-after", "2m", "--fanout", "3", "--max-datagram", "1200",
        "--reap-dead-after", "1h", "--leave-timeout", "750",
        "--handler-timeout", "2s", "--event-handler",
        "member-join,fail=/bin/true");
    int argc = 0;
    while (argv[argc])
        argc++;
    assert_int_equal(parse(&s, argc, argv), 0);
    assert_string_equal(s.name, "n2");
    assert_string_equal(knob(&s, "bind"), "127.0.0.1:7001");
    assert_string_equal(knob(&s, "advertise"), "[::1]:7001");
    assert_int_equal(s.n_join, 2);
    assert_string_equal(s.join[1], "seed.example:7946");
    assert_string_equal(knob(&s, "cluster"), "prod");
    assert_null(s.http);
    assert_int_equal(s.n_tags, 2);
    assert_string_equal(s.tags[1].key, "zone");
    assert_string_equal(s.tags[1].value, "a=b");
    assert_int_equal(s.log_level, HS_LOG_DEBUG);
    assert_int_equal(knob_u(&s, "mode"), HS_MODE_PULL);
    assert_int_equal(knob_u(&s, "gossip-interval"), 250);
    assert_int_equal(knob_u(&s, "heartbeat-interval"), 1500);
    assert_true(knob_d(&s, "phi-threshold") == 9.5);
    assert_int_equal(knob_u(&s, "dead-after"), 120000);
    assert_int_equal(knob_u(&s, "fanout"), 3);
    assert_int_equal(knob_u(&s, "max-datagram"), 1200);
    assert_int_equal(knob_u(&s, "reap-dead-after"), 3600000);
    assert_int_equal(s.leave_timeout_ms, 750);
    assert_int_equal(s.handler_timeout_ms, 2000);
    assert_int_equal(s.n_handlers, 1);
    assert_int_equal(s.handlers[0].mask,
                     (1u << HS_EVENT_JOIN) | (1u << HS_EVENT_FAIL));
    assert_string_equal(s.handlers[0].cmd, "/bin/true");
    assert_string_equal(knob(&s, "max-keys"), hs_option_find("max-keys")->dflt);

    hs_config *cfg = NULL;
    assert_int_equal(hsa_settings_to_config(&s, &cfg, err, sizeof err), 0);
    char buf[64];
    uint64_t v = 0;
    assert_int_equal(hs_config_get_str(cfg, "name", buf, sizeof buf), HS_OK);
    assert_string_equal(buf, "n2");
    assert_int_equal(hs_config_get_uint(cfg, "gossip-interval", &v), HS_OK);
    assert_int_equal(v, 250);
    assert_int_equal(hs_config_get_uint(cfg, "fanout", &v), HS_OK);
    assert_int_equal(v, 3);
    assert_int_equal(hs_config_get_uint(cfg, "log-level", &v), HS_OK);
    assert_int_equal(v, HS_LOG_DEBUG);
    assert_int_equal(hs_config_get_uint(cfg, "max-keys", &v), HS_OK);
    assert_int_equal(v, 256); /* not given: the library's default */
    hs_config_free(cfg);
    hsa_settings_free(&s);
}

static void test_handler_specs(void **state)
{
    hsa_settings s;
    /* An environment assignment is not mistaken for a filter. */
    assert_int_equal(parse(&s, ARGC("--event-handler", "FOO=1 ./x.sh"),
                           ARGV("--event-handler", "FOO=1 ./x.sh")),
                     0);
    /* Every event but queries: only a handler that names them answers. */
    assert_int_equal(s.handlers[0].mask,
                     ((1u << HS_EVENT_TYPES) - 1) & ~(1u << HS_EVENT_QUERY));
    assert_string_equal(s.handlers[0].cmd, "FOO=1 ./x.sh");
    hsa_settings_free(&s);
    /* serf's spelling and "*". */
    assert_int_equal(
        parse(&s, ARGC("--event-handler", "member-failed,member-leave=a=b"),
              ARGV("--event-handler", "member-failed,member-leave=a=b")),
        0);
    assert_int_equal(s.handlers[0].mask,
                     (1u << HS_EVENT_FAIL) | (1u << HS_EVENT_LEAVE));
    assert_string_equal(s.handlers[0].cmd, "a=b");
    hsa_settings_free(&s);
    assert_int_equal(parse(&s, ARGC("--event-handler", "*=cmd"),
                           ARGV("--event-handler", "*=cmd")),
                     0);
    assert_int_equal(s.handlers[0].mask,
                     ((1u << HS_EVENT_TYPES) - 1) & ~(1u << HS_EVENT_QUERY));
    hsa_settings_free(&s);
    /* serf's query:NAME, and "query" for every query. */
    assert_int_equal(parse(&s, ARGC("--event-handler", "query:a,query:b=cmd"),
                           ARGV("--event-handler", "query:a,query:b=cmd")),
                     0);
    assert_int_equal(s.handlers[0].mask, 1u << HS_EVENT_QUERY);
    assert_string_equal(s.handlers[0].cmd, "cmd");
    assert_non_null(s.handlers[0].queries);
    assert_string_equal(s.handlers[0].queries, "a");
    assert_string_equal(s.handlers[0].queries + 2, "b");
    assert_null(s.handlers[0].users);
    hsa_settings_free(&s);
    assert_int_equal(parse(&s, ARGC("--event-handler", "query,user:x=cmd"),
                           ARGV("--event-handler", "query,user:x=cmd")),
                     0);
    assert_int_equal(s.handlers[0].mask,
                     (1u << HS_EVENT_QUERY) | (1u << HS_EVENT_USER));
    assert_null(s.handlers[0].queries);
    assert_string_equal(s.handlers[0].users, "x");
    hsa_settings_free(&s);

    expect_error(ARGC("--event-handler", "member-jion=x"),
                 ARGV("--event-handler", "member-jion=x"),
                 "unknown event type 'member-jion'");
    expect_error(ARGC("--event-handler", "join="),
                 ARGV("--event-handler", "join="), "empty command");
    expect_error(ARGC("--event-handler", ""), ARGV("--event-handler", ""),
                 "empty command");
}

/* --join srv+NAME (DNS SRV records, no port) and --check. */
static void test_srv_and_check(void **state)
{
    hsa_settings s;
    assert_int_equal(parse(&s,
                           ARGC("--name", "x", "--check", "--join",
                                "srv+_hearsay._udp.example.com", "--join",
                                "seeds.example.com:7946"),
                           ARGV("--name", "x", "--check", "--join",
                                "srv+_hearsay._udp.example.com", "--join",
                                "seeds.example.com:7946")),
                     0);
    assert_true(s.check);
    assert_int_equal(s.n_join, 2);
    assert_string_equal(s.join[0], "srv+_hearsay._udp.example.com");
    hsa_settings_free(&s);
    expect_error(ARGC("--join", "srv+"), ARGV("--join", "srv+"),
                 "'srv+' needs a DNS name");
    /* Only --join takes SRV names. */
    expect_error(ARGC("--bind", "srv+_x._udp.example.com"),
                 ARGV("--bind", "srv+_x._udp.example.com"), "not HOST:PORT");
    expect_error(ARGC("--check=1"), ARGV("--check=1"), "takes no value");
}

static void test_flag_errors(void **state)
{
    expect_error(ARGC("--bogus"), ARGV("--bogus"), "unknown option '--bogus'");
    expect_error(ARGC("--name"), ARGV("--name"), "--name needs a value");
    expect_error(ARGC("stray"), ARGV("stray"), "unexpected argument 'stray'");
    expect_error(ARGC("--help=1"), ARGV("--help=1"), "takes no value");
    expect_error(ARGC("--gossip-interval", "fast"),
                 ARGV("--gossip-interval", "fast"),
                 "--gossip-interval: 'fast' is not a duration");
    expect_error(ARGC("--gossip-interval", "0"), ARGV("--gossip-interval", "0"),
                 "must be greater than 0");
    expect_error(ARGC("--dead-after", "-5s"), ARGV("--dead-after", "-5s"),
                 "not a duration");
    expect_error(ARGC("--fanout", "3x"), ARGV("--fanout", "3x"),
                 "--fanout: '3x' is not a whole number");
    expect_error(ARGC("--fanout", "99999999999"),
                 ARGV("--fanout", "99999999999"), "not a whole number");
    expect_error(ARGC("--phi-threshold", "nan"), ARGV("--phi-threshold", "nan"),
                 "not a non-negative number");
    expect_error(ARGC("--bind", "localhost"), ARGV("--bind", "localhost"),
                 "--bind: 'localhost' is not HOST:PORT");
    expect_error(ARGC("--join", "1.2.3.4:99999"),
                 ARGV("--join", "1.2.3.4:99999"), "not HOST:PORT");
    expect_error(ARGC("--http", "::1:80"), ARGV("--http", "::1:80"),
                 "IPv6 as [ADDR]:PORT");
    expect_error(ARGC("--tag", "novalue"), ARGV("--tag", "novalue"),
                 "--tag: 'novalue' is not KEY=VALUE");
    expect_error(ARGC("--tag", "=v"), ARGV("--tag", "=v"), "empty tag key");
    expect_error(ARGC("--log-level", "loud"), ARGV("--log-level", "loud"),
                 "unknown log level 'loud'");
    expect_error(ARGC("--mode", "gossip"), ARGV("--mode", "gossip"),
                 "unknown mode 'gossip'");
    expect_error(ARGC("--name", ""), ARGV("--name", ""), "empty value");

    /* --help wins over the rest, but not over a malformed command line. */
    hsa_settings s;
    assert_int_equal(
        parse(&s, ARGC("--fanout", "x", "-h"), ARGV("--fanout", "x", "-h")), 0);
    assert_true(s.show_help);
    hsa_settings_free(&s);
}

static void test_config_file(void **state)
{
    const char *path =
        tmpfile_with("{\n"
                     "  \"name\": \"from-file\",\n"
                     "  \"cluster\": \"c1\",\n"
                     "  \"gossip_interval\": 200,\n"
                     "  \"heartbeat-interval\": \"2s\",\n"
                     "  \"phi-threshold\": 10.5,\n"
                     "  \"join\": [\"10.0.0.1:7946\", \"10.0.0.2:7946\"],\n"
                     "  \"tag\": {\"role\": \"db\", \"rack\": 7},\n"
                     "  \"event-handler\": \"join=/bin/true\",\n"
                     "  \"http\": \"127.0.0.1:9000\"\n"
                     "}\n");
    char p[64];
    snprintf(p, sizeof p, "%s", path);
    hsa_settings s;
    char **argv = ARGV("--config", p, "--name", "from-flag", "--join",
                       "10.0.0.3:7946", "--tag", "role=web", "--http=off");
    assert_int_equal(parse(&s, 10, argv), 0);
    /* Flags win for scalars ... */
    assert_string_equal(s.name, "from-flag");
    assert_null(s.http);
    /* ... the file's values stay where no flag says otherwise ... */
    assert_string_equal(knob(&s, "cluster"), "c1");
    assert_int_equal(knob_u(&s, "gossip-interval"), 200);
    assert_int_equal(knob_u(&s, "heartbeat-interval"), 2000);
    assert_true(knob_d(&s, "phi-threshold") == 10.5);
    /* ... lists add up and tags merge key by key. */
    assert_int_equal(s.n_join, 3);
    assert_string_equal(s.join[2], "10.0.0.3:7946");
    assert_int_equal(s.n_tags, 2);
    for (size_t i = 0; i < s.n_tags; i++) {
        if (strcmp(s.tags[i].key, "role") == 0)
            assert_string_equal(s.tags[i].value, "web");
        else
            assert_string_equal(s.tags[i].value, "7");
    }
    assert_int_equal(s.n_handlers, 1);
    hsa_settings_free(&s);
    unlink(p);
}

/* The HTTP limits and --join-timeout: defaults, flags, config keys and
 * the values refused. */
static void test_http_limits_and_join(void **state)
{
    hsa_settings s;
    assert_int_equal(parse(&s, ARGC("--name", "n1"), ARGV("--name", "n1")), 0);
    assert_int_equal(s.http_max_connections, 512);
    assert_int_equal(s.http_max_per_ip, 64);
    assert_int_equal(s.http_header_timeout_ms, 10000);
    assert_int_equal(s.http_body_timeout_ms, 30000);
    assert_int_equal(s.http_idle_timeout_ms, 30000);
    assert_int_equal(s.join_timeout_ms, 0);
    hsa_settings_free(&s);

    char **argv = ARGV(
        "--http-max-connections", "2000", "--http-max-connections-per-ip=0",
        "--http-header-timeout", "3s", "--http-body-timeout", "1500ms",
        "--http-idle-timeout", "1m", "--join-timeout", "45s");
    assert_int_equal(parse(&s, 12, argv), 0);
    assert_int_equal(s.http_max_connections, 2000);
    assert_int_equal(s.http_max_per_ip, 0);
    assert_int_equal(s.http_header_timeout_ms, 3000);
    assert_int_equal(s.http_body_timeout_ms, 1500);
    assert_int_equal(s.http_idle_timeout_ms, 60000);
    assert_int_equal(s.join_timeout_ms, 45000);
    hsa_settings_free(&s);

    const char *path = tmpfile_with("{\"http_max_connections\": 100, "
                                    "\"http-max-connections-per-ip\": 8, "
                                    "\"http_header_timeout\": \"2s\", "
                                    "\"join_timeout\": \"1m\"}");
    char p[64];
    snprintf(p, sizeof p, "%s", path);
    assert_int_equal(parse(&s, 3, ARGV("--config", p)), 0);
    assert_int_equal(s.http_max_connections, 100);
    assert_int_equal(s.http_max_per_ip, 8);
    assert_int_equal(s.http_header_timeout_ms, 2000);
    assert_int_equal(s.join_timeout_ms, 60000);
    hsa_settings_free(&s);
    unlink(p);

    expect_error(3, ARGV("--http-max-connections", "0"), "greater than 0");
    expect_error(3, ARGV("--http-max-connections", "100000"), "at most 65536");
    expect_error(3, ARGV("--http-header-timeout", "0"), "greater than 0");
    expect_error(3, ARGV("--http-body-timeout", "soon"), "not a duration");
    expect_error(3, ARGV("--http-idle-timeout", "0s"), "greater than 0");
    expect_error(3, ARGV("--http-max-connections-per-ip", "-1"),
                 "not a whole number");
    expect_error(3, ARGV("--join-timeout", "x"), "not a duration");
}

static void config_error(const char *text, const char *needle)
{
    char p[64];
    snprintf(p, sizeof p, "%s", tmpfile_with(text));
    expect_error(3, ARGV("--config", p), needle);
    unlink(p);
}

static void test_config_errors(void **state)
{
    config_error("{\"name\": \"x\",\n \"fanout\": }\n", "line 2");
    config_error("[1, 2]", "the top level must be an object");
    config_error("{\"gosip-interval\": 5}", "\"gosip-interval\": unknown key");
    config_error("{\"fanout\": \"many\"}", "'many' is not a whole number");
    config_error("{\"fanout\": true}", "must be a string or a number");
    config_error("{\"name\": [\"a\"]}", "must be a string or a number");
    config_error("{\"join\": [1]}", "element 0 must be a string");
    config_error("{\"tag\": {\"a\": null}}", "must be a string or a number");
    config_error("{\"config\": \"/etc/x\"}", "not allowed in a config file");
    config_error("{\"name\": \"a\", \"name\": \"b\"}", "duplicate");
    config_error("{\"bind\": \"nowhere\"}", "is not HOST:PORT");
    expect_error(3, ARGV("--config", "/nonexistent/hearsay.json"),
                 "config /nonexistent/hearsay.json: No such file");
    expect_error(3, ARGV("--config", "/tmp"), "not a regular file");
}

static void test_small_parsers(void **state)
{
    uint32_t v;
    assert_int_equal(hsa_parse_duration_ms("0.5s", &v), 0);
    assert_int_equal(v, 500);
    assert_int_equal(hsa_parse_duration_ms("10", &v), 0);
    assert_int_equal(v, 10);
    assert_int_equal(hsa_parse_duration_ms("1h", &v), 0);
    assert_int_equal(v, 3600000);
    assert_int_equal(hsa_parse_duration_ms("2000h", &v), -1); /* > 2^32 ms */
    assert_int_equal(hsa_parse_duration_ms("", &v), -1);
    assert_int_equal(hsa_parse_duration_ms("5 s", &v), -1);

    char host[64];
    uint16_t port;
    assert_int_equal(
        hsa_split_hostport("[fe80::1]:80", host, sizeof host, &port), 0);
    assert_string_equal(host, "fe80::1");
    assert_int_equal(port, 80);
    assert_int_equal(hsa_split_hostport(":80", host, sizeof host, &port), -1);
    assert_int_equal(hsa_split_hostport("h:", host, sizeof host, &port), -1);

    unsigned mask;
    char e[200];
    assert_int_equal(
        hsa_event_mask_parse("join,member-update,reap", &mask, e, sizeof e), 0);
    assert_int_equal(mask, (1u << HS_EVENT_JOIN) | (1u << HS_EVENT_UPDATE) |
                               (1u << HS_EVENT_REAP));
    assert_int_equal(hsa_event_mask_parse("join,", &mask, e, sizeof e), -1);
    assert_string_equal(hsa_event_env_name(HS_EVENT_FAIL), "member-fail");
}

static void test_security_settings(void **state)
{
    hsa_settings s;
    char **argv = ARGV("--name", "n1", "--keyring", "/k", "--http-token-file",
                       "/t", "--replay-window", "30s", "--max-source-rate", "0",
                       "--max-pending-sends", "64");
    assert_int_equal(
        parse(&s,
              ARGC("--name", "n1", "--keyring", "/k", "--http-token-file", "/t",
                   "--replay-window", "30s", "--max-source-rate", "0",
                   "--max-pending-sends", "64"),
              argv),
        0);
    assert_string_equal(s.keyring, "/k");
    assert_string_equal(s.http_token_file, "/t");
    assert_string_equal(hs_option_find("max-source-rate")->dflt, "1000");
    assert_int_equal(knob_u(&s, "replay-window"), 30000);
    assert_int_equal(knob_u(&s, "max-source-rate"), 0); /* off */
    assert_int_equal(knob_u(&s, "max-pending-sends"), 64);
    hsa_settings_free(&s);

    /* The same from the config file, underscores for dashes. */
    const char *doc = "{\"http_token_file\": \"/t2\", \"replay-window\": 5000}";
    assert_int_equal(parse(&s, ARGC("--name", "n1"), ARGV("--name", "n1")), 0);
    assert_int_equal(hsa_settings_apply_json(&s, "x.json", doc, strlen(doc),
                                             err, sizeof err),
                     0);
    assert_string_equal(s.http_token_file, "/t2");
    assert_int_equal(knob_u(&s, "replay-window"), 5000);
    hsa_settings_free(&s);

    expect_error(ARGC("--replay-window", "999ms"),
                 ARGV("--replay-window", "999ms"), "at least 1s");
    expect_error(ARGC("--max-pending-sends", "0"),
                 ARGV("--max-pending-sends", "0"), "greater than 0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_library_knobs_are_flags),
        cmocka_unit_test(test_all_kinds),
        cmocka_unit_test(test_handler_specs),
        cmocka_unit_test(test_flag_errors),
        cmocka_unit_test(test_srv_and_check),
        cmocka_unit_test(test_config_file),
        cmocka_unit_test(test_http_limits_and_join),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_small_parsers),
        cmocka_unit_test(test_security_settings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
