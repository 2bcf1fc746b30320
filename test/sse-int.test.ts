// SSE2 packed integer and MMX (SDM Vol. 1 chapter 9 "Programming with Intel MMX Technology",
// 11.4.3 "128-Bit SIMD Integer Instructions"; Vol. 2B/2C instruction pages): hand cases per
// instruction against the host CPU (test/diff/diffcase.ts) -- saturation edges, shift counts at and
// past the lane width (immediate, register, m64 and m128 counts), PMADDWD's 0x8000*0x8000 pairs,
// PSADBW, MASKMOVDQU/MASKMOVQ, PINSRW/PEXTRW with high imm8 bits, the MMX side effects on the x87
// state (Vol. 1 9.5.1 / Table 9-1: TOP = 0, tags valid, exponent 0xFFFF; EMMS empties the tags),
// the alignment #GP(0) of the m128 forms (Vol. 2A 2.4 exception type 4) -- and the generated cases
// of test/diff/gen-sse-int.ts (a fixed seed; scripts/diff-sse-int.mjs runs millions).
//
// #MF for a pending unmasked x87 exception is checked on our CPU alone (TestGuest, FSW.ES set
// through Machine.fxrstor): leaving FSW.ES set on the host needs an x87 instruction, and this
// branch has no x87 unit yet (decode/x87.ts: #UD), so there is no host comparison for it.
import { describe, it, expect } from 'vitest';
import { TestGuest, KCODE } from './helpers/guest.js';
import { diffCases, runCases, nativeSkip, type DiffCase } from './diff/diffcase.js';
import { genSseIntCase, ins, hex } from './diff/gen-sse-int.js';

const DATA = 0x20000000;
const RSI = 6, RDI = 7, RAX = 0, RCX = 1;
const P = (...parts: number[][]) => hex(parts.flat());
const X = (v: bigint) => '0x' + v.toString(16);

/** Edge-heavy XMM inputs shared by the cases. */
const XIN: Record<string, string> = {
  xmm0: '0x7f7f80800001fffe7fff80000001ffff', xmm1: '0x01ff7f80ff0180017fff8000ffff0001',
  xmm2: '0x800080008000800080008000ffff7fff', xmm3: '0x80008000800080007fff7fff00018000',
  xmm4: '0x00112233445566778899aabbccddeeff', xmm5: '0xfedcba98765432100123456789abcdef',
  xmm6: '0xffffffff000000007fffffff80000000', xmm7: '0x0000000100000000ffffffff00000002',
};
/** MM0-7 <- R8-R15 (MOVQ mm, r64): every MMX register defined (the host keeps stale ST(i) bits). */
const MMLOAD = P(...Array.from({ length: 8 }, (_, i) => ins(0, 0x6e, i, 8 + i, undefined, true)));
// R8-R15 carry the MMX inputs (keys built from numbers: the register names themselves live in assembly/shared/regs.ts).
const MMVALS = ['0x7f7f80800001fffe', '0x01ff7f80ff018001', '0x8000800080008000', '0x7fff80000001ffff',
  '0x0011223344556677', '0x8899aabbccddeeff', '0xffff7fff00018000', '0x0000000100000002'];
const MMREGS: Record<string, string> = {
  ...Object.fromEntries(MMVALS.map((v, i) => [`r${8 + i}`, v])),
  rsi: X(BigInt(DATA + 0x100)), rdi: X(BigInt(DATA + 0x800)),
};

/** The case's ops in both forms: 66 on XMM0-7 (inputs XIN) and MMX on MM0-7 (inputs from MMREGS). */
function both(build: (pfx: number) => number[][]): DiffCase[] {
  return [
    { code: P(...build(0x66)), xmm: XIN, regs: MMREGS },
    { code: MMLOAD + P(...build(0)), xmm: XIN, regs: MMREGS },
  ];
}

function expectAgree(cases: DiffCase[], stops?: string[]): void {
  const rs = runCases(cases);
  rs.forEach((r, i) => {
    expect(r.diffs, `case ${i}: ${JSON.stringify(r.exec)}`).toEqual([]);
    if (stops) expect(`${r.nat.stop}${r.nat.vector !== undefined ? ':' + r.nat.vector : ''}`, `case ${i}`).toBe(stops[i]);
  });
}
const ends = (n: number) => Array<string>(n).fill('end');

