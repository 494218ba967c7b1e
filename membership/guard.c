/*
 * guard.c — what stands between the gossip socket and the core: sealing of
 * outgoing datagrams, and admission of incoming ones (a per-source rate
 * limit, the size limit, opening with the keyring and the replay window),
 * plus the public key-management calls. docs/security.md has the threat
 * model this implements.
 *
 * Why here and not in the core: the core is sans-I/O and deterministic, and
 * sealing needs randomness (nonces) and the wall clock (replay stamps); the
 * simulator and the core tests run plaintext cores and lose nothing. The
 * core packs its messages into max_datagram - HS_SEAL_OVERHEAD (node_config.c
 * sets that up), so a sealed datagram never exceeds max_datagram.
 *
 * Order of the admission checks: cheapest first, so a flood costs as little
 * as possible per datagram. The rate limit is one hash and a few compares;
 * the size and header checks are compares; only then is a datagram worth
 * an AEAD open (a microsecond or two for 1400 bytes), and only an
 * authenticated one reaches protobuf decoding and the core.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "membership/node_impl.h"
#include "wire/wire.h"

_Static_assert(HS_SEAL_OVERHEAD == HS_SEAL_BYTES,
               "hearsay.h's HS_SEAL_BYTES must match the sealing format");
_Static_assert(HS_KEYRING_MAX == HS_KEYS_MAX,
               "hearsay.h's HS_KEYS_MAX must match the keyring");

/* Replay windows shorter than a second would refuse datagrams from peers
 * whose clocks NTP keeps within ordinary bounds. */
#define HS_REPLAY_MIN_WINDOW_MS 1000

/* ---- Set-up ------------------------------------------------------------- */

static uint64_t random_u64(void)
{
    uint64_t v = 0;
    if (getrandom(&v, sizeof v, GRND_NONBLOCK) != (ssize_t)sizeof v)
        v = hs__rt_wall_ms() ^ ((uint64_t)hs__rt_now_us() << 20);
    return v | 1;
}

hs_err hs__guard_init(hs_node *n, const hs_config *cfg)
{
    hs_err err;
    if (cfg->n_keys && !cfg->keys) {
        hs__rt_log(n, HS_LOG_ERROR, "config: n_keys is %zu but keys is NULL",
                   cfg->n_keys);
        return HS_EINVAL;
    }
    if (cfg->n_keys > HS_KEYS_MAX) {
        hs__rt_log(n, HS_LOG_ERROR, "config: %zu keys; at most %d", cfg->n_keys,
                   HS_KEYS_MAX);
        return HS_EINVAL;
    }
    if (cfg->n_keys) {
        if (cfg->replay_window_ms < HS_REPLAY_MIN_WINDOW_MS ||
            cfg->replay_cache_size == 0 ||
            cfg->replay_cache_size > (1u << 24)) {
            hs__rt_log(n, HS_LOG_ERROR,
                       "config: replay_window_ms must be >= %d and "
                       "replay_cache_size 1..16777216",
                       HS_REPLAY_MIN_WINDOW_MS);
            return HS_EINVAL;
        }
        if ((err = hs__keyring_new(&n->keyring)) != HS_OK) {
            hs__rt_log(n, HS_LOG_ERROR, "cannot initialise libsodium");
            return err;
        }
        for (size_t i = 0; i < cfg->n_keys; i++) {
            if (!cfg->keys[i] ||
                (err = hs__keyring_add(n->keyring, cfg->keys[i])) != HS_OK) {
                /* Never log the text: it may be a key with a typo. */
                hs__rt_log(n, HS_LOG_ERROR,
                           "config: keys[%zu] is not a base64 32-byte key", i);
                return HS_EINVAL;
            }
        }
        if ((err = hs__replay_new(cfg->replay_window_ms, cfg->replay_cache_size,
                                  &n->replay)) != HS_OK)
            return err;
        n->obuf = malloc(HS_WIRE_MAX_DATAGRAM + 1);
        n->sbuf = malloc(HS_WIRE_MAX_DATAGRAM + 1);
        if (!n->obuf || !n->sbuf)
            return HS_ENOMEM;
    }
    if (cfg->max_datagrams_per_sec_per_source) {
        n->rate = calloc((size_t)HS_RATE_SETS * HS_RATE_WAYS, sizeof *n->rate);
        if (!n->rate)
            return HS_ENOMEM;
        n->rate_secret = random_u64();
    }
    return HS_OK;
}

