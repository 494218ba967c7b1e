/*
 * inspect.c — read-only accessors over the core's records for the
 * simulator's meters and the core's property tests (core.h, "Inspection").
 * They live apart from the queries the runtime uses so that the record
 * layout (member.h) stays private to the core: a test or a meter that
 * reads versions and tombstones goes through these few functions instead
 * of including core_impl.h.
 */
#include "membership/core_impl.h"

static void fill_versions(const hs_mrec *m, hs_member_versions *out)
{
    *out = (hs_member_versions){.name = m->name,
                                .generation = m->generation,
                                .state = (hs_member_state)m->state,
                                .is_self = m->is_self,
                                .max_version = m->max_version,
                                .wr_version = m->wr_version,
                                .hb_version = m->hb_version,
                                .gc_version = m->gc_version,
                                .seen_version = m->seen_version};
}

static const hs_mrec *live_member(const hs_core *c, const char *name)
{
    const hs_mrec *m = name ? hs__members_find(&c->members, name) : NULL;
    return m && m->state != HS_STATE_REAPED ? m : NULL;
}

hs_err hs__core_member_versions(const hs_core *c, const char *name,
                                hs_member_versions *out)
{
    const hs_mrec *m = live_member(c, name);
    if (!m)
        return HS_ENOTFOUND;
    fill_versions(m, out);
    return HS_OK;
}

hs_err hs__core_member_versions_at(const hs_core *c, size_t i,
                                   hs_member_versions *out)
{
    if (i >= c->members.n_sorted)
        return HS_ENOTFOUND;
    fill_versions(c->members.sorted[i], out);
    return HS_OK;
}

static void fill_entry(const hs_kv *kv, hs_core_entry *out)
{
    *out = (hs_core_entry){.key = kv->key,
                           .value = kv->value,
                           .len = kv->len,
                           .version = kv->version,
                           .tombstone = kv->tombstone};
}

hs_err hs__core_member_entry(const hs_core *c, const char *name, uint32_t k,
                             hs_core_entry *out)
{
    const hs_mrec *m = live_member(c, name);
    if (!m || k >= m->n_kv)
        return HS_ENOTFOUND;
    fill_entry(&m->kv[k], out);
    return HS_OK;
}

hs_err hs__core_member_entry_find(const hs_core *c, const char *name,
                                  const char *key, hs_core_entry *out)
{
    const hs_mrec *m = live_member(c, name);
    int at = m && key ? hs__kv_find(m, key) : -1;
    if (at < 0)
        return HS_ENOTFOUND;
    fill_entry(&m->kv[at], out);
    return HS_OK;
}

uint64_t hs__core_round(const hs_core *c)
{
    return c->round;
}

uint64_t hs__core_generation(const hs_core *c)
{
    return c->cfg.generation;
}

bool hs__core_yielded(const hs_core *c)
{
    return c->yielded;
}
