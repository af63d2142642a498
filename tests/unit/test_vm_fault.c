/*
 * test_vm_fault.c - the page-fault path driven by real accesses of the
 * simulated CPU (sim_access -> vm_fault): demand zero, refusals (no VMA,
 * protection, PROT_NONE, exec), stack growth with its limit and guard gap,
 * MAP_POPULATE, frame exhaustion and the leak baseline afterwards.
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
#define BASE ((vaddr_t)0x100000000ull) /* 4 GiB: away from every default */

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

static struct vm_space *active_space(struct vmfx *fx)
{
	struct vm_space *as = vmfx_space(fx);
	vm_space_activate(as, 0);
	return as;
}

static bool resident(struct vmfx *fx, struct vm_space *as, vaddr_t va)
{
	uint8_t *v = vmfx_mincore(fx, as, mmk_page_round_down(va), 1);
	bool r = v[0];
	free(v);
	return r;
}

/* ---- demand zero ---- */

static void test_demand_zero_first_touch(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = active_space(fx);
	vmfx_op(fx, "map 4 pages rw");
	vaddr_t a = vmfx_map(fx, as, BASE, 4 * PG, RW, FIXED);
	VMFX_EQ(fx, a, BASE);
	vmfx_check(fx);
	VMFX_EQ(fx, vmfx_resident(as), 0);
	uint64_t free0 = sim_system_free_frames(&fx->s);

	vmfx_op(fx, "read the second page");
	uint8_t b = 0xaa;
	VMFX_RC(fx, vmfx_read8(fx, 0, a + PG + 123, &b), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, b, 0);
	VMFX_EQ(fx, as->zero_fills, 1);
	VMFX_EQ(fx, as->faults, 1);
	VMFX_EQ(fx, vmfx_resident(as), 1);
	VMFX_TRUE(fx, resident(fx, as, a + PG));
	VMFX_TRUE(fx, !resident(fx, as, a));
	VMFX_TRUE(fx, !resident(fx, as, a + 2 * PG));
	/* One user frame, plus the page tables a first touch needs, plus the
	 * slabs the first anon, amap and radix node came from. */
	struct vm_space_stats st;
	vm_space_get_stats(as, &st);
	VMFX_EQ(fx, fx->s.vm.user_frames, 1);
	uint64_t slabs = (fx->s.vm.anon_cache.slabs_created << fx->s.vm.anon_cache.slab_order) +
			 (fx->s.vm.amap_cache.slabs_created << fx->s.vm.amap_cache.slab_order) +
			 (fx->s.vm.radix_cache.slabs_created << fx->s.vm.radix_cache.slab_order);
	VMFX_EQ(fx, free0 - sim_system_free_frames(&fx->s), 1 + (st.pt_pages - 1) + slabs);

	/* The whole page reads as zeroes. */
	uint8_t page[4096];
	memset(page, 0x5a, sizeof(page));
	VMFX_RC(fx, sim_read(fx->s.machine, 0, a + PG, page, sizeof(page), true), 0);
	for (size_t i = 0; i < sizeof(page); i++)
		VMFX_EQ(fx, page[i], 0);
	VMFX_EQ(fx, as->zero_fills, 1);

	/* A second touch of the same page is no new fill. */
	vmfx_op(fx, "write the second page");
	VMFX_RC(fx, vmfx_write8(fx, 0, a + PG + 5, 0x77), 0);
	VMFX_EQ(fx, as->zero_fills, 1);
	VMFX_EQ(fx, vmfx_resident(as), 1);
	VMFX_RC(fx, vmfx_read8(fx, 0, a + PG + 5, &b), 0);
	VMFX_EQ(fx, b, 0x77);
	vmfx_check(fx);

	/* Each further page: exactly one more resident page per first touch. */
	for (unsigned i = 0; i < 4; i++) {
		vmfx_op(fx, "touch page %u", i);
		uint64_t before = vmfx_resident(as), fills = as->zero_fills;
		bool was = resident(fx, as, a + i * PG);
		VMFX_RC(fx, vmfx_touch(fx, 0, a + i * PG, i % 2 ? VMFX_R : VMFX_W), 0);
		vmfx_check(fx);
		VMFX_EQ(fx, vmfx_resident(as), before + !was);
		VMFX_EQ(fx, as->zero_fills, fills + !was);
	}
	VMFX_EQ(fx, as->faults_refused, 0);
}

