/*
 * test_mop: memory ownership principals (src/claims/mop.c, seed 000) over a
 * claims manager and an account system on a booted sim machine.
 *
 * Each rule and each refusal with its exact error and proof that nothing
 * changed (the printed trie, the printed account tree without its failure
 * counters, and every MOP's pages and state are compared); the charging
 * rule (a claim charges exactly the pages the MOP did not claim before, a
 * release uncharges the pages it claims no more); the hierarchy (a child's
 * limit comes out of its parent's; destroying a MOP, or an account above
 * it, releases the claims of every MOP below and queues what nobody else
 * claims); two MOPs sharing a range (queued only when the last goes); the
 * allocation-failure sweep over create, child, claim and release; a long
 * random run against a reference model with claims_check, acct_check and
 * mop_check after every step; and the leak baseline: destroying the root
 * account returns every limit and claim, revocation batches empty the
 * queue, and the free frames are back at their count before the test.
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
#include <mmk/errno.h>
#include <mmk/mop.h>

#include "own_text.h"

#define PG MMK_PAGE_SIZE
#define BASE ((vaddr_t)0x200000000ull)
#define NPAGES 512u
#define ROOT_FRAMES 100000u
#define NMOP 12u

struct fx {
	struct sim_system s;
	struct acct_system acct;
	struct claims c;
	struct mop m[NMOP];
	bool made[NMOP];      /* m[i] was created (alive or dead) */
	uint64_t frames0;     /* free frames before the account system and the manager */
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	assert_int_equal(sim_system_boot(&f->s, 64ull << 20, 1), 0);
	f->frames0 = sim_system_free_frames(&f->s);
	assert_int_equal(acct_system_init(&f->acct, &f->s.phys, ROOT_FRAMES), 0);
	assert_int_equal(claims_init(&f->c, &f->s.phys, BASE, NPAGES * PG, NULL, NULL), 0);
	*state = f;
	return 0;
}

/* The leak baseline: destroying the root account kills every MOP, which
 * queues every claimed range; batches empty the queue; everything is
 * returned. */
static int teardown(void **state)
{
	struct fx *f = *state;
	mmk_failpoint_arm(&f->s.failpoint, 0, false);
	assert_int_equal(acct_destroy(acct_root(&f->acct)), 0);
	for (unsigned i = 0; i < NMOP; i++) {
		if (!f->made[i])
			continue;
		assert_true(f->m[i].dead);
		assert_int_equal(mop_check(&f->m[i], NULL), 0);
		assert_int_equal(claimant_fini(&f->m[i].claimant), 0);
	}
	assert_int_equal(f->c.pages[CLAIM_CLAIMED], 0);
	while (claims_queued_ranges(&f->c))
		assert_int_equal(claims_revoke_batch(&f->c, CLAIMS_BATCH_MAX, NULL, NULL), 0);
	assert_int_equal(claims_queued_pages(&f->c), 0);
	struct acct_usage u;
	acct_get_usage(acct_root(&f->acct), &u);
	assert_int_equal(u.available, ROOT_FRAMES);
	assert_int_equal(claims_fini(&f->c), 0);
	assert_int_equal(acct_system_fini(&f->acct), 0);
	assert_int_equal(sim_system_free_frames(&f->s), f->frames0);
	assert_int_equal(sim_system_shutdown(&f->s), 0);
	free(f);
	return 0;
}

static vaddr_t pg(uint64_t i) { return BASE + i * PG; }

static struct acct_usage usage(struct mmk_account *a)
{
	struct acct_usage u;
	acct_get_usage(a, &u);
	return u;
}

static uint64_t charged(struct mop *m) { return usage(m->acct).charged; }

#define CHECK(f) check_((f), __FILE__, __LINE__)
static void check_(struct fx *f, const char *file, int line)
{
	const char *why = NULL;
	if (claims_check(&f->c, &why))
		fail_msg("%s:%d: claims_check: %s", file, line, why);
	if (acct_check(&f->acct, &why))
		fail_msg("%s:%d: acct_check: %s", file, line, why);
	for (unsigned i = 0; i < NMOP; i++)
		if (f->made[i] && mop_check(&f->m[i], &why))
			fail_msg("%s:%d: mop_check(#%u): %s", file, line, i, why);
}

