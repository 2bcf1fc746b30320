// The latest trace records for the debugger: those Dom0's xentrace daemon has
// already read (its consumer keeps them parsed), followed by those still in
// the hypervisor's per-CPU rings between cons and prod. The rings are only
// read, never consumed, so the debugger does not change when the buffers fill
// or when Dom0 is told (VIRQ_TBUF's high-water mark).
import type { Machine } from '../machine.js';
import type { TraceBuffers } from '../xen/trace.js';
import type { TraceRecord } from '../dom0/xentrace.js';
import { TRC_TRACE_WRAP_BUFFER } from '../xen/trace-events.js';
import { decodeTRec } from '../dom0/trace-file.js';

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
    const r = decodeTRec(dv, p, buf + 8 + size);
    if (!r) break; // records never straddle the ring's end (a WRAP record fills the tail)
    if (r.event !== TRC_TRACE_WRAP_BUFFER) out.push({ cpu, event: r.event, tsc: r.tsc, data: r.data });
    cons += r.next - p;
    if (cons >= 2 * size) cons -= 2 * size;
  }
  return out;
}
