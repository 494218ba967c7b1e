/*
 * json.h — the HTTP API's JSON documents, built with jansson from library
 * snapshots (hs_member_list) and events (hs_event). Private to agent/.
 *
 * Shapes (docs/operations.md has the full reference):
 *   member:  {"name","addr","state","generation","heartbeat","phi",
 *             "state_age_ms","self","tags":{...}}
 *   members: {"self": NAME, "members": [member, ...]}
 *   event:   {"id","type","time","name","addr","generation","state",
 *             ["key","deleted"] for updates, ["heartbeat","phi","tags"]
 *             when the member is still known}
 *   error:   {"error": "message"}
 * Every function returns a malloc'd NUL-terminated string (length in *len
 * when len is not NULL), or NULL when memory ran out.
 */
#ifndef HSA_JSON_H
#define HSA_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "hearsay.h"

/* "alive,suspect" -> bits 1 << HS_STATE_*. 0 on success, -1 on an unknown
 * name. */
int hsa_state_mask_parse(const char *list, unsigned *mask);

/* The members of l whose state bit is in state_mask (all when 0). */
char *hsa_json_members(const char *self, const hs_member_list *l,
                       unsigned state_mask, size_t *len);
char *hsa_json_member(const hs_member *m, size_t *len);
/* m: the member's snapshot after the event, or NULL when it is gone. */
char *hsa_json_event(const hs_event *ev, const hs_member *m, uint64_t id,
                     size_t *len);
char *hsa_json_error(size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* {"k": "v", ...} with any extra fields, for small replies. */
char *hsa_json_pairs(size_t *len, const char *k1, const char *v1,
                     const char *k2, const char *v2);

/* The current time as "2026-11-23T22:30:01.123Z". buf >= 32 bytes. */
void hsa_time_iso(char *buf, size_t len);

/* Tag values are bytes; JSON strings must be UTF-8. A value that is not
 * valid UTF-8 is shown with each bad byte as U+FFFD. Returns a malloc'd
 * copy (NUL-terminated, *out_len set) or NULL on allocation failure. */
char *hsa_utf8_sanitize(const uint8_t *p, size_t n, size_t *out_len);

#endif /* HSA_JSON_H */
