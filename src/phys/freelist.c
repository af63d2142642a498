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

/* The list head and count for a free head of this owner: the kernel's
 * free frames have lists of their own (seed 002, ownership.c). */
static uint32_t *list_head(struct mmk_zone *z, unsigned order, unsigned owner)
{
	return owner == MMK_OWNER_KERNEL ? &z->kfree_head[order] : &z->free_head[order];
}

static uint64_t *list_count(struct mmk_zone *z, unsigned order, unsigned owner)
{
	return owner == MMK_OWNER_KERNEL ? &z->knr_free[order] : &z->nr_free[order];
}

void phys_list_push(struct phys *ph, struct mmk_zone *z, unsigned order, pfn_t pfn)
{
	uint32_t idx = phys_idx(ph, pfn);
	struct mmk_frame *f = phys_fr(ph, pfn);
	uint32_t *head = list_head(z, order, f->owner);
	uint32_t old = *head;

	f->prev = MMK_FRAME_NIL;
	f->next = old;
	if (old != MMK_FRAME_NIL)
		ph->frames[old].prev = idx;
	*head = idx;
	(*list_count(z, order, f->owner))++;
}

void phys_list_remove(struct phys *ph, struct mmk_zone *z, unsigned order, pfn_t pfn)
{
	struct mmk_frame *f = phys_fr(ph, pfn);

	if (f->prev != MMK_FRAME_NIL)
		ph->frames[f->prev].next = f->next;
	else
		*list_head(z, order, f->owner) = f->next;
	if (f->next != MMK_FRAME_NIL)
		ph->frames[f->next].prev = f->prev;
	f->next = MMK_FRAME_NIL;
	f->prev = MMK_FRAME_NIL;
	(*list_count(z, order, f->owner))--;
}
