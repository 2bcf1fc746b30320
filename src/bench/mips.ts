#!/usr/bin/env node
// Guest-MIPS benchmark of the emulated CPU against native execution.
//
// Runs firmware/bench/workload.bin (CRC-32 + quicksort + sieve, plain integer
// C compiled freestanding, see firmware/bench/Makefile; or, with --workload nbody,
// nbody.bin: scalar double C built with plain -O2, SSE2 code) in our CPU through
// ExecEnv.runBinary, and the same C sources compiled into a static native
// executable (bench/.out/workload-native, built here with gcc), and, when
// qemu-x86_64 is installed, that executable under QEMU user-mode emulation.
//
// The image's entry takes the iteration count in RDI and leaves the checksum
// in RAX; the native program prints its checksum and the nanoseconds spent in
// bench_run(). The checksums must agree, or the benchmark fails.
//
// Native instruction counts (for the native and QEMU MIPS columns) come from,
// in order of preference: `perf stat -e instructions:u` (when the host has a
// hardware counter; the run with 0 iterations is subtracted), valgrind's
// callgrind restricted to bench_run (exact), or else our own retired count
// minus the image's entry stub (identical object code for bench_run).
//
// Usage: npm run bench -- [--iterations N] [--target SECONDS] [--repeat R]
//                         [--emu-runs E] [--no-native] [--no-qemu] [--json]
//    or: vmfunc-vmi bench mips [the same options]
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ExecEnv } from '../exec.js';
import type { JitStats } from '../jit/host.js';
import { hexPad, grouped } from '../util/format.js';

// ---------------------------------------------------------------- contract --

type Num = string | number | bigint;

interface ExecResult {
  stop: 'end' | 'exception' | 'limit' | string;
  rip: Num;
  regs: Record<string, Num>;
  rflags: Num;
  insns: Num;
  data_fnv1a64?: Num;
  vector?: number;
}

const CODE_BASE = 0x10000000n;
const STACK_TOP = '0x20010000';
/** Instructions of the image's entry stub around bench_run (start.S):
 *  cld, 3x mov, sub, shr, xor, rep stosq, mov, call, jmp. */
const ENTRY_STUB_INSNS = 11n;
/** The committed image and its checksum for 1 iteration (checked even without gcc). */
const REFERENCE = {
  sha256: '0cfeb876e10caba7ff529d9b4df427548a4699fa40d638f939da4df5f0fc2533',
  checksum1: 0x054b3da23ca9def9n,
  insns1: 520_762n + ENTRY_STUB_INSNS,
};

/** The workloads: one C source set each, a flat image and a native build (firmware/bench/Makefile). */
interface Workload { name: string; what: string; image: string; nativeTarget: string; nativeExe: string; rebuildCheck: boolean }
const WORKLOADS: Record<string, Workload> = {
  crc: { name: 'crc', what: 'CRC-32 + quicksort + sieve, integer C (-mgeneral-regs-only)', image: 'workload.bin', nativeTarget: 'native', nativeExe: 'workload-native', rebuildCheck: true },
  nbody: { name: 'nbody', what: 'n-body, scalar double C (plain -O2: SSE2)', image: 'nbody.bin', nativeTarget: 'nbody-native', nativeExe: 'nbody-native', rebuildCheck: false },
};

// ----------------------------------------------------------------- options --

interface Options {
  iterations?: number;
  target: number;
  repeat: number;
  emuRuns: number;
  native: boolean;
  qemu: boolean;
  json: boolean;
  ept: boolean;
  jit: boolean;
  workload: string;
}

function usage(): never {
  process.stdout.write(
    'usage: npm run bench -- [--iterations N] [--target SECONDS] [--repeat R] [--emu-runs E]\n' +
      '                        [--no-native] [--no-qemu] [--ept] [--json]\n' +
      '  --iterations N   workload iterations (default: calibrated to --target)\n' +
      '  --target S       emulator run time to aim for when calibrating (default 3)\n' +
      '  --repeat R       native/QEMU runs, the fastest counts (default 5)\n' +
      '  --emu-runs E     measured emulator runs, the fastest counts (default 2)\n' +
      '  --no-native      skip building and running the native executable\n' +
      '  --no-qemu        skip QEMU even if qemu-x86_64 is installed\n' +
      '  --ept            also run the emulator with EPT on (one identity view)\n' +
      '  --jit on|off     also run the emulator with the JIT on (default on: both rows)\n' +
      '  --workload W     crc (integer; default), nbody (scalar double, SSE2)\n' +
      '  --json           print one JSON object on stdout (progress goes to stderr)\n',
  );
  process.exit(0);
}

