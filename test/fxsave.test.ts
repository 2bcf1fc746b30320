// FXSAVE/FXRSTOR, LDMXCSR/STMXCSR and CLFLUSH (assembly/sse/state-ops.ts) against the host CPU
// (test/diff/diffcase.ts: memory is compared through the data window's hash), and -- for the CR0/CR4
// rules and the image fields the `exec` user environment cannot vary or the host's vendor decides --
// in a CPL-0 TestGuest.
import { describe, it, expect } from 'vitest';
import { diffCases, runCases, nativeSkip, type DiffCase } from './diff/diffcase.js';
import { asm } from './helpers/asm.js';
import { TestGuest, KCODE, REC } from './helpers/guest.js';

const DATA = 0x20000000, CODE = 0x10000000;
const X = {
  xmm0: '0x0123456789abcdef0011223344556677', xmm1: '0xfedcba98765432100f1e2d3c4b5a6978', xmm7: '0x7777',
  xmm8: '0x88888888888888888888888888888888', xmm15: '0xf00000000000000000000000000000ff',
};
// MXCSR_MASK (image +28) is the CPU's, not the state's: an Intel part reports 0xffff, an AMD one 0x2ffff
// (MXCSR.MM, SDM Vol. 1 11.6.6). The differential cases clear it before the hash; the TestGuest checks it.
const MASKFIX = 'mov dword ptr [rsi+28], 0';
const c = (src: string, extra: Partial<DiffCase> = {}): DiffCase =>
  ({ xmm: X, mxcsr: '0x9fc0', fcw: '0x27f', ...extra, code: asm(src), regs: { rsi: DATA + 0x100, rdi: DATA + 0x800, ...(extra.regs ?? {}) } });

function expectAgree(cases: DiffCase[]): void {
  const r = runCases(cases);
  r.forEach((x, i) => expect(x.diffs, `case ${i}: ${JSON.stringify(x.exec)}`).toEqual([]));
}
const stopOf = (cs: DiffCase[]) => runCases(cs).map((x) => `${x.nat.stop}${x.nat.vector !== undefined ? ':' + x.nat.vector : ''}`);

describe.skipIf(nativeSkip)('FXSAVE / FXSAVE64 against the host (SDM Vol. 2A FXSAVE; Vol. 1 10.5.1 Table 10-2)', () => {
  it('stores the x87 header, MXCSR, ST0-7 and XMM0-15; bytes 416-511 stay as they were', () => {
    const cs = [
      c(`fxsave [rsi]\n${MASKFIX}`), c(`fxsave64 [rsi]\n${MASKFIX}`),
      c(`fxsave [rsi]\nmov rax, [rsi+416]\nmov rbx, [rsi+464]\nmov rcx, [rsi+504]\nmov edx, [rsi+24]\nmov r8, [rsi]\nmov r9, [rsi+160]\nmov r10, [rsi+400]\n${MASKFIX}`),
      c(`fxsave64 [rsi+r8*8]\n${MASKFIX.replace('rsi', 'rsi+r8*8')}`, { regs: { r8: 2 } }),
      c(`fxsave [rip+0x1000]`), // the code window is read-only: #PF (write) and nothing stored
    ];
    expectAgree(cs);
  });

  it('a 512-byte image across a page boundary in the window is stored whole', () => {
    expectAgree([c(`fxsave [rsi]\n${MASKFIX}`, { regs: { rsi: DATA + 0xf80 } }), c(`fxsave64 [rsi]\n${MASKFIX}`, { regs: { rsi: DATA + 0x1ff0 } })]);
  });

  it('misaligned operand: #GP(0), nothing written (16-byte alignment, regardless of segment)', () => {
    const cs = [8, 1, 0xf].map((o) => c('fxsave [rsi]', { regs: { rsi: DATA + 0x100 + o } }));
    expectAgree(cs);
    expect(stopOf(cs)).toEqual(['exception:13', 'exception:13', 'exception:13']);
  });

  it('a fault on the second page (#PF) or a non-canonical address (#GP) leaves memory untouched', () => {
    const cs = [
      c('fxsave [rsi]', { regs: { rsi: DATA + 0x10000 - 0x100 } }),
      c('fxsave64 [rsi]', { regs: { rsi: DATA + 0x10000 - 0x10 } }),
      c('fxsave [rsi]', { regs: { rsi: '0x8000000000000000' } }),
      c('fxsave [rsi]', { regs: { rsi: DATA + 0x10000 } }),
      c('fxsave [rsi]', { regs: { rsi: DATA - 0x100 } }), c('fxsave64 [rsi]', { regs: { rsi: DATA - 0x1000 } }),
    ];
    expectAgree(cs);
    expect(stopOf(cs)).toEqual(['exception:14', 'exception:14', 'exception:13', 'exception:14', 'exception:14', 'exception:14']);
  });

  it('LOCK FXSAVE is #UD', () => {
    expectAgree([{ ...c('nop'), code: Uint8Array.from([0xf0, 0x0f, 0xae, 0x06]) }]);
  });
});

