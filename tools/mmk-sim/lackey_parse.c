/*
 * lackey_parse.c: pages.txt records and debug.log segment tables of the
 * valgrind lackey captures (see lackey_parse.h; format: traces/README.md,
 * "lackey_*: page-reference strings").
 *
 * pages.txt is streamed: access lines take a fast path (first character,
 * one hex number); SYSCALL lines are taken apart around their fixed marks
 * ("SYSCALL[pid,tid](nr) ", the last "-->", "Success(" / "Failure(").
 * An async call's first line is remembered by position and re-read when
 * its completion arrives, so nothing is copied for the common case.
 */
#include "lackey_parse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symbols.h"

/* ---- small lexers -------------------------------------------------------------- */

static bool lit(const char **s, const char *e, const char *l)
{
    size_t k = strlen(l);
    if ((size_t)(e - *s) < k || memcmp(*s, l, k) != 0)
        return false;
    *s += k;
    return true;
}

static bool dec(const char **s, const char *e, uint64_t *v)
{
    size_t used = sim_parse_u64(*s, (size_t)(e - *s), 10, v);
    *s += used;
    return used > 0;
}

static void skip_spaces(const char **s, const char *e)
{
    while (*s < e && **s == ' ')
        (*s)++;
}

/* Does [s, e) start with the literal? */
static bool has_prefix(const char *s, const char *e, const char *l)
{
    size_t k = strlen(l);
    return (size_t)(e - s) >= k && memcmp(s, l, k) == 0;
}

/* Last occurrence of the literal in [s, e). */
static const char *rfind(const char *s, const char *e, const char *l)
{
    size_t k = strlen(l);
    if ((size_t)(e - s) < k)
        return NULL;
    for (size_t i = (size_t)(e - s) - k + 1; i-- > 0;)
        if (memcmp(s + i, l, k) == 0)
            return s + i;
    return NULL;
}

/* ---- pages.txt: the iterator's private state ------------------------------------- */

struct lackey_pending {
    int32_t tid;
    uint64_t nr;
    uint32_t line;
    const char *s, *e;       /* the first line, in the caller's text */
};

void lackey_iter_init(lackey_iter *it, const char *text, size_t len)
{
    memset(it, 0, sizeof *it);
    it->text = text;
    it->len = len;
}

void lackey_iter_free(lackey_iter *it)
{
    free(it->pend);
    free(it->scratch);
    sim_problems_free(&it->problems);
    it->pend = NULL;
    it->scratch = NULL;
    it->npend = it->cappend = it->scratchcap = 0;
}

/* Copies [s, e) into the scratch area at *off, NUL-terminated. */
static const char *scratch_put(lackey_iter *it, size_t *off, const char *s, const char *e)
{
    size_t n = (size_t)(e - s);
    if (*off + n + 1 > it->scratchcap)
        return NULL; /* sized beforehand: cannot happen */
    char *d = it->scratch + *off;
    memcpy(d, s, n);
    d[n] = '\0';
    *off += n + 1;
    return d;
}

static bool scratch_reserve(lackey_iter *it, size_t need)
{
    if (need <= it->scratchcap)
        return true;
    size_t ncap = it->scratchcap ? it->scratchcap : 1024;
    while (ncap < need)
        ncap *= 2;
    char *ns = realloc(it->scratch, ncap);
    if (!ns)
        return false;
    it->scratch = ns;
    it->scratchcap = ncap;
    return true;
}

/* ---- SYSCALL lines ----------------------------------------------------------------- */

/* "SYSCALL[pid,tid](nr) " */
static bool sys_prefix(const char **s, const char *e, lackey_syscall *sc)
{
    uint64_t pid, tid, nr;
    if (!lit(s, e, "SYSCALL[") || !dec(s, e, &pid) || !lit(s, e, ",") || !dec(s, e, &tid) ||
        !lit(s, e, "](") || !dec(s, e, &nr) || !lit(s, e, ") ") || pid > INT32_MAX || tid > INT32_MAX ||
        nr > 100000)
        return false;
    sc->pid = (int32_t)pid;
    sc->tid = (int32_t)tid;
    sc->nr = (int)nr;
    return true;
}

