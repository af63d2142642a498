/*
 * bench.c - mmk-bench: mmk's memory operations timed beside the nearest Linux
 * operation, measured in the same run on the same machine (DESIGN.md, "How
 * we know it works").  See README.md for what each figure means.
 *
 * Method: every figure is the median of REPEATS trials; a trial repeats its
 * operation in batches until TRIAL_NS have passed (CLOCK_MONOTONIC), so fast
 * and slow operations alike are timed for a stable stretch.  mmk runs on the
 * simulated PC (hal/sim).  Each Linux measurement runs in a forked child so
 * its mappings never reach the parent, and sends its median back through a
 * pipe.  Times are never asserted on; a failing operation (an mmk call or a
 * system call returning an error) ends the run with status 1.
 *
 * Output: a text table on stdout and bench-results.json beside the
 * executable (a JSON list of {"name", "impl", "value", "unit"} records).
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <mmk/errno.h>
#include <mmk/phys.h>
#include <mmk/vm.h>
#include <sim.h>
#include <sim_boot.h>

#include "capture.h"
#include "replay.h"

#ifndef MMK_SOURCE_DIR
#define MMK_SOURCE_DIR "."
#endif

/* Shared with bench_alloc.c (the allocator figures), which declares these
 * too: keep the two lists in step. */
typedef void (*batch_fn)(void *ctx, unsigned n);
_Noreturn void die(const char *fmt, ...);
uint64_t now_ns(void);
double median(double *v, size_t n);
double median_trials(batch_fn batch, void *ctx, unsigned n);
uint64_t rng_next(uint64_t *s);
void add_peer_result(const char *name, const char *unit, double mmk, const char *impl, bool has_peer,
		     double peer, const char *peer_op);
void bench_alloc_run(void);
_Noreturn void bench_alloc_peer_main(int argc, char **argv);
void bench_vm_run(void); /* bench_vm.c: fork, COW and shared-file faults */
void bench_claims_run(void); /* bench_claims.c: claims and batched revocation */
void bench_charge_run(struct sim_system *sys); /* bench_charge.c: charge overhead (issue 5) */
void bench_physmem_run(void); /* bench_physmem.c: containers, COW copies, compaction */

#define REPEATS 5
#define TRIAL_NS 60000000ull       /* 60 ms per trial: stable, keeps the run short */
#define PG ((size_t)MMK_PAGE_SIZE)
#define SIM_RAM ((uint64_t)1 << 30) /* the simulated PC, as mmk-sim's default */
#define NVMAS 10000u
#define VMA_PAGES 2u                /* each of the 10,000 VMAs */
#define VMA_STRIDE 4u               /* pages from one VMA's start to the next: a 2-page hole */
#define REGION_BASE ((uintptr_t)0x100000000000ull) /* the 10,000 VMAs, both sides */
#define FREE_HINT ((uintptr_t)0x200000000000ull)   /* a free address, far from any VMA */
#define FAULT_BYTES ((size_t)64 << 20)
#define MIX_SLOTS 1024u             /* live blocks of the mixed buddy benchmark */
#define MIX_OPS 65536u              /* length of its precomputed random script */
#define MIX_MAX_ORDER 5u
#define MAX_RESULTS 96

/* ---- failure ---- */

