/*
 * symbols.c: the name/value tables declared in symbols.h.
 *
 * Values are Linux x86-64's (see symbols.h for the kernel headers they come
 * from); names are spelled the way strace prints them (traces/README.md).
 * Lookups are linear: the tables are small, and callers that look up the
 * same name often (the strace parser's syscall names) cache the result.
 */
#include "symbols.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* {"NAME", SIM_NAME}: the printed name is the constant minus its prefix. */
#define S(x) {#x, (uint64_t)(SIM_##x)}

static const sim_sym sim_prot_syms_v[] = {
    S(PROT_NONE),
    S(PROT_READ),
    S(PROT_WRITE),
    S(PROT_EXEC),
    S(PROT_SEM),
    S(PROT_GROWSDOWN),
    S(PROT_GROWSUP),
};
const sim_symtab sim_prot_syms = {"PROT_* protection", sim_prot_syms_v, sizeof sim_prot_syms_v / sizeof sim_prot_syms_v[0], ~0ull};

static const sim_sym sim_map_syms_v[] = {
    S(MAP_SHARED_VALIDATE),
    S(MAP_SHARED),
    S(MAP_PRIVATE),
    S(MAP_FIXED),
    S(MAP_ANONYMOUS),
    S(MAP_32BIT),
    S(MAP_GROWSDOWN),
    S(MAP_DENYWRITE),
    S(MAP_EXECUTABLE),
    S(MAP_LOCKED),
    S(MAP_NORESERVE),
    S(MAP_POPULATE),
    S(MAP_NONBLOCK),
    S(MAP_STACK),
    S(MAP_HUGETLB),
    S(MAP_SYNC),
    S(MAP_FIXED_NOREPLACE),
    S(MAP_UNINITIALIZED),
    S(MAP_FILE),
    {"MAP_ANON", (uint64_t)SIM_MAP_ANONYMOUS},
};
const sim_symtab sim_map_syms = {"MAP_* flag", sim_map_syms_v, sizeof sim_map_syms_v / sizeof sim_map_syms_v[0], 0};

static const sim_sym sim_mremap_syms_v[] = {
    S(MREMAP_MAYMOVE),
    S(MREMAP_FIXED),
    S(MREMAP_DONTUNMAP),
};
const sim_symtab sim_mremap_syms = {"MREMAP_* flag", sim_mremap_syms_v, sizeof sim_mremap_syms_v / sizeof sim_mremap_syms_v[0], 0};

static const sim_sym sim_ms_syms_v[] = {
    S(MS_ASYNC),
    S(MS_INVALIDATE),
    S(MS_SYNC),
};
const sim_symtab sim_ms_syms = {"MS_* msync flag", sim_ms_syms_v, sizeof sim_ms_syms_v / sizeof sim_ms_syms_v[0], 0};

static const sim_sym sim_mcl_syms_v[] = {
    S(MCL_CURRENT),
    S(MCL_FUTURE),
    S(MCL_ONFAULT),
};
const sim_symtab sim_mcl_syms = {"MCL_* mlockall flag", sim_mcl_syms_v, sizeof sim_mcl_syms_v / sizeof sim_mcl_syms_v[0], 0};

static const sim_sym sim_mlock_syms_v[] = {
    S(MLOCK_ONFAULT),
};
const sim_symtab sim_mlock_syms = {"MLOCK_* mlock2 flag", sim_mlock_syms_v, sizeof sim_mlock_syms_v / sizeof sim_mlock_syms_v[0], 0};

static const sim_sym sim_clone_syms_v[] = {
    S(CLONE_NEWTIME),
    S(CLONE_VM),
    S(CLONE_FS),
    S(CLONE_FILES),
    S(CLONE_SIGHAND),
    S(CLONE_PIDFD),
    S(CLONE_PTRACE),
    S(CLONE_VFORK),
    S(CLONE_PARENT),
    S(CLONE_THREAD),
    S(CLONE_NEWNS),
    S(CLONE_SYSVSEM),
    S(CLONE_SETTLS),
    S(CLONE_PARENT_SETTID),
    S(CLONE_CHILD_CLEARTID),
    S(CLONE_DETACHED),
    S(CLONE_UNTRACED),
    S(CLONE_CHILD_SETTID),
    S(CLONE_NEWCGROUP),
    S(CLONE_NEWUTS),
    S(CLONE_NEWIPC),
    S(CLONE_NEWUSER),
    S(CLONE_NEWPID),
    S(CLONE_NEWNET),
    S(CLONE_IO),
    S(CLONE_CLEAR_SIGHAND),
    S(CLONE_INTO_CGROUP),
};
const sim_symtab sim_clone_syms = {"CLONE_* flag", sim_clone_syms_v, sizeof sim_clone_syms_v / sizeof sim_clone_syms_v[0], 0};

