/*
 * syscall.c - the system-call dispatch: one table from number to handler.
 *
 * Theory.  int 0x80 from ring 3 arrives here with the caller's registers
 * (trap.c).  Each handler takes the six argument registers and returns the
 * value for rax: >= 0 on success, a negative MMK_E* code on error.  The
 * handlers here call mmk's vm_* functions directly on the current
 * process's space; a later change routes them to src/sys/ request handlers
 * (capability checks, argument validation), so every user-supplied value
 * is treated as untrusted already: pointers go through uaccess.c, lengths
 * and flags are passed to vm_*, whose errors are returned unchanged.
 * Handlers that end or suspend the process (exit, wait, yield) do not
 * return to it; proc.c switches away.
 */
#include "syscall.h"

#include <mmk/errno.h>

#include "../hal/x86_64/cpu.h"
#include "kernel.h"
#include "kprintf.h"
#include "ktest/ktest.h"
#include "proc.h"
#include "uaccess.h"
#include "user/sysnum.h"

struct sys_args {
	uint64_t a0, a1, a2, a3, a4;
	const struct trapframe *tf;
};

typedef int64_t (*sys_handler)(const struct sys_args *a);

static struct vm_space *space(void) { return proc_current()->as; }

static int64_t sys_exit(const struct sys_args *a) { proc_exit((int)a->a0); }

static int64_t sys_write(const struct sys_args *a)
{
	char buf[128];
	uint64_t len = a->a1, done = 0;
	while (done < len) {
		size_t n = len - done < sizeof(buf) ? (size_t)(len - done) : sizeof(buf);
		int rc = uaccess_copy_in(space(), buf, a->a0 + done, n);
		if (rc)
			return rc;
		hal_console_write(kernel.machine, buf, n);
		done += n;
	}
	return (int64_t)len;
}

/* Anonymous memory only: a MAP_SHARED mapping gets a fresh anonymous
 * object that the mapping (and, after fork, the child's) keeps alive. */
static int64_t sys_mmap(const struct sys_args *a)
{
	unsigned flags = (unsigned)a->a3;
	if (!(flags & VM_MAP_ANONYMOUS))
		return -MMK_EINVAL;
	struct vm_object *obj = NULL;
	if ((flags & VM_MAP_TYPE) == VM_MAP_SHARED) {
		int rc = vm_object_create(&kernel.vm, VM_OBJECT_ANON, "/dev/zero (deleted)", &obj);
		if (rc)
			return rc;
	}
	vaddr_t out;
	int rc = vm_map(space(), a->a0, a->a1, (unsigned)a->a2, flags, obj, 0, VM_PROT_ALL, &out);
	if (obj)
		vm_object_release(&kernel.vm, obj); /* the VMA holds its own reference */
	return rc ? rc : (int64_t)out;
}

static int64_t sys_munmap(const struct sys_args *a) { return vm_unmap(space(), a->a0, a->a1); }

static int64_t sys_mprotect(const struct sys_args *a) { return vm_protect(space(), a->a0, a->a1, (unsigned)a->a2); }

static int64_t sys_fork(const struct sys_args *a) { return proc_fork(a->tf); }

static int64_t sys_wait(const struct sys_args *a) { return proc_wait(a->tf, (int)a->a0); }

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
	int rc = uaccess_string_in(space(), name, sizeof(name), a->a0);
	if (rc)
		return rc;
	ksnprintf(what, sizeof(what), "%s: %s", proc_current()->name, name);
	ktest_record("user", what, a->a1 != 0);
	return 0;
}

/* Page faults per second between a start (1) and a stop (2), printed. */
static int64_t sys_measure(const struct sys_args *a)
{
	static uint64_t t0, f0;
	if (a->a0 == 1) {
		t0 = x86_rdtsc();
		f0 = proc_faults_resolved();
		return 0;
	}
	if (a->a0 != 2 || t0 == 0)
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
	[SYS_REPORT] = sys_report, [SYS_MEASURE] = sys_measure,
};

void syscall_dispatch(struct trapframe *tf)
{
	uint64_t nr = tf->rax;
	if (nr >= SYS_COUNT || !table[nr]) {
		tf->rax = (uint64_t)(int64_t)-MMK_ENOSYS;
		return;
	}
	struct sys_args a = { tf->rdi, tf->rsi, tf->rdx, tf->r10, tf->r8, tf };
	tf->rax = (uint64_t)table[nr](&a);
}
