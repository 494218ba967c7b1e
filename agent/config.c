/*
 * config.c — hearsayd's options (see config.h): the table that lists every
 * option once, the setter every value goes through, the command line, and
 * --help.
 *
 * The table gives each option its name (the flag without "--", and the key
 * in the config file), the kind of value it takes and its help line. Flags
 * and config keys (config_file.c) share hsa_opt_apply(), so a value means
 * the same thing, and is refused with the same message, wherever it is
 * written. --help prints the node knobs' defaults from hs_config_init(), so
 * it cannot drift from the library.
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

/* Order is the order of --help. Node knobs get "(default X)" appended from
 * the library (print_default); the agent's own defaults are written here
 * and set in hsa_settings_parse. */
static const hsa_opt opts[] = {
    {"name", HSA_O_NAME, HSA_K_STR, "NAME",
     "unique member name (default: the host name)"},
    {"bind", HSA_O_BIND, HSA_K_ADDR, "HOST:PORT", "gossip (UDP) address"},
    {"advertise", HSA_O_ADVERTISE, HSA_K_ADDR, "HOST:PORT",
     "address peers use to reach this node (default: the bound one)"},
    {"join", HSA_O_JOIN, HSA_K_LIST, "HOST:PORT",
     "a seed to join through: IP:PORT, a DNS NAME:PORT, or srv+NAME for "
     "DNS SRV records (names are re-resolved); repeatable"},
    {"cluster", HSA_O_CLUSTER, HSA_K_STR, "NAME",
     "cluster name; messages of other clusters are dropped"},
    {"http", HSA_O_HTTP, HSA_K_HTTP, "HOST:PORT",
     "HTTP API address, or \"off\" (default " HSA_DEFAULT_HTTP ")"},
    {"tag", HSA_O_TAG, HSA_K_TAG, "KEY=VALUE",
     "a tag of this member; repeatable"},
    {"event-handler", HSA_O_EVENT_HANDLER, HSA_K_HANDLER, "[EVENTS=]CMD",
     "run CMD (via /bin/sh -c) on events, e.g. \"member-join,member-fail="
     "/path/x\"; repeatable"},
    {"keyring", HSA_O_KEYRING, HSA_K_STR, "FILE",
     "seal gossip with these keys: one base64 key per line, the first "
     "used to seal (mode 0600; see docs/security.md)"},
    {"http-token-file", HSA_O_HTTP_TOKEN_FILE, HSA_K_STR, "FILE",
     "bearer token the API's write endpoints require (mode 0600; "
     "needed when --http is not loopback)"},
    {"data-dir", HSA_O_DATA_DIR, HSA_K_STR, "DIR",
     "keep the last generation used per name in DIR/state.json, so a "
     "restart never goes back (default: none)"},
    {"config", HSA_O_CONFIG, HSA_K_STR, "FILE",
     "JSON config file; flags override it"},
    {"log-level", HSA_O_LOG_LEVEL, HSA_K_LEVEL, "LEVEL",
     "error, warn, info or debug (default info)"},
    {"mode", HSA_O_MODE, HSA_K_MODE, "MODE",
     "gossip exchange: push-pull, pull or push"},
    {"gossip-interval", HSA_O_GOSSIP_INTERVAL, HSA_K_DURATION, "DUR",
     "time between gossip rounds"},
    {"heartbeat-interval", HSA_O_HEARTBEAT_INTERVAL, HSA_K_DURATION, "DUR",
     "time between heartbeat increments"},
    {"phi-threshold", HSA_O_PHI_THRESHOLD, HSA_K_DOUBLE, "PHI",
     "suspicion level that makes a member suspect; 0 disables"},
    {"dead-after", HSA_O_DEAD_AFTER, HSA_K_DURATION, "DUR",
     "suspect for this long: dead"},
    {"fanout", HSA_O_FANOUT, HSA_K_U32, "N", "peers per gossip round"},
    {"max-datagram", HSA_O_MAX_DATAGRAM, HSA_K_U32, "BYTES",
     "largest datagram sent"},
    {"reap-dead-after", HSA_O_REAP_DEAD_AFTER, HSA_K_DURATION, "DUR",
     "dead members are forgotten after this"},
    {"reap-left-after", HSA_O_REAP_LEFT_AFTER, HSA_K_DURATION, "DUR",
     "members that left are forgotten after this"},
    {"tombstone-gc", HSA_O_TOMBSTONE_GC, HSA_K_DURATION, "DUR",
     "deleted tags are remembered this long"},
    {"max-members", HSA_O_MAX_MEMBERS, HSA_K_U32, "N",
     "largest cluster accepted"},
    {"max-keys", HSA_O_MAX_KEYS, HSA_K_U32, "N", "most keys per member"},
    {"resolve-interval", HSA_O_RESOLVE_INTERVAL, HSA_K_DURATION, "DUR",
     "seed DNS names are re-resolved this often"},
    {"replay-window", HSA_O_REPLAY_WINDOW, HSA_K_DURATION, "DUR",
     "sealed datagrams stamped further away are refused as replays"},
    {"max-source-rate", HSA_O_MAX_SOURCE_RATE, HSA_K_U32, "N",
     "datagrams accepted per second from one address; 0: no limit"},
    {"max-pending-sends", HSA_O_MAX_PENDING_SENDS, HSA_K_U32, "N",
     "outgoing datagrams queued; more are dropped"},
    {"leave-timeout", HSA_O_LEAVE_TIMEOUT, HSA_K_DURATION, "DUR",
     "on SIGINT/SIGTERM/POST /v1/leave, exit within this (default 5s)"},
    {"handler-timeout", HSA_O_HANDLER_TIMEOUT, HSA_K_DURATION, "DUR",
     "event handlers running longer are killed (default 30s)"},
    {"handler-concurrency", HSA_O_HANDLER_CONCURRENCY, HSA_K_U32, "N",
     "event handlers running at once (default 4)"},
    {"handler-queue", HSA_O_HANDLER_QUEUE, HSA_K_U32, "N",
     "event handler runs waiting; more are dropped (default 1024)"},
    {"sse-max-clients", HSA_O_SSE_MAX_CLIENTS, HSA_K_U32, "N",
     "GET /v1/events clients at once (default 64)"},
    {"sse-keepalive", HSA_O_SSE_KEEPALIVE, HSA_K_DURATION, "DUR",
     "keep-alive comment interval on the event stream (default 15s)"},
    {"check", HSA_O_CHECK, HSA_K_FLAG, NULL,
     "validate the flags and config file, print the effective settings and "
     "exit (0 valid, 2 not); binds nothing"},
    {"http-max-connections", HSA_O_HTTP_MAX_CONNECTIONS, HSA_K_U32, "N",
     "HTTP connections at once, event streams included (default 512)"},
    {"http-max-connections-per-ip", HSA_O_HTTP_MAX_PER_IP, HSA_K_U32, "N",
     "HTTP connections at once from one client address; 0: no limit "
     "(default 64)"},
    {"http-header-timeout", HSA_O_HTTP_HEADER_TIMEOUT, HSA_K_DURATION, "DUR",
     "a request's head must arrive within this (default 10s)"},
    {"http-body-timeout", HSA_O_HTTP_BODY_TIMEOUT, HSA_K_DURATION, "DUR",
     "a request's body must arrive within this of its head (default 30s)"},
    {"http-idle-timeout", HSA_O_HTTP_IDLE_TIMEOUT, HSA_K_DURATION, "DUR",
     "HTTP connections silent this long are closed (default 30s)"},
    {"join-timeout", HSA_O_JOIN_TIMEOUT, HSA_K_DURATION, "DUR",
     "exit 1 if no peer has answered within this of the start; 0: wait "
     "forever (default 0)"},
    {"help", HSA_O_HELP, HSA_K_FLAG, NULL, "show this help and exit"},
    {"version", HSA_O_VERSION, HSA_K_FLAG, NULL, "show the version and exit"},
};
#define N_OPTS (sizeof opts / sizeof *opts)

