/*
 * test_parse_lackey: the valgrind lackey captures (traces/README.md,
 * "lackey_*: page-reference strings").  pages.txt literal records (access
 * lines, SYSCALL lines of each phase, async halves joined, valgrind's
 * unimplemented-syscall line), malformed lines with line numbers, garbage;
 * debug.log segment tables; and for every lackey capture: zero problems,
 * access records = the closing "records=N", SYSCALL lines counted
 * independently, and both segment tables complete.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lackey_parse.h"
#include "symbols.h"

static const char pages[] =
    "# page reference string from valgrind lackey --trace-mem=yes\n"                                     /* 1 */
    "I 401a000\n"                                                                                       /* 2 */
    "W 1fff000000\n"                                                                                    /* 3 */
    "SYSCALL[25143,1](12) sys_brk ( 0x0 ) --> [pre-success] Success(0x4035000) \n"                      /* 4 */
    "SYSCALL[25143,1](257) sys_openat ( 4294967196, 0x4034bb0(/usr/libexec/valgrind/vgpreload_core-amd64-"
    "linux.so), 524288 ) --> [async] ... \n"                                                            /* 5 */
    "R 4032000\n"                                                                                       /* 6 */
    "SYSCALL[25143,1](257) ... [async] --> Success(0x4) \n"                                             /* 7 */
    "SYSCALL[25143,1](9) sys_mmap ( 0x0, 8192, 3, 34, 4294967295, 0 ) --> [pre-success] Success(0x4835000) \n"
    "SYSCALL[25143,1](158) arch_prctl ( 4098, 4a2a740 ) --> [pre-success] Success(0x0) \n"              /* 9 */
    "SYSCALL[25143,1](334) unimplemented (by the kernel) syscall: 334! (ni_syscall)\n"                  /* 10 */
    "SYSCALL[25143,1](262) sys_newfstatat ( 3, 0x1ffefff3b8(a, b) c), 0x2 )[sync] --> Failure(0x2) \n" /* 11 */
    "SYSCALL[25143,1](102) sys_getuid ( )[sync] --> Success(0x0) \n"                                    /* 12 */
    "SYSCALL[25143,1](3) sys_close ( 9 ) --> [pre-fail] Failure(0x9) \n"                                /* 13 */
    "M 4033000\n"                                                                                       /* 14 */
    "SYSCALL[25143,1](231) exit_group( 0 ) --> [pre-success] Success(0x0) \n"                           /* 15 */
    "# raw accesses: I=8252065 R=1897105 W=1086150 M=15366; records=4\n";                               /* 16 */

