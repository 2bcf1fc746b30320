import { it } from 'vitest';
import { runCases } from './diff/diffcase.js';
import { genSseFloatCases } from './diff/gen-sse-float.js';
it('probe', () => {
  const N = Number(process.env.N ?? 2000), seed = Number(process.env.SEED ?? 1);
  const cs = genSseFloatCases(seed, N);
  const t = Date.now();
  const r = runCases(cs);
  let bad = 0;
  const byName = new Map<string, number>();
  r.forEach((x, i) => {
    if (x.diffs.length) {
      bad++;
      const k = cs[i].listing.slice(-1)[0].split(' ')[0];
      byName.set(k, (byName.get(k) ?? 0) + 1);
      if (bad <= Number(process.env.SHOW ?? 15)) console.log(cs[i].listing.join('; '), JSON.stringify(x.exec), x.diffs.join(' | '));
    }
  });
  console.log(`${bad}/${N} mismatches in ${Date.now() - t} ms`, [...byName.entries()].sort((a, b) => b[1] - a[1]).slice(0, 20));
});
