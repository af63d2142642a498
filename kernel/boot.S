/*
 * boot.S - from QEMU's Multiboot v1 loader to kmain in the higher half.
 *
 * Theory.  QEMU's -kernel loads a 32-bit ELF by its physical addresses and
 * jumps to the entry point in 32-bit protected mode, paging off, with
 * EAX = 0x2badb002 and EBX = the physical address of the Multiboot
 * information.  This file is the only code that runs at its physical
 * address (section .boot, linked at 1 MiB): it builds the boot page
 * tables, turns on PAE, long mode (EFER.LME) and no-execute (EFER.NXE),
 * enables paging, and jumps through a 64-bit code segment to kmain at
 * its higher-half address, on the boot stack, with the Multiboot magic
 * and information address as arguments.
 *
 * Boot page tables (2 MiB pages, static, in the kernel image):
 *   PML4[0]   -> pdpt_ident:  [0, 1 GiB) identity, only until kmain drops it
 *   PML4[256] -> pdpt_direct: the direct map, physical [0, 4 GiB) at
 *                KERNEL_DIRECT_BASE, writable, no-execute, global
 *   PML4[511] -> pdpt_kernel: physical [0, 1 GiB) at KERNEL_VMA_BASE (the
 *                kernel image, executable, global)
 * The global bit is ignored until kmain sets CR4.PGE.
 *
 * Sources: Multiboot Specification 0.6.96 (header, machine state); Intel
 * SDM vol. 3A 9.8.5 (initialising IA-32e mode), 4.5 (4-level paging).
 */
#define KERNEL_VMA_BASE 0xffffffff80000000
#define PHYS(x) ((x) - KERNEL_VMA_BASE)

#define MB_MAGIC 0x1badb002
#define MB_FLAGS 0x00000003 /* page-aligned modules, memory map wanted */

#define PTE_P 0x1
#define PTE_RW 0x2
#define PTE_PS 0x80
#define PTE_G 0x100
#define PTE_NX_HI 0x80000000 /* bit 63, in the high dword */

	.section .multiboot, "a"
	.align 4
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

	.section .boot, "ax"
	.code32
	.globl _start32
_start32:
	cli
	mov %eax, %edi                 /* magic, kept for kmain */
	mov %ebx, %esi                 /* Multiboot information */
	mov $PHYS(boot_stack_top), %esp

	/* pd_kernel: 512 x 2 MiB, physical [0, 1 GiB), executable. */
	mov $PHYS(pd_kernel), %ebx
	xor %ecx, %ecx
1:	mov %ecx, %eax
	shl $21, %eax
	or $(PTE_P | PTE_RW | PTE_PS | PTE_G), %eax
	mov %eax, (%ebx, %ecx, 8)
	movl $0, 4(%ebx, %ecx, 8)
	inc %ecx
	cmp $512, %ecx
	jne 1b

	/* pd_direct: 4 x 512 x 2 MiB, physical [0, 4 GiB), no-execute. */
	mov $PHYS(pd_direct), %ebx
	xor %ecx, %ecx
2:	mov %ecx, %eax
	shl $21, %eax
	or $(PTE_P | PTE_RW | PTE_PS | PTE_G), %eax
	mov %eax, (%ebx, %ecx, 8)
	mov %ecx, %eax
	shr $11, %eax                  /* bits 32.. of the frame address */
	or $PTE_NX_HI, %eax
	mov %eax, 4(%ebx, %ecx, 8)
	inc %ecx
	cmp $2048, %ecx
	jne 2b

	/* pdpt_direct[0..3] -> pd_direct; pdpt_ident[0] -> pd_kernel;
	 * pdpt_kernel[510] -> pd_kernel. */
	mov $PHYS(pdpt_direct), %ebx
	mov $PHYS(pd_direct), %eax
	or $(PTE_P | PTE_RW), %eax
	xor %ecx, %ecx
3:	mov %eax, (%ebx, %ecx, 8)
	add $4096, %eax
	inc %ecx
	cmp $4, %ecx
	jne 3b
	mov $PHYS(pd_kernel), %eax
	or $(PTE_P | PTE_RW), %eax
	mov %eax, PHYS(pdpt_ident)
	mov %eax, PHYS(pdpt_kernel) + 510 * 8

	mov $PHYS(pdpt_ident), %eax
	or $(PTE_P | PTE_RW), %eax
	mov %eax, PHYS(boot_pml4)
	mov $PHYS(pdpt_direct), %eax
	or $(PTE_P | PTE_RW), %eax
	mov %eax, PHYS(boot_pml4) + 256 * 8
	mov $PHYS(pdpt_kernel), %eax
	or $(PTE_P | PTE_RW), %eax
	mov %eax, PHYS(boot_pml4) + 511 * 8

	/* CR4.PAE, CR3, EFER.LME | EFER.NXE, CR0.PG | CR0.WP. */
	mov %cr4, %eax
	or $0x20, %eax
	mov %eax, %cr4
	mov $PHYS(boot_pml4), %eax
	mov %eax, %cr3
	mov $0xc0000080, %ecx
	rdmsr
	or $0x900, %eax
	wrmsr
	mov %cr0, %eax
	or $0x80010000, %eax
	mov %eax, %cr0

	lgdt boot_gdt_ptr               /* .boot runs where it is linked */
	ljmp $0x08, $start64_low

	.code64
start64_low:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	xor %ax, %ax
	mov %ax, %fs
	mov %ax, %gs
	movabs $start64_high, %rax
	jmp *%rax

	.align 16
boot_gdt:
	.quad 0
	.quad 0x00af9a000000ffff       /* 0x08: 64-bit kernel code */
	.quad 0x00cf92000000ffff       /* 0x10: kernel data */
boot_gdt_end:
boot_gdt_ptr:
	.word boot_gdt_end - boot_gdt - 1
	.long boot_gdt

	.text
start64_high:
	movabs $boot_stack_top, %rsp
	xor %ebp, %ebp
	/* edi = magic, esi = information address (zero-extended). */
	mov %edi, %edi
	mov %esi, %esi
	call kmain
4:	cli
	hlt
	jmp 4b

	.bss
	.align 4096
	.globl boot_pml4
boot_pml4:	.skip 4096
pdpt_ident:	.skip 4096
pdpt_direct:	.skip 4096
pdpt_kernel:	.skip 4096
pd_kernel:	.skip 4096
pd_direct:	.skip 4 * 4096
	.align 16
	.globl boot_stack_top
boot_stack:	.skip 65536
boot_stack_top:
