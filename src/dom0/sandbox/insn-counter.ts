// The VMI program's own progress measure for Dom0 on virtual time
// (src/dom0/vtime.ts): a count of the Wasm instructions it has executed,
// injected into its binary before it is compiled (WebAssembly Core
// Specification §5.4 "Instructions" for the opcodes and their immediates,
// §5.5 "Modules" for the sections). The module gets one more global, a
// mutable i64 exported as INSN_COUNTER_EXPORT; every straight-line run of
// instructions (a run ends after a block, loop, if, else, end, branch,
// return, call or throw) starts with `global.get; i64.const n; i64.add;
// global.set` adding the run's n instructions. At a libvmi call the count
// therefore holds exactly the instructions executed so far, that call
// included (a run is single-entry: every branch target starts one); a trap
// inside a run counts the whole run. The added instructions are not counted.
// Deterministic: the count depends only on the program and what libvmi
// returned to it. Gas metering in blockchain Wasm runtimes works the same way.
//
// Opcodes: the MVP, sign extension, saturating truncation, bulk memory and
// reference types (0xfc), fixed-width SIMD (0xfd), threads (0xfe), tail calls
// and the legacy exception opcodes; anything else is refused with its offset.
import { leb, readLeb } from './rewrite.js';

/** The export name of the injected counter (an i64 global). */
export const INSN_COUNTER_EXPORT = '__vmi_insns';

/** Signed LEB128 of a non-negative integer below 2^53. */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n % 128;
    n = Math.floor(n / 128);
    if (n === 0 && (byte & 0x40) === 0) { out.push(byte); return out; }
    out.push(byte | 0x80);
  }
}

/** Instructions after which a new straight-line run starts. */
const ENDS_RUN = new Set([0x00, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
  0x10, 0x11, 0x12, 0x13, 0x18, 0x19]);

/** Skips one LEB128 (signed or unsigned) at `p`. */
function skipLeb(b: Uint8Array, p: number): number {
  while (b[p++] & 0x80) if (p >= b.length) throw new Error('truncated LEB128');
  return p;
}

/** The offset after the instruction at `p` (its opcode and immediates). */
function nextInsn(b: Uint8Array, p: number): number {
  const op = b[p++];
  const memarg = (q: number) => { const [align, r] = readLeb(b, q); q = skipLeb(b, r); return align & 0x40 ? skipLeb(b, q) : q; };
  if (op <= 0x01 || op === 0x05 || op === 0x0b || op === 0x0f || op === 0x19 || op === 0x1a || op === 0x1b) return p;
  if (op >= 0x02 && op <= 0x04 || op === 0x06) return skipLeb(b, p);                 // blocktype
  if (op >= 0x07 && op <= 0x09 || op === 0x0c || op === 0x0d || op === 0x10 || op === 0x12 || op === 0x18) return skipLeb(b, p);
  if (op === 0x0e) { let [n, q] = readLeb(b, p); for (n++; n > 0; n--) q = skipLeb(b, q); return q; }
  if (op === 0x11 || op === 0x13) return skipLeb(b, skipLeb(b, p));
  if (op === 0x1c) { const [n, q] = readLeb(b, p); return q + n; }
  if (op >= 0x20 && op <= 0x26) return skipLeb(b, p);
  if (op >= 0x28 && op <= 0x3e) return memarg(p);
  if (op === 0x3f || op === 0x40 || op === 0x41 || op === 0x42 || op === 0xd2) return skipLeb(b, p);
  if (op === 0x43) return p + 4;
  if (op === 0x44) return p + 8;
  if (op >= 0x45 && op <= 0xc4 || op === 0xd1) return p;
  if (op === 0xd0) return p + 1;
  if (op === 0xfc) {
    const [sub, q] = readLeb(b, p);
    if (sub <= 7) return q;
    if (sub === 8 || sub === 10 || sub === 12 || sub === 14) return skipLeb(b, skipLeb(b, q));
    if (sub <= 17) return skipLeb(b, q);
  } else if (op === 0xfd) {
    const [sub, q] = readLeb(b, p);
    if (sub <= 11 || sub === 92 || sub === 93) return memarg(q);
    if (sub === 12 || sub === 13) return q + 16;
    if (sub >= 21 && sub <= 34) return q + 1;
    if (sub >= 84 && sub <= 91) return memarg(q) + 1;
    return q;
  } else if (op === 0xfe) {
    const [sub, q] = readLeb(b, p);
    return sub === 3 ? q + 1 : memarg(q);
  }
  throw new Error(`unsupported opcode 0x${op.toString(16)} at offset ${p - 1}`);
}

