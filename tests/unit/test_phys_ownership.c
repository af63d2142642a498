/*
 * test_phys_ownership: seed 002's frame ownership (src/phys/ownership.c).
 * Giving free user frames to the kernel and taking free kernel frames back:
 * zeroing on every change of owner, every refusal with its error and proof
 * that nothing changed (counters, lists, the bytes of the frames listed
 * before the bad one), all-or-nothing lists, duplicates, the architecture's
 * range, no allocation (they succeed with every allocation failing), strict
 * ownership (kernel allocations only from the kernel's free frames, ENOMEM
 * without them, kmem slabs included), and a long random sequence against a
 * reference model.  phys_check runs after every call.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include <mmk/kmem.h>

#include "phys_fixture.h"

#define MIB PHYS_FX_MIB
#define PG MMK_PAGE_SIZE
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* 8 MiB of RAM at 0 with a 64 KiB boot image at 1 MiB and a hole at
 * [2 MiB, 2 MiB + 64 KiB). */
static const struct mmk_mem_range map[] = {
	{ 0, 2 * MIB, MMK_MEM_USABLE },
	{ 2 * MIB + 64 * 1024, 6 * MIB - 64 * 1024, MMK_MEM_USABLE },
	{ 1 * MIB, 64 * 1024, MMK_MEM_BOOT },
};
#define BOOT_PFN ((pfn_t)(1 * MIB / PG))
#define HOLE_PFN ((pfn_t)(2 * MIB / PG))

static void boot(struct phys_fx *fx)
{
	assert_int_equal(phys_fx_init(fx, 8 * MIB, map, ARRAY_LEN(map)), 0);
}

static uint8_t *bytes(struct phys_fx *fx, pfn_t pfn) { return phys_frame_ptr(&fx->ph, pfn); }

static void fill(struct phys_fx *fx, pfn_t pfn, uint8_t v) { memset(bytes(fx, pfn), v, PG); }

static bool all_are(struct phys_fx *fx, pfn_t pfn, uint8_t v)
{
	const uint8_t *p = bytes(fx, pfn);
	for (size_t i = 0; i < PG; i++)
		if (p[i] != v)
			return false;
	return true;
}

/* The owner side of a free frame: its block head's owner. */
static unsigned free_owner(struct phys_fx *fx, pfn_t pfn)
{
	for (unsigned o = 0; o <= MMK_MAX_ORDER; o++) {
		struct mmk_frame *f = phys_frame(&fx->ph, pfn & ~(((pfn_t)1 << o) - 1));
		if (f && f->state == MMK_FRAME_FREE && f->order >= o)
			return f->owner;
	}
	return 0xff;
}

/* Call give (or take), check, and on error prove nothing changed: the
 * counters and the bytes of every listed frame (filled with 0xa5). */
static int move(struct phys_fx *fx, bool give, const pfn_t *pfns, size_t n)
{
	struct phys_stats before, after;
	uint8_t *saved = NULL;
	phys_fx_stats(fx, &before);
	if (pfns && n) {
		saved = malloc(n * PG);
		for (size_t i = 0; i < n; i++) {
			uint8_t *b = bytes(fx, pfns[i]);
			if (b)
				memcpy(saved + i * PG, b, PG);
		}
	}
	int err = give ? phys_give_to_kernel(&fx->ph, pfns, n) : phys_take_from_kernel(&fx->ph, pfns, n);
	phys_fx_check(fx);
	phys_fx_stats(fx, &after);
	if (err) {
		phys_fx_assert_stats_eq(&before, &after);
		for (size_t i = 0; saved && i < n; i++) {
			uint8_t *b = bytes(fx, pfns[i]);
			if (b)
				assert_memory_equal(b, saved + i * PG, PG);
		}
	} else {
		assert_int_equal(after.free_frames + (give ? n : 0), before.free_frames + (give ? 0 : n));
		assert_int_equal(after.kernel_free_frames + (give ? 0 : n), before.kernel_free_frames + (give ? n : 0));
		for (size_t i = 0; i < n; i++) {
			assert_true(all_are(fx, pfns[i], 0)); /* zeroed as it changed owner */
			assert_int_equal(free_owner(fx, pfns[i]), give ? MMK_OWNER_KERNEL : MMK_OWNER_NONE);
		}
	}
	free(saved);
	return err;
}