/* Everything observable: the trie, the account tree, each MOP. */
static char *snapshot(struct fx *f)
{
	char *c = own_claims_text(&f->c), *a = own_accounts_text(&f->acct);
	size_t n = strlen(c) + strlen(a);
	char *t = malloc(n + NMOP * 64 + 1);
	assert_non_null(t);
	n = (size_t)sprintf(t, "%s%s", c, a);
	free(c);
	free(a);
	for (unsigned i = 0; i < NMOP; i++)
		if (f->made[i])
			n += (size_t)sprintf(t + n, "mop %u dead %d pages %llu\n", i, f->m[i].dead,
					     (unsigned long long)mop_pages(&f->m[i]));
	return t;
}

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

#define OK(f, call)                                                                                        \
	do {                                                                                               \
		assert_int_equal((call), 0);                                                               \
		CHECK(f);                                                                                  \
	} while (0)

/* MOP i under the root account (parent < 0) or under MOP parent. */
static void make(struct fx *f, unsigned i, int parent, uint64_t limit)
{
	if (parent < 0)
		OK(f, mop_create(&f->m[i], &f->c, acct_root(&f->acct), limit, i, "mop"));
	else
		OK(f, mop_create_child(&f->m[i], &f->m[parent], limit, i, "child"));
	f->made[i] = true;
}

/* ---- creation ---- */

static void test_create_rules(void **state)
{
	struct fx *f = *state;
	struct mmk_account *root = acct_root(&f->acct);
	struct mop tmp;
	REFUSED(f, mop_create(NULL, &f->c, root, 10, 1, NULL), -MMK_EINVAL);
	REFUSED(f, mop_create(&tmp, NULL, root, 10, 1, NULL), -MMK_EINVAL);
	REFUSED(f, mop_create(&tmp, &f->c, NULL, 10, 1, NULL), -MMK_EINVAL);
	REFUSED(f, mop_create(&tmp, &f->c, root, 0, 1, NULL), -MMK_EINVAL);
	REFUSED(f, mop_create(&tmp, &f->c, root, ROOT_FRAMES + 1, 1, NULL), -MMK_ENOMEM);
	REFUSED(f, mop_create_child(NULL, &tmp, 1, 1, NULL), -MMK_EINVAL);
	/* the parent donates its limit: root's available drops by 100 */
	make(f, 0, -1, 100);
	assert_int_equal(usage(root).available, ROOT_FRAMES - 100);
	assert_int_equal(usage(f->m[0].acct).limit, 100);
	assert_int_equal(usage(f->m[0].acct).available, 100);
	assert_false(f->m[0].dead);
	assert_int_equal(mop_pages(&f->m[0]), 0);
	/* a child's limit comes out of its parent's, never past it */
	REFUSED(f, mop_create_child(&tmp, &f->m[0], 101, 9, NULL), -MMK_ENOMEM);
	make(f, 1, 0, 60);
	assert_int_equal(usage(f->m[0].acct).available, 40);
	assert_int_equal(usage(f->m[0].acct).donated, 60);
	REFUSED(f, mop_create_child(&tmp, &f->m[0], 41, 9, NULL), -MMK_ENOMEM);
	make(f, 2, 0, 40);
	assert_int_equal(usage(f->m[0].acct).available, 0);
	/* the child's pages are its own: claiming in the child charges only it */
	OK(f, mop_claim(&f->m[1], pg(0), 10 * PG));
	assert_int_equal(charged(&f->m[1]), 10);
	assert_int_equal(charged(&f->m[0]), 0);
	/* a MOP's parent may be any account; a destroyed one refuses */
	struct mmk_account *plain;
	assert_int_equal(acct_split(root, 50, "plain", &plain), 0);
	acct_get(plain);
	make(f, 3, -1, 1); /* (under root, so the plain account's destroy spares it) */
	OK(f, acct_destroy(plain));
	REFUSED(f, mop_create(&tmp, &f->c, plain, 1, 9, NULL), -MMK_EIDRM);
	acct_put(plain);
	/* a dead parent MOP */
	OK(f, mop_destroy(&f->m[2]));
	REFUSED(f, mop_create_child(&tmp, &f->m[2], 1, 9, NULL), -MMK_EIDRM);
	assert_int_equal(usage(f->m[0].acct).available, 40);
}

