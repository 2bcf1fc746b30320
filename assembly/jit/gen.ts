// The JIT's code generator: one Wasm function per region (region.ts: decoded blocks of one 4 KiB
// page reachable from a hot entry block), in the shape of v86's per-page modules (src/rust/jit.rs:
// a `loop` around a `br_table` on the block index, so branches between the region's blocks stay
// inside the function). Each instruction does what exec.ts does for it, in the same order, so a
// fault or exit leaves the same state: the common integer operations inline (MOV, LEA, the ALU
// group without ADC/SBB, TEST, MOVZX/MOVSX, PUSH/POP r, JMP/Jcc/CALL rel), memory through the
// TLB fast path of mmu.ts with its slow path as a call, and everything else through jitStep, the
// interpreter's own execute() (helpers.ts). Registers stay in the register file (REGS); lazy
// flags are the interpreter's globals (flags.ts), written as alu() writes them, and a Jcc right
// after CMP/SUB/TEST/AND... compares the operands it still holds in locals (flag fusion).
//
// Retirement is the run loop's (run/loop.ts): S.insnsRetired and S.vcycles grow by each retired
// instruction's count and D_COST; the additions are batched per block and made exact before any
// call that may look at them and at every exit. A branch to another block of the region is taken
// only if the run loop would run that block whole (its count before sliceEnd, its cost before the
// timer deadline); otherwise, and on any branch out of the region, the function sets RIP and
// returns 0 and the run loop goes on. A stopped instruction (fault or exit request) returns
// 0x100 | its length with RIP/NRIP at it, as the interpreter leaves them for handleStop.
import * as D from "../decode";
import * as E from "./emit";
import { REGS, SEGS, DENTRY, TLB_ENTRIES } from "../layout";
import { B_COUNT } from "../run/blocks";
import { LF_ADD, LF_SUB, LF_LOGIC } from "../flags";
import { nBlocks, blockHdr, blockOff, blockIndex, copyEntry } from "./region";

// Locals: the three parameters (the third, the block to start with, is then the current block),
// then three i32 and six i64 locals.
const P_SLICE_END: u32 = 0, P_DEADLINE: u32 = 1;
const L_BLK: u32 = 2, L_CE: u32 = 3, L_X: u32 = 4, L_T: u32 = 5;
const L_BASE: u32 = 6, L_LA: u32 = 7, L_V: u32 = 8;
const L_FA: u32 = 9, L_FB: u32 = 10, L_FR: u32 = 11;
const N_I32: u32 = 3, N_I64: u32 = 6;

/** Status the function returns when an instruction stopped (fault or VM exit request). */
export const STOPPED: i32 = 0x100;

// Per-block compile state.
let pendN: u32 = 0;          // instructions retired in this block and not yet added to S.insnsRetired
let pendC: u64 = 0;          // their cycles
let loopDepth: i32 = 0;      // E.depth inside the region's loop
// What the lazy flags' locals hold: the last inline flag-setting operation (LF_*), 0 = unknown.
let flagsKind: i32 = 0;
let flagsSize: i32 = 0;
let touchedMemory: bool = false; // the current instruction has a slow path that may bump codeEpoch

// ---- retirement -------------------------------------------------------------------------------
function addCounts(n: u32, c: u64, sign: i32): void {
  if (n == 0 && c == 0) return;
  E.gget(E.G_INSNS); E.i64c(<i64>n); E.op(sign > 0 ? E.I64_ADD : E.I64_SUB); E.gset(E.G_INSNS);
  if (c != 0) { E.gget(E.G_VCYCLES); E.i64c(<i64>c); E.op(sign > 0 ? E.I64_ADD : E.I64_SUB); E.gset(E.G_VCYCLES); }
}
function flushPending(): void { addCounts(pendN, pendC, 1); pendN = 0; pendC = 0; }

/** Pushes the linear address base + off (page offsets may reach 4096: the byte after the page). */
function linear(off: i64): void { E.lget(L_BASE); if (off != 0) { E.i64c(off); E.op(E.I64_ADD); } }
function setRip(off: i64): void { linear(off); E.gset(E.G_RIP); }

/** Leaves the region after the instruction ending at `next`: RIP there, status 0. */
function exitAt(next: i64): void { setRip(next); E.i32c(0); E.op(E.RETURN); }

