// The program runtime of the sandbox: one fresh instance of a WASI command
// module with @wasmer/wasi providing WASI (arguments, environment, clocks,
// random, an in-memory file system with /out preopened) and the `libvmi`
// import module (libvmi-imports.mjs) calling the host (`callHost`), a
// synchronous RPC to Dom0's main thread. Runs in a sandbox thread
// (worker.mjs), in every mode.
//
// Plain JavaScript (not TypeScript) so that a worker thread can load it
// from src/ and from dist/ alike.
//
// We take fd_write for stdout/stderr and proc_exit ourselves: output goes to
// `out(fd, bytes)` as it is written (so a program stopped for looping still
// shows what it printed), and proc_exit unwinds with a sentinel so the exit
// code needs no help from the WASI library.
//
// Paths stay inside the directory they are resolved against, as a
// preopen-confined WASI runtime keeps them: every path_* call whose path,
// folded ('.' and '..'), would leave its directory (a leading '..') or is
// absolute fails with ENOTCAPABLE (76), which is what uvwasi -- Node's WASI
// -- returns (src/path_resolver.c uvwasi__resolve_path; its test
// test-path-resolution.c: "bar/../../test_path" against "." is
// UVWASI_ENOTCAPABLE). The WASI library's in-memory file system would
// otherwise resolve "../x" from /out to /x.
import { WASI, MemFS } from '@wasmer/wasi';
import { AbiTrap, buildLibvmiImports } from './libvmi-imports.mjs';

/** WASI errno values (wasi_snapshot_preview1 `errno`). */
const EFAULT = 21, ENOSPC = 51, ENOTCAPABLE = 76;

/** Whether a WASI path escapes the directory it is resolved against (uvwasi__normalize_path, then a leading ".."), or is absolute. */
export function pathEscapes(path) {
  if (path.startsWith('/')) return true;
  let depth = 0;
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') { if (--depth < 0) return true; } else depth++;
  }
  return false;
}

/** The path_* functions of WASI preview 1 and the argument positions of their (pointer, length) paths. */
const PATH_ARGS = {
  path_create_directory: [[1, 2]], path_filestat_get: [[2, 3]], path_filestat_set_times: [[2, 3]],
  path_link: [[2, 3], [5, 6]], path_open: [[2, 3]], path_readlink: [[1, 2]], path_remove_directory: [[1, 2]],
  path_rename: [[1, 2], [4, 5]], path_symlink: [[0, 1], [3, 4]], path_unlink_file: [[1, 2]],
};

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
 * opts: { module, argv, env, abi, callHost, out(fd, bytes), maxChunk, maxFileBytes, collectOut, onStart() }
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
        if (fileBytes + n > (opts.maxFileBytes ?? 2 ** 30)) return ENOSPC;
        fileBytes += n;
        return f(fd, iovs, iovsLen, ...rest);
      };
      const fileWrite = bounded(fdWrite);
      if (w.fd_pwrite) w.fd_pwrite = bounded(w.fd_pwrite);
      w.fd_write = (fd, iovs, iovsLen, nwritten) => {
        if (fd !== 1 && fd !== 2) return fileWrite(fd, iovs, iovsLen, nwritten);
        const buf = memory.buffer;
        const dv = new DataView(buf);
        if (iovs + iovsLen * 8 > buf.byteLength || nwritten + 4 > buf.byteLength) return EFAULT;
        let total = 0;
        for (let i = 0; i < iovsLen; i++) {
          const p = dv.getUint32(iovs + 8 * i, true), n = dv.getUint32(iovs + 8 * i + 4, true);
          if (p + n > buf.byteLength) return EFAULT;
          opts.out(fd, new Uint8Array(buf, p, n));
          total += n;
        }
        dv.setUint32(nwritten, total, true);
        return 0;
      };
      w.proc_exit = (code) => { throw new ProcExit(code >>> 0); };
      for (const [name, pairs] of Object.entries(PATH_ARGS)) {
        const f = w[name];
        if (typeof f !== 'function') continue;
        w[name] = (...args) => {
          const buf = memory.buffer;
          for (const [pi, li] of pairs) {
            const p = args[pi] >>> 0, n = args[li] >>> 0;
            if (p + n > buf.byteLength) return EFAULT;
            if (pathEscapes(new TextDecoder().decode(new Uint8Array(buf, p, n)))) return ENOTCAPABLE;
          }
          return f(...args);
        };
      }
    }
    const libvmi = buildLibvmiImports(opts.abi, opts.callHost, () => memory, opts.maxChunk);
    // The program's own code runs from here on (a start section runs at instantiation).
    opts.onStart?.();
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
