/*
 * resolve.c — the seed resolver thread (see resolve.h).
 *
 * SRV names go through res_nquery() (libresolv) and each target through
 * getaddrinfo(), on the same thread for the same reason.
 *
 * getaddrinfo() blocks, for as long as the system resolver's timeouts say
 * (5 s per server and attempt by default), so it never runs on the loop.
 * One thread per node sleeps on a condition variable until the next
 * re-resolution is due or a new name arrives, resolves every name, stores
 * the answers and pokes the node (which wakes its loop).
 *
 * The thread shares this struct with the node by reference count. Stopping
 * joins an idle thread; a thread stuck in getaddrinfo() is detached instead
 * and frees the struct itself when the call returns, so hs_node_stop() is
 * never held up by a dead DNS server.
 */
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "membership/resolve.h"

struct hs_resolver {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* on CLOCK_MONOTONIC */
    unsigned refs;     /* the node's, and the thread's while it runs */

    void (*announce)(void *arg); /* NULL once stopped: nobody to tell */
    void *announce_arg;
    int family;
    uint32_t interval_ms;

    bool started;  /* hs__resolver_start() was called */
    bool running;  /* the thread exists */
    bool busy;     /* the thread is inside a resolution pass */
    bool due_now;  /* a name was added: resolve without waiting */
    bool stopping; /* the thread must exit */
    pthread_t thread;

    hs_resolved *names;
    unsigned n_names, cap_names;
};

static void destroy(hs_resolver *r)
{
    for (unsigned i = 0; i < r->n_names; i++) {
        free((char *)r->names[i].host);
        free(r->names[i].addrs);
    }
    free(r->names);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

hs_err hs__resolver_new(hs_resolver **out)
{
    *out = NULL;
    hs_resolver *r = calloc(1, sizeof *r);
    if (!r)
        return HS_ENOMEM;
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0) {
        free(r);
        return HS_ENOMEM;
    }
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int e1 = pthread_mutex_init(&r->mu, NULL);
    int e2 = pthread_cond_init(&r->cv, &attr);
    pthread_condattr_destroy(&attr);
    if (e1 || e2) {
        if (!e1)
            pthread_mutex_destroy(&r->mu);
        if (!e2)
            pthread_cond_destroy(&r->cv);
        free(r);
        return HS_ENOMEM;
    }
    r->refs = 1;
    *out = r;
    return HS_OK;
}

/* Appends host:port's addresses to addrs (canonical strings, deduplicated,
 * at most HS_RESOLVE_MAX_ADDRS in all). Returns the getaddrinfo() code,
 * EAI_NONAME for an answer with nothing usable. */
static int resolve_host(const char *host, unsigned port, int family,
                        char (*addrs)[HS_ADDR_STRLEN], unsigned *n_addrs)
{
    char service[8];
    snprintf(service, sizeof service, "%u", port);
    struct addrinfo hints = {.ai_family = family,
                             .ai_socktype = SOCK_DGRAM,
                             .ai_flags = AI_NUMERICSERV},
                    *res = NULL;
    int rc = getaddrinfo(host, service, &hints, &res);
    if (rc != 0)
        return rc;
    unsigned before = *n_addrs;
    for (const struct addrinfo *ai = res; ai && *n_addrs < HS_RESOLVE_MAX_ADDRS;
         ai = ai->ai_next) {
        char buf[HS_ADDR_STRLEN];
        if (hs__addr_format(ai->ai_addr, buf, sizeof buf) != HS_OK)
            continue;
        bool dup = false;
        for (unsigned i = 0; i < *n_addrs && !dup; i++)
            dup = strcmp(addrs[i], buf) == 0;
        if (!dup)
            memcpy(addrs[(*n_addrs)++], buf, sizeof buf);
    }
    freeaddrinfo(res);
    return *n_addrs > before ? 0 : EAI_NONAME;
}

typedef struct srv_target {
    unsigned priority, port;
    char name[NS_MAXDNAME];
} srv_target;

static int by_priority(const void *a, const void *b)
{
    const srv_target *x = a, *y = b;
    return (x->priority > y->priority) - (x->priority < y->priority);
}

/* The SRV records of name (RFC 2782), through the libc resolver
 * (res_nquery, so /etc/resolv.conf and its timeouts apply), each target
 * resolved with getaddrinfo(). A target "." means "no such service". The
 * answer buffer is the 64 KiB a DNS message can hold, so a large record
 * set is never silently truncated by us (the server may still set TC and
 * the resolver retries over TCP). */