function parseArgs(argv: string[]): Options {
  const o: Options = { target: 3, repeat: 5, emuRuns: 2, native: true, qemu: true, json: false, ept: false, jit: true, workload: 'crc' };
  const num = (i: number, name: string): number => {
    const v = Number(argv[i]);
    if (argv[i] === undefined || !Number.isFinite(v) || v <= 0) {
      fail(`${name} needs a positive number`);
    }
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) {
      argv.splice(i + 1, 0, a.slice(eq + 1));
      argv[i] = a.slice(0, eq);
    }
    switch (argv[i]) {
      case '--iterations':
      case '-n':
        o.iterations = Math.floor(num(++i, '--iterations'));
        break;
      case '--target':
        o.target = num(++i, '--target');
        break;
      case '--repeat':
        o.repeat = Math.floor(num(++i, '--repeat'));
        break;
      case '--emu-runs':
        o.emuRuns = Math.floor(num(++i, '--emu-runs'));
        break;
      case '--no-native':
        o.native = false;
        break;
      case '--no-qemu':
        o.qemu = false;
        break;
      case '--json':
        o.json = true;
        break;
      case '--ept':
        o.ept = true;
        break;
      case '--jit': {
        const v = argv[++i];
        if (v !== 'on' && v !== 'off') fail('--jit takes on or off');
        o.jit = v === 'on';
        break;
      }
      case '--workload':
        o.workload = argv[++i];
        if (!(o.workload in WORKLOADS)) fail(`--workload: "${o.workload}" is not one of ${Object.keys(WORKLOADS).join(', ')}`);
        break;
      case '--help':
      case '-h':
        usage();
        break;
      default:
        fail(`unknown option ${argv[i]} (try --help)`);
    }
  }
  return o;
}

// ----------------------------------------------------------------- helpers --

function fail(msg: string): never {
  process.stderr.write(`\nbench: FAIL: ${msg}\n`);
  process.exit(1);
}

let progressOpen = false;
function progress(msg: string): void {
  if (process.stderr.isTTY) {
    process.stderr.write(`\r\x1b[K${msg}`);
    progressOpen = true;
  } else {
    process.stderr.write(`${msg}\n`);
  }
}
function progressDone(): void {
  if (progressOpen) process.stderr.write('\r\x1b[K');
  progressOpen = false;
}

function big(v: Num | undefined): bigint {
  if (v === undefined) return 0n;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  return BigInt(v.trim());
}

function which(cmd: string): string | undefined {
  for (const d of (process.env.PATH ?? '').split(':')) {
    if (!d) continue;
    const p = join(d, cmd);
    if (existsSync(p)) return p;
  }
  return undefined;
}

function findRoot(): string {
  const isRoot = (d: string) => existsSync(join(d, 'package.json')) && existsSync(join(d, 'firmware', 'bench'));
  // From the script's own location (dist/src/bench/ or src/bench/), else from the cwd.
  for (const start of [dirname(fileURLToPath(import.meta.url)), process.cwd()]) {
    for (let d = start; ; d = dirname(d)) {
      if (isRoot(d)) return d;
      if (dirname(d) === d) break;
    }
  }
  fail('cannot find the repository root (package.json + firmware/bench)');
}

function run(cmd: string, args: string[], opts: { cwd?: string } = {}) {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}

