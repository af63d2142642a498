/*
 * kmem/vmem.c - vmem resource arenas.
 *
 * THEORY
 *
 * 1. What it does.  An arena manages an integer space: the kernel's virtual
 *    addresses, ASIDs, handle numbers.  It hands out ranges [addr, addr +
 *    size) in units of a quantum (a power of two), with optional constraints
 *    (alignment, phase, a boundary not to cross, a window [minaddr,
 *    maxaddr)), and takes them back by (addr, size), merging free neighbours.
 *    Its space is a set of spans: ranges added by the creator (vmem_add) or
 *    imported from a source arena on demand (the paper's afunc/ffunc), an
 *    imported span going back to the source as soon as it is wholly free.
 *    An import asks the source for the request rounded up to the larger
 *    quantum, plus align - quantum of slack so that an aligned/phased
 *    fit exists wherever the span lands; windowed or nocross requests never
 *    import (as illumos), since no size guarantees them a fit.
 *    Small sizes (1..qcache_max quanta) are served from quantum caches.
 *
 * 2. Structures (the struct vmem fields are in include/mmk/vmem.h).
 *    - Boundary tags (struct vmem_seg): one per span (a SPAN marker), per free
 *      segment (FREE) and per allocated segment (ALLOC).  All tags of an
 *      arena are on one circular, address-ordered list headed by the
 *      sentinel seg0: each span marker is followed by the segments that tile
 *      its span.  Span markers are also on a sorted circular span list
 *      (span0) so a new span finds its place without walking segments.
 *    - Free lists: freelist[i] holds the free segments whose size lies in
 *      [2^i, 2^(i+1)); bit i of freemap says the list is not empty.
 *      Instant fit for size s takes the head of the lowest non-empty list i
 *      with 2^i >= s (i = ceil(log2 s)): every segment there fits, so one
 *      find-first-set on freemap finds it: O(1).  Best fit scans the list
 *      that may hold an exact fit (floor(log2 s)) and upwards, stopping at
 *      the first list with a fit, where it takes the smallest.  Next fit
 *      walks the address list from a rotor (the segment of the previous
 *      next-fit allocation), first at or after nextfit_addr, then wrapping.
 *    - Hash table: allocated segments chained by start address, so free
 *      finds the tag of (addr, size) in O(1) expected.  The table starts
 *      with VMEM_HASH_MIN buckets inside struct vmem and grows (x4, from a
 *      block of frames) when the allocated segments exceed twice the
 *      buckets: amortised O(1).  A failed growth is harmless (longer
 *      chains); the table never shrinks before vmem_destroy.
 *    - Tags come from whole frames taken with phys_alloc, never from the
 *      arena they describe: a page is carved into TAGS_PER_PAGE tags on the
 *      arena's tag free list.  Tag pages are freed in vmem_destroy only.
 *    - Quantum caches: per size class (1..qcache_max quanta), a LIFO of up
 *      to VMEM_QCACHE_DEPTH recently freed segments that stay ALLOC (flag
 *      QCACHED) in the arena; vmem_alloc of that class pops one in O(1)
 *      without touching the lists.  This is a stand-in for the paper's kmem
 *      caches: when the slab layer (issue 4 item 2) has settled, each class
 *      becomes a kmem cache whose slabs are imported from this arena with
 *      vmem_xalloc, and the LIFO goes away.  The interface stays.
 *
 *    Complexity: vmem_alloc/vmem_free of a quantum-cached size, instant-fit
 *    vmem_alloc, unconstrained or align-only instant-fit vmem_xalloc (when
 *    a guaranteed list is non-empty) and every free (coalescing is with the
 *    two list neighbours) are O(1) (hash: expected, amortised).  Best fit,
 *    next fit and window/nocross constraints search: O(free segments) worst
 *    case.  vmem_add and imports insert a span in O(spans).
 *
 * 3. Invariants (vmem_check re-derives each one).
 *    V1 The address list is circular with consistent back links; the first
 *       element after seg0 (if any) is a span marker; spans are in
 *       increasing order and do not overlap; the segments after a marker
 *       tile its span exactly, in increasing order, each with a non-zero
 *       size, start and size multiples of the quantum.
 *    V2 No two FREE segments are list neighbours (coalescing is complete;
 *       segments of different spans never merge: a marker lies between).
 *    V3 freelist[i] holds exactly the FREE segments of size class i, once
 *       each, with back links; freemap bit i is set iff freelist[i] is not
 *       empty.
 *    V4 The hash holds exactly the ALLOC segments, once each, each in the
 *       bucket of its start.
 *    V5 The quantum caches hold exactly the ALLOC segments flagged QCACHED,
 *       each in the class of its size; no cache holds more than its depth.
 *    V6 The span list holds exactly the span markers, in list order.
 *    V7 No imported span is wholly free (it would have been released).
 *    V8 Tags: pages * TAGS_PER_PAGE = free tags + tags on the address list;
 *       the tag free list has tag_nfree entries.  The rotor is NULL or on
 *       the address list.
 *    V9 Counters equal recounts: inuse (ALLOC, not QCACHED), cached
 *       (QCACHED), free (FREE), total (spans), imported (imported spans),
 *       and the segment and span counts; inuse + cached + free = total.
 *
 * 4. Locking.  vm->lock (a hal_spinlock) guards every field of the arena
 *    and every tag it owns; each public function takes it and *_locked
 *    helpers expect it held.  Lock order: kmem_cache.lock -> vmem.lock ->
 *    the source arena's vmem.lock -> phys.lock.  The arena calls phys_alloc
 *    and phys_free (tag pages, hash tables) and its source's import/release
 *    functions with its own lock held; the source graph is acyclic (an
 *    arena may not be its own source), so the child-before-parent order is
 *    well founded.  An arena never calls kmem.
 *
 * 5. Failure policy: validate, reserve, then commit (seL4 style).  Each
 *    operation checks its arguments (-MMK_EINVAL, nothing touched), then
 *    makes sure the tag free list holds TAGS_RESERVE tags (the most one
 *    operation consumes: a span marker and its free segment for an import,
 *    two remainders for a split), taking a page from phys if not
 *    (-MMK_ENOMEM, nothing changed).  Then it searches, imports if needed
 *    (a failed import changes nothing), and commits with no further
 *    allocation.  If the operation fails after the reserve took a fresh
 *    page, the page goes back to phys, so free frames are unchanged too.
 *    The one allocation after commit is the optional hash growth, whose
 *    failure is ignored.  Frees never allocate and cannot fail for lack of
 *    memory.  The one visible side effect of a failure: before giving up,
 *    an allocation empties the quantum caches and retries (bytes move from
 *    cached to free; inuse and total do not change).
 *
 * 6. Sources.  Jeff Bonwick and Jonathan Adams, "Magazines and Vmem:
 *    Extending the Slab Allocator to Many CPUs and Arbitrary Resources",
 *    USENIX 2001, sections 4 (vmem: interface, boundary tags, hash,
 *    instant fit on power-of-two free lists, importing) and 5 (quantum
 *    caching); the illumos vmem(9) interface and NetBSD's vmem_xalloc(9)
 *    for the meaning of minaddr/maxaddr.  Written from the paper; no code
 *    was copied.
 */
