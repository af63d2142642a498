/*
 * bench_physmem.c - seed 001's physmem: allocate/deallocate by size,
 * copy-on-write copy and first write, and a compaction pass over 1 GiB at
 * 50 % fragmentation (frames moved per second).  Linux has no counterpart
 * to containers, so these figures stand alone (mmk records only).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mmk/errno.h>
#include <mmk/physmem.h>
#include <sim.h>
#include <sim_boot.h>

typedef void (*batch_fn)(void *ctx, unsigned n);
_Noreturn void die(const char *fmt, ...);
uint64_t now_ns(void);
double median_trials(batch_fn batch, void *ctx, unsigned n);
uint64_t rng_next(uint64_t *s);
void add_peer_result(const char *name, const char *unit, double mmk, const char *impl, bool has_peer,
		     double peer, const char *peer_op);
void bench_physmem_run(void);

#define PG MMK_PAGE_SIZE

struct pm_bench {
	struct sim_system sys;
	struct acct_system acct;
	struct physmem pm;
	struct container_ref a, b;
	uint64_t npages;
};

static void ok(int rc, const char *what)
{
	if (rc)
		die("%s: %s", what, mmk_strerror(rc));
}

static void boot(struct pm_bench *b, uint64_t ram)
{
	ok(sim_system_boot(&b->sys, ram, 1), "sim_system_boot");
	ok(acct_system_init(&b->acct, &b->sys.phys, phys_free_frames(&b->sys.phys)), "acct_system_init");
	ok(physmem_init(&b->pm, &b->sys.phys, &b->sys.vm), "physmem_init");
	ok(container_create(&b->pm, acct_root(&b->acct), &b->a), "container_create");
	ok(container_create(&b->pm, acct_root(&b->acct), &b->b), "container_create");
}

static void shutdown(struct pm_bench *b)
{
	ok(container_destroy(&b->a), "container_destroy");
	ok(container_destroy(&b->b), "container_destroy");
	ok(physmem_fini(&b->pm), "physmem_fini");
	ok(acct_system_fini(&b->acct), "acct_system_fini");
	ok(sim_system_shutdown(&b->sys), "sim_system_shutdown");
}

static void batch_alloc(void *p, unsigned n)
{
	struct pm_bench *b = p;
	for (unsigned i = 0; i < n; i++) {
		ok(container_allocate(b->a, 0, b->npages, 0, NULL), "container_allocate");
		ok(container_deallocate(b->a, 0, b->npages * PG), "container_deallocate");
	}
}

/* COW copy of npages, a write to each copied page (each one a COW break),
 * then the copy goes: per page. */
static void batch_cow(void *p, unsigned n)
{
	struct pm_bench *b = p;
	for (unsigned i = 0; i < n; i++) {
		ok(container_copy(b->a, 0, b->b, 0, b->npages * PG, PM_COPY_COW, NULL), "container_copy");
		for (uint64_t pg = 0; pg < b->npages; pg++)
			ok(container_write(b->b, pg * PG, &pg, 8), "container_write");
		ok(container_deallocate(b->b, 0, b->npages * PG), "container_deallocate");
	}
}

static void batch_cow_copy(void *p, unsigned n)
{
	struct pm_bench *b = p;
	for (unsigned i = 0; i < n; i++) {
		ok(container_copy(b->a, 0, b->b, 0, b->npages * PG, PM_COPY_COW, NULL), "container_copy");
		ok(container_deallocate(b->b, 0, b->npages * PG), "container_deallocate");
	}
}

static void alloc_figures(void)
{
	struct pm_bench *b = calloc(1, sizeof(*b));
	boot(b, 256ull << 20);
	static const uint64_t sizes[] = { 1, 16, 512, 4096 };
	char name[64];
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		b->npages = sizes[i];
		double ns = median_trials(batch_alloc, b, sizes[i] >= 512 ? 4 : 256);
		snprintf(name, sizeof(name), "pm_alloc_dealloc_%llup", (unsigned long long)sizes[i]);
		add_peer_result(strdup(name), "ns/op", ns, "linux", false, 0, "no counterpart (containers)");
		fprintf(stderr, "  %-24s done\n", name);
	}
	b->npages = 64;
	ok(container_allocate(b->a, 0, 64, 0, NULL), "container_allocate");
	double copy = median_trials(batch_cow_copy, b, 64);
	add_peer_result("pm_cow_copy_64p", "ns/op", copy, "linux", false, 0, "no counterpart (containers)");
	double cow = median_trials(batch_cow, b, 16) / 64.0;
	add_peer_result("pm_cow_copy_write_page", "ns/op", cow, "linux", false, 0,
			"no counterpart (COW copy + first write, per page)");
	fprintf(stderr, "  %-24s done\n", "pm_cow");
	ok(container_deallocate(b->a, 0, 64 * PG), "container_deallocate");
	shutdown(b);
	free(b);
}

/* 1 GiB filled with single pages, half freed at random, one pass. */
static void compaction_figure(void)
{
	struct pm_bench *b = calloc(1, sizeof(*b));
	boot(b, 1ull << 30);
	uint64_t rng = 42, pages = 0;
	uint64_t max = phys_free_frames(&b->sys.phys);
	unsigned char *present = calloc(max, 1);
	for (uint64_t pg = 0; pg < max && phys_free_frames(&b->sys.phys) > 64; pg++)
		if (container_allocate(b->a, pg * PG, 1, 0, NULL) == 0) {
			present[pg] = 1;
			pages++;
		}
	for (uint64_t pg = 0; pg < max; pg++)
		if (present[pg] && (rng_next(&rng) & 1))
			ok(container_deallocate(b->a, pg * PG, PG), "container_deallocate");
	struct pm_frag_stats before, after;
	struct pm_compact_result res;
	physmem_frag_stats(&b->pm, &before);
	uint64_t t0 = now_ns();
	ok(physmem_compact(&b->pm, 5, 0, &res), "physmem_compact");
	double secs = (double)(now_ns() - t0) / 1e9;
	physmem_frag_stats(&b->pm, &after);
	if (res.frames_moved == 0)
		die("compaction moved nothing");
	fprintf(stderr, "  compaction: %llu pages, largest free order %d -> %d, %llu frames moved, %llu regions freed\n",
		(unsigned long long)pages, before.largest_order, after.largest_order,
		(unsigned long long)res.frames_moved, (unsigned long long)res.regions_freed);
	add_peer_result("pm_compact_1gib_frames_per_s", "frames/s", (double)res.frames_moved / secs, "linux", false, 0,
			"no counterpart (Linux compaction is not callable per process)");
	add_peer_result("pm_compact_1gib_regions_freed", "regions", (double)res.regions_freed, "linux", false, 0,
			"order-5 blocks built by the pass");
	free(present);
	shutdown(b);
	free(b);
}

void bench_physmem_run(void)
{
	alloc_figures();
	compaction_figure();
}
