/*
 * test_vm_cow: memory objects and copy-on-write (issue 3) with real bytes:
 * after fork, parent and child diverge on write and share until then;
 * 1,000 rounds of fork-then-exit leave no anon shared and no frame behind
 * (the Mach swap-leak failure mode cannot happen); shared mappings see each
 * other's writes across fork; two private mappings of one file read the
 * same frames and copy only what they write; the copy-on-write fault and
 * fork fail cleanly under the allocation-failure sweep.
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
#include "vm_fixture.h"

#define BASE ((vaddr_t)0x40000000ull)
#define RW (VM_PROT_READ | VM_PROT_WRITE)

static int setup(void **state)
{
	struct vmfx *fx = calloc(1, sizeof(*fx));
	vmfx_boot(fx, 256 * VMFX_MIB, 1);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct vmfx *fx = *state;
	vmfx_shutdown(fx); /* checks the leak baseline */
	free(fx);
	return 0;
}

static void on(struct vm_space *as) { vm_space_activate(as, 0); }

static void put(struct vmfx *fx, struct vm_space *as, vaddr_t va, uint8_t val)
{
	on(as);
	VMFX_RC(fx, vmfx_write8(fx, 0, va, val), 0);
}

static uint8_t get(struct vmfx *fx, struct vm_space *as, vaddr_t va)
{
	uint8_t b = 0;
	on(as);
	VMFX_RC(fx, vmfx_read8(fx, 0, va, &b), 0);
	return b;
}

/* The frame behind va in as (the test reads the pmap directly). */
static pfn_t frame_at(struct vm_space *as, vaddr_t va)
{
	paddr_t pa;
	unsigned bits;
	if (pmap_extract(&as->pmap, va, &pa, &bits) != 0)
		return 0;
	return mmk_paddr_to_pfn(pa);
}

static struct vm_space *fork_of(struct vmfx *fx, struct vm_space *parent)
{
	struct vm_space *child;
	VMFX_RC(fx, vm_space_fork(parent, &child), 0);
	vmfx_adopt(fx, child);
	return child;
}

static void test_fork_diverges(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *p = vmfx_space(fx);
	vmfx_map(fx, p, BASE, 4 * PG, RW, VM_MAP_PRIVATE | VM_MAP_ANONYMOUS | VM_MAP_FIXED);
	for (int i = 0; i < 4; i++)
		put(fx, p, BASE + i * PG + 7, (uint8_t)(10 + i));
	vmfx_check(fx);
	uint64_t frames = fx->s.vm.user_frames, copies = fx->s.vm.cow_copies;
	vmfx_op(fx, "fork");
	struct vm_space *c = fork_of(fx, p);
	vmfx_check(fx);
	VMFX_EQ(fx, fx->s.vm.user_frames, frames); /* nothing copied yet */
	VMFX_EQ(fx, frame_at(c, BASE), frame_at(p, BASE));
	VMFX_EQ(fx, vmfx_resident(c), 4);
	vmfx_op(fx, "both read the same bytes");
	for (int i = 0; i < 4; i++) {
		VMFX_EQ(fx, get(fx, c, BASE + i * PG + 7), 10 + i);
		VMFX_EQ(fx, get(fx, p, BASE + i * PG + 7), 10 + i);
	}
	vmfx_op(fx, "child writes page 0");
	put(fx, c, BASE + 7, 99);
	vmfx_check(fx);
	VMFX_EQ(fx, fx->s.vm.cow_copies, copies + 1);
	VMFX_EQ(fx, fx->s.vm.user_frames, frames + 1);
	VMFX_TRUE(fx, frame_at(c, BASE) != frame_at(p, BASE));
	VMFX_EQ(fx, get(fx, p, BASE + 7), 10);
	VMFX_EQ(fx, get(fx, c, BASE + 7), 99);
	vmfx_op(fx, "parent writes page 1");
	put(fx, p, BASE + PG + 7, 77);
	vmfx_check(fx);
	VMFX_EQ(fx, get(fx, c, BASE + PG + 7), 11);
	VMFX_EQ(fx, fx->s.vm.cow_copies, copies + 2);
	vmfx_op(fx, "child exits");
	vmfx_destroy(fx, c);
	vmfx_check(fx);
	/* The parent's pages are its own again: a write copies nothing. */
	put(fx, p, BASE + 2 * PG, 1);
	VMFX_EQ(fx, fx->s.vm.cow_copies, copies + 2);
	VMFX_EQ(fx, fx->s.vm.user_frames, frames);
}

