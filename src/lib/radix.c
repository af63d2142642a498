/*
 * lib/radix.c - sparse radix tree of page indexes (API in mmk/radix.h).
 *
 * 1. What.  A map from uint64_t keys to non-NULL void * values, built for the
 *    VM layer: a vm_object or an amap maps page index -> page or anon.  Keys
 *    are mostly small and clustered (pages of one object), sometimes huge
 *    (an object at a high offset); sets are sparse (a 512 MiB reservation
 *    with 3 pages touched).  Lookup must be a few loads; space must follow
 *    the keys present, not the range spanned.
 *
 * 2. Structures.  A node has 64 slots; a node at shift s uses the key's
 *    digit (key >> s) & 63.  Leaves (shift 0) hold values, other nodes hold
 *    child nodes.  The root's shift is 6 * (height - 1): a tree of height h
 *    holds keys < 2^(6h) (h = 11 holds all 64 bits; its root uses only
 *    digits 0..15).  No path compression: a node exists at every level on
 *    the way to a key, as in Linux's radix tree and xarray, which keeps
 *    lookup a fixed, branch-light descent.  Each node keeps:
 *      - bitmap: bit i set iff slots[i] != NULL (so "next occupied slot at
 *        or after i" is one ctz of bitmap >> i, whatever the holes);
 *      - count: popcount(bitmap), so emptiness needs no popcount;
 *      - reserved (leaves only): outstanding radix_reserve calls whose path
 *        ends in this leaf.
 *    The tree keeps root, height, and counts of values, nodes and
 *    reservations.  No parent pointers: operations that climb (remove,
 *    next) keep the path on the stack, at most RADIX_MAX_HEIGHT entries.
 *
 * 3. Invariants (radix_check re-derives each).
 *    I1 bitmap bit i is set iff slots[i] != NULL; count == popcount(bitmap).
 *    I2 a child's shift is its parent's minus 6; leaves have shift 0;
 *       root->shift == 6 * (height - 1); root == NULL iff height == 0.
 *    I3 no dead node: every internal node has a child; every leaf has a
 *       value or reserved > 0.  (So an internal node whose subtree holds no
 *       value exists only above a reserved leaf.)
 *    I4 minimal height: a root above the leaves has a child in some slot
 *       other than 0 (else its slot-0 child could be the root).  Reserved
 *       paths keep this too: a reservation pins nodes, not the height.
 *    I5 reserved != 0 only on leaves; the sum over leaves == reservations.
 *    I6 values and nodes found by a walk == count and nodes.
 *    I7 the value found at slot path d_{h-1}..d_0 is what radix_lookup
 *       returns for the key with those digits.
 *
 * 4. Operations and complexity (h = height <= 11; typical objects: h <= 3).
 *    lookup: h loads.  replace: lookup and a store.
 *    insert / reserve (validate, reserve, commit): look for the key (insert:
 *       EEXIST before anything else); count the nodes missing on the path:
 *       with height growth (need > h), (need - h) new roots stacked over
 *       the old root through slot 0, plus (need - 1) nodes below the new
 *       top root (the key's top digit is non-zero, so its path leaves the
 *       slot-0 chain at once); else the levels below the deepest existing
 *       node.  Allocate them all (ENOMEM: free them, nothing changed), then
 *       link them, which cannot fail.  O(h) plus the new nodes.
 *    remove / unreserve: descend recording the path, clear the slot (or
 *       drop the reservation), free nodes from the leaf up while they are
 *       dead (I3), then shrink: while the root is internal and its only
 *       child is slot 0, free it and make the child the root (I4).  O(h).
 *    next: descend along from's digits; in each node take the first set bit
 *       at or after the digit (ctz); a node with none is exhausted: climb
 *       and continue past its range.  O(h), plus O(h) for each reserved
 *       value-less leaf skipped.  remove_range = next + remove, O(h) each.
 *    destroy: post-order walk, O(nodes).  check: O(nodes * 64 + count * h).
 *    Space: at most h nodes per value, shared by values in one aligned
 *    block: n clustered pages take about n/64 leaves and a few internal
 *    nodes; 3 scattered pages in a 2^17-page object take at most 7 nodes.
 *
 * 5. Reservations.  radix_reserve makes the whole path and bumps the leaf's
 *    reserved count; I3 then keeps the leaf, and through it every ancestor,
 *    alive whatever is removed meanwhile, and shrinking only drops roots
 *    whose single child is slot 0 (so key's leaf stays reachable at a
 *    smaller height).  Hence radix_insert at key finds every node present
 *    and allocates nothing.  radix_unreserve drops the count and cleans up
 *    as remove does, so empty nodes never linger and no prune pass exists.
 *    Reservations count per leaf (64 keys), not per key: a caller
 *    unreserves with the key it reserved.
 *
 * 6. Locking and memory.  None inside: the owner serialises every call.
 *    Nodes come from the caller's kmem cache (its failpoint is the only
 *    allocation point); each new node is zero-filled here, so any cache
 *    will do.  No static mutable state; freestanding.
 *
 * 7. Sources.  Linux lib/radix-tree.c and lib/xarray.c (6-bit levels, tag
 *    bitmaps, grow and shrink at the top, preloading nodes before taking a
 *    lock: our radix_reserve plays radix_tree_preload's role, per key);
 *    D. R. Morrison, "PATRICIA", JACM 15(4), 1968, and Knuth TAOCP vol. 3,
 *    6.3 (digital searching) for the background.  Written from those
 *    descriptions, no code taken.
 */