/** A growing byte buffer (module sections can be far larger than a spread argument list allows). */
class Sink {
  private buf = new Uint8Array(1024);
  length = 0;
  push(bytes: ArrayLike<number>): void {
    if (this.length + bytes.length > this.buf.length) {
      const b = new Uint8Array(Math.max(this.buf.length * 2, this.length + bytes.length));
      b.set(this.buf.subarray(0, this.length));
      this.buf = b;
    }
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }
  bytes(): Uint8Array { return this.buf.slice(0, this.length); }
}

/** One function body with an increment of `g` at the start of every straight-line run. */
function countBody(b: Uint8Array, start: number, end: number, g: number, out: Sink): void {
  let [groups, p] = readLeb(b, start);
  for (; groups > 0; groups--) { p = skipLeb(b, p); p++; }            // locals: count, valtype
  out.push(b.subarray(start, p));
  const gl = leb(g);
  while (p < end) {
    let q = p, n = 0, op: number;
    do { op = b[q]; q = nextInsn(b, q); n++; } while (q < end && !ENDS_RUN.has(op));
    out.push([0x23, ...gl, 0x42, ...sleb(n), 0x7c, 0x24, ...gl]);
    out.push(b.subarray(p, q));
    p = q;
  }
  if (p !== end) throw new Error('malformed function body');
}

interface Section { id: number; body: Uint8Array }

function sections(bytes: Uint8Array): Section[] {
  const out: Section[] = [];
  let pos = 8;
  while (pos < bytes.length) {
    const id = bytes[pos];
    const [size, start] = readLeb(bytes, pos + 1);
    if (start + size > bytes.length) throw new Error('truncated section');
    out.push({ id, body: bytes.subarray(start, start + size) });
    pos = start + size;
  }
  return out;
}

/** Section order of the specification (custom sections aside): where a missing one goes. */
const ORDER = [1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11];

function put(secs: Section[], id: number, body: Uint8Array): void {
  const i = secs.findIndex((s) => s.id === id);
  if (i >= 0) { secs[i] = { id, body }; return; }
  const rank = ORDER.indexOf(id);
  const at = secs.findIndex((s) => s.id !== 0 && ORDER.indexOf(s.id) > rank);
  secs.splice(at < 0 ? secs.length : at, 0, { id, body });
}

/** Appends to a vector section's entries (count first). */
function appendEntry(body: Uint8Array | undefined, entry: number[]): Uint8Array {
  if (!body) return new Uint8Array([...leb(1), ...entry]);
  const [n, p] = readLeb(body, 0);
  return new Uint8Array([...leb(n + 1), ...body.subarray(p), ...entry]);
}

/**
 * The module with the instruction counter injected (exported as INSN_COUNTER_EXPORT).
 * Throws with a one-line reason if the module cannot be read.
 */
export function injectInsnCounter(bytes: Uint8Array): Uint8Array {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new Error('not a WebAssembly module (bad magic number)');
  }
  const secs = sections(bytes);
  const find = (id: number) => secs.find((s) => s.id === id)?.body;
  // The counter's index: after the imported globals and the module's own.
  let g = 0;
  const imp = find(2);
  if (imp) {
    let [count, p] = readLeb(imp, 0);
    for (; count > 0; count--) {
      let n: number;
      [n, p] = readLeb(imp, p); p += n;
      [n, p] = readLeb(imp, p); p += n;
      const kind = imp[p++];
      if (kind === 0) p = skipLeb(imp, p);
      else if (kind === 1) { p++; const f = imp[p++]; p = skipLeb(imp, p); if (f & 1) p = skipLeb(imp, p); }
      else if (kind === 2) { const f = imp[p++]; p = skipLeb(imp, p); if (f & 1) p = skipLeb(imp, p); }
      else if (kind === 3) { p += 2; g++; }
      else if (kind === 4) { p++; p = skipLeb(imp, p); }
    }
  }
  const glob = find(6);
  if (glob) g += readLeb(glob, 0)[0];
  put(secs, 6, appendEntry(glob, [0x7e, 0x01, 0x42, 0x00, 0x0b]));     // (global (mut i64) (i64.const 0))
  const name = [...new TextEncoder().encode(INSN_COUNTER_EXPORT)];
  put(secs, 7, appendEntry(find(7), [...leb(name.length), ...name, 0x03, ...leb(g)]));
  const code = find(10);
  if (code) {
    let [count, p] = readLeb(code, 0);
    const out = new Sink();
    out.push(leb(count));
    for (let i = 0; count > 0; count--, i++) {
      const [size, start] = readLeb(code, p);
      const body = new Sink();
      try { countBody(code, start, start + size, g, body); } catch (e) {
        throw new Error(`cannot count the instructions of function ${i}: ${(e as Error).message}`);
      }
      out.push(leb(body.length));
      out.push(body.bytes());
      p = start + size;
    }
    put(secs, 10, out.bytes());
  }
  const mod = new Sink();
  mod.push(bytes.subarray(0, 8));
  for (const s of secs) { mod.push([s.id, ...leb(s.body.length)]); mod.push(s.body); }
  return mod.bytes();
}
