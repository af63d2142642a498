/*
 * kmem/slab_internal.h - what the files of the slab allocator share:
 * the slab header, magazines, per-CPU caches and the functions each layer
 * offers the others.  The theory is in cache.c.
 *
 *   cache.c        create/destroy, the alloc/free fast paths, reap, check
 *   slab_layer.c   slabs: growth from frames, colouring, bitmaps, lookup
 *   magazine.c     magazines, the depot, working set, resize, purge
 *   kmem_debug.c   buffer tags, red zones, poisoning, reports
 *   slab_stats.c   statistics and the slabinfo line
 */
#ifndef MMK_KMEM_SLAB_INTERNAL_H
#define MMK_KMEM_SLAB_INTERNAL_H

#include <mmk/errno.h>
#include <mmk/kmem.h>
#include "../lib/fmt.h"

#define KMEM_SLAB_MAGIC 0x736c6162u  /* "slab" */
#define KMEM_CACHE_MAGIC 0x6b6d656du /* "kmem" */
#define KMEM_CACHE_LINE 64u
#define KMEM_MAX_SLAB_ORDER 5u
#define KMEM_BITMAP_WORDS (KMEM_MAX_OBJS_PER_SLAB / 64)
#define KMEM_DEBUG_ANY KMEM_DEBUG_ALL

/*
 * A slab's header, at the start of its first frame.  The first cache line
 * is written once (at creation) and then only read, also by the lock-free
 * pointer lookup of every free; the slab lock guards the second part.
 */
struct kmem_slab {
	/* immutable while the slab exists */
	uint32_t magic;
	uint32_t colour;               /* bytes before object 0 beyond first_obj */
	struct kmem_cache *cache;
	pfn_t pfn;                     /* first frame of the slab */
	char *base;                    /* object 0 */
	char pad_[KMEM_CACHE_LINE - 32];
	/* guarded by cache->lock */
	uint32_t in_use;               /* objects out of the slab (users + magazines) */
	uint32_t pad2_;
	struct kmem_slab *prev, *next; /* on one of the cache's lists */
	uint64_t used[KMEM_BITMAP_WORDS]; /* bit i: object i out of the slab */
	uint64_t mark[KMEM_BITMAP_WORDS]; /* kmem_cache_check's scratch (all locks held) */
};

/*
 * A magazine: a stack of up to size object pointers (rounds).  Magazines
 * are objects of the cache's magazine caches (c->mag_cache[cls]).  A CPU's
 * magazines belong to that CPU (cache.c, section 4), the depot's are
 * guarded by depot.lock.  rounds is atomic only so that statistics may read
 * it from another CPU while the owner pushes and pops: the owner uses
 * relaxed loads and stores (kmem_mag_count, kmem_mag_set_count), never a
 * read-modify-write.
 */
struct kmem_magazine {
	struct kmem_magazine *next; /* on a depot list */
	_Atomic uint32_t rounds;
	uint16_t size;
	uint16_t cls;
	void *round[];
};

/*
 * A CPU's cache (2001 paper, 3.1): the loaded magazine and the previous
 * one, which is always NULL, empty or full.  One per cache line.  Only CPU
 * i writes cpu[i], pinned (hal_cpu_pin), and in the common case it takes
 * no lock: it pops and pushes rounds of loaded and counts the hit.  lock
 * is held whenever loaded or prev change (the owner's exchanges with the
 * depot, a drain) and by readers on other CPUs (statistics), so those read
 * two stable pointers; the hit counters and a magazine's round count are
 * atomic for them, written by the owner with relaxed stores.
 */
struct kmem_cpu_cache {
	_Alignas(KMEM_CACHE_LINE) struct hal_spinlock lock;
	struct kmem_magazine *loaded, *prev;
	_Atomic uint64_t alloc_hits, free_hits; /* served by loaded or prev */
};

/* ---- small helpers ---- */

static inline bool kmem_has_mags(const struct kmem_cache *c) { return c->cpu != NULL; }
static inline size_t kmem_slab_bytes(const struct kmem_cache *c) { return (size_t)MMK_PAGE_SIZE << c->slab_order; }
static inline void *kmem_obj_at(const struct kmem_cache *c, const struct kmem_slab *s, unsigned i)
{
	return s->base + (size_t)i * c->obj_size;
}
static inline bool kmem_bit(const uint64_t *map, unsigned i) { return (map[i / 64] >> (i % 64)) & 1u; }
static inline void kmem_bit_set(uint64_t *map, unsigned i) { map[i / 64] |= (uint64_t)1 << (i % 64); }
static inline void kmem_bit_clear(uint64_t *map, unsigned i) { map[i / 64] &= ~((uint64_t)1 << (i % 64)); }

