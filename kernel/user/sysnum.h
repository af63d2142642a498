/*
 * sysnum.h - the system-call numbers shared by the kernel (syscall.c) and
 * the user programs (ulib.h).  Arguments in rdi, rsi, rdx, r10, r8; the
 * result in rax (negative: -MMK_E* error).
 *
 * The memory calls (mmap ... madvise, fork's copy of the space) are
 * requests of src/sys through the caller's handle U_SPACE_HANDLE, so their
 * errors include src/sys's: -MMK_EBADF once that handle is closed,
 * -MMK_EPERM for a protection its rights do not allow.  SYS_REQUEST passes
 * a whole src/sys request: the layouts below are mmk/sys.h's struct
 * sys_request and struct sys_reply, and the constants mmk/sys.h's and
 * mmk/cap.h's, byte for byte (syscall.c asserts every one).
 */
#ifndef KERNEL_USER_SYSNUM_H
#define KERNEL_USER_SYSNUM_H

#include <stdint.h>

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
#define SYS_MREMAP 11  /* (old addr, old len, new len, flags, new addr): as mremap(2) */
#define SYS_MADVISE 12 /* (addr, len, advice): as madvise(2) */
#define SYS_REQUEST 13 /* (struct u_request *, struct u_reply *): one src/sys request; returns its status */
#define SYS_COUNT 14

/* mmap's prot and flags: Linux's values (as mmk/vm.h). */
#define PROT_NONE 0x0
#define PROT_READ 0x1
#define PROT_WRITE 0x2
#define PROT_EXEC 0x4
#define MAP_SHARED 0x01
#define MAP_PRIVATE 0x02
#define MAP_FIXED 0x10
#define MAP_ANONYMOUS 0x20
#define MREMAP_MAYMOVE 1
#define MADV_DONTNEED 4

/* ---- SYS_REQUEST: src/sys requests from user space ---- */

struct u_request {
	uint32_t op;      /* U_OP(family, n) */
	uint32_t flags;   /* 0 */
	uint64_t args[6]; /* unused ones 0 */
	int32_t handles[4]; /* unused ones U_HANDLE_NONE */
};

struct u_reply {
	int32_t status; /* 0 or -MMK_E* (also SYS_REQUEST's result) */
	uint32_t reserved;
	uint64_t results[4];
	int32_t handles[4];
};

#define U_HANDLE_NONE (-1)
#define U_SPACE_HANDLE 0 /* every process's handle to its own space, rights U_SPACE_RIGHTS */

#define U_OP(family, n) (((uint32_t)(family) << 8) | (uint32_t)(n))
#define U_CAP_INFO U_OP(1, 0)           /* h0 -> r0 type, r1 rights */
#define U_CAP_DERIVE U_OP(1, 1)         /* h0, a0 rights -> H0 */
#define U_CAP_CLOSE U_OP(1, 3)          /* h0 */
#define U_VM_MAP U_OP(3, 1)             /* h0 space, h1 object or NONE; a0..a4 as mmap -> r0 */
#define U_VM_UNMAP U_OP(3, 2)           /* h0, a0 addr, a1 len */
#define U_VM_PROTECT U_OP(3, 3)         /* h0, a0 addr, a1 len, a2 prot */
#define U_VM_QUERY U_OP(3, 8)           /* h0, a0 addr -> r0 start, r1 end, r2 prot */
#define U_VM_OBJECT_CREATE U_OP(3, 9)   /* a0 size -> H0 a shared memory object */

#define U_TYPE_SPACE 2
#define U_RIGHT_READ (1u << 0)
#define U_RIGHT_WRITE (1u << 1)
#define U_RIGHT_EXEC (1u << 2)
#define U_RIGHT_MAP (1u << 3)
#define U_RIGHT_DERIVE (1u << 5)
#define U_SPACE_RIGHTS (U_RIGHT_READ | U_RIGHT_WRITE | U_RIGHT_EXEC | U_RIGHT_MAP | U_RIGHT_DERIVE)

#endif
