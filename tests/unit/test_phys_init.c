/*
 * test_phys_init: phys_init from boot memory maps - holes, overlaps,
 * reserved and boot ranges inside usable RAM, unaligned bounds, three
 * zones, where the frame database lands, and every bad map's error (with
 * struct phys left byte for byte as it was).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include <sim.h>

#include "phys_fixture.h"

#define MIB PHYS_FX_MIB
#define GIB PHYS_FX_GIB
#define KIB ((uint64_t)1024)
#define PG MMK_PAGE_SIZE
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const struct mmk_frame *frame(struct phys_fx *fx, pfn_t pfn)
{
	const struct mmk_frame *f = phys_frame(&fx->ph, pfn);

	assert_non_null(f);
	return f;
}

static void assert_frames(struct phys_fx *fx, pfn_t s, pfn_t e, unsigned state, unsigned owner)
{
	for (pfn_t p = s; p < e; p++) {
		assert_int_equal(frame(fx, p)->state, state);
		assert_int_equal(frame(fx, p)->owner, owner);
	}
}

/* Frames of [s, e) are managed: free heads or tails. */
static void assert_managed(struct phys_fx *fx, pfn_t s, pfn_t e)
{
	for (pfn_t p = s; p < e; p++) {
		unsigned st = frame(fx, p)->state;

		assert_true(st == MMK_FRAME_FREE || st == MMK_FRAME_TAIL);
	}
}

static pfn_t db_pfn(struct phys_fx *fx) { return mmk_paddr_to_pfn(fx->ph.db_paddr); }
static uint64_t db_pages(struct phys_fx *fx) { return (fx->ph.db_bytes + PG - 1) / PG; }

/* The database's frames are RESERVED/KERNEL and their bytes are where
 * frames points. */
static void assert_db(struct phys_fx *fx)
{
	assert_int_equal(fx->ph.db_bytes, (fx->ph.end_pfn - fx->ph.base_pfn) * sizeof(struct mmk_frame));
	assert_ptr_equal(fx->ph.frames, phys_frame_ptr(&fx->ph, db_pfn(fx)));
	assert_frames(fx, db_pfn(fx), db_pfn(fx) + db_pages(fx), MMK_FRAME_RESERVED, MMK_OWNER_KERNEL);
}

static void test_one_range(void **state)
{
	(void)state;
	struct mmk_mem_range map[] = { { 0, 64 * MIB, MMK_MEM_USABLE } };
	struct phys_fx fx;

	assert_int_equal(phys_fx_init(&fx, 64 * MIB, map, 1), 0);
	assert_int_equal(fx.ph.base_pfn, 0);
	assert_int_equal(fx.ph.end_pfn, 16384);
	/* 16384 descriptors of 24 bytes: 96 pages, at the top of RAM. */
	assert_int_equal(fx.init.db_bytes, 16384 * 24);
	assert_int_equal(db_pfn(&fx), 16384 - 96);
	assert_db(&fx);
	assert_int_equal(fx.init.ram_frames, 16384);
	assert_int_equal(fx.init.reserved_frames, 96);
	assert_int_equal(fx.init.managed_frames, 16384 - 96);
	assert_int_equal(fx.init.free_frames, 16384 - 96);
	/* DMA: one order-12 block; DMA32 [4096, 16288) greedily. */
	assert_int_equal(fx.init.zone[MMK_ZONE_DMA].managed, 4096);
	assert_int_equal(fx.init.zone[MMK_ZONE_DMA].nr_free[12], 1);
	assert_int_equal(fx.init.zone[MMK_ZONE_DMA32].managed, 12192);
	assert_int_equal(fx.init.zone[MMK_ZONE_NORMAL].managed, 0);
	static const unsigned expect[MMK_MAX_ORDER + 1] = { [12] = 2, [11] = 1, [10] = 1, [9] = 1,
							    [8] = 1,  [7] = 1,  [5] = 1 };
	for (unsigned o = 0; o <= MMK_MAX_ORDER; o++)
		assert_int_equal(fx.init.zone[MMK_ZONE_DMA32].nr_free[o], expect[o]);
	assert_int_equal(frame(&fx, 0)->state, MMK_FRAME_FREE);
	assert_int_equal(frame(&fx, 0)->order, 12);
	assert_int_equal(frame(&fx, 1)->state, MMK_FRAME_TAIL);
	phys_fx_fini(&fx);
}

