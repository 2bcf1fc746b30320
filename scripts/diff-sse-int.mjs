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
import { options, runVitest } from './lib/vitest-run.mjs';

const opt = options('node scripts/diff-sse-int.mjs [--cases N] [--seeds 1,2,3]');
const env = { SSE_INT_CASES: opt('cases', '1000000'), SSE_INT_SEEDS: opt('seeds', String(0x5e2)) };
console.log(`sse-int differential: ${env.SSE_INT_CASES} cases per seed, seeds ${env.SSE_INT_SEEDS}`);
runVitest('test/sse-int.test.ts', 'generated', env);
