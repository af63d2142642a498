/*
 * kmem/magazine.c - the magazine layer (Bonwick and Adams, "Magazines and
 * Vmem", USENIX 2001, sections 3.1-3.6): per-CPU magazines, the depot, the
 * depot's working set and the magazine size that grows with contention.
 * The theory is in cache.c (sections 2-5); the common case (a round from or
 * into the loaded magazine, pinned, no lock) is inlined in cache.c, the
 * exchanges with the depot are here.
 *
 * Magazines are objects of KMEM_MAG_CLASSES small caches owned by the cache
 * (c->mag_cache[], KMEM_NOMAGAZINE, living in the same frames as the
 * per-CPU caches), one per size class, so a cache's magazines come from
 * kernel frames like everything else and go back when reaped.
 */
#include "lib/mem.h"
#include "slab_internal.h"

/* Rounds per class: 16 + 8 * rounds is a power of two (64 .. 2048 bytes). */
static const uint16_t mag_rounds[KMEM_MAG_CLASSES] = { 6, 14, 30, 62, 126, 254 };
static const char *const mag_names[KMEM_MAG_CLASSES] = {
	"kmem_magazine_6", "kmem_magazine_14", "kmem_magazine_30",
	"kmem_magazine_62", "kmem_magazine_126", "kmem_magazine_254",
};

/* A magazine never holds more than this many bytes of objects. */
#define KMEM_MAG_MAX_BYTES ((size_t)256 << 10)

unsigned kmem_mag_rounds(unsigned cls) { return mag_rounds[cls]; }

static size_t mag_bytes(unsigned cls) { return sizeof(struct kmem_magazine) + sizeof(void *) * mag_rounds[cls]; }

static size_t cpu_block_bytes(unsigned ncpus)
{
	return (size_t)ncpus * sizeof(struct kmem_cpu_cache) + KMEM_MAG_CLASSES * sizeof(struct kmem_cache);
}

int kmem_mag_init(struct kmem_cache *c)
{
	_Static_assert(sizeof(struct kmem_magazine) == 16, "magazine header is two words");
	_Static_assert(sizeof(struct kmem_cpu_cache) == KMEM_CACHE_LINE, "one CPU cache per line");
	struct phys *ph = c->phys;
	unsigned n = hal_cpu_count(ph->machine);
	size_t bytes = cpu_block_bytes(n);
	unsigned order = 0;
	while (((size_t)MMK_PAGE_SIZE << order) < bytes)
		order++;
	pfn_t pfn;
	int rc = phys_alloc(ph, order, 0, &pfn); /* kernel-owned (seed 002) */
	if (rc)
		return rc;
	char *base = phys_frame_ptr(ph, pfn);
	mmk_memset(base, 0, bytes);
	struct kmem_cpu_cache *cpu = (struct kmem_cpu_cache *)(void *)base;
	for (unsigned i = 0; i < n; i++)
		hal_spin_init(&cpu[i].lock);
	struct kmem_cache *mc = (struct kmem_cache *)(void *)(base + (size_t)n * sizeof(*cpu));
	for (unsigned k = 0; k < KMEM_MAG_CLASSES; k++) {
		rc = kmem_cache_create(&mc[k], ph, mag_names[k], mag_bytes(k), KMEM_CACHE_LINE, NULL, NULL, NULL,
				       KMEM_NOMAGAZINE);
		if (rc) { /* cannot happen: fixed, valid geometry */
			phys_free(ph, pfn, order);
			return rc;
		}
		mc[k].report = c->report;
		mc[k].report_arg = c->report_arg;
	}
	/* Small objects start with bigger magazines (as illumos's magtypes):
	 * the depot is visited once per magazine, so per round less often. */
	unsigned cls = c->obj_size <= 256 ? 1 : 0;
	unsigned max = cls;
	while (max + 1 < KMEM_MAG_CLASSES && mag_rounds[max + 1] * c->obj_size <= KMEM_MAG_MAX_BYTES)
		max++;
	atomic_init(&c->mag_class, cls);
	c->mag_class_max = max;
	c->cpu = cpu;
	c->mag_cache = mc;
	c->ncpus = n;
	c->cpu_pfn = pfn;
	c->cpu_order = order;
	return 0;
}

