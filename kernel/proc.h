/*
 * proc.h - user processes: each runs one program in its own mmk address
 * space (vm_space), in ring 3, until it exits or is killed.  A process is a
 * src/sys task (struct sys_task): its handle table, whose handle
 * PROC_SPACE_HANDLE names its space with PROC_SPACE_RIGHTS, and the space
 * it runs in; its memory system calls are requests through that handle.
 *
 * Scheduling is cooperative and run to block: the scheduler (proc.c)
 * enters a runnable process and gets control back when the process exits,
 * is killed by a refused fault, waits for a child that still runs, or
 * yields.  A process has one saved register frame (its state while it is
 * not running); a child made by fork starts from a copy of the parent's
 * with rax = 0.
 */
#ifndef KERNEL_PROC_H
#define KERNEL_PROC_H

#include <mmk/sys.h>
#include <mmk/vm.h>

#include "exec.h"
#include "trap.h"

#define PROC_MAX 16
#define PROC_STATUS_SEGV 139 /* 128 + SIGSEGV, as a shell shows a killed process */
#define PROC_MAX_HANDLES 64  /* handle table size of every task (sys_init) */

/* A process's handle to its own space, and the rights a process has on it:
 * map, protect and fork it, derive weaker handles; not DESTROY (the kernel
 * ends the space with the process) nor GRANT (no handle to it leaves the
 * process, so it goes exactly when the process does). */
#define PROC_SPACE_HANDLE ((cap_handle_t)0)
#define PROC_SPACE_RIGHTS (CAP_RIGHT_READ | CAP_RIGHT_WRITE | CAP_RIGHT_EXEC | CAP_RIGHT_MAP | CAP_RIGHT_DERIVE)

enum proc_state { PROC_FREE = 0, PROC_RUNNABLE, PROC_WAITING, PROC_ZOMBIE };

struct proc {
	int pid;
	enum proc_state state;
	const char *name;          /* static string */
	struct sys_task *task;     /* held (sys_task_create_in); NULL once a zombie's task is gone */
	struct trapframe tf;       /* saved user registers while not running */
	struct proc *parent;       /* NULL for a program the kernel started, or an orphan */
	bool root;                 /* started by the kernel (proc_spawn) */
	int wait_pid;              /* PROC_WAITING: the child awaited */
	int exit_status;
};

/* The address space p runs in (its task's; p must not be a reaped zombie). */
static inline struct vm_space *proc_space(const struct proc *p) { return p->task->space->as; }

/* Start the program img (an open exec_image: exec.h) as a new process in
 * a fresh address space, at its entry point with its stack and heap as
 * execve leaves them.  0 with *out, or a negative error (-MMK_ENOMEM, no
 * process slot or memory; vm_exec_layout's errors), nothing left behind. */
int proc_spawn(const struct exec_image *img, struct proc **out);

/* The process running now (NULL in the scheduler). */
struct proc *proc_current(void);

/* fork(2) of the current process from its trap frame: the child's pid, or
 * a negative error (-MMK_EAGAIN: no process slot; SYS_VM_FORK's through
 * the caller's PROC_SPACE_HANDLE: -MMK_EBADF when it was closed, -MMK_EPERM
 * without READ, -MMK_EMFILE, -MMK_ENOMEM).  Nothing is left on error. */
int proc_fork(const struct trapframe *tf);

/* End the current process with status; never returns to it. */
_Noreturn void proc_exit(int status);

/* Wait for child pid of the current process: returns its status at once
 * if it has exited, -MMK_ECHILD-like -MMK_ENOENT if it is not a child;
 * otherwise blocks (the status arrives in rax when the parent resumes). */
int64_t proc_wait(const struct trapframe *tf, int pid);

/* Give the CPU to the next runnable process (the caller resumes later). */
void proc_yield(const struct trapframe *tf);

/* A trap from user mode other than a system call: page faults go to
 * vm_fault; a refused fault or any other exception kills the process
 * with a report on the console. */
void proc_user_trap(struct trapframe *tf);

/* Run every process until none is runnable; returns the number of
 * processes that were still blocked (0 when all exited). */
unsigned proc_schedule(void);

/* Page faults resolved for user processes so far. */
uint64_t proc_faults_resolved(void);

#endif
