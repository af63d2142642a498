/*
 * test_vm_failsweep.c - the allocation-failure sweep (SQLite's OOM sweeps,
 * DESIGN.md "fault injection as a hook").
 *
 * For each operation: for N = 1, 2, 3, ... build the same starting state,
 * arm the failpoint to fail the Nth allocation from now, run the operation.
 * If it fails it must return -MMK_ENOMEM and leave everything as it was:
 * the space's layout (vm_display), every VMA's residency (vm_mincore), the
 * counters, the VMA objects in use and the free frames (caches reaped) --
 * except the one partial effect vm_remap documents (remap.c: a MREMAP_FIXED
 * destination's pages may be gone, its VMAs stay).  The checkers run after
 * every attempt.  The sweep of an operation ends when it succeeds without
 * the failpoint firing; after each attempt the system is torn down and the
 * free frames must equal the boot baseline (caches reaped first).
 *
 * The failpoint is consulted by phys_alloc and by every kmem_cache_alloc
 * (failpoint.h; test_failpoint_reaches_vma_cache holds kmem to it).  Each
 * sweep is also repeated with the VMA cache "primed": filled with dummy
 * objects until exactly `slack` free objects are left (slack = 0 .. 5), so
 * that the (slack+1)th VMA allocation of the operation needs a new slab and
 * the failure of that slab's frames is swept as well.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "vm_fixture.h"

#define ANON (VM_MAP_PRIVATE | VM_MAP_ANONYMOUS)
#define FIXED (ANON | VM_MAP_FIXED)
#define RW (VM_PROT_READ | VM_PROT_WRITE)
#define R VM_PROT_READ
#define A ((vaddr_t)0x10000000ull)
#define FAR ((vaddr_t)0x300000000ull) /* another 1 GiB region: new page tables */
#define HEAP ((vaddr_t)0x600000ull)
#define MAX_SLACK 5u
#define MAX_N 4000u

struct sweep {
	struct vmfx fx;
	struct vm_space *as;    /* the space the operation works on */
	struct vm_space *child; /* fork's result */
	void **dummies;         /* VMA objects held to prime the cache */
	size_t ndummies, cap;
};

struct sweep_op {
	const char *name;
	void (*setup)(struct sweep *sw);
	int (*run)(struct sweep *sw);
	/* vm_remap's documented partial effect: pages of [lo, hi) may be gone */
	vaddr_t partial_lo, partial_hi;
};

static void touch_range(struct sweep *sw, vaddr_t a, uint64_t pages)
{
	for (uint64_t i = 0; i < pages; i++)
		VMFX_RC(&sw->fx, vmfx_write8(&sw->fx, 0, a + i * PG + 8, (uint8_t)(i + 1)), 0);
}

/* ---- states and operations ---- */

static void setup_basic(struct sweep *sw)
{
	vmfx_map(&sw->fx, sw->as, A, 4 * PG, RW, FIXED);
	vmfx_map(&sw->fx, sw->as, A + 8 * PG, 2 * PG, R, FIXED);
	touch_range(sw, A, 2);
}

static int run_map(struct sweep *sw)
{
	vaddr_t out;
	return vm_map(sw->as, 0, 4 * PG, RW, ANON, NULL, 0, VM_PROT_ALL, &out);
}

static void setup_three(struct sweep *sw)
{
	/* [A, A+4p) rw, [A+4p, A+8p) r, [A+8p, A+12p) rw, all resident. */
	vmfx_map(&sw->fx, sw->as, A, 12 * PG, RW, FIXED);
	touch_range(sw, A, 12);
	VMFX_RC(&sw->fx, vm_protect(sw->as, A + 4 * PG, 4 * PG, R), 0);
}

static int run_map_fixed_over3(struct sweep *sw)
{
	vaddr_t out;
	return vm_map(sw->as, A + 2 * PG, 8 * PG, VM_PROT_EXEC, FIXED, NULL, 0, VM_PROT_ALL, &out);
}

static void setup_eight(struct sweep *sw)
{
	vmfx_map(&sw->fx, sw->as, A, 8 * PG, RW, FIXED);
	touch_range(sw, A, 8);
}

static int run_unmap_middle(struct sweep *sw) { return vm_unmap(sw->as, A + 3 * PG, 2 * PG); }
static int run_protect_middle(struct sweep *sw) { return vm_protect(sw->as, A + 3 * PG, 2 * PG, R); }
static int run_madvise_middle(struct sweep *sw) { return vm_madvise(sw->as, A + 3 * PG, 2 * PG, VM_MADV_DONTFORK); }
static int run_mark_dead_middle(struct sweep *sw) { return vm_mark_dead(sw->as, A + 3 * PG, 2 * PG); }

