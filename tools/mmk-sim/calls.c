/*
 * calls.c - memory system calls of a trace applied to mmk, and the file
 * descriptor bookkeeping mappings need.
 *
 * Each call runs against the task's address space with the arguments the
 * program passed; where Linux chose an address (mmap without MAP_FIXED,
 * mremap that moved), the call is replayed at Linux's address with
 * MAP_FIXED_NOREPLACE / MREMAP_FIXED so a diverged layout shows up as a
 * refused call instead of silently replacing memory (traces README:
 * "Address choice").  The outcome (address or errno) is compared with
 * Linux's.
 */
#include "replay_internal.h"

#include <stdlib.h>
#include <string.h>

#include <mmk/errno.h>

struct call {
	struct replay *r;
	struct wtask *t;
	struct wproc *p;
	const strace_event *e;
	const strace_syscall *sc;
};

/* ---- argument access ---- */

static bool arg_u64(struct call *c, unsigned i, uint64_t *out)
{
	return i < c->sc->nargs && strace_arg_u64(c->sc->args[i], out) == 0;
}

static bool arg_flags(struct call *c, unsigned i, const sim_symtab *t, uint64_t *out)
{
	return i < c->sc->nargs && strace_arg_flags(c->sc->args[i], t, out) == 0;
}

static bool linux_ok(const struct call *c) { return c->sc->ret_kind == STRACE_RET_VALUE; }
static uint64_t linux_ret(const struct call *c) { return (uint64_t)c->sc->ret; }
static int linux_err(const struct call *c) { return c->sc->ret_kind == STRACE_RET_ERROR ? -c->sc->err : 0; }

static void unexplained(struct call *c, const char *why)
{
	c->r->rep->unexplained_lines++;
	replay_msg(c->r, c->e->line, "%s: %s", c->sc->name, why);
}

static void outcome(struct call *c, bool matched, const char *fmt_ours, uint64_t ours)
{
	struct replay_report *rep = c->r->rep;
	uint64_t arg0 = 0;
	arg_u64(c, 0, &arg0);
	replay_note_limit(c->r, c->p, c->sc->name, arg0, c->e->line);
	rep->calls++;
	c->p->calls++;
	if (matched) {
		rep->calls_matched++;
		c->p->calls_matched++;
		return;
	}
	char linux_txt[64];
	if (linux_ok(c))
		snprintf(linux_txt, sizeof(linux_txt), "%#llx", (unsigned long long)linux_ret(c));
	else
		snprintf(linux_txt, sizeof(linux_txt), "%s", c->sc->err_name ? c->sc->err_name : "?");
	char ours_txt[64];
	snprintf(ours_txt, sizeof(ours_txt), fmt_ours, (unsigned long long)ours);
	replay_msg(c->r, c->e->line, "%s: mmk gave %s, Linux %s", c->sc->name, ours_txt, linux_txt);
}

/* Compare an errno-style result (0 or -E) with Linux's. */
static void outcome_rc(struct call *c, int rc)
{
	bool matched = linux_ok(c) ? rc == 0 : rc == linux_err(c);
	outcome(c, matched, rc ? "%s" : "0", 0);
	if (!matched && rc)
		replay_msg(c->r, c->e->line, "  (mmk error %s)", mmk_strerror(rc));
}

static uint64_t timed_start(void) { return replay_now_ns(); }
static void timed_end(struct call *c, uint64_t t0)
{
	c->r->rep->ns_in_calls += replay_now_ns() - t0;
	c->r->rep->timed_calls++;
}

static struct vm_space *space(struct call *c) { return c->p->mm->as; }

/* ---- mmap ---- */