static void test_records(void **state)
{
    (void)state;
    lackey_iter it;
    lackey_record r;
    lackey_iter_init(&it, pages, strlen(pages));
    assert_int_equal(lackey_next(&it, &r), 1);
    assert_int_equal(r.kind, LACKEY_ACCESS);
    assert_int_equal(r.access, 'I');
    assert_int_equal(r.page, 0x401a000);
    assert_int_equal(r.line, 2);
    assert_int_equal(lackey_next(&it, &r), 1);
    assert_int_equal(r.access, 'W');
    assert_int_equal(r.page, 0x1fff000000ULL);

    assert_int_equal(lackey_next(&it, &r), 1); /* brk */
    assert_int_equal(r.kind, LACKEY_SYSCALL);
    assert_int_equal(r.line, 4);
    assert_int_equal(r.sc.pid, 25143);
    assert_int_equal(r.sc.tid, 1);
    assert_int_equal(r.sc.nr, 12);
    assert_string_equal(r.sc.name, "sys_brk");
    assert_int_equal(r.sc.nargs, 1);
    assert_int_equal(r.sc.args[0], 0);
    assert_int_equal(r.sc.result, LACKEY_SUCCESS);
    assert_int_equal(r.sc.value, 0x4035000);
    assert_string_equal(r.sc.phase, "pre-success");
    assert_false(r.sc.async);
    assert_int_equal(r.sc.entry_line, 4);

    assert_int_equal(lackey_next(&it, &r), 1); /* the read between the async halves comes first */
    assert_int_equal(r.kind, LACKEY_ACCESS);
    assert_int_equal(r.line, 6);
    assert_int_equal(lackey_next(&it, &r), 1); /* openat, joined */
    assert_int_equal(r.kind, LACKEY_SYSCALL);
    assert_int_equal(r.line, 7);
    assert_int_equal(r.sc.entry_line, 5);
    assert_true(r.sc.async);
    assert_string_equal(r.sc.name, "sys_openat");
    assert_int_equal(r.sc.nargs, 3);
    assert_int_equal(r.sc.args[0], 4294967196ULL);
    assert_int_equal(r.sc.args[1], 0x4034bb0);
    assert_string_equal(r.sc.arg_str[1], "/usr/libexec/valgrind/vgpreload_core-amd64-linux.so");
    assert_null(r.sc.arg_str[0]);
    assert_int_equal(r.sc.args[2], 524288);
    assert_int_equal(r.sc.value, 4);

    assert_int_equal(lackey_next(&it, &r), 1); /* mmap */
    assert_int_equal(r.sc.nargs, 6);
    assert_int_equal(r.sc.args[2], SIM_PROT_READ | SIM_PROT_WRITE);
    assert_int_equal(r.sc.args[3], SIM_MAP_PRIVATE | SIM_MAP_ANONYMOUS);
    assert_int_equal((int32_t)r.sc.args[4], -1);
    assert_int_equal(r.sc.nr, sim_syscall_nr(r.sc.name, strlen(r.sc.name)));

    assert_int_equal(lackey_next(&it, &r), 1); /* arch_prctl: bare hex address */
    assert_string_equal(r.sc.name, "arch_prctl");
    assert_int_equal(r.sc.args[0], 4098);
    assert_int_equal(r.sc.args[1], 0x4a2a740);

    assert_int_equal(lackey_next(&it, &r), 1); /* unimplemented */
    assert_true(r.sc.unimplemented);
    assert_string_equal(r.sc.name, "ni_syscall");
    assert_int_equal(r.sc.nr, 334);
    assert_int_equal(r.sc.result, LACKEY_FAILURE);
    assert_int_equal(r.sc.value, SIM_ENOSYS);
    assert_int_equal(r.sc.nargs, 0);

    assert_int_equal(lackey_next(&it, &r), 1); /* [sync] failure, a path with ", " and ")" */
    assert_string_equal(r.sc.phase, "sync");
    assert_int_equal(r.sc.result, LACKEY_FAILURE);
    assert_int_equal(r.sc.value, SIM_ENOENT);
    assert_int_equal(r.sc.nargs, 3);
    assert_string_equal(r.sc.arg_str[1], "a, b) c");
    assert_int_equal(r.sc.args[2], 2);

    assert_int_equal(lackey_next(&it, &r), 1); /* no arguments */
    assert_string_equal(r.sc.name, "sys_getuid");
    assert_int_equal(r.sc.nargs, 0);
    assert_int_equal(lackey_next(&it, &r), 1);
    assert_string_equal(r.sc.phase, "pre-fail");
    assert_int_equal(r.sc.value, SIM_EBADF);
    assert_int_equal(lackey_next(&it, &r), 1);
    assert_int_equal(r.access, 'M');
    assert_int_equal(lackey_next(&it, &r), 1);
    assert_string_equal(r.sc.name, "exit_group");
    assert_int_equal(lackey_next(&it, &r), 0);
    assert_int_equal(lackey_next(&it, &r), 0); /* stays at the end */

    assert_int_equal(it.problems.n, 0);
    assert_int_equal(it.naccess, 4);
    assert_int_equal(it.nsyscall, 9);
    assert_int_equal(it.nsyscall_lines, 10);
    assert_true(it.summary.present);
    assert_int_equal(it.summary.records, 4);
    assert_int_equal(it.summary.raw_i, 8252065);
    assert_int_equal(it.summary.raw_m, 15366);
    assert_int_equal(it.line, 16);
    lackey_iter_free(&it);
}

static int count_cb(const lackey_record *r, void *ctx)
{
    size_t *c = ctx;
    c[r->kind == LACKEY_ACCESS ? 0 : 1]++;
    return 0;
}

static int stop_cb(const lackey_record *r, void *ctx)
{
    (void)ctx;
    return r->kind == LACKEY_SYSCALL ? 7 : 0;
}

