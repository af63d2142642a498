/*
 * sim.h (kernel shim) - what the shared pmap contract tests take from
 * hal/sim, answered by hal/x86_64: both backends use the x86-64 entry
 * format with PROT_NONE in software bit 9, so the tests' forged entries
 * mean the same on real page tables.
 */
#ifndef KERNEL_SHIM_SIM_H
#define KERNEL_SHIM_SIM_H

#include <hal/pmap.h>

#include "../../../hal/x86_64/pte.h"
#include "../../../hal/x86_64/x86_64.h"

#define SIM_PTE_P X86_PTE_P
#define SIM_PTE_RW X86_PTE_RW
#define SIM_PTE_US X86_PTE_US
#define SIM_PTE_A X86_PTE_A
#define SIM_PTE_D X86_PTE_D
#define SIM_PTE_PROTNONE X86_PTE_PROTNONE
#define SIM_PTE_NX X86_PTE_NX
#define SIM_PTE_FRAME X86_PTE_FRAME

static inline uint64_t *sim_pte_ptr(const struct pmap *pm, vaddr_t va) { return x86_pte_ptr(pm, va); }

/* The kernel's machine is not the test's to create or destroy. */
static inline void sim_machine_destroy(struct hal_machine *m) { (void)m; }

#endif