function fmtNum(v: number, digits: number): string {
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

interface NativeRun {
  checksum: bigint;
  seconds: number;
}

function parseNativeOutput(out: string, what: string): NativeRun {
  const c = /checksum (0x[0-9a-f]+)/.exec(out);
  const n = /\bns (\d+)/.exec(out);
  if (!c || !n) fail(`${what}: unexpected output:\n${out}`);
  return { checksum: BigInt(c[1]), seconds: Number(n[1]) / 1e9 };
}

/** Runs `argv` `repeat` times; returns the fastest self-reported time. */
function bestOf(repeat: number, label: string, argv: string[]): NativeRun & { wall: number } {
  let best: (NativeRun & { wall: number }) | undefined;
  for (let i = 0; i < repeat; i++) {
    progress(`${label}: run ${i + 1}/${repeat}`);
    const t0 = process.hrtime.bigint();
    const r = run(argv[0], argv.slice(1));
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0) fail(`${label} exited with ${r.status ?? r.error}: ${r.stderr}`);
    const p = parseNativeOutput(r.stdout, label);
    if (best && p.checksum !== best.checksum) fail(`${label}: checksum differs between runs`);
    if (!best || p.seconds < best.seconds) best = { ...p, wall };
  }
  return best!;
}

// --------------------------------------------------------- native counting --

interface Count {
  insns: bigint;
  method: string;
}

function perfCount(exe: string, iterations: number): bigint | undefined {
  if (!which('perf')) return undefined;
  const one = (n: number): bigint | undefined => {
    const r = run('perf', ['stat', '-x', ',', '-e', 'instructions:u', '--', exe, String(n)]);
    if (r.status !== 0) return undefined;
    const line = r.stderr.split('\n').find((l) => l.includes('instructions'));
    if (!line) return undefined;
    const v = line.split(',')[0].trim();
    return /^\d+$/.test(v) ? BigInt(v) : undefined; // "<not supported>" in most VMs
  };
  const full = one(iterations);
  const base = one(0);
  if (full === undefined || base === undefined) return undefined;
  return full - base;
}

function callgrindCount(root: string, exe: string, iterations: number): bigint | undefined {
  if (!which('valgrind')) return undefined;
  const outFile = join(root, 'bench', '.out', 'callgrind.out');
  const r = run('valgrind', [
    '--tool=callgrind',
    '--toggle-collect=bench_run',
    `--callgrind-out-file=${outFile}`,
    exe,
    String(iterations),
  ]);
  if (r.status !== 0 || !existsSync(outFile)) return undefined;
  const m = /^summary:\s*(\d+)/m.exec(readFileSync(outFile, 'utf8'));
  return m ? BigInt(m[1]) : undefined;
}

// -------------------------------------------------------------- emulation --

/** runBinary with named registers. */
type RunBinary = (image: Uint8Array, regs: Record<string, string>, maxInsns: number) => ExecResult;

async function loadExecEnv(ept: boolean, jit = false, stats?: { env?: ExecEnv }): Promise<RunBinary> {
  const env = await ExecEnv.create({ ept });
  env.machine.jit = jit;
  if (stats) stats.env = env;
  // Let ExecEnv normalise the registers exactly as for `exec` JSON cases.
  return (image, regs, maxInsns) => {
    const p = ExecEnv.parseCase({ code: '90', regs, rflags: '0x202', max_insns: maxInsns });
    return env.runBinary(image, p.regs, p.rflags, p.maxInsns);
  };
}

interface EmuRun {
  checksum: bigint;
  insns: bigint;
  seconds: number;
}

interface CapstoneModule {
  loadCapstone(): Promise<void>;
  Const: { CS_ARCH_X86: number; CS_MODE_64: number };
  Capstone: new (arch: number, mode: number) => {
    disasm(data: Uint8Array, o: { address: bigint; count: number }): { mnemonic: string; opStr: string; size: number }[];
    close(): void;
  };
}

async function describeFault(image: Uint8Array, r: ExecResult): Promise<string> {
  const rip = big(r.rip);
  let text = `stop=${r.stop} vector=${r.vector ?? '-'} rip=${hexPad(rip)} insns=${big(r.insns)}`;
  const off = Number(rip - CODE_BASE);
  if (off >= 0 && off < image.length) {
    const bytes = image.slice(off, off + 15);
    text += `\n  bytes at rip: ${Buffer.from(bytes).toString('hex').replace(/(..)/g, '$1 ').trim()}`;
    try {
      // capstone-wasm's package.json "exports" has no "types" entry, so NodeNext
      // resolution cannot type it: import it through a plain string.
      const spec = 'capstone-wasm';
      const cs = (await import(spec)) as CapstoneModule;
      await cs.loadCapstone();
      const d = new cs.Capstone(cs.Const.CS_ARCH_X86, cs.Const.CS_MODE_64);
      const [insn] = d.disasm(bytes, { address: rip, count: 1 });
      if (insn) text += `\n  capstone: ${insn.mnemonic} ${insn.opStr} (${insn.size} bytes)`;
      d.close();
    } catch {
      /* capstone could not decode it either */
    }
  }
  return text;
}

