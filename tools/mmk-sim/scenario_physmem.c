/*
 * scenario_physmem.c - the scenario words for seed 001's physmem
 * (scenario.h): containers made from the script's accounts, allocation
 * and deallocation through the container requests of src/sys, and the
 * fragmentation picture before and after a compaction pass (issue 6,
 * item 6: "mmk-sim shows fragmentation before and after a compaction
 * pass").
 *
 * `interleave A B PAGES` is how a script fragments memory: pages go one at
 * a time, alternately, to two containers, so their frames alternate in
 * physical memory; destroying one of them then leaves every other frame
 * free and no free block above order 0 in that stretch.  Each page holds
 * its own index in its first 8 bytes, and `verify` reads them back through
 * the container after compaction has moved the frames.
 */
#include <string.h>

#include <mmk/errno.h>

#include "scenario_internal.h"

#define SCN_PAGE MMK_PAGE_SIZE

/* container NAME ACCOUNT: a new empty container charging ACCOUNT. */
int scn_container(struct scn *w, char **tok)
{
	uint64_t packed;
	struct scn_name *acct;
	if (scn_fresh(w, tok[1], &packed) || scn_known(w, tok[2], &acct))
		return -1;
	struct sys_request q = scn_request(SYS_CONTAINER_CREATE, acct->h, 0, 0);
	struct sys_reply r;
	if (scn_call(w, &q, &r) == 0)
		scn_add(w, tok[1], r.handles[0], SCN_CONTAINER);
	return 0;
}

/* allocate C OFFSET PAGES (all or nothing) | deallocate C OFFSET LEN
 * (bytes): the request with C, OFFSET and the count as they are. */
int scn_allocate(struct scn *w, char **tok)
{
	return scn_range_call(w, SYS_CONTAINER_ALLOCATE, tok);
}

int scn_deallocate(struct scn *w, char **tok)
{
	return scn_range_call(w, SYS_CONTAINER_DEALLOCATE, tok);
}

/* One page at page index pg of c, holding pg in its first 8 bytes. */
static int patterned_page(struct scn *w, struct scn_name *c, uint64_t pg)
{
	struct sys_reply r;
	struct sys_request q = scn_request(SYS_CONTAINER_ALLOCATE, c->h, pg * SCN_PAGE, 1);
	int rc = sys_dispatch(w->pm, &q, &r);
	if (rc)
		return rc;
	q = scn_request(SYS_CONTAINER_WRITE, c->h, pg * SCN_PAGE, 8);
	q.args[2] = pg;
	rc = sys_dispatch(w->pm, &q, &r);
	if (rc) { /* give the page back: the line's failure leaves no stray page */
		q = scn_request(SYS_CONTAINER_DEALLOCATE, c->h, pg * SCN_PAGE, SCN_PAGE);
		sys_dispatch(w->pm, &q, &r);
		return rc;
	}
	c->patterned = pg + 1;
	return 0;
}

/* interleave A B PAGES: pages 0..PAGES-1 to A and B in turn, stopping at
 * the first refusal (running out of frames is the usual way to end). */
int scn_interleave(struct scn *w, char **tok)
{
	struct scn_name *c[2];
	uint64_t pages;
	if (scn_known(w, tok[1], &c[0]) || scn_known(w, tok[2], &c[1]) || scn_number(w, tok[3], &pages))
		return -1;
	if (c[0] == c[1] || c[0]->patterned || c[1]->patterned)
		return scn_script_error(w, "interleave takes two different containers, not interleaved before", NULL);
	int rc = 0;
	for (uint64_t pg = 0; rc == 0 && pg < pages; pg++)
		for (int i = 0; rc == 0 && i < 2; i++)
			rc = patterned_page(w, c[i], pg);
	fprintf(w->out, "%s: %s holds %llu pages, %s %llu", rc ? mmk_strerror(rc) : "OK", c[0]->name,
		(unsigned long long)c[0]->patterned, c[1]->name, (unsigned long long)c[1]->patterned);
	return 0;
}

/* verify C: every page interleave gave C still holds its index.  A
 * difference is a failure of the run (status 1), as a checker's. */
int scn_verify(struct scn *w, char **tok)
{
	struct scn_name *c;
	if (scn_known(w, tok[1], &c))
		return -1;
	uint64_t differ = 0;
	int rc = 0;
	for (uint64_t pg = 0; rc == 0 && pg < c->patterned; pg++) {
		struct sys_request q = scn_request(SYS_CONTAINER_READ, c->h, pg * SCN_PAGE, 8);
		struct sys_reply r;
		rc = sys_dispatch(w->pm, &q, &r);
		differ += rc == 0 && r.results[0] != pg;
	}
	if (rc)
		fprintf(w->out, "%s", mmk_strerror(rc));
	else
		fprintf(w->out, "%s: %llu of %llu pages differ", differ ? "DIFFERENT" : "OK",
			(unsigned long long)differ, (unsigned long long)c->patterned);
	if (differ) {
		fprintf(stderr, "%s:%u: %s lost the contents of %llu pages\n", w->path, w->lineno, c->name,
			(unsigned long long)differ);
		w->status = 1;
	}
	return 0;
}

/* compact ORDER: one compaction pass building free blocks of ORDER. */
int scn_compact(struct scn *w, char **tok)
{
	uint64_t order;
	if (scn_number(w, tok[1], &order))
		return -1;
	struct pm_compact_result res;
	memset(&res, 0, sizeof(res));
	int rc = physmem_compact(&w->physmem, order > 64 ? 64 : (unsigned)order, 0, &res);
	fprintf(w->out, "%s", rc ? mmk_strerror(rc) : "OK");
	if (rc == 0)
		fprintf(w->out, ": %llu frames moved, %llu of %llu regions emptied, %llu pinned and %llu busy left",
			(unsigned long long)res.frames_moved, (unsigned long long)res.regions_freed,
			(unsigned long long)res.regions_tried, (unsigned long long)res.skipped_pinned,
			(unsigned long long)res.skipped_busy);
	return 0;
}

/* frag: free frames, the largest free block, free blocks per order (as
 * /proc/buddyinfo, all zones summed). */
void scn_frag(struct scn *w)
{
	struct pm_frag_stats st;
	physmem_frag_stats(&w->physmem, &st);
	fprintf(w->out, "free %llu frames, largest block order %d\n      free blocks per order:",
		(unsigned long long)st.free_frames, st.largest_order);
	for (unsigned o = 0; o <= MMK_MAX_ORDER; o++)
		fprintf(w->out, " %u:%llu", o, (unsigned long long)st.nr_free[o]);
}