/** Goes on at page offset `t`: inside the region when the run loop would run that block whole. */
function goTo(t: i64): void {
  const k = t >= 0 && t < 4096 ? blockIndex(<u32>t) : -1;
  if (k >= 0) {
    const h = blockHdr(k);
    const n = load<u32>(h, B_COUNT);
    let cost: u64 = 0;
    for (let i: u32 = 0; i < n; i++) cost += <u64>load<u32>(h + DENTRY + <usize>i * DENTRY, D.D_COST);
    // insns + n <= sliceEnd && vcycles < deadline && vcycles + cost <= deadline (run/loop.ts).
    E.gget(E.G_INSNS); E.i64c(<i64>n); E.op(E.I64_ADD); E.lget(P_SLICE_END); E.op(E.I64_LE_U);
    E.gget(E.G_VCYCLES); E.lget(P_DEADLINE); E.op(E.I64_LT_U); E.op(E.I32_AND);
    E.gget(E.G_VCYCLES); E.i64c(<i64>cost); E.op(E.I64_ADD); E.lget(P_DEADLINE); E.op(E.I64_LE_U); E.op(E.I32_AND);
    E.iff(); E.i32c(k); E.lset(L_BLK); E.br(loopDepth); E.end();
  }
  exitAt(t);
}

// ---- operands -----------------------------------------------------------------------------------
function regRead(off: u32, size: i32): void { E.i32c(0); E.loadI64(size, REGS + <usize>off); }
/** writeReg (operand.ts) of local `l`: 32-bit writes zero-extend, 8/16-bit writes merge. */
function regWrite(off: u32, size: i32, l: u32): void {
  E.i32c(0); E.lget(l);
  if (size == 4) { E.i64c(0xffffffff); E.op(E.I64_AND); }
  E.storeI64(size == 4 ? 8 : size, REGS + <usize>off);
}
function maskOf(size: i32): i64 { return size == 8 ? -1 : (<i64>1 << (<i64>size * 8)) - 1; }

/** ea() of operand.ts (or leaAddr of exec.ts without the segment): the address on the stack. */
function effAddr(e: usize, next: i64, withSeg: bool): void {
  const b = load<u8>(e, D.D_BASE);
  if (b == D.B_ABS) E.i64c(load<i64>(e, D.D_IMM2));
  else {
    E.i64c(<i64>load<i32>(e, D.D_DISP));
    if (b < 16) { E.i32c(0); E.loadI64(8, REGS + (<usize>b << 3)); E.op(E.I64_ADD); }
    else if (b == D.B_RIP) { linear(next); E.op(E.I64_ADD); }
  }
  const x = load<u8>(e, D.D_INDEX);
  if (x < 16) {
    E.i32c(0); E.loadI64(8, REGS + (<usize>x << 3));
    const sc = load<u8>(e, D.D_SCALE);
    if (sc != 0) { E.i64c(<i64>sc); E.op(E.I64_SHL); }
    E.op(E.I64_ADD);
  }
  if (load<u8>(e, D.D_ASZ) == 4) { E.i64c(0xffffffff); E.op(E.I64_AND); }
  const s = load<u8>(e, D.D_SEG);
  if (withSeg && s != 0) { E.i32c(0); E.loadI64(8, SEGS + (<usize>s << 5)); E.op(E.I64_ADD); }
}
@inline function ssOf(e: usize): i32 { return load<u8>(e, D.D_SEG) == 0 && load<u8>(e, D.D_SSDEF) != 0 ? 1 : 0; }

