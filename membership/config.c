/*
 * config.c — the one option table, and the opaque hs_config set through it.
 *
 * Every knob of a node is one row here: its name (which is also hearsayd's
 * flag and config-file key), type, default, bounds and a line of help.
 * hs_config_new() applies the defaults from the rows, the setters check
 * the rows' bounds, and the introspection functions hand the rows out, so
 * the daemon's flags, its --help and the docs' tables are built from (or
 * checked against) this table instead of copying it. A row's position is
 * part of the ABI: rows are only ever appended.
 *
 * Why opaque and by name rather than a struct the caller fills: a struct
 * a program allocates fixes its size at compile time, so a newer library
 * could never add a field without writing past an old program's copy.
 * Setters by name cost a string compare at configuration time, which
 * happens once per node.
 *
 * The protocol's defaults must agree with the core's hs__core_config_init()
 * (the simulator and the core tests use that directly); test_config checks
 * every such row against it.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "membership/config.h"
#include "membership/core.h"
#include "wire/seal.h"
#include "wire/wire.h"

/* The limits the header publishes are the ones the core enforces. */
_Static_assert(HS_NAME_MAX == HS_WIRE_MAX_NAME, "name limit");
_Static_assert(HS_KEY_MAX == HS_WIRE_MAX_KEY, "key limit");
_Static_assert(HS_VALUE_MAX == HS_WIRE_MAX_VALUE, "value limit");
_Static_assert(HS_DATAGRAM_MIN == HS_WIRE_MIN_DATAGRAM, "datagram floor");
_Static_assert(HS_DATAGRAM_MAX == HS_WIRE_MAX_DATAGRAM, "datagram ceiling");
_Static_assert(HS_SEAL_BYTES == HS_SEAL_OVERHEAD, "seal overhead");
_Static_assert(sizeof HS_KEY_RESERVED == sizeof HS_KEY_PREFIX,
               "reserved key prefix");

typedef struct opt_row {
    hs_option pub;
    size_t off;   /* of the field in struct hs_config */
    size_t width; /* its size: 4 or 8 (a number, or a string's pointer) */
} opt_row;

#define F(field)                                                               \
    offsetof(struct hs_config, field), sizeof(((struct hs_config *)0)->field)
#define U32 UINT32_MAX

static const char *const modes[] = {"push-pull", "pull", "push", NULL};
static const char *const levels[] = {"error", "warn", "info", "debug", NULL};

/* Help lines say what a knob does; the default and bounds are columns of
 * their own, so a program prints them as it likes. */