static void test_give_and_take_zero_frames(void **state)
{
	(void)state;
	struct phys_fx fx;
	boot(&fx);
	pfn_t pfns[] = { 300, 301, 777, 1500 };
	for (size_t i = 0; i < ARRAY_LEN(pfns); i++)
		fill(&fx, pfns[i], 0x5a);
	assert_int_equal(move(&fx, true, pfns, ARRAY_LEN(pfns)), 0);
	assert_int_equal(phys_kernel_free_frames(&fx.ph), 4);
	/* 300 and 301 are buddies: one kernel block of order 1. */
	assert_int_equal(phys_frame(&fx.ph, 300)->state, MMK_FRAME_FREE);
	assert_int_equal(phys_frame(&fx.ph, 300)->order, 1);
	for (size_t i = 0; i < ARRAY_LEN(pfns); i++)
		fill(&fx, pfns[i], 0x77); /* the kernel wrote to them */
	assert_int_equal(move(&fx, false, pfns, ARRAY_LEN(pfns)), 0);
	struct phys_stats st;
	phys_fx_stats(&fx, &st);
	phys_fx_assert_stats_eq(&st, &fx.init); /* coalesced back as they were */
	phys_fx_fini(&fx);
}

static void test_give_refusals(void **state)
{
	(void)state;
	struct phys_fx fx;
	boot(&fx);
	pfn_t kalloc, ualloc, kfree = 900, good = 400;
	assert_int_equal(phys_alloc(&fx.ph, 0, 0, &kalloc), 0);
	assert_int_equal(phys_alloc(&fx.ph, 2, PHYS_USER, &ualloc), 0);
	assert_int_equal(move(&fx, true, &kfree, 1), 0);
	fill(&fx, good, 0xa5);
	pfn_t db = mmk_paddr_to_pfn(fx.ph.db_paddr);

	assert_int_equal(move(&fx, true, NULL, 1), -MMK_EINVAL);
	assert_int_equal(move(&fx, true, &good, 0), -MMK_EINVAL);
	pfn_t outside = fx.ph.end_pfn, hole = HOLE_PFN + 3;
	assert_int_equal(move(&fx, true, (pfn_t[]){ good, outside }, 2), -MMK_EINVAL);
	assert_int_equal(move(&fx, true, (pfn_t[]){ good, hole }, 2), -MMK_EINVAL);
	/* The kernel owns it already: allocated to it, free in its pool, the
	 * boot image, the frame database, or listed twice. */
	assert_int_equal(move(&fx, true, (pfn_t[]){ good, kalloc }, 2), -MMK_EEXIST);
	assert_int_equal(move(&fx, true, (pfn_t[]){ good, kfree }, 2), -MMK_EEXIST);
	assert_int_equal(move(&fx, true, (pfn_t[]){ good, BOOT_PFN + 2 }, 2), -MMK_EEXIST);
	assert_int_equal(move(&fx, true, (pfn_t[]){ good, db }, 2), -MMK_EEXIST);
	assert_int_equal(move(&fx, true, (pfn_t[]){ good, good + 1, good }, 3), -MMK_EEXIST);
	/* In use: allocated to user space (any frame of the block), mapped. */
	assert_int_equal(move(&fx, true, (pfn_t[]){ good, ualloc + 3 }, 2), -MMK_EBUSY);
	phys_frame(&fx.ph, ualloc)->refcount = 1; /* as a mapping would */
	assert_int_equal(move(&fx, true, &ualloc, 1), -MMK_EBUSY);
	phys_frame(&fx.ph, ualloc)->refcount = 0;
	/* The architecture forbids the kernel frames at 4 MiB and above. */
	pfn_t high = 4 * MIB / PG + 10;
	assert_int_equal(phys_set_kernel_frames(&fx.ph, 0, 4 * MIB / PG), 0);
	assert_int_equal(move(&fx, true, (pfn_t[]){ good, high }, 2), -MMK_EPERM);
	assert_int_equal(move(&fx, true, (pfn_t[]){ high - 20 }, 1), 0); /* below the line: fine */
	/* A range that would leave kernel-free frames outside is refused. */
	assert_int_equal(phys_set_kernel_frames(&fx.ph, 0, 800), -MMK_EBUSY);
	assert_int_equal(phys_set_kernel_frames(&fx.ph, 10, 5), -MMK_EINVAL);
	assert_true(all_are(&fx, good, 0xa5)); /* never moved, never zeroed */
	assert_int_equal(free_owner(&fx, good), MMK_OWNER_NONE);

	assert_int_equal(move(&fx, false, (pfn_t[]){ kfree, high - 20 }, 2), 0);
	assert_int_equal(phys_free(&fx.ph, kalloc, 0), 0);
	assert_int_equal(phys_free(&fx.ph, ualloc, 2), 0);
	struct phys_stats st;
	phys_fx_stats(&fx, &st);
	phys_fx_assert_stats_eq(&st, &fx.init);
	phys_fx_fini(&fx);
}