/** The TLB hit test of mmu.ts readMem/writeMem for L_LA in set `g` (G_TLBR or G_TLBW); leaves i32. */
function tlbHit(g: u32, size: i32): void {
  E.gget(g);
  E.lget(L_LA); E.i64c(12); E.op(E.I64_SHR_U); E.op(E.I32_WRAP_I64);
  E.i32c(<i32>TLB_ENTRIES - 1); E.op(E.I32_AND); E.i32c(4); E.op(E.I32_SHL); E.op(E.I32_ADD); E.ltee(L_X);
  E.loadI64(8, 0);
  E.lget(L_LA); E.i64c(12); E.op(E.I64_SHR_U); E.gget(E.G_TLBBIAS); E.op(E.I64_ADD); E.op(E.I64_EQ);
  E.lget(L_LA); E.i64c(0xfff); E.op(E.I64_AND); E.i64c(<i64>(0x1000 - size)); E.op(E.I64_LE_U); E.op(E.I32_AND);
}
/** The host address of L_LA in the entry at L_X (after a hit). */
function hostAddr(): void {
  E.lget(L_X); E.loadI64(8, 8); E.op(E.I32_WRAP_I64);
  E.lget(L_LA); E.op(E.I32_WRAP_I64); E.i32c(0xfff); E.op(E.I32_AND); E.op(E.I32_ADD);
}
/** The slow path's packed arguments (helpers.ts jitRead/jitWrite): access size, kind and SS flag,
 *  the instruction's length, and the block's retired-but-uncounted instructions. */
function packed(size: i32, kind: i32, ss: i32, len: u32): i32 {
  return size | (kind << 4) | (ss << 6) | (<i32>len << 8) | (<i32>pendN << 16);
}
/** After a slow-path call: on a stop, leave with the instruction's length. */
function slowAfter(len: u32): void {
  E.gget(E.G_STOP); E.iff(); E.i32c(STOPPED | <i32>len); E.op(E.RETURN); E.end();
  touchedMemory = true;
}

/** readMem / readMemW (kind 0 / 1) of L_LA: the value (zero-extended) on the stack. */
function memRead(size: i32, kind: i32, ss: i32, off: i64, next: i64, len: u32): void {
  tlbHit(kind == 0 ? E.G_TLBR : E.G_TLBW, size);
  E.ifI64();
  hostAddr(); E.loadI64(size, 0);
  E.els();
  E.lget(L_LA); linear(off); E.i32c(packed(size, kind, ss, len)); E.i64c(<i64>pendC); E.call(E.F_READ);
  slowAfter(len);
  E.end();
}
/** writeMem of local L_V to L_LA. */
function memWrite(size: i32, ss: i32, off: i64, next: i64, len: u32): void {
  tlbHit(E.G_TLBW, size);
  E.iff();
  hostAddr(); E.lget(L_V); E.storeI64(size, 0);
  E.els();
  E.lget(L_LA); E.lget(L_V); linear(off); E.i32c(packed(size, 1, ss, len)); E.i64c(<i64>pendC); E.call(E.F_WRITE);
  slowAfter(len);
  E.end();
}

/** readE into local `l`. */
function readE(e: usize, size: i32, l: u32, kind: i32, off: i64, next: i64, len: u32): void {
  const rm = load<u16>(e, D.D_RM);
  if (rm != D.RM_MEM) { regRead(<u32>rm, size); E.lset(l); return; }
  effAddr(e, next, true); E.lset(L_LA);
  memRead(size, kind, ssOf(e), off, next, len); E.lset(l);
}
/** writeE of local L_V (for memory, L_LA already holds the address when `haveLa`). */
function writeE(e: usize, size: i32, haveLa: bool, off: i64, next: i64, len: u32): void {
  const rm = load<u16>(e, D.D_RM);
  if (rm != D.RM_MEM) { regWrite(<u32>rm, size, L_V); return; }
  if (!haveLa) { effAddr(e, next, true); E.lset(L_LA); }
  memWrite(size, ssOf(e), off, next, len);
}

// ---- flags ----------------------------------------------------------------------------------------
/** setLazy of flags.ts from L_FA, L_FB, L_FR; remembers what the locals hold. */
function setLazy(kind: i32, size: i32): void {
  E.i32c(kind); E.gset(E.G_LFOP);
  E.lget(L_FA); E.gset(E.G_LFA); E.lget(L_FB); E.gset(E.G_LFB); E.lget(L_FR); E.gset(E.G_LFRES);
  E.i64c(maskOf(size)); E.gset(E.G_LFMASK);
  flagsKind = kind; flagsSize = size;
}
/** Sign-extends the masked value on the stack from `size` bytes. */
function sext(size: i32): void {
  if (size == 1) E.op(E.I64_EXTEND8_S);
  else if (size == 2) E.op(E.I64_EXTEND16_S);
  else if (size == 4) E.op(E.I64_EXTEND32_S);
}
/** Condition `cc` (SDM Vol. 1 App. B) as an i32: from the flag locals when the operation is known
 *  (testCCFast of flags.ts, widened to the logic and add cases), else by the interpreter's testCC. */
