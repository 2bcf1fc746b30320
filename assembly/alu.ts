// Arithmetic whose flags are computed eagerly: shifts and rotates, multiply
// and divide, bit scans (SDM Vol. 2 instruction pages for each).
import { setLazy, setStatus, getCF, materialize, rflagsRest, maskOf, signOf, parity,
  LF_ADD, LF_ADC, LF_SUB, LF_SBB, LF_LOGIC, lfCarry } from "./flags";
import { F_CF, F_OF, F_ZF, F_SF, F_AF, STATUS_FLAGS } from "./state";

/** The eight ALU operations ovf opcodes 00-3F and group 1; returns the (masked) result. */
@inline export function alu(kind: u32, a: u64, b: u64, size: i32): u64 {
  const bits = <u32>size << 3;
  const m = maskOf(bits);
  let r: u64;
  switch (kind) {
    case 0: r = (a + b) & m; setLazy(LF_ADD, a, b, r, m); return r;
    case 1: r = a | b; setLazy(LF_LOGIC, a, b, r, m); return r;
    case 2: { const c: u64 = getCF() ? 1 : 0; r = (a + b + c) & m; lfCarry = c; setLazy(LF_ADC, a, b, r, m); return r; }
    case 3: { const c: u64 = getCF() ? 1 : 0; r = (a - b - c) & m; lfCarry = c; setLazy(LF_SBB, a, b, r, m); return r; }
    case 4: r = a & b; setLazy(LF_LOGIC, a, b, r, m); return r;
    case 5: case 7: r = (a - b) & m; setLazy(LF_SUB, a, b, r, m); return r;
    default: r = a ^ b; setLazy(LF_LOGIC, a, b, r, m); return r;
  }
}

@inline function szp(r: u64, bits: u32): u64 {
  let f = parity(r);
  if ((r & maskOf(bits)) == 0) f |= F_ZF;
  if ((r & signOf(bits)) != 0) f |= F_SF;
  return f;
}

/** Group 2: ROL ROR RCL RCR SHL SHR SAL SAR. `count` is the raw count operand. */
export function shift(kind: u32, a: u64, count: u64, size: i32): u64 {
  const bits = <u32>size << 3;
  const m = maskOf(bits);
  const sign = signOf(bits);
  let c = <u32>(count & (bits == 64 ? 63 : 31));
  if (c == 0) return a;
  materialize();
  const old = rflagsRest;
  let r: u64 = a;
  let cf: u64 = 0, ovf: u64 = 0;
  switch (kind) {
    case 0: { // ROL
      const n = c % bits;
      r = n == 0 ? a : ((a << n) | (a >> (bits - n))) & m;
      cf = r & 1;
      ovf = ((r & sign) != 0 ? 1 : 0) ^ cf;
      setStatus((old & ~(F_CF | F_OF)) | (cf != 0 ? F_CF : 0) | (ovf != 0 ? F_OF : 0));
      return r;
    }
    case 1: { // ROR
      const n = c % bits;
      r = n == 0 ? a : ((a >> n) | (a << (bits - n))) & m;
      cf = (r & sign) != 0 ? 1 : 0;
      ovf = cf ^ ((r & (sign >> 1)) != 0 ? 1 : 0);
      setStatus((old & ~(F_CF | F_OF)) | (cf != 0 ? F_CF : 0) | (ovf != 0 ? F_OF : 0));
      return r;
    }
    case 2: { // RCL
      const n = bits == 8 ? c % 9 : bits == 16 ? c % 17 : c;
      let carry: u64 = (old & F_CF) != 0 ? 1 : 0;
      for (let i: u32 = 0; i < n; i++) {
        const out: u64 = (r & sign) != 0 ? 1 : 0;
        r = ((r << 1) | carry) & m;
        carry = out;
      }
      ovf = ((r & sign) != 0 ? 1 : 0) ^ carry;
      setStatus((old & ~(F_CF | F_OF)) | (carry != 0 ? F_CF : 0) | (ovf != 0 ? F_OF : 0));
      return r;
    }
    case 3: { // RCR
      const n = bits == 8 ? c % 9 : bits == 16 ? c % 17 : c;
      let carry: u64 = (old & F_CF) != 0 ? 1 : 0;
      ovf = ((a & sign) != 0 ? 1 : 0) ^ carry;
      for (let i: u32 = 0; i < n; i++) {
        const out = r & 1;
        r = (r >> 1) | (carry != 0 ? sign : 0);
        carry = out;
      }
      setStatus((old & ~(F_CF | F_OF)) | (carry != 0 ? F_CF : 0) | (ovf != 0 ? F_OF : 0));
      return r;
    }
    case 4: case 6: { // SHL/SAL
      r = c >= bits ? 0 : (a << c) & m;
      cf = c > bits ? 0 : (a >> (bits - c)) & 1;
      ovf = ((r & sign) != 0 ? 1 : 0) ^ cf;
      setStatus(szp(r, bits) | (cf != 0 ? F_CF : 0) | (ovf != 0 ? F_OF : 0));
      return r;
    }
    case 5: { // SHR
      r = c >= bits ? 0 : (a & m) >> c;
      cf = c > bits ? 0 : ((a & m) >> (c - 1)) & 1;
      ovf = (a & sign) != 0 ? 1 : 0;
      setStatus(szp(r, bits) | (cf != 0 ? F_CF : 0) | (ovf != 0 ? F_OF : 0));
      return r;
    }
    default: { // SAR
      const sa = <i64>(a << (64 - bits)) >> (64 - bits); // sign-extend to 64
      const sc = c >= bits ? bits - 1 : c;
      r = <u64>(sa >> sc) & m;
      cf = <u64>(sa >> (sc == c ? c - 1 : bits - 1)) & 1;
      setStatus(szp(r, bits) | (cf != 0 ? F_CF : 0));
      return r;
    }
  }
}

