/*
 * fuzz_config.c — everything hearsayd parses before it runs: its flags,
 * the JSON config file, the keyring file and the API token.
 *
 * The first input byte picks what the rest is:
 *   0  argv: NUL-separated arguments (any containing "config" dropped, so
 *      no file is ever read), through hsa_settings_parse();
 *   1  a --config JSON document, through hsa_settings_apply_json();
 *   2  a keyring file, through the daemon's parser and the library's;
 *   3  a token, through hsa_token_check().
 *
 * Oracle: a refusal always comes with a message; settings that parse are
 * either accepted by hs_node_new() or refused with HS_EINVAL, nothing
 * else; and the daemon's keyring parser (agent/keyring.c, public API only)
 * accepts exactly the texts the library's own (wire/seal.c) does, with the
 * same keys in the same order.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/config.h"
#include "agent/keyring.h"
#include "wire/seal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 64

static void quiet(void *arg, hs_log_level level, const char *line)
{
    (void)arg;
    (void)level;
    (void)line;
}

/* Settings that parsed must be ones the library accepts or refuses
 * cleanly. */
static void try_node(const hsa_settings *s)
{
    if (s->show_help || s->show_version)
        return;
    hs_config *cfg = NULL;
    char err[512];
    if (hsa_settings_to_config(s, &cfg, err, sizeof err) < 0)
        return; /* refused with a message: fine */
    hs_config_set_log(cfg, quiet, NULL);
    hs_node *n = NULL;
    hs_err e = hs_node_new(cfg, NULL, &n);
    hs_config_free(cfg);
    if (e != HS_OK && e != HS_EINVAL)
        abort();
    if ((e == HS_OK) != (n != NULL))
        abort();
    hs_node_free(n);
}

static void fuzz_argv(const uint8_t *p, size_t n)
{
    char *text = malloc(n + 1);
    char *argv[MAX_ARGS + 2];
    if (!text)
        abort();
    memcpy(text, p, n);
    text[n] = '\0';
    int argc = 0;
    argv[argc++] = "hearsayd";
    for (size_t i = 0; i <= n && argc <= MAX_ARGS;) {
        char *arg = text + i;
        size_t len = strlen(arg);
        if (!strstr(arg, "config"))
            argv[argc++] = arg;
        i += len + 1;
    }
    argv[argc] = NULL;
    hsa_settings s;
    char err[512] = "";
    int rc = hsa_settings_parse(&s, argc, argv, err, sizeof err);
    if (rc != 0 && (rc != -1 || !err[0]))
        abort();
    if (rc == 0)
        try_node(&s);
    hsa_settings_free(&s);
    free(text);
}

static void fuzz_json(const uint8_t *p, size_t n)
{
    hsa_settings s;
    char err[512] = "";
    char *argv[] = {"hearsayd", "--name", "fuzz", NULL};
    if (hsa_settings_parse(&s, 3, argv, err, sizeof err) != 0)
        abort();
    int rc = hsa_settings_apply_json(&s, "fuzz.json", (const char *)p, n, err,
                                     sizeof err);
    if (rc != 0 && (rc != -1 || !err[0]))
        abort();
    if (rc == 0)
        try_node(&s);
    hsa_settings_free(&s);
}

static void fuzz_keyring(const uint8_t *p, size_t n)
{
    char keys[HS_KEYS_MAX][HS_KEY_TEXT_LEN];
    size_t count = 0;
    char err[256] = "";
    int rc =
        hsa_keyring_parse((const char *)p, n, keys, &count, err, sizeof err);
    if (rc != 0 && (rc != -1 || !err[0]))
        abort();
    hs_keyring *kr = NULL;
    int line = 0;
    hs_err e = hs__keyring_parse((const char *)p, n, &kr, &line);
    if ((rc == 0) != (e == HS_OK))
        abort(); /* the two parsers disagree */
    if (rc == 0) {
        if (count != hs__keyring_count(kr))
            abort();
        for (size_t i = 0; i < count; i++) {
            /* Compared by id: base64 may have more than one spelling. */
            char b64[HS_KEY_TEXT_LEN], a[HS_KEY_ID_LEN], b[HS_KEY_ID_LEN];
            if (hs__keyring_key(kr, i, b64, sizeof b64) != HS_OK ||
                hs_key_id(b64, a, sizeof a) != HS_OK ||
                hs_key_id(keys[i], b, sizeof b) != HS_OK || strcmp(a, b) != 0)
                abort();
        }
    }
    hs__keyring_free(kr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    switch (data[0] & 3) {
    case 0:
        fuzz_argv(p, n);
        break;
    case 1:
        fuzz_json(p, n);
        break;
    case 2:
        fuzz_keyring(p, n);
        break;
    default: {
        char *t = malloc(n + 1);
        if (!t)
            abort();
        memcpy(t, p, n);
        t[n] = '\0';
        hsa_token_check(t, n);
        free(t);
        break;
    }
    }
    return 0;
}