async function runEmu(runBinary: RunBinary, image: Uint8Array, iterations: number): Promise<EmuRun> {
  const regs = { rdi: '0x' + iterations.toString(16), rsp: STACK_TOP };
  // ~0.52 M instructions per iteration; generous limit so a runaway guest stops.
  const maxInsns = Math.min(Number.MAX_SAFE_INTEGER, 4_000_000 * iterations + 10_000_000);
  const t0 = process.hrtime.bigint();
  const r = runBinary(image, regs, maxInsns);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const endRip = CODE_BASE + BigInt(image.length);
  if (r.stop !== 'end' || big(r.rip) !== endRip) {
    progressDone();
    fail(`emulated workload did not reach the end of the image (${hexPad(endRip)}):\n  ${await describeFault(image, r)}`);
  }
  return { checksum: big(r.regs.rax), insns: big(r.insns), seconds };
}

// -------------------------------------------------------------------- main --

interface Row {
  engine: string;
  seconds: number;
  insns: bigint;
  mips: number;
  speedVsEmulator: number;
}

/** The benchmark; `argv` as on the command line (npm run bench -- ARGS, or vmfunc-vmi bench mips). */
export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const opt = parseArgs([...argv]);
  const root = findRoot();
  const fwDir = join(root, 'firmware', 'bench');
  const outDir = join(root, 'bench', '.out');
  const wl = WORKLOADS[opt.workload];
  const imagePath = join(fwDir, wl.image);
  if (!existsSync(imagePath)) fail(`${imagePath} is missing (make -C firmware/bench)`);
  const image = new Uint8Array(readFileSync(imagePath));
  const imageSha = createHash('sha256').update(image).digest('hex');
  const notes: string[] = [];

  // 1. Native build (same sources, same code generation flags for bench_run).
  let nativeExe: string | undefined;
  if (opt.native) {
    if (!which('gcc') || !which('make')) {
      notes.push('native: gcc/make not found, native comparison skipped');
    } else {
      progress('building the native executable (make -C firmware/bench native)');
      const b = run('make', ['-s', '-C', fwDir, wl.nativeTarget, `NATIVE_OUT=${outDir}`]);
      if (b.status !== 0) fail(`native build failed:\n${b.stdout}${b.stderr}`);
      nativeExe = join(outDir, wl.nativeExe);
      // Rebuild the image from the same sources and compare with the committed one.
      const fresh = join(outDir, 'workload.bin');
      const f = wl.rebuildCheck ? run('make', ['-s', '-C', fwDir, `OBJ=${join(outDir, 'fw')}`, `IMAGE=${fresh}`, fresh]) : undefined;
      if (!f) {
        notes.push(`image: ${wl.image} is checked against its sources by test/firmware.test.ts`);
      } else if (f.status !== 0) {
        notes.push('image: could not rebuild firmware/bench/workload.bin from its sources');
      } else if (!Buffer.from(readFileSync(fresh)).equals(Buffer.from(image))) {
        notes.push('image: WARNING the committed workload.bin differs from a fresh build of its sources (run make -C firmware/bench)');
      } else {
        notes.push('image: committed workload.bin is identical to a fresh build of its sources');
      }
    }
  }

  // 2. Emulator: warm up, calibrate, measure.
  progress('loading ExecEnv');
  const runBinary = await loadExecEnv(false);
  // Warm-up doubles as calibration: V8 tiers the wasm up (Liftoff -> TurboFan)
  // in the background, so run until one run takes >= 0.4 s before measuring.
  progress('emulator: warm-up run (1 iteration)');
  const warm = await runEmu(runBinary, image, 1);
  if (imageSha === REFERENCE.sha256) {
    if (warm.checksum !== REFERENCE.checksum1) {
      progressDone();
      fail(`checksum mismatch for 1 iteration: emulator RAX=${hexPad(warm.checksum)}, reference ${hexPad(REFERENCE.checksum1)}`);
    }
    if (warm.insns !== REFERENCE.insns1) {
      notes.push(`instruction count: 1 iteration retired ${grouped(warm.insns)}, reference ${grouped(REFERENCE.insns1)} (callgrind + entry stub)`);
    }
  }
  let n = 2;
  let probe = await runEmu(runBinary, image, n);
  while (probe.seconds < 0.4 && n < 1 << 24) {
    n *= 2;
    progress(`emulator: warm-up / calibration (${n} iterations)`);
    probe = await runEmu(runBinary, image, n);
  }
  const iterations = opt.iterations ?? Math.max(1, Math.round((opt.target * n) / Math.max(probe.seconds, 1e-6)));
  let emu: EmuRun | undefined;
  for (let i = 0; i < opt.emuRuns; i++) {
    progress(`emulator: run ${i + 1}/${opt.emuRuns}, ${iterations} iterations (~${grouped(big(warm.insns) * BigInt(iterations))} instructions)`);
    const r = await runEmu(runBinary, image, iterations);
    if (emu && (r.checksum !== emu.checksum || r.insns !== emu.insns)) {
      progressDone();
      fail(`emulator runs disagree: ${hexPad(r.checksum)}/${r.insns} vs ${hexPad(emu.checksum)}/${emu.insns}`);
    }
    if (!emu || r.seconds < emu.seconds) emu = r;
  }
  if (!emu) fail('no emulator run');
  const emuMips = Number(emu.insns) / emu.seconds / 1e6;

  const rows: Row[] = [
    { engine: 'emulator (ExecEnv.runBinary)', seconds: emu.seconds, insns: emu.insns, mips: emuMips, speedVsEmulator: 1 },
  ];
  const rowOf = (engine: string): Row => rows.find((r) => r.engine.startsWith(engine))!;
  if (opt.ept) {
    // The same runs with EPT on: one identity view, as under a hypervisor's p2m.
    const runEpt = await loadExecEnv(true);
    await runEmu(runEpt, image, n);
    let best: EmuRun | undefined;
    for (let i = 0; i < opt.emuRuns; i++) {
      progress(`emulator with EPT: run ${i + 1}/${opt.emuRuns}, ${iterations} iterations`);
      const r = await runEmu(runEpt, image, iterations);
      if (r.checksum !== emu.checksum || r.insns !== emu.insns) {
        progressDone();
        fail(`EPT run disagrees: ${hexPad(r.checksum)}/${r.insns} vs ${hexPad(emu.checksum)}/${emu.insns}`);
      }
      if (!best || r.seconds < best.seconds) best = r;
    }
    const m = Number(best!.insns) / best!.seconds / 1e6;
    rows.push({ engine: 'emulator, EPT on (1 identity view)', seconds: best!.seconds, insns: best!.insns, mips: m, speedVsEmulator: m / emuMips });
  }

  let jitRow: { seconds: number; mips: number; stats: JitStats } | undefined;
  if (opt.jit) {
    // The same runs with the JIT on; each run loads the image afresh, which drops compiled code,
    // so every measured run includes its compiles (host time, in the JIT's statistics).
    const holder: { env?: ExecEnv } = {};
    const runJit = await loadExecEnv(false, true, holder);
    await runEmu(runJit, image, n);
    let best: EmuRun | undefined;
    let bestStats: JitStats | undefined;
    for (let i = 0; i < opt.emuRuns; i++) {
      progress(`emulator with the JIT: run ${i + 1}/${opt.emuRuns}, ${iterations} iterations`);
      const before = holder.env!.machine.jitStats;
      const r = await runEmu(runJit, image, iterations);
      if (r.checksum !== emu.checksum || r.insns !== emu.insns) {
        progressDone();
        fail(`JIT run disagrees: ${hexPad(r.checksum)}/${r.insns} vs ${hexPad(emu.checksum)}/${emu.insns}`);
      }
      const after = holder.env!.machine.jitStats;
      const st: JitStats = { ...after, regionsCompiled: after.regionsCompiled - before.regionsCompiled,
        regionsRefused: after.regionsRefused - before.regionsRefused, entriesDemoted: after.entriesDemoted - before.entriesDemoted, flushes: after.flushes - before.flushes,
        regionCalls: after.regionCalls - before.regionCalls, insnsCompiled: after.insnsCompiled - before.insnsCompiled,
        compileMs: after.compileMs - before.compileMs, moduleBytes: after.moduleBytes - before.moduleBytes,
        moduleReuses: after.moduleReuses - before.moduleReuses, failures: after.failures - before.failures };
      if (!best || r.seconds < best.seconds) { best = r; bestStats = st; }
    }
    const m = Number(best!.insns) / best!.seconds / 1e6;
    jitRow = { seconds: best!.seconds, mips: m, stats: bestStats! };
    rows.push({ engine: 'emulator, JIT on (src/jit/)', seconds: best!.seconds, insns: best!.insns, mips: m, speedVsEmulator: m / emuMips });
    notes.push(`jit: per measured run ${bestStats!.regionsCompiled} regions compiled (${bestStats!.moduleBytes} bytes of Wasm; ` +
      `${bestStats!.moduleReuses} of them the same code as before: instantiated, not compiled), ` +
      `${bestStats!.regionsRefused} refused, ${bestStats!.flushes} flushes, ${bestStats!.compileMs.toFixed(1)} ms host time in compiling (V8's baseline compile included; its optimising compile runs later on a background thread); ` +
      `${grouped(BigInt(bestStats!.insnsCompiled))} instructions retired in compiled code in ${grouped(BigInt(bestStats!.regionCalls))} region calls`);
  }

  // 3. Native and QEMU.
  let native: (NativeRun & { wall: number }) | undefined;
  let count: Count | undefined;
  let qemu: (NativeRun & { wall: number }) | undefined;
  let qemuNote = which('qemu-x86_64')
    ? 'qemu-x86_64: skipped (it runs the native executable, which was not built)'
    : 'qemu-x86_64: not installed (Debian package qemu-user)';
  if (nativeExe) {
    native = bestOf(opt.repeat, `native (${iterations} iterations)`, [nativeExe, String(iterations)]);
    if (native.checksum !== emu.checksum) {
      progressDone();
      fail(`checksum mismatch: emulator RAX=${hexPad(emu.checksum)} native=${hexPad(native.checksum)} (${iterations} iterations)`);
    }

    progress('counting native instructions');
    const ownCount = emu.insns - ENTRY_STUB_INSNS;
    const perf = perfCount(nativeExe, iterations);
    if (perf !== undefined) {
      count = { insns: perf, method: 'perf stat -e instructions:u (run with 0 iterations subtracted)' };
    } else {
      progress('counting native instructions (valgrind callgrind, bench_run only)');
      const cg = callgrindCount(root, nativeExe, iterations);
      if (cg !== undefined) {
        count = { insns: cg, method: 'valgrind --tool=callgrind --toggle-collect=bench_run (perf has no instructions:u counter here)' };
      } else {
        count = { insns: ownCount, method: "the emulator's retired count minus the 11-instruction entry stub (perf instructions:u and valgrind unavailable; same object code)" };
      }
    }
    if (count.insns !== ownCount) {
      const d = ownCount - count.insns;
      notes.push(
        `instruction count: emulator retired ${grouped(emu.insns)} = native ${grouped(count.insns)} + ${grouped(d + ENTRY_STUB_INSNS)} ` +
          `(expected + ${ENTRY_STUB_INSNS} for the entry stub${count.method.startsWith('perf') ? '; perf counts are approximate' : ''})`,
      );
    } else if (!count.method.startsWith("the emulator")) {
      notes.push(`instruction count: emulator retired count = native count + ${ENTRY_STUB_INSNS} (entry stub), exactly`);
    }
    // Native and QEMU run the same native instruction count; they differ in time.
    const insns = count.insns;
    const nativeRow = (engine: string, seconds: number): Row =>
      ({ engine, seconds, insns, mips: Number(insns) / seconds / 1e6, speedVsEmulator: emu.seconds / seconds });
    rows.push(nativeRow('native (gcc -O2, static)', native.seconds));

    const qemuBin = opt.qemu ? which('qemu-x86_64') : undefined;
    if (!opt.qemu) qemuNote = 'qemu-x86_64: skipped (--no-qemu)';
    else if (!qemuBin) qemuNote = 'qemu-x86_64: not installed (Debian package qemu-user)';
    if (qemuBin) {
      qemu = bestOf(opt.repeat, `qemu-x86_64 (${iterations} iterations)`, [qemuBin, nativeExe, String(iterations)]);
      if (qemu.checksum !== native.checksum) fail(`checksum mismatch under qemu-x86_64: ${hexPad(qemu.checksum)}`);
      const v = run(qemuBin, ['--version']).stdout.split('\n')[0];
      qemuNote = `qemu-x86_64: ${v}`;
      rows.push(nativeRow('qemu-x86_64 (TCG, user mode)', qemu.seconds));
    }
  }
  progressDone();

  if (opt.json) {
    const out = {
      workload: { name: wl.name, path: `firmware/bench/${wl.image}`, bytes: image.length, sha256: imageSha, iterations },
      checksum: hexPad(emu.checksum),
      checksumMatchesNative: native ? native.checksum === emu.checksum : null,
      emulator: { seconds: emu.seconds, insns: emu.insns.toString(), mips: emuMips },
      jit: jitRow ? { seconds: jitRow.seconds, mips: jitRow.mips, speedVsEmulator: jitRow.mips / emuMips, ...jitRow.stats } : null,
      native: native && count
        ? { seconds: native.seconds, insns: count.insns.toString(), insnsMethod: count.method, mips: rowOf('native').mips, speedVsEmulator: rowOf('native').speedVsEmulator }
        : null,
      qemu: qemu && count
        ? { seconds: qemu.seconds, mips: rowOf('qemu').mips, speedVsEmulator: rowOf('qemu').speedVsEmulator }
        : null,
      qemuNote,
      host: { cpu: cpus()[0]?.model ?? null, cpus: cpus().length, loadavg: loadavg(), node: process.version },
      notes,
    };
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    return;
  }

  const head = ['engine', 'seconds', 'guest instructions', 'MIPS', 'speed vs emulator'];
  const body = rows.map((r) => [
    r.engine,
    fmtNum(r.seconds, 3),
    grouped(r.insns),
    fmtNum(r.mips, 1),
    r.speedVsEmulator === 1 ? '1.00x' : `${fmtNum(r.speedVsEmulator, 2)}x`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    '| ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') + ' |';
  const out: string[] = [];
  out.push(`workload ${wl.name} (${wl.what}): firmware/bench/${wl.image} (${image.length} bytes, sha256 ${imageSha.slice(0, 16)}…), ${iterations} iterations`);
  out.push(`checksum: ${hexPad(emu.checksum)}${native ? ' (emulator RAX = native: match)' : ' (native not run)'}`);
  out.push('');
  out.push(line(head));
  out.push('|' + widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|');
  for (const b of body) out.push(line(b));
  out.push('');
  out.push(`guest MIPS (emulator): ${fmtNum(emuMips, 1)}`);
  if (native && count) {
    out.push(`native/emulator speed ratio: ${fmtNum(rowOf('native').speedVsEmulator, 2)}x (the emulator is that many times slower)`);
    out.push(`native instruction count: ${count.method}`);
  } else {
    out.push('native: not run');
  }
  if (qemu) out.push(`qemu/emulator speed ratio: ${fmtNum(rowOf('qemu').speedVsEmulator, 2)}x`);
  out.push(qemuNote);
  out.push(`times: emulator = fastest of ${opt.emuRuns} runBinary calls after warm-up (host hrtime); native/QEMU = fastest of ` +
    `${opt.repeat} runs, bench_run() only (clock_gettime in the program)`);
  out.push(`host: ${cpus()[0]?.model ?? '?'}, ${cpus().length} CPUs, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}, node ${process.version}`);
  for (const n of notes) out.push(n);
  process.stdout.write(out.join('\n') + '\n');
}

const invokedDirectly = process.argv[1] && pathToFileURL(resolve(process.argv[1])).href === import.meta.url;
if (invokedDirectly) {
  main().catch((e: unknown) => fail(e instanceof Error ? (e.stack ?? e.message) : String(e)));
}
