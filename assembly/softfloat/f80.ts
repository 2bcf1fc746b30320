// The 80-bit double extended-precision format (SDM Vol. 1 4.2.2, 4.8.3 Table 4-3; 8.2.2 unsupported
// encodings) and its basic arithmetic, after the structure of Bochs's softfloat3e extF80 routines
// (extF80_addsub, extF80_mul, extF80_div, extF80_sqrt, extF80_roundToInt, extF80_compare; the
// x87 rules of Bochs's fpu/): an operand is a sign-and-exponent half `se` (bit 15 sign, 14-0 biased
// exponent) and a 64-bit significand `sig` with an explicit integer bit J (bit 63).
// Results are left in f80Se / f80Sig. Every operation reports through status.ts (sfRaise) and
// rounds with sfRound; precision control `p` (24, 53 or 64 bits, SDM Vol. 1 8.1.5.2) applies to
// add/sub/mul/div/sqrt. Unsupported encodings (unnormals, pseudo-NaNs, pseudo-infinities) are
// invalid operands (SDM Vol. 1 8.2.2); pseudo-denormals are read as denormals (exponent 1).
// NaN operands follow SDM Vol. 1 Table 4-7 (x87 column); the default NaN is the QNaN floating-point
// indefinite (sign 1, exponent 0x7FFF, significand 0xC000000000000000, Table 4-3).
// The x87 unmasked overflow/underflow response (exponent wrapped by 24576) is `f80Wrap`.
import { sfRound, sfRaise, SF_RD, SF_INVALID, SF_DENORMAL, SF_DIVBYZERO } from "./status";
import { roundPack, roundBits, clearTiny, rSig, rExp, rUp, rInexact, rIncr } from "./round";
import { SF_INEXACT } from "./status";

export const BIAS: i32 = 16383;
export const J: u64 = 0x8000000000000000;
export const QNAN_SE: u32 = 0xffff;
export const QNAN_SIG: u64 = 0xc000000000000000;

export let f80Se: u32 = 0;
export let f80Sig: u64 = 0;
/** The last rounding increased the magnitude (the x87 reports it in C1). */
export let f80Up: bool = false;
/** WRAP_UNDER | WRAP_OVER of round.ts for the next x87 arithmetic result (unmasked UE / OE). */
export let f80Wrap: i32 = 0;
export function setF80Wrap(w: i32): void { f80Wrap = w; }

@inline export function isNaN80(se: u32, sig: u64): bool { return (se & 0x7fff) == 0x7fff && (sig >> 63) != 0 && (sig << 1) != 0; }
@inline export function isSNaN80(se: u32, sig: u64): bool { return isNaN80(se, sig) && (sig & 0x4000000000000000) == 0; }
@inline export function isInf80(se: u32, sig: u64): bool { return (se & 0x7fff) == 0x7fff && sig == J; }
@inline export function isZero80(se: u32, sig: u64): bool { return (se & 0x7fff) == 0 && sig == 0; }
/** Denormal or pseudo-denormal: exponent 0, significand not zero. */
@inline export function isDenormal80(se: u32, sig: u64): bool { return (se & 0x7fff) == 0 && sig != 0; }
/** Unnormal, pseudo-NaN, pseudo-infinity: exponent not 0 and J clear (SDM Vol. 1 8.2.2). */
@inline export function isUnsupported80(se: u32, sig: u64): bool { return (se & 0x7fff) != 0 && (sig >> 63) == 0; }

/** Sets the result to an exact value (no rounding). */
export function setResult(se: u32, sig: u64): void { f80Se = se; f80Sig = sig; f80Up = false; }
export function defaultNaN(): void { setResult(QNAN_SE, QNAN_SIG); }

// ---- unpacked operands: value = (-1)^sign * sig * 2^(e - 63), sig normalized (J set) unless zero
export let aSign: bool = false; export let aE: i32 = 0; export let aSig: u64 = 0;
export let bSign: bool = false; export let bE: i32 = 0; export let bSig: u64 = 0;

