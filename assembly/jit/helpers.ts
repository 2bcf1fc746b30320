// The interpreter's side of compiled code: what a region (jit/gen.ts) calls when it does not do an
// instruction inline. jitStep runs one decoded instruction exactly as the run loop's inner loop does
// (run/loop.ts runSlice: NRIP, execute, RIP, retirement, the reasons to leave the block);
// jitRead/jitWrite are mmu.ts's slow paths (page walk, page-crossing, faults), entered with the
// SS-access flag ea() would have set; jitTestCC is flags.ts's condition test.
import * as S from "../state";
import * as D from "../decode";
import { stop } from "../fault";
import { execute, partial } from "../exec";
import { readMem, readMemW, writeMem, ssAccess } from "../mmu";
import { codeEpoch } from "../codepages";
import { testCCFast } from "../flags";
import { STOPPED } from "./gen";

/** Instructions compiled code handed to the interpreter, and memory accesses that left the inline
 *  TLB path (statistics: what a region still pays the interpreter for). */
export let steps: u64 = 0;
export let slowAccesses: u64 = 0;

/**
 * Runs the instruction at entry `e`, linear address `rip`: -1 when the block goes on with the next
 * instruction; otherwise what the region returns -- 0 (RIP set: the block ends here) or
 * STOPPED | length (a fault or exit request for the run loop's handleStop).
 */
export function jitStep(e: usize, rip: u64): i32 {
  steps++;
  const len = <u32>load<u8>(e, D.D_LEN);
  const next = rip + <u64>len;
  const ce = codeEpoch;
  S.rip = rip;
  S.nrip = next;
  execute(e);
  if (stop) return STOPPED | <i32>len;
  S.rip = S.nrip;
  if (partial) { partial = false; return 0; }
  S.insnsRetired++;
  S.vcycles += <u64>load<u32>(e, D.D_COST);
  if (S.nrip != next || codeEpoch != ce || load<u8>(e, D.D_ENDS) != 0) return 0;
  return -1;
}

/**
 * An SSE floating-point move, arithmetic, logic or shuffle instruction (jit/gen.ts sseLight): it
 * reads and writes only XMM registers, MXCSR and memory, and general-purpose registers only to form
 * its address, so the region keeps its registers, flags and counters in locals around it. -1 when it
 * ran (the region retires it), STOPPED | length when it faulted (nothing changed: fault.ts).
 */
export function jitStepSse(e: usize, rip: u64): i32 {
  steps++;
  const len = <u32>load<u8>(e, D.D_LEN);
  S.rip = rip;
  S.nrip = rip + <u64>len;
  execute(e);
  if (stop) return STOPPED | <i32>len;
  S.rip = S.nrip;
  return -1;
}

/**
 * The slow path of a memory access by the instruction at linear `rip` (packed, jit/gen-mem.ts:
 * size, kind, SS flag, length): RIP/NRIP as the interpreter has them during that instruction. A
 * page walk reads neither the counters nor the flags, so the region keeps those in its locals.
 */
@inline function enter(rip: u64, packed: i32): void {
  slowAccesses++;
  S.rip = rip;
  S.nrip = rip + <u64>((packed >> 8) & 0xff);
  ssAccess = ((packed >> 6) & 1) != 0;
}
export function jitRead(la: u64, rip: u64, packed: i32): u64 {
  enter(rip, packed);
  const size = packed & 15;
  return ((packed >> 4) & 3) == 0 ? readMem(la, size) : readMemW(la, size);
}
export function jitWrite(la: u64, v: u64, rip: u64, packed: i32): void {
  enter(rip, packed);
  writeMem(la, packed & 15, v);
}
export function jitTestCC(cc: i32): i32 { return testCCFast(<u32>cc) ? 1 : 0; }
