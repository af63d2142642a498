/*
 * prog_vmtest.c - user program 1: mmk's fault paths seen from ring 3.
 * Each check is reported to the kernel (SYS_REPORT) and counted in the
 * final line: .data and .bss as the loader made them, writes to its own
 * text and rodata refused (the child that tries is killed), demand-zero
 * memory, a refused write to a read-only page (the child is killed, the
 * kernel and the parent go on), execution from
 * a no-execute page, an access to unmapped memory, copy-on-write after
 * fork in both directions, a shared mapping seen by parent and child,
 * munmap taking pages away, mremap moving pages with their bytes and
 * madvise(MADV_DONTNEED) dropping them.
 */
#include "ulib.h"

static bool check_demand_zero(void)
{
	const size_t pages = 64;
	volatile uint64_t *p = u_mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
	if (u_mmap_failed((const void *)p))
		return false;
	bool ok = true;
	for (size_t i = 0; i < pages * PAGE / 8; i += 64)
		ok &= p[i] == 0;
	for (size_t i = 0; i < pages; i++)
		p[i * PAGE / 8] = i * 3 + 1;
	for (size_t i = 0; i < pages; i++)
		ok &= p[i * PAGE / 8] == i * 3 + 1;
	return ok && u_munmap((void *)p, pages * PAGE) == 0;
}

static int write_word(void *arg)
{
	*(volatile uint64_t *)arg = 99;
	return 0; /* reached only if the write was allowed */
}

static bool check_readonly_write_refused(void)
{
	volatile uint64_t *p = u_mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
	if (u_mmap_failed((const void *)p))
		return false;
	*p = 7;
	if (u_mprotect((void *)p, PAGE, PROT_READ) != 0)
		return false;
	long status = u_in_child(write_word, (void *)p);
	bool ok = status == STATUS_SEGV && *p == 7;
	return ok && u_munmap((void *)p, PAGE) == 0;
}

/* The loader made the text read+exec and the rodata read-only (user.ld's
 * segments): a write to either kills the writer, and the bytes stay. */
static const uint64_t ro_word = 0x0123456789abcdefull;

static bool check_text_write_refused(void)
{
	volatile const uint8_t *text = (const uint8_t *)(uintptr_t)check_demand_zero;
	uint8_t first = text[0];
	return u_in_child(write_word, (void *)(uintptr_t)check_demand_zero) == STATUS_SEGV && text[0] == first;
}

static bool check_rodata_write_refused(void)
{
	return u_in_child(write_word, (void *)(uintptr_t)&ro_word) == STATUS_SEGV &&
	       *(volatile const uint64_t *)&ro_word == 0x0123456789abcdefull;
}

static bool check_unmapped_refused(void)
{
	return u_in_child(write_word, (void *)0x10000000ul) == STATUS_SEGV;
}

static int run_code(void *arg)
{
	((void (*)(void))arg)();
	return 0;
}

static bool check_nx_refused(void)
{
	uint8_t *p = u_mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
	if (u_mmap_failed(p))
		return false;
	p[0] = 0xc3; /* ret: would return at once if fetches were allowed */
	bool ok = u_in_child(run_code, p) == STATUS_SEGV;
	/* Once executable, the same byte runs. */
	ok &= u_mprotect(p, PAGE, PROT_READ | PROT_EXEC) == 0;
	ok &= u_in_child(run_code, p) == 0;
	return ok && u_munmap(p, PAGE) == 0;
}

static int cow_child(void *arg)
{
	volatile uint64_t *x = arg;
	if (x[0] != 1 || x[512] != 11) /* the parent wrote 3 after fork: not seen */
		return 1;
	x[0] = 2;
	return x[0] == 2 && x[512] == 11 ? 0 : 2;
}

static bool check_fork_cow(void)
{
	volatile uint64_t *x = u_mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
	if (u_mmap_failed((const void *)x))
		return false;
	x[0] = 1;
	x[512] = 11;
	long pid = u_fork();
	if (pid == 0)
		u_exit(cow_child((void *)x));
	x[0] = 3; /* parent writes first: its own copy */
	long status = u_wait(pid);
	return status == 0 && x[0] == 3 && x[512] == 11 && u_munmap((void *)x, 2 * PAGE) == 0;
}

static int shared_child(void *arg)
{
	volatile uint64_t *s = arg;
	if (s[1] != 5)
		return 1;
	s[0] = 42;
	return 0;
}

static bool check_shared(void)
{
	volatile uint64_t *s = u_mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS);
	if (u_mmap_failed((const void *)s))
		return false;
	s[1] = 5;
	long status = u_in_child(shared_child, (void *)s);
	return status == 0 && s[0] == 42 && u_munmap((void *)s, PAGE) == 0;
}

static int read_word(void *arg) { return *(volatile uint64_t *)arg == 0 ? 3 : 4; }

static bool check_munmap(void)
{
	volatile uint64_t *p = u_mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
	if (u_mmap_failed((const void *)p))
		return false;
	*p = 1;
	if (u_munmap((void *)p, PAGE) != 0)
		return false;
	return u_in_child(read_word, (void *)p) == STATUS_SEGV;
}

static bool check_mremap_madvise(void)
{
	volatile uint64_t *p = u_mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
	if (u_mmap_failed((const void *)p))
		return false;
	p[0] = 21;
	p[PAGE / 8] = 22;
	volatile uint64_t *q = u_mremap((void *)p, 2 * PAGE, 64 * PAGE, MREMAP_MAYMOVE);
	if (u_mmap_failed((const void *)q))
		return false;
	bool ok = q[0] == 21 && q[PAGE / 8] == 22 && q[63 * PAGE / 8] == 0;
	ok &= u_madvise((void *)q, PAGE, MADV_DONTNEED) == 0 && q[0] == 0 && q[PAGE / 8] == 22;
	ok &= u_mremap((void *)q, PAGE, 2 * PAGE, 0x40) == (void *)(long)-MMK_EINVAL; /* unknown flag */
	return ok && u_munmap((void *)q, 64 * PAGE) == 0;
}

int main(void)
{
	bool ok = true;
	ok &= u_report(".data starts at its initial value, .bss at zero", u_check_data_bss());
	ok &= u_report("demand-zero pages read zero and keep what is written", check_demand_zero());
	ok &= u_report("a write to a read-only page kills the writer only", check_readonly_write_refused());
	ok &= u_report("a write to the program's own text kills the writer", check_text_write_refused());
	ok &= u_report("a write to the program's rodata kills the writer", check_rodata_write_refused());
	ok &= u_report("an access to unmapped memory is refused", check_unmapped_refused());
	ok &= u_report("a no-execute page cannot be run until PROT_EXEC", check_nx_refused());
	ok &= u_report("fork copies on write: parent and child diverge", check_fork_cow());
	ok &= u_report("a MAP_SHARED page is shared across fork", check_shared());
	ok &= u_report("munmap takes the page away", check_munmap());
	ok &= u_report("mremap moves bytes, madvise(DONTNEED) drops a page", check_mremap_madvise());
	return ok ? 0 : 1;
}
