/*
 * test_parse_strace_captures: every strace capture parses with zero
 * unexplained lines, and counting the parsed events reproduces the
 * capture's stats.json (traces/README.md, "System-call counts"): events,
 * calls per name, failures per name, signals/exits/kills, tasks, new
 * processes and threads.  Every argument of every call is also decoded with
 * the helpers and symbol tables, so a flag name the tables lack fails here.
 *
 * Captures: the repo's traces/ (always), plus those of ../shared/traces
 * that the repo does not carry (when that directory exists).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "strace_parse.h"

/* ---- capture discovery ---------------------------------------------------------- */

#define MAX_CAPTURES 64

static char *capture_dirs[MAX_CAPTURES];
static size_t ncaptures;

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static bool have_capture(const char *name)
{
    for (size_t i = 0; i < ncaptures; i++) {
        const char *slash = strrchr(capture_dirs[i], '/');
        if (strcmp(slash + 1, name) == 0)
            return true;
    }
    return false;
}

/* Adds every subdirectory of root holding strace.txt(.zst). */
static void scan_root(const char *root)
{
    DIR *d = opendir(root);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) && ncaptures < MAX_CAPTURES) {
        char p[4096];
        if (de->d_name[0] == '.' || have_capture(de->d_name))
            continue;
        snprintf(p, sizeof p, "%s/%s/strace.txt.zst", root, de->d_name);
        bool z = file_exists(p);
        snprintf(p, sizeof p, "%s/%s/strace.txt", root, de->d_name);
        if (!z && !file_exists(p))
            continue;
        snprintf(p, sizeof p, "%s/%s", root, de->d_name);
        capture_dirs[ncaptures++] = strdup(p);
    }
    closedir(d);
}

static int setup(void **state)
{
    (void)state;
    scan_root(MMK_SOURCE_DIR "/traces");
    size_t in_repo = ncaptures;
    scan_root(MMK_SOURCE_DIR "/../shared/traces");
    print_message("strace captures: %zu from the repo, %zu more from ../shared/traces%s\n", in_repo,
                  ncaptures - in_repo,
                  file_exists(MMK_SOURCE_DIR "/../shared/traces") ? "" : " (absent: skipped)");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < ncaptures; i++)
        free(capture_dirs[i]);
    return 0;
}

/* ---- counting --------------------------------------------------------------------- */

typedef struct name_count {
    const char *name;
    size_t calls, failed;
} name_count;

typedef struct counts {
    name_count v[256];
    size_t n;
    size_t syscalls, signals, exited, killed, tasks, new_processes, new_threads;
} counts;

static name_count *slot(counts *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->v[i].name, name) == 0)
            return &c->v[i];
    assert_true(c->n < 256);
    c->v[c->n] = (name_count){name, 0, 0};
    return &c->v[c->n++];
}

