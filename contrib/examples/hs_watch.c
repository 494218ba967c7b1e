/*
 * hs_watch.c — join a hearsay cluster and print membership changes as they
 * happen. The smallest useful embedding: the library runs its own loop in
 * its own thread, callbacks print from that thread, and the main thread
 * only waits for SIGINT/SIGTERM to leave gracefully.
 *
 *   hs_watch --name a --bind 127.0.0.1:7946
 *   hs_watch --name b --bind 127.0.0.1:7947 --join 127.0.0.1:7946 \
 *            --tag role=cache
 *
 * Build against an installed libhearsay:
 *   cc hs_watch.c $(pkg-config --cflags --libs hearsay) -o hs_watch
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* getopt_long, sigtimedwait */
#endif
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hearsay.h>

#define MAX_SEEDS 64

static void on_event(hs_node *node, const hs_event *ev, void *arg)
{
    (void)node;
    (void)arg;
    if (ev->type == HS_EVENT_UPDATE)
        printf("%-8s %s %s key %s%s\n", hs_event_type_name(ev->type), ev->name,
               ev->addr, ev->key, ev->deleted ? " (deleted)" : "");
    else
        printf("%-8s %s %s generation %" PRIu64 " -> %s\n",
               hs_event_type_name(ev->type), ev->name, ev->addr, ev->generation,
               hs_member_state_name(ev->state));
    fflush(stdout);
}

static void print_members(hs_node *node)
{
    hs_member_list *list;
    if (hs_node_members(node, &list) != HS_OK)
        return;
    for (size_t i = 0; i < list->count; i++) {
        const hs_member *m = &list->members[i];
        printf("  %-20s %-24s %-7s phi %5.2f%s", m->name, m->addr,
               hs_member_state_name(m->state), m->phi,
               m->is_self ? " (self)" : "");
        for (size_t t = 0; t < m->n_tags; t++)
            printf(" %s=%s", m->tags[t].key, (const char *)m->tags[t].value);
        printf("\n");
    }
    hs_member_list_free(list);
}

static void usage(FILE *to)
{
    fprintf(to, "usage: hs_watch --name NAME [--bind HOST:PORT] "
                "[--advertise HOST:PORT]\n"
                "                [--cluster NAME] [--join HOST:PORT]... "
                "[--tag KEY=VALUE]...\n"
                "                [--seconds N] [--verbose] [--version]\n");
}

int main(int argc, char **argv)
{
    hs_config *cfg = NULL;
    if (hs_config_new(&cfg) != HS_OK)
        return 1;
    const char *name = NULL;
    hs_err err = HS_OK;
    const char *seeds[MAX_SEEDS];
    const char *tags[MAX_SEEDS];
    size_t n_seeds = 0, n_tags = 0;
    long seconds = 0;
    static const struct option opts[] = {
        {"name", required_argument, NULL, 'n'},
        {"bind", required_argument, NULL, 'b'},
        {"advertise", required_argument, NULL, 'a'},
        {"cluster", required_argument, NULL, 'c'},
        {"join", required_argument, NULL, 'j'},
        {"tag", required_argument, NULL, 't'},
        {"seconds", required_argument, NULL, 's'},
        {"verbose", no_argument, NULL, 'v'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "n:b:a:c:j:t:s:vVh", opts, NULL)) !=
           -1) {
        switch (c) {
        case 'n':
            name = optarg;
            err = hs_config_set_str(cfg, "name", optarg);
            break;
        case 'b':
            err = hs_config_set_str(cfg, "bind", optarg);
            break;
        case 'a':
            err = hs_config_set_str(cfg, "advertise", optarg);
            break;
        case 'c':
            err = hs_config_set_str(cfg, "cluster", optarg);
            break;
        case 'j':
            if (n_seeds < MAX_SEEDS)
                seeds[n_seeds++] = optarg;
            break;
        case 't':
            if (n_tags < MAX_SEEDS)
                tags[n_tags++] = optarg;
            break;
        case 's':
            seconds = strtol(optarg, NULL, 10);
            break;
        case 'v':
            err = hs_config_set_uint(cfg, "log-level", HS_LOG_DEBUG);
            break;
        case 'V':
            printf("hs_watch, libhearsay %s (compiled against %d.%d.%d)\n",
                   hs_version_string(), HS_VERSION_MAJOR, HS_VERSION_MINOR,
                   HS_VERSION_PATCH);
            hs_config_free(cfg);
            return 0;
        case 'h':
            usage(stdout);
            hs_config_free(cfg);
            return 0;
        default:
            usage(stderr);
            hs_config_free(cfg);
            return 2;
        }
        if (err != HS_OK)
            break;
    }
    if (err != HS_OK) {
        fprintf(stderr, "hs_watch: bad option value: %s\n", hs_strerror(err));
        hs_config_free(cfg);
        return 2;
    }
    if (!name) {
        usage(stderr);
        hs_config_free(cfg);
        return 2;
    }

    /* Block the signals before the library starts its threads (they
     * inherit the mask), then take them synchronously with sigwait. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    hs_node *node;
    err = hs_node_new(cfg, NULL, &node); /* NULL: own thread */
    hs_config_free(cfg);                 /* the node keeps its own copy */
    if (err != HS_OK) {
        fprintf(stderr, "hs_watch: %s\n", hs_strerror(err));
        return 1;
    }
    for (size_t i = 0; i < n_tags; i++) {
        char *eq = strchr(tags[i], '=');
        if (!eq) {
            fprintf(stderr, "hs_watch: --tag wants KEY=VALUE\n");
            hs_node_free(node);
            return 2;
        }
        *eq = 0;
        err = hs_node_set(node, tags[i], eq + 1, strlen(eq + 1));
        if (err != HS_OK) {
            fprintf(stderr, "hs_watch: tag %s: %s\n", tags[i],
                    hs_strerror(err));
            hs_node_free(node);
            return 2;
        }
    }
    hs_node_on(node, ~0u, on_event, NULL);
    if ((err = hs_node_start(node)) != HS_OK ||
        (err = hs_node_join(node, seeds, n_seeds)) != HS_OK) {
        fprintf(stderr, "hs_watch: %s\n", hs_strerror(err));
        hs_node_free(node);
        return 1;
    }
    char addr[HS_ADDRSTRLEN];
    hs_node_advertised_addr(node, addr, sizeof addr);
    printf("hs_watch: %s (generation %" PRIu64 ") at %s; Ctrl-C leaves\n",
           hs_node_name(node), hs_node_generation(node), addr);
    fflush(stdout);

    if (seconds > 0) {
        struct timespec t = {seconds, 0};
        sigtimedwait(&sigs, NULL, &t);
    } else {
        int sig;
        sigwait(&sigs, &sig);
    }
    printf("hs_watch: leaving; the view was:\n");
    print_members(node);
    /* Own-thread mode: with no done callback this blocks until the leave
     * has been spread. */
    err = hs_node_leave(node, 2000, NULL, NULL);
    if (err != HS_OK)
        fprintf(stderr, "hs_watch: leave: %s\n", hs_strerror(err));
    hs_node_free(node);
    return 0;
}
