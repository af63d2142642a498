/*
 * layout.c - address-space layouts: loading Linux's exec snapshot into a
 * fresh mmk space, comparing mmk's layout with Linux's exit snapshot page by
 * page, and writing mmk's layout in the maps.txt format.
 *
 * Comparison: both layouts become sorted segment lists (start, end, perms,
 * name, file offset); a sweep over the union of their boundaries counts the
 * pages whose attributes differ.  Line boundaries do not matter (Linux and
 * mmk may merge differently).  [stack] (grows by faults) and the kernel's
 * special mappings are left out, as the traces README says.
 */
#include "replay_internal.h"

#include <stdlib.h>
#include <string.h>

#include <mmk/errno.h>

static bool is_special_name(const char *p)
{
	return !strcmp(p, "[vdso]") || !strcmp(p, "[vvar]") || !strcmp(p, "[vvar_vclock]") ||
	       !strcmp(p, "[vsyscall]") || !strcmp(p, "[uprobes]");
}

static bool is_file_name(const char *p) { return p[0] == '/'; }

/* ---- loading an exec snapshot ---- */

static unsigned prot_of(const struct cap_entry *e)
{
	return (unsigned)(e->prot & VM_PROT_ALL);
}

static int load_entry(struct replay *r, struct vm_space *as, const struct cap_entry *e)
{
	if (e->end > PMAP_USER_END)
		return 0; /* [vsyscall]: outside the user half; the maps writer adds it back */
	unsigned flags = e->shared ? VMA_SHARED : 0;
	struct vm_object *obj = NULL;
	const char *name = NULL;
	if (is_special_name(e->path)) {
		flags |= VMA_SPECIAL;
		name = world_intern(&r->w, e->path);
	} else if (!strcmp(e->path, "[stack]")) {
		flags |= VMA_GROWSDOWN;
		as->start_stack = e->end - 8;
	} else if (!strcmp(e->path, "[heap]")) {
		as->start_brk = e->start;
		as->brk = e->end;
	} else if (is_file_name(e->path)) {
		world_note_devino(&r->w, e->path, e->major, e->minor, e->inode);
		obj = world_file_object(&r->w, e->path, VM_OBJECT_FILE);
	} else if (e->path[0]) {
		name = world_intern(&r->w, e->path); /* [anon:...] and the like */
	}
	if (e->shared && !obj)
		obj = world_anon_object(&r->w, e->path[0] ? e->path : "/dev/zero (deleted)");
	return vm_map_special(as, e->start, e->end - e->start, prot_of(e), VM_PROT_ALL, flags, obj, e->offset, name);
}

int layout_load(struct replay *r, struct wproc *p, const struct cap_snapshot *s)
{
	struct vm_space *as = p->mm->as;
	for (size_t i = 0; i < s->n; i++) {
		int rc = load_entry(r, as, &s->e[i]);
		if (rc)
			return rc;
	}
	/* Every path seen in any snapshot gives its device and inode, so the
	 * maps writer can print them for files mapped later by mmap. */
	for (size_t k = 0; k < r->cap->nsnaps; k++)
		for (size_t i = 0; i < r->cap->snaps[k].n; i++) {
			const struct cap_entry *e = &r->cap->snaps[k].e[i];
			if (is_file_name(e->path) && e->inode)
				world_note_devino(&r->w, e->path, e->major, e->minor, e->inode);
		}
	return 0;
}

/* ---- comparing ---- */

struct seg {
	uint64_t start, end;
	char perms[5];
	const char *name;
	uint64_t offset; /* file offset of start; 0 for anonymous memory */
};

struct seglist {
	struct seg *v;
	size_t n, cap;
};

static void seg_add(struct seglist *l, uint64_t start, uint64_t end, const char *perms, const char *name,
		    uint64_t offset)
{
	if (!strcmp(name, "[stack]") || is_special_name(name))
		return;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
	}
	struct seg *s = &l->v[l->n++];
	s->start = start;
	s->end = end;
	memcpy(s->perms, perms, 4);
	s->perms[4] = 0;
	s->name = name;
	s->offset = is_file_name(name) ? offset : 0;
}

static void perms_of(const struct vm_area *v, char out[5])
{
	out[0] = (v->prot & VM_PROT_READ) ? 'r' : '-';
	out[1] = (v->prot & VM_PROT_WRITE) ? 'w' : '-';
	out[2] = (v->prot & VM_PROT_EXEC) ? 'x' : '-';
	out[3] = (v->flags & VMA_SHARED) ? 's' : 'p';
	out[4] = 0;
}