static void test_fork_exit_rounds(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *p = vmfx_space(fx);
	vmfx_map(fx, p, BASE, 16 * PG, RW, VM_MAP_PRIVATE | VM_MAP_ANONYMOUS | VM_MAP_FIXED);
	for (int i = 0; i < 16; i++)
		put(fx, p, BASE + i * PG, (uint8_t)i);
	uint64_t frames = fx->s.vm.user_frames;
	for (int round = 0; round < 1000; round++) {
		struct vm_space *c = fork_of(fx, p);
		put(fx, c, BASE + (uint64_t)(round % 16) * PG, 0xee); /* one copy in the child */
		put(fx, p, BASE + (uint64_t)((round + 1) % 16) * PG, (uint8_t)round); /* one in the parent */
		vmfx_destroy(fx, c);
		if (round % 100 == 0)
			vmfx_check(fx);
	}
	vmfx_check(fx);
	/* No chain: every anon of the parent is its alone, no frame leaked. */
	const struct vm_area *v = vm_search(p, BASE);
	uint64_t key = v->amap_slot;
	const struct vm_anon *a;
	unsigned n = 0;
	while ((a = radix_next(&v->amap->slots, key, &key)) && key < v->amap_slot + 16) {
		VMFX_EQ(fx, a->refcount, 1);
		key++;
		n++;
	}
	VMFX_EQ(fx, n, 16);
	VMFX_EQ(fx, fx->s.vm.user_frames, frames);
	VMFX_EQ(fx, v->amap->refcount, 1);
}

static void test_shared_across_fork(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *p = vmfx_space(fx);
	struct vm_object *shm;
	VMFX_RC(fx, vm_object_create(&fx->s.vm, VM_OBJECT_ANON, "/dev/zero (deleted)", &shm), 0);
	vaddr_t out;
	VMFX_RC(fx, vm_map(p, BASE, 2 * PG, RW, VM_MAP_SHARED | VM_MAP_FIXED, shm, 0, VM_PROT_ALL, &out), 0);
	vm_object_release(&fx->s.vm, shm);
	put(fx, p, BASE + 1, 5);
	struct vm_space *c = fork_of(fx, p);
	vmfx_check(fx);
	VMFX_EQ(fx, get(fx, c, BASE + 1), 5);
	put(fx, c, BASE + 1, 6);
	put(fx, c, BASE + PG + 1, 8); /* a page neither had touched */
	VMFX_EQ(fx, get(fx, p, BASE + 1), 6);
	VMFX_EQ(fx, get(fx, p, BASE + PG + 1), 8);
	VMFX_EQ(fx, frame_at(c, BASE), frame_at(p, BASE));
	/* DONTNEED drops the translations; the shared bytes stay. */
	VMFX_RC(fx, vm_madvise(p, BASE, 2 * PG, VM_MADV_DONTNEED), 0);
	VMFX_EQ(fx, get(fx, p, BASE + 1), 6);
	vmfx_check(fx);
	vmfx_destroy(fx, c);
	vmfx_check(fx);
}

static void test_private_file_shares_frames(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *a = vmfx_space(fx), *b = vmfx_space(fx);
	struct vm_object *file;
	VMFX_RC(fx, vm_object_create(&fx->s.vm, VM_OBJECT_FILE, "/usr/lib/libc.so.6", &file), 0);
	vaddr_t out;
	unsigned flags = VM_MAP_PRIVATE | VM_MAP_FIXED;
	VMFX_RC(fx, vm_map(a, BASE, 4 * PG, RW, flags, file, 0, VM_PROT_ALL, &out), 0);
	VMFX_RC(fx, vm_map(b, BASE + 16 * PG, 4 * PG, VM_PROT_READ, flags, file, 0, VM_PROT_ALL, &out), 0);
	vm_object_release(&fx->s.vm, file);
	vmfx_op(fx, "both read the file's pages");
	for (int i = 0; i < 4; i++) {
		VMFX_EQ(fx, get(fx, a, BASE + i * PG), 0);
		VMFX_EQ(fx, get(fx, b, BASE + 16 * PG + i * PG), 0);
		VMFX_EQ(fx, frame_at(a, BASE + i * PG), frame_at(b, BASE + 16 * PG + i * PG));
	}
	vmfx_check(fx);
	uint64_t frames = fx->s.vm.user_frames;
	VMFX_EQ(fx, frames, 4); /* one set of frames for both */
	vmfx_op(fx, "a writes page 2: a private copy");
	put(fx, a, BASE + 2 * PG + 3, 42);
	vmfx_check(fx);
	VMFX_EQ(fx, fx->s.vm.user_frames, 5);
	VMFX_EQ(fx, get(fx, b, BASE + 16 * PG + 2 * PG + 3), 0);
	VMFX_TRUE(fx, frame_at(a, BASE + 2 * PG) != frame_at(b, BASE + 18 * PG));
}

