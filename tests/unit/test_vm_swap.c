/*
 * test_vm_swap: reclaim and the swap pager (issue 3 item 5) with real
 * bytes: a workload larger than RAM runs with page-outs and page-ins and
 * every page keeps its checksum; a pager that fails a page-in surfaces the
 * error to the access (SIGBUS-like) and loses nothing; copy-on-write pages
 * survive eviction of their neighbours; slots and frames are all returned.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mmk/errno.h>

#include "sim.h"
#include "swap_fixture.h"
#include "vm_fixture.h"

#define BASE ((vaddr_t)0x40000000ull)
#define RW (VM_PROT_READ | VM_PROT_WRITE)

struct fixture {
	struct vmfx fx;
	struct test_swap swap;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	vmfx_boot(&f->fx, 32 * VMFX_MIB, 1); /* about 6,000 frames for users */
	test_swap_init(&f->swap, 1u << 16);
	struct vm_pager p = test_swap_pager(&f->swap);
	vm_system_set_swap(&f->fx.s.vm, &p, 256);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	vmfx_shutdown(&f->fx);
	assert_int_equal(f->swap.used, 0); /* every slot released */
	test_swap_free(&f->swap);
	free(f);
	return 0;
}

static uint32_t sum_of(uint64_t i) { return (uint32_t)(i * 2654435761u) ^ 0x5a5a5a5au; }

static void write_word(struct vmfx *fx, vaddr_t va, uint32_t w)
{
	VMFX_RC(fx, sim_write(fx->s.machine, 0, va, &w, sizeof(w), true), 0);
}

static int read_word(struct vmfx *fx, vaddr_t va, uint32_t *w)
{
	return sim_read(fx->s.machine, 0, va, w, sizeof(*w), true);
}

static void test_bigger_than_ram(void **state)
{
	struct fixture *f = *state;
	struct vmfx *fx = &f->fx;
	struct vm_space *as = vmfx_space(fx);
	vm_space_activate(as, 0);
	enum { PAGES = 12000 }; /* twice what RAM holds */
	vmfx_map(fx, as, BASE, (size_t)PAGES * PG, RW, VM_MAP_PRIVATE | VM_MAP_ANONYMOUS | VM_MAP_FIXED);
	for (uint64_t i = 0; i < PAGES; i++)
		write_word(fx, BASE + i * PG + 8 * (i % 500), sum_of(i));
	vmfx_check(fx);
	VMFX_TRUE(fx, fx->s.vm.page_outs > PAGES / 3);
	uint64_t ins0 = fx->s.vm.page_ins;
	for (uint64_t i = 0; i < PAGES; i++) {
		uint32_t w = 0;
		VMFX_RC(fx, read_word(fx, BASE + i * PG + 8 * (i % 500), &w), 0);
		VMFX_EQ(fx, w, sum_of(i));
	}
	VMFX_TRUE(fx, fx->s.vm.page_ins > ins0);
	vmfx_check(fx);
}

static void test_page_in_failure_loses_nothing(void **state)
{
	struct fixture *f = *state;
	struct vmfx *fx = &f->fx;
	struct vm_space *as = vmfx_space(fx);
	vm_space_activate(as, 0);
	enum { PAGES = 9000 };
	vmfx_map(fx, as, BASE, (size_t)PAGES * PG, RW, VM_MAP_PRIVATE | VM_MAP_ANONYMOUS | VM_MAP_FIXED);
	for (uint64_t i = 0; i < PAGES; i++)
		write_word(fx, BASE + i * PG, sum_of(i));
	/* Page 0 went out long ago. */
	const struct vm_area *v = vm_search(as, BASE);
	const struct vm_anon *a = radix_lookup(&v->amap->slots, v->amap_slot);
	VMFX_TRUE(fx, a && a->swapped);
	f->swap.fail_page_in = 1;
	uint32_t w = 0;
	VMFX_TRUE(fx, read_word(fx, BASE, &w) != 0); /* the access sees the error */
	vmfx_check(fx);
	VMFX_RC(fx, read_word(fx, BASE, &w), 0); /* and the bytes are still there */
	VMFX_EQ(fx, w, sum_of(0));
	vmfx_check(fx);
}

static void test_cow_pages_under_pressure(void **state)
{
	struct fixture *f = *state;
	struct vmfx *fx = &f->fx;
	struct vm_space *p = vmfx_space(fx);
	vm_space_activate(p, 0);
	vmfx_map(fx, p, BASE, 64 * PG, RW, VM_MAP_PRIVATE | VM_MAP_ANONYMOUS | VM_MAP_FIXED);
	for (uint64_t i = 0; i < 64; i++)
		write_word(fx, BASE + i * PG, sum_of(i));
	struct vm_space *c;
	VMFX_RC(fx, vm_space_fork(p, &c), 0);
	vmfx_adopt(fx, c);
	/* Pressure from a third space pushes the world out to swap. */
	struct vm_space *hog = vmfx_space(fx);
	vm_space_activate(hog, 0);
	vmfx_map(fx, hog, BASE, 9000 * PG, RW, VM_MAP_PRIVATE | VM_MAP_ANONYMOUS | VM_MAP_FIXED);
	for (uint64_t i = 0; i < 9000; i++)
		write_word(fx, BASE + i * PG, 1);
	vm_space_activate(c, 0);
	write_word(fx, BASE + 3 * PG, 0xc0ffee); /* the child's copy */
	vm_space_activate(p, 0);
	for (uint64_t i = 0; i < 64; i++) {
		uint32_t w = 0;
		VMFX_RC(fx, read_word(fx, BASE + i * PG, &w), 0);
		VMFX_EQ(fx, w, sum_of(i));
	}
	vm_space_activate(c, 0);
	uint32_t w = 0;
	VMFX_RC(fx, read_word(fx, BASE + 3 * PG, &w), 0);
	VMFX_EQ(fx, w, 0xc0ffee);
	VMFX_RC(fx, read_word(fx, BASE + 4 * PG, &w), 0);
	VMFX_EQ(fx, w, sum_of(4));
	vmfx_check(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bigger_than_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_page_in_failure_loses_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cow_pages_under_pressure, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
