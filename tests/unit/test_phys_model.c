/*
 * test_phys_model: long random sequences of alloc and free (random orders,
 * flags and alignments, some bad frees) against a reference model - the set
 * of allocated blocks and a frame-by-frame map of who holds what.  After
 * every step (besides phys_check, run by the fixture): no two blocks overlap,
 * each block is aligned, in an allowed zone and in the zone the zonelist
 * picks, -MMK_ENOMEM only when buddyinfo says nothing fits, PHYS_ZERO blocks
 * read as zeros, and free = managed - allocated.  At the end everything is
 * freed and buddyinfo is back to its state after phys_init.
 * Seeds are fixed, so a failure replays exactly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phys_fixture.h"

#define MIB PHYS_FX_MIB
#define GIB PHYS_FX_GIB
#define KIB ((uint64_t)1024)
#define PG MMK_PAGE_SIZE
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define NONE UINT32_MAX
#define DIRT 0x5a5a5a5a5a5a5a5aull

struct block {
	pfn_t pfn;
	unsigned order, flags;
};

struct model {
	struct phys_fx fx;
	struct block *blocks; /* allocated blocks, unordered */
	unsigned nblocks, cap;
	uint32_t *holder;     /* per database frame: index into blocks, or NONE */
	uint64_t allocated;   /* frames in blocks */
	struct block freed;   /* the last block freed, for double frees */
	bool have_freed;
	uint64_t rng;
	uint64_t nomem, bad_frees;
};

static uint64_t rnd(struct model *md)
{
	md->rng ^= md->rng << 13;
	md->rng ^= md->rng >> 7;
	md->rng ^= md->rng << 17;
	return md->rng;
}

static unsigned below(struct model *md, unsigned n) { return (unsigned)(rnd(md) % n); }

static uint32_t *holder(struct model *md, pfn_t pfn) { return &md->holder[pfn - md->fx.ph.base_pfn]; }

static void model_init(struct model *md, uint64_t ram, const struct mmk_mem_range *map, size_t n, uint64_t seed)
{
	uint64_t frames;

	memset(md, 0, sizeof(*md));
	assert_int_equal(phys_fx_init(&md->fx, ram, map, n), 0);
	frames = md->fx.ph.end_pfn - md->fx.ph.base_pfn;
	md->holder = malloc(frames * sizeof(*md->holder));
	assert_non_null(md->holder);
	memset(md->holder, 0xff, frames * sizeof(*md->holder));
	md->cap = 1024;
	md->blocks = malloc(md->cap * sizeof(*md->blocks));
	assert_non_null(md->blocks);
	md->rng = seed;
}

static void model_fini(struct model *md)
{
	free(md->blocks);
	free(md->holder);
	phys_fx_fini(&md->fx);
}

static unsigned zone_of(pfn_t pfn)
{
	paddr_t pa = mmk_pfn_to_paddr(pfn);

	return pa < MMK_ZONE_DMA_END ? MMK_ZONE_DMA : pa < MMK_ZONE_DMA32_END ? MMK_ZONE_DMA32 : MMK_ZONE_NORMAL;
}

/* The zonelist of flags, best first. */
static unsigned zonelist(unsigned flags, unsigned zl[MMK_NR_ZONES])
{
	unsigned n = 0;

	if (!(flags & (PHYS_ZONE_DMA | PHYS_ZONE_DMA32)))
		zl[n++] = MMK_ZONE_NORMAL;
	if (!(flags & PHYS_ZONE_DMA))
		zl[n++] = MMK_ZONE_DMA32;
	zl[n++] = MMK_ZONE_DMA;
	return n;
}

/* First zone of the zonelist with a free block of order >= min_order,
 * from buddyinfo; MMK_NR_ZONES when there is none. */
static unsigned fitting_zone(const struct phys_stats *st, unsigned flags, unsigned min_order)
{
	unsigned zl[MMK_NR_ZONES], nz = zonelist(flags, zl);

	for (unsigned i = 0; i < nz; i++)
		for (unsigned o = min_order; o <= MMK_MAX_ORDER; o++)
			if (st->zone[zl[i]].nr_free[o])
				return zl[i];
	return MMK_NR_ZONES;
}

