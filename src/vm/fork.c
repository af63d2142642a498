/*
 * vm/fork.c - fork(2) of an address space.
 *
 * The VMA tree is copied in order (each copy appended after the last;
 * an O(n) structural copy of the tree is still to come).  Private pages
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
		phys_frame(c->child->sys->phys, mmk_paddr_to_pfn(pa))->refcount++;
}

/* The child's copy of v: private pages shared copy-on-write through a copy
 * of v's amap slots (each anon's refcount + 1), shared pages through the
 * object, and the parent's translations copied (read-only when private). */
static int copy_vma(struct vm_space *parent, struct vm_space *child, const struct vm_area *v)
{
	struct vm_system *sys = child->sys;
	struct vm_area *n = kmem_cache_alloc(&sys->vma_cache);
	if (!n)
		return -MMK_ENOMEM;
	*n = *v;
	n->flags &= ~VMA_LOCKED; /* memory locks are not inherited (Linux, POSIX) */
	n->amap = NULL;
	bool copy_pages = v->amap && !(v->flags & (VMA_WIPEONFORK | VMA_DEAD));
	if (copy_pages && vm_amap_copy(sys, v->amap, v->amap_slot, vma_pages(v), &n->amap)) {
		kmem_cache_free(&sys->vma_cache, n);
		return -MMK_ENOMEM;
	}
	if (n->object)
		vm_object_ref(n->object);
	vma_link(child, n);
	if (v->flags & VMA_DEAD)
		child->dead_vmas++;
	if (v->flags & (VMA_WIPEONFORK | VMA_DEAD))
		return 0;
	struct copy_ctx c = { child, !(v->flags & VMA_SHARED), 0 };
	pmap_walk(&parent->pmap, v->start, v->end, copy_pte, &c);
	return c.rc;
}

/* After a successful fork the parent's private pages are shared: take
 * write access away so the next write of either side copies. */
static void write_protect_private(struct vm_space *parent)
{
	for (struct vm_area *v = vma_of(rb_first(&parent->vmas)); v; v = vma_next(v))
		if (v->amap && !(v->flags & (VMA_SHARED | VMA_DONTFORK | VMA_WIPEONFORK)) && (v->prot & VM_PROT_WRITE))
			pmap_protect(&parent->pmap, v->start, v->end, vm_pte_prot(v->prot & ~VM_PROT_WRITE));
}

int vm_space_fork(struct vm_space *parent, struct vm_space **out)
{
	struct vm_space *child;
	if (parent->sys->nommu)
		return -MMK_ENOSYS; /* without an MMU two copies cannot share addresses: vfork only */
	int rc = vm_space_create(parent->sys, &child);
	if (rc)
		return rc;
	hal_spin_lock(&parent->lock);
	hal_spin_lock(&child->lock);
	for (struct vm_area *v = vma_of(rb_first(&parent->vmas)); !rc && v; v = vma_next(v))
		if (!(v->flags & VMA_DONTFORK))
			rc = copy_vma(parent, child, v);
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
