/*
 * cli.c — `hearsay`, the command-line client of hearsayd's HTTP API
 * (libcurl for HTTP, jansson for JSON; keygen uses libsodium).
 *
 *   hearsay members [--state S] [--tag K=V]... [--name RE] [--json]
 *                                          the cluster, as an aligned table
 *   hearsay watch [--type T] [--json]      follow the event stream
 *   hearsay tag set KEY VALUE | del KEY    this node's tags
 *   hearsay leave                          graceful leave; the daemon exits
 *   hearsay join HOST:PORT...              more seeds for the running node
 *   hearsay keys list|install|use|remove   the daemon's keyring
 *   hearsay keygen                         a new 32-byte key, base64
 *   hearsay event NAME [PAYLOAD|-]         a user event (cli_ops.c)
 *   hearsay force-leave NAME [--force]     a dead member made left
 *   hearsay query NAME [PAYLOAD|-]         ask every member (cli_query.c)
 *
 * Every command takes --http ADDR (default $HEARSAY_HTTP_ADDR, then
 * 127.0.0.1:7947), --token-file FILE (default: $HEARSAY_HTTP_TOKEN, the
 * token itself) and --help. Exit status: 0 success, 1 failure (daemon
 * unreachable, HTTP error), 2 usage error. Failures are one line on stderr.
 *
 * This file is main(): the environment, the options before the command,
 * and the table of commands. Each command lives in the file of its topic
 * (cli.h lists them); what they share is in cli_args.c and cli_http.c.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cli.h"
#include "hearsay.h"

static const char usage_main[] =
    "usage: hearsay [--http ADDR] COMMAND [ARGS]\n"
    "\n"
    "Talks to a running hearsayd over its HTTP API.\n"
    "\n"
    "commands:\n"
    "  members [--state S] [--tag K=V] [--name RE] [--json]\n"
    "                                list the members this node knows\n"
    "  watch [--type T] [--json]     print membership events as they happen\n"
    "  tag set KEY VALUE             set a tag of this node\n"
    "  tag del KEY                   delete a tag of this node\n"
    "  leave                         leave the cluster gracefully; hearsayd "
    "exits\n"
    "  join HOST:PORT...             make hearsayd join through these seeds\n"
    "  keys list                     the keyring's key ids, primary first\n"
    "  keys install|use|remove KEY   rotate keys (see hearsay keys --help)\n"
    "  keygen                        print a new random 32-byte key, base64\n"
    "  event NAME [PAYLOAD|-]        send a user event to every member\n"
    "  force-leave NAME [--force]    make a dead member left everywhere\n"
    "  query NAME [PAYLOAD|-] [--timeout D] [--node N] [--tag K=V] [--json]\n"
    "                                ask every member; print the responses\n"
    "  version                       print the version\n"
    "\n"
    "options for every command:\n"
    "  --http ADDR   hearsayd's HTTP address, HOST:PORT or a URL (default\n"
    "                $HEARSAY_HTTP_ADDR, then " HSA_DEFAULT_HTTP ")\n"
    "  --token-file FILE  the API token for write commands (default: the\n"
    "                token in $HEARSAY_HTTP_TOKEN)\n"
    "  --help        help for the command\n";

static int cmd_version(hsa_cli *c, int argc, char **argv)
{
    printf("hearsay %d.%d.%d\n", HS_VERSION_MAJOR, HS_VERSION_MINOR,
           HS_VERSION_PATCH);
    return 0;
}

static int cmd_help(hsa_cli *c, int argc, char **argv)
{
    fputs(usage_main, stdout);
    return 0;
}

/* Every command, one line each. `http`: it talks to hearsayd, so libcurl
 * is set up for it and standard output is line-buffered (a pipe sees
 * each line of `watch` as it comes). */
static const struct command {
    const char *name;
    hsa_cli_cmd *run;
    bool http;
} commands[] = {
    {"members", hsa_cli_members, true},
    {"watch", hsa_cli_watch, true},
    {"tag", hsa_cli_tag, true},
    {"leave", hsa_cli_leave, true},
    {"join", hsa_cli_join, true},
    {"keys", hsa_cli_keys, true},
    {"keygen", hsa_cli_keygen, false},
    {"event", hsa_cli_event, true},
    {"force-leave", hsa_cli_force_leave, true},
    {"query", hsa_cli_query, true},
    {"version", cmd_version, false},
    {"help", cmd_help, false},
};

static const struct command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    }
    return NULL;
}

int main(int argc, char **argv)
{
    hsa_cli c = {.prog = "hearsay"};
    const char *tok = getenv("HEARSAY_HTTP_TOKEN");
    if (tok && *tok) {
        if (hsa_token_check(tok, strlen(tok)) < 0 ||
            strlen(tok) >= sizeof c.token) {
            hsa_cli_fail(
                "HEARSAY_HTTP_TOKEN: not a valid token (%d..%d printable "
                "characters)",
                HSA_TOKEN_MIN, HSA_TOKEN_MAX);
            return 2;
        }
        snprintf(c.token, sizeof c.token, "%s", tok);
    }
    const char *env = getenv("HEARSAY_HTTP_ADDR");
    const char *addr = env && *env ? env : HSA_DEFAULT_HTTP;
    if (strncmp(addr, "http://", 7) == 0 || strncmp(addr, "https://", 8) == 0)
        snprintf(c.base, sizeof c.base, "%s", addr);
    else
        snprintf(c.base, sizeof c.base, "http://%s", addr);

    /* Options before the command: --http ADDR, --token-file FILE, --help,
     * --version. */
    int i = 1;
    while (i < argc && strncmp(argv[i], "-", 1) == 0) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage_main, stdout);
            return 0;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("hearsay %d.%d.%d\n", HS_VERSION_MAJOR, HS_VERSION_MINOR,
                   HS_VERSION_PATCH);
            return 0;
        }
        bool http = strcmp(argv[i], "--http") == 0 ||
                    strncmp(argv[i], "--http=", 7) == 0;
        bool tokf = strcmp(argv[i], "--token-file") == 0 ||
                    strncmp(argv[i], "--token-file=", 13) == 0;
        if (http || tokf) {
            hsa_cli_args a = {0};
            size_t ol = http ? 6 : 12;
            int n = argv[i][ol] == '=' ? 1 : 2;
            if (i + n > argc) {
                hsa_cli_fail("%s needs a value (see --help)", argv[i]);
                return 2;
            }
            int rc = hsa_cli_parse_args(&c, n, argv + i, usage_main, &a, 0, 0);
            if (rc)
                return rc < 0 ? 0 : rc;
            i += n;
            continue;
        }
        hsa_cli_fail("unknown option '%s' (see hearsay --help)", argv[i]);
        return 2;
    }
    if (i >= argc) {
        fputs(usage_main, stderr);
        return 2;
    }
    const struct command *cmd = find_command(argv[i]);
    int sub_argc = argc - i - 1;
    char **sub_argv = argv + i + 1;
    if (!cmd) {
        hsa_cli_fail("unknown command '%s' (see hearsay --help)", argv[i]);
        return 2;
    }
    if (!cmd->http)
        return cmd->run(&c, sub_argc, sub_argv);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        hsa_cli_fail("cannot initialise libcurl");
        return 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    int rc = cmd->run(&c, sub_argc, sub_argv);
    curl_global_cleanup();
    return rc;
}
