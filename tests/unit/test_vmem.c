/*
 * test_vmem.c - the calls of include/mmk/vmem.h one by one: vmem_create
 * (every bad argument), vmem_add, vmem_alloc with each policy, vmem_xalloc
 * with every constraint (checked against a brute-force reference that scans
 * the free ranges unit by unit), vmem_free/vmem_xfree (every bad free),
 * coalescing, import/release from a parent arena and from a custom source,
 * quantum caches, exhaustion, hash growth, vmem_walk, vmem_get_stats,
 * vmem_reap, vmem_destroy, the checker catching corruption, and the
 * allocation-failure sweep.  Use cases: an ASID allocator (1..4095, quantum
 * 1, next fit) and a kernel virtual address arena (0xffff800000000000,
 * quantum 4096).  Every test boots a simulated PC for phys and ends with the
 * leak baseline: free frames back at the boot count.
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

#define KiB ((uint64_t)1 << 10)
#define MiB ((uint64_t)1 << 20)
#define GiB ((uint64_t)1 << 30)
#define PG ((uint64_t)4096)
#define KVA_BASE 0xffff800000000000ull

/* ---- fixture ---- */

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

#define OK(call)                                                                                           \
	do {                                                                                               \
		int rc_ = (call);                                                                          \
		if (rc_ != 0)                                                                              \
			fail_msg("%s = %d (%s)", #call, rc_, mmk_strerror(rc_));                           \
	} while (0)

#define RC(call, want)                                                                                     \
	do {                                                                                               \
		int rc_ = (call), want_ = (want);                                                          \
		if (rc_ != want_)                                                                          \
			fail_msg("%s = %d (%s), want %d (%s)", #call, rc_, mmk_strerror(rc_), want_,        \
				 mmk_strerror(want_));                                                      \
	} while (0)

/* ---- layouts ---- */

struct seginfo {
	uint64_t start, size;
	unsigned type;
};

struct layout {
	size_t n, cap;
	struct seginfo *v;
};

static void layout_add(void *arg, uint64_t start, uint64_t size, unsigned type)
{
	struct layout *l = arg;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		assert_non_null(l->v);
	}
	l->v[l->n++] = (struct seginfo){ start, size, type };
}

static struct layout layout_of(struct vmem *vm, unsigned mask)
{
	struct layout l = { 0, 0, NULL };
	vmem_walk(vm, mask, layout_add, &l);
	return l;
}

static char type_char(unsigned t)
{
	switch (t) {
	case VMEM_WALK_SPAN:
		return 'S';
	case VMEM_WALK_FREE:
		return 'F';
	case VMEM_WALK_ALLOC:
		return 'A';
	default:
		return 'C';
	}
}

/* "S[1000,+1000) A[1000,+10) F[1010,+ff0)" (hex). */
static char *layout_str(struct vmem *vm)
{
	struct layout l = layout_of(vm, VMEM_WALK_ALL);
	size_t cap = 64 + l.n * 48;
	char *s = malloc(cap);
	assert_non_null(s);
	size_t off = 0;
	s[0] = 0;
	for (size_t i = 0; i < l.n; i++)
		off += (size_t)snprintf(s + off, cap - off, "%s%c[%llx,+%llx)", i ? " " : "", type_char(l.v[i].type),
					(unsigned long long)l.v[i].start, (unsigned long long)l.v[i].size);
	free(l.v);
	return s;
}

static void expect_layout(struct vmem *vm, const char *want)
{
	char *got = layout_str(vm);
	if (strcmp(got, want) != 0) {
		print_error("==== %s: expected layout ====\n%s\n==== got ====\n%s\n", vm->name, want, got);
		free(got);
		fail_msg("layout differs");
	}
	free(got);
}

static void check(struct vmem *vm)
{
	const char *why = NULL;
	if (vmem_check(vm, &why) != 0) {
		char *l = layout_str(vm);
		print_error("layout of %s: %s\n", vm->name, l);
		free(l);
		fail_msg("vmem_check(%s): %s", vm->name, why ? why : "?");
	}
}

/* ---- "nothing changed" ---- */

struct snap {
	struct vmem_stats st;
	struct layout l;
	uint64_t frames;
};

static void snap_take(struct sim_system *s, struct vmem *vm, struct snap *sn)
{
	vmem_get_stats(vm, &sn->st);
	sn->l = layout_of(vm, VMEM_WALK_ALL);
	sn->frames = sim_system_free_frames(s);
}

/* Compare with a snapshot and free it; layout_too=false when the quantum
 * caches may have been emptied (bytes compare, segments do not). */
static void snap_same(struct sim_system *s, struct vmem *vm, struct snap *a, bool layout_too)
{
	struct snap b;
	snap_take(s, vm, &b);
	assert_int_equal(a->st.inuse, b.st.inuse);
	assert_int_equal(a->st.total, b.st.total);
	assert_int_equal(a->st.imported, b.st.imported);
	assert_int_equal(a->st.free + a->st.cached, b.st.free + b.st.cached);
	assert_int_equal(a->frames, b.frames);
	if (layout_too) {
		assert_int_equal(a->st.free, b.st.free);
		assert_int_equal(a->st.nsegs_alloc, b.st.nsegs_alloc);
		assert_int_equal(a->st.nsegs_free, b.st.nsegs_free);
		assert_int_equal(a->st.nspans, b.st.nspans);
		assert_int_equal(a->l.n, b.l.n);
		for (size_t i = 0; i < a->l.n; i++)
			if (a->l.v[i].start != b.l.v[i].start || a->l.v[i].size != b.l.v[i].size ||
			    a->l.v[i].type != b.l.v[i].type)
				fail_msg("%s: layout changed at segment %zu", vm->name, i);
	}
	free(a->l.v);
	free(b.l.v);
}

#define EXPECT_ERR(s, vm, call, err)                                                                       \
	do {                                                                                               \
		struct snap sn_;                                                                           \
		snap_take((s), (vm), &sn_);                                                                \
		RC((call), (err));                                                                         \
		check(vm);                                                                                 \
		snap_same((s), (vm), &sn_, true);                                                          \
	} while (0)

static struct vmem_stats stats(struct vmem *vm)
{
	struct vmem_stats st;
	vmem_get_stats(vm, &st);
	return st;
}

static uint64_t rng_state;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}
static uint64_t rnd_below(uint64_t n) { return n ? rnd() % n : 0; }

/* Exactly [a, a + size): an xalloc whose window is the range itself. */
static void take(struct vmem *vm, uint64_t a, uint64_t size)
{
	uint64_t got = 0;
	OK(vmem_xalloc(vm, size, 0, 0, 0, a, a + size, 0, &got));
	assert_int_equal(got, a);
}

/* ---- vmem_create ---- */

static void test_create_bad_args(void **state)
{
	struct sim_system *s = *state;
	struct phys *ph = &s->phys;
	struct vmem a, p;
	uint64_t frames = sim_system_free_frames(s);
	RC(vmem_create(&a, ph, "q0", 0, 0, 0, NULL, NULL, NULL, 0), -MMK_EINVAL);
	RC(vmem_create(&a, ph, "q3", 0, 0, 3, NULL, NULL, NULL, 0), -MMK_EINVAL);
	RC(vmem_create(&a, NULL, "nophys", 0, 0, 1, NULL, NULL, NULL, 0), -MMK_EINVAL);
	RC(vmem_create(NULL, ph, "novm", 0, 0, 1, NULL, NULL, NULL, 0), -MMK_EINVAL);
	RC(vmem_create(&a, ph, "base", 100, PG, PG, NULL, NULL, NULL, 0), -MMK_EINVAL);
	RC(vmem_create(&a, ph, "size", 0, 100, PG, NULL, NULL, NULL, 0), -MMK_EINVAL);
	RC(vmem_create(&a, ph, "wrap", UINT64_MAX - PG + 1, PG, PG, NULL, NULL, NULL, 0), -MMK_EINVAL);
	RC(vmem_create(&a, ph, "wrap2", UINT64_MAX - PG + 1, 2 * PG, PG, NULL, NULL, NULL, 0), -MMK_EINVAL);
	RC(vmem_create(&a, ph, "qc", 0, PG, PG, NULL, NULL, NULL, VMEM_QCACHE_MAX + 1), -MMK_EINVAL);
	RC(vmem_create(&a, ph, "half", 0, 0, PG, vmem_alloc, NULL, NULL, 0), -MMK_EINVAL);
	RC(vmem_create(&a, ph, "half2", 0, 0, PG, NULL, vmem_free, NULL, 0), -MMK_EINVAL);
	RC(vmem_create(&a, ph, "nosrc", 0, 0, PG, vmem_alloc, vmem_free, NULL, 0), -MMK_EINVAL);
	RC(vmem_create(&a, ph, "self", 0, 0, PG, vmem_alloc, vmem_free, &a, 0), -MMK_EINVAL);
	OK(vmem_create(&p, ph, "parent16", 0, 1024, 16, NULL, NULL, NULL, 0));
	RC(vmem_create(&a, ph, "srcnofn", 0, 0, 16, NULL, NULL, &p, 0), -MMK_EINVAL);
	RC(vmem_create(&a, ph, "coarser", 0, 0, 32, vmem_alloc, vmem_free, &p, 0), -MMK_EINVAL);
	OK(vmem_create(&a, ph, "finer", 0, 0, 8, vmem_alloc, vmem_free, &p, 0));
	OK(vmem_destroy(&a));
	/* The highest range allowed ends at 2^64 - 1 (exclusive end fits). */
	OK(vmem_create(&a, ph, "top", UINT64_MAX - 2 * PG + 1, PG, PG, NULL, NULL, NULL, 0));
	uint64_t x;
	OK(vmem_alloc(&a, PG, 0, &x));
	assert_int_equal(x, UINT64_MAX - 2 * PG + 1);
	check(&a);
	OK(vmem_free(&a, x, PG));
	OK(vmem_destroy(&a));
	OK(vmem_destroy(&p));
	assert_int_equal(sim_system_free_frames(s), frames);
}

