/*
 * kmem/cache.c - object caches: the slab allocator with per-CPU magazines.
 *
 * 1. What.  Fixed-size objects for mmk's own structures (VMAs, objects,
 *    descriptors of every later subsystem), after Bonwick's slab allocator
 *    (1994) and its magazine layer (Bonwick and Adams 2001).  A cache keeps
 *    objects in their constructed state between uses (ctor once per object
 *    per slab, dtor when the slab goes), colours its slabs, takes its
 *    memory only as kernel-owned frames from phys_alloc (seed 002), gives
 *    empty slabs back under memory pressure, and in the common case
 *    allocates and frees touching only the calling CPU's state.  Debug
 *    flags add red zones, poisoning checked on reuse and a per-object state
 *    word that names every double free.
 *
 * 2. Structures.  Three layers, each a cache of the one below:
 *    - CPU layer: per CPU (c->cpu[hal_cpu_pin], one cache line each) a
 *      loaded and a previous magazine.  A magazine is a stack of up to
 *      size object pointers ("rounds").  alloc pops a round from loaded,
 *      free pushes one; when loaded is empty (full) and previous is full
 *      (empty) they swap; otherwise the CPU goes to the depot.
 *    - Depot (c->depot): stacks of full and of empty magazines for all
 *      CPUs, with the working-set minimum of each (section 5) and the count
 *      of waits for its lock.  alloc with both magazines empty trades the
 *      previous (empty) for a full one; free with both full trades the
 *      previous (full) for an empty one, making a new empty magazine from
 *      the magazine caches when the depot has none.  With no full magazine
 *      (or no magazine to be had) the call goes to the slab layer.
 *    - Slab layer (slab_layer.c): a slab is 2^slab_order kernel frames: a
 *      header (magic, colour, a bitmap of objects out of the slab, list
 *      links), then colour bytes, then objs_per_slab buffers of obj_size.
 *      Each frame of a slab has private_data = the header, so free maps a
 *      pointer to its slab by arithmetic on the direct map and one load;
 *      slabs sit on the partial, full or empty list by their use count.
 *      Colour: successive slabs put object 0 at first_obj + 0, step,
 *      2*step, ... up to colour_max (the slack left by the objects), then
 *      0 again; step is a cache line (or the alignment), so objects at one
 *      index in different slabs fall on different cache lines.
 *    - Magazines come from KMEM_MAG_CLASSES small KMEM_NOMAGAZINE caches of
 *      the cache itself (magazine.c), one per size class (6 .. 254 rounds);
 *      they and the per-CPU array live in one block of frames taken at
 *      create, sized by hal_cpu_count.
 *    - Debug buffers (kmem_debug.c): red zone and state word after the
 *      object; free objects of KMEM_DEBUG_POISON caches hold the poison.
 *
 * 3. Invariants (kmem_cache_check re-derives them all).
 *    I1 A slab with in_use 0 is on empty, with objs_per_slab on full, else
 *       on partial; list links and counts are consistent; the bitmap's
 *       population is in_use and no bit lies past the last object;
 *       slabs_created - slabs_freed is the number of slabs on the lists.
 *    I2 Every frame of a slab points back at its header; slab frames are
 *       kernel-owned; colour <= colour_max, a multiple of colour_step.
 *    I3 Every magazine is an object of the magazine cache of its class and
 *       holds at most size rounds; each round is an object of this cache
 *       that is out of its slab (bit set) and in no other round.  Objects
 *       in magazines are allocated from the slab's point of view and free
 *       from the user's.
 *    I4 A CPU's previous magazine is empty or full; depot full magazines
 *       are full, empty ones empty, all of the current class (a CPU's may
 *       be older: section 5); the depot counts equal recounts and the
 *       working-set minimums do not exceed them.
 *    I5 live = (objects out of slabs) - (rounds in all magazines), which
 *       is what kmem_cache_live reports: no count of it is kept.  With
 *       KMEM_STATS (or without a CPU layer) it also equals allocs - frees,
 *       where allocs = CPU alloc hits + slab allocs and frees = CPU free
 *       hits + slab frees.  Each magazine cache's live count is the number
 *       of magazines found.
 *    I6 Debug: each object in a slab or magazine has the FREE state word,
 *       an intact red zone and (POISON) intact poison; each object held by
 *       a user has the ALLOC word and an intact red zone.
 *
 * 4. Locking and lock order.
 *      cpu[i].lock -> depot.lock -> lock (slab layer) -> mag_cache[k].lock
 *      -> phys.lock
 *    CPU layer: cpu[i] belongs to CPU i.  A kernel does not lock its own
 *    CPU's magazines; it keeps other code off the CPU (Linux's SLUB and
 *    per-CPU caches, illumos: preemption disabled).  So alloc and free pin
 *    the caller to its CPU (hal_cpu_pin: no preemption, no migration) and
 *    pop or push a round of cpu[i].loaded and count the hit with plain
 *    loads and stores: no lock, no atomic read-modify-write on CPU data.
 *    Only the slow path (loaded empty or full) takes cpu[i].lock, around
 *    the swap and the exchange with the depot: it is held whenever loaded
 *    or prev change, so readers on other CPUs (kmem_cache_stats) see two
 *    stable pointers under it; the hit counters and magazines' round
 *    counts are atomic for those readers (the owner writes them with
 *    relaxed stores).  No other CPU writes cpu[i] while CPU i may be using
 *    it.  Cross-CPU work:
 *    - kmem_cache_reap and kmem_cache_update never touch other CPUs'
 *      magazines (reap only the depot's; see 5 for resizes), so they run
 *      on any CPU concurrently with alloc/free.
 *    - kmem_cache_drain and kmem_cache_destroy empty every CPU's
 *      magazines; their contract is that no other CPU is inside a call on
 *      the cache (its CPUs parked, quiescent or done with it), which is
 *      what the kernel's callers (teardown, leak baselines, tests) have;
 *      whatever made the others leave (a barrier, a join) orders their
 *      last accesses before the drain.  They take cpu[i].lock for readers.
 *    - kmem_cache_check reads every magazine's rounds and the objects in
 *      them, so it too requires that no other CPU be inside a call on c.
 *    - The sim drives each CPU with one host thread at a time; debug
 *      builds check it (hal/sim/sim.h), ThreadSanitizer checks the rest.
 *    depot.lock guards the depot (and mag_class changes under it); the
 *    slab lock guards the slab lists, the slabs' in_use/bitmap/links,
 *    colour_next and the slab counters.  errors is atomic.  The fast path
 *    writes nothing but the magazine: an atomic add on a shared live count
 *    cost more than the rest of an alloc+free pair, and even per-CPU hit
 *    counters a tenth of it, so live is derived (I5) and hits are counted
 *    only for KMEM_STATS caches, which take the general path.  The
 *    fast path is out of line from the rest (alloc_general, free_general)
 *    so it saves no registers, and it serves only "plain" caches (no
 *    debug tags, no zeroing): one flag tested.  A slab header's first line
 *    (magic, colour, cache, base) is immutable, so the pointer lookup of
 *    free runs with no lock.  ctor, dtor, phys_alloc of a slab and the
 *    report sink run with no kmem lock held (the slab lock is dropped to
 *    grow); they may run pinned (a retired magazine's rounds going back
 *    to their slabs in a slow path).  Other caches' locks are never held
 *    together, except a cache's own magazine caches (innermost).
 *
 * 5. Reclaim.  kmem_cache_update is the paper's periodic update: reap_* =
 *    the lowest depot counts seen in the interval just ended (magazines
 *    nobody needed for a whole interval), min_* restarts at the current
 *    counts.  kmem_cache_reap frees min(reap_*, min_*) depot magazines
 *    (idle for the last interval and this one so far), returning their
 *    rounds to their slabs, then frees every empty slab and the magazine
 *    caches' empty slabs: the working set stays cached.  CPUs' own
 *    magazines are left alone.  kmem_cache_drain empties everything (all
 *    CPUs, the whole depot) and destroy drains then frees.
 *    Magazine size: each depot lock acquisition that has to wait counts as
 *    contention; an update that sees more than KMEM_DEPOT_CONTENTION in its
 *    interval moves new magazines one class up (up to a cap of 256 KiB of
 *    objects per magazine): the depot is then visited half as often.  It
 *    never shrinks (as in the paper).  The resize reaches the CPUs lazily,
 *    each applying it to its own magazines: the update flushes the depot
 *    and the calling CPU's magazines; a magazine of an old class that
 *    leaves another CPU in a slow path (for the depot) is destroyed
 *    instead of stored, and its CPU loads new ones from then on.  mag_class
 *    is the generation: it only grows, changes under depot.lock and is
 *    compared there, so no old magazine enters the depot after the update.
 *
 * 6. Failure policy.  Allocation fails (NULL) only for lack of kernel
 *    frames (phys_alloc, which passes the failpoint), the failpoint itself
 *    (consulted by kmem_cache_alloc too while armed) or a failing ctor;
 *    nothing is left half-done: a slab whose ctor failed is destructed and
 *    freed, a magazine that cannot be had sends the object to the slab
 *    layer (free never fails for lack of memory).  Free validates the
 *    pointer (direct map range, frame -> slab header, magic, cache, object
 *    boundary) and, in debug caches, the state word, before it changes
 *    anything: a foreign, interior or other cache's pointer is -MMK_EINVAL,
 *    a double free -MMK_EALREADY, each with a report naming the cache and
 *    the slab (a callback, or a console line).  Corruption found later (a
 *    broken red zone or poison) is reported and repaired, not fatal.
 *    Destroy with objects held by users is -MMK_EBUSY with nothing changed.
 *
 * 7. Sources.  J. Bonwick, "The Slab Allocator: An Object-Caching Kernel
 *    Memory Allocator", USENIX Summer 1994 (object caching, ctor/dtor,
 *    colouring, slab reclaim, debugging); J. Bonwick and J. Adams,
 *    "Magazines and Vmem", USENIX 2001 (magazines, depot, working set,
 *    contention-driven magazine size).  Seed 002 (kernel-owned frames
 *    only), seed 003 (the zone allocator this replaces).
 */
