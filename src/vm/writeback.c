/*
 * vm/writeback.c - dirty pages of shared file mappings go back to their
 * object's pager: on msync, and before the translations go at munmap and
 * exit (the dirty bit lives in the translation, so it must be read before
 * the translation is removed).  The pmap's dirty bits say which pages were
 * written; a page written back has its bit cleared.
 */
#include "vm/vm_internal.h"

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
	int rc = vm_writeback_page(w->as, w->v, va, pa);
	if (rc) {
		if (!w->rc)
			w->rc = rc; /* the page stays dirty for a later try */
		return;
	}
	pmap_clear_dirty(&w->as->pmap, va);
}

int vm_writeback_page(struct vm_space *as, const struct vm_area *v, vaddr_t va, paddr_t pa)
{
	struct vm_object *obj = v->object;
	int rc = obj->pager.write(obj->pager.ctx, vma_pgoff(v, va), hal_phys_map(as->sys->machine, pa));
	if (!rc)
		obj->writebacks++;
	return rc;
}

int vm_writeback_locked(struct vm_space *as, vaddr_t start, vaddr_t end)
{
	int rc = 0;
	for (struct vm_area *v = vma_lower_bound(as, start); v && v->start < end; v = vma_next(v)) {
		if (!(v->flags & VMA_SHARED) || !v->object || !v->object->pager.write)
			continue;
		struct wb_walk w = { as, v, 0 };
		vaddr_t s = v->start > start ? v->start : start, e = v->end < end ? v->end : end;
		pmap_walk(&as->pmap, s, e, write_one, &w);
		if (!rc)
			rc = w.rc;
	}
	return rc;
}