static void test_create_name_stats_walk(void **state)
{
	struct sim_system *s = *state;
	struct vmem a;
	OK(vmem_create(&a, &s->phys, "a-name-that-is-much-longer-than-thirty-one-bytes", 0x1000, 0x1000, 16, NULL,
		       NULL, NULL, 2));
	struct vmem_stats st = stats(&a);
	assert_int_equal(strlen(st.name), VMEM_NAMELEN - 1);
	assert_memory_equal(st.name, "a-name-that-is-much-longer-than", VMEM_NAMELEN - 1);
	assert_int_equal(st.quantum, 16);
	assert_int_equal(st.total, 0x1000);
	assert_int_equal(st.free, 0x1000);
	assert_int_equal(st.inuse, 0);
	assert_int_equal(st.nspans, 1);
	assert_int_equal(st.nsegs_free, 1);
	assert_int_equal(st.tag_pages, 1);
	assert_int_equal(st.hash_buckets, VMEM_HASH_MIN);
	uint64_t x, y;
	OK(vmem_alloc(&a, 0x20, 0, &x));    /* 2 quanta: quantum-cache size */
	OK(vmem_alloc(&a, 0x100, 0, &y));   /* too big for the caches */
	OK(vmem_free(&a, x, 0x20));         /* parked in the cache */
	expect_layout(&a, "S[1000,+1000) C[1000,+20) A[1020,+100) F[1120,+ee0)");
	/* Walk masks select types. */
	struct layout l = layout_of(&a, VMEM_WALK_SPAN);
	assert_int_equal(l.n, 1);
	free(l.v);
	l = layout_of(&a, VMEM_WALK_FREE | VMEM_WALK_CACHED);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.v[0].type, VMEM_WALK_CACHED);
	assert_int_equal(l.v[1].type, VMEM_WALK_FREE);
	free(l.v);
	l = layout_of(&a, VMEM_WALK_ALLOC);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].start, y);
	free(l.v);
	l = layout_of(&a, 0);
	assert_int_equal(l.n, 0);
	st = stats(&a);
	assert_int_equal(st.inuse, 0x100);
	assert_int_equal(st.cached, 0x20);
	assert_int_equal(st.free, 0xee0);
	assert_int_equal(st.nqcached, 1);
	assert_int_equal(st.nsegs_alloc, 2);
	assert_int_equal(st.allocs, 2);
	assert_int_equal(st.frees, 1);
	assert_int_equal(st.qcache_misses, 1);
	check(&a);
	OK(vmem_free(&a, y, 0x100));
	OK(vmem_destroy(&a));
}

/* An empty arena takes no frames until it needs tags; a failed allocation
 * gives back the tag page it took. */
static void test_create_empty(void **state)
{
	struct sim_system *s = *state;
	struct vmem a;
	uint64_t frames = sim_system_free_frames(s);
	OK(vmem_create(&a, &s->phys, "empty", 0, 0, 1, NULL, NULL, NULL, 0));
	assert_int_equal(sim_system_free_frames(s), frames);
	uint64_t x;
	EXPECT_ERR(s, &a, vmem_alloc(&a, 1, 0, &x), -MMK_ENOMEM);
	EXPECT_ERR(s, &a, vmem_xalloc(&a, 1, 0, 0, 0, 0, 0, VM_BESTFIT, &x), -MMK_ENOMEM);
	EXPECT_ERR(s, &a, vmem_alloc(&a, 1, VM_NEXTFIT, &x), -MMK_ENOMEM);
	assert_int_equal(stats(&a).alloc_fails, 3);
	OK(vmem_add(&a, 10, 5));
	OK(vmem_alloc(&a, 5, 0, &x));
	assert_int_equal(x, 10);
	expect_layout(&a, "S[a,+5) A[a,+5)");
	EXPECT_ERR(s, &a, vmem_destroy(&a), -MMK_EBUSY);
	OK(vmem_free(&a, x, 5));
	OK(vmem_destroy(&a));
	assert_int_equal(sim_system_free_frames(s), frames);
}

/* ---- vmem_add ---- */

static void test_add(void **state)
{
	struct sim_system *s = *state;
	struct vmem a;
	OK(vmem_create(&a, &s->phys, "spans", 0, 0, 16, NULL, NULL, NULL, 0));
	OK(vmem_add(&a, 0x1000, 0x1000));
	OK(vmem_add(&a, 0x3000, 0x1000));
	OK(vmem_add(&a, 0x2000, 0x1000)); /* between, touching both */
	check(&a);
	expect_layout(&a, "S[1000,+1000) F[1000,+1000) S[2000,+1000) F[2000,+1000) S[3000,+1000) F[3000,+1000)");
	EXPECT_ERR(s, &a, vmem_add(&a, 0x1800, 0x100), -MMK_EINVAL);  /* inside */
	EXPECT_ERR(s, &a, vmem_add(&a, 0x0ff0, 0x20), -MMK_EINVAL);   /* straddles the start */
	EXPECT_ERR(s, &a, vmem_add(&a, 0x3ff0, 0x20), -MMK_EINVAL);   /* straddles the end */
	EXPECT_ERR(s, &a, vmem_add(&a, 0, 0x10000), -MMK_EINVAL);     /* covers all */
	EXPECT_ERR(s, &a, vmem_add(&a, 0x1000, 0x10), -MMK_EINVAL);   /* same base */
	EXPECT_ERR(s, &a, vmem_add(&a, 0x4008, 0x10), -MMK_EINVAL);   /* base not a quantum multiple */
	EXPECT_ERR(s, &a, vmem_add(&a, 0x4000, 0x18), -MMK_EINVAL);   /* size not a quantum multiple */
	EXPECT_ERR(s, &a, vmem_add(&a, 0x4000, 0), -MMK_EINVAL);
	EXPECT_ERR(s, &a, vmem_add(&a, UINT64_MAX - 0xf, 0x10), -MMK_EINVAL); /* ends at 2^64 */
	OK(vmem_add(&a, 0x0ff0, 0x10));                                  /* just below: fine */
	OK(vmem_add(&a, 0x4000, 0x10));                                  /* just above: fine */
	check(&a);
	struct vmem_stats st = stats(&a);
	assert_int_equal(st.nspans, 5);
	assert_int_equal(st.total, 0x3020);
	assert_int_equal(st.imported, 0);
	/* Spans never merge: 0x2000 units do not fit anywhere. */
	uint64_t x, y[3];
	EXPECT_ERR(s, &a, vmem_alloc(&a, 0x2000, 0, &x), -MMK_ENOMEM);
	for (int i = 0; i < 3; i++)
		OK(vmem_alloc(&a, 0x1000, VM_BESTFIT, &y[i]));
	EXPECT_ERR(s, &a, vmem_alloc(&a, 0x1000, 0, &x), -MMK_ENOMEM);
	for (int i = 0; i < 3; i++)
		OK(vmem_free(&a, y[i], 0x1000));
	check(&a);
	/* Freed segments do not leave their span: still 5 spans, 5 free segments. */
	assert_int_equal(stats(&a).nsegs_free, 5);
	OK(vmem_destroy(&a));
}

/* ---- alloc, free, coalescing ---- */

