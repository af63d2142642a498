/*
 * zread: the input plumbing shared by mmk-sim's trace parsers.
 *
 * The captures in traces/ (format: traces/README.md, "Real-workload memory
 * traces") are zstd-compressed text (`strace.txt.zst`, `maps.txt.zst`, ...)
 * or, after a manual `unzstd`, the same text uncompressed.  This header
 * gives the parsers three small tools:
 *
 *   1. zread_file(): a whole file into one malloc'd, NUL-terminated buffer,
 *      decompressing zstd frames when the file starts with the zstd magic
 *      (the name does not matter, so `foo.txt` and `foo.txt.zst` both work).
 *   2. sim_arena: a bump allocator for the many small strings a parse
 *      produces, freed all at once with the parse result.
 *   3. sim_problems: the list of {line number, reason} every parser fills
 *      for input it cannot understand; nothing is ever skipped silently.
 *
 * Plus sim_parse_ts_us(), the `seconds.micro` timestamp reader all the
 * formats share (strace -ttt, maps headers, faults.tsv).
 *
 * Errors are negative POSIX errno values (DESIGN.md conventions).
 */
#ifndef MMK_SIM_ZREAD_H
#define MMK_SIM_ZREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- whole-file reading ------------------------------------------------ */

/*
 * Read the file at `path` into a new malloc'd buffer, NUL-terminated (the NUL
 * is not counted in *len).  zstd data (one or more frames, detected by the
 * magic 28 b5 2f fd) is decompressed; anything else is returned as is.
 *
 * On success: returns 0, *data owns the buffer (free() it), *len its length.
 * On failure: returns a negative errno (-ENOENT, -EIO, -ENOMEM, -EINVAL for
 * corrupt or truncated zstd data), sets *data = NULL, *len = 0 and, when
 * err != NULL, writes a message naming the file into err[0..errlen).
 */
int zread_file(const char *path, char **data, size_t *len, char *err, size_t errlen);

/*
 * zread_file() then parse(text, len, out), the text freed afterwards; the
 * shared body of every *_parse_file().  out (out_size bytes) is zeroed
 * first so it is safe to free on every path.  0, zread_file()'s error, or
 * parse's (-ENOMEM) with "<path>: out of memory while parsing" in err.
 */
typedef int (*zread_parse_fn)(const char *text, size_t len, void *out);
int zread_parse_file(const char *path, zread_parse_fn parse, void *out, size_t out_size, char *err,
                     size_t errlen);

/*
 * Like zread_file() for a capture file given without its suffix: tries
 * `<dir>/<name>.zst` first, then `<dir>/<name>`.  The error message names
 * the `.zst` path when neither exists.
 */
int zread_capture(const char *dir, const char *name, char **data, size_t *len,
                  char *err, size_t errlen);

/* ---- string arena ------------------------------------------------------ */

/*
 * A chain of large blocks; allocations are never freed one by one and never
 * move, so pointers into the arena stay valid until sim_arena_free().
 * Zero-initialise (`sim_arena a = {0};`) before first use.
 */
struct sim_arena_block;
typedef struct sim_arena {
    struct sim_arena_block *head; /* newest block, allocation happens here */
    size_t total;                 /* bytes handed out, for statistics */
} sim_arena;

/* `size` bytes aligned for any type, or NULL when malloc fails. */
void *sim_arena_alloc(sim_arena *a, size_t size);
/* A NUL-terminated copy of s[0..len) (s may contain NULs), or NULL. */
char *sim_arena_strndup(sim_arena *a, const char *s, size_t len);
/* Frees every block; the arena is empty and reusable afterwards. */
void sim_arena_free(sim_arena *a);

/* ---- problem list ------------------------------------------------------ */

/* One line a parser could not understand (or a structural inconsistency). */
typedef struct sim_problem {
    uint32_t line;      /* 1-based line number in the parsed text */
    char reason[120];   /* short English explanation, NUL-terminated */
} sim_problem;

typedef struct sim_problems {
    sim_problem *v;     /* malloc'd array of n entries, file order */
    size_t n, cap;
    size_t dropped;     /* problems not stored because malloc failed */
} sim_problems;

/* Append a problem (printf-style reason, truncated to fit). */
void sim_problems_add(sim_problems *p, uint32_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void sim_problems_free(sim_problems *p);

/* ---- small shared lexers ----------------------------------------------- */

/*
 * Parse `SECONDS.FRACTION` (the fraction 1 to 9 digits; digits beyond the
 * sixth are dropped, fewer are padded) at s[0..len) into integer
 * microseconds.  Returns the number of characters consumed, 0 on a syntax
 * error or overflow.
 */
size_t sim_parse_ts_us(const char *s, size_t len, int64_t *us);

/*
 * Parse an unsigned number at s[0..len): `0x` hex, a leading-0 octal or
 * decimal (base 0 selects by prefix; 10 or 16 force a base, hex without
 * the `0x`).  Returns characters consumed (0 on no digits or overflow of
 * 64 bits).
 */
size_t sim_parse_u64(const char *s, size_t len, int base, uint64_t *out);

#endif /* MMK_SIM_ZREAD_H */