static bool map_backing(struct call *c, uint64_t flags, struct vm_object **obj, unsigned *max_prot)
{
	*obj = NULL;
	*max_prot = VM_PROT_ALL;
	if (flags & SIM_MAP_ANONYMOUS) {
		if ((flags & SIM_MAP_TYPE) != SIM_MAP_PRIVATE)
			*obj = world_anon_object(&c->r->w, "/dev/zero (deleted)");
		return true;
	}
	char path[4096];
	strace_fd fd;
	if (c->sc->nargs < 5 || strace_arg_fd(c->sc->args[4], &fd, path, sizeof(path) - 16) != 0 || !fd.has_path)
		return false;
	if (fd.deleted)
		strcat(path, " (deleted)");
	*obj = world_file_object(&c->r->w, path, VM_OBJECT_FILE);
	unsigned acc = 2;
	if (fd.fd >= 0 && fd.fd < WORLD_MAX_FDS && c->p->fds && c->p->fds->used[fd.fd])
		acc = c->p->fds->fd[fd.fd].accmode;
	if (acc == 1)
		*max_prot = 0; /* O_WRONLY: Linux refuses any mapping (EACCES) */
	else if ((flags & SIM_MAP_TYPE) != SIM_MAP_PRIVATE && acc == 0)
		*max_prot = VM_PROT_READ | VM_PROT_EXEC;
	return true;
}

static void do_mmap(struct call *c)
{
	uint64_t addr, len, prot, flags, off;
	if (!arg_u64(c, 0, &addr) || !arg_u64(c, 1, &len) || !arg_flags(c, 2, &sim_prot_syms, &prot) ||
	    !arg_flags(c, 3, &sim_map_syms, &flags) || !arg_u64(c, 5, &off))
		return unexplained(c, "arguments not understood");
	struct vm_object *obj;
	unsigned max_prot;
	if (!map_backing(c, flags, &obj, &max_prot)) {
		/* No file behind the descriptor: Linux answers EBADF. */
		outcome(c, c->sc->err == 9 /* EBADF */, "EBADF", 0);
		return;
	}
	unsigned mflags = (unsigned)flags;
	uint64_t hint = addr;
	if (linux_ok(c)) {
		hint = linux_ret(c);
		if (!(flags & (SIM_MAP_FIXED | SIM_MAP_FIXED_NOREPLACE)))
			mflags |= VM_MAP_FIXED_NOREPLACE;
	}
	vaddr_t out = 0;
	uint64_t t0 = timed_start();
	int rc = vm_map(space(c), hint, len, (unsigned)prot, mflags, obj, off, max_prot, &out);
	timed_end(c, t0);
	if (linux_ok(c)) {
		outcome(c, rc == 0 && out == linux_ret(c), rc ? "error" : "%#llx", rc ? 0 : out);
		if (rc)
			replay_msg(c->r, c->e->line, "  (mmk error %s)", mmk_strerror(rc));
	} else {
		if (rc == 0)
			vm_unmap(space(c), out, len); /* keep the layouts aligned */
		outcome_rc(c, rc);
	}
}

/* ---- the range calls ---- */

static void do_munmap(struct call *c)
{
	uint64_t addr, len;
	if (!arg_u64(c, 0, &addr) || !arg_u64(c, 1, &len))
		return unexplained(c, "arguments not understood");
	uint64_t t0 = timed_start();
	int rc = vm_unmap(space(c), addr, len);
	timed_end(c, t0);
	outcome_rc(c, rc);
}

static void do_mprotect(struct call *c)
{
	uint64_t addr, len, prot;
	if (!arg_u64(c, 0, &addr) || !arg_u64(c, 1, &len) || !arg_flags(c, 2, &sim_prot_syms, &prot))
		return unexplained(c, "arguments not understood");
	uint64_t t0 = timed_start();
	int rc = vm_protect(space(c), addr, len, (unsigned)prot);
	timed_end(c, t0);
	outcome_rc(c, rc);
}

static void do_brk(struct call *c)
{
	uint64_t addr;
	if (!arg_u64(c, 0, &addr))
		return unexplained(c, "arguments not understood");
	struct wmm *mm = c->p->mm;
	if (!mm->brk_known) {
		/* The first brk of an image tells where the heap starts. */
		vm_brk_init(mm->as, linux_ret(c));
		mm->brk_known = true;
		if (addr == 0) {
			outcome(c, true, "", 0);
			return;
		}
	}
	vaddr_t out;
	uint64_t t0 = timed_start();
	vm_brk(mm->as, addr, &out);
	timed_end(c, t0);
	outcome(c, out == linux_ret(c), "%#llx", out);
}

