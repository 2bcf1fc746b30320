// The fuzz suites' common driver (issue 12, Deliver 5): a case budget, a seeded stream per case, and
// the failures with what reproduces them. In `npm test` each suite runs a fixed number of cases from
// seed 1 (a few seconds); scripts/fuzz/fuzz.mjs runs one for hours with FUZZ_SEED and FUZZ_DURATION
// (seconds; the case count is then unbounded) and FUZZ_CASES overrides the count.
import { mkdirSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32 } from '../../src/util/prng.js';

export interface Rnd {
  /** Uniform in [0, 1). */
  (): number;
  int(n: number): number;
  pick<T>(xs: readonly T[]): T;
  bytes(n: number): Uint8Array;
  chance(p: number): boolean;
}

export function rndFor(seed: number, index: number): Rnd {
  const f = mulberry32((Math.imul(seed, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0);
  const r = (() => f()) as Rnd;
  r.int = (n) => Math.floor(f() * n);
  r.pick = (xs) => xs[Math.floor(f() * xs.length)];
  r.bytes = (n) => { const b = new Uint8Array(n); for (let i = 0; i < n; i++) b[i] = Math.floor(f() * 256); return b; };
  r.chance = (p) => f() < p;
  return r;
}

/** Flips, overwrites, inserts or deletes a few bytes of `b` (the usual byte-level mutations). */
export function mutate(r: Rnd, b: Uint8Array, edits = 1 + r.int(4)): Uint8Array {
  let out = Uint8Array.from(b);
  for (let e = 0; e < edits; e++) {
    const at = out.length ? r.int(out.length) : 0;
    switch (r.int(6)) {
      case 0: if (out.length) out[at] ^= 1 << r.int(8); break;
      case 1: if (out.length) out[at] = r.int(256); break;
      case 2: if (out.length) out[at] = r.pick([0, 0xff, 0x7f, 0x80, 1]); break;
      case 3: { const ins = r.bytes(1 + r.int(8)); out = Uint8Array.from([...out.subarray(0, at), ...ins, ...out.subarray(at)]); break; }
      case 4: out = Uint8Array.from([...out.subarray(0, at), ...out.subarray(at + 1 + r.int(8))]); break;
      case 5: if (out.length >= 8) { const v = new DataView(out.buffer); const p = r.int(out.length - 7); v.setBigUint64(p, r.pick([0n, 0xffffffffffffffffn, 1n << 63n, 0x7fffffffn, BigInt(r.int(2 ** 31))]), true); } break;
    }
  }
  return out;
}

export interface FuzzRun { target: string; seed: number; cases: number; failures: string[]; ms: number }

/**
 * Runs `one(rnd, index)` for the budget: `defaultCases` cases from seed 1, or what FUZZ_SEED,
 * FUZZ_CASES and FUZZ_DURATION say. A case fails by throwing; the message is kept with its seed and
 * index (and appended to test/.cache/fuzz-failures.txt on long runs).
 */
export async function fuzz(target: string, defaultCases: number, one: (r: Rnd, index: number) => void | Promise<void>): Promise<FuzzRun> {
  const seed = Number(process.env.FUZZ_SEED ?? 1);
  const duration = process.env.FUZZ_DURATION ? Number(process.env.FUZZ_DURATION) * 1000 : undefined;
  const cases = process.env.FUZZ_CASES ? Number(process.env.FUZZ_CASES) : duration !== undefined ? Infinity : defaultCases;
  const t0 = Date.now();
  const failures: string[] = [];
  let i = 0;
  for (; i < cases && (duration === undefined || Date.now() - t0 < duration); i++) {
    try { await one(rndFor(seed, i), i); } catch (e) {
      const msg = `${target} seed ${seed} case ${i}: ${(e as Error)?.stack ?? String(e)}`;
      failures.push(msg);
      if (duration !== undefined) {
        const dir = join(import.meta.dirname ?? '.', '..', '.cache');
        mkdirSync(dir, { recursive: true });
        appendFileSync(join(dir, 'fuzz-failures.txt'), msg + '\n\n');
      }
      if (failures.length >= 20) break;
    }
  }
  const run = { target, seed, cases: i, failures, ms: Date.now() - t0 };
  console.log(`fuzz ${target}: seed ${seed}, ${run.cases} cases in ${run.ms} ms, ${failures.length} failures`);
  return run;
}

/** The test's timeout: generous for the default budget, the duration and a margin for a long run. */
export function fuzzTimeout(defaultMs: number): number {
  return process.env.FUZZ_DURATION ? Number(process.env.FUZZ_DURATION) * 1000 + 600_000 : defaultMs;
}
