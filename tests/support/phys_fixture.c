/*
 * phys_fixture.c - the sim machine and struct phys behind the phys tests;
 * see phys_fixture.h.  Hosted code: uses libc and cmocka freely.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include <sim.h>

#include "phys_fixture.h"

int phys_fx_init(struct phys_fx *fx, uint64_t ram_bytes, const struct mmk_mem_range *map, size_t n)
{
	int err;

	memset(fx, 0, sizeof(*fx));
	fx->m = sim_machine_create(ram_bytes, 1);
	assert_non_null(fx->m);
	err = phys_init(&fx->ph, fx->m, map, n, &fx->fp);
	if (err == 0) {
		phys_fx_check(fx);
		phys_fx_stats(fx, &fx->init);
	}
	return err;
}

void phys_fx_fini(struct phys_fx *fx)
{
	sim_machine_destroy(fx->m);
	fx->m = NULL;
}

void phys_fx_check(struct phys_fx *fx)
{
	const char *why = NULL;
	int err = phys_check(&fx->ph, &why);

	if (err)
		fprintf(stderr, "phys_check: %s\n", why ? why : "(no reason)");
	assert_int_equal(err, 0);
}

void phys_fx_stats(struct phys_fx *fx, struct phys_stats *st)
{
	memset(st, 0, sizeof(*st));
	phys_get_stats(&fx->ph, st);
}

void phys_fx_assert_stats_eq(const struct phys_stats *a, const struct phys_stats *b)
{
	assert_int_equal(a->ram_frames, b->ram_frames);
	assert_int_equal(a->reserved_frames, b->reserved_frames);
	assert_int_equal(a->managed_frames, b->managed_frames);
	assert_int_equal(a->free_frames, b->free_frames);
	assert_int_equal(a->kernel_free_frames, b->kernel_free_frames);
	assert_int_equal(a->db_bytes, b->db_bytes);
	for (unsigned z = 0; z < MMK_NR_ZONES; z++) {
		assert_int_equal(a->zone[z].managed, b->zone[z].managed);
		assert_int_equal(a->zone[z].free, b->zone[z].free);
		for (unsigned o = 0; o <= MMK_MAX_ORDER; o++)
			assert_int_equal(a->zone[z].nr_free[o], b->zone[z].nr_free[o]);
	}
}

bool phys_fx_zone_allowed(unsigned flags, pfn_t pfn, unsigned order)
{
	uint64_t end = (pfn + ((pfn_t)1 << order)) << MMK_PAGE_SHIFT;

	if (flags & PHYS_ZONE_DMA)
		return end <= MMK_ZONE_DMA_END;
	if (flags & PHYS_ZONE_DMA32)
		return end <= MMK_ZONE_DMA32_END;
	return true;
}

uint64_t phys_fx_free_frames(struct phys_fx *fx)
{
	struct phys_stats st;

	phys_fx_stats(fx, &st);
	return st.free_frames;
}

static void assert_allocated(struct phys_fx *fx, pfn_t pfn, unsigned order, unsigned align, unsigned flags)
{
	unsigned a = order > align ? order : align;
	struct mmk_frame *f = phys_frame(&fx->ph, pfn);

	assert_true(a >= 64 || (pfn & (((pfn_t)1 << a) - 1)) == 0);
	assert_non_null(f);
	assert_int_equal(f->state, MMK_FRAME_ALLOCATED);
	assert_int_equal(f->order, order);
	assert_int_equal(f->owner, (flags & PHYS_USER) ? MMK_OWNER_USER : MMK_OWNER_KERNEL);
	assert_int_equal(f->refcount, 0);
	assert_true(phys_fx_zone_allowed(flags, pfn, order));
	for (pfn_t i = 1; i < ((pfn_t)1 << order); i++) {
		struct mmk_frame *t = phys_frame(&fx->ph, pfn + i);

		assert_non_null(t);
		assert_int_equal(t->state, MMK_FRAME_TAIL);
	}
}

int phys_fx_alloc(struct phys_fx *fx, unsigned order, unsigned align, unsigned flags, pfn_t *out)
{
	struct phys_stats before, after;
	int err;

	phys_fx_stats(fx, &before);
	err = phys_alloc_aligned(&fx->ph, order, align, flags, out);
	phys_fx_check(fx);
	phys_fx_stats(fx, &after);
	if (err) {
		phys_fx_assert_stats_eq(&before, &after);
		return err;
	}
	assert_allocated(fx, *out, order, align, flags);
	assert_int_equal(after.free_frames + ((uint64_t)1 << order), before.free_frames);
	return 0;
}

int phys_fx_free(struct phys_fx *fx, pfn_t pfn, unsigned order)
{
	struct phys_stats before, after;
	int err;

	phys_fx_stats(fx, &before);
	err = phys_free(&fx->ph, pfn, order);
	phys_fx_check(fx);
	phys_fx_stats(fx, &after);
	if (err) {
		phys_fx_assert_stats_eq(&before, &after);
		return err;
	}
	assert_int_equal(after.free_frames, before.free_frames + ((uint64_t)1 << order));
	return 0;
}