/* ---- refusals ---- */

static void test_write_to_readonly_refused(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = active_space(fx);
	vaddr_t a = vmfx_map(fx, as, BASE, 2 * PG, VM_PROT_READ, FIXED);
	vmfx_op(fx, "write to a read-only VMA, untouched");
	VMFX_RC(fx, vmfx_touch(fx, 0, a, VMFX_W), -MMK_EACCES);
	vmfx_check(fx);
	VMFX_EQ(fx, vmfx_resident(as), 0);
	VMFX_EQ(fx, as->zero_fills, 0);
	VMFX_EQ(fx, as->faults_refused, 1);

	vmfx_op(fx, "read then write a read-only page");
	uint8_t b = 1;
	VMFX_RC(fx, vmfx_read8(fx, 0, a + PG, &b), 0);
	VMFX_EQ(fx, b, 0);
	VMFX_RC(fx, vmfx_write8(fx, 0, a + PG, 0x42), -MMK_EACCES);
	vmfx_check(fx);
	VMFX_EQ(fx, vmfx_resident(as), 1);
	paddr_t pa;
	unsigned bits;
	VMFX_RC(fx, pmap_extract(&as->pmap, a + PG, &pa, &bits), 0);
	VMFX_TRUE(fx, !(bits & PMAP_PROT_WRITE));
	VMFX_RC(fx, vmfx_read8(fx, 0, a + PG, &b), 0);
	VMFX_EQ(fx, b, 0);
}

static void test_no_vma_refused(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = active_space(fx);
	vmfx_op(fx, "access an empty space");
	VMFX_RC(fx, vmfx_touch(fx, 0, BASE, VMFX_R), -MMK_EFAULT);
	VMFX_RC(fx, vmfx_touch(fx, 0, 0, VMFX_R), -MMK_EFAULT);
	VMFX_RC(fx, vmfx_touch(fx, 0, VM_DEFAULT_MAX_ADDR - 1, VMFX_W), -MMK_EFAULT);
	vmfx_check(fx);
	vmfx_map(fx, as, BASE, PG, RW, FIXED);
	vmfx_map(fx, as, BASE + 2 * PG, PG, RW, FIXED);
	vmfx_op(fx, "access the hole between two VMAs and the pages around them");
	VMFX_RC(fx, vmfx_touch(fx, 0, BASE + PG, VMFX_R), -MMK_EFAULT);
	VMFX_RC(fx, vmfx_touch(fx, 0, BASE + 2 * PG - 1, VMFX_W), -MMK_EFAULT);
	VMFX_RC(fx, vmfx_touch(fx, 0, BASE - 1, VMFX_R), -MMK_EFAULT);
	VMFX_RC(fx, vmfx_touch(fx, 0, BASE + 3 * PG, VMFX_R), -MMK_EFAULT);
	vmfx_check(fx);
	VMFX_EQ(fx, vmfx_resident(as), 0);
	VMFX_EQ(fx, as->faults_refused, 7);
	VMFX_EQ(fx, vmfx_vmas(as), 2);
	/* The same access through vm_fault directly. */
	VMFX_RC(fx, vm_fault(as, BASE + PG, PMAP_ACCESS_READ), -MMK_EFAULT);
	VMFX_RC(fx, vm_fault(as, BASE, PMAP_ACCESS_READ), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, vmfx_resident(as), 1);
}

static void test_exec_on_nonexec_refused(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = active_space(fx);
	vaddr_t rw = vmfx_map(fx, as, BASE, PG, RW, FIXED);
	vaddr_t rx = vmfx_map(fx, as, BASE + 2 * PG, PG, VM_PROT_READ | VM_PROT_EXEC, FIXED);
	vmfx_op(fx, "exec on rw-, untouched and touched");
	VMFX_RC(fx, vmfx_touch(fx, 0, rw, VMFX_X), -MMK_EACCES);
	VMFX_EQ(fx, vmfx_resident(as), 0);
	VMFX_RC(fx, vmfx_touch(fx, 0, rw, VMFX_W), 0);
	VMFX_RC(fx, vmfx_touch(fx, 0, rw, VMFX_X), -MMK_EACCES);
	vmfx_check(fx);
	vmfx_op(fx, "exec on r-x");
	VMFX_RC(fx, vmfx_touch(fx, 0, rx, VMFX_X), 0);
	VMFX_RC(fx, vmfx_touch(fx, 0, rx, VMFX_R), 0);
	VMFX_RC(fx, vmfx_touch(fx, 0, rx, VMFX_W), -MMK_EACCES);
	vmfx_check(fx);
	VMFX_EQ(fx, vmfx_resident(as), 2);
}