export function unpackA(se: u32, sig: u64): void {
  aSign = (se & 0x8000) != 0; aSig = sig;
  const ex = <i32>(se & 0x7fff);
  if (ex == 0) {
    if (sig == 0) { aE = 0; return; }
    const lz = <i32>clz<u64>(sig); aSig = sig << <u64>lz; aE = 1 - BIAS - lz;
  } else aE = ex - BIAS;
}
export function unpackB(se: u32, sig: u64): void {
  bSign = (se & 0x8000) != 0; bSig = sig;
  const ex = <i32>(se & 0x7fff);
  if (ex == 0) {
    if (sig == 0) { bE = 0; return; }
    const lz = <i32>clz<u64>(sig); bSig = sig << <u64>lz; bE = 1 - BIAS - lz;
  } else bE = ex - BIAS;
}

/**
 * Rounds (-1)^sign * (sig . extra) * 2^(e-63) to the extended format at precision p into f80Se/f80Sig.
 * `wrap` (round.ts WRAP_*) applies the x87 unmasked overflow/underflow response.
 */
export function packF80(sign: bool, e: i32, sig: u64, extra: u64, p: i32, wrap: i32): void {
  if (sig == 0 && extra == 0) { setResult(sign ? 0x8000 : 0, 0); return; }
  roundPack(sign, e, sig, extra, p, BIAS, 0x7ffe, -16381 - p, wrap);
  f80Se = (sign ? 0x8000 : 0) | (<u32>rExp & 0x7fff);
  f80Sig = rSig << <u64>(64 - p);
  f80Up = rUp;
}

/** Result of an operation with at least one NaN operand (SDM Vol. 1 Table 4-7, x87 column); IE for an SNaN. */
export function propagateNaN(se1: u32, sig1: u64, se2: u32, sig2: u64): void {
  const n1 = isNaN80(se1, sig1), n2 = isNaN80(se2, sig2);
  if (isSNaN80(se1, sig1) || isSNaN80(se2, sig2)) sfRaise(SF_INVALID);
  const q1 = sig1 | 0x4000000000000000, q2 = sig2 | 0x4000000000000000;
  if (n1 && n2) {
    const s1 = isSNaN80(se1, sig1), s2 = isSNaN80(se2, sig2);
    if (s1 != s2) { if (s1) setResult(se2, q2); else setResult(se1, q1); return; } // SNaN and QNaN: the QNaN
    if (q1 > q2) { setResult(se1, q1); return; }
    if (q2 > q1) { setResult(se2, q2); return; }
    setResult(se1 < se2 ? se1 : se2, q1); return;
  }
  if (n1) setResult(se1, q1); else setResult(se2, q2);
}

/** The common start of a two-operand operation: true when the result is decided (invalid or NaN). */
function specials2(se1: u32, sig1: u64, se2: u32, sig2: u64): bool {
  if (isUnsupported80(se1, sig1) || isUnsupported80(se2, sig2)) { sfRaise(SF_INVALID); defaultNaN(); return true; }
  if (isNaN80(se1, sig1) || isNaN80(se2, sig2)) { propagateNaN(se1, sig1, se2, sig2); return true; }
  if (isDenormal80(se1, sig1) || isDenormal80(se2, sig2)) sfRaise(SF_DENORMAL);
  return false;
}

/** a + b (negB: a - b) at precision p. */
export function f80Add(se1: u32, sig1: u64, se2: u32, sig2: u64, negB: bool, p: i32): void {
  if (specials2(se1, sig1, se2, sig2)) return;
  if (negB) se2 ^= 0x8000;
  const inf1 = isInf80(se1, sig1), inf2 = isInf80(se2, sig2);
  if (inf1 || inf2) {
    if (inf1 && inf2 && ((se1 ^ se2) & 0x8000) != 0) { sfRaise(SF_INVALID); defaultNaN(); return; }
    setResult(inf1 ? se1 : se2, J); return;
  }
  unpackA(se1, sig1); unpackB(se2, sig2);
  const z1 = sig1 == 0, z2 = sig2 == 0;
  if (z1 && z2) {
    const s = aSign == bSign ? aSign : sfRound == SF_RD;
    setResult(s ? 0x8000 : 0, 0); return;
  }
  if (z2) { packF80(aSign, aE, aSig, 0, p, f80Wrap); return; }
  if (z1) { packF80(bSign, bE, bSig, 0, p, f80Wrap); return; }
  addMags(p);
}

