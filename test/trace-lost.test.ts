// Issue 12, Deliver 3: no silent trace loss. A guest flooding port I/O fills Xen's trace
// buffer (default notify mode: Dom0 reads only on a VMI request); the dropped records are
// counted, Xen's TRC_LOST_RECORDS record (xen/common/trace.c insert_lost_records:
// { u32 lost; u16 did, vid; u64 first_tsc } after the TSC) reaches the trace file,
// `run` warns once with the count, and the buffer size is --trace-pages (xentrace -S).
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { asm, haveAssembler } from './helpers/asm.js';
import { makeElf } from './helpers/elf.js';
import { runCli } from './helpers/cli.js';
import { parseTraceFile } from '../src/dom0/trace-file.js';
import { TRC_LOST_RECORDS } from '../src/xen/trace-events.js';

const dir = mkdtempSync(join(tmpdir(), 'vmvmi-lost-'));

describe.skipIf(!haveAssembler())('trace records lost to a port-I/O flood', () => {
  const image = join(dir, 'flood.elf');
  writeFileSync(image, makeElf(0x100000, [{ paddr: 0x100000, data: asm(`
    mov ecx, 20000
    xor eax, eax
  1:
    mov dx, 0x3f9
    out dx, al
    dec ecx
    jnz 1b
    xor eax, eax
    mov dx, 0x501
    out dx, eax
  `, 0x100000) }]));

  async function flood(pages: string) {
    const trace = join(dir, `t${pages}.bin`);
    const r = await runCli(['run', image, '--system-map', 'none', '--mem', '4', '--trace', trace, '--trace-pages', pages, '--json']);
    return { r, summary: JSON.parse(r.stdout), recs: parseTraceFile(new Uint8Array(readFileSync(trace))) };
  }

  it('a one-page buffer: dropped counted, LOST_RECORDS in the file with the count, one warning line', async () => {
    const { r, summary, recs } = await flood('1');
    expect(r.code).toBe(0);
    const dropped = summary.trace.dropped as number;
    expect(dropped).toBeGreaterThan(1000);
    const lost = recs.filter((x) => x.event === TRC_LOST_RECORDS);
    expect(lost.length).toBeGreaterThan(0);
    expect(lost.reduce((a, x) => a + x.data[0], 0)).toBe(dropped);
    expect(lost[0].data[1] & 0xffff).toBe(1); // did: the guest, current when Xen wrote it
    expect(lost[0].tsc).toBeDefined();
    const warnings = r.stderr.split('\n').filter((l) => /warning/.test(l));
    expect(warnings).toEqual([`vmfunc-vmi: warning: ${dropped} trace records lost (the trace buffer was full; see --trace-pages)`]);
    const shown = await runCli(['trace', join(dir, 't1.bin')]);
    expect(shown.stdout).toContain(`LOST_RECORDS`);
    expect(shown.stdout).toMatch(new RegExp(` ${lost[0].data[0]} records lost \\(d1v0\\), the first at TSC \\d+\n`));
  });

  it('a larger --trace-pages loses fewer', async () => {
    const small = await flood('1'), big = await flood('64');
    expect(big.summary.trace.dropped).toBeLessThan(small.summary.trace.dropped);
    expect(big.summary.trace.records).toBeGreaterThan(small.summary.trace.records);
  });

  it('--trace-pages must be a power of two in range', async () => {
    for (const bad of ['3', '0', 'many', '99999']) {
      const r = await runCli(['run', image, '--trace-pages', bad]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^vmfunc-vmi: --trace-pages: /);
    }
  });
});