/* A PC-like low memory: [0, 640K) RAM, [640K, 1M) firmware hole. */
static void test_holes(void **state)
{
	(void)state;
	struct mmk_mem_range map[] = {
		{ 1 * MIB, 31 * MIB, MMK_MEM_USABLE },
		{ 640 * KIB, 384 * KIB, MMK_MEM_RESERVED },
		{ 0, 640 * KIB, MMK_MEM_USABLE },
	};
	struct phys_fx fx;

	assert_int_equal(phys_fx_init(&fx, 32 * MIB, map, ARRAY_LEN(map)), 0);
	assert_int_equal(fx.ph.end_pfn, 8192);
	assert_int_equal(db_pages(&fx), 48);
	assert_int_equal(db_pfn(&fx), 8192 - 48);
	assert_db(&fx);
	assert_frames(&fx, 160, 256, MMK_FRAME_ABSENT, MMK_OWNER_NONE);
	assert_null(phys_frame_ptr(&fx.ph, 160));
	assert_managed(&fx, 0, 160);
	assert_managed(&fx, 256, 8192 - 48);
	assert_int_equal(fx.init.ram_frames, 160 + 7936);
	assert_int_equal(fx.init.reserved_frames, 48);
	assert_int_equal(fx.init.managed_frames, 160 + 7936 - 48);
	/* 160 = 128 + 32: two blocks below the hole. */
	assert_int_equal(frame(&fx, 0)->order, 7);
	assert_int_equal(frame(&fx, 128)->order, 5);
	phys_fx_fini(&fx);
}

/* Overlapping usable ranges merge; reserved beats boot beats usable. */
static void test_overlaps(void **state)
{
	(void)state;
	struct mmk_mem_range map[] = {
		{ 0, 16 * MIB, MMK_MEM_USABLE },
		{ 8 * MIB, 24 * MIB, MMK_MEM_USABLE },
		{ 4 * MIB, 1 * MIB, MMK_MEM_RESERVED },
		{ 1 * MIB, 1 * MIB, MMK_MEM_BOOT },
		{ 4 * MIB + 512 * KIB, 1536 * KIB, MMK_MEM_BOOT },
		{ 8 * MIB, 8 * MIB, MMK_MEM_USABLE }, /* a duplicate */
	};
	struct phys_fx fx;

	assert_int_equal(phys_fx_init(&fx, 32 * MIB, map, ARRAY_LEN(map)), 0);
	assert_int_equal(fx.ph.end_pfn, 8192);
	assert_db(&fx);
	assert_frames(&fx, 256, 512, MMK_FRAME_RESERVED, MMK_OWNER_BOOT);
	assert_frames(&fx, 1024, 1280, MMK_FRAME_ABSENT, MMK_OWNER_NONE);
	assert_frames(&fx, 1280, 1536, MMK_FRAME_RESERVED, MMK_OWNER_BOOT);
	assert_managed(&fx, 0, 256);
	assert_managed(&fx, 512, 1024);
	assert_managed(&fx, 1536, db_pfn(&fx));
	assert_int_equal(fx.init.ram_frames, 8192 - 256);
	assert_int_equal(fx.init.reserved_frames, 512 + db_pages(&fx));
	assert_int_equal(fx.init.managed_frames, 8192 - 256 - 512 - db_pages(&fx));
	phys_fx_fini(&fx);
}

