// SSE/SSE2 floating point (SDM Vol. 1 10.4 / 11.4; the groups OP_SSE_MOVF .. OP_SSE_SHUFF of
// assembly/ops.ts, decoded by assembly/decode/sse-float.ts): moves (mov.ts), arithmetic and logic
// (arith.ts, per element elem.ts, RCP/RSQRT rcp.ts), compares (cmp.ts), conversions (cvt.ts),
// shuffles and unpacks (shuffle.ts), MXCSR and the SIMD floating-point exception rules (mxcsr.ts);
// the correctly rounded arithmetic is assembly/softfloat/. Every instruction first passes the SSE
// availability check (avail.ts: #UD, #NM) before it touches memory.
import * as O from "../../ops";
import { sseUsable } from "../avail";
import { execMovF } from "./mov";
import { execFArith, execFLogic } from "./arith";
import { execFCmp } from "./cmp";
import { execCvt } from "./cvt";
import { execShufF } from "./shuffle";

/** Executes one SSE floating-point operation. */
export function execSseFloat(e: usize, op: i32): void {
  if (!sseUsable()) return;
  switch (op) {
    case O.OP_SSE_MOVF: execMovF(e); return;
    case O.OP_SSE_FARITH: execFArith(e); return;
    case O.OP_SSE_FLOGIC: execFLogic(e); return;
    case O.OP_SSE_FCMP: execFCmp(e); return;
    case O.OP_SSE_CVT: execCvt(e); return;
  }
  execShufF(e);
}
