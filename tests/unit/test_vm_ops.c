/*
 * test_vm_ops.c - the calls of include/mmk/vm.h one by one: vm_map (every
 * placement rule and every error), vm_unmap, vm_protect, vm_remap, vm_brk,
 * vm_madvise, vm_mlock, vm_mincore, vm_msync, vm_display, the dead /
 * scavenge / sweep cycle and vm_space_fork, with boundaries (0, 1, 2 pages,
 * 2 MiB minus/at/plus one page, every protection).  Every operation is
 * followed by the checkers (vmfx_check); every error by a comparison of the
 * whole observable state with the state before ("nothing changed").
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
#define NOREPLACE (ANON | VM_MAP_FIXED_NOREPLACE)
#define R VM_PROT_READ
#define RW (VM_PROT_READ | VM_PROT_WRITE)
#define RX (VM_PROT_READ | VM_PROT_EXEC)
#define A ((vaddr_t)0x10000000ull) /* 256 MiB: a quiet place for fixed maps */
#define MB2 ((uint64_t)2 << 20)

static int setup(void **state)
{
	struct vmfx *fx = calloc(1, sizeof(*fx));
	if (!fx)
		return -1;
	vmfx_boot(fx, 64 * VMFX_MIB, 2);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct vmfx *fx = *state;
	vmfx_shutdown(fx);
	free(fx);
	return 0;
}

static struct vm_space *space(struct vmfx *fx)
{
	struct vm_space *as = vmfx_space(fx);
	vm_space_activate(as, 0);
	return as;
}

/* Run an erroring call and check nothing changed (layout, residency,
 * counters, free frames once the caches are reaped). */
