/*
 * test_vm_model_fork.c - model-based test of several address spaces at once
 * (issue 3: "the model-based test covers fork, shared and private file
 * mappings and eviction").
 *
 * Up to four live spaces share one simulated PC, five memory objects (two
 * shared anonymous objects, as shm segments, and three files with an
 * in-memory file pager whose bytes the model knows page by page) and a host
 * swap pager.  Long random sequences of
 *   map (private anonymous; shared or private mappings of any object;
 *     fixed, noreplace, hinted or first fit; sometimes MAP_POPULATE),
 *   unmap, protect, remap (in place, moved, or MREMAP_FIXED over what is
 *     there, growing or shrinking),
 *   touch (read, write of 1 to 256 bytes with random values, exec),
 *   madvise DONTNEED, DONTFORK/DOFORK, WIPEONFORK/KEEPONFORK,
 *   msync, fork, exit, spawn (a fresh space),
 *   reclaim (vm_reclaim with a small or an unbounded target),
 *   sweep (read every accessible page of a space through the MMU),
 * run against a page-granular model in which every page's bytes are known:
 * a private page shows its model anon (shared copy-on-write after fork, which
 * is invisible in content), or else the object's page (private file
 * mappings) or zeroes; a shared page shows the object's page; a fork child
 * is a copy of its parent without DONTFORK ranges and with WIPEONFORK ranges
 * empty; DONTNEED drops private pages (zero or the file's bytes again) and
 * keeps shared ones.
 *
 * Eviction: every seed installs the swap pager and forces passes with
 * vm_reclaim; seeds 2 and 3 set the low watermark just above the free frames
 * at the start, so that faults reclaim by themselves (the "small RAM" case);
 * seeds 1 and 3 make some touches find no frame at all (the failpoint fails
 * the fault's next allocation), so the fault must reclaim and retry, or give
 * ENOMEM only when nothing could be taken; seeds 1 and 3 have the swap area
 * refuse every 9th page-out; every seed fails some page-ins of swapped pages
 * (the access gets the pager's error, SIGBUS-like, and nothing is lost).
 * The model cannot know which pages the clock takes, so after a step that
 * may reclaim, a page a space lost must be one reclaim may take (private,
 * one anon with one reference, accessible, really paged out: the model
 * then marks its anon swapped; or an object's page, taken from every space
 * at once, its bytes kept by the object).  An unbounded vm_reclaim must
 * take every such page (two turns of the clock) unless the pager refused
 * some, and must return the count it took: the object pages and private
 * pages the spaces lost plus the page cache it freed (pages no translation
 * maps, which vm_system_attribution counts).
 *
 * After every step: return codes (Linux's order; an error that Linux would
 * give only in another order is recorded, as in test_vm_model); every
 * checker of the fixture (with the test's objects in fx->held, so pages no
 * VMA maps are counted); every space's layout page by page (prot, max_prot,
 * shared, DONTFORK, WIPEONFORK, object and offset); residency of every page
 * (a pmap walk, and vm_mincore every 32 steps); all 4096 bytes of every
 * resident page of every space, read from its frame; the same through the
 * MMU (sim_read, the TLB included) for the active space every step and for
 * every space every 16 steps; no writable translation of a page shared
 * copy-on-write or of a file's page; no frame behind two different model
 * pages; each private page's anon (present, reference count, swapped)
 * against the model's; the swap slots in use against the model's swapped
 * anons.  Touches compare what they read; sweeps read whole pages, paging
 * swapped ones back in.
 *
 * Writeback (issue 3 item 4: msync, munmap and exit write back dirty pages
 * of shared file mappings): the file pager checks that every page written
 * back holds the object's bytes of the moment and that a page read from the
 * file again (reclaim dropped it) finds every byte written; after msync, munmap, exit
 * and mremap over or shrinking a mapping, every page the space wrote
 * through a shared file mapping must be in the file; at the end, with every
 * space gone, the files must hold every byte written through shared
 * mappings.  These findings are recorded (the run goes on, so that one does
 * not hide the others) and the seed fails at its end with the list and the
 * steps before the first.  msync must also write pages dirtied through
 * another space's mapping (Linux's msync writes the file range).
 *
 * What the model found is kept below as small reproductions (the fixed ones
 * as regression tests; test_bug_* while open).
 *
 * On a failure: the last steps, the model's layouts, the page concerned,
 * and the spaces' layouts before and after the step.  For hunting, the
 * environment may set MMK_MODEL_SEED_BASE (added to the seeds),
 * MMK_MODEL_STEPS, MMK_MODEL_STOP=1 (stop at the first recorded finding)
 * and MMK_MODEL_TRACE=1 (print every step).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm_fixture.h"

#define WBASE ((vaddr_t)0x10000000ull)
#define NP 512u /* pages in each space's window: 2 MiB */
#define WEND (WBASE + (vaddr_t)NP * PG)
#define MMAP_BASE (WEND - 32 * PG)
#define MAXS 4u        /* live spaces at most */
#define NOBJ 5u        /* objects 0, 1: shared anonymous memory; 2..4: files */
#define NSHM 2u
#define OBJ_PAGES 64u  /* pages of each object a mapping may reach */
#define STEPS_PER_SEED 6000u
#define LOGN 64u
#define NDISC 16u
#define PRESSURE_BUDGET 320u /* frames the workload may take before faults reclaim */
#define HUGE_TARGET (1ull << 40)

/* A private page's bytes (UVM's anon, as the model sees it). */
struct manon {
	uint32_t refs;    /* model pages naming it */
	bool swapped;     /* evicted: its bytes are in the swap pager */
	uint32_t epoch;   /* compare: last pass that saw it */
	const void *impl; /* compare: the space's anon seen with it in that pass */
	uint8_t bytes[PG];
};

struct mobj {
	struct model *m;
	unsigned idx;
	struct vm_object *o;
	bool file;
	uint8_t *page[OBJ_PAGES];  /* the object's bytes once written through a shared mapping */
	uint8_t *store[OBJ_PAGES]; /* files: the file's bytes (what the pager holds) */
	uint32_t reads[OBJ_PAGES]; /* pager reads of each page */
	uint64_t writes;           /* pager writes */
	uint32_t lost_mark[OBJ_PAGES]; /* reconcile: the pass that counted this page's eviction */
};

struct mpage {
	uint8_t mapped, prot, maxprot, shared;
	uint8_t resident;
	uint8_t dontfork, wipe;
	uint8_t wdirty; /* written through this shared file mapping since its last check */
	uint8_t obj;    /* 0: none, else object index + 1 */
	uint16_t objpg; /* page index in the object */
	struct manon *anon;
};

struct mspace {
	struct vm_space *as;
	bool live;
	unsigned name; /* for the log: P0, P1, ... in creation order */
	struct mpage pg[NP];
};

/* A swap area in host memory (test_vm_swap's). */
struct host_swap {
	unsigned char **page;
	uint64_t cap, used;
	unsigned refuse_every; /* > 0: every nth page-out is refused (-MMK_ENOSPC) */
	uint64_t outs, refused;
	unsigned fail_in;      /* > 0: the next page-ins fail with -5 (EIO) */
	uint64_t failed_in;
};

enum { S_MAP, S_MAP_ERR, S_UNMAP, S_PROT, S_PROT_ERR, S_REMAP, S_REMAP_MOVE, S_REMAP_ERR, S_TOUCH, S_TOUCH_ERR,
       S_COW, S_DONTNEED, S_FORKFLAGS, S_FORKFLAGS_ERR, S_MSYNC, S_FORK, S_EXIT, S_SPAWN, S_RECLAIM, S_EVICTED,
       S_SWEEP, S_FAULT_EVICTED, S_STARVED, S_STARVED_RECLAIMED, S_PAGE_IN_FAILED, S_NSTATS };
static const char *stat_names[S_NSTATS] = {
	"map", "map refused", "unmap", "protect", "protect refused", "remap in place", "remap moved",
	"remap refused", "touch", "touch refused", "cow writes", "dontneed", "fork advice", "fork advice refused",
	"msync", "fork", "exit", "spawn", "reclaim", "pages evicted", "sweep", "evicted by faults",
	"touches with no frame", "of which reclaimed", "page-ins failed",
};

struct model {
	struct vmfx *fx;
	struct mspace sp[MAXS];
	struct mobj obj[NOBJ];
	struct host_swap swap;
	unsigned next_name;
	int cur; /* space active on CPU 0, or -1 */
	bool pressure; /* the low watermark makes faults reclaim */
	bool starve;   /* some touches find no frame (the failpoint) and must reclaim */
	bool enomem;   /* this step's touch found no frame and gave up (page enomem_i of enomem_s) */
	uint64_t refused0; /* page-outs refused before this step */
	unsigned enomem_s;
	uint64_t enomem_i;
	uint64_t rng;
	unsigned step;
	char log[LOGN][220];
	uint64_t stats[S_NSTATS];
	uint64_t anons_live;
	/* recorded findings (error order, writeback), failed at the seed's end */
	char disc[NDISC][400];
	unsigned ndisc;
	char *disc_steps; /* the steps before the first finding */
	uint64_t linux_msync_diff; /* msync left a page dirtied by another space (Linux writes it) */
	/* compare state */
	uint32_t epoch;
	uint64_t *cell;       /* per frame: the model page behind it in this pass */
	uint32_t *cell_epoch; /* per frame: the pass that set cell */
	struct res_walk_state {
		uint64_t n[MAXS];
		const char *why;
		int s;
		vaddr_t va;
		unsigned off;
		uint8_t got, want;
	} rw;
};

static const uint8_t zero_page[PG];

/* ---- helpers ---- */

