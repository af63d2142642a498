/*
 * sys_fixture.c - see sys_fixture.h.  Hosted code: libc and cmocka.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "own_text.h"
#include "sys_fixture.h"

void sfx_boot(struct sfx *fx, uint64_t ram_bytes, uint32_t max_handles)
{
	memset(fx, 0, sizeof(*fx));
	vmfx_boot(&fx->vm, ram_bytes, 1);
	fx->free0 = vmfx_free_frames(&fx->vm);
	assert_int_equal(kmalloc_init(&fx->heap, &fx->vm.s.phys, KMEM_DEBUG_ALL), 0);
	assert_int_equal(acct_system_init(&fx->acct, &fx->vm.s.phys, SFX_ROOT_FRAMES), 0);
	assert_int_equal(claims_init(&fx->claims, &fx->vm.s.phys, SFX_CLAIMS_BASE, SFX_CLAIMS_SIZE,
				     claims_vm_revoker, &fx->vm.s.vm),
			 0);
	assert_int_equal(sys_init(&fx->sys, &fx->vm.s.vm, &fx->heap, max_handles), 0);
	assert_int_equal(sys_attach_accounts(&fx->sys, &fx->acct, &fx->claims), 0);
	assert_int_equal(physmem_init(&fx->pm, &fx->vm.s.phys, &fx->vm.s.vm), 0);
	assert_int_equal(sys_attach_physmem(&fx->sys, &fx->pm), 0);
	sfx_check(fx);
}

void sfx_shutdown(struct sfx *fx)
{
	sfx_check(fx);
	assert_int_equal(fx->sys.tasks, 0);
	assert_int_equal(fx->sys.spaces, 0);
	assert_int_equal(fx->sys.vmobjects, 0);
	assert_int_equal(fx->sys.accounts, 0);
	assert_int_equal(fx->sys.mops, 0);
	assert_int_equal(fx->sys.containers, 0);
	assert_int_equal(fx->sys.frame_managers, 0);
	assert_int_equal(sys_fini(&fx->sys), 0);
	assert_int_equal(physmem_fini(&fx->pm), 0);
	/* Every MOP went with its object: nothing is claimed; what they
	 * claimed waits in the queue. */
	assert_int_equal(fx->claims.pages[CLAIM_CLAIMED], 0);
	assert_int_equal(acct_system_fini(&fx->acct), 0);
	while (claims_queued_ranges(&fx->claims))
		assert_int_equal(claims_revoke_batch(&fx->claims, CLAIMS_BATCH_MAX, NULL, NULL), 0);
	assert_int_equal(claims_fini(&fx->claims), 0);
	assert_int_equal(kmalloc_fini(&fx->heap), 0);
	assert_int_equal(vmfx_free_frames(&fx->vm), fx->free0);
	vmfx_shutdown(&fx->vm);
}

struct sfx *sfx_new(void)
{
	struct sfx *fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	sfx_boot(fx, 64 * VMFX_MIB, SFX_MAX_HANDLES);
	return fx;
}

void sfx_delete(struct sfx *fx)
{
	sfx_shutdown(fx);
	free(fx);
}

struct sys_task *sfx_task(struct sfx *fx)
{
	struct sys_task *t = NULL;
	assert_int_equal(sys_task_create(&fx->sys, &t), 0);
	sfx_check(fx);
	return t;
}

void sfx_task_done(struct sfx *fx, struct sys_task *t)
{
	sys_task_destroy(t);
	sys_task_release(t);
	sfx_check(fx);
}

