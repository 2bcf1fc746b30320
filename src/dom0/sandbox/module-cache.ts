// Compiled modules, kept across launches: a VMI program compiles once per
// (file, modification time, size) or per content hash, per memory limit
// (the limit is written into the binary, rewrite.ts) and with or without
// the instruction counter (insn-counter.ts); the WASI library's own
// Wasm module compiles once and goes to every sandbox thread. Nothing of a
// program's run is cached: each launch instantiates afresh.
import { readFileSync, statSync } from 'node:fs';
import { readInputFile } from '../../util/files.js';
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { join, resolve as resolvePath } from 'node:path';
import { packageRoot } from '../../util/paths.js';
import { limitModuleMemory } from './rewrite.js';
import { injectInsnCounter } from './insn-counter.js';

/**
 * A plain-JavaScript file of the sandbox (worker.mjs, runtime.mjs), always
 * from src/: a worker thread loads it by path, from src/ and dist/ alike.
 */
export function sandboxFile(name: string): string {
  return join(packageRoot(), 'src', 'dom0', 'sandbox', name);
}

const moduleCache = new Map<string, WebAssembly.Module>();
const MODULE_CACHE_MAX = 32;

/**
 * The program as a compiled module with its memory limited to `maxPages` and, with `countInsns`, the
 * instruction counter injected (insn-counter.ts; a module passed compiled has none); throws with a one-line reason.
 */
export function compileProgram(program: string | Uint8Array | WebAssembly.Module, maxPages: number, countInsns = false): WebAssembly.Module {
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
    key = `${resolvePath(program)}|${s.mtimeMs}|${s.size}|${maxPages}|${countInsns}`;
  } else {
    bytes = program;
    key = `${createHash('sha1').update(program).digest('hex')}|${maxPages}|${countInsns}`;
  }
  const hit = moduleCache.get(key);
  if (hit) return hit;
  // Read after a stat, regular files only, with a cap (src/util/files.ts): a FIFO or a huge file is refused.
  if (bytes === undefined) {
    try { bytes = readInputFile(program as string, 'VMI program', 'the VMI program'); } catch (e) { throw new Error((e as Error).message); }
  }
  const label = typeof program === 'string' ? `${program}: ` : '';
  let patched: Uint8Array;
  try {
    patched = limitModuleMemory(bytes, maxPages);
    if (countInsns) patched = injectInsnCounter(patched);
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
export function wasiLibraryModule(): WebAssembly.Module | undefined {
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