describe.skipIf(nativeSkip)('SSE2/MMX integer arithmetic (SDM Vol. 2B PADD*, PSUB*, PMUL*, PMADDWD, PSADBW, PAVG*, PMIN*/PMAX*)', () => {
  it('wraparound and saturating add/subtract, every lane size, both forms', () => {
    const ops = [0xfc, 0xfd, 0xfe, 0xd4, 0xf8, 0xf9, 0xfa, 0xfb, 0xec, 0xed, 0xe8, 0xe9, 0xdc, 0xdd, 0xd8, 0xd9];
    const cases = ops.flatMap((op) => both((p) => [ins(p, op, 0, 1), ins(p, op, 2, 3), ins(p, op, 3, 2), ins(p, op, 4, 4)]));
    expectAgree(cases, ends(cases.length));
  });

  it('multiplies: PMULLW, PMULHW, PMULHUW, PMULUDQ, PMADDWD (0x8000*0x8000 pairs wrap to 0x80000000)', () => {
    const cases = [0xd5, 0xe5, 0xe4, 0xf4, 0xf5].flatMap((op) => both((p) => [ins(p, op, 0, 1), ins(p, op, 2, 2), ins(p, op, 3, 5), ins(p, op, 6, 7)]));
    expectAgree(cases, ends(cases.length));
    // PMADDWD of 0x8000 words with themselves: each doubleword is 2 * 2^30 = 0x80000000.
    const [r] = runCases([{ code: P(ins(0x66, 0xf5, 2, 2)), xmm: { xmm2: '0x80008000800080008000800080008000' } }]);
    expect(r.diffs).toEqual([]);
    expect(r.nat.xmm.xmm2).toBe('0x80000000800000008000000080000000');
  });

  it('PSADBW, PAVGB/PAVGW, PMINUB/PMAXUB, PMINSW/PMAXSW', () => {
    const cases = [0xf6, 0xe0, 0xe3, 0xda, 0xde, 0xea, 0xee].flatMap((op) => both((p) => [ins(p, op, 0, 1), ins(p, op, 4, 5), ins(p, op, 6, 7), ins(p, op, 2, 3)]));
    expectAgree(cases, ends(cases.length));
    const [r] = runCases([{ code: P(ins(0x66, 0xf6, 0, 1)), xmm: { xmm0: '0xff' + '00'.repeat(7) + 'ff'.repeat(8), xmm1: '0x0' } }]);
    expect(r.nat.xmm.xmm0).toBe('0x' + '0'.repeat(13) + '0ff' + '0'.repeat(13) + '7f8'); // 255 and 8*255
    expect(r.diffs).toEqual([]);
  });

  it('memory sources: m64 (MMX, any alignment) and aligned m128', () => {
    const mem = { base: RSI, disp: 0x10 };
    const cases = [0xfc, 0xd5, 0xf5, 0xf6, 0xe0, 0xec].flatMap((op) => both((p) => [ins(p, op, 1, p ? mem : { base: RSI, disp: 3 })]));
    expectAgree(cases, ends(cases.length));
  });
});

describe.skipIf(nativeSkip)('compare and logic (SDM Vol. 2B PCMPEQ*, PCMPGT* (signed), PAND, PANDN, POR, PXOR)', () => {
  it('each lane all ones or zeros; the bitwise operations', () => {
    const cases = [0x74, 0x75, 0x76, 0x64, 0x65, 0x66, 0xdb, 0xdf, 0xeb, 0xef]
      .flatMap((op) => both((p) => [ins(p, op, 0, 1), ins(p, op, 2, 3), ins(p, op, 6, 7), ins(p, op, 5, 5)]));
    expectAgree(cases, ends(cases.length));
  });
});

