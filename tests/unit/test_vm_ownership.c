/*
 * test_vm_ownership: seed 002's rules as the VM sees them.  User mappings
 * of kernel frames are refused (-EPERM), except read-only mappings of the
 * boot image (a writable one is -EACCES, and a read-only one can never be
 * made writable); a frame given to the kernel after it was mapped (but
 * before it was touched) faults with -EFAULT; refusals change nothing.
 * Strict ownership: address spaces, page tables and VMAs come only from
 * the kernel's own frames, calls fail with -ENOMEM when it has none, work
 * again once user space gives it frames, and everything goes back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "vm_fixture.h"

#define RAM (64 * VMFX_MIB)
#define RW (VM_PROT_READ | VM_PROT_WRITE)
#define ANON (VM_MAP_PRIVATE | VM_MAP_ANONYMOUS)
#define BOOT_PFN ((pfn_t)(SIM_PC_KERNEL_BASE >> 12))

static struct vm_object *phys_obj(struct vmfx *fx, pfn_t base, uint64_t n)
{
	struct vm_object *o;
	VMFX_RC(fx, vm_object_create_phys(&fx->s.vm, "/dev/mem", base, n, &o), 0);
	return o;
}

static void test_boot_image_read_only(void **state)
{
	(void)state;
	struct vmfx fx;
	vmfx_boot(&fx, RAM, 1);
	struct vm_space *as = vmfx_space(&fx);
	struct vm_object *boot = phys_obj(&fx, BOOT_PFN, 4);
	vaddr_t got;
	char *before = vmfx_state(&fx, as);
	VMFX_RC(&fx, vm_map(as, 0, 4 * PG, RW, VM_MAP_SHARED, boot, 0, VM_PROT_ALL, &got), -MMK_EACCES);
	VMFX_RC(&fx, vm_map_special(as, 0x400000, PG, RW, VM_PROT_ALL, VMA_SHARED, boot, 0, "[boot]"), -MMK_EACCES);
	vmfx_same_state(&fx, as, before, "writable boot image");
	free(before);
	VMFX_RC(&fx, vm_map(as, 0, 4 * PG, VM_PROT_READ, VM_MAP_SHARED, boot, 0, VM_PROT_ALL, &got), 0);
	VMFX_RC(&fx, vm_protect(as, got, PG, RW), -MMK_EACCES); /* max_prot lost write */
	vm_space_activate(as, 0);
	uint8_t v;
	VMFX_RC(&fx, vmfx_read8(&fx, 0, got + PG + 9, &v), 0);
	VMFX_EQ(&fx, v, ((uint8_t *)hal_phys_map(fx.s.machine, SIM_PC_KERNEL_BASE + PG))[9]);
	VMFX_RC(&fx, vmfx_touch(&fx, 0, got, VMFX_W), -MMK_EACCES);
	VMFX_RC(&fx, vm_map_special(as, 0x400000, PG, VM_PROT_READ, VM_PROT_ALL, VMA_SHARED, boot, 0, "[boot]"), 0);
	VMFX_RC(&fx, vm_protect(as, 0x400000, PG, RW), -MMK_EACCES);
	vmfx_check(&fx);
	vm_object_release(&fx.s.vm, boot);
	vmfx_shutdown(&fx);
}

