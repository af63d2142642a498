/*
 * replay.c - the replay driver (see replay.h).
 *
 * 1. Prepass: which task created which (clone results, so a child whose
 *    lines come before its parent's call returns can be created at first
 *    sight: README pitfall 2); which execve each exec snapshot belongs to
 *    (the last successful execve of that task before the snapshot); which
 *    fault each SIGSEGV answers; and where each fault goes in the event
 *    stream.
 * 2. Fault placement: a fault of task T at time t applies after every event
 *    that completed by t, and after T's call that was in progress at t (so
 *    the ELF loader's faults during execve land in the new image).
 * 3. Events apply in file order: a joined call sits at its resumed line.
 */
#include "replay_internal.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mmk/errno.h>

#include "sim.h"

struct child_info {
	int tid, parent_tid;
	strace_clone how;
};

uint64_t replay_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void replay_msg(struct replay *r, uint32_t line, const char *fmt, ...)
{
	if (!r->opt->log || r->messages++ >= r->opt->max_messages)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(r->opt->log, "%s:%u: ", r->cap->name, line);
	vfprintf(r->opt->log, fmt, ap);
	fputc('\n', r->opt->log);
	va_end(ap);
}

/* ---- prepass ---- */

static bool is_clone_call(const char *name)
{
	return !strcmp(name, "clone") || !strcmp(name, "clone3") || !strcmp(name, "fork") || !strcmp(name, "vfork");
}

static int cmp_child(const void *a, const void *b)
{
	const struct child_info *x = a, *y = b;
	return (x->tid > y->tid) - (x->tid < y->tid);
}

static void find_children(struct replay *r)
{
	const strace_trace *tr = &r->cap->trace;
	r->children = calloc(tr->n + 1, sizeof(*r->children));
	for (size_t i = 0; i < tr->n; i++) {
		const strace_event *e = &tr->ev[i];
		if (e->kind != STRACE_SYSCALL || !is_clone_call(e->sc.name) || e->sc.ret_kind != STRACE_RET_VALUE ||
		    e->sc.ret <= 0)
			continue;
		struct child_info *c = &r->children[r->nchildren];
		if (strace_clone_args(&e->sc, &c->how) != 0) {
			replay_msg(r, e->line, "cannot read the arguments of %s", e->sc.name);
			r->rep->unexplained_lines++;
			continue;
		}
		c->tid = (int)e->sc.ret;
		c->parent_tid = e->tid;
		r->nchildren++;
	}
	qsort(r->children, r->nchildren, sizeof(*r->children), cmp_child);
}

static const struct child_info *child_of(const struct replay *r, int tid)
{
	struct child_info key = { .tid = tid };
	return bsearch(&key, r->children, r->nchildren, sizeof(key), cmp_child);
}

static bool is_exec_ok(const strace_event *e)
{
	return e->kind == STRACE_SYSCALL && (!strcmp(e->sc.name, "execve") || !strcmp(e->sc.name, "execveat")) &&
	       e->sc.ret_kind == STRACE_RET_VALUE && e->sc.ret == 0;
}

/* Bind each exec snapshot to the last successful execve of its thread
 * before the snapshot was read. */
static void bind_exec_snapshots(struct replay *r)
{
	const strace_trace *tr = &r->cap->trace;
	for (size_t s = 0; s < r->cap->nsnaps; s++) {
		struct cap_snapshot *sn = &r->cap->snaps[s];
		sn->event = -1;
		if (sn->is_exit)
			continue;
		for (size_t i = 0; i < tr->n; i++) {
			const strace_event *e = &tr->ev[i];
			if (e->ts_us > sn->ts_us)
				break;
			if ((e->tid == sn->tid || e->tid == sn->tgid) && is_exec_ok(e))
				sn->event = (int)i;
		}
	}
}

static const struct cap_snapshot *exec_snapshot_for(const struct replay *r, size_t event)
{
	for (size_t s = 0; s < r->cap->nsnaps; s++)
		if (!r->cap->snaps[s].is_exit && r->cap->snaps[s].event == (int)event)
			return &r->cap->snaps[s];
	return NULL;
}

