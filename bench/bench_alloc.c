/*
 * bench_alloc.c - mmk's kernel allocators timed beside user-space mallocs
 * (issue 4): slab caches with per-CPU magazines and kmalloc against glibc
 * malloc, jemalloc, mimalloc and tcmalloc, and vmem alloc+free time as an
 * arena fragments.  See README.md, "Allocators".
 *
 * The peers all replace malloc, so one binary cannot hold them all: each
 * peer runs in a fresh copy of this executable, re-executed with
 * LD_PRELOAD set to the peer's library and a hidden first argument
 * (PEER_FLAG) that runs only the malloc loops and sends its medians back
 * through a pipe.  glibc's column is the same child without LD_PRELOAD.
 * Each child checks which library its malloc came from (dladdr), so a peer
 * that failed to load is reported, never timed as glibc.
 *
 * The mmk side runs in this process on its own simulated PC with two CPUs;
 * the timing thread is bound to CPU 0 (sim_cpu_bind), so kmem's per-CPU
 * magazines serve it, and the cross-CPU figure's consumer thread to CPU 1.
 *
 * Every figure is the median of REPEATS trials of >= TRIAL_NS (bench.c).
 * Times are never asserted on; a failing operation (NULL from an allocator,
 * an error from kmem_cache_free, kfree or vmem) ends the run with status 1.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mmk/errno.h>
#include <mmk/kmalloc.h>
#include <mmk/kmem.h>
#include <mmk/vmem.h>
#include <sim.h>
#include <sim_boot.h>

/* ---- shared with bench.c (defined there; keep in step with its list) ---- */

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

/* ---- parameters ---- */

#define PEER_FLAG "--alloc-peer" /* hidden: argv[1] of a peer's child */
#define SIM_RAM ((uint64_t)1 << 30)
#define NSIZES 4u
#define LIVE_SLOTS 512u   /* objects kept live by the "live" and mixed variants */
#define BURST_MAX 64u     /* live variant: frees, then allocations, in bursts of 1..64 */
#define SCRIPT_OPS 65536u /* length of the precomputed random scripts */
#define MIX_MIN 8u        /* kmalloc_mixed: sizes 8..4096 bytes, uniform */
#define MIX_MAX 4096u
#define XCPU_SIZE 64u
#define XCPU_RING 1024u   /* slots of the producer/consumer ring */
#define SPIN_MAX 256u     /* pause loops before a waiting side yields its CPU */
#define VMEM_SIZE_MAX 16u /* vmem: segments of 1..16 quanta */

static const size_t slab_sizes[NSIZES] = { 32, 64, 256, 1024 };

/* Figures each peer's child sends back, in this order. */
enum {
	FIG_PAIR,                   /* + size index: slab_pair_<size> */
	FIG_LIVE = FIG_PAIR + NSIZES, /* + size index: slab_live_<size> */
	FIG_MIXED = FIG_LIVE + NSIZES,
	FIG_XCPU,
	NFIGS
};

/* What a child writes to its pipe. */
struct peer_report {
	char malloc_from[PATH_MAX]; /* the library that defines the child's malloc */
	double v[NFIGS];
};

/* ---- the same random script on both sides (fixed-seed xorshift) ---- */

struct alloc_script {
	uint16_t perm[LIVE_SLOTS];   /* live variant: the order slots are visited in */
	uint8_t burst[SCRIPT_OPS];   /* live variant: burst lengths 1..BURST_MAX */
	uint16_t slot[SCRIPT_OPS];   /* mixed: the live slot op i replaces */
	uint16_t size[SCRIPT_OPS];   /* mixed: the size op i allocates */
	uint16_t first_size[LIVE_SLOTS]; /* mixed: sizes live at the start */
	uint8_t vsize[SCRIPT_OPS];   /* vmem: 1..VMEM_SIZE_MAX quanta */
};

static struct alloc_script scr;

