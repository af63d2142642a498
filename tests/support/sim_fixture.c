/*
 * sim_fixture.c - the page-table pool's bookkeeping and the machine bundle
 * of sim_fixture.h.  Hosted test code: plain calloc for the pool's
 * bookkeeping (the pool itself is sim_pt_pool.c).
 */
#include "sim_fixture.h"

#include <mmk/errno.h>
#include <stdlib.h>

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
