/*
 * mmk/radix.h - sparse radix tree: uint64_t keys (page indexes) to non-NULL
 * void * values, for the page tables of vm_objects and amaps (page index ->
 * page or anon descriptor).
 *
 * Shape: nodes of RADIX_SLOTS = 64 slots; each level of the tree consumes 6
 * bits of the key, most significant level at the root.  The tree is only as
 * tall as its largest key needs (height h covers keys < 2^(6h); 11 levels
 * cover all 64 bits), and a node exists only where some key below it exists
 * (or is reserved), so a 512 MiB object (2^17 pages) with 3 pages touched
 * holds at most 7 nodes.  Each node keeps a 64-bit occupancy bitmap, so
 * radix_next skips empty slots with one count-trailing-zeros.
 *
 * Memory: nodes come from a kmem cache the caller provides (many trees may
 * share one); radix_node_cache_init makes a fitting one.  Values belong to
 * the caller: the tree never dereferences them.
 *
 * Validate, reserve, commit (DESIGN.md): radix_reserve(t, key) allocates the
 * nodes of key's path and pins them; until the matching radix_unreserve,
 * radix_insert(t, key, v) needs no allocation and cannot fail with ENOMEM.
 * A VM operation reserves before it changes anything, inserts at commit,
 * and unreserves after the insert or on abort.
 *
 * Locking: none; the owner of the tree serialises every call (the vm_object
 * or amap lock).  The node cache has its own locks.
 * Source: the radix tree of Linux (lib/radix-tree.c) and its successor, the
 * xarray (6-bit levels, occupancy marks, height grown and shrunk at the top);
 * Morrison's PATRICIA (JACM 1968) for the background on digital search
 * trees.  Theory, invariants and complexity: src/lib/radix.c.
 */
#ifndef MMK_LIB_RADIX_H
#define MMK_LIB_RADIX_H

#include <mmk/types.h>

struct kmem_cache;
struct phys;

#define RADIX_BITS 6u                        /* key bits per level */
#define RADIX_SLOTS (1u << RADIX_BITS)       /* 64 slots per node */
#define RADIX_MAX_HEIGHT 11u                 /* ceil(64 / 6) levels */

/*
 * One node.  Private to src/lib/radix.c; public only so callers can size a
 * cache of their own (sizeof(struct radix_node), alignment RADIX_NODE_ALIGN).
 * A node at shift s maps the key bits [s, s + 6); leaves have shift 0 and
 * hold values, other nodes hold child nodes.
 */
struct radix_node {
	uint64_t bitmap;   /* bit i set iff slots[i] != NULL */
	uint32_t reserved; /* leaves: outstanding radix_reserve calls ending here; else 0 */
	uint8_t shift;     /* 0, 6, ..., 60: key bits below this node's digit */
	uint8_t count;     /* occupied slots: popcount(bitmap), 0..64 */
	uint16_t pad;
	void *slots[RADIX_SLOTS];
};

#define RADIX_NODE_ALIGN 64u /* bytes: header and first slots share a cache line */

struct radix_tree {
	struct radix_node *root;  /* NULL iff no node */
	unsigned height;          /* levels; 0 iff root NULL; root->shift == 6 * (height - 1) */
	uint64_t count;           /* values stored */
	uint64_t nodes;           /* nodes held (allocated from cache) */
	uint64_t reservations;    /* outstanding radix_reserve calls */
	struct kmem_cache *cache; /* node source; not owned */
};

/*
 * Create a kmem cache for radix nodes in c, taking frames from ph
 * (kmem_cache_init: no magazines, zero-filled objects, nothing allocated
 * yet).  0 or -MMK_EINVAL (as kmem_cache_init).  The caller destroys it with
 * kmem_cache_destroy once every tree using it is destroyed.
 */
int radix_node_cache_init(struct kmem_cache *c, struct phys *ph);

/* An empty tree taking nodes from node_cache (which must outlive it).
 * Allocates nothing; cannot fail. */
void radix_init(struct radix_tree *t, struct kmem_cache *node_cache);

/*
 * Free every node; t is then empty (as after radix_init, same cache).
 * Values are the caller's and are not touched; outstanding reservations are
 * dropped.  O(nodes).
 */