describe.skipIf(nativeSkip)('FXRSTOR / FXRSTOR64 against the host (SDM Vol. 2A FXRSTOR)', () => {
  it('loads XMM0-15, MXCSR and the x87 control/status/tags and stack from the image', () => {
    const edit = [
      'mov dword ptr [rsi+24], 0x3f3f', // MXCSR: RC=01, DAZ, all flags, some masks
      'mov rax, 0x1122334455667788', 'mov [rsi+160+16*3], rax', 'mov [rsi+168+16*14], rax', 'mov [rsi+160+16*15], rax',
      'mov word ptr [rsi], 0x7f', 'mov word ptr [rsi+2], 0x3800', // FCW; FSW TOP = 7
      'mov byte ptr [rsi+4], 0x80', // abridged tags: R7 (= ST0 with TOP 7) valid
      'mov rax, 0x8000000000000000', 'mov [rsi+32], rax', 'mov word ptr [rsi+40], 0x3fff', // ST0 = 1.0
    ].join('\n');
    expectAgree([
      c(`fxsave [rsi]\n${MASKFIX}\n${edit}\nfxrstor [rsi]`), c(`fxsave64 [rsi]\n${MASKFIX}\n${edit}\nfxrstor64 [rsi]`),
      c(`fxsave [rsi]\n${MASKFIX}\n${edit}\nmov dword ptr [rsi+28], 0x12345\nfxrstor [rsi]`), // the image's MXCSR_MASK is ignored
      c(`fxsave [rsi]\n${MASKFIX}\n${edit}\nmov rax, -1\nmov [rsi+464], rax\nmov [rsi+416], rax\nfxrstor [rsi]`), // 416-511 ignored
    ]);
  });

  it('FCW reserved bits (6 reads 1, 7 and 13-15 read 0) and FSW.ES/B recomputed from the unmasked flags (Vol. 1 8.1.3, 8.1.5)', () => {
    const ld = (fcw: number, fsw: number) => c(`fxsave [rsi]\n${MASKFIX}\nmov word ptr [rsi], ${fcw}\nmov word ptr [rsi+2], ${fsw}\nfxrstor [rsi]`);
    expectAgree([ld(0xffff, 0), ld(0, 0), ld(0x0080, 0x8080), ld(0x037e, 0x0001), ld(0x037f, 0x0081), ld(0x0370, 0x003f), ld(0x037f, 0xffff)]);
  });

  it('reserved MXCSR bits in the image: #GP(0), nothing loaded', () => {
    const cs = [0x10000, 0x80001f80, 0x40000000].map((m) => c(`fxsave [rsi]\n${MASKFIX}\nmov dword ptr [rsi+24], ${m}\nfxrstor [rsi]`));
    expectAgree(cs);
    expect(stopOf(cs)).toEqual(['exception:13', 'exception:13', 'exception:13']);
  });

  it('misaligned: #GP(0); unmapped second page: #PF (read); the state is untouched', () => {
    const cs = [
      c('fxrstor [rsi]', { regs: { rsi: DATA + 0x104 } }),
      c('fxrstor64 [rsi]', { regs: { rsi: DATA + 0x10000 - 0x100 } }),
      c('fxrstor [rsi]', { regs: { rsi: DATA + 0x10000 } }),
      c('fxrstor [rsi]', { regs: { rsi: DATA - 0x100 } }),
    ];
    expectAgree(cs);
    expect(stopOf(cs)).toEqual(['exception:13', 'exception:14', 'exception:14', 'exception:14']);
  });
});