#define EXPECT_ERR_UNCHANGED(fx, as, call, err)                                                            \
	do {                                                                                                \
		char *st_ = vmfx_state((fx), (as));                                                         \
		uint64_t fr_ = vmfx_free_frames(fx);                                                        \
		vmfx_op((fx), "%s", #call);                                                                 \
		VMFX_RC((fx), (call), (err));                                                               \
		vmfx_check(fx);                                                                             \
		vmfx_same_state((fx), (as), st_, #call);                                                    \
		VMFX_EQ((fx), vmfx_free_frames(fx), fr_);                                                   \
		free(st_);                                                                                  \
	} while (0)

static void expect_layout(struct vmfx *fx, struct vm_space *as, const char *want)
{
	char *got = vmfx_layout(as);
	if (strcmp(got, want) != 0) {
		fprintf(stderr, "==== expected layout ====\n%s==== got ====\n%s", want, got);
		free(got);
		vmfx_fail(fx, "layout differs");
	}
	free(got);
}

static const struct vm_area *vma_at(struct vm_space *as, vaddr_t va) { return vm_search(as, va); }

/* The VMA containing va must be exactly [start, end) with prot. */
static void expect_vma(struct vmfx *fx, struct vm_space *as, vaddr_t va, vaddr_t start, vaddr_t end, unsigned prot)
{
	const struct vm_area *v = vma_at(as, va);
	if (!v)
		vmfx_fail(fx, "no VMA at %#llx, expected [%#llx, %#llx)", (unsigned long long)va,
			  (unsigned long long)start, (unsigned long long)end);
	if (v->start != start || v->end != end || v->prot != prot)
		vmfx_fail(fx, "VMA at %#llx is [%#llx, %#llx) prot %u, expected [%#llx, %#llx) prot %u",
			  (unsigned long long)va, (unsigned long long)v->start, (unsigned long long)v->end, v->prot,
			  (unsigned long long)start, (unsigned long long)end, prot);
}

static void expect_unmapped(struct vmfx *fx, struct vm_space *as, vaddr_t start, vaddr_t end)
{
	const struct vm_area *v = vm_first_from(as, start);
	if (v && v->start < end)
		vmfx_fail(fx, "[%#llx, %#llx) should be unmapped, found [%#llx, %#llx)", (unsigned long long)start,
			  (unsigned long long)end, (unsigned long long)v->start, (unsigned long long)v->end);
}

static bool is_resident(struct vmfx *fx, struct vm_space *as, vaddr_t va)
{
	uint8_t *v = vmfx_mincore(fx, as, mmk_page_round_down(va), 1);
	bool r = v[0];
	free(v);
	return r;
}

static uint8_t rd(struct vmfx *fx, vaddr_t va)
{
	uint8_t b = 0xee;
	VMFX_RC(fx, vmfx_read8(fx, 0, va, &b), 0);
	return b;
}

static void wr(struct vmfx *fx, vaddr_t va, uint8_t b) { VMFX_RC(fx, vmfx_write8(fx, 0, va, b), 0); }

/* A distinct byte for page i. */
static uint8_t pat(vaddr_t va) { return (uint8_t)((va >> 12) * 31 + 7); }

/* Write pat() at offset 100 of n pages from a. */
static void fill(struct vmfx *fx, vaddr_t a, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		wr(fx, a + i * PG + 100, pat(a + i * PG));
}

static struct vm_object *object(struct vmfx *fx, uint32_t type, const char *name)
{
	struct vm_object *o = NULL;
	VMFX_RC(fx, vm_object_create(&fx->s.vm, type, name, &o), 0);
	return o;
}

/* ==== vm_map ==== */

static void test_map_first_fit_private(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = space(fx);
	vaddr_t mb = as->mmap_base, a, b, c;
	vmfx_op(fx, "first map, no hint");
	VMFX_RC(fx, vm_map(as, 0, 3 * PG, RW, ANON, NULL, 0, VM_PROT_ALL, &a), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, a, mb - 3 * PG);
	const struct vm_area *v = vma_at(as, a);
	VMFX_TRUE(fx, v != NULL);
	VMFX_EQ(fx, v->start, a);
	VMFX_EQ(fx, v->end, mb);
	VMFX_EQ(fx, v->prot, RW);
	VMFX_EQ(fx, v->max_prot, VM_PROT_ALL);
	VMFX_EQ(fx, v->flags, 0);
	VMFX_TRUE(fx, v->object == NULL);
	VMFX_EQ(fx, as->mapped_pages, 3);

	vmfx_op(fx, "second map goes right below and merges");
	VMFX_RC(fx, vm_map(as, 0, 2 * PG, RW, ANON, NULL, 0, VM_PROT_ALL, &b), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, b, mb - 5 * PG);
	expect_vma(fx, as, b, b, mb, RW);
	VMFX_EQ(fx, vmfx_vmas(as), 1);

	vmfx_op(fx, "a different protection does not merge");
	VMFX_RC(fx, vm_map(as, 0, PG, R, ANON, NULL, 0, VM_PROT_ALL, &c), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, c, mb - 6 * PG);
	expect_vma(fx, as, c, c, b, R);
	VMFX_EQ(fx, vmfx_vmas(as), 2);
	VMFX_EQ(fx, as->mapped_pages, 6);

	vmfx_op(fx, "the new memory reads zero and takes writes");
	VMFX_EQ(fx, rd(fx, b + 5), 0);
	wr(fx, b + 5, 0x12);
	VMFX_EQ(fx, rd(fx, b + 5), 0x12);
	vmfx_check(fx);
}

static void test_map_fixed(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = space(fx);
	vaddr_t out = 0;
	vmfx_op(fx, "MAP_FIXED on free space");
	VMFX_RC(fx, vm_map(as, A, 4 * PG, RW, FIXED, NULL, 0, VM_PROT_ALL, &out), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, out, A);
	expect_vma(fx, as, A, A, A + 4 * PG, RW);
	vmfx_op(fx, "MAP_FIXED_NOREPLACE on free space, adjacent above");
	VMFX_RC(fx, vm_map(as, A + 4 * PG, PG, R, NOREPLACE, NULL, 0, VM_PROT_ALL, &out), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, out, A + 4 * PG);
	vmfx_op(fx, "MAP_FIXED_NOREPLACE adjacent below");
	VMFX_RC(fx, vm_map(as, A - PG, PG, R, NOREPLACE, NULL, 0, VM_PROT_ALL, &out), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, vmfx_vmas(as), 3);
	/* The lowest and highest fixed addresses allowed. */
	vmfx_op(fx, "MAP_FIXED at min_addr and ending at max_addr");
	VMFX_RC(fx, vm_map(as, as->min_addr, PG, RW, FIXED, NULL, 0, VM_PROT_ALL, &out), 0);
	VMFX_EQ(fx, out, as->min_addr);
	VMFX_RC(fx, vm_map(as, as->max_addr - PG, PG, RW, FIXED, NULL, 0, VM_PROT_ALL, &out), 0);
	VMFX_EQ(fx, out, as->max_addr - PG);
	vmfx_check(fx);
	wr(fx, as->min_addr, 1);
	wr(fx, as->max_addr - 1, 2);
	VMFX_EQ(fx, rd(fx, as->min_addr), 1);
	VMFX_EQ(fx, rd(fx, as->max_addr - 1), 2);
	vmfx_check(fx);
}

static void test_map_fixed_replaces(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = space(fx);
	/* Three VMAs [A, A+4p) rw, [A+4p, A+8p) r, [A+8p, A+12p) rw-x, all
	 * resident with distinct bytes. */
	vmfx_map(fx, as, A, 4 * PG, RW, FIXED);
	vmfx_map(fx, as, A + 4 * PG, 4 * PG, RW, FIXED);
	vmfx_map(fx, as, A + 8 * PG, 4 * PG, RW | VM_PROT_EXEC, FIXED);
	fill(fx, A, 12);
	VMFX_RC(fx, vm_protect(as, A + 4 * PG, 4 * PG, R), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, vmfx_vmas(as), 3);
	VMFX_EQ(fx, vmfx_resident(as), 12);
	uint64_t free0 = vmfx_free_frames(fx);

	vmfx_op(fx, "MAP_FIXED [A+2p, A+10p) over the three");
	vaddr_t out;
	VMFX_RC(fx, vm_map(as, A + 2 * PG, 8 * PG, VM_PROT_EXEC, FIXED, NULL, 0, VM_PROT_ALL, &out), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, out, A + 2 * PG);
	expect_vma(fx, as, A, A, A + 2 * PG, RW);
	expect_vma(fx, as, A + 2 * PG, A + 2 * PG, A + 10 * PG, VM_PROT_EXEC);
	expect_vma(fx, as, A + 10 * PG, A + 10 * PG, A + 12 * PG, RW | VM_PROT_EXEC);
	VMFX_EQ(fx, vmfx_vmas(as), 3);
	VMFX_EQ(fx, as->mapped_pages, 12);
	/* The 8 replaced frames are free; the 4 others kept their bytes. */
	VMFX_EQ(fx, vmfx_resident(as), 4);
	VMFX_EQ(fx, vmfx_free_frames(fx) - free0 >= 8, 1);
	for (int i = 2; i < 10; i++)
		VMFX_TRUE(fx, !is_resident(fx, as, A + i * PG));
	for (int i = 0; i < 12; i++)
		if (i < 2 || i >= 10)
			VMFX_EQ(fx, rd(fx, A + i * PG + 100), pat(A + i * PG));
	vmfx_op(fx, "the replacement reads zero");
	VMFX_RC(fx, vm_protect(as, A + 2 * PG, 8 * PG, RW), 0);
	for (int i = 2; i < 10; i++)
		VMFX_EQ(fx, rd(fx, A + i * PG + 100), 0);
	vmfx_check(fx);

	vmfx_op(fx, "MAP_FIXED exactly over one whole VMA, and inside one");
	VMFX_RC(fx, vm_map(as, A, 2 * PG, R, FIXED, NULL, 0, VM_PROT_ALL, &out), 0);
	vmfx_check(fx);
	expect_vma(fx, as, A, A, A + 2 * PG, R);
	VMFX_RC(fx, vm_map(as, A + 4 * PG, PG, VM_PROT_NONE, FIXED, NULL, 0, VM_PROT_ALL, &out), 0);
	vmfx_check(fx);
	expect_vma(fx, as, A + 4 * PG, A + 4 * PG, A + 5 * PG, VM_PROT_NONE);
	expect_vma(fx, as, A + 3 * PG, A + 2 * PG, A + 4 * PG, RW);
	expect_vma(fx, as, A + 5 * PG, A + 5 * PG, A + 10 * PG, RW);
	VMFX_EQ(fx, vmfx_vmas(as), 5);
}

static void test_map_noreplace_overlap(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = space(fx);
	vmfx_map(fx, as, A, 4 * PG, RW, FIXED);
	fill(fx, A, 4);
	vmfx_check(fx);
	vaddr_t out = 0;
	EXPECT_ERR_UNCHANGED(fx, as, vm_map(as, A, 4 * PG, R, NOREPLACE, NULL, 0, VM_PROT_ALL, &out), -MMK_EEXIST);
	EXPECT_ERR_UNCHANGED(fx, as, vm_map(as, A - PG, 2 * PG, R, NOREPLACE, NULL, 0, VM_PROT_ALL, &out),
			     -MMK_EEXIST);
	EXPECT_ERR_UNCHANGED(fx, as, vm_map(as, A + 3 * PG, 2 * PG, R, NOREPLACE, NULL, 0, VM_PROT_ALL, &out),
			     -MMK_EEXIST);
	EXPECT_ERR_UNCHANGED(fx, as, vm_map(as, A + PG, PG, R, NOREPLACE, NULL, 0, VM_PROT_ALL, &out), -MMK_EEXIST);
	EXPECT_ERR_UNCHANGED(fx, as, vm_map(as, A - 8 * PG, 20 * PG, R, NOREPLACE, NULL, 0, VM_PROT_ALL, &out),
			     -MMK_EEXIST);
	/* FIXED_NOREPLACE wins over FIXED when both are given (Linux). */
	EXPECT_ERR_UNCHANGED(fx, as,
			     vm_map(as, A, PG, R, NOREPLACE | VM_MAP_FIXED, NULL, 0, VM_PROT_ALL, &out), -MMK_EEXIST);
	for (int i = 0; i < 4; i++)
		VMFX_EQ(fx, rd(fx, A + i * PG + 100), pat(A + i * PG));
}

static void test_map_hint(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = space(fx);
	vaddr_t mb = as->mmap_base, out;
	vmfx_op(fx, "hint on free space is used");
	VMFX_RC(fx, vm_map(as, A, 2 * PG, RW, ANON, NULL, 0, VM_PROT_ALL, &out), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, out, A);
	vmfx_op(fx, "unaligned hint is rounded down");
	VMFX_RC(fx, vm_map(as, A + 4 * PG + 123, PG, R, ANON, NULL, 0, VM_PROT_ALL, &out), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, out, A + 4 * PG);
	vmfx_op(fx, "hint overlapping a mapping is ignored: first fit");
	VMFX_RC(fx, vm_map(as, A + PG, 2 * PG, R, ANON, NULL, 0, VM_PROT_ALL, &out), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, out, mb - 2 * PG);
	expect_vma(fx, as, A, A, A + 2 * PG, RW);
	vmfx_op(fx, "hint whose range passes max_addr is ignored");
	VMFX_RC(fx, vm_map(as, as->max_addr - PG, 2 * PG, R, ANON, NULL, 0, VM_PROT_ALL, &out), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, out, mb - 4 * PG);
	vmfx_op(fx, "hint above mmap_base on free space is used");
	VMFX_RC(fx, vm_map(as, mb + 16 * PG, PG, R, ANON, NULL, 0, VM_PROT_ALL, &out), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, out, mb + 16 * PG);
	vmfx_op(fx, "hint right below a mapping, touching it");
	VMFX_RC(fx, vm_map(as, A - 3 * PG, 3 * PG, RW, ANON, NULL, 0, VM_PROT_ALL, &out), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, out, A - 3 * PG);
	expect_vma(fx, as, A, A - 3 * PG, A + 2 * PG, RW);
}

/* First fit, top-down below mmap_base, as Linux: the highest gap that
 * holds the request. */
static void test_map_first_fit_topdown(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = space(fx);
	vaddr_t mb = as->mmap_base, out;
	/* Below mb: [mb-2p, mb) used, 1-page hole, [mb-5p, mb-3p) used,
	 * 3-page hole, [mb-9p, mb-8p) used. */
	vmfx_map(fx, as, mb - 2 * PG, 2 * PG, RW, FIXED);
	vmfx_map(fx, as, mb - 5 * PG, 2 * PG, R, FIXED);
	vmfx_map(fx, as, mb - 9 * PG, PG, RW, FIXED);
	/* Something above mmap_base must not attract first fit. */
	vmfx_map(fx, as, mb + 64 * PG, PG, RW, FIXED);
	vmfx_check(fx);
	vmfx_op(fx, "3 pages: into the 3-page hole");
	VMFX_RC(fx, vm_map(as, 0, 3 * PG, RX, ANON, NULL, 0, VM_PROT_ALL, &out), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, out, mb - 8 * PG);
	vmfx_op(fx, "2 pages: below everything");
	VMFX_RC(fx, vm_map(as, 0, 2 * PG, RX, ANON, NULL, 0, VM_PROT_ALL, &out), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, out, mb - 11 * PG);
	vmfx_op(fx, "1 page: the top hole");
	VMFX_RC(fx, vm_map(as, 0, PG, RX, ANON, NULL, 0, VM_PROT_ALL, &out), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, out, mb - 3 * PG);
	vmfx_op(fx, "1 page: right below the lowest");
	VMFX_RC(fx, vm_map(as, 0, PG, RX, ANON, NULL, 0, VM_PROT_ALL, &out), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, out, mb - 12 * PG);
	/* [mb-12p, mb-9p) r-x merged, [mb-9p) rw, [mb-8p) r-x, [mb-5p) r--,
	 * [mb-3p) r-x, [mb-2p) rw, and the one above mmap_base. */
	VMFX_EQ(fx, vmfx_vmas(as), 7);
	vmfx_op(fx, "a request bigger than everything below mmap_base");
	char *st = vmfx_state(fx, as);
	VMFX_RC(fx, vm_map(as, 0, mb, RW, ANON, NULL, 0, VM_PROT_ALL, &out), -MMK_ENOMEM);
	vmfx_check(fx);
	vmfx_same_state(fx, as, st, "failed first fit");
	free(st);
	/* With a window: mmap_base lowered to a small space that fills up. */
	vmfx_op(fx, "first fit in a small window until it is full");
	as->min_addr = A;
	as->mmap_base = A + 8 * PG;
	for (int i = 0; i < 4; i++) {
		VMFX_RC(fx, vm_map(as, 0, 2 * PG, i % 2 ? R : RW, ANON, NULL, 0, VM_PROT_ALL, &out), 0);
		vmfx_check(fx);
		VMFX_EQ(fx, out, A + (6 - 2 * i) * PG);
	}
	st = vmfx_state(fx, as);
	VMFX_RC(fx, vm_map(as, 0, PG, RW, ANON, NULL, 0, VM_PROT_ALL, &out), -MMK_ENOMEM);
	vmfx_check(fx);
	vmfx_same_state(fx, as, st, "first fit in a full window");
	free(st);
}

/* 10,000 VMAs separated by holes: placement finds the right gap through
 * the gap-augmented tree (O(log n) per search; no timing is asserted). */
static void test_map_first_fit_10000_vmas(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = space(fx);
	vaddr_t mb = as->mmap_base, out;
	fx->snapshots = false; /* 10,000-line layouts at every check would dominate */
	/* VMA i = [mb-(2i+2)p, mb-(2i+1)p): 1-page holes, except i = 7000 left
	 * out, which makes a 3-page hole [mb-14003p, mb-14000p). */
	vmfx_op(fx, "map 10,000 VMAs with holes");
	for (uint64_t i = 0; i < 10001; i++) {
		if (i == 7000)
			continue;
		VMFX_RC(fx, vm_map(as, mb - (2 * i + 2) * PG, PG, RW, FIXED, NULL, 0, VM_PROT_ALL, &out), 0);
		if (i % 1000 == 0)
			vmfx_check(fx);
	}
	vmfx_check(fx);
	VMFX_EQ(fx, vmfx_vmas(as), 10000);
	vmfx_op(fx, "3 pages: the only 3-page hole, deep in the tree");
	VMFX_RC(fx, vm_map(as, 0, 3 * PG, RW, ANON, NULL, 0, VM_PROT_ALL, &out), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, out, mb - 14003 * PG);
	vmfx_op(fx, "2 pages: below all");
	VMFX_RC(fx, vm_map(as, 0, 2 * PG, RW, ANON, NULL, 0, VM_PROT_ALL, &out), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, out, mb - 20004 * PG);
	vmfx_op(fx, "1 page: the top hole, then the next ones down");
	for (uint64_t k = 0; k < 5; k++) {
		VMFX_RC(fx, vm_map(as, 0, PG, R, ANON, NULL, 0, VM_PROT_ALL, &out), 0);
		VMFX_EQ(fx, out, mb - (2 * k + 1) * PG);
	}
	vmfx_check(fx);
	vmfx_op(fx, "unmap a run in the middle and fit 5 pages into it");
	VMFX_RC(fx, vm_unmap(as, mb - 9005 * PG, 5 * PG), 0);
	vmfx_check(fx);
	VMFX_RC(fx, vm_map(as, 0, 5 * PG, RW, ANON, NULL, 0, VM_PROT_ALL, &out), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, out, mb - 9005 * PG);
	vmfx_op(fx, "1000 more first fits, each checked against the expected hole");
	for (uint64_t k = 5; k < 1005; k++) {
		VMFX_RC(fx, vm_map(as, 0, PG, RX, ANON, NULL, 0, VM_PROT_ALL, &out), 0);
		VMFX_EQ(fx, out, mb - (2 * k + 1) * PG);
	}
	vmfx_check(fx);
	vmfx_op(fx, "unmap everything");
	VMFX_RC(fx, vm_unmap(as, mb - 30000 * PG, 30000 * PG), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, vmfx_vmas(as), 0);
	VMFX_EQ(fx, as->mapped_pages, 0);
}

static void test_map_errors(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = space(fx);
	struct vm_object *file = object(fx, VM_OBJECT_FILE, "/etc/passwd");
	vmfx_map(fx, as, A, 2 * PG, RW, FIXED);
	wr(fx, A + 5, 9);
	vmfx_check(fx);
	vaddr_t out = 0xdead;
	EXPECT_ERR_UNCHANGED(fx, as, vm_map(as, 0, 0, RW, ANON, NULL, 0, VM_PROT_ALL, &out), -MMK_EINVAL);
	EXPECT_ERR_UNCHANGED(fx, as, vm_map(as, A + 8 * PG, 0, RW, FIXED, NULL, 0, VM_PROT_ALL, &out), -MMK_EINVAL);
	EXPECT_ERR_UNCHANGED(fx, as, vm_map(as, A + 8 * PG + 1, PG, RW, FIXED, NULL, 0, VM_PROT_ALL, &out),
			     -MMK_EINVAL);
	EXPECT_ERR_UNCHANGED(fx, as,
			     vm_map(as, A + 8 * PG + 1, PG, RW, NOREPLACE, NULL, 0, VM_PROT_ALL, &out), -MMK_EINVAL);
	EXPECT_ERR_UNCHANGED(fx, as,
			     vm_map(as, 0, PG, R, VM_MAP_PRIVATE, file, 100, VM_PROT_ALL, &out), -MMK_EINVAL);
	EXPECT_ERR_UNCHANGED(fx, as, vm_map(as, 0, PG, R, VM_MAP_ANONYMOUS, NULL, 0, VM_PROT_ALL, &out),
			     -MMK_EINVAL);
	EXPECT_ERR_UNCHANGED(fx, as, vm_map(as, 0, PG, R, VM_MAP_ANONYMOUS | 0x04, NULL, 0, VM_PROT_ALL, &out),
			     -MMK_EINVAL);
	EXPECT_ERR_UNCHANGED(fx, as, vm_map(as, 0, PG, R, VM_MAP_ANONYMOUS | 0x0f, NULL, 0, VM_PROT_ALL, &out),
			     -MMK_EINVAL);
	/* MAP_SHARED anonymous memory needs an object to share. */
	EXPECT_ERR_UNCHANGED(fx, as,
			     vm_map(as, 0, PG, R, VM_MAP_SHARED | VM_MAP_ANONYMOUS, NULL, 0, VM_PROT_ALL, &out),
			     -MMK_EINVAL);
	EXPECT_ERR_UNCHANGED(fx, as, vm_map(as, 0, PG, 0x8, ANON, NULL, 0, VM_PROT_ALL, &out), -MMK_EINVAL);
	EXPECT_ERR_UNCHANGED(fx, as, vm_map(as, 0, PG, RW | 0x100, ANON, NULL, 0, VM_PROT_ALL, &out), -MMK_EINVAL);
	/* A file opened read-only: no writable shared mapping. */
	EXPECT_ERR_UNCHANGED(fx, as,
			     vm_map(as, 0, PG, RW, VM_MAP_SHARED, file, 0, R | VM_PROT_EXEC, &out), -MMK_EACCES);
	EXPECT_ERR_UNCHANGED(fx, as, vm_map(as, 0, PG, VM_PROT_EXEC, ANON, NULL, 0, R, &out), -MMK_EACCES);
	EXPECT_ERR_UNCHANGED(fx, as, vm_map(as, A + 16 * PG, PG, RW, FIXED, NULL, 0, R, &out), -MMK_EACCES);
	/* Fixed below min_addr: EPERM (mmap_min_addr). */
	EXPECT_ERR_UNCHANGED(fx, as, vm_map(as, 0, PG, RW, FIXED, NULL, 0, VM_PROT_ALL, &out), -MMK_EPERM);
	EXPECT_ERR_UNCHANGED(fx, as, vm_map(as, as->min_addr - PG, PG, RW, NOREPLACE, NULL, 0, VM_PROT_ALL, &out),
			     -MMK_EPERM);
	/* Ranges past the end of the user space. */
	EXPECT_ERR_UNCHANGED(fx, as, vm_map(as, as->max_addr - PG, 2 * PG, RW, FIXED, NULL, 0, VM_PROT_ALL, &out),
			     -MMK_ENOMEM);
	EXPECT_ERR_UNCHANGED(fx, as, vm_map(as, as->max_addr, PG, RW, FIXED, NULL, 0, VM_PROT_ALL, &out),
			     -MMK_ENOMEM);
	EXPECT_ERR_UNCHANGED(fx, as, vm_map(as, 0, as->max_addr + PG, RW, ANON, NULL, 0, VM_PROT_ALL, &out),
			     -MMK_ENOMEM);
	EXPECT_ERR_UNCHANGED(fx, as, vm_map(as, 0, SIZE_MAX, RW, ANON, NULL, 0, VM_PROT_ALL, &out), -MMK_ENOMEM);
	EXPECT_ERR_UNCHANGED(fx, as, vm_map(as, 0, SIZE_MAX - PG - 5, RW, ANON, NULL, 0, VM_PROT_ALL, &out),
			     -MMK_ENOMEM);
	/* offset + len wraps. */
	EXPECT_ERR_UNCHANGED(fx, as,
			     vm_map(as, 0, 2 * PG, R, VM_MAP_PRIVATE, file, UINT64_MAX & ~MMK_PAGE_MASK, VM_PROT_ALL,
				    &out),
			     -MMK_EOVERFLOW);
	VMFX_EQ(fx, out, 0xdead);
	VMFX_EQ(fx, file->refcount, 1);
	VMFX_EQ(fx, rd(fx, A + 5), 9);
	vm_object_release(&fx->s.vm, file);
	vmfx_check(fx);
}

/* The boundaries: 0, 1, 2 pages; 2 MiB minus, at and plus one page (a
 * page-table page's span), at a 2 MiB-aligned address and one page off;
 * unaligned lengths round up. */
static void test_map_boundaries(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = space(fx);
	const uint64_t sizes[] = { PG, 2 * PG, MB2 - PG, MB2, MB2 + PG, 1, PG + 1, 2 * PG - 1 };
	const uint64_t pages[] = { 1, 2, 511, 512, 513, 1, 2, 2 };
	const vaddr_t bases[] = { 0x40000000ull, 0x40000000ull - PG };
	vaddr_t out;
	EXPECT_ERR_UNCHANGED(fx, as, vm_map(as, bases[0], 0, RW, FIXED, NULL, 0, VM_PROT_ALL, &out), -MMK_EINVAL);
	for (size_t b = 0; b < 2; b++) {
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			vaddr_t base = bases[b];
			uint64_t n = pages[i];
			vmfx_op(fx, "map %#llx bytes at %#llx", (unsigned long long)sizes[i], (unsigned long long)base);
			uint64_t free0 = vmfx_free_frames(fx);
			VMFX_RC(fx, vm_map(as, base, sizes[i], RW, FIXED, NULL, 0, VM_PROT_ALL, &out), 0);
			vmfx_check(fx);
			expect_vma(fx, as, base, base, base + n * PG, RW);
			VMFX_EQ(fx, as->mapped_pages, n);
			vmfx_op(fx, "touch first and last page of %llu", (unsigned long long)n);
			wr(fx, base, 0xa1);
			wr(fx, base + n * PG - 1, 0xb2);
			VMFX_RC(fx, vmfx_touch(fx, 0, base + n * PG, VMFX_R), -MMK_EFAULT);
			VMFX_RC(fx, vmfx_touch(fx, 0, base - 1, VMFX_R), -MMK_EFAULT);
			vmfx_check(fx);
			VMFX_EQ(fx, rd(fx, base), 0xa1);
			VMFX_EQ(fx, rd(fx, base + n * PG - 1), n == 1 ? 0xb2 : 0xb2);
			VMFX_EQ(fx, vmfx_resident(as), n == 1 ? 1 : 2);
			vmfx_op(fx, "unmap %llu pages, page tables go with them", (unsigned long long)n);
			VMFX_RC(fx, vm_unmap(as, base, sizes[i]), 0);
			vmfx_check(fx);
			VMFX_EQ(fx, vmfx_vmas(as), 0);
			VMFX_EQ(fx, as->pmap.pt_pages, 1);
			VMFX_EQ(fx, vmfx_free_frames(fx), free0);
		}
	}
}

/* Every protection: the VMA records it, accesses obey it (x86: every
 * accessible page is readable). */
static void test_map_every_prot(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = space(fx);
	for (unsigned prot = 0; prot <= VM_PROT_ALL; prot++) {
		vaddr_t out;
		vaddr_t a = A + prot * 2 * PG;
		vmfx_op(fx, "map prot %u", prot);
		VMFX_RC(fx, vm_map(as, a, PG, prot, FIXED, NULL, 0, VM_PROT_ALL, &out), 0);
		vmfx_check(fx);
		expect_vma(fx, as, a, a, a + PG, prot);
		VMFX_RC(fx, vmfx_touch(fx, 0, a, VMFX_R), prot ? 0 : -MMK_EACCES);
		VMFX_RC(fx, vmfx_touch(fx, 0, a, VMFX_W), (prot & VM_PROT_WRITE) ? 0 : -MMK_EACCES);
		VMFX_RC(fx, vmfx_touch(fx, 0, a, VMFX_X), (prot & VM_PROT_EXEC) ? 0 : -MMK_EACCES);
		vmfx_check(fx);
		/* And every protection reached by mprotect from every other. */
		for (unsigned p2 = 0; p2 <= VM_PROT_ALL; p2++) {
			vmfx_op(fx, "protect %u -> %u", prot, p2);
			VMFX_RC(fx, vm_protect(as, a, PG, p2), 0);
			vmfx_check(fx);
			expect_vma(fx, as, a, a, a + PG, p2);
			VMFX_RC(fx, vmfx_touch(fx, 0, a, VMFX_W), (p2 & VM_PROT_WRITE) ? 0 : -MMK_EACCES);
			VMFX_RC(fx, vmfx_touch(fx, 0, a, VMFX_X), (p2 & VM_PROT_EXEC) ? 0 : -MMK_EACCES);
			VMFX_RC(fx, vmfx_touch(fx, 0, a, VMFX_R), p2 ? 0 : -MMK_EACCES);
		}
		VMFX_RC(fx, vm_protect(as, a, PG, prot), 0);
		vmfx_check(fx);
	}
	VMFX_EQ(fx, vmfx_vmas(as), 8);
}

/* Placement keeps Linux's stack guard gap free: a hint or a first fit
 * never lands in the stack_guard bytes below a growsdown VMA (Linux
 * vm_start_gap() in arch_get_unmapped_area_topdown and
 * vm_unmapped_area). */
static void test_map_placement_keeps_stack_guard_gap(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = space(fx);
	vaddr_t out;
	/* A stack right below mmap_base, nothing else. */
	vaddr_t top = as->mmap_base;
	vmfx_map(fx, as, top - 4 * PG, 4 * PG, RW, FIXED | VM_MAP_GROWSDOWN);
	vmfx_check(fx);
	vmfx_op(fx, "hint inside the stack guard gap");
	VMFX_RC(fx, vm_map(as, top - 4 * PG - 2 * PG, PG, RW, ANON, NULL, 0, VM_PROT_ALL, &out), 0);
	vmfx_check(fx);
	VMFX_TRUE(fx, out + PG <= top - 4 * PG - as->stack_guard);
	vmfx_op(fx, "first fit with the stack as highest VMA below mmap_base");
	VMFX_RC(fx, vm_map(as, 0, PG, R, ANON, NULL, 0, VM_PROT_ALL, &out), 0);
	vmfx_check(fx);
	VMFX_TRUE(fx, out + PG <= top - 4 * PG - as->stack_guard);
}

/* When a call meets several problems, Linux's order of checks decides the
 * error (trace replays compare errno with Linux's).  do_mmap: the range
 * (__get_unmapped_area: ENOMEM past TASK_SIZE, then EINVAL unaligned, then
 * EPERM below mmap_min_addr), then EEXIST for MAP_FIXED_NOREPLACE, and only
 * then the file-mode check (EACCES). */
static void test_map_error_order(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = space(fx);
	struct vm_object *file = object(fx, VM_OBJECT_FILE, "/bin/true");
	vaddr_t out = 0xdead;
	vmfx_map(fx, as, A, 2 * PG, RW, FIXED);
	vmfx_check(fx);
	/* Read-only file (max r-x), asked for rw: EACCES comes last. */
	EXPECT_ERR_UNCHANGED(fx, as,
			     vm_map(as, A, PG, RW, VM_MAP_SHARED | VM_MAP_FIXED_NOREPLACE, file, 0, RX, &out),
			     -MMK_EEXIST);
	EXPECT_ERR_UNCHANGED(fx, as, vm_map(as, 0, PG, RW, VM_MAP_SHARED | VM_MAP_FIXED, file, 0, RX, &out),
			     -MMK_EPERM);
	EXPECT_ERR_UNCHANGED(fx, as,
			     vm_map(as, as->max_addr - PG, 2 * PG, RW, VM_MAP_SHARED | VM_MAP_FIXED, file, 0, RX, &out),
			     -MMK_ENOMEM);
	EXPECT_ERR_UNCHANGED(fx, as,
			     vm_map(as, A + 8 * PG + 5, PG, RW, VM_MAP_SHARED | VM_MAP_FIXED, file, 0, RX, &out),
			     -MMK_EINVAL);
	/* Fixed, unaligned and past the end: ENOMEM first. */
	EXPECT_ERR_UNCHANGED(fx, as, vm_map(as, as->max_addr - PG + 5, 2 * PG, RW, FIXED, NULL, 0, VM_PROT_ALL, &out),
			     -MMK_ENOMEM);
	vm_object_release(&fx->s.vm, file);
}

/* mremap(2): the VMA at old_addr is looked up (EFAULT) before mremap_to
 * checks the MREMAP_FIXED target (EINVAL). */
static void test_remap_error_order(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = space(fx);
	vaddr_t out = 0xdead;
	vmfx_map(fx, as, A, 2 * PG, RW, FIXED);
	vmfx_check(fx);
	EXPECT_ERR_UNCHANGED(fx, as,
			     vm_remap(as, A + 8 * PG, PG, PG, VM_MREMAP_MAYMOVE | VM_MREMAP_FIXED, A + 16 * PG + 1, &out),
			     -MMK_EFAULT);
	EXPECT_ERR_UNCHANGED(fx, as,
			     vm_remap(as, A + 8 * PG, PG, PG, VM_MREMAP_MAYMOVE | VM_MREMAP_FIXED, A + 8 * PG, &out),
			     -MMK_EFAULT);
}

/* mprotect(2): len 0 returns 0 before the protection bits are validated
 * (do_mprotect_pkey). */
static void test_protect_len0_before_bits(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = space(fx);
	vmfx_map(fx, as, A, PG, RW, FIXED);
	vmfx_check(fx);
	char *st = vmfx_state(fx, as);
	vmfx_op(fx, "vm_protect(A, 0, 0x10)");
	VMFX_RC(fx, vm_protect(as, A, 0, 0x10), 0);
	vmfx_check(fx);
	vmfx_same_state(fx, as, st, "vm_protect len 0");
	free(st);
}

/* ==== vm_unmap ==== */

static void test_unmap_subranges(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = space(fx);
	vmfx_map(fx, as, A, 10 * PG, RW, FIXED);
	fill(fx, A, 10);
	vmfx_check(fx);
	uint64_t free0 = vmfx_free_frames(fx);
	vmfx_op(fx, "unmap the first page");
	VMFX_RC(fx, vm_unmap(as, A, PG), 0);
	vmfx_check(fx);
	expect_vma(fx, as, A + PG, A + PG, A + 10 * PG, RW);
	expect_unmapped(fx, as, A, A + PG);
	vmfx_op(fx, "unmap the last page (length not page-aligned)");
	VMFX_RC(fx, vm_unmap(as, A + 9 * PG, 1), 0);
	vmfx_check(fx);
	expect_vma(fx, as, A + PG, A + PG, A + 9 * PG, RW);
	vmfx_op(fx, "unmap 2 pages in the middle: a split");
	VMFX_RC(fx, vm_unmap(as, A + 4 * PG, 2 * PG), 0);
	vmfx_check(fx);
	expect_vma(fx, as, A + PG, A + PG, A + 4 * PG, RW);
	expect_vma(fx, as, A + 6 * PG, A + 6 * PG, A + 9 * PG, RW);
	VMFX_EQ(fx, vmfx_vmas(as), 2);
	VMFX_EQ(fx, as->mapped_pages, 6);
	VMFX_EQ(fx, vmfx_resident(as), 6);
	VMFX_EQ(fx, vmfx_free_frames(fx), free0 + 4);
	for (int i = 1; i < 9; i++)
		if (i < 4 || i >= 6)
			VMFX_EQ(fx, rd(fx, A + i * PG + 100), pat(A + i * PG));
	VMFX_RC(fx, vmfx_touch(fx, 0, A + 4 * PG, VMFX_R), -MMK_EFAULT);
	vmfx_op(fx, "unmap across the hole, from inside one VMA into the other");
	VMFX_RC(fx, vm_unmap(as, A + 3 * PG, 4 * PG), 0);
	vmfx_check(fx);
	expect_vma(fx, as, A + PG, A + PG, A + 3 * PG, RW);
	expect_vma(fx, as, A + 7 * PG, A + 7 * PG, A + 9 * PG, RW);
	vmfx_op(fx, "unmap a range with nothing in it");
	VMFX_RC(fx, vm_unmap(as, A + 100 * PG, 50 * PG), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, vmfx_vmas(as), 2);
	vmfx_op(fx, "unmap a range that covers everything and more");
	VMFX_RC(fx, vm_unmap(as, A - 16 * PG, 64 * PG), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, vmfx_vmas(as), 0);
	VMFX_EQ(fx, vmfx_resident(as), 0);
	VMFX_EQ(fx, as->pmap.pt_pages, 1);
	vmfx_op(fx, "map again: zero");
	vmfx_map(fx, as, A, 10 * PG, RW, FIXED);
	for (int i = 0; i < 10; i++)
		VMFX_EQ(fx, rd(fx, A + i * PG + 100), 0);
	vmfx_check(fx);
}

static void test_unmap_errors(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = space(fx);
	vmfx_map(fx, as, A, 4 * PG, RW, FIXED);
	fill(fx, A, 4);
	vmfx_check(fx);
	EXPECT_ERR_UNCHANGED(fx, as, vm_unmap(as, A + 1, PG), -MMK_EINVAL);
	EXPECT_ERR_UNCHANGED(fx, as, vm_unmap(as, A + PG - 1, PG), -MMK_EINVAL);
	EXPECT_ERR_UNCHANGED(fx, as, vm_unmap(as, A, 0), -MMK_EINVAL);
	EXPECT_ERR_UNCHANGED(fx, as, vm_unmap(as, A, SIZE_MAX), -MMK_EINVAL);
	EXPECT_ERR_UNCHANGED(fx, as, vm_unmap(as, A, SIZE_MAX - A - 2 * PG), -MMK_EINVAL);
	EXPECT_ERR_UNCHANGED(fx, as, vm_unmap(as, as->max_addr - PG, 2 * PG), -MMK_EINVAL);
	EXPECT_ERR_UNCHANGED(fx, as, vm_unmap(as, UINT64_MAX & ~MMK_PAGE_MASK, PG), -MMK_EINVAL);
	/* Ending exactly at max_addr is fine. */
	vmfx_op(fx, "unmap up to max_addr");
	VMFX_RC(fx, vm_unmap(as, as->max_addr - PG, PG), 0);
	vmfx_check(fx);
}

/* ==== vm_protect ==== */

static void test_protect_split_merge(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = space(fx);
	vmfx_map(fx, as, A, 9 * PG, RW, FIXED);
	fill(fx, A, 9);
	vmfx_check(fx);
	vmfx_op(fx, "protect the middle 3 pages read-only");
	VMFX_RC(fx, vm_protect(as, A + 3 * PG, 3 * PG, R), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, vmfx_vmas(as), 3);
	expect_vma(fx, as, A, A, A + 3 * PG, RW);
	expect_vma(fx, as, A + 3 * PG, A + 3 * PG, A + 6 * PG, R);
	expect_vma(fx, as, A + 6 * PG, A + 6 * PG, A + 9 * PG, RW);
	/* The translations follow at once (TLB shootdown): the page written
	 * before is cached writable, and must now refuse. */
	VMFX_RC(fx, vmfx_write8(fx, 0, A + 4 * PG, 1), -MMK_EACCES);
	VMFX_RC(fx, vmfx_write8(fx, 0, A + 2 * PG, 1), 0);
	VMFX_EQ(fx, rd(fx, A + 4 * PG + 100), pat(A + 4 * PG));
	vmfx_check(fx);
	vmfx_op(fx, "re-protect the middle rw: merge back into 1");
	VMFX_RC(fx, vm_protect(as, A + 3 * PG, 3 * PG, RW), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, vmfx_vmas(as), 1);
	expect_vma(fx, as, A, A, A + 9 * PG, RW);
	VMFX_RC(fx, vmfx_write8(fx, 0, A + 4 * PG, 1), 0);
	vmfx_op(fx, "protect the first page, then the last, then all: one VMA");
	VMFX_RC(fx, vm_protect(as, A, PG, RX), 0);
	vmfx_check(fx);
	VMFX_RC(fx, vm_protect(as, A + 8 * PG, PG, R), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, vmfx_vmas(as), 3);
	VMFX_RC(fx, vm_protect(as, A, 9 * PG, VM_PROT_NONE), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, vmfx_vmas(as), 1);
	expect_vma(fx, as, A, A, A + 9 * PG, VM_PROT_NONE);
	VMFX_RC(fx, vmfx_touch(fx, 0, A + 8 * PG, VMFX_R), -MMK_EACCES);
	VMFX_EQ(fx, vmfx_resident(as), 9);
	vmfx_op(fx, "protect with an unaligned length rounds up");
	VMFX_RC(fx, vm_protect(as, A, PG + 1, R), 0);
	vmfx_check(fx);
	expect_vma(fx, as, A, A, A + 2 * PG, R);
	vmfx_op(fx, "len 0 succeeds and changes nothing, even unmapped");
	char *st = vmfx_state(fx, as);
	VMFX_RC(fx, vm_protect(as, A, 0, RW), 0);
	VMFX_RC(fx, vm_protect(as, A + 100 * PG, 0, RW), 0);
	vmfx_check(fx);
	vmfx_same_state(fx, as, st, "vm_protect len 0");
	free(st);
	/* Two VMAs with a hole between them and different protections. */
	vmfx_op(fx, "protect merges only neighbours that touch");
	vmfx_map(fx, as, A + 20 * PG, 2 * PG, R, FIXED);
	vmfx_map(fx, as, A + 23 * PG, 2 * PG, RX, FIXED);
	VMFX_RC(fx, vm_protect(as, A + 23 * PG, 2 * PG, R), 0);
	vmfx_check(fx);
	expect_vma(fx, as, A + 20 * PG, A + 20 * PG, A + 22 * PG, R);
	expect_vma(fx, as, A + 23 * PG, A + 23 * PG, A + 25 * PG, R);
}

static void test_protect_errors(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = space(fx);
	struct vm_object *file = object(fx, VM_OBJECT_FILE, "/bin/true");
	vaddr_t out;
	vmfx_map(fx, as, A, 4 * PG, RW, FIXED);
	/* [A+4p, A+6p) a read-only shared file mapping: max_prot r-x */
	VMFX_RC(fx, vm_map(as, A + 4 * PG, 2 * PG, R, VM_MAP_SHARED | VM_MAP_FIXED, file, 0, RX, &out), 0);
	vm_object_release(&fx->s.vm, file);
	vmfx_map(fx, as, A + 8 * PG, 2 * PG, RW, FIXED);
	fill(fx, A, 4);
	vmfx_check(fx);
	EXPECT_ERR_UNCHANGED(fx, as, vm_protect(as, A + 4 * PG, 2 * PG, RW), -MMK_EACCES);
	EXPECT_ERR_UNCHANGED(fx, as, vm_protect(as, A + 2 * PG, 4 * PG, RW), -MMK_EACCES);
	EXPECT_ERR_UNCHANGED(fx, as, vm_protect(as, A + 5 * PG, PG, VM_PROT_ALL), -MMK_EACCES);
	/* The hole [A+6p, A+8p). */
	EXPECT_ERR_UNCHANGED(fx, as, vm_protect(as, A + 6 * PG, PG, R), -MMK_ENOMEM);
	EXPECT_ERR_UNCHANGED(fx, as, vm_protect(as, A + 5 * PG, 4 * PG, R), -MMK_ENOMEM);
	EXPECT_ERR_UNCHANGED(fx, as, vm_protect(as, A + 2 * PG, 8 * PG, R), -MMK_ENOMEM);
	EXPECT_ERR_UNCHANGED(fx, as, vm_protect(as, A + 8 * PG, 3 * PG, R), -MMK_ENOMEM);
	EXPECT_ERR_UNCHANGED(fx, as, vm_protect(as, A - PG, 2 * PG, R), -MMK_ENOMEM);
	EXPECT_ERR_UNCHANGED(fx, as, vm_protect(as, A + 1, PG, R), -MMK_EINVAL);
	EXPECT_ERR_UNCHANGED(fx, as, vm_protect(as, A, PG, 0x10), -MMK_EINVAL);
	EXPECT_ERR_UNCHANGED(fx, as, vm_protect(as, A, SIZE_MAX, R), -MMK_ENOMEM);
	/* The part that is allowed works. */
	vmfx_op(fx, "protect the shared part r-x (within max_prot)");
	VMFX_RC(fx, vm_protect(as, A + 4 * PG, 2 * PG, RX), 0);
	vmfx_check(fx);
	expect_vma(fx, as, A + 4 * PG, A + 4 * PG, A + 6 * PG, RX);
}

/* Linux mprotect walks the range in address order: the first problem met
 * decides the error.  EACCES in a VMA that lies before a hole wins over
 * the hole's ENOMEM (mm/mprotect.c do_mprotect_pkey). */
static void test_protect_error_order(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = space(fx);
	struct vm_object *file = object(fx, VM_OBJECT_FILE, "/bin/true");
	vaddr_t out;
	VMFX_RC(fx, vm_map(as, A, 2 * PG, R, VM_MAP_SHARED | VM_MAP_FIXED, file, 0, R, &out), 0);
	vm_object_release(&fx->s.vm, file);
	vmfx_check(fx);
	/* [A, A+2p) max r--, then a hole. */
	EXPECT_ERR_UNCHANGED(fx, as, vm_protect(as, A, 4 * PG, RW), -MMK_EACCES);
}

/* PROT_GROWSDOWN (Linux do_mprotect_pkey): the range extends down to the
 * start of the first VMA in [addr, addr+len), which must be a stack
 * (EINVAL otherwise); no VMA in the range is ENOMEM; PROT_SEM is accepted
 * and ignored; PROT_GROWSUP is EINVAL on x86. */
#define PROT_GROWSDOWN 0x01000000u
#define PROT_GROWSUP 0x02000000u
#define PROT_SEM 0x8u
static void test_protect_growsdown(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = space(fx);
	const vaddr_t s = A + 64 * PG;
	vmfx_map(fx, as, s, 8 * PG, RW, FIXED | VM_MAP_GROWSDOWN);
	vmfx_map(fx, as, A, 4 * PG, RW, FIXED);
	vmfx_check(fx);
	vmfx_op(fx, "GROWSDOWN from the middle of a stack");
	VMFX_RC(fx, vm_protect(as, s + 4 * PG, PG, R | PROT_GROWSDOWN), 0);
	vmfx_check(fx);
	expect_vma(fx, as, s, s, s + 5 * PG, R);
	expect_vma(fx, as, s + 5 * PG, s + 5 * PG, s + 8 * PG, RW);
	vmfx_op(fx, "PROT_SEM is accepted and ignored");
	VMFX_RC(fx, vm_protect(as, A, PG, R | PROT_SEM), 0);
	vmfx_check(fx);
	expect_vma(fx, as, A, A, A + PG, R);
	EXPECT_ERR_UNCHANGED(fx, as, vm_protect(as, A, PG, R | PROT_GROWSDOWN), -MMK_EINVAL);
	EXPECT_ERR_UNCHANGED(fx, as, vm_protect(as, s, PG, R | PROT_GROWSUP), -MMK_EINVAL);
	EXPECT_ERR_UNCHANGED(fx, as, vm_protect(as, s, PG, R | PROT_GROWSUP | PROT_GROWSDOWN), -MMK_EINVAL);
	/* No VMA at all in the range: ENOMEM. */
	EXPECT_ERR_UNCHANGED(fx, as, vm_protect(as, s - 8 * PG, 2 * PG, R | PROT_GROWSDOWN), -MMK_ENOMEM);
	vmfx_op(fx, "GROWSDOWN from a hole below the stack: starts at the stack");
	VMFX_RC(fx, vm_protect(as, s - 2 * PG, 3 * PG, VM_PROT_NONE | PROT_GROWSDOWN), 0);
	vmfx_check(fx);
	expect_vma(fx, as, s, s, s + PG, VM_PROT_NONE);
	expect_unmapped(fx, as, s - 2 * PG, s);
}

/* ==== vm_remap ==== */

static void test_remap_shrink_grow(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = space(fx);
	vaddr_t out;
	vmfx_map(fx, as, A, 4 * PG, RW, FIXED);
	fill(fx, A, 4);
	vmfx_check(fx);
	uint64_t free0 = vmfx_free_frames(fx);
	vmfx_op(fx, "shrink 4 -> 2 pages");
	VMFX_RC(fx, vm_remap(as, A, 4 * PG, 2 * PG, 0, 0, &out), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, out, A);
	expect_vma(fx, as, A, A, A + 2 * PG, RW);
	expect_unmapped(fx, as, A + 2 * PG, A + 4 * PG);
	VMFX_EQ(fx, vmfx_free_frames(fx), free0 + 2);
	VMFX_EQ(fx, rd(fx, A + PG + 100), pat(A + PG));
	vmfx_op(fx, "same size: nothing to do");
	VMFX_RC(fx, vm_remap(as, A, 2 * PG, 2 * PG, 0, 0, &out), 0);
	VMFX_EQ(fx, out, A);
	vmfx_check(fx);
	vmfx_op(fx, "grow 2 -> 6 pages in place");
	VMFX_RC(fx, vm_remap(as, A, 2 * PG, 6 * PG, 0, 0, &out), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, out, A);
	expect_vma(fx, as, A, A, A + 6 * PG, RW);
	VMFX_EQ(fx, rd(fx, A + 100), pat(A));
	VMFX_EQ(fx, rd(fx, A + PG + 100), pat(A + PG));
	VMFX_EQ(fx, rd(fx, A + 2 * PG + 100), 0);
	VMFX_EQ(fx, rd(fx, A + 5 * PG + 100), 0);
	vmfx_check(fx);
	vmfx_op(fx, "grow in place up to a neighbour, exactly");
	vmfx_map(fx, as, A + 8 * PG, PG, R, FIXED);
	VMFX_RC(fx, vm_remap(as, A, 6 * PG, 8 * PG, 0, 0, &out), 0);
	vmfx_check(fx);
	expect_vma(fx, as, A, A, A + 8 * PG, RW);
	expect_vma(fx, as, A + 8 * PG, A + 8 * PG, A + 9 * PG, R);
	vmfx_op(fx, "grow the tail part of a VMA in place");
	VMFX_RC(fx, vm_unmap(as, A + 8 * PG, PG), 0);
	VMFX_RC(fx, vm_remap(as, A + 6 * PG, 2 * PG, 4 * PG, 0, 0, &out), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, out, A + 6 * PG);
	expect_vma(fx, as, A, A, A + 10 * PG, RW);
	vmfx_op(fx, "shrink a middle part: a hole");
	VMFX_RC(fx, vm_remap(as, A + 2 * PG, 4 * PG, PG, 0, 0, &out), 0);
	vmfx_check(fx);
	expect_vma(fx, as, A, A, A + 3 * PG, RW);
	expect_unmapped(fx, as, A + 3 * PG, A + 6 * PG);
	expect_vma(fx, as, A + 6 * PG, A + 6 * PG, A + 10 * PG, RW);
}

static void test_remap_grow_blocked(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = space(fx);
	vaddr_t out = 0xdead;
	vmfx_map(fx, as, A, 2 * PG, RW, FIXED);
	vmfx_map(fx, as, A + 3 * PG, PG, R, FIXED);
	fill(fx, A, 2);
	vmfx_check(fx);
	EXPECT_ERR_UNCHANGED(fx, as, vm_remap(as, A, 2 * PG, 4 * PG, 0, 0, &out), -MMK_ENOMEM);
	/* Growing the head part of a VMA cannot be in place. */
	EXPECT_ERR_UNCHANGED(fx, as, vm_remap(as, A, PG, 2 * PG, 0, 0, &out), -MMK_ENOMEM);
	/* Growing past max_addr. */
	vmfx_map(fx, as, as->max_addr - PG, PG, RW, FIXED);
	EXPECT_ERR_UNCHANGED(fx, as, vm_remap(as, as->max_addr - PG, PG, 2 * PG, 0, 0, &out), -MMK_ENOMEM);
	VMFX_EQ(fx, out, 0xdead);
}

static void test_remap_maymove_moves_contents(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = space(fx);
	vaddr_t out;
	vmfx_map(fx, as, A, 4 * PG, RW, FIXED);
	vmfx_map(fx, as, A + 4 * PG, PG, R, FIXED);
	/* Bytes at several offsets of 3 of the 4 pages; page 2 untouched. */
	uint8_t buf[3 * 4096];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 13 + 1);
	VMFX_RC(fx, sim_write(fx->s.machine, 0, A, buf, 2 * PG, true), 0);
	VMFX_RC(fx, sim_write(fx->s.machine, 0, A + 3 * PG, buf + 2 * PG, PG, true), 0);
	vmfx_check(fx);
	uint64_t free0 = vmfx_free_frames(fx);
	uint64_t fills = as->zero_fills;
	vmfx_op(fx, "grow 4 -> 6 pages with MREMAP_MAYMOVE: moves");
	VMFX_RC(fx, vm_remap(as, A, 4 * PG, 6 * PG, VM_MREMAP_MAYMOVE, 0, &out), 0);
	vmfx_check(fx);
	VMFX_TRUE(fx, out != A);
	VMFX_EQ(fx, out, as->mmap_base - 6 * PG);
	expect_vma(fx, as, out, out, out + 6 * PG, RW);
	expect_unmapped(fx, as, A, A + 4 * PG);
	expect_vma(fx, as, A + 4 * PG, A + 4 * PG, A + 5 * PG, R);
	/* The frames moved: no copy, no new fill, same residency. */
	VMFX_EQ(fx, vmfx_free_frames(fx), free0);
	VMFX_EQ(fx, vmfx_resident(as), 3);
	uint8_t *v = vmfx_mincore(fx, as, out, 6);
	VMFX_EQ(fx, v[0] + 2 * v[1] + 4 * v[2] + 8 * v[3] + 16 * v[4] + 32 * v[5], 1 + 2 + 8);
	free(v);
	uint8_t got[3 * 4096];
	VMFX_RC(fx, sim_read(fx->s.machine, 0, out, got, 2 * PG, true), 0);
	VMFX_RC(fx, sim_read(fx->s.machine, 0, out + 3 * PG, got + 2 * PG, PG, true), 0);
	VMFX_TRUE(fx, memcmp(got, buf, sizeof(buf)) == 0);
	VMFX_EQ(fx, as->zero_fills, fills);
	VMFX_EQ(fx, rd(fx, out + 2 * PG + 7), 0);
	VMFX_EQ(fx, rd(fx, out + 5 * PG + 7), 0);
	/* The old place is gone for the CPU too (no stale TLB entry). */
	VMFX_RC(fx, vmfx_touch(fx, 0, A, VMFX_R), -MMK_EFAULT);
	VMFX_RC(fx, vmfx_touch(fx, 0, A + 3 * PG, VMFX_W), -MMK_EFAULT);
	vmfx_check(fx);
}