describe.skipIf(nativeSkip)('shifts (SDM Vol. 2B PSLL*, PSRL*, PSRA*, PSLLDQ, PSRLDQ: counts past the lane width)', () => {
  const regOps = [0xd1, 0xd2, 0xd3, 0xe1, 0xe2, 0xf1, 0xf2, 0xf3];
  const counts = [0n, 1n, 15n, 16n, 17n, 31n, 32n, 33n, 63n, 64n, 65n, 255n, 256n, 1n << 32n, 1n << 63n, 0xffffffffffffffffn];
  it('count from a register: the whole 64-bit value (XMM low quadword, MM)', () => {
    const cases: DiffCase[] = [];
    for (const op of regOps) {
      for (const c of counts) {
        // XMM1 = count | R8 << 64: the high quadword is nonzero and must be ignored.
        cases.push({ code: P(ins(0x66, 0x6e, 1, 9, undefined, true), ins(0x66, 0x6e, 8, 8, undefined, true), ins(0x66, 0x6c, 1, 8),
          ins(0x66, op, 0, 1), ins(0x66, op, 2, 1)), xmm: XIN, regs: { r9: X(c), r8: '0x3' } });
        cases.push({ code: MMLOAD + P(ins(0, 0x6e, 1, 9, undefined, true), ins(0, op, 0, 1)), xmm: XIN, regs: { ...MMREGS, r9: X(c) } });
      }
    }
    expectAgree(cases, ends(cases.length));
  });

  it('count from m64 (MMX) and m128 (SSE2: its low quadword; the high one is ignored)', () => {
    const cases: DiffCase[] = [];
    for (const op of regOps) {
      for (const c of [3n, 16n, 64n, 1n << 40n]) {
        // Store the count at [rdi] (low quadword) with a nonzero high quadword, then shift by it.
        const st = P(ins(0x66, 0x6e, 9, 9, undefined, true), ins(0x66, 0x70, 10, 9, 0x44), ins(0x66, 0x6e, 11, 8, undefined, true),
          ins(0x66, 0x6c, 9, 11), ins(0x66, 0x7f, 9, { base: RDI, disp: 0 }));
        cases.push({ code: st + P(ins(0x66, op, 0, { base: RDI, disp: 0 }), ins(0x66, op, 2, { base: RDI, disp: 0 })), xmm: XIN, regs: { ...MMREGS, r9: X(c), r8: '0x5' } });
        cases.push({ code: MMLOAD + P(ins(0, 0x7e, 9, { base: RDI, disp: 3 }, undefined, true), ins(0, op, 0, { base: RDI, disp: 3 })), xmm: XIN, regs: { ...MMREGS, r9: X(c) } });
      }
    }
    expectAgree(cases, ends(cases.length));
  });

  it('immediate counts (0F 71/72/73 groups) including >= the width and 255; PSLLDQ/PSRLDQ by 0..16 and 255', () => {
    const cases: DiffCase[] = [];
    const groups: [number, number][] = [[0x71, 2], [0x71, 4], [0x71, 6], [0x72, 2], [0x72, 4], [0x72, 6], [0x73, 2], [0x73, 6]];
    for (const [op, d] of groups) {
      cases.push(...both((p) => [0, 1, 15, 16, 31, 32, 63, 64, 200, 255].map((c, i) => ins(p, op, d, i & 7, c))));
    }
    for (const d of [3, 7]) {
      cases.push({ code: P(...[0, 1, 7, 8, 15, 16, 17, 255].map((c, i) => ins(0x66, 0x73, d, i, c))), xmm: XIN });
    }
    expectAgree(cases, ends(cases.length));
  });
});

describe.skipIf(nativeSkip)('pack, unpack, shuffle (SDM Vol. 2B PACKSSWB/PACKSSDW/PACKUSWB, PUNPCK*, PSHUFD/HW/LW, PSHUFW)', () => {
  it('pack with saturation, interleave low/high halves (MMX PUNPCKL reads m32)', () => {
    const ops = [0x63, 0x6b, 0x67, 0x60, 0x61, 0x62, 0x68, 0x69, 0x6a];
    const cases = ops.flatMap((op) => both((p) => [ins(p, op, 0, 1), ins(p, op, 2, 3), ins(p, op, 4, 4), ins(p, op, 5, p ? { base: RSI, disp: 0x20 } : { base: RSI, disp: 0x3 })]));
    cases.push({ code: P(ins(0x66, 0x6c, 0, 1), ins(0x66, 0x6d, 2, 3), ins(0x66, 0x6c, 4, { base: RSI, disp: 0 }), ins(0x66, 0x6d, 5, 5)), xmm: XIN, regs: MMREGS });
    // PUNPCKLBW mm, m32 at the last 4 bytes of the data window: only 4 bytes are read (no #PF).
    cases.push({ code: MMLOAD + P(ins(0, 0x60, 0, { base: RSI, disp: 0 })), xmm: XIN, regs: { ...MMREGS, rsi: X(BigInt(DATA + 0xfffc)) } });
    expectAgree(cases, ends(cases.length));
  });

  it('shuffles with several imm8 values, register and memory sources', () => {
    const cases: DiffCase[] = [];
    for (const imm of [0x00, 0x1b, 0x4e, 0xe4, 0xff, 0x39]) {
      cases.push({ code: P(ins(0x66, 0x70, 0, 1, imm), ins(0xf3, 0x70, 2, 5, imm), ins(0xf2, 0x70, 3, 4, imm), ins(0x66, 0x70, 6, { base: RSI, disp: 0x30 }, imm)), xmm: XIN, regs: MMREGS });
      cases.push({ code: MMLOAD + P(ins(0, 0x70, 0, 1, imm), ins(0, 0x70, 2, 2, imm), ins(0, 0x70, 3, { base: RSI, disp: 5 }, imm)), xmm: XIN, regs: MMREGS });
    }
    expectAgree(cases, ends(cases.length));
  });
});