#include <mmk/errno.h>
#include <mmk/vmem.h>

#include "lib/mem.h"

/* Most tags one operation consumes: import (span + free) + split (2). */
#define TAGS_RESERVE 4u

/* Private flag bits used by vmem_check only (cleared before it returns). */
#define SEG_MARK_FREE 0x10u
#define SEG_MARK_HASH 0x20u
#define SEG_MARK_QC 0x40u
#define SEG_MARKS (SEG_MARK_FREE | SEG_MARK_HASH | SEG_MARK_QC)

/* Header at the start of each tag page; the tags follow it. */
struct vmem_tagpage {
	struct vmem_tagpage *next;
	pfn_t pfn;
};

#define TAGS_PER_PAGE ((MMK_PAGE_SIZE - sizeof(struct vmem_tagpage)) / sizeof(struct vmem_seg))

/* Buckets in one frame of hash table. */
#define HASH_PER_PAGE (MMK_PAGE_SIZE / sizeof(struct vmem_seg *))

/* ---- arithmetic ---- */

static bool is_pow2(uint64_t x) { return x && !(x & (x - 1)); }

static unsigned log2_floor(uint64_t x) { return 63u - (unsigned)__builtin_clzll(x); }

/* Free-list index of a segment of size bytes: floor(log2(size)). */
static unsigned size_class(uint64_t size) { return log2_floor(size); }

static uint64_t seg_end(const struct vmem_seg *s) { return s->start + s->size; }

/* ---- the request: a validated, normalised allocation ---- */

struct vmem_req {
	uint64_t size;    /* quantum multiple, > 0 */
	uint64_t align;   /* power of two >= quantum */
	uint64_t phase;   /* quantum multiple < align */
	uint64_t nocross; /* 0 or a power of two >= size */
	uint64_t minaddr; /* lowest start */
	uint64_t maxaddr; /* highest end (UINT64_MAX: none) */
	unsigned policy;  /* VM_INSTANTFIT, VM_BESTFIT or VM_NEXTFIT */
	bool window;      /* nocross, minaddr or maxaddr in force */
};

/*
 * The lowest a in [lo, hi) with [a, a + r->size) inside [lo, hi) and
 * meeting every constraint of r; false when there is none.
 */
static bool fit_range(const struct vmem_req *r, uint64_t lo, uint64_t hi, uint64_t *out)
{
	if (lo < r->minaddr)
		lo = r->minaddr;
	if (hi > r->maxaddr)
		hi = r->maxaddr;
	if (lo >= hi || hi - lo < r->size)
		return false;
	uint64_t last = hi - r->size; /* highest acceptable start */
	uint64_t a = lo + ((r->phase - lo) & (r->align - 1));
	if (a < lo || a > last)
		return false;
	if (r->nocross && ((a ^ (a + r->size - 1)) & ~(r->nocross - 1))) {
		/* Every candidate below the boundary crossed also crosses it:
		 * restart at that boundary.  There, the first aligned start is
		 * the best the block can offer; if it crosses the next boundary
		 * so does every later start (same offset within a block). */
		uint64_t b = (a + r->size - 1) & ~(r->nocross - 1);
		a = b + ((r->phase - b) & (r->align - 1));
		if (a < b || a > last || ((a ^ (a + r->size - 1)) & ~(r->nocross - 1)))
			return false;
	}
	*out = a;
	return true;
}

/* ---- tags ---- */

struct tag_rsv {
	struct vmem_tagpage *fresh; /* page taken by this reservation, or NULL */
};

static void tag_put(struct vmem *vm, struct vmem_seg *t)
{
	t->type = VMEM_SEG_NONE;
	t->flags = 0;
	t->anext = t->aprev = t->kprev = NULL;
	t->knext = vm->tag_free;
	vm->tag_free = t;
	vm->tag_nfree++;
}

/* A zeroed tag; the caller reserved it (tag_nfree > 0). */
static struct vmem_seg *tag_get(struct vmem *vm)
{
	struct vmem_seg *t = vm->tag_free;
	vm->tag_free = t->knext;
	vm->tag_nfree--;
	mmk_memset(t, 0, sizeof(*t));
	return t;
}

/* Make sure n tags are free, taking one page from phys if not.
 * 0, or -MMK_ENOMEM with nothing changed. */
static int tags_reserve(struct vmem *vm, uint64_t n, struct tag_rsv *rsv)
{
	rsv->fresh = NULL;
	if (vm->tag_nfree >= n)
		return 0;
	pfn_t pfn;
	if (phys_alloc(vm->phys, 0, 0, &pfn) != 0)
		return -MMK_ENOMEM;
	struct vmem_tagpage *pg = phys_frame_ptr(vm->phys, pfn);
	pg->pfn = pfn;
	pg->next = vm->tag_pages;
	vm->tag_pages = pg;
	vm->tag_npages++;
	struct vmem_seg *t = (struct vmem_seg *)(void *)(pg + 1);
	for (uint64_t i = TAGS_PER_PAGE; i-- > 0;)
		tag_put(vm, &t[i]);
	rsv->fresh = pg;
	return 0;
}

static bool tag_in_page(const struct vmem_tagpage *pg, const struct vmem_seg *t)
{
	const struct vmem_seg *first = (const struct vmem_seg *)(const void *)(pg + 1);
	return t >= first && t < first + TAGS_PER_PAGE;
}

/* The operation that reserved failed: if its reservation took a page and
 * every tag of that page is free again, give the page back to phys. */
