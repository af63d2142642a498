/*
 * world.c - processes, tasks, descriptors, files and address spaces of a
 * replay (see world.h).
 */
#include "world.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAMED_BUCKETS 1024

struct wnamed {
	const char *path;
	struct vm_object *obj;
	unsigned major, minor;
	uint64_t inode;
	bool has_devino;
	struct wnamed *next;
};

struct wintern {
	struct wintern *next;
	char s[];
};

static struct wintern *interned; /* hosted tool: strings live for the process */

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);
	if (!p) {
		fprintf(stderr, "mmk-sim: out of memory\n");
		exit(2);
	}
	return p;
}

const char *world_intern(struct world *w, const char *s)
{
	(void)w;
	for (struct wintern *i = interned; i; i = i->next)
		if (strcmp(i->s, s) == 0)
			return i->s;
	size_t n = strlen(s);
	struct wintern *i = xcalloc(1, sizeof(*i) + n + 1);
	memcpy(i->s, s, n + 1);
	i->next = interned;
	interned = i;
	return i->s;
}

static unsigned hash_str(const char *s)
{
	unsigned h = 2166136261u;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

void world_init(struct world *w, struct sim_system *sys)
{
	memset(w, 0, sizeof(*w));
	w->sys = sys;
	w->task_cap = 256;
	w->tasks = xcalloc(w->task_cap, sizeof(*w->tasks));
	w->files = xcalloc(NAMED_BUCKETS, sizeof(*w->files));
}

static struct wnamed *named(struct world *w, const char *path, bool create)
{
	struct wnamed *head = &w->files[hash_str(path) % NAMED_BUCKETS];
	for (struct wnamed *n = head->next; n; n = n->next)
		if (strcmp(n->path, path) == 0)
			return n;
	if (!create)
		return NULL;
	struct wnamed *n = xcalloc(1, sizeof(*n));
	n->path = world_intern(w, path);
	n->next = head->next;
	head->next = n;
	return n;
}

void world_note_devino(struct world *w, const char *path, unsigned major, unsigned minor, uint64_t inode)
{
	struct wnamed *n = named(w, path, true);
	n->major = major;
	n->minor = minor;
	n->inode = inode;
	n->has_devino = true;
	if (n->obj) {
		n->obj->dev_major = major;
		n->obj->dev_minor = minor;
		n->obj->inode = inode;
	}
}

static struct vm_object *make_object(struct world *w, const char *name, uint32_t type)
{
	struct vm_object *o;
	if (vm_object_create(&w->sys->vm, type, name, &o) != 0) {
		fprintf(stderr, "mmk-sim: no memory for a vm_object (raise --ram)\n");
		exit(2);
	}
	return o;
}

struct vm_object *world_file_object(struct world *w, const char *path, uint32_t type)
{
	struct wnamed *n = named(w, path, true);
	if (!n->obj) {
		n->obj = make_object(w, n->path, type);
		n->obj->dev_major = n->major;
		n->obj->dev_minor = n->minor;
		n->obj->inode = n->inode;
	}
	return n->obj;
}

struct vm_object *world_anon_object(struct world *w, const char *name)
{
	/* The world keeps one reference per anonymous object too, so it is
	 * released at world_free; record it under a unique key. */
	char key[64];
	static unsigned long serial;
	snprintf(key, sizeof(key), "\x01anon#%lu", ++serial);
	struct wnamed *n = named(w, key, true);
	n->obj = make_object(w, world_intern(w, name), VM_OBJECT_ANON);
	n->obj->dev_major = 0;
	n->obj->dev_minor = 1;
	return n->obj;
}

/* Keep n (for release at the end) but make it unreachable by its path. */
static void detach(struct world *w, struct wnamed *n)
{
	char key[64];
	static unsigned long serial;
	snprintf(key, sizeof(key), "\x01gone#%lu", ++serial);
	n->path = world_intern(w, key);
}

void world_unlink(struct world *w, const char *path)
{
	struct wnamed *n = named(w, path, false);
	if (!n)
		return;
	if (n->obj) {
		char *name = malloc(strlen(path) + 16);
		sprintf(name, "%s (deleted)", path);
		n->obj->name = world_intern(w, name);
		free(name);
	}
	detach(w, n);
}

void world_rename(struct world *w, const char *from, const char *to)
{
	struct wnamed *n = named(w, from, false);
	world_unlink(w, to);
	if (!n)
		return;
	struct wnamed *t = named(w, to, true);
	t->obj = n->obj;
	t->major = n->major;
	t->minor = n->minor;
	t->inode = n->inode;
	t->has_devino = n->has_devino;
	if (t->obj)
		t->obj->name = t->path;
	n->obj = NULL;
	detach(w, n);
}

/* ---- tasks and processes ---- */

static size_t task_slot(struct world *w, int tid)
{
	size_t i = (size_t)tid * 2654435761u % w->task_cap;
	while (w->tasks[i] && w->tasks[i]->tid != tid)
		i = (i + 1) % w->task_cap;
	return i;
}

struct wtask *world_task(struct world *w, int tid) { return w->tasks[task_slot(w, tid)]; }

static void grow_tasks(struct world *w)
{
	struct wtask **old = w->tasks;
	size_t cap = w->task_cap;
	w->task_cap *= 2;
	w->tasks = xcalloc(w->task_cap, sizeof(*w->tasks));
	for (size_t i = 0; i < cap; i++)
		if (old[i])
			w->tasks[task_slot(w, old[i]->tid)] = old[i];
	free(old);
}

struct wtask *world_add_task(struct world *w, int tid, struct wproc *p)
{
	if ((w->task_n + 1) * 2 > w->task_cap)
		grow_tasks(w);
	struct wtask *t = xcalloc(1, sizeof(*t));
	t->tid = tid;
	t->proc = p;
	p->live_tasks++;
	w->tasks[task_slot(w, tid)] = t;
	w->task_n++;
	return t;
}

struct wproc *world_new_proc(struct world *w, int tgid, int parent_tgid)
{
	struct wproc *p = xcalloc(1, sizeof(*p));
	p->tgid = tgid;
	p->parent_tgid = parent_tgid;
	p->next = w->procs;
	w->procs = p;
	return p;
}

/* ---- address spaces ---- */

static struct wmm *wrap_space(struct vm_space *as, bool modelled)
{
	struct wmm *mm = xcalloc(1, sizeof(*mm));
	mm->as = as;
	mm->refs = 1;
	mm->modelled = modelled;
	return mm;
}

void world_drop_mm(struct world *w, struct wproc *p)
{
	struct wmm *mm = p->mm;
	p->mm = NULL;
	p->vfork_borrowed = false;
	if (!mm || --mm->refs > 0)
		return;
	if (w->active == mm) {
		pmap_deactivate(&mm->as->pmap, 0);
		w->active = NULL;
	}
	/* SysV attachments die with the space. */
	for (struct shm_attach **a = &w->attaches; *a;) {
		if ((*a)->mm == mm) {
			struct shm_attach *dead = *a;
			*a = dead->next;
			free(dead);
		} else {
			a = &(*a)->next;
		}
	}
	vm_space_destroy(mm->as);
	free(mm);
}

int world_set_limit(struct world *w, uint64_t limit_bytes)
{
	/* The root stands for "everything": the limits are per-process caps
	 * here, not guarantees backed by RAM, so a split never runs out. */
	int rc = acct_system_init(&w->acct, &w->sys->phys, UINT64_MAX / 4);
	if (rc)
		return rc;
	rc = acct_split(acct_root(&w->acct), UINT64_MAX / 8, "pm", &w->pm);
	if (rc) {
		acct_system_fini(&w->acct);
		return rc;
	}
	w->limited = true;
	w->limit_pages = limit_bytes >> 12;
	return 0;
}

struct mmk_account *world_proc_account(struct world *w, struct wproc *p)
{
	if (!w->limited || p->acct)
		return p->acct;
	char name[ACCT_NAME_LEN];
	snprintf(name, sizeof(name), "pid %d", p->tgid);
	if (acct_split(w->pm, w->limit_pages, name, &p->acct) == 0)
		acct_get(p->acct);
	return p->acct;
}

void world_end_account(struct world *w, struct wproc *p)
{
	if (!p->acct)
		return;
	struct acct_usage u;
	acct_get_usage(p->acct, &u);
	if (u.holders == 0 && !u.dead) /* no space of another process charged to it */
		acct_destroy(p->acct);
	(void)w;
}

/* A space for p: charged to p's account under --limit. */
static int charge_space(struct world *w, struct wproc *p, struct vm_space *as)
{
	struct mmk_account *a = world_proc_account(w, p);
	return a ? vm_space_set_account(as, a) : 0;
}

int world_new_mm(struct world *w, struct wproc *p, bool modelled)
{
	struct vm_space *as;
	int rc = vm_space_create(&w->sys->vm, &as);
	if (!rc && (rc = charge_space(w, p, as)) != 0)
		vm_space_destroy(as);
	if (rc)
		return rc;
	world_drop_mm(w, p);
	p->mm = wrap_space(as, modelled);
	return 0;
}

void world_share_mm(struct wproc *child, struct wproc *parent)
{
	child->mm = parent->mm;
	child->mm->refs++;
	child->vfork_borrowed = true;
}

int world_fork_mm(struct world *w, struct wproc *child, struct wproc *parent)
{
	struct vm_space *as;
	int rc = vm_space_fork_account(parent->mm->as, world_proc_account(w, child), &as);
	if (rc)
		return rc;
	child->mm = wrap_space(as, parent->mm->modelled);
	child->mm->brk_known = parent->mm->brk_known;
	return 0;
}

void world_activate(struct world *w, struct wmm *mm)
{
	if (w->active == mm)
		return;
	if (w->active)
		pmap_deactivate(&w->active->as->pmap, 0);
	vm_space_activate(mm->as, 0);
	w->active = mm;
}

/* ---- descriptors ---- */

struct fdtable *world_new_fds(void)
{
	struct fdtable *t = xcalloc(1, sizeof(*t));
	t->refs = 1;
	return t;
}

struct fdtable *world_copy_fds(const struct fdtable *src)
{
	struct fdtable *t = xcalloc(1, sizeof(*t));
	memcpy(t, src, sizeof(*t));
	t->refs = 1;
	return t;
}

void world_drop_fds(struct fdtable *t)
{
	if (t && --t->refs == 0)
		free(t);
}

void world_close_cloexec(struct fdtable *t)
{
	for (int i = 0; i < WORLD_MAX_FDS; i++)
		if (t->used[i] && t->cloexec[i])
			t->used[i] = t->cloexec[i] = false;
}

void world_free(struct world *w)
{
	for (struct wproc *p = w->procs, *next; p; p = next) {
		next = p->next;
		world_drop_mm(w, p);
		world_drop_fds(p->fds);
		if (p->acct)
			acct_put(p->acct);
		free(p->exe);
		free(p->cwd);
		free(p);
	}
	for (size_t i = 0; i < w->task_cap; i++)
		free(w->tasks[i]);
	free(w->tasks);
	for (size_t b = 0; b < NAMED_BUCKETS; b++) {
		for (struct wnamed *n = w->files[b].next, *next; n; n = next) {
			next = n->next;
			if (n->obj)
				vm_object_release(&w->sys->vm, n->obj);
			free(n);
		}
	}
	free(w->files);
	for (struct shm_seg *s = w->segs, *next; s; s = next) {
		next = s->next;
		free(s);
	}
	for (struct shm_attach *a = w->attaches, *next; a; a = next) {
		next = a->next;
		free(a);
	}
	if (w->limited && acct_system_fini(&w->acct) != 0)
		fprintf(stderr, "mmk-sim: accounts still busy at the end of the replay\n");
	memset(w, 0, sizeof(*w));
}