static void test_foreach(void **state)
{
    (void)state;
    size_t c[2] = {0, 0};
    lackey_iter it;
    assert_int_equal(lackey_foreach(pages, strlen(pages), count_cb, c, &it), 0);
    assert_int_equal(c[0], 4);
    assert_int_equal(c[1], 9);
    lackey_iter_free(&it);
    assert_int_equal(lackey_foreach(pages, strlen(pages), stop_cb, NULL, &it), 7);
    assert_int_equal(it.line, 4);
    lackey_iter_free(&it);
}

static bool has_problem_at(const sim_problems *p, uint32_t line)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->v[i].line == line)
            return true;
    return false;
}

static void test_malformed(void **state)
{
    (void)state;
    const char *text = "I 1000\n"                                                         /* 1 ok */
                       "X 1000\n"                                                         /* 2 */
                       "I\n"                                                              /* 3 */
                       "I zz\n"                                                           /* 4 */
                       "I 0x1000\n"                                                       /* 5 */
                       "SYSCALL[1,1](9) sys_mmap ( 0x0 ) --> [weird] Success(0x0) \n"     /* 6 */
                       "SYSCALL[1,1](0) ... [async] --> Success(0x1) \n"                  /* 7 orphan */
                       "SYSCALL[1](0) sys_read ( 0 ) --> [pre-success] Success(0x0)\n"    /* 8 */
                       "SYSCALL[1,1](0) sys_read ( 0 ) --> [pre-success] Success(12)\n"   /* 9 */
                       "SYSCALL[1,1](0) sys_read ( 0, zz ) --> [pre-success] Success(0x0)\n" /* 10 */
                       "\n"                                                               /* 11 */
                       "# raw accesses: I=1 R=2; records=3\n"                             /* 12 */
                       "SYSCALL[1,1](334) unimplemented (by the kernel) syscall: 335! (x)\n" /* 13 */
                       "SYSCALL[1,1](0) sys_read ( 0, 1, 2, 3, 4, 5, 6, 7, 8 ) --> [pre-success] Success(0x0)\n"
                       "SYSCALL[1,2](0) sys_read ( 0 ) --> [async] ... \n"                /* 15 never done */
                       "W 2000\n"                                                         /* 16 ok */
                       "I 1ffffffffffffffff\n"                                            /* 17 huge page */
                       "SYSCALL[99999999999,1](0) sys_read ( 0 ) --> [pre-success] Success(0x0)\n" /* 18 */
                       "SYSCALL[1,1](0) sys_read ( 99999999999999999999 ) --> [pre-success] Success(0x0)\n"
                       "SYSCALL[1,1](0) sys_read ( 0 ) --> [pre-success] Success(0x1ffffffffffffffff)\n";
    lackey_iter it;
    lackey_record r;
    lackey_iter_init(&it, text, strlen(text));
    size_t n = 0;
    while (lackey_next(&it, &r) == 1)
        n++;
    assert_int_equal(n, 2);
    for (uint32_t l = 2; l <= 20; l++) {
        if (l == 16)
            continue;
        if (!has_problem_at(&it.problems, l))
            print_error("line %u not reported\n", l);
        assert_true(has_problem_at(&it.problems, l));
    }
    assert_false(has_problem_at(&it.problems, 1));
    assert_false(has_problem_at(&it.problems, 16));
    assert_false(it.summary.present);
    lackey_iter_free(&it);
}

static void test_garbage(void **state)
{
    (void)state;
    uint64_t rs = 0xdeadbeefcafef00dULL;
    char buf[700];
    for (int round = 0; round < 3000; round++) {
        rs ^= rs << 13;
        rs ^= rs >> 7;
        rs ^= rs << 17;
        size_t start = rs % (sizeof pages - 1), n = (rs >> 20) % sizeof buf;
        if (start + n > sizeof pages - 1)
            n = sizeof pages - 1 - start;
        memcpy(buf, pages + start, n);
        for (int k = 0; k < 3 && n; k++) {
            rs ^= rs << 13;
            rs ^= rs >> 7;
            rs ^= rs << 17;
            buf[rs % n] = (char)(rs >> 40);
        }
        lackey_iter it;
        lackey_record r;
        lackey_iter_init(&it, buf, n);
        int rc;
        while ((rc = lackey_next(&it, &r)) == 1)
            if (r.kind == LACKEY_SYSCALL)
                assert_true(r.sc.nargs <= LACKEY_MAX_ARGS && r.sc.name != NULL);
        assert_int_equal(rc, 0);
        lackey_iter_free(&it);
    }
}