static void test_remap_fixed(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = space(fx);
	vaddr_t out;
	vmfx_map(fx, as, A, 3 * PG, RW, FIXED);
	fill(fx, A, 3);
	/* The target holds a mapping with resident pages: replaced. */
	vaddr_t dst = A + 64 * PG;
	vmfx_map(fx, as, dst - PG, 4 * PG, RX, FIXED);
	VMFX_RC(fx, vmfx_touch(fx, 0, dst - PG, VMFX_R), 0);
	VMFX_RC(fx, vmfx_touch(fx, 0, dst + PG, VMFX_R), 0);
	vmfx_check(fx);
	uint64_t user0 = fx->s.vm.user_frames;
	vmfx_op(fx, "MREMAP_FIXED 3 pages onto [dst, dst+3p), over a mapping");
	VMFX_RC(fx, vm_remap(as, A, 3 * PG, 3 * PG, VM_MREMAP_MAYMOVE | VM_MREMAP_FIXED, dst, &out), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, out, dst);
	expect_unmapped(fx, as, A, A + 3 * PG);
	expect_vma(fx, as, dst - PG, dst - PG, dst, RX);
	expect_vma(fx, as, dst, dst, dst + 3 * PG, RW);
	/* The replaced page at dst + PG is gone; kernel metadata may move. */
	VMFX_EQ(fx, fx->s.vm.user_frames, user0 - 1);
	for (int i = 0; i < 3; i++)
		VMFX_EQ(fx, rd(fx, dst + i * PG + 100), pat(A + i * PG));
	VMFX_EQ(fx, rd(fx, dst - PG), 0);
	vmfx_check(fx);
	vmfx_op(fx, "MREMAP_FIXED shrinking 3 -> 1 page back to A");
	VMFX_RC(fx, vm_remap(as, dst, 3 * PG, PG, VM_MREMAP_MAYMOVE | VM_MREMAP_FIXED, A, &out), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, out, A);
	expect_vma(fx, as, A, A, A + PG, RW);
	expect_unmapped(fx, as, dst, dst + 3 * PG);
	VMFX_EQ(fx, rd(fx, A + 100), pat(A));
	VMFX_EQ(fx, vmfx_resident(as), 2);
	vmfx_op(fx, "MREMAP_FIXED growing 1 -> 3 pages");
	VMFX_RC(fx, vm_remap(as, A, PG, 3 * PG, VM_MREMAP_MAYMOVE | VM_MREMAP_FIXED, dst + 8 * PG, &out), 0);
	vmfx_check(fx);
	expect_vma(fx, as, dst + 8 * PG, dst + 8 * PG, dst + 11 * PG, RW);
	VMFX_EQ(fx, rd(fx, dst + 8 * PG + 100), pat(A));
	VMFX_EQ(fx, rd(fx, dst + 10 * PG + 100), 0);
	vmfx_check(fx);
}

