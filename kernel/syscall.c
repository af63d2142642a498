/*
 * syscall.c - the system-call dispatch: one table from number to handler.
 *
 * Theory.
 * 1. int 0x80 from ring 3 arrives here with the caller's registers
 *    (trap.c).  Each handler takes the five argument registers and returns
 *    the value for rax: >= 0 on success, a negative MMK_E* code on error.
 * 2. Memory calls are src/sys requests.  mmap, munmap, mprotect, mremap
 *    and madvise each build a struct sys_request on the caller's handle
 *    PROC_SPACE_HANDLE and run it with sys_dispatch in the caller's task
 *    (proc.h), so rights and argument checks are src/sys's, the code the
 *    hosted tests and the fuzzer run: a closed handle is -MMK_EBADF, a
 *    protection the handle's rights do not cover -MMK_EPERM, and vm_*'s
 *    Linux errors pass through unchanged.  A MAP_SHARED anonymous mapping
 *    is three requests: SYS_VM_OBJECT_CREATE of a memory object the size
 *    of the mapping, SYS_VM_MAP of it, SYS_CAP_CLOSE of its handle (the
 *    mapping keeps the object).  fork's copy of the space is SYS_VM_FORK
 *    in proc.c.  SYS_REQUEST hands a whole request from user space to
 *    sys_dispatch: the request is copied in and the reply out through
 *    uaccess.c (the reply buffer is written once before the request runs,
 *    so a bad reply pointer refuses the call with nothing done; only a
 *    request that unmaps its own reply buffer loses its reply).
 * 3. Other calls (write, exit, wait, yield, getpid, the test reports and
 *    the fault-rate measurement) are the kernel's own; pointers go through
 *    uaccess.c.  Handlers that end or suspend the process (exit, wait,
 *    yield) do not return to it; proc.c switches away.
 * 4. Locking: none here; sys_dispatch takes sys->caps.lock, then the
 *    vm_space lock.  One CPU, interrupts off.
 * The user ABI (numbers, struct u_request / u_reply, opcodes and rights
 * for SYS_REQUEST) is kernel/user/sysnum.h, held to mmk/sys.h below.
 */
#include "syscall.h"

#include <stddef.h>

#include <mmk/errno.h>
#include <mmk/sys.h>

#include "../hal/x86_64/cpu.h"
#include "kernel.h"
#include "klib.h"
#include "kprintf.h"
#include "ktest/ktest.h"
#include "proc.h"
#include "uaccess.h"
#include "user/sysnum.h"

/* The user ABI of SYS_REQUEST is src/sys's, byte for byte. */
_Static_assert(sizeof(struct u_request) == sizeof(struct sys_request), "u_request layout");
_Static_assert(offsetof(struct u_request, args) == offsetof(struct sys_request, args), "u_request args");
_Static_assert(offsetof(struct u_request, handles) == offsetof(struct sys_request, handles), "u_request handles");
_Static_assert(sizeof(struct u_reply) == sizeof(struct sys_reply), "u_reply layout");
_Static_assert(offsetof(struct u_reply, results) == offsetof(struct sys_reply, results), "u_reply results");
_Static_assert(offsetof(struct u_reply, handles) == offsetof(struct sys_reply, handles), "u_reply handles");
_Static_assert(U_HANDLE_NONE == CAP_HANDLE_NONE && U_SPACE_HANDLE == PROC_SPACE_HANDLE, "handle numbers");
_Static_assert(U_CAP_INFO == SYS_CAP_INFO && U_CAP_DERIVE == SYS_CAP_DERIVE && U_CAP_CLOSE == SYS_CAP_CLOSE,
	       "cap opcodes");
_Static_assert(U_VM_MAP == SYS_VM_MAP && U_VM_UNMAP == SYS_VM_UNMAP && U_VM_PROTECT == SYS_VM_PROTECT &&
		       U_VM_QUERY == SYS_VM_QUERY && U_VM_OBJECT_CREATE == SYS_VM_OBJECT_CREATE,
	       "vm opcodes");
