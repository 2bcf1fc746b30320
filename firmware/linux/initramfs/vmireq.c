/*
 * vmireq for Linux: asks for introspection the way the paper describes (Liu et al., 2017). It turns
 * the VMI trigger on (system call 451, vmi_trigger, added by patches/0001), executes VMFUNC with
 * EAX = 0 and ECX = 10 + k -- a switch to mirror EPT view k, which is the request -- and keeps
 * running, reading the TSC; the hypervisor's RDTSC emulation notices the view and hands the
 * request to Dom0. Built with plain gcc -O2 -static (glibc).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <x86intrin.h>

#define __NR_vmi_trigger 451

int main(int argc, char **argv)
{
	long k = argc > 1 ? strtol(argv[1], NULL, 10) : 1;
	int pid = getpid();
	if (k < 1) k = 1;
	printf("vmireq[%d]: asking for VMI with EPTP index %ld (parameter %ld)\n", pid, 10 + k, k);
	fflush(stdout);
	if (syscall(__NR_vmi_trigger, 1) < 0) {
		printf("vmireq[%d]: vmi_trigger(on) failed: %s\n", pid, strerror(errno));
		return 1;
	}
	__asm__ volatile("vmfunc" :: "a"(0), "c"((unsigned)(10 + k)) : "memory");
	printf("vmireq[%d]: VMFUNC(0, %ld) done, still running\n", pid, 10 + k);
	unsigned long long last = __rdtsc();
	for (int i = 1; i <= 4; i++) {
		struct timespec ms = { 0, 1000000 };
		nanosleep(&ms, NULL);
		unsigned long long t = __rdtsc();
		printf("vmireq[%d]: rdtsc %llu (+%llu)\n", pid, t, t - last);
		last = t;
	}
	syscall(__NR_vmi_trigger, 0);
	printf("vmireq[%d]: VMI trigger off, done\n", pid);
	return 0;
}
