/*
 * lib/rbtree.c - intrusive augmented red-black tree (theory in rbtree.h).
 *
 * Invariants (rb_check tests them):
 *  1. the root is black; a red node has no red child;
 *  2. every path from a node to a leaf has the same number of black nodes;
 *  3. each child's parent link points at its parent; count equals the nodes;
 *  4. every summary equals what augment would compute (caller-supplied test).
 *
 * Summaries: insert and erase first fix the summaries along the changed path
 * to the root, then rebalance.  A rotation keeps the set of nodes under the
 * rotated pair, so summaries above it stay right; rotate() recomputes only
 * the two rotated nodes, lower one first.
 */
#include <mmk/rbtree.h>
#include <mmk/errno.h>

#define RB_BLACK ((uintptr_t)1)

static bool is_red(const struct rb_node *n) { return n && !(n->parent_color & RB_BLACK); }
static bool is_black(const struct rb_node *n) { return !is_red(n); }
static void set_black(struct rb_node *n) { n->parent_color |= RB_BLACK; }
static void set_red(struct rb_node *n) { n->parent_color &= ~RB_BLACK; }

static void set_parent(struct rb_node *n, struct rb_node *p)
{
	n->parent_color = (uintptr_t)p | (n->parent_color & RB_BLACK);
}

static void set_color_of(struct rb_node *n, const struct rb_node *like)
{
	n->parent_color = (n->parent_color & ~RB_BLACK) | (like->parent_color & RB_BLACK);
}

void rb_init(struct rb_tree *t, rb_augment_fn augment)
{
	t->root = NULL;
	t->augment = augment;
	t->count = 0;
}

/* Point whatever pointed at old (parent's child link or the root) at new. */
static void replace_child(struct rb_tree *t, struct rb_node *parent, struct rb_node *old, struct rb_node *new)
{
	if (!parent)
		t->root = new;
	else if (parent->left == old)
		parent->left = new;
	else
		parent->right = new;
}

static void augment_one(struct rb_tree *t, struct rb_node *n)
{
	if (t->augment)
		t->augment(n);
}

/* Rotate n down to the left: its right child r takes its place. */
static void rotate_left(struct rb_tree *t, struct rb_node *n)
{
	struct rb_node *r = n->right, *p = rb_parent(n);
	n->right = r->left;
	if (r->left)
		set_parent(r->left, n);
	r->left = n;
	set_parent(r, p);
	replace_child(t, p, n, r);
	set_parent(n, r);
	augment_one(t, n);
	augment_one(t, r);
}

/* Rotate n down to the right: its left child l takes its place. */
static void rotate_right(struct rb_tree *t, struct rb_node *n)
{
	struct rb_node *l = n->left, *p = rb_parent(n);
	n->left = l->right;
	if (l->right)
		set_parent(l->right, n);
	l->right = n;
	set_parent(l, p);
	replace_child(t, p, n, l);
	set_parent(n, l);
	augment_one(t, n);
	augment_one(t, l);
}

/* Full propagation to the root (used where an early stop is not safe). */
static void propagate_all(struct rb_tree *t, struct rb_node *n)
{
	if (!t->augment)
		return;
	for (; n; n = rb_parent(n))
		t->augment(n);
}

void rb_propagate(struct rb_tree *t, struct rb_node *n)
{
	if (!t->augment)
		return;
	for (; n; n = rb_parent(n))
		if (!t->augment(n))
			break;
}

static void insert_fixup(struct rb_tree *t, struct rb_node *n)
{
	struct rb_node *p;
	while ((p = rb_parent(n)) && is_red(p)) {
		struct rb_node *g = rb_parent(p); /* exists: a red node is never the root */
		bool left = (p == g->left);
		struct rb_node *uncle = left ? g->right : g->left;
		if (is_red(uncle)) {
			/* Recolour and move the problem two levels up. */
			set_black(p);
			set_black(uncle);
			set_red(g);
			n = g;
			continue;
		}
		if (n == (left ? p->right : p->left)) {
			/* Zig-zag: rotate into the straight case. */
			if (left)
				rotate_left(t, p);
			else
				rotate_right(t, p);
			struct rb_node *tmp = p;
			p = n;
			n = tmp;
		}
		set_black(p);
		set_red(g);
		if (left)
			rotate_right(t, g);
		else
			rotate_left(t, g);
	}
	set_black(t->root);
}

void rb_insert(struct rb_tree *t, struct rb_node *node, struct rb_node *parent, struct rb_node **link)
{
	node->parent_color = (uintptr_t)parent; /* red */
	node->left = node->right = NULL;
	*link = node;
	t->count++;
	propagate_all(t, node);
	insert_fixup(t, node);
}

static struct rb_node *leftmost(struct rb_node *n)
{
	while (n && n->left)
		n = n->left;
	return n;
}

/* Restore the black height after a black node left the tree above x, whose
 * parent is p (x may be NULL). */
static void erase_fixup(struct rb_tree *t, struct rb_node *x, struct rb_node *p)
{
	while (x != t->root && is_black(x)) {
		bool left = (x == p->left);
		struct rb_node *w = left ? p->right : p->left; /* exists by the black height */
		if (is_red(w)) {
			set_black(w);
			set_red(p);
			if (left)
				rotate_left(t, p);
			else
				rotate_right(t, p);
			w = left ? p->right : p->left;
		}
		if (is_black(w->left) && is_black(w->right)) {
			set_red(w);
			x = p;
			p = rb_parent(x);
			continue;
		}
		if (left && is_black(w->right)) {
			set_black(w->left);
			set_red(w);
			rotate_right(t, w);
			w = p->right;
		} else if (!left && is_black(w->left)) {
			set_black(w->right);
			set_red(w);
			rotate_left(t, w);
			w = p->left;
		}
		set_color_of(w, p);
		set_black(p);
		if (left) {
			set_black(w->right);
			rotate_left(t, p);
		} else {
			set_black(w->left);
			rotate_right(t, p);
		}
		x = t->root;
		break;
	}
	if (x)
		set_black(x);
}

