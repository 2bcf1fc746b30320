// Issue 12, Deliver 2: hostile VMI programs -- a loop without libvmi calls, a stdout flood, a stderr
// flood, memory growth, a trap, a path out of the preopened directory -- are contained alike in
// every mode: the sandbox's worker, inline and vtime modes, and `run`'s vtime, worker and pause
// (alias inline) modes. The time limit stops loops and floods (the sandbox thread is terminated),
// output past the bound is counted and dropped, memory.grow fails at the memory limit, and a path
// that leaves its directory fails with ENOTCAPABLE (76), as uvwasi (Node's WASI) returns it
// (src/path_resolver.c uvwasi__resolve_path; test/test-path-resolution.c). The README's default
// limits are the ones the code uses.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Sandbox, DEFAULT_VMI_LIMITS, type SandboxResult, type SandboxRunOptions } from '../src/dom0/sandbox/index.js';
import { DEFAULT_LAUNCH_CONFIG, DEFAULT_VMI_CONCURRENCY } from '../src/dom0/launch.js';
import { DEFAULT_VMI_QUEUE, DEFAULT_VMI_RATE } from '../src/xen/vm_event.js';
import { runImageWithLaunches } from '../src/run-launch.js';
import { packageRoot } from '../src/util/paths.js';
import { startProgramBench } from './helpers/vmi-programs.js';
import { HOSTILE, pathOpenProgram } from './helpers/hostile-programs.js';
import { writeRequestGuest } from './helpers/request-guest.js';
import { haveAssembler } from './helpers/asm.js';
import type { Vmi } from '../src/dom0/libvmi/index.js';

const LIMIT_MS = 1000;
const MEM_MIB = 2;                 // 32 Wasm pages
const OUT_BYTES = 64 << 10;
const dir = mkdtempSync(join(tmpdir(), 'vmvmi-hostile-'));

/** What each hostile program must come to, whatever the mode. */
function expectContained(name: string, r: { exitCode?: number | null; exit_code?: number | null; errorKind?: string; error?: string; stdout: string; stderr: string }, maxOut: number): void {
  const code = r.exitCode !== undefined ? r.exitCode : r.exit_code;
  const dropped = (s: string) => Number(/\[vmi launcher: (\d+) more bytes dropped\]\n$/.exec(s)?.[1] ?? 0);
  switch (name) {
    case 'loop':
      expect(r.error).toBe(`time limit: stopped after ${LIMIT_MS} ms (the program was still running)`);
      expect(r.stdout).toBe('hello from the loop\n');
      break;
    case 'stdout-flood': case 'stderr-flood': {
      expect(r.error).toBe(`time limit: stopped after ${LIMIT_MS} ms (the program was still running)`);
      const [flooded, quiet] = name === 'stdout-flood' ? [r.stdout, r.stderr] : [r.stderr, r.stdout];
      expect(quiet).toBe('');
      expect(dropped(flooded)).toBeGreaterThan(0);
      expect(flooded.length).toBeLessThanOrEqual(maxOut + 64);
      break;
    }
    case 'memory-grow':
      expect(r.error).toBeUndefined();
      expect(code).toBe((MEM_MIB << 20) / 65536);   // memory.grow failed at the limit
      break;
    case 'trap':
      expect(r.error).toMatch(/^trap: unreachable/);
      expect(code).toBeNull();
      break;
    case 'path-escape':
      expect(r.error).toBeUndefined();
      expect(code).toBe(76);                          // ENOTCAPABLE
      break;
    default: throw new Error(name);
  }
}

