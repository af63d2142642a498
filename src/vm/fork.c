/*
 * vm/fork.c - fork(2) of an address space.
 *
 * The VMA tree is copied in order (each copy appended after the last, so
 * each insertion's descent is short; issue 3 replaces this with an O(n)
 * structural copy together with copy-on-write).  Private pages are copied
 * eagerly; shared pages map the same frame (its refcount counts both);
 * DONTFORK VMAs are left out and WIPEONFORK VMAs start empty, as Linux.
 * On failure the half-built child is destroyed and the parent is untouched.
 */
#include "vm/vm_internal.h"

struct copy_ctx {
	struct vm_space *child;
	const struct vm_area *v;
	int rc;
};

static void copy_page(void *ctx, vaddr_t va, paddr_t pa, unsigned bits)
{
	struct copy_ctx *c = ctx;
	if (c->rc)
		return;
	struct phys *ph = c->child->sys->phys;
	pfn_t pfn = mmk_paddr_to_pfn(pa);
	if (!(c->v->flags & VMA_SHARED)) {
		pfn_t copy;
		c->rc = phys_alloc(ph, 0, PHYS_USER, &copy);
		if (c->rc)
			return;
		mmk_memcpy(phys_frame_ptr(ph, copy), phys_frame_ptr(ph, pfn), MMK_PAGE_SIZE);
		pfn = copy;
	}
	c->rc = pmap_enter(&c->child->pmap, va, mmk_pfn_to_paddr(pfn), bits & PMAP_PROT_ALL);
	if (c->rc) {
		if (!(c->v->flags & VMA_SHARED))
			phys_free(ph, pfn, 0);
		return;
	}
	struct mmk_frame *f = phys_frame(ph, pfn);
	if (f->refcount++ == 0) {
		f->private_data = 0; /* a fresh copy carries no populate tag */
		c->child->sys->user_frames++;
	}
}

static int copy_vma(struct vm_space *parent, struct vm_space *child, const struct vm_area *v)
{
	struct vm_area *n = kmem_cache_alloc(&child->sys->vma_cache);
	if (!n)
		return -MMK_ENOMEM;
	*n = *v;
	n->flags &= ~VMA_LOCKED; /* memory locks are not inherited (Linux, POSIX) */
	if (n->object)
		vm_object_ref(n->object);
	vma_link(child, n);
	if (v->flags & VMA_DEAD)
		child->dead_vmas++;
	if (v->flags & (VMA_WIPEONFORK | VMA_DEAD))
		return 0;
	struct copy_ctx c = { child, v, 0 };
	pmap_walk(&parent->pmap, v->start, v->end, copy_page, &c);
	return c.rc;
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
