/*
 * peers.c — whom to gossip with: random live peers, now and then a dead
 * one or a seed, as Cassandra and chitchat do.
 */
#include <stdlib.h>
#include <string.h>

#include "membership/gossip.h"

static bool is_live(const hs_mrec *m)
{
    return !m->is_self && *m->addr &&
           (m->state == HS_STATE_ALIVE || m->state == HS_STATE_SUSPECT);
}

static void target_add(hs_core *c, hs_targets *t, const char *addr)
{
    if (!*addr || strcmp(addr, c->addr) == 0)
        return;
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->addr[i], addr) == 0)
            return;
    if (t->n < sizeof t->addr / sizeof *t->addr)
        t->addr[t->n++] = addr;
    for (uint32_t i = 0; i < c->n_seeds; i++)
        if (strcmp(c->seeds[i], addr) == 0)
            t->seed = true;
}

/* k distinct random members satisfying pred, by partial Fisher-Yates
 * over a scan of the view. */
static void pick_scan(hs_core *c, hs_targets *t, uint32_t k,
                      bool (*pred)(const hs_mrec *), size_t *n_match)
{
    size_t n = c->members.n_sorted, nm = 0;
    size_t *idx = malloc((n ? n : 1) * sizeof *idx);
    if (!idx) {
        hs__core_nomem(c); /* this round goes to fewer peers */
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (pred(c->members.sorted[i]))
            idx[nm++] = i;
    for (size_t i = 0; i < k && i < nm; i++) {
        size_t j = i + hs__core_rand(c) % (nm - i);
        size_t tmp = idx[i];
        idx[i] = idx[j];
        idx[j] = tmp;
        target_add(c, t, c->members.sorted[idx[i]]->addr);
    }
    free(idx);
    if (n_match)
        *n_match = nm;
}

static bool is_dead(const hs_mrec *m)
{
    return !m->is_self && *m->addr && m->state == HS_STATE_DEAD;
}

static void count_peers(hs_core *c)
{
    if (!c->view_dirty)
        return;
    size_t nl = 0, nd = 0;
    for (size_t i = 0; i < c->members.n_sorted; i++) {
        nl += is_live(c->members.sorted[i]);
        nd += is_dead(c->members.sorted[i]);
    }
    c->n_live = nl;
    c->n_dead = nd;
    c->view_dirty = false;
}

/* k (<= 16) distinct random members satisfying pred, of the nm there are.
 * When they are at least a quarter of the view, by drawing members at
 * random and skipping misses (four draws each on average): scanning the
 * whole view every round made peer choice the largest cost of a round at
 * 1,000 members. Otherwise, or after too many misses, by a scan. Both
 * give every k-subset the same chance. */
static void pick_random(hs_core *c, hs_targets *t, uint32_t k,
                        bool (*pred)(const hs_mrec *), size_t nm)
{
    size_t n = c->members.n_sorted;
    if (k > nm)
        k = (uint32_t)nm;
    if (k == 0)
        return;
    if (k > 16 || 4 * nm < n) {
        pick_scan(c, t, k, pred, NULL);
        return;
    }
    const hs_mrec *got[16];
    uint32_t n_got = 0;
    for (uint32_t tries = 0; n_got < k && tries < 64u * k; tries++) {
        const hs_mrec *m = c->members.sorted[hs__core_rand(c) % n];
        bool dup = false;
        for (uint32_t i = 0; i < n_got; i++)
            dup |= got[i] == m;
        if (dup || !pred(m))
            continue;
        got[n_got++] = m;
    }
    if (n_got < k) {
        pick_scan(c, t, k, pred, NULL);
        return;
    }
    for (uint32_t i = 0; i < n_got; i++)
        target_add(c, t, got[i]->addr);
}

/* Who to gossip with this round: `fanout` random live peers; now and then
 * a dead one, so a healed partition merges back (probability
 * dead / (live + 1), Cassandra's rule); and a seed when we know no one, or
 * with probability seeds / (live + dead + 1), so clusters split at start-up
 * find each other through the seeds. */
void hs__peers_choose(hs_core *c, hs_targets *t)
{
    count_peers(c);
    size_t n_live = c->n_live, n_dead = c->n_dead;
    pick_random(c, t, c->cfg.fanout, is_live, n_live);
    if (n_dead && hs__core_rand01(c) < (double)n_dead / (double)(n_live + 1))
        pick_random(c, t, 1, is_dead, n_dead);
    if (c->n_seeds && !t->seed &&
        (n_live == 0 || hs__core_rand01(c) <
                            (double)c->n_seeds / (double)(n_live + n_dead + 1)))
        target_add(c, t, c->seeds[hs__core_rand(c) % c->n_seeds]);
    for (uint32_t i = 0; i < c->n_candidates; i++)
        target_add(c, t, c->candidates[i]);
}

void hs__peers_for_leave(hs_core *c, hs_targets *t, uint32_t k)
{
    pick_scan(c, t, k, is_live, NULL);
    for (uint32_t i = 0; t->n == 0 && i < c->n_seeds; i++)
        target_add(c, t, c->seeds[i]);
}
