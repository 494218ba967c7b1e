/*
 * query.c — queries with responses (serf's `serf query`): a question that
 * spreads to every member like a user event and whose answers come
 * straight back to the one node that asked.
 *
 * The question is an announcement (announce.c): a Query in one of the
 * origin's slots, so it reaches every member, survives loss and is
 * delivered at most once per (origin, generation, seq) exactly as a user
 * event is, under the same rate limit. It carries the origin's gossip
 * address, its query number and timeout, and optional filters (member
 * names, tags KEY=VALUE); a member that fails them does nothing.
 *
 * The answers do not gossip: each member that passes sends one ack at once
 * and, when its handler answers (hs__core_respond), one response, both as
 * a QueryResponse datagram (wire/query.c) to the origin's address. The
 * origin keeps each of its queries until the timeout, takes at most one
 * ack and one response per member (names are remembered by a 64-bit hash;
 * later copies are duplicates, dropped and counted) and at most
 * HS_QUERY_RESPONSES_MAX of each, and then reports the end. An answer for
 * a query that is not waiting (over, or of an earlier incarnation) is late:
 * counted, dropped. The origin answers its own query too, without a
 * datagram.
 *
 * Bounds: HS_QUERY_PENDING_MAX own queries at once; ASKED queries asked of
 * this node remembered for responding (the oldest forgotten first);
 * MAX_REPLIES answers queued for the runtime to hand out (the end of a
 * query is never dropped). Nothing here calls out: the runtime takes the
 * replies with hs__core_next_reply and calls the callbacks they carry.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "membership/core_impl.h"

/* Queries asked of this node that it can still answer. */
#define ASKED 64
/* Acks and responses queued for the runtime, ends excluded. */
#define MAX_REPLIES 4096
/* The default timeout's floor and multiplier (hearsay.h, hs_query_opts). */
#define MIN_DEFAULT_TIMEOUT_MS 2000
#define TIMEOUT_MULT 4

typedef struct pending {
    uint64_t id; /* 0: free */
    uint64_t deadline;
    hs_query_cb cb;
    void *arg;
    uint32_t n_acks, n_resps;
    uint32_t timeout_ms;
    uint64_t *seen; /* HS_QUERY_RESPONSES_MAX ack hashes, then as many
                       response hashes */
} pending;

typedef struct asked {
    uint64_t handle; /* 0: free */
    uint64_t id, generation;
    uint64_t deadline;
    bool local, responded;
    char origin[HS_WIRE_MAX_NAME + 1];
    char addr[HS_WIRE_MAX_ADDR + 1];
} asked;

typedef struct reply_item {
    struct reply_item *next;
    hs_core_reply r;
} reply_item;

struct hs_query_state {
    uint64_t next_id;     /* own queries, this core's life */
    uint64_t next_handle; /* queries asked of this node */
    pending own[HS_QUERY_PENDING_MAX];
    asked asked[ASKED];
    uint32_t asked_next;
    reply_item *head, *tail;
    uint32_t n_replies;
};

static struct hs_query_state *state(hs_core *c)
{
    if (!c->q)
        c->q = calloc(1, sizeof *c->q);
    return c->q;
}

void hs__query_free(hs_core *c)
{
    if (!c->q)
        return;
    for (unsigned i = 0; i < HS_QUERY_PENDING_MAX; i++)
        free(c->q->own[i].seen);
    for (reply_item *r = c->q->head, *next; r; r = next) {
        next = r->next;
        free(r);
    }
    free(c->q);
    c->q = NULL;
}

static uint64_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h ? h : 1;
}

/* Queues a reply; an end always, others up to MAX_REPLIES. */
static bool queue_reply(hs_core *c, const pending *p, hs_query_reply_kind kind,
                        const char *from, const uint8_t *payload, size_t len)
{
    struct hs_query_state *q = c->q;
    if (kind != HS_QUERY_DONE && q->n_replies >= MAX_REPLIES) {
        c->stats.query_responses_dropped++;
        return false;
    }
    reply_item *it = malloc(sizeof *it);
    if (!it) {
        hs__core_nomem(c);
        return false;
    }
    it->next = NULL;
    it->r = (hs_core_reply){.kind = kind,
                            .id = p->id,
                            .cb = p->cb,
                            .arg = p->arg,
                            .acks = p->n_acks,
                            .responses = p->n_resps,
                            .timeout_ms = p->timeout_ms,
                            .len = len};
    if (from)
        snprintf(it->r.from, sizeof it->r.from, "%s", from);
    if (len)
        memcpy(it->r.payload, payload, len);
    it->r.payload[len] = 0;
    if (q->tail)
        q->tail->next = it;
    else
        q->head = it;
    q->tail = it;
    if (kind != HS_QUERY_DONE)
        q->n_replies++;
    return true;
}