static const sim_sym sim_open_syms_v[] = {
    S(O_RDONLY),
    S(O_WRONLY),
    S(O_RDWR),
    S(O_CREAT),
    S(O_EXCL),
    S(O_NOCTTY),
    S(O_TRUNC),
    S(O_APPEND),
    S(O_NONBLOCK),
    S(O_SYNC),
    S(O_DSYNC),
    S(O_ASYNC),
    S(O_DIRECT),
    S(O_LARGEFILE),
    S(O_TMPFILE),
    S(O_DIRECTORY),
    S(O_NOFOLLOW),
    S(O_NOATIME),
    S(O_CLOEXEC),
    S(O_PATH),
    {"O_NDELAY", (uint64_t)SIM_O_NONBLOCK},
    {"O_FSYNC", (uint64_t)SIM_O_SYNC},
    {"FASYNC", (uint64_t)SIM_O_ASYNC},
};
const sim_symtab sim_open_syms = {"O_* open flag", sim_open_syms_v, sizeof sim_open_syms_v / sizeof sim_open_syms_v[0], SIM_O_ACCMODE};

static const sim_sym sim_mfd_syms_v[] = {
    S(MFD_CLOEXEC),
    S(MFD_ALLOW_SEALING),
    S(MFD_HUGETLB),
    S(MFD_NOEXEC_SEAL),
    S(MFD_EXEC),
};
const sim_symtab sim_mfd_syms = {"MFD_* memfd flag", sim_mfd_syms_v, sizeof sim_mfd_syms_v / sizeof sim_mfd_syms_v[0], 0};

static const sim_sym sim_shmget_syms_v[] = {
    S(IPC_CREAT),
    S(IPC_EXCL),
    S(SHM_HUGETLB),
    S(SHM_NORESERVE),
};
const sim_symtab sim_shmget_syms = {"shmget flag", sim_shmget_syms_v, sizeof sim_shmget_syms_v / sizeof sim_shmget_syms_v[0], 0};

static const sim_sym sim_shmat_syms_v[] = {
    S(SHM_RDONLY),
    S(SHM_RND),
    S(SHM_REMAP),
    S(SHM_EXEC),
};
const sim_symtab sim_shmat_syms = {"shmat flag", sim_shmat_syms_v, sizeof sim_shmat_syms_v / sizeof sim_shmat_syms_v[0], 0};

static const sim_sym sim_at_syms_v[] = {
    S(AT_STATX_SYNC_AS_STAT),
    S(AT_SYMLINK_NOFOLLOW),
    S(AT_REMOVEDIR),
    S(AT_SYMLINK_FOLLOW),
    S(AT_NO_AUTOMOUNT),
    S(AT_EMPTY_PATH),
    S(AT_STATX_FORCE_SYNC),
    S(AT_STATX_DONT_SYNC),
    S(AT_RECURSIVE),
};
const sim_symtab sim_at_syms = {"AT_* flag", sim_at_syms_v, sizeof sim_at_syms_v / sizeof sim_at_syms_v[0], 0x6000ull};

static const sim_sym sim_fd_syms_v[] = {
    S(FD_CLOEXEC),
};
const sim_symtab sim_fd_syms = {"FD_* flag", sim_fd_syms_v, sizeof sim_fd_syms_v / sizeof sim_fd_syms_v[0], 0};

static const sim_sym sim_efd_syms_v[] = {
    S(EFD_SEMAPHORE),
    S(EFD_NONBLOCK),
    S(EFD_CLOEXEC),
};
const sim_symtab sim_efd_syms = {"EFD_* flag", sim_efd_syms_v, sizeof sim_efd_syms_v / sizeof sim_efd_syms_v[0], 0};

static const sim_sym sim_epoll_syms_v[] = {
    S(EPOLL_CLOEXEC),
};
const sim_symtab sim_epoll_syms = {"EPOLL_* flag", sim_epoll_syms_v, sizeof sim_epoll_syms_v / sizeof sim_epoll_syms_v[0], 0};

static const sim_sym sim_sock_syms_v[] = {
    S(SOCK_STREAM),
    S(SOCK_DGRAM),
    S(SOCK_RAW),
    S(SOCK_RDM),
    S(SOCK_SEQPACKET),
    S(SOCK_DCCP),
    S(SOCK_PACKET),
    S(SOCK_NONBLOCK),
    S(SOCK_CLOEXEC),
};
const sim_symtab sim_sock_syms = {"SOCK_* type or flag", sim_sock_syms_v, sizeof sim_sock_syms_v / sizeof sim_sock_syms_v[0], 0};

static const sim_sym sim_wait_syms_v[] = {
    S(WNOHANG),
    S(WUNTRACED),
    S(WEXITED),
    S(WCONTINUED),
    S(WNOWAIT),
    S(__WNOTHREAD),
    S(__WALL),
    S(__WCLONE),
    {"WSTOPPED", (uint64_t)SIM_WUNTRACED},
};
const sim_symtab sim_wait_syms = {"wait option", sim_wait_syms_v, sizeof sim_wait_syms_v / sizeof sim_wait_syms_v[0], 0};

