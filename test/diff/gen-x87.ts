// Random x87 cases for the differential test (test/x87-gen.test.ts, scripts/diff-x87.mjs): short
// sequences of the x87 code gcc emits for `long double` (fldt/fld/fild loads, the arithmetic in
// its register-pop and memory forms, fxch, fucomip/fcomip + fcmov, fnstcw/fldcw around fistp,
// fstpt/fstp stores) plus the rest of the instruction set, over operands drawn from the special
// classes of SDM Vol. 1 4.8.3 / 8.2.2 (zeros, denormals, pseudo-denormals, unnormals, infinities,
// pseudo-infinities, quiet/signalling/pseudo NaNs, extremes, rounding ties) and a random FCW
// (precision control x rounding control, sometimes unmasked exceptions, which make the next waiting
// instruction raise #MF). Operands live at [rsi-128, rsi) and stores go to [rsi, rsi+128).
// Transcendental instructions (FSIN...) are left out here: they are compared by their error bound
// in test/x87.test.ts. FISTTP (SSE3) is left out: the CPU does not advertise SSE3.
import { mulberry32 } from '../../src/util/prng.js';
import type { DiffCase } from './diffcase.js';
import { mem, reg, put80, put64, put32, put16 } from './x87-asm.js';

export const X87_RSI = 0x20000080;

type Rng = () => number;
const pick = <T>(r: Rng, a: readonly T[]): T => a[Math.floor(r() * a.length)];
const int = (r: Rng, n: number) => Math.floor(r() * n);
const rnd64 = (r: Rng): bigint => (BigInt(int(r, 0x100000000)) << 32n) | BigInt(int(r, 0x100000000));

/** A random 80-bit value (se, sig) from the special classes. */
export function val80(r: Rng): [number, bigint] {
  const s = r() < 0.4 ? 0x8000 : 0;
  const J = 1n << 63n;
  const sig = () => J | (rnd64(r) & (J - 1n));
  const tieSig = () => {
    // significands that sit on or near a rounding boundary at 24/53/64 bits
    const base = J | (rnd64(r) & (J - 1n));
    const sh = BigInt(pick(r, [40, 11, 1, 0]));
    const low = pick(r, [0n, 1n << sh >> 1n, (1n << sh >> 1n) + 1n, (1n << sh >> 1n) - 1n, (1n << sh) - 1n]);
    return sh === 0n ? base : (base & ~((1n << sh) - 1n)) | low;
  };
  switch (int(r, 20)) {
    case 0: return [s, 0n];                                               // zero
    case 1: return [s, rnd64(r) & (J - 1n) || 1n];                        // denormal
    case 2: return [s, sig()];                                            // pseudo-denormal
    case 3: return [s | (1 + int(r, 0x7ffe)), rnd64(r) & (J - 1n)];       // unnormal (unsupported)
    case 4: return [s | 0x7fff, J];                                       // infinity
    case 5: return [s | 0x7fff, pick(r, [0n, 0x4000000000000000n, 1n])]; // pseudo-inf / pseudo-NaN
    case 6: return [s | 0x7fff, J | (1n << 62n) | (rnd64(r) & ((1n << 62n) - 1n))]; // QNaN
    case 7: return [s | 0x7fff, J | ((rnd64(r) & ((1n << 62n) - 1n)) || 1n)];        // SNaN
    case 8: return [s | pick(r, [1, 2, 0x7ffe, 0x7ffd, 0x3c01, 0x43fe, 0x3f81, 0x407e]), sig()]; // extremes
    case 9: case 10: return [s | (0x3fff + int(r, 140) - 70), tieSig()];
    case 11: return [s | (0x3fff + int(r, 8) - 4), pick(r, [J, J | 1n, (1n << 64n) - 1n, J | (1n << 62n)])];
    default: return [s | (0x3fff + int(r, 140) - 70), sig()];
  }
}

