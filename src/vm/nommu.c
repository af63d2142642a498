/*
 * vm/nommu.c - seed 003's non-MMU mode: one memory map shared by every
 * address space (theory in include/mmk/vm.h, vm_system_init_nommu).
 *
 * Without an MMU an address is a physical address, so a mapping is a block
 * of physically contiguous frames from the buddy allocator, placed in the
 * shared map at its own physical address and tagged with the id of the
 * space that made it.  Each space sees and changes only its own VMAs.
 * Invariants (vm_check on the shared map, plus nommu_check): every VMA of
 * the shared map has an owner, starts at the first frame of an allocated
 * block of block_order, and fits in that block.
 * Locking: the shared map's lock guards the shared tree; spaces take it for
 * every call (the per-space locks are not used in this mode).
 * Source: Phoenix-RTOS's NOMMU memory map (seed 003); the restrictions
 * follow Linux's nommu mmap (Documentation/admin-guide/mm/nommu-mmap.rst).
 */
#include "vm/vm_internal.h"

static struct vm_space *shared(struct vm_space *as) { return as->sys->shared_map; }

/* The caller's VMA that starts at addr, or NULL. */
static struct vm_area *own_at(struct vm_space *as, vaddr_t addr)
{
	struct vm_area *v = vma_find(shared(as), addr);
	return v && v->owner == as->id && v->start == addr ? v : NULL;
}

/* Is [start, end) covered by the caller's VMAs? */
static bool own_covered(struct vm_space *as, vaddr_t start, vaddr_t end)
{
	vaddr_t at = start;
	for (struct vm_area *v = vma_lower_bound(shared(as), start); v && at < end; v = vma_next(v)) {
		if (v->start > at || v->owner != as->id)
			return false;
		at = v->end;
	}
	return at >= end;
}

static unsigned order_for(uint64_t pages)
{
	unsigned order = 0;
	while (((uint64_t)1 << order) < pages)
		order++;
	return order;
}

int nommu_map(struct vm_space *as, size_t len, unsigned prot, unsigned flags, struct vm_object *obj,
	      uint64_t offset, vaddr_t *out)
{
	if (flags & (VM_MAP_FIXED | VM_MAP_FIXED_NOREPLACE))
		return -MMK_EINVAL;
	uint64_t pages = (uint64_t)len >> MMK_PAGE_SHIFT;
	unsigned order = order_for(pages);
	if (order > MMK_MAX_ORDER)
		return -MMK_ENOMEM;
	struct vm_space *map = shared(as);
	hal_spin_lock(&map->lock);
	struct vm_area *v = kmem_cache_alloc(&as->sys->vma_cache);
	pfn_t pfn;
	int rc = v ? phys_alloc(as->sys->phys, order, PHYS_USER | PHYS_ZERO, &pfn) : -MMK_ENOMEM;
	if (rc) {
		if (v)
			kmem_cache_free(&as->sys->vma_cache, v);
		hal_spin_unlock(&map->lock);
		return rc;
	}
	v->start = mmk_pfn_to_paddr(pfn);
	v->end = v->start + len;
	v->prot = prot;
	v->max_prot = VM_PROT_ALL;
	v->flags = (flags & VM_MAP_TYPE) == VM_MAP_PRIVATE ? 0 : VMA_SHARED;
	v->object = obj;
	v->offset = obj ? offset : 0;
	v->owner = as->id;
	v->block_order = order;
	if (obj)
		vm_object_ref(obj);
	vma_link(map, v);
	as->mapped_pages += pages;
	as->sys->user_frames += (uint64_t)1 << order;
	hal_spin_unlock(&map->lock);
	*out = v->start;
	return 0;
}

static void release(struct vm_space *as, struct vm_area *v)
{
	struct vm_space *map = shared(as);
	as->mapped_pages -= vma_pages(v);
	as->sys->user_frames -= (uint64_t)1 << v->block_order;
	phys_free(as->sys->phys, mmk_paddr_to_pfn(v->start), v->block_order);
	vma_unlink(map, v);
	vma_free(map, v);
}

