/*
 * ktest.c - the in-kernel test runner (ktest.h).  Each test runs between
 * its setup and teardown; a failed assertion returns here through
 * __builtin_longjmp.  One line per test on the console ("ok" or "FAIL"),
 * then the suite's count; ktest_print_summary prints the totals last.
 */
#include "ktest.h"

#include "../kernel.h"
#include "../kprintf.h"

static uint64_t passed, failed;
static void *jump_buf[5];
static bool in_test;

_Noreturn void ktest_fail(const char *file, int line, const char *fmt, ...)
{
	kprintf("    %s:%d: ", file, line);
	va_list ap;
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kprintf("\n");
	if (!in_test) {
		kprintf("assertion failed outside a test\n");
		failed++;
		ktest_print_summary();
		hal_panic(kernel.machine, "ktest: assertion outside a test");
	}
	__builtin_longjmp(jump_buf, 1);
}

void ktest_assert_int(uint64_t a, uint64_t b, bool want_equal, const char *ea, const char *eb, const char *file,
		      int line)
{
	if ((a == b) != want_equal)
		ktest_fail(file, line, "%s %s %s: 0x%lx vs 0x%lx", ea, want_equal ? "==" : "!=", eb, a, b);
}

/* Run fn with the failure jump armed; true when it returned normally.  A
 * separate function so the registers __builtin_setjmp clobbers are its own. */
static __attribute__((noinline)) bool run_guarded(void (*fn)(void **), void **state)
{
	if (__builtin_setjmp(jump_buf)) {
		in_test = false;
		return false;
	}
	in_test = true;
	fn(state);
	in_test = false;
	return true;
}

static bool run_one(const struct ktest *t)
{
	void *state = NULL;
	if (t->setup && t->setup(&state) != 0) {
		kprintf("    setup failed\n");
		return false;
	}
	bool ok = run_guarded(t->fn, &state);
	if (t->teardown && t->teardown(&state) != 0) {
		kprintf("    teardown found a leak or a broken invariant\n");
		ok = false;
	}
	return ok;
}

void ktest_record(const char *suite, const char *name, bool ok)
{
	kprintf("  %s %s: %s\n", ok ? "ok  " : "FAIL", suite, name);
	if (ok)
		passed++;
	else
		failed++;
}

unsigned ktest_run_suite(const char *name, const struct ktest *tests, unsigned n)
{
	unsigned bad = 0;
	kprintf("suite %s: %u tests\n", name, n);
	for (unsigned i = 0; i < n; i++) {
		bool ok = run_one(&tests[i]);
		ktest_record(name, tests[i].name, ok);
		bad += !ok;
	}
	return bad;
}

uint64_t ktest_passed(void) { return passed; }
uint64_t ktest_failed(void) { return failed; }

void ktest_print_summary(void) { kprintf("%lu passed, %lu failed\n", passed, failed); }