void sfx_check(struct sfx *fx)
{
	const char *why = NULL;
	if (sys_check(&fx->sys, &why))
		fail_msg("sys_check: %s", why ? why : "?");
	if (kmalloc_check(&fx->heap, &why))
		fail_msg("kmalloc_check: %s", why ? why : "?");
	if (kmem_cache_check(&fx->sys.caps.handle_cache, &why))
		fail_msg("kmem_cache_check(cap_handle): %s", why ? why : "?");
	if (phys_check(&fx->vm.s.phys, &why))
		fail_msg("phys_check: %s", why ? why : "?");
	if (acct_check(&fx->acct, &why))
		fail_msg("acct_check: %s", why ? why : "?");
	if (claims_check(&fx->claims, &why))
		fail_msg("claims_check: %s", why ? why : "?");
	if (physmem_check(&fx->pm, &why))
		fail_msg("physmem_check: %s", why ? why : "?");
	for (struct sys_kobj *k = fx->sys.kobjs; k; k = k->next) {
		if (k->cap.ops->type != CAP_TYPE_SPACE)
			continue;
		struct sys_space *sp = (struct sys_space *)k;
		if (vm_check(sp->as, &why))
			fail_msg("vm_check: %s", why ? why : "?");
	}
	if (kmem_cache_live(&fx->sys.caps.handle_cache) != fx->sys.caps.handles)
		fail_msg("handle cache holds %llu objects, %llu handles live",
			 (unsigned long long)kmem_cache_live(&fx->sys.caps.handle_cache), (unsigned long long)fx->sys.caps.handles);
}

/* Position of t on the table list (tables have no names). */
static int table_no(struct sfx *fx, const struct cap_table *t)
{
	int i = 0;
	for (struct cap_table *x = fx->sys.caps.tables; x; x = x->next, i++)
		if (x == t)
			return i;
	return -1;
}

static int kobj_no(struct sfx *fx, const struct cap_object *co)
{
	int i = 0;
	for (struct sys_kobj *k = fx->sys.kobjs; k; k = k->next, i++)
		if (&k->cap == co)
			return i;
	return -1;
}

/* Cut " peak=N" out of the account tree's text: the peak charge is a
 * statistic (a high-water mark, like sys.refused), not state, and a
 * refused container_allocate charges before it finds frames, so its peak
 * may rise though the refusal undid the charge. */
static void drop_peaks(char *text)
{
	char *p;
	while ((p = strstr(text, " peak=")) != NULL) {
		char *end = p + 6;
		while (*end >= '0' && *end <= '9')
			end++;
		memmove(p, end, strlen(end) + 1);
	}
}

/* A container object: its kind, and what physmem says of its container
 * (pages, shares, each allocated page's frame and first bytes). */
static void container_text(FILE *f, struct sys_container *o)
{
	struct container_info in;
	fprintf(f, "  container %s share %s", o->weak ? "weak" : "owner", o->share ? "held" : "none");
	if (container_get_info(o->ref, &in)) {
		fputs(" gone\n", f);
		return;
	}
	fprintf(f, " id %u pages %llu shares %u dead %d\n", in.id, (unsigned long long)in.pages, in.shares, in.dead);
	for (uint64_t off = 0; off < 64 * MMK_PAGE_SIZE; off += MMK_PAGE_SIZE) {
		pfn_t pfn;
		if (container_frame_of(o->ref, off, &pfn) == 0)
			fprintf(f, "    page %llu frame %llu\n", (unsigned long long)(off / MMK_PAGE_SIZE),
				(unsigned long long)pfn);
	}
}

