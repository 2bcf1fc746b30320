// x87 transcendental instructions (SDM Vol. 1 8.3.8 "Trigonometric Instructions", 8.3.9 "Logarithmic,
// Exponential, and Scale", 8.3.10 "Transcendental Instruction Accuracy"; Vol. 2A FSIN, FCOS,
// FSINCOS, FPTAN, FPATAN, F2XM1, FYL2X, FYL2XP1 and their special-operand tables).
// Working precision: double-double (softfloat/dd.ts, ~106 bits), rounded once to 64 bits by FCW.RC
// (the precision control does not apply); PE is set for every inexact result, C1 = rounded up.
// FSIN/FCOS/FSINCOS/FPTAN reduce the argument exactly by the 66-bit pi the SDM describes (8.3.8:
// x - k * pi66/2 in integer arithmetic), so large arguments agree with that definition; |x| >= 2^63
// sets C2 and leaves the operand unchanged. Exact results the SDM documents are exact here: FPTAN
// pushes 1.0, sin/tan of +-0 are +-0, cos 0 = 1, F2XM1(+-0) = +-0, FYL2X(1) = 0.
// The error bound measured against the host is stated in test/x87.test.ts.
import { sfFlags, sfRaise, SF_INVALID, SF_DENORMAL, SF_DIVBYZERO, SF_INEXACT } from "../softfloat/status";
import {
  f80Se, f80Sig, f80Up, packF80, propagateNaN, defaultNaN, setResult, f80Mul, f80Div,
  isNaN80, isInf80, isZero80, isDenormal80, isUnsupported80, unpackA, aSign, aE, aSig, unpackB, bSign, bE, bSig, mul64, mulHi,
  J, BIAS, QNAN_SE, QNAN_SIG,
} from "../softfloat/f80";
import { ddHi, ddLo, ddAdd, ddMul, ddDiv, ddSinCos, sinH, sinL, cosH, cosL, ddExpm1, pow2, LN2_H, LN2_L, PIO2_H, PIO2_L } from "../softfloat/dd";
import { fpBegin, fpFlags, fpRoundedC1, setC1, stEmpty, stSe, stSig, setSt, push, pop, stackUnderflow, stackOverflowPush, fsw, setFsw, FSW_C2 } from "./stack";

// ---- conversions between the extended format and double-doubles -------------------------------

/** dd = sig * 2^(e - 63 + scale) for a normalized sig; the exponent must stay in the double range. */
function toDD(sign: bool, e: i32, sig: u64, scale: i32): void {
  const h = <f64>(sig >> 11) * pow2(e + scale - 52);
  const l = <f64>(sig & 0x7ff) * pow2(e + scale - 63);
  ddHi = sign ? -h : h; ddLo = sign ? -l : l;
}

// a double-double as a 128-bit significand: (-1)^xSign * (xHi . xLo) * 2^(xE - 63)
let xSign = false; let xE: i32 = 0; let xHi: u64 = 0; let xLo: u64 = 0;
function ddTo128(h: f64, l: f64): void {
  xSign = h < 0;
  if (xSign) { h = -h; l = -l; }
  const hb = reinterpret<u64>(h);
  const eh = <i32>((hb >> 52) & 0x7ff) - 1075;
  const mh = (hb & 0xfffffffffffff) | 0x10000000000000;
  let hi: u64 = mh << 11, lo: u64 = 0; // value = (hi . lo) * 2^(eh + 11 - 64 + 64) ... scaled below
  if (l != 0) {
    const neg = l < 0;
    const lb = reinterpret<u64>(neg ? -l : l);
    const el = <i32>((lb >> 52) & 0x7ff) - 1075;
    const ml = (lb & 0xfffffffffffff) | 0x10000000000000;
    // ml * 2^el in units of 2^(eh - 75) (the unit of bit 0 of lo): shift = el - eh + 75
    const sh = el - eh + 75;
    let ah: u64 = 0, al: u64 = 0;
    if (sh >= 64) { ah = ml << <u64>(sh - 64); al = 0; }
    else if (sh > 0) { ah = ml >> <u64>(64 - sh); al = ml << <u64>sh; }
    else if (sh == 0) { al = ml; }
    else if (sh > -64) { al = (ml >> <u64>(-sh)) | ((ml << <u64>(64 + sh)) != 0 ? 1 : 0); }
    else al = 1;
    if (!neg) { const s = lo + al; hi += ah + (s < lo ? 1 : 0); lo = s; }
    else { const b: u64 = lo < al ? 1 : 0; lo -= al; hi = hi - ah - b; }
  }
  // (hi . lo) with hi's bit 63 the top of mh: value = hi * 2^(eh + 52 - 63)
  xE = eh + 52;
  if ((hi >> 63) == 0) { hi = (hi << 1) | (lo >> 63); lo <<= 1; xE--; }
  xHi = hi; xLo = lo;
}
/** Rounds a double-double times 2^scale to the extended format (64 bits, FCW.RC) into f80Se/f80Sig. */
function fromDD(h: f64, l: f64, scale: i32): void {
  if (h == 0) { setResult(0, 0); return; }
  ddTo128(h, l);
  packF80(xSign, xE + scale, xHi, xLo, 64, 0);
}

