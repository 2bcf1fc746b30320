// SSE/SSE2 floating point against the host CPU (issue 13): every instruction of the groups
// OP_SSE_MOVF, OP_SSE_FARITH, OP_SSE_FLOGIC, OP_SSE_FCMP, OP_SSE_CVT and OP_SSE_SHUFF (SDM Vol. 2
// instruction pages; Vol. 1 chapters 10-11), with MXCSR exactly (Vol. 1 10.2.3): rounding modes, FTZ,
// DAZ, the six flags, unmasked exceptions (#XM = 19, destination unchanged, Vol. 1 11.5.1-11.5.3),
// NaN rules (Vol. 1 4.8.3.5 Table 4-7), misaligned m128 (#GP(0), Vol. 1 11.6.7). Hand cases per
// instruction, a special-value matrix per arithmetic instruction, then generated sequences
// (test/diff/gen-sse-float.ts) with a fixed seed: SSE_DIFF_CASES / SSE_DIFF_SEEDS override the count
// and the seeds (scripts/diff-sse-float.mjs runs millions).
// The exec environment always sets CR4.OSFXSR/OSXMMEXCPT and clears CR0.TS/EM, so the availability
// rules and #UD for an unmasked exception with OSXMMEXCPT clear run in a kernel-mode TestGuest.
import { describe, it, expect } from 'vitest';
import { TestGuest, KCODE } from './helpers/guest.js';
import { haveAssembler } from './helpers/asm.js';
import { fpImage } from '../src/exec.js';
import { diffCases, runCases, nativeSkip, type DiffCase } from './diff/diffcase.js';
import { genSseFloatCases } from './diff/gen-sse-float.js';

const D = 0x20000100; // RSI: a 16-byte aligned address in the data window (src/exec.ts)
type C = [code: string, xmm: Record<string, string>, mxcsr?: string, regs?: Record<string, string>, rflags?: string];
const cases = (cs: C[]): DiffCase[] => cs.map(([code, xmm, mxcsr, regs, rflags]) => ({ code, xmm, mxcsr, regs: { rsi: D, ...regs }, rflags }));
/** Every case agrees with the host; failures name the case. */
function agree(cs: C[]): void {
  const dc = cases(cs);
  diffCases(dc).forEach((d, i) => expect(d, JSON.stringify(dc[i])).toEqual([]));
}
const RC = ['0x1f80', '0x3f80', '0x5f80', '0x7f80']; // RN, RD, RU, RZ, all masked
const FTZ = '0x9f80', DAZ = '0x1fc0', FTZDAZ = '0x9fc0';

describe.skipIf(nativeSkip)('SSE floating-point moves (SDM Vol. 2 MOVUPS ... MOVMSKPD)', () => {
  const X = { xmm0: '0x0123456789abcdef0011223344556677', xmm1: '0xfedcba98765432108899aabbccddeeff', xmm9: '0x80000000000000007fffffff00000001' };
  it('loads, stores and register moves; MOVSS/MOVSD from memory zero the rest, between registers merge', () => agree([
    ['0f10c1', X], ['660f10c1', X], ['f30f10c1', X], ['f20f10c1', X], ['0f1106 0f1046 04', X], ['f30f1106 660f1006', X],
    ['f20f1146 08 f30f104e 08', X], ['0f28c1', X], ['660f28c8', X], ['0f2906 0f2846 00', X], ['660f29 4e10', X],
    ['0f1106 0f1206', X], ['0f12c1', X], ['0f16c1', X], ['0f1106 0f1646 04', X], ['0f1106 660f124e 08', X],
    ['0f1106 660f164e 08', X], ['0f1346 20 0f1746 28 0f104e 20', X], ['660f1346 20 660f1746 28 0f1046 20', X],
    ['0f2b06 660f2b4e 10 0f1046 10', X], ['0f50c1', X], ['660f50c1', X], ['410f50c1', X], ['66480f50c9', X],
    ['440f28c9', X], ['66450f28c1', X],
  ]));
  it('MOVAPS/MOVAPD/MOVNTPS need 16-byte alignment (#GP(0)); MOVUPS does not', () => agree([
    ['0f2846 01', X], ['660f2846 08', X], ['0f2946 04', X], ['0f2b46 02', X], ['0f1046 03', X], ['0f1146 05', X],
    ['660f1046 07', X], ['f20f1046 03', X],
  ]));
});