describe.skipIf(nativeSkip)('moves and transfers (SDM Vol. 2B MOVD/MOVQ, MOVDQA/MOVDQU, MOVQ2DQ/MOVDQ2Q, MOVNT*, PINSRW/PEXTRW, PMOVMSKB)', () => {
  it('MOVD/MOVQ with GPRs and memory, both widths (REX.W), zero-extension of the destination', () => {
    const cases: DiffCase[] = [];
    for (const w of [false, true]) {
      cases.push({ code: P(ins(0x66, 0x6e, 0, 9, undefined, w), ins(0x66, 0x6e, 11, { base: RSI, disp: 7 }, undefined, w),
        ins(0x66, 0x7e, 1, RAX, undefined, w), ins(0x66, 0x7e, 5, { base: RDI, disp: 9 }, undefined, w)), xmm: XIN, regs: { ...MMREGS, rax: '0xffffffffffffffff' } });
      cases.push({ code: MMLOAD + P(ins(0, 0x6e, 0, 9, undefined, w), ins(0, 0x6e, 3, { base: RSI, disp: 7 }, undefined, w),
        ins(0, 0x7e, 1, RAX, undefined, w), ins(0, 0x7e, 5, { base: RDI, disp: 9 }, undefined, w)), xmm: XIN, regs: { ...MMREGS, rax: '0xffffffffffffffff' } });
    }
    cases.push({ code: P(ins(0xf3, 0x7e, 0, 1), ins(0xf3, 0x7e, 2, { base: RSI, disp: 3 }), ins(0x66, 0xd6, 3, 4), ins(0x66, 0xd6, 5, { base: RDI, disp: 5 })), xmm: XIN, regs: MMREGS });
    cases.push({ code: P(ins(0x66, 0x6f, 0, 1), ins(0xf3, 0x6f, 2, { base: RSI, disp: 3 }), ins(0x66, 0x6f, 3, { base: RSI, disp: 0x40 }),
      ins(0x66, 0x7f, 4, { base: RDI, disp: 0x10 }), ins(0xf3, 0x7f, 5, { base: RDI, disp: 0x21 }), ins(0x66, 0x7f, 6, 7), ins(0xf3, 0x7f, 7, 1),
      ins(0x66, 0xe7, 1, { base: RDI, disp: 0x60 })), xmm: XIN, regs: MMREGS });
    cases.push({ code: MMLOAD + P(ins(0, 0x6f, 0, 1), ins(0, 0x6f, 2, { base: RSI, disp: 3 }), ins(0, 0x7f, 3, { base: RDI, disp: 5 }),
      ins(0, 0x7f, 4, 6), ins(0, 0xe7, 7, { base: RDI, disp: 0x31 })), xmm: XIN, regs: MMREGS });
    // MOVQ2DQ xmm, mm (upper quadword cleared) and MOVDQ2Q mm, xmm.
    cases.push({ code: MMLOAD + P(ins(0xf3, 0xd6, 0, 1), ins(0xf3, 0xd6, 9, 7), ins(0xf2, 0xd6, 2, 5), ins(0xf2, 0xd6, 3, 8)), xmm: XIN, regs: MMREGS });
    // MOVNTI m32/m64.
    cases.push({ code: P(ins(0, 0xc3, RAX, { base: RDI, disp: 1 }), ins(0, 0xc3, 9, { base: RDI, disp: 0x11 }, undefined, true)), regs: { ...MMREGS, rax: '0x1122334455667788' } });
    expectAgree(cases, ends(cases.length));
  });

  it('PINSRW/PEXTRW: only the low imm8 bits pick the word; PEXTRW and PMOVMSKB zero-extend into r64', () => {
    const cases: DiffCase[] = [];
    for (const imm of [0, 3, 5, 7, 0x0c, 0xff, 0x81]) {
      cases.push({ code: P(ins(0x66, 0xc4, 0, 9, imm), ins(0x66, 0xc4, 1, { base: RSI, disp: 0x1f }, imm), ins(0x66, 0xc5, RAX, 4, imm),
        ins(0x66, 0xc5, 10, 5, imm, true)), xmm: XIN, regs: { ...MMREGS, rax: '0xffffffffffffffff' } });
      cases.push({ code: MMLOAD + P(ins(0, 0xc4, 0, 9, imm), ins(0, 0xc4, 1, { base: RSI, disp: 0x1f }, imm), ins(0, 0xc5, RAX, 4, imm),
        ins(0, 0xc5, 10, 5, imm, true)), xmm: XIN, regs: { ...MMREGS, rax: '0xffffffffffffffff' } });
    }
    cases.push({ code: P(ins(0x66, 0xd7, RAX, 0), ins(0x66, 0xd7, RCX, 1), ins(0x66, 0xd7, 9, 2, undefined, true)), xmm: XIN, regs: { rax: '0xffffffffffffffff' } });
    cases.push({ code: MMLOAD + P(ins(0, 0xd7, RAX, 0), ins(0, 0xd7, RCX, 1), ins(0, 0xd7, 9, 5)), regs: { ...MMREGS, rax: '0xffffffffffffffff' } });
    expectAgree(cases, ends(cases.length));
  });

  it('MASKMOVDQU/MASKMOVQ: only bytes with the mask bit set are stored at DS:rDI (67: EDI)', () => {
    const cases: DiffCase[] = [
      { code: P(ins(0x66, 0xf7, 4, 0)), xmm: XIN, regs: MMREGS },
      { code: P(ins(0x66, 0xf7, 5, 2)), xmm: XIN, regs: { ...MMREGS, rdi: X(BigInt(DATA + 0x903)) } },
      { code: '67' + P(ins(0x66, 0xf7, 5, 1)), xmm: XIN, regs: { ...MMREGS, rdi: X(0xffffffff00000000n + BigInt(DATA + 0x100)) } },
      { code: MMLOAD + P(ins(0, 0xf7, 4, 0)), xmm: XIN, regs: MMREGS },
      { code: MMLOAD + P(ins(0, 0xf7, 5, 2)), xmm: XIN, regs: { ...MMREGS, rdi: X(BigInt(DATA + 0x9ff)) } },
    ];
    expectAgree(cases, ends(cases.length));
  });
});

