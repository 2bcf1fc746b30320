// The JIT's code generator: one Wasm function per region (region.ts: decoded blocks of one 4 KiB
// page reachable from a hot entry block), in the shape of v86's per-page modules (src/rust/jit.rs:
// a `loop` around a `br_table` on the block index, so branches between the region's blocks stay
// inside the function). Each instruction does what exec.ts does for it, in the same order, so a
// fault or exit leaves the same state: the common integer operations inline (gen-int.ts), memory
// through the TLB fast path (gen-mem.ts), scalar-double SSE2 inline in its common case (gen-sse.ts),
// other SSE floating point through a light call (sseCall), everything else through jitStep, the
// interpreter's own execute() (helpers.ts). The registers, the counters and the lazy flags
// live in locals while the region runs (state.ts).
//
// Retirement is the run loop's (run/loop.ts): S.insnsRetired and S.vcycles grow by each retired
// instruction's count and D_COST, added per block and made exact before the interpreter runs an
// instruction and at every exit. A branch to another block of the region is taken only if the run
// loop would run that block whole (its count before sliceEnd, its cost before the timer deadline);
// otherwise, and on any branch out of the region, the function sets RIP and returns 0 and the run
// loop goes on. A stopped instruction (fault or exit request) returns STOPPED | its length with
// RIP/NRIP at it, as the interpreter leaves them for handleStop.
import * as D from "../decode";
import * as E from "./emit";
import { DENTRY, REGS } from "../layout";
import { B_COUNT } from "../run/blocks";
import { nBlocks, blockHdr, blockOff, blockIndex, blockPage, pageDelta, pageHost, copyEntry } from "./region";
import { L_GPR, L_X, inLocal, L_BLK, L_CE, L_T, L_STATUS, L_BASE, L_LA, L_INS, L_VC, P_SLICE_END, P_DEADLINE, declareLocals, syncIn, syncOut,
  setRegsInLocals, emitStatus, settleStatus, dropStatus } from "./state";
import { linear, tlbHolds } from "./gen-mem";
import { inline } from "./gen-int";
import { sseInline } from "./gen-sse";

/** Status the function returns when an instruction stopped (fault or VM exit request). */
export const STOPPED: i32 = 0x100;

// Per-block compile state.
let pendN: u32 = 0;          // instructions retired in this block and not yet added to L_INS
let pendC: u64 = 0;          // their cycles
let loopDepth: i32 = 0;      // E.depth inside the region's loop
let exitDepth: i32 = 0;      // E.depth inside the block the region leaves through
let selfDepth: i32 = 0;      // E.depth inside the current block's own loop (a branch to its start)
let selfK: i32 = -1;         // the current block
// What the lazy flags' locals hold: the last inline flag-setting operation of this block (LF_*), 0 = unknown.
export let flagsKind: i32 = 0;
export let flagsSize: i32 = 0;
let touchedMemory: bool = false; // the current instruction has a slow path that may bump codeEpoch
let nInline: u32 = 0, nFallback: u32 = 0; // the region's instructions, by how they are done
/** Instructions done by the interpreter, at most, per 64 of a region worth compiling: each costs a
 *  write-back and reload of the region's state around execute(), so a region mostly made of them
 *  (SSE or x87 code, say) runs slower than the interpreter runs it alone. */
const MAX_FALLBACK_PER_64: u32 = 16;

export function setFlagsKnown(kind: i32, size: i32): void { flagsKind = kind; flagsSize = size; }
export function noteMemory(): void { touchedMemory = true; }

// ---- retirement and exits -----------------------------------------------------------------------
function addCounts(n: u32, c: u64): void {
  if (n != 0) { E.lget(L_INS); E.i64c(<i64>n); E.op(E.I64_ADD); E.lset(L_INS); }
  if (c != 0) { E.lget(L_VC); E.i64c(<i64>c); E.op(E.I64_ADD); E.lset(L_VC); }
}
/** Instruction `e` retires (counted at the next flush). */
export function retire(e: usize): void { pendN++; pendC += <u64>load<u32>(e, D.D_COST); }
/** At a block's end: the retirement counted, the status concrete (the next block cannot know it). */
export function flushPending(): void { addCounts(pendN, pendC); pendN = 0; pendC = 0; settleStatus(); }

/** Leaves the region with `status` (the exit block writes the locals back). */
function exitWith(status: i32): void { emitStatus(); E.i32c(status); E.lset(L_STATUS); E.br(exitDepth); }
/** Leaves the region after the instruction ending at page offset `next`: RIP there, status 0. */
function exitAt(next: i64): void { linear(next); E.lset(L_LA); exitToRip(L_LA); }
/** Leaves the region with RIP from local `l`. */
export function exitToRip(l: u32): void { E.lget(l); E.gset(E.G_RIP); E.lget(l); E.gset(E.G_NRIP); exitWith(0); } // RIP = NRIP, as the run loop leaves them
/** A slow path stopped (its helper set RIP/NRIP): the instructions before it have retired. */
export function exitStopped(len: u32): void { addCounts(pendN, pendC); exitWith(STOPPED | <i32>len); }

