/*
 * test_phys_zone: zone choice and fallback on a machine with RAM below
 * 16 MiB, between 16 MiB and 4 GiB, and above 4 GiB.  A normal request
 * takes Normal, then DMA32, then DMA (Linux's zonelist); a DMA32 request
 * never returns a frame above 4 GiB; a DMA request only frames below 16 MiB.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "phys_fixture.h"

#define MIB PHYS_FX_MIB
#define GIB PHYS_FX_GIB
#define ORDER 10u /* 4 MiB blocks keep the sweeps short */
#define MAXBLOCKS 64

static const struct mmk_mem_range three_zones[] = {
	{ 1 * MIB, 14 * MIB, MMK_MEM_USABLE },
	{ 16 * MIB, 48 * MIB, MMK_MEM_USABLE },
	{ 4 * GIB, 64 * MIB, MMK_MEM_USABLE },
};

static void setup_machine(struct phys_fx *fx)
{
	assert_int_equal(phys_fx_init(fx, 4 * GIB + 64 * MIB, three_zones, 3), 0);
}

static unsigned zone_of(pfn_t pfn)
{
	paddr_t pa = mmk_pfn_to_paddr(pfn);

	return pa < MMK_ZONE_DMA_END ? MMK_ZONE_DMA : pa < MMK_ZONE_DMA32_END ? MMK_ZONE_DMA32 : MMK_ZONE_NORMAL;
}

/* The zone that must serve a request of order from the zonelist, judged
 * from buddyinfo alone; MMK_NR_ZONES when none can. */
static unsigned expected_zone(struct phys_fx *fx, const unsigned *zl, unsigned nz, unsigned order)
{
	struct phys_stats st;

	phys_fx_stats(fx, &st);
	for (unsigned i = 0; i < nz; i++)
		for (unsigned o = order; o <= MMK_MAX_ORDER; o++)
			if (st.zone[zl[i]].nr_free[o])
				return zl[i];
	return MMK_NR_ZONES;
}

/* Allocate ORDER blocks with flags until -MMK_ENOMEM, each from the zone
 * the zonelist zl names; then free them all and find the initial state. */
static void sweep(struct phys_fx *fx, unsigned flags, const unsigned *zl, unsigned nz, unsigned *per_zone)
{
	pfn_t got[MAXBLOCKS];
	unsigned n = 0;

	for (unsigned z = 0; z < MMK_NR_ZONES; z++)
		per_zone[z] = 0;
	for (;;) {
		unsigned want = expected_zone(fx, zl, nz, ORDER);
		pfn_t pfn;
		int err = phys_fx_alloc(fx, ORDER, 0, flags, &pfn);

		if (want == MMK_NR_ZONES) {
			assert_int_equal(err, -MMK_ENOMEM);
			break;
		}
		assert_int_equal(err, 0);
		assert_int_equal(zone_of(pfn), want);
		assert_int_equal(phys_frame(&fx->ph, pfn)->zone, want);
		assert_true(n < MAXBLOCKS);
		got[n++] = pfn;
		per_zone[want]++;
	}
	while (n > 0)
		assert_int_equal(phys_fx_free(fx, got[--n], ORDER), 0);
	struct phys_stats st;
	phys_fx_stats(fx, &st);
	phys_fx_assert_stats_eq(&st, &fx->init);
}

static void test_normal_falls_back(void **state)
{
	(void)state;
	static const unsigned zl[] = { MMK_ZONE_NORMAL, MMK_ZONE_DMA32, MMK_ZONE_DMA };
	struct phys_fx fx;
	unsigned per_zone[MMK_NR_ZONES];

	setup_machine(&fx);
	sweep(&fx, 0, zl, 3, per_zone);
	/* 64 MiB above 4 GiB; [16 MiB, db) and [1 MiB, 15 MiB) in 4 MiB blocks. */
	assert_int_equal(per_zone[MMK_ZONE_NORMAL], 16);
	assert_int_equal(per_zone[MMK_ZONE_DMA32], 5);
	assert_int_equal(per_zone[MMK_ZONE_DMA], 2);
	phys_fx_fini(&fx);
}

