// Reading xentrace files (the format tools/xentrace/xentrace.c writes and
// xenalyze reads): windows of [TRC_TRACE_CPU_CHANGE header, cpu, size] then
// `size` bytes of that CPU's raw t_rec records.
import * as E from '../xen/trace-events.js';
import type { TraceRecord } from './xentrace.js';

export class TraceFileError extends Error {}

const NAMES: Record<number, string> = {
  [E.TRC_LOST_RECORDS]: 'LOST_RECORDS', [E.TRC_TRACE_WRAP_BUFFER]: 'TRACE_WRAP_BUFFER',
  [E.TRC_TRACE_CPU_CHANGE]: 'TRACE_CPU_CHANGE', [E.TRC_VMI_REQUEST]: 'VMI_REQUEST',
  [E.TRC_VMI_REQUEST_DROPPED]: 'VMI_REQUEST_DROPPED',
  [E.TRC_HVM_VMENTRY]: 'HVM_VMENTRY', [E.TRC_HVM_VMEXIT]: 'HVM_VMEXIT', [E.TRC_HVM_VMEXIT64]: 'HVM_VMEXIT64',
  [E.TRC_HVM_INJ_EXC]: 'HVM_INJ_EXC', [E.TRC_HVM_INJ_VIRQ]: 'HVM_INJ_VIRQ', [E.TRC_HVM_CPUID]: 'HVM_CPUID',
  [E.TRC_HVM_INTR]: 'HVM_INTR', [E.TRC_HVM_VMMCALL]: 'HVM_VMMCALL', [E.TRC_HVM_HLT]: 'HVM_HLT',
  [E.TRC_HVM_RDTSC]: 'HVM_RDTSC', [E.TRC_HVM_INTR_WINDOW]: 'HVM_INTR_WINDOW', [E.TRC_HVM_NPF]: 'HVM_NPF',
};
const RUNSTATES = ['running', 'runnable', 'blocked', 'offline'];

export function eventName(event: number): string {
  if ((event & ~0xff0) === E.TRC_SCHED_RUNSTATE_CHANGE) {
    return `SCHED_RUNSTATE_CHANGE(${RUNSTATES[(event >> 8) & 3]}->${RUNSTATES[(event >> 4) & 3]})`;
  }
  return NAMES[event] ?? `0x${event.toString(16).padStart(8, '0')}`;
}

/**
 * Decodes the t_rec at byte `p` of `v` (public/trace.h: header { event:28, extra_u32:3,
 * cycles_included:1 }, optional TSC, data words); undefined if it runs past `end`.
 */
export function decodeTRec(v: DataView, p: number, end: number): { event: number; tsc?: bigint; data: number[]; next: number } | undefined {
  if (p + 4 > end) return undefined;
  const h = v.getUint32(p, true);
  const n = (h >>> 28) & 7, hasTsc = (h >>> 31) !== 0;
  const next = p + 4 + (hasTsc ? 8 : 0) + 4 * n;
  if (next > end) return undefined;
  let q = p + 4;
  let tsc: bigint | undefined;
  if (hasTsc) { tsc = BigInt(v.getUint32(q, true)) | (BigInt(v.getUint32(q + 4, true)) << 32n); q += 8; }
  const data: number[] = [];
  for (let i = 0; i < n; i++) { data.push(v.getUint32(q, true)); q += 4; }
  return { event: h & 0x0fffffff, tsc, data, next };
}

/** Parses a whole trace file; errors name the byte offset at fault. */
export function parseTraceFile(bytes: Uint8Array): TraceRecord[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: TraceRecord[] = [];
  let p = 0;
  while (p < bytes.length) {
    if (p + 12 > bytes.length) throw new TraceFileError(`offset ${p}: truncated CPU-change record`);
    const h = v.getUint32(p, true);
    if ((h & 0x0fffffff) !== E.TRC_TRACE_CPU_CHANGE || ((h >>> 28) & 7) !== 2) {
      throw new TraceFileError(`offset ${p}: expected a TRC_TRACE_CPU_CHANGE record, found header 0x${h.toString(16)}`);
    }
    const cpu = v.getUint32(p + 4, true), size = v.getUint32(p + 8, true);
    p += 12;
    const end = p + size;
    if (end > bytes.length) throw new TraceFileError(`offset ${p}: window of ${size} bytes for CPU ${cpu} runs past the end of the file`);
    while (p < end) {
      const r = decodeTRec(v, p, end);
      if (!r) throw new TraceFileError(`offset ${p}: record crosses the window end`);
      out.push({ cpu, event: r.event, tsc: r.tsc, data: r.data });
      p = r.next;
    }
  }
  return out;
}

/** One line a record, in the spirit of xentrace_format's defaults. */
export function formatRecord(r: TraceRecord): string {
  const tsc = r.tsc !== undefined ? r.tsc.toString().padStart(14) : ' '.repeat(14);
  const data = r.data.map((w) => '0x' + (w >>> 0).toString(16).padStart(8, '0')).join(' ');
  return `CPU${r.cpu} ${tsc} ${eventName(r.event).padEnd(34)} [ ${data} ]${r.event === E.TRC_LOST_RECORDS ? lostText(r.data) : r.event === E.TRC_VMI_REQUEST_DROPPED ? droppedText(r.data) : ''}`;
}

/** TRC_LOST_RECORDS' { u32 lost_records; u16 did, vid; u64 first_tsc } (xen/common/trace.c insert_lost_records), in words. */
function lostText(d: readonly number[]): string {
  if (d.length < 4) return '';
  const first = BigInt(d[2] >>> 0) | (BigInt(d[3] >>> 0) << 32n);
  return ` ${d[0] >>> 0} records lost (d${d[1] & 0xffff}v${d[1] >>> 16}), the first at TSC ${first}`;
}

/** TRC_VMI_REQUEST_DROPPED's reason word (src/xen/vm_event.ts). */
function droppedText(d: readonly number[]): string {
  if (d.length < 7) return '';
  const why = d[6] === 1 ? 'the request ring was full' : d[6] === 2 ? 'over the request rate' : `reason ${d[6]}`;
  return ` d${d[0] & 0xffff}v${d[0] >>> 16} parameter ${d[1] >>> 16} lost: ${why}`;
}