// Special values (binary32 lanes / binary64 lanes) for the arithmetic matrix.
const S32 = ['00000000', '80000000', '00000001', '807fffff', '00800000', '3f800000', 'bfc00000', '7f7fffff', '7f800000', 'ff800000', '7fc00001', '7f800001'];
const S64 = ['0000000000000000', '8000000000000000', '0000000000000001', '800fffffffffffff', '0010000000000000', '3ff0000000000000',
  'bff8000000000000', '7fefffffffffffff', '7ff0000000000000', 'fff0000000000000', '7ff8000000000001', '7ff0000000000001'];
/** Every pair of special values through one instruction `op` (xmm0 op= xmm1), under `mx`. */
function matrix(code: string, is64: boolean, mx: string): C[] {
  const pool = is64 ? S64 : S32, out: C[] = [];
  for (let i = 0; i < pool.length; i += is64 ? 1 : 2) {
    const a = is64 ? '0x' + pool[(i + 3) % pool.length] + pool[i] : '0x' + pool[(i + 5) % pool.length] + pool[(i + 1) % pool.length] + pool[(i + 7) % pool.length] + pool[i];
    for (let j = 0; j < pool.length; j += is64 ? 1 : 2) {
      const b = is64 ? '0x' + pool[(j + 7) % pool.length] + pool[j] : '0x' + pool[(j + 3) % pool.length] + pool[j] + pool[(j + 9) % pool.length] + pool[(j + 1) % pool.length];
      out.push([code, { xmm0: a, xmm1: b }, mx]);
    }
  }
  return out;
}

