/* The TVM mini-OS kernel: shared declarations. */
#ifndef TVM_KERNEL_H
#define TVM_KERNEL_H
#include <tvm/types.h>
#include <tvm/list.h>
#include <tvm/bootinfo.h>
#include <tvm/string.h>

/* Virtual memory layout (Linux's x86-64 layout). */
#define PAGE_SIZE         4096ul
#define PAGE_OFFSET       0xffff888000000000ul   /* direct map of all guest RAM */
#define __START_KERNEL_map 0xffffffff80000000ul  /* kernel image: phys 0 maps here */
#define __va(p)           ((void *)((u64)(p) + PAGE_OFFSET))
#define __pa(v)           ((u64)(v) - PAGE_OFFSET)
#define __pa_symbol(v)    ((u64)(v) - __START_KERNEL_map)
#define TASK_SIZE_MAX     0x00007ffffffff000ul

/* GDT selectors, Linux's layout (arch/x86/include/asm/segment.h). */
#define GDT_ENTRY_KERNEL32_CS 1
#define GDT_ENTRY_KERNEL_CS   2
#define GDT_ENTRY_KERNEL_DS   3
#define GDT_ENTRY_USER32_CS   4
#define GDT_ENTRY_USER_DS     5
#define GDT_ENTRY_USER_CS     6
#define GDT_ENTRY_TSS         8
#define GDT_ENTRIES           16
#define __KERNEL_CS   (GDT_ENTRY_KERNEL_CS * 8)
#define __KERNEL_DS   (GDT_ENTRY_KERNEL_DS * 8)
#define __USER32_CS   (GDT_ENTRY_USER32_CS * 8 + 3)
#define __USER_DS     (GDT_ENTRY_USER_DS * 8 + 3)
#define __USER_CS     (GDT_ENTRY_USER_CS * 8 + 3)
#define GDT_TSS_SEL   (GDT_ENTRY_TSS * 8)

#define TIMER_VECTOR_DEFAULT 0x20
#define X86_TRAP_VE   20

/* Registers saved on kernel entry (entry.S builds this frame). */
struct pt_regs {
	u64 r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8, rax, rcx, rdx, rsi, rdi;
	u64 vector;     /* interrupt/exception vector; -1 for a system call */
	u64 orig_rax;   /* error code of an exception, system call number of a syscall */
	u64 rip, cs, rflags, rsp, ss;   /* the hardware frame */
};
static inline int user_mode(const struct pt_regs *r) { return (r->cs & 3) != 0; }

/* Per-CPU data reached through GS (offsets used by entry.S). */
struct pcpu {
	u64 kernel_rsp;   /* 0: top of the current task's kernel stack */
	u64 user_rsp;     /* 8: scratch for the SYSCALL entry */
	struct task_struct *current_task;  /* 16 */
};
extern struct pcpu cpu0_pcpu;

/* Address spaces. */
struct mm_struct {
	u64 *pgd;             /* page-table root (PML4), direct-map address */
	u64 pgd_phys;         /* what CR3 holds */
	u64 start_code, end_code, start_stack;
	u32 nr_pages;         /* user pages mapped */
};
extern struct mm_struct init_mm;

/* Task states, Linux's values. */
#define TASK_RUNNING          0
#define TASK_INTERRUPTIBLE    1
#define TASK_UNINTERRUPTIBLE  2
#define EXIT_DEAD             16
#define EXIT_ZOMBIE           32
#define TASK_COMM_LEN         16
#define THREAD_SIZE           (4 * PAGE_SIZE)

struct thread_struct { u64 sp; };

/* The task descriptor, after Linux's task_struct (the fields VMI reads). */
struct task_struct {
	volatile long state;          /* TASK_* / EXIT_* */
	void *stack;                  /* kernel stack (THREAD_SIZE bytes) */
	unsigned int flags;
	int prio;
	struct list_head run_list;    /* on the run queue while runnable */
	struct list_head tasks;       /* all tasks, headed by init_task */
	struct mm_struct *mm;         /* NULL for kernel threads */
	struct mm_struct *active_mm;
	int exit_state;
	int exit_code;                /* wait status (Linux encoding) */
	pid_t pid;
	pid_t tgid;
	struct task_struct *real_parent;
	struct task_struct *parent;
	struct list_head children;
	struct list_head sibling;
	u64 utime, stime;             /* ticks spent in user / kernel mode */
	u64 start_time;               /* TSC at creation */
	u64 wakeup_tsc;               /* sleeping until this TSC */
	int time_slice;               /* ticks left */
	int waiting_child;            /* blocked in wait4 */
	char comm[TASK_COMM_LEN];     /* executable name */
	struct thread_struct thread;
};

extern struct task_struct init_task;
static inline struct task_struct *get_current(void) { return cpu0_pcpu.current_task; }
#define current get_current()
extern volatile int need_resched;
extern struct boot_info boot_params;
extern char boot_command_line[];

/* printk.c */
int printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void console_write(const char *s, size_t n);
void __noreturn panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void show_regs(const struct pt_regs *regs);

/* serial.c */
void serial_init(u16 base);
void serial_putc(char c);

/* mm.c */
void mm_init_early(void);
void paging_init(void);
u64 alloc_page_phys(void);           /* zeroed page, physical address */
void *alloc_page(void);               /* zeroed page, direct-map address */
void *alloc_pages(unsigned n);        /* n contiguous zeroed pages */
void free_page(void *va);
void free_pages(void *va, unsigned n);
struct mm_struct *mm_alloc(void);
void mm_release(struct mm_struct *mm);
int map_user_page(struct mm_struct *mm, u64 va, u64 phys, bool writable, bool exec);
u64 nr_free_pages(void);
u64 total_pages(void);
int access_ok(const void *p, size_t n);

/* traps.c */
void trap_init(void);
void cpu_init(void);
void load_kernel_stack(u64 top);
void do_interrupt(struct pt_regs *regs);

/* time.c */
extern volatile u64 jiffies;
extern u64 tsc_khz;
void time_init(void);
void timer_interrupt(struct pt_regs *regs);
u64 ns_to_cycles(u64 ns);
u64 cycles_to_ns(u64 c);

/* sched.c */
void sched_init(void);
void schedule(void);
void wake_up_process(struct task_struct *t);
long kernel_spawn(const char *name, long arg, struct task_struct *parent);
void __noreturn do_exit(int code);
long do_wait(pid_t pid, int *status);
void dump_tasks(void);
void __noreturn cpu_idle(void);
struct task_struct *find_task(pid_t pid);
extern u64 elf_hwcap;
extern bool rootkit_scenario;

/* sys.c */
void syscall_init(void);
void do_syscall_64(struct pt_regs *regs);

/* programs.S / main.c */
struct program { const char *name; const u8 *start; const u8 *end; };
const struct program *find_program(const char *name);

/* entry.S */
void entry_SYSCALL_64(void);
void ret_from_fork(void);
void __switch_to_asm(u64 *prev_sp, u64 next_sp);
extern const u64 idt_stubs[256];

/* shutdown */
void __noreturn machine_power_off(int status);

#endif
