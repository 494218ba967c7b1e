/*
 * config.c — hearsayd's options (see config.h): the agent's own table, the
 * library's knobs taken from the library's table, the command line, and
 * --help. The setter every value goes through is in config_apply.c.
 *
 * Two tables of one shape, and no third copy: the library describes its
 * knobs (name, type, default, bounds, help) through hs_option_at(), and
 * every one of them is a flag and a config key of the same name; this
 * file lists only what the daemon adds (HTTP, handlers, files, timeouts)
 * and the two library options it handles itself (name: the host name by
 * default; log-level: the agent logs too, at info by default). Flags and
 * config keys (config_file.c) share hsa_opt_apply(), so a value means the
 * same thing, and is refused with the same message, wherever it is
 * written; --help prints the library's defaults, so it cannot drift.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/config_impl.h"
#include "agent/log.h"

/* The agent's options, in the order of --help after the library's knobs
 * (hsa_usage), in the library table's shape: name, value, help, default.
 * hsa_settings_parse applies the defaults from here, and --help prints
 * them, so each is written once. "name" and "log-level" replace the
 * library's options of those names (lib_override). */
static const hsa_opt opts[] = {
    {"name", HSA_O_NAME, HSA_K_STR, "NAME",
     "unique member name (default: the host name)", NULL, NULL},
    {"join", HSA_O_JOIN, HSA_K_LIST, "HOST:PORT",
     "a seed to join through: IP:PORT, a DNS NAME:PORT, or srv+NAME for "
     "DNS SRV records (names are re-resolved); repeatable",
     NULL, NULL},
    {"http", HSA_O_HTTP, HSA_K_HTTP, "HOST:PORT",
     "HTTP API address, or \"off\"", HSA_DEFAULT_HTTP, NULL},
    {"tag", HSA_O_TAG, HSA_K_TAG, "KEY=VALUE",
     "a tag of this member; repeatable", NULL, NULL},
    {"event-handler", HSA_O_EVENT_HANDLER, HSA_K_HANDLER, "[EVENTS=]CMD",
     "run CMD (via /bin/sh -c) on events, e.g. \"member-join,member-fail="
     "/path/x\"; EVENTS also user (every user event) or user:NAME; "
     "repeatable",
     NULL, NULL},
    {"keyring", HSA_O_KEYRING, HSA_K_STR, "FILE",
     "seal gossip with these keys: one base64 key per line, the first "
     "used to seal (mode 0600; see docs/security.md)",
     NULL, NULL},
    {"http-token-file", HSA_O_HTTP_TOKEN_FILE, HSA_K_STR, "FILE",
     "bearer token the API's write endpoints require (mode 0600; "
     "needed when --http is not loopback)",
     NULL, NULL},
    {"data-dir", HSA_O_DATA_DIR, HSA_K_STR, "DIR",
     "keep the last generation used per name in DIR/state.json, so a "
     "restart never goes back (default: none)",
     NULL, NULL},
    {"config", HSA_O_CONFIG, HSA_K_STR, "FILE",
     "JSON config file; flags override it", NULL, NULL},
    {"log-level", HSA_O_LOG_LEVEL, HSA_K_LEVEL, "LEVEL",
     "error, warn, info or debug", "info", NULL},
    {"leave-timeout", HSA_O_LEAVE_TIMEOUT, HSA_K_DURATION, "DUR",
     "on SIGINT/SIGTERM/POST /v1/leave, exit within this", "5s", NULL},
    {"handler-timeout", HSA_O_HANDLER_TIMEOUT, HSA_K_DURATION, "DUR",
     "event handlers running longer are killed", "30s", NULL},
    {"handler-concurrency", HSA_O_HANDLER_CONCURRENCY, HSA_K_U32, "N",
     "event handlers running at once", "4", NULL},
    {"handler-queue", HSA_O_HANDLER_QUEUE, HSA_K_U32, "N",
     "event handler runs waiting; more are dropped", "1024", NULL},
    {"sse-max-clients", HSA_O_SSE_MAX_CLIENTS, HSA_K_U32, "N",
     "GET /v1/events clients at once", "64", NULL},
    {"sse-keepalive", HSA_O_SSE_KEEPALIVE, HSA_K_DURATION, "DUR",
     "keep-alive comment interval on the event stream", "15s", NULL},
    {"check", HSA_O_CHECK, HSA_K_FLAG, NULL,
     "validate the flags and config file, print the effective settings and "
     "exit (0 valid, 2 not); binds nothing",
     NULL, NULL},
    {"http-max-connections", HSA_O_HTTP_MAX_CONNECTIONS, HSA_K_U32, "N",
     "HTTP connections at once, event streams included", "512", NULL},
    {"http-max-connections-per-ip", HSA_O_HTTP_MAX_PER_IP, HSA_K_U32, "N",
     "HTTP connections at once from one client address; 0: no limit", "64",
     NULL},
    {"http-header-timeout", HSA_O_HTTP_HEADER_TIMEOUT, HSA_K_DURATION, "DUR",
     "a request's head must arrive within this", "10s", NULL},
    {"http-body-timeout", HSA_O_HTTP_BODY_TIMEOUT, HSA_K_DURATION, "DUR",
     "a request's body must arrive within this of its head", "30s", NULL},
    {"http-idle-timeout", HSA_O_HTTP_IDLE_TIMEOUT, HSA_K_DURATION, "DUR",
     "HTTP connections silent this long are closed", "30s", NULL},
    {"join-timeout", HSA_O_JOIN_TIMEOUT, HSA_K_DURATION, "DUR",
     "exit 1 if no peer has answered within this of the start; 0: wait "
     "forever",
     "0", NULL},
    {"help", HSA_O_HELP, HSA_K_FLAG, NULL, "show this help and exit", NULL,
     NULL},
    {"version", HSA_O_VERSION, HSA_K_FLAG, NULL, "show the version and exit",
     NULL, NULL},
};
#define N_OPTS (sizeof opts / sizeof *opts)

