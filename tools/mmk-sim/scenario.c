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
 * a physmem for the container words (scenario_physmem.c) and a struct sys.
 * Revocation batches and compaction passes are the memory manager's own
 * work, not requests, so `revoke` and `compact` call claims_revoke_batch
 * and physmem_compact directly.  After every line the checkers run
 * (sys_check, acct_check, claims_check, physmem_check); at the end the
 * world is torn down and the free frames must be back.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <mmk/errno.h>

#include "scenario.h"
#include "scenario_internal.h"

/* ---- the world ---- */

static int world_up(struct scn *w)
{
	vm_system_reap(&w->s->vm);
	w->frames0 = sim_system_free_frames(w->s);
	if (kmalloc_init(&w->heap, &w->s->phys, 0) ||
	    acct_system_init(&w->acct, &w->s->phys, SCN_RES_SIZE >> MMK_PAGE_SHIFT) ||
	    claims_init(&w->claims, &w->s->phys, 0, SCN_RES_SIZE, claims_vm_revoker, &w->s->vm) ||
	    sys_init(&w->sys, &w->s->vm, &w->heap, SCN_MAX_HANDLES) ||
	    physmem_init(&w->physmem, &w->s->phys, &w->s->vm) ||
	    sys_attach_accounts(&w->sys, &w->acct, &w->claims) || sys_attach_physmem(&w->sys, &w->physmem) ||
	    sys_task_create(&w->sys, &w->pm) ||
	    sys_task_install_account(w->pm, acct_root(&w->acct), CAP_RIGHTS_ACCOUNT, &w->root)) {
		fprintf(stderr, "mmk-sim: cannot set up the scenario's world\n");
		return -1;
	}
	return 0;
}

