/*
 * bench_vm.c - memory objects (issue 3) timed beside Linux: fork of an
 * address space with 1 MiB to 1 GiB of written private anonymous memory,
 * the copy-on-write write fault after a fork, and the read fault on a page
 * of a shared file mapping that is already resident in the object (Linux:
 * in the page cache).  See README.md, "Memory objects".
 *
 * The Linux side runs first, in forked helper children of this process,
 * before the mmk side boots its simulated PC: a helper forks grandchildren
 * of itself, and every fork copies the helper's page tables, so the helper
 * must not inherit the simulator's (up to 1 GiB of touched) simulated RAM.
 *
 * Each figure is the median of VM_REPEATS measurements, after one untimed
 * warm-up.  A measurement here is one
 * operation (a fork) or one pass over 64 MiB (faults, divided by pages),
 * not bench.c's 60 ms trials: one fork of 1 GiB already takes tens of ms.
 * Times are never asserted on; a failing operation, or a fault benchmark
 * whose faults were not the kind it claims to time, ends the run with
 * status 1.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mmk/errno.h>
#include <mmk/vm.h>
#include <sim.h>
#include <sim_boot.h>

/* ---- shared with bench.c (defined there; keep in step with its list) ---- */

_Noreturn void die(const char *fmt, ...);
uint64_t now_ns(void);
double median(double *v, size_t n);
void add_peer_result(const char *name, const char *unit, double mmk, const char *impl, bool has_peer,
		     double peer, const char *peer_op);
void bench_vm_run(void);

/* ---- parameters ---- */

#define VM_REPEATS 5
#define VM_RAM ((uint64_t)2 << 30) /* room for the 1 GiB space, its fork's page tables, the rest */
#define PG ((size_t)MMK_PAGE_SIZE)
#define REGION ((vaddr_t)0x100000000000ull) /* where the measured mappings go, both sides */
#define COW_BYTES ((size_t)64 << 20)
#define FILE_BYTES ((size_t)64 << 20)
#define MAX_VALUES 16 /* doubles a Linux helper sends back */

/* Each size: its own mapping, every page written, forked VM_REPEATS times
 * (about 0.1 s per fork and exit at 1 GiB, on both sides). */
static const struct fork_size {
	const char *name;
	size_t bytes;
} fork_sizes[] = {
	{ "fork_1m", (size_t)1 << 20 },
	{ "fork_16m", (size_t)16 << 20 },
	{ "fork_256m", (size_t)256 << 20 },
	{ "fork_1g", (size_t)1 << 30 },
};
#define NSIZES (sizeof(fork_sizes) / sizeof(fork_sizes[0]))

static inline void mmk_ok(int rc, const char *what)
{
	if (__builtin_expect(rc != 0, 0))
		die("%s failed: %s", what, mmk_strerror(rc));
}

static inline void sys_ok(bool ok, const char *what)
{
	if (__builtin_expect(!ok, 0))
		die("%s failed: %s", what, strerror(errno));
}

static long minor_faults(void)
{
	struct rusage ru;
	sys_ok(getrusage(RUSAGE_SELF, &ru) == 0, "getrusage");
	return ru.ru_minflt;
}

/* ---- Linux side: helpers in forked children ---- */

/* Measures up to MAX_VALUES figures into out[]; runs in a helper child. */
typedef void (*helper_fn)(double *out);

