/*
 * symbols: Linux x86-64 names and values for what strace and valgrind print.
 *
 * strace prints protections, flags, commands, signals and errno values by
 * name (traces/README.md, "strace.txt: what a replayer must parse":
 * `PROT_READ|PROT_WRITE`, `MAP_PRIVATE|MAP_ANONYMOUS`, `= -1 ENOENT (...)`).
 * The values here are Linux's own (include/uapi/asm-generic/mman-common.h,
 * mman.h, errno-base.h, errno.h, linux/sched.h, asm/signal.h, fcntl.h,
 * ipc.h, shm.h and the kernel-internal linux/errno.h), written out as
 * SIM_* constants so they do not depend on the host's headers: mmk-sim
 * replays Linux semantics on any host.
 *
 * A table (sim_symtab) is a list of {name, value}.  Bit-flag tables are
 * OR-ed by the flag parser in strace_parse.h; "value" tables (commands,
 * advice, signals) name one value each.  Aliases (MAP_ANON, EWOULDBLOCK)
 * come after the canonical name so reverse lookups give the canonical one.
 */
#ifndef MMK_SIM_SYMBOLS_H
#define MMK_SIM_SYMBOLS_H

#include <stddef.h>
#include <stdint.h>

/* ---- mmap/mprotect protections (PROT_*) ------------------------------- */
#define SIM_PROT_NONE 0x0
#define SIM_PROT_READ 0x1
#define SIM_PROT_WRITE 0x2
#define SIM_PROT_EXEC 0x4
#define SIM_PROT_SEM 0x8
#define SIM_PROT_GROWSDOWN 0x01000000
#define SIM_PROT_GROWSUP 0x02000000

/* ---- mmap flags (MAP_*) -------------------------------------------------- */
#define SIM_MAP_FILE 0x0
#define SIM_MAP_SHARED 0x1
#define SIM_MAP_PRIVATE 0x2
#define SIM_MAP_SHARED_VALIDATE 0x3
#define SIM_MAP_TYPE 0xf /* mask of the three above */
#define SIM_MAP_FIXED 0x10
#define SIM_MAP_ANONYMOUS 0x20
#define SIM_MAP_32BIT 0x40
#define SIM_MAP_GROWSDOWN 0x100
#define SIM_MAP_DENYWRITE 0x800
#define SIM_MAP_EXECUTABLE 0x1000
#define SIM_MAP_LOCKED 0x2000
#define SIM_MAP_NORESERVE 0x4000
#define SIM_MAP_POPULATE 0x8000
#define SIM_MAP_NONBLOCK 0x10000
#define SIM_MAP_STACK 0x20000
#define SIM_MAP_HUGETLB 0x40000
#define SIM_MAP_SYNC 0x80000
#define SIM_MAP_FIXED_NOREPLACE 0x100000
#define SIM_MAP_UNINITIALIZED 0x4000000
#define SIM_MAP_HUGE_SHIFT 26

/* ---- mremap flags -------------------------------------------------------- */
#define SIM_MREMAP_MAYMOVE 0x1
#define SIM_MREMAP_FIXED 0x2
#define SIM_MREMAP_DONTUNMAP 0x4

/* ---- madvise advice (values, not bits) ----------------------------------- */
#define SIM_MADV_NORMAL 0
#define SIM_MADV_RANDOM 1
#define SIM_MADV_SEQUENTIAL 2
#define SIM_MADV_WILLNEED 3
#define SIM_MADV_DONTNEED 4
#define SIM_MADV_FREE 8
#define SIM_MADV_REMOVE 9
#define SIM_MADV_DONTFORK 10
#define SIM_MADV_DOFORK 11
#define SIM_MADV_MERGEABLE 12
#define SIM_MADV_UNMERGEABLE 13
#define SIM_MADV_HUGEPAGE 14
#define SIM_MADV_NOHUGEPAGE 15
#define SIM_MADV_DONTDUMP 16
#define SIM_MADV_DODUMP 17
#define SIM_MADV_WIPEONFORK 18
#define SIM_MADV_KEEPONFORK 19
#define SIM_MADV_COLD 20
#define SIM_MADV_PAGEOUT 21
#define SIM_MADV_POPULATE_READ 22
#define SIM_MADV_POPULATE_WRITE 23
#define SIM_MADV_DONTNEED_LOCKED 24
#define SIM_MADV_COLLAPSE 25
#define SIM_MADV_HWPOISON 100
#define SIM_MADV_SOFT_OFFLINE 101
#define SIM_MADV_GUARD_INSTALL 102
#define SIM_MADV_GUARD_REMOVE 103

