/*
 * test_vm_charge: charging address spaces to accounts (issue 5 item 2,
 * src/vm/charge.c).  After every step the fixture's checkers run (vm_check
 * includes the space's charge invariants), acct_check passes, and each
 * account's charged frames equal the frames attributable to it, counted by
 * walking: per space charged to it, the stock and kernel-object bytes in
 * pages and the page tables; plus every anon (found through every space's
 * amaps) and every object page (through the objects' charge trees) that
 * names it as payer.  Rules: set_account's refusals; a fault over the
 * limit is -ENOMEM for that space alone and changes nothing; mmap and
 * mprotect that need a VMA fail with -ENOMEM and change nothing; a shared
 * page is charged once, to its first toucher, and stays charged to it
 * after fork and exit, even once that account is destroyed (the dead
 * account's struct lives until the last such page goes); destroying an
 * account tears its spaces' memory down; object pages; a random mix of
 * spaces under split accounts with limits hit; destroying the root returns
 * every frame; the allocation-failure sweep over the charged paths.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include <mmk/acct.h>
#include <mmk/radix.h>

#include "vm_fixture.h"

#define RAM (64 * VMFX_MIB)
#define ANON (VM_MAP_PRIVATE | VM_MAP_ANONYMOUS)
#define RW (VM_PROT_READ | VM_PROT_WRITE)

struct cfx {
	struct vmfx v;
	struct acct_system acct;
	struct vm_object *objs[4]; /* objects the test holds */
};

static void boot(struct cfx *c)
{
	memset(c, 0, sizeof(*c));
	vmfx_boot(&c->v, RAM, 1);
	assert_int_equal(acct_system_init(&c->acct, &c->v.s.phys, RAM / PG), 0);
}

/* ---- counting what an account pays for ---- */

struct seen {
	const void **p;
	size_t n, cap;
};

static bool seen_add(struct seen *s, const void *p)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->p[i] == p)
			return false;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->p = realloc(s->p, s->cap * sizeof(*s->p));
	}
	s->p[s->n++] = p;
	return true;
}

static uint64_t object_pages_of(const struct vm_object *o, const struct mmk_account *a)
{
	uint64_t n = 0, key = 0;
	void *e;
	while ((e = radix_next(&o->charges, key, &key))) {
		n += e == a;
		key++;
	}
	return n;
}

/* Frames attributable to a, counted by walking every tracked space. */
static uint64_t attributable(struct cfx *c, const struct mmk_account *a)
{
	struct seen anons = { 0 }, objs = { 0 };
	uint64_t n = 0;
	for (int i = 0; i < VMFX_MAX_SPACES; i++) {
		struct vm_space *as = c->v.spaces[i];
		if (!as)
			continue;
		if (as->acct == a)
			n += (as->charge_stock + as->kobj_bytes) / PG + as->pt_charged;
		for (const struct vm_area *v = vm_first_from(as, 0); v; v = vm_next(v)) {
			if (v->object && seen_add(&objs, v->object))
				n += object_pages_of(v->object, a);
			if (!v->amap)
				continue;
			uint64_t key = v->amap_slot;
			struct vm_anon *an;
			uint64_t end = v->amap_slot + ((v->end - v->start) >> 12);
			while ((an = radix_next(&v->amap->slots, key, &key)) && key < end) {
				if (seen_add(&anons, an) && an->acct == a && !an->swapped)
					n++;
				key++;
			}
		}
	}
	for (int i = 0; i < 4; i++)
		if (c->objs[i] && seen_add(&objs, c->objs[i]))
			n += object_pages_of(c->objs[i], a);
	free(anons.p);
	free(objs.p);
	return n;
}

static uint64_t charged(struct mmk_account *a)
{
	struct acct_usage u;
	acct_get_usage(a, &u);
	return u.charged;
}