static const struct cap_snapshot *exit_snapshot_for(const struct replay *r, int tgid, int64_t after_us)
{
	for (size_t s = 0; s < r->cap->nsnaps; s++) {
		const struct cap_snapshot *sn = &r->cap->snaps[s];
		if (sn->is_exit && sn->tgid == tgid && sn->ts_us >= after_us)
			return sn;
	}
	return NULL;
}

struct tid_event {
	int tid;
	long idx;
};

static int cmp_tid_event(const void *a, const void *b)
{
	const struct tid_event *x = a, *y = b;
	if (x->tid != y->tid)
		return (x->tid > y->tid) - (x->tid < y->tid);
	return (x->idx > y->idx) - (x->idx < y->idx);
}

static int cmp_fault_time(const void *a, const void *b)
{
	const struct cap_fault *x = a, *y = b;
	if (x->ts_us != y->ts_us)
		return (x->ts_us > y->ts_us) - (x->ts_us < y->ts_us);
	return (x->line > y->line) - (x->line < y->line);
}

static int cmp_fault_anchor(const void *a, const void *b)
{
	const struct cap_fault *x = a, *y = b;
	if (x->anchor != y->anchor)
		return (x->anchor > y->anchor) - (x->anchor < y->anchor);
	return cmp_fault_time(a, b);
}