describe.skipIf(nativeSkip)('SSE arithmetic (SDM Vol. 2 ADDPS ... SQRTSD, MINPS ... MAXSD, RCPPS, RSQRTPS; Vol. 1 4.8.3, 4.9, 11.5)', () => {
  const ARITH: [string, string][] = [['add', '58'], ['mul', '59'], ['sub', '5c'], ['min', '5d'], ['div', '5e'], ['max', '5f'], ['sqrt', '51']];
  for (const [n, o] of ARITH) {
    it(`${n}ps/pd/ss/sd over signed zeros, denormals, infinities, QNaN/SNaN, every rounding mode, FTZ and DAZ`, () => {
      const cs: C[] = [];
      // Round-to-nearest gets every pair; each other mode (RD, RU, RZ, FTZ, DAZ, FTZ+DAZ) a quarter of them.
      const modes = [...RC, FTZ, DAZ, FTZDAZ];
      for (const [p, is64] of [['', false], ['66', true], ['f3', false], ['f2', true]] as const)
        modes.forEach((mx, i) => cs.push(...matrix(`${p}0f${o}c1`, is64, mx).filter((_, k) => i === 0 || k % 4 === i % 4)));
      agree(cs);
    });
  }
  it('rounding boundaries: halfway cases round to even, directed modes step (ADDSD, DIVSD, SQRTSD, MULSS)', () => {
    const cs: C[] = [];
    for (const mx of RC) cs.push(
      ['f20f58c1', { xmm0: '0x3ff0000000000000', xmm1: '0x3ca0000000000000' }, mx], // 1 + 2^-53 (tie)
      ['f20f58c1', { xmm0: '0x3ff0000000000001', xmm1: '0x3ca0000000000000' }, mx],
      ['f20f5cc1', { xmm0: '0x3ff0000000000000', xmm1: '0x3c90000000000001' }, mx],
      ['f20f5ec1', { xmm0: '0x3ff0000000000000', xmm1: '0x4008000000000000' }, mx], // 1/3
      ['f20f5ec1', { xmm0: '0xbff0000000000000', xmm1: '0x4008000000000000' }, mx],
      ['f20f51c1', { xmm1: '0x4000000000000000' }, mx], ['f20f51c1', { xmm1: '0x4010000000000000' }, mx],
      ['f30f59c1', { xmm0: '0x3f800001', xmm1: '0x3f800001' }, mx], ['f30f5ec1', { xmm0: '0x3f800000', xmm1: '0x40400000' }, mx],
      ['f20f59c1', { xmm0: '0x7fe0000000000000', xmm1: '0x4000000000000000' }, mx],  // overflow
      ['f20f59c1', { xmm0: '0x0010000000000001', xmm1: '0x3fe0000000000000' }, mx],  // underflow, inexact
      ['f20f59c1', { xmm0: '0x0010000000000002', xmm1: '0x3fe0000000000000' }, mx],  // tiny, exact
      ['f20f59c1', { xmm0: '0x001fffffffffffff', xmm1: '0x3fefffffffffffff' }, mx],  // tiny before, not after rounding
      ['f20f5cc1', { xmm0: '0x3ff0000000000000', xmm1: '0x3ff0000000000000' }, mx],  // exact zero: -0 in RD
    );
    agree(cs);
  });
  it('unmasked exceptions fault with #XM and leave the destination (IE, DE, ZE, OE, UE, PE; packed: no element written)', () => agree([
    ['f20f5ec1', { xmm0: '0x3ff0000000000000', xmm1: '0' }, '0x1d80'],               // ZE unmasked
    ['0f58c1', { xmm0: '0x3f8000007f800001', xmm1: '0x3f80000000000000' }, '0x1f00'], // IE unmasked, SNaN in one lane
    ['660f58c1', { xmm0: '0x3ff0000000000000', xmm1: '0x3ca0000000000000' }, '0x0f80'], // PE unmasked
    ['f20f59c1', { xmm0: '0x7fe0000000000000', xmm1: '0x4000000000000000' }, '0x1780'], // OE unmasked
    ['f20f58c1', { xmm0: '0x7fed417c7cfeb3a2', xmm1: '0x7fed417c7cfeb3a2' }, '0x9b80'], // OE unmasked, exact at full precision: no PE
    ['f20f5ec1', { xmm0: '0x7fe0000000000001', xmm1: '0x3fe8000000000000' }, '0x1b80'], // OE unmasked, inexact: PE
    ['f20f59c1', { xmm0: '0x0010000000000001', xmm1: '0x3fe0000000000000' }, '0x1780'], // UE unmasked
    ['f20f59c1', { xmm0: '0x0010000000000002', xmm1: '0x3fe0000000000000' }, '0x1780'], // UE unmasked, exact
    ['f30f58c1', { xmm0: '0x00000001', xmm1: '0x3f800000' }, '0x1e80'],               // DE unmasked
    ['0f5ec1', { xmm0: '0x3f800000000000013f800000', xmm1: '0x40400000000000003f800000' }, '0x1c80'], // ZE+DE+PE
    ['0f51c1', { xmm1: '0xbf800000' }, '0x1f00'], ['f30f2dc1', { xmm1: '0x7f800000' }, '0x1f00'],
  ]));
  it('RCPPS/RCPSS/RSQRTPS/RSQRTSS give the host part\'s values (rcp-table.ts), no flags', () => {
    const cs: C[] = [];
    for (const v of [...S32, '3f800800', '3fffffff', '40490fdb', '7e800000', '00800000', '0b000000', 'bf123456', '3effffff'])
      for (const o of ['0f53c1', 'f30f53c1', '0f52c1', 'f30f52c1']) cs.push([o, { xmm1: `0x${v}3f812345${v}${v}`, xmm0: '0x1234' }, '0x1f80']);
    agree(cs);
  });
  it('AND/ANDN/OR/XOR PS/PD are bitwise, m128 aligned', () => agree([
    ['0f54c1', { xmm0: '0xffff0000ffff0000ffff0000ffff0000', xmm1: '0x0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f' }], ['660f55c1', { xmm0: '0xff00', xmm1: '0xffff' }],
    ['0f56c1', { xmm0: '0x8000000000000000', xmm1: '0x1' }], ['660f57c0', { xmm0: '0x1234' }], ['0f1106 0f5746 00', { xmm0: '0x77' }],
    ['0f5446 04', { xmm0: '0x77' }],
  ]));
});

