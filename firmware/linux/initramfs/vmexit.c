/*
 * vmexit STATUS: ends the run with STATUS. Writes it to the exit port (0x501, src/xen/devices/
 * debugexit.ts), which shuts the domain down at once; where there is no such port (real hardware,
 * QEMU without isa-debug-exit) it powers off, as `poweroff -f` would. Built with gcc -O2 -static.
 */
#include <stdlib.h>
#include <unistd.h>
#include <sys/io.h>
#include <sys/reboot.h>

#define EXIT_PORT 0x501

int main(int argc, char **argv)
{
	unsigned status = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : 0;
	sync();
	if (ioperm(EXIT_PORT, 4, 1) == 0)
		outl(status, EXIT_PORT);
	reboot(RB_POWER_OFF);
	return 1;
}
