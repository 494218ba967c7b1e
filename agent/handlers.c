/*
 * handlers.c — running --event-handler programs (see handlers.h).
 *
 * A run is `/bin/sh -c CMD` started with posix_spawn in a process group of
 * its own (so a timeout can kill the handler and anything it started), with
 * an empty signal mask and SIGPIPE back to default (the daemon ignores it,
 * and ignored signals survive exec), and no descriptor of the daemon's
 * beyond stdin/stdout/stderr. Its stdin is a pipe the loop writes the
 * member line into; its stdout and stderr go to one pipe whose lines the
 * daemon logs (a bounded amount per run). The child is reaped by an
 * ev_child watcher, which is why this needs libev's default loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ev.h>

#include "agent/buf.h"
#include "agent/handlers.h"

extern char **environ;

/* Output a run may put in the log; the rest is read and discarded, so a
 * chatty handler cannot flood the daemon's log. */
#define OUT_LOG_MAX 4096

typedef struct job {
    hsa_handlers *h;
    size_t idx; /* which handler (for logs) */
    hs_event_type type;
    char **envp; /* the child's whole environment, one allocation */
    char *input;
    size_t input_len, input_off;
    pid_t pid;
    int in_fd, out_fd;
    ev_child child;
    ev_timer timer;
    ev_io in_io, out_io;
    bool timed_out;
    ev_tstamp started;
    char line[512]; /* a partial output line */
    size_t line_len;
    size_t out_logged;
    /* A query's run: its standard output, up to HSA_QUERY_OUT_MAX bytes
     * (the rest read and discarded), answers the query through done. */
    hsa_query_done_cb done;
    void *done_ctx;
    uint64_t query_id;
    int resp_fd;
    ev_io resp_io;
    char resp[HSA_QUERY_OUT_MAX];
    size_t resp_len;
    struct job *next, *prev;
} job;

struct hsa_handlers {
    struct ev_loop *loop;
    hsa_log *log;
    hsa_agent_stats *stats;
    const hsa_handler_spec *specs;
    size_t n_specs;
    uint32_t concurrency, queue_max;
    double timeout;
    job *queue_head, *queue_tail; /* waiting, FIFO via next */
    uint32_t queued;
    job *running; /* doubly linked */
    uint32_t n_running;
};

/* ---- Environment and input -------------------------------------------- */

static void env_add(hsa_buf *b, size_t *n, const char *name, const char *val,
                    size_t vlen)
{
    hsa_buf_puts(b, name);
    hsa_buf_append(b, "=", 1);
    /* An environment string ends at the first NUL. */
    const char *nul = memchr(val, '\0', vlen);
    hsa_buf_append(b, val, nul ? (size_t)(nul - val) : vlen);
    hsa_buf_append(b, "", 1);
    (*n)++;
}

static void env_add_str(hsa_buf *b, size_t *n, const char *name,
                        const char *val)
{
    env_add(b, n, name, val ? val : "", val ? strlen(val) : 0);
}

/* HEARSAY_..._TAG_<KEY>: letters upper-cased, anything else but digits
 * becomes '_', as shells want. */
static void env_add_tags(hsa_buf *b, size_t *n, const char *prefix,
                         const hs_member *m)
{
    for (size_t i = 0; m && i < m->n_tags; i++) {
        char name[200];
        size_t pl = strlen(prefix), k = 0;
        memcpy(name, prefix, pl);
        for (const char *p = m->tags[i].key; *p && pl + k < sizeof name - 1;
             p++, k++) {
            char c = *p;
            if (c >= 'a' && c <= 'z')
                c = (char)(c - 'a' + 'A');
            else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
                c = '_';
            name[pl + k] = c;
        }
        name[pl + k] = '\0';
        env_add(b, n, name, (const char *)m->tags[i].value,
                m->tags[i].value_len);
    }
}

