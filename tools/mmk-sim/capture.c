/*
 * capture.c - load a capture directory for replay (see capture.h).
 */
#include "capture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faults_parse.h"
#include "maps_parse.h"

struct capture_priv {
	char *texts[3];
	maps_file maps;
	faults_file faults;
};

static void copy_problems(sim_problems *to, const sim_problems *from, const char *file)
{
	for (size_t i = 0; i < from->n; i++)
		sim_problems_add(to, from->v[i].line, "%s: %s", file, from->v[i].reason);
}

static void take_snapshots(struct capture *c, const maps_file *m)
{
	c->snaps = calloc(m->n + 1, sizeof(*c->snaps));
	c->nsnaps = m->n;
	for (size_t s = 0; s < m->n; s++) {
		const maps_snapshot *ms = &m->snaps[s];
		struct cap_snapshot *cs = &c->snaps[s];
		cs->is_exit = ms->event == MAPS_EXIT_GROUP;
		cs->tgid = ms->tgid;
		cs->tid = ms->tid;
		cs->ts_us = ms->ts_us;
		cs->ts_text = ms->ts_text;
		cs->exe = ms->exe;
		cs->event = -1;
		cs->n = ms->n;
		cs->e = calloc(ms->n + 1, sizeof(*cs->e));
		for (size_t i = 0; i < ms->n; i++) {
			const maps_entry *me = &ms->entries[i];
			cs->e[i] = (struct cap_entry){ me->start, me->end, me->prot, me->shared, me->offset,
						       me->dev_major, me->dev_minor, me->inode, me->path };
		}
	}
}

static void take_faults(struct capture *c, const faults_file *f)
{
	c->faults = calloc(f->n + 1, sizeof(*c->faults));
	c->nfaults = f->n;
	for (size_t i = 0; i < f->n; i++) {
		const fault_rec *r = &f->v[i];
		c->faults[i] = (struct cap_fault){ .ts_us = r->ts_us, .tid = r->tid, .kind = r->kind,
						   .addr = r->addr, .error_code = r->error_code,
						   .line = r->line, .anchor = -1 };
	}
}

int capture_load(const char *dir, struct capture *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	struct capture_priv *p = calloc(1, sizeof(*p));
	c->priv = p;
	c->dir = strdup(dir);
	const char *slash = strrchr(c->dir, '/');
	while (slash && slash[1] == '\0' && slash > c->dir) { /* trailing slashes */
		c->dir[slash - c->dir] = '\0';
		slash = strrchr(c->dir, '/');
	}
	c->name = slash ? slash + 1 : c->dir;
	size_t len;
	if (zread_capture(dir, "strace.txt", &p->texts[0], &len, err, errlen) != 0)
		return -1;
	if (strace_parse(p->texts[0], len, &c->trace) != 0) {
		snprintf(err, errlen, "%s/strace.txt: out of memory while parsing", dir);
		return -1;
	}
	char dummy[256];
	if (zread_capture(dir, "maps.txt", &p->texts[1], &len, dummy, sizeof(dummy)) == 0) {
		if (maps_parse(p->texts[1], len, &p->maps) == 0) {
			copy_problems(&c->problems, &p->maps.problems, "maps.txt");
			take_snapshots(c, &p->maps);
		}
	}
	if (zread_capture(dir, "faults.tsv", &p->texts[2], &len, dummy, sizeof(dummy)) == 0) {
		if (faults_parse(p->texts[2], len, &p->faults) == 0) {
			copy_problems(&c->problems, &p->faults.problems, "faults.tsv");
			take_faults(c, &p->faults);
		}
	}
	return 0;
}

void capture_free(struct capture *c)
{
	struct capture_priv *p = c->priv;
	strace_trace_free(&c->trace);
	for (size_t s = 0; s < c->nsnaps; s++)
		free(c->snaps[s].e);
	free(c->snaps);
	free(c->faults);
	sim_problems_free(&c->problems);
	if (p) {
		maps_file_free(&p->maps);
		faults_file_free(&p->faults);
		for (int i = 0; i < 3; i++)
			free(p->texts[i]);
		free(p);
	}
	free(c->dir);
	memset(c, 0, sizeof(*c));
}