static void test_prot_none_refused(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = active_space(fx);
	vaddr_t a = vmfx_map(fx, as, BASE, 2 * PG, VM_PROT_NONE, FIXED);
	vmfx_op(fx, "touch a PROT_NONE VMA");
	VMFX_RC(fx, vmfx_touch(fx, 0, a, VMFX_R), -MMK_EACCES);
	VMFX_RC(fx, vmfx_touch(fx, 0, a, VMFX_W), -MMK_EACCES);
	VMFX_RC(fx, vmfx_touch(fx, 0, a + PG, VMFX_X), -MMK_EACCES);
	vmfx_check(fx);
	VMFX_EQ(fx, vmfx_resident(as), 0);
	VMFX_EQ(fx, as->zero_fills, 0);

	/* A resident page turned PROT_NONE keeps its frame (and its bytes) but
	 * refuses every access; turning it back gives the bytes again. */
	vmfx_op(fx, "write, protect NONE, touch, protect RW, read");
	VMFX_RC(fx, vm_protect(as, a, PG, RW), 0);
	VMFX_RC(fx, vmfx_write8(fx, 0, a + 9, 0x99), 0);
	VMFX_RC(fx, vm_protect(as, a, PG, VM_PROT_NONE), 0);
	vmfx_check(fx);
	VMFX_RC(fx, vmfx_touch(fx, 0, a + 9, VMFX_R), -MMK_EACCES);
	VMFX_RC(fx, vmfx_touch(fx, 0, a + 9, VMFX_W), -MMK_EACCES);
	VMFX_TRUE(fx, resident(fx, as, a));
	VMFX_RC(fx, vm_protect(as, a, PG, VM_PROT_READ), 0);
	uint8_t b = 0;
	VMFX_RC(fx, vmfx_read8(fx, 0, a + 9, &b), 0);
	VMFX_EQ(fx, b, 0x99);
	VMFX_RC(fx, vmfx_touch(fx, 0, a + 9, VMFX_W), -MMK_EACCES);
	vmfx_check(fx);
}

/* x86: every accessible page is readable, so write-only and exec-only
 * pages can be read (Linux on x86 behaves the same). */
static void test_every_prot_combination(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = active_space(fx);
	for (unsigned prot = 0; prot <= VM_PROT_ALL; prot++) {
		vaddr_t a = vmfx_map(fx, as, BASE + prot * 4 * PG, PG, prot, FIXED);
		vmfx_op(fx, "accesses to a VMA of prot %u", prot);
		int er = prot ? 0 : -MMK_EACCES;
		int ew = (prot & VM_PROT_WRITE) ? 0 : -MMK_EACCES;
		int ex = (prot & VM_PROT_EXEC) ? 0 : -MMK_EACCES;
		VMFX_RC(fx, vmfx_touch(fx, 0, a, VMFX_W), ew);
		VMFX_RC(fx, vmfx_touch(fx, 0, a, VMFX_X), ex);
		VMFX_RC(fx, vmfx_touch(fx, 0, a, VMFX_R), er);
		vmfx_check(fx);
		VMFX_EQ(fx, resident(fx, as, a), prot != 0);
	}
}

/* ---- the stack ---- */

#define STACK_TOP ((vaddr_t)0x7f0000000000ull)

