// The state instructions of the SSE unit: FXSAVE/FXRSTOR (SDM Vol. 2A, Vol. 1 10.5), LDMXCSR/STMXCSR
// (Vol. 2A, Vol. 1 10.2.3) and CLFLUSH (Vol. 2A). Decoded in assembly/decode/map0f.ts (0F AE).
// Not implemented yet.
import { raiseUD } from "../fault";

/** Executes FXSAVE, FXRSTOR, LDMXCSR, STMXCSR or CLFLUSH. */
export function execFpState(e: usize, op: i32): void {
  raiseUD();
}