describe.skipIf(nativeSkip)('MMX and the x87 state (SDM Vol. 1 9.5.1, Table 9-1; Vol. 2A EMMS)', () => {
  it('an MMX instruction sets all tags valid and the written MMi exponent to 0xFFFF; EMMS empties the tags', () => {
    const [a, b, c] = runCases([
      { code: P(ins(0, 0x6e, 3, RAX, undefined, true)) + MMLOAD, regs: { ...MMREGS, rax: '0x123456789abcdef0' } },
      { code: MMLOAD + '0f77', regs: MMREGS },
      { code: MMLOAD + P(ins(0, 0xfc, 1, 2)), regs: MMREGS },
    ]);
    for (const r of [a, b, c]) expect(r.diffs).toEqual([]);
    expect(a.nat.fpu.ftw).toBe('0xff');
    expect(a.nat.fpu.st0).toBe('0xffff7f7f80800001fffe');
    expect(b.nat.fpu.ftw).toBe('0x0');
    expect(b.nat.fpu.st7).toBe('0xffff0000000100000002'); // EMMS leaves the contents
    expect(c.nat.fpu.fsw).toBe('0x0');
  });

  it('a read-only MMX instruction (MOVD r32, mm; PMOVMSKB) also marks every tag valid', () => {
    const cases: DiffCase[] = [
      { code: MMLOAD + '0f77' + P(ins(0, 0x7e, RAX, 2)), regs: MMREGS },
      { code: MMLOAD + '0f77' + P(ins(0, 0xd7, RAX, 2)), regs: MMREGS },
    ];
    const rs = runCases(cases);
    for (const r of rs) { expect(r.diffs).toEqual([]); expect(r.nat.fpu.ftw).toBe('0xff'); }
  });
});