/** The finite nonzero case of f80Add on the unpacked operands. */
function addMags(p: i32): void {
  let sA = aSign, eA = aE, mA = aSig, sB = bSign, eB = bE, mB = bSig;
  if (eA < eB || (eA == eB && mA < mB)) { sA = bSign; eA = bE; mA = bSig; sB = aSign; eB = aE; mB = aSig; }
  const d = eA - eB;
  let bh: u64, bl: u64;
  if (d == 0) { bh = mB; bl = 0; }
  else if (d < 64) { bh = mB >> <u64>d; bl = mB << <u64>(64 - d); }
  else if (d < 128) { bh = 0; bl = d == 64 ? mB : (mB >> <u64>(d - 64)) | ((mB << <u64>(128 - d)) != 0 ? 1 : 0); }
  else { bh = 0; bl = 1; }
  if (sA == sB) {
    const lo = bl;
    const hi = mA + bh;
    if (hi < mA) { // carry out: shift right one, jamming
      packF80(sA, eA + 1, (hi >> 1) | J, (lo >> 1) | (hi << 63) | (lo & 1), p, f80Wrap); return;
    }
    packF80(sA, eA, hi, lo, p, f80Wrap); return;
  }
  const lo = <u64>0 - bl;
  const hi = mA - bh - (bl != 0 ? 1 : 0);
  if (hi == 0 && lo == 0) { setResult(sfRound == SF_RD ? 0x8000 : 0, 0); return; }
  packF80(sA, eA, hi, lo, p, f80Wrap);
}

/** hi:lo = a * b (128-bit product). */
export let mulHi: u64 = 0;
export function mul64(a: u64, b: u64): u64 {
  const a0 = a & 0xffffffff, a1 = a >> 32, b0 = b & 0xffffffff, b1 = b >> 32;
  const p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const mid = (p00 >> 32) + (p01 & 0xffffffff) + (p10 & 0xffffffff);
  mulHi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
  return (mid << 32) | (p00 & 0xffffffff);
}

/** a * b at precision p. */
export function f80Mul(se1: u32, sig1: u64, se2: u32, sig2: u64, p: i32): void {
  if (specials2(se1, sig1, se2, sig2)) return;
  const sign = ((se1 ^ se2) & 0x8000) != 0;
  const inf1 = isInf80(se1, sig1), inf2 = isInf80(se2, sig2);
  const z1 = isZero80(se1, sig1), z2 = isZero80(se2, sig2);
  if (inf1 || inf2) {
    if (z1 || z2) { sfRaise(SF_INVALID); defaultNaN(); return; }
    setResult(sign ? 0xffff : 0x7fff, J); return;
  }
  if (z1 || z2) { setResult(sign ? 0x8000 : 0, 0); return; }
  unpackA(se1, sig1); unpackB(se2, sig2);
  const lo = mul64(aSig, bSig);
  packF80(sign, aE + bE + 1, mulHi, lo, p, f80Wrap);
}

/** Quotient bits of a / b for normalized a, b: q = floor(a * 2^63 / b) (a >= b) or floor(a * 2^64 / b); divExtra: the rounding bits. */
export let divExtra: u64 = 0;
export function divSig(a: u64, b: u64): u64 {
  let q: u64 = 0, r = a, n = 64;
  if (a >= b) { q = 1; r = a - b; n = 63; }
  for (let i = 0; i < n; i++) {
    const top = r >> 63;
    r <<= 1; q <<= 1;
    if (top != 0 || r >= b) { r -= b; q |= 1; }
  }
  // rounding bits from the remainder r < b: 2r against b
  if (r == 0) divExtra = 0;
  else {
    const top = r >> 63, r2 = r << 1;
    divExtra = (top != 0 || r2 > b) ? 0xc000000000000000 : r2 == b ? 0x8000000000000000 : 1;
  }
  return q;
}