static void setup_remap(struct sweep *sw)
{
	vmfx_map(&sw->fx, sw->as, A, 8 * PG, RW, FIXED);
	vmfx_map(&sw->fx, sw->as, A + 8 * PG, PG, R, FIXED); /* blocks growth in place */
	touch_range(sw, A, 8);
	/* First fit lands at [X - 6p, X + 6p) with X 2 MiB-aligned in a fresh
	 * region: the moved pages straddle two page tables, so a page-table
	 * allocation can fail after some translations were already copied. */
	sw->as->mmap_base = (vaddr_t)0x500000000ull + 6 * PG;
}

static int run_remap_move(struct sweep *sw)
{
	vaddr_t out;
	int rc = vm_remap(sw->as, A, 8 * PG, 12 * PG, VM_MREMAP_MAYMOVE, 0, &out);
	if (!rc)
		VMFX_EQ(&sw->fx, out, (vaddr_t)0x500000000ull - 6 * PG);
	return rc;
}

static void setup_remap_fixed(struct sweep *sw)
{
	setup_remap(sw);
	/* The destination is a resident mapping alone in another 1 GiB
	 * region: replacing it frees its page tables, so the move needs new
	 * ones after the destination's pages are gone (the partial case). */
	vmfx_map(&sw->fx, sw->as, FAR, 4 * PG, R, FIXED);
	for (int i = 0; i < 4; i++)
		VMFX_RC(&sw->fx, vmfx_touch(&sw->fx, 0, FAR + i * PG, VMFX_R), 0);
}

static int run_remap_fixed(struct sweep *sw)
{
	vaddr_t out;
	return vm_remap(sw->as, A, 4 * PG, 4 * PG, VM_MREMAP_MAYMOVE | VM_MREMAP_FIXED, FAR, &out);
}

static void setup_fork50(struct sweep *sw)
{
	struct vm_object *shm;
	vaddr_t out;
	/* 48 private VMAs, alternately rw and r (no merging), every other one
	 * with two resident pages; one shared VMA; one DONTFORK VMA. */
	for (int i = 0; i < 48; i++) {
		vaddr_t a = A + (vaddr_t)i * 4 * PG;
		vmfx_map(&sw->fx, sw->as, a, 3 * PG, RW, FIXED);
		if (i % 2 == 0)
			touch_range(sw, a, 2);
		if (i % 3 == 1)
			VMFX_RC(&sw->fx, vm_protect(sw->as, a, 3 * PG, R), 0);
	}
	VMFX_RC(&sw->fx, vm_object_create(&sw->fx.s.vm, VM_OBJECT_ANON, "shm", &shm), 0);
	VMFX_RC(&sw->fx, vm_map(sw->as, FAR, 2 * PG, RW, VM_MAP_SHARED | VM_MAP_FIXED, shm, 0, VM_PROT_ALL, &out), 0);
	vm_object_release(&sw->fx.s.vm, shm);
	touch_range(sw, FAR, 2);
	vmfx_map(&sw->fx, sw->as, FAR + 8 * PG, PG, RW, FIXED);
	touch_range(sw, FAR + 8 * PG, 1);
	VMFX_RC(&sw->fx, vm_madvise(sw->as, FAR + 8 * PG, PG, VM_MADV_DONTFORK), 0);
	VMFX_EQ(&sw->fx, vmfx_vmas(sw->as), 50);
}

static int run_fork(struct sweep *sw)
{
	int rc = vm_space_fork(sw->as, &sw->child);
	if (!rc)
		vmfx_adopt(&sw->fx, sw->child);
	return rc;
}

static void setup_fresh_region(struct sweep *sw)
{
	setup_basic(sw);
	vmfx_map(&sw->fx, sw->as, FAR, 8 * PG, RW, FIXED);
}

static int run_fault(struct sweep *sw) { return vmfx_touch(&sw->fx, 0, FAR + 3 * PG + 5, VMFX_W); }

static void setup_populate(struct sweep *sw)
{
	setup_fresh_region(sw);
	VMFX_RC(&sw->fx, vmfx_touch(&sw->fx, 0, FAR + 2 * PG, VMFX_W), 0);
	VMFX_RC(&sw->fx, vmfx_touch(&sw->fx, 0, FAR + 5 * PG, VMFX_R), 0);
	/* A second region whose page tables do not exist yet. */
	vmfx_map(&sw->fx, sw->as, FAR + (vaddr_t)(4ull << 20), 4 * PG, RW, FIXED);
}

