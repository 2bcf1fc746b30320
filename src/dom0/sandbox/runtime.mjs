// The program runtime of the sandbox: one fresh instance of a WASI command
// module with @wasmer/wasi providing WASI (arguments, environment, clocks,
// random, an in-memory file system with /out preopened) and the `libvmi`
// import module (libvmi-imports.mjs) calling the host (`callHost`), which in
// the worker is a synchronous RPC to Dom0's main thread and inline is a
// direct call. Runs the same in a sandbox thread (worker.mjs) and, for
// inline runs, on Dom0's thread (module-cache.ts loads it).
//
// Plain JavaScript (not TypeScript) so that a worker thread can load it
// from src/ and from dist/ alike.
//
// We take fd_write for stdout/stderr and proc_exit ourselves: output goes to
// `out(fd, bytes)` as it is written (so a program stopped for looping still
// shows what it printed), and proc_exit unwinds with a sentinel so the exit
// code needs no help from the WASI library.
import { WASI, MemFS } from '@wasmer/wasi';
import { AbiTrap, buildLibvmiImports } from './libvmi-imports.mjs';

class ProcExit {
  constructor(code) { this.code = code; }
}

/** The first Wasm frame of an error's stack, as "name (wasm-function[i]:0xoff)" or "wasm-function[i]:0xoff". */
function wasmFrame(e) {
  const stack = typeof e?.stack === 'string' ? e.stack : '';
  for (const line of stack.split('\n')) {
    const m = /at (?:(\S+) )?\(?wasm:\/\/wasm\/[^:]+:(wasm-function\[\d+\]:0x[0-9a-f]+)\)?/.exec(line);
    if (m) return m[1] && m[1] !== 'wasm-function' ? `${m[1].replace(/^\$/, '')} (${m[2]})` : m[2];
  }
  return undefined;
}

/** Describes why a run ended abnormally: { kind: 'trap' | 'error', message }. */
export function classifyError(e) {
  if (e instanceof AbiTrap) return { kind: 'trap', message: `trap: ${e.message}` };
  if (e instanceof WebAssembly.RuntimeError || (e instanceof RangeError && /call stack/i.test(e.message))) {
    const frame = wasmFrame(e);
    const msg = e instanceof RangeError ? 'call stack exhausted' : e.message;
    return { kind: 'trap', message: `trap: ${msg}${frame ? ` at ${frame}` : ''}` };
  }
  if (e instanceof WebAssembly.LinkError) return { kind: 'error', message: `link error: ${e.message}` };
  if (e instanceof WebAssembly.CompileError) return { kind: 'error', message: `invalid module: ${e.message}` };
  if (e && e.vmiAbort) return { kind: 'error', message: e.message };
  return { kind: 'error', message: `program failed: ${e instanceof Error ? e.message : String(e)}` };
}

/** Files (not directories) directly in MemFS `dir`: [{ name, data }]. */
function collectFiles(fs, dir) {
  const out = [];
  const seen = new Set();
  let entries = [];
  try { entries = fs.readDir(dir); } catch { return out; }
  for (const ent of entries) {
    const path = String(ent.path);
    const name = path.startsWith(dir + '/') ? path.slice(dir.length + 1) : path;
    if (!name || name.includes('/') || seen.has(name)) continue;
    const ft = ent.metadata?.filetype ?? {};
    if (ft.dir) continue;
    seen.add(name);
    try {
      const f = fs.open(`${dir}/${name}`, { read: true });
      out.push({ name, data: f.read() });
      f.free?.();
    } catch { /* unreadable: skip */ }
  }
  return out;
}

// The smallest WASI command that imports WASI (fd_write, never called): _start returns at once.
function emptyCommand() {
  const name = (t) => { const b = new TextEncoder().encode(t); return [b.length, ...b]; };
  const section = (id, body) => [id, body.length, ...body];
  return new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0,
    ...section(1, [2, 0x60, 4, 0x7f, 0x7f, 0x7f, 0x7f, 1, 0x7f, 0x60, 0, 0]),
    ...section(2, [1, ...name('wasi_snapshot_preview1'), ...name('fd_write'), 0, 0]),
    ...section(3, [1, 1]),
    ...section(5, [1, 0, 1]),
    ...section(7, [2, ...name('memory'), 2, 0, ...name('_start'), 0, 1]),
    ...section(10, [1, 2, 0, 0x0b])]);
}

/** Runs the set-up path once with an empty command, so a sandbox thread's first real program does not run it cold. */
export function warmUp() {
  runProgram({ module: new WebAssembly.Module(emptyCommand()), argv: ['warm-up'], env: {}, abi: [],
    callHost: () => ({ ret: 0 }), out: () => {}, maxChunk: 1 });
}

