/*
 * test_kmem_cache.c - the slab allocator's operations one by one: create
 * and its bad arguments, the first cut's kmem_cache_init, alloc/free over
 * sizes and alignments, ctor/dtor (counts, constructed state kept), ctor
 * failure, colouring, every kind of bad free (error, report naming cache
 * and slab, nothing changed), destroy while busy, no kernel frames, the
 * statistics and slabinfo line, the working-set reap, magazine growth.
 * kmem_cache_check runs after every operation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sim.h>

#include "kmem_fixture.h"

#define CONSTRUCTED 0xc0457c7edull

struct obj {
	uint64_t magic;
	uint64_t uses; /* part of the constructed state: survives free/alloc */
	char payload[48];
};

struct ctr {
	int ctor, dtor;
	int fail_after; /* ctor fails once this many succeeded; < 0: never */
};

static int obj_ctor(void *p, void *arg)
{
	struct ctr *k = arg;
	if (k->fail_after >= 0 && k->ctor >= k->fail_after)
		return -MMK_ENOMEM;
	struct obj *o = p;
	o->magic = CONSTRUCTED;
	o->uses = 0;
	k->ctor++;
	return 0;
}

static void obj_dtor(void *p, void *arg)
{
	struct ctr *k = arg;
	struct obj *o = p;
	assert_int_equal(o->magic, CONSTRUCTED);
	o->magic = 0;
	k->dtor++;
}

static int setup(void **state)
{
	struct kfx *fx = calloc(1, sizeof(*fx));
	kfx_boot(fx, 1);
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

/* ---- create ---- */

static void test_create_rejects_bad_arguments(void **state)
{
	struct kfx *fx = *state;
	struct kmem_cache c;
	struct phys *ph = &fx->s.phys;
	struct ctr k = { 0, 0, -1 };
	uint64_t free0 = kfx_free_frames(fx);
	assert_int_equal(kmem_cache_create(&c, ph, "x", 0, 8, NULL, NULL, NULL, 0), -MMK_EINVAL);
	assert_int_equal(kmem_cache_create(&c, ph, "x", KMEM_MAX_OBJ_SIZE + 1, 8, NULL, NULL, NULL, 0), -MMK_EINVAL);
	assert_int_equal(kmem_cache_create(&c, ph, "x", 64, 24, NULL, NULL, NULL, 0), -MMK_EINVAL);
	assert_int_equal(kmem_cache_create(&c, ph, "x", 64, 8192, NULL, NULL, NULL, 0), -MMK_EINVAL);
	assert_int_equal(kmem_cache_create(&c, ph, "x", 64, 8, NULL, NULL, NULL, 0x8000u), -MMK_EINVAL);
	assert_int_equal(kmem_cache_create(&c, ph, "x", 64, 8, obj_ctor, NULL, &k, KMEM_ZERO), -MMK_EINVAL);
	assert_int_equal(kmem_cache_create(&c, NULL, "x", 64, 8, NULL, NULL, NULL, 0), -MMK_EINVAL);
	assert_int_equal(kmem_cache_init(&c, ph, "x", 0, 8), -MMK_EINVAL);
	assert_int_equal(kfx_free_frames(fx), free0);
	/* The largest object and the largest alignment work. */
	kfx_create(fx, &c, "big", KMEM_MAX_OBJ_SIZE, 0, NULL, NULL, NULL, KMEM_DEBUG_ALL);
	void *p = kmem_cache_alloc(&c);
	assert_non_null(p);
	kfx_check(&c);
	assert_int_equal(kmem_cache_free(&c, p), 0);
	assert_int_equal(kmem_cache_destroy(&c), 0);
	kfx_create(fx, &c, "page-aligned", 100, 4096, NULL, NULL, NULL, 0);
	p = kmem_cache_alloc(&c);
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % 4096, 0);
	assert_int_equal(kmem_cache_free(&c, p), 0);
	assert_int_equal(kmem_cache_destroy(&c), 0);
	assert_int_equal(kfx_free_frames(fx), free0);
	assert_int_equal(fx->nreports, 0);
}

/* kmem_cache_init: no frames until the first alloc, zero-filled objects,
 * double free always caught, reap gives every empty frame back. */