/* ---- debug.log ---------------------------------------------------------------------- */

static const char debuglog[] =
    "--25143:1:    main Running thread 1\n"
    "--25143:1: aspacem <<< SHOW_SEGMENTS: Memory layout at client startup (8 segments)\n"
    "--25143:1: aspacem 2 segment names in 2 slots\n"
    "--25143:1: aspacem freelist is empty\n"
    "--25143:1: aspacem (0,4,9) /usr/libexec/valgrind/lackey-amd64-linux\n"
    "--25143:1: aspacem (1,49,7) /usr/bin/sort\n"
    "--25143:1: aspacem (4,174,0) [free slot: size=17  next=0]\n"
    "--25143:1: aspacem   0: RSVN 0000000000-0000107fff 1081344 ----- SmFixed\n"
    "--25143:1: aspacem   1: file 0000108000-000010afff   12288 r---- d=0xfe00 i=248060  o=0       (1,49)\n"
    "--25143:1: aspacem   2: file 000010b000-000011cfff   73728 r-xT- d=0xfe00 i=248060  o=12288   (1,49)\n"
    "--25143:1: aspacem   3:      000011d000-0057ffffff   1335m\n"
    "--25143:1: aspacem   4: FILE 0058000000-0058000fff    4096 r---- d=0xfe00 i=335458  o=0       (0,4)\n"
    "--25143:1: aspacem   5: anon 0058001000-1ffeffefff  65472m rwx--\n"
    "--25143:1: aspacem   6: RSVN 1ffefff000-1ffeffffff    4096 ----- SmUpper\n"
    "--25143:1: aspacem   7: ANON 1fff000000-ffffffffffffffff  16383e rw---\n"
    "--25143:1: aspacem >>>\n"
    "--25143:1: aspacem allocated valgrind thread stack at 0x100278c000 size 1064960\n"
    "--25143:1: aspacem <<< SHOW_SEGMENTS: Memory layout at client shutdown (1 segments)\n"
    "--25143:1: aspacem   0: shm  0000000000-ffffffffffffffff  16383e rw--- CH\n"
    "--25143:1: aspacem >>>\n";

static void test_debuglog(void **state)
{
    (void)state;
    vg_debuglog d;
    assert_int_equal(vg_debuglog_parse(debuglog, strlen(debuglog), &d), 0);
    for (size_t i = 0; i < d.problems.n; i++)
        print_error("line %u: %s\n", d.problems.v[i].line, d.problems.v[i].reason);
    assert_int_equal(d.problems.n, 0);
    assert_int_equal(d.n, 2);
    const vg_layout *s = vg_debuglog_find(&d, "client startup");
    assert_non_null(s);
    assert_int_equal(s->pid, 25143);
    assert_int_equal(s->declared, 8);
    assert_int_equal(s->n, 8);
    assert_int_equal(s->line, 2);
    assert_int_equal(s->segs[0].kind, VG_SEG_RESERVATION);
    assert_string_equal(s->segs[0].rsvn, "SmFixed");
    assert_false(s->segs[0].client);
    const vg_segment *f = &s->segs[2];
    assert_int_equal(f->index, 2);
    assert_int_equal(f->kind, VG_SEG_FILE_CLIENT);
    assert_string_equal(f->kind_text, "file");
    assert_true(f->client);
    assert_int_equal(f->start, 0x10b000);
    assert_int_equal(f->last, 0x11cfff);
    assert_string_equal(f->perms, "r-xT-");
    assert_int_equal(f->prot, SIM_PROT_READ | SIM_PROT_EXEC);
    assert_true(f->has_file);
    assert_int_equal(f->dev, 0xfe00);
    assert_int_equal(f->inode, 248060);
    assert_int_equal(f->offset, 12288);
    assert_string_equal(f->path, "/usr/bin/sort");
    assert_int_equal(f->line, 10);
    assert_int_equal(s->segs[3].kind, VG_SEG_FREE);
    assert_string_equal(s->segs[3].kind_text, "");
    assert_string_equal(s->segs[4].path, "/usr/libexec/valgrind/lackey-amd64-linux");
    assert_int_equal(s->segs[4].kind, VG_SEG_FILE_VALGRIND);
    assert_int_equal(s->segs[5].kind, VG_SEG_ANON_CLIENT);
    assert_null(s->segs[5].path);
    assert_string_equal(s->segs[6].rsvn, "SmUpper");
    assert_int_equal(s->segs[7].last, UINT64_MAX);
    const vg_layout *e = vg_debuglog_find(&d, "client shutdown");
    assert_non_null(e);
    assert_int_equal(e->n, 1);
    assert_int_equal(e->segs[0].kind, VG_SEG_SHM_CLIENT);
    assert_string_equal(e->segs[0].kind_text, "shm");
    assert_null(vg_debuglog_find(&d, "client exit"));
    vg_debuglog_free(&d);
}

