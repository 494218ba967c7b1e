/*
 * cli_members.c — `hearsay members`: GET /v1/members as an aligned table
 * (or the JSON itself), filtered by state on the daemon's side
 * (?state=) and by tags and a name pattern here, so the filters work
 * against any hearsayd that has the endpoint.
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cli.h"

static const char usage[] =
    "usage: hearsay members [--state S] [--tag KEY=VALUE]... [--name REGEX]\n"
    "                       [--json] [--http ADDR]\n"
    "\n"
    "Lists the members hearsayd knows (itself included) as a table:\n"
    "NAME ADDR STATE GENERATION HEARTBEAT PHI TAGS.\n"
    "\n"
    "  --state S        only members in these states (comma-separated:\n"
    "                   alive, suspect, dead, left)\n"
    "  --tag KEY=VALUE  only members with this tag value; repeatable, all\n"
    "                   must match\n"
    "  --name REGEX     only members whose name matches REGEX (POSIX\n"
    "                   extended, unanchored: ^web- for a prefix)\n"
    "  --json           print GET /v1/members as JSON instead (filtered\n"
    "                   the same way)\n";

enum { COLS = 7 };

static int print_table(json_t *root)
{
    json_t *members = json_object_get(root, "members");
    if (!json_is_array(members)) {
        hsa_cli_fail("unexpected reply: no \"members\" list");
        return 1;
    }
    size_t n = json_array_size(members);
    char **cells = calloc((n + 1) * COLS, sizeof *cells);
    if (!cells) {
        hsa_cli_fail("out of memory");
        return 1;
    }
    static const char *const head[COLS] = {
        "NAME", "ADDR", "STATE", "GENERATION", "HEARTBEAT", "PHI", "TAGS"};
    int rc = 1;
    for (int k = 0; k < COLS; k++) {
        if (!(cells[k] = strdup(head[k])))
            goto out;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *m = json_array_get(members, i);
        char **row = cells + (i + 1) * COLS;
        char num[64];
        row[0] =
            hsa_cli_printable(json_string_value(json_object_get(m, "name")));
        row[1] =
            hsa_cli_printable(json_string_value(json_object_get(m, "addr")));
        row[2] =
            hsa_cli_printable(json_string_value(json_object_get(m, "state")));
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(m, "generation")));
        row[3] = strdup(num);
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(m, "heartbeat")));
        row[4] = strdup(num);
        json_t *phi = json_object_get(m, "phi");
        if (json_is_number(phi))
            snprintf(num, sizeof num, "%.2f", json_number_value(phi));
        else
            snprintf(num, sizeof num, "inf");
        row[5] = strdup(num);
        hsa_buf tags = HSA_BUF_INIT;
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(m, "tags"), k, v)
        {
            if (tags.len)
                hsa_buf_puts(&tags, ",");
            hsa_buf_printf(&tags, "%s=%s", k,
                           json_is_string(v) ? json_string_value(v) : "");
        }
        char *t = hsa_buf_steal(&tags, NULL);
        row[6] = t ? hsa_cli_printable(t) : NULL;
        free(t);
        for (int c = 0; c < COLS; c++) {
            if (!row[c])
                goto out;
        }
    }
    size_t width[COLS] = {0};
    for (size_t i = 0; i <= n; i++) {
        for (int c = 0; c < COLS; c++) {
            size_t l = strlen(cells[i * COLS + c]);
            if (l > width[c])
                width[c] = l;
        }
    }
    for (size_t i = 0; i <= n; i++) {
        for (int c = 0; c < COLS; c++) {
            const char *s = cells[i * COLS + c];
            if (c == COLS - 1)
                printf("%s\n", s);
            else
                printf("%-*s  ", (int)width[c], s);
        }
    }
    rc = 0;
out:
    if (rc)
        hsa_cli_fail("out of memory");
    for (size_t i = 0; i < (n + 1) * COLS; i++)
        free(cells[i]);
    free(cells);
    return rc;
}

/* Whether member m has every KEY=VALUE tag in a. */
static bool tags_match(const hsa_cli_args *a, json_t *m)
{
    json_t *tags = json_object_get(m, "tags");
    for (int i = 0; i < a->ntags; i++) {
        const char *eq = strchr(a->tags[i], '=');
        size_t kl = (size_t)(eq - a->tags[i]);
        char key[256];
        if (kl >= sizeof key)
            return false; /* longer than any key the library allows */
        memcpy(key, a->tags[i], kl);
        key[kl] = '\0';
        const char *v = json_string_value(json_object_get(tags, key));
        if (!v || strcmp(v, eq + 1) != 0)
            return false;
    }
    return true;
}

/* Drops the members that do not pass --tag and --name from root. */
static void filter_members(const hsa_cli_args *a, const regex_t *re,
                           json_t *root)
{
    json_t *members = json_object_get(root, "members");
    for (size_t i = json_array_size(members); i-- > 0;) {
        json_t *m = json_array_get(members, i);
        const char *name = json_string_value(json_object_get(m, "name"));
        bool keep = tags_match(a, m) &&
                    (!re || (name && regexec(re, name, 0, NULL, 0) == 0));
        if (!keep)
            json_array_remove(members, i);
    }
}

static int list_members(hsa_cli *c, const hsa_cli_args *a, const regex_t *re)
{
    int rc;
    char path[512] = "/v1/members";
    if (a->state && hsa_cli_escaped_path(path, sizeof path,
                                         "/v1/members?state=", a->state) < 0)
        return 1;
    json_t *root;
    if ((rc = hsa_cli_get_json(c, path, &root)))
        return rc;
    if (a->ntags || re)
        filter_members(a, re, root);
    if (a->json) {
        char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (s)
            puts(s);
        else
            hsa_cli_fail("out of memory");
        rc = s ? 0 : 1;
        free(s);
    } else {
        rc = print_table(root);
    }
    json_decref(root);
    return rc;
}

int hsa_cli_members(hsa_cli *c, int argc, char **argv)
{
    hsa_cli_args a = {0};
    int rc =
        hsa_cli_parse_args(c, argc, argv, usage, &a,
                           HSA_CLI_STATE | HSA_CLI_JSON | HSA_CLI_FILTERS, 0);
    if (rc)
        return rc < 0 ? 0 : rc;
    regex_t re;
    if (a.name) {
        int e = regcomp(&re, a.name, REG_EXTENDED | REG_NOSUB);
        if (e) {
            char why[256];
            regerror(e, &re, why, sizeof why);
            hsa_cli_fail("--name: '%s' is not a valid regular expression: %s",
                         a.name, why);
            return 2;
        }
    }
    rc = list_members(c, &a, a.name ? &re : NULL);
    if (a.name)
        regfree(&re);
    return rc;
}
