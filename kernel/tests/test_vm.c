/*
 * test_vm.c - mmk address spaces on the real MMU, driven from kernel mode:
 * every access goes through the CPU (a probe), and a fault it raises is
 * handed to vm_fault exactly as the user-mode trap path does, then the
 * access is retried.  Demand-zero pages, copy-on-write after
 * vm_space_fork (each side sees its own bytes through its own CR3), a
 * shared object across fork, an allocation-failure sweep over fork,
 * reclaim driven by the accessed bits the CPU sets, refusals (write to read-only: -MMK_EACCES;
 * unmapped: -MMK_EFAULT), vm_check after each step and a leak baseline
 * when the spaces are gone.
 */
#include <mmk/errno.h>

#include "../../hal/x86_64/pte.h"
#include "../kernel.h"
#include "../klib.h"
#include "../probe.h"
#include "tests.h"

#define PG MMK_PAGE_SIZE
#define RW (VM_PROT_READ | VM_PROT_WRITE)

/* One access through the MMU as the CPU of as; a fault goes to vm_fault
 * and the access is retried once.  0 or vm_fault's refusal. */
static int access_as(struct vm_space *as, vaddr_t va, bool write, uint64_t *val)
{
	vm_space_activate(as, 0);
	for (int tries = 0; tries < 3; tries++) {
		volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)va;
		int rc = write ? probe_store(p, *val) : probe_load(p, val);
		if (rc == 0)
			return 0;
		unsigned access = (rc & X86_PF_W) ? PMAP_ACCESS_WRITE : PMAP_ACCESS_READ;
		rc = vm_fault(as, va, access);
		if (rc)
			return rc;
	}
	return -MMK_EFAULT;
}

static uint64_t load(struct vm_space *as, vaddr_t va)
{
	uint64_t v = 0;
	KT_EQ(access_as(as, va, false, &v), 0);
	return v;
}

static void store(struct vm_space *as, vaddr_t va, uint64_t v) { KT_EQ(access_as(as, va, true, &v), 0); }

static void leave(struct vm_space *as) { pmap_deactivate(&as->pmap, 0); }

static uint64_t settled_free(void)
{
	vm_system_reap(&kernel.vm);
	return tests_free_frames();
}

static void test_demand_zero(void **state)
{
	(void)state;
	uint64_t base = settled_free();
	struct vm_space *as;
	KT_EQ(vm_space_create(&kernel.vm, &as), 0);
	vaddr_t a;
	KT_EQ(vm_map(as, 0, 16 * PG, RW, VM_MAP_PRIVATE | VM_MAP_ANONYMOUS, NULL, 0, VM_PROT_ALL, &a), 0);
	for (unsigned i = 0; i < 16; i++) {
		KT_EQ(load(as, a + i * PG + 8), 0);
		store(as, a + i * PG, i + 100);
	}
	KT_INVARIANT(vm_check, as);
	for (unsigned i = 0; i < 16; i++)
		KT_EQ(load(as, a + i * PG), i + 100);
	KT_EQ(as->zero_fills >= 16, 1);
	KT_EQ(as->pmap.resident, 16);
	leave(as);
	vm_space_destroy(as);
	KT_EQ(settled_free(), base);
}

static void test_refusals(void **state)
{
	(void)state;
	uint64_t base = settled_free();
	struct vm_space *as;
	KT_EQ(vm_space_create(&kernel.vm, &as), 0);
	vaddr_t a;
	KT_EQ(vm_map(as, 0, 2 * PG, RW, VM_MAP_PRIVATE | VM_MAP_ANONYMOUS, NULL, 0, VM_PROT_ALL, &a), 0);
	store(as, a, 1);
	KT_EQ(vm_protect(as, a, PG, VM_PROT_READ), 0);
	uint64_t v = 2;
	KT_EQ(access_as(as, a, true, &v), -MMK_EACCES);
	KT_EQ(load(as, a), 1);
	KT_EQ(access_as(as, a + 64 * PG, false, &v), -MMK_EFAULT);
	KT_EQ(vm_protect(as, a + PG, PG, VM_PROT_NONE), 0);
	KT_EQ(access_as(as, a + PG, false, &v), -MMK_EACCES);
	KT_EQ(as->faults_refused >= 3, 1);
	KT_INVARIANT(vm_check, as);
	KT_EQ(vm_unmap(as, a, 2 * PG), 0);
	KT_EQ(access_as(as, a, false, &v), -MMK_EFAULT);
	KT_INVARIANT(vm_check, as);
	leave(as);
	vm_space_destroy(as);
	KT_EQ(settled_free(), base);
}

