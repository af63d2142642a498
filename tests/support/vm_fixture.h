/*
 * vm_fixture.h - a booted simulated PC (phys + vm, faults routed to
 * vm_fault) for the tests of src/vm, with the checkers every VM test runs
 * after every operation.
 *
 * vmfx_check runs, for every live space the fixture knows: vm_check; then
 * phys_check, kmem_cache_check of both vm caches, and a re-derivation of the
 * user-frame accounting (each mapped frame's refcount equals the number of
 * translations that map it, over all spaces; the number of distinct mapped
 * frames equals vm_system.user_frames; the page-table pages of all spaces sum
 * to vm_system.pt_pages).  On a failure it prints each space's layout as it
 * was at the previous successful check ("before") and as it is now ("after"),
 * then fails the cmocka test with the checker's why string (DESIGN.md:
 * "layouts drawn").
 *
 * Hosted test code: libc and cmocka freely.
 */
#ifndef MMK_TESTS_VM_FIXTURE_H
#define MMK_TESTS_VM_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <mmk/errno.h>
#include <mmk/failpoint.h>
#include <mmk/vm.h>
#include <sim.h>
#include <sim_boot.h>

#define PG MMK_PAGE_SIZE
#define VMFX_MIB ((uint64_t)1 << 20)
#define VMFX_MAX_SPACES 16
#define VMFX_MAX_HELD 8

struct vmfx {
	struct sim_system s;
	unsigned ncpus;
	bool booted;
	struct vm_space *spaces[VMFX_MAX_SPACES]; /* live spaces the fixture tracks */
	char *before[VMFX_MAX_SPACES];            /* layout at the last good check */
	bool snapshots;                           /* keep "before" layouts (off for huge layouts) */
	uint32_t *frame_refs;                     /* scratch: translations per pfn */
	uint64_t nframes;                         /* entries of frame_refs */
	const char *op;                           /* what the test is doing, for reports */
	uint64_t checks;                          /* checker runs */
	bool failed;                              /* vmfx_fail ran: shutdown only cleans up */
	/* Optional: called by vmfx_check's frame-accounting walk for every
	 * translation of every tracked space (lets a test check contents
	 * without a walk of its own). */
	void (*visit)(void *ctx, struct vm_space *as, vaddr_t va, paddr_t pa, unsigned bits);
	void *visit_ctx;
	/* Optional: objects the test holds a reference on (open files, shm
	 * segments); vmfx_check counts their pages as owned even while no VMA
	 * maps them.  NULL entries are ignored. */
	struct vm_object *held[VMFX_MAX_HELD];
	/* Optional: frames another layer lends to spaces (physmem containers:
	 * blocks of any order, tails included).  Such a mapped frame is not
	 * counted against the VM's own frames and its owner is the block's. */
	bool (*external)(void *ctx, pfn_t pfn);
	void *external_ctx;
};

/* Boot a PC of ram_bytes with ncpus CPUs; asserts success. */
void vmfx_boot(struct vmfx *fx, uint64_t ram_bytes, unsigned ncpus);

/* Destroy every tracked space, reap both vm caches, assert the free frame
 * count is back at boot_free_frames (leak baseline) and shut down.  After a
 * failure (vmfx_fail) it only cleans up, as vmfx_abandon. */
void vmfx_shutdown(struct vmfx *fx);

/* Destroy without assertions (for teardown after a failed test). */
void vmfx_abandon(struct vmfx *fx);

/* A new space (asserts success), tracked by the fixture. */
struct vm_space *vmfx_space(struct vmfx *fx);
/* Track a space made elsewhere (a fork child). */
void vmfx_adopt(struct vmfx *fx, struct vm_space *as);
/* Deactivate as on every CPU, destroy it and stop tracking it. */
void vmfx_destroy(struct vmfx *fx, struct vm_space *as);
/* Deactivate as on every CPU (vm.h has no deactivate call). */
void vmfx_deactivate(struct vmfx *fx, struct vm_space *as);

/* Name the operation under test (printed on failure); returns op. */
const char *vmfx_op(struct vmfx *fx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Run every checker (see above); fails the test on the first broken one. */
void vmfx_check(struct vmfx *fx);

/* Print the before/after layouts of every tracked space and fail with msg. */
void vmfx_fail(struct vmfx *fx, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

/* vm_display text of as, malloc'd (caller frees). */
char *vmfx_layout(struct vm_space *as);
void vmfx_print_layout(FILE *f, const char *title, struct vm_space *as);

/* Reap both vm caches (empty slabs back to the buddy allocator). */
void vmfx_reap(struct vmfx *fx);
/* Free frames after reaping both caches. */
uint64_t vmfx_free_frames(struct vmfx *fx);

/*
 * The observable state of as as text: the vm_display layout, then per VMA
 * its flags, object, offset and a residency string from vm_mincore ('R'
 * resident, '.' not), then brk and the counters a call may change.
 * malloc'd.  vmfx_same_state fails (drawing both) when as's state differs
 * from before.
 */
char *vmfx_state(struct vmfx *fx, struct vm_space *as);
void vmfx_same_state(struct vmfx *fx, struct vm_space *as, const char *before, const char *what);

/* Number of VMAs, resident pages. */
uint64_t vmfx_vmas(struct vm_space *as);
uint64_t vmfx_resident(struct vm_space *as);

/* Residency of [addr, addr+npages) as a malloc'd vector (vm_mincore must
 * succeed). */
uint8_t *vmfx_mincore(struct vmfx *fx, struct vm_space *as, vaddr_t addr, uint64_t npages);

/* A map that must succeed: returns the start. */
vaddr_t vmfx_map(struct vmfx *fx, struct vm_space *as, vaddr_t hint, size_t len, unsigned prot, unsigned flags);

/* Memory access through the simulated CPU (as must be active on cpu). */
int vmfx_touch(struct vmfx *fx, unsigned cpu, vaddr_t va, unsigned access);
int vmfx_write8(struct vmfx *fx, unsigned cpu, vaddr_t va, uint8_t val);
int vmfx_read8(struct vmfx *fx, unsigned cpu, vaddr_t va, uint8_t *val);

/* Assertions that draw the layouts when they fail. */
#define VMFX_EQ(fx, a, b)                                                                                   \
	do {                                                                                                \
		long long a_ = (long long)(a), b_ = (long long)(b);                                        \
		if (a_ != b_)                                                                               \
			vmfx_fail((fx), "%s:%d: %s is %lld (%#llx), expected %s = %lld (%#llx)", __FILE__,  \
				  __LINE__, #a, a_, (unsigned long long)a_, #b, b_, (unsigned long long)b_); \
	} while (0)

#define VMFX_RC(fx, call, expected)                                                                        \
	do {                                                                                                \
		int rc_ = (call), ex_ = (expected);                                                         \
		if (rc_ != ex_)                                                                             \
			vmfx_fail((fx), "%s:%d: %s returned %d (%s), expected %d (%s)", __FILE__, __LINE__,  \
				  #call, rc_, rc_ ? mmk_strerror(rc_) : "ok", ex_, ex_ ? mmk_strerror(ex_) : "ok"); \
	} while (0)

#define VMFX_TRUE(fx, cond)                                                                                \
	do {                                                                                                \
		if (!(cond))                                                                                \
			vmfx_fail((fx), "%s:%d: expected %s", __FILE__, __LINE__, #cond);                   \
	} while (0)

/* Access kinds, short. */
#define VMFX_R PMAP_ACCESS_READ
#define VMFX_W PMAP_ACCESS_WRITE
#define VMFX_X PMAP_ACCESS_EXEC

#endif
