/*
 * mmk/kmalloc.h - the kernel's general-purpose heap (seed 003's
 * "fine-grained kernel allocator", seed 004's kalloc) and kmap.
 *
 * kmalloc serves sizes up to KMALLOC_MAX_CACHE_SIZE from a ladder of object
 * caches (size classes a quarter to a half apart, like Linux's kmalloc-96
 * and kmalloc-192 between the powers of two), so a small structure wastes at
 * most a third of its size; bigger requests get a contiguous block of
 * kernel-owned frames from the buddy allocator, reached through the direct
 * map.  kfree needs no size: the frame database tells a slab object (its
 * frame points at the slab, whose cache must be one of this heap's) from a
 * large block (its head frame carries a kmalloc tag and the order).
 *
 * Units: sizes in bytes.  Alignment: every object is aligned to the largest
 * power of two dividing its class size, at least 8 bytes; large blocks are
 * page-aligned.  Ownership: the caller owns struct kmalloc_heap and every
 * block until kfree.  Locking: the heap has no lock of its own; each size
 * class is a kmem cache with per-CPU magazines, and large blocks take
 * phys.lock.  Errors: kmalloc returns NULL (ENOMEM, failpoint, size 0 or
 * beyond 2^MMK_MAX_ORDER pages); kfree returns 0, -MMK_EINVAL for a pointer
 * that this heap did not hand out, -MMK_EALREADY for a double free caught.
 */
#ifndef MMK_KMALLOC_H
#define MMK_KMALLOC_H

#include <mmk/kmem.h>

#define KMALLOC_NR_CLASSES 19
#define KMALLOC_MAX_CACHE_SIZE 8192u /* bytes: larger requests get whole frames */

struct kmalloc_heap {
	struct phys *phys;
	struct kmem_cache classes[KMALLOC_NR_CLASSES];
	uint64_t large_blocks;   /* live large blocks */
	uint64_t large_frames;   /* frames they hold */
	uint64_t kmap_active;    /* kmap mappings not yet kunmapped */
	uintptr_t dm_lo, dm_hi;  /* the direct map of phys's frame database span */
	/* Size to class without a search: class_small[(size + 7) / 8] for
	 * sizes up to 1024 bytes, class_big[(size + 127) / 128] above. */
	uint8_t class_small[1024 / 8 + 1];
	uint8_t class_big[KMALLOC_MAX_CACHE_SIZE / 128 + 1];
};

/* Sizes of the classes, ascending (bytes). */
extern const uint32_t kmalloc_class_sizes[KMALLOC_NR_CLASSES];

/*
 * Set up heap h on ph; debug_flags (KMEM_DEBUG_*) go to every class.
 * 0, -MMK_EINVAL for unknown flags, -MMK_ENOMEM when the classes' per-CPU
 * frames cannot be had (nothing is left allocated then).
 */
int kmalloc_init(struct kmalloc_heap *h, struct phys *ph, unsigned debug_flags);
/* Tear down: -MMK_EBUSY (nothing changed) while blocks are live. */
int kmalloc_fini(struct kmalloc_heap *h);

/* size bytes, contents undefined / zeroed.  NULL on failure (see above). */
void *kmalloc(struct kmalloc_heap *h, size_t size);
void *kzalloc(struct kmalloc_heap *h, size_t size);
/* Seed 004's name for a zeroed kernel allocation. */
static inline void *kalloc(struct kmalloc_heap *h, size_t size) { return kzalloc(h, size); }

/* Give p back.  0, -MMK_EINVAL (not from this heap, interior pointer),
 * -MMK_EALREADY (double free caught).  kfree(h, NULL) is 0, as free(3). */
int kfree(struct kmalloc_heap *h, void *p);

/* Bytes usable at p (its class size or block size), 0 for a bad pointer. */
size_t ksize(struct kmalloc_heap *h, const void *p);

/*
 * kmap: a kernel pointer to the bytes of frame pfn, valid until kunmap.
 * With the HAL's direct map (hal.h) this is the frame's direct-map address,
 * as on 64-bit Linux without HIGHMEM; the pair is kept so that a HAL
 * without a full direct map can back it with a window of kernel virtual
 * space (a vmem arena) and pmap_enter.  NULL for a pfn that is not RAM.
 */
void *kmap(struct kmalloc_heap *h, pfn_t pfn);
/* 0, or -MMK_EINVAL for a pointer kmap did not return. */
int kunmap(struct kmalloc_heap *h, void *p);

/* Give every class's unused magazines and empty slabs back; frames freed.
 * Contract as kmem_cache_drain: no other CPU is inside a kmalloc call. */
size_t kmalloc_drain(struct kmalloc_heap *h);

/* Every class's checker, plus the large-block count.  0 or -MMK_EINVAL.
 * Contract as kmem_cache_check: no other CPU is inside a kmalloc call. */
int kmalloc_check(struct kmalloc_heap *h, const char **why);

#endif
