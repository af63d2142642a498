/*
 * hal/hal.h - the hardware contract mmk's core builds on, part 1: the machine.
 *
 * A backend (hal/sim, hal/linux, hal/x86_64) defines struct hal_machine and
 * implements these functions; the core never looks inside the machine.
 * Binding is at link time, as in a kernel: one backend per binary.
 *
 * Locking: every function here may be called with any mmk lock held and
 * takes no mmk lock itself.
 */
#ifndef HAL_HAL_H
#define HAL_HAL_H

#include <mmk/types.h>

struct hal_machine; /* backend-defined */

/*
 * Direct map: a kernel pointer to the bytes of physical address pa.
 * Precondition: pa lies in RAM that the backend described to the core.
 * The direct map is contiguous and page-aligned: hal_phys_map(m, pa) + k ==
 * hal_phys_map(m, pa + k) for every k within RAM, and page-aligned pa gives a
 * page-aligned pointer.  The pointer stays valid for the machine's lifetime.
 */
void *hal_phys_map(struct hal_machine *m, paddr_t pa);

/* Inverse of hal_phys_map for a pointer that it returned. */
paddr_t hal_phys_unmap(struct hal_machine *m, const void *p);

/* Number of CPUs (>= 1) and the calling CPU's index in [0, n). */
unsigned hal_cpu_count(struct hal_machine *m);
unsigned hal_cpu_id(struct hal_machine *m);

/*
 * Pin the caller to the CPU it runs on and return that CPU's index (as
 * hal_cpu_id): until the matching hal_cpu_unpin, the caller is neither
 * preempted nor migrated, so no other code runs on this CPU and data that
 * only this CPU writes in the common case (per-CPU caches) may be read and
 * written without a lock or an atomic read-modify-write (Linux's get_cpu /
 * put_cpu, illumos's kpreempt_disable).  Pins nest; hal_cpu_unpin undoes
 * one.  While pinned the caller must not block or sleep (spin locks are
 * fine) and must not change CPU.  Data also written by interrupt handlers
 * needs more than this: a kernel backend disables preemption only.
 * Another CPU may touch this CPU's per-CPU data only under a contract that
 * keeps this CPU out of the code that uses it (src/kmem: drain, destroy).
 * The sim drives each simulated CPU with one host thread at a time, so
 * pinning costs nothing there (hal/sim/sim.h says what debug builds check).
 */
unsigned hal_cpu_pin(struct hal_machine *m);
void hal_cpu_unpin(struct hal_machine *m);

/*
 * Whether hal_cpu_unpin does anything on m.  false when a pinned caller can
 * never be preempted or migrated anyway and the backend checks nothing: a
 * kernel without preemption (Linux's !CONFIG_PREEMPT_COUNT, where
 * preempt_enable is a compiler barrier), the sim's release build.  Fixed
 * for m's lifetime, so a hot path may ask once and then leave the unpin
 * call out when it is false; hal_cpu_pin must always be called.
 */
bool hal_cpu_unpin_needed(struct hal_machine *m);

/* Console output of len bytes (no terminator needed). */
void hal_console_write(struct hal_machine *m, const char *s, size_t len);

/* Stop the machine with a message.  Used only for broken invariants that a
 * debug build detects in itself; bad input never panics. */
_Noreturn void hal_panic(struct hal_machine *m, const char *msg);

#endif