/* ---- the charging rule ---- */

static void test_charging_rule(void **state)
{
	struct fx *f = *state;
	make(f, 0, -1, 1000);
	make(f, 1, -1, 1000);
	struct mop *a = &f->m[0], *b = &f->m[1];
	OK(f, mop_claim(a, pg(0), 4 * PG));
	assert_int_equal(charged(a), 4);
	/* [2, 6): pages 2 and 3 are a's already: 2 new */
	OK(f, mop_claim(a, pg(2), 4 * PG));
	assert_int_equal(charged(a), 6);
	assert_int_equal(mop_pages(a), 6);
	assert_int_equal(claims_count(&f->c, &a->claimant, pg(3)), 2);
	/* claiming again what it claims raises counts, not the charge */
	OK(f, mop_claim(a, pg(0), 6 * PG));
	assert_int_equal(charged(a), 6);
	/* another MOP claiming the same pages pays for them too: it holds
	 * them as much as a does */
	OK(f, mop_claim(b, pg(4), 4 * PG));
	assert_int_equal(charged(b), 4);
	assert_int_equal(charged(a), 6);
	/* a release that leaves counts above 0 uncharges nothing */
	OK(f, mop_release(a, pg(0), 6 * PG));
	assert_int_equal(charged(a), 6);
	/* counts now: pages 0, 1 at 1; 2, 3 at 2: releasing [0, 2) lets them go */
	OK(f, mop_release(a, pg(0), 2 * PG));
	assert_int_equal(charged(a), 4);
	assert_int_equal(claims_state(&f->c, pg(0)), CLAIM_QUEUED);
	/* pages 2, 3 go on their second release only */
	OK(f, mop_release(a, pg(2), 2 * PG));
	assert_int_equal(charged(a), 4);
	assert_int_equal(claims_state(&f->c, pg(2)), CLAIM_CLAIMED);
	OK(f, mop_release(a, pg(2), 2 * PG));
	assert_int_equal(charged(a), 2);
	assert_int_equal(claims_state(&f->c, pg(2)), CLAIM_QUEUED);
	/* pages 4, 5: a has count 1, b too; a's release uncharges a, the pages
	 * stay claimed (b) */
	OK(f, mop_release(a, pg(4), 2 * PG));
	assert_int_equal(charged(a), 0);
	assert_int_equal(charged(b), 4);
	assert_int_equal(claims_state(&f->c, pg(4)), CLAIM_CLAIMED);
	assert_int_equal(claims_queued_pages(&f->c), 4);
}

/* The charge is exact: a claim fits when the pages it adds fit, whatever
 * its length. */
static void test_limit(void **state)
{
	struct fx *f = *state;
	make(f, 0, -1, 10);
	struct mop *m = &f->m[0];
	OK(f, mop_claim(m, pg(0), 8 * PG));
	uint64_t fails = usage(m->acct).failcnt;
	REFUSED(f, mop_claim(m, pg(20), 3 * PG), -MMK_ENOMEM); /* 3 new > 2 left */
	REFUSED(f, mop_claim(m, pg(4), 10 * PG), -MMK_ENOMEM); /* 6 new > 2 left */
	assert_int_equal(usage(m->acct).failcnt, fails + 2);
	OK(f, mop_claim(m, pg(4), 6 * PG)); /* 6 long, 2 new: fits exactly */
	assert_int_equal(charged(m), 10);
	assert_int_equal(usage(m->acct).available, 0);
	OK(f, mop_claim(m, pg(0), 10 * PG)); /* nothing new: always fits */
	REFUSED(f, mop_claim(m, pg(10), PG), -MMK_ENOMEM);
	/* releasing makes room again */
	OK(f, mop_release(m, pg(0), 10 * PG));
	OK(f, mop_release(m, pg(9), PG));
	assert_int_equal(charged(m), 9);
	OK(f, mop_claim(m, pg(10), PG));
	assert_int_equal(charged(m), 10);
	OK(f, mop_release(m, pg(10), PG));
	/* a child's limit is not the parent's to claim with */
	make(f, 1, 0, 1);
	REFUSED(f, mop_claim(m, pg(11), PG), -MMK_ENOMEM); /* 10 charged + 1 donated = limit */
	OK(f, mop_claim(&f->m[1], pg(11), PG));
	REFUSED(f, mop_claim(&f->m[1], pg(12), PG), -MMK_ENOMEM);
}

