/*
 * api_keys.c — the keyring routes: GET /v1/keys (ids and which is
 * primary, never the keys), POST /v1/keys, PUT /v1/keys/primary, DELETE
 * /v1/keys/ID. A change is written back to the keyring file before it is
 * reported done; if that fails it is rolled back, so the node never runs
 * with keys a restart would lose. Key text is wiped once used.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/api_impl.h"
#include "agent/json.h"

/* The keys as JSON: ids and which is primary, never the keys. */
void hsa_api_get_keys(hsa_agent *a, const hsa_request *rq, const char *rest,
                      hsa_reply *out)
{
    hs_key_info keys[HS_KEYS_MAX];
    size_t n = 0;
    hs_err e = hs_node_keys(a->node, keys, HS_KEYS_MAX, &n);
    json_t *list = json_array();
    for (size_t i = 0; e == HS_OK && list && i < n; i++) {
        json_t *k = json_pack("{s:s, s:b}", "id", keys[i].id, "primary",
                              keys[i].primary);
        if (!k || json_array_append_new(list, k) < 0) {
            json_decref(list);
            list = NULL;
        }
    }
    hsa_wipe(keys, sizeof keys);
    if (e != HS_OK) {
        json_decref(list);
        hsa_reply_error(out, hsa_api_status_of(e), "keys: %s", hs_strerror(e));
        return;
    }
    json_t *doc = list
                      ? json_pack("{s:b, s:s?, s:o}", "encrypted", n > 0,
                                  "keyring_file", a->cfg->keyring, "keys", list)
                      : NULL;
    char *body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    hsa_api_json_reply(out, 200, body, body ? strlen(body) : 0);
}

/* The key named by a JSON body {"key": K} (or, with allow_id, {"id": I}),
 * as base64 text in key. false with a 4xx in out. */
static bool key_from_body(hsa_agent *a, const hsa_request *rq, bool allow_id,
                          char key[HS_KEY_TEXT_LEN], hsa_reply *out);

/* The key whose id is `id`, into key. false with a 404/409 in out. */
static bool key_by_id(hsa_agent *a, const char *id, char key[HS_KEY_TEXT_LEN],
                      hsa_reply *out)
{
    hs_key_info keys[HS_KEYS_MAX];
    size_t n = 0, found = 0;
    if (hs_node_keys(a->node, keys, HS_KEYS_MAX, &n) != HS_OK)
        n = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcasecmp(keys[i].id, id) == 0) {
            memcpy(key, keys[i].key, HS_KEY_TEXT_LEN);
            found++;
        }
    }
    hsa_wipe(keys, sizeof keys);
    if (found == 1)
        return true;
    hsa_wipe(key, HS_KEY_TEXT_LEN);
    if (found > 1)
        hsa_reply_error(out, 409,
                        "two keys have id '%.20s': name the key itself", id);
    else
        hsa_reply_error(out, 404,
                        "no key with id '%.20s' in the keyring (GET "
                        "/v1/keys lists them)",
                        id);
    return false;
}

static bool key_from_body(hsa_agent *a, const hsa_request *rq, bool allow_id,
                          char key[HS_KEY_TEXT_LEN], hsa_reply *out)
{
    json_error_t jerr;
    json_t *doc = json_loadb(rq->body ? rq->body : "", rq->body_len,
                             JSON_REJECT_DUPLICATES, &jerr);
    const char *want =
        allow_id ? "{\"key\": KEY} or {\"id\": ID}" : "{\"key\": KEY}";
    bool ok = false;
    if (!json_is_object(doc) || json_object_size(doc) != 1) {
        hsa_reply_error(out, 400, "the body must be %s", want);
        goto out;
    }
    json_t *k = json_object_get(doc, "key");
    json_t *i = allow_id ? json_object_get(doc, "id") : NULL;
    if (json_is_string(k) && json_string_length(k) < HS_KEY_TEXT_LEN &&
        strlen(json_string_value(k)) == json_string_length(k)) {
        memcpy(key, json_string_value(k), json_string_length(k) + 1);
        char id[HS_KEY_ID_LEN];
        ok = hs_key_id(key, id, sizeof id) == HS_OK;
        if (!ok)
            hsa_reply_error(out, 400,
                            "\"key\" is not a base64 32-byte key (`hearsay "
                            "keygen` makes one)");
    } else if (json_is_string(i) && json_string_length(i) < HS_KEY_ID_LEN &&
               strlen(json_string_value(i)) == json_string_length(i)) {
        ok = key_by_id(a, json_string_value(i), key, out);
    } else {
        hsa_reply_error(out, 400, "the body must be %s", want);
    }
out:
    if (!ok)
        hsa_wipe(key, HS_KEY_TEXT_LEN);
    json_decref(doc); /* jansson does not wipe: keys stay in freed memory
                         until reused, as in any JSON library */
    return ok;
}

/* Rewrites the keyring file (if hearsayd has one) after a change. false
 * with a 500 in out if it cannot: the caller rolls the change back, so
 * the node never runs with keys a restart would lose. */
