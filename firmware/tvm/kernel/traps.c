/*
 * Descriptor tables and exceptions: Linux's GDT layout, a TSS with the
 * kernel stack (RSP0) and IST stacks for #DF, NMI and #MC, an IDT whose
 * 256 gates lead to entry.S's stubs. A fault in user mode kills the task
 * with Linux's diagnostics; a fault in the kernel prints an Oops and panics.
 * The #VE handler reads the information area the hypervisor named in the
 * boot information and clears its busy word.
 */
#include <tvm/kernel.h>
#include <tvm/x86.h>
#include <uapi/tvm.h>

struct tss_struct {
	u32 reserved1;
	u64 sp0, sp1, sp2;
	u64 reserved2;
	u64 ist[7];
	u32 reserved3, reserved4;
	u16 reserved5, io_bitmap_base;
} __packed;

struct gate_struct { u16 offset_low, segment, bits; u16 offset_middle; u32 offset_high, reserved; } __packed;

static u64 gdt_table[GDT_ENTRIES] __aligned(16) = {
	[GDT_ENTRY_KERNEL32_CS] = 0x00cf9b000000fffful,
	[GDT_ENTRY_KERNEL_CS]   = 0x00af9b000000fffful,
	[GDT_ENTRY_KERNEL_DS]   = 0x00cf93000000fffful,
	[GDT_ENTRY_USER32_CS]   = 0x00cffb000000fffful,
	[GDT_ENTRY_USER_DS]     = 0x00cff3000000fffful,
	[GDT_ENTRY_USER_CS]     = 0x00affb000000fffful,
};
static struct tss_struct cpu_tss __aligned(64);
static struct gate_struct idt_table[256] __aligned(4096);
static u8 ist_stacks[3][4096] __aligned(16);
u64 exception_counts[32];
u64 spurious_interrupts;
u64 ve_count;

struct pcpu cpu0_pcpu;

static const char *const trap_names[32] = {
	"divide error", "debug", "nmi", "int3", "overflow", "bounds", "invalid opcode",
	"device not available", "double fault", "coprocessor segment overrun", "invalid TSS",
	"segment not present", "stack segment", "general protection fault", "page fault",
	"reserved", "coprocessor error", "alignment check", "machine check", "SIMD exception",
	"virtualization exception", "control protection", "reserved", "reserved", "reserved",
	"reserved", "reserved", "reserved", "hypervisor injection", "VMM communication",
	"security exception", "reserved",
};
static const u8 trap_signals[32] = {
	SIGFPE, SIGTRAP, 0, SIGTRAP, SIGSEGV, SIGSEGV, SIGILL, SIGSEGV, 0, SIGFPE, SIGSEGV,
	SIGBUS, SIGBUS, SIGSEGV, SIGSEGV, SIGSEGV, SIGFPE, SIGBUS, 0, SIGFPE, SIGSEGV, SIGSEGV,
};

static void set_gate(int vec, u64 addr, int dpl, int ist)
{
	struct gate_struct *g = &idt_table[vec];
	g->offset_low = (u16)addr;
	g->segment = __KERNEL_CS;
	g->bits = (u16)(ist | (0xe << 8) | (dpl << 13) | (1 << 15));   /* present 64-bit interrupt gate */
	g->offset_middle = (u16)(addr >> 16);
	g->offset_high = (u32)(addr >> 32);
	g->reserved = 0;
}

void load_kernel_stack(u64 top)
{
	cpu_tss.sp0 = top;
	cpu0_pcpu.kernel_rsp = top;
}

void trap_init(void)
{
	u64 tss = (u64)&cpu_tss;
	cpu_tss.io_bitmap_base = sizeof(cpu_tss);   /* no I/O bitmap: CPL 3 port access faults */
	for (int i = 0; i < 3; i++) cpu_tss.ist[i] = (u64)&ist_stacks[i][4096];
	gdt_table[GDT_ENTRY_TSS] = 0x67ul | ((tss & 0xffffff) << 16) | (0x89ul << 40) | (((tss >> 24) & 0xff) << 56);
	gdt_table[GDT_ENTRY_TSS + 1] = tss >> 32;
	for (int v = 0; v < 256; v++) set_gate(v, idt_stubs[v], 0, 0);
	set_gate(3, idt_stubs[3], 3, 0);      /* int3 from user mode, as Linux allows */
	set_gate(8, idt_stubs[8], 0, 1);      /* #DF on IST1 */
	set_gate(2, idt_stubs[2], 0, 2);      /* NMI on IST2 */
	set_gate(18, idt_stubs[18], 0, 3);    /* #MC on IST3 */
}

