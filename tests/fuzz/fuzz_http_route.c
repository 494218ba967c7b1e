/*
 * fuzz_http_route.c — hearsayd's HTTP routes (agent/api*.c) on arbitrary
 * requests, without a socket: the server hands routes plain strings
 * (hsa_request), and so does this fuzzer.
 *
 * Input: method, path, ?state=, ?type= and the Authorization header as the
 * first five newline-terminated lines (an empty line is an absent query or
 * header), then the body. The routes run against a real, started node
 * (sealed, so the key routes work; with an API token, so authorization is
 * exercised: the seeds carry the right header) whose state persists
 * across inputs, within its bounds (256 tags, 16 keys).
 *
 * Oracle: every answer has a status from 200 to 599 and a body; a JSON
 * answer parses as JSON; no route asks for a stream or a delayed answer
 * (there is no connection to give one to).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>
#include <jansson.h>

#include "agent/agent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TOKEN "fuzz-token-0123456789"

static void quiet(void *arg, hs_log_level level, const char *line)
{
    (void)arg;
    (void)level;
    (void)line;
}

static hsa_agent *agent(void)
{
    static hsa_agent a;
    static hsa_settings s;
    if (a.node)
        return &a;
    const char *keys[] = {"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="};
    s.name = "fuzz";
    s.sse_max_clients = 1;
    a.cfg = &s;
    hsa_log_init(&a.log, "fuzz", "fuzz", HS_LOG_ERROR - 1); /* silent */
    a.loop = ev_loop_new(EVFLAG_AUTO);
    hs_config *cfg = NULL;
    if (hs_config_new(&cfg) != HS_OK || hs_config_new(&s.node) != HS_OK ||
        hs_config_set_str(cfg, "name", "fuzz") != HS_OK ||
        hs_config_set_str(cfg, "cluster", "fuzz") != HS_OK ||
        hs_config_set_str(cfg, "bind", "127.0.0.1:0") != HS_OK ||
        hs_config_set_keys(cfg, keys, 1) != HS_OK ||
        hs_config_set_log(cfg, quiet, NULL) != HS_OK)
        abort();
    if (!a.loop || hs_node_new(cfg, a.loop, &a.node) != HS_OK ||
        hs_node_start(a.node) != HS_OK)
        abort();
    hs_config_free(cfg);
    snprintf(a.token, sizeof a.token, "%s", TOKEN);
    a.phase = HSA_RUNNING;
    return &a;
}

/* The next line of the input as a NUL-terminated heap string (so ASan sees
 * any read past it), or NULL for an empty line when `empty_is_null`. */
static char *take_line(const uint8_t **p, const uint8_t *end, bool empty_null)
{
    const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
    size_t n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
    char *s = NULL;
    if (n || !empty_null) {
        s = malloc(n + 1);
        if (!s)
            abort();
        memcpy(s, *p, n);
        s[n] = '\0';
    }
    *p += n + (nl ? 1 : 0);
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hsa_agent *a = agent();
    const uint8_t *p = data, *end = data + size;
    char *method = take_line(&p, end, false);
    char *path = take_line(&p, end, false);
    char *state = take_line(&p, end, true);
    char *type = take_line(&p, end, true);
    char *auth = take_line(&p, end, true);
    size_t blen = (size_t)(end - p);
    char *body = malloc(blen + 1);
    if (!body)
        abort();
    memcpy(body, p, blen);
    body[blen] = '\0';

    hsa_request rq = {.method = method,
                      .path = path,
                      .state = state,
                      .type = type,
                      .authorization = auth,
                      .body = body,
                      .body_len = blen,
                      .conn = NULL};
    hsa_reply rep = {0};
    hsa_api_route(a, &rq, &rep);
    if (rep.code < 200 || rep.code > 599 || rep.stream || rep.pending ||
        !rep.body)
        abort();
    if (!rep.ctype || strcmp(rep.ctype, "application/json") == 0) {
        json_error_t jerr;
        json_t *j = json_loadb(rep.body, rep.len, JSON_ALLOW_NUL, &jerr);
        if (!j) {
            fprintf(stderr, "not JSON (%s): %.*s\n", jerr.text,
                    (int)(rep.len > 2000 ? 2000 : rep.len), rep.body);
            abort();
        }
        json_decref(j);
    }
    free(rep.body);
    free(method);
    free(path);
    free(state);
    free(type);
    free(auth);
    free(body);
    return 0;
}
