/*
 * mmk/vmem.h - vmem resource arenas (Bonwick and Adams, "Magazines and Vmem:
 * Extending the Slab Allocator to Many CPUs and Arbitrary Resources", USENIX
 * 2001, sections 4 and 5).
 *
 * An arena hands out ranges of an integer space: kernel virtual addresses,
 * ASIDs, handle numbers, anything.  Addresses and sizes are uint64_t in the
 * arena's own units (bytes for an address arena, plain numbers for an ASID
 * arena); every range is half-open [addr, addr + size).  The arena's
 * quantum (a power of two) is its unit of allocation: every span, segment,
 * alignment and phase is a multiple of it, and request sizes are rounded up
 * to it.  No range may contain the address 2^64 - 1 (ends are uint64_t).
 *
 * Ownership: the caller owns struct vmem (static, embedded or on the stack;
 * mmk never allocates an arena).  The arena owns the frames behind its
 * boundary tags and its hash table; it takes them from struct phys as
 * kernel-owned frames and gives them back in vmem_destroy.
 *
 * Locking: every function takes vm->lock itself (a hal_spinlock; nothing is
 * called with it held except the source's import/release functions and
 * phys_alloc/phys_free).  Lock order, in the terms of docs/locking.md
 * (vmem sits between kmem_cache.lock and phys.lock there):
 *   kmem_cache.lock -> vmem.lock (child arena) -> vmem.lock (its source) ->
 *   phys.lock.
 * An arena never calls into kmem; a future kmem quantum cache calls vmem
 * with its own lock dropped or taken before the arena's.
 *
 * Errors: 0 or a negative MMK_E* code; on error nothing observable changed
 * (bytes in use, free, total, imported; the caller's ranges), with one
 * documented exception: a failed allocation may have emptied the quantum
 * caches (vmem_reap), which moves bytes from "cached" to "free".
 */
#ifndef MMK_VMEM_H
#define MMK_VMEM_H

#include <hal/lock.h>
#include <mmk/phys.h>
#include <mmk/types.h>

/* ---- allocation policies (flags of vmem_alloc / vmem_xalloc) ---- */

/* Instant fit (the default when no policy is given): take the head of the
 * smallest power-of-two free list whose every segment is large enough.
 * Constant time; the paper's default. */
#define VM_INSTANTFIT 0x1u
/* Best fit: the smallest free segment that satisfies the request (lowest
 * address among equals), at the lowest address inside it that fits. */
#define VM_BESTFIT 0x2u
/* Next fit: the first fit at or after the end of the previous next-fit
 * allocation, wrapping around once; cycles through the space (PIDs, ASIDs:
 * a freed number is reused as late as possible). */
#define VM_NEXTFIT 0x4u
#define VM_POLICY_MASK (VM_INSTANTFIT | VM_BESTFIT | VM_NEXTFIT)
#define VM_FLAGS_ALL VM_POLICY_MASK

/* ---- limits ---- */

#define VMEM_NAMELEN 32u
#define VMEM_FREELISTS 64u      /* list i: free segments of size [2^i, 2^(i+1)) */
#define VMEM_QCACHE_MAX 16u     /* qcache_max (in quanta) may not exceed this */
#define VMEM_QCACHE_DEPTH 16u   /* segments kept per quantum-cache size class */
#define VMEM_HASH_MIN 16u       /* buckets embedded in struct vmem */
#define VMEM_HASH_MAX_ORDER 10u /* hash tables grow up to 2^10 frames (512 Ki buckets) */

/* ---- boundary tags ---- */

enum vmem_seg_type {
	VMEM_SEG_NONE = 0,  /* on the tag free list */
	VMEM_SEG_SPAN = 1,  /* span marker: heads the segments that tile one span */
	VMEM_SEG_FREE = 2,  /* free segment, on its power-of-two free list */
	VMEM_SEG_ALLOC = 3, /* allocated segment, in the hash table */
	VMEM_SEG_SENTINEL = 4, /* the list head embedded in struct vmem */
};

#define VMEM_SEG_IMPORTED 0x1u /* span: imported from the source, released when free */
#define VMEM_SEG_QCACHED 0x2u  /* alloc: parked in a quantum cache */

/*
 * One boundary tag (the paper's vmem_seg).  Private to src/kmem/vmem.c; it
 * is in this header only so struct vmem can embed its list head.  Tags live
 * in pages taken from phys, never in the arena they describe.
 */
