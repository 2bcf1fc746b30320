// The SSE2 instructions the JIT does inline (jit/gen.ts); the rest of SSE floating point goes
// through the light call (gen.ts sseCall). MOVSD in its three forms, MOVAPS/MOVAPD/MOVUPS/MOVUPD
// (a memory operand within one page the TLB maps, aligned for MOVAPS/MOVAPD -- else #GP(0), which
// the light call raises), UNPCKLPD/UNPCKHPD between registers, and ADDSD/SUBSD/MULSD/DIVSD in the interpreter's fast case (sse/float/arith.ts,
// elem.ts fastF64: round to nearest, normal operands and a normal result, the same test for an
// exact result, the inexact case only with PE masked), as Wasm f64 arithmetic; SQRTSD of a positive
// normal once PE is set and masked (then no flag can change: its result is normal, and PE is sticky). Any other case --
// SSE unusable (CR0.EM/TS, CR4.OSFXSR: sse/avail.ts), another rounding mode, a special operand or
// result, a memory source the inline TLB does not hold -- runs the whole instruction through the
// light call, which starts it afresh: the fast path writes nothing before it commits and reads only
// RAM the TLB maps, so nothing is done twice that could be seen.
import * as D from "../decode";
import * as E from "./emit";
import { FXSTATE, FX_MXCSR } from "../layout";
import { CR0_EM, CR0_TS, CR4_OSFXSR } from "../state";
import { MP_66, MP_F3, MP_F2 } from "../decode/prefix";
import { L_A, L_B, L_R, L_V, L_X, L_LA, L_DX, L_DY, L_DR, L_DB } from "./state";
import { effAddr, ssOf, memRead, memWrite, hostHit } from "./gen-mem";
import { xmmAddr as xmm } from "../sse/operand";
import { copyEntry } from "./region";
import { sseCall } from "./gen";

const MXCSR: usize = FXSTATE + FX_MXCSR;

const A_ADD = 0, A_SUB = 1, A_MUL = 2, A_DIV = 3, A_SQRT = 4;

/** Whether the instruction at `e` is done inline here; emits it (its slow path the light call). */
export function sseInline(e: usize, op: i32, off: i64, next: i64, len: u32): bool {
  if (op != D.OP_SSE_MOVF && op != D.OP_SSE_FARITH && op != D.OP_SSE_SHUFF) return false;
  const code = <u32>load<u64>(e, D.D_IMM2);
  const opc = code & 0xff, mp = code >> 8;
  const mem = load<u16>(e, D.D_RM) == D.RM_MEM;
  let arith = -1;
  if (op == D.OP_SSE_FARITH) {
    if (mp != MP_F2) return false;
    arith = opc == 0x58 ? A_ADD : opc == 0x5c ? A_SUB : opc == 0x59 ? A_MUL : opc == 0x5e ? A_DIV : opc == 0x51 ? A_SQRT : -1;
    if (arith < 0) return false;
  } else if (op == D.OP_SSE_SHUFF) {
    if (mp != MP_66 || mem || (opc != 0x14 && opc != 0x15)) return false;
  } else if (mp == MP_F2) {
    if (opc != 0x10 && opc != 0x11) return false;
  } else if (mp == MP_F3 || (opc != 0x10 && opc != 0x11 && opc != 0x28 && opc != 0x29)) return false;
  const copy = copyEntry(e);
  if (copy == 0) return false;
  const g = <u32>load<u8>(e, D.D_REGNUM), r = <u32>load<u8>(e, D.D_RMNUM);
  E.blk(); const done = E.depth;
  E.blk(); const slow = E.depth;
  usable(arith >= 0); E.op(E.I32_EQZ); E.brIf(slow);
  if (arith >= 0) fastArith(e, arith, g, r, mem, next, slow);
  else if (op == D.OP_SSE_SHUFF) unpck(opc == 0x15 ? 8 : 0, xmm(g), xmm(r));
  else if (mp == MP_F2) movsd(e, opc == 0x10, g, r, mem, off, next, len);
  else if (mem) move16(e, opc == 0x10 || opc == 0x28, opc == 0x28 || opc == 0x29, g, next, slow);
  else if (opc == 0x10 || opc == 0x28) copy16(xmm(g), xmm(r));
  else copy16(xmm(r), xmm(g));
  E.br(done);
  E.end();
  sseCall(copy, e, off, len);
  E.end();
  return true;
}