static void script_init(void)
{
	uint64_t s = 0x2545f4914f6cdd1dull;
	for (unsigned i = 0; i < LIVE_SLOTS; i++)
		scr.perm[i] = (uint16_t)i;
	for (unsigned i = LIVE_SLOTS - 1; i > 0; i--) { /* Fisher-Yates */
		unsigned j = (unsigned)(rng_next(&s) % (i + 1));
		uint16_t t = scr.perm[i];
		scr.perm[i] = scr.perm[j], scr.perm[j] = t;
	}
	for (unsigned i = 0; i < SCRIPT_OPS; i++) {
		scr.burst[i] = (uint8_t)(1 + rng_next(&s) % BURST_MAX);
		scr.slot[i] = (uint16_t)(rng_next(&s) % LIVE_SLOTS);
		scr.size[i] = (uint16_t)(MIX_MIN + rng_next(&s) % (MIX_MAX - MIX_MIN + 1));
		scr.vsize[i] = (uint8_t)(1 + rng_next(&s) % VMEM_SIZE_MAX);
	}
	for (unsigned i = 0; i < LIVE_SLOTS; i++)
		scr.first_size[i] = (uint16_t)(MIX_MIN + rng_next(&s) % (MIX_MAX - MIX_MIN + 1));
}

/* ---- the loops, shared by mmk and the peers ---- */

/*
 * An allocator as two functions on an opaque handle.  The loops below are
 * always inlined into batches that pass constant functions, so the compiler
 * calls (or inlines) them directly: no indirect call per operation.
 */
typedef void *alloc_fn(void *a, size_t size);
typedef void free_fn(void *a, void *p);
#define LOOP static inline __attribute__((always_inline))

/* Use the object as a caller would (one store) and keep the compiler from
 * pairing the malloc with its free and deleting both. */
LOOP void touch(void *p, unsigned v)
{
	*(volatile unsigned char *)p = (unsigned char)v;
	__asm__ volatile("" : : "r"(p) : "memory");
}

struct churn_ctx {
	void *a;
	size_t size;
	void *live[LIVE_SLOTS];
	unsigned burst_pos, perm_pos, mix_pos;
};

/* Tight churn: allocate, touch, free; the object is always the top of the
 * per-thread (per-CPU) free stack. */
LOOP void loop_pair(alloc_fn *al, free_fn *fr, struct churn_ctx *c, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		void *p = al(c->a, c->size);
		touch(p, i);
		fr(c->a, p);
	}
}

/* LIVE_SLOTS objects stay live; a burst frees 1..64 of them (the next slots
 * of a fixed random permutation), then allocates as many into those slots.
 * Bursts reach below the top of the free stack and, past a magazine's size,
 * exchange magazines with the depot (mmk) or flush thread caches (peers). */
LOOP void loop_live(alloc_fn *al, free_fn *fr, struct churn_ctx *c, unsigned n)
{
	for (unsigned done = 0; done < n;) {
		unsigned b = scr.burst[c->burst_pos];
		c->burst_pos = (c->burst_pos + 1) % SCRIPT_OPS;
		if (b > n - done)
			b = n - done;
		for (unsigned j = 0; j < b; j++)
			fr(c->a, c->live[scr.perm[(c->perm_pos + j) % LIVE_SLOTS]]);
		for (unsigned j = 0; j < b; j++) {
			void *p = al(c->a, c->size);
			touch(p, j);
			c->live[scr.perm[(c->perm_pos + j) % LIVE_SLOTS]] = p;
		}
		c->perm_pos = (c->perm_pos + b) % LIVE_SLOTS;
		done += b;
	}
}

/* Mixed sizes: LIVE_SLOTS objects of random sizes 8..4096 stay live; op i
 * frees the object in a random slot and allocates a new random size there. */
