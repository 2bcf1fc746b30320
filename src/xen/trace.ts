// Xen's trace buffers (xen/common/trace.c, public/trace.h) in machine memory:
// a t_info area { u16 tbuf_size; u16 mfn_offset[NR_CPUS]; u32 mfn lists } and
// per-CPU t_buf rings { u32 cons, prod; records } of t_rec records
// { u32 event:28, extra_u32:3, cycles_included:1; [u32 tsc_lo, tsc_hi]; u32 data[] }.
// cons and prod count bytes modulo twice the data size; a record that would
// cross the end of the ring is preceded by a WRAP record filling the tail; when
// the ring is full the record is dropped and counted, and the next record that
// fits is preceded by LOST_RECORDS. Crossing the high-water mark (half the ring)
// notifies Dom0 with VIRQ_TBUF.
import type { Machine } from '../machine.js';
import { FrameAllocator, PAGE_SIZE } from './frames.js';
import { TRC_LOST_RECORDS, TRC_TRACE_WRAP_BUFFER } from './trace-events.js';

export const TRACE_EXTRA_MAX = 7;
const T_BUF_HEADER = 8;
const LOST_REC_SIZE = 4 + 8 + 16; // header + TSC + { u32 lost; u16 did, vid; u64 first_tsc }

export interface TraceOptions {
  cpus?: number;
  pagesPerCpu?: number;
  /** The traced domain: `current` on the CPU when Xen writes LOST_RECORDS (its did field). */
  domid?: number;
  /** Called when a CPU's buffer crosses the high-water mark (Xen sends VIRQ_TBUF). */
  onHighWater?: (cpu: number) => void;
}

interface PerCpu { buf: number; lost: number; lostFirstTsc: bigint }

export class TraceBuffers {
  readonly cpus: number;
  readonly pagesPerCpu: number;
  /** Machine address of the t_info area (what Dom0 maps first). */
  readonly tInfo: number;
  readonly tInfoPages: number;
  readonly dataSize: number;
  readonly highWater: number;
  private readonly per: PerCpu[] = [];
  private readonly dv: () => DataView;
  onHighWater?: (cpu: number) => void;
  private readonly domid: number;
  /** Records written and dropped, for statistics. */
  written = 0;
  dropped = 0;

  constructor(private readonly m: Machine, frames: FrameAllocator, opts: TraceOptions = {}) {
    this.cpus = opts.cpus ?? 1;
    this.pagesPerCpu = opts.pagesPerCpu ?? 32;
    if (this.pagesPerCpu < 1 || this.pagesPerCpu > 0xffff || (this.pagesPerCpu & (this.pagesPerCpu - 1))) {
      throw new RangeError(`trace buffer size must be a power of two of pages, got ${this.pagesPerCpu}`);
    }
    this.onHighWater = opts.onHighWater;
    this.domid = opts.domid ?? 0;
    this.dataSize = this.pagesPerCpu * PAGE_SIZE - T_BUF_HEADER;
    this.highWater = this.dataSize >> 1;
    // t_info: header, then each CPU's MFN list (u32 per page).
    const tInfoBytes = 2 + 2 * this.cpus + 4 * this.cpus * this.pagesPerCpu;
    this.tInfoPages = Math.ceil(tInfoBytes / PAGE_SIZE);
    this.tInfo = frames.alloc(this.tInfoPages) * PAGE_SIZE;
    this.dv = () => new DataView(this.m.mem.buffer, this.m.mem.byteOffset, this.m.mem.byteLength);
    const d = this.dv();
    d.setUint16(this.tInfo, this.pagesPerCpu, true);
    // mfn_offset[] counts u32s from the start of t_info (Xen: offset into the t_info words).
    let offsetWords = Math.ceil((2 + 2 * this.cpus) / 4);
    for (let cpu = 0; cpu < this.cpus; cpu++) {
      const first = frames.alloc(this.pagesPerCpu);
      d.setUint16(this.tInfo + 2 + 2 * cpu, offsetWords, true);
      for (let p = 0; p < this.pagesPerCpu; p++) d.setUint32(this.tInfo + 4 * (offsetWords + p), first + p, true);
      offsetWords += this.pagesPerCpu;
      this.per.push({ buf: first * PAGE_SIZE, lost: 0, lostFirstTsc: 0n });
    }
  }

  /** Machine address of CPU `cpu`'s t_buf. */
  bufAddr(cpu: number): number { return this.per[cpu].buf; }
  lostRecords(cpu: number): number { return this.per[cpu].lost; }

  private prod(b: number): number { return this.dv().getUint32(b + 4, true); }
  private cons(b: number): number { return this.dv().getUint32(b, true); }
  unconsumed(cpu: number): number {
    const b = this.per[cpu].buf;
    let x = this.prod(b) - this.cons(b);
    if (x < 0) x += 2 * this.dataSize;
    return x;
  }
  private bytesToWrap(b: number): number {
    let x = this.dataSize - this.prod(b);
    if (x <= 0) x += this.dataSize;
    return x;
  }

