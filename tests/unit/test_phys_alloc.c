/*
 * test_phys_alloc: the buddy allocator - every order up to MMK_MAX_ORDER,
 * alignment, exhaustion and full coalescing afterwards, every kind of bad
 * free (each returning its error and changing nothing), PHYS_ZERO, owners,
 * and the failpoint.  The fixture runs phys_check after every call.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "phys_fixture.h"

#define MIB PHYS_FX_MIB
#define GIB PHYS_FX_GIB
#define PG MMK_PAGE_SIZE
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* 8 MiB of RAM at 0: 2048 frames, the database in the top 12. */
static const struct mmk_mem_range small_map[] = { { 0, 8 * MIB, MMK_MEM_USABLE } };

static void setup_small(struct phys_fx *fx)
{
	assert_int_equal(phys_fx_init(fx, 8 * MIB, small_map, 1), 0);
}

static void assert_back_to_init(struct phys_fx *fx)
{
	struct phys_stats st;

	phys_fx_stats(fx, &st);
	phys_fx_assert_stats_eq(&st, &fx->init);
}

/* Every order 0..MMK_MAX_ORDER at once: 2^21 - 1 frames with a 4 GiB-aligned
 * 4 GiB block, so RAM runs to 12 GiB (untouched sim RAM costs nothing). */
static void test_every_order(void **state)
{
	(void)state;
	static const struct mmk_mem_range map[] = {
		{ 1 * MIB, 127 * MIB, MMK_MEM_USABLE },
		{ 4 * GIB, 8 * GIB, MMK_MEM_USABLE },
	};
	struct phys_fx fx;
	pfn_t got[MMK_MAX_ORDER + 1];

	assert_int_equal(phys_fx_init(&fx, 12 * GIB, map, ARRAY_LEN(map)), 0);
	assert_int_equal(fx.init.zone[MMK_ZONE_NORMAL].nr_free[MMK_MAX_ORDER], 2);
	for (unsigned o = MMK_MAX_ORDER + 1; o-- > 0;)
		assert_int_equal(phys_fx_alloc(&fx, o, 0, 0, &got[o]), 0);
	assert_int_equal(fx.ph.zones[MMK_ZONE_NORMAL].free, 1); /* 2^21 - (2^21 - 1) */
	for (unsigned o = 0; o <= MMK_MAX_ORDER; o++)
		assert_int_equal(phys_fx_free(&fx, got[o], o), 0);
	assert_back_to_init(&fx);
	/* One at a time, each freed before the next. */
	for (unsigned o = 0; o <= MMK_MAX_ORDER; o++) {
		pfn_t pfn;

		assert_int_equal(phys_fx_alloc(&fx, o, 0, PHYS_USER, &pfn), 0);
		assert_int_equal(phys_fx_free(&fx, pfn, o), 0);
	}
	assert_back_to_init(&fx);
	phys_fx_fini(&fx);
}

static void test_alignment(void **state)
{
	(void)state;
	struct phys_fx fx;
	pfn_t a, b, c, d;

	setup_small(&fx);
	assert_int_equal(phys_fx_alloc(&fx, 0, 0, 0, &a), 0);
	assert_int_equal(phys_fx_alloc(&fx, 0, 10, 0, &b), 0);
	assert_int_equal(b % 1024, 0);
	assert_int_equal(phys_fx_alloc(&fx, 3, 5, 0, &c), 0);
	assert_int_equal(c % 32, 0);
	assert_int_equal(phys_fx_alloc(&fx, 4, 2, 0, &d), 0); /* align below order: order wins */
	assert_int_equal(d % 16, 0);
	assert_int_equal(phys_fx_free(&fx, d, 4), 0);
	assert_int_equal(phys_fx_free(&fx, c, 3), 0);
	assert_int_equal(phys_fx_free(&fx, b, 0), 0);
	assert_int_equal(phys_fx_free(&fx, a, 0), 0);
	/* 2^63 frames: only pfn 0 is that aligned. */
	assert_int_equal(phys_fx_alloc(&fx, 0, 63, 0, &a), 0);
	assert_int_equal(a, 0);
	assert_int_equal(phys_fx_alloc(&fx, 0, 63, 0, &b), -MMK_ENOMEM);
	assert_int_equal(phys_fx_alloc(&fx, 0, 64, 0, &b), -MMK_EINVAL);
	assert_int_equal(phys_fx_free(&fx, a, 0), 0);
	assert_back_to_init(&fx);
	phys_fx_fini(&fx);
}

