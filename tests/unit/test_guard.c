/*
 * test_guard.c — the runtime's defences on real loopback sockets
 * (membership/guard.c): sealed clusters, key rotation on live nodes, and
 * every way a datagram is refused before the core sees it — plaintext to a
 * sealed node, a foreign key, another cluster, replays inside and outside
 * the window, oversized datagrams, junk, a flood over the per-source rate
 * limit — each counted under its own reason.
 *
 * Nodes run on their own threads (loop == NULL) so the test thread can
 * send hostile datagrams from its own sockets and poll the counters. The
 * hostile datagrams are made with the library's private wire and seal
 * functions: what an attacker holding (or lacking) a key could send.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hearsay.h"
#include "wire/seal.h"
#include "wire/wire.h"

static const char *K1 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
static const char *K2 = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
static const char *K3 = "QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8=";

#define WAIT_MS 15000

static uint64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static uint64_t wall_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static void sleep_ms(unsigned ms)
{
    usleep(ms * 1000u);
}

/* ---- Nodes -------------------------------------------------------------- */

static void quiet(void *arg, hs_log_level level, const char *line)
{
    (void)arg;
    (void)level;
    (void)line;
}

/* FAIL and LEAVE events (a forgery that worked), from the nodes' threads. */
static int fails_seen;

static void count_bad(hs_node *node, const hs_event *ev, void *arg)
{
    (void)node;
    (void)arg;
    if (ev->type == HS_EVENT_FAIL || ev->type == HS_EVENT_LEAVE)
        __atomic_add_fetch(&fails_seen, 1, __ATOMIC_SEQ_CST);
}

typedef struct spec {
    const char *name;
    const char *cluster;
    const char *keys[4]; /* NULL-terminated */
    uint32_t rate;       /* max_datagrams_per_sec_per_source; 0: default */
} spec;

#define SET_STR(cfg, opt, v)                                                   \
    assert_int_equal(hs_config_set_str(cfg, opt, v), HS_OK)
#define SET_UINT(cfg, opt, v)                                                  \
    assert_int_equal(hs_config_set_uint(cfg, opt, v), HS_OK)

/* Value i of a node's statistic `name` (asserted to exist). */
static uint64_t stat_of(hs_node *n, const char *name, size_t i)
{
    uint64_t v = 0;
    assert_int_equal(hs_node_stat(n, name, i, &v), HS_OK);
    return v;
}

static hs_node *node_up(const spec *s, const char *seed)
{
    hs_config *cfg = NULL;
    assert_int_equal(hs_config_new(&cfg), HS_OK);
    SET_STR(cfg, "name", s->name);
    SET_STR(cfg, "cluster", s->cluster ? s->cluster : "guard");
    SET_STR(cfg, "bind", "127.0.0.1:0");
    SET_UINT(cfg, "gossip-interval", 100);
    SET_UINT(cfg, "heartbeat-interval", 100);
    SET_UINT(cfg, "dead-after", 1000);
    assert_int_equal(hs_config_set_log(cfg, quiet, NULL), HS_OK);
    size_t n = 0;
    while (n < 4 && s->keys[n])
        n++;
    assert_int_equal(hs_config_set_keys(cfg, s->keys, n), HS_OK);
    SET_UINT(cfg, "replay-window", 2000);
    if (s->rate)
        SET_UINT(cfg, "max-source-rate", s->rate);
    hs_node *node = NULL;
    assert_int_equal(hs_node_new(cfg, NULL, &node), HS_OK);
    hs_config_free(cfg);
    assert_int_equal(hs_node_on(node, ~0u, count_bad, NULL), HS_OK);
    assert_int_equal(hs_node_start(node), HS_OK);
    if (seed)
        assert_int_equal(hs_node_join(node, &seed, 1), HS_OK);
    return node;
}

static const char *addr_of(hs_node *n)
{
    static char buf[4][HS_ADDRSTRLEN];
    static int k;
    char *b = buf[k++ % 4];
    assert_int_equal(hs_node_bound_addr(n, b, HS_ADDRSTRLEN), HS_OK);
    return b;
}

