#!/usr/bin/env node
// Long differential runs of the x87 unit against the host CPU, through test/x87-gen.test.ts (the
// generator test/diff/gen-x87.ts, the native runner, the report of differing cases).
//
//   node scripts/diff-x87.mjs [--cases N] [--seeds 1,2,3]
//
// --cases is per seed (default 1,000,000); --seeds replaces the fixed seed 1.
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
  console.log('usage: node scripts/diff-x87.mjs [--cases N] [--seeds 1,2,3]');
  process.exit(0);
}
const env = { ...process.env, X87_CASES: opt('cases', '1000000'), X87_SEEDS: opt('seeds', '1') };
console.log(`x87 differential: ${env.X87_CASES} cases per seed, seeds ${env.X87_SEEDS}`);
const vitest = join(root, 'node_modules', '.bin', 'vitest');
const child = spawn(vitest, ['run', 'test/x87-gen.test.ts'], { cwd: root, env, stdio: 'inherit' });
child.on('exit', (code, sig) => process.exit(code ?? (sig ? 1 : 0)));
