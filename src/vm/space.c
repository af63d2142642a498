/*
 * vm/space.c - address spaces (seed 004's mspace, seed 003's memory maps).
 *
 * 1. What: an address space is a set of VMAs (vm_area) in a gap-augmented
 *    red-black tree, a pmap holding the translations, a heap break and a few
 *    counters.  Calls follow Linux's mmap family, errors included; the
 *    page-fault handler (fault.c) fills pages on first touch.
 * 2. Structures: vm_system owns the VMA and object caches; vm_space embeds
 *    its pmap and tree.  Private anonymous pages are known only to the pmap
 *    in this foundation (the frame of a present translation is the page);
 *    memory objects with page indexes come with issue 3.  Each user frame's
 *    refcount counts the translations that map it; the last one frees it.
 * 3. Invariants (vm_check): the tree's invariants (vma.c); mapped_pages is
 *    the sum of VMA sizes; every translation lies in a VMA that is not dead
 *    and its protection is no stronger than the VMA's; pmap.resident equals
 *    the translations counted by a walk.
 * 4. Locking: as->lock guards the tree, brk, counters and the pmap; it is
 *    taken by every public call.  Under it, the kmem cache locks and
 *    phys.lock may be taken (docs/locking.md).
 * 5. Failure policy: validate, reserve, then commit.  Each call checks its
 *    arguments, then reserves the VMA structs its worst case needs
 *    (vm_spares), then changes the tree; page-table allocation failures are
 *    undone before anything else changed.  Errors leave the space as it was.
 * 6. Sources: Linux mm/mmap.c, mm/mprotect.c, mm/mremap.c and mm/madvise.c
 *    for the semantics and errors; seed 004 (Kora mspace_*) for the API
 *    shape and the dead/scavenge/sweep cycle; BSD pmap(9) for the HAL split.
 */
#include "vm/vm_internal.h"

int vm_system_init(struct vm_system *sys, struct phys *ph)
{
	mmk_memset(sys, 0, sizeof(*sys));
	sys->phys = ph;
	sys->machine = ph->machine;
	sys->next_space_id = 1;
	int rc = kmem_cache_init(&sys->vma_cache, ph, "vm_area", sizeof(struct vm_area), 8);
	if (!rc)
		rc = kmem_cache_init(&sys->object_cache, ph, "vm_object", sizeof(struct vm_object), 8);
	if (!rc)
		rc = kmem_cache_init(&sys->space_cache, ph, "vm_space", sizeof(struct vm_space), 64);
	if (!rc)
		rc = kmem_cache_init(&sys->anon_cache, ph, "vm_anon", sizeof(struct vm_anon), 8);
	if (!rc)
		rc = kmem_cache_init(&sys->amap_cache, ph, "vm_amap", sizeof(struct vm_amap), 8);
	if (!rc)
		rc = radix_node_cache_init(&sys->radix_cache, ph);
	return rc;
}

size_t vm_system_reap(struct vm_system *sys)
{
	return kmem_cache_reap(&sys->vma_cache) + kmem_cache_reap(&sys->object_cache) +
	       kmem_cache_reap(&sys->space_cache) + kmem_cache_reap(&sys->anon_cache) +
	       kmem_cache_reap(&sys->amap_cache) + kmem_cache_reap(&sys->radix_cache);
}

static int space_alloc(struct vm_system *sys, struct vm_space **out);
static void space_free(struct vm_space *as);

int vm_system_init_nommu(struct vm_system *sys, struct phys *ph)
{
	int rc = vm_system_init(sys, ph);
	if (rc)
		return rc;
	sys->nommu = true;
	rc = space_alloc(sys, &sys->shared_map);
	if (rc)
		vm_system_fini(sys);
	return rc;
}