describe.skipIf(nativeSkip)('SSE compares (SDM Vol. 2 CMPPS/CMPPD/CMPSS/CMPSD, COMISS/COMISD, UCOMISS/UCOMISD)', () => {
  it('all eight predicates over ordered, equal, signed-zero, denormal and NaN lanes (imm8[7:3] ignored)', () => {
    const cs: C[] = [];
    const a32 = '0x7fc00000' + '80000000' + '00000001' + '3f800000', b32 = '0x3f800000' + '00000000' + '00000001' + '7f800001';
    const a64 = '0x7ff8000000000000' + '3ff0000000000000', b64 = '0x0000000000000001' + '7ff0000000000001';
    for (let p = 0; p < 8; p++) {
      const ib = p.toString(16).padStart(2, '0');
      cs.push([`0fc2c1${ib}`, { xmm0: a32, xmm1: b32 }], [`660fc2c1${ib}`, { xmm0: a64, xmm1: b64 }], [`f30fc2c1${ib}`, { xmm0: a32, xmm1: b32 }],
        [`f20fc2c1${ib}`, { xmm0: a64, xmm1: b64 }], [`0fc2c1${ib}`, { xmm0: '0x3f800000', xmm1: '0x40000000' }, DAZ], [`0fc2c1${ib}`, { xmm0: a32, xmm1: b32 }, '0x1f00']);
    }
    cs.push(['0fc2c1f9', { xmm0: '0x1', xmm1: '0x2' }], ['0f1106 0fc24600 05', { xmm0: '0x1' }], ['0fc24608 02', {}]);
    agree(cs);
  });
  it('COMIS*/UCOMIS* set ZF/PF/CF and clear OF/SF/AF; COMIS* signals on QNaN', () => {
    const cs: C[] = [];
    const pairs = [['3f800000', '40000000'], ['40000000', '3f800000'], ['80000000', '00000000'], ['7fc00000', '3f800000'], ['7f800001', '00000000'], ['00000001', '00000000']];
    for (const [a, b] of pairs) for (const o of ['0f2fc1', '0f2ec1']) cs.push([o, { xmm0: '0x' + a, xmm1: '0x' + b }], [o, { xmm0: '0x' + a, xmm1: '0x' + b }, DAZ], [o, { xmm0: '0x' + a, xmm1: '0x' + b }, '0x1f00']);
    const p64 = [['3ff0000000000000', 'fff0000000000000'], ['7ff8000000000000', '7ff8000000000000'], ['0000000000000001', '8000000000000000']];
    for (const [a, b] of p64) for (const o of ['660f2fc1', '660f2ec1']) cs.push([o, { xmm0: '0x' + a, xmm1: '0x' + b }]);
    cs.push(['0f1106 0f2f46 04', { xmm0: '0x3f800000' }]);
    // OF, SF, AF set before: cleared by every outcome.
    for (const [a, b] of pairs) cs.push(['0f2fc1', { xmm0: '0x' + a, xmm1: '0x' + b }, undefined, undefined, '0x8d7'], ['660f2ec1', { xmm0: '0x' + a, xmm1: '0x' + b }, undefined, undefined, '0xad2']);
    agree(cs);
  });
});

