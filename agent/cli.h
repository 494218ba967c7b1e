/*
 * cli.h — what the files of `hearsay`, the command-line client, share:
 * the connection settings, a command's options, the HTTP client and the
 * one-line error. cli.c holds main() and the table of commands; each
 * command lives in the file of its topic (cli_members.c, cli_watch.c,
 * cli_node.c, cli_keys.c, cli_ops.c) and is one hsa_cli_cmd. Private to agent/.
 */
#ifndef HSA_CLI_H
#define HSA_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>
#include <jansson.h>

#include "agent/buf.h"
#include "agent/config.h"
#include "agent/keyring.h"

#define REQUEST_TIMEOUT_MS 30000L

/* Where hearsayd is and how to authenticate to it. */
typedef struct hsa_cli {
    char base[512]; /* http://host:port */
    const char *prog;
    char token[HSA_TOKEN_MAX + 1]; /* "" = none */
} hsa_cli;

/* One command: its arguments after the command's name. Returns the exit
 * status: 0 success, 1 failure (already reported), 2 usage error. */
typedef int hsa_cli_cmd(hsa_cli *c, int argc, char **argv);

/* The commands (one file per topic). */
hsa_cli_cmd hsa_cli_members;     /* cli_members.c */
hsa_cli_cmd hsa_cli_watch;       /* cli_watch.c */
hsa_cli_cmd hsa_cli_tag;         /* cli_node.c */
hsa_cli_cmd hsa_cli_leave;       /* cli_node.c */
hsa_cli_cmd hsa_cli_join;        /* cli_node.c */
hsa_cli_cmd hsa_cli_keys;        /* cli_keys.c */
hsa_cli_cmd hsa_cli_keygen;      /* cli_keys.c */
hsa_cli_cmd hsa_cli_event;       /* cli_ops.c */
hsa_cli_cmd hsa_cli_force_leave; /* cli_ops.c */
hsa_cli_cmd hsa_cli_query;       /* cli_query.c */

/* ---- Options (cli_args.c) ------------------------------------------------ */

/* --tag filters one `hearsay members` takes: more than a member can
 * usefully be matched on, few enough to keep in the arguments. */
#define MAX_TAG_FILTERS 32

/* The options a command accepts beyond --http, --token-file and --help. */
enum {
    HSA_CLI_STATE = 1 << 0,   /* --state S */
    HSA_CLI_TYPE = 1 << 1,    /* --type T */
    HSA_CLI_JSON = 1 << 2,    /* --json */
    HSA_CLI_FILTERS = 1 << 3, /* --tag K=V (repeatable) and --name RE */
    HSA_CLI_FORCE = 1 << 4,   /* --force */
};

typedef struct hsa_cli_args {
    const char *state;
    const char *type;
    bool json;
    bool force;
    const char *tags[MAX_TAG_FILTERS];
    int ntags;
    const char *name;
    const char *pos[HS_SEEDS_MAX + 1];
    int npos;
} hsa_cli_args;

/* Parses a command's options (`allow`: HSA_CLI_* bits) and up to max_pos
 * arguments into a; --http and --token-file go into c. Returns 0 to go
 * on, -1 after printing `usage` for --help (exit 0), or an exit status. */
int hsa_cli_parse_args(hsa_cli *c, int argc, char **argv, const char *usage,
                       hsa_cli_args *a, unsigned allow, int max_pos);

/* A user event's or query's payload into out: the argument, or standard
 * input when it is "-" or left out (NULL) and stdin is not a terminal.
 * 0, or an exit status (reported). */
int hsa_cli_read_payload(const char *arg, hsa_buf *out);

/* "hearsay: " and the message on stderr, one line. */
void hsa_cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- HTTP (cli_http.c) --------------------------------------------------- */

/* One request; the reply body in *out. Returns 0 on a 2xx reply, 1
 * otherwise (already reported). */
int hsa_cli_request(const hsa_cli *c, const char *method, const char *path,
                    const char *data, size_t dlen, long timeout_ms,
                    hsa_buf *out);
/* GET path and parse the reply as JSON into *out (the caller decrefs).
 * 0, or the exit status after saying what went wrong. */
int hsa_cli_get_json(const hsa_cli *c, const char *path, json_t **out);
/* prefix followed by segment, percent-encoded, into out. -1 (reported) if
 * it does not fit or memory runs out. */
int hsa_cli_escaped_path(char *out, size_t len, const char *prefix,
                         const char *segment);

/* The pieces of a request, for a command that runs its own transfer
 * (watch): a handle for base + path with the common settings; the
 * reporting of a transfer that failed or of a non-2xx reply; a write
 * callback that collects a reply into an hsa_buf, bounded. */
CURL *hsa_cli_easy(const hsa_cli *c, const char *path, char *errbuf);
void hsa_cli_unreachable(const hsa_cli *c, CURLcode rc, const char *errbuf);
void hsa_cli_http_error(long code, const hsa_buf *body);
size_t hsa_cli_collect(char *p, size_t size, size_t n, void *arg);

/* Text from the network, made safe for a terminal (a copy to free; NULL
 * if out of memory). */
char *hsa_cli_printable(const char *s);

#endif /* HSA_CLI_H */
