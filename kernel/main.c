/*
 * main.c - kmain, the kernel's boot sequence, and its report.
 *
 * Theory.  The kernel exists to run mmk on a real MMU.  boot.S arrives here
 * in long mode on the boot stack with the Multiboot magic and information.
 * The sequence, each step using only what the previous ones built:
 *   1. console (COM1), GDT + TSS, IDT: from here a fault prints its state;
 *   2. the boot memory map (multiboot.c): firmware RAM, the kernel image and
 *      every piece of boot data reserved;
 *   3. the machine (hal/x86_64): direct map, identity map dropped, global
 *      pages on;
 *   4. phys_init on that map: frame database, zones, buddy allocator;
 *   5. the kernel virtual space (a vmem arena, kva.c) and the kernel heap
 *      (kmalloc over mmk's slab caches);
 *   6. the VM system for user address spaces, and src/sys over it (the
 *      tasks, handle tables and requests of the user processes);
 *   7. deliberate failures if the command line asks (selftest.c), the
 *      in-kernel test suites, then the user programs (proc.c);
 *   8. the report: "N passed, M failed" last on the serial port, and the
 *      exit status through QEMU's isa-debug-exit: 33 when all passed.
 * There are no device interrupts; the CPU runs with IF clear throughout,
 * user mode included, so nothing preempts the kernel (hal/x86_64).
 */
#include <mmk/errno.h>

#include "../hal/x86_64/cpu.h"
#include "kernel.h"
#include "kprintf.h"
#include "proc.h"
#include "ktest/ktest.h"
#include "trap.h"

struct kernel kernel;

void kmain(uint32_t magic, uint32_t mbi_pa);
void selftest_run(const char *cmdline);

static _Noreturn void boot_failed(const char *what, int rc)
{
	kprintf("boot: %s failed: %d\n", what, rc);
	kprintf("0 passed, 1 failed\n");
	x86_qemu_exit(KERNEL_EXIT_FAIL);
}

static void print_memory(void)
{
	struct phys_stats st;
	phys_get_stats(&kernel.phys, &st);
	kprintf("memory: %lu frames of RAM, %lu managed, %lu free, %lu reserved; frame database %lu KiB\n",
		st.ram_frames, st.managed_frames, st.free_frames, st.reserved_frames, st.db_bytes >> 10);
	for (unsigned z = 0; z < MMK_NR_ZONES; z++)
		if (st.zone[z].managed)
			kprintf("  zone %s %lu frames managed, %lu free\n", phys_zone_name(z), st.zone[z].managed,
				st.zone[z].free);
}

static void print_boot_map(const struct boot_map *map)
{
	static const char *const names[] = { "?", "usable", "reserved", "boot" };
	kprintf("boot map (%lu ranges, RAM up to 0x%lx), command line \"%s\":\n", map->n, map->ram_top,
		map->cmdline);
	for (size_t i = 0; i < map->n; i++) {
		const struct mmk_mem_range *r = &map->ranges[i];
		kprintf("  [0x%09lx, 0x%09lx) %s\n", r->base, r->base + r->len, names[r->type <= 3 ? r->type : 0]);
	}
	for (size_t i = 0; i < map->nmodules; i++)
		kprintf("  module \"%s\": %lu bytes\n", map->modules[i].string, map->modules[i].len);
}

static void memory_init(uint32_t magic, uint32_t mbi_pa)
{
	int rc = boot_map_build(magic, mbi_pa, &kernel.boot);
	if (rc)
		boot_failed("reading the Multiboot information", rc);
	print_boot_map(&kernel.boot);
	x86_machine_init(&kernel.machine_store, kernel.boot.ram_top);
	kernel.machine = &kernel.machine_store;
	rc = phys_init(&kernel.phys, kernel.machine, kernel.boot.ranges, kernel.boot.n, &kernel.failpoint);
	if (rc)
		boot_failed("phys_init", rc);
	rc = kva_init();
	if (rc)
		boot_failed("the kernel virtual space", rc);
	rc = kmalloc_init(&kernel.heap, &kernel.phys, 0);
	if (rc)
		boot_failed("kmalloc_init", rc);
	rc = vm_system_init(&kernel.vm, &kernel.phys);
	if (rc)
		boot_failed("vm_system_init", rc);
	rc = sys_init(&kernel.sys, &kernel.vm, &kernel.heap, PROC_MAX_HANDLES);
	if (rc)
		boot_failed("sys_init", rc);
	print_memory();
}

void kmain(uint32_t magic, uint32_t mbi_pa)
{
	kernel.boot_tsc = x86_rdtsc();
	x86_serial_init();
	kprintf("\nmmk kernel: x86-64, mmk as the memory manager\n");
	gdt_init();
	idt_init();
	memory_init(magic, mbi_pa);
	kernel.tsc_hz = clock_calibrate_tsc();
	kprintf("clock: TSC at %lu MHz\n", kernel.tsc_hz / 1000000u);
	selftest_run(kernel.boot.cmdline);

	kernel_run_tests();
	user_run_programs();

	uint64_t us = clock_tsc_to_us(x86_rdtsc() - kernel.boot_tsc);
	kprintf("kernel: done in %lu ms after kmain; %lu CR3 loads, %lu invlpg, %lu user faults resolved\n",
		us / 1000u, kernel.machine->stats.cr3_loads, kernel.machine->stats.invlpg, proc_faults_resolved());
	ktest_print_summary();
	x86_qemu_exit(ktest_failed() == 0 && ktest_passed() > 0 ? KERNEL_EXIT_PASS : KERNEL_EXIT_FAIL);
}