static void test_remap_partial_moves_only_that_part(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = space(fx);
	vaddr_t out;
	vmfx_map(fx, as, A, 4 * PG, RW, FIXED);
	vmfx_map(fx, as, A + 4 * PG, PG, R, FIXED);
	fill(fx, A, 4);
	vmfx_check(fx);
	vmfx_op(fx, "remap the first 2 of 4 pages to 3 pages, MAYMOVE");
	VMFX_RC(fx, vm_remap(as, A, 2 * PG, 3 * PG, VM_MREMAP_MAYMOVE, 0, &out), 0);
	vmfx_check(fx);
	VMFX_TRUE(fx, out != A);
	expect_unmapped(fx, as, A, A + 2 * PG);
	expect_vma(fx, as, A + 2 * PG, A + 2 * PG, A + 4 * PG, RW);
	expect_vma(fx, as, out, out, out + 3 * PG, RW);
	VMFX_EQ(fx, rd(fx, out + 100), pat(A));
	VMFX_EQ(fx, rd(fx, out + PG + 100), pat(A + PG));
	VMFX_EQ(fx, rd(fx, out + 2 * PG + 100), 0);
	VMFX_EQ(fx, rd(fx, A + 2 * PG + 100), pat(A + 2 * PG));
	VMFX_EQ(fx, rd(fx, A + 3 * PG + 100), pat(A + 3 * PG));
	vmfx_check(fx);
	vmfx_op(fx, "remap a middle page of a VMA to 2 pages, MAYMOVE");
	vmfx_map(fx, as, A + 16 * PG, 3 * PG, RW, FIXED);
	fill(fx, A + 16 * PG, 3);
	VMFX_RC(fx, vm_remap(as, A + 17 * PG, PG, 2 * PG, VM_MREMAP_MAYMOVE, 0, &out), 0);
	vmfx_check(fx);
	expect_vma(fx, as, A + 16 * PG, A + 16 * PG, A + 17 * PG, RW);
	expect_unmapped(fx, as, A + 17 * PG, A + 18 * PG);
	expect_vma(fx, as, A + 18 * PG, A + 18 * PG, A + 19 * PG, RW);
	VMFX_EQ(fx, rd(fx, out + 100), pat(A + 17 * PG));
}

