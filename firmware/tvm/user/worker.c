/* worker: CPU-bound; four rounds of a linear congruential generator, each ~1M instructions. */
#include "ulib.h"

#define ROUNDS 4
#define STEPS 160000

int main(long id, unsigned long hwcap)
{
	int pid = getpid();
	u64 t0 = rdtsc();
	u32 x = (u32)id * 2654435761u;
	u64 sum = 0;
	printf("worker[%d]: CPU-bound worker %ld starting\n", pid, id);
	for (int round = 1; round <= ROUNDS; round++) {
		for (int i = 0; i < STEPS; i++) {
			x = x * 1103515245u + 12345u;
			sum += x >> 16;
			__asm__ volatile("" : "+r"(x), "+r"(sum));   /* keep the loop as written */
		}
		printf("worker[%d]: round %d/%d checksum %08x after %lu cycles\n", pid, round, ROUNDS, (u32)sum, rdtsc() - t0);
	}
	return 0;
}
