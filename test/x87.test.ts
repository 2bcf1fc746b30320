// The x87 FPU against the host CPU, hand-written cases (SDM Vol. 1 chapter 8; Vol. 2A the
// instruction pages). Each case loads operands through memory ([rsi-128, rsi): m80/m64/m32/integers
// built with MOV) or with FLD1/FLDZ/FLDPI, runs the instruction and compares everything compare.ts
// compares (FCW, FSW, abridged FTW, ST0-ST7, EFLAGS, the data window, stop/vector).
// Random sequences: test/x87-gen.test.ts; transcendental accuracy: test/x87-trans.test.ts.
import { describe, expect, it } from 'vitest';
import { diffCases, runCases, nativeSkip, type DiffCase } from './diff/diffcase.js';
import { mem, reg, put80, put64, put32, put16, ld80, ld64, ld32, FSTP80, FNSTSW_AX } from './diff/x87-asm.js';

const RSI = { rsi: 0x20000080 };
const J = 1n << 63n;
const ONE: [number, bigint] = [0x3fff, J];
const c = (code: string, fcw?: number): DiffCase => ({ code, regs: RSI, ...(fcw !== undefined ? { fcw } : {}) });
const agree = (cases: DiffCase[]) => {
  const d = diffCases(cases);
  const bad = d.map((x, i) => (x.length ? `#${i} ${cases[i].code}\n  ${x.join('\n  ')}` : '')).filter(Boolean);
  expect(bad).toEqual([]);
};
// operand classes (SDM Vol. 1 4.8.3 Table 4-3, 8.2.2 Table 8-3)
const SPECIAL: [number, bigint][] = [
  [0, 0n], [0x8000, 0n],                              // +-0
  [0, 0x0000123456789abcn], [0x8000, 1n],             // denormals
  [0, J | 0x1234n],                                   // pseudo-denormal
  [0x3fff, 0x4000000000000000n],                      // unnormal
  [0x7fff, J], [0xffff, J],                           // +-infinity
  [0x7fff, 0n], [0x7fff, 0x4000000000000001n],        // pseudo-infinity, pseudo-NaN
  [0x7fff, J | (1n << 62n) | 5n], [0xffff, J | 7n],   // QNaN, SNaN
  [0x7ffe, ~0n & ((1n << 64n) - 1n)], [1, J],         // largest, smallest normal
  [0x3fff, J | 1n], [0xbffe, 0xc000000000000000n], [0x4003, 0xa000000000000000n],
];
const FCWS = [0x037f, 0x007f, 0x027f, 0x077f, 0x0b7f, 0x0f7f, 0x0c7f, 0x047f, 0x087f]; // PC x RC