/** a / b at precision p. */
export function f80Div(se1: u32, sig1: u64, se2: u32, sig2: u64, p: i32): void {
  // x / 0 is ZE alone, even for a denormal x (the host; Bochs extF80_div checks the divisor first)
  if (!isUnsupported80(se1, sig1) && !isNaN80(se1, sig1) && isZero80(se2, sig2) && isDenormal80(se1, sig1)) {
    sfRaise(SF_DIVBYZERO); setResult(((se1 ^ se2) & 0x8000) | 0x7fff, J); return;
  }
  if (specials2(se1, sig1, se2, sig2)) return;
  const sign = ((se1 ^ se2) & 0x8000) != 0;
  const inf1 = isInf80(se1, sig1), inf2 = isInf80(se2, sig2);
  const z1 = isZero80(se1, sig1), z2 = isZero80(se2, sig2);
  if (inf1) {
    if (inf2) { sfRaise(SF_INVALID); defaultNaN(); return; }
    setResult(sign ? 0xffff : 0x7fff, J); return;
  }
  if (inf2) { setResult(sign ? 0x8000 : 0, 0); return; }
  if (z2) {
    if (z1) { sfRaise(SF_INVALID); defaultNaN(); return; }
    sfRaise(SF_DIVBYZERO); setResult(sign ? 0xffff : 0x7fff, J); return;
  }
  if (z1) { setResult(sign ? 0x8000 : 0, 0); return; }
  unpackA(se1, sig1); unpackB(se2, sig2);
  const e = aSig >= bSig ? aE - bE : aE - bE - 1;
  const q = divSig(aSig, bSig);
  packF80(sign, e, q, divExtra, p, f80Wrap);
}

/** sqrt(a) at precision p. */
export function f80Sqrt(se: u32, sig: u64, p: i32): void {
  if (isUnsupported80(se, sig)) { sfRaise(SF_INVALID); defaultNaN(); return; }
  if (isNaN80(se, sig)) { propagateNaN(se, sig, se, sig); return; }
  if (isZero80(se, sig)) { setResult(se, 0); return; }
  const neg = (se & 0x8000) != 0;
  if (neg) { sfRaise(SF_INVALID); defaultNaN(); return; }
  if (isInf80(se, sig)) { setResult(se, sig); return; }
  if (isDenormal80(se, sig)) sfRaise(SF_DENORMAL);
  unpackA(se, sig);
  const odd = (aE & 1) != 0;
  let nh: u64 = odd ? aSig : aSig >> 1, nl: u64 = odd ? 0 : aSig << 63;
  let rh: u64 = 0, rl: u64 = 0, bh: u64 = <u64>1 << 62, bl: u64 = 0;
  for (let i = 0; i < 64; i++) {
    const tl = rl + bl; const th = rh + bh + (tl < rl ? 1 : 0);
    const ge = nh > th || (nh == th && nl >= tl);
    rl = (rl >> 1) | (rh << 63); rh >>= 1;
    if (ge) {
      const borrow: u64 = nl < tl ? 1 : 0; nl -= tl; nh = nh - th - borrow;
      const s = rl + bl; rh += bh + (s < rl ? 1 : 0); rl = s;
    }
    bl = (bl >> 2) | (bh << 62); bh >>= 2;
  }
  const extra: u64 = (nh == 0 && nl == 0) ? 0 : (nh != 0 || nl > rl) ? 0xc000000000000000 : 1;
  packF80(false, aE >> 1, rl, extra, p, f80Wrap);
}