int nommu_unmap(struct vm_space *as, vaddr_t addr, uint64_t len)
{
	struct vm_space *map = shared(as);
	hal_spin_lock(&map->lock);
	struct vm_area *v = own_at(as, addr);
	int rc = v && v->end - v->start == len ? 0 : -MMK_EINVAL;
	if (!rc)
		release(as, v);
	hal_spin_unlock(&map->lock);
	return rc;
}

int nommu_range(struct vm_space *as, vaddr_t start, vaddr_t end, int rc_hole, unsigned prot, bool set_prot)
{
	struct vm_space *map = shared(as);
	hal_spin_lock(&map->lock);
	int rc = own_covered(as, start, end) ? 0 : rc_hole;
	if (!rc && set_prot) {
		/* Protection is recorded, not enforced: there is no MMU. Only
		 * whole mappings can change, as nothing may split a block. */
		for (struct vm_area *v = vma_lower_bound(map, start); v && v->start < end; v = vma_next(v))
			if (v->start < start || v->end > end)
				rc = -MMK_EINVAL;
		for (struct vm_area *v = vma_lower_bound(map, start); !rc && v && v->start < end; v = vma_next(v))
			v->prot = prot;
	}
	hal_spin_unlock(&map->lock);
	return rc;
}

int nommu_shrink(struct vm_space *as, vaddr_t addr, uint64_t old_len, uint64_t new_len, vaddr_t *out)
{
	struct vm_space *map = shared(as);
	hal_spin_lock(&map->lock);
	struct vm_area *v = own_at(as, addr);
	int rc = !v ? -MMK_EFAULT : v->end - v->start != old_len ? -MMK_EINVAL : new_len > old_len ? -MMK_ENOMEM : 0;
	if (!rc && new_len < old_len) {
		/* The frames stay with the block until the whole mapping goes. */
		as->mapped_pages -= (old_len - new_len) >> MMK_PAGE_SHIFT;
		map->mapped_pages -= (old_len - new_len) >> MMK_PAGE_SHIFT;
		v->end = v->start + new_len;
		vma_bounds_changed(map, v);
	}
	hal_spin_unlock(&map->lock);
	if (!rc)
		*out = addr;
	return rc;
}

void nommu_destroy(struct vm_space *as)
{
	struct vm_space *map = shared(as);
	hal_spin_lock(&map->lock);
	struct vm_area *v = vma_of(rb_first(&map->vmas));
	while (v) {
		struct vm_area *next = vma_next(v);
		if (v->owner == as->id)
			release(as, v);
		v = next;
	}
	hal_spin_unlock(&map->lock);
}

int nommu_check(struct vm_space *as, const char **why)
{
	struct vm_space *map = shared(as);
	hal_spin_lock(&map->lock);
	uint64_t own = 0;
	const char *bad = NULL;
	for (struct vm_area *v = vma_of(rb_first(&map->vmas)); v && !bad; v = vma_next(v)) {
		struct mmk_frame *f = phys_frame(as->sys->phys, mmk_paddr_to_pfn(v->start));
		if (!v->owner)
			bad = "nommu: VMA without an owner";
		else if (!f || f->state != MMK_FRAME_ALLOCATED || f->order != v->block_order)
			bad = "nommu: VMA does not start an allocated block of its order";
		else if (vma_pages(v) > ((uint64_t)1 << v->block_order))
			bad = "nommu: VMA larger than its block";
		if (v->owner == as->id)
			own += vma_pages(v);
	}
	if (!bad && own != as->mapped_pages)
		bad = "nommu: the space's mapped_pages differs from its VMAs";
	hal_spin_unlock(&map->lock);
	if (bad) {
		*why = bad;
		return -MMK_EINVAL;
	}
	return 0;
}
