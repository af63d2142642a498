/*
 * kmem/slab_layer.c - the slab layer (Bonwick 1994): slabs of kernel-owned
 * frames carved into objects, their colours, the bitmap of objects out of
 * each slab, and the lock-free lookup from any pointer to its slab.
 * The theory (sections 2-5) is in cache.c; everything here that changes a
 * slab runs under the slab lock c->lock, and everything that calls a ctor,
 * a dtor or phys_alloc runs without it.
 */
#include "lib/mem.h"
#include "slab_internal.h"

static size_t round_up(size_t x, size_t a) { return (x + a - 1) & ~(a - 1); }

static size_t objs_fit(const struct kmem_cache *c)
{
	size_t bytes = kmem_slab_bytes(c);
	return bytes > c->first_obj ? (bytes - c->first_obj) / c->obj_size : 0;
}

int kmem_slab_geometry(struct kmem_cache *c)
{
	c->first_obj = round_up(sizeof(struct kmem_slab), c->align);
	/* Smallest slab that holds at least 8 objects (up to 64 KiB), or at
	 * least one object (up to 128 KiB). */
	c->slab_order = 0;
	while (c->slab_order < 4 && objs_fit(c) < 8)
		c->slab_order++;
	while (c->slab_order < KMEM_MAX_SLAB_ORDER && objs_fit(c) == 0)
		c->slab_order++;
	c->slab_mask = ((uintptr_t)MMK_PAGE_SIZE << c->slab_order) - 1;
	size_t n = objs_fit(c);
	if (n == 0)
		return -MMK_EINVAL;
	if (n > KMEM_MAX_OBJS_PER_SLAB)
		n = KMEM_MAX_OBJS_PER_SLAB;
	c->objs_per_slab = (unsigned)n;
	/* Colouring (1994 paper, 4.1): the slack at the end of a slab shifts
	 * object 0 of successive slabs by a cache line (or the alignment when
	 * that is larger, or when the slack is under a line), so equal
	 * offsets of different slabs do not fall on the same cache lines. */
	size_t slack = kmem_slab_bytes(c) - c->first_obj - n * c->obj_size;
	c->colour_step = c->align >= KMEM_CACHE_LINE ? c->align : slack >= KMEM_CACHE_LINE ? KMEM_CACHE_LINE : c->align;
	c->colour_max = slack / c->colour_step * c->colour_step;
	c->colour_next = 0;
	c->div_magic = (((uint64_t)1 << 40) + c->obj_size - 1) / c->obj_size;
	return 0;
}

/* ---- lists ---- */

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

/* ---- lookup ---- */

int kmem_slab_locate_slow(const struct kmem_cache *c, const void *obj, struct kmem_slab **sp, unsigned *ip)
{
	uintptr_t p = (uintptr_t)obj;
	const struct phys *ph = c->phys;
	*sp = NULL;
	/* The direct map is contiguous (hal.h), so the frame of p is plain
	 * arithmetic, and a pointer outside it is no object at all. */
	if (p < c->dm_lo || p >= c->dm_hi)
		return KMEM_ERR_FOREIGN;
	uint64_t pd = ph->frames[(p - c->dm_lo) >> MMK_PAGE_SHIFT].private_data;
	if (pd == 0 || (pd & MMK_PAGE_MASK) || pd < c->dm_lo || pd >= c->dm_hi || pd > p)
		return KMEM_ERR_FOREIGN;
	struct kmem_slab *s = (struct kmem_slab *)(uintptr_t)pd;
	if (s->magic != KMEM_SLAB_MAGIC)
		return KMEM_ERR_FOREIGN;
	*sp = s;
	if (s->cache != c)
		return KMEM_ERR_WRONG_CACHE;
	if (p < (uintptr_t)s->base)
		return KMEM_ERR_INTERIOR;
	uint64_t off = p - (uintptr_t)s->base;
	uint64_t i = (off * c->div_magic) >> 40; /* exact: off < 2^17, obj_size < 2^23 */
	if (i >= c->objs_per_slab || i * c->obj_size != off)
		return KMEM_ERR_INTERIOR;
	*ip = (unsigned)i;
	return 0;
}

/* ---- growth and destruction (no lock held) ---- */

static void set_private(struct kmem_cache *c, pfn_t pfn, uint64_t v)
{
	for (pfn_t i = 0; i < ((pfn_t)1 << c->slab_order); i++)
		phys_frame(c->phys, pfn + i)->private_data = v;
}

