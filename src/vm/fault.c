/*
 * vm/fault.c - the page-fault handler: one step of DESIGN.md's fault path
 * (HAL trap -> vm_fault -> VMA lookup -> page -> frame from phys ->
 * pmap_enter).
 *
 * A fault is resolved when the VMA allows the access: a missing page gets a
 * zeroed frame (demand zero), a present page whose translation is weaker
 * than its VMA gets the VMA's protection, and an address just below a
 * growsdown VMA extends the stack first (Linux expand_stack, with its
 * RLIMIT_STACK and stack_guard_gap checks).  Otherwise the fault is refused:
 * -MMK_EFAULT for no mapping (SEGV_MAPERR), -MMK_EACCES for a forbidden
 * access (SEGV_ACCERR).  x86 rules: any accessible page is readable.
 */
#include "vm/vm_internal.h"

static bool access_allowed(const struct vm_area *v, unsigned access)
{
	if (v->flags & VMA_DEAD)
		return false;
	if ((access & PMAP_ACCESS_WRITE) && !(v->prot & VM_PROT_WRITE))
		return false;
	if ((access & PMAP_ACCESS_EXEC) && !(v->prot & VM_PROT_EXEC))
		return false;
	return (v->prot & VM_PROT_ALL) != 0;
}

/* The growsdown VMA that a fault at va may extend, or NULL. */
static struct vm_area *stack_to_grow(struct vm_space *as, vaddr_t va)
{
	struct vm_area *v = vma_lower_bound(as, va);
	if (!v || !(v->flags & VMA_GROWSDOWN) || (v->flags & VMA_DEAD))
		return NULL;
	vaddr_t new_start = mmk_page_round_down(va);
	if (new_start < as->min_addr || v->end - new_start > as->stack_limit)
		return NULL;
	/* Linux expand_downwards: the guard gap holds only against an
	 * accessible VMA below that is not itself a stack. */
	struct vm_area *p = vma_prev(v);
	if (p && p->end > new_start)
		return NULL;
	if (p && !(p->flags & VMA_GROWSDOWN) && (p->prot & VM_PROT_ALL) && new_start - p->end < as->stack_guard)
		return NULL;
	return v;
}

/* Move a stack VMA's start to new_start (down to grow, back up to undo);
 * its amap slot and object offset move with it. */
static void set_stack_start(struct vm_space *as, struct vm_area *v, vaddr_t new_start)
{
	as->mapped_pages -= vma_pages(v);
	v->amap_slot = v->amap_slot + ((int64_t)(new_start - v->start) >> MMK_PAGE_SHIFT);
	if (v->object)
		v->offset = v->offset + new_start - v->start;
	v->start = new_start;
	as->mapped_pages += vma_pages(v);
	vma_bounds_changed(as, v);
}

/* Map frame pfn at page with pte_prot, keeping frame refcounts (one per
 * translation) right when a translation is replaced.  0 or -MMK_ENOMEM. */
static int map_frame(struct vm_space *as, vaddr_t page, pfn_t pfn, unsigned pte_prot)
{
	paddr_t old_pa, pa = mmk_pfn_to_paddr(pfn);
	unsigned old_bits;
	bool had = pmap_extract(&as->pmap, page, &old_pa, &old_bits) == 0;
	int rc = pmap_enter(&as->pmap, page, pa, pte_prot);
	if (rc)
		return rc;
	if (!had || old_pa != pa) {
		vm_frame_mapcount(as->sys, pa, 1);
		if (had)
			vm_frame_mapcount(as->sys, old_pa, -1);
	}
	return 0;
}

/* An external object's page (a physmem container): the source names the
 * frame and says whether it may be written now (hook for src/physmem). */
static int fault_external(struct vm_space *as, struct vm_area *v, vaddr_t page, unsigned access)
{
	const struct vm_page_source *src = &v->object->source;
	pfn_t pfn;
	bool writable = true;
	if (!src->page)
		return -MMK_EFAULT; /* detached: the container or share is gone */
	int rc = src->page(src->ctx, as, vma_pgoff(v, page), access, &pfn, &writable);
	if (rc)
		return rc;
	return map_frame(as, page, pfn, writable ? vm_pte_prot(v->prot) : vm_pte_prot_ro(v->prot));
}

/* Map the object's page of v at page with pte_prot.  A page this fault
 * made is taken back if the mapping fails; one that was there (resident,
 * or brought back from swap) stays, its bytes being the object's. */