static const sim_sym sim_madv_syms_v[] = {
    S(MADV_NORMAL),
    S(MADV_RANDOM),
    S(MADV_SEQUENTIAL),
    S(MADV_WILLNEED),
    S(MADV_DONTNEED),
    S(MADV_FREE),
    S(MADV_REMOVE),
    S(MADV_DONTFORK),
    S(MADV_DOFORK),
    S(MADV_MERGEABLE),
    S(MADV_UNMERGEABLE),
    S(MADV_HUGEPAGE),
    S(MADV_NOHUGEPAGE),
    S(MADV_DONTDUMP),
    S(MADV_DODUMP),
    S(MADV_WIPEONFORK),
    S(MADV_KEEPONFORK),
    S(MADV_COLD),
    S(MADV_PAGEOUT),
    S(MADV_POPULATE_READ),
    S(MADV_POPULATE_WRITE),
    S(MADV_DONTNEED_LOCKED),
    S(MADV_COLLAPSE),
    S(MADV_HWPOISON),
    S(MADV_SOFT_OFFLINE),
    S(MADV_GUARD_INSTALL),
    S(MADV_GUARD_REMOVE),
};
const sim_symtab sim_madv_syms = {"MADV_* advice", sim_madv_syms_v, sizeof sim_madv_syms_v / sizeof sim_madv_syms_v[0], 0};

static const sim_sym sim_ipc_key_syms_v[] = {
    S(IPC_PRIVATE),
};
const sim_symtab sim_ipc_key_syms = {"IPC key", sim_ipc_key_syms_v, sizeof sim_ipc_key_syms_v / sizeof sim_ipc_key_syms_v[0], 0};

static const sim_sym sim_shmctl_syms_v[] = {
    S(IPC_RMID),
    S(IPC_SET),
    S(IPC_STAT),
    S(IPC_INFO),
    S(SHM_LOCK),
    S(SHM_UNLOCK),
    S(SHM_STAT),
    S(SHM_INFO),
    S(SHM_STAT_ANY),
};
const sim_symtab sim_shmctl_syms = {"shmctl command", sim_shmctl_syms_v, sizeof sim_shmctl_syms_v / sizeof sim_shmctl_syms_v[0], 0};

static const sim_sym sim_fcntl_syms_v[] = {
    S(F_DUPFD),
    S(F_GETFD),
    S(F_SETFD),
    S(F_GETFL),
    S(F_SETFL),
    S(F_GETLK),
    S(F_SETLK),
    S(F_SETLKW),
    S(F_SETOWN),
    S(F_GETOWN),
    S(F_SETSIG),
    S(F_GETSIG),
    S(F_SETOWN_EX),
    S(F_GETOWN_EX),
    S(F_OFD_GETLK),
    S(F_OFD_SETLK),
    S(F_OFD_SETLKW),
    S(F_SETLEASE),
    S(F_GETLEASE),
    S(F_NOTIFY),
    S(F_DUPFD_QUERY),
    S(F_DUPFD_CLOEXEC),
    S(F_SETPIPE_SZ),
    S(F_GETPIPE_SZ),
    S(F_ADD_SEALS),
    S(F_GET_SEALS),
};
const sim_symtab sim_fcntl_syms = {"fcntl command", sim_fcntl_syms_v, sizeof sim_fcntl_syms_v / sizeof sim_fcntl_syms_v[0], 0};

