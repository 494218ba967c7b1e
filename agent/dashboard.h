/*
 * dashboard.h — GET /: the dashboard page, its embedded assets, and the
 * JSON it needs beyond the API (GET /v1/stats). Private to agent/.
 */
#ifndef HSA_DASHBOARD_H
#define HSA_DASHBOARD_H

#include <stdbool.h>
#include <stddef.h>

/* One embedded file (generated from agent/dashboard/ at build time by
 * cmake/embed_assets.cmake). The table ends with a NULL name. */
typedef struct hsa_asset {
    const char *name;  /* file name under agent/dashboard/ */
    const char *ctype; /* Content-Type */
    const char *etag;  /* quoted, from the SHA-256 of the bytes */
    const unsigned char *data;
    size_t len;
} hsa_asset;

extern const hsa_asset hsa_dashboard_assets[];

/* The asset served at path ("/" is index.html, the others are under
 * /dashboard/), or NULL. */
const hsa_asset *hsa_dashboard_asset(const char *path);

/* Whether an If-None-Match header value (a list of entity tags, or "*")
 * names etag; a NULL header matches nothing. */
bool hsa_dashboard_etag_matches(const char *if_none_match, const char *etag);

/* The Content-Security-Policy every dashboard file is served with: only
 * this origin's scripts, styles and requests; no inline script or style,
 * no framing. */
#define HSA_DASHBOARD_CSP                                                      \
    "default-src 'none'; script-src 'self'; style-src 'self'; "                \
    "img-src 'self'; connect-src 'self'; base-uri 'none'; "                    \
    "form-action 'none'; frame-ancestors 'none'"

struct hsa_agent;
struct hsa_request;
struct hsa_reply;

/* Answers the dashboard's paths (/, /index.html, /dashboard/..., and
 * /v1/stats) and returns true; false for any other path (out untouched). */
bool hsa_dashboard_route(struct hsa_agent *a, const struct hsa_request *rq,
                         struct hsa_reply *out);

#endif /* HSA_DASHBOARD_H */
