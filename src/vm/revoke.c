/*
 * vm/revoke.c - batched revocation of virtual ranges in every address space
 * (seed 000: the memory manager "organises and batches revocation"), the
 * VM half of src/claims' revocation queue.
 *
 * 1. What.  vm_revoke removes, from every space of the system, every VMA
 *    and translation inside a batch of ranges, exactly as munmap would
 *    (clip at the ends, write dirty shared-file pages back, remove
 *    translations, drop anons so unmapped frames are freed), but with one
 *    TLB shootdown per space for the whole batch instead of one per page:
 *    translations go with pmap_remove_deferred, then pmap_tlb_sync sends
 *    the one shootdown, and only then are the anons dropped, so no frame is
 *    freed while a CPU may still reach it through a stale TLB entry (the
 *    order of Linux's mmu_gather: unmap, flush, then free).
 *
 * 2. Failure policy: validate, reserve, commit, across spaces.  Clipping a
 *    VMA that straddles a range's end takes a VMA struct.  Pass 1 counts,
 *    space by space under its lock, the clips each needs and allocates all
 *    of them into one pool before any space changes; pass 2 revokes each
 *    space with VMAs from the pool.  -MMK_ENOMEM in pass 1 changes nothing.
 *    The count cannot grow between the passes as long as nobody maps into
 *    the ranges, which the claims layer guarantees (it hands a range to no
 *    one until its revocation is done); if it grew anyway, pass 2 allocates
 *    the difference and, should that fail, stops with the spaces done so
 *    far revoked (vm.h documents this breach-of-contract case).
 *
 * 3. Locking: one space lock at a time (docs/locking.md order 1); the
 *    space list is walked as vm_reclaim walks it.  The deferred
 *    invalidations never outlive the space lock: remove, sync and free all
 *    happen under one hold.
 *
 * 4. Dirty pages of shared file mappings are written back from the removal
 *    callback, which sees each translation's dirty bit as it goes (munmap
 *    writes back before removing, clearing each dirty bit with a
 *    shootdown of its own, which a batch must not pay per page).  A store
 *    through a stale TLB entry between the removal and the sync reaches
 *    the object's frame but is not written back by this call; munmap has
 *    the same window between its writeback and its removal.
 */
#include "vm/vm_internal.h"

/* ---- the pool of spare VMA structs: a stack linked through node.left,
 * unused while a struct is in no tree ---- */

struct spare_pool {
	struct rb_node *top;
	size_t n;
};

static void pool_push(struct spare_pool *p, struct vm_area *v)
{
	v->node.left = p->top;
	p->top = &v->node;
	p->n++;
}

static struct vm_area *pool_pop(struct spare_pool *p)
{
	struct vm_area *v = vma_of(p->top);
	p->top = v->node.left;
	p->n--;
	return v;
}

/* Grow p to n structs: 0, or -MMK_ENOMEM (p keeps what it had). */
static int pool_fill(struct vm_system *sys, struct spare_pool *p, size_t n)
{
	while (p->n < n) {
		struct vm_area *v = kmem_cache_alloc(&sys->vma_cache);
		if (!v)
			return -MMK_ENOMEM;
		pool_push(p, v);
	}
	return 0;
}

static void pool_free(struct vm_system *sys, struct spare_pool *p)
{
	while (p->n)
		kmem_cache_free(&sys->vma_cache, pool_pop(p));
}

/* ---- one space ---- */

static bool range_valid(const struct vm_range *r)
{
	return mmk_page_aligned(r->start) && mmk_page_aligned(r->end) && r->start < r->end &&
	       r->end <= PMAP_USER_END;
}

/* Clips vm_clip_range would make for the ranges in as: one per range end
 * strictly inside a VMA (ends shared by two ranges may count twice). */
static size_t clips_needed(struct vm_space *as, const struct vm_range *r, size_t n)
{
	size_t need = 0;
	for (size_t i = 0; i < n; i++) {
		struct vm_area *v = vma_find(as, r[i].start);
		need += v && v->start < r[i].start;
		v = vma_find(as, r[i].end - 1);
		need += v && v->end > r[i].end;
	}
	return need;
}

struct revoke_zap {
	struct vm_space *as;
	const struct vm_area *v;
	bool writeback; /* v is a shared mapping of an object with a pager */
};

/* A translation went (its TLB entries still to be shot down): write a
 * dirty shared-file page back as munmap would (a pager error keeps the
 * bytes in the object, their home), and drop the frame's mapping count. */
static void revoke_visit(void *ctx, vaddr_t va, paddr_t pa, unsigned bits)
{
	struct revoke_zap *z = ctx;
	if (z->writeback && (bits & PMAP_DIRTY))
		(void)vm_writeback_page(z->as, z->v, va, pa);
	vm_unmap_frame(z->as, va, pa, bits);
}