/* ---- refusals ---- */

static void test_refusals(void **state)
{
	struct fx *f = *state;
	for (unsigned i = 0; i < 5; i++)
		make(f, i, -1, 100);
	/* bad ranges */
	REFUSED(f, mop_claim(&f->m[0], pg(0), 0), -MMK_EINVAL);
	REFUSED(f, mop_claim(&f->m[0], pg(0) + 1, PG), -MMK_EINVAL);
	REFUSED(f, mop_claim(&f->m[0], pg(0), PG + 1), -MMK_EINVAL);
	REFUSED(f, mop_claim(&f->m[0], BASE - PG, 2 * PG), -MMK_EINVAL);
	REFUSED(f, mop_claim(&f->m[0], pg(NPAGES - 1), 2 * PG), -MMK_EINVAL);
	REFUSED(f, mop_claim(&f->m[0], pg(1), (size_t)0 - PG), -MMK_EINVAL);
	REFUSED(f, mop_claim(NULL, pg(0), PG), -MMK_EINVAL);
	REFUSED(f, mop_release(&f->m[0], pg(0), 0), -MMK_EINVAL);
	REFUSED(f, mop_release(NULL, pg(0), PG), -MMK_EINVAL);
	REFUSED(f, mop_destroy(NULL), -MMK_EINVAL);
	/* a fifth claimant */
	for (unsigned i = 0; i < 4; i++)
		OK(f, mop_claim(&f->m[i], pg(10), 4 * PG));
	REFUSED(f, mop_claim(&f->m[4], pg(12), 4 * PG), -MMK_EUSERS);
	REFUSED(f, mop_claim(&f->m[4], pg(8), 3 * PG), -MMK_EUSERS);
	OK(f, mop_claim(&f->m[4], pg(14), 4 * PG));
	/* releasing what it does not claim */
	REFUSED(f, mop_release(&f->m[4], pg(10), PG), -MMK_ENOENT);
	REFUSED(f, mop_release(&f->m[4], pg(13), 2 * PG), -MMK_ENOENT);
	REFUSED(f, mop_release(&f->m[0], pg(30), PG), -MMK_ENOENT);
	/* a queued range is busy until a revocation batch */
	OK(f, mop_claim(&f->m[0], pg(40), 2 * PG));
	OK(f, mop_release(&f->m[0], pg(40), 2 * PG));
	REFUSED(f, mop_claim(&f->m[1], pg(41), 2 * PG), -MMK_EBUSY);
	assert_int_equal(claims_revoke_batch(&f->c, CLAIMS_BATCH_MAX, NULL, NULL), 0);
	OK(f, mop_claim(&f->m[1], pg(41), 2 * PG));
	/* a dead MOP refuses everything */
	OK(f, mop_destroy(&f->m[4]));
	struct mop tmp;
	REFUSED(f, mop_claim(&f->m[4], pg(60), PG), -MMK_EIDRM);
	REFUSED(f, mop_release(&f->m[4], pg(14), PG), -MMK_EIDRM);
	REFUSED(f, mop_destroy(&f->m[4]), -MMK_EIDRM);
	REFUSED(f, mop_create_child(&tmp, &f->m[4], 1, 9, NULL), -MMK_EIDRM);
	assert_int_equal(mop_pages(&f->m[4]), 0);
}

/* ---- hierarchy ---- */

