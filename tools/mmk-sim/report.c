/*
 * report.c - text and JSON reports of a replay (see report.h).  JSON is
 * built with jansson.
 */
#include "report.h"

#include <jansson.h>
#include <string.h>

static double mib(uint64_t bytes) { return (double)bytes / (1024.0 * 1024.0); }

static double ns_per_call(const struct replay_report *r)
{
	return r->timed_calls ? (double)r->ns_in_calls / (double)r->timed_calls : 0.0;
}

static void text_frames(FILE *out, const struct replay_report *r)
{
	const struct phys_stats *st = &r->phys_at_peak;
	fprintf(out, "  frames at peak: %llu total, %llu free, %llu used; page-table pages %llu\n",
		(unsigned long long)st->managed_frames, (unsigned long long)st->free_frames,
		(unsigned long long)(st->managed_frames - st->free_frames), (unsigned long long)r->pt_pages_at_peak);
	for (unsigned z = 0; z < MMK_NR_ZONES; z++) {
		const struct phys_zone_stats *zs = &st->zone[z];
		if (!zs->managed)
			continue;
		fprintf(out, "  zone %-6s free %8llu used %8llu  buddy:", phys_zone_name(z),
			(unsigned long long)zs->free, (unsigned long long)(zs->managed - zs->free));
		unsigned top = MMK_MAX_ORDER;
		while (top > 10 && zs->nr_free[top] == 0)
			top--;
		for (unsigned o = 0; o <= top; o++)
			fprintf(out, " %llu", (unsigned long long)zs->nr_free[o]);
		fputc('\n', out);
	}
}

/* /proc/slabinfo-style lines of the VM's caches at the peak. */
static void text_slabinfo(FILE *out, const struct replay_report *r)
{
	char line[512];
	if (kmem_stats_format(NULL, line, sizeof(line)) >= 0)
		fprintf(out, "  %s\n", line);
	for (unsigned i = 0; i < 3; i++)
		if (r->slab_at_peak[i].name && kmem_stats_format(&r->slab_at_peak[i], line, sizeof(line)) >= 0)
			fprintf(out, "  %s\n", line);
}

/* --limit: where the accounts refused memory, and each process's charge. */
static void text_limits(FILE *out, const struct replay_report *r)
{
	if (!r->limit_bytes)
		return;
	fprintf(out, "  limit %.1f MiB per process: %s (%llu refused allocations)\n", mib(r->limit_bytes),
		r->limit_hits ? "limit hit" : "never reached", (unsigned long long)r->limit_hits);
	for (size_t i = 0; i < r->nhits; i++) {
		const struct replay_limit_hit *h = &r->hits[i];
		bool fault = strcmp(h->what, "fault") == 0;
		fprintf(out, "    limit hit: tgid %d (%s) %s%s at %#llx (%s line %u)\n", h->tgid, h->exe, h->what,
			fault ? "" : " call", (unsigned long long)h->addr, fault ? "faults.tsv" : "strace.txt", h->line);
	}
	if (r->limit_hits > r->nhits)
		fprintf(out, "    ... and %llu more\n", (unsigned long long)(r->limit_hits - r->nhits));
	fprintf(out, "  %-7s %-40s %12s %12s %6s\n", "tgid", "exe", "charged", "peak", "hits");
	for (size_t i = 0; i < r->nprocs; i++) {
		const struct replay_proc_report *p = &r->procs[i];
		fprintf(out, "  %-7d %-40.40s %10.1fMi %10.1fMi %6llu\n", p->tgid, p->exe, mib(p->charged_bytes),
			mib(p->peak_charged_bytes), (unsigned long long)p->limit_hits);
	}
}