static void test_debuglog_malformed(void **state)
{
    (void)state;
    const char *text = "--1:1: aspacem <<< SHOW_SEGMENTS: Memory layout at x (2 segments)\n" /* 1 */
                       "--1:1: aspacem   0: BOGU 0000000000-0000000fff 4096 -----\n"       /* 2 */
                       "--1:1: aspacem   1: file 0000001000-0000001fff 4096 r---- (9,9)\n" /* 3 no name */
                       "--1:1: aspacem   2: anon 0000003000-0000002fff 4096 r----\n"       /* 4 last<start */
                       "--1:1: aspacem (1,2\n"                                             /* 5 */
                       "--1:1: aspacem something else\n"                                   /* 6 */
                       "--1:1: aspacem   3: anon 0000003000-0000003fff 4096 r---- zz\n"    /* 7 */
                       "--1:1: aspacem <<< SHOW_SEGMENTS: Memory layout at y (1 segments)\n" /* 8 nested */
                       "--1:1: aspacem   0: anon 0000003000-0000003fff 4096 r----\n";      /* 9 unclosed */
    vg_debuglog d;
    assert_int_equal(vg_debuglog_parse(text, strlen(text), &d), 0);
    for (uint32_t l = 2; l <= 9; l++) {
        if (!has_problem_at(&d.problems, l))
            print_error("line %u not reported\n", l);
        assert_true(has_problem_at(&d.problems, l));
    }
    assert_int_equal(d.n, 2);
    assert_int_equal(d.v[1].n, 1);
    vg_debuglog_free(&d);
}

/* ---- every lackey capture ------------------------------------------------------------- */

static bool exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

/* Lines starting with "SYSCALL[", counted without the parser. */
static size_t count_syscall_lines(const char *t, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n;) {
        if (n - i >= 8 && memcmp(t + i, "SYSCALL[", 8) == 0)
            c++;
        const char *nl = memchr(t + i, '\n', n - i);
        i = nl ? (size_t)(nl - t) + 1 : n;
    }
    return c;
}

/* "records=N" of command.txt's closing line, 0 if absent. */
static uint64_t command_records(const char *dir)
{
    char p[4200], *text;
    size_t len;
    snprintf(p, sizeof p, "%s/command.txt", dir);
    if (zread_file(p, &text, &len, NULL, 0) != 0)
        return 0;
    const char *r = strstr(text, "records=");
    uint64_t v = r ? strtoull(r + 8, NULL, 10) : 0;
    free(text);
    return v;
}

static bool in_client_segment(const vg_layout *l, uint64_t page, uint32_t prot)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->segs[i].client && page >= l->segs[i].start && page <= l->segs[i].last)
            return (l->segs[i].prot & prot) == prot;
    return false;
}

static void check_debuglog(const char *dir, const char *name, uint64_t first_fetch)
{
    char p[4200], err[512];
    snprintf(p, sizeof p, "%s/debug.log.zst", dir);
    vg_debuglog d;
    assert_int_equal(vg_debuglog_parse_file(p, &d, err, sizeof err), 0);
    assert_int_equal(d.problems.n, 0);
    const char *titles[] = {"client startup", "client shutdown"};
    for (int t = 0; t < 2; t++) {
        const vg_layout *l = vg_debuglog_find(&d, titles[t]);
        assert_non_null(l);
        assert_int_equal(l->n, l->declared);
        /* the table tiles the whole 64-bit space */
        assert_int_equal(l->segs[0].start, 0);
        assert_int_equal(l->segs[l->n - 1].last, UINT64_MAX);
        for (size_t i = 0; i < l->n; i++) {
            assert_int_equal(l->segs[i].index, i);
            if (i)
                assert_int_equal(l->segs[i].start, l->segs[i - 1].last + 1);
            if (l->segs[i].kind == VG_SEG_FILE_CLIENT || l->segs[i].kind == VG_SEG_FILE_VALGRIND)
                assert_non_null(l->segs[i].path);
        }
    }
    const vg_layout *st = vg_debuglog_find(&d, "client startup");
    assert_true(in_client_segment(st, first_fetch, SIM_PROT_EXEC));
    assert_true(in_client_segment(st, 0x5807d000, SIM_PROT_EXEC)); /* README: the trampoline page */
    print_message("%-16s debug.log: startup %zu segments, shutdown %zu segments\n", name, st->n,
                  vg_debuglog_find(&d, "client shutdown")->n);
    vg_debuglog_free(&d);
}