static void do_mremap(struct call *c)
{
	uint64_t old, old_len, new_len, flags, new_addr = 0;
	if (!arg_u64(c, 0, &old) || !arg_u64(c, 1, &old_len) || !arg_u64(c, 2, &new_len) ||
	    !arg_flags(c, 3, &sim_mremap_syms, &flags) || ((flags & SIM_MREMAP_FIXED) && !arg_u64(c, 4, &new_addr)))
		return unexplained(c, "arguments not understood");
	if (linux_ok(c) && linux_ret(c) != old && !(flags & SIM_MREMAP_FIXED)) {
		/* Linux moved it: follow to the same place. */
		flags |= SIM_MREMAP_FIXED | SIM_MREMAP_MAYMOVE;
		new_addr = linux_ret(c);
		const struct vm_area *v = vm_first_from(space(c), new_addr);
		uint64_t plen = (new_len + 4095) & ~4095ull;
		if (v && v->start < new_addr + plen) {
			outcome(c, false, "target %#llx busy", new_addr);
			return;
		}
	}
	vaddr_t out = 0;
	uint64_t t0 = timed_start();
	int rc = vm_remap(space(c), old, old_len, new_len, (unsigned)flags, new_addr, &out);
	timed_end(c, t0);
	if (linux_ok(c))
		outcome(c, rc == 0 && out == linux_ret(c), rc ? "error" : "%#llx", rc ? 0 : out);
	else
		outcome_rc(c, rc);
}

static void do_madvise(struct call *c)
{
	uint64_t addr, len, advice;
	if (!arg_u64(c, 0, &addr) || !arg_u64(c, 1, &len) || !arg_flags(c, 2, &sim_madv_syms, &advice))
		return unexplained(c, "arguments not understood");
	uint64_t t0 = timed_start();
	int rc = vm_madvise(space(c), addr, len, (int)advice);
	timed_end(c, t0);
	outcome_rc(c, rc);
}

static void do_msync(struct call *c)
{
	uint64_t addr, len, flags;
	if (!arg_u64(c, 0, &addr) || !arg_u64(c, 1, &len) || !arg_flags(c, 2, &sim_ms_syms, &flags))
		return unexplained(c, "arguments not understood");
	outcome_rc(c, vm_msync(space(c), addr, len, (unsigned)flags));
}

static void do_mlock(struct call *c, bool lock)
{
	uint64_t addr, len;
	if (!arg_u64(c, 0, &addr) || !arg_u64(c, 1, &len))
		return unexplained(c, "arguments not understood");
	uint64_t t0 = timed_start();
	int rc = vm_mlock(space(c), addr, len, lock);
	timed_end(c, t0);
	outcome_rc(c, rc);
}

static void do_mincore(struct call *c)
{
	uint64_t addr, len;
	if (!arg_u64(c, 0, &addr) || !arg_u64(c, 1, &len))
		return unexplained(c, "arguments not understood");
	uint64_t pages = (len + 4095) >> 12;
	uint8_t *vec = calloc(pages ? pages : 1, 1);
	int rc = vec ? vm_mincore(space(c), addr, len, vec) : -MMK_ENOMEM;
	free(vec);
	outcome_rc(c, rc);
}

/* ---- SysV shared memory ---- */

static struct shm_seg *seg_by_id(struct world *w, int id)
{
	for (struct shm_seg *s = w->segs; s; s = s->next)
		if (s->id == id)
			return s;
	return NULL;
}

static void do_shmget(struct call *c)
{
	uint64_t key = 0, size;
	if (c->sc->nargs < 2 || !arg_u64(c, 1, &size))
		return unexplained(c, "arguments not understood");
	if (strcmp(c->sc->args[0], "IPC_PRIVATE") != 0)
		arg_u64(c, 0, &key);
	if (!linux_ok(c) || seg_by_id(&c->r->w, (int)linux_ret(c)))
		return;
	struct shm_seg *s = calloc(1, sizeof(*s));
	s->id = (int)linux_ret(c);
	s->key = key;
	s->size = size;
	char name[64];
	snprintf(name, sizeof(name), "/SYSV%08llx (deleted)", (unsigned long long)key);
	s->obj = world_anon_object(&c->r->w, name);
	s->next = c->r->w.segs;
	c->r->w.segs = s;
}

