/*
 * lackey_replay.c - replay a valgrind lackey page-reference capture against
 * mmk (contract: lackey_replay.h).
 *
 * What.  A lackey capture (traces/README.md, "lackey_*: page-reference
 * strings") is the page-reference string of one program run under valgrind:
 * every instruction fetch, load, store and modify reduced to the page it
 * touched, with the program's own system calls inline at their place.  The
 * README states that starting from valgrind's "Memory layout at client
 * startup" table and applying the memory calls in order, every reference
 * hits a mapped page whose protection allows it.  This file checks that
 * claim against mmk: one vm_space, one simulated CPU, every reference a real
 * access through the software MMU, so demand paging (faults, zero fills,
 * stack growth) happens exactly where the core decides it should.
 *
 * How.
 *  1. Layout: the client rows (file/anon/shm) of the startup table become
 *     VMAs with vm_map_special, one vm_object per path.  Valgrind's own rows
 *     (FILE/ANON) and reservations (RSVN) are not the program's memory and
 *     stay out.  The anon row just above the SmUpper reservation is the
 *     client stack: valgrind lets it grow down through that reservation
 *     without a system call, so it becomes a growsdown VMA whose
 *     stack_limit reaches the reservation's bottom.
 *  2. References (pages.txt, streamed by lackey_iter, never loaded into an
 *     array): I = exec, R = read, W = write, M = read then write, each by
 *     sim_access on CPU 0.  A refused access is a mismatch with the capture.
 *  3. Memory calls: mmap/munmap/mprotect/mremap/madvise go to the vm_* call
 *     of the same name; the kernel's (here valgrind's) choice of address is
 *     authoritative, so an mmap is replayed at its returned address with
 *     MAP_FIXED_NOREPLACE (a success there proves the range was free in mmk
 *     too) and a moving mremap with MREMAP_FIXED.  brk is emulated by
 *     valgrind in a segment of its own; its results are taken as given:
 *     [start_brk, round_up(brk)) is kept mapped read/write.  Each outcome
 *     is compared with the recorded Success(value)/Failure(errno).
 *  4. File identity: mmap's fd argument names no file, so openat/open/dup/
 *     close keep an fd -> path table (openat's path is in arg_str); a file
 *     mapping uses the object of that path, or "fd:N" when the open was not
 *     seen.  The open mode gives max_prot (a shared mapping of a read-only
 *     file may never become writable).
 *  5. Measurements: faults are the space's resolved-fault counter
 *     (vm_space_get_stats) minus its value after loading; resident memory
 *     only grows by faults and only shrinks in system calls, so sampling it
 *     before every call and at the end gives the exact peak.  The timeline
 *     samples every 1/20 of the access records (counted up front: one
 *     memchr pass over the text).
 *
 * Sources: traces/README.md (format, reduction rules, valgrind's layout),
 * valgrind's aspacem segment kinds (coregrind/m_aspacemgr), Linux
 * mm/mmap.c for what mmap's max protection is.
 */
#include "lackey_replay.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mmk/errno.h>
#include <mmk/kmem.h>
#include <mmk/vm.h>

#include "lackey_parse.h"
#include "sim.h"

enum {
	LK_SAMPLES = 20,    /* timeline points over the run */
	LK_MAX_REPORTS = 20 /* refusals and mismatches printed one by one */
};

/* Linux open(2)/fcntl(2) values as they appear in the records (the capture
 * is x86-64 Linux whatever the host is). */
#define LX_O_ACCMODE 3u
#define LX_O_RDWR 2u
#define LX_O_WRONLY 1u
#define LX_F_DUPFD 0u
#define LX_F_DUPFD_CLOEXEC 1030u
#define LX_MAX_FD (1u << 20) /* beyond this an fd is not worth a table slot */

struct lk_sample {
	uint64_t records, resident_bytes, faults;
};

struct lk_obj {
	char *name; /* owned; the object's name points here */
	struct vm_object *obj;
};