#include <mmk/radix.h>
#include <mmk/errno.h>
#include <mmk/kmem.h>

#include "lib/mem.h"

#define SLOT_MASK ((uint64_t)RADIX_SLOTS - 1)
/* Nodes an insert or reserve may need: growth plus a full path below. */
#define MAX_NEW_NODES (2u * RADIX_MAX_HEIGHT)

int radix_node_cache_init(struct kmem_cache *c, struct phys *ph)
{
	return kmem_cache_init(c, ph, "radix_node", sizeof(struct radix_node), RADIX_NODE_ALIGN);
}

/* ---- small helpers ---- */

/* Largest key a tree of height h (1..11) holds. */
static uint64_t max_key(unsigned h)
{
	if (h >= RADIX_MAX_HEIGHT)
		return UINT64_MAX;
	return ((uint64_t)1 << (RADIX_BITS * h)) - 1;
}

/* Smallest height that holds key (1..11). */
static unsigned height_for(uint64_t key)
{
	unsigned h = 1;
	while (h < RADIX_MAX_HEIGHT && key > max_key(h))
		h++;
	return h;
}

static unsigned digit(uint64_t key, unsigned shift) { return (unsigned)((key >> shift) & SLOT_MASK); }

/* Mask of the key bits above a node at shift (its prefix); 0 at the top. */
static uint64_t prefix_mask(unsigned shift)
{
	unsigned top = shift + RADIX_BITS;
	return top >= 64 ? 0 : ~(uint64_t)0 << top;
}

static unsigned first_bit(uint64_t m) { return (unsigned)__builtin_ctzll(m); }

static void set_slot(struct radix_node *n, unsigned i, void *p)
{
	n->slots[i] = p;
	n->bitmap |= (uint64_t)1 << i;
	n->count++;
}

static void clear_slot(struct radix_node *n, unsigned i)
{
	n->slots[i] = NULL;
	n->bitmap &= ~((uint64_t)1 << i);
	n->count--;
}

static bool node_dead(const struct radix_node *n) { return n->bitmap == 0 && n->reserved == 0; }

static void node_free(struct radix_tree *t, struct radix_node *n)
{
	(void)kmem_cache_free(t->cache, n);
	t->nodes--;
}

/* A zeroed node at shift, taken from pool (filled by ensure_path). */
static struct radix_node *pool_take(struct radix_node **pool, unsigned *npool, unsigned shift)
{
	struct radix_node *n = pool[--*npool];
	n->shift = (uint8_t)shift;
	return n;
}

/*
 * Descend toward key; path[0] = root, ..., path[depth - 1] the deepest node
 * present on key's path; digits[i] = key's digit in path[i].  Returns depth
 * (0 for an empty tree or a key above max_key(height)).
 */
