/*
 * test_acct: hierarchical accounts (seed 001's split, seed 000's MOP limits):
 * the split rule, charges up to the limit and no further, refusals with
 * nothing changed, destroy cascading through holders and returning the
 * guarantee, shared accounts, kernel-object bytes, the printed tree, the
 * allocation-failure sweep, and a reference model over long random runs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include <mmk/acct.h>
#include <mmk/errno.h>

#include "kmem_fixture.h"

static void check(struct acct_system *s)
{
	const char *why = NULL;
	if (acct_check(s, &why))
		fail_msg("acct_check: %s", why);
}

static struct acct_usage usage(struct mmk_account *a)
{
	struct acct_usage u;
	acct_get_usage(a, &u);
	return u;
}

/* A holder standing for an address space that charged `frames`. */
struct fake_holder {
	struct acct_holder h;
	uint64_t frames;
	unsigned released;
};

static void fake_release(struct acct_holder *h)
{
	struct fake_holder *f = (struct fake_holder *)h;
	acct_uncharge(h->acct, f->frames);
	f->frames = 0;
	f->released++;
	acct_holder_detach(h);
}

static void fake_attach(struct fake_holder *f, struct mmk_account *a, uint64_t frames)
{
	memset(f, 0, sizeof(*f));
	assert_int_equal(acct_holder_attach(a, &f->h, fake_release), 0);
	assert_int_equal(acct_charge(a, frames), 0);
	f->frames = frames;
}

static void test_split_rule(void **state)
{
	(void)state;
	struct kfx fx;
	kfx_boot(&fx, 1);
	struct acct_system s;
	assert_int_equal(acct_system_init(&s, &fx.s.phys, 1000), 0);
	struct mmk_account *root = acct_root(&s), *a, *b;
	assert_int_equal(acct_split(root, 100, "A", &a), 0);
	assert_int_equal(acct_split(a, 10, "B", &b), 0);
	check(&s);
	/* A holds 100 and split B with 10: A guarantees 90, B 10. */
	assert_int_equal(usage(a).available, 90);
	assert_int_equal(usage(b).available, 10);
	assert_int_equal(usage(root).available, 900);
	/* B draws only on its own 10. */
	assert_int_equal(acct_charge(b, 11), -MMK_ENOMEM);
	assert_int_equal(usage(b).failcnt, 1);
	assert_int_equal(usage(b).charged, 0);
	assert_int_equal(acct_charge(b, 10), 0);
	assert_int_equal(acct_charge(b, 1), -MMK_ENOMEM);
	/* ...and A's 90 are untouched by B's exhaustion. */
	assert_int_equal(acct_charge(a, 90), 0);
	assert_int_equal(acct_charge(a, 1), -MMK_ENOMEM);
	assert_int_equal(usage(a).charged, 90);
	assert_int_equal(usage(a).peak_charged, 90);
	check(&s);
	acct_uncharge(a, 90);
	acct_uncharge(b, 10);
	assert_int_equal(usage(b).peak_charged, 10);
	check(&s);
	assert_int_equal(acct_system_fini(&s), 0);
	kfx_shutdown(&fx);
}

static void assert_same(struct mmk_account *a, const struct acct_usage *before)
{
	struct acct_usage now = usage(a);
	assert_int_equal(now.limit, before->limit);
	assert_int_equal(now.donated, before->donated);
	assert_int_equal(now.charged, before->charged);
	assert_int_equal(now.children, before->children);
	assert_int_equal(now.holders, before->holders);
	assert_int_equal(now.refs, before->refs);
}

