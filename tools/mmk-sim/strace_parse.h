/*
 * strace_parse: strace.txt (strace -f -ttt -y output) into an array of events.
 *
 * Format source: traces/README.md, "strace.txt: what a replayer must parse"
 * and "Pitfalls noticed while parsing".  Each line is `TID SECONDS.MICROS
 * REST` where REST is one of
 *
 *   NAME(ARGS) = RET [<path>][(deleted)] [(comment)]   a complete call
 *   NAME(ARGS) = -1 ENAME (message)                     a failed call
 *   NAME(ARGS) = ? [ENAME (message)]                    no return (exit, ERESTARTSYS)
 *   NAME(ARGS <unfinished ...>                          first half of a call
 *   <... NAME resumed>REST                              second half, same TID
 *   --- SIGNAME {si_signo=..., si_code=..., ...} ---    a signal delivered
 *   +++ exited with N +++ / +++ killed by SIGX +++      the task ended
 *
 * The parser joins each `<unfinished ...>` line with the next `<... NAME
 * resumed>` line of the same TID into one event placed where the resumed
 * line is (file order otherwise), keeping both line numbers and both
 * timestamps.  Arguments stay raw text, split at top-level commas
 * (respecting "strings", [..], {..}, (..), <..> fd annotations and
 * comments); the strace_arg_* helpers below decode them on demand.
 *
 * Anything the parser does not understand is recorded in the trace's
 * problem list with its line number; nothing is skipped silently.
 * Times are integer microseconds since the epoch (strace's -ttt clock).
 */
#ifndef MMK_SIM_STRACE_PARSE_H
#define MMK_SIM_STRACE_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "symbols.h"
#include "zread.h"

typedef enum strace_kind {
    STRACE_SYSCALL = 1, /* a system call (possibly joined from two lines) */
    STRACE_SIGNAL,      /* --- SIGX {...} --- : signal delivered to tid */
    STRACE_EXITED,      /* +++ exited with N +++ */
    STRACE_KILLED,      /* +++ killed by SIGX [(core dumped)] +++ */
    STRACE_SUPERSEDED,  /* +++ superseded by execve in pid N +++ (non-leader thread exec) */
} strace_kind;

typedef enum strace_ret_kind {
    STRACE_RET_VALUE = 1, /* the call returned `ret` */
    STRACE_RET_ERROR,     /* the call failed with `err` (-1 ENAME, or ? ENAME) */
    STRACE_RET_NONE,      /* `= ?`: never returned (exit, exit_group, a successful
                             execve in another thread), or `incomplete` */
} strace_ret_kind;

typedef struct strace_syscall {
    const char *name;         /* "mmap"; interned (equal names share storage) */
    int nr;                   /* x86-64 syscall number, -1 if the name is unknown */
    uint32_t nargs;
    const char *const *args;  /* nargs raw argument texts, trimmed, NUL-terminated */
    strace_ret_kind ret_kind;
    /* VALUE: the returned value; hex is read as unsigned 64-bit and stored
     * as its two's-complement int64 (cast to uint64_t for addresses).
     * ERROR: -1, or 0 when strace printed `?`.  NONE: 0. */
    int64_t ret;
    bool ret_unknown;         /* strace printed `?` (ERROR from ERESTARTSYS, or NONE) */
    int err;                  /* ERROR: Linux errno number (ENOENT = 2), else 0 */
    const char *err_name;     /* ERROR: "ENOENT" (static storage), else NULL */
    const char *ret_path;     /* `3</path>` after the value: "/path" unescaped, else NULL */
    bool ret_deleted;         /* `(deleted)` after that annotation (memfd, unlinked file) */
    bool delayed;             /* `(DELAYED)`: the capture's delay injection; no meaning */
    const char *ret_comment;  /* text inside the trailing ( ): errno message,
                                 "flags O_RDWR|O_LARGEFILE", "DELAYED"; else NULL */
    bool incomplete;          /* an <unfinished ...> half that was never resumed
                                 (also reported as a problem); ret_kind NONE */
} strace_syscall;

typedef struct strace_signal {
    const char *name;         /* "SIGSEGV" */
    int signo;                /* Linux number, -1 if the name is unknown */
    const char *si_code;      /* "SEGV_ACCERR" or a number as printed; NULL if absent */
    int si_code_value;        /* its value when known (see has_si_code_value) */
    bool has_si_code_value;
    /* si_addr and si_pid are macros in glibc's <signal.h>, so the fields are
     * `addr` and `pid`; the si_* spellings remain as aliases where the
     * macros are not defined. */
    union {
        uint64_t addr;        /* si_addr, valid when has_addr */
#ifndef si_addr
        uint64_t si_addr;
#endif
    };
    bool has_addr;
    union {
        int32_t pid;          /* si_pid, valid when has_pid (SIGCHLD, kill) */
#ifndef si_pid
        int32_t si_pid;
#endif
    };
    bool has_pid;
    const char *info;         /* everything after the name, e.g. "{si_signo=...}"; "" if none */
} strace_signal;

typedef struct strace_event {
    strace_kind kind;
    int32_t tid;              /* task (thread) id */
    uint32_t line;            /* 1-based line that completes the event (the resumed line) */
    uint32_t entry_line;      /* the <unfinished ...> line when joined, else == line */
    int64_t ts_us;            /* timestamp of `line` (completion), microseconds */
    int64_t entry_ts_us;      /* timestamp of `entry_line` (syscall entry) */
    bool joined;              /* built from an <unfinished ...> / resumed pair */
    union {
        strace_syscall sc;    /* STRACE_SYSCALL */
        strace_signal sig;    /* STRACE_SIGNAL */
        int exit_status;      /* STRACE_EXITED */
        struct {
            const char *name; /* "SIGPIPE" */
            int signo;        /* -1 if unknown */
            bool core_dumped;
        } killed;             /* STRACE_KILLED */
        int32_t new_pid;      /* STRACE_SUPERSEDED: the pid the exec moved to */
    };
} strace_event;