/* A magazine's round count, and a per-CPU hit counter bumped, by the owner
 * (or with the magazine in hand): plain loads and stores on every CPU
 * architecture, but atomic for readers elsewhere. */
static inline uint32_t kmem_mag_count(const struct kmem_magazine *m)
{
	return atomic_load_explicit(&m->rounds, memory_order_relaxed);
}
static inline void kmem_mag_set_count(struct kmem_magazine *m, uint32_t n)
{
	atomic_store_explicit(&m->rounds, n, memory_order_relaxed);
}
static inline void kmem_cpu_hit(_Atomic uint64_t *counter)
{
	atomic_store_explicit(counter, atomic_load_explicit(counter, memory_order_relaxed) + 1, memory_order_relaxed);
}

/* A round from cc's loaded magazine, or NULL when it is empty or absent.
 * Pinned to cc's CPU (or holding cc->lock).  Counts nothing: callers
 * outside the fast path count a hit for KMEM_STATS caches (kmem_cpu_count). */
static inline void *kmem_cpu_pop(struct kmem_cpu_cache *cc)
{
	struct kmem_magazine *m = cc->loaded;
	uint32_t n;
	if (!m || (n = kmem_mag_count(m)) == 0)
		return NULL;
	void *obj = m->round[n - 1];
	kmem_mag_set_count(m, n - 1);
	return obj;
}

/* Count a CPU-layer hit when c keeps statistics (KMEM_STATS). */
static inline void kmem_cpu_count(const struct kmem_cache *c, _Atomic uint64_t *counter)
{
	if (c->flags & KMEM_STATS)
		kmem_cpu_hit(counter);
}

/* Put obj in cc's loaded magazine: false when it is full or absent. */
static inline bool kmem_cpu_push(struct kmem_cpu_cache *cc, void *obj)
{
	struct kmem_magazine *m = cc->loaded;
	uint32_t n;
	if (!m || (n = kmem_mag_count(m)) >= m->size)
		return false;
	m->round[n] = obj;
	kmem_mag_set_count(m, n + 1);
	return true;
}

/* ---- slab_layer.c (the slab lock, c->lock) ---- */

/* Geometry: slab order, objects per slab, colours.  -MMK_EINVAL if none fits. */
int kmem_slab_geometry(struct kmem_cache *c);

/* Where obj lies, without any lock (valid pointers were published to this
 * CPU by the lock that handed them out).  0 with *sp and *ip, or
 * KMEM_ERR_FOREIGN / _WRONG_CACHE / _INTERIOR (*sp set for the last two). */
int kmem_slab_locate_slow(const struct kmem_cache *c, const void *obj, struct kmem_slab **sp, unsigned *ip);

/*
 * The slab and index of obj, validated (every free passes here): 0, or a
 * KMEM_ERR_* kind with *sp the slab when one was found.  The fast case is
 * an object of this cache: a slab is 2^slab_order frames aligned alike in
 * physical memory (buddy), so where its header would be is arithmetic, and
 * the frame database (which names the slab of every slab frame) confirms
 * it in a load issued alongside the header's instead of before it.
 * Anything else takes kmem_slab_locate_slow, which says what it is.
 */
static inline struct kmem_slab *kmem_slab_of_fast(const struct kmem_cache *c, uintptr_t p, uint64_t *index)
{
	if (p < c->dm_lo || p >= c->dm_hi)
		return NULL;
	uintptr_t head = p - ((p + c->dm_bias) & c->slab_mask);
	uint64_t pd = c->frames[(p - c->dm_lo) >> MMK_PAGE_SHIFT].private_data;
	struct kmem_slab *s = (struct kmem_slab *)head;
	if (pd != head || head < c->dm_lo || s->magic != KMEM_SLAB_MAGIC || s->cache != c)
		return NULL;
	/* p below base wraps off past 2^63, which no i * obj_size (< 2^31)
	 * equals: the equality below refuses it without a test of its own. */
	uint64_t off = p - (uintptr_t)s->base;
	uint64_t i = (off * c->div_magic) >> 40; /* exact: off < 2^17, obj_size < 2^23 */
	if (i >= c->objs_per_slab || i * c->obj_size != off)
		return NULL;
	*index = i;
	return s;
}

static inline int kmem_slab_locate(const struct kmem_cache *c, const void *obj, struct kmem_slab **sp, unsigned *ip)
{
	uint64_t i;
	struct kmem_slab *s = kmem_slab_of_fast(c, (uintptr_t)obj, &i);
	if (!s)
		return kmem_slab_locate_slow(c, obj, sp, ip);
	*sp = s;
	*ip = (unsigned)i;
	return 0;
}