static void tags_unreserve(struct vmem *vm, struct tag_rsv *rsv)
{
	struct vmem_tagpage *pg = rsv->fresh;
	rsv->fresh = NULL;
	if (!pg || vm->tag_pages != pg)
		return;
	uint64_t n = 0;
	for (struct vmem_seg *t = vm->tag_free; t; t = t->knext)
		n += tag_in_page(pg, t);
	if (n != TAGS_PER_PAGE)
		return;
	for (struct vmem_seg **pp = &vm->tag_free; *pp;) {
		if (tag_in_page(pg, *pp))
			*pp = (*pp)->knext;
		else
			pp = &(*pp)->knext;
	}
	vm->tag_nfree -= TAGS_PER_PAGE;
	vm->tag_pages = pg->next;
	vm->tag_npages--;
	phys_free(vm->phys, pg->pfn, 0);
}

/* ---- the address list ---- */

static void alist_insert_before(struct vmem_seg *pos, struct vmem_seg *s)
{
	s->anext = pos;
	s->aprev = pos->aprev;
	pos->aprev->anext = s;
	pos->aprev = s;
}

static void alist_insert_after(struct vmem_seg *pos, struct vmem_seg *s) { alist_insert_before(pos->anext, s); }

/* Unlink s from the address list and free its tag; a rotor on s moves to
 * replacement (a live segment covering or following s, or the sentinel). */
static void seg_destroy(struct vmem *vm, struct vmem_seg *s, struct vmem_seg *replacement)
{
	s->aprev->anext = s->anext;
	s->anext->aprev = s->aprev;
	if (vm->rotor == s)
		vm->rotor = replacement == &vm->seg0 ? NULL : replacement;
	tag_put(vm, s);
}

/* ---- free lists ---- */

static void freelist_insert(struct vmem *vm, struct vmem_seg *s)
{
	unsigned i = size_class(s->size);
	s->kprev = NULL;
	s->knext = vm->freelist[i];
	if (s->knext)
		s->knext->kprev = s;
	vm->freelist[i] = s;
	vm->freemap |= (uint64_t)1 << i;
}

static void freelist_remove(struct vmem *vm, struct vmem_seg *s)
{
	unsigned i = size_class(s->size);
	if (s->kprev)
		s->kprev->knext = s->knext;
	else
		vm->freelist[i] = s->knext;
	if (s->knext)
		s->knext->kprev = s->kprev;
	s->knext = s->kprev = NULL;
	if (!vm->freelist[i])
		vm->freemap &= ~((uint64_t)1 << i);
}

/* ---- the hash of allocated segments ---- */

static uint64_t hash_index(const struct vmem *vm, uint64_t addr)
{
	return ((addr >> vm->qshift) * 0x9e3779b97f4a7c15ull) >> vm->hash_shift;
}

static void hash_insert(struct vmem *vm, struct vmem_seg *s)
{
	struct vmem_seg **b = &vm->hash[hash_index(vm, s->start)];
	s->kprev = NULL;
	s->knext = *b;
	*b = s;
}

/* The link that points at the ALLOC segment starting at addr, or NULL. */
static struct vmem_seg **hash_find(struct vmem *vm, uint64_t addr)
{
	struct vmem_seg **pp = &vm->hash[hash_index(vm, addr)];
	for (; *pp; pp = &(*pp)->knext)
		if ((*pp)->start == addr)
			return pp;
	return NULL;
}

/* Unlink the ALLOC segment s from its chain (it is there: V4). */
static void hash_remove(struct vmem *vm, struct vmem_seg *s)
{
	for (struct vmem_seg **pp = &vm->hash[hash_index(vm, s->start)]; *pp; pp = &(*pp)->knext) {
		if (*pp == s) {
			*pp = s->knext;
			s->knext = NULL;
			return;
		}
	}
}

static void hash_use(struct vmem *vm, struct vmem_seg **table, uint64_t size)
{
	vm->hash = table;
	vm->hash_size = size;
	vm->hash_shift = 64u - log2_floor(size);
}

/* Grow the table 4x when the allocated segments exceed twice the buckets.
 * Best effort: when no frames can be had, the old table stays. */
static void hash_maybe_grow(struct vmem *vm)
{
	if (vm->nsegs_alloc <= 2 * vm->hash_size)
		return;
	uint64_t nsize = vm->hash_size * 4;
	if (nsize < HASH_PER_PAGE)
		nsize = HASH_PER_PAGE;
	unsigned order = log2_floor(nsize / HASH_PER_PAGE);
	if (order > VMEM_HASH_MAX_ORDER || (vm->hash_from_phys && order <= vm->hash_order))
		return;
	pfn_t pfn;
	if (phys_alloc(vm->phys, order, 0, &pfn) != 0)
		return;
	struct vmem_seg **table = phys_frame_ptr(vm->phys, pfn);
	mmk_memset(table, 0, (size_t)nsize * sizeof(*table));
	struct vmem_seg **old = vm->hash;
	uint64_t osize = vm->hash_size;
	bool old_phys = vm->hash_from_phys;
	pfn_t old_pfn = vm->hash_pfn;
	unsigned old_order = vm->hash_order;
	hash_use(vm, table, nsize);
	for (uint64_t b = 0; b < osize; b++) {
		while (old[b]) {
			struct vmem_seg *s = old[b];
			old[b] = s->knext;
			hash_insert(vm, s);
		}
	}
	vm->hash_from_phys = true;
	vm->hash_pfn = pfn;
	vm->hash_order = order;
	if (old_phys)
		phys_free(vm->phys, old_pfn, old_order);
}

/* ---- spans ---- */

/*
 * Where the span [base, base + size) goes: *next = the first span starting
 * above base (or the span sentinel).  -MMK_EINVAL when it would overlap
 * the span before or after (no other can overlap: spans are sorted).
 */
static int span_find_pos(struct vmem *vm, uint64_t base, uint64_t size, struct vmem_seg **next)
{
	struct vmem_seg *n = vm->span0.knext;
	while (n != &vm->span0 && n->start <= base)
		n = n->knext;
	struct vmem_seg *p = n->kprev;
	if (p != &vm->span0 && seg_end(p) > base)
		return -MMK_EINVAL;
	if (n != &vm->span0 && base + size > n->start)
		return -MMK_EINVAL;
	*next = n;
	return 0;
}

/* Commit a span before next (from span_find_pos) and its one free
 * segment; uses two reserved tags.  Returns the free segment. */