static int state_of(hs_node *n, const char *name)
{
    hs_member_list *l;
    if (hs_node_member(n, name, &l) != HS_OK)
        return -1;
    int s = (int)l->members[0].state;
    hs_member_list_free(l);
    return s;
}

/* Waits until every node in `nodes` sees every one of `names` alive. */
static bool all_alive(hs_node **nodes, int n, const char **names, int k,
                      uint64_t timeout)
{
    uint64_t end = now_ms() + timeout;
    for (;;) {
        bool ok = true;
        for (int i = 0; i < n && ok; i++)
            for (int j = 0; j < k && ok; j++)
                ok = state_of(nodes[i], names[j]) == HS_STATE_ALIVE;
        if (ok || now_ms() > end)
            return ok;
        sleep_ms(20);
    }
}

static uint64_t rejected(hs_node *n, hs_err why)
{
    return stat_of(n, "rejected", (size_t)-why);
}

static uint64_t opened(hs_node *n)
{
    return stat_of(n, "datagrams_opened", 0);
}

/* Waits until node's count for `why` reaches at least `want`. */
static bool rejected_reaches(hs_node *n, hs_err why, uint64_t want)
{
    uint64_t end = now_ms() + WAIT_MS;
    while (rejected(n, why) < want && now_ms() < end)
        sleep_ms(10);
    return rejected(n, why) >= want;
}

/* ---- Hostile datagrams -------------------------------------------------- */

typedef struct sender {
    int fd;
    struct sockaddr_in to;
} sender;

static sender sender_to(const char *addr)
{
    sender s;
    char host[64];
    unsigned port = 0;
    assert_int_equal(sscanf(addr, "%63[^:]:%u", host, &port), 2);
    memset(&s.to, 0, sizeof s.to);
    s.to.sin_family = AF_INET;
    s.to.sin_port = htons((uint16_t)port);
    assert_int_equal(inet_pton(AF_INET, host, &s.to.sin_addr), 1);
    s.fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(s.fd >= 0);
    return s;
}

static void send_bytes(sender *s, const uint8_t *buf, size_t len)
{
    assert_int_equal(
        sendto(s->fd, buf, len, 0, (struct sockaddr *)&s->to, sizeof s->to),
        (ssize_t)len);
}

/* A valid SYN from `from`, or a LEAVE claiming to be `from`. */
static size_t plain_msg(uint8_t *buf, size_t cap, const char *cluster,
                        hs_wire_type type, const char *from, uint64_t gen)
{
    hs_wire_msg msg = {.type = type,
                       .cluster = cluster,
                       .sender = {from, gen, "127.0.0.1:9"},
                       .range_lo = "",
                       .range_hi = "",
                       .leave_version = type == HS_WIRE_LEAVE ? 1000 : 0};
    size_t len = 0;
    assert_int_equal(hs__wire_encode(&msg, buf, cap, &len), HS_OK);
    return len;
}

static size_t sealed_msg(uint8_t *buf, size_t cap, const char *key,
                         const char *cluster, uint64_t stamp)
{
    uint8_t plain[512];
    size_t plen =
        plain_msg(plain, sizeof plain, cluster, HS_WIRE_SYN, "mallory", 1);
    hs_keyring *kr = NULL;
    assert_int_equal(hs__keyring_new(&kr), HS_OK);
    assert_int_equal(hs__keyring_add(kr, key), HS_OK);
    size_t len = 0;
    assert_int_equal(hs__seal(kr, cluster, stamp, plain, plen, buf, cap, &len),
                     HS_OK);
    hs__keyring_free(kr);
    return len;
}

/* ---- Tests -------------------------------------------------------------- */

