/*
 * test_radix: the sparse radix tree (lib/radix.c) on a booted sim machine,
 * nodes from a kmem cache on its frame allocator.  Boundaries, height growth
 * and shrink, replace, next across holes, reservations under a sticky
 * failpoint, ENOMEM sweeps, a 200,000-step model against a sorted array,
 * and a leak baseline in every test's teardown.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sim_boot.h>
#include <mmk/errno.h>
#include <mmk/kmem.h>
#include <mmk/radix.h>

struct fx {
	struct sim_system s;
	struct kmem_cache cache;
	struct radix_tree t;
	void *scratch; /* freed by teardown, so a failed test leaks nothing */
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	assert_int_equal(sim_system_boot(&f->s, 64ull << 20, 1), 0);
	assert_int_equal(radix_node_cache_init(&f->cache, &f->s.phys), 0);
	radix_init(&f->t, &f->cache);
	*state = f;
	return 0;
}

/* Leak baseline: every node back in the cache, every frame back in phys. */
static int teardown(void **state)
{
	struct fx *f = *state;
	mmk_failpoint_arm(&f->s.failpoint, 0, false);
	radix_destroy(&f->t);
	assert_int_equal(f->t.nodes, 0);
	assert_int_equal(kmem_cache_live(&f->cache), 0);
	assert_int_equal(kmem_cache_destroy(&f->cache), 0);
	assert_int_equal(sim_system_free_frames(&f->s), f->s.boot_free_frames);
	assert_int_equal(sim_system_shutdown(&f->s), 0);
	free(f->scratch);
	free(f);
	return 0;
}

#define CHECK(t) check_((t), __FILE__, __LINE__)
static void check_(const struct radix_tree *t, const char *file, int line)
{
	const char *why = NULL;
	if (radix_check(t, &why) != 0)
		fail_msg("%s:%d: radix_check: %s", file, line, why);
}

/* A distinct non-NULL value per key (never dereferenced). */
static void *V(uint64_t key)
{
	uintptr_t v = (uintptr_t)(key * 0x9E3779B97F4A7C15ull + 0x1000);
	assert_true(v != 0);
	return (void *)v;
}

static unsigned height_of(const struct radix_tree *t) { return t->height; }

/* ---- empty tree and bad input ---- */

static void test_empty(void **state)
{
	struct fx *f = *state;
	struct radix_tree *t = &f->t;
	uint64_t k = 77;
	CHECK(t);
	assert_null(radix_lookup(t, 0));
	assert_null(radix_lookup(t, UINT64_MAX));
	assert_null(radix_next(t, 0, &k));
	assert_int_equal(k, 77);
	assert_null(radix_remove(t, 0));
	assert_null(radix_replace(t, 0, V(0)));
	assert_int_equal(radix_unreserve(t, 0), -MMK_ENOENT);
	assert_int_equal(radix_insert(t, 5, NULL), -MMK_EINVAL);
	assert_int_equal(radix_count(t), 0);
	assert_int_equal(t->nodes, 0);
	assert_int_equal(radix_remove_range(t, 0, UINT64_MAX, NULL, NULL), 0);
	CHECK(t);
}

/* ---- boundaries ---- */

static void test_boundaries(void **state)
{
	struct fx *f = *state;
	struct radix_tree *t = &f->t;
	static const struct {
		uint64_t key;
		unsigned height; /* of a tree holding only this key */
	} b[] = {
		{0, 1}, {63, 1}, {64, 2}, {4095, 2}, {4096, 3}, {(uint64_t)1 << 32, 6}, {UINT64_MAX, 11},
	};
	const size_t n = sizeof(b) / sizeof(b[0]);

	/* Each key alone: height, node count (one per level), neighbours. */
	for (size_t i = 0; i < n; i++) {
		uint64_t key = b[i].key, k;
		assert_int_equal(radix_insert(t, key, V(key)), 0);
		CHECK(t);
		assert_int_equal(height_of(t), b[i].height);
		assert_int_equal(t->nodes, b[i].height);
		assert_ptr_equal(radix_lookup(t, key), V(key));
		if (key > 0)
			assert_null(radix_lookup(t, key - 1));
		if (key < UINT64_MAX)
			assert_null(radix_lookup(t, key + 1));
		assert_ptr_equal(radix_next(t, 0, &k), V(key));
		assert_int_equal(k, key);
		assert_ptr_equal(radix_next(t, key, &k), V(key));
		if (key < UINT64_MAX)
			assert_null(radix_next(t, key + 1, &k));
		assert_int_equal(radix_insert(t, key, V(1)), -MMK_EEXIST);
		assert_ptr_equal(radix_lookup(t, key), V(key));
		assert_ptr_equal(radix_remove(t, key), V(key));
		assert_null(radix_remove(t, key));
		CHECK(t);
		assert_null(t->root);
		assert_int_equal(t->nodes, 0);
	}

	/* All together; iterate in order; remove in insertion order. */
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(radix_insert(t, b[i].key, V(b[i].key)), 0);
		CHECK(t);
	}
	assert_int_equal(radix_count(t), n);
	assert_int_equal(height_of(t), 11);
	uint64_t k = 0;
	size_t i = 0;
	for (void *v = radix_next(t, 0, &k); v; v = k == UINT64_MAX ? NULL : radix_next(t, k + 1, &k)) {
		assert_true(i < n);
		assert_int_equal(k, b[i].key);
		assert_ptr_equal(v, V(k));
		i++;
	}
	assert_int_equal(i, n);
	for (i = 0; i < n; i++) {
		assert_ptr_equal(radix_remove(t, b[i].key), V(b[i].key));
		CHECK(t);
		/* Only the largest remaining key decides the height. */
		if (i + 1 < n)
			assert_int_equal(height_of(t), 11);
	}
	assert_int_equal(t->nodes, 0);
}