/* ---- msync, mlockall, mlock2 ---------------------------------------------- */
#define SIM_MS_ASYNC 0x1
#define SIM_MS_INVALIDATE 0x2
#define SIM_MS_SYNC 0x4
#define SIM_MCL_CURRENT 0x1
#define SIM_MCL_FUTURE 0x2
#define SIM_MCL_ONFAULT 0x4
#define SIM_MLOCK_ONFAULT 0x1

/* ---- clone / clone3 flags (low byte of clone's flags = exit signal) ----- */
#define SIM_CSIGNAL 0xffull
#define SIM_CLONE_NEWTIME 0x80ull
#define SIM_CLONE_VM 0x100ull
#define SIM_CLONE_FS 0x200ull
#define SIM_CLONE_FILES 0x400ull
#define SIM_CLONE_SIGHAND 0x800ull
#define SIM_CLONE_PIDFD 0x1000ull
#define SIM_CLONE_PTRACE 0x2000ull
#define SIM_CLONE_VFORK 0x4000ull
#define SIM_CLONE_PARENT 0x8000ull
#define SIM_CLONE_THREAD 0x10000ull
#define SIM_CLONE_NEWNS 0x20000ull
#define SIM_CLONE_SYSVSEM 0x40000ull
#define SIM_CLONE_SETTLS 0x80000ull
#define SIM_CLONE_PARENT_SETTID 0x100000ull
#define SIM_CLONE_CHILD_CLEARTID 0x200000ull
#define SIM_CLONE_DETACHED 0x400000ull
#define SIM_CLONE_UNTRACED 0x800000ull
#define SIM_CLONE_CHILD_SETTID 0x1000000ull
#define SIM_CLONE_NEWCGROUP 0x2000000ull
#define SIM_CLONE_NEWUTS 0x4000000ull
#define SIM_CLONE_NEWIPC 0x8000000ull
#define SIM_CLONE_NEWUSER 0x10000000ull
#define SIM_CLONE_NEWPID 0x20000000ull
#define SIM_CLONE_NEWNET 0x40000000ull
#define SIM_CLONE_IO 0x80000000ull
#define SIM_CLONE_CLEAR_SIGHAND 0x100000000ull
#define SIM_CLONE_INTO_CGROUP 0x200000000ull

/* ---- open(2) flags as strace prints them (x86-64 octal values in hex) --- */
#define SIM_O_ACCMODE 0x3
#define SIM_O_RDONLY 0x0
#define SIM_O_WRONLY 0x1
#define SIM_O_RDWR 0x2
#define SIM_O_CREAT 0x40
#define SIM_O_EXCL 0x80
#define SIM_O_NOCTTY 0x100
#define SIM_O_TRUNC 0x200
#define SIM_O_APPEND 0x400
#define SIM_O_NONBLOCK 0x800
#define SIM_O_DSYNC 0x1000
#define SIM_O_ASYNC 0x2000 /* FASYNC */
#define SIM_O_DIRECT 0x4000
#define SIM_O_LARGEFILE 0x8000
#define SIM_O_DIRECTORY 0x10000
#define SIM_O_NOFOLLOW 0x20000
#define SIM_O_NOATIME 0x40000
#define SIM_O_CLOEXEC 0x80000
#define SIM_O_SYNC 0x101000 /* __O_SYNC | O_DSYNC */
#define SIM_O_PATH 0x200000
#define SIM_O_TMPFILE 0x410000 /* __O_TMPFILE | O_DIRECTORY */

/* ---- memfd_create --------------------------------------------------------- */
#define SIM_MFD_CLOEXEC 0x1
#define SIM_MFD_ALLOW_SEALING 0x2
#define SIM_MFD_HUGETLB 0x4
#define SIM_MFD_NOEXEC_SEAL 0x8
#define SIM_MFD_EXEC 0x10

