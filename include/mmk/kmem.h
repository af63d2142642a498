/*
 * mmk/kmem.h - object caches for mmk's own structures: the slab allocator of
 * Bonwick ("The Slab Allocator", USENIX 1994) with the per-CPU magazine
 * layer and depot of Bonwick and Adams ("Magazines and Vmem", USENIX 2001).
 *
 * A cache hands out fixed-size objects carved from slabs; a slab is a block
 * of kernel-owned frames from the buddy allocator (seed 002: the kernel only
 * uses frames it owns and fails with ENOMEM when it has none).  Every frame
 * of a slab points back at its slab header through mmk_frame.private_data,
 * so kmem_cache_free finds the slab of any pointer and rejects foreign ones.
 * Above the slabs, each CPU holds two magazines (stacks of free objects)
 * and a depot keeps full and empty magazines for all CPUs, so the common
 * alloc/free touches only the calling CPU's state.
 *
 * Locking (src/kmem/cache.c, section 4, has the whole story): the common
 * alloc/free pins the caller to its CPU (hal_cpu_pin) and touches that
 * CPU's magazines with no lock and no atomic read-modify-write on them;
 * the slow paths take per-CPU lock -> depot.lock -> lock (the slab layer)
 * -> the slab lock of the cache's magazine caches -> phys.lock.  Other
 * CPUs' magazines are emptied only by kmem_cache_drain and
 * kmem_cache_destroy, whose contract keeps those CPUs out of the cache.
 * Constructors, destructors and the report sink are called with no kmem
 * lock held.
 */
#ifndef MMK_KMEM_H
#define MMK_KMEM_H

#include <hal/lock.h>
#include <mmk/phys.h>

struct kmem_slab;      /* private to src/kmem */
struct kmem_magazine;  /* private to src/kmem */
struct kmem_cpu_cache; /* private to src/kmem */

struct kmem_slab_list {
	struct kmem_slab *head;
	size_t count;
};

/* ---- misuse and corruption reports ---- */

enum kmem_error {
	KMEM_ERR_FOREIGN = 1,  /* free of a pointer inside no slab at all */
	KMEM_ERR_WRONG_CACHE,  /* free of an object of another cache */
	KMEM_ERR_INTERIOR,     /* inside a slab of this cache, not an object's start */
	KMEM_ERR_DOUBLE_FREE,  /* free of an object that is free already */
	KMEM_ERR_TAG,          /* a debug buffer tag neither "allocated" nor "free" */
	KMEM_ERR_REDZONE,      /* bytes past the object's end overwritten */
	KMEM_ERR_POISON,       /* a free object written after its free (found on reuse) */
};

/*
 * One report.  Pointers are valid only during the callback.  slab is the
 * header address of the slab concerned (NULL for KMEM_ERR_FOREIGN); offset
 * is the first bad byte from the object's start (REDZONE, POISON), the
 * state word's offset (TAG, and DOUBLE_FREE in a debug cache), the distance
 * from the slab's first object (INTERIOR), else 0; line is the formatted
 * message, NUL-terminated, without a newline.
 */
struct kmem_report {
	enum kmem_error kind;
	const char *cache;       /* name of the cache that found it */
	const char *other_cache; /* KMEM_ERR_WRONG_CACHE: the owner's name, else NULL */
	const void *slab;
	const void *obj;
	size_t offset;
	const char *line;
};

/* Report sink; called with no kmem lock held, possibly on any CPU. */
typedef void (*kmem_report_fn)(void *arg, const struct kmem_report *r);

/*
 * Constructor and destructor (Bonwick 1994): ctor brings raw memory into
 * the object's constructed state, 0 or a negative error (the allocation that
 * needed it then fails with NULL); dtor undoes it.  Both run with no kmem
 * lock held.  Without KMEM_DEBUG_POISON, ctor runs once per object when its
 * slab is created and dtor once when the slab is freed: a freed object keeps
 * its constructed state through the magazines and the slab and comes back
 * from kmem_cache_alloc as the user left it.  With KMEM_DEBUG_POISON a free
 * object holds the poison pattern instead, so ctor runs on every allocation
 * and dtor on every free.
 */
typedef int (*kmem_ctor_fn)(void *obj, void *arg);
typedef void (*kmem_dtor_fn)(void *obj, void *arg);

/* ---- cache flags (kmem_cache_create) ---- */

#define KMEM_NOMAGAZINE 0x01u    /* no per-CPU layer: every call takes the slab lock */
#define KMEM_ZERO 0x02u          /* every object zero-filled by kmem_cache_alloc (no ctor) */
#define KMEM_STATS 0x04u         /* count every call the CPU layer serves (kmem_stats allocs,
                                    frees, cpu_*_hits), as Linux's CONFIG_SLUB_STATS: the
                                    count costs about a tenth of an alloc+free pair */