static void test_refusals_change_nothing(void **state)
{
	(void)state;
	struct kfx fx;
	kfx_boot(&fx, 1);
	struct acct_system s;
	assert_int_equal(acct_system_init(NULL, &fx.s.phys, 10), -MMK_EINVAL);
	assert_int_equal(acct_system_init(&s, &fx.s.phys, 100), 0);
	struct mmk_account *root = acct_root(&s), *a = NULL, *dead;
	struct acct_usage before = usage(root);
	assert_int_equal(acct_split(root, 0, "zero", &a), -MMK_EINVAL);
	assert_int_equal(acct_split(NULL, 1, "x", &a), -MMK_EINVAL);
	assert_int_equal(acct_split(root, 1, "x", NULL), -MMK_EINVAL);
	assert_int_equal(acct_split(root, 101, "big", &a), -MMK_ENOMEM);
	assert_null(a);
	assert_same(root, &before);
	/* The failpoint: the struct cannot be allocated. */
	mmk_failpoint_arm(&fx.s.failpoint, 1, false);
	int err = acct_split(root, 5, "fp", &a);
	mmk_failpoint_arm(&fx.s.failpoint, 0, false);
	if (err == 0) /* the cache had a free object: no allocation reached the failpoint */
		assert_int_equal(acct_destroy(a), 0);
	else
		assert_int_equal(err, -MMK_ENOMEM);
	assert_same(root, &before);
	check(&s);
	/* Dead accounts refuse everything but uncharge and put. */
	assert_int_equal(acct_split(root, 5, "dead", &dead), 0);
	acct_get(dead);
	assert_int_equal(acct_destroy(dead), 0);
	assert_int_equal(acct_destroy(dead), -MMK_EIDRM);
	assert_int_equal(acct_charge(dead, 1), -MMK_EIDRM);
	assert_int_equal(acct_split(dead, 1, "c", &a), -MMK_EIDRM);
	struct fake_holder f = { 0 };
	assert_int_equal(acct_holder_attach(dead, &f.h, fake_release), -MMK_EIDRM);
	assert_null(f.h.acct);
	assert_true(usage(dead).dead);
	acct_put(dead);
	assert_same(root, &before);
	check(&s);
	/* A holder cannot be attached twice. */
	fake_attach(&f, root, 3);
	assert_int_equal(acct_holder_attach(root, &f.h, fake_release), -MMK_EINVAL);
	acct_uncharge(root, 3);
	acct_holder_detach(&f.h);
	acct_holder_detach(&f.h); /* harmless */
	assert_same(root, &before);
	assert_int_equal(acct_system_fini(&s), 0);
	kfx_shutdown(&fx);
}

static void test_destroy_cascades(void **state)
{
	(void)state;
	struct kfx fx;
	kfx_boot(&fx, 1);
	struct acct_system s;
	assert_int_equal(acct_system_init(&s, &fx.s.phys, 1000), 0);
	struct mmk_account *root = acct_root(&s), *a, *b, *c, *d;
	assert_int_equal(acct_split(root, 300, "A", &a), 0);
	assert_int_equal(acct_split(a, 100, "B", &b), 0);
	assert_int_equal(acct_split(b, 40, "C", &c), 0);
	assert_int_equal(acct_split(root, 50, "D", &d), 0);
	struct fake_holder ha, hb, hc1, hc2, hd;
	fake_attach(&ha, a, 20);
	fake_attach(&hb, b, 60);
	fake_attach(&hc1, c, 15);
	fake_attach(&hc2, c, 25); /* two tasks sharing C */
	fake_attach(&hd, d, 7);
	check(&s);
	assert_int_equal(usage(c).available, 0);
	assert_int_equal(usage(c).holders, 2);
	/* Destroying B takes C with it and releases exactly their holders. */
	acct_get(c);
	assert_int_equal(acct_destroy(b), 0);
	check(&s);
	assert_int_equal(hb.released, 1);
	assert_int_equal(hc1.released, 1);
	assert_int_equal(hc2.released, 1);
	assert_int_equal(ha.released, 0);
	assert_int_equal(hd.released, 0);
	assert_true(usage(c).dead);
	assert_int_equal(usage(c).refs, 1); /* ours: the tree's went */
	acct_put(c);
	/* B's 100 are back with A, which still carries its own 20. */
	assert_int_equal(usage(a).available, 280);
	assert_int_equal(usage(a).children, 0);
	/* Destroying the root empties the tree but keeps the root. */
	assert_int_equal(acct_destroy(root), 0);
	assert_int_equal(ha.released, 1);
	assert_int_equal(hd.released, 1);
	assert_int_equal(usage(root).available, 1000);
	assert_false(usage(root).dead);
	check(&s);
	assert_int_equal(s.live, 1);
	assert_int_equal(acct_system_fini(&s), 0);
	kfx_shutdown(&fx);
}

static void test_kernel_object_bytes(void **state)
{
	(void)state;
	struct kfx fx;
	kfx_boot(&fx, 1);
	struct acct_system s;
	assert_int_equal(acct_system_init(&s, &fx.s.phys, 3), 0);
	struct mmk_account *root = acct_root(&s);
	assert_int_equal(acct_charge_bytes(root, 100), 0);
	assert_int_equal(usage(root).charged, 1);
	assert_int_equal(acct_charge_bytes(root, 4000), 0);
	assert_int_equal(usage(root).charged, 2); /* 4100 bytes */
	assert_int_equal(acct_charge_bytes(root, 8192), -MMK_ENOMEM); /* 12292 bytes > 3 frames */
	assert_int_equal(usage(root).kobj_bytes, 4100);
	assert_int_equal(usage(root).charged, 2);
	assert_int_equal(acct_charge_bytes(root, 8188), 0); /* exactly 12288 */
	assert_int_equal(usage(root).charged, 3);
	acct_uncharge_bytes(root, 8188);
	acct_uncharge_bytes(root, 4100);
	assert_int_equal(usage(root).charged, 0);
	assert_int_equal(usage(root).kobj_bytes, 0);
	check(&s);
	assert_int_equal(acct_system_fini(&s), 0);
	kfx_shutdown(&fx);
}

