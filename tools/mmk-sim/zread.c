/*
 * zread.c: whole-file reading with zstd decompression, the string arena,
 * the problem list and the shared number lexers (see zread.h).
 *
 * Source of the formats: traces/README.md ("Decompress with zstd -dc").
 * Compressed files are detected by the zstd frame magic, not the suffix,
 * and decompressed with the streaming API so that frames without a
 * recorded content size (e.g. `zstd` reading from a pipe) work too.
 */
#include "zread.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

/* ---- raw file reading --------------------------------------------------- */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Reads the whole file into a malloc'd buffer with one spare byte. */
static int read_raw(const char *path, char **data, size_t *len, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        set_err(err, errlen, "%s: %s", path, strerror(e));
        return -e;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int e = S_ISDIR(st.st_mode) ? EISDIR : (errno ? errno : EINVAL);
        set_err(err, errlen, "%s: %s", path, strerror(e));
        close(fd);
        return -e;
    }
    size_t cap = (size_t)st.st_size + 1;
    char *buf = malloc(cap);
    if (!buf) {
        set_err(err, errlen, "%s: out of memory reading %zu bytes", path, cap);
        close(fd);
        return -ENOMEM;
    }
    size_t got = 0;
    for (;;) {
        if (got + 1 == cap) { /* the file grew while we read: make room */
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                close(fd);
                set_err(err, errlen, "%s: out of memory", path);
                return -ENOMEM;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + got, cap - 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            set_err(err, errlen, "%s: read: %s", path, strerror(e));
            free(buf);
            close(fd);
            return -e;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    buf[got] = '\0';
    *data = buf;
    *len = got;
    return 0;
}

/* ---- zstd ----------------------------------------------------------------- */

static bool is_zstd(const char *p, size_t n)
{
    static const unsigned char magic[4] = {0x28, 0xb5, 0x2f, 0xfd};
    return n >= 4 && memcmp(p, magic, 4) == 0;
}

/* First guess of the output size: the frame header's, or 8x the input. */
static size_t initial_capacity(const char *src, size_t n)
{
    unsigned long long fcs = ZSTD_getFrameContentSize(src, n);
    const size_t limit = (size_t)1 << 30; /* a hint only: never trust it blindly */
    if (fcs != ZSTD_CONTENTSIZE_UNKNOWN && fcs != ZSTD_CONTENTSIZE_ERROR && fcs < limit)
        return (size_t)fcs + 1;
    return n < limit / 8 ? n * 8 + 64 : limit;
}

static int grow(char **buf, size_t *cap)
{
    if (*cap > SIZE_MAX / 2)
        return -ENOMEM;
    char *nb = realloc(*buf, *cap * 2);
    if (!nb)
        return -ENOMEM;
    *buf = nb;
    *cap *= 2;
    return 0;
}

static int zstd_inflate(const char *path, const char *src, size_t n, char **data, size_t *len,
                        char *err, size_t errlen)
{
    ZSTD_DStream *ds = ZSTD_createDStream();
    size_t cap = initial_capacity(src, n);
    char *out = malloc(cap);
    if (!ds || !out) {
        ZSTD_freeDStream(ds);
        free(out);
        set_err(err, errlen, "%s: out of memory", path);
        return -ENOMEM;
    }
    ZSTD_inBuffer in = {src, n, 0};
    size_t used = 0;
    int rc = 0;
    for (;;) {
        if (cap - used < 2 && grow(&out, &cap) != 0) {
            set_err(err, errlen, "%s: out of memory decompressing", path);
            rc = -ENOMEM;
            break;
        }
        ZSTD_outBuffer ob = {out + used, cap - used - 1, 0};
        size_t left = ZSTD_decompressStream(ds, &ob, &in);
        if (ZSTD_isError(left)) {
            set_err(err, errlen, "%s: corrupt zstd data: %s", path, ZSTD_getErrorName(left));
            rc = -EINVAL;
            break;
        }
        used += ob.pos;
        if (left == 0 && in.pos == in.size)
            break; /* the last frame is complete and flushed */
        /* All input consumed and room left over, yet the decoder wants
         * more: a frame was cut short. */
        if (in.pos == in.size && ob.pos < ob.size) {
            set_err(err, errlen, "%s: truncated zstd data", path);
            rc = -EINVAL;
            break;
        }
    }
    ZSTD_freeDStream(ds);
    if (rc != 0) {
        free(out);
        return rc;
    }
    out[used] = '\0';
    *data = out;
    *len = used;
    return 0;
}

int zread_file(const char *path, char **data, size_t *len, char *err, size_t errlen)
{
    *data = NULL;
    *len = 0;
    if (err && errlen)
        err[0] = '\0';
    char *raw = NULL;
    size_t n = 0;
    int rc = read_raw(path, &raw, &n, err, errlen);
    if (rc != 0)
        return rc;
    if (!is_zstd(raw, n)) {
        *data = raw;
        *len = n;
        return 0;
    }
    rc = zstd_inflate(path, raw, n, data, len, err, errlen);
    free(raw);
    return rc;
}

int zread_capture(const char *dir, const char *name, char **data, size_t *len, char *err,
                  size_t errlen)
{
    char zpath[PATH_MAX], plain[PATH_MAX];
    int a = snprintf(zpath, sizeof zpath, "%s/%s.zst", dir, name);
    int b = snprintf(plain, sizeof plain, "%s/%s", dir, name);
    *data = NULL;
    *len = 0;
    if (a < 0 || b < 0 || (size_t)a >= sizeof zpath || (size_t)b >= sizeof plain) {
        set_err(err, errlen, "%s/%s: path too long", dir, name);
        return -ENAMETOOLONG;
    }
    if (access(zpath, F_OK) == 0 || access(plain, F_OK) != 0)
        return zread_file(zpath, data, len, err, errlen);
    return zread_file(plain, data, len, err, errlen);
}

/* ---- arena ------------------------------------------------------------------ */

struct sim_arena_block {
    struct sim_arena_block *next;
    size_t used, cap;
    max_align_t data[];
};

enum { ARENA_BLOCK = 1 << 20 };

void *sim_arena_alloc(sim_arena *a, size_t size)
{
    const size_t align = _Alignof(max_align_t);
    size_t need = (size + align - 1) / align * align;
    if (need < size)
        return NULL;
    struct sim_arena_block *b = a->head;
    if (!b || b->cap - b->used < need) {
        /* Oversized requests get their own block behind the current one, so
         * the current block's free tail is not wasted. */
        size_t cap = need > ARENA_BLOCK / 4 ? need : ARENA_BLOCK;
        struct sim_arena_block *nb = malloc(sizeof *nb + cap);
        if (!nb)
            return NULL;
        nb->used = 0;
        nb->cap = cap;
        if (b && cap != ARENA_BLOCK) {
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            a->head = nb;
        }
        b = nb;
    }
    void *p = (char *)b->data + b->used;
    b->used += need;
    a->total += need;
    return p;
}

char *sim_arena_strndup(sim_arena *a, const char *s, size_t len)
{
    if (len == SIZE_MAX)
        return NULL;
    char *p = sim_arena_alloc(a, len + 1);
    if (!p)
        return NULL;
    if (len)
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

void sim_arena_free(sim_arena *a)
{
    struct sim_arena_block *b = a->head;
    while (b) {
        struct sim_arena_block *n = b->next;
        free(b);
        b = n;
    }
    a->head = NULL;
    a->total = 0;
}

/* ---- problems --------------------------------------------------------------- */

void sim_problems_add(sim_problems *p, uint32_t line, const char *fmt, ...)
{
    if (p->n == p->cap) {
        size_t ncap = p->cap ? p->cap * 2 : 16;
        sim_problem *nv = realloc(p->v, ncap * sizeof *nv);
        if (!nv) {
            p->dropped++;
            return;
        }
        p->v = nv;
        p->cap = ncap;
    }
    sim_problem *pr = &p->v[p->n++];
    pr->line = line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pr->reason, sizeof pr->reason, fmt, ap);
    va_end(ap);
}

void sim_problems_free(sim_problems *p)
{
    free(p->v);
    p->v = NULL;
    p->n = p->cap = p->dropped = 0;
}

/* ---- lexers ----------------------------------------------------------------- */

static int digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return 99;
}