static void test_stack_grows_down(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = active_space(fx);
	vaddr_t s = vmfx_map(fx, as, STACK_TOP - 4 * PG, 4 * PG, RW, FIXED | VM_MAP_GROWSDOWN);
	vmfx_check(fx);
	const struct vm_area *v = vm_search(as, s);
	VMFX_TRUE(fx, v && (v->flags & VMA_GROWSDOWN));

	vmfx_op(fx, "fault just below the stack");
	uint8_t b = 1;
	VMFX_RC(fx, vmfx_read8(fx, 0, s - 8, &b), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, b, 0);
	v = vm_search(as, s - 8);
	VMFX_TRUE(fx, v != NULL);
	VMFX_EQ(fx, v->start, s - PG);
	VMFX_EQ(fx, v->end, STACK_TOP);
	VMFX_EQ(fx, vmfx_vmas(as), 1);
	VMFX_EQ(fx, as->mapped_pages, 5);
	VMFX_EQ(fx, vmfx_resident(as), 1);

	vmfx_op(fx, "write well below the stack, down to exactly stack_limit");
	vaddr_t lowest = STACK_TOP - as->stack_limit;
	VMFX_RC(fx, vmfx_write8(fx, 0, lowest + 17, 0x33), 0);
	vmfx_check(fx);
	v = vm_search(as, lowest);
	VMFX_TRUE(fx, v != NULL);
	VMFX_EQ(fx, v->start, lowest);
	VMFX_EQ(fx, v->end - v->start, as->stack_limit);
	VMFX_EQ(fx, vmfx_resident(as), 2);

	vmfx_op(fx, "fault one page past stack_limit");
	VMFX_RC(fx, vmfx_touch(fx, 0, lowest - 1, VMFX_R), -MMK_EFAULT);
	VMFX_RC(fx, vmfx_touch(fx, 0, lowest - PG, VMFX_W), -MMK_EFAULT);
	vmfx_check(fx);
	VMFX_EQ(fx, vm_search(as, lowest - 1) == NULL, 1);
	VMFX_EQ(fx, vm_search(as, lowest)->start, lowest);
	VMFX_EQ(fx, vmfx_resident(as), 2);
	VMFX_RC(fx, vmfx_read8(fx, 0, lowest + 17, &b), 0);
	VMFX_EQ(fx, b, 0x33);
}

static void test_stack_guard_gap(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = active_space(fx);
	uint64_t g = as->stack_guard;
	VMFX_EQ(fx, g, VM_DEFAULT_STACK_GUARD);
	vaddr_t s = vmfx_map(fx, as, STACK_TOP - 4 * PG, 4 * PG, RW, FIXED | VM_MAP_GROWSDOWN);
	/* A mapping whose end lies g + 9 pages below the stack. */
	vaddr_t e = s - g - 9 * PG;
	vmfx_map(fx, as, e - PG, PG, RW, FIXED);
	vmfx_check(fx);

	vmfx_op(fx, "grow into the guard gap: one page short of it");
	VMFX_RC(fx, vmfx_touch(fx, 0, e + g - PG, VMFX_R), -MMK_EFAULT);
	VMFX_RC(fx, vmfx_touch(fx, 0, e + g - 1, VMFX_W), -MMK_EFAULT);
	vmfx_check(fx);
	VMFX_EQ(fx, vm_search(as, s)->start, s);
	VMFX_EQ(fx, vmfx_resident(as), 0);

	vmfx_op(fx, "grow to exactly the guard gap above the mapping below");
	VMFX_RC(fx, vmfx_touch(fx, 0, e + g, VMFX_W), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, vm_search(as, s)->start, e + g);
	VMFX_EQ(fx, vmfx_vmas(as), 2);

	vmfx_op(fx, "one page further is refused; the mapping below still works");
	VMFX_RC(fx, vmfx_touch(fx, 0, e + g - PG, VMFX_R), -MMK_EFAULT);
	VMFX_RC(fx, vmfx_touch(fx, 0, e - PG, VMFX_W), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, vm_search(as, s)->start, e + g);
	VMFX_EQ(fx, vm_search(as, e - PG)->end, e);
	VMFX_EQ(fx, vmfx_resident(as), 2);
}

/* Linux enforces the guard gap only against an accessible VMA below that
 * is not itself a stack (expand_downwards: "!(prev->vm_flags &
 * VM_GROWSDOWN) && vma_is_accessible(prev)"): a PROT_NONE mapping (a guard
 * region) right below the gap does not stop the stack. */
static void test_stack_guard_ignores_inaccessible_prev(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = active_space(fx);
	vaddr_t s = vmfx_map(fx, as, STACK_TOP - 4 * PG, 4 * PG, RW, FIXED | VM_MAP_GROWSDOWN);
	vmfx_map(fx, as, s - 20 * PG, 4 * PG, VM_PROT_NONE, FIXED); /* ends 16 pages below */
	vmfx_check(fx);
	vmfx_op(fx, "grow to 8 pages above a PROT_NONE mapping");
	VMFX_RC(fx, vmfx_touch(fx, 0, s - 8 * PG, VMFX_W), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, vm_search(as, s)->start, s - 8 * PG);
	vmfx_op(fx, "grow right up to it");
	VMFX_RC(fx, vmfx_touch(fx, 0, s - 16 * PG, VMFX_W), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, vm_search(as, s)->start, s - 16 * PG);
}