static void test_format(void **state)
{
	(void)state;
	struct kfx fx;
	kfx_boot(&fx, 1);
	struct acct_system s;
	assert_int_equal(acct_system_init(&s, &fx.s.phys, 100), 0);
	struct mmk_account *a, *b;
	assert_int_equal(acct_split(acct_root(&s), 30, "web-server-with-a-long-name", &a), 0);
	assert_int_equal(acct_split(a, 10, "cgi", &b), 0);
	assert_int_equal(acct_charge(b, 4), 0);
	char buf[512];
	size_t n = acct_format(&s, buf, sizeof(buf));
	assert_int_equal(n, strlen(buf));
	assert_non_null(strstr(buf, "1 root limit=100 charged=0 donated=30 available=70 peak=0 failcnt=0\n"));
	assert_non_null(strstr(buf, "  2 web-server-with limit=30 charged=0 donated=10 available=20"));
	assert_non_null(strstr(buf, "    3 cgi limit=10 charged=4 donated=0 available=6 peak=4"));
	char small[8];
	assert_int_equal(acct_format(&s, small, sizeof(small)), n);
	assert_int_equal(strlen(small), 7);
	acct_uncharge(b, 4);
	assert_int_equal(acct_system_fini(&s), 0);
	kfx_shutdown(&fx);
}

/* ---- reference model ---- */

#define MAXA 48

struct model {
	struct mmk_account *acct[MAXA];
	int parent[MAXA];
	uint64_t limit[MAXA], charged[MAXA];
	bool alive[MAXA];
	struct fake_holder holder[MAXA]; /* one holder per account, charging as the model */
};

static uint64_t model_donated(const struct model *m, int i)
{
	uint64_t d = 0;
	for (int j = 0; j < MAXA; j++)
		if (m->alive[j] && m->parent[j] == i)
			d += m->limit[j];
	return d;
}

static void model_kill(struct model *m, int i)
{
	for (int j = 0; j < MAXA; j++)
		if (m->alive[j] && m->parent[j] == i)
			model_kill(m, j);
	m->alive[i] = false;
	m->charged[i] = 0;
}

static int pick_alive(struct model *m, uint64_t *rng)
{
	for (;;) {
		int i = (int)(kfx_rand(rng) % MAXA);
		if (m->alive[i])
			return i;
	}
}

static int free_slot(struct model *m)
{
	for (int i = 1; i < MAXA; i++)
		if (!m->alive[i])
			return i;
	return -1;
}

static void model_compare(struct acct_system *s, struct model *m)
{
	check(s);
	for (int i = 0; i < MAXA; i++) {
		if (!m->alive[i])
			continue;
		struct acct_usage u = usage(m->acct[i]);
		uint64_t donated = model_donated(m, i);
		assert_int_equal(u.limit, m->limit[i]);
		assert_int_equal(u.donated, donated);
		assert_int_equal(u.charged, m->charged[i]);
		assert_int_equal(u.available, m->limit[i] - donated - m->charged[i]);
	}
}