#include "lib/mem.h"
#include "slab_internal.h"

static bool is_pow2(size_t x) { return x && !(x & (x - 1)); }

static size_t round_up(size_t x, size_t a) { return (x + a - 1) & ~(a - 1); }

int kmem_cache_create(struct kmem_cache *c, struct phys *ph, const char *name, size_t size, size_t align,
		      kmem_ctor_fn ctor, kmem_dtor_fn dtor, void *arg, unsigned flags)
{
	if (align == 0)
		align = 8;
	if (!c || !ph || size == 0 || size > KMEM_MAX_OBJ_SIZE || !is_pow2(align) || align > MMK_PAGE_SIZE ||
	    (flags & ~KMEM_FLAGS_ALL) || ((flags & KMEM_ZERO) && ctor))
		return -MMK_EINVAL;
	if (align < 8)
		align = 8;
	if (flags & (KMEM_DEBUG_REDZONE | KMEM_DEBUG_POISON))
		flags |= KMEM_DEBUG_STATE;
	mmk_memset(c, 0, sizeof(*c));
	c->name = name ? name : "(anonymous)";
	c->phys = ph;
	c->machine = ph->machine;
	c->unpin = hal_cpu_unpin_needed(ph->machine);
	c->flags = flags;
	c->ctor = ctor;
	c->dtor = dtor;
	c->arg = arg;
	hal_spin_init(&c->lock);
	hal_spin_init(&c->depot.lock);
	atomic_init(&c->errors, 0);
	atomic_init(&c->mag_class, 0);
	c->size = size;
	c->align = align;
	c->tag_off = round_up(size, 8);
	size_t buf = size;
	if (flags & KMEM_DEBUG_ANY) {
		c->state_off = c->tag_off + ((flags & KMEM_DEBUG_REDZONE) ? 8 : 0);
		buf = c->state_off + 8;
	}
	c->obj_size = round_up(buf, align);
	int rc = kmem_slab_geometry(c);
	if (rc)
		return rc;
	c->dm_lo = (uintptr_t)hal_phys_map(ph->machine, mmk_pfn_to_paddr(ph->base_pfn));
	c->dm_hi = c->dm_lo + (uintptr_t)((ph->end_pfn - ph->base_pfn) << MMK_PAGE_SHIFT);
	c->frames = ph->frames;
	c->dm_bias = (uintptr_t)mmk_pfn_to_paddr(ph->base_pfn) - c->dm_lo;
	if (!(flags & KMEM_NOMAGAZINE)) {
		rc = kmem_mag_init(c);
		if (rc)
			return rc;
	}
	/* The fast paths below serve only caches that need nothing but a
	 * magazine round: no debug tags, no zeroing, no unpin. */
	c->plain = c->cpu && !(flags & (KMEM_DEBUG_ANY | KMEM_ZERO | KMEM_STATS));
	c->failpoint = ph->failpoint ? ph->failpoint : &c->no_failpoint; /* never NULL: one test less */
	c->magic = KMEM_CACHE_MAGIC;
	return 0;
}