static int cmp_int(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static bool is_forklike(const char *n)
{
    return !strcmp(n, "fork") || !strcmp(n, "vfork") || !strcmp(n, "clone") || !strcmp(n, "clone3");
}

static void count_events(const strace_trace *t, counts *c)
{
    memset(c, 0, sizeof *c);
    int32_t *tids = malloc((t->n + 1) * sizeof *tids);
    assert_non_null(tids);
    for (size_t i = 0; i < t->n; i++) {
        const strace_event *e = &t->ev[i];
        /* stats.json's tasks_seen counts tasks with a call or signal line:
         * node_alloc has a thread whose only line is "+++ exited" */
        tids[i] = e->kind == STRACE_SYSCALL || e->kind == STRACE_SIGNAL ? e->tid : -1;
        if (e->kind == STRACE_SIGNAL)
            c->signals++;
        else if (e->kind == STRACE_EXITED)
            c->exited++;
        else if (e->kind == STRACE_KILLED)
            c->killed++;
        if (e->kind != STRACE_SYSCALL)
            continue;
        c->syscalls++;
        name_count *s = slot(c, e->sc.name);
        s->calls++;
        s->failed += e->sc.ret_kind == STRACE_RET_ERROR;
        strace_clone how;
        if (is_forklike(e->sc.name) && e->sc.ret_kind == STRACE_RET_VALUE && e->sc.ret > 0) {
            assert_int_equal(strace_clone_args(&e->sc, &how), 0);
            if (how.is_thread)
                c->new_threads++;
            else
                c->new_processes++;
        }
    }
    qsort(tids, t->n, sizeof *tids, cmp_int);
    for (size_t i = 0; i < t->n; i++)
        c->tasks += tids[i] >= 0 && (i == 0 || tids[i] != tids[i - 1]);
    free(tids);
}

static size_t get_count(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return v ? (size_t)json_integer_value(v) : 0;
}

/* Every key of a stats.json object equals our count (and vice versa when `all`). */
static void check_per_name(const char *cap, json_t *obj, counts *c, bool failures, bool all)
{
    const char *key;
    json_t *val;
    size_t sum = 0;
    json_object_foreach(obj, key, val)
    {
        name_count *s = slot(c, key);
        size_t mine = failures ? s->failed : s->calls;
        if (mine != (size_t)json_integer_value(val))
            print_error("%s: %s %s: parsed %zu, stats.json %lld\n", cap, failures ? "failed" : "calls", key, mine,
                        (long long)json_integer_value(val));
        assert_int_equal(mine, json_integer_value(val));
        sum += mine;
    }
    if (!all)
        return;
    size_t total = 0;
    for (size_t i = 0; i < c->n; i++)
        total += failures ? c->v[i].failed : c->v[i].calls;
    assert_int_equal(total, sum); /* no name missing from stats.json */
}

static void check_stats(const char *cap, const char *dir, const strace_trace *t)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/stats.json", dir);
    json_error_t jerr;
    json_t *st = json_load_file(p, 0, &jerr);
    if (!st) {
        print_message("%s: no stats.json (%s), counts not compared\n", cap, jerr.text);
        return;
    }
    counts c;
    count_events(t, &c);
    assert_int_equal(t->n, get_count(st, "events"));
    check_per_name(cap, json_object_get(st, "all_calls"), &c, false, true);
    check_per_name(cap, json_object_get(st, "failed"), &c, true, true);
    check_per_name(cap, json_object_get(st, "mm_calls"), &c, false, false);
    check_per_name(cap, json_object_get(st, "process_calls"), &c, false, false);
    json_t *other = json_object_get(st, "other_events");
    assert_int_equal(c.signals, get_count(other, "signal"));
    assert_int_equal(c.exited, get_count(other, "exited"));
    assert_int_equal(c.killed, get_count(other, "killed"));
    assert_int_equal(c.tasks, get_count(st, "tasks_seen"));
    assert_int_equal(c.new_processes, get_count(st, "new_processes"));
    assert_int_equal(c.new_threads, get_count(st, "new_threads"));
    print_message("%-16s %6zu events = stats.json (%zu calls, %zu names, %zu failed-name keys, %zu signals, "
                  "%zu exited, %zu killed, %zu tasks, %zu forks, %zu threads)\n",
                  cap, t->n, c.syscalls, c.n, json_object_size(json_object_get(st, "failed")), c.signals, c.exited,
                  c.killed, c.tasks, c.new_processes, c.new_threads);
    json_decref(st);
}

/* ---- argument decoding -------------------------------------------------------------- */

/* Argument kinds: u int, F fd, S string, V vector, * anything, and flag
 * tables: P prot, M map, R mremap, A madvise, Y msync, O open, C fcntl,
 * K shmget, T shmat, Q shmctl, I ipc key, L rlimit, W wait, X at, E efd,
 * G epoll, N sock, D memfd.  '?' = the rest is optional. */
static const struct {
    const char *name, *spec;
} specs[] = {
    {"mmap", "uuPMFu"}, {"munmap", "uu"},     {"mprotect", "uuP"},   {"brk", "u"},
    {"mremap", "uuuR?u"}, {"madvise", "uuA"}, {"msync", "uuY"},      {"mlock", "uu"},
    {"munlock", "uu"},  {"mincore", "uuV"},   {"shmget", "IuK"},     {"shmat", "uuT"},
    {"shmdt", "u"},     {"shmctl", "uQ*"},    {"memfd_create", "SD"}, {"ftruncate", "Fu"},
    {"openat", "FSO?u"}, {"close", "F"},      {"dup", "F"},          {"dup2", "FF"},
    {"fcntl", "FC?*"},  {"newfstatat", "FS*X"}, {"fstat", "F*"},     {"statx", "FSX**"},
    {"pipe2", "*O"},    {"socket", "*Nu"},    {"eventfd2", "uE"},    {"epoll_create1", "G"},
    {"execve", "S**"},  {"exit", "u"},        {"exit_group", "u"},   {"wait4", "u*W*"},
    {"unlink", "S"},    {"unlinkat", "FSX"},  {"rename", "SS"},      {"chdir", "S"},
    {"prlimit64", "uL**"},
};

