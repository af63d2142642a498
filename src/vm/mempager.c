/*
 * vm/mempager.c - a file pager over bytes in memory (mmk/vm.h:
 * struct vm_memory_pager): the page cache of a read-only file the kernel
 * already holds whole, such as an executable the boot loader passed as a
 * module.  A page is copied from the bytes on first use (zeroes past the
 * end, as a file's last page), so the object's frames are ordinary user
 * frames that reclaim may drop and a later fault reads again; the bytes
 * themselves are never written (write-back is -MMK_EROFS, which leaves a
 * dirtied page resident, as a failed write-back does for any file).
 * No lock: the bytes never change.  Seed 003's memory-object pager.
 */
#include "vm/vm_internal.h"

static int memory_read(void *ctx, uint64_t pgoff, void *page)
{
	const struct vm_memory_pager *mp = ctx;
	mmk_memset(page, 0, MMK_PAGE_SIZE);
	if (pgoff > (mp->len >> MMK_PAGE_SHIFT) || (pgoff << MMK_PAGE_SHIFT) == mp->len)
		return 0; /* past the end: zeroes (the shift cannot wrap: pgoff <= len / 4096) */
	uint64_t at = pgoff << MMK_PAGE_SHIFT, left = mp->len - at;
	mmk_memcpy(page, (const uint8_t *)mp->bytes + at, left < MMK_PAGE_SIZE ? (size_t)left : MMK_PAGE_SIZE);
	return 0;
}

static int memory_write(void *ctx, uint64_t pgoff, const void *page)
{
	(void)ctx;
	(void)pgoff;
	(void)page;
	return -MMK_EROFS;
}

int vm_object_create_memory(struct vm_system *sys, const char *name, struct vm_memory_pager *mp,
			    struct vm_object **out)
{
	struct vm_object *obj;
	int rc = vm_object_create(sys, VM_OBJECT_FILE, name, &obj);
	if (rc)
		return rc;
	struct vm_file_pager pager = { memory_read, memory_write, mp };
	vm_object_set_pager(obj, &pager);
	obj->size = mp->len;
	*out = obj;
	return 0;
}
