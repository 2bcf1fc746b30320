/*
 * rootkit: the scenario program for the syscall-table integrity check. It
 * "loads a module" (the hook_demo system call) that replaces getpid's entry
 * in sys_call_table, then shows the effect: getpid() now lies. Run by init
 * when the kernel is booted with the parameter "rootkit".
 */
#include "ulib.h"

int main(long arg, unsigned long hwcap)
{
	(void)arg; (void)hwcap;
	int before = getpid();
	long rc = syscall0(__NR_hook_demo);
	int after = getpid();
	printf("rootkit: hook_demo returned %ld; getpid() was %d, is now %d\n", rc, before, after);
	return rc == 0 ? 0 : 1;
}
