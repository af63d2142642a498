/*
 * maps_parse.c: maps.txt snapshots in, /proc/PID/maps lines out (see
 * maps_parse.h; format: traces/README.md, "maps.txt: layout snapshots").
 *
 * Entries of the snapshot being read collect in a scratch vector and are
 * copied into the arena at "@@ end", so each snapshot's array is exact.
 */
#include "maps_parse.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symbols.h"

/* ---- one maps line ------------------------------------------------------------- */

/* Hex number at s[*i..n) followed by `sep` (0 = end or space). */
static bool hex_field(const char *s, size_t n, size_t *i, char sep, uint64_t *v)
{
    size_t used = sim_parse_u64(s + *i, n - *i, 16, v);
    if (used == 0 || (s[*i] == '0' && *i + 1 < n && (s[*i + 1] == 'x' || s[*i + 1] == 'X')))
        return false;
    *i += used;
    if (sep == 0)
        return *i == n || s[*i] == ' ';
    if (*i >= n || s[*i] != sep)
        return false;
    (*i)++;
    return true;
}

static bool perms_field(const char *s, size_t n, size_t *i, maps_entry *e)
{
    static const char want[4][3] = {"r-", "w-", "x-", "ps"};
    if (*i + 5 > n || s[*i + 4] != ' ')
        return false;
    for (int k = 0; k < 4; k++)
        if (s[*i + k] != want[k][0] && s[*i + k] != want[k][1])
            return false;
    memcpy(e->perms, s + *i, 4);
    e->perms[4] = '\0';
    e->prot = (s[*i] == 'r' ? SIM_PROT_READ : 0) | (s[*i + 1] == 'w' ? SIM_PROT_WRITE : 0) |
              (s[*i + 2] == 'x' ? SIM_PROT_EXEC : 0);
    e->shared = s[*i + 3] == 's';
    *i += 5;
    return true;
}

int maps_parse_line(const char *s, size_t n, maps_entry *e, const char **path, size_t *path_len)
{
    memset(e, 0, sizeof *e);
    size_t i = 0;
    uint64_t maj, min;
    if (!hex_field(s, n, &i, '-', &e->start) || !hex_field(s, n, &i, ' ', &e->end) ||
        !perms_field(s, n, &i, e) || !hex_field(s, n, &i, ' ', &e->offset) ||
        !hex_field(s, n, &i, ':', &maj) || !hex_field(s, n, &i, ' ', &min))
        return -EINVAL;
    if (e->end < e->start || maj > UINT32_MAX || min > UINT32_MAX)
        return -EINVAL;
    e->dev_major = (uint32_t)maj;
    e->dev_minor = (uint32_t)min;
    size_t used = sim_parse_u64(s + i, n - i, 10, &e->inode);
    if (used == 0)
        return -EINVAL;
    i += used;
    if (i < n && s[i] != ' ')
        return -EINVAL;
    while (i < n && s[i] == ' ')
        i++;
    *path = s + i;
    *path_len = n - i;
    static const char del[] = " (deleted)";
    e->deleted = *path_len >= sizeof del - 1 && memcmp(s + n - (sizeof del - 1), del, sizeof del - 1) == 0;
    return 0;
}

/* ---- formatting ------------------------------------------------------------------ */

size_t maps_format_entry(const maps_entry *e, char *buf, size_t cap)
{
    char line[160];
    int k = snprintf(line, sizeof line, "%08" PRIx64 "-%08" PRIx64 " %.4s %08" PRIx64 " %02x:%02x %" PRIu64 " ",
                     e->start, e->end, e->perms, e->offset, e->dev_major, e->dev_minor, e->inode);
    size_t len = k > 0 ? (size_t)k : 0;
    const char *path = e->path ? e->path : "";
    if (*path) { /* seq_pad to 72 columns, then one space, then the name */
        while (len < 72 && len + 1 < sizeof line)
            line[len++] = ' ';
        if (len + 1 < sizeof line)
            line[len++] = ' ';
        line[len] = '\0';
    }
    return (size_t)snprintf(buf, cap, "%s%s", line, path);
}

size_t maps_format_header(const maps_snapshot *s, char *buf, size_t cap)
{
    char ts[40];
    if (s->ts_text)
        snprintf(ts, sizeof ts, "%s", s->ts_text);
    else
        snprintf(ts, sizeof ts, "%" PRId64 ".%06" PRId64, s->ts_us / 1000000, s->ts_us % 1000000);
    return (size_t)snprintf(buf, cap, "@@ %s tgid=%d tid=%d ts=%s exe=%s",
                            s->event == MAPS_EXEC ? "exec" : "exit_group", (int)s->tgid, (int)s->tid,
                            ts, s->exe ? s->exe : "");
}

/* ---- the file --------------------------------------------------------------------- */

typedef struct mparser {
    maps_file *m;
    maps_snapshot cur;     /* the open snapshot (valid when `open`) */
    bool open;
    maps_entry *tmp;       /* its entries so far */
    size_t ntmp, captmp;
    bool oom;
} mparser;

static bool take(const char **s, size_t *n, const char *lit)
{
    size_t k = strlen(lit);
    if (*n < k || memcmp(*s, lit, k) != 0)
        return false;
    *s += k;
    *n -= k;
    return true;
}