/* ---- Applying one value ----------------------------------------------- */

const hsa_opt *hsa_opt_find(const char *name, size_t len)
{
    for (size_t i = 0; i < N_OPTS; i++) {
        if (strlen(opts[i].name) == len &&
            strncmp(opts[i].name, name, len) == 0)
            return &opts[i];
    }
    return NULL;
}

static int set_str(char **slot, const char *v, char *err, size_t errlen)
{
    char *p = strdup(v);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    free(*slot);
    *slot = p;
    return 0;
}

int hsa_opt_set_tag(hsa_settings *s, const char *key, size_t klen,
                    const char *value, char *err, size_t errlen)
{
    if (klen == 0) {
        snprintf(err, errlen, "empty tag key (expected KEY=VALUE)");
        return -1;
    }
    char *v = strdup(value);
    if (!v) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < s->n_tags; i++) {
        if (strlen(s->tags[i].key) == klen &&
            strncmp(s->tags[i].key, key, klen) == 0) {
            free(s->tags[i].value);
            s->tags[i].value = v;
            return 0;
        }
    }
    if (s->n_tags >= HSA_MAX_TAGS) {
        free(v);
        snprintf(err, errlen, "more than %d tags", HSA_MAX_TAGS);
        return -1;
    }
    hsa_tagkv *t = realloc(s->tags, (s->n_tags + 1) * sizeof *t);
    char *k = strndup(key, klen);
    if (!t || !k) {
        if (t)
            s->tags = t;
        free(v);
        free(k);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->tags = t;
    t[s->n_tags].key = k;
    t[s->n_tags].value = v;
    s->n_tags++;
    return 0;
}

