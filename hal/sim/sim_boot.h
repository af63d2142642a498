/*
 * sim_boot.h - boot mmk on a simulated PC: a firmware-style memory map
 * (e820-like), the physical memory layer, and the VM system, with the sim's
 * page faults routed to vm_fault.  Used by mmk-sim, the tests and the
 * benchmarks, so all three boot the same machine.
 */
#ifndef HAL_SIM_SIM_BOOT_H
#define HAL_SIM_SIM_BOOT_H

#include <mmk/failpoint.h>
#include <mmk/phys.h>
#include <mmk/vm.h>

#define SIM_PC_MAX_RANGES 8

/* Where the boot image (kernel) sits in the simulated PC: 1 MiB up, 4 MiB. */
#define SIM_PC_KERNEL_BASE ((paddr_t)1 << 20)
#define SIM_PC_KERNEL_BYTES ((uint64_t)4 << 20)

/*
 * A PC-like memory map for ram_bytes of RAM (>= 8 MiB, page multiple):
 * usable [0, 0x9f000), reserved to 1 MiB (VGA, BIOS), the boot image at
 * 1 MiB, usable RAM up to 3 GiB, a 1 GiB MMIO hole, the rest of RAM from
 * 4 GiB.  Writes up to SIM_PC_MAX_RANGES ranges; returns how many, and the
 * highest physical address + 1 in *top (the sim must cover it).
 */
size_t sim_pc_memmap(uint64_t ram_bytes, struct mmk_mem_range *out, paddr_t *top);

struct sim_system {
	struct hal_machine *machine;
	struct mmk_failpoint failpoint;
	struct phys phys;
	struct vm_system vm;
	uint64_t boot_free_frames; /* free frames right after boot, for leak checks */
};

/* Boot: machine, memory map, phys_init, vm_system_init, fault routing.
 * 0, or a negative error (machine creation failure is -MMK_ENOMEM). */
int sim_system_boot(struct sim_system *s, uint64_t ram_bytes, unsigned ncpus);
/* Tear down; -MMK_EBUSY if address spaces are still alive. */
int sim_system_shutdown(struct sim_system *s);

/* Free frames now (all zones). */
uint64_t sim_system_free_frames(struct sim_system *s);

#endif
