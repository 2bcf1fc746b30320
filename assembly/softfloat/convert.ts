// Conversions of the SSE unit (SDM Vol. 2 CVT* pages, Vol. 1 4.8.3.6 and 4.9.1.2): binary32 <->
// binary64 (CVTSS2SD, CVTSD2SS: NaNs keep their payload's top bits and are quieted), integer ->
// float (CVTSI2SS/SD, CVTDQ2PS/PD, CVTPI2PS/PD: rounded by MXCSR.RC, PE when inexact) and float ->
// integer (CVT[T]SS2SI, CVT[T]PS2DQ ...: RC or truncation; a NaN or out-of-range source gives the
// integer indefinite 0x80000000 / 0x8000000000000000 with IE). Conversions to integer raise only IE
// and PE (their pages list no DE); DAZ still reads a denormal source as zero.
import { sfRound, sfRaise, SF_RN, SF_RD, SF_RU, SF_INVALID, SF_INEXACT } from "./status";
import { unpackA, aCls, aSign, aExp, aSig, C_ZERO, C_INF, roundPack, packZero, packInf, denormalCheck1 } from "./round-sse";
import { isNaNCls, propagateNaN1 } from "./nan";

/** binary32 -> binary64 (exact). */
export function sfF32ToF64(a: u64): u64 {
  unpackA(a, false);
  if (isNaNCls(aCls)) { const q = propagateNaN1(a, false); return (<u64>(q >> 31) << 63) | (<u64>0x7ff << 52) | ((q & 0x7fffff) << 29); }
  if (aCls == C_INF) return packInf(aSign, true);
  if (aCls == C_ZERO) return packZero(aSign, true);
  denormalCheck1();
  return roundPack(aSign, aExp, aSig, true);
}

/** binary64 -> binary32 (rounded). */
export function sfF64ToF32(a: u64): u64 {
  unpackA(a, true);
  if (isNaNCls(aCls)) { const q = propagateNaN1(a, true); return (<u64>(q >> 63) << 31) | (<u64>0xff << 23) | ((q >> 29) & 0x7fffff); }
  if (aCls == C_INF) return packInf(aSign, false);
  if (aCls == C_ZERO) return packZero(aSign, false);
  denormalCheck1();
  return roundPack(aSign, aExp, aSig, false);
}

/** Signed integer `v` (of `bits` 32 or 64) -> float. */
export function sfIntToF(v: i64, is64: bool): u64 {
  if (v == 0) return 0;
  const sign: u32 = v < 0 ? 1 : 0;
  let m: u64 = v < 0 ? <u64>(-v) : <u64>v;     // i64 min stays 2^63 as u64
  if ((m >> 63) != 0) return roundPack(sign, 63, shrJamOne(m), is64);
  const sh = <i32>clz<u64>(m) - 1;
  return roundPack(sign, 62 - sh, m << <u64>sh, is64);
}
@inline function shrJamOne(m: u64): u64 { return (m >> 1) | (m & 1); }

/**
 * float -> signed integer of `ibits` (32 or 64); `trunc` rounds toward zero (CVTT*), else MXCSR.RC.
 * Returns the integer's bits (zero-extended).
 */
export function sfFToInt(a: u64, is64: bool, ibits: i32, trunc: bool): u64 {
  const indefinite: u64 = ibits == 64 ? 0x8000000000000000 : 0x80000000;
  unpackA(a, is64);
  if (isNaNCls(aCls) || aCls == C_INF) { sfRaise(SF_INVALID); return indefinite; }
  if (aCls == C_ZERO) return 0;
  // |a| = aSig * 2^(aExp - 62).
  if (aExp >= 63) {
    // -2^63 itself is representable in 64 bits (same bits as the indefinite, but no IE).
    if (!(ibits == 64 && aExp == 63 && aSign != 0 && aSig == (<u64>1 << 62))) sfRaise(SF_INVALID);
    return indefinite;
  }
  let ip: u64, rem: u64, half: u64;
  if (aExp < 0) {
    ip = 0;
    // Fraction only: compare with one half exactly.
    // aExp == -1: |a| in [1/2, 1), compared with the half exactly; below that, nonzero and under 1/2.
    if (aExp == -1) { rem = aSig; half = <u64>1 << 62; } else { rem = 1; half = 2; }
  } else {
    const sh = 62 - aExp;
    ip = sh == 0 ? aSig : aSig >> <u64>sh;
    rem = sh == 0 ? 0 : aSig & ((<u64>1 << <u64>sh) - 1);
    half = sh == 0 ? 1 : <u64>1 << <u64>(sh - 1);
  }
  if (rem != 0) {
    let up = false;
    const mode = trunc ? 3 : sfRound;
    if (mode == SF_RN) up = rem > half || (rem == half && (ip & 1) != 0);
    else if (mode == SF_RD) up = aSign != 0;
    else if (mode == SF_RU) up = aSign == 0;
    if (up) ip++;
  }
  // Range: [-2^(ibits-1), 2^(ibits-1) - 1].
  const lim: u64 = <u64>1 << <u64>(ibits - 1);
  if (aSign == 0 ? ip >= lim : ip > lim) { sfRaise(SF_INVALID); return indefinite; }
  if (rem != 0) sfRaise(SF_INEXACT);
  const r: u64 = aSign != 0 ? <u64>(-<i64>ip) : ip;
  return ibits == 64 ? r : r & 0xffffffff;
}
