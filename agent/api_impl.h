/*
 * api_impl.h — what the files of hearsayd's HTTP routes share. api.c
 * holds the route table (which path and method reach which handler, and
 * which need the token) and answers 404/405/401; each handler lives in
 * the file of its topic and sees only requests the table sent it.
 * Private to agent/.
 */
#ifndef HSA_API_IMPL_H
#define HSA_API_IMPL_H

#include <stddef.h>

#include "agent/agent.h"

/* A route's handler. `rest` is what follows the route's path when the
 * route is a prefix ("/v1/tags/" -> the key), "" otherwise. The method
 * is already checked and, for writes, the token. */
typedef void hsa_api_handler(hsa_agent *a, const hsa_request *rq,
                             const char *rest, hsa_reply *out);

/* api_members.c: the cluster as this node sees it, and its changes. */
hsa_api_handler hsa_api_get_members; /* GET /v1/members */
hsa_api_handler hsa_api_get_member;  /* GET /v1/members/NAME */
hsa_api_handler hsa_api_get_events;  /* GET /v1/events */
/* api_node.c: writes to this node. */
hsa_api_handler hsa_api_put_tag;    /* PUT /v1/tags/KEY */
hsa_api_handler hsa_api_del_tag;    /* DELETE /v1/tags/KEY */
hsa_api_handler hsa_api_post_leave; /* POST /v1/leave */
hsa_api_handler hsa_api_post_join;  /* POST /v1/join */
/* api_status.c: what monitoring reads. */
hsa_api_handler hsa_api_get_health;  /* GET /healthz */
hsa_api_handler hsa_api_get_ready;   /* GET /readyz */
hsa_api_handler hsa_api_get_metrics; /* GET /metrics */
/* api_keys.c: the keyring. */
hsa_api_handler hsa_api_get_keys;    /* GET /v1/keys */
hsa_api_handler hsa_api_post_key;    /* POST /v1/keys */
hsa_api_handler hsa_api_put_primary; /* PUT /v1/keys/primary */
hsa_api_handler hsa_api_delete_key;  /* DELETE /v1/keys/ID */

/* The HTTP status for a library error from a request. */
unsigned hsa_api_status_of(hs_err e);

/* A JSON answer: takes body (malloc'd); a NULL body (out of memory
 * building it) becomes a 500. */
void hsa_api_json_reply(hsa_reply *out, unsigned code, char *body, size_t len);

#endif /* HSA_API_IMPL_H */
