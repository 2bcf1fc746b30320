// Behaviour record: the TVM's runs, a debugger session, the benchmarks' modelled figures and the
// emulator's results on the differential suite, as they came out before the "room to grow"
// restructuring (issue 10). Every later change to the code's structure must reproduce them byte
// for byte: same console, same instruction and virtual-cycle counts, same trace file.
// Host time (ms, MIPS) is measured apart and removed before comparing.
//
// A change that is *meant* to alter a record (a bug fix) regenerates it and says so in its commit:
//   GOLDEN_UPDATE=1 npx vitest run test/golden.test.ts
import { describe, it, expect } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from './helpers/cli.js';
import { generateCase, ALL_FEATURES } from './diff/gen.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const GOLDEN = join(HERE, 'golden');
const REPO = dirname(HERE); // paths inside the checkout print as <repo>: worktrees and CI clones differ
const UPDATE = process.env.GOLDEN_UPDATE === '1';
const tmp = mkdtempSync(join(tmpdir(), 'vmfunc-golden-'));

/** Keys whose values are host measurements, not behaviour. */
const HOST_KEY = /host|mips|_ms$|wall|launch_ms|elapsed/i;

function stripHost(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripHost);
  if (v && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (!HOST_KEY.test(k)) o[k] = stripHost(x);
    return o;
  }
  return v;
}

/** Console lines with host figures replaced ("after 210.8 ms host time" and the like). */
function stripHostText(s: string): string {
  return s.replace(/[\d.]+ ?(ms|s) host( time)?/g, '<host>').replace(/image": ".*?"/g, 'image": "<image>"')
    .split(REPO).join('<repo>');
}

function check(name: string, text: string): void {
  const file = join(GOLDEN, name);
  if (UPDATE || !existsSync(file)) {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(file, text);
    if (!UPDATE) throw new Error(`${name}: no record yet; written now (commit it)`);
    return;
  }
  expect(text).toBe(readFileSync(file, 'utf8'));
}

async function runJson(args: string[]): Promise<string> {
  const r = await runCli(['run', '--json', ...args]);
  const j = stripHost(JSON.parse(r.stdout)) as Record<string, unknown>;
  const console = r.stderr;
  return `exit code ${r.code}\n${stripHostText(JSON.stringify(j, null, 1))}\n--- console\n${stripHostText(console)}`;
}

describe('behaviour record (issue 10: byte-identical before and after restructuring)', () => {
  it('run, default (vtime) mode: the whole output, Dom0\'s program included (issue 11: deterministic)', async () => {
    check('run-default.txt', await runJson([]));
  });
  it('run --vmi-mode inline', async () => {
    check('run-inline.txt', await runJson(['--vmi-mode', 'inline']));
  });
  it('run --no-vmi', async () => {
    check('run-no-vmi.txt', await runJson(['--no-vmi']));
  });
  it('run, the rootkit scenario, syscall-check', async () => {
    const cfg = join(tmp, 'rootkit.json');
    writeFileSync(cfg, JSON.stringify({ programs: { 1: 'syscall-check' } }));
    check('run-rootkit.txt', await runJson(['--vmi-mode', 'inline', '--cmdline', 'rootkit', '--vmi-config', cfg]));
  });
  it('run --trace: the xentrace file, its bytes and as `trace` prints it', async () => {
    const file = join(tmp, 'run.trace');
    await runCli(['run', '--vmi-mode', 'inline', '--notify', 'tbuf', '--trace', file]);
    const bytes = readFileSync(file);
    const text = await runCli(['trace', file]);
    const lines = text.stdout.split('\n');
    check('trace.txt', `file: ${bytes.length} bytes, sha256 ${createHash('sha256').update(bytes).digest('hex')}\n` +
      `text: ${lines.length} lines, sha256 ${createHash('sha256').update(text.stdout).digest('hex')}\n` +
      `${lines.slice(0, 40).join('\n')}\n...\n${lines.slice(-20).join('\n')}`);
  });
  it('a debugger script', async () => {
    const script = join(tmp, 'debug.txt');
    writeFileSync(script, [
      'break vmfunc', 'continue', 'regs', 'disas', 'step', 'vmcs EPTP_INDEX', 'vmcs EPT_POINTER',
      'break exit RDTSC', 'continue', 'vmcs', 'next-exit', 'ept 0x100000', 'pt 0x400000',
      'break vmi', 'continue', 'trace 8', 'histogram', 'info', 'delete', 'continue',
    ].join('\n') + '\n');
    const r = await runCli(['debug', '--quiet', '--script', script]);
    check('debug.txt', `exit code ${r.code}\n${stripHostText(r.stdout)}\n--- stderr\n${stripHostText(r.stderr)}`);
  });
  it('bench overhead and bench trigger: the modelled figures', async () => {
    const o = await runCli(['bench', 'overhead', '--json']);
    check('bench-overhead.json', JSON.stringify(stripHost(JSON.parse(o.stdout)), null, 1) + '\n');
    const t = await runCli(['bench', 'trigger', '--json', '--requests', '100']);
    check('bench-trigger.json', JSON.stringify(stripHost(JSON.parse(t.stdout)), null, 1) + '\n');
  });
  it('exec: the emulator on 3,000 generated differential cases (every category)', async () => {
    const { ExecEnv } = await import('../src/exec.js');
    const env = await ExecEnv.create();
    const h = createHash('sha256');
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const gc = generateCase(1, i, { features: ALL_FEATURES });
      let r: unknown;
      try { r = env.run(gc.exec as never); } catch (e) { r = { threw: String(e) }; }
      const s = JSON.stringify(r);
      h.update(s + '\n');
      if (i % 100 === 0) lines.push(s);
    }
    check('exec-diff.txt', `sha256 ${h.digest('hex')}\n${lines.join('\n')}\n`);
  });
});
