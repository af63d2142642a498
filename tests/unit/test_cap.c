/*
 * test_cap.c - the handle tables and the derivation tree (src/sys/cap.c)
 * on toy objects: every rule of mmk/cap.h with its exact error and proof
 * that nothing changed, revocation across tables and its O(derived) walk,
 * the checker catching broken invariants, an allocation-failure sweep, and
 * a long random sequence of install/derive/grant/close/revoke over several
 * tables against a reference model, checked after every step.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mmk/cap.h>
#include <mmk/errno.h>
#include <mmk/failpoint.h>

#include "kmem_fixture.h"

/* ---- a toy object type: counts its references, never freed ---- */

struct toy {
	struct cap_object co;
	uint32_t refs;
};

static void toy_get(struct cap_object *co) { ((struct toy *)co)->refs++; }
static void toy_put(struct cap_object *co) { ((struct toy *)co)->refs--; }
static uint32_t toy_refs(const struct cap_object *co) { return ((const struct toy *)co)->refs; }

static const struct cap_ops space_like = { CAP_TYPE_SPACE, "toy-space", CAP_RIGHTS_SPACE, toy_get, toy_put, toy_refs };
static const struct cap_ops mop_like = { CAP_TYPE_MOP, "toy-mop", CAP_RIGHTS_MOP, toy_get, toy_put, toy_refs };
static const struct cap_ops container_like = { CAP_TYPE_CONTAINER, "toy-container", CAP_RIGHTS_CONTAINER,
					       toy_get, toy_put, toy_refs };

#define NTABLES 4
#define NTOYS 3

struct fixture {
	struct kfx k;
	struct kmalloc_heap heap;
	struct cap_system cs;
	struct cap_table t[NTABLES];
	struct toy toys[NTOYS];
	uint64_t free0;
};

static void check(struct fixture *f)
{
	const char *why = NULL;
	if (cap_system_check(&f->cs, &why))
		fail_msg("cap_system_check: %s", why);
	for (int i = 0; i < NTOYS; i++)
		assert_int_equal(f->toys[i].refs, f->toys[i].co.handles);
	assert_int_equal(kmem_cache_live(&f->cs.handle_cache), f->cs.handles);
}

static struct fixture *boot(uint32_t max_handles)
{
	struct fixture *f = calloc(1, sizeof(*f));
	kfx_boot(&f->k, 1);
	f->free0 = kfx_free_frames(&f->k);
	assert_int_equal(kmalloc_init(&f->heap, &f->k.s.phys, KMEM_DEBUG_ALL), 0);
	assert_int_equal(cap_system_init(&f->cs, &f->k.s.phys, &f->heap), 0);
	for (int i = 0; i < NTABLES; i++)
		assert_int_equal(cap_table_init(&f->cs, &f->t[i], max_handles), 0);
	cap_object_init(&f->toys[0].co, &space_like);
	cap_object_init(&f->toys[1].co, &mop_like);
	cap_object_init(&f->toys[2].co, &container_like);
	check(f);
	return f;
}

static void shutdown(struct fixture *f)
{
	assert_int_equal(cap_system_fini(&f->cs), -MMK_EBUSY); /* tables alive */
	for (int i = 0; i < NTABLES; i++)
		cap_table_fini(&f->t[i]);
	check(f);
	for (int i = 0; i < NTOYS; i++)
		assert_int_equal(f->toys[i].refs, 0);
	assert_int_equal(cap_system_fini(&f->cs), 0);
	assert_int_equal(kmalloc_fini(&f->heap), 0);
	assert_int_equal(kfx_free_frames(&f->k), f->free0);
	kfx_shutdown(&f->k);
	free(f);
}

/* Everything observable: each table's slots with object, rights, parent. */
static char *snapshot(struct fixture *f)
{
	char *text = NULL;
	size_t size = 0;
	FILE *o = open_memstream(&text, &size);
	for (int i = 0; i < NTABLES; i++) {
		fprintf(o, "t%d count %u:", i, f->t[i].count);
		for (uint32_t s = 0; s < f->t[i].capacity; s++) {
			struct cap_handle *h = f->t[i].slots[s];
			if (!h)
				continue;
			fprintf(o, " [%u %s %#x ", s, h->obj->ops->name, h->rights);
			if (h->parent)
				fprintf(o, "<-t%ld:%d]", (long)(h->parent->table - f->t), h->parent->index);
			else
				fputs("root]", o);
		}
		fputc('\n', o);
	}
	for (int i = 0; i < NTOYS; i++)
		fprintf(o, "toy%d refs %u handles %u\n", i, f->toys[i].refs, f->toys[i].co.handles);
	fclose(o);
	return text;
}