#define KMEM_DEBUG_STATE 0x10u   /* a tag after each object says allocated or free: every
                                    double free is caught, even one whose first free still
                                    sits in a magazine */
#define KMEM_DEBUG_REDZONE 0x20u /* red zone after each object, checked on free, on reuse
                                    and by kmem_cache_check (implies STATE) */
#define KMEM_DEBUG_POISON 0x40u  /* free objects filled with a pattern, checked on reuse
                                    and by kmem_cache_check (implies STATE) */
#define KMEM_DEBUG_ALL (KMEM_DEBUG_STATE | KMEM_DEBUG_REDZONE | KMEM_DEBUG_POISON)
#define KMEM_FLAGS_ALL (KMEM_NOMAGAZINE | KMEM_ZERO | KMEM_STATS | KMEM_DEBUG_ALL)

/* Byte patterns of the debug features (as illumos kmem's). */
#define KMEM_POISON_PATTERN 0xdeadbeefdeadbeefull  /* a free object */
#define KMEM_UNINIT_PATTERN 0xbaddcafebaddcafeull  /* a new object without ctor or ZERO */
#define KMEM_REDZONE_PATTERN 0xfeedfacefeedfaceull /* past the object's end */

/* ---- the depot (Bonwick and Adams 2001, section 3) ---- */

/*
 * Full and empty magazines shared by all CPUs, with the working-set
 * estimate of section 3.6: min_* is the lowest count seen in the current
 * update interval, reap_* the lowest of the previous one: that many
 * magazines sat unused for a whole interval and can be freed.
 * Everything here is guarded by lock.
 */
struct kmem_depot {
	struct hal_spinlock lock;
	struct kmem_magazine *full, *empty; /* singly linked stacks */
	uint64_t nfull, nempty;
	uint64_t min_full, min_empty;   /* minimum counts this interval */
	uint64_t reap_full, reap_empty; /* idle through the last whole interval */
	uint64_t contention;            /* lock acquisitions that had to wait, this interval */
	uint64_t contention_total;
	uint64_t full_gets, empty_gets;  /* magazines handed to CPUs */
	uint64_t full_puts, empty_puts;  /* magazines taken back from CPUs */
	uint64_t resizes;                /* magazine size increases */
};

/* Magazine size classes: rounds per magazine (a magazine is 16 + 8*rounds
 * bytes, a power of two: 64 .. 2048). */
#define KMEM_MAG_CLASSES 6u

/* ---- the cache ---- */

struct kmem_cache {
	/* Set by init, read-only afterwards. */
	const char *name;          /* static string, for reports */
	struct phys *phys;         /* frame source (and its failpoint) */
	struct hal_machine *machine; /* phys->machine, one load nearer the fast path */
	bool unpin;                /* hal_cpu_unpin_needed(machine) */
	bool plain;                /* magazines, no debug, no zeroing, no unpin: the fast paths serve it */
	struct mmk_failpoint *failpoint; /* phys->failpoint (else no_failpoint): one load nearer */
	struct mmk_failpoint no_failpoint; /* never armed: for a phys without a failpoint */
	unsigned flags;            /* KMEM_* */
	kmem_ctor_fn ctor;
	kmem_dtor_fn dtor;
	void *arg;                 /* for ctor and dtor */
	kmem_report_fn report;     /* NULL: one line on hal_console_write */
	void *report_arg;
	size_t size;               /* bytes the user asked for */
	size_t obj_size;           /* bytes per buffer (object, red zone, tag), rounded to align */
	size_t align;              /* bytes, power of two >= 8 */
	size_t tag_off;            /* debug: red zone/tag start (size rounded to 8) */
	size_t state_off;          /* debug: offset of the allocated/free state word */
	unsigned slab_order;       /* frames per slab = 2^slab_order */
	unsigned objs_per_slab;    /* <= KMEM_MAX_OBJS_PER_SLAB */
	size_t first_obj;          /* byte offset of object 0 in an uncoloured slab */
	size_t colour_step, colour_max; /* colours 0, step, 2*step, ... <= max (bytes) */
	uint64_t div_magic;        /* ceil(2^40 / obj_size): offset -> index without a divide */
	uintptr_t dm_lo, dm_hi;    /* direct map of the frame database's span */
	struct mmk_frame *frames;  /* phys->frames: one load nearer the free path */
	uintptr_t dm_bias;         /* physical minus direct-map address (mod 2^64) */
	uintptr_t slab_mask;       /* slab bytes - 1 */
	unsigned ncpus;            /* per-CPU caches (hal_cpu_count at init); 0: none */
	unsigned mag_class_max;    /* largest magazine class this cache may grow to */
	struct kmem_cpu_cache *cpu; /* ncpus entries, in frames of its own; NULL if none */
	struct kmem_cache *mag_cache; /* KMEM_MAG_CLASSES caches of magazines (same frames) */
	pfn_t cpu_pfn;             /* those frames */
	unsigned cpu_order;