/* ---- SysV IPC / shared memory --------------------------------------------- */
#define SIM_IPC_PRIVATE 0
#define SIM_IPC_CREAT 0x200  /* 01000 */
#define SIM_IPC_EXCL 0x400   /* 02000 */
#define SIM_IPC_NOWAIT 0x800 /* 04000 */
#define SIM_IPC_RMID 0
#define SIM_IPC_SET 1
#define SIM_IPC_STAT 2
#define SIM_IPC_INFO 3
#define SIM_SHM_LOCK 11
#define SIM_SHM_UNLOCK 12
#define SIM_SHM_STAT 13
#define SIM_SHM_INFO 14
#define SIM_SHM_STAT_ANY 15
#define SIM_SHM_HUGETLB 0x800   /* shmget: 04000 */
#define SIM_SHM_NORESERVE 0x1000 /* shmget: 010000 */
#define SIM_SHM_RDONLY 0x1000   /* shmat: 010000 */
#define SIM_SHM_RND 0x2000      /* shmat: 020000 */
#define SIM_SHM_REMAP 0x4000    /* shmat: 040000 */
#define SIM_SHM_EXEC 0x8000     /* shmat: 0100000 */

/* ---- fcntl, *at(), fd-creating calls -------------------------------------- */
#define SIM_F_DUPFD 0
#define SIM_F_GETFD 1
#define SIM_F_SETFD 2
#define SIM_F_GETFL 3
#define SIM_F_SETFL 4
#define SIM_F_GETLK 5
#define SIM_F_SETLK 6
#define SIM_F_SETLKW 7
#define SIM_F_SETOWN 8
#define SIM_F_GETOWN 9
#define SIM_F_SETSIG 10
#define SIM_F_GETSIG 11
#define SIM_F_SETOWN_EX 15
#define SIM_F_GETOWN_EX 16
#define SIM_F_OFD_GETLK 36
#define SIM_F_OFD_SETLK 37
#define SIM_F_OFD_SETLKW 38
#define SIM_F_SETLEASE 1024
#define SIM_F_GETLEASE 1025
#define SIM_F_NOTIFY 1026
#define SIM_F_DUPFD_QUERY 1027
#define SIM_F_DUPFD_CLOEXEC 1030
#define SIM_F_SETPIPE_SZ 1031
#define SIM_F_GETPIPE_SZ 1032
#define SIM_F_ADD_SEALS 1033
#define SIM_F_GET_SEALS 1034
#define SIM_FD_CLOEXEC 1
#define SIM_AT_FDCWD (-100)
#define SIM_AT_SYMLINK_NOFOLLOW 0x100
#define SIM_AT_REMOVEDIR 0x200
#define SIM_AT_SYMLINK_FOLLOW 0x400
#define SIM_AT_NO_AUTOMOUNT 0x800
#define SIM_AT_EMPTY_PATH 0x1000
#define SIM_AT_STATX_SYNC_AS_STAT 0x0
#define SIM_AT_STATX_FORCE_SYNC 0x2000
#define SIM_AT_STATX_DONT_SYNC 0x4000
#define SIM_AT_RECURSIVE 0x8000
#define SIM_EFD_SEMAPHORE 0x1
#define SIM_EFD_NONBLOCK 0x800
#define SIM_EFD_CLOEXEC 0x80000
#define SIM_EPOLL_CLOEXEC 0x80000
#define SIM_SOCK_STREAM 1
#define SIM_SOCK_DGRAM 2
#define SIM_SOCK_RAW 3
#define SIM_SOCK_RDM 4
#define SIM_SOCK_SEQPACKET 5
#define SIM_SOCK_DCCP 6
#define SIM_SOCK_PACKET 10
#define SIM_SOCK_NONBLOCK 0x800
#define SIM_SOCK_CLOEXEC 0x80000

/* ---- wait4 options ---------------------------------------------------------- */
#define SIM_WNOHANG 0x1
#define SIM_WUNTRACED 0x2
#define SIM_WEXITED 0x4
#define SIM_WCONTINUED 0x8
#define SIM_WNOWAIT 0x1000000
#define SIM___WNOTHREAD 0x20000000
#define SIM___WALL 0x40000000
#define SIM___WCLONE 0x80000000