static int map_object_page(struct vm_space *as, struct vm_area *v, vaddr_t page, unsigned pte_prot, uint64_t tag)
{
	uint64_t pgoff = vma_pgoff(v, page);
	bool existed = vm_object_has(v->object, pgoff);
	pfn_t pfn;
	int rc = vm_object_page_charged(as, v->object, pgoff, &pfn); /* resident: nothing to pay */
	if (rc)
		return rc;
	if (!existed)
		phys_frame(as->sys->phys, pfn)->private_data = tag;
	rc = map_frame(as, page, pfn, pte_prot);
	if (rc && !existed)
		vm_object_forget(as->sys, v->object, pgoff);
	return rc;
}

/* A shared mapping uses the object's page itself. */
static int fault_shared(struct vm_space *as, struct vm_area *v, vaddr_t page, unsigned access, uint64_t tag)
{
	if (v->object->type == VM_OBJECT_EXTERNAL)
		return fault_external(as, v, page, access);
	return map_object_page(as, v, page, vm_pte_prot(v->prot), tag);
}

/* The page a private copy starts from: the anon's, else the object's
 * (made zero if it has none), else none (a zero page). */
static int copy_source(struct vm_space *as, struct vm_area *v, vaddr_t page, struct vm_anon *anon, pfn_t *src,
		       bool *have)
{
	*have = true;
	if (anon) {
		*src = anon->pfn;
		return 0;
	}
	if (v->object)
		return vm_object_page_charged(as, v->object, vma_pgoff(v, page), src);
	*have = false;
	return 0;
}

/* Give page its own anon (a copy of what it shows now, or zeroes) and map
 * it writable: the copy-on-write step, and demand zero. */
static int fault_private_new_anon(struct vm_space *as, struct vm_area *v, vaddr_t page, struct vm_anon *anon,
				  uint64_t tag)
{
	struct vm_system *sys = as->sys;
	bool new_amap = !v->amap;
	if (new_amap && vm_amap_new(sys, &v->amap))
		return -MMK_ENOMEM;
	uint64_t slot = vma_slot(v, page);
	pfn_t src;
	bool have_src;
	struct vm_anon *fresh = NULL;
	int rc = vm_amap_reserve(v->amap, slot);
	if (rc)
		goto undo_amap;
	rc = copy_source(as, v, page, anon, &src, &have_src);
	if (!rc)
		rc = vm_anon_new_charged(as, !have_src, &fresh);
	if (rc)
		goto undo_reserve;
	if (have_src)
		mmk_memcpy(phys_frame_ptr(sys->phys, fresh->pfn), phys_frame_ptr(sys->phys, src), MMK_PAGE_SIZE);
	phys_frame(sys->phys, fresh->pfn)->private_data = tag;
	struct vm_anon *old = vm_amap_set(v->amap, slot, fresh);
	rc = map_frame(as, page, fresh->pfn, vm_pte_prot(v->prot));
	if (rc) {
		vm_amap_set(v->amap, slot, old); /* old back, or the slot emptied */
		vm_anon_release(sys, fresh);
		goto undo_reserve;
	}
	vm_amap_unreserve(v->amap, slot);
	if (old)
		vm_anon_release(sys, old);
	if (have_src)
		sys->cow_copies++;
	else
		sys->zero_fills++;
	as->zero_fills += !have_src;
	return 0;
undo_reserve:
	vm_amap_unreserve(v->amap, slot);
undo_amap:
	if (new_amap) {
		vm_amap_release(sys, v->amap);
		v->amap = NULL;
	}
	return rc;
}

/* A private mapping: reads see the anon or the object's page (read-only
 * while shared), writes get a page of their own. */
static int fault_private(struct vm_space *as, struct vm_area *v, vaddr_t page, unsigned access, uint64_t tag)
{
	struct vm_anon *anon = vm_amap_lookup(v->amap, vma_slot(v, page));
	bool write = access & PMAP_ACCESS_WRITE;
	if (anon && anon->swapped) {
		int rc = vm_anon_swap_in_charged(as, anon); /* a page-in, before anything else */
		if (rc)
			return rc;
	}
	if (anon && (anon->refcount == 1 || !write)) {
		unsigned pte = anon->refcount == 1 ? vm_pte_prot(v->prot) : vm_pte_prot_ro(v->prot);
		return map_frame(as, page, anon->pfn, pte);
	}
	if (!anon && !write && v->object)
		return map_object_page(as, v, page, vm_pte_prot_ro(v->prot), tag);
	return fault_private_new_anon(as, v, page, anon, tag);
}

/* Resolve the fault of page in v (the access is allowed). */
static int resolve(struct vm_space *as, struct vm_area *v, vaddr_t page, unsigned access, uint64_t tag)
{
	int rc = vm_kframes_fault_check(as->sys, v, page); /* seed 002: device objects over kernel frames */
	if (rc)
		return rc;
	if (v->flags & VMA_SHARED)
		return fault_shared(as, v, page, access, tag);
	return fault_private(as, v, page, access, tag);
}

