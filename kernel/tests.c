/*
 * tests.c - the list of in-kernel test suites, run in layer order: frames
 * and buddy, slab caches, vmem, kmalloc and kmap, the pmap contract (the
 * hosted test file itself, tests/unit/test_sim_pmap.c) and the real-MMU
 * pmap tests, then address spaces and faults.
 */
#include "kernel.h"
#include "kprintf.h"
#include "tests/tests.h"

void kernel_run_tests(void)
{
	test_phys_suite();
	test_slab_suite();
	test_vmem_suite();
	test_kmalloc_suite();
	ktest_main_test_sim_pmap();
	test_x86_pmap_suite();
	test_vm_suite();
}