/* "Success(0x4)" / "Failure(0x2)" (an optional ":0x.." second word is ignored). */
static bool sys_result(const char *s, const char *e, lackey_syscall *sc)
{
    skip_spaces(&s, e);
    if (lit(&s, e, "Success("))
        sc->result = LACKEY_SUCCESS;
    else if (lit(&s, e, "Failure("))
        sc->result = LACKEY_FAILURE;
    else
        return false;
    size_t used = sim_parse_u64(s, (size_t)(e - s), 16, &sc->value);
    if (used == 0 || (size_t)(e - s) < 3 || s[0] != '0' || s[1] != 'x')
        return false;
    s += used;
    if (s < e && *s == ':') {
        uint64_t second;
        s++;
        used = sim_parse_u64(s, (size_t)(e - s), 16, &second);
        if (used == 0)
            return false;
        s += used;
    }
    if (!lit(&s, e, ")"))
        return false;
    skip_spaces(&s, e);
    return s == e;
}

/* One numeric argument, then an optional "(text)" running to ")," or the end. */
static bool sys_arg(lackey_iter *it, size_t *off, const char **s, const char *e, bool bare_hex,
                    lackey_syscall *sc)
{
    if (sc->nargs == LACKEY_MAX_ARGS)
        return false;
    const char *p = *s;
    bool neg = p < e && *p == '-';
    p += neg;
    uint64_t v;
    size_t used = sim_parse_u64(p, (size_t)(e - p), bare_hex ? 16 : 0, &v);
    if (used == 0)
        return false;
    p += used;
    sc->args[sc->nargs] = neg ? 0 - v : v;
    sc->arg_str[sc->nargs] = NULL;
    if (p < e && *p == '(') {
        const char *q = p + 1;
        while (q < e && !(*q == ')' && (q + 1 == e || q[1] == ',')))
            q++;
        if (q >= e)
            return false;
        sc->arg_str[sc->nargs] = scratch_put(it, off, p + 1, q);
        p = q + 1;
    }
    sc->nargs++;
    *s = p;
    return true;
}

/* "( a, b, c )" content between the parentheses, already trimmed of them. */
static bool sys_args(lackey_iter *it, size_t *off, const char *s, const char *e, lackey_syscall *sc)
{
    bool bare_hex_rest = strcmp(sc->name, "arch_prctl") == 0; /* valgrind prints %lx there */
    skip_spaces(&s, e);
    while (e > s && e[-1] == ' ')
        e--;
    while (s < e) {
        if (!sys_arg(it, off, &s, e, bare_hex_rest && sc->nargs > 0, sc))
            return false;
        skip_spaces(&s, e);
        if (s < e && !lit(&s, e, ","))
            return false;
        skip_spaces(&s, e);
    }
    return true;
}

/* "NAME ( ARGS )[sync] --> RESULT", "NAME ( ARGS ) --> [pre-success] RESULT",
 * or "NAME ( ARGS ) --> [async] ..." (sets sc->async, no result yet). */
static bool sys_call(lackey_iter *it, size_t *off, const char *s, const char *e, lackey_syscall *sc)
{
    const char *arrow = rfind(s, e, "-->");
    const char *paren = memchr(s, '(', (size_t)(e - s));
    if (!arrow || !paren || paren > arrow || paren == s)
        return false;
    const char *ne = paren;
    while (ne > s && ne[-1] == ' ')
        ne--;
    sc->name = scratch_put(it, off, s, ne);
    const char *ae = arrow;
    while (ae > paren && ae[-1] == ' ')
        ae--;
    const char *after = arrow + 3;
    skip_spaces(&after, e);
    if (ae - paren >= 6 && memcmp(ae - 6, "[sync]", 6) == 0) {
        ae -= 6;
        sc->phase = "sync";
    } else if (lit(&after, e, "[pre-success]")) {
        sc->phase = "pre-success";
    } else if (lit(&after, e, "[pre-fail]")) {
        sc->phase = "pre-fail";
    } else if (lit(&after, e, "[async] ...")) {
        sc->phase = "async";
        sc->async = true;
    } else {
        return false;
    }
    if (ae <= paren || ae[-1] != ')' || !sys_args(it, off, paren + 1, ae - 1, sc))
        return false;
    if (sc->async) {
        skip_spaces(&after, e);
        return after == e;
    }
    return sys_result(after, e, sc);
}