static const opt_row rows[] = {
    {{"name", HS_OPT_STR, "NAME",
      "unique member name: 1..128 printable ASCII bytes without spaces", NULL,
      0, 0, 0, 0, NULL},
     F(name)},
    {{"cluster", HS_OPT_STR, "NAME",
      "cluster name; messages of other clusters are dropped", "default", 0, 0,
      0, 0, NULL},
     F(cluster)},
    {{"bind", HS_OPT_ADDR, "HOST:PORT", "gossip (UDP) address",
      "127.0.0.1:7946", 0, 0, 0, 0, NULL},
     F(bind)},
    {{"advertise", HS_OPT_ADDR, "HOST:PORT",
      "address peers use to reach this node (default: the bound one)", NULL, 0,
      0, 0, 0, NULL},
     F(advertise)},
    {{"generation", HS_OPT_UINT, "N",
      "this incarnation's generation; 0: wall-clock ms at creation", "0", 0,
      UINT64_C(1) << 62, 0, 0, NULL},
     F(generation)},
    {{"seed", HS_OPT_UINT, "N", "seed of the peer-choice PRNG; 0: from the OS",
      "0", 0, UINT64_MAX, 0, 0, NULL},
     F(seed)},
    {{"mode", HS_OPT_ENUM, "MODE", "gossip exchange: push-pull, pull or push",
      "push-pull", 0, 2, 0, 0, modes},
     F(mode)},
    {{"gossip-interval", HS_OPT_MS, "DUR", "time between gossip rounds",
      "500ms", 1, U32, 0, 0, NULL},
     F(gossip_interval_ms)},
    {{"heartbeat-interval", HS_OPT_MS, "DUR",
      "time between heartbeat increments", "500ms", 0, U32, 0, 0, NULL},
     F(heartbeat_interval_ms)},
    {{"fanout", HS_OPT_UINT, "N", "peers per gossip round", "1", 1, 16, 0, 0,
      NULL},
     F(fanout)},
    {{"phi-threshold", HS_OPT_DOUBLE, "PHI",
      "suspicion level that makes a member suspect; 0 disables", "8", 0, 0, 0,
      1000, NULL},
     F(phi_threshold)},
    {{"dead-after", HS_OPT_MS, "DUR", "suspect for this long: dead", "500ms", 0,
      U32, 0, 0, NULL},
     F(dead_after_ms)},
    {{"reap-dead-after", HS_OPT_MS, "DUR",
      "dead members are forgotten after this", "24h", 0, U32, 0, 0, NULL},
     F(reap_dead_after_ms)},
    {{"reap-left-after", HS_OPT_MS, "DUR",
      "members that left are forgotten after this", "1h", 0, U32, 0, 0, NULL},
     F(reap_left_after_ms)},
    {{"tombstone-gc", HS_OPT_MS, "DUR", "deleted tags are remembered this long",
      "30m", 0, U32, 0, 0, NULL},
     F(tombstone_gc_ms)},
    {{"max-datagram", HS_OPT_UINT, "BYTES", "largest datagram sent", "1400",
      HS_DATAGRAM_MIN, HS_DATAGRAM_MAX, 0, 0, NULL},
     F(max_datagram)},
    {{"max-members", HS_OPT_UINT, "N", "largest cluster accepted", "16384", 1,
      U32, 0, 0, NULL},
     F(max_members)},
    {{"max-keys", HS_OPT_UINT, "N", "most keys per member", "256", 1, U32, 0, 0,
      NULL},
     F(max_keys)},
    /* Pods behind a headless service come and go over minutes; 30 s keeps
     * the seed list current at one lookup per node per half minute. */
    {{"resolve-interval", HS_OPT_MS, "DUR",
      "seed DNS names are re-resolved this often; 0: once", "30s", 0, U32, 0, 0,
      NULL},
     F(resolve_interval_ms)},
    {{"log-level", HS_OPT_ENUM, "LEVEL", "error, warn, info or debug", "warn",
      0, 3, 0, 0, levels},
     F(log_level)},
    /* A minute: NTP keeps hosts far closer than that, and a replay inside
     * the window is still caught by the nonce cache. 16384 nonces cover a
     * minute of a node hearing ~270 datagrams a second (docs/security.md).
     * Below a second, ordinary clock skew would refuse honest datagrams. */
    {{"replay-window", HS_OPT_MS, "DUR",
      "sealed datagrams stamped further away are refused as replays", "1m",
      1000, U32, 0, 0, NULL},
     F(replay_window_ms)},
    {{"replay-cache-size", HS_OPT_UINT, "N",
      "nonces of sealed datagrams remembered against replays", "16384", 1,
      1u << 24, 0, 0, NULL},
     F(replay_cache_size)},
    /* A peer sends a few datagrams per gossip interval; 1000 a second
     * leaves room for 10 ms intervals and a seed's bursts. */
    {{"max-source-rate", HS_OPT_UINT, "N",
      "datagrams accepted per second from one address; 0: no limit", "1000", 0,
      U32, 0, 0, NULL},
     F(max_datagrams_per_sec_per_source)},
    {{"max-pending-sends", HS_OPT_UINT, "N",
      "outgoing datagrams queued; more are dropped", "1024", 1, U32, 0, 0,
      NULL},
     F(max_pending_sends)},
};
#define N_ROWS (sizeof rows / sizeof *rows)

#undef F
#undef U32

/* ---- Introspection ------------------------------------------------------ */

HS_EXPORT size_t hs_option_count(void)
{
    return N_ROWS;
}

HS_EXPORT const hs_option *hs_option_at(size_t i)
{
    return i < N_ROWS ? &rows[i].pub : NULL;
}

static const opt_row *find_row(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < N_ROWS; i++)
        if (strcmp(rows[i].pub.name, name) == 0)
            return &rows[i];
    return NULL;
}

HS_EXPORT const hs_option *hs_option_find(const char *name)
{
    const opt_row *r = find_row(name);
    return r ? &r->pub : NULL;
}

/* ---- Field access ------------------------------------------------------- */

static void *field(const hs_config *cfg, const opt_row *r)
{
    return (char *)cfg + r->off;
}

