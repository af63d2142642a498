/*
 * test_parse_strace: strace_parse on literal lines of every shape described
 * in traces/README.md ("strace.txt: what a replayer must parse", "Pitfalls"),
 * the argument helpers, malformed input reported with the right line
 * numbers, and garbage that must never crash the parser.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strace_parse.h"

/* ---- helpers ---------------------------------------------------------------- */

static strace_trace parse(const char *text)
{
    strace_trace t;
    assert_int_equal(strace_parse(text, strlen(text), &t), 0);
    return t;
}

/* Parses one line that must give exactly one event and no problem. */
static strace_trace parse_one(const char *line)
{
    strace_trace t = parse(line);
    for (size_t i = 0; i < t.problems.n; i++)
        print_error("unexpected problem line %u: %s\n", t.problems.v[i].line, t.problems.v[i].reason);
    assert_int_equal(t.problems.n, 0);
    assert_int_equal(t.n, 1);
    return t;
}

static bool has_problem_at(const strace_trace *t, uint32_t line)
{
    for (size_t i = 0; i < t->problems.n; i++)
        if (t->problems.v[i].line == line)
            return true;
    return false;
}

/* ---- complete calls --------------------------------------------------------- */

static void test_mmap_file(void **state)
{
    (void)state;
    strace_trace t = parse_one("22653 1795313689.494834 mmap(0x7f686102a000, 1400832, PROT_READ|PROT_EXEC, "
                               "MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3</usr/lib/x86_64-linux-gnu/libc.so.6>, "
                               "0x26000) = 0x7f686102a000\n");
    const strace_event *e = &t.ev[0];
    assert_int_equal(e->kind, STRACE_SYSCALL);
    assert_int_equal(e->tid, 22653);
    assert_int_equal(e->ts_us, 1795313689494834LL);
    assert_int_equal(e->entry_ts_us, e->ts_us);
    assert_int_equal(e->line, 1);
    assert_int_equal(e->entry_line, 1);
    assert_false(e->joined);
    assert_string_equal(e->sc.name, "mmap");
    assert_int_equal(e->sc.nr, 9);
    assert_int_equal(e->sc.nargs, 6);
    assert_string_equal(e->sc.args[0], "0x7f686102a000");
    assert_string_equal(e->sc.args[2], "PROT_READ|PROT_EXEC");
    assert_string_equal(e->sc.args[4], "3</usr/lib/x86_64-linux-gnu/libc.so.6>");
    assert_int_equal(e->sc.ret_kind, STRACE_RET_VALUE);
    assert_int_equal((uint64_t)e->sc.ret, 0x7f686102a000ULL);

    uint64_t v;
    assert_int_equal(strace_arg_u64(e->sc.args[0], &v), 0);
    assert_int_equal(v, 0x7f686102a000ULL);
    assert_int_equal(strace_arg_u64(e->sc.args[1], &v), 0);
    assert_int_equal(v, 1400832);
    assert_int_equal(strace_arg_flags(e->sc.args[2], &sim_prot_syms, &v), 0);
    assert_int_equal(v, SIM_PROT_READ | SIM_PROT_EXEC);
    assert_int_equal(strace_arg_flags(e->sc.args[3], &sim_map_syms, &v), 0);
    assert_int_equal(v, SIM_MAP_PRIVATE | SIM_MAP_FIXED | SIM_MAP_DENYWRITE);
    char path[256];
    strace_fd fd;
    assert_int_equal(strace_arg_fd(e->sc.args[4], &fd, path, sizeof path), 0);
    assert_int_equal(fd.fd, 3);
    assert_true(fd.has_path);
    assert_false(fd.deleted);
    assert_string_equal(fd.path, "/usr/lib/x86_64-linux-gnu/libc.so.6");
    assert_int_equal(strace_arg_u64(e->sc.args[5], &v), 0);
    assert_int_equal(v, 0x26000);
    strace_trace_free(&t);
}

static void test_padded_brk_and_anonymous(void **state)
{
    (void)state;
    strace_trace t = parse("22653 1795313689.494370 brk(NULL)       = 0x5627ce8cc000\n"
                           "24451 1795313751.506828 mmap(0x5680000, 537128960, PROT_NONE, "
                           "MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE, -1, 0) = 0x7f64837c0000\n");
    assert_int_equal(t.problems.n, 0);
    assert_int_equal(t.n, 2);
    assert_string_equal(t.ev[0].sc.args[0], "NULL");
    assert_int_equal((uint64_t)t.ev[0].sc.ret, 0x5627ce8cc000ULL);
    int64_t v;
    assert_int_equal(strace_arg_int(t.ev[0].sc.args[0], &v), 0);
    assert_int_equal(v, 0);
    uint64_t prot;
    assert_int_equal(strace_arg_flags(t.ev[1].sc.args[2], &sim_prot_syms, &prot), 0);
    assert_int_equal(prot, SIM_PROT_NONE);
    strace_fd fd;
    char path[16];
    assert_int_equal(strace_arg_fd(t.ev[1].sc.args[4], &fd, path, sizeof path), 0);
    assert_int_equal(fd.fd, -1);
    assert_false(fd.has_path);
    assert_null(fd.path);
    assert_int_equal(t.ev[1].line, 2);
    strace_trace_free(&t);
}

