// The SSE/SSE2 conversions (SDM Vol. 2 CVTPI2PS, CVTPS2PI, CVTTPS2PI, CVTSI2SS, CVTSS2SI, CVTTSS2SI,
// CVTPI2PD, CVTPD2PI, CVTTPD2PI, CVTSI2SD, CVTSD2SI, CVTTSD2SI, CVTPS2PD, CVTPD2PS, CVTSS2SD,
// CVTSD2SS, CVTDQ2PS, CVTPS2DQ, CVTTPS2DQ, CVTDQ2PD, CVTPD2DQ, CVTTPD2DQ), decoded as
// D_IMM2 = opcode | mandatory prefix << 8 (0F 2A, 2C, 2D, 5A, 5B, E6). The results that come from
// fewer source elements zero the rest (CVTPD2PS, CVT[T]PD2DQ: upper 64 bits); scalar forms and
// CVTPI2PS keep the rest of the destination. m128 sources need 16-byte alignment.
// The CVT*PI* forms use MMX registers (ModRM fields without REX, x87/mmx.ts): a form with an MMX
// register operand puts the x87 unit in MMX state (TOP = 0, all tags valid; SDM Vol. 1 11.6.9) once its
// operands are read -- before a SIMD floating-point exception, as the host does --, and a destination MMX register reads exponent all ones.
// The #MF check for a pending unmasked x87 exception that the MMX-register forms make on hardware
// (Vol. 2 CVTPI2PS "Exceptions": #MF) is not made: no x87 exception is ever pending across these
// instructions in the environments we run (the x87 unit owns that state).
import { stop } from "../../fault";
import { D_IMM2, D_OSZ, D_REG, D_RMNUM, D_REGNUM } from "../../decode/entry";
import { MP_NONE, MP_66, MP_F3, MP_F2 } from "../../decode/prefix";
import { readE, writeReg, ea } from "../../operand";
import { readMem } from "../../mmu";
import { xmmG, srcE, rmIsMem, readM128, SSE_TMP } from "../operand";
import { mmxAddr, mmxEnter, mmxWrote } from "../../x87/mmx";
import { fpBegin, fpElement, fpCommit } from "./mxcsr";
import { sfIntToF, sfFToInt, sfF32ToF64, sfF64ToF32 } from "../../softfloat/convert";

const RES: usize = SSE_TMP + 32;

/** The 64-bit MMX-or-memory source of CVTPI2PS/PD (into SSE_TMP); false after a fault. */
function mmSource(e: usize): bool {
  if (rmIsMem(e)) { const v = readMem(ea(e), 8); if (stop) return false; store<u64>(SSE_TMP, v); return true; }
  store<u64>(SSE_TMP, load<u64>(mmxAddr(<u32>load<u8>(e, D_RMNUM))));
  return true;
}

