/*
 * test_agent_handlers.c — the event-handler runner (agent/handlers.c) with
 * real /bin/sh children on libev's default loop: environment and stdin
 * reach the handler, its output reaches the log, a handler past its timeout
 * is killed with its whole process group, concurrency and the queue are
 * bounded (overflow counted), failures are counted, and a handler that
 * never reads a large stdin does not wedge anything.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <ev.h>

#include "agent/handlers.h"

typedef struct fixture {
    struct ev_loop *loop;
    hsa_log log;
    hsa_agent_stats stats;
    char dir[64];
    char logpath[128];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->loop = ev_default_loop(0);
    snprintf(f->dir, sizeof f->dir, "/tmp/hs_handlers_XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->logpath, sizeof f->logpath, "%s/log", f->dir);
    hsa_log_init(&f->log, "test", "n1", HS_LOG_DEBUG);
    f->log.fd =
        open(f->logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(f->log.fd >= 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    close(f->log.fd);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", f->dir);
    free(f);
    return 0;
}

static void deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    *(int *)w->data = 1;
}

/* Runs the loop until nothing is running or queued, or `secs` passed.
 * Returns the seconds it took. */
static double drain(fixture *f, double secs)
{
    int expired = 0;
    ev_timer t;
    ev_timer_init(&t, deadline_cb, secs, 0.);
    t.data = &expired;
    ev_timer_start(f->loop, &t);
    ev_now_update(f->loop);
    double start = ev_now(f->loop);
    while (!expired &&
           (f->stats.handlers_running > 0 || f->stats.handlers_queued > 0))
        ev_run(f->loop, EVRUN_ONCE);
    ev_timer_stop(f->loop, &t);
    ev_now_update(f->loop);
    if (expired)
        fail_msg("handlers still running after %.1f s", secs);
    return ev_now(f->loop) - start;
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return strdup("");
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return strdup(buf);
}

static void run_one(hsa_handlers *h, hs_event_type t, const char *input)
{
    char *env[] = {"HEARSAY_EVENT=member-join", "HEARSAY_MEMBER_NAME=n2",
                   "HEARSAY_TAG_ROLE=db", NULL};
    hsa_handlers_run(h, t, env, input, strlen(input));
}

static void test_env_stdin_output(void **state)
{
    fixture *f = *state;
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "printf '%%s|%%s|%%s\\n' \"$HEARSAY_EVENT\" "
             "\"$HEARSAY_MEMBER_NAME\" \"$HEARSAY_TAG_ROLE\" > %s/out; "
             "cat >> %s/out; echo hello-from-handler; echo to-stderr >&2",
             f->dir, f->dir);
    hsa_handler_spec spec = {1u << HS_EVENT_JOIN, cmd, NULL, NULL};
    hsa_handlers *h =
        hsa_handlers_new(f->loop, &f->log, &f->stats, &spec, 1, 2, 8, 5000);
    assert_non_null(h);
    assert_true(hsa_handlers_wants(h, HS_EVENT_JOIN));
    assert_false(hsa_handlers_wants(h, HS_EVENT_FAIL));
    run_one(h, HS_EVENT_FAIL, "ignored\n"); /* filtered out */
    run_one(h, HS_EVENT_JOIN, "n2\t127.0.0.1:7002\talive\trole=db\n");
    drain(f, 5);
    assert_int_equal(f->stats.handler_ok, 1);
    assert_int_equal(f->stats.handler_failed, 0);
    char path[128];
    snprintf(path, sizeof path, "%s/out", f->dir);
    char *out = slurp(path);
    assert_string_equal(out, "member-join|n2|db\n"
                             "n2\t127.0.0.1:7002\talive\trole=db\n");
    free(out);
    char *log = slurp(f->logpath);
    assert_non_null(strstr(log, "hello-from-handler"));
    assert_non_null(strstr(log, "to-stderr"));
    free(log);
    hsa_handlers_free(h);
}

