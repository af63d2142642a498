/*
 * selftest.c - deliberate failures on request, so the boot test can prove
 * that the kernel's reporting catches them (a test that cannot fail proves
 * nothing).  The command line (QEMU -append) may say:
 *   selftest=fail        one in-kernel test result is a failure
 *   selftest=pagefault   a kernel read of an unmapped address (#PF)
 *   selftest=gp          a kernel read of a non-canonical address (#GP)
 *   selftest=doublefault a push with the stack pointer on an unmapped page:
 *                        the #PF cannot be delivered on that stack (#DF,
 *                        handled on its own IST stack)
 * Each trap prints the state and ends the run with status 7; "fail" ends
 * it with status 3 after the normal run.  Without selftest=, nothing.
 */
#include "kernel.h"
#include "klib.h"
#include "kprintf.h"
#include "ktest/ktest.h"

void selftest_run(const char *cmdline);

static const char *option(const char *cmdline, const char *key)
{
	const char *at = strstr(cmdline, key);
	return at ? at + strlen(key) : NULL;
}

static bool is(const char *value, const char *word)
{
	size_t n = strlen(word);
	return memcmp(value, word, n) == 0 && (value[n] == 0 || value[n] == ' ');
}

void selftest_run(const char *cmdline)
{
	const char *what = option(cmdline, "selftest=");
	if (!what)
		return;
	kprintf("selftest: %s requested\n", what);
	if (is(what, "fail")) {
		ktest_record("selftest", "a deliberately failing test", false);
	} else if (is(what, "pagefault")) {
		(void)*(volatile uint64_t *)(uintptr_t)0x1000;
	} else if (is(what, "gp")) {
		(void)*(volatile uint64_t *)(uintptr_t)0x8000000000000000ull;
	} else if (is(what, "doublefault")) {
		__asm__ volatile("mov $0x1000, %%rsp\n\tpushq $0" : : : "memory");
	} else {
		kprintf("selftest: unknown request\n");
		ktest_record("selftest", "a known selftest request", false);
	}
}