/* ---- signals (x86-64 numbering) -------------------------------------------- */
#define SIM_SIGHUP 1
#define SIM_SIGINT 2
#define SIM_SIGQUIT 3
#define SIM_SIGILL 4
#define SIM_SIGTRAP 5
#define SIM_SIGABRT 6
#define SIM_SIGBUS 7
#define SIM_SIGFPE 8
#define SIM_SIGKILL 9
#define SIM_SIGUSR1 10
#define SIM_SIGSEGV 11
#define SIM_SIGUSR2 12
#define SIM_SIGPIPE 13
#define SIM_SIGALRM 14
#define SIM_SIGTERM 15
#define SIM_SIGSTKFLT 16
#define SIM_SIGCHLD 17
#define SIM_SIGCONT 18
#define SIM_SIGSTOP 19
#define SIM_SIGTSTP 20
#define SIM_SIGTTIN 21
#define SIM_SIGTTOU 22
#define SIM_SIGURG 23
#define SIM_SIGXCPU 24
#define SIM_SIGXFSZ 25
#define SIM_SIGVTALRM 26
#define SIM_SIGPROF 27
#define SIM_SIGWINCH 28
#define SIM_SIGIO 29
#define SIM_SIGPWR 30
#define SIM_SIGSYS 31
#define SIM_SIGRTMIN 32 /* strace: SIGRTMIN, then SIGRT_1 .. SIGRT_32 */