/* vm_space_set_stack: the new limit and guard apply to growth and to
 * placement at once. */
static void test_set_stack(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = active_space(fx);
	vaddr_t s = vmfx_map(fx, as, STACK_TOP - 4 * PG, 4 * PG, RW, FIXED | VM_MAP_GROWSDOWN);
	vmfx_op(fx, "unaligned stack settings");
	VMFX_RC(fx, vm_space_set_stack(as, 8 * PG + 1, 16 * PG), -MMK_EINVAL);
	VMFX_RC(fx, vm_space_set_stack(as, 8 * PG, 16 * PG + 1), -MMK_EINVAL);
	VMFX_EQ(fx, as->stack_limit, VM_DEFAULT_STACK_LIMIT);
	VMFX_EQ(fx, as->stack_guard, VM_DEFAULT_STACK_GUARD);
	vmfx_op(fx, "limit 8 pages, guard 16 pages");
	VMFX_RC(fx, vm_space_set_stack(as, 8 * PG, 16 * PG), 0);
	vmfx_check(fx);
	VMFX_RC(fx, vmfx_touch(fx, 0, s - 4 * PG, VMFX_W), 0);
	VMFX_RC(fx, vmfx_touch(fx, 0, s - 5 * PG, VMFX_W), -MMK_EFAULT);
	vmfx_check(fx);
	VMFX_EQ(fx, vm_search(as, s)->start, s - 4 * PG);
	vmfx_op(fx, "a hint just outside the new guard gap is used, one page into it is not");
	vaddr_t out;
	vaddr_t gap = s - 4 * PG - 16 * PG;
	VMFX_RC(fx, vm_map(as, gap - PG, PG, RW, VM_MAP_PRIVATE | VM_MAP_ANONYMOUS, NULL, 0, VM_PROT_ALL, &out), 0);
	VMFX_EQ(fx, out, gap - PG);
	VMFX_RC(fx, vm_map(as, gap, PG, RW, VM_MAP_PRIVATE | VM_MAP_ANONYMOUS, NULL, 0, VM_PROT_ALL, &out), 0);
	VMFX_TRUE(fx, out != gap);
	vmfx_check(fx);
}

/* A fault below a VMA that is not a stack is no growth. */
static void test_no_growth_without_growsdown(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = active_space(fx);
	vaddr_t s = vmfx_map(fx, as, STACK_TOP - 4 * PG, 4 * PG, RW, FIXED);
	vmfx_op(fx, "fault just below a plain VMA");
	VMFX_RC(fx, vmfx_touch(fx, 0, s - 1, VMFX_R), -MMK_EFAULT);
	vmfx_check(fx);
	VMFX_EQ(fx, vm_search(as, s)->start, s);
}

/* ---- MAP_POPULATE ---- */

