/*
 * probe_fixup.c - the exception table of probe.S: a kernel-mode page
 * fault at a probe instruction resumes after it with the error code.
 */
#include "probe.h"

extern char probe_load_insn[], probe_load_resume[], probe_store_insn[], probe_store_resume[];

bool probe_fixup(struct trapframe *tf)
{
	static const struct {
		const char *insn, *resume;
	} table[] = { { probe_load_insn, probe_load_resume }, { probe_store_insn, probe_store_resume } };
	if (tf->vector != TRAP_PF)
		return false;
	for (unsigned i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (tf->rip == (uint64_t)(uintptr_t)table[i].insn) {
			tf->rax = PROBE_FAULTED | (tf->error & 0xffff);
			tf->rip = (uint64_t)(uintptr_t)table[i].resume;
			return true;
		}
	return false;
}