// ---- FSIN FCOS FSINCOS FPTAN ----------------------------------------------------------------

// pi/2 to 66 bits (SDM Vol. 1 8.3.8): Q * 2^-65 with Q = 0x3_243F6A88_85A308D3
const Q_HI: u64 = 3; const Q_LO: u64 = 0x243f6a8885a308d3;
let redQ: u32 = 0; // quotient mod 4
/**
 * Reduces |x| (aE, aSig) by pi66/2: leaves r in ddHi/ddLo (|r| <= pi/4) and the quotient mod 4 in redQ.
 */
function reduce(): void {
  if (aE < -1) { toDD(false, aE, aSig, 0); redQ = 0; return; }
  // N = aSig << (aE + 2), 64..128 bits; long division by Q bit by bit, from the top
  const nbits = 64 + aE + 2;
  let rh: u64 = 0, rl: u64 = 0, q: u32 = 0;
  for (let i = nbits - 1; i >= 0; i--) {
    const bit: u64 = i >= aE + 2 ? (aSig >> <u64>(i - aE - 2)) & 1 : 0;
    rh = (rh << 1) | (rl >> 63); rl = (rl << 1) | bit;
    q <<= 1;
    if (rh > Q_HI || (rh == Q_HI && rl >= Q_LO)) { const b: u64 = rl < Q_LO ? 1 : 0; rl -= Q_LO; rh = rh - Q_HI - b; q |= 1; }
  }
  // R = rh:rl < Q (66 bits); if R > Q/2 use R - Q
  let neg = false;
  const halfH = Q_HI >> 1, halfL = (Q_LO >> 1) | (Q_HI << 63);
  if (rh > halfH || (rh == halfH && rl > halfL)) {
    const b: u64 = Q_LO < rl ? 1 : 0; rl = Q_LO - rl; rh = Q_HI - rh - b; neg = true; q++;
  }
  redQ = q & 3;
  if (rh == 0 && rl == 0) { ddHi = 0; ddLo = 0; return; }
  // R (up to 66 bits) * 2^-65 as a double-double
  let m: u64, e: i32; // normalized 64-bit significand of R and its exponent
  if (rh != 0) { const s = <i32>clz<u64>(rh); m = (rh << <u64>s) | (rl >> <u64>(64 - s)); e = 127 - s; }
  else { const s = <i32>clz<u64>(rl); m = rl << <u64>s; e = 63 - s; }
  // bits of R below m's 64 are dropped only when R has 65-66 bits (at most 2, exact in dd otherwise)
  toDD(neg, e - 65, m, 0);
  if (rh != 0) {
    const s = <i32>clz<u64>(rh);
    const lost = rl & ((<u64>1 << <u64>(64 - s)) - 1);
    if (lost != 0) ddAdd(ddHi, ddLo, (neg ? -1.0 : 1.0) * <f64>lost * pow2(-65), 0);
  }
}