static void test_destroy_cascades(void **state)
{
	struct fx *f = *state;
	struct mmk_account *root = acct_root(&f->acct);
	make(f, 0, -1, 300);   /* top */
	make(f, 1, 0, 100);    /* child */
	make(f, 2, 1, 50);     /* grandchild */
	make(f, 3, 0, 20);     /* second child */
	make(f, 4, -1, 10);    /* unrelated */
	OK(f, mop_claim(&f->m[0], pg(0), 8 * PG));
	OK(f, mop_claim(&f->m[1], pg(20), 8 * PG));
	OK(f, mop_claim(&f->m[2], pg(40), 8 * PG));
	OK(f, mop_claim(&f->m[2], pg(40), 2 * PG)); /* counts do not matter to a destroy */
	OK(f, mop_claim(&f->m[3], pg(60), 4 * PG));
	OK(f, mop_claim(&f->m[4], pg(44), 2 * PG)); /* shares part of the grandchild's */
	/* destroying the child takes the grandchild with it */
	OK(f, mop_destroy(&f->m[1]));
	assert_true(f->m[1].dead);
	assert_true(f->m[2].dead);
	assert_false(f->m[0].dead);
	assert_false(f->m[3].dead);
	assert_int_equal(claims_state(&f->c, pg(20)), CLAIM_QUEUED);
	assert_int_equal(claims_state(&f->c, pg(40)), CLAIM_QUEUED);
	assert_int_equal(claims_state(&f->c, pg(44)), CLAIM_CLAIMED); /* #4 still claims it */
	assert_int_equal(claims_queued_pages(&f->c), 8 + 6);
	assert_int_equal(usage(f->m[0].acct).donated, 20);
	assert_int_equal(usage(f->m[0].acct).available, 300 - 20 - 8);
	/* destroying an account above MOPs destroys them too */
	struct mmk_account *team;
	assert_int_equal(acct_split(root, 500, "team", &team), 0);
	OK(f, mop_create(&f->m[5], &f->c, team, 100, 5, "in-team"));
	f->made[5] = true;
	make(f, 6, 5, 30);
	OK(f, mop_claim(&f->m[6], pg(100), 3 * PG));
	OK(f, mop_claim(&f->m[5], pg(101), 3 * PG));
	uint64_t avail = usage(root).available;
	OK(f, acct_destroy(team));
	assert_true(f->m[5].dead && f->m[6].dead);
	assert_int_equal(claims_state(&f->c, pg(100)), CLAIM_QUEUED);
	assert_int_equal(claims_state(&f->c, pg(103)), CLAIM_QUEUED);
	assert_int_equal(usage(root).available, avail + 500);
	/* and the top: everything under it */
	OK(f, mop_destroy(&f->m[0]));
	assert_true(f->m[3].dead);
	assert_int_equal(claims_state(&f->c, pg(0)), CLAIM_QUEUED);
	assert_int_equal(claims_state(&f->c, pg(60)), CLAIM_QUEUED);
	assert_int_equal(usage(root).available, ROOT_FRAMES - 10);
	/* the queue drains in batches; the survivor's pages stay */
	while (claims_queued_ranges(&f->c))
		OK(f, claims_revoke_batch(&f->c, CLAIMS_BATCH_MAX, NULL, NULL));
	assert_int_equal(f->c.pages[CLAIM_CLAIMED], 2);
	assert_int_equal(claims_state(&f->c, pg(40)), CLAIM_FREE);
}

/* Two MOPs on one range: it is queued only when the last lets it go. */
static void test_shared_ranges(void **state)
{
	struct fx *f = *state;
	make(f, 0, -1, 100);
	make(f, 1, -1, 100);
	make(f, 2, -1, 100);
	OK(f, mop_claim(&f->m[0], pg(0), 16 * PG));
	OK(f, mop_claim(&f->m[1], pg(8), 16 * PG));
	OK(f, mop_destroy(&f->m[0]));
	assert_int_equal(claims_state(&f->c, pg(0)), CLAIM_QUEUED);
	assert_int_equal(claims_state(&f->c, pg(8)), CLAIM_CLAIMED);
	assert_int_equal(claims_queued_pages(&f->c), 8);
	OK(f, mop_claim(&f->m[2], pg(8), 4 * PG));
	OK(f, mop_release(&f->m[1], pg(8), 16 * PG));
	assert_int_equal(claims_state(&f->c, pg(8)), CLAIM_CLAIMED); /* #2 */
	assert_int_equal(claims_state(&f->c, pg(12)), CLAIM_QUEUED);
	assert_int_equal(claims_queued_pages(&f->c), 8 + 12);
	assert_int_equal(claims_queued_ranges(&f->c), 2); /* [0, 8) and [12, 24) */
	OK(f, mop_destroy(&f->m[2]));
	assert_int_equal(claims_queued_ranges(&f->c), 1); /* merged: [0, 24) */
	assert_int_equal(claims_queued_pages(&f->c), 24);
	assert_int_equal(charged(&f->m[1]), 0);
}