char **hsa_handler_env(const hs_event *ev, const hs_member *m, const char *self,
                       const hs_member *self_m, const char *http_addr)
{
    hsa_buf b = HSA_BUF_INIT;
    size_t n = 0;
    char num[32];
    env_add_str(&b, &n, "HEARSAY_EVENT", hsa_event_env_name(ev->type));
    env_add_str(&b, &n, "HEARSAY_SELF", self);
    env_add_str(&b, &n, "HEARSAY_MEMBER_NAME", ev->name);
    env_add_str(&b, &n, "HEARSAY_MEMBER_ADDR", ev->addr);
    env_add_str(&b, &n, "HEARSAY_MEMBER_STATE",
                hs_member_state_name(ev->state));
    snprintf(num, sizeof num, "%llu", (unsigned long long)ev->generation);
    env_add_str(&b, &n, "HEARSAY_MEMBER_GENERATION", num);
    if (ev->type == HS_EVENT_USER && ev->user_name) {
        /* serf's SERF_USER_EVENT and SERF_USER_LTIME; the payload is on
         * stdin. */
        env_add_str(&b, &n, "HEARSAY_USER_EVENT", ev->user_name);
        snprintf(num, sizeof num, "%llu", (unsigned long long)ev->user_ltime);
        env_add_str(&b, &n, "HEARSAY_USER_LTIME", num);
        env_add_str(&b, &n, "HEARSAY_USER_LOCAL", ev->local ? "1" : "0");
    }
    if (ev->type == HS_EVENT_QUERY && ev->user_name) {
        /* serf's SERF_QUERY_NAME; the payload is on stdin, the answer is
         * what the handler prints. */
        env_add_str(&b, &n, "HEARSAY_QUERY_NAME", ev->user_name);
        snprintf(num, sizeof num, "%llu", (unsigned long long)ev->query_id);
        env_add_str(&b, &n, "HEARSAY_QUERY_ID", num);
        env_add_str(&b, &n, "HEARSAY_QUERY_LOCAL", ev->local ? "1" : "0");
    }
    if (ev->type == HS_EVENT_UPDATE) {
        env_add_str(&b, &n, "HEARSAY_KEY", ev->key);
        env_add_str(&b, &n, "HEARSAY_KEY_DELETED", ev->deleted ? "1" : "0");
        env_add_str(&b, &n, "HEARSAY_KEY_LOCAL", ev->local ? "1" : "0");
    }
    if (http_addr)
        env_add_str(&b, &n, "HEARSAY_HTTP_ADDR", http_addr);
    env_add_tags(&b, &n, "HEARSAY_MEMBER_TAG_", m);
    env_add_tags(&b, &n, "HEARSAY_TAG_", self_m);
    if (b.oom) {
        hsa_buf_free(&b);
        return NULL;
    }
    size_t vec = (n + 1) * sizeof(char *);
    char **out = malloc(vec + b.len);
    if (!out) {
        hsa_buf_free(&b);
        return NULL;
    }
    char *strings = (char *)out + vec;
    memcpy(strings, b.data, b.len);
    for (size_t i = 0, off = 0; i < n; i++) {
        out[i] = strings + off;
        off += strlen(strings + off) + 1;
    }
    out[n] = NULL;
    hsa_buf_free(&b);
    return out;
}

/* Tabs and line breaks would break the line format: they become spaces. */
static void put_field(hsa_buf *b, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '\t' || c == '\n' || c == '\r' || c == '\0')
            c = ' ';
        hsa_buf_append(b, &c, 1);
    }
}

char *hsa_handler_input(const hs_event *ev, const hs_member *m, size_t *len)
{
    hsa_buf b = HSA_BUF_INIT;
    if ((ev->type == HS_EVENT_USER || ev->type == HS_EVENT_QUERY) &&
        ev->user_name) {
        /* A user event's or query's handler reads its payload, as serf's
         * does. */
        hsa_buf_append(&b, ev->user_payload, ev->user_payload_len);
        return hsa_buf_steal(&b, len);
    }
    put_field(&b, ev->name, strlen(ev->name));
    hsa_buf_append(&b, "\t", 1);
    put_field(&b, ev->addr ? ev->addr : "", ev->addr ? strlen(ev->addr) : 0);
    hsa_buf_append(&b, "\t", 1);
    hsa_buf_puts(&b, hs_member_state_name(ev->state));
    hsa_buf_append(&b, "\t", 1);
    for (size_t i = 0; m && i < m->n_tags; i++) {
        if (i)
            hsa_buf_append(&b, ",", 1);
        put_field(&b, m->tags[i].key, strlen(m->tags[i].key));
        hsa_buf_append(&b, "=", 1);
        put_field(&b, (const char *)m->tags[i].value, m->tags[i].value_len);
    }
    hsa_buf_append(&b, "\n", 1);
    return hsa_buf_steal(&b, len);
}

