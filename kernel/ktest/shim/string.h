/* string.h (kernel shim): the kernel's klib.c routines. */
#ifndef KERNEL_SHIM_STRING_H
#define KERNEL_SHIM_STRING_H
#include "../../klib.h"
#endif