static struct kmem_slab *slab_create(struct kmem_cache *c, size_t colour)
{
	pfn_t pfn;
	if (phys_alloc(c->phys, c->slab_order, 0, &pfn) != 0) /* kernel-owned (seed 002) */
		return NULL;
	struct kmem_slab *s = phys_frame_ptr(c->phys, pfn);
	mmk_memset(s, 0, sizeof(*s));
	s->colour = (uint32_t)colour;
	s->cache = c;
	s->pfn = pfn;
	s->base = (char *)s + c->first_obj + colour;
	if (c->flags & KMEM_DEBUG_ANY)
		for (unsigned i = 0; i < c->objs_per_slab; i++)
			kmem_debug_init_object(c, kmem_obj_at(c, s, i));
	if (c->ctor && !(c->flags & KMEM_DEBUG_POISON)) {
		for (unsigned i = 0; i < c->objs_per_slab; i++) {
			if (c->ctor(kmem_obj_at(c, s, i), c->arg) == 0)
				continue;
			while (c->dtor && i--)
				c->dtor(kmem_obj_at(c, s, i), c->arg);
			phys_free(c->phys, pfn, c->slab_order);
			return NULL;
		}
	}
	set_private(c, pfn, (uint64_t)(uintptr_t)s);
	s->magic = KMEM_SLAB_MAGIC;
	return s;
}

/* s is on no list and empty. */
static size_t slab_destroy(struct kmem_cache *c, struct kmem_slab *s)
{
	pfn_t pfn = s->pfn;
	if (c->dtor && !(c->flags & KMEM_DEBUG_POISON))
		for (unsigned i = 0; i < c->objs_per_slab; i++)
			c->dtor(kmem_obj_at(c, s, i), c->arg);
	set_private(c, pfn, 0);
	s->magic = 0;
	phys_free(c->phys, pfn, c->slab_order);
	return (size_t)1 << c->slab_order;
}

static size_t destroy_chain(struct kmem_cache *c, struct kmem_slab *doomed)
{
	size_t frames = 0;
	while (doomed) {
		struct kmem_slab *next = doomed->next;
		frames += slab_destroy(c, doomed);
		doomed = next;
	}
	return frames;
}

/* ---- allocation and free (slab lock) ---- */

static unsigned first_free(const struct kmem_cache *c, const struct kmem_slab *s)
{
	for (unsigned w = 0; w < KMEM_BITMAP_WORDS; w++) {
		if (s->used[w] == UINT64_MAX)
			continue;
		unsigned i = w * 64 + (unsigned)__builtin_ctzll(~s->used[w]);
		if (i < c->objs_per_slab)
			return i;
	}
	return c->objs_per_slab;
}

void *kmem_slab_alloc(struct kmem_cache *c)
{
	struct kmem_slab *s;
	hal_spin_lock(&c->lock);
	while (!(s = c->partial.head ? c->partial.head : c->empty.head)) {
		/* Grow with the lock dropped (phys_alloc, ctors); a failure
		 * changes nothing, not even the colour. */
		size_t colour = c->colour_next;
		hal_spin_unlock(&c->lock);
		struct kmem_slab *n = slab_create(c, colour);
		if (!n)
			return NULL;
		hal_spin_lock(&c->lock);
		if (c->colour_next == colour)
			c->colour_next = colour + c->colour_step > c->colour_max ? 0 : colour + c->colour_step;
		list_push(&c->empty, n);
		c->slabs_created++;
	}
	list_remove(list_for(c, s), s);
	unsigned i = first_free(c, s);
	kmem_bit_set(s->used, i);
	s->in_use++;
	list_push(list_for(c, s), s);
	c->slab_allocs++;
	hal_spin_unlock(&c->lock);
	return kmem_obj_at(c, s, i);
}

/* Object i leaves its user or magazine for s.  Returns s when it is now
 * empty and must go (unlinked), else NULL.  One empty slab is kept
 * against alloc/free thrash at a slab boundary. */
static struct kmem_slab *release_locked(struct kmem_cache *c, struct kmem_slab *s, unsigned i)
{
	list_remove(list_for(c, s), s);
	kmem_bit_clear(s->used, i);
	s->in_use--;
	if (s->in_use == 0 && c->empty.count >= 1) {
		c->slabs_freed++;
		return s;
	}
	list_push(list_for(c, s), s);
	return NULL;
}

int kmem_slab_free_user(struct kmem_cache *c, struct kmem_slab *s, unsigned i)
{
	hal_spin_lock(&c->lock);
	if (!kmem_bit(s->used, i)) {
		hal_spin_unlock(&c->lock);
		kmem_report(c, KMEM_ERR_DOUBLE_FREE, s, kmem_obj_at(c, s, i), 0, NULL);
		return -MMK_EALREADY;
	}
	struct kmem_slab *doomed = release_locked(c, s, i);
	c->slab_frees++;
	hal_spin_unlock(&c->lock);
	if (doomed)
		slab_destroy(c, doomed);
	return 0;
}