static void keys_are_generated_and_named(void **state)
{
    (void)state;
    char a[HS_KEY_TEXT_LEN], b[HS_KEY_TEXT_LEN], id[HS_KEY_ID_LEN],
        id2[HS_KEY_ID_LEN];
    assert_int_equal(hs_key_generate(a, sizeof a), HS_OK);
    assert_int_equal(hs_key_generate(b, sizeof b), HS_OK);
    assert_int_equal(strlen(a), 44);
    assert_string_not_equal(a, b);
    assert_int_equal(hs_key_generate(a, 44), HS_ENOSPC);
    assert_int_equal(hs_key_id(K1, id, sizeof id), HS_OK);
    assert_int_equal(strlen(id), 8);
    assert_int_equal(strspn(id, "0123456789abcdef"), 8);
    assert_int_equal(hs_key_id(K1, id2, sizeof id2), HS_OK);
    assert_string_equal(id, id2); /* stable */
    assert_int_equal(hs_key_id(K2, id2, sizeof id2), HS_OK);
    assert_string_not_equal(id, id2);
    assert_int_equal(hs_key_id("not a key", id, sizeof id), HS_EINVAL);
    assert_int_equal(hs_key_id(K1, id, 8), HS_ENOSPC);

    /* The id is the one sealed datagrams carry in clear. */
    uint8_t box[600];
    sealed_msg(box, sizeof box, K1, "guard", wall_ms());
    hs_key_id(K1, id, sizeof id);
    char wire_id[9];
    snprintf(wire_id, sizeof wire_id, "%02x%02x%02x%02x", box[4], box[5],
             box[6], box[7]);
    assert_string_equal(id, wire_id);
}

static void bad_key_configs_are_refused(void **state)
{
    (void)state;
    hs_config *cfg = NULL;
    hs_node *n = NULL;
    const char *bad[] = {"AAEC"};
    assert_int_equal(hs_config_new(&cfg), HS_OK);
    SET_STR(cfg, "name", "x");
    assert_int_equal(hs_config_set_log(cfg, quiet, NULL), HS_OK);
    assert_int_equal(hs_config_set_keys(cfg, bad, 1), HS_OK);
    assert_int_equal(hs_node_new(cfg, NULL, &n), HS_EINVAL);
    assert_null(n);

    const char *good[] = {K1};
    assert_int_equal(hs_config_set_keys(cfg, good, 1), HS_OK);
    SET_UINT(cfg, "max-datagram", 512 + HS_SEAL_BYTES - 1);
    assert_int_equal(hs_node_new(cfg, NULL, &n), HS_EINVAL);
    SET_UINT(cfg, "max-datagram", 512 + HS_SEAL_BYTES);
    assert_int_equal(hs_node_new(cfg, NULL, &n), HS_OK);
    hs_node_free(n);

    /* Bounds the table holds are refused when set, not at hs_node_new. */
    assert_int_equal(hs_config_set_uint(cfg, "replay-window", 999), HS_EINVAL);
    SET_UINT(cfg, "replay-window", 1000);
    assert_int_equal(hs_config_set_uint(cfg, "replay-cache-size", 0),
                     HS_EINVAL);
    const char *many[HS_KEYS_MAX + 1];
    for (size_t i = 0; i < HS_KEYS_MAX + 1; i++)
        many[i] = K1;
    assert_int_equal(hs_config_set_keys(cfg, many, HS_KEYS_MAX + 1), HS_EINVAL);
    assert_int_equal(hs_config_set_keys(cfg, NULL, 1), HS_EINVAL);
    hs_config_free(cfg);
}