/** Goes on at offset `t`: inside the region when the run loop would run that block whole (and, on
 *  another page, find it through the fetch TLB where the region was compiled from). */
export function goTo(t: i64): void {
  const k = blockIndex(t);
  if (k >= 0) {
    const h = blockHdr(k);
    const n = load<u32>(h, B_COUNT);
    let cost: u64 = 0;
    for (let i: u32 = 0; i < n; i++) cost += <u64>load<u32>(h + DENTRY + <usize>i * DENTRY, D.D_COST);
    // insns + n <= sliceEnd && vcycles < deadline && vcycles + cost <= deadline (run/loop.ts; with a
    // cost above 0 the last implies the second).
    E.lget(L_INS); E.i64c(<i64>n); E.op(E.I64_ADD); E.lget(P_SLICE_END); E.op(E.I64_LE_U);
    if (cost == 0) { E.lget(L_VC); E.lget(P_DEADLINE); E.op(E.I64_LT_U); E.op(E.I32_AND); }
    E.lget(L_VC); E.i64c(<i64>cost); E.op(E.I64_ADD); E.lget(P_DEADLINE); E.op(E.I64_LE_U); E.op(E.I32_AND);
    const p = blockPage(k);
    if (p != 0 && p != blockPage(selfK)) { fetchMaps(p); E.op(E.I32_AND); }
    // A block branching to its own start loops in place; others go through the br_table.
    if (k == selfK) { E.iff(); E.br(selfDepth); E.end(); }
    else { E.iff(); E.i32c(k); E.lset(L_BLK); E.br(loopDepth); E.end(); }
  }
  exitAt(t);
}

/** Whether the fetch TLB maps the region's page `p` to the frame it was compiled from (run/loop.ts
 *  blockFits does the same for a block's second page); an i32. Translations stay put while a region
 *  runs: whatever changes one bumps codeEpoch, and the region leaves (epochCheck, jitStep). */
function fetchMaps(p: i32): void {
  linear(pageDelta(p)); E.lset(L_LA);
  tlbHolds(E.G_TLBX);
  E.lget(L_X); E.loadI64(8, 8); E.i64c(<i64>pageHost(p)); E.op(E.I64_EQ); E.op(E.I32_AND);
}

/** After an instruction whose slow path ran: a write to code or a TLB flush ends the block
 *  (run/loop.ts breaks out when codeEpoch moves), RIP at `next`; its retirement is in pendN/pendC. */
export function epochCheck(next: i64): void {
  if (!touchedMemory) return;
  E.gget(E.G_EPOCH); E.lget(L_CE); E.op(E.I32_NE);
  E.iff(); addCounts(pendN, pendC); exitAt(next); E.end();
  touchedMemory = false;
}

// ---- the interpreter's instructions ---------------------------------------------------------------
/** jitStep on a copy of entry `e` (it retires the instruction itself); its status in L_T. */
function step(copy: usize, off: i64): void {
  addCounts(pendN, pendC);
  syncOut(); // with the pending status (fallbackIf's path is conditional: the main path still owes it)
  E.i32c(<i32>copy); linear(off); E.call(E.F_STEP); E.lset(L_T);
  syncIn();
}
/** The interpreter runs the instruction; `last`: the block ends with it (leave the region). */
function fallback(e: usize, off: i64, last: bool): bool {
  const copy = copyEntry(e);
  if (copy == 0) return false;
  step(copy, off);
  dropStatus(); // the locals hold what the interpreter left
  pendN = 0; pendC = 0;
  if (last) { E.lget(L_T); E.lset(L_STATUS); E.br(exitDepth); return true; }
  E.lget(L_T); E.i32c(-1); E.op(E.I32_NE); E.iff(); E.lget(L_T); E.lset(L_STATUS); E.br(exitDepth); E.end();
  flagsKind = 0;
  return true;
}
/** On the i32 condition on the stack, the interpreter runs the whole instruction and the region is left. */
export function fallbackIf(e: usize, off: i64): bool {
  const copy = copyEntry(e);
  if (copy == 0) return false;
  E.iff(); step(copy, off); E.lget(L_T); E.lset(L_STATUS); E.br(exitDepth); E.end();
  return true;
}

/**
 * SSE floating-point moves, arithmetic, logic and shuffles (not MOVMSKPS/PD, which writes a
 * general-purpose register; not the compares and conversions, which touch RFLAGS or GPRs): the
 * interpreter runs them through helpers.ts jitStepSse while the region's registers, flags and
 * counters stay in locals -- only the registers that form the address go to the register file first.
 */
