/*
 * vm/dead.c - seed 004's deferred release: mark dead, scavenge, sweep.
 *
 * Kora releases VMAs in two steps so that a hot path (an exiting thread, an
 * unmap under pressure) only flags memory and a later, batched pass gives it
 * back.  A dead VMA keeps its addresses (nothing new can be mapped there and
 * faults in it are refused), loses its access at once (translations are made
 * inaccessible), and returns its frames at vm_scavenge; vm_sweep also drops
 * the VMA.
 */
#include "vm/vm_internal.h"

static void mark(struct vm_space *as, struct vm_area *v)
{
	if (v->flags & VMA_DEAD)
		return;
	v->flags |= VMA_DEAD;
	as->dead_vmas++;
	pmap_protect(&as->pmap, v->start, v->end, PMAP_PROT_NONE);
}

int vm_mark_dead(struct vm_space *as, vaddr_t addr, size_t len)
{
	uint64_t plen;
	if (!mmk_page_aligned(addr) || len == 0 || !mmk_page_round_up(len, &plen) || !vm_range_ok(as, addr, plen))
		return -MMK_EINVAL;
	vaddr_t end = addr + plen;
	if (as->sys->nommu)
		return -MMK_ENOSYS; /* nothing can make memory inaccessible without an MMU */
	hal_spin_lock(&as->lock);
	int rc = vma_range_covered(as, addr, end) ? 0 : -MMK_ENOMEM;
	struct vm_spares sp;
	if (!rc)
		rc = vm_spares_reserve(as, &sp, 2);
	if (!rc) {
		vm_clip_range(as, addr, end, &sp);
		for (struct vm_area *v = vma_lower_bound(as, addr); v && v->start < end; v = vma_next(v))
			mark(as, v);
		vm_spares_release(as, &sp);
	}
	hal_spin_unlock(&as->lock);
	return rc;
}

static size_t scavenge_locked(struct vm_space *as)
{
	size_t before = as->sys->user_frames;
	if (!as->dead_vmas)
		return 0;
	for (struct vm_area *v = vma_of(rb_first(&as->vmas)); v; v = vma_next(v))
		if (v->flags & VMA_DEAD) {
			vm_writeback_locked(as, v->start, v->end);
			vm_zap_range(as, v->start, v->end);
			vma_drop_anons(as, v, v->start, v->end);
		}
	return before - as->sys->user_frames;
}

size_t vm_scavenge(struct vm_space *as)
{
	hal_spin_lock(&as->lock);
	size_t n = scavenge_locked(as);
	hal_spin_unlock(&as->lock);
	return n;
}

size_t vm_sweep(struct vm_space *as)
{
	hal_spin_lock(&as->lock);
	scavenge_locked(as);
	size_t removed = 0;
	struct vm_area *v = vma_of(rb_first(&as->vmas));
	while (v && as->dead_vmas) {
		struct vm_area *next = vma_next(v);
		if (v->flags & VMA_DEAD) {
			vma_unlink(as, v);
			vma_free(as, v);
			removed++;
		}
		v = next;
	}
	hal_spin_unlock(&as->lock);
	return removed;
}