/** D9 FE FSIN, FF FCOS, FB FSINCOS, F2 FPTAN. */
function trig(m: u32): void {
  const pushes = m == 0xfb || m == 0xf2;
  if (stEmpty(0)) {
    if (!stackUnderflow()) return;
    setSt(0, QNAN_SE, QNAN_SIG);
    if (pushes) { if (!stEmpty(7)) { stackOverflowPush(); return; } push(QNAN_SE, QNAN_SIG); }
    return;
  }
  if (pushes && !stEmpty(7)) { stackOverflowPush(); return; }
  const se = stSe(0), sig = stSig(0);
  let r1se: u32 = 0, r1sig: u64 = 0, r2se: u32 = 0, r2sig: u64 = 0; // ST(0) result, pushed result
  if (isUnsupported80(se, sig) || isInf80(se, sig)) { sfRaise(SF_INVALID); r1se = QNAN_SE; r1sig = QNAN_SIG; r2se = QNAN_SE; r2sig = QNAN_SIG; }
  else if (isNaN80(se, sig)) { propagateNaN(se, sig, se, sig); r1se = f80Se; r1sig = f80Sig; r2se = f80Se; r2sig = f80Sig; }
  else if (<i32>(se & 0x7fff) >= BIAS + 63) { setFsw(fsw() | FSW_C2); return; } // out of range: C2 = 1, unchanged
  else if (isZero80(se, sig)) {
    if (m == 0xff) { r1se = BIAS; r1sig = J; }
    else if (m == 0xfb) { r1se = se; r1sig = 0; r2se = BIAS; r2sig = J; }
    else if (m == 0xf2) { r1se = se; r1sig = 0; r2se = BIAS; r2sig = J; }
    else { r1se = se; r1sig = 0; }
  } else {
    if (isDenormal80(se, sig)) sfRaise(SF_DENORMAL);
    unpackA(se, sig);
    const neg = aSign;
    let up1 = false, up2 = false;
    if (aE < -900) {
      // sin x = x - x^3/6, tan x = x + x^3/3, cos x = 1 - x^2/2: one rounding of a value just off x or 1
      const ONES: u64 = 0xffffffffffffffff;
      if (m == 0xfe || m == 0xfb) { packF80(neg, aE, aSig - 1, ONES, 64, 0); r1se = f80Se; r1sig = f80Sig; up1 = f80Up; }
      if (m == 0xf2) { packF80(neg, aE, aSig, 1, 64, 0); r1se = f80Se; r1sig = f80Sig; up1 = f80Up; r2se = BIAS; r2sig = J; }
      if (m == 0xff) { packF80(false, 0, J - 1, ONES, 64, 0); r1se = f80Se; r1sig = f80Sig; up1 = f80Up; }
      if (m == 0xfb) { packF80(false, 0, J - 1, ONES, 64, 0); r2se = f80Se; r2sig = f80Sig; up2 = f80Up; }
      sfRaise(SF_INEXACT);
      finishTrig(m, r1se, r1sig, r2se, r2sig, m == 0xfb ? up2 : up1);
      return;
    }
    reduce();
    ddSinCos(ddHi, ddLo);
    const q = redQ;
    // sin(|x|), cos(|x|) by quadrant
    let sh = sinH, sl = sinL, ch = cosH, cl = cosL;
    if (q == 1) { sh = cosH; sl = cosL; ch = -sinH; cl = -sinL; }
    else if (q == 2) { sh = -sinH; sl = -sinL; ch = -cosH; cl = -cosL; }
    else if (q == 3) { sh = -cosH; sl = -cosL; ch = sinH; cl = sinL; }
    if (neg) { sh = -sh; sl = -sl; }
    if (m == 0xfe || m == 0xfb) { fromDD(sh, sl, 0); r1se = f80Se; r1sig = f80Sig; up1 = f80Up; }
    if (m == 0xff) { fromDD(ch, cl, 0); r1se = f80Se; r1sig = f80Sig; up1 = f80Up; }
    if (m == 0xfb) { fromDD(ch, cl, 0); r2se = f80Se; r2sig = f80Sig; up2 = f80Up; }
    if (m == 0xf2) { ddDiv(sh, sl, ch, cl); fromDD(ddHi, ddLo, 0); r1se = f80Se; r1sig = f80Sig; up1 = f80Up; r2se = BIAS; r2sig = J; }
    sfRaise(SF_INEXACT);
    finishTrig(m, r1se, r1sig, r2se, r2sig, m == 0xfb ? up2 : up1);
    return;
  }
  finishTrig(m, r1se, r1sig, r2se, r2sig, false);
}

function finishTrig(m: u32, r1se: u32, r1sig: u64, r2se: u32, r2sig: u64, up: bool): void {
  const flags = sfFlags;
  if (!fpFlags(flags)) return;
  setFsw(fsw() & ~FSW_C2);
  setC1((flags & SF_INEXACT) != 0 && up);
  if (m == 0xfb) { setSt(0, r1se, r1sig); push(r2se, r2sig); return; }
  if (m == 0xf2) { setSt(0, r1se, r1sig); push(r2se, r2sig); return; }
  setSt(0, r1se, r1sig);
}

