/*
 * probe.S - memory accesses that may fault, for the in-kernel tests of the
 * real MMU (probe.h).  Each faulting instruction has a resume address;
 * trap.c's probe_fixup, on a kernel-mode page fault at one of them, puts
 * the page-fault error code | PROBE_FAULTED into rax and resumes there
 * (the exception-table technique of Linux's uaccess).
 */
	.text
/* int probe_load(const volatile uint64_t *p, uint64_t *out) */
	.globl probe_load, probe_load_insn, probe_load_resume
probe_load:
	xor %eax, %eax
probe_load_insn:
	mov (%rdi), %rcx
	mov %rcx, (%rsi)
probe_load_resume:
	ret

/* int probe_store(volatile uint64_t *p, uint64_t v) */
	.globl probe_store, probe_store_insn, probe_store_resume
probe_store:
	xor %eax, %eax
probe_store_insn:
	mov %rsi, (%rdi)
probe_store_resume:
	ret
