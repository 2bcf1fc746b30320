// x87 arithmetic (SDM Vol. 1 8.3.6 "Basic Arithmetic Instructions", 8.3.9 FSCALE/FXTRACT, 8.1.5.2
// precision control; Vol. 2A FADD/FADDP/FIADD, FSUB/FSUBP/FISUB, FSUBR/FSUBRP/FISUBR, FMUL/FMULP/
// FIMUL, FDIV/FDIVP/FIDIV, FDIVR/FDIVRP/FIDIVR, FCHS, FABS, FSQRT, FRNDINT, FSCALE, FXTRACT, FPREM,
// FPREM1). The reg digit of D8/DA/DC/DE names the operation; with ST(0) as x and the other operand
// (ST(i) or memory) as y: /0 x+y, /1 x*y, /4 x-y, /5 y-x, /6 x/y, /7 y/x -- the DC/DE register forms
// write ST(i) (whence their SUB/SUBR names swap), DE pops. Precision control applies to
// add/sub/mul/div/sqrt only; FRNDINT rounds by RC at 64 bits.
import { ea } from "../operand";
import { readMem } from "../mmu";
import { stop } from "../fault";
import { sfFlags, sfRaise, sfRound, sfSetRound as setRound, SF_RZ, SF_INVALID, SF_DENORMAL, SF_DIVBYZERO, SF_OVERFLOW } from "../softfloat/status";
import {
  f80Add, f80Mul, f80Div, f80Sqrt, f80RoundToInt, f80FromF32, f80FromF64, f80FromInt, f80Se, f80Sig, packF80, propagateNaN,
  isNaN80, isInf80, isZero80, isDenormal80, isUnsupported80, unpackA, unpackB, aSign, aE, aSig, bSign, bE, bSig, f80Wrap,
  J, BIAS, QNAN_SE, QNAN_SIG, setResult, f80Up,
} from "../softfloat/f80";
import { fcw, ieMasked, fpBegin, fpFlags, fpRoundedC1, precision, setC1, setCC, stEmpty, stSe, stSig, setSt, push, pop, stackUnderflow, stackOverflowPush, fsw, setFsw, FSW_C2, FSW_C1 } from "./stack";

/** The binary operation `d` on x = (xs, xm), y = (ys, ym) into f80Se/f80Sig. */
function binop(d: u32, xs: u32, xm: u64, ys: u32, ym: u64, p: i32): void {
  switch (d) {
    case 0: f80Add(xs, xm, ys, ym, false, p); break;
    case 1: f80Mul(xs, xm, ys, ym, p); break;
    case 4: f80Add(xs, xm, ys, ym, true, p); break;
    case 5: f80Add(ys, ym, xs, xm, true, p); break;
    case 6: f80Div(xs, xm, ys, ym, p); break;
    default: f80Div(ys, ym, xs, xm, p); break;
  }
}

/** OP_X87_ARITH. */
export function x87Arith(e: usize, esc: u32, m: u32): void {
  const x = esc & 7, d = (m >> 3) & 7;
  const reg = (m >> 6) == 3;
  if (x == 1) { unary(m); return; }
  fpBegin();
  const p = precision();
  if (!reg) {
    const la = ea(e);
    let ys: u32 = 0, ym: u64 = 0;
    switch (x) {
      case 0: { const v = <u32>readMem(la, 4); if (stop) return; f80FromF32(v, true); break; }
      case 4: { const v = readMem(la, 8); if (stop) return; f80FromF64(v, true); break; }
      case 2: { const v = readMem(la, 4); if (stop) return; f80FromInt(<i64><i32><u32>v); break; }
      default: { const v = readMem(la, 2); if (stop) return; f80FromInt(<i64><i16><u16>v); break; }
    }
    ys = f80Se; ym = f80Sig;
    const convDE = sfFlags & SF_DENORMAL;
    fpBegin();
    if (stEmpty(0)) { if (stackUnderflow()) setSt(0, QNAN_SE, QNAN_SIG); return; }
    const xs = stSe(0), xm = stSig(0);
    // a single/double denormal operand (normal once converted) is DE unless the other operand
    // decides the result first: a NaN or unsupported ST(0), or x / 0 (the host's order)
    if (convDE != 0 && !isNaN80(ys, ym) && !isNaN80(xs, xm) && !isUnsupported80(xs, xm) && !((d == 7) && isZero80(xs, xm))) sfRaise(SF_DENORMAL);
    binop(d, xs, xm, ys, ym, p);
    const flags = sfFlags;
    if (!fpFlags(flags)) { setC1(false); return; } // an unmasked IE/DE/ZE: C1 cleared all the same (the host)
    setSt(0, f80Se, f80Sig); fpRoundedC1(flags);
    return;
  }
  const i = m & 7;
  const dest: u32 = x == 0 ? 0 : i;
  const popAfter = x == 6;
  if (stEmpty(0) || stEmpty(i)) {
    if (!stackUnderflow()) return;
    setSt(dest, QNAN_SE, QNAN_SIG);
    if (popAfter) pop();
    return;
  }
  binop(d, stSe(0), stSig(0), stSe(i), stSig(i), p);
  const flags = sfFlags;
  if (!fpFlags(flags)) { setC1(false); return; } // an unmasked IE/DE/ZE: C1 cleared all the same (the host)
  setSt(dest, f80Se, f80Sig); fpRoundedC1(flags);
  if (popAfter) pop();
}