describe.skipIf(nativeSkip)('LDMXCSR / STMXCSR against the host (SDM Vol. 2A; Vol. 1 10.2.3)', () => {
  it('round trip, any alignment, and the reserved-bit #GP(0)', () => {
    const cs = [
      c('stmxcsr [rsi]\nmov eax, [rsi]'),
      c('stmxcsr [rsi+3]'),
      c('mov dword ptr [rsi+1], 0x7fbf\nldmxcsr [rsi+1]'), // all defined bits but MXCSR.FZ... every bit 0-15 but 6
      c('mov dword ptr [rsi], 0xffff\nldmxcsr [rsi]'),
      c('mov dword ptr [rsi], 0x1f80\nldmxcsr [rsi]\nstmxcsr [rdi]'),
      c('mov dword ptr [rsi], 0x10000\nldmxcsr [rsi]'),
      c('mov dword ptr [rsi], 0x80000000\nldmxcsr [rsi]'),
      c('ldmxcsr [rsi]', { regs: { rsi: DATA + 0x10000 - 2 } }), // crosses into the unmapped page: #PF
      c('stmxcsr [rip]'), // read-only code page: #PF (write)
    ];
    expectAgree(cs);
    expect(stopOf(cs).slice(5)).toEqual(['exception:13', 'exception:13', 'exception:14', 'exception:14']);
  });
});

describe.skipIf(nativeSkip)('CLFLUSH against the host (SDM Vol. 2A CLFLUSH: checked as a one-byte read)', () => {
  it('mapped lines, the read-only code page, unmapped (#PF) and non-canonical (#GP) addresses', () => {
    const cs = [
      c('clflush [rsi]'), c('clflush [rsi+0xfff]'), c('clflush [rip]'),
      c('clflush [rsi]', { regs: { rsi: DATA + 0x10000 } }),
      c('clflush [rsi]', { regs: { rsi: '0x0000800000000000' } }),
      c('clflush [rsi]', { regs: { rsi: 0x1000 } }),
    ];
    expectAgree(cs);
    expect(stopOf(cs)).toEqual(['end', 'end', 'end', 'exception:14', 'exception:13', 'exception:14']);
  });
});

// ---- CPL 0: CR0.TS/EM, CR4.OSFXSR, the image formats ----------------------------------------------

const BUF = 0x40000; // 16-byte aligned buffer in the TestGuest's supervisor memory

/** Runs `src` at CPL 0 with the given CR0/CR4 bits set (and cleared); returns the vector recorded or -1. */
function cpl0(src: string, opts: { cr0Set?: number; cr0Clear?: number; cr4Set?: number } = {}): { vec: number; g: TestGuest } {
  const g = new TestGuest();
  const cr0 = (0x80050033 | (opts.cr0Set ?? 0)) & ~(opts.cr0Clear ?? 0);
  g.m.vmwrite('GUEST_CR0', BigInt(cr0 >>> 0));
  g.m.vmwrite('GUEST_CR4', 0x20 | 0x2000 | (opts.cr4Set ?? 0));
  g.kernel(`${src}\nhlt`);
  expect(g.run()).toBe(12);
  const rec = g.record();
  return { vec: rec.count > 0 ? rec.vector : -1, g };
}
const OSFXSR = 0x200, TS = 8, EM = 4;