static void sealed_cluster_keeps_outsiders_out(void **state)
{
    (void)state;
    __atomic_store_n(&fails_seen, 0, __ATOMIC_SEQ_CST);
    hs_node *n0 = node_up(&(spec){"s0", NULL, {K1}, 0}, NULL);
    hs_node *n1 = node_up(&(spec){"s1", NULL, {K1}, 0}, addr_of(n0));
    hs_node *n2 = node_up(&(spec){"s2", NULL, {K2, K1}, 0}, addr_of(n0));
    hs_node *all[] = {n0, n1, n2};
    const char *names[] = {"s0", "s1", "s2"};
    /* s2 seals with K2, which s0 and s1 lack: it stays outside... */
    sleep_ms(800);
    assert_int_equal(state_of(n0, "s2"), -1);
    assert_true(rejected(n0, HS_EKEY) > 0);
    assert_true(all_alive(all, 2, names, 2, WAIT_MS));
    /* ...until it seals with a key they have. */
    assert_int_equal(hs_node_key_use(n2, K1), HS_OK);
    assert_true(all_alive(all, 3, names, 3, WAIT_MS));

    /* An outsider with a wrong key, and a plaintext one. */
    hs_node *wrong = node_up(&(spec){"w", NULL, {K3}, 0}, addr_of(n0));
    hs_node *plain = node_up(&(spec){"p", NULL, {NULL}, 0}, addr_of(n0));
    const char *paddr = addr_of(plain);
    assert_int_equal(hs_node_join(n1, &paddr, 1), HS_OK);
    assert_true(rejected_reaches(n0, HS_EPLAINTEXT, 3));
    assert_true(rejected_reaches(plain, HS_ESEALED, 1));
    assert_true(rejected_reaches(n0, HS_EKEY, 3));
    sleep_ms(300);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(state_of(all[i], "w"), -1);
        assert_int_equal(state_of(all[i], "p"), -1);
        assert_true(stat_of(all[i], "datagrams_opened", 0) > 0);
        assert_int_equal(stat_of(all[i], "keyring_keys", 0), i == 2 ? 2 : 1);
    }
    assert_int_equal(state_of(wrong, "s0"), -1);
    assert_int_equal(state_of(plain, "s0"), -1);
    assert_int_equal(__atomic_load_n(&fails_seen, __ATOMIC_SEQ_CST), 0);
    hs_node_free(wrong);
    hs_node_free(plain);
    for (int i = 0; i < 3; i++)
        hs_node_free(all[i]);
}

static void keys_rotate_without_downtime(void **state)
{
    (void)state;
    __atomic_store_n(&fails_seen, 0, __ATOMIC_SEQ_CST);
    hs_node *n[3];
    n[0] = node_up(&(spec){"r0", NULL, {K1}, 0}, NULL);
    n[1] = node_up(&(spec){"r1", NULL, {K1}, 0}, addr_of(n[0]));
    n[2] = node_up(&(spec){"r2", NULL, {K1}, 0}, addr_of(n[0]));
    const char *names[] = {"r0", "r1", "r2"};
    assert_true(all_alive(n, 3, names, 3, WAIT_MS));

    /* Install, then use, then remove: one node at a time, gossip running. */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(hs_node_key_add(n[i], K2), HS_OK);
        assert_int_equal(hs_node_key_add(n[i], K2), HS_OK); /* idempotent */
        sleep_ms(150);
    }
    for (int i = 0; i < 3; i++) {
        assert_int_equal(hs_node_key_use(n[i], K2), HS_OK);
        sleep_ms(150);
    }
    for (int i = 0; i < 3; i++) {
        assert_int_equal(hs_node_key_remove(n[i], K2), HS_ESTATE); /* primary */
        assert_int_equal(hs_node_key_remove(n[i], K1), HS_OK);
        assert_int_equal(hs_node_key_remove(n[i], K1), HS_ENOTFOUND);
        sleep_ms(150);
    }
    sleep_ms(1500); /* longer than detection takes */
    assert_true(all_alive(n, 3, names, 3, 100));
    assert_int_equal(__atomic_load_n(&fails_seen, __ATOMIC_SEQ_CST), 0);

    hs_key_info keys[HS_KEYS_MAX];
    size_t count = 0;
    assert_int_equal(hs_node_keys(n[0], keys, HS_KEYS_MAX, &count), HS_OK);
    assert_int_equal(count, 1);
    assert_string_equal(keys[0].key, K2);
    assert_true(keys[0].primary);
    char id[HS_KEY_ID_LEN];
    hs_key_id(K2, id, sizeof id);
    assert_string_equal(keys[0].id, id);
    assert_int_equal(hs_node_key_add(n[0], K1), HS_OK);
    assert_int_equal(hs_node_keys(n[0], keys, 1, &count), HS_ENOSPC);
    assert_int_equal(count, 2);
    assert_int_equal(hs_node_keys(n[0], keys, HS_KEYS_MAX, &count), HS_OK);
    assert_false(keys[1].primary);
    assert_int_equal(hs_node_key_use(n[0], K3), HS_ENOTFOUND);
    assert_int_equal(hs_node_key_add(n[0], "AAEC"), HS_EINVAL);
    assert_int_equal(hs_node_key_remove(n[0], K1), HS_OK);

    /* A node still on the old key alone is now an outsider. */
    hs_node *old = node_up(&(spec){"old", NULL, {K1}, 0}, addr_of(n[0]));
    assert_true(rejected_reaches(n[0], HS_EKEY, 1));
    assert_int_equal(state_of(n[0], "old"), -1);
    hs_node_free(old);

    /* A plaintext node cannot take keys. */
    hs_node *p = node_up(&(spec){"p", NULL, {NULL}, 0}, NULL);
    assert_int_equal(hs_node_key_add(p, K1), HS_ESTATE);
    assert_int_equal(hs_node_keys(p, keys, HS_KEYS_MAX, &count), HS_OK);
    assert_int_equal(count, 0);
    hs_node_free(p);
    for (int i = 0; i < 3; i++)
        hs_node_free(n[i]);
}