static int resolve_srv(const char *name, int family,
                       char (*addrs)[HS_ADDR_STRLEN], unsigned *n_addrs)
{
    enum { MAX_TARGETS = HS_RESOLVE_MAX_ADDRS };
    unsigned char *ans = malloc(NS_MAXMSG);
    srv_target *t = calloc(MAX_TARGETS, sizeof *t);
    struct __res_state st;
    memset(&st, 0, sizeof st);
    int rc = EAI_MEMORY, nt = 0;
    bool st_ok = false;
    if (!ans || !t)
        goto out;
    rc = EAI_FAIL;
    if (res_ninit(&st) != 0)
        goto out;
    st_ok = true;
    int len = res_nquery(&st, name, ns_c_in, ns_t_srv, ans, NS_MAXMSG);
    if (len < 0) {
        rc = st.res_h_errno == HOST_NOT_FOUND || st.res_h_errno == NO_DATA
                 ? EAI_NONAME
                 : EAI_AGAIN;
        goto out;
    }
    ns_msg msg;
    if (ns_initparse(ans, len > NS_MAXMSG ? NS_MAXMSG : len, &msg) < 0)
        goto out;
    int count = ns_msg_count(msg, ns_s_an);
    for (int i = 0; i < count && nt < MAX_TARGETS; i++) {
        ns_rr rr;
        if (ns_parserr(&msg, ns_s_an, i, &rr) < 0)
            goto out;
        /* priority, weight, port (16 bits each), then the target. */
        if (ns_rr_type(rr) != ns_t_srv || ns_rr_rdlen(rr) < 7)
            continue;
        const unsigned char *rd = ns_rr_rdata(rr);
        srv_target *x = &t[nt];
        x->priority = ns_get16(rd);
        x->port = ns_get16(rd + 4);
        if (ns_name_uncompress(ns_msg_base(msg), ns_msg_end(msg), rd + 6,
                               x->name, sizeof x->name) < 0)
            continue;
        if (x->port == 0 || strcmp(x->name, ".") == 0 || !x->name[0])
            continue;
        nt++;
    }
    qsort(t, (size_t)nt, sizeof *t, by_priority);
    rc = EAI_NONAME;
    for (int i = 0; i < nt; i++) {
        int r = resolve_host(t[i].name, t[i].port, family, addrs, n_addrs);
        if (r == 0)
            rc = 0;
        else if (rc != 0)
            rc = r;
    }
out:
    if (st_ok)
        res_nclose(&st);
    free(ans);
    free(t);
    return rc;
}

/* Resolves one name (a host name with a port, or an SRV name with port 0)
 * into addrs. 0, or a getaddrinfo() error code. */
static int resolve_one(const char *host, unsigned port, int family,
                       char (*addrs)[HS_ADDR_STRLEN], unsigned *n_addrs)
{
    *n_addrs = 0;
    if (port == 0 && strncmp(host, HS_SRV_PREFIX, strlen(HS_SRV_PREFIX)) == 0)
        return resolve_srv(host + strlen(HS_SRV_PREFIX), family, addrs,
                           n_addrs);
    return resolve_host(host, port, family, addrs, n_addrs);
}

static struct timespec deadline_after(uint32_t ms)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

/* One pass over every name. Called and returns with r->mu held; drops it
 * around each getaddrinfo(). Names are only ever appended, so index i
 * stays valid while the lock is released. */
static void resolve_all(hs_resolver *r)
{
    char(*tmp)[HS_ADDR_STRLEN] = malloc(HS_RESOLVE_MAX_ADDRS * sizeof *tmp);
    for (unsigned i = 0; i < r->n_names && !r->stopping; i++) {
        char *host = strdup(r->names[i].host);
        unsigned port = r->names[i].port, n = 0;
        int family = r->family;
        int rc = EAI_MEMORY;
        pthread_mutex_unlock(&r->mu);
        if (host && tmp)
            rc = resolve_one(host, port, family, tmp, &n);
        free(host);
        pthread_mutex_lock(&r->mu);
        hs_resolved *x = &r->names[i];
        x->attempts++;
        x->fresh = true;
        x->error = rc;
        x->error_text = rc ? gai_strerror(rc) : NULL;
        if (rc == 0) {
            memcpy(x->addrs, tmp, n * sizeof *tmp);
            x->n_addrs = n;
        }
    }
    free(tmp);
}

