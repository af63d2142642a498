/*
 * test_vmem_model.c - model-based tests of vmem arenas: long random
 * sequences of vmem_alloc (every policy, sizes in and out of the quantum
 * caches, sizes that are not quantum multiples), vmem_xalloc (random align,
 * phase, nocross, minaddr, maxaddr), vmem_free/vmem_xfree, bad frees, bad
 * arguments, vmem_reap and vmem_add, against a reference model: the spans
 * and the set of ranges the caller holds.
 *
 * After every step: vmem_check; the byte and segment counters against the
 * model; each new range inside a span, clear of every held range, meeting
 * its constraints; every -MMK_ENOMEM confirmed by a unit-by-unit scan of the
 * model's free space; every -MMK_EINVAL followed by "nothing changed".
 * Every 16 steps the arena's allocated segments are compared with the
 * model's set.  The first model runs 100,000 steps on a standalone arena;
 * the second runs a child arena importing from a parent (the parent's bytes
 * in use must equal the child's imported bytes at every step), checked
 * every 16 steps because its arenas are large.  Both end with the leak
 * baseline (free frames back at the boot count).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mmk/errno.h>
#include <mmk/vmem.h>

#include "sim_boot.h"

#define PG ((uint64_t)4096)
#define MiB ((uint64_t)1 << 20)

static uint64_t rng_state;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}
static uint64_t rnd_below(uint64_t n) { return n ? rnd() % n : 0; }

/* ---- the reference model ---- */

struct held {
	uint64_t start, size; /* size rounded to the quantum */
	bool x;               /* from vmem_xalloc */
};

struct model {
	uint64_t quantum;
	struct held *h;       /* sorted by start */
	size_t n, cap;
	uint64_t spans[64][2];
	size_t nspans;
	uint64_t inuse, total;
};

static void model_init(struct model *m, uint64_t quantum)
{
	memset(m, 0, sizeof(*m));
	m->quantum = quantum;
	m->cap = 1024;
	m->h = malloc(m->cap * sizeof(*m->h));
	assert_non_null(m->h);
}

