/*
 * kmem/cache.c - object caches (slab allocator), first cut.
 *
 * 1. What: fixed-size objects for mmk's own structures (VMAs, objects, ...),
 *    carved from slabs of kernel-owned frames, after Bonwick's 1994 slab
 *    allocator.  No constructor/destructor, colouring or magazines yet: they
 *    come with issue 4; the interface already has the shape they need.
 * 2. Structures: a slab is a block of 2^slab_order frames; its header sits at
 *    the start of the block, then the objects.  A bitmap in the header marks
 *    objects in use (so a double free is caught, not just a corrupt list).
 *    Every frame of the slab has private_data = the header's address, so
 *    free() maps any pointer to its slab through the frame database.
 * 3. Invariants (kmem_cache_check): a slab with 0 objects in use is on the
 *    empty list, with objs_per_slab on the full list, else on partial; the
 *    bitmap's population equals in_use; live equals the sum of in_use.
 * 4. Locking: c->lock guards everything in the cache and its slabs; phys.lock
 *    is taken inside it (cache lock before phys lock).
 * 5. Failure: allocation fails only for lack of frames (or the failpoint);
 *    nothing is left half-done.  Free of a bad pointer is an error, not a
 *    crash: the pointer is checked against the frame database first.
 * 6. Sources: Bonwick, "The Slab Allocator", USENIX 1994.
 */
#include <mmk/errno.h>
#include <mmk/kmem.h>

#include "lib/mem.h"

#define KMEM_SLAB_MAGIC 0x736c6162u /* "slab" */

struct kmem_slab {
	uint32_t magic;
	uint32_t in_use;
	struct kmem_cache *cache;
	struct kmem_slab *prev, *next; /* on one of the cache's lists */
	pfn_t pfn;                     /* first frame of the slab */
	uint64_t used[KMEM_MAX_OBJS_PER_SLAB / 64]; /* bit i: object i in use */
};

static size_t slab_bytes(const struct kmem_cache *c) { return (size_t)MMK_PAGE_SIZE << c->slab_order; }

static bool is_pow2(size_t x) { return x && !(x & (x - 1)); }

static size_t round_up(size_t x, size_t a) { return (x + a - 1) & ~(a - 1); }

int kmem_cache_init(struct kmem_cache *c, struct phys *ph, const char *name, size_t size, size_t align)
{
	if (align == 0)
		align = 8;
	if (size == 0 || size > KMEM_MAX_OBJ_SIZE || !is_pow2(align) || align > MMK_PAGE_SIZE)
		return -MMK_EINVAL;
	if (align < 8)
		align = 8;
	mmk_memset(c, 0, sizeof(*c));
	c->name = name;
	c->phys = ph;
	hal_spin_init(&c->lock);
	c->align = align;
	c->obj_size = round_up(size, align);
	c->first_obj = round_up(sizeof(struct kmem_slab), align);
	/* Smallest slab that holds at least 8 objects (or as many as fit in
	 * 64 KiB for big ones), capped by the bitmap. */
	c->slab_order = 0;
	while (c->slab_order < 4 && (slab_bytes(c) - c->first_obj) / c->obj_size < 8)
		c->slab_order++;
	size_t n = (slab_bytes(c) - c->first_obj) / c->obj_size;
	if (n == 0)
		return -MMK_EINVAL;
	c->objs_per_slab = n > KMEM_MAX_OBJS_PER_SLAB ? KMEM_MAX_OBJS_PER_SLAB : (unsigned)n;
	return 0;
}

static void list_push(struct kmem_slab_list *l, struct kmem_slab *s)
{
	s->prev = NULL;
	s->next = l->head;
	if (l->head)
		l->head->prev = s;
	l->head = s;
	l->count++;
}

static void list_remove(struct kmem_slab_list *l, struct kmem_slab *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		l->head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->prev = s->next = NULL;
	l->count--;
}

static struct kmem_slab_list *list_for(struct kmem_cache *c, const struct kmem_slab *s)
{
	if (s->in_use == 0)
		return &c->empty;
	if (s->in_use == c->objs_per_slab)
		return &c->full;
	return &c->partial;
}

static struct kmem_slab *slab_create(struct kmem_cache *c)
{
	pfn_t pfn;
	if (phys_alloc(c->phys, c->slab_order, 0, &pfn) != 0)
		return NULL;
	struct kmem_slab *s = phys_frame_ptr(c->phys, pfn);
	mmk_memset(s, 0, sizeof(*s));
	s->magic = KMEM_SLAB_MAGIC;
	s->cache = c;
	s->pfn = pfn;
	for (pfn_t i = 0; i < ((pfn_t)1 << c->slab_order); i++)
		phys_frame(c->phys, pfn + i)->private_data = (uint64_t)(uintptr_t)s;
	c->slabs_created++;
	return s;
}

static void slab_destroy(struct kmem_cache *c, struct kmem_slab *s)
{
	pfn_t pfn = s->pfn;
	for (pfn_t i = 0; i < ((pfn_t)1 << c->slab_order); i++)
		phys_frame(c->phys, pfn + i)->private_data = 0;
	s->magic = 0;
	phys_free(c->phys, pfn, c->slab_order);
	c->slabs_freed++;
}

static void *obj_at(const struct kmem_cache *c, struct kmem_slab *s, unsigned i)
{
	return (char *)s + c->first_obj + (size_t)i * c->obj_size;
}

