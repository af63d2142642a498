/*
 * ktest.h - the in-kernel test runner: named tests grouped in suites,
 * assertions that abandon the running test on failure, and the counters
 * behind the final "N passed, M failed" line on the serial port.
 *
 * An assertion that fails prints file, line and the values, then jumps
 * (__builtin_longjmp, GCC's freestanding setjmp) back to the runner, which
 * counts the test failed and goes on with the next; teardown still runs.
 * Tests must therefore hold no lock across an assertion.
 */
#ifndef KERNEL_KTEST_H
#define KERNEL_KTEST_H

#include <stdbool.h>
#include <stdint.h>

struct ktest {
	const char *name;
	void (*fn)(void **state);
	int (*setup)(void **state);    /* NULL, or 0 for ready */
	int (*teardown)(void **state); /* NULL, or 0 when the leak checks held */
};

/* Run n tests as suite name; returns the failures. */
unsigned ktest_run_suite(const char *name, const struct ktest *tests, unsigned n);

/* Record one result that is not a ktest function (user programs report
 * their checks through a system call). */
void ktest_record(const char *suite, const char *name, bool ok);

/* Fail the running test: print the message and leave it. */
_Noreturn void ktest_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

void ktest_assert_int(uint64_t a, uint64_t b, bool want_equal, const char *ea, const char *eb, const char *file,
		      int line);

uint64_t ktest_passed(void);
uint64_t ktest_failed(void);
/* Print the final line "N passed, M failed". */
void ktest_print_summary(void);

#define KT_ASSERT(c)                                                          \
	do {                                                                  \
		if (!(c))                                                     \
			ktest_fail(__FILE__, __LINE__, "assertion %s", #c); \
	} while (0)
#define KT_EQ(a, b) ktest_assert_int((uint64_t)(a), (uint64_t)(b), true, #a, #b, __FILE__, __LINE__)
#define KT_NE(a, b) ktest_assert_int((uint64_t)(a), (uint64_t)(b), false, #a, #b, __FILE__, __LINE__)
/* Run a checker fn(obj, &why) of mmk and fail with its reason. */
#define KT_INVARIANT(fn, obj)                                                                      \
	do {                                                                                       \
		const char *why_ = NULL;                                                           \
		if (fn((obj), &why_) != 0)                                                         \
			ktest_fail(__FILE__, __LINE__, "%s: %s", #fn, why_ ? why_ : "(no reason)"); \
	} while (0)
#define KT_TEST(f) { #f, f, NULL, NULL }
#define KT_TEST_ST(f, s, t) { #f, f, s, t }
#define KT_COUNT(a) ((unsigned)(sizeof(a) / sizeof((a)[0])))

#endif
