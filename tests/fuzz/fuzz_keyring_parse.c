/*
 * fuzz_keyring_parse.c — hs__keyring_parse() on arbitrary text. Oracle: a
 * documented code; a parsed ring formats back to text that parses to the
 * same ring.
 */
#include <stdlib.h>
#include <string.h>

#include "wire/seal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hs_keyring *kr = NULL;
    int line = 0;
    hs_err err = hs__keyring_parse((const char *)data, size, &kr, &line);
    if (err != HS_OK) {
        if (err != HS_EINVAL && err != HS_ETOOBIG && err != HS_ENOTFOUND)
            abort();
        if (kr)
            abort();
        return 0;
    }
    char text[HS_KEYRING_MAX * 64];
    size_t len;
    if (hs__keyring_format(kr, text, sizeof text, &len) != HS_OK)
        abort();
    hs_keyring *again = NULL;
    if (hs__keyring_parse(text, len, &again, &line) != HS_OK ||
        hs__keyring_count(again) != hs__keyring_count(kr))
        abort();
    char a[64], b[64];
    for (size_t i = 0; i < hs__keyring_count(kr); i++) {
        hs__keyring_key(kr, i, a, sizeof a);
        hs__keyring_key(again, i, b, sizeof b);
        if (strcmp(a, b) != 0)
            abort();
    }
    hs__keyring_free(again);
    hs__keyring_free(kr);
    return 0;
}
