/*
 * queue.c — the core's two outgoing queues: events for the caller
 * (hs__core_next_event) and datagrams to send (hs__core_next_datagram),
 * rings that grow on demand up to their bounds, and the counters of what
 * was refused or lost on the way (rejected datagrams, failed allocations).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "membership/gossip.h"

/* ---- Events and sends --------------------------------------------------- */

/* Doubles a full ring (from 16) up to `max` items, unrolling it so the
 * oldest item lands at index 0; the caller resets its head. HS_EFULL at
 * `max`, HS_ENOMEM when the allocation failed. The queues
 * grow on demand because a core that is drained after every call (the
 * runtime, the simulator) only ever holds a handful of items, while
 * allocating max_events up front pins 16384 x ~350 bytes = 5.6 MB per
 * core: 56 GB for the 10,000 cores of a large simulation. */
static hs_err ring_grow(void **ring, uint32_t *cap, uint32_t head, uint32_t len,
                        size_t item, uint32_t max)
{
    uint32_t ncap = *cap ? (*cap > max / 2 ? max : *cap * 2) : 16;
    if (ncap > max)
        ncap = max;
    if (ncap <= *cap)
        return HS_EFULL;
    char *n = malloc((size_t)ncap * item);
    if (!n)
        return HS_ENOMEM;
    for (uint32_t i = 0; i < len; i++)
        memcpy(n + (size_t)i * item,
               (char *)*ring + (size_t)((head + i) % *cap) * item, item);
    free(*ring);
    *ring = n;
    *cap = ncap;
    return HS_OK;
}

hs_core_event *hs__core_emit(hs_core *c, hs_event_type type, const hs_mrec *m,
                             const char *key, bool deleted)
{
    if (type != HS_EVENT_UPDATE && type != HS_EVENT_USER)
        c->view_dirty = true; /* a state changed: recount peers */
    if (c->evq_len == c->evq_cap) {
        void *ring = c->evq;
        hs_err err = ring_grow(&ring, &c->evq_cap, c->evq_head, c->evq_len,
                               sizeof *c->evq, c->cfg.max_events);
        if (err != HS_OK) {
            c->stats.events_dropped++;
            if (err == HS_ENOMEM)
                c->stats.alloc_failures++;
            return NULL;
        }
        c->evq = ring;
        c->evq_head = 0;
    }
    hs_core_event *ev = &c->evq[(c->evq_head + c->evq_len) % c->evq_cap];
    c->evq_len++;
    memset(ev, 0, sizeof *ev);
    ev->type = type;
    ev->state = m->state;
    ev->generation = m->generation;
    ev->at_ms = c->now;
    snprintf(ev->name, sizeof ev->name, "%s", m->name);
    snprintf(ev->addr, sizeof ev->addr, "%s", m->addr);
    if (key)
        snprintf(ev->key, sizeof ev->key, "%s", key);
    ev->deleted = deleted;
    c->stats.events[type]++;
    return ev;
}

bool hs__core_next_event(hs_core *c, hs_core_event *out)
{
    free(c->ev_user);
    c->ev_user = NULL;
    if (c->evq_len == 0)
        return false;
    *out = c->evq[c->evq_head];
    c->ev_user = out->user;
    c->evq_head = (c->evq_head + 1) % c->evq_cap;
    c->evq_len--;
    return true;
}

void hs__core_reject(hs_core *c, hs_err why)
{
    int slot = -(int)why;
    if (slot > 0 && slot < HS_REASON_SLOTS)
        c->stats.rejected[slot]++;
}

void hs__core_nomem(hs_core *c)
{
    c->stats.alloc_failures++;
    hs__core_reject(c, HS_ENOMEM);
}

void hs__core_send(hs_core *c, const char *to, const hs_wire_msg *msg)
{
    if (c->outq_len == c->outq_cap) {
        void *ring = c->outq;
        hs_err err = ring_grow(&ring, &c->outq_cap, c->outq_head, c->outq_len,
                               sizeof *c->outq, c->cfg.max_pending);
        if (err != HS_OK) {
            c->stats.sends_dropped++;
            if (err == HS_ENOMEM)
                c->stats.alloc_failures++;
            return;
        }
        c->outq = ring;
        c->outq_head = 0;
    }
    uint8_t *buf = malloc(c->cfg.max_datagram);
    char *dst = strdup(to);
    size_t len = 0;
    hs_err err = HS_ENOMEM;
    if (buf && dst)
        err = hs__wire_encode(msg, buf, c->cfg.max_datagram, &len);
    if (err != HS_OK) {
        /* The packer keeps every message under max_datagram, so this is a
         * bug or memory exhaustion: count it where an operator looks. */
        free(buf);
        free(dst);
        c->stats.sends_dropped++;
        if (err == HS_ENOMEM)
            hs__core_nomem(c);
        else
            hs__core_reject(c, err);
        return;
    }
    hs_outq_item *it = &c->outq[(c->outq_head + c->outq_len) % c->outq_cap];
    it->to = dst;
    it->buf = buf;
    it->len = len;
    it->type = msg->type;
    c->outq_len++;
    if ((unsigned)msg->type < HS_WIRE_TYPE_SLOTS) {
        c->stats.msgs_sent[msg->type]++;
        c->stats.bytes_sent[msg->type] += len;
    }
    if (len > c->stats.max_datagram_sent)
        c->stats.max_datagram_sent = len;
}

/* Queues an encoded datagram (a query's answer, query.c); buf is taken
 * over. Dropped and counted when the queue is full. */
void hs__core_send_raw(hs_core *c, const char *to, uint8_t *buf, size_t len)
{
    char *dst = strdup(to);
    hs_err err = dst ? HS_OK : HS_ENOMEM;
    if (err == HS_OK && c->outq_len == c->outq_cap) {
        void *ring = c->outq;
        err = ring_grow(&ring, &c->outq_cap, c->outq_head, c->outq_len,
                        sizeof *c->outq, c->cfg.max_pending);
        if (err == HS_OK) {
            c->outq = ring;
            c->outq_head = 0;
        }
    }
    if (err != HS_OK) {
        free(dst);
        free(buf);
        c->stats.sends_dropped++;
        if (err == HS_ENOMEM)
            c->stats.alloc_failures++;
        return;
    }
    hs_outq_item *it = &c->outq[(c->outq_head + c->outq_len) % c->outq_cap];
    *it = (hs_outq_item){dst, buf, len, HS_WIRE_RESPONSE};
    c->outq_len++;
}

bool hs__core_next_datagram(hs_core *c, hs_datagram *out)
{
    free(c->out_cur.to);
    free(c->out_cur.buf);
    memset(&c->out_cur, 0, sizeof c->out_cur);
    if (c->outq_len == 0)
        return false;
    c->out_cur = c->outq[c->outq_head];
    c->outq_head = (c->outq_head + 1) % c->outq_cap;
    c->outq_len--;
    out->to = c->out_cur.to;
    out->buf = c->out_cur.buf;
    out->len = c->out_cur.len;
    out->type = c->out_cur.type;
    return true;
}
