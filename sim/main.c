/*
 * sim/main.c — hearsay-sim: the command line over the scenarios.
 *
 *   hearsay-sim --nodes N [--seed S] [--loss P] [--mode push|pull|push-pull]
 *               [--scenario converge|join|crash|partition|churn|pause|
 *                           vrenesse] [--trials T] [--json] [...]
 *
 * Prints one JSON object (--json) or a readable summary. Every flag is
 * checked: a bad one is named on stderr with the usage and the exit status
 * is 2, so a sweep script never mistakes a typo for a figure.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/scenario.h"

static const char usage[] =
    "usage: hearsay-sim --nodes N [options]\n"
    "\n"
    "Runs N real hearsay membership cores in one process over a virtual\n"
    "network and clock, and prints figures (one JSON object with --json).\n"
    "\n"
    "  --nodes N          cluster size, 1..65536 (default 128)\n"
    "  --scenario S       converge | join | crash | partition | churn |\n"
    "                     pause | vrenesse (default converge)\n"
    "  --mode M           push | pull | push-pull (default push-pull)\n"
    "  --trials T         repetitions (converge 20, crash 1, others 1)\n"
    "  --seed S           run seed; same seed, same run (default 1)\n"
    "  --json             print one JSON object instead of a summary\n"
    "\n"
    "network (every link):\n"
    "  --loss P           datagram loss probability, 0..0.99 (default 0)\n"
    "  --delay MS         one-way delay (default 1)\n"
    "  --jitter MS        + uniform 0..MS (default 4)\n"
    "  --dup P            duplication probability (default 0)\n"
    "  --reorder P        probability a datagram is held back --reorder-ms\n"
    "  --reorder-ms MS    (default 20) so later ones overtake it\n"
    "\n"
    "cores (hearsay defaults unless given):\n"
    "  --gossip-ms MS     gossip interval (250)\n"
    "  --heartbeat-ms MS  heartbeat interval, 0 = none (500)\n"
    "  --fanout F         peers per round (1)\n"
    "  --phi T            suspicion threshold, 0 = never suspect (8)\n"
    "  --dead-after-ms MS suspect -> dead (1000)\n"
    "  --max-datagram B   datagram limit, 512..65507 (1400)\n"
    "  --max-entries N    entries per message, 0 = size only (0)\n"
    "  --order O          depth | breadth (depth)\n"
    "  --rumor-rounds R   rounds a change is pushed unasked (14)\n"
    "  --quiet            no heartbeats, no suspicion: pure dissemination\n"
    "\n"
    "scenario knobs:\n"
    "  --duration S       crash: observed seconds before the crash (60);\n"
    "                     partition/pause: its length (60 / 30);\n"
    "                     churn: seconds of churn (600); join: limit (3600)\n"
    "  --warmup S         settling time before measuring\n"
    "  --max-rounds R     converge: a trial gives up after R rounds (100)\n"
    "  --from-join        converge: form the cluster by gossip, not seeding\n"
    "  --one-way          partition: cut only half A -> half B\n"
    "  --rate R           churn: restarts per second (0.1);\n"
    "                     vrenesse: updates per member per second (1)\n"
    "  --keys K           vrenesse: keys per member (64)\n"
    "  --recon R          vrenesse: depth | breadth | precise-oldest |\n"
    "                     precise-newest (depth)\n"
    "  --wall-limit S     give up after S seconds of real time (exit 3)\n"
    "\n"
    "exit status: 0 ok, 1 could not run, 2 bad flags, 3 wall limit hit.\n";

static int bad(const char *flag, const char *val, const char *why)
{
    fprintf(stderr, "hearsay-sim: %s %s: %s\n", flag, val ? val : "", why);
    fprintf(stderr, "try 'hearsay-sim --help'\n");
    return 2;
}

static bool parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end;
    if (!s || !*s || *s == '-' || *s == '+')
        return false;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static bool parse_dbl(const char *s, double lo, double hi, double *out)
{
    char *end;
    if (!s || !*s)
        return false;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v) || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

enum {
    O_NODES = 256,
    O_SEED,
    O_LOSS,
    O_MODE,
    O_SCENARIO,
    O_TRIALS,
    O_JSON,
    O_DELAY,
    O_JITTER,
    O_DUP,
    O_REORDER,
    O_REORDER_MS,
    O_GOSSIP,
    O_HB,
    O_FANOUT,
    O_PHI,
    O_DEAD,
    O_MAXDG,
    O_MAXENT,
    O_ORDER,
    O_RUMOR,
    O_QUIET,
    O_DURATION,
    O_WARMUP,
    O_MAXROUNDS,
    O_FROMJOIN,
    O_ONEWAY,
    O_RATE,
    O_KEYS,
    O_RECON,
    O_WALL,
    O_HELP
};

static const struct option longopts[] = {
    {"nodes", required_argument, 0, O_NODES},
    {"seed", required_argument, 0, O_SEED},
    {"loss", required_argument, 0, O_LOSS},
    {"mode", required_argument, 0, O_MODE},
    {"scenario", required_argument, 0, O_SCENARIO},
    {"trials", required_argument, 0, O_TRIALS},
    {"json", no_argument, 0, O_JSON},
    {"delay", required_argument, 0, O_DELAY},
    {"jitter", required_argument, 0, O_JITTER},
    {"dup", required_argument, 0, O_DUP},
    {"reorder", required_argument, 0, O_REORDER},
    {"reorder-ms", required_argument, 0, O_REORDER_MS},
    {"gossip-ms", required_argument, 0, O_GOSSIP},
    {"heartbeat-ms", required_argument, 0, O_HB},
    {"fanout", required_argument, 0, O_FANOUT},
    {"phi", required_argument, 0, O_PHI},
    {"dead-after-ms", required_argument, 0, O_DEAD},
    {"max-datagram", required_argument, 0, O_MAXDG},
    {"max-entries", required_argument, 0, O_MAXENT},
    {"order", required_argument, 0, O_ORDER},
    {"rumor-rounds", required_argument, 0, O_RUMOR},
    {"quiet", no_argument, 0, O_QUIET},
    {"duration", required_argument, 0, O_DURATION},
    {"warmup", required_argument, 0, O_WARMUP},
    {"max-rounds", required_argument, 0, O_MAXROUNDS},
    {"from-join", no_argument, 0, O_FROMJOIN},
    {"one-way", no_argument, 0, O_ONEWAY},
    {"rate", required_argument, 0, O_RATE},
    {"keys", required_argument, 0, O_KEYS},
    {"recon", required_argument, 0, O_RECON},
    {"wall-limit", required_argument, 0, O_WALL},
    {"help", no_argument, 0, O_HELP},
    {0, 0, 0, 0}};

static const struct {
    const char *name;
    int (*run)(const sim_opts *, sim_rep *);
} scenarios[] = {
    {"converge", sim_converge},   {"join", sim_join},   {"crash", sim_crash},
    {"partition", sim_partition}, {"churn", sim_churn}, {"pause", sim_pause},
    {"vrenesse", sim_vrenesse},
};

/* Thousands of cores in one process allocate and free millions of small
 * blocks of a few sizes (decoded messages, datagrams); glibc's per-thread
 * cache keeps only 7 per size by default, and the rest went through the
 * slower bins: a larger cache made whole runs 17-50% faster. Tunables are
 * read only at start-up, so the simulator re-executes itself once with
 * the setting added. Results do not depend on it (same seed, same
 * figures); HEARSAY_SIM_REEXEC=0 turns it off. */