struct vmem_seg {
	uint64_t start, size;            /* the range [start, start + size) */
	struct vmem_seg *anext, *aprev;  /* address-ordered list of all segments */
	struct vmem_seg *knext, *kprev;  /* FREE: free list; ALLOC: hash chain (knext);
	                                    SPAN: span list; NONE: tag free list (knext) */
	uint8_t type;                    /* enum vmem_seg_type */
	uint8_t flags;                   /* VMEM_SEG_IMPORTED, VMEM_SEG_QCACHED */
};

struct vmem;

/*
 * Import and release functions: how an arena gets spans from its source
 * (the paper's afunc/ffunc).  vmem_alloc and vmem_free have these types, so
 * an arena imports from a parent arena with
 *   vmem_create(..., vmem_alloc, vmem_free, parent, ...).
 * import returns 0 with *addrp set (a range of exactly size units, aligned to
 * the child's quantum) or a negative error (the child reports any as
 * -MMK_ENOMEM, and gives back a misaligned or overlapping range at once);
 * the child passes flags 0 (instant fit) and a size that is a multiple of
 * max(child quantum, source quantum).  release gives back exactly what one
 * import returned and returns 0.  Both are called with the child's lock
 * held (so they may not call into the child) and may take the source's.
 */
typedef int vmem_import_fn(struct vmem *source, uint64_t size, unsigned flags, uint64_t *addrp);
typedef int vmem_release_fn(struct vmem *source, uint64_t addr, uint64_t size);

struct vmem_qcache {
	struct vmem_seg *segs[VMEM_QCACHE_DEPTH]; /* LIFO of parked ALLOC segments */
	unsigned n;
};

/*
 * An arena.  Every field is guarded by lock and private to vmem.c; read
 * statistics through vmem_get_stats.
 */
struct vmem {
	char name[VMEM_NAMELEN];
	struct phys *phys;               /* frames for tags and the hash table */
	struct hal_spinlock lock;
	uint64_t quantum;                /* power of two, in the arena's units */
	unsigned qshift;                 /* log2(quantum) */
	unsigned qcache_max;             /* quantum caches serve 1..qcache_max quanta */
	vmem_import_fn *import;          /* NULL: the arena never imports */
	vmem_release_fn *release;
	struct vmem *source;
	uint64_t import_quantum;         /* imports are multiples of this */

	struct vmem_seg seg0;            /* sentinel of the circular address list */
	struct vmem_seg span0;           /* sentinel of the circular span list */
	struct vmem_seg *freelist[VMEM_FREELISTS];
	uint64_t freemap;                /* bit i: freelist[i] is not empty */

	struct vmem_seg **hash;          /* buckets: hash0 or a block of frames */
	uint64_t hash_size;              /* buckets, a power of two */
	unsigned hash_shift;             /* 64 - log2(hash_size) */
	unsigned hash_order;             /* frames = 2^hash_order when hash_pfn valid */
	bool hash_from_phys;
	pfn_t hash_pfn;
	struct vmem_seg *hash0[VMEM_HASH_MIN];

	struct vmem_seg *rotor;          /* next fit: where the search starts (or NULL) */
	uint64_t nextfit_addr;           /* end of the last next-fit allocation */

	struct vmem_seg *tag_free;       /* free tags (knext chain) */
	uint64_t tag_nfree;
	void *tag_pages;                 /* chain of tag pages (private header) */
	uint64_t tag_npages;

	struct vmem_qcache qcache[VMEM_QCACHE_MAX];

	/* counters, in the arena's units unless named n* */
	uint64_t inuse, free, cached, total, imported;
	uint64_t nsegs_alloc, nsegs_free, nspans, nspans_imported, nqcached;
	uint64_t allocs, frees, imports, releases, alloc_fails, qcache_hits, qcache_misses;
};

/* What vmem_get_stats reports (units of the arena unless named n*). */
struct vmem_stats {
	const char *name;
	uint64_t quantum;
	uint64_t inuse;      /* held by callers */
	uint64_t free;       /* in free segments */
	uint64_t cached;     /* allocated to the quantum caches, free to callers */
	uint64_t total;      /* all spans: inuse + free + cached */
	uint64_t imported;   /* spans imported from the source (part of total) */
	uint64_t nsegs_alloc, nsegs_free, nspans, nspans_imported, nqcached;
	uint64_t tag_pages, tags_free, hash_buckets;
	uint64_t allocs, frees, imports, releases, alloc_fails, qcache_hits, qcache_misses;
};

