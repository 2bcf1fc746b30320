/*
 * Tasks and the scheduler. Every task is on the `tasks` list headed by
 * init_task (pid 0, the idle task, as in Linux); runnable tasks other than
 * the idle task are on the run queue, which the scheduler serves round-robin
 * with a time slice of one timer tick. The kernel is not preemptible: it runs
 * with interrupts off, so a task switches only in schedule() -- on a system
 * call that blocks or yields, or on the way back to user mode after a tick
 * used up the slice.
 */
#include <tvm/kernel.h>
#include <tvm/x86.h>
#include <uapi/tvm.h>

#define DEF_TIMESLICE 1

extern char init_thread_union[];

struct task_struct init_task = {
	.state = TASK_RUNNING,
	.stack = init_thread_union,
	.run_list = LIST_HEAD_INIT(init_task.run_list),
	.tasks = LIST_HEAD_INIT(init_task.tasks),
	.mm = NULL,
	.active_mm = &init_mm,
	.pid = 0,
	.real_parent = &init_task,
	.parent = &init_task,
	.children = LIST_HEAD_INIT(init_task.children),
	.sibling = LIST_HEAD_INIT(init_task.sibling),
	.comm = "swapper",
};

static LIST_HEAD(runqueue);
volatile int need_resched;
u64 nr_context_switches;
u64 elf_hwcap;
static pid_t last_pid;
static struct task_struct *child_reaper;   /* pid 1 */

struct user_image_header { u32 magic; u32 entry; u64 memsz; };

void sched_init(void)
{
	cpu0_pcpu.current_task = &init_task;
	load_kernel_stack((u64)init_thread_union + THREAD_SIZE);
	if (boot_params.flags & BOOTINFO_F_VMFUNC) elf_hwcap |= TVM_HWCAP_VMFUNC;
	if (rootkit_scenario) elf_hwcap |= TVM_HWCAP_ROOTKIT;
}

static void context_switch(struct task_struct *prev, struct task_struct *next)
{
	struct mm_struct *mm = next->mm ? next->mm : prev->active_mm;
	next->active_mm = mm;
	if (mm != prev->active_mm) write_cr3(mm->pgd_phys);
	load_kernel_stack((u64)next->stack + THREAD_SIZE);
	cpu0_pcpu.current_task = next;
	nr_context_switches++;
	__switch_to_asm(&prev->thread.sp, next->thread.sp);
}

void schedule(void)
{
	struct task_struct *prev = current, *next;
	need_resched = 0;
	if (prev != &init_task && prev->state == TASK_RUNNING) list_move_tail(&prev->run_list, &runqueue);
	next = list_empty(&runqueue) ? &init_task : list_first_entry(&runqueue, struct task_struct, run_list);
	if (next->time_slice <= 0) next->time_slice = DEF_TIMESLICE;
	if (next != prev) context_switch(prev, next);
}

void wake_up_process(struct task_struct *t)
{
	if (t->state == TASK_RUNNING) return;
	t->state = TASK_RUNNING;
	list_add_tail(&t->run_list, &runqueue);
	if (current == &init_task) need_resched = 1;
}

/* Takes the current task off the run queue in `state` and runs another. */
static void block_current(long state)
{
	struct task_struct *t = current;
	t->state = state;
	list_del(&t->run_list);
	schedule();
}

struct task_struct *find_task(pid_t pid)
{
	struct list_head *p;
	list_for_each(p, &init_task.tasks) {
		struct task_struct *t = list_entry(p, struct task_struct, tasks);
		if (t->pid == pid) return t;
	}
	return NULL;
}

/* Creates a user process running the embedded program `name` with `arg` in RDI. */
long kernel_spawn(const char *name, long arg, struct task_struct *parent)
{
	const struct program *prog = find_program(name);
	if (!prog) return -ENOENT;
	const struct user_image_header *hdr = (const void *)prog->start;
	u64 filesz = prog->end - prog->start;
	if (filesz < sizeof(*hdr) || hdr->magic != USER_IMAGE_MAGIC || hdr->memsz < filesz) return -EINVAL;

	struct task_struct *t = alloc_page();
	t->stack = alloc_pages(THREAD_SIZE / PAGE_SIZE);
	struct mm_struct *mm = mm_alloc();
	for (u64 off = 0; off < hdr->memsz; off += PAGE_SIZE) {
		u64 phys = alloc_page_phys();
		if (off < filesz) memcpy(__va(phys), prog->start + off, filesz - off < PAGE_SIZE ? filesz - off : PAGE_SIZE);
		map_user_page(mm, USER_IMAGE_BASE + off, phys, true, true);
	}
	mm->start_code = USER_IMAGE_BASE;
	mm->end_code = USER_IMAGE_BASE + ALIGN_UP(hdr->memsz, PAGE_SIZE);
	for (u64 va = USER_STACK_TOP - USER_STACK_SIZE; va < USER_STACK_TOP; va += PAGE_SIZE)
		map_user_page(mm, va, alloc_page_phys(), true, false);
	mm->start_stack = USER_STACK_TOP;

	t->state = TASK_UNINTERRUPTIBLE;
	t->pid = t->tgid = ++last_pid;
	strscpy(t->comm, name, sizeof(t->comm));
	t->mm = t->active_mm = mm;
	t->real_parent = t->parent = parent;
	INIT_LIST_HEAD(&t->children);
	INIT_LIST_HEAD(&t->run_list);
	list_add_tail(&t->sibling, &parent->children);
	list_add_tail(&t->tasks, &init_task.tasks);
	t->start_time = rdtsc();
	if (t->pid == 1) child_reaper = t;

	/* The first return to user mode: an IRETQ frame at the top of the kernel stack ... */
	struct pt_regs *regs = (struct pt_regs *)((u64)t->stack + THREAD_SIZE) - 1;
	regs->rip = USER_IMAGE_BASE + hdr->entry;
	regs->cs = __USER_CS;
	regs->rflags = X86_EFLAGS_IF | 0x2;
	regs->rsp = USER_STACK_TOP;
	regs->ss = __USER_DS;
	regs->rdi = arg;
	regs->rsi = elf_hwcap;
	regs->vector = -1ul;
	/* ... below it the frame __switch_to_asm pops: six callee-saved registers and ret_from_fork. */
	u64 *sp = (u64 *)regs;
	*--sp = (u64)ret_from_fork;
	for (int i = 0; i < 6; i++) *--sp = 0;
	t->thread.sp = (u64)sp;
	wake_up_process(t);
	return t->pid;
}

