// NaN results of the SSE unit (SDM Vol. 1 4.8.3.5 "QNaN Floating-Point Indefinite", 4.8.3.7 "SNaNs and
// QNaNs", Table 4-7 "Rules for Handling NaNs" (the SSE column), 11.5.2.2 "Invalid operation"): an SNaN
// operand raises IE and is quieted (its most significant fraction bit set); with two NaN operands the
// first source (the destination operand) wins; an invalid operation without NaN operands returns the
// default QNaN, the "real indefinite": sign set, top fraction bit set (0xFFC00000 / 0xFFF8000000000000).
import { sfRaise, SF_INVALID } from "./status";
import { aCls, bCls, C_QNAN, C_SNAN, fracBits, expMax, signShift } from "./round-sse";

@inline export function isNaNCls(c: u32): bool { return c >= C_QNAN; }
@inline export function quietBit(is64: bool): u64 { return <u64>1 << (fracBits(is64) - 1); }
@inline export function defaultNaN(is64: bool): u64 {
  return (<u64>1 << signShift(is64)) | (<u64>expMax(is64) << fracBits(is64)) | quietBit(is64);
}

/** The result of a two-operand operation with a NaN operand (unpackA/unpackB done): IE on an SNaN. */
export function propagateNaN2(a: u64, b: u64, is64: bool): u64 {
  if (aCls == C_SNAN || bCls == C_SNAN) sfRaise(SF_INVALID);
  if (isNaNCls(aCls)) return a | quietBit(is64);
  return b | quietBit(is64);
}

/** The result of a one-operand operation on a NaN (unpackA done). */
export function propagateNaN1(a: u64, is64: bool): u64 {
  if (aCls == C_SNAN) sfRaise(SF_INVALID);
  return a | quietBit(is64);
}

/** IE and the default QNaN. */
export function invalidNaN(is64: bool): u64 { sfRaise(SF_INVALID); return defaultNaN(is64); }