function cond(cc: u32): void {
  const neg = (cc & 1) != 0;
  const base = cc & ~1;
  let done = false;
  if (flagsKind == LF_SUB) {
    done = true;
    switch (base) {
      case 2: E.lget(L_FA); E.lget(L_FB); E.op(E.I64_LT_U); break;           // CF
      case 4: E.lget(L_FA); E.lget(L_FB); E.op(E.I64_EQ); break;             // ZF
      case 6: E.lget(L_FA); E.lget(L_FB); E.op(E.I64_LE_U); break;           // CF | ZF
      case 8: E.lget(L_FR); sext(flagsSize); E.i64c(0); E.op(E.I64_LT_S); break; // SF
      case 12: E.lget(L_FA); sext(flagsSize); E.lget(L_FB); sext(flagsSize); E.op(E.I64_LT_S); break; // SF != OF
      case 14: E.lget(L_FA); sext(flagsSize); E.lget(L_FB); sext(flagsSize); E.op(E.I64_LE_S); break;
      default: done = false;
    }
  } else if (flagsKind == LF_LOGIC) {
    done = true; // CF = OF = 0
    switch (base) {
      case 0: case 2: E.i32c(0); break;
      case 4: case 6: E.lget(L_FR); E.op(E.I64_EQZ); break;
      case 8: case 12: E.lget(L_FR); sext(flagsSize); E.i64c(0); E.op(E.I64_LT_S); break;
      case 14: E.lget(L_FR); sext(flagsSize); E.i64c(0); E.op(E.I64_LE_S); break;
      default: done = false;
    }
  } else if (flagsKind == LF_ADD) {
    done = true;
    switch (base) {
      case 2: E.lget(L_FR); E.lget(L_FA); E.op(E.I64_LT_U); break;
      case 4: E.lget(L_FR); E.op(E.I64_EQZ); break;
      case 8: E.lget(L_FR); sext(flagsSize); E.i64c(0); E.op(E.I64_LT_S); break;
      default: done = false;
    }
  }
  if (done) { if (neg) E.op(E.I32_EQZ); return; }
  E.i32c(<i32>cc); E.call(E.F_TESTCC);
}

// ---- the operations -------------------------------------------------------------------------------
/** The ALU operations done inline: ADD OR AND SUB XOR CMP (ADC/SBB read CF: the interpreter's). */
@inline function aluInline(kind: u32): bool { return kind == 0 || kind == 1 || kind == 4 || kind == 5 || kind == 6 || kind == 7; }

/** alu() of alu.ts on L_FA, L_FB (masked): result in L_FR, flags set. */
function alu(kind: u32, size: i32): void {
  E.lget(L_FA); E.lget(L_FB);
  E.op(kind == 0 ? E.I64_ADD : kind == 1 ? E.I64_OR : kind == 4 ? E.I64_AND : kind == 6 ? E.I64_XOR : E.I64_SUB);
  if (size != 8 && (kind == 0 || kind == 5 || kind == 7)) { E.i64c(maskOf(size)); E.op(E.I64_AND); }
  E.lset(L_FR);
  setLazy(kind == 0 ? LF_ADD : kind == 5 || kind == 7 ? LF_SUB : LF_LOGIC, size);
}

