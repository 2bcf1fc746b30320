// The SSE/SSE2 floating-point rows of the 0F map (SDM Vol. 2D Table A-3): 0F 10-17, 28-2F, 50-5F,
// C2, C6 and E6, each with its mandatory prefix (none = PS, 66 = PD, F3 = SS, F2 = SD). The entry's
// operation is a group of assembly/ops.ts (OP_SSE_MOVF ...); the instruction within the group is
// D_IMM2 = opcode | mandatory prefix << 8 (prefix.ts MP_*), an imm8 is D_IMM.
// Not implemented yet: every row decodes as OP_UD.
import { setOp } from "./entry";
import { OP_UD } from "../ops";

/** Decodes the SSE floating-point instruction whose 0F-map opcode is `b`. */
export function mapSseFloat(e: usize, b: u32): void {
  setOp(e, OP_UD, 0);
}
