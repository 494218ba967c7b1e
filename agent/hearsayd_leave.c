/*
 * hearsayd_leave.c — how hearsayd ends: a graceful leave (a signal, POST
 * /v1/leave, or a name conflict) spread for --leave-timeout, a backstop
 * in case the library's done callback never comes, a short grace for the
 * last answers, and the signals (SIGHUP reloads, a second SIGINT or
 * SIGTERM exits at once) and --join-timeout that start it.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "agent/agent.h"
#include "agent/json.h"
#include "agent/state.h"

/* Between the end of the leave and the end of the process: long enough for
 * the answer to POST /v1/leave and the ends of the event streams to go out
 * on loopback, short enough not to matter to a supervisor. */
#define EXIT_GRACE_S 0.1
/* --leave-timeout bounds the whole shutdown, so the leave itself is spread
 * for a little less: the grace above plus teardown. */
#define LEAVE_RESERVE_MS 250
/* How long after the leave timeout we stop waiting for the library's done
 * callback (it should come at the timeout at the latest). */
#define LEAVE_BACKSTOP_EXTRA_S 1.0

static void exit_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    ev_break(loop, EVBREAK_ALL);
}

/* Runs one loop iteration after hsa_agent_finish(): answers POST /v1/leave,
 * ends the event streams, then gives them EXIT_GRACE_S to go out. */
static void finish_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    hsa_agent *a = w->data;
    for (size_t i = 0; i < a->n_leave_waiters; i++) {
        hsa_reply rep = {0};
        if (a->exit_code == 0) {
            rep.code = 200;
            rep.body = hsa_json_pairs(&rep.len, "status", "left", "name",
                                      a->cfg->name);
            if (!rep.body)
                hsa_reply_error(&rep, 500, "out of memory");
        } else {
            hsa_reply_error(&rep, 500,
                            "the leave failed (see hearsayd's log); the "
                            "daemon is exiting");
        }
        hsa_http_complete(a->leave_waiters[i], &rep);
    }
    a->n_leave_waiters = 0;
    if (a->sse)
        hsa_sse_close_all(a->sse);
    ev_timer_init(&a->exit_timer, exit_cb, EXIT_GRACE_S, 0.);
    a->exit_timer.data = a;
    ev_timer_start(loop, &a->exit_timer);
}

void hsa_agent_finish(hsa_agent *a, int exit_code)
{
    if (a->phase == HSA_STOPPING)
        return;
    a->phase = HSA_STOPPING;
    a->exit_code = exit_code;
    ev_timer_stop(a->loop, &a->leave_backstop);
    ev_timer_init(&a->exit_timer, finish_cb, 0., 0.);
    a->exit_timer.data = a;
    ev_timer_start(a->loop, &a->exit_timer);
}

static void on_left(hs_node *node, hs_err status, void *arg)
{
    hsa_agent *a = arg;
    if (status == HS_OK)
        hsa_logf(&a->log, HS_LOG_INFO, "left the cluster");
    else
        hsa_logf(&a->log, HS_LOG_WARN, "leave finished with: %s",
                 hs_strerror(status));
    hsa_agent_finish(a, 0);
}

static void backstop_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    hsa_agent *a = w->data;
    hsa_logf(&a->log, HS_LOG_WARN,
             "the leave did not report completion within %u ms; exiting",
             a->cfg->leave_timeout_ms);
    hsa_agent_finish(a, 0);
}

bool hsa_agent_leave(hsa_agent *a, const char *why)
{
    if (a->phase != HSA_RUNNING)
        return false;
    a->phase = HSA_LEAVING;
    hsa_notify_send(&a->notify, "STOPPING=1");
    hsa_logf(&a->log, HS_LOG_INFO, "%s: leaving the cluster (up to %u ms)", why,
             a->cfg->leave_timeout_ms);
    uint32_t t = a->cfg->leave_timeout_ms;
    t = t > 2 * LEAVE_RESERVE_MS ? t - LEAVE_RESERVE_MS : t / 2;
    hs_err e = hs_node_leave(a->node, t ? t : 1, on_left, a);
    if (e != HS_OK) {
        hsa_logf(&a->log, HS_LOG_ERROR, "cannot leave: %s; exiting",
                 hs_strerror(e));
        hsa_agent_finish(a, 1);
        return true;
    }
    ev_timer_init(&a->leave_backstop, backstop_cb,
                  a->cfg->leave_timeout_ms / 1000.0 + LEAVE_BACKSTOP_EXTRA_S,
                  0.);
    a->leave_backstop.data = a;
    ev_timer_start(a->loop, &a->leave_backstop);
    return true;
}

void hsa_agent_signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
    hsa_agent *a = w->data;
    const char *name = w->signum == SIGINT ? "SIGINT" : "SIGTERM";
    if (w->signum == SIGHUP) {
        hsa_reload(a);
        return;
    }
    if (a->phase == HSA_RUNNING) {
        hsa_agent_leave(a, name);
        return;
    }
    hsa_logf(&a->log, HS_LOG_WARN,
             "%s again: exiting now, without finishing the leave", name);
    a->exit_code = 1;
    ev_break(loop, EVBREAK_ALL);
}

/* --join-timeout: a node that has reached no peer by then exits 1, so a
 * supervisor or a deployment sees the failure instead of a node that
 * runs alone and calls itself healthy. */
void hsa_agent_join_deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    hsa_agent *a = w->data;
    hs_join_status js;
    if (a->phase != HSA_RUNNING || hs_node_join_status(a->node, &js) != HS_OK ||
        js.joined)
        return;
    char d[32];
    hsa_format_duration(a->cfg->join_timeout_ms, d, sizeof d);
    hsa_logf(&a->log, HS_LOG_ERROR,
             "not joined within %s (--join-timeout): %s; %llu failed join "
             "round(s); exiting",
             d, js.reason[0] ? js.reason : "no peer has answered",
             (unsigned long long)js.failed_rounds);
    hs_node_stop(a->node);
    hsa_agent_finish(a, 1);
}
