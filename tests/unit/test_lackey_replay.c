/*
 * test_lackey_replay.c - the valgrind page-reference captures replayed
 * against mmk (tools/mmk-sim/lackey_replay.h): every access record lands on
 * a page that allows it, every memory call's outcome matches, the access
 * count equals the capture's own closing count, the JSON report has its
 * keys, and the frames come back (leak baseline).  lackey_gzip lives in the
 * shared traces directory and is skipped when absent; a missing capture
 * directory is "unreadable input" (2).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lackey_parse.h"
#include "lackey_replay.h"
#include "sim_boot.h"

#define SORT_DIR MMK_SOURCE_DIR "/traces/lackey_sort"
#define GZIP_DIR MMK_SOURCE_DIR "/../shared/traces/lackey_gzip"

static const char *const json_keys[] = {
	"accesses",	    "faults",		   "accesses_refused", "syscalls", "syscalls_matched",
	"unexplained_lines", "resident_bytes_peak", "timeline",
};

/* The reducer's closing count "records=N" of pages.txt, read independently
 * of the replay through the parser's summary. */
static uint64_t capture_records(const char *dir)
{
	char *text, err[256];
	size_t len;
	assert_int_equal(zread_capture(dir, "pages.txt", &text, &len, err, sizeof(err)), 0);
	lackey_iter it;
	lackey_record rec;
	lackey_iter_init(&it, text, len);
	while (lackey_next(&it, &rec) == 1)
		;
	assert_true(it.summary.present);
	uint64_t n = it.summary.records;
	lackey_iter_free(&it);
	free(text);
	return n;
}

static bool dir_exists(const char *dir)
{
	struct stat st;
	return stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static json_int_t json_get(json_t *root, const char *key)
{
	json_t *v = json_object_get(root, key);
	assert_non_null(v);
	assert_true(json_is_integer(v));
	return json_integer_value(v);
}

/* The JSON report: every key, accesses as expected, a timeline of samples
 * whose last point is the end of the run. */
static void check_json(const char *path, uint64_t records)
{
	json_error_t jerr;
	json_t *root = json_load_file(path, 0, &jerr);
	assert_non_null(root);
	for (size_t i = 0; i < sizeof(json_keys) / sizeof(json_keys[0]); i++)
		assert_non_null(json_object_get(root, json_keys[i]));
	assert_int_equal(json_get(root, "accesses"), records);
	assert_int_equal(json_get(root, "accesses_refused"), 0);
	assert_int_equal(json_get(root, "syscalls"), json_get(root, "syscalls_matched"));
	json_t *tl = json_object_get(root, "timeline");
	assert_true(json_is_array(tl));
	assert_in_range(json_array_size(tl), 20, 21);
	json_t *last = json_array_get(tl, json_array_size(tl) - 1);
	assert_int_equal(json_get(last, "records"), records);
	assert_int_equal(json_get(last, "faults"), json_get(root, "faults"));
	assert_true(json_get(root, "resident_bytes_peak") >= json_get(last, "resident_bytes"));
	json_decref(root);
}

/* Replay dir on a fresh 1 GiB machine and check everything the header
 * promises for a clean capture. */
static void replay_clean(const char *dir, const char *tag)
{
	uint64_t records = capture_records(dir);
	struct sim_system s;
	assert_int_equal(sim_system_boot(&s, 1ull << 30, 1), 0);
	uint64_t free0 = sim_system_free_frames(&s);

	char json[512];
	snprintf(json, sizeof(json), "%s/test_lackey_replay_%s_%d.json", MMK_BINARY_DIR, tag, (int)getpid());
	char *text = NULL;
	size_t tlen = 0;
	FILE *out = open_memstream(&text, &tlen);
	assert_non_null(out);
	double t0 = now_s();
	int rc = lackey_replay(&s, dir, out, json);
	double dt = now_s() - t0;
	fclose(out);
	printf("%s(%.2f s)\n", text, dt);

	assert_int_equal(rc, 0);
	assert_non_null(strstr(text, "accesses refused    0\n"));
	check_json(json, records);
	json_t *root = json_load_file(json, 0, NULL);
	assert_true(json_get(root, "faults") > 0);
	assert_true(json_get(root, "syscalls") > 0);
	assert_int_equal(json_get(root, "unexplained_lines"), 0);
	json_decref(root);
	remove(json);
	free(text);

	vm_system_reap(&s.vm);
	assert_int_equal(sim_system_free_frames(&s), free0);
	assert_int_equal(s.vm.spaces, 0);
	assert_int_equal(sim_system_shutdown(&s), 0);
}

static void test_sort_replays_clean(void **state)
{
	(void)state;
	replay_clean(SORT_DIR, "sort");
}

static void test_gzip_replays_clean(void **state)
{
	(void)state;
	if (!dir_exists(GZIP_DIR))
		skip();
	replay_clean(GZIP_DIR, "gzip");
}

/* ---- a small synthetic capture: refusals and mismatches are caught ---- */

/* Lines 4, 5, 11 and 13 are refused (a store to a read-only page, nothing
 * mapped, a page mremap moved away, an unmapped page); the mprotect of a
 * hole succeeded in the "capture" but cannot in mmk; the shared writable
 * mapping of a read-only file fails with EACCES there and here. */
static const char synth_pages[] =
	"I 10b000\n"                                                                         /* 1 */
	"W 1fff000000\n"                                                                     /* 2 */
	"W 1ffe900000\n"                                                                     /* 3: stack growth */
	"W 108000\n"                                                                         /* 4 */
	"R 5000000\n"                                                                        /* 5 */
	"SYSCALL[7,1](9) sys_mmap ( 0x0, 8192, 3, 34, 4294967295, 0 ) --> [pre-success] Success(0x4835000) \n"
	"M 4836000\n"                                                                        /* 7 */
	"SYSCALL[7,1](25) sys_mremap ( 0x4835000, 8192, 16384, 1, 0x0 )[sync] --> Success(0x4900000) \n"
	"W 4903000\n"                                                                        /* 9 */
	"SYSCALL[7,1](11) sys_munmap ( 0x4900000, 16384 )[sync] --> Success(0x0) \n"
	"R 4835000\n"                                                                        /* 11 */
	"SYSCALL[7,1](10) sys_mprotect ( 0x5000000, 4096, 1 )[sync] --> Success(0x0) \n" /* 12: mismatch */
	"R 4900000\n"                                                                        /* 13 */
	"SYSCALL[7,1](257) sys_openat ( 4294967196, 0x4034bb0(/tmp/data.bin), 0 ) --> [async] ... \n"
	"SYSCALL[7,1](257) ... [async] --> Success(0x5) \n"
	"SYSCALL[7,1](9) sys_mmap ( 0x0, 4096, 3, 1, 5, 0 ) --> [pre-success] Failure(0xd) \n"
	"SYSCALL[7,1](12) sys_brk ( 0x0 ) --> [pre-success] Success(0x4035000) \n"
	"SYSCALL[7,1](12) sys_brk ( 0x4037000 ) --> [pre-success] Success(0x4037000) \n"
	"W 4036000\n"
	"# raw accesses: I=1 R=3 W=5 M=1; records=10\n";

static void write_file(const char *dir, const char *name, const char *data, size_t len)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void remove_file(const char *dir, const char *name)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	remove(path);
}

