/*
 * lookup.c — what the runtime reads of the view: a member's information
 * by position or name, its keys one by one (reserved ones hidden), and
 * the core's counters.
 */
#include <string.h>

#include "membership/core_impl.h"

/* ---- Queries ------------------------------------------------------------ */

static void fill_info(const hs_core *c, const hs_mrec *m, uint64_t now,
                      hs_member_info *out)
{
    out->name = m->name;
    out->addr = m->addr;
    out->generation = m->generation;
    out->state = m->state;
    out->heartbeat = m->hb_version;
    out->max_version = m->max_version;
    out->state_since_ms = m->state_since;
    out->is_self = m->is_self;
    out->n_keys = hs__announce_user_keys(m);
    out->rec = m;
    out->phi = 0;
    if (!m->is_self &&
        (m->state == HS_STATE_ALIVE || m->state == HS_STATE_SUSPECT)) {
        hs_phi tmp;
        out->phi = hs__phi_value(hs__mrec_phi(m, &tmp), &c->phi, (double)now);
    }
}

size_t hs__core_member_count(const hs_core *c)
{
    return c->members.n_sorted;
}

hs_err hs__core_member_at(const hs_core *c, size_t i, uint64_t now,
                          hs_member_info *out)
{
    if (i >= c->members.n_sorted)
        return HS_ENOTFOUND;
    fill_info(c, c->members.sorted[i], now, out);
    return HS_OK;
}

hs_err hs__core_member_get(const hs_core *c, const char *name, uint64_t now,
                           hs_member_info *out)
{
    const hs_mrec *m = name ? hs__members_find(&c->members, name) : NULL;
    if (!m || m->state == HS_STATE_REAPED)
        return HS_ENOTFOUND;
    fill_info(c, m, now, out);
    return HS_OK;
}

hs_err hs__core_member_key(const hs_core *c, const char *name, uint32_t k,
                           const char **key, const uint8_t **value, size_t *len)
{
    const hs_mrec *m = name ? hs__members_find(&c->members, name) : NULL;
    if (!m || m->state == HS_STATE_REAPED)
        return HS_ENOTFOUND;
    for (uint32_t i = 0; i < m->n_kv; i++) {
        if (m->kv[i].tombstone || hs__core_key_is_reserved(m->kv[i].key))
            continue; /* announcement slots are not the member's keys */
        if (k-- == 0) {
            *key = m->kv[i].key;
            *value = m->kv[i].value;
            *len = m->kv[i].len;
            return HS_OK;
        }
    }
    return HS_ENOTFOUND;
}

bool hs__core_key_next(const hs_member_info *info, uint32_t *pos,
                       const char **key, const uint8_t **value, size_t *len)
{
    const hs_mrec *m = info->rec;
    while (*pos < m->n_kv &&
           (m->kv[*pos].tombstone || hs__core_key_is_reserved(m->kv[*pos].key)))
        (*pos)++; /* announcement slots are not the member's keys */
    if (*pos >= m->n_kv)
        return false;
    const hs_kv *kv = &m->kv[(*pos)++];
    *key = kv->key;
    *value = kv->value;
    *len = kv->len;
    return true;
}

const hs_core_stats *hs__core_stats_get(const hs_core *c)
{
    return &c->stats;
}
