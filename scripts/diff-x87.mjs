#!/usr/bin/env node
// Long differential runs of the x87 unit against the host CPU, through test/x87-gen.test.ts (the
// generator test/diff/gen-x87.ts, the native runner, the report of differing cases).
//
//   node scripts/diff-x87.mjs [--cases N] [--seeds 1,2,3]
//
// --cases is per seed (default 1,000,000); --seeds replaces the fixed seed 1.
import { options, runVitest } from './lib/vitest-run.mjs';

const opt = options('node scripts/diff-x87.mjs [--cases N] [--seeds 1,2,3]');
const env = { X87_CASES: opt('cases', '1000000'), X87_SEEDS: opt('seeds', '1') };
console.log(`x87 differential: ${env.X87_CASES} cases per seed, seeds ${env.X87_SEEDS}`);
runVitest('test/x87-gen.test.ts', undefined, env);
