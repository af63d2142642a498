/*
 * mmu.c - the simulated CPU's memory access: TLB lookup, 4-level page walk
 * in simulated RAM, accessed/dirty updates and page faults.
 *
 * It behaves as an x86-64 CPU with CR0.WP and EFER.NXE set and no SMEP/SMAP
 * (Intel SDM vol. 3A 4.6 rights, 4.7 fault error codes, 4.8 A/D bits,
 * 4.10 TLBs):
 *   - a TLB hit is used as is, even if the tables changed since (that is the
 *     point of the TLB); a write through an entry whose D is not yet set
 *     walks again to set D, as hardware does;
 *   - the walk sets A in every entry it used, and D in the leaf on a write,
 *     with a compare-and-swap so a racing pmap update is never overwritten;
 *   - a missing translation or a rights violation raises a page fault, which
 *     first drops the page's TLB entry (a fault invalidates, SDM 4.10.4.1),
 *     so a fault on a stale, too-weak entry retries against the tables.
 */
#include <mmk/errno.h>
#include <string.h>

#include "sim_impl.h"

struct xlate {
	paddr_t pa;   /* on success */
	unsigned ec;  /* on a fault: the error code */
	void *owner;  /* the active pmap's owner */
};

/* A walk's result: a translation, a fault, a lost race, or a table
 * pointer outside RAM (a forged entry: a machine check, not a fault). */
enum walk_result { WALK_OK, WALK_FAULT, WALK_RACE, WALK_BAD };

struct walk {
	uint64_t *slot[4];
	uint64_t val[4];
	uint64_t frame;
	uint8_t flags; /* SIM_TLBF_* */
};

static unsigned fault_code(unsigned access, bool user, bool present)
{
	unsigned ec = present ? SIM_PF_P : 0;
	if (access == PMAP_ACCESS_WRITE)
		ec |= SIM_PF_W;
	if (user)
		ec |= SIM_PF_U;
	if (access == PMAP_ACCESS_EXEC)
		ec |= SIM_PF_I;
	return ec;
}

static bool rights_deny(uint8_t flags, unsigned access, bool user)
{
	if (user && !(flags & SIM_TLBF_U))
		return true;
	if (access == PMAP_ACCESS_WRITE && !(flags & SIM_TLBF_W))
		return true;
	return access == PMAP_ACCESS_EXEC && (flags & SIM_TLBF_NX);
}

/* Rights combine across levels: RW and US must be set at every level, NX
 * anywhere forbids execution. */
static uint8_t combine_rights(uint8_t flags, uint64_t e)
{
	if (!(e & SIM_PTE_RW))
		flags &= (uint8_t)~SIM_TLBF_W;
	if (!(e & SIM_PTE_US))
		flags &= (uint8_t)~SIM_TLBF_U;
	if (e & SIM_PTE_NX)
		flags |= SIM_TLBF_NX;
	return flags;
}

/* Read the four entries for va; WALK_FAULT at the first not present. */
static enum walk_result walk_read(struct hal_machine *m, const struct pmap *pm, vaddr_t va, struct walk *w)
{
	paddr_t table = pm->root;
	w->flags = SIM_TLBF_W | SIM_TLBF_U;
	for (int lvl = 3; lvl >= 0; lvl--) {
		if (table >= m->ram_bytes)
			return WALK_BAD;
		w->slot[lvl] = &sim_table(m, table)[sim_pt_index(va, (unsigned)lvl)];
		w->val[lvl] = sim_pte_load(w->slot[lvl]);
		if (!(w->val[lvl] & SIM_PTE_P))
			return WALK_FAULT;
		w->flags = combine_rights(w->flags, w->val[lvl]);
		table = w->val[lvl] & SIM_PTE_FRAME;
	}
	w->frame = table;
	return WALK_OK;
}

/* Set A on every level and D on the leaf for a write; WALK_RACE if an
 * entry changed under us (the walk restarts, as a locked update would). */
static enum walk_result walk_mark(struct walk *w, bool write)
{
	for (int lvl = 3; lvl >= 0; lvl--) {
		uint64_t want = w->val[lvl] | SIM_PTE_A;
		if (lvl == 0 && write)
			want |= SIM_PTE_D;
		if (want != w->val[lvl] && !sim_pte_cas(w->slot[lvl], &w->val[lvl], want))
			return WALK_RACE;
		w->val[lvl] = want;
	}
	if (w->val[0] & SIM_PTE_D)
		w->flags |= SIM_TLBF_D;
	return WALK_OK;
}

static int raise_fault(struct sim_cpu *c, vaddr_t va, unsigned ec, struct xlate *x)
{
	struct sim_tlb_entry *e = sim_tlb_lookup_locked(c, va >> MMK_PAGE_SHIFT);
	if (e)
		e->valid = false;
	c->stats.faults++;
	x->ec = ec;
	return 1;
}

