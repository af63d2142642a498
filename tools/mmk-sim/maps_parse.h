/*
 * maps_parse: maps.txt layout snapshots, and /proc/PID/maps lines both ways.
 *
 * Format source: traces/README.md, "maps.txt: layout snapshots".  The file
 * is a sequence of
 *
 *   @@ exec tgid=24770 tid=24770 ts=1795313791.525907 exe=/usr/bin/cut
 *   55c5a1480000-55c5a1482000 r--p 00000000 fe:00 247229      /usr/bin/cut
 *   ...                                  (/proc/TGID/maps verbatim)
 *   @@ end
 *
 * with event `exec` (stopped at the return of a successful execve) or
 * `exit_group` (stopped on entry to exit_group).  A maps line is
 * `start-end perms offset major:minor inode [path]`; the path may be empty
 * (anonymous), contain spaces, or end in " (deleted)".
 *
 * The formatters print entries and headers back exactly: Linux pads the
 * line so a path starts at column 74 (fs/proc/task_mmu.c: the prefix ends
 * with a space, seq_pad to 72 characters, then one more space), and an
 * anonymous line keeps the trailing space after the inode.
 */
#ifndef MMK_SIM_MAPS_PARSE_H
#define MMK_SIM_MAPS_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zread.h"

typedef struct maps_entry {
    uint64_t start, end;     /* [start, end), bytes */
    char perms[5];           /* "r-xp" as printed, NUL-terminated */
    uint32_t prot;           /* SIM_PROT_READ|WRITE|EXEC from perms */
    bool shared;             /* 's' (MAP_SHARED) rather than 'p' */
    uint64_t offset;         /* file offset, bytes */
    uint32_t dev_major, dev_minor;
    uint64_t inode;
    const char *path;        /* verbatim, "" when anonymous: "[heap]",
                                "/dev/zero (deleted)", "/usr/bin/cut" */
    bool deleted;            /* path ends with " (deleted)" */
    uint32_t line;           /* 1-based line in maps.txt (0 if not from a file) */
} maps_entry;

typedef enum maps_event {
    MAPS_EXEC = 1,           /* "@@ exec": layout made by execve, before the image ran */
    MAPS_EXIT_GROUP,         /* "@@ exit_group": layout at exit_group entry */
} maps_event;

typedef struct maps_snapshot {
    maps_event event;
    int32_t tgid, tid;
    int64_t ts_us;           /* when the watcher read the file, microseconds */
    const char *ts_text;     /* the ts exactly as printed ("1795313791.525907") */
    const char *exe;         /* /proc/PID/exe */
    maps_entry *entries;     /* n entries in file (= address) order */
    size_t n;
    uint32_t line;           /* line of the "@@" header */
} maps_snapshot;

/* A parsed file; owns all its strings and arrays (arena).  Free with
 * maps_file_free(); zero-initialised is a valid empty file. */
typedef struct maps_file {
    maps_snapshot *snaps;
    size_t n, cap;
    size_t lines;            /* lines read */
    sim_problems problems;   /* lines not understood */
    sim_arena arena;
} maps_file;

/* Parse text[0..len).  0 (check problems.n) or -ENOMEM. */
int maps_parse(const char *text, size_t len, maps_file *out);
int maps_parse_file(const char *path, maps_file *out, char *err, size_t errlen);
void maps_file_free(maps_file *m);

/* Snapshots of one event kind (a convenience). */
size_t maps_count(const maps_file *m, maps_event ev);

/*
 * Parse one /proc/PID/maps line s[0..n) (no newline).  On success returns 0
 * and fills *e with e->path = NULL, the path's span in *path / *path_len
 * (pointing into s; length 0 when anonymous).  -EINVAL on a malformed line.
 */
int maps_parse_line(const char *s, size_t n, maps_entry *e, const char **path, size_t *path_len);

/*
 * Print e exactly as /proc/PID/maps does, without the newline; snprintf
 * semantics (returns the length needed, writes at most cap bytes with NUL).
 */
size_t maps_format_entry(const maps_entry *e, char *buf, size_t cap);

/* "@@ exec tgid=N tid=N ts=T exe=PATH", ts from ts_text when set, otherwise
 * seconds.microseconds with 6 digits; snprintf semantics. */
size_t maps_format_header(const maps_snapshot *s, char *buf, size_t cap);

#endif /* MMK_SIM_MAPS_PARSE_H */
