/*
 * tlb.c - each simulated CPU's TLB: 64 entries, fully associative, replaced
 * round robin so that a run is deterministic.
 *
 * Like x86 hardware, the TLB caches only present, permitted translations and
 * is not coherent with the page tables: an entry changes only when the CPU
 * walks (fill), when software invalidates one page (INVLPG) or when CR3 is
 * loaded (flush).  The statistics count what a real CPU would pay for.
 */
#include "sim_impl.h"

struct sim_tlb_entry *sim_tlb_lookup_locked(struct sim_cpu *c, uint64_t vpn)
{
	for (unsigned i = 0; i < SIM_TLB_ENTRIES; i++)
		if (c->tlb[i].valid && c->tlb[i].vpn == vpn)
			return &c->tlb[i];
	return NULL;
}

/* An existing entry for vpn is refreshed in place, so a page never has two
 * entries; otherwise the round-robin victim goes. */
void sim_tlb_fill_locked(struct sim_cpu *c, uint64_t vpn, uint64_t pfn, uint8_t flags)
{
	struct sim_tlb_entry *e = sim_tlb_lookup_locked(c, vpn);
	if (!e) {
		e = &c->tlb[c->next];
		c->next = (c->next + 1) % SIM_TLB_ENTRIES;
	}
	e->vpn = vpn;
	e->pfn = pfn;
	e->flags = flags;
	e->valid = true;
}

void sim_tlb_invalidate_locked(struct sim_cpu *c, uint64_t vpn)
{
	struct sim_tlb_entry *e = sim_tlb_lookup_locked(c, vpn);
	if (e)
		e->valid = false;
	c->stats.invalidations++;
}

void sim_tlb_flush_locked(struct sim_cpu *c)
{
	for (unsigned i = 0; i < SIM_TLB_ENTRIES; i++)
		c->tlb[i].valid = false;
	c->next = 0;
	c->stats.flushes++;
}

/* INVLPG on every CPU in cpumask: the shootdown a pmap does after removing
 * or weakening a translation.  Synchronous, as an IPI that is waited for. */
void sim_tlb_shootdown(struct hal_machine *m, uint64_t cpumask, vaddr_t va)
{
	for (unsigned i = 0; i < m->ncpus; i++) {
		if (!(cpumask & ((uint64_t)1 << i)))
			continue;
		struct sim_cpu *c = &m->cpu[i];
		hal_spin_lock(&c->lock);
		sim_tlb_invalidate_locked(c, va >> MMK_PAGE_SHIFT);
		c->stats.shootdowns++;
		hal_spin_unlock(&c->lock);
	}
}

/* A full flush on every CPU in cpumask: the one shootdown that completes a
 * batch of deferred removals (pmap_tlb_sync). */
void sim_tlb_shootdown_flush(struct hal_machine *m, uint64_t cpumask)
{
	for (unsigned i = 0; i < m->ncpus; i++) {
		if (!(cpumask & ((uint64_t)1 << i)))
			continue;
		struct sim_cpu *c = &m->cpu[i];
		hal_spin_lock(&c->lock);
		sim_tlb_flush_locked(c);
		c->stats.shootdowns++;
		hal_spin_unlock(&c->lock);
	}
}

unsigned sim_tlb_count(struct hal_machine *m, unsigned cpu)
{
	if (cpu >= m->ncpus)
		return 0;
	struct sim_cpu *c = &m->cpu[cpu];
	unsigned n = 0;
	hal_spin_lock(&c->lock);
	for (unsigned i = 0; i < SIM_TLB_ENTRIES; i++)
		n += c->tlb[i].valid;
	hal_spin_unlock(&c->lock);
	return n;
}

bool sim_tlb_probe(struct hal_machine *m, unsigned cpu, vaddr_t va, paddr_t *pa)
{
	if (cpu >= m->ncpus)
		return false;
	struct sim_cpu *c = &m->cpu[cpu];
	hal_spin_lock(&c->lock);
	struct sim_tlb_entry *e = sim_tlb_lookup_locked(c, va >> MMK_PAGE_SHIFT);
	if (e && pa)
		*pa = mmk_pfn_to_paddr(e->pfn);
	hal_spin_unlock(&c->lock);
	return e != NULL;
}
