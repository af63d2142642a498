/*
 * mmk/kzone.h - seed 003's zone allocator: a pool of a fixed number of
 * fixed-size blocks, as a thin face over a kmem cache.
 *
 * Phoenix-RTOS creates a zone for N blocks of one size up front so that
 * later allocations from it cannot fail for lack of memory while blocks
 * remain.  Here the blocks come from a kmem cache (no magazines: every block
 * is accounted in its slab); kzone_create allocates all N blocks at once and
 * keeps the free ones on a LIFO list threaded through the blocks themselves,
 * so kzone_alloc never calls the frame allocator and fails only when all N
 * are in use.
 *
 * Units: block_size in bytes (>= 8, rounded to 8), nblocks in blocks.
 * Ownership: the caller owns struct kzone; blocks belong to the zone.
 * Locking: one spin lock per zone.  Errors: kzone_create -MMK_EINVAL (size
 * 0 or > KMEM_MAX_OBJ_SIZE, nblocks 0), -MMK_ENOMEM (nothing kept);
 * kzone_alloc NULL when exhausted; kzone_free -MMK_EINVAL for a pointer
 * that is not a block of the zone, -MMK_EALREADY for a block already free.
 */
#ifndef MMK_KZONE_H
#define MMK_KZONE_H

#include <mmk/kmem.h>

struct kzone {
	struct kmem_cache cache;
	struct hal_spinlock lock;
	void *free_list;        /* free blocks, linked through their first word */
	size_t block_size;      /* bytes */
	uint64_t nblocks, used; /* blocks in the zone, blocks handed out */
};

int kzone_create(struct kzone *z, struct phys *ph, const char *name, size_t block_size, uint64_t nblocks);
/* -MMK_EBUSY (nothing changed) while blocks are in use. */
int kzone_destroy(struct kzone *z);
void *kzone_alloc(struct kzone *z);
int kzone_free(struct kzone *z, void *block);
/* The cache's checker, plus: free-list length == nblocks - used. */
int kzone_check(struct kzone *z, const char **why);

#endif
