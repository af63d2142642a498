/*
 * test_parse_faults: faults.tsv (traces/README.md, "faults.tsv: page faults
 * of the same run").  Literal rows, malformed rows reported with their line
 * numbers, garbage, and every capture's row count and per-class counts
 * equal to its stats.json ("faults": {"uW": .., "kWp": ..}).
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

#include "faults_parse.h"

static const char sample[] = "# ts\ttid\tkind\taddress\tip\terror_code\n"
                             "1795313689.494284\t22653\tk\t0x5627b71bc424\telf_load\t0x2\n"
                             "1795313689.494342\t22653\tu\t0x7f6861216b70\t0x7f6861216b70\t0x14\n"
                             "1795313775.135608\t24585\tu\t0x7f7adae06a88\t0x7f7adad00ed6\t0x7\n"
                             "1795313775.135609\t24585\tk\t0x7f7adae06a88\t__put_user_8\t0x3\n"
                             "1795313775.135610\t24585\tk\t0x7f7adae06000\telf_load\t0x0\n";

static void test_rows(void **state)
{
    (void)state;
    faults_file f;
    assert_int_equal(faults_parse(sample, strlen(sample), &f), 0);
    assert_int_equal(f.problems.n, 0);
    assert_int_equal(f.n, 5);
    assert_int_equal(f.lines, 6);
    const fault_rec *k = &f.v[0], *u = &f.v[1], *cow = &f.v[2];
    assert_int_equal(k->ts_us, 1795313689494284LL);
    assert_int_equal(k->tid, 22653);
    assert_int_equal(k->kind, 'k');
    assert_int_equal(k->addr, 0x5627b71bc424ULL);
    assert_int_equal(k->ip, 0);
    assert_string_equal(k->kfunc, "elf_load");
    assert_int_equal(k->error_code, SIM_PF_WRITE);
    assert_int_equal(k->line, 2);
    assert_int_equal(u->kind, 'u');
    assert_null(u->kfunc);
    assert_int_equal(u->ip, 0x7f6861216b70ULL);
    assert_int_equal(u->error_code, SIM_PF_INSTR | SIM_PF_USER);
    assert_int_equal(cow->error_code, SIM_PF_PRESENT | SIM_PF_WRITE | SIM_PF_USER);
    assert_ptr_equal(f.v[4].kfunc, f.v[0].kfunc); /* interned */
    char cls[4];
    faults_class(k, cls);
    assert_string_equal(cls, "kW");
    faults_class(u, cls);
    assert_string_equal(cls, "uX");
    faults_class(cow, cls);
    assert_string_equal(cls, "uWp");
    faults_class(&f.v[3], cls);
    assert_string_equal(cls, "kWp");
    faults_class(&f.v[4], cls);
    assert_string_equal(cls, "kR");
    faults_file_free(&f);
}

static bool has_problem_at(const faults_file *f, uint32_t line)
{
    for (size_t i = 0; i < f->problems.n; i++)
        if (f->problems.v[i].line == line)
            return true;
    return false;
}

static void test_malformed_rows(void **state)
{
    (void)state;
    const char *text = "1.5\t1\tu\t0x1000\t0x2000\t0x4\n"                    /* 1 ok */
                       "1.5\t1\tu\t0x1000\t0x2000\n"                         /* 2 five fields */
                       "1.5\t1\tx\t0x1000\t0x2000\t0x4\n"                    /* 3 kind */
                       "1.5\t0\tu\t0x1000\t0x2000\t0x4\n"                    /* 4 tid 0 */
                       "1.5\t1\tu\t1000\t0x2000\t0x4\n"                      /* 5 no 0x */
                       "1.5\t1\tu\t0x1000\telf_load\t0x4\n"                  /* 6 u with a name */
                       "1.5\t1\tk\t0x1000\t\t0x4\n"                          /* 7 k without a name */
                       "1\t1\tu\t0x1000\t0x2000\t0x4\n"                      /* 8 ts */
                       "1.5\t1\tu\t0x1000\t0x2000\t0x4\textra\n"             /* 9 seven fields */
                       "\n"                                                  /* 10 empty */
                       "1.5\t1\tu\t0x10000000000000000\t0x2000\t0x4\n"       /* 11 huge address */
                       "1.5\t1\tu\t0x1000\t0x2000\t0x100000000\n"            /* 12 huge code */
                       "1.5\t99999999999\tu\t0x1000\t0x2000\t0x4\n"          /* 13 huge tid */
                       "# a comment\n"                                       /* 14 skipped */
                       "2.5\t2\tk\t0x1000\tfilldir64\t0x2";                  /* 15 ok, no newline */
    faults_file f;
    assert_int_equal(faults_parse(text, strlen(text), &f), 0);
    for (uint32_t l = 2; l <= 13; l++) {
        if (!has_problem_at(&f, l))
            print_error("line %u not reported\n", l);
        assert_true(has_problem_at(&f, l));
    }
    assert_int_equal(f.problems.n, 12);
    assert_int_equal(f.n, 2);
    assert_int_equal(f.v[1].line, 15);
    assert_string_equal(f.v[1].kfunc, "filldir64");
    faults_file_free(&f);
}