char *sfx_state(struct sfx *fx)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	assert_non_null(f);
	int ti = 0;
	for (struct cap_table *t = fx->sys.caps.tables; t; t = t->next, ti++) {
		fprintf(f, "table %d: %u handles\n", ti, t->count);
		for (uint32_t i = 0; i < t->capacity; i++) {
			struct cap_handle *h = t->slots[i];
			if (!h)
				continue;
			fprintf(f, "  %u: obj %d %s rights %#x parent ", i, kobj_no(fx, h->obj), h->obj->ops->name,
				h->rights);
			if (h->parent)
				fprintf(f, "%d/%d", table_no(fx, h->parent->table), h->parent->index);
			else
				fputs("root", f);
			fputc('\n', f);
		}
	}
	int ki = 0;
	for (struct sys_kobj *k = fx->sys.kobjs; k; k = k->next, ki++) {
		fprintf(f, "object %d %s refs %u holds %u handles %u\n", ki, k->cap.ops->name, k->refs, k->holds,
			k->cap.handles);
		if (k->cap.ops->type == CAP_TYPE_SPACE) {
			char *l = vmfx_state(&fx->vm, ((struct sys_space *)k)->as);
			fputs(l, f);
			free(l);
		}
		if (k->cap.ops->type == CAP_TYPE_MOP) {
			struct mop *m = &((struct sys_mop *)k)->mop;
			fprintf(f, "  mop #%u dead %d pages %llu\n", m->id, m->dead,
				(unsigned long long)mop_pages(m));
		}
		if (k->cap.ops->type == CAP_TYPE_ACCOUNT)
			fprintf(f, "  account %u\n", ((struct sys_account *)k)->acct->id);
		if (k->cap.ops->type == CAP_TYPE_CONTAINER)
			container_text(f, (struct sys_container *)k);
	}
	char *claims = own_claims_text(&fx->claims), *accounts = own_accounts_text(&fx->acct);
	fputs(claims, f);
	drop_peaks(accounts);
	fputs(accounts, f);
	free(claims);
	free(accounts);
	/* (not the free frame counts: a refused request may leave a cache
	 * a slab bigger; test_sys_frame snapshots them around its calls) */
	fprintf(f, "physmem frame pages %llu\n", (unsigned long long)fx->pm.frame_pages);
	fprintf(f, "handles %llu tasks %llu spaces %llu objects %llu user frames %llu\n",
		(unsigned long long)fx->sys.caps.handles, (unsigned long long)fx->sys.tasks,
		(unsigned long long)fx->sys.spaces, (unsigned long long)fx->sys.vmobjects,
		(unsigned long long)fx->vm.s.vm.user_frames);
	fclose(f);
	return text;
}

void sfx_same_state(struct sfx *fx, const char *before, const char *what)
{
	char *now = sfx_state(fx);
	if (strcmp(now, before) != 0) {
		fprintf(stderr, "==== before %s ====\n%s==== after ====\n%s", what, before, now);
		free(now);
		fail_msg("%s changed the state", what);
	}
	free(now);
}

struct sys_request sfx_req(uint32_t op)
{
	struct sys_request r;
	memset(&r, 0, sizeof(r));
	r.op = op;
	for (int i = 0; i < SYS_NHANDLES; i++)
		r.handles[i] = CAP_HANDLE_NONE;
	return r;
}

void sfx_call_(struct sfx *fx, struct sys_task *t, const struct sys_request *req, struct sys_reply *rep, int want,
	       const char *file, int line)
{
	struct sys_reply local;
	if (!rep)
		rep = &local;
	int rc = sys_dispatch(t, req, rep);
	if (rc != want || rep->status != want)
		fail_msg("%s:%d: %s (op %#x) returned %d (%s), expected %d (%s)", file, line,
			 sys_op_name(req->op) ? sys_op_name(req->op) : "?", req->op, rc, mmk_strerror(rc), want,
			 mmk_strerror(want));
	if (rc) {
		for (int i = 0; i < SYS_NRESULTS; i++)
			if (rep->results[i])
				fail_msg("%s:%d: refused request left result %d", file, line, i);
		for (int i = 0; i < SYS_NHANDLES; i++)
			if (rep->handles[i] != CAP_HANDLE_NONE)
				fail_msg("%s:%d: refused request left handle %d", file, line, i);
	}
	sfx_check(fx);
}

void sfx_refused_(struct sfx *fx, struct sys_task *t, const struct sys_request *req, int want, const char *file,
		  int line)
{
	char *before = sfx_state(fx);
	sfx_call_(fx, t, req, NULL, want, file, line);
	char what[128];
	snprintf(what, sizeof(what), "%s:%d refused request", file, line);
	sfx_same_state(fx, before, what);
	free(before);
}