static void test_dma32_stays_below_4g(void **state)
{
	(void)state;
	static const unsigned zl[] = { MMK_ZONE_DMA32, MMK_ZONE_DMA };
	struct phys_fx fx;
	unsigned per_zone[MMK_NR_ZONES];

	setup_machine(&fx);
	sweep(&fx, PHYS_ZONE_DMA32, zl, 2, per_zone);
	assert_int_equal(per_zone[MMK_ZONE_NORMAL], 0);
	assert_int_equal(per_zone[MMK_ZONE_DMA32], 5);
	assert_int_equal(per_zone[MMK_ZONE_DMA], 2);
	phys_fx_fini(&fx);
}

static void test_dma_only_below_16m(void **state)
{
	(void)state;
	static const unsigned zl[] = { MMK_ZONE_DMA };
	struct phys_fx fx;
	unsigned per_zone[MMK_NR_ZONES];

	setup_machine(&fx);
	sweep(&fx, PHYS_ZONE_DMA, zl, 1, per_zone);
	assert_int_equal(per_zone[MMK_ZONE_DMA], 2);
	/* Both zone flags: the stricter one holds. */
	sweep(&fx, PHYS_ZONE_DMA | PHYS_ZONE_DMA32 | PHYS_USER, zl, 1, per_zone);
	assert_int_equal(per_zone[MMK_ZONE_DMA], 2);
	phys_fx_fini(&fx);
}

/* With Normal and DMA32 full, single frames still come from DMA, and a
 * DMA32 request with DMA full too fails while frames remain in Normal. */
static void test_exhausted_zones(void **state)
{
	(void)state;
	struct phys_fx fx;
	pfn_t hi, mid, lo, pfn;

	setup_machine(&fx);
	/* Take Normal's single order-14 block and DMA32's and DMA's memory. */
	assert_int_equal(phys_fx_alloc(&fx, 14, 0, 0, &hi), 0);
	assert_int_equal(zone_of(hi), MMK_ZONE_NORMAL);
	pfn_t taken[64];
	unsigned nt = 0;
	for (unsigned o = MMK_MAX_ORDER + 1; o-- > 0;) {
		while (phys_fx_alloc(&fx, o, 0, PHYS_ZONE_DMA32, &mid) == 0) {
			assert_true(zone_of(mid) != MMK_ZONE_NORMAL);
			assert_true(nt < 64);
			taken[nt++] = mid;
		}
	}
	assert_int_equal(phys_fx_free_frames(&fx), 0);
	assert_int_equal(phys_fx_alloc(&fx, 0, 0, 0, &lo), -MMK_ENOMEM);
	/* Give back the normal block: DMA requests still fail. */
	assert_int_equal(phys_fx_free(&fx, hi, 14), 0);
	assert_int_equal(phys_fx_alloc(&fx, 0, 0, PHYS_ZONE_DMA, &pfn), -MMK_ENOMEM);
	assert_int_equal(phys_fx_alloc(&fx, 0, 0, PHYS_ZONE_DMA32, &pfn), -MMK_ENOMEM);
	assert_int_equal(phys_fx_alloc(&fx, 0, 0, 0, &pfn), 0);
	assert_int_equal(zone_of(pfn), MMK_ZONE_NORMAL);
	assert_int_equal(phys_fx_free(&fx, pfn, 0), 0);
	while (nt > 0) {
		pfn_t p = taken[--nt];
		assert_int_equal(phys_fx_free(&fx, p, phys_frame(&fx.ph, p)->order), 0);
	}
	struct phys_stats st;
	phys_fx_stats(&fx, &st);
	phys_fx_assert_stats_eq(&st, &fx.init);
	phys_fx_fini(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normal_falls_back),
		cmocka_unit_test(test_dma32_stays_below_4g),
		cmocka_unit_test(test_dma_only_below_16m),
		cmocka_unit_test(test_exhausted_zones),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
