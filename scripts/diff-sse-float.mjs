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
import { options, runVitest } from './lib/vitest-run.mjs';

const opt = options('node scripts/diff-sse-float.mjs [--cases N] [--seeds 1,2,3]');
const env = { SSE_DIFF_CASES: opt('cases', '1000000'), SSE_DIFF_SEEDS: opt('seeds', '1') };
console.log(`SSE floating-point differential: ${env.SSE_DIFF_CASES} cases per seed, seeds ${env.SSE_DIFF_SEEDS}`);
runVitest('test/sse-float.test.ts', 'generated SSE', env);