static void test_alloc_free_coalesce(void **state)
{
	struct sim_system *s = *state;
	struct vmem a;
	OK(vmem_create(&a, &s->phys, "coalesce", 0x1000, 0x1000, 16, NULL, NULL, NULL, 0));
	uint64_t x, b, c, d;
	OK(vmem_alloc(&a, 1, 0, &x)); /* rounds to a quantum */
	OK(vmem_alloc(&a, 16, 0, &b));
	OK(vmem_alloc(&a, 17, 0, &c)); /* 32 */
	OK(vmem_alloc(&a, 48, 0, &d));
	assert_int_equal(x, 0x1000);
	assert_int_equal(b, 0x1010);
	assert_int_equal(c, 0x1020);
	assert_int_equal(d, 0x1040);
	expect_layout(&a, "S[1000,+1000) A[1000,+10) A[1010,+10) A[1020,+20) A[1040,+30) F[1070,+f90)");
	check(&a);
	/* Bad frees: nothing changes. */
	EXPECT_ERR(s, &a, vmem_free(&a, 0x1070, 16), -MMK_EINVAL);  /* free space */
	EXPECT_ERR(s, &a, vmem_free(&a, 0x1030, 16), -MMK_EINVAL);  /* interior */
	EXPECT_ERR(s, &a, vmem_free(&a, c, 16), -MMK_EINVAL);       /* wrong size */
	EXPECT_ERR(s, &a, vmem_free(&a, c, 48), -MMK_EINVAL);       /* wrong size */
	EXPECT_ERR(s, &a, vmem_free(&a, c, 0), -MMK_EINVAL);
	EXPECT_ERR(s, &a, vmem_free(&a, 0x99999000, 16), -MMK_EINVAL); /* foreign */
	EXPECT_ERR(s, &a, vmem_xfree(&a, 0x1001, 16), -MMK_EINVAL);
	EXPECT_ERR(s, &a, vmem_free(&a, c, UINT64_MAX), -MMK_EINVAL);
	/* Free the middle: no merge (neighbours allocated). */
	OK(vmem_free(&a, b, 16));
	expect_layout(&a, "S[1000,+1000) A[1000,+10) F[1010,+10) A[1020,+20) A[1040,+30) F[1070,+f90)");
	EXPECT_ERR(s, &a, vmem_free(&a, b, 16), -MMK_EINVAL);       /* double free */
	/* Merge with the previous free neighbour. */
	OK(vmem_xfree(&a, c, 30));                                  /* 30 rounds to 32 */
	expect_layout(&a, "S[1000,+1000) A[1000,+10) F[1010,+30) A[1040,+30) F[1070,+f90)");
	/* Merge on both sides. */
	OK(vmem_free(&a, d, 48));
	expect_layout(&a, "S[1000,+1000) A[1000,+10) F[1010,+ff0)");
	/* Merge with the next only. */
	OK(vmem_free(&a, x, 16));
	expect_layout(&a, "S[1000,+1000) F[1000,+1000)");
	check(&a);
	struct vmem_stats st = stats(&a);
	assert_int_equal(st.inuse, 0);
	assert_int_equal(st.free, 0x1000);
	assert_int_equal(st.nsegs_free, 1);
	assert_int_equal(st.nsegs_alloc, 0);
	/* Whole arena, then nothing. */
	OK(vmem_alloc(&a, 0x1000, 0, &x));
	expect_layout(&a, "S[1000,+1000) A[1000,+1000)");
	EXPECT_ERR(s, &a, vmem_alloc(&a, 16, 0, &x), -MMK_ENOMEM);
	OK(vmem_free(&a, 0x1000, 0x1000));
	OK(vmem_destroy(&a));
}

static void test_alloc_bad_args(void **state)
{
	struct sim_system *s = *state;
	struct vmem a;
	uint64_t x;
	OK(vmem_create(&a, &s->phys, "badargs", 0x1000, 0x1000, 16, NULL, NULL, NULL, 0));
	OK(vmem_alloc(&a, 32, 0, &x)); /* something to keep */
	EXPECT_ERR(s, &a, vmem_alloc(&a, 0, 0, &x), -MMK_EINVAL);
	EXPECT_ERR(s, &a, vmem_alloc(&a, 16, 0x80, &x), -MMK_EINVAL);
	EXPECT_ERR(s, &a, vmem_alloc(&a, 16, VM_BESTFIT | VM_NEXTFIT, &x), -MMK_EINVAL);
	EXPECT_ERR(s, &a, vmem_alloc(&a, 16, VM_INSTANTFIT | VM_BESTFIT, &x), -MMK_EINVAL);
	EXPECT_ERR(s, &a, vmem_alloc(&a, 16, 0, NULL), -MMK_EINVAL);
	EXPECT_ERR(s, &a, vmem_alloc(&a, UINT64_MAX, 0, &x), -MMK_ENOMEM);   /* rounding overflows */
	EXPECT_ERR(s, &a, vmem_alloc(&a, 0x2000, 0, &x), -MMK_ENOMEM);
	/* xalloc argument checks */
	EXPECT_ERR(s, &a, vmem_xalloc(&a, 0, 0, 0, 0, 0, 0, 0, &x), -MMK_EINVAL);
	EXPECT_ERR(s, &a, vmem_xalloc(&a, 16, 48, 0, 0, 0, 0, 0, &x), -MMK_EINVAL);      /* align not pow2 */
	EXPECT_ERR(s, &a, vmem_xalloc(&a, 16, 8, 0, 0, 0, 0, 0, &x), -MMK_EINVAL);       /* below quantum */
	EXPECT_ERR(s, &a, vmem_xalloc(&a, 16, 64, 64, 0, 0, 0, 0, &x), -MMK_EINVAL);     /* phase == align */
	EXPECT_ERR(s, &a, vmem_xalloc(&a, 16, 64, 80, 0, 0, 0, 0, &x), -MMK_EINVAL);     /* phase > align */
	EXPECT_ERR(s, &a, vmem_xalloc(&a, 16, 64, 8, 0, 0, 0, 0, &x), -MMK_EINVAL);      /* phase not quantum */
	EXPECT_ERR(s, &a, vmem_xalloc(&a, 16, 0, 16, 0, 0, 0, 0, &x), -MMK_EINVAL);      /* phase, align 0 */
	EXPECT_ERR(s, &a, vmem_xalloc(&a, 16, 0, 0, 48, 0, 0, 0, &x), -MMK_EINVAL);      /* nocross not pow2 */
	EXPECT_ERR(s, &a, vmem_xalloc(&a, 64, 0, 0, 32, 0, 0, 0, &x), -MMK_EINVAL);      /* nocross < size */
	EXPECT_ERR(s, &a, vmem_xalloc(&a, 1, 0, 0, 8, 0, 0, 0, &x), -MMK_EINVAL);        /* nocross < quantum */
	EXPECT_ERR(s, &a, vmem_xalloc(&a, 16, 0, 0, 0, 0x1800, 0x1700, 0, &x), -MMK_EINVAL); /* min > max */
	EXPECT_ERR(s, &a, vmem_xalloc(&a, 16, 0, 0, 0, 0, 0, 0x100, &x), -MMK_EINVAL);
	EXPECT_ERR(s, &a, vmem_xalloc(&a, 16, 0, 0, 0, 0, 0, VM_BESTFIT | VM_NEXTFIT, &x), -MMK_EINVAL);
	EXPECT_ERR(s, &a, vmem_xalloc(&a, 16, 0, 0, 0, 0, 0, 0, NULL), -MMK_EINVAL);
	/* Valid but unsatisfiable windows. */
	EXPECT_ERR(s, &a, vmem_xalloc(&a, 16, 0, 0, 0, 0x1800, 0x1800, 0, &x), -MMK_ENOMEM); /* empty */
	EXPECT_ERR(s, &a, vmem_xalloc(&a, 32, 0, 0, 0, 0x1800, 0x1810, 0, &x), -MMK_ENOMEM); /* too small */
	EXPECT_ERR(s, &a, vmem_xalloc(&a, 16, 0, 0, 0, 0x3000, 0, 0, &x), -MMK_ENOMEM);      /* above */
	EXPECT_ERR(s, &a, vmem_xalloc(&a, 16, 0, 0, 0, 0, 0x1000, 0, &x), -MMK_ENOMEM);      /* below */
	EXPECT_ERR(s, &a, vmem_xalloc(&a, 16, 0x4000, 0, 0, 0, 0, 0, &x), -MMK_ENOMEM);      /* no aligned */
	EXPECT_ERR(s, &a, vmem_xalloc(&a, 0x800, 0, 0, 0x800, 0, 0x1fff, 0, &x), -MMK_ENOMEM);
	OK(vmem_free(&a, 0x1000, 32));
	OK(vmem_destroy(&a));
}

/* ---- policies ---- */

/* Quantum 1, [0, 100): free holes [0,3) (3), [10,18) (8), [30,35) (5). */
static void holes_arena(struct sim_system *s, struct vmem *a, const char *name)
{
	OK(vmem_create(a, &s->phys, name, 0, 100, 1, NULL, NULL, NULL, 0));
	take(a, 3, 7);
	take(a, 18, 12);
	take(a, 35, 65);
	expect_layout(a, "S[0,+64) F[0,+3) A[3,+7) F[a,+8) A[12,+c) F[1e,+5) A[23,+41)");
	check(a);
}

static void holes_fini(struct vmem *a)
{
	struct layout l = layout_of(a, VMEM_WALK_ALLOC);
	for (size_t i = 0; i < l.n; i++)
		OK(vmem_free(a, l.v[i].start, l.v[i].size));
	free(l.v);
	check(a);
	OK(vmem_destroy(a));
}

