/*
 * multiboot.c - the boot memory map, from the Multiboot v1 information
 * QEMU hands over (Multiboot Specification 0.6.96, section 3.3).
 *
 * RAM comes from the firmware's map (mmap_addr/mmap_length: BIOS e820
 * entries; type 1 usable, anything else reserved), clipped to the direct
 * map.  Before the allocator starts, everything boot put in RAM is
 * reserved, as MMK_MEM_BOOT ranges (seed 002: owned by boot, never freed):
 * the kernel image (linker symbols), the information structure itself, the
 * memory map, the command line (QEMU puts it right after the kernel image),
 * the module list, each module and its string.  The first page (real-mode
 * interrupt table and BIOS data) is reserved too, so no frame has physical
 * address 0.  The modules are also listed in the map (bytes, length and
 * string through the direct map): the user programs come as modules, one
 * ELF executable each, found by file name (boot_module_find).  A module
 * whose end lies below its start is reported and ignored.
 */
#include <mmk/errno.h>

#include "kernel.h"
#include "klib.h"
#include "kprintf.h"

#define MB_BOOT_MAGIC 0x2badb002u
#define MBI_FLAG_CMDLINE (1u << 2)
#define MBI_FLAG_MODS (1u << 3)
#define MBI_FLAG_MMAP (1u << 6)

struct mb_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
} __attribute__((packed));

struct mb_mmap_entry {
	uint32_t size; /* of the rest of the entry */
	uint64_t base, len;
	uint32_t type;
} __attribute__((packed));

struct mb_module {
	uint32_t start, end, string, reserved;
} __attribute__((packed));

extern char _kernel_phys_start[], _kernel_phys_end[];

/* Boot data may sit anywhere in the first 4 GiB; boot.S's direct map
 * covers that, before hal_phys_map knows where RAM ends. */
static const void *early_map(paddr_t pa) { return (const void *)(X86_DIRECT_BASE + pa); }

static void add(struct boot_map *map, paddr_t base, uint64_t len, uint32_t type)
{
	if (len == 0)
		return;
	if (map->n == BOOT_MAX_RANGES) {
		kprintf("boot: more than %d memory ranges, ignoring [0x%lx, +0x%lx)\n", BOOT_MAX_RANGES, base, len);
		return;
	}
	map->ranges[map->n++] = (struct mmk_mem_range){ base, len, type };
}

static void add_ram(struct boot_map *map, const struct mb_info *mbi)
{
	paddr_t at = mbi->mmap_addr, end = at + mbi->mmap_length;
	while (at < end) {
		const struct mb_mmap_entry *e = early_map(at);
		paddr_t base = e->base, top = e->base + e->len;
		if (top > X86_DIRECT_BYTES)
			top = X86_DIRECT_BYTES; /* beyond the direct map: not ours */
		if (base < top) {
			uint32_t type = e->type == 1 ? MMK_MEM_USABLE : MMK_MEM_RESERVED;
			add(map, base, top - base, type);
			if (type == MMK_MEM_USABLE && top > map->ram_top)
				map->ram_top = top;
		}
		at += e->size + sizeof(e->size);
	}
}

static void add_boot(struct boot_map *map, paddr_t base, uint64_t len)
{
	add(map, base, len, MMK_MEM_BOOT);
	map->boot_ranges++;
}

static uint64_t string_bytes(paddr_t pa) { return strlen(early_map(pa)) + 1; }

static void list_module(struct boot_map *map, const struct mb_module *m)
{
	const char *string = m->string ? early_map(m->string) : "";
	if (map->nmodules == BOOT_MAX_MODULES) {
		kprintf("boot: more than %d modules, ignoring \"%s\"\n", BOOT_MAX_MODULES, string);
		return;
	}
	map->modules[map->nmodules++] = (struct boot_module){ string, early_map(m->start), m->end - m->start };
}

static void reserve_boot_data(struct boot_map *map, paddr_t mbi_pa, const struct mb_info *mbi)
{
	paddr_t img = (paddr_t)(uintptr_t)_kernel_phys_start;
	add_boot(map, img, (paddr_t)(uintptr_t)_kernel_phys_end - img);
	add_boot(map, 0, MMK_PAGE_SIZE);
	add_boot(map, mbi_pa, sizeof(*mbi));
	add_boot(map, mbi->mmap_addr, mbi->mmap_length);
	map->cmdline = "";
	if (mbi->flags & MBI_FLAG_CMDLINE) {
		add_boot(map, mbi->cmdline, string_bytes(mbi->cmdline));
		map->cmdline = early_map(mbi->cmdline);
	}
	if (!(mbi->flags & MBI_FLAG_MODS) || mbi->mods_count == 0)
		return;
	add_boot(map, mbi->mods_addr, (uint64_t)mbi->mods_count * sizeof(struct mb_module));
	const struct mb_module *mods = early_map(mbi->mods_addr);
	for (uint32_t i = 0; i < mbi->mods_count; i++) {
		if (mods[i].end < mods[i].start) {
			kprintf("boot: module %u ends (0x%x) below its start (0x%x): ignored\n", i, mods[i].end,
				mods[i].start);
			continue;
		}
		add_boot(map, mods[i].start, mods[i].end - mods[i].start);
		if (mods[i].string)
			add_boot(map, mods[i].string, string_bytes(mods[i].string));
		list_module(map, &mods[i]);
	}
}

int boot_map_build(uint32_t magic, paddr_t mbi_pa, struct boot_map *map)
{
	memset(map, 0, sizeof(*map));
	if (magic != MB_BOOT_MAGIC) {
		kprintf("boot: not started by a Multiboot loader (magic 0x%x)\n", magic);
		return -MMK_EINVAL;
	}
	const struct mb_info *mbi = early_map(mbi_pa);
	if (!(mbi->flags & MBI_FLAG_MMAP)) {
		kprintf("boot: the loader gave no memory map\n");
		return -MMK_EINVAL;
	}
	add_ram(map, mbi);
	reserve_boot_data(map, mbi_pa, mbi);
	return 0;
}

/* Does the module string s name the file `name` (see kernel.h)? */
static bool module_named(const char *s, const char *name)
{
	const char *word_end = s, *base = s;
	while (*word_end && *word_end != ' ') {
		if (*word_end == '/')
			base = word_end + 1;
		word_end++;
	}
	size_t len = (size_t)(word_end - base), want = strlen(name);
	if (len == want + 4 && memcmp(base + want, ".elf", 4) == 0)
		len = want;
	return len == want && memcmp(base, name, want) == 0;
}

const struct boot_module *boot_module_find(const struct boot_map *map, const char *name)
{
	for (size_t i = 0; i < map->nmodules; i++)
		if (module_named(map->modules[i].string, name))
			return &map->modules[i];
	return NULL;
}