/* Usable shrinks inward to whole pages; reserved and boot grow outward. */
static void test_unaligned(void **state)
{
	(void)state;
	struct mmk_mem_range map[] = {
		{ 0x1800, 0x10000 + 0x7ff - 0x1800, MMK_MEM_USABLE }, /* frames [2, 16) */
		{ 0x5800, 0x801, MMK_MEM_RESERVED },                  /* frames 5, 6 */
		{ 0x8100, 0x100, MMK_MEM_BOOT },                      /* frame 8 */
	};
	struct phys_fx fx;

	assert_int_equal(phys_fx_init(&fx, 1 * MIB, map, ARRAY_LEN(map)), 0);
	assert_int_equal(fx.ph.base_pfn, 2);
	assert_int_equal(fx.ph.end_pfn, 16);
	assert_null(phys_frame(&fx.ph, 1));
	assert_null(phys_frame(&fx.ph, 16));
	assert_int_equal(db_pfn(&fx), 15);
	assert_db(&fx);
	assert_frames(&fx, 5, 7, MMK_FRAME_ABSENT, MMK_OWNER_NONE);
	assert_frames(&fx, 8, 9, MMK_FRAME_RESERVED, MMK_OWNER_BOOT);
	assert_managed(&fx, 2, 5);
	assert_managed(&fx, 7, 8);
	assert_managed(&fx, 9, 15);
	assert_int_equal(fx.init.ram_frames, 12);
	assert_int_equal(fx.init.reserved_frames, 2);
	assert_int_equal(fx.init.managed_frames, 10);
	phys_fx_fini(&fx);
}

/* Ranges below 16 MiB, below 4 GiB and above: three zones, and the
 * database in the highest usable range below 4 GiB. */
static void test_three_zones(void **state)
{
	(void)state;
	struct mmk_mem_range map[] = {
		{ 4 * GIB, 64 * MIB, MMK_MEM_USABLE },
		{ 1 * MIB, 14 * MIB, MMK_MEM_USABLE },
		{ 16 * MIB, 48 * MIB, MMK_MEM_USABLE },
	};
	struct phys_fx fx;

	assert_int_equal(phys_fx_init(&fx, 4 * GIB + 64 * MIB, map, ARRAY_LEN(map)), 0);
	assert_int_equal(fx.ph.base_pfn, 256);
	assert_int_equal(fx.ph.end_pfn, 1048576 + 16384);
	assert_int_equal(db_pages(&fx), 6239);
	assert_int_equal(db_pfn(&fx), 16384 - 6239);
	assert_db(&fx);
	assert_int_equal(fx.init.zone[MMK_ZONE_DMA].managed, 3584);
	assert_int_equal(fx.init.zone[MMK_ZONE_DMA32].managed, 16384 - 4096 - 6239);
	assert_int_equal(fx.init.zone[MMK_ZONE_NORMAL].managed, 16384);
	assert_int_equal(fx.init.zone[MMK_ZONE_NORMAL].nr_free[14], 1); /* 64 MiB at 4 GiB: one block */
	assert_int_equal(fx.ph.zones[MMK_ZONE_DMA].start_pfn, 256);
	assert_int_equal(fx.ph.zones[MMK_ZONE_DMA].end_pfn, 4096);
	assert_int_equal(fx.ph.zones[MMK_ZONE_DMA32].end_pfn, 1048576);
	assert_int_equal(fx.ph.zones[MMK_ZONE_NORMAL].start_pfn, 1048576);
	assert_int_equal(fx.ph.zones[MMK_ZONE_NORMAL].end_pfn, 1048576 + 16384);
	for (unsigned z = 0; z < MMK_NR_ZONES; z++)
		assert_int_equal(fx.init.zone[z].free, fx.init.zone[z].managed);
	assert_int_equal(frame(&fx, 4095)->zone, MMK_ZONE_DMA);
	assert_int_equal(frame(&fx, 4096)->zone, MMK_ZONE_DMA32);
	assert_int_equal(frame(&fx, 1048576)->zone, MMK_ZONE_NORMAL);
	assert_frames(&fx, 3840, 4096, MMK_FRAME_ABSENT, MMK_OWNER_NONE);
	assert_frames(&fx, 16384, 16400, MMK_FRAME_ABSENT, MMK_OWNER_NONE);
	phys_fx_fini(&fx);
}

