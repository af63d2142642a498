/*
 * swap_fixture.h - a swap pager in host memory for the VM tests: slot ->
 * malloc'd 4 KiB copy, first free slot first.  Tests can make page-ins
 * fail (-5, EIO) or page-outs be refused (-MMK_ENOSPC).  Hosted test code.
 */
#ifndef MMK_TESTS_SWAP_FIXTURE_H
#define MMK_TESTS_SWAP_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include <mmk/vm.h>

struct test_swap {
	unsigned char **page; /* slot -> copy, NULL when free */
	uint64_t cap, used;   /* slots, slots in use */
	int fail_page_in;     /* > 0: the next n page-ins fail with -5 (EIO) */
	bool refuse_out;      /* every page-out refused with -MMK_ENOSPC */
};

/* cap slots, none used. */
void test_swap_init(struct test_swap *s, uint64_t cap);
/* The pager to give vm_system_set_swap (ctx = s). */
struct vm_pager test_swap_pager(struct test_swap *s);
/* Free the table (every slot should have been released). */
void test_swap_free(struct test_swap *s);

#endif