/* ---- height growth and shrink ---- */

static void test_height_grow_shrink(void **state)
{
	struct fx *f = *state;
	struct radix_tree *t = &f->t;
	assert_int_equal(radix_insert(t, 1, V(1)), 0);
	for (unsigned h = 2; h <= 11; h++) {
		uint64_t key = (uint64_t)1 << (6 * (h - 1)); /* smallest key needing h levels */
		assert_int_equal(radix_insert(t, key, V(key)), 0);
		CHECK(t);
		assert_int_equal(height_of(t), h);
	}
	/* Remove the largest keys: the height follows down to 1. */
	for (unsigned h = 11; h >= 2; h--) {
		uint64_t key = (uint64_t)1 << (6 * (h - 1));
		assert_ptr_equal(radix_remove(t, key), V(key));
		CHECK(t);
		assert_int_equal(height_of(t), h - 1);
	}
	assert_int_equal(t->nodes, 1);
	assert_ptr_equal(radix_lookup(t, 1), V(1));

	/* A huge key first, then a small one; removing the huge one shrinks
	 * straight from 11 levels to 1. */
	assert_int_equal(radix_insert(t, UINT64_MAX - 3, V(9)), 0);
	assert_int_equal(height_of(t), 11);
	assert_int_equal(t->nodes, 11 + 10);
	assert_ptr_equal(radix_remove(t, UINT64_MAX - 3), V(9));
	CHECK(t);
	assert_int_equal(height_of(t), 1);
	assert_int_equal(t->nodes, 1);

	/* Removing the low key of a tall tree does not shrink it (the high
	 * key sits outside slot 0 of the root). */
	assert_int_equal(radix_insert(t, (uint64_t)1 << 30, V(2)), 0);
	assert_int_equal(height_of(t), 6);
	assert_ptr_equal(radix_remove(t, 1), V(1));
	CHECK(t);
	assert_int_equal(height_of(t), 6);
	assert_int_equal(t->nodes, 6);
	assert_ptr_equal(radix_remove(t, (uint64_t)1 << 30), V(2));
	CHECK(t);
	assert_null(t->root);
	assert_int_equal(height_of(t), 0);
}

/* ---- replace ---- */

static void test_replace(void **state)
{
	struct fx *f = *state;
	struct radix_tree *t = &f->t;
	assert_null(radix_replace(t, 10, V(1)));
	assert_int_equal(t->nodes, 0);
	assert_int_equal(radix_insert(t, 10, V(10)), 0);
	assert_null(radix_replace(t, 11, V(1)));       /* absent, same leaf */
	assert_null(radix_replace(t, 1u << 20, V(1))); /* absent, above the height */
	assert_null(radix_lookup(t, 11));
	assert_null(radix_replace(t, 10, NULL)); /* NULL value: refused */
	assert_ptr_equal(radix_lookup(t, 10), V(10));
	assert_ptr_equal(radix_replace(t, 10, V(99)), V(10));
	assert_ptr_equal(radix_lookup(t, 10), V(99));
	assert_ptr_equal(radix_replace(t, 10, V(98)), V(99));
	assert_int_equal(radix_count(t), 1);
	assert_int_equal(t->nodes, 1);
	CHECK(t);
	assert_ptr_equal(radix_remove(t, 10), V(98));
}

