// Limits both sides of the Wasm boundary obey. This folder holds the facts the CPU (AssemblyScript)
// and the host (TypeScript) share: each file is written in the subset both compilers accept (typed
// constants, arrays, plain functions; no decorators or Wasm builtins), so the host imports the very
// file the CPU is compiled from and no value exists twice (src/types/assemblyscript.d.ts gives the
// TypeScript side AssemblyScript's scalar type names).

/** vmresume's return value when the host debugger's breakpoint stopped the guest (not an SDM reason). */
export const DEBUG_STOP: u32 = 0x7fff;

/** Linear-address breakpoints the debugger can set at once: the CPU's table holds this many u64s. */
export const MAX_BREAKPOINTS: i32 = 64;
