/*
 * vmireq: asks for introspection the way the paper describes. It turns the
 * VMI trigger on (a system call that makes the hypervisor set RDTSC
 * exiting), executes VMFUNC with EAX = 0 and ECX = 10 + k -- switching to a
 * mirror EPT view, which is the request, with parameter k -- and keeps
 * running, reading the TSC; the hypervisor's RDTSC emulation notices the
 * view and raises the request. Without EPTP switching (no TVM_HWCAP_VMFUNC
 * from the kernel) it says so and sends nothing.
 */
#include "ulib.h"

int main(long k, unsigned long hwcap)
{
	int pid = getpid();
	if (k < 1) k = 1;
	printf("vmireq[%d]: asking for VMI with EPTP index %ld (parameter %ld)\n", pid, 10 + k, k);
	long rc = vmi_trigger(1);
	if (rc < 0) {
		printf("vmireq[%d]: vmi_trigger(on) failed: %ld\n", pid, rc);
		return 1;
	}
	if (hwcap & TVM_HWCAP_VMFUNC) {
		__asm__ volatile("mov $0, %%eax\n\tmov %0, %%ecx\n\tvmfunc" :: "r"((u32)(10 + k)) : "rax", "rcx", "memory");
		printf("vmireq[%d]: VMFUNC(0, %ld) done, still running\n", pid, 10 + k);
	} else {
		printf("vmireq[%d]: no EPTP switching offered (VMFUNC unavailable): no request sent\n", pid);
	}
	u64 last = rdtsc();
	for (int i = 1; i <= 4; i++) {
		sleep_ms(1);
		u64 t = rdtsc();
		printf("vmireq[%d]: rdtsc %lu (+%lu)\n", pid, t, t - last);
		last = t;
	}
	vmi_trigger(0);
	printf("vmireq[%d]: VMI trigger off, done\n", pid);
	return 0;
}