_Noreturn void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("mmk-bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

/* An mmk call failed: the benchmark would time an error path, so stop. */
static inline void mmk_ok(int rc, const char *what)
{
	if (__builtin_expect(rc != 0, 0))
		die("%s failed: %s", what, mmk_strerror(rc));
}

/* A system call failed (in a child: the parent sees the exit status). */
static inline void sys_ok(bool ok, const char *what)
{
	if (__builtin_expect(!ok, 0))
		die("%s failed: %s", what, strerror(errno));
}

/* ---- clock, trials, medians ---- */

uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/* A batch (batch_fn, declared above) runs n operations back to back; the
 * loop lives in the batch so the per-operation cost carries no indirect call. */

/* One trial: batches until TRIAL_NS have passed; ns per operation. */
static double trial(batch_fn batch, void *ctx, unsigned n)
{
	uint64_t t0 = now_ns(), ops = 0, elapsed;
	do {
		batch(ctx, n);
		ops += n;
		elapsed = now_ns() - t0;
	} while (elapsed < TRIAL_NS);
	return (double)elapsed / (double)ops;
}

/* The figure: median of REPEATS trials, after one untimed warm-up batch. */
double median_trials(batch_fn batch, void *ctx, unsigned n)
{
	double v[REPEATS];
	batch(ctx, n);
	for (int i = 0; i < REPEATS; i++)
		v[i] = trial(batch, ctx, n);
	return median(v, REPEATS);
}

/* ---- Linux side in a child ---- */

/* Measures up to 4 figures into out[]; runs in the child. */
typedef void (*child_fn)(double *out);

/* Fork, run fn in the child, return its figures through a pipe.  The child's
 * mappings (10,000 VMAs, 64 MiB touched) die with it. */
static void in_child(child_fn fn, double *out, size_t n, const char *what)
{
	int fd[2];
	sys_ok(pipe(fd) == 0, "pipe");
	fflush(NULL);
	pid_t pid = fork();
	sys_ok(pid >= 0, "fork");
	if (pid == 0) {
		close(fd[0]);
		double v[4] = { 0 };
		fn(v);
		ssize_t w = write(fd[1], v, n * sizeof(double));
		_exit(w == (ssize_t)(n * sizeof(double)) ? 0 : 1);
	}
	close(fd[1]);
	ssize_t r = read(fd[0], out, n * sizeof(double));
	close(fd[0]);
	int status;
	sys_ok(waitpid(pid, &status, 0) == pid, "waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || r != (ssize_t)(n * sizeof(double)))
		die("the Linux side of %s failed in its child", what);
}

/* ---- results: the table and the JSON records ---- */

struct result {
	const char *name, *unit;
	double mmk, linux_v;
	bool has_linux;
	const char *linux_op; /* the Linux operation measured, or why there is none */
	const char *impl;     /* the peer's impl in bench-results.json: "linux", "glibc", ... */
};

static struct result results[MAX_RESULTS];
static size_t nresults;

static void add_result(const char *name, const char *unit, double mmk, bool has_linux, double lx,
		       const char *linux_op)
{
	if (nresults == MAX_RESULTS)
		die("too many results");
	results[nresults++] = (struct result){ name, unit, mmk, lx, has_linux, linux_op, "linux" };
	fprintf(stderr, "  %-24s done\n", name);
}

/* A figure with a peer other than Linux (bench_alloc.c: glibc, jemalloc,
 * ...): one row per peer, the same mmk value on each. */
void add_peer_result(const char *name, const char *unit, double mmk, const char *impl, bool has_peer,
		     double peer, const char *peer_op)
{
	if (nresults == MAX_RESULTS)
		die("too many results");
	results[nresults++] = (struct result){ name, unit, mmk, peer, has_peer, peer_op, impl };
}

static void print_table(void)
{
	printf("\n%-24s %-8s %14s %-9s %14s %10s  %s\n", "figure", "unit", "mmk", "peer", "peer value",
	       "mmk/peer", "peer operation measured");
	for (size_t i = 0; i < nresults; i++) {
		const struct result *r = &results[i];
		printf("%-24s %-8s %14.1f %-9s ", r->name, r->unit, r->mmk, r->impl);
		if (r->has_linux)
			printf("%14.1f %10.3g  %s\n", r->linux_v, r->mmk / r->linux_v, r->linux_op);
		else
			printf("%14s %10s  %s\n", "n/a", "n/a", r->linux_op);
	}
	printf("\nmmk/peer is mmk's time (or bytes) over the peer's: below 1 means mmk is faster (or smaller).\n");
}

static json_t *record(const char *name, const char *impl, double value, const char *unit)
{
	return json_pack("{s:s, s:s, s:f, s:s}", "name", name, "impl", impl, "value", value, "unit", unit);
}

/* bench-results.json in the executable's folder (the build folder). */
static void write_json(void)
{
	char exe[PATH_MAX], path[PATH_MAX + 32];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	sys_ok(n > 0, "readlink /proc/self/exe");
	exe[n] = '\0';
	snprintf(path, sizeof(path), "%s/bench-results.json", dirname(exe));
	json_t *list = json_array();
	for (size_t i = 0; i < nresults; i++) {
		const struct result *r = &results[i];
		bool first = true; /* one "mmk" record per figure, however many peers */
		for (size_t j = 0; j < i && first; j++)
			first = strcmp(results[j].name, r->name) != 0;
		if (first)
			json_array_append_new(list, record(r->name, "mmk", r->mmk, r->unit));
		if (r->has_linux)
			json_array_append_new(list, record(r->name, r->impl, r->linux_v, r->unit));
	}
	if (json_dump_file(list, path, JSON_INDENT(2)) != 0)
		die("cannot write %s", path);
	json_decref(list);
	printf("records written to %s\n", path);
}

/* ---- machine information ---- */

static void read_line_value(const char *file, const char *key, char *out, size_t cap)
{
	FILE *f = fopen(file, "r");
	char line[512];
	snprintf(out, cap, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, strlen(key)) != 0)
			continue;
		char *v = strpbrk(line + strlen(key), ":=");
		if (v) {
			v += 1 + strspn(v + 1, " \t");
			v[strcspn(v, "\n")] = '\0';
			snprintf(out, cap, "%s", v);
		}
		break;
	}
	fclose(f);
}