/** sseUsable() of sse/avail.ts, and for arithmetic round-to-nearest (MXCSR.RC = 0), MXCSR in L_V; an i32. */
function usable(arith: bool): void {
  E.gget(E.G_CR0); E.i64c(<i64>(CR0_EM | CR0_TS)); E.op(E.I64_AND); E.op(E.I64_EQZ);
  E.gget(E.G_CR4); E.i64c(<i64>CR4_OSFXSR); E.op(E.I64_AND); E.i64c(0); E.op(E.I64_NE); E.op(E.I32_AND);
  if (!arith) return;
  E.i32c(0); E.loadI64(4, MXCSR); E.ltee(L_V); E.i64c(0x6000); E.op(E.I64_AND); E.op(E.I64_EQZ); E.op(E.I32_AND);
}

function copy16(dst: usize, src: usize): void {
  if (dst == src) return;
  E.i32c(0); E.i32c(0); E.loadI64(8, src); E.storeI64(8, dst);
  E.i32c(0); E.i32c(0); E.loadI64(8, src + 8); E.storeI64(8, dst + 8);
}

/** UNPCKLPD / UNPCKHPD (sse/float/shuffle.ts; `half` 0 / 8): [d.half, s.half]. */
function unpck(half: usize, d: usize, s: usize): void {
  E.i32c(0); E.loadI64(8, s + half); E.lset(L_B);
  E.i32c(0); E.i32c(0); E.loadI64(8, d + half); E.storeI64(8, d);
  E.i32c(0); E.lget(L_B); E.storeI64(8, d + 8);
}

/**
 * MOVUPS/MOVUPD/MOVAPS/MOVAPD with memory (sse/operand.ts readM128/writeM128): here only when the
 * 16 bytes lie in one page the TLB maps for the access, and for the aligned forms at a 16-byte
 * boundary; a store writes both halves only then, as writeM128 checks both pages first.
 */
function move16(e: usize, load: bool, aligned: bool, g: u32, next: i64, slow: i32): void {
  effAddr(e, next, true); E.lset(L_LA);
  if (aligned) { E.lget(L_LA); E.i64c(15); E.op(E.I64_AND); E.i64c(0); E.op(E.I64_NE); E.brIf(slow); }
  hostHit(load ? E.G_TLBR : E.G_TLBW, 16, slow); E.lset(L_X);
  if (load) {
    E.i32c(0); E.lget(L_X); E.loadI64(8, 0); E.storeI64(8, xmm(g));
    E.i32c(0); E.lget(L_X); E.loadI64(8, 8); E.storeI64(8, xmm(g) + 8);
  } else {
    E.lget(L_X); E.i32c(0); E.loadI64(8, xmm(g)); E.storeI64(8, 0);
    E.lget(L_X); E.i32c(0); E.loadI64(8, xmm(g) + 8); E.storeI64(8, 8);
  }
}

/** MOVSD (sse/float/mov.ts execMovF): a load zeroes the high half, register forms move the low half. */
function movsd(e: usize, load: bool, g: u32, r: u32, mem: bool, off: i64, next: i64, len: u32): void {
  if (!mem) {
    const dst = load ? xmm(g) : xmm(r), src = load ? xmm(r) : xmm(g);
    if (dst != src) { E.i32c(0); E.i32c(0); E.loadI64(8, src); E.storeI64(8, dst); }
    return;
  }
  effAddr(e, next, true); E.lset(L_LA);
  if (load) {
    memRead(8, 0, ssOf(e), off, len); E.lset(L_V);
    E.i32c(0); E.lget(L_V); E.storeI64(8, xmm(g));
    E.i32c(0); E.i64c(0); E.storeI64(8, xmm(g) + 8);
  } else {
    E.i32c(0); E.loadI64(8, xmm(g)); E.lset(L_V);
    memWrite(8, ssOf(e), off, len);
  }
}

/** Biased exponent of local `l` minus `lo`, unsigned-below `n` (elem.ts's range tests); an i32. */
function expIn(l: u32, lo: i64, n: i64): void {
  E.lget(l); E.i64c(52); E.op(E.I64_SHR_U); E.i64c(0x7ff); E.op(E.I64_AND);
  E.i64c(lo); E.op(E.I64_SUB); E.i64c(n); E.op(E.I64_LT_U);
}
/** The odd part of the significand of normal `l` (elem.ts fastF64: ma >> ctz(ma)), into `l`. */
function oddPart(l: u32): void {
  E.lget(l); E.i64c(0x000fffffffffffff); E.op(E.I64_AND); E.i64c(<i64>1 << 52); E.op(E.I64_OR); E.ltee(l);
  E.lget(l); E.op(E.I64_CTZ); E.op(E.I64_SHR_U); E.lset(l);
}