describe.skipIf(nativeSkip)('SSE conversions (SDM Vol. 2 CVTPI2PS ... CVTTPD2DQ; integer indefinite, Vol. 1 4.8.3.6)', () => {
  const F64 = ['41e0000000000000', 'c1e0000000000000', 'c1e0000000200000', '41dfffffffc00000', '43e0000000000000', 'c3e0000000000000', '3fe0000000000000',
    'bff8000000000000', '4004000000000000', '7ff8000000000000', 'fff0000000000000', '0000000000000001', '400c000000000000', 'c00c000000000000'];
  const F32 = ['4f000000', 'cf000000', '5f000000', 'df000000', '3f000000', 'bfc00000', '40200000', '7fc00000', 'ff800000', '00000001', '4effffff', '3fc00000'];
  it('float -> integer: CVT[T]SS2SI, CVT[T]SD2SI (32 and 64 bits), every rounding mode, out of range and NaN', () => {
    const cs: C[] = [];
    for (const mx of [...RC, DAZ]) {
      for (const v of F64) for (const o of ['f20f2dc1', 'f20f2cc1', 'f2480f2dc1', 'f2480f2cc1']) cs.push([o, { xmm1: '0x' + v }, mx]);
      for (const v of F32) for (const o of ['f30f2dc1', 'f30f2cc1', 'f3480f2dc1', 'f3480f2cc1']) cs.push([o, { xmm1: '0x' + v }, mx]);
    }
    cs.push(['f30f2d46 00', {}], ['f2440f2d46 08', {}], ['f20f2dc1', { xmm1: '0x7ff8000000000000' }, '0x1f00']);
    agree(cs);
  });
  it('integer -> float: CVTSI2SS/SD (32/64), CVTDQ2PS, CVTDQ2PD, CVTPI2PS/PD (MMX or memory source)', () => {
    const cs: C[] = [];
    const ints = ['0x7fffffff', '0x80000000', '0xffffffff', '0x1000001', '0x7fffffffffffffff', '0x8000000000000000', '0x20000000000001', '0xfffffffe00000001', '0x0', '0x3'];
    for (const mx of RC) for (const i of ints) for (const o of ['f30f2ac0', 'f20f2ac0', 'f3480f2ac0', 'f2480f2ac0']) cs.push([o, { xmm0: '0xffffffffffffffffffffffffffffffff' }, mx, { rax: i }]);
    for (const mx of RC) cs.push(['0f5bc1', { xmm1: '0x7fffffff800000000100000100ffffff' }, mx], ['f30fe6c1', { xmm1: '0x7fffffff80000001' }, mx],
      ['0f1106 0f2a06', { xmm0: '0x7fffffff01000001' }, mx], ['660f1106 660f2a06', { xmm0: '0x80000000ffffffff' }, mx],
      ['f30f2a06', {}, mx], ['f3480f2a46 08', {}, mx]);
    agree(cs);
  });
  it('packed float -> integer: CVTPS2DQ, CVTTPS2DQ, CVTPD2DQ, CVTTPD2DQ, CVT[T]PS2PI, CVT[T]PD2PI (MMX state)', () => {
    const cs: C[] = [];
    for (const mx of [...RC, '0x1f00']) {
      cs.push(['660f5bc1', { xmm1: '0x' + F32[0] + F32[4] + F32[5] + F32[6] }, mx], ['f30f5bc1', { xmm1: '0x' + F32[1] + F32[4] + F32[5] + F32[7] }, mx],
        ['f20fe6c1', { xmm1: '0x' + F64[6] + F64[7] }, mx], ['660fe6c1', { xmm1: '0x' + F64[2] + F64[3] }, mx],
        ['0f2dc1', { xmm1: '0x' + F32[4] + F32[6] }, mx], ['0f2cc9', { xmm1: '0x' + F32[5] + F32[11] }, mx],
        ['660f2dd1', { xmm1: '0x' + F64[6] + F64[12] }, mx], ['660f2cd9', { xmm1: '0x' + F64[1] + F64[13] }, mx],
        ['0f2dc1 0f2ad0', { xmm1: '0x' + F32[4] + F32[6] }, mx]);
    }
    cs.push(['660f2d46 08', {}], ['660f5b46 04', {}]);
    agree(cs);
  });
  it('float <-> float: CVTSS2SD, CVTSD2SS, CVTPS2PD, CVTPD2PS (NaN payloads, denormals, overflow, FTZ/DAZ)', () => {
    const cs: C[] = [];
    for (const mx of [...RC, FTZ, DAZ, '0x1f00', '0x1780']) {
      for (const v of ['7fefffffffffffff', '47efffffefffffff', '47efffffe0000000', '36a0000000000000', '3690000000000001', '380fffffffffffff', '7ff0000000012345', 'fff8000000000001', '0000000000000001', '3ff0000010000000'])
        cs.push(['f20f5ac1', { xmm1: '0x' + v }, mx], ['660f5ac1', { xmm1: '0x' + v + v, xmm0: '0x1234567890' }, mx]);
      for (const v of ['7f800001', 'ffc12345', '00000001', '807fffff', '7f7fffff', '3f800000'])
        cs.push(['f30f5ac1', { xmm1: '0x' + v, xmm0: '0x1' }, mx], ['0f5ac1', { xmm1: '0x' + v + '3f800000' }, mx]);
    }
    agree(cs);
  });
});

