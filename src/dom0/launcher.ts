// Dom0's VMI launch module: starts a VMI program on demand, the way the
// paper's launcher starts a LibVMI program with (domid, EPTP index) when the
// hypervisor reports a request. A VMI program is a WASI command module
// (bytes or a path) importing the `libvmi` module below; it runs in a fresh
// worker thread with @wasmer/wasi, its libvmi calls are synchronous RPCs to
// this (main) thread, which serves them from a `Vmi` between its own work
// (the serving loop is Atomics.waitAsync, so the event loop stays free).
// Nothing stays resident: each launch gets a new instance in a new worker;
// compiled modules are cached, and an optional spare worker (with only the
// WASI library loaded) can be kept ready to cut the launch latency.
//
// Limits: wall-clock time (the worker is terminated: loops end), an
// optional number of libvmi calls, the program's linear memory (the
// module's memory maximum is lowered to the limit before compiling, so
// memory.grow fails past it), the worker's JS heap, and captured output.
// A trap (unreachable, out-of-bounds access, stack exhaustion, a bad
// pointer passed to libvmi) is reported with its message and Wasm frame.
// Every failure is reported in the result; the promise does not reject
// for anything a program does. Pauses a program leaves behind are undone.
//
// The libvmi ABI (documented for program authors in vmi/README.md):
// addresses and 64-bit values are i64, pids/vCPUs/registers/lengths and
// pointers into the program's memory are i32; names are (ptr, len) UTF-8;
// a status is i32 VMI_SUCCESS 0 / VMI_FAILURE 1 and the value goes through
// an out pointer (written only on success); reads/writes return the bytes
// done; string results return their full length (snprintf-style: at most
// `cap` bytes are stored, no NUL) or -1.
import { Worker } from 'node:worker_threads';
import { readFileSync, statSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { basename, join, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../util/paths.js';
import type { Vmi } from './libvmi.js';

// ---- the libvmi ABI -------------------------------------------------------------

/**
 * Parameter kinds: 'i32' / 'i64' scalars; 'str' a (ptr, len) UTF-8 name;
 * 'in' a (ptr, len) input buffer; 'buf' a (ptr, cap) output buffer;
 * 'out8' ... 'out64' a pointer the value is stored to on success.
 */
export type AbiKind = 'i32' | 'i64' | 'str' | 'in' | 'buf' | 'out8' | 'out16' | 'out32' | 'out64';
type Scalar = number | bigint;
export interface HostResult { ret: Scalar; value?: bigint; data?: Uint8Array }
export interface AbiEntry {
  name: string;
  params: AbiKind[];
  result: 'i32' | 'i64';
  /** Index (among the scalar arguments) of the address that advances when a large read/write is split. */
  chunk?: number;
  host: (vmi: Vmi, v: Scalar[], input: Uint8Array | null, cap: number) => HostResult;
}

const td = new TextDecoder();
const te = new TextEncoder();
const name = (b: Uint8Array | null) => td.decode(b ?? new Uint8Array(0));
const st = ([s, v]: [number, Scalar]): HostResult => ({ ret: s, value: BigInt(v) });
const strRes = (s: string | Uint8Array | null, cap: number): HostResult => {
  if (s === null) return { ret: -1 };
  const b = typeof s === 'string' ? te.encode(s) : s;
  return { ret: b.length, data: b.subarray(0, Math.max(0, cap)) };
};
const big = (x: Scalar) => x as bigint;
const int = (x: Scalar) => x as number;

function rw(width: 8 | 16 | 32 | 64 | 'addr'): AbiEntry[] {
  const out: AbiKind = width === 'addr' ? 'out64' : (`out${width}` as AbiKind);
  const m = width === 'addr' ? 'addr' : String(width);
  const r = (k: string) => `vmi_read_${m}_${k}` as const;
  const entries: AbiEntry[] = [
    { name: `read_${m}_va`, params: ['i64', 'i32', out], result: 'i32',
      host: (vmi, v) => st((vmi as any)[r('va')](big(v[0]), int(v[1]))) },
    { name: `read_${m}_pa`, params: ['i64', out], result: 'i32',
      host: (vmi, v) => st((vmi as any)[r('pa')](big(v[0]))) },
    { name: `read_${m}_ksym`, params: ['str', out], result: 'i32',
      host: (vmi, _v, s) => st((vmi as any)[r('ksym')](name(s))) },
  ];
  if (width !== 'addr') {
    entries.push(
      { name: `write_${m}_va`, params: ['i64', 'i32', 'i64'], result: 'i32',
        host: (vmi, v) => ({ ret: (vmi as any)[`vmi_write_${m}_va`](big(v[0]), int(v[1]), big(v[2])) }) },
      { name: `write_${m}_pa`, params: ['i64', 'i64'], result: 'i32',
        host: (vmi, v) => ({ ret: (vmi as any)[`vmi_write_${m}_pa`](big(v[0]), big(v[1])) }) },
    );
  }
  return entries;
}

/** The `libvmi` import module; an import's op number is its index here. */
export const LIBVMI_ABI: readonly AbiEntry[] = [
  { name: 'translate_kv2p', params: ['i64', 'out64'], result: 'i32', host: (vmi, v) => st(vmi.vmi_translate_kv2p(big(v[0]))) },
  { name: 'translate_uv2p', params: ['i64', 'i32', 'out64'], result: 'i32',
    host: (vmi, v) => st(vmi.vmi_translate_uv2p(big(v[0]), int(v[1]))) },
  { name: 'translate_ksym2v', params: ['str', 'out64'], result: 'i32', host: (vmi, _v, s) => st(vmi.vmi_translate_ksym2v(name(s))) },
  { name: 'translate_v2ksym', params: ['i64', 'buf'], result: 'i32',
    host: (vmi, v, _s, cap) => strRes(vmi.vmi_translate_v2ksym(big(v[0])), cap) },
  { name: 'pid_to_dtb', params: ['i32', 'out64'], result: 'i32', host: (vmi, v) => st(vmi.vmi_pid_to_dtb(int(v[0]))) },
  { name: 'pagetable_lookup', params: ['i64', 'i64', 'out64'], result: 'i32',
    host: (vmi, v) => st(vmi.vmi_pagetable_lookup(big(v[0]), big(v[1]))) },
  ...rw(8), ...rw(16), ...rw(32), ...rw(64), ...rw('addr'),
  { name: 'read_va', params: ['i64', 'i32', 'buf'], result: 'i32', chunk: 0,
    host: (vmi, v, _s, cap) => { const d = vmi.vmi_read_va(big(v[0]), int(v[1]), cap)[1]; return { ret: d.length, data: d }; } },
  { name: 'read_pa', params: ['i64', 'buf'], result: 'i32', chunk: 0,
    host: (vmi, v, _s, cap) => { const d = vmi.vmi_read_pa(big(v[0]), cap)[1]; return { ret: d.length, data: d }; } },
  { name: 'read_ksym', params: ['str', 'buf'], result: 'i32',
    host: (vmi, _v, s, cap) => { const d = vmi.vmi_read_ksym(name(s), cap)[1]; return { ret: d.length, data: d }; } },
  { name: 'read_str_va', params: ['i64', 'i32', 'buf'], result: 'i32',
    host: (vmi, v, _s, cap) => strRes(vmi.readStrBytes(big(v[0]), int(v[1])), cap) },
  { name: 'write_va', params: ['i64', 'i32', 'in'], result: 'i32', chunk: 0,
    host: (vmi, v, d) => ({ ret: vmi.vmi_write_va(big(v[0]), int(v[1]), d ?? new Uint8Array(0))[1] }) },
  { name: 'write_pa', params: ['i64', 'in'], result: 'i32', chunk: 0,
    host: (vmi, v, d) => ({ ret: vmi.vmi_write_pa(big(v[0]), d ?? new Uint8Array(0))[1] }) },
  { name: 'get_vcpureg', params: ['i32', 'i32', 'out64'], result: 'i32', host: (vmi, v) => st(vmi.vmi_get_vcpureg(int(v[0]), int(v[1]))) },
  { name: 'get_offset', params: ['str', 'out64'], result: 'i32', host: (vmi, _v, s) => st(vmi.vmi_get_offset(name(s))) },
  { name: 'get_memsize', params: [], result: 'i64', host: (vmi) => ({ ret: vmi.vmi_get_memsize() }) },
  { name: 'get_name', params: ['buf'], result: 'i32', host: (vmi, _v, _s, cap) => strRes(vmi.vmi_get_name(), cap) },
  { name: 'get_vmid', params: [], result: 'i64', host: (vmi) => ({ ret: BigInt(vmi.vmi_get_vmid()) }) },
  { name: 'get_ostype', params: [], result: 'i32', host: (vmi) => ({ ret: vmi.vmi_get_ostype() }) },
  { name: 'get_address_width', params: [], result: 'i32', host: (vmi) => ({ ret: vmi.vmi_get_address_width() }) },
  { name: 'pause_vm', params: [], result: 'i32', host: (vmi) => ({ ret: vmi.vmi_pause_vm() }) },
  { name: 'resume_vm', params: [], result: 'i32', host: (vmi) => ({ ret: vmi.vmi_resume_vm() }) },
];
// The table as plain data for the sandbox side (no functions cross threads).
const ABI_DATA = LIBVMI_ABI.map(({ name, params, result, chunk }) => ({ name, params, result, chunk }));
const SCALARS = LIBVMI_ABI.map((e) => e.params.filter((k) => k === 'i32' || k === 'i64'));

// ---- results and options --------------------------------------------------------

export type VmiErrorKind = 'trap' | 'timeout' | 'call-limit' | 'load' | 'sandbox' | 'error';

export interface VmiRunResult {
  /** The program's exit code, or null if it did not exit (trap, limit, load failure). */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** Host wall-clock nanoseconds from the request (the call) to the result. */
  hostNs: number;
  /** Host nanoseconds from the request to the program's first libvmi call (the launch overhead), if it made one. */
  launchNs?: number;
  /** libvmi calls served (a read or write larger than the 1 MiB transfer window counts once per window). */
  calls: number;
  /** Why the program did not finish normally: one line. */
  error?: string;
  errorKind?: VmiErrorKind;
  /** Host paths of the files the program wrote to /out, copied to `outDir`. */
  files: string[];
  /** Pauses the program left in place (vmi_pause_vm without vmi_resume_vm), undone by the launcher. */
  pausesReleased: number;
}

export interface VmiRunOptions {
  /** The full argv, argv[0] first: e.g. ["process-list", "1", "11"] as the paper's launcher passes. Default [program name]. */
  args?: string[];
  env?: Record<string, string>;
  /** Wall-clock limit in ms, from the call (default 10000). */
  timeLimitMs?: number;
  /** Maximum number of libvmi calls (default: none). */
  maxCalls?: number;
  /** Maximum linear memory of the program in MiB (default 256). */
  memoryLimitMiB?: number;
  /** Bytes of stdout and of stderr kept (default 1 MiB each). */
  maxOutputBytes?: number;
  /** Host directory receiving the files the program writes to its preopened /out. */
  outDir?: string;
  /** Bytes the program may write to files in all (they are held in memory until the end; default 1 GiB). */
  maxFileBytes?: number;
  /**
   * 'worker' (default): a sandbox thread, concurrent with this thread.
   * 'inline': runs synchronously on this thread (deterministic, for tests and
   * debugging); the limits are checked at each libvmi call, so a loop that
   * makes no calls cannot be stopped there.
   */
  mode?: 'worker' | 'inline';
}

export interface LauncherOptions {
  /** Keep one spare worker with the WASI library loaded (no program), so a launch skips thread start-up. */
  prewarm?: boolean;
  /** The worker's JS heap limit in MiB (default 128). */
  heapLimitMiB?: number;
}

// ---- modules: memory limit and cache ----------------------------------------------

const DATA_SIZE = 1 << 20;            // RPC transfer window
const PAGE_BYTES = 65536;

function readLeb(b: Uint8Array, pos: number): [number, number] {
  let result = 0, shift = 0, byte: number;
  do {
    if (pos >= b.length) throw new Error('truncated LEB128');
    byte = b[pos++];
    result += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return [result, pos];
}
function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return out;
}

/**
 * Lowers the maximum of the module's memory to `maxPages` (adding one if it
 * has none), so the program cannot grow past the limit. Throws if the module
 * needs more at start, imports its memory, or is not a Wasm module.
 */
export function limitModuleMemory(bytes: Uint8Array, maxPages: number): Uint8Array {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new Error('not a WebAssembly module (bad magic number)');
  }
  let pos = 8;
  while (pos < bytes.length) {
    const id = bytes[pos];
    const [size, start] = readLeb(bytes, pos + 1);
    const end = start + size;
    if (end > bytes.length) throw new Error('truncated section');
    if (id === 5) {
      let [count, p] = readLeb(bytes, start);
      const body: number[] = [...leb(count)];
      for (let i = 0; i < count; i++) {
        const flags = bytes[p++];
        if (flags !== 0 && flags !== 1) throw new Error(`unsupported memory type (flags 0x${flags.toString(16)})`);
        let min: number, max: number | undefined;
        [min, p] = readLeb(bytes, p);
        if (flags === 1) [max, p] = readLeb(bytes, p);
        if (min > maxPages) {
          throw new Error(`the module needs ${(min * PAGE_BYTES) / 2 ** 20} MiB of memory at start, more than the limit of ${(maxPages * PAGE_BYTES) / 2 ** 20} MiB`);
        }
        body.push(1, ...leb(min), ...leb(Math.min(max ?? maxPages, maxPages)));
      }
      if (p !== end) throw new Error('malformed memory section');
      const out = new Uint8Array(bytes.length - (end - pos) + 1 + leb(body.length).length + body.length);
      out.set(bytes.subarray(0, pos), 0);
      let o = pos;
      out[o++] = 5;
      for (const x of leb(body.length)) out[o++] = x;
      out.set(body, o); o += body.length;
      out.set(bytes.subarray(end), o);
      return out;
    }
    if (id === 2) {
      // Imports: a WASI command defines its own memory; an imported one could not be limited.
      let [count, p] = readLeb(bytes, start);
      for (let i = 0; i < count; i++) {
        let n: number;
        [n, p] = readLeb(bytes, p); p += n;          // module name
        [n, p] = readLeb(bytes, p); p += n;          // field name
        const kind = bytes[p++];
        if (kind === 2) throw new Error('the module imports its memory; a VMI program must define and export its own');
        if (kind === 0) [, p] = readLeb(bytes, p);
        else if (kind === 1) { p++; const f = bytes[p++]; [, p] = readLeb(bytes, p); if (f & 1) [, p] = readLeb(bytes, p); }
        else if (kind === 3) p += 2;
        else if (kind === 4) { p++; [, p] = readLeb(bytes, p); }
      }
    }
    pos = end;
  }
  return bytes;
}

const moduleCache = new Map<string, WebAssembly.Module>();
const MODULE_CACHE_MAX = 32;

function compileProgram(program: string | Uint8Array | WebAssembly.Module, maxPages: number): WebAssembly.Module {
  if (program instanceof WebAssembly.Module) return program;
  let key: string;
  let bytes: Uint8Array | undefined;
  if (typeof program === 'string') {
    let s;
    try {
      s = statSync(program);
    } catch (e) {
      throw new Error(`${program}: cannot read the VMI program (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    if (!s.isFile()) throw new Error(`${program}: not a file`);
    key = `${resolvePath(program)}|${s.mtimeMs}|${s.size}|${maxPages}`;
  } else {
    bytes = program;
    key = `${createHash('sha1').update(program).digest('hex')}|${maxPages}`;
  }
  const hit = moduleCache.get(key);
  if (hit) return hit;
  bytes ??= readFileSync(program as string);
  const label = typeof program === 'string' ? `${program}: ` : '';
  let patched: Uint8Array;
  try {
    patched = limitModuleMemory(bytes, maxPages);
  } catch (e) {
    throw new Error(`${label}${(e as Error).message}`);
  }
  let mod: WebAssembly.Module;
  try {
    mod = new WebAssembly.Module(patched as Uint8Array<ArrayBuffer>);
  } catch (e) {
    throw new Error(`${label}invalid module: ${(e as Error).message}`);
  }
  if (moduleCache.size >= MODULE_CACHE_MAX) moduleCache.delete(moduleCache.keys().next().value!);
  moduleCache.set(key, mod);
  return mod;
}

// The WASI library is itself a Wasm module, shipped base64-encoded in its
// JavaScript; compiling it once here and handing the compiled module to each
// worker saves every launch the decode and compile. If the package ever
// ships it differently, workers fall back to the library's own init().
let wasmerModule: WebAssembly.Module | null | undefined;
function wasiLibraryModule(): WebAssembly.Module | undefined {
  if (wasmerModule === undefined) {
    try {
      const file = createRequire(import.meta.url).resolve('@wasmer/wasi');
      const m = /data:application\/wasm;base64,([A-Za-z0-9+/=]+)/.exec(readFileSync(file, 'latin1'));
      wasmerModule = m ? new WebAssembly.Module(Buffer.from(m[1], 'base64')) : null;
    } catch {
      wasmerModule = null;
    }
  }
  return wasmerModule ?? undefined;
}

const workerPath = () => join(packageRoot(), 'src', 'dom0', 'vmi-worker.mjs');

interface RuntimeModule {
  runProgram(opts: {
    module: WebAssembly.Module; argv: string[]; env: Record<string, string>; abi: unknown;
    callHost: (op: number, vals: Scalar[], input: Uint8Array | null, cap: number) => HostResult;
    out: (fd: number, bytes: Uint8Array) => void; maxChunk: number; maxFileBytes?: number;
  }): { exitCode: number | null; error?: { kind: string; message: string }; files: Array<{ name: string; data: Uint8Array }> };
}
let runtime: Promise<RuntimeModule> | undefined;
function loadRuntime(): Promise<RuntimeModule> {
  runtime ??= (async () => {
    const wasi = await import('@wasmer/wasi');
    const lib = wasiLibraryModule();
    if (lib) wasi.initSync(lib);
    else await wasi.init();
    return (await import(pathToFileURL(join(packageRoot(), 'src', 'dom0', 'vmi-runtime.mjs')).href)) as RuntimeModule;
  })();
  return runtime;
}

// ---- the launcher ------------------------------------------------------------------

// Control block (Int32 indices), mirrored in vmi-worker.mjs.
const REQ = 0, RESP = 1, OP = 2, INLEN = 4, CAP = 5, OUTLEN = 6, STATUS = 7;   // 3: NARGS (worker side only)
const ARGS_BYTE = 64, RET_SLOT = 6, VALUE_SLOT = 7, DATA_BYTE = 128;
const ST_OK = 0, ST_ABORT = 1;

type WaitAsync = (a: Int32Array, i: number, v: number, t?: number) => { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

interface SpareWorker { worker: Worker; ready: Promise<string | undefined>; alive: boolean }

function checkOptions(o: VmiRunOptions): void {
  const posInt = (v: unknown, what: string) => {
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)) {
      throw new RangeError(`VMI launcher: ${what} must be a positive number, got ${String(v)}`);
    }
  };
  posInt(o.timeLimitMs, 'timeLimitMs');
  posInt(o.maxCalls, 'maxCalls');
  posInt(o.memoryLimitMiB, 'memoryLimitMiB');
  posInt(o.maxOutputBytes, 'maxOutputBytes');
  posInt(o.maxFileBytes, 'maxFileBytes');
  if (o.args !== undefined && (!Array.isArray(o.args) || o.args.some((a) => typeof a !== 'string'))) {
    throw new TypeError('VMI launcher: args must be an array of strings (argv, program name first)');
  }
  if (o.mode !== undefined && o.mode !== 'worker' && o.mode !== 'inline') {
    throw new TypeError(`VMI launcher: mode must be "worker" or "inline", got ${String(o.mode)}`);
  }
}

export class VmiLauncher {
  private spare?: SpareWorker;
  private closed = false;
  private readonly heapMiB: number;

  constructor(private readonly opts: LauncherOptions = {}) {
    this.heapMiB = opts.heapLimitMiB ?? 128;
    if (opts.prewarm) this.spare = this.spawn(true);
  }

  /** Stops the spare worker, if any. */
  async close(): Promise<void> {
    this.closed = true;
    const s = this.spare;
    this.spare = undefined;
    if (s) await s.worker.terminate();
  }

  /** Starts a sandbox thread; a spare (`warm`) also runs the WASI set-up once, off the request's path. */
  private spawn(warm = false): SpareWorker {
    const worker = new Worker(workerPath(), {
      workerData: { wasmerModule: wasiLibraryModule(), warmUp: warm },
      resourceLimits: { maxOldGenerationSizeMb: this.heapMiB, maxYoungGenerationSizeMb: 32, stackSizeMb: 4 },
      stdout: true, stderr: true,   // a sandbox never writes to Dom0's console
    });
    worker.stdout.resume(); worker.stderr.resume();
    // Resolves with undefined when ready, or with the reason it never will be.
    const ready = new Promise<string | undefined>((res) => {
      const onMsg = (m: { type?: string }) => { if (m?.type === 'ready') { cleanup(); res(undefined); } };
      const onErr = (e: Error) => { cleanup(); res(`the sandbox failed to start: ${e.message}`); };
      const onExit = (c: number) => { cleanup(); res(`the sandbox exited during start-up (code ${c})`); };
      const cleanup = () => { worker.off('message', onMsg); worker.off('error', onErr); worker.off('exit', onExit); };
      worker.on('message', onMsg); worker.on('error', onErr); worker.on('exit', onExit);
    });
    const spare: SpareWorker = { worker, ready, alive: true };
    // Always listened to: an 'error' event with no listener would throw in Dom0.
    worker.on('error', () => { spare.alive = false; });
    worker.on('exit', () => { spare.alive = false; });
    worker.unref();
    return spare;
  }

  /**
   * Runs `program` (a path, module bytes or a compiled module) against `vmi`.
   * Rejects only for invalid options; everything the program does is in the result.
   */
  async run(program: string | Uint8Array | WebAssembly.Module, vmi: Vmi, o: VmiRunOptions = {}): Promise<VmiRunResult> {
    const t0 = process.hrtime.bigint();
    checkOptions(o);
    const since = () => Number(process.hrtime.bigint() - t0);
    const fail = (kind: VmiErrorKind, error: string): VmiRunResult =>
      ({ exitCode: null, stdout: '', stderr: '', hostNs: since(), calls: 0, error, errorKind: kind, files: [], pausesReleased: 0 });
    const maxPages = Math.floor(((o.memoryLimitMiB ?? 256) * 2 ** 20) / PAGE_BYTES);
    if (maxPages < 1) throw new RangeError('VMI launcher: memoryLimitMiB must allow at least one 64 KiB page');
    let module: WebAssembly.Module;
    try {
      module = compileProgram(program, maxPages);
    } catch (e) {
      return fail('load', (e as Error).message);
    }
    const argv = o.args ?? [typeof program === 'string' ? basename(program).replace(/\.wasm$/, '') : 'vmi-program'];
    if (argv.length === 0) throw new TypeError('VMI launcher: args must contain at least the program name');
    const opts = {
      ...o, argv,
      timeLimitMs: Math.min(o.timeLimitMs ?? 10_000, 2 ** 31 - 1),        // setTimeout's range
      maxOutputBytes: Math.max(1, Math.floor(o.maxOutputBytes ?? 1 << 20)),
    };
    return opts.mode === 'inline' ? this.runInline(module, vmi, opts, t0) : this.runWorker(module, vmi, opts, t0);
  }

  private async runWorker(module: WebAssembly.Module, vmi: Vmi,
    o: VmiRunOptions & { argv: string[]; timeLimitMs: number; maxOutputBytes: number }, t0: bigint): Promise<VmiRunResult> {
    const since = () => Number(process.hrtime.bigint() - t0);
    const outSize = o.maxOutputBytes;
    const ctlSab = new SharedArrayBuffer(DATA_BYTE + DATA_SIZE);
    const outSab = new SharedArrayBuffer(64 + 2 * outSize);
    const ctl = new Int32Array(ctlSab, 0, 16);
    const bigs = new BigInt64Array(ctlSab, ARGS_BYTE, 8);
    const data = new Uint8Array(ctlSab, DATA_BYTE, DATA_SIZE);
    const outCtl = new Int32Array(outSab, 0, 8);

    let sandbox: SpareWorker;
    if (this.spare && this.spare.alive && !this.closed) {
      sandbox = this.spare;
      this.spare = undefined;
    } else {
      sandbox = this.spawn();
    }
    if (this.opts.prewarm && !this.closed) this.spare = this.spawn(true);   // the next launch's
    const worker = sandbox.worker;
    worker.ref();

    let calls = 0;
    let launchNs: number | undefined;
    let finished = false;
    let seen = 0;

    return new Promise<VmiRunResult>((resolveRun) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (r: { exitCode: number | null; error?: string; errorKind?: VmiErrorKind; files?: Array<{ name: string; data: Uint8Array }> }) => {
        if (finished) return;
        finished = true;
        if (timer) clearTimeout(timer);
        // Unblock a worker waiting for a reply, wake our own waiter, stop the thread.
        Atomics.store(ctl, STATUS, ST_ABORT);
        Atomics.add(ctl, RESP, 1);
        Atomics.notify(ctl, RESP);
        Atomics.notify(ctl, REQ);
        worker.removeAllListeners('message');
        worker.on('error', () => {});
        void worker.terminate().catch(() => {});
        const pausesReleased = vmi.releasePauses();
        const text = (s: number) => {
          const n = Atomics.load(outCtl, s), dropped = Atomics.load(outCtl, 2 + s);
          const t = td.decode(new Uint8Array(outSab, 64 + s * outSize, n).slice());
          return dropped > 0 ? `${t}\n[vmi launcher: ${dropped} more bytes dropped]\n` : t;
        };
        let files: string[] = [];
        let error = r.error, errorKind = r.errorKind;
        if (r.files && r.files.length > 0) {
          try {
            files = writeOutFiles(r.files, o.outDir);
          } catch (e) {
            error ??= `cannot write the program's files: ${(e as Error).message}`;
            errorKind ??= 'error';
          }
        }
        const res: VmiRunResult = {
          exitCode: r.exitCode, stdout: text(0), stderr: text(1), hostNs: since(), calls, files, pausesReleased,
        };
        if (launchNs !== undefined) res.launchNs = launchNs;
        if (error !== undefined) { res.error = error; res.errorKind = errorKind; }
        resolveRun(res);
      };

      const serve = () => {
        seen = Atomics.load(ctl, REQ);
        calls++;
        if (calls === 1) launchNs = since();
        if (o.maxCalls !== undefined && calls > o.maxCalls) {
          finish({ exitCode: null, errorKind: 'call-limit', error: `call limit: stopped at libvmi call ${calls} (the limit is ${o.maxCalls})` });
          return;
        }
        const op = Atomics.load(ctl, OP);
        const spec = LIBVMI_ABI[op];
        if (!spec) {
          finish({ exitCode: null, errorKind: 'sandbox', error: `sandbox protocol error: unknown libvmi op ${op}` });
          return;
        }
        const kinds = SCALARS[op];
        const vals: Scalar[] = kinds.map((k, j) => (k === 'i64' ? BigInt.asUintN(64, bigs[j]) : Number(BigInt.asIntN(32, bigs[j]))));
        const inLen = Atomics.load(ctl, INLEN);
        const input = spec.params.includes('str') || spec.params.includes('in') ? data.slice(0, inLen) : null;
        const cap = Math.min(Atomics.load(ctl, CAP), DATA_SIZE);
        let r: HostResult;
        try {
          r = spec.host(vmi, vals, input, cap);
        } catch (e) {
          finish({ exitCode: null, errorKind: 'error', error: `Dom0 failed serving libvmi.${spec.name}: ${(e as Error).message}` });
          return;
        }
        bigs[RET_SLOT] = BigInt.asIntN(64, BigInt(r.ret));
        bigs[VALUE_SLOT] = BigInt.asIntN(64, r.value ?? 0n);
        const d = r.data ? r.data.subarray(0, Math.min(cap, DATA_SIZE)) : undefined;
        if (d) data.set(d);
        Atomics.store(ctl, OUTLEN, d ? d.length : 0);
        Atomics.store(ctl, STATUS, ST_OK);
        Atomics.add(ctl, RESP, 1);
        Atomics.notify(ctl, RESP);
      };

      const pump = () => {
        while (!finished) {
          const remaining = Math.max(1, o.timeLimitMs - since() / 1e6);
          const w = waitAsync(ctl, REQ, seen, remaining);
          if (w.async) {
            w.value.then(() => pump(), () => pump());
            return;
          }
          if (w.value === 'not-equal') serve();
          else return;   // timed out: the timer ends the run
        }
      };

      timer = setTimeout(() => {
        finish({ exitCode: null, errorKind: 'timeout', error: `time limit: stopped after ${o.timeLimitMs} ms (the program was still running)` });
      }, o.timeLimitMs);

      worker.on('error', (e: Error) => {
        const oom = (e as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY';
        finish({ exitCode: null, errorKind: 'sandbox', error: oom ? 'the sandbox ran out of heap memory' : `the sandbox failed: ${e.message}` });
      });
      worker.on('exit', (code: number) => {
        finish({ exitCode: null, errorKind: 'sandbox', error: `the sandbox exited unexpectedly (code ${code})` });
      });
      worker.on('message', (m: { type?: string; exitCode: number | null; error?: { kind: string; message: string }; files?: Array<{ name: string; data: Uint8Array }> }) => {
        if (m?.type !== 'done') return;
        const kind: VmiErrorKind | undefined = m.error ? (m.error.kind === 'trap' ? 'trap' : 'error') : undefined;
        finish({ exitCode: m.exitCode, error: m.error?.message, errorKind: kind, files: m.files });
      });

      void sandbox.ready.then((why) => {
        if (finished) return;
        if (why !== undefined) {
          finish({ exitCode: null, errorKind: 'sandbox', error: why });
          return;
        }
        try {
          worker.postMessage({
            module, argv: o.argv, env: o.env ?? {}, abi: ABI_DATA,
            ctl: ctlSab, out: outSab, dataSize: DATA_SIZE, outSize, maxFileBytes: o.maxFileBytes,
          });
        } catch (e) {
          finish({ exitCode: null, errorKind: 'sandbox', error: `cannot hand the program to the sandbox: ${(e as Error).message}` });
          return;
        }
        pump();
      });
    });
  }

  private async runInline(module: WebAssembly.Module, vmi: Vmi,
    o: VmiRunOptions & { argv: string[]; timeLimitMs: number; maxOutputBytes: number }, t0: bigint): Promise<VmiRunResult> {
    const since = () => Number(process.hrtime.bigint() - t0);
    const rt = await loadRuntime();
    let calls = 0;
    let launchNs: number | undefined;
    let stop: { kind: VmiErrorKind; message: string } | undefined;
    const chunks: Uint8Array[][] = [[], []];
    const sizes = [0, 0], dropped = [0, 0];
    const r = rt.runProgram({
      module, argv: o.argv, env: o.env ?? {}, abi: ABI_DATA, maxChunk: DATA_SIZE, maxFileBytes: o.maxFileBytes,
      out: (fd, bytes) => {
        const s = fd === 1 ? 0 : 1;
        const n = Math.min(bytes.length, o.maxOutputBytes - sizes[s]);
        if (n > 0) { chunks[s].push(bytes.slice(0, n)); sizes[s] += n; }
        dropped[s] += bytes.length - n;
      },
      callHost: (op, vals, input, cap) => {
        calls++;
        if (calls === 1) launchNs = since();
        if (o.maxCalls !== undefined && calls > o.maxCalls) {
          stop = { kind: 'call-limit', message: `call limit: stopped at libvmi call ${calls} (the limit is ${o.maxCalls})` };
        } else if (since() / 1e6 > o.timeLimitMs) {
          stop = { kind: 'timeout', message: `time limit: stopped after ${o.timeLimitMs} ms (the program was still running)` };
        }
        if (stop) throw Object.assign(new Error(stop.message), { vmiAbort: true });
        return LIBVMI_ABI[op].host(vmi, vals, input, cap);
      },
    });
    const pausesReleased = vmi.releasePauses();
    const text = (s: number) => {
      const all = new Uint8Array(sizes[s]);
      let p = 0;
      for (const c of chunks[s]) { all.set(c, p); p += c.length; }
      const t = td.decode(all);
      return dropped[s] > 0 ? `${t}\n[vmi launcher: ${dropped[s]} more bytes dropped]\n` : t;
    };
    const res: VmiRunResult = { exitCode: r.exitCode, stdout: text(0), stderr: text(1), hostNs: 0, calls, files: [], pausesReleased };
    if (launchNs !== undefined) res.launchNs = launchNs;
    if (stop) { res.error = stop.message; res.errorKind = stop.kind; res.exitCode = null; }
    else if (r.error) { res.error = r.error.message; res.errorKind = r.error.kind === 'trap' ? 'trap' : 'error'; }
    try {
      res.files = writeOutFiles(r.files, o.outDir);
    } catch (e) {
      res.error ??= `cannot write the program's files: ${(e as Error).message}`;
      res.errorKind ??= 'error';
    }
    res.hostNs = since();
    return res;
  }
}

