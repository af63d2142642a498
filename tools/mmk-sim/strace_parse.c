/*
 * strace_parse.c: strace.txt lines into strace_event records (see
 * strace_parse.h; the format is described in traces/README.md, sections
 * "strace.txt: what a replayer must parse" and "Pitfalls").
 *
 * Structure of the parse:
 *   1. split the text into lines (memchr), read `TID TS ` from each;
 *   2. dispatch on the rest: `--- ` signal, `+++ ` exit, `<... ` resumed
 *      half, otherwise a call, which is pending when it ends in
 *      ` <unfinished ...>`;
 *   3. a pending half is kept (pointing into the caller's text) per TID
 *      until its resumed half arrives; the two are concatenated and parsed
 *      as one complete call, so joined and one-line calls share one path;
 *   4. a call is NAME '(' ARGS ')' ' = ' RET; ARGS are found by a bracket
 *      scanner that steps over strings, comments and <...> annotations,
 *      because strings and paths may contain any bracket or comma.
 * Every string the events keep is copied into the trace's arena.
 */
#include "strace_parse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char UNFINISHED[] = " <unfinished ...>";
enum { UNFINISHED_LEN = sizeof UNFINISHED - 1 };

/* ---- lexical helpers ------------------------------------------------------- */

static bool is_space(char c) { return c == ' ' || c == '\t'; }
static bool is_ident(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static strace_span trim(const char *s, size_t n)
{
    while (n && is_space(*s)) {
        s++;
        n--;
    }
    while (n && is_space(s[n - 1]))
        n--;
    return (strace_span){s, n};
}

static bool span_eq(strace_span a, const char *lit)
{
    size_t n = strlen(lit);
    return a.len == n && memcmp(a.p, lit, n) == 0;
}

static bool starts_with(const char *s, size_t n, const char *lit)
{
    size_t k = strlen(lit);
    return n >= k && memcmp(s, lit, k) == 0;
}

static bool ends_with(const char *s, size_t n, const char *lit)
{
    size_t k = strlen(lit);
    return n >= k && memcmp(s + n - k, lit, k) == 0;
}

/*
 * Index just past the atom at s[i]: a "string" (escapes honoured), a
 * comment, a <...> fd annotation (escapes honoured; strace escapes < and >
 * inside paths), or a single character.  `<<` is a shift operator
 * (`21<<MAP_HUGE_SHIFT`), not an annotation.  SIZE_MAX when unterminated.
 */
static size_t skip_atom(const char *s, size_t n, size_t i)
{
    char c = s[i];
    if (c == '"' || c == '<') {
        char close = c == '"' ? '"' : '>';
        if (c == '<' && i + 1 < n && s[i + 1] == '<')
            return i + 2;
        for (i++; i < n; i++) {
            if (s[i] == '\\')
                i++;
            else if (s[i] == close)
                return i + 1;
        }
        return SIZE_MAX;
    }
    if (c == '/' && i + 1 < n && s[i + 1] == '*') {
        for (i += 2; i + 1 < n; i++)
            if (s[i] == '*' && s[i + 1] == '/')
                return i + 2;
        return SIZE_MAX;
    }
    return i + 1;
}

static char closer_of(char c) { return c == '(' ? ')' : c == '[' ? ']' : '}'; }

/*
 * From s[i], find the first top-level `stop` character or a closing bracket
 * without an opener, whichever comes first; n if neither.  SIZE_MAX when
 * brackets mismatch or an atom is unterminated.  stop = 0: closers only.
 */
static size_t scan_top(const char *s, size_t n, size_t i, char stop)
{
    char stack[64];
    size_t depth = 0;
    while (i < n) {
        char c = s[i];
        if (depth == 0 && stop && c == stop)
            return i;
        if (c == '(' || c == '[' || c == '{') {
            if (depth == sizeof stack)
                return SIZE_MAX;
            stack[depth++] = closer_of(c);
            i++;
        } else if (c == ')' || c == ']' || c == '}') {
            if (depth == 0)
                return i;
            if (stack[--depth] != c)
                return SIZE_MAX;
            i++;
        } else {
            i = skip_atom(s, n, i);
            if (i == SIZE_MAX)
                return SIZE_MAX;
        }
    }
    return depth == 0 ? n : SIZE_MAX;
}

/* Strip a trailing comment (as in "0x7ffc /-* 6 vars *-/") and spaces. */
static strace_span strip_comment(strace_span a)
{
    a = trim(a.p, a.len);
    if (a.len >= 4 && a.p[a.len - 1] == '/' && a.p[a.len - 2] == '*') {
        for (size_t i = a.len - 2; i-- > 0;)
            if (a.p[i] == '/' && a.p[i + 1] == '*')
                return trim(a.p, i);
    }
    return a;
}

/* ---- public structure helpers -------------------------------------------------- */

size_t strace_split(const char *s, size_t len, strace_span *items, size_t cap)
{
    strace_span t = trim(s, len);
    if (t.len >= 2 && (t.p[0] == '[' || t.p[0] == '{')) {
        size_t end = scan_top(t.p, t.len, 1, 0);
        if (end == t.len - 1 && t.p[end] == closer_of(t.p[0]))
            t = trim(t.p + 1, t.len - 2);
    }
    if (t.len == 0)
        return 0;
    size_t count = 0, i = 0;
    for (;;) {
        size_t j = scan_top(t.p, t.len, i, ',');
        if (j == SIZE_MAX || (j < t.len && t.p[j] != ','))
            return SIZE_MAX;
        if (count < cap)
            items[count] = trim(t.p + i, j - i);
        count++;
        if (j == t.len)
            return count;
        i = j + 1;
    }
}

int strace_field(const char *s, const char *key, strace_span *val)
{
    strace_span t = trim(s, strlen(s));
    if (t.len && t.p[0] == '{') { /* only the first struct: "{...} => {...}" */
        size_t end = scan_top(t.p, t.len, 1, 0);
        if (end == SIZE_MAX || end == t.len)
            return -ENOENT;
        t.len = end + 1;
    }
    size_t klen = strlen(key);
    size_t i = (t.len && t.p[0] == '{') ? 1 : 0, n = (t.len && t.p[0] == '{') ? t.len - 1 : t.len;
    while (i < n) {
        size_t j = scan_top(t.p, n, i, ',');
        if (j == SIZE_MAX)
            return -ENOENT;
        strace_span item = trim(t.p + i, j - i);
        if (item.len > klen && memcmp(item.p, key, klen) == 0 && item.p[klen] == '=') {
            *val = trim(item.p + klen + 1, item.len - klen - 1);
            return 0;
        }
        if (j >= n || t.p[j] != ',')
            break;
        i = j + 1;
    }
    return -ENOENT;
}

/* ---- escapes and strings ----------------------------------------------------------- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes the escape at s[i] (just after the backslash); returns chars used. */
static size_t decode_escape(const char *s, size_t n, size_t i, unsigned char *out)
{
    static const char from[] = "nrtvfab\\\"'?e";
    static const char to[] = "\n\r\t\v\f\a\b\\\"'?\033";
    if (i >= n)
        return 0;
    const char *k = memchr(from, s[i], sizeof from - 1);
    if (k) {
        *out = (unsigned char)to[k - from];
        return 1;
    }
    if (s[i] == 'x' && i + 1 < n && hexval(s[i + 1]) >= 0) {
        unsigned v = (unsigned)hexval(s[i + 1]);
        size_t used = 2;
        if (i + 2 < n && hexval(s[i + 2]) >= 0) {
            v = v * 16 + (unsigned)hexval(s[i + 2]);
            used = 3;
        }
        *out = (unsigned char)v;
        return used;
    }
    if (s[i] >= '0' && s[i] <= '7') {
        unsigned v = 0;
        size_t used = 0;
        while (used < 3 && i + used < n && s[i + used] >= '0' && s[i + used] <= '7')
            v = v * 8 + (unsigned)(s[i + used++] - '0');
        *out = (unsigned char)v;
        return used;
    }
    return 0;
}

int strace_unescape(const char *s, size_t n, char *buf, size_t cap, size_t *len)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\\') {
            size_t used = decode_escape(s, n, i + 1, &c);
            if (used == 0)
                return -EINVAL;
            i += 1 + used;
        } else {
            i++;
        }
        if (o + 1 >= cap)
            return -ENOSPC;
        buf[o++] = (char)c;
    }
    if (cap == 0)
        return -ENOSPC;
    buf[o] = '\0';
    if (len)
        *len = o;
    return 0;
}

