/*
 * sysnum.h - the system-call numbers shared by the kernel (syscall.c) and
 * the user programs (ulib.h).  Arguments in rdi, rsi, rdx, r10, r8; the
 * result in rax (negative: -MMK_E* error).
 */
#ifndef KERNEL_USER_SYSNUM_H
#define KERNEL_USER_SYSNUM_H

#define SYS_EXIT 0     /* (status) */
#define SYS_WRITE 1    /* (buf, len): console */
#define SYS_MMAP 2     /* (addr, len, prot, flags): as mmap(2), anonymous only */
#define SYS_MUNMAP 3   /* (addr, len) */
#define SYS_MPROTECT 4 /* (addr, len, prot) */
#define SYS_FORK 5     /* (): child pid, 0 in the child */
#define SYS_WAIT 6     /* (pid): the child's exit status */
#define SYS_GETPID 7   /* () */
#define SYS_YIELD 8    /* () */
#define SYS_REPORT 9   /* (name, ok): one test result for the final count */
#define SYS_MEASURE 10 /* (what): 1 starts, 2 stops a page-fault rate measurement */
#define SYS_COUNT 11

/* mmap's prot and flags: Linux's values (as mmk/vm.h). */
#define PROT_NONE 0x0
#define PROT_READ 0x1
#define PROT_WRITE 0x2
#define PROT_EXEC 0x4
#define MAP_SHARED 0x01
#define MAP_PRIVATE 0x02
#define MAP_FIXED 0x10
#define MAP_ANONYMOUS 0x20

#endif