describe('hostile VMI programs in each sandbox mode (worker, inline, vtime)', () => {
  let vmi: Vmi, sandbox: Sandbox;
  beforeAll(() => { ({ vmi, sandbox } = startProgramBench()); });
  afterAll(async () => { await sandbox.close(); });
  const modes: Array<{ mode: 'worker' | 'inline' | 'vtime'; extra: SandboxRunOptions }> = [
    { mode: 'worker', extra: {} },
    { mode: 'inline', extra: {} },
    // Dom0 on virtual time serves every call at once here; loops without calls meet the host watchdog.
    { mode: 'vtime', extra: { clock: { call: async () => true } } },
  ];
  for (const { mode, extra } of modes) {
    it(`${mode}: loop, stdout flood, stderr flood, memory growth, trap and path escape are contained`, async () => {
      const t = Date.now();
      // One after another: six sandbox threads at once on a loaded two-core host starve the looper.
      const results: SandboxResult[] = [];
      for (const h of HOSTILE) {
        results.push(await sandbox.run(h.program(), vmi, {
          args: [h.name], mode, timeLimitMs: LIMIT_MS, memoryLimitMiB: MEM_MIB, maxOutputBytes: OUT_BYTES, ...extra,
        }));
      }
      HOSTILE.forEach((h, i) => expectContained(h.name, results[i], OUT_BYTES));
      expect(Date.now() - t).toBeLessThan(30_000);
    });
  }

  it('paths: inside /out opens; "../x", "/x" and "a/../../x" fail with ENOTCAPABLE in every mode', async () => {
    for (const { mode, extra } of modes) {
      const codes: Record<string, number | null> = {};
      for (const p of ['ok.txt', './ok2.txt', '../x', '/x', 'a/../../x', '..']) {
        codes[p] = (await sandbox.run(pathOpenProgram(p), vmi, { args: ['open'], mode, ...extra })).exitCode;
      }
      expect(codes, mode).toEqual({ 'ok.txt': 0, './ok2.txt': 0, '../x': 76, '/x': 76, 'a/../../x': 76, '..': 76 });
    }
  });
});

describe.skipIf(!haveAssembler())('hostile VMI programs launched by `run` in each mode (vtime, worker, pause, inline)', () => {
  // Parameters 1..6 name the six programs; the guest raises one request for each (views 1..6: 7 views).
  const programs: Record<string, string> = {};
  HOSTILE.forEach((h, i) => {
    const f = join(dir, `${h.name}.wasm`);
    writeFileSync(f, h.program());
    programs[String(i + 1)] = f;
  });
  const image = writeRequestGuest(dir, 'hostile.elf', [[1, 2, 3, 4, 5, 6]]);
  for (const launchMode of ['vtime', 'worker', 'pause', 'inline'] as const) {
    it(`${launchMode}: every program is stopped or ends as in the sandbox; the run completes`, async () => {
      const s = await runImageWithLaunches({
        image, systemMap: false, memMiB: 4, vmi: { views: 7 }, launchMode,
        launchConfig: { programs, timeLimitMs: LIMIT_MS, memoryLimitMiB: MEM_MIB },
      });
      expect(s.exit.status).toBe(0);
      expect(s.vmi_programs.map((p) => p.parameter).sort()).toEqual([1, 2, 3, 4, 5, 6]);
      for (const p of s.vmi_programs) expectContained(HOSTILE[p.parameter - 1].name, p, DEFAULT_VMI_LIMITS.maxOutputBytes);
    });
  }
});

describe('the default limits are one fact: the code\'s, the launch configuration\'s and the README\'s', () => {
  it('run\'s launch configuration uses the sandbox defaults', () => {
    expect(DEFAULT_LAUNCH_CONFIG.timeLimitMs).toBe(DEFAULT_VMI_LIMITS.timeLimitMs);
    expect(DEFAULT_LAUNCH_CONFIG.memoryLimitMiB).toBe(DEFAULT_VMI_LIMITS.memoryLimitMiB);
  });
  it('vmi/README.md states the limits and the request bounds the code uses', () => {
    const readme = readFileSync(join(packageRoot(), 'vmi', 'README.md'), 'utf8').replace(/\s+/g, ' ');
    const m = /The defaults \(`DEFAULT_VMI_LIMITS`[^)]*\)[^:]*: (\d+) s of wall-clock time, (\d+) MiB of linear memory, (\d+) MiB of stdout and of stderr each, (\d+) GiB of files, (\d+) MiB of JS heap/.exec(readme);
    expect(m, 'the README\'s sentence on the default limits').not.toBeNull();
    expect(Number(m![1]) * 1000).toBe(DEFAULT_VMI_LIMITS.timeLimitMs);
    expect(Number(m![2])).toBe(DEFAULT_VMI_LIMITS.memoryLimitMiB);
    expect(Number(m![3]) << 20).toBe(DEFAULT_VMI_LIMITS.maxOutputBytes);
    expect(Number(m![4]) * 2 ** 30).toBe(DEFAULT_VMI_LIMITS.maxFileBytes);
    expect(Number(m![5])).toBe(DEFAULT_VMI_LIMITS.heapLimitMiB);
    const q = /defaults: `--vmi-queue (\d+)`, `--vmi-concurrency (\d+)`, `--vmi-rate (\d+)\/s`/.exec(readme);
    expect(q, 'the README\'s sentence on the request bounds').not.toBeNull();
    expect(q!.slice(1).map(Number)).toEqual([DEFAULT_VMI_QUEUE, DEFAULT_VMI_CONCURRENCY, DEFAULT_VMI_RATE]);
  });
});
