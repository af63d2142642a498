/*
 * sim_boot.c - boot mmk on a simulated PC (see sim_boot.h).
 */
#include "sim_boot.h"

#include <string.h>

#include <mmk/errno.h>

#include "sim.h"

size_t sim_pc_memmap(uint64_t ram_bytes, struct mmk_mem_range *out, paddr_t *top)
{
	const paddr_t low_end = 0x9f000, hole_start = (paddr_t)3 << 30, high_start = (paddr_t)4 << 30;
	size_t n = 0;
	out[n++] = (struct mmk_mem_range){ 0, low_end, MMK_MEM_USABLE };
	out[n++] = (struct mmk_mem_range){ low_end, SIM_PC_KERNEL_BASE - low_end, MMK_MEM_RESERVED };
	out[n++] = (struct mmk_mem_range){ SIM_PC_KERNEL_BASE, SIM_PC_KERNEL_BYTES, MMK_MEM_BOOT };
	paddr_t usable_start = SIM_PC_KERNEL_BASE + SIM_PC_KERNEL_BYTES;
	paddr_t below = ram_bytes < hole_start ? ram_bytes : hole_start;
	if (below > usable_start)
		out[n++] = (struct mmk_mem_range){ usable_start, below - usable_start, MMK_MEM_USABLE };
	*top = below;
	if (ram_bytes > hole_start) {
		out[n++] = (struct mmk_mem_range){ hole_start, high_start - hole_start, MMK_MEM_RESERVED };
		out[n++] = (struct mmk_mem_range){ high_start, ram_bytes - hole_start, MMK_MEM_USABLE };
		*top = high_start + (ram_bytes - hole_start);
	}
	return n;
}

static int route_fault(void *owner, vaddr_t va, unsigned access, unsigned error_code)
{
	(void)error_code;
	return vm_fault(owner, va, access);
}

int sim_system_boot(struct sim_system *s, uint64_t ram_bytes, unsigned ncpus)
{
	struct mmk_mem_range map[SIM_PC_MAX_RANGES];
	paddr_t top;
	memset(s, 0, sizeof(*s));
	size_t n = sim_pc_memmap(ram_bytes, map, &top);
	s->machine = sim_machine_create(top, ncpus);
	if (!s->machine)
		return -MMK_ENOMEM;
	int rc = phys_init(&s->phys, s->machine, map, n, &s->failpoint);
	if (!rc)
		rc = vm_system_init(&s->vm, &s->phys);
	if (rc) {
		sim_machine_destroy(s->machine);
		return rc;
	}
	sim_set_fault_handler(s->machine, route_fault);
	s->boot_free_frames = sim_system_free_frames(s);
	return 0;
}

uint64_t sim_system_free_frames(struct sim_system *s)
{
	struct phys_stats st;
	phys_get_stats(&s->phys, &st);
	return st.free_frames;
}

int sim_system_shutdown(struct sim_system *s)
{
	int rc = vm_system_fini(&s->vm);
	if (rc)
		return rc;
	sim_machine_destroy(s->machine);
	s->machine = NULL;
	return 0;
}
