// Comparisons of the SSE unit (SDM Vol. 2 CMPPS/CMPSS "Comparison Predicate" tables, COMISS/UCOMISS,
// MINPS/MAXPS; Vol. 1 11.5.2.2 "Invalid operation"): an SNaN operand always raises IE; a QNaN
// operand raises IE only for the signalling predicates (LT, LE, NLT, NLE, COMIS*, MIN/MAX). A
// denormal operand raises DE (after DAZ), but not when an operand is a NaN (the NaN takes priority,
// Vol. 1 4.9.2). Signed zeros compare equal.
import { sfRaise, SF_INVALID } from "./status";
import { unpackA, unpackB, aCls, aSign, aExp, aSig, bCls, bSign, bExp, bSig, C_ZERO, C_INF, C_SNAN, denormalCheck2 } from "./round-sse";
import { isNaNCls } from "./nan";

export const REL_LT: i32 = 0;
export const REL_EQ: i32 = 1;
export const REL_GT: i32 = 2;
export const REL_UN: i32 = 3;

/** Orders a and b; `signalQNaN` makes a QNaN operand raise IE. */
export function sfCompare(a: u64, b: u64, is64: bool, signalQNaN: bool): i32 {
  unpackA(a, is64); unpackB(b, is64);
  if (isNaNCls(aCls) || isNaNCls(bCls)) {
    if (signalQNaN || aCls == C_SNAN || bCls == C_SNAN) sfRaise(SF_INVALID);
    return REL_UN;
  }
  denormalCheck2();
  const az = aCls == C_ZERO, bz = bCls == C_ZERO;
  if (az && bz) return REL_EQ;
  // Magnitude key: class (zero < finite < inf), then exponent, then significand.
  let c: i32 = 0;
  if (az) c = -1; else if (bz) c = 1;
  else if (aCls == C_INF || bCls == C_INF) c = aCls == bCls ? 0 : aCls == C_INF ? 1 : -1;
  else c = aExp != bExp ? (aExp > bExp ? 1 : -1) : aSig != bSig ? (aSig > bSig ? 1 : -1) : 0;
  // Signs: zero has sign of whichever is nonzero handled by the key.
  const sa = az ? bSign ^ 1 : aSign, sb = bz ? aSign ^ 1 : bSign;
  if (sa != sb) return sa != 0 ? REL_LT : REL_GT;
  if (c == 0) return REL_EQ;
  return (c > 0) != (sa != 0) ? REL_GT : REL_LT;
}