/* ---- next across empty subtrees ---- */

static void test_next_holes(void **state)
{
	struct fx *f = *state;
	struct radix_tree *t = &f->t;
	const uint64_t keys[] = {5, 63, 64 * 63 + 63, (1u << 20) + 3, (uint64_t)1 << 40, ((uint64_t)1 << 40) + 64,
				 UINT64_MAX - 64, UINT64_MAX};
	const size_t n = sizeof(keys) / sizeof(keys[0]);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(radix_insert(t, keys[i], V(keys[i])), 0);
	CHECK(t);
	/* From every key, every key +- 1 and a few holes, next finds the first
	 * key >= from (a brute-force answer from the sorted list). */
	uint64_t probes[64];
	size_t np = 0;
	for (size_t i = 0; i < n; i++) {
		probes[np++] = keys[i];
		probes[np++] = keys[i] - 1;
		probes[np++] = keys[i] + 1; /* UINT64_MAX + 1 == 0: fine */
	}
	probes[np++] = 0;
	probes[np++] = 1u << 19;
	probes[np++] = ((uint64_t)1 << 40) + 1;
	probes[np++] = (uint64_t)1 << 63;
	for (size_t p = 0; p < np; p++) {
		uint64_t from = probes[p], k = 12345;
		const uint64_t *want = NULL;
		for (size_t i = 0; i < n && !want; i++)
			if (keys[i] >= from)
				want = &keys[i];
		void *v = radix_next(t, from, &k);
		if (!want) {
			assert_null(v);
			assert_int_equal(k, 12345);
		} else {
			assert_ptr_equal(v, V(*want));
			assert_int_equal(k, *want);
		}
	}
	/* Reserved, value-less leaves are holes too. */
	assert_int_equal(radix_reserve(t, 1000), 0);
	assert_int_equal(radix_reserve(t, (uint64_t)1 << 30), 0);
	assert_int_equal(radix_reserve(t, UINT64_MAX - 200), 0);
	CHECK(t);
	uint64_t k;
	assert_ptr_equal(radix_next(t, 64 * 63 + 64, &k), V((1u << 20) + 3));
	assert_ptr_equal(radix_next(t, (1u << 20) + 4, &k), V((uint64_t)1 << 40));
	assert_ptr_equal(radix_next(t, ((uint64_t)1 << 40) + 65, &k), V(UINT64_MAX - 64));
	assert_int_equal(k, UINT64_MAX - 64);
	assert_ptr_equal(radix_next(t, UINT64_MAX - 63, &k), V(UINT64_MAX));
	assert_int_equal(radix_unreserve(t, 1000), 0);
	assert_int_equal(radix_unreserve(t, (uint64_t)1 << 30), 0);
	assert_int_equal(radix_unreserve(t, UINT64_MAX - 200), 0);
	CHECK(t);
	for (size_t i = 0; i < n; i++)
		assert_ptr_equal(radix_remove(t, keys[i]), V(keys[i]));
	assert_int_equal(t->nodes, 0);
	/* An exhausted leaf in slot 63 of its parent: next must climb two
	 * levels (the carry runs off the parent's range), not wrap around to
	 * the parent's slot 0. */
	assert_int_equal(radix_insert(t, 3, V(3)), 0);
	assert_int_equal(radix_insert(t, 4101, V(4101)), 0);
	assert_int_equal(radix_reserve(t, 4095), 0);
	assert_ptr_equal(radix_next(t, 4000, &k), V(4101));
	assert_int_equal(k, 4101);
	assert_int_equal(radix_unreserve(t, 4095), 0);
	assert_ptr_equal(radix_remove(t, 3), V(3));
	assert_ptr_equal(radix_remove(t, 4101), V(4101));
	CHECK(t);
	/* A tree whose only leaf is reserved and empty: next finds nothing. */
	assert_int_equal(radix_reserve(t, 4096 * 5), 0);
	assert_null(radix_next(t, 0, &k));
	assert_int_equal(radix_unreserve(t, 4096 * 5), 0);
	assert_int_equal(t->nodes, 0);
}

/* ---- range removal ---- */

struct collected {
	uint64_t keys[256];
	size_t n;
};

static void collect(void *arg, uint64_t key, void *value)
{
	struct collected *c = arg;
	assert_ptr_equal(value, V(key));
	assert_true(c->n < 256);
	if (c->n)
		assert_true(c->keys[c->n - 1] < key);
	c->keys[c->n++] = key;
}