/*
 * A parsed file.  Owns every string it points to (in `arena`), so the text
 * given to strace_parse() may be freed afterwards.  Free with
 * strace_trace_free().  Zero-initialisation is a valid empty trace.
 */
typedef struct strace_trace {
    strace_event *ev;         /* n events, file order (joined ones at the resumed line) */
    size_t n, cap;
    size_t lines;             /* lines read */
    sim_problems problems;    /* lines not understood: {line, reason} */
    sim_arena arena;
    struct strace_intern *intern; /* private: syscall-name table */
} strace_trace;

/*
 * Parse text[0..len) into *out (which is overwritten, not freed).  Returns 0
 * when the text was read to the end (check out->problems.n for lines it
 * did not understand) or -ENOMEM; on -ENOMEM *out is still safe to free.
 */
int strace_parse(const char *text, size_t len, strace_trace *out);

/* zread_file() + strace_parse(); err as for zread_file(). */
int strace_parse_file(const char *path, strace_trace *out, char *err, size_t errlen);

void strace_trace_free(strace_trace *t);

/* Number of events with this syscall name (a convenience for tests and stats). */
size_t strace_count(const strace_trace *t, const char *name);

/* ---- argument helpers ----------------------------------------------------
 * All take one raw argument text (strace_syscall.args[i]) and ignore a
 * trailing `/ * comment * /`.  They return 0 or a negative errno: -EINVAL
 * for text of the wrong shape, -ERANGE for a number that does not fit,
 * -ENOSPC when a caller buffer is too small.
 */

/* An integer or pointer: "4096", "-1", "0x7f00...", "0600" (octal), "NULL"
 * (= 0), "8192*1024" (product).  Hex above INT64_MAX wraps (two's complement). */
int strace_arg_int(const char *arg, int64_t *out);
/* The same, as unsigned ("-1" gives UINT64_MAX). */
int strace_arg_u64(const char *arg, uint64_t *out);

/* A file descriptor with its -y annotation: "3</usr/lib/libc.so.6>",
 * "4</memfd:mmx-memfd>(deleted)", "3<pipe:[51246]>", "AT_FDCWD</tmp/x>"
 * (fd = SIM_AT_FDCWD), "-1", "255" (no annotation). */
typedef struct strace_fd {
    int64_t fd;
    bool has_path;            /* a <...> annotation was present */
    bool deleted;             /* `(deleted)` followed it */
    const char *path;         /* == the caller's pathbuf, unescaped, or NULL */
    size_t path_len;
} strace_fd;
int strace_arg_fd(const char *arg, strace_fd *out, char *pathbuf, size_t pathcap);

/* A symbolic flag set: names of table t joined by '|', numbers (hex, octal,
 * decimal) allowed among them ("IPC_CREAT|0600"), "PROT_NONE", "0".  An
 * unknown name is -EINVAL.  Also right for value sets (MADV_DONTNEED). */
int strace_arg_flags(const char *arg, const sim_symtab *t, uint64_t *out);

/* A quoted C-escaped string: "\"a\\\"b\"" -> a"b.  The result is written to
 * buf NUL-terminated; *len (optional) gets its length (it may contain NULs);
 * *truncated (optional) is set when strace appended `...`. */
int strace_arg_string(const char *arg, char *buf, size_t cap, size_t *len, bool *truncated);

/* Decode C escapes of s[0..n) (no quotes) into buf, NUL-terminated. */
int strace_unescape(const char *s, size_t n, char *buf, size_t cap, size_t *len);

/* The clone family: fork(), vfork(), clone(child_stack=..., flags=...|SIGCHLD,
 * ...) and clone3({flags=..., exit_signal=..., stack=..., stack_size=...,
 * tls=...}, size).  -EINVAL for another call or an unparsable argument. */
typedef struct strace_clone {
    uint64_t flags;           /* SIM_CLONE_* bits, without the exit signal */
    int exit_signal;          /* e.g. SIM_SIGCHLD; 0 = none */
    uint64_t stack;           /* child_stack / stack; 0 if NULL or absent */
    uint64_t stack_size;      /* clone3 only, else 0 */
    uint64_t tls;             /* 0 if absent */
    bool is_thread;           /* CLONE_THREAD: a thread of the caller's process */
    bool shares_vm;           /* CLONE_VM: same address space (threads, vfork) */
    bool is_vfork;            /* CLONE_VFORK: caller suspended until exec/exit */
} strace_clone;
int strace_clone_args(const strace_syscall *sc, strace_clone *out);

/* ---- structure helpers ------------------------------------------------- */

typedef struct strace_span {
    const char *p;
    size_t len;
} strace_span;

/*
 * Split s[0..len) at top-level commas into trimmed items.  When s starts
 * with '[' or '{' and ends with the matching bracket, the brackets are
 * removed first (so "[1, 0, 0]" gives three items and "{a=1, b=2}" two).
 * Stores up to cap items and returns the total count; SIZE_MAX when the
 * brackets or quotes do not balance.  "" and "[]" give 0 items.
 */
size_t strace_split(const char *s, size_t len, strace_span *items, size_t cap);

/*
 * Find `key=value` at the top level of a struct text ("{st_mode=S_IFREG|0644,
 * st_size=45531, ...}") or of a bare `key=value` argument.  Returns 0 and the
 * value span, or -ENOENT.
 */
int strace_field(const char *s, const char *key, strace_span *val);

#endif /* MMK_SIM_STRACE_PARSE_H */