describe.skipIf(nativeSkip)('x87 loads and stores (SDM Vol. 2A FLD, FILD, FBLD, FST/FSTP, FIST/FISTP, FBSTP)', () => {
  it('FLD m80 of every class, stored back with FSTP m32/m64/m80 and FIST m16/m32/m64 under each RC', () => {
    const cases: DiffCase[] = [];
    for (const [se, sig] of SPECIAL) for (const fcw of [0x37f, 0x77f, 0xb7f, 0xf7f]) {
      for (const st of [mem(0xd9, 3, 0), mem(0xdd, 3, 0), FSTP80(0), mem(0xdf, 3, 0), mem(0xdb, 3, 0), mem(0xdf, 7, 0)]) {
        cases.push(c(ld80(-128, se, sig) + st + mem(0xdd, 0, 0), fcw)); // reload what was stored (as m64) to compare
      }
    }
    agree(cases);
  });
  it('FLD m32/m64 denormals (DE), SNaNs (IE), infinities; FILD m16/m32/m64 extremes; the constants under each RC', () => {
    const cases: DiffCase[] = [];
    for (const b of [1, 0x80000001, 0x7f800000, 0x7f800001, 0x7fc00001, 0x3f800000, 0x00800000]) cases.push(c(ld32(-128, b)));
    for (const b of [1n, 0x7ff0000000000001n, 0x7ff8000000000001n, 0xfff0000000000000n, 0x000fffffffffffffn]) cases.push(c(ld64(-128, b)));
    for (const v of [0x8000, 0x7fff, 0]) cases.push(c(put16(-128, v) + mem(0xdf, 0, -128)));
    for (const v of [0x80000000, 0x7fffffff]) cases.push(c(put32(-128, v) + mem(0xdb, 0, -128)));
    for (const v of [J, J - 1n, (1n << 64n) - 1n]) cases.push(c(put64(-128, v) + mem(0xdf, 5, -128)));
    for (const fcw of FCWS) cases.push(c('d9e8d9e9d9ead9ebd9ecd9edd9ee', fcw));
    agree(cases);
  });
  it('stack overflow (C1 = 1) and underflow (C1 = 0) with IE masked and unmasked (SDM Vol. 1 8.5.1.1)', () => {
    const nine = 'd9e8'.repeat(9);
    agree([c(nine), c(nine, 0x37e), c('dd5e00'), c('dd5e00', 0x37e), c('d8c1'), c('d9c3'), c('ddd9'), c('d9d9'), c(nine + 'd9c0')]);
  });
  it('FBLD and FBSTP (packed BCD, SDM Vol. 1 4.7): digits, signs, out of range (indefinite), rounding by RC', () => {
    const cases: DiffCase[] = [];
    for (const [lo, hi] of [[0x1234567890123456n, 0x78], [0n, 0x8000], [0x9999999999999999n, 0x8099], [1n, 0]] as [bigint, number][]) {
      cases.push(c(put64(-128, lo) + put16(-120, hi) + mem(0xdf, 4, -128) + mem(0xdf, 6, 0) + mem(0xdf, 4, 0)));
    }
    for (const fcw of [0x37f, 0x77f, 0xb7f, 0xf7f]) {
      cases.push(c(ld80(-128, 0xc03a, 0xde0b6b3a763ffffcn) + mem(0xdf, 6, 0) + mem(0xdb, 5, 0), fcw)); // -(10^18 - 1/4)
      cases.push(c(ld80(-128, 0x403a, 0xde0b6b3a76400000n) + mem(0xdf, 6, 0) + mem(0xdb, 5, 0), fcw)); // 10^18: invalid
      cases.push(c(ld80(-128, 0x3ffe, 0xc000000000000000n) + mem(0xdf, 6, 0) + mem(0xdb, 5, 0), fcw)); // 0.75
    }
    agree(cases);
  });
});