/* "unimplemented (by the kernel) syscall: 334! (ni_syscall)" */
static bool sys_unimplemented(lackey_iter *it, size_t *off, const char *s, const char *e, lackey_syscall *sc)
{
    uint64_t nr;
    if (!lit(&s, e, "unimplemented (by the kernel) syscall: ") || !dec(&s, e, &nr) || !lit(&s, e, "! (") ||
        nr != (uint64_t)sc->nr)
        return false;
    const char *close = memchr(s, ')', (size_t)(e - s));
    if (!close)
        return false;
    sc->name = scratch_put(it, off, s, close);
    s = close + 1;
    skip_spaces(&s, e);
    sc->unimplemented = true;
    sc->phase = "unimplemented";
    sc->result = LACKEY_FAILURE;
    sc->value = SIM_ENOSYS;
    return s == e;
}

static struct lackey_pending *find_pending(lackey_iter *it, int32_t tid)
{
    for (size_t i = 0; i < it->npend; i++)
        if (it->pend[i].tid == tid)
            return &it->pend[i];
    return NULL;
}

static int add_pending(lackey_iter *it, const lackey_syscall *sc, uint32_t line, const char *s, const char *e)
{
    struct lackey_pending *old = find_pending(it, sc->tid);
    if (old) {
        sim_problems_add(&it->problems, old->line, "async call never completed (tid %d)", (int)old->tid);
        *old = it->pend[--it->npend];
    }
    if (it->npend == it->cappend) {
        size_t ncap = it->cappend ? it->cappend * 2 : 8;
        struct lackey_pending *np = realloc(it->pend, ncap * sizeof *np);
        if (!np)
            return -ENOMEM;
        it->pend = np;
        it->cappend = ncap;
    }
    it->pend[it->npend++] = (struct lackey_pending){sc->tid, (uint64_t)sc->nr, line, s, e};
    return 0;
}

/* "... [async] --> RESULT": re-read the first line, then take this result. */
static const char *sys_complete(lackey_iter *it, size_t *off, const char *s, const char *e, lackey_syscall *sc)
{
    lackey_syscall done = *sc;
    if (!lit(&s, e, "... [async] -->"))
        return "malformed SYSCALL line";
    struct lackey_pending *pd = find_pending(it, sc->tid);
    if (!pd || pd->nr != (uint64_t)sc->nr)
        return "async completion without its first line";
    const char *ps = pd->s;
    lackey_syscall first = {0};
    *off = 0;
    if (!sys_prefix(&ps, pd->e, &first) || !sys_call(it, off, ps, pd->e, &first))
        return "async first line unreadable";
    if (!sys_result(s, e, &done))
        return "malformed async result";
    first.result = done.result;
    first.value = done.value;
    first.entry_line = pd->line;
    *sc = first;
    *pd = it->pend[--it->npend];
    return NULL;
}

/* A SYSCALL line: 1 = record ready, 0 = consumed without a record (async
 * start, or a problem recorded), -ENOMEM. */
