/*
 * test_btree: the range B-tree of src/lib (mmk/btree.h) against a reference
 * model (a sorted array of ranges): long random sequences of insert, remove,
 * lookup, first-after and in-place range changes, with btree_check and a
 * full comparison after every step; overlap refusals with nothing changed;
 * the allocation-failure sweep of inserts; leak baselines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include <mmk/btree.h>
#include <mmk/errno.h>

#include "kmem_fixture.h"

#define SPACE 20000u
#define MAXN 4096u

struct model {
	uint64_t start[MAXN], size[MAXN];
	uintptr_t val[MAXN];
	unsigned n;
};

static int model_find_overlap(const struct model *m, uint64_t s, uint64_t len)
{
	for (unsigned i = 0; i < m->n; i++)
		if (m->start[i] < s + len && s < m->start[i] + m->size[i])
			return (int)i;
	return -1;
}

static void model_insert(struct model *m, uint64_t s, uint64_t len, uintptr_t v)
{
	unsigned i = 0;
	while (i < m->n && m->start[i] < s)
		i++;
	memmove(&m->start[i + 1], &m->start[i], (m->n - i) * sizeof(m->start[0]));
	memmove(&m->size[i + 1], &m->size[i], (m->n - i) * sizeof(m->size[0]));
	memmove(&m->val[i + 1], &m->val[i], (m->n - i) * sizeof(m->val[0]));
	m->start[i] = s;
	m->size[i] = len;
	m->val[i] = v;
	m->n++;
}

static void model_remove(struct model *m, unsigned i)
{
	memmove(&m->start[i], &m->start[i + 1], (m->n - i - 1) * sizeof(m->start[0]));
	memmove(&m->size[i], &m->size[i + 1], (m->n - i - 1) * sizeof(m->size[0]));
	memmove(&m->val[i], &m->val[i + 1], (m->n - i - 1) * sizeof(m->val[0]));
	m->n--;
}

struct cmp_ctx {
	const struct model *m;
	unsigned i;
	bool ok;
};

static bool cmp_item(void *ctx, const struct btree_item *it)
{
	struct cmp_ctx *c = ctx;
	if (c->i >= c->m->n || it->start != c->m->start[c->i] || it->size != c->m->size[c->i] ||
	    (uintptr_t)it->val != c->m->val[c->i])
		c->ok = false;
	c->i++;
	return c->ok;
}

static void same(const struct btree *t, const struct model *m)
{
	const char *why = NULL;
	if (btree_check(t, &why))
		fail_msg("btree_check: %s", why);
	struct cmp_ctx c = { m, 0, true };
	btree_walk(t, cmp_item, &c);
	if (!c.ok || c.i != m->n || t->count != m->n)
		fail_msg("tree and model differ (%u walked, %u in model, count %llu)", c.i, m->n,
			 (unsigned long long)t->count);
}

static void probe(const struct btree *t, const struct model *m, uint64_t x)
{
	const struct btree_item *it = btree_lookup(t, x);
	int want = -1;
	for (unsigned i = 0; i < m->n; i++)
		if (m->start[i] <= x && x < m->start[i] + m->size[i])
			want = (int)i;
	if (want < 0)
		assert_null(it);
	else {
		assert_non_null(it);
		assert_int_equal(it->start, m->start[want]);
	}
	const struct btree_item *f = btree_first_after(t, x);
	want = -1;
	for (unsigned i = 0; i < m->n && want < 0; i++)
		if (m->start[i] + m->size[i] > x)
			want = (int)i;
	if (want < 0)
		assert_null(f);
	else {
		assert_non_null(f);
		assert_int_equal(f->start, m->start[want]);
	}
}

static void test_basic(void **state)
{
	(void)state;
	struct kfx fx;
	kfx_boot(&fx, 1);
	struct kmem_cache cache;
	assert_int_equal(btree_node_cache_init(&cache, &fx.s.phys), 0);
	struct btree t;
	btree_init(&t, &cache);
	assert_null(btree_lookup(&t, 0));
	assert_null(btree_first_after(&t, 0));
	assert_int_equal(btree_insert(&t, 10, 5, (void *)1), 0);
	assert_int_equal(btree_insert(&t, 0, 0, (void *)2), -MMK_EINVAL);
	assert_int_equal(btree_insert(&t, UINT64_MAX - 1, 3, (void *)2), -MMK_EINVAL);
	/* Every overlap is refused, touching is fine. */
	assert_int_equal(btree_insert(&t, 14, 1, (void *)2), -MMK_EEXIST);
	assert_int_equal(btree_insert(&t, 5, 6, (void *)2), -MMK_EEXIST);
	assert_int_equal(btree_insert(&t, 0, 100, (void *)2), -MMK_EEXIST);
	assert_int_equal(t.count, 1);
	assert_int_equal(btree_insert(&t, 15, 1, (void *)3), 0);
	assert_int_equal(btree_insert(&t, 5, 5, (void *)4), 0);
	assert_ptr_equal(btree_lookup(&t, 12)->val, (void *)1);
	assert_ptr_equal(btree_first_after(&t, 15)->val, (void *)3);
	assert_null(btree_first_after(&t, 16));
	/* In-place changes keep the place or are refused. */
	assert_int_equal(btree_set_range(&t, 10, 11, 4), 0);
	assert_int_equal(btree_set_range(&t, 11, 10, 2), 0);
	assert_int_equal(btree_set_range(&t, 10, 9, 2), -MMK_EEXIST);  /* meets [5, 10) */
	assert_int_equal(btree_set_range(&t, 10, 10, 6), -MMK_EEXIST); /* meets [15, 16) */
	assert_int_equal(btree_set_range(&t, 10, 30, 1), -MMK_EEXIST); /* would jump over 15 */
	assert_int_equal(btree_set_range(&t, 99, 1, 1), -MMK_ENOENT);
	assert_ptr_equal(btree_set_value(&t, 10, (void *)7), (void *)1);
	assert_null(btree_remove(&t, 11));
	assert_ptr_equal(btree_remove(&t, 10), (void *)7);
	const char *why = NULL;
	assert_int_equal(btree_check(&t, &why), 0);
	btree_destroy(&t);
	assert_int_equal(kmem_cache_destroy(&cache), 0);
	kfx_shutdown(&fx);
}

