/*
 * cli_keys.c — the keyring commands: `hearsay keys list|install|use|remove`
 * over /v1/keys, and `hearsay keygen`, which needs no daemon (libsodium's
 * random bytes through hs_key_generate). Keys are wiped from memory once
 * sent, and a key can come from standard input to stay out of `ps`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cli.h"
#include "hearsay.h"

static const char usage_keys[] =
    "usage: hearsay keys list [--json] [--http ADDR]\n"
    "       hearsay keys install KEY [--http ADDR]\n"
    "       hearsay keys use KEY|ID [--http ADDR]\n"
    "       hearsay keys remove KEY|ID [--http ADDR]\n"
    "\n"
    "Manages hearsayd's keyring (it must run with --keyring); each change is\n"
    "written back to the keyring file. KEY is a base64 key (`hearsay "
    "keygen`),\n"
    "or - to read it from standard input (keeps it out of `ps`); ID is a\n"
    "key id as `keys list` prints it. Rotation without downtime: install the\n"
    "new key on every node, then use it on every node, then remove the old\n"
    "one everywhere (docs/security.md).\n";

static const char usage_keygen[] =
    "usage: hearsay keygen\n"
    "\n"
    "Prints a new random 32-byte key, base64-encoded, on one line (for the\n"
    "keyring of encrypted clusters).\n";

/* KEY from the command line, or from standard input for "-". */
static int key_arg(const char *arg, char key[HS_KEY_TEXT_LEN])
{
    char line[256];
    const char *src = arg;
    if (strcmp(arg, "-") == 0) {
        if (!fgets(line, sizeof line, stdin)) {
            hsa_cli_fail("no key on standard input");
            return -1;
        }
        line[strcspn(line, "\r\n")] = '\0';
        src = line;
    }
    size_t n = strlen(src);
    int rc = 0;
    if (n >= HS_KEY_TEXT_LEN)
        rc = -1;
    else
        memcpy(key, src, n + 1);
    hsa_wipe(line, sizeof line);
    return rc;
}

static int keys_list(hsa_cli *c, bool json)
{
    json_t *root;
    int rc = hsa_cli_get_json(c, "/v1/keys", &root);
    if (rc)
        return rc;
    json_t *keys = json_object_get(root, "keys");
    if (!json_is_array(keys)) {
        hsa_cli_fail("unexpected reply from hearsayd");
        json_decref(root);
        return 1;
    }
    if (json) {
        char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (s)
            puts(s);
        free(s);
    } else if (json_array_size(keys) == 0) {
        puts("no keys: gossip is not encrypted (start hearsayd with "
             "--keyring FILE)");
    } else {
        size_t i;
        json_t *k;
        json_array_foreach(keys, i, k)
        {
            const char *id = json_string_value(json_object_get(k, "id"));
            bool primary = json_is_true(json_object_get(k, "primary"));
            printf("%s%s\n", id ? id : "?", primary ? " primary" : "");
        }
    }
    json_decref(root);
    return 0;
}

int hsa_cli_keys(hsa_cli *c, int argc, char **argv)
{
    hsa_cli_args a = {0};
    int rc = hsa_cli_parse_args(c, argc, argv, usage_keys, &a, HSA_CLI_JSON, 2);
    if (rc)
        return rc < 0 ? 0 : rc;
    const char *sub = a.npos ? a.pos[0] : "";
    if (strcmp(sub, "list") == 0 && a.npos == 1)
        return keys_list(c, a.json);
    bool install = strcmp(sub, "install") == 0;
    bool use = strcmp(sub, "use") == 0;
    bool remove = strcmp(sub, "remove") == 0;
    if ((!install && !use && !remove) || a.npos != 2) {
        hsa_cli_fail(
            "usage: hearsay keys list | install KEY | use KEY|ID | remove "
            "KEY|ID (see --help)");
        return 2;
    }
    char key[HS_KEY_TEXT_LEN] = "", id[HS_KEY_ID_LEN] = "";
    bool is_key =
        key_arg(a.pos[1], key) == 0 && hs_key_id(key, id, sizeof id) == HS_OK;
    if (!is_key && (install || strlen(a.pos[1]) >= HS_KEY_ID_LEN ||
                    !a.pos[1][0] || strcmp(a.pos[1], "-") == 0)) {
        hsa_wipe(key, sizeof key);
        hsa_cli_fail(
            "'%s' is not a base64 32-byte key%s", install ? "KEY" : "KEY|ID",
            install ? " (`hearsay keygen` makes one)" : " or a key id");
        return 2;
    }
    if (!is_key)
        snprintf(id, sizeof id, "%s", a.pos[1]);
    hsa_buf body = HSA_BUF_INIT;
    char doc[128], path[64];
    if (remove) {
        snprintf(path, sizeof path, "/v1/keys/%s", id);
        rc = hsa_cli_request(c, "DELETE", path, NULL, 0, REQUEST_TIMEOUT_MS,
                             &body);
    } else {
        if (is_key)
            snprintf(doc, sizeof doc, "{\"key\": \"%s\"}", key);
        else
            snprintf(doc, sizeof doc, "{\"id\": \"%s\"}", id);
        rc = hsa_cli_request(c, install ? "POST" : "PUT",
                             install ? "/v1/keys" : "/v1/keys/primary", doc,
                             strlen(doc), REQUEST_TIMEOUT_MS, &body);
        hsa_wipe(doc, sizeof doc);
    }
    hsa_wipe(key, sizeof key);
    if (rc == 0) {
        json_t *j =
            json_loadb(hsa_buf_head(&body), hsa_buf_avail(&body), 0, NULL);
        const char *st = json_string_value(json_object_get(j, "status"));
        const char *kid = json_string_value(json_object_get(j, "id"));
        printf("key %s: %s\n", kid ? kid : id, st ? st : "done");
        json_decref(j);
    }
    hsa_buf_free(&body);
    return rc;
}

int hsa_cli_keygen(hsa_cli *c, int argc, char **argv)
{
    hsa_cli_args a = {0};
    int rc = hsa_cli_parse_args(c, argc, argv, usage_keygen, &a, 0, 0);
    if (rc)
        return rc < 0 ? 0 : rc;
    char key[HS_KEY_TEXT_LEN];
    hs_err e = hs_key_generate(key, sizeof key);
    if (e != HS_OK) {
        hsa_cli_fail("cannot make a key: %s", hs_strerror(e));
        return 1;
    }
    puts(key);
    hsa_wipe(key, sizeof key);
    return 0;
}
