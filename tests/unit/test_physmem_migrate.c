/*
 * test_physmem_migrate: migration (seed 001).  Random allocate / map /
 * write / deallocate sequences fragment memory; a compaction pass must then
 * leave every page reading its pattern (kernel-side and through the maps,
 * which re-fault), pinned frames where they were, and a larger largest free
 * block.  Emptying the DMA zone moves frames above 16 MiB with their
 * contents, and a DMA allocation with the zone full makes room that way.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "kmem_fixture.h"
#include "pm_fixture.h"

#define NCONT 4
#define PAGES 4096 /* per container, at most */

static uint64_t pattern(int c, uint64_t pg) { return ((uint64_t)c << 40) ^ (pg * 0x9e3779b97f4a7c15ull) ^ 0x5a5a; }

struct mig {
	struct pmfx fx;
	struct container_ref c[NCONT];
	struct vm_space *as;
	vaddr_t va[NCONT];
	uint8_t present[NCONT][PAGES];
};

static void check_contents(struct mig *m)
{
	pmfx_check(&m->fx);
	for (int c = 0; c < NCONT; c++)
		for (uint64_t pg = 0; pg < PAGES; pg++) {
			if (!m->present[c][pg])
				continue;
			uint64_t v = 0;
			PMFX_RC(&m->fx, container_read(m->c[c], pg * PG + 16, &v, 8), 0);
			PMFX_EQ(&m->fx, v, pattern(c, pg));
			PMFX_RC(&m->fx, sim_read(m->fx.vm.s.machine, 0, m->va[c] + pg * PG + 16, &v, 8, true), 0);
			PMFX_EQ(&m->fx, v, pattern(c, pg));
		}
}

static void test_compaction(void **state)
{
	(void)state;
	static struct mig m;
	memset(&m, 0, sizeof(m));
	pmfx_boot(&m.fx, 64 * VMFX_MIB, 15000);
	m.as = vmfx_space(&m.fx.vm);
	vm_space_activate(m.as, 0);
	uint64_t rng = 77;
	for (int c = 0; c < NCONT; c++) {
		PMFX_RC(&m.fx, container_create(&m.fx.pm, m.fx.task, &m.c[c]), 0);
		PMFX_RC(&m.fx, container_map(m.c[c], m.as, 0, 0, PAGES * PG, VM_PROT_READ | VM_PROT_WRITE, 0, &m.va[c]), 0);
	}
	/* Single pages, written through the maps, interleaved across
	 * containers, until memory is nearly full. */
	for (uint64_t pg = 0; pg < PAGES && phys_free_frames(&m.fx.vm.s.phys) > 8; pg++)
		for (int c = 0; c < NCONT; c++) {
			if (container_allocate(m.c[c], pg * PG, 1, 0, NULL))
				break;
			uint64_t v = pattern(c, pg);
			PMFX_RC(&m.fx, sim_write(m.fx.vm.s.machine, 0, m.va[c] + pg * PG + 16, &v, 8, true), 0);
			m.present[c][pg] = 1;
		}
	/* Half the pages go, scattered: 50 % fragmentation. */
	for (int c = 0; c < NCONT; c++)
		for (uint64_t pg = 0; pg < PAGES; pg++)
			if (m.present[c][pg] && (kfx_rand(&rng) & 1)) {
				PMFX_RC(&m.fx, container_deallocate(m.c[c], pg * PG, PG), 0);
				m.present[c][pg] = 0;
			}
	/* A pinned page must stay where it is. */
	uint64_t pinned_pg = 0;
	while (!m.present[1][pinned_pg])
		pinned_pg++;
	pfn_t pinned_pfn, after_pfn;
	PMFX_RC(&m.fx, container_frame_of(m.c[1], pinned_pg * PG, &pinned_pfn), 0);
	physmem_set_time(&m.fx.pm, 10);
	PMFX_RC(&m.fx, container_pin(m.c[1], pinned_pg * PG, PG, 50, NULL), 0);
	check_contents(&m);
	struct pm_frag_stats before, after;
	physmem_frag_stats(&m.fx.pm, &before);
	struct pm_compact_result res;
	PMFX_RC(&m.fx, physmem_compact(&m.fx.pm, 0, 0, &res), -MMK_EINVAL);
	PMFX_RC(&m.fx, physmem_compact(&m.fx.pm, 5, 0, &res), 0);
	physmem_frag_stats(&m.fx.pm, &after);
	fprintf(stderr, "compaction: largest free order %d -> %d, order-5 blocks %llu -> %llu, %llu frames moved, %llu regions freed\n",
		before.largest_order, after.largest_order, (unsigned long long)before.nr_free[5],
		(unsigned long long)after.nr_free[5], (unsigned long long)res.frames_moved,
		(unsigned long long)res.regions_freed);
	PMFX_TRUE(&m.fx, after.largest_order > before.largest_order);
	PMFX_TRUE(&m.fx, res.frames_moved > 0);
	PMFX_TRUE(&m.fx, res.regions_freed > 0);
	uint64_t blocks_before = 0, blocks_after = 0;
	for (unsigned o = 5; o <= MMK_MAX_ORDER; o++) {
		blocks_before += before.nr_free[o] << (o - 5);
		blocks_after += after.nr_free[o] << (o - 5);
	}
	PMFX_TRUE(&m.fx, blocks_after > blocks_before); /* more memory in blocks of order >= 5 */
	PMFX_EQ(&m.fx, after.free_frames, before.free_frames);
	PMFX_RC(&m.fx, container_frame_of(m.c[1], pinned_pg * PG, &after_pfn), 0);
	PMFX_EQ(&m.fx, after_pfn, pinned_pfn);
	check_contents(&m); /* every page re-faults into its new frame */
	/* Repeated passes with writes in between keep everything. */
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 200; i++) {
			int c = (int)(kfx_rand(&rng) % NCONT);
			uint64_t pg = kfx_rand(&rng) % PAGES;
			if (m.present[c][pg]) {
				PMFX_RC(&m.fx, container_deallocate(m.c[c], pg * PG, PG), 0);
				m.present[c][pg] = 0;
			} else {
				PMFX_RC(&m.fx, container_allocate(m.c[c], pg * PG, 1, 0, NULL), 0);
				uint64_t v = pattern(c, pg);
				PMFX_RC(&m.fx, sim_write(m.fx.vm.s.machine, 0, m.va[c] + pg * PG + 16, &v, 8, true), 0);
				m.present[c][pg] = 1;
			}
		}
		physmem_set_time(&m.fx.pm, 100); /* the pin lapsed */
		PMFX_RC(&m.fx, physmem_compact(&m.fx.pm, 4 + (unsigned)round, 0, &res), 0);
		check_contents(&m);
	}
	for (int c = 0; c < NCONT; c++)
		PMFX_RC(&m.fx, container_destroy(&m.c[c]), 0);
	pmfx_shutdown(&m.fx);
}