static int syscall_line(lackey_iter *it, const char *s, const char *e, lackey_record *rec)
{
    lackey_syscall *sc = &rec->sc;
    memset(sc, 0, sizeof *sc);
    it->nsyscall_lines++;
    const char *line_start = s;
    if (!scratch_reserve(it, 2 * (size_t)(e - s) + 64))
        return -ENOMEM;
    size_t off = 0;
    const char *why = NULL;
    if (!sys_prefix(&s, e, sc)) {
        why = "malformed SYSCALL[pid,tid](nr) prefix";
    } else if (s < e && *s == '.') {
        if (it->npend) { /* the first line is re-read into scratch too */
            struct lackey_pending *pd = find_pending(it, sc->tid);
            if (pd && !scratch_reserve(it, 2 * (size_t)(pd->e - pd->s) + 64))
                return -ENOMEM;
        }
        why = sys_complete(it, &off, s, e, sc);
    } else if (has_prefix(s, e, "unimplemented")) {
        if (!sys_unimplemented(it, &off, s, e, sc))
            why = "malformed unimplemented-syscall line";
    } else if (!sys_call(it, &off, s, e, sc)) {
        why = "malformed SYSCALL line";
    } else if (sc->async) {
        return add_pending(it, sc, it->line, line_start, e) == 0 ? 0 : -ENOMEM;
    }
    if (why) {
        sim_problems_add(&it->problems, it->line, "%s", why);
        return 0;
    }
    if (!sc->entry_line)
        sc->entry_line = it->line;
    rec->kind = LACKEY_SYSCALL;
    rec->line = it->line;
    it->nsyscall++;
    return 1;
}

/* "# raw accesses: I=.. R=.. W=.. M=..; records=N"; other comments are notes. */
static void comment_line(lackey_iter *it, const char *s, const char *e)
{
    lackey_summary m = {.present = true};
    if (!lit(&s, e, "# raw accesses: "))
        return;
    if (lit(&s, e, "I=") && dec(&s, e, &m.raw_i) && lit(&s, e, " R=") && dec(&s, e, &m.raw_r) &&
        lit(&s, e, " W=") && dec(&s, e, &m.raw_w) && lit(&s, e, " M=") && dec(&s, e, &m.raw_m) &&
        lit(&s, e, "; records=") && dec(&s, e, &m.records) && s == e)
        it->summary = m;
    else
        sim_problems_add(&it->problems, it->line, "malformed '# raw accesses' summary");
}

/* "K HEX" with K in IRWM. */
static bool access_line(const char *s, const char *e, lackey_record *rec)
{
    if (e - s < 3 || s[1] != ' ' || !memchr("IRWM", s[0], 4))
        return false;
    uint64_t page;
    size_t n = (size_t)(e - s - 2);
    if (has_prefix(s + 2, e, "0x") || sim_parse_u64(s + 2, n, 16, &page) != n)
        return false;
    rec->kind = LACKEY_ACCESS;
    rec->access = s[0];
    rec->page = page;
    return true;
}

static void report_unfinished(lackey_iter *it)
{
    for (size_t i = 0; i < it->npend; i++)
        sim_problems_add(&it->problems, it->pend[i].line, "async call never completed (tid %d)",
                         (int)it->pend[i].tid);
    it->npend = 0;
}

int lackey_next(lackey_iter *it, lackey_record *rec)
{
    while (it->pos < it->len) {
        const char *s = it->text + it->pos;
        const char *nl = memchr(s, '\n', it->len - it->pos);
        const char *e = nl ? nl : it->text + it->len;
        it->pos = (size_t)(e - it->text) + 1;
        it->line++;
        if (e > s && e[-1] == '\r')
            e--;
        if (access_line(s, e, rec)) {
            rec->line = it->line;
            it->naccess++;
            return 1;
        }
        if (e > s && s[0] == '#') {
            comment_line(it, s, e);
        } else if (e - s >= 8 && memcmp(s, "SYSCALL[", 8) == 0) {
            int rc = syscall_line(it, s, e, rec);
            if (rc != 0)
                return rc;
        } else {
            sim_problems_add(&it->problems, it->line, e == s ? "empty line" : "unknown line");
        }
    }
    report_unfinished(it);
    return 0;
}

int lackey_foreach(const char *text, size_t len, int (*cb)(const lackey_record *rec, void *ctx),
                   void *ctx, lackey_iter *it)
{
    lackey_iter_init(it, text, len);
    lackey_record rec;
    int rc;
    while ((rc = lackey_next(it, &rec)) == 1) {
        int stop = cb(&rec, ctx);
        if (stop)
            return stop;
    }
    return rc;
}