static void assert_free_count(struct model *md)
{
	struct phys_stats st;

	phys_fx_stats(&md->fx, &st);
	assert_int_equal(st.free_frames, st.managed_frames - md->allocated);
}

/* Record a new block: no frame of it may be held already. */
static void model_take(struct model *md, pfn_t pfn, unsigned order, unsigned flags)
{
	uint64_t len = (uint64_t)1 << order;

	for (uint64_t i = 0; i < len; i++) {
		assert_true(md->fx.ph.base_pfn <= pfn + i && pfn + i < md->fx.ph.end_pfn);
		assert_int_equal(*holder(md, pfn + i), NONE); /* overlap with a live block */
		*holder(md, pfn + i) = md->nblocks;
	}
	if (md->nblocks == md->cap) {
		md->cap *= 2;
		md->blocks = realloc(md->blocks, md->cap * sizeof(*md->blocks));
		assert_non_null(md->blocks);
	}
	md->blocks[md->nblocks++] = (struct block){ pfn, order, flags };
	md->allocated += len;
}

/* Forget block i (swap-remove, renumbering the moved block's frames). */
static void model_drop(struct model *md, unsigned i)
{
	struct block b = md->blocks[i], last = md->blocks[md->nblocks - 1];

	for (uint64_t k = 0; k < ((uint64_t)1 << b.order); k++)
		*holder(md, b.pfn + k) = NONE;
	md->nblocks--;
	if (i != md->nblocks) {
		md->blocks[i] = last;
		for (uint64_t k = 0; k < ((uint64_t)1 << last.order); k++)
			*holder(md, last.pfn + k) = i;
	}
	md->allocated -= (uint64_t)1 << b.order;
	md->freed = b;
	md->have_freed = true;
}

/* Zeroed blocks read as zeros; every block is then dirtied so the next
 * PHYS_ZERO has something to clear (one word per page keeps it quick). */
static void check_and_dirty(struct model *md, pfn_t pfn, unsigned order, unsigned flags)
{
	for (uint64_t i = 0; i < ((uint64_t)1 << order); i++) {
		uint64_t *p = phys_frame_ptr(&md->fx.ph, pfn + i);

		assert_non_null(p);
		if (flags & PHYS_ZERO) {
			assert_int_equal(p[0], 0);
			assert_int_equal(p[PG / 8 - 1], 0);
		}
		p[0] = DIRT;
		p[PG / 8 - 1] = DIRT;
	}
}

static unsigned random_order(struct model *md, unsigned max_order)
{
	unsigned r = below(md, 100), o;

	o = r < 60 ? below(md, 3) : r < 90 ? 3 + below(md, 4) : 7 + below(md, 6);
	return o > max_order ? max_order : o;
}

static unsigned random_flags(struct model *md)
{
	unsigned f = 0;

	if (below(md, 10) == 0)
		f |= PHYS_ZONE_DMA;
	if (below(md, 5) == 0)
		f |= PHYS_ZONE_DMA32;
	if (below(md, 2) == 0)
		f |= PHYS_USER;
	if (below(md, 10) == 0)
		f |= PHYS_ZERO;
	return f;
}

static void step_alloc(struct model *md, unsigned max_order)
{
	unsigned order = random_order(md, max_order), flags = random_flags(md);
	unsigned align = below(md, 5) == 0 ? order + below(md, 4) : 0;
	unsigned need = order > align ? order : align;
	struct phys_stats st;
	unsigned want;
	pfn_t pfn;
	int err;

	phys_fx_stats(&md->fx, &st);
	want = fitting_zone(&st, flags, need);
	err = phys_fx_alloc(&md->fx, order, align, flags, &pfn);
	if (err) {
		/* Only when no list of order >= need has a block in any allowed zone. */
		assert_int_equal(err, -MMK_ENOMEM);
		assert_int_equal(want, MMK_NR_ZONES);
		md->nomem++;
		return;
	}
	/* The fixture checked alignment, allowed zone and state.  Without extra
	 * alignment any block of order >= order fits, so buddyinfo names the
	 * zone the zonelist must pick (an aligned request may instead find a
	 * small aligned block in a zone buddyinfo cannot vouch for). */
	if (need == order)
		assert_int_equal(zone_of(pfn), want);
	model_take(md, pfn, order, flags);
	check_and_dirty(md, pfn, order, flags);
}

