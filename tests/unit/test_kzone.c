/*
 * test_kzone: seed 003's zone allocator: N blocks reserved at creation,
 * allocation never touching the frame allocator afterwards, exhaustion,
 * bad frees refused with nothing changed, creation failing cleanly under
 * the failpoint, leak baseline.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include <mmk/errno.h>
#include <mmk/kzone.h>

#include "sim_boot.h"

static void check(struct kzone *z)
{
	const char *why = NULL;
	if (kzone_check(z, &why))
		fail_msg("kzone_check: %s", why);
}

static void test_zone_lifecycle(void **state)
{
	(void)state;
	struct sim_system s;
	assert_int_equal(sim_system_boot(&s, 64ull << 20, 1), 0);
	uint64_t free0 = sim_system_free_frames(&s);
	struct kzone z;
	assert_int_equal(kzone_create(&z, &s.phys, "test-zone", 0, 4), -MMK_EINVAL);
	assert_int_equal(kzone_create(&z, &s.phys, "test-zone", 100, 0), -MMK_EINVAL);
	assert_int_equal(kzone_create(&z, &s.phys, "test-zone", 100, 50), 0);
	check(&z);
	assert_int_equal(z.block_size, 104);
	/* Allocation never calls the frame allocator: a sticky failpoint
	 * does not stop the 50 reserved blocks. */
	mmk_failpoint_arm(&s.failpoint, 1, true);
	void *b[50];
	for (int i = 0; i < 50; i++) {
		b[i] = kzone_alloc(&z);
		assert_non_null(b[i]);
		memset(b[i], 0x5a, 100);
		check(&z);
	}
	assert_null(kzone_alloc(&z)); /* exhausted */
	mmk_failpoint_arm(&s.failpoint, 0, false);
	int on_stack;
	assert_int_equal(kzone_free(&z, &on_stack), -MMK_EINVAL);
	assert_int_equal(kzone_free(&z, (char *)b[3] + 8), -MMK_EINVAL);
	assert_int_equal(kzone_destroy(&z), -MMK_EBUSY);
	for (int i = 0; i < 50; i++) {
		assert_int_equal(kzone_free(&z, b[i]), 0);
		check(&z);
	}
	assert_int_equal(kzone_free(&z, b[7]), -MMK_EALREADY);
	check(&z);
	assert_int_equal(kzone_destroy(&z), 0);
	assert_int_equal(sim_system_free_frames(&s), free0);
	assert_int_equal(sim_system_shutdown(&s), 0);
}

static void test_zone_create_failure_sweep(void **state)
{
	(void)state;
	struct sim_system s;
	assert_int_equal(sim_system_boot(&s, 64ull << 20, 1), 0);
	uint64_t free0 = sim_system_free_frames(&s);
	for (uint64_t n = 1;; n++) {
		struct kzone z;
		uint64_t failed = s.failpoint.failed;
		mmk_failpoint_arm(&s.failpoint, n, false);
		int rc = kzone_create(&z, &s.phys, "sweep", 2000, 30);
		mmk_failpoint_arm(&s.failpoint, 0, false);
		if (rc == 0) {
			assert_int_equal(kzone_destroy(&z), 0);
			assert_int_equal(sim_system_free_frames(&s), free0);
			if (s.failpoint.failed == failed)
				break;
			continue;
		}
		assert_int_equal(rc, -MMK_ENOMEM);
		assert_int_equal(sim_system_free_frames(&s), free0); /* nothing kept */
		assert_true(n < 200);
	}
	assert_int_equal(sim_system_shutdown(&s), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zone_lifecycle),
		cmocka_unit_test(test_zone_create_failure_sweep),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
