/*
 * config_apply.c — one value of one option applied to hearsayd's
 * settings: parsed with the daemon's messages (durations, counts, log
 * levels, addresses, tags, handlers), range-checked against the library's
 * table for the library's knobs, and stored. Flags (config.c) and config
 * keys (config_file.c) both come through hsa_opt_apply(), so a value
 * means the same thing, and is refused with the same message, wherever
 * it is written.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "agent/config_impl.h"
#include "agent/log.h"

#define IN(list, name) hsa_opt_in_list(list, sizeof list / sizeof *list, name)

/* Library knobs hearsayd refuses at 0 though the library takes it: a
 * daemon whose heartbeat never advances is declared dead by every peer. */
static const char *const lib_nonzero[] = {"heartbeat-interval"};

/* A library bound as a flag would take it: "1s", "512". */
static void bound_text(const hs_option *lo, uint64_t v, char *buf, size_t len)
{
    if (lo->type == HS_OPT_MS && v <= UINT32_MAX)
        hsa_format_duration((uint32_t)v, buf, len);
    else
        snprintf(buf, len, "%llu", (unsigned long long)v);
}

/* One value of a library knob: parsed here, with the daemon's messages
 * (the same as for its own options), then range-checked by the library
 * against its table. */
static int apply_lib(hsa_settings *s, const hs_option *lo, const char *v,
                     const char *where, char *err, size_t errlen)
{
    char host[256], lim[32];
    uint16_t port;
    uint32_t u = 0;
    hs_err e = HS_EINVAL;
    switch (lo->type) {
    case HS_OPT_STR:
    case HS_OPT_ADDR:
        if (!*v) {
            snprintf(err, errlen, "%s: empty value", where);
            return -1;
        }
        if (lo->type == HS_OPT_ADDR &&
            hsa_split_hostport(v, host, sizeof host, &port) < 0) {
            snprintf(err, errlen,
                     "%s: '%.200s' is not HOST:PORT (IPv6 as [ADDR]:PORT)",
                     where, v);
            return -1;
        }
        e = hs_config_set_str(s->node, lo->name, v);
        if (e == HS_EINVAL) {
            snprintf(err, errlen,
                     "%s: invalid configuration: '%.200s' is not 1..%d "
                     "printable ASCII bytes without spaces",
                     where, v,
                     lo->type == HS_OPT_ADDR ? HS_ADDRSTRLEN - 1 : HS_NAME_MAX);
            return -1;
        }
        break;
    case HS_OPT_ENUM:
        /* "pushpull" was accepted before the names had dashes. */
        if (strcmp(lo->name, "mode") == 0 && strcmp(v, "pushpull") == 0)
            v = "push-pull";
        e = hs_config_set_str(s->node, lo->name, v);
        if (e == HS_EINVAL) {
            char list[128] = "";
            for (size_t i = 0; lo->choices[i]; i++)
                snprintf(list + strlen(list), sizeof list - strlen(list),
                         "%s%s", i ? ", " : "", lo->choices[i]);
            snprintf(err, errlen, "%s: unknown %s '%.100s' (%s)", where,
                     lo->name, v, list);
            return -1;
        }
        break;
    case HS_OPT_DOUBLE: {
        char *end;
        errno = 0;
        double d = strtod(v, &end);
        if (errno || end == v || *end || !isfinite(d) || d < 0) {
            snprintf(err, errlen, "%s: '%.100s' is not a non-negative number",
                     where, v);
            return -1;
        }
        e = hs_config_set_double(s->node, lo->name, d);
        if (e == HS_EINVAL) {
            snprintf(err, errlen, "%s: invalid configuration: at most %g",
                     where, lo->max_double);
            return -1;
        }
        break;
    }
    case HS_OPT_UINT:
    case HS_OPT_MS:
        if (lo->type == HS_OPT_MS && hsa_parse_duration_ms(v, &u) < 0) {
            snprintf(err, errlen,
                     "%s: '%.100s' is not a duration (like 250ms, 2s, 5m, "
                     "1h; a bare number is milliseconds)",
                     where, v);
            return -1;
        }
        if (lo->type == HS_OPT_UINT && hsa_parse_u32(v, &u) < 0) {
            snprintf(err, errlen, "%s: '%.100s' is not a whole number", where,
                     v);
            return -1;
        }
        if (u == 0 && (lo->min == 1 || IN(lib_nonzero, lo->name))) {
            snprintf(err, errlen, "%s: must be greater than 0", where);
            return -1;
        }
        e = hs_config_set_uint(s->node, lo->name, u);
        if (e == HS_EINVAL && u < lo->min) {
            bound_text(lo, lo->min, lim, sizeof lim);
            /* Durations read as such ("at least 1s"); a count below its
             * floor is the library's limit ("512..65507"). */
            if (lo->type == HS_OPT_MS)
                snprintf(err, errlen, "%s: must be at least %s", where, lim);
            else
                snprintf(err, errlen,
                         "%s: invalid configuration: must be at least %s",
                         where, lim);
            return -1;
        }
        if (e == HS_EINVAL) {
            bound_text(lo, lo->max, lim, sizeof lim);
            snprintf(err, errlen, "%s: invalid configuration: at most %s",
                     where, lim);
            return -1;
        }
        break;
    }
    if (e != HS_OK) {
        snprintf(err, errlen, "%s: %s", where, hs_strerror(e));
        return -1;
    }
    return 0;
}

int hsa_opt_set_str(char **slot, const char *v, char *err, size_t errlen)
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
    case HSA_K_LIB:
        return apply_lib(s, o->lib, v, where, err, errlen);
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
            return hsa_opt_set_str(&s->name, v, err, errlen);
        case HSA_O_KEYRING:
            return hsa_opt_set_str(&s->keyring, v, err, errlen);
        case HSA_O_HTTP_TOKEN_FILE:
            return hsa_opt_set_str(&s->http_token_file, v, err, errlen);
        case HSA_O_CONFIG:
            return hsa_opt_set_str(&s->config, v, err, errlen);
        case HSA_O_DATA_DIR:
            return hsa_opt_set_str(&s->data_dir, v, err, errlen);
        default:
            break;
        }
        break;
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
        if (o->id == HSA_O_HTTP)
            return hsa_opt_set_str(&s->http, v, err, errlen);
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
            if (hsa_opt_set_str(&j[s->n_join], v, err, errlen) < 0)
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
    }

    /* Numbers: values that would stop the daemon from working are refused
     * here, with the flag's name. */
    switch (o->id) {
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