/* Applies one value of option o. `where` names its origin for messages
 * ("--fanout" or "config x.json: \"fanout\""). */
int hsa_opt_apply(hsa_settings *s, const hsa_opt *o, const char *v,
                  const char *where, char *err, size_t errlen)
{
    char why[320];
    char host[256];
    uint16_t port;
    uint32_t u = 0;
    switch (o->kind) {
    case HSA_K_FLAG:
        if (o->id == HSA_O_HELP)
            s->show_help = true;
        else if (o->id == HSA_O_CHECK)
            s->check = true;
        else
            s->show_version = true;
        return 0;
    case HSA_K_STR:
        if (!*v) {
            snprintf(err, errlen, "%s: empty value", where);
            return -1;
        }
        switch (o->id) {
        case HSA_O_NAME:
            return set_str(&s->name, v, err, errlen);
        case HSA_O_CLUSTER:
            return set_str(&s->cluster, v, err, errlen);
        case HSA_O_KEYRING:
            return set_str(&s->keyring, v, err, errlen);
        case HSA_O_HTTP_TOKEN_FILE:
            return set_str(&s->http_token_file, v, err, errlen);
        case HSA_O_CONFIG:
            return set_str(&s->config, v, err, errlen);
        case HSA_O_DATA_DIR:
            return set_str(&s->data_dir, v, err, errlen);
        default:
            break;
        }
        break;
    case HSA_K_ADDR:
    case HSA_K_HTTP:
    case HSA_K_LIST:
        if (o->kind == HSA_K_HTTP && strcmp(v, "off") == 0) {
            free(s->http);
            s->http = NULL;
            return 0;
        }
        /* A seed may name DNS SRV records: "srv+_hearsay._udp.example.com"
         * (no port: the records carry them). The library checks the name. */
        bool srv = o->kind == HSA_K_LIST && strncmp(v, "srv+", 4) == 0;
        if (srv && !v[4]) {
            snprintf(err, errlen, "%s: 'srv+' needs a DNS name after it",
                     where);
            return -1;
        }
        if (!srv && hsa_split_hostport(v, host, sizeof host, &port) < 0) {
            snprintf(err, errlen,
                     "%s: '%.200s' is not HOST:PORT (IPv6 as [ADDR]:PORT)",
                     where, v);
            return -1;
        }
        if (o->id == HSA_O_BIND)
            return set_str(&s->bind, v, err, errlen);
        if (o->id == HSA_O_ADVERTISE)
            return set_str(&s->advertise, v, err, errlen);
        if (o->id == HSA_O_HTTP)
            return set_str(&s->http, v, err, errlen);
        if (s->n_join >= HSA_MAX_JOIN) {
            snprintf(err, errlen, "%s: more than %d seeds", where,
                     HSA_MAX_JOIN);
            return -1;
        } else {
            char **j = realloc(s->join, (s->n_join + 1) * sizeof *j);
            if (!j) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            s->join = j;
            j[s->n_join] = NULL;
            if (set_str(&j[s->n_join], v, err, errlen) < 0)
                return -1;
            s->n_join++;
            return 0;
        }
    case HSA_K_TAG: {
        const char *eq = strchr(v, '=');
        if (!eq) {
            snprintf(err, errlen, "%s: '%.200s' is not KEY=VALUE", where, v);
            return -1;
        }
        if (hsa_opt_set_tag(s, v, (size_t)(eq - v), eq + 1, why, sizeof why) <
            0) {
            snprintf(err, errlen, "%s: %s", where, why);
            return -1;
        }
        return 0;
    }
    case HSA_K_HANDLER: {
        if (s->n_handlers >= HSA_MAX_HANDLERS) {
            snprintf(err, errlen, "%s: more than %d event handlers", where,
                     HSA_MAX_HANDLERS);
            return -1;
        }
        hsa_handler_spec h;
        if (hsa_handler_spec_parse(v, &h, why, sizeof why) < 0) {
            snprintf(err, errlen, "%s: %s", where, why);
            return -1;
        }
        hsa_handler_spec *hs =
            realloc(s->handlers, (s->n_handlers + 1) * sizeof *hs);
        if (!hs) {
            free(h.cmd);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        s->handlers = hs;
        hs[s->n_handlers++] = h;
        return 0;
    }
    case HSA_K_LEVEL:
        if (hsa_log_level_parse(v, &s->log_level) < 0) {
            snprintf(err, errlen,
                     "%s: unknown log level '%.100s' (error, warn, info, "
                     "debug)",
                     where, v);
            return -1;
        }
        return 0;
    case HSA_K_MODE:
        if (strcmp(v, "push-pull") == 0 || strcmp(v, "pushpull") == 0)
            s->mode = HS_MODE_PUSH_PULL;
        else if (strcmp(v, "pull") == 0)
            s->mode = HS_MODE_PULL;
        else if (strcmp(v, "push") == 0)
            s->mode = HS_MODE_PUSH;
        else {
            snprintf(err, errlen,
                     "%s: unknown mode '%.100s' (push, pull, push-pull)", where,
                     v);
            return -1;
        }
        s->set |= HSA_SET_MODE;
        return 0;
    case HSA_K_DURATION:
        if (hsa_parse_duration_ms(v, &u) < 0) {
            snprintf(err, errlen,
                     "%s: '%.100s' is not a duration (like 250ms, 2s, 5m, "
                     "1h; a bare number is milliseconds)",
                     where, v);
            return -1;
        }
        break;
    case HSA_K_U32:
        if (hsa_parse_u32(v, &u) < 0) {
            snprintf(err, errlen, "%s: '%.100s' is not a whole number", where,
                     v);
            return -1;
        }
        break;
    case HSA_K_DOUBLE: {
        char *end;
        errno = 0;
        double d = strtod(v, &end);
        if (errno || end == v || *end || !isfinite(d) || d < 0) {
            snprintf(err, errlen, "%s: '%.100s' is not a non-negative number",
                     where, v);
            return -1;
        }
        s->phi_threshold = d;
        s->set |= HSA_SET_PHI_THRESHOLD;
        return 0;
    }
    }

    /* Numbers: intervals that would stop the node from working are refused
     * here, with the flag's name; finer checks are the library's. */
    switch (o->id) {
    case HSA_O_GOSSIP_INTERVAL:
    case HSA_O_HEARTBEAT_INTERVAL:
    case HSA_O_FANOUT:
    case HSA_O_MAX_DATAGRAM:
    case HSA_O_MAX_MEMBERS:
    case HSA_O_MAX_KEYS:
    case HSA_O_MAX_PENDING_SENDS:
    case HSA_O_LEAVE_TIMEOUT:
    case HSA_O_HANDLER_TIMEOUT:
    case HSA_O_HANDLER_CONCURRENCY:
    case HSA_O_SSE_MAX_CLIENTS:
    case HSA_O_SSE_KEEPALIVE:
    case HSA_O_HTTP_MAX_CONNECTIONS:
    case HSA_O_HTTP_HEADER_TIMEOUT:
    case HSA_O_HTTP_BODY_TIMEOUT:
    case HSA_O_HTTP_IDLE_TIMEOUT:
        if (u == 0) {
            snprintf(err, errlen, "%s: must be greater than 0", where);
            return -1;
        }
        break;
    default:
        break;
    }
    switch (o->id) {
    case HSA_O_GOSSIP_INTERVAL:
        s->gossip_interval_ms = u;
        s->set |= HSA_SET_GOSSIP_INTERVAL;
        break;
    case HSA_O_HEARTBEAT_INTERVAL:
        s->heartbeat_interval_ms = u;
        s->set |= HSA_SET_HEARTBEAT_INTERVAL;
        break;
    case HSA_O_DEAD_AFTER:
        s->dead_after_ms = u;
        s->set |= HSA_SET_DEAD_AFTER;
        break;
    case HSA_O_FANOUT:
        s->fanout = u;
        s->set |= HSA_SET_FANOUT;
        break;
    case HSA_O_MAX_DATAGRAM:
        s->max_datagram = u;
        s->set |= HSA_SET_MAX_DATAGRAM;
        break;
    case HSA_O_REAP_DEAD_AFTER:
        s->reap_dead_after_ms = u;
        s->set |= HSA_SET_REAP_DEAD_AFTER;
        break;
    case HSA_O_REAP_LEFT_AFTER:
        s->reap_left_after_ms = u;
        s->set |= HSA_SET_REAP_LEFT_AFTER;
        break;
    case HSA_O_TOMBSTONE_GC:
        s->tombstone_gc_ms = u;
        s->set |= HSA_SET_TOMBSTONE_GC;
        break;
    case HSA_O_MAX_MEMBERS:
        s->max_members = u;
        s->set |= HSA_SET_MAX_MEMBERS;
        break;
    case HSA_O_MAX_KEYS:
        s->max_keys = u;
        s->set |= HSA_SET_MAX_KEYS;
        break;
    case HSA_O_RESOLVE_INTERVAL:
        s->resolve_interval_ms = u;
        s->set |= HSA_SET_RESOLVE_INTERVAL;
        break;
    case HSA_O_REPLAY_WINDOW:
        if (u < 1000) {
            snprintf(err, errlen, "%s: must be at least 1s", where);
            return -1;
        }
        s->replay_window_ms = u;
        s->set |= HSA_SET_REPLAY_WINDOW;
        break;
    case HSA_O_MAX_SOURCE_RATE:
        s->max_source_rate = u;
        s->set |= HSA_SET_MAX_SOURCE_RATE;
        break;
    case HSA_O_MAX_PENDING_SENDS:
        s->max_pending_sends = u;
        s->set |= HSA_SET_MAX_PENDING_SENDS;
        break;
    case HSA_O_LEAVE_TIMEOUT:
        s->leave_timeout_ms = u;
        break;
    case HSA_O_HANDLER_TIMEOUT:
        s->handler_timeout_ms = u;
        break;
    case HSA_O_HANDLER_CONCURRENCY:
        s->handler_concurrency = u;
        break;
    case HSA_O_HANDLER_QUEUE:
        s->handler_queue = u;
        break;
    case HSA_O_SSE_MAX_CLIENTS:
        s->sse_max_clients = u;
        break;
    case HSA_O_SSE_KEEPALIVE:
        s->sse_keepalive_ms = u;
        break;
    case HSA_O_HTTP_MAX_CONNECTIONS:
        /* Each connection is a descriptor; past this the process's own
         * descriptor limit is the real bound, whatever is asked. */
        if (u > HSA_MAX_HTTP_CONNECTIONS) {
            snprintf(err, errlen, "%s: at most %d", where,
                     HSA_MAX_HTTP_CONNECTIONS);
            return -1;
        }
        s->http_max_connections = u;
        break;
    case HSA_O_HTTP_MAX_PER_IP:
        s->http_max_per_ip = u;
        break;
    case HSA_O_HTTP_HEADER_TIMEOUT:
        s->http_header_timeout_ms = u;
        break;
    case HSA_O_HTTP_BODY_TIMEOUT:
        s->http_body_timeout_ms = u;
        break;
    case HSA_O_HTTP_IDLE_TIMEOUT:
        s->http_idle_timeout_ms = u;
        break;
    case HSA_O_JOIN_TIMEOUT:
        s->join_timeout_ms = u;
        break;
    default:
        snprintf(err, errlen, "%s: internal error: unhandled option", where);
        return -1;
    }
    return 0;
}

/* ---- Entry points ------------------------------------------------------ */

typedef struct flagval {
    const hsa_opt *o;
    const char *value;
    char where[80];
} flagval;

int hsa_settings_parse(hsa_settings *s, int argc, char **argv, char *err,
                       size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->log_level = HS_LOG_INFO;
    s->leave_timeout_ms = 5000;
    s->handler_timeout_ms = 30000;
    s->handler_concurrency = 4;
    s->handler_queue = 1024;
    s->sse_max_clients = 64;
    s->sse_keepalive_ms = 15000;
    s->http_max_connections = 512;
    s->http_max_per_ip = 64;
    s->http_header_timeout_ms = 10000;
    s->http_body_timeout_ms = 30000;
    s->http_idle_timeout_ms = 30000;
    s->http = strdup(HSA_DEFAULT_HTTP);
    if (!s->http) {
        snprintf(err, errlen, "out of memory");
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
        const hsa_opt *o = hsa_opt_find(name, nl);
        if (!o) {
            snprintf(err, errlen, "unknown option '--%.*s' (see --help)",
                     (int)(nl > 100 ? 100 : nl), name);
            goto out;
        }
        fv[nfv].o = o;
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
        if (set_str(&s->name, host, err, errlen) < 0)
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
    free(s->cluster);
    free(s->bind);
    free(s->advertise);
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
    memset(s, 0, sizeof *s);
}

void hsa_settings_to_config(const hsa_settings *s, hs_config *cfg)
{
    cfg->name = s->name;
    if (s->cluster)
        cfg->cluster = s->cluster;
    if (s->bind)
        cfg->bind = s->bind;
    if (s->advertise)
        cfg->advertise = s->advertise;
    if (s->set & HSA_SET_MODE)
        cfg->mode = s->mode;
    if (s->set & HSA_SET_GOSSIP_INTERVAL)
        cfg->gossip_interval_ms = s->gossip_interval_ms;
    if (s->set & HSA_SET_HEARTBEAT_INTERVAL)
        cfg->heartbeat_interval_ms = s->heartbeat_interval_ms;
    if (s->set & HSA_SET_PHI_THRESHOLD)
        cfg->phi_threshold = s->phi_threshold;
    if (s->set & HSA_SET_DEAD_AFTER)
        cfg->dead_after_ms = s->dead_after_ms;
    if (s->set & HSA_SET_FANOUT)
        cfg->fanout = s->fanout;
    if (s->set & HSA_SET_MAX_DATAGRAM)
        cfg->max_datagram = s->max_datagram;
    if (s->set & HSA_SET_REAP_DEAD_AFTER)
        cfg->reap_dead_after_ms = s->reap_dead_after_ms;
    if (s->set & HSA_SET_REAP_LEFT_AFTER)
        cfg->reap_left_after_ms = s->reap_left_after_ms;
    if (s->set & HSA_SET_TOMBSTONE_GC)
        cfg->tombstone_gc_ms = s->tombstone_gc_ms;
    if (s->set & HSA_SET_MAX_MEMBERS)
        cfg->max_members = s->max_members;
    if (s->set & HSA_SET_MAX_KEYS)
        cfg->max_keys = s->max_keys;
    if (s->set & HSA_SET_RESOLVE_INTERVAL)
        cfg->resolve_interval_ms = s->resolve_interval_ms;
    if (s->set & HSA_SET_REPLAY_WINDOW)
        cfg->replay_window_ms = s->replay_window_ms;
    if (s->set & HSA_SET_MAX_SOURCE_RATE)
        cfg->max_datagrams_per_sec_per_source = s->max_source_rate;
    if (s->set & HSA_SET_MAX_PENDING_SENDS)
        cfg->max_pending_sends = s->max_pending_sends;
    cfg->log_level = s->log_level;
}

/* The library's default for a node knob, as "(default X)"; "" for the
 * agent's own options (their help line says it). */
static void print_default(char *buf, size_t len, hsa_opt_id id,
                          const hs_config *d)
{
    char v[64] = "";
    static const char *const modes[] = {"push-pull", "pull", "push"};
    switch (id) {
    case HSA_O_BIND:
        snprintf(v, sizeof v, "%s", d->bind ? d->bind : "?");
        break;
    case HSA_O_CLUSTER:
        snprintf(v, sizeof v, "\"%s\"", d->cluster ? d->cluster : "?");
        break;
    case HSA_O_MODE:
        snprintf(v, sizeof v, "%s",
                 (unsigned)d->mode < 3 ? modes[d->mode] : "?");
        break;
    case HSA_O_GOSSIP_INTERVAL:
        hsa_format_duration(d->gossip_interval_ms, v, sizeof v);
        break;
    case HSA_O_HEARTBEAT_INTERVAL:
        hsa_format_duration(d->heartbeat_interval_ms, v, sizeof v);
        break;
    case HSA_O_PHI_THRESHOLD:
        snprintf(v, sizeof v, "%g", d->phi_threshold);
        break;
    case HSA_O_DEAD_AFTER:
        hsa_format_duration(d->dead_after_ms, v, sizeof v);
        break;
    case HSA_O_FANOUT:
        snprintf(v, sizeof v, "%u", d->fanout);
        break;
    case HSA_O_MAX_DATAGRAM:
        snprintf(v, sizeof v, "%zu", d->max_datagram);
        break;
    case HSA_O_REAP_DEAD_AFTER:
        hsa_format_duration(d->reap_dead_after_ms, v, sizeof v);
        break;
    case HSA_O_REAP_LEFT_AFTER:
        hsa_format_duration(d->reap_left_after_ms, v, sizeof v);
        break;
    case HSA_O_TOMBSTONE_GC:
        hsa_format_duration(d->tombstone_gc_ms, v, sizeof v);
        break;
    case HSA_O_MAX_MEMBERS:
        snprintf(v, sizeof v, "%u", d->max_members);
        break;
    case HSA_O_MAX_KEYS:
        snprintf(v, sizeof v, "%u", d->max_keys);
        break;
    case HSA_O_RESOLVE_INTERVAL:
        hsa_format_duration(d->resolve_interval_ms, v, sizeof v);
        break;
    case HSA_O_REPLAY_WINDOW:
        hsa_format_duration(d->replay_window_ms, v, sizeof v);
        break;
    case HSA_O_MAX_SOURCE_RATE:
        snprintf(v, sizeof v, "%u", d->max_datagrams_per_sec_per_source);
        break;
    case HSA_O_MAX_PENDING_SENDS:
        snprintf(v, sizeof v, "%u", d->max_pending_sends);
        break;
    default:
        break;
    }
    snprintf(buf, len, "%s%s%s", v[0] ? " (default " : "", v, v[0] ? ")" : "");
}

void hsa_usage(FILE *f, const hs_config *defaults)
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
    for (size_t i = 0; i < N_OPTS; i++) {
        char left[64], dflt[96];
        snprintf(left, sizeof left, "--%s%s%s", opts[i].name,
                 opts[i].metavar ? " " : "",
                 opts[i].metavar ? opts[i].metavar : "");
        print_default(dflt, sizeof dflt, opts[i].id, defaults);
        fprintf(f, "  %-28s %s%s\n", left, opts[i].help, dflt);
    }
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
