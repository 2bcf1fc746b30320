// The libvmi ABI: the `libvmi` import module a VMI program links against,
// as a table (an import's op number is its index), each entry with the
// Wasm-level parameters the program passes and the host function Dom0 runs
// on the program's behalf against a `Vmi`. The sandbox hands the table, as
// plain data, to the program's side (libvmi-imports.mjs), which marshals the
// arguments out of the program's linear memory; vmi/README.md documents it
// for program authors, vmi/lib/libvmi.ts declares it in AssemblyScript.
//
// Conventions: addresses and 64-bit values are i64, pids/vCPUs/registers/
// lengths and pointers into the program's memory are i32; names are (ptr,
// len) UTF-8; a status is i32 VMI_SUCCESS 0 / VMI_FAILURE 1 and the value
// goes through an out pointer (written only on success); reads/writes
// return the bytes done; string results return their full length
// (snprintf-style: at most `cap` bytes are stored, no NUL) or -1.
import type { Vmi } from '../libvmi/index.js';

/**
 * Parameter kinds: 'i32' / 'i64' scalars; 'str' a (ptr, len) UTF-8 name;
 * 'in' a (ptr, len) input buffer; 'buf' a (ptr, cap) output buffer;
 * 'out8' ... 'out64' a pointer the value is stored to on success.
 */
export type AbiKind = 'i32' | 'i64' | 'str' | 'in' | 'buf' | 'out8' | 'out16' | 'out32' | 'out64';
export type Scalar = number | bigint;
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
// The table as plain data for the program's side (no functions cross threads).
export const ABI_DATA = LIBVMI_ABI.map(({ name, params, result, chunk }) => ({ name, params, result, chunk }));
export const SCALARS = LIBVMI_ABI.map((e) => e.params.filter((k) => k === 'i32' || k === 'i64'));
