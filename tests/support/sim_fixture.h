/*
 * sim_fixture.h - test helpers for hal/sim: a page-table page pool over a
 * test-owned range of simulated frames, and a machine + pmap bundle.
 *
 * The pool stands in for the real frame allocator (written separately) so
 * pmap tests depend on nothing but the HAL.  It hands out the lowest free
 * frame (deterministic), detects double and foreign frees, and passes every
 * allocation through an mmk_failpoint so tests can sweep -MMK_ENOMEM.
 */
#ifndef TESTS_SUPPORT_SIM_FIXTURE_H
#define TESTS_SUPPORT_SIM_FIXTURE_H

#include <hal/pmap.h>
#include <mmk/failpoint.h>
#include <sim.h>

struct sim_pt_pool {
	struct hal_machine *m;
	paddr_t base;          /* first frame of the pool (bytes) */
	size_t npages;
	unsigned char *used;   /* one byte per frame: 1 = handed out */
	size_t in_use;         /* frames handed out now */
	size_t bad_frees;      /* frees of frames not handed out */
	struct mmk_failpoint fp;
};

/* Pool of npages frames from base (page-aligned, inside RAM).  0 or -MMK_ENOMEM. */
int sim_pt_pool_init(struct sim_pt_pool *p, struct hal_machine *m, paddr_t base, size_t npages);
void sim_pt_pool_fini(struct sim_pt_pool *p);
struct pmap_pt_source sim_pt_pool_source(struct sim_pt_pool *p);

/*
 * A machine of ram_bytes and ncpus with a pool of the top pool_pages frames
 * of RAM and one pmap (owner = the fixture) created on it.  Frames below
 * SIM_FX_DATA_END are free for tests to map.
 */
struct sim_fixture {
	struct hal_machine *m;
	struct sim_pt_pool pool;
	struct pmap pm;
};

#define SIM_FX_RAM ((uint64_t)64 << 20)
#define SIM_FX_POOL_PAGES 2048u
#define SIM_FX_DATA_END (SIM_FX_RAM - (uint64_t)SIM_FX_POOL_PAGES * MMK_PAGE_SIZE)

/* 0, or an error (machine, pool or pmap could not be made). */
int sim_fixture_setup(struct sim_fixture *fx, unsigned ncpus);
/* Deactivates the pmap everywhere, removes what is left, destroys it. */
void sim_fixture_teardown(struct sim_fixture *fx);

/* The data frame number n (a page-aligned physical address below
 * SIM_FX_DATA_END). */
static inline paddr_t sim_fx_frame(uint64_t n) { return (paddr_t)(n + 16) * MMK_PAGE_SIZE; }

#endif
