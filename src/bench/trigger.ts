// `vmfunc-vmi bench trigger`: modelled latency from a guest's VMI request to
// (a) the hypervisor's detection, (b) the trace record, (c) Dom0's
// notification and (d) the VMI program's first instruction, for the paper's
// VMFUNC + RDTSC emulation (immediate VIRQ, and stock Xentrace's VIRQ_TBUF /
// 100 ms poll), a VMCALL hypercall, a #VE-based request, and Dom0 polling that
// pauses the guest every P ms.
//
// Each mechanism runs real guest code on the real Xen pieces (Domain, the
// vCPU loop and exit handlers, VmiTrigger's RDTSC check and trace buffers,
// Dom0's xentrace consumer): a small hand-encoded guest loops
//   [j iterations of dec/jnz] ; OUT 0x510 (the bench's marker: the request's start) ;
//   <request> ; [W - j iterations] ; RDTSC ; G x ([W iterations] ; RDTSC)
// so the guest executes an RDTSC every W loop iterations and each request lands
// at a uniformly random phase j of that period (the host picks j and writes it
// into r8 at the marker). For notification paths with a period (VIRQ_TBUF's
// 100 ms poll, Dom0's P ms poll) the guest idles (virtual time skipped, as the
// HLT handler does) a uniformly random time before each request, so that its
// phase against the poll is uniform too.
//
// What is modelled rather than executed, all from the cost profile:
//   - (b) the trace record: detection + profile.traceRecord (the emulator writes the record but does not charge it);
//   - (c) includes the trace record, then Dom0Costs (virqDelivery + dom0Wakeup) or the poll time;
//   - (d) = (c) + profile.vmiLaunch (assumed), except for Dom0 polling, whose VMI program is resident;
//   - #VE: the request is a guest access the in-guest #VE handler turns into a VMCALL; the #VE
//     delivery (profile.veDelivery) is added, the VMCALL is executed.
import { Domain } from '../xen/domain.js';
import { bootImage, BOOTINFO_F_VMFUNC } from '../xen/boot.js';
import { VmiTrigger, VIRQ_VMI } from '../xen/trigger.js';
import { Dom0 } from '../dom0/dom0.js';
import { getProfile, type CostProfile } from '../xen/cost-profiles.js';
import { handlerCost } from '../xen/cost.js';
import { EXIT_REASON_VMCALL, EXIT_REASON_IO_INSTRUCTION, EXIT_REASON_RDTSC } from '../vmcs.js';
import { TRC_VMI_REQUEST } from '../xen/trace-events.js';
import { vmiRequestTraceData, type VmiRequest } from '../xen/vmfunc-awareness.js';
import { Code, codeImage } from './code.js';
import { mulberry32 } from '../util/prng.js';

export type Mechanism = 'vmfunc' | 'vmfunc-tbuf' | 'vmcall' | 've' | 'dom0-poll';

export interface TriggerCase {
  mech: Mechanism;
  /** Loop iterations (2 instructions each) between the guest's RDTSCs. */
  rdtscLoop: number;
  /** Extra RDTSC periods after each request. */
  gapPeriods?: number;
  /** Dom0's poll period for 'dom0-poll', ms. */
  pollMs?: number;
  requests: number;
  seed?: number;
}

export interface Pcts { p50: number; p90: number; p99: number; mean: number }
export interface TriggerResult {
  name: string;
  mech: Mechanism;
  profile: string;
  requests: number;
  /** Guest RDTSCs per second of virtual (non-idle) time. */
  rdtsc_per_s: number | null;
  /** Modelled ns from the request to each stage. */
  modelled_ns: { detect: Pcts; trace: Pcts | null; notify: Pcts; vmi_start: Pcts };
  /** Host ns from the request's marker to detection and to Dom0's notification. */
  host_ns: { detect: Pcts; notify: Pcts };
  /** The requesting program's own cost: cycles from the request's first instruction to the next one after it. */
  request_cost_cycles: number;
  /** What Dom0 woke for (counts). */
  woken_by: Record<string, number>;
  host_ms: number;
}

const MARK_PORT = 0x510;
const FLAG_GPA = 0x200000;