/** Copies the files a program wrote to /out into `outDir` (flat names only); returns their host paths. */
function writeOutFiles(files: Array<{ name: string; data: Uint8Array }>, outDir: string | undefined): string[] {
  if (!outDir || files.length === 0) return [];
  mkdirSync(outDir, { recursive: true });
  const paths: string[] = [];
  for (const f of files) {
    if (!/^[^/\\]+$/.test(f.name) || f.name === '.' || f.name === '..') continue;
    const p = join(outDir, f.name);
    writeFileSync(p, f.data);
    paths.push(p);
  }
  return paths;
}

let defaultLauncher: VmiLauncher | undefined;

/** Runs a VMI program with a shared default launcher (no spare worker). See VmiLauncher.run. */
export function launchVmiProgram(program: string | Uint8Array | WebAssembly.Module, vmi: Vmi, opts: VmiRunOptions = {}): Promise<VmiRunResult> {
  defaultLauncher ??= new VmiLauncher();
  return defaultLauncher.run(program, vmi, opts);
}

/** Where the bundled VMI programs are built (npm run build:vmi): build/vmi/<name>.wasm. */
export function bundledProgram(name: 'process-list' | 'map-addr' | 'dump-memory' | 'vmi-request' | string): string {
  return join(packageRoot(), 'build', 'vmi', `${name}.wasm`);
}
