/*
 * reload.c — hearsayd's configuration checks outside the start-up path:
 * `hearsayd --check` (validate everything, bind nothing, print the
 * effective settings) and SIGHUP (re-read the config file and apply what
 * can change while the node runs).
 *
 * Why both live here: they run the same validation. A reload is "--check
 * the new settings, then apply the difference"; if a check fails the
 * running configuration is kept whole, so a typo in the file never leaves
 * the daemon half reconfigured. The settings are re-parsed from the
 * original command line, so the precedence is the start-up one (defaults <
 * file < flags): a flag given at start still wins over the reloaded file.
 *
 * What a reload applies: this member's tags (as ordinary sets and deletes,
 * so they spread like any change), the log level, the event handlers, the
 * keyring (added, made primary and removed as in a rotation) and the HTTP
 * token. What it cannot apply (name, addresses, cluster, timing knobs) is
 * logged as needing a restart and otherwise ignored.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "agent/agent.h"

int hsa_http_access_check(const hsa_settings *cfg, char *token, size_t toklen,
                          char *err, size_t errlen)
{
    if (toklen)
        token[0] = '\0';
    if (cfg->http_token_file &&
        hsa_token_load(cfg->http_token_file, token, toklen, err, errlen) < 0)
        return -1;
    if (!cfg->http)
        return 0;
    int lo = hsa_http_addr_is_loopback(cfg->http, err, errlen);
    if (lo < 0)
        return -1;
    if (!lo && !token[0]) {
        snprintf(err, errlen,
                 "--http %s is not a loopback address: the API's write "
                 "endpoints (tags, leave, keys) then need a token; set "
                 "--http-token-file FILE (see docs/security.md)",
                 cfg->http);
        return -1;
    }
    return 0;
}

/* ---- --check ------------------------------------------------------------ */

/* Everything a start would check before binding: the library's view of
 * the node settings (hs_node_new on a loop that never runs), the tags and
 * seeds (kept by a node that is never started), the keyring and token
 * files and the HTTP access rule. */
static int check_all(const hsa_settings *cfg, hsa_log *log, size_t *n_keys,
                     char *err, size_t errlen)
{
    int rc = -1;
    char token[HSA_TOKEN_MAX + 1];
    char(*keys)[HS_KEY_TEXT_LEN] = NULL;
    const char *key_ptrs[HS_KEYS_MAX];
    struct ev_loop *loop = NULL;
    hs_node *node = NULL;
    hs_config *hc = NULL;
    *n_keys = 0;

    if (hsa_settings_to_config(cfg, &hc, err, errlen) < 0)
        goto out;
    hs_config_set_log(hc, hsa_log_line, log);
    if (hsa_http_access_check(cfg, token, sizeof token, err, errlen) < 0)
        goto out;
    if (cfg->keyring) {
        if (!(keys = calloc(HS_KEYS_MAX, sizeof *keys))) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        if (hsa_keyring_load(cfg->keyring, keys, n_keys, err, errlen) < 0)
            goto out;
        for (size_t i = 0; i < *n_keys; i++)
            key_ptrs[i] = keys[i];
        if (hs_config_set_keys(hc, key_ptrs, *n_keys) != HS_OK) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
    }
    if (!(loop = ev_loop_new(EVFLAG_AUTO))) {
        snprintf(err, errlen, "cannot initialise libev");
        goto out;
    }
    hs_err e = hs_node_new(hc, loop, &node);
    if (e != HS_OK) {
        snprintf(err, errlen, "invalid configuration: %s", hs_strerror(e));
        goto out;
    }
    for (size_t i = 0; i < cfg->n_tags; i++) {
        const char *k = cfg->tags[i].key, *v = cfg->tags[i].value;
        if ((e = hs_node_set(node, k, v, strlen(v))) != HS_OK) {
            snprintf(err, errlen, "--tag %.128s: %s", k, hs_strerror(e));
            goto out;
        }
    }
    if (cfg->n_join && (e = hs_node_join(node, (const char *const *)cfg->join,
                                         cfg->n_join)) != HS_OK) {
        snprintf(err, errlen, "--join: %s", hs_strerror(e));
        goto out;
    }
    rc = 0;
out:
    if (node)
        hs_node_free(node);
    if (loop)
        ev_loop_destroy(loop);
    hs_config_free(hc);
    if (keys) {
        hsa_wipe(keys, HS_KEYS_MAX * sizeof *keys);
        free(keys);
    }
    hsa_wipe(token, sizeof token);
    return rc;
}

