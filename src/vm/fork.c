/*
 * vm/fork.c - fork(2) of an address space.
 *
 * The VMA tree is copied in O(n) with rb_clone (same shape and colours, no
 * rebalancing), then DONTFORK VMAs are taken out.  Private pages
 * are shared copy-on-write through amap copies (anon.c); shared pages
 * through their object; DONTFORK VMAs are left out and WIPEONFORK VMAs
 * start empty, as Linux.  On failure the half-built child is destroyed and
 * the parent is untouched (it is write-protected only once all succeeded).
 */
#include "vm/vm_internal.h"

struct copy_ctx {
	struct vm_space *child;
	bool read_only; /* private pages: shared copy-on-write from now on */
	int rc;
};

/* Give the child the parent's translation (as Linux's copy_page_range), so
 * it starts with the parent's resident set; one more mapping of the frame. */
static void copy_pte(void *ctx, vaddr_t va, paddr_t pa, unsigned bits)
{
	struct copy_ctx *c = ctx;
	if (c->rc)
		return;
	unsigned prot = bits & PMAP_PROT_ALL;
	if (c->read_only)
		prot &= ~PMAP_PROT_WRITE;
	c->rc = pmap_enter(&c->child->pmap, va, pa, prot);
	if (!c->rc)
		vm_frame_mapcount(c->child->sys, pa, 1);
}

/* The child's copy of one VMA (rb_clone's copy step): private pages shared
 * copy-on-write through a copy of the VMA's amap slots (each anon's
 * refcount + 1), shared pages through the object.  NULL on ENOMEM. */
static struct rb_node *clone_vma(void *ctx, const struct rb_node *node)
{
	struct vm_space *child = ctx;
	struct vm_system *sys = child->sys;
	const struct vm_area *v = vma_of(node);
	struct vm_area *n = vm_vma_alloc(child);
	if (!n)
		return NULL;
	*n = *v;
	n->flags &= ~VMA_LOCKED; /* memory locks are not inherited (Linux, POSIX) */
	n->amap = NULL;
	bool copy_pages = v->amap && !(v->flags & (VMA_WIPEONFORK | VMA_DEAD | VMA_DONTFORK));
	if (copy_pages && vm_amap_copy(sys, v->amap, v->amap_slot, vma_pages(v), &n->amap)) {
		vm_vma_free_struct(child, n);
		return NULL;
	}
	n->space = child;
	if (n->object) {
		vm_object_ref(n->object);
		vm_object_link_vma(n->object, n);
	}
	return &n->node;
}

/* rb_clone's undo of clone_vma. */
static void drop_vma(void *ctx, struct rb_node *node)
{
	struct vm_area *v = vma_of(node);
	if (v->object)
		vm_object_unlink_vma(v->object, v);
	vma_free(ctx, v);
}

/* The parent's translations of v, copied into the child (read-only when
 * private), as Linux's copy_page_range: the child starts with the parent's
 * resident set. */
static int copy_ptes(struct vm_space *parent, struct vm_space *child, const struct vm_area *v)
{
	if (v->flags & (VMA_WIPEONFORK | VMA_DEAD))
		return 0;
	struct copy_ctx c = { child, !(v->flags & VMA_SHARED), 0 };
	pmap_walk(&parent->pmap, v->start, v->end, copy_pte, &c);
	return c.rc;
}

/* Copy the VMA tree in O(n) (same shape, so no rebalancing), then take out
 * the DONTFORK VMAs and copy the translations. */
static int copy_space(struct vm_space *parent, struct vm_space *child)
{
	int rc = rb_clone(&child->vmas, &parent->vmas, clone_vma, drop_vma, child);
	if (rc)
		return rc;
	child->mapped_pages = parent->mapped_pages;
	child->dead_vmas = parent->dead_vmas;
	struct vm_area *v = vma_of(rb_first(&child->vmas));
	while (v) {
		struct vm_area *next = vma_next(v);
		if (v->flags & VMA_DONTFORK) {
			vma_unlink(child, v);
			vma_free(child, v);
		}
		v = next;
	}
	for (v = vma_of(rb_first(&child->vmas)); !rc && v; v = vma_next(v))
		rc = copy_ptes(parent, child, v);
	return rc;
}

/* After a successful fork the parent's private pages are shared: take
 * write access away so the next write of either side copies. */
static void write_protect_private(struct vm_space *parent)
{
	for (struct vm_area *v = vma_of(rb_first(&parent->vmas)); v; v = vma_next(v))
		if (v->amap && !(v->flags & (VMA_SHARED | VMA_DONTFORK | VMA_WIPEONFORK)) && (v->prot & VM_PROT_WRITE))
			pmap_protect(&parent->pmap, v->start, v->end, vm_pte_prot_ro(v->prot));
}

int vm_space_fork(struct vm_space *parent, struct vm_space **out)
{
	return vm_space_fork_account(parent, NULL, out);
}

int vm_space_fork_account(struct vm_space *parent, struct mmk_account *acct, struct vm_space **out)
{
	struct vm_space *child;
	if (parent->sys->nommu)
		return -MMK_ENOSYS; /* without an MMU two copies cannot share addresses: vfork only */
	int rc = vm_space_create(parent->sys, &child);
	if (rc)
		return rc;
	/* Charge the copy from the start (issue 5): the parent's account
	 * unless the caller names another. */
	if (!acct)
		acct = parent->acct;
	rc = acct ? vm_space_set_account(child, acct) : 0;
	if (rc) {
		vm_space_destroy(child);
		return rc;
	}
	hal_spin_lock(&parent->lock);
	hal_spin_lock(&child->lock);
	rc = copy_space(parent, child);
	if (!rc)
		write_protect_private(parent);
	child->min_addr = parent->min_addr;
	child->max_addr = parent->max_addr;
	child->mmap_base = parent->mmap_base;
	child->start_brk = parent->start_brk;
	child->brk = parent->brk;
	child->start_stack = parent->start_stack;
	child->stack_limit = parent->stack_limit;
	child->stack_guard = parent->stack_guard;
	hal_spin_unlock(&child->lock);
	hal_spin_unlock(&parent->lock);
	if (rc) {
		vm_space_destroy(child);
		return rc;
	}
	*out = child;
	return 0;
}