LOOP void loop_mixed(alloc_fn *al, free_fn *fr, struct churn_ctx *c, unsigned n)
{
	for (unsigned i = 0; i < n; i++, c->mix_pos = (c->mix_pos + 1) % SCRIPT_OPS) {
		unsigned s = scr.slot[c->mix_pos];
		fr(c->a, c->live[s]);
		void *p = al(c->a, scr.size[c->mix_pos]);
		touch(p, i);
		c->live[s] = p;
	}
}

LOOP void live_fill(alloc_fn *al, struct churn_ctx *c, bool mixed)
{
	for (unsigned s = 0; s < LIVE_SLOTS; s++) {
		c->live[s] = al(c->a, mixed ? scr.first_size[s] : c->size);
		touch(c->live[s], s);
	}
}

LOOP void live_empty(free_fn *fr, struct churn_ctx *c)
{
	for (unsigned s = 0; s < LIVE_SLOTS; s++)
		fr(c->a, c->live[s]);
}

/*
 * Cross-CPU free: the timing thread allocates and pushes each object into a
 * single-producer single-consumer ring; a consumer thread (another CPU)
 * pops and frees it.  A batch ends when the consumer has freed all it was
 * given, so a trial's time covers both sides; ns per object.
 */
struct xring {
	_Alignas(64) _Atomic uint64_t head; /* written by the producer */
	_Alignas(64) _Atomic uint64_t tail; /* written by the consumer */
	_Alignas(64) _Atomic bool stop;
	void *slot[XCPU_RING];
};

struct xcpu_ctx {
	struct xring ring;
	void *a;
	free_fn *fr;            /* the consumer's free (called indirectly: it is off the timed thread) */
	struct hal_machine *m;  /* mmk: bind the consumer to CPU 1; NULL for peers */
	pthread_t consumer;
};

static inline void spin_wait(unsigned *spins)
{
	if (++*spins < SPIN_MAX) {
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#endif
	} else {
		*spins = 0;
		sched_yield(); /* fewer host CPUs than threads: let the other side run */
	}
}

static void *xcpu_consumer(void *arg)
{
	struct xcpu_ctx *x = arg;
	struct xring *r = &x->ring;
	if (x->m)
		sim_cpu_bind(x->m, 1);
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	for (;;) {
		unsigned spins = 0;
		while (atomic_load_explicit(&r->head, memory_order_acquire) == tail) {
			if (atomic_load_explicit(&r->stop, memory_order_acquire))
				goto out;
			spin_wait(&spins);
		}
		x->fr(x->a, r->slot[tail % XCPU_RING]);
		atomic_store_explicit(&r->tail, ++tail, memory_order_release);
	}
out:
	if (x->m)
		sim_cpu_unbind();
	return NULL;
}

LOOP void loop_xcpu(alloc_fn *al, struct xcpu_ctx *x, unsigned n)
{
	struct xring *r = &x->ring;
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	unsigned spins = 0;
	for (unsigned i = 0; i < n; i++) {
		void *p = al(x->a, XCPU_SIZE);
		touch(p, i);
		while (head - atomic_load_explicit(&r->tail, memory_order_acquire) == XCPU_RING)
			spin_wait(&spins);
		r->slot[head % XCPU_RING] = p;
		atomic_store_explicit(&r->head, ++head, memory_order_release);
	}
	while (atomic_load_explicit(&r->tail, memory_order_acquire) != head)
		spin_wait(&spins);
}

static void xcpu_start(struct xcpu_ctx *x)
{
	int rc = pthread_create(&x->consumer, NULL, xcpu_consumer, x);
	if (rc)
		die("pthread_create: %s", strerror(rc));
}

static void xcpu_stop(struct xcpu_ctx *x)
{
	atomic_store_explicit(&x->ring.stop, true, memory_order_release);
	int rc = pthread_join(x->consumer, NULL);
	if (rc)
		die("pthread_join: %s", strerror(rc));
}

/* ---- the peers: malloc and free of whatever library the process has ---- */

