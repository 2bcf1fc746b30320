/* crashme: writes through a NULL pointer. The #PF is the guest's business: its kernel kills the task (no VM exit). */
#include "ulib.h"

int main(long arg, unsigned long hwcap)
{
	printf("crashme[%d]: writing to address 0\n", getpid());
	*(volatile int *)arg = 1;
	printf("crashme: still alive?\n");
	return 0;
}