/* Every checker, and charged == attributable for each account given. */
static void check(struct cfx *c, struct mmk_account **accts, size_t n)
{
	vmfx_check(&c->v);
	const char *why = NULL;
	if (acct_check(&c->acct, &why))
		vmfx_fail(&c->v, "acct_check: %s", why);
	for (size_t i = 0; i < n; i++)
		if (accts[i]) {
			uint64_t ch = charged(accts[i]), at = attributable(c, accts[i]);
			if (ch != at)
				vmfx_fail(&c->v, "account %u: charged %llu, attributable %llu", accts[i]->id,
					  (unsigned long long)ch, (unsigned long long)at);
		}
}

static struct vm_space *space_in(struct cfx *c, struct mmk_account *a)
{
	struct vm_space *as = vmfx_space(&c->v);
	VMFX_RC(&c->v, vm_space_set_account(as, a), 0);
	return as;
}

/* Destroy the spaces, then the accounts, then the machine (leak baseline). */
static void shutdown(struct cfx *c)
{
	for (int i = 0; i < VMFX_MAX_SPACES; i++)
		if (c->v.spaces[i])
			vmfx_destroy(&c->v, c->v.spaces[i]);
	for (int i = 0; i < 4; i++)
		if (c->objs[i])
			vm_object_release(&c->v.s.vm, c->objs[i]);
	memset(c->objs, 0, sizeof(c->objs));
	memset(c->v.held, 0, sizeof(c->v.held));
	assert_int_equal(acct_system_fini(&c->acct), 0);
	vmfx_shutdown(&c->v);
}

static struct mmk_account *split(struct mmk_account *p, uint64_t frames, const char *name)
{
	struct mmk_account *a;
	assert_int_equal(acct_split(p, frames, name, &a), 0);
	return a;
}

/* ---- tests ---- */

static void test_set_account_refusals(void **state)
{
	(void)state;
	struct cfx c;
	boot(&c);
	struct mmk_account *a = split(acct_root(&c.acct), 100, "a");
	struct mmk_account *tiny = split(acct_root(&c.acct), 1, "tiny");
	struct mmk_account *gone = split(acct_root(&c.acct), 10, "gone");
	acct_get(gone);
	assert_int_equal(acct_destroy(gone), 0);
	struct vm_space *as = vmfx_space(&c.v);
	VMFX_RC(&c.v, vm_space_set_account(NULL, a), -MMK_EINVAL);
	VMFX_RC(&c.v, vm_space_set_account(as, NULL), -MMK_EINVAL);
	VMFX_RC(&c.v, vm_space_set_account(as, gone), -MMK_EIDRM);
	VMFX_EQ(&c.v, charged(gone), 0);
	/* The limit holds the root page table but not a VMA's page too. */
	VMFX_RC(&c.v, vm_space_set_account(as, tiny), 0);
	VMFX_EQ(&c.v, charged(tiny), 1);
	char *before = vmfx_state(&c.v, as);
	vaddr_t got;
	VMFX_RC(&c.v, vm_map(as, 0, PG, RW, ANON, NULL, 0, VM_PROT_ALL, &got), -MMK_ENOMEM);
	vmfx_same_state(&c.v, as, before, "mmap over the limit");
	free(before);
	VMFX_RC(&c.v, vm_space_set_account(as, a), -MMK_EBUSY); /* one account for life */
	struct vm_space *bs = vmfx_space(&c.v);
	vmfx_map(&c.v, bs, 0, PG, RW, ANON);
	VMFX_RC(&c.v, vm_space_set_account(bs, a), -MMK_EBUSY); /* already has mappings */
	VMFX_EQ(&c.v, charged(a), 0);
	struct mmk_account *all[] = { a, tiny };
	check(&c, all, 2);
	acct_put(gone);
	shutdown(&c);
}