void rb_erase(struct rb_tree *t, struct rb_node *node)
{
	struct rb_node *x, *xp, *fix_from;
	bool removed_black;
	if (!node->left || !node->right) {
		/* At most one child: splice node out. */
		x = node->left ? node->left : node->right;
		xp = rb_parent(node);
		removed_black = is_black(node);
		replace_child(t, xp, node, x);
		if (x)
			set_parent(x, xp);
		fix_from = xp;
	} else {
		/* Two children: the successor s (leftmost of the right subtree)
		 * leaves its place and takes node's place and colour. */
		struct rb_node *s = leftmost(node->right);
		removed_black = is_black(s);
		x = s->right;
		if (rb_parent(s) == node) {
			xp = s;
		} else {
			xp = rb_parent(s);
			xp->left = x;
			if (x)
				set_parent(x, xp);
			s->right = node->right;
			set_parent(node->right, s);
		}
		s->left = node->left;
		set_parent(node->left, s);
		replace_child(t, rb_parent(node), node, s);
		s->parent_color = node->parent_color;
		fix_from = xp;
	}
	t->count--;
	propagate_all(t, fix_from);
	if (removed_black)
		erase_fixup(t, x, xp);
}

struct rb_node *rb_first(const struct rb_tree *t) { return leftmost(t->root); }

struct rb_node *rb_last(const struct rb_tree *t)
{
	struct rb_node *n = t->root;
	while (n && n->right)
		n = n->right;
	return n;
}

struct rb_node *rb_next(const struct rb_node *n)
{
	if (n->right)
		return leftmost(n->right);
	struct rb_node *p;
	while ((p = rb_parent(n)) && n == p->right)
		n = p;
	return p;
}

struct rb_node *rb_prev(const struct rb_node *n)
{
	if (n->left) {
		n = n->left;
		while (n->right)
			n = n->right;
		return (struct rb_node *)n;
	}
	struct rb_node *p;
	while ((p = rb_parent(n)) && n == p->left)
		n = p;
	return p;
}

/* Drop a partial copy, children first. */
static void drop_subtree(struct rb_node *n, void (*drop)(void *, struct rb_node *), void *ctx)
{
	if (!n)
		return;
	drop_subtree(n->left, drop, ctx);
	drop_subtree(n->right, drop, ctx);
	drop(ctx, n);
}

static struct rb_node *clone_subtree(const struct rb_node *s, struct rb_node *parent, bool *failed,
				     struct rb_node *(*copy)(void *, const struct rb_node *),
				     void (*drop)(void *, struct rb_node *), void *ctx)
{
	if (!s || *failed)
		return NULL;
	struct rb_node *d = copy(ctx, s);
	if (!d) {
		*failed = true;
		return NULL;
	}
	d->parent_color = (uintptr_t)parent | (s->parent_color & RB_BLACK);
	d->left = clone_subtree(s->left, d, failed, copy, drop, ctx);
	d->right = clone_subtree(s->right, d, failed, copy, drop, ctx);
	if (*failed) {
		drop_subtree(d->left, drop, ctx);
		drop_subtree(d->right, drop, ctx);
		drop(ctx, d);
		return NULL;
	}
	return d;
}

int rb_clone(struct rb_tree *dst, const struct rb_tree *src, struct rb_node *(*copy)(void *ctx, const struct rb_node *n),
	     void (*drop)(void *ctx, struct rb_node *n), void *ctx)
{
	bool failed = false;
	struct rb_node *root = clone_subtree(src->root, NULL, &failed, copy, drop, ctx);
	if (failed)
		return -MMK_ENOMEM;
	dst->root = root;
	dst->count = src->count;
	return 0;
}

/* Returns the black height of the subtree, or -1 with *why set. */
static int check_subtree(const struct rb_node *n, const struct rb_node *parent, size_t *count,
			 bool (*augment_ok)(const struct rb_node *), const char **why)
{
	if (!n)
		return 1;
	if (rb_parent(n) != parent) {
		*why = "rbtree: child's parent link is wrong";
		return -1;
	}
	if (is_red(n) && (is_red(n->left) || is_red(n->right))) {
		*why = "rbtree: red node with a red child";
		return -1;
	}
	(*count)++;
	int lh = check_subtree(n->left, n, count, augment_ok, why);
	if (lh < 0)
		return -1;
	int rh = check_subtree(n->right, n, count, augment_ok, why);
	if (rh < 0)
		return -1;
	if (lh != rh) {
		*why = "rbtree: unequal black heights";
		return -1;
	}
	if (augment_ok && !augment_ok(n)) {
		*why = "rbtree: stale subtree summary";
		return -1;
	}
	return lh + (is_black(n) ? 1 : 0);
}

int rb_check(const struct rb_tree *t, bool (*augment_ok)(const struct rb_node *n), const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	if (is_red(t->root)) {
		*why = "rbtree: red root";
		return -MMK_EINVAL;
	}
	size_t count = 0;
	if (check_subtree(t->root, NULL, &count, augment_ok, why) < 0)
		return -MMK_EINVAL;
	if (count != t->count) {
		*why = "rbtree: node count differs from recount";
		return -MMK_EINVAL;
	}
	return 0;
}
