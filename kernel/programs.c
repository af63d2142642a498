/*
 * programs.c - the user programs the kernel runs after its own tests:
 * prog_vmtest once, prog_second twice and prog_caps once, each from its
 * blob (linked into the image by kernel/Makefile) into its own address
 * space, all run by the scheduler until they exit.  Afterwards the frame
 * count must be back at its value before the first spawn (every space,
 * page table, anon and object gone), and src/sys must hold no task, space,
 * memory object or handle any more, each counted as one more test.
 */
#include "kernel.h"
#include "kprintf.h"
#include "ktest/ktest.h"
#include "proc.h"

extern const char user_blob_prog_vmtest_start[], user_blob_prog_vmtest_end[];
extern const char user_blob_prog_second_start[], user_blob_prog_second_end[];
extern const char user_blob_prog_caps_start[], user_blob_prog_caps_end[];

static const struct {
	const char *name;
	const char *start, *end;
} programs[] = {
	{ "prog_vmtest", user_blob_prog_vmtest_start, user_blob_prog_vmtest_end },
	{ "prog_second", user_blob_prog_second_start, user_blob_prog_second_end },
	{ "prog_second", user_blob_prog_second_start, user_blob_prog_second_end },
	{ "prog_caps", user_blob_prog_caps_start, user_blob_prog_caps_end },
};

static uint64_t settled_free_frames(void)
{
	vm_system_reap(&kernel.vm);
	kmalloc_drain(&kernel.heap);
	kmem_cache_drain(&kernel.sys.caps.handle_cache);
	return phys_free_frames(&kernel.phys);
}

void user_run_programs(void)
{
	kprintf("user programs:\n");
	uint64_t before = settled_free_frames();
	for (size_t i = 0; i < sizeof(programs) / sizeof(programs[0]); i++) {
		struct proc *p;
		int rc = proc_spawn(programs[i].name, programs[i].start, (size_t)(programs[i].end - programs[i].start),
				    &p);
		if (rc)
			kprintf("  cannot start %s: %d\n", programs[i].name, rc);
		ktest_record("user", "spawn a program into a new address space", rc == 0);
		if (rc == 0)
			kprintf("  [pid %d %s] started\n", p->pid, p->name);
	}
	unsigned left = proc_schedule();
	ktest_record("user", "every process ran to its end", left == 0);
	uint64_t after = settled_free_frames();
	if (after != before)
		kprintf("  free frames %lu before the programs, %lu after\n", before, after);
	ktest_record("user", "no frame leaked by the programs", after == before);
	struct sys *s = &kernel.sys;
	const char *why = NULL;
	bool consistent = sys_check(s, &why) == 0;
	if (!consistent)
		kprintf("  sys_check: %s\n", why);
	if (s->tasks || s->spaces || s->vmobjects || s->caps.handles)
		kprintf("  left in src/sys: %lu tasks, %lu spaces, %lu memory objects, %lu handles\n", s->tasks,
			s->spaces, s->vmobjects, s->caps.handles);
	ktest_record("user", "every task, space, object and handle of the processes is gone",
		     consistent && !s->tasks && !s->spaces && !s->vmobjects && !s->caps.handles);
	kprintf("  src/sys: %lu requests, %lu refused\n", s->requests, s->refused);
}