/* Library options the daemon does not offer as flags: the generation
 * comes from the clock or --data-dir (hearsayd.c), and the PRNG seed is
 * only for reproducible tests. */
static const char *const lib_hidden[] = {"generation", "seed"};

bool hsa_opt_in_list(const char *const *list, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], name) == 0)
            return true;
    return false;
}

#define IN(list, name) hsa_opt_in_list(list, sizeof list / sizeof *list, name)

/* The agent's own entry that replaces the library option `name`. */
static const hsa_opt *lib_override(const char *name)
{
    for (size_t i = 0; i < N_OPTS; i++)
        if (strcmp(opts[i].name, name) == 0)
            return &opts[i];
    return NULL;
}

static hsa_opt from_lib(const hs_option *lo)
{
    return (hsa_opt){lo->name, HSA_O_LIB, HSA_K_LIB, lo->metavar,
                     lo->help, lo->dflt,  lo};
}

int hsa_opt_find(const char *name, size_t len, hsa_opt *out)
{
    char buf[64];
    for (size_t i = 0; i < N_OPTS; i++) {
        if (strlen(opts[i].name) == len &&
            strncmp(opts[i].name, name, len) == 0) {
            *out = opts[i];
            return 0;
        }
    }
    if (len >= sizeof buf)
        return -1;
    memcpy(buf, name, len);
    buf[len] = '\0';
    const hs_option *lo = hs_option_find(buf);
    if (!lo || IN(lib_hidden, buf))
        return -1;
    *out = from_lib(lo);
    return 0;
}

/* ---- Entry points ------------------------------------------------------ */

typedef struct flagval {
    hsa_opt opt;
    const hsa_opt *o; /* &opt */
    const char *value;
    char where[80];
} flagval;

int hsa_settings_parse(hsa_settings *s, int argc, char **argv, char *err,
                       size_t errlen)
{
    memset(s, 0, sizeof *s);
    if (hs_config_new(&s->node) != HS_OK) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* The agent's defaults, from its table (the library's are in s->node). */
    for (size_t i = 0; i < N_OPTS; i++) {
        if (opts[i].dflt && hsa_opt_apply(s, &opts[i], opts[i].dflt,
                                          opts[i].name, err, errlen) < 0)
            return -1;
    }

    /* Pass 1: split argv into (option, value) pairs, so the config file
     * (wherever --config appears) is applied before every flag. */
    flagval *fv = calloc((size_t)(argc > 0 ? argc : 1), sizeof *fv);
    size_t nfv = 0;
    int rc = -1;
    if (!fv) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0)
            a = "--help";
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            snprintf(err, errlen,
                     "unexpected argument '%.100s' (options start with --; "
                     "see --help)",
                     a);
            goto out;
        }
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t nl = eq ? (size_t)(eq - name) : strlen(name);
        if (hsa_opt_find(name, nl, &fv[nfv].opt) < 0) {
            snprintf(err, errlen, "unknown option '--%.*s' (see --help)",
                     (int)(nl > 100 ? 100 : nl), name);
            goto out;
        }
        const hsa_opt *o = fv[nfv].o = &fv[nfv].opt;
        snprintf(fv[nfv].where, sizeof fv[nfv].where, "--%s", o->name);
        if (o->kind == HSA_K_FLAG) {
            if (eq) {
                snprintf(err, errlen, "--%s takes no value", o->name);
                goto out;
            }
            fv[nfv].value = "";
        } else if (eq) {
            fv[nfv].value = eq + 1;
        } else if (i + 1 < argc) {
            fv[nfv].value = argv[++i];
        } else {
            snprintf(err, errlen, "--%s needs a value (%s)", o->name,
                     o->metavar);
            goto out;
        }
        nfv++;
    }
    for (size_t i = 0; i < nfv; i++) {
        if (fv[i].o->kind == HSA_K_FLAG &&
            hsa_opt_apply(s, fv[i].o, "", fv[i].where, err, errlen) < 0)
            goto out;
    }
    if (s->show_help || s->show_version) {
        rc = 0;
        goto out;
    }

    /* Pass 2: the config file, then pass 3: the flags over it. */
    for (size_t i = 0; i < nfv; i++) {
        if (fv[i].o->id == HSA_O_CONFIG &&
            hsa_opt_apply(s, fv[i].o, fv[i].value, fv[i].where, err, errlen) <
                0)
            goto out;
    }
    if (s->config && hsa_config_load(s, s->config, err, errlen) < 0)
        goto out;
    for (size_t i = 0; i < nfv; i++) {
        if (fv[i].o->id != HSA_O_CONFIG && fv[i].o->kind != HSA_K_FLAG &&
            hsa_opt_apply(s, fv[i].o, fv[i].value, fv[i].where, err, errlen) <
                0)
            goto out;
    }

    if (!s->name) {
        char host[256];
        if (gethostname(host, sizeof host) < 0 || !host[0]) {
            snprintf(err, errlen, "--name not given and no host name to use");
            goto out;
        }
        host[sizeof host - 1] = '\0';
        if (hsa_opt_set_str(&s->name, host, err, errlen) < 0)
            goto out;
    }
    rc = 0;
