/*
 * The TVM's user/kernel ABI. System calls use Linux's x86-64 convention:
 * SYSCALL with the number in RAX, arguments in RDI, RSI, RDX, R10, R8, R9,
 * the result (or -errno) in RAX; RCX and R11 are clobbered. Calls that Linux
 * has keep Linux's numbers; the TVM's own start at 400.
 */
#ifndef TVM_UAPI_H
#define TVM_UAPI_H

#define __NR_write         1
#define __NR_sched_yield   24
#define __NR_nanosleep     35
#define __NR_getpid        39
#define __NR_exit          60
#define __NR_wait4         61
#define __NR_getppid       110
#define __NR_spawn         400   /* spawn(const char *program, long arg) -> pid */
#define __NR_vmi_trigger   401   /* vmi_trigger(int on) -> 0 or -errno: RDTSC exiting on/off */
#define __NR_tasklist      402   /* tasklist(void): the kernel prints its task list */
#define __NR_hook_demo     403   /* hook_demo(void): the rootkit scenario's "module" hooks getpid in sys_call_table */
#define NR_syscalls        404

#define EPERM    1
#define ENOENT   2
#define ESRCH    3
#define EINTR    4
#define ECHILD   10
#define ENOMEM   12
#define EFAULT   14
#define EINVAL   22
#define ENOSYS   38

/* wait4() status words, as Linux encodes them. */
#define WIFEXITED(s)    (((s) & 0x7f) == 0)
#define WEXITSTATUS(s)  (((s) >> 8) & 0xff)
#define WIFSIGNALED(s)  (((s) & 0x7f) != 0)
#define WTERMSIG(s)     ((s) & 0x7f)

#define SIGILL   4
#define SIGTRAP  5
#define SIGBUS   7
#define SIGFPE   8
#define SIGSEGV  11

/* The second argument a program's _start receives (like Linux's AT_HWCAP2). */
#define TVM_HWCAP_VMFUNC  (1ul << 0)   /* EPTP switching with VMFUNC is available */
#define TVM_HWCAP_ROOTKIT (1ul << 8)   /* the kernel was booted with "rootkit": init runs the rootkit scenario */

struct timespec { long tv_sec; long tv_nsec; };

/* User address space: programs are loaded here, the stack ends at USER_STACK_TOP. */
#define USER_IMAGE_BASE   0x400000ul
#define USER_STACK_TOP    0x7ffffffff000ul
#define USER_STACK_SIZE   0x4000ul
#define USER_IMAGE_MAGIC  0x58564d54u   /* "TMVX": header of a flat user image */

#endif