static void do_shmat(struct call *c)
{
	uint64_t id, addr, flags;
	if (!arg_u64(c, 0, &id) || !arg_u64(c, 1, &addr) || !arg_flags(c, 2, &sim_shmat_syms, &flags))
		return unexplained(c, "arguments not understood");
	struct shm_seg *s = seg_by_id(&c->r->w, (int)id);
	if (!s) {
		outcome(c, c->sc->err == 22, "EINVAL", 0);
		return;
	}
	unsigned prot = (flags & 0x1000 /* SHM_RDONLY */) ? VM_PROT_READ : VM_PROT_READ | VM_PROT_WRITE;
	vaddr_t at = linux_ok(c) ? linux_ret(c) : addr, out = 0;
	int rc = vm_map(space(c), at, s->size, prot, VM_MAP_SHARED | VM_MAP_FIXED_NOREPLACE, s->obj, 0, VM_PROT_ALL,
			&out);
	if (rc == 0) {
		struct shm_attach *a = calloc(1, sizeof(*a));
		a->mm = c->p->mm;
		a->addr = out;
		a->size = s->size;
		a->next = c->r->w.attaches;
		c->r->w.attaches = a;
	}
	if (linux_ok(c))
		outcome(c, rc == 0 && out == linux_ret(c), rc ? "error" : "%#llx", out);
	else
		outcome_rc(c, rc);
}

static void do_shmdt(struct call *c)
{
	uint64_t addr;
	if (!arg_u64(c, 0, &addr))
		return unexplained(c, "arguments not understood");
	for (struct shm_attach **a = &c->r->w.attaches; *a; a = &(*a)->next) {
		if ((*a)->mm == c->p->mm && (*a)->addr == addr) {
			struct shm_attach *dead = *a;
			int rc = vm_unmap(space(c), addr, dead->size);
			*a = dead->next;
			free(dead);
			outcome_rc(c, rc);
			return;
		}
	}
	outcome_rc(c, -MMK_EINVAL);
}

static void do_prlimit(struct call *c)
{
	/* prlimit64(pid, RLIMIT_STACK, {rlim_cur=...}, old) or setrlimit. */
	bool is_set = !strcmp(c->sc->name, "setrlimit");
	unsigned res_arg = is_set ? 0 : 1, new_arg = is_set ? 1 : 2;
	if (c->sc->nargs <= new_arg || strcmp(c->sc->args[res_arg], "RLIMIT_STACK") || !linux_ok(c))
		return;
	strace_span v;
	uint64_t cur;
	const char *a = c->sc->args[new_arg];
	if (strace_field(a, "rlim_cur", &v) != 0)
		return;
	char buf[64];
	snprintf(buf, sizeof(buf), "%.*s", (int)v.len, v.p);
	if (strcmp(buf, "RLIM64_INFINITY") == 0 || strcmp(buf, "RLIM_INFINITY") == 0)
		cur = UINT64_MAX / 2;
	else if (strace_arg_u64(buf, &cur) != 0)
		return;
	if (c->p->mm)
		vm_space_set_stack(c->p->mm->as, cur & ~4095ull, c->p->mm->as->stack_guard);
}

bool replay_mm_call(struct replay *r, struct wtask *t, const strace_event *e)
{
	static const char *const mm_calls[] = { "mmap", "munmap", "mprotect", "pkey_mprotect", "brk", "mremap",
						"madvise", "msync", "mlock", "mlock2", "munlock", "mincore",
						"shmat", "shmdt", "mlockall", "munlockall", "mbind",
						"remap_file_pages", "process_madvise", NULL };
	struct call c = { r, t, t->proc, e, &e->sc };
	const char *n = e->sc.name;
	if (!strcmp(n, "shmget"))
		return do_shmget(&c), true;
	if (!strcmp(n, "prlimit64") || !strcmp(n, "setrlimit"))
		return do_prlimit(&c), true;
	size_t i = 0;
	while (mm_calls[i] && strcmp(mm_calls[i], n))
		i++;
	if (!mm_calls[i])
		return false;
	if (!c.p->mm || !c.p->mm->modelled) {
		r->rep->calls_unmodelled++;
		return true;
	}
	if (!strcmp(n, "mmap"))
		do_mmap(&c);
	else if (!strcmp(n, "munmap"))
		do_munmap(&c);
	else if (!strcmp(n, "mprotect") || !strcmp(n, "pkey_mprotect"))
		do_mprotect(&c);
	else if (!strcmp(n, "brk"))
		do_brk(&c);
	else if (!strcmp(n, "mremap"))
		do_mremap(&c);
	else if (!strcmp(n, "madvise"))
		do_madvise(&c);
	else if (!strcmp(n, "msync"))
		do_msync(&c);
	else if (!strcmp(n, "mlock") || !strcmp(n, "mlock2"))
		do_mlock(&c, true);
	else if (!strcmp(n, "munlock"))
		do_mlock(&c, false);
	else if (!strcmp(n, "mincore"))
		do_mincore(&c);
	else if (!strcmp(n, "shmat"))
		do_shmat(&c);
	else if (!strcmp(n, "shmdt"))
		do_shmdt(&c);
	else
		unexplained(&c, "call not modelled");
	return true;
}