static void test_init_keeps_first_cut_semantics(void **state)
{
	struct kfx *fx = *state;
	struct kmem_cache c;
	uint64_t free0 = kfx_free_frames(fx);
	assert_int_equal(kmem_cache_init(&c, &fx->s.phys, "legacy", 40, 8), 0);
	kmem_cache_set_report(&c, kfx_report, fx);
	assert_int_equal(kfx_free_frames(fx), free0);
	kfx_check(&c);
	unsigned char *p = kmem_cache_alloc(&c);
	assert_non_null(p);
	for (int i = 0; i < 40; i++)
		assert_int_equal(p[i], 0);
	memset(p, 0xab, 40);
	assert_int_equal(kmem_cache_free(&c, p), 0);
	kfx_check(&c);
	unsigned char *q = kmem_cache_alloc(&c);
	assert_ptr_equal(q, p); /* the same slab slot */
	for (int i = 0; i < 40; i++)
		assert_int_equal(q[i], 0);
	assert_int_equal(kmem_cache_free(&c, q), 0);
	assert_int_equal(kmem_cache_free(&c, q), -MMK_EALREADY);
	assert_int_equal(fx->kinds[KMEM_ERR_DOUBLE_FREE], 1);
	kfx_check(&c);
	assert_int_equal(kmem_cache_live(&c), 0);
	assert_true(kmem_cache_reap(&c) > 0);
	assert_int_equal(kfx_free_frames(fx), free0);
	assert_int_equal(kmem_cache_destroy(&c), 0);
}

/* ---- alloc and free ---- */

static void test_alloc_free_sizes_and_alignments(void **state)
{
	struct kfx *fx = *state;
	static const size_t sizes[] = { 1, 8, 24, 64, 100, 512, 4000, 5000, 65536 };
	static const size_t aligns[] = { 0, 8, 16, 64, 256, 4096 };
	static const unsigned flags[] = { 0, KMEM_NOMAGAZINE, KMEM_DEBUG_ALL, KMEM_NOMAGAZINE | KMEM_DEBUG_REDZONE };
	uint64_t free0 = kfx_free_frames(fx);
	for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++)
		for (size_t ai = 0; ai < sizeof(aligns) / sizeof(aligns[0]); ai++)
			for (size_t fi = 0; fi < sizeof(flags) / sizeof(flags[0]); fi++) {
				struct kmem_cache c;
				size_t align = aligns[ai] ? aligns[ai] : 8;
				kfx_create(fx, &c, "sizes", sizes[si], aligns[ai], NULL, NULL, NULL, flags[fi]);
				unsigned n = c.objs_per_slab * 2 + 3;
				void **v = calloc(n, sizeof(void *));
				for (unsigned i = 0; i < n; i++) {
					v[i] = kmem_cache_alloc(&c);
					assert_non_null(v[i]);
					assert_int_equal((uintptr_t)v[i] % align, 0);
					memset(v[i], (int)i, sizes[si]); /* whole object writable */
					for (unsigned j = 0; j < i; j++)
						assert_ptr_not_equal(v[i], v[j]);
				}
				kfx_check(&c);
				assert_int_equal(kmem_cache_live(&c), n);
				for (unsigned i = 0; i < n; i++) {
					const unsigned char *b = v[i];
					assert_int_equal(b[0], (unsigned char)i);
					assert_int_equal(b[sizes[si] - 1], (unsigned char)i);
					assert_int_equal(kmem_cache_free(&c, v[i]), 0);
				}
				kfx_check(&c);
				assert_int_equal(kmem_cache_live(&c), 0);
				assert_int_equal(kmem_cache_destroy(&c), 0);
				assert_int_equal(kfx_free_frames(fx), free0);
				free(v);
			}
	assert_int_equal(fx->nreports, 0);
}

static void test_zero_flag(void **state)
{
	struct kfx *fx = *state;
	struct kmem_cache c;
	kfx_create(fx, &c, "zero", 200, 8, NULL, NULL, NULL, KMEM_ZERO);
	unsigned char *p[20];
	for (int r = 0; r < 3; r++) {
		for (int i = 0; i < 20; i++) {
			p[i] = kmem_cache_alloc(&c);
			assert_non_null(p[i]);
			for (int j = 0; j < 200; j++)
				assert_int_equal(p[i][j], 0);
			memset(p[i], 0x5a, 200);
		}
		for (int i = 0; i < 20; i++)
			assert_int_equal(kmem_cache_free(&c, p[i]), 0);
		kfx_check(&c);
	}
	assert_int_equal(kmem_cache_destroy(&c), 0);
}