// ---- F2XM1 ----------------------------------------------------------------------------------

function f2xm1(): void {
  if (stEmpty(0)) { if (stackUnderflow()) setSt(0, QNAN_SE, QNAN_SIG); return; }
  const se = stSe(0), sig = stSig(0);
  if (isUnsupported80(se, sig)) { sfRaise(SF_INVALID); defaultNaN(); }
  else if (isNaN80(se, sig)) propagateNaN(se, sig, se, sig);
  else if (isZero80(se, sig)) setResult(se, 0);
  else if (isInf80(se, sig)) { if ((se & 0x8000) != 0) setResult(0x8000 | BIAS, J); else setResult(se, sig); }
  else {
    if (isDenormal80(se, sig)) sfRaise(SF_DENORMAL);
    unpackA(se, sig);
    if (se == BIAS && sig == J) { setResult(BIAS, J); f80Up = true; sfRaise(SF_INEXACT); } // 2^1 - 1: the host reports 1.0 rounded up
    else if (aE < -900) { f80Mul(se, sig, 0x3ffe, 0xb17217f7d1cf79ac, 64); sfRaise(SF_INEXACT); }
    else if (aE > 0) { // |x| > 1: outside the domain; computed as 2^x - 1 all the same (x < 2^16 here)
      toDD(aSign, aE > 10 ? 10 : aE, aSig, 0);
      ddMul(ddHi, ddLo, LN2_H, LN2_L);
      ddExpm1(ddHi, ddLo); fromDD(ddHi, ddLo, 0); sfRaise(SF_INEXACT);
    } else {
      toDD(aSign, aE, aSig, 0);
      ddMul(ddHi, ddLo, LN2_H, LN2_L);
      ddExpm1(ddHi, ddLo); fromDD(ddHi, ddLo, 0); sfRaise(SF_INEXACT);
    }
  }
  const flags = sfFlags;
  if (!fpFlags(flags)) return;
  setSt(0, f80Se, f80Sig); fpRoundedC1(flags);
}

// ---- FYL2X FYL2XP1 ----------------------------------------------------------------------------

/** ln(m) for m in [sqrt(1/2), sqrt(2)] given as a double-double (mh, ml): Newton on expm1. */
function ddLn(mh: f64, ml: f64): void {
  const l0 = Math.log(mh);
  ddExpm1(-l0, 0); // e^-l0 - 1
  const eh = ddHi, el = ddLo;
  // t = m * e^-l0 - 1 = m * em1 + (m - 1)
  ddMul(mh, ml, eh, el); const ph = ddHi, pl = ddLo;
  ddAdd(mh, ml, -1, 0); ddAdd(ddHi, ddLo, ph, pl);
  ddAdd(l0, 0, ddHi, ddLo);
}

/** ln(1 + x) for |x| < 0.3 as a double-double (xh, xl): Newton from log1p. */
function ddLog1p(xh: f64, xl: f64): void {
  const l0 = Math.log1p(xh);
  ddExpm1(l0, 0); const eh = ddHi, el = ddLo;
  // l = l0 + (x - em1) / (1 + em1)
  ddAdd(xh, xl, -eh, -el); const nh = ddHi, nl = ddLo;
  ddAdd(1, 0, eh, el); ddDiv(nh, nl, ddHi, ddLo);
  ddAdd(l0, 0, ddHi, ddLo);
}

/** y * l where l = (xSign, xE, xHi . xLo) and y = (bSign, bE, bSig): one rounding. */
function mulByY(): void {
  // 64 x 128 -> top 128 bits
  const p0 = mul64(bSig, xLo); const p0h = mulHi;
  const p1 = mul64(bSig, xHi); const p1h = mulHi;
  const mid = p1 + p0h; const carry: u64 = mid < p1 ? 1 : 0;
  const hi = p1h + carry;
  packF80(bSign != xSign, bE + xE + 1, hi, mid | (p0 != 0 ? 1 : 0), 64, 0);
}