int strace_arg_string(const char *arg, char *buf, size_t cap, size_t *len, bool *truncated)
{
    strace_span a = strip_comment((strace_span){arg, strlen(arg)});
    if (a.len < 2 || a.p[0] != '"')
        return -EINVAL;
    size_t end = skip_atom(a.p, a.len, 0);
    if (end == SIZE_MAX)
        return -EINVAL;
    bool trunc = false;
    if (end + 3 == a.len && memcmp(a.p + end, "...", 3) == 0)
        trunc = true;
    else if (end != a.len)
        return -EINVAL;
    if (truncated)
        *truncated = trunc;
    return strace_unescape(a.p + 1, end - 2, buf, cap, len);
}

/* ---- numbers ------------------------------------------------------------------------ */

/* One factor: [-](hex|octal|decimal); must use the whole span. */
static int parse_factor(strace_span f, bool *neg, uint64_t *mag)
{
    f = trim(f.p, f.len);
    *neg = f.len && f.p[0] == '-';
    if (*neg) {
        f.p++;
        f.len--;
    }
    if (f.len == 0)
        return -EINVAL;
    uint64_t v;
    size_t used = sim_parse_u64(f.p, f.len, 0, &v);
    if (used == 0) {
        /* nothing parsed: too big if it is all digits of its base */
        bool hex = f.len > 2 && f.p[0] == '0' && f.p[1] == 'x';
        for (size_t i = hex ? 2 : 0; i < f.len; i++)
            if (hex ? hexval(f.p[i]) < 0 : (f.p[i] < '0' || f.p[i] > '9'))
                return -EINVAL;
        return -ERANGE;
    }
    if (used != f.len)
        return -EINVAL;
    *mag = v;
    return 0;
}

static int span_int(strace_span a, int64_t *out)
{
    a = strip_comment(a);
    if (span_eq(a, "NULL")) {
        *out = 0;
        return 0;
    }
    uint64_t prod = 1;
    bool neg = false;
    size_t i = 0;
    do { /* factors of a product like 8192*1024 */
        const char *star = memchr(a.p + i, '*', a.len - i);
        size_t j = star ? (size_t)(star - a.p) : a.len;
        bool fneg;
        uint64_t f;
        int rc = parse_factor((strace_span){a.p + i, j - i}, &fneg, &f);
        if (rc)
            return rc;
        if (f && prod > UINT64_MAX / f)
            return -ERANGE;
        prod *= f;
        neg ^= fneg;
        i = j + 1;
    } while (i <= a.len);
    if (neg) {
        if (prod > (uint64_t)INT64_MAX + 1)
            return -ERANGE;
        *out = (int64_t)(0 - prod);
    } else {
        *out = (int64_t)prod; /* hex above INT64_MAX wraps, as documented */
    }
    return 0;
}

