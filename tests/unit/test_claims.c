/*
 * test_claims: the claims trie and revocation queue (src/claims) on a booted
 * sim machine, with no address spaces (the revoker is absent or a test
 * double; test_claims_revoke.c drives the VM side).
 *
 * One test per rule, each refusal with its error and proof that nothing
 * changed (the printed trie and every claimant's totals are compared);
 * trie shape across leaf and level-1 table boundaries; the checker shown to
 * catch broken invariants; an allocation-failure sweep over init, claim,
 * release; long random sequences against a per-page reference model
 * (several seeds, checker and model comparison after every step); and a
 * leak baseline (free frames back at boot's count) in every teardown.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sim_boot.h>
#include <mmk/claims.h>
#include <mmk/errno.h>

#define PG MMK_PAGE_SIZE
#define BASE ((vaddr_t)0x100000000ull)
#define NPAGES 4096u
#define NCL 6u /* claimants: more than CLAIMS_MAX_CLAIMANTS, so a fifth exists */

struct fx {
	struct sim_system s;
	struct claims c;
	bool inited;
	struct claimant cl[NCL];
	uint64_t frames_before; /* free frames before claims_init */
};

static void fx_init(struct fx *f, uint64_t npages)
{
	f->frames_before = sim_system_free_frames(&f->s);
	assert_int_equal(claims_init(&f->c, &f->s.phys, BASE, npages * PG, NULL, NULL), 0);
	f->inited = true;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	assert_int_equal(sim_system_boot(&f->s, 64ull << 20, 1), 0);
	for (unsigned i = 0; i < NCL; i++)
		claimant_init(&f->cl[i], i + 1);
	fx_init(f, NPAGES);
	*state = f;
	return 0;
}

/* Leak baseline: release everything, revoke, fini, frames back. */
static int teardown(void **state)
{
	struct fx *f = *state;
	mmk_failpoint_arm(&f->s.failpoint, 0, false);
	if (f->inited) {
		for (unsigned i = 0; i < NCL; i++)
			claims_release_all(&f->c, &f->cl[i]);
		f->c.revoke = NULL; /* a test's double may be gone */
		while (claims_queued_ranges(&f->c))
			assert_int_equal(claims_revoke_batch(&f->c, CLAIMS_BATCH_MAX, NULL, NULL), 0);
		assert_int_equal(claims_fini(&f->c), 0);
	}
	for (unsigned i = 0; i < NCL; i++)
		assert_int_equal(claimant_fini(&f->cl[i]), 0);
	assert_int_equal(sim_system_free_frames(&f->s), f->frames_before);
	assert_int_equal(sim_system_free_frames(&f->s), f->s.boot_free_frames);
	assert_int_equal(sim_system_shutdown(&f->s), 0);
	free(f);
	return 0;
}

static char *text(struct claims *c)
{
	size_t n = claims_format(c, NULL, 0);
	char *buf = malloc(n + 1);
	assert_non_null(buf);
	assert_int_equal(claims_format(c, buf, n + 1), n);
	return buf;
}

#define CHECK(f) check_((f), __FILE__, __LINE__)
static void check_(struct fx *f, const char *file, int line)
{
	const char *why = NULL;
	if (claims_check(&f->c, &why) != 0) {
		char *t = text(&f->c);
		fprintf(stderr, "%s", t);
		free(t);
		fail_msg("%s:%d: claims_check: %s", file, line, why);
	}
}

/* Everything observable: the printed trie and every claimant's totals. */
static char *snapshot(struct fx *f)
{
	char *t = text(&f->c);
	size_t n = strlen(t);
	t = realloc(t, n + NCL * 80 + 1);
	assert_non_null(t);
	for (unsigned i = 0; i < NCL; i++)
		n += (size_t)sprintf(t + n, "cl%u nodes %llu pages %llu bound %d\n", i,
				     (unsigned long long)f->cl[i].nodes, (unsigned long long)f->cl[i].pages,
				     f->cl[i].mgr != NULL);
	return t;
}

/* Run call expecting err, and prove that nothing changed. */
#define REFUSED(f, call, err)                                                                              \
	do {                                                                                               \
		char *before_ = snapshot(f);                                                               \
		assert_int_equal((call), (err));                                                           \
		char *after_ = snapshot(f);                                                                \
		assert_string_equal(before_, after_);                                                      \
		free(before_);                                                                             \
		free(after_);                                                                              \
		CHECK(f);                                                                                  \
	} while (0)

static vaddr_t pg(uint64_t i) { return BASE + i * PG; }

#define CLAIM(f, i, first, n) assert_int_equal(claims_claim(&(f)->c, &(f)->cl[i], pg(first), (n) * PG), 0)
#define RELEASE(f, i, first, n) assert_int_equal(claims_release(&(f)->c, &(f)->cl[i], pg(first), (n) * PG), 0)

/* ---- init and arguments ---- */

