/*
 * test_kmalloc.c - the kernel heap is mmk's kmalloc: every size class and
 * large blocks hand out writable, aligned, non-overlapping memory with
 * ksize at least the request; kfree refuses foreign and double frees;
 * kmap of a frame is its direct-map address and reaches the same bytes;
 * after everything is freed and drained the heap holds no frame it did not
 * hold before.
 */
#include <mmk/errno.h>

#include "../kernel.h"
#include "../klib.h"
#include "tests.h"

static void test_sizes(void **state)
{
	(void)state;
	static const size_t sizes[] = { 1, 8, 24, 96, 100, 192, 500, 1024, 3000, 4096, 8192, 8193, 20000, 65536 };
	enum { N = sizeof(sizes) / sizeof(sizes[0]) };
	static uint8_t *blocks[N][4];
	kmalloc_drain(&kernel.heap);
	uint64_t base = tests_free_frames();
	for (unsigned i = 0; i < N; i++)
		for (unsigned k = 0; k < 4; k++) {
			uint8_t *b = kmalloc(&kernel.heap, sizes[i]);
			KT_ASSERT(b != NULL);
			KT_ASSERT(ksize(&kernel.heap, b) >= sizes[i]);
			KT_EQ((uintptr_t)b & 7u, 0);
			if (sizes[i] > KMALLOC_MAX_CACHE_SIZE)
				KT_EQ((uintptr_t)b & MMK_PAGE_MASK, 0);
			memset(b, (int)(i * 4 + k), sizes[i]);
			blocks[i][k] = b;
		}
	KT_INVARIANT(kmalloc_check, &kernel.heap);
	for (unsigned i = 0; i < N; i++)
		for (unsigned k = 0; k < 4; k++) {
			uint8_t *b = blocks[i][k];
			KT_EQ(b[0], (uint8_t)(i * 4 + k)); /* nothing overlapped */
			KT_EQ(b[sizes[i] - 1], (uint8_t)(i * 4 + k));
			KT_EQ(kfree(&kernel.heap, b), 0);
		}
	KT_INVARIANT(kmalloc_check, &kernel.heap);
	kmalloc_drain(&kernel.heap);
	KT_EQ(tests_free_frames(), base);
}

static void test_refusals(void **state)
{
	(void)state;
	uint64_t local = 0;
	KT_EQ(kfree(&kernel.heap, &local), -MMK_EINVAL); /* not from the heap */
	KT_EQ(kfree(&kernel.heap, NULL), 0);
	uint8_t *b = kzalloc(&kernel.heap, 200);
	KT_ASSERT(b != NULL);
	for (unsigned i = 0; i < 200; i++)
		KT_EQ(b[i], 0);
	KT_EQ(kfree(&kernel.heap, b + 8), -MMK_EINVAL); /* interior */
	KT_EQ(kfree(&kernel.heap, b), 0);
	uint8_t *big = kmalloc(&kernel.heap, 3 * MMK_PAGE_SIZE);
	KT_ASSERT(big != NULL);
	KT_EQ(kfree(&kernel.heap, big), 0);
	KT_EQ(kfree(&kernel.heap, big), -MMK_EALREADY);
	KT_ASSERT(kmalloc(&kernel.heap, 0) == NULL);
	KT_INVARIANT(kmalloc_check, &kernel.heap);
}

static void test_kmap(void **state)
{
	(void)state;
	pfn_t pfn;
	KT_EQ(phys_alloc(&kernel.phys, 0, PHYS_ZERO, &pfn), 0);
	uint64_t *k = kmap(&kernel.heap, pfn);
	KT_ASSERT(k != NULL);
	KT_EQ((uintptr_t)k, (uintptr_t)hal_phys_map(kernel.machine, mmk_pfn_to_paddr(pfn)));
	k[7] = 0x1234;
	KT_EQ(((uint64_t *)phys_frame_ptr(&kernel.phys, pfn))[7], 0x1234);
	KT_EQ(kernel.heap.kmap_active, 1);
	KT_EQ(kunmap(&kernel.heap, k), 0);
	KT_EQ(kernel.heap.kmap_active, 0);
	uint64_t local;
	KT_EQ(kunmap(&kernel.heap, &local), -MMK_EINVAL);
	KT_ASSERT(kmap(&kernel.heap, kernel.phys.end_pfn + 100) == NULL); /* not RAM */
	KT_EQ(phys_free(&kernel.phys, pfn, 0), 0);
}

void test_kmalloc_suite(void)
{
	static const struct ktest tests[] = {
		KT_TEST(test_sizes),
		KT_TEST(test_refusals),
		KT_TEST(test_kmap),
	};
	ktest_run_suite("kmalloc and kmap", tests, KT_COUNT(tests));
}
