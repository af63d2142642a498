/*
 * sys_fixture.h - a booted PC (vm_fixture) with a kmalloc heap and a
 * struct sys with an account system and a claims manager attached, for the
 * tests of src/sys (and a physmem attached for containers): request builders, the checkers run after every step
 * (sys_check, kmalloc_check, the handle cache, phys_check, vm_check of
 * every space the sys made, acct_check, claims_check, physmem_check), and a
 * text snapshot of every table, object, layout, container, the account
 * tree and the claims trie for "nothing changed".
 *
 * Hosted test code: libc and cmocka freely.
 */
#ifndef MMK_TESTS_SYS_FIXTURE_H
#define MMK_TESTS_SYS_FIXTURE_H

#include <mmk/cap.h>
#include <mmk/kmalloc.h>
#include <mmk/sys.h>

#include "vm_fixture.h"

#define SFX_MAX_HANDLES 64u
#define SFX_ROOT_FRAMES 65536u                /* the root account's limit */
#define SFX_CLAIMS_BASE ((vaddr_t)0x10000000) /* the claims reservation (where the tests map) */
#define SFX_CLAIMS_SIZE (64ull << 20)

struct sfx {
	struct vmfx vm;
	struct kmalloc_heap heap;
	struct acct_system acct;
	struct claims claims;  /* revoker: vm_revoke over the fixture's vm_system */
	struct physmem pm;     /* containers, mapping into the fixture's vm_system */
	struct sys sys;
	uint64_t free0; /* free frames before the heap and sys: the leak baseline */
};

/* Boot ram_bytes, a heap and a sys whose tasks get max_handles slots. */
void sfx_boot(struct sfx *fx, uint64_t ram_bytes, uint32_t max_handles);
/* sys_fini, then the accounts (the root destroyed) and the claims (every
 * queued range revoked), kmalloc_fini, then the vm fixture's shutdown
 * (leak baseline).  Every task must have been destroyed and released. */
void sfx_shutdown(struct sfx *fx);

/* A calloc'd fixture booted with 64 MiB and SFX_MAX_HANDLES; its shutdown
 * and free. */
struct sfx *sfx_new(void);
void sfx_delete(struct sfx *fx);

/* A kernel-made task (asserts success); the caller releases it. */
struct sys_task *sfx_task(struct sfx *fx);
/* Destroy and release. */
void sfx_task_done(struct sfx *fx, struct sys_task *t);

/* Every checker; fails the test with the reason. */
void sfx_check(struct sfx *fx);

/* Snapshot of everything a request may change (malloc'd). */
char *sfx_state(struct sfx *fx);
/* Fail when the state differs from before (printing both); frees nothing. */
void sfx_same_state(struct sfx *fx, const char *before, const char *what);

/* A request with every handle NONE and every arg 0. */
struct sys_request sfx_req(uint32_t op);
/* Dispatch, then assert the status is want and run the checkers. */
#define sfx_call(fx, task, req, rep, want) sfx_call_((fx), (task), (req), (rep), (want), __FILE__, __LINE__)
void sfx_call_(struct sfx *fx, struct sys_task *t, const struct sys_request *req, struct sys_reply *rep, int want,
	       const char *file, int line);
/* Dispatch expecting the error want, and prove nothing changed. */
#define sfx_refused(fx, task, req, want) sfx_refused_((fx), (task), (req), (want), __FILE__, __LINE__)
void sfx_refused_(struct sfx *fx, struct sys_task *t, const struct sys_request *req, int want, const char *file,
		  int line);

/* The allocation-failure sweep of one request: fail the n-th allocation
 * for n = 1, 2, ...: each failure is ENOMEM (EMFILE never: the tables have
 * room) and changes nothing (snapshot and checkers); then the request
 * succeeds into *r.  Prints how many failures were refused cleanly. */
void sfx_sweep(struct sfx *fx, struct sys_task *t, const struct sys_request *q, struct sys_reply *r);

/* Short calls that must succeed; return the new handle / result. */
cap_handle_t sfx_derive(struct sfx *fx, struct sys_task *t, cap_handle_t h, cap_rights_t rights);
cap_handle_t sfx_grant(struct sfx *fx, struct sys_task *t, cap_handle_t h, cap_handle_t task_h, cap_rights_t rights);
cap_handle_t sfx_new_space(struct sfx *fx, struct sys_task *t);
vaddr_t sfx_map(struct sfx *fx, struct sys_task *t, cap_handle_t space, vaddr_t hint, uint64_t len, unsigned prot,
		unsigned flags);

/* The vm_space a space handle of t names (the handle must exist). */
struct vm_space *sfx_space(struct sys_task *t, cap_handle_t h);

/* A root handle to the root account in t's table, with every account right. */
cap_handle_t sfx_root_account(struct sfx *fx, struct sys_task *t);

/* The handle's rights (via SYS_CAP_INFO), or -1 when it is not a handle. */
int64_t sfx_rights(struct sfx *fx, struct sys_task *t, cap_handle_t h);

#endif
