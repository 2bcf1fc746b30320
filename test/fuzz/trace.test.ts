// Fuzz: damaged xentrace files through the reader (src/dom0/trace-file.ts) and `vmfunc-vmi trace`.
// A file is windows of [TRC_TRACE_CPU_CHANGE header, cpu, size] and t_rec records (public/trace.h:
// event:28, extra_u32:3, cycles_included:1, [tsc], data); a damaged one is refused with one line
// naming the byte offset, never another exception; what parses prints one line a record.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { parseTraceFile, formatRecord, eventName, TraceFileError } from '../../src/dom0/trace-file.js';
import * as E from '../../src/xen/trace-events.js';
import { runCli } from '../helpers/cli.js';
import { fuzz, fuzzTimeout, mutate, type Rnd } from './fuzz.js';

const EVENTS = [E.TRC_LOST_RECORDS, E.TRC_TRACE_WRAP_BUFFER, E.TRC_VMI_REQUEST, E.TRC_VMI_REQUEST_DROPPED, E.runstateChange(1, 0),
  E.TRC_HVM_VMENTRY, E.TRC_HVM_VMEXIT64, E.TRC_HVM_RDTSC, E.TRC_HVM_VMMCALL, E.TRC_HVM_NPF, 0x0fffffff, 0];

/** A well-formed file: 1-3 CPU windows of random records. */
function traceFile(r: Rnd): Uint8Array {
  const words: number[] = [];
  for (let w = 1 + r.int(3); w > 0; w--) {
    const recs: number[] = [];
    for (let n = r.int(20); n > 0; n--) {
      const extra = r.int(8), tsc = r.chance(0.7);
      recs.push((r.pick(EVENTS) | (extra << 28) | (tsc ? 0x80000000 : 0)) >>> 0);
      if (tsc) recs.push(r.int(2 ** 32), r.int(2 ** 32));
      for (let i = 0; i < extra; i++) recs.push(r.int(2 ** 32));
    }
    words.push((E.TRC_TRACE_CPU_CHANGE | (2 << 28)) >>> 0, r.int(4), recs.length * 4, ...recs);
  }
  const b = new Uint8Array(words.length * 4);
  const v = new DataView(b.buffer);
  words.forEach((x, i) => v.setUint32(4 * i, x, true));
  return b;
}

describe('fuzz: damaged trace files through the reader', () => {
  it('each file parses and prints one line a record, or is refused with one line naming the offset', async () => {
    let parsed = 0, refused = 0;
    const run = await fuzz('trace', 3000, (r) => {
      const f = traceFile(r);
      const bytes = r.chance(0.85) ? mutate(r, f, 1 + r.int(5)) : f.subarray(0, r.int(f.length + 1));
      let recs;
      try { recs = parseTraceFile(bytes); } catch (e) {
        if (!(e instanceof TraceFileError)) throw new Error(`not a TraceFileError: ${(e as Error)?.stack}`);
        if (!/^offset \d+: /.test(e.message) || e.message.includes('\n')) throw new Error(`unclear: ${e.message}`);
        refused++;
        return;
      }
      parsed++;
      for (const x of recs) {
        const line = formatRecord(x);
        if (line.includes('\n') || !line.startsWith(`CPU${x.cpu} `)) throw new Error(`bad line ${JSON.stringify(line)}`);
        if (x.data.length > 7) throw new Error('more than 7 data words');
        eventName(x.event);
      }
    });
    console.log(`fuzz trace: ${parsed} parsed, ${refused} refused`);
    expect(run.failures).toEqual([]);
    expect(parsed).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  }, fuzzTimeout(60_000));

  it('through `vmfunc-vmi trace`: exit 0 with a line a record, or exit 2 with one line; never a stack trace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmvmi-fuzz-trace-'));
    const run = await fuzz('trace-cli', 60, async (r, i) => {
      const file = join(dir, `t${i}.bin`);
      writeFileSync(file, mutate(r, traceFile(r), 1 + r.int(3)));
      const c = await runCli(['trace', file, ...(r.chance(0.5) ? ['--json'] : [])]);
      if (c.code === 2) {
        if (!/^vmfunc-vmi: trace: .*: offset \d+: [^\n]*\n$/.test(c.stderr)) throw new Error(`exit 2 with ${JSON.stringify(c.stderr)}`);
      } else if (c.code !== 0 || c.stderr !== '') throw new Error(`exit ${c.code}: ${c.stderr}`);
    });
    expect(run.failures).toEqual([]);
  }, fuzzTimeout(60_000));
});
