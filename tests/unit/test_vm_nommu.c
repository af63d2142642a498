/*
 * test_vm_nommu: seed 003's non-MMU mode.  Two address spaces share one
 * map; mappings sit at the physical address of contiguous zeroed frames;
 * each space sees and changes only its own; the Linux-nommu restrictions
 * answer with their errors; everything returns to the allocator.
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
#include <mmk/vm.h>

#include "sim.h"
#include "sim_boot.h"

struct fixture {
	struct sim_system s; /* booted in MMU mode, its vm replaced by a nommu one */
	struct vm_system vm;
	struct vm_space *a, *b;
	uint64_t free0;
};

static void check(struct fixture *f)
{
	const char *why = NULL;
	if (vm_check(f->a, &why) || vm_check(f->b, &why))
		fail_msg("vm_check: %s", why);
	if (phys_check(&f->s.phys, &why))
		fail_msg("phys_check: %s", why);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_int_equal(sim_system_boot(&f->s, 256ull << 20, 1), 0);
	f->free0 = sim_system_free_frames(&f->s);
	assert_int_equal(vm_system_init_nommu(&f->vm, &f->s.phys), 0);
	assert_true(f->vm.nommu);
	assert_int_equal(vm_space_create(&f->vm, &f->a), 0);
	assert_int_equal(vm_space_create(&f->vm, &f->b), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	vm_space_destroy(f->a);
	vm_space_destroy(f->b);
	assert_int_equal(vm_system_fini(&f->vm), 0);
	assert_int_equal(sim_system_free_frames(&f->s), f->free0); /* leak baseline */
	assert_int_equal(sim_system_shutdown(&f->s), 0);
	free(f);
	return 0;
}

static void test_map_is_physical_and_zeroed(void **state)
{
	struct fixture *f = *state;
	vaddr_t a;
	assert_int_equal(vm_map(f->a, 0, 3 * 4096, VM_PROT_READ | VM_PROT_WRITE, VM_MAP_PRIVATE | VM_MAP_ANONYMOUS,
				NULL, 0, VM_PROT_ALL, &a),
			 0);
	check(f);
	/* The address is a physical address of an allocated user block. */
	struct mmk_frame *fr = phys_frame(&f->s.phys, mmk_paddr_to_pfn(a));
	assert_non_null(fr);
	assert_int_equal(fr->state, MMK_FRAME_ALLOCATED);
	assert_int_equal(fr->owner, MMK_OWNER_USER);
	assert_int_equal(fr->order, 2); /* 3 pages need a block of 4 */
	const unsigned char *bytes = hal_phys_map(f->s.machine, a);
	for (size_t i = 0; i < 3 * 4096; i++)
		assert_int_equal(bytes[i], 0);
	/* The shared map holds it, tagged with a's id. */
	const struct vm_area *v = vm_search(f->vm.shared_map, a);
	assert_non_null(v);
	assert_int_equal(v->owner, f->a->id);
	assert_int_equal(v->end - v->start, 3 * 4096);
	assert_int_equal(vm_unmap(f->a, a, 3 * 4096), 0);
	check(f);
	assert_null(vm_search(f->vm.shared_map, a));
}

static void test_spaces_see_only_their_own(void **state)
{
	struct fixture *f = *state;
	vaddr_t a, b;
	assert_int_equal(vm_map(f->a, 0, 4096, VM_PROT_READ, VM_MAP_PRIVATE | VM_MAP_ANONYMOUS, NULL, 0, VM_PROT_ALL, &a),
			 0);
	assert_int_equal(vm_map(f->b, 0, 8192, VM_PROT_READ, VM_MAP_PRIVATE | VM_MAP_ANONYMOUS, NULL, 0, VM_PROT_ALL, &b),
			 0);
	assert_int_not_equal(a, b);
	check(f);
	/* b cannot unmap, protect or advise a's mapping. */
	assert_int_equal(vm_unmap(f->b, a, 4096), -MMK_EINVAL);
	assert_int_equal(vm_protect(f->b, a, 4096, VM_PROT_READ | VM_PROT_WRITE), -MMK_ENOMEM);
	assert_int_equal(vm_madvise(f->b, a, 4096, VM_MADV_DONTNEED), -MMK_ENOMEM);
	check(f);
	/* Each display shows one line: its own mapping. */
	char buf[512];
	vm_display(f->a, buf, sizeof(buf));
	assert_int_equal(strchr(buf, '\n') - buf + 1, (long)strlen(buf));
	char want[32];
	snprintf(want, sizeof(want), "%08llx-", (unsigned long long)a);
	assert_true(strncmp(buf, want, strlen(want)) == 0);
	assert_int_equal(vm_unmap(f->a, a, 4096), 0);
	assert_int_equal(vm_unmap(f->b, b, 8192), 0);
	check(f);
}

static void test_nommu_restrictions(void **state)
{
	struct fixture *f = *state;
	vaddr_t a, out;
	assert_int_equal(vm_map(f->a, 0x100000, 4096, VM_PROT_READ, VM_MAP_PRIVATE | VM_MAP_ANONYMOUS | VM_MAP_FIXED,
				NULL, 0, VM_PROT_ALL, &a),
			 -MMK_EINVAL);
	assert_int_equal(vm_map(f->a, 0, 4 * 4096, VM_PROT_READ, VM_MAP_PRIVATE | VM_MAP_ANONYMOUS, NULL, 0,
				VM_PROT_ALL, &a),
			 0);
	uint64_t free_mid = sim_system_free_frames(&f->s);
	assert_int_equal(vm_unmap(f->a, a, 4096), -MMK_EINVAL);        /* part of a mapping */
	assert_int_equal(vm_unmap(f->a, a + 4096, 4096), -MMK_EINVAL); /* not its start */
	struct vm_space *child;
	assert_int_equal(vm_space_fork(f->a, &child), -MMK_ENOSYS);
	assert_int_equal(vm_mark_dead(f->a, a, 4096), -MMK_ENOSYS);
	assert_int_equal(vm_remap(f->a, a, 4 * 4096, 8 * 4096, 0, 0, &out), -MMK_ENOMEM);
	assert_int_equal(vm_fault(f->a, a, PMAP_ACCESS_READ), -MMK_EFAULT);
	/* Protection changes only for whole mappings, and is only recorded. */
	assert_int_equal(vm_protect(f->a, a, 4096, VM_PROT_READ | VM_PROT_WRITE), -MMK_EINVAL);
	assert_int_equal(vm_protect(f->a, a, 4 * 4096, VM_PROT_READ | VM_PROT_WRITE), 0);
	assert_int_equal(vm_search(f->vm.shared_map, a)->prot, VM_PROT_READ | VM_PROT_WRITE);
	assert_int_equal(sim_system_free_frames(&f->s), free_mid); /* refusals changed nothing */
	check(f);
	/* Shrinking in place keeps the block until the mapping goes. */
	assert_int_equal(vm_remap(f->a, a, 4 * 4096, 2 * 4096, 0, 0, &out), 0);
	assert_int_equal(out, a);
	check(f);
	assert_int_equal(vm_unmap(f->a, a, 2 * 4096), 0);
	check(f);
}

static void test_destroy_frees_only_own(void **state)
{
	struct fixture *f = *state;
	vaddr_t a;
	for (int i = 0; i < 10; i++)
		assert_int_equal(vm_map(f->b, 0, 4096 * (size_t)(i + 1), VM_PROT_READ,
					VM_MAP_PRIVATE | VM_MAP_ANONYMOUS, NULL, 0, VM_PROT_ALL, &a),
				 0);
	struct vm_space *c;
	assert_int_equal(vm_space_create(&f->vm, &c), 0);
	assert_int_equal(vm_map(c, 0, 4096, VM_PROT_READ, VM_MAP_PRIVATE | VM_MAP_ANONYMOUS, NULL, 0, VM_PROT_ALL, &a),
			 0);
	size_t before = f->vm.shared_map->vmas.count;
	vm_space_destroy(c);
	assert_int_equal(f->vm.shared_map->vmas.count, before - 1);
	check(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_map_is_physical_and_zeroed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spaces_see_only_their_own, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nommu_restrictions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destroy_frees_only_own, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
