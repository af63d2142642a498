/*
 * lackey_parse: the valgrind page-reference captures (traces/lackey_*).
 *
 * Format source: traces/README.md, "lackey_*: page-reference strings".
 *
 * pages.txt is 10-20 MB of
 *
 *   I 401a000                       instruction fetch of a page (hex base)
 *   W 1fff000000                    store (R load, M modify)
 *   SYSCALL[25143,1](9) sys_mmap ( 0x0, 8192, 3, 34, 4294967295, 0 ) --> [pre-success] Success(0x4835000)
 *   SYSCALL[25143,1](257) sys_openat ( 4294967196, 0x4034bb0(/usr/...so), 524288 ) --> [async] ...
 *   SYSCALL[25143,1](257) ... [async] --> Success(0x4)
 *   SYSCALL[25143,1](334) unimplemented (by the kernel) syscall: 334! (ni_syscall)
 *   # raw accesses: I=8252065 R=1897105 W=1086150 M=15366; records=1826886
 *
 * so it is read with an iterator over the caller's buffer, one record at a
 * time, never into an array.  A blocking call's two lines become one
 * SYSCALL record at the completion line (the access records printed
 * between them come first, in file order).
 *
 * debug.log (valgrind -d) holds the address-space manager's segment tables
 * "Memory layout at client startup" and "... at client shutdown":
 *
 *   --25143:1: aspacem <<< SHOW_SEGMENTS: Memory layout at client startup (34 segments)
 *   --25143:1: aspacem (1,49,7) /usr/bin/sort                      (name table)
 *   --25143:1: aspacem   1: file 0000108000-000010afff   12288 r---- d=0xfe00 i=248060  o=0       (1,49)
 *   --25143:1: aspacem   5: RSVN 0000125000-0003ffffff     62m ----- SmFixed
 *   --25143:1: aspacem  12:      0004835000-0057ffffff   1335m      (free)
 *   --25143:1: aspacem >>>
 *
 * Lower-case kinds (anon, file, shm) are the client's mappings; upper-case
 * (ANON, FILE) valgrind's own; RSVN reservations (SmLower/SmUpper/SmFixed).
 */
#ifndef MMK_SIM_LACKEY_PARSE_H
#define MMK_SIM_LACKEY_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zread.h"

/* ---- pages.txt ----------------------------------------------------------- */

enum { LACKEY_MAX_ARGS = 8 };

typedef enum lackey_kind {
    LACKEY_ACCESS = 1,       /* I/R/W/M page reference */
    LACKEY_SYSCALL,          /* a SYSCALL[...] record (async halves joined) */
} lackey_kind;

typedef enum lackey_result {
    LACKEY_SUCCESS = 1,      /* Success(value) */
    LACKEY_FAILURE,          /* Failure(errno), value = Linux errno number */
} lackey_result;

typedef struct lackey_syscall {
    int32_t pid;             /* the client's process id */
    int32_t tid;             /* valgrind's thread number (1 = main thread) */
    int nr;                  /* x86-64 syscall number as printed */
    const char *name;        /* "sys_mmap", "exit_group", "ni_syscall" */
    uint32_t nargs;          /* numeric arguments (at most LACKEY_MAX_ARGS) */
    uint64_t args[LACKEY_MAX_ARGS]; /* decimal, 0x-hex; arch_prctl's address is bare hex */
    const char *arg_str[LACKEY_MAX_ARGS]; /* "(text)" after an argument, e.g. a path; NULL if none */
    lackey_result result;
    uint64_t value;          /* SUCCESS: return value; FAILURE: errno */
    const char *phase;       /* "pre-success", "pre-fail", "sync", "async", "unimplemented" */
    bool async;              /* joined from an "--> [async] ..." line and its completion */
    bool unimplemented;      /* valgrind does not implement it: FAILURE with ENOSYS */
    uint32_t entry_line;     /* the first line of an async call, else == record line */
} lackey_syscall;

/* One record.  Strings point into the iterator and stay valid until the
 * next lackey_next() or lackey_iter_free(). */
typedef struct lackey_record {
    lackey_kind kind;
    uint32_t line;           /* 1-based line in pages.txt (completion line for async) */
    char access;             /* ACCESS: 'I', 'R', 'W' or 'M' */
    uint64_t page;           /* ACCESS: page base address */
    lackey_syscall sc;       /* SYSCALL */
} lackey_record;

