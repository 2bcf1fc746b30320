import { defineConfig } from 'vitest/config';

// The suites that must hold with the JIT on as well as off (issue 15): the VMX/EPT rules, the
// debugger, the TVM boot's recorded behaviour, and the differential suite against the host CPU.
// The JIT is on by default: the interpreter project turns it off (VMFUNC_VMI_JIT=off, inherited by
// the CLI processes tests start). VMFUNC_VMI_JIT_HOT compiles a block once its entries retired N
// instructions instead of 1,000,000, so short tests run compiled code (src/machine.ts).
const JIT_SUITES = ['test/vmx.test.ts', 'test/ept.test.ts', 'test/ept-walk.test.ts', 'test/debug.test.ts',
  'test/single-step.test.ts', 'test/golden.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // The CPU is single-threaded Wasm; two workers match the two cores CI has.
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'interpreter', include: ['test/**/*.test.ts'], env: { VMFUNC_VMI_JIT: 'off' } } },
      { extends: true, test: { name: 'jit', include: JIT_SUITES, env: { VMFUNC_VMI_JIT: 'on', VMFUNC_VMI_JIT_HOT: '10' } } },
      // Every case's code compiled at its first entry; 5,000 of the 20,000 cases (time).
      { extends: true, test: { name: 'jit-diff', include: ['test/differential.test.ts'], env: { VMFUNC_VMI_JIT: 'on', VMFUNC_VMI_JIT_HOT: '1', DIFF_CASES: '5000' } } },
    ],
  },
});