static void run_model(uint64_t seed, unsigned steps, uint64_t space, uint64_t maxlen)
{
	struct kfx fx;
	kfx_boot(&fx, 1);
	uint64_t free0 = kfx_free_frames(&fx);
	struct kmem_cache cache;
	assert_int_equal(btree_node_cache_init(&cache, &fx.s.phys), 0);
	struct btree t;
	btree_init(&t, &cache);
	static struct model m;
	memset(&m, 0, sizeof(m));
	uint64_t r = seed;
	for (unsigned step = 0; step < steps; step++) {
		unsigned op = (unsigned)(kfx_rand(&r) % 10);
		uint64_t s = kfx_rand(&r) % space, len = 1 + kfx_rand(&r) % maxlen;
		if (op < 5 && m.n < MAXN) {
			int rc = btree_insert(&t, s, len, (void *)(uintptr_t)(step + 1));
			int ov = model_find_overlap(&m, s, len);
			assert_int_equal(rc, ov >= 0 ? -MMK_EEXIST : 0);
			if (!rc)
				model_insert(&m, s, len, step + 1);
		} else if (op < 8 && m.n) {
			unsigned i = (unsigned)(kfx_rand(&r) % m.n);
			assert_int_equal((uintptr_t)btree_remove(&t, m.start[i]), m.val[i]);
			model_remove(&m, i);
			assert_null(btree_remove(&t, s + space)); /* absent: nothing changes */
		} else if (op == 8 && m.n) {
			/* Shrink or advance an item in place (what partial deallocation does). */
			unsigned i = (unsigned)(kfx_rand(&r) % m.n);
			uint64_t cut = kfx_rand(&r) % m.size[i];
			bool front = kfx_rand(&r) & 1;
			uint64_t ns = front ? m.start[i] + cut : m.start[i];
			uint64_t nl = m.size[i] - cut;
			assert_int_equal(btree_set_range(&t, m.start[i], ns, nl), 0);
			m.start[i] = ns;
			m.size[i] = nl;
		} else {
			probe(&t, &m, s);
		}
		same(&t, &m);
	}
	while (m.n) {
		assert_int_equal((uintptr_t)btree_remove(&t, m.start[m.n - 1]), m.val[m.n - 1]);
		m.n--;
		same(&t, &m);
	}
	assert_null(t.root);
	btree_destroy(&t);
	assert_int_equal(kmem_cache_live(&cache), 0);
	assert_int_equal(kmem_cache_destroy(&cache), 0);
	assert_int_equal(kfx_free_frames(&fx), free0);
	kfx_shutdown(&fx);
}

