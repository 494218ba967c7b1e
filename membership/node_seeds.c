/*
 * node_seeds.c — joining: seeds parsed and checked (numeric addresses,
 * DNS names, srv+NAME records), numeric ones handed to the core, names to
 * the resolver thread (resolve.c), all within one bound per node.
 */
#include <stdlib.h>
#include <string.h>

#include "membership/node_impl.h"

/* ---- Seeds -------------------------------------------------------------- */

/* A DNS name as a seed host: letters, digits, '-', '_' and '.'. */
static bool valid_dns_name(const char *h)
{
    size_t len = strlen(h);
    if (len == 0 || len > 253)
        return false;
    for (const char *p = h; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
            return false;
    return true;
}

typedef struct parsed_seed {
    char host[HS_MAX_HOSTLEN];
    unsigned port;
    bool numeric;
    char canon[HS_ADDR_STRLEN]; /* numeric only */
} parsed_seed;

static hs_err parse_seed(hs_node *n, const char *s, parsed_seed *out)
{
    hs_sockaddr a;
    /* "srv+_service._proto.domain": SRV records give targets and ports
     * (resolve.h); kept whole, with port 0, as the resolver's name. */
    if (s && strncmp(s, HS_SRV_PREFIX, strlen(HS_SRV_PREFIX)) == 0) {
        const char *name = s + strlen(HS_SRV_PREFIX);
        if (strlen(s) >= sizeof out->host || !valid_dns_name(name))
            goto bad;
        memcpy(out->host, s, strlen(s) + 1);
        out->port = 0;
        out->numeric = false;
        return HS_OK;
    }
    if (!s ||
        hs__addr_split(s, out->host, sizeof out->host, &out->port) != HS_OK ||
        out->port == 0)
        goto bad;
    out->numeric = hs__addr_parse(s, &a) == HS_OK;
    if (out->numeric) {
        if (hs__addr_format((struct sockaddr *)&a.ss, out->canon,
                            sizeof out->canon) != HS_OK)
            goto bad;
        return HS_OK;
    }
    if (!valid_dns_name(out->host))
        goto bad;
    return HS_OK;
bad:
    hs__rt_log(n, HS_LOG_ERROR,
               "join: bad seed '%s': expected host:port, [ipv6]:port with "
               "a port of 1..65535, or srv+NAME for DNS SRV records",
               s ? s : "(null)");
    return HS_EADDR;
}

static bool has_seed(const hs_node *n, const char *canon)
{
    for (unsigned i = 0; i < n->n_seeds; i++)
        if (strcmp(n->seeds[i], canon) == 0)
            return true;
    return false;
}

HS_EXPORT hs_err hs_node_join(hs_node *n, const char *const *seeds,
                              size_t n_seeds)
{
    if (!n || (!seeds && n_seeds))
        return HS_EINVAL;
    if (n_seeds > HS_MAX_SEEDS_TOTAL)
        return HS_EFULL;
    parsed_seed *ps = calloc(n_seeds ? n_seeds : 1, sizeof *ps);
    if (!ps)
        return HS_ENOMEM;
    hs_err err = HS_OK;
    for (size_t i = 0; i < n_seeds && err == HS_OK; i++)
        err = parse_seed(n, seeds[i], &ps[i]);
    if (err != HS_OK)
        goto out;
    /* Read before taking mu: the resolver's lock is never taken inside. */
    unsigned n_names = hs__resolver_count(n->resolver), add_numeric = 0;
    for (size_t i = 0; i < n_seeds; i++)
        add_numeric += ps[i].numeric;

    pthread_mutex_lock(&n->mu);
    if (n->state != HS_NODE_NEW && n->state != HS_NODE_RUNNING) {
        err = HS_ESTATE;
    } else if (n->n_seeds + add_numeric + n_names > HS_MAX_SEEDS_TOTAL) {
        hs__rt_log(n, HS_LOG_ERROR, "join: more than %d seeds",
                   HS_MAX_SEEDS_TOTAL);
        err = HS_EFULL;
    } else if (!n->seeds &&
               !(n->seeds = calloc(HS_MAX_SEEDS_TOTAL, sizeof *n->seeds))) {
        err = HS_ENOMEM;
    } else {
        for (size_t i = 0; i < n_seeds; i++) {
            if (!ps[i].numeric || has_seed(n, ps[i].canon))
                continue;
            memcpy(n->seeds[n->n_seeds++], ps[i].canon, sizeof ps[i].canon);
            hs_err serr =
                n->core ? hs__core_add_seed(n->core, ps[i].canon) : HS_OK;
            if (serr != HS_OK)
                hs__rt_warn(n, HS_WARN_SEEDS, "join: seed %s: %s", ps[i].canon,
                            hs_strerror(serr));
        }
        /* Watch the join (loop_join.c); the loop arms the report timer. */
        if (n_seeds)
            n->join_wanted = true;
        hs__loop_wake(n);
    }
    unsigned room = HS_MAX_SEEDS_TOTAL - n->n_seeds;
    pthread_mutex_unlock(&n->mu);

    for (size_t i = 0; i < n_seeds && err == HS_OK; i++) {
        if (ps[i].numeric)
            continue;
        err = hs__resolver_add(n->resolver, ps[i].host, ps[i].port, room);
        if (err != HS_OK) {
            pthread_mutex_lock(&n->mu);
            hs__rt_log(n, HS_LOG_ERROR, "join: cannot add seed name %s: %s",
                       ps[i].host, hs_strerror(err));
            pthread_mutex_unlock(&n->mu);
        }
    }
out:
    free(ps);
    return err;
}
