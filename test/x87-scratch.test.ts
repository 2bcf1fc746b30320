import { describe, expect, it } from 'vitest';
import { runCases, nativeSkip } from './diff/diffcase.js';
import { genX87Cases } from './diff/gen-x87.js';
import { disassemble } from './diff/native.js';
describe.skipIf(nativeSkip)('scratch', () => {
  it('runs', () => {
    const N = Number(process.env.N ?? 2000), SEED = Number(process.env.SEED ?? 1);
    const cases = genX87Cases(SEED, 0, N);
    const rs = runCases(cases);
    const badIdx = rs.map((r, i) => (r.diffs.length ? i : -1)).filter((i) => i >= 0);
    // first diverging instruction per failing case
    const pre: { ci: number; upto: number; line: string; prev: string }[] = [];
    for (const ci of badIdx.slice(0, 150)) {
      const code = cases[ci].code as string;
      const lines = disassemble(code).trim().split('\n').filter((l) => /^\s*[0-9a-f]+:/.test(l));
      const offs = lines.map((l) => parseInt(l.trim().split(':')[0], 16) - 0x10000000);
      for (let k = 0; k < lines.length; k++) {
        const end = k + 1 < offs.length ? offs[k + 1] : code.length / 2;
        pre.push({ ci, upto: end, line: lines[k].split('\t').slice(2).join(' '), prev: k > 0 ? lines[k - 1].split('\t').slice(2).join(' ') : '' });
      }
    }
    const prs = runCases(pre.map((p) => ({ ...cases[p.ci], code: (cases[p.ci].code as string).slice(0, p.upto * 2) })));
    const seen = new Set<number>();
    const cats = new Map<string, { n: number; ex: string }>();
    prs.forEach((r, j) => {
      const p = pre[j];
      if (seen.has(p.ci) || !r.diffs.length) return;
      seen.add(p.ci);
      const k = p.line.replace(/\[.*\]|st\(\d\)/g, 'X');
      const c = cats.get(k) ?? { n: 0, ex: '' };
      c.n++;
      if (c.n <= 2) c.ex += `\n   case ${p.ci} fcw ${cases[p.ci].fcw?.toString(16)} prev: ${p.prev}\n   ${r.diffs.join('\n   ')}\n   nat ${JSON.stringify(r.nat.fpu)}\n   emu ${JSON.stringify(r.emu.fpu)}`;
      cats.set(k, c);
    });
    console.log([...cats].sort((a, b) => b[1].n - a[1].n).map(([k, v]) => v.n + ' ' + k + (process.env.EX ? v.ex : '')).join('\n'));
    console.log('bad', badIdx.length, 'of', N);
    expect(badIdx.length).toBe(0);
  });
});