int vm_system_fini(struct vm_system *sys)
{
	if (sys->spaces || (sys->shared_map && sys->shared_map->vmas.count))
		return -MMK_EBUSY;
	if (sys->shared_map) {
		space_free(sys->shared_map);
		sys->shared_map = NULL;
	}
	if (kmem_cache_live(&sys->vma_cache) || kmem_cache_live(&sys->object_cache) || kmem_cache_live(&sys->space_cache) || kmem_cache_live(&sys->anon_cache) ||
	    kmem_cache_live(&sys->amap_cache) || kmem_cache_live(&sys->radix_cache))
		return -MMK_EBUSY;
	kmem_cache_destroy(&sys->vma_cache);
	kmem_cache_destroy(&sys->object_cache);
	kmem_cache_destroy(&sys->space_cache);
	kmem_cache_destroy(&sys->anon_cache);
	kmem_cache_destroy(&sys->amap_cache);
	kmem_cache_destroy(&sys->radix_cache);
	return 0;
}

/* Spaces come from their own cache (zero-filled); without an MMU there are
 * no page tables. */
static int space_alloc(struct vm_system *sys, struct vm_space **out)
{
	struct vm_space *as = kmem_cache_alloc(&sys->space_cache);
	if (!as)
		return -MMK_ENOMEM;
	int rc;
	as->sys = sys;
	hal_spin_init(&as->lock);
	rb_init(&as->vmas, vma_augment);
	struct pmap_pt_source src = { vm_pt_alloc, vm_pt_free, as }; /* charged to as's account (charge.c) */
	rc = sys->nommu ? 0 : pmap_create(&as->pmap, sys->machine, &src, as);
	if (rc) {
		kmem_cache_free(&sys->space_cache, as);
		return rc;
	}
	as->min_addr = VM_DEFAULT_MIN_ADDR;
	as->max_addr = VM_DEFAULT_MAX_ADDR;
	as->mmap_base = VM_DEFAULT_MAX_ADDR - VM_DEFAULT_MMAP_GAP;
	as->stack_limit = VM_DEFAULT_STACK_LIMIT;
	as->stack_guard = VM_DEFAULT_STACK_GUARD;
	*out = as;
	return 0;
}

static void space_free(struct vm_space *as)
{
	struct vm_system *sys = as->sys;
	hal_spin_lock(&as->lock);
	if (!sys->nommu) {
		vm_writeback_locked(as, 0, PMAP_USER_END); /* exit writes shared dirty pages back */
		vm_zap_range(as, 0, PMAP_USER_END);
	}
	struct vm_area *v;
	while ((v = vma_of(rb_first(&as->vmas)))) {
		vma_unlink(as, v);
		vma_free(as, v);
	}
	if (!sys->nommu)
		pmap_destroy(&as->pmap);
	hal_spin_unlock(&as->lock);
	vm_charge_fini(as); /* stock and page tables back to the account; leave it */
	kmem_cache_free(&sys->space_cache, as);
}

int vm_space_create(struct vm_system *sys, struct vm_space **out)
{
	int rc = space_alloc(sys, out);
	if (rc)
		return rc;
	struct vm_space *as = *out;
	as->id = sys->next_space_id++;
	as->next_space = sys->space_list;
	if (sys->space_list)
		sys->space_list->prev_space = as;
	sys->space_list = as;
	sys->spaces++;
	return 0;
}

void vm_space_destroy(struct vm_space *as)
{
	struct vm_system *sys = as->sys;
	if (as->prev_space)
		as->prev_space->next_space = as->next_space;
	else
		sys->space_list = as->next_space;
	if (as->next_space)
		as->next_space->prev_space = as->prev_space;
	if (sys->clock_space == as) {
		sys->clock_space = as->next_space;
		sys->clock_va = 0;
	}
	if (as->sys->nommu)
		nommu_destroy(as);
	as->sys->spaces--;
	space_free(as);
}

void vm_system_set_swap(struct vm_system *sys, const struct vm_pager *swap, uint64_t low_watermark)
{
	sys->swap = *swap;
	sys->low_watermark = low_watermark;
}

