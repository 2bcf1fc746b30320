#!/usr/bin/env node
// Long differential runs of our CPU against the host CPU, through the vitest suite
// test/differential.test.ts (which holds the generator, the native runner and the report).
//
//   node scripts/diff-many.mjs [--cases N] [--seeds 1,2,3] [--exclude xlat,enter] [--focus alu]
//
// --cases is per seed (default 1,000,000); --seeds replaces the fixed seed 1 (default: 1).
// Mismatches are grouped and minimised into test/.cache/diff-report.txt. Equivalent to
//   DIFF_CASES=1000000 DIFF_SEEDS=1,2,3 npx vitest run test/differential.test.ts -t "agree with the host"
import { options, runVitest } from './lib/vitest-run.mjs';

const opt = options('node scripts/diff-many.mjs [--cases N] [--seeds 1,2,3] [--exclude cat,..] [--focus cat]');
const env = {
  DIFF_CASES: opt('cases', '1000000'),
  DIFF_SEEDS: opt('seeds', '1'),
  DIFF_EXCLUDE: opt('exclude', process.env.DIFF_EXCLUDE ?? ''),
  DIFF_FOCUS: opt('focus', process.env.DIFF_FOCUS ?? ''),
};
console.log(`differential: ${env.DIFF_CASES} cases per seed, seeds ${env.DIFF_SEEDS}` +
  (env.DIFF_EXCLUDE ? `, excluding ${env.DIFF_EXCLUDE}` : '') + (env.DIFF_FOCUS ? `, focus ${env.DIFF_FOCUS}` : ''));
runVitest('test/differential.test.ts', 'agree with the host', env);