/* n alloc+free pairs on a new cache "pairs" of 64 bytes with flags; stats after. */
static void run_pairs(struct kfx *fx, struct kmem_cache *c, unsigned flags, int n, struct kmem_stats *st)
{
	kfx_create(fx, c, "pairs", 64, 8, NULL, NULL, NULL, flags);
	for (int i = 0; i < n; i++) {
		void *p = kmem_cache_alloc(c);
		assert_non_null(p);
		assert_int_equal(kmem_cache_free(c, p), 0);
	}
	kfx_check(c);
	kmem_cache_stats(c, st);
}

/* Pairs of alloc and free are served by the CPU's magazines. */
static void test_cpu_layer_serves_pairs(void **state)
{
	struct kfx *fx = *state;
	struct kmem_cache c;
	struct kmem_stats st;
	/* The fast path counts nothing; a KMEM_STATS cache counts each call. */
	run_pairs(fx, &c, 0, 1000, &st);
	assert_int_equal(st.allocs, 1); /* only the first came from a slab */
	assert_int_equal(st.cpu_alloc_hits + st.cpu_free_hits, 0);
	assert_int_equal(st.live, 0);
	assert_int_equal(st.in_magazines, 1);
	assert_int_equal(kmem_cache_destroy(&c), 0);
	run_pairs(fx, &c, KMEM_STATS, 1000, &st);
	assert_int_equal(st.allocs, 1000);
	assert_int_equal(st.frees, 1000);
	assert_true(st.cpu_alloc_hits >= 999);
	assert_true(st.cpu_free_hits >= 999);
	assert_int_equal(st.live, 0);
	assert_int_equal(st.in_magazines, 1);
	assert_int_equal(st.slabs, 1);
	assert_int_equal(kmem_cache_destroy(&c), 0);
}

/* ---- constructor and destructor ---- */

static void ctor_dtor_case(struct kfx *fx, unsigned flags)
{
	struct kmem_cache c;
	struct ctr k = { 0, 0, -1 };
	enum { N = 50 };
	struct obj *v[N];
	kfx_create(fx, &c, "ctor", sizeof(struct obj), 8, obj_ctor, obj_dtor, &k, flags);
	assert_int_equal(k.ctor, 0); /* nothing before the first slab */
	for (int i = 0; i < N; i++) {
		v[i] = kmem_cache_alloc(&c);
		assert_non_null(v[i]);
		assert_int_equal(v[i]->magic, CONSTRUCTED);
		assert_int_equal(v[i]->uses, 0);
		v[i]->uses++;
	}
	kfx_check(&c);
	/* ctor ran once per object of each slab created, not per alloc. */
	assert_int_equal((uint64_t)k.ctor, c.slabs_created * c.objs_per_slab);
	int ctors = k.ctor;
	for (int round = 0; round < 5; round++) {
		for (int i = 0; i < N; i++)
			assert_int_equal(kmem_cache_free(&c, v[i]), 0);
		kfx_check(&c);
		for (int i = N; i-- > 0;) {
			v[i] = kmem_cache_alloc(&c);
			assert_non_null(v[i]);
			assert_int_equal(v[i]->magic, CONSTRUCTED);
			v[i]->uses++;
		}
		kfx_check(&c);
	}
	assert_int_equal(k.ctor, ctors);
	assert_int_equal(k.dtor, 0);
	/* The constructed state persisted: every object was used 6 times
	 * (the same set came back; which object went where may differ). */
	uint64_t uses = 0;
	for (int i = 0; i < N; i++)
		uses += v[i]->uses;
	assert_int_equal(uses, 6 * N);
	for (int i = 0; i < N; i++)
		assert_int_equal(kmem_cache_free(&c, v[i]), 0);
	kfx_check(&c);
	assert_int_equal(kmem_cache_destroy(&c), 0);
	assert_int_equal(k.ctor, k.dtor);
	assert_int_equal(fx->nreports, 0);
}

static void test_ctor_dtor_counts_and_persistence(void **state)
{
	ctor_dtor_case(*state, 0);
	ctor_dtor_case(*state, KMEM_NOMAGAZINE);
	ctor_dtor_case(*state, KMEM_DEBUG_REDZONE);
}

/* A ctor failing in the middle of a slab: NULL, the constructed objects
 * destructed, the frames back, and the cache still usable. */
