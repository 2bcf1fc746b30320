/*
 * Memory: a bitmap allocator of guest-physical pages, the kernel's page
 * tables (a direct map of all RAM at PAGE_OFFSET and the kernel image at
 * __START_KERNEL_map, both with 2 MiB pages, as Linux lays them out), and
 * per-process address spaces whose upper half is shared with the kernel.
 */
#include <tvm/kernel.h>
#include <tvm/x86.h>
#include <uapi/tvm.h>

#define _PAGE_PRESENT  0x001ul
#define _PAGE_RW       0x002ul
#define _PAGE_USER     0x004ul
#define _PAGE_PSE      0x080ul
#define _PAGE_NX       (1ul << 63)
#define PTE_ADDR_MASK  0x000ffffffffff000ul
#define PMD_SIZE       (1ul << 21)

struct mm_struct init_mm;

static u64 va_offset;            /* 0 while the boot identity map is in use, then PAGE_OFFSET */
static u64 bitmap_phys;          /* one bit per page of RAM: 1 = in use */
static u64 nr_pages, free_pages_count, first_free_pfn, search_hint;

static inline void *pv(u64 phys) { return (void *)(phys + va_offset); }
static inline u8 *bitmap(void) { return pv(bitmap_phys); }
static inline bool page_used(u64 pfn) { return (bitmap()[pfn >> 3] >> (pfn & 7)) & 1; }
static inline void set_used(u64 pfn, bool used)
{
	if (used) bitmap()[pfn >> 3] |= (u8)(1 << (pfn & 7));
	else bitmap()[pfn >> 3] &= (u8)~(1 << (pfn & 7));
}

u64 nr_free_pages(void) { return free_pages_count; }
u64 total_pages(void) { return nr_pages; }

/* Free memory is [free_start, mem_bytes): the loader's area, the image and System.map stay reserved. */
void mm_init_early(void)
{
	nr_pages = boot_params.mem_bytes / PAGE_SIZE;
	u64 first = ALIGN_UP(boot_params.free_start, PAGE_SIZE) / PAGE_SIZE;
	bitmap_phys = first * PAGE_SIZE;
	u64 bitmap_pages = ALIGN_UP((nr_pages + 7) / 8, PAGE_SIZE) / PAGE_SIZE;
	memset(bitmap(), 0xff, bitmap_pages * PAGE_SIZE);
	first_free_pfn = first + bitmap_pages;
	for (u64 pfn = first_free_pfn; pfn < nr_pages; pfn++) set_used(pfn, false);
	free_pages_count = nr_pages - first_free_pfn;
	search_hint = first_free_pfn;
}

static u64 alloc_pfns(unsigned n)
{
	for (int pass = 0; pass < 2; pass++) {
		u64 start = pass ? first_free_pfn : search_hint;
		for (u64 pfn = start; pfn + n <= nr_pages; pfn++) {
			unsigned i = 0;
			while (i < n && !page_used(pfn + i)) i++;
			if (i == n) {
				for (i = 0; i < n; i++) set_used(pfn + i, true);
				free_pages_count -= n;
				search_hint = pfn + n;
				memset(pv(pfn * PAGE_SIZE), 0, n * PAGE_SIZE);
				return pfn;
			}
			pfn += i;
		}
	}
	panic("out of memory: no %u free page(s) of %lu", n, free_pages_count);
}

u64 alloc_page_phys(void) { return alloc_pfns(1) * PAGE_SIZE; }
void *alloc_page(void) { return pv(alloc_page_phys()); }
void *alloc_pages(unsigned n) { return pv(alloc_pfns(n) * PAGE_SIZE); }

void free_pages(void *va, unsigned n)
{
	u64 pfn = ((u64)va - va_offset) / PAGE_SIZE;
	for (unsigned i = 0; i < n; i++) {
		if (!page_used(pfn + i)) panic("double free of page 0x%lx", (pfn + i) * PAGE_SIZE);
		set_used(pfn + i, false);
	}
	free_pages_count += n;
	if (pfn < search_hint) search_hint = pfn;
}
void free_page(void *va) { free_pages(va, 1); }