/* ---- debug.log --------------------------------------------------------------------- */

typedef struct vg_name {
    uint64_t idx, off;
    const char *path;
} vg_name;

typedef struct dparser {
    vg_debuglog *d;
    bool open;
    vg_layout cur;
    vg_segment *segs;
    size_t nsegs, capsegs;
    vg_name *names;
    size_t nnames, capnames;
    bool oom;
} dparser;

/* After "--PID:TID: aspacem " : returns the rest, or NULL for other lines. */
static const char *aspacem_body(const char *s, const char *e, int32_t *pid)
{
    uint64_t p, t;
    if (!lit(&s, e, "--") || !dec(&s, e, &p) || !lit(&s, e, ":") || !dec(&s, e, &t) || !lit(&s, e, ":") ||
        p > INT32_MAX)
        return NULL;
    skip_spaces(&s, e);
    if (!lit(&s, e, "aspacem "))
        return NULL;
    *pid = (int32_t)p;
    return s;
}

static const struct {
    const char *text;
    vg_seg_kind kind;
    bool client;
} seg_kinds[] = {
    {"anon", VG_SEG_ANON_CLIENT, true},  {"ANON", VG_SEG_ANON_VALGRIND, false},
    {"file", VG_SEG_FILE_CLIENT, true},  {"FILE", VG_SEG_FILE_VALGRIND, false},
    {"shm ", VG_SEG_SHM_CLIENT, true},   {"RSVN", VG_SEG_RESERVATION, false},
    {"    ", VG_SEG_FREE, false},
};

/* The size column: digits with an optional unit letter (62m, 130457g). */
static bool size_token(const char **s, const char *e)
{
    uint64_t v;
    skip_spaces(s, e);
    if (!dec(s, e, &v))
        return false;
    if (*s < e && memchr("kmgtpe", **s, 6))
        (*s)++;
    return *s == e || **s == ' ';
}

static const char *lookup_name(dparser *p, uint64_t idx, uint64_t off)
{
    for (size_t i = 0; i < p->nnames; i++)
        if (p->names[i].idx == idx && p->names[i].off == off)
            return p->names[i].path;
    return NULL;
}

/* Tokens after the permissions: d=0x.. i=.. o=.. (idx,off), SmFixed, CH. */
static bool seg_tail(dparser *p, const char *s, const char *e, vg_segment *g)
{
    for (;;) {
        skip_spaces(&s, e);
        if (s == e)
            return true;
        uint64_t a, b;
        if (lit(&s, e, "d=0x")) {
            size_t used = sim_parse_u64(s, (size_t)(e - s), 16, &g->dev);
            s += used;
            g->has_file = used > 0;
            if (!used)
                return false;
        } else if (lit(&s, e, "i=")) {
            if (!dec(&s, e, &g->inode))
                return false;
        } else if (lit(&s, e, "o=")) {
            if (!dec(&s, e, &g->offset))
                return false;
        } else if (lit(&s, e, "(")) {
            if (!dec(&s, e, &a) || !lit(&s, e, ",") || !dec(&s, e, &b) || !lit(&s, e, ")"))
                return false;
            g->path = lookup_name(p, a, b);
            if (!g->path)
                return false;
        } else if (lit(&s, e, "SmFixed")) {
            g->rsvn = "SmFixed";
        } else if (lit(&s, e, "SmLower")) {
            g->rsvn = "SmLower";
        } else if (lit(&s, e, "SmUpper")) {
            g->rsvn = "SmUpper";
        } else if (lit(&s, e, "CH")) {
            /* "client heap" marker: nothing to keep */
        } else {
            return false;
        }
    }
}