/** A random double's bits from the special classes. */
function val64(r: Rng): bigint {
  const s = r() < 0.4 ? 1n << 63n : 0n;
  switch (int(r, 10)) {
    case 0: return s;
    case 1: return s | (rnd64(r) & 0xfffffffffffffn) || 1n;
    case 2: return s | 0x7ff0000000000000n;
    case 3: return s | 0x7ff8000000000000n | (rnd64(r) & 0x7ffffffffffffn);
    case 4: return s | 0x7ff0000000000000n | ((rnd64(r) & 0x7ffffffffffffn) || 1n);
    default: return s | (BigInt(1023 + int(r, 120) - 60) << 52n) | (rnd64(r) & 0xfffffffffffffn);
  }
}
function val32(r: Rng): number {
  const s = r() < 0.4 ? 0x80000000 : 0;
  switch (int(r, 10)) {
    case 0: return s;
    case 1: return (s | (int(r, 0x7fffff) + 1)) >>> 0;
    case 2: return (s | 0x7f800000) >>> 0;
    case 3: return (s | 0x7fc00000 | int(r, 0x3fffff)) >>> 0;
    case 4: return (s | 0x7f800000 | (int(r, 0x3fffff) + 1)) >>> 0;
    default: return (s | ((127 + int(r, 60) - 30) << 23) | int(r, 0x800000)) >>> 0;
  }
}
function valInt(r: Rng, bits: number): bigint {
  const m = (1n << BigInt(bits)) - 1n;
  switch (int(r, 5)) {
    case 0: return 0n;
    case 1: return 1n << BigInt(bits - 1);                       // the most negative
    case 2: return m & BigInt(int(r, 200) - 100);
    default: return rnd64(r) & m;
  }
}
function valBcd(r: Rng): [bigint, number] {
  let lo = 0n;
  const nd = int(r, 18);
  for (let i = 0; i < 16; i++) if (i < nd) lo |= BigInt(int(r, 10)) << BigInt(4 * i);
  const b8 = nd > 16 ? int(r, 10) | (int(r, 10) << 4) : 0;
  return [lo, b8 | (r() < 0.4 ? 0x8000 : 0)];
}

const ARITH_REG = [0xd8, 0xdc, 0xde];
const ARITH_MEM = [0xd8, 0xdc, 0xda, 0xde];