static struct vmem_seg *span_create(struct vmem *vm, uint64_t base, uint64_t size, struct vmem_seg *next,
				    bool imported)
{
	struct vmem_seg *sp = tag_get(vm), *fs = tag_get(vm);
	sp->type = VMEM_SEG_SPAN;
	sp->flags = imported ? VMEM_SEG_IMPORTED : 0;
	sp->start = base;
	sp->size = size;
	sp->knext = next;
	sp->kprev = next->kprev;
	next->kprev->knext = sp;
	next->kprev = sp;
	/* In the address list the span goes before the next span's marker,
	 * or at the end when it is the last span. */
	struct vmem_seg *apos = next == &vm->span0 ? &vm->seg0 : next;
	alist_insert_before(apos, sp);
	alist_insert_before(apos, fs);
	fs->type = VMEM_SEG_FREE;
	fs->start = base;
	fs->size = size;
	freelist_insert(vm, fs);
	vm->total += size;
	vm->free += size;
	vm->nspans++;
	vm->nsegs_free++;
	if (imported) {
		vm->imported += size;
		vm->nspans_imported++;
	}
	return fs;
}

/* Remove span sp whose only segment is the free fs (not on a free list). */
static void span_destroy(struct vmem *vm, struct vmem_seg *sp, struct vmem_seg *fs)
{
	struct vmem_seg *after = fs->anext;
	vm->total -= sp->size;
	vm->free -= sp->size;
	vm->nspans--;
	vm->nsegs_free--;
	if (sp->flags & VMEM_SEG_IMPORTED) {
		vm->imported -= sp->size;
		vm->nspans_imported--;
	}
	seg_destroy(vm, fs, after);
	sp->kprev->knext = sp->knext;
	sp->knext->kprev = sp->kprev;
	seg_destroy(vm, sp, after);
}

/* Give the wholly free imported span sp (free segment fs, off the lists)
 * back to the source. */
static void span_release(struct vmem *vm, struct vmem_seg *sp, struct vmem_seg *fs)
{
	uint64_t base = sp->start, size = sp->size;
	span_destroy(vm, sp, fs);
	vm->releases++;
	(void)vm->release(vm->source, base, size);
}

/*
 * Import a span big enough for r from the source and add it; *fsp = its
 * free segment.  Needs two reserved tags.  0, or -MMK_ENOMEM with nothing
 * changed (here or in the source).
 */
static int import_locked(struct vmem *vm, const struct vmem_req *r, struct vmem_seg **fsp)
{
	uint64_t iq = vm->import_quantum;
	/* Slack so that an aligned start exists wherever the span lands: the
	 * base is a quantum multiple, so the first start with the right phase
	 * lies at most align - quantum above it. */
	uint64_t extra = r->align - vm->quantum;
	if (r->size > UINT64_MAX - extra || r->size + extra > UINT64_MAX - (iq - 1))
		return -MMK_ENOMEM;
	uint64_t isize = (r->size + extra + iq - 1) & ~(iq - 1);
	uint64_t base;
	if (vm->import(vm->source, isize, 0, &base) != 0)
		return -MMK_ENOMEM;
	struct vmem_seg *next;
	if ((base & (vm->quantum - 1)) || base > UINT64_MAX - isize || span_find_pos(vm, base, isize, &next) != 0) {
		/* The source broke its contract: give it back, fail. */
		(void)vm->release(vm->source, base, isize);
		return -MMK_ENOMEM;
	}
	vm->imports++;
	*fsp = span_create(vm, base, isize, next, true);
	return 0;
}

/* ---- placement policies ---- */

/* First segment (by free list, lowest list first) that fits r. */
static struct vmem_seg *find_first(struct vmem *vm, const struct vmem_req *r, unsigned from, uint64_t *addr)
{
	uint64_t map = vm->freemap & (~(uint64_t)0 << from);
	while (map) {
		unsigned i = (unsigned)__builtin_ctzll(map);
		map &= map - 1;
		for (struct vmem_seg *s = vm->freelist[i]; s; s = s->knext)
			if (s->size >= r->size && fit_range(r, s->start, seg_end(s), addr))
				return s;
	}
	return NULL;
}

static struct vmem_seg *find_instant(struct vmem *vm, const struct vmem_req *r, uint64_t *addr)
{
	if (!r->window) {
		/* A segment of size >= g holds an aligned fit wherever it
		 * starts (its start is a quantum multiple). */
		uint64_t slack = r->align - vm->quantum;
		if (r->size <= UINT64_MAX - slack) {
			uint64_t g = r->size + slack;
			unsigned i = size_class(g) + (is_pow2(g) ? 0u : 1u);
			uint64_t map = i < 64 ? vm->freemap & (~(uint64_t)0 << i) : 0;
			if (map) {
				struct vmem_seg *s = vm->freelist[__builtin_ctzll(map)];
				if (fit_range(r, s->start, seg_end(s), addr))
					return s;
			}
		}
	}
	/* No list guarantees a fit: search the lists that may hold one. */
	return find_first(vm, r, size_class(r->size), addr);
}

static struct vmem_seg *find_best(struct vmem *vm, const struct vmem_req *r, uint64_t *addr)
{
	uint64_t map = vm->freemap & (~(uint64_t)0 << size_class(r->size));
	while (map) {
		unsigned i = (unsigned)__builtin_ctzll(map);
		map &= map - 1;
		struct vmem_seg *best = NULL;
		uint64_t best_addr = 0, a;
		for (struct vmem_seg *s = vm->freelist[i]; s; s = s->knext) {
			if (s->size < r->size || !fit_range(r, s->start, seg_end(s), &a))
				continue;
			if (!best || s->size < best->size || (s->size == best->size && s->start < best->start)) {
				best = s;
				best_addr = a;
			}
		}
		if (best) {
			*addr = best_addr;
			return best;
		}
	}
	return NULL;
}

/*
 * Next fit: the lowest fit at or after nextfit_addr, searching forward from
 * the rotor; failing that, the lowest fit in the arena (wrap around).
 */
static struct vmem_seg *find_next(struct vmem *vm, const struct vmem_req *r, uint64_t *addr)
{
	struct vmem_seg *s = vm->rotor ? vm->rotor : vm->seg0.anext;
	for (; s != &vm->seg0; s = s->anext) {
		if (s->type != VMEM_SEG_FREE || seg_end(s) <= vm->nextfit_addr)
			continue;
		uint64_t lo = s->start > vm->nextfit_addr ? s->start : vm->nextfit_addr;
		if (fit_range(r, lo, seg_end(s), addr))
			return s;
	}
	for (s = vm->seg0.anext; s != &vm->seg0; s = s->anext)
		if (s->type == VMEM_SEG_FREE && fit_range(r, s->start, seg_end(s), addr))
			return s;
	return NULL;
}