void kmem_mag_fini(struct kmem_cache *c)
{
	if (!c->cpu)
		return;
	for (unsigned k = 0; k < KMEM_MAG_CLASSES; k++)
		kmem_cache_destroy(&c->mag_cache[k]);
	phys_free(c->phys, c->cpu_pfn, c->cpu_order);
	c->cpu = NULL;
	c->mag_cache = NULL;
	c->ncpus = 0;
}

/* ---- magazines ---- */

static struct kmem_magazine *mag_new(struct kmem_cache *c)
{
	unsigned cls = atomic_load_explicit(&c->mag_class, memory_order_relaxed);
	struct kmem_magazine *m = kmem_cache_alloc(&c->mag_cache[cls]);
	if (!m)
		return NULL;
	m->next = NULL;
	kmem_mag_set_count(m, 0);
	m->size = mag_rounds[cls];
	m->cls = (uint16_t)cls;
	return m;
}

/* Rounds back to their slabs, the magazine back to its cache.  The caller
 * holds m alone (on no CPU, in no depot) and no kmem lock: a slab that
 * empties may be freed, destructing its objects. */
static void mag_destroy(struct kmem_cache *c, struct kmem_magazine *m)
{
	kmem_slab_free_rounds(c, m->round, kmem_mag_count(m));
	kmem_mag_set_count(m, 0);
	kmem_cache_free(&c->mag_cache[m->cls], m);
}

static void mag_destroy_chain(struct kmem_cache *c, struct kmem_magazine *m)
{
	while (m) {
		struct kmem_magazine *next = m->next;
		mag_destroy(c, m);
		m = next;
	}
}

/* ---- the depot ---- */

/* From a CPU's slow path: a wait for the lock is the contention that makes
 * magazines grow (2001 paper, 3.5). */
static void depot_lock(struct kmem_depot *d)
{
	if (hal_spin_trylock(&d->lock))
		return;
	hal_spin_lock(&d->lock);
	d->contention++;
	d->contention_total++;
}

static struct kmem_magazine *pop(struct kmem_magazine **list, uint64_t *n, uint64_t *min)
{
	struct kmem_magazine *m = *list;
	if (!m)
		return NULL;
	*list = m->next;
	m->next = NULL;
	if (--*n < *min)
		*min = *n;
	return m;
}

static void push(struct kmem_magazine **list, uint64_t *n, struct kmem_magazine *m)
{
	m->next = *list;
	*list = m;
	++*n;
}

/* ---- the per-CPU slow paths (pinned, cc->lock taken here) ---- */

/*
 * p leaves the CPU for the depot list (full or empty) of the caller's
 * choice: pushed when its size is the current one, else (the magazine size
 * grew since p was made) handed back for the caller to destroy once no
 * depot lock is held.  Depot lock held; mag_class only changes under it,
 * so after kmem_mag_update's grow no magazine of an old size enters the
 * depot.  This is how a resize reaches the other CPUs: lazily, as their
 * old magazines leave them.
 */
static struct kmem_magazine *depot_put_locked(struct kmem_cache *c, struct kmem_magazine **list, uint64_t *n,
					      uint64_t *puts, struct kmem_magazine *p)
{
	if (p->cls != atomic_load_explicit(&c->mag_class, memory_order_relaxed))
		return p;
	push(list, n, p);
	++*puts;
	return NULL;
}

void *kmem_mag_alloc_slow(struct kmem_cache *c, struct kmem_cpu_cache *cc)
{
	struct kmem_depot *d = &c->depot;
	struct kmem_magazine *retired = NULL;
	void *obj = NULL;
	hal_spin_lock(&cc->lock);
	for (;;) {
		struct kmem_magazine *m = cc->loaded, *p = cc->prev;
		if ((obj = kmem_cpu_pop(cc)) != NULL) {
			kmem_cpu_count(c, &cc->alloc_hits);
			break;
		}
		if (p && kmem_mag_count(p)) { /* previous is full: swap */
			cc->loaded = p;
			cc->prev = m;
			continue;
		}
		/* Both empty: previous to the depot's empties, loaded becomes
		 * previous, a full one from the depot is loaded. */
		depot_lock(d);
		struct kmem_magazine *full = pop(&d->full, &d->nfull, &d->min_full);
		if (full) {
			d->full_gets++;
			if (p)
				retired = depot_put_locked(c, &d->empty, &d->nempty, &d->empty_puts, p);
		}
		hal_spin_unlock(&d->lock);
		if (!full)
			break; /* nothing changed */
		cc->prev = m;
		cc->loaded = full; /* the next turn pops from it */
	}
	hal_spin_unlock(&cc->lock);
	if (retired) /* empty: only the magazine goes */
		mag_destroy(c, retired);
	return obj;
}