/** D9 E0 FCHS, E1 FABS, F4 FXTRACT, F5 FPREM1, F8 FPREM, FA FSQRT, FC FRNDINT, FD FSCALE. */
function unary(m: u32): void {
  fpBegin();
  const two = m == 0xf5 || m == 0xf8 || m == 0xfd;
  if (stEmpty(0) || (two && stEmpty(1))) {
    if (m == 0xf4) { // FXTRACT: both results become the indefinite
      if (!stackUnderflow()) return;
      setSt(0, QNAN_SE, QNAN_SIG);
      push(QNAN_SE, QNAN_SIG); // over ST(7) even when it is full, unreported (the host)
      return;
    }
    if (stackUnderflow()) setSt(0, QNAN_SE, QNAN_SIG);
    if (m == 0xf5 || m == 0xf8) setFsw(fsw() & ~FSW_C2);
    return;
  }
  const se = stSe(0), sig = stSig(0);
  switch (m) {
    case 0xe0: setC1(false); setSt(0, se ^ 0x8000, sig); return;
    case 0xe1: setC1(false); setSt(0, se & 0x7fff, sig); return;
    case 0xfa: f80Sqrt(se, sig, precision()); break;
    case 0xfc: f80RoundToInt(se, sig); break;
    case 0xfd: fscale(se, sig, stSe(1), stSig(1)); break;
    case 0xf4: fxtract(se, sig); return;
    default: fprem(se, sig, stSe(1), stSig(1), m == 0xf5); return;
  }
  const flags = sfFlags;
  if (!fpFlags(flags)) { setC1(false); return; } // an unmasked IE/DE/ZE: C1 cleared all the same (the host)
  setSt(0, f80Se, f80Sig); fpRoundedC1(flags);
}

/** FSCALE: ST(0) * 2^trunc(ST(1)) (SDM Vol. 2A FSCALE and its results table). */
function fscale(s0: u32, m0: u64, s1: u32, m1: u64): void {
  if (isUnsupported80(s0, m0) || isUnsupported80(s1, m1)) { sfRaise(SF_INVALID); setQ(); return; }
  if (isNaN80(s0, m0) || isNaN80(s1, m1)) { propagateNaN(s0, m0, s1, m1); return; }
  if (isDenormal80(s0, m0) || isDenormal80(s1, m1)) sfRaise(SF_DENORMAL);
  const z0 = isZero80(s0, m0), i0 = isInf80(s0, m0);
  if (isInf80(s1, m1)) {
    const neg1 = (s1 & 0x8000) != 0;
    if (neg1) {
      if (i0) { sfRaise(SF_INVALID); setQ(); return; }
      setR(s0 & 0x8000, 0); return;
    }
    if (z0) { sfRaise(SF_INVALID); setQ(); return; }
    setR(s0 | 0x7fff, J); return;
  }
  if (z0 || i0) { setR(s0, m0); return; }
  unpackB(s1, m1);
  // trunc(ST(1)), clamped far beyond the exponent range
  let n: i32 = 0;
  if (bSig != 0 && bE >= 0) n = bE > 30 ? 0x10000 : <i32>(bSig >> <u64>(63 - bE));
  if (bSign) n = -n;
  unpackA(s0, m0);
  packF80(aSign, aE + n, aSig, 0, 64, f80Wrap);
}

@inline function setQ(): void { setResult(QNAN_SE, QNAN_SIG); }
@inline function setR(se: u32, sig: u64): void { setResult(se, sig); }

/** FXTRACT: ST(0) = exponent of x as a value, then push its significand with exponent 0 (biased 0x3FFF). */
function fxtract(se: u32, sig: u64): void {
  if (!stEmpty(7)) { // stack overflow: with IE masked both results are the indefinite
    stackOverflowPush();
    if (ieMasked()) setSt(1, QNAN_SE, QNAN_SIG);
    return;
  }
  let es: u32 = 0, em: u64 = 0, ss: u32 = 0, sm: u64 = 0;
  if (isUnsupported80(se, sig)) { sfRaise(SF_INVALID); es = QNAN_SE; em = QNAN_SIG; ss = QNAN_SE; sm = QNAN_SIG; }
  else if (isNaN80(se, sig)) { propagateNaN(se, sig, se, sig); es = f80Se; em = f80Sig; ss = f80Se; sm = f80Sig; }
  else if (isZero80(se, sig)) { sfRaise(SF_DIVBYZERO); es = 0xffff; em = J; ss = se; sm = 0; }
  else if (isInf80(se, sig)) { es = 0x7fff; em = J; ss = se; sm = sig; }
  else {
    if (isDenormal80(se, sig)) sfRaise(SF_DENORMAL);
    unpackA(se, sig);
    f80FromInt(<i64>aE); es = f80Se; em = f80Sig;
    ss = (se & 0x8000) | <u32>BIAS; sm = aSig;
  }
  const flags = sfFlags;
  if (!fpFlags(flags)) { setC1(false); return; } // an unmasked IE/DE/ZE: C1 cleared all the same (the host)
  setC1(false);
  setSt(0, es, em);
  push(ss, sm);
}

