/*
 * pmap.c - hal/x86_64's pmap: the user half of the CPU's own page tables.
 *
 * The tables themselves are pagetable.c's (shared with hal/sim, whose pmap
 * is the contract's reference; the same contract tests,
 * tests/unit/test_sim_pmap.c, run against this one in the kernel).  This
 * file answers its hooks for a real CPU and does what only a real CPU
 * can: load CR3.
 *
 * 1. Kernel half.  Every pmap copies root entries 256..511 of the kernel's
 *    root (boot.S's PML4) at creation.  The kernel regions are whole PML4
 *    entries fixed before the first pmap (x86_64.h), so the copies never
 *    go stale.
 * 2. TLB.  One CPU: a shootdown is an invlpg when the pmap is the one in
 *    CR3; an inactive pmap needs nothing (loading CR3 flushes its
 *    non-global entries, and user entries are never global).  Unlike the
 *    sim, the CPU also caches upper-level entries (paging-structure
 *    caches, SDM 4.10.3): before a table page of the active pmap is freed,
 *    an invlpg under it drops them all (SDM 4.10.4.1: invlpg invalidates
 *    every paging-structure-cache entry).
 * 3. Activation writes CR3 and can only name the current CPU; so does
 *    pmap_tlb_sync's shootdown of a batch of deferred removals.
 * 4. The checker keeps the addresses of up to X86_CHECK_TABLES table pages
 *    in static storage (one CPU, no interrupts: never reentered); a pmap
 *    with more is reported as too large to check.
 * Locking: the owning space's lock, as hal/pmap.h.
 */
#include <mmk/errno.h>

#include "cpu.h"
#include "pagetable.h"
#include "pte.h"
#include "x86_64.h"

#define X86_CHECK_TABLES 4096u

static bool active_here(const struct pmap *pm) { return pm->machine->current == pm; }

void x86_pt_shootdown(struct pmap *pm, vaddr_t va)
{
	if (active_here(pm)) {
		x86_invlpg(va);
		pm->machine->stats.invlpg++;
	}
}

/* Reloading CR3 flushes every non-global entry, and user entries are never
 * global. */
void x86_pt_shootdown_all(struct pmap *pm)
{
	if (active_here(pm)) {
		x86_write_cr3(pm->root);
		pm->machine->stats.cr3_loads++;
	}
}

void x86_pt_table_unlinked(struct pmap *pm, vaddr_t va) { x86_pt_shootdown(pm, va); }

paddr_t x86_pt_ram_end(struct hal_machine *m) { return m->ram_top; }

const uint64_t *x86_pt_kernel_root(struct hal_machine *m) { return hal_phys_map(m, m->kernel_root); }

uint64_t *x86_pte_ptr(const struct pmap *pm, vaddr_t va)
{
	return va < PMAP_USER_END ? x86_pt_leaf_slot(pm, va) : NULL;
}

static void check_cpu(struct pmap *pm, unsigned cpu)
{
	if (cpu >= X86_MAX_CPUS || cpu != hal_cpu_id(pm->machine))
		hal_panic(pm->machine, "pmap: CR3 can only be loaded on the current CPU");
}

void pmap_activate(struct pmap *pm, unsigned cpu)
{
	check_cpu(pm, cpu);
	struct hal_machine *m = pm->machine;
	if (m->current && m->current != pm)
		m->current->active_cpus &= ~((uint64_t)1 << cpu);
	m->current = pm;
	pm->active_cpus |= (uint64_t)1 << cpu;
	x86_write_cr3(pm->root);
	m->stats.cr3_loads++;
}

/* Back to the kernel root: the user half is empty on this CPU. */
void pmap_deactivate(struct pmap *pm, unsigned cpu)
{
	check_cpu(pm, cpu);
	struct hal_machine *m = pm->machine;
	if (m->current == pm) {
		m->current = NULL;
		x86_write_cr3(m->kernel_root);
		m->stats.cr3_loads++;
	}
	pm->active_cpus &= ~((uint64_t)1 << cpu);
}

void pmap_tlb_invalidate(struct pmap *pm, vaddr_t va) { x86_pt_shootdown(pm, mmk_page_round_down(va)); }

int pmap_check(const struct pmap *pm, const char **why)
{
	static paddr_t seen[X86_CHECK_TABLES];
	size_t tables;
	int rc = x86_pt_check(pm, seen, X86_CHECK_TABLES, &tables, why);
	if (rc == -MMK_ENOSPC) {
		if (why)
			*why = "pmap has too many table pages for the checker";
		rc = -MMK_EINVAL;
	}
	return rc;
}