static void test_init_arguments(void **state)
{
	struct fx *f = *state;
	struct claims c;
	assert_int_equal(claims_init(&c, &f->s.phys, BASE + 1, PG, NULL, NULL), -MMK_EINVAL);
	assert_int_equal(claims_init(&c, &f->s.phys, BASE, 0, NULL, NULL), -MMK_EINVAL);
	assert_int_equal(claims_init(&c, &f->s.phys, BASE, PG + 1, NULL, NULL), -MMK_EINVAL);
	assert_int_equal(claims_init(&c, &f->s.phys, BASE, (CLAIMS_MAX_PAGES + 1) * PG, NULL, NULL), -MMK_EINVAL);
	assert_int_equal(claims_init(&c, &f->s.phys, (vaddr_t)0 - 4 * PG, 8 * PG, NULL, NULL), -MMK_EINVAL);
	/* The largest reservation works and starts as one free node. */
	assert_int_equal(claims_init(&c, &f->s.phys, 0, CLAIMS_MAX_PAGES * PG, NULL, NULL), 0);
	assert_int_equal(c.nodes, 1);
	assert_int_equal(c.pages[CLAIM_FREE], CLAIMS_MAX_PAGES);
	assert_int_equal(claims_check(&c, NULL), 0);
	assert_int_equal(claims_claim(&c, &f->cl[0], (CLAIMS_MAX_PAGES - 1) * PG, PG), 0);
	assert_int_equal(claims_claim(&c, &f->cl[0], (CLAIMS_MAX_PAGES - 1) * PG, 2 * PG), -MMK_EINVAL);
	assert_int_equal(claims_check(&c, NULL), 0);
	assert_int_equal(claims_fini(&c), -MMK_EBUSY);
	claims_release_all(&c, &f->cl[0]);
	assert_int_equal(claims_revoke_batch(&c, 1, NULL, NULL), 0);
	assert_int_equal(claims_fini(&c), 0);
}

static void test_bad_ranges(void **state)
{
	struct fx *f = *state;
	struct claimant *a = &f->cl[0];
	CLAIM(f, 0, 10, 4);
	REFUSED(f, claims_claim(&f->c, a, pg(0), 0), -MMK_EINVAL);
	REFUSED(f, claims_claim(&f->c, a, pg(0) + 1, PG), -MMK_EINVAL);
	REFUSED(f, claims_claim(&f->c, a, pg(0), PG + 7), -MMK_EINVAL);
	REFUSED(f, claims_claim(&f->c, a, BASE - PG, 2 * PG), -MMK_EINVAL);
	REFUSED(f, claims_claim(&f->c, a, pg(NPAGES - 1), 2 * PG), -MMK_EINVAL);
	REFUSED(f, claims_claim(&f->c, a, pg(NPAGES), PG), -MMK_EINVAL);
	REFUSED(f, claims_claim(&f->c, a, pg(4), (size_t)0 - 2 * PG), -MMK_EINVAL);
	REFUSED(f, claims_release(&f->c, a, pg(10), 0), -MMK_EINVAL);
	REFUSED(f, claims_release(&f->c, a, pg(10) + 8, PG), -MMK_EINVAL);
	REFUSED(f, claims_release(&f->c, a, pg(NPAGES - 1), 2 * PG), -MMK_EINVAL);
	assert_int_equal(claims_count(&f->c, a, BASE - 1), 0);
	assert_int_equal(claims_state(&f->c, pg(NPAGES)), CLAIM_NSTATES);
}

/* ---- claims ---- */

static void test_first_claim_splits_exactly(void **state)
{
	struct fx *f = *state;
	CLAIM(f, 0, 100, 50);
	CHECK(f);
	assert_int_equal(f->c.nodes, 3); /* free, claimed, free */
	assert_int_equal(f->c.pages[CLAIM_CLAIMED], 50);
	assert_int_equal(f->cl[0].pages, 50);
	assert_int_equal(f->cl[0].nodes, 1);
	assert_ptr_equal(f->cl[0].mgr, &f->c);
	assert_int_equal(claims_state(&f->c, pg(99)), CLAIM_FREE);
	assert_int_equal(claims_state(&f->c, pg(100)), CLAIM_CLAIMED);
	assert_int_equal(claims_state(&f->c, pg(149) + PG - 1), CLAIM_CLAIMED);
	assert_int_equal(claims_state(&f->c, pg(150)), CLAIM_FREE);
	assert_int_equal(claims_count(&f->c, &f->cl[0], pg(120) + 5), 1);
	assert_int_equal(claims_count(&f->c, &f->cl[1], pg(120)), 0);
	/* Touching ranges of the same claimant merge into one node. */
	CLAIM(f, 0, 150, 10);
	CLAIM(f, 0, 90, 10);
	CHECK(f);
	assert_int_equal(f->c.nodes, 3);
	assert_int_equal(f->cl[0].nodes, 1);
	assert_int_equal(f->cl[0].pages, 70);
	/* The first and last pages of the reservation. */
	CLAIM(f, 1, 0, 1);
	CLAIM(f, 1, NPAGES - 1, 1);
	CHECK(f);
	assert_int_equal(f->c.nodes, 5);
	assert_int_equal(f->cl[1].nodes, 2);
}