static struct vmem_seg *find_fit(struct vmem *vm, const struct vmem_req *r, uint64_t *addr)
{
	switch (r->policy) {
	case VM_BESTFIT:
		return find_best(vm, r, addr);
	case VM_NEXTFIT:
		return find_next(vm, r, addr);
	default:
		return find_instant(vm, r, addr);
	}
}

/* ---- commit ---- */

/* Turn [a, a + size) of the free segment f into an allocated segment (f's
 * tag), with free remainders before and after (reserved tags). */
static void seg_carve(struct vmem *vm, struct vmem_seg *f, uint64_t a, uint64_t size)
{
	uint64_t end = seg_end(f);
	freelist_remove(vm, f);
	if (a > f->start) {
		struct vmem_seg *l = tag_get(vm);
		l->type = VMEM_SEG_FREE;
		l->start = f->start;
		l->size = a - f->start;
		alist_insert_before(f, l);
		freelist_insert(vm, l);
		vm->nsegs_free++;
	}
	if (a + size < end) {
		struct vmem_seg *rt = tag_get(vm);
		rt->type = VMEM_SEG_FREE;
		rt->start = a + size;
		rt->size = end - (a + size);
		alist_insert_after(f, rt);
		freelist_insert(vm, rt);
		vm->nsegs_free++;
	}
	f->type = VMEM_SEG_ALLOC;
	f->flags = 0;
	f->start = a;
	f->size = size;
	hash_insert(vm, f);
	vm->nsegs_free--;
	vm->nsegs_alloc++;
	vm->free -= size;
	vm->inuse += size;
	vm->allocs++;
}

/* Free the ALLOC segment s, already out of the hash and out of the inuse or
 * cached count: coalesce, release a wholly free imported span. */
static void seg_release_locked(struct vmem *vm, struct vmem_seg *s)
{
	s->type = VMEM_SEG_FREE;
	s->flags = 0;
	vm->nsegs_alloc--;
	vm->nsegs_free++;
	vm->free += s->size;
	struct vmem_seg *n = s->anext;
	if (n->type == VMEM_SEG_FREE) {
		freelist_remove(vm, n);
		s->size += n->size;
		seg_destroy(vm, n, s);
		vm->nsegs_free--;
	}
	struct vmem_seg *p = s->aprev;
	if (p->type == VMEM_SEG_FREE) {
		freelist_remove(vm, p);
		p->size += s->size;
		seg_destroy(vm, s, p);
		vm->nsegs_free--;
		s = p;
	}
	p = s->aprev;
	if (p->type == VMEM_SEG_SPAN && (p->flags & VMEM_SEG_IMPORTED) && p->start == s->start &&
	    p->size == s->size) {
		span_release(vm, p, s);
		return;
	}
	freelist_insert(vm, s);
}

static uint64_t reap_locked(struct vmem *vm)
{
	uint64_t moved = 0;
	for (unsigned c = 0; c < vm->qcache_max; c++) {
		struct vmem_qcache *qc = &vm->qcache[c];
		while (qc->n) {
			struct vmem_seg *s = qc->segs[--qc->n];
			hash_remove(vm, s);
			vm->cached -= s->size;
			vm->nqcached--;
			moved += s->size;
			seg_release_locked(vm, s);
		}
	}
	return moved;
}

/* ---- validation ---- */

/* Round size up to the quantum.  -MMK_EINVAL for 0, -MMK_ENOMEM when the
 * rounded size does not fit in 64 bits (nothing could hold it). */
static int round_size(const struct vmem *vm, uint64_t size, uint64_t *out)
{
	if (size == 0)
		return -MMK_EINVAL;
	if (size > UINT64_MAX - (vm->quantum - 1))
		return -MMK_ENOMEM;
	*out = (size + vm->quantum - 1) & ~(vm->quantum - 1);
	return 0;
}

static int check_flags(unsigned flags, unsigned *policy)
{
	if (flags & ~VM_FLAGS_ALL)
		return -MMK_EINVAL;
	unsigned p = flags & VM_POLICY_MASK;
	if (p & (p - 1))
		return -MMK_EINVAL;
	*policy = p ? p : VM_INSTANTFIT;
	return 0;
}

/* ---- the operations ---- */

static int add_locked(struct vmem *vm, uint64_t base, uint64_t size)
{
	struct vmem_seg *next;
	if (size == 0 || ((base | size) & (vm->quantum - 1)) || base > UINT64_MAX - size)
		return -MMK_EINVAL;
	int rc = span_find_pos(vm, base, size, &next);
	if (rc)
		return rc;
	struct tag_rsv rsv;
	rc = tags_reserve(vm, TAGS_RESERVE, &rsv);
	if (rc)
		return rc;
	span_create(vm, base, size, next, false);
	return 0;
}

int vmem_create(struct vmem *vm, struct phys *ph, const char *name, uint64_t base, uint64_t size,
		uint64_t quantum, vmem_import_fn *import, vmem_release_fn *release, struct vmem *source,
		unsigned qcache_max)
{
	if (!vm || !ph || !is_pow2(quantum) || (!import) != (!release) || source == vm || (!import && source) ||
	    (import == vmem_alloc && !source) || qcache_max > VMEM_QCACHE_MAX)
		return -MMK_EINVAL;
	if (source && (source->quantum & (quantum - 1)))
		return -MMK_EINVAL;
	if (size && (((base | size) & (quantum - 1)) || base > UINT64_MAX - size))
		return -MMK_EINVAL;
	mmk_memset(vm, 0, sizeof(*vm));
	const char *n = name ? name : "vmem";
	for (unsigned i = 0; i < VMEM_NAMELEN - 1 && n[i]; i++)
		vm->name[i] = n[i];
	vm->phys = ph;
	hal_spin_init(&vm->lock);
	vm->quantum = quantum;
	vm->qshift = log2_floor(quantum);
	vm->qcache_max = qcache_max;
	vm->import = import;
	vm->release = release;
	vm->source = source;
	vm->import_quantum = source && source->quantum > quantum ? source->quantum : quantum;
	vm->seg0.type = VMEM_SEG_SENTINEL;
	vm->seg0.anext = vm->seg0.aprev = &vm->seg0;
	vm->span0.type = VMEM_SEG_SENTINEL;
	vm->span0.knext = vm->span0.kprev = &vm->span0;
	hash_use(vm, vm->hash0, VMEM_HASH_MIN);
	if (size) {
		int rc = add_locked(vm, base, size);
		if (rc)
			return rc; /* nothing was allocated: add_locked failed before or at the reserve */
	}
	return 0;
}

