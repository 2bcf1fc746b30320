// SHUFPS/SHUFPD and UNPCKLPS/UNPCKLPD/UNPCKHPS/UNPCKHPD (SDM Vol. 2): element moves, no exceptions
// beyond the m128 alignment rule. SHUFPS picks the two low results from the destination and the two
// high ones from the source by imm8's 2-bit fields; SHUFPD by imm8 bits 0 and 1.
import { stop } from "../../fault";
import { D_IMM, D_IMM2 } from "../../decode/entry";
import { MP_66 } from "../../decode/prefix";
import { xmmG, srcE, SSE_TMP } from "../operand";

const RES: usize = SSE_TMP + 32;

/** Executes one OP_SSE_SHUFF instruction (availability checked by the caller). */
export function execShufF(e: usize): void {
  const code = <u32>load<u64>(e, D_IMM2);
  const opc = code & 0xff, pd = (code >> 8) == MP_66;
  const s = srcE(e, 16, true); if (stop) return;
  const d = xmmG(e);
  if (opc == 0xc6) {
    const imm = <u32>load<u64>(e, D_IMM);
    if (pd) {
      store<u64>(RES, load<u64>(d + ((<usize>imm & 1) << 3)));
      store<u64>(RES, load<u64>(s + ((<usize>(imm >> 1) & 1) << 3)), 8);
    } else {
      store<u32>(RES, load<u32>(d + ((<usize>imm & 3) << 2)));
      store<u32>(RES, load<u32>(d + ((<usize>(imm >> 2) & 3) << 2)), 4);
      store<u32>(RES, load<u32>(s + ((<usize>(imm >> 4) & 3) << 2)), 8);
      store<u32>(RES, load<u32>(s + ((<usize>(imm >> 6) & 3) << 2)), 12);
    }
  } else {
    const off: usize = opc == 0x15 ? 8 : 0;  // UNPCKH: the high halves
    if (pd) {
      store<u64>(RES, load<u64>(d + off)); store<u64>(RES, load<u64>(s + off), 8);
    } else {
      store<u32>(RES, load<u32>(d + off)); store<u32>(RES, load<u32>(s + off), 4);
      store<u32>(RES, load<u32>(d + off + 4), 8); store<u32>(RES, load<u32>(s + off + 4), 12);
    }
  }
  memory.copy(d, RES, 16);
}