	/* The magazine layer. */
	_Atomic unsigned mag_class; /* class of new magazines (grows with contention,
	                               written under depot.lock) */
	struct kmem_depot depot;

	/* The slab layer: all guarded by lock. */
	struct hal_spinlock lock;
	struct kmem_slab_list partial, full, empty;
	size_t colour_next;        /* colour of the next slab */
	uint64_t slab_allocs;      /* objects handed to users straight from slabs */
	uint64_t slab_frees;       /* objects users gave straight back to slabs */
	uint64_t slabs_created, slabs_freed;

	_Atomic uint64_t errors;   /* reports made */
	uint32_t magic;            /* KMEM_CACHE_MAGIC while initialised */
};

#define KMEM_MAX_OBJS_PER_SLAB 256u
#define KMEM_MAX_OBJ_SIZE (64u * 1024u)

/*
 * Initialise cache c for objects of size bytes aligned to align (0 = 8),
 * with constructor/destructor (either may be NULL; arg goes to both) and
 * KMEM_* flags (as Bonwick's kmem_cache_create).  Unless KMEM_NOMAGAZINE,
 * one block of kernel frames is taken now for the per-CPU caches of
 * hal_cpu_count CPUs; slabs come at the first allocation.
 * 0; -MMK_EINVAL for size 0, size > KMEM_MAX_OBJ_SIZE, align not a power of
 * two or above a page, unknown flags, or KMEM_ZERO with a ctor;
 * -MMK_ENOMEM when the per-CPU frames cannot be had (c is then unusable).
 * Not thread-safe: c must not be in use.
 */
int kmem_cache_create(struct kmem_cache *c, struct phys *ph, const char *name, size_t size, size_t align,
		      kmem_ctor_fn ctor, kmem_dtor_fn dtor, void *arg, unsigned flags);

/*
 * The first cut's interface, kept: kmem_cache_create with no ctor/dtor and
 * KMEM_NOMAGAZINE | KMEM_ZERO, so nothing is allocated until the first
 * kmem_cache_alloc, objects come zero-filled, every free goes straight back
 * to its slab (double frees always caught) and kmem_cache_reap gives back
 * every frame that holds no live object.  0 or -MMK_EINVAL.
 */
int kmem_cache_init(struct kmem_cache *c, struct phys *ph, const char *name, size_t size, size_t align);

/* Route reports of c to fn(arg, report) instead of the console.  Call before
 * c is shared with other CPUs. */
void kmem_cache_set_report(struct kmem_cache *c, kmem_report_fn fn, void *arg);

/*
 * Destroy cache c: drain every CPU's magazines and the depot, free every
 * slab (destructing its objects), the magazines and the per-CPU frames.
 * -MMK_EBUSY (and nothing changed) while users hold objects.  Contract: no
 * other CPU is inside any call on c, and none will be (c is dead after 0);
 * whatever keeps them out (a barrier, a join, a parked CPU) must also order
 * their earlier calls before this one: their magazines are emptied from
 * here, without their cooperation.
 */
int kmem_cache_destroy(struct kmem_cache *c);

/*
 * One object: constructed (ctor), zero-filled (KMEM_ZERO), or with
 * undefined contents; NULL when no kernel frame can be had (ENOMEM), when
 * the failpoint of c->phys fires (consulted first, while it is armed, then
 * again by phys_alloc if a slab is needed) or when the ctor fails.  Any CPU; the
 * common case takes no lock: pinned to its CPU (hal_cpu_pin), it pops a
 * round from that CPU's loaded magazine.
 */
void *kmem_cache_alloc(struct kmem_cache *c);

/*
 * Give obj back (any CPU, also one that did not allocate it; the common
 * case takes no lock, as kmem_cache_alloc's).
 * -MMK_EINVAL for a pointer that is not an object of this cache (foreign,
 * interior, another cache's, a corrupt debug tag); -MMK_EALREADY for a
 * double free.  On error nothing changes and a report names the cache and
 * the slab.  Double frees are always caught with KMEM_DEBUG_STATE (or any
 * debug flag) and with KMEM_NOMAGAZINE; otherwise the magazine fast path
 * reads no per-object state, so free cannot see one: kmem_cache_check does
 * (a round free in its slab or held twice), and reports it when flushed.
 * A red zone found overwritten is reported and repaired; the free succeeds.
 */
int kmem_cache_free(struct kmem_cache *c, void *obj);