int vmem_add(struct vmem *vm, uint64_t base, uint64_t size)
{
	hal_spin_lock(&vm->lock);
	int rc = add_locked(vm, base, size);
	hal_spin_unlock(&vm->lock);
	return rc;
}

/* Allocate r: reserve tags, search, import, reap, commit. */
static int xalloc_locked(struct vmem *vm, const struct vmem_req *r, uint64_t *addrp)
{
	struct tag_rsv rsv;
	int rc = tags_reserve(vm, TAGS_RESERVE, &rsv);
	if (rc) {
		vm->alloc_fails++;
		return rc;
	}
	uint64_t a = 0;
	struct vmem_seg *f = find_fit(vm, r, &a);
	if (!f && vm->import && !r->window && import_locked(vm, r, &f) == 0) {
		if (!fit_range(r, f->start, seg_end(f), &a)) {
			/* Cannot happen with a source that keeps its contract
			 * (the import was sized for r); undo. */
			freelist_remove(vm, f);
			span_release(vm, f->aprev, f);
			f = NULL;
		}
	}
	if (!f && vm->nqcached) {
		reap_locked(vm);
		f = find_fit(vm, r, &a);
	}
	if (!f) {
		tags_unreserve(vm, &rsv);
		vm->alloc_fails++;
		return -MMK_ENOMEM;
	}
	seg_carve(vm, f, a, r->size);
	if (r->policy == VM_NEXTFIT) {
		vm->rotor = f;
		vm->nextfit_addr = a + r->size;
	}
	hash_maybe_grow(vm);
	*addrp = a;
	return 0;
}

int vmem_xalloc(struct vmem *vm, uint64_t size, uint64_t align, uint64_t phase, uint64_t nocross,
		uint64_t minaddr, uint64_t maxaddr, unsigned flags, uint64_t *addrp)
{
	struct vmem_req r;
	if (!addrp || check_flags(flags, &r.policy))
		return -MMK_EINVAL;
	if (align == 0)
		align = vm->quantum;
	if (!is_pow2(align) || align < vm->quantum || (phase & (vm->quantum - 1)) || phase >= align)
		return -MMK_EINVAL;
	if (maxaddr != 0 && minaddr > maxaddr)
		return -MMK_EINVAL;
	if (size == 0 || (nocross && (!is_pow2(nocross) || nocross < size)))
		return -MMK_EINVAL;
	int rc = round_size(vm, size, &r.size);
	if (rc)
		return rc;
	if (nocross && nocross < r.size)
		return -MMK_EINVAL; /* only possible when nocross < quantum */
	r.align = align;
	r.phase = phase;
	r.nocross = nocross;
	r.minaddr = minaddr;
	r.maxaddr = maxaddr ? maxaddr : UINT64_MAX;
	r.window = nocross || minaddr || maxaddr;
	hal_spin_lock(&vm->lock);
	rc = xalloc_locked(vm, &r, addrp);
	hal_spin_unlock(&vm->lock);
	return rc;
}

int vmem_alloc(struct vmem *vm, uint64_t size, unsigned flags, uint64_t *addrp)
{
	struct vmem_req r;
	if (!addrp || check_flags(flags, &r.policy))
		return -MMK_EINVAL;
	int rc = round_size(vm, size, &r.size);
	if (rc)
		return rc;
	r.align = vm->quantum;
	r.phase = 0;
	r.nocross = 0;
	r.minaddr = 0;
	r.maxaddr = UINT64_MAX;
	r.window = false;
	hal_spin_lock(&vm->lock);
	uint64_t nq = r.size >> vm->qshift;
	if (nq <= vm->qcache_max) {
		struct vmem_qcache *qc = &vm->qcache[nq - 1];
		if (qc->n) {
			struct vmem_seg *s = qc->segs[--qc->n];
			s->flags &= (uint8_t)~VMEM_SEG_QCACHED;
			vm->cached -= s->size;
			vm->inuse += s->size;
			vm->nqcached--;
			vm->qcache_hits++;
			vm->allocs++;
			*addrp = s->start;
			hal_spin_unlock(&vm->lock);
			return 0;
		}
		vm->qcache_misses++;
	}
	rc = xalloc_locked(vm, &r, addrp);
	hal_spin_unlock(&vm->lock);
	return rc;
}

/* The link to the ALLOC, not QCACHED segment [addr, addr + size), or NULL. */
static struct vmem_seg **held_seg(struct vmem *vm, uint64_t addr, uint64_t size)
{
	struct vmem_seg **pp = hash_find(vm, addr);
	if (!pp || (*pp)->size != size || ((*pp)->flags & VMEM_SEG_QCACHED))
		return NULL;
	return pp;
}

static int free_common(struct vmem *vm, uint64_t addr, uint64_t size, bool use_qcache)
{
	uint64_t rsize;
	if (size == 0 || round_size(vm, size, &rsize))
		return -MMK_EINVAL;
	hal_spin_lock(&vm->lock);
	struct vmem_seg **pp = held_seg(vm, addr, rsize);
	if (!pp) {
		hal_spin_unlock(&vm->lock);
		return -MMK_EINVAL;
	}
	struct vmem_seg *s = *pp;
	uint64_t nq = rsize >> vm->qshift;
	vm->frees++;
	vm->inuse -= rsize;
	if (use_qcache && nq <= vm->qcache_max && vm->qcache[nq - 1].n < VMEM_QCACHE_DEPTH) {
		struct vmem_qcache *qc = &vm->qcache[nq - 1];
		s->flags |= VMEM_SEG_QCACHED;
		qc->segs[qc->n++] = s;
		vm->cached += rsize;
		vm->nqcached++;
	} else {
		*pp = s->knext;
		s->knext = NULL;
		seg_release_locked(vm, s);
	}
	hal_spin_unlock(&vm->lock);
	return 0;
}

int vmem_free(struct vmem *vm, uint64_t addr, uint64_t size) { return free_common(vm, addr, size, true); }

int vmem_xfree(struct vmem *vm, uint64_t addr, uint64_t size) { return free_common(vm, addr, size, false); }

uint64_t vmem_reap(struct vmem *vm)
{
	hal_spin_lock(&vm->lock);
	uint64_t moved = reap_locked(vm);
	hal_spin_unlock(&vm->lock);
	return moved;
}

