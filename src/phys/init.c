/*
 * phys/init.c - phys_init: from a boot memory map to a working allocator.
 *
 * Plan, then commit (seL4's decode/invoke split): memmap.c validates the map
 * and finds room for the frame database without writing anything, so every
 * error leaves *ph as it was.  Only then do we format the database in RAM,
 * stamp the map onto it, reserve the database's own frames, and hand each
 * run of usable frames inside one zone to the buddy allocator as the
 * largest aligned blocks (seed 004: RAM initialisation with zones).
 */
#include <hal/hal.h>

#include "phys_internal.h"

/* Give every run of pending frames to the allocator, cut at zone
 * boundaries, and count RAM and reserved frames on the way. */
static void seed_all_locked(struct phys *ph)
{
	pfn_t p = ph->base_pfn;

	while (p < ph->end_pfn) {
		unsigned state = phys_fr(ph, p)->state;
		pfn_t zend, q;

		if (state != PHYS_FRAME_PENDING) {
			if (state == MMK_FRAME_RESERVED) {
				ph->reserved_frames++;
				ph->ram_frames++;
			}
			p++;
			continue;
		}
		zend = ph->zones[phys_zone_of(p)].end_pfn;
		for (q = p; q < zend && phys_fr(ph, q)->state == PHYS_FRAME_PENDING; q++)
			;
		phys_buddy_seed_locked(ph, p, q);
		ph->ram_frames += q - p;
		p = q;
	}
}

static void commit(struct phys *ph, struct hal_machine *m, const struct mmk_mem_range *map, size_t n,
		   struct mmk_failpoint *fp, const struct phys_plan *plan)
{
	hal_spin_init(&ph->lock);
	hal_spin_lock(&ph->lock);
	ph->machine = m;
	ph->failpoint = fp;
	ph->base_pfn = plan->base_pfn;
	ph->end_pfn = plan->end_pfn;
	ph->db_paddr = mmk_pfn_to_paddr(plan->db_pfn);
	ph->db_bytes = (plan->end_pfn - plan->base_pfn) * sizeof(struct mmk_frame);
	ph->frames = hal_phys_map(m, ph->db_paddr);
	ph->ram_frames = 0;
	ph->reserved_frames = 0;
	ph->strict_ownership = false; /* today's behaviour until a kernel asks (seed 002) */
	ph->kernel_start_pfn = plan->base_pfn;
	ph->kernel_end_pfn = plan->end_pfn;
	phys_db_format(ph);
	phys_map_stamp(ph, map, n);
	phys_db_reserve(ph, plan->db_pfn, plan->db_pages, MMK_OWNER_KERNEL);
	phys_zones_init(ph);
	seed_all_locked(ph);
	hal_spin_unlock(&ph->lock);
}

int phys_init(struct phys *ph, struct hal_machine *m, const struct mmk_mem_range *map, size_t n,
	      struct mmk_failpoint *fp)
{
	struct phys_plan plan;
	int err;

	if (!ph || !m)
		return -MMK_EINVAL;
	err = phys_map_plan(map, n, &plan);
	if (err)
		return err;
	commit(ph, m, map, n, fp, &plan);
	return 0;
}