/**
 * Runs one program to completion in a fresh instance.
 * opts: { module, argv, env, abi, callHost, out(fd, bytes), maxChunk, maxFileBytes, collectOut }
 * Returns { exitCode (null if it did not exit), error?: { kind: 'trap' | 'error', message }, files: [{ name, data }] }.
 */
export function runProgram(opts) {
  const fs = new MemFS();
  fs.createDir('/out');
  let wasi;
  try {
    wasi = new WASI({ args: opts.argv, env: opts.env ?? {}, preopens: { '/out': '/out' }, fs });
  } catch (e) {
    return { exitCode: null, error: { kind: 'error', message: `WASI setup failed: ${e?.message ?? e}` }, files: [] };
  }
  const exports = WebAssembly.Module.exports(opts.module);
  const has = (name, kind) => exports.some((x) => x.name === name && x.kind === kind);
  const notCommand = !has('_start', 'function') ? 'not a WASI command: the module exports no _start function'
    : !has('memory', 'memory') ? 'not a WASI command: the module exports no memory' : undefined;
  if (notCommand) {
    try { wasi.free(); } catch { /* ignore */ }
    return { exitCode: null, error: { kind: 'error', message: notCommand }, files: [] };
  }
  let memory;
  let exitCode = null, error;
  // The WASI library cannot tell the WASI version of a module that imports none of it: skip it then.
  const usesWasi = WebAssembly.Module.imports(opts.module)
    .some((i) => i.module === 'wasi_snapshot_preview1' || i.module === 'wasi_unstable');
  try {
    const imports = usesWasi ? wasi.getImports(opts.module) : {};
    const w = imports.wasi_snapshot_preview1 ?? imports.wasi_unstable;
    if (w) {
      const fdWrite = w.fd_write;
      // Files live in memory: their total size is bounded (ENOSPC past opts.maxFileBytes).
      let fileBytes = 0;
      const iovTotal = (iovs, iovsLen) => {
        const dv = new DataView(memory.buffer);
        let n = 0;
        for (let i = 0; i < iovsLen && iovs + 8 * i + 8 <= dv.byteLength; i++) n += dv.getUint32(iovs + 8 * i + 4, true);
        return n;
      };
      const bounded = (f) => (fd, iovs, iovsLen, ...rest) => {
        const n = iovTotal(iovs, iovsLen);
        if (fileBytes + n > (opts.maxFileBytes ?? 2 ** 30)) return 51; // ENOSPC
        fileBytes += n;
        return f(fd, iovs, iovsLen, ...rest);
      };
      const fileWrite = bounded(fdWrite);
      if (w.fd_pwrite) w.fd_pwrite = bounded(w.fd_pwrite);
      w.fd_write = (fd, iovs, iovsLen, nwritten) => {
        if (fd !== 1 && fd !== 2) return fileWrite(fd, iovs, iovsLen, nwritten);
        const buf = memory.buffer;
        const dv = new DataView(buf);
        if (iovs + iovsLen * 8 > buf.byteLength || nwritten + 4 > buf.byteLength) return 21; // EFAULT
        let total = 0;
        for (let i = 0; i < iovsLen; i++) {
          const p = dv.getUint32(iovs + 8 * i, true), n = dv.getUint32(iovs + 8 * i + 4, true);
          if (p + n > buf.byteLength) return 21;
          opts.out(fd, new Uint8Array(buf, p, n));
          total += n;
        }
        dv.setUint32(nwritten, total, true);
        return 0;
      };
      w.proc_exit = (code) => { throw new ProcExit(code >>> 0); };
    }
    const libvmi = buildLibvmiImports(opts.abi, opts.callHost, () => memory, opts.maxChunk);
    const instance = new WebAssembly.Instance(opts.module, { ...imports, libvmi });
    memory = instance.exports.memory;
    // The injected instruction counter (insn-counter.ts), read by the caller at each libvmi call.
    const counter = opts.insnCounter ? instance.exports[opts.insnCounter] : undefined;
    if (counter instanceof WebAssembly.Global) opts.onInsnCounter?.(() => counter.value);
    if (usesWasi) wasi.instantiate(instance);
    instance.exports._start();
    exitCode = 0;
  } catch (e) {
    if (e instanceof ProcExit) exitCode = e.code;
    else error = classifyError(e);
  }
  // The WASI instance works on its own handle of the file system: read the files back through it.
  let files = [];
  if (opts.collectOut !== false) {
    try { files = collectFiles(wasi.fs, '/out'); } catch { files = []; }
  }
  try { wasi.free(); } catch { /* already freed */ }
  return { exitCode, error, files };
}
