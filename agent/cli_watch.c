/*
 * cli_watch.c — `hearsay watch`: follows GET /v1/events, hearsayd's
 * Server-Sent Events stream, and prints one line per event (or each
 * event's JSON). The stream is parsed as it arrives, line by line with a
 * bound on a line, so a watch can run for days in constant memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cli.h"

static const char usage[] =
    "usage: hearsay watch [--type T] [--json] [--http ADDR]\n"
    "\n"
    "Follows hearsayd's event stream (GET /v1/events) and prints one line\n"
    "per event: TIME TYPE NAME ADDR STATE [KEY], or for a user event\n"
    "TIME user NAME ORIGIN ltime=L PAYLOAD. Runs until interrupted; exits\n"
    "with status 1 if the stream ends.\n"
    "\n"
    "  --type T    only these event types (comma-separated: join, leave,\n"
    "              fail, suspect, recover, update, restart, reap, user)\n"
    "  --json      print each event's JSON document instead\n";

typedef struct sse_parser {
    CURL *h;
    hsa_buf line;
    hsa_buf data;
    hsa_buf errbody; /* the body of a non-2xx answer */
    bool json;
    bool failed;
} sse_parser;

/* A user event: TIME user NAME ORIGIN ltime=L PAYLOAD, the payload as
 * text when it is text, else its length. */
static void print_user(json_t *j)
{
    const char *keys[4] = {"time", "name", "origin", "payload"};
    char *f[4];
    for (int i = 0; i < 4; i++)
        f[i] =
            hsa_cli_printable(json_string_value(json_object_get(j, keys[i])));
    json_int_t lt = json_integer_value(json_object_get(j, "ltime"));
    json_int_t len = json_integer_value(json_object_get(j, "payload_len"));
    if (f[0] && f[1] && f[2] && f[3]) {
        printf("%s %-8s %s %s ltime=%lld", f[0], "user", f[1], f[2],
               (long long)lt);
        if (json_is_string(json_object_get(j, "payload")))
            printf(" %s\n", f[3]);
        else
            printf(" (%lld bytes, not text)\n", (long long)len);
        fflush(stdout);
    }
    for (int i = 0; i < 4; i++)
        free(f[i]);
}

static void print_event(sse_parser *p)
{
    if (p->json) {
        printf("%s\n", hsa_buf_head(&p->data));
        fflush(stdout);
        return;
    }
    json_t *j =
        json_loadb(hsa_buf_head(&p->data), hsa_buf_avail(&p->data), 0, NULL);
    if (!j) {
        printf("%s\n", hsa_buf_head(&p->data));
        fflush(stdout);
        return;
    }
    const char *type = json_string_value(json_object_get(j, "type"));
    if (type && strcmp(type, "user") == 0) {
        print_user(j);
        json_decref(j);
        return;
    }
    char *f[6];
    const char *keys[6] = {"time", "type", "name", "addr", "state", "key"};
    for (int i = 0; i < 6; i++)
        f[i] =
            hsa_cli_printable(json_string_value(json_object_get(j, keys[i])));
    if (f[0] && f[1] && f[2] && f[3] && f[4] && f[5]) {
        printf("%s %-8s %s %s %s", f[0], f[1], f[2], f[3], f[4]);
        if (*f[5])
            printf(" %s%s", f[5],
                   json_is_true(json_object_get(j, "deleted")) ? " (deleted)"
                                                               : "");
        printf("\n");
        fflush(stdout);
    }
    for (int i = 0; i < 6; i++)
        free(f[i]);
    json_decref(j);
}

static void sse_line(sse_parser *p)
{
    const char *s = hsa_buf_head(&p->line);
    size_t n = hsa_buf_avail(&p->line);
    if (n && s[n - 1] == '\r')
        n--;
    if (n == 0) {
        if (hsa_buf_avail(&p->data))
            print_event(p);
        hsa_buf_reset(&p->data);
    } else if (n >= 5 && strncmp(s, "data:", 5) == 0) {
        const char *v = s + 5;
        if (*v == ' ')
            v++;
        if (hsa_buf_avail(&p->data))
            hsa_buf_puts(&p->data, "\n");
        hsa_buf_append(&p->data, v, n - (size_t)(v - s));
    }
    /* "event:", "id:", "retry:" and ": comments" need nothing here. */
    hsa_buf_reset(&p->line);
}

static size_t on_stream(char *ptr, size_t size, size_t n, void *arg)
{
    sse_parser *p = arg;
    size_t len = size * n;
    long code = 0;
    curl_easy_getinfo(p->h, CURLINFO_RESPONSE_CODE, &code);
    if (code >= 300)
        return hsa_cli_collect(ptr, size, n, &p->errbody);
    for (size_t i = 0; i < len; i++) {
        if (ptr[i] == '\n') {
            sse_line(p);
        } else if (p->line.len > 1024 * 1024 ||
                   hsa_buf_append(&p->line, ptr + i, 1) < 0) {
            p->failed = true;
            return 0;
        }
    }
    return len;
}

int hsa_cli_watch(hsa_cli *c, int argc, char **argv)
{
    hsa_cli_args a = {0};
    int rc = hsa_cli_parse_args(c, argc, argv, usage, &a,
                                HSA_CLI_TYPE | HSA_CLI_JSON, 0);
    if (rc)
        return rc < 0 ? 0 : rc;
    char path[512] = "/v1/events";
    if (a.type &&
        hsa_cli_escaped_path(path, sizeof path, "/v1/events?type=", a.type) < 0)
        return 1;
    char errbuf[CURL_ERROR_SIZE];
    CURL *h = hsa_cli_easy(c, path, errbuf);
    if (!h)
        return 1;
    sse_parser p = {h, HSA_BUF_INIT, HSA_BUF_INIT, HSA_BUF_INIT, a.json, false};
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_stream);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &p);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    CURLcode cr = curl_easy_perform(h);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    rc = 1;
    if (code >= 300)
        hsa_cli_http_error(code, &p.errbody);
    else if (cr != CURLE_OK && code == 0)
        hsa_cli_unreachable(c, cr, errbuf);
    else if (p.failed)
        hsa_cli_fail("event stream: line too long or out of memory");
    else
        hsa_cli_fail("event stream ended (hearsayd stopped or left)");
    hsa_buf_free(&p.errbody);
    hsa_buf_free(&p.line);
    hsa_buf_free(&p.data);
    curl_easy_cleanup(h);
    return rc;
}