int strace_arg_int(const char *arg, int64_t *out)
{
    return span_int((strace_span){arg, strlen(arg)}, out);
}

int strace_arg_u64(const char *arg, uint64_t *out)
{
    int64_t v;
    int rc = strace_arg_int(arg, &v);
    if (rc == 0)
        *out = (uint64_t)v;
    return rc;
}

/* ---- fds and flags ------------------------------------------------------------------ */

int strace_arg_fd(const char *arg, strace_fd *out, char *pathbuf, size_t pathcap)
{
    strace_span a = strip_comment((strace_span){arg, strlen(arg)});
    memset(out, 0, sizeof *out);
    size_t i = 0;
    if (starts_with(a.p, a.len, "AT_FDCWD")) {
        out->fd = SIM_AT_FDCWD;
        i = 8;
    } else {
        while (i < a.len && a.p[i] != '<')
            i++;
        int rc = span_int((strace_span){a.p, i}, &out->fd);
        if (rc)
            return rc;
    }
    if (i == a.len)
        return 0;
    if (a.p[i] != '<')
        return -EINVAL;
    size_t end = skip_atom(a.p, a.len, i);
    if (end == SIZE_MAX || end == i + 2) /* unterminated or "<<" */
        return -EINVAL;
    int rc = strace_unescape(a.p + i + 1, end - i - 2, pathbuf, pathcap, &out->path_len);
    if (rc)
        return rc;
    out->has_path = true;
    out->path = pathbuf;
    strace_span rest = {a.p + end, a.len - end};
    if (span_eq(rest, "(deleted)"))
        out->deleted = true;
    else if (rest.len)
        return -EINVAL;
    return 0;
}

/* Shift names strace uses inside flag sets, e.g. MAP_HUGETLB|21<<MAP_HUGE_SHIFT. */
static int shift_value(strace_span name, unsigned *shift)
{
    if (span_eq(name, "MAP_HUGE_SHIFT") || span_eq(name, "MFD_HUGE_SHIFT") ||
        span_eq(name, "SHM_HUGE_SHIFT")) {
        *shift = SIM_MAP_HUGE_SHIFT;
        return 0;
    }
    return -EINVAL;
}

static int flag_token(strace_span tok, const sim_symtab *t, uint64_t *v)
{
    tok = trim(tok.p, tok.len);
    if (tok.len == 0)
        return -EINVAL;
    const char *shl = NULL;
    for (size_t i = 0; i + 1 < tok.len; i++)
        if (tok.p[i] == '<' && tok.p[i + 1] == '<')
            shl = tok.p + i;
    if (shl) {
        int64_t base;
        unsigned sh;
        strace_span name = trim(shl + 2, (size_t)(tok.p + tok.len - shl - 2));
        if (span_int((strace_span){tok.p, (size_t)(shl - tok.p)}, &base) || shift_value(name, &sh))
            return -EINVAL;
        *v = (uint64_t)base << sh;
        return 0;
    }
    if ((tok.p[0] >= '0' && tok.p[0] <= '9') || tok.p[0] == '-') {
        int64_t n;
        int rc = span_int(tok, &n);
        *v = (uint64_t)n;
        return rc;
    }
    return sim_sym_lookup(t, tok.p, tok.len, v) == 0 ? 0 : -EINVAL;
}

int strace_arg_flags(const char *arg, const sim_symtab *t, uint64_t *out)
{
    strace_span a = strip_comment((strace_span){arg, strlen(arg)});
    if (a.len == 0)
        return -EINVAL;
    uint64_t acc = 0;
    size_t i = 0;
    for (;;) {
        const char *bar = memchr(a.p + i, '|', a.len - i);
        size_t j = bar ? (size_t)(bar - a.p) : a.len;
        uint64_t v;
        int rc = flag_token((strace_span){a.p + i, j - i}, t, &v);
        if (rc)
            return rc;
        acc |= v;
        if (j == a.len)
            break;
        i = j + 1;
    }
    *out = acc;
    return 0;
}

/* ---- clone family -------------------------------------------------------------------- */

/* CLONE_* names, signal names (the exit signal) and numbers, '|'-joined. */
static int clone_flag_set(strace_span s, strace_clone *out)
{
    s = strip_comment(s);
    size_t i = 0;
    while (i <= s.len) {
        const char *bar = memchr(s.p + i, '|', s.len - i);
        size_t j = bar ? (size_t)(bar - s.p) : s.len;
        strace_span tok = trim(s.p + i, j - i);
        uint64_t v;
        int sig;
        if (tok.len && sim_sym_lookup(&sim_clone_syms, tok.p, tok.len, &v) == 0) {
            out->flags |= v;
        } else if (tok.len && (sig = sim_signal_value(tok.p, tok.len)) > 0) {
            out->exit_signal = sig;
        } else if (tok.len && flag_token(tok, &sim_clone_syms, &v) == 0) {
            out->flags |= v & ~SIM_CSIGNAL;
            if (v & SIM_CSIGNAL)
                out->exit_signal = (int)(v & SIM_CSIGNAL);
        } else {
            return -EINVAL;
        }
        i = j + 1;
    }
    return 0;
}

