/*
 * tests.h - the in-kernel suites (one file per layer) and the shared
 * hosted tests compiled into the kernel (their main, renamed).
 */
#ifndef KERNEL_TESTS_TESTS_H
#define KERNEL_TESTS_TESTS_H

#include "../ktest/ktest.h"

void test_phys_suite(void);
void test_slab_suite(void);
void test_vmem_suite(void);
void test_kmalloc_suite(void);
void test_x86_pmap_suite(void);
void test_vm_suite(void);
int ktest_main_test_sim_pmap(void);

/* Free frames now (all zones). */
uint64_t tests_free_frames(void);

#endif