/* When the only aligned free frames are single frames, the allocator finds
 * them on the order-0 list instead of failing. */
static void test_alignment_from_small_blocks(void **state)
{
	(void)state;
	struct phys_fx fx;
	pfn_t pfn, got;
	uint64_t n = 0;

	setup_small(&fx);
	while (phys_fx_alloc(&fx, 0, 0, 0, &pfn) == 0)
		n++;
	assert_int_equal(n, fx.init.free_frames);
	assert_int_equal(phys_fx_free(&fx, 1024, 0), 0); /* aligned to 1024, not 2048 */
	assert_int_equal(phys_fx_free(&fx, 5, 0), 0);
	assert_int_equal(phys_fx_alloc(&fx, 0, 11, 0, &got), -MMK_ENOMEM);
	assert_int_equal(phys_fx_alloc(&fx, 0, 10, 0, &got), 0);
	assert_int_equal(got, 1024);
	assert_int_equal(phys_fx_alloc(&fx, 0, 1, 0, &got), -MMK_ENOMEM);
	assert_int_equal(phys_fx_alloc(&fx, 0, 0, 0, &got), 0);
	assert_int_equal(got, 5);
	for (pfn_t p = 0; p < 2048 - 12; p++)
		assert_int_equal(phys_fx_free(&fx, p, 0), 0);
	assert_back_to_init(&fx);
	phys_fx_fini(&fx);
}

/* Deterministic shuffle (xorshift64). */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void test_exhaustion(void **state)
{
	(void)state;
	struct phys_fx fx;
	static pfn_t pfns[2048];
	static unsigned orders[2048];
	unsigned n = 0;
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	pfn_t pfn;

	setup_small(&fx);
	/* Order 3 until nothing of order 3 is left, then single frames. */
	while (phys_fx_alloc(&fx, 3, 0, 0, &pfn) == 0) {
		pfns[n] = pfn;
		orders[n++] = 3;
	}
	while (phys_fx_alloc(&fx, 0, 0, 0, &pfn) == 0) {
		pfns[n] = pfn;
		orders[n++] = 0;
	}
	assert_int_equal(phys_fx_free_frames(&fx), 0);
	for (unsigned o = 0; o <= MMK_MAX_ORDER; o++)
		assert_int_equal(phys_fx_alloc(&fx, o, 0, 0, &pfn), -MMK_ENOMEM);
	/* Free in a shuffled order: coalescing restores init's buddyinfo. */
	for (unsigned i = n; i > 1; i--) {
		unsigned j = (unsigned)(rng_next(&seed) % i);
		pfn_t tp = pfns[i - 1];
		unsigned to = orders[i - 1];

		pfns[i - 1] = pfns[j];
		orders[i - 1] = orders[j];
		pfns[j] = tp;
		orders[j] = to;
	}
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(phys_fx_free(&fx, pfns[i], orders[i]), 0);
	assert_back_to_init(&fx);
	phys_fx_fini(&fx);
}

/* RAM [0, 4M) with a boot image at [1M, 2M), a hole [4M, 5M), RAM to 8M. */
static const struct mmk_mem_range holey_map[] = {
	{ 0, 4 * MIB, MMK_MEM_USABLE },
	{ 5 * MIB, 3 * MIB, MMK_MEM_USABLE },
	{ 1 * MIB, 1 * MIB, MMK_MEM_BOOT },
};

