/*
 * idt.c - the interrupt descriptor table (SDM 6.14.1): 64-bit interrupt
 * gates for the 32 exception vectors (DPL 0: only the CPU raises them) and
 * for int 0x80 (DPL 3: the system-call gate user code may invoke).
 * Interrupt gates clear IF; the kernel never sets it, and there are no
 * device interrupts.  The double fault runs on IST1 (gdt.c).
 */
#include <stdint.h>

#include "trap.h"

struct gate {
	uint16_t offset_lo, selector;
	uint8_t ist, type_attr;
	uint16_t offset_mid;
	uint32_t offset_hi, reserved;
} __attribute__((packed));

static struct gate idt[256];

extern const uint64_t trap_stubs[32];
extern char trap_stub_128[];

static void set_gate(unsigned vec, uint64_t handler, unsigned dpl, unsigned ist)
{
	idt[vec] = (struct gate){
		.offset_lo = (uint16_t)handler,
		.selector = SEL_KERNEL_CODE,
		.ist = (uint8_t)ist,
		.type_attr = (uint8_t)(0x8e | (dpl << 5)), /* P, 64-bit interrupt gate */
		.offset_mid = (uint16_t)(handler >> 16),
		.offset_hi = (uint32_t)(handler >> 32),
	};
}

void idt_init(void)
{
	for (unsigned v = 0; v < 32; v++)
		set_gate(v, trap_stubs[v], 0, v == TRAP_DF ? 1 : 0);
	set_gate(TRAP_SYSCALL, (uint64_t)(uintptr_t)trap_stub_128, 3, 0);
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) p = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };
	__asm__ volatile("lidt %0" : : "m"(p));
}
