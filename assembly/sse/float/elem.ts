// One element of the SSE arithmetic (SDM Vol. 2 ADDPS ... MAXSD, SQRTPS ...; Vol. 1 11.4.1), with the
// fast path the common case takes: in round-to-nearest, with normal operands and a result that is
// normal (exponent field >= 2, so tininess after rounding cannot arise), the host's IEEE f64/f32
// arithmetic gives the exact result and only PE remains, decided exactly -- TwoSum's error term for
// add and subtract (Knuth TAOCP 4.2.2), the odd parts of the significands for multiply (exact iff the
// product of the odd parts fits in 53 bits) and divide (exact iff the divisor's odd part divides the
// dividend's). binary32 runs in f64 (exact for multiply; one rounding to f32 is correct since
// 53 >= 2*24 + 2) with PE from both roundings. Everything else goes through assembly/softfloat/.
import { sfRound, sfRaise, SF_INEXACT, SF_INVALID } from "../../softfloat/status";
import { sfAdd, sfMul, sfDiv, sfSqrt } from "../../softfloat/arith";
import { sfCompare, REL_LT, REL_GT, REL_UN, REL_EQ } from "../../softfloat/compare";
import { unpackA, unpackB, aCls, bCls, aSign, bSign, packZero, C_ZERO } from "../../softfloat/round-sse";

export const K_ADD = 0; export const K_SUB = 1; export const K_MUL = 2; export const K_DIV = 3;
export const K_MIN = 4; export const K_MAX = 5; export const K_SQRT = 6;

const M52: u64 = 0xfffffffffffff;

/** The fast path's verdict: it applied (else take softfloat), and whether the result is inexact. */
export let fastOk: bool = false;
export let fastInexact: bool = false;

/** binary64 a (op) b for kind <= K_DIV in round-to-nearest, when the fast path applies (fastOk). */
@inline export function fastF64(kind: i32, a: u64, b: u64): u64 {
  fastOk = false;
  const ea = <u32>(a >> 52) & 0x7ff, eb = <u32>(b >> 52) & 0x7ff;
  if (ea - 1 >= 0x7fe || eb - 1 >= 0x7fe) return 0;
  const x = reinterpret<f64>(a), y = reinterpret<f64>(b);
  let r: f64; let exact: bool;
  if (kind <= K_SUB) {
    const yy = kind == K_ADD ? y : -y;
    r = x + yy;
    const bb = r - x;
    exact = (x - (r - bb)) + (yy - bb) == 0;
  } else {
    r = kind == K_MUL ? x * y : x / y;
    const ma = (a & M52) | (<u64>1 << 52), mb = (b & M52) | (<u64>1 << 52);
    const oa = ma >> ctz<u64>(ma), ob = mb >> ctz<u64>(mb);
    if (kind == K_MUL) {
      const l = <i32>(128 - clz<u64>(oa) - clz<u64>(ob));
      exact = l <= 53 || (l == 54 && (oa * ob) < (<u64>1 << 53));
    } else exact = oa % ob == 0;
  }
  const rb = reinterpret<u64>(r);
  if ((<u32>(rb >> 52) & 0x7ff) - 2 >= 0x7fd) return 0;
  fastOk = true; fastInexact = !exact;
  return rb;
}

/** binary64 a (op) b. */
export function f64Op(kind: i32, a: u64, b: u64): u64 {
  if (sfRound == 0 && kind <= K_DIV) {
    const r = fastF64(kind, a, b);
    if (fastOk) { if (fastInexact) sfRaise(SF_INEXACT); return r; }
  }
  switch (kind) {
    case K_ADD: return sfAdd(a, b, false, true);
    case K_SUB: return sfAdd(a, b, true, true);
    case K_MUL: return sfMul(a, b, true);
    case K_DIV: return sfDiv(a, b, true);
    case K_SQRT: return sfSqrt(b, true);
  }
  return minMax(kind == K_MAX, a, b, true);
}

/** binary32 a (op) b for kind <= K_DIV in round-to-nearest, when the fast path applies (fastOk). */
@inline export function fastF32(kind: i32, a: u64, b: u64): u64 {
  fastOk = false;
  const ea = <u32>(a >> 23) & 0xff, eb = <u32>(b >> 23) & 0xff;
  if (ea - 1 >= 0xfe || eb - 1 >= 0xfe) return 0;
  const x = <f64>reinterpret<f32>(<u32>a), y = <f64>reinterpret<f32>(<u32>b);
  let r: f64; let exact: bool = true;
  if (kind <= K_SUB) {
    const yy = kind == K_ADD ? y : -y;
    r = x + yy;
    const bb = r - x;
    exact = (x - (r - bb)) + (yy - bb) == 0;
  } else r = kind == K_MUL ? x * y : x / y;   // the product of two binary32 values is exact in f64
  const r32 = <f32>r;
  const rb = reinterpret<u32>(r32);
  if (((rb >> 23) & 0xff) - 2 >= 0xfd) return 0;
  // A quotient that survived both roundings has <= 24 bits, so r * y is exact in f64.
  if (kind == K_DIV) exact = <f64>r32 == r && r * y == x;
  else exact = exact && <f64>r32 == r;
  fastOk = true; fastInexact = !exact;
  return <u64>rb;
}

/** binary32 a (op) b (bits in the low 32). */
export function f32Op(kind: i32, a: u64, b: u64): u64 {
  if (sfRound == 0 && kind <= K_DIV) {
    const r = fastF32(kind, a, b);
    if (fastOk) { if (fastInexact) sfRaise(SF_INEXACT); return r; }
  }
  switch (kind) {
    case K_ADD: return sfAdd(a, b, false, false);
    case K_SUB: return sfAdd(a, b, true, false);
    case K_MUL: return sfMul(a, b, false);
    case K_DIV: return sfDiv(a, b, false);
    case K_SQRT: return sfSqrt(b, false);
  }
  return minMax(kind == K_MAX, a, b, false);
}

/**
 * MINPS/MAXPS... (SDM Vol. 2 MINPS "Operation": MIN(SRC1, SRC2) = IF (SRC1 < SRC2) THEN SRC1 ELSE
 * SRC2): a NaN operand (QNaN too: IE) or two zeros give the second operand unchanged (an SNaN is not
 * quieted). With DAZ a denormal operand is the zero it reads as.
 */
function minMax(isMax: bool, a: u64, b: u64, is64: bool): u64 {
  const rel = sfCompare(a, b, is64, true);
  if (rel == REL_UN) return bCls == C_ZERO ? packZero(bSign, is64) : b;  // a DAZ-read second operand is its zero
  // sfCompare left both operands unpacked: DAZ-read zeros come back as zeros.
  const pick = isMax ? rel == REL_GT : rel == REL_LT;
  if (pick) return aCls == C_ZERO ? packZero(aSign, is64) : a;
  return bCls == C_ZERO ? packZero(bSign, is64) : b;
}

export { SF_INVALID, REL_EQ, unpackA, unpackB };