function sseLightOk(e: usize, op: i32): bool {
  if (op != D.OP_SSE_MOVF && op != D.OP_SSE_FARITH && op != D.OP_SSE_FLOGIC && op != D.OP_SSE_SHUFF) return false;
  return !(op == D.OP_SSE_MOVF && (load<u64>(e, D.D_IMM2) & 0xff) == 0x50);
}
/** The light call of `copy` (copyEntry of e) for the instruction at `off` (gen-sse.ts: its slow path). */
export function sseCall(copy: usize, e: usize, off: i64, len: u32): void {
  if (load<u16>(e, D.D_RM) == D.RM_MEM) {
    const b = <u32>load<u8>(e, D.D_BASE), x = <u32>load<u8>(e, D.D_INDEX);
    if (b < 16 && inLocal(b)) { E.i32c(0); E.lget(L_GPR + b); E.storeI64(8, REGS + (<usize>b << 3)); }
    if (x < 16 && x != b && inLocal(x)) { E.i32c(0); E.lget(L_GPR + x); E.storeI64(8, REGS + (<usize>x << 3)); }
    noteMemory(); // a store may hit code: epochCheck after it
  }
  E.i32c(<i32>copy); linear(off); E.call(E.F_STEPSSE); E.lset(L_T);
  E.lget(L_T); E.i32c(-1); E.op(E.I32_NE); E.iff(); exitStopped(len); E.end();
}
function sseLight(e: usize, op: i32, off: i64, len: u32): bool {
  if (!sseLightOk(e, op)) return false;
  const copy = copyEntry(e);
  if (copy == 0) return false;
  sseCall(copy, e, off, len);
  return true;
}

/** One block: its instructions, then the branch it ends with or its fall-through. */
function block(k: i32): bool {
  const h = blockHdr(k);
  const n = load<u32>(h, B_COUNT);
  let off = blockOff(k);
  pendN = 0; pendC = 0; flagsKind = 0; touchedMemory = false; dropStatus();
  E.loop(); selfDepth = E.depth; selfK = k; // ends unreached: every path below branches or leaves
  let e = h + DENTRY;
  for (let i: u32 = 0; i < n; i++) {
    if (E.full()) return false;
    const op = <i32>load<u16>(e, D.D_OP);
    const len = <u32>load<u8>(e, D.D_LEN);
    const next = off + <i64>len;
    const last = i == n - 1;
    const ends = load<u8>(e, D.D_ENDS) != 0;
    if (sseInline(e, op, off, next, len) || sseLight(e, op, off, len) || inline(e, op, off, next, len, last)) {
      nInline++;
      if (ends) { E.op(E.UNREACHABLE); E.end(); return true; } // a branch: it left or looped
      retire(e);
      epochCheck(next);
    } else {
      nFallback++;
      if (!fallback(e, off, last && ends)) return false;
      if (last && ends) { E.end(); return true; }
    }
    off = next;
    e += DENTRY;
  }
  // A block cut at BLOCK_INSNS (or before a breakpoint): it falls through.
  flushPending();
  goTo(off);
  E.op(E.UNREACHABLE);
  E.end();
  return true;
}

/** The registers the region's instructions name (operands, address parts, RSP for the stack
 *  operations): the ones worth keeping in locals. Anything else reads and writes REGS. */
function registersNamed(): u32 {
  let mask: u32 = 1 << 4;
  for (let k = 0; k < nBlocks; k++) {
    const h = blockHdr(k);
    const n = load<u32>(h, B_COUNT);
    for (let i: u32 = 0; i < n; i++) {
      const e = h + DENTRY + <usize>i * DENTRY;
      const reg = <u32>load<u16>(e, D.D_REG), rm = <u32>load<u16>(e, D.D_RM);
      if (reg < 128) mask |= 1 << (reg >> 3);
      if (rm < 128) mask |= 1 << (rm >> 3);
      const b = <u32>load<u8>(e, D.D_BASE), x = <u32>load<u8>(e, D.D_INDEX);
      if (b < 16) mask |= 1 << b;
      if (x < 16) mask |= 1 << x;
    }
  }
  return mask;
}

/** Generates the region's function body at JIT_BODY; the end of the body, or 0 on failure. */
export function genRegion(): usize {
  E.begin();
  setRegsInLocals(registersNamed());
  declareLocals();
  E.gget(E.G_RIP); E.i64c(~0xfff); E.op(E.I64_AND); E.lset(L_BASE); // every block is on RIP's page
  E.gget(E.G_EPOCH); E.lset(L_CE);
  syncIn();
  const n = nBlocks;
  E.blk(); exitDepth = E.depth;
  E.loop(); loopDepth = E.depth;
  for (let k = 0; k < n; k++) E.blk();
  // br_table over the blocks: label k leaves block k's wrapper, where block k's code begins; any
  // other index leaves at once, state untouched (the host's first call, src/jit/host.ts).
  E.lget(L_BLK); E.byte(0x0e); E.uleb(<u64>n);
  for (let k = 0; k < n; k++) E.uleb(<u64>k);
  E.uleb(<u64>n + 1);
  nInline = 0; nFallback = 0;
  for (let k = 0; k < n; k++) {
    E.end();
    if (!block(k)) return 0;
  }
  if (nFallback * 64 > (nInline + nFallback) * MAX_FALLBACK_PER_64) return 0;
  E.end(); // the loop
  E.op(E.UNREACHABLE);
  E.end(); // the exit block: write the locals back, return the status
  dropStatus(); // every way here made the status concrete (exitWith, step)
  syncOut();
  E.lget(L_STATUS);
  E.byte(0x0b); // the function's end
  return E.pos;
}
