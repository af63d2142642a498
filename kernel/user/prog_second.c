/*
 * prog_second.c - user program 2, in its own address space beside
 * prog_vmtest: the same virtual address holds different bytes in the two
 * programs (each write survives the other program running in between),
 * PROT_NONE refuses every access, a stack grows on demand, and a large
 * demand-zero region is touched page by page while the kernel measures the
 * page-fault rate.
 */
#include "ulib.h"

#define SHARED_VA ((void *)0x200000000ul)

static bool check_private_space(void)
{
	volatile uint64_t *p = u_mmap(SHARED_VA, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
	if (p != SHARED_VA)
		return false;
	uint64_t mine = 0x5ec0 + (uint64_t)u_getpid();
	*p = mine;
	/* Let the other programs (and their children) run, then look again. */
	for (int i = 0; i < 4; i++)
		u_yield();
	return *p == mine && u_munmap((void *)p, PAGE) == 0;
}

static int touch(void *arg) { return *(volatile uint8_t *)arg; }

static bool check_prot_none(void)
{
	uint8_t *p = u_mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
	if (u_mmap_failed(p))
		return false;
	p[0] = 1;
	bool ok = u_mprotect(p, PAGE, PROT_NONE) == 0;
	ok &= u_in_child(touch, p) == STATUS_SEGV;
	ok &= u_mprotect(p, PAGE, PROT_READ) == 0 && p[0] == 1;
	return ok && u_munmap(p, PAGE) == 0;
}

static __attribute__((noinline)) uint64_t deep(unsigned depth)
{
	volatile uint8_t frame[2048];
	frame[0] = (uint8_t)depth;
	frame[2047] = (uint8_t)depth;
	if (depth == 0)
		return frame[0];
	return deep(depth - 1) + frame[2047];
}

static bool check_stack_growth(void)
{
	/* 24 frames of 2 KiB: 48 KiB, three times the 16 KiB stack VMA the
	 * kernel made (exec.h: EXEC_STACK_BYTES), so vm_fault must extend it downwards. */
	return deep(24) == 24u * 25u / 2u;
}

static bool check_fault_rate(void)
{
	const size_t pages = 2048; /* 8 MiB */
	volatile uint8_t *p = u_mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
	if (u_mmap_failed((const void *)p))
		return false;
	u_measure(1);
	for (size_t i = 0; i < pages; i++)
		p[i * PAGE] = (uint8_t)i;
	long faults = u_measure(2);
	bool ok = faults >= (long)pages;
	for (size_t i = 0; i < pages; i++)
		ok &= p[i * PAGE] == (uint8_t)i;
	return ok && u_munmap((void *)p, pages * PAGE) == 0;
}

int main(void)
{
	bool ok = true;
	ok &= u_report(".data starts at its initial value, .bss at zero", u_check_data_bss());
	ok &= u_report("the same address holds this program's own bytes", check_private_space());
	ok &= u_report("PROT_NONE refuses a read, PROT_READ restores it", check_prot_none());
	ok &= u_report("the stack grows on demand", check_stack_growth());
	ok &= u_report("2048 demand-zero faults in a row", check_fault_rate());
	return ok ? 0 : 1;
}