/** The request sequence each mechanism's guest executes. */
function requestSeq(mech: Mechanism): number[] {
  switch (mech) {
    case 'vmfunc': case 'vmfunc-tbuf': return [0x31, 0xc0, 0xb9, 11, 0, 0, 0, 0x0f, 0x01, 0xd4]; // xor eax,eax; mov ecx,11; vmfunc
    case 'vmcall': case 've': return [0xb8, 63, 0, 0, 0, 0x0f, 0x01, 0xc1];                        // mov eax,63; vmcall (unused hypercall: -ENOSYS)
    case 'dom0-poll': return [0xc6, 0x04, 0x25, ...[FLAG_GPA & 0xff, (FLAG_GPA >> 8) & 0xff, (FLAG_GPA >> 16) & 0xff, 0], 1]; // mov byte [flag], 1
  }
}

/** The guest loop (see the header); with `calib`, a second marker right after the request. */
export function buildGuest(mech: Mechanism, calib = false): Uint8Array {
  const c = new Code();
  const markA = () => c.emit(0x66, 0xba, MARK_PORT & 0xff, MARK_PORT >> 8, 0xef);      // mov dx, 0x510; out dx, eax
  c.label('top')
    .emit(0x44, 0x89, 0xc1).emit(0x85, 0xc9).j8(0x74, 'a')                             // mov ecx, r8d; test ecx, ecx; jz a
    .label('w1').emit(0xff, 0xc9).j8(0x75, 'w1')                                        // dec ecx; jnz w1
    .label('a');
  markA();
  c.emit(...requestSeq(mech));
  if (calib) c.emit(0x66, 0xba, (MARK_PORT + 1) & 0xff, (MARK_PORT + 1) >> 8, 0xef);    // mov dx, 0x511; out dx, eax
  c.emit(0x44, 0x89, 0xc9)                                                              // mov ecx, r9d (W - j >= 1)
    .label('w2').emit(0xff, 0xc9).j8(0x75, 'w2')
    .emit(0x0f, 0x31)                                                                   // rdtsc
    .emit(0x45, 0x89, 0xe3).emit(0x45, 0x85, 0xdb).j8(0x74, 'end')                     // mov r11d, r12d; test r11d, r11d; jz end
    .label('g').emit(0x44, 0x89, 0xd1)                                                  // mov ecx, r10d
    .label('w3').emit(0xff, 0xc9).j8(0x75, 'w3')
    .emit(0x0f, 0x31)                                                                   // rdtsc
    .emit(0x41, 0xff, 0xcb).j8(0x75, 'g')                                               // dec r11d; jnz g
    .label('end').jmp32('top');
  return c.bytes();
}



export function percentiles(xs: number[]): Pcts {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p: number) => s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] : NaN;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), mean: s.reduce((a, b) => a + b, 0) / (s.length || 1) };
}

interface Setup { d: Domain; mech?: VmiTrigger; dom0?: Dom0 }

function setup(c: TriggerCase, prof: CostProfile, calib: boolean, log: (l: string) => void): Setup {
  const d = new Domain({ memMiB: 16, profile: prof, log });
  let mech: VmiTrigger | undefined;
  if (c.mech !== 'dom0-poll') mech = new VmiTrigger(d, { notify: c.mech === 'vmfunc-tbuf' ? 'tbuf' : 'immediate' });
  bootImage(d, codeImage('bench-trigger-guest', buildGuest(c.mech, calib)), mech ? { flags: BOOTINFO_F_VMFUNC, eptpViews: mech.altp2m.viewCount } : {});
  if (c.mech === 'vmfunc' || c.mech === 'vmfunc-tbuf') for (const v of d.vcpus) v.setRdtscExiting(true); // the trigger's syscall, done up front
  return { d, mech };
}

/** The request's own cost in cycles: a run with a second marker right after the request sequence. */
function calibrate(c: TriggerCase, prof: CostProfile): number {
  const { d } = setup(c, prof, true, () => {});
  const m = d.machine;
  const ioCost = d.costs.vmexitRoundTrip + handlerCost(d.costs, EXIT_REASON_IO_INSTRUCTION);
  let t0 = 0n, cost = -1, n = 0;
  d.io.register(MARK_PORT, 2, {
    name: 'bench-marker', read: () => 0,
    write: (port) => {
      if (port === MARK_PORT) {
        if (++n > 3) { d.shutdown({ reason: 'poweroff', status: 0, source: 'exit-port', message: 'bench done' }); return; }
        d.vcpus[0].setGpr('r8', 0); d.vcpus[0].setGpr('r9', 1); d.vcpus[0].setGpr('r10', 1); d.vcpus[0].setGpr('r12', 0);
        t0 = m.vcycles;
      } else {
        // This marker's exit happened ioCost ago; its MOV DX is one more instruction (1 cycle).
        cost = Number(m.vcycles - BigInt(ioCost) - t0) - 1;
      }
    },
  });
  d.sched.run({ maxInsns: 1_000_000n });
  return cost + (c.mech === 've' ? prof.veDelivery.value : 0);
}

