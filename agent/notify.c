/*
 * notify.c — the sd_notify(3) datagram protocol, written out (see
 * notify.h).
 *
 * Why not libsystemd: the protocol is a documented, stable interface (one
 * AF_UNIX datagram of "KEY=VALUE" lines to $NOTIFY_SOCKET, '@' meaning the
 * abstract namespace) and takes forty lines; linking libsystemd would add
 * a dependency, and its transitive libraries, to every build, including
 * those for containers and hosts without systemd, for those forty lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/notify.h"

/* How often readiness is polled until it holds: fast enough that a
 * supervisor's start-up is not visibly delayed, slow enough to cost
 * nothing. */
#define READY_POLL_S 0.1

int hsa_notify_init(hsa_notify *n, char *err, size_t errlen)
{
    memset(n, 0, sizeof *n);
    n->fd = -1;
    const char *path = getenv("NOTIFY_SOCKET");
    const char *wd = getenv("WATCHDOG_USEC");
    const char *wd_pid = getenv("WATCHDOG_PID");
    int rc = 0;
    if (wd && *wd) {
        char *end;
        errno = 0;
        unsigned long long u = strtoull(wd, &end, 10);
        bool ours = true;
        if (wd_pid && *wd_pid)
            ours = strtol(wd_pid, NULL, 10) == (long)getpid();
        if (errno || *end || u == 0) {
            snprintf(err, errlen, "WATCHDOG_USEC='%.40s' is not a number", wd);
            rc = -1;
        } else if (ours) {
            n->watchdog_usec = u;
        }
    }
    if (rc == 0 && path && *path) {
        size_t len = strlen(path);
        if ((path[0] != '/' && path[0] != '@') ||
            len >= sizeof n->addr.sun_path) {
            snprintf(err, errlen,
                     "NOTIFY_SOCKET='%.100s' is neither an absolute path nor "
                     "an @abstract name that fits a socket address",
                     path);
            rc = -1;
        } else {
            n->addr.sun_family = AF_UNIX;
            memcpy(n->addr.sun_path, path, len);
            if (path[0] == '@')
                n->addr.sun_path[0] = '\0';
            /* Abstract names are length-delimited, not NUL-terminated. */
            n->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
                                      len + (path[0] == '/'));
            n->fd =
                socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
            if (n->fd < 0) {
                snprintf(err, errlen, "NOTIFY_SOCKET: socket: %s",
                         strerror(errno));
                rc = -1;
            }
        }
    }
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    return rc;
}

void hsa_notify_send(hsa_notify *n, const char *msg)
{
    if (n->fd < 0)
        return;
    ssize_t w = sendto(n->fd, msg, strlen(msg), MSG_NOSIGNAL,
                       (struct sockaddr *)&n->addr, n->addr_len);
    if (w < 0)
        n->send_errors++;
    else
        n->sent++;
}

static void watchdog_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    hsa_notify *n = w->data;
    hsa_notify_send(n, "WATCHDOG=1");
}

static void ready_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    hsa_notify *n = w->data;
    char status[128] = "";
    bool ready = n->ready(n->ready_arg, status, sizeof status);
    char msg[160];
    if (ready) {
        snprintf(msg, sizeof msg, "READY=1\nSTATUS=%s",
                 status[0] ? status : "running");
        hsa_notify_send(n, msg);
        n->ready_sent = true;
        ev_timer_stop(loop, w);
    } else if (status[0] && strcmp(status, n->last_status) != 0) {
        snprintf(msg, sizeof msg, "STATUS=%s", status);
        hsa_notify_send(n, msg);
        snprintf(n->last_status, sizeof n->last_status, "%s", status);
    }
}

void hsa_notify_start(hsa_notify *n, struct ev_loop *loop, hsa_ready_fn ready,
                      void *arg)
{
    if (n->fd < 0)
        return;
    n->loop = loop;
    n->ready = ready;
    n->ready_arg = arg;
    ev_timer_init(&n->ready_timer, ready_cb, 0., READY_POLL_S);
    n->ready_timer.data = n;
    ev_timer_start(loop, &n->ready_timer);
    if (n->watchdog_usec) {
        /* Half the interval, as sd_watchdog_enabled(3) advises: one late
         * wake-up must not cost a restart. */
        double every = n->watchdog_usec / 2e6;
        ev_timer_init(&n->watchdog_timer, watchdog_cb, 0., every);
        n->watchdog_timer.data = n;
        ev_timer_start(loop, &n->watchdog_timer);
    }
}

void hsa_notify_close(hsa_notify *n)
{
    if (n->loop) {
        ev_timer_stop(n->loop, &n->ready_timer);
        ev_timer_stop(n->loop, &n->watchdog_timer);
        n->loop = NULL;
    }
    if (n->fd >= 0)
        close(n->fd);
    n->fd = -1;
}
