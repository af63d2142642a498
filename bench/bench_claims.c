/*
 * bench_claims.c - claims and batched revocation (seed 000, issue 5) timed
 * on the simulated PC.  No Linux figure: Linux has no claims and no
 * batched revocation; the revocation figures print mmk's own munmap of the
 * same pages beside them as context (one shootdown per page there, one per
 * space per batch here).  See README.md, "Claims and revocation".
 *
 * Claim + release pairs (median_trials: 60 ms trials, ns per pair): a
 * keeper claimant holds one page more than the range on each side, so every
 * claim splits twice and every release merges twice, and the release never
 * queues the range (the keeper still claims it): by range size (1, 64, 4096
 * pages; the cost should not grow with the size, since a node covers any
 * length) and by number of MOPs taking turns (1, 4, 64, each with its own
 * region, so the trie and the lists grow with them).
 *
 * Revocation (median of REV_REPEATS batches, each set up untimed: claim,
 * map, write every page, release): one batch of one 64-page range in one
 * space; one 4096-page range (ns per page); 32 ranges of 16 pages mapped in
 * 4 spaces active on 4 CPUs (ns per batch and per page).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <mmk/claims.h>
#include <mmk/errno.h>
#include <mmk/vm.h>
#include <sim.h>
#include <sim_boot.h>

/* ---- shared with bench.c (defined there; keep in step with its list) ---- */

typedef void (*batch_fn)(void *ctx, unsigned n);
_Noreturn void die(const char *fmt, ...);
uint64_t now_ns(void);
double median(double *v, size_t n);
double median_trials(batch_fn batch, void *ctx, unsigned n);
void add_peer_result(const char *name, const char *unit, double mmk, const char *impl, bool has_peer,
		     double peer, const char *peer_op);
void bench_claims_run(void);

#define PG ((uint64_t)MMK_PAGE_SIZE)
#define RAM ((uint64_t)512 << 20)
#define NCPUS 4u
#define RES_BASE ((vaddr_t)0x100000000ull)
#define RES_PAGES ((uint64_t)1 << 20) /* 4 GiB of reservation */
#define MAX_MOPS 64u
#define REGION_PAGES 8192u            /* each MOP's region in the MOP figures */
#define REV_REPEATS 21
#define NONE "none: Linux has no claims"

static inline void ok(int rc, const char *what)
{
	if (__builtin_expect(rc != 0, 0))
		die("%s failed: %s", what, mmk_strerror(rc));
}

/* ---- claim + release ---- */

struct pair_ctx {
	struct claims *c;
	struct claimant *mops;
	unsigned nmops;
	uint64_t pages;
};

static vaddr_t region(unsigned k) { return RES_BASE + (vaddr_t)k * REGION_PAGES * PG; }

static void batch_pairs(void *p, unsigned n)
{
	struct pair_ctx *x = p;
	for (unsigned i = 0; i < n; i++) {
		unsigned k = i % x->nmops;
		vaddr_t a = region(k) + PG;
		ok(claims_claim(x->c, &x->mops[k], a, x->pages * PG), "claims_claim");
		ok(claims_release(x->c, &x->mops[k], a, x->pages * PG), "claims_release");
	}
}

/* ns per claim+release pair; a keeper holds [a - 1 page, a + pages + 1). */
static double pairs(struct claims *c, struct claimant *mops, unsigned nmops, uint64_t pages)
{
	struct claimant keeper;
	claimant_init(&keeper, 0);
	for (unsigned k = 0; k < nmops; k++)
		ok(claims_claim(c, &keeper, region(k), (pages + 2) * PG), "keeper claim");
	struct pair_ctx x = { c, mops, nmops, pages };
	double ns = median_trials(batch_pairs, &x, 4096);
	const char *why = "claims_check";
	ok(claims_check(c, &why), why);
	claims_release_all(c, &keeper);
	while (claims_queued_ranges(c))
		ok(claims_revoke_batch(c, CLAIMS_BATCH_MAX, NULL, NULL), "claims_revoke_batch");
	return ns;
}

/* ---- revocation ---- */

struct rev_world {
	struct sim_system *sys;
	struct claims c;
	struct claimant mop[NCPUS];
	struct vm_space *as[NCPUS];
};

/* Claim, map and write nranges ranges of pages each (a gap of 16 pages
 * between them) in nspaces spaces, then release them: queued. */
static void rev_setup(struct rev_world *w, unsigned nspaces, unsigned nranges, uint64_t pages)
{
	for (unsigned s = 0; s < nspaces; s++) {
		for (unsigned r = 0; r < nranges; r++) {
			vaddr_t a = RES_BASE + (vaddr_t)r * (pages + 16) * PG, out;
			ok(claims_claim(&w->c, &w->mop[s], a, pages * PG), "claims_claim");
			ok(vm_map(w->as[s], a, pages * PG, VM_PROT_READ | VM_PROT_WRITE,
				  VM_MAP_PRIVATE | VM_MAP_ANONYMOUS | VM_MAP_FIXED, NULL, 0, VM_PROT_ALL, &out),
			   "vm_map");
			for (uint64_t p = 0; p < pages; p++) {
				uint8_t b = 1;
				ok(sim_write(w->sys->machine, s, a + p * PG, &b, 1, true), "sim_write");
			}
		}
	}
	for (unsigned s = 0; s < nspaces; s++)
		claims_release_all(&w->c, &w->mop[s]);
}