int vmem_destroy(struct vmem *vm)
{
	hal_spin_lock(&vm->lock);
	if (vm->inuse) {
		hal_spin_unlock(&vm->lock);
		return -MMK_EBUSY;
	}
	reap_locked(vm);
	/* Every imported span is wholly free now and went back to the source
	 * as its last segment was freed (V7).  Added spans just vanish. */
	while (vm->tag_pages) {
		struct vmem_tagpage *pg = vm->tag_pages;
		vm->tag_pages = pg->next;
		phys_free(vm->phys, pg->pfn, 0);
	}
	if (vm->hash_from_phys)
		phys_free(vm->phys, vm->hash_pfn, vm->hash_order);
	hal_spin_unlock(&vm->lock);
	mmk_memset(vm, 0, sizeof(*vm));
	return 0;
}

/* ---- walk, statistics ---- */

static unsigned walk_type(const struct vmem_seg *s)
{
	switch (s->type) {
	case VMEM_SEG_SPAN:
		return VMEM_WALK_SPAN;
	case VMEM_SEG_FREE:
		return VMEM_WALK_FREE;
	default:
		return (s->flags & VMEM_SEG_QCACHED) ? VMEM_WALK_CACHED : VMEM_WALK_ALLOC;
	}
}

void vmem_walk(struct vmem *vm, unsigned mask, vmem_walk_fn *fn, void *arg)
{
	hal_spin_lock(&vm->lock);
	for (struct vmem_seg *s = vm->seg0.anext; s != &vm->seg0; s = s->anext) {
		unsigned t = walk_type(s);
		if (t & mask)
			fn(arg, s->start, s->size, t);
	}
	hal_spin_unlock(&vm->lock);
}

void vmem_get_stats(struct vmem *vm, struct vmem_stats *st)
{
	hal_spin_lock(&vm->lock);
	st->name = vm->name;
	st->quantum = vm->quantum;
	st->inuse = vm->inuse;
	st->free = vm->free;
	st->cached = vm->cached;
	st->total = vm->total;
	st->imported = vm->imported;
	st->nsegs_alloc = vm->nsegs_alloc;
	st->nsegs_free = vm->nsegs_free;
	st->nspans = vm->nspans;
	st->nspans_imported = vm->nspans_imported;
	st->nqcached = vm->nqcached;
	st->tag_pages = vm->tag_npages;
	st->tags_free = vm->tag_nfree;
	st->hash_buckets = vm->hash_size;
	st->allocs = vm->allocs;
	st->frees = vm->frees;
	st->imports = vm->imports;
	st->releases = vm->releases;
	st->alloc_fails = vm->alloc_fails;
	st->qcache_hits = vm->qcache_hits;
	st->qcache_misses = vm->qcache_misses;
	hal_spin_unlock(&vm->lock);
}

/* ---- the checker ---- */

struct recount {
	uint64_t inuse, cached, free, total, imported;
	uint64_t nalloc, nfree, nspans, nimported, nqcached, ntags;
	uint64_t marked_free, marked_hash, marked_qc;
};

/* Mark every entry of the free lists, hash and quantum caches (V3, V4, V5
 * shape), counting them; a second mark means a duplicate. */
static const char *check_mark(struct vmem *vm, struct recount *rc, uint64_t limit)
{
	for (unsigned i = 0; i < VMEM_FREELISTS; i++) {
		if (!vm->freelist[i] != !(vm->freemap & ((uint64_t)1 << i)))
			return "vmem: freemap bit differs from its list";
		const struct vmem_seg *prev = NULL;
		for (struct vmem_seg *s = vm->freelist[i]; s; prev = s, s = s->knext) {
			if (++rc->marked_free > limit)
				return "vmem: free list longer than the tags (cycle?)";
			if (s->type != VMEM_SEG_FREE)
				return "vmem: non-free segment on a free list";
			if (s->size == 0 || size_class(s->size) != i)
				return "vmem: free segment on the wrong size-class list";
			if (s->kprev != prev)
				return "vmem: free list back link wrong";
			if (s->flags & SEG_MARK_FREE)
				return "vmem: segment twice on the free lists";
			s->flags |= SEG_MARK_FREE;
		}
	}
	for (uint64_t b = 0; b < vm->hash_size; b++) {
		for (struct vmem_seg *s = vm->hash[b]; s; s = s->knext) {
			if (++rc->marked_hash > limit)
				return "vmem: hash chain longer than the tags (cycle?)";
			if (s->type != VMEM_SEG_ALLOC)
				return "vmem: non-allocated segment in the hash";
			if (hash_index(vm, s->start) != b)
				return "vmem: segment in the wrong hash bucket";
			if (s->flags & SEG_MARK_HASH)
				return "vmem: segment twice in the hash";
			s->flags |= SEG_MARK_HASH;
		}
	}
	for (unsigned c = 0; c < VMEM_QCACHE_MAX; c++) {
		const struct vmem_qcache *qc = &vm->qcache[c];
		if (qc->n > VMEM_QCACHE_DEPTH || (c >= vm->qcache_max && qc->n))
			return "vmem: quantum cache over its depth or beyond qcache_max";
		for (unsigned k = 0; k < qc->n; k++) {
			struct vmem_seg *s = qc->segs[k];
			rc->marked_qc++;
			if (s->type != VMEM_SEG_ALLOC || !(s->flags & VMEM_SEG_QCACHED))
				return "vmem: quantum cache holds a segment not flagged QCACHED";
			if (s->size != ((uint64_t)c + 1) << vm->qshift)
				return "vmem: quantum cache holds a segment of another size";
			if (s->flags & SEG_MARK_QC)
				return "vmem: segment twice in the quantum caches";
			s->flags |= SEG_MARK_QC;
		}
	}
	return NULL;
}

static void check_unmark(struct vmem *vm, uint64_t limit)
{
	for (unsigned i = 0; i < VMEM_FREELISTS; i++) {
		uint64_t n = 0;
		for (struct vmem_seg *s = vm->freelist[i]; s && n++ <= limit; s = s->knext)
			s->flags &= (uint8_t)~SEG_MARKS;
	}
	for (uint64_t b = 0; b < vm->hash_size; b++) {
		uint64_t n = 0;
		for (struct vmem_seg *s = vm->hash[b]; s && n++ <= limit; s = s->knext)
			s->flags &= (uint8_t)~SEG_MARKS;
	}
	for (unsigned c = 0; c < VMEM_QCACHE_MAX; c++)
		for (unsigned k = 0; k < vm->qcache[c].n && k < VMEM_QCACHE_DEPTH; k++)
			vm->qcache[c].segs[k]->flags &= (uint8_t)~SEG_MARKS;
}