static void print_summary(FILE *f, const hsa_settings *cfg, size_t n_keys)
{
    char d[HS_NAME_MAX + 1];
    fprintf(f, "%-19s%s\n", "name", cfg->name);
    hsa_settings_knob(cfg, "cluster", d, sizeof d);
    fprintf(f, "%-19s%s\n", "cluster", d);
    hsa_settings_knob(cfg, "bind", d, sizeof d);
    fprintf(f, "%-19s%s\n", "bind", d);
    hsa_settings_knob(cfg, "advertise", d, sizeof d);
    fprintf(f, "%-19s%s\n", "advertise", d[0] ? d : "(the bound address)");
    fprintf(f, "%-19s%s\n", "http", cfg->http ? cfg->http : "off");
    fprintf(f, "%-19s%s\n", "config", cfg->config ? cfg->config : "(none)");
    fprintf(f, "%-19s%s\n", "log-level", hsa_log_level_name(cfg->log_level));
    for (size_t i = 0; i < cfg->n_join; i++)
        fprintf(f, "%-19s%s\n", "join", cfg->join[i]);
    for (size_t i = 0; i < cfg->n_tags; i++)
        fprintf(f, "%-19s%s=%s\n", "tag", cfg->tags[i].key, cfg->tags[i].value);
    for (size_t i = 0; i < cfg->n_handlers; i++)
        fprintf(f, "%-19s%s\n", "event-handler", cfg->handlers[i].cmd);
    if (cfg->keyring)
        fprintf(f, "%-19s%s (%zu key%s)\n", "keyring", cfg->keyring, n_keys,
                n_keys == 1 ? "" : "s");
    else
        fprintf(f, "keyring           (none: gossip in plaintext)\n");
    fprintf(f, "%-19s%s\n", "http-token-file",
            cfg->http_token_file ? cfg->http_token_file : "(none)");
    static const char *const knobs[] = {"mode", "gossip-interval",
                                        "heartbeat-interval", "phi-threshold",
                                        "dead-after"};
    for (size_t i = 0; i < sizeof knobs / sizeof *knobs; i++) {
        hsa_settings_knob(cfg, knobs[i], d, sizeof d);
        fprintf(f, "%-19s%s\n", knobs[i], d);
    }
    hsa_format_duration(cfg->leave_timeout_ms, d, sizeof d);
    fprintf(f, "%-19s%s\n", "leave-timeout", d);
}

int hsa_check(const hsa_settings *cfg)
{
    hsa_log log;
    hsa_log_init(&log, "hearsayd", cfg->name, cfg->log_level);
    char err[600];
    size_t n_keys = 0;
    if (check_all(cfg, &log, &n_keys, err, sizeof err) < 0) {
        fprintf(stderr, "hearsayd: --check: %s\n", err);
        return 2;
    }
    printf("ok\n");
    print_summary(stdout, cfg, n_keys);
    return 0;
}

/* ---- SIGHUP ------------------------------------------------------------- */

static const char *tag_value(const hsa_settings *s, const char *key)
{
    for (size_t i = 0; i < s->n_tags; i++)
        if (strcmp(s->tags[i].key, key) == 0)
            return s->tags[i].value;
    return NULL;
}

static bool str_differs(const char *a, const char *b)
{
    if (!a || !b)
        return a != b;
    return strcmp(a, b) != 0;
}