describe('availability (SDM Vol. 3A 2.5 Table 2-2; Vol. 2A FXSAVE/LDMXCSR/CLFLUSH exceptions)', () => {
  const ops = {
    fxsave: `mov rsi, ${BUF}\nfxsave [rsi]`, fxrstor: `mov rsi, ${BUF}\nfxsave [rsi]\nclts\nfxrstor [rsi]`,
    ldmxcsr: `mov rsi, ${BUF}\nmov dword ptr [rsi], 0x1f80\nldmxcsr [rsi]`, stmxcsr: `mov rsi, ${BUF}\nstmxcsr [rsi]`,
    clflush: `mov rsi, ${BUF}\nclflush [rsi]`,
  };
  it('CR0.TS = 1: #NM for FXSAVE, LDMXCSR, STMXCSR; CLFLUSH runs', () => {
    expect(cpl0(ops.fxsave, { cr0Set: TS, cr4Set: OSFXSR }).vec).toBe(7);
    expect(cpl0(`mov rsi, ${BUF}\nfxrstor [rsi]`, { cr0Set: TS, cr4Set: OSFXSR }).vec).toBe(7);
    expect(cpl0(ops.ldmxcsr, { cr0Set: TS, cr4Set: OSFXSR }).vec).toBe(7);
    expect(cpl0(ops.stmxcsr, { cr0Set: TS, cr4Set: OSFXSR }).vec).toBe(7);
    expect(cpl0(ops.clflush, { cr0Set: TS | EM }).vec).toBe(-1);
  });
  it('CR0.EM = 1: FXSAVE/FXRSTOR #NM, LDMXCSR/STMXCSR #UD', () => {
    expect(cpl0(ops.fxsave, { cr0Set: EM, cr4Set: OSFXSR }).vec).toBe(7);
    expect(cpl0(`mov rsi, ${BUF}\nfxrstor [rsi]`, { cr0Set: EM, cr4Set: OSFXSR }).vec).toBe(7);
    expect(cpl0(ops.ldmxcsr, { cr0Set: EM, cr4Set: OSFXSR }).vec).toBe(6);
    expect(cpl0(ops.stmxcsr, { cr0Set: EM | TS, cr4Set: OSFXSR }).vec).toBe(6);
  });
  it('CR4.OSFXSR = 0: LDMXCSR/STMXCSR #UD; FXSAVE/FXRSTOR run (and still carry XMM and MXCSR on this Intel CPU)', () => {
    expect(cpl0(ops.ldmxcsr).vec).toBe(6);
    expect(cpl0(ops.stmxcsr).vec).toBe(6);
    // FXRSTOR an image with MXCSR 0x1fc0 and XMM3 set, then FXSAVE it elsewhere.
    const { vec, g } = cpl0(`mov rsi, ${BUF}\nfxsave [rsi]\nmov dword ptr [rsi+24], 0x1fc0\nmov rax, 0x55aa\nmov [rsi+160+48], rax\n` +
      `fxrstor [rsi]\nfxsave [rsi+512]`);
    expect(vec).toBe(-1);
    expect(g.m.read64(BUF + 512 + 24) & 0xffffffffn).toBe(0x1fc0n);
    expect(g.m.read64(BUF + 512 + 160 + 48)).toBe(0x55aan);
  });
  it('every enabled combination runs', () => {
    for (const s of Object.values(ops)) expect(cpl0(s, { cr4Set: OSFXSR }).vec, s).toBe(-1);
  });
});

