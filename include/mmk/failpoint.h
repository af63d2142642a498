/*
 * mmk/failpoint.h - the one point every internal allocation passes.
 *
 * After the SQLite habit (DESIGN.md, "fault injection as a hook"): a test arms
 * the failpoint to fail the Nth allocation from now, runs an operation, and
 * checks that the operation returned an error, changed nothing and leaked
 * nothing.  Frame allocations (phys_alloc) and kernel-object allocations
 * (kmem_cache_alloc) both consult the failpoint of their struct phys.
 *
 * Locking: none; a failpoint is for single-threaded tests.
 */
#ifndef MMK_FAILPOINT_H
#define MMK_FAILPOINT_H

#include <mmk/types.h>

struct mmk_failpoint {
	uint64_t countdown; /* 0: disarmed; n: the nth call from now fails */
	uint64_t calls;     /* allocations seen, for sweeps */
	uint64_t failed;    /* allocations failed on purpose */
	bool sticky;        /* keep failing every call after the first failure */
};

/* Arm fp so that the nth call from now (n >= 1) fails; n == 0 disarms. */
static inline void mmk_failpoint_arm(struct mmk_failpoint *fp, uint64_t n, bool sticky)
{
	fp->countdown = n;
	fp->sticky = sticky;
}

/* Count one allocation; true when it must fail.  fp may be NULL. */
static inline bool mmk_failpoint_hit(struct mmk_failpoint *fp)
{
	if (!fp)
		return false;
	fp->calls++;
	if (fp->countdown == 0)
		return false;
	if (fp->countdown > 1) {
		fp->countdown--;
		return false;
	}
	if (!fp->sticky)
		fp->countdown = 0;
	fp->failed++;
	return true;
}

#endif
