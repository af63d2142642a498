/*
 * test_phys_check: the checker catches what it claims to.  Each case breaks
 * one invariant of buddy.c's theory comment by hand, asserts phys_check
 * reports it (with a reason), repairs it and asserts the check passes again.
 * Also: several host threads allocating and freeing at once keep the
 * structure whole (the spin lock in every public function).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "phys_fixture.h"

#define MIB PHYS_FX_MIB

static const struct mmk_mem_range map[] = {
	{ 0, 4 * MIB, MMK_MEM_USABLE },
	{ 5 * MIB, 3 * MIB, MMK_MEM_USABLE },
	{ 1 * MIB, 1 * MIB, MMK_MEM_BOOT },
};

static void expect_broken(struct phys_fx *fx)
{
	const char *why = NULL;

	assert_int_equal(phys_check(&fx->ph, &why), -MMK_EINVAL);
	assert_non_null(why);
	printf("# caught: %s\n", why);
}

/* Break one byte-sized field of frame pfn, check, restore. */
static void break_field(struct phys_fx *fx, pfn_t pfn, size_t off, uint8_t bad)
{
	uint8_t *field = (uint8_t *)phys_frame(&fx->ph, pfn) + off;
	uint8_t saved = *field;

	*field = bad;
	expect_broken(fx);
	*field = saved;
	phys_fx_check(fx);
}

static void test_checker_catches(void **state)
{
	(void)state;
	struct phys_fx fx;
	pfn_t a, db;
	struct mmk_zone *z;

	assert_int_equal(phys_fx_init(&fx, 8 * MIB, map, 3), 0);
	db = mmk_paddr_to_pfn(fx.ph.db_paddr);
	assert_int_equal(phys_fx_alloc(&fx, 2, 0, 0, &a), 0);
	/* Frame 0 heads a free order-8 block; frame 1 is its tail. */
	break_field(&fx, 0, offsetof(struct mmk_frame, state), MMK_FRAME_TAIL);      /* orphan tail */
	break_field(&fx, 0, offsetof(struct mmk_frame, state), 9);                   /* unknown state */
	break_field(&fx, 0, offsetof(struct mmk_frame, order), 7);                   /* shrunk: its upper half orphaned */
	break_field(&fx, 0, offsetof(struct mmk_frame, order), MMK_MAX_ORDER + 1);   /* order too big */
	break_field(&fx, 0, offsetof(struct mmk_frame, owner), MMK_OWNER_USER);      /* owned free block */
	break_field(&fx, 0, offsetof(struct mmk_frame, zone), MMK_ZONE_DMA32);      /* wrong zone */
	break_field(&fx, 1, offsetof(struct mmk_frame, state), MMK_FRAME_FREE);      /* head inside a block */
	break_field(&fx, 1, offsetof(struct mmk_frame, owner), MMK_OWNER_KERNEL);    /* owned tail */
	break_field(&fx, 1, offsetof(struct mmk_frame, zone), MMK_ZONE_NORMAL);     /* tail's zone */
	break_field(&fx, a, offsetof(struct mmk_frame, owner), MMK_OWNER_NONE);      /* unowned allocation */
	break_field(&fx, a, offsetof(struct mmk_frame, state), MMK_FRAME_FREE);      /* free, not listed */
	break_field(&fx, db, offsetof(struct mmk_frame, state), MMK_FRAME_FREE);     /* database handed out */
	break_field(&fx, db, offsetof(struct mmk_frame, owner), MMK_OWNER_BOOT);     /* database not kernel's */
	break_field(&fx, 300, offsetof(struct mmk_frame, owner), MMK_OWNER_USER);    /* boot frame's owner */
	break_field(&fx, 1100, offsetof(struct mmk_frame, owner), MMK_OWNER_KERNEL); /* hole with an owner */
	break_field(&fx, 1100, offsetof(struct mmk_frame, zone), MMK_ZONE_DMA32);   /* hole's zone */

	/* Counters and lists. */
	z = &fx.ph.zones[MMK_ZONE_DMA];
	z->free++;
	expect_broken(&fx);
	z->free--;
	z->nr_free[8]++;
	expect_broken(&fx);
	z->nr_free[8]--;
	fx.ph.reserved_frames++;
	expect_broken(&fx);
	fx.ph.reserved_frames--;
	fx.ph.ram_frames--;
	expect_broken(&fx);
	fx.ph.ram_frames++;
	uint32_t head = z->free_head[8];
	struct mmk_frame *h = &fx.ph.frames[head];
	uint32_t next = h->next;
	h->next = head; /* a cycle */
	expect_broken(&fx);
	h->next = next;
	h->prev = 5;
	expect_broken(&fx);
	h->prev = MMK_FRAME_NIL;
	z->free_head[8] = MMK_FRAME_NIL;
	expect_broken(&fx);
	z->free_head[8] = head;
	phys_fx_check(&fx);
	assert_int_equal(phys_check(NULL, NULL), -MMK_EINVAL);

	assert_int_equal(phys_fx_free(&fx, a, 2), 0);
	phys_fx_fini(&fx);
}

