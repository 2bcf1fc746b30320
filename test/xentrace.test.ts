// Xen's trace buffers and the xentrace file format, after Xen 4.17
// xen/common/trace.c (__trace_var, insert_wrap_record, insert_lost_records),
// xen/include/public/trace.h (t_info, t_buf, t_rec) and tools/xentrace/xentrace.c
// (the CPU-change windows of the output file); checked against Xen's xenalyze.
import { describe, it, expect } from 'vitest';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Machine } from '../src/machine.js';
import { FrameAllocator } from '../src/xen/frames.js';
import { TraceBuffers } from '../src/xen/trace.js';
import { XentraceConsumer } from '../src/dom0/xentrace.js';
import * as E from '../src/xen/trace-events.js';
import { EXIT_REASON_CPUID, EXIT_REASON_RDTSC } from '../assembly/shared/exit-reasons.js';
import { findXenalyze, xenalyze } from './helpers/xenalyze.js';

function setup(pagesPerCpu = 1, cpus = 1) {
  const m = Machine.createSync({ memMiB: 4 });
  const highWater: number[] = [];
  const t = new TraceBuffers(m, new FrameAllocator(m, 16), { pagesPerCpu, cpus, onHighWater: (c) => highWater.push(c) });
  const c = new XentraceConsumer(m, t.tInfo, cpus);
  const dv = () => new DataView(m.mem.buffer, m.mem.byteOffset, m.mem.byteLength);
  return { m, t, c, highWater, dv };
}

describe('trace buffers (xen/common/trace.c)', () => {
  it('t_info holds the pages per CPU, mfn_offset[] and the MFN lists; t_buf starts with cons, prod', () => {
    const { t, dv } = setup(2, 2);
    const d = dv();
    expect(d.getUint16(t.tInfo, true)).toBe(2);
    const off0 = d.getUint16(t.tInfo + 2, true), off1 = d.getUint16(t.tInfo + 4, true);
    expect(off1 - off0).toBe(2);
    expect(d.getUint32(t.tInfo + 4 * off0, true) * 4096).toBe(t.bufAddr(0));
    expect(d.getUint32(t.tInfo + 4 * off1 + 4, true) * 4096).toBe(t.bufAddr(1) + 4096);
    expect(t.dataSize).toBe(2 * 4096 - 8);
  });

  it('a t_rec is {event:28, extra_u32:3, cycles_included:1}, then TSC lo/hi, then the data words', () => {
    const { t, dv } = setup();
    t.trace(0, E.TRC_HVM_VMEXIT64, 0x1122334455n, [16, 0xdeadbeef, 0x7fff]);
    t.trace(0, E.TRC_HVM_RDTSC, undefined, [5, 6]);
    const d = dv(), b = t.bufAddr(0) + 8;
    expect(d.getUint32(b, true)).toBe((0x80000000 | (3 << 28) | E.TRC_HVM_VMEXIT64) >>> 0);
    expect(d.getUint32(b + 4, true)).toBe(0x22334455);
    expect(d.getUint32(b + 8, true)).toBe(0x11);
    expect(d.getUint32(b + 12, true)).toBe(16);
    expect(d.getUint32(b + 24, true)).toBe(((2 << 28) | E.TRC_HVM_RDTSC) >>> 0);
    expect(d.getUint32(t.bufAddr(0) + 4, true)).toBe(36); // prod
  });

  it('a record that would cross the end is preceded by a WRAP record filling the tail exactly', () => {
    const { t, c } = setup();
    // 24-byte records: 4088 = 170 * 24 + 8, so the 171st needs a wrap of 8 bytes.
    for (let i = 0; i < 100; i++) t.trace(0, E.TRC_HVM_VMEXIT64, BigInt(i), [1, 2, 3]);
    c.poll(); // free the space
    for (let i = 100; i < 175; i++) t.trace(0, E.TRC_HVM_VMEXIT64, BigInt(i), [1, 2, 3]);
    c.poll();
    const wraps = c.records.filter((r) => r.event === E.TRC_TRACE_WRAP_BUFFER);
    expect(wraps).toHaveLength(1);
    expect(wraps[0].data).toHaveLength(1); // 4 header + 4 extra = the 8-byte tail
    const exits = c.records.filter((r) => r.event === E.TRC_HVM_VMEXIT64).map((r) => Number(r.tsc));
    expect(exits).toEqual(Array.from({ length: 175 }, (_, i) => i));
  });

  it('when the ring is full records are dropped and counted; the next record that fits follows a LOST_RECORDS record', () => {
    const { t, c } = setup();
    let accepted = 0;
    for (let i = 0; i < 400; i++) if (t.trace(0, E.TRC_HVM_VMENTRY, BigInt(1000 + i))) accepted++;
    expect(accepted).toBe(Math.floor(4088 / 12));
    expect(t.lostRecords(0)).toBe(400 - accepted);
    c.poll();
    t.trace(0, E.TRC_HVM_VMENTRY, 5000n);
    c.poll();
    const lost = c.records.find((r) => r.event === E.TRC_LOST_RECORDS)!;
    expect(lost.data[0]).toBe(400 - accepted);
    expect(BigInt(lost.data[2]) | (BigInt(lost.data[3]) << 32n)).toBe(BigInt(1000 + accepted)); // first lost TSC
    expect(c.records.at(-1)!.tsc).toBe(5000n);
    expect(t.lostRecords(0)).toBe(0);
  });

  it('crossing the high-water mark (half the ring) notifies Dom0 once (VIRQ_TBUF)', () => {
    const { t, highWater } = setup();
    for (let i = 0; i < 169; i++) t.trace(0, E.TRC_HVM_VMENTRY, BigInt(i)); // 2028 bytes, below 2044
    expect(highWater).toEqual([]);
    t.trace(0, E.TRC_HVM_VMENTRY, 0n);
    t.trace(0, E.TRC_HVM_VMENTRY, 0n);
    expect(highWater).toEqual([0]);
  });
});