export function runTriggerCase(c: TriggerCase, profileName: string | CostProfile = 'haswell'): TriggerResult {
  const prof = getProfile(profileName);
  const requestCost = calibrate(c, prof);
  const hostStart = performance.now();
  const rnd = mulberry32(c.seed ?? 1);
  const N = c.requests, W = Math.max(1, c.rdtscLoop), G = c.gapPeriods ?? 0;
  const t0: bigint[] = [], h0: number[] = [];
  const det: bigint[] = [], hDet: number[] = [];
  const dom0At: bigint[] = [], hDom0: number[] = [];
  const woken: Record<string, number> = {};
  let idleTotal = 0n;
  let nDet = 0;
  const onLog = (line: string) => {
    if (line.includes('VMI request:')) hDet[nDet++] = performance.now();
  };
  const { d, mech } = setup(c, prof, false, onLog);
  const m = d.machine, freqKhz = d.tscKhz;
  const ms = (x: number) => BigInt(Math.round(x * freqKhz));
  let dom0: Dom0 | undefined;
  let nDom0 = 0;
  if (mech) {
    dom0 = new Dom0(d, mech, (h) => {
      const k = nDom0++;
      dom0At[k] = h.dom0At; hDom0[k] = performance.now();
      woken[h.wokenBy] = (woken[h.wokenBy] ?? 0) + 1;
    });
  }
  // Idle before each request: uniform over the period the notification waits on.
  // Every request is preceded by at least 50 us of idle, so that Dom0 has finished with the previous one
  // (the Dom0 model services a wake-up with every record present by then).
  const minIdle = ms(0.05);
  const idlePeriod = c.mech === 'vmfunc-tbuf' ? ms(prof.pollMs.value) : c.mech === 'dom0-poll' ? ms(c.pollMs ?? 10) : 0n;
  let j = Math.floor(rnd() * W), k = 0;
  // Dom0 polling: a pass every P ms pauses the guest and reads the request flag.
  const pollP = ms(c.pollMs ?? 10);
  let nextPoll = m.vcycles + pollP;
  // Dom0 polling: each pass due by now pauses the guest (charged when it was running), reads the request flag.
  function polls(charge: boolean): void {
    while (m.vcycles >= nextPoll) {
      const pollAt = nextPoll;
      nextPoll += pollP;
      if (charge) m.addVcycles(BigInt(prof.vmPause.value));
      const flag = d.readGuestPhys(FLAG_GPA, 1)!;
      if (flag[0]) {
        d.writeGuestPhys(FLAG_GPA, new Uint8Array([0]));
        const at = pollAt + BigInt(prof.vmPause.value);
        det[nDet] = at; dom0At[nDet] = at; hDet[nDet] = hDom0[nDet] = performance.now(); nDet++;
        woken.poll = (woken.poll ?? 0) + 1;
      }
    }
  }
  d.io.register(MARK_PORT, 2, {
    name: 'bench-marker', read: () => 0,
    write: (port) => {
      if (port !== MARK_PORT) return;
      if (k === N) {
        // Let the last request be found: idle one more poll period (and Dom0's wake-up) first.
        m.addVcycles(idlePeriod + minIdle); idleTotal += idlePeriod + minIdle;
        if (c.mech === 'dom0-poll') polls(false);
        d.sched.prepareEntry(d.vcpus[0]);
        d.shutdown({ reason: 'poweroff', status: 0, source: 'exit-port', message: 'bench done' }); return;
      }
      if (c.mech === 'dom0-poll' && nDet < k) {
        // The previous request is still waiting for a poll: idle until it has been found (requests never merge).
        const wait = nextPoll - m.vcycles;
        m.addVcycles(wait); idleTotal += wait;
        polls(false);
      }
      const idle = minIdle + BigInt(Math.floor(rnd() * Number(idlePeriod)));
      m.addVcycles(idle); idleTotal += idle;
      // Dom0's polls while the guest idled: they may find the previous request, and pause an idle guest for free.
      if (c.mech === 'dom0-poll') polls(false);
      d.vcpus[0].setGpr('r9', W - j);
      j = Math.floor(rnd() * W);
      d.vcpus[0].setGpr('r8', j); d.vcpus[0].setGpr('r10', W); d.vcpus[0].setGpr('r12', G);
      t0[k] = m.vcycles; h0[k] = performance.now(); k++;
    },
  });
  d.vcpus[0].setGpr('r8', j);
  const rt = BigInt(d.costs.vmexitRoundTrip);
  if (c.mech === 'vmcall' || c.mech === 've') {
    for (const vc of d.vcpus) vc.exitHooks.push((v, reason) => {
      if (reason !== EXIT_REASON_VMCALL) return;
      const at = m.vcycles + rt + BigInt(handlerCost(d.costs, EXIT_REASON_VMCALL)) + BigInt(c.mech === 've' ? prof.veDelivery.value : 0);
      const req: VmiRequest = { domid: d.id, vcpu: v.id, eptpIndex: 11, parameter: 1, rip: m.vmread('GUEST_RIP'), cr3: m.vmread('GUEST_CR3'), tsc: at };
      hDet[nDet++] = performance.now();
      mech!.requests.push(req);
      mech!.record(TRC_VMI_REQUEST, at, vmiRequestTraceData(req), true);
      mech!.onVirq?.(VIRQ_VMI, at);
    });
  }
  if (c.mech === 'dom0-poll') for (const v of d.vcpus) v.entryHooks.push(() => polls(true));
  d.sched.run({ maxInsns: BigInt(N) * BigInt((2 * W + 40) * (G + 1) + 64) + 10_000_000n });
  dom0?.flush();
  if (mech) mech.requests.forEach((r, i) => { det[i] = r.tsc; });
  const count = Math.min(k, det.length, dom0At.length);
  if (count < N) throw new Error(`bench trigger ${c.mech}: ${count} of ${N} requests completed (issued ${k}, detected ${det.length}, notified ${dom0At.length})`);
  const ns = (cyc: bigint | number) => Number(cyc) * 1e6 / freqKhz;
  const tr = prof.traceRecord.value, launch = prof.vmiLaunch.value;
  const hasTrace = c.mech !== 'dom0-poll';
  const detect: number[] = [], trace: number[] = [], notify: number[] = [], start: number[] = [], hd: number[] = [], hn: number[] = [];
  for (let i = 0; i < count; i++) {
    detect.push(ns(det[i] - t0[i]));
    if (hasTrace) trace.push(ns(det[i] - t0[i] + BigInt(tr)));
    const n = ns(dom0At[i] - t0[i] + BigInt(hasTrace ? tr : 0));
    notify.push(n);
    start.push(n + (hasTrace ? ns(launch) : 0));
    hd.push((hDet[i] - h0[i]) * 1e6);
    hn.push((hDom0[i] - h0[i]) * 1e6);
  }
  const rdtscExits = d.vcpus.reduce((n, v) => n + (v.stats.exits.get(EXIT_REASON_RDTSC) ?? 0), 0);
  const busy = Number(m.vcycles - idleTotal);
  const rdtscCount = c.mech === 'vmfunc' || c.mech === 'vmfunc-tbuf' ? rdtscExits : N * (G + 1);
  const name = c.mech === 'dom0-poll' ? `dom0-poll P=${c.pollMs ?? 10}ms` : c.mech;
  return {
    name, mech: c.mech, profile: prof.name, requests: count,
    rdtsc_per_s: Math.round(rdtscCount / (busy / (freqKhz * 1000))),
    modelled_ns: { detect: percentiles(detect), trace: hasTrace ? percentiles(trace) : null, notify: percentiles(notify), vmi_start: percentiles(start) },
    host_ns: { detect: percentiles(hd), notify: percentiles(hn) },
    request_cost_cycles: requestCost,
    woken_by: woken,
    host_ms: Math.round(performance.now() - hostStart),
  };
}