/* One range across 4 GiB is cut in two zones; no block crosses the cut,
 * and the database sits right below 4 GiB. */
static void test_range_across_4g(void **state)
{
	(void)state;
	struct mmk_mem_range map[] = { { 4 * GIB - 8 * MIB, 16 * MIB, MMK_MEM_USABLE } };
	struct phys_fx fx;

	assert_int_equal(phys_fx_init(&fx, 4 * GIB + 8 * MIB, map, 1), 0);
	assert_int_equal(db_pages(&fx), 24);
	assert_int_equal(db_pfn(&fx) + 24, 1048576);
	assert_db(&fx);
	assert_int_equal(fx.init.zone[MMK_ZONE_NORMAL].managed, 2048);
	assert_int_equal(fx.init.zone[MMK_ZONE_NORMAL].nr_free[11], 1);
	assert_int_equal(fx.init.zone[MMK_ZONE_DMA32].managed, 2048 - 24);
	assert_int_equal(fx.init.zone[MMK_ZONE_DMA].managed, 0);
	assert_int_equal(frame(&fx, 1048576)->state, MMK_FRAME_FREE);
	assert_int_equal(frame(&fx, 1048576)->order, 11);
	/* Every frame, one at a time, then all back: still two zones. */
	pfn_t pfn;
	uint64_t n = 0;
	while (phys_fx_alloc(&fx, 0, 0, 0, &pfn) == 0)
		n++;
	assert_int_equal(n, 4096 - 24);
	for (pfn_t p = 1048576 - 2048; p < 1048576 + 2048; p++)
		if (p < db_pfn(&fx) || p >= 1048576)
			assert_int_equal(phys_fx_free(&fx, p, 0), 0);
	struct phys_stats st;
	phys_fx_stats(&fx, &st);
	phys_fx_assert_stats_eq(&st, &fx.init);
	phys_fx_fini(&fx);
}

/* No room below 4 GiB: the database goes to the top of high RAM. */
static void test_db_above_4g(void **state)
{
	(void)state;
	struct mmk_mem_range map[] = {
		{ 0, 64 * KIB, MMK_MEM_USABLE },
		{ 4 * GIB, 64 * MIB, MMK_MEM_USABLE },
	};
	struct phys_fx fx;

	assert_int_equal(phys_fx_init(&fx, 4 * GIB + 64 * MIB, map, ARRAY_LEN(map)), 0);
	assert_int_equal(db_pfn(&fx) + db_pages(&fx), 1048576 + 16384);
	assert_db(&fx);
	assert_int_equal(fx.init.zone[MMK_ZONE_DMA].managed, 16);
	assert_int_equal(fx.init.zone[MMK_ZONE_NORMAL].managed, 16384 - db_pages(&fx));
	phys_fx_fini(&fx);
}

/* The database steps below reserved and boot ranges in its way. */
static void test_db_avoids_reserved(void **state)
{
	(void)state;
	struct mmk_mem_range map[] = {
		{ 0, 64 * MIB, MMK_MEM_USABLE },
		{ 63 * MIB, 1 * MIB, MMK_MEM_RESERVED },  /* frames [16128, 16384) */
		{ 16050 * PG, 10 * PG, MMK_MEM_BOOT },    /* frames [16050, 16060) */
	};
	struct phys_fx fx;

	assert_int_equal(phys_fx_init(&fx, 64 * MIB, map, ARRAY_LEN(map)), 0);
	assert_int_equal(db_pages(&fx), 96);
	assert_int_equal(db_pfn(&fx), 16050 - 96);
	assert_db(&fx);
	assert_frames(&fx, 16050, 16060, MMK_FRAME_RESERVED, MMK_OWNER_BOOT);
	assert_frames(&fx, 16128, 16384, MMK_FRAME_ABSENT, MMK_OWNER_NONE);
	assert_managed(&fx, 16060, 16128);
	assert_int_equal(fx.init.reserved_frames, 96 + 10);
	phys_fx_fini(&fx);
}