/* The daemon's environment minus the names in add, plus add. */
static char **merge_env(char *const *add)
{
    size_t n_add = 0, n_env = 0, bytes = 0;
    for (; add[n_add]; n_add++)
        bytes += strlen(add[n_add]) + 1;
    for (char **e = environ; e && *e; e++, n_env++)
        bytes += strlen(*e) + 1;
    size_t vec = (n_add + n_env + 1) * sizeof(char *);
    char **out = malloc(vec + bytes);
    if (!out)
        return NULL;
    char *s = (char *)out + vec;
    size_t k = 0;
    for (char **e = environ; e && *e; e++) {
        size_t nl = strcspn(*e, "=");
        bool overridden = false;
        for (size_t i = 0; i < n_add && !overridden; i++)
            overridden = strncmp(add[i], *e, nl) == 0 && add[i][nl] == '=';
        if (overridden)
            continue;
        size_t l = strlen(*e) + 1;
        memcpy(s, *e, l);
        out[k++] = s;
        s += l;
    }
    for (size_t i = 0; i < n_add; i++) {
        size_t l = strlen(add[i]) + 1;
        memcpy(s, add[i], l);
        out[k++] = s;
        s += l;
    }
    out[k] = NULL;
    return out;
}

/* ---- Runs -------------------------------------------------------------- */

static void job_free(job *j)
{
    if (j->done) /* never ran, or did not finish: no answer */
        j->done(j->done_ctx, j->query_id, NULL, 0);
    free(j->envp);
    free(j->input);
    free(j);
}

static void pump(hsa_handlers *h);

static void close_in(job *j)
{
    if (j->in_fd >= 0) {
        ev_io_stop(j->h->loop, &j->in_io);
        close(j->in_fd);
        j->in_fd = -1;
    }
}

static void log_output_line(job *j)
{
    hsa_handlers *h = j->h;
    j->line[j->line_len] = '\0';
    if (j->out_logged < OUT_LOG_MAX) {
        hsa_logf(h->log, HS_LOG_INFO, "event handler %zu (%s): %s", j->idx,
                 hsa_event_env_name(j->type), j->line);
        j->out_logged += j->line_len + 1;
        if (j->out_logged >= OUT_LOG_MAX)
            hsa_logf(h->log, HS_LOG_INFO,
                     "event handler %zu: more output, not logged", j->idx);
    }
    j->line_len = 0;
}

/* Reads what is there; returns false at EOF or error. */
static bool read_output(job *j)
{
    char buf[1024];
    for (;;) {
        ssize_t r = read(j->out_fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return errno == EAGAIN;
        if (r == 0)
            return false;
        for (ssize_t i = 0; i < r; i++) {
            if (buf[i] == '\n' || j->line_len == sizeof j->line - 1)
                log_output_line(j);
            if (buf[i] != '\n')
                j->line[j->line_len++] = buf[i];
        }
    }
}

static void close_out(job *j)
{
    if (j->out_fd >= 0) {
        read_output(j);
        if (j->line_len)
            log_output_line(j);
        ev_io_stop(j->h->loop, &j->out_io);
        close(j->out_fd);
        j->out_fd = -1;
    }
}

/* A query run's standard output: kept up to the bound, the rest read and
 * dropped. false at EOF or error. */
static bool read_resp(job *j)
{
    char buf[1024];
    for (;;) {
        ssize_t r = read(j->resp_fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return errno == EAGAIN;
        if (r == 0)
            return false;
        size_t room = sizeof j->resp - j->resp_len;
        size_t take = (size_t)r < room ? (size_t)r : room;
        memcpy(j->resp + j->resp_len, buf, take);
        j->resp_len += take;
    }
}

static void close_resp(job *j)
{
    if (j->resp_fd >= 0) {
        read_resp(j);
        ev_io_stop(j->h->loop, &j->resp_io);
        close(j->resp_fd);
        j->resp_fd = -1;
    }
}

static void resp_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    job *j = w->data;
    if (!read_resp(j)) {
        ev_io_stop(loop, &j->resp_io);
        close(j->resp_fd);
        j->resp_fd = -1;
    }
}

static void out_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    job *j = w->data;
    if (!read_output(j))
        close_out(j);
}