static void test_fault_charges_and_limit(void **state)
{
	(void)state;
	struct cfx c;
	boot(&c);
	struct mmk_account *a = split(acct_root(&c.acct), 40, "a");
	struct mmk_account *b = split(acct_root(&c.acct), 1000, "b");
	struct mmk_account *all[] = { a, b };
	struct vm_space *as = space_in(&c, a), *bs = space_in(&c, b);
	vaddr_t base = vmfx_map(&c.v, as, 0, 100 * PG, RW, ANON);
	vaddr_t bbase = vmfx_map(&c.v, bs, 0, 100 * PG, RW, ANON);
	vm_space_activate(as, 0);
	check(&c, all, 2);
	uint64_t free0 = vmfx_free_frames(&c.v);
	int i, rc = 0;
	for (i = 0; i < 100 && !rc; i++) {
		char *before = vmfx_state(&c.v, as);
		rc = vmfx_touch(&c.v, 0, base + (uint64_t)i * PG, VMFX_W);
		if (rc) {
			VMFX_EQ(&c.v, rc, -MMK_ENOMEM);
			vmfx_same_state(&c.v, as, before, "fault over the limit");
		}
		free(before);
		check(&c, all, 2);
	}
	VMFX_TRUE(&c.v, rc == -MMK_ENOMEM && i > 30); /* 40 frames: pages, page tables, VMA */
	struct acct_usage u;
	acct_get_usage(a, &u);
	VMFX_TRUE(&c.v, u.failcnt > 0 && u.charged <= 40 && u.peak_charged == u.charged);
	struct vm_charge_stats cs;
	vm_space_get_charge(as, &cs);
	VMFX_TRUE(&c.v, cs.charge_failures > 0);
	/* The other account's space is not affected. */
	vm_space_activate(bs, 0);
	for (int j = 0; j < 60; j++)
		VMFX_RC(&c.v, vmfx_touch(&c.v, 0, bbase + (uint64_t)j * PG, VMFX_W), 0);
	check(&c, all, 2);
	/* Unmapping gives it back; the space can fault again. */
	VMFX_RC(&c.v, vm_unmap(as, base, 50 * PG), 0);
	check(&c, all, 2);
	vm_space_activate(as, 0);
	VMFX_RC(&c.v, vmfx_touch(&c.v, 0, base + 60 * PG, VMFX_W), 0);
	check(&c, all, 2);
	(void)free0;
	VMFX_RC(&c.v, vm_unmap(as, base, 100 * PG), 0);
	check(&c, all, 2);
	vm_space_get_charge(as, &cs);
	VMFX_EQ(&c.v, charged(a), (cs.stock_bytes + cs.kobj_bytes) / PG + cs.pt_charged);
	shutdown(&c);
}

/* With the account full, calls that need a new VMA fail and change nothing. */
static void test_vma_calls_over_limit(void **state)
{
	(void)state;
	struct cfx c;
	boot(&c);
	struct mmk_account *a = split(acct_root(&c.acct), 24, "a");
	struct mmk_account *all[] = { a };
	struct vm_space *as = space_in(&c, a);
	vaddr_t base = vmfx_map(&c.v, as, 0, 64 * PG, RW, ANON);
	vm_space_activate(as, 0);
	int rc = 0;
	for (int i = 0; i < 64 && !rc; i++)
		rc = vmfx_touch(&c.v, 0, base + (uint64_t)i * PG, VMFX_W);
	VMFX_EQ(&c.v, rc, -MMK_ENOMEM);
	/* Use up the stock's leftover bytes with separate mappings. */
	vaddr_t got;
	unsigned prot = VM_PROT_READ;
	for (int i = 0; i < 64 && !rc; i++) {
		rc = vm_map(as, 0, PG, prot, ANON, NULL, 0, VM_PROT_ALL, &got);
		prot = prot == VM_PROT_READ ? VM_PROT_NONE : VM_PROT_READ; /* no merging */
	}
	rc = 0;
	for (int i = 0; i < 64 && !rc; i++)
		rc = vm_map(as, 0, PG, (i & 1) ? VM_PROT_READ : VM_PROT_NONE, ANON, NULL, 0, VM_PROT_ALL, &got);
	VMFX_EQ(&c.v, rc, -MMK_ENOMEM);
	check(&c, all, 1);
	/* Split the big mapping until the splits run out of VMAs: each failed
	 * mprotect changed nothing. */
	char *before = NULL;
	rc = 0;
	int i;
	for (i = 0; i < 28 && !rc; i++) {
		free(before);
		before = vmfx_state(&c.v, as);
		rc = vm_protect(as, base + (uint64_t)(2 * i + 1) * PG, PG, VM_PROT_READ);
		check(&c, all, 1);
	}
	VMFX_EQ(&c.v, rc, -MMK_ENOMEM);
	vmfx_same_state(&c.v, as, before, "mprotect needing VMAs");
	VMFX_RC(&c.v, vm_map(as, 0, PG, RW, ANON, NULL, 0, VM_PROT_ALL, &got), -MMK_ENOMEM);
	vmfx_same_state(&c.v, as, before, "mmap needing a VMA");
	VMFX_RC(&c.v, vm_unmap(as, base + 60 * PG, PG), -MMK_ENOMEM); /* a hole needs a split */
	vmfx_same_state(&c.v, as, before, "munmap needing a VMA");
	free(before);
	check(&c, all, 1);
	/* Unmapping a whole mapping needs nothing, and makes room. */
	VMFX_RC(&c.v, vm_unmap(as, base, 64 * PG), 0);
	VMFX_RC(&c.v, vm_protect(as, got, PG, VM_PROT_READ), 0);
	check(&c, all, 1);
	shutdown(&c);
}

