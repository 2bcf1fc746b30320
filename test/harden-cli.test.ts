// Issue 12, Deliver 2 and 4: the CLI never blocks on or swallows a hostile input
// file, checks output paths before a run, and reports every bad option in one
// line with its own message; a closed stdout ends the process quietly.
import { describe, it, expect } from 'vitest';
import { PassThrough } from 'node:stream';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync, truncateSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { endQuietlyOnEpipe } from '../src/util/epipe.js';
import { readInputFile, INPUT_CAPS } from '../src/util/files.js';
import { runInSandbox } from '../src/dom0/sandbox/index.js';
import type { Vmi } from '../src/dom0/libvmi/index.js';

const dir = mkdtempSync(join(tmpdir(), 'harden-'));
const fifo = join(dir, 'fifo');
execFileSync('mkfifo', [fifo]);

function oneLine(stderr: string): void {
  expect(stderr.split('\n').filter(Boolean)).toHaveLength(1);
  expect(stderr).toMatch(/^vmfunc-vmi: /);
  expect(stderr).not.toMatch(/NaN|\n\s+at /);
}

describe('option values', () => {
  it.each([
    [['run', '--views', 'abc'], /--views: "abc"/],
    [['run', '--views', '1'], /--views: 1 /],
    [['run', '--mem', 'lots'], /--mem: "lots"/],
    [['run', '--max-insns', 'x'], /--max-insns: "x"/],
    [['run', '--max-vtime', '5 parsecs'], /--max-vtime: "5 parsecs"/],
    [['run', '--profile', 'pentium'], /--profile: "pentium" is not a cost profile/],
    [['run', '--notify', 'carrier-pigeon'], /notify/],
    [['debug', '--gdb', 'http'], /--gdb: "http" is not a TCP port/],
    [['bench', 'trigger', '--requests', 'many'], /--requests: "many" is not a number of requests/],
    [['bench', 'trigger', '--seed', '-1'], /--seed: "-1"/],
    [['bench', 'mips', '--target', 'soon'], /--target: "soon"/],
    [['run', '--no-such-option'], /Unknown argument/],
    [['frobnicate'], /frobnicate|Unknown/],
  ])('%j: exit 2, one line of its own', async (args, re) => {
    const r = await runCli(args as string[]);
    expect(r.code).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toMatch(re);
    expect(r.stdout).toBe('');
  });
});