static void test_remap_dontunmap(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = space(fx);
	vaddr_t out;
	vmfx_map(fx, as, A, 2 * PG, RW, FIXED);
	fill(fx, A, 2);
	vmfx_check(fx);
	vmfx_op(fx, "MREMAP_DONTUNMAP");
	VMFX_RC(fx, vm_remap(as, A, 2 * PG, 2 * PG, VM_MREMAP_MAYMOVE | VM_MREMAP_DONTUNMAP, 0, &out), 0);
	vmfx_check(fx);
	VMFX_TRUE(fx, out != A);
	expect_vma(fx, as, A, A, A + 2 * PG, RW);
	expect_vma(fx, as, out, out, out + 2 * PG, RW);
	VMFX_EQ(fx, rd(fx, out + 100), pat(A));
	VMFX_EQ(fx, rd(fx, out + PG + 100), pat(A + PG));
	VMFX_EQ(fx, rd(fx, A + 100), 0);
	vmfx_check(fx);
}

static void test_remap_errors(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = space(fx);
	vaddr_t out = 0xdead;
	vmfx_map(fx, as, A, 2 * PG, RW, FIXED);
	vmfx_map(fx, as, A + 2 * PG, 2 * PG, R, FIXED);
	fill(fx, A, 2);
	vmfx_check(fx);
	/* The old range must lie in one VMA. */
	EXPECT_ERR_UNCHANGED(fx, as, vm_remap(as, A, 4 * PG, 4 * PG, 0, 0, &out), -MMK_EFAULT);
	EXPECT_ERR_UNCHANGED(fx, as, vm_remap(as, A + PG, 2 * PG, PG, 0, 0, &out), -MMK_EFAULT);
	EXPECT_ERR_UNCHANGED(fx, as, vm_remap(as, A + PG, 2 * PG, 8 * PG, VM_MREMAP_MAYMOVE, 0, &out), -MMK_EFAULT);
	EXPECT_ERR_UNCHANGED(fx, as, vm_remap(as, A + 8 * PG, PG, PG, VM_MREMAP_MAYMOVE, 0, &out), -MMK_EFAULT);
	EXPECT_ERR_UNCHANGED(fx, as, vm_remap(as, A + 3 * PG, 2 * PG, PG, 0, 0, &out), -MMK_EFAULT);
	/* Flags. */
	EXPECT_ERR_UNCHANGED(fx, as, vm_remap(as, A, PG, 2 * PG, 8, 0, &out), -MMK_EINVAL);
	EXPECT_ERR_UNCHANGED(fx, as, vm_remap(as, A, PG, PG, VM_MREMAP_FIXED, A + 16 * PG, &out), -MMK_EINVAL);
	EXPECT_ERR_UNCHANGED(fx, as, vm_remap(as, A, PG, PG, VM_MREMAP_DONTUNMAP, 0, &out), -MMK_EINVAL);
	EXPECT_ERR_UNCHANGED(fx, as,
			     vm_remap(as, A, PG, 2 * PG, VM_MREMAP_MAYMOVE | VM_MREMAP_DONTUNMAP, 0, &out),
			     -MMK_EINVAL);
	/* Alignment and lengths. */
	EXPECT_ERR_UNCHANGED(fx, as, vm_remap(as, A + 1, PG, PG, 0, 0, &out), -MMK_EINVAL);
	EXPECT_ERR_UNCHANGED(fx, as, vm_remap(as, A, PG, 0, 0, 0, &out), -MMK_EINVAL);
	EXPECT_ERR_UNCHANGED(fx, as, vm_remap(as, A, PG, SIZE_MAX, VM_MREMAP_MAYMOVE, 0, &out), -MMK_EINVAL);
	/* FIXED targets: unaligned, past the end, overlapping the source. */
	EXPECT_ERR_UNCHANGED(fx, as,
			     vm_remap(as, A, PG, PG, VM_MREMAP_MAYMOVE | VM_MREMAP_FIXED, A + 16 * PG + 1, &out),
			     -MMK_EINVAL);
	EXPECT_ERR_UNCHANGED(fx, as,
			     vm_remap(as, A, PG, 2 * PG, VM_MREMAP_MAYMOVE | VM_MREMAP_FIXED, as->max_addr - PG, &out),
			     -MMK_EINVAL);
	EXPECT_ERR_UNCHANGED(fx, as, vm_remap(as, A, 2 * PG, 2 * PG, VM_MREMAP_MAYMOVE | VM_MREMAP_FIXED, A + PG, &out),
			     -MMK_EINVAL);
	EXPECT_ERR_UNCHANGED(fx, as,
			     vm_remap(as, A + PG, PG, 2 * PG, VM_MREMAP_MAYMOVE | VM_MREMAP_FIXED, A, &out),
			     -MMK_EINVAL);
	/* MAYMOVE without room. */
	as->mmap_base = A + 6 * PG;
	as->min_addr = A;
	EXPECT_ERR_UNCHANGED(fx, as, vm_remap(as, A, 2 * PG, 3 * PG, VM_MREMAP_MAYMOVE, 0, &out), -MMK_ENOMEM);
	VMFX_EQ(fx, out, 0xdead);
}