/** Emits instruction `e` at page offset `off` inline; false when the interpreter must run it. */
function inline(e: usize, op: i32, off: i64, next: i64, len: u32, last: bool): bool {
  const size = <i32>load<u8>(e, D.D_OSZ);
  switch (op) {
    case D.OP_NOP: return true;
    case D.OP_MOV_EG:
      regRead(<u32>load<u16>(e, D.D_REG), size); E.lset(L_V);
      writeE(e, size, false, off, next, len); return true;
    case D.OP_MOV_GE:
      readE(e, size, L_V, 0, off, next, len);
      regWrite(<u32>load<u16>(e, D.D_REG), size, L_V); return true;
    case D.OP_MOV_EI:
      E.i64c(load<i64>(e, D.D_IMM)); E.lset(L_V);
      writeE(e, size, false, off, next, len); return true;
    case D.OP_LEA:
      effAddr(e, next, false); E.lset(L_V);
      regWrite(<u32>load<u16>(e, D.D_REG), size, L_V); return true;
    case D.OP_MOVZX: case D.OP_MOVSX: {
      const ss = <i32>load<u8>(e, D.D_SUB);
      readE(e, ss, L_V, 0, off, next, len);
      if (op == D.OP_MOVSX) { E.lget(L_V); sext(ss); E.lset(L_V); }
      regWrite(<u32>load<u16>(e, D.D_REG), size, L_V); return true;
    }
    case D.OP_ALU_EG: case D.OP_ALU_EI: {
      const kind = <u32>load<u8>(e, D.D_SUB);
      if (!aluInline(kind)) return false;
      if (op == D.OP_ALU_EG) regRead(<u32>load<u16>(e, D.D_REG), size);
      else E.i64c(load<i64>(e, D.D_IMM) & maskOf(size));
      E.lset(L_FB);
      const rm = load<u16>(e, D.D_RM);
      if (rm != D.RM_MEM) {
        regRead(<u32>rm, size); E.lset(L_FA);
        alu(kind, size);
        if (kind != 7) regWrite(<u32>rm, size, L_FR);
      } else {
        effAddr(e, next, true); E.lset(L_LA);
        memRead(size, kind == 7 ? 0 : 1, ssOf(e), off, next, len); E.lset(L_FA);
        alu(kind, size);
        if (kind != 7) { E.lget(L_FR); E.lset(L_V); memWrite(size, ssOf(e), off, next, len); }
      }
      return true;
    }
    case D.OP_ALU_GE: {
      const kind = <u32>load<u8>(e, D.D_SUB);
      if (!aluInline(kind)) return false;
      readE(e, size, L_FB, 0, off, next, len);
      regRead(<u32>load<u16>(e, D.D_REG), size); E.lset(L_FA);
      alu(kind, size);
      if (kind != 7) regWrite(<u32>load<u16>(e, D.D_REG), size, L_FR);
      return true;
    }
    case D.OP_TEST_EG: case D.OP_TEST_EI:
      readE(e, size, L_FA, 0, off, next, len);
      if (op == D.OP_TEST_EG) regRead(<u32>load<u16>(e, D.D_REG), size);
      else E.i64c(load<i64>(e, D.D_IMM) & maskOf(size));
      E.lset(L_FB);
      alu(4, size);
      return true;
    case D.OP_PUSH_R: case D.OP_PUSH_I: {
      // push() of exec.ts: write at RSP - size (an SS access), then commit RSP.
      if (op == D.OP_PUSH_R) regRead(<u32>load<u16>(e, D.D_RM), size); else E.i64c(load<i64>(e, D.D_IMM));
      E.lset(L_V);
      regRead(32, 8); E.i64c(<i64>size); E.op(E.I64_SUB); E.lset(L_LA);
      memWrite(size, 1, off, next, len);
      E.i32c(0); E.lget(L_LA); E.storeI64(8, REGS + 32);
      return true;
    }
    case D.OP_POP_R:
      regRead(32, 8); E.lset(L_LA);
      memRead(size, 0, 1, off, next, len); E.lset(L_V);
      E.i32c(0); E.lget(L_LA); E.i64c(<i64>size); E.op(E.I64_ADD); E.storeI64(8, REGS + 32);
      regWrite(<u32>load<u16>(e, D.D_RM), size, L_V);
      return true;
    case D.OP_JCC: {
      if (!last) return false;
      const cc = <u32>load<u8>(e, D.D_SUB);
      const t = next + load<i64>(e, D.D_IMM);
      pendN++; pendC += <u64>load<u32>(e, D.D_COST);
      cond(cc); // before the counts: testCC reads only the flags
      E.lset(L_T);
      flushPending();
      E.lget(L_T); E.iff(); goTo(t); E.end();
      goTo(next);
      return true;
    }
    case D.OP_JMP:
      if (!last) return false;
      pendN++; pendC += <u64>load<u32>(e, D.D_COST);
      flushPending();
      goTo(next + load<i64>(e, D.D_IMM));
      return true;
    case D.OP_CALL: {
      if (!last || size != 8) return false;
      // push(nrip, 8), then the jump (exec.ts OP_CALL).
      linear(next); E.lset(L_V);
      regRead(32, 8); E.i64c(8); E.op(E.I64_SUB); E.lset(L_LA);
      memWrite(8, 1, off, next, len);
      E.i32c(0); E.lget(L_LA); E.storeI64(8, REGS + 32);
      pendN++; pendC += <u64>load<u32>(e, D.D_COST);
      epochCheck(next + load<i64>(e, D.D_IMM)); // the interpreter leaves the block at the target
      flushPending();
      goTo(next + load<i64>(e, D.D_IMM));
      return true;
    }
  }
  return false;
}