describe.skipIf(nativeSkip)('exceptions (SDM Vol. 2A 2.4 exception type 4: misaligned m128 is #GP(0); #UD rows; #PF)', () => {
  it('misaligned m128 of the 66 forms -> #GP(0); MOVDQU, MOVQ, MOVD and the MMX m64 forms do not check', () => {
    const r = { ...MMREGS, rsi: X(BigInt(DATA + 0x101)), rdi: X(BigInt(DATA + 0x808)) };
    const cases: DiffCase[] = [
      { code: P(ins(0x66, 0xfe, 0, { base: RSI, disp: 0 })), xmm: XIN, regs: r },
      { code: P(ins(0x66, 0x6f, 0, { base: RSI, disp: 0 })), xmm: XIN, regs: r },
      { code: P(ins(0x66, 0x7f, 0, { base: RDI, disp: 0 })), xmm: XIN, regs: r },
      { code: P(ins(0x66, 0xe7, 0, { base: RDI, disp: 0 })), xmm: XIN, regs: r },
      { code: P(ins(0x66, 0x70, 0, { base: RSI, disp: 0 }, 0x1b)), xmm: XIN, regs: r },
      { code: P(ins(0x66, 0xd1, 0, { base: RSI, disp: 0 })), xmm: XIN, regs: r },
      { code: P(ins(0x66, 0x60, 0, { base: RSI, disp: 0 })), xmm: XIN, regs: r },
      { code: P(ins(0xf3, 0x6f, 0, { base: RSI, disp: 0 }), ins(0xf3, 0x7f, 0, { base: RDI, disp: 1 }), ins(0xf3, 0x7e, 1, { base: RSI, disp: 0 }),
        ins(0x66, 0xd6, 1, { base: RDI, disp: 3 }), ins(0x66, 0xc4, 2, { base: RSI, disp: 0 }, 1)), xmm: XIN, regs: r },
      { code: MMLOAD + P(ins(0, 0xfe, 0, { base: RSI, disp: 0 }), ins(0, 0x7f, 0, { base: RDI, disp: 1 })), xmm: XIN, regs: r },
    ];
    expectAgree(cases, ['exception:13', 'exception:13', 'exception:13', 'exception:13', 'exception:13', 'exception:13', 'exception:13', 'end', 'end']);
  });

  it('#PF on a memory operand leaves registers, memory and the x87 tags as they were', () => {
    const end = X(BigInt(DATA + 0xfffc));
    const cases: DiffCase[] = [
      { code: P(ins(0, 0x7f, 0, { base: RDI, disp: 0 })), regs: { ...MMREGS, rdi: end } },             // MOVQ m64, mm: first MMX instruction
      { code: P(ins(0, 0x6f, 0, { base: RSI, disp: 0 })), regs: { ...MMREGS, rsi: end } },             // MOVQ mm, m64
      { code: P(ins(0x66, 0x6f, 1, { base: RSI, disp: 0 })), xmm: XIN, regs: { ...MMREGS, rsi: X(BigInt(DATA + 0xfff0 + 0x10)) } },
      { code: P(ins(0xf3, 0x7f, 1, { base: RDI, disp: 0 })), xmm: XIN, regs: { ...MMREGS, rdi: X(BigInt(DATA + 0xfff8)) } },
      { code: MMLOAD + '0f77' + P(ins(0, 0xf7, 4, 0)), xmm: XIN, regs: { ...MMREGS, rdi: end } },      // MASKMOVQ across the end
      // MASKMOVQ/MASKMOVDQU whose selected bytes are all mapped, or none selected: the host still faults
      // (SDM Vol. 2B MASKMOVQ: implementation-specific), and MASKMOVQ's MMX transition has happened.
      { code: MMLOAD + '0f77' + P(ins(0, 0xf7, 1, 0)), regs: { ...MMREGS, r8: '0xffffffff', rdi: end } },
      { code: MMLOAD + '0f77' + P(ins(0, 0xf7, 1, 0)), regs: { ...MMREGS, r8: '0x0', rdi: X(BigInt(DATA + 0x10000)) } },
      { code: P(ins(0x66, 0xf7, 1, 0)), xmm: { xmm0: '0xffffffff', xmm1: '0x1122334455667788' }, regs: { rdi: X(BigInt(DATA + 0xfff8)) } },
    ];
    const rs = runCases(cases);
    rs.forEach((r, i) => { expect(r.diffs, `case ${i}`).toEqual([]); expect(r.nat.vector, `case ${i}`).toBe(14); });
    expect(rs.map((r) => r.nat.fpu.ftw)).toEqual(['0x0', '0x0', '0x0', '0x0', '0xff', '0xff', '0xff', '0x0']);
  });

  it('#UD: register forms of memory-only rows, memory forms of register-only rows, rows without the prefix, LOCK', () => {
    const cases: DiffCase[] = [
      { code: P(ins(0, 0xc3, RAX, 1)) },                          // MOVNTI reg
      { code: P(ins(0, 0xe7, 0, 1)) },                            // MOVNTQ reg
      { code: P(ins(0x66, 0xe7, 0, 1)) },                         // MOVNTDQ reg
      { code: P(ins(0, 0xd7, RAX, { base: RSI, disp: 0 })), regs: MMREGS }, // PMOVMSKB mem
      { code: P(ins(0x66, 0xf7, 0, { base: RSI, disp: 0 })), regs: MMREGS }, // MASKMOVDQU mem
      { code: P(ins(0, 0x71, 2, { base: RSI, disp: 0 }, 1)), regs: MMREGS }, // PSRLW mem, imm
      { code: P(ins(0, 0x71, 3, 0, 1)) },                         // group 12 /3
      { code: P(ins(0, 0x73, 7, 0, 1)) },                         // PSLLDQ without 66
      { code: P(ins(0, 0x6c, 0, 1)) },                            // PUNPCKLQDQ without 66
      { code: P(ins(0xf3, 0xd6, 0, { base: RSI, disp: 0 })), regs: MMREGS }, // MOVQ2DQ mem
      { code: '660f77' },                                         // EMMS with 66
      { code: 'f0' + P(ins(0x66, 0xfe, 0, { base: RSI, disp: 0 })), regs: MMREGS }, // LOCK
      { code: P(ins(0, 0xc5, RAX, { base: RSI, disp: 0 }, 1)), regs: MMREGS }, // PEXTRW mem (SSE4.1 has it only as 66 0F 3A 15)
      // The empty F3/F2 columns of Table A-3 (not an MMX form with an ignored prefix).
      ...['f30f60c1', 'f20ffec1', 'f30fefc1', 'f20f74c1', 'f30f71d001', 'f30fc4c101', 'f20fc5c101', 'f20f6fc1', 'f20f7ec1', 'f30ff7c1'].map((code) => ({ code })),
    ];
    expectAgree(cases, Array<string>(cases.length).fill('exception:6'));
  });
});