/* The build type from the CMake cache beside the executable; the compiler's
 * own view (NDEBUG, optimisation) when there is none. */
static void build_type(char *out, size_t cap)
{
	char exe[PATH_MAX], cache[PATH_MAX + 32];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	snprintf(cache, sizeof(cache), "%s/CMakeCache.txt", dirname(exe));
	read_line_value(cache, "CMAKE_BUILD_TYPE:", out, cap);
#if defined(__OPTIMIZE__) && defined(NDEBUG)
	const char *flags = "optimised, NDEBUG";
#else
	const char *flags = "NOT optimised: figures are not meaningful";
#endif
	size_t len = strlen(out);
	snprintf(out + len, cap - len, " (%s)", flags);
}

static void print_machine(void)
{
	char cpu[256], build[256], thp[128];
	struct utsname u;
	read_line_value("/proc/cpuinfo", "model name", cpu, sizeof(cpu));
	build_type(build, sizeof(build));
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	if (!f || !fgets(thp, sizeof(thp), f))
		snprintf(thp, sizeof(thp), "unknown\n");
	if (f)
		fclose(f);
	uname(&u);
	printf("mmk-bench: mmk beside Linux, one run, median of %d trials of >= %llu ms each\n", REPEATS,
	       TRIAL_NS / 1000000ull);
	printf("cpu:    %s (%ld online)\n", cpu, sysconf(_SC_NPROCESSORS_ONLN));
	printf("kernel: %s %s; THP %s", u.sysname, u.release, thp);
	printf("build:  %s\n", build);
	printf("mmk runs on hal/sim (software page tables and TLB), %llu MiB of simulated RAM\n\n",
	       (unsigned long long)(SIM_RAM >> 20));
}

/* ---- deterministic random numbers (xorshift64), same script every run ---- */

uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* The mixed script: op i frees slot[i] and puts a block of order[i] there. */
struct mix_script {
	uint16_t slot[MIX_OPS];
	uint8_t order[MIX_OPS];
	uint8_t first_order[MIX_SLOTS]; /* orders of the blocks live at the start */
};

static void mix_script_init(struct mix_script *m)
{
	uint64_t s = 0x9e3779b97f4a7c15ull;
	for (unsigned i = 0; i < MIX_SLOTS; i++)
		m->first_order[i] = (uint8_t)(rng_next(&s) % (MIX_MAX_ORDER + 1));
	for (unsigned i = 0; i < MIX_OPS; i++) {
		m->slot[i] = (uint16_t)(rng_next(&s) % MIX_SLOTS);
		m->order[i] = (uint8_t)(rng_next(&s) % (MIX_MAX_ORDER + 1));
	}
}

static struct mix_script mix;

/* ---- 1. buddy allocator (mmk) ---- */

struct buddy_ctx {
	struct phys *ph;
	pfn_t pfn[MIX_SLOTS];
	uint8_t order[MIX_SLOTS];
	unsigned next; /* position in the mixed script */
};

static void batch_buddy_order0(void *p, unsigned n)
{
	struct buddy_ctx *c = p;
	for (unsigned i = 0; i < n; i++) {
		pfn_t pfn;
		mmk_ok(phys_alloc(c->ph, 0, 0, &pfn), "phys_alloc(order 0)");
		mmk_ok(phys_free(c->ph, pfn, 0), "phys_free(order 0)");
	}
}

/* Free one live block and allocate another of a random order in its slot:
 * the free coalesces with whatever buddies are free, the alloc splits. */