describe('the image formats (SDM Vol. 1 10.5.1 Table 10-2; Vol. 2A FXSAVE "64-bit mode" / REX.W)', () => {
  // An image with FPU IP 0x0000123456789abc, FCS 0x33, FDP 0x0000fedcba987654, FDS 0x2b, FOP 0x7ff.
  const load = `mov rsi, ${BUF}\nfxsave64 [rsi]\nmov rax, 0x0000123456789abc\nmov [rsi+8], rax\nmov rax, 0x0000fedcba987654\nmov [rsi+16], rax\n` +
    `mov word ptr [rsi+6], 0xffff\nfxrstor64 [rsi]\n`;
  const fill = (a: number) => `mov rdi, ${a}\nmov rax, -1\nmov rcx, 64\nrep stosq\n`;
  it('FXSAVE64 stores 64-bit FPU IP/DP; FXSAVE stores 32-bit offsets and FCS/FDS = 0; FOP keeps 11 bits', () => {
    const { vec, g } = cpl0(`${load}${fill(BUF + 512)}fxsave64 [rsi+512]\n${fill(BUF + 1024)}fxsave [rsi+1024]`, { cr4Set: OSFXSR });
    expect(vec).toBe(-1);
    const r = (o: number) => g.m.read64(BUF + o);
    expect(r(512 + 8)).toBe(0x0000123456789abcn);
    expect(r(512 + 16)).toBe(0x0000fedcba987654n);
    expect(r(512) >> 48n).toBe(0x7ffn);
    expect(r(1024 + 8)).toBe(0x56789abcn);  // FPU IP[31:0], FCS 0000H, reserved 0
    expect(r(1024 + 16)).toBe(0xba987654n); // FPU DP[31:0], FDS 0000H, reserved 0
    // MXCSR_MASK: this CPU's supported bits (SDM Vol. 1 11.6.6), and bytes 416-511 untouched.
    expect(r(1024 + 24) >> 32n).toBe(0xffffn);
    for (let o = 416; o < 512; o += 8) expect(r(1024 + o), `+${o}`).toBe(0xffffffffffffffffn);
  });
  it('FXRSTOR (32-bit format) loads the offsets zero-extended and ignores FCS/FDS', () => {
    const { vec, g } = cpl0(`${load}mov word ptr [rsi+12], 0x33\nmov word ptr [rsi+20], 0x2b\nfxrstor [rsi]\nfxsave64 [rsi+512]`, { cr4Set: OSFXSR });
    expect(vec).toBe(-1);
    expect(g.m.read64(BUF + 512 + 8)).toBe(0x56789abcn);
    expect(g.m.read64(BUF + 512 + 16)).toBe(0xba987654n);
  });
});

// ---- seeded random cases ----------------------------------------------------------------------

/** A small PRNG (xorshift32) so the case list is fixed by its seed. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 4294967296; };
}
const hex64 = (r: () => number) => '0x' + Array.from({ length: 16 }, () => Math.floor(r() * 16).toString(16)).join('');

// Hand-encoded (no assembler per case): [rsi+disp8] forms, ModRM mod 01 rm 110.
const le32 = (v: number) => [v & 255, (v >>> 8) & 255, (v >>> 16) & 255, (v >>> 24) & 255];
const grp15 = (digit: number, d: number, w = false) => [...(w ? [0x48] : []), 0x0f, 0xae, 0x46 | (digit << 3), d & 255];
const movByte = (off: number, v: number) => (off < 128 ? [0xc6, 0x46, off] : [0xc6, 0x86, ...le32(off)]).concat([v & 255]);
const movDword = (d: number, v: number) => [0xc7, 0x46, d & 255, ...le32(v >>> 0)];
const MASKFIX_BYTES = movDword(28, 0);

/**
 * Random FXSAVE/FXRSTOR/LDMXCSR/STMXCSR/CLFLUSH cases: random XMM and MXCSR inputs, an image edited
 * at random offsets (MXCSR kept valid or not), operands aligned or not, near page and window edges.
 */