/** D9 F1 FYL2X (plus1 = false), D9 F9 FYL2XP1: ST(1) = ST(1) * log2(ST(0) [+ 1]), pop. */
function fyl2x(plus1: bool): void {
  if (stEmpty(0) || stEmpty(1)) { if (stackUnderflow()) { setSt(1, QNAN_SE, QNAN_SIG); pop(); } return; }
  const xs = stSe(0), xm = stSig(0), ys = stSe(1), ym = stSig(1);
  computeYl2x(xs, xm, ys, ym, plus1);
  const flags = sfFlags;
  if (!fpFlags(flags)) return;
  setSt(1, f80Se, f80Sig); fpRoundedC1(flags); pop();
}

function computeYl2x(xs: u32, xm: u64, ys: u32, ym: u64, plus1: bool): void {
  if (isUnsupported80(xs, xm) || isUnsupported80(ys, ym)) { sfRaise(SF_INVALID); defaultNaN(); return; }
  if (isNaN80(xs, xm) || isNaN80(ys, ym)) { propagateNaN(ys, ym, xs, xm); return; }
  if (isDenormal80(xs, xm) || isDenormal80(ys, ym)) sfRaise(SF_DENORMAL);
  const xneg = (xs & 0x8000) != 0;
  if (!plus1) {
    if (isZero80(xs, xm)) {
      if (isZero80(ys, ym)) { sfRaise(SF_INVALID); defaultNaN(); return; }
      if (!isInf80(ys, ym)) sfRaise(SF_DIVBYZERO);
      setResult(((ys & 0x8000) ^ 0x8000) | 0x7fff, J); return;
    }
    if (xneg) { sfRaise(SF_INVALID); defaultNaN(); return; }
    if (isInf80(xs, xm)) { f80Mul(ys, ym, 0x7fff, J, 64); return; }
    unpackA(xs, xm);
    if (aE == 0 && aSig == J) { f80Mul(ys, ym, 0, 0, 64); return; } // log2(1) = +0 exactly
    if (isInf80(ys, ym)) { f80Mul(ys, ym, aE >= 0 ? 0 : 0x8000 | BIAS, J, 64); return; }
    if (isZero80(ys, ym)) { setResult(((ys ^ (aE >= 0 ? 0 : 0x8000)) & 0x8000), 0); return; }
    // x = m * 2^E with m in [sqrt(1/2), sqrt(2))
    let e = aE, scale = 0;
    if (aSig > 0xb504f333f9de6484) { e++; scale = -1; }
    toDD(false, scale, aSig, 0);
    ddLn(ddHi, ddLo);
    ddDiv(ddHi, ddLo, LN2_H, LN2_L);
    ddAdd(<f64>e, 0, ddHi, ddLo);
  } else {
    if (isInf80(xs, xm)) { if (xneg) { sfRaise(SF_INVALID); defaultNaN(); } else f80Mul(ys, ym, 0x7fff, J, 64); return; }
    if (isZero80(xs, xm)) { if (isInf80(ys, ym)) { sfRaise(SF_INVALID); defaultNaN(); return; } setResult((xs ^ ys) & 0x8000, 0); return; }
    unpackA(xs, xm);
    if (isInf80(ys, ym)) { f80Mul(ys, ym, xs, xm, 64); return; }
    if (isZero80(ys, ym)) { setResult((xs ^ ys) & 0x8000, 0); return; }
    if (aE < -900) {
      // log2(1 + x) = x / ln 2 to far beyond 64 bits
      toDD(aSign, 0, aSig, 0); ddDiv(ddHi, ddLo, LN2_H, LN2_L);
      ddTo128(ddHi, ddLo); xE += aE;
      unpackB(ys, ym); mulByY(); sfRaise(SF_INEXACT); return;
    }
    toDD(aSign, aE, aSig, 0);
    ddLog1p(ddHi, ddLo);
    ddDiv(ddHi, ddLo, LN2_H, LN2_L);
  }
  ddTo128(ddHi, ddLo);
  unpackB(ys, ym);
  mulByY();
  sfRaise(SF_INEXACT);
}

// ---- FPATAN -----------------------------------------------------------------------------------

/** D9 F3 FPATAN: ST(1) = atan2(ST(1), ST(0)), pop (SDM Vol. 2A FPATAN results table: the C atan2 cases). */
function fpatan(): void {
  if (stEmpty(0) || stEmpty(1)) { if (stackUnderflow()) { setSt(1, QNAN_SE, QNAN_SIG); pop(); } return; }
  const xs = stSe(0), xm = stSig(0), ys = stSe(1), ym = stSig(1);
  computeAtan2(ys, ym, xs, xm);
  const flags = sfFlags;
  if (!fpFlags(flags)) return;
  setSt(1, f80Se, f80Sig); fpRoundedC1(flags); pop();
}

