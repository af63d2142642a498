/*
 * pagetable.h - the x86-64 4-level page-table engine behind both pmap
 * backends: hal/x86_64 (the CPU's own MMU) and hal/sim (a software MMU that
 * walks the same tables).  pagetable.c implements hal/pmap.h's table work
 * (create, destroy, enter, remove, walk, protect, extract, accessed/dirty)
 * once; each backend supplies what differs between a real and a simulated
 * CPU through the five hooks below, plus activation and its checker's
 * storage.
 *
 * Locking: as hal/pmap.h (the owning space's lock); entries are changed
 * atomically because page walkers (real or simulated CPUs) set A and D
 * concurrently.
 */
#ifndef HAL_X86_64_PAGETABLE_H
#define HAL_X86_64_PAGETABLE_H

#include <hal/pmap.h>

/* ---- hooks: each backend defines these ---- */

/* Invalidate the translation of va on every CPU where pm is active. */
void x86_pt_shootdown(struct pmap *pm, vaddr_t va);
/* A table page under va was unlinked from pm and is about to be freed:
 * drop cached upper-level entries (a CPU's paging-structure caches). */
void x86_pt_table_unlinked(struct pmap *pm, vaddr_t va);
/* Flush every TLB entry of pm on every CPU where it is active: the one
 * shootdown that completes deferred removals (pmap_tlb_sync). */
void x86_pt_shootdown_all(struct pmap *pm);
/* End of RAM: page-table pages must lie below it. */
paddr_t x86_pt_ram_end(struct hal_machine *m);
/* The root whose entries 256..511 (the kernel half) every pmap copies at
 * creation and must keep, or NULL: the kernel half stays empty. */
const uint64_t *x86_pt_kernel_root(struct hal_machine *m);

/* ---- for the backends ---- */

/* The leaf slot of va (< PMAP_USER_END) in pm, or NULL when a table on the
 * way is missing. */
uint64_t *x86_pt_leaf_slot(const struct pmap *pm, vaddr_t va);

/*
 * The checker (pmap_check's invariants, pagetable.c section 3), with the
 * caller's storage for the table addresses it must compare: seen[cap].
 * 0; -MMK_EINVAL with *why; or -MMK_ENOSPC when pm has more table pages
 * than cap (their number in *tables; call again with room for them).
 */
int x86_pt_check(const struct pmap *pm, paddr_t *seen, size_t cap, size_t *tables, const char **why);

#endif
