/*
 * test_kmem_debug.c - the slab allocator's debug flags: red zones (overrun
 * found on free, on reuse and by the checker), poisoning (a write after
 * free found on reuse and by the checker), the state tag (double free of
 * an object sitting in a magazine, a corrupt tag), ctor/dtor per call with
 * poisoning, the uninitialised pattern, and every flag combination through
 * a short random run.  Each finding is a report naming cache and slab.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sim.h>

#include "kmem_fixture.h"

static int setup(void **state)
{
	struct kfx *fx = calloc(1, sizeof(*fx));
	kfx_boot(fx, 2);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct kfx *fx = *state;
	kfx_shutdown(fx);
	free(fx);
	return 0;
}

static void expect_report(struct kfx *fx, struct kmem_cache *c, enum kmem_error kind, const void *obj, size_t offset)
{
	assert_int_equal(fx->nreports, 1);
	assert_int_equal(fx->last.kind, kind);
	assert_string_equal(fx->last.cache, c->name);
	assert_ptr_equal(fx->last.obj, obj);
	assert_ptr_equal(fx->last.slab, kfx_slab_of(c, obj));
	assert_int_equal(fx->last.offset, offset);
	assert_non_null(strstr(fx->last_line, c->name));
	char hex[40];
	snprintf(hex, sizeof(hex), "(slab %#lx)", (unsigned long)(uintptr_t)kfx_slab_of(c, obj));
	assert_non_null(strstr(fx->last_line, hex));
	kfx_reset_reports(fx);
}

static void expect_check_fails(struct kmem_cache *c, const char *what)
{
	const char *why = NULL;
	assert_int_equal(kmem_cache_check(c, &why), -MMK_EINVAL);
	assert_non_null(why);
	if (!strstr(why, what))
		fail_msg("kmem_cache_check said \"%s\", expected \"%s\"", why, what);
}

/* ---- red zones ---- */

static void redzone_case(struct kfx *fx, unsigned flags)
{
	struct kmem_cache c;
	kfx_create(fx, &c, "redzone", 20, 8, NULL, NULL, NULL, flags | KMEM_DEBUG_REDZONE);
	assert_true(c.obj_size >= 40);
	/* One byte past the end, inside the alignment padding. */
	unsigned char *p = kmem_cache_alloc(&c);
	memset(p, 1, 20);
	p[20] = 0x42;
	expect_check_fails(&c, "red zone");
	assert_int_equal(kmem_cache_free(&c, p), 0); /* freed, reported, repaired */
	expect_report(fx, &c, KMEM_ERR_REDZONE, p, 20);
	kfx_check(&c);
	/* Into the red zone word past the padding. */
	p = kmem_cache_alloc(&c);
	p[26] = 0;
	assert_int_equal(kmem_cache_free(&c, p), 0);
	expect_report(fx, &c, KMEM_ERR_REDZONE, p, 26);
	kfx_check(&c);
	/* Overrun of a freed object: found on reuse. */
	p = kmem_cache_alloc(&c);
	assert_int_equal(kmem_cache_free(&c, p), 0);
	p[21] = 0x77;
	expect_check_fails(&c, "red zone");
	unsigned char *q = kmem_cache_alloc(&c);
	assert_ptr_equal(q, p);
	expect_report(fx, &c, KMEM_ERR_REDZONE, p, 21);
	kfx_check(&c);
	/* An object written exactly to its end is fine. */
	memset(q, 0xff, 20);
	assert_int_equal(kmem_cache_free(&c, q), 0);
	assert_int_equal(fx->nreports, 0);
	kfx_check(&c);
	assert_int_equal(kmem_cache_destroy(&c), 0);
}

static void test_redzone_overrun_detected(void **state)
{
	redzone_case(*state, 0);
	redzone_case(*state, KMEM_NOMAGAZINE);
}

/* ---- poisoning ---- */