void kmem_slab_free_rounds(struct kmem_cache *c, void *const *objs, unsigned n)
{
	struct kmem_slab *doomed = NULL;
	hal_spin_lock(&c->lock);
	for (unsigned k = 0; k < n; k++) {
		struct kmem_slab *s;
		unsigned i;
		int kind = kmem_slab_locate(c, objs[k], &s, &i);
		if (!kind && !kmem_bit(s->used, i))
			kind = KMEM_ERR_DOUBLE_FREE; /* freed twice without a debug tag */
		if (kind) {
			/* A magazine round that is no object out of its slab:
			 * leave it be (kmem_cache_check names it), say so. */
			hal_spin_unlock(&c->lock);
			kmem_report(c, (enum kmem_error)kind, s, objs[k], 0, s && s->cache != c ? s->cache->name : NULL);
			hal_spin_lock(&c->lock);
			continue;
		}
		struct kmem_slab *d = release_locked(c, s, i);
		if (d) {
			d->next = doomed;
			doomed = d;
		}
	}
	hal_spin_unlock(&c->lock);
	destroy_chain(c, doomed);
}

size_t kmem_slab_reap(struct kmem_cache *c)
{
	struct kmem_slab *doomed = NULL;
	hal_spin_lock(&c->lock);
	while (c->empty.head) {
		struct kmem_slab *s = c->empty.head;
		list_remove(&c->empty, s);
		c->slabs_freed++;
		s->next = doomed;
		doomed = s;
	}
	hal_spin_unlock(&c->lock);
	return destroy_chain(c, doomed);
}

/* ---- checking ---- */

static int check_list(struct kmem_cache *c, struct kmem_slab_list *l, uint64_t *out, const char **why)
{
	size_t n = 0;
	const struct kmem_slab *prev = NULL;
	for (struct kmem_slab *s = l->head; s; prev = s, s = s->next, n++) {
		unsigned bits = 0;
		for (unsigned w = 0; w < KMEM_BITMAP_WORDS; w++)
			bits += (unsigned)__builtin_popcountll(s->used[w]);
		bool stray = false;
		for (unsigned i = c->objs_per_slab; i < KMEM_MAX_OBJS_PER_SLAB; i++)
			stray |= kmem_bit(s->used, i);
		if (s->magic != KMEM_SLAB_MAGIC || s->cache != c)
			*why = "kmem: slab header corrupt";
		else if (s->prev != prev)
			*why = "kmem: slab list back link wrong";
		else if (stray)
			*why = "kmem: bitmap marks an object past the slab's last";
		else if (bits != s->in_use)
			*why = "kmem: bitmap population differs from in_use";
		else if (list_for(c, s) != l)
			*why = "kmem: slab on the wrong list for its use count";
		else if (s->colour > c->colour_max || (c->colour_step && s->colour % c->colour_step) ||
			 s->base != (char *)s + c->first_obj + s->colour)
			*why = "kmem: slab colour out of range";
		else if (phys_frame(c->phys, s->pfn)->private_data != (uint64_t)(uintptr_t)s ||
			 phys_frame(c->phys, s->pfn + ((pfn_t)1 << c->slab_order) - 1)->private_data !=
				 (uint64_t)(uintptr_t)s)
			*why = "kmem: frame does not point back at its slab";
		else if (phys_frame(c->phys, s->pfn)->owner != MMK_OWNER_KERNEL)
			*why = "kmem: slab frames not kernel-owned";
		else {
			*out += s->in_use;
			mmk_memset(s->mark, 0, sizeof(s->mark));
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

int kmem_slab_check_locked(struct kmem_cache *c, uint64_t *out, const char **why)
{
	int rc = check_list(c, &c->partial, out, why);
	if (!rc)
		rc = check_list(c, &c->full, out, why);
	if (!rc)
		rc = check_list(c, &c->empty, out, why);
	if (!rc && c->slabs_created - c->slabs_freed != c->partial.count + c->full.count + c->empty.count) {
		*why = "kmem: slabs created - freed differs from slabs on lists";
		rc = -MMK_EINVAL;
	}
	return rc;
}

int kmem_slab_each_object_locked(struct kmem_cache *c,
				 int (*fn)(struct kmem_cache *, struct kmem_slab *, unsigned, void *), void *ctx)
{
	struct kmem_slab_list *lists[3] = { &c->partial, &c->full, &c->empty };
	for (unsigned l = 0; l < 3; l++)
		for (struct kmem_slab *s = lists[l]->head; s; s = s->next)
			for (unsigned i = 0; i < c->objs_per_slab; i++) {
				int rc = fn(c, s, i, ctx);
				if (rc)
					return rc;
			}
	return 0;
}
