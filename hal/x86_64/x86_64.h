/*
 * x86_64.h - the x86-64 backend's own API: the machine, the kernel half of
 * the address space, the serial console, QEMU's exit port.
 *
 * hal/x86_64 implements hal/hal.h and hal/pmap.h for a kernel running on
 * one x86-64 CPU in long mode with 4-level paging (the kernel in kernel/).
 * Virtual layout (each region is whole PML4 entries, so every user pmap
 * shares the kernel half by copying PML4 entries 256..511 once):
 *   [0, PMAP_USER_END)               user pmaps (hal/pmap.h)
 *   X86_DIRECT_BASE + [0, 4 GiB)     the direct map (hal_phys_map), 2 MiB pages
 *   X86_KVA_BASE + [0, X86_KVA_SIZE) kernel virtual space, 4 KiB pages mapped
 *                                    with x86_kernel_enter (a vmem arena hands
 *                                    out ranges of it)
 *   X86_KERNEL_VMA_BASE + phys       the kernel image (linked at 1 MiB)
 *
 * Locking: the machine has one CPU and the kernel runs with interrupts
 * off, so nothing here is preempted; pmap fields are guarded by their
 * address space's lock (hal/pmap.h), the kernel tables by the caller of
 * x86_kernel_enter/remove (the kernel's vmem arena user).
 */
#ifndef HAL_X86_64_X86_64_H
#define HAL_X86_64_X86_64_H

#include <hal/hal.h>
#include <hal/pmap.h>

#define X86_DIRECT_BASE ((vaddr_t)0xffff800000000000ull)
#define X86_DIRECT_BYTES ((uint64_t)4 << 30) /* what boot.S maps */
#define X86_KVA_BASE ((vaddr_t)0xffffc00000000000ull)
#define X86_KVA_SIZE ((uint64_t)64 << 30)
#define X86_KERNEL_VMA_BASE ((vaddr_t)0xffffffff80000000ull)
#define X86_MAX_CPUS 1u

/* Event counts of the MMU side (for the kernel's report). */
struct x86_stats {
	uint64_t invlpg;     /* single-page invalidations */
	uint64_t cr3_loads;  /* address-space switches (full non-global flushes) */
	uint64_t kernel_tables; /* page-table pages of the kernel virtual space */
};

struct hal_machine {
	paddr_t ram_top;           /* the direct map serves [0, ram_top) */
	paddr_t kernel_root;       /* the boot PML4: CR3 when no user pmap is active */
	struct pmap *current;      /* the user pmap in CR3, or NULL */
	struct pmap_pt_source kpt; /* frames for kernel tables (set by x86_kernel_va_init) */
	paddr_t kva_pdpt;          /* the PDPT behind X86_KVA_BASE */
	struct x86_stats stats;
};

/*
 * Take over from boot.S: remember its PML4 as the kernel root, drop the
 * identity map of low memory, turn on global pages (CR4.PGE) and flush.
 * ram_top: end of the RAM the direct map must serve, clipped to
 * X86_DIRECT_BYTES.  Call once, first.
 */
void x86_machine_init(struct hal_machine *m, paddr_t ram_top);

/*
 * Prepare the kernel virtual space: one PDPT from src linked at
 * X86_KVA_BASE's PML4 slot, before any user pmap is created (they copy
 * the kernel's PML4 entries then).  0 or -MMK_ENOMEM.
 */
int x86_kernel_va_init(struct hal_machine *m, const struct pmap_pt_source *src);

/*
 * Map the page va of the kernel virtual space to frame pa with prot
 * (PMAP_PROT_* without USER), global.  Replacing a translation
 * invalidates it.  0; -MMK_EINVAL (va outside [X86_KVA_BASE, +SIZE) or
 * unaligned, pa unaligned or too high, USER in prot); -MMK_ENOMEM (a table
 * page; nothing changed).  Kernel tables are never freed (as Linux's).
 */
int x86_kernel_enter(struct hal_machine *m, vaddr_t va, paddr_t pa, unsigned prot);
/* Unmap va (invalidated before return); 0 with the frame in *pa (may be
 * NULL), or -MMK_ENOENT. */
int x86_kernel_remove(struct hal_machine *m, vaddr_t va, paddr_t *pa);
/* The translation of va in the kernel space: 0 with *pa and *bits, or
 * -MMK_ENOENT. */
int x86_kernel_extract(struct hal_machine *m, vaddr_t va, paddr_t *pa, unsigned *bits);

/* The leaf entry slot of va in pm (present or not), NULL when a table on
 * the way is missing.  For tests that inspect or forge entries. */
uint64_t *x86_pte_ptr(const struct pmap *pm, vaddr_t va);

/* COM1 at 115200 8N1; writes wait for the transmitter. */
void x86_serial_init(void);
void x86_serial_write(const char *s, size_t len);

/* QEMU's isa-debug-exit device (port 0xf4): QEMU exits with status
 * (code << 1) | 1.  Halts forever when the device is absent. */
_Noreturn void x86_qemu_exit(unsigned code);

#endif
