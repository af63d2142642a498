/*
 * sys/cap.c - handle tables and the capability derivation tree.
 *
 * 1. What: each task holds a cap_table, an array of handle pointers indexed
 *    by small integers (lowest free number first, as file descriptors).  A
 *    handle names a typed object with rights.  A handle may be derived
 *    (a child with a subset of the rights, in the same table) or granted (a
 *    child in another table, as IPC transfers handles); revoking a handle
 *    removes all its descendants, in every table; closing one removes only
 *    it and hands its children to its parent.
 * 2. Structures: every object keeps its derivation forest: the list of its
 *    root handles (cap_object.roots); every handle keeps its parent, its
 *    first child and its siblings (a doubly linked list per parent).  So the
 *    handles derived from h are exactly h's subtree, and every handle of an
 *    object is in the object's forest: revoking h walks h's subtree, and
 *    destroying an object walks its forest, never a table.  This is seL4's
 *    capability derivation tree (seL4 keeps it as one list in pre-order with
 *    depth; an explicit tree costs three more pointers per handle and makes
 *    both the walk and the checker direct).  Zircon has no derivation: a
 *    handle can only be duplicated with fewer rights or closed, and an
 *    object dies with its last handle; mmk keeps Zircon's per-object handle
 *    count (cap_object.handles) beside the tree.
 * 3. Invariants (cap_check.c re-derives them): a slot's handle names that
 *    slot; a table's count is its non-empty slots; a child's object is its
 *    parent's and its rights a subset of its parent's; an object's forest
 *    holds exactly its cap_object.handles handles, each once; each handle
 *    holds one reference on its object (ops->get when made, ops->put after
 *    removal).
 * 4. Locking: cs->lock, held by the caller of every function here.
 * 5. Failure policy: an operation finds its handle, checks the rights,
 *    reserves the handle struct and the slot (the only allocations), then
 *    links; removal allocates nothing and cannot fail.  Puts of removed
 *    handles are deferred to the end of the call (cap_release_pending), so a
 *    put that frees an object holding a table (a task closing its handles)
 *    never runs inside a tree walk, and a chain of such frees is a loop.
 * 6. Sources: seL4 reference manual, "Capability derivation tree" and
 *    revoke; Zircon handles and rights (handle_duplicate with a subset of
 *    rights); seed 000 (MOP capabilities), seed 001 (weak capabilities).
 */
#include <mmk/cap.h>
#include <mmk/errno.h>

#include "lib/mem.h"
#include "sys/cap_internal.h"
#include "sys/sys_list.h"

static void close_node(struct cap_system *cs, struct cap_handle *n);

int cap_system_init(struct cap_system *cs, struct phys *ph, struct kmalloc_heap *heap)
{
	mmk_memset(cs, 0, sizeof(*cs));
	hal_spin_init(&cs->lock);
	cs->heap = heap;
	return kmem_cache_init(&cs->handle_cache, ph, "cap_handle", sizeof(struct cap_handle), 8);
}

int cap_system_fini(struct cap_system *cs)
{
	if (cs->tables || cs->handles || cs->objects)
		return -MMK_EBUSY;
	return kmem_cache_destroy(&cs->handle_cache);
}

void cap_object_init(struct cap_object *co, const struct cap_ops *ops)
{
	mmk_memset(co, 0, sizeof(*co));
	co->ops = ops;
}

/* ---- the forest links ---- */

static struct cap_handle **sibling_head(struct cap_handle *n)
{
	return n->parent ? &n->parent->first_child : &n->obj->roots;
}

/* Put n first among the children of its parent (or the roots). */
static void forest_link(struct cap_handle *n)
{
	struct cap_handle **head = sibling_head(n);
	n->prev_sibling = NULL;
	n->next_sibling = *head;
	if (*head)
		(*head)->prev_sibling = n;
	*head = n;
}

static void forest_unlink(struct cap_handle *n)
{
	if (n->prev_sibling)
		n->prev_sibling->next_sibling = n->next_sibling;
	else
		*sibling_head(n) = n->next_sibling;
	if (n->next_sibling)
		n->next_sibling->prev_sibling = n->prev_sibling;
	n->next_sibling = n->prev_sibling = NULL;
}

/* Give n's children to n's parent (or make them roots).  O(children). */
static void reparent_children(struct cap_handle *n)
{
	struct cap_handle *c = n->first_child;
	while (c) {
		struct cap_handle *next = c->next_sibling;
		c->parent = n->parent;
		forest_link(c);
		c = next;
	}
	n->first_child = NULL;
}

/* ---- objects on the system list ---- */

static void object_gain_handle(struct cap_system *cs, struct cap_object *co)
{
	if (co->handles++ == 0)
		SYS_LIST_PUSH(cs->objects, co);
}

