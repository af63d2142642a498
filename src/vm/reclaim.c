/*
 * vm/reclaim.c - page reclaim.
 *
 * 1. The page cache first: object pages that no translation maps (kept
 *    after munmap or exit, shared memory nobody maps now) cost nothing to
 *    take: no translation to remove, no one to ask.  A clock over the
 *    objects (vm_system.objects, hand cache_hand/cache_hand_pgoff) frees
 *    them: a clean file page is dropped (the file has its bytes), a dirty
 *    one is written back first, a page of shared anonymous memory goes to
 *    the swap pager.  The scan looks at a bounded number of entries per
 *    call and stops for good once a whole turn found nothing and no
 *    translation was removed meanwhile (cache_unmapped_hint, bumped
 *    whenever a frame loses its last translation).
 * 2. Then a clock over the translations of every space (the two-handed
 *    clocks of BSD, the page-table scan of early Linux): the hand walks the
 *    spaces in sys->space_list order and each space's translations in
 *    address order, remembering where it stopped (clock_space, clock_va).
 *    A translation whose accessed bit is set gets a second chance (the bit
 *    is cleared).  Otherwise:
 *    - a private page held by an anon nobody shares (refcount 1) and mapped
 *      once goes to the swap pager;
 *    - an object page (MAP_SHARED file or anonymous memory, or a file page
 *      a private mapping reads) is taken from every space mapping it, found
 *      through the object's mappings list (Linux's i_mmap walk: no reverse
 *      map per frame, the frame descriptor stays 24 bytes): when none of
 *      its translations was accessed, all are write-protected, the bytes
 *      are saved (vm_object_page_out: written back when dirty, nothing for
 *      a clean file page, the swap pager for anonymous memory), then every
 *      translation goes and the frame is freed.  A later fault reads the
 *      page back (file pager or swap slot in the object's entry).
 *    Anons shared copy-on-write after fork stay (finding their translations
 *    would need a reverse map of amaps).
 * 3. Locking: the caller may hold one space's lock (locked); every other
 *    space is taken with trylock and the page (or the space) is skipped
 *    when busy, so reclaim never waits while holding a space lock.
 * 4. Failure: a pager error restores write access (no allocation needed)
 *    and skips the page: it stays resident and mapped, nothing changed.
 */
#include "vm/vm_internal.h"

#define RECLAIM_BATCH 64
#define RECLAIM_MAX_SITES 32 /* translations of one object page reclaim may take */

/* ---- 1. the page cache ---- */

/* Save and free unmapped page key (frame pfn) of o; true when freed. */
static bool evict_unmapped(struct vm_system *sys, struct vm_object *o, uint64_t key, pfn_t pfn)
{
	uint64_t slot = 0;
	if (vm_object_page_out(sys, o, key, pfn, vm_object_dirty(o, key), &slot))
		return false; /* the pager refused: the page stays */
	vm_object_evicted(sys, o, key, slot);
	return true;
}

/* End of one object: move the hand on; at the end of a turn, stop scanning
 * if the turn found nothing and no translation went meanwhile. */
static void next_object(struct vm_system *sys, struct vm_object *o)
{
	sys->cache_hand = o->sys_next;
	sys->cache_hand_pgoff = 0;
	if (sys->cache_hand)
		return;
	if (!sys->cache_turn_found && sys->cache_unmapped_hint == sys->cache_turn_hint)
		sys->cache_unmapped_hint = 0;
	sys->cache_turn_found = false;
	sys->cache_turn_hint = sys->cache_unmapped_hint;
}

static uint64_t reclaim_cache(struct vm_system *sys, uint64_t target)
{
	uint64_t freed = 0, budget = 8 * target + RECLAIM_BATCH;
	while (freed < target && budget && sys->cache_unmapped_hint && sys->objects) {
		budget--;
		struct vm_object *o = sys->cache_hand ? sys->cache_hand : sys->objects;
		sys->cache_hand = o;
		uint64_t key;
		void *e = vm_object_evictable(sys, o) ? radix_next(&o->pages, sys->cache_hand_pgoff, &key) : NULL;
		if (!e || key == UINT64_MAX) {
			next_object(sys, o);
			continue;
		}
		sys->cache_hand_pgoff = key + 1;
		pfn_t pfn;
		if (!vm_object_entry_frame(e, &pfn) || phys_frame(sys->phys, pfn)->refcount)
			continue;
		sys->cache_turn_found = true;
		freed += evict_unmapped(sys, o, key, pfn);
	}
	return freed;
}