describe.skipIf(nativeSkip)('SSE shuffles and unpacks (SDM Vol. 2 SHUFPS, SHUFPD, UNPCKLPS/PD, UNPCKHPS/PD)', () => {
  it('every imm8 lane choice, register and aligned memory sources, misaligned #GP(0)', () => {
    const X = { xmm0: '0x33333333222222221111111100000000', xmm1: '0x77777777666666665555555544444444' };
    const cs: C[] = [];
    for (const imm of [0x00, 0x1b, 0xe4, 0x4e, 0xb1, 0xff, 0x01, 0x02, 0x03]) cs.push([`0fc6c1${imm.toString(16).padStart(2, '0')}`, X], [`660fc6c1${imm.toString(16).padStart(2, '0')}`, X]);
    cs.push(['0f14c1', X], ['0f15c1', X], ['660f14c1', X], ['660f15c1', X], ['0f14c0', X], ['0f1106 0f1546 00', X], ['0f1446 04', X], ['0fc64608 1b', X]);
    agree(cs);
  });
});

describe.skipIf(nativeSkip)('invalid encodings decode as #UD (SDM Vol. 2D Table A-3)', () => {
  it('register forms of memory-only rows, SSE3 rows, F2 0F 5B, no-prefix 0F E6, LOCK', () => {
    const cs: C[] = [['660f12c1', {}], ['0f13c1', {}], ['0f2bc1', {}], ['0f50 06', {}],
      ['f20f5bc1', {}], ['0fe6c1', {}], ['660f52c1', {}], ['f20f53c1', {}], ['f30f28c1', {}], ['f30f54c1', {}], ['f0 0f58 06', {}], ['f30f2ec1', {}]];
    agree(cs);
    // SSE3's MOVSLDUP/MOVDDUP/MOVSHDUP (F3/F2 0F 12, F3 0F 16) and SSE4a's MOVNTSS/MOVNTSD (F3/F2 0F 2B):
    // this CPU does not have them (src/cpuid.ts advertises neither), so #UD, whatever the host does.
    for (const r of runCases(cases([['f30f12c1', {}], ['f20f12c1', {}], ['f30f16c1', {}], ['f30f2b06', {}], ['f20f2b06', {}], ['0f2bc1', {}]])))
      expect(r.emu.vector, JSON.stringify(r.exec)).toBe(6);
  });
});