static void test_shared_claims_and_counts(void **state)
{
	struct fx *f = *state;
	CLAIM(f, 0, 0, 64);
	CLAIM(f, 1, 32, 64); /* overlaps the upper half */
	CLAIM(f, 0, 40, 8);  /* a second claim of A on part of it */
	CHECK(f);
	/* [0,32) A:1  [32,40) A:1 B:1  [40,48) A:2 B:1  [48,64) A:1 B:1  [64,96) B:1 */
	assert_int_equal(f->c.nodes, 6);
	assert_int_equal(claims_count(&f->c, &f->cl[0], pg(41)), 2);
	assert_int_equal(claims_count(&f->c, &f->cl[1], pg(41)), 1);
	assert_int_equal(f->cl[0].pages, 64);
	assert_int_equal(f->cl[0].nodes, 4);
	assert_int_equal(f->cl[1].pages, 64);
	RELEASE(f, 0, 40, 8);
	CHECK(f);
	assert_int_equal(f->c.nodes, 4); /* the count-2 piece merged back */
	assert_int_equal(claims_count(&f->c, &f->cl[0], pg(41)), 1);
	/* A leaves the shared half: B keeps it claimed, nothing is queued. */
	RELEASE(f, 0, 32, 32);
	CHECK(f);
	assert_int_equal(claims_queued_ranges(&f->c), 0);
	assert_int_equal(f->cl[1].nodes, 1);
	assert_int_equal(f->c.nodes, 3); /* [0,32) A, [32,96) B, the free rest */
	assert_int_equal(claims_state(&f->c, pg(50)), CLAIM_CLAIMED);
}

static void test_fifth_claimant_refused(void **state)
{
	struct fx *f = *state;
	for (unsigned i = 0; i < CLAIMS_MAX_CLAIMANTS; i++)
		CLAIM(f, i, 20, 10);
	CLAIM(f, 4, 30, 10); /* beside the full range: allowed */
	/* Any page of the range full: refused, nothing changed. */
	REFUSED(f, claims_claim(&f->c, &f->cl[4], pg(25), PG), -MMK_EUSERS);
	REFUSED(f, claims_claim(&f->c, &f->cl[4], pg(0), 30 * PG), -MMK_EUSERS);
	REFUSED(f, claims_claim(&f->c, &f->cl[5], pg(29), 40 * PG), -MMK_EUSERS);
	/* A claimant already there may claim again. */
	CLAIM(f, 2, 20, 10);
	assert_int_equal(claims_count(&f->c, &f->cl[2], pg(21)), 2);
	/* Once one leaves, the fifth gets in. */
	RELEASE(f, 0, 20, 10);
	CLAIM(f, 4, 20, 10);
	CHECK(f);
	assert_int_equal(f->cl[4].pages, 20);
	assert_int_equal(f->cl[4].nodes, 2); /* [20,30) with others, [30,40) alone */
}

static void test_count_overflow_refused(void **state)
{
	struct fx *f = *state;
	CLAIM(f, 0, 5, 3);
	f->cl[0].head->count = UINT32_MAX; /* its only slot */
	REFUSED(f, claims_claim(&f->c, &f->cl[0], pg(4), 2 * PG), -MMK_EOVERFLOW);
	f->cl[0].head->count = 1;
	CHECK(f);
}

static void test_release_refusals(void **state)
{
	struct fx *f = *state;
	REFUSED(f, claims_release(&f->c, &f->cl[0], pg(0), PG), -MMK_ENOENT); /* holds nothing */
	CLAIM(f, 0, 10, 10);
	CLAIM(f, 1, 30, 10);
	REFUSED(f, claims_release(&f->c, &f->cl[0], pg(30), PG), -MMK_ENOENT);  /* another's */
	REFUSED(f, claims_release(&f->c, &f->cl[0], pg(5), 10 * PG), -MMK_ENOENT); /* partly free */
	REFUSED(f, claims_release(&f->c, &f->cl[0], pg(15), 10 * PG), -MMK_ENOENT);
	REFUSED(f, claims_release(&f->c, &f->cl[0], pg(10), 30 * PG), -MMK_ENOENT); /* a hole */
	/* Released twice after claiming once: the second is refused. */
	RELEASE(f, 0, 12, 2);
	REFUSED(f, claims_release(&f->c, &f->cl[0], pg(12), PG), -MMK_ENOENT);
	REFUSED(f, claims_release(&f->c, &f->cl[0], pg(10), 10 * PG), -MMK_ENOENT);
}

static void test_claimant_of_another_manager(void **state)
{
	struct fx *f = *state;
	struct claims other;
	assert_int_equal(claims_init(&other, &f->s.phys, 0x700000000ull, 64 * PG, NULL, NULL), 0);
	assert_int_equal(claims_claim(&other, &f->cl[0], 0x700000000ull, PG), 0);
	REFUSED(f, claims_claim(&f->c, &f->cl[0], pg(0), PG), -MMK_EINVAL);
	REFUSED(f, claims_release(&f->c, &f->cl[0], pg(0), PG), -MMK_ENOENT);
	assert_int_equal(claims_release_all(&f->c, &f->cl[0]), 0); /* not ours: nothing */
	assert_int_equal(claims_release_all(&other, &f->cl[0]), 1);
	assert_null(f->cl[0].mgr); /* free to move on */
	CLAIM(f, 0, 0, 1);
	assert_int_equal(claims_revoke_batch(&other, 4, NULL, NULL), 0);
	assert_int_equal(claims_fini(&other), 0);
}