/* One call over both regions (and the hole between them). */
static int run_populate(struct sweep *sw) { return vm_populate(sw->as, FAR, (4ull << 20) + 4 * PG, true); }

static int run_mlock(struct sweep *sw) { return vm_mlock(sw->as, FAR + PG, 6 * PG, true); }

static void setup_brk(struct sweep *sw)
{
	vaddr_t b;
	setup_basic(sw);
	vm_brk_init(sw->as, HEAP);
	vm_brk(sw->as, HEAP + PG, &b);
	VMFX_EQ(&sw->fx, b, HEAP + PG);
	/* A different VMA right below the heap's growth, so a grow cannot
	 * merge into an existing VMA and must allocate one. */
	VMFX_RC(&sw->fx, vm_protect(sw->as, HEAP, PG, R), 0);
}

static int run_brk_grow(struct sweep *sw)
{
	vaddr_t b;
	vm_brk(sw->as, HEAP + 5 * PG, &b);
	return b == HEAP + 5 * PG ? 0 : -MMK_ENOMEM; /* brk refuses by returning the old break */
}

static void setup_stack(struct sweep *sw)
{
	setup_basic(sw);
	vmfx_map(&sw->fx, sw->as, FAR + (vaddr_t)(64ull << 20), 4 * PG, RW, FIXED | VM_MAP_GROWSDOWN);
}

/* A fault 4 MiB below the stack: growth into a region without page
 * tables, so the zero fill can fail after the VMA has grown. */
static int run_stack_fault(struct sweep *sw)
{
	return vmfx_touch(&sw->fx, 0, FAR + (vaddr_t)(60ull << 20) + 100, VMFX_W);
}

/* ---- the sweep ---- */

static void hold_dummy(struct sweep *sw)
{
	void *o = kmem_cache_alloc(&sw->fx.s.vm.vma_cache);
	VMFX_TRUE(&sw->fx, o != NULL);
	if (sw->ndummies == sw->cap) {
		sw->cap = sw->cap ? 2 * sw->cap : 64;
		sw->dummies = realloc(sw->dummies, sw->cap * sizeof(void *));
		assert_non_null(sw->dummies);
	}
	sw->dummies[sw->ndummies++] = o;
}

static uint64_t free_objects(struct kmem_cache *c)
{
	return (c->slabs_created - c->slabs_freed) * c->objs_per_slab - kmem_cache_live(c);
}

/* Leave the VMA cache (reaped, so without empty slabs) with exactly slack
 * free objects: fill every slab, then start one more and fill it up to
 * slack free. */
static void prime_vma_cache(struct sweep *sw, unsigned slack)
{
	struct kmem_cache *c = &sw->fx.s.vm.vma_cache;
	VMFX_TRUE(&sw->fx, slack < c->objs_per_slab);
	while (free_objects(c) > 0)
		hold_dummy(sw);
	if (slack == 0)
		return;
	hold_dummy(sw);
	while (free_objects(c) > slack)
		hold_dummy(sw);
	VMFX_EQ(&sw->fx, free_objects(c), slack);
	VMFX_EQ(&sw->fx, c->empty.count, 0);
}

static void release_dummies(struct sweep *sw)
{
	while (sw->ndummies)
		VMFX_RC(&sw->fx, kmem_cache_free(&sw->fx.s.vm.vma_cache, sw->dummies[--sw->ndummies]), 0);
}

/* Residency string of [lo, hi) (mapped pages only) and of the rest. */
static void split_state(struct sweep *sw, const struct sweep_op *op, char **inside, char **outside)
{
	size_t cap = 1 << 16, ni = 0, no = 0;
	char *in = calloc(1, cap), *out = calloc(1, cap);
	assert_non_null(in);
	assert_non_null(out);
	for (const struct vm_area *v = vm_first_from(sw->as, 0); v; v = vm_next(v)) {
		uint64_t n = (v->end - v->start) / PG;
		uint8_t *vec = vmfx_mincore(&sw->fx, sw->as, v->start, n);
		for (uint64_t i = 0; i < n && ni + 2 < cap && no + 2 < cap; i++) {
			vaddr_t va = v->start + i * PG;
			if (va >= op->partial_lo && va < op->partial_hi)
				in[ni++] = vec[i] ? 'R' : '.';
			else
				out[no++] = vec[i] ? 'R' : '.';
		}
		free(vec);
	}
	*inside = in;
	*outside = out;
}

