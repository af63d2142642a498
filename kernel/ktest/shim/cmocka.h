/*
 * cmocka.h (kernel shim) - the part of cmocka's API the shared contract
 * tests use, mapped onto ktest (ktest.h), so a tests/unit file compiles
 * unchanged into the kernel.  Its main() is renamed ktest_main_<file> by
 * the kernel Makefile and called as a suite.  Semantics as cmocka's: a
 * failed assertion ends the test; setup/teardown returning non-zero fail
 * it.
 */
#ifndef KERNEL_SHIM_CMOCKA_H
#define KERNEL_SHIM_CMOCKA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../ktest.h"

struct CMUnitTest {
	const char *name;
	void (*test_func)(void **state);
	int (*setup_func)(void **state);
	int (*teardown_func)(void **state);
	void *initial_state;
};

#define cmocka_unit_test(f) { #f, f, NULL, NULL, NULL }
#define cmocka_unit_test_setup_teardown(f, s, t) { #f, f, s, t, NULL }

int ktest_cmocka_run(const char *group, const struct CMUnitTest *tests, size_t n);
#define cmocka_run_group_tests(tests, setup, teardown) \
	ktest_cmocka_run(__FILE__, tests, sizeof(tests) / sizeof((tests)[0]))

#define assert_int_equal(a, b) KT_EQ(a, b)
#define assert_int_not_equal(a, b) KT_NE(a, b)
#define assert_true(c) KT_ASSERT(c)
#define assert_false(c) KT_ASSERT(!(c))
#define assert_non_null(p) KT_ASSERT((p) != NULL)
#define assert_null(p) KT_ASSERT((p) == NULL)
#define assert_ptr_equal(a, b) KT_EQ((uintptr_t)(a), (uintptr_t)(b))
#define fail_msg(...) ktest_fail(__FILE__, __LINE__, __VA_ARGS__)
#define fail() ktest_fail(__FILE__, __LINE__, "fail()")

#endif