bool hs__core_next_reply(hs_core *c, hs_core_reply *out)
{
    struct hs_query_state *q = c->q;
    if (!q || !q->head)
        return false;
    reply_item *it = q->head;
    q->head = it->next;
    if (!q->head)
        q->tail = NULL;
    if (it->r.kind != HS_QUERY_DONE)
        q->n_replies--;
    *out = it->r;
    free(it);
    return true;
}

/* An ack or response for own query `id` from member `from`. */
static void take_answer(hs_core *c, uint64_t id, const char *from, bool ack,
                        const uint8_t *payload, size_t len)
{
    struct hs_query_state *q = c->q;
    pending *p = NULL;
    for (unsigned i = 0; q && i < HS_QUERY_PENDING_MAX && !p; i++)
        if (q->own[i].id == id && id)
            p = &q->own[i];
    if (!p) {
        c->stats.query_responses_late++;
        return;
    }
    uint32_t *n = ack ? &p->n_acks : &p->n_resps;
    uint64_t *seen = p->seen + (ack ? 0 : HS_QUERY_RESPONSES_MAX);
    uint64_t h = name_hash(from);
    for (uint32_t i = 0; i < *n; i++)
        if (seen[i] == h) {
            c->stats.query_responses_dropped++; /* a duplicate */
            return;
        }
    if (*n >= HS_QUERY_RESPONSES_MAX) {
        c->stats.query_responses_dropped++;
        return;
    }
    seen[(*n)++] = h;
    if (ack)
        c->stats.query_acks_received++;
    else
        c->stats.query_responses_received++;
    queue_reply(c, p, ack ? HS_QUERY_ACK : HS_QUERY_RESPONSE, from, payload,
                len);
}

/* Sends an ack or response for asked query x. */
static hs_err answer(hs_core *c, const asked *x, bool ack,
                     const uint8_t *payload, size_t len)
{
    if (x->local) {
        take_answer(c, x->id, c->name, ack, payload, len);
        return HS_OK;
    }
    hs_wire_response r = {.from_generation = c->cfg.generation,
                          .id = x->id,
                          .generation = x->generation,
                          .ack = ack,
                          .payload_len = len};
    snprintf(r.cluster, sizeof r.cluster, "%s", c->cluster);
    snprintf(r.from, sizeof r.from, "%s", c->name);
    if (len)
        memcpy(r.payload, payload, len);
    size_t cap = c->cfg.max_datagram, n = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) {
        hs__core_nomem(c);
        return HS_ENOMEM;
    }
    hs_err err = hs__wire_response_encode(&r, c->addr, buf, cap, &n);
    if (err != HS_OK) {
        free(buf);
        return err == HS_ENOSPC ? HS_ETOOBIG : err;
    }
    hs__core_send_raw(c, x->addr, buf, n);
    if (ack)
        c->stats.query_acks_sent++;
    else
        c->stats.query_responses_sent++;
    return HS_OK;
}

static bool tag_matches(const hs_mrec *self, const char *tag)
{
    const char *eq = strchr(tag, '=');
    char key[HS_WIRE_MAX_KEY + 1];
    size_t kl = eq ? (size_t)(eq - tag) : 0;
    if (!eq || kl == 0 || kl > HS_WIRE_MAX_KEY)
        return false;
    memcpy(key, tag, kl);
    key[kl] = 0;
    int i = hs__kv_find(self, key);
    if (i < 0 || self->kv[i].tombstone)
        return false;
    size_t vl = strlen(eq + 1);
    return self->kv[i].len == vl &&
           (vl == 0 || memcmp(self->kv[i].value, eq + 1, vl) == 0);
}

static bool passes(const hs_core *c, const hs_wire_announce *a)
{
    bool named = a->n_nodes == 0;
    for (uint32_t i = 0; i < a->n_nodes && !named; i++)
        named = strcmp(a->nodes[i], c->name) == 0;
    if (!named)
        return false;
    for (uint32_t i = 0; i < a->n_tags; i++)
        if (!tag_matches(c->self, a->tags[i]))
            return false;
    return true;
}