static const sim_sym sim_errno_syms_v[] = {
    S(EPERM),
    S(ENOENT),
    S(ESRCH),
    S(EINTR),
    S(EIO),
    S(ENXIO),
    S(E2BIG),
    S(ENOEXEC),
    S(EBADF),
    S(ECHILD),
    S(EAGAIN),
    S(ENOMEM),
    S(EACCES),
    S(EFAULT),
    S(ENOTBLK),
    S(EBUSY),
    S(EEXIST),
    S(EXDEV),
    S(ENODEV),
    S(ENOTDIR),
    S(EISDIR),
    S(EINVAL),
    S(ENFILE),
    S(EMFILE),
    S(ENOTTY),
    S(ETXTBSY),
    S(EFBIG),
    S(ENOSPC),
    S(ESPIPE),
    S(EROFS),
    S(EMLINK),
    S(EPIPE),
    S(EDOM),
    S(ERANGE),
    S(EDEADLK),
    S(ENAMETOOLONG),
    S(ENOLCK),
    S(ENOSYS),
    S(ENOTEMPTY),
    S(ELOOP),
    S(ENOMSG),
    S(EIDRM),
    S(ECHRNG),
    S(EL2NSYNC),
    S(EL3HLT),
    S(EL3RST),
    S(ELNRNG),
    S(EUNATCH),
    S(ENOCSI),
    S(EL2HLT),
    S(EBADE),
    S(EBADR),
    S(EXFULL),
    S(ENOANO),
    S(EBADRQC),
    S(EBADSLT),
    S(EBFONT),
    S(ENOSTR),
    S(ENODATA),
    S(ETIME),
    S(ENOSR),
    S(ENONET),
    S(ENOPKG),
    S(EREMOTE),
    S(ENOLINK),
    S(EADV),
    S(ESRMNT),
    S(ECOMM),
    S(EPROTO),
    S(EMULTIHOP),
    S(EDOTDOT),
    S(EBADMSG),
    S(EOVERFLOW),
    S(ENOTUNIQ),
    S(EBADFD),
    S(EREMCHG),
    S(ELIBACC),
    S(ELIBBAD),
    S(ELIBSCN),
    S(ELIBMAX),
    S(ELIBEXEC),
    S(EILSEQ),
    S(ERESTART),
    S(ESTRPIPE),
    S(EUSERS),
    S(ENOTSOCK),
    S(EDESTADDRREQ),
    S(EMSGSIZE),
    S(EPROTOTYPE),
    S(ENOPROTOOPT),
    S(EPROTONOSUPPORT),
    S(ESOCKTNOSUPPORT),
    S(EOPNOTSUPP),
    S(EPFNOSUPPORT),
    S(EAFNOSUPPORT),
    S(EADDRINUSE),
    S(EADDRNOTAVAIL),
    S(ENETDOWN),
    S(ENETUNREACH),
    S(ENETRESET),
    S(ECONNABORTED),
    S(ECONNRESET),
    S(ENOBUFS),
    S(EISCONN),
    S(ENOTCONN),
    S(ESHUTDOWN),
    S(ETOOMANYREFS),
    S(ETIMEDOUT),
    S(ECONNREFUSED),
    S(EHOSTDOWN),
    S(EHOSTUNREACH),
    S(EALREADY),
    S(EINPROGRESS),
    S(ESTALE),
    S(EUCLEAN),
    S(ENOTNAM),
    S(ENAVAIL),
    S(EISNAM),
    S(EREMOTEIO),
    S(EDQUOT),
    S(ENOMEDIUM),
    S(EMEDIUMTYPE),
    S(ECANCELED),
    S(ENOKEY),
    S(EKEYEXPIRED),
    S(EKEYREVOKED),
    S(EKEYREJECTED),
    S(EOWNERDEAD),
    S(ENOTRECOVERABLE),
    S(ERFKILL),
    S(EHWPOISON),
    S(ERESTARTSYS),
    S(ERESTARTNOINTR),
    S(ERESTARTNOHAND),
    S(ENOIOCTLCMD),
    S(ERESTART_RESTARTBLOCK),
    S(EPROBE_DEFER),
    S(EOPENSTALE),
    S(ENOPARAM),
    S(EBADHANDLE),
    S(ENOTSYNC),
    S(EBADCOOKIE),
    S(ENOTSUPP),
    S(ETOOSMALL),
    S(ESERVERFAULT),
    S(EBADTYPE),
    S(EJUKEBOX),
    S(EIOCBQUEUED),
    S(ERECALLCONFLICT),
    S(ENOGRACE),
    {"EWOULDBLOCK", (uint64_t)SIM_EAGAIN},
    {"EDEADLOCK", (uint64_t)SIM_EDEADLK},
    {"ENOTSUP", (uint64_t)SIM_EOPNOTSUPP},
};
const sim_symtab sim_errno_syms = {"errno name", sim_errno_syms_v, sizeof sim_errno_syms_v / sizeof sim_errno_syms_v[0], 0};
static const sim_sym sim_rlimit_syms_v[] = {
    {"RLIMIT_CPU", 0},     {"RLIMIT_FSIZE", 1},       {"RLIMIT_DATA", 2},     {"RLIMIT_STACK", 3},
    {"RLIMIT_CORE", 4},    {"RLIMIT_RSS", 5},         {"RLIMIT_NPROC", 6},    {"RLIMIT_NOFILE", 7},
    {"RLIMIT_MEMLOCK", 8}, {"RLIMIT_AS", 9},          {"RLIMIT_LOCKS", 10},   {"RLIMIT_SIGPENDING", 11},
    {"RLIMIT_MSGQUEUE", 12}, {"RLIMIT_NICE", 13},     {"RLIMIT_RTPRIO", 14},  {"RLIMIT_RTTIME", 15},
};
const sim_symtab sim_rlimit_syms = {"RLIMIT_* resource", sim_rlimit_syms_v,
                                    sizeof sim_rlimit_syms_v / sizeof sim_rlimit_syms_v[0], 0};

