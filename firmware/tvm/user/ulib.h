/* The TVM's tiny user library: system calls and printf. */
#ifndef ULIB_H
#define ULIB_H
#include <tvm/types.h>
#include <tvm/string.h>
#include <uapi/tvm.h>

static inline long syscall6(long n, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d, r8 __asm__("r8") = e, r9 __asm__("r9") = f;
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}
#define syscall0(n) syscall6(n, 0, 0, 0, 0, 0, 0)
#define syscall1(n, a) syscall6(n, (long)(a), 0, 0, 0, 0, 0)
#define syscall2(n, a, b) syscall6(n, (long)(a), (long)(b), 0, 0, 0, 0)
#define syscall3(n, a, b, c) syscall6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)

static inline long write(int fd, const void *buf, size_t n) { return syscall3(__NR_write, fd, buf, n); }
static inline int getpid(void) { return (int)syscall0(__NR_getpid); }
static inline int getppid(void) { return (int)syscall0(__NR_getppid); }
static inline long sched_yield(void) { return syscall0(__NR_sched_yield); }
static inline long spawn(const char *prog, long arg) { return syscall2(__NR_spawn, prog, arg); }
static inline long vmi_trigger(int on) { return syscall1(__NR_vmi_trigger, on); }
static inline long tasklist(void) { return syscall0(__NR_tasklist); }
static inline long waitpid(int pid, int *status) { return syscall6(__NR_wait4, pid, (long)status, 0, 0, 0, 0); }
static inline long nanosleep(const struct timespec *req) { return syscall2(__NR_nanosleep, req, 0); }
void __noreturn exit(int status);
long sleep_ms(long ms);
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static inline u64 rdtsc(void)
{
	u32 lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

#endif
