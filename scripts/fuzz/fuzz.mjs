#!/usr/bin/env node
// Long fuzz runs of one target (issue 12, Deliver 5), through its vitest suite test/fuzz/<target>.test.ts
// (which holds the generator and the checks; test/fuzz/fuzz.ts the driver):
//
//   node scripts/fuzz/fuzz.mjs --target exec [--seed N] [--duration SECONDS] [--cases N]
//
// Targets: exec (instruction streams), elf (the image loader), trace (the trace-file reader and
// `trace`), gdb (the GDB stub), hypercall (hypercalls and HVMOPs from a guest), vmi (hostile VMI
// programs in every mode). Failures are printed and appended to test/.cache/fuzz-failures.txt.
// Equivalent to: FUZZ_SEED=N FUZZ_DURATION=S npx vitest run test/fuzz/<target>.test.ts
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { options, runVitest, root } from '../lib/vitest-run.mjs';

const TARGETS = ['exec', 'elf', 'trace', 'gdb', 'hypercall', 'vmi'];
const usage = `node scripts/fuzz/fuzz.mjs --target ${TARGETS.join('|')} [--seed N] [--duration SECONDS] [--cases N]`;
const opt = options(usage);
if (!opt('target')) { console.log(`usage: ${usage}`); process.exit(2); }
const target = opt('target');
if (!TARGETS.includes(target)) { console.error(`fuzz: --target: "${target}" is not one of ${TARGETS.join(', ')}`); process.exit(2); }
const num = (name, v) => { if (v !== undefined && !/^\d+$/.test(v)) { console.error(`fuzz: --${name}: "${v}" is not a non-negative integer`); process.exit(2); } return v; };
const env = { FUZZ_SEED: num('seed', opt('seed', '1')) };
const duration = num('duration', opt('duration')), cases = num('cases', opt('cases'));
if (duration) env.FUZZ_DURATION = duration;
if (cases) env.FUZZ_CASES = cases;
const file = join('test', 'fuzz', `${target}.test.ts`);
if (!existsSync(join(root, file))) { console.error(`fuzz: ${file} is missing`); process.exit(2); }
runVitest(file, undefined, env);
