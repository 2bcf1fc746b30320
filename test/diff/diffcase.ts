// One-call differential check for hand-written cases (the SSE, x87 and system tests): runs a byte
// sequence with an input state on the host CPU (test/native/runner.c) and on our CPU (src/exec.ts,
// the `exec` environment) and returns the differences, compared as test/differential.test.ts
// compares generated cases (compare.ts diffResults: stop, vector, error code, CR2, RIP, GPRs,
// status flags + DF, the data window's hash, XMM0-15, MXCSR, FCW/FSW/abridged FTW/ST0-7).
//
//   import { diffCase, diffCases, nativeSkip } from './diff/diffcase.js';
//   describe.skipIf(nativeSkip)('ADDPS (SDM Vol. 2A ADDPS)', () => {
//     it('adds four singles', () => {
//       expect(diffCase({ code: '0f58c1', xmm: { xmm0: '0x3f800000', xmm1: '0x40000000' } })).toEqual([]);
//     });
//   });
//
// `diffCases` runs many cases through one runner process (much faster than many `diffCase` calls);
// `runCases` also returns both raw results. Masks: `undefFlags` (rflags bits the SDM leaves
// undefined), `mask` (compare.ts FpMask: SIMD/FPU bits the SDM leaves undefined; cite the section).
import { ExecEnv } from '../../src/exec.js';
import { buildRunner, nativeUnavailable, runNativeSync } from './native.js';
import { diffResults, type FpMask, type Result } from './compare.js';
import type { CaseMeta } from './gen.js';

type Num = string | number | bigint;

export interface DiffCase {
  /** Machine code: hex ("0f58c1") or bytes. A UD2 sentinel follows it; reaching it is "stop":"end". */
  code: string | Uint8Array | readonly number[];
  regs?: Record<string, Num>;
  rflags?: Num;
  /** "xmm0".."xmm15" (missing = 0). */
  xmm?: Record<string, Num>;
  mxcsr?: Num;
  fcw?: Num;
  max_insns?: number;
  /** rflags bits not compared (undefined after the code, SDM citation at the caller). */
  undefFlags?: number;
  /** GPRs not compared. */
  skipRegs?: string[];
  /** SIMD/FPU bits not compared. */
  mask?: FpMask;
}

/** Why the native side cannot run here (use with describe.skipIf), or undefined. */
export const nativeSkip: string | undefined = nativeUnavailable();

const hexNum = (v: Num): string => (typeof v === 'string' ? v : '0x' + BigInt(v).toString(16));
const hexObj = (o: Record<string, Num>): Record<string, string> => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, hexNum(v)]));

/** The `exec` JSON object of a case (what both sides run). */
export function execObject(c: DiffCase): Record<string, unknown> {
  const code = typeof c.code === 'string' ? c.code.replace(/\s+/g, '') : Buffer.from(c.code as Uint8Array).toString('hex');
  const o: Record<string, unknown> = { code };
  if (c.regs) o.regs = hexObj(c.regs);
  if (c.rflags !== undefined) o.rflags = hexNum(c.rflags);
  if (c.max_insns !== undefined) o.max_insns = c.max_insns;
  if (c.xmm) o.xmm = hexObj(c.xmm);
  if (c.mxcsr !== undefined) o.mxcsr = hexNum(c.mxcsr);
  if (c.fcw !== undefined) o.fcw = hexNum(c.fcw);
  return o;
}

function metaOf(c: DiffCase): CaseMeta {
  // No boundary matches the stop RIP, so compareMaskAt compares CMP_MASK minus undefFlags.
  return { id: 'diffCase', focus: 'hand', tags: [], boundaries: [[-1, c.undefFlags ?? 0]], regMask: c.skipRegs ?? [],
    listing: [], fpMask: c.mask };
}

let env: ExecEnv | undefined;
let runner: string | undefined;

export interface BothResults { exec: Record<string, unknown>; nat: Result; emu: Result; diffs: string[] }

/** Runs every case on both sides (one runner process); per case both results and their differences. */
export function runCases(cases: readonly DiffCase[]): BothResults[] {
  if (nativeSkip) throw new Error(`diffCase: ${nativeSkip}`);
  runner ??= buildRunner();
  env ??= ExecEnv.createSync();
  const execs = cases.map(execObject);
  const nats = runNativeSync(execs.map((o) => JSON.stringify(o)), runner);
  return cases.map((c, i) => {
    let emu: Result;
    try { emu = env!.run(execs[i] as never) as unknown as Result; } catch (e) { emu = { error: String((e as Error).message ?? e) }; }
    const nat = nats[i];
    const diffs = nat.error !== undefined || emu.error !== undefined
      ? [`error: native ${nat.error ?? '-'} | emu ${emu.error ?? '-'}`]
      : diffResults(metaOf(c), nat, emu);
    return { exec: execs[i], nat, emu, diffs };
  });
}

/** The differences of one case (empty when the host and our CPU agree). */
export function diffCase(c: DiffCase): string[] { return runCases([c])[0].diffs; }

/** The differences of each case, run through one runner process. */
export function diffCases(cases: readonly DiffCase[]): string[][] { return runCases(cases).map((r) => r.diffs); }
