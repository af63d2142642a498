/*
 * prog_caps.c - user program 3: src/sys driven from ring 3.  Each process
 * holds handle U_SPACE_HANDLE to its own space with U_SPACE_RIGHTS; this
 * program sends whole requests (SYS_REQUEST) to derive a handle without
 * WRITE and checks that mapping writable memory through it is refused
 * with -MMK_EPERM while a read-only mapping works, that bad handle numbers
 * and malformed requests get their exact errors, that the ordinary mmap
 * and fork calls go through the same handle (closing it makes them fail
 * with -MMK_EBADF), and that a memory object mapped twice shares its
 * pages.  Each check is reported to the kernel (SYS_REPORT).
 */
#include "ulib.h"

#define RW (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

/* A mapping request through space handle h. */
static struct u_request map_req(int32_t h, uint64_t len, uint64_t prot, uint64_t flags)
{
	struct u_request q = u_req(U_VM_MAP, h);
	q.args[1] = len;
	q.args[2] = prot;
	q.args[3] = flags;
	return q;
}

static long unmap(int32_t h, uint64_t addr, uint64_t len)
{
	struct u_request q = u_req(U_VM_UNMAP, h);
	struct u_reply r;
	q.args[0] = addr;
	q.args[1] = len;
	return u_request(&q, &r);
}

static long close_handle(int32_t h)
{
	struct u_request q = u_req(U_CAP_CLOSE, h);
	struct u_reply r;
	return u_request(&q, &r);
}

/* The handle's type and rights (U_CAP_INFO); false when it is none. */
static bool info(int32_t h, uint64_t *type, uint64_t *rights)
{
	struct u_request q = u_req(U_CAP_INFO, h);
	struct u_reply r;
	if (u_request(&q, &r) != 0)
		return false;
	*type = r.results[0];
	*rights = r.results[1];
	return true;
}

static bool check_own_handle(void)
{
	uint64_t type, rights;
	return info(U_SPACE_HANDLE, &type, &rights) && type == U_TYPE_SPACE && rights == U_SPACE_RIGHTS;
}

static int write_word(void *arg)
{
	*(volatile uint64_t *)arg = 1;
	return 0; /* reached only if the write was allowed */
}

/* (a): a handle derived without WRITE maps read-only memory only. */
static bool check_weak_handle(void)
{
	struct u_request q = u_req(U_CAP_DERIVE, U_SPACE_HANDLE);
	struct u_reply r;
	q.args[0] = U_RIGHT_READ | U_RIGHT_MAP;
	if (u_request(&q, &r) != 0 || r.handles[0] == U_HANDLE_NONE)
		return false;
	int32_t weak = r.handles[0];
	uint64_t type, rights;
	bool ok = info(weak, &type, &rights) && rights == (U_RIGHT_READ | U_RIGHT_MAP);
	q = map_req(weak, 4 * PAGE, RW, ANON);
	ok &= u_request(&q, &r) == -MMK_EPERM && r.status == -MMK_EPERM && r.results[0] == 0;
	q = map_req(weak, 4 * PAGE, PROT_READ, ANON);
	if (u_request(&q, &r) != 0)
		return false;
	volatile uint64_t *p = (volatile uint64_t *)r.results[0];
	ok &= p[0] == 0 && p[3 * PAGE / 8] == 0;       /* readable, demand zero */
	ok &= u_in_child(write_word, (void *)p) == STATUS_SEGV; /* and really read-only */
	q = u_req(U_VM_PROTECT, weak);
	q.args[0] = (uint64_t)p;
	q.args[1] = PAGE;
	q.args[2] = RW;
	ok &= u_request(&q, &r) == -MMK_EPERM;            /* nor made writable later */
	q = u_req(U_CAP_DERIVE, weak);                    /* no DERIVE on it either */
	q.args[0] = U_RIGHT_READ;
	ok &= u_request(&q, &r) == -MMK_EPERM;
	ok &= u_mprotect((void *)p, PAGE, RW) == 0;       /* the process's own handle may */
	p[0] = 5;
	ok &= p[0] == 5 && unmap(weak, (uint64_t)p, 4 * PAGE) == 0;
	return ok && close_handle(weak) == 0 && !info(weak, &type, &rights);
}

/* (b): a number that names no handle is -MMK_EBADF, whatever it is. */
static bool check_bad_handles(void)
{
	const int32_t bad[] = { 37, 63, 64, 1 << 20, -2, -1000, U_HANDLE_NONE };
	bool ok = true;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct u_request q = map_req(bad[i], PAGE, PROT_READ, ANON);
		struct u_reply r;
		r.status = 1;
		ok &= u_request(&q, &r) == -MMK_EBADF && r.status == -MMK_EBADF;
		q = u_req(U_CAP_INFO, bad[i]);
		ok &= u_request(&q, &r) == -MMK_EBADF;
	}
	return ok;
}

