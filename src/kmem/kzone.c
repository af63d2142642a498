/*
 * kmem/kzone.c - seed 003's zone allocator over a kmem cache (theory in
 * mmk/kzone.h).  Free blocks stay allocated from the cache's point of view;
 * the slab layer's lookup rejects foreign and interior pointers, and a mark
 * word after the link tells a double free (checked against the list)
 * before anything changes.
 */
#include <mmk/errno.h>
#include <mmk/kzone.h>

#include "kmem/slab_internal.h"
#include "lib/mem.h"

#define KZONE_FREE_MARK 0x6b7a6f6e65667265ull /* "kzonefre" */

struct kzone_free_block {
	struct kzone_free_block *next;
	uint64_t mark;
};

static void push(struct kzone *z, void *block)
{
	struct kzone_free_block *b = block;
	b->next = z->free_list;
	b->mark = KZONE_FREE_MARK;
	z->free_list = b;
}

int kzone_create(struct kzone *z, struct phys *ph, const char *name, size_t block_size, uint64_t nblocks)
{
	if (block_size == 0 || block_size > KMEM_MAX_OBJ_SIZE || nblocks == 0)
		return -MMK_EINVAL;
	mmk_memset(z, 0, sizeof(*z));
	if (block_size < sizeof(struct kzone_free_block))
		block_size = sizeof(struct kzone_free_block);
	z->block_size = (block_size + 7) & ~(size_t)7;
	int rc = kmem_cache_create(&z->cache, ph, name, z->block_size, 8, NULL, NULL, NULL, KMEM_NOMAGAZINE);
	if (rc)
		return rc;
	hal_spin_init(&z->lock);
	for (uint64_t i = 0; i < nblocks; i++) {
		void *b = kmem_cache_alloc(&z->cache);
		if (!b) {
			/* Give back what was taken: nothing is kept on failure. */
			while (z->free_list) {
				void *f = z->free_list;
				z->free_list = ((struct kzone_free_block *)f)->next;
				kmem_cache_free(&z->cache, f);
			}
			kmem_cache_destroy(&z->cache);
			return -MMK_ENOMEM;
		}
		push(z, b);
	}
	z->nblocks = nblocks;
	return 0;
}

int kzone_destroy(struct kzone *z)
{
	if (z->used)
		return -MMK_EBUSY;
	while (z->free_list) {
		void *f = z->free_list;
		z->free_list = ((struct kzone_free_block *)f)->next;
		kmem_cache_free(&z->cache, f);
	}
	z->nblocks = 0;
	return kmem_cache_destroy(&z->cache);
}

void *kzone_alloc(struct kzone *z)
{
	hal_spin_lock(&z->lock);
	struct kzone_free_block *b = z->free_list;
	if (b) {
		z->free_list = b->next;
		b->mark = 0;
		z->used++;
	}
	hal_spin_unlock(&z->lock);
	return b;
}

/* Is p the start of one of the zone's blocks?  The slab layer's lookup
 * answers from the frame database without touching the block; since the
 * zone never gives blocks back to its cache while it lives, every object
 * of the cache is a block of the zone. */
static bool owns(struct kzone *z, const void *p)
{
	struct kmem_slab *s;
	unsigned i;
	return p && kmem_slab_locate(&z->cache, p, &s, &i) == 0;
}

int kzone_free(struct kzone *z, void *block)
{
	if (!owns(z, block))
		return -MMK_EINVAL;
	hal_spin_lock(&z->lock);
	int rc = 0;
	struct kzone_free_block *b = block;
	if (b->mark == KZONE_FREE_MARK) {
		/* Marked free: a double free if it is on the list. */
		for (struct kzone_free_block *f = z->free_list; f; f = f->next)
			if (f == b) {
				rc = -MMK_EALREADY;
				break;
			}
	}
	if (!rc && z->used == 0)
		rc = -MMK_EINVAL;
	if (!rc) {
		push(z, block);
		z->used--;
	}
	hal_spin_unlock(&z->lock);
	return rc;
}

int kzone_check(struct kzone *z, const char **why)
{
	int rc = kmem_cache_check(&z->cache, why);
	if (rc)
		return rc;
	uint64_t n = 0;
	hal_spin_lock(&z->lock);
	for (struct kzone_free_block *f = z->free_list; f && n <= z->nblocks; f = f->next, n++)
		if (f->mark != KZONE_FREE_MARK)
			break;
	hal_spin_unlock(&z->lock);
	if (n != z->nblocks - z->used || kmem_cache_live(&z->cache) != z->nblocks) {
		*why = "kzone: free list length differs from nblocks - used";
		return -MMK_EINVAL;
	}
	return 0;
}