static void test_take_refusals(void **state)
{
	(void)state;
	struct phys_fx fx;
	boot(&fx);
	pfn_t pool[] = { 600, 601, 602 };
	assert_int_equal(move(&fx, true, pool, 3), 0);
	phys_set_strict_ownership(&fx.ph, true);
	pfn_t kalloc, ualloc;
	assert_int_equal(phys_alloc(&fx.ph, 0, 0, &kalloc), 0); /* one of the pool's */
	assert_true(kalloc >= 600 && kalloc <= 602);
	assert_int_equal(phys_alloc(&fx.ph, 0, PHYS_USER, &ualloc), 0);
	pfn_t spare = kalloc == 602 ? 601 : 602;
	fill(&fx, spare, 0xa5);

	assert_int_equal(move(&fx, false, (pfn_t[]){ spare, kalloc }, 2), -MMK_EBUSY); /* a slab's, say */
	assert_int_equal(move(&fx, false, (pfn_t[]){ spare, BOOT_PFN }, 2), -MMK_EBUSY);
	assert_int_equal(move(&fx, false, (pfn_t[]){ spare, ualloc }, 2), -MMK_EEXIST);
	assert_int_equal(move(&fx, false, (pfn_t[]){ spare, 1200 }, 2), -MMK_EEXIST); /* user-free */
	assert_int_equal(move(&fx, false, (pfn_t[]){ spare, spare }, 2), -MMK_EEXIST);
	assert_int_equal(move(&fx, false, (pfn_t[]){ spare, HOLE_PFN }, 2), -MMK_EINVAL);
	assert_true(all_are(&fx, spare, 0xa5));
	assert_int_equal(free_owner(&fx, spare), MMK_OWNER_KERNEL);

	/* Freed under strict ownership, the kernel keeps its frame. */
	assert_int_equal(phys_free(&fx.ph, kalloc, 0), 0);
	assert_int_equal(free_owner(&fx, kalloc), MMK_OWNER_KERNEL);
	assert_int_equal(move(&fx, false, pool, 3), 0);
	assert_int_equal(phys_free(&fx.ph, ualloc, 0), 0);
	struct phys_stats st;
	phys_fx_stats(&fx, &st);
	phys_fx_assert_stats_eq(&st, &fx.init);
	phys_fx_fini(&fx);
}

/* Seed 002: the calls cannot fail for lack of memory - with every
 * allocation failing, they still work (they allocate nothing). */
static void test_no_allocation(void **state)
{
	(void)state;
	struct phys_fx fx;
	boot(&fx);
	pfn_t pfns[] = { 100, 101, 102, 103, 1000 };
	mmk_failpoint_arm(&fx.fp, 1, true);
	pfn_t x;
	assert_int_equal(phys_alloc(&fx.ph, 0, 0, &x), -MMK_ENOMEM);
	assert_int_equal(move(&fx, true, pfns, ARRAY_LEN(pfns)), 0);
	assert_int_equal(move(&fx, false, pfns, ARRAY_LEN(pfns)), 0);
	mmk_failpoint_arm(&fx.fp, 0, false);
	phys_fx_fini(&fx);
}