/* ---- 2. the translation clock ---- */

/* Space locks one reclaim step holds: the caller's and the scanned
 * space's, and those it took with trylock. */
struct held {
	struct vm_space *own[2];
	struct vm_space *taken[RECLAIM_MAX_SITES];
	unsigned ntaken;
};

/* Hold as's lock: true when held already or taken now. */
static bool hold(struct held *h, struct vm_space *as)
{
	if (as == h->own[0] || as == h->own[1])
		return true;
	for (unsigned i = 0; i < h->ntaken; i++)
		if (h->taken[i] == as)
			return true;
	if (h->ntaken == RECLAIM_MAX_SITES || !hal_spin_trylock(&as->lock))
		return false;
	h->taken[h->ntaken++] = as;
	return true;
}

static void release(struct held *h)
{
	while (h->ntaken)
		hal_spin_unlock(&h->taken[--h->ntaken]->lock);
}

/* A private page of one anon mapped once: to the swap pager. */
static bool evict_anon(struct vm_space *as, vaddr_t va, struct vm_anon *a, pfn_t pfn, unsigned bits)
{
	struct vm_system *sys = as->sys;
	if (!sys->swap.page_out || a->swapped || a->refcount != 1 || pfn != a->pfn ||
	    phys_frame(sys->phys, pfn)->refcount != 1)
		return false;
	/* Write-protect first (with shootdown) so nobody changes the page while
	 * it goes out; a refusal then only gives write access back, which
	 * needs no allocation.  The translation goes once the bytes are out. */
	unsigned prot = bits & PMAP_PROT_ALL;
	pmap_protect(&as->pmap, va, va + MMK_PAGE_SIZE, prot & ~PMAP_PROT_WRITE);
	uint64_t slot;
	if (vm_anon_page_out(sys, a, &slot) != 0) {
		pmap_protect(&as->pmap, va, va + MMK_PAGE_SIZE, prot);
		return false;
	}
	pmap_remove(&as->pmap, va, va + MMK_PAGE_SIZE, vm_unmap_frame, as);
	vm_anon_swapped(sys, a, slot);
	return true;
}

/* One translation of an object page. */
struct site {
	struct vm_space *as;
	vaddr_t va;
	unsigned bits;
};

struct sites {
	struct site s[RECLAIM_MAX_SITES];
	unsigned n;
	bool young, dirty;
};

/* Find every translation of page pgoff (frame pfn) through obj's mappings,
 * locking their spaces.  False when one cannot be taken (busy, locked,
 * too many) or the count disagrees with the frame's. */
static bool find_sites(struct vm_system *sys, struct held *h, struct vm_object *obj, uint64_t pgoff, pfn_t pfn,
		       struct sites *st)
{
	for (struct vm_area *m = obj->mappings; m; m = m->obj_next) {
		vaddr_t va;
		paddr_t pa;
		unsigned bits;
		if (!vma_object_va(m, pgoff, &va))
			continue;
		if (!hold(h, m->space))
			return false;
		if (pmap_extract(&m->space->pmap, va, &pa, &bits) != 0 || mmk_paddr_to_pfn(pa) != pfn)
			continue; /* not faulted in there, or a private copy */
		if ((m->flags & (VMA_LOCKED | VMA_SPECIAL)) || st->n == RECLAIM_MAX_SITES)
			return false;
		st->s[st->n++] = (struct site){ m->space, va, bits };
		st->young |= (bits & PMAP_ACCESSED) != 0;
		st->dirty |= (bits & PMAP_DIRTY) != 0;
	}
	return st->n == phys_frame(sys->phys, pfn)->refcount;
}

/* Take page pgoff (frame pfn) of obj from every space that maps it and
 * free its frame; true when freed. */