static void test_instant_vs_best_fit(void **state)
{
	struct sim_system *s = *state;
	struct vmem a;
	uint64_t x;
	/* Instant fit of 5 takes the head of list [8,16): the hole of 8; best
	 * fit takes the exact hole of 5. */
	holes_arena(s, &a, "instant");
	OK(vmem_alloc(&a, 5, VM_INSTANTFIT, &x));
	assert_int_equal(x, 10);
	OK(vmem_alloc(&a, 5, 0, &x)); /* 0 is instant fit too: now [4,8) holds 5 (and 3 is left of 8) */
	assert_int_equal(x, 30);
	holes_fini(&a);

	holes_arena(s, &a, "best");
	OK(vmem_alloc(&a, 5, VM_BESTFIT, &x));
	assert_int_equal(x, 30);
	OK(vmem_alloc(&a, 3, VM_BESTFIT, &x)); /* exact 3 at 0 beats 8 */
	assert_int_equal(x, 0);
	OK(vmem_alloc(&a, 1, VM_BESTFIT, &x));
	assert_int_equal(x, 10);
	holes_fini(&a);

	/* Instant fit of 3 (not a power of two): list [4,8) guarantees it. */
	holes_arena(s, &a, "instant3");
	OK(vmem_alloc(&a, 3, 0, &x));
	assert_int_equal(x, 30);
	/* Size 6: no list [8,..) other than the 8-hole: 10. */
	OK(vmem_alloc(&a, 6, 0, &x));
	assert_int_equal(x, 10);
	/* Size 2: lists [2,4) hold 3 ([0,3)) and 2 ([16,18)); [33,35) too. */
	OK(vmem_alloc(&a, 2, 0, &x));
	assert_true(x == 0 || x == 16 || x == 33);
	holes_fini(&a);

	/* An exact power of two is guaranteed by its own list; when no list
	 * guarantees a fit, instant fit searches the one that may hold it. */
	holes_arena(s, &a, "instant8");
	OK(vmem_alloc(&a, 8, 0, &x));
	assert_int_equal(x, 10);
	EXPECT_ERR(s, &a, vmem_alloc(&a, 6, 0, &x), -MMK_ENOMEM);
	OK(vmem_alloc(&a, 5, 0, &x)); /* list [4,8) holds only 5: searched, fits */
	assert_int_equal(x, 30);
	holes_fini(&a);
}

static void test_next_fit(void **state)
{
	struct sim_system *s = *state;
	struct vmem a;
	uint64_t x;
	holes_arena(s, &a, "next");
	uint64_t want[] = { 0, 10, 12, 14, 16, 30, 32 };
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		OK(vmem_alloc(&a, 2, VM_NEXTFIT, &x));
		assert_int_equal(x, want[i]);
	}
	check(&a);
	EXPECT_ERR(s, &a, vmem_alloc(&a, 2, VM_NEXTFIT, &x), -MMK_ENOMEM);
	/* Freeing behind the rotor: the search goes on ahead first ... */
	OK(vmem_free(&a, 12, 2));
	OK(vmem_free(&a, 0, 2));
	EXPECT_ERR(s, &a, vmem_alloc(&a, 4, VM_NEXTFIT, &x), -MMK_ENOMEM);
	/* ... then wraps to the lowest fit. */
	OK(vmem_alloc(&a, 2, VM_NEXTFIT, &x));
	assert_int_equal(x, 0);
	OK(vmem_alloc(&a, 2, VM_NEXTFIT, &x));
	assert_int_equal(x, 12);
	/* Free the rotor's own segment: the search still starts after the
	 * end of the last next-fit allocation (14), not at the freed 12. */
	OK(vmem_free(&a, 12, 2));
	OK(vmem_alloc(&a, 1, VM_NEXTFIT, &x));
	assert_int_equal(x, 34);
	OK(vmem_alloc(&a, 1, VM_NEXTFIT, &x));
	assert_int_equal(x, 2); /* wrapped */
	OK(vmem_alloc(&a, 1, VM_NEXTFIT, &x));
	assert_int_equal(x, 12);
	check(&a);
	/* Next fit with constraints (xalloc). */
	OK(vmem_free(&a, 30, 2));
	OK(vmem_free(&a, 32, 2));
	OK(vmem_xalloc(&a, 1, 2, 1, 0, 0, 0, VM_NEXTFIT, &x));
	assert_int_equal(x, 13);
	OK(vmem_xalloc(&a, 1, 2, 1, 0, 0, 0, VM_NEXTFIT, &x));
	assert_int_equal(x, 31);
	holes_fini(&a);
}

/* The ASID allocator: numbers 1..4095, quantum 1, next fit, so a freed
 * ASID is reused as late as possible (its TLB entries age out). */
static void test_asid_allocator(void **state)
{
	struct sim_system *s = *state;
	struct vmem asid;
	uint64_t x;
	OK(vmem_create(&asid, &s->phys, "asid", 1, 4095, 1, NULL, NULL, NULL, 0));
	for (uint64_t want = 1; want <= 3; want++) {
		OK(vmem_alloc(&asid, 1, VM_NEXTFIT, &x));
		assert_int_equal(x, want);
	}
	OK(vmem_free(&asid, 2, 1));
	OK(vmem_alloc(&asid, 1, VM_NEXTFIT, &x));
	assert_int_equal(x, 4); /* not 2 */
	/* Freeing the last one merges it into the free space after it; the
	 * next one is still the one after it. */
	OK(vmem_free(&asid, 4, 1));
	OK(vmem_alloc(&asid, 1, VM_NEXTFIT, &x));
	assert_int_equal(x, 5); /* not 4 */
	for (uint64_t want = 6; want <= 4095; want++) {
		OK(vmem_alloc(&asid, 1, VM_NEXTFIT, &x));
		assert_int_equal(x, want);
	}
	check(&asid);
	/* Wrap around: 2 and 4 are the only ones free. */
	OK(vmem_alloc(&asid, 1, VM_NEXTFIT, &x));
	assert_int_equal(x, 2);
	OK(vmem_alloc(&asid, 1, VM_NEXTFIT, &x));
	assert_int_equal(x, 4);
	EXPECT_ERR(s, &asid, vmem_alloc(&asid, 1, VM_NEXTFIT, &x), -MMK_ENOMEM);
	OK(vmem_free(&asid, 100, 1));
	OK(vmem_free(&asid, 50, 1));
	OK(vmem_free(&asid, 3000, 1));
	OK(vmem_alloc(&asid, 1, VM_NEXTFIT, &x));
	assert_int_equal(x, 50); /* first free after 4 */
	OK(vmem_alloc(&asid, 1, VM_NEXTFIT, &x));
	assert_int_equal(x, 100);
	OK(vmem_free(&asid, 50, 1));
	OK(vmem_alloc(&asid, 1, VM_NEXTFIT, &x));
	assert_int_equal(x, 3000); /* ahead of the rotor first */
	OK(vmem_alloc(&asid, 1, VM_NEXTFIT, &x));
	assert_int_equal(x, 50);
	EXPECT_ERR(s, &asid, vmem_alloc(&asid, 1, VM_NEXTFIT, &x), -MMK_ENOMEM);
	/* ASID 0 and 4096 are outside the arena. */
	EXPECT_ERR(s, &asid, vmem_free(&asid, 0, 1), -MMK_EINVAL);
	EXPECT_ERR(s, &asid, vmem_free(&asid, 4096, 1), -MMK_EINVAL);
	struct vmem_stats st = stats(&asid);
	assert_int_equal(st.inuse, 4095);
	assert_int_equal(st.free, 0);
	assert_true(st.hash_buckets >= 1024); /* the hash grew with the load */
	check(&asid);
	EXPECT_ERR(s, &asid, vmem_destroy(&asid), -MMK_EBUSY);
	for (uint64_t n = 1; n <= 4095; n++)
		OK(vmem_free(&asid, n, 1));
	expect_layout(&asid, "S[1,+fff) F[1,+fff)");
	OK(vmem_destroy(&asid));
}

/* The kernel virtual address arena: the upper half, quantum one page,
 * quantum caches for 1..4 pages. */
static void test_kva_arena(void **state)
{
	struct sim_system *s = *state;
	struct vmem kva;
	const uint64_t size = 512 * GiB;
	OK(vmem_create(&kva, &s->phys, "kernel_va", KVA_BASE, size, PG, NULL, NULL, NULL, 4));
	uint64_t a, b, c, d, e, f, g;
	OK(vmem_alloc(&kva, 3 * PG, 0, &a));
	assert_int_equal(a, KVA_BASE);
	OK(vmem_alloc(&kva, 1, 0, &b)); /* one byte is one page */
	assert_int_equal(b, KVA_BASE + 3 * PG);
	OK(vmem_xalloc(&kva, 2 * MiB, 2 * MiB, 0, 0, 0, 0, 0, &c)); /* a large page */
	assert_int_equal(c % (2 * MiB), 0);
	OK(vmem_xalloc(&kva, GiB, GiB, 0, 0, 0, 0, VM_BESTFIT, &d)); /* a huge page */
	assert_int_equal(d % GiB, 0);
	OK(vmem_xalloc(&kva, 4 * PG, 64 * KiB, PG, 0, 0, 0, 0, &e)); /* phase */
	assert_int_equal(e % (64 * KiB), PG);
	OK(vmem_xalloc(&kva, MiB, 0, 0, 2 * MiB, KVA_BASE + 3 * MiB + PG, 0, 0, &f)); /* nocross */
	assert_int_equal(f / (2 * MiB), (f + MiB - 1) / (2 * MiB));
	assert_true(f >= KVA_BASE + 3 * MiB + PG);
	OK(vmem_xalloc(&kva, 16 * PG, 0, 0, 0, KVA_BASE + 256 * GiB, KVA_BASE + 257 * GiB, 0, &g)); /* window */
	assert_true(g >= KVA_BASE + 256 * GiB && g + 16 * PG <= KVA_BASE + 257 * GiB);
	/* Nothing fits above the arena or beyond its size. */
	uint64_t x;
	EXPECT_ERR(s, &kva, vmem_alloc(&kva, size, 0, &x), -MMK_ENOMEM);
	EXPECT_ERR(s, &kva, vmem_xalloc(&kva, PG, 0, 0, 0, KVA_BASE + size, 0, 0, &x), -MMK_ENOMEM);
	check(&kva);
	struct vmem_stats st = stats(&kva);
	assert_int_equal(st.inuse, 3 * PG + PG + 2 * MiB + GiB + 4 * PG + MiB + 16 * PG);
	assert_int_equal(st.total, size);
	OK(vmem_free(&kva, a, 3 * PG));
	OK(vmem_free(&kva, b, PG));
	OK(vmem_xfree(&kva, c, 2 * MiB));
	OK(vmem_xfree(&kva, d, GiB));
	OK(vmem_xfree(&kva, e, 4 * PG));
	OK(vmem_xfree(&kva, f, MiB));
	OK(vmem_xfree(&kva, g, 16 * PG));
	check(&kva);
	assert_int_equal(stats(&kva).cached, 4 * PG); /* a and b sit in the quantum caches */
	assert_int_equal(vmem_reap(&kva), 4 * PG);
	expect_layout(&kva, "S[ffff800000000000,+8000000000) F[ffff800000000000,+8000000000)");
	OK(vmem_destroy(&kva));
}

