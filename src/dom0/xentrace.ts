// Dom0's trace consumer, after tools/xentrace/xentrace.c: map the t_info area
// and each CPU's t_buf, copy [cons, prod) out, advance cons, and write the
// bytes the way xentrace writes its output file: per CPU window a
// TRC_TRACE_CPU_CHANGE record { header, cpu, size } followed by that many
// bytes of raw records. Xen's own xenalyze reads these files.
import type { Machine } from '../machine.js';
import { TRC_TRACE_CPU_CHANGE } from '../xen/trace-events.js';
import { PAGE_SIZE } from '../xen/frames.js';
import { decodeTRec } from './trace-file.js';

/** A parsed trace record (as xenalyze sees it). */
export interface TraceRecord { cpu: number; event: number; tsc?: bigint; data: number[] }

export class XentraceConsumer {
  private readonly chunks: Uint8Array[] = [];
  private bytes = 0;
  /** Records read so far, parsed, for Dom0's own use (the VMI launcher scans these). */
  readonly records: TraceRecord[] = [];

  constructor(private readonly m: Machine, private readonly tInfo: number, private readonly cpus: number) {}

  private dv(): DataView { return new DataView(this.m.mem.buffer, this.m.mem.byteOffset, this.m.mem.byteLength); }

  /** Machine address of CPU `cpu`'s t_buf, from the t_info MFN list, as Dom0 maps it. */
  private tBuf(cpu: number): { addr: number; dataSize: number } {
    const d = this.dv();
    const pages = d.getUint16(this.tInfo, true);
    const off = d.getUint16(this.tInfo + 2 + 2 * cpu, true);
    const mfn = d.getUint32(this.tInfo + 4 * off, true);
    return { addr: mfn * PAGE_SIZE, dataSize: pages * PAGE_SIZE - 8 };
  }

  /** Drains every CPU's ring; returns the number of bytes consumed. */
  poll(): number {
    let total = 0;
    for (let cpu = 0; cpu < this.cpus; cpu++) {
      const { addr, dataSize } = this.tBuf(cpu);
      const d = this.dv();
      const cons = d.getUint32(addr, true), prod = d.getUint32(addr + 4, true);
      if (cons === prod) continue;
      const start = cons % dataSize, end = prod % dataSize;
      const data = addr + 8;
      const parts: Uint8Array[] = [];
      if (end > start) parts.push(this.m.readPhys(data + start, end - start));
      else {
        parts.push(this.m.readPhys(data + start, dataSize - start));
        if (end > 0) parts.push(this.m.readPhys(data, end));
      }
      const size = parts.reduce((n, p) => n + p.length, 0);
      const hdr = new Uint8Array(12);
      const hv = new DataView(hdr.buffer);
      hv.setUint32(0, (TRC_TRACE_CPU_CHANGE | (2 << 28)) >>> 0, true);
      hv.setUint32(4, cpu, true);
      hv.setUint32(8, size, true);
      this.chunks.push(hdr, ...parts);
      this.bytes += 12 + size;
      for (const p of parts) this.parse(cpu, p);
      d.setUint32(addr, prod, true); // cons = prod: the space is free again
      total += size;
    }
    return total;
  }

  private parse(cpu: number, bytes: Uint8Array): void {
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let p = 0; ;) {
      const r = decodeTRec(v, p, bytes.length);
      if (!r) break;
      this.records.push({ cpu, event: r.event, tsc: r.tsc, data: r.data });
      p = r.next;
    }
  }

  /** The trace file so far, in xentrace's format. */
  file(): Uint8Array {
    const out = new Uint8Array(this.bytes);
    let o = 0;
    for (const c of this.chunks) { out.set(c, o); o += c.length; }
    return out;
  }
}
