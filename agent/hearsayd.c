/*
 * hearsayd.c — the hearsay daemon: one cluster member, its HTTP API,
 * metrics, event stream and event handlers, on one libev loop. This file
 * is main() and the start-up; the node's events are handled in
 * hearsayd_events.c, leaving, signals and exiting in hearsayd_leave.c.
 *
 * Why one loop and one thread: the node (hs_node_new with our loop), the
 * HTTP server (libmicrohttpd in external epoll mode, http.c), the event
 * stream (sse.c) and the handler runner (handlers.c, which reaps children
 * with ev_child) all run as watchers of libev's default loop. Routes call
 * hs_node_* directly and event callbacks feed the event stream without any
 * lock, and nothing here can block the loop for long: handlers run in child
 * processes, slow HTTP clients are suspended, not waited for. The default
 * loop is used because child watchers only work there; that is the
 * program's choice, not the library's (which only runs on a loop it is
 * given). Signals are ev_signal watchers, so there is no global state
 * at all, not even for signal handling.
 *
 * Exit codes: 0 after a graceful leave (SIGINT, SIGTERM, POST /v1/leave);
 * 1 when something fails at run time (a port in use, a second signal
 * during the leave, no peer reached within --join-timeout); 2 for bad
 * flags or configuration. SIGHUP reloads the config file (reload.c);
 * systemd readiness is notify.c's.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <ev.h>

#include "agent/agent.h"
#include "agent/json.h"
#include "agent/state.h"

/* ---- Start-up ---------------------------------------------------------- */

/* The HTTP address with the port actually bound, for handlers and logs. */
static void note_http_addr(hsa_agent *a)
{
    char host[256];
    uint16_t port;
    if (hsa_split_hostport(a->cfg->http, host, sizeof host, &port) < 0)
        return;
    bool v6 = strchr(host, ':') != NULL;
    snprintf(a->http_addr, sizeof a->http_addr, "%s%s%s:%u", v6 ? "[" : "",
             host, v6 ? "]" : "", hsa_http_port(a->http));
}

/* The token, and whether the API may run without one: write endpoints
 * change the node (tags, leave, keys), so beyond loopback they need a
 * token; hearsayd refuses to start rather than serve them open. */
static int check_http_access(hsa_agent *a)
{
    char err[600];
    if (hsa_http_access_check(a->cfg, a->token, sizeof a->token, err,
                              sizeof err) < 0) {
        hsa_logf(&a->log, HS_LOG_ERROR, "%s", err);
        return 2;
    }
    return 0;
}

/* Ready for a supervisor: serving, and either started without seeds or
 * having had an answer from a peer (a SYN-ACK, ACK or PUSH received). */
static bool agent_ready(void *arg, char *status, size_t len)
{
    hsa_agent *a = arg;
    if (a->phase != HSA_RUNNING)
        return false;
    if (a->cfg->n_join == 0) {
        snprintf(status, len, "running alone (no seeds)");
        return true;
    }
    hs_stats *st;
    if (hs_node_stats(a->node, &st) != HS_OK)
        return false;
    /* Wire types 2..4: syn-ack, ack, push (hs_msg_type_name). */
    uint64_t answers = 0;
    for (size_t t = 2; t <= 4; t++) {
        uint64_t v = 0;
        hs_stats_get(st, "msgs_recv", t, &v);
        answers += v;
    }
    hs_stats_free(st);
    if (answers > 0) {
        snprintf(status, len, "joined: exchanged state with a peer");
        return true;
    }
    snprintf(status, len, "waiting for a seed to answer");
    return false;
}

/* Says, loudly, what protects the gossip port. */
static void report_sealing(hsa_agent *a, const char *bound)
{
    hs_key_info keys[HS_KEYS_MAX];
    size_t n = 0;
    if (hs_node_keys(a->node, keys, HS_KEYS_MAX, &n) != HS_OK)
        n = 0;
    if (n) {
        hsa_logf(&a->log, HS_LOG_INFO,
                 "gossip is encrypted and authenticated: sealing with key "
                 "%s, %zu key(s) from %s",
                 keys[0].id, n, a->cfg->keyring ? a->cfg->keyring : "?");
    } else {
        hsa_logf(&a->log, HS_LOG_WARN,
                 "GOSSIP IS NOT ENCRYPTED: anyone who can send UDP to %s can "
                 "join this cluster, read every member's name, address and "
                 "tags, and forge leaves and failures. Use --keyring FILE "
                 "(`hearsay keygen` makes a key; see docs/security.md)",
                 bound);
    }
    hsa_wipe(keys, sizeof keys);
}