/* First toucher pays; the charge outlives the payer's space and account. */
static void test_shared_pages_first_toucher(void **state)
{
	(void)state;
	struct cfx c;
	boot(&c);
	struct mmk_account *pa = split(acct_root(&c.acct), 200, "parent");
	struct mmk_account *ca = split(acct_root(&c.acct), 200, "child");
	struct mmk_account *all[] = { pa, ca };
	struct vm_space *p = space_in(&c, pa);
	vaddr_t base = vmfx_map(&c.v, p, 0, 16 * PG, RW, ANON);
	vm_space_activate(p, 0);
	for (int i = 0; i < 16; i++)
		VMFX_RC(&c.v, vmfx_write8(&c.v, 0, base + (uint64_t)i * PG, (uint8_t)i), 0);
	check(&c, all, 2);
	uint64_t pa_before = charged(pa);
	struct vm_space *k;
	VMFX_RC(&c.v, vm_space_fork_account(p, ca, &k), 0);
	vmfx_adopt(&c.v, k);
	check(&c, all, 2);
	VMFX_EQ(&c.v, charged(pa), pa_before); /* the shared pages stay the parent's */
	vm_space_activate(k, 0);
	VMFX_RC(&c.v, vmfx_write8(&c.v, 0, base, 99), 0); /* the child's copy is the child's */
	check(&c, all, 2);
	VMFX_EQ(&c.v, charged(pa), pa_before);
	/* The parent exits: its 15 pages still shared with the child stay
	 * charged to it; its page 0 (no longer shared) is freed. */
	vmfx_destroy(&c.v, p);
	check(&c, all, 2);
	VMFX_EQ(&c.v, attributable(&c, pa), 15);
	/* Destroying the parent's account: it is out of the tree but lives on,
	 * charged, until the child drops the pages. */
	uint32_t live = c.acct.live;
	VMFX_RC(&c.v, acct_destroy(pa), 0);
	VMFX_EQ(&c.v, c.acct.live, live);
	VMFX_EQ(&c.v, charged(pa), 15);
	check(&c, all, 2);
	VMFX_RC(&c.v, vm_unmap(k, base, 8 * PG), 0);
	VMFX_EQ(&c.v, charged(pa), 8);
	VMFX_RC(&c.v, vm_unmap(k, base, 16 * PG), 0);
	VMFX_EQ(&c.v, c.acct.live, live - 1); /* the last uncharge freed it */
	struct mmk_account *left[] = { ca };
	check(&c, left, 1);
	shutdown(&c);
}