describe('xentrace files read by Xen\'s xenalyze', () => {
  const xa = findXenalyze();
  it.skipIf(!xa.path)(`xenalyze --summary accepts the file and counts the exits${xa.why ? ` (skipped: ${xa.why})` : ''}`, () => {
    const { t, c } = setup(4);
    let tsc = 1000n;
    t.trace(0, E.runstateChange(E.RUNSTATE_RUNNABLE, E.RUNSTATE_RUNNING), tsc, [0 | (1 << 16)]); // d1v0
    for (let i = 0; i < 300; i++) {
      tsc += 3000n;
      const reason = i % 3 === 0 ? EXIT_REASON_CPUID : EXIT_REASON_RDTSC;
      t.trace(0, E.TRC_HVM_VMEXIT64, tsc, [reason, 0x401000 + i, 0]);
      if (reason === EXIT_REASON_RDTSC && i % 7 === 0) t.trace(0, E.TRC_VMI_REQUEST, tsc, [1, 11, 0x401000 + i, 0, 0x1000, 0]);
      tsc += 1000n;
      t.trace(0, E.TRC_HVM_VMENTRY, tsc);
      if (i % 50 === 0) c.poll();
    }
    c.poll();
    const dir = join(import.meta.dirname, '.cache');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'synthetic.trace');
    writeFileSync(file, c.file());
    const r = xenalyze(xa.path!, ['--summary'], file);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Exit reasons:[\s\S]*RDTSC\s+200\b/);
    expect(r.stdout).toMatch(/CPUID\s+100\b/);
  });
});

import { parseTraceFile, formatRecord, TraceFileError } from '../src/dom0/trace-file.js';

describe('trace files read back (vmfunc-vmi trace)', () => {
  it('parses what the consumer wrote, record for record, and names events', () => {
    const { t, c } = setup(2);
    t.trace(0, E.runstateChange(1, 0), 5n, [1 << 16]);
    t.trace(0, E.TRC_HVM_VMEXIT64, 10n, [16, 0x1000, 0]);
    t.trace(0, E.TRC_VMI_REQUEST, 11n, [1, 11 | (1 << 16), 0x1000, 0, 0x2000, 0]);
    c.poll();
    const recs = parseTraceFile(c.file());
    expect(recs).toEqual(c.records);
    expect(formatRecord(recs[0])).toContain('SCHED_RUNSTATE_CHANGE(runnable->running)');
    expect(formatRecord(recs[2])).toMatch(/^CPU0\s+11 VMI_REQUEST/);
  });
  it('rejects a file that does not start with a CPU-change record, naming the offset', () => {
    expect(() => parseTraceFile(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]))).toThrow(TraceFileError);
    expect(() => parseTraceFile(new Uint8Array([3, 0xf0, 1, 0x20, 0, 0, 0, 0, 99, 0, 0, 0]))).toThrow(/offset 12: window of 99 bytes/);
  });
});
