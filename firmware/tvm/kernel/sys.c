/*
 * System calls: SYSCALL/SYSRETQ with Linux's register convention, through
 * sys_call_table (indexed by the number in RAX, like Linux's).
 */
#include <tvm/kernel.h>
#include <tvm/x86.h>
#include <tvm/xen.h>
#include <uapi/tvm.h>

typedef long (*sys_call_ptr_t)(long, long, long, long, long, long);
#define SYSCALL_DEFINE(name) long sys_##name(long a0, long a1, long a2, long a3, long a4, long a5)

long do_nanosleep(u64 ns);

/* Copies a NUL-terminated user string of at most size-1 characters. */
static long strncpy_from_user(char *dst, const char *src, size_t size)
{
	for (size_t i = 0; i < size; i++) {
		if (!access_ok(src + i, 1)) return -EFAULT;
		dst[i] = src[i];
		if (!dst[i]) return (long)i;
	}
	return -EINVAL;
}

SYSCALL_DEFINE(ni_syscall) { return -ENOSYS; }

SYSCALL_DEFINE(write)
{
	const char *buf = (const char *)a1;
	size_t count = (size_t)a2;
	if (a0 != 1 && a0 != 2) return -9;   /* EBADF: only the console */
	if (!access_ok(buf, count)) return -EFAULT;
	console_write(buf, count);
	return (long)count;
}

SYSCALL_DEFINE(sched_yield) { schedule(); return 0; }

SYSCALL_DEFINE(nanosleep)
{
	const struct timespec *req = (const void *)a0;
	if (!access_ok(req, sizeof(*req))) return -EFAULT;
	if (req->tv_sec < 0 || req->tv_nsec < 0 || req->tv_nsec >= 1000000000l) return -EINVAL;
	return do_nanosleep((u64)req->tv_sec * 1000000000ul + (u64)req->tv_nsec);
}

SYSCALL_DEFINE(getpid) { return current->pid; }
SYSCALL_DEFINE(getppid) { return current->parent->pid; }
SYSCALL_DEFINE(exit) { do_exit((int)((a0 & 0xff) << 8)); }

SYSCALL_DEFINE(wait4)
{
	int *status = (int *)a1;
	if (status && !access_ok(status, sizeof(*status))) return -EFAULT;
	return do_wait((pid_t)a0, status);
}

SYSCALL_DEFINE(spawn)
{
	char name[TASK_COMM_LEN];
	long n = strncpy_from_user(name, (const char *)a0, sizeof(name));
	if (n < 0) return n;
	return kernel_spawn(name, a1, current);
}

SYSCALL_DEFINE(vmi_trigger)
{
	long rc = xen_vmi_trigger(a0 ? 1 : 0);
	printk("vmi: %s[%d] turned the VMI trigger %s (hvm_op %d: %ld)\n", current->comm, current->pid,
	       a0 ? "on" : "off", HVMOP_vmi_trigger, rc);
	return rc;
}

SYSCALL_DEFINE(tasklist)
{
	long n = 0;
	struct list_head *p;
	dump_tasks();
	list_for_each(p, &init_task.tasks) n++;
	return n + 1;
}

/*
 * The rootkit scenario: what a malicious kernel module does to hide itself --
 * overwrite a sys_call_table entry with its own function. Linux keeps the
 * table read-only and rootkits clear CR0.WP around the write; this kernel
 * does the same. Dom0's syscall-check VMI program finds the hook by comparing
 * the table with the System.map.
 */
sys_call_ptr_t sys_call_table[NR_syscalls];

static long evil_getpid(long a0, long a1, long a2, long a3, long a4, long a5)
{
	(void)a0; (void)a1; (void)a2; (void)a3; (void)a4; (void)a5;
	return 1; /* everyone is init: hides the caller's identity */
}

SYSCALL_DEFINE(hook_demo)
{
	u64 cr0 = read_cr0();
	write_cr0(cr0 & ~X86_CR0_WP);
	*(volatile sys_call_ptr_t *)&sys_call_table[__NR_getpid] = evil_getpid;
	write_cr0(cr0);
	printk("rootkit: %s[%d] hooked sys_call_table[%d] (getpid)\n", current->comm, current->pid, __NR_getpid);
	return 0;
}

sys_call_ptr_t sys_call_table[NR_syscalls] = {
	[0 ... NR_syscalls - 1] = sys_ni_syscall,
	[__NR_write] = sys_write,
	[__NR_sched_yield] = sys_sched_yield,
	[__NR_nanosleep] = sys_nanosleep,
	[__NR_getpid] = sys_getpid,
	[__NR_exit] = sys_exit,
	[__NR_wait4] = sys_wait4,
	[__NR_getppid] = sys_getppid,
	[__NR_spawn] = sys_spawn,
	[__NR_vmi_trigger] = sys_vmi_trigger,
	[__NR_tasklist] = sys_tasklist,
	[__NR_hook_demo] = sys_hook_demo,
};

void do_syscall_64(struct pt_regs *regs)
{
	u64 nr = regs->orig_rax;
	if (nr < NR_syscalls) regs->rax = sys_call_table[nr](regs->rdi, regs->rsi, regs->rdx, regs->r10, regs->r8, regs->r9);
	if (need_resched) schedule();
}

void syscall_init(void)
{
	wrmsr(MSR_STAR, ((u64)__USER32_CS << 48) | ((u64)__KERNEL_CS << 32));
	wrmsr(MSR_LSTAR, (u64)entry_SYSCALL_64);
	wrmsr(MSR_SYSCALL_MASK, X86_EFLAGS_TF | X86_EFLAGS_DF | X86_EFLAGS_IF | X86_EFLAGS_IOPL | X86_EFLAGS_AC | X86_EFLAGS_NT);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
}