/** Executes one OP_SSE_CVT instruction (availability checked by the caller). */
export function execCvt(e: usize): void {
  const code = <u32>load<u64>(e, D_IMM2);
  const opc = code & 0xff, mp = code >> 8;
  const d = xmmG(e);
  switch (opc) {
    case 0x2a: {
      if (mp == MP_NONE || mp == MP_66) { // CVTPI2PS / CVTPI2PD xmm, mm/m64
        if (!mmSource(e)) return;
        const mmReg = !rmIsMem(e);
        const lo = <i64><i32>load<u32>(SSE_TMP), hi = <i64><i32>load<u32>(SSE_TMP, 4);
        if (mmReg) mmxEnter();
        fpBegin();
        if (mp == MP_NONE) {
          store<u32>(RES, <u32>sfIntToF(lo, false)); fpElement();
          store<u32>(RES, <u32>sfIntToF(hi, false), 4);
          if (!fpCommit()) return;
          store<u64>(d, load<u64>(RES));
        } else {
          store<u64>(RES, sfIntToF(lo, true)); store<u64>(RES, sfIntToF(hi, true), 8); // exact
          if (!fpCommit()) return;
          memory.copy(d, RES, 16);
        }
        return;
      }
      // CVTSI2SS / CVTSI2SD xmm, r/m32 or r/m64
      const osz = <i32>load<u8>(e, D_OSZ);
      const v = readE(e, osz); if (stop) return;
      const iv: i64 = osz == 8 ? <i64>v : <i64><i32><u32>v;
      fpBegin();
      const r = sfIntToF(iv, mp == MP_F2);
      if (!fpCommit()) return;
      if (mp == MP_F2) store<u64>(d, r); else store<u32>(d, <u32>r);
      return;
    }
    case 0x2c: case 0x2d: {
      const trunc = opc == 0x2c;
      if (mp == MP_F3 || mp == MP_F2) { // CVT[T]SS2SI / CVT[T]SD2SI r32/r64, xmm/m
        const is64 = mp == MP_F2;
        const s = srcE(e, is64 ? 8 : 4, false); if (stop) return;
        const osz = <i32>load<u8>(e, D_OSZ);
        fpBegin();
        const r = sfFToInt(is64 ? load<u64>(s) : <u64>load<u32>(s), is64, osz * 8, trunc);
        if (!fpCommit()) return;
        writeReg(load<u16>(e, D_REG), osz, r);
        return;
      }
      // CVT[T]PS2PI mm, xmm/m64; CVT[T]PD2PI mm, xmm/m128
      const is64 = mp == MP_66;
      const s = srcE(e, is64 ? 16 : 8, true); if (stop) return;
      mmxEnter();
      fpBegin();
      if (is64) {
        store<u32>(RES, <u32>sfFToInt(load<u64>(s), true, 32, trunc)); fpElement();
        store<u32>(RES, <u32>sfFToInt(load<u64>(s, 8), true, 32, trunc), 4);
      } else {
        store<u32>(RES, <u32>sfFToInt(<u64>load<u32>(s), false, 32, trunc)); fpElement();
        store<u32>(RES, <u32>sfFToInt(<u64>load<u32>(s, 4), false, 32, trunc), 4);
      }
      if (!fpCommit()) return;
      const m = <u32>load<u8>(e, D_REGNUM) & 7;
      store<u64>(mmxAddr(m), load<u64>(RES));
      mmxWrote(m);
      return;
    }
    case 0x5a: {
      if (mp == MP_F3 || mp == MP_F2) { // CVTSS2SD, CVTSD2SS
        const s = srcE(e, mp == MP_F3 ? 4 : 8, false); if (stop) return;
        fpBegin();
        if (mp == MP_F3) { const r = sfF32ToF64(<u64>load<u32>(s)); if (fpCommit()) store<u64>(d, r); }
        else { const r = sfF64ToF32(load<u64>(s)); if (fpCommit()) store<u32>(d, <u32>r); }
        return;
      }
      if (mp == MP_NONE) { // CVTPS2PD xmm, xmm/m64
        const s = srcE(e, 8, false); if (stop) return;
        fpBegin();
        store<u64>(RES, sfF32ToF64(<u64>load<u32>(s))); fpElement();
        store<u64>(RES, sfF32ToF64(<u64>load<u32>(s, 4)), 8);
        if (fpCommit()) memory.copy(d, RES, 16);
        return;
      }
      // CVTPD2PS xmm, xmm/m128
      const s = srcE(e, 16, true); if (stop) return;
      fpBegin();
      store<u32>(RES, <u32>sfF64ToF32(load<u64>(s))); fpElement();
      store<u32>(RES, <u32>sfF64ToF32(load<u64>(s, 8)), 4);
      store<u64>(RES, 0, 8);
      if (fpCommit()) memory.copy(d, RES, 16);
      return;
    }
    case 0x5b: { // CVTDQ2PS, CVTPS2DQ (66), CVTTPS2DQ (F3)
      const s = srcE(e, 16, true); if (stop) return;
      fpBegin();
      for (let i: usize = 0; i < 16; i += 4) {
        if (i != 0) fpElement();
        const v = load<u32>(s + i);
        store<u32>(RES + i, <u32>(mp == MP_NONE ? sfIntToF(<i64><i32>v, false) : sfFToInt(<u64>v, false, 32, mp == MP_F3)));
      }
      if (fpCommit()) memory.copy(d, RES, 16);
      return;
    }
    case 0xe6: {
      if (mp == MP_F3) { // CVTDQ2PD xmm, xmm/m64 (exact)
        const s = srcE(e, 8, false); if (stop) return;
        store<u64>(RES, sfIntToF(<i64><i32>load<u32>(s), true));
        store<u64>(RES, sfIntToF(<i64><i32>load<u32>(s, 4), true), 8);
        memory.copy(d, RES, 16);
        return;
      }
      // CVTTPD2DQ (66), CVTPD2DQ (F2) xmm, xmm/m128
      const s = srcE(e, 16, true); if (stop) return;
      fpBegin();
      store<u32>(RES, <u32>sfFToInt(load<u64>(s), true, 32, mp == MP_66)); fpElement();
      store<u32>(RES, <u32>sfFToInt(load<u64>(s, 8), true, 32, mp == MP_66), 4);
      store<u64>(RES, 0, 8);
      if (fpCommit()) memory.copy(d, RES, 16);
      return;
    }
  }
}

export { readM128 };