/* Median ns of one revocation batch of that shape. */
static double rev_batch(struct rev_world *w, unsigned nspaces, unsigned nranges, uint64_t pages)
{
	double v[REV_REPEATS];
	for (int i = 0; i < REV_REPEATS; i++) {
		rev_setup(w, nspaces, nranges, pages);
		size_t n;
		uint64_t t0 = now_ns();
		ok(claims_revoke_batch(&w->c, CLAIMS_BATCH_MAX, NULL, &n), "claims_revoke_batch");
		v[i] = (double)(now_ns() - t0);
		if (n != nranges || claims_queued_ranges(&w->c))
			die("a revocation batch took %zu ranges of %u", n, nranges);
	}
	return median(v, REV_REPEATS);
}

/* Context: munmap of the same layout, ns per call sequence (all ranges). */
static double unmap_same(struct rev_world *w, unsigned nspaces, unsigned nranges, uint64_t pages)
{
	double v[REV_REPEATS];
	for (int i = 0; i < REV_REPEATS; i++) {
		rev_setup(w, nspaces, nranges, pages);
		uint64_t t0 = now_ns();
		for (unsigned s = 0; s < nspaces; s++)
			for (unsigned r = 0; r < nranges; r++)
				ok(vm_unmap(w->as[s], RES_BASE + (vaddr_t)r * (pages + 16) * PG, pages * PG),
				   "vm_unmap");
		v[i] = (double)(now_ns() - t0);
		ok(claims_revoke_batch(&w->c, CLAIMS_BATCH_MAX, NULL, NULL), "claims_revoke_batch");
	}
	return median(v, REV_REPEATS);
}

static void run_revocation(struct sim_system *sys)
{
	struct rev_world *w = calloc(1, sizeof(*w));
	if (!w)
		die("out of memory");
	w->sys = sys;
	ok(claims_init(&w->c, &sys->phys, RES_BASE, RES_PAGES * PG, claims_vm_revoker, &sys->vm), "claims_init");
	for (unsigned s = 0; s < NCPUS; s++) {
		claimant_init(&w->mop[s], s + 1);
		ok(vm_space_create(&sys->vm, &w->as[s]), "vm_space_create");
		vm_space_activate(w->as[s], s);
	}
	double b64 = rev_batch(w, 1, 1, 64);
	double b4k = rev_batch(w, 1, 1, 4096);
	double bmany = rev_batch(w, NCPUS, 32, 16);
	double u64 = unmap_same(w, 1, 1, 64), u4k = unmap_same(w, 1, 1, 4096), umany = unmap_same(w, NCPUS, 32, 16);
	add_peer_result("revoke_batch_64p", "ns", b64, "-", false, 0, NONE " (one range, one space, per batch)");
	add_peer_result("revoke_page_4096p", "ns", b4k / 4096.0, "-", false, 0, NONE " (one range of 4096 pages)");
	add_peer_result("revoke_batch_4x32", "ns", bmany, "-", false, 0,
			NONE " (32 ranges x 16 pages in 4 spaces on 4 CPUs, per batch)");
	printf("revocation vs mmk's own munmap of the same pages (ns): 64 pages %.0f vs %.0f; 4096 pages %.1f vs "
	       "%.1f per page; 4 spaces x 32 ranges x 16 pages %.0f vs %.0f (%.1f vs %.1f per page)\n",
	       b64, u64, b4k / 4096.0, u4k / 4096.0, bmany, umany, bmany / (NCPUS * 32 * 16.0),
	       umany / (NCPUS * 32 * 16.0));
	for (unsigned s = 0; s < NCPUS; s++) {
		for (unsigned cpu = 0; cpu < NCPUS; cpu++)
			pmap_deactivate(&w->as[s]->pmap, cpu);
		vm_space_destroy(w->as[s]);
		ok(claimant_fini(&w->mop[s]), "claimant_fini");
	}
	ok(claims_fini(&w->c), "claims_fini");
	free(w);
}

void bench_claims_run(void)
{
	struct sim_system *sys = calloc(1, sizeof(*sys));
	struct claimant *mops = calloc(MAX_MOPS, sizeof(*mops));
	if (!sys || !mops)
		die("out of memory");
	ok(sim_system_boot(sys, RAM, NCPUS), "sim_system_boot");
	struct claims *c = calloc(1, sizeof(*c));
	if (!c)
		die("out of memory");
	ok(claims_init(c, &sys->phys, RES_BASE, RES_PAGES * PG, NULL, NULL), "claims_init");
	for (unsigned k = 0; k < MAX_MOPS; k++)
		claimant_init(&mops[k], k + 1);
	static const uint64_t sizes[3] = { 1, 64, 4096 };
	static const char *const size_names[3] = { "claim_release_1p", "claim_release_64p", "claim_release_4096p" };
	for (int i = 0; i < 3; i++)
		add_peer_result(size_names[i], "ns", pairs(c, mops, 1, sizes[i]), "-", false, 0,
				NONE " (2 splits + 2 merges per pair)");
	static const unsigned nmops[3] = { 1, 4, 64 };
	static const char *const mop_names[3] = { "claim_release_mops_1", "claim_release_mops_4",
						  "claim_release_mops_64" };
	for (int i = 0; i < 3; i++)
		add_peer_result(mop_names[i], "ns", pairs(c, mops, nmops[i], 16), "-", false, 0,
				NONE " (16 pages, MOPs in turn)");
	fprintf(stderr, "  %-24s done\n", "claim_release_*");
	ok(claims_fini(c), "claims_fini");
	free(c);
	run_revocation(sys);
	fprintf(stderr, "  %-24s done\n", "revoke_*");
	ok(sim_system_shutdown(sys), "sim_system_shutdown");
	free(mops);
	free(sys);
}
