/*
 * exec.h - the kernel's execve for its boot programs: an ELF64 executable
 * (a Multiboot module's bytes) read once into an exec_image, then loaded
 * into as many fresh address spaces as processes run it.
 *
 * An image holds the parsed segments (mmk/elf.h) and one file object over
 * the file's bytes (vm_object_create_memory): every process running the
 * program maps its segments privately from that one object, so they share
 * the frames of its text and rodata (the page cache) and copy a data page
 * on their first write, as processes running one file under Linux do.
 */
#ifndef KERNEL_EXEC_H
#define KERNEL_EXEC_H

#include <mmk/elf.h>
#include <mmk/vm.h>

struct exec_image {
	const char *name;             /* static string: the object's name, shown in the maps */
	const uint8_t *bytes;         /* the file, alive and unchanged as long as the image */
	uint64_t len;
	struct elf_exec elf;          /* its segments, entry point, heap start */
	struct vm_memory_pager pager; /* reads the file's pages for the object */
	struct vm_object *object;     /* one reference held until exec_image_close */
};

/* Read the executable bytes[0, len) as img (the bytes must outlive it,
 * and img must not move while open: the object's pager points into it).
 * 0; elf_parse_exec's -MMK_ENOEXEC / -MMK_EINVAL for a file it refuses;
 * -MMK_ENOMEM.  Nothing is left behind on error. */
int exec_image_open(struct exec_image *img, const char *name, const void *bytes, uint64_t len);

/* Drop the image's reference on its object: the object, and its page
 * cache, go when the last process mapping it has gone too. */
void exec_image_close(struct exec_image *img);

/* The user stack of every program: its top and the bytes mapped at exec
 * (a growsdown mapping: it grows on demand, VM_MAP_GROWSDOWN). */
#define EXEC_STACK_TOP ((vaddr_t)0x7ffffff00000)
#define EXEC_STACK_BYTES ((uint64_t)16 << 10)

/* Build img's layout in the empty space as (vm_exec_layout: its segments,
 * a stack below EXEC_STACK_TOP, the heap after the highest segment).
 * 0, or vm_exec_layout's error; on error the caller destroys as. */
int exec_image_load(const struct exec_image *img, struct vm_space *as);

#endif