static void test_remove_range(void **state)
{
	struct fx *f = *state;
	struct radix_tree *t = &f->t;
	for (uint64_t k = 0; k < 200; k++)
		assert_int_equal(radix_insert(t, k * 37, V(k * 37)), 0);
	assert_int_equal(radix_insert(t, UINT64_MAX, V(UINT64_MAX)), 0);
	struct collected c = {.n = 0};
	/* [100, 1000): keys 37*3 .. 37*27 */
	assert_int_equal(radix_remove_range(t, 100, 1000, collect, &c), 25);
	assert_int_equal(c.n, 25);
	assert_int_equal(c.keys[0], 111);
	assert_int_equal(c.keys[24], 999);
	CHECK(t);
	assert_ptr_equal(radix_lookup(t, 74), V(74));
	assert_ptr_equal(radix_lookup(t, 1036), V(1036));
	assert_int_equal(radix_remove_range(t, 5, 5, NULL, NULL), 0);
	assert_int_equal(radix_remove_range(t, 6, 5, NULL, NULL), 0);
	/* Half-open: UINT64_MAX itself is never in a range. */
	assert_int_equal(radix_remove_range(t, 0, UINT64_MAX, NULL, NULL), 200 - 25);
	CHECK(t);
	assert_int_equal(radix_count(t), 1);
	assert_int_equal(height_of(t), 11);
	assert_ptr_equal(radix_remove(t, UINT64_MAX), V(UINT64_MAX));
	assert_int_equal(t->nodes, 0);
}

/* ---- sparseness: the figures of the design ---- */

static void test_sparse_figures(void **state)
{
	struct fx *f = *state;
	struct radix_tree *t = &f->t;
	const uint64_t npages = (512ull << 20) >> MMK_PAGE_SHIFT; /* 131072 */
	const uint64_t touched[] = {0, npages / 2 + 17, npages - 1};
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(radix_insert(t, touched[i], V(touched[i])), 0);
	CHECK(t);
	assert_int_equal(height_of(t), 3);
	assert_int_equal(t->nodes, 7); /* root, 3 middle nodes, 3 leaves */
	print_message("radix: 512 MiB object, 3 pages touched: height %u, %llu nodes, %llu bytes "
		      "(a flat page array: %llu bytes)\n",
		      t->height, (unsigned long long)t->nodes,
		      (unsigned long long)(t->nodes * f->cache.obj_size),
		      (unsigned long long)(npages * sizeof(void *)));
	radix_destroy(t);

	/* The same 3 pages at a 2^40-page offset: taller, still 3 leaves. */
	const uint64_t base = (uint64_t)1 << 40;
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(radix_insert(t, base + touched[i], V(i)), 0);
	CHECK(t);
	print_message("radix: same at page offset 2^40: height %u, %llu nodes\n", t->height,
		      (unsigned long long)t->nodes);
	assert_true(t->nodes <= 7 + 4);
	radix_destroy(t);

	/* Fully populated 512 MiB: one leaf per 64 pages. */
	for (uint64_t k = 0; k < npages; k++)
		assert_int_equal(radix_insert(t, k, V(k)), 0);
	CHECK(t);
	assert_int_equal(t->nodes, npages / 64 + npages / 4096 + 1);
	print_message("radix: 512 MiB object, all %llu pages: %llu nodes, %llu bytes (%.2f%% over a flat array)\n",
		      (unsigned long long)npages, (unsigned long long)t->nodes,
		      (unsigned long long)(t->nodes * f->cache.obj_size),
		      100.0 * ((double)(t->nodes * f->cache.obj_size) / (double)(npages * sizeof(void *)) - 1.0));
	/* Removing every other page keeps every leaf; removing the rest frees all. */
	for (uint64_t k = 0; k < npages; k += 2)
		assert_ptr_equal(radix_remove(t, k), V(k));
	assert_int_equal(t->nodes, npages / 64 + npages / 4096 + 1);
	for (uint64_t k = 1; k < npages; k += 2)
		assert_ptr_equal(radix_remove(t, k), V(k));
	CHECK(t);
	assert_int_equal(t->nodes, 0);
}

/* ---- reservations ---- */