/* An object for a user straight from the slabs (growing by one slab if
 * needed; the slab lock is dropped around growth); live++ under the lock.
 * NULL on ENOMEM or ctor failure. */
void *kmem_slab_alloc(struct kmem_cache *c);

/* Object i of s back from a user: -MMK_EALREADY (with a report) when it
 * is in the slab already; live-- under the lock. */
int kmem_slab_free_user(struct kmem_cache *c, struct kmem_slab *s, unsigned i);

/* n magazine rounds back to their slabs in one lock hold (live unchanged). */
void kmem_slab_free_rounds(struct kmem_cache *c, void *const *objs, unsigned n);

/* Free every empty slab; returns frames freed. */
size_t kmem_slab_reap(struct kmem_cache *c);

/* kmem_cache_check's part; caller holds c->lock.  Sums in_use into *out.
 * Clears every slab's mark bits. */
int kmem_slab_check_locked(struct kmem_cache *c, uint64_t *out, const char **why);

/* Calls fn on every object of every slab of c (caller holds c->lock). */
int kmem_slab_each_object_locked(struct kmem_cache *c, int (*fn)(struct kmem_cache *, struct kmem_slab *, unsigned, void *),
				 void *ctx);

/* ---- magazine.c ---- */

/* Rounds of magazines of class cls. */
unsigned kmem_mag_rounds(unsigned cls);

/* Create the per-CPU caches and magazine caches (frames), or nothing. */
int kmem_mag_init(struct kmem_cache *c);
/* Free them; every magazine must be gone. */
void kmem_mag_fini(struct kmem_cache *c);

/* Slow paths of CPU cc, called pinned to it (hal_cpu_pin) with no lock
 * held: exchange magazines with the depot under cc->lock (and make an
 * empty one when needed), retiring magazines of an outgrown size as they
 * leave the CPU.  NULL / false: go to the slab layer (nothing changed). */
void *kmem_mag_alloc_slow(struct kmem_cache *c, struct kmem_cpu_cache *cc);
bool kmem_mag_free_slow(struct kmem_cache *c, struct kmem_cpu_cache *cc, void *obj);

/* Working-set reap of the depot: idle magazines back to the slabs. */
void kmem_mag_reap_depot(struct kmem_cache *c);
/* Every CPU's magazines and the whole depot back to the slabs.  Contract:
 * no other CPU is inside a call on c (drain, destroy). */
void kmem_mag_purge(struct kmem_cache *c);
/* Close the interval; maybe grow the magazine size (then flush the depot
 * and the calling CPU's magazines; other CPUs retire theirs lazily). */
void kmem_mag_update(struct kmem_cache *c);
/* Frames freed by reaping the magazine caches. */
size_t kmem_mag_reap_caches(struct kmem_cache *c);
/* Frames of the per-CPU block and the magazine caches' slabs. */
uint64_t kmem_mag_frames(struct kmem_cache *c);

/* Check: cpu locks, depot lock and c->lock held by the caller, no other
 * CPU inside a call on c (its fast path takes no lock).  Marks every
 * round in its slab; adds the rounds to *rounds and the magazines to
 * *mags[cls]. */
int kmem_mag_check_locked(struct kmem_cache *c, uint64_t *rounds, uint64_t *mags, const char **why);

/* Take / release every CPU lock in index order, then depot. */
void kmem_mag_lock_all(struct kmem_cache *c);
void kmem_mag_unlock_all(struct kmem_cache *c);

/* ---- kmem_debug.c ---- */

/* A new slab's objects in their free debug state (poison, red zone, tag). */
void kmem_debug_init_object(struct kmem_cache *c, void *obj);
/* kmem_cache_free's debug checks before anything changes: -MMK_EALREADY /
 * -MMK_EINVAL with a report; on 0 the tag says free, the red zone is whole
 * and (POISON) the object is destructed and poisoned. */
int kmem_debug_free(struct kmem_cache *c, struct kmem_slab *s, unsigned i, void *obj);
/* kmem_cache_alloc's: tag to allocated, poison and red zone verified
 * (reported, not fatal), ctor (POISON) run.  -MMK_ENOMEM-like failure of
 * the ctor returns non-zero: the object is then free again (tag, poison). */
int kmem_debug_alloc(struct kmem_cache *c, void *obj);
/* For kmem_cache_check: 0 or a reason. */
const char *kmem_debug_verify(struct kmem_cache *c, void *obj, bool free);
/* Report kind about obj in slab s (may be NULL). */
void kmem_report(struct kmem_cache *c, enum kmem_error kind, const struct kmem_slab *s, const void *obj,
		 size_t offset, const char *other_cache);
/* The cache's state word of obj (debug caches). */
uint64_t kmem_tag_value(const void *obj, bool free);

#endif