static void every_refusal_is_counted_by_reason(void **state)
{
    (void)state;
    hs_node *n = node_up(&(spec){"t0", NULL, {K1}, 200}, NULL);
    sender s = sender_to(addr_of(n));
    uint8_t buf[3000];
    size_t len;

    /* A well-sealed datagram opens... */
    len = sealed_msg(buf, sizeof buf, K1, "guard", wall_ms());
    send_bytes(&s, buf, len);
    uint64_t end = now_ms() + WAIT_MS;
    while (opened(n) < 1 && now_ms() < end)
        sleep_ms(10);
    assert_int_equal(opened(n), 1);
    /* ...once: the same bytes again are a replay. */
    send_bytes(&s, buf, len);
    assert_true(rejected_reaches(n, HS_EREPLAY, 1));
    /* Stamped outside the 2 s window, either side. */
    len = sealed_msg(buf, sizeof buf, K1, "guard", wall_ms() - 10000);
    send_bytes(&s, buf, len);
    len = sealed_msg(buf, sizeof buf, K1, "guard", wall_ms() + 10000);
    send_bytes(&s, buf, len);
    assert_true(rejected_reaches(n, HS_EREPLAY, 3));
    /* Another cluster's datagram under the same key does not open. */
    len = sealed_msg(buf, sizeof buf, K1, "other", wall_ms());
    send_bytes(&s, buf, len);
    assert_true(rejected_reaches(n, HS_EAUTH, 1));
    /* Tampered: one bit of the ciphertext flipped. */
    len = sealed_msg(buf, sizeof buf, K1, "guard", wall_ms());
    buf[len - 20] ^= 1;
    send_bytes(&s, buf, len);
    assert_true(rejected_reaches(n, HS_EAUTH, 2));
    /* A key the node does not have. */
    len = sealed_msg(buf, sizeof buf, K2, "guard", wall_ms());
    send_bytes(&s, buf, len);
    assert_true(rejected_reaches(n, HS_EKEY, 1));
    /* Plaintext, even a perfectly good message. */
    len = plain_msg(buf, sizeof buf, "guard", HS_WIRE_SYN, "mallory", 1);
    send_bytes(&s, buf, len);
    assert_true(rejected_reaches(n, HS_EPLAINTEXT, 1));
    /* Larger than max_datagram (1400). */
    memset(buf, 0xAB, sizeof buf);
    send_bytes(&s, buf, 2000);
    assert_true(rejected_reaches(n, HS_ETOOBIG, 1));
    /* Junk, and a sealed header with nothing after it. */
    send_bytes(&s, buf, 100);
    assert_true(rejected_reaches(n, HS_EMAGIC, 1));
    const uint8_t hdr[] = {'H', 'S', HS_WIRE_PROTO_VERSION, 1, 0, 0};
    send_bytes(&s, hdr, sizeof hdr);
    assert_true(rejected_reaches(n, HS_ETRUNCATED, 1));
    assert_int_equal(opened(n), 1);

    /* A flood from one source: 200 a second get through, no more (the
     * bucket holds one second's worth). What the kernel drops for a full
     * socket buffer is not counted, so the bound is on what arrived. */
    uint64_t before = rejected(n, HS_ERATE) + rejected(n, HS_EKEY);
    uint64_t rate_before = rejected(n, HS_ERATE);
    len = sealed_msg(buf, sizeof buf, K2, "guard", wall_ms());
    uint64_t t0 = now_ms();
    for (int i = 0; i < 3000; i++) {
        send_bytes(&s, buf, len);
        if (i % 50 == 49)
            sleep_ms(1); /* mostly stay under the socket buffer */
    }
    uint64_t secs = (now_ms() - t0) / 1000 + 1;
    uint64_t arrived = 0, last = (uint64_t)-1;
    end = now_ms() + WAIT_MS;
    while (now_ms() < end) { /* until the counts stop moving */
        sleep_ms(200);
        arrived = rejected(n, HS_ERATE) + rejected(n, HS_EKEY) - before;
        if (arrived == last)
            break;
        last = arrived;
    }
    uint64_t limited = rejected(n, HS_ERATE) - rate_before;
    print_message("flood: %llu of %llu arrived were rate-limited (~%llu s)\n",
                  (unsigned long long)limited, (unsigned long long)arrived,
                  (unsigned long long)secs);
    assert_true(arrived >= 1000);
    assert_true(limited + 200 + 200 * secs >= arrived);
    assert_true(limited > 0);
    /* Another source is not held back by the first one's flood. */
    sender s2 = sender_to(addr_of(n));
    len = sealed_msg(buf, sizeof buf, K1, "guard", wall_ms());
    send_bytes(&s2, buf, len);
    end = now_ms() + WAIT_MS;
    while (opened(n) < 2 && now_ms() < end)
        sleep_ms(10);
    assert_int_equal(opened(n), 2);
    close(s.fd);
    close(s2.fd);
    hs_node_free(n);
}