/**
 * FPREM (truncating quotient) and FPREM1 (IEEE remainder, quotient rounded to nearest): exact partial
 * remainder (SDM Vol. 2A FPREM/FPREM1, Vol. 1 8.3.10). With an exponent difference D < 64 the
 * reduction completes (C2 = 0) and C0 C3 C1 get quotient bits Q2 Q1 Q0; otherwise ST(0) is reduced by
 * a multiple of ST(1) * 2^(D-N) with N = 32 + (D mod 32), the quotient truncated, C2 = 1 and C0 C1 C3
 * cleared (what the host's processor does; the SDM leaves N implementation-dependent, 32..63).
 */
function fprem(s0: u32, m0: u64, s1: u32, m1: u64, ieee: bool): void {
  let res = false;
  if (isUnsupported80(s0, m0) || isUnsupported80(s1, m1)) { sfRaise(SF_INVALID); setQ(); res = true; }
  else if (isNaN80(s0, m0) || isNaN80(s1, m1)) { propagateNaN(s0, m0, s1, m1); res = true; }
  else if (isInf80(s0, m0) || isZero80(s1, m1)) { sfRaise(SF_INVALID); setQ(); res = true; } // no DE (the host)
  if (res) {
    const flags = sfFlags;
    if (!fpFlags(flags)) { setFsw(fsw() & ~(FSW_C1 | FSW_C2)); return; } // blocked: C1 = C2 = 0 (the host)
    setSt(0, f80Se, f80Sig); setFsw(fsw() & ~(FSW_C2 | FSW_C1)); // C1 = C2 = 0, C0 C3 as they were (the host)
    return;
  }
  if (isDenormal80(s0, m0) || isDenormal80(s1, m1)) sfRaise(SF_DENORMAL);
  if (isZero80(s0, m0) || isInf80(s1, m1)) {
    // ST(0) keeps its value, re-encoded (a pseudo-denormal becomes normal); quotient 0
    if (isZero80(s0, m0)) setResult(s0, m0);
    else { unpackA(s0, m0); packF80(aSign, aE, aSig, 0, 64, f80Wrap); }
    const flags = sfFlags;
    if (!fpFlags(flags)) { setFsw(fsw() & ~(FSW_C1 | FSW_C2)); return; }
    setSt(0, f80Se, f80Sig); setCC(0);
    return;
  }
  unpackA(s0, m0); unpackB(s1, m1);
  const neg = aSign;
  let dExp = aE - bE;
  let partial = false;
  if (dExp >= 64) { partial = true; dExp = 32 + (dExp & 31); }
  let q: u64 = 0, r: u64 = aSig, flip = false;
  let rE = bE; // the remainder r is scaled like ST(1): r * 2^(bE - 63), or like ST(1) * 2^(aE-N-bE) when partial
  if (partial) rE = aE - dExp;
  if (dExp < 0) {
    r = aSig; rE = aE;
    if (ieee && dExp == -1 && aSig > bSig) {
      // |x| > |y|/2: quotient 1, remainder |y| - |x| with the opposite sign (exact: 2*bSig - aSig < 2^64)
      r = (bSig << 1) - aSig; q = 1; flip = true; // in units of 2^(aE-63)
    }
  } else {
    if (r >= bSig) { r -= bSig; q = 1; }
    for (let k = 0; k < dExp; k++) {
      const t = r >> 63;
      r <<= 1; q <<= 1;
      if (t != 0 || r >= bSig) { r -= bSig; q |= 1; }
    }
    if (ieee && !partial && r != 0) {
      const t = r >> 63, r2 = r << 1;
      if (t != 0 || r2 > bSig || (r2 == bSig && (q & 1) != 0)) { r = bSig - r; q++; flip = true; }
    }
  }
  const sign = neg != flip;
  if (r == 0) setResult(neg ? 0x8000 : 0, 0);
  else packF80(sign, rE, r, 0, 64, f80Wrap);
  const flags = sfFlags;
  if (!fpFlags(flags)) { setFsw(fsw() & ~(FSW_C1 | FSW_C2)); return; } // blocked by an unmasked DE: C1 = C2 = 0 (the host)
  setSt(0, f80Se, f80Sig);
  if (partial) setCC(4);
  else setCC(<u32>(((q >> 2) & 1) | ((q & 1) << 1) | (((q >> 1) & 1) << 3)));
}
