/*
 * phys/freelist.c - the free lists: per zone and per order, a doubly linked
 * list of free block heads threaded through the descriptors themselves.
 *
 * Links are 32-bit database indices rather than pointers, which keeps a
 * descriptor at 24 bytes; MMK_FRAME_NIL ends a list.  Push and remove are
 * O(1) so that coalescing can pull a buddy out of the middle of its list.
 * Callers hold ph->lock.  The lists are LIFO: a block freed a moment ago is
 * the next one handed out, while its lines may still be in the cache.
 */
#include "phys_internal.h"

void phys_list_push(struct phys *ph, struct mmk_zone *z, unsigned order, pfn_t pfn)
{
	uint32_t idx = phys_idx(ph, pfn);
	uint32_t old = z->free_head[order];
	struct mmk_frame *f = phys_fr(ph, pfn);

	f->prev = MMK_FRAME_NIL;
	f->next = old;
	if (old != MMK_FRAME_NIL)
		ph->frames[old].prev = idx;
	z->free_head[order] = idx;
	z->nr_free[order]++;
}

void phys_list_remove(struct phys *ph, struct mmk_zone *z, unsigned order, pfn_t pfn)
{
	struct mmk_frame *f = phys_fr(ph, pfn);

	if (f->prev != MMK_FRAME_NIL)
		ph->frames[f->prev].next = f->next;
	else
		z->free_head[order] = f->next;
	if (f->next != MMK_FRAME_NIL)
		ph->frames[f->next].prev = f->prev;
	f->next = MMK_FRAME_NIL;
	f->prev = MMK_FRAME_NIL;
	z->nr_free[order]--;
}
