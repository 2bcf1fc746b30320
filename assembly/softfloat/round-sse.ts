// Binary32/binary64 unpacking and rounding for the SSE unit (the x87's extended-format rounding,
// which also rounds to these formats for FST m32/m64, is round.ts) (SDM Vol. 1 4.8 "Real Numbers and
// Floating-Point Formats", 4.8.4 "Rounding", 4.9.1.4/4.9.1.5 numeric overflow/underflow, 10.2.3.3
// FTZ, 10.2.3.4 DAZ), after the structure of Bochs's softfloat3e (`softfloat_roundPackToF32/F64`,
// `softfloat_normSubnormalF64Sig`): a finite value is (sign, exp, sig) with the significand's leading
// one at bit 62 (value = sig * 2^(exp - 62)); bits below the format's precision are round bits with
// the sticky bit jammed into bit 0. One generic path serves both formats (`is64`); the SSE unit's
// fast paths (assembly/sse/float/arith.ts) avoid it in the common case.
//
// Tininess is detected after rounding, as the SDM defines it ("the result of rounding with unbounded
// exponent is non-zero and tiny", Vol. 1 4.9.1.5). With underflow masked, UE is raised only when the
// tiny result is also inexact, and FTZ returns a signed zero with UE and PE; with underflow unmasked
// (sfUnderflowMasked = false) UE is raised for every tiny result and FTZ does not apply.
import { sfRound, sfFtz, sfDaz, sfRaise, SF_RN, SF_RD, SF_RU, SF_RZ, SF_INEXACT, SF_UNDERFLOW, SF_OVERFLOW, SF_DENORMAL } from "./status";

/** MXCSR.UM: tiny results raise UE only when inexact, and FTZ applies. Set by the caller with the mode. */
export let sfUnderflowMasked: bool = true;
export function sfSetUnderflowMasked(m: bool): void { sfUnderflowMasked = m; }
/** MXCSR.OM: with overflow unmasked, PE follows rounding at full precision (the handler's biased result). */
export let sfOverflowMasked: bool = true;
export function sfSetOverflowMasked(m: bool): void { sfOverflowMasked = m; }

// Operand classes.
export const C_ZERO: u32 = 0;
export const C_NORM: u32 = 1;   // normal, or a denormal normalized (its flag in the unpack's `den`)
export const C_INF: u32 = 2;
export const C_QNAN: u32 = 3;
export const C_SNAN: u32 = 4;

@inline export function fracBits(is64: bool): u32 { return is64 ? 52 : 23; }
@inline export function expBias(is64: bool): i32 { return is64 ? 1023 : 127; }
@inline export function expMax(is64: bool): u32 { return is64 ? 0x7ff : 0xff; }
@inline export function signShift(is64: bool): u64 { return is64 ? 63 : 31; }

// Two unpacked operands (module state: no allocation per instruction).
export let aCls: u32 = 0; export let aSign: u32 = 0; export let aExp: i32 = 0; export let aSig: u64 = 0; export let aDen: bool = false;
export let bCls: u32 = 0; export let bSign: u32 = 0; export let bExp: i32 = 0; export let bSig: u64 = 0; export let bDen: bool = false;

let uCls: u32 = 0; let uSign: u32 = 0; let uExp: i32 = 0; let uSig: u64 = 0; let uDen: bool = false;

function unpack(bits: u64, is64: bool): void {
  const F = fracBits(is64);
  uSign = <u32>(bits >> signShift(is64)) & 1;
  const ef = <u32>(bits >> F) & expMax(is64);
  const frac = bits & ((<u64>1 << F) - 1);
  uDen = false; uExp = 0; uSig = 0;
  if (ef == expMax(is64)) {
    uCls = frac == 0 ? C_INF : (frac >> (F - 1)) != 0 ? C_QNAN : C_SNAN;
    return;
  }
  if (ef == 0) {
    if (frac == 0 || sfDaz) { uCls = C_ZERO; return; }   // DAZ: a denormal reads as a zero of its sign
    uDen = true; uCls = C_NORM;
    const lz = <i32>clz<u64>(frac);          // leading one moves to bit 62
    uSig = frac << <u64>(lz - 1);
    uExp = 1 - expBias(is64) - (lz - 1 - (62 - <i32>F));
    return;
  }
  uCls = C_NORM;
  uSig = (frac | (<u64>1 << F)) << (62 - F);
  uExp = <i32>ef - expBias(is64);
}

export function unpackA(bits: u64, is64: bool): void { unpack(bits, is64); aCls = uCls; aSign = uSign; aExp = uExp; aSig = uSig; aDen = uDen; }
export function unpackB(bits: u64, is64: bool): void { unpack(bits, is64); bCls = uCls; bSign = uSign; bExp = uExp; bSig = uSig; bDen = uDen; }

