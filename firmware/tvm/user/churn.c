/*
 * churn: the torn-walk scenario (issue 11), booted with "init=churn
 * initarg=N". As pid 1 it raises N VMI requests one after another (each a
 * vmireq run: one VMFUNC request, then ~4 ms of sleeps) and, while each
 * vmireq lives, keeps creating and reaping short-lived children (churn with a
 * negative argument, which exits at once), so the kernel's task list changes
 * all the time that Dom0's process-list walks it. Linked without the printf
 * library and with -Os: the image must fit the kernel's spare .data room
 * (see Makefile). Exits with 1 if a spawn failed or a vmireq did not exit 0.
 */
#include "ulib.h"

void __noreturn exit(int status)
{
	for (;;) syscall1(__NR_exit, status);
}

/* Children alive at once besides vmireq: a longer task list, more of it changing. */
#define CHILDREN 6

#define say(s) write(1, s, sizeof(s) - 1)

int main(long n, unsigned long hwcap)
{
	if (n < 0) return 0;            /* a churn child: created, run once, gone */
	if (n == 0) n = 1;
	int status, failed = 0;
	for (int i = 0; i < CHILDREN; i++)   /* children in flight; each reaped one is replaced */
		if (spawn("churn", -1) < 0) return 1;
	for (long r = 0; r < n; r++) {
		long req = spawn("vmireq", 1);
		if (req < 0) return 1;
		for (;;) {
			long pid = spawn("churn", -1);
			if (pid < 0) return 1;
			pid = waitpid(-1, &status);
			if (pid < 0) return 1;
			if (pid == req) { failed |= !WIFEXITED(status) || WEXITSTATUS(status); break; }
		}
	}
	while (waitpid(-1, &status) != -ECHILD) {}
	say("churn: done\n");
	return failed;
}