static void test_openat_success_and_failure(void **state)
{
    (void)state;
    strace_trace t = parse(
        "24391 1795313749.387884 openat(AT_FDCWD</tmp/mmcap/run/mm_exerciser>, \"/etc/ld.so.cache\", "
        "O_RDONLY|O_CLOEXEC) = 3</etc/ld.so.cache>\n"
        "24391 1795313749.389347 openat(AT_FDCWD</tmp/mmcap/run/mm_exerciser>, "
        "\"/usr/lib/locale/locale-archive\", O_RDONLY|O_CLOEXEC) = -1 ENOENT (No such file or directory)\n");
    assert_int_equal(t.problems.n, 0);
    assert_int_equal(t.n, 2);
    const strace_syscall *ok = &t.ev[0].sc, *bad = &t.ev[1].sc;
    assert_int_equal(ok->ret_kind, STRACE_RET_VALUE);
    assert_int_equal(ok->ret, 3);
    assert_string_equal(ok->ret_path, "/etc/ld.so.cache");
    assert_false(ok->ret_deleted);
    assert_null(ok->err_name);
    strace_fd fd;
    char path[256];
    assert_int_equal(strace_arg_fd(ok->args[0], &fd, path, sizeof path), 0);
    assert_int_equal(fd.fd, SIM_AT_FDCWD);
    assert_string_equal(fd.path, "/tmp/mmcap/run/mm_exerciser");
    char s[256];
    assert_int_equal(strace_arg_string(ok->args[1], s, sizeof s, NULL, NULL), 0);
    assert_string_equal(s, "/etc/ld.so.cache");
    uint64_t fl;
    assert_int_equal(strace_arg_flags(ok->args[2], &sim_open_syms, &fl), 0);
    assert_int_equal(fl, SIM_O_RDONLY | SIM_O_CLOEXEC);

    assert_int_equal(bad->ret_kind, STRACE_RET_ERROR);
    assert_int_equal(bad->ret, -1);
    assert_int_equal(bad->err, 2);
    assert_string_equal(bad->err_name, "ENOENT");
    assert_string_equal(bad->ret_comment, "No such file or directory");
    assert_null(bad->ret_path);
    strace_trace_free(&t);
}

static void test_execve_delayed_and_comment_arg(void **state)
{
    (void)state;
    strace_trace t = parse_one("22653 1795313689.497318 execve(\"/usr/bin/gcc\", [\"gcc\", \"-O2\", \"-Wall\", "
                               "\"-o\", \"hello\", \"hello.c\"], 0x7fff197f6138 /* 6 vars */) = 0 (DELAYED)");
    const strace_syscall *sc = &t.ev[0].sc;
    assert_int_equal(sc->nargs, 3);
    assert_string_equal(sc->args[2], "0x7fff197f6138 /* 6 vars */");
    assert_true(sc->delayed);
    assert_string_equal(sc->ret_comment, "DELAYED");
    assert_int_equal(sc->ret_kind, STRACE_RET_VALUE);
    assert_int_equal(sc->ret, 0);
    uint64_t env;
    assert_int_equal(strace_arg_u64(sc->args[2], &env), 0);
    assert_int_equal(env, 0x7fff197f6138ULL);
    strace_span items[8];
    assert_int_equal(strace_split(sc->args[1], strlen(sc->args[1]), items, 8), 6);
    assert_int_equal(items[5].len, 9); /* "hello.c" with quotes */
    strace_trace_free(&t);
}

static void test_fcntl_flags_comment(void **state)
{
    (void)state;
    strace_trace t = parse_one("24024 1795313694.555381 fcntl(3</tmp/mmcap/run/git_ops/repo/.git/HEAD.lock>, "
                               "F_GETFL) = 0x8002 (flags O_RDWR|O_LARGEFILE)");
    assert_int_equal(t.ev[0].sc.ret, 0x8002);
    assert_string_equal(t.ev[0].sc.ret_comment, "flags O_RDWR|O_LARGEFILE");
    assert_false(t.ev[0].sc.delayed);
    uint64_t cmd;
    assert_int_equal(strace_arg_flags(t.ev[0].sc.args[1], &sim_fcntl_syms, &cmd), 0);
    assert_int_equal(cmd, SIM_F_GETFL);
    strace_trace_free(&t);
}

/* ---- unfinished / resumed -------------------------------------------------------- */

static void test_join_vfork_across_other_tids(void **state)
{
    (void)state;
    strace_trace t = parse(
        "22653 1795313689.699785 vfork( <unfinished ...>\n"
        "22654 1795313689.699853 close(3<pipe:[51246]>) = 0\n"
        "22654 1795313689.699883 execve(\"/usr/lib/gcc/x86_64-linux-gnu/12/cc1\", [\"cc1\", \"-quiet\"], "
        "0x32c27ce0 /* 11 vars */ <unfinished ...>\n"
        "22653 1795313689.700022 <... vfork resumed>) = 22654\n"
        "22654 1795313689.700085 <... execve resumed>) = 0 (DELAYED)\n");
    assert_int_equal(t.problems.n, 0);
    assert_int_equal(t.n, 3);
    /* file order: close (line 2), vfork (resumed line 4), execve (resumed line 5) */
    assert_string_equal(t.ev[0].sc.name, "close");
    const strace_event *vf = &t.ev[1], *ex = &t.ev[2];
    assert_string_equal(vf->sc.name, "vfork");
    assert_true(vf->joined);
    assert_int_equal(vf->entry_line, 1);
    assert_int_equal(vf->line, 4);
    assert_int_equal(vf->entry_ts_us, 1795313689699785LL);
    assert_int_equal(vf->ts_us, 1795313689700022LL);
    assert_int_equal(vf->sc.nargs, 0);
    assert_int_equal(vf->sc.ret, 22654);
    assert_string_equal(ex->sc.name, "execve");
    assert_int_equal(ex->tid, 22654);
    assert_int_equal(ex->entry_line, 3);
    assert_int_equal(ex->line, 5);
    assert_int_equal(ex->sc.nargs, 3);
    assert_string_equal(ex->sc.args[2], "0x32c27ce0 /* 11 vars */");
    assert_true(ex->sc.delayed);
    strace_clone c;
    assert_int_equal(strace_clone_args(&vf->sc, &c), 0);
    assert_true(c.is_vfork);
    assert_true(c.shares_vm);
    assert_false(c.is_thread);
    assert_int_equal(c.exit_signal, SIM_SIGCHLD);
    strace_trace_free(&t);
}