/** One x87 instruction (with any setup it needs), as hex. Slot k is [rsi - 128 + 16k]. */
function insn(r: Rng): string {
  const slot = () => -128 + 16 * int(r, 8);
  const out = () => 16 * int(r, 7);
  const sti = () => int(r, 8);
  switch (int(r, 34)) {
    case 0: case 1: { const [se, sig] = val80(r); const d = slot(); return put80(d, se, sig) + mem(0xdb, 5, d); } // fldt
    case 2: { const d = slot(); return put64(d, val64(r)) + mem(0xdd, 0, d); }                 // fldl
    case 3: { const d = slot(); return put32(d, val32(r)) + mem(0xd9, 0, d); }                 // flds
    case 4: { const d = slot(); const k = int(r, 3);                                             // fild
      return k === 0 ? put16(d, valInt(r, 16)) + mem(0xdf, 0, d) : k === 1 ? put32(d, valInt(r, 32)) + mem(0xdb, 0, d) : put64(d, valInt(r, 64)) + mem(0xdf, 5, d); }
    case 5: return reg(0xd9, 0xe8 + int(r, 7));                                                // constants
    case 6: return reg(0xd9, 0xc0 + sti());                                                    // fld st(i)
    case 7: case 8: case 9: { const e = pick(r, ARITH_REG); return reg(e, 0xc0 | (pick(r, [0, 1, 4, 5, 6, 7]) << 3) | sti()); }
    case 10: { const e = pick(r, ARITH_MEM); const d = slot(); const dg = pick(r, [0, 1, 4, 5, 6, 7]);
      const setup = e === 0xd8 ? put32(d, val32(r)) : e === 0xdc ? put64(d, val64(r)) : e === 0xda ? put32(d, valInt(r, 32)) : put16(d, valInt(r, 16));
      return setup + mem(e, dg, d); }
    case 11: return reg(0xd9, pick(r, [0xe0, 0xe1, 0xfa, 0xfc, 0xfd, 0xf4, 0xf5, 0xf8]));     // unary
    case 12: return reg(0xd9, pick(r, [0xf5, 0xf8, 0xfd, 0xfa]));
    case 13: { const c = int(r, 9);                                                            // compares
      if (c === 0) return reg(pick(r, [0xd8, 0xdc]), 0xd0 + int(r, 16) + 0) ;
      if (c === 1) return reg(0xde, 0xd9);
      if (c === 2) return reg(0xda, 0xe9);
      if (c === 3) return reg(0xdd, 0xe0 + int(r, 16));
      if (c === 4) return reg(pick(r, [0xdb, 0xdf]), 0xe8 + int(r, 16));
      if (c === 5) return reg(0xd9, pick(r, [0xe4, 0xe5]));
      const e = pick(r, ARITH_MEM); const d = slot();
      const setup = e === 0xd8 ? put32(d, val32(r)) : e === 0xdc ? put64(d, val64(r)) : e === 0xda ? put32(d, valInt(r, 32)) : put16(d, valInt(r, 16));
      return setup + mem(e, 2 + int(r, 2), d); }
    case 14: return 'dfe0';                                                                    // fnstsw ax
    case 15: case 16: { const k = int(r, 8); const d = out();                                  // stores
      return [mem(0xd9, 2, d), mem(0xd9, 3, d), mem(0xdd, 2, d), mem(0xdd, 3, d), mem(0xdb, 7, d), reg(0xdd, 0xd0 + sti()), reg(0xdd, 0xd8 + sti()), mem(0xdb, 5, d)][k]; }
    case 17: { const d = out(); return pick(r, [mem(0xdf, 2, d), mem(0xdf, 3, d), mem(0xdb, 2, d), mem(0xdb, 3, d), mem(0xdf, 7, d)]); } // fist(p)
    case 18: { const d = out(); return mem(0xdf, 6, d); }                                      // fbstp
    case 19: { const d = slot(); const [lo, hi] = valBcd(r); return put64(d, lo) + put16(d + 8, hi) + mem(0xdf, 4, d); } // fbld
    case 20: case 21: return reg(0xd9, 0xc8 + sti());                                          // fxch
    case 22: return reg(pick(r, [0xda, 0xdb]), 0xc0 + int(r, 32));                             // fcmovcc
    case 23: return pick(r, ['d9f6', 'd9f7', 'd9d0', reg(0xdd, 0xc0 + sti()), reg(0xdf, 0xc0 + sti())]);
    case 24: { const d = slot(); return put16(d, randomFcw(r)) + mem(0xd9, 5, d); }           // fldcw
    case 25: { const d = out(); return mem(0xd9, 7, d); }                                      // fnstcw
    case 26: { const d = out(); return mem(0xdd, 7, d); }                                      // fnstsw m16
    case 27: return pick(r, ['dbe2', '9b']);                                                   // fnclex, fwait
    case 28: { const d = out(); // the gcc (long) conversion: fnstcw; or ah,0c; fldcw; fistp; fldcw
      const t = -16; return mem(0xd9, 7, t) + '0fb746' + hex8(t) + '80cc0c' + '668946' + hex8(t - 2) + mem(0xd9, 5, t - 2) + mem(0xdf, 7, d) + mem(0xd9, 5, t); }
    case 29: { const e = pick(r, [0xd8, 0xdc, 0xde]); return reg(e, 0xc0 | (pick(r, [0, 1, 4, 5, 6, 7]) << 3) | 1); }
    case 30: return reg(pick(r, [0xdb, 0xdf]), pick(r, [0xe8, 0xf0]) + 1) + reg(pick(r, [0xda, 0xdb]), 0xc0 + int(r, 32)); // fucomi + fcmov
    case 31: { const d = out() & ~0x1f; // fnstenv / fldenv (32- and 16-bit), fnsave / frstor of what is there
      return pick(r, [mem(0xd9, 6, d), mem(0xd9, 4, d), '66' + mem(0xd9, 6, d), '66' + mem(0xd9, 4, d), mem(0xdd, 6, 0), mem(0xdd, 4, 0), '66' + mem(0xdd, 6, 0), mem(0xdd, 6, 0) + mem(0xdd, 4, 0)]); }
    case 32: return pick(r, [reg(0xd9, 0xd8 + sti()), reg(0xdd, 0xc8 + sti()), reg(0xdf, 0xc8 + sti()), reg(0xde, 0xd0 + sti()), reg(0xdf, 0xd0 + int(r, 16))]); // the undocumented aliases
    default: return reg(0xdd, 0xd8 + sti());                                                   // fstp st(i)
  }
}
const hex8 = (n: number) => (n & 0xff).toString(16).padStart(2, '0');

function randomFcw(r: Rng): number {
  const pc = pick(r, [0, 2, 3, 3, 1]), rc = int(r, 4);
  const masks = r() < 0.8 ? 0x3f : int(r, 64);
  return (rc << 10) | (pc << 8) | 0x40 | masks;
}

/** Case `i` of `seed`: a few loads, then a random x87 sequence. */
export function genX87Case(seed: number, i: number): DiffCase {
  const r = mulberry32((seed * 0x9e3779b1 + i * 0x85ebca6b) >>> 0);
  let code = '';
  const nLoads = int(r, 5);
  for (let k = 0; k < nLoads; k++) { const [se, sig] = val80(r); const d = -128 + 16 * k; code += put80(d, se, sig) + mem(0xdb, 5, d); }
  const n = 1 + int(r, 7);
  for (let k = 0; k < n; k++) code += insn(r);
  return { code, regs: { rsi: X87_RSI }, fcw: randomFcw(r) };
}

export function genX87Cases(seed: number, start: number, count: number): DiffCase[] {
  const a: DiffCase[] = [];
  for (let i = start; i < start + count; i++) a.push(genX87Case(seed, i));
  return a;
}