static int walk_and_fill(struct hal_machine *m, struct sim_cpu *c, vaddr_t va, unsigned access, bool user,
                         struct xlate *x)
{
	for (;;) {
		struct walk w;
		c->stats.walks++;
		enum walk_result r = walk_read(m, c->cur, va, &w);
		if (r == WALK_BAD)
			return -MMK_EFAULT;
		if (r == WALK_FAULT)
			return raise_fault(c, va, fault_code(access, user, false), x);
		if (rights_deny(w.flags, access, user))
			return raise_fault(c, va, fault_code(access, user, true), x);
		if (walk_mark(&w, access == PMAP_ACCESS_WRITE) == WALK_RACE)
			continue;
		sim_tlb_fill_locked(c, va >> MMK_PAGE_SHIFT, w.frame >> MMK_PAGE_SHIFT, w.flags);
		x->pa = w.frame | (va & MMK_PAGE_MASK);
		return 0;
	}
}

/* One translation attempt on CPU c: 0, 1 for a fault (x->ec), or -errno. */
static int translate_locked(struct hal_machine *m, struct sim_cpu *c, vaddr_t va, unsigned access, bool user,
                            struct xlate *x)
{
	if (!c->cur)
		return -MMK_EFAULT;
	x->owner = c->cur->owner;
	struct sim_tlb_entry *e = sim_tlb_lookup_locked(c, va >> MMK_PAGE_SHIFT);
	if (e && rights_deny(e->flags, access, user)) {
		c->stats.tlb_hits++;
		return raise_fault(c, va, fault_code(access, user, true), x);
	}
	if (e && (access != PMAP_ACCESS_WRITE || (e->flags & SIM_TLBF_D))) {
		c->stats.tlb_hits++;
		x->pa = mmk_pfn_to_paddr(e->pfn) | (va & MMK_PAGE_MASK);
		return 0;
	}
	c->stats.tlb_misses++;
	return walk_and_fill(m, c, va, access, user, x);
}

/* Hand a fault to the handler, running "on" the faulting CPU. */
static int deliver_fault(struct hal_machine *m, unsigned cpu, vaddr_t va, unsigned access, const struct xlate *x)
{
	sim_fault_fn fn = atomic_load(&m->fault);
	if (!fn)
		return -MMK_EFAULT;
	struct sim_binding saved = sim_cpu_bind_swap(m, cpu);
	int rc = fn(x->owner, va, access, x->ec);
	sim_cpu_bind_restore(saved);
	return rc == 0 ? 0 : (rc < 0 ? rc : -MMK_EFAULT);
}

int sim_access(struct hal_machine *m, unsigned cpu, vaddr_t va, unsigned access, bool user, paddr_t *pa_out)
{
	if (cpu >= m->ncpus ||
	    (access != PMAP_ACCESS_READ && access != PMAP_ACCESS_WRITE && access != PMAP_ACCESS_EXEC))
		return -MMK_EINVAL;
	if (va >= PMAP_USER_END)
		return -MMK_EFAULT; /* non-canonical or kernel half: not a pmap's */
	struct sim_cpu *c = &m->cpu[cpu];
	for (unsigned tries = 0;; tries++) {
		struct xlate x;
		hal_spin_lock(&c->lock);
		int r = translate_locked(m, c, va, access, user, &x);
		hal_spin_unlock(&c->lock);
		if (r == 0 && pa_out)
			*pa_out = x.pa;
		if (r <= 0)
			return r;
		if (tries == SIM_FAULT_RETRIES)
			return -MMK_EFAULT;
		r = deliver_fault(m, cpu, va, access, &x);
		if (r != 0)
			return r;
	}
}

/* Copy between buf and va, one page-bounded chunk at a time. */
static int sim_copy(struct hal_machine *m, unsigned cpu, vaddr_t va, uint8_t *buf, size_t len, bool user,
                    bool write)
{
	while (len > 0) {
		size_t chunk = (size_t)(MMK_PAGE_SIZE - (va & MMK_PAGE_MASK));
		if (chunk > len)
			chunk = len;
		paddr_t pa;
		int rc = sim_access(m, cpu, va, write ? PMAP_ACCESS_WRITE : PMAP_ACCESS_READ, user, &pa);
		if (rc != 0)
			return rc;
		if (pa + chunk > m->ram_bytes)
			return -MMK_EFAULT; /* mapped beyond RAM: a bus error */
		uint8_t *p = hal_phys_map(m, pa);
		if (write)
			memcpy(p, buf, chunk);
		else
			memcpy(buf, p, chunk);
		va += chunk;
		buf += chunk;
		len -= chunk;
	}
	return 0;
}

int sim_read(struct hal_machine *m, unsigned cpu, vaddr_t va, void *buf, size_t len, bool user)
{
	return sim_copy(m, cpu, va, buf, len, user, false);
}

int sim_write(struct hal_machine *m, unsigned cpu, vaddr_t va, const void *buf, size_t len, bool user)
{
	/* sim_copy only reads from buf when write is true. */
	return sim_copy(m, cpu, va, (uint8_t *)(uintptr_t)buf, len, user, true);
}
