/*
 * pm_fixture.h - a booted PC with accounts and physmem (src/physmem) over
 * the VM fixture, for the physmem tests: pmfx_check runs physmem_check,
 * acct_check and every VM checker (vm_check asks each container mapping's
 * page source whether its translations are legitimate; the frame
 * accounting counts container frames as lent).  Hosted test code.
 */
#ifndef MMK_TESTS_PM_FIXTURE_H
#define MMK_TESTS_PM_FIXTURE_H

#include <mmk/acct.h>
#include <mmk/physmem.h>

#include "vm_fixture.h"

struct pmfx {
	struct vmfx vm;
	struct acct_system acct;
	struct physmem pm;
	struct mmk_account *task;   /* an account split off the root for the tests */
	uint64_t free0;             /* free frames after boot, caches reaped */
};

/* Boot ram_bytes with 1 CPU; task gets task_frames frames. */
void pmfx_boot(struct pmfx *fx, uint64_t ram_bytes, uint64_t task_frames);
/* Every checker; fails the test with the first broken invariant. */
void pmfx_check(struct pmfx *fx);
/* Tear down (the test destroyed its containers and shares) and assert the
 * leak baseline: free frames as after boot. */
void pmfx_shutdown(struct pmfx *fx);
/* Free frames with every cache reaped. */
uint64_t pmfx_free_frames(struct pmfx *fx);
/* Charged frames of an account. */
uint64_t pmfx_charged(struct mmk_account *a);

#define PMFX_RC(fx, call, expected) VMFX_RC(&(fx)->vm, call, expected)
#define PMFX_EQ(fx, a, b) VMFX_EQ(&(fx)->vm, a, b)
#define PMFX_TRUE(fx, c) VMFX_TRUE(&(fx)->vm, c)

#endif
