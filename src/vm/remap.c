/*
 * vm/remap.c - mremap(2) and brk(2), the calls that move or resize a
 * mapping (Linux mm/mremap.c and mm/mmap.c:brk semantics and errors).
 */
#include "vm/vm_internal.h"

struct move_ctx {
	struct vm_space *as;
	vaddr_t from, to; /* translation of va: va - from + to */
	int rc;
	uint64_t moved;
};

static void copy_pte(void *ctx, vaddr_t va, paddr_t pa, unsigned bits)
{
	struct move_ctx *m = ctx;
	if (m->rc)
		return;
	m->rc = pmap_enter(&m->as->pmap, va - m->from + m->to, pa, bits & PMAP_PROT_ALL);
	if (!m->rc)
		m->moved++;
}

/*
 * Move the translations of [from, from+len) to [to, to+len): enter them all
 * at the destination first, so a page-table allocation failure can be undone
 * by removing the copies, then drop the originals (frames are not freed:
 * their mapping moved).  0 or -MMK_ENOMEM with nothing changed.
 */
static int move_ptes(struct vm_space *as, vaddr_t from, vaddr_t to, uint64_t len)
{
	struct move_ctx m = { as, from, to, 0, 0 };
	pmap_walk(&as->pmap, from, from + len, copy_pte, &m);
	if (m.rc) {
		pmap_remove(&as->pmap, to, to + len, NULL, NULL);
		return m.rc;
	}
	pmap_remove(&as->pmap, from, from + len, NULL, NULL);
	return 0;
}

static bool can_grow_in_place(struct vm_space *as, struct vm_area *v, vaddr_t new_end)
{
	if (new_end > as->max_addr || new_end < v->end)
		return false;
	struct vm_area *n = vma_next(v);
	return !n || n->start >= new_end;
}

static void grow_in_place(struct vm_space *as, struct vm_area *v, vaddr_t new_end)
{
	as->mapped_pages -= vma_pages(v);
	v->end = new_end;
	as->mapped_pages += vma_pages(v);
	vma_bounds_changed(as, v);
}

/* Move [old, old+old_len), which lies inside one VMA, to dst with new_len.
 * Needs 3 spares (two clips and the new VMA) plus 2 if dst must be cleared. */
static int move_mapping(struct vm_space *as, vaddr_t old, uint64_t old_len, uint64_t new_len, vaddr_t dst,
			bool dontunmap, struct vm_spares *sp)
{
	uint64_t keep = old_len < new_len ? old_len : new_len;
	/* A FIXED destination loses its pages first (their frames must be
	 * released, which a later pmap_enter over them would not do).  If the
	 * move then fails for want of a page-table page, the destination's VMAs
	 * stay but re-fault as zero pages: the one partial effect, in a case
	 * that needs both MREMAP_FIXED over a mapping and frame exhaustion. */
	/* The moved pages' anons go to an amap of their own (made now, while
	 * failing changes nothing): the slots of a grown mapping must not run
	 * into those of the pieces left behind. */
	struct vm_area *v = vma_find(as, old);
	struct vm_amap *own = NULL;
	uint64_t slot = v->amap ? vma_slot(v, old) : 0;
	if (v->amap && vm_amap_copy(as->sys, v->amap, slot, keep >> MMK_PAGE_SHIFT, &own))
		return -MMK_ENOMEM;
	if (!vma_range_free(as, dst, dst + new_len)) {
		vm_writeback_locked(as, dst, dst + new_len);
		vm_zap_range(as, dst, dst + new_len);
	}
	/* A moved translation starts clean: write its dirty page back first. */
	vm_writeback_locked(as, old, old + old_len);
	int rc = move_ptes(as, old, dst, keep);
	if (rc) {
		if (own)
			vm_amap_release(as->sys, own);
		return rc;
	}
	/* Past this point nothing can fail. */
	if (!vma_range_free(as, dst, dst + new_len)) {
		/* The old VMAs at dst go (their translations went before the
		 * move; the ones there now are the moved pages). */
		vm_clip_range(as, dst, dst + new_len, sp);
		struct vm_area *d = vma_lower_bound(as, dst);
		while (d && d->start < dst + new_len) {
			struct vm_area *next = vma_next(d);
			vma_drop_anons(as, d, d->start, d->end);
			vma_unlink(as, d);
			vma_free(as, d);
			d = next;
		}
	}
	vm_clip_range(as, old, old + old_len, sp);
	struct vm_area *src = vma_find(as, old);
	struct vm_area *n = vm_spares_take(sp);
	*n = *src;
	n->start = dst;
	n->end = dst + new_len;
	n->amap = own;
	n->amap_slot = own ? slot : src->amap_slot;
	if (n->object)
		vm_object_ref(n->object);
	if (!dontunmap)
		vm_zap_range(as, old + keep, old + old_len); /* the shrunk-away tail */
	else
		vm_zap_range(as, old, old + old_len);
	/* The old range's anons now live in n's amap only. */
	vma_drop_anons(as, src, old, old + old_len);
	if (!dontunmap) {
		vma_unlink(as, src);
		vma_free(as, src);
	}
	vma_link(as, n);
	vma_merge_neighbours(as, n);
	return 0;
}