/* Last event completed at or before t, or -1. */
static long last_completed(const strace_trace *tr, int64_t t)
{
	long lo = 0, hi = (long)tr->n; /* first index with ts > t */
	while (lo < hi) {
		long mid = (lo + hi) / 2;
		if (tr->ev[mid].ts_us <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo - 1;
}

/* Task T's last event that had started by t, or -1. */
static long last_started(const strace_trace *tr, const struct tid_event *te, size_t n, int tid, int64_t t)
{
	size_t lo = 0, hi = n;
	while (lo < hi) { /* first entry of tid */
		size_t mid = (lo + hi) / 2;
		if (te[mid].tid < tid)
			lo = mid + 1;
		else
			hi = mid;
	}
	long best = -1;
	for (size_t i = lo; i < n && te[i].tid == tid; i++) {
		if (tr->ev[te[i].idx].entry_ts_us > t)
			break;
		best = te[i].idx;
	}
	return best;
}

static void mark_segv_faults(struct replay *r)
{
	const strace_trace *tr = &r->cap->trace;
	for (size_t i = 0; i < tr->n; i++) {
		const strace_event *e = &tr->ev[i];
		if (e->kind != STRACE_SIGNAL || strcmp(e->sig.name, "SIGSEGV") || !e->sig.has_addr)
			continue;
		struct cap_fault *hit = NULL;
		for (size_t f = 0; f < r->cap->nfaults; f++) {
			struct cap_fault *cf = &r->cap->faults[f];
			if (cf->ts_us > e->ts_us)
				break;
			if (cf->tid == e->tid && (cf->addr >> 12) == (e->sig.addr >> 12))
				hit = cf;
		}
		if (hit)
			hit->segv_expected = true;
	}
}

static void place_faults(struct replay *r)
{
	const strace_trace *tr = &r->cap->trace;
	struct cap_fault *f = r->cap->faults;
	size_t nf = r->cap->nfaults;
	if (nf == 0)
		return;
	qsort(f, nf, sizeof(*f), cmp_fault_time);
	mark_segv_faults(r);
	struct tid_event *te = malloc((tr->n + 1) * sizeof(*te));
	for (size_t i = 0; i < tr->n; i++)
		te[i] = (struct tid_event){ tr->ev[i].tid, (long)i };
	qsort(te, tr->n, sizeof(*te), cmp_tid_event);
	for (size_t i = 0; i < nf; i++) {
		long g = last_completed(tr, f[i].ts_us);
		long p = last_started(tr, te, tr->n, f[i].tid, f[i].ts_us);
		f[i].anchor = g > p ? g : p;
	}
	free(te);
	qsort(f, nf, sizeof(*f), cmp_fault_anchor);
}

/* ---- processes and tasks ---- */

static struct wproc *new_root_like(struct replay *r, int tid)
{
	struct wproc *p = world_new_proc(&r->w, tid, 0);
	p->fds = world_new_fds();
	p->exe = strdup("?");
	if (world_new_mm(&r->w, p, false) != 0) {
		fprintf(stderr, "mmk-sim: cannot create an address space (raise --ram)\n");
		exit(2);
	}
	world_add_task(&r->w, tid, p);
	return p;
}

static void create_child(struct replay *r, struct wtask *pt, int tid, const strace_clone *how, uint32_t line)
{
	struct wproc *pp = pt->proc;
	if (how->is_thread) {
		world_add_task(&r->w, tid, pp);
		return;
	}
	struct wproc *p = world_new_proc(&r->w, tid, pp->tgid);
	p->exe = strdup(pp->exe ? pp->exe : "?");
	p->cwd = pp->cwd ? strdup(pp->cwd) : NULL;
	if (how->flags & SIM_CLONE_FILES) {
		p->fds = pp->fds;
		p->fds->refs++;
	} else {
		p->fds = world_copy_fds(pp->fds);
	}
	if (how->shares_vm || how->is_vfork) {
		world_share_mm(p, pp);
	} else if (world_fork_mm(&r->w, p, pp) != 0) {
		replay_msg(r, line, "fork of tgid %d failed in mmk (out of frames?)", pp->tgid);
		world_new_mm(&r->w, p, false);
	}
	world_add_task(&r->w, tid, p);
}

static struct wtask *task_for(struct replay *r, int tid, uint32_t line)
{
	struct wtask *t = world_task(&r->w, tid);
	if (t)
		return t;
	const struct child_info *ci = child_of(r, tid);
	struct wtask *pt = ci ? world_task(&r->w, ci->parent_tid) : NULL;
	if (pt) {
		create_child(r, pt, tid, &ci->how, line);
		return world_task(&r->w, tid);
	}
	if (r->root_tid && tid != r->root_tid) {
		replay_msg(r, line, "task %d appears without a call that created it", tid);
		r->rep->unexplained_lines++;
	}
	if (!r->root_tid)
		r->root_tid = tid;
	new_root_like(r, tid);
	return world_task(&r->w, tid);
}

static void record_proc(struct replay *r, struct wproc *p)
{
	struct replay_report *rep = r->rep;
	if (p->mm) {
		struct vm_space_stats st;
		vm_space_get_stats(p->mm->as, &st);
		p->vmas = st.vmas;
		p->mapped_bytes = st.mapped_bytes;
		p->resident_bytes = st.resident_bytes;
		vm_space_attribution(p->mm->as, &p->attrib);
	}
	rep->procs = realloc(rep->procs, (rep->nprocs + 1) * sizeof(*rep->procs));
	struct replay_proc_report *pr = &rep->procs[rep->nprocs++];
	memset(pr, 0, sizeof(*pr));
	pr->tgid = p->tgid;
	snprintf(pr->exe, sizeof(pr->exe), "%s", p->exe ? p->exe : "?");
	pr->vmas = p->vmas;
	pr->mapped_bytes = p->mapped_bytes;
	pr->resident_bytes = p->resident_bytes;
	pr->faults = p->faults;
	pr->calls = p->calls;
	pr->calls_matched = p->calls_matched;
	pr->layout_mismatched_pages = p->layout_mismatched_pages;
	pr->layout_compared = p->layout_compared;
	if (p->acct) {
		struct acct_usage u;
		acct_get_usage(p->acct, &u);
		pr->charged_bytes = u.charged << 12;
		pr->peak_charged_bytes = u.peak_charged << 12;
	}
	pr->limit_hits = p->limit_hits;
	pr->rss_bytes = p->attrib.rss_bytes;
	pr->pss_bytes = p->attrib.pss_bytes;
	pr->uss_bytes = p->attrib.uss_bytes;
}

/* The attribution now; kept when it has the most user frames so far. */
static void note_attribution(struct replay *r, struct vm_system_attribution *sa)
{
	vm_system_attribution(&r->sys->vm, sa);
	if (sa->user_frames_bytes >= r->rep->attrib.user_frames_bytes)
		r->rep->attrib = *sa;
}

/* PSS of every space, summed here from the per-space figures, plus the
 * page cache and the unmapped anons must be the user frames (issue 3
 * item 6). */
static void check_attribution(struct replay *r, uint32_t line, const char *when)
{
	struct vm_system_attribution sa;
	note_attribution(r, &sa);
	uint64_t scaled = 0;
	for (struct vm_space *as = r->sys->vm.space_list; as; as = as->next_space) {
		struct vm_attribution a;
		vm_space_attribution(as, &a);
		scaled += a.pss_scaled;
	}
	const uint64_t frame = (uint64_t)4096 << VM_PSS_SHIFT;
	uint64_t pss = (scaled + frame / 2) / frame * 4096;
	r->rep->attrib_checks++;
	if (pss != sa.pss_bytes_total ||
	    pss + sa.page_cache_bytes + sa.anon_unmapped_bytes != sa.user_frames_bytes) {
		r->rep->attrib_mismatches++;
		replay_msg(r, line,
			   "%s: PSS of all spaces %llu + page cache %llu + unmapped anons %llu bytes != user frames %llu "
			   "bytes",
			   when, (unsigned long long)pss, (unsigned long long)sa.page_cache_bytes,
			   (unsigned long long)sa.anon_unmapped_bytes, (unsigned long long)sa.user_frames_bytes);
	}
}

static void end_proc(struct replay *r, struct wproc *p)
{
	if (!p->exited) {
		record_proc(r, p);
		p->exited = true;
	}
	struct vm_system_attribution before;
	if (p->mm)
		note_attribution(r, &before);
	world_drop_mm(&r->w, p);
	world_end_account(&r->w, p); /* the process manager destroys its MOP */
	check_attribution(r, 0, "after a process exit");
	world_drop_fds(p->fds);
	p->fds = NULL;
}

void replay_note_limit(struct replay *r, struct wproc *p, const char *what, uint64_t addr, uint32_t line)
{
	if (!r->w.limited || !p->mm)
		return;
	struct vm_charge_stats cs;
	vm_space_get_charge(p->mm->as, &cs);
	if (cs.charge_failures == p->mm->charge_failures_seen)
		return;
	p->mm->charge_failures_seen = cs.charge_failures;
	struct replay_report *rep = r->rep;
	rep->limit_hits++;
	p->limit_hits++;
	if (rep->nhits == REPLAY_MAX_HITS)
		return;
	rep->hits = realloc(rep->hits, (rep->nhits + 1) * sizeof(*rep->hits));
	struct replay_limit_hit *h = &rep->hits[rep->nhits++];
	memset(h, 0, sizeof(*h));
	h->tgid = p->tgid;
	snprintf(h->exe, sizeof(h->exe), "%s", p->exe ? p->exe : "?");
	snprintf(h->what, sizeof(h->what), "%s", what);
	h->addr = addr;
	h->line = line;
}

static void task_gone(struct replay *r, struct wtask *t)
{
	if (t->gone)
		return;
	t->gone = true;
	if (--t->proc->live_tasks == 0)
		end_proc(r, t->proc);
}

/* ---- process calls ---- */

static void count_call(struct replay *r, struct wproc *p, bool matched)
{
	r->rep->calls++;
	p->calls++;
	if (matched) {
		r->rep->calls_matched++;
		p->calls_matched++;
	}
}

static void on_execve(struct replay *r, struct wtask *t, const strace_event *e, size_t idx)
{
	struct wproc *p = t->proc;
	if (!is_exec_ok(e)) {
		count_call(r, p, true); /* a failed execve changes no memory */
		return;
	}
	const struct cap_snapshot *sn = exec_snapshot_for(r, idx);
	int rc = world_new_mm(&r->w, p, sn != NULL);
	if (rc == 0 && sn)
		rc = layout_load(r, p, sn);
	if (rc)
		replay_msg(r, e->line, "execve: loading the exec layout failed: %s", mmk_strerror(rc));
	free(p->exe);
	char path[4096] = "?";
	if (sn)
		snprintf(path, sizeof(path), "%s", sn->exe);
	else if (e->sc.nargs > 0)
		strace_arg_string(e->sc.args[0], path, sizeof(path), NULL, NULL);
	p->exe = strdup(path);
	if (p->fds)
		world_close_cloexec(p->fds);
	count_call(r, p, rc == 0);
}

static void on_clone(struct replay *r, struct wtask *t, const strace_event *e)
{
	bool ok = e->sc.ret_kind != STRACE_RET_VALUE || e->sc.ret <= 0 || task_for(r, (int)e->sc.ret, e->line);
	count_call(r, t->proc, ok);
}

static void on_exit_group(struct replay *r, struct wtask *t, const strace_event *e)
{
	struct wproc *p = t->proc;
	count_call(r, p, true);
	if (p->exited)
		return;
	const struct cap_snapshot *sn = exit_snapshot_for(r, p->tgid, e->entry_ts_us);
	if (p->mm && p->mm->modelled && sn) {
		p->layout_mismatched_pages = layout_compare(r, p, sn);
		p->layout_compared = true;
		r->rep->layouts_compared++;
		r->rep->layout_mismatched_pages += p->layout_mismatched_pages;
	} else if (sn) {
		r->rep->layouts_missing++;
	}
	if (r->opt->maps_out && p->mm)
		layout_write_maps(r, p, sn, e);
	record_proc(r, p);
	p->exited = true;
}

static void apply_event(struct replay *r, size_t idx)
{
	const strace_event *e = &r->cap->trace.ev[idx];
	struct wtask *t = task_for(r, e->tid, e->line);
	switch (e->kind) {
	case STRACE_EXITED:
	case STRACE_KILLED:
	case STRACE_SUPERSEDED:
		task_gone(r, t);
		return;
	case STRACE_SIGNAL:
		return;
	case STRACE_SYSCALL:
		break;
	}
	const char *n = e->sc.name;
	if (!strcmp(n, "execve") || !strcmp(n, "execveat"))
		on_execve(r, t, e, idx);
	else if (is_clone_call(n))
		on_clone(r, t, e);
	else if (!strcmp(n, "exit_group"))
		on_exit_group(r, t, e);
	else if (!replay_mm_call(r, t, e))
		replay_fd_call(r, t, e);
}

/* ---- faults ---- */

static unsigned access_of(unsigned error_code)
{
	if (error_code & 0x10)
		return PMAP_ACCESS_EXEC;
	return (error_code & 0x2) ? PMAP_ACCESS_WRITE : PMAP_ACCESS_READ;
}

static void apply_fault(struct replay *r, const struct cap_fault *f)
{
	struct replay_report *rep = r->rep;
	struct wtask *t = task_for(r, f->tid, 0);
	struct wproc *p = t->proc;
	rep->faults++;
	p->faults++;
	if (!p->mm || !p->mm->modelled || f->addr >= PMAP_USER_END) {
		rep->faults_unmodelled++;
		return;
	}
	world_activate(&r->w, p->mm);
	paddr_t pa;
	int rc = sim_access(r->sys->machine, 0, f->addr, access_of(f->error_code), true, &pa);
	replay_note_limit(r, p, "fault", f->addr, f->line);
	if (rc == 0 && !f->segv_expected) {
		rep->faults_ok++;
	} else if (rc != 0 && f->segv_expected) {
		rep->faults_segv_expected++;
	} else if (rc == 0) {
		rep->faults_segv_missed++;
		replay_msg(r, f->line, "faults.tsv: tid %d access to %#llx allowed, Linux sent SIGSEGV", f->tid,
			   (unsigned long long)f->addr);
	} else {
		rep->faults_refused++;
		p->faults_refused++;
		replay_msg(r, f->line, "faults.tsv: tid %d %s of %#llx (error %#x) refused by mmk: %s", f->tid,
			   access_of(f->error_code) == PMAP_ACCESS_WRITE ? "write"
			   : access_of(f->error_code) == PMAP_ACCESS_EXEC ? "exec"
									     : "read",
			   (unsigned long long)f->addr, f->error_code, mmk_strerror(rc));
	}
	uint64_t res = (uint64_t)r->sys->vm.user_frames << 12;
	if (res > rep->peak_resident_bytes) {
		rep->peak_resident_bytes = res;
		rep->pt_pages_at_peak = r->sys->vm.pt_pages;
		phys_get_stats(&r->sys->phys, &rep->phys_at_peak);
		kmem_cache_stats(&r->sys->vm.vma_cache, &rep->slab_at_peak[0]);
		kmem_cache_stats(&r->sys->vm.object_cache, &rep->slab_at_peak[1]);
		kmem_cache_stats(&r->sys->vm.space_cache, &rep->slab_at_peak[2]);
	}
}

/* ---- driver ---- */

static void progress(struct replay *r, size_t i, size_t n)
{
	if (r->opt->progress && (i % 8192 == 0 || i == n))
		fprintf(stderr, "\rmmk-sim: %s %zu/%zu events", r->cap->name, i, n);
	if (r->opt->progress && i == n)
		fprintf(stderr, "\n");
}

static void reap_caches(struct sim_system *s)
{
	vm_system_reap(&s->vm);
}

int replay_capture(struct sim_system *s, struct capture *c, const struct replay_options *opt,
		   struct replay_report *rep)
{
	struct replay r = { .sys = s, .cap = c, .opt = opt, .rep = rep };
	memset(rep, 0, sizeof(*rep));
	snprintf(rep->capture, sizeof(rep->capture), "%s", c->name);
	rep->unexplained_lines = c->trace.problems.n + c->problems.n;
	for (size_t i = 0; i < c->trace.problems.n; i++)
		replay_msg(&r, c->trace.problems.v[i].line, "strace.txt: %s", c->trace.problems.v[i].reason);
	for (size_t i = 0; i < c->problems.n; i++)
		replay_msg(&r, c->problems.v[i].line, "%s", c->problems.v[i].reason);
	reap_caches(s);
	uint64_t free_before = sim_system_free_frames(s);
	phys_get_stats(&s->phys, &rep->phys_at_peak);
	uint64_t cow0 = s->vm.cow_copies, zero0 = s->vm.zero_fills, out0 = s->vm.page_outs, in0 = s->vm.page_ins,
		 fout0 = s->vm.file_page_outs;
	world_init(&r.w, s);
	rep->limit_bytes = opt->limit_bytes;
	if (opt->limit_bytes && world_set_limit(&r.w, opt->limit_bytes) != 0) {
		fprintf(stderr, "mmk-sim: cannot make the process accounts\n");
		return 2;
	}
	find_children(&r);
	bind_exec_snapshots(&r);
	place_faults(&r);
	size_t fi = 0, n = c->trace.n;
	while (fi < c->nfaults && c->faults[fi].anchor < 0)
		apply_fault(&r, &c->faults[fi++]);
	for (size_t i = 0; i < n; i++) {
		apply_event(&r, i);
		while (fi < c->nfaults && c->faults[fi].anchor == (long)i)
			apply_fault(&r, &c->faults[fi++]);
		progress(&r, i + 1, n);
	}
	rep->events = n;
	rep->cow_copies = s->vm.cow_copies - cow0;
	rep->zero_fills = s->vm.zero_fills - zero0;
	rep->page_outs = s->vm.page_outs - out0;
	rep->page_ins = s->vm.page_ins - in0;
	rep->file_page_outs = s->vm.file_page_outs - fout0;
	for (struct wproc *p = r.w.procs; p; p = p->next)
		if (!p->exited)
			record_proc(&r, p);
	check_attribution(&r, 0, "at the end");
	world_free(&r.w);
	free(r.children);
	reap_caches(s);
	uint64_t free_after = sim_system_free_frames(s);
	rep->frames_leaked = free_before > free_after ? free_before - free_after : 0;
	bool clean = rep->calls == rep->calls_matched && rep->unexplained_lines == 0 && rep->faults_refused == 0 &&
		     rep->faults_segv_missed == 0 && rep->layout_mismatched_pages == 0 && rep->frames_leaked == 0 &&
		     rep->attrib_mismatches == 0;
	return clean ? 0 : 1;
}

void replay_report_free(struct replay_report *rep)
{
	free(rep->procs);
	rep->procs = NULL;
	rep->nprocs = 0;
	free(rep->hits);
	rep->hits = NULL;
	rep->nhits = 0;
}