static void model_step(struct acct_system *s, struct model *m, uint64_t *rng)
{
	int i = pick_alive(m, rng);
	uint64_t avail = m->limit[i] - model_donated(m, i) - m->charged[i];
	uint64_t n = kfx_rand(rng) % (avail + 3); /* sometimes more than available */
	switch (kfx_rand(rng) % 5) {
	case 0: { /* split */
		int j = free_slot(m);
		if (j < 0)
			break;
		struct mmk_account *c;
		int err = acct_split(m->acct[i], n, NULL, &c);
		if (n == 0 || n > avail) {
			assert_int_equal(err, n == 0 ? -MMK_EINVAL : -MMK_ENOMEM);
			break;
		}
		assert_int_equal(err, 0);
		m->acct[j] = c;
		m->parent[j] = i;
		m->limit[j] = n;
		m->charged[j] = 0;
		m->alive[j] = true;
		fake_attach(&m->holder[j], c, 0);
		break;
	}
	case 1:
	case 2: { /* charge through the holder, as a task would */
		int err = acct_charge(m->acct[i], n);
		assert_int_equal(err, n > avail ? -MMK_ENOMEM : 0);
		if (!err) {
			m->charged[i] += n;
			m->holder[i].frames += n;
		}
		break;
	}
	case 3: { /* uncharge */
		uint64_t back = m->charged[i] ? kfx_rand(rng) % (m->charged[i] + 1) : 0;
		acct_uncharge(m->acct[i], back);
		m->charged[i] -= back;
		m->holder[i].frames -= back;
		break;
	}
	case 4: /* destroy (the root only rarely: it empties everything) */
		if (i == 0 && kfx_rand(rng) % 8)
			break;
		assert_int_equal(acct_destroy(m->acct[i]), 0);
		for (int j = 0; j < MAXA; j++) {
			bool in_subtree = false;
			for (int k = j; k >= 0 && m->alive[k]; k = m->parent[k])
				if (k == i)
					in_subtree = true;
			if (in_subtree && m->alive[j])
				assert_int_equal(m->holder[j].frames, 0); /* released */
		}
		if (i == 0) {
			for (int j = 1; j < MAXA; j++)
				if (m->alive[j] && m->parent[j] == 0)
					model_kill(m, j);
			m->charged[0] = 0;
			fake_attach(&m->holder[0], m->acct[0], 0);
		} else {
			model_kill(m, i);
		}
		break;
	}
	model_compare(s, m);
}

static void test_reference_model(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 4; seed++) {
		struct kfx fx;
		kfx_boot(&fx, 1);
		struct acct_system s;
		assert_int_equal(acct_system_init(&s, &fx.s.phys, 5000), 0);
		static struct model m;
		memset(&m, 0, sizeof(m));
		m.acct[0] = acct_root(&s);
		m.limit[0] = 5000;
		m.alive[0] = true;
		m.parent[0] = -1;
		fake_attach(&m.holder[0], m.acct[0], 0);
		uint64_t rng = seed * 0x9e3779b97f4a7c15ull;
		for (int step = 0; step < 3000; step++)
			model_step(&s, &m, &rng);
		assert_int_equal(acct_destroy(m.acct[0]), 0);
		assert_int_equal(usage(m.acct[0]).available, 5000);
		assert_int_equal(s.live, 1);
		assert_int_equal(acct_system_fini(&s), 0);
		kfx_shutdown(&fx); /* leak baseline: every struct went back */
	}
}

/* Issue 5 extensions: acct_charge_upto (a stock's refill), and a destroyed
 * account whose frames are still charged (pages shared with another
 * account's task) keeps its struct until the last uncharge. */
static void test_charge_upto_and_pin(void **state)
{
	(void)state;
	struct kfx fx;
	kfx_boot(&fx, 1);
	struct acct_system s;
	assert_int_equal(acct_system_init(&s, &fx.s.phys, 1000), 0);
	struct mmk_account *a;
	assert_int_equal(acct_split(acct_root(&s), 20, "A", &a), 0);
	uint64_t got = 0;
	assert_int_equal(acct_charge_upto(a, 1, 16, &got), 0);
	assert_int_equal(got, 16);
	assert_int_equal(acct_charge_upto(a, 2, 16, &got), 0);
	assert_int_equal(got, 4); /* what fits */
	assert_int_equal(acct_charge_upto(a, 1, 16, &got), -MMK_ENOMEM);
	assert_int_equal(got, 4); /* unchanged */
	assert_int_equal(usage(a).failcnt, 1);
	assert_int_equal(usage(a).charged, 20);
	assert_int_equal(usage(a).peak_charged, 20);
	acct_uncharge(a, 17);
	check(&s);
	/* Destroyed with 3 frames still charged: out of the tree, alive. */
	uint32_t live = s.live;
	assert_int_equal(acct_destroy(a), 0);
	check(&s);
	assert_int_equal(s.live, live);
	assert_int_equal(usage(acct_root(&s)).available, 1000); /* the guarantee went back */
	assert_int_equal(usage(a).charged, 3);
	assert_int_equal(usage(a).dead, true);
	assert_int_equal(acct_charge_upto(a, 1, 1, &got), -MMK_EIDRM);
	assert_int_equal(acct_system_fini(&s), -MMK_EBUSY); /* pinned by its charges */
	acct_uncharge(a, 2);
	assert_int_equal(s.live, live);
	acct_uncharge(a, 1); /* the last one frees it */
	assert_int_equal(s.live, live - 1);
	assert_int_equal(acct_system_fini(&s), 0);
	kfx_shutdown(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_rule),
		cmocka_unit_test(test_refusals_change_nothing),
		cmocka_unit_test(test_destroy_cascades),
		cmocka_unit_test(test_kernel_object_bytes),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_reference_model),
		cmocka_unit_test(test_charge_upto_and_pin),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