static void sweep(const struct sweep_op *op)
{
	struct sweep *sw = calloc(1, sizeof(*sw));
	assert_non_null(sw);
	struct vmfx *fx = &sw->fx;
	vmfx_boot(fx, 64 * VMFX_MIB, 1);
	struct mmk_failpoint *fp = &fx->s.failpoint;
	unsigned failures = 0, attempts = 0;
	for (unsigned slack = 0; slack <= MAX_SLACK; slack++) {
		unsigned n;
		for (n = 1; n <= MAX_N; n++) {
			attempts++;
			vmfx_op(fx, "%s: setup (slack %u, N %u)", op->name, slack, n);
			sw->as = vmfx_space(fx);
			sw->child = NULL;
			vm_space_activate(sw->as, 0);
			op->setup(sw);
			vmfx_check(fx);
			vmfx_reap(fx);
			prime_vma_cache(sw, slack);
			char *before = vmfx_state(fx, sw->as);
			char *in0 = NULL, *out0 = NULL;
			if (op->partial_hi)
				split_state(sw, op, &in0, &out0);
			uint64_t free0 = vmfx_free_frames(fx);
			uint64_t live0 = kmem_cache_live(&fx->s.vm.vma_cache), objs0 = kmem_cache_live(&fx->s.vm.object_cache);
			uint64_t spaces0 = fx->s.vm.spaces, failed0 = fp->failed;

			vmfx_op(fx, "%s: run with allocation %u failing (slack %u)", op->name, n, slack);
			mmk_failpoint_arm(fp, n, false);
			int rc = op->run(sw);
			bool fired = fp->failed != failed0;
			mmk_failpoint_arm(fp, 0, false);
			vmfx_check(fx);

			if (rc) {
				failures++;
				if (rc != -MMK_ENOMEM)
					vmfx_fail(fx, "%s failed with %s, expected ENOMEM", op->name, mmk_strerror(rc));
				VMFX_TRUE(fx, fired);
				if (!op->partial_hi) {
					vmfx_same_state(fx, sw->as, before, op->name);
					VMFX_EQ(fx, vmfx_free_frames(fx), free0);
				} else {
					/* Layout and residency outside [lo, hi) as before;
					 * inside, only pages that were resident may be gone. */
					char *in1, *out1;
					split_state(sw, op, &in1, &out1);
					char *layout = vmfx_layout(sw->as);
					VMFX_TRUE(fx, strncmp(layout, before, strlen(layout)) == 0);
					VMFX_TRUE(fx, strcmp(out0, out1) == 0);
					VMFX_EQ(fx, strlen(in0), strlen(in1));
					for (size_t k = 0; in0[k]; k++)
						VMFX_TRUE(fx, in1[k] == in0[k] || in1[k] == '.');
					VMFX_TRUE(fx, vmfx_free_frames(fx) >= free0);
					free(layout);
					free(in1);
					free(out1);
				}
				VMFX_EQ(fx, kmem_cache_live(&fx->s.vm.vma_cache), live0);
				VMFX_EQ(fx, kmem_cache_live(&fx->s.vm.object_cache), objs0);
				VMFX_EQ(fx, fx->s.vm.spaces, spaces0);
			} else if (fired) {
				vmfx_fail(fx, "%s succeeded although allocation %u failed", op->name, n);
			}
			free(before);
			free(in0);
			free(out0);

			vmfx_op(fx, "%s: teardown (slack %u, N %u)", op->name, slack, n);
			release_dummies(sw);
			if (sw->child)
				vmfx_destroy(fx, sw->child);
			vmfx_destroy(fx, sw->as);
			vmfx_check(fx);
			VMFX_EQ(fx, vmfx_free_frames(fx), fx->s.boot_free_frames);
			if (!rc)
				break;
		}
		if (n > MAX_N)
			vmfx_fail(fx, "%s still failing after %u allocations", op->name, MAX_N);
	}
	fprintf(stderr, "%s: %u attempts, %u failed cleanly\n", op->name, attempts, failures);
	VMFX_TRUE(fx, failures > 0);
	vmfx_shutdown(fx);
	free(sw->dummies);
	free(sw);
}

/* ---- the tests ---- */

