/*
 * log.c — formatting and writing hearsayd's log lines (see log.h).
 *
 * Messages can carry text that came from the network (member names, tag
 * keys): control characters are replaced by '?' so a peer cannot forge log
 * lines or move the terminal's cursor.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "agent/log.h"

/* A line longer than this is cut: logs are for people, and a bounded line
 * keeps one write(2) atomic enough for a pipe (PIPE_BUF is 4096). */
#define LOG_LINE_MAX 4000

static const char *const level_names[] = {"ERROR", "WARN", "INFO", "DEBUG"};

void hsa_log_init(hsa_log *log, const char *prog, const char *name, int level)
{
    log->level = level;
    log->fd = 2;
    if (name && *name)
        snprintf(log->tag, sizeof log->tag, "%s[%.100s]", prog, name);
    else
        snprintf(log->tag, sizeof log->tag, "%s", prog);
}

static void emit(hsa_log *log, int level, const char *msg)
{
    char line[LOG_LINE_MAX + 200];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    if (level < HS_LOG_ERROR)
        level = HS_LOG_ERROR;
    if (level > HS_LOG_DEBUG)
        level = HS_LOG_DEBUG;
    int n = snprintf(
        line, sizeof line,
        "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s: ", tm.tm_year + 1900,
        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
        ts.tv_nsec / 1000000L, level_names[level], log->tag);
    if (n < 0)
        return;
    size_t pos = (size_t)n;
    for (const char *p = msg; *p && pos < sizeof line - 2; p++) {
        unsigned char c = (unsigned char)*p;
        line[pos++] = (c < 0x20 && c != '\t') || c == 0x7f ? '?' : (char)c;
        if (pos - (size_t)n >= LOG_LINE_MAX) {
            memcpy(line + pos - 3, "...", 3);
            break;
        }
    }
    line[pos++] = '\n';
    size_t off = 0;
    while (off < pos) {
        ssize_t w = write(log->fd, line + off, pos - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        off += (size_t)w;
    }
}

void hsa_vlogf(hsa_log *log, int level, const char *fmt, va_list ap)
{
    if (level > log->level)
        return;
    char msg[LOG_LINE_MAX + 1];
    vsnprintf(msg, sizeof msg, fmt, ap);
    emit(log, level, msg);
}

void hsa_logf(hsa_log *log, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hsa_vlogf(log, level, fmt, ap);
    va_end(ap);
}

void hsa_log_line(void *arg, hs_log_level level, const char *line)
{
    hsa_log *log = arg;
    if ((int)level > log->level)
        return;
    /* The library's lines start "hearsay[NAME] level: "; ours already say
     * who and how bad, so that prefix goes. */
    if (strncmp(line, "hearsay[", 8) == 0) {
        const char *p = strstr(line, "] ");
        const char *colon = p ? strstr(p, ": ") : NULL;
        if (colon && colon - p < 12)
            line = colon + 2;
    }
    emit(log, level, line);
}

int hsa_log_level_parse(const char *s, int *out)
{
    static const struct {
        const char *name;
        int level;
    } names[] = {{"error", HS_LOG_ERROR},
                 {"warn", HS_LOG_WARN},
                 {"warning", HS_LOG_WARN},
                 {"info", HS_LOG_INFO},
                 {"debug", HS_LOG_DEBUG}};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        if (strcasecmp(s, names[i].name) == 0) {
            *out = names[i].level;
            return 0;
        }
    }
    return -1;
}

const char *hsa_log_level_name(int level)
{
    static const char *const lower[] = {"error", "warn", "info", "debug"};
    return level >= 0 && level <= HS_LOG_DEBUG ? lower[level] : "unknown";
}