static void *resolver_main(void *arg)
{
    hs_resolver *r = arg;
    pthread_mutex_lock(&r->mu);
    struct timespec next = {0, 0};
    bool have_next = false;
    for (;;) {
        while (!r->stopping && !r->due_now) {
            if (have_next) {
                if (pthread_cond_timedwait(&r->cv, &r->mu, &next) == ETIMEDOUT)
                    break;
            } else {
                pthread_cond_wait(&r->cv, &r->mu);
            }
        }
        if (r->stopping)
            break;
        r->due_now = false;
        r->busy = true;
        resolve_all(r);
        r->busy = false;
        have_next = r->interval_ms > 0;
        if (have_next)
            next = deadline_after(r->interval_ms);
        if (!r->stopping && r->announce)
            r->announce(r->announce_arg);
    }
    bool last = --r->refs == 0;
    pthread_mutex_unlock(&r->mu);
    if (last)
        destroy(r);
    return NULL;
}

/* With r->mu held. Signals stay with the application's threads. */
static hs_err spawn(hs_resolver *r)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&r->thread, NULL, resolver_main, r);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return HS_EIO;
    r->running = true;
    r->refs++;
    return HS_OK;
}

hs_err hs__resolver_start(hs_resolver *r, void (*announce)(void *arg),
                          void *arg, int family, uint32_t interval_ms)
{
    hs_err err = HS_OK;
    pthread_mutex_lock(&r->mu);
    if (r->stopping) { /* the node was stopped before it got here */
        pthread_mutex_unlock(&r->mu);
        return HS_OK;
    }
    r->announce = announce;
    r->announce_arg = arg;
    r->family = family;
    r->interval_ms = interval_ms;
    r->started = true;
    if (r->n_names && !r->running) {
        r->due_now = true;
        err = spawn(r);
    }
    pthread_mutex_unlock(&r->mu);
    return err;
}

hs_err hs__resolver_add(hs_resolver *r, const char *host, unsigned port,
                        unsigned max_names)
{
    hs_err err = HS_OK;
    pthread_mutex_lock(&r->mu);
    if (r->stopping) {
        err = HS_ESTATE;
        goto out;
    }
    for (unsigned i = 0; i < r->n_names; i++)
        if (r->names[i].port == port && strcmp(r->names[i].host, host) == 0)
            goto out;
    if (r->n_names >= max_names) {
        err = HS_EFULL;
        goto out;
    }
    if (r->n_names == r->cap_names) {
        unsigned cap = r->cap_names ? 2 * r->cap_names : 4;
        hs_resolved *p = realloc(r->names, cap * sizeof *p);
        if (!p) {
            err = HS_ENOMEM;
            goto out;
        }
        r->names = p;
        r->cap_names = cap;
    }
    hs_resolved *x = &r->names[r->n_names];
    memset(x, 0, sizeof *x);
    x->host = strdup(host);
    x->addrs = calloc(HS_RESOLVE_MAX_ADDRS, sizeof *x->addrs);
    if (!x->host || !x->addrs) {
        free((char *)x->host);
        free(x->addrs);
        err = HS_ENOMEM;
        goto out;
    }
    x->port = port;
    r->n_names++;
    r->due_now = true;
    if (r->started && !r->running)
        err = spawn(r);
    else
        pthread_cond_signal(&r->cv);
out:
    pthread_mutex_unlock(&r->mu);
    return err;
}

void hs__resolver_refresh(hs_resolver *r)
{
    pthread_mutex_lock(&r->mu);
    if (r->running && !r->stopping && r->n_names) {
        r->due_now = true;
        pthread_cond_signal(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
}

unsigned hs__resolver_count(hs_resolver *r)
{
    pthread_mutex_lock(&r->mu);
    unsigned n = r->n_names;
    pthread_mutex_unlock(&r->mu);
    return n;
}

void hs__resolver_collect(hs_resolver *r,
                          void (*fn)(void *arg, const hs_resolved *names,
                                     unsigned n),
                          void *arg)
{
    pthread_mutex_lock(&r->mu);
    fn(arg, r->names, r->n_names);
    for (unsigned i = 0; i < r->n_names; i++)
        r->names[i].fresh = false;
    pthread_mutex_unlock(&r->mu);
}

void hs__resolver_stop(hs_resolver *r)
{
    pthread_mutex_lock(&r->mu);
    if (r->stopping) {
        pthread_mutex_unlock(&r->mu);
        return;
    }
    r->stopping = true;
    r->announce = NULL;
    r->announce_arg = NULL;
    pthread_cond_signal(&r->cv);
    bool join = r->running && !r->busy;
    if (r->running && !join)
        pthread_detach(r->thread);
    pthread_mutex_unlock(&r->mu);
    if (join)
        pthread_join(r->thread, NULL);
}

void hs__resolver_free(hs_resolver *r)
{
    if (!r)
        return;
    hs__resolver_stop(r);
    pthread_mutex_lock(&r->mu);
    bool last = --r->refs == 0;
    pthread_mutex_unlock(&r->mu);
    if (last)
        destroy(r);
}