/* Settings that only a restart can change: said once per reload. */
static void note_restart_only(hsa_agent *a, const hsa_settings *o,
                              const hsa_settings *n)
{
    const char *changed[8];
    size_t k = 0;
    char x[HS_NAME_MAX + 1], y[HS_NAME_MAX + 1];
    if (str_differs(o->name, n->name))
        changed[k++] = "name";
    static const char *const named[] = {"bind", "advertise", "cluster"};
    for (size_t i = 0; i < sizeof named / sizeof *named; i++) {
        hsa_settings_knob(o, named[i], x, sizeof x);
        hsa_settings_knob(n, named[i], y, sizeof y);
        if (strcmp(x, y) != 0)
            changed[k++] = named[i];
    }
    if (str_differs(o->http, n->http))
        changed[k++] = "http";
    bool joins = o->n_join != n->n_join;
    for (size_t i = 0; !joins && i < o->n_join; i++)
        joins = strcmp(o->join[i], n->join[i]) != 0;
    if (joins)
        changed[k++] = "join";
    /* Every other library knob (the table says which there are; the log
     * level is applied, and the addresses and cluster are named above). */
    bool knobs = false;
    for (size_t i = 0; !knobs && i < hs_option_count(); i++) {
        const char *kn = hs_option_at(i)->name;
        if (!strcmp(kn, "log-level") || !strcmp(kn, "name") ||
            !strcmp(kn, "bind") || !strcmp(kn, "advertise") ||
            !strcmp(kn, "cluster"))
            continue;
        hsa_settings_knob(o, kn, x, sizeof x);
        hsa_settings_knob(n, kn, y, sizeof y);
        knobs = strcmp(x, y) != 0;
    }
    if (knobs)
        changed[k++] = "timing/limit knobs";
    for (size_t i = 0; i < k; i++)
        hsa_logf(&a->log, HS_LOG_WARN,
                 "reload: %s changed in the configuration; it takes effect "
                 "only after a restart",
                 changed[i]);
}

/* Brings the node's keyring to the file's keys: add the new, make the
 * file's first key primary, remove the rest (a rotation in one step, so
 * peers that already have the new key keep talking to us throughout). */