/* The request itself: its shape, and the user pointers it comes through. */
static bool check_malformed(void)
{
	struct u_request q = u_req(U_OP(3, 200), U_SPACE_HANDLE);
	struct u_reply r;
	bool ok = u_request(&q, &r) == -MMK_ENOSYS;
	q = u_req(U_CAP_INFO, U_SPACE_HANDLE);
	q.flags = 1;
	ok &= u_request(&q, &r) == -MMK_EINVAL;
	q = u_req(U_CAP_INFO, U_SPACE_HANDLE);
	q.args[5] = 1; /* an argument cap_info does not take */
	ok &= u_request(&q, &r) == -MMK_EINVAL;
	ok &= u_request((const struct u_request *)0x10000000ul, &r) == -MMK_EFAULT;
	/* a read-only reply buffer: refused before the request runs */
	struct u_reply *ro = u_mmap(NULL, PAGE, PROT_READ, ANON);
	if (u_mmap_failed(ro))
		return false;
	q = u_req(U_CAP_DERIVE, U_SPACE_HANDLE);
	q.args[0] = U_RIGHT_READ;
	ok &= u_request(&q, ro) == -MMK_EACCES; /* uaccess: vm_fault's error for a write */
	uint64_t type, rights;
	ok &= !info(1, &type, &rights); /* no handle was made */
	return ok && u_munmap(ro, PAGE) == 0;
}

/* In a child: its handle 0 is its own, with the same rights; once it is
 * closed, mmap, mprotect and fork all answer -MMK_EBADF. */
static int without_own_handle(void *arg)
{
	(void)arg;
	if (!check_own_handle())
		return 1;
	uint64_t type, rights;
	if (info(1, &type, &rights))
		return 2; /* the parent's other handles stay with the parent */
	void *p = u_mmap(NULL, PAGE, RW, ANON);
	if (u_mmap_failed(p) || close_handle(U_SPACE_HANDLE) != 0)
		return 3;
	if (u_mmap(NULL, PAGE, RW, ANON) != (void *)(long)-MMK_EBADF)
		return 4;
	if (u_mprotect(p, PAGE, PROT_READ) != -MMK_EBADF || u_fork() != -MMK_EBADF)
		return 5;
	*(volatile uint64_t *)p = 9; /* what was mapped stays mapped */
	return 0;
}

static bool check_calls_use_handle(void)
{
	struct u_request q = u_req(U_CAP_DERIVE, U_SPACE_HANDLE); /* a handle 1 the child must not see */
	struct u_reply r;
	q.args[0] = U_RIGHT_READ;
	if (u_request(&q, &r) != 0)
		return false;
	bool ok = u_in_child(without_own_handle, NULL) == 0;
	return ok && check_own_handle() && close_handle(r.handles[0]) == 0;
}

/* A memory object mapped at two addresses of the space: one page, two views. */
static bool check_object_shared(void)
{
	struct u_request q = u_req(U_VM_OBJECT_CREATE, U_HANDLE_NONE);
	struct u_reply r;
	q.args[0] = PAGE;
	if (u_request(&q, &r) != 0)
		return false;
	int32_t obj = r.handles[0];
	volatile uint64_t *view[2];
	bool ok = true;
	for (int i = 0; i < 2; i++) {
		q = map_req(U_SPACE_HANDLE, PAGE, RW, MAP_SHARED);
		q.handles[1] = obj;
		ok &= u_request(&q, &r) == 0;
		view[i] = (volatile uint64_t *)r.results[0];
	}
	ok &= close_handle(obj) == 0; /* the mappings keep the object */
	if (!ok || view[0] == view[1])
		return false;
	view[0][7] = 77;
	ok = view[1][7] == 77;
	q = u_req(U_VM_QUERY, U_SPACE_HANDLE);
	q.args[0] = (uint64_t)view[1];
	ok &= u_request(&q, &r) == 0 && r.results[0] == (uint64_t)view[1] && r.results[2] == RW;
	return ok && unmap(U_SPACE_HANDLE, (uint64_t)view[0], PAGE) == 0 &&
	       unmap(U_SPACE_HANDLE, (uint64_t)view[1], PAGE) == 0;
}

int main(void)
{
	bool ok = true;
	ok &= u_report(".data starts at its initial value, .bss at zero", u_check_data_bss());
	ok &= u_report("handle 0 names this process's space with a process's rights", check_own_handle());
	ok &= u_report("a handle without WRITE: writable map -EPERM, read-only map works", check_weak_handle());
	ok &= u_report("a number naming no handle is refused with -EBADF", check_bad_handles());
	ok &= u_report("malformed requests and bad pointers get their exact errors", check_malformed());
	ok &= u_report("mmap, mprotect and fork go through handle 0 (closed: -EBADF)", check_calls_use_handle());
	ok &= u_report("a memory object mapped twice shares its page", check_object_shared());
	return ok ? 0 : 1;
}
