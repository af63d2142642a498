/*
 * uaccess.c - copies between kernel buffers and user address spaces
 * (uaccess.h), page by page through the pmap and the direct map.
 */
#include "uaccess.h"

#include <mmk/errno.h>

#include "kernel.h"
#include "klib.h"

/* The kernel pointer behind user address va for access, faulting the page
 * in (or upgrading it: copy-on-write for a write) as the CPU would. */
static int user_page(struct vm_space *as, vaddr_t va, unsigned access, uint8_t **out)
{
	for (int tries = 0; tries < 2; tries++) {
		paddr_t pa;
		unsigned bits;
		if (va < PMAP_USER_END && pmap_extract(&as->pmap, va, &pa, &bits) == 0 && (bits & PMAP_PROT_USER) &&
		    (bits & PMAP_PROT_READ) && (!(access & PMAP_ACCESS_WRITE) || (bits & PMAP_PROT_WRITE))) {
			*out = (uint8_t *)hal_phys_map(as->sys->machine, pa) + (va & MMK_PAGE_MASK);
			return 0;
		}
		if (va >= PMAP_USER_END)
			return -MMK_EFAULT;
		int rc = vm_fault(as, va, access);
		if (rc)
			return rc;
	}
	return -MMK_EFAULT;
}

static size_t chunk(vaddr_t va, size_t left)
{
	size_t room = MMK_PAGE_SIZE - (va & MMK_PAGE_MASK);
	return left < room ? left : room;
}

/* Copy len bytes between kernel buffer k and user address va, page by
 * page; to_user says which way (and the access each page must allow). */
static int copy_pages(struct vm_space *as, vaddr_t va, uint8_t *k, size_t len, bool to_user)
{
	while (len) {
		uint8_t *u;
		int rc = user_page(as, va, to_user ? PMAP_ACCESS_WRITE : PMAP_ACCESS_READ, &u);
		if (rc)
			return rc;
		size_t n = chunk(va, len);
		if (to_user)
			memcpy(u, k, n);
		else
			memcpy(k, u, n);
		k += n;
		va += n;
		len -= n;
	}
	return 0;
}

int uaccess_copy_out(struct vm_space *as, vaddr_t dst, const void *src, size_t len)
{
	return copy_pages(as, dst, (uint8_t *)(uintptr_t)src, len, true);
}

int uaccess_copy_in(struct vm_space *as, void *dst, vaddr_t src, size_t len)
{
	return copy_pages(as, src, dst, len, false);
}

int uaccess_string_in(struct vm_space *as, char *buf, size_t cap, vaddr_t src)
{
	for (size_t i = 0; i < cap; i++) {
		int rc = uaccess_copy_in(as, &buf[i], src + i, 1);
		if (rc)
			return rc;
		if (buf[i] == 0)
			return 0;
	}
	if (cap)
		buf[cap - 1] = 0;
	return -MMK_ERANGE;
}
