// Issue 12, Deliver 2: a guest cannot make Dom0 start VMI programs without bound. The requests of a
// domain share a ring of slots, each held from the request until its program ends, as Xen's vm_event
// ring holds a slot until Dom0's response (xen/common/vm_event.c: vm_event_grab_slot returns -EBUSY
// when vm_event_ring_available() is 0; only a producer that may sleep waits, vm_event_wait_slot).
// The RDTSC exit that raises a request may not sleep: with the ring full the request is lost --
// a TRC_VMI_REQUEST_DROPPED record, a count in `run --json`, one warning line. Ours beside Xen's: a
// rate per second of virtual time, and a limit on programs running at once (the rest wait in the ring).
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { haveAssembler } from './helpers/asm.js';
import { burstGuest, writeRequestGuest } from './helpers/request-guest.js';
import { runCli } from './helpers/cli.js';
import { findXenalyze, xenalyze } from './helpers/xenalyze.js';
import { wasm, I64, call, DROP } from './helpers/wasm.js';
import { runImageWithLaunches } from '../src/run-launch.js';
import { parseTraceFile } from '../src/dom0/trace-file.js';
import { TRC_VMI_REQUEST, TRC_VMI_REQUEST_DROPPED } from '../src/xen/trace-events.js';
import { VmEventRing, VMI_DROP_RATE, VMI_DROP_RING_FULL } from '../src/xen/vm_event.js';

const dir = mkdtempSync(join(tmpdir(), 'vmvmi-bounds-'));
// A program that makes one libvmi call and exits: the cheapest a request can cost.
const quick = join(dir, 'quick.wasm');
writeFileSync(quick, wasm({ imports: [{ mod: 'libvmi', name: 'get_vmid', params: [], results: [I64] }], start: [...call(0), DROP] }));
const config = (extra: Record<string, unknown> = {}) => {
  const f = join(dir, `cfg-${Object.keys(extra).join('-') || 'plain'}.json`);
  writeFileSync(f, JSON.stringify({ programs: { 1: quick }, ...extra }));
  return f;
};

describe('the request ring (src/xen/vm_event.ts), as vm_event_grab_slot / vm_event_resume keep it', () => {
  it('claims up to the slots, then -EBUSY (counted); a response frees a slot', () => {
    const r = new VmEventRing({ slots: 2, cyclesPerSec: 1e9 });
    expect([r.claim(0n), r.claim(1n), r.claim(2n)]).toEqual([0, 0, VMI_DROP_RING_FULL]);
    r.release();
    expect(r.claim(3n)).toBe(0);
    expect({ inUse: r.inUse, full: r.droppedFull, rate: r.droppedRate }).toEqual({ inUse: 2, full: 1, rate: 0 });
  });
  it('the rate: a bucket of one second\'s requests, refilled with virtual time', () => {
    const r = new VmEventRing({ ratePerSec: 2, cyclesPerSec: 1000 });
    expect([r.claim(0n), r.claim(0n), r.claim(0n)]).toEqual([0, 0, VMI_DROP_RATE]);
    expect(r.inUse).toBe(2);
    expect(r.claim(499n)).toBe(VMI_DROP_RATE);   // 0.998 of a request refilled
    expect(r.claim(500n)).toBe(0);               // one more by half a second
    expect(r.droppedRate).toBe(2);
  });
});