/** After an instruction whose slow path ran: a write to code or a TLB flush ends the block
 *  (run/loop.ts breaks out when codeEpoch moves), RIP at `next`; its retirement is already in pendN/pendC. */
function epochCheck(next: i64): void {
  if (!touchedMemory) return;
  E.gget(E.G_EPOCH); E.lget(L_CE); E.op(E.I32_NE);
  E.iff(); addCounts(pendN, pendC, 1); exitAt(next); E.end();
  touchedMemory = false;
}

/** The interpreter runs the instruction (helpers.ts jitStep); it retires it itself. */
function fallback(e: usize, off: i64, last: bool): bool {
  const copy = copyEntry(e);
  if (copy == 0) return false;
  flushPending();
  E.i32c(<i32>copy); linear(off); E.call(E.F_STEP);
  if (last) { E.op(E.RETURN); return true; }
  E.ltee(L_T); E.i32c(-1); E.op(E.I32_NE); E.iff(); E.lget(L_T); E.op(E.RETURN); E.end();
  flagsKind = 0;
  return true;
}

/** One block: its instructions, then the branch it ends with or its fall-through. */
function block(k: i32): bool {
  const h = blockHdr(k);
  const n = load<u32>(h, B_COUNT);
  let off = <i64>blockOff(k);
  pendN = 0; pendC = 0; flagsKind = 0; touchedMemory = false;
  let e = h + DENTRY;
  for (let i: u32 = 0; i < n; i++) {
    if (E.full()) return false;
    const op = <i32>load<u16>(e, D.D_OP);
    const len = <u32>load<u8>(e, D.D_LEN);
    const next = off + <i64>len;
    const last = i == n - 1;
    const isBranch = op == D.OP_JCC || op == D.OP_JMP || op == D.OP_CALL;
    if (inline(e, op, off, next, len, last)) {
      if (isBranch) { E.op(E.UNREACHABLE); return true; }
      pendN++; pendC += <u64>load<u32>(e, D.D_COST);
      epochCheck(next);
    } else {
      if (!fallback(e, off, last && load<u8>(e, D.D_ENDS) != 0)) return false;
      if (last && load<u8>(e, D.D_ENDS) != 0) return true;
    }
    off = next;
    e += DENTRY;
  }
  // A block cut at BLOCK_INSNS (or before a breakpoint): it falls through.
  flushPending();
  goTo(off);
  E.op(E.UNREACHABLE);
  return true;
}

/** Generates the region's function body at JIT_BODY; the end of the body, or 0 on failure. */
export function genRegion(): usize {
  E.begin();
  // Locals: N_I32 i32s, then N_I64 i64s.
  E.uleb(2); E.uleb(N_I32); E.byte(E.T_I32); E.uleb(N_I64); E.byte(E.T_I64);
  E.gget(E.G_RIP); E.i64c(~0xfff); E.op(E.I64_AND); E.lset(L_BASE);
  E.gget(E.G_EPOCH); E.lset(L_CE);
  const n = nBlocks;
  // The current block's page offset is base + offset: RIP's page is the entry block's.
  E.loop(); loopDepth = E.depth;
  for (let k = 0; k < n; k++) E.blk();
  // br_table over the blocks: label k leaves block k's wrapper, where block k's code begins.
  E.lget(L_BLK); E.byte(0x0e); E.uleb(<u64>n);
  for (let k = 0; k < n; k++) E.uleb(<u64>k);
  E.uleb(0);
  for (let k = 0; k < n; k++) {
    E.end();
    if (!block(k)) return 0;
  }
  E.end();
  E.op(E.UNREACHABLE);
  E.byte(0x0b); // the function's end
  return E.pos;
}
