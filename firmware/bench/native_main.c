/* Hosted driver: runs the same bench_run() natively and prints
 *   checksum 0x<16 hex digits>
 *   ns <nanoseconds spent in bench_run>
 *   iterations <n>
 * Usage: workload-native ITERATIONS */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "work.h"

int main(int argc, char **argv)
{
    uint64_t iters = argc > 1 ? strtoull(argv[1], NULL, 0) : 1;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t sum = bench_run(iters);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    int64_t ns = (int64_t)(t1.tv_sec - t0.tv_sec) * 1000000000 + (t1.tv_nsec - t0.tv_nsec);
    printf("checksum 0x%016" PRIx64 "\nns %" PRId64 "\niterations %" PRIu64 "\n", sum, ns, iters);
    return 0;
}
