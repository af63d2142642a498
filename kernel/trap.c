/*
 * trap.c - where every trap lands (trap_entry.S calls trap_dispatch).
 *
 * From user mode: int 0x80 is a system call (syscall.c); any other trap is
 * the process's (proc.c: page faults go to vm_fault, the rest end the
 * process with a report).  From kernel mode every trap is a kernel bug:
 * the state is printed (registers, CR2 for a page fault, decoded error
 * code) and the run ends with a failing QEMU exit status, so a broken
 * kernel is a failed test, never a hang.
 */
#include "trap.h"

#include "../hal/x86_64/cpu.h"
#include "../hal/x86_64/pte.h"
#include "kernel.h"
#include "kprintf.h"
#include "ktest/ktest.h"
#include "probe.h"
#include "proc.h"
#include "syscall.h"

static const char *vector_name(uint64_t v)
{
	switch (v) {
	case TRAP_DE: return "divide error";
	case TRAP_UD: return "invalid opcode";
	case TRAP_DF: return "double fault";
	case TRAP_GP: return "general protection";
	case TRAP_PF: return "page fault";
	case TRAP_SYSCALL: return "system call";
	default: return "exception";
	}
}

void trap_print(const struct trapframe *tf)
{
	kprintf("  vector %lu (%s) error 0x%lx\n", tf->vector, vector_name(tf->vector), tf->error);
	kprintf("  rip %016lx cs %lx rflags %lx rsp %016lx ss %lx\n", tf->rip, tf->cs, tf->rflags, tf->rsp, tf->ss);
	kprintf("  rax %016lx rbx %016lx rcx %016lx rdx %016lx\n", tf->rax, tf->rbx, tf->rcx, tf->rdx);
	kprintf("  rsi %016lx rdi %016lx rbp %016lx r8  %016lx\n", tf->rsi, tf->rdi, tf->rbp, tf->r8);
	kprintf("  r9  %016lx r10 %016lx r11 %016lx r12 %016lx\n", tf->r9, tf->r10, tf->r11, tf->r12);
	kprintf("  r13 %016lx r14 %016lx r15 %016lx\n", tf->r13, tf->r14, tf->r15);
	kprintf("  cr2 %016lx cr3 %016lx\n", x86_read_cr2(), x86_read_cr3());
	if (tf->vector == TRAP_PF)
		kprintf("  %s, %s, %s mode%s\n", (tf->error & X86_PF_P) ? "protection violation" : "not present",
			(tf->error & X86_PF_I) ? "instruction fetch" : (tf->error & X86_PF_W) ? "write" : "read",
			(tf->error & X86_PF_U) ? "user" : "kernel", (tf->error & X86_PF_RSVD) ? ", reserved bit" : "");
}

void trap_dispatch(struct trapframe *tf)
{
	if ((tf->cs & 3) == 3) {
		if (tf->vector == TRAP_SYSCALL)
			syscall_dispatch(tf);
		else
			proc_user_trap(tf);
		return;
	}
	if (probe_fixup(tf))
		return;
	kprintf("\nKERNEL TRAP: %s in kernel mode\n", vector_name(tf->vector));
	trap_print(tf);
	ktest_record("kernel", "no unexpected trap in kernel mode", false);
	ktest_print_summary();
	x86_qemu_exit(KERNEL_EXIT_CRASH);
}
