// Host side of the differential tests: builds test/native/runner.c with the system gcc
// (cached under test/.cache/, rebuilt when the source is newer) and runs batches of cases.

import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Features } from './gen.js';

const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(HERE, '..', '..');
export const RUNNER_SRC = join(ROOT, 'test', 'native', 'runner.c');
export const CACHE_DIR = join(ROOT, 'test', '.cache');
export const RUNNER_BIN = join(CACHE_DIR, 'runner');

/** Why the native side cannot run here, or undefined when it can. */
export function nativeUnavailable(): string | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return `differential tests need an x86-64 Linux host (this is ${process.platform}/${process.arch})`;
  }
  const r = spawnSync('gcc', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return 'differential tests need gcc on PATH to build test/native/runner.c';
  return undefined;
}

/** Build the runner if missing or older than its source; returns the binary path. */
export function buildRunner(): string {
  mkdirSync(CACHE_DIR, { recursive: true });
  const fresh = existsSync(RUNNER_BIN) && statSync(RUNNER_BIN).mtimeMs >= statSync(RUNNER_SRC).mtimeMs;
  if (fresh) return RUNNER_BIN;
  const tmp = `${RUNNER_BIN}.${process.pid}.tmp`;
  // no _FORTIFY_SOURCE: the runner longjmps out of signal handlers on purpose
  const r = spawnSync('gcc', ['-O2', '-g', '-Wall', '-U_FORTIFY_SOURCE', '-o', tmp, RUNNER_SRC], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`gcc failed to build ${RUNNER_SRC}:\n${r.stderr}`);
  renameSync(tmp, RUNNER_BIN);
  return RUNNER_BIN;
}

export function hostFeatures(bin = RUNNER_BIN): Features & { vendor: string } {
  const r = spawnSync(bin, ['--features'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`runner --features failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Run JSONL lines synchronously (small batches). */
export function runNativeSync(lines: string[], bin = RUNNER_BIN): any[] {
  const r = spawnSync(bin, [], { input: lines.join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`runner exited with ${r.status} ${r.signal ?? ''}: ${r.stderr}`);
  const out = r.stdout.trim() === '' ? [] : r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  if (out.length !== lines.length) throw new Error(`runner produced ${out.length} results for ${lines.length} cases`);
  return out;
}

/**
 * Run JSONL lines in a child process that reads and writes files, so that it keeps running
 * on the other core while this thread is busy with the emulator.
 */
export function runNativeAsync(lines: string[], bin = RUNNER_BIN): Promise<{ results: any[]; ms: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'diffnat-'));
  const inPath = join(dir, 'in.jsonl'), outPath = join(dir, 'out.jsonl');
  writeFileSync(inPath, lines.join('\n') + '\n');
  const inFd = openSync(inPath, 'r'), outFd = openSync(outPath, 'w');
  const t0 = performance.now();
  const child = spawn(bin, [], { stdio: [inFd, outFd, 'pipe'], env: { ...process.env, RUNNER_TIMING: '1' } });
  closeSync(inFd); closeSync(outFd);
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += d; });
  return new Promise((res, rej) => {
    child.on('error', rej);
    child.on('exit', (code, sig) => {
      // the runner's own timing; the exit event may be seen late while this thread is busy
      const m = /runner-timing \d+ ([\d.]+)/.exec(stderr);
      const ms = m ? Number(m[1]) : performance.now() - t0;
      stderr = stderr.replace(/runner-timing .*\n?/, '');
      try {
        if (code !== 0) throw new Error(`runner exited with ${code} ${sig ?? ''}: ${stderr}`);
        const text = readFileSync(outPath, 'utf8').trim();
        const results = text === '' ? [] : text.split('\n').map((l) => JSON.parse(l));
        if (results.length !== lines.length) throw new Error(`runner produced ${results.length} results for ${lines.length} cases`);
        res({ results, ms });
      } catch (e) { rej(e); } finally { rmSync(dir, { recursive: true, force: true }); }
    });
  });
}

/** objdump disassembly of a code string (hex), or a note when objdump is missing. */
export function disassemble(codeHex: string, base = 0x10000000): string {
  const dir = mkdtempSync(join(tmpdir(), 'diffdis-'));
  try {
    const f = join(dir, 'code.bin');
    writeFileSync(f, Buffer.from(codeHex, 'hex'));
    const r = spawnSync('objdump', ['-D', '-b', 'binary', '-mi386:x86-64', '-M', 'intel', `--adjust-vma=0x${base.toString(16)}`, f], { encoding: 'utf8' });
    if (r.status !== 0) return '(objdump unavailable)';
    const lines = r.stdout.split('\n').filter((l) => /^\s+[0-9a-f]+:\t/.test(l));
    return lines.map((l) => '    ' + l.trim()).join('\n');
  } finally { rmSync(dir, { recursive: true, force: true }); }
}