static void object_lose_handle(struct cap_system *cs, struct cap_object *co)
{
	if (--co->handles == 0)
		SYS_LIST_UNLINK(cs->objects, co);
}

/* ---- slots ---- */

static cap_handle_t lowest_free(const struct cap_table *t)
{
	for (uint32_t i = t->first_free; i < t->capacity; i++)
		if (!t->slots[i])
			return (cap_handle_t)i;
	return CAP_HANDLE_NONE;
}

/* Double the slot array (at least 8, at most max_handles).  0, -MMK_EMFILE, -MMK_ENOMEM. */
static int table_grow(struct cap_table *t)
{
	if (t->capacity >= t->max_handles)
		return -MMK_EMFILE;
	uint32_t cap = t->capacity ? 2 * t->capacity : 8;
	if (cap > t->max_handles)
		cap = t->max_handles;
	struct cap_handle **slots = kzalloc(t->cs->heap, (size_t)cap * sizeof(*slots));
	if (!slots)
		return -MMK_ENOMEM;
	if (t->capacity)
		mmk_memcpy(slots, t->slots, (size_t)t->capacity * sizeof(*slots));
	kfree(t->cs->heap, t->slots);
	t->slots = slots;
	t->capacity = cap;
	return 0;
}

int cap_table_init(struct cap_system *cs, struct cap_table *t, uint32_t max_handles)
{
	if (max_handles == 0 || max_handles > CAP_TABLE_LIMIT)
		return -MMK_EINVAL;
	mmk_memset(t, 0, sizeof(*t));
	t->cs = cs;
	t->max_handles = max_handles;
	SYS_LIST_PUSH(cs->tables, t);
	return 0;
}

void cap_table_fini(struct cap_table *t)
{
	struct cap_system *cs = t->cs;
	for (uint32_t i = 0; i < t->capacity; i++)
		if (t->slots[i])
			close_node(cs, t->slots[i]);
	kfree(cs->heap, t->slots);
	t->slots = NULL;
	t->capacity = 0;
	SYS_LIST_UNLINK(cs->tables, t);
	cap_release_pending(cs);
}

/* ---- making and removing handles ---- */

int cap_reserve(struct cap_table *t, struct cap_reservation *r)
{
	struct cap_handle *node = kmem_cache_alloc(&t->cs->handle_cache);
	if (!node)
		return -MMK_ENOMEM;
	cap_handle_t idx = lowest_free(t);
	if (idx == CAP_HANDLE_NONE) {
		idx = (cap_handle_t)t->capacity;
		int rc = table_grow(t);
		if (rc) {
			kmem_cache_free(&t->cs->handle_cache, node);
			return rc;
		}
	}
	r->t = t;
	r->node = node;
	r->index = idx;
	return 0;
}

void cap_cancel(struct cap_reservation *r)
{
	kmem_cache_free(&r->t->cs->handle_cache, r->node);
	r->node = NULL;
}

/* Link the reserved node as a child of parent (NULL: a root of co). */
static cap_handle_t commit_child(struct cap_reservation *r, struct cap_object *co, struct cap_handle *parent,
				 cap_rights_t rights)
{
	struct cap_table *t = r->t;
	struct cap_handle *n = r->node;
	mmk_memset(n, 0, sizeof(*n));
	n->obj = co;
	n->table = t;
	n->index = r->index;
	n->rights = rights;
	n->parent = parent;
	forest_link(n);
	t->slots[r->index] = n;
	t->count++;
	if ((uint32_t)r->index == t->first_free)
		t->first_free++;
	t->cs->handles++;
	object_gain_handle(t->cs, co);
	co->ops->get(co);
	r->node = NULL;
	return n->index;
}

cap_handle_t cap_commit(struct cap_reservation *r, struct cap_object *co, cap_rights_t rights)
{
	return commit_child(r, co, NULL, rights);
}

cap_handle_t cap_commit_child(struct cap_reservation *r, struct cap_handle *parent, cap_rights_t rights)
{
	return commit_child(r, parent->obj, parent, rights);
}

/*
 * Take n (which has no children) out of its table and its forest; its put
 * is queued on cs->dying (linked through next_sibling) for
 * cap_release_pending.
 */
static void remove_leaf(struct cap_system *cs, struct cap_handle *n)
{
	struct cap_table *t = n->table;
	forest_unlink(n);
	t->slots[n->index] = NULL;
	t->count--;
	if ((uint32_t)n->index < t->first_free)
		t->first_free = (uint32_t)n->index;
	cs->handles--;
	object_lose_handle(cs, n->obj);
	n->table = NULL;
	n->parent = NULL;
	n->next_sibling = cs->dying;
	cs->dying = n;
}