static const struct sweep_op ops[] = {
	{ "map", setup_basic, run_map, 0, 0 },
	{ "map fixed over 3 VMAs", setup_three, run_map_fixed_over3, 0, 0 },
	{ "unmap middle", setup_eight, run_unmap_middle, 0, 0 },
	{ "protect middle", setup_eight, run_protect_middle, 0, 0 },
	{ "madvise DONTFORK middle", setup_eight, run_madvise_middle, 0, 0 },
	{ "mark dead middle", setup_eight, run_mark_dead_middle, 0, 0 },
	{ "remap move", setup_remap, run_remap_move, 0, 0 },
	{ "remap fixed over a mapping", setup_remap_fixed, run_remap_fixed, FAR, FAR + 4 * PG },
	{ "fork of 50 VMAs", setup_fork50, run_fork, 0, 0 },
	{ "fault", setup_fresh_region, run_fault, 0, 0 },
	{ "populate", setup_populate, run_populate, 0, 0 },
	{ "mlock", setup_populate, run_mlock, 0, 0 },
	{ "brk grow", setup_brk, run_brk_grow, 0, 0 },
	{ "stack growth fault", setup_stack, run_stack_fault, 0, 0 },
};

#define OP_TEST(i, fn)                                                                                      \
	static void fn(void **state)                                                                        \
	{                                                                                                   \
		(void)state;                                                                                \
		sweep(&ops[i]);                                                                             \
	}
OP_TEST(0, test_sweep_map)
OP_TEST(1, test_sweep_map_fixed_over_3)
OP_TEST(2, test_sweep_unmap_middle)
OP_TEST(3, test_sweep_protect_middle)
OP_TEST(4, test_sweep_madvise_middle)
OP_TEST(5, test_sweep_mark_dead_middle)
OP_TEST(6, test_sweep_remap_move)
OP_TEST(7, test_sweep_remap_fixed)
OP_TEST(8, test_sweep_fork_50_vmas)
OP_TEST(9, test_sweep_fault)
OP_TEST(10, test_sweep_populate)
OP_TEST(11, test_sweep_mlock)
OP_TEST(12, test_sweep_brk_grow)
OP_TEST(13, test_sweep_stack_growth_fault)

/* The sweep's premise (include/mmk/failpoint.h: "frame allocations
 * (phys_alloc) and kernel-object allocations (kmem_cache_alloc) both
 * consult the failpoint"; kmem.h: NULL "when ... the failpoint of c->phys
 * fires"): an armed failpoint fails the next VMA allocation even when the
 * cache has free objects.  The priming above works around it if not. */
static void test_failpoint_reaches_vma_cache(void **state)
{
	(void)state;
	struct vmfx fxs, *fx = &fxs;
	vmfx_boot(fx, 16 * VMFX_MIB, 1);
	struct kmem_cache *c = &fx->s.vm.vma_cache;
	void *a = kmem_cache_alloc(c); /* makes a slab with free objects */
	VMFX_TRUE(fx, a != NULL);
	vmfx_op(fx, "kmem_cache_alloc with the failpoint armed, free objects in the slab");
	uint64_t calls = fx->s.failpoint.calls;
	mmk_failpoint_arm(&fx->s.failpoint, 1, false);
	void *b = kmem_cache_alloc(c);
	bool fired = fx->s.failpoint.failed > 0;
	mmk_failpoint_arm(&fx->s.failpoint, 0, false);
	if (b)
		kmem_cache_free(c, b);
	kmem_cache_free(c, a);
	VMFX_TRUE(fx, fx->s.failpoint.calls > calls);
	VMFX_TRUE(fx, fired);
	VMFX_TRUE(fx, b == NULL);
	vmfx_shutdown(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sweep_map),
		cmocka_unit_test(test_sweep_map_fixed_over_3),
		cmocka_unit_test(test_sweep_unmap_middle),
		cmocka_unit_test(test_sweep_protect_middle),
		cmocka_unit_test(test_sweep_madvise_middle),
		cmocka_unit_test(test_sweep_mark_dead_middle),
		cmocka_unit_test(test_sweep_remap_move),
		cmocka_unit_test(test_sweep_remap_fixed),
		cmocka_unit_test(test_sweep_fork_50_vmas),
		cmocka_unit_test(test_sweep_fault),
		cmocka_unit_test(test_sweep_populate),
		cmocka_unit_test(test_sweep_mlock),
		cmocka_unit_test(test_sweep_brk_grow),
		cmocka_unit_test(test_sweep_stack_growth_fault),
		cmocka_unit_test(test_failpoint_reaches_vma_cache),
	};
	return cmocka_run_group_tests_name("vm_failsweep", tests, NULL, NULL);
}
