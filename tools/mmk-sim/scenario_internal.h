/*
 * scenario_internal.h - what scenario.c (accounts, MOPs, claims) and
 * scenario_physmem.c (containers, fragmentation, compaction) share: the
 * scenario's world and the script helpers.  Only mmk-sim's scenario mode
 * includes it.
 */
#ifndef MMK_SIM_SCENARIO_INTERNAL_H
#define MMK_SIM_SCENARIO_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <mmk/kmalloc.h>
#include <mmk/physmem.h>
#include <mmk/sys.h>
#include <sim_boot.h>

#define SCN_RES_SIZE (4ull << 30) /* the claims reservation: [0, 4 GiB) */
#define SCN_MAX_NAMES 256u
#define SCN_MAX_HANDLES 1024u
#define SCN_MAX_TOKENS 5

enum scn_kind { SCN_ACCOUNT, SCN_MOP, SCN_CONTAINER };

struct scn_name {
	char name[9];
	cap_handle_t h; /* CAP_HANDLE_NONE once destroyed or closed */
	enum scn_kind kind;
	uint64_t patterned; /* containers: pages 0..patterned-1 hold their index (interleave) */
};

struct scn {
	struct sim_system *s;
	FILE *out;
	const char *path;
	unsigned lineno;
	struct kmalloc_heap heap;
	struct acct_system acct;
	struct claims claims;
	struct physmem physmem;
	struct sys sys;
	struct sys_task *pm; /* the process manager */
	cap_handle_t root;   /* its handle to the root account */
	struct scn_name names[SCN_MAX_NAMES];
	unsigned nnames;
	uint64_t frames0;
	int status; /* 1 once a checker failed */
};

/* Report a malformed line on stderr (naming tok when not NULL); -1. */
int scn_script_error(struct scn *w, const char *what, const char *tok);
/* Parse a C literal (no sign) into *v: 0, or -1 reported. */
int scn_number(struct scn *w, const char *tok, uint64_t *v);
/* The object called name, of any kind: 0, or -1 reported. */
int scn_known(struct scn *w, const char *name, struct scn_name **out);
/* A new name (1 to 8 characters, unused), packed as sys names are: 0, or
 * -1 reported. */
int scn_fresh(struct scn *w, const char *name, uint64_t *packed);
/* Record name (checked by scn_fresh) for handle h. */
struct scn_name *scn_add(struct scn *w, const char *name, cap_handle_t h, enum scn_kind kind);
/* A request: op on h0 with a0, a1 and the other words zero. */
struct sys_request scn_request(uint32_t op, cap_handle_t h0, uint64_t a0, uint64_t a1);
/* Send q as the process manager and print OK or the error: its result. */
int scn_call(struct scn *w, const struct sys_request *q, struct sys_reply *r);

/* WORD H A B: op on the object named tok[1] with the numbers tok[2] and
 * tok[3] as a0 and a1, its result printed.  0, or -1 reported. */
int scn_range_call(struct scn *w, uint32_t op, char **tok);

/* ---- scenario_physmem.c: one word each, tok as run_line splits it ---- */
int scn_container(struct scn *w, char **tok);
int scn_allocate(struct scn *w, char **tok);
int scn_deallocate(struct scn *w, char **tok);
int scn_interleave(struct scn *w, char **tok);
int scn_verify(struct scn *w, char **tok);
int scn_compact(struct scn *w, char **tok);
void scn_frag(struct scn *w);

#endif