/* ---- allocation failures ---- */

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
		CHECK(f);
		if (rc == 0) {
			free(before);
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
	}
}

static int op_create(struct fx *f)
{
	int rc = mop_create(&f->m[3], &f->c, acct_root(&f->acct), 100, 3, "swept");
	f->made[3] = rc == 0;
	return rc;
}

static int op_child(struct fx *f)
{
	int rc = mop_create_child(&f->m[4], &f->m[3], 30, 4, "swept-child");
	f->made[4] = rc == 0;
	return rc;
}

static int op_claim(struct fx *f) { return mop_claim(&f->m[4], pg(100), 20 * PG); }
static int op_claim_more(struct fx *f) { return mop_claim(&f->m[3], pg(110), 20 * PG); }
static int op_release(struct fx *f) { return mop_release(&f->m[4], pg(105), 2 * PG); }

static void test_failure_sweep(void **state)
{
	struct fx *f = *state;
	make(f, 0, -1, 10);
	OK(f, mop_claim(&f->m[0], pg(90), 4 * PG));
	sweep(f, op_create, "mop_create");
	sweep(f, op_child, "mop_create_child");
	sweep(f, op_claim, "mop_claim");
	sweep(f, op_claim_more, "mop_claim (shared)");
	sweep(f, op_release, "mop_release");
	assert_int_equal(charged(&f->m[4]), 18);
	assert_int_equal(charged(&f->m[3]), 20);
	assert_true(f->s.failpoint.failed >= 4);
}

/* ---- the reference model ---- */

struct model_mop {
	bool made, dead;
	int parent;         /* -1: under the root account */
	uint64_t limit;
	uint32_t count[NPAGES];
};

struct model {
	struct model_mop m[NMOP];
	uint8_t state[NPAGES]; /* CLAIM_FREE, CLAIM_CLAIMED, CLAIM_QUEUED */
};

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static unsigned claimants_of(const struct model *md, uint64_t p)
{
	unsigned n = 0;
	for (unsigned i = 0; i < NMOP; i++)
		n += md->m[i].count[p] != 0;
	return n;
}

static uint64_t model_pages(const struct model *md, unsigned i)
{
	uint64_t n = 0;
	for (uint64_t p = 0; p < NPAGES; p++)
		n += md->m[i].count[p] != 0;
	return n;
}

static uint64_t model_donated(const struct model *md, int i)
{
	uint64_t d = 0;
	for (unsigned j = 0; j < NMOP; j++)
		if (md->m[j].made && !md->m[j].dead && md->m[j].parent == i)
			d += md->m[j].limit;
	return d;
}

static uint64_t model_available(const struct model *md, int i)
{
	if (i < 0)
		return ROOT_FRAMES - model_donated(md, -1);
	return md->m[i].limit - model_donated(md, i) - model_pages(md, (unsigned)i);
}

static int model_claim(struct model *md, unsigned i, uint64_t a, uint64_t b)
{
	struct model_mop *m = &md->m[i];
	if (m->dead)
		return -MMK_EIDRM;
	uint64_t added = 0;
	for (uint64_t p = a; p < b; p++) {
		if (md->state[p] == CLAIM_QUEUED)
			return -MMK_EBUSY;
		if (!m->count[p] && claimants_of(md, p) == CLAIMS_MAX_CLAIMANTS)
			return -MMK_EUSERS;
		added += m->count[p] == 0;
	}
	if (added > model_available(md, (int)i))
		return -MMK_ENOMEM;
	for (uint64_t p = a; p < b; p++) {
		m->count[p]++;
		md->state[p] = CLAIM_CLAIMED;
	}
	return 0;
}

static void drop_page(struct model *md, uint64_t p)
{
	if (claimants_of(md, p) == 0)
		md->state[p] = CLAIM_QUEUED;
}

static int model_release(struct model *md, unsigned i, uint64_t a, uint64_t b)
{
	struct model_mop *m = &md->m[i];
	if (m->dead)
		return -MMK_EIDRM;
	for (uint64_t p = a; p < b; p++)
		if (!m->count[p])
			return -MMK_ENOENT;
	for (uint64_t p = a; p < b; p++) {
		m->count[p]--;
		drop_page(md, p);
	}
	return 0;
}

