// The JIT's inline SSE2 (assembly/jit/gen-sse.ts: MOVSD; MOVAPS/MOVAPD/MOVUPS/MOVUPD between
// registers and to or from memory; UNPCKLPD/UNPCKHPD; ADDSD/SUBSD/MULSD/DIVSD and SQRTSD in their
// fast cases; everything else through the light call) against the interpreter: random straight-line
// programs over operands of every class (normal, tiny, denormal, zero, infinity, QNaN, SNaN, exact
// and inexact results, near overflow), every rounding mode, FTZ/DAZ, PE already set or clear and
// precision exceptions unmasked (#XM, SDM Vol. 1 11.5.2.3; Vol. 3A 6.15 interrupt 19), MXCSR changed
// mid-program by LDMXCSR, memory operands that miss the TLB, cross a page, are misaligned for the
// aligned forms (#GP(0), Vol. 1 11.6.7) or are stored to. Same XMM registers, MXCSR, faults,
// instructions and data, and the inline path must have done most of the work.
import { describe, it, expect } from 'vitest';
import { ExecEnv, DATA_VA, XMM_NAMES } from '../src/exec.js';
import { mulberry32 } from '../src/util/prng.js';
import { fpImage } from '../src/exec.js';
import { TestGuest } from './helpers/guest.js';
import { haveAssembler } from './helpers/asm.js';

const hex = (b: number[]) => Buffer.from(b).toString('hex');
function env(jit: boolean): ExecEnv {
  const e = ExecEnv.createSync();
  e.machine.jit = jit;
  if (jit) e.machine.jitThreshold = 1; // every block compiled at its first entry
  return e;
}

