/*
 * log.h — hearsayd's log lines on stderr:
 *
 *     2026-11-23T22:30:01.123Z INFO hearsayd[node-1]: message
 *
 * UTC timestamps with milliseconds (sortable, and the same on every host of
 * a cluster), the level in capitals, the program and member name. Each line
 * goes out in one write(2), so lines from the library's log callback and
 * the agent never interleave mid-line. Private to agent/.
 */
#ifndef HSA_LOG_H
#define HSA_LOG_H

#include <stdarg.h>

#include "hearsay.h"

/* Levels are the library's (HS_LOG_ERROR .. HS_LOG_DEBUG). */
typedef struct hsa_log {
    int level;     /* lines above this level are dropped */
    char tag[160]; /* "hearsayd[name]" */
    int fd;        /* normally 2 */
} hsa_log;

void hsa_log_init(hsa_log *log, const char *prog, const char *name, int level);

void hsa_logf(hsa_log *log, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void hsa_vlogf(hsa_log *log, int level, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Writes an already formatted line (no newline): the shape of the library's
 * hs_log_cb, so `hsa_log_line` can be passed as log_cb with the hsa_log as
 * its argument. */
void hsa_log_line(void *log, hs_log_level level, const char *line);

/* "error", "warn", "info", "debug" (also "warning") to HS_LOG_*. 0 on
 * success, -1 for anything else. */
int hsa_log_level_parse(const char *s, int *out);
const char *hsa_log_level_name(int level);

#endif /* HSA_LOG_H */