static uint64_t load_uint(const hs_config *cfg, const opt_row *r)
{
    if (r->pub.type == HS_OPT_ENUM) {
        int v;
        memcpy(&v, field(cfg, r), sizeof v);
        return (uint64_t)v;
    }
    if (r->width == 8) {
        uint64_t v;
        memcpy(&v, field(cfg, r), sizeof v);
        return v;
    }
    uint32_t v;
    memcpy(&v, field(cfg, r), sizeof v);
    return v;
}

static void store_uint(hs_config *cfg, const opt_row *r, uint64_t v)
{
    if (r->pub.type == HS_OPT_ENUM) {
        int e = (int)v;
        memcpy(field(cfg, r), &e, sizeof e);
    } else if (r->width == 8) {
        memcpy(field(cfg, r), &v, sizeof v);
    } else {
        uint32_t u = (uint32_t)v;
        memcpy(field(cfg, r), &u, sizeof u);
    }
}

/* A string option: the field is a char * the configuration owns. */
static bool is_text(const opt_row *r)
{
    return r->pub.type == HS_OPT_STR || r->pub.type == HS_OPT_ADDR;
}

static bool is_uint(hs_option_type t)
{
    return t == HS_OPT_UINT || t == HS_OPT_MS || t == HS_OPT_ENUM;
}

/* ---- Parsing and formatting --------------------------------------------- */

static hs_err parse_uint(const char *s, uint64_t *out)
{
    if (!s || !isdigit((unsigned char)*s))
        return HS_EINVAL;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return HS_EINVAL;
    *out = v;
    return HS_OK;
}

HS_EXPORT hs_err hs_duration_parse(const char *s, uint64_t *out)
{
    if (!s || !(isdigit((unsigned char)*s) || *s == '.'))
        return HS_EINVAL;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || end == s || !isfinite(v) || v < 0)
        return HS_EINVAL;
    double scale;
    if (*end == '\0' || strcmp(end, "ms") == 0)
        scale = 1;
    else if (strcmp(end, "s") == 0)
        scale = 1e3;
    else if (strcmp(end, "m") == 0)
        scale = 60e3;
    else if (strcmp(end, "h") == 0)
        scale = 3600e3;
    else
        return HS_EINVAL;
    double ms = v * scale;
    if (!out || ms > (double)UINT64_MAX / 2)
        return HS_EINVAL;
    *out = (uint64_t)llround(ms);
    return HS_OK;
}

static void format_ms(uint64_t ms, char *buf, size_t len)
{
    if (ms && ms % 3600000u == 0)
        snprintf(buf, len, "%lluh", (unsigned long long)(ms / 3600000u));
    else if (ms && ms % 60000u == 0)
        snprintf(buf, len, "%llum", (unsigned long long)(ms / 60000u));
    else if (ms && ms % 1000u == 0)
        snprintf(buf, len, "%llus", (unsigned long long)(ms / 1000u));
    else
        snprintf(buf, len, "%llums", (unsigned long long)ms);
}

/* Names and the cluster are checked when set, so a bad one is refused by
 * the setter that takes it rather than later by hs_node_new(). */
static hs_err check_str(const opt_row *r, const char *v)
{
    if (r->pub.type == HS_OPT_ADDR)
        return strlen(v) < HS_ADDRSTRLEN ? HS_OK : HS_EINVAL;
    return hs__wire_valid_name(v, HS_WIRE_MAX_NAME) ? HS_OK : HS_EINVAL;
}

static hs_err set_text(hs_config *cfg, const opt_row *r, const char *v)
{
    char **slot = field(cfg, r);
    if (!v) {
        if (r->pub.dflt)
            return HS_EINVAL; /* only options without a default unset */
        free(*slot);
        *slot = NULL;
        return HS_OK;
    }
    if (check_str(r, v) != HS_OK)
        return HS_EINVAL;
    char *copy = strdup(v);
    if (!copy)
        return HS_ENOMEM;
    free(*slot);
    *slot = copy;
    return HS_OK;
}

static hs_err set_uint_row(hs_config *cfg, const opt_row *r, uint64_t v)
{
    if (!is_uint(r->pub.type) || v < r->pub.min || v > r->pub.max)
        return HS_EINVAL;
    store_uint(cfg, r, v);
    return HS_OK;
}

