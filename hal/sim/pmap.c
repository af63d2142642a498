/*
 * pmap.c - hal/sim's pmap: x86-64 4-level page tables in simulated RAM.
 *
 * Theory of operation.
 *
 * 1. What.  A pmap is the hardware-dependent map of one user address space
 *    [0, PMAP_USER_END) (hal/pmap.h).  The tables are built by
 *    hal/x86_64/pagetable.c, the engine the real-MMU backend uses too, so
 *    they are exactly what an x86-64 CPU would walk; sim_access (mmu.c)
 *    plays that CPU.  This file answers the engine's hooks for the
 *    simulated machine and does activation: the structures, invariants,
 *    TLB and failure policies are pagetable.c's sections 2, 3, 5 and 6.
 *
 * 2. The sim's answers.  No kernel half: root entries 256..511 stay zero
 *    (invariant 3e).  RAM ends at sim_ram_bytes.  A shootdown invalidates
 *    the page in the TLB of every CPU in active_cpus (tlb.c).  Only leaf
 *    translations are cached (no paging-structure caches), so unlinking a
 *    table needs no invalidation of its own.  Activation loads "CR3": a
 *    full flush of that CPU's TLB.
 *
 * 3. Locking.  The caller holds the lock of the owning address space; the
 *    simulated CPUs are concurrent readers (and A/D writers) of the
 *    entries, which the engine changes atomically.  active_cpus changes
 *    atomically (activation may run on any CPU).  Each CPU's TLB is
 *    guarded by that CPU's lock (tlb.c).
 *
 * 4. The checker's table list grows on the host heap as needed.
 *
 * 5. Sources.  Intel SDM vol. 3A ch. 4; BSD pmap(9); Linux's PROT_NONE PTE.
 */
#define _DEFAULT_SOURCE

#include <mmk/errno.h>
#include <stdlib.h>

#include "../x86_64/pagetable.h"
#include "sim_impl.h"

void x86_pt_shootdown(struct pmap *pm, vaddr_t va)
{
	sim_tlb_shootdown(pm->machine, __atomic_load_n(&pm->active_cpus, __ATOMIC_SEQ_CST), va);
}

/* The sim's TLBs hold only the active pmap's entries (activation flushes),
 * so flushing a CPU's whole TLB drops exactly pm's stale entries there. */
void x86_pt_shootdown_all(struct pmap *pm)
{
	sim_tlb_shootdown_flush(pm->machine, __atomic_load_n(&pm->active_cpus, __ATOMIC_SEQ_CST));
}

void x86_pt_table_unlinked(struct pmap *pm, vaddr_t va)
{
	(void)pm;
	(void)va;
}

paddr_t x86_pt_ram_end(struct hal_machine *m) { return sim_ram_bytes(m); }

const uint64_t *x86_pt_kernel_root(struct hal_machine *m)
{
	(void)m;
	return NULL;
}

uint64_t *sim_pte_ptr(const struct pmap *pm, vaddr_t va)
{
	if (va >= PMAP_USER_END)
		return NULL;
	return x86_pt_leaf_slot(pm, va);
}

/* ---- activation and invalidation ---- */

static struct sim_cpu *cpu_of(struct pmap *pm, unsigned cpu)
{
	if (cpu >= hal_cpu_count(pm->machine))
		hal_panic(pm->machine, "pmap: no such cpu");
	return &pm->machine->cpu[cpu];
}

void pmap_activate(struct pmap *pm, unsigned cpu)
{
	struct sim_cpu *c = cpu_of(pm, cpu);
	uint64_t bit = (uint64_t)1 << cpu;
	hal_spin_lock(&c->lock);
	if (c->cur && c->cur != pm)
		__atomic_fetch_and(&c->cur->active_cpus, ~bit, __ATOMIC_SEQ_CST);
	c->cur = pm;
	__atomic_fetch_or(&pm->active_cpus, bit, __ATOMIC_SEQ_CST);
	sim_tlb_flush_locked(c);
	hal_spin_unlock(&c->lock);
}

/* The CPU is left with no address space; its TLB is flushed, because
 * shootdowns of pm stop reaching it from now on. */
void pmap_deactivate(struct pmap *pm, unsigned cpu)
{
	struct sim_cpu *c = cpu_of(pm, cpu);
	hal_spin_lock(&c->lock);
	if (c->cur == pm) {
		c->cur = NULL;
		sim_tlb_flush_locked(c);
	}
	__atomic_fetch_and(&pm->active_cpus, ~((uint64_t)1 << cpu), __ATOMIC_SEQ_CST);
	hal_spin_unlock(&c->lock);
}

void pmap_tlb_invalidate(struct pmap *pm, vaddr_t va) { x86_pt_shootdown(pm, mmk_page_round_down(va)); }

/* ---- checker ---- */

int pmap_check(const struct pmap *pm, const char **why)
{
	size_t cap = 64, tables = 0;
	for (;;) {
		paddr_t *seen = malloc(cap * sizeof(*seen));
		if (!seen) {
			if (why)
				*why = "host out of memory in pmap_check";
			return -MMK_EINVAL;
		}
		int rc = x86_pt_check(pm, seen, cap, &tables, why);
		free(seen);
		if (rc != -MMK_ENOSPC)
			return rc;
		cap = tables; /* the count is exact: one more pass fits */
	}
}