/* ---- constrained allocations against a brute-force reference ---- */

struct range {
	uint64_t lo, hi;
};

struct bf_req {
	uint64_t size, align, phase, nocross, minaddr, maxaddr;
};

/* The definition of a fit, unit by unit. */
static bool bf_ok(const struct bf_req *r, uint64_t quantum, uint64_t a)
{
	if (a % quantum || a % r->align != r->phase || a < r->minaddr)
		return false;
	if (r->maxaddr && a + r->size > r->maxaddr)
		return false;
	if (r->nocross && a / r->nocross != (a + r->size - 1) / r->nocross)
		return false;
	return true;
}

static bool bf_fit(const struct bf_req *r, uint64_t quantum, struct range fr, uint64_t *out)
{
	for (uint64_t a = fr.lo; a + r->size <= fr.hi; a++)
		if (bf_ok(r, quantum, a)) {
			*out = a;
			return true;
		}
	return false;
}

static size_t free_ranges(struct vmem *vm, struct range *out, size_t cap)
{
	struct layout l = layout_of(vm, VMEM_WALK_FREE);
	assert_true(l.n <= cap);
	for (size_t i = 0; i < l.n; i++)
		out[i] = (struct range){ l.v[i].start, l.v[i].start + l.v[i].size };
	free(l.v);
	return l.n;
}

static void bruteforce_round(struct sim_system *s, uint64_t quantum, unsigned iters)
{
	struct vmem a;
	uint64_t base1 = 64 * quantum, size1 = 512 * quantum, base2 = 1024 * quantum, size2 = 256 * quantum;
	OK(vmem_create(&a, &s->phys, "bruteforce", base1, size1, quantum, NULL, NULL, NULL, 0));
	OK(vmem_add(&a, base2, size2));
	/* Fragment: random allocations, then free about half. */
	uint64_t held[256][2];
	size_t nheld = 0;
	for (int i = 0; i < 120; i++) {
		uint64_t sz = (1 + rnd_below(12)) * quantum, x;
		if (vmem_alloc(&a, sz, VM_BESTFIT, &x) == 0) {
			held[nheld][0] = x;
			held[nheld][1] = sz;
			nheld++;
		}
	}
	for (size_t i = 0; i < nheld; i++)
		if (rnd() & 1)
			OK(vmem_free(&a, held[i][0], held[i][1]));
	check(&a);
	struct range fr[512];
	size_t nfr = free_ranges(&a, fr, 512);
	unsigned found = 0, none = 0;
	for (unsigned it = 0; it < iters; it++) {
		struct bf_req r;
		r.size = (1 + rnd_below(rnd() & 1 ? 4 : 40)) * quantum;
		r.align = rnd() % 3 ? quantum << rnd_below(6) : quantum;
		r.phase = r.align > quantum ? rnd_below(r.align / quantum) * quantum : 0;
		r.nocross = 0;
		if (rnd_below(3) == 0) {
			r.nocross = quantum;
			while (r.nocross < r.size)
				r.nocross <<= 1;
			r.nocross <<= rnd_below(3);
		}
		r.minaddr = rnd_below(3) == 0 ? base1 + rnd_below(base2 + size2 - base1) : 0;
		r.maxaddr = rnd_below(3) == 0 ? r.minaddr + rnd_below(base2 + size2 - r.minaddr + 2 * quantum) : 0;
		if (r.maxaddr && r.maxaddr < r.minaddr)
			r.maxaddr = 0;
		/* Reference: best fit (smallest fitting free range, lowest start,
		 * lowest address in it) and whether anything fits at all. */
		bool any = false;
		uint64_t best_a = 0, best_size = 0, best_lo = 0;
		for (size_t i = 0; i < nfr; i++) {
			uint64_t x;
			if (!bf_fit(&r, quantum, fr[i], &x))
				continue;
			uint64_t sz = fr[i].hi - fr[i].lo;
			if (!any || sz < best_size || (sz == best_size && fr[i].lo < best_lo)) {
				best_a = x;
				best_size = sz;
				best_lo = fr[i].lo;
			}
			any = true;
		}
		static const unsigned policies[] = { 0, VM_INSTANTFIT, VM_BESTFIT, VM_NEXTFIT };
		for (unsigned p = 0; p < 4; p++) {
			uint64_t x = 0;
			int rc = vmem_xalloc(&a, r.size, r.align, r.phase, r.nocross, r.minaddr, r.maxaddr, policies[p],
					     &x);
			if (!any) {
				if (rc != -MMK_ENOMEM)
					fail_msg("size %llx align %llx phase %llx nocross %llx [%llx,%llx) policy %u: "
						 "rc %d, reference finds nothing",
						 (unsigned long long)r.size, (unsigned long long)r.align,
						 (unsigned long long)r.phase, (unsigned long long)r.nocross,
						 (unsigned long long)r.minaddr, (unsigned long long)r.maxaddr, policies[p], rc);
				continue;
			}
			if (rc != 0)
				fail_msg("size %llx align %llx phase %llx nocross %llx [%llx,%llx) policy %u: rc %d, "
					 "reference fits at %llx",
					 (unsigned long long)r.size, (unsigned long long)r.align,
					 (unsigned long long)r.phase, (unsigned long long)r.nocross,
					 (unsigned long long)r.minaddr, (unsigned long long)r.maxaddr, policies[p], rc,
					 (unsigned long long)best_a);
			/* Valid: meets the constraints and lies in one free range. */
			assert_true(bf_ok(&r, quantum, x));
			bool inside = false;
			for (size_t i = 0; i < nfr; i++)
				inside |= x >= fr[i].lo && x + r.size <= fr[i].hi;
			assert_true(inside);
			if (policies[p] == VM_BESTFIT && x != best_a)
				fail_msg("best fit at %llx, reference %llx (size %llx align %llx phase %llx nocross %llx "
					 "[%llx,%llx))",
					 (unsigned long long)x, (unsigned long long)best_a, (unsigned long long)r.size,
					 (unsigned long long)r.align, (unsigned long long)r.phase,
					 (unsigned long long)r.nocross, (unsigned long long)r.minaddr,
					 (unsigned long long)r.maxaddr);
			OK(vmem_xfree(&a, x, r.size));
		}
		any ? found++ : none++;
		if (it % 64 == 0)
			check(&a);
	}
	/* Both outcomes were exercised. */
	assert_true(found > iters / 10);
	assert_true(none > iters / 50);
	check(&a);
	struct layout l = layout_of(&a, VMEM_WALK_ALLOC);
	for (size_t i = 0; i < l.n; i++)
		OK(vmem_free(&a, l.v[i].start, l.v[i].size));
	free(l.v);
	OK(vmem_destroy(&a));
}

static void test_xalloc_bruteforce(void **state)
{
	struct sim_system *s = *state;
	rng_state = 0x9e3779b97f4a7c15ull;
	for (int round = 0; round < 4; round++) {
		bruteforce_round(s, 1, 1500);
		bruteforce_round(s, 8, 800);
	}
}