static void test_claimant_fini_and_release_all(void **state)
{
	struct fx *f = *state;
	CLAIM(f, 0, 0, 8);
	CLAIM(f, 0, 4, 8);
	CLAIM(f, 0, 100, 1);
	CLAIM(f, 1, 6, 20);
	CLAIM(f, 0, 600, 900); /* crosses a leaf table */
	assert_int_equal(claimant_fini(&f->cl[0]), -MMK_EBUSY);
	CHECK(f);
	assert_int_equal(claims_release_all(&f->c, &f->cl[0]), 12 + 1 + 900);
	CHECK(f);
	assert_null(f->cl[0].head);
	assert_int_equal(f->cl[0].nodes, 0);
	assert_int_equal(claimant_fini(&f->cl[0]), 0);
	assert_int_equal(claims_count(&f->c, &f->cl[1], pg(6)), 1);
	/* [0,6) queued, [6,26) B, [100,101) queued, [600,1500) queued. */
	assert_int_equal(claims_queued_ranges(&f->c), 3);
	assert_int_equal(claims_queued_pages(&f->c), 6 + 1 + 900);
	assert_int_equal(claims_release_all(&f->c, &f->cl[0]), 0);
}

/* ---- the queue and batches ---- */

static void test_queue_merges_and_busy(void **state)
{
	struct fx *f = *state;
	CLAIM(f, 0, 10, 10);
	CLAIM(f, 1, 20, 10);
	CLAIM(f, 2, 5, 30);
	RELEASE(f, 0, 10, 10);
	RELEASE(f, 1, 20, 10);
	assert_int_equal(claims_queued_ranges(&f->c), 0); /* C still claims all */
	RELEASE(f, 2, 5, 30);
	CHECK(f);
	assert_int_equal(claims_queued_ranges(&f->c), 1);
	assert_int_equal(claims_queued_pages(&f->c), 30);
	/* Freed separately, adjacent ranges merge in the queue. */
	CLAIM(f, 3, 35, 5);
	CLAIM(f, 3, 0, 5);
	RELEASE(f, 3, 35, 5);
	RELEASE(f, 3, 0, 5);
	CHECK(f);
	assert_int_equal(claims_queued_ranges(&f->c), 1);
	assert_int_equal(claims_queued_pages(&f->c), 40);
	/* A queued range may still be mapped: nobody gets it. */
	REFUSED(f, claims_claim(&f->c, &f->cl[4], pg(12), PG), -MMK_EBUSY);
	REFUSED(f, claims_claim(&f->c, &f->cl[4], pg(38), 10 * PG), -MMK_EBUSY);
	REFUSED(f, claims_release(&f->c, &f->cl[2], pg(5), PG), -MMK_ENOENT);
	struct vm_range out[4];
	size_t n;
	assert_int_equal(claims_revoke_batch(&f->c, 4, out, &n), 0);
	CHECK(f);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].start, pg(0));
	assert_int_equal(out[0].end, pg(40));
	assert_int_equal(f->c.nodes, 1); /* all free again, one node */
	assert_int_equal(f->c.tables, 3);
	CLAIM(f, 4, 12, 1);
	assert_int_equal(claims_revoke_batch(&f->c, 4, out, &n), 0);
	assert_int_equal(n, 0);
}