/* A boot image beyond usable RAM still gets descriptors (seed 002: users
 * may map it read-only, so it needs refcounts). */
static void test_boot_extends_db(void **state)
{
	(void)state;
	struct mmk_mem_range map[] = {
		{ 8 * MIB, 2 * MIB, MMK_MEM_BOOT },
		{ 0, 8 * MIB, MMK_MEM_USABLE },
	};
	struct phys_fx fx;

	assert_int_equal(phys_fx_init(&fx, 16 * MIB, map, ARRAY_LEN(map)), 0);
	assert_int_equal(fx.ph.end_pfn, 2560);
	assert_int_equal(db_pages(&fx), 15);
	assert_int_equal(db_pfn(&fx), 2048 - 15);
	assert_db(&fx);
	assert_frames(&fx, 2048, 2560, MMK_FRAME_RESERVED, MMK_OWNER_BOOT);
	assert_non_null(phys_frame_ptr(&fx.ph, 2048));
	assert_int_equal(fx.init.ram_frames, 2560);
	assert_int_equal(fx.init.reserved_frames, 512 + 15);
	phys_fx_fini(&fx);
}

/* phys_frame and phys_frame_ptr at and around the database's edges. */
static void test_frame_lookup(void **state)
{
	(void)state;
	struct mmk_mem_range map[] = { { 1 * MIB, 7 * MIB, MMK_MEM_USABLE } };
	struct phys_fx fx;
	uint8_t *p;

	assert_int_equal(phys_fx_init(&fx, 8 * MIB, map, 1), 0);
	assert_null(phys_frame(&fx.ph, 255));
	assert_null(phys_frame(&fx.ph, 2048));
	assert_null(phys_frame(&fx.ph, UINT64_MAX));
	assert_null(phys_frame_ptr(&fx.ph, 255));
	assert_null(phys_frame_ptr(&fx.ph, UINT64_MAX));
	assert_ptr_equal(phys_frame(&fx.ph, 256), &fx.ph.frames[0]);
	assert_ptr_equal(phys_frame(&fx.ph, 2047), &fx.ph.frames[2047 - 256]);
	p = phys_frame_ptr(&fx.ph, 256);
	assert_ptr_equal(p, hal_phys_map(fx.m, 1 * MIB));
	assert_ptr_equal(phys_frame_ptr(&fx.ph, 257), p + PG);
	assert_null(phys_frame(NULL, 256));
	assert_null(phys_frame_ptr(NULL, 256));
	assert_string_equal(phys_zone_name(MMK_ZONE_DMA), "DMA");
	assert_string_equal(phys_zone_name(MMK_ZONE_DMA32), "DMA32");
	assert_string_equal(phys_zone_name(MMK_ZONE_NORMAL), "Normal");
	assert_string_equal(phys_zone_name(MMK_NR_ZONES), "?");
	phys_fx_check(&fx);
	phys_fx_fini(&fx);
}

/* phys_init on a bad map returns err and leaves ph byte for byte alone. */
static void expect_bad(const struct mmk_mem_range *map, size_t n, int err)
{
	struct hal_machine *m = sim_machine_create(1 * MIB, 1);
	static struct phys ph, copy;

	assert_non_null(m);
	memset(&ph, 0x5a, sizeof(ph));
	memcpy(&copy, &ph, sizeof(ph));
	assert_int_equal(phys_init(&ph, m, map, n, NULL), err);
	assert_memory_equal(&ph, &copy, sizeof(ph));
	sim_machine_destroy(m);
}

