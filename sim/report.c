/*
 * sim/report.c — see report.h. JSON is compact (one line): scripts read
 * it with a parser, people read the text form. Numbers are integers when
 * they are integral, else %.6g: enough for any figure the simulator
 * reports, and short.
 */
#include "sim/report.h"

#include <inttypes.h>
#include <math.h>

void sim_rep_init(sim_rep *r, FILE *out, bool json)
{
    r->out = out;
    r->json = json;
    r->depth = 0;
    r->first[0] = true;
    r->kind[0] = 'o';
}

static void put_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void indent(const sim_rep *r)
{
    for (int i = 1; i < r->depth; i++)
        fputs("  ", r->out);
}

/* Everything that goes before an item's value. */
static void item(sim_rep *r, const char *key)
{
    bool first = r->first[r->depth];
    r->first[r->depth] = false;
    if (r->json) {
        if (!first)
            fputc(',', r->out);
        if (key && r->kind[r->depth] != 'a') {
            put_str(r->out, key);
            fputc(':', r->out);
        }
        return;
    }
    switch (r->kind[r->depth]) {
    case 'a':
        fputc(' ', r->out);
        break;
    case 'i':
        fprintf(r->out, " %s=", key ? key : "?");
        break;
    default:
        indent(r);
        if (key)
            fprintf(r->out, "%s: ", key);
        break;
    }
}

/* What goes after a scalar's value. */
static void after(const sim_rep *r)
{
    if (!r->json && r->kind[r->depth] == 'o')
        fputc('\n', r->out);
}

static void push(sim_rep *r, char kind)
{
    if (r->depth + 1 < SIM_REP_DEPTH)
        r->depth++;
    r->first[r->depth] = true;
    r->kind[r->depth] = kind;
}

void sim_rep_begin(sim_rep *r, const char *key)
{
    if (r->json) {
        if (r->depth > 0 || !r->first[0])
            item(r, key);
        else
            r->first[0] = false;
        fputc('{', r->out);
        push(r, 'o');
        return;
    }
    if (r->depth == 0) {
        push(r, 'o');
        return;
    }
    if (r->kind[r->depth] == 'a') {
        fputc('\n', r->out);
        indent(r);
        fputs("  -", r->out);
        push(r, 'i');
        return;
    }
    if (r->kind[r->depth] == 'i') {
        fprintf(r->out, " %s={", key ? key : "?");
        push(r, 'i');
        return;
    }
    indent(r);
    fprintf(r->out, "%s:\n", key ? key : "?");
    push(r, 'o');
}

void sim_rep_end(sim_rep *r)
{
    char kind = r->kind[r->depth];
    if (r->depth > 0)
        r->depth--;
    if (r->json) {
        fputc('}', r->out);
        return;
    }
    if (kind == 'i' && r->kind[r->depth] == 'i')
        fputs(" }", r->out);
}

void sim_rep_abegin(sim_rep *r, const char *key)
{
    if (r->json) {
        item(r, key);
        fputc('[', r->out);
        push(r, 'a');
        return;
    }
    if (r->kind[r->depth] == 'i')
        fprintf(r->out, " %s=[", key ? key : "?");
    else {
        indent(r);
        fprintf(r->out, "%s:", key ? key : "?");
    }
    push(r, 'a');
}

void sim_rep_aend(sim_rep *r)
{
    if (r->depth > 0)
        r->depth--;
    if (r->json) {
        fputc(']', r->out);
        return;
    }
    if (r->kind[r->depth] == 'i')
        fputs(" ]", r->out);
    else
        fputc('\n', r->out);
}

void sim_rep_str(sim_rep *r, const char *key, const char *v)
{
    item(r, key);
    if (r->json)
        put_str(r->out, v);
    else
        fputs(v, r->out);
    after(r);
}

void sim_rep_u64(sim_rep *r, const char *key, uint64_t v)
{
    item(r, key);
    fprintf(r->out, "%" PRIu64, v);
    after(r);
}

void sim_rep_num(sim_rep *r, const char *key, double v)
{
    item(r, key);
    if (!isfinite(v))
        fputs(r->json ? "null" : "-", r->out);
    else if (v == floor(v) && fabs(v) < 1e15)
        fprintf(r->out, "%.0f", v);
    else
        fprintf(r->out, "%.6g", v);
    after(r);
}

void sim_rep_bool(sim_rep *r, const char *key, bool v)
{
    item(r, key);
    fputs(v ? "true" : "false", r->out);
    after(r);
}

void sim_rep_finish(sim_rep *r)
{
    if (r->json)
        fputc('\n', r->out);
    fflush(r->out);
}