static void segs_of_space(struct vm_space *as, struct seglist *l)
{
	for (const struct vm_area *v = vm_first_from(as, 0); v; v = vm_next(v)) {
		char perms[5];
		perms_of(v, perms);
		seg_add(l, v->start, v->end, perms, vm_area_name(as, v), v->object ? v->offset : 0);
	}
}

static void segs_of_snapshot(const struct cap_snapshot *s, struct seglist *l)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct cap_entry *e = &s->e[i];
		char perms[5] = { (e->prot & 1) ? 'r' : '-', (e->prot & 2) ? 'w' : '-', (e->prot & 4) ? 'x' : '-',
				  e->shared ? 's' : 'p', 0 };
		seg_add(l, e->start, e->end, perms, e->path, e->offset);
	}
}

/* Attributes of address a in l (cursor *i advances monotonically). */
static const struct seg *seg_at(const struct seglist *l, size_t *i, uint64_t a)
{
	while (*i < l->n && l->v[*i].end <= a)
		(*i)++;
	return *i < l->n && l->v[*i].start <= a ? &l->v[*i] : NULL;
}

static uint64_t next_boundary(const struct seglist *l, size_t i, uint64_t a)
{
	if (i >= l->n)
		return UINT64_MAX;
	return l->v[i].start > a ? l->v[i].start : l->v[i].end;
}

static bool same(const struct seg *x, const struct seg *y, uint64_t a)
{
	if (!x || !y)
		return x == y;
	if (strcmp(x->perms, y->perms) || strcmp(x->name, y->name))
		return false;
	/* File offsets advance with the address; anonymous memory has none. */
	return !is_file_name(x->name) || x->offset + (a - x->start) == y->offset + (a - y->start);
}

static void describe(char *buf, size_t cap, const struct seg *s, uint64_t a)
{
	if (!s)
		snprintf(buf, cap, "unmapped");
	else
		snprintf(buf, cap, "%s %08llx %s", s->perms,
			 (unsigned long long)(is_file_name(s->name) ? s->offset + (a - s->start) : 0),
			 s->name[0] ? s->name : "(anon)");
}

uint64_t layout_compare(struct replay *r, struct wproc *p, const struct cap_snapshot *s)
{
	struct seglist ours = { 0 }, theirs = { 0 };
	segs_of_space(p->mm->as, &ours);
	segs_of_snapshot(s, &theirs);
	uint64_t bad = 0, a = 0;
	size_t i = 0, j = 0;
	unsigned shown = 0;
	while (i < ours.n || j < theirs.n) {
		const struct seg *x = seg_at(&ours, &i, a), *y = seg_at(&theirs, &j, a);
		uint64_t nb = next_boundary(&ours, i, a), nt = next_boundary(&theirs, j, a);
		uint64_t b = nb < nt ? nb : nt;
		if (b == UINT64_MAX)
			break;
		if (!same(x, y, a)) {
			bad += (b - a) >> 12;
			if (shown++ < 5) {
				char bx[300], by[300];
				describe(bx, sizeof(bx), x, a);
				describe(by, sizeof(by), y, a);
				replay_msg(r, 0, "layout of tgid %d at exit: [%#llx, %#llx) mmk: %s | Linux: %s", p->tgid,
					   (unsigned long long)a, (unsigned long long)b, bx, by);
			}
		}
		a = b;
	}
	free(ours.v);
	free(theirs.v);
	return bad;
}

/* ---- writing ---- */

void layout_write_maps(struct replay *r, struct wproc *p, const struct cap_snapshot *s, const strace_event *e)
{
	FILE *f = r->opt->maps_out;
	if (s)
		fprintf(f, "@@ exit_group tgid=%d tid=%d ts=%s exe=%s\n", p->tgid, e->tid, s->ts_text, p->exe);
	else
		fprintf(f, "@@ exit_group tgid=%d tid=%d ts=%lld.%06lld exe=%s\n", p->tgid, e->tid,
			(long long)(e->entry_ts_us / 1000000), (long long)(e->entry_ts_us % 1000000), p->exe);
	size_t need = vm_display(p->mm->as, NULL, 0);
	char *buf = malloc(need + 1);
	vm_display(p->mm->as, buf, need + 1);
	fputs(buf, f);
	free(buf);
	/* The vsyscall page lies above the user half, outside mmk's space;
	 * Linux shows it in every x86-64 process. */
	fputs("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n", f);
	fputs("@@ end\n", f);
}
