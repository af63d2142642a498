/*
 * test_parse_maps: maps.txt snapshots (traces/README.md, "maps.txt: layout
 * snapshots").  Literal lines of every shape, malformed input reported
 * with line numbers, and the formatters reproducing every line of every
 * capture's maps.txt byte for byte; snapshot counts equal stats.json's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "maps_parse.h"
#include "symbols.h"

/* ---- literal lines ------------------------------------------------------------------ */

static void roundtrip_line(const char *line)
{
    maps_entry e;
    const char *path;
    size_t plen;
    assert_int_equal(maps_parse_line(line, strlen(line), &e, &path, &plen), 0);
    char pbuf[512];
    snprintf(pbuf, sizeof pbuf, "%.*s", (int)plen, path);
    e.path = pbuf;
    char out[600];
    size_t n = maps_format_entry(&e, out, sizeof out);
    assert_string_equal(out, line);
    assert_int_equal(n, strlen(line));
}

static void test_line_shapes(void **state)
{
    (void)state;
    const char *file = "55c5a1482000-55c5a1488000 r-xp 00002000 fe:00 247229                     /usr/bin/cut";
    maps_entry e;
    const char *path;
    size_t plen;
    assert_int_equal(maps_parse_line(file, strlen(file), &e, &path, &plen), 0);
    assert_int_equal(e.start, 0x55c5a1482000ULL);
    assert_int_equal(e.end, 0x55c5a1488000ULL);
    assert_string_equal(e.perms, "r-xp");
    assert_int_equal(e.prot, SIM_PROT_READ | SIM_PROT_EXEC);
    assert_false(e.shared);
    assert_int_equal(e.offset, 0x2000);
    assert_int_equal(e.dev_major, 0xfe);
    assert_int_equal(e.dev_minor, 0);
    assert_int_equal(e.inode, 247229);
    assert_int_equal(plen, 12);
    assert_memory_equal(path, "/usr/bin/cut", 12);
    assert_false(e.deleted);

    const char *anon = "7f8370707000-7f8370787000 rw-p 00000000 00:00 0 ";
    assert_int_equal(maps_parse_line(anon, strlen(anon), &e, &path, &plen), 0);
    assert_int_equal(plen, 0);
    assert_int_equal(e.prot, SIM_PROT_READ | SIM_PROT_WRITE);

    const char *shm = "7f83707c7000-7f83707cb000 rw-s 00000000 00:01 1070                       /dev/zero (deleted)";
    assert_int_equal(maps_parse_line(shm, strlen(shm), &e, &path, &plen), 0);
    assert_true(e.shared);
    assert_true(e.deleted);
    assert_int_equal(e.dev_minor, 1);

    roundtrip_line(file);
    roundtrip_line(anon);
    roundtrip_line(shm);
    roundtrip_line("0053e000-00541000 rw-p 00000000 00:00 0 ");
    roundtrip_line("00400000-00401000 r--p 00000000 fe:00 123                                /short/addresses");
    roundtrip_line("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]");
    roundtrip_line("564081b3c000-564081b6d000 rw-p 00000000 00:00 0                          [heap]");
    roundtrip_line("7f0000000000-7f0000001000 r--s 00000000 fe:00 10953228                   /tmp/with space/a b (deleted)");
    /* a 71-character prefix is padded to 72, then one space: three in all */
    roundtrip_line("7f0000000000-7f0000001000 ---p 123456789abc fe:00 18446744073709551615   /long/prefix");
    /* past 72 characters there is no padding, only the extra space */
    roundtrip_line("ffffffffff600000-ffffffffff601000 --xp 123456789abc 1fe:1ff 18446744073709551615  /longer");
}

static void test_bad_lines(void **state)
{
    (void)state;
    const char *bad[] = {
        "",
        "garbage",
        "0x1000-0x2000 r--p 00000000 00:00 0",
        "2000-1000 r--p 00000000 00:00 0",
        "1000-2000 r--q 00000000 00:00 0",
        "1000-2000 r--p 00000000 00-00 0",
        "1000-2000 r--p 00000000 00:00",
        "1000-2000 r--p 00000000 00:00 x",
        "1000-2000 r--p 00000000 00:00 12x /p",
        "1000-2000 rw-p",
        "1000-2000  r--p 00000000 00:00 0",
        "10000000000000000-20000000000000000 r--p 0 00:00 0",
        "1000-2000 r--p 0 100000000:00 0",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        maps_entry e;
        const char *p;
        size_t pl;
        if (maps_parse_line(bad[i], strlen(bad[i]), &e, &p, &pl) != -EINVAL)
            print_error("accepted: '%s'\n", bad[i]);
        assert_int_equal(maps_parse_line(bad[i], strlen(bad[i]), &e, &p, &pl), -EINVAL);
    }
}