/* strace names real-time signals SIGRTMIN, SIGRT_1, ... (kernel numbering). */
#define RT(n) {"SIGRT_" #n, SIM_SIGRTMIN + (n)}
static const sim_sym sim_signal_syms_v[] = {
    S(SIGHUP), S(SIGINT), S(SIGQUIT), S(SIGILL), S(SIGTRAP), S(SIGABRT), S(SIGBUS), S(SIGFPE),
    S(SIGKILL), S(SIGUSR1), S(SIGSEGV), S(SIGUSR2), S(SIGPIPE), S(SIGALRM), S(SIGTERM),
    S(SIGSTKFLT), S(SIGCHLD), S(SIGCONT), S(SIGSTOP), S(SIGTSTP), S(SIGTTIN), S(SIGTTOU),
    S(SIGURG), S(SIGXCPU), S(SIGXFSZ), S(SIGVTALRM), S(SIGPROF), S(SIGWINCH), S(SIGIO),
    S(SIGPWR), S(SIGSYS), S(SIGRTMIN),
    RT(1), RT(2), RT(3), RT(4), RT(5), RT(6), RT(7), RT(8), RT(9), RT(10), RT(11), RT(12),
    RT(13), RT(14), RT(15), RT(16), RT(17), RT(18), RT(19), RT(20), RT(21), RT(22), RT(23),
    RT(24), RT(25), RT(26), RT(27), RT(28), RT(29), RT(30), RT(31), RT(32),
    {"SIGIOT", SIM_SIGABRT}, {"SIGPOLL", SIM_SIGIO}, {"SIGCLD", SIM_SIGCHLD},
    {"SIGUNUSED", SIM_SIGSYS},
};
#undef RT
const sim_symtab sim_signal_syms = {"signal", sim_signal_syms_v,
                                    sizeof sim_signal_syms_v / sizeof sim_signal_syms_v[0], 0};

/* si_code values are ints; negative ones are stored sign-extended. */
#define SC(name, v) {#name, (uint64_t)(int64_t)(v)}
static const sim_sym sim_si_code_syms_v[] = {
    SC(SI_USER, 0), SC(SI_KERNEL, 0x80), SC(SI_QUEUE, -1), SC(SI_TIMER, -2), SC(SI_MESGQ, -3),
    SC(SI_ASYNCIO, -4), SC(SI_SIGIO, -5), SC(SI_TKILL, -6), SC(SI_DETHREAD, -7),
    SC(SI_ASYNCNL, -60),
    SC(SEGV_MAPERR, 1), SC(SEGV_ACCERR, 2), SC(SEGV_BNDERR, 3), SC(SEGV_PKUERR, 4),
    SC(SEGV_ACCADI, 5), SC(SEGV_ADIDERR, 6), SC(SEGV_ADIPERR, 7), SC(SEGV_MTEAERR, 8),
    SC(SEGV_MTESERR, 9), SC(SEGV_CPERR, 10),
    SC(BUS_ADRALN, 1), SC(BUS_ADRERR, 2), SC(BUS_OBJERR, 3), SC(BUS_MCEERR_AR, 4),
    SC(BUS_MCEERR_AO, 5),
    SC(CLD_EXITED, 1), SC(CLD_KILLED, 2), SC(CLD_DUMPED, 3), SC(CLD_TRAPPED, 4),
    SC(CLD_STOPPED, 5), SC(CLD_CONTINUED, 6),
    SC(ILL_ILLOPC, 1), SC(ILL_ILLOPN, 2), SC(ILL_ILLADR, 3), SC(ILL_ILLTRP, 4),
    SC(ILL_PRVOPC, 5), SC(ILL_PRVREG, 6), SC(ILL_COPROC, 7), SC(ILL_BADSTK, 8),
    SC(FPE_INTDIV, 1), SC(FPE_INTOVF, 2), SC(FPE_FLTDIV, 3), SC(FPE_FLTOVF, 4),
    SC(FPE_FLTUND, 5), SC(FPE_FLTRES, 6), SC(FPE_FLTINV, 7), SC(FPE_FLTSUB, 8),
    SC(TRAP_BRKPT, 1), SC(TRAP_TRACE, 2), SC(TRAP_BRANCH, 3), SC(TRAP_HWBKPT, 4),
    SC(TRAP_UNK, 5), SC(POLL_IN, 1), SC(POLL_OUT, 2), SC(POLL_MSG, 3), SC(POLL_ERR, 4),
    SC(POLL_PRI, 5), SC(POLL_HUP, 6), SC(SYS_SECCOMP, 1),
};
#undef SC
const sim_symtab sim_si_code_syms = {"si_code", sim_si_code_syms_v,
                                     sizeof sim_si_code_syms_v / sizeof sim_si_code_syms_v[0], 0};

