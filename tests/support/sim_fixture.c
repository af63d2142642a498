/*
 * sim_fixture.c - the page-table pool and machine bundle of sim_fixture.h.
 * Hosted test code: plain calloc for the pool's bookkeeping.
 */
#include "sim_fixture.h"

#include <mmk/errno.h>
#include <stdlib.h>

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

int sim_pt_pool_init(struct sim_pt_pool *p, struct hal_machine *m, paddr_t base, size_t npages)
{
	*p = (struct sim_pt_pool){ .m = m, .base = base, .npages = npages };
	p->used = calloc(npages ? npages : 1, 1);
	return p->used ? 0 : -MMK_ENOMEM;
}

void sim_pt_pool_fini(struct sim_pt_pool *p)
{
	free(p->used);
	p->used = NULL;
}

struct pmap_pt_source sim_pt_pool_source(struct sim_pt_pool *p)
{
	return (struct pmap_pt_source){ .alloc = pool_alloc, .free = pool_free, .ctx = p };
}

int sim_fixture_setup(struct sim_fixture *fx, unsigned ncpus)
{
	fx->m = sim_machine_create(SIM_FX_RAM, ncpus);
	if (!fx->m)
		return -MMK_ENOMEM;
	int rc = sim_pt_pool_init(&fx->pool, fx->m, SIM_FX_DATA_END, SIM_FX_POOL_PAGES);
	if (rc == 0) {
		struct pmap_pt_source src = sim_pt_pool_source(&fx->pool);
		rc = pmap_create(&fx->pm, fx->m, &src, fx);
	}
	if (rc != 0) {
		sim_pt_pool_fini(&fx->pool);
		sim_machine_destroy(fx->m);
	}
	return rc;
}

void sim_fixture_teardown(struct sim_fixture *fx)
{
	for (unsigned cpu = 0; cpu < hal_cpu_count(fx->m); cpu++)
		pmap_deactivate(&fx->pm, cpu);
	pmap_remove(&fx->pm, 0, PMAP_USER_END, NULL, NULL);
	pmap_destroy(&fx->pm);
	sim_pt_pool_fini(&fx->pool);
	sim_machine_destroy(fx->m);
}
