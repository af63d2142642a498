/*
 * vm/writeback.c - dirty pages of shared file mappings go back to their
 * object's pager.
 *
 * 1. Dirty state lives in two places: the dirty bit of each translation
 *    (set by the MMU on a write) and the object page's own dirty flag
 *    (object.c), which keeps the state once a translation's bit has been
 *    read, so nothing is lost when a write-back fails or its translation
 *    goes.  Harvesting moves bits into the flag; a write that succeeds
 *    clears the flag.  A page is dirty when its flag or any translation's
 *    bit is set, as Linux's per-page PG_dirty.
 * 2. munmap, exit and MADV_DONTNEED harvest and write the caller's dirty
 *    pages before their translations go (vm_writeback_locked).  msync
 *    writes every dirty page of the objects in the range, harvesting the
 *    bits of every mapping in every space through obj->mappings
 *    (vm_sync_locked), so a page written through another process's mapping
 *    reaches the file too.
 * 3. Locking: the caller holds as->lock; another space's lock is taken with
 *    trylock, one at a time, only to harvest its bits (-MMK_EAGAIN when it
 *    is busy: waiting while holding a space lock could deadlock).
 */
#include "vm/vm_internal.h"

/* Write page pgoff (frame pfn) of obj when dirty (flag set or dirty
 * harvested now); the flag stays set when the write fails. */
static int write_page(struct vm_system *sys, struct vm_object *obj, uint64_t pgoff, pfn_t pfn, bool harvested)
{
	if (harvested)
		vm_object_set_dirty(obj, pgoff, true);
	if (!vm_object_dirty(obj, pgoff))
		return 0;
	int rc = obj->pager.write(obj->pager.ctx, pgoff, phys_frame_ptr(sys->phys, pfn));
	if (rc)
		return rc; /* the page stays dirty for a later try */
	vm_object_set_dirty(obj, pgoff, false);
	obj->writebacks++;
	return 0;
}

struct wb_walk {
	struct vm_space *as;
	const struct vm_area *v;
	int rc;
};

static void write_one(void *ctx, vaddr_t va, paddr_t pa, unsigned bits)
{
	struct wb_walk *w = ctx;
	if (!(bits & PMAP_DIRTY))
		return;
	pmap_clear_dirty(&w->as->pmap, va);
	int rc = vm_writeback_page(w->as, w->v, va, pa);
	if (rc && !w->rc)
		w->rc = rc;
}

int vm_writeback_page(struct vm_space *as, const struct vm_area *v, vaddr_t va, paddr_t pa)
{
	return write_page(as->sys, v->object, vma_pgoff(v, va), mmk_paddr_to_pfn(pa), true);
}

static bool writes_back(const struct vm_area *v)
{
	return (v->flags & VMA_SHARED) && v->object && v->object->pager.write;
}

int vm_writeback_locked(struct vm_space *as, vaddr_t start, vaddr_t end)
{
	int rc = 0;
	for (struct vm_area *v = vma_lower_bound(as, start); v && v->start < end; v = vma_next(v)) {
		if (!writes_back(v))
			continue;
		struct wb_walk w = { as, v, 0 };
		vaddr_t s = v->start > start ? v->start : start, e = v->end < end ? v->end : end;
		pmap_walk(&as->pmap, s, e, write_one, &w);
		if (!rc)
			rc = w.rc;
	}
	return rc;
}

/* Move the dirty bits of every shared translation of page pgoff (frame
 * pfn) into *dirty, clearing them.  0, or -MMK_EAGAIN when a space mapping
 * it is busy (the bits harvested so far are in *dirty). */
static int harvest(struct vm_space *as, struct vm_object *obj, uint64_t pgoff, pfn_t pfn, bool *dirty)
{
	for (struct vm_area *m = obj->mappings; m; m = m->obj_next) {
		vaddr_t va;
		if (!(m->flags & VMA_SHARED) || !vma_object_va(m, pgoff, &va))
			continue; /* private mappings map file pages read-only */
		struct vm_space *o = m->space;
		if (o != as && !hal_spin_trylock(&o->lock))
			return -MMK_EAGAIN;
		paddr_t pa;
		unsigned bits;
		if (pmap_extract(&o->pmap, va, &pa, &bits) == 0 && mmk_paddr_to_pfn(pa) == pfn && (bits & PMAP_DIRTY)) {
			pmap_clear_dirty(&o->pmap, va);
			*dirty = true;
		}
		if (o != as)
			hal_spin_unlock(&o->lock);
	}
	return 0;
}

/* msync of pages [p0, p1) of obj. */
static int sync_pages(struct vm_space *as, struct vm_object *obj, uint64_t p0, uint64_t p1)
{
	int rc = 0;
	uint64_t key;
	for (void *e = radix_next(&obj->pages, p0, &key); e && key < p1; e = radix_next(&obj->pages, key + 1, &key)) {
		pfn_t pfn;
		if (!vm_object_entry_frame(e, &pfn))
			continue;
		bool dirty = false;
		int hrc = harvest(as, obj, key, pfn, &dirty);
		int wrc = write_page(as->sys, obj, key, pfn, dirty);
		if (hrc)
			return hrc;
		if (wrc && !rc)
			rc = wrc;
	}
	return rc;
}

int vm_sync_locked(struct vm_space *as, vaddr_t start, vaddr_t end)
{
	int rc = 0;
	for (struct vm_area *v = vma_lower_bound(as, start); v && v->start < end; v = vma_next(v)) {
		if (!writes_back(v))
			continue;
		vaddr_t s = v->start > start ? v->start : start, e = v->end < end ? v->end : end;
		int r = sync_pages(as, v->object, vma_pgoff(v, s), vma_pgoff(v, e - MMK_PAGE_SIZE) + 1);
		if (r == -MMK_EAGAIN)
			return r;
		if (!rc)
			rc = r;
	}
	return rc;
}
