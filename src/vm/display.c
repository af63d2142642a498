/*
 * vm/display.c - /proc/PID/maps text of an address space (seed 004:
 * mspace_display).  The line format is Linux's show_map_vma():
 *   "%08lx-%08lx %c%c%c%c %08llx %02x:%02x %lu " then, when the VMA has a
 *   name, spaces up to column 73 and the name.
 * Names as Linux derives them: the object's path; a special mapping's name;
 * "[heap]" for an anonymous VMA that touches [start_brk, brk]; "[stack]" for
 * the one holding start_stack.
 */
#include "vm/vm_internal.h"
#include "lib/textout.h"

const char *vm_area_name(const struct vm_space *as, const struct vm_area *v)
{
	if (v->object && v->object->name)
		return v->object->name;
	if (v->name)
		return v->name;
	if (!v->object && as->start_brk && v->start <= as->brk && v->end >= as->start_brk)
		return "[heap]";
	if (as->start_stack && v->start <= as->start_stack && v->end >= as->start_stack)
		return "[stack]";
	return "";
}

static void put_line(struct textout *o, const struct vm_space *as, const struct vm_area *v)
{
	size_t line_start = o->len;
	textout_hex(o, v->start, 8);
	textout_char(o, '-');
	textout_hex(o, v->end, 8);
	textout_char(o, ' ');
	textout_char(o, (v->prot & VM_PROT_READ) ? 'r' : '-');
	textout_char(o, (v->prot & VM_PROT_WRITE) ? 'w' : '-');
	textout_char(o, (v->prot & VM_PROT_EXEC) ? 'x' : '-');
	textout_char(o, (v->flags & VMA_SHARED) ? 's' : 'p');
	textout_char(o, ' ');
	textout_hex(o, v->object ? v->offset : 0, 8);
	textout_char(o, ' ');
	textout_hex(o, v->object ? v->object->dev_major : 0, 2);
	textout_char(o, ':');
	textout_hex(o, v->object ? v->object->dev_minor : 0, 2);
	textout_char(o, ' ');
	textout_dec(o, v->object ? v->object->inode : 0);
	textout_char(o, ' ');
	const char *name = vm_area_name(as, v);
	if (*name) {
		while (o->len - line_start < 72)
			textout_char(o, ' ');
		textout_char(o, ' ');
		textout_str(o, name);
	}
	textout_char(o, '\n');
}

size_t vm_display(struct vm_space *as, char *buf, size_t cap)
{
	struct textout o = { buf, cap, 0 };
	/* Non-MMU mode: the space's own VMAs in the shared map. */
	struct vm_space *map = as->sys->nommu ? as->sys->shared_map : as;
	hal_spin_lock(&map->lock);
	for (struct vm_area *v = vma_of(rb_first(&map->vmas)); v; v = vma_next(v))
		if (!as->sys->nommu || v->owner == as->id)
			put_line(&o, as, v);
	hal_spin_unlock(&map->lock);
	return textout_end(&o);
}