/* Remembers query a of origin m and reports it. */
static void ask(hs_core *c, const hs_mrec *m, const hs_wire_announce *a,
                bool local)
{
    struct hs_query_state *q = state(c);
    if (!q) {
        hs__core_nomem(c);
        return;
    }
    if (!passes(c, a)) {
        c->stats.queries_filtered++;
        return;
    }
    hs_core_user *u = malloc(sizeof *u + a->payload_len + 1);
    if (!u) {
        c->stats.events_dropped++;
        hs__core_nomem(c);
        return;
    }
    asked *x = &q->asked[q->asked_next];
    q->asked_next = (q->asked_next + 1) % ASKED;
    *x = (asked){.handle = ++q->next_handle,
                 .id = a->query_id,
                 .generation = m->generation,
                 .deadline = c->now + a->timeout_ms,
                 .local = local};
    snprintf(x->origin, sizeof x->origin, "%s", m->name);
    snprintf(x->addr, sizeof x->addr, "%s", a->addr);
    if (!local)
        c->stats.queries_received++;
    answer(c, x, true, NULL, 0); /* the ack, at once */

    u->ltime = 0;
    u->seq = a->seq;
    u->len = a->payload_len;
    u->local = local;
    snprintf(u->name, sizeof u->name, "%s", a->name);
    if (a->payload_len)
        memcpy(u->payload, a->payload, a->payload_len);
    u->payload[a->payload_len] = 0;
    hs_core_event *ev = hs__core_emit(c, HS_EVENT_QUERY, m, NULL, false);
    if (!ev) {
        free(u);
        return;
    }
    ev->user = u;
    ev->query_id = x->handle;
    ev->query_timeout_ms = a->timeout_ms;
}

void hs__query_deliver(hs_core *c, const hs_mrec *origin,
                       const hs_wire_announce *a)
{
    ask(c, origin, a, false);
}

/* ---- The origin --------------------------------------------------------- */

static uint32_t default_timeout(const hs_core *c)
{
    size_t n = c->members.n_sorted;
    double t = (double)c->cfg.gossip_interval_ms * TIMEOUT_MULT *
               ceil(log10((double)n + 1.0));
    if (t < MIN_DEFAULT_TIMEOUT_MS)
        t = MIN_DEFAULT_TIMEOUT_MS;
    return t > HS_QUERY_TIMEOUT_MAX ? HS_QUERY_TIMEOUT_MAX : (uint32_t)t;
}

/* Fills the filters of a from opts: HS_EINVAL for a bad one. */
static hs_err set_filters(hs_wire_announce *a, const hs_query_opts *o)
{
    if (o->n_nodes > HS_WIRE_MAX_QNODES || o->n_tags > HS_WIRE_MAX_QTAGS ||
        (o->n_nodes && !o->nodes) || (o->n_tags && !o->tags) ||
        o->timeout_ms > HS_WIRE_MAX_QTIMEOUT)
        return HS_EINVAL;
    for (size_t i = 0; i < o->n_nodes; i++) {
        if (!hs__wire_valid_name(o->nodes[i], HS_WIRE_MAX_NAME))
            return HS_EINVAL;
        snprintf(a->nodes[i], sizeof a->nodes[i], "%s", o->nodes[i]);
    }
    for (size_t i = 0; i < o->n_tags; i++) {
        const char *t = o->tags[i];
        const char *eq = t ? strchr(t, '=') : NULL;
        if (!eq || eq == t || (size_t)(eq - t) > HS_WIRE_MAX_KEY ||
            strlen(eq + 1) > HS_WIRE_MAX_NAME)
            return HS_EINVAL;
        for (const char *p = t; *p; p++)
            if ((p < eq && (*p < 0x21 || *p > 0x7e)) || *p < 0x20 || *p > 0x7e)
                return HS_EINVAL;
        snprintf(a->tags[i], sizeof a->tags[i], "%s", t);
    }
    a->n_nodes = (uint32_t)o->n_nodes;
    a->n_tags = (uint32_t)o->n_tags;
    return HS_OK;
}