static void poison_case(struct kfx *fx, unsigned flags)
{
	struct kmem_cache c;
	kfx_create(fx, &c, "poison", 100, 8, NULL, NULL, NULL, flags | KMEM_DEBUG_POISON);
	unsigned char *p = kmem_cache_alloc(&c);
	/* A new object without ctor or ZERO holds the uninitialised pattern. */
	for (int i = 0; i < 100; i++)
		assert_int_equal(p[i], (unsigned char)(KMEM_UNINIT_PATTERN >> (8 * (i & 7))));
	memset(p, 0x11, 100);
	assert_int_equal(kmem_cache_free(&c, p), 0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(p[i], (unsigned char)(KMEM_POISON_PATTERN >> (8 * (i & 7))));
	kfx_check(&c);
	/* Use after free: one byte written. */
	p[37] = 0;
	expect_check_fails(&c, "written after free");
	unsigned char *q = kmem_cache_alloc(&c);
	assert_ptr_equal(q, p); /* LIFO: the same object comes back */
	expect_report(fx, &c, KMEM_ERR_POISON, p, 37);
	kfx_check(&c);
	assert_int_equal(kmem_cache_free(&c, q), 0);
	/* Without a write, reuse is silent. */
	q = kmem_cache_alloc(&c);
	assert_int_equal(fx->nreports, 0);
	assert_int_equal(kmem_cache_free(&c, q), 0);
	kfx_check(&c);
	assert_int_equal(kmem_cache_destroy(&c), 0);
}

static void test_poison_use_after_free_detected_on_reuse(void **state)
{
	poison_case(*state, 0);
	poison_case(*state, KMEM_NOMAGAZINE);
}

static void test_poison_with_zero(void **state)
{
	struct kfx *fx = *state;
	struct kmem_cache c;
	kfx_create(fx, &c, "poison-zero", 64, 8, NULL, NULL, NULL, KMEM_DEBUG_POISON | KMEM_ZERO);
	for (int r = 0; r < 3; r++) {
		unsigned char *p = kmem_cache_alloc(&c);
		for (int i = 0; i < 64; i++)
			assert_int_equal(p[i], 0);
		memset(p, 0xee, 64);
		assert_int_equal(kmem_cache_free(&c, p), 0);
		kfx_check(&c);
	}
	assert_int_equal(kmem_cache_destroy(&c), 0);
}

/* ---- the state tag ---- */

static void test_double_free_in_magazine_detected(void **state)
{
	struct kfx *fx = *state;
	struct kmem_cache c;
	struct kmem_stats before, after;
	kfx_create(fx, &c, "tagged", 64, 8, NULL, NULL, NULL, KMEM_DEBUG_STATE);
	void *p = kmem_cache_alloc(&c), *q = kmem_cache_alloc(&c);
	assert_int_equal(kmem_cache_free(&c, p), 0);
	kfx_stats(&c, &before);
	assert_true(before.in_magazines >= 1); /* p sits in a magazine */
	assert_int_equal(kmem_cache_free(&c, p), -MMK_EALREADY);
	expect_report(fx, &c, KMEM_ERR_DOUBLE_FREE, p, c.state_off);
	kfx_check(&c);
	kfx_stats(&c, &after);
	kfx_assert_stats_eq(&before, &after);
	/* Also after the magazine went back to the slab. */
	kmem_cache_drain(&c);
	assert_int_equal(kmem_cache_free(&c, p), -MMK_EALREADY);
	expect_report(fx, &c, KMEM_ERR_DOUBLE_FREE, p, c.state_off);
	kfx_check(&c);
	assert_int_equal(kmem_cache_free(&c, q), 0);
	assert_int_equal(kmem_cache_destroy(&c), 0);
}

static void test_corrupt_tag_refused(void **state)
{
	struct kfx *fx = *state;
	struct kmem_cache c;
	struct kmem_stats before, after;
	kfx_create(fx, &c, "tag", 16, 8, NULL, NULL, NULL, KMEM_DEBUG_STATE);
	assert_int_equal(c.state_off, 16);
	unsigned char *p = kmem_cache_alloc(&c);
	uint64_t saved;
	memcpy(&saved, p + c.state_off, 8);
	memset(p, 0, 24); /* an overrun over the tag */
	kfx_stats(&c, &before);
	expect_check_fails(&c, "tag");
	assert_int_equal(kmem_cache_free(&c, p), -MMK_EINVAL);
	expect_report(fx, &c, KMEM_ERR_TAG, p, c.state_off);
	kfx_stats(&c, &after);
	kfx_assert_stats_eq(&before, &after);
	memcpy(p + c.state_off, &saved, 8);
	kfx_check(&c);
	assert_int_equal(kmem_cache_free(&c, p), 0);
	assert_int_equal(kmem_cache_destroy(&c), 0);
}

/* ---- ctor/dtor under poisoning ---- */

struct counts {
	int ctor, dtor;
};

static int tagging_ctor(void *p, void *arg)
{
	((struct counts *)arg)->ctor++;
	memset(p, 0xc7, 32);
	return 0;
}

static void tagging_dtor(void *p, void *arg)
{
	const unsigned char *b = p;
	for (int i = 0; i < 32; i++)
		assert_int_equal(b[i], 0xc7);
	((struct counts *)arg)->dtor++;
}

static void test_poison_ctor_dtor_every_call(void **state)
{
	struct kfx *fx = *state;
	struct kmem_cache c;
	struct counts k = { 0, 0 };
	void *v[30];
	kfx_create(fx, &c, "poison-ctor", 32, 8, tagging_ctor, tagging_dtor, &k, KMEM_DEBUG_POISON);
	for (int r = 1; r <= 3; r++) {
		for (int i = 0; i < 30; i++) {
			v[i] = kmem_cache_alloc(&c);
			const unsigned char *b = v[i];
			assert_int_equal(b[0], 0xc7);
		}
		assert_int_equal(k.ctor, 30 * r);
		assert_int_equal(k.dtor, 30 * (r - 1));
		for (int i = 0; i < 30; i++)
			assert_int_equal(kmem_cache_free(&c, v[i]), 0);
		assert_int_equal(k.dtor, 30 * r);
		kfx_check(&c);
	}
	assert_int_equal(kmem_cache_destroy(&c), 0);
	assert_int_equal(k.ctor, k.dtor);
	assert_int_equal(fx->nreports, 0);
}

/* ---- every combination ---- */

struct cd {
	int ctor, dtor;
};

static int cd_ctor(void *p, void *arg)
{
	((struct cd *)arg)->ctor++;
	*(uint64_t *)p = 0x600d;
	return 0;
}

static void cd_dtor(void *p, void *arg)
{
	assert_int_equal(*(uint64_t *)p, 0x600d);
	((struct cd *)arg)->dtor++;
}

static void test_every_flag_combination(void **state)
{
	struct kfx *fx = *state;
	static const unsigned bits[] = { KMEM_NOMAGAZINE, KMEM_ZERO, KMEM_DEBUG_STATE, KMEM_DEBUG_REDZONE,
					 KMEM_DEBUG_POISON };
	uint64_t free0 = kfx_free_frames(fx);
	for (unsigned mask = 0; mask < 32; mask++)
		for (int with_ctor = 0; with_ctor < 2; with_ctor++) {
			unsigned flags = 0;
			for (unsigned b = 0; b < 5; b++)
				if (mask & (1u << b))
					flags |= bits[b];
			if (with_ctor && (flags & KMEM_ZERO))
				continue;
			struct kmem_cache c;
			struct cd k = { 0, 0 };
			kfx_create(fx, &c, "combo", 40, 8, with_ctor ? cd_ctor : NULL, with_ctor ? cd_dtor : NULL, &k,
				   flags);
			void *live[64];
			unsigned n = 0;
			uint64_t seed = 0x9e3779b97f4a7c15ull + mask * 2 + (uint64_t)with_ctor;
			for (int op = 0; op < 400; op++) {
				unsigned cpu = (unsigned)(kfx_rand(&seed) % fx->ncpus);
				sim_set_current_cpu(fx->s.machine, cpu);
				if (n < 64 && (n == 0 || kfx_rand(&seed) % 3 != 0)) {
					uint64_t *p = kmem_cache_alloc(&c);
					assert_non_null(p);
					if (with_ctor)
						assert_int_equal(p[0], 0x600d);
					if (flags & KMEM_ZERO)
						for (int i = 0; i < 5; i++)
							assert_int_equal(p[i], 0);
					p[1] = (uint64_t)(uintptr_t)p;
					p[4] = ~(uint64_t)(uintptr_t)p;
					live[n++] = p;
				} else {
					unsigned i = (unsigned)(kfx_rand(&seed) % n);
					uint64_t *p = live[i];
					assert_int_equal(p[1], (uint64_t)(uintptr_t)p);
					assert_int_equal(p[4], ~(uint64_t)(uintptr_t)p);
					live[i] = live[--n];
					assert_int_equal(kmem_cache_free(&c, p), 0);
				}
				if (op % 97 == 0)
					kmem_cache_update(&c);
				if (op % 131 == 0)
					kmem_cache_reap(&c);
				kfx_check(&c);
				assert_int_equal(kmem_cache_live(&c), n);
			}
			while (n)
				assert_int_equal(kmem_cache_free(&c, live[--n]), 0);
			kfx_check(&c);
			assert_int_equal(kmem_cache_destroy(&c), 0);
			assert_int_equal(k.ctor, k.dtor);
			assert_int_equal(kfx_free_frames(fx), free0);
			assert_int_equal(fx->nreports, 0);
		}
	sim_set_current_cpu(fx->s.machine, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_redzone_overrun_detected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poison_use_after_free_detected_on_reuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poison_with_zero, setup, teardown),
		cmocka_unit_test_setup_teardown(test_double_free_in_magazine_detected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_tag_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poison_ctor_dtor_every_call, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_flag_combination, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