int kmem_cache_init(struct kmem_cache *c, struct phys *ph, const char *name, size_t size, size_t align)
{
	return kmem_cache_create(c, ph, name, size, align, NULL, NULL, NULL, KMEM_NOMAGAZINE | KMEM_ZERO);
}

void kmem_cache_set_report(struct kmem_cache *c, kmem_report_fn fn, void *arg)
{
	c->report = fn;
	c->report_arg = arg;
	if (c->cpu)
		for (unsigned k = 0; k < KMEM_MAG_CLASSES; k++) {
			c->mag_cache[k].report = fn;
			c->mag_cache[k].report_arg = arg;
		}
}

int kmem_cache_destroy(struct kmem_cache *c)
{
	if (kmem_cache_live(c))
		return -MMK_EBUSY;
	kmem_mag_purge(c);
	kmem_slab_reap(c);
	hal_spin_lock(&c->lock);
	bool left = c->partial.head || c->full.head;
	hal_spin_unlock(&c->lock);
	if (left) /* only after corruption (a double free the cache could not see) */
		return -MMK_EBUSY;
	kmem_mag_fini(c);
	c->magic = 0;
	return 0;
}

/* ---- allocation ---- */

/* obj, validated and (debug) marked free, to the calling CPU's magazines or
 * else its slab.  The common case: pinned to this CPU, a push into the
 * loaded magazine with plain loads and stores, no lock. */