/* V1, V2, V6, V7 and the recounts, walking the address list. */
static const char *check_list(struct vmem *vm, struct recount *rc, uint64_t limit)
{
	const struct vmem_seg *span = NULL, *nextspan = vm->span0.knext;
	uint64_t cur = 0, prev_span_end = 0;
	bool seen_rotor = vm->rotor == NULL;
	unsigned span_segs = 0;
	const struct vmem_seg *prev = &vm->seg0;
	for (struct vmem_seg *s = vm->seg0.anext; s != &vm->seg0; prev = s, s = s->anext) {
		if (++rc->ntags > limit)
			return "vmem: address list longer than the tags (cycle?)";
		if (s->aprev != prev)
			return "vmem: address list back link wrong";
		if (s == vm->rotor)
			seen_rotor = true;
		if (s->type == VMEM_SEG_SPAN) {
			if (span && cur != seg_end(span))
				return "vmem: segments do not tile their span (gap at the end)";
			if (span && span_segs == 1 && (span->flags & VMEM_SEG_IMPORTED) &&
			    span->anext->type == VMEM_SEG_FREE)
				return "vmem: imported span wholly free but not released";
			if (s != nextspan)
				return "vmem: span list differs from the address list";
			nextspan = s->knext;
			if (s->knext->kprev != s)
				return "vmem: span list back link wrong";
			if (s->size == 0 || ((s->start | s->size) & (vm->quantum - 1)) || s->start > UINT64_MAX - s->size)
				return "vmem: span empty, unaligned or wrapping";
			if (span && s->start < prev_span_end)
				return "vmem: spans out of order or overlapping";
			span = s;
			prev_span_end = seg_end(s);
			cur = s->start;
			span_segs = 0;
			rc->total += s->size;
			rc->nspans++;
			if (s->flags & VMEM_SEG_IMPORTED) {
				rc->imported += s->size;
				rc->nimported++;
			}
			continue;
		}
		if (!span)
			return "vmem: segment before the first span";
		if (s->type != VMEM_SEG_FREE && s->type != VMEM_SEG_ALLOC)
			return "vmem: tag of unknown type on the address list";
		if (s->size == 0 || ((s->start | s->size) & (vm->quantum - 1)))
			return "vmem: segment empty or not quantum-aligned";
		if (s->start != cur)
			return "vmem: segments overlap or leave a gap";
		if (s->size > seg_end(span) - cur)
			return "vmem: segment runs past the end of its span";
		cur += s->size;
		span_segs++;
		if (s->type == VMEM_SEG_FREE) {
			if (prev->type == VMEM_SEG_FREE)
				return "vmem: two neighbouring free segments";
			if (!(s->flags & SEG_MARK_FREE))
				return "vmem: free segment missing from its free list";
			rc->free += s->size;
			rc->nfree++;
		} else {
			if (!(s->flags & SEG_MARK_HASH))
				return "vmem: allocated segment missing from the hash";
			rc->nalloc++;
			if (s->flags & VMEM_SEG_QCACHED) {
				if (!(s->flags & SEG_MARK_QC))
					return "vmem: QCACHED segment missing from its quantum cache";
				rc->cached += s->size;
				rc->nqcached++;
			} else {
				if (s->flags & SEG_MARK_QC)
					return "vmem: held segment also in a quantum cache";
				rc->inuse += s->size;
			}
		}
	}
	if (span && cur != seg_end(span))
		return "vmem: segments do not tile their span (gap at the end)";
	if (span && span_segs == 1 && (span->flags & VMEM_SEG_IMPORTED) && span->anext->type == VMEM_SEG_FREE)
		return "vmem: imported span wholly free but not released";
	if (nextspan != &vm->span0)
		return "vmem: span list holds a span not on the address list";
	if (!seen_rotor)
		return "vmem: next-fit rotor is not on the address list";
	return NULL;
}

static const char *check_locked(struct vmem *vm)
{
	uint64_t limit = vm->tag_npages * TAGS_PER_PAGE;
	uint64_t nfree_tags = 0;
	for (struct vmem_seg *t = vm->tag_free; t; t = t->knext) {
		if (++nfree_tags > limit)
			return "vmem: tag free list longer than the tags (cycle?)";
		if (t->type != VMEM_SEG_NONE)
			return "vmem: tag in use on the tag free list";
	}
	if (nfree_tags != vm->tag_nfree)
		return "vmem: tag_nfree differs from the tag free list";
	struct recount rc;
	mmk_memset(&rc, 0, sizeof(rc));
	const char *why = check_mark(vm, &rc, limit);
	if (!why)
		why = check_list(vm, &rc, limit);
	check_unmark(vm, limit);
	if (why)
		return why;
	if (rc.marked_free != rc.nfree)
		return "vmem: free lists hold segments not on the address list";
	if (rc.marked_hash != rc.nalloc)
		return "vmem: hash holds segments not on the address list";
	if (rc.marked_qc != rc.nqcached)
		return "vmem: quantum caches hold segments not on the address list";
	if (rc.ntags + vm->tag_nfree != limit)
		return "vmem: tags leaked (pages * per page != free + on the list)";
	if (rc.inuse != vm->inuse || rc.cached != vm->cached || rc.free != vm->free || rc.total != vm->total ||
	    rc.imported != vm->imported)
		return "vmem: byte counters differ from recounts";
	if (rc.nalloc != vm->nsegs_alloc || rc.nfree != vm->nsegs_free || rc.nspans != vm->nspans ||
	    rc.nimported != vm->nspans_imported || rc.nqcached != vm->nqcached)
		return "vmem: segment counters differ from recounts";
	if (vm->inuse + vm->cached + vm->free != vm->total)
		return "vmem: inuse + cached + free != total";
	if (!is_pow2(vm->hash_size) || vm->hash_shift != 64u - log2_floor(vm->hash_size))
		return "vmem: hash size not a power of two";
	return NULL;
}

int vmem_check(struct vmem *vm, const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	hal_spin_lock(&vm->lock);
	const char *w = check_locked(vm);
	hal_spin_unlock(&vm->lock);
	if (w) {
		*why = w;
		return -MMK_EINVAL;
	}
	return 0;
}