static void test_join_args_split_across_halves(void **state)
{
    (void)state;
    strace_trace t = parse(
        "24032 1795313697.411000 newfstatat(3</usr/lib/x86_64-linux-gnu/libc.so.6>, \"\",  <unfinished ...>\n"
        "24033 1795313697.411100 brk(NULL) = 0x55eb8ef7e000\n"
        "24032 1795313697.411933 <... newfstatat resumed>{st_mode=S_IFREG|0755, st_size=1926232, ...}, "
        "AT_EMPTY_PATH) = 0\n"
        "24584 1795313775.134208 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD "
        "<unfinished ...>\n"
        "24584 1795313775.134900 <... clone resumed>, child_tidptr=0x7f7adac2c590) = 24585\n");
    assert_int_equal(t.problems.n, 0);
    assert_int_equal(t.n, 3);
    const strace_syscall *st = &t.ev[1].sc;
    assert_string_equal(st->name, "newfstatat");
    assert_int_equal(st->nargs, 4);
    assert_string_equal(st->args[1], "\"\"");
    assert_string_equal(st->args[3], "AT_EMPTY_PATH");
    strace_span v;
    assert_int_equal(strace_field(st->args[2], "st_size", &v), 0);
    assert_int_equal(v.len, 7);
    assert_memory_equal(v.p, "1926232", 7);
    assert_int_equal(strace_field(st->args[2], "st_blocks", &v), -ENOENT);

    const strace_syscall *cl = &t.ev[2].sc;
    assert_int_equal(cl->nargs, 3);
    assert_string_equal(cl->args[2], "child_tidptr=0x7f7adac2c590");
    strace_clone c;
    assert_int_equal(strace_clone_args(cl, &c), 0);
    assert_int_equal(c.flags, SIM_CLONE_CHILD_CLEARTID | SIM_CLONE_CHILD_SETTID);
    assert_int_equal(c.exit_signal, SIM_SIGCHLD);
    assert_int_equal(c.stack, 0);
    assert_false(c.is_thread);
    assert_false(c.shares_vm);
    strace_trace_free(&t);
}

static void test_clone3_struct(void **state)
{
    (void)state;
    strace_trace t = parse(
        "24451 1795313751.488612 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|"
        "CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7f64aa61d990, "
        "parent_tid=0x7f64aa61d990, exit_signal=0, stack=0x7f64a9e1d000, stack_size=0x7ffe80, "
        "tls=0x7f64aa61d6c0} => {parent_tid=[24452]}, 88) = 24452\n"
        "24000 1795313751.500000 clone3({flags=CLONE_VM|CLONE_VFORK, exit_signal=SIGCHLD, stack=0x7f0000000000, "
        "stack_size=0x9000}, 88 <unfinished ...>\n"
        "24000 1795313751.600000 <... clone3 resumed>) = 24001\n"
        "24451 1795313751.700000 clone3({flags=CLONE_VM|CLONE_THREAD, exit_signal=0, stack=0x1000, "
        "stack_size=0x1000, tls=0x2000} <unfinished ...>\n"
        "24451 1795313751.700100 <... clone3 resumed> => {parent_tid=[24460]}, 88) = 24460\n");
    assert_int_equal(t.problems.n, 0);
    assert_int_equal(t.n, 3);
    strace_clone c;
    assert_int_equal(t.ev[0].sc.nargs, 2);
    assert_string_equal(t.ev[0].sc.args[1], "88");
    assert_int_equal(strace_clone_args(&t.ev[0].sc, &c), 0);
    assert_true(c.is_thread);
    assert_true(c.shares_vm);
    assert_false(c.is_vfork);
    assert_int_equal(c.exit_signal, 0);
    assert_int_equal(c.stack, 0x7f64a9e1d000ULL);
    assert_int_equal(c.stack_size, 0x7ffe80);
    assert_int_equal(c.tls, 0x7f64aa61d6c0ULL);
    assert_true(c.flags & SIM_CLONE_SETTLS);
    assert_int_equal(strace_clone_args(&t.ev[1].sc, &c), 0);
    assert_true(c.is_vfork);
    assert_false(c.is_thread);
    assert_int_equal(c.exit_signal, SIM_SIGCHLD);
    assert_int_equal(t.ev[1].sc.ret, 24001);
    assert_true(t.ev[2].joined);
    assert_int_equal(t.ev[2].sc.ret, 24460);
    assert_int_equal(strace_clone_args(&t.ev[2].sc, &c), 0);
    assert_true(c.is_thread);
    /* not a clone */
    strace_trace u = parse_one("1 1.000001 close(3) = 0");
    assert_int_equal(strace_clone_args(&u.ev[0].sc, &c), -EINVAL);
    strace_trace_free(&u);
    strace_trace_free(&t);
}

static void test_exit_calls_and_task_ends(void **state)
{
    (void)state;
    strace_trace t = parse("22654 1795313689.953670 exit_group(0)   = ?\n"
                           "22654 1795313689.953700 +++ exited with 0 +++\n"
                           "24032 1795313697.630986 exit_group(1 <unfinished ...>\n"
                           "24032 1795313697.830986 <... exit_group resumed>) = ?\n"
                           "24032 1795313697.831000 +++ exited with 1 +++\n"
                           "24767 1795313791.322898 +++ killed by SIGPIPE +++\n"
                           "24768 1795313791.322899 +++ killed by SIGSEGV (core dumped) +++\n"
                           "24769 1795313791.322900 +++ superseded by execve in pid 24760 +++\n");
    assert_int_equal(t.problems.n, 0);
    assert_int_equal(t.n, 7);
    assert_int_equal(t.ev[0].sc.ret_kind, STRACE_RET_NONE);
    assert_true(t.ev[0].sc.ret_unknown);
    assert_int_equal(t.ev[1].kind, STRACE_EXITED);
    assert_int_equal(t.ev[1].exit_status, 0);
    assert_true(t.ev[2].joined);
    assert_int_equal(t.ev[2].sc.ret_kind, STRACE_RET_NONE);
    assert_int_equal(t.ev[2].sc.nargs, 1);
    assert_string_equal(t.ev[2].sc.args[0], "1");
    assert_int_equal(t.ev[2].entry_ts_us, 1795313697630986LL);
    assert_int_equal(t.ev[3].exit_status, 1);
    assert_int_equal(t.ev[4].kind, STRACE_KILLED);
    assert_string_equal(t.ev[4].killed.name, "SIGPIPE");
    assert_int_equal(t.ev[4].killed.signo, SIM_SIGPIPE);
    assert_false(t.ev[4].killed.core_dumped);
    assert_true(t.ev[5].killed.core_dumped);
    assert_int_equal(t.ev[5].killed.signo, SIM_SIGSEGV);
    assert_int_equal(t.ev[6].kind, STRACE_SUPERSEDED);
    assert_int_equal(t.ev[6].new_pid, 24760);
    strace_trace_free(&t);
}

