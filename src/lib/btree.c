/*
 * lib/btree.c - a B-tree of non-overlapping ranges (mmk/btree.h).
 *
 * Theory.
 * 1. Shape (CLRS ch. 18, minimum degree t = BTREE_T): every node but the
 *    root holds t-1 .. 2t-1 items; an internal node with n items has n + 1
 *    children; all leaves are at depth `height`.  Items are ranges ordered by
 *    start; because they never overlap, their ends are ordered too, so "the
 *    item containing x" and "the first item ending after x" are both one
 *    descent.
 * 2. Insert splits every full node on its way down (so the parent of a split
 *    always has room): at most height + 1 new nodes.  They come from a pool
 *    filled beforehand (btree_preload), so the tree is never left half-split
 *    for want of memory: an insert first checks for an overlap, then makes
 *    sure the pool covers its path, and only then changes anything.
 * 3. Remove (CLRS 18.3) descends once, making sure every node it enters has
 *    at least t items (rotation from a sibling, or a merge), so it never has
 *    to come back up.  An item found in an internal node is replaced by its
 *    predecessor or successor, which is then removed from the leaf below.
 *    A root emptied by a merge is replaced by its only child.
 * 4. Invariants (btree_check): the ones above, plus count/nodes recounts.
 *
 * Source: Cormen, Leiserson, Rivest, Stein, "Introduction to Algorithms",
 * ch. 18; seed 001 (frame entries in a B-tree keyed by start and size).
 */
#include <mmk/btree.h>
#include <mmk/errno.h>

#include "lib/mem.h"

#define T BTREE_T
#define MAXK BTREE_MAX_KEYS

static uint64_t item_end(const struct btree_item *it) { return it->start + it->size; }

int btree_node_cache_init(struct kmem_cache *c, struct phys *ph)
{
	/* No magazines: freed nodes go straight back to their slabs, so a reap
	 * returns every frame no live node uses (leak baselines). */
	return kmem_cache_init(c, ph, "btree_node", sizeof(struct btree_node), 0);
}

void btree_init(struct btree *t, struct kmem_cache *cache)
{
	mmk_memset(t, 0, sizeof(*t));
	t->cache = cache;
}

/* ---- the spare pool ---- */

static bool pool_grow(struct btree *t)
{
	struct btree_node *n = kmem_cache_alloc(t->cache);
	if (!n)
		return false;
	n->child[0] = t->spare;
	t->spare = n;
	t->nspare++;
	return true;
}

static struct btree_node *node_take(struct btree *t, bool leaf)
{
	struct btree_node *n = t->spare; /* the caller made sure there is one */
	t->spare = n->child[0];
	t->nspare--;
	mmk_memset(n, 0, sizeof(*n));
	n->leaf = leaf;
	t->nodes++;
	return n;
}

static void node_give(struct btree *t, struct btree_node *n)
{
	t->nodes--;
	if (t->nspare < BTREE_SPARES_KEPT) {
		n->child[0] = t->spare;
		t->spare = n;
		t->nspare++;
		return;
	}
	kmem_cache_free(t->cache, n);
}

int btree_preload(struct btree *t, uint64_t inserts)
{
	/* Each insert may split its whole path and the root, and the height
	 * may grow by one per insert in the worst case. */
	uint64_t need = 0;
	for (uint64_t k = 0; k < inserts; k++)
		need += t->height + 2 + k;
	if (need > inserts * 64)
		need = inserts * 64; /* a height of 62 would need 2^62 items */
	while (t->nspare < need)
		if (!pool_grow(t))
			return -MMK_ENOMEM;
	return 0;
}

static void unload_to(struct btree *t, unsigned keep)
{
	while (t->nspare > keep) {
		struct btree_node *n = t->spare;
		t->spare = n->child[0];
		t->nspare--;
		kmem_cache_free(t->cache, n);
	}
}

void btree_unload(struct btree *t) { unload_to(t, BTREE_SPARES_KEPT); }

void btree_drain(struct btree *t) { unload_to(t, 0); }

static void free_subtree(struct btree *t, struct btree_node *n)
{
	if (!n->leaf)
		for (uint32_t i = 0; i <= n->nkeys; i++)
			free_subtree(t, n->child[i]);
	kmem_cache_free(t->cache, n);
}