static void test_populate_without_faults(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = active_space(fx);
	vmfx_op(fx, "map 10 pages rw with MAP_POPULATE");
	vaddr_t a = vmfx_map(fx, as, BASE, 10 * PG, RW, FIXED | VM_MAP_POPULATE);
	vmfx_check(fx);
	VMFX_EQ(fx, vmfx_resident(as), 10);
	uint8_t *v = vmfx_mincore(fx, as, a, 10);
	for (int i = 0; i < 10; i++)
		VMFX_EQ(fx, v[i], 1);
	free(v);
	VMFX_EQ(fx, as->faults, 0);

	vmfx_op(fx, "read and write every populated page");
	sim_reset_stats(fx->s.machine);
	for (int i = 0; i < 10; i++) {
		uint8_t b = 1;
		VMFX_RC(fx, vmfx_read8(fx, 0, a + i * PG + 100, &b), 0);
		VMFX_EQ(fx, b, 0);
		VMFX_RC(fx, vmfx_write8(fx, 0, a + i * PG + 100, (uint8_t)i), 0);
	}
	struct sim_stats st;
	sim_get_stats(fx->s.machine, &st);
	VMFX_EQ(fx, st.faults, 0);
	VMFX_EQ(fx, as->faults, 0);
	vmfx_check(fx);

	/* PROT_NONE is not populated (Linux skips what may not be touched);
	 * read-only is. */
	vmfx_op(fx, "populate PROT_NONE and read-only mappings");
	vmfx_map(fx, as, BASE + 20 * PG, 3 * PG, VM_PROT_NONE, FIXED | VM_MAP_POPULATE);
	vmfx_map(fx, as, BASE + 30 * PG, 3 * PG, VM_PROT_READ, FIXED | VM_MAP_POPULATE);
	vmfx_check(fx);
	VMFX_EQ(fx, vmfx_resident(as), 13);

	/* vm_populate over a range with holes fills what is mapped. */
	vmfx_op(fx, "vm_populate over holes");
	vmfx_map(fx, as, BASE + 40 * PG, 2 * PG, RW, FIXED);
	vmfx_map(fx, as, BASE + 44 * PG, 2 * PG, RW, FIXED);
	VMFX_RC(fx, vm_populate(as, BASE + 39 * PG, 8 * PG, false), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, vmfx_resident(as), 17);
	VMFX_EQ(fx, as->faults, 0);
}

/* ---- several CPUs: changes reach every CPU's TLB ---- */

static void test_shootdown_on_other_cpu(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = active_space(fx);
	vm_space_activate(as, 1);
	vaddr_t a = vmfx_map(fx, as, BASE, 4 * PG, RW, FIXED);
	vmfx_op(fx, "both CPUs write every page (their TLBs cache rw entries)");
	for (unsigned cpu = 0; cpu < 2; cpu++)
		for (int i = 0; i < 4; i++)
			VMFX_RC(fx, vmfx_write8(fx, cpu, a + i * PG, (uint8_t)(cpu * 16 + i + 1)), 0);
	VMFX_TRUE(fx, sim_tlb_probe(fx->s.machine, 1, a, NULL));
	vmfx_check(fx);
	vmfx_op(fx, "protect read-only on behalf of CPU 0: CPU 1 may not write");
	VMFX_RC(fx, vm_protect(as, a, PG, VM_PROT_READ), 0);
	VMFX_RC(fx, vmfx_write8(fx, 1, a, 1), -MMK_EACCES);
	uint8_t b;
	VMFX_RC(fx, vmfx_read8(fx, 1, a, &b), 0);
	VMFX_EQ(fx, b, 17);
	vmfx_op(fx, "DONTNEED: CPU 1 reads zero, not the old frame");
	VMFX_RC(fx, vm_madvise(as, a + PG, PG, VM_MADV_DONTNEED), 0);
	VMFX_RC(fx, vmfx_read8(fx, 1, a + PG, &b), 0);
	VMFX_EQ(fx, b, 0);
	vmfx_op(fx, "unmap: CPU 1 faults");
	VMFX_RC(fx, vm_unmap(as, a + 2 * PG, PG), 0);
	VMFX_RC(fx, vmfx_read8(fx, 1, a + 2 * PG, &b), -MMK_EFAULT);
	vmfx_op(fx, "mark dead: CPU 1 is refused");
	VMFX_RC(fx, vm_mark_dead(as, a + 3 * PG, PG), 0);
	VMFX_TRUE(fx, vmfx_read8(fx, 1, a + 3 * PG, &b) < 0);
	vmfx_check(fx);
}

/* ---- exhaustion and the leak baseline ---- */

