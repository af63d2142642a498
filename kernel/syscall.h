/*
 * syscall.h - the system-call path: int 0x80 from ring 3 lands in
 * syscall_dispatch with the caller's registers (number in rax, arguments
 * in rdi, rsi, rdx, r10, r8; result in rax).  The numbers and the user
 * side are in kernel/user/sysnum.h.
 */
#ifndef KERNEL_SYSCALL_H
#define KERNEL_SYSCALL_H

#include "trap.h"

void syscall_dispatch(struct trapframe *tf);

#endif