/* ---- errno (asm-generic errno-base.h, errno.h, kernel linux/errno.h) -------- */
#define SIM_EPERM 1
#define SIM_ENOENT 2
#define SIM_ESRCH 3
#define SIM_EINTR 4
#define SIM_EIO 5
#define SIM_ENXIO 6
#define SIM_E2BIG 7
#define SIM_ENOEXEC 8
#define SIM_EBADF 9
#define SIM_ECHILD 10
#define SIM_EAGAIN 11
#define SIM_ENOMEM 12
#define SIM_EACCES 13
#define SIM_EFAULT 14
#define SIM_ENOTBLK 15
#define SIM_EBUSY 16
#define SIM_EEXIST 17
#define SIM_EXDEV 18
#define SIM_ENODEV 19
#define SIM_ENOTDIR 20
#define SIM_EISDIR 21
#define SIM_EINVAL 22
#define SIM_ENFILE 23
#define SIM_EMFILE 24
#define SIM_ENOTTY 25
#define SIM_ETXTBSY 26
#define SIM_EFBIG 27
#define SIM_ENOSPC 28
#define SIM_ESPIPE 29
#define SIM_EROFS 30
#define SIM_EMLINK 31
#define SIM_EPIPE 32
#define SIM_EDOM 33
#define SIM_ERANGE 34
#define SIM_EDEADLK 35
#define SIM_ENAMETOOLONG 36
#define SIM_ENOLCK 37
#define SIM_ENOSYS 38
#define SIM_ENOTEMPTY 39
#define SIM_ELOOP 40
#define SIM_ENOMSG 42
#define SIM_EIDRM 43
#define SIM_ECHRNG 44
#define SIM_EL2NSYNC 45
#define SIM_EL3HLT 46
#define SIM_EL3RST 47
#define SIM_ELNRNG 48
#define SIM_EUNATCH 49
#define SIM_ENOCSI 50
#define SIM_EL2HLT 51
#define SIM_EBADE 52
#define SIM_EBADR 53
#define SIM_EXFULL 54
#define SIM_ENOANO 55
#define SIM_EBADRQC 56
#define SIM_EBADSLT 57
#define SIM_EBFONT 59
#define SIM_ENOSTR 60
#define SIM_ENODATA 61
#define SIM_ETIME 62
#define SIM_ENOSR 63
#define SIM_ENONET 64
#define SIM_ENOPKG 65
#define SIM_EREMOTE 66
#define SIM_ENOLINK 67
#define SIM_EADV 68
#define SIM_ESRMNT 69
#define SIM_ECOMM 70
#define SIM_EPROTO 71
#define SIM_EMULTIHOP 72
#define SIM_EDOTDOT 73
#define SIM_EBADMSG 74
#define SIM_EOVERFLOW 75
#define SIM_ENOTUNIQ 76
#define SIM_EBADFD 77
#define SIM_EREMCHG 78
#define SIM_ELIBACC 79
#define SIM_ELIBBAD 80
#define SIM_ELIBSCN 81
#define SIM_ELIBMAX 82
#define SIM_ELIBEXEC 83
#define SIM_EILSEQ 84
#define SIM_ERESTART 85
#define SIM_ESTRPIPE 86
#define SIM_EUSERS 87
#define SIM_ENOTSOCK 88
#define SIM_EDESTADDRREQ 89
#define SIM_EMSGSIZE 90
#define SIM_EPROTOTYPE 91
#define SIM_ENOPROTOOPT 92
#define SIM_EPROTONOSUPPORT 93
#define SIM_ESOCKTNOSUPPORT 94
#define SIM_EOPNOTSUPP 95
#define SIM_EPFNOSUPPORT 96
#define SIM_EAFNOSUPPORT 97
#define SIM_EADDRINUSE 98
#define SIM_EADDRNOTAVAIL 99
#define SIM_ENETDOWN 100
#define SIM_ENETUNREACH 101
#define SIM_ENETRESET 102
#define SIM_ECONNABORTED 103
#define SIM_ECONNRESET 104
#define SIM_ENOBUFS 105
#define SIM_EISCONN 106
#define SIM_ENOTCONN 107
#define SIM_ESHUTDOWN 108
#define SIM_ETOOMANYREFS 109
#define SIM_ETIMEDOUT 110
#define SIM_ECONNREFUSED 111
#define SIM_EHOSTDOWN 112
#define SIM_EHOSTUNREACH 113
#define SIM_EALREADY 114
#define SIM_EINPROGRESS 115
#define SIM_ESTALE 116
#define SIM_EUCLEAN 117
#define SIM_ENOTNAM 118
#define SIM_ENAVAIL 119
#define SIM_EISNAM 120
#define SIM_EREMOTEIO 121
#define SIM_EDQUOT 122
#define SIM_ENOMEDIUM 123
#define SIM_EMEDIUMTYPE 124
#define SIM_ECANCELED 125
#define SIM_ENOKEY 126
#define SIM_EKEYEXPIRED 127
#define SIM_EKEYREVOKED 128
#define SIM_EKEYREJECTED 129
#define SIM_EOWNERDEAD 130
#define SIM_ENOTRECOVERABLE 131
#define SIM_ERFKILL 132
#define SIM_EHWPOISON 133
/* kernel-internal values strace shows for interrupted calls (pitfall 6) */
#define SIM_ERESTARTSYS 512
#define SIM_ERESTARTNOINTR 513
#define SIM_ERESTARTNOHAND 514
#define SIM_ENOIOCTLCMD 515
#define SIM_ERESTART_RESTARTBLOCK 516
#define SIM_EPROBE_DEFER 517
#define SIM_EOPENSTALE 518
#define SIM_ENOPARAM 519
#define SIM_EBADHANDLE 521
#define SIM_ENOTSYNC 522
#define SIM_EBADCOOKIE 523
#define SIM_ENOTSUPP 524
#define SIM_ETOOSMALL 525
#define SIM_ESERVERFAULT 526
#define SIM_EBADTYPE 527
#define SIM_EJUKEBOX 528
#define SIM_EIOCBQUEUED 529
#define SIM_ERECALLCONFLICT 530
#define SIM_ENOGRACE 531

/* ---- tables -------------------------------------------------------------------- */

typedef struct sim_sym {
    const char *name; /* as strace prints it, e.g. "MAP_FIXED" */
    uint64_t value;   /* Linux x86-64 value */
} sim_sym;

typedef struct sim_symtab {
    const char *what;   /* human name of the set, for error messages */
    const sim_sym *v;   /* static array */
    size_t n;
    /* For formatting only: the table's zero-valued name (PROT_NONE,
     * O_RDONLY) is printed when (value & zero_mask) == 0.  0 = never. */
    uint64_t zero_mask;
} sim_symtab;

