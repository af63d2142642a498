/*
 * faults_parse.c: faults.tsv rows into fault_rec (see faults_parse.h;
 * format: traces/README.md, "faults.tsv: page faults of the same run").
 *
 * The few distinct kernel function names (elf_load, _copy_to_user, ...)
 * are interned in a small list so 100k rows do not mean 100k strings.
 */
#include "faults_parse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct faults_intern {
    const char **names;
    size_t n, cap;
};

static const char *intern(faults_file *f, const char *s, size_t n)
{
    struct faults_intern *in = f->intern;
    for (size_t i = in->n; i-- > 0;)
        if (strncmp(in->names[i], s, n) == 0 && in->names[i][n] == '\0')
            return in->names[i];
    if (in->n == in->cap) {
        size_t ncap = in->cap ? in->cap * 2 : 16;
        const char **nv = realloc(in->names, ncap * sizeof *nv);
        if (!nv)
            return NULL;
        in->names = nv;
        in->cap = ncap;
    }
    const char *copy = sim_arena_strndup(&f->arena, s, n);
    if (copy)
        in->names[in->n++] = copy;
    return copy;
}

/* Splits a row at tabs; returns the number of fields (up to cap stored). */
static size_t split_tabs(const char *s, size_t n, const char **f, size_t *flen, size_t cap)
{
    size_t k = 0, start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '\t') {
            if (k < cap) {
                f[k] = s + start;
                flen[k] = i - start;
            }
            k++;
            start = i + 1;
        }
    }
    return k;
}

/* A whole field as "0x..." hex. */
static bool hex_whole(const char *s, size_t n, uint64_t *v)
{
    return n > 2 && s[0] == '0' && s[1] == 'x' && sim_parse_u64(s, n, 16, v) == n;
}

static bool is_ident_text(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '.'))
            return false;
    }
    return true;
}

/* Fills *r from one row, or returns the reason it is malformed. */
static const char *parse_row(faults_file *f, const char *s, size_t n, fault_rec *r)
{
    const char *fl[7];
    size_t len[7];
    uint64_t v;
    if (split_tabs(s, n, fl, len, 7) != 6)
        return "expected 6 tab-separated fields";
    if (sim_parse_ts_us(fl[0], len[0], &r->ts_us) != len[0])
        return "bad timestamp";
    if (sim_parse_u64(fl[1], len[1], 10, &v) != len[1] || v == 0 || v > INT32_MAX)
        return "bad tid";
    r->tid = (int32_t)v;
    if (len[2] != 1 || (fl[2][0] != 'u' && fl[2][0] != 'k'))
        return "kind is not 'u' or 'k'";
    r->kind = fl[2][0];
    if (!hex_whole(fl[3], len[3], &r->addr))
        return "bad address";
    if (r->kind == 'u' && !hex_whole(fl[4], len[4], &r->ip))
        return "bad user ip";
    if (r->kind == 'k') {
        if (!is_ident_text(fl[4], len[4]))
            return "bad kernel function name";
        r->kfunc = intern(f, fl[4], len[4]);
        if (!r->kfunc)
            return "out of memory";
    }
    if (!hex_whole(fl[5], len[5], &v) || v > UINT32_MAX)
        return "bad error code";
    r->error_code = (uint32_t)v;
    return NULL;
}

static int push(faults_file *f, const fault_rec *r)
{
    if (f->n == f->cap) {
        size_t ncap = f->cap ? f->cap * 2 : 4096;
        fault_rec *nv = realloc(f->v, ncap * sizeof *nv);
        if (!nv)
            return -ENOMEM;
        f->v = nv;
        f->cap = ncap;
    }
    f->v[f->n++] = *r;
    return 0;
}

int faults_parse(const char *text, size_t len, faults_file *out)
{
    memset(out, 0, sizeof *out);
    out->intern = calloc(1, sizeof *out->intern);
    if (!out->intern)
        return -ENOMEM;
    uint32_t line = 0;
    for (size_t i = 0; i < len;) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - text) : len;
        const char *s = text + i;
        size_t n = end - i;
        i = end + 1;
        line++;
        if (n > 0 && s[0] == '#')
            continue;
        fault_rec r = {.line = line};
        const char *why = n == 0 ? "empty line" : parse_row(out, s, n, &r);
        if (why)
            sim_problems_add(&out->problems, line, "%s", why);
        else if (push(out, &r) != 0)
            return -ENOMEM;
    }
    out->lines = line;
    return 0;
}

static int faults_parse_any(const char *text, size_t len, void *out)
{
    return faults_parse(text, len, out);
}

int faults_parse_file(const char *path, faults_file *out, char *err, size_t errlen)
{
    return zread_parse_file(path, faults_parse_any, out, sizeof *out, err, errlen);
}

void faults_file_free(faults_file *f)
{
    free(f->v);
    if (f->intern)
        free(f->intern->names);
    free(f->intern);
    sim_problems_free(&f->problems);
    sim_arena_free(&f->arena);
    memset(f, 0, sizeof *f);
}

void faults_class(const fault_rec *r, char out[4])
{
    size_t k = 0;
    out[k++] = r->kind;
    out[k++] = (r->error_code & SIM_PF_INSTR) ? 'X' : (r->error_code & SIM_PF_WRITE) ? 'W' : 'R';
    if (r->error_code & SIM_PF_PRESENT)
        out[k++] = 'p';
    out[k] = '\0';
}