static void model_kill(struct model *md, unsigned i)
{
	md->m[i].dead = true;
	for (uint64_t p = 0; p < NPAGES; p++) {
		if (md->m[i].count[p]) {
			md->m[i].count[p] = 0;
			drop_page(md, p);
		}
	}
	for (unsigned j = 0; j < NMOP; j++)
		if (md->m[j].made && !md->m[j].dead && md->m[j].parent == (int)i)
			model_kill(md, j);
}

/* What claims_walk shows, page by page. */
struct seen {
	struct fx *f;
	uint8_t state[NPAGES];
	uint32_t count[NPAGES][NMOP];
};

static void collect(void *ctx, const struct claims_range_info *r)
{
	struct seen *sn = ctx;
	uint64_t first = (r->start - BASE) / PG, n = r->len / PG;
	for (uint64_t p = first; p < first + n; p++) {
		sn->state[p] = (uint8_t)r->state;
		for (unsigned k = 0; k < r->nclaimants; k++) {
			unsigned i = r->who[k]->id;
			assert_true(i < NMOP && r->who[k] == &sn->f->m[i].claimant);
			sn->count[p][i] = r->count[k];
		}
	}
}

static void model_compare(struct fx *f, const struct model *md, uint64_t step)
{
	CHECK(f);
	struct seen *sn = calloc(1, sizeof(*sn));
	assert_non_null(sn);
	sn->f = f;
	claims_walk(&f->c, collect, sn);
	for (uint64_t p = 0; p < NPAGES; p++) {
		if (sn->state[p] != md->state[p])
			fail_msg("step %llu: page %llu state %u, model %u", (unsigned long long)step,
				 (unsigned long long)p, sn->state[p], md->state[p]);
		for (unsigned i = 0; i < NMOP; i++)
			if (sn->count[p][i] != md->m[i].count[p])
				fail_msg("step %llu: page %llu MOP %u count %u, model %u", (unsigned long long)step,
					 (unsigned long long)p, i, sn->count[p][i], md->m[i].count[p]);
	}
	free(sn);
	for (unsigned i = 0; i < NMOP; i++) {
		const struct model_mop *m = &md->m[i];
		if (!m->made)
			continue;
		assert_int_equal(f->m[i].dead, m->dead);
		if (m->dead)
			continue;
		struct acct_usage u = usage(f->m[i].acct);
		assert_int_equal(u.limit, m->limit);
		assert_int_equal(u.charged, model_pages(md, i));
		assert_int_equal(u.donated, model_donated(md, (int)i));
		assert_int_equal(mop_pages(&f->m[i]), u.charged);
	}
	assert_int_equal(usage(acct_root(&f->acct)).available, model_available(md, -1));
}

/* A slot to create into: a free one, or a dead one (freed and reused). */
static int pick_slot(struct fx *f, struct model *md, uint64_t *s)
{
	unsigned i = (unsigned)(rnd(s) % NMOP);
	if (md->m[i].made && !md->m[i].dead)
		return -1;
	if (md->m[i].made) {
		assert_int_equal(claimant_fini(&f->m[i].claimant), 0);
		memset(&f->m[i], 0xa5, sizeof(f->m[i])); /* the caller owns a dead MOP's memory */
		f->made[i] = false;
		memset(&md->m[i], 0, sizeof(md->m[i]));
	}
	return (int)i;
}

static int step_create(struct fx *f, struct model *md, uint64_t *s)
{
	int i = pick_slot(f, md, s);
	if (i < 0)
		return 0;
	int parent = (int)(rnd(s) % (NMOP + 1)) - 1;
	if (parent >= 0 && !md->m[parent].made)
		parent = -1;
	uint64_t limit = 1 + rnd(s) % 80;
	int want = parent >= 0 && md->m[parent].dead ? -MMK_EIDRM
		   : limit > model_available(md, parent) ? -MMK_ENOMEM
							   : 0;
	int rc = parent < 0 ? mop_create(&f->m[i], &f->c, acct_root(&f->acct), limit, (uint32_t)i, "m")
			    : mop_create_child(&f->m[i], &f->m[parent], limit, (uint32_t)i, "c");
	assert_int_equal(rc, want);
	if (rc == 0) {
		f->made[i] = true;
		md->m[i] = (struct model_mop){ .made = true, .parent = parent, .limit = limit };
	}
	return rc;
}

