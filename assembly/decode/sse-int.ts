// The SSE2 packed-integer and MMX rows of the 0F map (SDM Vol. 2D Table A-3): 0F 60-7F (but 78/79,
// VMREAD/VMWRITE, in map0f.ts), C3-C5 and D0-FF (but E6, in sse-float.ts). No prefix = MMX on
// MM0-7, 66 = SSE2 on XMM0-15 (F3/F2 select MOVDQU, MOVQ, PSHUFHW/LW, MOVQ2DQ/MOVDQ2Q). The entry's
// operation is a group of assembly/ops.ts (OP_SSE_MOVI ...); the instruction within the group is
// D_IMM2 = opcode | mandatory prefix << 8 (prefix.ts MP_*), an imm8 is D_IMM.
// Not implemented yet: every row decodes as OP_UD.
import { setOp } from "./entry";
import { OP_UD } from "../ops";

/** Decodes the SSE2 integer / MMX instruction whose 0F-map opcode is `b`. */
export function mapSseInt(e: usize, b: u32): void {
  setOp(e, OP_UD, 0);
}
