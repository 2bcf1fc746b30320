/*
 * vmibench N [spin|sleep] [SEED]: N VMI requests for `vmfunc-vmi bench trigger --guest linux`, the
 * paper's request path on a real kernel's RDTSC rate (Liu et al., 2017: the guest switches to a
 * mirror EPT view with VMFUNC; the hypervisor's RDTSC emulation notices it). Each request:
 *   - spins a pseudo-random 0..~4 ms (no system call, no RDTSC), so that it starts at a uniformly
 *     random phase of the kernel's 250 Hz tick (a sleep alone would always wake on a tick);
 *   - writes its number to the bench's marker port 0x510 (the host notes the request's start);
 *   - executes VMFUNC(0, 11), the request (parameter 1);
 *   - then "spin": computes ~5 ms more (longer than a tick) without a system call or an RDTSC of its
 *     own, so the request is detected at the kernel's next RDTSC (the tick's sched_clock and
 *     timekeeping reads);
 *     "sleep": calls nanosleep(1 ms), whose clock read in the kernel detects it at once.
 * Needs vmi_trigger(1) first (RDTSC exiting on). Built with plain gcc -O2 -static.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>
#include <sys/io.h>
#include <sys/syscall.h>

#define __NR_vmi_trigger 451
#define MARK_PORT 0x510
#define TICK_ITERS 4000000u	/* loop iterations, ~3 instructions each: about a tick at ~1 cycle each */

static unsigned long long rng;

static unsigned xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng >> 16);
}

static void spin(unsigned n)
{
	unsigned x = 1;
	while (n--)
		__asm__ volatile("imul $1103515245, %0, %0" : "+r"(x));
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 10;
	int sleep_mode = argc > 2 && strcmp(argv[2], "sleep") == 0;
	rng = argc > 3 ? strtoull(argv[3], NULL, 0) : 1;
	if (rng == 0)
		rng = 1;
	if (ioperm(MARK_PORT, 1, 1) < 0) {
		printf("vmibench: ioperm(0x%x): %s\n", MARK_PORT, strerror(errno));
		return 1;
	}
	if (syscall(__NR_vmi_trigger, 1) < 0) {
		printf("vmibench: vmi_trigger(on) failed: %s\n", strerror(errno));
		return 1;
	}
	printf("vmibench: %d requests, %s after each\n", n, sleep_mode ? "nanosleep(1 ms)" : "a ~5 ms computation");
	fflush(stdout);
	for (int i = 0; i < n; i++) {
		spin(xorshift() % TICK_ITERS);
		outb((unsigned char)i, MARK_PORT);
		__asm__ volatile("vmfunc" :: "a"(0), "c"(11) : "memory");
		if (sleep_mode) {
			struct timespec ms = { 0, 1000000 };
			nanosleep(&ms, NULL);
		} else {
			spin(TICK_ITERS + TICK_ITERS / 2);
		}
	}
	/* A last clock read in the kernel, so no request is still pending when the trigger goes off. */
	struct timespec ms = { 0, 1000000 };
	nanosleep(&ms, NULL);
	syscall(__NR_vmi_trigger, 0);
	printf("vmibench: done\n");
	return 0;
}