/* Remove the translations of the VMAs in [start, end) (clipped), deferring
 * the shootdown.  Returns the translations removed. */
static uint64_t zap_deferred(struct vm_space *as, vaddr_t start, vaddr_t end)
{
	uint64_t pages = 0;
	for (struct vm_area *v = vma_lower_bound(as, start); v && v->start < end; v = vma_next(v)) {
		struct revoke_zap z = { as, v,
					(v->flags & VMA_SHARED) && v->object && v->object->pager.write };
		pages += pmap_remove_deferred(&as->pmap, v->start, v->end, revoke_visit, &z);
	}
	return pages;
}

/* Clip at both ends of r with VMA structs from the pool. */
static void clip_from_pool(struct vm_space *as, const struct vm_range *r, struct spare_pool *p)
{
	struct vm_spares sp = { .n = 0 };
	while (sp.n < 2 && p->n)
		sp.v[sp.n++] = pool_pop(p);
	vm_clip_range(as, r->start, r->end, &sp);
	while (sp.n)
		pool_push(p, sp.v[--sp.n]);
}

/* Revoke ranges r[0..n) in as (locked), with clipping structs from p. */
static void revoke_space_locked(struct vm_space *as, const struct vm_range *r, size_t n, struct spare_pool *p,
				struct vm_revoke_stats *st)
{
	bool touched = false;
	for (size_t i = 0; i < n; i++) {
		if (vma_range_free(as, r[i].start, r[i].end))
			continue;
		touched = true;
		clip_from_pool(as, &r[i], p);
		st->pages_unmapped += zap_deferred(as, r[i].start, r[i].end);
	}
	if (!touched)
		return;
	st->spaces++;
	if (pmap_tlb_sync(&as->pmap)) /* the batch's one shootdown for this space */
		st->shootdowns++;
	for (size_t i = 0; i < n; i++)
		st->vmas_removed += vm_unmap_vmas_locked(as, r[i].start, r[i].end);
}

/* ---- the batch ---- */

int vm_revoke(struct vm_system *sys, const struct vm_range *ranges, size_t n, struct vm_revoke_stats *st)
{
	struct vm_revoke_stats local;
	if (!st)
		st = &local;
	mmk_memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < n; i++)
		if (!range_valid(&ranges[i]))
			return -MMK_EINVAL;
	if (sys->nommu)
		return -MMK_ENOSYS;
	/* Pass 1: count and reserve every clip of every space. */
	size_t need = 0;
	for (struct vm_space *as = sys->space_list; as; as = as->next_space) {
		hal_spin_lock(&as->lock);
		need += clips_needed(as, ranges, n);
		hal_spin_unlock(&as->lock);
	}
	struct spare_pool pool = { NULL, 0 };
	int rc = pool_fill(sys, &pool, need);
	/* Pass 2: commit space by space. */
	for (struct vm_space *as = sys->space_list; as && !rc; as = as->next_space) {
		hal_spin_lock(&as->lock);
		rc = pool_fill(sys, &pool, clips_needed(as, ranges, n)); /* only if the contract was broken */
		if (!rc)
			revoke_space_locked(as, ranges, n, &pool, st);
		hal_spin_unlock(&as->lock);
	}
	pool_free(sys, &pool);
	return rc;
}

/* ---- the checker ---- */

static void count_translation(void *ctx, vaddr_t va, paddr_t pa, unsigned bits)
{
	(void)va;
	(void)pa;
	(void)bits;
	(*(uint64_t *)ctx)++;
}

int vm_revoke_check(struct vm_system *sys, const struct vm_range *ranges, size_t n, const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	int rc = 0;
	for (struct vm_space *as = sys->space_list; as && !rc; as = as->next_space) {
		hal_spin_lock(&as->lock);
		if (as->pmap.tlb_pending) {
			*why = "revoke: a space has deferred TLB invalidations pending";
			rc = -MMK_EINVAL;
		}
		for (size_t i = 0; i < n && !rc; i++) {
			uint64_t found = 0;
			pmap_walk(&as->pmap, ranges[i].start, ranges[i].end, count_translation, &found);
			if (found) {
				*why = "revoke: a page of a revoked range is still mapped";
				rc = -MMK_EINVAL;
			} else if (!vma_range_free(as, ranges[i].start, ranges[i].end)) {
				*why = "revoke: a VMA still covers part of a revoked range";
				rc = -MMK_EINVAL;
			}
		}
		hal_spin_unlock(&as->lock);
	}
	return rc;
}
