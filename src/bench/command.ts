// `vmfunc-vmi bench trigger|overhead|mips|torn|exits`: the command behind src/cli.ts's
// `bench` (issue 7). Tables on stdout (or JSON with --json), SVG charts into
// --svg DIR, a progress line on stderr when it is a terminal.
import { benchTrigger, formatTriggerBench } from './trigger.js';
import { benchTriggerLinux } from './trigger-linux.js';
import { benchOverhead, formatOverheadBench } from './overhead.js';
import { benchTorn, formatTornBench } from './torn.js';
import { benchExits, formatExitBench } from './exits.js';
import { triggerSvgs, overheadSvgs, writeSvgs } from './svg.js';
import { progressLine } from './progress.js';
import { getProfile } from '../xen/cost-profiles.js';

export class BenchUsageError extends Error {}

export interface BenchArgs {
  /** Default haswell; torn: all bundled profiles unless one is named. */
  profile?: string;
  json?: boolean;
  svg?: string;
  // trigger
  requests?: number; rdtscLoop?: number; rates?: string; pollMs?: string; seed?: number;
  // mips (passed to src/bench/mips.ts)
  iterations?: number; target?: number; repeat?: number; emuRuns?: number; native?: boolean; qemu?: boolean; ept?: boolean; jit?: 'on' | 'off'; workload?: string;
  // overhead, trigger
  guest?: 'tvm' | 'linux';
  // exits (also repeat)
  exits?: number;
}

export type BenchName = 'trigger' | 'overhead' | 'mips' | 'torn' | 'exits';

function list(text: string, opt: string): number[] {
  return text.split(',').map((x) => {
    const n = Number(x);
    if (!(n > 0)) throw new BenchUsageError(`${opt}: "${x}" is not a positive number`);
    return n;
  });
}

function out(text: string): void { process.stdout.write(text + '\n'); }

function svgs(dir: string | undefined, files: () => Record<string, string>): void {
  if (dir === undefined) return;
  if (dir === '') throw new BenchUsageError('--svg: name a directory');
  for (const p of writeSvgs(dir, files())) process.stderr.write(`wrote ${p}\n`);
}

export async function benchCommand(what: BenchName, a: BenchArgs): Promise<number> {
  const profile = getProfile(a.profile ?? 'haswell').name;
  const prog = progressLine();
  if (what === 'torn') {
    const requests = a.requests ?? 20;
    if (!Number.isInteger(requests) || requests < 1) throw new BenchUsageError(`--requests: ${requests} is not a positive whole number`);
    if (a.svg !== undefined) process.stderr.write('bench torn: --svg is not supported (no chart for this bench); ignored\n');
    const b = await benchTorn({
      requests, profiles: a.profile === undefined ? undefined : [profile],
      onProgress: (d, t, w) => prog.update(d, t, `bench torn: ${w}`),
    });
    prog.done();
    out(a.json ? JSON.stringify(b, null, 2) : formatTornBench(b));
    return 0;
  }
  if (what === 'exits') {
    if (a.svg !== undefined) process.stderr.write('bench exits: --svg is not supported (no chart for this bench); ignored\n');
    const b = benchExits({
      profile, iterations: a.exits, repeat: a.repeat,
      onProgress: (d, t, w) => prog.update(d, t, `bench exits: ${w}`),
    });
    prog.done();
    out(a.json ? JSON.stringify(b, null, 2) : formatExitBench(b));
    return 0;
  }
  if (what === 'trigger') {
    const linux = a.guest === 'linux';
    const requests = a.requests ?? (linux ? 20 : 1000);
    if (!Number.isInteger(requests) || requests < 1) throw new BenchUsageError(`--requests: ${requests} is not a positive whole number`);
    const b = linux ? benchTriggerLinux({ profile, requests, seed: a.seed, onProgress: (d, t, w) => prog.update(d, t, `bench trigger: ${w}`) }) : benchTrigger({
      profile, requests, rdtscLoop: a.rdtscLoop, seed: a.seed,
      rates: a.rates ? list(a.rates, '--rates') : undefined, pollMs: a.pollMs ? list(a.pollMs, '--poll-ms') : undefined,
      onProgress: (d, t, w) => prog.update(d, t, `bench trigger: ${w}`),
    });
    prog.done();
    out(a.json ? JSON.stringify(b, null, 2) : formatTriggerBench(b));
    svgs(a.svg, () => triggerSvgs(b));
    return 0;
  }
  if (what === 'overhead') {
    const pollMs = a.pollMs ? list(a.pollMs, '--poll-ms')[0] : 1;
    let step = 0;
    const b = await benchOverhead({ profile, pollMs, image: a.guest === 'linux' ? 'linux' : undefined, onProgress: (m) => prog.update(step++, 4, m) });
    prog.done();
    out(a.json ? JSON.stringify(b, null, 2) : formatOverheadBench(b));
    svgs(a.svg, () => overheadSvgs(b));
    return 0;
  }
  // mips: src/bench/mips.ts (also `npm run bench`), which prints its own table / JSON and progress.
  if (a.svg !== undefined) process.stderr.write('bench mips: --svg is not supported (no chart for this bench); ignored\n');
  const argv: string[] = [];
  if (a.iterations !== undefined) argv.push('--iterations', String(a.iterations));
  if (a.target !== undefined) argv.push('--target', String(a.target));
  if (a.repeat !== undefined) argv.push('--repeat', String(a.repeat));
  if (a.emuRuns !== undefined) argv.push('--emu-runs', String(a.emuRuns));
  if (a.native === false) argv.push('--no-native');
  if (a.qemu === false) argv.push('--no-qemu');
  if (a.ept) argv.push('--ept');
  if (a.jit !== undefined) argv.push('--jit', a.jit);
  if (a.workload !== undefined) argv.push('--workload', a.workload);
  if (a.json) argv.push('--json');
  const { main } = await import('./mips.js');
  await main(argv);
  return 0;
}