export interface TriggerBenchOptions {
  profile?: string; requests?: number; rdtscLoop?: number; pollMs?: number[]; rates?: number[]; seed?: number;
  /** Called before and after each case (done of total). */
  onProgress?: (done: number, total: number, what: string) => void;
}

export interface TriggerBench {
  /** The guest: the hand-encoded loop above ('tvm'), or the bundled Linux (src/bench/trigger-linux.ts). */
  guest: 'tvm' | 'linux';
  profile: string; freq_khz: number; mechanisms: TriggerResult[]; rdtsc_rate: TriggerResult[];
}

export function benchTrigger(o: TriggerBenchOptions = {}): TriggerBench {
  const profile = o.profile ?? 'haswell', requests = o.requests ?? 1000, W = o.rdtscLoop ?? 1000, seed = o.seed ?? 1;
  const cases: TriggerCase[] = [
    { mech: 'vmfunc', rdtscLoop: W, requests, seed },
    { mech: 'vmfunc-tbuf', rdtscLoop: W, requests, seed },
    { mech: 'vmcall', rdtscLoop: W, requests, seed },
    { mech: 've', rdtscLoop: W, requests, seed },
    ...(o.pollMs ?? [1, 10]).map((p): TriggerCase => ({ mech: 'dom0-poll', rdtscLoop: W, requests, pollMs: p, seed })),
  ];
  const rateLoops = o.rates ?? [10, 100, 1000, 10000, 100000];
  const total = rateLoops.length + cases.length;
  let done = 0;
  const run = (c: TriggerCase, what: string) => {
    o.onProgress?.(done, total, what);
    const r = runTriggerCase(c, profile);
    o.onProgress?.(++done, total, what);
    return r;
  };
  const rates = rateLoops.map((w) => run({ mech: 'vmfunc', rdtscLoop: w, requests, seed }, `vmfunc, RDTSC every ${w} loop iterations`));
  const mechanisms = cases.map((c) => run(c, c.mech === 'dom0-poll' ? `dom0-poll P=${c.pollMs}ms` : c.mech));
  return { guest: 'tvm', profile, freq_khz: getProfile(profile).freqKhz.value, mechanisms, rdtsc_rate: rates };
}