static void test_model_small(void **state)
{
	(void)state;
	run_model(0x1234567, 20000, 400, 4); /* dense: many overlaps, deep merges */
}

static void test_model_large(void **state)
{
	(void)state;
	run_model(0xfeedbeef, 30000, SPACE, 8); /* thousands of items: height 3-4 */
}

static void test_ascending_descending(void **state)
{
	(void)state;
	struct kfx fx;
	kfx_boot(&fx, 1);
	struct kmem_cache cache;
	assert_int_equal(btree_node_cache_init(&cache, &fx.s.phys), 0);
	struct btree t;
	btree_init(&t, &cache);
	for (uint64_t i = 0; i < 3000; i++)
		assert_int_equal(btree_insert(&t, i * 2, 1, (void *)(uintptr_t)(i + 1)), 0);
	const char *why = NULL;
	assert_int_equal(btree_check(&t, &why), 0);
	assert_true(t.height >= 3);
	for (uint64_t i = 3000; i-- > 0;) {
		assert_int_equal((uintptr_t)btree_remove(&t, i * 2), i + 1);
		if (i % 97 == 0)
			assert_int_equal(btree_check(&t, &why), 0);
	}
	assert_int_equal(t.count, 0);
	assert_int_equal(t.nodes, 0);
	btree_destroy(&t);
	assert_int_equal(kmem_cache_destroy(&cache), 0);
	kfx_shutdown(&fx);
}

/* Fail the k-th allocation of an insert, for every k: the insert returns
 * -MMK_ENOMEM and the tree is unchanged; with a preload, inserts never fail. */
static void test_failure_sweep(void **state)
{
	(void)state;
	struct kfx fx;
	kfx_boot(&fx, 1);
	struct kmem_cache cache;
	assert_int_equal(btree_node_cache_init(&cache, &fx.s.phys), 0);
	struct btree t;
	btree_init(&t, &cache);
	static struct model m;
	memset(&m, 0, sizeof(m));
	uint64_t r = 99;
	for (unsigned i = 0; i < 600; i++) {
		uint64_t s = (kfx_rand(&r) % 100000) * 3;
		if (model_find_overlap(&m, s, 2) >= 0)
			continue;
		for (uint64_t k = 1;; k++) {
			btree_drain(&t); /* empty the pool so the insert must allocate */
			kmem_cache_reap(&cache);
			mmk_failpoint_arm(&fx.s.failpoint, k, false);
			int rc = btree_insert(&t, s, 2, (void *)(uintptr_t)(i + 1));
			mmk_failpoint_arm(&fx.s.failpoint, 0, false);
			if (rc == 0)
				break;
			assert_int_equal(rc, -MMK_ENOMEM);
			same(&t, &m);
			assert_true(k < 64);
		}
		model_insert(&m, s, 2, i + 1);
		same(&t, &m);
	}
	/* Preloaded: k inserts succeed with every allocation failing. */
	assert_int_equal(btree_preload(&t, 50), 0);
	mmk_failpoint_arm(&fx.s.failpoint, 1, true);
	for (unsigned i = 0; i < 50; i++) {
		uint64_t s = 400000 + i * 7;
		assert_int_equal(btree_insert(&t, s, 3, (void *)1), 0);
		model_insert(&m, s, 3, 1);
	}
	mmk_failpoint_arm(&fx.s.failpoint, 0, false);
	same(&t, &m);
	btree_destroy(&t);
	assert_int_equal(kmem_cache_destroy(&cache), 0);
	kfx_shutdown(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_model_small),
		cmocka_unit_test(test_model_large),
		cmocka_unit_test(test_ascending_descending),
		cmocka_unit_test(test_failure_sweep),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