/* Destroying an account tears its spaces' memory down. */
static void test_destroy_kills_memory(void **state)
{
	(void)state;
	struct cfx c;
	boot(&c);
	uint64_t free0 = vmfx_free_frames(&c.v);
	struct mmk_account *mop = split(acct_root(&c.acct), 500, "mop");
	struct mmk_account *sub = split(mop, 200, "sub");
	struct vm_space *as = space_in(&c, mop), *bs = space_in(&c, sub);
	vaddr_t a0 = vmfx_map(&c.v, as, 0, 64 * PG, RW, ANON);
	vaddr_t b0 = vmfx_map(&c.v, bs, 0, 64 * PG, RW, ANON);
	vm_space_activate(as, 0);
	for (int i = 0; i < 64; i++)
		VMFX_RC(&c.v, vmfx_touch(&c.v, 0, a0 + (uint64_t)i * PG, VMFX_W), 0);
	vm_space_activate(bs, 0);
	for (int i = 0; i < 64; i++)
		VMFX_RC(&c.v, vmfx_touch(&c.v, 0, b0 + (uint64_t)i * PG, VMFX_W), 0);
	struct mmk_account *all[] = { mop, sub };
	check(&c, all, 2);
	VMFX_RC(&c.v, acct_destroy(mop), 0); /* the sub-account goes with it */
	vmfx_check(&c.v);
	struct vm_charge_stats cs;
	vm_space_get_charge(bs, &cs);
	VMFX_TRUE(&c.v, cs.killed && cs.stock_bytes == 0 && cs.pt_charged == 0);
	VMFX_EQ(&c.v, vmfx_vmas(as) + vmfx_vmas(bs), 0);
	VMFX_EQ(&c.v, vmfx_resident(as) + vmfx_resident(bs), 0);
	VMFX_EQ(&c.v, charged(mop) + charged(sub), 0);
	/* What is left: the two spaces' structs and root page tables. */
	VMFX_TRUE(&c.v, vmfx_free_frames(&c.v) + 4 >= free0);
	VMFX_RC(&c.v, vmfx_touch(&c.v, 0, b0, VMFX_R), -MMK_EFAULT);
	vaddr_t got;
	VMFX_RC(&c.v, vm_map(bs, 0, PG, RW, ANON, NULL, 0, VM_PROT_ALL, &got), -MMK_ENOMEM);
	struct vm_space *k;
	VMFX_RC(&c.v, vm_space_fork(bs, &k), -MMK_EIDRM);
	vmfx_check(&c.v);
	shutdown(&c);
}

/* Object pages are charged to the space whose fault brought them in. */
static void test_object_pages(void **state)
{
	(void)state;
	struct cfx c;
	boot(&c);
	struct mmk_account *a = split(acct_root(&c.acct), 100, "a");
	struct mmk_account *b = split(acct_root(&c.acct), 100, "b");
	struct mmk_account *all[] = { a, b };
	struct vm_object *shm;
	assert_int_equal(vm_object_create(&c.v.s.vm, VM_OBJECT_ANON, "shm", &shm), 0);
	c.objs[0] = shm;
	c.v.held[0] = shm;
	struct vm_space *as = space_in(&c, a), *bs = space_in(&c, b);
	vaddr_t x, y;
	VMFX_RC(&c.v, vm_map(as, 0, 8 * PG, RW, VM_MAP_SHARED, shm, 0, VM_PROT_ALL, &x), 0);
	VMFX_RC(&c.v, vm_map(bs, 0, 8 * PG, RW, VM_MAP_PRIVATE, shm, 0, VM_PROT_ALL, &y), 0);
	vm_space_activate(as, 0);
	VMFX_RC(&c.v, vmfx_write8(&c.v, 0, x, 1), 0);
	VMFX_RC(&c.v, vmfx_write8(&c.v, 0, x + PG, 1), 0);
	check(&c, all, 2);
	VMFX_EQ(&c.v, object_pages_of(shm, a), 2);
	vm_space_activate(bs, 0);
	uint8_t v;
	VMFX_RC(&c.v, vmfx_read8(&c.v, 0, y, &v), 0); /* already resident: a pays */
	VMFX_RC(&c.v, vmfx_read8(&c.v, 0, y + 2 * PG, &v), 0); /* brought in by b */
	VMFX_RC(&c.v, vmfx_write8(&c.v, 0, y + 3 * PG, 7), 0); /* object page (b) and b's copy */
	check(&c, all, 2);
	VMFX_EQ(&c.v, object_pages_of(shm, a), 2);
	VMFX_EQ(&c.v, object_pages_of(shm, b), 2);
	/* Unmapping leaves the object's pages (and their charges) in place. */
	VMFX_RC(&c.v, vm_unmap(as, x, 8 * PG), 0);
	VMFX_RC(&c.v, vm_unmap(bs, y, 8 * PG), 0);
	check(&c, all, 2);
	VMFX_EQ(&c.v, object_pages_of(shm, a), 2);
	vm_object_release(&c.v.s.vm, shm);
	c.objs[0] = NULL;
	c.v.held[0] = NULL;
	check(&c, all, 2);
	shutdown(&c);
}