static void test_ctor_failure_leaves_nothing(void **state)
{
	struct kfx *fx = *state;
	struct kmem_cache c;
	struct ctr k = { 0, 0, 5 };
	uint64_t free0 = kfx_free_frames(fx);
	kfx_create(fx, &c, "failing-ctor", sizeof(struct obj), 8, obj_ctor, obj_dtor, &k, KMEM_NOMAGAZINE);
	struct kmem_stats before, after;
	kfx_stats(&c, &before);
	assert_null(kmem_cache_alloc(&c));
	kfx_check(&c);
	kfx_stats(&c, &after);
	kfx_assert_stats_eq(&before, &after);
	assert_int_equal(k.ctor, 5);
	assert_int_equal(k.dtor, 5);
	assert_int_equal(kfx_free_frames(fx), free0);
	k.fail_after = -1;
	struct obj *o = kmem_cache_alloc(&c);
	assert_non_null(o);
	assert_int_equal(kmem_cache_free(&c, o), 0);
	assert_int_equal(kmem_cache_destroy(&c), 0);
	assert_int_equal(k.ctor - 5, k.dtor - 5);
	assert_int_equal(kfx_free_frames(fx), free0);
}

/* ---- colouring ---- */

static void test_colouring_offsets_differ(void **state)
{
	struct kfx *fx = *state;
	struct kmem_cache c;
	/* 200-byte objects: a 4 KiB slab holds 19 after the header, leaving
	 * slack for several cache-line colours. */
	kfx_create(fx, &c, "colour", 200, 8, NULL, NULL, NULL, KMEM_NOMAGAZINE);
	assert_true(c.colour_max >= 2 * c.colour_step);
	assert_int_equal(c.colour_step, 64);
	unsigned n = c.objs_per_slab * 3;
	void **v = calloc(n, sizeof(void *));
	for (unsigned i = 0; i < n; i++)
		v[i] = kmem_cache_alloc(&c);
	kfx_check(&c);
	/* Object 0 of each of the three slabs sits at a different offset. */
	size_t first[3];
	const void *slab[3];
	for (unsigned sidx = 0; sidx < 3; sidx++) {
		slab[sidx] = kfx_slab_of(&c, v[sidx * c.objs_per_slab]);
		first[sidx] = SIZE_MAX;
		for (unsigned i = 0; i < n; i++)
			if (kfx_slab_of(&c, v[i]) == slab[sidx]) {
				size_t off = (size_t)((const char *)v[i] - (const char *)slab[sidx]);
				if (off < first[sidx])
					first[sidx] = off;
			}
	}
	assert_ptr_not_equal(slab[0], slab[1]);
	assert_ptr_not_equal(slab[1], slab[2]);
	assert_int_not_equal(first[0], first[1]);
	assert_int_not_equal(first[1], first[2]);
	assert_int_not_equal(first[0], first[2]);
	assert_int_equal(first[1] - first[0], c.colour_step);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(kmem_cache_free(&c, v[i]), 0);
	assert_int_equal(kmem_cache_destroy(&c), 0);
	free(v);
}

/* ---- bad frees ---- */

static void expect_bad_free(struct kfx *fx, struct kmem_cache *c, void *p, int rc, enum kmem_error kind,
			    const void *slab, const char *other)
{
	struct kmem_stats before, after;
	kfx_stats(c, &before);
	uint64_t frames = kfx_free_frames(fx);
	kfx_reset_reports(fx);
	assert_int_equal(kmem_cache_free(c, p), rc);
	assert_int_equal(fx->nreports, 1);
	assert_int_equal(fx->last.kind, kind);
	assert_string_equal(fx->last.cache, c->name);
	assert_ptr_equal(fx->last.slab, slab);
	assert_ptr_equal(fx->last.obj, p);
	assert_non_null(strstr(fx->last_line, c->name));
	if (slab) {
		char hex[32];
		snprintf(hex, sizeof(hex), "slab %#lx", (unsigned long)(uintptr_t)slab);
		assert_non_null(strstr(fx->last_line, hex));
	} else {
		assert_non_null(strstr(fx->last_line, "slab none"));
	}
	if (other)
		assert_string_equal(fx->last.other_cache, other);
	else
		assert_null(fx->last.other_cache);
	kfx_check(c);
	kfx_stats(c, &after);
	kfx_assert_stats_eq(&before, &after);
	assert_int_equal(kfx_free_frames(fx), frames);
}