/* "  12: file 0000108000-000010afff   12288 r---- d=... (1,49)" */
static bool seg_row(dparser *p, const char *s, const char *e, vg_segment *g)
{
    uint64_t idx;
    skip_spaces(&s, e);
    if (!dec(&s, e, &idx) || !lit(&s, e, ": ") || e - s < 5 || idx > UINT32_MAX)
        return false;
    g->index = (uint32_t)idx;
    size_t k = 0;
    while (k < sizeof seg_kinds / sizeof seg_kinds[0] && memcmp(s, seg_kinds[k].text, 4) != 0)
        k++;
    if (k == sizeof seg_kinds / sizeof seg_kinds[0] || s[4] != ' ')
        return false;
    g->kind = seg_kinds[k].kind;
    g->client = seg_kinds[k].client;
    g->kind_text = g->kind == VG_SEG_FREE ? "" : g->kind == VG_SEG_SHM_CLIENT ? "shm" : seg_kinds[k].text;
    s += 5;
    size_t used = sim_parse_u64(s, (size_t)(e - s), 16, &g->start);
    s += used;
    if (!used || !lit(&s, e, "-") || !(used = sim_parse_u64(s, (size_t)(e - s), 16, &g->last)) ||
        g->last < g->start)
        return false;
    s += used;
    if (!size_token(&s, e))
        return false;
    skip_spaces(&s, e);
    if (g->kind == VG_SEG_FREE)
        return s == e;
    if (e - s < 5 || (s + 5 < e && s[5] != ' '))
        return false;
    memcpy(g->perms, s, 5);
    g->perms[5] = '\0';
    g->prot = (s[0] == 'r' ? SIM_PROT_READ : 0) | (s[1] == 'w' ? SIM_PROT_WRITE : 0) |
              (s[2] == 'x' ? SIM_PROT_EXEC : 0);
    return seg_tail(p, s + 5, e, g);
}

/* "(1,49,7) /usr/bin/sort" or "(4,174,0) [free slot: ...]" */
static bool name_row(dparser *p, const char *s, const char *e)
{
    uint64_t idx, off, refs;
    if (!lit(&s, e, "(") || !dec(&s, e, &idx) || !lit(&s, e, ",") || !dec(&s, e, &off) || !lit(&s, e, ",") ||
        !dec(&s, e, &refs) || !lit(&s, e, ") "))
        return false;
    if (e - s >= 11 && memcmp(s, "[free slot:", 11) == 0)
        return true;
    if (p->nnames == p->capnames) {
        size_t ncap = p->capnames ? p->capnames * 2 : 16;
        vg_name *nv = realloc(p->names, ncap * sizeof *nv);
        if (!nv) {
            p->oom = true;
            return true;
        }
        p->names = nv;
        p->capnames = ncap;
    }
    const char *path = sim_arena_strndup(&p->d->arena, s, (size_t)(e - s));
    if (!path) {
        p->oom = true;
        return true;
    }
    p->names[p->nnames++] = (vg_name){idx, off, path};
    return true;
}

static void open_table(dparser *p, const char *s, const char *e, int32_t pid, uint32_t line)
{
    /* "<<< SHOW_SEGMENTS: Memory layout at client startup (34 segments)" */
    uint64_t count = 0;
    const char *open = rfind(s, e, " (");
    const char *t = s;
    if (!open || !lit(&t, e, "<<< SHOW_SEGMENTS: ") || t > open) {
        sim_problems_add(&p->d->problems, line, "malformed SHOW_SEGMENTS header");
        return;
    }
    if (has_prefix(t, open, "Memory layout at ")) /* the title is what follows */
        t += strlen("Memory layout at ");
    const char *c = open + 2;
    if (!dec(&c, e, &count) || !lit(&c, e, " segments)"))
        sim_problems_add(&p->d->problems, line, "SHOW_SEGMENTS header without a segment count");
    p->cur = (vg_layout){.pid = pid, .declared = (size_t)count, .line = line};
    p->cur.title = sim_arena_strndup(&p->d->arena, t, (size_t)(open - t));
    if (!p->cur.title)
        p->oom = true;
    p->open = true;
    p->nsegs = 0;
    p->nnames = 0;
}

