/*
 * cli_args.c — a `hearsay` command's options and the one-line error.
 *
 * Every command takes --http ADDR, --token-file FILE and --help; each
 * names the others it accepts (HSA_CLI_* in cli.h), so one parser serves
 * them all and an option a command does not know is a usage error, not
 * silently ignored. A "--" ends the options: what follows is an argument
 * even if it starts with "--" (hearsay tag set opts -- --fast).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent/cli.h"

void hsa_cli_fail(const char *fmt, ...)
{
    va_list ap;
    fputs("hearsay: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int hsa_cli_parse_args(hsa_cli *c, int argc, char **argv, const char *usage,
                       hsa_cli_args *a, unsigned allow, int max_pos)
{
    bool allow_state = allow & HSA_CLI_STATE;
    bool allow_type = allow & HSA_CLI_TYPE;
    bool allow_json = allow & HSA_CLI_JSON;
    bool filters = allow & HSA_CLI_FILTERS;
    bool allow_force = allow & HSA_CLI_FORCE;
    bool only_pos = false; /* after "--": everything is an argument */
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        const char *val = NULL;
        if (!only_pos && strcmp(s, "--") == 0) {
            only_pos = true;
            continue;
        }
        if (only_pos) {
            if (a->npos >= max_pos) {
                hsa_cli_fail("unexpected argument '%s' (see --help)", s);
                return 2;
            }
            a->pos[a->npos++] = s;
            continue;
        }
        if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
            fputs(usage, stdout);
            return -1; /* exit 0 */
        }
        if (strncmp(s, "--", 2) != 0 || s[2] == '\0') {
            if (a->npos >= max_pos) {
                hsa_cli_fail("unexpected argument '%s' (see --help)", s);
                return 2;
            }
            a->pos[a->npos++] = s;
            continue;
        }
        const char *eq = strchr(s, '=');
        size_t nl = eq ? (size_t)(eq - s) : strlen(s);
        bool takes_value =
            (nl == 6 && strncmp(s, "--http", 6) == 0) ||
            (nl == 12 && strncmp(s, "--token-file", 12) == 0) ||
            (allow_state && nl == 7 && strncmp(s, "--state", 7) == 0) ||
            (allow_type && nl == 6 && strncmp(s, "--type", 6) == 0) ||
            (filters && nl == 5 && strncmp(s, "--tag", 5) == 0) ||
            (filters && nl == 6 && strncmp(s, "--name", 6) == 0);
        if (takes_value) {
            if (eq)
                val = eq + 1;
            else if (i + 1 < argc)
                val = argv[++i];
            else {
                hsa_cli_fail("%s needs a value (see --help)", s);
                return 2;
            }
            if (strncmp(s, "--token-file", 12) == 0) {
                char why[600];
                if (hsa_token_load(val, c->token, sizeof c->token, why,
                                   sizeof why) < 0) {
                    hsa_cli_fail("%s", why);
                    return 2;
                }
            } else if (strncmp(s, "--http", 6) == 0) {
                if (strncmp(val, "http://", 7) == 0 ||
                    strncmp(val, "https://", 8) == 0)
                    snprintf(c->base, sizeof c->base, "%s", val);
                else
                    snprintf(c->base, sizeof c->base, "http://%s", val);
                size_t bl = strlen(c->base);
                while (bl && c->base[bl - 1] == '/')
                    c->base[--bl] = '\0';
            } else if (strncmp(s, "--state", 7) == 0) {
                a->state = val;
            } else if (nl == 5 && strncmp(s, "--tag", 5) == 0) {
                const char *eqv = strchr(val, '=');
                if (!eqv || eqv == val) {
                    hsa_cli_fail("--tag: '%s' is not KEY=VALUE", val);
                    return 2;
                }
                if (a->ntags >= MAX_TAG_FILTERS) {
                    hsa_cli_fail("--tag: at most %d filters", MAX_TAG_FILTERS);
                    return 2;
                }
                a->tags[a->ntags++] = val;
            } else if (nl == 6 && strncmp(s, "--name", 6) == 0) {
                a->name = val;
            } else {
                a->type = val;
            }
        } else if (allow_json && strcmp(s, "--json") == 0) {
            a->json = true;
        } else if (allow_force && strcmp(s, "--force") == 0) {
            a->force = true;
        } else {
            hsa_cli_fail("unknown option '%s' (see --help)", s);
            return 2;
        }
    }
    return 0;
}

/* More than any payload hearsayd takes (512 bytes): the daemon answers the
 * rest with 413, which says what the limit is. */
#define MAX_STDIN (64u * 1024)

int hsa_cli_read_payload(const char *arg, hsa_buf *out)
{
    bool from_stdin = arg ? strcmp(arg, "-") == 0 : !isatty(STDIN_FILENO);
    if (!from_stdin) {
        if (arg)
            hsa_buf_puts(out, arg);
    } else {
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0) {
            if (hsa_buf_avail(out) + n > MAX_STDIN) {
                hsa_cli_fail("payload on standard input is too large "
                             "(hearsayd takes at most 512 bytes)");
                return 2;
            }
            hsa_buf_append(out, chunk, n);
        }
    }
    if (out->oom) {
        hsa_cli_fail("out of memory");
        return 1;
    }
    return 0;
}