describe('availability: CR0.EM/TS, CR4.OSFXSR and a pending x87 exception (SDM Vol. 3A 2.5 Table 2-2, 13.1.4; Vol. 1 9.5; Vol. 2 MOVNTI, EMMS, MOVQ2DQ)', () => {
  const PADDB_MM = [0x0f, 0xfc, 0xc1], PADDB_XMM = [0x66, 0x0f, 0xfc, 0xc1], EMMS = [0x0f, 0x77];
  const MOVQ2DQ = [0xf3, 0x0f, 0xd6, 0xc1], MOVNTI = [0x0f, 0xc3, 0x04, 0x24], PSHUFW = [0x0f, 0x70, 0xc1, 0x1b];
  /** Runs one instruction at CPL 0 (then HLT) and returns the vector it raised, or -1. */
  function vectorOf(code: number[], o: { em?: boolean; ts?: boolean; osfxsr?: boolean; es?: boolean }): number {
    const g = new TestGuest();
    g.m.writePhys(KCODE, Uint8Array.from([...code, 0xf4]));
    g.m.vmwrite('GUEST_CR0', 0x80050033n | (o.em ? 4n : 0n) | (o.ts ? 8n : 0n));
    g.m.vmwrite('GUEST_CR4', 0x20n | 0x2000n | (o.osfxsr ? 0x200n : 0n));
    const img = new Uint8Array(512);
    const dv = new DataView(img.buffer);
    dv.setUint16(0, o.es ? 0x37e : 0x37f, true);      // FCW: IM clear when an invalid-operation is pending
    dv.setUint16(2, o.es ? 0x0081 : 0, true);          // FSW: IE | ES
    dv.setUint32(24, 0x1f80, true);                    // MXCSR
    g.m.fxrstor(img);
    g.run(10_000);
    const r = g.record();
    return r.count === 0 ? -1 : r.vector;
  }
  it('MMX forms: #UD with CR0.EM, #NM with CR0.TS, no CR4.OSFXSR check; SSE2 forms: #UD without OSFXSR', () => {
    expect(vectorOf(PADDB_MM, {})).toBe(-1);
    expect(vectorOf(PSHUFW, {})).toBe(-1);
    expect(vectorOf(PADDB_MM, { em: true })).toBe(6);
    expect(vectorOf(PADDB_MM, { ts: true })).toBe(7);
    expect(vectorOf(PADDB_MM, { em: true, ts: true })).toBe(6);
    expect(vectorOf(EMMS, { em: true })).toBe(6);
    expect(vectorOf(EMMS, { ts: true })).toBe(7);
    expect(vectorOf(PADDB_XMM, {})).toBe(6);
    expect(vectorOf(PADDB_XMM, { osfxsr: true })).toBe(-1);
    expect(vectorOf(PADDB_XMM, { osfxsr: true, ts: true })).toBe(7);
    expect(vectorOf(MOVQ2DQ, {})).toBe(6);
    expect(vectorOf(MOVQ2DQ, { osfxsr: true })).toBe(-1);
  });
  it('#MF when FSW.ES is set: MMX forms, EMMS and MOVQ2DQ, after the #UD/#NM checks; not SSE2 forms or MOVNTI', () => {
    expect(vectorOf(PADDB_MM, { es: true })).toBe(16);
    expect(vectorOf(EMMS, { es: true })).toBe(16);
    expect(vectorOf(PSHUFW, { es: true })).toBe(16);
    expect(vectorOf(MOVQ2DQ, { es: true, osfxsr: true })).toBe(16);
    expect(vectorOf(PADDB_MM, { es: true, ts: true })).toBe(7);
    expect(vectorOf(PADDB_MM, { es: true, em: true })).toBe(6);
    expect(vectorOf(PADDB_XMM, { es: true, osfxsr: true })).toBe(-1);
    expect(vectorOf(MOVNTI, { es: true })).toBe(-1);
  });
  it('MOVNTI ignores CR0.EM, CR0.TS and CR4.OSFXSR (SDM Vol. 3A 13.1.4)', () => {
    expect(vectorOf(MOVNTI, { em: true, ts: true })).toBe(-1);
  });
});

