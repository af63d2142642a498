/*
 * exec.c - loading the boot programs as execve does (exec.h).
 *
 * Theory.
 * 1. Opening: the file's bytes (a boot module, reserved for good by
 *    multiboot.c) are parsed by elf_parse_exec, which refuses anything
 *    but a static x86-64 ET_EXEC with sane PT_LOAD headers; then one
 *    file object with a memory pager is made over them.  The parse comes
 *    first, so a refused file allocates nothing.
 * 2. Loading: vm_exec_layout maps each PT_LOAD segment privately from the
 *    object (text read+exec, rodata read, data read+write), the bss
 *    anonymous with the head of the data's last file page cleared (Linux's
 *    padzero), the stack, and sets the heap's start.  Pages come in on
 *    demand: a process's first touch of a text page reads it into the
 *    object once (memory pager) and every later process maps that frame.
 * 3. Lifetime: the image holds one object reference; each VMA holds one.
 *    exec_image_close drops the image's; the object and its pages go
 *    with the last process that maps it.
 * Locking: none of its own; one CPU, and the vm_* calls lock their space.
 * Source: Linux fs/binfmt_elf.c load_elf_binary, in outline.
 */
#include <mmk/errno.h>

#include "exec.h"
#include "kernel.h"

int exec_image_open(struct exec_image *img, const char *name, const void *bytes, uint64_t len)
{
	struct elf_exec elf;
	int rc = elf_parse_exec(bytes, len, &elf);
	if (rc)
		return rc;
	*img = (struct exec_image){ .name = name, .bytes = bytes, .len = len, .elf = elf,
				    .pager = { bytes, len } };
	rc = vm_object_create_memory(&kernel.vm, name, &img->pager, &img->object);
	if (rc)
		img->object = NULL;
	return rc;
}

void exec_image_close(struct exec_image *img)
{
	if (img->object)
		vm_object_release(&kernel.vm, img->object);
	img->object = NULL;
}

int exec_image_load(const struct exec_image *img, struct vm_space *as)
{
	return vm_exec_layout(as, img->object, img->elf.segs, img->elf.nsegs, EXEC_STACK_TOP, EXEC_STACK_BYTES,
			      img->elf.brk_start);
}