static void *peer_alloc(void *a, size_t size)
{
	(void)a;
	void *p = malloc(size);
	if (__builtin_expect(!p, 0))
		die("malloc(%zu) failed", size);
	return p;
}

static void peer_free(void *a, void *p)
{
	(void)a;
	free(p);
}

static void batch_peer_pair(void *c, unsigned n) { loop_pair(peer_alloc, peer_free, c, n); }
static void batch_peer_live(void *c, unsigned n) { loop_live(peer_alloc, peer_free, c, n); }
static void batch_peer_mixed(void *c, unsigned n) { loop_mixed(peer_alloc, peer_free, c, n); }
static void batch_peer_xcpu(void *x, unsigned n) { loop_xcpu(peer_alloc, x, n); }

/* The library that defines this process's malloc (the main program, libc,
 * or a preloaded peer). */
static void malloc_origin(char *out, size_t cap)
{
	Dl_info info;
	void *sym = dlsym(RTLD_DEFAULT, "malloc");
	if (sym && dladdr(sym, &info) && info.dli_fname) {
		char real[PATH_MAX];
		snprintf(out, cap, "%s", realpath(info.dli_fname, real) ? real : info.dli_fname);
	} else {
		snprintf(out, cap, "unknown");
	}
}

/* Does the library at path `from` define the malloc we want: the peer's
 * library (want is its real path) or libc (want is NULL)? */
static bool origin_is(const char *from, const char *want)
{
	return want ? strcmp(from, want) == 0 : strstr(from, "/libc.so") != NULL;
}

/* The child: argv = { exe, PEER_FLAG, fd, expected library or "libc" }.
 * Times the malloc loops and writes a struct peer_report to fd; when its
 * malloc is not the expected one, writes only where malloc came from. */
_Noreturn void bench_alloc_peer_main(int argc, char **argv)
{
	if (argc != 4 || strcmp(argv[1], PEER_FLAG) != 0)
		die("usage: mmk-bench (no arguments)");
	int fd = atoi(argv[2]);
	static struct peer_report rep;
	static struct churn_ctx c;
	script_init();
	malloc_origin(rep.malloc_from, sizeof(rep.malloc_from));
	if (!origin_is(rep.malloc_from, strcmp(argv[3], "libc") ? argv[3] : NULL)) {
		ssize_t w = write(fd, &rep, sizeof(rep));
		_exit(w == (ssize_t)sizeof(rep) ? 0 : 1);
	}
	for (unsigned k = 0; k < NSIZES; k++) {
		memset(&c, 0, sizeof(c));
		c.size = slab_sizes[k];
		rep.v[FIG_PAIR + k] = median_trials(batch_peer_pair, &c, 4096);
		live_fill(peer_alloc, &c, false);
		rep.v[FIG_LIVE + k] = median_trials(batch_peer_live, &c, 4096);
		live_empty(peer_free, &c);
	}
	memset(&c, 0, sizeof(c));
	live_fill(peer_alloc, &c, true);
	rep.v[FIG_MIXED] = median_trials(batch_peer_mixed, &c, 4096);
	live_empty(peer_free, &c);

	struct xcpu_ctx *x = calloc(1, sizeof(*x));
	if (!x)
		die("calloc failed");
	x->fr = peer_free;
	xcpu_start(x);
	rep.v[FIG_XCPU] = median_trials(batch_peer_xcpu, x, 4096);
	xcpu_stop(x);
	free(x);

	ssize_t w = write(fd, &rep, sizeof(rep));
	_exit(w == (ssize_t)sizeof(rep) ? 0 : 1);
}

/* ---- running the peers ---- */

struct peer {
	const char *impl;    /* impl in bench-results.json */
	const char *soname;  /* NULL: glibc, the process's own malloc */
	const char *package; /* Debian package that ships soname */
	const char *what;    /* the peer's functions, for the table */
};

