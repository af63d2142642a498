/*
 * swap.c - mmk-sim's host-memory swap area (see swap.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mmk/errno.h>

#include "sim_boot.h"
#include "swap.h"

static int grow(struct host_swap *s)
{
	uint64_t cap = s->cap ? 2 * s->cap : 4096;
	unsigned char **p = realloc(s->page, cap * sizeof(*p));
	uint64_t *f = realloc(s->free_slots, cap * sizeof(*f));
	if (!p || !f) {
		free(p == s->page ? NULL : p);
		return -MMK_ENOSPC;
	}
	memset(p + s->cap, 0, (cap - s->cap) * sizeof(*p));
	for (uint64_t i = cap; i > s->cap; i--)
		f[s->nfree++] = i - 1;
	s->page = p;
	s->free_slots = f;
	s->cap = cap;
	return 0;
}

static int page_out(void *ctx, const void *page, uint64_t *slot)
{
	struct host_swap *s = ctx;
	if (!s->nfree && grow(s))
		return -MMK_ENOSPC;
	uint64_t i = s->free_slots[--s->nfree];
	s->page[i] = malloc(4096);
	if (!s->page[i]) {
		s->free_slots[s->nfree++] = i;
		return -MMK_ENOSPC;
	}
	memcpy(s->page[i], page, 4096);
	*slot = i;
	if (++s->used > s->peak)
		s->peak = s->used;
	return 0;
}

static int page_in(void *ctx, uint64_t slot, void *page)
{
	struct host_swap *s = ctx;
	if (slot >= s->cap || !s->page[slot])
		return -MMK_EFAULT;
	memcpy(page, s->page[slot], 4096);
	return 0;
}

static void release(void *ctx, uint64_t slot)
{
	struct host_swap *s = ctx;
	if (slot >= s->cap || !s->page[slot])
		return;
	free(s->page[slot]);
	s->page[slot] = NULL;
	s->free_slots[s->nfree++] = slot;
	s->used--;
}

void host_swap_attach(struct host_swap *s, struct sim_system *sys)
{
	memset(s, 0, sizeof(*s));
	struct vm_pager p = { page_out, page_in, release, s };
	struct phys_stats st;
	phys_get_stats(&sys->phys, &st);
	uint64_t watermark = st.managed_frames / 64;
	vm_system_set_swap(&sys->vm, &p, watermark < 64 ? 64 : watermark);
}

void host_swap_free(struct host_swap *s)
{
	if (s->used)
		fprintf(stderr, "mmk-sim: %llu swap slots still in use at the end\n", (unsigned long long)s->used);
	for (uint64_t i = 0; i < s->cap; i++)
		free(s->page[i]);
	free(s->page);
	free(s->free_slots);
	memset(s, 0, sizeof(*s));
}
