/*
 * test_vm_model.c - model-based test of an address space: long random
 * sequences of map (fixed, noreplace, hinted, first fit; random prot;
 * private anonymous or shared with an object; sometimes MAP_POPULATE),
 * unmap, protect, remap, madvise(DONTNEED), brk and touches (sim_access
 * read/write/exec) inside a 64 MiB window, against a page-granular
 * reference model.
 *
 * The space is confined to the window: min_addr is its start, max_addr its
 * end, mmap_base 1 MiB below the end, so every placement, every "past the
 * end" error and every collision happens where the model looks.
 *
 * After every step: the return code and the returned address equal the
 * model's prediction (Linux's rules and error order, as include/mmk/vm.h
 * states them); all checkers pass; the VMA layout matches the model page by
 * page (prot, max_prot, shared, object and object offset); the resident
 * pages (a pmap walk) and their bytes match the model; vm_mincore agrees
 * over the range the step touched (and over everything every 64 steps).
 * VMA boundaries themselves are the implementation's business (merging is
 * a policy), except that remap's "old range inside one VMA" rule is
 * predicted from the VMA the implementation reports, whose attributes the
 * page-by-page comparison has already vouched for.
 *
 * Shared pages live in their object (issue 3): a shared page dropped by
 * DONTNEED re-faults with the object's bytes, which the model checks (the
 * byte written stays, the rest stays zero).  The model keeps one written
 * byte per page, not per object page, so what it cannot follow is left
 * unchecked: the old range that DONTUNMAP leaves behind (it maps the same
 * object pages as the moved range), and pages a shared mapping grows into
 * (the object may hold bytes from when the mapping was longer).  Several
 * spaces, fork, files and eviction are test_vm_model_fork's.
 *
 * On a failure: the last steps, the model's view of the failing range, and
 * the layouts before and after the step.
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
#define NP 16384u /* pages in the window: 64 MiB */
#define WEND (WBASE + (vaddr_t)NP * PG)
#define MMAP_BASE (WEND - 256 * PG)
#define START_BRK (WBASE + 1024 * PG)
#define STEPS_PER_SEED 5000u
#define FULL_EVERY 64u

struct mpage {
	uint8_t mapped, prot, maxprot, shared;
	uint8_t resident; /* a frame is mapped */
	uint8_t known;    /* bytes not written are known to be zero */
	uint8_t has;      /* byte val written at off */
	uint8_t val;
	uint16_t off;
	struct vm_object *obj;
	uint64_t objoff;
};

struct model {
	struct vmfx *fx;
	struct vm_space *as;
	struct mpage pg[NP];
	vaddr_t brk;
	uint64_t rng;
	unsigned step;
	char log[64][200];
	/* the range the last step changed, for mincore */
	vaddr_t dirty[2][2];
	unsigned ndirty;
	uint64_t stats[16];
	char order[16][300]; /* error-order discrepancies */
	unsigned norder;
	uint64_t mapped_bits[NP / 64]; /* mirror of pg[].mapped, to skip holes fast */
	uint64_t walk_resident;        /* filled by the checkers' pmap walk */
	struct res_walk_state {
		uint64_t n;
		vaddr_t bad;
		const char *why;
		uint8_t got, want;
	} rw;
};

static void set_mapped_bit(struct model *m, uint64_t i, bool on)
{
	if (on)
		m->mapped_bits[i / 64] |= 1ull << (i % 64);
	else
		m->mapped_bits[i / 64] &= ~(1ull << (i % 64));
}

/* Any mapped page in [i0, i1)? */
static bool any_mapped(const struct model *m, uint64_t i0, uint64_t i1)
{
	while (i0 < i1) {
		if (i0 % 64 == 0 && i1 - i0 >= 64) {
			if (m->mapped_bits[i0 / 64])
				return true;
			i0 += 64;
			continue;
		}
		if (m->mapped_bits[i0 / 64] & (1ull << (i0 % 64)))
			return true;
		i0++;
	}
	return false;
}

enum { S_MAP, S_MAP_ERR, S_UNMAP, S_PROT, S_PROT_ERR, S_REMAP, S_REMAP_MOVE, S_REMAP_ERR, S_DONTNEED,
       S_BRK, S_BRK_REFUSED, S_TOUCH, S_TOUCH_ERR, S_NSTATS };

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
static struct mpage *P(struct model *m, vaddr_t a) { return &m->pg[(a - WBASE) / PG]; }
static vaddr_t addr_of(uint64_t i) { return WBASE + i * PG; }

