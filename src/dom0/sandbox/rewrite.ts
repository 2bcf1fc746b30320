// Rewriting a VMI program's Wasm binary before it is compiled (WebAssembly
// Core Specification §5.5 "Modules": the section layout, LEB128 integers,
// the memory section's limits): the sandbox lowers the maximum of the
// module's own memory to the memory limit, so memory.grow fails past it
// instead of Dom0 having to watch the program's size. Only the memory
// section changes; every other byte is copied.

/** Bytes per Wasm page (the unit of memory limits). */
export const WASM_PAGE_BYTES = 65536;

/** An unsigned LEB128 at `pos`: [value, offset after it]. */
export function readLeb(b: Uint8Array, pos: number): [number, number] {
  let result = 0, shift = 0, byte: number;
  do {
    if (pos >= b.length) throw new Error('truncated LEB128');
    byte = b[pos++];
    result += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return [result, pos];
}
/** The unsigned LEB128 of `n`. */
export function leb(n: number): number[] {
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
          throw new Error(`the module needs ${(min * WASM_PAGE_BYTES) / 2 ** 20} MiB of memory at start, more than the limit of ${(maxPages * WASM_PAGE_BYTES) / 2 ** 20} MiB`);
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