static int apply_keys(hsa_agent *a, char (*keys)[HS_KEY_TEXT_LEN], size_t n,
                      char *err, size_t errlen)
{
    hs_key_info cur[HS_KEYS_MAX];
    size_t nc = 0;
    int rc = -1;
    hs_err e = hs_node_keys(a->node, cur, HS_KEYS_MAX, &nc);
    if (e != HS_OK) {
        snprintf(err, errlen, "keyring: %s", hs_strerror(e));
        goto out;
    }
    if (nc == 0 && n) {
        snprintf(err, errlen,
                 "keyring: this node was started without keys; sealing can "
                 "only be turned on by a restart");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        if ((e = hs_node_key_add(a->node, keys[i])) != HS_OK) {
            snprintf(err, errlen, "keyring: adding key %zu: %s", i + 1,
                     hs_strerror(e));
            goto out;
        }
    if (n && (e = hs_node_key_use(a->node, keys[0])) != HS_OK) {
        snprintf(err, errlen, "keyring: primary key: %s", hs_strerror(e));
        goto out;
    }
    for (size_t i = 0; i < nc; i++) {
        bool keep = false;
        for (size_t j = 0; j < n && !keep; j++)
            keep = strcmp(cur[i].key, keys[j]) == 0;
        if (!keep && (e = hs_node_key_remove(a->node, cur[i].key)) != HS_OK) {
            snprintf(err, errlen, "keyring: removing key %s: %s", cur[i].id,
                     hs_strerror(e));
            goto out;
        }
    }
    rc = 0;
out:
    hsa_wipe(cur, sizeof cur);
    return rc;
}

/* Tags the configuration gave before and gives now: changed values are
 * set, keys no longer given are deleted. Tags set over the HTTP API that
 * the configuration never named are left alone. */
static int apply_tags(hsa_agent *a, const hsa_settings *o,
                      const hsa_settings *n, char *err, size_t errlen)
{
    hs_err e;
    for (size_t i = 0; i < n->n_tags; i++) {
        const char *k = n->tags[i].key, *v = n->tags[i].value;
        const char *old = tag_value(o, k);
        if (old && strcmp(old, v) == 0)
            continue;
        if ((e = hs_node_set(a->node, k, v, strlen(v))) != HS_OK) {
            snprintf(err, errlen, "tag %.128s: %s", k, hs_strerror(e));
            return -1;
        }
        hsa_logf(&a->log, HS_LOG_INFO, "reload: tag %s=%s", k, v);
    }
    for (size_t i = 0; i < o->n_tags; i++) {
        const char *k = o->tags[i].key;
        if (tag_value(n, k))
            continue;
        e = hs_node_del(a->node, k);
        if (e != HS_OK && e != HS_ENOTFOUND) {
            snprintf(err, errlen, "tag %.128s: %s", k, hs_strerror(e));
            return -1;
        }
        hsa_logf(&a->log, HS_LOG_INFO, "reload: tag %s deleted", k);
    }
    return 0;
}

/* Moves the reloadable settings of n into the running o (swapping, so
 * hsa_settings_free(n) releases the old ones). */
static void adopt(hsa_settings *o, hsa_settings *n)
{
#define SWAP(T, f)                                                             \
    do {                                                                       \
        T t_ = o->f;                                                           \
        o->f = n->f;                                                           \
        n->f = t_;                                                             \
    } while (0)
    SWAP(hsa_tagkv *, tags);
    SWAP(size_t, n_tags);
    SWAP(hsa_handler_spec *, handlers);
    SWAP(size_t, n_handlers);
    SWAP(char *, keyring);
    SWAP(char *, http_token_file);
    SWAP(int, log_level);
#undef SWAP
}

static int reload(hsa_agent *a, char *err, size_t errlen)
{
    hsa_settings n;
    char token[HSA_TOKEN_MAX + 1] = "";
    char(*keys)[HS_KEY_TEXT_LEN] = NULL;
    size_t n_keys = 0;
    int rc = -1;
    if (hsa_settings_parse(&n, a->argc, a->argv, err, errlen) < 0)
        goto out;
    if (!n.config)
        hsa_logf(&a->log, HS_LOG_INFO,
                 "reload: no --config file, so only the keyring and token "
                 "files can have changed");
    /* The restart-only settings stay as they run, so the access rule is
     * checked against the address actually served. */
    char *served = n.http;
    n.http = a->cfg->http;
    int access = hsa_http_access_check(&n, token, sizeof token, err, errlen);
    n.http = served;
    if (access < 0)
        goto out;
    if (n.keyring) {
        if (!(keys = calloc(HS_KEYS_MAX, sizeof *keys))) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        if (hsa_keyring_load(n.keyring, keys, &n_keys, err, errlen) < 0)
            goto out;
    } else if (a->cfg->keyring) {
        snprintf(err, errlen,
                 "keyring: the configuration no longer names one; sealing "
                 "can only be turned off by a restart");
        goto out;
    }
    /* Everything validated: apply. The keys first, since they are the
     * only step the node itself can still refuse. */
    if (n.keyring && apply_keys(a, keys, n_keys, err, errlen) < 0)
        goto out;
    if (apply_tags(a, a->cfg, &n, err, errlen) < 0)
        goto out;
    note_restart_only(a, a->cfg, &n);
    adopt(a->cfg, &n);
    a->log.level = a->cfg->log_level;
    hs_node_set_log_level(a->node, a->cfg->log_level);
    if (a->handlers)
        hsa_handlers_set_specs(a->handlers, a->cfg->handlers,
                               a->cfg->n_handlers);
    else if (a->cfg->n_handlers &&
             !(a->handlers = hsa_handlers_new(
                   a->loop, &a->log, &a->stats, a->cfg->handlers,
                   a->cfg->n_handlers, a->cfg->handler_concurrency,
                   a->cfg->handler_queue, a->cfg->handler_timeout_ms)))
        hsa_logf(&a->log, HS_LOG_ERROR,
                 "reload: out of memory: event handlers not started");
    memcpy(a->token, token, sizeof a->token);
    rc = 0;
    hsa_logf(&a->log, HS_LOG_INFO,
             "reload: configuration applied (%zu tag(s), %zu event "
             "handler(s), %zu key(s), log level %s, %s)",
             a->cfg->n_tags, a->cfg->n_handlers, n_keys,
             hsa_log_level_name(a->cfg->log_level),
             a->token[0] ? "HTTP token set" : "no HTTP token");
out:
    if (keys) {
        hsa_wipe(keys, HS_KEYS_MAX * sizeof *keys);
        free(keys);
    }
    hsa_wipe(token, sizeof token);
    hsa_settings_free(&n);
    return rc;
}

void hsa_reload(hsa_agent *a)
{
    char err[600];
    if (a->phase != HSA_RUNNING) {
        hsa_logf(&a->log, HS_LOG_INFO, "SIGHUP ignored: leaving");
        return;
    }
    hsa_notify_send(&a->notify, "RELOADING=1");
    if (reload(a, err, sizeof err) < 0) {
        a->stats.config_reloads_error++;
        hsa_logf(&a->log, HS_LOG_ERROR,
                 "reload failed, keeping the running configuration: %s", err);
    } else {
        a->stats.config_reloads_ok++;
    }
    if (a->notify.ready_sent)
        hsa_notify_send(&a->notify, "READY=1");
}
