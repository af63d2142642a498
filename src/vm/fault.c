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

/* Move a stack VMA's start to new_start (down to grow, back up to undo). */
static void set_stack_start(struct vm_space *as, struct vm_area *v, vaddr_t new_start)
{
	as->mapped_pages -= vma_pages(v);
	if (v->object)
		v->offset = v->offset + new_start - v->start;
	v->start = new_start;
	as->mapped_pages += vma_pages(v);
	vma_bounds_changed(as, v);
}

/* First touch: a zeroed user frame mapped with the VMA's protection.  tag
 * marks the frame (mmk_frame.private_data) for a populate call's undo. */
static int zero_fill(struct vm_space *as, const struct vm_area *v, vaddr_t page, uint64_t tag)
{
	pfn_t pfn;
	int rc = phys_alloc(as->sys->phys, 0, PHYS_USER | PHYS_ZERO, &pfn);
	if (rc)
		return rc;
	rc = pmap_enter(&as->pmap, page, mmk_pfn_to_paddr(pfn), vm_pte_prot(v->prot));
	if (rc) {
		phys_free(as->sys->phys, pfn, 0);
		return rc;
	}
	struct mmk_frame *f = phys_frame(as->sys->phys, pfn);
	f->refcount = 1;
	f->private_data = tag;
	as->sys->user_frames++;
	as->zero_fills++;
	return 0;
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
	vaddr_t page = mmk_page_round_down(va);
	paddr_t pa;
	unsigned bits;
	int rc;
	if (pmap_extract(&as->pmap, page, &pa, &bits) == 0) {
		/* Present: raise the translation to what the VMA allows (the
		 * copy-on-write step of issue 3 goes here). */
		unsigned want = vm_pte_prot(v->prot);
		rc = (bits & PMAP_PROT_ALL) == want ? 0 : pmap_enter(&as->pmap, page, pa, want);
	} else {
		rc = zero_fill(as, v, page, 0);
	}
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
	for (vaddr_t va = start; va < end; va += MMK_PAGE_SIZE) {
		paddr_t pa;
		unsigned bits;
		if (pmap_extract(&as->pmap, va, &pa, &bits) != 0)
			continue;
		if (phys_frame(as->sys->phys, mmk_paddr_to_pfn(pa))->private_data != tag)
			continue;
		pmap_remove(&as->pmap, va, va + MMK_PAGE_SIZE, vm_unmap_frame, as);
		as->zero_fills--;
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
		int rc = zero_fill(as, v, va, tag);
		if (rc) {
			if (undo)
				unpopulate(as, start, va, tag);
			return rc;
		}
	}
	(void)write;
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
