// SSE2 packed integer (SDM Vol. 1 11.4.3 "128-Bit SIMD Integer Instructions") and MMX (Vol. 1
// chapter 9, and the MMX forms SSE/SSE2 added, 10.4.4 / 11.4.2): the groups OP_SSE_MOVI ..
// OP_EMMS of assembly/ops.ts, decoded by assembly/decode/sse-int.ts. One file per concept:
// operands.ts (availability, MMX state entry, operand staging), mov.ts (moves and GPR transfers),
// arith.ts, logic.ts (compare and logic), shift.ts, pack.ts (pack, unpack, shuffle); EMMS is here.
import * as O from "../../ops";
import { raiseUD } from "../../fault";
import { mmxEmms, mmxWrote } from "../../x87/mmx";
import { stageOperands, opcode, mmReg, opD, opS, mmxUsable } from "./operands";
import { arith64 } from "./arith";
import { logic64, logic128 } from "./logic";
import { execShift } from "./shift";
import { execPack } from "./pack";
import { execMovI } from "./mov";

/** The lane-wise groups (IARITH, ICMP, ILOGIC): each quadword of the result from the same quadwords. */
function execLanes(e: usize, arith: bool): void {
  const w = stageOperands(e, 8); if (w == 0) return;
  const k = opcode(e);
  const d = opD, s = opS;
  if (arith) {
    store<u64>(d, arith64(k, load<u64>(d), load<u64>(s)));
    if (w == 16) store<u64>(d, arith64(k, load<u64>(d, 8), load<u64>(s, 8)), 8);
  } else if (w == 16) {
    logic128(k, d, s);
    return;
  } else store<u64>(d, logic64(k, load<u64>(d), load<u64>(s)));
  if (w == 8) mmxWrote(mmReg(e));
}

/** Executes one SSE2 integer or MMX operation. */
export function execSseInt(e: usize, op: i32): void {
  switch (op) {
    case O.OP_SSE_MOVI: execMovI(e); return;
    case O.OP_SSE_IARITH: execLanes(e, true); return;
    case O.OP_SSE_ICMP: case O.OP_SSE_ILOGIC: execLanes(e, false); return;
    case O.OP_SSE_ISHIFT: execShift(e); return;
    case O.OP_SSE_PACK: execPack(e); return;
    case O.OP_EMMS: // SDM Vol. 2A EMMS: #UD if CR0.EM, #NM if CR0.TS, #MF if pending; all tags empty
      if (mmxUsable()) mmxEmms();
      return;
  }
  raiseUD();
}