static void tune_malloc(char **argv)
{
    const char *re = getenv("HEARSAY_SIM_REEXEC");
    if (re)
        return;
    const char *t = getenv("GLIBC_TUNABLES");
    char buf[512];
    snprintf(buf, sizeof buf, "%s%sglibc.malloc.tcache_count=1000", t ? t : "",
             t && *t ? ":" : "");
    if (setenv("GLIBC_TUNABLES", buf, 1) != 0 ||
        setenv("HEARSAY_SIM_REEXEC", "1", 1) != 0)
        return;
    execv("/proc/self/exe", argv);
    /* Still here: run as we are. */
}

int main(int argc, char **argv)
{
    tune_malloc(argv);
    sim_opts o;
    sim_opts_init(&o);
    bool rate_set = false;
    uint64_t u;
    double d;
    opterr = 0;
    for (;;) {
        int oi = 0;
        int c = getopt_long(argc, argv, ":h", longopts, &oi);
        if (c == -1)
            break;
        const char *flag =
            c >= O_NODES && c < O_HELP ? longopts[c - O_NODES].name : "";
        char fl[64];
        snprintf(fl, sizeof fl, "--%s", flag);
        switch (c) {
        case O_NODES:
            if (!parse_u64(optarg, 1, SIM_MAX_NODES, &u))
                return bad(fl, optarg, "expected 1..65536");
            o.nodes = (uint32_t)u;
            break;
        case O_SEED:
            if (!parse_u64(optarg, 0, UINT64_MAX, &u))
                return bad(fl, optarg, "expected an unsigned integer");
            o.seed = u;
            break;
        case O_LOSS:
            if (!parse_dbl(optarg, 0, 0.99, &d))
                return bad(fl, optarg, "expected a probability 0..0.99");
            o.link.loss = d;
            break;
        case O_MODE:
            if (strcmp(optarg, "push") == 0)
                o.core.mode = HS_MODE_PUSH;
            else if (strcmp(optarg, "pull") == 0)
                o.core.mode = HS_MODE_PULL;
            else if (strcmp(optarg, "push-pull") == 0)
                o.core.mode = HS_MODE_PUSH_PULL;
            else
                return bad(fl, optarg, "expected push, pull or push-pull");
            break;
        case O_SCENARIO: {
            bool found = false;
            for (size_t k = 0; k < sizeof scenarios / sizeof *scenarios; k++)
                if (strcmp(optarg, scenarios[k].name) == 0) {
                    o.scenario = scenarios[k].name;
                    found = true;
                }
            if (!found)
                return bad(fl, optarg,
                           "expected converge, join, crash, partition, "
                           "churn, pause or vrenesse");
            break;
        }
        case O_TRIALS:
            if (!parse_u64(optarg, 1, 1000000, &u))
                return bad(fl, optarg, "expected 1..1000000");
            o.trials = (uint32_t)u;
            break;
        case O_JSON:
            o.json = true;
            break;
        case O_DELAY:
            if (!parse_u64(optarg, 0, 60000, &u))
                return bad(fl, optarg, "expected 0..60000 ms");
            o.link.delay_ms = (uint32_t)u;
            break;
        case O_JITTER:
            if (!parse_u64(optarg, 0, 60000, &u))
                return bad(fl, optarg, "expected 0..60000 ms");
            o.link.jitter_ms = (uint32_t)u;
            break;
        case O_DUP:
            if (!parse_dbl(optarg, 0, 1, &d))
                return bad(fl, optarg, "expected a probability 0..1");
            o.link.dup = d;
            break;
        case O_REORDER:
            if (!parse_dbl(optarg, 0, 1, &d))
                return bad(fl, optarg, "expected a probability 0..1");
            o.link.reorder = d;
            break;
        case O_REORDER_MS:
            if (!parse_u64(optarg, 0, 60000, &u))
                return bad(fl, optarg, "expected 0..60000 ms");
            o.link.reorder_ms = (uint32_t)u;
            break;
        case O_GOSSIP:
            if (!parse_u64(optarg, 1, 3600000, &u))
                return bad(fl, optarg, "expected 1..3600000 ms");
            o.core.gossip_interval_ms = (uint32_t)u;
            break;
        case O_HB:
            if (!parse_u64(optarg, 0, 3600000, &u))
                return bad(fl, optarg, "expected 0..3600000 ms");
            o.core.heartbeat_interval_ms = (uint32_t)u;
            break;
        case O_FANOUT:
            if (!parse_u64(optarg, 1, 16, &u))
                return bad(fl, optarg, "expected 1..16");
            o.core.fanout = (uint32_t)u;
            break;
        case O_PHI:
            if (!parse_dbl(optarg, 0, 1000, &d))
                return bad(fl, optarg, "expected 0..1000");
            o.core.phi_threshold = d;
            break;
        case O_DEAD:
            if (!parse_u64(optarg, 0, 86400000, &u))
                return bad(fl, optarg, "expected 0..86400000 ms");
            o.core.dead_after_ms = (uint32_t)u;
            break;
        case O_MAXDG:
            if (!parse_u64(optarg, HS_WIRE_MIN_DATAGRAM, HS_WIRE_MAX_DATAGRAM,
                           &u))
                return bad(fl, optarg, "expected 512..65507 bytes");
            o.core.max_datagram = (size_t)u;
            break;
        case O_MAXENT:
            if (!parse_u64(optarg, 0, HS_WIRE_MAX_ENTRIES, &u))
                return bad(fl, optarg, "expected 0..8192");
            o.core.max_entries_per_msg = (uint32_t)u;
            break;
        case O_ORDER:
            if (strcmp(optarg, "depth") == 0)
                o.core.order = HS_ORDER_DEPTH;
            else if (strcmp(optarg, "breadth") == 0)
                o.core.order = HS_ORDER_BREADTH;
            else
                return bad(fl, optarg, "expected depth or breadth");
            break;
        case O_RUMOR:
            if (!parse_u64(optarg, 0, 1000, &u))
                return bad(fl, optarg, "expected 0..1000");
            o.core.rumor_rounds = (uint32_t)u;
            break;
        case O_QUIET:
            o.core.heartbeat_interval_ms = 0;
            o.core.phi_threshold = 0;
            break;
        case O_DURATION:
            if (!parse_dbl(optarg, 0.001, 1e7, &d))
                return bad(fl, optarg, "expected seconds, > 0");
            o.duration_s = d;
            break;
        case O_WARMUP:
            if (!parse_dbl(optarg, 0.001, 1e7, &d))
                return bad(fl, optarg, "expected seconds, > 0");
            o.warmup_s = d;
            break;
        case O_MAXROUNDS:
            if (!parse_u64(optarg, 1, 1000000, &u))
                return bad(fl, optarg, "expected 1..1000000");
            o.max_rounds = (uint32_t)u;
            break;
        case O_FROMJOIN:
            o.from_join = true;
            break;
        case O_ONEWAY:
            o.one_way = true;
            break;
        case O_RATE:
            if (!parse_dbl(optarg, 0, 1e6, &d))
                return bad(fl, optarg, "expected a rate >= 0");
            o.rate = d;
            rate_set = true;
            break;
        case O_KEYS:
            if (!parse_u64(optarg, 1, 256, &u))
                return bad(fl, optarg, "expected 1..256");
            o.keys = (uint32_t)u;
            break;
        case O_RECON:
            if (strcmp(optarg, "depth") == 0) {
                o.recon = SIM_RECON_CORE;
                o.core.order = HS_ORDER_DEPTH;
            } else if (strcmp(optarg, "breadth") == 0) {
                o.recon = SIM_RECON_CORE;
                o.core.order = HS_ORDER_BREADTH;
            } else if (strcmp(optarg, "precise-oldest") == 0) {
                o.recon = SIM_RECON_PRECISE_OLD;
            } else if (strcmp(optarg, "precise-newest") == 0) {
                o.recon = SIM_RECON_PRECISE_NEW;
            } else {
                return bad(fl, optarg,
                           "expected depth, breadth, precise-oldest or "
                           "precise-newest");
            }
            break;
        case O_WALL:
            if (!parse_dbl(optarg, 0.001, 1e7, &d))
                return bad(fl, optarg, "expected seconds, > 0");
            o.wall_limit_s = d;
            break;
        case O_HELP:
        case 'h':
            fputs(usage, stdout);
            return 0;
        case ':':
            return bad(argv[optind - 1], NULL, "needs a value");
        default:
            return bad(argv[optind - 1], NULL, "unknown flag");
        }
    }
    if (optind < argc)
        return bad(argv[optind], NULL, "unexpected argument");
    if (!rate_set)
        o.rate = strcmp(o.scenario, "churn") == 0 ? 0.1 : 1.0;
    /* As the runtime does (hs_node_new). */
    hs__core_config_scale_timing(&o.core);
    if (hs__core_config_check(&o.core) != HS_OK)
        return bad("(core config)", NULL,
                   "the cores would not run with these settings");

    sim_rep r;
    sim_rep_init(&r, stdout, o.json);
    for (size_t k = 0; k < sizeof scenarios / sizeof *scenarios; k++)
        if (strcmp(o.scenario, scenarios[k].name) == 0) {
            int rc = scenarios[k].run(&o, &r);
            sim_rep_finish(&r);
            return rc;
        }
    return 1;
}