static void test_bad_free(void **state)
{
	(void)state;
	struct phys_fx fx;
	pfn_t a, b, db = 0;

	assert_int_equal(phys_fx_init(&fx, 8 * MIB, holey_map, ARRAY_LEN(holey_map)), 0);
	db = mmk_paddr_to_pfn(fx.ph.db_paddr);
	assert_int_equal(phys_fx_alloc(&fx, 3, 0, 0, &b), 0);
	/* Interior frames and wrong orders (the fixture checks nothing moved). */
	assert_int_equal(phys_fx_free(&fx, b + 1, 0), -MMK_EINVAL);
	assert_int_equal(phys_fx_free(&fx, b + 1, 3), -MMK_EINVAL);
	assert_int_equal(phys_fx_free(&fx, b + 4, 2), -MMK_EINVAL);
	assert_int_equal(phys_fx_free(&fx, b, 2), -MMK_EINVAL);
	assert_int_equal(phys_fx_free(&fx, b, 4), -MMK_EINVAL);
	assert_int_equal(phys_fx_free(&fx, b, MMK_MAX_ORDER + 1), -MMK_EINVAL);
	assert_int_equal(phys_fx_free(&fx, b, UINT32_MAX), -MMK_EINVAL);
	/* Reserved frames: the database and the boot image. */
	assert_int_equal(phys_fx_free(&fx, db, 0), -MMK_EINVAL);
	assert_int_equal(phys_fx_free(&fx, 256, 0), -MMK_EINVAL);
	assert_int_equal(phys_fx_free(&fx, 256, 8), -MMK_EINVAL);
	/* A hole, and frames outside the database. */
	assert_int_equal(phys_fx_free(&fx, 1024, 0), -MMK_EINVAL);
	assert_int_equal(phys_fx_free(&fx, fx.ph.end_pfn, 0), -MMK_EINVAL);
	assert_int_equal(phys_fx_free(&fx, UINT64_MAX, 0), -MMK_EINVAL);
	assert_int_equal(phys_free(NULL, b, 3), -MMK_EINVAL);
	/* The block survived all that. */
	assert_int_equal(phys_fx_free(&fx, b, 3), 0);
	/* Double frees: the block has merged into a bigger one by now. */
	assert_int_equal(phys_fx_free(&fx, b, 3), -MMK_EALREADY);
	assert_int_equal(phys_fx_free(&fx, b + 1, 0), -MMK_EALREADY);
	/* Never allocated at all: frame 0 heads a free block since init. */
	assert_int_equal(phys_fx_free(&fx, 0, 0), -MMK_EALREADY);
	/* A free range that is not block-aligned is no double free. */
	assert_int_equal(phys_fx_free(&fx, 1, 1), -MMK_EINVAL);
	/* A double free of a block that could not merge. */
	assert_int_equal(phys_fx_alloc(&fx, 0, 0, 0, &a), 0);
	assert_int_equal(phys_fx_alloc(&fx, 0, 0, 0, &b), 0);
	assert_int_equal(phys_fx_free(&fx, a, 0), 0);
	assert_int_equal(phys_fx_free(&fx, a, 0), -MMK_EALREADY);
	assert_int_equal(phys_fx_free(&fx, b, 0), 0);
	assert_back_to_init(&fx);
	phys_fx_fini(&fx);
}