function genCase(seed: number) {
  const rnd = mulberry32(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(a: readonly T[]) => a[int(a.length)];
  const f64 = new Float64Array(1), u64 = new BigUint64Array(f64.buffer);
  const bits = (x: number) => { f64[0] = x; return u64[0]; };
  const rand52 = () => (BigInt(int(1 << 26)) << 26n) | BigInt(int(1 << 26));
  const double = (): bigint => {
    switch (int(11)) {
      case 0: return bits((int(2000) - 1000) / pick([1, 2, 4, 8, 3, 10])); // often exact
      case 1: return (BigInt(int(2)) << 63n) | (BigInt(1 + int(3)) << 52n) | rand52(); // tiny normals
      case 2: return (BigInt(int(2)) << 63n) | rand52();                       // denormals, zero
      case 3: return BigInt(int(2)) << 63n;                                    // +-0
      case 4: return (BigInt(int(2)) << 63n) | (0x7ffn << 52n);                // +-infinity
      case 5: return (0x7ff8n << 48n) | BigInt(int(1 << 20));                  // QNaN
      case 6: return (0x7ff0n << 48n) | BigInt(1 + int(1 << 20));              // SNaN
      case 7: return (BigInt(int(2)) << 63n) | (BigInt(0x7fe - int(3)) << 52n) | rand52(); // near overflow
      default: return (BigInt(int(2)) << 63n) | (BigInt(0x3ff - 30 + int(60)) << 52n) | rand52();
    }
  };
  const xmm: Record<string, string> = {};
  for (const n of XMM_NAMES) xmm[n] = '0x' + ((BigInt(int(1 << 30)) << 64n) | double()).toString(16);
  const MXCSRS = [0x1f80, 0x1fa0, 0x3f80, 0x5f80, 0x7f80, 0x0f80, 0x0fa0, 0x9f80, 0x1fc0, 0x1d80];
  const code: number[] = [];
  const modrmReg = (g: number, r: number) => 0xc0 | ((g & 7) << 3) | (r & 7);
  const rex = (g: number, r: number) => (g > 7 || r > 7 ? [0x40 | (g > 7 ? 4 : 0) | (r > 7 ? 1 : 0)] : []);
  const offset = () => pick([int(0x1000) & ~7, int(0xf000), 0xffc, 0x1ff9, 0x2000 + int(64)]); // aligned, any, page-crossing
  const memOp = (g: number) => { const d = offset(); return [0x80 | ((g & 7) << 3) | 3, d & 0xff, (d >> 8) & 0xff, 0, 0]; }; // [rbx+disp32]
  const n = 8 + int(40);
  for (let i = 0; i < n; i++) {
    const g = int(16), r = int(16), mem = int(4) == 0;
    const kind = int(22);
    if (kind < 10) { // ADDSD SUBSD MULSD DIVSD, and sometimes SQRTSD / MINSD (light call)
      const opc = pick([0x58, 0x5c, 0x59, 0x5e, 0x58, 0x59, 0x51, 0x5d]);
      code.push(0xf2, ...rex(g, mem ? 0 : r), 0x0f, opc, ...(mem ? memOp(g) : [modrmReg(g, r)]));
    } else if (kind < 15) { // MOVSD load / store / register forms
      code.push(0xf2, ...rex(g, mem ? 0 : r), 0x0f, pick([0x10, 0x11]), ...(mem ? memOp(g) : [modrmReg(g, r)]));
    } else if (kind < 18) { // MOVAPS/MOVAPD/MOVUPS/MOVUPD: registers, or memory (misaligned: #GP(0) for the A forms)
      const p = int(2) ? [0x66] : [];
      const m16 = int(3) == 0;
      code.push(...p, ...rex(g, m16 ? 0 : r), 0x0f, pick([0x10, 0x11, 0x28, 0x29]), ...(m16 ? memOp(g) : [modrmReg(g, r)]));
    } else if (kind < 20) { // UNPCKLPD / UNPCKHPD between registers
      code.push(0x66, ...rex(g, r), 0x0f, pick([0x14, 0x15]), modrmReg(g, r));
    } else if (kind < 21) { // MOV DWORD [rbx+0x8000], imm32; LDMXCSR [rbx+0x8000]
      const m = pick(MXCSRS);
      code.push(0xc7, 0x83, 0x00, 0x80, 0, 0, m & 0xff, (m >> 8) & 0xff, 0, 0, 0x0f, 0xae, 0x93, 0x00, 0x80, 0, 0);
    } else { // an integer instruction between: ADD RAX, RCX
      code.push(0x48, 0x01, 0xc8);
    }
  }
  return { code: hex(code), regs: { rbx: '0x' + DATA_VA.toString(16), rsp: '0x' + (DATA_VA + 0x10000 - 64).toString(16) }, xmm, mxcsr: '0x' + pick(MXCSRS).toString(16) };
}

describe('JIT: inline SSE2 scalar double agrees with the interpreter (assembly/jit/gen-sse.ts)', () => {
  it('800 random programs: same XMM, MXCSR, faults, instructions and data; most arithmetic inline', () => {
    const off = env(false), on = env(true);
    let insns = 0;
    for (let seed = 1; seed <= 800; seed++) {
      const c = genCase(seed);
      const a = off.run(c), b = on.run(c);
      expect(b, `seed ${seed}: ${JSON.stringify(c)}`).toEqual(a);
      insns += a.insns;
    }
    const s = on.machine.jitStats;
    expect(s.failures).toBe(0);
    expect(s.insnsCompiled).toBeGreaterThan(insns * 0.9);
    // Special operands, other rounding modes, MINSD, SQRTSD before PE is set and TLB misses take the light call.
    expect(s.interpreterSteps).toBeGreaterThan(insns * 0.1);
    expect(s.interpreterSteps).toBeLessThan(insns * 0.7);
  });

  it('normal operands in round-to-nearest run inline: no interpreter step, PE set by an inexact result', () => {
    const on = env(true), off = env(false);
    // MOVAPD xmm2, xmm0; ADDSD xmm2, xmm1; MULSD xmm2, xmm1; SUBSD xmm2, xmm0; DIVSD xmm2, xmm1; MOVSD xmm3, xmm2
    const code = '660f28d0' + 'f20f58d1' + 'f20f59d1' + 'f20f5cd0' + 'f20f5ed1' + 'f20f10da';
    const f64 = new Float64Array([1.5, 0.1]), u = new BigUint64Array(f64.buffer);
    const c = { code, xmm: { xmm0: '0x' + u[0].toString(16), xmm1: '0x' + u[1].toString(16) }, mxcsr: '0x1f80' };
    const a = off.run(c), b = on.run(c);
    expect(b).toEqual(a);
    expect(a.mxcsr).toBe('0x1fa0');
    const x = new Float64Array([((1.5 + 0.1) * 0.1 - 1.5) / 0.1]);
    expect(BigInt(a.xmm.xmm3) & 0xffffffffffffffffn).toBe(new BigUint64Array(x.buffer)[0]);
    expect(on.machine.jitStats.insnsCompiled).toBe(6);
    expect(on.machine.jitStats.interpreterSteps).toBe(1); // the UD2 that ends the code (src/exec.ts)
  });

  it.skipIf(!haveAssembler())('the availability checks come first (SDM Vol. 3A 2.5: #UD for CR0.EM or no CR4.OSFXSR, #NM for CR0.TS)', () => {
    // Four MOVAPD xmm2, xmm3 (so the block compiles), DIVSD xmm0, xmm1 = 1.0 / 2.0 (exact: the fast
    // path would commit), HLT.
    const run = (cr0Extra: bigint, cr4: number) => {
      const g = new TestGuest();
      g.m.jit = true; g.m.jitThreshold = 1;
      g.kernel('.rept 4\n.byte 0x66, 0x0f, 0x28, 0xd3\n.endr\n.byte 0xf2, 0x0f, 0x5e, 0xc1\nhlt');
      g.m.vmwrite('GUEST_CR0', 0x80050033n | cr0Extra);
      g.m.vmwrite('GUEST_CR4', 0x20 | 0x2000 | cr4);
      const xmm = Array<bigint>(16).fill(0n); xmm[0] = 0x3ff0000000000000n; xmm[1] = 0x4000000000000000n;
      g.m.fxrstor(fpImage({ fcw: 0x37f, mxcsr: 0x1f80, xmm } as never));
      g.run();
      const img = g.m.fxsave(), dv = new DataView(img.buffer, img.byteOffset);
      return { vector: g.record().vector, xmm0: dv.getBigUint64(160, true), compiled: g.m.jitStats.insnsCompiled };
    };
    const ok = run(0n, 0x600);
    expect(ok.xmm0).toBe(0x3fe0000000000000n); // 0.5
    expect(ok.compiled).toBeGreaterThanOrEqual(5);
    expect(run(8n, 0x600)).toMatchObject({ vector: 7, xmm0: 0x3ff0000000000000n });
    expect(run(4n, 0x600)).toMatchObject({ vector: 6, xmm0: 0x3ff0000000000000n });
    expect(run(0n, 0)).toMatchObject({ vector: 6, xmm0: 0x3ff0000000000000n });
  });
});