static const char sample[] =
    "@@ exec tgid=24770 tid=24770 ts=1795313791.525907 exe=/usr/bin/cut\n"
    "55c5a1480000-55c5a1482000 r--p 00000000 fe:00 247229                     /usr/bin/cut\n"
    "7ffdcb81b000-7ffdcb83c000 rw-p 00000000 00:00 0                          [stack]\n"
    "@@ end\n"
    "@@ exit_group tgid=24770 tid=24771 ts=1795313791.733156 exe=/usr/bin/cut\n"
    "55c5c0659000-55c5c067a000 rw-p 00000000 00:00 0                          [heap]\n"
    "7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \n"
    "@@ end\n"
    "@@ exec tgid=5 tid=5 ts=1.000001 exe=/bin/with space\n"
    "@@ end\n";

static void test_snapshots(void **state)
{
    (void)state;
    maps_file m;
    assert_int_equal(maps_parse(sample, strlen(sample), &m), 0);
    assert_int_equal(m.problems.n, 0);
    assert_int_equal(m.n, 3);
    assert_int_equal(maps_count(&m, MAPS_EXEC), 2);
    assert_int_equal(maps_count(&m, MAPS_EXIT_GROUP), 1);
    const maps_snapshot *a = &m.snaps[0], *b = &m.snaps[1], *c = &m.snaps[2];
    assert_int_equal(a->event, MAPS_EXEC);
    assert_int_equal(a->tgid, 24770);
    assert_int_equal(a->ts_us, 1795313791525907LL);
    assert_string_equal(a->ts_text, "1795313791.525907");
    assert_string_equal(a->exe, "/usr/bin/cut");
    assert_int_equal(a->n, 2);
    assert_int_equal(a->line, 1);
    assert_int_equal(a->entries[1].line, 3);
    assert_string_equal(a->entries[1].path, "[stack]");
    assert_int_equal(b->event, MAPS_EXIT_GROUP);
    assert_int_equal(b->tid, 24771);
    assert_string_equal(b->entries[1].path, "");
    assert_int_equal(c->n, 0);
    assert_string_equal(c->exe, "/bin/with space");
    char buf[256];
    maps_format_header(b, buf, sizeof buf);
    assert_string_equal(buf, "@@ exit_group tgid=24770 tid=24771 ts=1795313791.733156 exe=/usr/bin/cut");
    maps_snapshot copy = *a;
    copy.ts_text = NULL; /* falls back to seconds.microseconds */
    copy.ts_us = 1000000000000005LL;
    maps_format_header(&copy, buf, sizeof buf);
    assert_string_equal(buf, "@@ exec tgid=24770 tid=24770 ts=1000000000.000005 exe=/usr/bin/cut");
    maps_file_free(&m);
}

static bool has_problem_at(const maps_file *m, uint32_t line)
{
    for (size_t i = 0; i < m->problems.n; i++)
        if (m->problems.v[i].line == line)
            return true;
    return false;
}

static void test_malformed_file(void **state)
{
    (void)state;
    const char *text = "1000-2000 r--p 00000000 00:00 0\n"                      /* 1 outside */
                       "@@ end\n"                                              /* 2 no header */
                       "@@ exec tgid=1 tid=1 ts=1.5 exe=/x\n"                  /* 3 ok */
                       "1000-2000 r--p 00000000 00:00 0\n"                     /* 4 ok */
                       "junk\n"                                                /* 5 */
                       "@@ exit_group tgid=1 tid=1 ts=2.5 exe=/x\n"            /* 6 no end before */
                       "@@ fork tgid=1 tid=1 ts=2.5 exe=/x\n"                  /* 7 bad event */
                       "@@ exec tgid=x tid=1 ts=2.5 exe=/x\n"                  /* 8 bad tgid */
                       "@@ exec tgid=1 tid=1 ts=2 exe=/x\n"                    /* 9 bad ts */
                       "@@ exec tgid=1 tid=1 ts=2.5 exe=/y\n"                  /* 10 ok, unclosed */
                       "2000-3000 rw-p 00000000 00:00 0 \n";                   /* 11 ok */
    maps_file m;
    assert_int_equal(maps_parse(text, strlen(text), &m), 0);
    uint32_t bad[] = {1, 2, 5, 6, 7, 8, 9, 11};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (!has_problem_at(&m, bad[i]))
            print_error("line %u not reported\n", bad[i]);
        assert_true(has_problem_at(&m, bad[i]));
    }
    assert_false(has_problem_at(&m, 3));
    assert_false(has_problem_at(&m, 4));
    assert_int_equal(m.n, 3); /* line 3's, line 6's (closed by line 7), line 10's (at EOF) */
    assert_int_equal(m.snaps[0].n, 1);
    assert_int_equal(m.snaps[2].n, 1);
    maps_file_free(&m);
}