out:
    free(fv);
    return rc;
}

void hsa_settings_free(hsa_settings *s)
{
    free(s->name);
    free(s->http);
    free(s->keyring);
    free(s->http_token_file);
    free(s->data_dir);
    free(s->config);
    for (size_t i = 0; i < s->n_join; i++)
        free(s->join[i]);
    free(s->join);
    for (size_t i = 0; i < s->n_tags; i++) {
        free(s->tags[i].key);
        free(s->tags[i].value);
    }
    free(s->tags);
    for (size_t i = 0; i < s->n_handlers; i++)
        free(s->handlers[i].cmd);
    free(s->handlers);
    hs_config_free(s->node);
    memset(s, 0, sizeof *s);
}

int hsa_settings_to_config(const hsa_settings *s, hs_config **out, char *err,
                           size_t errlen)
{
    hs_config *c = NULL;
    hs_err e = hs_config_dup(s->node, &c);
    if (e == HS_OK && s->name)
        e = hs_config_set_str(c, "name", s->name);
    if (e == HS_EINVAL)
        snprintf(err, errlen,
                 "invalid configuration: name '%.200s' is not 1..%d printable "
                 "ASCII bytes without spaces",
                 s->name, HS_NAME_MAX);
    else if (e == HS_OK)
        e = hs_config_set_uint(c, "log-level", (uint64_t)s->log_level);
    if (e != HS_OK) {
        if (e != HS_EINVAL || !s->name)
            snprintf(err, errlen, "node configuration: %s", hs_strerror(e));
        hs_config_free(c);
        *out = NULL;
        return -1;
    }
    *out = c;
    return 0;
}

void hsa_settings_knob(const hsa_settings *s, const char *name, char *buf,
                       size_t len)
{
    if (!s->node || hs_config_get_str(s->node, name, buf, len) != HS_OK)
        snprintf(buf, len, "?");
}

static void usage_line(FILE *f, const hsa_opt *o, const char *dflt)
{
    char left[64];
    snprintf(left, sizeof left, "--%s%s%s", o->name, o->metavar ? " " : "",
             o->metavar ? o->metavar : "");
    fprintf(f, "  %-28s %s%s%s%s\n", left, o->help, dflt ? " (default " : "",
            dflt ? dflt : "", dflt ? ")" : "");
}

void hsa_usage(FILE *f)
{
    fputs("usage: hearsayd [--name NAME] [--bind HOST:PORT] "
          "[--join HOST:PORT]... [options]\n"
          "\n"
          "Runs one hearsay cluster member with an HTTP API, Prometheus "
          "metrics,\n"
          "an event stream and event handlers. SIGINT/SIGTERM leave the "
          "cluster\n"
          "gracefully. Durations take ms, s, m or h (a bare number is "
          "ms).\n"
          "\n"
          "options:\n",
          f);
    /* The library's knobs first, in its order, with its defaults (text
     * ones quoted: "default" is a cluster name); then the agent's. */
    for (size_t i = 0; i < hs_option_count(); i++) {
        const hs_option *lo = hs_option_at(i);
        if (IN(lib_hidden, lo->name))
            continue;
        const hsa_opt *own = lib_override(lo->name);
        hsa_opt o = own ? *own : from_lib(lo);
        char d[96];
        if (o.dflt)
            snprintf(d, sizeof d,
                     !own && lo->type == HS_OPT_STR ? "\"%s\"" : "%s", o.dflt);
        usage_line(f, &o, o.dflt ? d : NULL);
    }
    for (size_t i = 0; i < N_OPTS; i++)
        if (!hs_option_find(opts[i].name))
            usage_line(f, &opts[i], opts[i].dflt);
    fputs("\n"
          "Every option can also be set in the --config JSON file, keyed "
          "by its\n"
          "name (e.g. {\"name\": \"n1\", \"join\": [\"10.0.0.2:7946\"], "
          "\"tag\": {\"role\": \"db\"}}).\n"
          "Exit status: 0 after a graceful leave, 1 on a run-time failure, "
          "2 for bad\n"
          "flags or configuration. See docs/operations.md.\n",
          f);
}