int vm_fault_locked(struct vm_space *as, vaddr_t va, unsigned access)
{
	struct vm_area *v = vma_find(as, va);
	vaddr_t grown_from = 0;
	if (!v) {
		v = stack_to_grow(as, va);
		if (!v || !access_allowed(v, access)) {
			as->faults_refused++;
			return -MMK_EFAULT;
		}
		grown_from = v->start;
		set_stack_start(as, v, mmk_page_round_down(va));
	}
	if (!access_allowed(v, access)) {
		as->faults_refused++;
		return -MMK_EACCES;
	}
	struct vm_system *sys = as->sys;
	if (phys_free_frames(sys->phys) < sys->low_watermark)
		vm_reclaim(sys, as, 2 * sys->low_watermark);
	int rc = resolve(as, v, mmk_page_round_down(va), access, 0);
	if (rc == -MMK_ENOMEM && (sys->swap.page_out || sys->low_watermark) && vm_reclaim(sys, as, 64))
		rc = resolve(as, v, mmk_page_round_down(va), access, 0); /* once more, with frames */
	if (!rc)
		as->faults++;
	else if (grown_from)
		set_stack_start(as, v, grown_from); /* no frame: the stack stays as it was */
	return rc;
}

int vm_fault(struct vm_space *as, vaddr_t va, unsigned access)
{
	if (as->sys->nommu)
		return -MMK_EFAULT; /* no MMU, no faults to resolve */
	hal_spin_lock(&as->lock);
	int rc = vm_fault_locked(as, va, access);
	hal_spin_unlock(&as->lock);
	return rc;
}

/* Take back the pages of [start, end) that carry tag. */
static void unpopulate(struct vm_space *as, vaddr_t start, vaddr_t end, uint64_t tag)
{
	struct vm_system *sys = as->sys;
	for (vaddr_t va = start; va < end; va += MMK_PAGE_SIZE) {
		paddr_t pa;
		unsigned bits;
		if (pmap_extract(&as->pmap, va, &pa, &bits) != 0)
			continue;
		pfn_t pfn = mmk_paddr_to_pfn(pa);
		if (phys_frame(sys->phys, pfn)->private_data != tag)
			continue;
		struct vm_area *v = vma_find(as, va);
		pmap_remove(&as->pmap, va, va + MMK_PAGE_SIZE, vm_unmap_frame, as);
		/* The tagged frame is a new anon's, or a new object page's
		 * (a shared page, or a private read of a file page). */
		if (!(v->flags & VMA_SHARED) && vm_amap_lookup(v->amap, vma_slot(v, va)))
			vma_drop_anons(as, v, va, va + MMK_PAGE_SIZE);
		else
			vm_object_forget(sys, v->object, vma_pgoff(v, va));
	}
}

int vm_populate_locked(struct vm_space *as, vaddr_t start, vaddr_t end, bool write, bool undo)
{
	/* A serial no other call has used marks this call's frames. */
	uint64_t tag = undo ? (++as->sys->populate_serial << 1) | 1 : 0;
	for (vaddr_t va = start; va < end; va += MMK_PAGE_SIZE) {
		struct vm_area *v = vma_find(as, va);
		if (!v) {
			struct vm_area *n = vma_lower_bound(as, va);
			if (!n)
				break;
			va = n->start - MMK_PAGE_SIZE;
			continue;
		}
		if (!(v->prot & VM_PROT_ALL) || (v->flags & VMA_DEAD)) {
			va = v->end - MMK_PAGE_SIZE; /* Linux skips what may not be touched */
			continue;
		}
		paddr_t pa;
		unsigned bits;
		if (pmap_extract(&as->pmap, va, &pa, &bits) == 0)
			continue;
		/* A private writable mapping is populated for write (its own
		 * pages), anything else for read. */
		bool w = write && (v->prot & VM_PROT_WRITE) && !(v->flags & VMA_SHARED);
		int rc = resolve(as, v, va, w ? PMAP_ACCESS_WRITE : PMAP_ACCESS_READ, tag);
		if (rc) {
			if (undo)
				unpopulate(as, start, va, tag);
			return rc;
		}
	}
	return 0;
}

int vm_populate(struct vm_space *as, vaddr_t addr, size_t len, bool write)
{
	uint64_t plen;
	if (!mmk_page_aligned(addr) || !mmk_page_round_up(len, &plen) || !vm_range_ok(as, addr, plen))
		return -MMK_EINVAL;
	if (as->sys->nommu)
		return 0; /* mappings are populated when made */
	hal_spin_lock(&as->lock);
	int rc = vm_populate_locked(as, addr, addr + plen, write, true);
	hal_spin_unlock(&as->lock);
	return rc;
}