static void checkers(struct scn *w)
{
	const char *why = NULL;
	if (sys_check(&w->sys, &why) || acct_check(&w->acct, &why) || claims_check(&w->claims, &why) ||
	    physmem_check(&w->physmem, &why)) {
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
		rc = physmem_fini(&w->physmem);
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

int scn_script_error(struct scn *w, const char *what, const char *tok)
{
	fprintf(stderr, "%s:%u: %s%s%s\n", w->path, w->lineno, what, tok ? ": " : "", tok ? tok : "");
	return -1;
}

int scn_number(struct scn *w, const char *tok, uint64_t *v)
{
	char *end;
	errno = 0;
	*v = strtoull(tok, &end, 0);
	if (errno || end == tok || *end || tok[0] == '-')
		return scn_script_error(w, "not a number", tok);
	return 0;
}

static struct scn_name *find(struct scn *w, const char *name)
{
	for (unsigned i = 0; i < w->nnames; i++)
		if (strcmp(w->names[i].name, name) == 0)
			return &w->names[i];
	return NULL;
}

/* Any kind: a handle of the wrong type is the request's to refuse (the
 * scripts test exactly that). */
int scn_known(struct scn *w, const char *name, struct scn_name **out)
{
	*out = find(w, name);
	return *out ? 0 : scn_script_error(w, "nothing of that name", name);
}

/* A new name: up to 8 characters sys accepts (mmk/sys.h), not used yet. */
int scn_fresh(struct scn *w, const char *name, uint64_t *packed)
{
	size_t len = strlen(name);
	if (len == 0 || len > 8)
		return scn_script_error(w, "names are 1 to 8 characters", name);
	if (find(w, name))
		return scn_script_error(w, "name already used", name);
	if (w->nnames == SCN_MAX_NAMES)
		return scn_script_error(w, "too many names", NULL);
	*packed = 0;
	for (size_t i = 0; i < len; i++)
		*packed |= (uint64_t)(unsigned char)name[i] << (8 * i);
	return 0;
}

struct scn_name *scn_add(struct scn *w, const char *name, cap_handle_t h, enum scn_kind kind)
{
	struct scn_name *e = &w->names[w->nnames++];
	*e = (struct scn_name){ .h = h, .kind = kind };
	snprintf(e->name, sizeof(e->name), "%s", name);
	return e;
}

/* ---- calls ---- */

struct sys_request scn_request(uint32_t op, cap_handle_t h0, uint64_t a0, uint64_t a1)
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
int scn_call(struct scn *w, const struct sys_request *q, struct sys_reply *r)
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
	if (scn_fresh(w, name, &packed) || scn_number(w, amount, &n))
		return -1;
	struct sys_request q = scn_request(op, parent, n, packed);
	struct sys_reply r;
	if (scn_call(w, &q, &r) == 0) {
		bool mop = op == SYS_MOP_CREATE || op == SYS_MOP_CHILD;
		scn_add(w, name, r.handles[0], mop ? SCN_MOP : SCN_ACCOUNT);
		if (mop)
			fprintf(w->out, " #%llu", (unsigned long long)r.results[0]);
	}
	return 0;
}

int scn_range_call(struct scn *w, uint32_t op, char **tok)
{
	struct scn_name *m;
	uint64_t start, len;
	if (scn_known(w, tok[1], &m) || scn_number(w, tok[2], &start) || scn_number(w, tok[3], &len))
		return -1;
	struct sys_request q = scn_request(op, m->h, start, len);
	struct sys_reply r;
	scn_call(w, &q, &r);
	return 0;
}

/* destroy NAME | close NAME | usage NAME */
static int object_call(struct scn *w, const char *verb, const char *name)
{
	struct scn_name *e;
	if (scn_known(w, name, &e))
		return -1;
	static const uint32_t destroy[] = { [SCN_ACCOUNT] = SYS_ACCOUNT_DESTROY, [SCN_MOP] = SYS_MOP_DESTROY,
					    [SCN_CONTAINER] = SYS_CONTAINER_DESTROY };
	uint32_t op = strcmp(verb, "close") == 0     ? SYS_CAP_CLOSE
		      : strcmp(verb, "destroy") == 0 ? destroy[e->kind]
		      : e->kind == SCN_MOP	     ? SYS_MOP_USAGE
						     : SYS_ACCOUNT_USAGE;
	struct sys_request q = scn_request(op, e->h, 0, 0);
	struct sys_reply r;
	if (scn_call(w, &q, &r) != 0)
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
		      { "print", 1 },	{ "container", 3 }, { "allocate", 4 }, { "deallocate", 4 }, { "interleave", 4 },
		      { "verify", 2 },	{ "frag", 1 },	    { "compact", 2 } };
	size_t i = 0;
	while (i < sizeof(arity) / sizeof(arity[0]) && strcmp(arity[i].cmd, cmd) != 0)
		i++;
	if (i == sizeof(arity) / sizeof(arity[0]))
		return scn_script_error(w, "unknown command", cmd);
	if (ntok != arity[i].ntok)
		return scn_script_error(w, "wrong number of arguments for", cmd);
	if (strcmp(cmd, "account") == 0)
		return make(w, SYS_ACCOUNT_SPLIT, w->root, tok[1], tok[2]);
	if (strcmp(cmd, "split") == 0)
		return scn_known(w, tok[1], &p) ? -1 : make(w, SYS_ACCOUNT_SPLIT, p->h, tok[2], tok[3]);
	if (strcmp(cmd, "mop") == 0)
		return scn_known(w, tok[2], &p) ? -1 : make(w, SYS_MOP_CREATE, p->h, tok[1], tok[3]);
	if (strcmp(cmd, "child") == 0)
		return scn_known(w, tok[2], &p) ? -1 : make(w, SYS_MOP_CHILD, p->h, tok[1], tok[3]);
	if (strcmp(cmd, "claim") == 0 || strcmp(cmd, "release") == 0)
		return scn_range_call(w, cmd[0] == 'c' ? SYS_MOP_CLAIM : SYS_MOP_RELEASE, tok);
	if (strcmp(cmd, "revoke") == 0) {
		revoke(w);
		return 0;
	}
	static const struct {
		const char *cmd;
		int (*run)(struct scn *, char **);
	} physmem_words[] = { { "container", scn_container },	{ "allocate", scn_allocate },
			      { "deallocate", scn_deallocate }, { "interleave", scn_interleave },
			      { "verify", scn_verify },		{ "compact", scn_compact } };
	for (size_t k = 0; k < sizeof(physmem_words) / sizeof(physmem_words[0]); k++)
		if (strcmp(cmd, physmem_words[k].cmd) == 0)
			return physmem_words[k].run(w, tok);
	if (strcmp(cmd, "frag") == 0) {
		scn_frag(w);
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
			rc = scn_script_error(w, "too many words", NULL);
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