void btree_destroy(struct btree *t)
{
	if (t->root)
		free_subtree(t, t->root);
	t->root = NULL;
	t->count = t->nodes = 0;
	t->height = 0;
	btree_drain(t);
}

/* ---- lookups ---- */

/* Number of items of n whose start is below key. */
static uint32_t rank(const struct btree_node *n, uint64_t key)
{
	uint32_t lo = 0, hi = n->nkeys;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (n->item[mid].start < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct btree_item *btree_lookup(const struct btree *t, uint64_t x)
{
	const struct btree_node *n = t->root;
	while (n) {
		uint32_t i = rank(n, x);
		if (i < n->nkeys && n->item[i].start == x)
			return &n->item[i];
		if (i > 0 && x < item_end(&n->item[i - 1]))
			return &n->item[i - 1];
		n = n->leaf ? NULL : n->child[i];
	}
	return NULL;
}

const struct btree_item *btree_first_after(const struct btree *t, uint64_t x)
{
	const struct btree_node *n = t->root;
	const struct btree_item *best = NULL;
	while (n) {
		/* First item whose end is above x (ends are ordered like starts). */
		uint32_t lo = 0, hi = n->nkeys;
		while (lo < hi) {
			uint32_t mid = (lo + hi) / 2;
			if (item_end(&n->item[mid]) <= x)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < n->nkeys)
			best = &n->item[lo];
		n = n->leaf ? NULL : n->child[lo];
	}
	return best;
}

/* The item starting exactly at start (mutable), or NULL. */
static struct btree_item *find_exact(struct btree *t, uint64_t start)
{
	struct btree_node *n = t->root;
	while (n) {
		uint32_t i = rank(n, start);
		if (i < n->nkeys && n->item[i].start == start)
			return &n->item[i];
		n = n->leaf ? NULL : n->child[i];
	}
	return NULL;
}

/* ---- insert ---- */

/* Split the full child i of x (x is not full). */
static void split_child(struct btree *t, struct btree_node *x, uint32_t i)
{
	struct btree_node *y = x->child[i];
	struct btree_node *z = node_take(t, y->leaf);
	z->nkeys = T - 1;
	mmk_memcpy(z->item, &y->item[T], (T - 1) * sizeof(z->item[0]));
	if (!y->leaf)
		mmk_memcpy(z->child, &y->child[T], T * sizeof(z->child[0]));
	y->nkeys = T - 1;
	mmk_memmove(&x->child[i + 2], &x->child[i + 1], (x->nkeys - i) * sizeof(x->child[0]));
	mmk_memmove(&x->item[i + 1], &x->item[i], (x->nkeys - i) * sizeof(x->item[0]));
	x->child[i + 1] = z;
	x->item[i] = y->item[T - 1];
	x->nkeys++;
}

static void insert_nonfull(struct btree *t, struct btree_node *x, const struct btree_item *it)
{
	while (!x->leaf) {
		uint32_t i = rank(x, it->start);
		if (x->child[i]->nkeys == MAXK) {
			split_child(t, x, i);
			if (it->start > x->item[i].start)
				i++;
		}
		x = x->child[i];
	}
	uint32_t i = rank(x, it->start);
	mmk_memmove(&x->item[i + 1], &x->item[i], (x->nkeys - i) * sizeof(x->item[0]));
	x->item[i] = *it;
	x->nkeys++;
}

int btree_insert(struct btree *t, uint64_t start, uint64_t size, void *val)
{
	if (size == 0 || start + size < start)
		return -MMK_EINVAL;
	const struct btree_item *f = btree_first_after(t, start);
	if (f && f->start < start + size)
		return -MMK_EEXIST;
	while (t->nspare < t->height + 1)
		if (!pool_grow(t))
			return -MMK_ENOMEM;
	struct btree_item it = { start, size, val };
	if (!t->root) {
		t->root = node_take(t, true);
		t->height = 1;
	} else if (t->root->nkeys == MAXK) {
		struct btree_node *s = node_take(t, false);
		s->child[0] = t->root;
		t->root = s;
		t->height++;
		split_child(t, s, 0);
	}
	insert_nonfull(t, t->root, &it);
	t->count++;
	return 0;
}

/* ---- remove ---- */

/* Merge child i+1 of x and item i into child i (both children hold T-1). */
static void merge(struct btree *t, struct btree_node *x, uint32_t i)
{
	struct btree_node *y = x->child[i], *z = x->child[i + 1];
	y->item[T - 1] = x->item[i];
	mmk_memcpy(&y->item[T], z->item, z->nkeys * sizeof(z->item[0]));
	if (!y->leaf)
		mmk_memcpy(&y->child[T], z->child, (z->nkeys + 1) * sizeof(z->child[0]));
	y->nkeys = 2 * T - 1;
	mmk_memmove(&x->item[i], &x->item[i + 1], (x->nkeys - i - 1) * sizeof(x->item[0]));
	mmk_memmove(&x->child[i + 1], &x->child[i + 2], (x->nkeys - i - 1) * sizeof(x->child[0]));
	x->nkeys--;
	node_give(t, z);
}

/* Move item i of x down into child i+1 and child i's last item up. */
static void rotate_right(struct btree_node *x, uint32_t i)
{
	struct btree_node *l = x->child[i], *r = x->child[i + 1];
	mmk_memmove(&r->item[1], &r->item[0], r->nkeys * sizeof(r->item[0]));
	if (!r->leaf)
		mmk_memmove(&r->child[1], &r->child[0], (r->nkeys + 1) * sizeof(r->child[0]));
	r->item[0] = x->item[i];
	if (!r->leaf)
		r->child[0] = l->child[l->nkeys];
	r->nkeys++;
	x->item[i] = l->item[l->nkeys - 1];
	l->nkeys--;
}

/* Move item i of x down into child i and child i+1's first item up. */
static void rotate_left(struct btree_node *x, uint32_t i)
{
	struct btree_node *l = x->child[i], *r = x->child[i + 1];
	l->item[l->nkeys] = x->item[i];
	if (!l->leaf)
		l->child[l->nkeys + 1] = r->child[0];
	l->nkeys++;
	x->item[i] = r->item[0];
	mmk_memmove(&r->item[0], &r->item[1], (r->nkeys - 1) * sizeof(r->item[0]));
	if (!r->leaf)
		mmk_memmove(&r->child[0], &r->child[1], r->nkeys * sizeof(r->child[0]));
	r->nkeys--;
}

static struct btree_item last_item(const struct btree_node *n)
{
	while (!n->leaf)
		n = n->child[n->nkeys];
	return n->item[n->nkeys - 1];
}

static struct btree_item first_item(const struct btree_node *n)
{
	while (!n->leaf)
		n = n->child[0];
	return n->item[0];
}

/* Make child i of x hold at least T items before descending into it;
 * returns the index of the child to descend into. */
static uint32_t fill_child(struct btree *t, struct btree_node *x, uint32_t i)
{
	if (x->child[i]->nkeys >= T)
		return i;
	if (i > 0 && x->child[i - 1]->nkeys >= T) {
		rotate_right(x, i - 1);
		return i;
	}
	if (i < x->nkeys && x->child[i + 1]->nkeys >= T) {
		rotate_left(x, i);
		return i;
	}
	if (i < x->nkeys) {
		merge(t, x, i);
		return i;
	}
	merge(t, x, i - 1);
	return i - 1;
}

static void remove_key(struct btree *t, uint64_t key)
{
	struct btree_node *x = t->root;
	for (;;) {
		uint32_t i = rank(x, key);
		bool here = i < x->nkeys && x->item[i].start == key;
		if (here && x->leaf) {
			mmk_memmove(&x->item[i], &x->item[i + 1], (x->nkeys - i - 1) * sizeof(x->item[0]));
			x->nkeys--;
			return;
		}
		if (here) {
			struct btree_node *y = x->child[i], *z = x->child[i + 1];
			if (y->nkeys >= T) {
				x->item[i] = last_item(y); /* the predecessor moves up ... */
				key = x->item[i].start;    /* ... and is removed below */
				x = y;
			} else if (z->nkeys >= T) {
				x->item[i] = first_item(z);
				key = x->item[i].start;
				x = z;
			} else {
				merge(t, x, i);
				x = y;
			}
			continue;
		}
		x = x->child[fill_child(t, x, i)];
	}
}

void *btree_remove(struct btree *t, uint64_t start)
{
	struct btree_item *it = find_exact(t, start);
	if (!it)
		return NULL;
	void *val = it->val;
	remove_key(t, start);
	t->count--;
	struct btree_node *r = t->root;
	if (r->nkeys == 0) {
		t->root = r->leaf ? NULL : r->child[0];
		t->height--;
		node_give(t, r);
	}
	return val;
}

/* ---- in-place changes ---- */

int btree_set_range(struct btree *t, uint64_t old_start, uint64_t new_start, uint64_t new_size)
{
	if (new_size == 0 || new_start + new_size < new_start)
		return -MMK_EINVAL;
	struct btree_item *self = find_exact(t, old_start);
	if (!self)
		return -MMK_ENOENT;
	/* The hull of the old and new ranges must meet no other item: then the
	 * item keeps its place among its neighbours. */
	uint64_t lo = old_start < new_start ? old_start : new_start;
	uint64_t hi = item_end(self) > new_start + new_size ? item_end(self) : new_start + new_size;
	const struct btree_item *f = btree_first_after(t, lo);
	if (f == self)
		f = btree_first_after(t, item_end(self));
	if (f && f != self && f->start < hi)
		return -MMK_EEXIST;
	self->start = new_start;
	self->size = new_size;
	return 0;
}

void *btree_set_value(struct btree *t, uint64_t start, void *val)
{
	struct btree_item *it = find_exact(t, start);
	if (!it)
		return NULL;
	void *old = it->val;
	it->val = val;
	return old;
}

static bool walk_node(const struct btree_node *n, bool (*fn)(void *, const struct btree_item *), void *ctx)
{
	for (uint32_t i = 0; i <= n->nkeys; i++) {
		if (!n->leaf && !walk_node(n->child[i], fn, ctx))
			return false;
		if (i < n->nkeys && !fn(ctx, &n->item[i]))
			return false;
	}
	return true;
}

void btree_walk(const struct btree *t, bool (*fn)(void *ctx, const struct btree_item *it), void *ctx)
{
	if (t->root)
		walk_node(t->root, fn, ctx);
}

/* ---- checker ---- */

struct check_state {
	const struct btree *t;
	uint64_t count, nodes;
	bool have_prev;
	uint64_t prev_end;
	const char *why;
};

static void check_node(struct check_state *s, const struct btree_node *n, unsigned depth)
{
	if (s->why)
		return;
	s->nodes++;
	if (n->nkeys > MAXK || (n != s->t->root && n->nkeys < T - 1) || n->nkeys == 0) {
		s->why = "btree: node fill out of bounds";
		return;
	}
	if (n->leaf != (depth == s->t->height)) {
		s->why = "btree: leaves not all at depth height (or leaf flag wrong)";
		return;
	}
	for (uint32_t i = 0; i <= n->nkeys && !s->why; i++) {
		if (!n->leaf) {
			if (!n->child[i]) {
				s->why = "btree: internal node with a missing child";
				return;
			}
			check_node(s, n->child[i], depth + 1);
		}
		if (i == n->nkeys || s->why)
			continue;
		const struct btree_item *it = &n->item[i];
		if (it->size == 0 || item_end(it) < it->start)
			s->why = "btree: empty or wrapping item";
		else if (s->have_prev && it->start < s->prev_end)
			s->why = "btree: items out of order or overlapping";
		s->have_prev = true;
		s->prev_end = item_end(it);
		s->count++;
	}
}

int btree_check(const struct btree *t, const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	struct check_state s = { t, 0, 0, false, 0, NULL };
	if (t->root)
		check_node(&s, t->root, 1);
	else if (t->height != 0)
		s.why = "btree: empty tree with a height";
	if (!s.why && s.count != t->count)
		s.why = "btree: count differs from the items";
	if (!s.why && s.nodes != t->nodes)
		s.why = "btree: nodes differs from the recount";
	unsigned spares = 0;
	for (const struct btree_node *n = t->spare; n && spares <= t->nspare; n = n->child[0])
		spares++;
	if (!s.why && spares != t->nspare)
		s.why = "btree: spare pool length differs from nspare";
	if (s.why) {
		*why = s.why;
		return -MMK_EINVAL;
	}
	return 0;
}