static bool evict_object_page(struct vm_system *sys, struct held *h, struct vm_object *obj, uint64_t pgoff,
			      pfn_t pfn)
{
	pfn_t cur;
	if (!vm_object_evictable(sys, obj) || !vm_object_lookup(obj, pgoff, &cur) || cur != pfn)
		return false;
	struct sites st = { .n = 0, .young = false, .dirty = vm_object_dirty(obj, pgoff) };
	bool freed = false;
	if (!find_sites(sys, h, obj, pgoff, pfn, &st))
		goto out;
	if (st.young) {
		/* Used through another mapping since the last pass: a second
		 * chance for the page as a whole. */
		for (unsigned i = 0; i < st.n; i++)
			pmap_clear_accessed(&st.s[i].as->pmap, st.s[i].va);
		goto out;
	}
	for (unsigned i = 0; i < st.n; i++)
		pmap_protect(&st.s[i].as->pmap, st.s[i].va, st.s[i].va + MMK_PAGE_SIZE,
			     st.s[i].bits & PMAP_PROT_ALL & ~PMAP_PROT_WRITE);
	uint64_t slot = 0;
	if (vm_object_page_out(sys, obj, pgoff, pfn, st.dirty, &slot) != 0) {
		for (unsigned i = 0; i < st.n; i++)
			pmap_protect(&st.s[i].as->pmap, st.s[i].va, st.s[i].va + MMK_PAGE_SIZE,
				     st.s[i].bits & PMAP_PROT_ALL);
		goto out;
	}
	for (unsigned i = 0; i < st.n; i++)
		pmap_remove(&st.s[i].as->pmap, st.s[i].va, st.s[i].va + MMK_PAGE_SIZE, vm_unmap_frame, st.s[i].as);
	vm_object_evicted(sys, obj, pgoff, slot);
	freed = true;
out:
	release(h);
	return freed;
}

/* Try to free the frame the translation at va of as maps. */
static bool evict(struct vm_space *locked, struct vm_space *as, vaddr_t va)
{
	if (pmap_clear_accessed(&as->pmap, va))
		return false; /* used since the last pass: second chance */
	struct vm_area *v = vma_find(as, va);
	paddr_t pa;
	unsigned bits;
	if (!v || (v->flags & (VMA_LOCKED | VMA_SPECIAL)) || pmap_extract(&as->pmap, va, &pa, &bits) != 0)
		return false;
	pfn_t pfn = mmk_paddr_to_pfn(pa);
	struct vm_anon *a = (v->flags & VMA_SHARED) ? NULL : vm_amap_lookup(v->amap, vma_slot(v, va));
	if (a)
		return evict_anon(as, va, a, pfn, bits);
	if (!v->object)
		return false;
	struct held h = { .own = { locked, as }, .ntaken = 0 };
	return evict_object_page(as->sys, &h, v->object, vma_pgoff(v, va), pfn);
}

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

/* Run the hand over as from the clock position; frames freed. */
static uint64_t scan_space(struct vm_system *sys, struct vm_space *locked, struct vm_space *as, uint64_t target,
			   bool *wrapped)
{
	uint64_t freed = 0;
	*wrapped = false;
	while (freed < target) {
		struct batch b = { .n = 0, .next = PMAP_USER_END };
		pmap_walk(&as->pmap, sys->clock_va, PMAP_USER_END, collect, &b);
		for (unsigned i = 0; i < b.n && freed < target; i++)
			freed += evict(locked, as, b.va[i]);
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
	if (sys->nommu)
		return 0; /* mappings are fixed physical blocks: nothing to page */
	uint64_t freed = reclaim_cache(sys, target);
	/* Two full turns at most: the first may only clear accessed bits. */
	for (uint64_t visited = 0; freed < target && sys->space_list && visited < 2 * sys->spaces + 2; visited++) {
		struct vm_space *as = sys->clock_space ? sys->clock_space : sys->space_list;
		bool wrapped = true;
		if (as == locked || hal_spin_trylock(&as->lock)) {
			freed += scan_space(sys, locked, as, target - freed, &wrapped);
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
