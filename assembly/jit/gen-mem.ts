// The JIT's operands (jit/gen.ts): registers in the region's locals (state.ts L_GPR, read and
// written as operand.ts readReg / writeReg does the register file) or, those the region's inline
// code never names, in the register file, effective addresses as operand.ts ea() and exec.ts leaAddr() compute them (SDM Vol. 1
// 3.7.5), and memory through mmu.ts's TLB fast path inline, its slow path (page walk, page-crossing
// accesses, faults) a call of helpers.ts jitRead/jitWrite. A slow path that stops (a fault or an
// exit request) leaves the region with the instruction's length (gen.ts exitStopped).
import * as D from "../decode";
import * as E from "./emit";
import { REGS, SEGS, TLB_ENTRIES } from "../layout";
import { L_LA, L_V, L_X, L_BASE, L_GPR, inLocal } from "./state";
import { exitStopped, noteMemory } from "./gen";

/** readReg (operand.ts) of the register at byte offset `off` in REGS (AH..BH: offset 8n + 1). */
export function regRead(off: u32, size: i32): void {
  if (!inLocal(off >> 3)) { E.i32c(0); E.loadI64(size, REGS + <usize>off); return; }
  E.lget(L_GPR + (off >> 3));
  if ((off & 7) != 0) { E.i64c(8); E.op(E.I64_SHR_U); }
  if (size != 8) { E.i64c(maskOf(size)); E.op(E.I64_AND); }
}
/** writeReg (operand.ts) of local `l`: 32-bit writes zero-extend, 8/16-bit writes merge. */
export function regWrite(off: u32, size: i32, l: u32): void {
  if (!inLocal(off >> 3)) {
    E.i32c(0); E.lget(l);
    if (size == 4) { E.i64c(0xffffffff); E.op(E.I64_AND); }
    E.storeI64(size == 4 ? 8 : size, REGS + <usize>off);
    return;
  }
  const r = L_GPR + (off >> 3);
  if (size == 8) { E.lget(l); E.lset(r); return; }
  if (size == 4) { E.lget(l); E.i64c(0xffffffff); E.op(E.I64_AND); E.lset(r); return; }
  const sh = <i64>((off & 7) << 3);
  const m = maskOf(size) << sh;
  E.lget(r); E.i64c(~m); E.op(E.I64_AND);
  E.lget(l); if (sh != 0) { E.i64c(sh); E.op(E.I64_SHL); } E.i64c(m); E.op(E.I64_AND);
  E.op(E.I64_OR); E.lset(r);
}
export function maskOf(size: i32): i64 { return size == 8 ? -1 : (<i64>1 << (<i64>size * 8)) - 1; }

/** Pushes the linear address base + off (page offsets may reach 4096: the byte after the page). */
export function linear(off: i64): void { E.lget(L_BASE); if (off != 0) { E.i64c(off); E.op(E.I64_ADD); } }

/** ea() of operand.ts (or leaAddr of exec.ts, without the segment): the address on the stack. */
export function effAddr(e: usize, next: i64, withSeg: bool): void {
  const b = load<u8>(e, D.D_BASE);
  if (b == D.B_ABS) E.i64c(load<i64>(e, D.D_IMM2));
  else {
    E.i64c(<i64>load<i32>(e, D.D_DISP));
    if (b < 16) { regRead(<u32>b << 3, 8); E.op(E.I64_ADD); }
    else if (b == D.B_RIP) { linear(next); E.op(E.I64_ADD); }
  }
  const x = load<u8>(e, D.D_INDEX);
  if (x < 16) {
    regRead(<u32>x << 3, 8);
    const sc = load<u8>(e, D.D_SCALE);
    if (sc != 0) { E.i64c(<i64>sc); E.op(E.I64_SHL); }
    E.op(E.I64_ADD);
  }
  if (load<u8>(e, D.D_ASZ) == 4) { E.i64c(0xffffffff); E.op(E.I64_AND); }
  const s = load<u8>(e, D.D_SEG);
  if (withSeg && s != 0) { E.i32c(0); E.loadI64(8, SEGS + (<usize>s << 5)); E.op(E.I64_ADD); }
}
/** ea()'s SS-access flag: no segment override and an RSP/RBP base. */
export function ssOf(e: usize): i32 { return load<u8>(e, D.D_SEG) == 0 && load<u8>(e, D.D_SSDEF) != 0 ? 1 : 0; }

