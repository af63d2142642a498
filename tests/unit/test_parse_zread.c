/*
 * test_parse_zread: whole-file reading (plain and zstd: one frame, several
 * frames, no recorded content size, large expansion), errors naming the
 * file (missing, directory, truncated, corrupt), zread_capture's suffix
 * choice, the arena, the problem list and the shared number lexers.
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
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#include "zread.h"

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/mmk-test-zread-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *tmp_path(const char *name)
{
    static char p[512];
    snprintf(p, sizeof p, "%s/%s", tmpdir, name);
    return p;
}

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* zstd-compress src into a new buffer; content_size = 0 leaves it out of the header. */
static void *compress(const void *src, size_t n, bool content_size, size_t *out_n)
{
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    assert_non_null(cc);
    ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, content_size ? 1 : 0);
    size_t cap = ZSTD_compressBound(n);
    void *dst = malloc(cap);
    assert_non_null(dst);
    ZSTD_inBuffer in = {src, n, 0};
    ZSTD_outBuffer out = {dst, cap, 0};
    size_t left;
    do { /* streaming: no pledged size, so the header has no size unless asked */
        left = ZSTD_compressStream2(cc, &out, &in, ZSTD_e_end);
        assert_false(ZSTD_isError(left));
    } while (left != 0);
    ZSTD_freeCCtx(cc);
    *out_n = out.pos;
    return dst;
}

static void check_read(const char *path, const void *want, size_t n)
{
    char *data;
    size_t len;
    char err[256];
    assert_int_equal(zread_file(path, &data, &len, err, sizeof err), 0);
    assert_int_equal(len, n);
    assert_memory_equal(data, want, n);
    assert_int_equal(data[len], '\0');
    free(data);
}

static void test_plain(void **state)
{
    (void)state;
    const char text[] = "1 1.0 close(3) = 0\n\0binary\n";
    write_file(tmp_path("plain.txt"), text, sizeof text - 1);
    check_read(tmp_path("plain.txt"), text, sizeof text - 1);
    write_file(tmp_path("empty.txt"), "", 0);
    check_read(tmp_path("empty.txt"), "", 0);
    write_file(tmp_path("short.txt"), "(\xb5", 2); /* shorter than the zstd magic */
    check_read(tmp_path("short.txt"), "(\xb5", 2);
}

static void test_zstd_variants(void **state)
{
    (void)state;
    size_t n = 3 * 1000 * 1000;
    char *text = malloc(n);
    assert_non_null(text);
    for (size_t i = 0; i < n; i++)
        text[i] = (char)('a' + (i * 7 + i / 1000) % 26);
    size_t zn;
    void *z = compress(text, n, true, &zn);
    write_file(tmp_path("one.zst"), z, zn);
    check_read(tmp_path("one.zst"), text, n);
    free(z);

    z = compress(text, n, false, &zn);
    write_file(tmp_path("nosize.zst"), z, zn);
    check_read(tmp_path("nosize.zst"), text, n);

    /* two frames back to back decode to the concatenation */
    size_t zn2;
    void *z2 = compress(text, 1000, true, &zn2);
    char *both = malloc(zn + zn2);
    memcpy(both, z, zn);
    memcpy(both + zn, z2, zn2);
    write_file(tmp_path("two.zst"), both, zn + zn2);
    char *want = malloc(n + 1000);
    memcpy(want, text, n);
    memcpy(want + n, text, 1000);
    check_read(tmp_path("two.zst"), want, n + 1000);
    free(want);
    free(both);
    free(z2);
    free(z);

    /* 20 MB of zeros: a huge ratio, the buffer has to grow many times */
    size_t big = 20u << 20;
    char *zeros = calloc(big, 1);
    z = compress(zeros, big, false, &zn);
    assert_true(zn < big / 1000);
    write_file(tmp_path("zeros.zst"), z, zn);
    check_read(tmp_path("zeros.zst"), zeros, big);
    free(z);
    free(zeros);

    z = compress("", 0, true, &zn); /* an empty frame */
    write_file(tmp_path("emptyframe.zst"), z, zn);
    check_read(tmp_path("emptyframe.zst"), "", 0);
    free(z);
    free(text);
}

