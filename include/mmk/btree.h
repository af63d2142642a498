/*
 * mmk/btree.h - a B-tree of non-overlapping ranges (seed 001: "a container
 * contains a btree of frame entries keyed by their start index and size").
 *
 * Each item is a half-open range [start, start + size) of some integer space
 * (pages, frame numbers) with a value pointer; no two items overlap, and an
 * insert that would overlap is refused with -MMK_EEXIST.  Lookups find the
 * item containing a point or the first item ending after it, in
 * O(log n).  CLRS B-tree (minimum degree BTREE_T), top-down splits on insert
 * and top-down merges/rotations on remove, so one pass per operation.
 *
 * Memory: nodes come from a kmem cache (btree_node_cache_init), so their
 * allocation can fail cleanly.  Inserts draw on a per-tree pool of spare
 * nodes: btree_preload(t, k) fills it with enough nodes for k inserts, after
 * which those k inserts cannot fail for memory (validate, reserve, commit).
 * An insert without enough spares allocates what its path may need first
 * and fails with -MMK_ENOMEM before changing anything.  Removes never
 * allocate.  Values are the caller's: the tree never dereferences them.
 *
 * Locking: none; the owner's lock guards the tree.
 */
#ifndef MMK_BTREE_H
#define MMK_BTREE_H

#include <mmk/kmem.h>
#include <mmk/types.h>

#define BTREE_T 8u                        /* minimum degree */
#define BTREE_MAX_KEYS (2u * BTREE_T - 1u) /* 15 items per node */
#define BTREE_SPARES_KEPT 16u             /* spares kept across operations */

struct btree_item {
	uint64_t start, size; /* [start, start + size), size > 0 */
	void *val;
};

struct btree_node {
	uint32_t nkeys;
	bool leaf;
	struct btree_item item[BTREE_MAX_KEYS];
	struct btree_node *child[BTREE_MAX_KEYS + 1]; /* NULL in leaves; in the spare pool child[0] links */
};

struct btree {
	struct btree_node *root;  /* NULL when empty */
	struct kmem_cache *cache; /* where nodes come from */
	uint64_t count;           /* items */
	uint64_t nodes;           /* nodes in the tree (spares not counted) */
	unsigned height;          /* levels: 0 empty, 1 a lone leaf root */
	struct btree_node *spare; /* pool of preloaded nodes */
	unsigned nspare;
};

/* A kmem cache of struct btree_node on ph (no magazines).  0 or the
 * error of kmem_cache_init. */
int btree_node_cache_init(struct kmem_cache *c, struct phys *ph);

/* An empty tree drawing nodes from cache. */
void btree_init(struct btree *t, struct kmem_cache *cache);

/* Free every node and spare (values untouched); t is empty afterwards. */
void btree_destroy(struct btree *t);

/*
 * Make sure the pool holds enough nodes for `inserts` inserts (each may
 * split every node on its path and the root: height + 2 nodes, counted with
 * the height growing).  0, or -MMK_ENOMEM with the pool as large as could be
 * had (the tree itself unchanged).
 */
int btree_preload(struct btree *t, uint64_t inserts);

/* Trim the pool back to BTREE_SPARES_KEPT nodes; btree_drain empties it
 * (memory pressure, leak baselines). */
void btree_unload(struct btree *t);
void btree_drain(struct btree *t);

/*
 * Insert [start, start + size) -> val.  0; -MMK_EINVAL for size 0 or a
 * range that wraps; -MMK_EEXIST when it overlaps an item; -MMK_ENOMEM when
 * the nodes its path may need cannot be had.  Nothing changes on error.
 */
int btree_insert(struct btree *t, uint64_t start, uint64_t size, void *val);

/* Remove the item starting exactly at start; its value, or NULL (nothing
 * changed) when there is none.  Never allocates. */
void *btree_remove(struct btree *t, uint64_t start);

/* The item containing x (start <= x < start + size), or NULL. */
const struct btree_item *btree_lookup(const struct btree *t, uint64_t x);

/* The first item that ends after x (it contains x or lies above it), or
 * NULL.  Walk a tree in order with it: x = item->start + item->size. */
const struct btree_item *btree_first_after(const struct btree *t, uint64_t x);

/*
 * Change the range of the item starting at old_start in place (its value
 * stays).  Allowed only when the new range keeps the item's place: it must
 * not overlap the neighbours.  0; -MMK_ENOENT (no such item); -MMK_EEXIST
 * (would overlap or reorder); -MMK_EINVAL (size 0, wraps).
 */
int btree_set_range(struct btree *t, uint64_t old_start, uint64_t new_start, uint64_t new_size);

/* Replace the value of the item starting at start; the old one, or NULL. */
void *btree_set_value(struct btree *t, uint64_t start, void *val);

/* Call fn on every item in order; stops early when fn returns false. */
void btree_walk(const struct btree *t, bool (*fn)(void *ctx, const struct btree_item *it), void *ctx);

/*
 * Re-derive: node fill between BTREE_T - 1 and BTREE_MAX_KEYS (root: >= 1),
 * every leaf at depth height, leaf flags match children, items ordered,
 * non-empty, not wrapping and non-overlapping across the whole tree, count
 * and nodes equal the recount, pool length equals nspare.  0 or -MMK_EINVAL
 * with *why.
 */
int btree_check(const struct btree *t, const char **why);

#endif
