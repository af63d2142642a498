/*
 * sim.h - the sim backend's own API: a deterministic software machine.
 *
 * hal/sim implements hal/hal.h and hal/pmap.h in hosted C.  Simulated
 * physical memory [0, ram_bytes) is one anonymous mapping of the host, so
 * frames hold real bytes and untouched RAM costs nothing.  Each simulated CPU
 * has a small TLB that, like hardware, is not coherent with the page tables;
 * sim_access plays the CPU's memory access: TLB, 4-level walk in simulated
 * RAM (setting accessed and dirty bits), page fault to a handler the core
 * installs.  Nothing here is random or time-dependent: one sequence of calls
 * always gives the same results and statistics.
 *
 * Locking: each CPU has a spin lock guarding its TLB, its current pmap and
 * its statistics; page-table entries are read and written with atomic
 * operations so hosted threads acting as CPUs are race-free.  The fault
 * handler is called with no sim lock held.
 */
#ifndef HAL_SIM_SIM_H
#define HAL_SIM_SIM_H

#include <hal/hal.h>
#include <hal/pmap.h>

#define SIM_MAX_CPUS 64u /* pmap.active_cpus is a 64-bit mask */

/*
 * Page-table entry format (x86-64, Intel SDM vol. 3 ch. 4.5), exposed so
 * tests can inspect or forge entries.  SIM_PTE_PROTNONE is a software bit
 * (one the hardware ignores) marking a PMAP_PROT_NONE translation: P is
 * clear, the frame is kept (as Linux's _PAGE_PROTNONE).
 */
#define SIM_PTE_P ((uint64_t)1 << 0)
#define SIM_PTE_RW ((uint64_t)1 << 1)
#define SIM_PTE_US ((uint64_t)1 << 2)
#define SIM_PTE_A ((uint64_t)1 << 5)
#define SIM_PTE_D ((uint64_t)1 << 6)
#define SIM_PTE_PROTNONE ((uint64_t)1 << 9)
#define SIM_PTE_NX ((uint64_t)1 << 63)
#define SIM_PTE_FRAME ((uint64_t)0x000ffffffffff000ull) /* bits 12..51 */

/* x86 page-fault error code bits (Intel SDM vol. 3 ch. 4.7). */
#define SIM_PF_P 0x1u    /* 1: protection violation; 0: not present */
#define SIM_PF_W 0x2u    /* the access was a write */
#define SIM_PF_U 0x4u    /* the access came from user mode */
#define SIM_PF_I 0x10u   /* the access was an instruction fetch */

#define SIM_TLB_ENTRIES 64u   /* per CPU, fully associative */
#define SIM_FAULT_RETRIES 3u  /* handler calls per sim_access */

/*
 * Make a machine with ram_bytes of simulated RAM (a non-zero multiple of
 * 4096, below 2^52) and ncpus CPUs (1..SIM_MAX_CPUS).  RAM reads as zeros.
 * The current CPU starts as 0.  NULL on bad arguments or host failure.
 */
struct hal_machine *sim_machine_create(uint64_t ram_bytes, unsigned ncpus);

/* Free the machine and its RAM.  Pmaps on it must be gone already. */
void sim_machine_destroy(struct hal_machine *m);

/* Bytes of simulated RAM. */
uint64_t sim_ram_bytes(struct hal_machine *m);

/*
 * The CPU hal_cpu_id reports.  sim_set_current_cpu sets it for the machine
 * (single-threaded tests); sim_cpu_bind binds the calling host thread to
 * cpu on machine m (a thread-local, for threads acting as CPUs), which takes
 * precedence for that thread.  cpu < hal_cpu_count(m).
 */
void sim_set_current_cpu(struct hal_machine *m, unsigned cpu);
void sim_cpu_bind(struct hal_machine *m, unsigned cpu);
void sim_cpu_unbind(void);

/*
 * hal_cpu_pin / hal_cpu_unpin (hal.h): a simulated CPU runs one host thread
 * at a time by construction, so a pin returns hal_cpu_id and costs nothing
 * more.  The caller's side of the bargain: two host threads must never act
 * as one CPU at once (threads acting as CPUs bind to distinct CPUs; unbound
 * threads share the machine's current CPU, so only one of them may be
 * inside the core at a time).  Debug builds (no NDEBUG) check it: pinning a
 * CPU another thread has pinned, unpinning without a pin, a change of the
 * pinned thread's CPU (sim_cpu_bind, sim_cpu_unbind, sim_set_current_cpu)
 * before its unpin, or a nested pin on another CPU is a panic.
 */

/*
 * The page-fault hook.  owner is the owner of the pmap active on the
 * faulting CPU; access is one PMAP_ACCESS_*; error_code is x86's (SIM_PF_*).
 * Return 0 when the fault is resolved (the access retries) or a negative
 * error code that the access then returns.  NULL uninstalls it (every fault
 * then gives -MMK_EFAULT).
 */
typedef int (*sim_fault_fn)(void *owner, vaddr_t va, unsigned access, unsigned error_code);
void sim_set_fault_handler(struct hal_machine *m, sim_fault_fn fn);

/*
 * One memory access of CPU cpu to va: TLB, then page walk (setting accessed,
 * and dirty on a write), then on a missing translation or protection
 * violation the fault handler, retrying at most SIM_FAULT_RETRIES times.
 * 0 with *pa_out (the byte's physical address; pa_out may be NULL), or
 * -MMK_EFAULT (no handler, no active pmap, va not below PMAP_USER_END,
 * retries exhausted), or the handler's error.  -MMK_EINVAL for a bad cpu or
 * access kind.
 */
int sim_access(struct hal_machine *m, unsigned cpu, vaddr_t va, unsigned access, bool user, paddr_t *pa_out);

/*
 * Copy len bytes between buf and virtual memory at va as CPU cpu would,
 * page by page through sim_access.  0, or the first failing access's error
 * (bytes of earlier pages have moved then); -MMK_EFAULT when a translation
 * points outside RAM.
 */
int sim_read(struct hal_machine *m, unsigned cpu, vaddr_t va, void *buf, size_t len, bool user);
int sim_write(struct hal_machine *m, unsigned cpu, vaddr_t va, const void *buf, size_t len, bool user);

/* Event counts: TLB hits and misses, page walks, page faults delivered,
 * single-entry TLB invalidations and full TLB flushes (per CPU touched),
 * and shootdowns received (one per CPU reached by a pmap's shootdown: an
 * IPI on hardware, whether it invalidates one page or flushes). */
struct sim_stats {
	uint64_t tlb_hits, tlb_misses, walks, faults, invalidations, flushes, shootdowns;
};

/* The machine's totals (sum over CPUs), one CPU's, or zero them all. */
void sim_get_stats(struct hal_machine *m, struct sim_stats *out);
void sim_get_cpu_stats(struct hal_machine *m, unsigned cpu, struct sim_stats *out);
void sim_reset_stats(struct hal_machine *m);

/* ---- introspection for tests ---- */

/* The pmap active on cpu, or NULL. */
struct pmap *sim_current_pmap(struct hal_machine *m, unsigned cpu);

/* Number of valid entries in cpu's TLB; whether it caches the page of va
 * (and its frame in *pa when pa is not NULL). */
unsigned sim_tlb_count(struct hal_machine *m, unsigned cpu);
bool sim_tlb_probe(struct hal_machine *m, unsigned cpu, vaddr_t va, paddr_t *pa);

/* A pointer to the leaf entry for va in pm's tables (present or not), or
 * NULL when a table on the way is missing.  For tests that forge entries. */
uint64_t *sim_pte_ptr(const struct pmap *pm, vaddr_t va);

#endif
