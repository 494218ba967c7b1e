/*
 * config_impl.h — what config.c (options, flags) shares with config_file.c
 * (the JSON file) and parse.c (value parsers): the option table's types and
 * the one setter every value goes through. Private to agent/config*.c.
 */
#ifndef HSA_CONFIG_IMPL_H
#define HSA_CONFIG_IMPL_H

#include "agent/config.h"

typedef enum hsa_opt_kind {
    HSA_K_FLAG,     /* no value: --help, --version, --check */
    HSA_K_STR,      /* a string */
    HSA_K_ADDR,     /* host:port */
    HSA_K_HTTP,     /* host:port or "off" */
    HSA_K_LIST,     /* repeatable host:port (--join) */
    HSA_K_TAG,      /* repeatable KEY=VALUE */
    HSA_K_HANDLER,  /* repeatable [EVENTS=]CMD */
    HSA_K_LEVEL,    /* log level */
    HSA_K_MODE,     /* push|pull|push-pull */
    HSA_K_DURATION, /* ms, or with a unit */
    HSA_K_U32,      /* a count */
    HSA_K_DOUBLE,   /* a non-negative real */
} hsa_opt_kind;

typedef enum hsa_opt_id {
    HSA_O_HELP,
    HSA_O_VERSION,
    HSA_O_CONFIG,
    HSA_O_NAME,
    HSA_O_CLUSTER,
    HSA_O_BIND,
    HSA_O_ADVERTISE,
    HSA_O_JOIN,
    HSA_O_HTTP,
    HSA_O_TAG,
    HSA_O_EVENT_HANDLER,
    HSA_O_KEYRING,
    HSA_O_HTTP_TOKEN_FILE,
    HSA_O_DATA_DIR,
    HSA_O_LOG_LEVEL,
    HSA_O_MODE,
    HSA_O_GOSSIP_INTERVAL,
    HSA_O_HEARTBEAT_INTERVAL,
    HSA_O_PHI_THRESHOLD,
    HSA_O_DEAD_AFTER,
    HSA_O_FANOUT,
    HSA_O_MAX_DATAGRAM,
    HSA_O_REAP_DEAD_AFTER,
    HSA_O_REAP_LEFT_AFTER,
    HSA_O_TOMBSTONE_GC,
    HSA_O_MAX_MEMBERS,
    HSA_O_MAX_KEYS,
    HSA_O_RESOLVE_INTERVAL,
    HSA_O_REPLAY_WINDOW,
    HSA_O_MAX_SOURCE_RATE,
    HSA_O_MAX_PENDING_SENDS,
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
} hsa_opt_id;

typedef struct hsa_opt {
    const char *name;
    hsa_opt_id id;
    hsa_opt_kind kind;
    const char *metavar;
    const char *help;
} hsa_opt;

/* The option named name[0..len), or NULL. */
const hsa_opt *hsa_opt_find(const char *name, size_t len);

/* Applies one value of option o to s. `where` names its origin in messages
 * ("--fanout", or "config x.json: \"fanout\""). 0, or -1 with err set. */
int hsa_opt_apply(hsa_settings *s, const hsa_opt *o, const char *v,
                  const char *where, char *err, size_t errlen);

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