static int field_u64(const char *s, const char *key, uint64_t *v)
{
    strace_span val;
    if (strace_field(s, key, &val) != 0)
        return 0; /* absent: keep the default */
    int64_t x;
    if (span_int(val, &x) != 0)
        return -EINVAL;
    *v = (uint64_t)x;
    return 0;
}

static int clone_from_args(const strace_syscall *sc, strace_clone *out)
{
    bool have_flags = false;
    for (uint32_t i = 0; i < sc->nargs; i++) {
        strace_span val;
        if (strace_field(sc->args[i], "flags", &val) == 0) {
            if (clone_flag_set(val, out))
                return -EINVAL;
            have_flags = true;
        } else if (field_u64(sc->args[i], "child_stack", &out->stack) ||
                   field_u64(sc->args[i], "stack", &out->stack) ||
                   field_u64(sc->args[i], "tls", &out->tls)) {
            return -EINVAL;
        }
    }
    return have_flags ? 0 : -EINVAL;
}

static int clone3_from_struct(const strace_syscall *sc, strace_clone *out)
{
    if (sc->nargs < 1 || sc->args[0][0] != '{')
        return -EINVAL;
    const char *st = sc->args[0];
    strace_span val;
    if (strace_field(st, "flags", &val) != 0 || clone_flag_set(val, out))
        return -EINVAL;
    if (strace_field(st, "exit_signal", &val) == 0) {
        int sig = sim_signal_value(val.p, val.len);
        int64_t num;
        if (sig < 0 && span_int(val, &num) == 0 && num >= 0 && num < 256)
            sig = (int)num;
        if (sig < 0)
            return -EINVAL;
        out->exit_signal = sig;
    }
    if (field_u64(st, "stack", &out->stack) || field_u64(st, "stack_size", &out->stack_size) ||
        field_u64(st, "tls", &out->tls))
        return -EINVAL;
    return 0;
}

int strace_clone_args(const strace_syscall *sc, strace_clone *out)
{
    memset(out, 0, sizeof *out);
    int rc;
    if (strcmp(sc->name, "fork") == 0) {
        out->exit_signal = SIM_SIGCHLD;
        rc = 0;
    } else if (strcmp(sc->name, "vfork") == 0) {
        out->flags = SIM_CLONE_VM | SIM_CLONE_VFORK;
        out->exit_signal = SIM_SIGCHLD;
        rc = 0;
    } else if (strcmp(sc->name, "clone") == 0) {
        rc = clone_from_args(sc, out);
    } else if (strcmp(sc->name, "clone3") == 0) {
        rc = clone3_from_struct(sc, out);
    } else {
        rc = -EINVAL;
    }
    out->is_thread = (out->flags & SIM_CLONE_THREAD) != 0;
    out->shares_vm = (out->flags & SIM_CLONE_VM) != 0;
    out->is_vfork = (out->flags & SIM_CLONE_VFORK) != 0;
    return rc;
}

/* ---- parser state ---------------------------------------------------------------------- */

struct strace_intern {
    size_t cap, n;
    struct intern_slot {
        const char *name;
        size_t len;
        int nr;
    } *slots;
};

typedef struct pending {
    int32_t tid;
    uint32_t line;
    int64_t ts;
    const char *text; /* "NAME(ARGS" (caller's text or arena), no suffix */
    size_t len;
} pending;

typedef struct parser {
    strace_trace *t;
    pending *pend;
    size_t npend, cappend;
    char *join;             /* scratch for joined lines */
    size_t joincap;
    strace_span *spans;     /* scratch for argument splitting */
    size_t capspans;
    bool oom;
    char why[100];          /* reason of the last failure, for problems */
} parser;

