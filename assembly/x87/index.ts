// The x87 FPU (SDM Vol. 1 chapter 8): the operations of unit UNIT_X87 (assembly/ops.ts) run here.
// The register state lives in FXSTATE (assembly/layout.ts).
import { raiseUD } from "../fault";

/** Executes one UNIT_X87 operation. */
export function execX87(e: usize, op: i32): void {
  raiseUD();
}