/* MREMAP_FIXED below mmap_min_addr: Linux refuses with EPERM
 * (security_mmap_addr in get_unmapped_area); the target must never be
 * mapped. */
static void test_remap_fixed_below_min_addr(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = space(fx);
	vaddr_t out = 0xdead;
	vmfx_map(fx, as, A, PG, RW, FIXED);
	wr(fx, A, 5);
	vmfx_check(fx);
	EXPECT_ERR_UNCHANGED(fx, as, vm_remap(as, A, PG, PG, VM_MREMAP_MAYMOVE | VM_MREMAP_FIXED, 0, &out),
			     -MMK_EPERM);
	VMFX_TRUE(fx, vm_search(as, 0) == NULL);
}

/* ==== vm_brk ==== */

#define HEAP ((vaddr_t)0x600000ull)

static void test_brk(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = space(fx);
	vaddr_t b = 0;
	vmfx_op(fx, "brk before init is refused");
	vm_brk(as, HEAP + PG, &b);
	VMFX_EQ(fx, b, 0);
	vmfx_check(fx);
	VMFX_EQ(fx, vmfx_vmas(as), 0);
	vmfx_op(fx, "init");
	vm_brk_init(as, HEAP);
	VMFX_EQ(fx, as->start_brk, HEAP);
	VMFX_EQ(fx, as->brk, HEAP);
	vm_brk(as, 0, &b); /* brk(NULL) reads the break */
	VMFX_EQ(fx, b, HEAP);
	vmfx_check(fx);
	VMFX_EQ(fx, vmfx_vmas(as), 0);
	vmfx_op(fx, "grow by 3 pages and a bit");
	vm_brk(as, HEAP + 3 * PG + 16, &b);
	vmfx_check(fx);
	VMFX_EQ(fx, b, HEAP + 3 * PG + 16);
	VMFX_EQ(fx, as->brk, HEAP + 3 * PG + 16);
	expect_vma(fx, as, HEAP, HEAP, HEAP + 4 * PG, RW);
	VMFX_TRUE(fx, strcmp(vm_area_name(as, vma_at(as, HEAP)), "[heap]") == 0);
	fill(fx, HEAP, 4);
	vmfx_check(fx);
	vmfx_op(fx, "grow within the same page: no new VMA");
	vm_brk(as, HEAP + 4 * PG, &b);
	vmfx_check(fx);
	VMFX_EQ(fx, b, HEAP + 4 * PG);
	expect_vma(fx, as, HEAP, HEAP, HEAP + 4 * PG, RW);
	vmfx_op(fx, "grow again: one VMA");
	vm_brk(as, HEAP + 6 * PG, &b);
	vmfx_check(fx);
	expect_vma(fx, as, HEAP, HEAP, HEAP + 6 * PG, RW);
	VMFX_EQ(fx, vmfx_vmas(as), 1);
	uint64_t free0 = vmfx_free_frames(fx);
	vmfx_op(fx, "shrink to 1 page and a bit");
	vm_brk(as, HEAP + PG + 1, &b);
	vmfx_check(fx);
	VMFX_EQ(fx, b, HEAP + PG + 1);
	expect_vma(fx, as, HEAP, HEAP, HEAP + 2 * PG, RW);
	VMFX_EQ(fx, vmfx_free_frames(fx), free0 + 2);
	VMFX_EQ(fx, rd(fx, HEAP + PG + 100), pat(HEAP + PG));
	vmfx_op(fx, "below start_brk is refused: the old break comes back");
	char *st = vmfx_state(fx, as);
	vm_brk(as, HEAP - 1, &b);
	VMFX_EQ(fx, b, HEAP + PG + 1);
	vm_brk(as, 1, &b);
	VMFX_EQ(fx, b, HEAP + PG + 1);
	vmfx_check(fx);
	vmfx_same_state(fx, as, st, "brk below start_brk");
	free(st);
	vmfx_op(fx, "shrink to start_brk: no heap VMA left");
	vm_brk(as, HEAP, &b);
	vmfx_check(fx);
	VMFX_EQ(fx, b, HEAP);
	VMFX_EQ(fx, vmfx_vmas(as), 0);
	vmfx_op(fx, "grow again: zero pages");
	vm_brk(as, HEAP + 2 * PG, &b);
	vmfx_check(fx);
	VMFX_EQ(fx, rd(fx, HEAP + PG + 100), 0);
}

/* The heap's new VMA starts clean: brk_grow sets only the fields a heap
 * VMA needs and relies on the VMA cache zeroing (KMEM_ZERO), so the struct
 * the cache hands out next is first filled with ones and freed; none of
 * that may show through (flags, object, amap, offset, name). */
static void test_brk_new_vma_is_clean(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = space(fx);
	vaddr_t b;
	vm_brk_init(as, HEAP);
	vmfx_op(fx, "a garbage vm_area struct on top of the cache");
	struct kmem_cache *vc = &fx->s.vm.vma_cache;
	void *junk = kmem_cache_alloc(vc);
	VMFX_TRUE(fx, junk != NULL);
	memset(junk, 0xff, sizeof(struct vm_area));
	VMFX_EQ(fx, kmem_cache_free(vc, junk), 0);
	vmfx_op(fx, "grow the heap: a fresh private anonymous VMA");
	vm_brk(as, HEAP + 2 * PG, &b);
	VMFX_EQ(fx, b, HEAP + 2 * PG);
	const struct vm_area *v = vm_search(as, HEAP);
	VMFX_TRUE(fx, v != NULL);
	VMFX_EQ(fx, v->flags, 0);
	VMFX_TRUE(fx, v->object == NULL && v->amap == NULL && v->offset == 0 && v->name == NULL);
	vmfx_check(fx);
	VMFX_TRUE(fx, strcmp(vm_area_name(as, v), "[heap]") == 0);
	VMFX_EQ(fx, rd(fx, HEAP + 100), 0);
	vmfx_check(fx);
}

static void test_brk_refused_by_next_mapping(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = space(fx);
	vaddr_t b;
	vm_brk_init(as, HEAP);
	vmfx_map(fx, as, HEAP + 10 * PG, PG, R, FIXED);
	vmfx_check(fx);
	vmfx_op(fx, "grow to one page below the next mapping: allowed");
	vm_brk(as, HEAP + 9 * PG, &b);
	vmfx_check(fx);
	VMFX_EQ(fx, b, HEAP + 9 * PG);
	expect_vma(fx, as, HEAP, HEAP, HEAP + 9 * PG, RW);
	char *st = vmfx_state(fx, as);
	vmfx_op(fx, "grow into the page right below the next mapping: refused");
	vm_brk(as, HEAP + 9 * PG + 1, &b);
	VMFX_EQ(fx, b, HEAP + 9 * PG);
	vm_brk(as, HEAP + 10 * PG, &b);
	VMFX_EQ(fx, b, HEAP + 9 * PG);
	vm_brk(as, HEAP + 20 * PG, &b);
	VMFX_EQ(fx, b, HEAP + 9 * PG);
	vmfx_check(fx);
	vmfx_same_state(fx, as, st, "refused brk");
	free(st);
	/* A stack above keeps its guard gap free of heap. */
	vmfx_op(fx, "brk below a stack stops stack_guard short of it");
	VMFX_RC(fx, vm_unmap(as, HEAP + 10 * PG, PG), 0);
	vaddr_t stack = HEAP + 9 * PG + as->stack_guard + 4 * PG;
	vmfx_map(fx, as, stack, 4 * PG, RW, FIXED | VM_MAP_GROWSDOWN);
	vm_brk(as, stack - as->stack_guard - PG + 1, &b);
	VMFX_EQ(fx, b, HEAP + 9 * PG);
	vm_brk(as, stack - as->stack_guard - PG, &b);
	VMFX_EQ(fx, b, stack - as->stack_guard - PG);
	vmfx_check(fx);
}

/* ==== vm_madvise ==== */

static void test_madvise_dontneed(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = space(fx);
	vmfx_map(fx, as, A, 6 * PG, RW, FIXED);
	fill(fx, A, 6);
	vmfx_check(fx);
	uint64_t free0 = vmfx_free_frames(fx);
	vmfx_op(fx, "DONTNEED pages 1..3");
	VMFX_RC(fx, vm_madvise(as, A + PG, 3 * PG, VM_MADV_DONTNEED), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, vmfx_resident(as), 3);
	VMFX_EQ(fx, vmfx_free_frames(fx), free0 + 3);
	expect_vma(fx, as, A, A, A + 6 * PG, RW);
	VMFX_EQ(fx, vmfx_vmas(as), 1);
	vmfx_op(fx, "re-fault: zeroes where DONTNEED went, bytes elsewhere");
	for (int i = 0; i < 6; i++)
		VMFX_EQ(fx, rd(fx, A + i * PG + 100), (i >= 1 && i <= 3) ? 0 : pat(A + i * PG));
	VMFX_EQ(fx, vmfx_resident(as), 6);
	vmfx_check(fx);
	vmfx_op(fx, "DONTNEED with a length that is not page-aligned");
	VMFX_RC(fx, vm_madvise(as, A, 1, VM_MADV_DONTNEED), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, vmfx_resident(as), 5);
	vmfx_op(fx, "len 0 succeeds, even on a hole");
	VMFX_RC(fx, vm_madvise(as, A + 100 * PG, 0, VM_MADV_DONTNEED), 0);
	vmfx_check(fx);
}

static void test_madvise_fork_flags_split_merge(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = space(fx);
	vmfx_map(fx, as, A, 6 * PG, RW, FIXED);
	vmfx_check(fx);
	const int set[] = { VM_MADV_DONTFORK, VM_MADV_WIPEONFORK };
	const int clear[] = { VM_MADV_DOFORK, VM_MADV_KEEPONFORK };
	const unsigned flag[] = { VMA_DONTFORK, VMA_WIPEONFORK };
	for (int k = 0; k < 2; k++) {
		vmfx_op(fx, "advice %d on the middle 2 pages: 3 VMAs", set[k]);
		VMFX_RC(fx, vm_madvise(as, A + 2 * PG, 2 * PG, set[k]), 0);
		vmfx_check(fx);
		VMFX_EQ(fx, vmfx_vmas(as), 3);
		expect_vma(fx, as, A + 2 * PG, A + 2 * PG, A + 4 * PG, RW);
		VMFX_EQ(fx, vma_at(as, A + 2 * PG)->flags, flag[k]);
		VMFX_EQ(fx, vma_at(as, A)->flags, 0);
		VMFX_EQ(fx, vma_at(as, A + 5 * PG)->flags, 0);
		vmfx_op(fx, "advice %d again on the same range: unchanged", set[k]);
		VMFX_RC(fx, vm_madvise(as, A + 2 * PG, 2 * PG, set[k]), 0);
		vmfx_check(fx);
		VMFX_EQ(fx, vmfx_vmas(as), 3);
		vmfx_op(fx, "advice %d undoes it: merged back into 1", clear[k]);
		VMFX_RC(fx, vm_madvise(as, A + 2 * PG, 2 * PG, clear[k]), 0);
		vmfx_check(fx);
		VMFX_EQ(fx, vmfx_vmas(as), 1);
		expect_vma(fx, as, A, A, A + 6 * PG, RW);
		VMFX_EQ(fx, vma_at(as, A)->flags, 0);
	}
	vmfx_op(fx, "DONTFORK across two VMAs of different prot: both flagged, still two");
	vmfx_map(fx, as, A + 6 * PG, 2 * PG, VM_PROT_READ, FIXED);
	VMFX_RC(fx, vm_madvise(as, A + 4 * PG, 4 * PG, VM_MADV_DONTFORK), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, vmfx_vmas(as), 3);
	VMFX_EQ(fx, vma_at(as, A + 4 * PG)->flags, VMA_DONTFORK);
	VMFX_EQ(fx, vma_at(as, A + 7 * PG)->flags, VMA_DONTFORK);
	expect_vma(fx, as, A + 7 * PG, A + 6 * PG, A + 8 * PG, VM_PROT_READ);
	VMFX_RC(fx, vm_madvise(as, A, 8 * PG, VM_MADV_DOFORK), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, vmfx_vmas(as), 2);
	VMFX_RC(fx, vm_unmap(as, A + 6 * PG, 2 * PG), 0);
	vmfx_check(fx);
	vmfx_op(fx, "advice that changes no flag leaves the VMA whole");
	const int plain[] = { VM_MADV_NORMAL, VM_MADV_RANDOM, VM_MADV_SEQUENTIAL, VM_MADV_WILLNEED,
			      VM_MADV_COLD, VM_MADV_PAGEOUT, VM_MADV_MERGEABLE, VM_MADV_UNMERGEABLE };
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		VMFX_RC(fx, vm_madvise(as, A + 2 * PG, 2 * PG, plain[i]), 0);
		vmfx_check(fx);
		VMFX_EQ(fx, vmfx_vmas(as), 1);
	}
}

