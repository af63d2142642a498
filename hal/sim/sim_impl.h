/*
 * sim_impl.h - hal/sim's private structures, shared by its .c files only.
 *
 * The machine owns the simulated RAM and one struct sim_cpu per CPU.  A
 * CPU's lock guards its TLB, its current pmap and its statistics, so a
 * shootdown from another host thread never races with that CPU's accesses.
 */
#ifndef HAL_SIM_SIM_IMPL_H
#define HAL_SIM_SIM_IMPL_H

#include <hal/lock.h>
#include <stdatomic.h>

#include "sim.h"

/* TLB entry flags: the leaf's effective rights, and whether D is set. */
#define SIM_TLBF_W 0x1u
#define SIM_TLBF_U 0x2u
#define SIM_TLBF_NX 0x4u
#define SIM_TLBF_D 0x8u

struct sim_tlb_entry {
	uint64_t vpn;   /* virtual page number (va >> 12) */
	uint64_t pfn;   /* frame number */
	uint8_t flags;  /* SIM_TLBF_* */
	bool valid;
};

struct sim_cpu {
	struct hal_spinlock lock;           /* guards every field below */
	struct pmap *cur;                   /* loaded "CR3", or NULL */
	struct sim_tlb_entry tlb[SIM_TLB_ENTRIES];
	unsigned next;                      /* round-robin victim */
	struct sim_stats stats;
};

struct hal_machine {
	uint8_t *ram;              /* host mapping of simulated RAM */
	uint64_t ram_bytes;
	unsigned ncpus;
	atomic_uint current_cpu;   /* hal_cpu_id for unbound threads */
	_Atomic(sim_fault_fn) fault;
	struct sim_cpu cpu[];      /* ncpus of them */
};

/* ---- machine.c: run code "on" a CPU (the fault handler runs on the
 * faulting CPU, so hal_cpu_id inside it names that CPU) ---- */
struct sim_binding {
	struct hal_machine *m;
	unsigned cpu;
};
struct sim_binding sim_cpu_bind_swap(struct hal_machine *m, unsigned cpu);
void sim_cpu_bind_restore(struct sim_binding b);

/* ---- tlb.c: callers hold the CPU's lock ---- */
struct sim_tlb_entry *sim_tlb_lookup_locked(struct sim_cpu *c, uint64_t vpn);
void sim_tlb_fill_locked(struct sim_cpu *c, uint64_t vpn, uint64_t pfn, uint8_t flags);
void sim_tlb_invalidate_locked(struct sim_cpu *c, uint64_t vpn);
void sim_tlb_flush_locked(struct sim_cpu *c);

/* ---- tlb.c: take the CPU's lock themselves ---- */
void sim_tlb_shootdown(struct hal_machine *m, uint64_t cpumask, vaddr_t va);
void sim_tlb_shootdown_flush(struct hal_machine *m, uint64_t cpumask);

/* ---- pte access: atomic, because hardware walks race with the pmap ---- */
static inline uint64_t sim_pte_load(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static inline void sim_pte_store(uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }
static inline uint64_t sim_pte_fetch_and(uint64_t *p, uint64_t v)
{
	return __atomic_fetch_and(p, v, __ATOMIC_SEQ_CST);
}
static inline uint64_t sim_pte_xchg(uint64_t *p, uint64_t v)
{
	return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST);
}
static inline bool sim_pte_cas(uint64_t *p, uint64_t *expect, uint64_t v)
{
	return __atomic_compare_exchange_n(p, expect, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

/* Index of va's entry at level lvl (3 = PML4 ... 0 = PT). */
static inline unsigned sim_pt_index(vaddr_t va, unsigned lvl)
{
	return (unsigned)((va >> (MMK_PAGE_SHIFT + 9u * lvl)) & 511u);
}

/* The table page at physical address pa, as 512 entries. */
static inline uint64_t *sim_table(struct hal_machine *m, paddr_t pa)
{
	return (uint64_t *)hal_phys_map(m, pa);
}

#endif
