/*
 * proc.c - processes and the scheduler (proc.h).
 *
 * Theory.
 * 1. A process is a src/sys task (a handle table and the mmk address
 *    space it runs in: VMAs, pmap, anons) plus one saved register frame.
 *    The task is made by sys_task_create_in with PROC_SPACE_RIGHTS on its
 *    space (handle PROC_SPACE_HANDLE), so the process's own requests are
 *    bounded by what a process may do.  The program is an ELF executable
 *    loaded as execve does (exec.c: its segments private mappings of the
 *    image's file object, bss, a growsdown stack below EXEC_STACK_TOP,
 *    the heap's start), by the kernel's own vm_* calls: loading is not a
 *    request of the process; everything else the program maps itself.
 *    fork is two requests in the parent's task, SYS_VM_FORK of its space
 *    and SYS_CAP_CLOSE of the copy's handle once the child's task, made in
 *    the copy with sys_task_create_in, holds its own child handle.
 * 2. Running: the scheduler activates the space (pmap_activate: CR3) and
 *    enters ring 3 with user_enter; the process runs until a trap.  A
 *    system call or a resolved page fault returns to it directly (iretq on
 *    the trap stack); exit, a kill, a blocking wait and yield save its
 *    frame and user_leave() back to the scheduler.
 * 3. Page faults: the error code gives the access (write, instruction
 *    fetch, else read) and CR2 the address; vm_fault resolves it (demand
 *    zero, copy-on-write, stack growth) or refuses it, and then the
 *    process is killed with PROC_STATUS_SEGV and a line on the console, as
 *    a SIGSEGV: the kernel is never at risk from a user fault.
 * 4. Exit: the task is destroyed and released by the scheduler once the
 *    process is off the CPU (its pmap is deactivated first); that empties
 *    its table and drops the last reference to its space, which
 *    vm_space_destroy then ends (it needs the pmap inactive: a process's
 *    space is named only in its own table, PROC_SPACE_RIGHTS lacking
 *    GRANT, so it cannot outlive the process while active anywhere).
 *    The slot stays a zombie until the parent waits (a program the kernel
 *    started is reaped by the scheduler, and its status recorded as a
 *    test result).
 * 5. Memory: struct proc comes from the kernel heap (kmalloc); tasks,
 *    spaces and handles from src/sys over the same heap.
 * Locking: one CPU, interrupts off, so nothing runs concurrently; the
 * vm_* calls take their space's lock themselves.
 */
#include <mmk/errno.h>

#include "../hal/x86_64/cpu.h"
#include "../hal/x86_64/pte.h"
#include "kernel.h"
#include "klib.h"
#include "kprintf.h"
#include "ktest/ktest.h"
#include "proc.h"

static struct proc *procs[PROC_MAX];
static struct proc *current;
static int next_pid = 1;
static unsigned rr_next;
static uint64_t faults_resolved;

struct proc *proc_current(void) { return current; }
uint64_t proc_faults_resolved(void) { return faults_resolved; }

static struct proc *proc_alloc(const char *name)
{
	for (unsigned i = 0; i < PROC_MAX; i++) {
		if (procs[i])
			continue;
		struct proc *p = kzalloc(&kernel.heap, sizeof(*p));
		if (!p)
			return NULL;
		p->pid = next_pid++;
		p->name = name;
		procs[i] = p;
		return p;
	}
	return NULL;
}

/* Destroy and release p's task: its table is emptied, and its space goes
 * with its last reference (p must be off the CPU, its pmap inactive). */
static void task_end(struct proc *p)
{
	sys_task_destroy(p->task);
	sys_task_release(p->task);
	p->task = NULL;
}

static void proc_free(struct proc *p)
{
	for (unsigned i = 0; i < PROC_MAX; i++)
		if (procs[i] == p)
			procs[i] = NULL;
	kfree(&kernel.heap, p);
}