/* x86-64 system-call numbers (arch/x86/entry/syscalls/syscall_64.tbl). */
static const char *const syscall_names[] = {
    [0] = "read",
    [1] = "write",
    [2] = "open",
    [3] = "close",
    [4] = "stat",
    [5] = "fstat",
    [6] = "lstat",
    [7] = "poll",
    [8] = "lseek",
    [9] = "mmap",
    [10] = "mprotect",
    [11] = "munmap",
    [12] = "brk",
    [13] = "rt_sigaction",
    [14] = "rt_sigprocmask",
    [15] = "rt_sigreturn",
    [16] = "ioctl",
    [17] = "pread64",
    [18] = "pwrite64",
    [19] = "readv",
    [20] = "writev",
    [21] = "access",
    [22] = "pipe",
    [23] = "select",
    [24] = "sched_yield",
    [25] = "mremap",
    [26] = "msync",
    [27] = "mincore",
    [28] = "madvise",
    [29] = "shmget",
    [30] = "shmat",
    [31] = "shmctl",
    [32] = "dup",
    [33] = "dup2",
    [34] = "pause",
    [35] = "nanosleep",
    [36] = "getitimer",
    [37] = "alarm",
    [38] = "setitimer",
    [39] = "getpid",
    [40] = "sendfile",
    [41] = "socket",
    [42] = "connect",
    [43] = "accept",
    [44] = "sendto",
    [45] = "recvfrom",
    [46] = "sendmsg",
    [47] = "recvmsg",
    [48] = "shutdown",
    [49] = "bind",
    [50] = "listen",
    [51] = "getsockname",
    [52] = "getpeername",
    [53] = "socketpair",
    [54] = "setsockopt",
    [55] = "getsockopt",
    [56] = "clone",
    [57] = "fork",
    [58] = "vfork",
    [59] = "execve",
    [60] = "exit",
    [61] = "wait4",
    [62] = "kill",
    [63] = "uname",
    [64] = "semget",
    [65] = "semop",
    [66] = "semctl",
    [67] = "shmdt",
    [68] = "msgget",
    [69] = "msgsnd",
    [70] = "msgrcv",
    [71] = "msgctl",
    [72] = "fcntl",
    [73] = "flock",
    [74] = "fsync",
    [75] = "fdatasync",
    [76] = "truncate",
    [77] = "ftruncate",
    [78] = "getdents",
    [79] = "getcwd",
    [80] = "chdir",
    [81] = "fchdir",
    [82] = "rename",
    [83] = "mkdir",
    [84] = "rmdir",
    [85] = "creat",
    [86] = "link",
    [87] = "unlink",
    [88] = "symlink",
    [89] = "readlink",
    [90] = "chmod",
    [91] = "fchmod",
    [92] = "chown",
    [93] = "fchown",
    [94] = "lchown",
    [95] = "umask",
    [96] = "gettimeofday",
    [97] = "getrlimit",
    [98] = "getrusage",
    [99] = "sysinfo",
    [100] = "times",
    [101] = "ptrace",
    [102] = "getuid",
    [103] = "syslog",
    [104] = "getgid",
    [105] = "setuid",
    [106] = "setgid",
    [107] = "geteuid",
    [108] = "getegid",
    [109] = "setpgid",
    [110] = "getppid",
    [111] = "getpgrp",
    [112] = "setsid",
    [113] = "setreuid",
    [114] = "setregid",
    [115] = "getgroups",
    [116] = "setgroups",
    [117] = "setresuid",
    [118] = "getresuid",
    [119] = "setresgid",
    [120] = "getresgid",
    [121] = "getpgid",
    [122] = "setfsuid",
    [123] = "setfsgid",
    [124] = "getsid",
    [125] = "capget",
    [126] = "capset",
    [127] = "rt_sigpending",
    [128] = "rt_sigtimedwait",
    [129] = "rt_sigqueueinfo",
    [130] = "rt_sigsuspend",
    [131] = "sigaltstack",
    [132] = "utime",
    [133] = "mknod",
    [134] = "uselib",
    [135] = "personality",
    [136] = "ustat",
    [137] = "statfs",
    [138] = "fstatfs",
    [139] = "sysfs",
    [140] = "getpriority",
    [141] = "setpriority",
    [142] = "sched_setparam",
    [143] = "sched_getparam",
    [144] = "sched_setscheduler",
    [145] = "sched_getscheduler",
    [146] = "sched_get_priority_max",
    [147] = "sched_get_priority_min",
    [148] = "sched_rr_get_interval",
    [149] = "mlock",
    [150] = "munlock",
    [151] = "mlockall",
    [152] = "munlockall",
    [153] = "vhangup",
    [154] = "modify_ldt",
    [155] = "pivot_root",
    [156] = "_sysctl",
    [157] = "prctl",
    [158] = "arch_prctl",
    [159] = "adjtimex",
    [160] = "setrlimit",
    [161] = "chroot",
    [162] = "sync",
    [163] = "acct",
    [164] = "settimeofday",
    [165] = "mount",
    [166] = "umount2",
    [167] = "swapon",
    [168] = "swapoff",
    [169] = "reboot",
    [170] = "sethostname",
    [171] = "setdomainname",
    [172] = "iopl",
    [173] = "ioperm",
    [174] = "create_module",
    [175] = "init_module",
    [176] = "delete_module",
    [177] = "get_kernel_syms",
    [178] = "query_module",
    [179] = "quotactl",
    [180] = "nfsservctl",
    [181] = "getpmsg",
    [182] = "putpmsg",
    [183] = "afs_syscall",
    [184] = "tuxcall",
    [185] = "security",
    [186] = "gettid",
    [187] = "readahead",
    [188] = "setxattr",
    [189] = "lsetxattr",
    [190] = "fsetxattr",
    [191] = "getxattr",
    [192] = "lgetxattr",
    [193] = "fgetxattr",
    [194] = "listxattr",
    [195] = "llistxattr",
    [196] = "flistxattr",
    [197] = "removexattr",
    [198] = "lremovexattr",
    [199] = "fremovexattr",
    [200] = "tkill",
    [201] = "time",
    [202] = "futex",
    [203] = "sched_setaffinity",
    [204] = "sched_getaffinity",
    [205] = "set_thread_area",
    [206] = "io_setup",
    [207] = "io_destroy",
    [208] = "io_getevents",
    [209] = "io_submit",
    [210] = "io_cancel",
    [211] = "get_thread_area",
    [212] = "lookup_dcookie",
    [213] = "epoll_create",
    [214] = "epoll_ctl_old",
    [215] = "epoll_wait_old",
    [216] = "remap_file_pages",
    [217] = "getdents64",
    [218] = "set_tid_address",
    [219] = "restart_syscall",
    [220] = "semtimedop",
    [221] = "fadvise64",
    [222] = "timer_create",
    [223] = "timer_settime",
    [224] = "timer_gettime",
    [225] = "timer_getoverrun",
    [226] = "timer_delete",
    [227] = "clock_settime",
    [228] = "clock_gettime",
    [229] = "clock_getres",
    [230] = "clock_nanosleep",
    [231] = "exit_group",
    [232] = "epoll_wait",
    [233] = "epoll_ctl",
    [234] = "tgkill",
    [235] = "utimes",
    [236] = "vserver",
    [237] = "mbind",
    [238] = "set_mempolicy",
    [239] = "get_mempolicy",
    [240] = "mq_open",
    [241] = "mq_unlink",
    [242] = "mq_timedsend",
    [243] = "mq_timedreceive",
    [244] = "mq_notify",
    [245] = "mq_getsetattr",
    [246] = "kexec_load",
    [247] = "waitid",
    [248] = "add_key",
    [249] = "request_key",
    [250] = "keyctl",
    [251] = "ioprio_set",
    [252] = "ioprio_get",
    [253] = "inotify_init",
    [254] = "inotify_add_watch",
    [255] = "inotify_rm_watch",
    [256] = "migrate_pages",
    [257] = "openat",
    [258] = "mkdirat",
    [259] = "mknodat",
    [260] = "fchownat",
    [261] = "futimesat",
    [262] = "newfstatat",
    [263] = "unlinkat",
    [264] = "renameat",
    [265] = "linkat",
    [266] = "symlinkat",
    [267] = "readlinkat",
    [268] = "fchmodat",
    [269] = "faccessat",
    [270] = "pselect6",
    [271] = "ppoll",
    [272] = "unshare",
    [273] = "set_robust_list",
    [274] = "get_robust_list",
    [275] = "splice",
    [276] = "tee",
    [277] = "sync_file_range",
    [278] = "vmsplice",
    [279] = "move_pages",
    [280] = "utimensat",
    [281] = "epoll_pwait",
    [282] = "signalfd",
    [283] = "timerfd_create",
    [284] = "eventfd",
    [285] = "fallocate",
    [286] = "timerfd_settime",
    [287] = "timerfd_gettime",
    [288] = "accept4",
    [289] = "signalfd4",
    [290] = "eventfd2",
    [291] = "epoll_create1",
    [292] = "dup3",
    [293] = "pipe2",
    [294] = "inotify_init1",
    [295] = "preadv",
    [296] = "pwritev",
    [297] = "rt_tgsigqueueinfo",
    [298] = "perf_event_open",
    [299] = "recvmmsg",
    [300] = "fanotify_init",
    [301] = "fanotify_mark",
    [302] = "prlimit64",
    [303] = "name_to_handle_at",
    [304] = "open_by_handle_at",
    [305] = "clock_adjtime",
    [306] = "syncfs",
    [307] = "sendmmsg",
    [308] = "setns",
    [309] = "getcpu",
    [310] = "process_vm_readv",
    [311] = "process_vm_writev",
    [312] = "kcmp",
    [313] = "finit_module",
    [314] = "sched_setattr",
    [315] = "sched_getattr",
    [316] = "renameat2",
    [317] = "seccomp",
    [318] = "getrandom",
    [319] = "memfd_create",
    [320] = "kexec_file_load",
    [321] = "bpf",
    [322] = "execveat",
    [323] = "userfaultfd",
    [324] = "membarrier",
    [325] = "mlock2",
    [326] = "copy_file_range",
    [327] = "preadv2",
    [328] = "pwritev2",
    [329] = "pkey_mprotect",
    [330] = "pkey_alloc",
    [331] = "pkey_free",
    [332] = "statx",
    [333] = "io_pgetevents",
    [334] = "rseq",
    [424] = "pidfd_send_signal",
    [425] = "io_uring_setup",
    [426] = "io_uring_enter",
    [427] = "io_uring_register",
    [428] = "open_tree",
    [429] = "move_mount",
    [430] = "fsopen",
    [431] = "fsconfig",
    [432] = "fsmount",
    [433] = "fspick",
    [434] = "pidfd_open",
    [435] = "clone3",
    [436] = "close_range",
    [437] = "openat2",
    [438] = "pidfd_getfd",
    [439] = "faccessat2",
    [440] = "process_madvise",
    [441] = "epoll_pwait2",
    [442] = "mount_setattr",
    [443] = "quotactl_fd",
    [444] = "landlock_create_ruleset",
    [445] = "landlock_add_rule",
    [446] = "landlock_restrict_self",
    [447] = "memfd_secret",
    [448] = "process_mrelease",
    [449] = "futex_waitv",
    [450] = "set_mempolicy_home_node",
    [451] = "cachestat",
    [452] = "fchmodat2",
    [453] = "map_shadow_stack",
    [454] = "futex_wake",
    [455] = "futex_wait",
    [456] = "futex_requeue",
    [457] = "statmount",
    [458] = "listmount",
    [459] = "lsm_get_self_attr",
    [460] = "lsm_set_self_attr",
    [461] = "lsm_list_modules",
    [462] = "mseal",
};
enum { NSYSCALLS = sizeof syscall_names / sizeof syscall_names[0] };