/* ---- the random mix ---- */

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

#define NACCT 6

static void random_mix(uint64_t seed, int steps)
{
	struct cfx c;
	boot(&c);
	uint64_t free0 = vmfx_free_frames(&c.v);
	struct mmk_account *acc[NACCT] = { 0 };
	/* A tree: two MOPs under the root, sub-accounts under them. */
	acc[0] = split(acct_root(&c.acct), 120, "mop0");
	acc[1] = split(acct_root(&c.acct), 100, "mop1");
	acc[2] = split(acc[0], 24, "a");
	acc[3] = split(acc[0], 40, "b");
	acc[4] = split(acc[1], 12, "c");
	acc[5] = split(acc[1], 50, "d");
	int hits = 0;
	for (int step = 0; step < steps; step++) {
		uint64_t r = rnd(&seed);
		int nsp = 0;
		struct vm_space *sp[VMFX_MAX_SPACES];
		for (int i = 0; i < VMFX_MAX_SPACES; i++)
			if (c.v.spaces[i])
				sp[nsp++] = c.v.spaces[i];
		unsigned op = r % 10;
		struct vm_space *as = nsp ? sp[(r >> 8) % nsp] : NULL;
		vmfx_op(&c.v, "step %d op %u", step, op);
		if (!as || op == 0) {
			if (nsp < 10) {
				struct vm_space *n = vmfx_space(&c.v);
				int rc = vm_space_set_account(n, acc[(r >> 16) % NACCT]);
				VMFX_TRUE(&c.v, rc == 0 || rc == -MMK_ENOMEM);
				if (rc) /* no task runs without an account */
					vmfx_destroy(&c.v, n);
			}
		} else if (op <= 2) {
			vaddr_t got;
			uint64_t len = (1 + (r >> 16) % 24) * PG;
			int rc = vm_map(as, 0, len, (r & (1 << 20)) ? RW : VM_PROT_READ, ANON, NULL, 0, VM_PROT_ALL, &got);
			VMFX_TRUE(&c.v, rc == 0 || rc == -MMK_ENOMEM);
			hits += rc != 0;
		} else if (op <= 5) {
			const struct vm_area *v = vm_first_from(as, (r >> 12) % VM_DEFAULT_MAX_ADDR);
			if (!v)
				v = vm_first_from(as, 0);
			if (v) {
				vm_space_activate(as, 0);
				vaddr_t va = v->start + ((r >> 24) % ((v->end - v->start) / PG)) * PG;
				int rc = vmfx_touch(&c.v, 0, va, (r & 1) ? VMFX_W : VMFX_R);
				VMFX_TRUE(&c.v, rc == 0 || rc == -MMK_ENOMEM || rc == -MMK_EACCES);
				hits += rc == -MMK_ENOMEM;
			}
		} else if (op == 6) {
			const struct vm_area *v = vm_first_from(as, (r >> 12) % VM_DEFAULT_MAX_ADDR);
			if (v) {
				vaddr_t va = v->start + ((r >> 24) % ((v->end - v->start) / PG)) * PG;
				int rc = vm_unmap(as, va, (1 + (r >> 40) % 4) * PG);
				VMFX_TRUE(&c.v, rc == 0 || rc == -MMK_ENOMEM);
			}
		} else if (op == 7) {
			const struct vm_area *v = vm_first_from(as, 0);
			if (v) {
				int rc = vm_protect(as, v->start, PG, (r & 2) ? VM_PROT_READ : RW);
				VMFX_TRUE(&c.v, rc == 0 || rc == -MMK_ENOMEM);
			}
		} else if (op == 8 && nsp < 10) {
			struct vm_space *k;
			struct mmk_account *to = (r & 4) ? NULL : acc[(r >> 16) % NACCT];
			int rc = vm_space_fork_account(as, to, &k);
			VMFX_TRUE(&c.v, rc == 0 || rc == -MMK_ENOMEM);
			if (!rc)
				vmfx_adopt(&c.v, k);
			hits += rc != 0;
		} else if (op == 9) {
			vmfx_destroy(&c.v, as);
		}
		check(&c, acc, NACCT);
	}
	VMFX_TRUE(&c.v, hits > 0); /* the limits were hit */
	/* Destroying the root kills every space's memory: every frame back but
	 * the spaces' structs and root tables. */
	VMFX_RC(&c.v, acct_destroy(acct_root(&c.acct)), 0);
	vmfx_check(&c.v);
	for (int i = 0; i < VMFX_MAX_SPACES; i++)
		if (c.v.spaces[i])
			VMFX_EQ(&c.v, vmfx_resident(c.v.spaces[i]), 0);
	VMFX_EQ(&c.v, c.v.s.vm.user_frames, 0);
	for (int i = 0; i < VMFX_MAX_SPACES; i++)
		if (c.v.spaces[i])
			vmfx_destroy(&c.v, c.v.spaces[i]);
	VMFX_EQ(&c.v, vmfx_free_frames(&c.v), free0);
	shutdown(&c);
}

