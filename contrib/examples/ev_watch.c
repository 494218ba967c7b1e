/*
 * ev_watch.c — hearsay on the application's own libev loop. Everything
 * (the node's socket and timer, the application's timer and signal
 * watchers, the callbacks) runs on one thread, with no locks in sight.
 * SIGINT leaves gracefully: the done callback breaks the loop.
 *
 *   ev_watch NAME BIND [SEED...]
 *   ev_watch b 127.0.0.1:7947 127.0.0.1:7946
 *
 * Build against an installed libhearsay (libev has no pkg-config file):
 *   cc ev_watch.c $(pkg-config --cflags --libs hearsay) -lev -o ev_watch
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>

#include <ev.h>
#include <hearsay.h>

static void on_event(hs_node *node, const hs_event *ev, void *arg)
{
    (void)node;
    (void)arg;
    printf("%-8s %s %s -> %s\n", hs_event_type_name(ev->type), ev->name,
           ev->addr, hs_member_state_name(ev->state));
    fflush(stdout);
}

/* Every 5 s: how many members are alive, from a snapshot we own. */
static void on_report(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    hs_node *node = w->data;
    hs_member_list *list;
    if (hs_node_members(node, &list) != HS_OK)
        return;
    size_t alive = 0;
    for (size_t i = 0; i < list->count; i++)
        alive += list->members[i].state == HS_STATE_ALIVE;
    printf("%zu of %zu members alive\n", alive, list->count);
    fflush(stdout);
    hs_member_list_free(list);
}

static void on_left(hs_node *node, hs_err status, void *arg)
{
    (void)node;
    printf("left: %s\n", hs_strerror(status));
    ev_break((struct ev_loop *)arg, EVBREAK_ALL);
}

static void on_sigint(struct ev_loop *loop, ev_signal *w, int revents)
{
    (void)revents;
    if (hs_node_leave(w->data, 2000, on_left, loop) != HS_OK)
        ev_break(loop, EVBREAK_ALL);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: ev_watch NAME BIND [SEED...]\n");
        return 2;
    }
    struct ev_loop *loop = ev_default_loop(0); /* ours to choose */
    /* Options by name: the library's table says which there are. */
    hs_config *cfg = NULL;
    hs_node *node = NULL;
    hs_err err = hs_config_new(&cfg);
    if (err == HS_OK)
        err = hs_config_set_str(cfg, "name", argv[1]);
    if (err == HS_OK)
        err = hs_config_set_str(cfg, "bind", argv[2]);
    if (err == HS_OK)
        err = hs_node_new(cfg, loop, &node);
    hs_config_free(cfg); /* the node has its own copy */
    if (err == HS_OK)
        err = hs_node_on(node, ~0u, on_event, NULL);
    if (err == HS_OK)
        err = hs_node_start(node);
    if (err == HS_OK)
        err = hs_node_join(node, (const char *const *)argv + 3,
                           (size_t)(argc - 3));
    if (err != HS_OK) {
        fprintf(stderr, "ev_watch: %s\n", hs_strerror(err));
        hs_node_free(node);
        return 1;
    }

    ev_timer report;
    ev_timer_init(&report, on_report, 5.0, 5.0);
    report.data = node;
    ev_timer_start(loop, &report);
    ev_signal sigint;
    ev_signal_init(&sigint, on_sigint, SIGINT);
    sigint.data = node;
    ev_signal_start(loop, &sigint);

    ev_run(loop, 0);
    hs_node_free(node);
    return 0;
}