/** ADDSD/SUBSD/MULSD/DIVSD xmm(g), xmm(r)/m64 when elem.ts fastF64 applies, SQRTSD as above; else to `slow`. */
function fastArith(e: usize, k: i32, g: u32, r: u32, mem: bool, next: i64, slow: i32): void {
  if (mem) { effAddr(e, next, true); E.lset(L_LA); hostHit(E.G_TLBR, 8, slow); E.loadI64(8, 0); E.lset(L_B); }
  else { E.i32c(0); E.loadI64(8, xmm(r)); E.lset(L_B); }
  if (k == A_SQRT) {
    // A positive normal source (the sign bit fails the range test), PE and PM set (MXCSR bits 5, 12).
    E.lget(L_B); E.i64c(52); E.op(E.I64_SHR_U); E.i64c(1); E.op(E.I64_SUB); E.i64c(0x7fe); E.op(E.I64_LT_U);
    E.lget(L_V); E.i64c(0x1020); E.op(E.I64_AND); E.i64c(0x1020); E.op(E.I64_EQ); E.op(E.I32_AND);
    E.op(E.I32_EQZ); E.brIf(slow);
    E.i32c(0); E.lget(L_B); E.op(E.F64_REINTERPRET_I64); E.op(E.F64_SQRT); E.op(E.I64_REINTERPRET_F64); E.storeI64(8, xmm(g));
    return;
  }
  E.i32c(0); E.loadI64(8, xmm(g)); E.lset(L_A);
  expIn(L_A, 1, 0x7fe); expIn(L_B, 1, 0x7fe); E.op(E.I32_AND); E.op(E.I32_EQZ); E.brIf(slow);
  E.lget(L_A); E.op(E.F64_REINTERPRET_I64); E.lset(L_DX);
  E.lget(L_B); E.op(E.F64_REINTERPRET_I64); if (k == A_SUB) E.op(E.F64_NEG); E.lset(L_DY);
  E.lget(L_DX); E.lget(L_DY);
  if (k <= A_SUB) {
    // r = x + yy; bb = r - x; exact = (x - (r - bb)) + (yy - bb) == 0 (TwoSum's error term).
    E.op(E.F64_ADD); E.lset(L_DR);
    E.lget(L_DR); E.lget(L_DX); E.op(E.F64_SUB); E.lset(L_DB);
    E.lget(L_DX); E.lget(L_DR); E.lget(L_DB); E.op(E.F64_SUB); E.op(E.F64_SUB);
    E.lget(L_DY); E.lget(L_DB); E.op(E.F64_SUB); E.op(E.F64_ADD);
    E.op(E.I64_REINTERPRET_F64); E.i64c(1); E.op(E.I64_SHL); E.op(E.I64_EQZ); E.lset(L_X); // +-0
    E.lget(L_DR); E.op(E.I64_REINTERPRET_F64); E.lset(L_R);
  } else {
    E.op(k == A_MUL ? E.F64_MUL : E.F64_DIV); E.op(E.I64_REINTERPRET_F64); E.lset(L_R);
    oddPart(L_A); oddPart(L_B);
    if (k == A_MUL) {
      // The product is exact when the odd parts' bits fit 53, or 54 with a product under 2^53.
      E.i64c(128); E.lget(L_A); E.op(E.I64_CLZ); E.op(E.I64_SUB); E.lget(L_B); E.op(E.I64_CLZ); E.op(E.I64_SUB); E.lset(L_LA);
      E.lget(L_LA); E.i64c(53); E.op(E.I64_LE_U);
      E.lget(L_LA); E.i64c(54); E.op(E.I64_EQ);
      E.lget(L_A); E.lget(L_B); E.op(E.I64_MUL); E.i64c(<i64>1 << 53); E.op(E.I64_LT_U); E.op(E.I32_AND);
      E.op(E.I32_OR); E.lset(L_X);
    } else { E.lget(L_A); E.lget(L_B); E.op(E.I64_REM_U); E.op(E.I64_EQZ); E.lset(L_X); }
  }
  // A normal result, exact or with PE masked (MXCSR bit 12), commits; PE (bit 5) is sticky.
  expIn(L_R, 2, 0x7fd);
  E.lget(L_X); E.lget(L_V); E.i64c(0x1000); E.op(E.I64_AND); E.i64c(0); E.op(E.I64_NE); E.op(E.I32_OR);
  E.op(E.I32_AND); E.op(E.I32_EQZ); E.brIf(slow);
  E.i32c(0); E.lget(L_R); E.storeI64(8, xmm(g));
  E.lget(L_X); E.op(E.I32_EQZ);
  E.iff(); E.i32c(0); E.lget(L_V); E.i64c(0x20); E.op(E.I64_OR); E.storeI64(4, MXCSR); E.end();
}
