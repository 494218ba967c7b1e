/*
 * config_impl.h — what config.c (options, flags) shares with
 * config_apply.c (applying one value), config_file.c (the JSON file) and
 * parse.c (value parsers): the option table's types and the one setter
 * every value goes through. The node's knobs are not in the
 * agent's table: they come from the library's (hs_option_at), so a knob
 * the library gains is a flag and a config key at once. Private to
 * agent/config*.c.
 */
#ifndef HSA_CONFIG_IMPL_H
#define HSA_CONFIG_IMPL_H

#include "agent/config.h"

typedef enum hsa_opt_kind {
    HSA_K_FLAG,     /* no value: --help, --version, --check */
    HSA_K_STR,      /* a string */
    HSA_K_HTTP,     /* host:port or "off" */
    HSA_K_LIST,     /* repeatable host:port (--join) */
    HSA_K_TAG,      /* repeatable KEY=VALUE */
    HSA_K_HANDLER,  /* repeatable [EVENTS=]CMD */
    HSA_K_LEVEL,    /* log level */
    HSA_K_DURATION, /* ms, or with a unit */
    HSA_K_U32,      /* a count */
    HSA_K_LIB,      /* one of the library's options (hs_option_at) */
} hsa_opt_kind;

typedef enum hsa_opt_id {
    HSA_O_HELP,
    HSA_O_VERSION,
    HSA_O_CONFIG,
    HSA_O_NAME,
    HSA_O_JOIN,
    HSA_O_HTTP,
    HSA_O_TAG,
    HSA_O_EVENT_HANDLER,
    HSA_O_KEYRING,
    HSA_O_HTTP_TOKEN_FILE,
    HSA_O_DATA_DIR,
    HSA_O_LOG_LEVEL,
    HSA_O_LEAVE_TIMEOUT,
    HSA_O_HANDLER_TIMEOUT,
    HSA_O_HANDLER_CONCURRENCY,
    HSA_O_HANDLER_QUEUE,
    HSA_O_SSE_MAX_CLIENTS,
    HSA_O_SSE_KEEPALIVE,
    HSA_O_CHECK,
    HSA_O_HTTP_MAX_CONNECTIONS,
    HSA_O_HTTP_MAX_PER_IP,
    HSA_O_HTTP_HEADER_TIMEOUT,
    HSA_O_HTTP_BODY_TIMEOUT,
    HSA_O_HTTP_IDLE_TIMEOUT,
    HSA_O_JOIN_TIMEOUT,
    HSA_O_LIB, /* the library's option `lib` */
} hsa_opt_id;

/* One option of hearsayd: the agent's own, or (kind HSA_K_LIB) one of the
 * library's, described by the library's table. The same shape as the
 * library's hs_option: a name, a placeholder for its value, a help line
 * without the default, and the default as a flag would give it. */
typedef struct hsa_opt {
    const char *name;
    hsa_opt_id id;
    hsa_opt_kind kind;
    const char *metavar;
    const char *help;
    const char *dflt;     /* applied before the file and flags; NULL: none */
    const hs_option *lib; /* HSA_K_LIB only */
} hsa_opt;

/* The option named name[0..len) into *out: 0, or -1 if there is none. */
int hsa_opt_find(const char *name, size_t len, hsa_opt *out);

/* Applies one value of option o to s. `where` names its origin in messages
 * ("--fanout", or "config x.json: \"fanout\""). 0, or -1 with err set. */
int hsa_opt_apply(hsa_settings *s, const hsa_opt *o, const char *v,
                  const char *where, char *err, size_t errlen);

/* Replaces *slot with a copy of v. 0, or -1 with err (config_apply.c). */
int hsa_opt_set_str(char **slot, const char *v, char *err, size_t errlen);

/* Whether name is one of list[0..n) (config.c). */
bool hsa_opt_in_list(const char *const *list, size_t n, const char *name);

/* Sets tag key[0..klen) (replacing an earlier value). 0, or -1 with err. */
int hsa_opt_set_tag(hsa_settings *s, const char *key, size_t klen,
                    const char *value, char *err, size_t errlen);

/* Applies the JSON config file at path to s (config_file.c). */
int hsa_config_load(hsa_settings *s, const char *path, char *err,
                    size_t errlen);

/* "[EVENTS=]CMD" into *out (parse.c). 0, or -1 with err. */
int hsa_handler_spec_parse(const char *spec, hsa_handler_spec *out, char *err,
                           size_t errlen);

#endif /* HSA_CONFIG_IMPL_H */