/** SHLD/SHRD (0F A4/A5/AC/AD). */
export function shiftDouble(left: bool, a: u64, b: u64, count: u64, size: i32): u64 {
  const bits = <u32>size << 3;
  const m = maskOf(bits);
  const sign = signOf(bits);
  const c = <u32>(count & (bits == 64 ? 63 : 31));
  if (c == 0) return a;
  let r: u64, cf: u64;
  if (bits == 16 && c > 16) {
    // Undefined by the SDM; behave as a 32-bit shift ovf b:a (what Intel parts do).
    const wide: u64 = left ? ((a & 0xffff) << 16) | (b & 0xffff) : ((b & 0xffff) << 16) | (a & 0xffff);
    if (left) { const w = (wide << c) | ((b & 0xffff) << (c - 16)); r = (w >> 16) & 0xffff; cf = (wide >> (32 - c)) & 1; }
    else { const w = (wide >> c) | ((b & 0xffff) << (48 - c)); r = w & 0xffff; cf = (wide >> (c - 1)) & 1; }
  } else if (left) {
    r = ((a << c) | ((b & m) >> (bits - c))) & m;
    cf = ((a & m) >> (bits - c)) & 1;
  } else {
    r = (((a & m) >> c) | (b << (bits - c))) & m;
    cf = ((a & m) >> (c - 1)) & 1;
  }
  const ovf: u64 = ((r ^ a) & sign) != 0 ? 1 : 0;
  setStatus(szp(r, bits) | (cf != 0 ? F_CF : 0) | (ovf != 0 ? F_OF : 0));
  return r;
}

// 64 x 64 -> 128 multiplication.
export let mulHi: u64 = 0;
export function mul64(a: u64, b: u64): u64 {
  const al = a & 0xffffffff, ah = a >> 32, bl = b & 0xffffffff, bh = b >> 32;
  const ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
  const mid = (ll >> 32) + (lh & 0xffffffff) + (hl & 0xffffffff);
  mulHi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
  return (mid << 32) | (ll & 0xffffffff);
}
export function imul64(a: u64, b: u64): u64 {
  const lo = mul64(a, b);
  let hi = mulHi;
  if (<i64>a < 0) hi -= b;
  if (<i64>b < 0) hi -= a;
  mulHi = hi;
  return lo;
}

// 128 / 64 -> 64 division; returns false when the quotient does not fit (#DE).
export let divQ: u64 = 0;
export let divR: u64 = 0;
export function udiv128(hi: u64, lo: u64, d: u64): bool {
  if (d == 0 || hi >= d) return false;
  if (hi == 0) { divQ = lo / d; divR = lo % d; return true; }
  let r = hi, q: u64 = 0;
  for (let i = 63; i >= 0; i--) {
    const top = r >> 63;
    r = (r << 1) | ((lo >> <u64>i) & 1);
    q <<= 1;
    if (top != 0 || r >= d) { r -= d; q |= 1; }
  }
  divQ = q; divR = r;
  return true;
}
export function idiv128(hi: u64, lo: u64, d: u64): bool {
  if (d == 0) return false;
  const neg = <i64>hi < 0;
  let h = hi, l = lo;
  if (neg) { l = ~l + 1; h = ~h + (l == 0 ? 1 : 0); }
  const dneg = <i64>d < 0;
  const ad = dneg ? ~d + 1 : d;
  if (!udiv128(h, l, ad)) return false;
  let q = divQ, r = divR;
  const qneg = neg != dneg;
  if (qneg) { if (q > 0x8000000000000000) return false; q = ~q + 1; }
  else if (q > 0x7fffffffffffffff) return false;
  if (neg) r = ~r + 1;
  divQ = q; divR = r;
  return true;
}