/** Rounds to an integral value by sfRound (FRNDINT; SDM Vol. 2A FRNDINT): PE when inexact, f80Up when rounded up. */
export function f80RoundToInt(se: u32, sig: u64): void {
  if (isUnsupported80(se, sig)) { sfRaise(SF_INVALID); defaultNaN(); return; }
  if (isNaN80(se, sig)) { propagateNaN(se, sig, se, sig); return; }
  if (isInf80(se, sig) || isZero80(se, sig)) { setResult(se, sig); return; }
  if (isDenormal80(se, sig)) sfRaise(SF_DENORMAL);
  unpackA(se, sig);
  if (aE >= 63) { setResult(se, sig); return; }
  const m = roundBits(aSig, 0, 63 - aE, aSign);
  if (rInexact) sfRaise(SF_INEXACT);
  const s: u32 = aSign ? 0x8000 : 0;
  if (m == 0) { f80Se = s; f80Sig = 0; f80Up = rIncr; return; }
  const lz = <i32>clz<u64>(m);
  f80Se = s | <u32>(BIAS + 63 - lz); f80Sig = m << <u64>lz; f80Up = rIncr;
}

/** Integer of a rounded by sfRound into i64 with range check against [-2^(bits-1), 2^(bits-1)); false = invalid (IE raised). */
export let intResult: i64 = 0;
export function f80ToInt(se: u32, sig: u64, bits: i32): bool {
  if (isUnsupported80(se, sig) || (se & 0x7fff) == 0x7fff) { sfRaise(SF_INVALID); return false; }
  if (isZero80(se, sig)) { intResult = 0; f80Up = false; return true; }
  unpackA(se, sig);
  let m: u64;
  let inexact = false, up = false;
  if (aE >= 63) {
    if (aE > 63) { sfRaise(SF_INVALID); return false; }
    m = aSig;
  } else {
    m = roundBits(aSig, 0, 63 - aE, aSign); inexact = rInexact; up = rIncr;
  }
  // range: m <= 2^(bits-1) - 1, or m == 2^(bits-1) when negative
  const lim: u64 = <u64>1 << <u64>(bits - 1);
  if (m > lim || (m == lim && !aSign)) { sfRaise(SF_INVALID); return false; }
  if (inexact) sfRaise(SF_INEXACT);
  f80Up = up;
  intResult = aSign ? -(<i64>m) : <i64>m;
  return true;
}

/** Converts a signed integer exactly (FILD). */
export function f80FromInt(v: i64): void {
  if (v == 0) { setResult(0, 0); return; }
  const s: u32 = v < 0 ? 0x8000 : 0;
  const m: u64 = v < 0 ? <u64>(-v) : <u64>v;
  const lz = <i32>clz<u64>(m);
  setResult(s | <u32>(BIAS + 63 - lz), m << <u64>lz);
}

/**
 * Converts single-precision bits exactly (FLD m32): DE for a denormal, IE for an SNaN (made quiet).
 * `keepSNaN`: an SNaN stays signalling and raises nothing here (an arithmetic operand: the operation
 * applies the NaN rules with the operand still an SNaN).
 */
export function f80FromF32(v: u32, keepSNaN: bool = false): void {
  const s: u32 = (v >> 31) << 15, ex = (v >> 23) & 0xff;
  const frac = <u64>(v & 0x7fffff);
  if (ex == 0xff) {
    if (frac == 0) { setResult(s | 0x7fff, J); return; }
    if (keepSNaN) { setResult(s | 0x7fff, J | (frac << 40)); return; }
    if ((frac & 0x400000) == 0) sfRaise(SF_INVALID);
    setResult(s | 0x7fff, J | 0x4000000000000000 | (frac << 40)); return;
  }
  if (ex == 0) {
    if (frac == 0) { setResult(s, 0); return; }
    sfRaise(SF_DENORMAL);
    const lz = <i32>clz<u64>(frac);  // frac < 2^23
    setResult(s | <u32>(BIAS - 126 - (lz - 40)), frac << <u64>lz); return;
  }
  setResult(s | (ex - 127 + <u32>BIAS), J | (frac << 40));
}