static void test_fork_cow(void **state)
{
	(void)state;
	uint64_t base = settled_free();
	struct vm_space *parent, *child;
	KT_EQ(vm_space_create(&kernel.vm, &parent), 0);
	vaddr_t a;
	KT_EQ(vm_map(parent, 0, 4 * PG, RW, VM_MAP_PRIVATE | VM_MAP_ANONYMOUS, NULL, 0, VM_PROT_ALL, &a), 0);
	for (unsigned i = 0; i < 4; i++)
		store(parent, a + i * PG, 10 + i);
	leave(parent);
	KT_EQ(vm_space_fork(parent, &child), 0);
	KT_INVARIANT(vm_check, parent);
	KT_INVARIANT(vm_check, child);
	/* Shared until written: the same frame behind both. */
	paddr_t pp, pc;
	KT_EQ(pmap_extract(&parent->pmap, a, &pp, NULL), 0);
	KT_EQ(pmap_extract(&child->pmap, a, &pc, NULL), 0);
	KT_EQ(pp, pc);
	uint64_t copies = kernel.vm.cow_copies;
	KT_EQ(load(child, a), 10);
	store(child, a, 20); /* the write fault copies */
	KT_EQ(kernel.vm.cow_copies, copies + 1);
	leave(child);
	store(parent, a + PG, 31);
	KT_EQ(load(parent, a), 10);
	leave(parent);
	KT_EQ(load(child, a), 20);
	KT_EQ(load(child, a + PG), 11);
	KT_EQ(load(child, a + 2 * PG), 12);
	leave(child);
	KT_INVARIANT(vm_check, parent);
	KT_INVARIANT(vm_check, child);
	vm_space_destroy(child);
	KT_EQ(load(parent, a + 3 * PG), 13);
	leave(parent);
	vm_space_destroy(parent);
	KT_EQ(settled_free(), base);
}

static void test_shared_object(void **state)
{
	(void)state;
	uint64_t base = settled_free();
	struct vm_space *parent, *child;
	struct vm_object *obj;
	KT_EQ(vm_space_create(&kernel.vm, &parent), 0);
	KT_EQ(vm_object_create(&kernel.vm, VM_OBJECT_ANON, "ktest-shm", &obj), 0);
	vaddr_t a;
	KT_EQ(vm_map(parent, 0, PG, RW, VM_MAP_SHARED, obj, 0, VM_PROT_ALL, &a), 0);
	vm_object_release(&kernel.vm, obj);
	store(parent, a, 1);
	leave(parent);
	KT_EQ(vm_space_fork(parent, &child), 0);
	store(child, a, 2);
	leave(child);
	KT_EQ(load(parent, a), 2);
	leave(parent);
	vm_space_destroy(child);
	vm_space_destroy(parent);
	KT_EQ(settled_free(), base);
}

/* Allocation-failure sweep over fork: the k-th allocation fails for k = 1,
 * 2, ... until fork succeeds; each failure is -MMK_ENOMEM with the parent
 * unchanged (checker, its bytes) and no frame kept. */
static void test_fork_failure_sweep(void **state)
{
	(void)state;
	uint64_t base = settled_free();
	struct vm_space *parent, *child = NULL;
	KT_EQ(vm_space_create(&kernel.vm, &parent), 0);
	vaddr_t a;
	KT_EQ(vm_map(parent, 0, 8 * PG, RW, VM_MAP_PRIVATE | VM_MAP_ANONYMOUS, NULL, 0, VM_PROT_ALL, &a), 0);
	for (unsigned i = 0; i < 8; i++)
		store(parent, a + i * PG, 40 + i);
	leave(parent);
	uint64_t with_parent = settled_free();
	unsigned failures = 0;
	for (uint64_t k = 1;; k++) {
		mmk_failpoint_arm(&kernel.failpoint, k, false);
		int rc = vm_space_fork(parent, &child);
		mmk_failpoint_arm(&kernel.failpoint, 0, false);
		if (rc == 0)
			break;
		KT_EQ(rc, -MMK_ENOMEM);
		KT_INVARIANT(vm_check, parent);
		KT_EQ(settled_free(), with_parent);
		failures++;
		KT_ASSERT(failures < 1000);
	}
	KT_ASSERT(failures > 0);
	for (unsigned i = 0; i < 8; i++)
		KT_EQ(load(child, a + i * PG), 40 + i);
	leave(child);
	vm_space_destroy(child);
	vm_space_destroy(parent);
	KT_EQ(settled_free(), base);
}