void radix_destroy(struct radix_tree *t);

/* Values stored.  O(1). */
uint64_t radix_count(const struct radix_tree *t);

/*
 * Map key to value.  0; -MMK_EINVAL when value is NULL; -MMK_EEXIST when key
 * is present (the old value stays); -MMK_ENOMEM when a node cannot be had
 * (the cache's failpoint included).  On error nothing has changed.  Never
 * -MMK_ENOMEM while a reservation for key is outstanding (radix_reserve).
 * Takes at most 2 * RADIX_MAX_HEIGHT nodes, all before changing anything.
 * O(height) plus the new nodes.
 */
int radix_insert(struct radix_tree *t, uint64_t key, void *value);

/* The value at key, or NULL.  O(height), no allocation. */
void *radix_lookup(const struct radix_tree *t, uint64_t key);

/*
 * Present key: store value (non-NULL) and return the old value.  Absent key,
 * or value NULL: return NULL and change nothing.  Never allocates.
 * O(height).
 */
void *radix_replace(struct radix_tree *t, uint64_t key, void *value);

/*
 * Unmap key; returns its value, or NULL (nothing changed) when absent.
 * Frees the nodes left holding nothing (and no reservation) and lowers the
 * height while the root's only child is in slot 0.  Never allocates, never
 * fails.  O(height).
 */
void *radix_remove(struct radix_tree *t, uint64_t key);

/*
 * The first value whose key is >= from, its key in *key (key may be NULL),
 * or NULL (and *key untouched) when there is none.  Skips empty slots with
 * the occupancy bitmaps: O(height) when no reserved, value-less leaf lies
 * between from and the answer (each such leaf adds O(height)).
 *
 * Iteration over [start, end): for (v = radix_next(t, start, &k); v && k <
 * end; v = radix_next(t, k + 1, &k)) { ... } (k < end <= UINT64_MAX, so k + 1
 * cannot wrap); radix_remove(t, k) of the key just returned is allowed in
 * the body.  O(height) a step; radix_remove_range packages this loop.
 */
void *radix_next(const struct radix_tree *t, uint64_t from, uint64_t *key);

/*
 * Remove every value with key in [start, end), calling fn(arg, key, value)
 * for each (fn may be NULL; it must not touch t), in increasing key order.
 * Returns the number removed.  Never fails.  O((removed + 1) * height).
 */
uint64_t radix_remove_range(struct radix_tree *t, uint64_t start, uint64_t end,
			    void (*fn)(void *arg, uint64_t key, void *value), void *arg);

/*
 * Reserve key: allocate every node on key's path (growing the height if
 * need be) and pin the path, so that until the matching radix_unreserve a
 * radix_insert at key cannot fail for lack of memory, whatever else is
 * inserted or removed meanwhile.  Reservations are counted on the leaf
 * node (the aligned block of 64 keys holding key) and nest; key may be
 * present or absent.  0, or -MMK_ENOMEM with nothing changed.  O(height)
 * plus the new nodes (at most 2 * RADIX_MAX_HEIGHT).
 */
int radix_reserve(struct radix_tree *t, uint64_t key);

/*
 * Drop one reservation made by radix_reserve(t, key), after the insert it
 * guarded or on abort.  Frees the path's nodes left holding nothing and
 * shrinks the height, as radix_remove, so no separate prune is needed.
 * 0, or -MMK_ENOENT (nothing changed) when key's leaf holds no reservation.
 */
int radix_unreserve(struct radix_tree *t, uint64_t key);

/*
 * Re-derive the tree: every node's bitmap matches its non-NULL slots and
 * its count the bitmap's population; shifts drop by 6 a level, ending at 0
 * at the leaves, and root->shift matches the height; a top-level node
 * (shift 60) uses only slots 0..15; no node is empty unless it is a leaf
 * with a reservation (no empty internal node ever); reservations only on
 * leaves and summing to t->reservations; the height is minimal (a root
 * above the leaves has a child outside slot 0); values and nodes recounted
 * equal count and nodes; every value found by the walk is what
 * radix_lookup returns for its key.  0, or -MMK_EINVAL with *why (why may
 * be NULL).  O(nodes * 64 + count * height).
 */
int radix_check(const struct radix_tree *t, const char **why);

#endif
