/*
 * uaccess.h - moving bytes between the kernel and a user address space
 * without touching user addresses from kernel mode: each page is resolved
 * in the space's pmap (faulting it in through vm_fault when absent or too
 * weak, exactly as the user's own access would) and copied through the
 * direct map.  So a bad user pointer is an error code, never a kernel
 * page fault, and the copy works on a space that is not active.
 */
#ifndef KERNEL_UACCESS_H
#define KERNEL_UACCESS_H

#include <mmk/vm.h>

/* Copy len bytes from the kernel buffer src to user address dst of as, as
 * a user write would.  0, or vm_fault's error (-MMK_EFAULT: no mapping,
 * -MMK_EACCES: not writable, -MMK_ENOMEM); pages before the failing one
 * have been written then. */
int uaccess_copy_out(struct vm_space *as, vaddr_t dst, const void *src, size_t len);

/* Copy len bytes from user address src of as to the kernel buffer dst, as
 * a user read would.  0 or vm_fault's error. */
int uaccess_copy_in(struct vm_space *as, void *dst, vaddr_t src, size_t len);

/* A NUL-terminated user string into buf[cap] (always terminated); 0,
 * -MMK_ERANGE when it does not fit, or vm_fault's error. */
int uaccess_string_in(struct vm_space *as, char *buf, size_t cap, vaddr_t src);

#endif