/* Run call, expect want, and prove the state did not change. */
#define REFUSED(f, call, want)                                                                          \
	do {                                                                                                \
		char *before_ = snapshot(f);                                                                   \
		int rc_ = (call);                                                                           \
		if (rc_ != (want))                                                                          \
			fail_msg("%s: %d (%s), expected %s", #call, rc_, mmk_strerror(rc_), mmk_strerror(want)); \
		char *after_ = snapshot(f);                                                                    \
		if (strcmp(before_, after_))                                                                \
			fail_msg("%s changed the state:\n%s----\n%s", #call, before_, after_);             \
		free(before_);                                                                              \
		free(after_);                                                                               \
		check(f);                                                                                   \
	} while (0)

static cap_handle_t install(struct fixture *f, int table, int toy, cap_rights_t rights)
{
	cap_handle_t h;
	assert_int_equal(cap_install(&f->t[table], &f->toys[toy].co, rights, &h), 0);
	check(f);
	return h;
}

static cap_handle_t derive(struct fixture *f, int table, cap_handle_t h, cap_rights_t rights)
{
	cap_handle_t out;
	assert_int_equal(cap_derive(&f->t[table], h, rights, &out), 0);
	check(f);
	return out;
}

static cap_handle_t grant(struct fixture *f, int from, cap_handle_t h, int to, cap_rights_t rights)
{
	cap_handle_t out;
	assert_int_equal(cap_grant(&f->t[from], h, &f->t[to], rights, &out), 0);
	check(f);
	return out;
}

/* ---- unit tests ---- */

static void test_numbers_lowest_free(void **state)
{
	(void)state;
	struct fixture *f = boot(64);
	for (int i = 0; i < 20; i++)
		assert_int_equal(install(f, 0, 0, CAP_RIGHTS_SPACE), i); /* grows past 8 and 16 */
	assert_int_equal(cap_close(&f->t[0], 5), 0);
	assert_int_equal(cap_close(&f->t[0], 3), 0);
	check(f);
	assert_int_equal(install(f, 0, 0, CAP_RIGHT_READ), 3);
	assert_int_equal(install(f, 0, 0, CAP_RIGHT_READ), 5);
	assert_int_equal(install(f, 0, 0, CAP_RIGHT_READ), 20);
	shutdown(f);
}

static void test_lookup_rule(void **state)
{
	(void)state;
	struct fixture *f = boot(64);
	cap_handle_t h = install(f, 0, 0, CAP_RIGHT_READ | CAP_RIGHT_MAP);
	struct cap_handle *out = NULL;
	assert_int_equal(cap_lookup(&f->t[0], h, CAP_TYPE_SPACE, CAP_RIGHT_MAP, &out), 0);
	assert_ptr_equal(out->obj, &f->toys[0].co);
	assert_int_equal(cap_lookup(&f->t[0], h, CAP_TYPE_NONE, 0, &out), 0);
	/* bad numbers: EBADF */
	assert_int_equal(cap_lookup(&f->t[0], -1, CAP_TYPE_NONE, 0, &out), -MMK_EBADF);
	assert_int_equal(cap_lookup(&f->t[0], INT32_MIN, CAP_TYPE_NONE, 0, &out), -MMK_EBADF);
	assert_int_equal(cap_lookup(&f->t[0], 1, CAP_TYPE_NONE, 0, &out), -MMK_EBADF);   /* free slot */
	assert_int_equal(cap_lookup(&f->t[0], 8, CAP_TYPE_NONE, 0, &out), -MMK_EBADF);   /* past capacity */
	assert_int_equal(cap_lookup(&f->t[0], 1000, CAP_TYPE_NONE, 0, &out), -MMK_EBADF);
	assert_int_equal(cap_lookup(&f->t[1], h, CAP_TYPE_NONE, 0, &out), -MMK_EBADF);   /* another table */
	/* wrong type: EINVAL, before rights */
	assert_int_equal(cap_lookup(&f->t[0], h, CAP_TYPE_MOP, CAP_RIGHT_CLAIM, &out), -MMK_EINVAL);
	/* missing right: EPERM */
	assert_int_equal(cap_lookup(&f->t[0], h, CAP_TYPE_SPACE, CAP_RIGHT_WRITE, &out), -MMK_EPERM);
	assert_int_equal(cap_lookup(&f->t[0], h, CAP_TYPE_SPACE, CAP_RIGHT_MAP | CAP_RIGHT_EXEC, &out), -MMK_EPERM);
	/* closed handle: EBADF, and closing twice too */
	assert_int_equal(cap_close(&f->t[0], h), 0);
	REFUSED(f, cap_lookup(&f->t[0], h, CAP_TYPE_NONE, 0, &out), -MMK_EBADF);
	REFUSED(f, cap_close(&f->t[0], h), -MMK_EBADF);
	REFUSED(f, cap_revoke(&f->t[0], h, NULL), -MMK_EBADF);
	shutdown(f);
}

static void test_install_rights_of_type(void **state)
{
	(void)state;
	struct fixture *f = boot(64);
	cap_handle_t h;
	/* A MOP handle can never carry a memory-access right (seed 000). */
	REFUSED(f, cap_install(&f->t[0], &f->toys[1].co, CAP_RIGHT_READ, &h), -MMK_EINVAL);
	REFUSED(f, cap_install(&f->t[0], &f->toys[1].co, CAP_RIGHT_MAP | CAP_RIGHT_CLAIM, &h), -MMK_EINVAL);
	REFUSED(f, cap_install(&f->t[0], &f->toys[1].co, CAP_RIGHT_WRITE, &h), -MMK_EINVAL);
	REFUSED(f, cap_install(&f->t[0], &f->toys[0].co, CAP_RIGHT_CLAIM, &h), -MMK_EINVAL);
	cap_handle_t mop = install(f, 0, 1, CAP_RIGHTS_MOP);
	/* and no derivation can add one */
	REFUSED(f, cap_derive(&f->t[0], mop, CAP_RIGHT_CLAIM | CAP_RIGHT_READ, &h), -MMK_EPERM);
	cap_handle_t claim_only = derive(f, 0, mop, CAP_RIGHT_CLAIM);
	assert_int_equal(f->t[0].slots[claim_only]->rights, CAP_RIGHT_CLAIM);
	/* A weak container handle (seed 001): no ALLOC, DEALLOC, TAKE. */
	cap_handle_t c = install(f, 0, 2, CAP_RIGHTS_CONTAINER);
	cap_handle_t weak = derive(f, 0, c, CAP_RIGHTS_CONTAINER_WEAK);
	struct cap_handle *out;
	assert_int_equal(cap_lookup(&f->t[0], weak, CAP_TYPE_CONTAINER, CAP_RIGHT_READ | CAP_RIGHT_WRITE, &out), 0);
	assert_int_equal(cap_lookup(&f->t[0], weak, CAP_TYPE_CONTAINER, CAP_RIGHT_ALLOC, &out), -MMK_EPERM);
	assert_int_equal(cap_lookup(&f->t[0], weak, CAP_TYPE_CONTAINER, CAP_RIGHT_DEALLOC, &out), -MMK_EPERM);
	assert_int_equal(cap_lookup(&f->t[0], weak, CAP_TYPE_CONTAINER, CAP_RIGHT_TAKE, &out), -MMK_EPERM);
	shutdown(f);
}

static void test_derive_rules(void **state)
{
	(void)state;
	struct fixture *f = boot(64);
	cap_handle_t full = install(f, 0, 0, CAP_RIGHTS_SPACE);
	cap_handle_t ro = derive(f, 0, full, CAP_RIGHT_READ | CAP_RIGHT_DERIVE);
	cap_handle_t out;
	/* more rights than the source: EPERM */
	REFUSED(f, cap_derive(&f->t[0], ro, CAP_RIGHT_READ | CAP_RIGHT_WRITE, &out), -MMK_EPERM);
	/* unknown bits: EINVAL */
	REFUSED(f, cap_derive(&f->t[0], ro, 1u << 30, &out), -MMK_EINVAL);
	/* no DERIVE right: EPERM (before the rights argument is looked at) */
	cap_handle_t nod = derive(f, 0, ro, CAP_RIGHT_READ);
	REFUSED(f, cap_derive(&f->t[0], nod, CAP_RIGHT_READ, &out), -MMK_EPERM);
	REFUSED(f, cap_derive(&f->t[0], nod, 1u << 30, &out), -MMK_EPERM);
	REFUSED(f, cap_derive(&f->t[0], 40, CAP_RIGHT_READ, &out), -MMK_EBADF);
	/* the same rights, and none at all, are subsets */
	cap_handle_t same = derive(f, 0, ro, CAP_RIGHT_READ | CAP_RIGHT_DERIVE);
	cap_handle_t none = derive(f, 0, ro, 0);
	assert_ptr_equal(f->t[0].slots[same]->parent, f->t[0].slots[ro]);
	assert_ptr_equal(f->t[0].slots[none]->parent, f->t[0].slots[ro]);
	assert_int_equal(f->toys[0].refs, 5);
	shutdown(f);
}

static void test_grant_rules(void **state)
{
	(void)state;
	struct fixture *f = boot(64);
	cap_handle_t full = install(f, 0, 0, CAP_RIGHTS_SPACE);
	cap_handle_t nogrant = derive(f, 0, full, CAP_RIGHT_READ | CAP_RIGHT_DERIVE);
	cap_handle_t out;
	REFUSED(f, cap_grant(&f->t[0], nogrant, &f->t[1], CAP_RIGHT_READ, &out), -MMK_EPERM);
	REFUSED(f, cap_grant(&f->t[0], full, &f->t[1], CAP_RIGHTS_SPACE | CAP_RIGHT_CLAIM, &out), -MMK_EPERM);
	REFUSED(f, cap_grant(&f->t[0], full, &f->t[1], 0x80000000u, &out), -MMK_EINVAL);
	REFUSED(f, cap_grant(&f->t[0], -3, &f->t[1], 0, &out), -MMK_EBADF);
	cap_handle_t g = grant(f, 0, full, 1, CAP_RIGHT_READ | CAP_RIGHT_GRANT);
	assert_int_equal(g, 0);
	assert_ptr_equal(f->t[1].slots[g]->parent, f->t[0].slots[full]);
	/* the receiver may pass it on, weaker still */
	cap_handle_t g2 = grant(f, 1, g, 2, CAP_RIGHT_READ);
	assert_ptr_equal(f->t[2].slots[g2]->parent, f->t[1].slots[g]);
	REFUSED(f, cap_grant(&f->t[2], g2, &f->t[3], CAP_RIGHT_READ, &out), -MMK_EPERM);
	shutdown(f);
}

static void test_revoke_transitive_every_table(void **state)
{
	(void)state;
	struct fixture *f = boot(64);
	cap_handle_t root = install(f, 0, 0, CAP_RIGHTS_SPACE);
	cap_handle_t a = grant(f, 0, root, 1, CAP_RIGHTS_SPACE);
	cap_handle_t b = grant(f, 1, a, 2, CAP_RIGHTS_SPACE);
	cap_handle_t c = derive(f, 2, b, CAP_RIGHT_READ);
	cap_handle_t d = grant(f, 0, root, 3, CAP_RIGHT_READ);
	cap_handle_t other = install(f, 1, 0, CAP_RIGHT_READ); /* another root of the same object */
	uint64_t n = 0;
	/* revoking a leaf removes nothing */
	assert_int_equal(cap_revoke(&f->t[2], c, &n), 0);
	assert_int_equal(n, 0);
	/* revoking a: b and c go, a stays */
	assert_int_equal(cap_revoke(&f->t[1], a, &n), 0);
	check(f);
	assert_int_equal(n, 2);
	assert_int_equal(f->t[2].count, 0);
	assert_non_null(f->t[1].slots[a]);
	assert_non_null(f->t[3].slots[d]);
	/* revoking the root: a and d go, the unrelated root stays */
	assert_int_equal(cap_revoke(&f->t[0], root, &n), 0);
	check(f);
	assert_int_equal(n, 2);
	assert_null(f->t[1].slots[a]);
	assert_null(f->t[3].slots[d]);
	assert_non_null(f->t[1].slots[other]);
	assert_int_equal(f->toys[0].refs, 2);
	shutdown(f);
}

static void test_close_reparents(void **state)
{
	(void)state;
	struct fixture *f = boot(64);
	cap_handle_t root = install(f, 0, 0, CAP_RIGHTS_SPACE);
	cap_handle_t mid = grant(f, 0, root, 1, CAP_RIGHTS_SPACE);
	cap_handle_t leaf1 = grant(f, 1, mid, 2, CAP_RIGHT_READ);
	cap_handle_t leaf2 = derive(f, 1, mid, CAP_RIGHT_MAP);
	assert_int_equal(cap_close(&f->t[1], mid), 0);
	check(f);
	assert_ptr_equal(f->t[2].slots[leaf1]->parent, f->t[0].slots[root]);
	assert_ptr_equal(f->t[1].slots[leaf2]->parent, f->t[0].slots[root]);
	/* what mid derived is still revocable from root */
	uint64_t n;
	assert_int_equal(cap_revoke(&f->t[0], root, &n), 0);
	assert_int_equal(n, 2);
	check(f);
	/* closing a root with children makes them roots */
	cap_handle_t c1 = derive(f, 0, root, CAP_RIGHT_READ);
	assert_int_equal(cap_close(&f->t[0], root), 0);
	check(f);
	assert_null(f->t[0].slots[c1]->parent);
	assert_ptr_equal(f->toys[0].co.roots, f->t[0].slots[c1]);
	shutdown(f);
}

static void test_table_full_and_limits(void **state)
{
	(void)state;
	struct cap_table t;
	struct fixture *f = boot(4);
	REFUSED(f, cap_table_init(&f->cs, &t, 0), -MMK_EINVAL);
	REFUSED(f, cap_table_init(&f->cs, &t, CAP_TABLE_LIMIT + 1), -MMK_EINVAL);
	cap_handle_t h = install(f, 0, 0, CAP_RIGHTS_SPACE);
	for (int i = 0; i < 3; i++)
		derive(f, 0, h, CAP_RIGHT_READ);
	cap_handle_t out;
	REFUSED(f, cap_derive(&f->t[0], h, CAP_RIGHT_READ, &out), -MMK_EMFILE);
	REFUSED(f, cap_install(&f->t[0], &f->toys[0].co, 0, &out), -MMK_EMFILE);
	cap_handle_t other = install(f, 1, 0, CAP_RIGHTS_SPACE);
	REFUSED(f, cap_grant(&f->t[1], other, &f->t[0], 0, &out), -MMK_EMFILE);
	assert_int_equal(f->t[0].capacity, 4);
	shutdown(f);
}

static void test_revoke_all_and_table_fini(void **state)
{
	(void)state;
	struct fixture *f = boot(64);
	cap_handle_t r1 = install(f, 0, 0, CAP_RIGHTS_SPACE);
	cap_handle_t r2 = install(f, 1, 0, CAP_RIGHTS_SPACE);
	grant(f, 0, r1, 2, CAP_RIGHT_READ);
	grant(f, 1, r2, 3, CAP_RIGHT_READ);
	derive(f, 1, r2, 0);
	cap_handle_t keep = install(f, 2, 1, CAP_RIGHTS_MOP);
	cap_lock(&f->cs);
	assert_int_equal(cap_object_revoke_all(&f->cs, &f->toys[0].co), 5);
	cap_unlock(&f->cs);
	check(f);
	assert_int_equal(f->toys[0].refs, 0);
	assert_int_equal(f->cs.handles, 1);
	/* a table that goes hands its handles' children up */
	cap_handle_t g = grant(f, 2, keep, 3, CAP_RIGHT_CLAIM | CAP_RIGHT_GRANT);
	cap_handle_t gg = grant(f, 3, g, 1, CAP_RIGHT_CLAIM);
	cap_table_fini(&f->t[3]);
	check(f);
	assert_ptr_equal(f->t[1].slots[gg]->parent, f->t[2].slots[keep]);
	assert_int_equal(cap_table_init(&f->cs, &f->t[3], 64), 0);
	shutdown(f);
}

/* Revocation steps on the revoked subtree only: 2 * removed + 1 visits,
 * however many unrelated handles the tables hold; a chain of 20000
 * derivations is removed without recursion. */
static void test_revoke_is_o_derived(void **state)
{
	(void)state;
	struct fixture *f = boot(CAP_TABLE_LIMIT);
	cap_handle_t big = install(f, 0, 2, CAP_RIGHTS_CONTAINER);
	cap_lock(&f->cs);
	for (int i = 0; i < 30000; i++) {
		cap_handle_t x;
		assert_int_equal(cap_grant(&f->t[0], big, &f->t[1 + i % 3], CAP_RIGHT_READ, &x), 0);
	}
	cap_handle_t root = install(f, 0, 0, CAP_RIGHTS_SPACE);
	cap_handle_t prev = root;
	int table = 0;
	for (int i = 0; i < 20000; i++) {
		cap_handle_t x;
		int next = (table + 1) % NTABLES;
		assert_int_equal(cap_grant(&f->t[table], prev, &f->t[next], CAP_RIGHTS_SPACE, &x), 0);
		prev = x;
		table = next;
	}
	cap_unlock(&f->cs);
	check(f);
	uint64_t visits0 = f->cs.revoke_visits, n = 0;
	assert_int_equal(cap_revoke(&f->t[0], root, &n), 0);
	assert_int_equal(n, 20000);
	assert_int_equal(f->cs.revoke_visits - visits0, 2 * n + 1);
	check(f);
	/* a wide tree: 1000 children of one handle, each with 3 children */
	cap_lock(&f->cs);
	for (int i = 0; i < 1000; i++) {
		cap_handle_t c, x;
		assert_int_equal(cap_grant(&f->t[0], root, &f->t[1], CAP_RIGHTS_SPACE, &c), 0);
		for (int j = 0; j < 3; j++)
			assert_int_equal(cap_grant(&f->t[1], c, &f->t[2 + j % 2], CAP_RIGHT_READ, &x), 0);
	}
	cap_unlock(&f->cs);
	visits0 = f->cs.revoke_visits;
	assert_int_equal(cap_revoke(&f->t[0], root, &n), 0);
	assert_int_equal(n, 4000);
	assert_int_equal(f->cs.revoke_visits - visits0, 2 * n + 1);
	assert_int_equal(f->cs.handles, 30002);
	check(f);
	shutdown(f);
}

/* The checker re-derives: each corruption is found, then undone. */
static void test_checker_catches(void **state)
{
	(void)state;
	struct fixture *f = boot(64);
	cap_handle_t root = install(f, 0, 0, CAP_RIGHT_READ | CAP_RIGHT_GRANT);
	cap_handle_t child = grant(f, 0, root, 1, CAP_RIGHT_READ);
	struct cap_handle *c = f->t[1].slots[child], *r = f->t[0].slots[root];
	const char *why = NULL;

	c->rights |= CAP_RIGHT_WRITE; /* more than its parent */
	assert_int_equal(cap_system_check(&f->cs, &why), -MMK_EINVAL);
	assert_non_null(strstr(why, "parent lacks"));
	c->rights = CAP_RIGHT_READ;

	f->toys[0].co.handles++; /* count without a handle */
	assert_int_equal(cap_system_check(&f->cs, &why), -MMK_EINVAL);
	assert_non_null(strstr(why, "handle count"));
	f->toys[0].co.handles--;

	r->first_child = NULL; /* a handle no forest reaches */
	assert_int_equal(cap_system_check(&f->cs, &why), -MMK_EINVAL);
	r->first_child = c;

	c->first_child = r; /* a cycle */
	assert_int_equal(cap_system_check(&f->cs, &why), -MMK_EINVAL);
	c->first_child = NULL;

	f->t[1].count++;
	assert_int_equal(cap_table_check(&f->t[1], &why), -MMK_EINVAL);
	f->t[1].count--;

	c->index = 5; /* says it is in another slot */
	assert_int_equal(cap_table_check(&f->t[1], &why), -MMK_EINVAL);
	c->index = child;

	f->toys[0].refs = 1; /* fewer references than handles */
	assert_int_equal(cap_system_check(&f->cs, &why), -MMK_EINVAL);
	f->toys[0].refs = 2;
	check(f);
	shutdown(f);
}

/* Fail the k-th allocation for every k: ENOMEM and nothing changed. */
static void test_failure_sweep(void **state)
{
	(void)state;
	struct fixture *f = boot(64);
	struct mmk_failpoint *fp = &f->k.s.failpoint;
	cap_handle_t root = install(f, 0, 0, CAP_RIGHTS_SPACE);
	for (int round = 0; round < 40; round++) { /* crosses the slot-array growths */
		int kind = round % 3;
		for (uint64_t n = 1;; n++) {
			char *before = snapshot(f);
			cap_handle_t out;
			mmk_failpoint_arm(fp, n, false);
			int rc = kind == 0 ? cap_derive(&f->t[0], root, CAP_RIGHT_READ, &out)
				 : kind == 1 ? cap_grant(&f->t[0], root, &f->t[1 + round % 3], CAP_RIGHT_MAP, &out)
					     : cap_install(&f->t[round % 4], &f->toys[1].co, CAP_RIGHT_CLAIM, &out);
			mmk_failpoint_arm(fp, 0, false);
			check(f);
			if (rc == 0) {
				free(before);
				break;
			}
			assert_int_equal(rc, -MMK_ENOMEM);
			char *after = snapshot(f);
			assert_string_equal(before, after);
			free(before);
			free(after);
			assert_true(n < 10);
		}
	}
	shutdown(f);
}

/* ---- the reference model ---- */

#define MODEL_MAX 4096
#define MODEL_TABLE 24

struct mh {
	bool live;
	int table, index, toy, parent; /* parent: model id or -1 */
	cap_rights_t rights;
};

struct model {
	struct mh h[MODEL_MAX];
	int n;
	int slot[NTABLES][MODEL_TABLE]; /* model id or -1 */
};

static int model_lowest_free(struct model *m, int table)
{
	for (int i = 0; i < MODEL_TABLE; i++)
		if (m->slot[table][i] < 0)
			return i;
	return -1;
}

static int model_add(struct model *m, int table, int toy, cap_rights_t rights, int parent)
{
	int idx = model_lowest_free(m, table);
	assert_true(idx >= 0 && m->n < MODEL_MAX);
	int id = m->n++;
	m->h[id] = (struct mh){ true, table, idx, toy, parent, rights };
	m->slot[table][idx] = id;
	return idx;
}

static void model_remove(struct model *m, int id)
{
	m->h[id].live = false;
	m->slot[m->h[id].table][m->h[id].index] = -1;
}

static bool model_descends(struct model *m, int id, int ancestor)
{
	for (int p = m->h[id].parent; p >= 0; p = m->h[p].parent)
		if (p == ancestor)
			return true;
	return false;
}

static int model_revoke(struct model *m, int id)
{
	int removed = 0;
	for (int i = 0; i < m->n; i++)
		if (m->h[i].live && model_descends(m, i, id)) {
			model_remove(m, i);
			removed++;
		}
	return removed;
}

static void model_close(struct model *m, int id)
{
	for (int i = 0; i < m->n; i++)
		if (m->h[i].live && m->h[i].parent == id)
			m->h[i].parent = m->h[id].parent;
	model_remove(m, id);
}

/* The tables must be the model, slot by slot. */
static void model_compare(struct fixture *f, struct model *m)
{
	uint32_t toy_handles[NTOYS] = { 0 };
	for (int t = 0; t < NTABLES; t++)
		for (int i = 0; i < MODEL_TABLE; i++) {
			int id = m->slot[t][i];
			struct cap_handle *h = (uint32_t)i < f->t[t].capacity ? f->t[t].slots[i] : NULL;
			if (id < 0) {
				if (h)
					fail_msg("table %d slot %d: a handle the model does not have", t, i);
				continue;
			}
			if (!h)
				fail_msg("table %d slot %d: missing handle", t, i);
			toy_handles[m->h[id].toy]++;
			assert_ptr_equal(h->obj, &f->toys[m->h[id].toy].co);
			assert_int_equal(h->rights, m->h[id].rights);
			int p = m->h[id].parent;
			if (p < 0)
				assert_null(h->parent);
			else
				assert_ptr_equal(h->parent, f->t[m->h[p].table].slots[m->h[p].index]);
		}
	for (int i = 0; i < NTOYS; i++)
		assert_int_equal(f->toys[i].refs, toy_handles[i]);
}

static cap_rights_t random_rights(uint64_t *seed, cap_rights_t base)
{
	uint64_t r = kfx_rand(seed);
	if (r % 8 == 0)
		return (cap_rights_t)(kfx_rand(seed) & 0xffffffffu); /* anything, unknown bits too */
	if (r % 8 == 1)
		return base | (1u << (kfx_rand(seed) % 21)); /* maybe one too many */
	return base & (cap_rights_t)kfx_rand(seed);
}

/* Expected result of derive/grant by the model's rules. */
static int model_copy_rc(struct model *m, int id, cap_rights_t need, cap_rights_t rights, int dst)
{
	if (id < 0)
		return -MMK_EBADF;
	if (need & ~m->h[id].rights)
		return -MMK_EPERM;
	if (rights & ~CAP_RIGHTS_KNOWN)
		return -MMK_EINVAL;
	if (rights & ~m->h[id].rights)
		return -MMK_EPERM;
	return model_lowest_free(m, dst) < 0 ? -MMK_EMFILE : 0;
}

static void test_model_random(void **state)
{
	(void)state;
	struct fixture *f = boot(MODEL_TABLE);
	struct model *m = calloc(1, sizeof(*m));
	memset(m->slot, 0xff, sizeof(m->slot));
	uint64_t seed = 0x5eed0cab5ull;
	const struct cap_ops *ops[NTOYS] = { &space_like, &mop_like, &container_like };
	uint64_t stats[5] = { 0 }, refused = 0;
	for (int step = 0; step < 20000 && m->n < MODEL_MAX - 2; step++) {
		int table = (int)(kfx_rand(&seed) % NTABLES), dst = (int)(kfx_rand(&seed) % NTABLES);
		cap_handle_t h = (cap_handle_t)(kfx_rand(&seed) % (MODEL_TABLE + 4)) - 2;
		if (kfx_rand(&seed) % 10 < 7) /* mostly a live handle, so trees grow deep */
			for (int tries = 0; tries < 8 && (h < 0 || h >= MODEL_TABLE || m->slot[table][h] < 0); tries++)
				h = (cap_handle_t)(kfx_rand(&seed) % MODEL_TABLE);
		int id = h >= 0 && h < MODEL_TABLE ? m->slot[table][h] : -1;
		int op = (int)(kfx_rand(&seed) % 100);
		cap_handle_t out = -7;
		int rc, want;
		if (op < 8) { /* install a root */
			int toy = (int)(kfx_rand(&seed) % NTOYS);
			cap_rights_t r = random_rights(&seed, ops[toy]->rights);
			want = (r & ~ops[toy]->rights) ? -MMK_EINVAL : model_lowest_free(m, table) < 0 ? -MMK_EMFILE : 0;
			rc = cap_install(&f->t[table], &f->toys[toy].co, r, &out);
			if (!want)
				assert_int_equal(out, model_add(m, table, toy, r, -1));
			stats[0]++;
		} else if (op < 70) { /* derive (same table) or grant (dst) */
			bool is_grant = op >= 40;
			int to = is_grant ? dst : table;
			cap_rights_t r = random_rights(&seed, id >= 0 ? m->h[id].rights : CAP_RIGHTS_KNOWN);
			cap_rights_t need = is_grant ? CAP_RIGHT_GRANT : CAP_RIGHT_DERIVE;
			want = model_copy_rc(m, id, need, r, to);
			rc = is_grant ? cap_grant(&f->t[table], h, &f->t[to], r, &out) : cap_derive(&f->t[table], h, r, &out);
			if (!want)
				assert_int_equal(out, model_add(m, to, m->h[id].toy, r, id));
			stats[is_grant ? 2 : 1]++;
		} else if (op < 85) {
			want = id < 0 ? -MMK_EBADF : 0;
			rc = cap_close(&f->t[table], h);
			if (!want)
				model_close(m, id);
			stats[3]++;
		} else {
			uint64_t n = 99;
			want = id < 0 ? -MMK_EBADF : 0;
			rc = cap_revoke(&f->t[table], h, &n);
			if (!want)
				assert_int_equal(n, (uint64_t)model_revoke(m, id));
			stats[4]++;
		}
		if (rc != want)
			fail_msg("step %d op %d table %d handle %d: rc %s, model says %s", step, op, table, h,
				 mmk_strerror(rc), mmk_strerror(want));
		refused += rc != 0;
		check(f);
		model_compare(f, m);
	}
	uint32_t depth = 0;
	for (int i = 0; i < m->n; i++) {
		uint32_t d = 0;
		for (int p = m->h[i].parent; p >= 0; p = m->h[p].parent)
			d++;
		depth = d > depth ? d : depth;
	}
	printf("deepest derivation %u; ", depth);
	printf("model: %llu installs, %llu derives, %llu grants, %llu closes, %llu revokes, %llu refused, "
	       "%llu handles live\n",
	       (unsigned long long)stats[0], (unsigned long long)stats[1], (unsigned long long)stats[2],
	       (unsigned long long)stats[3], (unsigned long long)stats[4], (unsigned long long)refused,
	       (unsigned long long)f->cs.handles);
	assert_true(stats[4] > 100 && refused > 100 && refused < 19000);
	free(m);
	shutdown(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numbers_lowest_free),
		cmocka_unit_test(test_lookup_rule),
		cmocka_unit_test(test_install_rights_of_type),
		cmocka_unit_test(test_derive_rules),
		cmocka_unit_test(test_grant_rules),
		cmocka_unit_test(test_revoke_transitive_every_table),
		cmocka_unit_test(test_close_reparents),
		cmocka_unit_test(test_table_full_and_limits),
		cmocka_unit_test(test_revoke_all_and_table_fini),
		cmocka_unit_test(test_revoke_is_o_derived),
		cmocka_unit_test(test_checker_catches),
		cmocka_unit_test(test_failure_sweep),
		cmocka_unit_test(test_model_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
