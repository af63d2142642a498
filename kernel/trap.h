/*
 * trap.h - traps: the saved state of an interrupted context, the IDT, the
 * GDT and TSS, and the switch to and from user mode.
 *
 * Every trap (exception or int 0x80) enters trap_dispatch with a struct
 * trapframe on the trap stack (TSS.RSP0 for traps from user mode; the
 * current stack for traps in kernel mode, except the double fault, which
 * has its own stack in IST1).  Kernel-mode faults print the state and end
 * the run; user-mode page faults go to vm_fault through proc.c; int 0x80
 * goes to syscall.c.
 */
#ifndef KERNEL_TRAP_H
#define KERNEL_TRAP_H

#include <stdint.h>

struct trapframe {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

#define TRAP_DE 0
#define TRAP_UD 6
#define TRAP_DF 8
#define TRAP_GP 13
#define TRAP_PF 14
#define TRAP_SYSCALL 0x80

/* Segment selectors (gdt.c). */
#define SEL_KERNEL_CODE 0x08
#define SEL_KERNEL_DATA 0x10
#define SEL_USER_DATA (0x18 | 3)
#define SEL_USER_CODE (0x20 | 3)
#define SEL_TSS 0x28

/* GDT with user segments and the TSS (trap stack, double-fault stack). */
void gdt_init(void);
/* The IDT: vectors 0..31 and int 0x80 (callable from ring 3). */
void idt_init(void);

/* Called by trap_entry.S. */
void trap_dispatch(struct trapframe *tf);

/* Print a frame (registers, CR2, CR3) on the console. */
void trap_print(const struct trapframe *tf);

/* Switch to user mode with the registers of frame; returns when a trap
 * handler calls user_leave.  frame must stay valid until then. */
void user_enter(const struct trapframe *frame);
_Noreturn void user_leave(void);

#endif