static void bad_frees_case(struct kfx *fx, unsigned flags)
{
	struct kmem_cache c, other;
	kfx_create(fx, &c, "victim", 48, 16, NULL, NULL, NULL, flags);
	kfx_create(fx, &other, "bystander", 48, 16, NULL, NULL, NULL, flags);
	void *a = kmem_cache_alloc(&c), *b = kmem_cache_alloc(&c), *o = kmem_cache_alloc(&other);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(o);
	const void *slab = kfx_slab_of(&c, a);

	/* Foreign: NULL, the stack, the heap, a frame of RAM nobody's slab. */
	int local = 0;
	void *heap = malloc(64);
	pfn_t pfn;
	assert_int_equal(phys_alloc(&fx->s.phys, 0, 0, &pfn), 0);
	void *frame = phys_frame_ptr(&fx->s.phys, pfn);
	expect_bad_free(fx, &c, NULL, -MMK_EINVAL, KMEM_ERR_FOREIGN, NULL, NULL);
	expect_bad_free(fx, &c, &local, -MMK_EINVAL, KMEM_ERR_FOREIGN, NULL, NULL);
	expect_bad_free(fx, &c, heap, -MMK_EINVAL, KMEM_ERR_FOREIGN, NULL, NULL);
	expect_bad_free(fx, &c, (char *)frame + 64, -MMK_EINVAL, KMEM_ERR_FOREIGN, NULL, NULL);
	assert_int_equal(phys_free(&fx->s.phys, pfn, 0), 0);
	free(heap);

	/* Interior: inside an object, inside the slab header, past the last. */
	expect_bad_free(fx, &c, (char *)a + 8, -MMK_EINVAL, KMEM_ERR_INTERIOR, slab, NULL);
	expect_bad_free(fx, &c, (char *)a + c.obj_size - 1, -MMK_EINVAL, KMEM_ERR_INTERIOR, slab, NULL);
	expect_bad_free(fx, &c, (char *)slab + 8, -MMK_EINVAL, KMEM_ERR_INTERIOR, slab, NULL);
	expect_bad_free(fx, &c, (char *)slab + ((size_t)4096 << c.slab_order) - 8, -MMK_EINVAL, KMEM_ERR_INTERIOR,
			slab, NULL);

	/* Another cache's object: named, with its slab. */
	expect_bad_free(fx, &c, o, -MMK_EINVAL, KMEM_ERR_WRONG_CACHE, kfx_slab_of(&other, o), "bystander");

	/* Double free. */
	assert_int_equal(kmem_cache_free(&c, b), 0);
	kfx_check(&c);
	expect_bad_free(fx, &c, b, -MMK_EALREADY, KMEM_ERR_DOUBLE_FREE, kfx_slab_of(&c, b), NULL);

	/* All of that changed nothing: the good frees work. */
	assert_int_equal(kmem_cache_free(&c, a), 0);
	assert_int_equal(kmem_cache_free(&other, o), 0);
	kfx_check(&c);
	kfx_check(&other);
	assert_int_equal(kmem_cache_destroy(&c), 0);
	assert_int_equal(kmem_cache_destroy(&other), 0);
	assert_int_equal(c.errors, 10); /* one per report */
}

static void test_bad_frees_report_and_change_nothing(void **state)
{
	struct kfx *fx = *state;
	bad_frees_case(fx, KMEM_NOMAGAZINE);
	bad_frees_case(fx, KMEM_DEBUG_STATE);
	bad_frees_case(fx, KMEM_DEBUG_ALL);
	bad_frees_case(fx, KMEM_NOMAGAZINE | KMEM_DEBUG_ALL);
}

/* Without a debug tag the magazine fast path cannot see a double free;
 * kmem_cache_check can. */
static void test_check_finds_unseen_double_free(void **state)
{
	struct kfx *fx = *state;
	struct kmem_cache c;
	const char *why = NULL;
	kfx_create(fx, &c, "plain", 64, 8, NULL, NULL, NULL, 0);
	void *a = kmem_cache_alloc(&c);
	assert_int_equal(kmem_cache_free(&c, a), 0);
	assert_int_equal(kmem_cache_free(&c, a), 0); /* unseen */
	assert_int_equal(kmem_cache_check(&c, &why), -MMK_EINVAL);
	assert_non_null(strstr(why, "double free"));
	/* Taking both copies out and freeing one repairs the books. */
	assert_ptr_equal(kmem_cache_alloc(&c), a);
	assert_ptr_equal(kmem_cache_alloc(&c), a);
	assert_int_equal(kmem_cache_live(&c), 1);
	assert_int_equal(kmem_cache_free(&c, a), 0);
	kfx_check(&c);
	assert_int_equal(kmem_cache_destroy(&c), 0);
}

/* ---- destroy ---- */