static hs_err set_double_row(hs_config *cfg, const opt_row *r, double v)
{
    if (r->pub.type != HS_OPT_DOUBLE || !(v >= r->pub.min_double) ||
        !(v <= r->pub.max_double))
        return HS_EINVAL;
    memcpy(field(cfg, r), &v, sizeof v);
    return HS_OK;
}

static hs_err set_row_text(hs_config *cfg, const opt_row *r, const char *v)
{
    uint64_t u = 0;
    switch (r->pub.type) {
    case HS_OPT_STR:
    case HS_OPT_ADDR:
        return set_text(cfg, r, v);
    case HS_OPT_UINT:
        if (parse_uint(v, &u) != HS_OK)
            return HS_EINVAL;
        return set_uint_row(cfg, r, u);
    case HS_OPT_MS:
        if (hs_duration_parse(v, &u) != HS_OK)
            return HS_EINVAL;
        return set_uint_row(cfg, r, u);
    case HS_OPT_DOUBLE: {
        if (!v || !*v)
            return HS_EINVAL;
        errno = 0;
        char *end;
        double d = strtod(v, &end);
        if (errno || *end)
            return HS_EINVAL;
        return set_double_row(cfg, r, d);
    }
    case HS_OPT_ENUM:
        for (size_t i = 0; v && r->pub.choices[i]; i++)
            if (strcmp(r->pub.choices[i], v) == 0)
                return set_uint_row(cfg, r, i);
        return HS_EINVAL;
    }
    return HS_EINVAL;
}

/* ---- The configuration -------------------------------------------------- */

/* Keys are secrets: their copies are cleared before the memory goes back
 * (through a volatile pointer, so the stores are not optimised away). */
static void wipe(char *p, size_t len)
{
    volatile char *v = p;
    while (len--)
        *v++ = 0;
}

HS_EXPORT void hs_config_free(hs_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < N_ROWS; i++)
        if (is_text(&rows[i]))
            free(*(char **)field(cfg, &rows[i]));
    for (size_t i = 0; i < cfg->n_keys; i++) {
        if (cfg->keys[i]) {
            wipe(cfg->keys[i], strlen(cfg->keys[i]));
            free(cfg->keys[i]);
        }
    }
    free(cfg->keys);
    free(cfg);
}

HS_EXPORT hs_err hs_config_new(hs_config **out)
{
    if (!out)
        return HS_EINVAL;
    *out = NULL;
    hs_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg)
        return HS_ENOMEM;
    hs_err err = HS_OK;
    for (size_t i = 0; i < N_ROWS && err == HS_OK; i++)
        if (rows[i].pub.dflt)
            err = set_row_text(cfg, &rows[i], rows[i].pub.dflt);
    if (err != HS_OK)
        goto fail;
    *out = cfg;
    return HS_OK;
fail:
    hs_config_free(cfg);
    return err;
}

HS_EXPORT hs_err hs_config_dup(const hs_config *src, hs_config **out)
{
    if (!out)
        return HS_EINVAL;
    *out = NULL;
    if (!src)
        return HS_EINVAL;
    hs_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg)
        return HS_ENOMEM;
    *cfg = *src;
    /* Nothing below is owned yet, so a failure frees only what was made. */
    for (size_t i = 0; i < N_ROWS; i++)
        if (is_text(&rows[i]))
            *(char **)field(cfg, &rows[i]) = NULL;
    cfg->keys = NULL;
    cfg->n_keys = 0;
    hs_err err = HS_ENOMEM;
    for (size_t i = 0; i < N_ROWS; i++) {
        if (!is_text(&rows[i]))
            continue;
        const char *s = *(char *const *)field(src, &rows[i]);
        if (s && !(*(char **)field(cfg, &rows[i]) = strdup(s)))
            goto fail;
    }
    if ((err = hs_config_set_keys(cfg, (const char *const *)src->keys,
                                  src->n_keys)) != HS_OK)
        goto fail;
    *out = cfg;
    return HS_OK;
fail:
    hs_config_free(cfg);
    return err;
}

HS_EXPORT hs_err hs_config_set_str(hs_config *cfg, const char *name,
                                   const char *value)
{
    if (!cfg)
        return HS_EINVAL;
    const opt_row *r = find_row(name);
    if (!r)
        return HS_ENOTFOUND;
    return set_row_text(cfg, r, value);
}