describe.skipIf(nativeSkip)('x87 arithmetic (SDM Vol. 1 8.3.6, 8.1.5.2 precision control, 4.8.4 rounding)', () => {
  it('FADD/FSUB/FSUBR/FMUL/FDIV/FDIVR in their register, pop and memory forms under every PC x RC', () => {
    const cases: DiffCase[] = [];
    const a: [number, bigint] = [0x3fff, 0xaaaaaaaaaaaaaaabn], b: [number, bigint] = [0x4000, 0xd555555555555555n];
    for (const fcw of FCWS) for (let d = 0; d < 8; d++) {
      if (d === 2 || d === 3) continue;
      const setup = ld80(-128, a[0], a[1]) + ld80(-112, b[0], b[1]);
      cases.push(c(setup + reg(0xd8, 0xc0 | (d << 3) | 1), fcw));
      cases.push(c(setup + reg(0xdc, 0xc0 | (d << 3) | 1), fcw));
      cases.push(c(setup + reg(0xde, 0xc0 | (d << 3) | 1), fcw));
      cases.push(c(setup + put64(-96, 0x3fb999999999999an) + mem(0xdc, d, -96), fcw));
      cases.push(c(setup + put32(-96, 0x3dcccccd) + mem(0xd8, d, -96), fcw));
      cases.push(c(setup + put32(-96, 7) + mem(0xda, d, -96), fcw));
      cases.push(c(setup + put16(-96, 0xfffd) + mem(0xde, d, -96), fcw));
    }
    agree(cases);
  });
  it('special operands pairwise: NaN rules (SDM Vol. 1 Table 4-7), invalid operations, denormals, unsupported encodings', () => {
    const cases: DiffCase[] = [];
    for (const x of SPECIAL) for (const y of SPECIAL) {
      cases.push(c(ld80(-128, y[0], y[1]) + ld80(-112, x[0], x[1]) + 'dec1' + ld80(-96, y[0], y[1]) + 'def9' + ld80(-96, x[0], x[1]) + 'dec9'));
    }
    agree(cases);
  });
  it('overflow and underflow, masked (infinity / largest, denormal) and unmasked (exponent wrapped by 24576, SDM Vol. 1 8.5.4-8.5.5)', () => {
    const cases: DiffCase[] = [];
    const big: [number, bigint] = [0x7ffe, 0xc000000000000000n], tiny: [number, bigint] = [0x0001, 0xc000000000000000n];
    for (const fcw of [0x37f, 0x377, 0x36f, 0xf7f, 0x77f, 0x7f, 0x27f]) {
      cases.push(c(ld80(-128, big[0], big[1]) + 'd9c0' + 'dec9', fcw));
      cases.push(c(ld80(-128, tiny[0], tiny[1]) + ld80(-112, 0x3ffe, 0xc000000000000001n) + 'dec9', fcw));
      cases.push(c(ld80(-128, tiny[0], tiny[1]) + mem(0xd9, 3, 0) + mem(0xd9, 0, 0), fcw));
      cases.push(c(ld80(-128, big[0], big[1]) + mem(0xdd, 3, 0) + mem(0xdd, 0, 0), fcw));
    }
    agree(cases);
  });
  it('FCHS FABS FSQRT FRNDINT FSCALE FXTRACT on every class and under each RC', () => {
    const cases: DiffCase[] = [];
    for (const [se, sig] of SPECIAL) for (const op of ['d9e0', 'd9e1', 'd9fa', 'd9fc', 'd9f4']) cases.push(c(ld80(-128, se, sig) + op));
    for (const fcw of FCWS) {
      cases.push(c(ld80(-128, 0x4000, 0xb000000000000000n) + 'd9fc' + ld80(-112, 0xc000, 0xb000000000000000n) + 'd9fc' + ld80(-96, 0x3ffe, J) + 'd9fc', fcw));
      cases.push(c('d9e8d9ebd9ead9fad9fd', fcw));
    }
    for (const n of [0x4001, 0x400d, 0xc00d, 0x3ffe]) cases.push(c(ld80(-128, n, 0xc000000000000000n) + 'd9eb' + 'd9fd'));
    agree(cases);
  });
  it('FPREM and FPREM1: quotient bits in C0 C3 C1, partial remainder C2 = 1 for exponent differences of 64 and more', () => {
    const cases: DiffCase[] = [];
    for (const e of [0, 1, 2, 3, 5, 40, 62, 63, 64, 65, 95, 96, 200, 16000]) {
      for (const op of ['d9f8', 'd9f5']) {
        cases.push(c(ld80(-128, 0x3fff, 0x8ccccccccccccccdn) + ld80(-112, 0x3fff + e, 0xb504f333f9de6484n) + op + op + op));
        cases.push(c(ld80(-128, 0xbfff, 0xc90fdaa22168c235n) + ld80(-112, 0x3fff + e, 0xd000000000000000n) + op));
      }
    }
    agree(cases);
  });
});

describe.skipIf(nativeSkip)('x87 comparisons and classification (SDM Vol. 1 8.3.7, Tables 8-6, 8-7)', () => {
  it('FCOM/FCOMP/FCOMPP/FUCOM*/FICOM*/FTST and FCOMI/FUCOMI(P) over the special classes', () => {
    const cases: DiffCase[] = [];
    for (const x of SPECIAL) for (const y of [SPECIAL[0], SPECIAL[2], SPECIAL[6], SPECIAL[10], SPECIAL[11], SPECIAL[14], ONE]) {
      const s = ld80(-128, y[0], y[1]) + ld80(-112, x[0], x[1]);
      for (const op of ['d8d1', 'd8d9', 'ded9', 'dde1', 'dde9', 'dae9', 'd9e4', 'dbf1', 'dbe9', 'dff1', 'dfe9']) cases.push(c(s + op + FNSTSW_AX));
      cases.push(c(s + put32(-96, 1) + mem(0xda, 2, -96) + FNSTSW_AX));
      cases.push(c(s + put16(-96, 0xffff) + mem(0xde, 3, -96) + FNSTSW_AX));
      cases.push(c(s + put32(-96, 0x7f800001) + mem(0xd8, 2, -96) + FNSTSW_AX));
    }
    agree(cases);
  });
  it('FXAM classes: unsupported, NaN, normal, infinity, zero, empty, denormal, with the sign in C1', () => {
    agree([...SPECIAL.map(([se, sig]) => c(ld80(-128, se, sig) + 'd9e5' + FNSTSW_AX)), c('d9e5' + FNSTSW_AX), c('d9e8d9eed9c9ddd8d9e5')]);
  });
});