/* ---- lookups ---------------------------------------------------------------- */

static int name_eq(const char *a, const char *b, size_t blen)
{
    return strncmp(a, b, blen) == 0 && a[blen] == '\0';
}

int sim_sym_lookup(const sim_symtab *t, const char *name, size_t len, uint64_t *value)
{
    for (size_t i = 0; i < t->n; i++) {
        if (t->v[i].name[0] == name[0] && name_eq(t->v[i].name, name, len)) {
            *value = t->v[i].value;
            return 0;
        }
    }
    return -1;
}

const char *sim_sym_name(const sim_symtab *t, uint64_t value)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i].value == value)
            return t->v[i].name;
    return NULL;
}

int sim_errno_value(const char *name, size_t len)
{
    uint64_t v;
    return sim_sym_lookup(&sim_errno_syms, name, len, &v) == 0 ? (int)v : -1;
}

const char *sim_errno_name(int err)
{
    return err < 0 ? NULL : sim_sym_name(&sim_errno_syms, (uint64_t)err);
}

int sim_signal_value(const char *name, size_t len)
{
    uint64_t v;
    return sim_sym_lookup(&sim_signal_syms, name, len, &v) == 0 ? (int)v : -1;
}

const char *sim_signal_name(int signo)
{
    return signo <= 0 ? NULL : sim_sym_name(&sim_signal_syms, (uint64_t)signo);
}

