/*
 * mmk-sim - the main job: boot mmk on a simulated PC and replay real program
 * traces against it (issue 2, item 6).
 *
 *   mmk-sim [OPTIONS] [CAPTURE_DIR...]
 *   mmk-sim --scenario FILE   (accounts, MOPs and claims: scenario.h)
 *
 * With no capture it replays the capture shipped in the repository
 * (traces/gcc_hello).  Exit status: 0 clean replay, 1 something mismatched
 * or went unexplained, 2 bad usage or unreadable input.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "lackey_replay.h"
#include "replay.h"
#include "report.h"
#include "scenario.h"
#include "swap.h"

#ifndef MMK_SOURCE_DIR
#define MMK_SOURCE_DIR "."
#endif

static void usage(FILE *f)
{
	fprintf(f, "usage: mmk-sim [OPTIONS] [CAPTURE_DIR...]\n"
		   "  --ram SIZE        RAM of the simulated PC (default 1G; K, M, G suffixes)\n"
		   "  --json FILE       write the report as JSON\n"
		   "  --maps FILE       write every process's layout at exit_group (maps.txt format)\n"
		   "  --lackey DIR      replay a valgrind lackey page-reference capture\n"
		   "  --scenario FILE   run a script of account, MOP and claim calls (see README)\n"
		   "  --max-messages N  mismatch messages printed per capture (default 40)\n"
		   "  --limit SIZE      run each process under its own account of SIZE bytes (K, M, G);\n"
		   "                    report where a limit refused memory, and each process's charge\n"
		   "  --quiet           no text report\n"
		   "With no capture, replays %s/traces/gcc_hello.\n",
		MMK_SOURCE_DIR);
}

static int parse_bytes(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	default: break;
	}
	if (*end == 'i' || *end == 'B')
		end++;
	if (*end)
		return -1;
	*out = v;
	return 0;
}

static int parse_size(const char *s, uint64_t *out)
{
	uint64_t v;
	if (parse_bytes(s, &v) || v < (16ull << 20) || v > (256ull << 30) || (v & 4095))
		return -1;
	*out = v;
	return 0;
}

struct args {
	uint64_t ram, limit;
	const char *json, *maps, *lackey, *scenario;
	unsigned max_messages;
	bool quiet;
};

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "ram", required_argument, 0, 'r' },	   { "json", required_argument, 0, 'j' },
		{ "maps", required_argument, 0, 'm' },	   { "lackey", required_argument, 0, 'l' },
		{ "max-messages", required_argument, 0, 'n' }, { "quiet", no_argument, 0, 'q' },
		{ "limit", required_argument, 0, 'L' },	   { "scenario", required_argument, 0, 's' },
		{ "help", no_argument, 0, 'h' },	   { 0, 0, 0, 0 },
	};
	*a = (struct args){ .ram = 1ull << 30, .max_messages = 40 };
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (parse_size(optarg, &a->ram)) {
				fprintf(stderr, "mmk-sim: bad --ram '%s' (16M..256G, page multiple)\n", optarg);
				return -1;
			}
			break;
		case 'L':
			if (parse_bytes(optarg, &a->limit) || a->limit < 4096 || (a->limit & 4095)) {
				fprintf(stderr, "mmk-sim: bad --limit '%s' (a page multiple, 4K or more)\n", optarg);
				return -1;
			}
			break;
		case 'j': a->json = optarg; break;
		case 'm': a->maps = optarg; break;
		case 'l': a->lackey = optarg; break;
		case 's': a->scenario = optarg; break;
		case 'n': a->max_messages = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'q': a->quiet = true; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	return 0;
}

static int run_captures(struct sim_system *s, const struct args *a, char **dirs, int ndirs, FILE *maps)
{
	struct replay_report *reps = calloc((size_t)ndirs + 1, sizeof(*reps));
	struct replay_options opt = { .maps_out = maps, .log = stderr, .max_messages = a->max_messages,
				      .progress = isatty(2) != 0, .limit_bytes = a->limit };
	int status = 0;
	for (int i = 0; i < ndirs; i++) {
		struct capture c;
		char err[512];
		if (capture_load(dirs[i], &c, err, sizeof(err)) != 0) {
			fprintf(stderr, "mmk-sim: %s\n", err);
			capture_free(&c);
			free(reps);
			return 2;
		}
		int rc = replay_capture(s, &c, &opt, &reps[i]);
		if (rc > status)
			status = rc;
		capture_free(&c);
	}
	if (!a->quiet)
		report_text(stdout, reps, (size_t)ndirs, s);
	if (a->json && report_json(a->json, reps, (size_t)ndirs, s) != 0)
		status = 2;
	for (int i = 0; i < ndirs; i++)
		replay_report_free(&reps[i]);
	free(reps);
	return status;
}

int main(int argc, char **argv)
{
	struct args a;
	if (parse_args(argc, argv, &a) != 0)
		return 2;
	FILE *maps = NULL;
	if (a.maps && !(maps = fopen(a.maps, "w"))) {
		fprintf(stderr, "mmk-sim: cannot write %s: %s\n", a.maps, strerror(errno));
		return 2;
	}
	struct sim_system *s = calloc(1, sizeof(*s));
	if (sim_system_boot(s, a.ram, 1) != 0) {
		fprintf(stderr, "mmk-sim: cannot boot a %llu-byte machine\n", (unsigned long long)a.ram);
		return 2;
	}
	/* Swap lets a replay run in less RAM than it touches (--ram below the
	 * footprint): reclaim pages private memory out to host memory. */
	struct host_swap swap;
	host_swap_attach(&swap, s);
	int status;
	if (a.scenario) {
		status = scenario_run(s, a.scenario, stdout);
	} else if (a.lackey) {
		status = lackey_replay(s, a.lackey, a.quiet ? NULL : stdout, a.json);
	} else {
		char *def[] = { MMK_SOURCE_DIR "/traces/gcc_hello" };
		bool given = optind < argc;
		status = run_captures(s, &a, given ? argv + optind : def, given ? argc - optind : 1, maps);
	}
	if (maps)
		fclose(maps);
	if (sim_system_shutdown(s) != 0 && status == 0)
		status = 1;
	host_swap_free(&swap);
	free(s);
	return status;
}
