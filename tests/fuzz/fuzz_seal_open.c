/*
 * fuzz_seal_open.c — hs__open() on arbitrary bytes with a fixed two-key ring
 * and a replay cache. Oracle: the result is one of the documented codes;
 * whatever opens decodes or is rejected cleanly, and re-sealing it opens to
 * the same bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "wire/seal.h"
#include "wire/wire.h"

static const char *RING = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
                          "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static hs_keyring *kr;
    static hs_replay *rp;
    if (!kr) {
        int line;
        if (hs__keyring_parse(RING, strlen(RING), &kr, &line) != HS_OK ||
            hs__replay_new(60000, 1024, &rp) != HS_OK)
            abort();
    }
    static uint8_t out[HS_WIRE_MAX_DATAGRAM + 64];
    size_t len = 0;
    hs_err err =
        hs__open(kr, rp, "fuzz", 1000, data, size, out, sizeof out, &len);
    switch (err) {
    case HS_OK:
    case HS_ETRUNCATED:
    case HS_EMAGIC:
    case HS_EVERSION:
    case HS_EINVAL:
    case HS_ETOOBIG:
    case HS_EKEY:
    case HS_EAUTH:
    case HS_EREPLAY:
        break;
    default:
        abort();
    }
    if (err != HS_OK)
        return 0;
    /* Only a forged box could get here; if one ever does, it must still be
     * safe to decode and to seal again. */
    hs_wire_msg *msg = NULL;
    if (hs__wire_decode(out, len, "fuzz", HS_WIRE_MAX_DATAGRAM, &msg) == HS_OK)
        hs__wire_msg_free(msg);
    static uint8_t again[HS_WIRE_MAX_DATAGRAM + 128],
        back[HS_WIRE_MAX_DATAGRAM + 64];
    size_t alen, blen;
    if (hs__seal(kr, "fuzz", 1000, out, len, again, sizeof again, &alen) ==
        HS_OK) {
        if (hs__open(kr, NULL, "fuzz", 1000, again, alen, back, sizeof back,
                     &blen) != HS_OK ||
            blen != len || memcmp(back, out, len) != 0)
            abort();
    }
    return 0;
}