static size_t checked;

static void check_capture(const char *root, const char *name)
{
    char dir[4096], p[4200], err[512];
    snprintf(dir, sizeof dir, "%s/%s", root, name);
    snprintf(p, sizeof p, "%s/pages.txt.zst", dir);
    if (!exists(p))
        return;
    char *text;
    size_t len;
    assert_int_equal(zread_file(p, &text, &len, err, sizeof err), 0);
    lackey_iter it;
    lackey_record r;
    lackey_iter_init(&it, text, len);
    uint64_t first_fetch = 0, kinds[4] = {0, 0, 0, 0}, mmaps = 0;
    int rc;
    while ((rc = lackey_next(&it, &r)) == 1) {
        if (r.kind == LACKEY_ACCESS) {
            if (!first_fetch && r.access == 'I')
                first_fetch = r.page;
            kinds[strchr("IRWM", r.access) - "IRWM"]++;
            assert_int_equal(r.page & 0xfff, 0);
            continue;
        }
        int nr = sim_syscall_nr(r.sc.name, strlen(r.sc.name));
        if (nr >= 0)
            assert_int_equal(nr, r.sc.nr); /* valgrind's number = our table's */
        if (nr == 9 && r.sc.result == LACKEY_SUCCESS) {
            assert_int_equal(r.sc.nargs, 6);
            assert_int_equal(r.sc.value & 0xfff, 0);
            mmaps++;
        }
    }
    assert_int_equal(rc, 0);
    for (size_t i = 0; i < it.problems.n && i < 10; i++)
        print_error("%s line %u: %s\n", name, it.problems.v[i].line, it.problems.v[i].reason);
    assert_int_equal(it.problems.n, 0);
    assert_true(it.summary.present);
    assert_int_equal(it.naccess, it.summary.records);
    uint64_t cmd = command_records(dir);
    if (cmd)
        assert_int_equal(it.naccess, cmd);
    assert_int_equal(it.nsyscall_lines, count_syscall_lines(text, len));
    assert_true(mmaps > 0);
    print_message("%-16s %8llu access records = records= (I %llu, R %llu, W %llu, M %llu), %llu SYSCALL lines -> "
                  "%llu calls\n",
                  name, (unsigned long long)it.naccess, (unsigned long long)kinds[0], (unsigned long long)kinds[1],
                  (unsigned long long)kinds[2], (unsigned long long)kinds[3], (unsigned long long)it.nsyscall_lines,
                  (unsigned long long)it.nsyscall);
    lackey_iter_free(&it);
    free(text);
    check_debuglog(dir, name, first_fetch);
    checked++;
}

static void check_root(const char *root, const char *skip_root)
{
    DIR *d = opendir(root);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        char other[4096];
        if (de->d_name[0] == '.')
            continue;
        snprintf(other, sizeof other, "%s/%s", skip_root ? skip_root : "", de->d_name);
        if (skip_root && exists(other))
            continue;
        check_capture(root, de->d_name);
    }
    closedir(d);
}

static void test_all_captures(void **state)
{
    (void)state;
    check_root(MMK_SOURCE_DIR "/traces", NULL);
    size_t repo = checked;
    assert_true(repo >= 1); /* lackey_sort ships with the repo */
    check_root(MMK_SOURCE_DIR "/../shared/traces", MMK_SOURCE_DIR "/traces");
    print_message("lackey: %zu captures from the repo, %zu from ../shared/traces\n", repo, checked - repo);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_records),
        cmocka_unit_test(test_foreach),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_debuglog),
        cmocka_unit_test(test_debuglog_malformed),
        cmocka_unit_test(test_all_captures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
