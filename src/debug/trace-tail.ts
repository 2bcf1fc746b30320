// The latest trace records for the debugger: those Dom0's xentrace daemon has
// already read (its consumer keeps them parsed), followed by those still in
// the hypervisor's per-CPU rings between cons and prod. The rings are only
// read, never consumed, so the debugger does not change when the buffers fill
// or when Dom0 is told (VIRQ_TBUF's high-water mark).
import type { Machine } from '../machine.js';
import type { TraceBuffers } from '../xen/trace.js';
import type { TraceRecord } from '../dom0/xentrace.js';
import { TRC_TRACE_WRAP_BUFFER } from '../xen/trace-events.js';

/** Records in CPU `cpu`'s ring that no consumer has read yet, oldest first (wrap padding left out). */
export function unreadRecords(m: Machine, tb: TraceBuffers, cpu = 0): TraceRecord[] {
  const buf = tb.bufAddr(cpu), size = tb.dataSize;
  const dv = new DataView(m.mem.buffer, m.mem.byteOffset, m.mem.byteLength);
  let cons = dv.getUint32(buf, true);
  const prod = dv.getUint32(buf + 4, true);
  const out: TraceRecord[] = [];
  let guard = 0;
  while (cons !== prod && guard++ < 1 << 20) {
    const off = cons >= size ? cons - size : cons;
    const p = buf + 8 + off;
    const h = dv.getUint32(p, true);
    const n = (h >>> 28) & 7, hasTsc = (h >>> 31) !== 0;
    let q = p + 4;
    let tsc: bigint | undefined;
    if (hasTsc) { tsc = BigInt(dv.getUint32(q, true)) | (BigInt(dv.getUint32(q + 4, true)) << 32n); q += 8; }
    const data: number[] = [];
    for (let i = 0; i < n; i++) { data.push(dv.getUint32(q, true)); q += 4; }
    const event = h & 0x0fffffff;
    if (event !== TRC_TRACE_WRAP_BUFFER) out.push({ cpu, event, tsc, data });
    cons += q - p;
    if (cons >= 2 * size) cons -= 2 * size;
  }
  return out;
}