/* ---- descriptors ---- */

static void fd_set_entry(struct fdtable *t, int64_t fd, const char *path, unsigned acc, bool cloexec)
{
	if (fd < 0 || fd >= WORLD_MAX_FDS)
		return;
	t->used[fd] = true;
	t->cloexec[fd] = cloexec;
	t->fd[fd].path = path;
	t->fd[fd].accmode = acc;
}

static void fd_dup(struct fdtable *t, int64_t from, int64_t to, bool cloexec)
{
	if (from < 0 || from >= WORLD_MAX_FDS || to < 0 || to >= WORLD_MAX_FDS || !t->used[from])
		return;
	t->fd[to] = t->fd[from];
	t->used[to] = true;
	t->cloexec[to] = cloexec;
}

static void fd_open(struct call *c, struct fdtable *t)
{
	unsigned flag_arg = !strcmp(c->sc->name, "openat") ? 2 : 1;
	uint64_t flags = 0;
	if (!strcmp(c->sc->name, "creat"))
		flags = 1; /* O_WRONLY */
	else
		arg_flags(c, flag_arg, &sim_open_syms, &flags);
	const char *path = c->sc->ret_path ? world_intern(&c->r->w, c->sc->ret_path) : "";
	fd_set_entry(t, c->sc->ret, path, (unsigned)(flags & 3), (flags & 02000000) != 0);
}

/* ---- names: cwd, unlink, rename ---- */

/* Resolve path against dir into out (PATH_MAX), folding "." and "..". */
static void resolve(const char *dir, const char *path, char *out, size_t cap)
{
	char tmp[8192];
	if (path[0] == '/' || !dir)
		snprintf(tmp, sizeof(tmp), "%s", path);
	else
		snprintf(tmp, sizeof(tmp), "%s/%s", dir, path);
	size_t n = 0;
	out[0] = '\0';
	for (char *save = NULL, *part = strtok_r(tmp, "/", &save); part; part = strtok_r(NULL, "/", &save)) {
		if (!strcmp(part, "."))
			continue;
		if (!strcmp(part, "..")) {
			while (n > 0 && out[--n] != '/')
				;
			out[n] = '\0';
			continue;
		}
		n += (size_t)snprintf(out + n, cap - n, "/%s", part);
		if (n >= cap)
			n = cap - 1;
	}
	if (n == 0)
		snprintf(out, cap, "/");
}

/* The directory an *at call's dirfd argument names, if annotated. */
static bool dir_arg(struct call *c, unsigned i, char *buf, size_t cap)
{
	strace_fd fd;
	return i < c->sc->nargs && strace_arg_fd(c->sc->args[i], &fd, buf, cap) == 0 && fd.has_path;
}

static void note_cwd(struct call *c)
{
	char buf[4096];
	if (c->sc->nargs && !strncmp(c->sc->args[0], "AT_FDCWD<", 9) && dir_arg(c, 0, buf, sizeof(buf))) {
		free(c->p->cwd);
		c->p->cwd = strdup(buf);
	}
}

