/*
 * mmk/rbtree.h - intrusive, augmented red-black tree.
 *
 * The caller embeds struct rb_node in its own structure, finds the insertion
 * point with its own key comparison (so no comparison callback on the hot
 * path), and links the node; the tree rebalances.  An optional augment
 * callback keeps per-subtree summaries (mmk's VMA tree keeps the largest
 * free gap of each subtree, so first-fit placement is O(log n)).
 *
 * Augment contract: augment(n) recomputes n's summary from n itself and its
 * two children's summaries and returns true if the summary changed.  The tree
 * calls it on every node whose children changed; a caller who changes the
 * data a summary depends on calls rb_propagate(tree, n).
 *
 * Locking: none; the owner of the tree serialises access.
 * Source: CLRS ch. 13 for the rebalancing; the augmentation scheme is the
 * interval-tree augmentation of CLRS ch. 14.
 */
#ifndef MMK_LIB_RBTREE_H
#define MMK_LIB_RBTREE_H

#include <mmk/types.h>

struct rb_node {
	uintptr_t parent_color; /* parent pointer | 1 when black */
	struct rb_node *left, *right;
};

typedef bool (*rb_augment_fn)(struct rb_node *n);

struct rb_tree {
	struct rb_node *root;
	rb_augment_fn augment; /* may be NULL */
	size_t count;          /* nodes in the tree */
};

static inline struct rb_node *rb_parent(const struct rb_node *n)
{
	return (struct rb_node *)(n->parent_color & ~(uintptr_t)1);
}

/* Container of an embedded node. */
#define rb_entry(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

void rb_init(struct rb_tree *t, rb_augment_fn augment);

/*
 * Link node as the child of parent at *link (parent->left, parent->right, or
 * &t->root when parent is NULL), as found by the caller's descent, then
 * rebalance.  O(log n).
 */
void rb_insert(struct rb_tree *t, struct rb_node *node, struct rb_node *parent, struct rb_node **link);

/* Unlink node and rebalance.  O(log n). */
void rb_erase(struct rb_tree *t, struct rb_node *node);

/* Recompute summaries from n up to the root, stopping early once one does
 * not change. */
void rb_propagate(struct rb_tree *t, struct rb_node *n);

/* In-order neighbours and ends; NULL at the ends.  O(log n) worst, O(1)
 * amortised over a walk. */
struct rb_node *rb_first(const struct rb_tree *t);
struct rb_node *rb_last(const struct rb_tree *t);
struct rb_node *rb_next(const struct rb_node *n);
struct rb_node *rb_prev(const struct rb_node *n);

/*
 * Copy src into the empty tree dst in O(n): same shape, same colours, so
 * no rebalancing (fork's copy of a VMA tree).  copy(ctx, n) returns a new
 * node for n with its payload (summaries included) filled in, or NULL;
 * then every node copied so far is passed to drop(ctx, node), dst stays
 * empty and the result is -MMK_ENOMEM.  Recursion depth is the tree's
 * height (O(log n)).
 */
int rb_clone(struct rb_tree *dst, const struct rb_tree *src, struct rb_node *(*copy)(void *ctx, const struct rb_node *n),
	     void (*drop)(void *ctx, struct rb_node *n), void *ctx);

/*
 * Check red-black properties, parent links, the node count and (with
 * augment_ok non-NULL) that augment_ok(n) holds for every node.  0, or
 * -MMK_EINVAL with *why.
 */
int rb_check(const struct rb_tree *t, bool (*augment_ok)(const struct rb_node *n), const char **why);

#endif