/* Free a block behind the allocator's back without merging it: every list
 * and counter agrees, only the coalescing invariant (I5) is broken. */
static void test_checker_catches_unmerged(void **state)
{
	(void)state;
	struct phys_fx fx;
	pfn_t p;

	assert_int_equal(phys_fx_init(&fx, 8 * MIB, map, 3), 0);
	assert_int_equal(phys_fx_alloc(&fx, 0, 0, 0, &p), 0);
	struct mmk_frame *f = phys_frame(&fx.ph, p), *buddy = phys_frame(&fx.ph, p ^ 1);
	assert_int_equal(buddy->state, MMK_FRAME_FREE); /* split off when p was taken */
	assert_int_equal(buddy->order, 0);
	struct mmk_zone *z = &fx.ph.zones[f->zone];
	uint32_t idx = (uint32_t)(p - fx.ph.base_pfn), old = z->free_head[0];
	f->state = MMK_FRAME_FREE;
	f->owner = MMK_OWNER_NONE;
	f->prev = MMK_FRAME_NIL;
	f->next = old;
	fx.ph.frames[old].prev = idx;
	z->free_head[0] = idx;
	z->nr_free[0]++;
	z->free++;
	const char *why = NULL;
	assert_int_equal(phys_check(&fx.ph, &why), -MMK_EINVAL);
	assert_non_null(why);
	assert_non_null(strstr(why, "(I5)"));
	printf("# caught: %s\n", why);
	phys_fx_fini(&fx);
}

#define THREADS 4
#define ROUNDS 2000

struct worker {
	struct phys *ph;
	unsigned id;
	int failures;
};

/* Each thread keeps a few blocks, freeing and allocating in turn; a frame
 * handed to two threads at once shows up as a clobbered tag. */
static void *work(void *arg)
{
	struct worker *w = arg;
	pfn_t held[8] = { 0 };
	unsigned order[8] = { 0 };
	bool have[8] = { false };
	uint64_t rng = 0x9e3779b97f4a7c15ull * (w->id + 1);

	for (unsigned r = 0; r < ROUNDS; r++) {
		unsigned s;

		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		s = (unsigned)(rng % 8);
		if (have[s]) {
			uint64_t *tag = phys_frame_ptr(w->ph, held[s]);

			if (*tag != ((uint64_t)w->id << 32 | s))
				w->failures++;
			if (phys_free(w->ph, held[s], order[s]) != 0)
				w->failures++;
			have[s] = false;
		} else {
			order[s] = (unsigned)(rng >> 32) % 4;
			if (phys_alloc(w->ph, order[s], (rng >> 40) & 1 ? PHYS_USER : 0, &held[s]) == 0) {
				*(uint64_t *)phys_frame_ptr(w->ph, held[s]) = (uint64_t)w->id << 32 | s;
				have[s] = true;
			}
		}
	}
	for (unsigned s = 0; s < 8; s++)
		if (have[s] && phys_free(w->ph, held[s], order[s]) != 0)
			w->failures++;
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	struct phys_fx fx;
	pthread_t t[THREADS];
	struct worker w[THREADS];
	struct phys_stats st;

	assert_int_equal(phys_fx_init(&fx, 8 * MIB, map, 3), 0);
	for (unsigned i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ &fx.ph, i, 0 };
		assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (unsigned i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(w[i].failures, 0);
	}
	phys_fx_check(&fx);
	phys_fx_stats(&fx, &st);
	phys_fx_assert_stats_eq(&st, &fx.init);
	phys_fx_fini(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checker_catches),
		cmocka_unit_test(test_checker_catches_unmerged),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
