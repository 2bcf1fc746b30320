// The three-byte opcode map 0F 3A xx (SDM Vol. 2D Table A-5: SSE4 and AES with an imm8, selected
// by the mandatory prefix like 0F 38). No entry is implemented yet: 0F 3A decodes as OP_UD before
// its third byte is fetched, exactly as the decoder always has (a #UD, never a #PF on that byte).
import { setOp } from "./entry";
import { OP_UD } from "../ops";

/** Decodes the operation after 0F 3A. */
export function map0f3a(e: usize): void {
  setOp(e, OP_UD, 0);
}