/* Bit sets (OR-able). */
extern const sim_symtab sim_prot_syms;     /* PROT_* */
extern const sim_symtab sim_map_syms;      /* MAP_* incl. MAP_SHARED/PRIVATE/SHARED_VALIDATE */
extern const sim_symtab sim_mremap_syms;   /* MREMAP_* */
extern const sim_symtab sim_ms_syms;       /* MS_* (msync) */
extern const sim_symtab sim_mcl_syms;      /* MCL_* (mlockall) */
extern const sim_symtab sim_mlock_syms;    /* MLOCK_ONFAULT (mlock2) */
extern const sim_symtab sim_clone_syms;    /* CLONE_* (no signal names) */
extern const sim_symtab sim_open_syms;     /* O_* (O_RDONLY = 0 included) */
extern const sim_symtab sim_mfd_syms;      /* MFD_* */
extern const sim_symtab sim_shmget_syms;   /* IPC_CREAT, IPC_EXCL, SHM_HUGETLB, SHM_NORESERVE */
extern const sim_symtab sim_shmat_syms;    /* SHM_RDONLY, SHM_RND, SHM_REMAP, SHM_EXEC */
extern const sim_symtab sim_at_syms;       /* AT_* flags (not AT_FDCWD) */
extern const sim_symtab sim_fd_syms;       /* FD_CLOEXEC */
extern const sim_symtab sim_efd_syms;      /* EFD_* */
extern const sim_symtab sim_epoll_syms;    /* EPOLL_CLOEXEC */
extern const sim_symtab sim_sock_syms;     /* SOCK_* types and flags */
extern const sim_symtab sim_wait_syms;     /* WNOHANG, ... */
/* Value sets (one name = one value). */
extern const sim_symtab sim_madv_syms;     /* MADV_* */
extern const sim_symtab sim_ipc_key_syms;  /* IPC_PRIVATE */
extern const sim_symtab sim_shmctl_syms;   /* IPC_RMID, IPC_SET, IPC_STAT, IPC_INFO, SHM_* */
extern const sim_symtab sim_fcntl_syms;    /* F_* commands */
extern const sim_symtab sim_rlimit_syms;   /* RLIMIT_* */
extern const sim_symtab sim_signal_syms;   /* SIGHUP .. SIGSYS, SIGRTMIN, SIGRT_1 .. SIGRT_32 */
extern const sim_symtab sim_si_code_syms;  /* SI_*, SEGV_*, BUS_*, CLD_*, ILL_*, FPE_*, TRAP_* (value as uint64 of int) */
extern const sim_symtab sim_errno_syms;    /* EPERM .. EHWPOISON, ERESTARTSYS .. ENOGRACE */

/*
 * Look up name[0..len) in a table: 0 and *value on success, -1 when the
 * name is not in the table.
 */
int sim_sym_lookup(const sim_symtab *t, const char *name, size_t len, uint64_t *value);

/* The first name with exactly this value, or NULL. */
const char *sim_sym_name(const sim_symtab *t, uint64_t value);

/* Errno by name -> number (e.g. "ENOENT" -> 2), -1 if unknown. */
int sim_errno_value(const char *name, size_t len);
/* Errno number -> canonical name, NULL if unknown. */
const char *sim_errno_name(int err);

/* Signal by name -> number ("SIGCHLD" -> 17, "SIGRT_3" -> 35), -1 if unknown. */
int sim_signal_value(const char *name, size_t len);
const char *sim_signal_name(int signo);

/*
 * si_code by name ("SEGV_ACCERR" -> 2, "SI_USER" -> 0, "SI_TKILL" -> -6):
 * 0 and *value on success, -1 if unknown.
 */
int sim_si_code_value(const char *name, size_t len, int *value);

/*
 * x86-64 system-call number by name ("mmap" -> 9, also accepts valgrind's
 * "sys_mmap"), -1 if unknown; and the reverse, NULL if unknown.
 */
int sim_syscall_nr(const char *name, size_t len);
const char *sim_syscall_name(int nr);

/*
 * Format `value` as strace would with table t: names joined by '|', then
 * any bits no name covers in hex; "0" when nothing matches zero.  Writes
 * at most cap bytes including the NUL; returns the length it needed
 * (snprintf semantics).
 */
size_t sim_flags_format(const sim_symtab *t, uint64_t value, char *buf, size_t cap);

#endif /* MMK_SIM_SYMBOLS_H */