hs_err hs__core_query(hs_core *c, const char *name, const void *payload,
                      size_t len, const hs_query_opts *opts, hs_query_cb cb,
                      void *arg, uint64_t now, uint64_t *id_out)
{
    hs__core_advance(c, now);
    if (id_out)
        *id_out = 0;
    if (!name || !hs__wire_valid_name(name, HS_WIRE_MAX_NAME) || !cb ||
        (len && !payload))
        return HS_EINVAL;
    if (len > HS_WIRE_MAX_PAYLOAD)
        return HS_ETOOBIG;
    struct hs_query_state *q = state(c);
    if (!q)
        return HS_ENOMEM;
    pending *p = NULL;
    for (unsigned i = 0; i < HS_QUERY_PENDING_MAX && !p; i++)
        if (!q->own[i].id)
            p = &q->own[i];
    if (!p)
        return HS_EFULL;
    hs_wire_announce *a = calloc(1, sizeof *a);
    uint64_t *seen = malloc(2 * HS_QUERY_RESPONSES_MAX * sizeof *seen);
    hs_err err = a && seen ? HS_OK : HS_ENOMEM;
    if (err != HS_OK)
        goto fail;
    hs_query_opts none = {0};
    const hs_query_opts *o = opts ? opts : &none;
    if ((err = set_filters(a, o)) != HS_OK)
        goto fail;
    a->kind = HS_WIRE_AN_QUERY;
    a->query_id = q->next_id + 1;
    a->timeout_ms = o->timeout_ms ? o->timeout_ms : default_timeout(c);
    snprintf(a->name, sizeof a->name, "%s", name);
    snprintf(a->addr, sizeof a->addr, "%s", c->addr);
    a->payload_len = len;
    if (len)
        memcpy(a->payload, payload, len);
    if ((err = hs__announce_send(c, a)) != HS_OK)
        goto fail;
    q->next_id = a->query_id;
    *p = (pending){.id = a->query_id,
                   .deadline = c->now + a->timeout_ms,
                   .cb = cb,
                   .arg = arg,
                   .timeout_ms = a->timeout_ms,
                   .seen = seen};
    c->stats.queries_sent++;
    if (id_out)
        *id_out = a->query_id;
    ask(c, c->self, a, true); /* the origin is a member too */
    free(a);
    hs__core_update_deadline(c);
    return HS_OK;
fail:
    if (err == HS_ERATE)
        c->stats.queries_rate_limited++;
    free(a);
    free(seen);
    hs__core_update_deadline(c);
    return err;
}

hs_err hs__core_respond(hs_core *c, uint64_t handle, const void *payload,
                        size_t len, uint64_t now)
{
    hs__core_advance(c, now);
    if (!handle || (len && !payload))
        return HS_EINVAL;
    if (len > HS_WIRE_MAX_PAYLOAD)
        return HS_ETOOBIG;
    struct hs_query_state *q = c->q;
    asked *x = NULL;
    for (unsigned i = 0; q && i < ASKED && !x; i++)
        if (q->asked[i].handle == handle)
            x = &q->asked[i];
    if (!x || c->now > x->deadline) {
        c->stats.query_responses_late++;
        return HS_ENOTFOUND;
    }
    if (x->responded)
        return HS_ESTATE;
    hs_err err = answer(c, x, false, payload, len);
    if (err == HS_OK)
        x->responded = true;
    hs__core_update_deadline(c);
    return err;
}

hs_err hs__query_receive(hs_core *c, const uint8_t *buf, size_t len)
{
    hs_wire_response *r = malloc(sizeof *r);
    if (!r) {
        hs__core_nomem(c);
        return HS_ENOMEM;
    }
    hs_err err =
        hs__wire_response_decode(buf, len, c->cluster, c->cfg.max_datagram, r);
    if (err == HS_OK && strcmp(r->from, c->name) == 0)
        err = HS_ESELF;
    if (err == HS_OK) {
        if (r->generation != c->cfg.generation)
            c->stats.query_responses_late++; /* asked by an earlier us */
        else
            take_answer(c, r->id, r->from, r->ack, r->payload, r->payload_len);
    }
    free(r);
    return err;
}

uint64_t hs__query_tick(hs_core *c)
{
    struct hs_query_state *q = c->q;
    if (!q)
        return 0;
    for (unsigned i = 0; i < HS_QUERY_PENDING_MAX; i++) {
        pending *p = &q->own[i];
        if (!p->id || c->now < p->deadline)
            continue;
        queue_reply(c, p, HS_QUERY_DONE, NULL, NULL, 0);
        free(p->seen);
        memset(p, 0, sizeof *p);
    }
    return hs__query_next_deadline(c);
}

uint64_t hs__query_next_deadline(const hs_core *c)
{
    uint64_t d = 0;
    for (unsigned i = 0; c->q && i < HS_QUERY_PENDING_MAX; i++)
        if (c->q->own[i].id && (!d || c->q->own[i].deadline < d))
            d = c->q->own[i].deadline;
    return d;
}
