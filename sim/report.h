/*
 * sim/report.h — hearsay-sim's output: one JSON object of figures, or the
 * same figures as a readable summary, from the same calls.
 *
 * A scenario writes its figures once (keys, numbers, arrays, nested
 * objects); the writer keeps JSON's commas and nesting right, escapes
 * strings and never prints a number JSON cannot hold (NaN and infinities
 * become null). In text mode objects become indented "key: value" lines,
 * arrays of numbers one line, arrays of objects one "- k=v ..." line each.
 */
#ifndef HS_SIM_REPORT_H
#define HS_SIM_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define SIM_REP_DEPTH 16

typedef struct sim_rep {
    FILE *out;
    bool json;
    int depth;
    bool first[SIM_REP_DEPTH]; /* nothing written yet at this level */
    char kind[SIM_REP_DEPTH];  /* 'o' object, 'a' array, 'i' inline object */
} sim_rep;

void sim_rep_init(sim_rep *r, FILE *out, bool json);
/* key is NULL at the top level and inside arrays. */
void sim_rep_begin(sim_rep *r, const char *key);  /* { */
void sim_rep_end(sim_rep *r);                     /* } */
void sim_rep_abegin(sim_rep *r, const char *key); /* [ */
void sim_rep_aend(sim_rep *r);                    /* ] */
void sim_rep_str(sim_rep *r, const char *key, const char *v);
void sim_rep_u64(sim_rep *r, const char *key, uint64_t v);
void sim_rep_num(sim_rep *r, const char *key, double v);
void sim_rep_bool(sim_rep *r, const char *key, bool v);
/* Ends the document with a newline and flushes. */
void sim_rep_finish(sim_rep *r);

#endif /* HS_SIM_REPORT_H */
