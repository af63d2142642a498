/*
 * kernel.h - the kernel's one instance of each mmk layer, and its boot
 * sequence's pieces.
 *
 * The core keeps no globals (every state lives in structs passed in); the
 * kernel is where those structs live: one machine, one struct phys fed
 * from the Multiboot memory map, one kmalloc heap, one vmem arena of
 * kernel virtual space, one vm_system for the user address spaces, one
 * struct sys (src/sys) whose tasks are the user processes.
 */
#ifndef KERNEL_KERNEL_H
#define KERNEL_KERNEL_H

#include <mmk/kmalloc.h>
#include <mmk/phys.h>
#include <mmk/sys.h>
#include <mmk/vm.h>
#include <mmk/vmem.h>

#include "../hal/x86_64/x86_64.h"

/* QEMU exit statuses through isa-debug-exit: (code << 1) | 1. */
#define KERNEL_EXIT_PASS 16u /* status 33 */
#define KERNEL_EXIT_FAIL 1u  /* status 3 */
#define KERNEL_EXIT_CRASH 3u /* status 7: an unexpected kernel trap */

#define BOOT_MAX_RANGES 64
#define BOOT_MAX_MODULES 16

/* A Multiboot module: a file the boot loader put in RAM (QEMU's -initrd
 * "a,b,c"), reserved as boot data for good, so its bytes stay valid. */
struct boot_module {
	const char *string;     /* the loader's string for it (QEMU: the file's path), or "" */
	const void *bytes;      /* [bytes, bytes + len) through the direct map */
	uint64_t len;
};

struct boot_map {
	struct mmk_mem_range ranges[BOOT_MAX_RANGES];
	size_t n;
	paddr_t ram_top;        /* end of the highest usable range */
	const char *cmdline;    /* through the direct map, or "" */
	size_t boot_ranges;     /* ranges reserved for the image and boot data */
	struct boot_module modules[BOOT_MAX_MODULES];
	size_t nmodules;
};

struct kernel {
	struct hal_machine *machine;
	struct hal_machine machine_store;
	struct mmk_failpoint failpoint; /* for the in-kernel sweeps */
	struct phys phys;
	struct kmalloc_heap heap;       /* the kernel heap: kmalloc/kfree */
	struct vmem kva;                /* kernel virtual space (x86_64.h: X86_KVA_BASE) */
	struct vm_system vm;            /* user address spaces */
	struct sys sys;                 /* tasks, handles, requests: the processes' authority */
	struct boot_map boot;
	uint64_t tsc_hz;                /* time-stamp counter ticks per second */
	uint64_t boot_tsc;
};

extern struct kernel kernel;

/* multiboot.c: read the Multiboot information at physical mbi_pa into
 * map (RAM, holes, the kernel image and every piece of boot data as
 * reserved).  0, or -MMK_EINVAL with a message printed. */
int boot_map_build(uint32_t magic, paddr_t mbi_pa, struct boot_map *map);

/* The module whose file is called name: the last component of the first
 * word of its string, less a ".elf" suffix ("/build/user/prog_caps.elf
 * args" is prog_caps).  NULL when no module has that name. */
const struct boot_module *boot_module_find(const struct boot_map *map, const char *name);

/* clock.c: measure the TSC against the PIT (8254) once. */
uint64_t clock_calibrate_tsc(void);
/* Microseconds between two TSC readings. */
uint64_t clock_tsc_to_us(uint64_t ticks);

/* kva.c: kernel virtual memory (vmem arena + frames + global mappings). */
int kva_init(void);
void *kva_alloc(size_t npages);
int kva_free(void *p, size_t npages);

/* The kernel's in-kernel test suites (kernel/tests) and the user programs
 * (proc.c); each returns nothing, results go to ktest.c's counters. */
void kernel_run_tests(void);
void user_run_programs(void);

#endif
