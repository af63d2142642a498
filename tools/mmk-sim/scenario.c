/*
 * scenario.c - mmk-sim's scenario mode (scenario.h): a script of account,
 * MOP and claim calls, each sent through sys_dispatch by a process-manager
 * task that holds the root account, as a kernel's process manager would
 * (seed 000: it "will create a MOP for every process, and maintains the
 * authority to destroy said MOP").
 *
 * The world: a kmalloc heap, an account system whose root guarantees the
 * whole claims reservation (SCN_RES_SIZE bytes from 0, one frame per
 * page), a claims manager over that reservation revoking through the VM,
 * and a struct sys.  Revocation batches are the memory manager's own work,
 * not a request, so `revoke` calls claims_revoke_batch directly.  After
 * every line the checkers run (sys_check, acct_check, claims_check); at
 * the end the world is torn down and the free frames must be back.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <mmk/errno.h>
#include <mmk/kmalloc.h>
#include <mmk/sys.h>

#include "scenario.h"

#define SCN_RES_SIZE (4ull << 30)  /* the claims reservation: [0, 4 GiB) */
#define SCN_MAX_NAMES 256u
#define SCN_MAX_HANDLES 1024u
#define SCN_MAX_TOKENS 5

struct scn_name {
	char name[9];
	cap_handle_t h;   /* CAP_HANDLE_NONE once destroyed or closed */
	bool mop;
};

struct scn {
	struct sim_system *s;
	FILE *out;
	const char *path;
	unsigned lineno;
	struct kmalloc_heap heap;
	struct acct_system acct;
	struct claims claims;
	struct sys sys;
	struct sys_task *pm;   /* the process manager */
	cap_handle_t root;     /* its handle to the root account */
	struct scn_name names[SCN_MAX_NAMES];
	unsigned nnames;
	uint64_t frames0;
	int status;            /* 1 once a checker failed */
};

/* ---- the world ---- */

static int world_up(struct scn *w)
{
	vm_system_reap(&w->s->vm);
	w->frames0 = sim_system_free_frames(w->s);
	if (kmalloc_init(&w->heap, &w->s->phys, 0) ||
	    acct_system_init(&w->acct, &w->s->phys, SCN_RES_SIZE >> MMK_PAGE_SHIFT) ||
	    claims_init(&w->claims, &w->s->phys, 0, SCN_RES_SIZE, claims_vm_revoker, &w->s->vm) ||
	    sys_init(&w->sys, &w->s->vm, &w->heap, SCN_MAX_HANDLES) ||
	    sys_attach_accounts(&w->sys, &w->acct, &w->claims) || sys_task_create(&w->sys, &w->pm) ||
	    sys_task_install_account(w->pm, acct_root(&w->acct), CAP_RIGHTS_ACCOUNT, &w->root)) {
		fprintf(stderr, "mmk-sim: cannot set up the scenario's world\n");
		return -1;
	}
	return 0;
}

static void checkers(struct scn *w)
{
	const char *why = NULL;
	if (sys_check(&w->sys, &why) || acct_check(&w->acct, &why) || claims_check(&w->claims, &why)) {
		fprintf(stderr, "%s:%u: checker: %s\n", w->path, w->lineno, why ? why : "?");
		w->status = 1;
	}
}

/* Tear everything down; the frames must all come back. */
static void world_down(struct scn *w)
{
	sys_task_destroy(w->pm);
	sys_task_release(w->pm);
	int rc = sys_fini(&w->sys);
	if (!rc)
		rc = acct_system_fini(&w->acct);
	while (!rc && claims_queued_ranges(&w->claims))
		rc = claims_revoke_batch(&w->claims, CLAIMS_BATCH_MAX, NULL, NULL);
	if (!rc)
		rc = claims_fini(&w->claims);
	if (!rc)
		rc = kmalloc_fini(&w->heap);
	vm_system_reap(&w->s->vm); /* the process manager's space left an empty slab cached */
	uint64_t now = sim_system_free_frames(w->s);
	if (rc || now != w->frames0) {
		fprintf(stderr, "mmk-sim: scenario teardown: %s, %llu frames free, %llu before\n", mmk_strerror(rc),
			(unsigned long long)now, (unsigned long long)w->frames0);
		w->status = 1;
	}
}

static void print_state(struct scn *w)
{
	size_t n = claims_format(&w->claims, NULL, 0);
	size_t m = acct_format(&w->acct, NULL, 0);
	char *buf = malloc((n > m ? n : m) + 1);
	if (!buf)
		return;
	claims_format(&w->claims, buf, n + 1);
	fprintf(w->out, "---- claims and revocation queue ----\n%s", buf);
	acct_format(&w->acct, buf, m + 1);
	fprintf(w->out, "---- accounts ----\n%s", buf);
	free(buf);
}

/* ---- script words ---- */