static void logf_(struct model *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(struct model *m, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *line = m->log[m->step % 64];
	int n = snprintf(line, sizeof(m->log[0]), "step %u: ", m->step);
	vsnprintf(line + n, sizeof(m->log[0]) - (size_t)n, fmt, ap);
	va_end(ap);
	vmfx_op(m->fx, "%s", line);
}

static void dump_range(struct model *m, vaddr_t a, vaddr_t b)
{
	if (a < WBASE)
		a = WBASE;
	if (b > WEND)
		b = WEND;
	fprintf(stderr, "---- model pages [%#llx, %#llx) ----\n", (unsigned long long)a, (unsigned long long)b);
	for (vaddr_t x = a; x < b; x += PG) {
		struct mpage *p = P(m, x);
		if (!p->mapped && !p->resident)
			continue;
		fprintf(stderr, "%#llx: prot %u max %u %s obj %p off %#llx %s%s has %u@%u=%#x\n", (unsigned long long)x,
			p->prot, p->maxprot, p->shared ? "shared" : "private", (void *)p->obj,
			(unsigned long long)p->objoff, p->resident ? "resident " : "", p->known ? "known" : "unknown",
			p->has, p->off, p->val);
	}
}

/* The model's layout drawn like vm_display: runs of pages with the same
 * attributes (and contiguous object offsets), with their residency. */
static void dump_model_layout(struct model *m)
{
	fprintf(stderr, "---- model layout (before the step if the call disagreed, else expected after it) ----\n");
	uint64_t i = 0;
	while (i < NP) {
		struct mpage *p = &m->pg[i];
		if (!p->mapped) {
			i++;
			continue;
		}
		uint64_t j = i + 1, res = p->resident;
		for (; j < NP; j++) {
			struct mpage *q = &m->pg[j];
			if (!q->mapped || q->prot != p->prot || q->maxprot != p->maxprot || q->shared != p->shared ||
			    q->obj != p->obj || (p->obj && q->objoff != p->objoff + (j - i) * PG))
				break;
			res += q->resident;
		}
		fprintf(stderr, "%08llx-%08llx %c%c%c%c max %u obj %p off %#llx resident %llu/%llu\n",
			(unsigned long long)addr_of(i), (unsigned long long)addr_of(j), (p->prot & 1) ? 'r' : '-',
			(p->prot & 2) ? 'w' : '-', (p->prot & 4) ? 'x' : '-', p->shared ? 's' : 'p', p->maxprot,
			(void *)p->obj, (unsigned long long)p->objoff, (unsigned long long)res,
			(unsigned long long)(j - i));
		i = j;
	}
	fprintf(stderr, "brk %#llx\n", (unsigned long long)m->brk);
}

static void model_fail(struct model *m, vaddr_t a, vaddr_t b, const char *fmt, ...)
	__attribute__((format(printf, 4, 5), noreturn));
static void model_fail(struct model *m, vaddr_t a, vaddr_t b, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "==== model: last steps (seed state %#llx) ====\n", (unsigned long long)m->rng);
	unsigned first = m->step >= 40 ? m->step - 39 : 0;
	for (unsigned s = first; s <= m->step; s++)
		fprintf(stderr, "  %s\n", m->log[s % 64]);
	dump_model_layout(m);
	if (b > a)
		dump_range(m, a, b);
	vmfx_fail(m->fx, "model, step %u: %s", m->step, msg);
}

static void mark_dirty(struct model *m, vaddr_t a, vaddr_t b)
{
	if (m->ndirty < 2) {
		m->dirty[m->ndirty][0] = a;
		m->dirty[m->ndirty][1] = b;
		m->ndirty++;
	}
}

/* Pages [a, b) clipped to the window, as indices. */
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

static bool range_free(struct model *m, vaddr_t a, vaddr_t b)
{
	uint64_t i0, i1;
	if (!clip(a, b, &i0, &i1))
		return true;
	for (uint64_t i = i0; i < i1; i++)
		if (m->pg[i].mapped)
			return false;
	return true;
}

static void clear_pages(struct model *m, vaddr_t a, vaddr_t b)
{
	uint64_t i0, i1;
	if (!clip(a, b, &i0, &i1))
		return;
	memset(&m->pg[i0], 0, (i1 - i0) * sizeof(struct mpage));
	for (uint64_t i = i0; i < i1; i++)
		set_mapped_bit(m, i, false);
}

/* Highest start of n free pages in [min_addr, mmap_base), or 0. */
static vaddr_t first_fit(struct model *m, uint64_t n)
{
	uint64_t top = (MMAP_BASE - WBASE) / PG, run = 0;
	for (uint64_t i = top; i-- > 0;) {
		run = m->pg[i].mapped ? 0 : run + 1;
		if (run == n)
			return addr_of(i);
	}
	return 0;
}

static void new_pages(struct model *m, vaddr_t a, uint64_t n, unsigned prot, unsigned maxprot, bool shared,
		      struct vm_object *obj, uint64_t objoff)
{
	for (uint64_t i = 0; i < n; i++) {
		struct mpage *p = P(m, a + i * PG);
		memset(p, 0, sizeof(*p));
		p->mapped = 1;
		set_mapped_bit(m, (a + i * PG - WBASE) / PG, true);
		p->prot = (uint8_t)prot;
		p->maxprot = (uint8_t)maxprot;
		p->shared = shared;
		p->obj = obj;
		p->objoff = obj ? objoff + i * PG : 0;
		p->known = 1;
	}
}

/* An interesting address: near something mapped, anywhere in the window,
 * or at the window's edges; page-aligned unless unaligned_pct says. */