struct lk_fd {
	char *path; /* NULL: slot closed */
	unsigned oflags;
};

struct lk {
	struct sim_system *s;
	struct vm_space *as;
	FILE *log; /* refusals and mismatches */
	unsigned reports;
	struct lk_obj *objs;
	size_t nobjs, capobjs;
	struct lk_fd *fds;
	size_t nfds;
	bool brk_known;
	vaddr_t brk; /* the break as recorded */
	uint64_t faults0;
	uint64_t accesses, refused, syscalls, matched, unexplained;
	uint64_t resident_peak;
	uint64_t sample_every, next_sample;
	struct lk_sample tl[LK_SAMPLES + 2];
	size_t ntl;
};

/* ---- small helpers ---- */

static vaddr_t page_up(uint64_t v) { return (v + MMK_PAGE_SIZE - 1) & ~(uint64_t)(MMK_PAGE_SIZE - 1); }

static void report(struct lk *l, uint32_t line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void report(struct lk *l, uint32_t line, const char *fmt, ...)
{
	if (l->reports++ >= LK_MAX_REPORTS)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(l->log, "pages.txt:%u: ", line);
	vfprintf(l->log, fmt, ap);
	fputc('\n', l->log);
	va_end(ap);
}

static struct vm_space_stats space_stats(struct lk *l)
{
	struct vm_space_stats st;
	vm_space_get_stats(l->as, &st);
	return st;
}

static void note_resident(struct lk *l)
{
	uint64_t r = space_stats(l).resident_bytes;
	if (r > l->resident_peak)
		l->resident_peak = r;
}

/* ---- objects: one per path, released at the end ---- */

static struct vm_object *object_for(struct lk *l, uint32_t type, const char *name)
{
	for (size_t i = 0; i < l->nobjs; i++)
		if (l->objs[i].obj->type == type && !strcmp(l->objs[i].name, name))
			return l->objs[i].obj;
	if (l->nobjs == l->capobjs) {
		size_t cap = l->capobjs ? 2 * l->capobjs : 32;
		struct lk_obj *v = realloc(l->objs, cap * sizeof(*v));
		if (!v)
			return NULL;
		l->objs = v;
		l->capobjs = cap;
	}
	char *copy = strdup(name);
	struct vm_object *obj;
	if (!copy || vm_object_create(&l->s->vm, type, copy, &obj)) {
		free(copy);
		return NULL;
	}
	l->objs[l->nobjs++] = (struct lk_obj){ copy, obj };
	return obj;
}

static void objects_release(struct lk *l)
{
	for (size_t i = 0; i < l->nobjs; i++) {
		vm_object_release(&l->s->vm, l->objs[i].obj);
		free(l->objs[i].name);
	}
	free(l->objs);
	l->objs = NULL;
	l->nobjs = l->capobjs = 0;
}

/* ---- the fd table (file identity for mmap) ---- */

static struct lk_fd *fd_slot(struct lk *l, uint64_t fd, bool grow)
{
	if (fd >= LX_MAX_FD)
		return NULL;
	if (fd >= l->nfds) {
		if (!grow)
			return NULL;
		size_t n = (size_t)fd + 16;
		struct lk_fd *v = realloc(l->fds, n * sizeof(*v));
		if (!v)
			return NULL;
		memset(v + l->nfds, 0, (n - l->nfds) * sizeof(*v));
		l->fds = v;
		l->nfds = n;
	}
	return &l->fds[fd];
}

static void fd_close(struct lk *l, uint64_t fd)
{
	struct lk_fd *f = fd_slot(l, fd, false);
	if (f) {
		free(f->path);
		f->path = NULL;
	}
}

static void fd_open(struct lk *l, uint64_t fd, const char *path, unsigned oflags)
{
	fd_close(l, fd);
	struct lk_fd *f = fd_slot(l, fd, true);
	if (f && path) {
		f->path = strdup(path);
		f->oflags = oflags;
	}
}

static void fd_dup(struct lk *l, uint64_t from, uint64_t to)
{
	struct lk_fd *f = fd_slot(l, from, false);
	if (f && f->path && from != to) {
		char *p = strdup(f->path); /* fd_open frees the target slot first */
		fd_open(l, to, p, f->oflags);
		free(p);
	}
}

static void fds_free(struct lk *l)
{
	for (size_t i = 0; i < l->nfds; i++)
		free(l->fds[i].path);
	free(l->fds);
	l->fds = NULL;
	l->nfds = 0;
}

/* The non-memory calls only keep the fd table current; they are not counted. */
static void track_fds(struct lk *l, const lackey_syscall *sc)
{
	if (sc->result != LACKEY_SUCCESS)
		return;
	const char *n = sc->name;
	if (!strcmp(n, "sys_openat") && sc->nargs >= 3)
		fd_open(l, sc->value, sc->arg_str[1], (unsigned)sc->args[2]);
	else if (!strcmp(n, "sys_open") && sc->nargs >= 2)
		fd_open(l, sc->value, sc->arg_str[0], (unsigned)sc->args[1]);
	else if (!strcmp(n, "sys_creat") && sc->nargs >= 1)
		fd_open(l, sc->value, sc->arg_str[0], LX_O_WRONLY);
	else if (!strcmp(n, "sys_memfd_create") && sc->nargs >= 1 && sc->arg_str[0]) {
		char buf[300];
		snprintf(buf, sizeof(buf), "/memfd:%s", sc->arg_str[0]);
		fd_open(l, sc->value, buf, LX_O_RDWR);
	} else if (!strcmp(n, "sys_close") && sc->nargs >= 1)
		fd_close(l, sc->args[0]);
	else if (!strcmp(n, "sys_dup") && sc->nargs >= 1)
		fd_dup(l, sc->args[0], sc->value);
	else if ((!strcmp(n, "sys_dup2") || !strcmp(n, "sys_dup3")) && sc->nargs >= 2)
		fd_dup(l, sc->args[0], sc->value);
	else if (!strcmp(n, "sys_fcntl") && sc->nargs >= 2 &&
		 (sc->args[1] == LX_F_DUPFD || sc->args[1] == LX_F_DUPFD_CLOEXEC))
		fd_dup(l, sc->args[0], sc->value);
}

/* ---- loading the startup layout ---- */

/* The client stack: the anon row starting right above SmUpper, or NULL. */
static const vg_segment *find_stack(const vg_layout *lay, const vg_segment **rsvn)
{
	for (size_t i = 0; i < lay->n; i++) {
		const vg_segment *r = &lay->segs[i];
		if (r->kind != VG_SEG_RESERVATION || !r->rsvn || strcmp(r->rsvn, "SmUpper"))
			continue;
		for (size_t j = 0; j < lay->n; j++)
			if (lay->segs[j].kind == VG_SEG_ANON_CLIENT && lay->segs[j].start == r->last + 1) {
				*rsvn = r;
				return &lay->segs[j];
			}
	}
	return NULL;
}

static struct vm_object *segment_object(struct lk *l, const vg_segment *g)
{
	char buf[80];
	const char *name = g->path;
	if (!name) {
		snprintf(buf, sizeof(buf), "dev:%llx:ino:%llu", (unsigned long long)g->dev,
			 (unsigned long long)g->inode);
		name = buf;
	}
	if (g->kind == VG_SEG_FILE_CLIENT)
		return object_for(l, VM_OBJECT_FILE, name);
	if (g->kind == VG_SEG_SHM_CLIENT)
		return object_for(l, VM_OBJECT_ANON, g->path ? g->path : "shm");
	return NULL;
}

static int load_segment(struct lk *l, const vg_segment *g, bool stack)
{
	struct vm_object *obj = segment_object(l, g);
	bool shared = g->kind == VG_SEG_SHM_CLIENT;
	if (g->kind != VG_SEG_ANON_CLIENT && !obj)
		return -MMK_ENOMEM;
	unsigned flags = (shared ? VMA_SHARED : 0) | (stack ? VMA_GROWSDOWN : 0);
	return vm_map_special(l->as, g->start, g->last - g->start + 1, g->prot & VM_PROT_ALL, VM_PROT_ALL, flags,
			      obj, obj ? g->offset : 0, NULL);
}

static int load_layout(struct lk *l, const vg_layout *lay)
{
	const vg_segment *rsvn = NULL;
	const vg_segment *stack = find_stack(lay, &rsvn);
	for (size_t i = 0; i < lay->n; i++) {
		const vg_segment *g = &lay->segs[i];
		if (!g->client)
			continue;
		int rc = load_segment(l, g, g == stack);
		if (rc) {
			fprintf(stderr, "lackey: debug.log:%u: client segment 0x%llx-0x%llx: %s\n", g->line,
				(unsigned long long)g->start, (unsigned long long)g->last, mmk_strerror(rc));
			return rc;
		}
	}
	if (stack) {
		/* Valgrind grows the stack through the whole reservation; nothing
		 * of the client can sit inside it, so the reservation itself is
		 * the guard and mmk's guard gap shrinks to a page. */
		uint64_t reach = stack->last + 1 - rsvn->start;
		vm_space_set_stack(l->as, reach > VM_DEFAULT_STACK_LIMIT ? reach : VM_DEFAULT_STACK_LIMIT,
				   MMK_PAGE_SIZE);
		l->as->start_stack = stack->last + 1 - 8;
	}
	return 0;
}

/* ---- memory calls ---- */

/* Recorded outcome of a call returning 0 or -errno in mmk. */
static bool same_status(const lackey_syscall *sc, int rc)
{
	if (sc->result == LACKEY_SUCCESS)
		return rc == 0 && sc->value == 0;
	return rc == -(int)sc->value;
}

/* What mprotect may later grant a file mapping (Linux mm/mmap.c: a private
 * mapping may always become writable, a shared one only on a file opened
 * read-write). */
static unsigned file_max_prot(const struct lk_fd *f, unsigned flags)
{
	if (!f)
		return VM_PROT_ALL;
	unsigned max = VM_PROT_READ | VM_PROT_EXEC;
	if ((flags & VM_MAP_TYPE) == VM_MAP_PRIVATE || (f->oflags & LX_O_ACCMODE) == LX_O_RDWR)
		max |= VM_PROT_WRITE;
	return max;
}

/* The object an mmap maps and its max_prot; false when out of memory. */
static bool mmap_object(struct lk *l, const lackey_syscall *sc, struct vm_object **obj, unsigned *max,
			bool *temporary)
{
	unsigned flags = (unsigned)sc->args[3];
	*obj = NULL;
	*max = VM_PROT_ALL;
	*temporary = false;
	if (flags & VM_MAP_ANONYMOUS) {
		if ((flags & VM_MAP_TYPE) == VM_MAP_PRIVATE)
			return true;
		/* Shared anonymous memory is an object of its own, held by its
		 * VMAs only once mapped. */
		*temporary = true;
		return vm_object_create(&l->s->vm, VM_OBJECT_ANON, "/dev/zero (deleted)", obj) == 0;
	}
	const struct lk_fd *f = fd_slot(l, sc->args[4], false);
	if (f && !f->path)
		f = NULL;
	char buf[32];
	snprintf(buf, sizeof(buf), "fd:%llu", (unsigned long long)sc->args[4]);
	*obj = object_for(l, VM_OBJECT_FILE, f ? f->path : buf);
	*max = file_max_prot(f, flags);
	return *obj != NULL;
}

static bool replay_mmap(struct lk *l, const lackey_syscall *sc)
{
	if (sc->nargs < 6)
		return false;
	unsigned flags = (unsigned)sc->args[3];
	struct vm_object *obj;
	unsigned max;
	bool temporary;
	if (!mmap_object(l, sc, &obj, &max, &temporary))
		return false;
	vaddr_t hint = sc->args[0], got = 0;
	bool ok = sc->result == LACKEY_SUCCESS;
	if (ok && !(flags & VM_MAP_FIXED)) {
		hint = sc->value; /* the kernel's choice, which must be free in mmk too */
		flags |= VM_MAP_FIXED_NOREPLACE;
	}
	int rc = vm_map(l->as, hint, sc->args[1], (unsigned)sc->args[2], flags, obj, sc->args[5], max, &got);
	if (temporary)
		vm_object_release(&l->s->vm, obj);
	if (ok)
		return rc == 0 && got == sc->value;
	if (rc == 0 && !(flags & VM_MAP_FIXED))
		vm_unmap(l->as, got, sc->args[1]); /* keep the layout the capture's */
	return rc == -(int)sc->value;
}

static bool replay_mremap(struct lk *l, const lackey_syscall *sc)
{
	if (sc->nargs < 4)
		return false;
	unsigned flags = (unsigned)sc->args[3];
	vaddr_t target = sc->nargs > 4 ? sc->args[4] : 0, got = 0;
	bool ok = sc->result == LACKEY_SUCCESS;
	if (ok && (flags & VM_MREMAP_MAYMOVE) && !(flags & VM_MREMAP_FIXED) && sc->value != sc->args[0]) {
		flags |= VM_MREMAP_FIXED; /* moved: to where the kernel put it */
		target = sc->value;
	}
	int rc = vm_remap(l->as, sc->args[0], sc->args[1], sc->args[2], flags, target, &got);
	if (ok)
		return rc == 0 && got == sc->value;
	return rc == -(int)sc->value;
}

/* Move the mapped heap top from round_up(old) to round_up(new). */
static bool brk_move(struct lk *l, vaddr_t old, vaddr_t new)
{
	vaddr_t lo = page_up(old), hi = page_up(new), got;
	if (hi > lo)
		return vm_map(l->as, lo, hi - lo, VM_PROT_READ | VM_PROT_WRITE,
			      VM_MAP_PRIVATE | VM_MAP_ANONYMOUS | VM_MAP_FIXED, NULL, 0, VM_PROT_ALL, &got) == 0;
	if (hi < lo)
		return vm_unmap(l->as, hi, lo - hi) == 0;
	return true;
}

/*
 * Valgrind's brk is its own emulation (a segment near the first brk(0)
 * result), so its answers are taken as given: the first result is the heap
 * start; a result equal to the request moves the break; one equal to the
 * old break is a refusal, which Linux allows for any request.
 */
static bool replay_brk(struct lk *l, const lackey_syscall *sc)
{
	if (sc->nargs < 1 || sc->result != LACKEY_SUCCESS)
		return false;
	vaddr_t want = sc->args[0], ret = sc->value;
	if (!l->brk_known) {
		vm_brk_init(l->as, ret);
		l->brk_known = true;
		l->brk = ret;
		return want == 0 || want == ret;
	}
	bool consistent = ret == want || ret == l->brk;
	if (ret < l->as->start_brk)
		return false;
	bool moved = brk_move(l, l->brk, ret);
	l->brk = ret;
	l->as->brk = ret; /* so vm_display names [heap] as Linux would */
	return consistent && moved;
}

static bool replay_memory_call(struct lk *l, const lackey_syscall *sc, bool *counted)
{
	const char *n = sc->name;
	*counted = true;
	if (!strcmp(n, "sys_mmap"))
		return replay_mmap(l, sc);
	if (!strcmp(n, "sys_munmap"))
		return sc->nargs >= 2 && same_status(sc, vm_unmap(l->as, sc->args[0], sc->args[1]));
	if (!strcmp(n, "sys_mprotect"))
		return sc->nargs >= 3 &&
		       same_status(sc, vm_protect(l->as, sc->args[0], sc->args[1], (unsigned)sc->args[2]));
	if (!strcmp(n, "sys_madvise"))
		return sc->nargs >= 3 &&
		       same_status(sc, vm_madvise(l->as, sc->args[0], sc->args[1], (int)sc->args[2]));
	if (!strcmp(n, "sys_mremap"))
		return replay_mremap(l, sc);
	if (!strcmp(n, "sys_brk"))
		return replay_brk(l, sc);
	*counted = false;
	return true;
}

static void describe_call(const lackey_syscall *sc, char *buf, size_t cap)
{
	int k = snprintf(buf, cap, "%s(", sc->name);
	for (uint32_t i = 0; i < sc->nargs && k > 0 && (size_t)k < cap; i++)
		k += snprintf(buf + k, cap - (size_t)k, "%s0x%llx", i ? ", " : "", (unsigned long long)sc->args[i]);
	if (k > 0 && (size_t)k < cap)
		snprintf(buf + k, cap - (size_t)k, ") = %s(0x%llx)",
			 sc->result == LACKEY_SUCCESS ? "Success" : "Failure", (unsigned long long)sc->value);
}

static void replay_syscall(struct lk *l, const lackey_record *rec)
{
	const lackey_syscall *sc = &rec->sc;
	note_resident(l); /* the peak: resident memory only shrinks in calls */
	bool counted;
	bool matched = replay_memory_call(l, sc, &counted);
	if (!counted) {
		track_fds(l, sc);
		return;
	}
	l->syscalls++;
	if (matched) {
		l->matched++;
		return;
	}
	char buf[256];
	describe_call(sc, buf, sizeof(buf));
	report(l, rec->line, "%s: mmk's outcome differs", buf);
}

/* ---- accesses and the timeline ---- */

static unsigned access_kinds(char k, unsigned out[2])
{
	switch (k) {
	case 'I':
		out[0] = PMAP_ACCESS_EXEC;
		return 1;
	case 'R':
		out[0] = PMAP_ACCESS_READ;
		return 1;
	case 'W':
		out[0] = PMAP_ACCESS_WRITE;
		return 1;
	case 'M': /* a load and a store of one location */
		out[0] = PMAP_ACCESS_READ;
		out[1] = PMAP_ACCESS_WRITE;
		return 2;
	default:
		return 0;
	}
}

static void take_sample(struct lk *l)
{
	struct vm_space_stats st = space_stats(l);
	if (st.resident_bytes > l->resident_peak)
		l->resident_peak = st.resident_bytes;
	if (l->ntl < sizeof(l->tl) / sizeof(l->tl[0]))
		l->tl[l->ntl++] = (struct lk_sample){ l->accesses, st.resident_bytes, st.faults - l->faults0 };
}

static void refusal(struct lk *l, const lackey_record *rec, int rc)
{
	l->refused++;
	const struct vm_area *v = vm_search(l->as, rec->page);
	char where[64] = "no mapping";
	if (v)
		snprintf(where, sizeof(where), "in 0x%llx-0x%llx %c%c%c", (unsigned long long)v->start,
			 (unsigned long long)v->end, v->prot & VM_PROT_READ ? 'r' : '-',
			 v->prot & VM_PROT_WRITE ? 'w' : '-', v->prot & VM_PROT_EXEC ? 'x' : '-');
	report(l, rec->line, "%c 0x%llx refused: %s (%s)", rec->access, (unsigned long long)rec->page,
	       mmk_strerror(rc), where);
}

static void replay_access(struct lk *l, const lackey_record *rec)
{
	unsigned kinds[2];
	unsigned n = access_kinds(rec->access, kinds);
	if (n == 0) {
		l->unexplained++;
		return;
	}
	l->accesses++;
	for (unsigned i = 0; i < n; i++) {
		int rc = sim_access(l->s->machine, 0, rec->page, kinds[i], true, NULL);
		if (rc) {
			refusal(l, rec, rc);
			break;
		}
	}
	if (l->accesses == l->next_sample) {
		take_sample(l);
		l->next_sample += l->sample_every;
	}
}

/* Access lines in the text ("I 401a000" ...), for the timeline's step. */
static uint64_t count_access_lines(const char *text, size_t len)
{
	uint64_t n = 0;
	for (const char *p = text, *e = text + len; p < e;) {
		if (e - p >= 2 && p[1] == ' ' && (p[0] == 'I' || p[0] == 'R' || p[0] == 'W' || p[0] == 'M'))
			n++;
		const char *nl = memchr(p, '\n', (size_t)(e - p));
		p = nl ? nl + 1 : e;
	}
	return n;
}

/* 0 at the end of the text, -MMK_ENOMEM from the parser. */
static int replay_stream(struct lk *l, lackey_iter *it)
{
	lackey_record rec;
	int rc;
	while ((rc = lackey_next(it, &rec)) == 1) {
		if (rec.kind == LACKEY_ACCESS)
			replay_access(l, &rec);
		else
			replay_syscall(l, &rec);
	}
	note_resident(l);
	if (l->ntl == 0 || l->tl[l->ntl - 1].records != l->accesses)
		take_sample(l);
	return rc;
}

/* ---- reports ---- */

static void write_text(const struct lk *l, FILE *out, const char *dir, const lackey_summary *sum)
{
	fprintf(out, "lackey replay of %s\n", dir);
	fprintf(out, "  accesses            %llu", (unsigned long long)l->accesses);
	if (sum->present)
		fprintf(out, " (capture says %llu records)", (unsigned long long)sum->records);
	fprintf(out, "\n  faults              %llu\n", (unsigned long long)(l->tl[l->ntl - 1].faults));
	fprintf(out, "  accesses refused    %llu\n", (unsigned long long)l->refused);
	fprintf(out, "  memory calls        %llu, %llu matched\n", (unsigned long long)l->syscalls,
		(unsigned long long)l->matched);
	fprintf(out, "  unexplained lines   %llu\n", (unsigned long long)l->unexplained);
	fprintf(out, "  resident peak       %llu KiB\n", (unsigned long long)(l->resident_peak >> 10));
	fprintf(out, "  %12s %14s %10s\n", "records", "resident KiB", "faults");
	for (size_t i = 0; i < l->ntl; i++)
		fprintf(out, "  %12llu %14llu %10llu\n", (unsigned long long)l->tl[i].records,
			(unsigned long long)(l->tl[i].resident_bytes >> 10), (unsigned long long)l->tl[i].faults);
}

static json_t *json_u64(uint64_t v) { return json_integer((json_int_t)v); }

static int write_json(const struct lk *l, const char *path)
{
	json_t *root = json_object(), *tl = json_array();
	if (!root || !tl) {
		json_decref(root);
		json_decref(tl);
		return -1;
	}
	json_object_set_new(root, "accesses", json_u64(l->accesses));
	json_object_set_new(root, "faults", json_u64(l->tl[l->ntl - 1].faults));
	json_object_set_new(root, "accesses_refused", json_u64(l->refused));
	json_object_set_new(root, "syscalls", json_u64(l->syscalls));
	json_object_set_new(root, "syscalls_matched", json_u64(l->matched));
	json_object_set_new(root, "unexplained_lines", json_u64(l->unexplained));
	json_object_set_new(root, "resident_bytes_peak", json_u64(l->resident_peak));
	for (size_t i = 0; i < l->ntl; i++) {
		json_t *p = json_object();
		json_object_set_new(p, "records", json_u64(l->tl[i].records));
		json_object_set_new(p, "resident_bytes", json_u64(l->tl[i].resident_bytes));
		json_object_set_new(p, "faults", json_u64(l->tl[i].faults));
		json_array_append_new(tl, p);
	}
	json_object_set_new(root, "timeline", tl);
	int rc = json_dump_file(root, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	return rc;
}

/* ---- the driver ---- */

struct lk_input {
	char *pages;
	size_t npages;
	vg_debuglog dlog;
	const vg_layout *startup;
};

/* 0, or 2 with a message naming the file. */
static int read_input(const char *dir, struct lk_input *in)
{
	char err[512], path[4096];
	memset(in, 0, sizeof(*in));
	if (zread_capture(dir, "pages.txt", &in->pages, &in->npages, err, sizeof(err))) {
		fprintf(stderr, "lackey: %s\n", err);
		return 2;
	}
	snprintf(path, sizeof(path), "%s/debug.log.zst", dir);
	if (access(path, R_OK) != 0)
		snprintf(path, sizeof(path), "%s/debug.log", dir);
	if (vg_debuglog_parse_file(path, &in->dlog, err, sizeof(err))) {
		fprintf(stderr, "lackey: %s\n", err);
		return 2;
	}
	in->startup = vg_debuglog_find(&in->dlog, "client startup");
	if (!in->startup) {
		fprintf(stderr, "lackey: %s: no \"Memory layout at client startup\" table\n", path);
		return 2;
	}
	return 0;
}

static void free_input(struct lk_input *in)
{
	free(in->pages);
	vg_debuglog_free(&in->dlog);
}

/* Lines the parsers could not understand: counted as unexplained. */
static void report_problems(struct lk *l, const char *file, const sim_problems *p)
{
	l->unexplained += p->n + p->dropped;
	for (size_t i = 0; i < p->n && i < LK_MAX_REPORTS; i++)
		fprintf(l->log, "%s:%u: %s\n", file, p->v[i].line, p->v[i].reason);
}

/* Everything mmk-side goes: space, objects, and the caches' empty slabs, so
 * the caller's free frame count is back where it was. */
static void teardown(struct lk *l)
{
	if (l->as) {
		pmap_deactivate(&l->as->pmap, 0);
		vm_space_destroy(l->as);
		l->as = NULL;
	}
	objects_release(l);
	fds_free(l);
	vm_system_reap(&l->s->vm);
}

static int run(struct lk *l, const struct lk_input *in, lackey_iter *it)
{
	int rc = vm_space_create(&l->s->vm, &l->as);
	if (rc) {
		fprintf(stderr, "lackey: cannot create an address space: %s\n", mmk_strerror(rc));
		return rc;
	}
	rc = load_layout(l, in->startup);
	if (rc)
		return rc;
	vm_space_activate(l->as, 0);
	l->faults0 = space_stats(l).faults;
	uint64_t total = count_access_lines(in->pages, in->npages);
	l->sample_every = total / LK_SAMPLES + (total % LK_SAMPLES != 0);
	if (l->sample_every == 0)
		l->sample_every = 1;
	l->next_sample = l->sample_every;
	rc = replay_stream(l, it);
	if (rc)
		fprintf(stderr, "lackey: reading pages.txt: %s\n", mmk_strerror(rc));
	return rc;
}

int lackey_replay(struct sim_system *s, const char *dir, FILE *out, const char *json_path)
{
	struct lk_input in;
	int ret = read_input(dir, &in);
	if (ret) {
		free_input(&in);
		return ret;
	}
	struct lk l = { .s = s, .log = out ? out : stderr };
	lackey_iter it;
	lackey_iter_init(&it, in.pages, in.npages);
	int rc = run(&l, &in, &it);
	if (!rc) {
		report_problems(&l, "pages.txt", &it.problems);
		report_problems(&l, "debug.log", &in.dlog.problems);
		if (out)
			write_text(&l, out, dir, &it.summary);
		if (json_path && write_json(&l, json_path)) {
			fprintf(stderr, "lackey: cannot write %s\n", json_path);
			rc = -1;
		}
	}
	teardown(&l);
	lackey_iter_free(&it);
	free_input(&in);
	if (rc)
		return 1;
	return l.refused || l.matched != l.syscalls || l.unexplained ? 1 : 0;
}
