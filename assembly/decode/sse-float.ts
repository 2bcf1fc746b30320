// The SSE/SSE2 floating-point rows of the 0F map (SDM Vol. 2D Table A-3): 0F 10-17, 28-2F, 50-5F,
// C2, C6 and E6, each with its mandatory prefix (none = PS, 66 = PD, F3 = SS, F2 = SD). The entry's
// operation is a group of assembly/ops.ts (OP_SSE_MOVF ...); the instruction within the group is
// D_IMM2 = opcode | mandatory prefix << 8 (prefix.ts MP_*), an imm8 is D_IMM. Forms the SDM does not
// define (a register operand where only memory is allowed, SSE3's F3/F2 0F 12/16, MOVNTSS/SD of
// AMD's SSE4a) decode as OP_UD. Register operands: ModRM.reg/rm name XMM registers (D_REGNUM/D_RMNUM),
// but GPRs for CVTSI2Sx (rm), CVT[T]Sx2SI and MOVMSKPx (reg), and MMX registers (REX ignored) for
// the CVT*PI* forms; D_OSZ is the GPR size (REX.W: 8, else 4).
import { setOp, D_IMM, D_IMM2 } from "./entry";
import { nb } from "./fetch";
import { rex, simdPrefix, MP_NONE, MP_66, MP_F3, MP_F2 } from "./prefix";
import { modrm, isMem } from "./modrm";
import { OP_UD, OP_SSE_MOVF, OP_SSE_FARITH, OP_SSE_FLOGIC, OP_SSE_FCMP, OP_SSE_CVT, OP_SSE_SHUFF } from "../ops";

/** Decodes the SSE floating-point instruction whose 0F-map opcode is `b`. */
export function mapSseFloat(e: usize, b: u32): void {
  const mp = simdPrefix();
  const gsz: i32 = (rex & 8) != 0 ? 8 : 4;
  modrm(e, gsz, gsz);
  let op = OP_UD;
  const ps = mp == MP_NONE || mp == MP_66;   // the PS/PD-only rows
  switch (b) {
    case 0x10: case 0x11: op = OP_SSE_MOVF; break;
    case 0x12: case 0x16: // MOVLPS/MOVHLPS, MOVHPS/MOVLHPS, MOVLPD/MOVHPD (memory only)
      if (mp == MP_NONE || (mp == MP_66 && isMem)) op = OP_SSE_MOVF; break;
    case 0x13: case 0x17: case 0x2b: if (ps && isMem) op = OP_SSE_MOVF; break;
    case 0x28: case 0x29: if (ps) op = OP_SSE_MOVF; break;
    case 0x50: if (ps && !isMem) op = OP_SSE_MOVF; break;
    case 0x14: case 0x15: if (ps) op = OP_SSE_SHUFF; break;
    case 0xc6: if (ps) op = OP_SSE_SHUFF; store<u64>(e, <u64>nb(), D_IMM); break;
    case 0x2a: case 0x2c: case 0x2d: case 0x5a: op = OP_SSE_CVT; break;
    case 0x5b: if (mp != MP_F2) op = OP_SSE_CVT; break;
    case 0xe6: if (mp != MP_NONE) op = OP_SSE_CVT; break;
    case 0x2e: case 0x2f: if (ps) op = OP_SSE_FCMP; break;
    case 0xc2: op = OP_SSE_FCMP; store<u64>(e, <u64>nb(), D_IMM); break;
    case 0x51: case 0x58: case 0x59: case 0x5c: case 0x5d: case 0x5e: case 0x5f: op = OP_SSE_FARITH; break;
    case 0x52: case 0x53: if (mp == MP_NONE || mp == MP_F3) op = OP_SSE_FARITH; break;
    case 0x54: case 0x55: case 0x56: case 0x57: if (ps) op = OP_SSE_FLOGIC; break;
  }
  store<u64>(e, <u64>(b | (mp << 8)), D_IMM2);
  setOp(e, op, gsz);
}

export { MP_F3, MP_F2 };