/* Strict ownership: the kernel allocates only what it owns. */
static void test_strict_kernel_allocations(void **state)
{
	(void)state;
	struct phys_fx fx;
	boot(&fx);
	phys_set_strict_ownership(&fx.ph, true);
	pfn_t got[8], user;
	assert_int_equal(phys_alloc(&fx.ph, 0, 0, &got[0]), -MMK_ENOMEM);
	assert_int_equal(phys_alloc(&fx.ph, 0, PHYS_USER, &user), 0); /* user space is not affected */
	pfn_t pool[] = { 64, 65, 66, 67, 200, 201, 202, 203 };
	assert_int_equal(move(&fx, true, pool, ARRAY_LEN(pool)), 0);
	/* An order-2 block: 64..67 were coalesced into one kernel block. */
	assert_int_equal(phys_alloc(&fx.ph, 2, 0, &got[0]), 0);
	assert_true(got[0] == 64 || got[0] == 200);
	for (int i = 1; i <= 4; i++)
		assert_int_equal(phys_alloc(&fx.ph, 0, 0, &got[i]), 0);
	assert_int_equal(phys_alloc(&fx.ph, 0, 0, &got[5]), -MMK_ENOMEM);
	assert_int_equal(phys_alloc(&fx.ph, 0, PHYS_ZONE_DMA, &got[5]), -MMK_ENOMEM);
	for (int i = 1; i <= 4; i++) {
		assert_true(got[i] != got[0]);
		assert_int_equal(phys_frame(&fx.ph, got[i])->owner, MMK_OWNER_KERNEL);
	}
	assert_int_equal(phys_free(&fx.ph, got[0], 2), 0);
	for (int i = 1; i <= 4; i++)
		assert_int_equal(phys_free(&fx.ph, got[i], 0), 0);
	phys_fx_check(&fx);
	assert_int_equal(phys_kernel_free_frames(&fx.ph), 8);

	/* A kmem cache grows only from the kernel's frames. */
	struct kmem_cache c;
	assert_int_equal(kmem_cache_init(&c, &fx.ph, "strict", 256, 8), 0);
	void *objs[512];
	int n = 0;
	while (n < 512 && (objs[n] = kmem_cache_alloc(&c)))
		n++;
	assert_true(n > 0 && n < 512); /* it ran out of the 8 kernel frames */
	assert_int_equal(phys_free_frames(&fx.ph), fx.init.free_frames - 8 - 1); /* user side untouched */
	while (n)
		kmem_cache_free(&c, objs[--n]);
	kmem_cache_reap(&c);
	assert_int_equal(kmem_cache_destroy(&c), 0);
	assert_int_equal(phys_kernel_free_frames(&fx.ph), 8);
	assert_int_equal(move(&fx, false, pool, ARRAY_LEN(pool)), 0);
	phys_set_strict_ownership(&fx.ph, false);
	assert_int_equal(phys_free(&fx.ph, user, 0), 0);
	struct phys_stats st;
	phys_fx_stats(&fx, &st);
	phys_fx_assert_stats_eq(&st, &fx.init);
	phys_fx_fini(&fx);
}

/* Default mode keeps today's behaviour: kernel allocations use the
 * kernel's frames first, then the common lists, and frees go to the
 * common lists. */
static void test_default_mode(void **state)
{
	(void)state;
	struct phys_fx fx;
	boot(&fx);
	pfn_t p = 333, a, b;
	assert_int_equal(move(&fx, true, &p, 1), 0);
	assert_int_equal(phys_alloc(&fx.ph, 0, 0, &a), 0);
	assert_int_equal(a, p);
	assert_int_equal(phys_alloc(&fx.ph, 0, 0, &b), 0); /* from the common lists */
	assert_int_equal(phys_alloc(&fx.ph, 0, PHYS_USER, &p), 0);
	assert_int_equal(phys_free(&fx.ph, a, 0), 0);
	assert_int_equal(free_owner(&fx, a), MMK_OWNER_NONE);
	assert_int_equal(phys_free(&fx.ph, b, 0), 0);
	assert_int_equal(phys_free(&fx.ph, p, 0), 0);
	phys_fx_check(&fx);
	struct phys_stats st;
	phys_fx_stats(&fx, &st);
	phys_fx_assert_stats_eq(&st, &fx.init);
	phys_fx_fini(&fx);
}