/* A swap area in kernel memory: one kmalloc'ed page per slot. */
struct ram_swap {
	void *page[16];
	unsigned used;
};

static int swap_out(void *ctx, const void *page, uint64_t *slot)
{
	struct ram_swap *s = ctx;
	for (unsigned i = 0; i < 16; i++)
		if (!s->page[i]) {
			if (!(s->page[i] = kmalloc(&kernel.heap, PG)))
				return -MMK_ENOMEM;
			memcpy(s->page[i], page, PG);
			s->used++;
			*slot = i;
			return 0;
		}
	return -MMK_ENOSPC;
}

static int swap_in(void *ctx, uint64_t slot, void *page)
{
	struct ram_swap *s = ctx;
	memcpy(page, s->page[slot], PG);
	return 0;
}

static void swap_release(void *ctx, uint64_t slot)
{
	struct ram_swap *s = ctx;
	kfree(&kernel.heap, s->page[slot]);
	s->page[slot] = NULL;
	s->used--;
}

static bool resident(struct vm_space *as, vaddr_t va) { return pmap_extract(&as->pmap, va, NULL, NULL) == 0; }

/* Reclaim runs on the accessed bits the CPU's page walker sets: the first
 * turn clears them all (second chance), the second pages out; a page the
 * CPU reads in between keeps its frame.  Every page comes back, intact,
 * through a fault. */
static void test_reclaim_uses_hardware_accessed_bits(void **state)
{
	(void)state;
	kmalloc_drain(&kernel.heap);
	uint64_t base = settled_free();
	static struct ram_swap swap;
	struct vm_pager pager = { swap_out, swap_in, swap_release, &swap };
	vm_system_set_swap(&kernel.vm, &pager, 0);
	struct vm_space *as;
	KT_EQ(vm_space_create(&kernel.vm, &as), 0);
	vaddr_t a;
	KT_EQ(vm_map(as, 0, 8 * PG, RW, VM_MAP_PRIVATE | VM_MAP_ANONYMOUS, NULL, 0, VM_PROT_ALL, &a), 0);
	for (unsigned i = 0; i < 8; i++)
		store(as, a + i * PG, 0x5000 + i);
	leave(as);
	KT_EQ(vm_reclaim(&kernel.vm, NULL, 4), 4);
	for (unsigned i = 0; i < 8; i++) {
		KT_EQ(resident(as, a + i * PG), i >= 4);
		unsigned bits = 0;
		if (i >= 4) /* second chance taken: accessed bit cleared */
			KT_EQ(pmap_extract(&as->pmap, a + i * PG, NULL, &bits) == 0 && !(bits & PMAP_ACCESSED), 1);
	}
	KT_EQ(swap.used, 4);
	KT_EQ(load(as, a + 5 * PG), 0x5005); /* the CPU sets page 5's accessed bit */
	leave(as);
	KT_EQ(vm_reclaim(&kernel.vm, NULL, 3), 3);
	KT_ASSERT(resident(as, a + 5 * PG));
	KT_ASSERT(!resident(as, a + 4 * PG) && !resident(as, a + 6 * PG) && !resident(as, a + 7 * PG));
	uint64_t ins = kernel.vm.page_ins;
	for (unsigned i = 0; i < 8; i++)
		KT_EQ(load(as, a + i * PG), 0x5000 + i);
	leave(as);
	KT_EQ(kernel.vm.page_ins, ins + 7);
	KT_INVARIANT(vm_check, as);
	vm_space_destroy(as);
	KT_EQ(swap.used, 0);
	struct vm_pager none = { 0 };
	vm_system_set_swap(&kernel.vm, &none, 0);
	kmalloc_drain(&kernel.heap);
	KT_EQ(settled_free(), base);
}

void test_vm_suite(void)
{
	static const struct ktest tests[] = {
		KT_TEST(test_demand_zero),
		KT_TEST(test_refusals),
		KT_TEST(test_fork_cow),
		KT_TEST(test_shared_object),
		KT_TEST(test_fork_failure_sweep),
		KT_TEST(test_reclaim_uses_hardware_accessed_bits),
	};
	ktest_run_suite("address spaces and faults", tests, KT_COUNT(tests));
}