/* Absolute name of path argument i, relative to dirfd argument d (or cwd). */
static bool path_arg(struct call *c, int d, unsigned i, char *out, size_t cap)
{
	char path[4096], dir[4096];
	if (i >= c->sc->nargs || strace_arg_string(c->sc->args[i], path, sizeof(path), NULL, NULL) != 0)
		return false;
	const char *base = c->p->cwd;
	if (d >= 0 && dir_arg(c, (unsigned)d, dir, sizeof(dir)))
		base = dir;
	resolve(base, path, out, cap);
	return true;
}

static void name_call(struct call *c)
{
	const char *n = c->sc->name;
	char a[8192], b[8192];
	if (!strcmp(n, "unlink") && path_arg(c, -1, 0, a, sizeof(a)))
		world_unlink(&c->r->w, a);
	else if (!strcmp(n, "unlinkat") && path_arg(c, 0, 1, a, sizeof(a)))
		world_unlink(&c->r->w, a);
	else if (!strcmp(n, "rename") && path_arg(c, -1, 0, a, sizeof(a)) && path_arg(c, -1, 1, b, sizeof(b)))
		world_rename(&c->r->w, a, b);
	else if ((!strcmp(n, "renameat") || !strcmp(n, "renameat2")) && path_arg(c, 0, 1, a, sizeof(a)) &&
		 path_arg(c, 2, 3, b, sizeof(b)))
		world_rename(&c->r->w, a, b);
	else if (!strcmp(n, "chdir") && path_arg(c, -1, 0, a, sizeof(a))) {
		free(c->p->cwd);
		c->p->cwd = strdup(a);
	}
}

void replay_fd_call(struct replay *r, struct wtask *t, const strace_event *e)
{
	struct call c = { r, t, t->proc, e, &e->sc };
	struct fdtable *ft = t->proc->fds;
	const char *n = e->sc.name;
	if (!linux_ok(&c))
		return;
	note_cwd(&c);
	name_call(&c);
	if (!ft)
		return;
	if (!strcmp(n, "openat") || !strcmp(n, "open") || !strcmp(n, "creat")) {
		fd_open(&c, ft);
	} else if (!strcmp(n, "memfd_create")) {
		uint64_t flags = 0;
		arg_flags(&c, 1, &sim_mfd_syms, &flags);
		fd_set_entry(ft, e->sc.ret, e->sc.ret_path ? world_intern(&r->w, e->sc.ret_path) : "", 2, flags & 1);
	} else if (!strcmp(n, "close")) {
		strace_fd fd;
		char buf[4096];
		if (e->sc.nargs && strace_arg_fd(e->sc.args[0], &fd, buf, sizeof(buf)) == 0 && fd.fd >= 0 && fd.fd < WORLD_MAX_FDS)
			ft->used[fd.fd] = false;
	} else if (!strcmp(n, "dup") || !strcmp(n, "dup2") || !strcmp(n, "dup3")) {
		strace_fd fd;
		char buf[4096];
		if (e->sc.nargs && strace_arg_fd(e->sc.args[0], &fd, buf, sizeof(buf)) == 0) {
			uint64_t flags = 0;
			if (!strcmp(n, "dup3"))
				arg_flags(&c, 2, &sim_open_syms, &flags);
			fd_dup(ft, fd.fd, e->sc.ret, (flags & 02000000) != 0);
		}
	} else if (!strcmp(n, "fcntl") && e->sc.nargs >= 2) {
		strace_fd fd;
		char buf[4096];
		if (strace_arg_fd(e->sc.args[0], &fd, buf, sizeof(buf)) != 0)
			return;
		if (!strcmp(e->sc.args[1], "F_DUPFD") || !strcmp(e->sc.args[1], "F_DUPFD_CLOEXEC"))
			fd_dup(ft, fd.fd, e->sc.ret, !strcmp(e->sc.args[1], "F_DUPFD_CLOEXEC"));
		else if (!strcmp(e->sc.args[1], "F_SETFD") && fd.fd >= 0 && fd.fd < WORLD_MAX_FDS && e->sc.nargs >= 3)
			ft->cloexec[fd.fd] = strstr(e->sc.args[2], "FD_CLOEXEC") != NULL;
	} else if (e->sc.ret_path) {
		/* Any other call returning a descriptor (socket, pipe end...). */
		fd_set_entry(ft, e->sc.ret, world_intern(&r->w, e->sc.ret_path), 2, false);
	}
}