/* A physical object maps fixed frames in place (here the reserved hole
 * below 1 MiB stands for device memory; the boot image at 1 MiB is the
 * kernel's and may only be mapped read-only, seed 002, test_vm_ownership):
 * writes reach the frames themselves, nothing is allocated, copied or
 * freed. */
static void test_phys_object(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = vmfx_space(fx);
	pfn_t base = 0xa0; /* 640 KiB: reserved, not RAM the allocator manages */
	struct vm_object *dev;
	VMFX_RC(fx, vm_object_create_phys(&fx->s.vm, "/dev/fb0", base, 0, &dev), -MMK_EINVAL);
	VMFX_RC(fx, vm_object_create_phys(&fx->s.vm, "/dev/fb0", base, 4, &dev), 0);
	uint64_t frames = fx->s.vm.user_frames, free0 = vmfx_free_frames(fx);
	vaddr_t out;
	VMFX_RC(fx, vm_map(as, BASE, 8 * PG, RW, VM_MAP_SHARED | VM_MAP_FIXED, dev, 0, VM_PROT_ALL, &out), 0);
	VMFX_RC(fx, vm_map(as, BASE + 32 * PG, PG, RW, VM_MAP_PRIVATE | VM_MAP_FIXED, dev, 0, VM_PROT_ALL, &out),
		-MMK_EACCES); /* never copied */
	VMFX_RC(fx, vm_map(as, BASE + 32 * PG, PG, VM_PROT_READ, VM_MAP_PRIVATE | VM_MAP_FIXED, dev, 0, VM_PROT_ALL,
			   &out),
		0);
	VMFX_RC(fx, vm_protect(as, BASE + 32 * PG, PG, RW), -MMK_EACCES);
	put(fx, as, BASE + PG + 5, 0x42);
	VMFX_EQ(fx, ((uint8_t *)hal_phys_map(fx->s.machine, mmk_pfn_to_paddr(base + 1)))[5], 0x42);
	VMFX_EQ(fx, get(fx, as, BASE + 32 * PG + 5), ((uint8_t *)hal_phys_map(fx->s.machine, mmk_pfn_to_paddr(base)))[5]);
	VMFX_EQ(fx, frame_at(as, BASE + PG), base + 1);
	/* Beyond the object's 4 pages: no frame to map (SIGBUS-like). */
	on(as);
	VMFX_TRUE(fx, vmfx_touch(fx, 0, BASE + 5 * PG, VMFX_R) != 0);
	VMFX_EQ(fx, fx->s.vm.user_frames, frames);
	vm_object_release(&fx->s.vm, dev);
	VMFX_RC(fx, vm_unmap(as, BASE, 64 * PG), 0);
	vmfx_reap(fx);
	VMFX_TRUE(fx, vmfx_free_frames(fx) >= free0);
	VMFX_EQ(fx, phys_frame(&fx->s.phys, base)->state, MMK_FRAME_ABSENT); /* never given to the allocator */
}

/* Every allocation of a copy-on-write fault can fail; nothing changes. */
static void test_cow_fault_sweep(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *p = vmfx_space(fx);
	vmfx_map(fx, p, BASE, 2 * PG, RW, VM_MAP_PRIVATE | VM_MAP_ANONYMOUS | VM_MAP_FIXED);
	put(fx, p, BASE, 1);
	struct vm_space *c = fork_of(fx, p);
	vmfx_check(fx);
	for (uint64_t n = 1;; n++) {
		vmfx_reap(fx);
		uint64_t free0 = vmfx_free_frames(fx), failed = fx->s.failpoint.failed;
		pfn_t before = frame_at(c, BASE);
		mmk_failpoint_arm(&fx->s.failpoint, n, false);
		on(c);
		int rc = vmfx_write8(fx, 0, BASE + 9, 3);
		mmk_failpoint_arm(&fx->s.failpoint, 0, false);
		vmfx_check(fx);
		if (rc == 0) {
			VMFX_TRUE(fx, frame_at(c, BASE) != before);
			VMFX_EQ(fx, get(fx, p, BASE + 9), 0);
			if (fx->s.failpoint.failed == failed)
				break;
			continue;
		}
		VMFX_EQ(fx, rc, -MMK_ENOMEM);
		VMFX_EQ(fx, frame_at(c, BASE), before);
		vmfx_reap(fx);
		VMFX_EQ(fx, vmfx_free_frames(fx), free0);
		VMFX_TRUE(fx, n < 20);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fork_diverges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fork_exit_rounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_across_fork, setup, teardown),
		cmocka_unit_test_setup_teardown(test_private_file_shares_frames, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cow_fault_sweep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_phys_object, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