static vaddr_t pick_addr(struct model *m, unsigned unaligned_pct)
{
	vaddr_t a;
	uint64_t r = below(m, 100);
	if (r < 50) {
		uint64_t i = below(m, NP);
		for (int t = 0; t < 32 && !m->pg[i].mapped; t++)
			i = below(m, NP);
		int64_t d = (int64_t)below(m, 17) - 8;
		int64_t j = (int64_t)i + d;
		if (j < 0)
			j = 0;
		if (j >= (int64_t)NP)
			j = NP - 1;
		a = addr_of((uint64_t)j);
	} else if (r < 94) {
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
	if (r < 70)
		return 1 + below(m, 16);
	if (r < 95)
		return 17 + below(m, 48);
	const uint64_t big[] = { 511, 512, 513 };
	return big[below(m, 3)];
}

static const char *err(int rc) { return rc ? mmk_strerror(rc) : "ok"; }

/* Every error whose condition holds, as a set: when a call meets several
 * problems at once, Linux's order picks one (the model's want); another one
 * from the set is an error-order discrepancy, not a wrong answer.  Those
 * are collected, the run goes on (an error changes nothing either way), and
 * the seed fails at its end with the list. */
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

/* rc differs from want: an order discrepancy (recorded) or a failure. */
static bool order_only(struct model *m, int rc, int want, unsigned errs)
{
	if (!rc || (!want && !(errs & (1u << 7))) || !(errs & ebit(rc)))
		return false;
	if (m->norder < 16)
		snprintf(m->order[m->norder], sizeof(m->order[0]), "%s: got %s, Linux's order gives %s",
			 m->log[m->step % 64], err(rc), err(want));
	m->norder++;
	return true;
}

/* ---- steps ---- */

static void step_map(struct model *m)
{
	static const char *kinds[] = { "fixed", "noreplace", "hint", "firstfit" };
	unsigned kind = (unsigned)below(m, 4);
	uint64_t n = pick_pages(m);
	uint64_t len = n * PG;
	if (chance(m, 10))
		len -= below(m, PG - 1); /* rounds up to n pages */
	if (chance(m, 1))
		len = 0;
	unsigned prot = (unsigned)below(m, 8);
	if (chance(m, 2))
		prot |= 0x8;
	bool shared = chance(m, 25);
	unsigned maxprot = VM_PROT_ALL;
	struct vm_object *obj = NULL;
	uint64_t objoff = 0;
	if (shared) {
		VMFX_RC(m->fx, vm_object_create(&m->fx->s.vm, VM_OBJECT_ANON, NULL, &obj), 0);
		objoff = below(m, 16) * PG;
		if (chance(m, 30))
			maxprot = VM_PROT_READ | VM_PROT_EXEC; /* a file opened read-only */
	}
	bool populate = n <= 64 && chance(m, 10); /* so that RAM never runs out */
	unsigned flags = (shared ? VM_MAP_SHARED : VM_MAP_PRIVATE | VM_MAP_ANONYMOUS) | (populate ? VM_MAP_POPULATE : 0);
	vaddr_t hint = 0;
	if (kind == 0) {
		flags |= VM_MAP_FIXED;
		hint = pick_addr(m, 3);
	} else if (kind == 1) {
		flags |= VM_MAP_FIXED_NOREPLACE;
		hint = pick_addr(m, 3);
	} else if (kind == 2) {
		hint = pick_addr(m, 10);
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
	else if (kind == 1 && !range_free(m, hint, hint + n * PG))
		want = -MMK_EEXIST;
	else if (fixed)
		want_at = hint;
	else {
		vaddr_t h = mmk_page_round_down(hint);
		if (h && h >= WBASE && h + n * PG <= WEND && range_free(m, h, h + n * PG))
			want_at = h;
		else if (!(want_at = first_fit(m, n)))
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
	if (kind == 1 && !range_free(m, hint, hint + n * PG))
		errs |= ebit(-MMK_EEXIST);
	if (prot & ~maxprot)
		errs |= ebit(-MMK_EACCES);

	logf_(m, "map %s %#llx len %#llx prot %u%s%s max %u -> want %s %#llx", kinds[kind], (unsigned long long)hint,
	      (unsigned long long)len, prot, shared ? " shared" : "", populate ? " populate" : "", maxprot, err(want),
	      (unsigned long long)want_at);
	vaddr_t out = 0;
	int rc = vm_map(m->as, hint, len, prot, flags, obj, objoff, maxprot, &out);
	if (obj)
		vm_object_release(&m->fx->s.vm, obj);
	if ((rc != want && !order_only(m, rc, want, errs)) || (!rc && out != want_at))
		model_fail(m, want_at ? want_at : hint, (want_at ? want_at : hint) + n * PG,
			   "vm_map returned %s at %#llx, model says %s at %#llx", err(rc), (unsigned long long)out,
			   err(want), (unsigned long long)want_at);
	m->stats[rc ? S_MAP_ERR : S_MAP]++;
	if (rc)
		return;
	clear_pages(m, out, out + n * PG);
	new_pages(m, out, n, prot, maxprot, shared, obj, objoff);
	if (populate && prot)
		for (uint64_t i = 0; i < n; i++)
			P(m, out + i * PG)->resident = 1;
	mark_dirty(m, out, out + n * PG);
}

static void step_unmap(struct model *m)
{
	vaddr_t a = pick_addr(m, 3);
	uint64_t n = chance(m, 80) ? 1 + below(m, 24) : pick_pages(m);
	uint64_t len = chance(m, 2) ? 0 : n * PG - (chance(m, 10) ? below(m, PG - 1) : 0);
	int want = 0;
	if (!mmk_page_aligned(a) || len == 0 || a + n * PG > WEND)
		want = -MMK_EINVAL;
	logf_(m, "unmap %#llx len %#llx -> want %s", (unsigned long long)a, (unsigned long long)len, err(want));
	int rc = vm_unmap(m->as, a, len);
	if (rc != want)
		model_fail(m, a, a + n * PG, "vm_unmap returned %s, model says %s", err(rc), err(want));
	m->stats[S_UNMAP]++;
	if (!rc) {
		clear_pages(m, a, a + n * PG);
		mark_dirty(m, a, a + n * PG);
	}
}

static void step_protect(struct model *m)
{
	vaddr_t a = pick_addr(m, 2);
	uint64_t n = 1 + below(m, 24);
	uint64_t len = chance(m, 2) ? 0 : n * PG - (chance(m, 10) ? below(m, PG - 1) : 0);
	unsigned prot = (unsigned)below(m, 8);
	if (chance(m, 2))
		prot |= 0x10;
	/* Linux do_mprotect_pkey: alignment, then len 0, then the bits. */
	int want = 0;
	if (!mmk_page_aligned(a))
		want = -MMK_EINVAL;
	else if (len == 0)
		want = 0;
	else if (prot & ~VM_PROT_ALL)
		want = -MMK_EINVAL;
	else if (a + n * PG > WEND)
		want = -MMK_ENOMEM;
	else {
		/* Address order: the first hole or refusing VMA decides. */
		for (vaddr_t x = a; x < a + n * PG && !want; x += PG) {
			struct mpage *p = in_window(x) ? P(m, x) : NULL;
			if (!p || !p->mapped)
				want = -MMK_ENOMEM;
			else if (prot & ~p->maxprot)
				want = -MMK_EACCES;
		}
	}
	unsigned errs = 0;
	if (!mmk_page_aligned(a) || (prot & ~VM_PROT_ALL))
		errs |= ebit(-MMK_EINVAL);
	if (want == -MMK_ENOMEM)
		errs |= ebit(-MMK_ENOMEM);
	if (len == 0)
		errs |= 1u << 7; /* a no-op: an error instead is only a matter of order */
	logf_(m, "protect %#llx len %#llx prot %#x -> want %s", (unsigned long long)a, (unsigned long long)len, prot,
	      err(want));
	int rc = vm_protect(m->as, a, len, prot);
	if (rc != want && !order_only(m, rc, want, errs))
		model_fail(m, a, a + n * PG, "vm_protect returned %s, model says %s", err(rc), err(want));
	m->stats[rc ? S_PROT_ERR : S_PROT]++;
	if (rc || len == 0)
		return;
	for (vaddr_t x = a; x < a + n * PG; x += PG)
		P(m, x)->prot = (uint8_t)prot;
	mark_dirty(m, a, a + n * PG);
}

/* Move the model's pages [old, old+keep) to dst; dst pages past keep are
 * new, empty pages of the same mapping. */
static void model_move(struct model *m, vaddr_t old, uint64_t old_n, uint64_t new_n, vaddr_t dst, bool dontunmap)
{
	uint64_t keep = old_n < new_n ? old_n : new_n;
	struct mpage tmp[NP > 1024 ? 1024 : NP];
	struct mpage *buf = new_n <= 1024 ? tmp : malloc(new_n * sizeof(struct mpage));
	assert_non_null(buf);
	struct mpage first = *P(m, old);
	for (uint64_t i = 0; i < keep; i++)
		buf[i] = *P(m, old + i * PG);
	for (uint64_t i = keep; i < new_n; i++) {
		memset(&buf[i], 0, sizeof(buf[i]));
		buf[i].mapped = 1;
		buf[i].prot = first.prot;
		buf[i].maxprot = first.maxprot;
		buf[i].shared = first.shared;
		buf[i].obj = first.obj;
		buf[i].objoff = first.obj ? first.objoff + i * PG : 0;
		buf[i].known = !first.shared; /* see the header */
	}
	if (dontunmap) {
		for (uint64_t i = 0; i < old_n; i++) {
			struct mpage *p = P(m, old + i * PG);
			p->resident = 0;
			p->has = 0;
			p->known = !p->shared;
		}
	} else {
		clear_pages(m, old, old + old_n * PG);
	}
	clear_pages(m, dst, dst + new_n * PG);
	for (uint64_t i = 0; i < new_n; i++)
	{
		*P(m, dst + i * PG) = buf[i];
		set_mapped_bit(m, (dst + i * PG - WBASE) / PG, true);
	}
	if (buf != tmp)
		free(buf);
	mark_dirty(m, old, old + old_n * PG);
	mark_dirty(m, dst, dst + new_n * PG);
}

static void step_remap(struct model *m)
{
	/* The old range: usually inside a mapping, from its start or not. */
	vaddr_t old = pick_addr(m, 2);
	const struct vm_area *v = mmk_page_aligned(old) ? vm_search(m->as, old) : NULL;
	if (v && chance(m, 50))
		old = v->start;
	uint64_t avail = v ? (v->end - old) / PG : 4;
	uint64_t old_n = chance(m, 90) ? 1 + below(m, avail) : avail + 1 + below(m, 4);
	uint64_t new_n = chance(m, 50) ? 1 + below(m, 48) : old_n + below(m, 8);
	if (chance(m, 15))
		new_n = old_n > 1 ? old_n - 1 - below(m, old_n - 1) : 1;
	unsigned flags = 0;
	vaddr_t new_addr = 0;
	uint64_t r = below(m, 100);
	if (r < 35) {
		flags = 0;
	} else if (r < 75) {
		flags = VM_MREMAP_MAYMOVE;
	} else if (r < 92) {
		flags = VM_MREMAP_MAYMOVE | VM_MREMAP_FIXED;
		new_addr = pick_addr(m, 2);
	} else if (r < 98) {
		flags = VM_MREMAP_MAYMOVE | VM_MREMAP_DONTUNMAP;
		new_n = old_n;
	} else {
		flags = chance(m, 50) ? 8u : VM_MREMAP_FIXED;
	}
	uint64_t old_len = old_n * PG, new_len = new_n * PG;
	vaddr_t v_end = v ? v->end : 0;

	/* Linux's order (mm/mremap.c): flags and old address, then the VMA
	 * at old, then the FIXED target (mremap_to), then the old length
	 * against the VMA (vma_to_resize), then the target's mmap_min_addr. */
	int want = 0;
	vaddr_t want_at = old;
	bool move = false, dontunmap = false;
	if ((flags & ~7u) || ((flags & VM_MREMAP_FIXED) && !(flags & VM_MREMAP_MAYMOVE)) ||
	    ((flags & VM_MREMAP_DONTUNMAP) && (!(flags & VM_MREMAP_MAYMOVE) || old_len != new_len)) ||
	    !mmk_page_aligned(old))
		want = -MMK_EINVAL;
	else if (!v)
		want = -MMK_EFAULT;
	else if ((flags & VM_MREMAP_FIXED) &&
		 (!mmk_page_aligned(new_addr) || new_addr + new_len > WEND ||
		  (new_addr < old + old_len && old < new_addr + new_len)))
		want = -MMK_EINVAL;
	else if (old_len > v_end - old)
		want = -MMK_EFAULT;
	else if ((flags & VM_MREMAP_FIXED) && new_addr < WBASE)
		want = -MMK_EPERM;
	else if (flags & VM_MREMAP_FIXED) {
		want_at = new_addr;
		move = true;
		dontunmap = flags & VM_MREMAP_DONTUNMAP;
	} else if (flags & VM_MREMAP_DONTUNMAP) {
		if (!(want_at = first_fit(m, new_n)))
			want = -MMK_ENOMEM;
		move = dontunmap = true;
	} else if (new_n <= old_n) {
		want_at = old;
	} else if (old + old_len == v_end && old + new_len <= WEND && range_free(m, v_end, old + new_len)) {
		want_at = old;
	} else if (flags & VM_MREMAP_MAYMOVE) {
		if (!(want_at = first_fit(m, new_n)))
			want = -MMK_ENOMEM;
		move = true;
	} else {
		want = -MMK_ENOMEM;
	}
	if (want)
		want_at = 0;
	unsigned errs = 0;
	if ((flags & ~7u) || ((flags & VM_MREMAP_FIXED) && !(flags & VM_MREMAP_MAYMOVE)) ||
	    ((flags & VM_MREMAP_DONTUNMAP) && (!(flags & VM_MREMAP_MAYMOVE) || old_len != new_len)) ||
	    !mmk_page_aligned(old) ||
	    ((flags & VM_MREMAP_FIXED) && (!mmk_page_aligned(new_addr) || new_addr + new_len > WEND ||
					   (new_addr < old + old_len && old < new_addr + new_len))))
		errs |= ebit(-MMK_EINVAL);
	if (!v || old_len > v_end - old)
		errs |= ebit(-MMK_EFAULT);
	if ((flags & VM_MREMAP_FIXED) && new_addr < WBASE)
		errs |= ebit(-MMK_EPERM);
	if (want == -MMK_ENOMEM)
		errs |= ebit(-MMK_ENOMEM);

	logf_(m, "remap %#llx %#llx -> %#llx flags %u new %#llx (vma end %#llx) -> want %s %#llx",
	      (unsigned long long)old, (unsigned long long)old_len, (unsigned long long)new_len, flags,
	      (unsigned long long)new_addr, (unsigned long long)v_end, err(want), (unsigned long long)want_at);
	vaddr_t out = 0;
	int rc = vm_remap(m->as, old, old_len, new_len, flags, new_addr, &out);
	if ((rc != want && !order_only(m, rc, want, errs)) || (!rc && out != want_at))
		model_fail(m, old, old + (old_len > new_len ? old_len : new_len),
			   "vm_remap returned %s at %#llx, model says %s at %#llx", err(rc), (unsigned long long)out,
			   err(want), (unsigned long long)want_at);
	if (rc) {
		m->stats[S_REMAP_ERR]++;
		return;
	}
	if (move) {
		m->stats[S_REMAP_MOVE]++;
		model_move(m, old, old_n, new_n, want_at, dontunmap);
		return;
	}
	m->stats[S_REMAP]++;
	if (new_n < old_n) {
		clear_pages(m, old + new_len, old + old_len);
	} else if (new_n > old_n) {
		struct mpage last = *P(m, old + old_len - PG);
		new_pages(m, old + old_len, new_n - old_n, last.prot, last.maxprot, last.shared, last.obj,
			  last.obj ? last.objoff + PG : 0);
		if (last.shared) /* see the header */
			for (uint64_t k = old_n; k < new_n; k++)
				P(m, old + k * PG)->known = 0;
	}
	mark_dirty(m, old, old + (old_len > new_len ? old_len : new_len));
}

static void step_dontneed(struct model *m)
{
	vaddr_t a = pick_addr(m, 2);
	uint64_t n = 1 + below(m, 24);
	uint64_t len = chance(m, 2) ? 0 : n * PG - (chance(m, 10) ? below(m, PG - 1) : 0);
	int want = 0;
	if (!mmk_page_aligned(a))
		want = -MMK_EINVAL;
	else if (len == 0)
		want = 0;
	else
		for (vaddr_t x = a; x < a + n * PG && !want; x += PG)
			if (!in_window(x) || !P(m, x)->mapped)
				want = -MMK_ENOMEM;
	logf_(m, "madvise DONTNEED %#llx len %#llx -> want %s", (unsigned long long)a, (unsigned long long)len,
	      err(want));
	int rc = vm_madvise(m->as, a, len, VM_MADV_DONTNEED);
	if (rc != want)
		model_fail(m, a, a + n * PG, "vm_madvise returned %s, model says %s", err(rc), err(want));
	m->stats[S_DONTNEED]++;
	if (rc || len == 0)
		return;
	for (vaddr_t x = a; x < a + n * PG; x += PG) {
		struct mpage *p = P(m, x);
		p->resident = 0;
		if (!p->shared) { /* private: zero again; shared: the object keeps the bytes */
			p->has = 0;
			p->known = 1;
		}
	}
	mark_dirty(m, a, a + n * PG);
}

static void step_brk(struct model *m)
{
	int64_t delta = ((int64_t)below(m, 21) - 8) * (int64_t)PG + (int64_t)below(m, PG);
	vaddr_t nb = (vaddr_t)((int64_t)m->brk + delta);
	if (chance(m, 5))
		nb = START_BRK - 1 - below(m, 4 * PG);
	if (chance(m, 3))
		nb = START_BRK + (below(m, 2) ? 0 : 1);
	vaddr_t old_end = (m->brk + PG - 1) & ~MMK_PAGE_MASK, new_end = (nb + PG - 1) & ~MMK_PAGE_MASK;
	vaddr_t want = m->brk;
	bool grow = false, shrink = false;
	if (nb >= START_BRK) {
		if (new_end < old_end) {
			want = nb;
			shrink = true;
		} else if (new_end == old_end) {
			want = nb;
		} else {
			/* Room up to the first mapping at or above the old end,
			 * one page kept free (Linux: brk + PAGE_SIZE <= next). */
			vaddr_t limit = WEND;
			for (vaddr_t x = old_end; x < WEND; x += PG)
				if (P(m, x)->mapped) {
					limit = x;
					break;
				}
			if (new_end <= WEND && (limit == WEND ? new_end <= WEND : new_end + PG <= limit)) {
				want = nb;
				grow = true;
			}
		}
	}
	logf_(m, "brk %#llx (brk %#llx) -> want %#llx", (unsigned long long)nb, (unsigned long long)m->brk,
	      (unsigned long long)want);
	vaddr_t out = 0;
	vm_brk(m->as, nb, &out);
	if (out != want)
		model_fail(m, old_end < new_end ? old_end : new_end, (old_end < new_end ? new_end : old_end) + PG,
			   "vm_brk gave %#llx, model says %#llx", (unsigned long long)out, (unsigned long long)want);
	m->stats[want == nb ? S_BRK : S_BRK_REFUSED]++;
	if (shrink) {
		clear_pages(m, new_end, old_end);
		mark_dirty(m, new_end, old_end);
	}
	if (grow) {
		new_pages(m, old_end, (new_end - old_end) / PG, VM_PROT_READ | VM_PROT_WRITE, VM_PROT_ALL, false, NULL, 0);
		mark_dirty(m, old_end, new_end);
	}
	m->brk = want;
}

static void step_touch(struct model *m)
{
	uint64_t i = below(m, NP);
	if (chance(m, 75))
		for (int t = 0; t < 64 && !m->pg[i].mapped; t++)
			i = below(m, NP);
	struct mpage *p = &m->pg[i];
	unsigned r = (unsigned)below(m, 100);
	unsigned access = r < 45 ? VMFX_R : r < 85 ? VMFX_W : VMFX_X;
	uint16_t off = p->has && chance(m, 60) ? p->off : (uint16_t)below(m, PG);
	vaddr_t va = addr_of(i) + off;
	int want = 0;
	if (!p->mapped)
		want = -MMK_EFAULT;
	else if (!p->prot || ((access & VMFX_W) && !(p->prot & VM_PROT_WRITE)) ||
		 ((access & VMFX_X) && !(p->prot & VM_PROT_EXEC)))
		want = -MMK_EACCES;
	static const char *names[] = { "?", "read", "write", "?", "exec" };
	uint8_t val = (uint8_t)(1 + below(m, 255));
	logf_(m, "touch %s %#llx -> want %s", names[access], (unsigned long long)va, err(want));
	int rc;
	uint8_t got = 0;
	if (access == VMFX_W) {
		if (p->has) /* one written byte per page: write where it is */
			va = addr_of(i) + p->off;
		rc = vmfx_write8(m->fx, 0, va, val);
	} else if (access == VMFX_R) {
		rc = vmfx_read8(m->fx, 0, va, &got);
	} else {
		rc = vmfx_touch(m->fx, 0, va, access);
	}
	if (rc != want)
		model_fail(m, addr_of(i), addr_of(i) + PG, "access returned %s, model says %s", err(rc), err(want));
	m->stats[rc ? S_TOUCH_ERR : S_TOUCH]++;
	if (rc)
		return;
	if (access == VMFX_R) {
		bool check = true;
		uint8_t expect = 0;
		if (p->has && off == p->off)
			expect = p->val;
		else if (!p->known)
			check = false;
		if (check && got != expect)
			model_fail(m, addr_of(i), addr_of(i) + PG, "read %#llx gave %#x, model says %#x",
				   (unsigned long long)va, got, expect);
	}
	p->resident = 1;
	if (access == VMFX_W) {
		p->has = 1;
		p->off = (uint16_t)(va - addr_of(i));
		p->val = val;
	}
	mark_dirty(m, addr_of(i), addr_of(i) + PG);
}

/* ---- comparison ---- */

/* Returns the pages the model says are resident. */
static uint64_t compare_layout(struct model *m)
{
	uint64_t cursor = 0, mapped = 0, resident = 0;
	for (const struct vm_area *v = vm_first_from(m->as, 0); v; v = vm_next(v)) {
		if (v->start < WBASE || v->end > WEND)
			model_fail(m, 0, 0, "VMA [%#llx, %#llx) outside the window", (unsigned long long)v->start,
				   (unsigned long long)v->end);
		uint64_t i0 = (v->start - WBASE) / PG, i1 = (v->end - WBASE) / PG;
		if (any_mapped(m, cursor, i0))
			for (uint64_t i = cursor; i < i0; i++)
				if (m->pg[i].mapped)
					model_fail(m, addr_of(i), addr_of(i) + PG,
						   "page %#llx mapped in the model, not in the space",
						   (unsigned long long)addr_of(i));
		if (v->flags & ~VMA_SHARED)
			model_fail(m, v->start, v->end, "VMA [%#llx, %#llx) has flags %#x", (unsigned long long)v->start,
				   (unsigned long long)v->end, v->flags);
		for (uint64_t i = i0; i < i1; i++) {
			struct mpage *p = &m->pg[i];
			uint64_t objoff = v->object ? v->offset + (addr_of(i) - v->start) : 0;
			if (!p->mapped || p->prot != v->prot || p->maxprot != v->max_prot ||
			    p->shared != !!(v->flags & VMA_SHARED) || p->obj != v->object || p->objoff != objoff)
				model_fail(m, addr_of(i), addr_of(i) + PG,
					   "page %#llx: space has VMA [%#llx, %#llx) prot %u max %u flags %#x obj %p "
					   "off %#llx; model: %s prot %u max %u %s obj %p off %#llx",
					   (unsigned long long)addr_of(i), (unsigned long long)v->start,
					   (unsigned long long)v->end, v->prot, v->max_prot, v->flags, (void *)v->object,
					   (unsigned long long)objoff, p->mapped ? "mapped" : "unmapped", p->prot,
					   p->maxprot, p->shared ? "shared" : "private", (void *)p->obj,
					   (unsigned long long)p->objoff);
			resident += p->resident;
		}
		mapped += i1 - i0;
		cursor = i1;
	}
	if (any_mapped(m, cursor, NP))
		for (uint64_t i = cursor; i < NP; i++)
			if (m->pg[i].mapped)
				model_fail(m, addr_of(i), addr_of(i) + PG, "page %#llx mapped in the model, not in the space",
					   (unsigned long long)addr_of(i));
	/* Every FULL_EVERY steps: the model's own invariants (the bitmap
	 * mirrors pg[].mapped; an unmapped page is not resident). */
	if (m->step % FULL_EVERY == 0)
		for (uint64_t i = 0; i < NP; i++) {
			bool bit = (m->mapped_bits[i / 64] >> (i % 64)) & 1;
			if (bit != m->pg[i].mapped || (!m->pg[i].mapped && m->pg[i].resident))
				model_fail(m, addr_of(i), addr_of(i) + PG, "model inconsistent at %#llx (test bug)",
					   (unsigned long long)addr_of(i));
		}
	if (mapped != m->as->mapped_pages)
		model_fail(m, 0, 0, "mapped_pages %llu, VMAs cover %llu", (unsigned long long)m->as->mapped_pages,
			   (unsigned long long)mapped);
	if (m->as->brk != m->brk || m->as->start_brk != START_BRK)
		model_fail(m, 0, 0, "brk %#llx (start %#llx), model %#llx", (unsigned long long)m->as->brk,
			   (unsigned long long)m->as->start_brk, (unsigned long long)m->brk);
	return resident;
}

/* Called by the checkers' pmap walk (vmfx_check) for every translation:
 * residency and bytes against the model. */
static void res_visit(void *ctx, struct vm_space *as, vaddr_t va, paddr_t pa, unsigned bits)
{
	struct model *m = ctx;
	struct res_walk_state *w = &m->rw;
	(void)bits;
	if (as != m->as)
		return;
	w->n++;
	if (w->why)
		return;
	if (!in_window(va)) {
		w->why = "translation outside the window";
		w->bad = va;
		return;
	}
	struct mpage *p = P(m, va);
	if (!p->resident) {
		w->why = "page resident in the space, not in the model";
		w->bad = va;
		return;
	}
	const uint8_t *bytes = hal_phys_map(m->fx->s.machine, pa);
	if (p->has && bytes[p->off] != p->val) {
		w->why = "written byte lost";
		w->bad = va + p->off;
		w->got = bytes[p->off];
		w->want = p->val;
		return;
	}
	if (p->known) {
		const uint16_t probe[] = { 0, 1, 2047, 4095, (uint16_t)((p->off + 1) % PG) };
		for (size_t k = 0; k < sizeof(probe) / sizeof(probe[0]); k++) {
			if (p->has && probe[k] == p->off)
				continue;
			if (bytes[probe[k]] != 0) {
				w->why = "byte that must be zero is not";
				w->bad = va + probe[k];
				w->got = bytes[probe[k]];
				w->want = 0;
				return;
			}
		}
	}
}

static void compare_memory(struct model *m, uint64_t want)
{
	struct res_walk_state *w = &m->rw;
	if (w->why)
		model_fail(m, mmk_page_round_down(w->bad), mmk_page_round_down(w->bad) + PG,
			   "%s at %#llx (got %#x, want %#x)", w->why, (unsigned long long)w->bad, w->got, w->want);
	if (w->n != want)
		model_fail(m, 0, 0, "%llu pages resident in the space, %llu in the model", (unsigned long long)w->n,
			   (unsigned long long)want);
}

/* vm_mincore over the mapped runs of [a, b). */
static void compare_mincore(struct model *m, vaddr_t a, vaddr_t b)
{
	uint64_t i0, i1;
	if (!clip(a, b, &i0, &i1))
		return;
	static uint8_t vec[NP];
	uint64_t i = i0;
	while (i < i1) {
		if (!m->pg[i].mapped) {
			i++;
			continue;
		}
		uint64_t j = i;
		while (j < i1 && m->pg[j].mapped)
			j++;
		int rc = vm_mincore(m->as, addr_of(i), (j - i) * PG, vec);
		if (rc)
			model_fail(m, addr_of(i), addr_of(j), "vm_mincore [%#llx, %#llx) of mapped pages: %s",
				   (unsigned long long)addr_of(i), (unsigned long long)addr_of(j), err(rc));
		for (uint64_t k = i; k < j; k++)
			if (vec[k - i] != m->pg[k].resident)
				model_fail(m, addr_of(k), addr_of(k) + PG, "vm_mincore says %u at %#llx, model %u",
					   vec[k - i], (unsigned long long)addr_of(k), m->pg[k].resident);
		i = j;
	}
	/* And a hole must give ENOMEM. */
	for (uint64_t k = i0; k < i1; k++) {
		if (!m->pg[k].mapped) {
			int rc = vm_mincore(m->as, addr_of(k), PG, vec);
			if (rc != -MMK_ENOMEM)
				model_fail(m, addr_of(k), addr_of(k) + PG, "vm_mincore of the hole %#llx: %s",
					   (unsigned long long)addr_of(k), err(rc));
			break;
		}
	}
}

static void compare(struct model *m)
{
	memset(&m->rw, 0, sizeof(m->rw));
	vmfx_check(m->fx); /* its pmap walk also runs res_visit */
	compare_memory(m, compare_layout(m));
	for (unsigned k = 0; k < m->ndirty; k++)
		compare_mincore(m, m->dirty[k][0], m->dirty[k][1]);
	if (m->step % FULL_EVERY == 0)
		compare_mincore(m, WBASE, WEND);
}

/* ---- the runs ---- */

/* The fixture and the model live in the cmocka state, so that teardown
 * frees them even when a step fails (and longjmps out). */
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

static int teardown(void **state)
{
	struct run *r = *state;
	vmfx_shutdown(&r->fx);
	free(r);
	return 0;
}

static void run_seed(struct run *run, uint64_t seed, unsigned steps)
{
	struct vmfx *fx = &run->fx;
	struct model *m = &run->m;
	/* 40 MiB: ~9,000 free frames, four times the most the runs keep
	 * resident; smaller RAM keeps phys_check (run every step) cheap. */
	vmfx_boot(fx, 40 * VMFX_MIB, 1);
	fx->snapshots = false; /* the model draws the layout it expected instead */
	m->fx = fx;
	m->rng = seed * 0x9e3779b97f4a7c15ull + 1;
	m->as = vmfx_space(fx);
	m->as->min_addr = WBASE;
	m->as->max_addr = WEND;
	m->as->mmap_base = MMAP_BASE;
	fx->visit = res_visit;
	fx->visit_ctx = m;
	vm_brk_init(m->as, START_BRK);
	m->brk = START_BRK;
	vm_space_activate(m->as, 0);
	vmfx_check(fx);
	for (m->step = 1; m->step <= steps; m->step++) {
		m->ndirty = 0;
		uint64_t r = below(m, 100);
		if (r < 24)
			step_map(m);
		else if (r < 36)
			step_unmap(m);
		else if (r < 48)
			step_protect(m);
		else if (r < 58)
			step_remap(m);
		else if (r < 64)
			step_dontneed(m);
		else if (r < 69)
			step_brk(m);
		else
			step_touch(m);
		compare(m);
	}
	fprintf(stderr,
		"seed %llu: %u steps: map %llu (+%llu refused), unmap %llu, protect %llu (+%llu), remap %llu in place, "
		"%llu moved (+%llu refused), dontneed %llu, brk %llu (+%llu refused), touch %llu (+%llu refused); "
		"%llu VMAs, %llu resident at the end\n",
		(unsigned long long)seed, steps, (unsigned long long)m->stats[S_MAP], (unsigned long long)m->stats[S_MAP_ERR],
		(unsigned long long)m->stats[S_UNMAP], (unsigned long long)m->stats[S_PROT],
		(unsigned long long)m->stats[S_PROT_ERR], (unsigned long long)m->stats[S_REMAP],
		(unsigned long long)m->stats[S_REMAP_MOVE], (unsigned long long)m->stats[S_REMAP_ERR],
		(unsigned long long)m->stats[S_DONTNEED], (unsigned long long)m->stats[S_BRK],
		(unsigned long long)m->stats[S_BRK_REFUSED], (unsigned long long)m->stats[S_TOUCH],
		(unsigned long long)m->stats[S_TOUCH_ERR], (unsigned long long)vmfx_vmas(m->as),
		(unsigned long long)vmfx_resident(m->as));
	if (m->norder) {
		fprintf(stderr, "seed %llu: %u error-order discrepancies with Linux, the first ones:\n",
			(unsigned long long)seed, m->norder);
		for (unsigned k = 0; k < m->norder && k < 16; k++)
			fprintf(stderr, "  %s\n", m->order[k]);
		vmfx_fail(fx, "seed %llu: %u calls chose another error than Linux's order gives (listed above)",
			  (unsigned long long)seed, m->norder);
	}
	/* Every kind of step happened, refusals included. */
	for (unsigned k = 0; k < S_NSTATS; k++)
		VMFX_TRUE(fx, m->stats[k] > 0);
	fx->visit = NULL;
	vmfx_op(fx, "unmap the window, destroy, leak baseline");
	VMFX_RC(fx, vm_unmap(m->as, WBASE, NP * PG), 0);
	vmfx_check(fx);
	VMFX_EQ(fx, vmfx_vmas(m->as), 0);
	VMFX_EQ(fx, vmfx_resident(m->as), 0);
	vmfx_shutdown(fx);
}

static void test_model_seed_1(void **state)
{
	run_seed(*state, 1, STEPS_PER_SEED);
}

static void test_model_seed_2(void **state)
{
	run_seed(*state, 2, STEPS_PER_SEED);
}

static void test_model_seed_3(void **state)
{
	run_seed(*state, 3, STEPS_PER_SEED);
}

static void test_model_seed_4(void **state)
{
	run_seed(*state, 4, STEPS_PER_SEED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_model_seed_1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_model_seed_2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_model_seed_3, setup, teardown),
		cmocka_unit_test_setup_teardown(test_model_seed_4, setup, teardown),
	};
	return cmocka_run_group_tests_name("vm_model", tests, NULL, NULL);
}