static bool persist_keys(hsa_agent *a, hsa_reply *out)
{
    if (!a->cfg->keyring)
        return true;
    hs_key_info keys[HS_KEYS_MAX];
    size_t n = 0;
    char err[600];
    int rc = -1;
    if (hs_node_keys(a->node, keys, HS_KEYS_MAX, &n) == HS_OK)
        rc = hsa_keyring_save(a->cfg->keyring, keys, n, err, sizeof err);
    else
        snprintf(err, sizeof err, "cannot list the keys");
    hsa_wipe(keys, sizeof keys);
    if (rc < 0) {
        a->stats.keyring_write_errors++;
        hsa_logf(&a->log, HS_LOG_ERROR, "%s; key change rolled back", err);
        hsa_reply_error(out, 500, "%s; the change was rolled back", err);
        return false;
    }
    a->stats.keyring_writes++;
    return true;
}

static void key_error(hsa_reply *out, hs_err e)
{
    switch (e) {
    case HS_ESTATE:
        hsa_reply_error(out, 409,
                        "gossip is not encrypted: start hearsayd with "
                        "--keyring FILE to use keys");
        break;
    case HS_EFULL:
        hsa_reply_error(out, 409,
                        "the keyring holds %d keys already: remove one first",
                        HS_KEYS_MAX);
        break;
    case HS_EINVAL:
        hsa_reply_error(out, 400, "not a base64 32-byte key");
        break;
    case HS_ENOTFOUND:
        hsa_reply_error(out, 404,
                        "that key is not in the keyring: install "
                        "it first (POST /v1/keys)");
        break;
    default:
        hsa_reply_error(out, hsa_api_status_of(e), "keys: %s", hs_strerror(e));
    }
}

static void key_done(hsa_agent *a, hsa_reply *out, const char *key,
                     const char *status)
{
    char id[HS_KEY_ID_LEN] = "?";
    hs_key_id(key, id, sizeof id);
    hsa_logf(&a->log, HS_LOG_INFO, "keyring over HTTP: key %s %s", id, status);
    size_t len = 0;
    char *body = hsa_json_pairs(&len, "id", id, "status", status);
    hsa_api_json_reply(out, 200, body, len);
}

static bool has_key(hsa_agent *a, const char *key)
{
    char id[HS_KEY_ID_LEN], other[HS_KEY_TEXT_LEN];
    hsa_reply scratch = {0};
    bool found = hs_key_id(key, id, sizeof id) == HS_OK &&
                 key_by_id(a, id, other, &scratch) && strcmp(other, key) == 0;
    hsa_wipe(other, sizeof other);
    free(scratch.body);
    return found;
}

void hsa_api_post_key(hsa_agent *a, const hsa_request *rq, const char *rest,
                      hsa_reply *out)
{
    char key[HS_KEY_TEXT_LEN];
    if (!key_from_body(a, rq, false, key, out))
        return;
    bool present = has_key(a, key);
    hs_err e = hs_node_key_add(a->node, key);
    if (e != HS_OK)
        key_error(out, e);
    else if (present)
        key_done(a, out, key, "present");
    else if (!persist_keys(a, out))
        hs_node_key_remove(a->node, key);
    else
        key_done(a, out, key, "installed");
    hsa_wipe(key, sizeof key);
}

void hsa_api_put_primary(hsa_agent *a, const hsa_request *rq, const char *rest,
                         hsa_reply *out)
{
    char key[HS_KEY_TEXT_LEN], old[HS_KEY_TEXT_LEN] = "";
    if (!key_from_body(a, rq, true, key, out))
        return;
    hs_key_info keys[HS_KEYS_MAX];
    size_t n = 0;
    if (hs_node_keys(a->node, keys, HS_KEYS_MAX, &n) == HS_OK && n)
        memcpy(old, keys[0].key, sizeof old);
    hsa_wipe(keys, sizeof keys);
    hs_err e = hs_node_key_use(a->node, key);
    if (e != HS_OK)
        key_error(out, e);
    else if (!persist_keys(a, out))
        hs_node_key_use(a->node, old);
    else
        key_done(a, out, key, "primary");
    hsa_wipe(key, sizeof key);
    hsa_wipe(old, sizeof old);
}

void hsa_api_delete_key(hsa_agent *a, const hsa_request *rq, const char *id,
                        hsa_reply *out)
{
    char key[HS_KEY_TEXT_LEN];
    if (!key_by_id(a, id, key, out))
        return;
    hs_err e = hs_node_key_remove(a->node, key);
    if (e == HS_ESTATE)
        hsa_reply_error(out, 409,
                        "key %.20s is the primary: make another key primary "
                        "first (PUT /v1/keys/primary)",
                        id);
    else if (e != HS_OK)
        key_error(out, e);
    else if (!persist_keys(a, out))
        hs_node_key_add(a->node, key);
    else
        key_done(a, out, key, "removed");
    hsa_wipe(key, sizeof key);
}