size_t sim_parse_u64(const char *s, size_t len, int base, uint64_t *out)
{
    size_t i = 0;
    if (base == 0) {
        if (len >= 3 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && digit_value(s[2]) < 16) {
            base = 16;
            i = 2;
        } else if (len >= 2 && s[0] == '0' && digit_value(s[1]) < 8) {
            base = 8;
            i = 1;
        } else {
            base = 10;
        }
    } else if (base == 16 && len >= 3 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') &&
               digit_value(s[2]) < 16) {
        i = 2;
    }
    size_t start = i;
    uint64_t v = 0;
    for (; i < len; i++) {
        int d = digit_value(s[i]);
        if (d >= base)
            break;
        if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
            return 0; /* overflow */
        v = v * (uint64_t)base + (uint64_t)d;
    }
    if (i == start)
        return 0;
    *out = v;
    return i;
}

size_t sim_parse_ts_us(const char *s, size_t len, int64_t *us)
{
    uint64_t sec = 0;
    size_t i = sim_parse_u64(s, len, 10, &sec);
    if (i == 0 || i >= len || s[i] != '.' || sec > (uint64_t)INT64_MAX / 1000000u - 1)
        return 0;
    i++;
    uint64_t frac = 0;
    size_t nd = 0;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, nd++)
        if (nd < 6)
            frac = frac * 10 + (uint64_t)(s[i] - '0');
    if (nd == 0 || nd > 9)
        return 0;
    for (size_t k = nd; k < 6; k++)
        frac *= 10;
    *us = (int64_t)(sec * 1000000u + frac);
    return i;
}

int zread_parse_file(const char *path, zread_parse_fn parse, void *out, size_t out_size, char *err,
                     size_t errlen)
{
    char *text = NULL;
    size_t len = 0;
    memset(out, 0, out_size);
    int rc = zread_file(path, &text, &len, err, errlen);
    if (rc)
        return rc;
    rc = parse(text, len, out);
    free(text);
    if (rc && err && errlen)
        snprintf(err, errlen, "%s: out of memory while parsing", path);
    return rc;
}