describe.skipIf(!haveAssembler())('a guest raising requests in a burst', () => {
  const Q = 16;
  it('1,000 requests: the run completes, host memory stays bounded, the excess is dropped, traced, counted and reported once', async () => {
    const image = burstGuest(dir, 1000);
    const trace = join(dir, 'burst.trace');
    // The host's memory while the run goes (the unbounded launcher took ~9.6 MB a request: 100 -> 961 MB).
    global.gc?.();
    const base = process.memoryUsage().rss;
    let peak = base;
    const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 10);
    const t0 = Date.now();
    // A ring of 16 (the default is DEFAULT_VMI_QUEUE): each admitted request starts a sandbox thread,
    // which takes most of a second on a loaded host; the bound on memory is the same.
    const r = await runCli(['run', image, '--system-map', 'none', '--mem', '4', '--json', '--trace', trace, '--vmi-queue', String(Q), '--vmi-config', config()]);
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    const growthMiB = (peak - base) / 2 ** 20;
    console.log(`1,000-request burst: ${r.code === 0 ? 'completed' : 'failed'} in ${Date.now() - t0} ms, RSS growth ${growthMiB.toFixed(0)} MiB`);
    expect(r.code).toBe(0);
    expect(growthMiB).toBeLessThan(500);
    const s = JSON.parse(r.stdout);
    expect(s.vmi_requests).toHaveLength(Q);
    expect(s.vmi_programs).toHaveLength(Q);
    expect(s.vmi_programs.every((p: { exit_code: number }) => p.exit_code === 0)).toBe(true);
    expect(s.vmi_requests_dropped).toEqual({ total: 1000 - Q, ring_full: 1000 - Q, rate: 0, queue: Q, rate_per_s: 1000 });
    const warnings = r.stderr.split('\n').filter((l) => /warning/.test(l));
    expect(warnings).toEqual([`vmfunc-vmi: warning: ${1000 - Q} VMI requests dropped: ${1000 - Q} with the request ring full (${Q} slots; see --vmi-queue, --vmi-concurrency)`]);
    const recs = parseTraceFile(new Uint8Array(readFileSync(trace)));
    const dropped = recs.filter((x) => x.event === TRC_VMI_REQUEST_DROPPED);
    expect(recs.filter((x) => x.event === TRC_VMI_REQUEST)).toHaveLength(Q);
    expect(dropped).toHaveLength(1000 - Q);
    expect(dropped[0].data).toHaveLength(7);
    expect(dropped[0].data[6]).toBe(VMI_DROP_RING_FULL);
    expect(dropped[0].data[1]).toBe(11 | (1 << 16));            // EPTP index 11, parameter 1
    const shown = await runCli(['trace', trace]);
    expect(shown.stdout).toMatch(/VMI_REQUEST_DROPPED .* d1v0 parameter 1 lost: the request ring was full\n/);
    const xa = findXenalyze();
    if (xa.path) expect(xenalyze(xa.path, ['--dump-all'], trace).status).toBe(0);
  }, 300_000);

  it('--vmi-rate: past the rate requests are dropped for the rate; --vmi-queue and --vmi-concurrency are used', async () => {
    const image = burstGuest(dir, 20);
    const r = await runCli(['run', image, '--system-map', 'none', '--mem', '4', '--json', '--vmi-rate', '5/s',
      '--vmi-queue', '3', '--vmi-concurrency', '1', '--vmi-config', config()]);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    // The bucket holds 5: five admitted by the rate, of which the ring takes 3 (nothing ends meanwhile).
    expect(s.vmi_requests_dropped).toEqual({ total: 17, ring_full: 2, rate: 15, queue: 3, rate_per_s: 5 });
    expect(s.vmi_programs).toHaveLength(3);
    expect(r.stderr).toContain('vmfunc-vmi: warning: 17 VMI requests dropped: 2 with the request ring full (3 slots; see --vmi-queue, --vmi-concurrency), 15 over the rate (5/s; see --vmi-rate)');
  });

  it('concurrency 1 on virtual time: each program starts when the one before has ended; slots come back at the end', async () => {
    // Three requests, a pause long enough (in virtual time) for their programs to end, three more.
    const image = writeRequestGuest(dir, 'two-bursts.elf', [[1, 1, 1], [1, 1, 1]], 20_000_000);
    const s = await runImageWithLaunches({ image, systemMap: false, memMiB: 4, vmi: { queue: 3 }, vmiConcurrency: 1,
      launchConfig: { programs: { 1: quick }, timeLimitMs: 5000, memoryLimitMiB: 64 } });
    expect(s.exit.status).toBe(0);
    expect(s.vmi_requests_dropped!.total).toBe(0);        // the second burst found the slots free again
    expect(s.vmi_programs).toHaveLength(6);
    for (let i = 1; i < 6; i++) expect(s.vmi_programs[i].start_vcycles!).toBeGreaterThanOrEqual(s.vmi_programs[i - 1].end_vcycles!);
    // The same without the gap: the second burst finds the ring full.
    const tight = await runImageWithLaunches({ image: writeRequestGuest(dir, 'one-burst.elf', [[1, 1, 1, 1, 1, 1]]), systemMap: false, memMiB: 4,
      vmi: { queue: 3 }, vmiConcurrency: 1, launchConfig: { programs: { 1: quick }, timeLimitMs: 5000, memoryLimitMiB: 64 } });
    expect(tight.vmi_requests_dropped).toMatchObject({ total: 3, ring_full: 3 });
  });

  it('bad values of the new options are usage errors naming the option', async () => {
    for (const [opt, v, msg] of [['--vmi-queue', '0', /--vmi-queue: "0" is not a number of request slots/], ['--vmi-concurrency', 'x', /--vmi-concurrency: "x" is not a number of programs/],
      ['--vmi-rate', '5/min', /--vmi-rate: "5\/min" is not a rate/]] as const) {
      const r = await runCli(['run', '--max-insns', '1', opt, v]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(msg);
    }
  });
});