static void test_madvise_errors(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = space(fx);
	struct vm_object *shm = object(fx, VM_OBJECT_ANON, NULL);
	vaddr_t out;
	vmfx_map(fx, as, A, 2 * PG, RW, FIXED);
	vmfx_map(fx, as, A + 3 * PG, 2 * PG, RW, FIXED);
	VMFX_RC(fx, vm_map(as, A + 8 * PG, PG, RW, VM_MAP_SHARED | VM_MAP_FIXED, shm, 0, VM_PROT_ALL, &out), 0);
	vm_object_release(&fx->s.vm, shm);
	vmfx_map(fx, as, A + 10 * PG, PG, RW, FIXED | VM_MAP_LOCKED);
	fill(fx, A, 2);
	fill(fx, A + 3 * PG, 2);
	vmfx_check(fx);
	const int unknown[] = { 5, 6, 7, 22, 99, -1 };
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
		EXPECT_ERR_UNCHANGED(fx, as, vm_madvise(as, A, PG, unknown[i]), -MMK_EINVAL);
	EXPECT_ERR_UNCHANGED(fx, as, vm_madvise(as, A + 1, PG, VM_MADV_DONTNEED), -MMK_EINVAL);
	EXPECT_ERR_UNCHANGED(fx, as, vm_madvise(as, A, SIZE_MAX, VM_MADV_DONTNEED), -MMK_EINVAL);
	/* A hole: nothing changes (differs from Linux, documented). */
	EXPECT_ERR_UNCHANGED(fx, as, vm_madvise(as, A, 5 * PG, VM_MADV_DONTNEED), -MMK_ENOMEM);
	EXPECT_ERR_UNCHANGED(fx, as, vm_madvise(as, A + PG, 2 * PG, VM_MADV_DONTFORK), -MMK_ENOMEM);
	EXPECT_ERR_UNCHANGED(fx, as, vm_madvise(as, A + 2 * PG, PG, VM_MADV_WIPEONFORK), -MMK_ENOMEM);
	EXPECT_ERR_UNCHANGED(fx, as, vm_madvise(as, A + 4 * PG, 3 * PG, VM_MADV_NORMAL), -MMK_ENOMEM);
	/* WIPEONFORK only on private anonymous memory; DONTNEED not locked. */
	EXPECT_ERR_UNCHANGED(fx, as, vm_madvise(as, A + 8 * PG, PG, VM_MADV_WIPEONFORK), -MMK_EINVAL);
	EXPECT_ERR_UNCHANGED(fx, as, vm_madvise(as, A + 10 * PG, PG, VM_MADV_DONTNEED), -MMK_EINVAL);
}

/* ==== vm_mlock, vm_mincore, vm_msync ==== */

static void test_mlock_populates(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = space(fx);
	vmfx_map(fx, as, A, 8 * PG, RW, FIXED);
	vmfx_check(fx);
	vmfx_op(fx, "mlock pages 2..5 (unaligned start rounds down)");
	VMFX_RC(fx, vm_mlock(as, A + 2 * PG + 10, 4 * PG - 10, true), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, vmfx_vmas(as), 3);
	VMFX_EQ(fx, vma_at(as, A + 2 * PG)->flags, VMA_LOCKED);
	expect_vma(fx, as, A + 2 * PG, A + 2 * PG, A + 6 * PG, RW);
	VMFX_EQ(fx, vmfx_resident(as), 4);
	uint8_t *v = vmfx_mincore(fx, as, A, 8);
	for (int i = 0; i < 8; i++)
		VMFX_EQ(fx, v[i], i >= 2 && i < 6);
	free(v);
	sim_reset_stats(fx->s.machine);
	for (int i = 2; i < 6; i++)
		wr(fx, A + i * PG, 1);
	struct sim_stats st;
	sim_get_stats(fx->s.machine, &st);
	VMFX_EQ(fx, st.faults, 0);
	vmfx_op(fx, "munlock merges back");
	VMFX_RC(fx, vm_mlock(as, A + 2 * PG, 4 * PG, false), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, vmfx_vmas(as), 1);
	VMFX_EQ(fx, vmfx_resident(as), 4);
	EXPECT_ERR_UNCHANGED(fx, as, vm_mlock(as, A + 6 * PG, 4 * PG, true), -MMK_ENOMEM);
	vmfx_op(fx, "MAP_LOCKED populates at map time");
	vmfx_map(fx, as, A + 16 * PG, 3 * PG, RW, FIXED | VM_MAP_LOCKED);
	vmfx_check(fx);
	VMFX_EQ(fx, vmfx_resident(as), 7);
	VMFX_EQ(fx, vma_at(as, A + 16 * PG)->flags, VMA_LOCKED);
}

static void test_mincore(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = space(fx);
	vmfx_map(fx, as, A, 5 * PG, RW, FIXED);
	vmfx_map(fx, as, A + 5 * PG, 2 * PG, VM_PROT_NONE, FIXED);
	wr(fx, A + PG, 1);
	wr(fx, A + 4 * PG, 1);
	vmfx_check(fx);
	vmfx_op(fx, "mincore over two VMAs");
	uint8_t vec[8];
	memset(vec, 0xee, sizeof(vec));
	VMFX_RC(fx, vm_mincore(as, A, 7 * PG, vec), 0);
	const uint8_t want[7] = { 0, 1, 0, 0, 1, 0, 0 };
	VMFX_TRUE(fx, memcmp(vec, want, 7) == 0);
	VMFX_EQ(fx, vec[7], 0xee);
	vmfx_op(fx, "mincore with an unaligned length covers the partial page");
	memset(vec, 0xee, sizeof(vec));
	VMFX_RC(fx, vm_mincore(as, A + PG, PG + 1, vec), 0);
	VMFX_EQ(fx, vec[0], 1);
	VMFX_EQ(fx, vec[1], 0);
	VMFX_EQ(fx, vec[2], 0xee);
	vmfx_check(fx);
	EXPECT_ERR_UNCHANGED(fx, as, vm_mincore(as, A + 1, PG, vec), -MMK_EINVAL);
	EXPECT_ERR_UNCHANGED(fx, as, vm_mincore(as, A, 8 * PG, vec), -MMK_ENOMEM);
	EXPECT_ERR_UNCHANGED(fx, as, vm_mincore(as, A - PG, 2 * PG, vec), -MMK_ENOMEM);
	EXPECT_ERR_UNCHANGED(fx, as, vm_mincore(as, A, SIZE_MAX, vec), -MMK_ENOMEM);
}

static void test_msync_errors(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = space(fx);
	vmfx_map(fx, as, A, 2 * PG, RW, FIXED);
	vmfx_map(fx, as, A + 3 * PG, PG, RW, FIXED | VM_MAP_LOCKED);
	vmfx_check(fx);
	vmfx_op(fx, "msync of a mapped range");
	VMFX_RC(fx, vm_msync(as, A, 2 * PG, VM_MS_SYNC), 0);
	VMFX_RC(fx, vm_msync(as, A, PG + 1, VM_MS_ASYNC), 0);
	VMFX_RC(fx, vm_msync(as, A, 2 * PG, VM_MS_INVALIDATE), 0);
	VMFX_RC(fx, vm_msync(as, A, 0, VM_MS_SYNC), 0);
	VMFX_RC(fx, vm_msync(as, A + 3 * PG, PG, VM_MS_SYNC), 0);
	vmfx_check(fx);
	EXPECT_ERR_UNCHANGED(fx, as, vm_msync(as, A, PG, 8), -MMK_EINVAL);
	EXPECT_ERR_UNCHANGED(fx, as, vm_msync(as, A, PG, VM_MS_ASYNC | VM_MS_SYNC), -MMK_EINVAL);
	EXPECT_ERR_UNCHANGED(fx, as, vm_msync(as, A + 1, PG, VM_MS_SYNC), -MMK_EINVAL);
	EXPECT_ERR_UNCHANGED(fx, as, vm_msync(as, A, 3 * PG, VM_MS_SYNC), -MMK_ENOMEM);
	EXPECT_ERR_UNCHANGED(fx, as, vm_msync(as, A + 8 * PG, PG, VM_MS_ASYNC), -MMK_ENOMEM);
	EXPECT_ERR_UNCHANGED(fx, as, vm_msync(as, A, SIZE_MAX, VM_MS_SYNC), -MMK_ENOMEM);
	EXPECT_ERR_UNCHANGED(fx, as, vm_msync(as, A + 3 * PG, PG, VM_MS_INVALIDATE), -MMK_EBUSY);
	EXPECT_ERR_UNCHANGED(fx, as, vm_msync(as, A, 4 * PG, VM_MS_INVALIDATE | VM_MS_SYNC), -MMK_EBUSY);
}

/* ==== vm_display ==== */

static void test_display_byte_exact(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = space(fx);
	vaddr_t out, b;
	struct vm_object *libc = object(fx, VM_OBJECT_FILE, "/usr/lib/x86_64-linux-gnu/libc.so.6");
	libc->dev_major = 0x103;
	libc->dev_minor = 2;
	libc->inode = 1835093;
	struct vm_object *shm = object(fx, VM_OBJECT_ANON, NULL);
	shm->inode = 42;
	vmfx_map(fx, as, 0x400000, 2 * PG, RX, FIXED);
	vm_brk_init(as, HEAP);
	vm_brk(as, 0x603010, &b);
	VMFX_EQ(fx, b, 0x603010);
	VMFX_RC(fx, vm_map(as, 0x7f1234560000ull, 3 * PG, R, VM_MAP_PRIVATE | VM_MAP_FIXED, libc, 0x28000, VM_PROT_ALL,
			   &out), 0);
	VMFX_RC(fx, vm_map(as, 0x7f12345a0000ull, PG, RW, VM_MAP_SHARED | VM_MAP_FIXED, shm, 0, VM_PROT_ALL, &out), 0);
	VMFX_RC(fx, vm_map_special(as, 0x7ffff7fc1000ull, 2 * PG, RX, RX, VMA_SPECIAL, NULL, 0, "[vdso]"), 0);
	vmfx_map(fx, as, 0x7ffffffdd000ull, 0x22000, RW, FIXED | VM_MAP_GROWSDOWN);
	as->start_stack = 0x7ffffffde123ull;
	vm_object_release(&fx->s.vm, libc);
	vm_object_release(&fx->s.vm, shm);
	vmfx_check(fx);
	static const char want[] =
		"00400000-00402000 r-xp 00000000 00:00 0 \n"
		"00600000-00604000 rw-p 00000000 00:00 0                                  [heap]\n"
		"7f1234560000-7f1234563000 r--p 00028000 103:02 1835093                   "
		"/usr/lib/x86_64-linux-gnu/libc.so.6\n"
		"7f12345a0000-7f12345a1000 rw-s 00000000 00:00 42 \n"
		"7ffff7fc1000-7ffff7fc3000 r-xp 00000000 00:00 0                          [vdso]\n"
		"7ffffffdd000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]\n";
	vmfx_op(fx, "vm_display");
	expect_layout(fx, as, want);
	/* Sizing and truncation. */
	VMFX_EQ(fx, vm_display(as, NULL, 0), strlen(want));
	char small[20];
	memset(small, 'x', sizeof(small));
	VMFX_EQ(fx, vm_display(as, small, sizeof(small)), strlen(want));
	VMFX_TRUE(fx, memcmp(small, want, 19) == 0);
	VMFX_EQ(fx, small[19], '\0');
	char one = 'x';
	VMFX_EQ(fx, vm_display(as, &one, 1), strlen(want));
	VMFX_EQ(fx, one, '\0');
	/* Offsets follow splits of a file mapping. */
	vmfx_op(fx, "protect the middle page of the libc mapping");
	VMFX_RC(fx, vm_protect(as, 0x7f1234561000ull, PG, VM_PROT_NONE), 0);
	vmfx_check(fx);
	char *t = vmfx_layout(as);
	VMFX_TRUE(fx, strstr(t, "7f1234561000-7f1234562000 ---p 00029000 103:02 1835093") != NULL);
	VMFX_TRUE(fx, strstr(t, "7f1234562000-7f1234563000 r--p 0002a000 103:02 1835093") != NULL);
	free(t);
	/* An empty space prints nothing. */
	struct vm_space *empty = vmfx_space(fx);
	char e[4] = "abc";
	VMFX_EQ(fx, vm_display(empty, e, sizeof(e)), 0);
	VMFX_EQ(fx, e[0], '\0');
	vmfx_destroy(fx, empty);
}

/* ==== dead, scavenge, sweep ==== */