static int script_error(struct scn *w, const char *what, const char *tok)
{
	fprintf(stderr, "%s:%u: %s%s%s\n", w->path, w->lineno, what, tok ? ": " : "", tok ? tok : "");
	return -1;
}

static int number(struct scn *w, const char *tok, uint64_t *v)
{
	char *end;
	errno = 0;
	*v = strtoull(tok, &end, 0);
	if (errno || end == tok || *end || tok[0] == '-')
		return script_error(w, "not a number", tok);
	return 0;
}

static struct scn_name *find(struct scn *w, const char *name)
{
	for (unsigned i = 0; i < w->nnames; i++)
		if (strcmp(w->names[i].name, name) == 0)
			return &w->names[i];
	return NULL;
}

static int known(struct scn *w, const char *name, struct scn_name **out)
{
	*out = find(w, name);
	return *out ? 0 : script_error(w, "no account or MOP of that name", name);
}

/* A new name: up to 8 characters sys accepts (mmk/sys.h), not used yet. */
static int fresh(struct scn *w, const char *name, uint64_t *packed)
{
	size_t len = strlen(name);
	if (len == 0 || len > 8)
		return script_error(w, "names are 1 to 8 characters", name);
	if (find(w, name))
		return script_error(w, "name already used", name);
	if (w->nnames == SCN_MAX_NAMES)
		return script_error(w, "too many names", NULL);
	*packed = 0;
	for (size_t i = 0; i < len; i++)
		*packed |= (uint64_t)(unsigned char)name[i] << (8 * i);
	return 0;
}

/* ---- calls ---- */

static struct sys_request request(uint32_t op, cap_handle_t h0, uint64_t a0, uint64_t a1)
{
	struct sys_request q;
	memset(&q, 0, sizeof(q));
	q.op = op;
	q.handles[0] = h0;
	for (int i = 1; i < SYS_NHANDLES; i++)
		q.handles[i] = CAP_HANDLE_NONE;
	q.args[0] = a0;
	q.args[1] = a1;
	return q;
}

/* Send q; print the result after the line already printed. */
static int call(struct scn *w, const struct sys_request *q, struct sys_reply *r)
{
	int rc = sys_dispatch(w->pm, q, r);
	fprintf(w->out, "%s", rc ? mmk_strerror(rc) : "OK");
	return rc;
}

/* account NAME FRAMES | split PARENT NAME FRAMES | mop NAME ACCOUNT LIMIT |
 * child NAME MOP LIMIT: make and name an object. */
static int make(struct scn *w, uint32_t op, cap_handle_t parent, const char *name, const char *amount)
{
	uint64_t packed, n;
	if (fresh(w, name, &packed) || number(w, amount, &n))
		return -1;
	struct sys_request q = request(op, parent, n, packed);
	struct sys_reply r;
	if (call(w, &q, &r) == 0) {
		struct scn_name *e = &w->names[w->nnames++];
		snprintf(e->name, sizeof(e->name), "%s", name);
		e->h = r.handles[0];
		e->mop = op == SYS_MOP_CREATE || op == SYS_MOP_CHILD;
		if (e->mop)
			fprintf(w->out, " #%llu", (unsigned long long)r.results[0]);
	}
	return 0;
}

static int range_call(struct scn *w, uint32_t op, char **tok)
{
	struct scn_name *m;
	uint64_t start, len;
	if (known(w, tok[1], &m) || number(w, tok[2], &start) || number(w, tok[3], &len))
		return -1;
	struct sys_request q = request(op, m->h, start, len);
	struct sys_reply r;
	call(w, &q, &r);
	return 0;
}

/* destroy NAME | close NAME | usage NAME */
static int object_call(struct scn *w, const char *verb, const char *name)
{
	struct scn_name *e;
	if (known(w, name, &e))
		return -1;
	uint32_t op = strcmp(verb, "close") == 0 ? SYS_CAP_CLOSE
		      : strcmp(verb, "destroy") == 0 ? (e->mop ? SYS_MOP_DESTROY : SYS_ACCOUNT_DESTROY)
						       : (e->mop ? SYS_MOP_USAGE : SYS_ACCOUNT_USAGE);
	struct sys_request q = request(op, e->h, 0, 0);
	struct sys_reply r;
	if (call(w, &q, &r) != 0)
		return 0;
	if (op == SYS_MOP_USAGE || op == SYS_ACCOUNT_USAGE)
		fprintf(w->out, " limit=%llu charged=%llu donated=%llu available=%llu",
			(unsigned long long)r.results[0], (unsigned long long)r.results[1],
			(unsigned long long)r.results[2], (unsigned long long)r.results[3]);
	else
		e->h = CAP_HANDLE_NONE; /* every handle naming it went; the number may be reused */
	return 0;
}

