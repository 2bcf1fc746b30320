// Correctly rounded add, subtract, multiply, divide and square root of binary32/binary64 values under
// the MXCSR controls (SDM Vol. 1 4.8.4 rounding, 4.9.1 exceptions and 4.9.2 their priority: an SNaN
// or QNaN operand first, then other invalid operations and divide-by-zero, then denormal operands,
// then overflow/underflow/inexact; IEEE 754 6.3 for the sign of exact zeros). After Bochs's softfloat3e
// f32_add/f64_mul/f64_div/f64_sqrt in structure; the significands are exact integers (128-bit
// products, bitwise division), so every result is exact before roundPack rounds it once.
import { sfRound, sfRaise, SF_RD, SF_DIVBYZERO, SF_INEXACT } from "./status";
import {
  unpackA, unpackB, aCls, aSign, aExp, aSig, bCls, bSign, bExp, bSig, C_ZERO, C_NORM, C_INF,
  roundPack, shrJam, packZero, packInf, denormalCheck1, denormalCheck2, fracBits, expBias,
} from "./round-sse";
import { isNaNCls, propagateNaN2, propagateNaN1, invalidNaN } from "./nan";

/** a + b (negB: a - b). */
export function sfAdd(a: u64, b: u64, negB: bool, is64: bool): u64 {
  unpackA(a, is64); unpackB(b, is64);
  if (isNaNCls(aCls) || isNaNCls(bCls)) return propagateNaN2(a, b, is64);
  const sb = bSign ^ (negB ? 1 : 0);
  if (aCls == C_INF || bCls == C_INF) {
    if (aCls == C_INF && bCls == C_INF && aSign != sb) return invalidNaN(is64);
    denormalCheck2();
    return aCls == C_INF ? packInf(aSign, is64) : packInf(sb, is64);
  }
  denormalCheck2();
  if (aCls == C_ZERO && bCls == C_ZERO) {
    const s = aSign == sb ? aSign : (sfRound == SF_RD ? 1 : 0);
    return packZero(s, is64);
  }
  if (bCls == C_ZERO) return roundPack(aSign, aExp, aSig, is64);
  if (aCls == C_ZERO) return roundPack(sb, bExp, bSig, is64);
  // Align to the larger exponent; 62 - F >= 10 guard bits keep the jammed sticky below the round bit.
  let ea = aExp, eb = bExp, sa = aSig, sgb = bSig, signA = aSign, signB = sb;
  if (eb > ea || (eb == ea && sgb > sa)) {
    const te = ea; ea = eb; eb = te;
    const ts = sa; sa = sgb; sgb = ts;
    const tg = signA; signA = signB; signB = tg;
  }
  sgb = shrJam(sgb, ea - eb);
  if (signA == signB) return roundPack(signA, ea, sa + sgb, is64);  // leading one at 62 or 63
  const d = sa - sgb;
  if (d == 0) return packZero(sfRound == SF_RD ? 1 : 0, is64);
  const sh = <i32>clz<u64>(d) - 1;
  return roundPack(signA, ea - sh, d << <u64>sh, is64);
}

// The 128-bit product of two u64 (hi, lo).
let mulHi: u64 = 0; let mulLo: u64 = 0;
@inline function mul128(a: u64, b: u64): void {
  const a0 = a & 0xffffffff, a1 = a >> 32, b0 = b & 0xffffffff, b1 = b >> 32;
  const p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const mid = (p00 >> 32) + (p01 & 0xffffffff) + (p10 & 0xffffffff);
  mulLo = (p00 & 0xffffffff) | (mid << 32);
  mulHi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
}

/** a * b. */
export function sfMul(a: u64, b: u64, is64: bool): u64 {
  unpackA(a, is64); unpackB(b, is64);
  if (isNaNCls(aCls) || isNaNCls(bCls)) return propagateNaN2(a, b, is64);
  const s = aSign ^ bSign;
  if (aCls == C_INF || bCls == C_INF) {
    if (aCls == C_ZERO || bCls == C_ZERO) return invalidNaN(is64);
    denormalCheck2();
    return packInf(s, is64);
  }
  denormalCheck2();
  if (aCls == C_ZERO || bCls == C_ZERO) return packZero(s, is64);
  // Both significands have their leading one at bit 62: the product's is at bit 124 or 125.
  mul128(aSig, bSig);
  const sig = (mulHi << 2) | (mulLo >> 62) | ((mulLo & 0x3fffffffffffffff) != 0 ? 1 : 0);
  return roundPack(s, aExp + bExp, sig, is64);
}