int sim_si_code_value(const char *name, size_t len, int *value)
{
    uint64_t v;
    if (sim_sym_lookup(&sim_si_code_syms, name, len, &v) != 0)
        return -1;
    *value = (int)(int64_t)v;
    return 0;
}

int sim_syscall_nr(const char *name, size_t len)
{
    /* valgrind prints most calls as "sys_NAME" */
    if (len > 4 && strncmp(name, "sys_", 4) == 0 && sim_syscall_nr(name + 4, len - 4) >= 0)
        return sim_syscall_nr(name + 4, len - 4);
    for (int i = 0; i < NSYSCALLS; i++)
        if (syscall_names[i] && syscall_names[i][0] == name[0] && name_eq(syscall_names[i], name, len))
            return i;
    return -1;
}

const char *sim_syscall_name(int nr)
{
    return nr >= 0 && nr < NSYSCALLS ? syscall_names[nr] : NULL;
}

/* ---- formatting ----------------------------------------------------------------- */

typedef struct outbuf {
    char *buf;
    size_t cap, len;
} outbuf;

static void put(outbuf *o, const char *s)
{
    for (; *s; s++, o->len++)
        if (o->len + 1 < o->cap)
            o->buf[o->len] = *s;
}

size_t sim_flags_format(const sim_symtab *t, uint64_t value, char *buf, size_t cap)
{
    outbuf o = {buf, cap, 0};
    uint64_t rest = value;
    bool any = false;
    const char *zero_name = NULL;
    for (size_t i = 0; i < t->n && !zero_name; i++)
        if (t->v[i].value == 0)
            zero_name = t->v[i].name;
    if (zero_name && (value == 0 || (t->zero_mask && (value & t->zero_mask) == 0))) {
        put(&o, zero_name);
        any = true;
    }
    /* Greedy in table order: multi-bit values (MAP_SHARED_VALIDATE, O_SYNC)
     * are listed before the bits they contain. */
    for (size_t i = 0; i < t->n && rest; i++) {
        uint64_t v = t->v[i].value;
        if (v == 0 || (rest & v) != v)
            continue;
        if (any)
            put(&o, "|");
        put(&o, t->v[i].name);
        rest &= ~v;
        any = true;
    }
    if (rest || !any) {
        char hex[24];
        snprintf(hex, sizeof hex, "%#llx", (unsigned long long)rest);
        if (any)
            put(&o, "|");
        put(&o, hex);
    }
    if (cap)
        buf[o.len < cap ? o.len : cap - 1] = '\0';
    return o.len;
}