/* With --data-dir: a generation above every one this name used before
 * (state.c), recorded before the node exists. A clock behind the last
 * run is worth a warning: without the file this node would be invisible
 * to its peers. Returns 0, or the exit code. */
static int pick_generation(hsa_agent *a, hs_config *hc)
{
    hsa_settings *cfg = a->cfg;
    if (!cfg->data_dir)
        return 0;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    uint64_t now = (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
    uint64_t gen = 0, last = 0;
    char err[600];
    hsa_state_rc rc = hsa_state_next_generation(cfg->data_dir, cfg->name, now,
                                                &gen, &last, err, sizeof err);
    if (rc != HSA_STATE_OK) {
        hsa_logf(&a->log, HS_LOG_ERROR,
                 "%s; refusing to start without knowing the last generation "
                 "of \"%s\" (fix the file, or remove it to trust the clock)",
                 err, cfg->name);
        /* A file that cannot be read or used will not mend itself; a
         * failed write (disk full) may. */
        return rc == HSA_STATE_BAD ? 2 : 1;
    }
    if (last >= now)
        hsa_logf(&a->log, HS_LOG_WARN,
                 "the clock (%" PRIu64 " ms) is not past the last generation "
                 "of \"%s\" (%" PRIu64 ") in %s/%s: using %" PRIu64
                 " instead; is the clock behind?",
                 now, cfg->name, last, cfg->data_dir, HSA_STATE_FILE, gen);
    if (hs_config_set_uint(hc, "generation", gen) != HS_OK) {
        hsa_logf(&a->log, HS_LOG_ERROR, "generation %" PRIu64 " out of range",
                 gen);
        return 2;
    }
    return 0;
}

/* The node, from hc and the keyring file (read here, copied and wiped
 * by the library). Returns 0, or the exit code. */
static int new_node(hsa_agent *a, hs_config *hc)
{
    hsa_settings *cfg = a->cfg;
    char err[600];
    char(*keys)[HS_KEY_TEXT_LEN] = NULL;
    const char *key_ptrs[HS_KEYS_MAX];
    size_t n_keys = 0;
    if (cfg->keyring) {
        keys = calloc(HS_KEYS_MAX, sizeof *keys);
        if (!keys) {
            hsa_logf(&a->log, HS_LOG_ERROR, "out of memory");
            return 1;
        }
        if (hsa_keyring_load(cfg->keyring, keys, &n_keys, err, sizeof err) <
            0) {
            hsa_logf(&a->log, HS_LOG_ERROR, "%s", err);
            free(keys);
            return 2;
        }
        for (size_t i = 0; i < n_keys; i++)
            key_ptrs[i] = keys[i];
    }
    hs_err e = hs_config_set_keys(hc, key_ptrs, n_keys);
    if (e == HS_OK)
        e = hs_node_new(hc, a->loop, &a->node);
    if (keys) {
        hsa_wipe(keys, HS_KEYS_MAX * sizeof *keys);
        free(keys);
    }
    if (e != HS_OK) {
        hsa_logf(&a->log, HS_LOG_ERROR, "invalid configuration: %s",
                 hs_strerror(e));
        return 2;
    }
    return 0;
}

static int run(hsa_agent *a)
{
    hsa_settings *cfg = a->cfg;
    char err[600];
    hs_config *hc = NULL;
    if (hsa_settings_to_config(cfg, &hc, err, sizeof err) < 0) {
        hsa_logf(&a->log, HS_LOG_ERROR, "%s", err);
        return 2;
    }
    hs_config_set_log(hc, hsa_log_line, &a->log);
    int rc = check_http_access(a);
    if (rc == 0)
        rc = pick_generation(a, hc);
    if (rc == 0)
        rc = new_node(a, hc);
    hs_config_free(hc);
    if (rc)
        return rc;
    hs_err e;

    if ((e = hs_node_on(a->node, ~0u, hsa_agent_on_event, a)) != HS_OK) {
        hsa_logf(&a->log, HS_LOG_ERROR, "cannot watch events: %s",
                 hs_strerror(e));
        return 1;
    }
    a->sse = hsa_sse_new(a->loop, &a->log, &a->stats, cfg->sse_max_clients,
                         cfg->sse_keepalive_ms);
    if (!a->sse) {
        hsa_logf(&a->log, HS_LOG_ERROR, "out of memory");
        return 1;
    }
    if (cfg->n_handlers) {
        a->handlers =
            hsa_handlers_new(a->loop, &a->log, &a->stats, cfg->handlers,
                             cfg->n_handlers, cfg->handler_concurrency,
                             cfg->handler_queue, cfg->handler_timeout_ms);
        if (!a->handlers) {
            hsa_logf(&a->log, HS_LOG_ERROR, "out of memory");
            return 1;
        }
    }
    /* HTTP before gossip: a port in use fails the start before this node
     * has told anyone it exists. No request is served before ev_run. */
    if (cfg->http) {
        hsa_http_limits lim = {
            .max_connections = cfg->http_max_connections,
            .max_per_ip = cfg->http_max_per_ip,
            .header_timeout_ms = cfg->http_header_timeout_ms,
            .body_timeout_ms = cfg->http_body_timeout_ms,
            .idle_timeout_ms = cfg->http_idle_timeout_ms,
        };
        a->http = hsa_http_new(a->loop, &a->log, &a->stats, cfg->http, &lim,
                               hsa_api_route, a, err, sizeof err);
        if (!a->http) {
            hsa_logf(&a->log, HS_LOG_ERROR, "%s", err);
            return 1;
        }
        note_http_addr(a);
        hsa_sse_on_resume(a->sse, hsa_http_resumed, a->http);
    }
    /* Tags before the start: the member first appears with them, and they
     * are not reported as this node's own changes. */
    for (size_t i = 0; i < cfg->n_tags; i++) {
        const char *k = cfg->tags[i].key, *v = cfg->tags[i].value;
        if ((e = hs_node_set(a->node, k, v, strlen(v))) != HS_OK) {
            hsa_logf(&a->log, HS_LOG_ERROR, "--tag %s: %s", k, hs_strerror(e));
            return 2;
        }
    }
    char bind[HS_ADDRSTRLEN], cluster[HS_NAME_MAX + 1];
    hsa_settings_knob(cfg, "bind", bind, sizeof bind);
    hsa_settings_knob(cfg, "cluster", cluster, sizeof cluster);
    if ((e = hs_node_start(a->node)) != HS_OK) {
        hsa_logf(&a->log, HS_LOG_ERROR, "cannot start gossip on %s: %s", bind,
                 hs_strerror(e));
        return e == HS_EADDR ? 2 : 1;
    }
    if (cfg->n_join &&
        (e = hs_node_join(a->node, (const char *const *)cfg->join,
                          cfg->n_join)) != HS_OK) {
        hsa_logf(&a->log, HS_LOG_ERROR, "--join: %s", hs_strerror(e));
        return 2;
    }

    if (cfg->n_join && cfg->join_timeout_ms) {
        ev_timer_init(&a->join_deadline, hsa_agent_join_deadline_cb,
                      cfg->join_timeout_ms / 1000.0, 0.);
        a->join_deadline.data = a;
        ev_timer_start(a->loop, &a->join_deadline);
    }

    ev_signal_init(&a->sigint, hsa_agent_signal_cb, SIGINT);
    ev_signal_init(&a->sigterm, hsa_agent_signal_cb, SIGTERM);
    ev_signal_init(&a->sighup, hsa_agent_signal_cb, SIGHUP);
    a->sigint.data = a->sigterm.data = a->sighup.data = a;
    ev_signal_start(a->loop, &a->sigint);
    ev_signal_start(a->loop, &a->sigterm);
    ev_signal_start(a->loop, &a->sighup);

    char bound[80] = "?", adv[80] = "?";
    hs_node_bound_addr(a->node, bound, sizeof bound);
    hs_node_advertised_addr(a->node, adv, sizeof adv);
    hsa_logf(&a->log, HS_LOG_INFO,
             "running: gossip on %s (advertised as %s), cluster \"%s\", "
             "generation %" PRIu64 ", HTTP API %s%s, %zu seed(s), %zu event "
             "handler(s)",
             bound, adv, cluster, hs_node_generation(a->node),
             a->http ? "on http://" : "off", a->http ? a->http_addr : "",
             cfg->n_join, cfg->n_handlers);
    report_sealing(a, bound);
    hsa_notify_start(&a->notify, a->loop, agent_ready, a);
    if (a->http && a->token[0])
        hsa_logf(&a->log, HS_LOG_INFO,
                 "the HTTP API's write endpoints require the token from %s",
                 cfg->http_token_file);
    else if (a->http)
        hsa_logf(&a->log, HS_LOG_INFO,
                 "the HTTP API is on loopback without a token: every local "
                 "user may change tags, keys and leave");

    ev_run(a->loop, 0);
    return a->exit_code;
}

static void cleanup(hsa_agent *a)
{
    hsa_notify_close(&a->notify);
    if (a->sse)
        hsa_sse_close_all(a->sse);
    /* The node first: after this no event callback can run, so nothing
     * below is reached from the library while it is being freed. */
    if (a->node)
        hs_node_free(a->node);
    a->node = NULL;
    hsa_api_queries_free(a); /* queries the node will never end */
    /* Then the server: it ends the streams and frees their clients. */
    hsa_http_free(a->http);
    hsa_sse_free(a->sse);
    hsa_handlers_free(a->handlers);
    ev_signal_stop(a->loop, &a->sigint);
    ev_signal_stop(a->loop, &a->sigterm);
    ev_signal_stop(a->loop, &a->sighup);
    ev_timer_stop(a->loop, &a->leave_backstop);
    ev_timer_stop(a->loop, &a->exit_timer);
    ev_timer_stop(a->loop, &a->join_deadline);
}

int main(int argc, char **argv)
{
    hsa_settings cfg;
    char err[512];
    if (hsa_settings_parse(&cfg, argc, argv, err, sizeof err) < 0) {
        fprintf(stderr, "hearsayd: %s\n", err);
        hsa_settings_free(&cfg);
        return 2;
    }
    if (cfg.show_help) {
        hsa_usage(stdout);
        hsa_settings_free(&cfg);
        return 0;
    }
    if (cfg.check) {
        int rc = hsa_check(&cfg);
        hsa_settings_free(&cfg);
        return rc;
    }
    if (cfg.show_version) {
        printf("hearsayd %d.%d.%d (libhearsay %s)\n", HS_VERSION_MAJOR,
               HS_VERSION_MINOR, HS_VERSION_PATCH, hs_version_string());
        hsa_settings_free(&cfg);
        return 0;
    }

    hsa_agent a;
    memset(&a, 0, sizeof a);
    a.cfg = &cfg;
    a.leave = hsa_agent_leave;
    a.argc = argc;
    a.argv = argv;
    hsa_log_init(&a.log, "hearsayd", cfg.name, cfg.log_level);
    if (hsa_notify_init(&a.notify, err, sizeof err) < 0) {
        fprintf(stderr, "hearsayd: %s\n", err);
        hsa_settings_free(&cfg);
        return 2;
    }
    struct timeval tv;
    gettimeofday(&tv, NULL);
    a.stats.start_time = (double)tv.tv_sec + tv.tv_usec / 1e6;
    /* Writes to a peer that hung up must fail with EPIPE, not kill us. */
    signal(SIGPIPE, SIG_IGN);
    a.loop = ev_default_loop(EVFLAG_AUTO);
    if (!a.loop) {
        fprintf(stderr, "hearsayd: cannot initialise libev\n");
        hsa_settings_free(&cfg);
        return 1;
    }
    int rc = run(&a);
    cleanup(&a);
    hsa_logf(&a.log, HS_LOG_INFO, "exiting with status %d", rc);
    hsa_wipe(a.token, sizeof a.token);
    hsa_settings_free(&cfg);
    return rc;
}