static void in_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    job *j = w->data;
    while (j->input_off < j->input_len) {
        ssize_t r = write(j->in_fd, j->input + j->input_off,
                          j->input_len - j->input_off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno == EAGAIN)
            return; /* wait for room */
        if (r <= 0)
            break; /* EPIPE: the handler does not read stdin; fine */
        j->input_off += (size_t)r;
    }
    close_in(j);
}

static void child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
    job *j = w->data;
    hsa_handlers *h = j->h;
    int st = w->rstatus;
    ev_child_stop(loop, &j->child);
    ev_timer_stop(loop, &j->timer);
    close_in(j);
    close_out(j);
    close_resp(j);
    double ms = (ev_now(loop) - j->started) * 1000.0;
    if (j->done && !j->timed_out && WIFEXITED(st) && WEXITSTATUS(st) == 0) {
        hsa_query_done_cb done = j->done;
        j->done = NULL;
        done(j->done_ctx, j->query_id, j->resp, j->resp_len);
    }
    if (j->timed_out) {
        h->stats->handler_timeout++;
        hsa_logf(h->log, HS_LOG_WARN,
                 "event handler %zu (%s): killed after %.0f ms (timeout)",
                 j->idx, hsa_event_env_name(j->type), ms);
    } else if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
        h->stats->handler_ok++;
        hsa_logf(h->log, HS_LOG_DEBUG, "event handler %zu (%s): ok in %.0f ms",
                 j->idx, hsa_event_env_name(j->type), ms);
    } else {
        h->stats->handler_failed++;
        if (WIFEXITED(st))
            hsa_logf(h->log, HS_LOG_WARN,
                     "event handler %zu (%s): exited with status %d", j->idx,
                     hsa_event_env_name(j->type), WEXITSTATUS(st));
        else
            hsa_logf(h->log, HS_LOG_WARN,
                     "event handler %zu (%s): killed by signal %d", j->idx,
                     hsa_event_env_name(j->type),
                     WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    }
    if (j->prev)
        j->prev->next = j->next;
    else
        h->running = j->next;
    if (j->next)
        j->next->prev = j->prev;
    h->n_running--;
    h->stats->handlers_running = h->n_running;
    job_free(j);
    pump(h);
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    job *j = w->data;
    j->timed_out = true;
    /* The whole group: a handler's own children go too. The child watcher
     * does the accounting when the shell is reaped. */
    kill(-j->pid, SIGKILL);
}

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Starts j; false (and j is the caller's to free) if it could not. */
static bool start(hsa_handlers *h, job *j)
{
    int in[2] = {-1, -1}, out[2] = {-1, -1}, resp[2] = {-1, -1};
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    bool fa_ok = false, attr_ok = false, ok = false;
    int err = 0;
    const char *what = "pipe";

    if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 ||
        (j->done && pipe2(resp, O_CLOEXEC) < 0)) {
        err = errno;
        goto out;
    }
    what = "posix_spawn";
    if ((err = posix_spawn_file_actions_init(&fa)) != 0)
        goto out;
    fa_ok = true;
    if ((err = posix_spawnattr_init(&attr)) != 0)
        goto out;
    attr_ok = true;
    sigset_t none, dfl;
    sigemptyset(&none);
    sigemptyset(&dfl);
    sigaddset(&dfl, SIGPIPE);
    if ((err = posix_spawn_file_actions_adddup2(&fa, in[0], 0)) ||
        (err = posix_spawn_file_actions_adddup2(&fa, j->done ? resp[1] : out[1],
                                                1)) ||
        (err = posix_spawn_file_actions_adddup2(&fa, out[1], 2)) ||
        (err = posix_spawn_file_actions_addclosefrom_np(&fa, 3)) ||
        (err = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
                                                   POSIX_SPAWN_SETSIGMASK |
                                                   POSIX_SPAWN_SETSIGDEF)) ||
        (err = posix_spawnattr_setpgroup(&attr, 0)) ||
        (err = posix_spawnattr_setsigmask(&attr, &none)) ||
        (err = posix_spawnattr_setsigdefault(&attr, &dfl)))
        goto out;
    char *argv[] = {"sh", "-c", h->specs[j->idx].cmd, NULL};
    err = posix_spawn(&j->pid, "/bin/sh", &fa, &attr, argv, j->envp);
    if (err)
        goto out;
    ok = true;
