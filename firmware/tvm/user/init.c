/*
 * init (pid 1): spawns the TVM's programs -- two CPU-bound workers and
 * vmireq, the program that asks for introspection -- prints the kernel's
 * task list, reaps every child and exits 0 when all ran to completion (the
 * kernel then powers off with init's status). RDI (the kernel's initarg=)
 * is vmireq's parameter k; 0 means 1. With the kernel parameter "rootkit"
 * init also runs the rootkit scenario (a program that hooks a system call).
 */
#include "ulib.h"

static const struct { const char *name; long arg; } programs[] = {
	{ "worker", 1 }, { "worker", 2 }, { "vmireq", 0 }, { "rootkit", 0 },
};

int main(long arg, unsigned long hwcap)
{
	/* The rootkit scenario runs only when the kernel was booted with "rootkit". */
	int n = (int)ARRAY_SIZE(programs) - ((hwcap & TVM_HWCAP_ROOTKIT) ? 0 : 1), spawned = 0, ok = 0;
	printf("init: pid %d (parent %d), hwcap %lx: starting %d programs\n", getpid(), getppid(), hwcap, n);
	for (int i = 0; i < n; i++) {
		long a = programs[i].arg ? programs[i].arg : (arg > 0 ? arg : 1);
		long pid = spawn(programs[i].name, a);
		if (pid < 0) {
			printf("init: spawn %s failed: %ld\n", programs[i].name, pid);
			continue;
		}
		spawned++;
		printf("init: spawned %s (arg %ld) as pid %ld\n", programs[i].name, a, pid);
	}
	sched_yield();          /* let the new programs start before the task list is printed */
	tasklist();
	for (;;) {
		int status;
		long pid = waitpid(-1, &status);
		if (pid == -ECHILD) break;
		if (pid < 0) { printf("init: wait failed: %ld\n", pid); break; }
		if (WIFEXITED(status)) {
			printf("init: pid %ld exited with status %d\n", pid, WEXITSTATUS(status));
			if (WEXITSTATUS(status) == 0) ok++;
		} else {
			printf("init: pid %ld killed by signal %d\n", pid, WTERMSIG(status));
		}
	}
	printf("init: %d of %d programs ran to completion\n", ok, n);
	return ok == n && spawned == n ? 0 : 1;
}
