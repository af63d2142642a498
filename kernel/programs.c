/*
 * programs.c - the user programs the kernel runs after its own tests:
 * prog_vmtest once, prog_second twice and prog_caps once, each a static
 * ELF64 executable the boot loader passed as a Multiboot module (found by
 * file name), opened once as an exec_image (exec.h) and loaded as execve
 * does into a fresh address space per process; all run by the scheduler
 * until they exit.
 *
 * Before they run, the kernel looks at what the loader made (each a test):
 * the two prog_second processes map one frame, the image object's, for
 * the same text page; a write to the text is a protection violation; every
 * data segment reads the file's bytes and every bss zero, including the
 * tail of the data's last file page (where the file holds other bytes);
 * and a truncated file is refused with ENOEXEC.  Afterwards the frame
 * count must be back at its value before the images were opened (every
 * space, page table, anon, object and page-cache frame gone), and src/sys
 * must hold no task, space, memory object or handle any more.
 */
#include <mmk/errno.h>

#include "exec.h"
#include "kernel.h"
#include "kprintf.h"
#include "ktest/ktest.h"
#include "proc.h"
#include "uaccess.h"

static const char *const program_files[] = { "prog_vmtest", "prog_second", "prog_caps" };
#define NPROGRAMS (sizeof(program_files) / sizeof(program_files[0]))
#define SECOND 1u /* prog_second: run twice */

static struct exec_image images[NPROGRAMS];
static bool opened[NPROGRAMS];

/* The image each process runs, in start order. */
static const unsigned runs[] = { 0, SECOND, SECOND, 2 };
#define NRUNS (sizeof(runs) / sizeof(runs[0]))

static uint64_t settled_free_frames(void)
{
	vm_system_reap(&kernel.vm);
	kmalloc_drain(&kernel.heap);
	kmem_cache_drain(&kernel.sys.caps.handle_cache);
	return phys_free_frames(&kernel.phys);
}

static void open_images(void)
{
	for (unsigned i = 0; i < NPROGRAMS; i++) {
		const char *name = program_files[i];
		const struct boot_module *m = boot_module_find(&kernel.boot, name);
		int rc = m ? exec_image_open(&images[i], name, m->bytes, m->len) : -MMK_ENOENT;
		opened[i] = rc == 0;
		char what[96];
		ksnprintf(what, sizeof(what), "%s: its boot module is an ELF64 executable the loader accepts", name);
		if (!m)
			kprintf("  no boot module named %s (scripts/qemu-run.sh --module)\n", name);
		else if (rc)
			kprintf("  %s: %lu bytes refused: %s\n", name, m->len, mmk_strerror(rc));
		else
			kprintf("  %s: %lu bytes, %lu segments, entry 0x%lx, heap from 0x%lx\n", name, m->len,
				images[i].elf.nsegs, images[i].elf.entry, images[i].elf.brk_start);
		ktest_record("user", what, rc == 0);
	}
}

static void close_images(void)
{
	for (unsigned i = 0; i < NPROGRAMS; i++)
		if (opened[i])
			exec_image_close(&images[i]);
}

/* A file cut short inside its program headers is no executable, and
 * refusing it allocates nothing. */
static void check_truncated_refused(void)
{
	bool ok = false;
	if (opened[0]) {
		uint64_t free_before = phys_free_frames(&kernel.phys);
		struct exec_image cut;
		int rc = exec_image_open(&cut, "truncated", images[0].bytes, ELF_EHDR_BYTES + 1);
		ok = rc == -MMK_ENOEXEC && phys_free_frames(&kernel.phys) == free_before;
		if (rc == 0)
			exec_image_close(&cut);
	}
	ktest_record("user", "an executable cut inside its headers is refused with ENOEXEC, nothing allocated", ok);
}

static const struct vm_exec_segment *segment_at(const struct exec_image *img, vaddr_t va)
{
	for (size_t i = 0; i < img->elf.nsegs; i++) {
		const struct vm_exec_segment *s = &img->elf.segs[i];
		if (va >= mmk_page_round_down(s->vaddr) && va - s->vaddr < s->memsz)
			return s;
	}
	return NULL;
}