static void test_bad_maps(void **state)
{
	(void)state;
	const struct mmk_mem_range good = { 0, 1 * MIB, MMK_MEM_USABLE };
	struct mmk_mem_range zero_len[] = { good, { 2 * MIB, 0, MMK_MEM_RESERVED } };
	struct mmk_mem_range wrap[] = { good, { UINT64_MAX - 4095, 8192, MMK_MEM_RESERVED } };
	struct mmk_mem_range to_top[] = { good, { UINT64_MAX - 4095, 4096, MMK_MEM_RESERVED } };
	struct mmk_mem_range type0[] = { good, { 2 * MIB, PG, 0 } };
	struct mmk_mem_range type4[] = { good, { 2 * MIB, PG, 4 } };
	struct mmk_mem_range no_usable[] = { { 0, 1 * MIB, MMK_MEM_RESERVED }, { 0, PG, MMK_MEM_BOOT } };
	struct mmk_mem_range sub_page[] = { { 0x800, 0x1000, MMK_MEM_USABLE } };
	struct mmk_mem_range covered[] = { good, { 0, 1 * MIB, MMK_MEM_RESERVED } };
	struct mmk_mem_range db_too_big[] = { { 0, 2 * PG, MMK_MEM_USABLE }, { 2 * PG, 1 * GIB, MMK_MEM_BOOT } };
	/* Frames 0 and 2^32: a span of 2^32 + 1 descriptors. */
	struct mmk_mem_range too_many[] = { good, { (uint64_t)1 << 44, PG, MMK_MEM_USABLE } };
	struct phys ph;

	expect_bad(&good, 0, -MMK_EINVAL);
	expect_bad(NULL, 1, -MMK_EINVAL);
	expect_bad(zero_len, ARRAY_LEN(zero_len), -MMK_EINVAL);
	expect_bad(wrap, ARRAY_LEN(wrap), -MMK_EINVAL);
	expect_bad(to_top, ARRAY_LEN(to_top), -MMK_EINVAL);
	expect_bad(type0, ARRAY_LEN(type0), -MMK_EINVAL);
	expect_bad(type4, ARRAY_LEN(type4), -MMK_EINVAL);
	expect_bad(no_usable, ARRAY_LEN(no_usable), -MMK_EINVAL);
	expect_bad(sub_page, ARRAY_LEN(sub_page), -MMK_EINVAL);
	expect_bad(covered, ARRAY_LEN(covered), -MMK_ENOMEM);
	expect_bad(db_too_big, ARRAY_LEN(db_too_big), -MMK_ENOMEM);
	expect_bad(too_many, ARRAY_LEN(too_many), -MMK_ERANGE);
	assert_int_equal(phys_init(NULL, NULL, &good, 1, NULL), -MMK_EINVAL);
	assert_int_equal(phys_init(&ph, NULL, &good, 1, NULL), -MMK_EINVAL);
}

/* One page of usable RAM: the database takes it, init works, nothing is
 * left to allocate. */
static void test_tight_fit(void **state)
{
	(void)state;
	struct mmk_mem_range map[] = { { 0, PG, MMK_MEM_USABLE } };
	struct phys_fx fx;
	pfn_t pfn;

	assert_int_equal(phys_fx_init(&fx, 1 * MIB, map, 1), 0);
	assert_int_equal(fx.init.ram_frames, 1);
	assert_int_equal(fx.init.reserved_frames, 1);
	assert_int_equal(fx.init.managed_frames, 0);
	assert_int_equal(phys_fx_alloc(&fx, 0, 0, 0, &pfn), -MMK_ENOMEM);
	phys_fx_fini(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_range),    cmocka_unit_test(test_holes),
		cmocka_unit_test(test_overlaps),     cmocka_unit_test(test_unaligned),
		cmocka_unit_test(test_three_zones),  cmocka_unit_test(test_db_above_4g),
		cmocka_unit_test(test_range_across_4g),
		cmocka_unit_test(test_db_avoids_reserved), cmocka_unit_test(test_boot_extends_db),
		cmocka_unit_test(test_frame_lookup), cmocka_unit_test(test_bad_maps),
		cmocka_unit_test(test_tight_fit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