static void test_reserve_sticky_failpoint(void **state)
{
	struct fx *f = *state;
	struct radix_tree *t = &f->t;
	const uint64_t r1 = 1000, r2 = ((uint64_t)1 << 33) + 5, r3 = 7;
	for (uint64_t k = 0; k < 64; k++)
		assert_int_equal(radix_insert(t, k, V(k)), 0);
	assert_int_equal(radix_reserve(t, r1), 0); /* grows to 2 levels, new leaf */
	assert_int_equal(radix_reserve(t, r2), 0); /* grows to 6 levels */
	assert_int_equal(radix_reserve(t, r3), 0); /* present key: path exists */
	assert_int_equal(t->reservations, 3);
	CHECK(t);
	uint64_t nodes = t->nodes;

	/* No allocation can succeed from here on. */
	mmk_failpoint_arm(&f->s.failpoint, 1, true);
	assert_int_equal(radix_insert(t, 5000, V(5000)), -MMK_ENOMEM); /* needs a leaf */
	assert_int_equal(radix_reserve(t, 5000), -MMK_ENOMEM);
	assert_int_equal(t->nodes, nodes);
	CHECK(t);

	/* Empty the rest of the tree: reserved paths must survive the
	 * removals and the shrink that follows. */
	for (uint64_t k = 0; k < 64; k++)
		assert_ptr_equal(radix_remove(t, k), V(k));
	CHECK(t);
	assert_int_equal(height_of(t), 6);

	assert_int_equal(radix_insert(t, r1, V(r1)), 0);
	assert_int_equal(radix_insert(t, r1 + 1, V(r1 + 1)), 0); /* same leaf: no node needed */
	assert_int_equal(radix_insert(t, r2, V(r2)), 0);
	assert_int_equal(radix_insert(t, r3, V(r3)), 0);
	CHECK(t);
	assert_true(f->s.failpoint.failed >= 2);

	/* Reservations outlive remove: remove and insert again, still no memory. */
	assert_ptr_equal(radix_remove(t, r2), V(r2));
	assert_ptr_equal(radix_remove(t, r3), V(r3));
	CHECK(t);
	assert_int_equal(radix_insert(t, r2, V(r2)), 0);
	assert_int_equal(radix_insert(t, r3, V(r3)), 0);
	mmk_failpoint_arm(&f->s.failpoint, 0, false);

	/* Unreserve: nothing freed while values hold the paths. */
	nodes = t->nodes;
	assert_int_equal(radix_unreserve(t, r1), 0);
	assert_int_equal(radix_unreserve(t, r2), 0);
	assert_int_equal(radix_unreserve(t, r3), 0);
	assert_int_equal(radix_unreserve(t, r3), -MMK_ENOENT);
	assert_int_equal(t->reservations, 0);
	assert_int_equal(t->nodes, nodes);
	CHECK(t);
	assert_ptr_equal(radix_remove(t, r2), V(r2));
	CHECK(t);
	assert_int_equal(height_of(t), 2);
	assert_ptr_equal(radix_remove(t, r1), V(r1));
	assert_ptr_equal(radix_remove(t, r1 + 1), V(r1 + 1));
	assert_ptr_equal(radix_remove(t, r3), V(r3));
	CHECK(t);
	assert_int_equal(t->nodes, 0);
}

static void test_reserve_unreserve_frees(void **state)
{
	struct fx *f = *state;
	struct radix_tree *t = &f->t;
	/* Reserve in an empty tree, unreserve: back to nothing. */
	assert_int_equal(radix_reserve(t, (uint64_t)1 << 45), 0);
	assert_int_equal(height_of(t), 8);
	assert_int_equal(t->nodes, 8);
	assert_int_equal(radix_count(t), 0);
	CHECK(t);
	assert_int_equal(radix_unreserve(t, (uint64_t)1 << 45), 0);
	CHECK(t);
	assert_null(t->root);
	assert_int_equal(t->nodes, 0);

	/* Nested reservations on one leaf, keys differing within it. */
	assert_int_equal(radix_reserve(t, 128), 0);
	assert_int_equal(radix_reserve(t, 128), 0);
	assert_int_equal(radix_reserve(t, 130), 0);
	assert_int_equal(t->nodes, 2); /* key 128 needs 2 levels: root and one leaf */
	assert_int_equal(t->reservations, 3);
	CHECK(t);
	assert_int_equal(radix_unreserve(t, 128), 0);
	assert_int_equal(radix_unreserve(t, 130), 0);
	assert_int_equal(t->nodes, 2);
	assert_int_equal(radix_unreserve(t, 128), 0);
	assert_int_equal(radix_unreserve(t, 128), -MMK_ENOENT);
	assert_int_equal(t->nodes, 0);

	/* A reserved low leaf under a tall tree: the shrink keeps it. */
	assert_int_equal(radix_reserve(t, 3), 0);
	assert_int_equal(radix_insert(t, (uint64_t)1 << 50, V(1)), 0);
	assert_ptr_equal(radix_remove(t, (uint64_t)1 << 50), V(1));
	CHECK(t);
	assert_int_equal(height_of(t), 1);
	assert_int_equal(t->nodes, 1);
	mmk_failpoint_arm(&f->s.failpoint, 1, true);
	assert_int_equal(radix_insert(t, 3, V(3)), 0);
	mmk_failpoint_arm(&f->s.failpoint, 0, false);
	assert_int_equal(radix_unreserve(t, 3), 0);
	assert_ptr_equal(radix_remove(t, 3), V(3));
	assert_int_equal(t->nodes, 0);

	/* Destroy drops outstanding reservations. */
	assert_int_equal(radix_reserve(t, 99999), 0);
	radix_destroy(t);
	assert_int_equal(t->reservations, 0);
	CHECK(t);
}