/* The image object's page for the page-aligned va inside segment s. */
static uint64_t object_page(const struct vm_exec_segment *s, vaddr_t va)
{
	return (mmk_page_round_down(s->offset) + (va - mmk_page_round_down(s->vaddr))) >> MMK_PAGE_SHIFT;
}

/* The translation of va in p, after p's own fetch of it (vm_fault, as the
 * first instruction would). */
static bool fetched_frame(struct proc *p, vaddr_t va, paddr_t *pa, unsigned *bits)
{
	return vm_fault(proc_space(p), va, PMAP_ACCESS_EXEC) == 0 &&
	       pmap_extract(&proc_space(p)->pmap, va, pa, bits) == 0;
}

static bool text_frame_shared(struct proc *a, struct proc *b, const struct exec_image *img)
{
	vaddr_t va = mmk_page_round_down(img->elf.entry);
	const struct vm_exec_segment *s = segment_at(img, va);
	paddr_t pa, pb;
	unsigned ba, bb;
	pfn_t cached;
	if (!s || !fetched_frame(a, va, &pa, &ba) || !fetched_frame(b, va, &pb, &bb) ||
	    !vm_object_entry_frame(radix_lookup(&img->object->pages, object_page(s, va)), &cached))
		return false;
	kprintf("  text page 0x%lx: frame 0x%lx in pid %d, 0x%lx in pid %d, 0x%lx in the image object\n", va, pa,
		a->pid, pb, b->pid, mmk_pfn_to_paddr(cached));
	return pa == pb && pa == mmk_pfn_to_paddr(cached) && !(ba & PMAP_PROT_WRITE) && !(bb & PMAP_PROT_WRITE);
}

/* A write to p's text: refused as a protection violation, and the page
 * keeps its frame and stays read-only. */
static bool text_write_refused(struct proc *p, const struct exec_image *img)
{
	struct vm_space *as = proc_space(p);
	vaddr_t va = mmk_page_round_down(img->elf.entry);
	const struct vm_area *v = vm_search(as, va);
	bool text_prot = v && v->prot == (VM_PROT_READ | VM_PROT_EXEC);
	paddr_t before, after;
	unsigned bits;
	if (!fetched_frame(p, va, &before, &bits))
		return false;
	int rc = vm_fault(as, va, PMAP_ACCESS_WRITE);
	bool same = pmap_extract(&as->pmap, va, &after, &bits) == 0 && after == before && !(bits & PMAP_PROT_WRITE);
	return text_prot && rc == -MMK_EACCES && same;
}

/* Compare [va, va + len) of p with want (NULL: zeroes). */
static bool user_bytes_are(struct proc *p, vaddr_t va, const uint8_t *want, uint64_t len)
{
	uint8_t buf[256];
	for (uint64_t done = 0; done < len;) {
		size_t n = len - done < sizeof(buf) ? (size_t)(len - done) : sizeof(buf);
		if (uaccess_copy_in(proc_space(p), buf, va + done, n) != 0)
			return false;
		for (size_t i = 0; i < n; i++)
			if (buf[i] != (want ? want[done + i] : 0))
				return false;
		done += n;
	}
	return true;
}

/* Every writable segment of p: its file bytes as in the file (data), the
 * rest up to the end of its last page zero (bss, and the file page's tail). */
static void check_data_and_bss(struct proc *p, const struct exec_image *img, bool *data_ok, bool *bss_ok)
{
	for (size_t i = 0; i < img->elf.nsegs; i++) {
		const struct vm_exec_segment *s = &img->elf.segs[i];
		if (!(s->prot & VM_PROT_WRITE))
			continue;
		uint64_t end = mmk_page_round_down(s->vaddr + s->memsz + MMK_PAGE_MASK); /* checked: no wrap */
		*data_ok &= user_bytes_are(p, s->vaddr, img->bytes + s->offset, s->filesz);
		*bss_ok &= user_bytes_are(p, s->vaddr + s->filesz, NULL, end - (s->vaddr + s->filesz));
	}
}

/* How many bytes of the file lie, non-zero, where a data segment's bss
 * head is (the tail of its last file page): what the loader must clear. */