/* Each constraint at its boundary, by hand. */
static void test_xalloc_edges(void **state)
{
	struct sim_system *s = *state;
	struct vmem a;
	uint64_t x;
	OK(vmem_create(&a, &s->phys, "edges", 0, 256, 1, NULL, NULL, NULL, 0));
	/* phase: a % 16 == 15 */
	OK(vmem_xalloc(&a, 2, 16, 15, 0, 0, 0, 0, &x));
	assert_int_equal(x, 15);
	/* nocross 16 with size 16: must be 16-aligned; 16 is taken at 15..17 */
	OK(vmem_xalloc(&a, 16, 0, 0, 16, 0, 0, VM_BESTFIT, &x));
	assert_int_equal(x, 32);
	/* nocross 8, size 5, window starting at 4: 4..8 fits (no crossing) */
	OK(vmem_xalloc(&a, 4, 0, 0, 8, 4, 0, VM_BESTFIT, &x));
	assert_int_equal(x, 4);
	/* size 5 nocross 8 from 9: 9..13 fits inside [8,16) */
	OK(vmem_xalloc(&a, 5, 0, 0, 8, 9, 0, 0, &x));
	assert_int_equal(x, 9);
	/* align > nocross: every start has the same offset: phase 6, size 3,
	 * nocross 8 -> 6..8 crosses 8 always -> nothing */
	EXPECT_ERR(s, &a, vmem_xalloc(&a, 3, 64, 6, 8, 0, 0, 0, &x), -MMK_ENOMEM);
	/* ... while phase 5 fits: 64 + 5 */
	OK(vmem_xalloc(&a, 3, 64, 5, 8, 0, 0, 0, &x));
	assert_int_equal(x, 69);
	/* maxaddr exactly at the end of the fit */
	OK(vmem_xalloc(&a, 10, 0, 0, 0, 200, 210, 0, &x));
	assert_int_equal(x, 200);
	EXPECT_ERR(s, &a, vmem_xalloc(&a, 10, 0, 0, 0, 201, 210, 0, &x), -MMK_ENOMEM);
	/* the very end of the arena */
	OK(vmem_xalloc(&a, 6, 0, 0, 0, 250, 0, 0, &x));
	assert_int_equal(x, 250);
	EXPECT_ERR(s, &a, vmem_xalloc(&a, 1, 0, 0, 0, 256, 0, 0, &x), -MMK_ENOMEM);
	/* an alignment as large as the space */
	OK(vmem_xalloc(&a, 1, 128, 0, 0, 0, 0, 0, &x));
	assert_int_equal(x, 128);
	OK(vmem_xalloc(&a, 1, 256, 0, 0, 0, 0, 0, &x));
	assert_int_equal(x, 0);
	EXPECT_ERR(s, &a, vmem_xalloc(&a, 1, 256, 0, 0, 0, 0, 0, &x), -MMK_ENOMEM);
	check(&a);
	struct layout l = layout_of(&a, VMEM_WALK_ALLOC);
	for (size_t i = 0; i < l.n; i++)
		OK(vmem_xfree(&a, l.v[i].start, l.v[i].size));
	free(l.v);
	expect_layout(&a, "S[0,+100) F[0,+100)");
	OK(vmem_destroy(&a));
}

/* ---- importing from a source ---- */

static void test_import_release(void **state)
{
	struct sim_system *s = *state;
	struct vmem heap, kva;
	const uint64_t hbase = 0x100000000ull;
	OK(vmem_create(&heap, &s->phys, "heap", hbase, 64 * MiB, PG, NULL, NULL, NULL, 0));
	OK(vmem_create(&kva, &s->phys, "kva", 0, 0, PG, vmem_alloc, vmem_free, &heap, 0));
	uint64_t a, b, c, x;
	OK(vmem_alloc(&kva, 3 * PG, 0, &a));
	struct vmem_stats cs = stats(&kva), ps = stats(&heap);
	assert_int_equal(cs.total, 3 * PG);
	assert_int_equal(cs.imported, 3 * PG);
	assert_int_equal(cs.nspans_imported, 1);
	assert_int_equal(cs.imports, 1);
	assert_int_equal(ps.inuse, 3 * PG);
	assert_true(a >= hbase && a + 3 * PG <= hbase + 64 * MiB);
	OK(vmem_alloc(&kva, PG, 0, &b)); /* no free space: a second import */
	assert_int_equal(stats(&kva).nspans, 2);
	check(&kva);
	check(&heap);
	/* Fully free: the span goes back to the source at once. */
	OK(vmem_free(&kva, a, 3 * PG));
	cs = stats(&kva);
	assert_int_equal(cs.nspans, 1);
	assert_int_equal(cs.total, PG);
	assert_int_equal(cs.releases, 1);
	assert_int_equal(stats(&heap).inuse, PG);
	check(&kva);
	check(&heap);
	/* An aligned import: the span is big enough for any placement. */
	OK(vmem_xalloc(&kva, 2 * PG, 64 * KiB, 0, 0, 0, 0, 0, &c));
	assert_int_equal(c % (64 * KiB), 0);
	/* A window or nocross never imports: nothing fits, nothing changes. */
	EXPECT_ERR(s, &kva, vmem_xalloc(&kva, PG, 0, 0, 0, hbase + 64 * MiB, 0, 0, &x), -MMK_ENOMEM);
	EXPECT_ERR(s, &kva, vmem_xalloc(&kva, 16 * PG, 0, 0, 16 * PG, 0, 0, 0, &x), -MMK_ENOMEM);
	/* The source is exhausted: ENOMEM in both, nothing changed. */
	struct snap hs;
	snap_take(s, &heap, &hs);
	EXPECT_ERR(s, &kva, vmem_alloc(&kva, 64 * MiB, 0, &x), -MMK_ENOMEM);
	snap_same(s, &heap, &hs, true);
	/* A span added by the creator is never released. */
	OK(vmem_add(&kva, 0x1000000, 16 * PG));
	OK(vmem_xalloc(&kva, PG, 0, 0, 0, 0x1000000, 0x1000000 + 16 * PG, 0, &x));
	OK(vmem_xfree(&kva, x, PG));
	assert_int_equal(stats(&kva).nspans, 3);
	/* The parent cannot be destroyed while the child holds its spans. */
	EXPECT_ERR(s, &heap, vmem_destroy(&heap), -MMK_EBUSY);
	EXPECT_ERR(s, &kva, vmem_destroy(&kva), -MMK_EBUSY);
	OK(vmem_free(&kva, b, PG));
	OK(vmem_xfree(&kva, c, 2 * PG));
	cs = stats(&kva);
	assert_int_equal(cs.imported, 0);
	assert_int_equal(cs.nspans, 1);
	assert_int_equal(stats(&heap).inuse, 0);
	check(&kva);
	check(&heap);
	/* Destroying a child with imported spans only parked in its quantum
	 * caches gives them back. */
	OK(vmem_destroy(&kva));
	OK(vmem_create(&kva, &s->phys, "kva-qc", 0, 0, PG, vmem_alloc, vmem_free, &heap, 2));
	OK(vmem_alloc(&kva, PG, 0, &a));
	OK(vmem_free(&kva, a, PG));
	assert_int_equal(stats(&kva).cached, PG);
	assert_int_equal(stats(&heap).inuse, PG);
	OK(vmem_destroy(&kva));
	assert_int_equal(stats(&heap).inuse, 0);
	check(&heap);
	/* A finer child of a coarser parent: imports are rounded to the
	 * parent's quantum. */
	OK(vmem_create(&kva, &s->phys, "fine", 0, 0, 16, vmem_alloc, vmem_free, &heap, 0));
	OK(vmem_alloc(&kva, 16, 0, &a));
	OK(vmem_alloc(&kva, 16, 0, &b));
	assert_int_equal(b, a + 16); /* from the same imported page */
	assert_int_equal(stats(&kva).imported, PG);
	OK(vmem_free(&kva, a, 16));
	OK(vmem_free(&kva, b, 16));
	assert_int_equal(stats(&kva).total, 0);
	OK(vmem_destroy(&kva));
	/* Aligned imports when the parent's next free address is not
	 * aligned: the import is oversized so a fit exists wherever it lands. */
	OK(vmem_create(&kva, &s->phys, "kva-align", 0, 0, PG, vmem_alloc, vmem_free, &heap, 0));
	uint64_t hold;
	OK(vmem_alloc(&heap, PG, 0, &hold)); /* the heap's next free page is odd now */
	for (uint64_t align = 2 * PG; align <= 256 * KiB; align *= 2) {
		for (uint64_t phase = 0; phase < align; phase += align / 2 + PG) {
			OK(vmem_xalloc(&kva, 3 * PG, align, phase, 0, 0, 0, 0, &x));
			assert_int_equal(x % align, phase);
			OK(vmem_xfree(&kva, x, 3 * PG));
			assert_int_equal(stats(&kva).total, 0);
		}
	}
	OK(vmem_free(&heap, hold, PG));
	check(&heap);
	OK(vmem_destroy(&kva));
	OK(vmem_destroy(&heap));
}

/* A custom source wrapping an arena (the illumos segkmem pattern: the
 * import function gets the source arena and finds its context around it). */
struct custom_source {
	struct vmem arena;
	unsigned mode; /* 0: honest, 1: misaligned result, 2: refuse */
	unsigned imports, releases;
};

static struct custom_source *custom_of(struct vmem *vm)
{
	return (struct custom_source *)(void *)((char *)vm - offsetof(struct custom_source, arena));
}

static int custom_import(struct vmem *src, uint64_t size, unsigned flags, uint64_t *addrp)
{
	struct custom_source *cs = custom_of(src);
	if (cs->mode == 2)
		return -MMK_EPERM;
	int rc = vmem_alloc(src, size + (cs->mode == 1 ? PG : 0), flags, addrp);
	if (rc == 0) {
		cs->imports++;
		if (cs->mode == 1)
			*addrp += 16; /* break the contract: not page aligned */
	}
	return rc;
}

