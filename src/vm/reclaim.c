/*
 * vm/reclaim.c - page reclaim: a clock over the translations of every
 * address space, after the two-handed clocks of BSD and the "scan each mm's
 * page tables" reclaim of early Linux (no reverse map is needed because
 * only pages with one translation are taken).
 *
 * 1. The hand walks the spaces in sys->space_list order and each space's
 *    translations in address order, remembering where it stopped
 *    (clock_space, clock_va).
 * 2. A translation whose accessed bit is set gets a second chance: the bit
 *    is cleared.  One whose bit is clear is a candidate: a private page held
 *    by an anon nobody shares (refcount 1) and mapped once (frame refcount
 *    1) goes to the swap pager; its translation goes, its frame is freed.
 *    Shared anons, file and shared-object pages stay (no file pager yet).
 * 3. Locking: the caller may hold one space's lock (locked); other spaces
 *    are taken with trylock and skipped when busy, so reclaim never waits
 *    while holding a space lock (no lock-order inversion).
 * 4. Failure: a pager error skips the page; nothing is lost.
 */
#include "vm/vm_internal.h"

#define RECLAIM_BATCH 64

struct batch {
	vaddr_t va[RECLAIM_BATCH];
	unsigned n;
	vaddr_t next; /* where the walk should resume */
};

static void collect(void *ctx, vaddr_t va, paddr_t pa, unsigned bits)
{
	struct batch *b = ctx;
	(void)pa;
	if (b->n < RECLAIM_BATCH && (bits & PMAP_PROT_ALL)) {
		b->va[b->n++] = va;
		b->next = va + MMK_PAGE_SIZE;
	}
}

/* Try to send the page at va of as to swap; true when its frame was freed. */
static bool evict(struct vm_space *as, vaddr_t va)
{
	if (pmap_clear_accessed(&as->pmap, va))
		return false; /* used since the last pass: second chance */
	struct vm_area *v = vma_find(as, va);
	if (!v || (v->flags & (VMA_SHARED | VMA_LOCKED | VMA_SPECIAL)))
		return false;
	struct vm_anon *a = vm_amap_lookup(v->amap, vma_slot(v, va));
	paddr_t pa;
	unsigned bits;
	if (!a || a->swapped || a->refcount != 1 || pmap_extract(&as->pmap, va, &pa, &bits) != 0 ||
	    mmk_paddr_to_pfn(pa) != a->pfn || phys_frame(as->sys->phys, a->pfn)->refcount != 1)
		return false;
	/* Write-protect first (with shootdown) so nobody changes the page while
	 * it goes out; a refusal then only gives write access back, which
	 * needs no allocation.  The translation goes once the bytes are out. */
	unsigned prot = bits & PMAP_PROT_ALL;
	pmap_protect(&as->pmap, va, va + MMK_PAGE_SIZE, prot & ~PMAP_PROT_WRITE);
	uint64_t slot;
	if (vm_anon_page_out(as->sys, a, &slot) != 0) {
		pmap_protect(&as->pmap, va, va + MMK_PAGE_SIZE, prot);
		return false;
	}
	pmap_remove(&as->pmap, va, va + MMK_PAGE_SIZE, vm_unmap_frame, as);
	vm_anon_swapped(as->sys, a, slot);
	return true;
}

/* Run the hand over as from the clock position; frames freed. */
static uint64_t scan_space(struct vm_system *sys, struct vm_space *as, uint64_t target, bool *wrapped)
{
	uint64_t freed = 0;
	*wrapped = false;
	while (freed < target) {
		struct batch b = { .n = 0, .next = PMAP_USER_END };
		pmap_walk(&as->pmap, sys->clock_va, PMAP_USER_END, collect, &b);
		for (unsigned i = 0; i < b.n && freed < target; i++)
			freed += evict(as, b.va[i]);
		if (b.n < RECLAIM_BATCH) {
			*wrapped = true; /* reached the end of this space */
			sys->clock_va = 0;
			break;
		}
		sys->clock_va = b.next;
	}
	return freed;
}

uint64_t vm_reclaim(struct vm_system *sys, struct vm_space *locked, uint64_t target)
{
	if (!sys->swap.page_out || !sys->space_list)
		return 0;
	uint64_t freed = 0;
	/* Two full turns at most: the first may only clear accessed bits. */
	for (uint64_t visited = 0; freed < target && visited < 2 * sys->spaces + 2; visited++) {
		struct vm_space *as = sys->clock_space ? sys->clock_space : sys->space_list;
		bool wrapped = true;
		if (as == locked || hal_spin_trylock(&as->lock)) {
			freed += scan_space(sys, as, target - freed, &wrapped);
			if (as != locked)
				hal_spin_unlock(&as->lock);
		}
		if (wrapped) {
			sys->clock_space = as->next_space ? as->next_space : sys->space_list;
			sys->clock_va = 0;
		}
	}
	return freed;
}
