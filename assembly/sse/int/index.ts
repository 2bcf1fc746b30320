// SSE2 packed integer (SDM Vol. 1 11.4.3) and MMX (Vol. 1 chapter 9): the groups OP_SSE_MOVI ..
// OP_EMMS of assembly/ops.ts, decoded by assembly/decode/sse-int.ts. Not implemented yet.
import { raiseUD } from "../../fault";

/** Executes one SSE2 integer or MMX operation. */
export function execSseInt(e: usize, op: i32): void {
  raiseUD();
}