void sfx_sweep(struct sfx *fx, struct sys_task *t, const struct sys_request *q, struct sys_reply *r)
{
	struct mmk_failpoint *fp = &fx->vm.s.failpoint;
	for (uint64_t n = 1;; n++) {
		char *before = sfx_state(fx);
		mmk_failpoint_arm(fp, n, false);
		int rc = sys_dispatch(t, q, r);
		mmk_failpoint_arm(fp, 0, false);
		sfx_check(fx);
		if (rc == 0) {
			free(before);
			printf("sweep %-16s %2llu failing allocations refused cleanly\n", sys_op_name(q->op),
			       (unsigned long long)n - 1);
			return;
		}
		if (rc != -MMK_ENOMEM)
			fail_msg("%s with allocation %llu failing: %s", sys_op_name(q->op), (unsigned long long)n,
				 mmk_strerror(rc));
		sfx_same_state(fx, before, sys_op_name(q->op));
		free(before);
		assert_true(n < 200);
	}
}

cap_handle_t sfx_derive(struct sfx *fx, struct sys_task *t, cap_handle_t h, cap_rights_t rights)
{
	struct sys_request q = sfx_req(SYS_CAP_DERIVE);
	struct sys_reply r;
	q.handles[0] = h;
	q.args[0] = rights;
	sfx_call(fx, t, &q, &r, 0);
	return r.handles[0];
}

cap_handle_t sfx_grant(struct sfx *fx, struct sys_task *t, cap_handle_t h, cap_handle_t task_h, cap_rights_t rights)
{
	struct sys_request q = sfx_req(SYS_CAP_GRANT);
	struct sys_reply r;
	q.handles[0] = h;
	q.handles[1] = task_h;
	q.args[0] = rights;
	sfx_call(fx, t, &q, &r, 0);
	return (cap_handle_t)r.results[0];
}

cap_handle_t sfx_new_space(struct sfx *fx, struct sys_task *t)
{
	struct sys_request q = sfx_req(SYS_VM_CREATE);
	struct sys_reply r;
	sfx_call(fx, t, &q, &r, 0);
	return r.handles[0];
}

vaddr_t sfx_map(struct sfx *fx, struct sys_task *t, cap_handle_t space, vaddr_t hint, uint64_t len, unsigned prot,
		unsigned flags)
{
	struct sys_request q = sfx_req(SYS_VM_MAP);
	struct sys_reply r;
	q.handles[0] = space;
	q.args[0] = hint;
	q.args[1] = len;
	q.args[2] = prot;
	q.args[3] = flags;
	sfx_call(fx, t, &q, &r, 0);
	return r.results[0];
}

cap_handle_t sfx_root_account(struct sfx *fx, struct sys_task *t)
{
	cap_handle_t h = CAP_HANDLE_NONE;
	assert_int_equal(sys_task_install_account(t, acct_root(&fx->acct), CAP_RIGHTS_ACCOUNT, &h), 0);
	sfx_check(fx);
	return h;
}

int64_t sfx_rights(struct sfx *fx, struct sys_task *t, cap_handle_t h)
{
	(void)fx;
	struct sys_request q = sfx_req(SYS_CAP_INFO);
	struct sys_reply r;
	q.handles[0] = h;
	if (sys_dispatch(t, &q, &r))
		return -1;
	return (int64_t)r.results[1];
}

struct vm_space *sfx_space(struct sys_task *t, cap_handle_t h)
{
	assert_true(h >= 0 && (uint32_t)h < t->table.capacity && t->table.slots[h]);
	struct cap_object *co = t->table.slots[h]->obj;
	assert_int_equal(co->ops->type, CAP_TYPE_SPACE);
	return ((struct sys_space *)co)->as; /* cap is the first member of sys_kobj, k of sys_space */
}
