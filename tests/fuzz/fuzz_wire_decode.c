/*
 * fuzz_wire_decode.c — libFuzzer target for hs__wire_decode(), the first code
 * to touch every byte that arrives on the gossip port.
 *
 * Beyond "does not crash or leak" (ASan/UBSan do that part), it checks the
 * contract on every input:
 *   - only the documented decode errors come back, and *out stays NULL;
 *   - a decoded message is one hs__wire_encode() accepts, no longer than the
 *     input (encode emits the canonical form: no unknown fields, no
 *     defaults, minimal varints), exactly hs__wire_encoded_size() long, and
 *     within the size accounting's bound;
 *   - it decodes again to an equal message, and re-encodes to the same bytes.
 * Any violation aborts, which libFuzzer reports as a crash.
 *
 * The seed corpus (corpus/fuzz_wire_decode/) is written by
 * `test_wire --gen-corpus DIR` and uses cluster "fuzz".
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

#define CLUSTER "fuzz"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "fuzz_wire_decode: %s:%d: %s\n", __FILE__,         \
                    __LINE__, #cond);                                          \
            abort();                                                           \
        }                                                                      \
    } while (0)

static bool streq(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

static bool entries_equal(const hs_wire_delta *x, const hs_wire_delta *y)
{
    if (x->n_entries != y->n_entries)
        return false;
    for (size_t j = 0; j < x->n_entries; j++) {
        const hs_wire_entry *p = &x->entries[j], *q = &y->entries[j];
        if (!streq(p->key, q->key) || p->version != q->version ||
            p->tombstone != q->tombstone || p->value_len != q->value_len ||
            (p->value_len && memcmp(p->value, q->value, p->value_len) != 0))
            return false;
    }
    return true;
}

static bool msg_equal(const hs_wire_msg *a, const hs_wire_msg *b)
{
    if (a->type != b->type || !streq(a->cluster, b->cluster) ||
        !streq(a->sender.name, b->sender.name) ||
        a->sender.generation != b->sender.generation ||
        !streq(a->sender.addr, b->sender.addr) ||
        !streq(a->range_lo, b->range_lo) || !streq(a->range_hi, b->range_hi) ||
        a->pull_only != b->pull_only || a->leave_version != b->leave_version ||
        a->n_digest != b->n_digest || a->n_deltas != b->n_deltas)
        return false;
    for (size_t i = 0; i < a->n_digest; i++) {
        const hs_wire_digest_entry *x = &a->digest[i], *y = &b->digest[i];
        if (!streq(x->name, y->name) || x->generation != y->generation ||
            x->max_version != y->max_version ||
            x->gc_version != y->gc_version || x->left != y->left)
            return false;
    }
    for (size_t i = 0; i < a->n_deltas; i++) {
        const hs_wire_delta *x = &a->deltas[i], *y = &b->deltas[i];
        if (!streq(x->name, y->name) || x->generation != y->generation ||
            !streq(x->addr, y->addr) || x->from_version != y->from_version ||
            x->to_version != y->to_version || x->gc_version != y->gc_version ||
            x->left_version != y->left_version || x->reset != y->reset ||
            !entries_equal(x, y))
            return false;
    }
    return true;
}

static size_t accounted_size(const hs_wire_msg *m)
{
    hs_wire_msg base = *m;
    base.n_digest = base.n_deltas = 0;
    base.digest = NULL;
    base.deltas = NULL;
    size_t sum = hs__wire_base_size(&base);
    for (size_t i = 0; i < m->n_digest; i++)
        sum += hs__wire_digest_entry_size(&m->digest[i]);
    for (size_t i = 0; i < m->n_deltas; i++) {
        hs_wire_delta head = m->deltas[i];
        head.entries = NULL;
        head.n_entries = 0;
        sum += hs__wire_delta_size(&head);
        for (size_t j = 0; j < m->deltas[i].n_entries; j++)
            sum += hs__wire_entry_size(&m->deltas[i].entries[j]);
    }
    return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hs_wire_msg *msg = (hs_wire_msg *)&msg; /* must be overwritten */
    hs_err err =
        hs__wire_decode(data, size, CLUSTER, HS_WIRE_MAX_DATAGRAM, &msg);

    switch (err) {
    case HS_OK:
        break;
    case HS_ETRUNCATED:
    case HS_EMAGIC:
    case HS_EVERSION:
    case HS_ESEALED:
    case HS_ETOOBIG:
    case HS_EMALFORMED:
    case HS_ECLUSTER:
    case HS_ENOMEM:
        CHECK(msg == NULL);
        return 0;
    default:
        fprintf(stderr, "undocumented error %d (%s)\n", err, hs_err_name(err));
        abort();
    }
    CHECK(msg != NULL);
    CHECK(msg->type >= HS_WIRE_SYN && msg->type <= HS_WIRE_LEAVE);
    CHECK(streq(msg->cluster, CLUSTER));
    CHECK(hs__wire_valid_name(msg->sender.name, HS_WIRE_MAX_NAME));

    size_t need = hs__wire_encoded_size(msg);
    CHECK(need <= size);
    CHECK(need <= accounted_size(msg));

    uint8_t *buf = malloc(need), *again = malloc(need);
    CHECK(buf != NULL && again != NULL);
    size_t n = 0;
    CHECK(hs__wire_encode(msg, buf, need - 1, &n) == HS_ENOSPC);
    CHECK(hs__wire_encode(msg, buf, need, &n) == HS_OK);
    CHECK(n == need);

    hs_wire_msg *back = NULL;
    CHECK(hs__wire_decode(buf, n, CLUSTER, HS_WIRE_MAX_DATAGRAM, &back) ==
          HS_OK);
    CHECK(msg_equal(msg, back));
    size_t n2 = 0;
    CHECK(hs__wire_encode(back, again, need, &n2) == HS_OK);
    CHECK(n2 == n && memcmp(buf, again, n) == 0);

    hs__wire_msg_free(back);
    hs__wire_msg_free(msg);
    free(buf);
    free(again);
    return 0;
}