static void test_destroy_busy(void **state)
{
	struct kfx *fx = *state;
	struct kmem_cache c;
	struct kmem_stats before, after;
	uint64_t free0 = kfx_free_frames(fx);
	kfx_create(fx, &c, "busy", 128, 8, NULL, NULL, NULL, 0);
	void *v[40];
	for (int i = 0; i < 40; i++)
		v[i] = kmem_cache_alloc(&c);
	for (int i = 0; i < 20; i++)
		assert_int_equal(kmem_cache_free(&c, v[i]), 0);
	kfx_stats(&c, &before);
	assert_int_equal(kmem_cache_destroy(&c), -MMK_EBUSY);
	kfx_check(&c);
	kfx_stats(&c, &after);
	kfx_assert_stats_eq(&before, &after);
	for (int i = 20; i < 39; i++)
		assert_int_equal(kmem_cache_free(&c, v[i]), 0);
	assert_int_equal(kmem_cache_destroy(&c), -MMK_EBUSY);
	assert_int_equal(kmem_cache_free(&c, v[39]), 0);
	assert_int_equal(kmem_cache_destroy(&c), 0);
	assert_int_equal(kfx_free_frames(fx), free0);
	const char *why = NULL;
	assert_int_equal(kmem_cache_check(&c, &why), -MMK_EINVAL);
}

/* ---- frames ---- */

struct grab {
	pfn_t pfn[4096];
	unsigned order[4096];
	size_t n;
};

/* Take every free frame as user-owned: the kernel owns none. */
static void grab_all(struct kfx *fx, struct grab *g)
{
	g->n = 0;
	for (int order = MMK_MAX_ORDER; order >= 0; order--) {
		pfn_t pfn;
		while (phys_alloc(&fx->s.phys, (unsigned)order, PHYS_USER, &pfn) == 0) {
			assert_true(g->n < 4096);
			g->pfn[g->n] = pfn;
			g->order[g->n++] = (unsigned)order;
		}
	}
	assert_int_equal(kfx_free_frames(fx), 0);
}

static void release_all(struct kfx *fx, struct grab *g)
{
	while (g->n) {
		g->n--;
		assert_int_equal(phys_free(&fx->s.phys, g->pfn[g->n], g->order[g->n]), 0);
	}
}

static void test_no_kernel_frames_gives_null(void **state)
{
	struct kfx *fx = *state;
	struct grab *g = calloc(1, sizeof(*g));
	struct kmem_cache c, m;
	uint64_t free0 = kfx_free_frames(fx);
	grab_all(fx, g);
	/* A magazine cache needs its per-CPU frames at create. */
	assert_int_equal(kmem_cache_create(&m, &fx->s.phys, "m", 64, 8, NULL, NULL, NULL, 0), -MMK_ENOMEM);
	kfx_create(fx, &c, "starved", 64, 8, NULL, NULL, NULL, KMEM_NOMAGAZINE);
	assert_null(kmem_cache_alloc(&c));
	kfx_check(&c);
	assert_int_equal(kmem_cache_live(&c), 0);
	assert_int_equal(c.slabs_created, 0);
	release_all(fx, g);
	void *p = kmem_cache_alloc(&c);
	assert_non_null(p);
	pfn_t pfn = mmk_paddr_to_pfn(hal_phys_unmap(fx->s.machine, kfx_slab_of(&c, p)));
	assert_int_equal(phys_frame(&fx->s.phys, pfn)->owner, MMK_OWNER_KERNEL);
	assert_int_equal(phys_frame(&fx->s.phys, pfn)->state, MMK_FRAME_ALLOCATED);
	kfx_check(&c);
	assert_int_equal(kmem_cache_free(&c, p), 0);
	assert_int_equal(kmem_cache_destroy(&c), 0);
	assert_int_equal(kfx_free_frames(fx), free0);
	free(g);
}

/* ---- statistics ---- */