static uint64_t file_bytes_under_bss(const struct exec_image *img)
{
	uint64_t n = 0;
	for (size_t i = 0; i < img->elf.nsegs; i++) {
		const struct vm_exec_segment *s = &img->elf.segs[i];
		uint64_t file_end = s->offset + s->filesz, page_end;
		if (!(s->prot & VM_PROT_WRITE) || s->memsz == s->filesz || !mmk_page_round_up(file_end, &page_end))
			continue;
		for (uint64_t at = file_end; at < page_end && at < img->len; at++)
			n += img->bytes[at] != 0;
	}
	return n;
}

static void check_loaded(struct proc *const started[NRUNS])
{
	struct proc *second[2] = { NULL, NULL };
	unsigned nsecond = 0;
	bool data_ok = true, bss_ok = true, all = true;
	for (unsigned r = 0; r < NRUNS; r++) {
		if (runs[r] == SECOND && nsecond < 2)
			second[nsecond++] = started[r];
		if (started[r])
			check_data_and_bss(started[r], &images[runs[r]], &data_ok, &bss_ok);
		else
			all = false;
	}
	const struct exec_image *img = &images[SECOND];
	bool shared = second[0] && second[1] && text_frame_shared(second[0], second[1], img);
	ktest_record("user", "two prog_second processes map one frame, the image object's, for a text page", shared);
	ktest_record("user", "a write to the text faults as a protection violation (EACCES), the page stays read-only",
		     second[0] && text_write_refused(second[0], img));
	ktest_record("user", "every process's .data reads the executable's bytes", all && data_ok);
	kprintf("  bss heads: the files hold %lu, %lu, %lu non-zero bytes where the loader cleared them\n",
		file_bytes_under_bss(&images[0]), file_bytes_under_bss(&images[1]), file_bytes_under_bss(&images[2]));
	ktest_record("user", "every process's .bss reads zero, the tail of the data's last file page too",
		     all && bss_ok);
}

static void print_layout(struct proc *p)
{
	char maps[1024];
	vm_display(proc_space(p), maps, sizeof(maps));
	kprintf("  [pid %d %s] maps after exec:\n%s", p->pid, p->name, maps);
}

static void check_nothing_left(void)
{
	struct sys *s = &kernel.sys;
	const char *why = NULL;
	bool consistent = sys_check(s, &why) == 0;
	if (!consistent)
		kprintf("  sys_check: %s\n", why);
	if (s->tasks || s->spaces || s->vmobjects || s->caps.handles)
		kprintf("  left in src/sys: %lu tasks, %lu spaces, %lu memory objects, %lu handles\n", s->tasks,
			s->spaces, s->vmobjects, s->caps.handles);
	ktest_record("user", "every task, space, object and handle of the processes is gone",
		     consistent && !s->tasks && !s->spaces && !s->vmobjects && !s->caps.handles);
	kprintf("  src/sys: %lu requests, %lu refused\n", s->requests, s->refused);
}

void user_run_programs(void)
{
	kprintf("user programs:\n");
	uint64_t before = settled_free_frames();
	open_images();
	check_truncated_refused();
	struct proc *started[NRUNS] = { NULL };
	for (unsigned r = 0; r < NRUNS; r++) {
		int rc = opened[runs[r]] ? proc_spawn(&images[runs[r]], &started[r]) : -MMK_ENOENT;
		if (rc)
			kprintf("  cannot start %s: %d\n", program_files[runs[r]], rc);
		ktest_record("user", "spawn a program into a new address space", rc == 0);
		if (rc == 0)
			kprintf("  [pid %d %s] started\n", started[r]->pid, started[r]->name);
		else
			started[r] = NULL;
	}
	if (started[1])
		print_layout(started[1]);
	check_loaded(started);
	unsigned left = proc_schedule();
	ktest_record("user", "every process ran to its end", left == 0);
	close_images();
	uint64_t after = settled_free_frames();
	if (after != before)
		kprintf("  free frames %lu before the programs, %lu after\n", before, after);
	ktest_record("user", "no frame leaked by the programs", after == before);
	check_nothing_left();
}