static void test_garbage(void **state)
{
    (void)state;
    uint64_t r = 0x2545F4914F6CDD1DULL;
    char buf[400];
    for (int round = 0; round < 3000; round++) {
        size_t n = 0;
        while (n < sizeof buf - 1) {
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            if (r % 50 == 0)
                break;
            buf[n++] = "0123456789abcdefx.\t\nuk#_"[r % 25];
        }
        faults_file f;
        assert_int_equal(faults_parse(buf, n, &f), 0);
        for (size_t i = 0; i < f.n; i++)
            assert_true(f.v[i].line >= 1 && f.v[i].line <= f.lines);
        faults_file_free(&f);
    }
}

static void test_missing_file(void **state)
{
    (void)state;
    faults_file f;
    char err[256];
    assert_int_equal(faults_parse_file("/nonexistent/faults.tsv.zst", &f, err, sizeof err), -ENOENT);
    assert_non_null(strstr(err, "/nonexistent/faults.tsv.zst"));
    faults_file_free(&f);
}

/* ---- every capture -------------------------------------------------------------------- */

static size_t checked;

static bool exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

static void check_capture(const char *root, const char *name)
{
    char path[4096], err[512];
    snprintf(path, sizeof path, "%s/%s/faults.tsv.zst", root, name);
    if (!exists(path))
        return;
    faults_file f;
    assert_int_equal(faults_parse_file(path, &f, err, sizeof err), 0);
    for (size_t i = 0; i < f.problems.n && i < 10; i++)
        print_error("%s line %u: %s\n", name, f.problems.v[i].line, f.problems.v[i].reason);
    assert_int_equal(f.problems.n, 0);
    snprintf(path, sizeof path, "%s/%s/stats.json", root, name);
    json_error_t jerr;
    json_t *st = json_load_file(path, 0, &jerr);
    assert_non_null(st);
    json_t *want = json_object_get(st, "faults");
    size_t total = 0;
    const char *key;
    json_t *val;
    json_object_foreach(want, key, val)
    {
        size_t mine = 0;
        for (size_t i = 0; i < f.n; i++) {
            char cls[4];
            faults_class(&f.v[i], cls);
            mine += strcmp(cls, key) == 0;
        }
        assert_int_equal(mine, json_integer_value(val));
        total += mine;
    }
    assert_int_equal(total, f.n); /* no class missing */
    size_t nclasses = json_object_size(want);
    json_decref(st);
    snprintf(path, sizeof path, "%s/%s/meta.json", root, name);
    st = json_load_file(path, 0, &jerr);
    if (st) {
        json_t *n = json_object_get(st, "faults");
        if (n)
            assert_int_equal(f.n, json_integer_value(n));
        json_decref(st);
    }
    for (size_t i = 1; i < f.n; i++)
        assert_true(f.v[i].line > f.v[i - 1].line);
    print_message("%-16s %6zu faults = stats.json (%zu classes)\n", name, f.n, nclasses);
    checked++;
    faults_file_free(&f);
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
    assert_true(repo >= 3);
    check_root(MMK_SOURCE_DIR "/../shared/traces", MMK_SOURCE_DIR "/traces");
    print_message("faults.tsv: %zu captures from the repo, %zu from ../shared/traces\n", repo, checked - repo);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_malformed_rows),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_all_captures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
