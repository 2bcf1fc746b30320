// Double-double arithmetic (an unevaluated sum hi + lo of two doubles, ~106 significant bits;
// Dekker 1971, "A floating-point technique for extending the available precision"; the error-free
// transformations TwoSum and TwoProduct with Veltkamp splitting, as Bochs's fpu/ uses a 128-bit
// polynomial evaluation for the same purpose): the working precision of the x87 transcendental
// functions (assembly/x87/transcendental.ts), enough that one final rounding to 64 bits is within
// the SDM's error bound. Results in ddHi / ddLo. No allocation.

export let ddHi: f64 = 0;
export let ddLo: f64 = 0;

/** 2^n for -1022 <= n <= 1023, exactly. */
@inline export function pow2(n: i32): f64 { return reinterpret<f64>(<u64>(n + 1023) << 52); }

@inline function set(h: f64, l: f64): void { const s = h + l; ddLo = l - (s - h); ddHi = s; }

/** (ah, al) + (bh, bl). */
export function ddAdd(ah: f64, al: f64, bh: f64, bl: f64): void {
  const s = ah + bh, bb = s - ah;
  const e = (ah - (s - bb)) + (bh - bb);
  set(s, e + al + bl);
}

/** Product of two doubles exactly: hi + lo. */
export function twoProd(a: f64, b: f64): void {
  const p = a * b;
  const c = 134217729.0; // 2^27 + 1
  const ta = c * a, ah = ta - (ta - a), al = a - ah;
  const tb = c * b, bh = tb - (tb - b), bl = b - bh;
  ddHi = p; ddLo = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}

/** (ah, al) * (bh, bl). */
export function ddMul(ah: f64, al: f64, bh: f64, bl: f64): void {
  twoProd(ah, bh);
  const p = ddHi, e = ddLo + (ah * bl + al * bh);
  set(p, e);
}

/** (ah, al) / (bh, bl): three quotient digits with exact remainders. */
export function ddDiv(ah: f64, al: f64, bh: f64, bl: f64): void {
  const q1 = ah / bh;
  ddMul(bh, bl, q1, 0); ddAdd(ah, al, -ddHi, -ddLo);
  const rh = ddHi, rl = ddLo;
  const q2 = rh / bh;
  ddMul(bh, bl, q2, 0); ddAdd(rh, rl, -ddHi, -ddLo);
  const q3 = ddHi / bh;
  set(q1, q2);
  ddAdd(ddHi, ddLo, q3, 0);
}

/** sin and cos of (xh, xl), |x| <= pi/4 (Taylor series to x^29): sinH/sinL, cosH/cosL. */
export let sinH: f64 = 0; export let sinL: f64 = 0; export let cosH: f64 = 0; export let cosL: f64 = 0;
export function ddSinCos(xh: f64, xl: f64): void {
  ddMul(xh, xl, xh, xl); const x2h = ddHi, x2l = ddLo;
  // sin: x * sum (-x^2)^k / (2k+1)!, cos: sum (-x^2)^k / (2k)!  -- Horner from the top term
  let sh: f64 = 0, sl: f64 = 0, ch: f64 = 0, cl: f64 = 0;
  for (let k = 15; k >= 0; k--) {
    // s = 1/(2k+1)! - x^2 * s   ;  c = 1/(2k)! - x^2 * c
    ddMul(x2h, x2l, sh, sl); const th = ddHi, tl = ddLo;
    invFact(2 * k + 1); ddAdd(fH, fL, -th, -tl); sh = ddHi; sl = ddLo;
    ddMul(x2h, x2l, ch, cl); const uh = ddHi, ul = ddLo;
    invFact(2 * k); ddAdd(fH, fL, -uh, -ul); ch = ddHi; cl = ddLo;
  }
  ddMul(sh, sl, xh, xl); sinH = ddHi; sinL = ddLo;
  cosH = ch; cosL = cl;
}

/** e^x - 1 for |x| <= 0.75 (Taylor series to x^30). */
export function ddExpm1(xh: f64, xl: f64): void {
  // x * (1 + x/2! + x^2/3! + ...) by Horner: t = 1/(k+1)! + x t
  let th: f64 = 0, tl: f64 = 0;
  for (let k = 30; k >= 0; k--) {
    ddMul(xh, xl, th, tl); const ph = ddHi, pl = ddLo;
    invFact(k + 1); ddAdd(fH, fL, ph, pl); th = ddHi; tl = ddLo;
  }
  ddMul(th, tl, xh, xl);
}

let fH: f64 = 0; let fL: f64 = 0;
// 1/n! for n <= 40 as double-doubles, computed once at start-up
const FACT = new StaticArray<f64>(82);
let factReady = false;
function invFact(n: i32): void {
  if (!factReady) {
    let h: f64 = 1, l: f64 = 0;
    FACT[0] = 1; FACT[1] = 0; FACT[2] = 1; FACT[3] = 0;
    for (let i = 2; i <= 40; i++) { ddDiv(h, l, <f64>i, 0); h = ddHi; l = ddLo; FACT[2 * i] = h; FACT[2 * i + 1] = l; }
    factReady = true;
  }
  fH = FACT[2 * n]; fL = FACT[2 * n + 1];
}

// ln 2 and pi/2 as double-doubles
export const LN2_H: f64 = 6.93147180559945286227e-01; export const LN2_L: f64 = 2.31904681384629955842e-17;
export const PIO2_H: f64 = 1.57079632679489655800e+00; export const PIO2_L: f64 = 6.12323399573676603587e-17;