describe.skipIf(nativeSkip)('x87 control (SDM Vol. 1 8.3.11; Vol. 2A FXCH, FCMOVcc, FFREE, FINCSTP, FDECSTP, FLDCW, FNSTSW)', () => {
  it('FXCH, FCMOVcc on each flag state, FFREE/FFREEP, FINCSTP/FDECSTP, FNOP, FNCLEX, FNINIT, FNSTCW/FNSTSW', () => {
    const cases: DiffCase[] = [];
    for (const fl of [0x202, 0x203, 0x242, 0x206, 0x247]) for (let k = 0; k < 8; k++) {
      cases.push({ ...c('d9e8d9ebd9ee' + reg(0xda, 0xc1 + 8 * (k & 3)) + reg(0xdb, 0xc2 + 8 * (k & 3))), rflags: fl });
    }
    cases.push(c('d9e8d9ebd9c9d9cad9f6d9f7d9f7d9d0'), c('d9e8d9ebddc1dfc0'), c('d9e8dbe3d9e8'), c('d9e8d9e8d9e8' + mem(0xd9, 7, 0) + mem(0xdd, 7, 2) + FNSTSW_AX));
    cases.push(c('dbe0dbe1dbe4d9e8'), c(put16(-128, 0xffff) + mem(0xd9, 5, -128) + mem(0xd9, 7, 0)));
    agree(cases);
  });
  it('FNSTENV/FLDENV and FNSAVE/FRSTOR in the 32-bit and 16-bit (66) formats: images, masking, reinitialisation', () => {
    const s = ld80(-128, 0x4000, 0xc90fdaa22168c235n) + 'd9e8d9eedec9' + put80(-112, 0, 5n) + mem(0xdb, 5, -112);
    agree([
      c(s + mem(0xd9, 6, 0) + mem(0xd9, 4, 0) + 'd9e8'), c(s + '66' + mem(0xd9, 6, 0) + '66' + mem(0xd9, 4, 0)),
      c(s + mem(0xdd, 6, 0) + 'd9e8' + mem(0xdd, 4, 0)), c(s + '66' + mem(0xdd, 6, 0) + '66' + mem(0xdd, 4, 0) + 'dec1'),
      c(s + mem(0xdd, 6, 0), 0x0b72),
    ]);
  });
});

describe.skipIf(nativeSkip)('x87 exceptions are delayed to the next waiting instruction (SDM Vol. 1 8.6-8.7; Vol. 3A 6.15 #MF)', () => {
  it('an unmasked exception sets ES and B; the next waiting instruction (or FWAIT) raises #MF, FN* control instructions do not', () => {
    agree([
      c('d9e8d9eedef9' + '9b', 0x37b),            // ZE unmasked, then FWAIT: #MF
      c('d9e8d9eedef9' + 'd9e8', 0x37b),          // the next FLD1: #MF
      c('d9e8d9eedef9' + FNSTSW_AX + 'dbe2' + 'd9e8', 0x37b), // FNSTSW, FNCLEX do not wait; after FNCLEX no #MF
      c('d9e8d9ebdef9' + 'd9e8', 0x35f),          // PE unmasked
      c('d9e8d9e8d9e8d9e8d9e8d9e8d9e8d9e8d9e8' + 'd9e8', 0x37e), // stack overflow with IE unmasked
      c(put16(-128, 0x360) + 'd9e8d9eedef9' + mem(0xd9, 5, -128) + 'd9e8'), // FLDCW unmasking a pending flag
    ]);
    const [r] = runCases([c('d9e8d9eedef9' + '9b', 0x37b)]);
    expect([r.nat.vector, r.emu.vector]).toEqual([16, 16]);
  });
});