/* A long random sequence of gives, takes, kernel and user allocations and
 * frees under strict ownership, against a model: which side owns each
 * frame and which are allocated. */
enum side { USER_FREE, KERNEL_FREE, USER_USED, KERNEL_USED, OTHER };

static enum side model_side(struct phys_fx *fx, pfn_t pfn)
{
	struct mmk_frame *f = phys_frame(&fx->ph, pfn);
	if (!f || f->state == MMK_FRAME_ABSENT || f->state == MMK_FRAME_RESERVED)
		return OTHER;
	unsigned o = free_owner(fx, pfn);
	if (o == MMK_OWNER_NONE)
		return USER_FREE;
	if (o == MMK_OWNER_KERNEL)
		return KERNEL_FREE;
	return f->owner == MMK_OWNER_USER ? USER_USED : KERNEL_USED;
}

static void test_random_model(void **state)
{
	(void)state;
	struct phys_fx fx;
	boot(&fx);
	phys_set_strict_ownership(&fx.ph, true);
	uint64_t nframes = fx.ph.end_pfn;
	uint8_t *model = calloc(nframes, 1);
	for (pfn_t p = 0; p < nframes; p++)
		model[p] = (uint8_t)model_side(&fx, p);
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	for (int step = 0; step < 3000; step++) {
		seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
		unsigned op = seed % 4;
		pfn_t list[4];
		size_t n = 1 + (seed >> 8) % 4;
		for (size_t i = 0; i < n; i++)
			list[i] = (seed >> (16 + 8 * i)) % 700 + 100; /* a busy little window */
		if (op < 2) {
			bool give = op == 0;
			enum side from = give ? USER_FREE : KERNEL_FREE;
			bool ok = true;
			for (size_t i = 0; i < n; i++) {
				ok = ok && model[list[i]] == from;
				for (size_t j = 0; j < i; j++)
					ok = ok && list[j] != list[i];
			}
			int err = move(&fx, give, list, n);
			assert_int_equal(err == 0, ok);
			if (ok)
				for (size_t i = 0; i < n; i++)
					model[list[i]] = give ? KERNEL_FREE : USER_FREE;
		} else {
			unsigned flags = op == 2 ? 0 : PHYS_USER;
			pfn_t got;
			int err = phys_alloc(&fx.ph, 0, flags, &got);
			phys_fx_check(&fx);
			if (!err) {
				assert_int_equal(model[got], flags ? USER_FREE : KERNEL_FREE);
				model[got] = flags ? USER_USED : KERNEL_USED;
				if (seed & 0x100000) { /* free it again at once, sometimes */
					assert_int_equal(phys_free(&fx.ph, got, 0), 0);
					model[got] = flags ? USER_FREE : KERNEL_FREE;
				}
			} else {
				assert_int_equal(flags, 0); /* only the kernel can run dry here */
				for (pfn_t p = 0; p < nframes; p++)
					assert_true(model[p] != KERNEL_FREE);
			}
		}
		if (step % 100 == 0)
			for (pfn_t p = 0; p < nframes; p++)
				assert_int_equal(model_side(&fx, p), model[p]);
	}
	/* Tear down: free everything, take the kernel's frames back. */
	for (pfn_t p = 0; p < nframes; p++)
		if (model[p] == USER_USED || model[p] == KERNEL_USED)
			assert_int_equal(phys_free(&fx.ph, p, 0), 0);
	for (pfn_t p = 0; p < nframes; p++)
		if (model_side(&fx, p) == KERNEL_FREE)
			assert_int_equal(phys_take_from_kernel(&fx.ph, &p, 1), 0);
	phys_fx_check(&fx);
	struct phys_stats st;
	phys_fx_stats(&fx, &st);
	phys_fx_assert_stats_eq(&st, &fx.init);
	free(model);
	phys_fx_fini(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_give_and_take_zero_frames),
		cmocka_unit_test(test_give_refusals),
		cmocka_unit_test(test_take_refusals),
		cmocka_unit_test(test_no_allocation),
		cmocka_unit_test(test_strict_kernel_allocations),
		cmocka_unit_test(test_default_mode),
		cmocka_unit_test(test_random_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