/*
 * Reclaim under memory pressure (Bonwick and Adams 2001, 3.6): free the
 * depot magazines that stayed unused through the last whole update interval
 * (the working set is kept), returning their objects to their slabs, then
 * give every empty slab back to the frame allocator.  CPUs' own magazines
 * are not touched.  Returns frames freed.  Any CPU, concurrently with
 * alloc/free.  For a KMEM_NOMAGAZINE cache: every empty slab.
 */
size_t kmem_cache_reap(struct kmem_cache *c);

/*
 * Periodic update (the paper's 15-second kmem_cache_update): close the
 * working-set interval (reap_* = min_*, min_* = current counts) and, when
 * the depot lock was contended more than KMEM_DEPOT_CONTENTION times in the
 * interval, move new magazines to the next size class: the depot's old
 * magazines and the calling CPU's are drained at once, every other CPU
 * drains its own old ones lazily, as they leave it for the depot in its
 * slow path (never touched from here).  Any CPU, concurrently with
 * alloc/free.
 */
void kmem_cache_update(struct kmem_cache *c);
#define KMEM_DEPOT_CONTENTION 3u

/*
 * Flush everything: every CPU's magazines and the whole depot back to the
 * slabs, then free every empty slab and magazine slab.  Returns frames
 * freed; afterwards only slabs holding live objects keep frames (leak
 * baselines use this).  Contract (as destroy's): no other CPU is inside a
 * call on c while it runs, and whatever keeps them out orders their
 * earlier calls before it, because it empties their magazines without
 * their cooperation (their fast path takes no lock).  For reclaim
 * concurrent with alloc/free use kmem_cache_reap.  A KMEM_NOMAGAZINE cache
 * has no CPU magazines and is drained concurrently with alloc/free.
 */
size_t kmem_cache_drain(struct kmem_cache *c);

/*
 * Re-derive: each slab is on the list that matches its use count, the
 * object bitmap matches the use count, colours are in range, frames point
 * back at their slab; every magazine round is an object of this cache that
 * is out of its slab, held by one magazine only; depot counts equal
 * recounts; live = objects out of slabs - objects in magazines; counters
 * agree; with debug flags every free object's tag, poison and red zone and
 * every live object's tag and red zone are intact.  0, or -MMK_EINVAL with
 * *why.  Contract: no other CPU is inside a call on c (it reads their
 * magazines and the objects in them, which their fast path changes with no
 * lock), ordered as for kmem_cache_drain; none for a KMEM_NOMAGAZINE cache.
 */
int kmem_cache_check(struct kmem_cache *c, const char **why);

/* ---- statistics (/proc/slabinfo) ---- */

struct kmem_stats {
	const char *name;
	size_t size, obj_size, align;
	unsigned objs_per_slab, pages_per_slab;
	uint64_t live;            /* objects held by users */
	uint64_t in_magazines;    /* objects in CPU and depot magazines */
	uint64_t objs_out;        /* out of slabs: live + in_magazines */
	uint64_t objs_total;      /* slabs * objs_per_slab */
	uint64_t slabs, slabs_partial, slabs_full, slabs_empty;
	uint64_t slabs_created, slabs_freed;
	uint64_t slab_frames;     /* frames held by slabs */
	uint64_t mag_frames;      /* frames held by magazine slabs and per-CPU caches */
	uint64_t mag_size;        /* rounds of new magazines; 0 without magazines */
	uint64_t mag_resizes;
	uint64_t depot_full, depot_empty, depot_contention;
	uint64_t depot_rounds;    /* objects in depot magazines */
	uint64_t allocs, frees;   /* calls that succeeded; with a CPU layer, only
	                             KMEM_STATS caches count the calls it serves */
	uint64_t cpu_alloc_hits, cpu_free_hits; /* served by the calling CPU's magazines
	                                           (KMEM_STATS caches only) */
	uint64_t errors;          /* reports */
};

/* Fill st from c, taking each lock in turn; any CPU, concurrently with
 * alloc/free (a consistent snapshot only when no other CPU is inside a
 * call on c). */
void kmem_cache_stats(struct kmem_cache *c, struct kmem_stats *st);

/*
 * Objects held by users of c: objects out of slabs minus rounds in
 * magazines (kmem_stats live).  Counted, not kept: the fast paths write no
 * shared word (a locked add on every call cost more than the rest of the
 * pair).  Exact when no other CPU is inside a call on c; takes every lock
 * of c in turn (kmem_cache_stats), so it is for teardown and checks.
 */
uint64_t kmem_cache_live(struct kmem_cache *c);

/*
 * One /proc/slabinfo-like line (slabinfo 2.1 fields, then mmk's) for st, or
 * the header line when st is NULL, NUL-terminated, into buf[len].  Returns
 * the line's length (without the NUL), or -MMK_ENOSPC when len is too short
 * (buf then holds as much as fits, NUL-terminated, when len > 0).
 */
int kmem_stats_format(const struct kmem_stats *st, char *buf, size_t len);

#endif
