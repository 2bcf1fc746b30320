/* Shared declarations of the CPU-bound benchmark workload.
 * Plain integer C, no libc: the same object code runs freestanding in the
 * emulator (start.S + workload.ld) and natively (native_main.c). */
#ifndef BENCH_WORK_H
#define BENCH_WORK_H
#include <stdint.h>

/* Runs `iters` iterations of the workload and returns a 64-bit checksum
 * that depends on every result of every iteration. */
uint64_t bench_run(uint64_t iters);

#endif
