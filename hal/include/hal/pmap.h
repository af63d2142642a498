/*
 * hal/pmap.h - the hardware contract, part 3: pmap, the hardware-dependent map
 * of one address space (seed 003: "the pmap abstraction ... its most important
 * function is pmap_enter()"; the interface follows BSD pmap(9)).
 *
 * A pmap translates page-aligned virtual addresses of the user half of a
 * 48-bit x86-64-style address space, [0, PMAP_USER_END), to physical frames.
 * Page-table pages come from the core's frame allocator through the
 * pmap_pt_source given at creation, and are counted in pt_pages.
 *
 * TLB: every pmap function that removes or weakens a translation invalidates
 * it on every CPU where the pmap is active before returning (shootdown).
 * Adding a translation or strengthening one needs no invalidation: a stale
 * "not present" entry faults and the fault handler finds the new entry.
 *
 * Locking: the caller holds the lock of the address space that owns the pmap
 * (vm_space.lock); the pmap takes no lock of its own.
 */
#ifndef HAL_PMAP_H
#define HAL_PMAP_H

#include <hal/hal.h>

#define PMAP_USER_END ((vaddr_t)0x800000000000ull) /* first non-canonical user address */

/* Protection of a translation (bits; PMAP_PROT_NONE means not accessible). */
#define PMAP_PROT_NONE 0u
#define PMAP_PROT_READ 1u
#define PMAP_PROT_WRITE 2u
#define PMAP_PROT_EXEC 4u
#define PMAP_PROT_USER 8u /* accessible from user mode */
#define PMAP_PROT_ALL 15u

/* Hardware-maintained status bits reported by extract and remove. */
#define PMAP_ACCESSED 0x10u
#define PMAP_DIRTY 0x20u

/* Access kinds, as in an x86 page-fault error code's intent. */
#define PMAP_ACCESS_READ 1u
#define PMAP_ACCESS_WRITE 2u
#define PMAP_ACCESS_EXEC 4u

/*
 * Where page-table pages come from.  alloc returns 0 and one frame's physical
 * address (the pmap zeroes it), or -MMK_ENOMEM; free gives one back.
 */
struct pmap_pt_source {
	int (*alloc)(void *ctx, paddr_t *out);
	void (*free)(void *ctx, paddr_t pa);
	void *ctx;
};

/* The machine-independent part of a pmap; embed it in the address space. */
struct pmap {
	struct hal_machine *machine;
	paddr_t root;                 /* top-level table (CR3) */
	struct pmap_pt_source pt;     /* page-table page source */
	size_t pt_pages;              /* page-table pages held, root included */
	size_t resident;              /* leaf translations present */
	void *owner;                  /* handed to the fault handler (the vm_space) */
	uint64_t active_cpus;         /* bit i: active on CPU i */
	bool tlb_pending;             /* pmap_remove_deferred left stale TLB entries for pmap_tlb_sync */
};

/* Called back once per translation that pmap_remove takes away, with its
 * frame and PMAP_ACCESSED / PMAP_DIRTY bits. */
typedef void (*pmap_visit_fn)(void *ctx, vaddr_t va, paddr_t pa, unsigned bits);

/* Make an empty pmap: allocates the root table.  0, or -MMK_ENOMEM. */
int pmap_create(struct pmap *pm, struct hal_machine *m, const struct pmap_pt_source *src, void *owner);

/* Free every page-table page.  Precondition: no translation is left
 * (resident == 0) and the pmap is active nowhere; else -MMK_EBUSY and nothing
 * is freed. */
int pmap_destroy(struct pmap *pm);

/*
 * Map the page at va to frame pa with prot (PMAP_PROT_* bits), replacing any
 * translation there (the old one is invalidated).  va and pa page-aligned,
 * va < PMAP_USER_END: else -MMK_EINVAL.  -MMK_ENOMEM when a page-table page
 * cannot be had; nothing changed then.  As BSD pmap_enter(9).
 */
int pmap_enter(struct pmap *pm, vaddr_t va, paddr_t pa, unsigned prot);

/*
 * Remove every translation in [start, end) (page-aligned), calling fn (if not
 * NULL) for each, and free page-table pages left empty.  Skips empty tables
 * without visiting their entries.  Returns the number of translations removed.
 */
size_t pmap_remove(struct pmap *pm, vaddr_t start, vaddr_t end, pmap_visit_fn fn, void *ctx);

/*
 * pmap_remove with the TLB invalidations deferred (Linux's mmu_gather, BSD
 * pmap(9)'s deferred pmap_update): the translations go as with pmap_remove
 * and fn sees each, but CPUs where pm is active may keep using stale TLB
 * entries until pmap_tlb_sync(pm).  So until then fn and the caller must
 * not free or reuse the frames, and the caller keeps the space lock from
 * the first deferred removal to the sync.  Batched revocation uses it to
 * send one shootdown per address space instead of one per page.  Returns
 * the number of translations removed.
 */
size_t pmap_remove_deferred(struct pmap *pm, vaddr_t start, vaddr_t end, pmap_visit_fn fn, void *ctx);

/*
 * Complete the invalidations pmap_remove_deferred left: one shootdown to
 * every CPU where pm is active, flushing that CPU's TLB entries of pm.
 * Returns true when invalidations were pending (a shootdown went to the
 * CPUs in active_cpus, possibly none); false, and nothing sent, otherwise.
 */
bool pmap_tlb_sync(struct pmap *pm);

/* Visit every translation in [start, end) in address order without changing
 * it, skipping empty tables; fn gets the frame and PMAP_PROT_* |
 * PMAP_ACCESSED | PMAP_DIRTY bits.  Returns the number visited.  For fork,
 * checkers and statistics. */
size_t pmap_walk(const struct pmap *pm, vaddr_t start, vaddr_t end, pmap_visit_fn fn, void *ctx);

/* Set the protection of every present translation in [start, end) to prot
 * (PMAP_PROT_NONE keeps the translation but makes it inaccessible).  Returns
 * the number of translations changed. */
size_t pmap_protect(struct pmap *pm, vaddr_t start, vaddr_t end, unsigned prot);

/* The translation of the page holding va: 0 with *pa (frame address) and
 * *bits (PMAP_PROT_* | PMAP_ACCESSED | PMAP_DIRTY), or -MMK_ENOENT. */
int pmap_extract(const struct pmap *pm, vaddr_t va, paddr_t *pa, unsigned *bits);

/* Clear PMAP_ACCESSED / PMAP_DIRTY of the translation at va and return
 * whether it was set (false when there is no translation). */
bool pmap_clear_accessed(struct pmap *pm, vaddr_t va);
bool pmap_clear_dirty(struct pmap *pm, vaddr_t va);

/* Make pm the address space of CPU cpu (load CR3; flushes that CPU's TLB). */
void pmap_activate(struct pmap *pm, unsigned cpu);
/* Stop using pm on CPU cpu. */
void pmap_deactivate(struct pmap *pm, unsigned cpu);

/* Invalidate the translation of va on every CPU where pm is active. */
void pmap_tlb_invalidate(struct pmap *pm, vaddr_t va);

/*
 * Walk the tables and re-derive pt_pages and resident; 0 when they match and
 * every entry is well formed, else -MMK_EINVAL with *why naming the broken
 * invariant.
 */
int pmap_check(const struct pmap *pm, const char **why);

#endif