void hs__guard_free(hs_node *n)
{
    hs__keyring_free(n->keyring); /* wipes the keys */
    hs__replay_free(n->replay);
    free(n->rate);
    free(n->obuf);
    free(n->sbuf);
    n->keyring = NULL;
    n->replay = NULL;
    n->rate = NULL;
    n->obuf = n->sbuf = NULL;
}

/* ---- The per-source rate limit ------------------------------------------ */

/* FNV-1a over the source's port and address, started from the node's
 * secret and finished with the splitmix64 mixer, so the set a source lands
 * in cannot be chosen from outside. Not a MAC: it only spreads sources. */
static uint64_t source_hash(uint64_t secret, const struct sockaddr *sa)
{
    const uint8_t *p;
    size_t len;
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
        p = (const uint8_t *)&a->sin6_port;
        len =
            sizeof a->sin6_port + sizeof a->sin6_flowinfo + sizeof a->sin6_addr;
        /* port, flowinfo and address are contiguous in sockaddr_in6 */
    } else {
        const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
        p = (const uint8_t *)&a->sin_port;
        len = sizeof a->sin_port + sizeof a->sin_addr;
    }
    uint64_t h = secret ^ 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        if (sa->sa_family == AF_INET6 && i >= 2 && i < 6)
            continue; /* flowinfo: chosen by the sender, not an identity */
        h = (h ^ p[i]) * 0x100000001b3ULL;
    }
    h ^= (uint64_t)sa->sa_family;
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h ? h : 1;
}

/* A token bucket per source holding up to one second's worth: `rate`
 * datagrams a second on average, bursts of up to `rate`. Tokens are kept
 * in thousandths so the refill is exact integer arithmetic. */
static bool rate_allows(hs_node *n, const struct sockaddr *sa, uint64_t now)
{
    uint64_t rate = n->cfg.max_datagrams_per_sec_per_source;
    uint64_t cap = rate * 1000u, cost = 1000u;
    uint64_t tag = source_hash(n->rate_secret, sa);
    hs_rate_slot *set = &n->rate[(tag >> 40) % HS_RATE_SETS * HS_RATE_WAYS];
    hs_rate_slot *s = NULL, *victim = &set[0];
    for (int i = 0; i < HS_RATE_WAYS; i++) {
        if (set[i].tag == tag) {
            s = &set[i];
            break;
        }
        if (set[i].tag == 0 ||
            (victim->tag != 0 && set[i].last_ms < victim->last_ms))
            victim = &set[i];
    }
    if (!s) {
        s = victim;
        s->tag = tag;
        s->last_ms = now;
        s->milli = cap;
    } else if (now > s->last_ms) {
        uint64_t add = (now - s->last_ms) * rate; /* rate/s = rate milli/ms */
        s->milli = cap - s->milli <= add ? cap : s->milli + add;
        s->last_ms = now;
    }
    if (s->milli < cost)
        return false;
    s->milli -= cost;
    return true;
}

/* ---- Admission and sealing ---------------------------------------------- */

hs_err hs__guard_admit(hs_node *n, const struct sockaddr *from, uint64_t now_ms,
                       const uint8_t **buf, size_t *len)
{
    if (n->rate && !rate_allows(n, from, now_ms))
        return HS_ERATE;
    if (*len > n->cfg.max_datagram)
        return HS_ETOOBIG;
    if (!n->keyring)
        return HS_OK; /* the core checks the header, and refuses sealed */
    bool sealed = false;
    hs_err err = hs__wire_check_header(*buf, *len, &sealed);
    if (err != HS_OK)
        return err;
    if (!sealed)
        return HS_EPLAINTEXT;
    size_t olen = 0;
    err = hs__open(n->keyring, n->replay, n->cluster, hs__rt_wall_ms(), *buf,
                   *len, n->obuf, HS_WIRE_MAX_DATAGRAM + 1, &olen);
    if (err != HS_OK)
        return err;
    n->rt.datagrams_opened++;
    *buf = n->obuf;
    *len = olen;
    return HS_OK;
}