const fmt = (ns: number) => ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : ns >= 1e3 ? `${(ns / 1e3).toFixed(2)} us` : `${ns.toFixed(0)} ns`;
const trio = (p: Pcts | null) => p ? `${fmt(p.p50)} / ${fmt(p.p90)} / ${fmt(p.p99)}` : '-';

export function formatTriggerBench(b: TriggerBench): string {
  const pad = (s: string, n: number) => s.padEnd(n);
  const lines: string[] = [];
  const what = b.guest === 'linux' ? ', the bundled Linux (vmibench: VMFUNC, then a ~5 ms computation or nanosleep)' : '';
  lines.push(`bench trigger: profile ${b.profile} (${(b.freq_khz / 1e6).toFixed(2)} GHz)${what}, ${b.mechanisms[0]?.requests ?? 0} requests per row; p50 / p90 / p99`);
  lines.push('');
  const head = ['mechanism', 'detect (model)', 'trace record (model)', 'Dom0 notified (model)', 'VMI first insn (model)', 'detect (host)', 'notify (host)', 'req cycles'];
  const widths = [18, 32, 32, 34, 34, 32, 32, 10];
  const row = (cells: string[]) => cells.map((c, i) => pad(c, widths[i])).join(' ').trimEnd();
  lines.push(row(head));
  for (const r of b.mechanisms) {
    lines.push(row([r.name, trio(r.modelled_ns.detect), trio(r.modelled_ns.trace), trio(r.modelled_ns.notify), trio(r.modelled_ns.vmi_start),
      trio(r.host_ns.detect), trio(r.host_ns.notify), String(r.request_cost_cycles)]));
  }
  if (b.rdtsc_rate.length) {
    lines.push('');
    lines.push('VMFUNC + RDTSC emulation: detection latency against the guest\'s RDTSC rate');
    lines.push(row(['RDTSC/s', 'detect (model)', 'Dom0 notified (model)', 'detect (host)']));
    for (const r of b.rdtsc_rate) lines.push(row([String(r.rdtsc_per_s), trio(r.modelled_ns.detect), trio(r.modelled_ns.notify), trio(r.host_ns.detect)]));
  }
  if (b.guest === 'linux') {
    lines.push('');
    lines.push('The kernel\'s RDTSC rate while the requests were made (RDTSC exits per second of busy virtual time): ' +
      b.mechanisms.map((r) => `${r.name} ${r.rdtsc_per_s ?? '-'}/s`).join(', ') + '.');
    lines.push('spin: detected at the kernel\'s next RDTSC (its 250 Hz tick); sleep: at nanosleep\'s clock read.');
  }
  lines.push('');
  lines.push('(b) = detection + the profile\'s trace-record cost; (c) adds VIRQ delivery + Dom0 wake-up, or the poll; (d) adds the profile\'s');
  lines.push('VMI launch (assumed), except dom0-poll whose VMI program is resident. #VE = in-guest #VE handler + VMCALL (the #VE delivery');
  lines.push('is taken from the profile, the VMCALL is executed). Woken by: ' +
    b.mechanisms.map((r) => `${r.name} ${Object.entries(r.woken_by).map(([k, v]) => `${k}:${v}`).join(',')}`).join('; '));
  return lines.join('\n');
}
