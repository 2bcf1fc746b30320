// Random x87 sequences against the host CPU (test/diff/gen-x87.ts: the x87 code gcc emits for
// long double plus the rest of the instruction set, over the special operand classes of SDM Vol. 1
// 4.8.3 / 8.2.2, with precision control x rounding control and sometimes unmasked exceptions, SDM
// Vol. 1 8.1.5, 8.5, 8.7). Both sides must agree on everything compare.ts compares: stop and vector
// (#MF included), RIP, GPRs, flags, the data window (stores, FNSTENV images) and FCW/FSW/FTW/ST0-7.
//   X87_CASES=100000 X87_SEED=7 npx vitest run test/x87-gen.test.ts      (more, or another seed)
//   node scripts/diff-x87.mjs --cases 1000000 --seeds 1,2,3               (millions)
import { describe, expect, it } from 'vitest';
import { runCases, nativeSkip } from './diff/diffcase.js';
import { genX87Cases } from './diff/gen-x87.js';
import { disassemble } from './diff/native.js';

const CASES = Number(process.env.X87_CASES ?? 6000);
const SEEDS = (process.env.X87_SEEDS ?? process.env.X87_SEED ?? '1').split(',').map(Number);
const CHUNK = 5000;

describe.skipIf(nativeSkip)('x87 generated sequences agree with the host (SDM Vol. 1 chapter 8)', () => {
  for (const seed of SEEDS) {
    it(`seed ${seed}: ${CASES} cases`, () => {
      let bad = 0;
      const shown: string[] = [];
      for (let start = 0; start < CASES; start += CHUNK) {
        const cases = genX87Cases(seed, start, Math.min(CHUNK, CASES - start));
        runCases(cases).forEach((r, i) => {
          if (!r.diffs.length) return;
          bad++;
          if (shown.length < 5) shown.push(`case ${start + i} fcw ${cases[i].fcw?.toString(16)}\n${disassemble(cases[i].code as string)}\n  ${r.diffs.join('\n  ')}`);
        });
      }
      if (shown.length) console.log(shown.join('\n\n'));
      expect(bad, `${bad} of ${CASES} cases differ`).toBe(0);
    }, 3_600_000);
  }
});