static int free_validated(struct kmem_cache *c, struct kmem_slab *s, unsigned i, void *obj)
{
	if (c->cpu) {
		struct hal_machine *hm = c->machine;
		unsigned id = hal_cpu_pin(hm);
		bool done = false;
		if (id < c->ncpus) {
			struct kmem_cpu_cache *cc = &c->cpu[id];
			done = kmem_cpu_push(cc, obj);
			if (done)
				kmem_cpu_count(c, &cc->free_hits);
			else
				done = kmem_mag_free_slow(c, cc, obj);
		}
		if (c->unpin)
			hal_cpu_unpin(hm);
		if (done)
			return 0;
	}
	return kmem_slab_free_user(c, s, i);
}

static void *alloc_finish(struct kmem_cache *c, void *obj)
{
	if ((c->flags & KMEM_DEBUG_ANY) && kmem_debug_alloc(c, obj) != 0) {
		/* The ctor failed (POISON): obj is free again; give it back. */
		struct kmem_slab *s;
		unsigned i;
		if (kmem_slab_locate(c, obj, &s, &i) == 0)
			free_validated(c, s, i, obj);
		return NULL;
	}
	if (c->flags & KMEM_ZERO)
		mmk_memset(obj, 0, c->size);
	return obj;
}

/*
 * The failpoint (mmk/failpoint.h): kmem_cache_alloc consults it as well as
 * phys_alloc, so a sweep can fail every object allocation, not only those
 * that need a new slab.  It is consulted (under phys.lock, as phys_alloc
 * does) only while armed: disarmed, nobody writes countdown, so the fast
 * path reads one word and takes no shared lock, and multi-CPU runs stay
 * race-free.  Hence calls counts object allocations only while armed.
 */
