// The sandbox's default limits, one fact for every caller: Sandbox and
// runInSandbox (sandbox.ts), the sandbox threads (pool.ts) and `run`'s launch
// configuration (src/dom0/launch.ts DEFAULT_LAUNCH_CONFIG). vmi/README.md
// states them; test/vmi-limits.test.ts holds the two to each other.

/**
 * The limits a program runs under unless its caller sets others: `run`'s launch configuration
 * (src/dom0/launch.ts DEFAULT_LAUNCH_CONFIG) and Sandbox/runInSandbox alike; vmi/README.md states them.
 */
export const DEFAULT_VMI_LIMITS = {
  timeLimitMs: 5000,
  memoryLimitMiB: 64,
  /** Bytes of stdout and of stderr kept (more is counted and dropped). */
  maxOutputBytes: 1 << 20,
  /** Bytes of files the program may write to /out in all. */
  maxFileBytes: 1 << 30,
  /** The sandbox thread's JS heap (pool.ts). */
  heapLimitMiB: 128,
} as const;