out:
    if (fa_ok)
        posix_spawn_file_actions_destroy(&fa);
    if (attr_ok)
        posix_spawnattr_destroy(&attr);
    if (in[0] >= 0)
        close(in[0]);
    if (out[1] >= 0)
        close(out[1]);
    if (resp[1] >= 0)
        close(resp[1]);
    if (!ok) {
        if (in[1] >= 0)
            close(in[1]);
        if (out[0] >= 0)
            close(out[0]);
        if (resp[0] >= 0)
            close(resp[0]);
        h->stats->handler_spawn_errors++;
        hsa_logf(h->log, HS_LOG_ERROR, "event handler %zu (%s): %s: %s", j->idx,
                 hsa_event_env_name(j->type), what, strerror(err));
        return false;
    }
    j->in_fd = in[1];
    j->out_fd = out[0];
    j->resp_fd = resp[0];
    if (j->resp_fd >= 0) {
        set_nonblock(j->resp_fd);
        ev_io_init(&j->resp_io, resp_cb, j->resp_fd, EV_READ);
        j->resp_io.data = j;
        ev_io_start(h->loop, &j->resp_io);
    }
    set_nonblock(j->in_fd);
    set_nonblock(j->out_fd);
    j->started = ev_now(h->loop);
    ev_child_init(&j->child, child_cb, j->pid, 0);
    j->child.data = j;
    ev_child_start(h->loop, &j->child);
    ev_timer_init(&j->timer, timer_cb, h->timeout, 0.);
    j->timer.data = j;
    ev_timer_start(h->loop, &j->timer);
    ev_io_init(&j->out_io, out_cb, j->out_fd, EV_READ);
    j->out_io.data = j;
    ev_io_start(h->loop, &j->out_io);
    ev_io_init(&j->in_io, in_cb, j->in_fd, EV_WRITE);
    j->in_io.data = j;
    ev_io_start(h->loop, &j->in_io);
    hsa_logf(h->log, HS_LOG_DEBUG, "event handler %zu (%s): started pid %d",
             j->idx, hsa_event_env_name(j->type), (int)j->pid);
    return true;
}

static void pump(hsa_handlers *h)
{
    while (h->n_running < h->concurrency && h->queue_head) {
        job *j = h->queue_head;
        h->queue_head = j->next;
        if (!h->queue_head)
            h->queue_tail = NULL;
        h->queued--;
        j->next = j->prev = NULL;
        if (j->idx >= h->n_specs) { /* removed by a reload meanwhile */
            h->stats->handler_dropped++;
            job_free(j);
            continue;
        }
        if (!start(h, j)) {
            job_free(j);
            continue;
        }
        j->next = h->running;
        if (h->running)
            h->running->prev = j;
        h->running = j;
        h->n_running++;
    }
    h->stats->handlers_running = h->n_running;
    h->stats->handlers_queued = h->queued;
}

hsa_handlers *hsa_handlers_new(struct ev_loop *loop, hsa_log *log,
                               hsa_agent_stats *stats,
                               const hsa_handler_spec *specs, size_t n,
                               uint32_t concurrency, uint32_t queue_max,
                               uint32_t timeout_ms)
{
    hsa_handlers *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->loop = loop;
    h->log = log;
    h->stats = stats;
    h->specs = specs;
    h->n_specs = n;
    h->concurrency = concurrency ? concurrency : 1;
    h->queue_max = queue_max;
    h->timeout = (double)timeout_ms / 1000.0;
    return h;
}