static const struct peer peers[] = {
	{ "glibc", NULL, "libc6", "glibc malloc/free" },
	{ "jemalloc", "libjemalloc.so.2", "libjemalloc2", "jemalloc malloc/free (LD_PRELOAD)" },
	{ "mimalloc", "libmimalloc.so.2", "libmimalloc2.0", "mimalloc malloc/free (LD_PRELOAD)" },
	{ "tcmalloc", "libtcmalloc_minimal.so.4", "libtcmalloc-minimal4", "tcmalloc malloc/free (LD_PRELOAD)" },
};
#define NPEERS (sizeof(peers) / sizeof(peers[0]))

/* Where a peer's library is: the folder of libc's own library (Debian's
 * multiarch folder) or the usual ones.  false when it is in none. */
static bool find_peer_library(const char *soname, char *out, size_t cap)
{
	char libc_dir[PATH_MAX] = "";
	Dl_info info;
	void *sym = dlsym(RTLD_DEFAULT, "fopen");
	if (sym && dladdr(sym, &info) && info.dli_fname) {
		snprintf(libc_dir, sizeof(libc_dir), "%s", info.dli_fname);
		char *slash = strrchr(libc_dir, '/');
		if (slash)
			*slash = '\0';
	}
	char usr_libc_dir[PATH_MAX + 8];
	snprintf(usr_libc_dir, sizeof(usr_libc_dir), "/usr%s", libc_dir);
	const char *dirs[] = { libc_dir, usr_libc_dir, "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
			       "/usr/local/lib", "/usr/lib64", "/usr/lib" };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (!dirs[i][0])
			continue;
		char path[2 * PATH_MAX];
		snprintf(path, sizeof(path), "%s/%s", dirs[i], soname);
		if (access(path, R_OK) == 0 && realpath(path, out))
			return true;
	}
	(void)cap;
	return false;
}

extern char **environ;

/* Run this executable again as a peer's child (LD_PRELOAD = lib, or none
 * for glibc), and read its report. */
static void run_peer_child(const char *lib, struct peer_report *rep, const char *impl)
{
	int fd[2];
	if (pipe(fd) != 0)
		die("pipe: %s", strerror(errno));
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		close(fd[0]);
		size_t n = 0;
		while (environ[n])
			n++;
		char **env = calloc(n + 2, sizeof(*env)), preload[PATH_MAX + 16], fdarg[16];
		size_t k = 0;
		for (size_t i = 0; i < n; i++)
			if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0)
				env[k++] = environ[i];
		if (lib) {
			snprintf(preload, sizeof(preload), "LD_PRELOAD=%s", lib);
			env[k++] = preload;
		}
		env[k] = NULL;
		snprintf(fdarg, sizeof(fdarg), "%d", fd[1]);
		char *args[] = { "mmk-bench", PEER_FLAG, fdarg, (char *)(lib ? lib : "libc"), NULL };
		execve("/proc/self/exe", args, env);
		_exit(127);
	}
	close(fd[1]);
	size_t got = 0;
	while (got < sizeof(*rep)) {
		ssize_t r = read(fd[0], (char *)rep + got, sizeof(*rep) - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd[0]);
	int status;
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || got != sizeof(*rep))
		die("the %s child failed (status %d)", impl, status);
	rep->malloc_from[sizeof(rep->malloc_from) - 1] = '\0';
}

/* ---- the mmk side ---- */

static void *mmk_cache_alloc(void *a, size_t size)
{
	(void)size;
	void *p = kmem_cache_alloc(a);
	if (__builtin_expect(!p, 0))
		die("kmem_cache_alloc(%s) failed", ((struct kmem_cache *)a)->name);
	return p;
}

static void mmk_cache_free(void *a, void *p)
{
	int rc = kmem_cache_free(a, p);
	if (__builtin_expect(rc != 0, 0))
		die("kmem_cache_free(%s) failed: %s", ((struct kmem_cache *)a)->name, mmk_strerror(rc));
}

