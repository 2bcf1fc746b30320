// SSE and SSE2 (SDM Vol. 1 chapters 10-11, Vol. 2 instruction pages) and MMX (Vol. 1 chapter 9): the
// operations of unit UNIT_SSE (assembly/ops.ts) run here, by group -- floating point (float/),
// packed integer and MMX (int/), and the state instructions FXSAVE/FXRSTOR, LDMXCSR/STMXCSR and
// CLFLUSH (state-ops.ts). The register state lives in FXSTATE (assembly/layout.ts): XMMn at
// FX_XMM + 16*n, MXCSR at FX_MXCSR (operand.ts). Availability (CR0.EM/TS, CR4.OSFXSR) is avail.ts.
import * as O from "../ops";
import { execSseFloat } from "./float/index";
import { execSseInt } from "./int/index";
import { execFpState } from "./state-ops";

/** Executes one UNIT_SSE operation. */
export function execSse(e: usize, op: i32): void {
  switch (op) {
    case O.OP_SSE_MOVF: case O.OP_SSE_FARITH: case O.OP_SSE_FLOGIC: case O.OP_SSE_FCMP:
    case O.OP_SSE_CVT: case O.OP_SSE_SHUFF:
      execSseFloat(e, op); return;
    case O.OP_FXSAVE: case O.OP_FXRSTOR: case O.OP_LDMXCSR: case O.OP_STMXCSR: case O.OP_CLFLUSH:
      execFpState(e, op); return;
  }
  execSseInt(e, op);
}
