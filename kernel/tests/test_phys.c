/*
 * test_phys.c - frames and the buddy allocator on the machine's real RAM:
 * the boot map's reservations took effect (the kernel image and the boot
 * data are never handed out), every order allocates aligned blocks in the
 * allowed zones, PHYS_ZERO zeroes, freeing coalesces back to the same
 * per-order counts, bad frees are refused with nothing changed, and a
 * failpoint makes an allocation fail cleanly.  phys_check after each step.
 */
#include <mmk/errno.h>

#include "../kernel.h"
#include "tests.h"

static void test_boot_ranges_reserved(void **state)
{
	(void)state;
	KT_INVARIANT(phys_check, &kernel.phys);
	extern char _kernel_phys_start[], _kernel_phys_end[];
	pfn_t first = mmk_paddr_to_pfn((paddr_t)(uintptr_t)_kernel_phys_start);
	pfn_t last = mmk_paddr_to_pfn((paddr_t)(uintptr_t)_kernel_phys_end - 1);
	for (pfn_t p = first; p <= last; p++) {
		struct mmk_frame *f = phys_frame(&kernel.phys, p);
		KT_ASSERT(f != NULL);
		KT_EQ(f->state, MMK_FRAME_RESERVED);
		KT_EQ(f->owner, MMK_OWNER_BOOT);
	}
	KT_ASSERT(kernel.boot.boot_ranges >= 4); /* image, page 0, information, memory map */
	for (size_t i = 0; i < kernel.boot.n; i++) {
		const struct mmk_mem_range *r = &kernel.boot.ranges[i];
		if (r->type != MMK_MEM_BOOT)
			continue;
		for (pfn_t p = mmk_paddr_to_pfn(r->base); p <= mmk_paddr_to_pfn(r->base + r->len - 1); p++) {
			struct mmk_frame *f = phys_frame(&kernel.phys, p);
			KT_ASSERT(f != NULL);
			KT_EQ(f->state, MMK_FRAME_RESERVED);
		}
	}
	/* A boot frame cannot be freed into the allocator. */
	KT_EQ(phys_free(&kernel.phys, first, 0), -MMK_EINVAL);
	struct phys_stats st;
	phys_get_stats(&kernel.phys, &st);
	KT_EQ(st.ram_frames, st.managed_frames + st.reserved_frames);
	KT_ASSERT(st.free_frames > 16u * 256u); /* most of 128 MiB is free */
}

static void test_every_order(void **state)
{
	(void)state;
	uint64_t base = tests_free_frames();
	pfn_t blocks[11];
	for (unsigned order = 0; order <= 10; order++) {
		KT_EQ(phys_alloc(&kernel.phys, order, 0, &blocks[order]), 0);
		KT_EQ(blocks[order] & ((1u << order) - 1), 0);
		struct mmk_frame *f = phys_frame(&kernel.phys, blocks[order]);
		KT_EQ(f->state, MMK_FRAME_ALLOCATED);
		KT_EQ(f->order, order);
		KT_EQ(f->owner, MMK_OWNER_KERNEL);
		/* The block is RAM the kernel can write through the direct map. */
		uint64_t *w = phys_frame_ptr(&kernel.phys, blocks[order]);
		w[0] = order;
		w[((MMK_PAGE_SIZE << order) / 8) - 1] = order;
	}
	KT_INVARIANT(phys_check, &kernel.phys);
	for (unsigned order = 0; order <= 10; order++)
		KT_EQ(phys_free(&kernel.phys, blocks[order], order), 0);
	KT_INVARIANT(phys_check, &kernel.phys);
	KT_EQ(tests_free_frames(), base);
}

static void test_zones_and_alignment(void **state)
{
	(void)state;
	pfn_t dma, dma32, aligned;
	KT_EQ(phys_alloc(&kernel.phys, 2, PHYS_ZONE_DMA, &dma), 0);
	KT_ASSERT(mmk_pfn_to_paddr(dma + 4) <= MMK_ZONE_DMA_END);
	KT_EQ(phys_frame(&kernel.phys, dma)->zone, MMK_ZONE_DMA);
	KT_EQ(phys_alloc(&kernel.phys, 0, PHYS_ZONE_DMA32 | PHYS_USER, &dma32), 0);
	KT_EQ(phys_frame(&kernel.phys, dma32)->owner, MMK_OWNER_USER);
	KT_EQ(phys_alloc_aligned(&kernel.phys, 0, 9, 0, &aligned), 0);
	KT_EQ(aligned & 511u, 0);
	KT_INVARIANT(phys_check, &kernel.phys);
	KT_EQ(phys_free(&kernel.phys, dma, 2), 0);
	KT_EQ(phys_free(&kernel.phys, dma32, 0), 0);
	KT_EQ(phys_free(&kernel.phys, aligned, 0), 0);
	KT_INVARIANT(phys_check, &kernel.phys);
}