static void test_stats_and_slabinfo(void **state)
{
	struct kfx *fx = *state;
	struct kmem_cache c;
	struct kmem_stats st;
	char line[512];
	kfx_create(fx, &c, "stats_test", 100, 8, NULL, NULL, NULL, KMEM_STATS);
	void *v[20];
	for (int i = 0; i < 20; i++)
		v[i] = kmem_cache_alloc(&c);
	for (int i = 0; i < 10; i++)
		assert_int_equal(kmem_cache_free(&c, v[i]), 0);
	kfx_check(&c);
	kmem_cache_stats(&c, &st);
	assert_string_equal(st.name, "stats_test");
	assert_int_equal(st.size, 100);
	assert_int_equal(st.obj_size, 104);
	assert_int_equal(st.live, 10);
	assert_int_equal(st.allocs, 20);
	assert_int_equal(st.frees, 10);
	assert_int_equal(st.in_magazines, 10);
	assert_int_equal(st.objs_out, st.live + st.in_magazines);
	assert_int_equal(st.objs_total, st.slabs * st.objs_per_slab);
	assert_int_equal(st.mag_size, 14);
	assert_int_equal(st.pages_per_slab, 1);
	assert_int_equal(st.slab_frames, st.slabs);
	assert_true(st.mag_frames >= 2); /* the per-CPU block and a magazine slab */
	assert_int_equal(st.errors, 0);

	int n = kmem_stats_format(&st, line, sizeof(line));
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(line));
	char name[64];
	unsigned long active, num, objsize, perslab, pages, limit, batch, shared, aslabs, nslabs, avail;
	unsigned long live, inmag, mag;
	assert_int_equal(sscanf(line,
				"%63s %lu %lu %lu %lu %lu : tunables %lu %lu %lu : slabdata %lu %lu %lu : mmk %lu %lu %lu",
				name, &active, &num, &objsize, &perslab, &pages, &limit, &batch, &shared, &aslabs, &nslabs,
				&avail, &live, &inmag, &mag),
			 15);
	assert_string_equal(name, "stats_test");
	assert_int_equal(active, 20);
	assert_int_equal(num, st.objs_total);
	assert_int_equal(objsize, 104);
	assert_int_equal(perslab, st.objs_per_slab);
	assert_int_equal(pages, 1);
	assert_int_equal(limit, 14);
	assert_int_equal(nslabs, st.slabs);
	assert_int_equal(live, 10);
	assert_int_equal(inmag, 10);
	assert_int_equal(mag, 14);

	n = kmem_stats_format(NULL, line, sizeof(line));
	assert_true(n > 0);
	assert_memory_equal(line, "# name", 6);
	/* Too short: -ENOSPC and a terminated prefix. */
	char small[16];
	assert_int_equal(kmem_stats_format(&st, small, sizeof(small)), -MMK_ENOSPC);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_memory_equal(small, "stats_test", 10);
	assert_int_equal(kmem_stats_format(&st, small, 0), -MMK_ENOSPC);
	printf("%s\n", line);

	for (int i = 10; i < 20; i++)
		assert_int_equal(kmem_cache_free(&c, v[i]), 0);
	assert_int_equal(kmem_cache_destroy(&c), 0);
}

/* The default sink: one console line naming the cache and the slab. */
static void test_default_report_goes_to_console(void **state)
{
	struct kfx *fx = *state;
	struct kmem_cache c;
	assert_int_equal(kmem_cache_create(&c, &fx->s.phys, "console", 32, 8, NULL, NULL, NULL, KMEM_NOMAGAZINE), 0);
	void *p = kmem_cache_alloc(&c);
	assert_int_equal(kmem_cache_free(&c, p), 0);
	fflush(stderr);
	FILE *tmp = tmpfile();
	int saved = dup(2);
	dup2(fileno(tmp), 2);
	assert_int_equal(kmem_cache_free(&c, p), -MMK_EALREADY);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	char buf[256] = { 0 };
	rewind(tmp);
	assert_non_null(fgets(buf, sizeof(buf), tmp));
	fclose(tmp);
	assert_non_null(strstr(buf, "kmem: cache console: double free of 0x"));
	char slab[48];
	snprintf(slab, sizeof(slab), "(slab %#lx)\n", (unsigned long)(uintptr_t)kfx_slab_of(&c, p));
	assert_non_null(strstr(buf, slab));
	assert_int_equal(c.errors, 1);
	assert_int_equal(kmem_cache_destroy(&c), 0);
}

/* ---- reclaim ---- */

