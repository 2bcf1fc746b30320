// Rounding of an exact binary value to a floating-point format (IEEE 754-1985 section 4; SDM Vol. 1
// 4.8.4 "Rounding", 4.9.1.4-5 numeric overflow/underflow, 8.1.5.2 precision control), after the
// structure of Bochs's softfloat3e `softfloat_roundPackToExtF80` / `roundPackToF64`: one routine
// rounds for the 80-bit extended format at precision 24/53/64 and for the single and double formats.
//
// The value to round is (-1)^sign * (sig . extra) * 2^(exp - 63): `sig` a 64-bit significand with its
// leading one in bit 63 (normalized), `extra` 64 more bits below it (only its top bit, "half", and
// whether the rest is zero matter). The result is left in rSign / rExp / rSig as the format's
// significand M (`p` bits, leading one in bit p-1 when normal) with value M * 2^rUlp:
// rExp is the biased exponent field (0 for a denormal result), and the caller packs it.
// Tininess is detected after rounding (the rule of the Intel 64 architecture; SDM Vol. 1 4.9.1.5).
// Flags raised: SF_INEXACT, SF_UNDERFLOW (tiny and inexact, the masked response), SF_OVERFLOW.
// `rUp` reports that the magnitude was rounded up (the x87 reports it in C1, SDM Vol. 1 8.1.3.1).
import { sfRound, sfRaise, SF_RN, SF_RD, SF_RU, SF_RZ, SF_INEXACT, SF_UNDERFLOW, SF_OVERFLOW } from "./status";

export let rSig: u64 = 0;
export let rExp: i32 = 0;
export let rUp: bool = false;
/** The last rounding found the exact result tiny (below the smallest normal), inexact or not. */
export let rTiny: bool = false;

/**
 * Rounds to a format with precision `p` bits (2..64), biased exponent `bias`, largest biased
 * exponent field `emaxField` (the all-ones field is infinity/NaN), and the exponent of the unit in
 * the last place of its denormals `ulpMin` (unbiased). `wrap` != 0: the x87 unmasked overflow /
 * underflow response -- instead of an infinity or a denormal the exponent is wrapped by `wrap`
 * (SDM Vol. 1 8.5.4, 8.5.5: 24576 for the extended format); rTiny / the overflow flag still report it.
 * Returns false when the result is an infinity or the largest finite (overflow).
 */
export const WRAP_UNDER: i32 = 1;
export const WRAP_OVER: i32 = 2;
const WRAP: i32 = 24576;

export function roundPack(sign: bool, exp: i32, sig: u64, extra: u64, p: i32, bias: i32, emaxField: i32, ulpMin: i32, wrap: i32): bool {
  rUp = false; rTiny = false;
  if (sig == 0 && extra == 0) { rSig = 0; rExp = 0; return true; }
  // normalize (callers usually pass a normalized significand already)
  if (sig == 0) { sig = extra; extra = 0; exp -= 64; }
  const lz = <i32>clz<u64>(sig);
  if (lz != 0) { sig = (sig << <u64>lz) | (extra >> <u64>(64 - lz)); extra <<= <u64>lz; exp -= lz; }
  const emin = 1 - bias;               // unbiased exponent of the smallest normal
  // tininess after rounding: the value rounded to p bits with an unbounded exponent is below 2^emin
  if (exp < emin) {
    rTiny = true;
    if (exp == emin - 1) {
      roundBits(sig, extra, 64 - p, sign);
      if (rCarry) rTiny = false;
    }
  }
  let uExp = exp - (p - 1);            // exponent of the ulp at precision p
  if (uExp < ulpMin && (wrap & WRAP_UNDER) == 0) uExp = ulpMin;
  const d = (exp - 63 >= uExp) ? 0 : uExp - (exp - 63);   // bits of sig to drop
  let m = roundBits(sig, extra, d, sign);
  if (rInexact) sfRaise(SF_INEXACT);
  rUp = rIncr;
  if (rCarry) { // m became a power of two one bit longer than it was
    if (d == 0) { m = <u64>1 << 63; uExp++; }
    else if (p < 64 && (m >> <u64>p) != 0) { m >>= 1; uExp++; }
  }
  if (rTiny && (wrap & WRAP_UNDER) != 0) {
    sfRaise(SF_UNDERFLOW);
    const w = uExp + (p - 1) + bias + WRAP;
    // still below the range after the wrap: a signed zero (what the host gives)
    if (w < 1) { sfRaise(SF_INEXACT); rSig = 0; rExp = 0; rUp = false; return true; }
    rSig = m; rExp = w; return true;
  }
  if (rTiny && rInexact) sfRaise(SF_UNDERFLOW);
  // the result is m * 2^uExp; its unbiased exponent when normal:
  let eRes = uExp + (p - 1);
  const normal = m >= (<u64>1 << <u64>(p - 1));
  if ((wrap & WRAP_OVER) != 0 && eRes + bias > emaxField) {
    sfRaise(SF_OVERFLOW);
    const w = eRes + bias - WRAP;
    // still above the range after the wrap: the infinity, rounded up (what the host gives)
    if (w > emaxField) { sfRaise(SF_INEXACT); rSig = <u64>1 << <u64>(p - 1); rExp = emaxField + 1; rUp = true; return false; }
    rSig = m; rExp = w; return true;
  }
  if (eRes + bias > emaxField) {
    sfRaise(SF_OVERFLOW | SF_INEXACT);
    const toInf = sfRound == SF_RN || (sfRound == SF_RU && !sign) || (sfRound == SF_RD && sign);
    rUp = toInf;
    if (toInf) { rExp = emaxField + 1; rSig = <u64>1 << <u64>(p - 1); }
    else { rExp = emaxField; rSig = p == 64 ? 0xffffffffffffffff : (<u64>1 << <u64>p) - 1; }
    return false;
  }
  rSig = m;
  rExp = normal ? eRes + bias : 0;
  return true;
}

export let rInexact: bool = false;
export let rIncr: bool = false;
export let rCarry: bool = false;

/** (sig . extra) >> d rounded by sfRound (d >= 0); sets rInexact, rIncr, rCarry (the increment carried into a new top bit). */
export function roundBits(sig: u64, extra: u64, d: i32, sign: bool): u64 {
  let m: u64, half: bool, rest: bool;
  if (d == 0) { m = sig; half = (extra >> 63) != 0; rest = (extra << 1) != 0; }
  else if (d < 64) {
    m = sig >> <u64>d;
    const low = sig << <u64>(64 - d);     // dropped bits of sig, left-aligned
    half = (low >> 63) != 0; rest = (low << 1) != 0 || extra != 0;
  } else if (d == 64) { m = 0; half = (sig >> 63) != 0; rest = (sig << 1) != 0 || extra != 0; }
  else { m = 0; half = false; rest = sig != 0 || extra != 0; }
  rInexact = half || rest;
  let inc = false;
  switch (sfRound) {
    case SF_RN: inc = half && (rest || (m & 1) != 0); break;
    case SF_RD: inc = sign && rInexact; break;
    case SF_RU: inc = !sign && rInexact; break;
    default: inc = false; // SF_RZ
  }
  rIncr = inc;
  rCarry = false;
  if (inc) {
    const before = m;
    m++;
    // the top bit position grew (m is a power of two now and was all ones)
    rCarry = (m & before) == 0;
  }
  return m;
}

/** Forgets the last rounding's tininess (for conversions that return without rounding). */
export function clearTiny(): void { rTiny = false; }