static void test_zero_flag(void **state)
{
	(void)state;
	pfn_t p, q;
	KT_EQ(phys_alloc(&kernel.phys, 1, 0, &p), 0);
	uint64_t *w = phys_frame_ptr(&kernel.phys, p);
	for (unsigned i = 0; i < 1024; i++)
		w[i] = 0x5a5a5a5a5a5a5a5aull;
	KT_EQ(phys_free(&kernel.phys, p, 1), 0);
	KT_EQ(phys_alloc(&kernel.phys, 1, PHYS_ZERO, &q), 0);
	w = phys_frame_ptr(&kernel.phys, q);
	for (unsigned i = 0; i < 1024; i++)
		KT_EQ(w[i], 0);
	KT_EQ(phys_free(&kernel.phys, q, 1), 0);
}

/* 1000 single frames taken and given back in another order: the buddy
 * lists coalesce to exactly the counts they started with. */
static void test_buddy_coalesces(void **state)
{
	(void)state;
	static pfn_t frames[1000];
	struct phys_stats before, after;
	phys_get_stats(&kernel.phys, &before);
	for (unsigned i = 0; i < 1000; i++)
		KT_EQ(phys_alloc(&kernel.phys, 0, 0, &frames[i]), 0);
	KT_INVARIANT(phys_check, &kernel.phys);
	for (unsigned i = 0; i < 1000; i += 2)
		KT_EQ(phys_free(&kernel.phys, frames[i], 0), 0);
	for (unsigned i = 1; i < 1000; i += 2)
		KT_EQ(phys_free(&kernel.phys, frames[i], 0), 0);
	KT_INVARIANT(phys_check, &kernel.phys);
	phys_get_stats(&kernel.phys, &after);
	KT_EQ(after.free_frames, before.free_frames);
	for (unsigned z = 0; z < MMK_NR_ZONES; z++)
		for (unsigned o = 0; o <= MMK_MAX_ORDER; o++)
			KT_EQ(after.zone[z].nr_free[o], before.zone[z].nr_free[o]);
}

static void test_bad_frees_change_nothing(void **state)
{
	(void)state;
	pfn_t p;
	KT_EQ(phys_alloc(&kernel.phys, 3, 0, &p), 0);
	uint64_t base = tests_free_frames();
	KT_EQ(phys_free(&kernel.phys, p, 2), -MMK_EINVAL);     /* wrong order */
	KT_EQ(phys_free(&kernel.phys, p + 1, 0), -MMK_EINVAL); /* interior */
	KT_EQ(phys_free(&kernel.phys, kernel.phys.end_pfn + 5, 0), -MMK_EINVAL); /* beyond RAM */
	KT_EQ(phys_alloc(&kernel.phys, MMK_MAX_ORDER + 1, 0, &p), -MMK_EINVAL);
	KT_EQ(tests_free_frames(), base);
	KT_INVARIANT(phys_check, &kernel.phys);
	KT_EQ(phys_free(&kernel.phys, p, 3), 0);
	KT_EQ(phys_free(&kernel.phys, p, 3), -MMK_EALREADY); /* double free */
	KT_INVARIANT(phys_check, &kernel.phys);
}

static void test_failpoint(void **state)
{
	(void)state;
	uint64_t base = tests_free_frames();
	pfn_t p;
	mmk_failpoint_arm(&kernel.failpoint, 1, false);
	KT_EQ(phys_alloc(&kernel.phys, 0, 0, &p), -MMK_ENOMEM);
	KT_EQ(tests_free_frames(), base);
	KT_EQ(phys_alloc(&kernel.phys, 0, 0, &p), 0); /* one shot: the next succeeds */
	KT_EQ(phys_free(&kernel.phys, p, 0), 0);
	KT_INVARIANT(phys_check, &kernel.phys);
}

void test_phys_suite(void)
{
	static const struct ktest tests[] = {
		KT_TEST(test_boot_ranges_reserved), KT_TEST(test_every_order),    KT_TEST(test_zones_and_alignment),
		KT_TEST(test_zero_flag),            KT_TEST(test_buddy_coalesces), KT_TEST(test_bad_frees_change_nothing),
		KT_TEST(test_failpoint),
	};
	ktest_run_suite("frames and buddy", tests, KT_COUNT(tests));
}