static bool failpoint_fires(struct kmem_cache *c)
{
	struct mmk_failpoint *fp = c->phys->failpoint;
	if (!fp || __atomic_load_n(&fp->countdown, __ATOMIC_RELAXED) == 0)
		return false;
	hal_spin_lock(&c->phys->lock);
	bool hit = mmk_failpoint_hit(fp);
	hal_spin_unlock(&c->phys->lock);
	return hit;
}

/* Everything kmem_cache_alloc does when the fast path cannot serve (out of
 * line, so the fast path saves no registers for it). */
static __attribute__((noinline)) void *alloc_general(struct kmem_cache *c)
{
	void *obj = NULL;
	if (failpoint_fires(c))
		return NULL;
	if (c->cpu) {
		/* The common case: pinned to this CPU, a pop from the loaded
		 * magazine with plain loads and stores, no lock. */
		struct hal_machine *hm = c->machine;
		unsigned id = hal_cpu_pin(hm);
		if (id < c->ncpus) {
			struct kmem_cpu_cache *cc = &c->cpu[id];
			obj = kmem_cpu_pop(cc);
			if (obj)
				kmem_cpu_count(c, &cc->alloc_hits);
			else
				obj = kmem_mag_alloc_slow(c, cc);
		}
		if (c->unpin)
			hal_cpu_unpin(hm);
	}
	if (!obj && !(obj = kmem_slab_alloc(c)))
		return NULL;
	if (c->flags & (KMEM_DEBUG_ANY | KMEM_ZERO))
		return alloc_finish(c, obj);
	return obj;
}

/* The disarmed failpoint, read with one load (see failpoint_fires). */
static inline bool failpoint_armed(const struct kmem_cache *c)
{
	return __atomic_load_n(&c->failpoint->countdown, __ATOMIC_RELAXED) != 0;
}

/*
 * The fast path: a plain cache, the failpoint disarmed, a round in the
 * loaded magazine.  A leaf of straight-line loads and stores on this CPU's
 * data; everything else goes to alloc_general, which tries the same
 * again on its way.
 */
void *kmem_cache_alloc(struct kmem_cache *c)
{
	if (__builtin_expect(c->plain && !failpoint_armed(c), 1)) {
		struct hal_machine *hm = c->machine;
		unsigned id = hal_cpu_pin(hm);
		/* id < ncpus: hal.h promises [0, hal_cpu_count), and ncpus is that
		 * count (fixed at create). */
		void *obj = kmem_cpu_pop(&c->cpu[id]);
		if (c->unpin)
			hal_cpu_unpin(hm);
		if (obj)
			return obj;
	}
	return alloc_general(c);
}

/* Everything kmem_cache_free does when the fast path cannot serve. */
static __attribute__((noinline)) int free_general(struct kmem_cache *c, void *obj)
{
	struct kmem_slab *s;
	unsigned i;
	int kind = kmem_slab_locate(c, obj, &s, &i);
	if (kind) {
		size_t off = kind == KMEM_ERR_INTERIOR ? (size_t)((uintptr_t)obj - (uintptr_t)s->base) : 0;
		kmem_report(c, (enum kmem_error)kind, s, obj, off, kind == KMEM_ERR_WRONG_CACHE ? s->cache->name : NULL);
		return -MMK_EINVAL;
	}
	if (c->flags & KMEM_DEBUG_ANY) {
		int rc = kmem_debug_free(c, s, i, obj);
		if (rc)
			return rc;
	}
	return free_validated(c, s, i, obj);
}