static void test_kernel_frames_refused(void **state)
{
	(void)state;
	struct vmfx fx;
	vmfx_boot(&fx, RAM, 1);
	struct vm_space *as = vmfx_space(&fx);
	pfn_t k, u;
	(void)u;
	VMFX_RC(&fx, phys_alloc(&fx.s.phys, 0, 0, &k), 0);          /* a kernel object's frame */
	pfn_t db = mmk_paddr_to_pfn(fx.s.phys.db_paddr);            /* the frame database */
	pfn_t pool = 0x2000;                                        /* a free frame given to the kernel */
	VMFX_RC(&fx, phys_give_to_kernel(&fx.s.phys, &pool, 1), 0);
	pfn_t bad[] = { k, db, pool };
	char *before = vmfx_state(&fx, as);
	for (int i = 0; i < 3; i++) {
		struct vm_object *o = phys_obj(&fx, bad[i] - 1, 3); /* the kernel frame in the middle */
		vaddr_t got;
		VMFX_RC(&fx, vm_map(as, 0, 3 * PG, VM_PROT_READ, VM_MAP_SHARED, o, 0, VM_PROT_READ, &got), -MMK_EPERM);
		VMFX_RC(&fx, vm_map(as, 0, 3 * PG, VM_PROT_READ, VM_MAP_PRIVATE, o, 0, VM_PROT_READ, &got), -MMK_EPERM);
		VMFX_RC(&fx, vm_map_special(as, 0x400000, 3 * PG, VM_PROT_READ, VM_PROT_READ, 0, o, 0, "[k]"),
			-MMK_EPERM);
		vm_object_release(&fx.s.vm, o);
	}
	vmfx_same_state(&fx, as, before, "kernel frames");
	free(before);
	/* A user-space frame, mapped but not touched, then given to the kernel:
	 * the fault refuses it. */
	u = 0x2800; /* 40 MiB: free, user space's */
	VMFX_EQ(&fx, phys_owner_of(&fx.s.phys, u), MMK_OWNER_NONE);
	struct vm_object *o = phys_obj(&fx, u, 1);
	vaddr_t got;
	VMFX_RC(&fx, vm_map(as, 0, PG, RW, VM_MAP_SHARED, o, 0, VM_PROT_ALL, &got), 0);
	VMFX_RC(&fx, phys_give_to_kernel(&fx.s.phys, &u, 1), 0);
	vm_space_activate(as, 0);
	VMFX_RC(&fx, vmfx_touch(&fx, 0, got, VMFX_R), -MMK_EFAULT);
	VMFX_RC(&fx, phys_take_from_kernel(&fx.s.phys, &u, 1), 0);
	VMFX_RC(&fx, vmfx_touch(&fx, 0, got, VMFX_W), 0);
	VMFX_RC(&fx, phys_give_to_kernel(&fx.s.phys, &u, 1), -MMK_EBUSY); /* mapped now */
	VMFX_RC(&fx, vm_unmap(as, got, PG), 0);
	vm_object_release(&fx.s.vm, o);
	VMFX_RC(&fx, phys_free(&fx.s.phys, k, 0), 0);
	/* Default mode: a kernel allocation took the given frame (the kernel's
	 * frames go first), and freeing it put it back on the common lists:
	 * user space's again, nothing leaked. */
	vmfx_reap(&fx);
	VMFX_RC(&fx, phys_take_from_kernel(&fx.s.phys, &pool, 1), -MMK_EEXIST);
	vmfx_check(&fx);
	vmfx_shutdown(&fx);
}

/* Give n free user frames to the kernel, found from the top of RAM down. */
static uint64_t give(struct vmfx *fx, uint64_t n, pfn_t *from)
{
	uint64_t given = 0;
	while (given < n && *from > 0x1000) {
		pfn_t p = --*from;
		given += phys_give_to_kernel(&fx->s.phys, &p, 1) == 0;
	}
	return given;
}

/* Take back every free kernel frame. */
static void take_all(struct vmfx *fx)
{
	for (pfn_t p = 0; p < fx->s.phys.end_pfn; p++)
		phys_take_from_kernel(&fx->s.phys, &p, 1);
	VMFX_EQ(fx, phys_kernel_free_frames(&fx->s.phys), 0);
}

static void test_strict_ownership_vm(void **state)
{
	(void)state;
	struct vmfx fx;
	vmfx_boot(&fx, RAM, 1);
	vmfx_reap(&fx);
	phys_set_strict_ownership(&fx.s.phys, true);
	pfn_t from = fx.s.phys.end_pfn;
	struct vm_space *as = NULL;
	VMFX_RC(&fx, vm_space_create(&fx.s.vm, &as), -MMK_ENOMEM); /* no kernel frames at all */
	VMFX_EQ(&fx, give(&fx, 3, &from), 3); /* a slab for the space, its root table, one more */
	VMFX_RC(&fx, vm_space_create(&fx.s.vm, &as), 0);
	vmfx_adopt(&fx, as);
	vaddr_t got;
	uint64_t user_free = phys_free_frames(&fx.s.phys);
	VMFX_RC(&fx, vm_map(as, 0, 64 * PG, RW, ANON, NULL, 0, VM_PROT_ALL, &got), 0); /* VMA slab: the last one */
	vm_space_activate(as, 0);
	char *before = vmfx_state(&fx, as);
	VMFX_RC(&fx, vmfx_touch(&fx, 0, got, VMFX_W), -MMK_ENOMEM); /* page tables: none left */
	vmfx_same_state(&fx, as, before, "fault without kernel frames");
	free(before);
	VMFX_EQ(&fx, phys_free_frames(&fx.s.phys), user_free); /* user frames were there all along */
	VMFX_EQ(&fx, give(&fx, 8, &from), 8);
	for (int i = 0; i < 64; i++)
		VMFX_RC(&fx, vmfx_touch(&fx, 0, got + (uint64_t)i * PG, VMFX_W), 0);
	VMFX_EQ(&fx, phys_free_frames(&fx.s.phys), user_free - 8 - 64); /* the 8 given, the 64 user pages */
	vmfx_check(&fx);
	vmfx_destroy(&fx, as);
	vmfx_reap(&fx);
	take_all(&fx);
	phys_set_strict_ownership(&fx.s.phys, false);
	vmfx_shutdown(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boot_image_read_only),
		cmocka_unit_test(test_kernel_frames_refused),
		cmocka_unit_test(test_strict_ownership_vm),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