static void batch_buddy_mixed(void *p, unsigned n)
{
	struct buddy_ctx *c = p;
	for (unsigned i = 0; i < n; i++, c->next = (c->next + 1) % MIX_OPS) {
		unsigned s = mix.slot[c->next], o = mix.order[c->next];
		mmk_ok(phys_free(c->ph, c->pfn[s], c->order[s]), "phys_free(mixed)");
		mmk_ok(phys_alloc(c->ph, o, 0, &c->pfn[s]), "phys_alloc(mixed)");
		c->order[s] = (uint8_t)o;
	}
}

static void mmk_buddy(struct sim_system *sys, double *order0, double *mixed)
{
	struct buddy_ctx *c = calloc(1, sizeof(*c));
	c->ph = &sys->phys;
	*order0 = median_trials(batch_buddy_order0, c, 1024);
	for (unsigned s = 0; s < MIX_SLOTS; s++) {
		c->order[s] = mix.first_order[s];
		mmk_ok(phys_alloc(c->ph, c->order[s], 0, &c->pfn[s]), "phys_alloc(live block)");
	}
	*mixed = median_trials(batch_buddy_mixed, c, 1024);
	for (unsigned s = 0; s < MIX_SLOTS; s++)
		mmk_ok(phys_free(c->ph, c->pfn[s], c->order[s]), "phys_free(live block)");
	free(c);
}

/* ---- 1. the nearest Linux operation: populated anonymous mmap + munmap ---- */

static void *map_populated(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	sys_ok(p != MAP_FAILED, "mmap(MAP_POPULATE)");
	return p;
}

static void batch_linux_page(void *p, unsigned n)
{
	(void)p;
	for (unsigned i = 0; i < n; i++)
		sys_ok(munmap(map_populated(PG), PG) == 0, "munmap");
}

struct linux_mix_ctx {
	void *addr[MIX_SLOTS];
	uint8_t order[MIX_SLOTS];
	unsigned next;
};

static void batch_linux_mixed(void *p, unsigned n)
{
	struct linux_mix_ctx *c = p;
	for (unsigned i = 0; i < n; i++, c->next = (c->next + 1) % MIX_OPS) {
		unsigned s = mix.slot[c->next], o = mix.order[c->next];
		sys_ok(munmap(c->addr[s], PG << c->order[s]) == 0, "munmap(mixed)");
		c->addr[s] = map_populated(PG << o);
		c->order[s] = (uint8_t)o;
	}
}

static void linux_buddy(double *out)
{
	out[0] = median_trials(batch_linux_page, NULL, 64);
	struct linux_mix_ctx *c = calloc(1, sizeof(*c));
	for (unsigned s = 0; s < MIX_SLOTS; s++) {
		c->order[s] = mix.first_order[s];
		c->addr[s] = map_populated(PG << c->order[s]);
	}
	out[1] = median_trials(batch_linux_mixed, c, 64);
}

/* ---- 2, 3. a space of 10,000 VMAs (mmk) ---- */

static vaddr_t region_vma(unsigned i) { return REGION_BASE + (vaddr_t)i * VMA_STRIDE * PG; }

/* 10,000 two-page anonymous VMAs with two-page holes between them, so no
 * two merge; the same layout the Linux child builds. */
static struct vm_space *mmk_space_10k(struct sim_system *sys)
{
	struct vm_space *as;
	mmk_ok(vm_space_create(&sys->vm, &as), "vm_space_create");
	for (unsigned i = 0; i < NVMAS; i++) {
		vaddr_t va;
		mmk_ok(vm_map(as, region_vma(i), VMA_PAGES * PG, VM_PROT_READ | VM_PROT_WRITE,
			      VM_MAP_PRIVATE | VM_MAP_ANONYMOUS | VM_MAP_FIXED, NULL, 0, VM_PROT_ALL, &va),
		       "vm_map(10k layout)");
	}
	struct vm_space_stats st;
	vm_space_get_stats(as, &st);
	if (st.vmas != NVMAS)
		die("the 10k layout has %llu VMAs, expected %u", (unsigned long long)st.vmas, NVMAS);
	return as;
}

static void batch_mmk_map_unmap(void *p, unsigned n)
{
	struct vm_space *as = p;
	for (unsigned i = 0; i < n; i++) {
		vaddr_t va;
		mmk_ok(vm_map(as, FREE_HINT, PG, VM_PROT_READ | VM_PROT_WRITE, VM_MAP_PRIVATE | VM_MAP_ANONYMOUS,
			      NULL, 0, VM_PROT_ALL, &va),
		       "vm_map");
		mmk_ok(vm_unmap(as, va, PG), "vm_unmap");
	}
}