static void step_free(struct model *md)
{
	unsigned i = below(md, md->nblocks);
	struct block b = md->blocks[i];

	assert_int_equal(phys_fx_free(&md->fx, b.pfn, b.order), 0);
	model_drop(md, i);
}

/* A double free of the last freed block, or an interior frame of a live
 * block, or a live block with the wrong order: each refused, nothing moves
 * (the fixture compares stats). */
static void step_bad_free(struct model *md)
{
	unsigned kind = below(md, 3);

	if (kind == 0 && md->have_freed && *holder(md, md->freed.pfn) == NONE) {
		bool all_free = true;

		for (uint64_t k = 0; k < ((uint64_t)1 << md->freed.order); k++)
			all_free &= *holder(md, md->freed.pfn + k) == NONE;
		if (all_free) {
			assert_int_equal(phys_fx_free(&md->fx, md->freed.pfn, md->freed.order), -MMK_EALREADY);
			md->bad_frees++;
		}
		return;
	}
	if (md->nblocks == 0)
		return;
	struct block b = md->blocks[below(md, md->nblocks)];
	if (kind == 1 && b.order > 0) {
		pfn_t inner = b.pfn + 1 + below(md, (unsigned)((1u << b.order) - 1));

		assert_int_equal(phys_fx_free(&md->fx, inner, 0), -MMK_EINVAL);
		md->bad_frees++;
	} else if (kind == 2) {
		unsigned wrong = b.order == MMK_MAX_ORDER ? b.order - 1 : b.order + 1;

		assert_int_equal(phys_fx_free(&md->fx, b.pfn, wrong), -MMK_EINVAL);
		md->bad_frees++;
	}
}

static void run(struct model *md, unsigned steps, unsigned max_order)
{
	for (unsigned s = 0; s < steps; s++) {
		unsigned r = below(md, 100);

		/* Lean towards allocation so memory runs out now and then. */
		if (r < 5)
			step_bad_free(md);
		else if (r < 58 || md->nblocks == 0)
			step_alloc(md, max_order);
		else
			step_free(md);
		assert_free_count(md);
	}
	while (md->nblocks > 0) {
		assert_int_equal(phys_fx_free(&md->fx, md->blocks[md->nblocks - 1].pfn,
					      md->blocks[md->nblocks - 1].order), 0);
		model_drop(md, md->nblocks - 1);
		assert_free_count(md);
	}
	struct phys_stats st;
	phys_fx_stats(&md->fx, &st);
	phys_fx_assert_stats_eq(&st, &md->fx.init);
	printf("# %u steps: %llu out-of-memory answers, %llu bad frees refused\n", steps,
	       (unsigned long long)md->nomem, (unsigned long long)md->bad_frees);
}

/* A PC-like map below 48 MiB (DMA and DMA32, a hole, a boot image):
 * small enough for memory to run out often. */
static void test_model_low(void **state)
{
	(void)state;
	static const struct mmk_mem_range map[] = {
		{ 0, 640 * KIB, MMK_MEM_USABLE },
		{ 640 * KIB, 384 * KIB, MMK_MEM_RESERVED },
		{ 1 * MIB, 47 * MIB, MMK_MEM_USABLE },
		{ 2 * MIB, 1 * MIB, MMK_MEM_BOOT },
	};
	struct model md;

	model_init(&md, 48 * MIB, map, ARRAY_LEN(map), 0x2545f4914f6cdd1dull);
	run(&md, 20000, 12);
	model_fini(&md);
}

/* All three zones.  The database spans 4 GiB of mostly hole, so each
 * phys_check costs more: fewer steps. */
static void test_model_three_zones(void **state)
{
	(void)state;
	static const struct mmk_mem_range map[] = {
		{ 1 * MIB, 14 * MIB, MMK_MEM_USABLE },
		{ 16 * MIB, 48 * MIB, MMK_MEM_USABLE },
		{ 4 * GIB, 32 * MIB, MMK_MEM_USABLE },
	};
	struct model md;

	model_init(&md, 4 * GIB + 32 * MIB, map, ARRAY_LEN(map), 0x853c49e6748fea9bull);
	run(&md, 2000, 12);
	model_fini(&md);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model_low),
		cmocka_unit_test(test_model_three_zones),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