static uint64_t hash_name(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static int intern_grow(struct strace_intern *in)
{
    size_t ncap = in->cap ? in->cap * 2 : 64;
    struct intern_slot *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return -ENOMEM;
    for (size_t i = 0; i < in->cap; i++) {
        if (!in->slots[i].name)
            continue;
        size_t k = hash_name(in->slots[i].name, in->slots[i].len) & (ncap - 1);
        while (ns[k].name)
            k = (k + 1) & (ncap - 1);
        ns[k] = in->slots[i];
    }
    free(in->slots);
    in->slots = ns;
    in->cap = ncap;
    return 0;
}

/* The arena copy of a syscall name, and its number, shared by all events. */
static const char *intern_name(parser *p, const char *s, size_t n, int *nr)
{
    struct strace_intern *in = p->t->intern;
    if (in->n * 2 >= in->cap && intern_grow(in) != 0)
        return NULL;
    size_t k = hash_name(s, n) & (in->cap - 1);
    for (; in->slots[k].name; k = (k + 1) & (in->cap - 1)) {
        if (in->slots[k].len == n && memcmp(in->slots[k].name, s, n) == 0) {
            *nr = in->slots[k].nr;
            return in->slots[k].name;
        }
    }
    char *copy = sim_arena_strndup(&p->t->arena, s, n);
    if (!copy)
        return NULL;
    in->slots[k] = (struct intern_slot){copy, n, sim_syscall_nr(s, n)};
    in->n++;
    *nr = in->slots[k].nr;
    return copy;
}

static strace_event *push_event(parser *p)
{
    strace_trace *t = p->t;
    if (t->n == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 1024;
        strace_event *nv = realloc(t->ev, ncap * sizeof *nv);
        if (!nv) {
            p->oom = true;
            return NULL;
        }
        t->ev = nv;
        t->cap = ncap;
    }
    strace_event *e = &t->ev[t->n++];
    memset(e, 0, sizeof *e);
    return e;
}

static void problem(parser *p, uint32_t line, const char *what)
{
    sim_problems_add(&p->t->problems, line, "%s", what);
}

static bool fail(parser *p, const char *why)
{
    snprintf(p->why, sizeof p->why, "%s", why);
    return false;
}

/* ---- arguments and return value ----------------------------------------------------------- */

static bool grow_spans(parser *p)
{
    size_t ncap = p->capspans ? p->capspans * 2 : 16;
    strace_span *ns = realloc(p->spans, ncap * sizeof *ns);
    if (!ns) {
        p->oom = true;
        return fail(p, "out of memory");
    }
    p->spans = ns;
    p->capspans = ncap;
    return true;
}

/* Splits s[0..n) at top-level commas into p->spans; returns the count or
 * SIZE_MAX (p->why set).  Unlike strace_split, never unwraps brackets: a
 * single argument "[1, 0]" stays one argument. */
static size_t split_args(parser *p, const char *s, size_t n)
{
    strace_span t = trim(s, n);
    size_t count = 0;
    for (size_t i = 0; t.len;) {
        size_t j = scan_top(t.p, t.len, i, ',');
        if (j == SIZE_MAX || (j < t.len && t.p[j] != ',')) {
            fail(p, "unbalanced brackets or quotes in the arguments");
            return SIZE_MAX;
        }
        if (count == p->capspans && !grow_spans(p))
            return SIZE_MAX;
        p->spans[count++] = trim(t.p + i, j - i);
        if (j == t.len)
            break;
        i = j + 1;
    }
    return count;
}

/* Copies the arguments of s[0..n) into the arena.  `partial`: the text is
 * an unfinished half cut short ("f(3, "), so a trailing empty one is dropped. */
static bool store_args(parser *p, const char *s, size_t n, bool partial, strace_syscall *sc)
{
    size_t count = split_args(p, s, n);
    if (count == SIZE_MAX)
        return false;
    if (partial && count && p->spans[count - 1].len == 0)
        count--;
    const char **args = sim_arena_alloc(&p->t->arena, (count ? count : 1) * sizeof *args);
    if (!args) {
        p->oom = true;
        return fail(p, "out of memory");
    }
    for (size_t i = 0; i < count; i++) {
        args[i] = sim_arena_strndup(&p->t->arena, p->spans[i].p, p->spans[i].len);
        if (!args[i]) {
            p->oom = true;
            return fail(p, "out of memory");
        }
    }
    sc->args = args;
    sc->nargs = (uint32_t)count;
    return true;
}

/* `<path>` and `(deleted)` right after a returned fd. */
static bool ret_annotation(parser *p, const char *s, size_t n, size_t *i, strace_syscall *sc)
{
    size_t end = skip_atom(s, n, *i);
    if (end == SIZE_MAX || end < *i + 2)
        return fail(p, "unterminated <...> after the return value");
    size_t inner = end - *i - 2;
    char *path = sim_arena_alloc(&p->t->arena, inner + 1);
    if (!path) {
        p->oom = true;
        return fail(p, "out of memory");
    }
    if (strace_unescape(s + *i + 1, inner, path, inner + 1, NULL) != 0)
        return fail(p, "bad escape in the returned fd's path");
    sc->ret_path = path;
    *i = end;
    if (starts_with(s + *i, n - *i, "(deleted)")) {
        sc->ret_deleted = true;
        *i += 9;
    }
    return true;
}

/* ` ENAME` after -1 or ?: the call failed. */
static bool ret_errno(parser *p, const char *s, size_t n, size_t *i, strace_syscall *sc)
{
    size_t j = *i;
    while (j < n && is_ident(s[j]))
        j++;
    int err = sim_errno_value(s + *i, j - *i);
    if (err < 0) {
        snprintf(p->why, sizeof p->why, "unknown errno name %.*s", (int)(j - *i > 40 ? 40 : j - *i),
                 s + *i);
        return false;
    }
    sc->ret_kind = STRACE_RET_ERROR;
    sc->err = err;
    sc->err_name = sim_errno_name(err);
    *i = j;
    return true;
}

/* ` (comment)`: errno message, "flags ...", "DELAYED". */
static bool ret_comment(parser *p, const char *s, size_t n, size_t *i, strace_syscall *sc)
{
    size_t depth = 0, j = *i;
    for (; j < n; j++) {
        if (s[j] == '(')
            depth++;
        else if (s[j] == ')' && --depth == 0)
            break;
    }
    if (j == n)
        return fail(p, "unterminated ( after the return value");
    strace_span c = {s + *i + 1, j - *i - 1};
    if (span_eq(c, "DELAYED"))
        sc->delayed = true;
    if (!sc->ret_comment) {
        sc->ret_comment = sim_arena_strndup(&p->t->arena, c.p, c.len);
        if (!sc->ret_comment) {
            p->oom = true;
            return fail(p, "out of memory");
        }
    }
    *i = j + 1;
    return true;
}

/* The value part: "?", "-1", "0x7f...", "3". */
static bool ret_value(parser *p, const char *s, size_t n, size_t *i, strace_syscall *sc)
{
    if (s[0] == '?') {
        sc->ret_unknown = true;
        sc->ret_kind = STRACE_RET_NONE;
        *i = 1;
        return true;
    }
    bool neg = s[0] == '-';
    uint64_t v;
    size_t used = sim_parse_u64(s + neg, n - neg, starts_with(s + neg, n - neg, "0x") ? 16 : 10, &v);
    if (used == 0)
        return fail(p, "return value is not a number");
    if (neg && v > (uint64_t)INT64_MAX + 1)
        return fail(p, "negative return value out of range");
    sc->ret = neg ? (int64_t)(0 - v) : (int64_t)v;
    sc->ret_kind = STRACE_RET_VALUE;
    *i = used + neg;
    return true;
}

/* Everything after " = ". */
static bool parse_ret(parser *p, const char *s, size_t n, strace_syscall *sc)
{
    size_t i;
    if (n == 0)
        return fail(p, "empty return value");
    if (!ret_value(p, s, n, &i, sc))
        return false;
    if (i < n && s[i] == '<' && !ret_annotation(p, s, n, &i, sc))
        return false;
    bool may_fail = sc->ret_unknown || sc->ret == -1;
    while (i < n) {
        if (is_space(s[i])) {
            i++;
        } else if (s[i] == '(') {
            if (!ret_comment(p, s, n, &i, sc))
                return false;
        } else if (may_fail && s[i] == 'E' && sc->ret_kind != STRACE_RET_ERROR) {
            if (!ret_errno(p, s, n, &i, sc))
                return false;
        } else {
            return fail(p, "unexpected text after the return value");
        }
    }
    if (sc->ret_kind == STRACE_RET_ERROR && sc->ret_unknown)
        sc->ret = 0;
    return true;
}

/* ---- calls ------------------------------------------------------------------------------- */

/* Length of NAME in "NAME(", 0 if s does not start like a call. */
static size_t call_name_len(const char *s, size_t n)
{
    size_t k = 0;
    while (k < n && is_ident(s[k]))
        k++;
    return (k > 0 && k < n && s[k] == '(') ? k : 0;
}

/*
 * s = "NAME(ARGS) = RET" (or, when partial, "NAME(ARGS" of an unfinished
 * half that was never resumed).  Fills ev->sc; false with p->why set on
 * a syntax error.
 */
static bool parse_call(parser *p, const char *s, size_t n, bool partial, strace_event *ev)
{
    strace_syscall *sc = &ev->sc;
    size_t k = call_name_len(s, n);
    if (k == 0)
        return fail(p, "expected NAME( at the start of a call");
    ev->kind = STRACE_SYSCALL;
    sc->name = intern_name(p, s, k, &sc->nr);
    if (!sc->name) {
        p->oom = true;
        return fail(p, "out of memory");
    }
    if (partial) {
        sc->ret_kind = STRACE_RET_NONE;
        sc->incomplete = true;
        return store_args(p, s + k + 1, n - k - 1, true, sc);
    }
    size_t close = scan_top(s, n, k + 1, 0);
    if (close == SIZE_MAX || close >= n || s[close] != ')')
        return fail(p, "unbalanced brackets or quotes in the arguments");
    if (!store_args(p, s + k + 1, close - k - 1, false, sc))
        return false;
    size_t i = close + 1;
    while (i < n && is_space(s[i]))
        i++;
    if (i >= n || s[i] != '=')
        return fail(p, "no ' = ' after the arguments");
    i++;
    while (i < n && is_space(s[i]))
        i++;
    return parse_ret(p, s + i, n - i, sc);
}

/* ---- signals and exits ---------------------------------------------------------------------- */

static bool parse_signal(parser *p, const char *s, size_t n, strace_event *ev)
{
    strace_span in = trim(s + 4, n - 8); /* between "--- " and " ---" */
    size_t k = 0;
    while (k < in.len && is_ident(in.p[k]))
        k++;
    if (k == 0 || !starts_with(in.p, in.len, "SIG"))
        return fail(p, "signal line without a SIGNAME");
    strace_signal *sg = &ev->sig;
    ev->kind = STRACE_SIGNAL;
    sg->name = sim_arena_strndup(&p->t->arena, in.p, k);
    strace_span info = trim(in.p + k, in.len - k);
    sg->info = sim_arena_strndup(&p->t->arena, info.p, info.len);
    if (!sg->name || !sg->info) {
        p->oom = true;
        return fail(p, "out of memory");
    }
    sg->signo = sim_signal_value(in.p, k);
    if (sg->signo < 0)
        return fail(p, "unknown signal name");
    if (info.len == 0 || info.p[0] != '{')
        return true;
    if (scan_top(info.p, info.len, 1, 0) != info.len - 1)
        return fail(p, "unbalanced braces in signal information");
    strace_span v;
    if (strace_field(sg->info, "si_code", &v) == 0) {
        sg->si_code = sim_arena_strndup(&p->t->arena, v.p, v.len);
        int64_t num;
        if (sim_si_code_value(v.p, v.len, &sg->si_code_value) == 0) {
            sg->has_si_code_value = true;
        } else if (span_int(v, &num) == 0 && num >= INT32_MIN && num <= INT32_MAX) {
            sg->si_code_value = (int)num;
            sg->has_si_code_value = true;
        }
    }
    int64_t num;
    if (strace_field(sg->info, "si_addr", &v) == 0) {
        if (span_int(v, &num) != 0)
            return fail(p, "bad si_addr");
        sg->addr = (uint64_t)num;
        sg->has_addr = true;
    }
    if (strace_field(sg->info, "si_pid", &v) == 0 && span_int(v, &num) == 0 && num >= 0 &&
        num <= INT32_MAX) {
        sg->pid = (int32_t)num;
        sg->has_pid = true;
    }
    return true;
}

static bool parse_exit(parser *p, const char *s, size_t n, strace_event *ev)
{
    strace_span in = trim(s + 4, n - 8); /* between "+++ " and " +++" */
    int64_t num;
    if (starts_with(in.p, in.len, "exited with ")) {
        if (span_int((strace_span){in.p + 12, in.len - 12}, &num) != 0 || num < INT32_MIN ||
            num > INT32_MAX)
            return fail(p, "bad exit status");
        ev->kind = STRACE_EXITED;
        ev->exit_status = (int)num;
        return true;
    }
    if (starts_with(in.p, in.len, "killed by ")) {
        strace_span sig = {in.p + 10, in.len - 10};
        ev->kind = STRACE_KILLED;
        if (ends_with(sig.p, sig.len, " (core dumped)")) {
            ev->killed.core_dumped = true;
            sig.len -= 14;
        }
        sig = trim(sig.p, sig.len);
        ev->killed.name = sim_arena_strndup(&p->t->arena, sig.p, sig.len);
        if (!ev->killed.name) {
            p->oom = true;
            return fail(p, "out of memory");
        }
        ev->killed.signo = sim_signal_value(sig.p, sig.len);
        return ev->killed.signo > 0 ? true : fail(p, "unknown signal name");
    }
    if (starts_with(in.p, in.len, "superseded by execve in pid ")) {
        if (span_int((strace_span){in.p + 28, in.len - 28}, &num) != 0 || num <= 0 || num > INT32_MAX)
            return fail(p, "bad pid");
        ev->kind = STRACE_SUPERSEDED;
        ev->new_pid = (int32_t)num;
        return true;
    }
    return fail(p, "unknown +++ line");
}

/* ---- unfinished / resumed bookkeeping ------------------------------------------------------------ */

static pending *find_pending(parser *p, int32_t tid)
{
    for (size_t i = 0; i < p->npend; i++)
        if (p->pend[i].tid == tid)
            return &p->pend[i];
    return NULL;
}

static void drop_pending(parser *p, pending *pd)
{
    *pd = p->pend[--p->npend];
}

/* A one-line event: entry and completion are the same line. */
static void set_position(strace_event *ev, int32_t tid, uint32_t line, int64_t ts)
{
    ev->tid = tid;
    ev->line = ev->entry_line = line;
    ev->ts_us = ev->entry_ts_us = ts;
}

/* A half that will never be resumed becomes an incomplete event (and a problem). */
static void flush_pending(parser *p, pending *pd, uint32_t at_line, const char *why)
{
    sim_problems_add(&p->t->problems, pd->line, "<unfinished ...> of tid %d never resumed (%s, line %u)",
                     (int)pd->tid, why, (unsigned)at_line);
    strace_event *ev = push_event(p);
    if (ev) {
        set_position(ev, pd->tid, pd->line, pd->ts);
        if (!parse_call(p, pd->text, pd->len, true, ev))
            p->t->n--; /* keep only the problem already recorded */
    }
    drop_pending(p, pd);
}

static bool add_pending(parser *p, int32_t tid, uint32_t line, int64_t ts, const char *s, size_t n)
{
    pending *old = find_pending(p, tid);
    if (old)
        flush_pending(p, old, line, "a second <unfinished ...> came first");
    if (p->npend == p->cappend) {
        size_t ncap = p->cappend ? p->cappend * 2 : 16;
        pending *np = realloc(p->pend, ncap * sizeof *np);
        if (!np) {
            p->oom = true;
            return false;
        }
        p->pend = np;
        p->cappend = ncap;
    }
    p->pend[p->npend++] = (pending){tid, line, ts, s, n};
    return true;
}

static bool ensure_join(parser *p, size_t need)
{
    if (need <= p->joincap)
        return true;
    size_t ncap = p->joincap ? p->joincap : 4096;
    while (ncap < need)
        ncap *= 2;
    char *nj = realloc(p->join, ncap);
    if (!nj) {
        p->oom = true;
        return false;
    }
    p->join = nj;
    p->joincap = ncap;
    return true;
}

/* "<... NAME resumed>REST": join with the pending half of the same tid. */
static void on_resumed(parser *p, int32_t tid, uint32_t line, int64_t ts, const char *s, size_t n)
{
    size_t k = 5; /* after "<... " */
    while (k < n && is_ident(s[k]))
        k++;
    if (k == 5 || !starts_with(s + k, n - k, " resumed>")) {
        problem(p, line, "malformed <... NAME resumed> line");
        return;
    }
    strace_span name = {s + 5, k - 5};
    const char *rest = s + k + 9;
    size_t rlen = n - k - 9;
    pending *pd = find_pending(p, tid);
    if (pd && (pd->len <= name.len || memcmp(pd->text, name.p, name.len) != 0 ||
               pd->text[name.len] != '(')) {
        flush_pending(p, pd, line, "resumed as another call");
        pd = NULL;
    }
    if (!pd) {
        problem(p, line, "<... resumed> without an <unfinished ...> of the same tid");
        return;
    }
    if (!ensure_join(p, pd->len + rlen + 1))
        return;
    memcpy(p->join, pd->text, pd->len);
    memcpy(p->join + pd->len, rest, rlen);
    size_t jlen = pd->len + rlen;
    if (ends_with(p->join, jlen, UNFINISHED)) { /* interrupted again: still pending */
        char *copy = sim_arena_strndup(&p->t->arena, p->join, jlen - UNFINISHED_LEN);
        if (!copy) {
            p->oom = true;
            return;
        }
        pd->text = copy;
        pd->len = jlen - UNFINISHED_LEN;
        return;
    }
    strace_event *ev = push_event(p);
    if (!ev)
        return;
    ev->tid = tid;
    ev->line = line;
    ev->entry_line = pd->line;
    ev->ts_us = ts;
    ev->entry_ts_us = pd->ts;
    ev->joined = true;
    drop_pending(p, pd);
    if (!parse_call(p, p->join, jlen, false, ev)) {
        p->t->n--;
        sim_problems_add(&p->t->problems, line, "%s (joined with line %u)", p->why,
                         (unsigned)ev->entry_line);
    }
}

/* ---- lines ------------------------------------------------------------------------------------------ */

/* "TID TS " prefix; returns the offset of the rest or 0. */
static size_t parse_prefix(const char *s, size_t n, int32_t *tid, int64_t *ts)
{
    uint64_t v;
    size_t i = sim_parse_u64(s, n, 10, &v);
    if (i == 0 || i >= n || s[i] != ' ' || v > INT32_MAX || s[0] == '0')
        return 0;
    *tid = (int32_t)v;
    i++;
    size_t used = sim_parse_ts_us(s + i, n - i, ts);
    if (used == 0 || i + used >= n || s[i + used] != ' ')
        return 0;
    return i + used + 1;
}

static void parse_one(parser *p, const char *s, size_t n, uint32_t line)
{
    int32_t tid;
    int64_t ts;
    size_t off = parse_prefix(s, n, &tid, &ts);
    if (off == 0) {
        problem(p, line, "line does not start with 'TID SECONDS.MICROS '");
        return;
    }
    s += off;
    n -= off;
    if (starts_with(s, n, "<... ")) {
        on_resumed(p, tid, line, ts, s, n);
        return;
    }
    if (ends_with(s, n, UNFINISHED) && !starts_with(s, n, "--- ") && !starts_with(s, n, "+++ ")) {
        if (call_name_len(s, n) == 0)
            problem(p, line, "<unfinished ...> line does not start with NAME(");
        else
            add_pending(p, tid, line, ts, s, n - UNFINISHED_LEN);
        return;
    }
    strace_event *ev = push_event(p);
    if (!ev)
        return;
    set_position(ev, tid, line, ts);
    bool ok;
    if (n >= 8 && starts_with(s, n, "--- ") && ends_with(s, n, " ---"))
        ok = parse_signal(p, s, n, ev);
    else if (n >= 8 && starts_with(s, n, "+++ ") && ends_with(s, n, " +++"))
        ok = parse_exit(p, s, n, ev);
    else
        ok = parse_call(p, s, n, false, ev);
    if (!ok) {
        p->t->n--;
        problem(p, line, p->why);
        return;
    }
    /* A task that is gone cannot resume a call any more. */
    if (ev->kind == STRACE_EXITED || ev->kind == STRACE_KILLED) {
        pending *pd = find_pending(p, tid);
        if (pd) {
            strace_event saved = *ev; /* keep the exit after the incomplete call */
            p->t->n--;
            flush_pending(p, pd, line, "the task ended");
            strace_event *again = push_event(p);
            if (again)
                *again = saved;
        }
    }
}

int strace_parse(const char *text, size_t len, strace_trace *out)
{
    memset(out, 0, sizeof *out);
    out->intern = calloc(1, sizeof *out->intern);
    if (!out->intern)
        return -ENOMEM;
    parser p = {.t = out};
    uint32_t line = 0;
    for (size_t i = 0; i < len && !p.oom;) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - text) : len;
        size_t n = end - i;
        if (n && text[i + n - 1] == '\r')
            n--;
        line++;
        if (n == 0)
            problem(&p, line, "empty line");
        else
            parse_one(&p, text + i, n, line);
        i = end + 1;
    }
    out->lines = line;
    while (p.npend && !p.oom)
        flush_pending(&p, &p.pend[0], line, "end of file");
    free(p.pend);
    free(p.join);
    free(p.spans);
    return p.oom ? -ENOMEM : 0;
}

static int strace_parse_any(const char *text, size_t len, void *out)
{
    return strace_parse(text, len, out);
}

int strace_parse_file(const char *path, strace_trace *out, char *err, size_t errlen)
{
    return zread_parse_file(path, strace_parse_any, out, sizeof *out, err, errlen);
}

void strace_trace_free(strace_trace *t)
{
    free(t->ev);
    if (t->intern)
        free(t->intern->slots);
    free(t->intern);
    sim_problems_free(&t->problems);
    sim_arena_free(&t->arena);
    memset(t, 0, sizeof *t);
}

size_t strace_count(const strace_trace *t, const char *name)
{
    size_t c = 0;
    for (size_t i = 0; i < t->n; i++)
        if (t->ev[i].kind == STRACE_SYSCALL && strcmp(t->ev[i].sc.name, name) == 0)
            c++;
    return c;
}