static void test_errors_name_the_file(void **state)
{
    (void)state;
    char *data = (char *)1;
    size_t len = 99;
    char err[256];
    assert_int_equal(zread_file(tmp_path("missing.zst"), &data, &len, err, sizeof err), -ENOENT);
    assert_null(data);
    assert_int_equal(len, 0);
    assert_non_null(strstr(err, tmp_path("missing.zst")));
    assert_int_equal(zread_file(tmpdir, &data, &len, err, sizeof err), -EISDIR);
    assert_non_null(strstr(err, tmpdir));
    assert_int_equal(zread_file(tmp_path("missing.zst"), &data, &len, NULL, 0), -ENOENT);

    const char text[] = "a line of text that zstd will compress into a frame, repeated; a line of text";
    size_t zn;
    char *z = compress(text, sizeof text, true, &zn);
    write_file(tmp_path("trunc.zst"), z, zn - 5);
    assert_int_equal(zread_file(tmp_path("trunc.zst"), &data, &len, err, sizeof err), -EINVAL);
    assert_null(data);
    assert_non_null(strstr(err, tmp_path("trunc.zst")));
    for (size_t i = 6; i < zn; i++)
        z[i] ^= 0x5a;
    write_file(tmp_path("corrupt.zst"), z, zn);
    assert_int_equal(zread_file(tmp_path("corrupt.zst"), &data, &len, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, tmp_path("corrupt.zst")));
    write_file(tmp_path("magic_only.zst"), "\x28\xb5\x2f\xfd", 4);
    assert_int_equal(zread_file(tmp_path("magic_only.zst"), &data, &len, err, sizeof err), -EINVAL);
    free(z);

    char small[8]; /* a short error buffer is truncated, not overrun */
    assert_int_equal(zread_file(tmp_path("missing.zst"), &data, &len, small, sizeof small), -ENOENT);
    assert_int_equal(strlen(small), 7);
}

static void test_capture_suffix(void **state)
{
    (void)state;
    char *data;
    size_t len;
    char err[512];
    size_t zn;
    void *z = compress("zstd copy", 9, true, &zn);
    write_file(tmp_path("a.txt.zst"), z, zn);
    write_file(tmp_path("a.txt"), "plain copy", 10);
    write_file(tmp_path("b.txt"), "only plain", 10);
    free(z);
    assert_int_equal(zread_capture(tmpdir, "a.txt", &data, &len, err, sizeof err), 0);
    assert_string_equal(data, "zstd copy");
    free(data);
    assert_int_equal(zread_capture(tmpdir, "b.txt", &data, &len, err, sizeof err), 0);
    assert_string_equal(data, "only plain");
    free(data);
    assert_int_equal(zread_capture(tmpdir, "c.txt", &data, &len, err, sizeof err), -ENOENT);
    assert_non_null(strstr(err, "c.txt.zst"));
    char longname[5000];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(zread_capture(tmpdir, longname, &data, &len, err, sizeof err), -ENAMETOOLONG);
}

static void test_arena(void **state)
{
    (void)state;
    sim_arena a = {0};
    char *prev = NULL;
    for (int i = 0; i < 20000; i++) {
        size_t sz = (size_t)(i * 37 % 500) + 1;
        char *p = sim_arena_alloc(&a, sz);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
        memset(p, i & 0xff, sz);
        if (prev)
            assert_int_equal((unsigned char)prev[0], (unsigned char)((i - 1) & 0xff)); /* untouched */
        prev = p;
    }
    char *huge = sim_arena_alloc(&a, 3u << 20); /* bigger than a block */
    assert_non_null(huge);
    memset(huge, 1, 3u << 20);
    char *after = sim_arena_alloc(&a, 16); /* the current block keeps serving */
    assert_non_null(after);
    char *s = sim_arena_strndup(&a, "abc\0def", 7);
    assert_memory_equal(s, "abc\0def", 8);
    assert_non_null(sim_arena_strndup(&a, "", 0));
    assert_true(a.total > 20000);
    sim_arena_free(&a);
    assert_null(a.head);
    assert_int_equal(a.total, 0);
    assert_non_null(sim_arena_alloc(&a, 8)); /* reusable */
    assert_null(sim_arena_alloc(&a, SIZE_MAX - 4));
    sim_arena_free(&a);
}