static const sim_symtab *table_for(char k)
{
    switch (k) {
    case 'P': return &sim_prot_syms;
    case 'M': return &sim_map_syms;
    case 'R': return &sim_mremap_syms;
    case 'A': return &sim_madv_syms;
    case 'Y': return &sim_ms_syms;
    case 'O': return &sim_open_syms;
    case 'C': return &sim_fcntl_syms;
    case 'K': return &sim_shmget_syms;
    case 'T': return &sim_shmat_syms;
    case 'Q': return &sim_shmctl_syms;
    case 'I': return &sim_ipc_key_syms;
    case 'L': return &sim_rlimit_syms;
    case 'W': return &sim_wait_syms;
    case 'X': return &sim_at_syms;
    case 'E': return &sim_efd_syms;
    case 'G': return &sim_epoll_syms;
    case 'N': return &sim_sock_syms;
    case 'D': return &sim_mfd_syms;
    default: return NULL;
    }
}

static bool decode_arg(char kind, const char *arg, const strace_syscall *sc)
{
    static char buf[8192];
    int64_t v;
    uint64_t f;
    strace_fd fd;
    switch (kind) {
    case '*': return true;
    case 'u': return strace_arg_int(arg, &v) == 0;
    case 'F': return strace_arg_fd(arg, &fd, buf, sizeof buf) == 0;
    case 'S': return strace_arg_string(arg, buf, sizeof buf, NULL, NULL) == 0;
    case 'V': { /* mincore: one entry per page of the length */
        uint64_t len;
        size_t n = strace_split(arg, strlen(arg), NULL, 0);
        return strace_arg_u64(sc->args[1], &len) == 0 && n == (len + 4095) / 4096;
    }
    default: return strace_arg_flags(arg, table_for(kind), &f) == 0;
    }
}

/* Returns false (after printing why) when an argument does not decode. */
static bool decode_call(const char *cap, const strace_event *e)
{
    const strace_syscall *sc = &e->sc;
    if (is_forklike(sc->name)) {
        strace_clone c;
        return strace_clone_args(sc, &c) == 0;
    }
    for (size_t s = 0; s < sizeof specs / sizeof specs[0]; s++) {
        if (strcmp(specs[s].name, sc->name) != 0)
            continue;
        const char *k = specs[s].spec;
        uint32_t a = 0;
        bool optional = false;
        for (; *k; k++) {
            if (*k == '?') {
                optional = true;
                continue;
            }
            if (a >= sc->nargs) {
                if (optional)
                    return true;
                print_error("%s line %u: %s has %u arguments\n", cap, e->line, sc->name, sc->nargs);
                return false;
            }
            if (!decode_arg(*k, sc->args[a], sc)) {
                print_error("%s line %u: %s argument %u '%.80s' is not '%c'\n", cap, e->line, sc->name, a,
                            sc->args[a], *k);
                return false;
            }
            a++;
        }
        return a == sc->nargs;
    }
    return true; /* a call without a spec: nothing to decode */
}

static void check_decoding(const char *cap, const strace_trace *t)
{
    size_t bad = 0, fds = 0;
    for (size_t i = 0; i < t->n; i++) {
        const strace_event *e = &t->ev[i];
        if (e->kind != STRACE_SYSCALL)
            continue;
        bad += !decode_call(cap, e);
        fds += e->sc.ret_path != NULL;
        /* pipe2's array of two annotated fds */
        if (!strcmp(e->sc.name, "pipe2") && e->sc.ret_kind == STRACE_RET_VALUE) {
            strace_span two[2];
            assert_int_equal(strace_split(e->sc.args[0], strlen(e->sc.args[0]), two, 2), 2);
        }
    }
    assert_int_equal(bad, 0);
    assert_true(fds > 0);
}

