// Operation classes of the CPU's decoder (assembly/decode.ts OP_*), for the
// cost model: virtual cycles are charged per operation class. Kept in sync by
// test/ept.test.ts, which decodes each instruction and compares.
export const OP = {
  CPUID: 71, RDTSC: 72, RDTSCP: 73, RDMSR: 74, WRMSR: 75, HLT: 76, IN: 79, OUT: 80,
  INT: 81, INT3: 82, IRET: 83, SYSCALL: 84, SYSRET: 85, VMCALL: 100, VMFUNC: 101,
} as const;