/** Whether the TLB set `g` (G_TLBR, G_TLBW, G_TLBX) holds L_LA's page; leaves i32, the entry in L_X. */
export function tlbHolds(g: u32): void {
  E.gget(g);
  E.lget(L_LA); E.i64c(12); E.op(E.I64_SHR_U); E.op(E.I32_WRAP_I64);
  E.i32c(<i32>TLB_ENTRIES - 1); E.op(E.I32_AND); E.i32c(4); E.op(E.I32_SHL); E.op(E.I32_ADD); E.ltee(L_X);
  E.loadI64(8, 0);
  E.lget(L_LA); E.i64c(12); E.op(E.I64_SHR_U); E.gget(E.G_TLBBIAS); E.op(E.I64_ADD); E.op(E.I64_EQ);
}
/** The TLB hit test of mmu.ts readMem/writeMem for L_LA in set `g` (G_TLBR or G_TLBW); leaves i32. */
function tlbHit(g: u32, size: i32): void {
  tlbHolds(g);
  E.lget(L_LA); E.i64c(0xfff); E.op(E.I64_AND); E.i64c(<i64>(0x1000 - size)); E.op(E.I64_LE_U); E.op(E.I32_AND);
}
/** The host address of L_LA in the entry at L_X (after a hit). */
function hostAddr(): void {
  E.lget(L_X); E.loadI64(8, 8); E.op(E.I32_WRAP_I64);
  E.lget(L_LA); E.op(E.I32_WRAP_I64); E.i32c(0xfff); E.op(E.I32_AND); E.op(E.I32_ADD);
}
/** The slow path's packed arguments (helpers.ts): access size, kind, SS flag, instruction length. */
function packed(size: i32, kind: i32, ss: i32, len: u32): i32 { return size | (kind << 4) | (ss << 6) | (<i32>len << 8); }
function stopCheck(len: u32): void {
  E.gget(E.G_STOP); E.iff(); exitStopped(len); E.end();
  noteMemory();
}

/** readMem / readMemW (kind 0 / 1) of L_LA by the instruction at `off`: the value (zero-extended) on the stack. */
export function memRead(size: i32, kind: i32, ss: i32, off: i64, len: u32): void {
  tlbHit(kind == 0 ? E.G_TLBR : E.G_TLBW, size);
  E.ifI64();
  hostAddr(); E.loadI64(size, 0);
  E.els();
  E.lget(L_LA); linear(off); E.i32c(packed(size, kind, ss, len)); E.call(E.F_READ);
  stopCheck(len);
  E.end();
}
/** The TLB fast path alone for a `size`-byte access at L_LA within one page (G_TLBR or G_TLBW
 *  `g`): the host address (i32) on the stack, or a branch to the construct opened at E.depth `miss`
 *  (nothing read, nothing changed). */
export function hostHit(g: u32, size: i32, miss: i32): void {
  tlbHit(g, size); E.op(E.I32_EQZ); E.brIf(miss);
  hostAddr();
}
/** writeMem of local L_V to L_LA. */
export function memWrite(size: i32, ss: i32, off: i64, len: u32): void {
  tlbHit(E.G_TLBW, size);
  E.iff();
  hostAddr(); E.lget(L_V); E.storeI64(size, 0);
  E.els();
  E.lget(L_LA); E.lget(L_V); linear(off); E.i32c(packed(size, 1, ss, len)); E.call(E.F_WRITE);
  stopCheck(len);
  E.end();
}

/** readE into local `l` (kind 1: with write intent, the address left in L_LA). */
export function readE(e: usize, size: i32, l: u32, kind: i32, off: i64, next: i64, len: u32): void {
  const rm = load<u16>(e, D.D_RM);
  if (rm != D.RM_MEM) { regRead(<u32>rm, size); E.lset(l); return; }
  effAddr(e, next, true); E.lset(L_LA);
  memRead(size, kind, ssOf(e), off, len); E.lset(l);
}
/** writeE of local L_V (for memory, L_LA already holds the address when `haveLa`). */
export function writeE(e: usize, size: i32, haveLa: bool, off: i64, next: i64, len: u32): void {
  const rm = load<u16>(e, D.D_RM);
  if (rm != D.RM_MEM) { regWrite(<u32>rm, size, L_V); return; }
  if (!haveLa) { effAddr(e, next, true); E.lset(L_LA); }
  memWrite(size, ssOf(e), off, len);
}