/* Index of the first held range with start >= a. */
static size_t model_lower(const struct model *m, uint64_t a)
{
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (m->h[mid].start < a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool model_overlaps(const struct model *m, uint64_t a, uint64_t size)
{
	size_t i = model_lower(m, a);
	if (i < m->n && m->h[i].start < a + size)
		return true;
	if (i > 0 && m->h[i - 1].start + m->h[i - 1].size > a)
		return true;
	return false;
}

static bool model_in_span(const struct model *m, uint64_t a, uint64_t size)
{
	for (size_t i = 0; i < m->nspans; i++)
		if (a >= m->spans[i][0] && a + size <= m->spans[i][0] + m->spans[i][1])
			return true;
	return false;
}

static void model_insert(struct model *m, uint64_t a, uint64_t size, bool x)
{
	if (m->n == m->cap) {
		m->cap *= 2;
		m->h = realloc(m->h, m->cap * sizeof(*m->h));
		assert_non_null(m->h);
	}
	size_t i = model_lower(m, a);
	memmove(&m->h[i + 1], &m->h[i], (m->n - i) * sizeof(*m->h));
	m->h[i] = (struct held){ a, size, x };
	m->n++;
	m->inuse += size;
}

static void model_remove(struct model *m, size_t i)
{
	m->inuse -= m->h[i].size;
	memmove(&m->h[i], &m->h[i + 1], (m->n - i - 1) * sizeof(*m->h));
	m->n--;
}

struct req {
	uint64_t size, align, phase, nocross, minaddr, maxaddr;
};

static bool req_ok(const struct req *r, uint64_t quantum, uint64_t a)
{
	uint64_t align = r->align ? r->align : quantum;
	if (a % quantum || a % align != r->phase || a < r->minaddr)
		return false;
	if (r->maxaddr && a + r->size > r->maxaddr)
		return false;
	if (r->nocross && a / r->nocross != (a + r->size - 1) / r->nocross)
		return false;
	return true;
}

/* Whether r fits anywhere in the model's free space (spans minus held),
 * scanning each free range one quantum at a time. */
static bool model_fits(const struct model *m, const struct req *r)
{
	for (size_t s = 0; s < m->nspans; s++) {
		uint64_t lo = m->spans[s][0], end = lo + m->spans[s][1];
		size_t i = model_lower(m, lo);
		while (lo < end) {
			uint64_t hi = i < m->n && m->h[i].start < end ? m->h[i].start : end;
			for (uint64_t a = lo; a + r->size <= hi; a += m->quantum)
				if (req_ok(r, m->quantum, a))
					return true;
			if (hi == end)
				break;
			lo = m->h[i].start + m->h[i].size;
			i++;
		}
	}
	return false;
}

/* ---- comparing arena and model ---- */

struct walk_cmp {
	const struct model *m;
	size_t i;
	bool bad;
};

static void walk_alloc(void *arg, uint64_t start, uint64_t size, unsigned type)
{
	struct walk_cmp *w = arg;
	(void)type;
	if (w->i >= w->m->n || w->m->h[w->i].start != start || w->m->h[w->i].size != size)
		w->bad = true;
	w->i++;
}

static void check_arena(struct vmem *vm)
{
	const char *why = NULL;
	if (vmem_check(vm, &why) != 0)
		fail_msg("vmem_check(%s): %s", vm->name, why ? why : "?");
}

static void compare(struct vmem *vm, const struct model *m, bool walk)
{
	struct vmem_stats st;
	vmem_get_stats(vm, &st);
	assert_int_equal(st.inuse, m->inuse);
	assert_int_equal(st.nsegs_alloc - st.nqcached, m->n);
	if (m->nspans)
		assert_int_equal(st.total - st.imported, m->total);
	if (walk) {
		struct walk_cmp w = { m, 0, false };
		vmem_walk(vm, VMEM_WALK_ALLOC, walk_alloc, &w);
		if (w.bad || w.i != m->n)
			fail_msg("%s: allocated segments differ from the model (%zu vs %zu)", vm->name, w.i, m->n);
	}
}

static void same_stats(const struct vmem_stats *a, const struct vmem_stats *b)
{
	assert_int_equal(a->inuse, b->inuse);
	assert_int_equal(a->free, b->free);
	assert_int_equal(a->cached, b->cached);
	assert_int_equal(a->total, b->total);
	assert_int_equal(a->imported, b->imported);
	assert_int_equal(a->nsegs_alloc, b->nsegs_alloc);
	assert_int_equal(a->nsegs_free, b->nsegs_free);
	assert_int_equal(a->nspans, b->nspans);
}

/* ---- random requests ---- */

static unsigned rnd_policy(void)
{
	static const unsigned p[] = { 0, VM_INSTANTFIT, VM_BESTFIT, VM_NEXTFIT };
	return p[rnd_below(4)];
}

static uint64_t rnd_size(uint64_t quantum, uint64_t max_quanta)
{
	uint64_t q = rnd_below(2) ? 1 + rnd_below(4) : 1 + rnd_below(max_quanta);
	uint64_t size = q * quantum;
	if (quantum > 1 && rnd_below(4) == 0)
		size -= rnd_below(quantum); /* not a quantum multiple: rounds up */
	return size;
}

static void rnd_req(struct req *r, uint64_t quantum, uint64_t lo, uint64_t hi, uint64_t max_quanta)
{
	memset(r, 0, sizeof(*r));
	r->size = (1 + rnd_below(max_quanta)) * quantum;
	if (rnd_below(3))
		r->align = quantum << rnd_below(7);
	if (r->align > quantum && rnd_below(2))
		r->phase = rnd_below(r->align / quantum) * quantum;
	if (rnd_below(4) == 0) {
		r->nocross = quantum;
		while (r->nocross < r->size)
			r->nocross <<= 1;
		r->nocross <<= rnd_below(3);
	}
	if (rnd_below(4) == 0)
		r->minaddr = lo + rnd_below(hi - lo);
	if (rnd_below(4) == 0) {
		r->maxaddr = r->minaddr + rnd_below(hi - r->minaddr) + 1;
	}
}

/* ---- model 1: a standalone arena, 100,000 steps ---- */

static int setup(void **state)
{
	struct sim_system *s = calloc(1, sizeof(*s));
	if (!s || sim_system_boot(s, 64ull << 20, 1) != 0)
		return -1;
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	struct sim_system *s = *state;
	uint64_t now = sim_system_free_frames(s);
	if (now != s->boot_free_frames) {
		fprintf(stderr, "leak: %llu free frames, %llu at boot\n", (unsigned long long)now,
			(unsigned long long)s->boot_free_frames);
		return -1;
	}
	sim_system_shutdown(s);
	free(s);
	return 0;
}

struct counts {
	unsigned alloc, alloc_fail, xalloc, xalloc_fail, free, bad, reap, add;
};

static void model_standalone(struct sim_system *s, unsigned steps)
{
	const uint64_t q = 8;
	struct vmem vm;
	struct model m;
	struct counts c = { 0 };
	model_init(&m, q);
	int rc = vmem_create(&vm, &s->phys, "model", 0x1000, 0x4000, q, NULL, NULL, NULL, 4);
	assert_int_equal(rc, 0);
	m.spans[m.nspans][0] = 0x1000;
	m.spans[m.nspans++][1] = 0x4000;
	m.total = 0x4000;
	uint64_t next_span = 0x10000;
	for (unsigned step = 0; step < steps; step++) {
		uint64_t r = rnd_below(1000), x = 0;
		if (r < 330) {
			/* vmem_alloc */
			uint64_t size = rnd_size(q, 48);
			unsigned pol = rnd_policy();
			uint64_t rsize = (size + q - 1) / q * q;
			rc = vmem_alloc(&vm, size, pol, &x);
			c.alloc++;
			if (rc == 0) {
				if (x % q || !model_in_span(&m, x, rsize) || model_overlaps(&m, x, rsize))
					fail_msg("step %u: vmem_alloc(%llu) = %llx overlaps or is outside", step,
						 (unsigned long long)size, (unsigned long long)x);
				model_insert(&m, x, rsize, false);
			} else {
				assert_int_equal(rc, -MMK_ENOMEM);
				struct req rq = { rsize, 0, 0, 0, 0, 0 };
				if (model_fits(&m, &rq))
					fail_msg("step %u: vmem_alloc(%llu, %u) ENOMEM but the model fits it", step,
						 (unsigned long long)size, pol);
				c.alloc_fail++;
			}
		} else if (r < 530) {
			/* vmem_xalloc */
			struct req rq;
			rnd_req(&rq, q, 0x1000, next_span, 64);
			unsigned pol = rnd_policy();
			rc = vmem_xalloc(&vm, rq.size, rq.align, rq.phase, rq.nocross, rq.minaddr, rq.maxaddr, pol, &x);
			c.xalloc++;
			if (rc == 0) {
				if (!req_ok(&rq, q, x) || !model_in_span(&m, x, rq.size) || model_overlaps(&m, x, rq.size))
					fail_msg("step %u: vmem_xalloc = %llx breaks a constraint or overlaps", step,
						 (unsigned long long)x);
				model_insert(&m, x, rq.size, true);
			} else {
				assert_int_equal(rc, -MMK_ENOMEM);
				if (model_fits(&m, &rq))
					fail_msg("step %u: vmem_xalloc(size %llx align %llx phase %llx nocross %llx "
						 "[%llx,%llx) policy %u) ENOMEM but the model fits it",
						 step, (unsigned long long)rq.size, (unsigned long long)rq.align,
						 (unsigned long long)rq.phase, (unsigned long long)rq.nocross,
						 (unsigned long long)rq.minaddr, (unsigned long long)rq.maxaddr, pol);
				c.xalloc_fail++;
			}
		} else if (r < 900) {
			if (!m.n)
				continue;
			size_t i = rnd_below(m.n);
			struct held h = m.h[i];
			/* Either free works for either kind; the size may be given
			 * unrounded. */
			uint64_t size = h.size - (rnd_below(4) == 0 ? rnd_below(q) : 0);
			rc = (h.x || rnd_below(2)) ? vmem_xfree(&vm, h.start, size) : vmem_free(&vm, h.start, size);
			assert_int_equal(rc, 0);
			model_remove(&m, i);
			c.free++;
		} else if (r < 960) {
			/* Bad input: nothing may change. */
			struct vmem_stats before, after;
			vmem_get_stats(&vm, &before);
			uint64_t kind = rnd_below(6);
			if (kind == 0 && m.n) {
				struct held h = m.h[rnd_below(m.n)];
				rc = vmem_free(&vm, h.start, h.size + q); /* wrong size */
			} else if (kind == 1 && m.n) {
				struct held h = m.h[rnd_below(m.n)];
				rc = h.size > q ? vmem_xfree(&vm, h.start + q, h.size - q) : vmem_free(&vm, h.start + 1, q);
			} else if (kind == 2) {
				uint64_t a = 0x1000 + rnd_below(next_span - 0x1000) / q * q;
				size_t i = model_lower(&m, a);
				rc = (i < m.n && m.h[i].start == a) ? -MMK_EINVAL : vmem_free(&vm, a, q);
			} else if (kind == 3) {
				rc = vmem_xalloc(&vm, q, 3 * q, 0, 0, 0, 0, 0, &x);
			} else if (kind == 4) {
				rc = vmem_xalloc(&vm, 4 * q, 0, 0, 2 * q, 0, 0, 0, &x);
			} else {
				rc = vmem_add(&vm, 0x1000 + 8 * q, 16 * q); /* overlaps the first span */
			}
			assert_int_equal(rc, -MMK_EINVAL);
			vmem_get_stats(&vm, &after);
			same_stats(&before, &after);
			c.bad++;
		} else if (r < 975) {
			vmem_reap(&vm);
			c.reap++;
		} else if (r < 980 && m.nspans < 6) {
			uint64_t size = (64 + rnd_below(512)) * q;
			assert_int_equal(vmem_add(&vm, next_span, size), 0);
			m.spans[m.nspans][0] = next_span;
			m.spans[m.nspans++][1] = size;
			m.total += size;
			next_span += size + (1 + rnd_below(64)) * q; /* gaps of at least a quantum */
			c.add++;
		}
		check_arena(&vm);
		compare(&vm, &m, step % 16 == 0);
	}
	print_message("standalone: %u alloc (%u ENOMEM), %u xalloc (%u ENOMEM), %u free, %u bad, %u reap, %u add\n",
		      c.alloc, c.alloc_fail, c.xalloc, c.xalloc_fail, c.free, c.bad, c.reap, c.add);
	assert_true(c.alloc_fail > 0 && c.xalloc_fail > 0 && c.alloc > c.alloc_fail && c.xalloc > c.xalloc_fail);
	while (m.n) {
		assert_int_equal(vmem_xfree(&vm, m.h[m.n - 1].start, m.h[m.n - 1].size), 0);
		model_remove(&m, m.n - 1);
	}
	check_arena(&vm);
	assert_int_equal(vmem_destroy(&vm), 0);
	free(m.h);
}

static void test_model_standalone(void **state)
{
	rng_state = 0x2545f4914f6cdd1dull;
	model_standalone(*state, 100000);
}

/* ---- model 2: a child importing from a parent ---- */

struct fit_walk {
	const struct req *rq;
	uint64_t quantum;
	bool fits;
};

static void walk_free(void *arg, uint64_t start, uint64_t size, unsigned type)
{
	struct fit_walk *w = arg;
	(void)type;
	for (uint64_t a = start; !w->fits && a + w->rq->size <= start + size; a += w->quantum)
		w->fits = req_ok(w->rq, w->quantum, a);
}

static void free_ranges_fit(struct vmem *vm, const struct req *rq, bool *fits)
{
	struct fit_walk w = { rq, vm->quantum, false };
	vmem_walk(vm, VMEM_WALK_FREE, walk_free, &w);
	*fits = w.fits;
}

static void test_model_import(void **state)
{
	struct sim_system *s = *state;
	const uint64_t pbase = 0x200000000ull, psize = 256 * MiB;
	struct vmem parent, child;
	struct model m;
	struct counts c = { 0 };
	rng_state = 0x9e3779b97f4a7c15ull;
	model_init(&m, PG);
	assert_int_equal(vmem_create(&parent, &s->phys, "model-parent", pbase, psize, PG, NULL, NULL, NULL, 0), 0);
	assert_int_equal(vmem_create(&child, &s->phys, "model-child", 0, 0, PG, vmem_alloc, vmem_free, &parent, 4), 0);
	/* The model holds the child's callers' ranges; the child's spans are
	 * all imported, so "spans" is the parent's one span. */
	m.spans[0][0] = pbase;
	m.spans[0][1] = psize;
	m.nspans = 0; /* total is not compared: it is the parent's business */
	for (unsigned step = 0; step < 30000; step++) {
		uint64_t r = rnd_below(1000), x = 0;
		int rc;
		bool grow = (step / 5000) % 2 == 0;
		if (r < (grow ? 450u : 300u)) {
			uint64_t size = rnd_size(PG, 64);
			uint64_t rsize = (size + PG - 1) / PG * PG;
			rc = vmem_alloc(&child, size, rnd_policy(), &x);
			assert_int_equal(rc, 0); /* the parent is never exhausted here */
			if (x < pbase || x + rsize > pbase + psize || model_overlaps(&m, x, rsize))
				fail_msg("step %u: child alloc %llx overlaps or is outside the parent", step,
					 (unsigned long long)x);
			model_insert(&m, x, rsize, false);
			c.alloc++;
		} else if (r < (grow ? 650u : 450u)) {
			struct req rq;
			rnd_req(&rq, PG, pbase, pbase + psize, 32);
			rc = vmem_xalloc(&child, rq.size, rq.align, rq.phase, rq.nocross, rq.minaddr, rq.maxaddr,
					 rnd_policy(), &x);
			c.xalloc++;
			bool window = rq.nocross || rq.minaddr || rq.maxaddr;
			if (rc == 0) {
				if (!req_ok(&rq, PG, x) || model_overlaps(&m, x, rq.size) || x < pbase ||
				    x + rq.size > pbase + psize)
					fail_msg("step %u: child xalloc %llx breaks a constraint or overlaps", step,
						 (unsigned long long)x);
				model_insert(&m, x, rq.size, true);
			} else {
				assert_int_equal(rc, -MMK_ENOMEM);
				assert_true(window); /* otherwise the child imports */
				bool fits;
				free_ranges_fit(&child, &rq, &fits);
				assert_false(fits);
				c.xalloc_fail++;
			}
		} else if (r < 990) {
			if (!m.n)
				continue;
			size_t i = rnd_below(m.n);
			struct held h = m.h[i];
			rc = h.x ? vmem_xfree(&child, h.start, h.size) : vmem_free(&child, h.start, h.size);
			assert_int_equal(rc, 0);
			model_remove(&m, i);
			c.free++;
		} else {
			vmem_reap(&child);
			c.reap++;
		}
		struct vmem_stats cs, ps;
		vmem_get_stats(&child, &cs);
		vmem_get_stats(&parent, &ps);
		assert_int_equal(ps.inuse, cs.imported); /* the parent serves only the child */
		assert_int_equal(cs.imported, cs.total);
		if (step % 16 == 0) {
			check_arena(&child);
			check_arena(&parent);
			compare(&child, &m, true);
		} else {
			compare(&child, &m, false);
		}
	}
	print_message("import: %u alloc, %u xalloc (%u ENOMEM), %u free, %u reap\n", c.alloc, c.xalloc,
		      c.xalloc_fail, c.free, c.reap);
	while (m.n) {
		assert_int_equal(vmem_xfree(&child, m.h[m.n - 1].start, m.h[m.n - 1].size), 0);
		model_remove(&m, m.n - 1);
	}
	vmem_reap(&child);
	struct vmem_stats cs;
	vmem_get_stats(&child, &cs);
	assert_int_equal(cs.total, 0); /* every imported span went back */
	check_arena(&child);
	check_arena(&parent);
	assert_int_equal(vmem_destroy(&child), 0);
	assert_int_equal(vmem_destroy(&parent), 0);
	free(m.h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_model_standalone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_model_import, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