static void close_table(dparser *p)
{
    vg_debuglog *d = p->d;
    p->open = false;
    if (d->n == d->cap) {
        size_t ncap = d->cap ? d->cap * 2 : 4;
        vg_layout *nv = realloc(d->v, ncap * sizeof *nv);
        if (!nv) {
            p->oom = true;
            return;
        }
        d->v = nv;
        d->cap = ncap;
    }
    vg_layout *l = &d->v[d->n];
    *l = p->cur;
    l->n = p->nsegs;
    l->segs = sim_arena_alloc(&d->arena, (p->nsegs ? p->nsegs : 1) * sizeof *l->segs);
    if (!l->segs) {
        p->oom = true;
        return;
    }
    if (p->nsegs)
        memcpy(l->segs, p->segs, p->nsegs * sizeof *p->segs);
    d->n++;
}

static void add_seg(dparser *p, const vg_segment *g)
{
    if (p->nsegs == p->capsegs) {
        size_t ncap = p->capsegs ? p->capsegs * 2 : 64;
        vg_segment *nv = realloc(p->segs, ncap * sizeof *nv);
        if (!nv) {
            p->oom = true;
            return;
        }
        p->segs = nv;
        p->capsegs = ncap;
    }
    p->segs[p->nsegs++] = *g;
}

/* Known informational lines inside a table. */
static bool table_note(const char *s, const char *e)
{
    return rfind(s, e, " segment names in ") || (e - s >= 8 && memcmp(s, "freelist", 8) == 0);
}

static void debug_line(dparser *p, const char *s, const char *e, uint32_t line)
{
    int32_t pid;
    const char *b = aspacem_body(s, e, &pid);
    if (!b)
        return; /* not the address-space manager: not our business */
    if (has_prefix(b, e, "<<< SHOW_SEGMENTS")) {
        if (p->open) {
            sim_problems_add(&p->d->problems, line, "SHOW_SEGMENTS inside another table");
            close_table(p);
        }
        open_table(p, b, e, pid, line);
        return;
    }
    if (!p->open)
        return;
    vg_segment g = {.line = line};
    if (e - b == 3 && memcmp(b, ">>>", 3) == 0)
        close_table(p);
    else if (b < e && *b == '(') {
        if (!name_row(p, b, e))
            sim_problems_add(&p->d->problems, line, "malformed segment name row");
    } else if (seg_row(p, b, e, &g))
        add_seg(p, &g);
    else if (!table_note(b, e))
        sim_problems_add(&p->d->problems, line, "malformed segment row");
}

int vg_debuglog_parse(const char *text, size_t len, vg_debuglog *out)
{
    memset(out, 0, sizeof *out);
    dparser p = {.d = out};
    uint32_t line = 0;
    for (size_t i = 0; i < len && !p.oom;) {
        const char *s = text + i;
        const char *nl = memchr(s, '\n', len - i);
        const char *e = nl ? nl : text + len;
        i = (size_t)(e - text) + 1;
        line++;
        debug_line(&p, s, e, line);
    }
    out->lines = line;
    if (p.open && !p.oom) {
        sim_problems_add(&out->problems, line, "SHOW_SEGMENTS table of line %u never closed",
                         (unsigned)p.cur.line);
        close_table(&p);
    }
    free(p.segs);
    free(p.names);
    return p.oom ? -ENOMEM : 0;
}

static int vg_debuglog_parse_any(const char *text, size_t len, void *out)
{
    return vg_debuglog_parse(text, len, out);
}

int vg_debuglog_parse_file(const char *path, vg_debuglog *out, char *err, size_t errlen)
{
    return zread_parse_file(path, vg_debuglog_parse_any, out, sizeof *out, err, errlen);
}

const vg_layout *vg_debuglog_find(const vg_debuglog *d, const char *title)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->v[i].title && strcmp(d->v[i].title, title) == 0)
            return &d->v[i];
    return NULL;
}

void vg_debuglog_free(vg_debuglog *d)
{
    free(d->v);
    sim_problems_free(&d->problems);
    sim_arena_free(&d->arena);
    memset(d, 0, sizeof *d);
}