void hsa_handlers_set_specs(hsa_handlers *h, const hsa_handler_spec *specs,
                            size_t n)
{
    h->specs = specs;
    h->n_specs = n;
}

int hsa_handlers_wants(const hsa_handlers *h, hs_event_type t)
{
    for (size_t i = 0; h && i < h->n_specs; i++) {
        if (h->specs[i].mask & (1u << t))
            return 1;
    }
    return 0;
}

/* Whether spec s takes event type t (named `user`, for a user event or a
 * query). */
static bool spec_takes(const hsa_handler_spec *s, hs_event_type t,
                       const char *user)
{
    if (!(s->mask & (1u << t)))
        return false;
    const char *names = t == HS_EVENT_USER    ? s->users
                        : t == HS_EVENT_QUERY ? s->queries
                                              : NULL;
    if (!names)
        return true;
    for (const char *n = names; *n; n += strlen(n) + 1)
        if (user && strcmp(n, user) == 0)
            return true;
    return false;
}

void hsa_handlers_run(hsa_handlers *h, hs_event_type t, char *const *env,
                      const char *input, size_t len)
{
    hsa_handlers_run_named(h, t, NULL, env, input, len);
}

void hsa_handlers_run_named(hsa_handlers *h, hs_event_type t, const char *user,
                            char *const *env, const char *input, size_t len)
{
    hsa_handlers_run_query(h, t, user, env, input, len, NULL, NULL, 0);
}

void hsa_handlers_run_query(hsa_handlers *h, hs_event_type t, const char *user,
                            char *const *env, const char *input, size_t len,
                            hsa_query_done_cb done, void *ctx,
                            uint64_t query_id)
{
    for (size_t i = 0; i < h->n_specs; i++) {
        if (!spec_takes(&h->specs[i], t, user))
            continue;
        if (h->queued >= h->queue_max) {
            h->stats->handler_dropped++;
            hsa_logf(h->log, HS_LOG_WARN,
                     "event handler %zu (%s): dropped, %u runs already "
                     "waiting",
                     i, hsa_event_env_name(t), h->queued);
            continue;
        }
        job *j = calloc(1, sizeof *j);
        if (j) {
            j->envp = merge_env(env);
            j->input = malloc(len ? len : 1);
        }
        if (!j || !j->envp || !j->input) {
            if (j)
                job_free(j);
            h->stats->handler_spawn_errors++;
            hsa_logf(h->log, HS_LOG_ERROR,
                     "event handler %zu (%s): out of memory", i,
                     hsa_event_env_name(t));
            continue;
        }
        memcpy(j->input, input, len);
        j->input_len = len;
        j->h = h;
        j->idx = i;
        j->type = t;
        j->in_fd = j->out_fd = j->resp_fd = -1;
        j->done = done;
        j->done_ctx = ctx;
        j->query_id = query_id;
        if (h->queue_tail)
            h->queue_tail->next = j;
        else
            h->queue_head = j;
        h->queue_tail = j;
        h->queued++;
    }
    pump(h);
}

void hsa_handlers_free(hsa_handlers *h)
{
    if (!h)
        return;
    while (h->queue_head) {
        job *j = h->queue_head;
        h->queue_head = j->next;
        job_free(j);
    }
    while (h->running) {
        job *j = h->running;
        h->running = j->next;
        hsa_logf(h->log, HS_LOG_WARN,
                 "event handler %zu (%s): still running at exit, sending "
                 "SIGTERM to pid %d",
                 j->idx, hsa_event_env_name(j->type), (int)j->pid);
        kill(-j->pid, SIGTERM);
        ev_child_stop(h->loop, &j->child);
        ev_timer_stop(h->loop, &j->timer);
        close_in(j);
        if (j->out_fd >= 0) {
            ev_io_stop(h->loop, &j->out_io);
            close(j->out_fd);
        }
        if (j->resp_fd >= 0) {
            ev_io_stop(h->loop, &j->resp_io);
            close(j->resp_fd);
        }
        job_free(j);
    }
    free(h);
}