/*
 * The fast path: a plain cache, obj validated as one of its objects, room
 * in the loaded magazine (the mirror of kmem_cache_alloc's).
 */
int kmem_cache_free(struct kmem_cache *c, void *obj)
{
	uint64_t i;
	if (__builtin_expect(c->plain && kmem_slab_of_fast(c, (uintptr_t)obj, &i) != NULL, 1)) {
		struct hal_machine *hm = c->machine;
		unsigned id = hal_cpu_pin(hm);
		bool done = kmem_cpu_push(&c->cpu[id], obj); /* id < ncpus, as in alloc */
		if (c->unpin)
			hal_cpu_unpin(hm);
		if (done)
			return 0;
	}
	return free_general(c, obj);
}

/* ---- reclaim ---- */

size_t kmem_cache_reap(struct kmem_cache *c)
{
	kmem_mag_reap_depot(c);
	size_t frames = kmem_slab_reap(c);
	return frames + kmem_mag_reap_caches(c);
}

void kmem_cache_update(struct kmem_cache *c) { kmem_mag_update(c); }

size_t kmem_cache_drain(struct kmem_cache *c)
{
	kmem_mag_purge(c);
	size_t frames = kmem_slab_reap(c);
	return frames + kmem_mag_reap_caches(c);
}

/* ---- checking ---- */

static int check_object(struct kmem_cache *c, struct kmem_slab *s, unsigned i, void *ctx)
{
	const char **why = ctx;
	bool out = kmem_bit(s->used, i);
	if (out && kmem_bit(s->mark, i))
		return 0; /* in a magazine: checked there */
	const char *bad = kmem_debug_verify(c, kmem_obj_at(c, s, i), !out);
	if (bad) {
		*why = bad;
		return -MMK_EINVAL;
	}
	return 0;
}

int kmem_cache_check(struct kmem_cache *c, const char **why)
{
	const char *dummy;
	uint64_t out = 0, rounds = 0, mags[KMEM_MAG_CLASSES] = { 0 };
	if (!why)
		why = &dummy;
	if (c->magic != KMEM_CACHE_MAGIC) {
		*why = "kmem: cache not initialised (or destroyed)";
		return -MMK_EINVAL;
	}
	kmem_mag_lock_all(c);
	hal_spin_lock(&c->lock);
	int rc = kmem_slab_check_locked(c, &out, why);
	if (!rc)
		rc = kmem_mag_check_locked(c, &rounds, mags, why);
	/* Users hold what left the slabs and is in no magazine; where every
	 * call is counted, the counters must agree. */
	uint64_t allocs = c->slab_allocs, frees = c->slab_frees;
	for (unsigned k = 0; k < c->ncpus; k++) {
		allocs += atomic_load_explicit(&c->cpu[k].alloc_hits, memory_order_relaxed);
		frees += atomic_load_explicit(&c->cpu[k].free_hits, memory_order_relaxed);
	}
	bool counted = !c->cpu || (c->flags & KMEM_STATS);
	if (!rc && counted && out - rounds != allocs - frees) {
		*why = "kmem: allocs - frees differs from objects out of slabs minus magazine rounds";
		rc = -MMK_EINVAL;
	}
	if (!rc && (c->flags & KMEM_DEBUG_ANY))
		rc = kmem_slab_each_object_locked(c, check_object, (void *)why);
	for (unsigned k = 0; !rc && c->cpu && k < KMEM_MAG_CLASSES; k++) {
		if (kmem_cache_live(&c->mag_cache[k]) != mags[k]) {
			*why = "kmem: magazines allocated differ from magazines held";
			rc = -MMK_EINVAL;
		} else {
			rc = kmem_cache_check(&c->mag_cache[k], why);
		}
	}
	hal_spin_unlock(&c->lock);
	kmem_mag_unlock_all(c);
	return rc;
}
