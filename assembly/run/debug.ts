// The host debugger's hooks in the run loop (not architecture): linear-address breakpoints and a
// stop before VMFUNC, checked at instruction boundaries as QEMU's gdbstub checks its breakpoints.
// vmresume returns DEBUG_STOP with RIP at the address; the guest sees nothing.
import { BREAKPOINTS } from "../layout";
import { MAX_BREAKPOINTS } from "../shared/limits";
import { dgen } from "../mmu";

export let nBreakpoints: i32 = 0;
export let breakOnVmfunc: bool = false;
let debugSkip: bool = false;   // resume past a breakpoint at the current RIP once

// A breakpoint or VMFUNC starts its own decoded block: changing either decodes again.
export function setBreakpoints(n: i32): void { nBreakpoints = n < 0 ? 0 : n > MAX_BREAKPOINTS ? MAX_BREAKPOINTS : n; dgen++; }
export function breakpointTable(): usize { return BREAKPOINTS; }
export function setBreakOnVmfunc(on: bool): void { breakOnVmfunc = on; dgen++; }
export function skipBreakpointOnce(): void { debugSkip = true; }

export function isBreakpoint(la: u64): bool {
  for (let i = 0; i < nBreakpoints; i++) if (load<u64>(BREAKPOINTS + (<usize>i << 3)) == la) return true;
  return false;
}

/** At a block's first instruction (RIP `la`, a VMFUNC or not): must the guest stop for the debugger? */
export function debugStopHere(la: u64, isVmfunc: bool): bool {
  const stopHere = (nBreakpoints != 0 && isBreakpoint(la)) || (breakOnVmfunc && isVmfunc);
  if (stopHere && !debugSkip) return true;
  debugSkip = false;
  return false;
}
