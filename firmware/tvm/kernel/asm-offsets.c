/*
 * Structure offsets for introspection, generated like Linux's asm-offsets:
 * compiled to assembly only, the "->name value" strings are collected by the
 * Makefile into tvm.profile.json (LibVMI's offset names).
 */
#include <tvm/kernel.h>
#include <uapi/tvm.h>

#define DEFINE(sym, val) __asm__ volatile("\n.ascii \"->" #sym " %c0\"" : : "i"(val))

void offsets(void);
void offsets(void)
{
	DEFINE(linux_tasks, offsetof(struct task_struct, tasks));
	DEFINE(linux_mm, offsetof(struct task_struct, mm));
	DEFINE(linux_active_mm, offsetof(struct task_struct, active_mm));
	DEFINE(linux_pid, offsetof(struct task_struct, pid));
	DEFINE(linux_name, offsetof(struct task_struct, comm));
	DEFINE(linux_parent, offsetof(struct task_struct, parent));
	DEFINE(linux_state, offsetof(struct task_struct, state));
	DEFINE(linux_pgd, offsetof(struct mm_struct, pgd));
	DEFINE(linux_current_task, offsetof(struct pcpu, current_task));
	DEFINE(linux_nr_syscalls, NR_syscalls);
}