int proc_spawn(const struct exec_image *img, struct proc **out)
{
	struct proc *p = proc_alloc(img->name);
	if (!p)
		return -MMK_ENOMEM;
	int rc = sys_task_create_in(&kernel.sys, NULL, CAP_HANDLE_NONE, PROC_SPACE_RIGHTS, &p->task);
	if (rc) {
		proc_free(p);
		return rc;
	}
	rc = exec_image_load(img, proc_space(p));
	if (rc) {
		task_end(p);
		proc_free(p);
		return rc;
	}
	/* rsp as after a call (the ABI's entry state of a function): _start is one */
	p->tf = (struct trapframe){ .rip = img->elf.entry, .cs = SEL_USER_CODE, .ss = SEL_USER_DATA, .rflags = 0x2,
				    .rsp = EXEC_STACK_TOP - 8 };
	p->state = PROC_RUNNABLE;
	p->root = true;
	*out = p;
	return 0;
}

/* A request of p's task on one handle, through sys_dispatch; rep's H0
 * (a new handle) in *out when out is not NULL. */
static int task_request(struct proc *p, uint32_t op, cap_handle_t h, cap_handle_t *out)
{
	struct sys_request q = { .op = op, .handles = { h, CAP_HANDLE_NONE, CAP_HANDLE_NONE, CAP_HANDLE_NONE } };
	struct sys_reply rep;
	int rc = sys_dispatch(p->task, &q, &rep);
	if (out)
		*out = rep.handles[0];
	return rc;
}

/* The child's task: in a copy of the parent's space (SYS_VM_FORK, so the
 * parent's handle must allow it), with a process's rights on it; the
 * copy's handle in the parent's table is closed either way. */
static int fork_task(struct proc *parent, struct proc *child)
{
	cap_handle_t copy;
	int rc = task_request(parent, SYS_VM_FORK, PROC_SPACE_HANDLE, &copy);
	if (rc)
		return rc;
	rc = sys_task_create_in(&kernel.sys, parent->task, copy, PROC_SPACE_RIGHTS, &child->task);
	int closed = task_request(parent, SYS_CAP_CLOSE, copy, NULL);
	return rc ? rc : closed;
}

int proc_fork(const struct trapframe *tf)
{
	struct proc *parent = current, *child = proc_alloc(current->name);
	if (!child)
		return -MMK_EAGAIN;
	int rc = fork_task(parent, child);
	if (rc) {
		if (child->task)
			task_end(child);
		proc_free(child);
		return rc;
	}
	child->tf = *tf;
	child->tf.rax = 0;
	child->parent = parent;
	child->state = PROC_RUNNABLE;
	return child->pid;
}

/* Leave user mode for the scheduler, keeping the frame to resume from. */
static _Noreturn void switch_away(const struct trapframe *tf)
{
	if (tf)
		current->tf = *tf;
	user_leave();
}

static struct proc *find_child(const struct proc *parent, int pid)
{
	for (unsigned i = 0; i < PROC_MAX; i++)
		if (procs[i] && procs[i]->parent == parent && procs[i]->pid == pid)
			return procs[i];
	return NULL;
}

_Noreturn void proc_exit(int status)
{
	struct proc *p = current;
	p->exit_status = status;
	p->state = PROC_ZOMBIE;
	for (unsigned i = 0; i < PROC_MAX; i++) /* orphans are reaped by the scheduler */
		if (procs[i] && procs[i]->parent == p)
			procs[i]->parent = NULL;
	struct proc *parent = p->parent;
	if (parent && parent->state == PROC_WAITING && parent->wait_pid == p->pid) {
		parent->tf.rax = (uint64_t)(int64_t)status;
		parent->state = PROC_RUNNABLE;
		p->parent = NULL; /* reaped by the scheduler */
	}
	switch_away(NULL);
}

int64_t proc_wait(const struct trapframe *tf, int pid)
{
	struct proc *child = find_child(current, pid);
	if (!child)
		return -MMK_ENOENT;
	if (child->state == PROC_ZOMBIE) {
		int status = child->exit_status;
		child->parent = NULL; /* the scheduler frees it */
		return status;
	}
	current->state = PROC_WAITING;
	current->wait_pid = pid;
	switch_away(tf);
}