static void release_task(struct task_struct *t)
{
	list_del(&t->sibling);
	list_del(&t->tasks);
	free_pages(t->stack, THREAD_SIZE / PAGE_SIZE);
	free_page(t);
}

/* `code` is a wait status: (status << 8) for exit(), the signal number for a fatal signal. */
void __noreturn do_exit(int code)
{
	struct task_struct *t = current;
	if (t == &init_task) panic("Attempted to kill the idle task!");
	if (t == child_reaper) {
		int status = WIFEXITED(code) ? WEXITSTATUS(code) : 128 + WTERMSIG(code);
		if (WIFEXITED(code)) printk("tvm: init exited with status %d\n", WEXITSTATUS(code));
		else printk("tvm: init killed by signal %d\n", WTERMSIG(code));
		dump_tasks();
		machine_power_off(status);
	}
	write_cr3(init_mm.pgd_phys);
	mm_release(t->mm);
	t->mm = NULL;
	t->active_mm = &init_mm;

	/* Orphans go to init, as in Linux. */
	struct list_head *p, *n;
	list_for_each_safe(p, n, &t->children) {
		struct task_struct *c = list_entry(p, struct task_struct, sibling);
		c->parent = c->real_parent = child_reaper;
		list_move_tail(&c->sibling, &child_reaper->children);
		if (c->state == EXIT_ZOMBIE && child_reaper->waiting_child) wake_up_process(child_reaper);
	}
	t->exit_code = code;
	t->exit_state = EXIT_ZOMBIE;
	t->state = EXIT_ZOMBIE;
	list_del(&t->run_list);
	if (t->parent->waiting_child) wake_up_process(t->parent);
	schedule();
	panic("a dead task ran");
}

long do_wait(pid_t pid, int *status)
{
	struct task_struct *self = current;
	for (;;) {
		bool have = false;
		struct list_head *p;
		list_for_each(p, &self->children) {
			struct task_struct *c = list_entry(p, struct task_struct, sibling);
			if (pid > 0 && c->pid != pid) continue;
			have = true;
			if (c->state == EXIT_ZOMBIE) {
				int code = c->exit_code;
				pid_t cpid = c->pid;
				release_task(c);
				if (status) *status = code;
				return cpid;
			}
		}
		if (!have) return -ECHILD;
		self->waiting_child = 1;
		block_current(TASK_INTERRUPTIBLE);
		self->waiting_child = 0;
	}
}

long do_nanosleep(u64 ns)
{
	struct task_struct *t = current;
	u64 deadline = rdtsc() + ns_to_cycles(ns);
	while (rdtsc() < deadline) {
		t->wakeup_tsc = deadline;
		block_current(TASK_INTERRUPTIBLE);
	}
	return 0;
}

static const char *state_name(long s)
{
	switch (s) {
	case TASK_RUNNING: return "R";
	case TASK_INTERRUPTIBLE: return "S";
	case TASK_UNINTERRUPTIBLE: return "D";
	case EXIT_ZOMBIE: return "Z";
	default: return "?";
	}
}

/* The task list in LibVMI's process-list format, walked from init_task as a VMI tool would. */
void dump_tasks(void)
{
	struct list_head *p = &init_task.tasks;
	printk("tvm: task list (init_task at %lx, tasks offset %lu):\n", (u64)&init_task, offsetof(struct task_struct, tasks));
	do {
		struct task_struct *t = list_entry(p, struct task_struct, tasks);
		printk("[%5d] %s (struct addr:%lx) state %s parent %d\n", t->pid, t->comm, (u64)t, state_name(t->state),
		       t->parent ? t->parent->pid : 0);
		p = p->next;
	} while (p != &init_task.tasks);
}

void __noreturn cpu_idle(void)
{
	for (;;) {
		while (!need_resched) safe_halt();
		schedule();
	}
}
