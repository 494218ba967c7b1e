/*
 * node_log.c — the runtime's clocks and its log: monotonic microseconds
 * for the cost of its own work, wall-clock milliseconds for the replay
 * window, log lines through the node's hs_log_cb (or stderr), warnings
 * rate-limited per kind so a repeated failure does not flood the log,
 * and the level that can change while the node runs.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "membership/node_impl.h"

/* ---- Time and logging --------------------------------------------------- */

uint64_t hs__rt_now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

static const char *const level_names[] = {"error", "warn", "info", "debug"};

__attribute__((format(printf, 3, 0))) static void
vlog(hs_node *n, int level, const char *fmt, va_list ap)
{
    if (level > __atomic_load_n(&n->cfg.log_level, __ATOMIC_RELAXED))
        return;
    char line[640];
    int off = snprintf(line, sizeof line,
                       "hearsay[%s] %s: ", n->name[0] ? n->name : "?",
                       level_names[level < 0   ? 0
                                   : level > 3 ? 3
                                               : level]);
    if (off < 0)
        return;
    vsnprintf(line + off, sizeof line - (size_t)off, fmt, ap);
    if (n->cfg.log_cb)
        n->cfg.log_cb(n->cfg.log_arg, level, line);
    else
        fprintf(stderr, "%s\n", line);
}

void hs__rt_log(hs_node *n, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(n, level, fmt, ap);
    va_end(ap);
}

/* Ten seconds: often enough that an operator sees a problem persists,
 * rarely enough that a dead seed does not flood the log every round. */
#define HS_WARN_EVERY_MS 10000

void hs__rt_warn(hs_node *n, int kind, const char *fmt, ...)
{
    uint64_t now = hs_loop_now(n);
    if (n->warn_at[kind] && now - n->warn_at[kind] < HS_WARN_EVERY_MS) {
        n->warn_suppressed[kind]++;
        return;
    }
    n->warn_at[kind] = now ? now : 1;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n->warn_suppressed[kind])
        hs__rt_log(n, HS_LOG_WARN, "%s (and %" PRIu64 " more like it)", msg,
                   n->warn_suppressed[kind]);
    else
        hs__rt_log(n, HS_LOG_WARN, "%s", msg);
    n->warn_suppressed[kind] = 0;
}

void hs__rt_check_nomem(hs_node *n)
{
    uint64_t total = n->rt.alloc_failures;
    if (n->core)
        total += hs__core_stats_get(n->core)->alloc_failures;
    if (total <= n->nomem_logged)
        return;
    hs__rt_warn(n, HS_WARN_NOMEM,
                "out of memory: %" PRIu64 " allocation%s failed (a gossip "
                "round, an answer, a delta or an event was dropped; "
                "alloc_failures counts them)",
                total - n->nomem_logged,
                total - n->nomem_logged == 1 ? "" : "s");
    n->nomem_logged = total;
}

uint64_t hs__rt_wall_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

HS_EXPORT hs_err hs_node_set_log_level(hs_node *n, hs_log_level level)
{
    if (!n || (int)level < HS_LOG_ERROR || level > HS_LOG_DEBUG)
        return HS_EINVAL;
    /* Read without the lock by every log line, so atomic, not under mu. */
    __atomic_store_n(&n->cfg.log_level, (int)level, __ATOMIC_RELAXED);
    return HS_OK;
}