static void test_problems(void **state)
{
    (void)state;
    sim_problems p = {0};
    for (unsigned i = 1; i <= 1000; i++)
        sim_problems_add(&p, i, "problem %u %s", i, i == 7 ? "x" : "");
    assert_int_equal(p.n, 1000);
    assert_int_equal(p.v[6].line, 7);
    assert_string_equal(p.v[6].reason, "problem 7 x");
    char longer[400];
    memset(longer, 'y', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    sim_problems_add(&p, 1001, "%s", longer);
    assert_int_equal(strlen(p.v[1000].reason), sizeof p.v[1000].reason - 1);
    assert_int_equal(p.dropped, 0);
    sim_problems_free(&p);
    assert_int_equal(p.n, 0);
    assert_null(p.v);
}

static void test_lexers(void **state)
{
    (void)state;
    int64_t us;
    assert_int_equal(sim_parse_ts_us("1795313689.494834 rest", 22, &us), 17);
    assert_int_equal(us, 1795313689494834LL);
    assert_int_equal(sim_parse_ts_us("1.5", 3, &us), 3);
    assert_int_equal(us, 1500000);
    assert_int_equal(sim_parse_ts_us("1.123456789", 11, &us), 11);
    assert_int_equal(us, 1123456);
    assert_int_equal(sim_parse_ts_us("0.000001", 8, &us), 8);
    assert_int_equal(us, 1);
    assert_int_equal(sim_parse_ts_us("1.1234567890", 12, &us), 0); /* 10 fraction digits */
    assert_int_equal(sim_parse_ts_us("1.", 2, &us), 0);
    assert_int_equal(sim_parse_ts_us(".5", 2, &us), 0);
    assert_int_equal(sim_parse_ts_us("15", 2, &us), 0);
    assert_int_equal(sim_parse_ts_us("1.5", 2, &us), 0); /* the length bounds the read */
    assert_int_equal(sim_parse_ts_us("99999999999999999.0", 19, &us), 0);
    assert_int_equal(sim_parse_ts_us("", 0, &us), 0);

    uint64_t v;
    assert_int_equal(sim_parse_u64("0x1f)", 5, 0, &v), 4);
    assert_int_equal(v, 0x1f);
    assert_int_equal(sim_parse_u64("0755", 4, 0, &v), 4);
    assert_int_equal(v, 0755);
    assert_int_equal(sim_parse_u64("0", 1, 0, &v), 1);
    assert_int_equal(v, 0);
    assert_int_equal(sim_parse_u64("0x", 2, 0, &v), 1); /* just the zero */
    assert_int_equal(sim_parse_u64("4a2a740", 7, 16, &v), 7);
    assert_int_equal(v, 0x4a2a740);
    assert_int_equal(sim_parse_u64("0x4a", 4, 16, &v), 4);
    assert_int_equal(sim_parse_u64("18446744073709551615", 20, 10, &v), 20);
    assert_int_equal(v, UINT64_MAX);
    assert_int_equal(sim_parse_u64("18446744073709551616", 20, 10, &v), 0);
    assert_int_equal(sim_parse_u64("ffffffffffffffff0", 17, 16, &v), 0);
    assert_int_equal(sim_parse_u64("x", 1, 10, &v), 0);
    assert_int_equal(sim_parse_u64("123", 0, 10, &v), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_zstd_variants),
        cmocka_unit_test(test_errors_name_the_file),
        cmocka_unit_test(test_capture_suffix),
        cmocka_unit_test(test_arena),
        cmocka_unit_test(test_problems),
        cmocka_unit_test(test_lexers),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