static uint64_t rng = 88172645463325252ULL;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void test_garbage(void **state)
{
    (void)state;
    char buf[600];
    for (int round = 0; round < 3000; round++) {
        size_t n = rnd() % sizeof buf;
        size_t k = rnd() % sizeof sample;
        memcpy(buf, sample, k < n ? k : n);
        for (size_t i = k; i < n; i++)
            buf[i] = "0123456789abcdef-:@ rwxps\n"[rnd() % 26];
        for (int flips = 0; flips < 4 && n; flips++)
            buf[rnd() % n] = (char)(rnd() & 0xff);
        maps_file m;
        assert_int_equal(maps_parse(buf, n, &m), 0);
        for (size_t s = 0; s < m.n; s++)
            for (size_t e = 0; e < m.snaps[s].n; e++) {
                char out[700];
                maps_format_entry(&m.snaps[s].entries[e], out, sizeof out);
                assert_true(m.snaps[s].entries[e].line <= m.lines);
            }
        maps_file_free(&m);
    }
}

/* ---- every capture ------------------------------------------------------------------- */

static size_t count_roundtrip(const char *text, size_t len, const maps_file *m)
{
    /* Rebuild the whole file from the parse and compare it with the original. */
    size_t cap = len + 1024, off = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    size_t lines = 0;
    for (size_t s = 0; s < m->n; s++) {
        const maps_snapshot *sn = &m->snaps[s];
        off += maps_format_header(sn, out + off, cap - off);
        out[off++] = '\n';
        for (size_t e = 0; e < sn->n; e++) {
            assert_true(cap - off > 600);
            off += maps_format_entry(&sn->entries[e], out + off, cap - off);
            out[off++] = '\n';
        }
        assert_true(cap - off > 8);
        memcpy(out + off, "@@ end\n", 7);
        off += 7;
        lines += sn->n + 2;
        assert_true(off <= len);
        if (memcmp(out, text, off) != 0) {
            size_t i = 0;
            while (out[i] == text[i])
                i++;
            print_error("first difference at byte %zu: got '%.60s' want '%.60s'\n", i, out + i, text + i);
        }
        assert_memory_equal(out, text, off);
    }
    assert_int_equal(off, len);
    free(out);
    return lines;
}

static bool exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

static size_t checked_captures;

static void check_capture(const char *dir, const char *name)
{
    char path[4096], err[512];
    snprintf(path, sizeof path, "%s/%s/maps.txt.zst", dir, name);
    if (!exists(path))
        return;
    char *text;
    size_t len;
    assert_int_equal(zread_file(path, &text, &len, err, sizeof err), 0);
    maps_file m;
    assert_int_equal(maps_parse(text, len, &m), 0);
    for (size_t i = 0; i < m.problems.n && i < 10; i++)
        print_error("%s line %u: %s\n", name, m.problems.v[i].line, m.problems.v[i].reason);
    assert_int_equal(m.problems.n, 0);
    size_t lines = count_roundtrip(text, len, &m);
    assert_int_equal(lines, m.lines);
    snprintf(path, sizeof path, "%s/%s/stats.json", dir, name);
    json_error_t jerr;
    json_t *st = json_load_file(path, 0, &jerr);
    size_t want_exec = 0, want_exit = 0;
    if (st) {
        json_t *ms = json_object_get(st, "maps_snapshots");
        want_exec = (size_t)json_integer_value(json_object_get(ms, "exec"));
        want_exit = (size_t)json_integer_value(json_object_get(ms, "exit_group"));
        assert_int_equal(maps_count(&m, MAPS_EXEC), want_exec);
        assert_int_equal(maps_count(&m, MAPS_EXIT_GROUP), want_exit);
        json_decref(st);
    }
    print_message("%-16s %4zu snapshots (%zu exec, %zu exit_group = stats.json), %5zu lines reproduced byte for "
                  "byte\n",
                  name, m.n, maps_count(&m, MAPS_EXEC), maps_count(&m, MAPS_EXIT_GROUP), lines);
    checked_captures++;
    maps_file_free(&m);
    free(text);
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
            continue; /* already checked from the repo's copy */
        check_capture(root, de->d_name);
    }
    closedir(d);
}

static void test_all_captures_roundtrip(void **state)
{
    (void)state;
    check_root(MMK_SOURCE_DIR "/traces", NULL);
    size_t repo = checked_captures;
    assert_true(repo >= 3);
    check_root(MMK_SOURCE_DIR "/../shared/traces", MMK_SOURCE_DIR "/traces");
    print_message("maps.txt: %zu captures from the repo, %zu from ../shared/traces\n", repo,
                  checked_captures - repo);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_shapes),
        cmocka_unit_test(test_bad_lines),
        cmocka_unit_test(test_snapshots),
        cmocka_unit_test(test_malformed_file),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_all_captures_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
