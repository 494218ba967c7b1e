/*
 * local.c — this node's own writes: setting and deleting its keys (names
 * checked, reserved prefixes refused, every entry small enough to travel
 * in one datagram) and leaving the cluster.
 */
#include <stdlib.h>
#include <string.h>

#include "membership/gossip.h"

/* ---- Local state -------------------------------------------------------- */

bool hs__core_key_is_reserved(const char *key)
{
    return strncmp(key, HS_KEY_PREFIX, strlen(HS_KEY_PREFIX)) == 0;
}

/* Largest message a single entry of this size would need: base message
 * with the longest names, one delta with the longest name and address, and
 * the entry. An entry that cannot fit one datagram could never be sent and
 * would stop its member's state at a gap forever, so it is refused. */
bool hs__core_entry_fits(const hs_core *c, const char *key, size_t len)
{
    char longname[HS_WIRE_MAX_NAME + 1], longaddr[HS_WIRE_MAX_ADDR + 1];
    memset(longname, 'x', HS_WIRE_MAX_NAME);
    longname[HS_WIRE_MAX_NAME] = 0;
    memset(longaddr, 'x', HS_WIRE_MAX_ADDR);
    longaddr[HS_WIRE_MAX_ADDR] = 0;
    hs_wire_msg msg = {.type = HS_WIRE_ACK,
                       .cluster = c->cluster,
                       .sender = {c->name, c->cfg.generation, c->addr},
                       .range_lo = "",
                       .range_hi = ""};
    hs_wire_delta d = {.name = longname,
                       .generation = UINT64_MAX >> 2,
                       .addr = longaddr,
                       .from_version = UINT64_MAX >> 12,
                       .to_version = UINT64_MAX >> 11,
                       .gc_version = UINT64_MAX >> 12,
                       .left_version = UINT64_MAX >> 11,
                       .heartbeat = UINT64_MAX >> 11,
                       .dead = true};
    hs_wire_entry e = {.key = key,
                       .value = NULL,
                       .value_len = len,
                       .version = UINT64_MAX >> 11};
    size_t need = hs__wire_base_size(&msg) + hs__wire_delta_size(&d) +
                  hs__wire_entry_size(&e);
    return need <= c->cfg.max_datagram;
}

static hs_err check_write(hs_core *c, const char *key)
{
    if (!key || !hs__wire_valid_name(key, HS_WIRE_MAX_KEY))
        return HS_EINVAL;
    if (hs__core_key_is_reserved(key))
        return HS_ERESERVED;
    if (c->self->state == HS_STATE_LEFT)
        return HS_ESTATE;
    return HS_OK;
}

hs_err hs__core_set(hs_core *c, const char *key, const void *value, size_t len,
                    uint64_t now)
{
    hs__core_advance(c, now);
    hs_err err = check_write(c, key);
    if (err != HS_OK)
        return err;
    if (len > HS_WIRE_MAX_VALUE || !hs__core_entry_fits(c, key, len))
        return HS_ETOOBIG;
    if (len && !value)
        return HS_EINVAL;
    hs_mrec *s = c->self;
    int at = hs__kv_find(s, key);
    if (at < 0 && hs__announce_user_keys(s) >= c->cfg.max_keys)
        return HS_EFULL;
    uint64_t old = s->max_version;
    err = hs__kv_put(s, key, value, len, false, old + 1, c->now);
    if (err != HS_OK)
        return err;
    s->max_version = s->wr_version = old + 1;
    hs__view_touch(c);
    hs__core_mark_hot(c, s, old);
    hs__core_update_deadline(c);
    return HS_OK;
}

hs_err hs__core_del(hs_core *c, const char *key, uint64_t now)
{
    hs__core_advance(c, now);
    hs_err err = check_write(c, key);
    if (err != HS_OK)
        return err;
    hs_mrec *s = c->self;
    int at = hs__kv_find(s, key);
    if (at < 0 || s->kv[at].tombstone)
        return HS_ENOTFOUND;
    uint64_t old = s->max_version;
    err = hs__kv_put(s, key, NULL, 0, true, old + 1, c->now);
    if (err != HS_OK)
        return err;
    s->max_version = s->wr_version = old + 1;
    hs__view_touch(c);
    hs__core_mark_hot(c, s, old);
    hs__core_update_deadline(c);
    return HS_OK;
}

hs_err hs__core_leave(hs_core *c, uint64_t now)
{
    hs__core_advance(c, now);
    hs_mrec *s = c->self;
    if (s->state == HS_STATE_LEFT)
        return HS_ESTATE;
    uint64_t old = s->max_version;
    /* The leave takes a version of its own so that every digest that has
     * not seen it differs from ours and pulls it. */
    s->max_version = s->wr_version = old + 1;
    s->left_version = s->max_version;
    hs__view_touch(c);
    s->state = HS_STATE_LEFT;
    s->state_since = c->now;
    hs__core_mark_hot(c, s, old);
    hs__gossip_send_leave(c);
    hs__core_update_deadline(c);
    return HS_OK;
}
