/*
 * cli_http.c — the HTTP client under `hearsay`'s commands (libcurl):
 * one request with the token and the timeouts, its reply checked and
 * bounded, errors said in one line (hearsayd's JSON "error" when it
 * sends one), and reply text made safe for a terminal.
 */
#include <stdlib.h>
#include <string.h>

#include "agent/cli.h"

/* Replies larger than this are refused: the largest real one is the member
 * list of a 16384-member cluster with tags, well under this. */
#define MAX_REPLY (256u * 1024 * 1024)
#define CONNECT_TIMEOUT_MS 3000L

size_t hsa_cli_collect(char *p, size_t size, size_t n, void *arg)
{
    hsa_buf *b = arg;
    size_t len = size * n;
    if (b->len + len > MAX_REPLY || hsa_buf_append(b, p, len) < 0)
        return 0; /* makes curl fail with CURLE_WRITE_ERROR */
    return len;
}

CURL *hsa_cli_easy(const hsa_cli *c, const char *path, char *errbuf)
{
    CURL *h = curl_easy_init();
    if (!h) {
        hsa_cli_fail("cannot initialise libcurl");
        return NULL;
    }
    char url[1024];
    snprintf(url, sizeof url, "%s%s", c->base, path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "hearsay-cli");
    errbuf[0] = '\0';
    return h;
}

void hsa_cli_unreachable(const hsa_cli *c, CURLcode rc, const char *errbuf)
{
    hsa_cli_fail("cannot reach hearsayd at %s: %s (is it running? set --http "
                 "ADDR or HEARSAY_HTTP_ADDR)",
                 c->base, errbuf[0] ? errbuf : curl_easy_strerror(rc));
}

/* Prints the error of a non-2xx reply: its JSON "error" if it has one. */
void hsa_cli_http_error(long code, const hsa_buf *body)
{
    json_t *j = json_loadb(hsa_buf_head(body), hsa_buf_avail(body), 0, NULL);
    const char *msg = j ? json_string_value(json_object_get(j, "error")) : NULL;
    if (msg)
        hsa_cli_fail("%s (HTTP %ld)", msg, code);
    else
        hsa_cli_fail("hearsayd answered HTTP %ld", code);
    json_decref(j);
}

int hsa_cli_request(const hsa_cli *c, const char *method, const char *path,
                    const char *data, size_t dlen, long timeout_ms,
                    hsa_buf *out)
{
    char errbuf[CURL_ERROR_SIZE];
    CURL *h = hsa_cli_easy(c, path, errbuf);
    if (!h)
        return 1;
    struct curl_slist *hdrs = NULL;
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, hsa_cli_collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        if (data) {
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, data);
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)dlen);
            hdrs = curl_slist_append(hdrs,
                                     "Content-Type: application/octet-stream");
        }
        if (c->token[0]) {
            char auth[HSA_TOKEN_MAX + 32];
            snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->token);
            struct curl_slist *more = curl_slist_append(hdrs, auth);
            hsa_wipe(auth, sizeof auth);
            if (!more) {
                hsa_cli_fail("out of memory");
                curl_slist_free_all(hdrs);
                curl_easy_cleanup(h);
                return 1;
            }
            hdrs = more;
        }
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    }
    CURLcode rc = curl_easy_perform(h);
    long code = 0;
    int ret = 1;
    if (rc != CURLE_OK) {
        hsa_cli_unreachable(c, rc, errbuf);
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    if (code < 200 || code > 299) {
        hsa_cli_http_error(code, out);
        goto out;
    }
    ret = 0;
out:
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    return ret;
}

int hsa_cli_get_json(const hsa_cli *c, const char *path, json_t **out)
{
    hsa_buf body = HSA_BUF_INIT;
    int rc =
        hsa_cli_request(c, "GET", path, NULL, 0, REQUEST_TIMEOUT_MS, &body);
    if (rc) {
        hsa_buf_free(&body);
        return rc;
    }
    json_error_t jerr;
    *out = json_loadb(hsa_buf_head(&body), hsa_buf_avail(&body), 0, &jerr);
    hsa_buf_free(&body);
    if (!*out) {
        hsa_cli_fail("unexpected reply from hearsayd: %s", jerr.text);
        return 1;
    }
    return 0;
}

int hsa_cli_escaped_path(char *out, size_t len, const char *prefix,
                         const char *segment)
{
    char *e = curl_easy_escape(NULL, segment, 0);
    if (!e) {
        hsa_cli_fail("out of memory");
        return -1;
    }
    int n = snprintf(out, len, "%s%s", prefix, e);
    curl_free(e);
    if (n < 0 || (size_t)n >= len) {
        hsa_cli_fail("argument too long");
        return -1;
    }
    return 0;
}

char *hsa_cli_printable(const char *s)
{
    char *p = strdup(s ? s : "");
    if (!p)
        return NULL;
    for (char *q = p; *q; q++) {
        if ((unsigned char)*q < 0x20 || *q == 0x7f)
            *q = '?';
    }
    return p;
}
