/*
 * swap_fixture.c - the tests' host-memory swap pager (swap_fixture.h).
 */
#include "swap_fixture.h"

#include <stdlib.h>
#include <string.h>

#include <mmk/errno.h>

static int swap_out(void *ctx, const void *page, uint64_t *slot)
{
	struct test_swap *s = ctx;
	uint64_t i = 0;
	while (i < s->cap && s->page[i])
		i++;
	if (s->refuse_out || i == s->cap)
		return -MMK_ENOSPC;
	s->page[i] = malloc(4096);
	if (!s->page[i])
		return -MMK_ENOSPC;
	memcpy(s->page[i], page, 4096);
	s->used++;
	*slot = i;
	return 0;
}

static int swap_in(void *ctx, uint64_t slot, void *page)
{
	struct test_swap *s = ctx;
	if (s->fail_page_in > 0) {
		s->fail_page_in--;
		return -5; /* EIO */
	}
	memcpy(page, s->page[slot], 4096);
	return 0;
}

static void swap_release(void *ctx, uint64_t slot)
{
	struct test_swap *s = ctx;
	free(s->page[slot]);
	s->page[slot] = NULL;
	s->used--;
}

void test_swap_init(struct test_swap *s, uint64_t cap)
{
	memset(s, 0, sizeof(*s));
	s->cap = cap;
	s->page = calloc(cap, sizeof(*s->page));
}

struct vm_pager test_swap_pager(struct test_swap *s) { return (struct vm_pager){ swap_out, swap_in, swap_release, s }; }

void test_swap_free(struct test_swap *s)
{
	for (uint64_t i = 0; i < s->cap; i++)
		free(s->page[i]);
	free(s->page);
	s->page = NULL;
}