static unsigned walk(const struct radix_tree *t, uint64_t key, struct radix_node **path, unsigned *digits)
{
	if (!t->root || key > max_key(t->height))
		return 0;
	unsigned depth = 0;
	struct radix_node *n = t->root;
	for (;;) {
		unsigned d = digit(key, n->shift);
		path[depth] = n;
		digits[depth] = d;
		depth++;
		if (n->shift == 0 || !n->slots[d])
			return depth;
		n = n->slots[d];
	}
}

/* Lower the height while the root is internal with slot 0 its only child. */
static void shrink(struct radix_tree *t)
{
	while (t->root && t->root->shift > 0 && t->root->bitmap == 1) {
		struct radix_node *old = t->root;
		t->root = old->slots[0];
		t->height--;
		node_free(t, old);
	}
}

/* Free dead nodes from path[depth - 1] upward, then shrink. */
static void cleanup(struct radix_tree *t, struct radix_node **path, const unsigned *digits, unsigned depth)
{
	while (depth > 0 && node_dead(path[depth - 1])) {
		node_free(t, path[depth - 1]);
		depth--;
		if (depth > 0) {
			clear_slot(path[depth - 1], digits[depth - 1]);
		} else {
			t->root = NULL;
			t->height = 0;
		}
	}
	shrink(t);
}

/*
 * Make every node on key's path exist, growing the height as needed, and
 * return the leaf in *leafp.  All nodes are allocated before the tree is
 * touched: 0, or -MMK_ENOMEM with nothing changed.
 */
static int ensure_path(struct radix_tree *t, uint64_t key, struct radix_node **leafp)
{
	unsigned need = height_for(key), h = t->height, nalloc;
	if (h == 0) {
		nalloc = need;
	} else if (need > h) {
		nalloc = (need - h) + (need - 1);
	} else {
		struct radix_node *path[RADIX_MAX_HEIGHT];
		unsigned digits[RADIX_MAX_HEIGHT];
		unsigned depth = walk(t, key, path, digits);
		nalloc = path[depth - 1]->shift / RADIX_BITS; /* levels missing below */
	}

	/* Reserve. */
	struct radix_node *pool[MAX_NEW_NODES];
	unsigned npool = 0;
	while (npool < nalloc) {
		struct radix_node *n = kmem_cache_alloc(t->cache);
		if (!n) {
			while (npool > 0)
				(void)kmem_cache_free(t->cache, pool[--npool]);
			return -MMK_ENOMEM;
		}
		mmk_memset(n, 0, sizeof(*n));
		pool[npool++] = n;
	}
	t->nodes += nalloc;

	/* Commit: cannot fail. */
	if (h == 0) {
		t->root = pool_take(pool, &npool, RADIX_BITS * (need - 1));
		t->height = need;
	}
	while (t->height < need) {
		struct radix_node *top = pool_take(pool, &npool, t->root->shift + RADIX_BITS);
		set_slot(top, 0, t->root);
		t->root = top;
		t->height++;
	}
	struct radix_node *n = t->root;
	while (n->shift > 0) {
		unsigned d = digit(key, n->shift);
		if (!n->slots[d])
			set_slot(n, d, pool_take(pool, &npool, n->shift - RADIX_BITS));
		n = n->slots[d];
	}
	*leafp = n;
	return 0;
}

/* ---- the API ---- */

void radix_init(struct radix_tree *t, struct kmem_cache *node_cache)
{
	t->root = NULL;
	t->height = 0;
	t->count = 0;
	t->nodes = 0;
	t->reservations = 0;
	t->cache = node_cache;
}

static void free_subtree(struct radix_tree *t, struct radix_node *n)
{
	if (n->shift > 0) {
		for (uint64_t m = n->bitmap; m; m &= m - 1)
			free_subtree(t, n->slots[first_bit(m)]);
	}
	node_free(t, n);
}

void radix_destroy(struct radix_tree *t)
{
	if (t->root)
		free_subtree(t, t->root);
	radix_init(t, t->cache);
}

uint64_t radix_count(const struct radix_tree *t) { return t->count; }