void cap_release_pending(struct cap_system *cs)
{
	if (cs->draining)
		return; /* an outer call is running the queue: it will reach these */
	cs->draining = true;
	while (cs->dying) {
		struct cap_handle *n = cs->dying;
		cs->dying = n->next_sibling;
		struct cap_object *co = n->obj;
		kmem_cache_free(&cs->handle_cache, n);
		co->ops->put(co);
	}
	cs->draining = false;
}

/*
 * Remove every descendant of h (not h): a post-order walk that descends to
 * a leaf, removes it and climbs to its parent, so each handle is visited a
 * constant number of times: O(descendants), no stack, no allocation.
 */
static uint64_t remove_subtree(struct cap_system *cs, struct cap_handle *h)
{
	uint64_t removed = 0;
	struct cap_handle *n = h;
	for (;;) {
		cs->revoke_visits++;
		if (n->first_child) {
			n = n->first_child;
			continue;
		}
		if (n == h)
			return removed;
		struct cap_handle *p = n->parent;
		remove_leaf(cs, n);
		removed++;
		n = p;
	}
}

/* Remove n alone; its children move up to its parent.  Put deferred. */
static void close_node(struct cap_system *cs, struct cap_handle *n)
{
	reparent_children(n);
	remove_leaf(cs, n);
}

/* ---- the calls ---- */

int cap_install(struct cap_table *t, struct cap_object *co, cap_rights_t rights, cap_handle_t *out)
{
	if (rights & ~co->ops->rights)
		return -MMK_EINVAL;
	struct cap_reservation r;
	int rc = cap_reserve(t, &r);
	if (rc)
		return rc;
	*out = cap_commit(&r, co, rights);
	return 0;
}

int cap_lookup(struct cap_table *t, cap_handle_t h, enum cap_type type, cap_rights_t need, struct cap_handle **out)
{
	if (h < 0 || (uint32_t)h >= t->capacity || !t->slots[h])
		return -MMK_EBADF;
	struct cap_handle *n = t->slots[h];
	if (type != CAP_TYPE_NONE && n->obj->ops->type != type)
		return -MMK_EINVAL;
	if (need & ~n->rights)
		return -MMK_EPERM;
	*out = n;
	return 0;
}

/* The checks derive and grant share: h exists, the rights argument is
 * known, h holds need, the asked rights are within h's. */
static int check_copy(struct cap_table *t, cap_handle_t h, cap_rights_t need, cap_rights_t rights,
		      struct cap_handle **out)
{
	int rc = cap_lookup(t, h, CAP_TYPE_NONE, need, out);
	if (rc)
		return rc;
	if (rights & ~CAP_RIGHTS_KNOWN)
		return -MMK_EINVAL;
	return rights & ~(*out)->rights ? -MMK_EPERM : 0;
}

static int copy_into(struct cap_table *t, cap_handle_t h, cap_rights_t need, struct cap_table *dst,
		     cap_rights_t rights, cap_handle_t *out)
{
	struct cap_handle *src;
	int rc = check_copy(t, h, need, rights, &src);
	if (rc)
		return rc;
	struct cap_reservation r;
	rc = cap_reserve(dst, &r);
	if (rc)
		return rc;
	*out = commit_child(&r, src->obj, src, rights);
	return 0;
}

int cap_derive(struct cap_table *t, cap_handle_t h, cap_rights_t rights, cap_handle_t *out)
{
	return copy_into(t, h, CAP_RIGHT_DERIVE, t, rights, out);
}

int cap_grant(struct cap_table *t, cap_handle_t h, struct cap_table *dst, cap_rights_t rights, cap_handle_t *out)
{
	return copy_into(t, h, CAP_RIGHT_GRANT, dst, rights, out);
}

int cap_close(struct cap_table *t, cap_handle_t h)
{
	struct cap_handle *n;
	int rc = cap_lookup(t, h, CAP_TYPE_NONE, 0, &n);
	if (rc)
		return rc;
	close_node(t->cs, n);
	cap_release_pending(t->cs);
	return 0;
}

int cap_revoke(struct cap_table *t, cap_handle_t h, uint64_t *nrevoked)
{
	struct cap_handle *n;
	int rc = cap_lookup(t, h, CAP_TYPE_NONE, 0, &n);
	if (rc)
		return rc;
	uint64_t removed = remove_subtree(t->cs, n);
	t->cs->revoked += removed;
	if (nrevoked)
		*nrevoked = removed;
	cap_release_pending(t->cs);
	return 0;
}

uint64_t cap_object_revoke_all(struct cap_system *cs, struct cap_object *co)
{
	uint64_t removed = 0;
	while (co->roots) {
		struct cap_handle *root = co->roots;
		removed += remove_subtree(cs, root) + 1;
		remove_leaf(cs, root); /* may take co off cs->objects; co lives until its put */
	}
	cs->revoked += removed;
	cap_release_pending(cs);
	return removed;
}