/** a / b. */
export function sfDiv(a: u64, b: u64, is64: bool): u64 {
  unpackA(a, is64); unpackB(b, is64);
  if (isNaNCls(aCls) || isNaNCls(bCls)) return propagateNaN2(a, b, is64);
  const s = aSign ^ bSign;
  if (aCls == C_INF) {
    if (bCls == C_INF) return invalidNaN(is64);
    denormalCheck2();
    return packInf(s, is64);
  }
  if (bCls == C_INF) { denormalCheck2(); return packZero(s, is64); }
  if (bCls == C_ZERO) {
    if (aCls == C_ZERO) return invalidNaN(is64);
    sfRaise(SF_DIVBYZERO);   // a denormal dividend raises no DE here: ZE ranks above it (Vol. 1 4.9.2)
    return packInf(s, is64);
  }
  denormalCheck2();
  if (aCls == C_ZERO) return packZero(s, is64);
  let r = aSig, exp = aExp - bExp;
  if (r < bSig) { r <<= 1; exp--; }          // quotient in [1, 2)
  const n = <i32>fracBits(is64) + 3;          // quotient bits: F+1, a guard and a round bit
  let q: u64 = 0;
  for (let i = 0; i < n; i++) {
    q <<= 1;
    if (r >= bSig) { r -= bSig; q |= 1; }
    r <<= 1;
  }
  const sig = (q << <u64>(63 - n)) | (r != 0 ? 1 : 0);
  return roundPack(s, exp, sig, is64);
}

/**
 * sqrt(a). The square root of a finite positive value never overflows or underflows; the
 * round-to-nearest root comes from the host's IEEE sqrt (f64, and f64 then f32 for binary32, where
 * the double rounding is exact since 53 >= 2*24 + 2), then an exact comparison of root^2 with a gives
 * inexactness and the directed roundings.
 */
export function sfSqrt(a: u64, is64: bool): u64 {
  unpackA(a, is64);
  if (isNaNCls(aCls)) return propagateNaN1(a, is64);
  if (aCls == C_ZERO) return packZero(aSign, is64);
  if (aSign != 0) return invalidNaN(is64);
  if (aCls == C_INF) return packInf(0, is64);
  denormalCheck1();
  // x = aSig * 2^(aExp - 62), exactly representable in f64 for both formats (after DAZ).
  const x = reinterpret<f64>(((<u64>(aExp + 1023)) << 52) | ((aSig >> 10) & 0xfffffffffffff));
  let cmp: i32; // sign of (root^2 - a)
  let bits: u64;
  if (!is64) {
    // aExp is within binary64's normal range for every binary32 input, denormals included.
    const r = <f32>Math.sqrt(x);
    const rr = <f64>r * <f64>r;              // exact: 48 bits
    cmp = rr > x ? 1 : rr < x ? -1 : 0;
    bits = <u64>reinterpret<u32>(r);
  } else {
    // A binary64 denormal normalized may fall below binary64's range: scale by an even power of two.
    let ex = aExp, scale = 0;
    if (ex < -1022) { scale = ((-1022 - ex) + 1) & ~1; ex += scale; }
    const xs = reinterpret<f64>(((<u64>(ex + 1023)) << 52) | ((aSig >> 10) & 0xfffffffffffff));
    const r = Math.sqrt(xs);
    // Exact comparison of r^2 with xs: integer significands, 106-bit square.
    const rb = reinterpret<u64>(r);
    const rm = (rb & 0xfffffffffffff) | (<u64>1 << 52);
    const re = <i32>((rb >> 52) & 0x7ff) - 1023 - 52;      // r = rm * 2^re
    const xm = (aSig >> 10);                                   // xs = xm * 2^(ex - 52)
    const xe = ex - 52;
    mul128(rm, rm);                                            // r^2 = mul * 2^(2 re)
    const d = xe - 2 * re;                                     // xs = (xm << d) * 2^(2 re), d in [52, 54]
    const xh = xm >> <u64>(64 - d), xl = xm << <u64>d;
    cmp = mulHi > xh ? 1 : mulHi < xh ? -1 : mulLo > xl ? 1 : mulLo < xl ? -1 : 0;
    // Undo the scaling: the root's exponent moves by scale/2 (the result is normal).
    bits = rb - (<u64>(scale >> 1) << 52);
  }
  if (cmp == 0) return bits;
  sfRaise(SF_INEXACT);
  // Round to nearest gave `bits`; the directed modes step one ulp where it lies on the wrong side.
  if (sfRound == SF_RD || sfRound == 3) { if (cmp > 0) bits--; }
  else if (sfRound == 2) { if (cmp < 0) bits++; }
  return bits;
}

export { C_NORM, expBias };
