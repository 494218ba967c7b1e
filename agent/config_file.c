/*
 * config_file.c — hearsayd's --config file: a JSON object whose keys are
 * the flag names (underscores accepted for dashes), e.g.
 *
 *     {"name": "db-1", "bind": "10.0.0.5:7946",
 *      "join": ["10.0.0.2:7946", "10.0.0.3:7946"],
 *      "tag": {"role": "db"}, "gossip-interval": "500ms"}
 *
 * Why JSON and not INI or TOML: serf and consul operators already write
 * JSON agent configs; jansson is already a dependency (the HTTP API), so
 * there is no second parser to trust; JSON has real lists and maps for the
 * repeatable options (join, tag, event-handler); and jansson reports a
 * parse error with its line and column. Every value goes through the same
 * setter as the flag of the same name (config_apply.c), so it means the
 * same and is refused with the same words; the node's knobs are keyed by the
 * library's option names (hs_option_at), as their flags are. Duplicate
 * keys are an error, not "last wins", so a copy-paste mistake cannot
 * silently change a setting.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "agent/config_impl.h"

/* A JSON scalar as the text a flag would carry. */
static int scalar_text(json_t *v, char *buf, size_t len)
{
    if (json_is_string(v)) {
        if (strlen(json_string_value(v)) != json_string_length(v))
            return -1; /* embedded NUL */
        snprintf(buf, len, "%s", json_string_value(v));
        return strlen(json_string_value(v)) < len ? 0 : -1;
    }
    if (json_is_integer(v)) {
        snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return 0;
    }
    if (json_is_real(v)) {
        snprintf(buf, len, "%.17g", json_real_value(v));
        return 0;
    }
    return -1;
}

int hsa_config_load(hsa_settings *s, const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        snprintf(err, errlen, "config %s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "config %s: not a regular file", path);
        return -1;
    }
    if (st.st_size > HSA_MAX_CONFIG) {
        snprintf(err, errlen, "config %s: larger than %d bytes", path,
                 HSA_MAX_CONFIG);
        return -1;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "config %s: %s", path, strerror(errno));
        return -1;
    }
    /* One byte more than allowed, to notice a file that grew since stat. */
    char *text = malloc(HSA_MAX_CONFIG + 1);
    if (!text) {
        fclose(f);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t len = fread(text, 1, HSA_MAX_CONFIG + 1, f);
    int rerr = ferror(f);
    fclose(f);
    int rc = -1;
    if (rerr)
        snprintf(err, errlen, "config %s: read error", path);
    else if (len > HSA_MAX_CONFIG)
        snprintf(err, errlen, "config %s: larger than %d bytes", path,
                 HSA_MAX_CONFIG);
    else
        rc = hsa_settings_apply_json(s, path, text, len, err, errlen);
    free(text);
    return rc;
}

int hsa_settings_apply_json(hsa_settings *s, const char *path, const char *doc,
                            size_t len, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root = json_loadb(doc, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        if (jerr.line > 0)
            snprintf(err, errlen, "config %s: line %d, column %d: %s", path,
                     jerr.line, jerr.column, jerr.text);
        else
            snprintf(err, errlen, "config %s: %s", path, jerr.text);
        return -1;
    }
    int rc = -1;
    if (!json_is_object(root)) {
        snprintf(err, errlen, "config %s: the top level must be an object",
                 path);
        goto out;
    }
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val)
    {
        char name[64], where[160], text[8192];
        size_t kl = strlen(key);
        snprintf(where, sizeof where, "config %.80s: \"%.40s\"", path, key);
        if (kl >= sizeof name) {
            snprintf(err, errlen, "%s: unknown key", where);
            goto out;
        }
        /* Keys are the flag names; underscores are accepted for dashes. */
        for (size_t i = 0; i <= kl; i++)
            name[i] = key[i] == '_' ? '-' : key[i];
        hsa_opt opt;
        const hsa_opt *o = &opt;
        if (hsa_opt_find(name, kl, &opt) < 0) {
            snprintf(err, errlen, "%s: unknown key (see hearsayd --help)",
                     where);
            goto out;
        }
        if (o->kind == HSA_K_FLAG || o->id == HSA_O_CONFIG) {
            snprintf(err, errlen, "%s: not allowed in a config file", where);
            goto out;
        }
        bool repeatable = o->kind == HSA_K_LIST || o->kind == HSA_K_TAG ||
                          o->kind == HSA_K_HANDLER;
        if (json_is_array(val) && repeatable) {
            size_t i;
            json_t *el;
            json_array_foreach(val, i, el)
            {
                if (!json_is_string(el) ||
                    scalar_text(el, text, sizeof text) < 0) {
                    snprintf(err, errlen, "%s: element %zu must be a string",
                             where, i);
                    goto out;
                }
                if (hsa_opt_apply(s, o, text, where, err, errlen) < 0)
                    goto out;
            }
        } else if (json_is_object(val) && o->kind == HSA_K_TAG) {
            const char *tk;
            json_t *tv;
            json_object_foreach(val, tk, tv)
            {
                if (scalar_text(tv, text, sizeof text) < 0) {
                    snprintf(err, errlen,
                             "%s: value of \"%.40s\" must be a string or a "
                             "number",
                             where, tk);
                    goto out;
                }
                char why[256];
                if (hsa_opt_set_tag(s, tk, strlen(tk), text, why, sizeof why) <
                    0) {
                    snprintf(err, errlen, "%s: %s", where, why);
                    goto out;
                }
            }
        } else if (scalar_text(val, text, sizeof text) == 0) {
            if (hsa_opt_apply(s, o, text, where, err, errlen) < 0)
                goto out;
        } else {
            snprintf(err, errlen, "%s: must be %s", where,
                     o->kind == HSA_K_TAG
                         ? "an object of strings or a list of \"KEY=VALUE\""
                     : repeatable ? "a string or a list of strings"
                                  : "a string or a number");
            goto out;
        }
    }
    rc = 0;
out:
    json_decref(root);
    return rc;
}
