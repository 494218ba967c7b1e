/*
 * config.h — hearsayd's settings: command-line flags and the JSON config
 * file, parsed into one struct with the same vocabulary (every config key is
 * a flag name). Private to agent/.
 *
 * Precedence: built-in defaults < config file < flags. Scalars given as
 * flags replace the file's; the repeatable ones (--join, --event-handler)
 * add to the file's lists; --tag KEY=VALUE replaces the file's value for
 * KEY. Node knobs are the library's options (hs_option_at): their names,
 * defaults and bounds come from its table, and those not given are left
 * to its defaults, so there is one source of truth for those.
 */
#ifndef HSA_CONFIG_H
#define HSA_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hearsay.h"

/* The HTTP API's default address: loopback, next to serf's gossip port
 * 7946 that hearsay's gossip default also uses. */
#define HSA_DEFAULT_HTTP "127.0.0.1:7947"

/* Bounds on what the daemon accepts, so a config typo cannot ask for an
 * unbounded amount of anything. */
#define HSA_MAX_JOIN 256         /* --join entries */
#define HSA_MAX_TAGS 256         /* --tag entries (the library's max_keys) */
#define HSA_MAX_HANDLERS 32      /* --event-handler entries */
#define HSA_MAX_CONFIG (1 << 20) /* config file size, bytes */
/* --http-max-connections: each is a descriptor, and a few hundred
 * thousand is already more than any process limit a host sets. */
#define HSA_MAX_HTTP_CONNECTIONS 65536

typedef struct hsa_tagkv {
    char *key;
    char *value;
} hsa_tagkv;

/* One --event-handler: which events (bits 1 << HS_EVENT_*) and what to run
 * (through /bin/sh -c). */
typedef struct hsa_handler_spec {
    unsigned mask;
    char *cmd;
    /* user:NAME filters: "NAME\0NAME\0\0" inside cmd's allocation (freed
     * with it); NULL: every user event (when mask has HS_EVENT_USER). */
    const char *users;
    /* query:NAME filters, likewise; NULL: every query (when mask has
     * HS_EVENT_QUERY, which only "query" or query:NAME items set). */
    const char *queries;
} hsa_handler_spec;

typedef struct hsa_settings {
    char *name;            /* default: the host name */
    char *http;            /* NULL: the API is off ("--http off") */
    char *keyring;         /* --keyring FILE: sealed gossip */
    char *http_token_file; /* bearer token for the API's write endpoints */
    char *config;          /* the --config path, if any */
    char *data_dir;        /* --data-dir: the state file's directory */
    char **join;
    size_t n_join;
    hsa_tagkv *tags;
    size_t n_tags;
    hsa_handler_spec *handlers;
    size_t n_handlers;
    int log_level; /* HS_LOG_*, default HS_LOG_INFO */

    /* The library's knobs as given (flags over the file over the
     * library's defaults); name and log-level are the fields above. */
    hs_config *node;

    /* Agent knobs, with their defaults set by hsa_settings_parse. */
    uint32_t leave_timeout_ms;
    uint32_t handler_timeout_ms;
    uint32_t handler_concurrency;
    uint32_t handler_queue;
    uint32_t sse_max_clients;
    uint32_t sse_keepalive_ms;
    uint32_t http_max_connections;
    uint32_t http_max_per_ip; /* 0: no per-address limit */
    uint32_t http_header_timeout_ms;
    uint32_t http_body_timeout_ms;
    uint32_t http_idle_timeout_ms;
    uint32_t join_timeout_ms; /* 0: wait for peers forever */

    bool show_help;
    bool show_version;
    bool check; /* --check: validate, print, exit */
} hsa_settings;

/* Parses argv (and the --config file it names) into *s, which it
 * initialises. 0 on success; -1 with a one-line message in err otherwise.
 * On success with show_help/show_version set, nothing else is validated.
 * Always call hsa_settings_free() afterwards. */
int hsa_settings_parse(hsa_settings *s, int argc, char **argv, char *err,
                       size_t errlen);
/* Applies a JSON config document (the --config file's contents; `name`
 * is used in messages) to s, as hsa_settings_parse does with the file.
 * 0, or -1 with err set. For tests and the fuzzer. */
int hsa_settings_apply_json(hsa_settings *s, const char *name, const char *text,
                            size_t len, char *err, size_t errlen);
void hsa_settings_free(hsa_settings *s);

/* A node configuration from s: the knobs given, the name and the log
 * level. The caller owns *out (hs_config_free). 0, or -1 with err set
 * (a name the library refuses, out of memory). */
int hsa_settings_to_config(const hsa_settings *s, hs_config **out, char *err,
                           size_t errlen);

/* A library knob of s as text ("500ms"), as hs_config_get_str writes it;
 * "?" if there is no such knob. */
void hsa_settings_knob(const hsa_settings *s, const char *name, char *buf,
                       size_t len);

/* The --help text: the agent's options and the library's knobs, with the
 * library's defaults. */
void hsa_usage(FILE *f);

/* "join,fail" or "member-join,member-failed" or "*" to a mask of
 * 1 << HS_EVENT_*. 0 on success, -1 with a message otherwise. */
int hsa_event_mask_parse(const char *list, unsigned *mask, char *err,
                         size_t errlen);

/* The serf-style name of an event for handlers and their environment:
 * "member-join", "member-fail", ... */
const char *hsa_event_env_name(hs_event_type t);

/* Parsers shared with the CLI and the tests. 0 on success, -1 otherwise. */
int hsa_parse_duration_ms(const char *s, uint32_t *out);
int hsa_parse_u32(const char *s, uint32_t *out);
/* "host:port" or "[v6]:port" with a numeric port; host may be a name.
 * Splits into host (brackets removed) and port. */
int hsa_split_hostport(const char *s, char *host, size_t hostlen,
                       uint16_t *port);
/* ms as the largest exact unit: "250ms", "2s", "5m", "24h". */
void hsa_format_duration(uint32_t ms, char *buf, size_t len);

#endif /* HSA_CONFIG_H */
