// A tiny Wasm assembler for hand-made VMI programs (WebAssembly Core Specification §5: the binary
// format): a WASI-style command with imported functions, one `_start`, a memory and data segments.
export const I32 = 0x7f, I64 = 0x7e;
export const leb = (n: number): number[] => { const o: number[] = []; do { let b = n & 0x7f; n >>>= 7; if (n) b |= 0x80; o.push(b); } while (n); return o; };
export const sleb = (n: number): number[] => {
  const o: number[] = [];
  for (;;) { const b = n & 0x7f; n >>= 7; if ((n === 0 && !(b & 0x40)) || (n === -1 && (b & 0x40))) { o.push(b); return o; } o.push(b | 0x80); }
};
const str = (s: string) => { const b = [...new TextEncoder().encode(s)]; return [...leb(b.length), ...b]; };
const vec = (items: number[][]) => [...leb(items.length), ...items.flat()];
const section = (id: number, body: number[]) => [id, ...leb(body.length), ...body];

export interface Imp { mod: string; name: string; params: number[]; results: number[] }
/** A WASI-style command: imports (functions 0..n-1), one defined `_start` (function n, with `locals`: one valtype each), memory, data. */
export function wasm(o: { imports?: Imp[]; start?: number[]; locals?: number[]; mem?: { min: number; max?: number } | null; data?: Array<[number, Uint8Array | string]>; exportStart?: boolean }): Uint8Array {
  const imports = o.imports ?? [];
  const types = [...imports.map((i) => [0x60, ...vec(i.params.map((p) => [p])), ...vec(i.results.map((r) => [r]))]), [0x60, 0, 0]];
  const out = [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0];
  out.push(...section(1, vec(types)));
  if (imports.length) out.push(...section(2, vec(imports.map((i, k) => [...str(i.mod), ...str(i.name), 0, ...leb(k)]))));
  out.push(...section(3, vec([leb(imports.length)])));
  const mem = o.mem === undefined ? { min: 1 } : o.mem;
  if (mem) out.push(...section(5, vec([mem.max === undefined ? [0, ...leb(mem.min)] : [1, ...leb(mem.min), ...leb(mem.max)]])));
  const exps: number[][] = [];
  if (mem) exps.push([...str('memory'), 2, 0]);
  if (o.exportStart !== false) exps.push([...str('_start'), 0, ...leb(imports.length)]);
  out.push(...section(7, vec(exps)));
  const locals = o.locals ?? [];
  const body = [...vec(locals.map((t) => [1, t])), ...(o.start ?? []), 0x0b];
  out.push(...section(10, vec([[...leb(body.length), ...body]])));
  if (o.data?.length) {
    out.push(...section(11, vec(o.data.map(([at, d]) => {
      const bytes = typeof d === 'string' ? new TextEncoder().encode(d) : d;
      return [0, 0x41, ...sleb(at), 0x0b, ...leb(bytes.length), ...bytes];
    }))));
  }
  return new Uint8Array(out);
}
export const i32c = (v: number) => [0x41, ...sleb(v)];
export const i64c0 = [0x42, 0];
export const call = (f: number) => [0x10, ...leb(f)];
export const DROP = 0x1a;
export const LOOP_FOREVER = [0x03, 0x40, 0x0c, 0x00, 0x0b];
