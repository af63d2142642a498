/*
 * mmk/kmem.h - object caches for mmk's own structures (Bonwick 1994 slab
 * allocator, first cut: one lock per cache, no magazines yet; issue 4 adds
 * per-CPU magazines, colouring, vmem and kmalloc on top of this interface).
 *
 * A cache hands out fixed-size objects carved from slabs; a slab is a block
 * of kernel-owned frames from the buddy allocator (seed 002: the kernel only
 * uses frames it owns).  Every frame of a slab points back at its slab header
 * through mmk_frame.private_data, so kmem_cache_free finds the slab of any
 * pointer and rejects foreign ones.
 *
 * Locking: each cache has its own spin lock, taken inside every call; the
 * cache lock is taken before phys.lock (docs/locking.md).
 */
#ifndef MMK_KMEM_H
#define MMK_KMEM_H

#include <hal/lock.h>
#include <mmk/phys.h>

struct kmem_slab; /* private to src/kmem */

struct kmem_slab_list {
	struct kmem_slab *head;
	size_t count;
};

struct kmem_cache {
	const char *name;        /* static string, for reports */
	struct phys *phys;       /* frame source (and its failpoint) */
	struct hal_spinlock lock;
	size_t obj_size;         /* bytes per object, rounded to align */
	size_t align;            /* bytes, power of two >= 8 */
	unsigned slab_order;     /* frames per slab = 2^slab_order */
	unsigned objs_per_slab;  /* <= KMEM_MAX_OBJS_PER_SLAB */
	size_t first_obj;        /* byte offset of object 0 in a slab */
	struct kmem_slab_list partial, full, empty;
	uint64_t allocs, frees, live; /* objects */
	uint64_t slabs_created, slabs_freed;
};

#define KMEM_MAX_OBJS_PER_SLAB 256u
#define KMEM_MAX_OBJ_SIZE (64u * 1024u)

/*
 * Initialise cache c for objects of size bytes aligned to align (0 = 8).
 * Nothing is allocated until the first kmem_cache_alloc.
 * 0, or -MMK_EINVAL for size 0, size > KMEM_MAX_OBJ_SIZE, or align not a
 * power of two.
 */
int kmem_cache_init(struct kmem_cache *c, struct phys *ph, const char *name, size_t size, size_t align);

/*
 * Destroy an empty cache, giving its free slabs back.  -MMK_EBUSY (and
 * nothing changed) while objects are live.
 */
int kmem_cache_destroy(struct kmem_cache *c);

/* One object, zero-filled, or NULL when no frame can be had (ENOMEM) or the
 * failpoint of c->phys fires. */
void *kmem_cache_alloc(struct kmem_cache *c);

/*
 * Give obj back.  -MMK_EINVAL for a pointer that is not an object of this
 * cache (foreign, interior, another cache's); -MMK_EALREADY for a double
 * free.  Nothing changes on error.  A slab left empty is returned to the
 * frame allocator unless it is the only empty slab kept for reuse.
 */
int kmem_cache_free(struct kmem_cache *c, void *obj);

/* Give every empty slab back to the frame allocator; returns frames freed. */
size_t kmem_cache_reap(struct kmem_cache *c);

/*
 * Re-derive: each slab is on the list that matches its use count, the
 * free-object bitmap matches the use count, frames point back at their slab,
 * counters equal recounts.  0, or -MMK_EINVAL with *why.
 */
int kmem_cache_check(struct kmem_cache *c, const char **why);

#endif
