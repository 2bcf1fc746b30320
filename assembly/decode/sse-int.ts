// The SSE2 packed-integer and MMX rows of the 0F map (SDM Vol. 2D Table A-3, the opcode extensions
// of Table A-6 for 0F 71-73): 0F 60-7F (but 78/79, VMREAD/VMWRITE, in map0f.ts), C3-C5 and D0-FF
// (but E6, in sse-float.ts). No prefix = MMX on MM0-7 (ModRM.reg/rm & 7: REX.R/B do not extend an
// MMX register), 66 = SSE2 on XMM0-15; F3/F2 select MOVDQU (F3 6F/7F), MOVQ xmm, xmm/m64 (F3 7E),
// PSHUFHW (F3 70), PSHUFLW (F2 70), MOVQ2DQ (F3 D6) and MOVDQ2Q (F2 D6). The entry's operation is
// a group of assembly/ops.ts (OP_SSE_MOVI ...); the instruction within the group is
// D_IMM2 = opcode | mandatory prefix << 8 (prefix.ts MP_*) | REX.W << 16, an imm8 is D_IMM, the
// 71-73 group digit is D_SUB. Left as #UD: SSE3 and later rows (0F D0 ADDSUBPD, 0F 7C/7D
// HADDPD/HSUBPD, F2 0F F0 LDDQU), 0F 7A/7B (empty), 0F FF (UD0), and every prefix/operand combination Table A-3 leaves
// empty (a register form of a memory-only row such as MOVNTQ, and the reverse).
import { peek, imm8s } from "./fetch";
import { rex, simdPrefix, MP_NONE, MP_66, MP_F3 } from "./prefix";
import { modrm } from "./modrm";
import { setOp, D_IMM, D_IMM2 } from "./entry";
import {
  OP_UD, OP_SSE_MOVI, OP_SSE_IARITH, OP_SSE_ISHIFT, OP_SSE_ICMP, OP_SSE_PACK, OP_SSE_ILOGIC, OP_EMMS,
} from "../ops";

/** The op group of a row of this map (OP_UD for the rows this unit leaves undefined). */
function groupOf(b: u32): i32 {
  if (b >= 0x60 && b <= 0x6d) return b >= 0x64 && b <= 0x66 ? OP_SSE_ICMP : OP_SSE_PACK;
  switch (b) {
    case 0x70: return OP_SSE_PACK;
    case 0x74: case 0x75: case 0x76: return OP_SSE_ICMP;
    case 0x77: return OP_EMMS;
    case 0x6e: case 0x6f: case 0x7e: case 0x7f: case 0xc3: case 0xc4: case 0xc5: case 0xd6: case 0xd7:
    case 0xe7: case 0xf7:
      return OP_SSE_MOVI;
    case 0x71: case 0x72: case 0x73: case 0xd1: case 0xd2: case 0xd3: case 0xe1: case 0xe2:
    case 0xf1: case 0xf2: case 0xf3:
      return OP_SSE_ISHIFT;
    case 0xdb: case 0xdf: case 0xeb: case 0xef: return OP_SSE_ILOGIC;
    case 0xd4: case 0xd5: case 0xd8: case 0xd9: case 0xda: case 0xdc: case 0xdd: case 0xde:
    case 0xe0: case 0xe3: case 0xe4: case 0xe5: case 0xe8: case 0xe9: case 0xea: case 0xec: case 0xed: case 0xee:
    case 0xf4: case 0xf5: case 0xf6: case 0xf8: case 0xf9: case 0xfa: case 0xfb: case 0xfc: case 0xfd: case 0xfe:
      return OP_SSE_IARITH;
  }
  return OP_UD; // D0, 7C/7D (SSE3), F0 (LDDQU), FF (UD0)
}

/** Decodes the SSE2 integer / MMX instruction whose 0F-map opcode is `b`. */
export function mapSseInt(e: usize, b: u32): void {
  const grp = groupOf(b);
  if (grp == OP_UD) { setOp(e, OP_UD, 0); return; }
  const mp = simdPrefix();
  if (b == 0x77) { // EMMS: no ModRM, no prefixed form
    setOp(e, mp == MP_NONE ? OP_EMMS : OP_UD, 0);
    store<u64>(e, b, D_IMM2);
    return;
  }
  // Which mandatory prefixes the row has and whether it wants a register or memory ModRM.rm.
  let ok = mp == MP_NONE || mp == MP_66;
  const m = peek();
  const reg = (m >> 6) == 3;
  const digit = (m >> 3) & 7;
  let imm = false;
  switch (b) {
    case 0x6c: case 0x6d: ok = mp == MP_66; break;             // PUNPCKLQDQ/PUNPCKHQDQ
    case 0x6f: case 0x7f: case 0x7e: ok = mp <= MP_F3; break;  // F3: MOVDQU, MOVQ xmm
    case 0x70: ok = true; imm = true; break;                   // PSHUFW/PSHUFD/PSHUFHW/PSHUFLW
    case 0x71: case 0x72: ok = ok && reg && (digit == 2 || digit == 4 || digit == 6); imm = true; break;
    case 0x73: ok = ok && reg && (digit == 2 || digit == 6 || (mp == MP_66 && (digit == 3 || digit == 7))); imm = true; break;
    case 0xc3: ok = mp == MP_NONE && !reg; break;              // MOVNTI
    case 0xc4: imm = true; break;                              // PINSRW
    case 0xc5: ok = ok && reg; imm = true; break;              // PEXTRW
    case 0xd6: ok = mp == MP_66 || (mp != MP_NONE && reg); break; // MOVQ / MOVQ2DQ / MOVDQ2Q
    case 0xd7: case 0xf7: ok = ok && reg; break;               // PMOVMSKB, MASKMOVQ/MASKMOVDQU
    case 0xe7: ok = ok && !reg; break;                         // MOVNTQ/MOVNTDQ
  }
  if (!ok) { setOp(e, OP_UD, 0); return; }
  modrm(e, 8, 8);
  if (imm) store<u64>(e, imm8s() & 0xff, D_IMM);
  store<u64>(e, <u64>b | (<u64>mp << 8) | (<u64>((rex >> 3) & 1) << 16), D_IMM2);
  setOp(e, grp, mp == MP_NONE ? 8 : 16);
}
