/*
 * trap_entry.S - the CPU's way into the kernel: one stub per vector that
 * makes the stack look the same for all (a zero error code where the CPU
 * pushes none, then the vector number), a common path that saves every
 * general register into a struct trapframe (trap.h) and calls
 * trap_dispatch(frame), then restores and returns with iretq.
 *
 * user_enter / user_leave switch between the kernel's scheduler and user
 * mode: user_enter(frame) saves the callee-saved registers and the stack
 * pointer of its caller, then restores the user registers from frame and
 * iretqs to ring 3; user_leave(), called from a trap handler on the trap
 * stack, abandons that stack and returns from the matching user_enter.
 * Source: Intel SDM vol. 3A 6.12 (exception and interrupt handling), 6.14
 * (64-bit mode: stack alignment, iretq).
 */
	.text

.macro STUB_NOERR vec
	.globl trap_stub_\vec
trap_stub_\vec:
	pushq $0
	pushq $\vec
	jmp trap_common
.endm

.macro STUB_ERR vec
	.globl trap_stub_\vec
trap_stub_\vec:
	pushq $\vec
	jmp trap_common
.endm

STUB_NOERR 0
STUB_NOERR 1
STUB_NOERR 2
STUB_NOERR 3
STUB_NOERR 4
STUB_NOERR 5
STUB_NOERR 6
STUB_NOERR 7
STUB_ERR 8
STUB_NOERR 9
STUB_ERR 10
STUB_ERR 11
STUB_ERR 12
STUB_ERR 13
STUB_ERR 14
STUB_NOERR 15
STUB_NOERR 16
STUB_ERR 17
STUB_NOERR 18
STUB_NOERR 19
STUB_NOERR 20
STUB_ERR 21
STUB_NOERR 22
STUB_NOERR 23
STUB_NOERR 24
STUB_NOERR 25
STUB_NOERR 26
STUB_NOERR 27
STUB_NOERR 28
STUB_ERR 29
STUB_ERR 30
STUB_NOERR 31
STUB_NOERR 128

	.section .rodata
	.align 8
	.globl trap_stubs
trap_stubs:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad trap_stub_\v
	.endr

	.text
/* Order matches struct trapframe: r15 at the lowest address. */
trap_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	cld
	mov %rsp, %rdi
	call trap_dispatch
	.globl trap_return
trap_return:
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	add $16, %rsp                  /* vector, error code */
	iretq

/* void user_enter(const struct trapframe *frame) */
	.globl user_enter
user_enter:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	mov %rsp, scheduler_rsp(%rip)
	mov %rdi, %rsp                 /* the frame is read in place */
	jmp trap_return

/* _Noreturn void user_leave(void) */
	.globl user_leave
user_leave:
	mov scheduler_rsp(%rip), %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret

	.bss
	.align 8
scheduler_rsp:
	.quad 0