/* ---- ENOMEM sweeps ---- */

/* The tree's contents as a (key, value) list, for "nothing changed". */
struct snap {
	uint64_t count, nodes, reservations;
	unsigned height;
	uint64_t keys[64];
	void *vals[64];
	size_t n;
};

static void take(const struct radix_tree *t, struct snap *s)
{
	memset(s, 0, sizeof(*s));
	s->count = t->count;
	s->nodes = t->nodes;
	s->reservations = t->reservations;
	s->height = t->height;
	uint64_t k = 0;
	for (void *v = radix_next(t, 0, &k); v; v = k == UINT64_MAX ? NULL : radix_next(t, k + 1, &k)) {
		assert_true(s->n < 64);
		s->keys[s->n] = k;
		s->vals[s->n++] = v;
	}
}

static void assert_same(const struct snap *a, const struct snap *b)
{
	assert_int_equal(a->count, b->count);
	assert_int_equal(a->nodes, b->nodes);
	assert_int_equal(a->reservations, b->reservations);
	assert_int_equal(a->height, b->height);
	assert_int_equal(a->n, b->n);
	assert_memory_equal(a->keys, b->keys, sizeof(a->keys));
	assert_memory_equal(a->vals, b->vals, sizeof(a->vals));
}

static void test_enomem_sweep(void **state)
{
	struct fx *f = *state;
	struct radix_tree *t = &f->t;
	const uint64_t base[] = {0, 1, 100, 5000, 1u << 20};
	const uint64_t targets[] = {2, 7000, (uint64_t)1 << 26, (uint64_t)1 << 40, UINT64_MAX, 4096 * 64};
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(radix_insert(t, base[i], V(base[i])), 0);
	for (int mode = 0; mode < 2; mode++) { /* 0: insert, 1: reserve */
		for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
			uint64_t key = targets[i];
			struct snap before, now;
			take(t, &before);
			unsigned failures = 0;
			for (uint64_t nth = 1;; nth++) {
				mmk_failpoint_arm(&f->s.failpoint, nth, false);
				int rc = mode == 0 ? radix_insert(t, key, V(key)) : radix_reserve(t, key);
				mmk_failpoint_arm(&f->s.failpoint, 0, false);
				CHECK(t);
				if (rc == 0)
					break;
				assert_int_equal(rc, -MMK_ENOMEM);
				take(t, &now);
				assert_same(&before, &now);
				assert_null(radix_lookup(t, key));
				assert_int_equal(kmem_cache_live(&f->cache), t->nodes); /* failed attempts gave nodes back */
				failures++;
				assert_true(nth < 100);
			}
			uint64_t added = t->nodes - before.nodes;
			assert_true(failures >= added); /* every new node's allocation was failed once */
			if (mode == 0) {
				assert_ptr_equal(radix_lookup(t, key), V(key));
				assert_ptr_equal(radix_remove(t, key), V(key));
			} else {
				assert_int_equal(radix_unreserve(t, key), 0);
			}
			CHECK(t);
			take(t, &now);
			assert_same(&before, &now);
		}
	}
}

/* ---- the checker sees corruption ---- */

static void test_check_catches(void **state)
{
	struct fx *f = *state;
	struct radix_tree *t = &f->t;
	const char *why = NULL;
	assert_int_equal(radix_insert(t, 70, V(70)), 0);
	assert_int_equal(radix_insert(t, 1, V(1)), 0);
	CHECK(t);
	struct radix_node *leaf = t->root->slots[1];
	leaf->bitmap |= 1; /* a bit without a slot */
	assert_int_equal(radix_check(t, &why), -MMK_EINVAL);
	assert_non_null(why);
	leaf->bitmap &= ~(uint64_t)1;
	t->count++;
	assert_int_equal(radix_check(t, &why), -MMK_EINVAL);
	t->count--;
	leaf->count++;
	assert_int_equal(radix_check(t, &why), -MMK_EINVAL);
	leaf->count--;
	leaf->reserved++; /* reservations must sum to the tree's */
	assert_int_equal(radix_check(t, NULL), -MMK_EINVAL);
	leaf->reserved--;
	CHECK(t);
}