void report_text(FILE *out, const struct replay_report *reps, size_t n, struct sim_system *s)
{
	(void)s;
	for (size_t k = 0; k < n; k++) {
		const struct replay_report *r = &reps[k];
		fprintf(out, "capture %s: %llu events\n", r->capture, (unsigned long long)r->events);
		fprintf(out, "  %-7s %-40s %6s %12s %12s %12s %8s %s\n", "tgid", "exe", "vmas", "mapped", "resident",
			"pss", "faults", "layout");
		for (size_t i = 0; i < r->nprocs; i++) {
			const struct replay_proc_report *p = &r->procs[i];
			fprintf(out, "  %-7d %-40.40s %6llu %10.1fMi %10.1fMi %10.1fMi %8llu %s\n", p->tgid, p->exe,
				(unsigned long long)p->vmas, mib(p->mapped_bytes), mib(p->resident_bytes),
				mib(p->pss_bytes), (unsigned long long)p->faults,
				!p->layout_compared ? "-" : p->layout_mismatched_pages ? "DIFFERS" : "same");
		}
		fprintf(out, "  calls %llu, matched %llu, unmodelled %llu, unexplained lines %llu\n",
			(unsigned long long)r->calls, (unsigned long long)r->calls_matched,
			(unsigned long long)r->calls_unmodelled, (unsigned long long)r->unexplained_lines);
		fprintf(out, "  faults %llu: allowed %llu, refused %llu, SIGSEGV as Linux %llu, SIGSEGV missed %llu, "
			     "unmodelled %llu\n",
			(unsigned long long)r->faults, (unsigned long long)r->faults_ok,
			(unsigned long long)r->faults_refused, (unsigned long long)r->faults_segv_expected,
			(unsigned long long)r->faults_segv_missed, (unsigned long long)r->faults_unmodelled);
		fprintf(out, "  page-outs %llu, page-ins %llu, file pages reclaimed %llu\n", (unsigned long long)r->page_outs,
			(unsigned long long)r->page_ins, (unsigned long long)r->file_page_outs);
		fprintf(out, "  attribution (%llu checks, %llu mismatched): user resident %.1f MiB = mapped (PSS) %.1f MiB + "
			     "page cache %.1f MiB + unmapped anons %.1f MiB; sharing saves %llu frames\n",
			(unsigned long long)r->attrib_checks, (unsigned long long)r->attrib_mismatches,
			mib(r->attrib.user_frames_bytes), mib(r->attrib.pss_bytes_total), mib(r->attrib.page_cache_bytes),
			mib(r->attrib.anon_unmapped_bytes), (unsigned long long)r->attrib.shared_frames_saved);
		fprintf(out, "  exit layouts compared %llu, mismatched pages %llu; frames leaked %llu\n",
			(unsigned long long)r->layouts_compared, (unsigned long long)r->layout_mismatched_pages,
			(unsigned long long)r->frames_leaked);
		fprintf(out, "  peak resident %.1f MiB; %.0f ns per call into mmk; %llu copy-on-write copies, %llu zero "
			     "fills\n",
			mib(r->peak_resident_bytes), ns_per_call(r), (unsigned long long)r->cow_copies,
			(unsigned long long)r->zero_fills);
		text_limits(out, r);
		text_frames(out, r);
		text_slabinfo(out, r);
	}
}

static json_t *json_u(uint64_t v) { return json_integer((json_int_t)v); }

