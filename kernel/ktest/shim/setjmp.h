/* setjmp.h (kernel shim): cmocka's users include it; the kernel's test
 * runner uses GCC's __builtin_setjmp instead, so nothing is declared. */
#ifndef KERNEL_SHIM_SETJMP_H
#define KERNEL_SHIM_SETJMP_H
#endif