static void *mmk_kmalloc(void *a, size_t size)
{
	void *p = kmalloc(a, size);
	if (__builtin_expect(!p, 0))
		die("kmalloc(%zu) failed", size);
	return p;
}

static void mmk_kfree(void *a, void *p)
{
	int rc = kfree(a, p);
	if (__builtin_expect(rc != 0, 0))
		die("kfree failed: %s", mmk_strerror(rc));
}

static void batch_mmk_pair(void *c, unsigned n) { loop_pair(mmk_cache_alloc, mmk_cache_free, c, n); }
static void batch_mmk_live(void *c, unsigned n) { loop_live(mmk_cache_alloc, mmk_cache_free, c, n); }
static void batch_mmk_mixed(void *c, unsigned n) { loop_mixed(mmk_kmalloc, mmk_kfree, c, n); }
static void batch_mmk_xcpu(void *x, unsigned n) { loop_xcpu(mmk_cache_alloc, x, n); }

static const char *cache_names[NSIZES] = { "bench-32", "bench-64", "bench-256", "bench-1024" };

static void mmk_ok(int rc, const char *what)
{
	if (rc != 0)
		die("%s failed: %s", what, mmk_strerror(rc));
}

/* Fixed sizes: a kmem cache of each size with magazines (flags 0). */
static void mmk_slab(struct sim_system *sys, double *v)
{
	static struct kmem_cache cache;
	static struct churn_ctx c;
	for (unsigned k = 0; k < NSIZES; k++) {
		mmk_ok(kmem_cache_create(&cache, &sys->phys, cache_names[k], slab_sizes[k], 0, NULL, NULL, NULL, 0),
		       "kmem_cache_create");
		memset(&c, 0, sizeof(c));
		c.a = &cache;
		c.size = slab_sizes[k];
		v[FIG_PAIR + k] = median_trials(batch_mmk_pair, &c, 4096);
		live_fill(mmk_cache_alloc, &c, false);
		v[FIG_LIVE + k] = median_trials(batch_mmk_live, &c, 4096);
		live_empty(mmk_cache_free, &c);
		mmk_ok(kmem_cache_destroy(&cache), "kmem_cache_destroy");
	}
}

static void mmk_mixed(struct sim_system *sys, double *v)
{
	static struct kmalloc_heap heap;
	static struct churn_ctx c;
	mmk_ok(kmalloc_init(&heap, &sys->phys, 0), "kmalloc_init");
	memset(&c, 0, sizeof(c));
	c.a = &heap;
	live_fill(mmk_kmalloc, &c, true);
	v[FIG_MIXED] = median_trials(batch_mmk_mixed, &c, 4096);
	live_empty(mmk_kfree, &c);
	mmk_ok(kmalloc_fini(&heap), "kmalloc_fini");
}

/* Producer on CPU 0 (this thread), consumer on CPU 1.  Before timing, the
 * warm-up runs alongside a few of kmem's periodic updates (the paper's
 * 15-second kmem_cache_update), so the magazine size has adapted to the
 * depot contention as it would have in a running kernel. */
static void mmk_xcpu(struct sim_system *sys, double *v)
{
	static struct kmem_cache cache;
	mmk_ok(kmem_cache_create(&cache, &sys->phys, "bench-xcpu-64", XCPU_SIZE, 0, NULL, NULL, NULL, 0),
	       "kmem_cache_create");
	struct xcpu_ctx *x = calloc(1, sizeof(*x));
	if (!x)
		die("calloc failed");
	x->a = &cache;
	x->fr = mmk_cache_free;
	x->m = sys->machine;
	xcpu_start(x);
	for (unsigned i = 0; i < KMEM_MAG_CLASSES; i++) {
		batch_mmk_xcpu(x, 1u << 16);
		kmem_cache_update(&cache);
	}
	v[FIG_XCPU] = median_trials(batch_mmk_xcpu, x, 4096);
	xcpu_stop(x);
	free(x);
	struct kmem_stats st;
	kmem_cache_stats(&cache, &st);
	printf("xcpu_free_64: mmk magazines of %llu rounds after %llu resizes; depot lock contended %llu times\n",
	       (unsigned long long)st.mag_size, (unsigned long long)st.mag_resizes,
	       (unsigned long long)st.depot_contention);
	mmk_ok(kmem_cache_destroy(&cache), "kmem_cache_destroy");
}