/* The checks Linux's mremap makes before looking at the address space. */
static int remap_checks(uint64_t old, uint64_t old_len, uint64_t new_len, unsigned flags)
{
	if (flags & ~(VM_MREMAP_MAYMOVE | VM_MREMAP_FIXED | VM_MREMAP_DONTUNMAP))
		return -MMK_EINVAL;
	if ((flags & VM_MREMAP_FIXED) && !(flags & VM_MREMAP_MAYMOVE))
		return -MMK_EINVAL;
	if ((flags & VM_MREMAP_DONTUNMAP) && (!(flags & VM_MREMAP_MAYMOVE) || old_len != new_len))
		return -MMK_EINVAL;
	if (!mmk_page_aligned(old) || new_len == 0 || old_len == 0)
		return -MMK_EINVAL; /* differs: Linux duplicates shared mappings for old_len 0 */
	return 0;
}

/* The checks Linux makes once it found the VMA at old (vma_lookup, then
 * mremap_to's target checks, then vma_to_resize, then security_mmap_addr). */
static int remap_checks_vma(struct vm_space *as, const struct vm_area *v, vaddr_t old, uint64_t old_len,
			    uint64_t new_len, unsigned flags, vaddr_t new_addr)
{
	if (!v || (v->flags & VMA_DEAD))
		return -MMK_EFAULT;
	if (flags & VM_MREMAP_FIXED) {
		if (!mmk_page_aligned(new_addr) || !vm_range_ok(as, new_addr, new_len))
			return -MMK_EINVAL;
		if (new_addr < old + old_len && old < new_addr + new_len)
			return -MMK_EINVAL;
	}
	if (old_len > v->end - old)
		return -MMK_EFAULT;
	if ((flags & VM_MREMAP_FIXED) && new_addr < as->min_addr)
		return -MMK_EPERM;
	return 0;
}

