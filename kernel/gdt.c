/*
 * gdt.c - the GDT of long mode and the TSS.
 *
 * Segments (SDM 3.4.5, 5.2.1): in 64-bit mode base and limit are ignored;
 * what matters is the type, DPL and the L bit.  Entries: null, kernel code
 * (L, DPL 0), kernel data, user data (DPL 3), user code (L, DPL 3), then the
 * 16-byte TSS descriptor.  User data sits before user code as SYSRET would
 * want, though the kernel enters user mode with iretq only.
 *
 * The TSS (SDM 7.7) gives RSP0, the stack of traps from ring 3 (the trap
 * stack), and IST1, the stack of the double fault, so a kernel stack
 * overflow still reports instead of triple-faulting.
 */
#include <stdint.h>

#include "trap.h"

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

static uint64_t gdt[7];
static struct tss tss;
static uint8_t trap_stack[32768] __attribute__((aligned(16)));
static uint8_t df_stack[16384] __attribute__((aligned(16)));

struct descriptor_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

void gdt_init(void)
{
	gdt[0] = 0;
	gdt[1] = 0x00af9a000000ffffull; /* kernel code: P, DPL 0, code, L */
	gdt[2] = 0x00cf92000000ffffull; /* kernel data */
	gdt[3] = 0x00cff2000000ffffull; /* user data: DPL 3 */
	gdt[4] = 0x00affa000000ffffull; /* user code: DPL 3, L */
	uint64_t base = (uint64_t)(uintptr_t)&tss, limit = sizeof(tss) - 1;
	gdt[5] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) /* P, available TSS */ |
		 (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	gdt[6] = base >> 32;
	tss.rsp[0] = (uint64_t)(uintptr_t)(trap_stack + sizeof(trap_stack));
	tss.ist[0] = (uint64_t)(uintptr_t)(df_stack + sizeof(df_stack));
	tss.iomap_base = sizeof(tss); /* no I/O permission bitmap */
	struct descriptor_ptr p = { sizeof(gdt) - 1, (uint64_t)(uintptr_t)gdt };
	__asm__ volatile("lgdt %0" : : "m"(p));
	/* Reload CS with a far return, the data segments, then the task register. */
	__asm__ volatile("pushq %0\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movw %w1, %%ds\n\t"
			 "movw %w1, %%es\n\t"
			 "movw %w1, %%ss\n\t"
			 :
			 : "i"((uint64_t)SEL_KERNEL_CODE), "r"(SEL_KERNEL_DATA)
			 : "rax", "memory");
	__asm__ volatile("ltr %w0" : : "r"(SEL_TSS));
}
