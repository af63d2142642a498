/*
 * test_trace_replay: the replay engine on the captures shipped in traces/,
 * through its library interface, with the properties the main job promises:
 * every call and fault as Linux's, exit layouts equal page by page, the
 * deliberate SIGSEGVs of mm_exerciser reproduced, no frame leaked, the JSON
 * report carrying its keys; and a tampered capture caught.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "replay.h"
#include "report.h"

static struct sim_system *boot(void)
{
	struct sim_system *s = calloc(1, sizeof(*s));
	assert_int_equal(sim_system_boot(s, 1ull << 30, 1), 0);
	return s;
}

static int replay_dir(struct sim_system *s, const char *dir, struct replay_report *rep)
{
	struct capture c;
	char err[512];
	assert_int_equal(capture_load(dir, &c, err, sizeof(err)), 0);
	struct replay_options opt = { .log = stderr, .max_messages = 20 };
	int rc = replay_capture(s, &c, &opt, rep);
	capture_free(&c);
	return rc;
}

static void assert_clean(const struct replay_report *r)
{
	assert_true(r->calls > 0);
	assert_int_equal(r->calls, r->calls_matched);
	assert_int_equal(r->unexplained_lines, 0);
	assert_int_equal(r->faults_refused, 0);
	assert_int_equal(r->faults_segv_missed, 0);
	assert_true(r->layouts_compared > 0);
	assert_int_equal(r->layout_mismatched_pages, 0);
	assert_int_equal(r->frames_leaked, 0);
	/* sum(PSS) + page cache + unmapped anons == user frames after every
	 * process exit and at the end (replay.c checks; here, that it did). */
	assert_true(r->attrib_checks >= r->layouts_compared + 1);
	assert_int_equal(r->attrib_mismatches, 0);
	assert_int_equal(r->attrib.pss_bytes_total + r->attrib.page_cache_bytes + r->attrib.anon_unmapped_bytes,
			 r->attrib.user_frames_bytes);
	assert_true(r->attrib.pss_bytes_total > 0);
}

static void test_gcc_hello(void **state)
{
	(void)state;
	struct sim_system *s = boot();
	uint64_t free0 = sim_system_free_frames(s);
	struct replay_report rep;
	assert_int_equal(replay_dir(s, MMK_SOURCE_DIR "/traces/gcc_hello", &rep), 0);
	assert_clean(&rep);
	assert_int_equal(rep.layouts_compared, 5); /* driver, cc1, as, collect2, ld */
	assert_true(rep.faults_ok > 4000);
	assert_int_equal(sim_system_free_frames(s), free0);
	replay_report_free(&rep);
	assert_int_equal(sim_system_shutdown(s), 0);
	free(s);
}

static void test_mm_exerciser_segv(void **state)
{
	(void)state;
	struct sim_system *s = boot();
	struct replay_report rep;
	assert_int_equal(replay_dir(s, MMK_SOURCE_DIR "/traces/mm_exerciser", &rep), 0);
	assert_clean(&rep);
	/* The PROT_NONE touch in the parent and the MADV_DONTFORK touch in the
	 * child are refused, as Linux refused them. */
	assert_int_equal(rep.faults_segv_expected, 2);
	replay_report_free(&rep);
	assert_int_equal(sim_system_shutdown(s), 0);
	free(s);
}

static void test_json_keys(void **state)
{
	(void)state;
	struct sim_system *s = boot();
	struct replay_report rep;
	assert_int_equal(replay_dir(s, MMK_SOURCE_DIR "/traces/shell_pipeline", &rep), 0);
	char path[] = "/tmp/mmk-test-json-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(report_json(path, &rep, 1, s), 0);
	json_error_t err;
	json_t *root = json_load_file(path, 0, &err);
	assert_non_null(root);
	static const char *const keys[] = { "calls", "calls_matched", "unexplained_lines", "faults", "faults_refused",
					    "layout_mismatched_pages", "processes", "frames", "buddy_free_blocks",
					    "ns_per_call" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_non_null(json_object_get(root, keys[i]));
	json_t *procs = json_object_get(root, "processes");
	assert_true(json_array_size(procs) >= 20);
	json_t *p0 = json_array_get(procs, 0);
	static const char *const pkeys[] = { "tgid", "vmas", "mapped_bytes", "resident_bytes", "faults" };
	for (size_t i = 0; i < sizeof(pkeys) / sizeof(pkeys[0]); i++)
		assert_non_null(json_object_get(p0, pkeys[i]));
	assert_int_equal(json_integer_value(json_object_get(root, "calls")), (json_int_t)rep.calls);
	static const char *const mkeys[] = { "cow_copies", "zero_fills", "page_ins", "page_outs", "user_frames_bytes",
					     "pss_bytes_total", "shared_frames_saved", "page_cache_bytes" };
	for (size_t i = 0; i < sizeof(mkeys) / sizeof(mkeys[0]); i++)
		assert_true(json_is_integer(json_object_get(root, mkeys[i])));
	for (size_t i = 0; i < json_array_size(procs); i++) {
		json_t *p = json_array_get(procs, i);
		assert_true(json_is_integer(json_object_get(p, "rss_bytes")));
		assert_true(json_is_integer(json_object_get(p, "pss_bytes")));
		assert_true(json_is_integer(json_object_get(p, "uss_bytes")));
	}
	/* Issue 3: PSS over all spaces is the frames user memory maps... */
	json_int_t user = json_integer_value(json_object_get(root, "user_frames_bytes"));
	assert_true(user > 0);
	assert_int_equal(json_integer_value(json_object_get(root, "pss_bytes_total")), user);
	/* ...and with the frames nobody maps, every user frame resident. */
	assert_int_equal(user + json_integer_value(json_object_get(root, "page_cache_bytes")) +
				 json_integer_value(json_object_get(root, "anon_unmapped_bytes")),
			 json_integer_value(json_object_get(root, "user_resident_bytes")));
	/* The shell's processes share libc's frames. */
	assert_true(json_integer_value(json_object_get(root, "shared_frames_saved")) > 0);
	json_decref(root);
	unlink(path);
	replay_report_free(&rep);
	assert_int_equal(sim_system_shutdown(s), 0);
	free(s);
}

/* A capture whose first modelled munmap result was changed to an error must
 * be flagged (the trampoline's calls before the first delayed execve are not
 * modelled, so the change goes after it). */
static void test_tampered_capture(void **state)
{
	(void)state;
	char dir[] = "/tmp/mmk-test-tamper-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 "zstd -q -dc %s/traces/gcc_hello/strace.txt.zst | "
		 "awk '/DELAYED/ { go=1 } go && /munmap\\(/ && !done { sub(/= 0$/, \"= -1 EINVAL (Invalid argument)\"); done=1 } { print }' "
		 "> %s/strace.txt && cp %s/traces/gcc_hello/maps.txt.zst %s/",
		 MMK_SOURCE_DIR, dir, MMK_SOURCE_DIR, dir);
	assert_int_equal(system(cmd), 0);
	struct sim_system *s = boot();
	struct replay_report rep;
	assert_int_equal(replay_dir(s, dir, &rep), 1);
	assert_int_equal(rep.calls, rep.calls_matched + 1);
	replay_report_free(&rep);
	assert_int_equal(sim_system_shutdown(s), 0);
	free(s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gcc_hello),
		cmocka_unit_test(test_mm_exerciser_segv),
		cmocka_unit_test(test_json_keys),
		cmocka_unit_test(test_tampered_capture),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