/* Fork a helper, run fn there, return its n figures through a pipe. */
static void in_helper(helper_fn fn, double *out, size_t n, const char *what)
{
	int fd[2];
	sys_ok(pipe(fd) == 0, "pipe");
	fflush(NULL);
	pid_t pid = fork();
	sys_ok(pid >= 0, "fork");
	if (pid == 0) {
		close(fd[0]);
		double v[MAX_VALUES] = { 0 };
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
		die("the Linux side of %s failed in its helper child", what);
}

/* len bytes of private anonymous memory at REGION (a hint), 4 KiB pages only (as
 * mmk), one byte written per page. */
static char *linux_resident(size_t len)
{
	char *p = mmap((void *)REGION, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	sys_ok(p != MAP_FAILED, "mmap(private anonymous)");
	sys_ok(madvise(p, len, MADV_NOHUGEPAGE) == 0, "madvise(MADV_NOHUGEPAGE)");
	for (size_t off = 0; off < len; off += PG)
		((volatile char *)p)[off] = 1;
	return p;
}

/* One fork of the helper: *fork_ns until fork() returns in the parent (the
 * copy of the address space is done by then), *total_ns until waitpid has
 * reaped the grandchild, which only calls _exit. */
static void linux_fork_once(double *fork_ns, double *total_ns)
{
	uint64_t t0 = now_ns();
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	uint64_t t1 = now_ns();
	sys_ok(pid > 0, "fork");
	int status;
	sys_ok(waitpid(pid, &status, 0) == pid, "waitpid");
	uint64_t t2 = now_ns();
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		die("a forked grandchild failed");
	*fork_ns = (double)(t1 - t0);
	*total_ns = (double)(t2 - t0);
}

static void linux_fork_medians(double *fork_ns, double *total_ns)
{
	double f[VM_REPEATS], t[VM_REPEATS];
	linux_fork_once(&f[0], &t[0]); /* warm-up */
	for (int i = 0; i < VM_REPEATS; i++)
		linux_fork_once(&f[i], &t[i]);
	*fork_ns = median(f, VM_REPEATS);
	*total_ns = median(t, VM_REPEATS);
}

/* out[0], out[1]: fork and fork+exit of the helper as it is (its process
 * overhead); then the same pair for each size, the memory mapped, written,
 * forked and unmapped again. */
static void linux_forks(double *out)
{
	linux_fork_medians(&out[0], &out[1]);
	for (size_t s = 0; s < NSIZES; s++) {
		char *p = linux_resident(fork_sizes[s].bytes);
		linux_fork_medians(&out[2 + 2 * s], &out[3 + 2 * s]);
		sys_ok(munmap(p, fork_sizes[s].bytes) == 0, "munmap");
	}
}

/* One copy-on-write pass: fork; the grandchild writes one byte per page of
 * the 64 MiB at base and sends back ns per page and its minor faults. */
static void linux_cow_once(char *base, double *ns_page, double *faults)
{
	int fd[2];
	sys_ok(pipe(fd) == 0, "pipe");
	pid_t pid = fork();
	sys_ok(pid >= 0, "fork");
	if (pid == 0) {
		close(fd[0]);
		volatile char *p = base;
		long f0 = minor_faults();
		uint64_t t0 = now_ns();
		for (size_t off = 0; off < COW_BYTES; off += PG)
			p[off] = 2;
		uint64_t t = now_ns() - t0;
		double v[2] = { (double)t / (double)(COW_BYTES / PG), (double)(minor_faults() - f0) };
		_exit(write(fd[1], v, sizeof(v)) == (ssize_t)sizeof(v) ? 0 : 1);
	}
	close(fd[1]);
	double v[2];
	ssize_t r = read(fd[0], v, sizeof(v));
	close(fd[0]);
	int status;
	sys_ok(waitpid(pid, &status, 0) == pid, "waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || r != (ssize_t)sizeof(v))
		die("the copy-on-write grandchild failed");
	*ns_page = v[0];
	*faults = v[1];
}

/* out[0]: ns per COW write fault; out[1]: minor faults of the last pass. */
static void linux_cow(double *out)
{
	double v[VM_REPEATS];
	char *p = linux_resident(COW_BYTES);
	linux_cow_once(p, &v[0], &out[1]); /* warm-up */
	for (int i = 0; i < VM_REPEATS; i++)
		linux_cow_once(p, &v[i], &out[1]);
	out[0] = median(v, VM_REPEATS);
	sys_ok(munmap(p, COW_BYTES) == 0, "munmap");
}

/* out[0]: ns per page read through a fresh MAP_SHARED mapping of a 64 MiB
 * tmpfs file (memfd) whose pages are all in the page cache; out[1]: minor
 * faults of the last pass (fault-around maps several pages per fault). */
static void linux_shared_read(double *out)
{
	int fd = memfd_create("mmk-bench-file", 0);
	sys_ok(fd >= 0, "memfd_create");
	sys_ok(ftruncate(fd, (off_t)FILE_BYTES) == 0, "ftruncate");
	static char chunk[1 << 20];
	memset(chunk, 0x5a, sizeof(chunk));
	for (size_t off = 0; off < FILE_BYTES; off += sizeof(chunk))
		sys_ok(pwrite(fd, chunk, sizeof(chunk), (off_t)off) == (ssize_t)sizeof(chunk), "pwrite");
	double v[VM_REPEATS];
	for (int i = -1; i < VM_REPEATS; i++) { /* i == -1: warm-up */
		char *p = mmap((void *)REGION, FILE_BYTES, PROT_READ, MAP_SHARED, fd, 0);
		sys_ok(p != MAP_FAILED, "mmap(MAP_SHARED memfd)");
		sys_ok(madvise(p, FILE_BYTES, MADV_NOHUGEPAGE) == 0, "madvise(MADV_NOHUGEPAGE)");
		unsigned sum = 0;
		long f0 = minor_faults();
		uint64_t t0 = now_ns();
		for (size_t off = 0; off < FILE_BYTES; off += PG)
			sum += ((volatile unsigned char *)p)[off];
		uint64_t t = now_ns() - t0;
		out[1] = (double)(minor_faults() - f0);
		if (sum != 0x5au * (unsigned)(FILE_BYTES / PG))
			die("shared file read: wrong bytes read back");
		if (i >= 0)
			v[i] = (double)t / (double)(FILE_BYTES / PG);
		sys_ok(munmap(p, FILE_BYTES) == 0, "munmap");
	}
	out[0] = median(v, VM_REPEATS);
	close(fd);
}

/* ---- mmk side ---- */

static const uint8_t one = 1;

/* A space with len bytes of private anonymous memory at REGION, each page
 * written once through the simulated CPU (demand zero), left active on
 * CPU 0 as a forking process is. */
static struct vm_space *mmk_resident(struct sim_system *sys, size_t len)
{
	struct vm_space *as;
	vaddr_t va;
	mmk_ok(vm_space_create(&sys->vm, &as), "vm_space_create");
	mmk_ok(vm_map(as, REGION, len, VM_PROT_READ | VM_PROT_WRITE, VM_MAP_PRIVATE | VM_MAP_ANONYMOUS, NULL, 0,
		      VM_PROT_ALL, &va),
	       "vm_map(private anonymous)");
	if (va != REGION)
		die("vm_map placed the region at %#llx, not at its hint", (unsigned long long)va);
	vm_space_activate(as, 0);
	for (size_t off = 0; off < len; off += PG)
		mmk_ok(sim_write(sys->machine, 0, va + off, &one, 1, true), "sim_write(populate)");
	struct vm_space_stats st;
	vm_space_get_stats(as, &st);
	if (st.resident_bytes != len)
		die("populate: %llu bytes resident, expected %zu", (unsigned long long)st.resident_bytes, len);
	return as;
}

static void mmk_drop(struct vm_space *as)
{
	pmap_deactivate(&as->pmap, 0);
	vm_space_destroy(as);
}

/* One fork of as and the child's destroy (its exit): *fork_ns for
 * vm_space_fork alone, *total_ns with the destroy. */
static void mmk_fork_once(struct vm_space *as, double *fork_ns, double *total_ns, uint64_t *child_resident)
{
	struct vm_space *child;
	uint64_t t0 = now_ns();
	mmk_ok(vm_space_fork(as, &child), "vm_space_fork");
	uint64_t t1 = now_ns();
	if (child_resident) { /* untimed: between the two timed parts */
		struct vm_space_stats st;
		vm_space_get_stats(child, &st);
		*child_resident = st.resident_bytes;
	}
	uint64_t t2a = now_ns();
	vm_space_destroy(child);
	uint64_t t2 = now_ns();
	*fork_ns = (double)(t1 - t0);
	*total_ns = (double)(t1 - t0) + (double)(t2 - t2a);
}

static void mmk_fork_medians(struct vm_space *as, double *fork_ns, double *total_ns, uint64_t *child_resident)
{
	double f[VM_REPEATS], t[VM_REPEATS];
	mmk_fork_once(as, &f[0], &t[0], child_resident); /* warm-up, and the child's resident set */
	for (int i = 0; i < VM_REPEATS; i++)
		mmk_fork_once(as, &f[i], &t[i], NULL);
	*fork_ns = median(f, VM_REPEATS);
	*total_ns = median(t, VM_REPEATS);
}

/* One copy-on-write pass: fork, run the child on CPU 0, write one byte per
 * page of the 64 MiB; ns per page.  Each write must be one COW copy. */
static double mmk_cow_once(struct sim_system *sys, struct vm_space *as)
{
	struct vm_space *child;
	mmk_ok(vm_space_fork(as, &child), "vm_space_fork");
	vm_space_activate(child, 0);
	uint64_t copies = sys->vm.cow_copies;
	uint64_t t0 = now_ns();
	for (size_t off = 0; off < COW_BYTES; off += PG)
		mmk_ok(sim_write(sys->machine, 0, REGION + off, &one, 1, true), "sim_write(COW)");
	uint64_t t = now_ns() - t0;
	if (sys->vm.cow_copies - copies != COW_BYTES / PG)
		die("cow_fault: %llu COW copies for %zu pages", (unsigned long long)(sys->vm.cow_copies - copies),
		    COW_BYTES / PG);
	mmk_drop(child);
	vm_space_activate(as, 0);
	return (double)t / (double)(COW_BYTES / PG);
}

static double mmk_cow(struct sim_system *sys)
{
	double v[VM_REPEATS];
	struct vm_space *as = mmk_resident(sys, COW_BYTES);
	mmk_cow_once(sys, as); /* warm-up */
	for (int i = 0; i < VM_REPEATS; i++)
		v[i] = mmk_cow_once(sys, as);
	mmk_drop(as);
	return median(v, VM_REPEATS);
}

/* One file object of 64 MiB mapped MAP_SHARED and written (every page
 * resident) by a first space; then a second space maps it afresh each pass
 * and reads one byte per page: each read is a fault that finds the page in
 * the object.  ns per page. */
static double mmk_shared_read(struct sim_system *sys)
{
	struct vm_object *obj;
	struct vm_space *first, *second;
	vaddr_t va;
	const uint8_t mark = 0x5a;
	mmk_ok(vm_object_create(&sys->vm, VM_OBJECT_FILE, "mmk-bench-file", &obj), "vm_object_create(FILE)");
	obj->size = FILE_BYTES;
	mmk_ok(vm_space_create(&sys->vm, &first), "vm_space_create");
	mmk_ok(vm_map(first, REGION, FILE_BYTES, VM_PROT_READ | VM_PROT_WRITE, VM_MAP_SHARED, obj, 0,
		      VM_PROT_READ | VM_PROT_WRITE, &va),
	       "vm_map(MAP_SHARED file, first space)");
	vm_space_activate(first, 0);
	for (size_t off = 0; off < FILE_BYTES; off += PG)
		mmk_ok(sim_write(sys->machine, 0, va + off, &mark, 1, true), "sim_write(file page)");
	pmap_deactivate(&first->pmap, 0);

	mmk_ok(vm_space_create(&sys->vm, &second), "vm_space_create");
	vm_space_activate(second, 0);
	double v[VM_REPEATS];
	for (int i = -1; i < VM_REPEATS; i++) { /* i == -1: warm-up */
		mmk_ok(vm_map(second, REGION, FILE_BYTES, VM_PROT_READ, VM_MAP_SHARED, obj, 0,
			      VM_PROT_READ | VM_PROT_WRITE, &va),
		       "vm_map(MAP_SHARED file, second space)");
		struct vm_space_stats before, after;
		vm_space_get_stats(second, &before);
		uint64_t fills = sys->vm.zero_fills;
		unsigned sum = 0;
		uint64_t t0 = now_ns();
		for (size_t off = 0; off < FILE_BYTES; off += PG) {
			uint8_t b;
			mmk_ok(sim_read(sys->machine, 0, va + off, &b, 1, true), "sim_read(file page)");
			sum += b;
		}
		uint64_t t = now_ns() - t0;
		vm_space_get_stats(second, &after);
		/* Every read must have faulted, and found its page in the object. */
		if (after.faults - before.faults != FILE_BYTES / PG || sys->vm.zero_fills != fills)
			die("shared_file_read_fault: %llu faults and %llu new pages for %zu pages",
			    (unsigned long long)(after.faults - before.faults),
			    (unsigned long long)(sys->vm.zero_fills - fills), FILE_BYTES / PG);
		if (sum != 0x5au * (unsigned)(FILE_BYTES / PG))
			die("shared_file_read_fault: wrong bytes read back");
		if (i >= 0)
			v[i] = (double)t / (double)(FILE_BYTES / PG);
		mmk_ok(vm_unmap(second, va, FILE_BYTES), "vm_unmap(file)");
	}
	mmk_drop(second);
	vm_space_destroy(first);
	vm_object_release(&sys->vm, obj);
	return median(v, VM_REPEATS);
}

/* ---- the run ---- */

void bench_vm_run(void)
{
	double lf[2 + 2 * NSIZES], lc[2], ls[2];
	double mf[NSIZES], mt[NSIZES], m_empty, mt_empty;
	uint64_t child_res[NSIZES];

	/* Linux first: see the file comment. */
	in_helper(linux_forks, lf, 2 + 2 * NSIZES, "fork_*");
	fprintf(stderr, "  %-24s done (linux)\n", "fork_*");
	in_helper(linux_cow, lc, 2, "cow_fault");
	in_helper(linux_shared_read, ls, 2, "shared_file_read_fault");
	fprintf(stderr, "  %-24s done (linux)\n", "cow/shared faults");

	struct sim_system *sys = calloc(1, sizeof(*sys));
	if (!sys)
		die("out of memory");
	mmk_ok(sim_system_boot(sys, VM_RAM, 1), "sim_system_boot(2 GiB)");
	{
		struct vm_space *empty;
		mmk_ok(vm_space_create(&sys->vm, &empty), "vm_space_create");
		vm_space_activate(empty, 0);
		mmk_fork_medians(empty, &m_empty, &mt_empty, NULL);
		mmk_drop(empty);
	}
	for (size_t s = 0; s < NSIZES; s++) {
		struct vm_space *as = mmk_resident(sys, fork_sizes[s].bytes);
		mmk_fork_medians(as, &mf[s], &mt[s], &child_res[s]);
		mmk_drop(as);
		if (child_res[s] != fork_sizes[s].bytes)
			fprintf(stderr, "  note: %s: the child started with %llu bytes resident of %zu\n",
				fork_sizes[s].name, (unsigned long long)child_res[s], fork_sizes[s].bytes);
	}
	fprintf(stderr, "  %-24s done\n", "fork_*");
	double mc = mmk_cow(sys);
	fprintf(stderr, "  %-24s done\n", "cow_fault");
	double ms = mmk_shared_read(sys);
	fprintf(stderr, "  %-24s done\n", "shared_file_read_fault");
	mmk_ok(sim_system_shutdown(sys), "sim_system_shutdown(2 GiB)");
	free(sys);

	static const char *const fork_op[NSIZES] = {
		"fork() return in parent, 1 MiB written, no THP (helper)",
		"fork() return in parent, 16 MiB written, no THP (helper)",
		"fork() return in parent, 256 MiB written, no THP (helper)",
		"fork() return in parent, 1 GiB written, no THP (helper)",
	};
	for (size_t s = 0; s < NSIZES; s++)
		add_peer_result(fork_sizes[s].name, "ns", mf[s], "linux", true, lf[2 + 2 * s], fork_op[s]);
	add_peer_result("cow_fault", "ns", mc, "linux", true, lc[0],
			"grandchild's first write per page after fork, 64 MiB, no THP");
	add_peer_result("shared_file_read_fault", "ns", ms, "linux", true, ls[0],
			"read per page, fresh MAP_SHARED of 64 MiB memfd in page cache");

	printf("fork: nothing resident: mmk %.0f ns (empty space), Linux %.0f ns (the helper process itself)\n",
	       m_empty, lf[0]);
	printf("fork + exit (child destroyed / grandchild reaped), ns:");
	for (size_t s = 0; s < NSIZES; s++)
		printf(" %s mmk %.0f linux %.0f;", fork_sizes[s].name + 5, mt[s], lf[3 + 2 * s]);
	printf(" nothing mmk %.0f linux %.0f\n", mt_empty, lf[1]);
	printf("Linux minor faults per 64 MiB pass (16,384 pages): cow_fault %.0f, shared_file_read_fault %.0f "
	       "(fault-around)\n",
	       lc[1], ls[1]);
}
