// The SSE/SSE2 compares (SDM Vol. 2 CMPPS/CMPPD/CMPSS/CMPSD with the predicates of imm8[2:0] --
// bits 7:3 are reserved and ignored in the legacy encoding --, COMISS/COMISD, UCOMISS/UCOMISD):
// CMPxx writes an all-ones or all-zeros mask per element; the signalling predicates LT, LE, NLT, NLE
// raise IE on a QNaN operand too. COMIS* (IE on any NaN) and UCOMIS* (IE on an SNaN) set ZF, PF, CF:
// unordered 111, greater 000, less 001, equal 100; OF, SF and AF are cleared.
import { stop } from "../../fault";
import { D_IMM, D_IMM2 } from "../../decode/entry";
import { MP_66, MP_F3, MP_F2 } from "../../decode/prefix";
import { setStatus } from "../../flags";
import { F_CF, F_PF, F_ZF } from "../../state";
import { xmmG, srcE, SSE_TMP } from "../operand";
import { fpBegin, fpElement, fpCommit } from "./mxcsr";
import { sfCompare, REL_LT, REL_EQ, REL_GT, REL_UN } from "../../softfloat/compare";

const RES: usize = SSE_TMP + 32;

/** Predicate `p` (0-7) of the relation `rel`. */
@inline function pred(p: u32, rel: i32): bool {
  switch (p & 3) {
    case 0: return (rel == REL_EQ) != (p >= 4);                       // EQ / NEQ
    case 1: return (rel == REL_LT) != (p >= 4);                       // LT / NLT
    case 2: return (rel == REL_LT || rel == REL_EQ) != (p >= 4);      // LE / NLE
  }
  return (rel == REL_UN) != (p >= 4);                                 // UNORD / ORD
}

/** Executes one OP_SSE_FCMP instruction (availability checked by the caller). */
export function execFCmp(e: usize): void {
  const code = <u32>load<u64>(e, D_IMM2);
  const opc = code & 0xff, mp = code >> 8;
  const is64 = mp == MP_66 || mp == MP_F2;
  if (opc != 0xc2) { // COMIS* / UCOMIS*
    const s = srcE(e, is64 ? 8 : 4, false);
    if (stop) return;
    const d = xmmG(e);
    fpBegin();
    const rel = is64 ? sfCompare(load<u64>(d), load<u64>(s), true, opc == 0x2f)
                     : sfCompare(<u64>load<u32>(d), <u64>load<u32>(s), false, opc == 0x2f);
    if (!fpCommit()) return;
    setStatus(rel == REL_UN ? F_ZF | F_PF | F_CF : rel == REL_EQ ? F_ZF : rel == REL_LT ? F_CF : 0);
    return;
  }
  const scalar = mp >= MP_F3;
  const s = srcE(e, scalar ? (is64 ? 8 : 4) : 16, !scalar);
  if (stop) return;
  const d = xmmG(e);
  const p = <u32>load<u64>(e, D_IMM) & 7;
  const sig = (p & 3) == 1 || (p & 3) == 2;
  fpBegin();
  if (is64) {
    const n: usize = scalar ? 8 : 16;
    for (let i: usize = 0; i < n; i += 8) {
      if (i != 0) fpElement();
      store<u64>(RES + i, pred(p, sfCompare(load<u64>(d + i), load<u64>(s + i), true, sig)) ? 0xffffffffffffffff : 0);
    }
    if (!fpCommit()) return;
    memory.copy(d, RES, n);
  } else {
    const n: usize = scalar ? 4 : 16;
    for (let i: usize = 0; i < n; i += 4) {
      if (i != 0) fpElement();
      store<u32>(RES + i, pred(p, sfCompare(<u64>load<u32>(d + i), <u64>load<u32>(s + i), false, sig)) ? 0xffffffff : 0);
    }
    if (!fpCommit()) return;
    memory.copy(d, RES, n);
  }
}

export { REL_GT };
