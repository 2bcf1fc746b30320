// The program's side of the libvmi ABI (the table is abi.ts's, passed in
// as data): each `libvmi` import checks its arguments against the program's
// linear memory, copies names and input buffers out, calls the host, and
// writes the results back -- output buffers, and out pointers only on
// VMI_SUCCESS. Reads and writes larger than the RPC's transfer window go in
// pieces, the address advancing, stopping at a short piece. A bad pointer
// is the program's fault: it traps (AbiTrap), reported like a Wasm trap.
//
// Plain JavaScript, loaded by runtime.mjs in a sandbox thread and on Dom0's
// thread alike.

/** A trap raised by the libvmi layer (a bad pointer from the program): reported like a Wasm trap. */
export class AbiTrap extends Error {}

const WIDTH = { out8: 1, out16: 2, out32: 4, out64: 8 };

/** The wasm-level signature of an import spec: i64 stays i64, everything else is i32 (ptr, len, pid ...). */
function wasmArity(spec) {
  let n = 0;
  for (const k of spec.params) n += k === 'str' || k === 'in' || k === 'buf' ? 2 : 1;
  return n;
}

/**
 * Builds the `libvmi` import object.
 * abi: [{ name, params, result, chunk? }], index = op number.
 * callHost(op, vals, input, cap) -> { ret, value?, data? }.
 * getMemory() -> the instance's WebAssembly.Memory (set after instantiation).
 */
export function buildLibvmiImports(abi, callHost, getMemory, maxChunk) {
  const imports = {};
  abi.forEach((spec, op) => {
    const name = spec.name;
    const arity = wasmArity(spec);
    const fail = (msg) => { throw new AbiTrap(`libvmi.${name}: ${msg}`); };
    imports[name] = (...raw) => {
      if (raw.length !== arity) fail(`expected ${arity} arguments, got ${raw.length}`);
      const mem = getMemory();
      const size = mem.buffer.byteLength;
      const span = (p, n, what) => {
        if (n < 0) fail(`negative ${what} length ${n}`);
        if (p + n > size) fail(`${what} [0x${p.toString(16)}, +${n}) is outside linear memory (${size} bytes)`);
      };
      let i = 0;
      const vals = [];
      let input = null, bufPtr = -1, cap = 0, outPtr = -1, outWidth = 0;
      for (const k of spec.params) {
        if (k === 'i32') vals.push(raw[i++] | 0);
        else if (k === 'i64') vals.push(BigInt.asUintN(64, BigInt(raw[i++])));
        else if (k === 'str' || k === 'in') {
          const p = raw[i++] >>> 0, n = raw[i++] | 0;
          span(p, n, k === 'str' ? 'string' : 'buffer');
          input = new Uint8Array(mem.buffer, p, n).slice();
        } else if (k === 'buf') {
          bufPtr = raw[i++] >>> 0; cap = raw[i++] | 0;
          span(bufPtr, cap, 'buffer');
        } else {
          outPtr = raw[i++] >>> 0; outWidth = WIDTH[k];
          span(outPtr, outWidth, 'out pointer');
        }
      }
      let ret;
      if (spec.chunk !== undefined && (bufPtr >= 0 || input !== null)) {
        // Large reads/writes go in pieces; the address argument advances; stop at a short piece.
        const total = bufPtr >= 0 ? cap : input.length;
        let done = 0;
        do {
          const n = Math.min(maxChunk, total - done);
          const v = vals.slice();
          v[spec.chunk] = BigInt.asUintN(64, v[spec.chunk] + BigInt(done));
          const r = callHost(op, v, input === null ? null : input.subarray(done, done + n), bufPtr >= 0 ? n : 0);
          const got = Number(r.ret);
          if (bufPtr >= 0 && r.data && r.data.length) new Uint8Array(getMemory().buffer, bufPtr + done, r.data.length).set(r.data);
          done += got;
          if (got < n) break;
        } while (done < total);
        ret = done;
      } else {
        if (input !== null && input.length > maxChunk) fail(`argument of ${input.length} bytes is larger than ${maxChunk}`);
        const r = callHost(op, vals, input, bufPtr >= 0 ? Math.min(cap, maxChunk) : 0);
        ret = r.ret;
        const m = getMemory().buffer;
        if (bufPtr >= 0 && r.data && r.data.length) new Uint8Array(m, bufPtr, Math.min(r.data.length, cap)).set(r.data.subarray(0, cap));
        if (outPtr >= 0 && Number(ret) === 0 && r.value !== undefined) {
          const dv = new DataView(m);
          const v = BigInt.asUintN(64, BigInt(r.value));
          if (outWidth === 8) dv.setBigUint64(outPtr, v, true);
          else if (outWidth === 4) dv.setUint32(outPtr, Number(v & 0xffffffffn), true);
          else if (outWidth === 2) dv.setUint16(outPtr, Number(v & 0xffffn), true);
          else dv.setUint8(outPtr, Number(v & 0xffn));
        }
      }
      return spec.result === 'i64' ? BigInt.asIntN(64, BigInt(ret)) : Number(ret) | 0;
    };
  });
  return imports;
}