/* One random step, checked against the model; returns its code. */
static int model_step(struct fx *f, struct model *md, uint64_t *s)
{
	unsigned i = (unsigned)(rnd(s) % NMOP);
	/* half the ranges crowd into 16 pages, so that five MOPs meet */
	uint64_t a = rnd(s) % 2 ? rnd(s) % NPAGES : rnd(s) % 16, n = 1 + rnd(s) % 24;
	uint64_t b = a + n > NPAGES ? NPAGES : a + n;
	unsigned what = (unsigned)(rnd(s) % 100);
	int want = 0;
	if (what < 20) {
		want = step_create(f, md, s);
	} else if (!md->m[i].made) {
		return 0;
	} else if (what < 65) {
		want = model_claim(md, i, a, b);
		assert_int_equal(mop_claim(&f->m[i], pg(a), (b - a) * PG), want);
	} else if (what < 85) {
		/* release mostly what it claims: start at one of its pages */
		for (uint64_t k = 0; k < NPAGES && !md->m[i].count[a]; k++)
			a = (a + 1) % NPAGES;
		b = a + n > NPAGES ? NPAGES : a + n;
		if (rnd(s) % 3)
			while (b > a + 1 && !md->m[i].count[b - 1])
				b--;
		want = model_release(md, i, a, b);
		assert_int_equal(mop_release(&f->m[i], pg(a), (b - a) * PG), want);
	} else if (what < 90) {
		want = md->m[i].dead ? -MMK_EIDRM : 0;
		assert_int_equal(mop_destroy(&f->m[i]), want);
		if (!want)
			model_kill(md, i);
	} else {
		while (claims_queued_ranges(&f->c))
			assert_int_equal(claims_revoke_batch(&f->c, CLAIMS_BATCH_MAX, NULL, NULL), 0);
		for (uint64_t p = 0; p < NPAGES; p++)
			if (md->state[p] == CLAIM_QUEUED)
				md->state[p] = CLAIM_FREE;
	}
	return want;
}

static void test_model(void **state)
{
	struct fx *f = *state;
	struct model *md = calloc(1, sizeof(*md));
	assert_non_null(md);
	uint64_t seed = 0x6d6f702d6d6f64ull, ok = 0, by_rc[128] = { 0 };
	for (uint64_t step = 0; step < 4000; step++) {
		uint64_t claimed = f->c.pages[CLAIM_CLAIMED];
		by_rc[-model_step(f, md, &seed)]++;
		ok += f->c.pages[CLAIM_CLAIMED] != claimed;
		model_compare(f, md, step);
	}
	unsigned live = 0;
	for (unsigned i = 0; i < NMOP; i++)
		live += md->m[i].made && !md->m[i].dead;
	printf("mop model: 4000 steps, %llu changed the claimed pages, %u MOPs alive, %llu claimed, %llu queued; "
	       "refused: ENOMEM %llu EUSERS %llu EBUSY %llu ENOENT %llu EIDRM %llu\n",
	       (unsigned long long)ok, live, (unsigned long long)f->c.pages[CLAIM_CLAIMED],
	       (unsigned long long)claims_queued_pages(&f->c), (unsigned long long)by_rc[MMK_ENOMEM],
	       (unsigned long long)by_rc[MMK_EUSERS], (unsigned long long)by_rc[MMK_EBUSY],
	       (unsigned long long)by_rc[MMK_ENOENT], (unsigned long long)by_rc[MMK_EIDRM]);
	assert_true(ok > 400);
	const int refusals[] = { MMK_ENOMEM, MMK_EUSERS, MMK_EBUSY, MMK_ENOENT, MMK_EIDRM };
	for (unsigned k = 0; k < sizeof(refusals) / sizeof(refusals[0]); k++)
		assert_true(by_rc[refusals[k]] > 0); /* the run reaches every refusal */
	free(md);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_charging_rule, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destroy_cascades, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_sweep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_model, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