void proc_yield(const struct trapframe *tf)
{
	struct trapframe saved = *tf;
	saved.rax = 0;
	switch_away(&saved);
}

static unsigned fault_access(uint64_t error)
{
	if (error & X86_PF_I)
		return PMAP_ACCESS_EXEC;
	return (error & X86_PF_W) ? PMAP_ACCESS_WRITE : PMAP_ACCESS_READ;
}

static const char *fault_reason(int rc)
{
	switch (rc) {
	case -MMK_EFAULT: return "no mapping (SEGV_MAPERR)";
	case -MMK_EACCES: return "access not allowed (SEGV_ACCERR)";
	case -MMK_ENOMEM: return "out of memory";
	default: return "refused";
	}
}

void proc_user_trap(struct trapframe *tf)
{
	struct proc *p = current;
	if (tf->vector == TRAP_PF) {
		uint64_t va = x86_read_cr2();
		unsigned access = fault_access(tf->error);
		int rc = va < PMAP_USER_END ? vm_fault(proc_space(p), va, access) : -MMK_EFAULT;
		if (rc == 0) {
			faults_resolved++;
			return;
		}
		kprintf("  [pid %d %s] page fault at 0x%lx (%s, rip 0x%lx): %s: killed\n", p->pid, p->name, va,
			access == PMAP_ACCESS_WRITE ? "write" : access == PMAP_ACCESS_EXEC ? "exec" : "read",
			tf->rip, fault_reason(rc));
	} else {
		kprintf("  [pid %d %s] exception in user mode: killed\n", p->pid, p->name);
		trap_print(tf);
	}
	proc_exit(PROC_STATUS_SEGV);
}

/* A process just left the CPU: a dead one's space goes now (inactive
 * first, as vm_space_destroy requires), and a program the kernel started
 * has its exit status counted as a test result. */
static void after_run(struct proc *p)
{
	pmap_deactivate(&proc_space(p)->pmap, 0);
	if (p->state != PROC_ZOMBIE)
		return;
	const char *why = NULL;
	if (vm_check(proc_space(p), &why) != 0) {
		kprintf("  [pid %d %s] vm_check at exit: %s\n", p->pid, p->name, why);
		ktest_record("user", "address space consistent at exit (vm_check)", false);
	}
	task_end(p);
	if (sys_check(&kernel.sys, &why) != 0) {
		kprintf("  [pid %d %s] sys_check after exit: %s\n", p->pid, p->name, why);
		ktest_record("user", "handles and objects consistent after exit (sys_check)", false);
	}
	if (p->root) {
		char what[64];
		ksnprintf(what, sizeof(what), "%s exits with status 0 (got %d)", p->name, p->exit_status);
		ktest_record("user", what, p->exit_status == 0);
	}
}

static void reap_orphans(void)
{
	for (unsigned i = 0; i < PROC_MAX; i++) {
		struct proc *p = procs[i];
		if (p && p->state == PROC_ZOMBIE && !p->parent && !p->task)
			proc_free(p);
	}
}

static struct proc *pick_next(void)
{
	for (unsigned k = 0; k < PROC_MAX; k++) {
		unsigned i = (rr_next + k) % PROC_MAX;
		if (procs[i] && procs[i]->state == PROC_RUNNABLE) {
			rr_next = i + 1;
			return procs[i];
		}
	}
	return NULL;
}

unsigned proc_schedule(void)
{
	struct proc *p;
	while ((p = pick_next()) != NULL) {
		current = p;
		vm_space_activate(proc_space(p), 0);
		user_enter(&p->tf);
		current = NULL;
		after_run(p);
		reap_orphans();
	}
	unsigned blocked = 0;
	for (unsigned i = 0; i < PROC_MAX; i++)
		blocked += procs[i] != NULL;
	return blocked;
}
