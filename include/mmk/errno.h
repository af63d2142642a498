/*
 * mmk/errno.h - error codes.
 *
 * Every mmk function that can fail returns 0 or the negative of one of these.
 * The numbers are Linux's (asm-generic/errno-base.h), so a result compares
 * directly with what a Linux system call returned; the names carry an MMK_
 * prefix so hosted code can include <errno.h> beside this header.
 * On error, nothing has changed (the convention of ../DESIGN.md).
 */
#ifndef MMK_ERRNO_H
#define MMK_ERRNO_H

#define MMK_EPERM 1
#define MMK_ENOENT 2
#define MMK_ESRCH 3
#define MMK_EINTR 4
#define MMK_ENOEXEC 8 /* not an executable mmk runs (mmk/elf.h) */
#define MMK_EBADF 9 /* a handle number that names no handle */
#define MMK_EAGAIN 11
#define MMK_ENOMEM 12
#define MMK_EACCES 13
#define MMK_EFAULT 14
#define MMK_EBUSY 16
#define MMK_EEXIST 17
#define MMK_ENODEV 19
#define MMK_EINVAL 22
#define MMK_EMFILE 24 /* a handle table is full */
#define MMK_ENOSPC 28
#define MMK_EROFS 30 /* a write to read-only backing store (vm_memory_pager) */
#define MMK_EMLINK 31
#define MMK_ERANGE 34
#define MMK_ENOSYS 38
#define MMK_EIDRM 43 /* the account (or object) was destroyed */
#define MMK_EOVERFLOW 75
#define MMK_EUSERS 87     /* too many users: a fifth claimant of a range (seed 000) */
#define MMK_EOPNOTSUPP 95
#define MMK_EALREADY 114 /* double free: the frame is already free */

/* Name of an error code ("ENOMEM"), for reports; accepts n or -n. */
const char *mmk_strerror(int err);

#endif