describe.skipIf(nativeSkip)('generated SSE floating-point sequences agree with the host (test/diff/gen-sse-float.ts)', () => {
  const count = Number(process.env.SSE_DIFF_CASES ?? 7000);
  const seeds = (process.env.SSE_DIFF_SEEDS ?? '1').split(',').map(Number);
  it(`${count} cases per seed, seeds ${seeds.join(',')}`, () => {
    const CHUNK = 5000;
    const bad: string[] = [];
    let faults = 0;
    for (const seed of seeds) {
      for (let from = 0; from < count; from += CHUNK) {
        const cs = genSseFloatCases(seed, Math.min(CHUNK, count - from), from);
        if (count > 100_000 && from % 100_000 === 0) process.stderr.write(`[sse-float] seed ${seed}: ${from} cases done, ${bad.length} mismatches\n`);
        runCases(cs).forEach((r, i) => {
          if (r.emu.vector !== undefined) faults++;
          if (r.diffs.length && bad.length < 20) bad.push(`seed ${seed} case ${from + i}: ${cs[i].listing.join('; ')} ${JSON.stringify(r.exec)} ${r.diffs.join(' | ')}`);
        });
      }
    }
    expect(bad).toEqual([]);
    expect(faults).toBeGreaterThan(0); // the unmasked-exception and alignment paths are exercised
  }, Math.max(600_000, count * seeds.length * 10)); // long runs (scripts/diff-sse-float.mjs): ~10 ms a case at worst
});

describe.skipIf(!haveAssembler())('availability and SIMD exception delivery (SDM Vol. 3A 2.5 CR0.EM/TS, CR4.OSFXSR/OSXMMEXCPT; 6.15 Interrupt 19; Vol. 1 11.5.1)', () => {
  // DIVSD xmm0, xmm1 = 1.0 / 0 with ZE unmasked (MXCSR 0x1d80), then HLT.
  function divByZero(cr0Extra: bigint, cr4Extra: number): { vector: number; count: number; xmm0: bigint; mxcsr: number } {
    const g = new TestGuest();
    g.kernel('.byte 0xf2, 0x0f, 0x5e, 0xc1\nhlt');
    g.m.vmwrite('GUEST_CR0', 0x80050033n | cr0Extra);
    g.m.vmwrite('GUEST_CR4', 0x20 | 0x2000 | cr4Extra);
    const xmm = Array<bigint>(16).fill(0n); xmm[0] = 0x3ff0000000000000n;
    g.m.fxrstor(fpImage({ fcw: 0x37f, mxcsr: 0x1d80, xmm } as never));
    g.run();
    const img = g.m.fxsave(), dv = new DataView(img.buffer, img.byteOffset);
    const rec = g.record();
    return { vector: rec.vector, count: rec.count, xmm0: dv.getBigUint64(160, true), mxcsr: dv.getUint32(24, true) };
  }
  it('#XM (19) with OSXMMEXCPT set, #UD (6) with it clear; ZE is flagged and XMM0 keeps its value either way', () => {
    const xm = divByZero(0n, 0x200 | 0x400);
    expect(xm).toMatchObject({ vector: 19, count: 1, xmm0: 0x3ff0000000000000n, mxcsr: 0x1d84 });
    const ud = divByZero(0n, 0x200);
    expect(ud).toMatchObject({ vector: 6, count: 1, xmm0: 0x3ff0000000000000n, mxcsr: 0x1d84 });
  });
  it('#UD when CR4.OSFXSR is clear or CR0.EM is set, #NM (7) when CR0.TS is set; MXCSR untouched', () => {
    expect(divByZero(0n, 0)).toMatchObject({ vector: 6, mxcsr: 0x1d80 });
    expect(divByZero(4n, 0x600)).toMatchObject({ vector: 6, mxcsr: 0x1d80 });
    expect(divByZero(8n, 0x600)).toMatchObject({ vector: 7, mxcsr: 0x1d80 });
  });
});