/*
 * Initialise arena vm named name (copied, truncated to VMEM_NAMELEN - 1),
 * with an initial span [base, base + size) when size != 0 (paper:
 * vmem_create).  Units: the arena's own (base, size, quantum).
 * quantum: a power of two >= 1; base and size multiples of it; the span may
 * not wrap or end at 2^64.  import/release/source: both functions or
 * neither; with vmem_alloc as import, source is the parent arena (not NULL,
 * not vm); any source arena's quantum must be a multiple of quantum.
 * qcache_max: quantum caches for allocations of 1..qcache_max quanta (0 =
 * none, at most VMEM_QCACHE_MAX; the paper counts it in bytes, mmk in
 * quanta; for now each cache is a per-arena LIFO of VMEM_QCACHE_DEPTH
 * recently freed segments, to become a kmem cache once the slab layer has
 * magazines: vmem.c section 2).  ph: where tag pages and hash tables come
 * from (kernel-owned frames; every phys_alloc passes ph's failpoint).
 * Ownership: the caller owns *vm and keeps it alive until vmem_destroy;
 * name is copied; source must outlive vm.  Locking: none (vm is not yet
 * shared); takes phys.lock through phys_alloc.
 * 0; -MMK_EINVAL for any bad argument; -MMK_ENOMEM when the first tag page
 * cannot be had (only with size != 0).  On error *vm is not an arena and no
 * frame was kept.
 */
int vmem_create(struct vmem *vm, struct phys *ph, const char *name, uint64_t base, uint64_t size,
		uint64_t quantum, vmem_import_fn *import, vmem_release_fn *release, struct vmem *source,
		unsigned qcache_max);

/*
 * Destroy an arena (paper: vmem_destroy): empties the quantum caches
 * (imported spans whose last segment that frees go back to the source) and
 * gives the tag pages and hash table back to phys; spans added with
 * vmem_add are simply forgotten.  Afterwards *vm is zeroed and may be
 * created again.  Locking: takes vm->lock; the caller guarantees nobody else
 * uses vm any more.  0; -MMK_EBUSY (nothing changed) while callers hold
 * allocations (bytes in use != 0; cached segments do not count).
 */
int vmem_destroy(struct vmem *vm);

/*
 * Add the span [base, base + size) (paper: vmem_add), units of the arena.
 * Spans never merge, even when adjacent, and are never given back before
 * vmem_destroy.  Locking: takes vm->lock.  O(spans).  0; -MMK_EINVAL for
 * size 0, a base or size that is not a quantum multiple, a range that wraps
 * or ends at 2^64, or one overlapping an existing span; -MMK_ENOMEM when no
 * tag can be had.  Nothing changes on error.
 */
int vmem_add(struct vmem *vm, uint64_t base, uint64_t size);

/*
 * Allocate size units (rounded up to the quantum; the start is a quantum
 * multiple) with policy flags (0 = VM_INSTANTFIT), *addrp = the start
 * (paper: vmem_alloc).  Sizes up to qcache_max quanta come from the quantum
 * caches first, whatever the policy (as illumos).  When nothing fits, the
 * arena imports from its source; as a last resort it empties its quantum
 * caches and retries.  The range is the caller's until vmem_free.
 * Locking: takes vm->lock, then possibly the source's and phys.lock.
 * O(1) for a quantum-cache hit and for instant fit when a power-of-two list
 * that guarantees a fit is non-empty; a search otherwise (vmem.c section 2).
 * 0; -MMK_EINVAL for size 0, unknown flags, two policies or a NULL addrp;
 * -MMK_ENOMEM when nothing fits, no tag can be had or the import fails.
 * Nothing changes on error except the quantum caches (see the top).
 */
int vmem_alloc(struct vmem *vm, uint64_t size, unsigned flags, uint64_t *addrp);

