// The VMI program sandbox (sandbox.ts), by part: the libvmi import table
// (abi.ts), the Wasm binary rewriting that enforces the memory limit
// (rewrite.ts), compiled modules kept across launches (module-cache.ts),
// sandbox threads (pool.ts), the call protocol between a thread and Dom0
// (rpc.ts), captured output and /out files (output.ts), and the plain-JS
// files that run in a sandbox thread (worker.mjs, runtime.mjs,
// libvmi-imports.mjs). Import the public API from here.
export { Sandbox, runInSandbox, type SandboxRunOptions, type SandboxResult, type SandboxErrorKind, type ProgramClock } from './sandbox.js';
export type { SandboxOptions } from './pool.js';
export { DEFAULT_VMI_LIMITS } from './limits.js';
export { LIBVMI_ABI, type AbiEntry, type AbiKind, type HostResult } from './abi.js';
export { limitModuleMemory } from './rewrite.js';
