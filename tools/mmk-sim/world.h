/*
 * world.h - the simulated operating system around mmk during a replay: the
 * processes, threads, address spaces, file descriptors, files and SysV
 * segments that the traced programs had.  mmk itself knows only address
 * spaces and objects; this layer maps strace's view (tids, fds, paths) onto
 * them, as a kernel's process and file layers would.
 *
 * Ownership: a world owns everything reachable from it; world_free releases
 * it all and destroys every address space (so frames return to the boot
 * count).  Not thread-safe: one replay drives one world.
 */
#ifndef MMK_SIM_WORLD_H
#define MMK_SIM_WORLD_H

#include <stdbool.h>
#include <stdint.h>

#include <mmk/vm.h>

#include "sim_boot.h"

#define WORLD_MAX_FDS 1024

/* One open file description as far as mappings care. */
struct wfile {
	const char *path;       /* interned; "/memfd:x (deleted)" style for display */
	struct vm_object *obj;  /* the object mappings of this file use (one per path) */
	unsigned accmode;       /* 0 O_RDONLY, 1 O_WRONLY, 2 O_RDWR */
};

struct fdtable {
	int refs;               /* processes sharing it (CLONE_FILES) */
	struct wfile fd[WORLD_MAX_FDS];
	bool used[WORLD_MAX_FDS];
	bool cloexec[WORLD_MAX_FDS];
};

/* An address space with the sharers count the world needs (vfork, threads). */
struct wmm {
	struct vm_space *as;
	int refs;               /* processes using it (a vfork child borrows its parent's) */
	bool modelled;          /* its image started from a captured exec snapshot */
	bool brk_known;         /* start_brk learnt from the first brk() */
	uint64_t charge_failures_seen; /* --limit: refusals already reported */
};

struct wproc {
	int tgid;
	int parent_tgid;
	char *exe;              /* path of the current image, malloc'd */
	char *cwd;              /* working directory as last seen in the trace, malloc'd or NULL */
	struct wmm *mm;
	struct fdtable *fds;
	int live_tasks;
	bool exited;            /* exit_group seen or every task gone */
	bool vfork_borrowed;    /* mm is the parent's, until execve or exit */
	uint64_t calls, calls_matched, faults, faults_refused, faults_unmodelled;
	/* Figures kept at exit for the report. */
	uint64_t vmas, mapped_bytes, resident_bytes;
	struct vm_attribution attrib;
	uint64_t layout_mismatched_pages;
	bool layout_compared;
	struct mmk_account *acct; /* --limit: its own account (a MOP), one reference held; NULL without */
	uint64_t limit_hits;
	struct wproc *next;     /* all processes, newest first */
};

struct wtask {
	int tid;
	struct wproc *proc;
	bool gone;
};

struct shm_seg {
	int id;
	uint64_t key;
	uint64_t size;          /* bytes */
	struct vm_object *obj;
	struct shm_seg *next;
};

struct shm_attach {
	struct wmm *mm;
	vaddr_t addr;
	uint64_t size;
	struct shm_attach *next;
};

struct world {
	struct sim_system *sys;
	struct wproc *procs;
	struct wtask **tasks;   /* open-addressed by tid */
	size_t task_cap, task_n;
	struct wnamed *files;   /* path -> object */
	struct shm_seg *segs;
	struct shm_attach *attaches;
	struct wmm *active;     /* space active on the simulated CPU */
	/* dev/inode per path learnt from the snapshots, for display */
	struct wdevino *devino;
	/* --limit: every process runs under its own account, split off the
	 * process manager's (seed 000: the process manager makes a MOP per
	 * process and may destroy it). */
	bool limited;
	struct acct_system acct;
	struct mmk_account *pm;
	uint64_t limit_pages;
};

void world_init(struct world *w, struct sim_system *sys);
/* Run every process under its own account of limit_bytes (page multiple).
 * 0 or a negative error. */
int world_set_limit(struct world *w, uint64_t limit_bytes);
/* p's account, made on first use (NULL without a limit or when it cannot
 * be made). */
struct mmk_account *world_proc_account(struct world *w, struct wproc *p);
/* The process manager destroys p's account once no space uses it. */
void world_end_account(struct world *w, struct wproc *p);
void world_free(struct world *w);

struct wtask *world_task(struct world *w, int tid);          /* NULL if unknown */
struct wtask *world_add_task(struct world *w, int tid, struct wproc *p);
struct wproc *world_new_proc(struct world *w, int tgid, int parent_tgid);

/* A fresh empty space for p (replacing and dropping its old one). */
int world_new_mm(struct world *w, struct wproc *p, bool modelled);
void world_share_mm(struct wproc *child, struct wproc *parent);
int world_fork_mm(struct world *w, struct wproc *child, struct wproc *parent);
void world_drop_mm(struct world *w, struct wproc *p);

struct fdtable *world_new_fds(void);
struct fdtable *world_copy_fds(const struct fdtable *t);
void world_drop_fds(struct fdtable *t);
void world_close_cloexec(struct fdtable *t);

/* The object for a path, made on first use (kind VM_OBJECT_FILE or ANON). */
struct vm_object *world_file_object(struct world *w, const char *path, uint32_t type);
/* A fresh object not shared with any path (shared anonymous memory). */
struct vm_object *world_anon_object(struct world *w, const char *name);
/* Intern a string for the world's lifetime. */
const char *world_intern(struct world *w, const char *s);
/* Record a path's device and inode seen in a snapshot. */
void world_note_devino(struct world *w, const char *path, unsigned major, unsigned minor, uint64_t inode);

/* A file's name goes away (unlink): mappings of it show "path (deleted)"
 * and a later file of the same name is a new object. */
void world_unlink(struct world *w, const char *path);
/* rename(2): the object of from is now named to; to's old object is deleted. */
void world_rename(struct world *w, const char *from, const char *to);

/* Make p's space the one the simulated CPU 0 runs. */
void world_activate(struct world *w, struct wmm *mm);

#endif