static unsigned first_free(const struct kmem_cache *c, const struct kmem_slab *s)
{
	for (unsigned w = 0; w < KMEM_MAX_OBJS_PER_SLAB / 64; w++) {
		if (s->used[w] == UINT64_MAX)
			continue;
		unsigned i = w * 64 + (unsigned)__builtin_ctzll(~s->used[w]);
		if (i < c->objs_per_slab)
			return i;
	}
	return c->objs_per_slab;
}

void *kmem_cache_alloc(struct kmem_cache *c)
{
	hal_spin_lock(&c->lock);
	struct kmem_slab *s = c->partial.head ? c->partial.head : c->empty.head;
	if (!s) {
		s = slab_create(c);
		if (!s) {
			hal_spin_unlock(&c->lock);
			return NULL;
		}
	} else {
		list_remove(list_for(c, s), s);
	}
	unsigned i = first_free(c, s);
	s->used[i / 64] |= (uint64_t)1 << (i % 64);
	s->in_use++;
	list_push(list_for(c, s), s);
	c->allocs++;
	c->live++;
	void *obj = obj_at(c, s, i);
	hal_spin_unlock(&c->lock);
	mmk_memset(obj, 0, c->obj_size);
	return obj;
}

/* The slab of obj if obj is an object of c, else NULL with *err set. */
static struct kmem_slab *slab_of(struct kmem_cache *c, const void *obj, unsigned *index, int *err)
{
	*err = -MMK_EINVAL;
	if (!obj)
		return NULL;
	struct mmk_frame *f = phys_frame(c->phys, mmk_paddr_to_pfn(hal_phys_unmap(c->phys->machine, obj)));
	if (!f || f->private_data == 0)
		return NULL;
	struct kmem_slab *s = (struct kmem_slab *)(uintptr_t)f->private_data;
	if (s->magic != KMEM_SLAB_MAGIC || s->cache != c)
		return NULL;
	size_t off = (size_t)((const char *)obj - (const char *)s);
	if (off < c->first_obj || (off - c->first_obj) % c->obj_size)
		return NULL;
	size_t i = (off - c->first_obj) / c->obj_size;
	if (i >= c->objs_per_slab)
		return NULL;
	*index = (unsigned)i;
	if (!(s->used[i / 64] & ((uint64_t)1 << (i % 64)))) {
		*err = -MMK_EALREADY;
		return NULL;
	}
	return s;
}

int kmem_cache_free(struct kmem_cache *c, void *obj)
{
	unsigned i;
	int err;
	hal_spin_lock(&c->lock);
	struct kmem_slab *s = slab_of(c, obj, &i, &err);
	if (!s) {
		hal_spin_unlock(&c->lock);
		return err;
	}
	list_remove(list_for(c, s), s);
	s->used[i / 64] &= ~((uint64_t)1 << (i % 64));
	s->in_use--;
	c->frees++;
	c->live--;
	if (s->in_use == 0 && c->empty.count >= 1)
		slab_destroy(c, s); /* keep one empty slab against alloc/free thrash */
	else
		list_push(list_for(c, s), s);
	hal_spin_unlock(&c->lock);
	return 0;
}

size_t kmem_cache_reap(struct kmem_cache *c)
{
	size_t frames = 0;
	hal_spin_lock(&c->lock);
	while (c->empty.head) {
		struct kmem_slab *s = c->empty.head;
		list_remove(&c->empty, s);
		slab_destroy(c, s);
		frames += (size_t)1 << c->slab_order;
	}
	hal_spin_unlock(&c->lock);
	return frames;
}

int kmem_cache_destroy(struct kmem_cache *c)
{
	if (c->live)
		return -MMK_EBUSY;
	kmem_cache_reap(c);
	return 0;
}

static int check_list(struct kmem_cache *c, const struct kmem_slab_list *l, uint64_t *live, const char **why)
{
	size_t n = 0;
	const struct kmem_slab *prev = NULL;
	for (struct kmem_slab *s = l->head; s; prev = s, s = s->next, n++) {
		unsigned bits = 0;
		for (unsigned w = 0; w < KMEM_MAX_OBJS_PER_SLAB / 64; w++)
			bits += (unsigned)__builtin_popcountll(s->used[w]);
		if (s->magic != KMEM_SLAB_MAGIC || s->cache != c)
			*why = "kmem: slab header corrupt";
		else if (s->prev != prev)
			*why = "kmem: slab list back link wrong";
		else if (bits != s->in_use)
			*why = "kmem: bitmap population differs from in_use";
		else if (list_for(c, s) != l)
			*why = "kmem: slab on the wrong list for its use count";
		else if (phys_frame(c->phys, s->pfn)->private_data != (uint64_t)(uintptr_t)s)
			*why = "kmem: frame does not point back at its slab";
		else {
			*live += s->in_use;
			continue;
		}
		return -MMK_EINVAL;
	}
	if (n != l->count) {
		*why = "kmem: list count differs from recount";
		return -MMK_EINVAL;
	}
	return 0;
}

int kmem_cache_check(struct kmem_cache *c, const char **why)
{
	const char *dummy;
	uint64_t live = 0;
	if (!why)
		why = &dummy;
	hal_spin_lock(&c->lock);
	int rc = check_list(c, &c->partial, &live, why);
	if (!rc)
		rc = check_list(c, &c->full, &live, why);
	if (!rc)
		rc = check_list(c, &c->empty, &live, why);
	if (!rc && live != c->live) {
		*why = "kmem: live objects differ from recount";
		rc = -MMK_EINVAL;
	}
	if (!rc && c->allocs - c->frees != c->live) {
		*why = "kmem: allocs - frees != live";
		rc = -MMK_EINVAL;
	}
	hal_spin_unlock(&c->lock);
	return rc;
}
