// The SSE/SSE2 arithmetic and logic instructions (SDM Vol. 2 ADDPS/PD/SS/SD, SUB*, MUL*, DIV*, MIN*,
// MAX*, SQRT*, RCPPS/SS, RSQRTPS/SS; ANDPS/PD, ANDNPS/PD, ORPS/PD, XORPS/PD): packed forms need a
// 16-byte aligned m128; scalar forms read 32/64 bits and leave the rest of the destination. The
// per-element arithmetic is elem.ts; MXCSR's rules mxcsr.ts.
import { stop } from "../../fault";
import { D_IMM2 } from "../../decode/entry";
import { MP_66, MP_F3, MP_F2 } from "../../decode/prefix";
import { xmmG, srcE, SSE_TMP } from "../operand";
import { fpBegin, fpElement, fpCommit, mxcsr, setMxcsr } from "./mxcsr";
import { f32Op, f64Op, fastF64, fastF32, fastOk, fastInexact, K_ADD, K_SUB, K_MUL, K_DIV, K_MIN, K_MAX, K_SQRT } from "./elem";
import { rcp32, rsqrt32 } from "./rcp";

const RES: usize = SSE_TMP + 32;

function kindOf(opc: u32): i32 {
  switch (opc) {
    case 0x58: return K_ADD;
    case 0x59: return K_MUL;
    case 0x5c: return K_SUB;
    case 0x5d: return K_MIN;
    case 0x5e: return K_DIV;
    case 0x5f: return K_MAX;
  }
  return K_SQRT;
}

/** Executes one OP_SSE_FARITH instruction (availability checked by the caller). */
export function execFArith(e: usize): void {
  const code = <u32>load<u64>(e, D_IMM2);
  const opc = code & 0xff, mp = code >> 8;
  const scalar = mp >= MP_F3;
  const is64 = mp == MP_66 || mp == MP_F2;
  const s = srcE(e, scalar ? (is64 ? 8 : 4) : 16, !scalar);
  if (stop) return;
  const d = xmmG(e);
  if (opc == 0x52 || opc == 0x53) { // RSQRT, RCP: no exceptions, no MXCSR
    if (scalar) { store<u32>(d, opc == 0x53 ? rcp32(load<u32>(s)) : rsqrt32(load<u32>(s))); return; }
    for (let i: usize = 0; i < 16; i += 4) store<u32>(RES + i, opc == 0x53 ? rcp32(load<u32>(s + i)) : rsqrt32(load<u32>(s + i)));
    memory.copy(d, RES, 16);
    return;
  }
  const k = kindOf(opc);
  // ADDSD/SUBSD/MULSD/DIVSD (and the SS forms) in round-to-nearest with normal operands and result (elem.ts fastF64):
  // no softfloat state, only PE to merge (or, unmasked, the general path raises #XM).
  if (scalar && k <= K_DIV) {
    const m = mxcsr();
    if ((m & 0x6000) == 0) {
      const r = is64 ? fastF64(k, load<u64>(d), load<u64>(s)) : fastF32(k, <u64>load<u32>(d), <u64>load<u32>(s));
      if (fastOk && (!fastInexact || (m & 0x1000) != 0)) {
        if (fastInexact && (m & 0x20) == 0) setMxcsr(m | 0x20);
        if (is64) store<u64>(d, r); else store<u32>(d, <u32>r);
        return;
      }
    }
  }
  fpBegin();
  if (scalar) {
    if (is64) {
      const r = f64Op(k, load<u64>(d), load<u64>(s));
      if (fpCommit()) store<u64>(d, r);
    } else {
      const r = f32Op(k, <u64>load<u32>(d), <u64>load<u32>(s));
      if (fpCommit()) store<u32>(d, <u32>r);
    }
    return;
  }
  if (is64) {
    store<u64>(RES, f64Op(k, load<u64>(d), load<u64>(s))); fpElement();
    store<u64>(RES, f64Op(k, load<u64>(d, 8), load<u64>(s, 8)), 8);
  } else {
    for (let i: usize = 0; i < 16; i += 4) {
      if (i != 0) fpElement();
      store<u32>(RES + i, <u32>f32Op(k, <u64>load<u32>(d + i), <u64>load<u32>(s + i)));
    }
  }
  if (fpCommit()) memory.copy(d, RES, 16);
}

/** Executes one OP_SSE_FLOGIC instruction: AND, ANDN (NOT dest AND src), OR, XOR of 128 bits. */
export function execFLogic(e: usize): void {
  const opc = <u32>load<u64>(e, D_IMM2) & 0xff;
  const s = srcE(e, 16, true);
  if (stop) return;
  const d = xmmG(e);
  for (let i: usize = 0; i < 16; i += 8) {
    const a = load<u64>(d + i), b = load<u64>(s + i);
    store<u64>(d + i, opc == 0x54 ? a & b : opc == 0x55 ? ~a & b : opc == 0x56 ? a | b : a ^ b);
  }
}
