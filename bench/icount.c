/* icount: exact count of the user-mode instructions one function executes,
 * by ptrace single-stepping (a fallback for hosts where `perf stat -e
 * instructions:u` has no hardware counter, e.g. most VMs).
 *
 *   icount FUNC_ADDR_HEX PROGRAM [ARGS...]
 *
 * Runs PROGRAM, single-steps it, and counts the instructions from the first
 * time RIP == FUNC_ADDR up to and including the RET that returns from that
 * call (i.e. the first time RIP reaches the return address with RSP above
 * the entry RSP). Prints "instructions N" on stderr; the program's own
 * stdout is passed through. Only meant for small runs: each step is a trap.
 * REP-prefixed string instructions, which trap once per iteration under
 * single-step, are counted once per instruction (RIP unchanged => same
 * instruction). */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: icount FUNC_ADDR_HEX PROGRAM [ARGS...]\n");
        return 2;
    }
    uint64_t func = strtoull(argv[1], NULL, 16);
    pid_t pid = fork();
    if (pid == 0) {
        ptrace(PTRACE_TRACEME, 0, 0, 0);
        execv(argv[2], argv + 2);
        perror("execv");
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0); /* stopped at exec */
    /* breakpoint at func */
    errno = 0;
    long orig = ptrace(PTRACE_PEEKTEXT, pid, (void *)func, 0);
    if (errno) { perror("peek"); return 1; }
    ptrace(PTRACE_POKETEXT, pid, (void *)func, (void *)((orig & ~0xffL) | 0xcc));
    ptrace(PTRACE_CONT, pid, 0, 0);
    waitpid(pid, &st, 0);
    if (!WIFSTOPPED(st)) { fprintf(stderr, "child exited before reaching the function\n"); return 1; }
    struct user_regs_struct r;
    ptrace(PTRACE_GETREGS, pid, 0, &r);
    ptrace(PTRACE_POKETEXT, pid, (void *)func, (void *)orig);
    r.rip = func;
    ptrace(PTRACE_SETREGS, pid, 0, &r);
    uint64_t entry_rsp = r.rsp;
    errno = 0;
    uint64_t ret = (uint64_t)ptrace(PTRACE_PEEKDATA, pid, (void *)r.rsp, 0);
    uint64_t count = 0, last_rip = ~0ull;
    for (;;) {
        if (r.rip != last_rip) count++; /* a REP string op traps per iteration */
        last_rip = r.rip;
        ptrace(PTRACE_SINGLESTEP, pid, 0, 0);
        waitpid(pid, &st, 0);
        if (!WIFSTOPPED(st)) { fprintf(stderr, "child exited while stepping\n"); return 1; }
        ptrace(PTRACE_GETREGS, pid, 0, &r);
        if (r.rip == ret && r.rsp > entry_rsp) break;
    }
    fprintf(stderr, "instructions %" PRIu64 "\n", count);
    ptrace(PTRACE_CONT, pid, 0, 0);
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