bool kmem_mag_free_slow(struct kmem_cache *c, struct kmem_cpu_cache *cc, void *obj)
{
	struct kmem_depot *d = &c->depot;
	struct kmem_magazine *retired = NULL;
	bool done = false;
	hal_spin_lock(&cc->lock);
	for (;;) {
		struct kmem_magazine *m = cc->loaded, *p = cc->prev;
		if ((done = kmem_cpu_push(cc, obj))) {
			kmem_cpu_count(c, &cc->free_hits);
			break;
		}
		if (p && kmem_mag_count(p) == 0) { /* previous is empty: swap */
			cc->loaded = p;
			cc->prev = m;
			continue;
		}
		/* Loaded full, previous full (or absent): previous to the
		 * depot's fulls, loaded becomes previous, an empty is loaded. */
		depot_lock(d);
		struct kmem_magazine *e = pop(&d->empty, &d->nempty, &d->min_empty);
		if (e) {
			d->empty_gets++;
			if (p)
				retired = depot_put_locked(c, &d->full, &d->nfull, &d->full_puts, p);
		}
		hal_spin_unlock(&d->lock);
		if (!e) {
			e = mag_new(c); /* cpu lock -> magazine cache lock -> phys.lock */
			if (!e)
				break; /* the slab layer takes obj; nothing changed */
			if (p) {
				depot_lock(d);
				retired = depot_put_locked(c, &d->full, &d->nfull, &d->full_puts, p);
				hal_spin_unlock(&d->lock);
			}
		}
		cc->prev = m;
		cc->loaded = e; /* the next turn pushes into it */
	}
	hal_spin_unlock(&cc->lock);
	/* Full, of an old size: its rounds go back to their slabs (a slab
	 * that empties may be freed and destructed: no kmem lock held). */
	if (retired)
		mag_destroy(c, retired);
	return done;
}

/* ---- reclaim, purge, update ---- */

static struct kmem_magazine *take_n(struct kmem_magazine **list, uint64_t *n, uint64_t count)
{
	struct kmem_magazine *chain = NULL;
	for (uint64_t k = 0; k < count && *list; k++) {
		struct kmem_magazine *m = *list;
		*list = m->next;
		--*n;
		m->next = chain;
		chain = m;
	}
	return chain;
}

void kmem_mag_reap_depot(struct kmem_cache *c)
{
	struct kmem_depot *d = &c->depot;
	if (!c->cpu)
		return;
	hal_spin_lock(&d->lock);
	/* Only magazines that stayed in the depot through the whole last
	 * interval and all of this one so far: the working set stays. */
	uint64_t nf = d->reap_full < d->min_full ? d->reap_full : d->min_full;
	uint64_t ne = d->reap_empty < d->min_empty ? d->reap_empty : d->min_empty;
	struct kmem_magazine *full = take_n(&d->full, &d->nfull, nf);
	struct kmem_magazine *empty = take_n(&d->empty, &d->nempty, ne);
	d->reap_full -= nf;
	d->min_full -= nf;
	d->reap_empty -= ne;
	d->min_empty -= ne;
	hal_spin_unlock(&d->lock);
	mag_destroy_chain(c, full);
	mag_destroy_chain(c, empty);
}

/* CPU cc's magazines back to the slabs.  Either the caller is pinned to
 * cc's CPU or that CPU is inside no call on c (the drain contract); the
 * lock is for readers (statistics). */