/*
 * Constrained allocation (paper: vmem_xalloc; the meaning of minaddr and
 * maxaddr is NetBSD's vmem_xalloc(9)): *addrp = a with
 *   a % align == phase           (align 0 = quantum; else a power of two and
 *                                 a quantum multiple; phase a quantum
 *                                 multiple below align),
 *   no multiple of nocross in (a, a + size)  (nocross 0 = none; else a power
 *                                 of two >= size rounded to the quantum),
 *   a >= minaddr, a + size <= maxaddr        (maxaddr 0 = no limit: maxaddr
 *                                 is "highest address + 1").
 * size is rounded up to the quantum.  The policy flags choose among the
 * fits as for vmem_alloc.  Never served by the quantum caches.  Imports from
 * the source (oversized so that align/phase can be met) only when nocross,
 * minaddr and maxaddr are all 0.  Locking as vmem_alloc.  Free with
 * vmem_xfree (vmem_free also works).
 * 0; -MMK_EINVAL for size 0, bad align/phase/nocross, minaddr > maxaddr
 * (when maxaddr != 0), unknown flags or two policies, NULL addrp;
 * -MMK_ENOMEM when nothing fits (also an empty window).  Nothing changes on
 * error except the quantum caches.
 */
int vmem_xalloc(struct vmem *vm, uint64_t size, uint64_t align, uint64_t phase, uint64_t nocross,
		uint64_t minaddr, uint64_t maxaddr, unsigned flags, uint64_t *addrp);

/*
 * Free [addr, addr + size) that vmem_alloc or vmem_xalloc returned (paper:
 * vmem_free); size as passed to the allocation (it is rounded the same way).
 * Sizes up to qcache_max quanta are parked in their quantum cache while it
 * has room; otherwise as vmem_xfree.  Locking: takes vm->lock (and, when a
 * span goes back, the source's).  O(1) expected (hash lookup).
 * -MMK_EINVAL (nothing changed) when addr is not the start of a held
 * segment of that size: a foreign or interior address, a wrong size, size
 * 0, or a double free (also of a segment parked in a quantum cache).
 */
int vmem_free(struct vmem *vm, uint64_t addr, uint64_t size);

/*
 * Free a segment straight to the arena, bypassing the quantum caches
 * (paper: vmem_xfree): coalesces with its free neighbours in O(1) and gives
 * a wholly free imported span back to the source at once.  Locking and
 * errors as vmem_free.
 */
int vmem_xfree(struct vmem *vm, uint64_t addr, uint64_t size);

/*
 * Empty the quantum caches into the arena (illumos: vmem_qcache_reap),
 * coalescing and releasing imported spans as vmem_xfree does.  Locking:
 * takes vm->lock.  Returns the units moved from cached to free.
 */
uint64_t vmem_reap(struct vmem *vm);

/* Walk masks: which segments vmem_walk visits. */
#define VMEM_WALK_SPAN 0x1u
#define VMEM_WALK_FREE 0x2u
#define VMEM_WALK_ALLOC 0x4u   /* held by callers */
#define VMEM_WALK_CACHED 0x8u  /* allocated, parked in a quantum cache */
#define VMEM_WALK_ALL 0xfu

/* One segment [start, start + size), units of the arena; type is one
 * VMEM_WALK_* bit. */
typedef void vmem_walk_fn(void *arg, uint64_t start, uint64_t size, unsigned type);

/*
 * Call fn for each segment whose type is in mask, in address order (each
 * span marker before the segments that tile it) (illumos: vmem_walk).
 * Locking: fn runs with vm->lock held and must not call into vm.  O(segments).
 */
void vmem_walk(struct vmem *vm, unsigned mask, vmem_walk_fn *fn, void *arg);

/* A snapshot of the counters into *st, taken under vm->lock; st->name
 * points into *vm (valid until vmem_destroy).  O(1). */
void vmem_get_stats(struct vmem *vm, struct vmem_stats *st);

/*
 * Re-derive every invariant (vmem.c, section 3): the address list is sorted
 * and tiles each span without overlap or gap; no two neighbouring free
 * segments; the free lists hold exactly the free segments, each in its size
 * class, and freemap matches; the hash holds exactly the allocated segments,
 * each in its bucket; the quantum caches hold exactly the QCACHED segments of
 * their class; no imported span is wholly free; the tag count adds up;
 * counters equal recounts.  Locking: takes vm->lock.  O(segments + buckets).
 * 0, or -MMK_EINVAL with *why (a static string; why may be NULL).
 */
int vmem_check(struct vmem *vm, const char **why);

#endif