static void test_batch_limit_and_order(void **state)
{
	struct fx *f = *state;
	/* Five separate queued ranges, released in a scrambled order. */
	static const unsigned order[5] = { 3, 0, 4, 1, 2 };
	for (unsigned i = 0; i < 5; i++)
		CLAIM(f, 0, i * 100, 10);
	for (unsigned i = 0; i < 5; i++)
		RELEASE(f, 0, order[i] * 100, 10);
	assert_int_equal(claims_queued_ranges(&f->c), 5);
	struct vm_range out[CLAIMS_BATCH_MAX];
	size_t n;
	assert_int_equal(claims_revoke_batch(&f->c, 2, out, &n), 0);
	CHECK(f);
	/* The two oldest, handed over in ascending order. */
	assert_int_equal(n, 2);
	assert_int_equal(out[0].start, pg(0));
	assert_int_equal(out[1].start, pg(300));
	assert_int_equal(claims_state(&f->c, pg(300)), CLAIM_FREE);
	assert_int_equal(claims_state(&f->c, pg(400)), CLAIM_QUEUED);
	assert_int_equal(claims_revoke_batch(&f->c, 0, out, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(claims_revoke_batch(&f->c, 1000, out, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(f->c.batches, 2);
	assert_int_equal(f->c.ranges_revoked, 5);
	assert_int_equal(f->c.pages_revoked, 50);
}

/* A revoker double: records the call, can fail, and checks that the ranges
 * are unclaimable while it runs. */
struct double_revoker {
	struct fx *f;
	int rc;
	unsigned calls;
	size_t last_n;
	int claim_rc_during;
	enum claim_state state_during;
};

static int revoker_double(void *ctx, const struct vm_range *r, size_t n)
{
	struct double_revoker *d = ctx;
	d->calls++;
	d->last_n = n;
	d->state_during = claims_state(&d->f->c, r[0].start);
	d->claim_rc_during = claims_claim(&d->f->c, &d->f->cl[5], r[0].start, PG);
	return d->rc;
}

static void test_revoker_failure_and_revoking_state(void **state)
{
	struct fx *f = *state;
	struct double_revoker d = { .f = f, .rc = -MMK_ENOMEM };
	f->c.revoke = revoker_double;
	f->c.revoke_ctx = &d;
	CLAIM(f, 0, 10, 5);
	CLAIM(f, 0, 30, 5);
	CLAIM(f, 0, 50, 5);
	RELEASE(f, 0, 30, 5);
	RELEASE(f, 0, 10, 5);
	RELEASE(f, 0, 50, 5);
	char *before = snapshot(f);
	struct vm_range out[4];
	size_t n = 99;
	assert_int_equal(claims_revoke_batch(&f->c, 2, out, &n), -MMK_ENOMEM);
	assert_int_equal(n, 0);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.last_n, 2);
	assert_int_equal(d.state_during, CLAIM_REVOKING);
	assert_int_equal(d.claim_rc_during, -MMK_EBUSY);
	char *after = snapshot(f);
	assert_string_equal(before, after); /* back at the head, same order */
	free(before);
	free(after);
	CHECK(f);
	assert_int_equal(f->c.batches_failed, 1);
	/* The retry takes the same two ranges. */
	d.rc = 0;
	assert_int_equal(claims_revoke_batch(&f->c, 2, out, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(out[0].start, pg(10));
	assert_int_equal(out[1].start, pg(30));
	CHECK(f);
	assert_int_equal(claims_queued_ranges(&f->c), 1);
}

/* A release next to a range under revocation queues separately; when the
 * failed batch puts its range back, the two merge. */
static int revoker_release_neighbour(void *ctx, const struct vm_range *r, size_t n)
{
	struct fx *f = ctx;
	(void)n;
	assert_int_equal(claims_release(&f->c, &f->cl[1], r[0].end, PG), 0);
	assert_int_equal(claims_check(&f->c, NULL), 0);
	assert_int_equal(claims_queued_ranges(&f->c), 1); /* not merged with a revoking one */
	return -MMK_ENOMEM;
}

static void test_put_back_merges(void **state)
{
	struct fx *f = *state;
	f->c.revoke = revoker_release_neighbour;
	f->c.revoke_ctx = f;
	CLAIM(f, 0, 10, 5);
	CLAIM(f, 1, 15, 1);
	RELEASE(f, 0, 10, 5);
	assert_int_equal(claims_revoke_batch(&f->c, 1, NULL, NULL), -MMK_ENOMEM);
	CHECK(f);
	assert_int_equal(claims_queued_ranges(&f->c), 1);
	assert_int_equal(claims_queued_pages(&f->c), 6);
	f->c.revoke = NULL;
}

/* ---- the trie's shape ---- */

static void test_trie_across_tables(void **state)
{
	struct fx *f = *state;
	/* A second manager over 2^18 + 1024 pages: the level-1 boundary. */
	struct claims c;
	const uint64_t l1 = (uint64_t)1 << 18;
	assert_int_equal(claims_init(&c, &f->s.phys, 0, (l1 + 1024) * PG, NULL, NULL), 0);
	assert_int_equal(c.tables, 3);
	assert_int_equal(claims_claim(&c, &f->cl[0], (l1 - 3) * PG, 6 * PG), 0);
	assert_int_equal(claims_check(&c, NULL), 0);
	assert_int_equal(c.tables, 6); /* 3 + a leaf under the old L1 + a new L1 and its leaf */
	assert_int_equal(claims_count(&c, &f->cl[0], (l1 - 1) * PG), 1);
	assert_int_equal(claims_count(&c, &f->cl[0], (l1 + 2) * PG), 1);
	assert_int_equal(claims_state(&c, (l1 + 3) * PG), CLAIM_FREE);
	/* Lookups far from any node start find the node through the bitmaps. */
	assert_int_equal(claims_state(&c, (l1 - 4) * PG), CLAIM_FREE);
	assert_int_equal(claims_state(&c, (l1 + 1023) * PG), CLAIM_FREE);
	assert_int_equal(claims_claim(&c, &f->cl[1], 511 * PG, 2 * PG), 0);
	assert_int_equal(claims_check(&c, NULL), 0);
	claims_release_all(&c, &f->cl[0]);
	claims_release_all(&c, &f->cl[1]);
	assert_int_equal(claims_revoke_batch(&c, 8, NULL, NULL), 0);
	assert_int_equal(claims_check(&c, NULL), 0);
	assert_int_equal(c.nodes, 1);
	assert_int_equal(c.tables, 3); /* emptied tables freed */
	assert_int_equal(claims_fini(&c), 0);
}

static void test_format(void **state)
{
	struct fx *f = *state;
	CLAIM(f, 0, 1, 2);
	CLAIM(f, 1, 2, 2);
	CLAIM(f, 1, 2, 1);
	CLAIM(f, 2, 8, 1);
	RELEASE(f, 2, 8, 1);
	char *t = text(&f->c);
	assert_string_equal(t, "claims [0x100000000, 0x101000000) 4096 pages: free 4092 claimed 3 queued 1 "
			       "revoking 0; nodes 7 tables 3\n"
			       "  [0x100000000, 0x100001000) 1 free\n"
			       "  [0x100001000, 0x100002000) 1 claimed #1:1\n"
			       "  [0x100002000, 0x100003000) 1 claimed #1:1 #2:2\n"
			       "  [0x100003000, 0x100004000) 1 claimed #2:1\n"
			       "  [0x100004000, 0x100008000) 4 free\n"
			       "  [0x100008000, 0x100009000) 1 queued\n"
			       "  [0x100009000, 0x101000000) 4087 free\n"
			       "queue: [0x100008000, 0x100009000)\n");
	/* Truncated output is NUL-terminated and reports the full length. */
	char small[16];
	assert_int_equal(claims_format(&f->c, small, sizeof(small)), strlen(t));
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_memory_equal(small, t, sizeof(small) - 1);
	free(t);
}

/* ---- the checker catches what it claims to ---- */

static void expect_broken(struct fx *f, const char *what)
{
	const char *why = NULL;
	assert_int_equal(claims_check(&f->c, &why), -MMK_EINVAL);
	assert_non_null(why);
	if (!strstr(why, what))
		fail_msg("expected a complaint about \"%s\", got \"%s\"", what, why);
}

static void test_check_catches(void **state)
{
	struct fx *f = *state;
	CLAIM(f, 0, 10, 10);
	CLAIM(f, 1, 15, 10);
	RELEASE(f, 1, 20, 5);
	CHECK(f);
	struct claim_slot *s = f->cl[0].head; /* some slot of A */
	struct claim_slot saved = *s;

	s->count = 0;
	expect_broken(f, "count 0");
	*s = saved;

	f->cl[0].pages++;
	expect_broken(f, "page total");
	f->cl[0].pages--;

	struct claim_slot *next = s->next;
	s->next = NULL;
	expect_broken(f, "");
	s->next = next;

	f->c.pages[CLAIM_FREE]--;
	f->c.pages[CLAIM_QUEUED]++;
	expect_broken(f, "pages per state");
	f->c.pages[CLAIM_FREE]++;
	f->c.pages[CLAIM_QUEUED]--;

	f->c.queued_ranges++;
	expect_broken(f, "queue length");
	f->c.queued_ranges--;

	f->c.tables++;
	expect_broken(f, "table total");
	f->c.tables--;

	/* Two alike neighbours: give the queued node A's claim... by hand,
	 * make the free node below it queued too. */
	struct claim_node *q = f->c.qhead;
	assert_non_null(q);
	uint8_t st = q->state;
	q->state = CLAIM_FREE;
	expect_broken(f, "");
	q->state = st;
	CHECK(f);
}

/* ---- allocation failures ---- */

/* Run op with the nth allocation failing, for n = 1, 2, ...: each failure
 * is -MMK_ENOMEM with nothing changed; the sweep ends when op succeeds
 * without the failpoint firing. */
static void sweep(struct fx *f, int (*op)(struct fx *f), const char *name)
{
	for (uint64_t n = 1;; n++) {
		assert_true(n < 100);
		char *before = snapshot(f);
		uint64_t failed = f->s.failpoint.failed;
		mmk_failpoint_arm(&f->s.failpoint, n, false);
		int rc = op(f);
		bool fired = f->s.failpoint.failed != failed;
		mmk_failpoint_arm(&f->s.failpoint, 0, false);
		if (rc == 0) {
			free(before);
			CHECK(f);
			if (!fired)
				return;
			fail_msg("%s succeeded although allocation %llu failed", name, (unsigned long long)n);
		}
		assert_int_equal(rc, -MMK_ENOMEM);
		assert_true(fired);
		char *after = snapshot(f);
		assert_string_equal(before, after);
		free(before);
		free(after);
		CHECK(f);
	}
}

static int op_claim_two_splits(struct fx *f) { return claims_claim(&f->c, &f->cl[2], pg(1000), 600 * PG); }
static int op_claim_far(struct fx *f) { return claims_claim(&f->c, &f->cl[2], pg(3000), 100 * PG); }
static int op_release_middle(struct fx *f) { return claims_release(&f->c, &f->cl[0], pg(1100), 30 * PG); }

static void test_enomem_sweep(void **state)
{
	struct fx *f = *state;
	CLAIM(f, 0, 1050, 100);
	CLAIM(f, 1, 900, 2);
	sweep(f, op_claim_two_splits, "claim");
	sweep(f, op_claim_far, "claim far");
	sweep(f, op_release_middle, "release");
	assert_true(f->s.failpoint.failed >= 8);
	/* claims_init: every failure leaves nothing allocated. */
	uint64_t frames = sim_system_free_frames(&f->s);
	for (uint64_t n = 1;; n++) {
		struct claims c;
		uint64_t failed = f->s.failpoint.failed;
		mmk_failpoint_arm(&f->s.failpoint, n, false);
		int rc = claims_init(&c, &f->s.phys, 0, 64 * PG, NULL, NULL);
		mmk_failpoint_arm(&f->s.failpoint, 0, false);
		if (rc == 0) {
			assert_int_equal(claims_fini(&c), 0);
			if (f->s.failpoint.failed == failed)
				break;
			continue;
		}
		assert_int_equal(rc, -MMK_ENOMEM);
		assert_int_equal(sim_system_free_frames(&f->s), frames);
	}
	assert_int_equal(sim_system_free_frames(&f->s), frames);
}

/* ---- the reference model ---- */

enum { M_FREE = CLAIM_FREE, M_CLAIMED = CLAIM_CLAIMED, M_QUEUED = CLAIM_QUEUED };

struct model {
	uint64_t npages;  /* the manager's reservation */
	uint64_t w0, w1;  /* the window operations stay in; outside is free */
	uint8_t *state;   /* per window page */
	uint32_t (*count)[NCL];
};

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static unsigned claimants_at(const struct model *m, uint64_t i)
{
	unsigned n = 0;
	for (unsigned k = 0; k < NCL; k++)
		n += m->count[i][k] > 0;
	return n;
}

static int model_claim(struct model *m, unsigned k, uint64_t a, uint64_t b)
{
	for (uint64_t p = a; p < b; p++) {
		uint64_t i = p - m->w0;
		if (m->state[i] == M_QUEUED)
			return -MMK_EBUSY;
		if (!m->count[i][k] && claimants_at(m, i) == CLAIMS_MAX_CLAIMANTS)
			return -MMK_EUSERS;
	}
	for (uint64_t p = a; p < b; p++) {
		m->count[p - m->w0][k]++;
		m->state[p - m->w0] = M_CLAIMED;
	}
	return 0;
}

static int model_release(struct model *m, unsigned k, uint64_t a, uint64_t b)
{
	for (uint64_t p = a; p < b; p++)
		if (!m->count[p - m->w0][k])
			return -MMK_ENOENT;
	for (uint64_t p = a; p < b; p++) {
		uint64_t i = p - m->w0;
		if (--m->count[i][k] == 0 && claimants_at(m, i) == 0)
			m->state[i] = M_QUEUED;
	}
	return 0;
}

static void model_release_all(struct model *m, unsigned k)
{
	for (uint64_t i = 0; i < m->w1 - m->w0; i++) {
		if (!m->count[i][k])
			continue;
		m->count[i][k] = 0;
		if (claimants_at(m, i) == 0)
			m->state[i] = M_QUEUED;
	}
}

/* The node list claims_walk showed. */
struct walked {
	struct claims_range_info *r;
	size_t n, cap;
};

static void collect(void *ctx, const struct claims_range_info *r)
{
	struct walked *w = ctx;
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 64;
		w->r = realloc(w->r, w->cap * sizeof(*w->r));
		assert_non_null(w->r);
	}
	w->r[w->n++] = *r;
}

/* Whether page p (absolute) of the model equals node r's contents. */
static bool page_matches(struct fx *f, const struct model *m, uint64_t p, const struct claims_range_info *r)
{
	if (p < m->w0 || p >= m->w1)
		return r->state == CLAIM_FREE && r->nclaimants == 0;
	uint64_t i = p - m->w0;
	if (r->state != m->state[i] || r->nclaimants != claimants_at(m, i))
		return false;
	for (unsigned j = 0; j < r->nclaimants; j++) {
		unsigned k = (unsigned)(r->who[j] - f->cl);
		if (k >= NCL || m->count[i][k] != r->count[j])
			return false;
	}
	return true;
}

/* Nodes must be exactly the maximal runs of equal pages (I1 + I3): every
 * page of a node matches it, and the page after a node does not. */
static void model_compare(struct fx *f, const struct model *m, uint64_t step)
{
	struct walked w = { 0 };
	claims_walk(&f->c, collect, &w);
	uint64_t page = 0, queued_runs = 0, nodes_of[NCL] = { 0 }, pages_of[NCL] = { 0 };
	for (size_t j = 0; j < w.n; j++) {
		const struct claims_range_info *r = &w.r[j];
		uint64_t first = (r->start - BASE) / PG, n = r->len / PG;
		if (first != page)
			fail_msg("step %llu: node %zu starts at page %llu, expected %llu", (unsigned long long)step,
				 j, (unsigned long long)first, (unsigned long long)page);
		/* Pages outside the window are all alike (free): the node's
		 * first and last page stand for them. */
		uint64_t lo = first > m->w0 ? first : m->w0, hi = first + n < m->w1 ? first + n : m->w1;
		bool ok = page_matches(f, m, first, r) && page_matches(f, m, first + n - 1, r);
		for (uint64_t p = lo; ok && p < hi; p++)
			ok = page_matches(f, m, p, r);
		if (!ok)
			fail_msg("step %llu: a page of node [%llu, +%llu) differs from it", (unsigned long long)step,
				 (unsigned long long)first, (unsigned long long)n);
		if (first + n < m->npages && page_matches(f, m, first + n, r))
			fail_msg("step %llu: node at page %llu not maximal", (unsigned long long)step,
				 (unsigned long long)first);
		queued_runs += r->state == CLAIM_QUEUED;
		for (unsigned k = 0; k < r->nclaimants; k++) {
			unsigned c = (unsigned)(r->who[k] - f->cl);
			nodes_of[c]++;
			pages_of[c] += n;
		}
		page = first + n;
	}
	assert_int_equal(page, m->npages);
	assert_int_equal(queued_runs, claims_queued_ranges(&f->c));
	for (unsigned k = 0; k < NCL; k++) {
		assert_int_equal(f->cl[k].nodes, nodes_of[k]);
		assert_int_equal(f->cl[k].pages, pages_of[k]);
	}
	free(w.r);
}

/* A random range inside the window: mostly short, sometimes long, often
 * aligned to 8 pages so that ends meet existing boundaries. */
static void pick_range(uint64_t *s, const struct model *m, uint64_t *a, uint64_t *b)
{
	uint64_t span = m->w1 - m->w0;
	uint64_t len = (rnd(s) % 8 == 0) ? 1 + rnd(s) % 700 : 1 + rnd(s) % 40;
	if (len > span)
		len = span;
	uint64_t start = m->w0 + rnd(s) % (span - len + 1);
	if (rnd(s) % 2) {
		start &= ~(uint64_t)7;
		if (start < m->w0)
			start = m->w0;
	}
	*a = start;
	*b = start + len;
}

static void model_batch(struct fx *f, struct model *m, uint64_t *s)
{
	struct vm_range out[CLAIMS_BATCH_MAX];
	size_t n, want = 1 + rnd(s) % 6;
	assert_int_equal(claims_revoke_batch(&f->c, want, out, &n), 0);
	assert_true(n <= want);
	uint64_t queued = 0;
	for (uint64_t i = 0; i < m->w1 - m->w0; i++)
		queued += m->state[i] == M_QUEUED;
	assert_true(queued == 0 ? n == 0 : n >= 1);
	for (size_t j = 0; j < n; j++) {
		uint64_t a = (out[j].start - BASE) / PG, b = (out[j].end - BASE) / PG;
		assert_true(j == 0 || out[j].start > out[j - 1].start);
		assert_true(a >= m->w0 && b <= m->w1 && a < b);
		/* A whole, maximal queued run. */
		assert_true(a == m->w0 || m->state[a - 1 - m->w0] != M_QUEUED);
		assert_true(b == m->w1 || m->state[b - m->w0] != M_QUEUED);
		for (uint64_t p = a; p < b; p++) {
			assert_int_equal(m->state[p - m->w0], M_QUEUED);
			m->state[p - m->w0] = M_FREE;
		}
	}
}

/* A range of pages claimant k holds, or false when it holds none. */
static bool pick_owned(uint64_t *s, const struct model *m, unsigned k, uint64_t *a, uint64_t *b)
{
	uint64_t span = m->w1 - m->w0, at = rnd(s) % span;
	for (uint64_t j = 0; j < span; j++) {
		uint64_t i = (at + j) % span;
		if (!m->count[i][k])
			continue;
		uint64_t e = i + 1, len = 1 + rnd(s) % 64;
		while (e < span && e - i < len && m->count[e][k])
			e++;
		*a = m->w0 + i;
		*b = m->w0 + e;
		return true;
	}
	return false;
}

static void model_run(struct fx *f, uint64_t seed, uint64_t npages, uint64_t w0, uint64_t w1, uint64_t steps)
{
	assert_int_equal(claims_init(&f->c, &f->s.phys, BASE, npages * PG, NULL, NULL), 0);
	struct model m = { npages, w0, w1, calloc(w1 - w0, 1), calloc(w1 - w0, sizeof(*m.count)) };
	assert_non_null(m.state);
	assert_non_null(m.count);
	uint64_t s = seed, outcomes[5] = { 0 };
	for (uint64_t step = 0; step < steps; step++) {
		unsigned k = (unsigned)(rnd(&s) % NCL), what = (unsigned)(rnd(&s) % 100);
		uint64_t a, b;
		pick_range(&s, &m, &a, &b);
		if (what < 45) {
			int expect = model_claim(&m, k, a, b);
			assert_int_equal(claims_claim(&f->c, &f->cl[k], pg(a), (b - a) * PG), expect);
			outcomes[expect == 0 ? 0 : expect == -MMK_EBUSY ? 1 : 2]++;
		} else if (what < 85) {
			/* Half the time a range the claimant holds, so most
			 * releases succeed and queue pages. */
			if (rnd(&s) % 2)
				pick_owned(&s, &m, k, &a, &b);
			int expect = model_release(&m, k, a, b);
			assert_int_equal(claims_release(&f->c, &f->cl[k], pg(a), (b - a) * PG), expect);
			outcomes[expect == 0 ? 3 : 4]++;
		} else if (what < 88) {
			model_release_all(&m, k);
			claims_release_all(&f->c, &f->cl[k]);
		} else {
			model_batch(f, &m, &s);
		}
		CHECK(f);
		model_compare(f, &m, step);
	}
	/* Every kind of outcome happened. */
	for (unsigned i = 0; i < 5; i++)
		assert_true(outcomes[i] > 0);
	for (unsigned k = 0; k < NCL; k++) {
		claims_release_all(&f->c, &f->cl[k]);
		model_release_all(&m, k);
	}
	while (claims_queued_ranges(&f->c))
		model_batch(f, &m, &s);
	CHECK(f);
	model_compare(f, &m, steps);
	assert_int_equal(f->c.nodes, 1);
	assert_int_equal(claims_fini(&f->c), 0);
	free(m.state);
	free(m.count);
}

static void test_model(void **state)
{
	struct fx *f = *state;
	static const uint64_t seeds[] = { 1, 0x9e3779b97f4a7c15ull, 12345, 0xdeadbeef };
	assert_int_equal(claims_fini(&f->c), 0);
	for (unsigned i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++)
		model_run(f, seeds[i], NPAGES, 0, NPAGES, 4000);
	/* Around the level-1 boundary of a larger reservation. */
	const uint64_t l1 = (uint64_t)1 << 18;
	model_run(f, 77, l1 + 2048, l1 - 1536, l1 + 1536, 4000);
	assert_int_equal(claims_init(&f->c, &f->s.phys, BASE, NPAGES * PG, NULL, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_init_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_claim_splits_exactly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_claims_and_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifth_claimant_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_count_overflow_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claimant_of_another_manager, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claimant_fini_and_release_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_merges_and_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_limit_and_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoker_failure_and_revoking_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_back_merges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trie_across_tables, setup, teardown),
		cmocka_unit_test_setup_teardown(test_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_catches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enomem_sweep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_model, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