static void revoke(struct scn *w)
{
	struct vm_range ranges[CLAIMS_BATCH_MAX];
	size_t n = 0;
	int rc = claims_revoke_batch(&w->claims, CLAIMS_BATCH_MAX, ranges, &n);
	fprintf(w->out, "%s", rc ? mmk_strerror(rc) : "OK");
	for (size_t i = 0; !rc && i < n; i++)
		fprintf(w->out, " [%#llx, %#llx)", (unsigned long long)ranges[i].start,
			(unsigned long long)ranges[i].end);
}

/* One script line, split into tokens: 0, or -1 for a malformed line. */
static int run_line(struct scn *w, char **tok, int ntok)
{
	const char *cmd = tok[0];
	struct scn_name *p;
	const struct {
		const char *cmd;
		int ntok;
	} arity[] = { { "account", 3 }, { "split", 4 }, { "mop", 4 },	   { "child", 4 },  { "claim", 4 },
		      { "release", 4 }, { "destroy", 2 }, { "close", 2 }, { "usage", 2 }, { "revoke", 1 },
		      { "print", 1 } };
	size_t i = 0;
	while (i < sizeof(arity) / sizeof(arity[0]) && strcmp(arity[i].cmd, cmd) != 0)
		i++;
	if (i == sizeof(arity) / sizeof(arity[0]))
		return script_error(w, "unknown command", cmd);
	if (ntok != arity[i].ntok)
		return script_error(w, "wrong number of arguments for", cmd);
	if (strcmp(cmd, "account") == 0)
		return make(w, SYS_ACCOUNT_SPLIT, w->root, tok[1], tok[2]);
	if (strcmp(cmd, "split") == 0)
		return known(w, tok[1], &p) ? -1 : make(w, SYS_ACCOUNT_SPLIT, p->h, tok[2], tok[3]);
	if (strcmp(cmd, "mop") == 0)
		return known(w, tok[2], &p) ? -1 : make(w, SYS_MOP_CREATE, p->h, tok[1], tok[3]);
	if (strcmp(cmd, "child") == 0)
		return known(w, tok[2], &p) ? -1 : make(w, SYS_MOP_CHILD, p->h, tok[1], tok[3]);
	if (strcmp(cmd, "claim") == 0 || strcmp(cmd, "release") == 0)
		return range_call(w, cmd[0] == 'c' ? SYS_MOP_CLAIM : SYS_MOP_RELEASE, tok);
	if (strcmp(cmd, "revoke") == 0) {
		revoke(w);
		return 0;
	}
	if (strcmp(cmd, "print") == 0) {
		fprintf(w->out, "\n");
		print_state(w);
		return 0;
	}
	return object_call(w, cmd, tok[1]);
}

/* Strip the comment and the line end; split into at most SCN_MAX_TOKENS
 * tokens (one more is reported as too many). */
static int tokens(char *line, char **tok)
{
	char *hash = strchr(line, '#');
	if (hash)
		*hash = '\0';
	int n = 0;
	char *save = NULL;
	for (char *t = strtok_r(line, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == SCN_MAX_TOKENS)
			return SCN_MAX_TOKENS + 1;
		tok[n++] = t;
	}
	return n;
}

static int run_script(struct scn *w, FILE *in)
{
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;
	while (rc == 0 && getline(&line, &cap, in) != -1) {
		w->lineno++;
		char shown[256];
		snprintf(shown, sizeof(shown), "%s", line);
		char *tok[SCN_MAX_TOKENS];
		int ntok = tokens(line, tok);
		if (ntok == 0)
			continue;
		if (ntok > SCN_MAX_TOKENS) {
			rc = script_error(w, "too many words", NULL);
			break;
		}
		char *hash = strpbrk(shown, "#\r\n");
		if (hash)
			*hash = '\0';
		for (size_t n = strlen(shown); n && (shown[n - 1] == ' ' || shown[n - 1] == '\t'); n--)
			shown[n - 1] = '\0';
		fprintf(w->out, "%4u  %-36s -> ", w->lineno, shown);
		rc = run_line(w, tok, ntok);
		fprintf(w->out, "%s\n", rc ? "malformed line (see stderr)" : "");
		checkers(w);
	}
	free(line);
	return rc;
}

int scenario_run(struct sim_system *s, const char *path, FILE *out)
{
	FILE *in = fopen(path, "r");
	if (!in) {
		fprintf(stderr, "mmk-sim: cannot read %s: %s\n", path, strerror(errno));
		return 2;
	}
	struct scn *w = calloc(1, sizeof(*w));
	if (!w) {
		fclose(in);
		return 2;
	}
	w->s = s;
	w->out = out;
	w->path = path;
	if (world_up(w)) {
		fclose(in);
		free(w);
		return 2;
	}
	fprintf(out, "scenario: the process manager holds the root account (handle %d)\n", w->root);
	int rc = run_script(w, in);
	fclose(in);
	fprintf(out, "\n==== end of scenario ====\n");
	print_state(w);
	world_down(w);
	int status = rc ? 2 : w->status;
	free(w);
	return status;
}