export function genStateCases(seed: number, n: number): DiffCase[] {
  const r = rng(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)];
  const out: DiffCase[] = [];
  for (let i = 0; i < n; i++) {
    const xmm: Record<string, string> = {};
    for (let k = 0; k < 16; k++) if (r() < 0.5) xmm[`xmm${k}`] = hex64(r) + hex64(r).slice(2);
    const mxcsr = '0x' + ((Math.floor(r() * 0x10000) & 0xffbf) | (r() < 0.3 ? 0x40 : 0)).toString(16);
    const base = pick([0x100, 0x1000 - 0x100, 0xff0, 0x8000, 0x10000 - 0x200, 0x10000 - 0x100, 0x10000 - 0x10, 0x3000]);
    const mis = r() < 0.15 ? pick([1, 4, 8, 12]) : 0;
    const w = r() < 0.5;
    let code: number[];
    switch (pick(['save', 'restore', 'restore', 'mxcsr', 'clflush'])) {
      case 'save': code = [...grp15(0, mis, w), ...MASKFIX_BYTES]; break;
      case 'restore': {
        code = [...grp15(0, 0, w), ...MASKFIX_BYTES];
        for (let k = 0, m = 1 + Math.floor(r() * 6); k < m; k++) {
          const off = pick([0, 2, 4, 6, 32, 40, 48, 64, 100, 128, 150, 160, 200, 300, 400, 416, 500]) + Math.floor(r() * 8);
          code.push(...movByte(off, Math.floor(r() * 256)));
        }
        // MXCSR: valid, or with one reserved bit (bit 17, MXCSR.MM on AMD hosts, is never set).
        let mx = Math.floor(r() * 0x10000);
        if (r() < 0.15) { const bit = 16 + Math.floor(r() * 16); if (bit !== 17) mx = (mx | (1 << bit)) >>> 0; }
        code.push(...movDword(24, mx), ...grp15(1, mis, w));
        break;
      }
      case 'mxcsr': {
        let v = Math.floor(r() * 0x10000);
        if (r() < 0.2) { const bit = 16 + Math.floor(r() * 16); if (bit !== 17) v = (v | (1 << bit)) >>> 0; }
        code = [...movDword(mis, v), ...grp15(2, mis), ...grp15(3, mis + 4)];
        break;
      }
      default: code = grp15(7, mis);
    }
    out.push({ code: Uint8Array.from(code), regs: { rsi: DATA + base, rdi: DATA + 0x800 }, xmm, mxcsr, fcw: '0x27f' });
  }
  return out;
}

// `npm test` runs 2000 cases of seed 0x5eed; long runs: STATE_CASES=1000000 STATE_SEED=7 npx vitest run
// test/fxsave.test.ts -t seeded (chunks of 5000 through one runner process each).
const STATE_CASES = Number(process.env.STATE_CASES ?? 2000), STATE_SEED = Number(process.env.STATE_SEED ?? 0x5eed);

describe.skipIf(nativeSkip)(`seeded random state-instruction cases against the host (seed ${STATE_SEED}, ${STATE_CASES} cases)`, () => {
  it('all agree', () => {
    const cases = genStateCases(STATE_SEED, STATE_CASES);
    const stops = new Set<string>();
    const bad: { i: number; d: string[]; code: unknown }[] = [];
    for (let at = 0; at < cases.length; at += 5000) {
      runCases(cases.slice(at, at + 5000)).forEach((x, j) => {
        stops.add(`${x.nat.stop}:${x.nat.vector ?? ''}`);
        if (x.diffs.length) bad.push({ i: at + j, d: x.diffs, code: x.exec });
      });
    }
    if (process.env.FX_DIAG) console.log([...new Set(bad.flatMap((b) => b.d))].join('\n'));
    expect(bad.slice(0, 5)).toEqual([]);
    // The mix really exercises faults and successes.
    for (const st of ['end:', 'exception:13', 'exception:14']) expect(stops).toContain(st);
  }, 600_000);
});
