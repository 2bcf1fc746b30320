// SSE and SSE2 (SDM Vol. 1 chapters 10-11, Vol. 2 instruction pages): the operations of unit
// UNIT_SSE (assembly/ops.ts) run here. The register state lives in FXSTATE (assembly/layout.ts):
// XMMn at FX_XMM + 16*n, MXCSR at FX_MXCSR. Availability (CR0.EM/TS, CR4.OSFXSR) is avail.ts.
import { raiseUD } from "../fault";

/** Executes one UNIT_SSE operation. */
export function execSse(e: usize, op: i32): void {
  raiseUD();
}