static int custom_release(struct vmem *src, uint64_t addr, uint64_t size)
{
	struct custom_source *cs = custom_of(src);
	cs->releases++;
	if (cs->mode == 1)
		return vmem_free(src, addr - 16, size + PG);
	return vmem_free(src, addr, size);
}

static void test_import_custom(void **state)
{
	struct sim_system *s = *state;
	struct custom_source *cs = calloc(1, sizeof(*cs));
	struct vmem child;
	OK(vmem_create(&cs->arena, &s->phys, "custom-src", 0x10000, 64 * PG, PG, NULL, NULL, NULL, 0));
	OK(vmem_create(&child, &s->phys, "custom-child", 0, 0, PG, custom_import, custom_release, &cs->arena, 0));
	uint64_t x;
	OK(vmem_alloc(&child, 2 * PG, 0, &x));
	assert_int_equal(cs->imports, 1);
	OK(vmem_free(&child, x, 2 * PG));
	assert_int_equal(cs->releases, 1);
	cs->mode = 1;
	EXPECT_ERR(s, &child, vmem_alloc(&child, PG, 0, &x), -MMK_ENOMEM);
	assert_int_equal(cs->releases, 2); /* the bad span went straight back */
	assert_int_equal(stats(&cs->arena).inuse, 0);
	cs->mode = 2;
	EXPECT_ERR(s, &child, vmem_alloc(&child, PG, 0, &x), -MMK_ENOMEM); /* any import error is ENOMEM */
	cs->mode = 0;
	check(&child);
	check(&cs->arena);
	OK(vmem_destroy(&child));
	OK(vmem_destroy(&cs->arena));
	free(cs);
}

/* ---- quantum caches ---- */

static void test_qcache(void **state)
{
	struct sim_system *s = *state;
	struct vmem a;
	const uint64_t base = 0x10000000;
	OK(vmem_create(&a, &s->phys, "qcache", base, 16 * MiB, PG, NULL, NULL, NULL, 4));
	uint64_t x, y;
	OK(vmem_alloc(&a, PG, 0, &x));
	OK(vmem_free(&a, x, PG));
	struct vmem_stats st = stats(&a);
	assert_int_equal(st.cached, PG);
	assert_int_equal(st.inuse, 0);
	assert_int_equal(st.nqcached, 1);
	assert_int_equal(st.nsegs_alloc, 1); /* still allocated in the arena */
	EXPECT_ERR(s, &a, vmem_free(&a, x, PG), -MMK_EINVAL);  /* double free of a cached one */
	EXPECT_ERR(s, &a, vmem_xfree(&a, x, PG), -MMK_EINVAL);
	OK(vmem_alloc(&a, PG, VM_BESTFIT, &y)); /* the cache serves any policy */
	assert_int_equal(y, x);
	assert_int_equal(stats(&a).qcache_hits, 1);
	/* Depth: 17 two-page segments freed, 16 stay cached. */
	uint64_t v[17];
	for (int i = 0; i < 17; i++)
		OK(vmem_alloc(&a, 2 * PG, 0, &v[i]));
	for (int i = 0; i < 17; i++)
		OK(vmem_free(&a, v[i], 2 * PG));
	st = stats(&a);
	assert_int_equal(st.cached, 16 * 2 * PG);
	assert_int_equal(st.nqcached, 16);
	check(&a);
	/* LIFO: the last freed that was cached comes back first. */
	OK(vmem_alloc(&a, 2 * PG, 0, &x));
	assert_int_equal(x, v[15]);
	OK(vmem_free(&a, x, 2 * PG));
	/* Sizes beyond qcache_max quanta never touch the caches. */
	OK(vmem_alloc(&a, 5 * PG, 0, &x));
	OK(vmem_free(&a, x, 5 * PG));
	assert_int_equal(stats(&a).nqcached, 16);
	/* xfree bypasses the caches. */
	OK(vmem_alloc(&a, 3 * PG, 0, &x));
	OK(vmem_xfree(&a, x, 3 * PG));
	assert_int_equal(stats(&a).nqcached, 16);
	/* xalloc never takes from them. */
	OK(vmem_xalloc(&a, 2 * PG, 0, 0, 0, 0, 0, 0, &x));
	assert_int_equal(stats(&a).nqcached, 16);
	OK(vmem_xfree(&a, x, 2 * PG));
	/* Reap gives everything back, merged. */
	assert_int_equal(vmem_reap(&a), 32 * PG);
	assert_int_equal(vmem_reap(&a), 0);
	OK(vmem_free(&a, y, PG)); /* cached again */
	assert_int_equal(vmem_reap(&a), PG);
	expect_layout(&a, "S[10000000,+1000000) F[10000000,+1000000)");
	check(&a);
	OK(vmem_destroy(&a));

	/* A full arena whose space sits in the caches: the allocation empties
	 * them and retries. */
	OK(vmem_create(&a, &s->phys, "qcache-full", 0, 16 * PG, PG, NULL, NULL, NULL, 2));
	uint64_t p[16];
	for (int i = 0; i < 16; i++)
		OK(vmem_alloc(&a, PG, 0, &p[i]));
	for (int i = 0; i < 16; i++)
		OK(vmem_free(&a, p[i], PG));
	assert_int_equal(stats(&a).cached, 16 * PG);
	OK(vmem_alloc(&a, 16 * PG, 0, &x));
	assert_int_equal(x, 0);
	st = stats(&a);
	assert_int_equal(st.cached, 0);
	assert_int_equal(st.inuse, 16 * PG);
	check(&a);
	OK(vmem_free(&a, x, 16 * PG));
	/* When even that does not help, the failure changes no byte count. */
	for (int i = 0; i < 16; i++)
		OK(vmem_alloc(&a, PG, 0, &p[i]));
	OK(vmem_free(&a, p[3], PG));
	struct snap sn;
	snap_take(s, &a, &sn);
	RC(vmem_alloc(&a, 2 * PG, 0, &x), -MMK_ENOMEM);
	check(&a);
	snap_same(s, &a, &sn, false);
	assert_int_equal(stats(&a).cached, 0); /* the documented side effect */
	/* Destroy with cached segments: allowed (inuse counts callers only). */
	for (int i = 0; i < 16; i++)
		if (i != 3)
			OK(vmem_free(&a, p[i], PG));
	assert_int_equal(stats(&a).inuse, 0);
	OK(vmem_destroy(&a));
}

/* ---- exhaustion, hash growth ---- */

static void test_exhaustion(void **state)
{
	struct sim_system *s = *state;
	struct vmem a;
	uint64_t x;
	OK(vmem_create(&a, &s->phys, "tiny", 0, 64, 1, NULL, NULL, NULL, 0));
	EXPECT_ERR(s, &a, vmem_alloc(&a, 65, 0, &x), -MMK_ENOMEM);
	for (uint64_t i = 0; i < 64; i++) {
		OK(vmem_alloc(&a, 1, 0, &x));
		assert_int_equal(x, i);
	}
	static const unsigned policies[] = { 0, VM_INSTANTFIT, VM_BESTFIT, VM_NEXTFIT };
	for (unsigned p = 0; p < 4; p++) {
		EXPECT_ERR(s, &a, vmem_alloc(&a, 1, policies[p], &x), -MMK_ENOMEM);
		EXPECT_ERR(s, &a, vmem_xalloc(&a, 1, 0, 0, 0, 0, 0, policies[p], &x), -MMK_ENOMEM);
	}
	OK(vmem_free(&a, 17, 1));
	EXPECT_ERR(s, &a, vmem_alloc(&a, 2, 0, &x), -MMK_ENOMEM);
	EXPECT_ERR(s, &a, vmem_xalloc(&a, 1, 2, 0, 0, 0, 0, 0, &x), -MMK_ENOMEM);
	OK(vmem_xalloc(&a, 1, 2, 1, 0, 0, 0, 0, &x));
	assert_int_equal(x, 17);
	for (uint64_t i = 0; i < 64; i++)
		OK(vmem_free(&a, i, 1));
	OK(vmem_destroy(&a));
}

static void test_hash_growth(void **state)
{
	struct sim_system *s = *state;
	struct vmem a;
	const uint64_t n = 6000;
	OK(vmem_create(&a, &s->phys, "hash", 0, 1 << 20, 1, NULL, NULL, NULL, 0));
	uint64_t x;
	for (uint64_t i = 0; i < 2 * VMEM_HASH_MIN; i++)
		OK(vmem_alloc(&a, 1, 0, &x));
	assert_int_equal(stats(&a).hash_buckets, VMEM_HASH_MIN);
	/* A growth that cannot get frames is skipped; the allocation works. */
	mmk_failpoint_arm(&s->failpoint, 1, true);
	uint64_t failed = s->failpoint.failed;
	OK(vmem_alloc(&a, 1, 0, &x));
	mmk_failpoint_arm(&s->failpoint, 0, false);
	assert_int_equal(s->failpoint.failed, failed + 1);
	assert_int_equal(stats(&a).hash_buckets, VMEM_HASH_MIN);
	check(&a);
	for (uint64_t i = 2 * VMEM_HASH_MIN + 1; i < n; i++) {
		OK(vmem_alloc(&a, 1, 0, &x));
		assert_int_equal(x, i);
		if (i % 1000 == 0)
			check(&a);
	}
	struct vmem_stats st = stats(&a);
	assert_true(st.hash_buckets >= n / 2);
	assert_true(st.tag_pages >= n / 72);
	/* Free in a scrambled order (multiplying by an odd number mod 2^k). */
	uint64_t k = 8192;
	for (uint64_t i = 0; i < k; i++) {
		uint64_t v = (i * 2654435761u) % k;
		if (v < n)
			OK(vmem_free(&a, v, 1));
	}
	check(&a);
	expect_layout(&a, "S[0,+100000) F[0,+100000)");
	OK(vmem_destroy(&a));
}