static void test_bad_alloc(void **state)
{
	(void)state;
	struct phys_fx fx;
	pfn_t pfn = 0;

	setup_small(&fx);
	assert_int_equal(phys_fx_alloc(&fx, MMK_MAX_ORDER + 1, 0, 0, &pfn), -MMK_EINVAL);
	assert_int_equal(phys_fx_alloc(&fx, UINT32_MAX, 0, 0, &pfn), -MMK_EINVAL);
	assert_int_equal(phys_fx_alloc(&fx, 0, 0, PHYS_FLAGS_ALL + 1, &pfn), -MMK_EINVAL);
	assert_int_equal(phys_fx_alloc(&fx, 0, 0, 0x80000000u, &pfn), -MMK_EINVAL);
	assert_int_equal(phys_alloc(&fx.ph, 0, 0, NULL), -MMK_EINVAL);
	phys_fx_check(&fx);
	assert_int_equal(phys_alloc(NULL, 0, 0, &pfn), -MMK_EINVAL);
	/* Bigger than RAM. */
	assert_int_equal(phys_fx_alloc(&fx, 12, 0, 0, &pfn), -MMK_ENOMEM);
	assert_int_equal(pfn, 0);
	assert_back_to_init(&fx);
	phys_fx_fini(&fx);
}

static void test_zero(void **state)
{
	(void)state;
	struct phys_fx fx;
	static pfn_t pfns[2048];
	unsigned n = 0;
	pfn_t pfn;
	static uint8_t zeros[4 * 4096];

	setup_small(&fx);
	/* Dirty every free frame. */
	while (phys_fx_alloc(&fx, 0, 0, 0, &pfn) == 0) {
		uint8_t *p = phys_frame_ptr(&fx.ph, pfn);

		assert_non_null(p);
		memset(p, 0xa5, PG);
		pfns[n++] = pfn;
	}
	while (n > 0)
		assert_int_equal(phys_fx_free(&fx, pfns[--n], 0), 0);
	/* Every block handed out with PHYS_ZERO reads as zeros. */
	while (phys_fx_alloc(&fx, 2, 0, PHYS_ZERO, &pfn) == 0) {
		assert_memory_equal(phys_frame_ptr(&fx.ph, pfn), zeros, sizeof(zeros));
		pfns[n++] = pfn;
	}
	assert_int_equal(n, fx.init.free_frames / 4);
	while (n > 0)
		assert_int_equal(phys_fx_free(&fx, pfns[--n], 2), 0);
	assert_back_to_init(&fx);
	phys_fx_fini(&fx);
}

static void test_owner_and_refcount(void **state)
{
	(void)state;
	struct phys_fx fx;
	pfn_t u, k;
	struct mmk_frame *f;

	setup_small(&fx);
	assert_int_equal(phys_fx_alloc(&fx, 1, 0, PHYS_USER, &u), 0);
	assert_int_equal(phys_frame(&fx.ph, u)->owner, MMK_OWNER_USER);
	assert_int_equal(phys_fx_alloc(&fx, 0, 0, PHYS_ZERO, &k), 0);
	assert_int_equal(phys_frame(&fx.ph, k)->owner, MMK_OWNER_KERNEL);
	/* The holder's fields are reset by free and by the next alloc. */
	f = phys_frame(&fx.ph, u);
	f->refcount = 3;
	f->private_data = 0xdeadbeef;
	assert_int_equal(phys_fx_free(&fx, u, 1), 0);
	assert_int_equal(phys_frame(&fx.ph, u)->owner, MMK_OWNER_NONE);
	assert_int_equal(phys_frame(&fx.ph, u + 1)->owner, MMK_OWNER_NONE);
	assert_int_equal(phys_fx_alloc(&fx, 1, 0, 0, &u), 0);
	assert_int_equal(phys_frame(&fx.ph, u)->refcount, 0);
	assert_int_equal(phys_frame(&fx.ph, u)->private_data, 0);
	assert_int_equal(phys_fx_free(&fx, u, 1), 0);
	assert_int_equal(phys_fx_free(&fx, k, 0), 0);
	assert_back_to_init(&fx);
	phys_fx_fini(&fx);
}

