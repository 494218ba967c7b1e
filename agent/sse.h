/*
 * sse.h — GET /v1/events: membership events as Server-Sent Events to any
 * number of clients (up to a bound). Private to agent/.
 *
 * Each event is sent as
 *
 *     id: 17
 *     event: join
 *     data: {"id":17,"type":"join","name":"n2",...}
 *
 * and a comment line (": keep-alive") goes out on an interval so proxies
 * keep the connection and the daemon notices clients that went away.
 *
 * A client that reconnects with "Last-Event-ID: N" (EventSource does so by
 * itself) or "?last-event-id=N" first gets the recent events after N that
 * it missed, from a bounded replay buffer, then the live ones: a resumed
 * stream has neither gaps (within the buffer) nor duplicates.
 */
#ifndef HSA_SSE_H
#define HSA_SSE_H

#include <stddef.h>
#include <stdint.h>

#include "agent/log.h"
#include "agent/metrics.h"

struct ev_loop;
struct MHD_Connection;
struct MHD_Response;

/* A client with this much unsent data is dropped: it is not reading, and
 * the daemon will not buffer without bound on its behalf. 1 MiB is a few
 * thousand ordinary events, minutes of heavy churn. One event is always
 * accepted into an empty queue, however large (a member with 256 tags of
 * 1 KiB each makes ~300 KiB events), so big events never lock clients out. */
#define HSA_SSE_MAX_QUEUE (1024 * 1024)

/* Events kept for replay to reconnecting clients: the last this many, and
 * no more than HSA_SSE_REPLAY_BYTES of them. An EventSource reconnects
 * within seconds ("retry: 2000"); 512 events cover that at any churn a
 * cluster survives, and 512 KiB stays under one client's queue bound so a
 * full replay always fits. */
#define HSA_SSE_REPLAY_EVENTS 512
#define HSA_SSE_REPLAY_BYTES (512 * 1024)

typedef struct hsa_sse hsa_sse;

hsa_sse *hsa_sse_new(struct ev_loop *loop, hsa_log *log, hsa_agent_stats *stats,
                     uint32_t max_clients, uint32_t keepalive_ms);

/* A response streaming events of the types in mask (bits 1 << HS_EVENT_*)
 * to conn. NULL when there are max_clients already (*full set) or memory
 * ran out. */
struct MHD_Response *hsa_sse_open(hsa_sse *s, struct MHD_Connection *conn,
                                  unsigned mask, const char *self, int *full);

/* Queues one event (type and its JSON document) to every interested
 * client, and keeps it for replay. ids must increase. */
void hsa_sse_publish(hsa_sse *s, int type, uint64_t id, const char *json,
                     size_t len);

/* cb(arg) is called whenever a client's connection is resumed (the HTTP
 * server must then run: see hsa_http_resumed). */
void hsa_sse_on_resume(hsa_sse *s, void (*cb)(void *), void *arg);

/* Ends every stream (clients see the end of the response). */
void hsa_sse_close_all(hsa_sse *s);

/* After the HTTP server is gone. */
void hsa_sse_free(hsa_sse *s);

#endif /* HSA_SSE_H */