static void test_erestartsys(void **state)
{
    (void)state;
    strace_trace t = parse("100 1.000001 wait4(-1,  <unfinished ...>\n"
                           "100 1.000002 <... wait4 resumed>0x7fff0000, 0, NULL) = ? ERESTARTSYS "
                           "(To be restarted if SA_RESTART is set)\n"
                           "100 1.000003 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=101, si_uid=0, "
                           "si_status=0, si_utime=3 /* 0.03 s */, si_stime=1 /* 0.01 s */} ---\n");
    assert_int_equal(t.problems.n, 0);
    assert_int_equal(t.n, 2);
    const strace_syscall *w = &t.ev[0].sc;
    assert_int_equal(w->ret_kind, STRACE_RET_ERROR);
    assert_true(w->ret_unknown);
    assert_int_equal(w->ret, 0);
    assert_int_equal(w->err, SIM_ERESTARTSYS);
    assert_string_equal(w->err_name, "ERESTARTSYS");
    assert_string_equal(w->ret_comment, "To be restarted if SA_RESTART is set");
    assert_int_equal(w->nargs, 4);
    const strace_signal *sg = &t.ev[1].sig;
    assert_int_equal(t.ev[1].kind, STRACE_SIGNAL);
    assert_string_equal(sg->name, "SIGCHLD");
    assert_int_equal(sg->signo, SIM_SIGCHLD);
    assert_string_equal(sg->si_code, "CLD_EXITED");
    assert_true(sg->has_si_code_value);
    assert_int_equal(sg->si_code_value, 1);
    assert_true(sg->has_pid);
    assert_int_equal(sg->pid, 101);
    assert_false(sg->has_addr);
    strace_trace_free(&t);
}

static void test_sigsegv(void **state)
{
    (void)state;
    strace_trace t = parse("24391 1795313749.595928 --- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_ACCERR, "
                           "si_addr=0x7f837093f000} ---\n"
                           "24392 1795313749.600000 --- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, "
                           "si_addr=0x7f8370817000} ---\n"
                           "24767 1795313791.322000 --- SIGPIPE {si_signo=SIGPIPE, si_code=SI_USER, si_pid=24766, "
                           "si_uid=0} ---\n");
    assert_int_equal(t.problems.n, 0);
    assert_int_equal(t.n, 3);
    const strace_signal *a = &t.ev[0].sig, *b = &t.ev[1].sig, *c = &t.ev[2].sig;
    assert_int_equal(a->signo, SIM_SIGSEGV);
    assert_string_equal(a->si_code, "SEGV_ACCERR");
    assert_int_equal(a->si_code_value, 2);
    assert_true(a->has_addr);
    assert_int_equal(a->addr, 0x7f837093f000ULL);
    assert_int_equal(a->si_addr, a->addr); /* alias where <signal.h> is not included */
    assert_int_equal(b->si_code_value, 1);
    assert_int_equal(b->addr, 0x7f8370817000ULL);
    assert_int_equal(c->signo, SIM_SIGPIPE);
    assert_int_equal(c->si_code_value, 0);
    assert_int_equal(c->pid, 24766);
    strace_trace_free(&t);
}

