// The SSE/SSE2 floating-point moves (SDM Vol. 2 MOVUPS/MOVUPD, MOVSS/MOVSD, MOVLPS/MOVLPD,
// MOVHPS/MOVHPD, MOVHLPS, MOVLHPS, MOVAPS/MOVAPD, MOVNTPS/MOVNTPD, MOVMSKPS/MOVMSKPD; Vol. 1
// 10.4.1.1 / 11.4.1.1): no floating-point exceptions. MOVAPS/MOVAPD and MOVNTPS/MOVNTPD need a
// 16-byte aligned m128 (#GP(0)); MOVUPS/MOVUPD and the 32/64-bit forms do not. MOVSS/MOVSD from
// memory zero the rest of the register; between registers they merge the low element.
import { stop } from "../../fault";
import { D_IMM2, D_REG } from "../../decode/entry";
import { ea } from "../../operand";
import { writeReg } from "../../operand";
import { readMem, writeMem } from "../../mmu";
import { MP_NONE, MP_F3 } from "../../decode/prefix";
import { xmmG, xmmE, rmIsMem, readM128, writeM128, SSE_TMP } from "../operand";

/** Executes one OP_SSE_MOVF instruction (availability checked by the caller). */
export function execMovF(e: usize): void {
  const code = <u32>load<u64>(e, D_IMM2);
  const opc = code & 0xff, mp = code >> 8;
  const g = xmmG(e);
  const mem = rmIsMem(e);
  switch (opc) {
    case 0x10: case 0x28: { // loads: MOVUPS/PD, MOVSS/SD, MOVAPS/PD
      if (mp >= MP_F3) {
        const n = mp == MP_F3 ? 4 : 8;
        if (mem) {
          const v = readMem(ea(e), n); if (stop) return;
          store<u64>(g, v); store<u64>(g, 0, 8);
        } else if (n == 4) store<u32>(g, load<u32>(xmmE(e)));
        else store<u64>(g, load<u64>(xmmE(e)));
        return;
      }
      if (mem) { readM128(ea(e), opc == 0x28); if (stop) return; memory.copy(g, SSE_TMP, 16); }
      else memory.copy(g, xmmE(e), 16);
      return;
    }
    case 0x11: case 0x29: case 0x2b: { // stores
      if (mp >= MP_F3) {
        const n = mp == MP_F3 ? 4 : 8;
        if (mem) writeMem(ea(e), n, n == 4 ? <u64>load<u32>(g) : load<u64>(g));
        else if (n == 4) store<u32>(xmmE(e), load<u32>(g));
        else store<u64>(xmmE(e), load<u64>(g));
        return;
      }
      if (mem) writeM128(ea(e), g, opc != 0x11);
      else memory.copy(xmmE(e), g, 16);
      return;
    }
    case 0x12: case 0x16: { // MOVLPS/MOVLPD/MOVHLPS, MOVHPS/MOVHPD/MOVLHPS
      const hi = opc == 0x16 ? 8 : 0;
      let v: u64;
      if (mem) { v = readMem(ea(e), 8); if (stop) return; }
      else v = load<u64>(xmmE(e) + (opc == 0x12 ? 8 : 0));  // MOVHLPS: high of src; MOVLHPS: low of src
      store<u64>(g + hi, v);
      return;
    }
    case 0x13: case 0x17: // MOVLPS/MOVLPD m64, MOVHPS/MOVHPD m64 (memory only)
      writeMem(ea(e), 8, load<u64>(g + (opc == 0x17 ? 8 : 0)));
      return;
    case 0x50: { // MOVMSKPS/MOVMSKPD r32/r64, xmm: the sign bits, zero-extended
      const s = xmmE(e);
      let m: u64 = 0;
      if (mp == MP_NONE) {
        for (let i = 0; i < 4; i++) m |= <u64>(load<u32>(s + (<usize>i << 2)) >> 31) << <u64>i;
      } else {
        m = (load<u64>(s) >> 63) | ((load<u64>(s, 8) >> 63) << 1);
      }
      writeReg(load<u16>(e, D_REG), 8, m);
      return;
    }
  }
}
