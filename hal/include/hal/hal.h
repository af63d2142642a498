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

/* Console output of len bytes (no terminator needed). */
void hal_console_write(struct hal_machine *m, const char *s, size_t len);

/* Stop the machine with a message.  Used only for broken invariants that a
 * debug build detects in itself; bad input never panics. */
_Noreturn void hal_panic(struct hal_machine *m, const char *msg);

#endif