/* A forged LEAVE about a live member: accepted by a plaintext cluster
 * (which is why sealing exists), refused by a sealed one. */
static void forged_leave_needs_the_key(void **state)
{
    (void)state;
    for (int sealed = 0; sealed < 2; sealed++) {
        __atomic_store_n(&fails_seen, 0, __ATOMIC_SEQ_CST);
        spec a = {"f0", NULL, {sealed ? K1 : NULL}, 0};
        spec b = {"f1", NULL, {sealed ? K1 : NULL}, 0};
        hs_node *n0 = node_up(&a, NULL);
        hs_node *n1 = node_up(&b, addr_of(n0));
        hs_node *all[] = {n0, n1};
        const char *names[] = {"f0", "f1"};
        assert_true(all_alive(all, 2, names, 2, WAIT_MS));

        uint8_t buf[512];
        size_t len = plain_msg(buf, sizeof buf, "guard", HS_WIRE_LEAVE, "f1",
                               hs_node_generation(n1));
        sender s = sender_to(addr_of(n0));
        send_bytes(&s, buf, len);
        if (sealed) {
            assert_true(rejected_reaches(n0, HS_EPLAINTEXT, 1));
            sleep_ms(500);
            assert_int_equal(state_of(n0, "f1"), HS_STATE_ALIVE);
            assert_int_equal(__atomic_load_n(&fails_seen, __ATOMIC_SEQ_CST), 0);
        } else {
            uint64_t end = now_ms() + WAIT_MS;
            while (state_of(n0, "f1") != HS_STATE_LEFT && now_ms() < end)
                sleep_ms(10);
            assert_int_equal(state_of(n0, "f1"), HS_STATE_LEFT);
        }
        close(s.fd);
        hs_node_free(n0);
        hs_node_free(n1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keys_are_generated_and_named),
        cmocka_unit_test(bad_key_configs_are_refused),
        cmocka_unit_test(sealed_cluster_keeps_outsiders_out),
        cmocka_unit_test(keys_rotate_without_downtime),
        cmocka_unit_test(every_refusal_is_counted_by_reason),
        cmocka_unit_test(forged_leave_needs_the_key),
    };
    return cmocka_run_group_tests_name("guard", tests, NULL, NULL);
}