static void test_random_split_accounts(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 4; seed++)
		random_mix(seed * 0x9e3779b97f4a7c15ull, 600);
}

/* ---- allocation-failure sweep over the charged paths ---- */

static void test_failure_sweep(void **state)
{
	(void)state;
	for (unsigned k = 1; k < 200; k++) {
		struct cfx c;
		boot(&c);
		struct mmk_account *a = split(acct_root(&c.acct), 400, "a");
		struct mmk_account *b = split(acct_root(&c.acct), 400, "b");
		struct mmk_account *all[] = { a, b };
		struct vm_space *as = space_in(&c, a);
		vaddr_t base = vmfx_map(&c.v, as, 0, 32 * PG, RW, ANON);
		vm_space_activate(as, 0);
		for (int i = 0; i < 8; i++)
			VMFX_RC(&c.v, vmfx_touch(&c.v, 0, base + (uint64_t)i * PG, VMFX_W), 0);
		check(&c, all, 2);
		struct vm_space *k2 = NULL;
		uint64_t ach = charged(a), bch = charged(b);
		char *before = vmfx_state(&c.v, as);
		mmk_failpoint_arm(&c.v.s.failpoint, k, false);
		/* fork into b, fault, mmap, mprotect split: one fails at k */
		int rc = vm_space_fork_account(as, b, &k2);
		if (!rc) {
			vmfx_adopt(&c.v, k2);
			vm_space_activate(k2, 0);
			rc = vmfx_touch(&c.v, 0, base, VMFX_W);
		}
		vaddr_t got;
		if (!rc)
			rc = vm_map(as, 0, 4 * PG, RW, ANON, NULL, 0, VM_PROT_ALL, &got);
		if (!rc)
			rc = vm_protect(as, base + 4 * PG, PG, VM_PROT_READ);
		bool fired = c.v.s.failpoint.failed > 0;
		mmk_failpoint_arm(&c.v.s.failpoint, 0, false);
		if (fired) {
			VMFX_EQ(&c.v, rc, -MMK_ENOMEM);
			if (!k2) { /* the fork failed: nothing changed */
				vmfx_same_state(&c.v, as, before, "failed fork");
				VMFX_EQ(&c.v, charged(a), ach);
				VMFX_EQ(&c.v, charged(b), bch);
			}
		}
		free(before);
		check(&c, all, 2);
		shutdown(&c);
		if (!fired)
			break;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_account_refusals),
		cmocka_unit_test(test_fault_charges_and_limit),
		cmocka_unit_test(test_vma_calls_over_limit),
		cmocka_unit_test(test_shared_pages_first_toucher),
		cmocka_unit_test(test_destroy_kills_memory),
		cmocka_unit_test(test_object_pages),
		cmocka_unit_test(test_random_split_accounts),
		cmocka_unit_test(test_failure_sweep),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
