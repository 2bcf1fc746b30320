#!/usr/bin/env node
// Long differential runs of the SSE2 packed-integer and MMX unit against the host CPU, through the
// generated-case test of test/sse-int.test.ts (generator: test/diff/gen-sse-int.ts).
//
//   node scripts/diff-sse-int.mjs [--cases N] [--seeds 1,2,3]
//
// --cases is per seed (default 1,000,000); --seeds replaces the fixed seed of `npm test` (0x5e2).
// The first 20 mismatches are printed with their case JSON (runnable with `vmfunc-vmi exec`).
// Equivalent to
//   SSE_INT_CASES=1000000 SSE_INT_SEEDS=1,2,3 npx vitest run test/sse-int.test.ts -t "generated"
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
  console.log('usage: node scripts/diff-sse-int.mjs [--cases N] [--seeds 1,2,3]');
  process.exit(0);
}
const env = { ...process.env, SSE_INT_CASES: opt('cases', '1000000'), SSE_INT_SEEDS: opt('seeds', String(0x5e2)) };
console.log(`sse-int differential: ${env.SSE_INT_CASES} cases per seed, seeds ${env.SSE_INT_SEEDS}`);
const vitest = join(root, 'node_modules', '.bin', 'vitest');
const child = spawn(vitest, ['run', 'test/sse-int.test.ts', '-t', 'generated'], { cwd: root, env, stdio: 'inherit' });
child.on('exit', (code, sig) => process.exit(code ?? (sig ? 1 : 0)));