static void test_synthetic_mismatches_are_reported(void **state)
{
	(void)state;
	char dir[] = MMK_BINARY_DIR "/lackey_synth_XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *dlog, err[256];
	size_t dlen;
	/* The real startup table of lackey_sort, as a plain (uncompressed) file. */
	assert_int_equal(zread_capture(SORT_DIR, "debug.log", &dlog, &dlen, err, sizeof(err)), 0);
	write_file(dir, "debug.log", dlog, dlen);
	free(dlog);
	write_file(dir, "pages.txt", synth_pages, sizeof(synth_pages) - 1);

	struct sim_system s;
	assert_int_equal(sim_system_boot(&s, 256ull << 20, 1), 0);
	uint64_t free0 = sim_system_free_frames(&s);
	char json[700], *text = NULL;
	size_t tlen = 0;
	snprintf(json, sizeof(json), "%s/out.json", dir);
	FILE *out = open_memstream(&text, &tlen);
	assert_non_null(out);
	assert_int_equal(lackey_replay(&s, dir, out, json), 1);
	fclose(out);
	printf("%s", text);
	assert_non_null(strstr(text, "pages.txt:4: W 0x108000 refused"));
	assert_non_null(strstr(text, "pages.txt:5: R 0x5000000 refused"));
	assert_non_null(strstr(text, "pages.txt:11: R 0x4835000 refused"));
	assert_non_null(strstr(text, "pages.txt:13: R 0x4900000 refused"));
	assert_non_null(strstr(text, "pages.txt:12: sys_mprotect"));

	json_t *root = json_load_file(json, 0, NULL);
	assert_non_null(root);
	assert_int_equal(json_get(root, "accesses"), 10);
	assert_int_equal(json_get(root, "accesses_refused"), 4);
	assert_int_equal(json_get(root, "syscalls"), 7);
	assert_int_equal(json_get(root, "syscalls_matched"), 6);
	assert_int_equal(json_get(root, "unexplained_lines"), 0);
	assert_true(json_get(root, "faults") >= 6);
	json_decref(root);
	free(text);

	assert_int_equal(sim_system_free_frames(&s), free0);
	assert_int_equal(sim_system_shutdown(&s), 0);
	remove_file(dir, "debug.log");
	remove_file(dir, "pages.txt");
	remove_file(dir, "out.json");
	rmdir(dir);
}

static void test_missing_directory_is_unreadable(void **state)
{
	(void)state;
	struct sim_system s;
	assert_int_equal(sim_system_boot(&s, 64ull << 20, 1), 0);
	uint64_t free0 = sim_system_free_frames(&s);
	assert_int_equal(lackey_replay(&s, MMK_SOURCE_DIR "/traces/no_such_capture", NULL, NULL), 2);
	assert_int_equal(sim_system_free_frames(&s), free0);
	assert_int_equal(sim_system_shutdown(&s), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing_directory_is_unreadable),
		cmocka_unit_test(test_synthetic_mismatches_are_reported),
		cmocka_unit_test(test_sort_replays_clean),
		cmocka_unit_test(test_gzip_replays_clean),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