static void test_mm_exerciser_shapes(void **state)
{
    (void)state;
    strace_trace t = parse(
        "24391 1795313749.596071 mmap(0x7f8370937000, 4096, PROT_READ, "
        "MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE, -1, 0) = -1 EEXIST (File exists)\n"
        "24391 1795313749.596405 mremap(0x7f8370400000, 4194304, 4194304, MREMAP_MAYMOVE|MREMAP_FIXED, "
        "0x7f836fe00000) = 0x7f836fe00000\n"
        "24391 1795313749.598756 memfd_create(\"mmx-memfd\", MFD_CLOEXEC) = 4</memfd:mmx-memfd>(deleted)\n"
        "24391 1795313749.598830 ftruncate(4</memfd:mmx-memfd>(deleted), 65536) = 0\n"
        "24391 1795313749.599030 shmget(IPC_PRIVATE, 32768, IPC_CREAT|0600) = 3\n"
        "24391 1795313749.599063 shmat(3, NULL, 0) = 0x7f83707cb000\n"
        "24391 1795313749.597000 madvise(0x7f8370817000, 65536, MADV_WIPEONFORK) = 0\n"
        "24391 1795313749.597379 mincore(0x7f8370817000, 16384, [1, 0, 0, 1]) = 0\n"
        "24391 1795313749.598114 msync(0x7f83707f7000, 131072, MS_SYNC) = 0\n");
    assert_int_equal(t.problems.n, 0);
    assert_int_equal(t.n, 9);
    uint64_t v;
    assert_int_equal(t.ev[0].sc.err, SIM_EEXIST);
    assert_int_equal(strace_arg_flags(t.ev[0].sc.args[3], &sim_map_syms, &v), 0);
    assert_int_equal(v, SIM_MAP_PRIVATE | SIM_MAP_ANONYMOUS | SIM_MAP_FIXED_NOREPLACE);
    assert_int_equal(t.ev[1].sc.nargs, 5);
    assert_int_equal(strace_arg_flags(t.ev[1].sc.args[3], &sim_mremap_syms, &v), 0);
    assert_int_equal(v, SIM_MREMAP_MAYMOVE | SIM_MREMAP_FIXED);
    assert_string_equal(t.ev[2].sc.ret_path, "/memfd:mmx-memfd");
    assert_true(t.ev[2].sc.ret_deleted);
    assert_int_equal(t.ev[2].sc.ret, 4);
    assert_int_equal(strace_arg_flags(t.ev[2].sc.args[1], &sim_mfd_syms, &v), 0);
    assert_int_equal(v, SIM_MFD_CLOEXEC);
    strace_fd fd;
    char path[64];
    assert_int_equal(strace_arg_fd(t.ev[3].sc.args[0], &fd, path, sizeof path), 0);
    assert_int_equal(fd.fd, 4);
    assert_true(fd.deleted);
    assert_string_equal(fd.path, "/memfd:mmx-memfd");
    assert_int_equal(strace_arg_flags(t.ev[4].sc.args[0], &sim_ipc_key_syms, &v), 0);
    assert_int_equal(v, SIM_IPC_PRIVATE);
    assert_int_equal(strace_arg_flags(t.ev[4].sc.args[2], &sim_shmget_syms, &v), 0);
    assert_int_equal(v, SIM_IPC_CREAT | 0600);
    assert_int_equal(strace_arg_flags(t.ev[5].sc.args[2], &sim_shmat_syms, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(strace_arg_flags(t.ev[6].sc.args[2], &sim_madv_syms, &v), 0);
    assert_int_equal(v, SIM_MADV_WIPEONFORK);
    strace_span items[8];
    const char *vec = t.ev[7].sc.args[2];
    assert_int_equal(strace_split(vec, strlen(vec), items, 8), 4);
    assert_int_equal(items[3].len, 1);
    assert_int_equal(items[3].p[0], '1');
    assert_int_equal(strace_arg_flags(t.ev[8].sc.args[2], &sim_ms_syms, &v), 0);
    assert_int_equal(v, SIM_MS_SYNC);
    strace_trace_free(&t);
}

static void test_strings_with_quotes_commas_brackets(void **state)
{
    (void)state;
    strace_trace t = parse_one("7 2.000000 openat(AT_FDCWD</tmp/a b>, \"we\\\"ird, name) = 4 [x] {y} <z>\\n\", "
                               "O_RDWR|O_CREAT, 0644) = 3</tmp/a b/we\"ird, name) = 4 [x] {y} \\74z\\76\\n>");
    const strace_syscall *sc = &t.ev[0].sc;
    assert_int_equal(sc->nargs, 4);
    char s[128];
    size_t n;
    bool trunc = true;
    assert_int_equal(strace_arg_string(sc->args[1], s, sizeof s, &n, &trunc), 0);
    assert_string_equal(s, "we\"ird, name) = 4 [x] {y} <z>\n");
    assert_int_equal(n, strlen(s));
    assert_false(trunc);
    assert_string_equal(sc->ret_path, "/tmp/a b/we\"ird, name) = 4 [x] {y} <z>\n");
    int64_t mode;
    assert_int_equal(strace_arg_int(sc->args[3], &mode), 0);
    assert_int_equal(mode, 0644);
    strace_trace_free(&t);
}

static void test_nested_structs_and_products(void **state)
{
    (void)state;
    strace_trace t = parse(
        "24022 1795313694.346988 wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], WNOHANG, NULL) = 24030\n"
        "24022 1795313694.347000 fstat(0</dev/null>, {st_mode=S_IFCHR|0666, st_rdev=makedev(0x1, 0x3), ...}) = 0\n"
        "24391 1795313749.389052 prlimit64(0, RLIMIT_STACK, NULL, {rlim_cur=8192*1024, "
        "rlim_max=RLIM64_INFINITY}) = 0\n"
        "1 1.000000 mmap(NULL, 2097152, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB|"
        "21<<MAP_HUGE_SHIFT, -1, 0) = 0x7f0000000000\n"
        "1 1.000001 mmap(NULL, 4096, PROT_READ|0x10 /* PROT_??? */, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = "
        "0xffffffffff600000\n");
    assert_int_equal(t.problems.n, 0);
    assert_int_equal(t.n, 5);
    assert_int_equal(t.ev[0].sc.nargs, 4);
    assert_string_equal(t.ev[0].sc.args[1], "[{WIFEXITED(s) && WEXITSTATUS(s) == 0}]");
    uint64_t v;
    assert_int_equal(strace_arg_flags(t.ev[0].sc.args[2], &sim_wait_syms, &v), 0);
    assert_int_equal(v, SIM_WNOHANG);
    assert_int_equal(t.ev[1].sc.nargs, 2);
    strace_span f;
    assert_int_equal(strace_field(t.ev[2].sc.args[3], "rlim_cur", &f), 0);
    char buf[32];
    snprintf(buf, sizeof buf, "%.*s", (int)f.len, f.p);
    assert_int_equal(strace_arg_u64(buf, &v), 0);
    assert_int_equal(v, 8192 * 1024);
    assert_int_equal(strace_arg_flags(t.ev[2].sc.args[1], &sim_rlimit_syms, &v), 0);
    assert_int_equal(v, 3);
    assert_int_equal(strace_arg_flags(t.ev[3].sc.args[3], &sim_map_syms, &v), 0);
    assert_int_equal(v, SIM_MAP_PRIVATE | SIM_MAP_ANONYMOUS | SIM_MAP_HUGETLB | (21ULL << 26));
    assert_int_equal(strace_arg_flags(t.ev[4].sc.args[2], &sim_prot_syms, &v), 0);
    assert_int_equal(v, SIM_PROT_READ | 0x10);
    assert_int_equal((uint64_t)t.ev[4].sc.ret, 0xffffffffff600000ULL);
    strace_trace_free(&t);
}

/* ---- helpers directly ----------------------------------------------------------- */

static void test_arg_int(void **state)
{
    (void)state;
    int64_t v;
    uint64_t u;
    assert_int_equal(strace_arg_int("NULL", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(strace_arg_int("-1", &v), 0);
    assert_int_equal(v, -1);
    assert_int_equal(strace_arg_u64("-1", &u), 0);
    assert_int_equal(u, UINT64_MAX);
    assert_int_equal(strace_arg_int("0x7fffffffffffffff", &v), 0);
    assert_int_equal(v, INT64_MAX);
    assert_int_equal(strace_arg_u64("0xffffffffffffffff", &u), 0);
    assert_int_equal(u, UINT64_MAX);
    assert_int_equal(strace_arg_int("-9223372036854775808", &v), 0);
    assert_int_equal(v, INT64_MIN);
    assert_int_equal(strace_arg_int("-9223372036854775809", &v), -ERANGE);
    assert_int_equal(strace_arg_int("0600", &v), 0);
    assert_int_equal(v, 384);
    assert_int_equal(strace_arg_int("  42  ", &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(strace_arg_int("99999999999999999999999", &v), -ERANGE);
    assert_int_equal(strace_arg_int("0x10000000000000000", &v), -ERANGE);
    assert_int_equal(strace_arg_int("4294967296*4294967296", &v), -ERANGE);
    assert_int_equal(strace_arg_int("abc", &v), -EINVAL);
    assert_int_equal(strace_arg_int("", &v), -EINVAL);
    assert_int_equal(strace_arg_int("-", &v), -EINVAL);
    assert_int_equal(strace_arg_int("12x", &v), -EINVAL);
    assert_int_equal(strace_arg_int("3</x>", &v), -EINVAL);
    assert_int_equal(strace_arg_int("5*", &v), -EINVAL);
    assert_int_equal(strace_arg_int("0x7ffc /* 6 vars */", &v), 0);
    assert_int_equal(v, 0x7ffc);
}

static void test_arg_fd(void **state)
{
    (void)state;
    char p[64];
    strace_fd fd;
    assert_int_equal(strace_arg_fd("3<pipe:[51246]>", &fd, p, sizeof p), 0);
    assert_string_equal(fd.path, "pipe:[51246]");
    assert_int_equal(fd.path_len, 12);
    assert_int_equal(strace_arg_fd("13<anon_inode:[eventfd]>", &fd, p, sizeof p), 0);
    assert_int_equal(fd.fd, 13);
    assert_int_equal(strace_arg_fd("AT_FDCWD", &fd, p, sizeof p), 0);
    assert_int_equal(fd.fd, SIM_AT_FDCWD);
    assert_false(fd.has_path);
    assert_int_equal(strace_arg_fd("255", &fd, p, sizeof p), 0);
    assert_int_equal(fd.fd, 255);
    assert_int_equal(strace_arg_fd("6</tmp/etilqs_5d1a0db00f673a3>(deleted)", &fd, p, sizeof p), 0);
    assert_true(fd.deleted);
    assert_int_equal(strace_arg_fd("3</a\\76b\\x3cc>", &fd, p, sizeof p), 0);
    assert_string_equal(fd.path, "/a>b<c");
    assert_int_equal(strace_arg_fd("3</x", &fd, p, sizeof p), -EINVAL);
    assert_int_equal(strace_arg_fd("3</x>junk", &fd, p, sizeof p), -EINVAL);
    assert_int_equal(strace_arg_fd("x</x>", &fd, p, sizeof p), -EINVAL);
    assert_int_equal(strace_arg_fd("3</a/long/path>", &fd, p, 4), -ENOSPC);
}

static void test_arg_flags(void **state)
{
    (void)state;
    uint64_t v;
    assert_int_equal(strace_arg_flags("PROT_READ|PROT_WRITE", &sim_prot_syms, &v), 0);
    assert_int_equal(v, 3);
    assert_int_equal(strace_arg_flags("PROT_NONE", &sim_prot_syms, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(strace_arg_flags("0x3", &sim_prot_syms, &v), 0);
    assert_int_equal(v, 3);
    assert_int_equal(strace_arg_flags("0", &sim_map_syms, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(strace_arg_flags("MAP_SHARED_VALIDATE|MAP_SYNC", &sim_map_syms, &v), 0);
    assert_int_equal(v, 0x3 | 0x80000);
    assert_int_equal(strace_arg_flags("PROT_BOGUS", &sim_prot_syms, &v), -EINVAL);
    assert_int_equal(strace_arg_flags("PROT_READ|", &sim_prot_syms, &v), -EINVAL);
    assert_int_equal(strace_arg_flags("|PROT_READ", &sim_prot_syms, &v), -EINVAL);
    assert_int_equal(strace_arg_flags("", &sim_prot_syms, &v), -EINVAL);
    assert_int_equal(strace_arg_flags("MAP_FIXED", &sim_prot_syms, &v), -EINVAL); /* wrong table */
    assert_int_equal(strace_arg_flags("1<<BOGUS_SHIFT", &sim_map_syms, &v), -EINVAL);
    assert_int_equal(strace_arg_flags("O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY", &sim_open_syms, &v), 0);
    assert_int_equal(v, 0x800 | 0x80000 | 0x10000);
}

static void test_arg_string(void **state)
{
    (void)state;
    char b[32];
    size_t n;
    bool tr;
    assert_int_equal(strace_arg_string("\"a\\tb\\\\c\\\"d\\x41\\101\\0z\"", b, sizeof b, &n, &tr), 0);
    assert_int_equal(n, 11);
    assert_memory_equal(b, "a\tb\\c\"dAA\0z", 11);
    assert_false(tr);
    assert_int_equal(strace_arg_string("\"abc\"...", b, sizeof b, &n, &tr), 0);
    assert_true(tr);
    assert_string_equal(b, "abc");
    assert_int_equal(strace_arg_string("\"\"", b, sizeof b, &n, NULL), 0);
    assert_int_equal(n, 0);
    assert_int_equal(strace_arg_string("abc", b, sizeof b, NULL, NULL), -EINVAL);
    assert_int_equal(strace_arg_string("\"abc", b, sizeof b, NULL, NULL), -EINVAL);
    assert_int_equal(strace_arg_string("\"abc\"x", b, sizeof b, NULL, NULL), -EINVAL);
    assert_int_equal(strace_arg_string("\"a\\q\"", b, sizeof b, NULL, NULL), -EINVAL);
    assert_int_equal(strace_arg_string("\"abcdef\"", b, 4, NULL, NULL), -ENOSPC);
}

static void test_split_and_field(void **state)
{
    (void)state;
    strace_span it[4];
    assert_int_equal(strace_split("[1, 0, 0]", 9, it, 4), 3);
    assert_int_equal(strace_split("{a=1, b={c, d}}", 15, it, 4), 2);
    assert_int_equal(it[1].len, 8);
    assert_int_equal(strace_split("", 0, it, 4), 0);
    assert_int_equal(strace_split("[]", 2, it, 4), 0);
    assert_int_equal(strace_split("[1, \"a,]b\", 3]", 14, it, 4), 3);
    assert_int_equal(strace_split("[1, 2, 3, 4, 5, 6]", 18, it, 4), 6); /* count beyond cap */
    assert_int_equal(strace_split("[1, (", 5, it, 4), SIZE_MAX);
    assert_int_equal(strace_split("[1, \"ab", 7, it, 4), SIZE_MAX);
    assert_int_equal(strace_split("(]", 2, it, 4), SIZE_MAX);
    strace_span v;
    assert_int_equal(strace_field("{flags=CLONE_VM, exit_signal=SIGCHLD} => {parent_tid=[5]}", "parent_tid", &v),
                     -ENOENT);
    assert_int_equal(strace_field("{flags=CLONE_VM, exit_signal=SIGCHLD}", "exit_signal", &v), 0);
    assert_int_equal(v.len, 7);
    assert_int_equal(strace_field("child_stack=NULL", "child_stack", &v), 0);
    assert_int_equal(v.len, 4);
    assert_int_equal(strace_field("{st_mode=S_IFREG|0644, st_size=4, ...}", "st_mode", &v), 0);
    assert_int_equal(strace_field("{st_mode=S_IFREG|0644", "st_mode", &v), -ENOENT);
}

/* ---- malformed input -------------------------------------------------------------- */

static void test_malformed_lines_reported(void **state)
{
    (void)state;
    strace_trace t = parse("1 1.000001 close(3) = 0\n"                         /* 1 ok */
                           "garbage\n"                                         /* 2 */
                           "1 1.000002 mmap(NULL, 4096\n"                      /* 3 no ')' */
                           "1 1.000003 mmap(NULL) = -1 EBOGUS (x)\n"           /* 4 */
                           "1 1.000004 getpid() = 5 trailing\n"                /* 5 */
                           "2 1.000005 <... mmap resumed>) = 0\n"              /* 6 orphan */
                           "\n"                                                /* 7 empty */
                           "3 1.000006 brk(NULL <unfinished ...>\n"            /* 8 replaced */
                           "3 1.000007 munmap(0x1000, 4096 <unfinished ...>\n" /* 9 */
                           "3 1.000008 <... brk resumed>) = 0x1000\n"          /* 10 wrong name */
                           "4 1.000009 --- SIGBOGUS {si_signo=1} ---\n"        /* 11 */
                           "4 1.000010 +++ exploded +++\n"                     /* 12 */
                           "5 x.000010 close(1) = 0\n"                         /* 13 bad ts */
                           "6 1.000011 close(1) =\n"                           /* 14 no value */
                           "6 1.000012 close(1)\n"                             /* 15 no '=' */
                           "7 1.000013 openat(AT_FDCWD, \"x) = 3\n"            /* 16 open string */
                           "8 1.000014 read(3 <unfinished ...>\n");            /* 17 never resumed */
    uint32_t bad[] = {2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (!has_problem_at(&t, bad[i]))
            print_error("no problem reported for line %u\n", bad[i]);
        assert_true(has_problem_at(&t, bad[i]));
    }
    assert_false(has_problem_at(&t, 1));
    assert_int_equal(t.lines, 17);
    /* the good line, plus incomplete halves kept as events */
    assert_string_equal(t.ev[0].sc.name, "close");
    bool saw_incomplete_read = false;
    for (size_t i = 0; i < t.n; i++)
        if (t.ev[i].kind == STRACE_SYSCALL && t.ev[i].sc.incomplete && strcmp(t.ev[i].sc.name, "read") == 0) {
            saw_incomplete_read = true;
            assert_int_equal(t.ev[i].line, 17);
            assert_int_equal(t.ev[i].sc.nargs, 1);
            assert_int_equal(t.ev[i].sc.ret_kind, STRACE_RET_NONE);
        }
    assert_true(saw_incomplete_read);
    strace_trace_free(&t);
}

static void test_unfinished_then_task_killed(void **state)
{
    (void)state;
    strace_trace t = parse("9 1.000001 read(0,  <unfinished ...>\n"
                           "9 1.000002 +++ killed by SIGKILL +++\n");
    assert_int_equal(t.problems.n, 1);
    assert_int_equal(t.problems.v[0].line, 1);
    assert_int_equal(t.n, 2);
    assert_true(t.ev[0].sc.incomplete);
    assert_int_equal(t.ev[1].kind, STRACE_KILLED);
    strace_trace_free(&t);
}

static void test_empty_and_crlf(void **state)
{
    (void)state;
    strace_trace t = parse("");
    assert_int_equal(t.n, 0);
    assert_int_equal(t.lines, 0);
    strace_trace_free(&t);
    t = parse("1 1.5 close(3) = 0\r\n2 2.25 close(4) = 0");
    assert_int_equal(t.problems.n, 0);
    assert_int_equal(t.n, 2);
    assert_int_equal(t.ev[0].ts_us, 1500000);
    assert_int_equal(t.ev[1].ts_us, 2250000);
    strace_trace_free(&t);
}

/* ---- robustness -------------------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static const char *const samples[] = {
    "22653 1795313689.494834 mmap(0x7f686102a000, 1400832, PROT_READ|PROT_EXEC, "
    "MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3</usr/lib/libc.so.6>, 0x26000) = 0x7f686102a000",
    "24391 1795313749.389347 openat(AT_FDCWD</tmp/x>, \"/a\\\"b\", O_RDONLY) = -1 ENOENT (No such file)",
    "22653 1795313689.699785 vfork( <unfinished ...>",
    "22653 1795313689.700022 <... vfork resumed>) = 22654",
    "24451 1795313751.488612 clone3({flags=CLONE_VM|CLONE_THREAD, stack=0x1} => {parent_tid=[2]}, 88) = 2",
    "24391 1795313749.595928 --- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_ACCERR, si_addr=0x7f837093f000} ---",
    "24767 1795313791.322898 +++ killed by SIGPIPE +++",
    "24391 1795313749.598756 memfd_create(\"mmx-memfd\", MFD_CLOEXEC) = 4</memfd:mmx-memfd>(deleted)",
    "1 1.0 wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = ? ERESTARTSYS (To be restarted)",
};

static void check_sane(const strace_trace *t)
{
    for (size_t i = 0; i < t->n; i++) {
        const strace_event *e = &t->ev[i];
        assert_true(e->line >= 1 && e->line <= t->lines);
        assert_true(e->entry_line >= 1 && e->entry_line <= e->line);
        if (e->kind == STRACE_SYSCALL)
            for (uint32_t a = 0; a < e->sc.nargs; a++) {
                int64_t v;
                uint64_t f;
                char buf[64];
                strace_fd fd;
                (void)strace_arg_int(e->sc.args[a], &v);
                (void)strace_arg_flags(e->sc.args[a], &sim_map_syms, &f);
                (void)strace_arg_fd(e->sc.args[a], &fd, buf, sizeof buf);
                (void)strace_arg_string(e->sc.args[a], buf, sizeof buf, NULL, NULL);
            }
        if (e->kind == STRACE_SYSCALL) {
            strace_clone c;
            (void)strace_clone_args(&e->sc, &c);
        }
    }
    for (size_t i = 0; i < t->problems.n; i++)
        assert_true(t->problems.v[i].line >= 1 && t->problems.v[i].line <= t->lines);
}

static void test_truncated_samples(void **state)
{
    (void)state;
    for (size_t s = 0; s < sizeof samples / sizeof samples[0]; s++) {
        size_t n = strlen(samples[s]);
        for (size_t cut = 0; cut <= n; cut++) {
            strace_trace t;
            assert_int_equal(strace_parse(samples[s], cut, &t), 0);
            check_sane(&t);
            strace_trace_free(&t);
        }
    }
}

static void test_garbage(void **state)
{
    (void)state;
    static const char alphabet[] = "0123456789 .()[]{}<>\"\\,=|/*-?+xEOMAP_abc\t\n<... resumed>";
    char buf[512];
    for (int round = 0; round < 3000; round++) {
        size_t n = rnd() % sizeof buf;
        for (size_t i = 0; i < n; i++)
            buf[i] = (rnd() % 8 == 0) ? (char)(rnd() & 0xff) : alphabet[rnd() % (sizeof alphabet - 1)];
        if (rnd() % 2) { /* a plausible prefix gets the fuzz past the first check */
            const char *pre = samples[rnd() % (sizeof samples / sizeof samples[0])];
            size_t k = rnd() % (strlen(pre) + 1);
            if (k > n)
                k = n;
            memcpy(buf, pre, k);
        }
        strace_trace t;
        assert_int_equal(strace_parse(buf, n, &t), 0);
        check_sane(&t);
        strace_trace_free(&t);
    }
}

static void test_huge_numbers(void **state)
{
    (void)state;
    strace_trace t = parse("99999999999 1.0 close(3) = 0\n"
                           "1 99999999999999999999.0 close(3) = 0\n"
                           "1 1.0 close(3) = 999999999999999999999999\n"
                           "1 1.0 close(3) = -99999999999999999999\n"
                           "1 1.0 +++ exited with 99999999999999 +++\n"
                           "1 1.0 --- SIGSEGV {si_signo=SIGSEGV, si_addr=0x1ffffffffffffffff} ---\n"
                           "1 1.0 mmap(0xffffffffffffffffff, 1) = 0\n");
    for (uint32_t l = 1; l <= 6; l++)
        assert_true(has_problem_at(&t, l));
    assert_false(has_problem_at(&t, 7)); /* arguments are decoded on demand */
    int64_t v;
    assert_int_equal(strace_arg_int(t.ev[t.n - 1].sc.args[0], &v), -ERANGE);
    strace_trace_free(&t);
}

static void test_missing_file(void **state)
{
    (void)state;
    strace_trace t;
    char err[256];
    assert_int_equal(strace_parse_file("/nonexistent/strace.txt.zst", &t, err, sizeof err), -ENOENT);
    assert_non_null(strstr(err, "/nonexistent/strace.txt.zst"));
    strace_trace_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mmap_file),
        cmocka_unit_test(test_padded_brk_and_anonymous),
        cmocka_unit_test(test_openat_success_and_failure),
        cmocka_unit_test(test_execve_delayed_and_comment_arg),
        cmocka_unit_test(test_fcntl_flags_comment),
        cmocka_unit_test(test_join_vfork_across_other_tids),
        cmocka_unit_test(test_join_args_split_across_halves),
        cmocka_unit_test(test_clone3_struct),
        cmocka_unit_test(test_exit_calls_and_task_ends),
        cmocka_unit_test(test_erestartsys),
        cmocka_unit_test(test_sigsegv),
        cmocka_unit_test(test_mm_exerciser_shapes),
        cmocka_unit_test(test_strings_with_quotes_commas_brackets),
        cmocka_unit_test(test_nested_structs_and_products),
        cmocka_unit_test(test_arg_int),
        cmocka_unit_test(test_arg_fd),
        cmocka_unit_test(test_arg_flags),
        cmocka_unit_test(test_arg_string),
        cmocka_unit_test(test_split_and_field),
        cmocka_unit_test(test_malformed_lines_reported),
        cmocka_unit_test(test_unfinished_then_task_killed),
        cmocka_unit_test(test_empty_and_crlf),
        cmocka_unit_test(test_truncated_samples),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_huge_numbers),
        cmocka_unit_test(test_missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