int vm_remap(struct vm_space *as, vaddr_t old, size_t old_len_in, size_t new_len_in, unsigned flags,
	     vaddr_t new_addr, vaddr_t *out)
{
	uint64_t old_len, new_len;
	if (!mmk_page_round_up(old_len_in, &old_len) || !mmk_page_round_up(new_len_in, &new_len))
		return -MMK_EINVAL;
	int rc = remap_checks(old, old_len, new_len, flags);
	if (rc)
		return rc;
	if (as->sys->nommu)
		return (flags & VM_MREMAP_FIXED) ? -MMK_EINVAL : nommu_shrink(as, old, old_len, new_len, out);
	hal_spin_lock(&as->lock);
	struct vm_area *v = vma_find(as, old);
	rc = remap_checks_vma(as, v, old, old_len, new_len, flags, new_addr);
	if (rc) {
		hal_spin_unlock(&as->lock);
		return rc;
	}
	struct vm_spares sp;
	rc = vm_spares_reserve(as, &sp, 5);
	if (rc) {
		hal_spin_unlock(&as->lock);
		return rc;
	}
	vaddr_t result = old;
	if (flags & VM_MREMAP_FIXED) {
		result = new_addr;
		rc = move_mapping(as, old, old_len, new_len, new_addr, flags & VM_MREMAP_DONTUNMAP, &sp);
	} else if (flags & VM_MREMAP_DONTUNMAP) {
		/* Always a move: the old range stays mapped, empty. */
		rc = vma_find_gap_topdown(as, new_len, as->min_addr, as->mmap_base, &result);
		if (!rc)
			rc = move_mapping(as, old, old_len, new_len, result, true, &sp);
	} else if (new_len <= old_len) {
		if (new_len < old_len) {
			vm_clip_range(as, old + new_len, old + old_len, &sp);
			vm_unmap_locked(as, old + new_len, old + old_len);
		}
	} else if (old + old_len == v->end && can_grow_in_place(as, v, old + new_len) &&
		   !(flags & VM_MREMAP_DONTUNMAP)) {
		/* New slots must be v's alone before it grows into them. */
		rc = vma_amap_make_private(as, v);
		if (!rc)
			grow_in_place(as, v, old + new_len);
	} else if (flags & VM_MREMAP_MAYMOVE) {
		rc = vma_find_gap_topdown(as, new_len, as->min_addr, as->mmap_base, &result);
		if (!rc)
			rc = move_mapping(as, old, old_len, new_len, result, flags & VM_MREMAP_DONTUNMAP, &sp);
	} else {
		rc = -MMK_ENOMEM;
	}
	vm_spares_release(as, &sp);
	hal_spin_unlock(&as->lock);
	if (!rc)
		*out = result;
	return rc;
}

/* ---- brk ---- */

void vm_brk_init(struct vm_space *as, vaddr_t start)
{
	hal_spin_lock(&as->lock);
	as->start_brk = as->brk = start;
	hal_spin_unlock(&as->lock);
}

/* Can the heap grow from old_end to new_end?  Linux leaves the stack guard
 * gap free below a stack. */
static bool heap_room(struct vm_space *as, vaddr_t old_end, vaddr_t new_end)
{
	if (new_end > as->max_addr)
		return false;
	struct vm_area *n = vma_lower_bound(as, old_end);
	if (!n)
		return true;
	vaddr_t limit = n->start;
	if (n->flags & VMA_GROWSDOWN)
		limit = limit > as->stack_guard ? limit - as->stack_guard : 0;
	return new_end + MMK_PAGE_SIZE <= limit; /* Linux keeps one page free above the heap */
}

static bool brk_grow(struct vm_space *as, vaddr_t old_end, vaddr_t new_end)
{
	if (!heap_room(as, old_end, new_end))
		return false;
	struct vm_area *v = vm_vma_alloc(as);
	if (!v)
		return false;
	v->start = old_end;
	v->end = new_end;
	v->amap_slot = VM_SLOT_BASE;
	v->prot = VM_PROT_READ | VM_PROT_WRITE;
	v->max_prot = VM_PROT_ALL;
	vma_link(as, v);
	vma_merge_neighbours(as, v);
	return true;
}

void vm_brk(struct vm_space *as, vaddr_t new_brk, vaddr_t *out)
{
	hal_spin_lock(&as->lock);
	vaddr_t old_end, new_end;
	bool ok = !as->sys->nommu && as->start_brk && new_brk >= as->start_brk && mmk_page_round_up(new_brk, &new_end) &&
		  mmk_page_round_up(as->brk, &old_end);
	if (ok && new_end < old_end) {
		struct vm_spares sp;
		ok = vm_spares_reserve(as, &sp, 2) == 0;
		if (ok) {
			vm_clip_range(as, new_end, old_end, &sp);
			vm_unmap_locked(as, new_end, old_end);
			vm_spares_release(as, &sp);
		}
	} else if (ok && new_end > old_end) {
		ok = brk_grow(as, old_end, new_end);
	}
	if (ok)
		as->brk = new_brk;
	*out = as->brk;
	hal_spin_unlock(&as->lock);
}
