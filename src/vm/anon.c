/*
 * vm/anon.c - anonymous memory: anons and amaps (UVM, Cranor 1998).
 *
 * 1. What: an anon is one page of private memory with a reference count of
 *    the amap slots that name it; an amap maps slot numbers (pages) to
 *    anons.  fork copies an amap's slots, sharing every anon (refcount 2);
 *    the first write to a shared anon copies its page (copy-on-write).  The
 *    depth is one by construction: no chains of shadow objects to collapse,
 *    so 1,000 fork-then-exit rounds leave nothing behind.
 * 2. Ownership: an anon owns its frame; translations of the frame are
 *    counted in mmk_frame.refcount (by the pmap visitors), so an anon is
 *    freed only after its last translation is gone (unmap zaps first, then
 *    drops slots).  An amap owns one reference on each anon in its slots.
 * 3. Invariants (vm_check): every slot's anon has refcount >= 1 and an
 *    allocated user frame; a writable translation in a private VMA maps the
 *    frame of an anon with refcount 1 at its slot.
 * 4. Locking: amaps and anons are guarded by the lock of the space using
 *    them; a shared anon after fork is only read until copied (the counts
 *    are plain integers while one CPU runs the VM: docs/locking.md).
 * 5. Failure: every allocation happens before the change it serves
 *    (vm_amap_reserve makes a later vm_amap_set unable to fail).
 */
#include "vm/vm_internal.h"

int vm_anon_new(struct vm_system *sys, bool zero, struct vm_anon **out)
{
	struct vm_anon *a = kmem_cache_alloc(&sys->anon_cache);
	if (!a)
		return -MMK_ENOMEM;
	pfn_t pfn;
	int rc = phys_alloc(sys->phys, 0, PHYS_USER | (zero ? PHYS_ZERO : 0), &pfn);
	if (rc) {
		kmem_cache_free(&sys->anon_cache, a);
		return rc;
	}
	phys_frame(sys->phys, pfn)->private_data = 0;
	a->refcount = 1;
	a->pfn = pfn;
	a->acct = NULL; /* the caller charges (vm_anon_new_charged) */
	sys->user_frames++;
	*out = a;
	return 0;
}

void vm_anon_release(struct vm_system *sys, struct vm_anon *a)
{
	if (--a->refcount)
		return;
	if (a->swapped) {
		sys->swap.release(sys->swap.ctx, a->swap_slot);
	} else {
		phys_free(sys->phys, a->pfn, 0);
		vm_anon_uncharge(a); /* its payer, whoever frees it (charge.c) */
		sys->user_frames--;
	}
	kmem_cache_free(&sys->anon_cache, a);
}

int vm_anon_swap_in(struct vm_system *sys, struct vm_anon *a)
{
	if (!a->swapped)
		return 0;
	pfn_t pfn;
	int rc = phys_alloc(sys->phys, 0, PHYS_USER, &pfn);
	if (rc)
		return rc;
	rc = sys->swap.page_in(sys->swap.ctx, a->swap_slot, phys_frame_ptr(sys->phys, pfn));
	if (rc) {
		phys_free(sys->phys, pfn, 0); /* the bytes stay in the pager: nothing lost */
		return rc;
	}
	sys->swap.release(sys->swap.ctx, a->swap_slot);
	phys_frame(sys->phys, pfn)->private_data = 0;
	a->pfn = pfn;
	a->swapped = false;
	sys->user_frames++;
	sys->page_ins++;
	return 0;
}

int vm_anon_page_out(struct vm_system *sys, struct vm_anon *a, uint64_t *slot)
{
	return sys->swap.page_out(sys->swap.ctx, phys_frame_ptr(sys->phys, a->pfn), slot);
}

void vm_anon_swapped(struct vm_system *sys, struct vm_anon *a, uint64_t slot)
{
	phys_free(sys->phys, a->pfn, 0);
	vm_anon_uncharge(a); /* paged out: nobody pays until it is touched again */
	a->swapped = true;
	a->swap_slot = slot;
	sys->user_frames--;
	sys->page_outs++;
}

int vm_amap_new(struct vm_system *sys, struct vm_amap **out)
{
	struct vm_amap *m = kmem_cache_alloc(&sys->amap_cache);
	if (!m)
		return -MMK_ENOMEM;
	m->refcount = 1;
	radix_init(&m->slots, &sys->radix_cache);
	*out = m;
	return 0;
}

void vm_amap_drop_range(struct vm_system *sys, struct vm_amap *m, uint64_t slot, uint64_t nslots)
{
	uint64_t key;
	struct vm_anon *a;
	while ((a = radix_next(&m->slots, slot, &key)) && key < slot + nslots) {
		radix_remove(&m->slots, key);
		vm_anon_release(sys, a);
	}
}

void vm_amap_release(struct vm_system *sys, struct vm_amap *m)
{
	if (--m->refcount)
		return;
	vm_amap_drop_range(sys, m, 0, UINT64_MAX);
	radix_destroy(&m->slots);
	kmem_cache_free(&sys->amap_cache, m);
}

struct vm_anon *vm_amap_lookup(const struct vm_amap *m, uint64_t slot)
{
	return m ? radix_lookup(&m->slots, slot) : NULL;
}

/* Put a (one reference handed over) at slot, which vm_amap_reserve made
 * sure of; returns the anon that was there (its reference is the caller's
 * now).  NULL a empties the slot.  The reservation stays until
 * vm_amap_unreserve. */
struct vm_anon *vm_amap_set(struct vm_amap *m, uint64_t slot, struct vm_anon *a)
{
	if (!a)
		return radix_remove(&m->slots, slot);
	struct vm_anon *old = radix_replace(&m->slots, slot, a);
	if (!old)
		radix_insert(&m->slots, slot, a); /* reserved: cannot fail */
	return old;
}

int vm_amap_reserve(struct vm_amap *m, uint64_t slot) { return radix_reserve(&m->slots, slot); }

void vm_amap_unreserve(struct vm_amap *m, uint64_t slot) { radix_unreserve(&m->slots, slot); }

/* A new amap holding the anons of m's slots [slot, slot + nslots), each
 * shared (refcount + 1).  0 or -MMK_ENOMEM with nothing changed. */
int vm_amap_copy(struct vm_system *sys, struct vm_amap *m, uint64_t slot, uint64_t nslots, struct vm_amap **out)
{
	struct vm_amap *c;
	int rc = vm_amap_new(sys, &c);
	if (rc)
		return rc;
	uint64_t key = slot;
	struct vm_anon *a;
	while ((a = radix_next(&m->slots, key, &key)) && key < slot + nslots) {
		rc = radix_insert(&c->slots, key, a);
		if (rc) {
			vm_amap_release(sys, c); /* drops the references taken so far */
			return rc;
		}
		a->refcount++;
		if (++key == 0)
			break;
	}
	*out = c;
	return 0;
}
