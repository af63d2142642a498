/*
 * test_rbtree: the augmented red-black tree against a sorted-array model.
 * The summary kept is the subtree maximum of a per-node weight, the same
 * shape as the VMA tree's largest-gap summary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include <mmk/errno.h>
#include <mmk/rbtree.h>

struct item {
	struct rb_node node;
	uint64_t key, weight, max_weight;
};

static uint64_t max_of(const struct rb_node *n)
{
	return n ? rb_entry(n, struct item, node)->max_weight : 0;
}

static uint64_t compute(const struct rb_node *n)
{
	const struct item *it = rb_entry(n, struct item, node);
	uint64_t m = it->weight;
	if (max_of(n->left) > m)
		m = max_of(n->left);
	if (max_of(n->right) > m)
		m = max_of(n->right);
	return m;
}

static bool augment(struct rb_node *n)
{
	struct item *it = rb_entry(n, struct item, node);
	uint64_t m = compute(n);
	if (m == it->max_weight)
		return false;
	it->max_weight = m;
	return true;
}

static bool augment_ok(const struct rb_node *n)
{
	return rb_entry(n, struct item, node)->max_weight == compute(n);
}

static void insert(struct rb_tree *t, struct item *it)
{
	struct rb_node **link = &t->root, *parent = NULL;
	while (*link) {
		parent = *link;
		link = it->key < rb_entry(parent, struct item, node)->key ? &parent->left : &parent->right;
	}
	it->max_weight = it->weight;
	rb_insert(t, &it->node, parent, link);
}

static void check(struct rb_tree *t, struct item **model, size_t n)
{
	const char *why = NULL;
	int rc = rb_check(t, augment_ok, &why);
	if (rc)
		fail_msg("rb_check: %s", why);
	assert_int_equal(t->count, n);
	/* In-order walk equals the sorted model, both directions. */
	size_t i = 0;
	uint64_t maxw = 0;
	for (struct rb_node *p = rb_first(t); p; p = rb_next(p), i++) {
		assert_true(i < n);
		assert_ptr_equal(rb_entry(p, struct item, node), model[i]);
		if (model[i]->weight > maxw)
			maxw = model[i]->weight;
	}
	assert_int_equal(i, n);
	for (struct rb_node *p = rb_last(t); p; p = rb_prev(p))
		assert_ptr_equal(rb_entry(p, struct item, node), model[--i]);
	assert_int_equal(max_of(t->root), maxw);
}

static int by_key(const void *a, const void *b)
{
	const struct item *x = *(struct item *const *)a, *y = *(struct item *const *)b;
	return x->key < y->key ? -1 : x->key > y->key;
}

static void test_empty(void **state)
{
	(void)state;
	struct rb_tree t;
	rb_init(&t, augment);
	assert_null(rb_first(&t));
	assert_null(rb_last(&t));
	assert_int_equal(rb_check(&t, augment_ok, NULL), 0);
}

static void test_random_model(void **state)
{
	(void)state;
	enum { N = 2000, STEPS = 20000 };
	static struct item pool[N];
	struct item *model[N];
	size_t n = 0;
	struct rb_tree t;
	rb_init(&t, augment);
	srand(7);
	for (int step = 0; step < STEPS; step++) {
		if (n < N && (n == 0 || rand() % 3)) {
			/* Insert a fresh item with a unique key. */
			struct item *it = NULL;
			for (size_t k = 0; k < N; k++)
				if (pool[k].key == 0) {
					it = &pool[k];
					break;
				}
			it->key = ((uint64_t)rand() << 20 | (uint64_t)step) + 1;
			it->weight = (uint64_t)rand() % 100000;
			insert(&t, it);
			model[n++] = it;
			qsort(model, n, sizeof(model[0]), by_key);
		} else {
			size_t k = (size_t)rand() % n;
			struct item *it = model[k];
			rb_erase(&t, &it->node);
			it->key = 0;
			memmove(&model[k], &model[k + 1], (n - k - 1) * sizeof(model[0]));
			n--;
		}
		if (n && step % 7 == 0) {
			/* Change one weight in place and propagate. */
			struct item *it = model[(size_t)rand() % n];
			it->weight = (uint64_t)rand() % 200000;
			rb_propagate(&t, &it->node);
		}
		check(&t, model, n);
	}
}

static void test_check_catches_stale_summary(void **state)
{
	(void)state;
	struct item a = { .key = 1, .weight = 5 }, b = { .key = 2, .weight = 9 };
	struct rb_tree t;
	rb_init(&t, augment);
	insert(&t, &a);
	insert(&t, &b);
	assert_int_equal(rb_check(&t, augment_ok, NULL), 0);
	b.weight = 100; /* changed without rb_propagate */
	const char *why = NULL;
	assert_int_equal(rb_check(&t, augment_ok, &why), -22);
	assert_non_null(why);
}

static struct rb_node *copy_item(void *ctx, const struct rb_node *n)
{
	int *budget = ctx;
	if (*budget == 0)
		return NULL;
	(*budget)--;
	struct item *c = malloc(sizeof(*c));
	*c = *rb_entry(n, struct item, node);
	return &c->node;
}

static void drop_item(void *ctx, struct rb_node *n)
{
	int *budget = ctx;
	(*budget)++;
	free(rb_entry(n, struct item, node));
}

/* rb_clone copies shape, colours and summaries in O(n), and a failure
 * midway leaves the destination empty with every partial node dropped. */
static void test_clone(void **state)
{
	(void)state;
	enum { N = 1000 };
	static struct item pool[N];
	struct rb_tree t;
	rb_init(&t, augment);
	for (int i = 0; i < N; i++) {
		pool[i].key = (uint64_t)(i * 7919 % N) + 1;
		pool[i].weight = (uint64_t)(i * 31 % 977);
		insert(&t, &pool[i]);
	}
	for (int fail_at = 0; fail_at <= N; fail_at += 97) {
		int budget = fail_at;
		struct rb_tree c;
		rb_init(&c, augment);
		assert_int_equal(rb_clone(&c, &t, copy_item, drop_item, &budget), -MMK_ENOMEM);
		assert_null(c.root);
		assert_int_equal(budget, fail_at); /* every partial copy dropped */
	}
	int budget = N;
	struct rb_tree c;
	rb_init(&c, augment);
	assert_int_equal(rb_clone(&c, &t, copy_item, drop_item, &budget), 0);
	assert_int_equal(rb_check(&c, augment_ok, NULL), 0);
	assert_int_equal(c.count, N);
	struct rb_node *a = rb_first(&t), *b = rb_first(&c);
	for (; a && b; a = rb_next(a), b = rb_next(b)) {
		assert_int_equal(rb_entry(a, struct item, node)->key, rb_entry(b, struct item, node)->key);
		assert_int_equal(rb_entry(a, struct item, node)->max_weight, rb_entry(b, struct item, node)->max_weight);
	}
	assert_null(a);
	assert_null(b);
	while (c.root) {
		struct rb_node *n = c.root;
		rb_erase(&c, n);
		free(rb_entry(n, struct item, node));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_random_model),
		cmocka_unit_test(test_check_catches_stale_summary),
		cmocka_unit_test(test_clone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