hs_err hs__guard_seal(hs_node *n, const uint8_t **buf, size_t *len)
{
    if (!n->keyring)
        return HS_OK;
    size_t out = 0;
    hs_err err = hs__seal(n->keyring, n->cluster, hs__rt_wall_ms(), *buf, *len,
                          n->sbuf, HS_WIRE_MAX_DATAGRAM + 1, &out);
    if (err != HS_OK)
        return err;
    *buf = n->sbuf;
    *len = out;
    return HS_OK;
}

/* ---- Public key management ---------------------------------------------- */

static void hex_id(const uint8_t id[HS_KEYID_BYTES], char *buf)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < HS_KEYID_BYTES; i++) {
        buf[2 * i] = hex[id[i] >> 4];
        buf[2 * i + 1] = hex[id[i] & 15];
    }
    buf[2 * HS_KEYID_BYTES] = 0;
}

HS_EXPORT hs_err hs_key_id(const char *key, char *buf, size_t cap)
{
    if (!key || !buf)
        return HS_EINVAL;
    if (cap < HS_KEY_ID_LEN)
        return HS_ENOSPC;
    hs_keyring *kr;
    hs_err err = hs__keyring_new(&kr);
    if (err != HS_OK)
        return err;
    uint8_t id[HS_KEYID_BYTES];
    if ((err = hs__keyring_add(kr, key)) == HS_OK &&
        (err = hs__keyring_key_id(kr, 0, id)) == HS_OK)
        hex_id(id, buf);
    hs__keyring_free(kr);
    return err;
}

HS_EXPORT hs_err hs_node_keys(hs_node *n, hs_key_info *out, size_t cap,
                              size_t *count)
{
    if (!n || !count || (cap && !out))
        return HS_EINVAL;
    pthread_mutex_lock(&n->mu);
    size_t k = n->keyring ? hs__keyring_count(n->keyring) : 0;
    hs_err err = k > cap ? HS_ENOSPC : HS_OK;
    *count = k;
    for (size_t i = 0; err == HS_OK && i < k; i++) {
        uint8_t id[HS_KEYID_BYTES];
        memset(&out[i], 0, sizeof out[i]);
        if ((err = hs__keyring_key(n->keyring, i, out[i].key,
                                   sizeof out[i].key)) != HS_OK ||
            (err = hs__keyring_key_id(n->keyring, i, id)) != HS_OK)
            break;
        hex_id(id, out[i].id);
        out[i].primary = i == 0;
    }
    pthread_mutex_unlock(&n->mu);
    return err;
}

typedef hs_err (*keyring_op)(hs_keyring *, const char *);

static hs_err key_op(hs_node *n, const char *key, keyring_op op,
                     const char *what)
{
    if (!n || !key)
        return HS_EINVAL;
    char id[HS_KEY_ID_LEN];
    hs_err err = hs_key_id(key, id, sizeof id);
    if (err != HS_OK)
        return err;
    pthread_mutex_lock(&n->mu);
    size_t before = n->keyring ? hs__keyring_count(n->keyring) : 0;
    err = n->keyring ? op(n->keyring, key) : HS_ESTATE;
    /* An add of a key already present changes nothing: no news. */
    if (err == HS_OK &&
        (op != hs__keyring_add || hs__keyring_count(n->keyring) != before))
        hs__rt_log(n, HS_LOG_INFO, "keyring: %s key %s (%zu key%s now)", what,
                   id, hs__keyring_count(n->keyring),
                   hs__keyring_count(n->keyring) == 1 ? "" : "s");
    pthread_mutex_unlock(&n->mu);
    return err;
}

HS_EXPORT hs_err hs_node_key_add(hs_node *n, const char *key)
{
    return key_op(n, key, hs__keyring_add, "installed");
}

HS_EXPORT hs_err hs_node_key_use(hs_node *n, const char *key)
{
    return key_op(n, key, hs__keyring_use, "sealing with");
}

HS_EXPORT hs_err hs_node_key_remove(hs_node *n, const char *key)
{
    return key_op(n, key, hs__keyring_remove, "removed");
}