/* ---- the checker ---- */

static void expect_corrupt(struct vmem *vm)
{
	const char *why = NULL;
	RC(vmem_check(vm, &why), -MMK_EINVAL);
	assert_non_null(why);
}

static void test_check_detects(void **state)
{
	struct sim_system *s = *state;
	struct vmem a;
	uint64_t x, y;
	OK(vmem_create(&a, &s->phys, "corrupt", 0x1000, 0x1000, 16, NULL, NULL, NULL, 2));
	OK(vmem_alloc(&a, 0x100, 0, &x));
	OK(vmem_alloc(&a, 0x10, 0, &y));
	OK(vmem_free(&a, y, 0x10)); /* cached */
	check(&a);
	RC(vmem_check(&a, NULL), 0);
	a.inuse++;
	expect_corrupt(&a);
	a.inuse--;
	a.total += 16;
	expect_corrupt(&a);
	a.total -= 16;
	a.nsegs_free++;
	expect_corrupt(&a);
	a.nsegs_free--;
	a.freemap ^= 1;
	expect_corrupt(&a);
	a.freemap ^= 1;
	struct vmem_seg *sp = a.seg0.anext, *s1 = sp->anext, *s2 = s1->anext, *s3 = s2->anext;
	assert_int_equal(sp->type, VMEM_SEG_SPAN);
	s1->size += 16; /* overlap with the next */
	expect_corrupt(&a);
	s1->size -= 16;
	s3->start += 16; /* a gap */
	expect_corrupt(&a);
	s3->start -= 16;
	s2->flags &= (uint8_t)~VMEM_SEG_QCACHED; /* cache and flag disagree */
	expect_corrupt(&a);
	s2->flags |= VMEM_SEG_QCACHED;
	a.tag_nfree--;
	expect_corrupt(&a);
	a.tag_nfree++;
	a.rotor = &a.span0;
	expect_corrupt(&a);
	a.rotor = NULL;
	check(&a); /* marks were cleaned up after each failed check */
	OK(vmem_free(&a, x, 0x100));
	OK(vmem_destroy(&a));
}

/* ---- the allocation-failure sweep ---- */

enum sweep_op { OP_ALLOC, OP_XALLOC, OP_BEST, OP_NEXT, OP_FREE, OP_ADD, OP_CHILD_ALLOC };

struct sweep {
	struct sim_system *s;
	struct vmem *plain, *parent, *child;
	uint64_t held[1024][3]; /* addr, size, arena (0 plain, 1 child) */
	size_t nheld;
	uint64_t next_span;
};

static int sweep_run(struct sweep *w, enum sweep_op op, uint64_t arg, uint64_t *out)
{
	switch (op) {
	case OP_ALLOC:
		return vmem_alloc(w->plain, arg, 0, out);
	case OP_XALLOC:
		return vmem_xalloc(w->plain, arg, 64, 16, 256, 0, 0, 0, out);
	case OP_BEST:
		return vmem_alloc(w->plain, arg, VM_BESTFIT, out);
	case OP_NEXT:
		return vmem_alloc(w->plain, arg, VM_NEXTFIT, out);
	case OP_ADD:
		return vmem_add(w->plain, w->next_span, 1024);
	case OP_CHILD_ALLOC:
		return vmem_alloc(w->child, arg, 0, out);
	default:
		return 0;
	}
}

static void test_failpoint_sweep(void **state)
{
	struct sim_system *s = *state;
	struct sweep *w = calloc(1, sizeof(*w));
	struct vmem plain, parent, child;
	w->s = s;
	w->plain = &plain;
	w->parent = &parent;
	w->child = &child;
	w->next_span = 0x100000;
	rng_state = 12345;
	/* vmem_create itself: its first tag page. */
	uint64_t frames = sim_system_free_frames(s);
	for (uint64_t n = 1;; n++) {
		mmk_failpoint_arm(&s->failpoint, n, false);
		uint64_t before = s->failpoint.failed;
		int rc = vmem_create(&plain, &s->phys, "sweep", 0, 65536, 16, NULL, NULL, NULL, 0);
		mmk_failpoint_arm(&s->failpoint, 0, false);
		if (s->failpoint.failed == before) {
			OK(rc);
			break;
		}
		RC(rc, -MMK_ENOMEM);
		assert_int_equal(sim_system_free_frames(s), frames);
	}
	OK(vmem_create(&parent, &s->phys, "sweep-parent", 0x40000000, 64 * MiB, PG, NULL, NULL, NULL, 0));
	OK(vmem_create(&child, &s->phys, "sweep-child", 0, 0, PG, vmem_alloc, vmem_free, &parent, 0));
	unsigned injected = 0, swallowed = 0;
	for (int step = 0; step < 1500; step++) {
		enum sweep_op op;
		uint64_t r = rnd_below(100), arg = 0;
		/* Grow for the first half (new tag pages, imports), shrink after. */
		if (w->nheld && (r < (step < 750 ? 15u : 60u) || w->nheld == 1024)) {
			op = OP_FREE;
		} else if (r < 40 && step % 50 == 0) {
			op = OP_ADD;
		} else if (r < 60) {
			op = OP_CHILD_ALLOC;
			arg = (1 + rnd_below(4)) * PG;
		} else {
			op = (enum sweep_op)rnd_below(4);
			arg = 16 * (1 + rnd_below(6));
		}
		if (op == OP_FREE) {
			size_t i = rnd_below(w->nheld);
			struct vmem *vm = w->held[i][2] ? &child : &plain;
			/* Frees never allocate: the failpoint stays silent. */
			mmk_failpoint_arm(&s->failpoint, 1, true);
			uint64_t before = s->failpoint.failed;
			OK(vmem_xfree(vm, w->held[i][0], w->held[i][1]));
			mmk_failpoint_arm(&s->failpoint, 0, false);
			assert_int_equal(s->failpoint.failed, before);
			w->held[i][0] = w->held[--w->nheld][0];
			w->held[i][1] = w->held[w->nheld][1];
			w->held[i][2] = w->held[w->nheld][2];
			check(vm);
			continue;
		}
		for (uint64_t n = 1;; n++) {
			struct snap sp, sc, spar;
			snap_take(s, &plain, &sp);
			snap_take(s, &child, &sc);
			snap_take(s, &parent, &spar);
			mmk_failpoint_arm(&s->failpoint, n, false);
			uint64_t before = s->failpoint.failed, x = 0;
			int rc = sweep_run(w, op, arg, &x);
			mmk_failpoint_arm(&s->failpoint, 0, false);
			bool hit = s->failpoint.failed != before;
			check(&plain);
			check(&child);
			check(&parent);
			if (hit && rc == -MMK_ENOMEM) {
				injected++;
				snap_same(s, &plain, &sp, true);
				snap_same(s, &child, &sc, true);
				snap_same(s, &parent, &spar, true);
				continue;
			}
			free(sp.l.v);
			free(sc.l.v);
			free(spar.l.v);
			if (hit) {
				/* Only the optional hash growth may fail unseen. */
				OK(rc);
				swallowed++;
			}
			if (rc == -MMK_ENOMEM)
				break; /* genuinely full, without injection */
			OK(rc);
			if (op == OP_ADD) {
				w->next_span += 0x10000;
			} else {
				w->held[w->nheld][0] = x;
				w->held[w->nheld][1] = arg;
				w->held[w->nheld][2] = op == OP_CHILD_ALLOC;
				w->nheld++;
			}
			break;
		}
	}
	print_message("sweep: %u injected failures returned ENOMEM unchanged, %u optional ones swallowed\n",
		      injected, swallowed);
	assert_true(injected >= 10);
	for (size_t i = 0; i < w->nheld; i++)
		OK(vmem_xfree(w->held[i][2] ? &child : &plain, w->held[i][0], w->held[i][1]));
	check(&plain);
	check(&child);
	OK(vmem_destroy(&child));
	assert_int_equal(stats(&parent).inuse, 0);
	OK(vmem_destroy(&parent));
	OK(vmem_destroy(&plain));
	free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_bad_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_name_stats_walk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alloc_free_coalesce, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alloc_bad_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_instant_vs_best_fit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_next_fit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_asid_allocator, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kva_arena, setup, teardown),
		cmocka_unit_test_setup_teardown(test_xalloc_bruteforce, setup, teardown),
		cmocka_unit_test_setup_teardown(test_xalloc_edges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_custom, setup, teardown),
		cmocka_unit_test_setup_teardown(test_qcache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exhaustion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hash_growth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_detects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failpoint_sweep, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
