#!/usr/bin/env node
// Long hostile-guest runs (issue 12): seeded guests that call every HVMOP_altp2m sub-operation and
// random hypercalls, each followed by the host-side EPT audit of test/hostile-guest.test.ts.
//
//   node scripts/hostile-guest.mjs [--seed FIRST] [--runs N] [--calls N] [--flood N]
//
// Runs seeds FIRST .. FIRST+N-1 (default 1000, 100 runs) with --calls random calls (default 3000)
// and a --flood of view-0 set_mem_access calls (default 300) each. Equivalent to
//   HOSTILE_SEEDS=1000-1099 HOSTILE_CALLS=3000 HOSTILE_FLOOD=300 npx vitest run test/hostile-guest.test.ts
// A failing seed names itself in the test title; rerun it alone with --seed S --runs 1.
import { options, runVitest } from './lib/vitest-run.mjs';

const opt = options('node scripts/hostile-guest.mjs [--seed FIRST] [--runs N] [--calls N] [--flood N]');
const first = Number(opt('seed', '1000')), runs = Number(opt('runs', '100'));
for (const [k, v] of [['seed', first], ['runs', runs]]) {
  if (!Number.isSafeInteger(v) || v < (k === 'runs' ? 1 : 0)) { console.error(`--${k}: a whole number is needed`); process.exit(2); }
}
const env = {
  HOSTILE_SEEDS: `${first}-${first + runs - 1}`,
  HOSTILE_CALLS: opt('calls', '3000'),
  HOSTILE_FLOOD: opt('flood', '300'),
};
console.log(`hostile guest: seeds ${env.HOSTILE_SEEDS}, ${env.HOSTILE_CALLS} calls + ${env.HOSTILE_FLOOD} flood calls each`);
runVitest('test/hostile-guest.test.ts', 'hostile guest', env);
