/*
 * physmem-demo - seed 001's physmem on a simulated PC, in two scenes.
 *
 * 1. The filesystem scenario of seed 001: a client task creates a container,
 *    shares it weakly with a server task, the server fills it through its own
 *    map, the client maps and reads it, and the server's attempt to
 *    deallocate (or allocate) is refused; the client then cancels the share.
 * 2. Fragmentation before and after a compaction pass: memory filled with
 *    single-page frames, half of them freed at random, then
 *    physmem_compact builds free blocks of order 5; free blocks per order
 *    and the largest free block are printed before and after.
 *
 * Usage: physmem-demo [--ram MIB]   (default 64).  Exit status 0 when every
 * step behaved as the seed says, 1 otherwise.  Hosted code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mmk/errno.h>
#include <mmk/physmem.h>
#include <sim.h>
#include <sim_boot.h>

#define PG MMK_PAGE_SIZE

static int failures;

static void expect(const char *what, int rc, int want)
{
	printf("  %-58s %s\n", what, rc == want ? (rc ? mmk_strerror(rc) : "ok") : "UNEXPECTED");
	if (rc != want) {
		printf("    got %s, expected %s\n", rc ? mmk_strerror(rc) : "ok", want ? mmk_strerror(want) : "ok");
		failures++;
	}
}

static void filesystem_scene(struct sim_system *s, struct physmem *pm, struct mmk_account *client_acct)
{
	printf("scene 1: a filesystem fills a client's buffer through a weak capability\n");
	struct vm_space *client, *server;
	vm_space_create(&s->vm, &client);
	vm_space_create(&s->vm, &server);
	struct container_ref buf, weak;
	struct container_share *share;
	expect("client: container_create from its account", container_create(pm, client_acct, &buf), 0);
	expect("client: allocate 4 pages", container_allocate(buf, 0, 4, 0, NULL), 0);
	expect("client: share it weakly (read, write, map)", container_share(buf, PM_RIGHTS_WEAK, &share, &weak), 0);
	vaddr_t sva = 0, cva = 0;
	expect("server: map the weak ref read-write",
	       container_map(weak, server, 0, 0, 4 * PG, VM_PROT_READ | VM_PROT_WRITE, 0, &sva), 0);
	vm_space_activate(server, 0);
	const char text[] = "block 7 of /etc/motd, read from disk by the server";
	for (uint64_t pg = 0; pg < 4; pg++)
		expect("server: fill a page through its map", sim_write(s->machine, 0, sva + pg * PG, text, sizeof(text), true), 0);
	expect("server: deallocate the client's pages (refused)", container_deallocate(weak, 0, PG), -MMK_EPERM);
	expect("server: allocate in the client's container (refused)", container_allocate(weak, 8 * PG, 1, 0, NULL),
	       -MMK_EPERM);
	expect("server: take the frames by a shared copy (refused)",
	       container_copy(weak, 0, buf, 8 * PG, PG, PM_COPY_SHARED, NULL), -MMK_EPERM);
	expect("client: map its buffer read-only", container_map(buf, client, 0, 0, 4 * PG, VM_PROT_READ, 0, &cva), 0);
	vm_space_activate(client, 0);
	char back[sizeof(text)];
	expect("client: read page 3 through its map", sim_read(s->machine, 0, cva + 3 * PG, back, sizeof(back), true), 0);
	printf("  client read: \"%s\"\n", back);
	if (memcmp(back, text, sizeof(text)))
		failures++;
	expect("client: cancel the share", container_share_cancel(share), 0);
	expect("server: read after the cancel (revoked)", container_read(weak, 0, back, 8), -MMK_EIDRM);
	vm_space_activate(server, 0);
	expect("server: touch its old map (fault refused)", sim_read(s->machine, 0, sva, back, 8, true) ? -MMK_EFAULT : 0, -MMK_EFAULT);
	container_ref_put(&weak);
	expect("client: destroy the container", container_destroy(&buf), 0);
	vm_space_destroy(client);
	vm_space_destroy(server);
}

static void print_frag(const char *title, const struct pm_frag_stats *st)
{
	printf("  %-8s free %6llu frames, largest block order %2d; blocks per order:", title,
	       (unsigned long long)st->free_frames, st->largest_order);
	for (int o = 0; o <= 10; o++)
		printf(" %llu", (unsigned long long)st->nr_free[o]);
	printf("\n");
}

static void compaction_scene(struct sim_system *s, struct physmem *pm, struct mmk_account *acct)
{
	printf("scene 2: fragmentation before and after a compaction pass (order 5)\n");
	enum { NCONT = 4, MAXP = 1 << 16 };
	struct container_ref c[NCONT];
	static unsigned char present[NCONT][MAXP];
	memset(present, 0, sizeof(present));
	for (int i = 0; i < NCONT; i++)
		container_create(pm, acct, &c[i]);
	uint64_t rng = 12345, pages = 0;
	for (uint64_t pg = 0; pg < MAXP && phys_free_frames(&s->phys) > 8; pg++)
		for (int i = 0; i < NCONT; i++)
			if (container_allocate(c[i], pg * PG, 1, 0, NULL) == 0) {
				container_write(c[i], pg * PG, &pg, sizeof(pg));
				present[i][pg] = 1;
				pages++;
			}
	for (int i = 0; i < NCONT; i++)
		for (uint64_t pg = 0; pg < MAXP; pg++) {
			rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
			if (present[i][pg] && (rng & 1)) {
				container_deallocate(c[i], pg * PG, PG);
				present[i][pg] = 0;
			}
		}
	struct pm_frag_stats before, after;
	struct pm_compact_result res;
	physmem_frag_stats(pm, &before);
	print_frag("before", &before);
	expect("physmem_compact(order 5)", physmem_compact(pm, 5, 0, &res), 0);
	physmem_frag_stats(pm, &after);
	print_frag("after", &after);
	printf("  %llu pages allocated, half freed; %llu frames moved, %llu of %llu regions emptied\n",
	       (unsigned long long)pages, (unsigned long long)res.frames_moved, (unsigned long long)res.regions_freed,
	       (unsigned long long)res.regions_tried);
	if (after.largest_order <= before.largest_order || res.frames_moved == 0) {
		printf("  UNEXPECTED: the largest free block did not grow\n");
		failures++;
	}
	uint64_t bad = 0;
	for (int i = 0; i < NCONT; i++)
		for (uint64_t pg = 0; pg < MAXP; pg++) {
			uint64_t v = 0;
			if (present[i][pg] && (container_read(c[i], pg * PG, &v, 8) || v != pg))
				bad++;
		}
	printf("  contents after migration: %llu pages differ\n", (unsigned long long)bad);
	failures += bad != 0;
	for (int i = 0; i < NCONT; i++)
		container_destroy(&c[i]);
}

int main(int argc, char **argv)
{
	uint64_t mib = 64;
	if (argc == 3 && strcmp(argv[1], "--ram") == 0)
		mib = strtoull(argv[2], NULL, 10);
	else if (argc != 1) {
		fprintf(stderr, "usage: physmem-demo [--ram MIB]\n");
		return 2;
	}
	struct sim_system s;
	struct acct_system acct;
	struct physmem pm;
	struct mmk_account *client;
	if (mib < 16 || sim_system_boot(&s, mib << 20, 1) || acct_system_init(&acct, &s.phys, phys_free_frames(&s.phys)) ||
	    physmem_init(&pm, &s.phys, &s.vm)) {
		fprintf(stderr, "physmem-demo: cannot boot %llu MiB\n", (unsigned long long)mib);
		return 2;
	}
	acct_split(acct_root(&acct), 64, "client", &client);
	filesystem_scene(&s, &pm, client);
	compaction_scene(&s, &pm, acct_root(&acct));
	const char *why = NULL;
	if (physmem_check(&pm, &why)) {
		printf("physmem_check: %s\n", why);
		failures++;
	}
	if (physmem_fini(&pm) || acct_system_fini(&acct) || sim_system_shutdown(&s))
		failures++;
	printf("%s\n", failures ? "FAILED" : "all steps as seed 001 says");
	return failures ? 1 : 0;
}
