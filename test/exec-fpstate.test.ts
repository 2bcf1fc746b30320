// `vmfunc-vmi exec` with the SIMD/FPU state (issue 13 item 3): the optional "xmm", "mxcsr" and "fcw"
// inputs, the "xmm", "mxcsr" and "fpu" outputs (SDM Vol. 1 10.5.1 Table 10-2: the FXSAVE image --
// abridged tag byte, ST(i) stack-relative, 80 bits each), their validation, and the native runner
// agreeing on code that does not touch that state (it passes through untouched on both sides).
import { describe, it, expect } from 'vitest';
import { ExecEnv } from '../src/exec.js';
import { diffCase, diffCases, runCases, nativeSkip } from './diff/diffcase.js';
import { diffFpState } from './diff/compare.js';

const env = ExecEnv.createSync();
const X1 = '0x0123456789abcdef0011223344556677';
const X15 = '0xfedcba98765432100f1e2d3c4b5a6978';

describe('exec: XMM, MXCSR and x87 state fields (SDM Vol. 1 10.5.1, Table 10-2)', () => {
  it('defaults: XMM 0, MXCSR 0x1f80, FCW 0x37f, empty stack; exact digit counts', () => {
    const r = env.run({ code: '90' });
    expect(Object.keys(r.xmm)).toEqual(Array.from({ length: 16 }, (_, i) => `xmm${i}`));
    for (const v of Object.values(r.xmm)) expect(v).toBe('0x' + '0'.repeat(32));
    expect(r.mxcsr).toBe('0x1f80');
    expect(r.fpu.fcw).toBe('0x37f');
    expect(r.fpu.fsw).toBe('0x0');
    expect(r.fpu.ftw).toBe('0x0');
    for (let i = 0; i < 8; i++) expect((r.fpu as unknown as Record<string, string>)[`st${i}`]).toMatch(/^0x[0-9a-f]{20}$/);
  });

  it('round-trips the inputs through an integer instruction', () => {
    const r = env.run({ code: '4801d8', regs: { rax: 5, rbx: 7 }, xmm: { xmm1: X1, xmm15: X15, xmm7: 3 }, mxcsr: '0x9fc0', fcw: '0x27f' });
    expect(r.regs.rax).toBe('0xc');
    expect(r.xmm.xmm1).toBe(X1);
    expect(r.xmm.xmm15).toBe(X15);
    expect(r.xmm.xmm7).toBe('0x' + '3'.padStart(32, '0'));
    expect(r.xmm.xmm0).toBe('0x' + '0'.repeat(32));
    expect(r.mxcsr).toBe('0x9fc0');
    expect(r.fpu.fcw).toBe('0x27f');
  });

  it('a case does not inherit the previous case\'s state', () => {
    env.run({ code: '90', xmm: { xmm3: X1 }, mxcsr: '0x1fc0', fcw: '0x7f' });
    const r = env.run({ code: '90' });
    expect(r.xmm.xmm3).toBe('0x' + '0'.repeat(32));
    expect(r.mxcsr).toBe('0x1f80');
    expect(r.fpu.fcw).toBe('0x37f');
  });

  it('rejects bad fields with one-line errors naming the field', () => {
    const err = (o: object) => env.runLine(JSON.stringify(o), 1) as { error?: string };
    expect(err({ code: '90', xmm: { xmm16: '0x1' } }).error).toMatch(/xmm.*unknown register "xmm16"/);
    expect(err({ code: '90', xmm: { xmm0: '0x' + '1'.repeat(33) } }).error).toMatch(/xmm\.xmm0/);
    expect(err({ code: '90', xmm: { xmm0: '0x1' + '0'.repeat(32) } }).error).toMatch(/xmm\.xmm0/);
    expect(err({ code: '90', xmm: [1] }).error).toMatch(/"xmm" must be an object/);
    expect(err({ code: '90', xmm: { xmm2: -1 } }).error).toMatch(/xmm\.xmm2/);
    expect(err({ code: '90', mxcsr: '0x10000' }).error).toMatch(/mxcsr: 0x10000 sets reserved bits/);
    expect(err({ code: '90', mxcsr: 'x' }).error).toMatch(/^line 1: mxcsr/);
    expect(err({ code: '90', fcw: '0x10000' }).error).toMatch(/fcw: 0x10000 does not fit in 16 bits/);
    for (const o of [{ code: '90', xmm: { xmm16: '0x1' } }, { code: '90', mxcsr: '0x10000' }]) expect(err(o).error).not.toMatch(/\n/);
  });

  it('accepts 128-bit decimal and the largest values', () => {
    const r = env.run({ code: '90', xmm: { xmm2: (1n << 127n).toString(), xmm3: '0x' + 'f'.repeat(32) }, mxcsr: '0xffff', fcw: '0xffff' });
    expect(r.xmm.xmm2).toBe('0x8' + '0'.repeat(31));
    expect(r.xmm.xmm3).toBe('0x' + 'f'.repeat(32));
    expect(r.mxcsr).toBe('0xffff');
  });
});

describe.skipIf(nativeSkip)('exec vs the host CPU: the SIMD/FPU state passes through integer code (test/diff/diffcase.ts)', () => {
  const state = { xmm: { xmm0: X1, xmm1: X15, xmm8: '0x7ff8000000000000', xmm15: '0x1' }, mxcsr: '0x7f80', fcw: '0x27f' };
  it('add, a load, a store and a branch keep XMM/MXCSR/FCW and agree with the host', () => {
    const out = diffCases([
      { code: '4801d8', regs: { rax: 5, rbx: 7 }, ...state },
      { code: '488b03' + '48890b', regs: { rbx: '0x20000040', rcx: '0x1122334455667788' }, ...state },
      { code: '7502' + '31c0' + '90', regs: { rax: 7 }, ...state, mxcsr: '0xffc0', fcw: '0x0c7f' },
      { code: '90' }, // the defaults
    ]);
    expect(out).toEqual([[], [], [], []]);
  });

  it('the results carry the state on both sides, also at an exception', () => {
    const [r] = runCases([{ code: '0f0b', ...state }]);
    expect(r.diffs).toEqual([]);
    expect(r.nat.stop).toBe('exception');
    expect(r.nat.vector).toBe(6);
    expect(r.nat.xmm.xmm0).toBe(X1);
    expect(r.emu.xmm.xmm1).toBe(X15);
    expect(r.nat.mxcsr).toBe('0x7f80');
    expect(r.emu.fpu.fcw).toBe('0x27f');
  });

  it('a difference is reported (the comparison can fail)', () => {
    // A difference planted in the emulator's result: reported, and ignored under a mask.
    const [r] = runCases([{ code: '90', xmm: { xmm4: '0x5' } }]);
    r.emu.xmm.xmm4 = '0x' + '6'.padStart(32, '0');
    expect(diffFpState(r.nat, r.emu)).toEqual([`xmm4: native 0x${'5'.padStart(32, '0')} | emu 0x${'6'.padStart(32, '0')}`]);
    expect(diffFpState(r.nat, r.emu, { xmm: { xmm4: 0xfn } })).toEqual([]);
    expect(diffCase({ code: '90', mxcsr: '0x1f80' })).toEqual([]);
  });
});
