/*
 * kmem/kmalloc.c - kmalloc, kfree, ksize, kmap (theory in mmk/kmalloc.h).
 *
 * 1. Classes: 8 to 8192 bytes, powers of two with one step between (48,
 *    96, 192, ...), so internal waste stays under a third (Linux's ladder).
 * 2. Large blocks: 2^order frames; the head frame's private_data holds
 *    KMALLOC_LARGE_TAG | order, a value no slab header can take (slab
 *    headers are page-aligned addresses), which is how kfree tells them
 *    apart without a size.
 * 3. Invariants (kmalloc_check): each class passes kmem_cache_check;
 *    large_blocks equals the tagged heads found in the frame database.
 * 4. Locking: none here; see the classes (kmem) and phys.
 * 5. Sources: Bonwick 1994 section 5 (kmem_alloc over caches); Linux
 *    mm/slab_common.c for the class ladder.
 */
#include <mmk/errno.h>
#include <mmk/kmalloc.h>

#include "kmem/slab_internal.h"
#include "lib/mem.h"

#define KMALLOC_LARGE_TAG 0x6b6d616c6c6f6300ull /* "kmalloc\0": low byte holds the order */

const uint32_t kmalloc_class_sizes[KMALLOC_NR_CLASSES] = {
	8, 16, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096, 6144, 8192,
};

static const char *const class_names[KMALLOC_NR_CLASSES] = {
	"kmalloc-8",    "kmalloc-16",   "kmalloc-32",   "kmalloc-48",   "kmalloc-64",
	"kmalloc-96",   "kmalloc-128",  "kmalloc-192",  "kmalloc-256",  "kmalloc-384",
	"kmalloc-512",  "kmalloc-768",  "kmalloc-1024", "kmalloc-1536", "kmalloc-2048",
	"kmalloc-3072", "kmalloc-4096", "kmalloc-6144", "kmalloc-8192",
};

/* Natural alignment of a class: the largest power of two dividing it. */
static size_t class_align(uint32_t size)
{
	size_t a = (size_t)size & (~(size_t)size + 1);
	return a > MMK_PAGE_SIZE ? MMK_PAGE_SIZE : a;
}

/* Smallest class holding size (size in 1..KMALLOC_MAX_CACHE_SIZE), by a
 * binary search: what the tables below are filled from. */