/* ---- vmem: alloc+free in an arena holding N live segments ---- */

#define VMEM_BASE ((uint64_t)1 << 20)
#define VMEM_SPAN ((uint64_t)1 << 40)

struct vmem_ctx {
	struct vmem *vm;
	unsigned pos;
};

static void batch_vmem(void *p, unsigned n)
{
	struct vmem_ctx *c = p;
	for (unsigned i = 0; i < n; i++, c->pos = (c->pos + 1) % SCRIPT_OPS) {
		uint64_t addr, size = scr.vsize[c->pos];
		mmk_ok(vmem_alloc(c->vm, size, VM_INSTANTFIT, &addr), "vmem_alloc");
		mmk_ok(vmem_free(c->vm, addr, size), "vmem_free");
	}
}

/*
 * An arena of quantum 1 with no quantum caches (every call reaches the
 * free lists and the hash), fragmented: 2N segments of 1..16 quanta are
 * allocated one after another, then every other one is freed, leaving N
 * live segments with N holes between them, then the timed pairs run.
 */
static double mmk_vmem(struct sim_system *sys, unsigned live)
{
	static struct vmem vm;
	mmk_ok(vmem_create(&vm, &sys->phys, "bench", VMEM_BASE, VMEM_SPAN, 1, NULL, NULL, NULL, 0), "vmem_create");
	uint64_t *addr = malloc(2 * (size_t)live * sizeof(*addr));
	uint8_t *size = malloc(2 * (size_t)live);
	if (!addr || !size)
		die("malloc failed");
	for (unsigned i = 0; i < 2 * live; i++) {
		size[i] = scr.vsize[(SCRIPT_OPS / 2 + i) % SCRIPT_OPS];
		mmk_ok(vmem_alloc(&vm, size[i], VM_INSTANTFIT, &addr[i]), "vmem_alloc(fill)");
	}
	for (unsigned i = 0; i < 2 * live; i += 2)
		mmk_ok(vmem_free(&vm, addr[i], size[i]), "vmem_free(every other)");
	struct vmem_stats st;
	vmem_get_stats(&vm, &st);
	if (st.nsegs_alloc != live)
		die("vmem arena holds %llu segments, expected %u", (unsigned long long)st.nsegs_alloc, live);
	struct vmem_ctx c = { &vm, 0 };
	double ns = median_trials(batch_vmem, &c, 4096);
	const char *why;
	mmk_ok(vmem_check(&vm, &why), why ? why : "vmem_check");
	for (unsigned i = 1; i < 2 * live; i += 2)
		mmk_ok(vmem_free(&vm, addr[i], size[i]), "vmem_free(live)");
	mmk_ok(vmem_destroy(&vm), "vmem_destroy");
	free(addr);
	free(size);
	return ns;
}

/* ---- the run ---- */

static const char *fig_name(unsigned f)
{
	static char names[NFIGS][32];
	if (f < FIG_LIVE)
		snprintf(names[f], sizeof(names[f]), "slab_pair_%zu", slab_sizes[f - FIG_PAIR]);
	else if (f < FIG_MIXED)
		snprintf(names[f], sizeof(names[f]), "slab_live_%zu", slab_sizes[f - FIG_LIVE]);
	else
		snprintf(names[f], sizeof(names[f]), "%s", f == FIG_MIXED ? "kmalloc_mixed" : "xcpu_free_64");
	return names[f];
}