void *radix_lookup(const struct radix_tree *t, uint64_t key)
{
	if (!t->root || key > max_key(t->height))
		return NULL;
	const struct radix_node *n = t->root;
	for (;;) {
		void *p = n->slots[digit(key, n->shift)];
		if (n->shift == 0 || !p)
			return p;
		n = p;
	}
}

int radix_insert(struct radix_tree *t, uint64_t key, void *value)
{
	if (!value)
		return -MMK_EINVAL;
	if (radix_lookup(t, key))
		return -MMK_EEXIST;
	struct radix_node *leaf;
	int rc = ensure_path(t, key, &leaf);
	if (rc)
		return rc;
	set_slot(leaf, digit(key, 0), value);
	t->count++;
	return 0;
}

void *radix_replace(struct radix_tree *t, uint64_t key, void *value)
{
	struct radix_node *path[RADIX_MAX_HEIGHT];
	unsigned digits[RADIX_MAX_HEIGHT];
	unsigned depth = walk(t, key, path, digits);
	if (!value || depth == 0)
		return NULL;
	struct radix_node *leaf = path[depth - 1];
	unsigned d = digits[depth - 1];
	if (leaf->shift != 0 || !leaf->slots[d])
		return NULL;
	void *old = leaf->slots[d];
	leaf->slots[d] = value;
	return old;
}

void *radix_remove(struct radix_tree *t, uint64_t key)
{
	struct radix_node *path[RADIX_MAX_HEIGHT];
	unsigned digits[RADIX_MAX_HEIGHT];
	unsigned depth = walk(t, key, path, digits);
	if (depth == 0)
		return NULL;
	struct radix_node *leaf = path[depth - 1];
	unsigned d = digits[depth - 1];
	if (leaf->shift != 0 || !leaf->slots[d])
		return NULL;
	void *old = leaf->slots[d];
	clear_slot(leaf, d);
	t->count--;
	cleanup(t, path, digits, depth);
	return old;
}

void *radix_next(const struct radix_tree *t, uint64_t from, uint64_t *key)
{
	if (!t->root || from > max_key(t->height))
		return NULL;
	const struct radix_node *stack[RADIX_MAX_HEIGHT];
	unsigned depth = 0;
	const struct radix_node *n = t->root;
	uint64_t k = from; /* the answer is >= k; k lies in n's key range */
	for (;;) {
		unsigned d = digit(k, n->shift);
		uint64_t m = n->bitmap & (~(uint64_t)0 << d);
		if (m) {
			unsigned i = first_bit(m);
			if (i != d) /* skipped empty slots: start of slot i's range */
				k = (k & prefix_mask(n->shift)) | ((uint64_t)i << n->shift);
			if (n->shift == 0) {
				if (key)
					*key = k;
				return n->slots[i];
			}
			stack[depth++] = n;
			n = n->slots[i];
			continue;
		}
		/* n holds nothing at or after k (only a reserved, value-less leaf
		 * can make this happen below the root): continue just past n's
		 * range in its parent, climbing further while that runs off the
		 * parent's range too. */
		for (;;) {
			if (depth == 0)
				return NULL;
			uint64_t low = ((uint64_t)1 << (n->shift + RADIX_BITS)) - 1; /* n is no root: shift <= 54 */
			if ((k | low) == UINT64_MAX)
				return NULL;
			uint64_t nk = (k | low) + 1;
			const struct radix_node *p = stack[--depth];
			unsigned ptop = p->shift + RADIX_BITS;
			n = p;
			if (ptop >= 64 || (nk >> ptop) == (k >> ptop)) {
				k = nk;
				break;
			}
		}
	}
}

uint64_t radix_remove_range(struct radix_tree *t, uint64_t start, uint64_t end,
			    void (*fn)(void *arg, uint64_t key, void *value), void *arg)
{
	uint64_t removed = 0, k, from = start;
	void *v;
	if (start >= end)
		return 0;
	/* k < end <= UINT64_MAX, so k + 1 cannot wrap. */
	while ((v = radix_next(t, from, &k)) != NULL && k < end) {
		radix_remove(t, k);
		if (fn)
			fn(arg, k, v);
		removed++;
		from = k + 1;
	}
	return removed;
}