static unsigned class_search(size_t size)
{
	unsigned lo = 0, hi = KMALLOC_NR_CLASSES - 1;
	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		if (kmalloc_class_sizes[mid] >= size)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Every class boundary up to 1024 is a multiple of 8 and above it of 128,
 * so one table entry per step names the class exactly. */
static void fill_class_tables(struct kmalloc_heap *h)
{
	h->class_small[0] = 0;
	for (size_t i = 1; i < sizeof(h->class_small); i++)
		h->class_small[i] = (uint8_t)class_search(i * 8);
	for (size_t i = 0; i < sizeof(h->class_big); i++)
		h->class_big[i] = (uint8_t)class_search(i * 128 > 1024 ? i * 128 : 1025);
}

static inline unsigned class_of(const struct kmalloc_heap *h, size_t size)
{
	return size <= 1024 ? h->class_small[(size + 7) >> 3] : h->class_big[(size + 127) >> 7];
}

int kmalloc_init(struct kmalloc_heap *h, struct phys *ph, unsigned debug_flags)
{
	if (debug_flags & ~KMEM_DEBUG_ALL)
		return -MMK_EINVAL;
	mmk_memset(h, 0, sizeof(*h));
	h->phys = ph;
	h->dm_lo = (uintptr_t)hal_phys_map(ph->machine, mmk_pfn_to_paddr(ph->base_pfn));
	h->dm_hi = h->dm_lo + (uintptr_t)((ph->end_pfn - ph->base_pfn) << MMK_PAGE_SHIFT);
	fill_class_tables(h);
	for (unsigned i = 0; i < KMALLOC_NR_CLASSES; i++) {
		uint32_t sz = kmalloc_class_sizes[i];
		int rc = kmem_cache_create(&h->classes[i], ph, class_names[i], sz, class_align(sz), NULL, NULL,
					   NULL, debug_flags);
		if (rc) {
			while (i--)
				kmem_cache_destroy(&h->classes[i]);
			return rc;
		}
	}
	return 0;
}

int kmalloc_fini(struct kmalloc_heap *h)
{
	if (h->large_blocks)
		return -MMK_EBUSY;
	for (unsigned i = 0; i < KMALLOC_NR_CLASSES; i++)
		if (kmem_cache_live(&h->classes[i]))
			return -MMK_EBUSY;
	for (unsigned i = 0; i < KMALLOC_NR_CLASSES; i++)
		kmem_cache_destroy(&h->classes[i]);
	return 0;
}

static void *large_alloc(struct kmalloc_heap *h, size_t size)
{
	unsigned order = 0;
	while (((uint64_t)MMK_PAGE_SIZE << order) < size) {
		if (++order > MMK_MAX_ORDER)
			return NULL;
	}
	pfn_t pfn;
	if (phys_alloc(h->phys, order, 0, &pfn) != 0)
		return NULL;
	phys_frame(h->phys, pfn)->private_data = KMALLOC_LARGE_TAG | order;
	h->large_blocks++;
	h->large_frames += (uint64_t)1 << order;
	return phys_frame_ptr(h->phys, pfn);
}

void *kmalloc(struct kmalloc_heap *h, size_t size)
{
	if (size == 0)
		return NULL;
	if (size > KMALLOC_MAX_CACHE_SIZE)
		return large_alloc(h, size);
	return kmem_cache_alloc(&h->classes[class_of(h, size)]);
}

void *kzalloc(struct kmalloc_heap *h, size_t size)
{
	void *p = kmalloc(h, size);
	if (p)
		mmk_memset(p, 0, size);
	return p;
}

/* The frame descriptor of p, or NULL when p is not in RAM's direct map. */
static struct mmk_frame *frame_of(struct kmalloc_heap *h, const void *p, pfn_t *pfn)
{
	if ((uintptr_t)p < h->dm_lo || (uintptr_t)p >= h->dm_hi)
		return NULL;
	uint64_t index = ((uintptr_t)p - h->dm_lo) >> MMK_PAGE_SHIFT;
	*pfn = h->phys->base_pfn + index;
	return &h->phys->frames[index];
}

static bool is_large_tag(uint64_t pd) { return (pd & ~(uint64_t)0xff) == KMALLOC_LARGE_TAG; }

/* The class cache owning the slab object p, or NULL. */
static struct kmem_cache *class_cache(struct kmalloc_heap *h, const struct mmk_frame *f)
{
	uintptr_t pd = (uintptr_t)f->private_data;
	if (pd < h->dm_lo || pd >= h->dm_hi || (pd & MMK_PAGE_MASK))
		return NULL; /* no slab header: not a pointer into the direct map */
	const struct kmem_slab *s = (const struct kmem_slab *)pd;
	if (s->magic != KMEM_SLAB_MAGIC)
		return NULL;
	/* One of ours when it points into the classes array at a cache. */
	uintptr_t c = (uintptr_t)s->cache, first = (uintptr_t)&h->classes[0];
	if (c < first || c >= (uintptr_t)&h->classes[KMALLOC_NR_CLASSES] || (c - first) % sizeof(h->classes[0]))
		return NULL;
	return s->cache;
}

int kfree(struct kmalloc_heap *h, void *p)
{
	if (!p)
		return 0;
	pfn_t pfn;
	struct mmk_frame *f = frame_of(h, p, &pfn);
	if (!f || f->state == MMK_FRAME_ABSENT || f->state == MMK_FRAME_RESERVED)
		return -MMK_EINVAL;
	if (is_large_tag(f->private_data)) {
		if ((uintptr_t)p & MMK_PAGE_MASK)
			return -MMK_EINVAL; /* inside a large block, not its start */
		unsigned order = (unsigned)(f->private_data & 0xff);
		int rc = phys_free(h->phys, pfn, order);
		if (rc)
			return rc;
		f->private_data = 0;
		h->large_blocks--;
		h->large_frames -= (uint64_t)1 << order;
		return 0;
	}
	if (f->state == MMK_FRAME_FREE)
		return -MMK_EALREADY; /* a large block freed before */
	struct kmem_cache *c = class_cache(h, f);
	return c ? kmem_cache_free(c, p) : -MMK_EINVAL;
}

size_t ksize(struct kmalloc_heap *h, const void *p)
{
	pfn_t pfn;
	struct mmk_frame *f = p ? frame_of(h, p, &pfn) : NULL;
	if (!f)
		return 0;
	if (is_large_tag(f->private_data))
		return (size_t)MMK_PAGE_SIZE << (f->private_data & 0xff);
	struct kmem_cache *c = class_cache(h, f);
	return c ? kmalloc_class_sizes[c - h->classes] : 0;
}

void *kmap(struct kmalloc_heap *h, pfn_t pfn)
{
	struct mmk_frame *f = phys_frame(h->phys, pfn);
	if (!f || f->state == MMK_FRAME_ABSENT)
		return NULL;
	h->kmap_active++;
	return phys_frame_ptr(h->phys, pfn);
}

int kunmap(struct kmalloc_heap *h, void *p)
{
	pfn_t pfn;
	if (!h->kmap_active || !frame_of(h, p, &pfn))
		return -MMK_EINVAL;
	h->kmap_active--;
	return 0;
}

size_t kmalloc_drain(struct kmalloc_heap *h)
{
	size_t frames = 0;
	for (unsigned i = 0; i < KMALLOC_NR_CLASSES; i++)
		frames += kmem_cache_drain(&h->classes[i]);
	return frames;
}

int kmalloc_check(struct kmalloc_heap *h, const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	for (unsigned i = 0; i < KMALLOC_NR_CLASSES; i++) {
		int rc = kmem_cache_check(&h->classes[i], why);
		if (rc)
			return rc;
	}
	uint64_t heads = 0;
	for (pfn_t pfn = h->phys->base_pfn; pfn < h->phys->end_pfn; pfn++) {
		const struct mmk_frame *f = phys_frame(h->phys, pfn);
		if (f->state == MMK_FRAME_ALLOCATED && is_large_tag(f->private_data))
			heads++;
	}
	if (heads < h->large_blocks) {
		*why = "kmalloc: fewer tagged large blocks than counted";
		return -MMK_EINVAL;
	}
	return 0;
}
