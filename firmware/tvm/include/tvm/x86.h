/* x86-64 helpers: port I/O, MSRs, control registers, descriptor tables. */
#ifndef TVM_X86_H
#define TVM_X86_H
#include <tvm/types.h>

#define MSR_IA32_TSC        0x00000010
#define MSR_EFER            0xc0000080
#define MSR_STAR            0xc0000081
#define MSR_LSTAR           0xc0000082
#define MSR_CSTAR           0xc0000083
#define MSR_SYSCALL_MASK    0xc0000084
#define MSR_FS_BASE         0xc0000100
#define MSR_GS_BASE         0xc0000101
#define MSR_KERNEL_GS_BASE  0xc0000102
#define MSR_TSC_AUX         0xc0000103
#define EFER_SCE            (1ul << 0)
#define EFER_NXE            (1ul << 11)

#define X86_EFLAGS_TF  0x100ul
#define X86_EFLAGS_IF  0x200ul
#define X86_EFLAGS_DF  0x400ul
#define X86_EFLAGS_IOPL 0x3000ul
#define X86_EFLAGS_NT  0x4000ul
#define X86_EFLAGS_AC  0x40000ul

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outl(u16 port, u32 v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static inline u64 rdtsc(void)
{
	u32 lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}
static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}
static inline void wrmsr(u32 msr, u64 v)
{
	__asm__ volatile("wrmsr" :: "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}
static inline void cpuid(u32 leaf, u32 sub, u32 *a, u32 *b, u32 *c, u32 *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}
static inline u64 read_cr0(void) { u64 v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline u64 read_cr2(void) { u64 v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline u64 read_cr3(void) { u64 v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline u64 read_cr4(void) { u64 v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
#define X86_CR0_WP (1ul << 16)
static inline void write_cr0(u64 v) { __asm__ volatile("mov %0, %%cr0" :: "r"(v) : "memory"); }
static inline void write_cr3(u64 v) { __asm__ volatile("mov %0, %%cr3" :: "r"(v) : "memory"); }
static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }
/* STI's interrupt shadow covers the HLT: no wakeup is lost between them. */
static inline void safe_halt(void) { __asm__ volatile("sti; hlt; cli" ::: "memory"); }
static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }

struct desc_ptr { u16 size; u64 address; } __packed;
static inline void load_gdt(const struct desc_ptr *d) { __asm__ volatile("lgdt %0" :: "m"(*d)); }
static inline void load_idt(const struct desc_ptr *d) { __asm__ volatile("lidt %0" :: "m"(*d)); }
static inline void load_tr(u16 sel) { __asm__ volatile("ltr %0" :: "r"(sel)); }

/* VMFUNC leaf 0: switch to EPTP-list entry `index` without a VM exit. */
static inline void vmfunc_switch_eptp(u32 index) { __asm__ volatile("vmfunc" :: "a"(0), "c"(index) : "memory"); }

#endif