static void test_dma_zone(void **state)
{
	(void)state;
	struct pmfx fx;
	pmfx_boot(&fx, 64 * VMFX_MIB, 12000);
	struct container_ref a, filler, b;
	PMFX_RC(&fx, container_create(&fx.pm, fx.task, &a), 0);
	PMFX_RC(&fx, container_create(&fx.pm, fx.task, &filler), 0);
	PMFX_RC(&fx, container_create(&fx.pm, fx.task, &b), 0);
	PMFX_RC(&fx, container_allocate(a, 0, 64, PM_ALLOC_DMA, NULL), 0);
	for (uint64_t pg = 0; pg < 64; pg++)
		PMFX_RC(&fx, container_write(a, pg * PG, &pg, 8), 0);
	pfn_t pfn;
	PMFX_RC(&fx, container_frame_of(a, 0, &pfn), 0);
	PMFX_TRUE(&fx, mmk_pfn_to_paddr(pfn) < MMK_ZONE_DMA_END);
	/* Empty the DMA zone: a's frames move up, contents intact. */
	struct pm_compact_result res;
	uint64_t dma_free = physmem_evacuate_zone(&fx.pm, MMK_ZONE_DMA, UINT64_MAX, &res);
	pmfx_check(&fx);
	PMFX_TRUE(&fx, res.frames_moved > 0);
	PMFX_RC(&fx, container_frame_of(a, 0, &pfn), 0);
	PMFX_TRUE(&fx, mmk_pfn_to_paddr(pfn) >= MMK_ZONE_DMA_END);
	for (uint64_t pg = 0; pg < 64; pg++) {
		uint64_t v;
		PMFX_RC(&fx, container_read(a, pg * PG, &v, 8), 0);
		PMFX_EQ(&fx, v, pg);
	}
	/* Fill the DMA zone, then ask for more DMA frames: physmem makes room. */
	uint64_t got = 0;
	PMFX_RC(&fx, container_allocate(filler, 0, dma_free + 1000, PM_ALLOC_DMA | PM_ALLOC_PARTIAL, &got), 0);
	PMFX_TRUE(&fx, got > 0 && got <= dma_free);
	pmfx_check(&fx);
	PMFX_RC(&fx, container_allocate(b, 0, 16, PM_ALLOC_DMA, NULL), 0);
	PMFX_RC(&fx, container_frame_of(b, 0, &pfn), 0);
	PMFX_TRUE(&fx, mmk_pfn_to_paddr(pfn) < MMK_ZONE_DMA_END);
	pmfx_check(&fx);
	PMFX_RC(&fx, container_destroy(&a), 0);
	PMFX_RC(&fx, container_destroy(&filler), 0);
	PMFX_RC(&fx, container_destroy(&b), 0);
	pmfx_shutdown(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compaction),
		cmocka_unit_test(test_dma_zone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
