/*
 * vm/external.c - objects whose frames another layer lends (seed 001's maps
 * of physmem containers), and the reverse walk that takes their
 * translations away.
 *
 * An external object has no pages of its own: its page source names the
 * frame of each page at fault time (fault.c, fault_external) and keeps it.
 * Because the lender may move, free or replace a frame at any time ("maps
 * are not persistent"), it needs every translation of a range gone first:
 * vm_object_zap walks every space of the system and every VMA mapping the
 * object, and removes the translations of the range, keeping the frames'
 * translation counts right.  No reverse map exists; the walk costs
 * O(spaces x VMAs + translations removed), paid only by physmem's
 * deallocation, copy-on-write breaks and migration.
 *
 * Locking: the caller may hold its own lock (ranked below vm_space.lock),
 * so spaces other than `held` are only trylocked (mmk/vm.h).
 */
#include "vm/vm_internal.h"

int vm_object_create_external(struct vm_system *sys, const char *name, uint64_t npages,
			      const struct vm_page_source *src, struct vm_object **out)
{
	if (npages == 0 || !src || !src->page || npages > (UINT64_MAX >> MMK_PAGE_SHIFT))
		return -MMK_EINVAL;
	int rc = vm_object_create(sys, VM_OBJECT_ANON, name, out);
	if (rc)
		return rc;
	(*out)->type = VM_OBJECT_EXTERNAL;
	(*out)->size = npages << MMK_PAGE_SHIFT;
	(*out)->source = *src;
	return 0;
}

void vm_object_detach_source(struct vm_object *obj)
{
	obj->source.page = NULL;
	obj->source.check = NULL;
	obj->source.ctx = NULL;
}

#define ZAP_BATCH 64u

struct zap_walk {
	const struct vm_area *v;
	bool (*filter)(void *ctx, uint64_t pgoff, paddr_t pa, unsigned bits);
	void *ctx;
	vaddr_t va[ZAP_BATCH];
	unsigned n;
	vaddr_t resume; /* where to walk again when the batch filled up */
};

static void zap_pick(void *ctx, vaddr_t va, paddr_t pa, unsigned bits)
{
	struct zap_walk *z = ctx;
	if (z->n == ZAP_BATCH) {
		if (!z->resume)
			z->resume = va;
		return;
	}
	if (!z->filter || z->filter(z->ctx, vma_pgoff(z->v, va), pa, bits))
		z->va[z->n++] = va;
}

/* Remove the chosen translations of [s, e) in v. */
static void zap_vma(struct vm_space *as, const struct vm_area *v, vaddr_t s, vaddr_t e, struct zap_walk *z)
{
	z->v = v;
	while (s < e) {
		z->n = 0;
		z->resume = 0;
		pmap_walk(&as->pmap, s, e, zap_pick, z);
		for (unsigned i = 0; i < z->n; i++)
			pmap_remove(&as->pmap, z->va[i], z->va[i] + MMK_PAGE_SIZE, vm_unmap_frame, as);
		s = z->resume ? z->resume : e;
	}
}

static void zap_space(struct vm_space *as, struct vm_object *obj, uint64_t pgoff, uint64_t npages,
		      struct zap_walk *z)
{
	for (struct vm_area *v = vma_of(rb_first(&as->vmas)); v; v = vma_next(v)) {
		if (v->object != obj)
			continue;
		uint64_t first = v->offset >> MMK_PAGE_SHIFT, last = first + vma_pages(v);
		uint64_t lo = pgoff > first ? pgoff : first, hi = pgoff + npages < last ? pgoff + npages : last;
		if (lo < hi)
			zap_vma(as, v, v->start + ((lo - first) << MMK_PAGE_SHIFT),
				v->start + ((hi - first) << MMK_PAGE_SHIFT), z);
	}
}

int vm_object_zap(struct vm_system *sys, struct vm_object *obj, uint64_t pgoff, uint64_t npages,
		  bool (*filter)(void *ctx, uint64_t pgoff, paddr_t pa, unsigned bits), void *ctx,
		  struct vm_space *held)
{
	struct zap_walk z = { .filter = filter, .ctx = ctx };
	int rc = 0;
	if (npages == 0 || sys->nommu)
		return 0;
	for (struct vm_space *as = sys->space_list; as; as = as->next_space) {
		if (as != held && !hal_spin_trylock(&as->lock)) {
			rc = -MMK_EAGAIN;
			continue;
		}
		zap_space(as, obj, pgoff, npages, &z);
		if (as != held)
			hal_spin_unlock(&as->lock);
	}
	return rc;
}