void bench_alloc_run(void)
{
	static struct sim_system sys;
	double mmk[NFIGS];
	static struct peer_report rep[NPEERS];
	static char note[NPEERS][PATH_MAX + 64];
	bool ok[NPEERS];

	script_init();
	char load[64] = "unknown";
	FILE *f = fopen("/proc/loadavg", "r");
	if (f) {
		if (fscanf(f, "%63s", load) != 1)
			snprintf(load, sizeof(load), "unknown");
		fclose(f);
	}
	printf("\nallocators: mmk on a simulated PC with 2 CPUs; peers in children of their own "
	       "(the peer's library in LD_PRELOAD); load average %s before\n",
	       load);
	mmk_ok(sim_system_boot(&sys, SIM_RAM, 2), "sim_system_boot");
	sim_cpu_bind(sys.machine, 0);
	mmk_slab(&sys, mmk);
	mmk_mixed(&sys, mmk);
	mmk_xcpu(&sys, mmk);
	double vm10 = mmk_vmem(&sys, 10), vm1k = mmk_vmem(&sys, 1000), vm100k = mmk_vmem(&sys, 100000);
	sim_cpu_unbind();
	mmk_ok(sim_system_shutdown(&sys), "sim_system_shutdown");

	for (size_t p = 0; p < NPEERS; p++) {
		char lib[PATH_MAX];
		ok[p] = false;
		if (peers[p].soname && !find_peer_library(peers[p].soname, lib, sizeof(lib))) {
			snprintf(note[p], sizeof(note[p]), "not installed: %s (package %s; scripts/deps.sh bench)",
				 peers[p].soname, peers[p].package);
			printf("%s: %s\n", peers[p].impl, note[p]);
			continue;
		}
		run_peer_child(peers[p].soname ? lib : NULL, &rep[p], peers[p].impl);
		/* The child's malloc must come from the peer's library (glibc:
		 * from libc), else the figures would be another allocator's. */
		const char *want = peers[p].soname ? lib : "libc.so";
		if (!origin_is(rep[p].malloc_from, peers[p].soname ? lib : NULL)) {
			snprintf(note[p], sizeof(note[p]), "not measured: the child's malloc came from %.1024s, not %.1024s",
				 rep[p].malloc_from, want);
			printf("%s: %s\n", peers[p].impl, note[p]);
			continue;
		}
		ok[p] = true;
		printf("%s: malloc from %s\n", peers[p].impl, rep[p].malloc_from);
	}

	static char what[NFIGS][NPEERS][160];
	for (unsigned f = 0; f < NFIGS; f++) {
		for (size_t p = 0; p < NPEERS; p++) {
			const char *op = f < FIG_LIVE    ? "alloc+free, one size"
					 : f < FIG_MIXED ? "alloc+free, 512 live, bursts 1..64"
					 : f == FIG_MIXED ? "free+alloc, 8..4096 B, 512 live"
							  : "per object, alloc thread A, free thread B";
			snprintf(what[f][p], sizeof(what[f][p]), "%s: %s", peers[p].what, op);
			add_peer_result(fig_name(f), "ns", mmk[f], peers[p].impl, ok[p], ok[p] ? rep[p].v[f] : 0,
					ok[p] ? what[f][p] : note[p]);
		}
		fprintf(stderr, "  %-24s done\n", fig_name(f));
	}
	add_peer_result("vmem_pair_10", "ns", vm10, "-", false, 0, "none: instant fit, 1..16 quanta, 10 live");
	add_peer_result("vmem_pair_1000", "ns", vm1k, "-", false, 0,
			"none: instant fit, 1..16 quanta, 1,000 live");
	add_peer_result("vmem_pair_100000", "ns", vm100k, "-", false, 0,
			"none: instant fit, 1..16 quanta, 100,000 live");
	fprintf(stderr, "  %-24s done\n", "vmem_pair_*");
}