HS_EXPORT hs_err hs_config_set_uint(hs_config *cfg, const char *name,
                                    uint64_t value)
{
    if (!cfg)
        return HS_EINVAL;
    const opt_row *r = find_row(name);
    if (!r)
        return HS_ENOTFOUND;
    return set_uint_row(cfg, r, value);
}

HS_EXPORT hs_err hs_config_set_double(hs_config *cfg, const char *name,
                                      double value)
{
    if (!cfg)
        return HS_EINVAL;
    const opt_row *r = find_row(name);
    if (!r)
        return HS_ENOTFOUND;
    return set_double_row(cfg, r, value);
}

HS_EXPORT hs_err hs_config_get_str(const hs_config *cfg, const char *name,
                                   char *buf, size_t len)
{
    if (!cfg || !buf || !len)
        return HS_EINVAL;
    const opt_row *r = find_row(name);
    if (!r)
        return HS_ENOTFOUND;
    char tmp[HS_NAME_MAX + 1] = "";
    const char *s = tmp;
    switch (r->pub.type) {
    case HS_OPT_STR:
    case HS_OPT_ADDR:
        s = *(char *const *)field(cfg, r);
        if (!s)
            s = "";
        break;
    case HS_OPT_UINT:
        snprintf(tmp, sizeof tmp, "%llu",
                 (unsigned long long)load_uint(cfg, r));
        break;
    case HS_OPT_MS:
        format_ms(load_uint(cfg, r), tmp, sizeof tmp);
        break;
    case HS_OPT_DOUBLE: {
        double d;
        memcpy(&d, field(cfg, r), sizeof d);
        snprintf(tmp, sizeof tmp, "%g", d);
        break;
    }
    case HS_OPT_ENUM: {
        uint64_t v = load_uint(cfg, r);
        s = v <= r->pub.max ? r->pub.choices[v] : "?";
        break;
    }
    }
    if (strlen(s) >= len)
        return HS_ENOSPC;
    memcpy(buf, s, strlen(s) + 1);
    return HS_OK;
}

HS_EXPORT hs_err hs_config_get_uint(const hs_config *cfg, const char *name,
                                    uint64_t *out)
{
    if (!cfg || !out)
        return HS_EINVAL;
    const opt_row *r = find_row(name);
    if (!r)
        return HS_ENOTFOUND;
    if (!is_uint(r->pub.type))
        return HS_EINVAL;
    *out = load_uint(cfg, r);
    return HS_OK;
}

HS_EXPORT hs_err hs_config_get_double(const hs_config *cfg, const char *name,
                                      double *out)
{
    if (!cfg || !out)
        return HS_EINVAL;
    const opt_row *r = find_row(name);
    if (!r)
        return HS_ENOTFOUND;
    if (r->pub.type != HS_OPT_DOUBLE)
        return HS_EINVAL;
    memcpy(out, field(cfg, r), sizeof *out);
    return HS_OK;
}

HS_EXPORT hs_err hs_config_set_log(hs_config *cfg, hs_log_cb cb, void *arg)
{
    if (!cfg)
        return HS_EINVAL;
    cfg->log_cb = cb;
    cfg->log_arg = arg;
    return HS_OK;
}

HS_EXPORT hs_err hs_config_set_keys(hs_config *cfg, const char *const *keys,
                                    size_t n_keys)
{
    if (!cfg || (n_keys && !keys) || n_keys > HS_KEYS_MAX)
        return HS_EINVAL;
    char **copy = NULL;
    size_t made = 0;
    if (n_keys) {
        if (!(copy = calloc(n_keys, sizeof *copy)))
            return HS_ENOMEM;
        for (; made < n_keys; made++) {
            if (!keys[made] || !(copy[made] = strdup(keys[made])))
                break;
        }
    }
    if (made < n_keys) {
        hs_err err = keys[made] ? HS_ENOMEM : HS_EINVAL;
        for (size_t i = 0; i < made; i++) {
            wipe(copy[i], strlen(copy[i]));
            free(copy[i]);
        }
        free(copy);
        return err;
    }
    for (size_t i = 0; i < cfg->n_keys; i++) {
        wipe(cfg->keys[i], strlen(cfg->keys[i]));
        free(cfg->keys[i]);
    }
    free(cfg->keys);
    cfg->keys = copy;
    cfg->n_keys = n_keys;
    return HS_OK;
}
