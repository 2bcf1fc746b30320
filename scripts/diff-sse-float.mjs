#!/usr/bin/env node
// Long differential runs of the SSE/SSE2 floating-point unit against the host CPU, through the vitest
// case "generated SSE floating-point sequences agree with the host" of test/sse-float.test.ts (its
// generator is test/diff/gen-sse-float.ts; cases run in chunks of 5,000 through one native runner).
//
//   node scripts/diff-sse-float.mjs [--cases N] [--seeds 1,2,3]
//
// --cases is per seed (default 1,000,000); --seeds default 1. The first 20 mismatches are printed
// with their listing and exec input. Equivalent to
//   SSE_DIFF_CASES=1000000 SSE_DIFF_SEEDS=1 npx vitest run test/sse-float.test.ts -t "generated SSE"
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
  console.log('usage: node scripts/diff-sse-float.mjs [--cases N] [--seeds 1,2,3]');
  process.exit(0);
}
const env = { ...process.env, SSE_DIFF_CASES: opt('cases', '1000000'), SSE_DIFF_SEEDS: opt('seeds', '1') };
console.log(`SSE floating-point differential: ${env.SSE_DIFF_CASES} cases per seed, seeds ${env.SSE_DIFF_SEEDS}`);
const vitest = join(root, 'node_modules', '.bin', 'vitest');
const child = spawn(vitest, ['run', 'test/sse-float.test.ts', '-t', 'generated SSE'], { cwd: root, env, stdio: 'inherit' });
child.on('exit', (code, sig) => process.exit(code ?? (sig ? 1 : 0)));
