/*
 * notify.h — readiness and liveness for systemd (Type=notify), through the
 * service manager's datagram socket in $NOTIFY_SOCKET. Private to agent/.
 *
 * READY=1 once the agent says it serves (a predicate polled on the loop),
 * WATCHDOG=1 every half $WATCHDOG_USEC from a timer on the same loop (so a
 * stuck loop stops the pings and systemd restarts the daemon), STOPPING=1
 * and RELOADING=1 when the agent says so. Without $NOTIFY_SOCKET every call
 * is a no-op.
 */
#ifndef HSA_NOTIFY_H
#define HSA_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <ev.h>

/* Whether the agent is ready; may write a STATUS= text into status. */
typedef bool (*hsa_ready_fn)(void *arg, char *status, size_t len);

typedef struct hsa_notify {
    int fd; /* -1: no service manager to tell */
    struct sockaddr_un addr;
    socklen_t addr_len;
    uint64_t watchdog_usec; /* 0: no watchdog asked for */
    bool ready_sent;
    char last_status[128];
    struct ev_loop *loop;
    ev_timer ready_timer, watchdog_timer;
    hsa_ready_fn ready;
    void *ready_arg;
    uint64_t sent, send_errors;
} hsa_notify;

/* Reads $NOTIFY_SOCKET ("/path" or "@abstract"), $WATCHDOG_USEC and
 * $WATCHDOG_PID, then removes them from the environment so event handlers
 * do not inherit them. 0, also when there is no socket (n->fd stays -1);
 * -1 with err for a malformed variable or a socket that cannot be made. */
int hsa_notify_init(hsa_notify *n, char *err, size_t errlen);

/* Sends one message ("READY=1", "STOPPING=1", ...; several separated by
 * '\n'). Failures are counted, never fatal: the daemon works without a
 * supervisor. */
void hsa_notify_send(hsa_notify *n, const char *msg);

/* Starts polling `ready` (every 100 ms until it says yes, then READY=1)
 * and the watchdog timer, on loop. */
void hsa_notify_start(hsa_notify *n, struct ev_loop *loop, hsa_ready_fn ready,
                      void *arg);

/* Stops the timers and closes the socket. Idempotent. */
void hsa_notify_close(hsa_notify *n);

#endif /* HSA_NOTIFY_H */