  /** __trace_var: records `event` with optional TSC and up to seven data words on `cpu`. */
  trace(cpu: number, event: number, tsc: bigint | undefined, data: readonly number[] = []): boolean {
    if (data.length > TRACE_EXTRA_MAX) throw new RangeError(`trace record with ${data.length} data words (max 7)`);
    const pc = this.per[cpu];
    const b = pc.buf;
    const startedBelow = this.unconsumed(cpu) < this.highWater;
    const recSize = 4 + (tsc !== undefined ? 8 : 0) + 4 * data.length;
    const avail = this.dataSize - this.unconsumed(cpu);
    // Dry run: the total this record costs, with a LOST_RECORDS record and wraps.
    let toWrap = this.bytesToWrap(b);
    let total = 0;
    if (pc.lost) {
      if (LOST_REC_SIZE > toWrap) { total += toWrap; toWrap = this.dataSize; }
      total += LOST_REC_SIZE;
      toWrap -= LOST_REC_SIZE;
      if (toWrap === 0) toWrap = this.dataSize;
    }
    if (recSize > toWrap) total += toWrap;
    total += recSize;
    if (total > avail) {
      if (++pc.lost === 1) pc.lostFirstTsc = tsc ?? 0n;
      this.dropped++;
      return false;
    }
    toWrap = this.bytesToWrap(b);
    if (pc.lost) toWrap = this.insertLost(cpu, tsc, toWrap);
    if (recSize > toWrap) this.insertWrap(b, toWrap);
    this.insert(b, event, tsc, data);
    this.written++;
    if (startedBelow && this.unconsumed(cpu) >= this.highWater) this.onHighWater?.(cpu);
    return true;
  }

  /** insert_lost_records: { u32 lost_records; u16 did, vid; u64 first_tsc } with the current TSC; returns the bytes then left to the wrap. */
  private insertLost(cpu: number, tsc: bigint | undefined, toWrap: number): number {
    const pc = this.per[cpu], b = pc.buf;
    if (LOST_REC_SIZE > toWrap) { this.insertWrap(b, toWrap); toWrap = this.dataSize; }
    const vid = cpu; // one vCPU per physical CPU here
    const first = pc.lostFirstTsc;
    this.insert(b, TRC_LOST_RECORDS, tsc ?? first,
      [pc.lost >>> 0, (this.domid & 0xffff) | (vid << 16), Number(first & 0xffffffffn), Number(first >> 32n)]);
    pc.lost = 0;
    toWrap -= LOST_REC_SIZE;
    return toWrap === 0 ? this.dataSize : toWrap;
  }

  /**
   * At the end of a run, after Dom0's last read: the LOST_RECORDS record that the next trace
   * point would have written, so a trace file never ends in silent loss. False if none was due
   * or it still does not fit.
   */
  flushLost(cpu: number, tsc: bigint): boolean {
    const pc = this.per[cpu];
    if (!pc.lost) return false;
    const toWrap = this.bytesToWrap(pc.buf);
    const need = LOST_REC_SIZE + (LOST_REC_SIZE > toWrap ? toWrap : 0);
    if (need > this.dataSize - this.unconsumed(cpu)) return false;
    this.insertLost(cpu, tsc, toWrap);
    return true;
  }

  /** A WRAP record exactly filling the `space` bytes to the end of the ring. */
  private insertWrap(b: number, space: number): void {
    let extra = space - 4;
    let tsc: bigint | undefined;
    if (extra / 4 > TRACE_EXTRA_MAX) { tsc = 0n; extra -= 8; }
    this.insert(b, TRC_TRACE_WRAP_BUFFER, tsc, new Array(extra / 4).fill(0));
  }

  /** __insert_record: writes at prod (records never straddle the ring's end) and advances prod. */
  private insert(b: number, event: number, tsc: bigint | undefined, data: readonly number[]): void {
    const d = this.dv();
    let next = this.prod(b);
    const off = next >= this.dataSize ? next - this.dataSize : next;
    let p = b + T_BUF_HEADER + off;
    const header = (event & 0x0fffffff) | (data.length << 28) | (tsc !== undefined ? 0x80000000 : 0);
    d.setUint32(p, header >>> 0, true); p += 4;
    if (tsc !== undefined) {
      d.setUint32(p, Number(BigInt.asUintN(32, tsc)), true);
      d.setUint32(p + 4, Number(BigInt.asUintN(32, tsc >> 32n)), true);
      p += 8;
    }
    for (const w of data) { d.setUint32(p, w >>> 0, true); p += 4; }
    next += 4 + (tsc !== undefined ? 8 : 0) + 4 * data.length;
    if (next >= 2 * this.dataSize) next -= 2 * this.dataSize;
    d.setUint32(b + 4, next, true);
  }
}