/** pi * k / 4 (k = 1..4) rounded, with sign. */
function piQuarter(k: i32, neg: bool): void {
  // pi/4 * k as double-double, then rounded
  ddMul(PIO2_H, PIO2_L, <f64>k * 0.5, 0);
  fromDD(neg ? -ddHi : ddHi, neg ? -ddLo : ddLo, 0);
  sfRaise(SF_INEXACT);
}

function computeAtan2(ys: u32, ym: u64, xs: u32, xm: u64): void {
  if (isUnsupported80(xs, xm) || isUnsupported80(ys, ym)) { sfRaise(SF_INVALID); defaultNaN(); return; }
  if (isNaN80(xs, xm) || isNaN80(ys, ym)) { propagateNaN(ys, ym, xs, xm); return; }
  if (isDenormal80(xs, xm) || isDenormal80(ys, ym)) sfRaise(SF_DENORMAL);
  const yneg = (ys & 0x8000) != 0, xneg = (xs & 0x8000) != 0;
  const yinf = isInf80(ys, ym), xinf = isInf80(xs, xm), yz = isZero80(ys, ym), xz = isZero80(xs, xm);
  if (yz) { if (xneg) piQuarter(4, yneg); else setResult(ys & 0x8000, 0); return; }
  if (yinf) { if (xinf) piQuarter(xneg ? 3 : 1, yneg); else piQuarter(2, yneg); return; }
  if (xinf) { if (xneg) piQuarter(4, yneg); else setResult(ys & 0x8000, 0); return; }
  if (xz) { piQuarter(2, yneg); return; }
  unpackA(ys, ym); unpackB(xs, xm);
  const big = aE > bE ? aE : bE;
  if (aE < big - 900) { // |y| << |x|: atan2 = y/x (x > 0) or +-pi - ... (x < 0)
    if (!xneg) { f80Div(ys, ym, xs & 0x7fff, xm, 64); sfRaise(SF_INEXACT); return; }
    piQuarter(4, yneg); return;
  }
  if (bE < big - 900) { piQuarter(2, yneg); return; }
  toDD(aSign, aE - big, aSig, 0); const yh = ddHi, yl = ddLo;
  toDD(bSign, bE - big, bSig, 0); const xh = ddHi, xl = ddLo;
  const t0 = Math.atan2(yh, xh);
  // sin/cos of t0 (|t0| <= pi): t0 = k * pi/2 + r
  const k = Math.round(t0 / PIO2_H);
  ddMul(PIO2_H, PIO2_L, k, 0); ddAdd(t0, 0, -ddHi, -ddLo);
  ddSinCos(ddHi, ddLo);
  const kq = (<i32>k) & 3;
  let sh = sinH, sl = sinL, ch = cosH, cl = cosL;
  if (kq == 1) { sh = cosH; sl = cosL; ch = -sinH; cl = -sinL; }
  else if (kq == 2) { sh = -sinH; sl = -sinL; ch = -cosH; cl = -cosL; }
  else if (kq == 3) { sh = -cosH; sl = -cosL; ch = sinH; cl = sinL; }
  // t1 = t0 + (y cos t0 - x sin t0) / (x cos t0 + y sin t0)
  ddMul(yh, yl, ch, cl); const a1 = ddHi, a2 = ddLo;
  ddMul(xh, xl, sh, sl); ddAdd(a1, a2, -ddHi, -ddLo); const nh = ddHi, nl = ddLo;
  ddMul(xh, xl, ch, cl); const b1 = ddHi, b2 = ddLo;
  ddMul(yh, yl, sh, sl); ddAdd(b1, b2, ddHi, ddLo);
  ddDiv(nh, nl, ddHi, ddLo);
  ddAdd(t0, 0, ddHi, ddLo);
  fromDD(ddHi, ddLo, 0);
  sfRaise(SF_INEXACT);
}

/** OP_X87_TRANS. */
export function x87Trans(esc: u32, m: u32): void {
  fpBegin();
  switch (m) {
    case 0xf0: f2xm1(); return;
    case 0xf1: fyl2x(false); return;
    case 0xf9: fyl2x(true); return;
    case 0xf3: fpatan(); return;
    default: trig(m); return;
  }
}