const GEN_SEED = 0x5e2;
const GEN_CASES = Number(process.env.SSE_INT_CASES ?? 7000);
const GEN_SEEDS = process.env.SSE_INT_SEEDS ? process.env.SSE_INT_SEEDS.split(',').map(Number) : [GEN_SEED];

describe.skipIf(nativeSkip)('generated SSE2/MMX integer code vs the host CPU (test/diff/gen-sse-int.ts)', () => {
  it(`${GEN_CASES} cases per seed ${GEN_SEEDS.join(',')} agree`, () => {
    const CHUNK = 2000;
    const bad: string[] = [];
    const kinds = new Map<string, number>();
    for (const seed of GEN_SEEDS) {
      for (let at = 0; at < GEN_CASES; at += CHUNK) {
        const gs = Array.from({ length: Math.min(CHUNK, GEN_CASES - at) }, (_, i) => genSseIntCase(seed, at + i));
        for (const g of gs) kinds.set(g.kind, (kinds.get(g.kind) ?? 0) + 1);
        const out = diffCases(gs.map((g) => g.c));
        out.forEach((d, i) => { if (d.length && bad.length < 20) bad.push(`seed ${seed} case ${at + i} (${gs[i].kind}) ${JSON.stringify(gs[i].c)}\n    ${d.join('\n    ')}`); });
      }
    }
    if (bad.length) console.log(`[sse-int] mismatches:\n  ${bad.join('\n  ')}`);
    expect(bad).toEqual([]);
    for (const [k] of kinds) expect(kinds.get(k)).toBeGreaterThan(0);
    expect(kinds.size).toBe(8);
  }, 600_000);
});
