// SSE/SSE2 floating point (SDM Vol. 1 10.4 / 11.4; the groups OP_SSE_MOVF .. OP_SSE_SHUFF of
// assembly/ops.ts, decoded by assembly/decode/sse-float.ts). Not implemented yet.
import { raiseUD } from "../../fault";

/** Executes one SSE floating-point operation. */
export function execSseFloat(e: usize, op: i32): void {
  raiseUD();
}