/* A decimal id up to the next space. */
static bool id_field(const char **s, size_t *n, int32_t *v)
{
    uint64_t x;
    size_t used = sim_parse_u64(*s, *n, 10, &x);
    if (used == 0 || x > INT32_MAX || used >= *n || (*s)[used] != ' ')
        return false;
    *v = (int32_t)x;
    *s += used + 1;
    *n -= used + 1;
    return true;
}

static bool parse_header(mparser *p, const char *s, size_t n, uint32_t line)
{
    maps_snapshot h = {.line = line};
    if (take(&s, &n, "@@ exec "))
        h.event = MAPS_EXEC;
    else if (take(&s, &n, "@@ exit_group "))
        h.event = MAPS_EXIT_GROUP;
    else
        return false;
    if (!take(&s, &n, "tgid=") || !id_field(&s, &n, &h.tgid) || !take(&s, &n, "tid=") ||
        !id_field(&s, &n, &h.tid) || !take(&s, &n, "ts="))
        return false;
    size_t used = sim_parse_ts_us(s, n, &h.ts_us);
    if (used == 0 || used >= n || s[used] != ' ')
        return false;
    h.ts_text = sim_arena_strndup(&p->m->arena, s, used);
    s += used + 1;
    n -= used + 1;
    if (!take(&s, &n, "exe="))
        return false;
    h.exe = sim_arena_strndup(&p->m->arena, s, n);
    if (!h.ts_text || !h.exe) {
        p->oom = true;
        return false;
    }
    p->cur = h;
    p->open = true;
    p->ntmp = 0;
    return true;
}

static void close_snapshot(mparser *p)
{
    maps_file *m = p->m;
    if (m->n == m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 32;
        maps_snapshot *nv = realloc(m->snaps, ncap * sizeof *nv);
        if (!nv) {
            p->oom = true;
            return;
        }
        m->snaps = nv;
        m->cap = ncap;
    }
    maps_snapshot *s = &m->snaps[m->n];
    *s = p->cur;
    s->n = p->ntmp;
    s->entries = sim_arena_alloc(&m->arena, (p->ntmp ? p->ntmp : 1) * sizeof *s->entries);
    if (!s->entries) {
        p->oom = true;
        return;
    }
    if (p->ntmp)
        memcpy(s->entries, p->tmp, p->ntmp * sizeof *p->tmp);
    m->n++;
    p->open = false;
}

static void add_entry(mparser *p, const char *s, size_t n, uint32_t line)
{
    maps_entry e;
    const char *path;
    size_t plen;
    if (maps_parse_line(s, n, &e, &path, &plen) != 0) {
        sim_problems_add(&p->m->problems, line, "malformed maps line");
        return;
    }
    e.line = line;
    e.path = sim_arena_strndup(&p->m->arena, path, plen);
    if (p->ntmp == p->captmp) {
        size_t ncap = p->captmp ? p->captmp * 2 : 64;
        maps_entry *nv = realloc(p->tmp, ncap * sizeof *nv);
        if (!nv) {
            p->oom = true;
            return;
        }
        p->tmp = nv;
        p->captmp = ncap;
    }
    if (!e.path) {
        p->oom = true;
        return;
    }
    p->tmp[p->ntmp++] = e;
}

static void maps_line(mparser *p, const char *s, size_t n, uint32_t line)
{
    bool is_end = n == 6 && memcmp(s, "@@ end", 6) == 0;
    if (n >= 3 && memcmp(s, "@@ ", 3) == 0 && !is_end) {
        if (p->open) {
            sim_problems_add(&p->m->problems, line, "snapshot header before '@@ end' of line %u",
                             (unsigned)p->cur.line);
            close_snapshot(p);
        }
        if (!parse_header(p, s, n, line) && !p->oom)
            sim_problems_add(&p->m->problems, line, "malformed '@@' header");
    } else if (is_end) {
        if (p->open)
            close_snapshot(p);
        else
            sim_problems_add(&p->m->problems, line, "'@@ end' without a header");
    } else if (!p->open) {
        sim_problems_add(&p->m->problems, line, "maps line outside a snapshot");
    } else {
        add_entry(p, s, n, line);
    }
}

int maps_parse(const char *text, size_t len, maps_file *out)
{
    memset(out, 0, sizeof *out);
    mparser p = {.m = out};
    uint32_t line = 0;
    for (size_t i = 0; i < len && !p.oom;) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - text) : len;
        line++;
        maps_line(&p, text + i, end - i, line);
        i = end + 1;
    }
    out->lines = line;
    if (p.open && !p.oom) {
        sim_problems_add(&out->problems, line, "snapshot of line %u has no '@@ end'", (unsigned)p.cur.line);
        close_snapshot(&p);
    }
    free(p.tmp);
    return p.oom ? -ENOMEM : 0;
}

static int maps_parse_any(const char *text, size_t len, void *out)
{
    return maps_parse(text, len, out);
}

int maps_parse_file(const char *path, maps_file *out, char *err, size_t errlen)
{
    return zread_parse_file(path, maps_parse_any, out, sizeof *out, err, errlen);
}

void maps_file_free(maps_file *m)
{
    free(m->snaps);
    sim_problems_free(&m->problems);
    sim_arena_free(&m->arena);
    memset(m, 0, sizeof *m);
}

size_t maps_count(const maps_file *m, maps_event ev)
{
    size_t c = 0;
    for (size_t i = 0; i < m->n; i++)
        c += m->snaps[i].event == ev;
    return c;
}