static void cpu_flush(struct kmem_cache *c, struct kmem_cpu_cache *cc)
{
	hal_spin_lock(&cc->lock);
	struct kmem_magazine *m = cc->loaded, *p = cc->prev;
	cc->loaded = cc->prev = NULL;
	hal_spin_unlock(&cc->lock);
	if (m)
		mag_destroy(c, m);
	if (p)
		mag_destroy(c, p);
}

/* The whole depot back to the slabs. */
static void depot_flush(struct kmem_cache *c)
{
	struct kmem_depot *d = &c->depot;
	hal_spin_lock(&d->lock);
	struct kmem_magazine *full = d->full, *empty = d->empty;
	d->full = d->empty = NULL;
	d->nfull = d->nempty = 0;
	d->min_full = d->min_empty = d->reap_full = d->reap_empty = 0;
	hal_spin_unlock(&d->lock);
	mag_destroy_chain(c, full);
	mag_destroy_chain(c, empty);
}

void kmem_mag_purge(struct kmem_cache *c)
{
	if (!c->cpu)
		return;
	for (unsigned i = 0; i < c->ncpus; i++)
		cpu_flush(c, &c->cpu[i]);
	depot_flush(c);
}

void kmem_mag_update(struct kmem_cache *c)
{
	struct kmem_depot *d = &c->depot;
	if (!c->cpu)
		return;
	hal_spin_lock(&d->lock);
	d->reap_full = d->min_full;
	d->reap_empty = d->min_empty;
	d->min_full = d->nfull;
	d->min_empty = d->nempty;
	unsigned cls = atomic_load_explicit(&c->mag_class, memory_order_relaxed);
	bool grow = d->contention > KMEM_DEPOT_CONTENTION && cls < c->mag_class_max;
	d->contention = 0;
	if (grow) {
		d->resizes++;
		atomic_store_explicit(&c->mag_class, cls + 1, memory_order_relaxed);
	}
	hal_spin_unlock(&d->lock);
	/* New magazines have the new size.  The depot's old ones go now, and
	 * so do the calling CPU's (pinned to it, nobody else touches them);
	 * other CPUs' old magazines go as they leave their CPU for the depot
	 * (depot_put_locked), so no CPU is touched from outside. */
	if (grow) {
		struct hal_machine *hm = c->phys->machine;
		unsigned id = hal_cpu_pin(hm);
		if (id < c->ncpus)
			cpu_flush(c, &c->cpu[id]);
		hal_cpu_unpin(hm);
		depot_flush(c);
	}
}

size_t kmem_mag_reap_caches(struct kmem_cache *c)
{
	size_t frames = 0;
	if (c->cpu)
		for (unsigned k = 0; k < KMEM_MAG_CLASSES; k++)
			frames += kmem_slab_reap(&c->mag_cache[k]);
	return frames;
}

uint64_t kmem_mag_frames(struct kmem_cache *c)
{
	if (!c->cpu)
		return 0;
	uint64_t frames = (uint64_t)1 << c->cpu_order;
	for (unsigned k = 0; k < KMEM_MAG_CLASSES; k++) {
		struct kmem_cache *mc = &c->mag_cache[k];
		hal_spin_lock(&mc->lock);
		frames += (mc->slabs_created - mc->slabs_freed) << mc->slab_order;
		hal_spin_unlock(&mc->lock);
	}
	return frames;
}

/* ---- checking ---- */

void kmem_mag_lock_all(struct kmem_cache *c)
{
	for (unsigned i = 0; i < c->ncpus; i++)
		hal_spin_lock(&c->cpu[i].lock);
	if (c->cpu)
		hal_spin_lock(&c->depot.lock);
}

void kmem_mag_unlock_all(struct kmem_cache *c)
{
	if (c->cpu)
		hal_spin_unlock(&c->depot.lock);
	for (unsigned i = c->ncpus; i-- > 0;)
		hal_spin_unlock(&c->cpu[i].lock);
}