static json_t *json_procs(const struct replay_report *r)
{
	json_t *a = json_array();
	for (size_t i = 0; i < r->nprocs; i++) {
		const struct replay_proc_report *p = &r->procs[i];
		json_t *o = json_pack("{s:i, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:b}", "tgid", p->tgid, "exe", p->exe,
				      "vmas", json_u(p->vmas), "mapped_bytes", json_u(p->mapped_bytes),
				      "resident_bytes", json_u(p->resident_bytes), "faults", json_u(p->faults),
				      "calls", json_u(p->calls), "layout_mismatched_pages",
				      json_u(p->layout_mismatched_pages), "layout_compared", p->layout_compared);
		json_object_set_new(o, "rss_bytes", json_u(p->rss_bytes));
		json_object_set_new(o, "pss_bytes", json_u(p->pss_bytes));
		json_object_set_new(o, "uss_bytes", json_u(p->uss_bytes));
		if (r->limit_bytes) {
			json_object_set_new(o, "charged_bytes", json_u(p->charged_bytes));
			json_object_set_new(o, "peak_charged_bytes", json_u(p->peak_charged_bytes));
			json_object_set_new(o, "limit_hits", json_u(p->limit_hits));
		}
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *json_frames(const struct replay_report *r)
{
	const struct phys_stats *st = &r->phys_at_peak;
	json_t *zones = json_object();
	for (unsigned z = 0; z < MMK_NR_ZONES; z++)
		json_object_set_new(zones, phys_zone_name(z),
				    json_pack("{s:o, s:o}", "managed", json_u(st->zone[z].managed), "free",
					      json_u(st->zone[z].free)));
	return json_pack("{s:o, s:o, s:o, s:o}", "total", json_u(st->managed_frames), "free", json_u(st->free_frames),
			 "page_table_pages", json_u(r->pt_pages_at_peak), "zones", zones);
}

static json_t *json_buddy(const struct replay_report *r)
{
	json_t *a = json_array();
	for (unsigned o = 0; o <= MMK_MAX_ORDER; o++) {
		uint64_t n = 0;
		for (unsigned z = 0; z < MMK_NR_ZONES; z++)
			n += r->phys_at_peak.zone[z].nr_free[o];
		json_array_append_new(a, json_u(n));
	}
	return a;
}

static json_t *json_capture(const struct replay_report *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "capture", json_string(r->capture));
	json_object_set_new(o, "events", json_u(r->events));
	json_object_set_new(o, "calls", json_u(r->calls));
	json_object_set_new(o, "calls_matched", json_u(r->calls_matched));
	json_object_set_new(o, "calls_unmodelled", json_u(r->calls_unmodelled));
	json_object_set_new(o, "unexplained_lines", json_u(r->unexplained_lines));
	json_object_set_new(o, "faults", json_u(r->faults));
	json_object_set_new(o, "faults_refused", json_u(r->faults_refused + r->faults_segv_missed));
	json_object_set_new(o, "faults_segv_as_linux", json_u(r->faults_segv_expected));
	json_object_set_new(o, "faults_unmodelled", json_u(r->faults_unmodelled));
	json_object_set_new(o, "layout_mismatched_pages", json_u(r->layout_mismatched_pages));
	json_object_set_new(o, "layouts_compared", json_u(r->layouts_compared));
	json_object_set_new(o, "frames_leaked", json_u(r->frames_leaked));
	json_object_set_new(o, "peak_resident_bytes", json_u(r->peak_resident_bytes));
	/* Attribution at the checkpoint with the most user frames (replay.h).
	 * user_frames_bytes is the "frames in use by user memory":
	 * frames some translation maps, which PSS divides among the spaces, so
	 * it equals pss_bytes_total; user_resident_bytes adds the frames no
	 * translation maps (page cache, anons kept for a sharer). */
	uint64_t unmapped = r->attrib.page_cache_bytes + r->attrib.anon_unmapped_bytes;
	json_object_set_new(o, "user_frames_bytes", json_u(r->attrib.user_frames_bytes - unmapped));
	json_object_set_new(o, "user_resident_bytes", json_u(r->attrib.user_frames_bytes));
	json_object_set_new(o, "pss_bytes_total", json_u(r->attrib.pss_bytes_total));
	json_object_set_new(o, "page_cache_bytes", json_u(r->attrib.page_cache_bytes));
	json_object_set_new(o, "anon_unmapped_bytes", json_u(r->attrib.anon_unmapped_bytes));
	json_object_set_new(o, "shared_frames_saved", json_u(r->attrib.shared_frames_saved));
	json_object_set_new(o, "attribution_checks", json_u(r->attrib_checks));
	json_object_set_new(o, "attribution_mismatches", json_u(r->attrib_mismatches));
	json_object_set_new(o, "file_page_outs", json_u(r->file_page_outs));
	json_object_set_new(o, "cow_copies", json_u(r->cow_copies));
	json_object_set_new(o, "zero_fills", json_u(r->zero_fills));
	json_object_set_new(o, "page_outs", json_u(r->page_outs));
	json_object_set_new(o, "page_ins", json_u(r->page_ins));
	json_object_set_new(o, "ns_per_call", json_real(ns_per_call(r)));
	json_object_set_new(o, "processes", json_procs(r));
	if (r->limit_bytes) {
		json_object_set_new(o, "limit_bytes", json_u(r->limit_bytes));
		json_object_set_new(o, "limit_hits", json_u(r->limit_hits));
		json_t *hits = json_array();
		for (size_t i = 0; i < r->nhits; i++) {
			const struct replay_limit_hit *h = &r->hits[i];
			json_array_append_new(hits, json_pack("{s:i, s:s, s:s, s:o, s:i}", "tgid", h->tgid, "exe", h->exe,
							      "what", h->what, "address", json_u(h->addr), "line",
							      (int)h->line));
		}
		json_object_set_new(o, "limit_hit_list", hits);
	}
	json_object_set_new(o, "frames", json_frames(r));
	json_object_set_new(o, "buddy_free_blocks", json_buddy(r));
	return o;
}

int report_json(const char *path, const struct replay_report *reps, size_t n, struct sim_system *s)
{
	(void)s;
	/* Top level: the sums, the first capture's frames and processes of all
	 * captures, and the per-capture objects. */
	struct replay_report sum;
	memset(&sum, 0, sizeof(sum));
	json_t *procs = json_array(), *caps = json_array();
	for (size_t k = 0; k < n; k++) {
		const struct replay_report *r = &reps[k];
		sum.events += r->events;
		sum.calls += r->calls;
		sum.calls_matched += r->calls_matched;
		sum.calls_unmodelled += r->calls_unmodelled;
		sum.unexplained_lines += r->unexplained_lines;
		sum.faults += r->faults;
		sum.faults_refused += r->faults_refused;
		sum.faults_segv_missed += r->faults_segv_missed;
		sum.faults_segv_expected += r->faults_segv_expected;
		sum.faults_unmodelled += r->faults_unmodelled;
		sum.layout_mismatched_pages += r->layout_mismatched_pages;
		sum.layouts_compared += r->layouts_compared;
		sum.frames_leaked += r->frames_leaked;
		sum.cow_copies += r->cow_copies;
		sum.zero_fills += r->zero_fills;
		sum.page_outs += r->page_outs;
		sum.page_ins += r->page_ins;
		sum.file_page_outs += r->file_page_outs;
		sum.attrib_checks += r->attrib_checks;
		sum.attrib_mismatches += r->attrib_mismatches;
		if (r->attrib.user_frames_bytes >= sum.attrib.user_frames_bytes)
			sum.attrib = r->attrib;
		sum.limit_bytes = r->limit_bytes;
		sum.limit_hits += r->limit_hits;
		sum.ns_in_calls += r->ns_in_calls;
		sum.timed_calls += r->timed_calls;
		if (r->peak_resident_bytes >= sum.peak_resident_bytes) {
			sum.peak_resident_bytes = r->peak_resident_bytes;
			sum.phys_at_peak = r->phys_at_peak;
			sum.pt_pages_at_peak = r->pt_pages_at_peak;
		}
		json_t *tmp = json_procs(r);
		json_array_extend(procs, tmp);
		json_decref(tmp);
		json_array_append_new(caps, json_capture(r));
	}
	json_t *root = json_capture(&sum);
	json_object_del(root, "capture");
	json_object_set_new(root, "processes", procs);
	json_object_set_new(root, "captures", caps);
	int rc = json_dump_file(root, path, JSON_INDENT(2)) == 0 ? 0 : -1;
	if (rc)
		fprintf(stderr, "mmk-sim: cannot write %s\n", path);
	json_decref(root);
	return rc;
}