/** DE when an unpacked operand was a denormal (DAZ clear). */
@inline export function denormalCheck1(): void { if (aDen) sfRaise(SF_DENORMAL); }
@inline export function denormalCheck2(): void { if (aDen || bDen) sfRaise(SF_DENORMAL); }

/** Shift right with the lost bits jammed into bit 0. */
@inline export function shrJam(v: u64, n: i32): u64 {
  if (n <= 0) return v;
  if (n >= 63) return v != 0 ? 1 : 0;
  return (v >> <u64>n) | ((v & ((<u64>1 << <u64>n) - 1)) != 0 ? 1 : 0);
}

@inline export function packZero(sign: u32, is64: bool): u64 { return <u64>sign << signShift(is64); }
@inline export function packInf(sign: u32, is64: bool): u64 { return (<u64>sign << signShift(is64)) | (<u64>expMax(is64) << fracBits(is64)); }
/** The largest finite magnitude of the format, signed. */
@inline function packMax(sign: u32, is64: bool): u64 { return packInf(sign, is64) - 1; }

/** Whether rounding `sig` with `rb` round bits increments it (round-bit pattern `low`, result lsb `lsb`). */
@inline function roundUp(sign: u32, low: u64, half: u64, lsb: u64): bool {
  if (low == 0) return false;
  switch (sfRound) {
    case SF_RN: return low > half || (low == half && lsb != 0);
    case SF_RD: return sign != 0;
    case SF_RU: return sign == 0;
  }
  return false; // SF_RZ
}

/**
 * Rounds (sign, exp, sig) -- sig's leading one at bit 62 or 63, sticky in bit 0 -- to the format,
 * raising PE/UE/OE as the SDM defines, with FTZ. Returns the packed bits.
 */
export function roundPack(sign: u32, exp: i32, sig: u64, is64: bool): u64 {
  if (sig == 0) return packZero(sign, is64);
  if ((sig >> 63) != 0) { sig = shrJam(sig, 1); exp++; }
  const F = <i32>fracBits(is64);
  const rb = 62 - F;                            // round bits below the lsb
  const rmask = (<u64>1 << <u64>rb) - 1;
  const half = <u64>1 << <u64>(rb - 1);
  let be = exp + expBias(is64);                 // biased exponent of the leading one
  if (be <= 0) {
    // Tiny before rounding; after rounding with unbounded exponent it stays tiny unless it carries to 2^emin.
    let tiny = true;
    if (be == 0) {
      const low = sig & rmask;
      const m = (sig >> <u64>rb) + (roundUp(sign, low, half, (sig >> <u64>rb) & 1) ? 1 : 0);
      if ((m >> <u64>(F + 1)) != 0) tiny = false;
    }
    if (tiny && sfFtz && sfUnderflowMasked) { sfRaise(SF_UNDERFLOW | SF_INEXACT); return packZero(sign, is64); }
    // Unmasked underflow: the handler would get the result with a biased exponent (not written by
    // SSE), so PE follows rounding at full precision, and UE is raised for every tiny result.
    if (tiny && !sfUnderflowMasked) { sfRaise(SF_UNDERFLOW | ((sig & rmask) != 0 ? SF_INEXACT : 0)); return packZero(sign, is64); }
    // Denormalize: the leading one moves to bit 62 - (1 - be), exponent field 0.
    const d = shrJam(sig, 1 - be);
    const low = d & rmask;
    let m = d >> <u64>rb;
    if (roundUp(sign, low, half, m & 1)) m++;
    if (low != 0) sfRaise(SF_INEXACT);
    if (tiny && low != 0) sfRaise(SF_UNDERFLOW);
    // m < 2^F is a denormal; m == 2^F packs as the smallest normal (exponent field 1).
    return (<u64>sign << signShift(is64)) | m;
  }
  const low = sig & rmask;
  let m = sig >> <u64>rb;                       // F+1 bits with the implicit one
  if (roundUp(sign, low, half, m & 1)) {
    m++;
    if ((m >> <u64>(F + 1)) != 0) { m >>= 1; be++; }
  }
  if (be >= <i32>expMax(is64)) {
    if (!sfOverflowMasked) { sfRaise(SF_OVERFLOW | (low != 0 ? SF_INEXACT : 0)); return packInf(sign, is64); }
    sfRaise(SF_OVERFLOW | SF_INEXACT);
    const toInf = sfRound == SF_RN || (sfRound == SF_RU && sign == 0) || (sfRound == SF_RD && sign != 0);
    return toInf ? packInf(sign, is64) : packMax(sign, is64);
  }
  if (low != 0) sfRaise(SF_INEXACT);
  return (<u64>sign << signShift(is64)) | (<u64>be << <u64>F) | (m & ((<u64>1 << <u64>F) - 1));
}

/** Normalizes a nonzero sig so its leading one is at bit 62, returning the exponent adjustment. */
@inline export function normShift(sig: u64): i32 { return <i32>clz<u64>(sig) - 1; }

export { SF_RZ };
