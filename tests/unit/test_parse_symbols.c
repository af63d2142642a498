/*
 * test_parse_symbols: the Linux x86-64 name tables of symbols.h.
 *
 * The library defines its own constants so replay semantics do not depend
 * on the host; this test compares them with the host's headers where the
 * host is x86-64 Linux (values the headers lack are skipped), checks the
 * values the brief and traces/README.md spell out, lookups in both
 * directions, and the strace-style formatter.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "strace_parse.h"
#include "symbols.h"

static unsigned host_checked;

/* SIM_x == x when the host defines x (x86-64 Linux hosts only). */
#if defined(__x86_64__) && defined(__linux__)
#define HOST(x)                                                                                            \
    do {                                                                                                   \
        assert_int_equal((uint64_t)(SIM_##x), (uint64_t)(x));                                              \
        host_checked++;                                                                                    \
    } while (0)
#else
#define HOST(x) ((void)0)
#endif

static void test_host_mman(void **state)
{
    (void)state;
#ifdef PROT_READ
    HOST(PROT_NONE); HOST(PROT_READ); HOST(PROT_WRITE); HOST(PROT_EXEC);
#endif
#ifdef PROT_GROWSDOWN
    HOST(PROT_GROWSDOWN); HOST(PROT_GROWSUP);
#endif
    HOST(MAP_SHARED); HOST(MAP_PRIVATE); HOST(MAP_FIXED); HOST(MAP_ANONYMOUS);
#ifdef MAP_SHARED_VALIDATE
    HOST(MAP_SHARED_VALIDATE);
#endif
#ifdef MAP_GROWSDOWN
    HOST(MAP_32BIT); HOST(MAP_GROWSDOWN); HOST(MAP_DENYWRITE); HOST(MAP_EXECUTABLE); HOST(MAP_LOCKED);
    HOST(MAP_NORESERVE); HOST(MAP_POPULATE); HOST(MAP_NONBLOCK); HOST(MAP_STACK); HOST(MAP_HUGETLB);
#endif
#ifdef MAP_SYNC
    HOST(MAP_SYNC);
#endif
#ifdef MAP_FIXED_NOREPLACE
    HOST(MAP_FIXED_NOREPLACE);
#endif
#ifdef MAP_HUGE_SHIFT
    HOST(MAP_HUGE_SHIFT);
#endif
#ifdef MREMAP_MAYMOVE
    HOST(MREMAP_MAYMOVE); HOST(MREMAP_FIXED);
#endif
#ifdef MREMAP_DONTUNMAP
    HOST(MREMAP_DONTUNMAP);
#endif
    HOST(MS_ASYNC); HOST(MS_INVALIDATE); HOST(MS_SYNC);
    HOST(MCL_CURRENT); HOST(MCL_FUTURE);
#ifdef MCL_ONFAULT
    HOST(MCL_ONFAULT);
#endif
#ifdef MLOCK_ONFAULT
    HOST(MLOCK_ONFAULT);
#endif
    HOST(MADV_NORMAL); HOST(MADV_RANDOM); HOST(MADV_SEQUENTIAL); HOST(MADV_WILLNEED); HOST(MADV_DONTNEED);
#ifdef MADV_FREE
    HOST(MADV_FREE);
#endif
#ifdef MADV_REMOVE
    HOST(MADV_REMOVE); HOST(MADV_DONTFORK); HOST(MADV_DOFORK); HOST(MADV_MERGEABLE); HOST(MADV_UNMERGEABLE);
    HOST(MADV_HUGEPAGE); HOST(MADV_NOHUGEPAGE); HOST(MADV_DONTDUMP); HOST(MADV_DODUMP); HOST(MADV_HWPOISON);
#endif
#ifdef MADV_WIPEONFORK
    HOST(MADV_WIPEONFORK); HOST(MADV_KEEPONFORK);
#endif
#ifdef MADV_COLD
    HOST(MADV_COLD); HOST(MADV_PAGEOUT);
#endif
#ifdef MADV_POPULATE_READ
    HOST(MADV_POPULATE_READ); HOST(MADV_POPULATE_WRITE);
#endif
#ifdef MADV_DONTNEED_LOCKED
    HOST(MADV_DONTNEED_LOCKED);
#endif
#ifdef MADV_COLLAPSE
    HOST(MADV_COLLAPSE);
#endif
#ifdef MFD_CLOEXEC
    HOST(MFD_CLOEXEC); HOST(MFD_ALLOW_SEALING); HOST(MFD_HUGETLB);
#endif
#ifdef MFD_NOEXEC_SEAL
    HOST(MFD_NOEXEC_SEAL); HOST(MFD_EXEC);
#endif
}

static void test_host_clone_ipc_fcntl(void **state)
{
    (void)state;
#ifdef CLONE_VM
    HOST(CLONE_VM); HOST(CLONE_FS); HOST(CLONE_FILES); HOST(CLONE_SIGHAND); HOST(CLONE_PTRACE);
    HOST(CLONE_VFORK); HOST(CLONE_PARENT); HOST(CLONE_THREAD); HOST(CLONE_NEWNS); HOST(CLONE_SYSVSEM);
    HOST(CLONE_SETTLS); HOST(CLONE_PARENT_SETTID); HOST(CLONE_CHILD_CLEARTID); HOST(CLONE_DETACHED);
    HOST(CLONE_UNTRACED); HOST(CLONE_CHILD_SETTID); HOST(CLONE_NEWCGROUP); HOST(CLONE_NEWUTS);
    HOST(CLONE_NEWIPC); HOST(CLONE_NEWUSER); HOST(CLONE_NEWPID); HOST(CLONE_NEWNET); HOST(CLONE_IO);
#endif
#ifdef CLONE_PIDFD
    HOST(CLONE_PIDFD);
#endif
#ifdef CLONE_NEWTIME
    HOST(CLONE_NEWTIME);
#endif
    HOST(IPC_PRIVATE); HOST(IPC_CREAT); HOST(IPC_EXCL); HOST(IPC_NOWAIT);
    HOST(IPC_RMID); HOST(IPC_SET); HOST(IPC_STAT);
#ifdef IPC_INFO
    HOST(IPC_INFO); HOST(SHM_LOCK); HOST(SHM_UNLOCK); HOST(SHM_STAT); HOST(SHM_INFO);
#endif
#ifdef SHM_STAT_ANY
    HOST(SHM_STAT_ANY);
#endif
    HOST(SHM_RDONLY); HOST(SHM_RND);
#ifdef SHM_REMAP
    HOST(SHM_REMAP);
#endif
#ifdef SHM_EXEC
    HOST(SHM_EXEC);
#endif
#ifdef SHM_HUGETLB
    HOST(SHM_HUGETLB); HOST(SHM_NORESERVE);
#endif
    /* O_LARGEFILE is 0 in x86-64 user space but strace prints the kernel's 0x8000 */
    HOST(O_RDONLY); HOST(O_WRONLY); HOST(O_RDWR); HOST(O_CREAT); HOST(O_EXCL); HOST(O_NOCTTY);
    HOST(O_TRUNC); HOST(O_APPEND); HOST(O_NONBLOCK); HOST(O_DSYNC); HOST(O_DIRECTORY); HOST(O_NOFOLLOW);
    HOST(O_CLOEXEC); HOST(O_SYNC); HOST(O_ACCMODE);
#ifdef O_DIRECT
    HOST(O_DIRECT); HOST(O_NOATIME); HOST(O_PATH); HOST(O_TMPFILE); HOST(O_ASYNC);
#endif
    HOST(F_DUPFD); HOST(F_GETFD); HOST(F_SETFD); HOST(F_GETFL); HOST(F_SETFL); HOST(F_SETOWN);
    HOST(F_GETOWN); HOST(FD_CLOEXEC); HOST(F_DUPFD_CLOEXEC);
#ifdef F_OFD_GETLK
    HOST(F_OFD_GETLK); HOST(F_OFD_SETLK); HOST(F_OFD_SETLKW);
#endif
#ifdef F_ADD_SEALS
    HOST(F_SETPIPE_SZ); HOST(F_GETPIPE_SZ); HOST(F_ADD_SEALS); HOST(F_GET_SEALS); HOST(F_SETLEASE);
    HOST(F_GETLEASE); HOST(F_NOTIFY); HOST(F_SETSIG); HOST(F_GETSIG);
#endif
    HOST(AT_FDCWD); HOST(AT_SYMLINK_NOFOLLOW); HOST(AT_REMOVEDIR); HOST(AT_SYMLINK_FOLLOW);
#ifdef AT_EMPTY_PATH
    HOST(AT_NO_AUTOMOUNT); HOST(AT_EMPTY_PATH);
#endif
#ifdef AT_STATX_SYNC_AS_STAT
    HOST(AT_STATX_SYNC_AS_STAT); HOST(AT_STATX_FORCE_SYNC); HOST(AT_STATX_DONT_SYNC);
#endif
    HOST(EFD_SEMAPHORE); HOST(EFD_NONBLOCK); HOST(EFD_CLOEXEC); HOST(EPOLL_CLOEXEC);
    HOST(SOCK_STREAM); HOST(SOCK_DGRAM); HOST(SOCK_RAW); HOST(SOCK_RDM); HOST(SOCK_SEQPACKET);
    HOST(SOCK_NONBLOCK); HOST(SOCK_CLOEXEC);
    HOST(WNOHANG); HOST(WUNTRACED); HOST(WEXITED); HOST(WCONTINUED); HOST(WNOWAIT);
    HOST(__WNOTHREAD); HOST(__WALL); HOST(__WCLONE);
}

static void test_host_signals_errno(void **state)
{
    (void)state;
    HOST(SIGHUP); HOST(SIGINT); HOST(SIGQUIT); HOST(SIGILL); HOST(SIGTRAP); HOST(SIGABRT); HOST(SIGBUS);
    HOST(SIGFPE); HOST(SIGKILL); HOST(SIGUSR1); HOST(SIGSEGV); HOST(SIGUSR2); HOST(SIGPIPE); HOST(SIGALRM);
    HOST(SIGTERM); HOST(SIGSTKFLT); HOST(SIGCHLD); HOST(SIGCONT); HOST(SIGSTOP); HOST(SIGTSTP);
    HOST(SIGTTIN); HOST(SIGTTOU); HOST(SIGURG); HOST(SIGXCPU); HOST(SIGXFSZ); HOST(SIGVTALRM);
    HOST(SIGPROF); HOST(SIGWINCH); HOST(SIGIO); HOST(SIGPWR); HOST(SIGSYS);
    /* every errno the host knows by a name in our table has the same number */
    for (size_t i = 0; i < sim_errno_syms.n; i++) {
        const char *name = sim_errno_syms.v[i].name;
        int v = (int)sim_errno_syms.v[i].value;
        if (v < 512) {
#if defined(__x86_64__) && defined(__linux__)
            /* strerror of a known number is never the "Unknown error" text */
            assert_null(strstr(strerror(v), "Unknown error"));
            host_checked++;
#endif
        }
        assert_int_equal(sim_errno_value(name, strlen(name)), v);
    }
    HOST(EPERM); HOST(ENOENT); HOST(EINTR); HOST(EBADF); HOST(ECHILD); HOST(EAGAIN); HOST(ENOMEM);
    HOST(EACCES); HOST(EFAULT); HOST(EBUSY); HOST(EEXIST); HOST(ENODEV); HOST(ENOTDIR); HOST(EISDIR);
    HOST(EINVAL); HOST(ENFILE); HOST(EMFILE); HOST(ENOTTY); HOST(ETXTBSY); HOST(EFBIG); HOST(ENOSPC);
    HOST(ESPIPE); HOST(EROFS); HOST(EMLINK); HOST(EPIPE); HOST(ERANGE); HOST(EDEADLK); HOST(ENAMETOOLONG);
    HOST(ENOLCK); HOST(ENOSYS); HOST(ENOTEMPTY); HOST(ELOOP); HOST(ENOMSG); HOST(EIDRM); HOST(ENODATA);
    HOST(ETIME); HOST(EOVERFLOW); HOST(EBADFD); HOST(EILSEQ); HOST(ENOTSOCK); HOST(EOPNOTSUPP);
    HOST(EADDRINUSE); HOST(ECONNREFUSED); HOST(ETIMEDOUT); HOST(ESTALE); HOST(EDQUOT); HOST(ECANCELED);
    HOST(EOWNERDEAD); HOST(ENOTRECOVERABLE); HOST(ERFKILL); HOST(EHWPOISON); HOST(ENXIO); HOST(E2BIG);
    HOST(EXDEV); HOST(ESRCH); HOST(EIO); HOST(ENOEXEC); HOST(EDOM); HOST(ENOTBLK); HOST(EREMOTEIO);
}

static void test_host_syscalls(void **state)
{
    (void)state;
#if defined(__x86_64__) && defined(__linux__)
    static const struct {
        const char *name;
        long nr;
    } host[] = {
        {"read", SYS_read},         {"mmap", SYS_mmap},         {"mprotect", SYS_mprotect},
        {"munmap", SYS_munmap},     {"brk", SYS_brk},           {"mremap", SYS_mremap},
        {"msync", SYS_msync},       {"mincore", SYS_mincore},   {"madvise", SYS_madvise},
        {"shmget", SYS_shmget},     {"shmat", SYS_shmat},       {"shmctl", SYS_shmctl},
        {"shmdt", SYS_shmdt},       {"clone", SYS_clone},       {"fork", SYS_fork},
        {"vfork", SYS_vfork},       {"execve", SYS_execve},     {"exit", SYS_exit},
        {"wait4", SYS_wait4},       {"fcntl", SYS_fcntl},       {"ftruncate", SYS_ftruncate},
        {"mlock", SYS_mlock},       {"munlock", SYS_munlock},   {"mlockall", SYS_mlockall},
        {"arch_prctl", SYS_arch_prctl}, {"exit_group", SYS_exit_group}, {"openat", SYS_openat},
        {"newfstatat", SYS_newfstatat}, {"unlinkat", SYS_unlinkat}, {"pipe2", SYS_pipe2},
        {"prlimit64", SYS_prlimit64}, {"memfd_create", SYS_memfd_create}, {"mlock2", SYS_mlock2},
        {"pkey_mprotect", SYS_pkey_mprotect}, {"statx", SYS_statx},
#ifdef SYS_clone3
        {"clone3", SYS_clone3},
#endif
#ifdef SYS_process_madvise
        {"process_madvise", SYS_process_madvise},
#endif
    };
    for (size_t i = 0; i < sizeof host / sizeof host[0]; i++) {
        assert_int_equal(sim_syscall_nr(host[i].name, strlen(host[i].name)), host[i].nr);
        assert_string_equal(sim_syscall_name((int)host[i].nr), host[i].name);
        host_checked++;
    }
#endif
    assert_int_equal(sim_syscall_nr("sys_mmap", 8), 9);
    assert_int_equal(sim_syscall_nr("clone3", 6), 435);
    assert_int_equal(sim_syscall_nr("mseal", 5), 462);
    assert_int_equal(sim_syscall_nr("no_such_call", 12), -1);
    assert_int_equal(sim_syscall_nr("sys_", 4), -1);
    assert_null(sim_syscall_name(-1));
    assert_null(sim_syscall_name(100000));
    assert_null(sim_syscall_name(335)); /* a hole in the x86-64 table */
}

/* The values the brief spells out, independent of any host. */
static void test_brief_values(void **state)
{
    (void)state;
    static const struct {
        const sim_symtab *t;
        const char *name;
        uint64_t v;
    } want[] = {
        {&sim_map_syms, "MAP_SHARED", 0x1},          {&sim_map_syms, "MAP_PRIVATE", 0x2},
        {&sim_map_syms, "MAP_SHARED_VALIDATE", 0x3}, {&sim_map_syms, "MAP_FIXED", 0x10},
        {&sim_map_syms, "MAP_ANONYMOUS", 0x20},      {&sim_map_syms, "MAP_GROWSDOWN", 0x100},
        {&sim_map_syms, "MAP_DENYWRITE", 0x800},     {&sim_map_syms, "MAP_EXECUTABLE", 0x1000},
        {&sim_map_syms, "MAP_LOCKED", 0x2000},       {&sim_map_syms, "MAP_NORESERVE", 0x4000},
        {&sim_map_syms, "MAP_POPULATE", 0x8000},     {&sim_map_syms, "MAP_NONBLOCK", 0x10000},
        {&sim_map_syms, "MAP_STACK", 0x20000},       {&sim_map_syms, "MAP_HUGETLB", 0x40000},
        {&sim_map_syms, "MAP_SYNC", 0x80000},        {&sim_map_syms, "MAP_FIXED_NOREPLACE", 0x100000},
        {&sim_map_syms, "MAP_ANON", 0x20},           {&sim_mremap_syms, "MREMAP_MAYMOVE", 1},
        {&sim_mremap_syms, "MREMAP_FIXED", 2},       {&sim_mremap_syms, "MREMAP_DONTUNMAP", 4},
        {&sim_ms_syms, "MS_ASYNC", 1},               {&sim_ms_syms, "MS_INVALIDATE", 2},
        {&sim_ms_syms, "MS_SYNC", 4},                {&sim_mlock_syms, "MLOCK_ONFAULT", 1},
        {&sim_madv_syms, "MADV_DONTNEED", 4},        {&sim_madv_syms, "MADV_FREE", 8},
        {&sim_madv_syms, "MADV_WILLNEED", 3},        {&sim_madv_syms, "MADV_DONTFORK", 10},
        {&sim_madv_syms, "MADV_WIPEONFORK", 18},     {&sim_madv_syms, "MADV_GUARD_REMOVE", 103},
        {&sim_prot_syms, "PROT_NONE", 0},            {&sim_open_syms, "O_LARGEFILE", 0x8000},
        {&sim_open_syms, "O_RDONLY", 0},             {&sim_clone_syms, "CLONE_THREAD", 0x10000},
        {&sim_clone_syms, "CLONE_INTO_CGROUP", 0x200000000ULL},
        {&sim_errno_syms, "ERESTARTSYS", 512},       {&sim_errno_syms, "EWOULDBLOCK", 11},
        {&sim_errno_syms, "ENOTSUP", 95},            {&sim_shmctl_syms, "IPC_RMID", 0},
        {&sim_shmget_syms, "IPC_CREAT", 01000},      {&sim_signal_syms, "SIGRT_3", 35},
        {&sim_signal_syms, "SIGRTMIN", 32},          {&sim_rlimit_syms, "RLIMIT_STACK", 3},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        uint64_t v = 12345;
        assert_int_equal(sim_sym_lookup(want[i].t, want[i].name, strlen(want[i].name), &v), 0);
        assert_int_equal(v, want[i].v);
    }
}

static void test_lookups(void **state)
{
    (void)state;
    uint64_t v;
    /* the name need not be NUL-terminated: length decides */
    assert_int_equal(sim_sym_lookup(&sim_prot_syms, "PROT_READ|PROT_WRITE", 9, &v), 0);
    assert_int_equal(v, SIM_PROT_READ);
    assert_int_equal(sim_sym_lookup(&sim_prot_syms, "PROT_REA", 8, &v), -1);
    assert_int_equal(sim_sym_lookup(&sim_prot_syms, "", 0, &v), -1);
    assert_string_equal(sim_sym_name(&sim_map_syms, 0x20), "MAP_ANONYMOUS"); /* canonical, not MAP_ANON */
    assert_null(sim_sym_name(&sim_madv_syms, 77));
    assert_string_equal(sim_errno_name(11), "EAGAIN");
    assert_string_equal(sim_errno_name(35), "EDEADLK");
    assert_string_equal(sim_errno_name(512), "ERESTARTSYS");
    assert_null(sim_errno_name(41));
    assert_null(sim_errno_name(-1));
    assert_int_equal(sim_errno_value("ENOENT", 6), 2);
    assert_int_equal(sim_errno_value("ENOENTX", 7), -1);
    assert_int_equal(sim_signal_value("SIGCHLD", 7), 17);
    assert_int_equal(sim_signal_value("SIGCLD", 6), 17);
    assert_string_equal(sim_signal_name(17), "SIGCHLD");
    assert_string_equal(sim_signal_name(6), "SIGABRT");
    assert_null(sim_signal_name(0));
    assert_int_equal(sim_signal_value("SIGFOO", 6), -1);
    int code;
    assert_int_equal(sim_si_code_value("SEGV_ACCERR", 11, &code), 0);
    assert_int_equal(code, 2);
    assert_int_equal(sim_si_code_value("SI_TKILL", 8, &code), 0);
    assert_int_equal(code, -6);
    assert_int_equal(sim_si_code_value("SI_KERNEL", 9, &code), 0);
    assert_int_equal(code, 0x80);
    assert_int_equal(sim_si_code_value("SEGV_NOPE", 9, &code), -1);
    /* every errno number 1..133 except the two holes has a name */
    for (int e = 1; e <= 133; e++)
        if (e != 41 && e != 58)
            assert_non_null(sim_errno_name(e));
}

static void test_tables_have_unique_names(void **state)
{
    (void)state;
    const sim_symtab *all[] = {&sim_prot_syms,  &sim_map_syms,     &sim_mremap_syms, &sim_ms_syms,
                               &sim_mcl_syms,   &sim_mlock_syms,   &sim_clone_syms,  &sim_open_syms,
                               &sim_mfd_syms,   &sim_shmget_syms,  &sim_shmat_syms,  &sim_at_syms,
                               &sim_fd_syms,    &sim_efd_syms,     &sim_epoll_syms,  &sim_sock_syms,
                               &sim_wait_syms,  &sim_madv_syms,    &sim_ipc_key_syms, &sim_shmctl_syms,
                               &sim_fcntl_syms, &sim_rlimit_syms,  &sim_signal_syms, &sim_si_code_syms,
                               &sim_errno_syms};
    for (size_t t = 0; t < sizeof all / sizeof all[0]; t++) {
        assert_true(all[t]->n > 0);
        assert_non_null(all[t]->what);
        for (size_t i = 0; i < all[t]->n; i++)
            for (size_t j = i + 1; j < all[t]->n; j++)
                assert_string_not_equal(all[t]->v[i].name, all[t]->v[j].name);
    }
}

static void check_format(const sim_symtab *t, uint64_t v, const char *want)
{
    char buf[256];
    size_t n = sim_flags_format(t, v, buf, sizeof buf);
    assert_string_equal(buf, want);
    assert_int_equal(n, strlen(want));
    uint64_t back;
    assert_int_equal(strace_arg_flags(buf, t, &back), 0); /* parses back to the same value */
    assert_int_equal(back, v);
}

static void test_format(void **state)
{
    (void)state;
    check_format(&sim_prot_syms, 0, "PROT_NONE");
    check_format(&sim_prot_syms, 3, "PROT_READ|PROT_WRITE");
    check_format(&sim_prot_syms, 0x11, "PROT_READ|0x10");
    check_format(&sim_map_syms, 0x22, "MAP_PRIVATE|MAP_ANONYMOUS");
    check_format(&sim_map_syms, 0x3, "MAP_SHARED_VALIDATE");
    check_format(&sim_map_syms, 0x4022, "MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE");
    check_format(&sim_map_syms, 0, "MAP_FILE");
    check_format(&sim_open_syms, 0x80000, "O_RDONLY|O_CLOEXEC");
    check_format(&sim_open_syms, 0x242, "O_RDWR|O_CREAT|O_TRUNC");
    check_format(&sim_open_syms, 0x101000, "O_RDONLY|O_SYNC");
    check_format(&sim_at_syms, 0x800, "AT_STATX_SYNC_AS_STAT|AT_NO_AUTOMOUNT");
    check_format(&sim_madv_syms, 0, "MADV_NORMAL");
    check_format(&sim_mremap_syms, 0, "0");
    check_format(&sim_clone_syms, SIM_CLONE_VM | SIM_CLONE_VFORK, "CLONE_VM|CLONE_VFORK");
    char small[8];
    size_t need = sim_flags_format(&sim_prot_syms, 3, small, sizeof small);
    assert_int_equal(need, strlen("PROT_READ|PROT_WRITE"));
    assert_string_equal(small, "PROT_RE");
    assert_int_equal(sim_flags_format(&sim_prot_syms, 3, NULL, 0), need);
}

static void test_host_coverage(void **state)
{
    (void)state;
#if defined(__x86_64__) && defined(__linux__)
    print_message("%u values compared with the host's headers\n", host_checked);
    assert_true(host_checked > 200);
#else
    print_message("not an x86-64 Linux host: host comparison skipped\n");
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host_mman),
        cmocka_unit_test(test_host_clone_ipc_fcntl),
        cmocka_unit_test(test_host_signals_errno),
        cmocka_unit_test(test_host_syscalls),
        cmocka_unit_test(test_brief_values),
        cmocka_unit_test(test_lookups),
        cmocka_unit_test(test_tables_have_unique_names),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_host_coverage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