static uint64_t rnd(struct model *m)
{
	uint64_t x = m->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	m->rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

static uint64_t below(struct model *m, uint64_t n) { return n ? rnd(m) % n : 0; }
static bool chance(struct model *m, unsigned percent) { return below(m, 100) < percent; }
static bool in_window(vaddr_t a) { return a >= WBASE && a < WEND; }
static vaddr_t addr_of(uint64_t i) { return WBASE + i * PG; }
static struct mpage *P(struct model *m, unsigned s, vaddr_t a) { return &m->sp[s].pg[(a - WBASE) / PG]; }
static const char *err(int rc) { return rc ? mmk_strerror(rc) : "ok"; }
static unsigned nlive(const struct model *m)
{
	unsigned n = 0;
	for (unsigned s = 0; s < MAXS; s++)
		n += m->sp[s].live;
	return n;
}

static void logf_(struct model *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(struct model *m, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *line = m->log[m->step % LOGN];
	int n = snprintf(line, sizeof(m->log[0]), "step %u: ", m->step);
	vsnprintf(line + n, sizeof(m->log[0]) - (size_t)n, fmt, ap);
	va_end(ap);
	vmfx_op(m->fx, "%s", line);
	const char *trace = getenv("MMK_MODEL_TRACE"); /* every step on stderr, for hunting */
	if (trace && *trace == '1')
		fprintf(stderr, "%s\n", line);
}

/* ---- model bytes ---- */

/* The object's bytes of page pg: written ones, else the file's, else zero. */
static const uint8_t *obj_bytes(struct model *m, unsigned o, unsigned pg)
{
	struct mobj *ob = &m->obj[o];
	if (ob->page[pg])
		return ob->page[pg];
	return ob->file ? ob->store[pg] : zero_page;
}

static uint8_t *obj_materialize(struct model *m, unsigned o, unsigned pg)
{
	struct mobj *ob = &m->obj[o];
	if (!ob->page[pg]) {
		uint8_t *b = malloc(PG);
		assert_non_null(b);
		memcpy(b, obj_bytes(m, o, pg), PG);
		ob->page[pg] = b;
	}
	return ob->page[pg];
}

/* What page p shows. */
static const uint8_t *page_bytes(struct model *m, const struct mpage *p)
{
	if (p->shared)
		return obj_bytes(m, p->obj - 1u, p->objpg);
	if (p->anon)
		return p->anon->bytes;
	if (p->obj)
		return obj_bytes(m, p->obj - 1u, p->objpg);
	return zero_page;
}

static struct manon *manon_new(struct model *m, const uint8_t *src)
{
	struct manon *a = malloc(sizeof(*a));
	assert_non_null(a);
	a->refs = 1;
	a->swapped = false;
	a->epoch = 0;
	a->impl = NULL;
	memcpy(a->bytes, src, PG);
	m->anons_live++;
	return a;
}

static void manon_put(struct model *m, struct manon *a)
{
	if (a && --a->refs == 0) {
		free(a);
		m->anons_live--;
	}
}

/* A page of an object that a mapping shows (a shared mapping, or a private
 * one reading the file's page): reclaim takes it from every space at once. */
static bool object_page(const struct mpage *p) { return p->mapped && p->obj && (p->shared || !p->anon); }

/* A page reclaim may take: resident and accessible, and either private,
 * held by one anon with one reference, or an object's page. */
static bool evictable(const struct mpage *p)
{
	if (!p->mapped || !p->resident || !p->prot)
		return false;
	return object_page(p) || (!p->shared && p->anon && p->anon->refs == 1 && !p->anon->swapped);
}

/* ---- failure reports ---- */

static void dump_model_layout(struct model *m, unsigned s)
{
	struct mspace *ms = &m->sp[s];
	fprintf(stderr, "---- model of space %u (P%u, %p) ----\n", s, ms->name, (void *)ms->as);
	uint64_t i = 0;
	while (i < NP) {
		struct mpage *p = &ms->pg[i];
		if (!p->mapped) {
			i++;
			continue;
		}
		uint64_t j = i + 1, res = p->resident;
		for (; j < NP; j++) {
			struct mpage *q = &ms->pg[j];
			if (!q->mapped || q->prot != p->prot || q->maxprot != p->maxprot || q->shared != p->shared ||
			    q->obj != p->obj || q->dontfork != p->dontfork || q->wipe != p->wipe ||
			    (p->obj && q->objpg != p->objpg + (j - i)))
				break;
			res += q->resident;
		}
		fprintf(stderr, "%08llx-%08llx %c%c%c%c max %u%s%s obj %d pg %u resident %llu/%llu\n",
			(unsigned long long)addr_of(i), (unsigned long long)addr_of(j), (p->prot & 1) ? 'r' : '-',
			(p->prot & 2) ? 'w' : '-', (p->prot & 4) ? 'x' : '-', p->shared ? 's' : 'p', p->maxprot,
			p->dontfork ? " dontfork" : "", p->wipe ? " wipeonfork" : "", (int)p->obj - 1, p->objpg,
			(unsigned long long)res, (unsigned long long)(j - i));
		i = j;
	}
}

static void dump_page(struct model *m, unsigned s, vaddr_t va)
{
	if (s >= MAXS || !in_window(va))
		return;
	struct mpage *p = P(m, s, mmk_page_round_down(va));
	fprintf(stderr,
		"---- model page %#llx of space %u: %s prot %u max %u %s obj %d pg %u %s anon %p (refs %u%s) wdirty %u "
		"----\n",
		(unsigned long long)mmk_page_round_down(va), s, p->mapped ? "mapped" : "unmapped", p->prot, p->maxprot,
		p->shared ? "shared" : "private", (int)p->obj - 1, p->objpg, p->resident ? "resident" : "not resident",
		(void *)p->anon, p->anon ? p->anon->refs : 0, p->anon && p->anon->swapped ? ", swapped" : "", p->wdirty);
}

static void print_steps(FILE *f, struct model *m)
{
	unsigned first = m->step >= 48 ? m->step - 47 : 1;
	for (unsigned s = first; s <= m->step; s++)
		fprintf(f, "  %s\n", m->log[s % LOGN]);
}

static void model_fail(struct model *m, unsigned s, vaddr_t va, const char *fmt, ...)
	__attribute__((format(printf, 4, 5), noreturn));
static void model_fail(struct model *m, unsigned s, vaddr_t va, const char *fmt, ...)
{
	char msg[700];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "==== model: last steps (rng state %#llx) ====\n", (unsigned long long)m->rng);
	print_steps(stderr, m);
	for (unsigned k = 0; k < MAXS; k++)
		if (m->sp[k].live)
			dump_model_layout(m, k);
	dump_page(m, s, va);
	vmfx_fail(m->fx, "model, step %u: %s", m->step, msg);
}

/* Record a finding that does not stop the run (see the header); with
 * MMK_MODEL_STOP=1 in the environment, the first one stops it with the
 * full report instead. */
static void disc(struct model *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void disc(struct model *m, const char *fmt, ...)
{
	char line[sizeof(m->disc[0])];
	int n = snprintf(line, sizeof(line), "step %u: ", m->step);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	const char *stop = getenv("MMK_MODEL_STOP");
	if (stop && *stop == '1')
		model_fail(m, MAXS, 0, "%s", line);
	if (m->ndisc < NDISC)
		memcpy(m->disc[m->ndisc], line, sizeof(line));
	if (m->ndisc == 0) {
		size_t size = 0;
		FILE *f = open_memstream(&m->disc_steps, &size);
		assert_non_null(f);
		print_steps(f, m);
		fclose(f);
	}
	m->ndisc++;
}

/* Every error whose condition holds, as a set (test_vm_model's rule): an
 * error from the set other than Linux's choice is an order discrepancy. */
static unsigned ebit(int rc)
{
	switch (-rc) {
	case MMK_EINVAL: return 1u << 0;
	case MMK_ENOMEM: return 1u << 1;
	case MMK_EPERM: return 1u << 2;
	case MMK_EEXIST: return 1u << 3;
	case MMK_EACCES: return 1u << 4;
	case MMK_EFAULT: return 1u << 5;
	default: return 1u << 6;
	}
}

static bool order_only(struct model *m, int rc, int want, unsigned errs)
{
	if (!rc || !want || !(errs & ebit(rc)))
		return false;
	disc(m, "%s: got %s, Linux's order gives %s", m->log[m->step % LOGN], err(rc), err(want));
	return true;
}

/* ---- the file pager and the swap pager ---- */

static int file_read(void *ctx, uint64_t pgoff, void *page)
{
	struct mobj *ob = ctx;
	if (pgoff >= OBJ_PAGES) {
		disc(ob->m, "pager read of file %u page %llu, beyond every mapping", ob->idx, (unsigned long long)pgoff);
		memset(page, 0, PG);
		return 0;
	}
	/* Read again after reclaim dropped the page: the file must hold
	 * every byte written (a dirty page is written back before it goes). */
	if (++ob->reads[pgoff] > 1 && memcmp(ob->store[pgoff], obj_bytes(ob->m, ob->idx, (unsigned)pgoff), PG))
		disc(ob->m, "file %u page %llu read again from the pager, without the bytes written (the object "
			    "dropped a dirty page)",
		     ob->idx, (unsigned long long)pgoff);
	memcpy(page, ob->store[pgoff], PG);
	return 0;
}

static int file_write(void *ctx, uint64_t pgoff, const void *page)
{
	struct mobj *ob = ctx;
	ob->writes++;
	if (pgoff >= OBJ_PAGES) {
		disc(ob->m, "pager write of file %u page %llu, beyond every mapping", ob->idx, (unsigned long long)pgoff);
		return 0;
	}
	if (memcmp(page, obj_bytes(ob->m, ob->idx, (unsigned)pgoff), PG) != 0)
		disc(ob->m, "pager write of file %u page %llu: the bytes are not the object's", ob->idx,
		     (unsigned long long)pgoff);
	memcpy(ob->store[pgoff], page, PG);
	return 0;
}

static int swap_out(void *ctx, const void *page, uint64_t *slot)
{
	struct host_swap *s = ctx;
	if (s->refuse_every && ++s->outs % s->refuse_every == 0) {
		s->refused++;
		return -MMK_ENOSPC;
	}
	uint64_t i = 0;
	while (i < s->cap && s->page[i])
		i++;
	if (i == s->cap)
		return -MMK_ENOSPC;
	s->page[i] = malloc(PG);
	assert_non_null(s->page[i]);
	memcpy(s->page[i], page, PG);
	s->used++;
	*slot = i;
	return 0;
}

static int swap_in(void *ctx, uint64_t slot, void *page)
{
	struct host_swap *s = ctx;
	if (s->fail_in) {
		s->fail_in--;
		s->failed_in++;
		return -5; /* EIO */
	}
	memcpy(page, s->page[slot], PG);
	return 0;
}

static void swap_release(void *ctx, uint64_t slot)
{
	struct host_swap *s = ctx;
	free(s->page[slot]);
	s->page[slot] = NULL;
	s->used--;
}

/* ---- page-level model operations ---- */

/* A page the space wrote through a shared file mapping must be in the file
 * once munmap, exit or msync covered it. */
static void check_written(struct model *m, unsigned s, uint64_t i, const char *what)
{
	struct mpage *p = &m->sp[s].pg[i];
	if (!p->wdirty)
		return;
	p->wdirty = 0;
	struct mobj *ob = &m->obj[p->obj - 1u];
	if (memcmp(ob->store[p->objpg], obj_bytes(m, p->obj - 1u, p->objpg), PG) != 0)
		disc(m, "%s: P%u page %#llx (file %u page %u) was written through a shared mapping; the file "
		     "does not have the bytes",
		     what, m->sp[s].name, (unsigned long long)addr_of(i), ob->idx, p->objpg);
}

/* Pages [i0, i1) of space s go (munmap, MAP_FIXED or MREMAP_FIXED over
 * them, a shrinking mremap, exit). */
static void drop_pages(struct model *m, unsigned s, uint64_t i0, uint64_t i1, const char *what)
{
	for (uint64_t i = i0; i < i1 && i < NP; i++) {
		struct mpage *p = &m->sp[s].pg[i];
		if (!p->mapped)
			continue;
		check_written(m, s, i, what);
		manon_put(m, p->anon);
		memset(p, 0, sizeof(*p));
	}
}

static bool clip(vaddr_t a, vaddr_t b, uint64_t *i0, uint64_t *i1)
{
	if (a < WBASE)
		a = WBASE;
	if (b > WEND)
		b = WEND;
	if (a >= b)
		return false;
	*i0 = (a - WBASE) / PG;
	*i1 = (b - WBASE + PG - 1) / PG;
	return true;
}

static void drop_range(struct model *m, unsigned s, vaddr_t a, vaddr_t b, const char *what)
{
	uint64_t i0, i1;
	if (clip(a, b, &i0, &i1))
		drop_pages(m, s, i0, i1, what);
}

static bool range_free(struct model *m, unsigned s, vaddr_t a, vaddr_t b)
{
	uint64_t i0, i1;
	if (!clip(a, b, &i0, &i1))
		return true;
	for (uint64_t i = i0; i < i1; i++)
		if (m->sp[s].pg[i].mapped)
			return false;
	return true;
}

/* Every page of [a, a + n pages) mapped in space s (and inside the window)? */
static bool range_covered(struct model *m, unsigned s, vaddr_t a, uint64_t n)
{
	for (uint64_t k = 0; k < n; k++)
		if (!in_window(a + k * PG) || !P(m, s, a + k * PG)->mapped)
			return false;
	return true;
}

/* Highest start of n free pages in [WBASE, MMAP_BASE) of space s, or 0. */
static vaddr_t first_fit(struct model *m, unsigned s, uint64_t n)
{
	uint64_t top = (MMAP_BASE - WBASE) / PG, run = 0;
	for (uint64_t i = top; i-- > 0;) {
		run = m->sp[s].pg[i].mapped ? 0 : run + 1;
		if (run == n)
			return addr_of(i);
	}
	return 0;
}

/* The access of page i of space s succeeded: the model's side of the fault
 * (a read of private anonymous memory makes a zero anon; a write makes the
 * page the space's own, copying a shared anon or the file's page). */
static void model_access(struct model *m, unsigned s, uint64_t i, bool write, unsigned off, const uint8_t *buf,
			 unsigned len)
{
	struct mpage *p = &m->sp[s].pg[i];
	p->resident = 1;
	if (p->anon)
		p->anon->swapped = false;
	if (!write) {
		if (!p->shared && !p->anon && !p->obj)
			p->anon = manon_new(m, zero_page);
		return;
	}
	if (p->shared) {
		memcpy(obj_materialize(m, p->obj - 1u, p->objpg) + off, buf, len);
		if (m->obj[p->obj - 1u].file)
			p->wdirty = 1;
		return;
	}
	if (!p->anon || p->anon->refs > 1) {
		struct manon *a = manon_new(m, page_bytes(m, p));
		if (p->anon)
			m->stats[S_COW]++;
		manon_put(m, p->anon);
		p->anon = a;
	}
	memcpy(p->anon->bytes + off, buf, len);
}

static void activate(struct model *m, unsigned s)
{
	if (m->cur == (int)s)
		return;
	if (m->cur >= 0)
		vmfx_deactivate(m->fx, m->sp[m->cur].as);
	vm_space_activate(m->sp[s].as, 0);
	m->cur = (int)s;
}

/* ---- choices ---- */

static unsigned pick_space(struct model *m)
{
	unsigned k = (unsigned)below(m, nlive(m));
	for (unsigned s = 0; s < MAXS; s++)
		if (m->sp[s].live && k-- == 0)
			return s;
	fail_msg("no live space");
	return 0;
}

static unsigned free_slot(struct model *m)
{
	for (unsigned s = 0; s < MAXS; s++)
		if (!m->sp[s].live)
			return s;
	return MAXS;
}

/* An interesting address of space s: near something mapped, anywhere in
 * the window, or at its edges; page-aligned unless unaligned_pct says. */
static vaddr_t pick_addr(struct model *m, unsigned s, unsigned unaligned_pct)
{
	vaddr_t a;
	uint64_t r = below(m, 100);
	if (r < 60) {
		uint64_t i = below(m, NP);
		for (int t = 0; t < 32 && !m->sp[s].pg[i].mapped; t++)
			i = below(m, NP);
		int64_t j = (int64_t)i + (int64_t)below(m, 9) - 4;
		if (j < 0)
			j = 0;
		if (j >= (int64_t)NP)
			j = NP - 1;
		a = addr_of((uint64_t)j);
	} else if (r < 95) {
		a = addr_of(below(m, NP));
	} else if (r < 97) {
		a = WBASE - (1 + below(m, 4)) * PG;
	} else {
		a = WEND - (1 + below(m, 8)) * PG;
	}
	if (chance(m, unaligned_pct))
		a += 1 + below(m, PG - 1);
	return a;
}

static uint64_t pick_pages(struct model *m)
{
	uint64_t r = below(m, 100);
	if (r < 75)
		return 1 + below(m, 12);
	if (r < 97)
		return 13 + below(m, 36);
	return 64 + below(m, 64);
}

/* A page of space s to touch: usually a mapped one. */
static uint64_t pick_page(struct model *m, unsigned s)
{
	uint64_t i = below(m, NP);
	if (chance(m, 90))
		for (int t = 0; t < 64 && !m->sp[s].pg[i].mapped; t++)
			i = below(m, NP);
	return i;
}

/* ---- steps ---- */

static void step_map(struct model *m)
{
	static const char *kinds[] = { "fixed", "noreplace", "hint", "firstfit" };
	unsigned s = pick_space(m);
	unsigned kind = (unsigned)below(m, 4);
	uint64_t n = pick_pages(m);
	unsigned r = (unsigned)below(m, 100);
	bool shared = false;
	unsigned o = 0; /* object index + 1 */
	uint64_t objpg = 0;
	unsigned maxprot = VM_PROT_ALL;
	if (r >= 40) {
		o = 1 + (unsigned)below(m, NOBJ);
		shared = r < 70;
		if (n > OBJ_PAGES)
			n = 1 + below(m, OBJ_PAGES);
		objpg = below(m, OBJ_PAGES - n + 1);
		if (shared && o > NSHM && chance(m, 25))
			maxprot = VM_PROT_READ | VM_PROT_EXEC; /* a file opened read-only */
	}
	uint64_t len = n * PG;
	if (chance(m, 10))
		len -= below(m, PG - 1); /* rounds up to n pages */
	if (chance(m, 1))
		len = 0;
	unsigned prot = (unsigned)below(m, 8);
	if (chance(m, 2))
		prot |= 0x8;
	bool populate = n <= 32 && chance(m, 10);
	unsigned flags = (shared ? VM_MAP_SHARED : VM_MAP_PRIVATE) | (o ? 0 : VM_MAP_ANONYMOUS) |
			 (populate ? VM_MAP_POPULATE : 0);
	vaddr_t hint = 0;
	if (kind == 0) {
		flags |= VM_MAP_FIXED;
		hint = pick_addr(m, s, 3);
	} else if (kind == 1) {
		flags |= VM_MAP_FIXED_NOREPLACE;
		hint = pick_addr(m, s, 3);
	} else if (kind == 2) {
		hint = pick_addr(m, s, 10);
	}

	/* Predict, in Linux's order (do_mmap, __get_unmapped_area). */
	int want = 0;
	vaddr_t want_at = 0;
	bool fixed = kind <= 1;
	if (len == 0 || (prot & ~VM_PROT_ALL))
		want = -MMK_EINVAL;
	else if (fixed && hint + n * PG > WEND)
		want = -MMK_ENOMEM;
	else if (fixed && !mmk_page_aligned(hint))
		want = -MMK_EINVAL;
	else if (fixed && hint < WBASE)
		want = -MMK_EPERM;
	else if (kind == 1 && !range_free(m, s, hint, hint + n * PG))
		want = -MMK_EEXIST;
	else if (fixed)
		want_at = hint;
	else {
		vaddr_t h = mmk_page_round_down(hint);
		if (h && h >= WBASE && h + n * PG <= WEND && range_free(m, s, h, h + n * PG))
			want_at = h;
		else if (!(want_at = first_fit(m, s, n)))
			want = -MMK_ENOMEM;
	}
	if (!want && (prot & ~maxprot))
		want = -MMK_EACCES;
	unsigned errs = 0;
	if (len == 0 || (prot & ~VM_PROT_ALL) || (fixed && !mmk_page_aligned(hint)))
		errs |= ebit(-MMK_EINVAL);
	if (want == -MMK_ENOMEM || (fixed && hint + n * PG > WEND))
		errs |= ebit(-MMK_ENOMEM);
	if (fixed && hint < WBASE)
		errs |= ebit(-MMK_EPERM);
	if (kind == 1 && !range_free(m, s, hint, hint + n * PG))
		errs |= ebit(-MMK_EEXIST);
	if (prot & ~maxprot)
		errs |= ebit(-MMK_EACCES);

	logf_(m, "P%u map %s %#llx len %#llx prot %u %s obj %d pg %llu%s max %u -> want %s %#llx", m->sp[s].name,
	      kinds[kind], (unsigned long long)hint, (unsigned long long)len, prot, shared ? "shared" : "private",
	      (int)o - 1, (unsigned long long)objpg, populate ? " populate" : "", maxprot, err(want),
	      (unsigned long long)want_at);
	vaddr_t out = 0;
	struct vm_object *obj = o ? m->obj[o - 1].o : NULL;
	int rc = vm_map(m->sp[s].as, hint, len, prot, flags, obj, objpg * PG, maxprot, &out);
	if ((rc != want && !order_only(m, rc, want, errs)) || (!rc && out != want_at))
		model_fail(m, s, want_at ? want_at : hint, "vm_map returned %s at %#llx, model says %s at %#llx",
			   err(rc), (unsigned long long)out, err(want), (unsigned long long)want_at);
	m->stats[rc ? S_MAP_ERR : S_MAP]++;
	if (rc)
		return;
	drop_range(m, s, out, out + n * PG, "MAP_FIXED over a mapping");
	for (uint64_t k = 0; k < n; k++) {
		struct mpage *p = P(m, s, out + k * PG);
		p->mapped = 1;
		p->prot = (uint8_t)prot;
		p->maxprot = (uint8_t)maxprot;
		p->shared = shared;
		p->obj = (uint8_t)o;
		p->objpg = (uint16_t)(o ? objpg + k : 0);
		/* MAP_POPULATE: a private writable mapping is populated for
		 * write (pages of its own), anything else for read. */
		if (populate && prot) {
			p->resident = 1;
			if (!shared && (!o || (prot & VM_PROT_WRITE)))
				p->anon = manon_new(m, page_bytes(m, p));
		}
	}
}

static void step_unmap(struct model *m)
{
	unsigned s = pick_space(m);
	vaddr_t a = pick_addr(m, s, 3);
	uint64_t n = chance(m, 80) ? 1 + below(m, 24) : pick_pages(m);
	uint64_t len = chance(m, 2) ? 0 : n * PG - (chance(m, 10) ? below(m, PG - 1) : 0);
	int want = 0;
	if (!mmk_page_aligned(a) || len == 0 || a + n * PG > WEND)
		want = -MMK_EINVAL;
	logf_(m, "P%u unmap %#llx len %#llx -> want %s", m->sp[s].name, (unsigned long long)a, (unsigned long long)len,
	      err(want));
	int rc = vm_unmap(m->sp[s].as, a, len);
	if (rc != want)
		model_fail(m, s, a, "vm_unmap returned %s, model says %s", err(rc), err(want));
	m->stats[S_UNMAP]++;
	if (!rc)
		drop_range(m, s, a, a + n * PG, "munmap");
}

static void step_protect(struct model *m)
{
	unsigned s = pick_space(m);
	vaddr_t a = pick_addr(m, s, 2);
	uint64_t n = 1 + below(m, 24);
	uint64_t len = chance(m, 2) ? 0 : n * PG - (chance(m, 10) ? below(m, PG - 1) : 0);
	unsigned prot = (unsigned)below(m, 8);
	/* Linux do_mprotect_pkey: alignment, then len 0, then the range in
	 * address order: the first hole or refusing VMA decides. */
	int want = 0;
	if (!mmk_page_aligned(a))
		want = -MMK_EINVAL;
	else if (len == 0)
		want = 0;
	else if (a + n * PG > WEND)
		want = -MMK_ENOMEM;
	else
		for (vaddr_t x = a; x < a + n * PG && !want; x += PG) {
			struct mpage *p = in_window(x) ? P(m, s, x) : NULL;
			if (!p || !p->mapped)
				want = -MMK_ENOMEM;
			else if (prot & ~p->maxprot)
				want = -MMK_EACCES;
		}
	logf_(m, "P%u protect %#llx len %#llx prot %u -> want %s", m->sp[s].name, (unsigned long long)a,
	      (unsigned long long)len, prot, err(want));
	int rc = vm_protect(m->sp[s].as, a, len, prot);
	if (rc != want)
		model_fail(m, s, a, "vm_protect returned %s, model says %s", err(rc), err(want));
	m->stats[rc ? S_PROT_ERR : S_PROT]++;
	if (rc || len == 0)
		return;
	for (vaddr_t x = a; x < a + n * PG; x += PG)
		P(m, s, x)->prot = (uint8_t)prot;
}

/* mremap in place, moved to the first fit with MAYMOVE, or moved with
 * MREMAP_FIXED (over what is there, shrinking or growing); DONTUNMAP is
 * test_vm_model's.  Pages move with their bytes, residency and anons. */
static void step_remap(struct model *m)
{
	unsigned s = pick_space(m);
	vaddr_t old = pick_addr(m, s, 1);
	const struct vm_area *v = mmk_page_aligned(old) ? vm_search(m->sp[s].as, old) : NULL;
	if (v && chance(m, 50))
		old = v->start;
	uint64_t avail = v ? (v->end - old) / PG : 4;
	uint64_t old_n = chance(m, 95) ? 1 + below(m, avail) : avail + 1 + below(m, 4);
	uint64_t new_n = chance(m, 60) ? 1 + below(m, 32) : old_n + below(m, 8);
	struct mpage first = in_window(old) ? *P(m, s, mmk_page_round_down(old)) : (struct mpage){ 0 };
	if (first.obj && first.objpg + new_n > OBJ_PAGES)
		new_n = OBJ_PAGES - first.objpg; /* objects end at OBJ_PAGES for the model */
	if (new_n == 0)
		new_n = 1;
	unsigned r = (unsigned)below(m, 100);
	unsigned flags = r < 30 ? 0 : r < 75 ? VM_MREMAP_MAYMOVE : VM_MREMAP_MAYMOVE | VM_MREMAP_FIXED;
	vaddr_t new_addr = flags & VM_MREMAP_FIXED ? pick_addr(m, s, 2) : 0;
	uint64_t old_len = old_n * PG, new_len = new_n * PG;
	vaddr_t v_end = v ? v->end : 0;
	bool fixed = flags & VM_MREMAP_FIXED;
	bool bad_target = fixed && (!mmk_page_aligned(new_addr) || new_addr + new_len > WEND ||
				    (new_addr < old + old_len && old < new_addr + new_len));
	/* Linux's order (mm/mremap.c): the old address, the VMA at old, the
	 * FIXED target, the old length against the VMA, mmap_min_addr. */
	int want = 0;
	vaddr_t want_at = old;
	bool move = false;
	if (!mmk_page_aligned(old))
		want = -MMK_EINVAL;
	else if (!v)
		want = -MMK_EFAULT;
	else if (bad_target)
		want = -MMK_EINVAL;
	else if (old_len > v_end - old)
		want = -MMK_EFAULT;
	else if (fixed && new_addr < WBASE)
		want = -MMK_EPERM;
	else if (fixed) {
		want_at = new_addr;
		move = true;
	} else if (new_n <= old_n)
		want_at = old;
	else if (old + old_len == v_end && old + new_len <= WEND && range_free(m, s, v_end, old + new_len))
		want_at = old;
	else if (flags & VM_MREMAP_MAYMOVE) {
		if (!(want_at = first_fit(m, s, new_n)))
			want = -MMK_ENOMEM;
		move = true;
	} else
		want = -MMK_ENOMEM;
	if (want)
		want_at = 0;
	unsigned errs = 0;
	if (!mmk_page_aligned(old) || bad_target)
		errs |= ebit(-MMK_EINVAL);
	if (!v || old_len > v_end - old)
		errs |= ebit(-MMK_EFAULT);
	if (fixed && new_addr < WBASE)
		errs |= ebit(-MMK_EPERM);
	logf_(m, "P%u remap %#llx %#llx -> %#llx flags %u new %#llx (vma end %#llx) -> want %s %#llx", m->sp[s].name,
	      (unsigned long long)old, (unsigned long long)old_len, (unsigned long long)new_len, flags,
	      (unsigned long long)new_addr, (unsigned long long)v_end, err(want), (unsigned long long)want_at);
	vaddr_t out = 0;
	int rc = vm_remap(m->sp[s].as, old, old_len, new_len, flags, new_addr, &out);
	if ((rc != want && !order_only(m, rc, want, errs)) || (!rc && out != want_at))
		model_fail(m, s, old, "vm_remap returned %s at %#llx, model says %s at %#llx", err(rc),
			   (unsigned long long)out, err(want), (unsigned long long)want_at);
	if (rc) {
		m->stats[S_REMAP_ERR]++;
		return;
	}
	m->stats[move ? S_REMAP_MOVE : S_REMAP]++;
	uint64_t keep = old_n < new_n ? old_n : new_n;
	uint64_t i0 = (old - WBASE) / PG, d0 = (want_at - WBASE) / PG;
	struct mpage *pg = m->sp[s].pg;
	if (!move) {
		if (new_n < old_n) {
			drop_pages(m, s, i0 + new_n, i0 + old_n, "mremap shrinking");
		} else {
			struct mpage last = pg[i0 + old_n - 1];
			for (uint64_t k = old_n; k < new_n; k++) {
				struct mpage *p = &pg[i0 + k];
				memset(p, 0, sizeof(*p));
				p->mapped = 1;
				p->prot = last.prot;
				p->maxprot = last.maxprot;
				p->shared = last.shared;
				p->dontfork = last.dontfork;
				p->wipe = last.wipe;
				p->obj = last.obj;
				p->objpg = (uint16_t)(last.obj ? last.objpg + (k - old_n + 1) : 0);
			}
		}
		return;
	}
	/* Moved: the shrunk-away tail goes, and what was at the target;
	 * kept pages move; new ones follow. */
	drop_pages(m, s, i0 + keep, i0 + old_n, "mremap, a shrinking move");
	struct mpage buf[NP];
	memcpy(buf, &pg[i0], keep * sizeof(struct mpage));
	memset(&pg[i0], 0, keep * sizeof(struct mpage));
	drop_pages(m, s, d0, d0 + new_n, "mremap FIXED over a mapping");
	for (uint64_t k = 0; k < new_n; k++) {
		struct mpage *p = &pg[d0 + k];
		if (k < keep) {
			*p = buf[k];
			continue;
		}
		memset(p, 0, sizeof(*p));
		p->mapped = 1;
		p->prot = first.prot;
		p->maxprot = first.maxprot;
		p->shared = first.shared;
		p->dontfork = first.dontfork;
		p->wipe = first.wipe;
		p->obj = first.obj;
		p->objpg = (uint16_t)(first.obj ? first.objpg + k : 0);
	}
}

/* Pages reclaim may take now, but page skip of space skip_s. */
static uint64_t count_evictable(struct model *m, unsigned skip_s, uint64_t skip)
{
	uint64_t n = 0;
	for (unsigned s = 0; s < MAXS; s++)
		for (uint64_t i = 0; m->sp[s].live && i < NP; i++)
			n += (s != skip_s || i != skip) && evictable(&m->sp[s].pg[i]);
	return n;
}

/* A touch; true when it may have reclaimed. */
static bool step_touch(struct model *m)
{
	unsigned s = pick_space(m);
	uint64_t i = pick_page(m, s);
	struct mpage *p = &m->sp[s].pg[i];
	unsigned r = (unsigned)below(m, 100);
	unsigned access = r < 45 ? VMFX_R : r < 90 ? VMFX_W : VMFX_X;
	unsigned len = 1 + (unsigned)below(m, chance(m, 20) ? 256 : 8);
	unsigned off = (unsigned)below(m, PG - len + 1);
	vaddr_t va = addr_of(i) + off;
	int want = 0;
	if (!p->mapped)
		want = -MMK_EFAULT;
	else if (!p->prot || ((access & VMFX_W) && !(p->prot & VM_PROT_WRITE)) ||
		 ((access & VMFX_X) && !(p->prot & VM_PROT_EXEC)))
		want = -MMK_EACCES;
	static const char *names[] = { "?", "read", "write", "?", "exec" };
	uint8_t buf[256];
	for (unsigned k = 0; k < len; k++)
		buf[k] = (uint8_t)rnd(m);
	/* No frame at all: the next allocation fails, so the fault must
	 * reclaim (vm_fault_locked's second chance) or give ENOMEM when
	 * nothing can go.  Not for swapped pages (a page-in that then fails
	 * would leave the anon resident without a translation). */
	bool starve = m->starve && !want && chance(m, 8) && !(p->anon && p->anon->swapped);
	uint64_t outs0 = m->fx->s.vm.page_outs;
	/* A swapped page whose page-in fails: the access gets the pager's
	 * error (SIGBUS-like) and nothing is lost. */
	bool fail_in = !want && p->anon && p->anon->swapped && chance(m, 15);
	logf_(m, "P%u touch %s %#llx len %u%s%s -> want %s", m->sp[s].name, names[access], (unsigned long long)va, len,
	      starve ? " (no frame)" : "", fail_in ? " (page-in fails)" : "", err(fail_in ? -5 : want));
	activate(m, s);
	if (starve)
		mmk_failpoint_arm(&m->fx->s.failpoint, 1, false);
	m->swap.fail_in = fail_in;
	int rc;
	if (access == VMFX_W)
		rc = sim_write(m->fx->s.machine, 0, va, buf, len, true);
	else if (access == VMFX_R)
		rc = sim_read(m->fx->s.machine, 0, va, buf, len, true);
	else
		rc = vmfx_touch(m->fx, 0, va, access);
	mmk_failpoint_arm(&m->fx->s.failpoint, 0, false);
	if (fail_in) {
		if (m->swap.fail_in)
			model_fail(m, s, va, "the page is swapped, the access did not page it in (%s)", err(rc));
		if (rc != -5)
			model_fail(m, s, va, "the page-in failed with EIO, the access returned %s", err(rc));
		m->stats[S_PAGE_IN_FAILED]++;
		return m->pressure; /* nothing changed: the comparison checks it */
	}
	if (starve) {
		m->stats[S_STARVED]++;
		m->stats[S_STARVED_RECLAIMED] += m->fx->s.vm.page_outs != outs0;
	}
	if (starve && rc == -MMK_ENOMEM) {
		/* Allowed when reclaim found nothing to take (checked after
		 * the residency is reconciled); nothing else changed. */
		m->enomem = true;
		m->enomem_s = s;
		m->enomem_i = i;
		return true;
	}
	if (rc != want)
		model_fail(m, s, va, "access returned %s, model says %s", err(rc), err(want));
	m->stats[rc ? S_TOUCH_ERR : S_TOUCH]++;
	if (rc)
		return false;
	if (access == VMFX_R) {
		const uint8_t *expect = page_bytes(m, p) + off;
		for (unsigned k = 0; k < len; k++)
			if (buf[k] != expect[k])
				model_fail(m, s, va, "read %#llx gave %#x, model says %#x", (unsigned long long)(va + k),
					   buf[k], expect[k]);
	}
	model_access(m, s, i, access == VMFX_W, off, buf, len);
	return m->pressure || starve;
}

static void step_dontneed(struct model *m)
{
	unsigned s = pick_space(m);
	vaddr_t a = pick_addr(m, s, 2);
	uint64_t n = 1 + below(m, 24);
	uint64_t len = chance(m, 2) ? 0 : n * PG - (chance(m, 10) ? below(m, PG - 1) : 0);
	int want = 0;
	if (!mmk_page_aligned(a))
		want = -MMK_EINVAL;
	else if (len && !range_covered(m, s, a, n))
		want = -MMK_ENOMEM;
	logf_(m, "P%u madvise DONTNEED %#llx len %#llx -> want %s", m->sp[s].name, (unsigned long long)a,
	      (unsigned long long)len, err(want));
	int rc = vm_madvise(m->sp[s].as, a, len, VM_MADV_DONTNEED);
	if (rc != want)
		model_fail(m, s, a, "vm_madvise returned %s, model says %s", err(rc), err(want));
	m->stats[S_DONTNEED]++;
	if (rc || len == 0)
		return;
	for (uint64_t k = 0; k < n; k++) {
		struct mpage *p = P(m, s, a + k * PG);
		p->resident = 0;
		if (!p->shared) {
			manon_put(m, p->anon);
			p->anon = NULL;
		}
	}
}

/* madvise DONTFORK, DOFORK, WIPEONFORK, KEEPONFORK. */
static void step_forkflags(struct model *m)
{
	static const int advs[] = { VM_MADV_DONTFORK, VM_MADV_DOFORK, VM_MADV_WIPEONFORK, VM_MADV_KEEPONFORK };
	static const char *names[] = { "DONTFORK", "DOFORK", "WIPEONFORK", "KEEPONFORK" };
	unsigned s = pick_space(m);
	unsigned k = (unsigned)below(m, 4);
	vaddr_t a = pick_addr(m, s, 2);
	uint64_t n = 1 + below(m, 24);
	if (chance(m, 40)) { /* often a whole mapping */
		const struct vm_area *v = mmk_page_aligned(a) ? vm_search(m->sp[s].as, a) : NULL;
		if (v && v->end <= WEND) {
			a = v->start;
			n = (v->end - v->start) / PG;
		}
	}
	uint64_t len = chance(m, 2) ? 0 : n * PG;
	/* vm_madvise: alignment, len 0, then any VMA refusing the advice
	 * (WIPEONFORK: only private anonymous memory), then a hole. */
	int want = 0;
	if (!mmk_page_aligned(a))
		want = -MMK_EINVAL;
	else if (len) {
		for (uint64_t j = 0; j < n; j++) {
			vaddr_t x = a + j * PG;
			struct mpage *p = in_window(x) ? P(m, s, x) : NULL;
			if (advs[k] == VM_MADV_WIPEONFORK && p && p->mapped && (p->shared || p->obj))
				want = -MMK_EINVAL;
		}
		if (!want && !range_covered(m, s, a, n))
			want = -MMK_ENOMEM;
	}
	logf_(m, "P%u madvise %s %#llx len %#llx -> want %s", m->sp[s].name, names[k], (unsigned long long)a,
	      (unsigned long long)len, err(want));
	int rc = vm_madvise(m->sp[s].as, a, len, advs[k]);
	if (rc != want)
		model_fail(m, s, a, "vm_madvise(%s) returned %s, model says %s", names[k], err(rc), err(want));
	m->stats[rc ? S_FORKFLAGS_ERR : S_FORKFLAGS]++;
	if (rc || len == 0)
		return;
	for (uint64_t j = 0; j < n; j++) {
		struct mpage *p = P(m, s, a + j * PG);
		if (k < 2)
			p->dontfork = k == 0;
		else
			p->wipe = k == 2;
	}
}

static void step_msync(struct model *m)
{
	unsigned s = pick_space(m);
	vaddr_t a = pick_addr(m, s, 2);
	uint64_t n = 1 + below(m, 32);
	if (chance(m, 40)) {
		const struct vm_area *v = mmk_page_aligned(a) ? vm_search(m->sp[s].as, a) : NULL;
		if (v && v->end <= WEND) {
			a = v->start;
			n = (v->end - v->start) / PG;
		}
	}
	uint64_t len = chance(m, 2) ? 0 : n * PG;
	unsigned r = (unsigned)below(m, 100);
	unsigned flags = r < 60 ? VM_MS_SYNC : r < 90 ? VM_MS_ASYNC : r < 98 ? (VM_MS_SYNC | VM_MS_INVALIDATE) : 0x10;
	int want = 0;
	if ((flags & ~7u) || !mmk_page_aligned(a))
		want = -MMK_EINVAL;
	else if (len && !range_covered(m, s, a, n))
		want = -MMK_ENOMEM;
	logf_(m, "P%u msync %#llx len %#llx flags %#x -> want %s", m->sp[s].name, (unsigned long long)a,
	      (unsigned long long)len, flags, err(want));
	int rc = vm_msync(m->sp[s].as, a, len, flags);
	if (rc != want)
		model_fail(m, s, a, "vm_msync returned %s, model says %s", err(rc), err(want));
	m->stats[S_MSYNC]++;
	if (rc || len == 0)
		return;
	for (uint64_t j = 0; j < n; j++) {
		uint64_t i = (a - WBASE) / PG + j;
		struct mpage *p = &m->sp[s].pg[i];
		if (!p->shared || p->obj <= NSHM)
			continue;
		if (p->wdirty) {
			check_written(m, s, i, "msync");
		} else if (memcmp(m->obj[p->obj - 1u].store[p->objpg], obj_bytes(m, p->obj - 1u, p->objpg), PG)) {
			/* Dirtied through another space's mapping: msync writes
			 * it too, as Linux's (an fsync of the file range). */
			m->linux_msync_diff++;
			disc(m, "msync: P%u page %#llx (file %u page %u), dirtied through another space, is not in the file",
			     m->sp[s].name, (unsigned long long)addr_of(i), p->obj - 1u, p->objpg);
		}
	}
}

static void set_window(struct vm_space *as)
{
	as->min_addr = WBASE;
	as->max_addr = WEND;
	as->mmap_base = MMAP_BASE;
}

static void step_fork(struct model *m)
{
	unsigned s = pick_space(m), c = free_slot(m);
	logf_(m, "P%u fork -> P%u", m->sp[s].name, m->next_name);
	struct vm_space *child = NULL;
	int rc = vm_space_fork(m->sp[s].as, &child);
	if (rc)
		model_fail(m, s, 0, "vm_space_fork returned %s", err(rc));
	vmfx_adopt(m->fx, child);
	m->stats[S_FORK]++;
	struct mspace *cs = &m->sp[c];
	cs->as = child;
	cs->live = true;
	cs->name = m->next_name++;
	if (child->min_addr != WBASE || child->max_addr != WEND || child->mmap_base != MMAP_BASE)
		model_fail(m, s, 0, "the child's bounds differ from its parent's");
	for (uint64_t i = 0; i < NP; i++) {
		struct mpage *p = &m->sp[s].pg[i], *q = &cs->pg[i];
		memset(q, 0, sizeof(*q));
		if (!p->mapped || p->dontfork)
			continue;
		*q = *p;
		q->wdirty = 0; /* the child's translation starts clean */
		if (p->wipe) {
			q->anon = NULL;
			q->resident = 0;
		} else if (q->anon) {
			q->anon->refs++;
		}
	}
}

static void exit_space(struct model *m, unsigned s)
{
	logf_(m, "P%u exit", m->sp[s].name);
	if (m->cur == (int)s)
		m->cur = -1;
	vmfx_destroy(m->fx, m->sp[s].as);
	m->stats[S_EXIT]++;
	drop_pages(m, s, 0, NP, "exit");
	m->sp[s].live = false;
	m->sp[s].as = NULL;
}

static void step_exit(struct model *m) { exit_space(m, pick_space(m)); }

static void step_spawn(struct model *m)
{
	unsigned c = free_slot(m);
	logf_(m, "spawn P%u", m->next_name);
	struct mspace *cs = &m->sp[c];
	cs->as = vmfx_space(m->fx);
	set_window(cs->as);
	cs->live = true;
	cs->name = m->next_name++;
	memset(cs->pg, 0, sizeof(cs->pg));
	m->stats[S_SPAWN]++;
}

/* Object pages no translation maps (reclaim takes them first). */
static uint64_t page_cache_frames(struct model *m)
{
	struct vm_system_attribution sa;
	vm_system_attribution(&m->fx->s.vm, &sa);
	return sa.page_cache_bytes / PG;
}

/* Returns the frames vm_reclaim says it freed (the caller compares), and
 * in *cache_freed those of them that were page cache. */
static uint64_t step_reclaim(struct model *m, uint64_t *target, uint64_t *refused, uint64_t *cache_freed)
{
	uint64_t r0 = m->swap.refused, cache0 = page_cache_frames(m);
	*target = chance(m, 50) ? 1 + below(m, 24) : HUGE_TARGET;
	logf_(m, "vm_reclaim target %llu", (unsigned long long)*target);
	m->stats[S_RECLAIM]++;
	uint64_t freed = vm_reclaim(&m->fx->s.vm, NULL, *target);
	*refused = m->swap.refused - r0;
	uint64_t cache1 = page_cache_frames(m);
	if (cache1 > cache0)
		model_fail(m, 0, 0, "vm_reclaim made page cache (%llu frames, %llu before)", (unsigned long long)cache1,
			   (unsigned long long)cache0);
	*cache_freed = cache0 - cache1;
	return freed;
}

/* Read every accessible page of a space through the MMU (swapped pages
 * come back) and compare all its bytes. */
static void step_sweep(struct model *m)
{
	unsigned s = pick_space(m);
	logf_(m, "P%u sweep", m->sp[s].name);
	activate(m, s);
	m->stats[S_SWEEP]++;
	static uint8_t buf[PG];
	for (uint64_t i = 0; i < NP; i++) {
		struct mpage *p = &m->sp[s].pg[i];
		if (!p->mapped || !p->prot)
			continue;
		int rc = sim_read(m->fx->s.machine, 0, addr_of(i), buf, PG, true);
		if (rc)
			model_fail(m, s, addr_of(i), "sweep: reading %#llx: %s", (unsigned long long)addr_of(i), err(rc));
		const uint8_t *want = page_bytes(m, p);
		if (memcmp(buf, want, PG) != 0) {
			unsigned k = 0;
			while (buf[k] == want[k])
				k++;
			model_fail(m, s, addr_of(i), "sweep: byte %#llx is %#x, model says %#x",
				   (unsigned long long)(addr_of(i) + k), buf[k], want[k]);
		}
		model_access(m, s, i, false, 0, NULL, 0);
	}
}

/* ---- comparison ---- */

/* Read every resident, accessible page of space s through the MMU (the TLB
 * included: a stale entry left by an eviction, a copy or an unmap shows
 * here and not in the frames) and compare its bytes; none may fault. */
static void compare_through_mmu(struct model *m, unsigned s)
{
	static uint8_t buf[PG];
	activate(m, s);
	struct vm_space *as = m->sp[s].as;
	uint64_t faults = as->faults, refused = as->faults_refused;
	for (uint64_t i = 0; i < NP; i++) {
		struct mpage *p = &m->sp[s].pg[i];
		if (!p->resident || !p->prot)
			continue;
		int rc = sim_read(m->fx->s.machine, 0, addr_of(i), buf, PG, true);
		if (rc)
			model_fail(m, s, addr_of(i), "space %u: reading resident %#llx through the MMU: %s", s,
				   (unsigned long long)addr_of(i), err(rc));
		const uint8_t *want = page_bytes(m, p);
		if (memcmp(buf, want, PG) != 0) {
			unsigned k = 0;
			while (buf[k] == want[k])
				k++;
			model_fail(m, s, addr_of(i), "space %u: through the MMU, byte %#llx is %#x, model says %#x", s,
				   (unsigned long long)(addr_of(i) + k), buf[k], want[k]);
		}
		if (as->faults != faults || as->faults_refused != refused)
			model_fail(m, s, addr_of(i), "space %u: reading resident %#llx faulted", s,
				   (unsigned long long)addr_of(i));
	}
}

/* The anon at va of a private VMA (its amap slot), or NULL. */
static const struct vm_anon *anon_at(const struct vm_area *v, vaddr_t va)
{
	if (!v->amap)
		return NULL;
	return radix_lookup(&v->amap->slots, v->amap_slot + (va - v->start) / PG);
}

struct res_bits {
	uint8_t res[NP];
	bool outside;
};

static void collect_res(void *ctx, vaddr_t va, paddr_t pa, unsigned bits)
{
	struct res_bits *r = ctx;
	(void)pa;
	(void)bits;
	if (in_window(va))
		r->res[(va - WBASE) / PG] = 1;
	else
		r->outside = true;
}

/* An object page lost its translations to reclaim: after a bare reclaim
 * (no fault in the step could have read it back through another mapping)
 * its frame must be gone from the object too (its bytes in the file or a
 * swap slot).  Returns 1 the first time this pass sees the page (frames
 * freed), else 0. */
static uint64_t object_page_lost(struct model *m, unsigned s, uint64_t i, struct mpage *p, bool bare)
{
	struct mobj *ob = &m->obj[p->obj - 1u];
	pfn_t pfn;
	if (bare && vm_object_entry_frame(radix_lookup(&ob->o->pages, p->objpg), &pfn))
		model_fail(m, s, addr_of(i), "page %#llx of space %u lost its translation, its object page is resident",
			   (unsigned long long)addr_of(i), s);
	p->resident = 0;
	if (ob->lost_mark[p->objpg] == m->epoch)
		return 0;
	ob->lost_mark[p->objpg] = m->epoch;
	return 1;
}

/* Residency: the space's translations against the model's.  A page the
 * space lost in a step that may reclaim must be one reclaim may take: the
 * model then has its anon swapped (an object page keeps its bytes in the
 * object).  Returns the frames freed that way. */
static uint64_t reconcile(struct model *m, bool may_reclaim, bool bare)
{
	uint64_t lost = 0;
	m->epoch++; /* marks object pages counted in this pass */
	static struct res_bits r;
	for (unsigned s = 0; s < MAXS; s++) {
		if (!m->sp[s].live)
			continue;
		memset(&r, 0, sizeof(r));
		pmap_walk(&m->sp[s].as->pmap, 0, PMAP_USER_END, collect_res, &r);
		if (r.outside)
			model_fail(m, s, 0, "space %u has a translation outside the window", s);
		for (uint64_t i = 0; i < NP; i++) {
			struct mpage *p = &m->sp[s].pg[i];
			if (p->resident && !r.res[i]) {
				if (!may_reclaim || !evictable(p))
					model_fail(m, s, addr_of(i),
						   "page %#llx of space %u: resident in the model, not in the space (%s)",
						   (unsigned long long)addr_of(i), s,
						   may_reclaim ? "not a page reclaim may take" : "no reclaim in this step");
				if (object_page(p)) {
					lost += object_page_lost(m, s, i, p, bare);
					continue;
				}
				const struct vm_area *v = vm_search(m->sp[s].as, addr_of(i));
				const struct vm_anon *a = v ? anon_at(v, addr_of(i)) : NULL;
				if (a && !a->swapped)
					model_fail(m, s, addr_of(i),
						   "page %#llx of space %u lost its translation but was not paged out "
						   "(reclaim's path for a refused page-out; see "
						   "test_bug_refused_page_out_loses_translation)",
						   (unsigned long long)addr_of(i), s);
				p->resident = 0;
				p->anon->swapped = true;
				lost++;
			} else if (!p->resident && r.res[i]) {
				model_fail(m, s, addr_of(i), "page %#llx of space %u: resident in the space, not in the model",
					   (unsigned long long)addr_of(i), s);
			}
		}
	}
	return lost;
}

/* The model page behind a frame: its anon, or its object page. */
static uint64_t cell_of(const struct mpage *p)
{
	if (!p->shared && p->anon)
		return (uint64_t)(uintptr_t)p->anon;
	return ((uint64_t)p->obj << 20 | p->objpg) << 1 | 1;
}

/* Called by the checkers' pmap walk (vmfx_check) for every translation. */
static void res_visit(void *ctx, struct vm_space *as, vaddr_t va, paddr_t pa, unsigned bits)
{
	struct model *m = ctx;
	struct res_walk_state *w = &m->rw;
	int s = -1;
	for (unsigned k = 0; k < MAXS; k++)
		if (m->sp[k].live && m->sp[k].as == as)
			s = (int)k;
	if (s < 0)
		return;
	w->n[s]++;
	if (w->why)
		return;
	w->s = s;
	w->va = va;
	if (!in_window(va)) {
		w->why = "translation outside the window";
		return;
	}
	struct mpage *p = P(m, (unsigned)s, va);
	if (!p->mapped || !p->resident) {
		w->why = "translation of a page the model has no frame for";
		return;
	}
	if (!p->shared && !p->anon && !p->obj) {
		w->why = "model: resident private anonymous page without an anon (test bug)";
		return;
	}
	const uint8_t *bytes = hal_phys_map(m->fx->s.machine, pa);
	const uint8_t *want = page_bytes(m, p);
	if (memcmp(bytes, want, PG) != 0) {
		unsigned k = 0;
		while (bytes[k] == want[k])
			k++;
		w->why = "bytes of the frame differ from the model's";
		w->off = k;
		w->got = bytes[k];
		w->want = want[k];
		return;
	}
	if ((bits & PMAP_PROT_WRITE) && !p->shared && !(p->anon && p->anon->refs == 1)) {
		w->why = "writable translation of a private page the space does not own alone";
		return;
	}
	pfn_t pfn = mmk_paddr_to_pfn(pa);
	uint64_t c = cell_of(p);
	if (pfn < m->fx->nframes) {
		if (m->cell_epoch[pfn] == m->epoch && m->cell[pfn] != c) {
			w->why = "one frame behind two different pages of the model";
			return;
		}
		m->cell_epoch[pfn] = m->epoch;
		m->cell[pfn] = c;
	}
}

/* Layout page by page, and each private page's anon.  Returns the pages
 * the model says are resident in space s. */
static uint64_t compare_layout(struct model *m, unsigned s)
{
	struct mspace *ms = &m->sp[s];
	uint64_t cursor = 0, mapped = 0, resident = 0;
	for (const struct vm_area *v = vm_first_from(ms->as, 0); v; v = vm_next(v)) {
		if (v->start < WBASE || v->end > WEND)
			model_fail(m, s, 0, "space %u: VMA [%#llx, %#llx) outside the window", s,
				   (unsigned long long)v->start, (unsigned long long)v->end);
		uint64_t i0 = (v->start - WBASE) / PG, i1 = (v->end - WBASE) / PG;
		for (uint64_t i = cursor; i < i0; i++)
			if (ms->pg[i].mapped)
				model_fail(m, s, addr_of(i), "space %u: page %#llx mapped in the model, not in the space", s,
					   (unsigned long long)addr_of(i));
		if (v->flags & ~(VMA_SHARED | VMA_DONTFORK | VMA_WIPEONFORK))
			model_fail(m, s, v->start, "space %u: VMA [%#llx, %#llx) has flags %#x", s,
				   (unsigned long long)v->start, (unsigned long long)v->end, v->flags);
		for (uint64_t i = i0; i < i1; i++) {
			struct mpage *p = &ms->pg[i];
			struct vm_object *obj = p->obj ? m->obj[p->obj - 1u].o : NULL;
			uint64_t objoff = v->object ? v->offset + (addr_of(i) - v->start) : 0;
			if (!p->mapped || p->prot != v->prot || p->maxprot != v->max_prot ||
			    p->shared != !!(v->flags & VMA_SHARED) || p->dontfork != !!(v->flags & VMA_DONTFORK) ||
			    p->wipe != !!(v->flags & VMA_WIPEONFORK) || obj != v->object ||
			    (obj && objoff != (uint64_t)p->objpg * PG))
				model_fail(m, s, addr_of(i),
					   "space %u page %#llx: space has VMA [%#llx, %#llx) prot %u max %u flags %#x obj "
					   "%p off %#llx; model: %s prot %u max %u %s%s%s obj %p off %#llx",
					   s, (unsigned long long)addr_of(i), (unsigned long long)v->start,
					   (unsigned long long)v->end, v->prot, v->max_prot, v->flags, (void *)v->object,
					   (unsigned long long)objoff, p->mapped ? "mapped" : "unmapped", p->prot,
					   p->maxprot, p->shared ? "shared" : "private", p->dontfork ? " dontfork" : "",
					   p->wipe ? " wipeonfork" : "", (void *)obj, (unsigned long long)p->objpg * PG);
			resident += p->resident;
			if (p->shared)
				continue;
			const struct vm_anon *a = anon_at(v, addr_of(i));
			if (!!a != !!p->anon)
				model_fail(m, s, addr_of(i), "space %u page %#llx: %s anon in the space, %s in the model", s,
					   (unsigned long long)addr_of(i), a ? "an" : "no", p->anon ? "one" : "none");
			if (!a)
				continue;
			if (a->refcount != p->anon->refs || a->swapped != p->anon->swapped)
				model_fail(m, s, addr_of(i),
					   "space %u page %#llx: anon refcount %u%s, the model's %u%s", s,
					   (unsigned long long)addr_of(i), a->refcount, a->swapped ? " swapped" : "",
					   p->anon->refs, p->anon->swapped ? " swapped" : "");
			if (p->anon->epoch != m->epoch) {
				p->anon->epoch = m->epoch;
				p->anon->impl = a;
			} else if (p->anon->impl != a) {
				model_fail(m, s, addr_of(i),
					   "space %u page %#llx: the model shares this page's anon, the space has two", s,
					   (unsigned long long)addr_of(i));
			}
		}
		mapped += i1 - i0;
		cursor = i1;
	}
	for (uint64_t i = cursor; i < NP; i++)
		if (ms->pg[i].mapped)
			model_fail(m, s, addr_of(i), "space %u: page %#llx mapped in the model, not in the space", s,
				   (unsigned long long)addr_of(i));
	if (mapped != ms->as->mapped_pages)
		model_fail(m, s, 0, "space %u: mapped_pages %llu, VMAs cover %llu", s,
			   (unsigned long long)ms->as->mapped_pages, (unsigned long long)mapped);
	return resident;
}

static void compare_mincore(struct model *m, unsigned s)
{
	static uint8_t vec[NP];
	uint64_t i = 0;
	while (i < NP) {
		if (!m->sp[s].pg[i].mapped) {
			i++;
			continue;
		}
		uint64_t j = i;
		while (j < NP && m->sp[s].pg[j].mapped)
			j++;
		int rc = vm_mincore(m->sp[s].as, addr_of(i), (j - i) * PG, vec);
		if (rc)
			model_fail(m, s, addr_of(i), "vm_mincore of mapped pages: %s", err(rc));
		for (uint64_t k = i; k < j; k++)
			if (vec[k - i] != m->sp[s].pg[k].resident)
				model_fail(m, s, addr_of(k), "vm_mincore says %u at %#llx, model %u", vec[k - i],
					   (unsigned long long)addr_of(k), m->sp[s].pg[k].resident);
		i = j;
	}
}

static void compare(struct model *m)
{
	m->epoch++;
	memset(&m->rw, 0, sizeof(m->rw));
	vmfx_check(m->fx); /* its pmap walk also runs res_visit */
	struct res_walk_state *w = &m->rw;
	if (w->why)
		model_fail(m, (unsigned)w->s, w->va, "space %d, %#llx: %s (byte %#x: got %#x, want %#x)", w->s,
			   (unsigned long long)w->va, w->why, w->off, w->got, w->want);
	uint64_t swapped = 0;
	for (unsigned s = 0; s < MAXS; s++) {
		if (!m->sp[s].live)
			continue;
		uint64_t want = compare_layout(m, s);
		if (w->n[s] != want)
			model_fail(m, s, 0, "space %u: %llu pages resident, %llu in the model", s,
				   (unsigned long long)w->n[s], (unsigned long long)want);
		if (m->step % 32 == s)
			compare_mincore(m, s);
	}
	/* Through the MMU: the active space (whose TLB has history) every
	 * step, every space every 16 steps. */
	if (m->cur >= 0)
		compare_through_mmu(m, (unsigned)m->cur);
	for (unsigned s = 0; m->step % 16 == 0 && s < MAXS; s++)
		if (m->sp[s].live && (int)s != m->cur)
			compare_through_mmu(m, s);
	/* Each swapped anon holds one swap slot (epoch marks count each once). */
	m->epoch++;
	for (unsigned s = 0; s < MAXS; s++)
		for (uint64_t i = 0; m->sp[s].live && i < NP; i++) {
			struct manon *a = m->sp[s].pg[i].anon;
			if (a && a->epoch != m->epoch) {
				a->epoch = m->epoch;
				swapped += a->swapped;
			}
		}
	/* ... and each swapped page of shared anonymous memory one. */
	uint64_t obj_swapped = 0;
	for (unsigned o = 0; o < NOBJ; o++) {
		uint64_t key = 0;
		void *e;
		pfn_t pfn;
		while ((e = radix_next(&m->obj[o].o->pages, key, &key))) {
			obj_swapped += !vm_object_entry_frame(e, &pfn);
			key++;
		}
	}
	if (swapped + obj_swapped != m->swap.used)
		model_fail(m, 0, 0, "%llu swap slots in use, the model has %llu anons and %llu object pages swapped",
			   (unsigned long long)m->swap.used, (unsigned long long)swapped, (unsigned long long)obj_swapped);
}

/* ---- the runs ---- */

struct run {
	struct vmfx fx;
	struct model m;
};

static int setup(void **state)
{
	struct run *r = calloc(1, sizeof(*r));
	if (!r)
		return -1;
	*state = r;
	return 0;
}

static void free_model(struct model *m)
{
	for (unsigned s = 0; s < MAXS; s++)
		for (uint64_t i = 0; i < NP; i++) {
			manon_put(m, m->sp[s].pg[i].anon);
			m->sp[s].pg[i].anon = NULL;
		}
	for (unsigned o = 0; o < NOBJ; o++)
		for (unsigned pg = 0; pg < OBJ_PAGES; pg++) {
			free(m->obj[o].page[pg]);
			free(m->obj[o].store[pg]);
			m->obj[o].page[pg] = m->obj[o].store[pg] = NULL;
		}
	if (m->swap.page)
		for (uint64_t i = 0; i < m->swap.cap; i++)
			free(m->swap.page[i]);
	free(m->swap.page);
	m->swap.page = NULL;
	free(m->cell);
	free(m->cell_epoch);
	free(m->disc_steps);
	m->cell = NULL;
	m->cell_epoch = NULL;
	m->disc_steps = NULL;
}

static int teardown(void **state)
{
	struct run *r = *state;
	struct model *m = &r->m;
	/* A run that got here with the machine still up failed half-way
	 * (the test's object references keep it busy): only clean up. */
	if (r->fx.booted)
		r->fx.failed = true;
	vmfx_shutdown(&r->fx);
	free_model(m);
	free(r);
	return 0;
}

/* The bytes of file o at page pg when the run starts: a pattern over the
 * first pages, zeroes after (the file is shorter than its mappings). */
static void file_pattern(unsigned o, unsigned pg, uint8_t *buf)
{
	unsigned size_pages = 64 - 20 * (o - NSHM); /* 64, 44, 24 */
	if (pg >= size_pages) {
		memset(buf, 0, PG);
		return;
	}
	for (unsigned k = 0; k < PG; k++) {
		uint32_t x = (o * 0x9e3779b1u) ^ (pg * 0x85ebca6bu) ^ (k * 0xc2b2ae35u);
		x ^= x >> 15;
		buf[k] = (uint8_t)(x * 0x2c1b3c6du >> 24);
	}
}

static void run_seed(struct run *run, uint64_t seed, unsigned steps, bool pressure, bool starve)
{
	/* For hunting: MMK_MODEL_SEED_BASE shifts the seeds, MMK_MODEL_STEPS
	 * sets the steps. */
	const char *e = getenv("MMK_MODEL_SEED_BASE");
	if (e)
		seed += strtoull(e, NULL, 0);
	if ((e = getenv("MMK_MODEL_STEPS")))
		steps = (unsigned)strtoul(e, NULL, 0);
	struct vmfx *fx = &run->fx;
	struct model *m = &run->m;
	/* 32 MiB: about 6,000 free frames, several times what the runs keep
	 * resident; small RAM keeps phys_check (run every step) cheap. */
	vmfx_boot(fx, 32 * VMFX_MIB, 1);
	m->fx = fx;
	m->rng = seed * 0x9e3779b97f4a7c15ull + 1;
	m->cur = -1;
	m->pressure = pressure;
	m->starve = starve;
	m->cell = calloc(fx->nframes, sizeof(*m->cell));
	m->cell_epoch = calloc(fx->nframes, sizeof(*m->cell_epoch));
	assert_non_null(m->cell);
	assert_non_null(m->cell_epoch);
	m->swap.cap = 1u << 14;
	m->swap.page = calloc(m->swap.cap, sizeof(*m->swap.page));
	assert_non_null(m->swap.page);
	static const char *names[NOBJ] = { "/dev/shm/a", "/dev/shm/b", "/usr/lib/libfoo.so", "/var/db/data",
					   "/tmp/short" };
	for (unsigned o = 0; o < NOBJ; o++) {
		struct mobj *ob = &m->obj[o];
		ob->m = m;
		ob->idx = o;
		ob->file = o >= NSHM;
		VMFX_RC(fx, vm_object_create(&fx->s.vm, ob->file ? VM_OBJECT_FILE : VM_OBJECT_ANON, names[o], &ob->o), 0);
		fx->held[o] = ob->o;
		if (ob->file) {
			for (unsigned pg = 0; pg < OBJ_PAGES; pg++) {
				ob->store[pg] = malloc(PG);
				assert_non_null(ob->store[pg]);
				file_pattern(o, pg, ob->store[pg]);
			}
			struct vm_file_pager fp = { file_read, file_write, ob };
			vm_object_set_pager(ob->o, &fp);
		}
	}
	vmfx_reap(fx);
	uint64_t free0 = sim_system_free_frames(&fx->s);
	m->swap.refuse_every = seed % 2 ? 9 : 0; /* seeds 1 and 3: the swap area refuses at times */
	struct vm_pager sw = { swap_out, swap_in, swap_release, &m->swap };
	vm_system_set_swap(&fx->s.vm, &sw, pressure ? free0 - PRESSURE_BUDGET : 0);
	m->sp[0].as = vmfx_space(fx);
	m->sp[0].live = true;
	m->sp[0].name = m->next_name++;
	set_window(m->sp[0].as);
	fx->visit = res_visit;
	fx->visit_ctx = m;
	compare(m);
	for (m->step = 1; m->step <= steps; m->step++) {
		unsigned r = (unsigned)below(m, 100), live = nlive(m);
		bool may_reclaim = false;
		uint64_t target = 0, freed = 0, refused = 0, cache_freed = 0;
		m->enomem = false;
		m->refused0 = m->swap.refused;
		if (r < 15)
			step_map(m);
		else if (r < 21)
			step_unmap(m);
		else if (r < 26)
			step_protect(m);
		else if (r < 30)
			step_remap(m);
		else if (r < 62)
			may_reclaim = step_touch(m); else if (r < 66)
			step_dontneed(m);
		else if (r < 70)
			step_forkflags(m);
		else if (r < 74)
			step_msync(m);
		else if (r < 81 && live < MAXS)
			step_fork(m);
		else if (r < 81 || (r < 86 && live > 1))
			step_exit(m);
		else if (r < 87 && live < MAXS)
			step_spawn(m);
		else if (r < 95) {
			freed = step_reclaim(m, &target, &refused, &cache_freed);
			may_reclaim = true;
		} else if (r < 97) {
			step_sweep(m);
			may_reclaim = pressure;
		} else {
			may_reclaim = step_touch(m);
		}
		uint64_t lost = reconcile(m, may_reclaim, target != 0);
		/* (a page the swap pager refused stays, and may be all there was) */
		uint64_t can_go = m->enomem && m->swap.refused == m->refused0
					  ? count_evictable(m, m->enomem_s, m->enomem_i) : 0;
		if (can_go)
			model_fail(m, m->enomem_s, addr_of(m->enomem_i),
				   "the touch found no frame and gave ENOMEM, though reclaim could take %llu pages",
				   (unsigned long long)can_go);
		m->stats[S_EVICTED] += lost;
		if (!target)
			m->stats[S_FAULT_EVICTED] += lost;
		if (target) {
			if (freed != lost + cache_freed)
				model_fail(m, 0, 0, "vm_reclaim returned %llu, the spaces lost %llu pages, the page cache %llu",
					   (unsigned long long)freed, (unsigned long long)lost, (unsigned long long)cache_freed);
			if (freed > target)
				model_fail(m, 0, 0, "vm_reclaim freed %llu frames, more than its target %llu",
					   (unsigned long long)freed, (unsigned long long)target);
			/* An unbounded pass (two turns of the clock) takes every
			 * page it may take, unless the pager refused some. */
			for (unsigned s = 0; target == HUGE_TARGET && !refused && s < MAXS; s++)
				for (uint64_t i = 0; m->sp[s].live && i < NP; i++)
					if (evictable(&m->sp[s].pg[i]))
						model_fail(m, s, addr_of(i),
							   "vm_reclaim(unbounded) left page %#llx of space %u resident",
							   (unsigned long long)addr_of(i), s);
		}
		compare(m);
	}
	struct vm_system *sys = &fx->s.vm;
	fprintf(stderr, "seed %llu%s%s: %u steps:", (unsigned long long)seed, pressure ? " (faults reclaim)" : "",
		starve ? " (no frame at times)" : "", steps);
	for (unsigned k = 0; k < S_NSTATS; k++)
		fprintf(stderr, "%s %s %llu", k ? "," : "", stat_names[k], (unsigned long long)m->stats[k]);
	uint64_t wb = 0;
	for (unsigned o = NSHM; o < NOBJ; o++)
		wb += m->obj[o].writes;
	fprintf(stderr,
		"; cow copies %llu, page-outs %llu (%llu refused), page-ins %llu, writebacks %llu, %u spaces live\n",
		(unsigned long long)sys->cow_copies, (unsigned long long)sys->page_outs,
		(unsigned long long)m->swap.refused, (unsigned long long)sys->page_ins, (unsigned long long)wb, nlive(m));

	/* Everything goes: the files must then hold every byte written
	 * through a shared mapping. */
	m->step++;
	logf_(m, "every space exits, the objects are closed");
	for (unsigned s = 0; s < MAXS; s++)
		if (m->sp[s].live)
			exit_space(m, s);
	compare(m);
	fx->visit = NULL;
	for (unsigned o = NSHM; o < NOBJ; o++)
		for (unsigned pg = 0; pg < OBJ_PAGES; pg++)
			if (memcmp(m->obj[o].store[pg], obj_bytes(m, o, pg), PG) != 0)
				disc(m, "at the end, file %u page %u lacks bytes written through a shared mapping", o, pg);
	for (unsigned o = 0; o < NOBJ; o++) {
		fx->held[o] = NULL;
		vm_object_release(sys, m->obj[o].o);
		m->obj[o].o = NULL;
	}
	VMFX_EQ(fx, m->swap.used, 0);
	VMFX_EQ(fx, m->anons_live, 0);
	if (m->linux_msync_diff)
		fprintf(stderr,
			"seed %llu: %llu times msync left a page another space had dirtied (Linux's msync writes it)\n",
			(unsigned long long)seed, (unsigned long long)m->linux_msync_diff);
	if (m->ndisc) {
		fprintf(stderr, "seed %llu: %u findings, the first ones:\n", (unsigned long long)seed, m->ndisc);
		for (unsigned k = 0; k < m->ndisc && k < NDISC; k++)
			fprintf(stderr, "  %s\n", m->disc[k]);
		fprintf(stderr, "---- the steps up to the first finding ----\n%s", m->disc_steps);
		vmfx_fail(fx, "seed %llu: %u findings (listed above)", (unsigned long long)seed, m->ndisc);
	}
	/* Every kind of step happened. */
	for (unsigned k = 0; k < S_NSTATS; k++)
		if (!m->stats[k] && (k != S_FAULT_EVICTED || pressure || starve) &&
		    ((k != S_STARVED && k != S_STARVED_RECLAIMED) || starve))
			vmfx_fail(fx, "seed %llu: no step of kind \"%s\"", (unsigned long long)seed, stat_names[k]);
	VMFX_TRUE(fx, sys->page_ins > 0);
	VMFX_TRUE(fx, wb > 0);
	vmfx_shutdown(fx);
}

/* ---- the model's findings, each as a small reproduction ----
 *
 * Fixed ones stay as regression tests (the fixes: commit cdfb940); an open
 * one is named test_bug_* and fails until src/vm is fixed. */

#define RBASE ((vaddr_t)0x40000000ull)
#define RW (VM_PROT_READ | VM_PROT_WRITE)

/* A file of 8 pages in host memory. */
struct small_file {
	uint8_t store[8][PG];
	unsigned writes;
};

static int sf_read(void *ctx, uint64_t pgoff, void *page)
{
	struct small_file *f = ctx;
	if (pgoff < 8)
		memcpy(page, f->store[pgoff], PG);
	else
		memset(page, 0, PG);
	return 0;
}

static int sf_write(void *ctx, uint64_t pgoff, const void *page)
{
	struct small_file *f = ctx;
	if (pgoff < 8)
		memcpy(f->store[pgoff], page, PG);
	f->writes++;
	return 0;
}

struct repro {
	struct vmfx fx;
	struct small_file file;
	struct vm_object *obj;
	struct vm_space *as;
};

static int repro_setup(void **state)
{
	struct repro *r = calloc(1, sizeof(*r));
	if (!r)
		return -1;
	vmfx_boot(&r->fx, 32 * VMFX_MIB, 1);
	VMFX_RC(&r->fx, vm_object_create(&r->fx.s.vm, VM_OBJECT_FILE, "/var/db/file", &r->obj), 0);
	struct vm_file_pager fp = { sf_read, sf_write, &r->file };
	vm_object_set_pager(r->obj, &fp);
	r->fx.held[0] = r->obj;
	r->as = vmfx_space(&r->fx);
	vm_space_activate(r->as, 0);
	*state = r;
	return 0;
}

static int repro_teardown(void **state)
{
	struct repro *r = *state;
	if (!r->fx.failed) {
		vmfx_destroy(&r->fx, r->as);
		r->fx.held[0] = NULL;
		vm_object_release(&r->fx.s.vm, r->obj);
	}
	vmfx_shutdown(&r->fx);
	free(r);
	return 0;
}

static vaddr_t map_file(struct repro *r, vaddr_t at, uint64_t pages, unsigned prot, unsigned type)
{
	vaddr_t out = 0;
	VMFX_RC(&r->fx, vm_map(r->as, at, pages * PG, prot, type | VM_MAP_FIXED, r->obj, 0, VM_PROT_ALL, &out), 0);
	return out;
}

/* PROT_WRITE alone is readable on x86 (vm_pte_prot says so); a private
 * file page, mapped read-only until written, must stay readable (it was
 * mapped with prot & ~PROT_WRITE = PROT_NONE, and the read faulted until
 * sim_access gave up with EFAULT). */
static void test_write_only_private_file_read(void **state)
{
	struct repro *r = *state;
	struct vmfx *fx = &r->fx;
	r->file.store[0][5] = 0x42;
	map_file(r, RBASE, 1, VM_PROT_WRITE, VM_MAP_PRIVATE);
	vmfx_op(fx, "read a private file page mapped PROT_WRITE only");
	uint8_t b = 0;
	VMFX_RC(fx, vmfx_read8(fx, 0, RBASE + 5, &b), 0);
	VMFX_EQ(fx, b, 0x42);
}

/* The same after fork: the parent's private PROT_WRITE page, shared
 * copy-on-write and write-protected, must stay readable. */
static void test_write_only_read_after_fork(void **state)
{
	struct repro *r = *state;
	struct vmfx *fx = &r->fx;
	vmfx_map(fx, r->as, RBASE, PG, VM_PROT_WRITE, VM_MAP_PRIVATE | VM_MAP_ANONYMOUS | VM_MAP_FIXED);
	VMFX_RC(fx, vmfx_write8(fx, 0, RBASE + 5, 0x11), 0);
	struct vm_space *child;
	VMFX_RC(fx, vm_space_fork(r->as, &child), 0);
	vmfx_adopt(fx, child);
	vmfx_op(fx, "the parent reads its PROT_WRITE page after fork");
	uint8_t b = 0;
	VMFX_RC(fx, vmfx_read8(fx, 0, RBASE + 5, &b), 0);
	VMFX_EQ(fx, b, 0x11);
}

/* mremap moves translations with their protection only (remap.c
 * copy_pte), so a dirty page of a shared file mapping must be written back
 * before the move, or munmap finds it clean and the write never reaches
 * the file. */
static void test_mremap_move_keeps_dirty_page(void **state)
{
	struct repro *r = *state;
	struct vmfx *fx = &r->fx;
	map_file(r, RBASE, 2, RW, VM_MAP_SHARED);
	vmfx_map(fx, r->as, RBASE + 2 * PG, PG, RW, VM_MAP_PRIVATE | VM_MAP_ANONYMOUS | VM_MAP_FIXED); /* no growth in place */
	VMFX_RC(fx, vmfx_write8(fx, 0, RBASE + 1, 0x5a), 0);
	vaddr_t out = 0;
	VMFX_RC(fx, vm_remap(r->as, RBASE, 2 * PG, 3 * PG, VM_MREMAP_MAYMOVE, 0, &out), 0);
	VMFX_TRUE(fx, out != RBASE);
	vmfx_op(fx, "munmap the moved shared file mapping");
	VMFX_RC(fx, vm_unmap(r->as, out, 3 * PG), 0);
	VMFX_EQ(fx, r->file.store[0][1], 0x5a);
}

/* MREMAP_FIXED over a shared file mapping writes the destination's dirty
 * pages back before dropping them, as munmap and MAP_FIXED do. */
static void test_mremap_fixed_writes_back_what_it_replaces(void **state)
{
	struct repro *r = *state;
	struct vmfx *fx = &r->fx;
	map_file(r, RBASE, 1, RW, VM_MAP_SHARED);
	VMFX_RC(fx, vmfx_write8(fx, 0, RBASE + 1, 0x5a), 0);
	vmfx_map(fx, r->as, RBASE + 16 * PG, PG, RW, VM_MAP_PRIVATE | VM_MAP_ANONYMOUS | VM_MAP_FIXED);
	vaddr_t out = 0;
	vmfx_op(fx, "mremap another mapping over the written shared file page");
	VMFX_RC(fx, vm_remap(r->as, RBASE + 16 * PG, PG, PG, VM_MREMAP_MAYMOVE | VM_MREMAP_FIXED, RBASE, &out), 0);
	VMFX_EQ(fx, r->file.store[0][1], 0x5a);
}

/* A move that shrinks (MREMAP_FIXED, new_len < old_len) writes the dropped
 * tail's dirty pages back. */
static void test_mremap_shrinking_move_writes_back_tail(void **state)
{
	struct repro *r = *state;
	struct vmfx *fx = &r->fx;
	map_file(r, RBASE, 2, RW, VM_MAP_SHARED);
	VMFX_RC(fx, vmfx_write8(fx, 0, RBASE + PG + 1, 0x5a), 0);
	vaddr_t out = 0;
	vmfx_op(fx, "mremap the mapping elsewhere, one page shorter");
	VMFX_RC(fx, vm_remap(r->as, RBASE, 2 * PG, PG, VM_MREMAP_MAYMOVE | VM_MREMAP_FIXED, RBASE + 32 * PG, &out), 0);
	VMFX_EQ(fx, r->file.store[1][1], 0x5a);
}

/* MADV_DONTNEED drops the translation of a dirty shared file page; the
 * write must still reach the file at msync (Linux keeps the page dirty in
 * the page cache, and msync writes it). */
static void test_dontneed_keeps_dirty_page(void **state)
{
	struct repro *r = *state;
	struct vmfx *fx = &r->fx;
	map_file(r, RBASE, 1, RW, VM_MAP_SHARED);
	VMFX_RC(fx, vmfx_write8(fx, 0, RBASE + 1, 0x5a), 0);
	VMFX_RC(fx, vm_madvise(r->as, RBASE, PG, VM_MADV_DONTNEED), 0);
	uint8_t b = 0;
	VMFX_RC(fx, vmfx_read8(fx, 0, RBASE + 1, &b), 0);
	VMFX_EQ(fx, b, 0x5a); /* the object kept the bytes */
	vmfx_op(fx, "msync after DONTNEED");
	VMFX_RC(fx, vm_msync(r->as, RBASE, PG, VM_MS_SYNC), 0);
	VMFX_EQ(fx, r->file.store[0][1], 0x5a);
}

/* Seed 1: eviction by vm_reclaim, and by faults that find no frame;
 * seed 2: also by faults below the low watermark; seed 3: all three. */
/* A swap pager that refuses every page. */
static int refuse_out(void *ctx, const void *page, uint64_t *slot)
{
	(void)ctx;
	(void)page;
	(void)slot;
	return -MMK_ENOSPC;
}
static int never_in(void *ctx, uint64_t slot, void *page)
{
	(void)ctx;
	(void)slot;
	(void)page;
	return -5;
}
static void never_release(void *ctx, uint64_t slot)
{
	(void)ctx;
	(void)slot;
}

/* Bug: when the swap pager refuses a page, reclaim puts the translation
 * back with pmap_enter and ignores its result, on the belief that "a table
 * page exists" - but pmap_remove has just freed the page table the lone
 * translation left empty, so pmap_enter must allocate one, which can fail
 * (reclaim runs when frames are short).  The translation is then lost and
 * the frame's refcount is raised anyway: one more than its translations,
 * which the next fault of the page makes visible. */
static void test_bug_refused_page_out_loses_translation(void **state)
{
	struct repro *r = *state;
	struct vmfx *fx = &r->fx;
	struct vm_pager p = { refuse_out, never_in, never_release, NULL };
	vm_system_set_swap(&fx->s.vm, &p, 0);
	vmfx_map(fx, r->as, RBASE, PG, RW, VM_MAP_PRIVATE | VM_MAP_ANONYMOUS | VM_MAP_FIXED); /* alone in its table */
	VMFX_RC(fx, vmfx_write8(fx, 0, RBASE + 1, 0x5a), 0);
	vmfx_check(fx);
	vmfx_op(fx, "vm_reclaim with the pager refusing, the page-table allocation failing");
	mmk_failpoint_arm(&fx->s.failpoint, 1, false);
	uint64_t freed = vm_reclaim(&fx->s.vm, NULL, 16);
	mmk_failpoint_arm(&fx->s.failpoint, 0, false);
	VMFX_EQ(fx, freed, 0);
	VMFX_EQ(fx, vmfx_resident(r->as), 1); /* the refused page keeps its translation */
	vmfx_op(fx, "read the page back");
	uint8_t b = 0;
	VMFX_RC(fx, vmfx_read8(fx, 0, RBASE + 1, &b), 0);
	VMFX_EQ(fx, b, 0x5a);
	vmfx_check(fx); /* frame refcount = translations */
	struct vm_pager none = { NULL, NULL, NULL, NULL };
	vm_system_set_swap(&fx->s.vm, &none, 0);
}

static void test_model_fork_seed_1(void **state) { run_seed(*state, 1, STEPS_PER_SEED, false, true); }
static void test_model_fork_seed_2(void **state) { run_seed(*state, 2, STEPS_PER_SEED, true, false); }
static void test_model_fork_seed_3(void **state) { run_seed(*state, 3, STEPS_PER_SEED, true, true); }

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_model_fork_seed_1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_model_fork_seed_2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_model_fork_seed_3, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_only_private_file_read, repro_setup, repro_teardown),
		cmocka_unit_test_setup_teardown(test_write_only_read_after_fork, repro_setup, repro_teardown),
		cmocka_unit_test_setup_teardown(test_mremap_move_keeps_dirty_page, repro_setup, repro_teardown),
		cmocka_unit_test_setup_teardown(test_mremap_fixed_writes_back_what_it_replaces, repro_setup, repro_teardown),
		cmocka_unit_test_setup_teardown(test_mremap_shrinking_move_writes_back_tail, repro_setup, repro_teardown),
		cmocka_unit_test_setup_teardown(test_dontneed_keeps_dirty_page, repro_setup, repro_teardown),
		cmocka_unit_test_setup_teardown(test_bug_refused_page_out_loses_translation, repro_setup, repro_teardown),
	};
	return cmocka_run_group_tests_name("vm_model_fork", tests, NULL, NULL);
}