static void test_exhaust_frames(void **state)
{
	(void)state;
	struct vmfx fxs, *fx = &fxs;
	vmfx_boot(fx, 16 * VMFX_MIB, 1);
	struct vm_space *as = active_space(fx);
	uint64_t avail = sim_system_free_frames(&fx->s);
	uint64_t npages = avail + 64;
	vaddr_t a = vmfx_map(fx, as, BASE, npages * PG, RW, FIXED);
	vmfx_check(fx);

	vmfx_op(fx, "write every page until frames run out");
	uint64_t i;
	int rc = 0;
	for (i = 0; i < npages; i++) {
		rc = vmfx_write8(fx, 0, a + i * PG + (i % 4096), (uint8_t)(i * 7 + 1));
		if (rc)
			break;
		if (i % 512 == 0)
			vmfx_check(fx);
	}
	VMFX_RC(fx, rc, -MMK_ENOMEM);
	vmfx_check(fx);
	VMFX_TRUE(fx, i > avail / 2);
	VMFX_EQ(fx, vmfx_resident(as), i);
	VMFX_TRUE(fx, !resident(fx, as, a + i * PG));
	/* A failed fault leaves the page absent; others keep their bytes. */
	VMFX_RC(fx, vmfx_touch(fx, 0, a + i * PG, VMFX_R), -MMK_ENOMEM);
	VMFX_EQ(fx, vmfx_resident(as), i);
	for (uint64_t j = 0; j < i; j += 97) {
		uint8_t b = 0;
		VMFX_RC(fx, vmfx_read8(fx, 0, a + j * PG + (j % 4096), &b), 0);
		VMFX_EQ(fx, b, (uint8_t)(j * 7 + 1));
	}
	vmfx_check(fx);

	/* fork cannot be had either, and leaves nothing behind. */
	vmfx_op(fx, "fork with no frames left");
	struct vm_space *child = NULL;
	uint64_t spaces = fx->s.vm.spaces;
	VMFX_RC(fx, vm_space_fork(as, &child), -MMK_ENOMEM);
	VMFX_EQ(fx, fx->s.vm.spaces, spaces);
	vmfx_check(fx);

	/* Unmapping gives frames back; faults work again. */
	vmfx_op(fx, "unmap half, fault again");
	VMFX_RC(fx, vm_unmap(as, a, (i / 2) * PG), 0);
	vmfx_check(fx);
	VMFX_RC(fx, vmfx_touch(fx, 0, a + i * PG, VMFX_W), 0);
	vmfx_check(fx);

	vmfx_op(fx, "destroy, reap, compare with boot");
	vmfx_destroy(fx, as);
	vm_system_reap(&fx->s.vm);
	vmfx_check(fx);
	VMFX_EQ(fx, sim_system_free_frames(&fx->s), fx->s.boot_free_frames);
	vmfx_shutdown(fx);
}

/* Several spaces, forks and objects: every frame comes back. */
static void test_leak_baseline_many_spaces(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as[4];
	struct vm_object *obj;
	VMFX_RC(fx, vm_object_create(&fx->s.vm, VM_OBJECT_ANON, "shm", &obj), 0);
	for (int k = 0; k < 4; k++) {
		as[k] = vmfx_space(fx);
		vm_space_activate(as[k], 0);
		vaddr_t out;
		vmfx_op(fx, "space %d: private, shared and touched pages", k);
		vmfx_map(fx, as[k], BASE, 8 * PG, RW, FIXED);
		VMFX_RC(fx, vm_map(as[k], BASE + 16 * PG, 4 * PG, RW, VM_MAP_SHARED | VM_MAP_FIXED, obj, 0,
				   VM_PROT_ALL, &out), 0);
		for (int i = 0; i < 12; i++)
			vmfx_touch(fx, 0, BASE + (i < 8 ? i : 8 + i) * PG, VMFX_W);
		vmfx_check(fx);
	}
	vm_object_release(&fx->s.vm, obj);
	struct vm_space *child;
	VMFX_RC(fx, vm_space_fork(as[1], &child), 0);
	vmfx_adopt(fx, child);
	vmfx_check(fx);
	vmfx_op(fx, "destroy all");
	for (int k = 0; k < 4; k++)
		vmfx_destroy(fx, as[k]);
	vmfx_destroy(fx, child);
	vmfx_check(fx);
	VMFX_EQ(fx, kmem_cache_live(&fx->s.vm.object_cache), 0);
	VMFX_EQ(fx, vmfx_free_frames(fx), fx->s.boot_free_frames);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_demand_zero_first_touch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_to_readonly_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_vma_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_on_nonexec_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prot_none_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_prot_combination, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stack_grows_down, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stack_guard_gap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stack_guard_ignores_inaccessible_prev, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_stack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_growth_without_growsdown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_populate_without_faults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shootdown_on_other_cpu, setup, teardown),
		cmocka_unit_test(test_exhaust_frames),
		cmocka_unit_test_setup_teardown(test_leak_baseline_many_spaces, setup, teardown),
	};
	return cmocka_run_group_tests_name("vm_fault", tests, NULL, NULL);
}