static void test_dead_scavenge_sweep(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = space(fx);
	vaddr_t out;
	vmfx_map(fx, as, A, 6 * PG, RW, FIXED);
	fill(fx, A, 6);
	vmfx_check(fx);
	uint64_t free0 = vmfx_free_frames(fx);
	vmfx_op(fx, "mark pages 2..3 dead");
	VMFX_RC(fx, vm_mark_dead(as, A + 2 * PG, 2 * PG), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, vmfx_vmas(as), 3);
	VMFX_EQ(fx, as->dead_vmas, 1);
	VMFX_TRUE(fx, vma_at(as, A + 2 * PG)->flags & VMA_DEAD);
	vmfx_op(fx, "a dead range refuses every access at once (cached TLB entries too)");
	VMFX_TRUE(fx, vmfx_touch(fx, 0, A + 2 * PG, VMFX_R) < 0);
	VMFX_TRUE(fx, vmfx_touch(fx, 0, A + 3 * PG + 5, VMFX_W) < 0);
	VMFX_EQ(fx, rd(fx, A + PG + 100), pat(A + PG));
	VMFX_EQ(fx, rd(fx, A + 4 * PG + 100), pat(A + 4 * PG));
	vmfx_check(fx);
	vmfx_op(fx, "the addresses stay reserved");
	EXPECT_ERR_UNCHANGED(fx, as, vm_map(as, A + 2 * PG, PG, RW, NOREPLACE, NULL, 0, VM_PROT_ALL, &out),
			     -MMK_EEXIST);
	EXPECT_ERR_UNCHANGED(fx, as, vm_protect(as, A + 2 * PG, PG, R), -MMK_ENOMEM);
	EXPECT_ERR_UNCHANGED(fx, as, vm_remap(as, A + 2 * PG, PG, 2 * PG, VM_MREMAP_MAYMOVE, 0, &out), -MMK_EFAULT);
	VMFX_RC(fx, vm_map(as, A + 2 * PG, PG, RW, ANON, NULL, 0, VM_PROT_ALL, &out), 0);
	VMFX_TRUE(fx, out != A + 2 * PG);
	VMFX_RC(fx, vm_unmap(as, out, PG), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, vmfx_free_frames(fx), free0);
	vmfx_op(fx, "scavenge frees the dead frames");
	VMFX_EQ(fx, vm_scavenge(as), 2);
	vmfx_check(fx);
	VMFX_EQ(fx, vmfx_free_frames(fx), free0 + 2);
	VMFX_EQ(fx, vmfx_resident(as), 4);
	VMFX_EQ(fx, vmfx_vmas(as), 3);
	VMFX_EQ(fx, vm_scavenge(as), 0);
	EXPECT_ERR_UNCHANGED(fx, as, vm_map(as, A + 3 * PG, PG, RW, NOREPLACE, NULL, 0, VM_PROT_ALL, &out),
			     -MMK_EEXIST);
	vmfx_op(fx, "sweep frees the addresses");
	VMFX_EQ(fx, vm_sweep(as), 1);
	vmfx_check(fx);
	VMFX_EQ(fx, as->dead_vmas, 0);
	VMFX_EQ(fx, vmfx_vmas(as), 2);
	expect_unmapped(fx, as, A + 2 * PG, A + 4 * PG);
	VMFX_RC(fx, vm_map(as, A + 2 * PG, 2 * PG, RW, NOREPLACE, NULL, 0, VM_PROT_ALL, &out), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, vmfx_vmas(as), 1);
	VMFX_EQ(fx, rd(fx, A + 2 * PG + 100), 0);
	vmfx_op(fx, "sweep without scavenge frees frames too; several dead VMAs");
	VMFX_RC(fx, vm_mark_dead(as, A, PG), 0);
	VMFX_RC(fx, vm_mark_dead(as, A + 4 * PG, 2 * PG), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, as->dead_vmas, 2);
	VMFX_EQ(fx, vm_sweep(as), 2);
	vmfx_check(fx);
	VMFX_EQ(fx, vmfx_vmas(as), 1);
	expect_vma(fx, as, A + PG, A + PG, A + 4 * PG, RW);
	VMFX_EQ(fx, vmfx_resident(as), 2);
	EXPECT_ERR_UNCHANGED(fx, as, vm_mark_dead(as, A, 2 * PG), -MMK_ENOMEM);
	EXPECT_ERR_UNCHANGED(fx, as, vm_mark_dead(as, A + PG + 1, PG), -MMK_EINVAL);
	EXPECT_ERR_UNCHANGED(fx, as, vm_mark_dead(as, A + PG, 0), -MMK_EINVAL);
	VMFX_EQ(fx, vm_sweep(as), 0);

	vmfx_op(fx, "unmap inside a dead range, fork with a dead VMA, sweep the rest");
	vmfx_map(fx, as, A + 16 * PG, 6 * PG, RW, FIXED);
	fill(fx, A + 16 * PG, 6);
	VMFX_RC(fx, vm_mark_dead(as, A + 16 * PG, 6 * PG), 0);
	VMFX_RC(fx, vm_unmap(as, A + 18 * PG, 2 * PG), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, as->dead_vmas, 2);
	struct vm_space *child;
	VMFX_RC(fx, vm_space_fork(as, &child), 0);
	vmfx_adopt(fx, child);
	vmfx_check(fx);
	VMFX_EQ(fx, child->dead_vmas, 2);
	VMFX_EQ(fx, vm_sweep(child), 2);
	VMFX_EQ(fx, vm_sweep(as), 2);
	vmfx_check(fx);
	expect_unmapped(fx, as, A + 16 * PG, A + 22 * PG);
	vmfx_destroy(fx, child);
	vmfx_check(fx);
}

/* ==== fork ==== */

static void test_fork(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *parent = space(fx);
	struct vm_object *shm = object(fx, VM_OBJECT_ANON, "shm");
	vaddr_t out;
	const vaddr_t priv = A, shared = A + 16 * PG, dontfork = A + 32 * PG, wipe = A + 48 * PG;
	vmfx_map(fx, parent, priv, 4 * PG, RW, FIXED);
	VMFX_RC(fx, vm_map(parent, shared, 4 * PG, RW, VM_MAP_SHARED | VM_MAP_FIXED, shm, 0, VM_PROT_ALL, &out), 0);
	vm_object_release(&fx->s.vm, shm);
	vmfx_map(fx, parent, dontfork, 2 * PG, RW, FIXED);
	vmfx_map(fx, parent, wipe, 2 * PG, RW, FIXED);
	fill(fx, priv, 4);
	fill(fx, shared, 4);
	fill(fx, dontfork, 2);
	fill(fx, wipe, 2);
	VMFX_RC(fx, vm_madvise(parent, dontfork, 2 * PG, VM_MADV_DONTFORK), 0);
	VMFX_RC(fx, vm_madvise(parent, wipe, 2 * PG, VM_MADV_WIPEONFORK), 0);
	vm_brk_init(parent, HEAP);
	vm_brk(parent, HEAP + PG, &out);
	vmfx_check(fx);
	char *pstate = vmfx_state(fx, parent);

	vmfx_op(fx, "fork");
	struct vm_space *child = NULL;
	VMFX_RC(fx, vm_space_fork(parent, &child), 0);
	vmfx_adopt(fx, child);
	vmfx_check(fx);
	vmfx_same_state(fx, parent, pstate, "fork (parent)");
	free(pstate);
	vm_space_activate(child, 1);
	VMFX_EQ(fx, child->start_brk, HEAP);
	VMFX_EQ(fx, child->brk, HEAP + PG);
	VMFX_EQ(fx, vmfx_vmas(child), vmfx_vmas(parent) - 1);
	expect_vma(fx, child, priv, priv, priv + 4 * PG, RW);
	expect_vma(fx, child, shared, shared, shared + 4 * PG, RW);
	VMFX_TRUE(fx, vm_search(child, shared)->object == vm_search(parent, shared)->object);
	VMFX_TRUE(fx, vm_search(child, shared)->flags & VMA_SHARED);
	expect_unmapped(fx, child, dontfork, dontfork + 2 * PG);
	expect_vma(fx, child, wipe, wipe, wipe + 2 * PG, RW);
	/* Private and shared pages are resident in the child; wiped ones not. */
	VMFX_EQ(fx, vmfx_resident(child), 8);

	uint8_t b;
	vmfx_op(fx, "child reads the parent's bytes");
	for (int i = 0; i < 4; i++) {
		VMFX_RC(fx, vmfx_read8(fx, 1, priv + i * PG + 100, &b), 0);
		VMFX_EQ(fx, b, pat(priv + i * PG));
		VMFX_RC(fx, vmfx_read8(fx, 1, shared + i * PG + 100, &b), 0);
		VMFX_EQ(fx, b, pat(shared + i * PG));
	}
	vmfx_op(fx, "DONTFORK is absent in the child, WIPEONFORK reads zero");
	VMFX_RC(fx, vmfx_read8(fx, 1, dontfork + 100, &b), -MMK_EFAULT);
	VMFX_RC(fx, vmfx_read8(fx, 1, wipe + 100, &b), 0);
	VMFX_EQ(fx, b, 0);
	VMFX_RC(fx, vmfx_read8(fx, 1, wipe + PG + 100, &b), 0);
	VMFX_EQ(fx, b, 0);
	VMFX_EQ(fx, rd(fx, wipe + 100), pat(wipe));
	VMFX_EQ(fx, rd(fx, dontfork + PG + 100), pat(dontfork + PG));
	vmfx_check(fx);

	vmfx_op(fx, "private writes stay private, both ways");
	VMFX_RC(fx, vmfx_write8(fx, 1, priv + 100, 0xc1), 0);
	wr(fx, priv + PG + 100, 0xd1);
	VMFX_EQ(fx, rd(fx, priv + 100), pat(priv));
	VMFX_RC(fx, vmfx_read8(fx, 1, priv + PG + 100, &b), 0);
	VMFX_EQ(fx, b, pat(priv + PG));
	VMFX_RC(fx, vmfx_read8(fx, 1, priv + 100, &b), 0);
	VMFX_EQ(fx, b, 0xc1);
	vmfx_check(fx);

	vmfx_op(fx, "shared writes are seen both ways");
	VMFX_RC(fx, vmfx_write8(fx, 1, shared + 100, 0xc2), 0);
	VMFX_EQ(fx, rd(fx, shared + 100), 0xc2);
	wr(fx, shared + 3 * PG + 100, 0xd2);
	VMFX_RC(fx, vmfx_read8(fx, 1, shared + 3 * PG + 100, &b), 0);
	VMFX_EQ(fx, b, 0xd2);
	vmfx_check(fx);

	vmfx_op(fx, "the parent unmaps the shared range: the child keeps it");
	VMFX_RC(fx, vm_unmap(parent, shared, 4 * PG), 0);
	vmfx_check(fx);
	VMFX_RC(fx, vmfx_read8(fx, 1, shared + 3 * PG + 100, &b), 0);
	VMFX_EQ(fx, b, 0xd2);
	vmfx_op(fx, "the child exits");
	vmfx_destroy(fx, child);
	vmfx_check(fx);
}

/* A resident page behind PROT_NONE is copied too: the child gets its bytes
 * once it makes the page accessible; dead VMAs carry no pages. */
static void test_fork_prot_none_pages(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *parent = space(fx);
	vmfx_map(fx, parent, A, 2 * PG, RW, FIXED);
	wr(fx, A + 100, 0x5e);
	wr(fx, A + PG + 100, 0x6e);
	VMFX_RC(fx, vm_protect(parent, A, 2 * PG, VM_PROT_NONE), 0);
	vmfx_check(fx);
	struct vm_space *child = NULL;
	vmfx_op(fx, "fork a PROT_NONE range with resident pages");
	VMFX_RC(fx, vm_space_fork(parent, &child), 0);
	vmfx_adopt(fx, child);
	vmfx_check(fx);
	VMFX_EQ(fx, vmfx_resident(child), 2);
	vm_space_activate(child, 1);
	uint8_t b = 0;
	VMFX_RC(fx, vmfx_read8(fx, 1, A + 100, &b), -MMK_EACCES);
	VMFX_RC(fx, vm_protect(child, A, 2 * PG, R), 0);
	VMFX_RC(fx, vmfx_read8(fx, 1, A + 100, &b), 0);
	VMFX_EQ(fx, b, 0x5e);
	VMFX_RC(fx, vmfx_read8(fx, 1, A + PG + 100, &b), 0);
	VMFX_EQ(fx, b, 0x6e);
	vmfx_check(fx);
}

/* mlock is not inherited: the child's VMAs are not locked (Linux dup_mmap
 * clears VM_LOCKED; fork(2): "memory locks are not inherited"). */
static void test_fork_does_not_inherit_mlock(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *parent = space(fx);
	vmfx_map(fx, parent, A, 2 * PG, RW, FIXED | VM_MAP_LOCKED);
	vmfx_check(fx);
	struct vm_space *child = NULL;
	vmfx_op(fx, "fork of a locked mapping");
	VMFX_RC(fx, vm_space_fork(parent, &child), 0);
	vmfx_adopt(fx, child);
	vmfx_check(fx);
	VMFX_TRUE(fx, vm_search(parent, A)->flags & VMA_LOCKED);
	VMFX_EQ(fx, vm_search(child, A)->flags & VMA_LOCKED, 0);
	VMFX_RC(fx, vm_madvise(child, A, PG, VM_MADV_DONTNEED), 0);
	vmfx_check(fx);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_map_first_fit_private),
		T(test_map_fixed),
		T(test_map_fixed_replaces),
		T(test_map_noreplace_overlap),
		T(test_map_hint),
		T(test_map_first_fit_topdown),
		T(test_map_first_fit_10000_vmas),
		T(test_map_errors),
		T(test_map_boundaries),
		T(test_map_every_prot),
		T(test_map_placement_keeps_stack_guard_gap),
		T(test_map_error_order),
		T(test_remap_error_order),
		T(test_protect_len0_before_bits),
		T(test_unmap_subranges),
		T(test_unmap_errors),
		T(test_protect_split_merge),
		T(test_protect_errors),
		T(test_protect_error_order),
		T(test_protect_growsdown),
		T(test_remap_shrink_grow),
		T(test_remap_grow_blocked),
		T(test_remap_maymove_moves_contents),
		T(test_remap_fixed),
		T(test_remap_partial_moves_only_that_part),
		T(test_remap_dontunmap),
		T(test_remap_errors),
		T(test_remap_fixed_below_min_addr),
		T(test_brk),
		T(test_brk_new_vma_is_clean),
		T(test_brk_refused_by_next_mapping),
		T(test_madvise_dontneed),
		T(test_madvise_fork_flags_split_merge),
		T(test_madvise_errors),
		T(test_mlock_populates),
		T(test_mincore),
		T(test_msync_errors),
		T(test_display_byte_exact),
		T(test_dead_scavenge_sweep),
		T(test_fork),
		T(test_fork_does_not_inherit_mlock),
		T(test_fork_prot_none_pages),
	};
	return cmocka_run_group_tests_name("vm_ops", tests, NULL, NULL);
}