_Static_assert(U_TYPE_SPACE == CAP_TYPE_SPACE && U_RIGHT_READ == CAP_RIGHT_READ && U_RIGHT_WRITE == CAP_RIGHT_WRITE &&
		       U_RIGHT_EXEC == CAP_RIGHT_EXEC && U_RIGHT_MAP == CAP_RIGHT_MAP &&
		       U_RIGHT_DERIVE == CAP_RIGHT_DERIVE && U_SPACE_RIGHTS == PROC_SPACE_RIGHTS,
	       "types and rights");
_Static_assert(PROT_WRITE == VM_PROT_WRITE && MAP_SHARED == VM_MAP_SHARED && MAP_ANONYMOUS == VM_MAP_ANONYMOUS &&
		       MREMAP_MAYMOVE == VM_MREMAP_MAYMOVE && MADV_DONTNEED == VM_MADV_DONTNEED,
	       "mmap constants");

#define NARGS 5

struct sys_args {
	uint64_t arg[NARGS];
	const struct trapframe *tf;
};

typedef int64_t (*sys_handler)(const struct sys_args *a);

static struct vm_space *space(void) { return proc_space(proc_current()); }

static int64_t sys_exit(const struct sys_args *a) { proc_exit((int)a->arg[0]); }

static int64_t sys_write(const struct sys_args *a)
{
	char buf[128];
	uint64_t len = a->arg[1], done = 0;
	while (done < len) {
		size_t n = len - done < sizeof(buf) ? (size_t)(len - done) : sizeof(buf);
		int rc = uaccess_copy_in(space(), buf, a->arg[0] + done, n);
		if (rc)
			return rc;
		hal_console_write(kernel.machine, buf, n);
		done += n;
	}
	return (int64_t)len;
}

/* ---- memory: requests of the caller's task ---- */

/* A request with no handles and no arguments. */
static struct sys_request request(uint32_t op)
{
	struct sys_request q = { .op = op };
	for (unsigned i = 0; i < SYS_NHANDLES; i++)
		q.handles[i] = CAP_HANDLE_NONE;
	return q;
}

/* op on the caller's own space with the first nargs argument registers
 * (the rest stay 0, as src/sys requires); rax is the status, or the
 * reply's r0 (an address) when the operation has one. */
static int64_t space_call(uint32_t op, unsigned nargs, const struct sys_args *a, bool returns_addr)
{
	struct sys_request q = request(op);
	q.handles[0] = PROC_SPACE_HANDLE;
	for (unsigned i = 0; i < nargs; i++)
		q.args[i] = a->arg[i];
	struct sys_reply rep;
	int rc = sys_dispatch(proc_current()->task, &q, &rep);
	return rc || !returns_addr ? rc : (int64_t)rep.results[0];
}

/* A shared memory object for a MAP_SHARED mapping of len bytes: its
 * handle in *out, or CAP_HANDLE_NONE when len is no valid size (the map
 * request then refuses len itself, with mmap's own error). */
static int shared_object(uint64_t len, cap_handle_t *out)
{
	uint64_t size;
	*out = CAP_HANDLE_NONE;
	if (len == 0 || !mmk_page_round_up(len, &size))
		return 0;
	struct sys_request q = request(SYS_VM_OBJECT_CREATE);
	q.args[0] = size;
	struct sys_reply rep;
	int rc = sys_dispatch(proc_current()->task, &q, &rep);
	*out = rep.handles[0];
	return rc;
}

static void close_handle(cap_handle_t h)
{
	struct sys_request q = request(SYS_CAP_CLOSE);
	q.handles[0] = h;
	struct sys_reply rep;
	sys_dispatch(proc_current()->task, &q, &rep); /* cannot fail: h was just made */
}

/* Anonymous memory only: a shared mapping gets a fresh memory object that
 * the mapping (and, after fork, the child's) keeps alive. */
static int64_t sys_mmap(const struct sys_args *a)
{
	uint64_t flags = a->arg[3];
	if (!(flags & VM_MAP_ANONYMOUS))
		return -MMK_EINVAL;
	cap_handle_t obj = CAP_HANDLE_NONE;
	if ((flags & VM_MAP_TYPE) != VM_MAP_PRIVATE) {
		int rc = shared_object(a->arg[1], &obj);
		if (rc)
			return rc;
	}
	struct sys_request q = request(SYS_VM_MAP);
	q.handles[0] = PROC_SPACE_HANDLE;
	q.handles[1] = obj;
	for (unsigned i = 0; i < 4; i++) /* addr, len, prot, flags; offset 0 */
		q.args[i] = a->arg[i];
	struct sys_reply rep;
	int rc = sys_dispatch(proc_current()->task, &q, &rep);
	if (obj != CAP_HANDLE_NONE)
		close_handle(obj);
	return rc ? rc : (int64_t)rep.results[0];
}