static void test_reap_keeps_working_set(void **state)
{
	struct kfx *fx = *state;
	struct kmem_cache c;
	enum { N = 14 * 12 };
	void *v[N];
	uint64_t free0 = kfx_free_frames(fx);
	kfx_create(fx, &c, "reap", 64, 8, NULL, NULL, NULL, 0);
	for (int i = 0; i < N; i++)
		v[i] = kmem_cache_alloc(&c);
	for (int i = 0; i < N; i++)
		assert_int_equal(kmem_cache_free(&c, v[i]), 0);
	kfx_check(&c);
	uint64_t d = c.depot.nfull;
	assert_true(d >= 8);
	/* No interval has passed: everything is working set. */
	assert_int_equal(kmem_cache_reap(&c), 0);
	assert_int_equal(c.depot.nfull, d);
	kfx_check(&c);
	kmem_cache_update(&c); /* interval 1 ends: its minimum was 0 */
	assert_int_equal(c.depot.reap_full, 0);
	assert_int_equal(kmem_cache_reap(&c), 0);
	/* In interval 2 a burst needs 4 of the full magazines, then returns. */
	for (int i = 0; i < 14 * 6; i++)
		v[i] = kmem_cache_alloc(&c);
	for (int i = 0; i < 14 * 6; i++)
		assert_int_equal(kmem_cache_free(&c, v[i]), 0);
	kfx_check(&c);
	uint64_t min = c.depot.min_full;
	assert_true(min < d);
	assert_int_equal(c.depot.nfull, d);
	kmem_cache_update(&c); /* interval 2 ends */
	assert_int_equal(c.depot.reap_full, min);
	uint64_t before = kfx_free_frames(fx);
	size_t frames = kmem_cache_reap(&c);
	kfx_check(&c);
	/* The idle magazines went, their objects back to slabs, the empty
	 * slabs back to phys; the working set (d - min) stayed. */
	assert_int_equal(c.depot.nfull, d - min);
	assert_true(frames > 0);
	assert_int_equal(kfx_free_frames(fx), before + frames);
	/* A second reap finds nothing more to take from the depot. */
	assert_int_equal(kmem_cache_reap(&c), 0);
	assert_int_equal(c.depot.nfull, d - min);
	/* drain takes everything: only the per-CPU block stays. */
	kmem_cache_drain(&c);
	kfx_check(&c);
	struct kmem_stats st;
	kmem_cache_stats(&c, &st);
	assert_int_equal(st.slabs, 0);
	assert_int_equal(st.in_magazines, 0);
	assert_int_equal(kfx_free_frames(fx), free0 - ((uint64_t)1 << c.cpu_order));
	assert_int_equal(kmem_cache_destroy(&c), 0);
	assert_int_equal(kfx_free_frames(fx), free0);
}

static void test_update_grows_magazine_size(void **state)
{
	struct kfx *fx = *state;
	struct kmem_cache c;
	struct kmem_stats st;
	void *v[300];
	kfx_create(fx, &c, "grow", 64, 8, NULL, NULL, NULL, 0);
	static const unsigned sizes[] = { 14, 30, 62, 126, 254, 254 };
	for (unsigned step = 0; step < sizeof(sizes) / sizeof(sizes[0]); step++) {
		for (int i = 0; i < 300; i++)
			v[i] = kmem_cache_alloc(&c);
		for (int i = 0; i < 300; i++)
			assert_int_equal(kmem_cache_free(&c, v[i]), 0);
		kfx_check(&c);
		kmem_cache_stats(&c, &st);
		assert_int_equal(st.mag_size, sizes[step]);
		/* Without contention, no growth. */
		kmem_cache_update(&c);
		kmem_cache_stats(&c, &st);
		assert_int_equal(st.mag_size, sizes[step]);
		/* Contended: the next class, old magazines drained. */
		c.depot.contention = KMEM_DEPOT_CONTENTION + 1;
		kmem_cache_update(&c);
		kfx_check(&c);
		kmem_cache_stats(&c, &st);
		unsigned next = step + 1 < sizeof(sizes) / sizeof(sizes[0]) ? sizes[step + 1] : 254;
		assert_int_equal(st.mag_size, next);
		if (next != sizes[step]) {
			assert_int_equal(st.in_magazines, 0);
			assert_int_equal(st.depot_full + st.depot_empty, 0);
		}
		assert_int_equal(c.depot.contention, 0);
	}
	assert_int_equal(c.depot.resizes, 4);
	assert_int_equal(kmem_cache_destroy(&c), 0);
	/* Big objects stop growing earlier (256 KiB of objects per magazine). */
	kfx_create(fx, &c, "grow-big", 8192, 8, NULL, NULL, NULL, 0);
	for (int i = 0; i < 10; i++) {
		c.depot.contention = KMEM_DEPOT_CONTENTION + 1;
		kmem_cache_update(&c);
	}
	kmem_cache_stats(&c, &st);
	assert_int_equal(st.mag_size, 30);
	assert_int_equal(kmem_cache_destroy(&c), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_rejects_bad_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_keeps_first_cut_semantics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alloc_free_sizes_and_alignments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zero_flag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cpu_layer_serves_pairs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctor_dtor_counts_and_persistence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctor_failure_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_colouring_offsets_differ, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_frees_report_and_change_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_finds_unseen_double_free, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destroy_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_kernel_frames_gives_null, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stats_and_slabinfo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_report_goes_to_console, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reap_keeps_working_set, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_grows_magazine_size, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
