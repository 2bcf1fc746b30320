/* CPUID faulting from user space (Linux arch_prctl ARCH_GET_CPUID / ARCH_SET_CPUID): the kernel
 * offers it when MSR_PLATFORM_INFO bit 31 says the CPU can, and turns it on through
 * MSR_MISC_FEATURES_ENABLES bit 0; a CPUID at CPL 3 then raises #GP, which arrives as SIGSEGV. */
#include <asm/prctl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

static sigjmp_buf jb;
static void on_segv(int sig) { (void)sig; siglongjmp(jb, 1); }

static int try_cpuid(void)
{
	unsigned a = 0, b, c = 0, d;
	if (sigsetjmp(jb, 1)) return 0;
	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return 1;
}

int main(void)
{
	signal(SIGSEGV, on_segv);
	printf("ARCH_GET_CPUID %ld\n", syscall(SYS_arch_prctl, ARCH_GET_CPUID, 0));
	printf("cpuid %s\n", try_cpuid() ? "runs" : "faults");
	printf("ARCH_SET_CPUID(0) %ld\n", syscall(SYS_arch_prctl, ARCH_SET_CPUID, 0));
	printf("ARCH_GET_CPUID %ld\n", syscall(SYS_arch_prctl, ARCH_GET_CPUID, 0));
	printf("cpuid %s\n", try_cpuid() ? "runs" : "faults");
	printf("ARCH_SET_CPUID(1) %ld\n", syscall(SYS_arch_prctl, ARCH_SET_CPUID, 1));
	printf("cpuid %s\n", try_cpuid() ? "runs" : "faults");
	return 0;
}