static void test_timeout_kills_group(void **state)
{
    fixture *f = *state;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "sleep 30 & echo $! > %s/child; wait", f->dir);
    hsa_handler_spec spec = {~0u, cmd, NULL, NULL};
    hsa_handlers *h =
        hsa_handlers_new(f->loop, &f->log, &f->stats, &spec, 1, 2, 8, 300);
    run_one(h, HS_EVENT_JOIN, "x\n");
    double took = drain(f, 5);
    assert_true(took < 2.0);
    assert_int_equal(f->stats.handler_timeout, 1);
    assert_int_equal(f->stats.handler_ok, 0);
    /* The background sleep went with the group. */
    char path[128];
    snprintf(path, sizeof path, "%s/child", f->dir);
    char *pid_s = slurp(path);
    pid_t pid = (pid_t)atoi(pid_s);
    free(pid_s);
    assert_true(pid > 0);
    bool gone = false;
    for (int i = 0; i < 50 && !gone; i++) {
        char stat[64], buf[256] = "";
        snprintf(stat, sizeof stat, "/proc/%d/stat", (int)pid);
        FILE *fp = fopen(stat, "r");
        if (!fp) {
            gone = true;
            break;
        }
        size_t n = fread(buf, 1, sizeof buf - 1, fp);
        buf[n] = '\0';
        fclose(fp);
        const char *rp = strrchr(buf, ')');
        gone = rp && rp[2] == 'Z'; /* killed; its reaper is not us */
        if (!gone)
            usleep(20000);
    }
    if (!gone)
        kill((pid_t)pid, SIGKILL);
    assert_true(gone);
    char *log = slurp(f->logpath);
    assert_non_null(strstr(log, "(timeout)"));
    free(log);
    hsa_handlers_free(h);
}

static void test_bounds_and_failures(void **state)
{
    fixture *f = *state;
    /* One at a time, two waiting: of four runs, one is dropped. */
    hsa_handler_spec spec = {~0u, "sleep 0.1; exit 3", NULL, NULL};
    hsa_handlers *h =
        hsa_handlers_new(f->loop, &f->log, &f->stats, &spec, 1, 1, 2, 5000);
    for (int i = 0; i < 4; i++) {
        run_one(h, HS_EVENT_JOIN, "x\n");
        assert_true(f->stats.handlers_running <= 1);
    }
    assert_int_equal(f->stats.handler_dropped, 1);
    assert_int_equal(f->stats.handlers_queued, 2);
    double took = drain(f, 5);
    assert_true(took >= 0.25); /* serialised: three runs of 0.1 s */
    assert_int_equal(f->stats.handler_failed, 3);
    char *log = slurp(f->logpath);
    assert_non_null(strstr(log, "exited with status 3"));
    assert_non_null(strstr(log, "dropped"));
    free(log);
    hsa_handlers_free(h);
}

static void test_unread_large_stdin(void **state)
{
    fixture *f = *state;
    hsa_handler_spec spec = {~0u, "exit 0", NULL, NULL};
    hsa_handlers *h =
        hsa_handlers_new(f->loop, &f->log, &f->stats, &spec, 1, 4, 8, 5000);
    size_t n = 1 << 20; /* far beyond a pipe's buffer */
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, 'x', n);
    big[n] = '\0';
    run_one(h, HS_EVENT_JOIN, big);
    free(big);
    drain(f, 5);
    assert_int_equal(f->stats.handler_ok, 1);
    hsa_handlers_free(h);
}

static void test_free_terminates_running(void **state)
{
    fixture *f = *state;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "echo $$ > %s/pid; exec sleep 30", f->dir);
    hsa_handler_spec spec = {~0u, cmd, NULL, NULL};
    hsa_handlers *h =
        hsa_handlers_new(f->loop, &f->log, &f->stats, &spec, 1, 4, 8, 60000);
    run_one(h, HS_EVENT_JOIN, "x\n");
    char path[128];
    snprintf(path, sizeof path, "%s/pid", f->dir);
    pid_t pid = 0;
    for (int i = 0; i < 200 && pid <= 0; i++) {
        ev_run(f->loop, EVRUN_NOWAIT);
        usleep(10000);
        char *s = slurp(path);
        pid = (pid_t)atoi(s);
        free(s);
    }
    assert_true(pid > 0);
    hsa_handlers_free(h);
    int status;
    /* Our child, so we can reap it ourselves now. */
    pid_t r = waitpid(pid, &status, 0);
    assert_int_equal(r, pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGTERM);
}

int main(void)
{
    /* As in hearsayd: a handler that exits without reading its stdin must
     * give the writer EPIPE, not kill it. */
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_env_stdin_output, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout_kills_group, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bounds_and_failures, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unread_large_stdin, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_free_terminates_running, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