/* Read-only on the upper page of the middle VMA splits it in two; back to
 * read-write merges the halves again. */
static void batch_mmk_protect(void *p, unsigned n)
{
	struct vm_space *as = p;
	vaddr_t va = region_vma(NVMAS / 2) + PG;
	for (unsigned i = 0; i < n; i++) {
		mmk_ok(vm_protect(as, va, PG, VM_PROT_READ), "vm_protect(split)");
		mmk_ok(vm_protect(as, va, PG, VM_PROT_READ | VM_PROT_WRITE), "vm_protect(merge)");
	}
}

static void mmk_vmas(struct sim_system *sys, double *map_unmap, double *protect)
{
	struct vm_space *as = mmk_space_10k(sys);
	*map_unmap = median_trials(batch_mmk_map_unmap, as, 256);
	*protect = median_trials(batch_mmk_protect, as, 256);
	vm_space_destroy(as);
}

/* ---- 2, 3. Linux: the same layout in the child ---- */

static void linux_space_10k(void)
{
	for (unsigned i = 0; i < NVMAS; i++) {
		void *want = (void *)region_vma(i);
		void *p = mmap(want, VMA_PAGES * PG, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		sys_ok(p == want, "mmap(10k layout, MAP_FIXED_NOREPLACE)");
	}
}

static void batch_linux_map_unmap(void *p, unsigned n)
{
	(void)p;
	for (unsigned i = 0; i < n; i++) {
		void *a = mmap((void *)FREE_HINT, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		sys_ok(a != MAP_FAILED, "mmap");
		sys_ok(munmap(a, PG) == 0, "munmap");
	}
}

static void batch_linux_protect(void *p, unsigned n)
{
	(void)p;
	void *va = (void *)(region_vma(NVMAS / 2) + PG);
	for (unsigned i = 0; i < n; i++) {
		sys_ok(mprotect(va, PG, PROT_READ) == 0, "mprotect(split)");
		sys_ok(mprotect(va, PG, PROT_READ | PROT_WRITE) == 0, "mprotect(merge)");
	}
}

static void linux_vmas(double *out)
{
	linux_space_10k();
	out[0] = median_trials(batch_linux_map_unmap, NULL, 256);
	out[1] = median_trials(batch_linux_protect, NULL, 256);
}

/* ---- 4. demand-zero faults ---- */

/* One trial: map 64 MiB, write one byte to each page through the simulated
 * CPU (TLB miss, walk, fault, zeroed frame, retry), unmap.  ns per page. */
static double mmk_fault_trial(struct sim_system *sys, struct vm_space *as)
{
	vaddr_t base;
	const uint8_t one = 1;
	mmk_ok(vm_map(as, FREE_HINT, FAULT_BYTES, VM_PROT_READ | VM_PROT_WRITE, VM_MAP_PRIVATE | VM_MAP_ANONYMOUS,
		      NULL, 0, VM_PROT_ALL, &base),
	       "vm_map(64 MiB)");
	struct vm_space_stats before, after;
	vm_space_get_stats(as, &before);
	uint64_t t0 = now_ns();
	for (size_t off = 0; off < FAULT_BYTES; off += PG)
		mmk_ok(sim_write(sys->machine, 0, base + off, &one, 1, true), "sim_write(first touch)");
	uint64_t t = now_ns() - t0;
	/* Each write must have been a demand-zero fault, else this timed
	 * something else. */
	vm_space_get_stats(as, &after);
	if (after.zero_fills - before.zero_fills != FAULT_BYTES / PG)
		die("fault_demand_zero: %llu zero fills for %zu pages",
		    (unsigned long long)(after.zero_fills - before.zero_fills), FAULT_BYTES / PG);
	mmk_ok(vm_unmap(as, base, FAULT_BYTES), "vm_unmap(64 MiB)");
	return (double)t / (double)(FAULT_BYTES / PG);
}

static double mmk_fault(struct sim_system *sys)
{
	struct vm_space *as;
	double v[REPEATS];
	mmk_ok(vm_space_create(&sys->vm, &as), "vm_space_create");
	vm_space_activate(as, 0);
	mmk_fault_trial(sys, as); /* warm-up: page tables and caches */
	for (int i = 0; i < REPEATS; i++)
		v[i] = mmk_fault_trial(sys, as);
	pmap_deactivate(&as->pmap, 0);
	vm_space_destroy(as);
	return median(v, REPEATS);
}

/* The same on Linux: real traps.  THP is refused for the mapping so each
 * first touch is one 4 KiB fault, as in mmk. */
static double linux_fault_trial(void)
{
	char *p = mmap(NULL, FAULT_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	sys_ok(p != MAP_FAILED, "mmap(64 MiB)");
	sys_ok(madvise(p, FAULT_BYTES, MADV_NOHUGEPAGE) == 0, "madvise(MADV_NOHUGEPAGE)");
	uint64_t t0 = now_ns();
	for (size_t off = 0; off < FAULT_BYTES; off += PG)
		((volatile char *)p)[off] = 1;
	uint64_t t = now_ns() - t0;
	sys_ok(munmap(p, FAULT_BYTES) == 0, "munmap(64 MiB)");
	return (double)t / (double)(FAULT_BYTES / PG);
}

static void linux_fault(double *out)
{
	double v[REPEATS];
	linux_fault_trial();
	for (int i = 0; i < REPEATS; i++)
		v[i] = linux_fault_trial();
	out[0] = median(v, REPEATS);
}

/* ---- 5. trace replay ---- */

static const char *replay_dir(void)
{
	static const char big[] = "/work/shared/traces/gxx_big";
	return access(big, R_OK) == 0 ? big : MMK_SOURCE_DIR "/traces/gcc_hello";
}

/* What one replay measured. */
struct replay_fig {
	double per_s;   /* calls per second of the whole replay (calls and faults) */
	double ev_s;    /* calls and faults per second */
	double ns_call; /* the replay's own time inside mmk's calls, per call */
	double ms;      /* the whole replay */
	uint64_t calls, faults;
};

/* One replay on a freshly booted PC (boot untimed), as mmk-sim does it. */
static struct replay_fig replay_trial(struct capture *c)
{
	struct sim_system *s = calloc(1, sizeof(*s));
	struct replay_options opt = { .log = NULL, .max_messages = 0 };
	struct replay_report rep;
	mmk_ok(sim_system_boot(s, SIM_RAM, 1), "sim_system_boot");
	uint64_t t0 = now_ns();
	int rc = replay_capture(s, c, &opt, &rep);
	uint64_t t = now_ns() - t0;
	if (rc == 2)
		die("replay of %s failed internally", c->dir);
	if (rc == 1)
		fprintf(stderr, "  note: replay of %s has mismatches (mmk-sim shows them); timing anyway\n",
			c->name);
	struct replay_fig f = {
		.per_s = (double)rep.calls * 1e9 / (double)t,
		.ev_s = (double)(rep.calls + rep.faults) * 1e9 / (double)t,
		.ns_call = rep.timed_calls ? (double)rep.ns_in_calls / (double)rep.timed_calls : 0.0,
		.ms = (double)t / 1e6,
		.calls = rep.calls,
		.faults = rep.faults,
	};
	replay_report_free(&rep);
	mmk_ok(sim_system_shutdown(s), "sim_system_shutdown");
	free(s);
	return f;
}

/* Medians of REPEATS replays of the largest capture at hand; *why names the
 * capture for the table's Linux column. */
static struct replay_fig mmk_replay(const char **why)
{
	static char label[320];
	struct capture c;
	char err[512];
	double per_s[REPEATS], ev_s[REPEATS], ns_call[REPEATS], ms[REPEATS];
	struct replay_fig f = { 0 };
	if (capture_load(replay_dir(), &c, err, sizeof(err)) != 0)
		die("%s", err);
	for (int i = 0; i < REPEATS; i++) {
		f = replay_trial(&c);
		per_s[i] = f.per_s, ev_s[i] = f.ev_s, ns_call[i] = f.ns_call, ms[i] = f.ms;
	}
	f.per_s = median(per_s, REPEATS);
	f.ev_s = median(ev_s, REPEATS);
	f.ns_call = median(ns_call, REPEATS);
	f.ms = median(ms, REPEATS);
	printf("replay: %s, %llu calls and %llu faults in %.1f ms per replay (median of %d)\n", c.dir,
	       (unsigned long long)f.calls, (unsigned long long)f.faults, f.ms, REPEATS);
	snprintf(label, sizeof(label), "none: the original run (%s) timed its compile work too", c.name);
	*why = label;
	capture_free(&c);
	return f;
}

/* ---- frame descriptor cost ---- */

static void frame_cost(struct sim_system *sys)
{
	struct phys_stats st;
	phys_get_stats(&sys->phys, &st);
	double mmk_b = (double)sizeof(struct mmk_frame), linux_b = 64.0;
	uint64_t frames = SIM_RAM / PG;
	printf("frame descriptors: mmk %zu bytes per 4 KiB frame (%.2f%% of RAM), Linux struct page 64 bytes "
	       "(%.2f%%)\n",
	       sizeof(struct mmk_frame), 100.0 * mmk_b / (double)PG, 100.0 * linux_b / (double)PG);
	printf("frame database for %llu MiB of RAM: mmk %llu bytes (phys_get_stats), Linux %llu bytes "
	       "(64 x %llu frames)\n",
	       (unsigned long long)(SIM_RAM >> 20), (unsigned long long)st.db_bytes,
	       (unsigned long long)(frames * 64), (unsigned long long)frames);
	add_result("frame_descriptor_bytes", "bytes", mmk_b, true, linux_b, "sizeof(struct page) (constant)");
	add_result("frame_db_bytes_1gib", "bytes", (double)st.db_bytes, true, (double)(frames * 64),
		   "64 bytes x frames of 1 GiB (computed)");
}

/* ---- the run ---- */

static void run_buddy(struct sim_system *sys)
{
	double m0, mm, lx[2];
	mmk_buddy(sys, &m0, &mm);
	in_child(linux_buddy, lx, 2, "buddy_pair");
	add_result("buddy_pair_order0", "ns", m0, true, lx[0],
		   "nearest: mmap+munmap 1 page, MAP_POPULATE (no user-space buddy)");
	add_result("buddy_pair_mixed", "ns", mm, true, lx[1],
		   "nearest: munmap+mmap 2^(0..5) pages, MAP_POPULATE");
}

static void run_vmas(struct sim_system *sys)
{
	double mu, mp, lx[2];
	mmk_vmas(sys, &mu, &mp);
	in_child(linux_vmas, lx, 2, "map_unmap_10k/protect_10k");
	add_result("map_unmap_10k", "ns", mu, true, lx[0], "mmap+munmap 1 page, 10,000 VMAs (child)");
	add_result("protect_10k", "ns", mp, true, lx[1], "mprotect split+merge pair, 10,000 VMAs (child)");
}

static void run_fault(struct sim_system *sys)
{
	double m = mmk_fault(sys), lx[1];
	in_child(linux_fault, lx, 1, "fault_demand_zero");
	add_result("fault_demand_zero", "ns", m, true, lx[0], "first write per page, 64 MiB, no THP (child)");
}

static void run_replay(void)
{
	const char *why;
	struct replay_fig f = mmk_replay(&why);
	add_result("replay_calls_per_s", "calls/s", f.per_s, false, 0, why);
	add_result("replay_ns_per_call", "ns", f.ns_call, false, 0, "none: time inside mmk's calls only");
	/* Faults outnumber calls a hundredfold in a compile: this shows the
	 * replay's throughput of both. */
	add_result("replay_events_per_s", "events/s", f.ev_s, false, 0,
		   "none: calls and faults replayed per second");
}

int main(int argc, char **argv)
{
	if (argc > 1)
		bench_alloc_peer_main(argc, argv); /* a peer allocator's child (bench_alloc.c) */
	struct sim_system *sys = calloc(1, sizeof(*sys));
	print_machine();
	mix_script_init(&mix);
	mmk_ok(sim_system_boot(sys, SIM_RAM, 1), "sim_system_boot");
	const char *only = getenv("MMK_BENCH_ONLY");
	if (only && strcmp(only, "charge") == 0) { /* the charge figures alone (bench/README.md) */
		bench_charge_run(sys);
		mmk_ok(sim_system_shutdown(sys), "sim_system_shutdown");
		free(sys);
		print_table();
		return 0;
	}
	frame_cost(sys);
	run_buddy(sys);
	run_vmas(sys);
	run_fault(sys);
	bench_charge_run(sys);
	mmk_ok(sim_system_shutdown(sys), "sim_system_shutdown");
	free(sys);
	bench_vm_run(); /* after the shutdown: its Linux helpers fork, and must not copy the sim's RAM */
	bench_claims_run();
	run_replay();
	bench_physmem_run();
	bench_alloc_run();
	print_table();
	write_json();
	return 0;
}