/** Converts double-precision bits exactly (FLD m64). */
export function f80FromF64(v: u64, keepSNaN: bool = false): void {
  const s: u32 = <u32>(v >> 63) << 15, ex = <u32>((v >> 52) & 0x7ff);
  const frac = v & 0xfffffffffffff;
  if (ex == 0x7ff) {
    if (frac == 0) { setResult(s | 0x7fff, J); return; }
    if (keepSNaN) { setResult(s | 0x7fff, J | (frac << 11)); return; }
    if ((frac & 0x8000000000000) == 0) sfRaise(SF_INVALID);
    setResult(s | 0x7fff, J | 0x4000000000000000 | (frac << 11)); return;
  }
  if (ex == 0) {
    if (frac == 0) { setResult(s, 0); return; }
    sfRaise(SF_DENORMAL);
    const lz = <i32>clz<u64>(frac);
    setResult(s | <u32>(BIAS - 1022 - (lz - 11)), frac << <u64>lz); return;
  }
  setResult(s | (ex - 1023 + <u32>BIAS), J | (frac << 11));
}

/** Rounds to single precision by sfRound (FST m32); f80Up is C1. Returns the bits. */
export function f80ToF32(se: u32, sig: u64): u32 {
  const s: u32 = (se & 0x8000) << 16;
  f80Up = false; clearTiny();
  if (isUnsupported80(se, sig)) { sfRaise(SF_INVALID); return 0xffc00000; }
  if (isNaN80(se, sig)) {
    if (isSNaN80(se, sig)) sfRaise(SF_INVALID);
    return s | 0x7fc00000 | <u32>((sig >> 40) & 0x7fffff);
  }
  if (isInf80(se, sig)) return s | 0x7f800000;
  if (isZero80(se, sig)) return s;
  unpackA(se, sig);
  roundPack(aSign, aE, aSig, 0, 24, 127, 254, -149, 0);
  f80Up = rUp;
  if (rExp == 0) return s | <u32>rSig;
  return s | (<u32>rExp << 23) | (<u32>rSig & 0x7fffff);
}

/** Rounds to double precision by sfRound (FST m64). */
export function f80ToF64(se: u32, sig: u64): u64 {
  const s: u64 = <u64>(se & 0x8000) << 48;
  f80Up = false; clearTiny();
  if (isUnsupported80(se, sig)) { sfRaise(SF_INVALID); return 0xfff8000000000000; }
  if (isNaN80(se, sig)) {
    if (isSNaN80(se, sig)) sfRaise(SF_INVALID);
    return s | 0x7ff8000000000000 | ((sig >> 11) & 0xfffffffffffff);
  }
  if (isInf80(se, sig)) return s | 0x7ff0000000000000;
  if (isZero80(se, sig)) return s;
  unpackA(se, sig);
  roundPack(aSign, aE, aSig, 0, 53, 1023, 2046, -1074, 0);
  f80Up = rUp;
  if (rExp == 0) return s | rSig;
  return s | (<u64>rExp << 52) | (rSig & 0xfffffffffffff);
}

/**
 * Compares a with b (SDM Vol. 2A FCOM/FUCOM): 0 equal, 1 a < b, 2 a > b, 3 unordered. `quiet`:
 * only an SNaN (or unsupported operand) raises IE; otherwise every NaN does. DE for a denormal.
 */
export function f80Compare(se1: u32, sig1: u64, se2: u32, sig2: u64, quiet: bool): i32 {
  if (isUnsupported80(se1, sig1) || isUnsupported80(se2, sig2)) { sfRaise(SF_INVALID); return 3; }
  const n1 = isNaN80(se1, sig1), n2 = isNaN80(se2, sig2);
  if (n1 || n2) {
    if (!quiet || isSNaN80(se1, sig1) || isSNaN80(se2, sig2)) sfRaise(SF_INVALID);
    return 3;
  }
  if (isDenormal80(se1, sig1) || isDenormal80(se2, sig2)) sfRaise(SF_DENORMAL);
  const z1 = isZero80(se1, sig1), z2 = isZero80(se2, sig2);
  if (z1 && z2) return 0;
  const s1 = (se1 & 0x8000) != 0, s2 = (se2 & 0x8000) != 0;
  if (z1) return s2 ? 2 : 1;
  if (z2) return s1 ? 1 : 2;
  if (s1 != s2) return s1 ? 1 : 2;
  unpackA(se1, sig1); unpackB(se2, sig2);
  if (aE == bE && aSig == bSig) return 0;
  const magLess = aE < bE || (aE == bE && aSig < bSig);
  return (magLess != s1) ? 1 : 2;
}
