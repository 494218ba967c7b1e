/*
 * keyring.h — the files holding hearsayd's secrets: the keyring (--keyring,
 * read at start and rewritten on every rotation) and the HTTP token
 * (--http-token-file). Private to agent/.
 *
 * Both must be regular files that neither group nor others can read or
 * write (mode 0600 or 0400): a key readable by every local user is a key
 * every local user has, so hearsayd refuses to start rather than warn
 * (as ssh does with private keys).
 */
#ifndef HSA_KEYRING_H
#define HSA_KEYRING_H

#include <stddef.h>

#include "hearsay.h"

/* A keyring file is at most this long: 16 keys of 45 bytes and comments. */
#define HSA_KEYRING_MAX_TEXT 4096
/* Tokens: 16..256 printable ASCII bytes without spaces (they travel in an
 * Authorization header). 16 is the least that resists guessing over HTTP;
 * `hearsay keygen` output (44 bytes) is a good token. */
#define HSA_TOKEN_MIN 16
#define HSA_TOKEN_MAX 256

/* Parses keyring text: one base64 key per line, the first the primary;
 * blank lines and lines starting with '#' are ignored, surrounding spaces
 * trimmed. Fills keys[0..*n). 0, or -1 with err naming the line
 * ("line 3: not a base64 32-byte key"). `keys` has room for HS_KEYS_MAX. */
int hsa_keyring_parse(const char *text, size_t len,
                      char (*keys)[HS_KEY_TEXT_LEN], size_t *n, char *err,
                      size_t errlen);

/* Reads and parses the keyring file at path (checking its mode). 0, or -1
 * with err ("keyring /etc/hearsay/keyring: line 2: ..."). */
int hsa_keyring_load(const char *path, char (*keys)[HS_KEY_TEXT_LEN], size_t *n,
                     char *err, size_t errlen);

/* Rewrites the keyring file atomically: a temporary file in the same
 * directory (mode 0600), fsync, rename over path, fsync of the directory.
 * Either the old file or the complete new one survives a crash. 0, or -1
 * with err. */
int hsa_keyring_save(const char *path, const hs_key_info *keys, size_t n,
                     char *err, size_t errlen);

/* Reads the token file at path (checking its mode): its first non-blank
 * line, trimmed. 0, or -1 with err. */
int hsa_token_load(const char *path, char *token, size_t cap, char *err,
                   size_t errlen);

/* Whether the token text is acceptable (length and characters). */
int hsa_token_check(const char *token, size_t len);

/* Wipes n bytes at p in a way the compiler may not drop. */
void hsa_wipe(void *p, size_t n);

#endif /* HSA_KEYRING_H */
