/*
 * report.h - mmk-sim's reports: text on stdout, JSON for other tools
 * (keys fixed by issue 2: calls, calls_matched, unexplained_lines, faults,
 * faults_refused, layout_mismatched_pages, processes, frames,
 * buddy_free_blocks, ns_per_call).
 */
#ifndef MMK_SIM_REPORT_H
#define MMK_SIM_REPORT_H

#include <stdio.h>

#include "replay.h"

void report_text(FILE *out, const struct replay_report *reps, size_t n, struct sim_system *s);
/* 0, or -1 with a message on stderr when the file cannot be written. */
int report_json(const char *path, const struct replay_report *reps, size_t n, struct sim_system *s);

#endif