/* ---- the model: 200,000 random steps against a sorted array ---- */

#define MODEL_CAP 16384
#define MODEL_RES 16

struct model {
	uint64_t keys[MODEL_CAP];
	void *vals[MODEL_CAP];
	size_t n;
	uint64_t res[MODEL_RES]; /* outstanding reservations (keys) */
	size_t nres;
};

static uint64_t rng(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* Keys: 80% from five clusters of 4096 (low, 2^20, around 2^32, 2^62,
 * the top of the space), 20% anywhere in 64 bits. */
static uint64_t draw(uint64_t *s)
{
	static const uint64_t clusters[] = {0, 1u << 20, (1ull << 32) - 2048, 1ull << 62, UINT64_MAX - 4095};
	uint64_t r = rng(s);
	if (r % 5 == 0)
		return rng(s);
	return clusters[(r >> 8) % 5] + rng(s) % 4096;
}

/* Index of the first key >= k. */
static size_t lower_bound(const struct model *m, uint64_t k)
{
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->keys[mid] < k)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool model_has(const struct model *m, uint64_t k, size_t *at)
{
	*at = lower_bound(m, k);
	return *at < m->n && m->keys[*at] == k;
}

static void model_del(struct model *m, size_t i)
{
	memmove(&m->keys[i], &m->keys[i + 1], (m->n - i - 1) * sizeof(m->keys[0]));
	memmove(&m->vals[i], &m->vals[i + 1], (m->n - i - 1) * sizeof(m->vals[0]));
	m->n--;
}

static void model_compare_all(const struct radix_tree *t, const struct model *m)
{
	size_t i = 0;
	uint64_t k = 0;
	for (void *v = radix_next(t, 0, &k); v; v = k == UINT64_MAX ? NULL : radix_next(t, k + 1, &k)) {
		assert_true(i < m->n);
		assert_int_equal(k, m->keys[i]);
		assert_ptr_equal(v, m->vals[i]);
		i++;
	}
	assert_int_equal(i, m->n);
}

static void test_model(void **state)
{
	struct fx *f = *state;
	struct radix_tree *t = &f->t;
	struct model *m = f->scratch = calloc(1, sizeof(*m));
	assert_non_null(m);
	uint64_t seed = 0x5eed0001, maxn = 0, maxnodes = 0, token = 1;
	unsigned maxh = 0, empties = 0;
	enum { STEPS = 200000, PHASE = 25000 };
	for (unsigned step = 0; step < STEPS; step++) {
		bool grow = (step / PHASE) % 2 == 0;
		unsigned op = (unsigned)(rng(&seed) % 100);
		unsigned ins = grow ? 55 : 20, rem = grow ? 20 : 55; /* percent */
		size_t at;
		if (op < ins && m->n < MODEL_CAP) {
			uint64_t k = draw(&seed);
			void *v = (void *)(uintptr_t)(token++ << 3);
			bool fail1 = rng(&seed) % 64 == 0; /* now and then, a one-shot failure */
			if (fail1)
				mmk_failpoint_arm(&f->s.failpoint, 1, false);
			uint64_t nodes = t->nodes;
			int rc = radix_insert(t, k, v);
			mmk_failpoint_arm(&f->s.failpoint, 0, false);
			if (model_has(m, k, &at)) {
				assert_int_equal(rc, -MMK_EEXIST);
				assert_int_equal(t->nodes, nodes);
			} else if (rc == -MMK_ENOMEM) {
				assert_true(fail1);
				assert_int_equal(t->nodes, nodes);
				assert_null(radix_lookup(t, k));
			} else {
				assert_int_equal(rc, 0);
				memmove(&m->keys[at + 1], &m->keys[at], (m->n - at) * sizeof(m->keys[0]));
				memmove(&m->vals[at + 1], &m->vals[at], (m->n - at) * sizeof(m->vals[0]));
				m->keys[at] = k;
				m->vals[at] = v;
				m->n++;
			}
		} else if (op < ins + rem) {
			uint64_t k = (m->n && rng(&seed) % 5) ? m->keys[rng(&seed) % m->n] : draw(&seed);
			void *v = radix_remove(t, k);
			if (model_has(m, k, &at)) {
				assert_ptr_equal(v, m->vals[at]);
				model_del(m, at);
			} else {
				assert_null(v);
			}
		} else if (op < ins + rem + 8) {
			uint64_t k = (m->n && rng(&seed) % 2) ? m->keys[rng(&seed) % m->n] : draw(&seed);
			void *v = radix_lookup(t, k);
			if (model_has(m, k, &at))
				assert_ptr_equal(v, m->vals[at]);
			else
				assert_null(v);
		} else if (op < ins + rem + 14) {
			uint64_t from = (m->n && rng(&seed) % 2) ? m->keys[rng(&seed) % m->n] + rng(&seed) % 3 - 1
								: draw(&seed);
			uint64_t k = 0;
			void *v = radix_next(t, from, &k);
			at = lower_bound(m, from);
			if (at == m->n) {
				assert_null(v);
			} else {
				assert_ptr_equal(v, m->vals[at]);
				assert_int_equal(k, m->keys[at]);
			}
		} else if (op < ins + rem + 17) {
			uint64_t k = (m->n && rng(&seed) % 4) ? m->keys[rng(&seed) % m->n] : draw(&seed);
			void *v = (void *)(uintptr_t)(token++ << 3);
			void *old = radix_replace(t, k, v);
			if (model_has(m, k, &at)) {
				assert_ptr_equal(old, m->vals[at]);
				m->vals[at] = v;
			} else {
				assert_null(old);
			}
		} else if (op < ins + rem + 21) {
			/* Reserve a key, or insert at a reserved key with no memory
			 * at all and unreserve it. */
			if (m->nres < MODEL_RES && rng(&seed) % 2) {
				uint64_t k = draw(&seed);
				assert_int_equal(radix_reserve(t, k), 0);
				m->res[m->nres++] = k;
			} else if (m->nres) {
				size_t r = rng(&seed) % m->nres;
				uint64_t k = m->res[r];
				void *v = (void *)(uintptr_t)(token++ << 3);
				mmk_failpoint_arm(&f->s.failpoint, 1, true);
				int rc = radix_insert(t, k, v);
				mmk_failpoint_arm(&f->s.failpoint, 0, false);
				if (model_has(m, k, &at)) {
					assert_int_equal(rc, -MMK_EEXIST);
				} else {
					assert_int_equal(rc, 0);
					memmove(&m->keys[at + 1], &m->keys[at], (m->n - at) * sizeof(m->keys[0]));
					memmove(&m->vals[at + 1], &m->vals[at], (m->n - at) * sizeof(m->vals[0]));
					m->keys[at] = k;
					m->vals[at] = v;
					m->n++;
				}
				assert_int_equal(radix_unreserve(t, k), 0);
				m->res[r] = m->res[--m->nres];
			}
		} else if (op < ins + rem + 22) {
			/* Remove a short range. */
			uint64_t start = draw(&seed), len = rng(&seed) % 300;
			uint64_t end = start + len < start ? UINT64_MAX : start + len;
			size_t lo = lower_bound(m, start), hi = lower_bound(m, end);
			assert_int_equal(radix_remove_range(t, start, end, NULL, NULL), hi - lo);
			for (size_t j = hi; j > lo; j--)
				model_del(m, j - 1);
		}
		assert_int_equal(radix_count(t), m->n);
		assert_int_equal(t->reservations, m->nres);
		assert_int_equal(kmem_cache_live(&f->cache), t->nodes);
		if (m->n > maxn)
			maxn = m->n;
		if (t->nodes > maxnodes)
			maxnodes = t->nodes;
		if (t->height > maxh)
			maxh = t->height;
		if (t->nodes == 0)
			empties++;
		if (t->nodes <= 16 || step % 64 == 0) {
			CHECK(t);
		}
		if (step % 4096 == 0)
			model_compare_all(t, m);
	}
	CHECK(t);
	model_compare_all(t, m);
	while (m->nres)
		assert_int_equal(radix_unreserve(t, m->res[--m->nres]), 0);
	assert_int_equal(radix_remove_range(t, 0, UINT64_MAX, NULL, NULL) + (radix_lookup(t, UINT64_MAX) ? 1 : 0),
			 m->n);
	radix_remove(t, UINT64_MAX);
	CHECK(t);
	assert_int_equal(t->nodes, 0);
	print_message("radix model: %d steps, max %llu values, max %llu nodes, max height %u, empty %u times\n",
		      STEPS, (unsigned long long)maxn, (unsigned long long)maxnodes, maxh, empties);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_boundaries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_height_grow_shrink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_next_holes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sparse_figures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reserve_sticky_failpoint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reserve_unreserve_frees, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enomem_sweep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_catches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_model, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
