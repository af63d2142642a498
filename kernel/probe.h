/*
 * probe.h - loads and stores that report a page fault instead of crashing
 * the kernel, so in-kernel tests can check what the MMU itself does (a
 * read-only page refusing a write, a removed page not present).  Only for
 * tests: the kernel proper never touches user addresses (uaccess.h).
 */
#ifndef KERNEL_PROBE_H
#define KERNEL_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "trap.h"

#define PROBE_FAULTED 0x10000 /* | the x86 page-fault error code */

/* 0 and *out = *p, or PROBE_FAULTED | error code. */
int probe_load(const volatile uint64_t *p, uint64_t *out);
/* 0 after *p = v, or PROBE_FAULTED | error code (nothing written). */
int probe_store(volatile uint64_t *p, uint64_t v);

/* trap.c: resume a faulting probe; true when tf was one. */
bool probe_fixup(struct trapframe *tf);

#endif