/* Loads this CPU's GDT (reloading CS through IRETQ), TSS and IDT. */
void cpu_init(void)
{
	struct desc_ptr gdt = { sizeof(gdt_table) - 1, (u64)gdt_table };
	struct desc_ptr idt = { sizeof(idt_table) - 1, (u64)idt_table };
	load_gdt(&gdt);
	__asm__ volatile(
		"movq %%rsp, %%rax\n\t"
		"pushq %[ds]\n\t"
		"pushq %%rax\n\t"
		"pushfq\n\t"
		"pushq %[cs]\n\t"
		"leaq 1f(%%rip), %%rax\n\t"
		"pushq %%rax\n\t"
		"iretq\n"
		"1:\n\t"
		"movl %[ds], %%eax\n\t"
		"movl %%eax, %%ds\n\t"
		"movl %%eax, %%es\n\t"
		:: [cs] "i"(__KERNEL_CS), [ds] "i"(__KERNEL_DS) : "rax", "memory");
	load_tr(GDT_TSS_SEL);
	load_idt(&idt);
	wrmsr(MSR_GS_BASE, (u64)&cpu0_pcpu);
	wrmsr(MSR_KERNEL_GS_BASE, 0);
}

static void die(const char *what, struct pt_regs *regs)
{
	u64 vec = regs->vector;
	if (vec == 14) printk("BUG: unable to handle page fault for address: %016lx\n", read_cr2());
	printk("Oops: %s: %04lx [#1] (vector %lu) in %s[%d]\n", what, regs->orig_rax, vec, current->comm, current->pid);
	show_regs(regs);
	panic("Fatal exception");
}

static void do_trap(struct pt_regs *regs)
{
	u64 vec = regs->vector;
	const char *name = trap_names[vec];
	exception_counts[vec]++;
	if (vec == 8 || vec == 2 || vec == 18 || !user_mode(regs) || !trap_signals[vec]) die(name, regs);
	struct task_struct *t = current;
	struct mm_struct *mm = t->mm;
	if (vec == 14)
		printk("%s[%d]: segfault at %lx ip %016lx sp %016lx error %lx in %s[%lx+%lx]\n", t->comm, t->pid,
		       read_cr2(), regs->rip, regs->rsp, regs->orig_rax, t->comm, mm->start_code, mm->end_code - mm->start_code);
	else
		printk("traps: %s[%d] trap %s ip:%lx sp:%lx error:%lx in %s[%lx+%lx]\n", t->comm, t->pid, name,
		       regs->rip, regs->rsp, regs->orig_rax, t->comm, mm->start_code, mm->end_code - mm->start_code);
	do_exit(trap_signals[vec]);
}

/* The #VE information area (SDM Vol. 3C 25.5.7.2). */
struct ve_info {
	u32 exit_reason;
	u32 busy;             /* the CPU sets 0xffffffff; software clears it to receive the next #VE */
	u64 exit_qualification;
	u64 gla;
	u64 gpa;
	u16 eptp_index;
} __packed;

static void do_virtualization_exception(struct pt_regs *regs)
{
	ve_count++;
	if (!boot_params.ve_info_gpa) die("virtualization exception without an information area", regs);
	volatile struct ve_info *ve = __va(boot_params.ve_info_gpa);
	u32 reason = ve->exit_reason, busy = ve->busy;
	u64 qual = ve->exit_qualification, gla = ve->gla, gpa = ve->gpa;
	u16 index = ve->eptp_index;
	ve->busy = 0;
	printk("#VE: EPT violation (reason %u, busy %x) gpa %lx gla %lx qualification %lx view %u at ip %lx in %s[%d]\n",
	       reason, busy, gpa, gla, qual, index, regs->rip, current->comm, current->pid);
	/* An EPT-based policy denied the access in a restricted view: continue in the default view 0. */
	if ((boot_params.flags & BOOTINFO_F_VMFUNC) && index != 0) {
		printk("#VE: switching to EPT view 0\n");
		vmfunc_switch_eptp(0);
		return;
	}
	die("unresolvable virtualization exception", regs);
}

void do_interrupt(struct pt_regs *regs)
{
	u64 vec = regs->vector;
	if (vec == boot_params.timer_vector) timer_interrupt(regs);
	else if (vec == X86_TRAP_VE) do_virtualization_exception(regs);
	else if (vec < 32) do_trap(regs);
	else {
		spurious_interrupts++;
		printk("unexpected interrupt on vector 0x%lx\n", vec);
	}
	if (user_mode(regs) && need_resched) schedule();
}