static int check_mag(struct kmem_cache *c, struct kmem_magazine *m, uint64_t *rounds, uint64_t *mags, const char **why)
{
	struct kmem_slab *s;
	unsigned i;
	if (m->cls >= KMEM_MAG_CLASSES || m->size != mag_rounds[m->cls] ||
	    kmem_slab_locate(&c->mag_cache[m->cls], m, &s, &i) != 0) {
		*why = "kmem: magazine is no object of the cache's magazine caches";
		return -MMK_EINVAL;
	}
	uint32_t n = kmem_mag_count(m);
	if (n > m->size) {
		*why = "kmem: magazine holds more rounds than its size";
		return -MMK_EINVAL;
	}
	for (unsigned k = 0; k < n; k++) {
		void *obj = m->round[k];
		if (kmem_slab_locate(c, obj, &s, &i) != 0) {
			*why = "kmem: magazine round is no object of this cache";
			return -MMK_EINVAL;
		}
		if (!kmem_bit(s->used, i)) {
			*why = "kmem: magazine round is free in its slab too (double free)";
			return -MMK_EINVAL;
		}
		if (kmem_bit(s->mark, i)) {
			*why = "kmem: object in two magazine rounds (double free)";
			return -MMK_EINVAL;
		}
		kmem_bit_set(s->mark, i);
		if (c->flags & KMEM_DEBUG_ANY) {
			const char *bad = kmem_debug_verify(c, obj, true);
			if (bad) {
				*why = bad;
				return -MMK_EINVAL;
			}
		}
	}
	*rounds += n;
	mags[m->cls]++;
	return 0;
}

static int check_list(struct kmem_cache *c, struct kmem_magazine *list, uint64_t n, bool full, uint64_t *rounds,
		      uint64_t *mags, const char **why)
{
	uint64_t count = 0;
	for (struct kmem_magazine *m = list; m; m = m->next) {
		if (++count > n) {
			*why = "kmem: depot list longer than its count";
			return -MMK_EINVAL;
		}
		int rc = check_mag(c, m, rounds, mags, why);
		if (rc)
			return rc;
		if (kmem_mag_count(m) != (full ? m->size : 0u)) {
			*why = full ? "kmem: depot full list holds a magazine that is not full"
				    : "kmem: depot empty list holds a magazine that is not empty";
			return -MMK_EINVAL;
		}
		if (m->cls != atomic_load_explicit(&c->mag_class, memory_order_relaxed)) {
			*why = "kmem: depot holds a magazine of an old size";
			return -MMK_EINVAL;
		}
	}
	if (count != n) {
		*why = "kmem: depot count differs from recount";
		return -MMK_EINVAL;
	}
	return 0;
}

int kmem_mag_check_locked(struct kmem_cache *c, uint64_t *rounds, uint64_t *mags, const char **why)
{
	struct kmem_depot *d = &c->depot;
	if (!c->cpu)
		return 0;
	for (unsigned i = 0; i < c->ncpus; i++) {
		struct kmem_cpu_cache *cc = &c->cpu[i];
		int rc = 0;
		if (cc->loaded)
			rc = check_mag(c, cc->loaded, rounds, mags, why);
		if (!rc && cc->prev) {
			rc = check_mag(c, cc->prev, rounds, mags, why);
			uint32_t n = kmem_mag_count(cc->prev);
			if (!rc && n != 0 && n != cc->prev->size) {
				*why = "kmem: previous magazine neither full nor empty";
				rc = -MMK_EINVAL;
			}
		}
		if (!rc && cc->loaded && cc->loaded == cc->prev) {
			*why = "kmem: loaded and previous magazine are one";
			rc = -MMK_EINVAL;
		}
		if (rc)
			return rc;
	}
	int rc = check_list(c, d->full, d->nfull, true, rounds, mags, why);
	if (!rc)
		rc = check_list(c, d->empty, d->nempty, false, rounds, mags, why);
	if (!rc && (d->min_full > d->nfull || d->min_empty > d->nempty)) {
		*why = "kmem: depot working-set minimum above the count";
		rc = -MMK_EINVAL;
	}
	unsigned cls = atomic_load_explicit(&c->mag_class, memory_order_relaxed);
	if (!rc && (cls > c->mag_class_max || c->mag_class_max >= KMEM_MAG_CLASSES)) {
		*why = "kmem: magazine class out of range";
		rc = -MMK_EINVAL;
	}
	return rc;
}