static int64_t sys_munmap(const struct sys_args *a) { return space_call(SYS_VM_UNMAP, 2, a, false); }
static int64_t sys_mprotect(const struct sys_args *a) { return space_call(SYS_VM_PROTECT, 3, a, false); }
static int64_t sys_mremap(const struct sys_args *a) { return space_call(SYS_VM_REMAP, 5, a, true); }
static int64_t sys_madvise(const struct sys_args *a) { return space_call(SYS_VM_ADVISE, 3, a, false); }

/* One whole src/sys request from user space (sysnum.h: struct u_request). */
static int64_t sys_request(const struct sys_args *a)
{
	struct sys_request q;
	struct sys_reply rep;
	int rc = uaccess_copy_in(space(), &q, a->arg[0], sizeof(q));
	if (rc)
		return rc;
	memset(&rep, 0, sizeof(rep));
	rc = uaccess_copy_out(space(), a->arg[1], &rep, sizeof(rep)); /* writable before anything changes */
	if (rc)
		return rc;
	sys_dispatch(proc_current()->task, &q, &rep);
	rc = uaccess_copy_out(space(), a->arg[1], &rep, sizeof(rep));
	return rc ? rc : rep.status;
}

static int64_t sys_fork(const struct sys_args *a) { return proc_fork(a->tf); }

static int64_t sys_wait(const struct sys_args *a) { return proc_wait(a->tf, (int)a->arg[0]); }

static int64_t sys_getpid(const struct sys_args *a)
{
	(void)a;
	return proc_current()->pid;
}

static int64_t sys_yield(const struct sys_args *a)
{
	proc_yield(a->tf);
	return 0;
}

static int64_t sys_report(const struct sys_args *a)
{
	char name[80], what[112];
	int rc = uaccess_string_in(space(), name, sizeof(name), a->arg[0]);
	if (rc)
		return rc;
	ksnprintf(what, sizeof(what), "%s: %s", proc_current()->name, name);
	ktest_record("user", what, a->arg[1] != 0);
	return 0;
}

/* Page faults per second between a start (1) and a stop (2), printed. */
static int64_t sys_measure(const struct sys_args *a)
{
	static uint64_t t0, f0;
	if (a->arg[0] == 1) {
		t0 = x86_rdtsc();
		f0 = proc_faults_resolved();
		return 0;
	}
	if (a->arg[0] != 2 || t0 == 0)
		return -MMK_EINVAL;
	uint64_t us = clock_tsc_to_us(x86_rdtsc() - t0), faults = proc_faults_resolved() - f0;
	kprintf("  [pid %d %s] %lu page faults in %lu us: %lu faults/s\n", proc_current()->pid, proc_current()->name,
		faults, us, us ? faults * 1000000u / us : 0);
	t0 = 0;
	return (int64_t)faults;
}

static const sys_handler table[SYS_COUNT] = {
	[SYS_EXIT] = sys_exit,     [SYS_WRITE] = sys_write,   [SYS_MMAP] = sys_mmap,
	[SYS_MUNMAP] = sys_munmap, [SYS_MPROTECT] = sys_mprotect, [SYS_FORK] = sys_fork,
	[SYS_WAIT] = sys_wait,     [SYS_GETPID] = sys_getpid, [SYS_YIELD] = sys_yield,
	[SYS_REPORT] = sys_report, [SYS_MEASURE] = sys_measure, [SYS_MREMAP] = sys_mremap,
	[SYS_MADVISE] = sys_madvise, [SYS_REQUEST] = sys_request,
};

void syscall_dispatch(struct trapframe *tf)
{
	uint64_t nr = tf->rax;
	if (nr >= SYS_COUNT || !table[nr]) {
		tf->rax = (uint64_t)(int64_t)-MMK_ENOSYS;
		return;
	}
	struct sys_args a = { { tf->rdi, tf->rsi, tf->rdx, tf->r10, tf->r8 }, tf };
	tf->rax = (uint64_t)table[nr](&a);
}
