/*
 * ulib.h - the whole runtime of a user program: system calls through
 * int 0x80 (sysnum.h), the entry point, and a few helpers.  A program
 * defines int main(void); _start calls it and exits with its result.
 */
#ifndef KERNEL_USER_ULIB_H
#define KERNEL_USER_ULIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mmk/errno.h>

#include "sysnum.h"

static inline long syscall3(long nr, long a0, long a1, long a2)
{
	long ret;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "D"(a0), "S"(a1), "d"(a2) : "memory");
	return ret;
}

static inline long syscall4(long nr, long a0, long a1, long a2, long a3)
{
	long ret;
	register long r10 __asm__("r10") = a3;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10) : "memory");
	return ret;
}

static inline long syscall5(long nr, long a0, long a1, long a2, long a3, long a4)
{
	long ret;
	register long r10 __asm__("r10") = a3;
	register long r8 __asm__("r8") = a4;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8) : "memory");
	return ret;
}

static inline _Noreturn void u_exit(int status)
{
	syscall3(SYS_EXIT, status, 0, 0);
	for (;;)
		;
}

static inline size_t u_strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

static inline void u_puts(const char *s) { syscall3(SYS_WRITE, (long)s, (long)u_strlen(s), 0); }
static inline void *u_mmap(void *addr, size_t len, int prot, int flags)
{
	return (void *)syscall4(SYS_MMAP, (long)addr, (long)len, prot, flags);
}
static inline bool u_mmap_failed(const void *p) { return (long)p < 0 && (long)p > -4096; }
static inline long u_munmap(void *addr, size_t len) { return syscall3(SYS_MUNMAP, (long)addr, (long)len, 0); }
static inline long u_mprotect(void *addr, size_t len, int prot)
{
	return syscall3(SYS_MPROTECT, (long)addr, (long)len, prot);
}
static inline void *u_mremap(void *old, size_t old_len, size_t new_len, int flags)
{
	return (void *)syscall5(SYS_MREMAP, (long)old, (long)old_len, (long)new_len, flags, 0);
}
static inline long u_madvise(void *addr, size_t len, int advice)
{
	return syscall3(SYS_MADVISE, (long)addr, (long)len, advice);
}
static inline long u_fork(void) { return syscall3(SYS_FORK, 0, 0, 0); }
static inline long u_wait(long pid) { return syscall3(SYS_WAIT, pid, 0, 0); }
static inline long u_getpid(void) { return syscall3(SYS_GETPID, 0, 0, 0); }
static inline void u_yield(void) { syscall3(SYS_YIELD, 0, 0, 0); }
static inline long u_measure(int what) { return syscall3(SYS_MEASURE, what, 0, 0); }

/* One src/sys request (SYS_REQUEST): its status, the reply in *rep. */
static inline long u_request(const struct u_request *req, struct u_reply *rep)
{
	return syscall3(SYS_REQUEST, (long)req, (long)rep, 0);
}

/* A request with every argument 0 and every handle U_HANDLE_NONE but h0. */
static inline struct u_request u_req(uint32_t op, int32_t h0)
{
	struct u_request q = { .op = op, .handles = { h0, U_HANDLE_NONE, U_HANDLE_NONE, U_HANDLE_NONE } };
	return q;
}

/* One test result, counted by the kernel in its final line. */
static inline bool u_report(const char *name, bool ok)
{
	syscall3(SYS_REPORT, (long)name, ok, 0);
	return ok;
}

/* Run fn in a child and return its exit status (the parent waits). */
static inline long u_in_child(int (*fn)(void *), void *arg)
{
	long pid = u_fork();
	if (pid < 0)
		return pid;
	if (pid == 0)
		u_exit(fn(arg));
	return u_wait(pid);
}

#define PAGE 4096ul
#define STATUS_SEGV 139 /* proc.h: PROC_STATUS_SEGV */

/* Every program's .data and .bss (user.ld: the data segment): a word with
 * an initial value in the file, and zeroes spanning the rest of the
 * word's page (where the file holds other bytes) and three more pages. */
#define U_DATA_INITIAL 0x600dda7a5eedf00dull
static volatile uint64_t u_data_word = U_DATA_INITIAL;
static volatile uint8_t u_bss_bytes[3 * PAGE + 100];

/* What the loader made of them, seen from inside: .data holds its initial
 * value, .bss reads zero, and both keep what this process writes. */
static inline bool u_check_data_bss(void)
{
	bool ok = u_data_word == U_DATA_INITIAL;
	for (size_t i = 0; i < sizeof(u_bss_bytes); i++)
		ok &= u_bss_bytes[i] == 0;
	u_data_word = ~U_DATA_INITIAL;
	u_bss_bytes[0] = 1;
	u_bss_bytes[sizeof(u_bss_bytes) - 1] = 2;
	return ok && u_data_word == ~U_DATA_INITIAL && u_bss_bytes[0] == 1 && u_bss_bytes[sizeof(u_bss_bytes) - 1] == 2;
}

int main(void);
void _start(void);

__attribute__((section(".text.start"), used)) void _start(void) { u_exit(main()); }

#endif