static void test_failpoint(void **state)
{
	(void)state;
	struct phys_fx fx;
	pfn_t a, b, c, d;

	setup_small(&fx);
	/* The third call fails, the others do not. */
	mmk_failpoint_arm(&fx.fp, 3, false);
	uint64_t calls = fx.fp.calls;
	assert_int_equal(phys_fx_alloc(&fx, 0, 0, 0, &a), 0);
	assert_int_equal(phys_fx_alloc(&fx, 1, 0, 0, &b), 0);
	assert_int_equal(phys_fx_alloc(&fx, 2, 0, 0, &c), -MMK_ENOMEM);
	assert_int_equal(fx.fp.failed, 1);
	assert_int_equal(phys_fx_alloc(&fx, 2, 0, 0, &c), 0);
	assert_int_equal(fx.fp.calls, calls + 4);
	/* Frees do not consult it. */
	assert_int_equal(phys_fx_free(&fx, c, 2), 0);
	assert_int_equal(fx.fp.calls, calls + 4);
	/* It fires before argument checks: one consultation per call. */
	mmk_failpoint_arm(&fx.fp, 1, false);
	assert_int_equal(phys_fx_alloc(&fx, MMK_MAX_ORDER + 1, 0, 0, &d), -MMK_ENOMEM);
	assert_int_equal(phys_fx_alloc(&fx, MMK_MAX_ORDER + 1, 0, 0, &d), -MMK_EINVAL);
	/* Sticky: every call fails until disarmed. */
	mmk_failpoint_arm(&fx.fp, 2, true);
	assert_int_equal(phys_fx_alloc(&fx, 0, 0, 0, &d), 0);
	assert_int_equal(phys_fx_alloc(&fx, 0, 0, 0, &c), -MMK_ENOMEM);
	assert_int_equal(phys_fx_alloc(&fx, 0, 3, PHYS_ZERO, &c), -MMK_ENOMEM);
	assert_int_equal(fx.fp.failed, 4);
	mmk_failpoint_arm(&fx.fp, 0, false);
	assert_int_equal(phys_fx_alloc(&fx, 0, 0, 0, &c), 0);
	assert_int_equal(phys_fx_free(&fx, c, 0), 0);
	assert_int_equal(phys_fx_free(&fx, d, 0), 0);
	assert_int_equal(phys_fx_free(&fx, b, 1), 0);
	assert_int_equal(phys_fx_free(&fx, a, 0), 0);
	assert_back_to_init(&fx);
	phys_fx_fini(&fx);
}

/* A block is handed out and merged back across a boot range and a hole
 * without ever covering either. */
static void test_reserved_never_handed_out(void **state)
{
	(void)state;
	struct phys_fx fx;
	static pfn_t pfns[2048];
	unsigned n = 0;
	pfn_t pfn;

	assert_int_equal(phys_fx_init(&fx, 8 * MIB, holey_map, ARRAY_LEN(holey_map)), 0);
	while (phys_fx_alloc(&fx, 0, 0, 0, &pfn) == 0) {
		assert_false(pfn >= 256 && pfn < 512);   /* boot image */
		assert_false(pfn >= 1024 && pfn < 1280); /* hole */
		assert_int_not_equal(phys_frame(&fx.ph, pfn)->state, MMK_FRAME_RESERVED);
		pfns[n++] = pfn;
	}
	assert_int_equal(n, fx.init.managed_frames);
	while (n > 0)
		assert_int_equal(phys_fx_free(&fx, pfns[--n], 0), 0);
	assert_back_to_init(&fx);
	phys_fx_fini(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_order),
		cmocka_unit_test(test_alignment),
		cmocka_unit_test(test_alignment_from_small_blocks),
		cmocka_unit_test(test_exhaustion),
		cmocka_unit_test(test_bad_free),
		cmocka_unit_test(test_bad_alloc),
		cmocka_unit_test(test_zero),
		cmocka_unit_test(test_owner_and_refcount),
		cmocka_unit_test(test_failpoint),
		cmocka_unit_test(test_reserved_never_handed_out),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
