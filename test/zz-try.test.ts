import { it } from 'vitest';
import { runCases } from './diff/diffcase.js';
import { genSseIntCase } from './diff/gen-sse-int.js';
it('try', () => {
  const N = Number(process.env.N ?? 2000);
  const cs = Array.from({ length: N }, (_, i) => genSseIntCase(1, i));
  const t0 = Date.now();
  const rs = runCases(cs.map((x) => x.c));
  console.log('ms', Date.now() - t0);
  const byKind = new Map<string, number>();
  let shown = 0;
  rs.forEach((r, i) => {
    if (r.diffs.length) {
      byKind.set(cs[i].kind, (byKind.get(cs[i].kind) ?? 0) + 1);
      if (shown++ < 12) console.log(cs[i].kind, JSON.stringify(r.exec), '\n  ', r.diffs.slice(0, 4).join('\n   '), r.nat.stop, r.nat.vector);
    }
  });
  console.log([...byKind]);
  const st = new Map<string, number>(); rs.forEach((r) => { const k = r.nat.stop + ':' + (r.nat.vector ?? '') + ':' + r.nat.fpu?.ftw; st.set(k, (st.get(k) ?? 0) + 1); }); console.log([...st]);
  rs.forEach((r, i) => { if (r.nat.stop === 'exception') console.log(cs[i].kind, r.nat.vector, r.exec.code, r.nat.rip); });
  console.log(JSON.stringify(rs.find((r, i) => cs[i].kind === 'mmx')?.nat.fpu));
});