/* ---- the tests ----------------------------------------------------------------------- */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void test_all_captures(void **state)
{
    (void)state;
    assert_true(ncaptures >= 3); /* the repo ships gcc_hello, mm_exerciser, shell_pipeline */
    for (size_t i = 0; i < ncaptures; i++) {
        const char *dir = capture_dirs[i];
        const char *cap = strrchr(dir, '/') + 1;
        char path[4096], err[512];
        snprintf(path, sizeof path, "%s/strace.txt.zst", dir);
        if (!file_exists(path))
            snprintf(path, sizeof path, "%s/strace.txt", dir);
        strace_trace t;
        double t0 = now_ms();
        int rc = strace_parse_file(path, &t, err, sizeof err);
        double ms = now_ms() - t0;
        if (rc)
            print_error("%s\n", err);
        assert_int_equal(rc, 0);
        for (size_t p = 0; p < t.problems.n && p < 20; p++)
            print_error("%s line %u: %s\n", cap, t.problems.v[p].line, t.problems.v[p].reason);
        assert_int_equal(t.problems.n, 0);
        print_message("%-16s %6zu lines parsed in %.1f ms (this build)\n", cap, t.lines, ms);
        check_stats(cap, dir, &t);
        check_decoding(cap, &t);
        strace_trace_free(&t);
    }
}

/* Facts the README states about specific captures, when they are present. */
static const strace_event *find_call(const strace_trace *t, const char *name, size_t nth)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->ev[i].kind == STRACE_SYSCALL && strcmp(t->ev[i].sc.name, name) == 0 && nth-- == 0)
            return &t->ev[i];
    return NULL;
}

static void test_readme_facts(void **state)
{
    (void)state;
    strace_trace t;
    char err[512];
    assert_int_equal(strace_parse_file(MMK_SOURCE_DIR "/traces/gcc_hello/strace.txt.zst", &t, err, sizeof err), 0);
    /* pitfall 1: line 1 is env's execve, not delayed; the program's is delayed */
    const strace_event *first = find_call(&t, "execve", 0), *second = find_call(&t, "execve", 1);
    assert_int_equal(first->line, 1);
    assert_false(first->sc.delayed);
    assert_true(second->sc.delayed);
    /* pitfall 2: all 4 vfork children have lines before the parent's resumed line */
    size_t early = 0;
    for (size_t i = 0; i < t.n; i++) {
        const strace_event *e = &t.ev[i];
        if (e->kind != STRACE_SYSCALL || strcmp(e->sc.name, "vfork") != 0)
            continue;
        assert_true(e->joined);
        for (size_t j = 0; j < i; j++)
            if (t.ev[j].tid == e->sc.ret && t.ev[j].line > e->entry_line) {
                early++;
                break;
            }
    }
    assert_int_equal(early, 4);
    /* pitfall 11: timestamps never decrease line by line */
    for (size_t i = 1; i < t.n; i++)
        assert_true(t.ev[i].ts_us >= t.ev[i - 1].ts_us);
    strace_trace_free(&t);

    assert_int_equal(strace_parse_file(MMK_SOURCE_DIR "/traces/mm_exerciser/strace.txt.zst", &t, err, sizeof err),
                     0);
    size_t segv = 0;
    for (size_t i = 0; i < t.n; i++)
        if (t.ev[i].kind == STRACE_SIGNAL && t.ev[i].sig.signo == SIM_SIGSEGV) {
            assert_true(t.ev[i].sig.has_addr);
            segv++;
        }
    assert_int_equal(segv, 2);
    const strace_event *memfd = find_call(&t, "memfd_create", 0);
    assert_non_null(memfd);
    assert_true(memfd->sc.ret_deleted);
    assert_string_equal(memfd->sc.ret_path, "/memfd:mmx-memfd");
    const strace_event *mc = find_call(&t, "mincore", 0);
    assert_non_null(mc);
    assert_true(decode_call("mm_exerciser", mc));
    strace_trace_free(&t);

    assert_int_equal(
        strace_parse_file(MMK_SOURCE_DIR "/traces/shell_pipeline/strace.txt.zst", &t, err, sizeof err), 0);
    size_t killed = 0;
    for (size_t i = 0; i < t.n; i++)
        if (t.ev[i].kind == STRACE_KILLED) {
            assert_int_equal(t.ev[i].killed.signo, SIM_SIGPIPE);
            killed++;
        }
    assert_int_equal(killed, 1);
    strace_trace_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_captures),
        cmocka_unit_test(test_readme_facts),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
