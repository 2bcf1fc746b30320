// MXCSR as the SSE floating-point instructions use it (SDM Vol. 1 10.2.3 "MXCSR Control and Status
// Register", 11.5.1-11.5.3 "SIMD Floating-Point Exceptions"): every instruction runs under its
// rounding control, FTZ and DAZ; the exception flags of all elements are ORed into MXCSR; when any
// raised exception is unmasked, no destination element is written and #XM (or #UD, CR4.OSXMMEXCPT
// clear) follows. Pre-computation exceptions (IE, DE, ZE) are checked for all elements first: when one
// of them is unmasked, only those flags are set (11.5.2 "the processor does not perform the
// computation"); otherwise the post-computation ones (OE, UE, PE) join them.
import { FXSTATE, FX_MXCSR } from "../../layout";
import { sfSetMode, sfFlags, sfClear } from "../../softfloat/status";
import { sfSetUnderflowMasked, sfSetOverflowMasked } from "../../softfloat/round-sse";
import { raiseSimdFault } from "../avail";

@inline export function mxcsr(): u32 { return load<u32>(FXSTATE + FX_MXCSR); }
@inline export function setMxcsr(v: u32): void { store<u32>(FXSTATE + FX_MXCSR, v); }

/** Pre- and post-computation flags collected over the elements of one instruction. */
export let fpPre: u32 = 0;
export let fpPost: u32 = 0;

/** Loads the softfloat mode from MXCSR and clears the collected flags. */
export function fpBegin(): void {
  const m = mxcsr();
  sfSetMode((m >> 13) & 3, (m & 0x8000) != 0, (m & 0x40) != 0);
  sfSetUnderflowMasked((m & 0x800) != 0);
  sfSetOverflowMasked((m & 0x400) != 0);
  fpPre = 0; fpPost = 0;
}

/** After one element: moves softfloat's flags into the collected ones. */
@inline export function fpElement(): void {
  const f = sfFlags;
  fpPre |= f & 7; fpPost |= f & 0x38;
  sfClear();
}

/** Adds flags computed outside softfloat (the fast paths). */
@inline export function fpAddFlags(f: u32): void { fpPre |= f & 7; fpPost |= f & 0x38; }

/** Merges the flags into MXCSR; false (after #XM/#UD) when one is unmasked and the destination stays. */
export function fpCommit(): bool {
  fpElement();
  const m = mxcsr();
  const unmasked = ~(m >> 7) & 0x3f;
  if ((fpPre & unmasked) != 0) { setMxcsr(m | fpPre); raiseSimdFault(); return false; }
  const all = fpPre | fpPost;
  if (all != 0) setMxcsr(m | all);
  if ((all & unmasked) != 0) { raiseSimdFault(); return false; }
  return true;
}
