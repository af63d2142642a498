/*
 * sim_pt_pool.c - the page-table page pool of sim_fixture.h: the lowest
 * free frame first (deterministic), double and foreign frees counted, every
 * allocation through the pool's failpoint.  No libc, so the kernel's copy
 * of the contract tests (kernel/ktest) uses this file too.
 */
#include "sim_fixture.h"

#include <mmk/errno.h>

static int pool_alloc(void *ctx, paddr_t *out)
{
	struct sim_pt_pool *p = ctx;
	if (mmk_failpoint_hit(&p->fp))
		return -MMK_ENOMEM;
	for (size_t i = 0; i < p->npages; i++) {
		if (!p->used[i]) {
			p->used[i] = 1;
			p->in_use++;
			*out = p->base + i * MMK_PAGE_SIZE;
			return 0;
		}
	}
	return -MMK_ENOMEM;
}

static void pool_free(void *ctx, paddr_t pa)
{
	struct sim_pt_pool *p = ctx;
	size_t i = (size_t)((pa - p->base) / MMK_PAGE_SIZE);
	if (pa < p->base || !mmk_page_aligned(pa) || i >= p->npages || !p->used[i]) {
		p->bad_frees++;
		return;
	}
	p->used[i] = 0;
	p->in_use--;
}

struct pmap_pt_source sim_pt_pool_source(struct sim_pt_pool *p)
{
	return (struct pmap_pt_source){ .alloc = pool_alloc, .free = pool_free, .ctx = p };
}
