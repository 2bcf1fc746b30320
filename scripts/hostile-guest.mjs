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
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
};
if (args.includes('--help') || args.includes('-h')) {
  console.log('usage: node scripts/hostile-guest.mjs [--seed FIRST] [--runs N] [--calls N] [--flood N]');
  process.exit(0);
}
const first = Number(opt('seed', '1000')), runs = Number(opt('runs', '100'));
for (const [k, v] of [['seed', first], ['runs', runs]]) {
  if (!Number.isSafeInteger(v) || v < (k === 'runs' ? 1 : 0)) { console.error(`--${k}: a whole number is needed`); process.exit(2); }
}
const env = {
  ...process.env,
  HOSTILE_SEEDS: `${first}-${first + runs - 1}`,
  HOSTILE_CALLS: opt('calls', '3000'),
  HOSTILE_FLOOD: opt('flood', '300'),
};
console.log(`hostile guest: seeds ${env.HOSTILE_SEEDS}, ${env.HOSTILE_CALLS} calls + ${env.HOSTILE_FLOOD} flood calls each`);
const vitest = join(root, 'node_modules', '.bin', 'vitest');
const child = spawn(vitest, ['run', 'test/hostile-guest.test.ts', '-t', 'hostile guest'], { cwd: root, env, stdio: 'inherit' });
child.on('exit', (code, sig) => process.exit(code ?? (sig ? 1 : 0)));