int vm_space_set_stack(struct vm_space *as, uint64_t limit, uint64_t guard)
{
	if (!mmk_page_aligned(limit) || !mmk_page_aligned(guard))
		return -MMK_EINVAL;
	hal_spin_lock(&as->lock);
	as->stack_limit = limit;
	as->stack_guard = guard;
	/* Every growsdown VMA's gap changes with the guard. */
	for (struct vm_area *v = vma_of(rb_first(&as->vmas)); v; v = vma_next(v))
		vma_bounds_changed(as, v);
	hal_spin_unlock(&as->lock);
	return 0;
}

void vm_space_activate(struct vm_space *as, unsigned cpu)
{
	if (!as->sys->nommu)
		pmap_activate(&as->pmap, cpu);
}

unsigned vm_pte_prot(unsigned vm_prot)
{
	if (!(vm_prot & VM_PROT_ALL))
		return PMAP_PROT_NONE;
	/* x86: every accessible page is readable. */
	unsigned p = PMAP_PROT_USER | PMAP_PROT_READ;
	if (vm_prot & VM_PROT_WRITE)
		p |= PMAP_PROT_WRITE;
	if (vm_prot & VM_PROT_EXEC)
		p |= PMAP_PROT_EXEC;
	return p;
}

/* A translation went away: one mapping less on its frame.  The frame
 * itself belongs to an anon or an object, which frees it. */
void vm_unmap_frame(void *ctx, vaddr_t va, paddr_t pa, unsigned bits)
{
	struct vm_space *as = ctx;
	(void)va;
	(void)bits;
	vm_frame_mapcount(as->sys, pa, -1);
}

void vm_zap_range(struct vm_space *as, vaddr_t start, vaddr_t end)
{
	pmap_remove(&as->pmap, start, end, vm_unmap_frame, as);
}

void vma_drop_anons(struct vm_space *as, struct vm_area *v, vaddr_t start, vaddr_t end)
{
	if (v->amap)
		vm_amap_drop_range(as->sys, v->amap, vma_slot(v, start), (end - start) >> MMK_PAGE_SHIFT);
}

int vma_amap_make_private(struct vm_space *as, struct vm_area *v)
{
	if (!v->amap || v->amap->refcount == 1)
		return 0;
	struct vm_amap *copy;
	int rc = vm_amap_copy(as->sys, v->amap, v->amap_slot, vma_pages(v), &copy);
	if (rc)
		return rc;
	/* The copy took a reference on each anon; the old amap gives its up. */
	vm_amap_drop_range(as->sys, v->amap, v->amap_slot, vma_pages(v));
	vm_amap_release(as->sys, v->amap);
	v->amap = copy;
	return 0;
}

bool vm_range_ok(const struct vm_space *as, vaddr_t start, uint64_t len)
{
	return start <= as->max_addr && len <= as->max_addr - start;
}

const struct vm_area *vm_search(struct vm_space *as, vaddr_t addr)
{
	hal_spin_lock(&as->lock);
	const struct vm_area *v = vma_find(as, addr);
	hal_spin_unlock(&as->lock);
	return v;
}

const struct vm_area *vm_first_from(struct vm_space *as, vaddr_t addr)
{
	hal_spin_lock(&as->lock);
	const struct vm_area *v = vma_lower_bound(as, addr);
	hal_spin_unlock(&as->lock);
	return v;
}

const struct vm_area *vm_next(const struct vm_area *vma) { return vma_next(vma); }

void vm_space_get_stats(struct vm_space *as, struct vm_space_stats *st)
{
	hal_spin_lock(&as->lock);
	st->vmas = as->vmas.count; /* non-MMU mode: the space's own tree is empty */
	st->mapped_bytes = as->mapped_pages << MMK_PAGE_SHIFT;
	st->resident_bytes = (uint64_t)as->pmap.resident << MMK_PAGE_SHIFT;
	st->pt_pages = as->pmap.pt_pages;
	st->faults = as->faults;
	st->faults_refused = as->faults_refused;
	st->zero_fills = as->zero_fills;
	hal_spin_unlock(&as->lock);
}