describe('output paths are checked before the run', () => {
  it('an unwritable --trace path: exit 2 naming it, no guest ran', async () => {
    const r = await runCli(['run', '--trace', join(dir, 'no', 'such', 'dir', 't.bin')]);
    expect(r.code).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toContain(join(dir, 'no', 'such', 'dir', 't.bin'));
    expect(r.stdout).toBe('');
  });
  it('--trace naming a directory', async () => {
    const r = await runCli(['run', '--trace', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is a directory/);
  });
  it('an out_dir in --vmi-config that is a file', async () => {
    const file = join(dir, 'plain'); writeFileSync(file, 'x');
    const cfg = join(dir, 'cfg.json'); writeFileSync(cfg, JSON.stringify({ out_dir: 'plain/out' }));
    const r = await runCli(['run', '--vmi-config', cfg]);
    expect(r.code).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toMatch(/out_dir.*not a directory|not a directory/);
    expect(r.stdout).toBe('');
  });
  it('bench --svg naming a file', async () => {
    const file = join(dir, 'plain2'); writeFileSync(file, 'x');
    const r = await runCli(['bench', 'trigger', '--svg', file]);
    expect(r.code).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toContain(file);
  });
});

describe('input files: regular files only, with a cap', () => {
  it.each([
    [['run', fifo]], [['run', '/dev/zero']], [['run', '--system-map', '/dev/zero']],
    [['run', '--vmi-config', fifo]], [['trace', fifo]], [['trace', '/dev/zero']],
    [['run', '--vmi-config', '/dev/zero']], [['run', '--system-map', fifo]],
    [['debug', '--script', fifo]], [['exec', '--batch', fifo]],
  ])('%j fails at once, naming the file', async (args) => {
    const r = await runCli(args as string[]);
    expect(r.code).not.toBe(0);
    oneLine(r.stderr);
    expect(r.stderr).toMatch(/not a regular file/);
    expect(r.stderr).toContain((args as string[]).at(-1));
  });
  it('a file over its cap: the error says the cap', async () => {
    const big = join(dir, 'big.elf'); writeFileSync(big, '');
    truncateSync(big, INPUT_CAPS.image + 1); // sparse: no disk used
    const r = await runCli(['run', big]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/over the 256 MiB limit/);
    expect(() => readInputFile(big, 'image')).toThrow(/over the 256 MiB limit/);
  });
});

describe('VMI programs named by a launch configuration: regular files only, with a cap', () => {
  const vmi = {} as Vmi;   // never reached: the program is refused before it runs
  it.each([[fifo], ['/dev/zero'], [dir]])('%s is refused at load, naming it', async (path) => {
    const r = await runInSandbox(path, vmi);
    expect(r).toMatchObject({ exitCode: null, errorKind: 'load' });
    expect(r.error).toMatch(new RegExp(`^${path}: .*not a (regular )?file`));
  });
  it('a program over the cap is refused without being read', async () => {
    const big = join(dir, 'big.wasm'); writeFileSync(big, '');
    truncateSync(big, INPUT_CAPS['VMI program'] + 1);
    const r = await runInSandbox(big, vmi);
    expect(r.errorKind).toBe('load');
    expect(r.error).toMatch(/over the 64 MiB limit/);
  });
});

describe('EPIPE', () => {
  it('a closed reader ends quietly, once; other errors still throw', () => {
    const s = new PassThrough();
    let ended = 0;
    endQuietlyOnEpipe(s, () => { ended++; });
    endQuietlyOnEpipe(s, () => { ended += 100; }); // installed once per stream
    const epipe = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
    s.emit('error', epipe); s.emit('error', epipe);
    expect(ended).toBe(1);
    expect(() => s.emit('error', Object.assign(new Error('disk'), { code: 'EIO' }))).toThrow(/disk/);
  });
  // The launcher runs dist/ (built by npm install / npm run build:ts).
  it.skipIf(!existsSync(join(import.meta.dirname, '..', 'dist', 'src', 'cli.js')))('the built CLI piped into head -c 10 exits 0 without a stack trace', () => {
    const out = execFileSync('bash', ['-c', 'node bin/vmfunc-vmi.js run --no-vmi --max-insns 2M 2>/dev/null | head -c 10 >/dev/null; echo ${PIPESTATUS[0]}'], { encoding: 'utf8', cwd: join(import.meta.dirname, '..') });
    expect(out.trim().split('\n')[0]).toMatch(/^(0|124)$/);
  });
  it.skipIf(!existsSync(join(import.meta.dirname, '..', 'dist', 'src', 'cli.js')))('exec and trace piped into head -c 10: exit 0, nothing on stderr', () => {
    const trace = join(dir, 'epipe.trace');
    const sh = (cmd: string) => execFileSync('bash', ['-c', cmd], { encoding: 'utf8', cwd: join(import.meta.dirname, '..') });
    sh(`node bin/vmfunc-vmi.js run --max-insns 3M --trace ${trace} >/dev/null 2>&1 || true`);
    const err = join(dir, 'epipe.err');
    const ex = sh(`yes '{"code":"90"}' | head -n 50000 | node bin/vmfunc-vmi.js exec --batch - 2>${err} | head -c 10 >/dev/null; echo \${PIPESTATUS[2]}`);
    expect(ex.trim()).toBe('0');
    expect(readFileSync(err, 'utf8')).toBe('');
    const tr = sh(`node bin/vmfunc-vmi.js trace ${trace} 2>${err} | head -c 10 >/dev/null; echo \${PIPESTATUS[0]}`);
    expect(tr.trim()).toBe('0');
    expect(readFileSync(err, 'utf8')).toBe('');
  });
});