int radix_reserve(struct radix_tree *t, uint64_t key)
{
	struct radix_node *leaf;
	int rc = ensure_path(t, key, &leaf);
	if (rc)
		return rc;
	leaf->reserved++;
	t->reservations++;
	return 0;
}

int radix_unreserve(struct radix_tree *t, uint64_t key)
{
	struct radix_node *path[RADIX_MAX_HEIGHT];
	unsigned digits[RADIX_MAX_HEIGHT];
	unsigned depth = walk(t, key, path, digits);
	if (depth == 0 || path[depth - 1]->shift != 0 || path[depth - 1]->reserved == 0)
		return -MMK_ENOENT;
	path[depth - 1]->reserved--;
	t->reservations--;
	cleanup(t, path, digits, depth);
	return 0;
}

/* ---- the checker ---- */

struct check_state {
	const struct radix_tree *t;
	uint64_t values, nodes, reserved;
	const char *why;
};

static bool check_node(struct check_state *cs, const struct radix_node *n, unsigned shift, uint64_t prefix)
{
	if (++cs->nodes > cs->t->nodes) {
		cs->why = "radix: more nodes reachable than counted";
		return false;
	}
	if (n->shift != shift) {
		cs->why = "radix: node shift is not its parent's minus 6";
		return false;
	}
	uint64_t bits = 0;
	unsigned used = 0;
	for (unsigned i = 0; i < RADIX_SLOTS; i++) {
		if (n->slots[i]) {
			bits |= (uint64_t)1 << i;
			used++;
		}
	}
	if (bits != n->bitmap) {
		cs->why = "radix: bitmap differs from the occupied slots";
		return false;
	}
	if (used != n->count) {
		cs->why = "radix: count differs from the occupied slots";
		return false;
	}
	/* At shift 60 only 4 key bits remain: digits 0..15. */
	if (shift + RADIX_BITS > 64 && (bits >> (1u << (64 - shift))) != 0) {
		cs->why = "radix: top-level node uses a slot beyond the key's 64 bits";
		return false;
	}
	if (shift > 0 && n->reserved != 0) {
		cs->why = "radix: reservation on an internal node";
		return false;
	}
	if (node_dead(n)) {
		cs->why = shift > 0 ? "radix: empty internal node" : "radix: empty leaf without a reservation";
		return false;
	}
	cs->reserved += n->reserved;
	for (uint64_t m = bits; m; m &= m - 1) {
		unsigned i = first_bit(m);
		uint64_t key = prefix | ((uint64_t)i << shift);
		if (shift > 0) {
			if (!check_node(cs, n->slots[i], shift - RADIX_BITS, key))
				return false;
			continue;
		}
		cs->values++;
		if (radix_lookup(cs->t, key) != n->slots[i]) {
			cs->why = "radix: a value is not what lookup finds at its key";
			return false;
		}
	}
	return true;
}

int radix_check(const struct radix_tree *t, const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	if (!t->cache) {
		*why = "radix: no node cache";
		return -MMK_EINVAL;
	}
	if (!t->root) {
		if (t->height != 0 || t->count != 0 || t->nodes != 0 || t->reservations != 0) {
			*why = "radix: empty tree with non-zero height or counts";
			return -MMK_EINVAL;
		}
		return 0;
	}
	if (t->height == 0 || t->height > RADIX_MAX_HEIGHT) {
		*why = "radix: height out of range";
		return -MMK_EINVAL;
	}
	if (t->root->shift > 0 && t->root->bitmap == 1) {
		*why = "radix: height not minimal (root's only child is slot 0)";
		return -MMK_EINVAL;
	}
	struct check_state cs = {.t = t};
	if (!check_node(&cs, t->root, RADIX_BITS * (t->height - 1), 0)) {
		*why = cs.why;
		return -MMK_EINVAL;
	}
	if (cs.values != t->count) {
		*why = "radix: value count differs from recount";
		return -MMK_EINVAL;
	}
	if (cs.nodes != t->nodes) {
		*why = "radix: node count differs from recount";
		return -MMK_EINVAL;
	}
	if (cs.reserved != t->reservations) {
		*why = "radix: reservation count differs from the leaves' sum";
		return -MMK_EINVAL;
	}
	return 0;
}
