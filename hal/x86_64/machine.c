/*
 * machine.c - hal/x86_64's machine: the hal.h functions on one x86-64 CPU.
 *
 * The direct map is the 2 MiB-page window boot.S builds at X86_DIRECT_BASE
 * over physical [0, 4 GiB); hal_phys_map serves the part of it that is
 * RAM (below ram_top).  The kernel never enables interrupts and has no
 * preemption, so pinning to the CPU is free and never needs an unpin
 * (hal_cpu_unpin_needed is false, as a !CONFIG_PREEMPT_COUNT kernel).
 * The console is COM1 (serial.c); a panic prints and ends the QEMU run
 * with a failing exit status.
 */
#include <mmk/errno.h>

#include "cpu.h"
#include "pte.h"
#include "x86_64.h"

void *hal_phys_map(struct hal_machine *m, paddr_t pa)
{
	/* pa == ram_top is allowed: the end pointer of the direct map. */
	if (pa > m->ram_top)
		hal_panic(m, "hal_phys_map: address outside RAM");
	return (void *)(X86_DIRECT_BASE + pa);
}

paddr_t hal_phys_unmap(struct hal_machine *m, const void *p)
{
	uintptr_t v = (uintptr_t)p;
	if (v < X86_DIRECT_BASE || v - X86_DIRECT_BASE > m->ram_top)
		hal_panic(m, "hal_phys_unmap: pointer outside the direct map");
	return (paddr_t)(v - X86_DIRECT_BASE);
}

unsigned hal_cpu_count(struct hal_machine *m)
{
	(void)m;
	return X86_MAX_CPUS;
}

unsigned hal_cpu_id(struct hal_machine *m)
{
	(void)m;
	return 0;
}

unsigned hal_cpu_pin(struct hal_machine *m) { return hal_cpu_id(m); }

void hal_cpu_unpin(struct hal_machine *m) { (void)m; }

bool hal_cpu_unpin_needed(struct hal_machine *m)
{
	(void)m;
	return false;
}

void hal_console_write(struct hal_machine *m, const char *s, size_t len)
{
	(void)m;
	x86_serial_write(s, len);
}

_Noreturn void hal_panic(struct hal_machine *m, const char *msg)
{
	(void)m;
	static const char head[] = "\nmmk panic: ";
	x86_serial_write(head, sizeof(head) - 1);
	size_t n = 0;
	while (msg[n])
		n++;
	x86_serial_write(msg, n);
	x86_serial_write("\n", 1);
	x86_qemu_exit(2);
}

_Noreturn void x86_qemu_exit(unsigned code)
{
	x86_outl(0xf4, code);
	x86_halt_forever();
}

void x86_machine_init(struct hal_machine *m, paddr_t ram_top)
{
	*m = (struct hal_machine){ 0 };
	m->ram_top = ram_top < X86_DIRECT_BYTES ? ram_top : X86_DIRECT_BYTES;
	m->kernel_root = x86_read_cr3() & X86_PTE_FRAME;
	/* The identity map of low memory was only for the jump to the higher
	 * half: drop it, so a user address in kernel mode faults. */
	uint64_t *root = hal_phys_map(m, m->kernel_root);
	root[0] = 0;
	x86_write_cr3(m->kernel_root);
	/* Global pages on: the 0 -> 1 transition flushes the whole TLB. */
	x86_write_cr4(x86_read_cr4() | X86_CR4_PGE);
}
