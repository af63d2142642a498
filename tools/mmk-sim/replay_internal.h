/*
 * replay_internal.h - state shared by the files of the replay engine
 * (replay.c drives, calls.c applies memory calls, layout.c loads and
 * compares layouts).
 */
#ifndef MMK_SIM_REPLAY_INTERNAL_H
#define MMK_SIM_REPLAY_INTERNAL_H

#include "replay.h"

struct replay {
	struct sim_system *sys;
	struct capture *cap;
	const struct replay_options *opt;
	struct replay_report *rep;
	struct world w;
	unsigned messages;
	/* prepass results */
	struct child_info *children;
	size_t nchildren;
	int root_tid;
};

/* A message about the capture (mismatch, unexplained line), rate-limited. */
void replay_msg(struct replay *r, uint32_t line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Apply one memory call of task t; returns true if the name was a memory
 * call it handled (counted in calls), false for calls it ignores. */
bool replay_mm_call(struct replay *r, struct wtask *t, const strace_event *e);
/* Descriptor bookkeeping for calls that create, copy or close fds. */
void replay_fd_call(struct replay *r, struct wtask *t, const strace_event *e);

/* Load snapshot s into p's (fresh) space.  0 or a negative error. */
int layout_load(struct replay *r, struct wproc *p, const struct cap_snapshot *s);
/* Compare p's space with Linux's exit snapshot s page by page; returns the
 * pages that differ and logs the first differences. */
uint64_t layout_compare(struct replay *r, struct wproc *p, const struct cap_snapshot *s);
/* Write p's layout in maps.txt format under a header for snapshot s (or
 * synthesised from the event when s is NULL). */
void layout_write_maps(struct replay *r, struct wproc *p, const struct cap_snapshot *s, const strace_event *e);

/* --limit: when p's space had an allocation refused by its account since
 * the last look, record where (what: the call's name or "fault"). */
void replay_note_limit(struct replay *r, struct wproc *p, const char *what, uint64_t addr, uint32_t line);

/* Time a call into mmk. */
uint64_t replay_now_ns(void);

#endif