/* The reducer's closing comment "# raw accesses: I=.. R=.. W=.. M=..; records=N". */
typedef struct lackey_summary {
    bool present;
    uint64_t raw_i, raw_r, raw_w, raw_m; /* valgrind's accesses before reduction */
    uint64_t records;        /* access lines written */
} lackey_summary;

struct lackey_pending;

/*
 * Iterator over pages.txt text (which must outlive it).  Counters and the
 * problem list grow as records are read; `summary` is filled when the
 * closing comment has been read.
 */
typedef struct lackey_iter {
    const char *text;
    size_t len, pos;
    uint32_t line;           /* lines read so far */
    uint64_t naccess;        /* ACCESS records returned */
    uint64_t nsyscall;       /* SYSCALL records returned */
    uint64_t nsyscall_lines; /* SYSCALL[...] lines read (two per async call) */
    lackey_summary summary;
    sim_problems problems;   /* lines not understood (left out) */
    /* private */
    struct lackey_pending *pend;
    size_t npend, cappend;
    char *scratch;           /* storage for the current record's strings */
    size_t scratchcap;
} lackey_iter;

void lackey_iter_init(lackey_iter *it, const char *text, size_t len);
/* 1 and *rec filled, 0 at the end, -ENOMEM. At the end, async calls never
 * completed are reported as problems. */
int lackey_next(lackey_iter *it, lackey_record *rec);
void lackey_iter_free(lackey_iter *it);

/*
 * Calls cb for every record until it returns non-zero (which is then
 * returned) or the text ends (0).  `it` receives the counters, summary and
 * problems; the caller frees it with lackey_iter_free().
 */
int lackey_foreach(const char *text, size_t len, int (*cb)(const lackey_record *rec, void *ctx),
                   void *ctx, lackey_iter *it);

/* ---- debug.log segment tables ---------------------------------------------- */

typedef enum vg_seg_kind {
    VG_SEG_FREE = 1,         /* blank kind: unallocated */
    VG_SEG_ANON_CLIENT,      /* "anon" */
    VG_SEG_ANON_VALGRIND,    /* "ANON" */
    VG_SEG_FILE_CLIENT,      /* "file" */
    VG_SEG_FILE_VALGRIND,    /* "FILE" */
    VG_SEG_SHM_CLIENT,       /* "shm" */
    VG_SEG_RESERVATION,      /* "RSVN" */
} vg_seg_kind;

typedef struct vg_segment {
    uint32_t index;          /* the row number valgrind printed */
    vg_seg_kind kind;
    const char *kind_text;   /* "file", "RSVN", "" for free (static storage) */
    bool client;             /* anon/file/shm: the program's own mapping */
    uint64_t start, last;    /* inclusive range [start, last], as printed */
    char perms[6];           /* "r-xT-" (r, w, x, T = has translations, H), "" if free */
    uint32_t prot;           /* SIM_PROT_* from perms */
    bool has_file;           /* d= i= o= present */
    uint64_t dev, inode, offset;
    const char *path;        /* from the name table, or NULL */
    const char *rsvn;        /* RSVN: "SmFixed", "SmLower", "SmUpper"; else NULL */
    uint32_t line;           /* line in debug.log */
} vg_segment;

typedef struct vg_layout {
    const char *title;       /* "client startup", "client shutdown" */
    int32_t pid;             /* from the "--PID:TID:" prefix */
    size_t declared;         /* "(34 segments)" */
    vg_segment *segs;
    size_t n;
    uint32_t line;           /* line of the "<<< SHOW_SEGMENTS" header */
} vg_layout;

typedef struct vg_debuglog {
    vg_layout *v;
    size_t n, cap;
    size_t lines;
    sim_problems problems;   /* lines inside a table not understood */
    sim_arena arena;
} vg_debuglog;

/* Parse every SHOW_SEGMENTS table of debug.log text; other lines are not
 * looked at.  0 (check problems.n) or -ENOMEM. */
int vg_debuglog_parse(const char *text, size_t len, vg_debuglog *out);
int vg_debuglog_parse_file(const char *path, vg_debuglog *out, char *err, size_t errlen);
/* The first layout with this title ("client startup"), or NULL. */
const vg_layout *vg_debuglog_find(const vg_debuglog *d, const char *title);
void vg_debuglog_free(vg_debuglog *d);

#endif /* MMK_SIM_LACKEY_PARSE_H */