/* The entry for `va` at `level` (4 = PML4 ... 1 = PTE), allocating the tables above it. */
static u64 *pt_entry(u64 *pgd, u64 va, int level, u64 table_flags)
{
	u64 *table = pgd;
	for (int l = 4; l > level; l--) {
		u64 *e = &table[(va >> (12 + 9 * (l - 1))) & 511];
		if (!(*e & _PAGE_PRESENT)) *e = alloc_page_phys() | table_flags;
		else *e |= table_flags & _PAGE_USER;
		table = pv(*e & PTE_ADDR_MASK);
	}
	return &table[(va >> (12 + 9 * (level - 1))) & 511];
}

void paging_init(void)
{
	u64 pgd_phys = alloc_page_phys();
	u64 *pgd = pv(pgd_phys);
	u64 ram = ALIGN_UP(boot_params.mem_bytes, PMD_SIZE);
	/* NX in the direct map needs EFER.NXE before CR3 points at it. */
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	for (u64 pa = 0; pa < ram; pa += PMD_SIZE)
		*pt_entry(pgd, PAGE_OFFSET + pa, 2, _PAGE_PRESENT | _PAGE_RW) = pa | _PAGE_PRESENT | _PAGE_RW | _PAGE_PSE | _PAGE_NX;
	u64 kmap = ram < (1ul << 30) ? ram : (1ul << 30);
	for (u64 pa = 0; pa < kmap; pa += PMD_SIZE)
		*pt_entry(pgd, __START_KERNEL_map + pa, 2, _PAGE_PRESENT | _PAGE_RW) = pa | _PAGE_PRESENT | _PAGE_RW | _PAGE_PSE;
	write_cr3(pgd_phys);
	va_offset = PAGE_OFFSET;
	init_mm.pgd = __va(pgd_phys);
	init_mm.pgd_phys = pgd_phys;
}

struct mm_struct *mm_alloc(void)
{
	struct mm_struct *mm = alloc_page();
	u64 phys = alloc_page_phys();
	mm->pgd = __va(phys);
	mm->pgd_phys = phys;
	/* The kernel half (entries 256..511) is shared with every process, as in Linux's pgd_alloc. */
	for (int i = 256; i < 512; i++) mm->pgd[i] = init_mm.pgd[i];
	return mm;
}

int map_user_page(struct mm_struct *mm, u64 va, u64 phys, bool writable, bool exec)
{
	if (va >= TASK_SIZE_MAX) return -EFAULT;
	u64 *pte = pt_entry(mm->pgd, va, 1, _PAGE_PRESENT | _PAGE_RW | _PAGE_USER);
	*pte = phys | _PAGE_PRESENT | _PAGE_USER | (writable ? _PAGE_RW : 0) | (exec ? 0 : _PAGE_NX);
	mm->nr_pages++;
	return 0;
}

static void free_table(u64 *table, int level)
{
	for (int i = 0; i < 512; i++) {
		u64 e = table[i];
		if (!(e & _PAGE_PRESENT)) continue;
		if (level > 1) free_table(__va(e & PTE_ADDR_MASK), level - 1);
		else free_page(__va(e & PTE_ADDR_MASK));
	}
	free_page(table);
}

/* Frees the user half (pages and tables), the root and the descriptor. */
void mm_release(struct mm_struct *mm)
{
	for (int i = 0; i < 256; i++) {
		if (mm->pgd[i] & _PAGE_PRESENT) free_table(__va(mm->pgd[i] & PTE_ADDR_MASK), 3);
		mm->pgd[i] = 0;
	}
	free_page(mm->pgd);
	free_page(mm);
}

/* True when [p, p+n) is user memory mapped in the current address space. */
int access_ok(const void *p, size_t n)
{
	u64 va = (u64)p;
	struct mm_struct *mm = current->mm;
	if (!mm || va >= TASK_SIZE_MAX || n > TASK_SIZE_MAX - va) return 0;
	for (u64 page = va & ~(PAGE_SIZE - 1); page < va + n; page += PAGE_SIZE) {
		u64 *table = mm->pgd;
		for (int l = 4; l >= 1; l--) {
			u64 e = table[(page >> (12 + 9 * (l - 1))) & 511];
			if (!(e & _PAGE_PRESENT) || !(e & _PAGE_USER)) return 0;
			if (l == 1) break;
			table = __va(e & PTE_ADDR_MASK);
		}
	}
	return 1;
}
