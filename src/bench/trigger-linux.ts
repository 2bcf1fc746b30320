// `vmfunc-vmi bench trigger --guest linux`: the paper's request path on a real kernel (issue 14).
// The bundled Linux boots and runs firmware/linux/initramfs/vmibench.c, which turns the trigger on
// (vmi_trigger(1): RDTSC exiting) and issues N requests, each at a random phase of the 250 Hz tick:
// an OUT to the bench's marker port 0x510 (the request's start, t0), VMFUNC(0, 11), then either
//   spin   ~5 ms of computation (more than a tick) without a system call or RDTSC: the request waits for the kernel's
//          own next RDTSC (the tick's sched_clock and timekeeping reads), as a busy requester would;
//   sleep  nanosleep(1 ms): the kernel reads the clock on the way into the sleep.
// Detection is Xen's RDTSC handler (src/xen/trigger.ts onRdtsc), Dom0 is woken by VIRQ_VMI
// (src/dom0/dom0.ts); the trace record and the VMI program's launch are modelled from the cost
// profile exactly as the TVM rows of `bench trigger` model them (src/bench/trigger.ts). No VMI
// program runs: the bench measures the path to it, so the guest runs undisturbed.
import { runImage } from '../run.js';
import { getProfile } from '../xen/cost-profiles.js';
import { EXIT_REASON_RDTSC } from '../vmcs.js';
import { percentiles, type TriggerResult, type TriggerBench } from './trigger.js';

export type LinuxTriggerMode = 'spin' | 'sleep';

/** The port vmibench.c writes the request's number to just before its VMFUNC. */
export const VMIBENCH_MARK_PORT = 0x510;

export interface LinuxTriggerCase { mode: LinuxTriggerMode; requests: number; seed?: number }

export function runLinuxTriggerCase(c: LinuxTriggerCase, profileName = 'haswell'): TriggerResult {
  const prof = getProfile(profileName);
  const hostStart = performance.now();
  const t0: bigint[] = [], h0: number[] = [];
  const det: bigint[] = [], hDet: number[] = [];
  const dom0At: bigint[] = [], hDom0: number[] = [];
  const woken: Record<string, number> = {};
  let rdtscAt0 = 0, haltedAt0 = 0n, vcyclesAt0 = 0n;
  let rdtscExits = 0, busy = 0n;
  const seed = c.seed ?? 1;
  const s = runImage({
    image: 'linux', profile: prof,
    cmdline: `console=ttyS0 nolapic panic=-1 vmireq=0 run="/bin/vmibench ${c.requests} ${c.mode} ${seed}"`,
    maxInsns: 200_000_000n + BigInt(c.requests) * 60_000_000n,
    onLog: (line) => { if (line.includes('VMI request:')) hDet.push(performance.now()); },
    beforeRun: (d) => {
      const m = d.machine, v = d.vcpus[0];
      d.io.register(VMIBENCH_MARK_PORT, 1, {
        name: 'bench-marker', read: () => 0xff,
        write: () => {
          if (t0.length === 0) { rdtscAt0 = v.stats.exits.get(EXIT_REASON_RDTSC) ?? 0; haltedAt0 = v.stats.haltedCycles; vcyclesAt0 = m.vcycles; }
          t0.push(m.vcycles); h0.push(performance.now());
        },
      });
      // The window ends at the last request's notification: the kernel's RDTSC rate while requests are made.
      v.exitHooks.push(() => {
        if (t0.length !== c.requests || dom0At.length !== c.requests || busy !== 0n) return;
        rdtscExits = (v.stats.exits.get(EXIT_REASON_RDTSC) ?? 0) - rdtscAt0;
        busy = m.vcycles - vcyclesAt0 - (v.stats.haltedCycles - haltedAt0);
      });
    },
    vmi: {
      onRequest: (h) => {
        det.push(h.detectedAt); dom0At.push(h.dom0At); hDom0.push(performance.now());
        woken[h.wokenBy] = (woken[h.wokenBy] ?? 0) + 1;
      },
    },
  });
  if (s.exit.status !== 0 || t0.length < c.requests || dom0At.length < c.requests) {
    throw new Error(`bench trigger --guest linux (${c.mode}): ${dom0At.length} of ${c.requests} requests reached Dom0 ` +
      `(${t0.length} made; the run ended: ${s.exit.reason}, status ${s.exit.status}: ${s.exit.detail})`);
  }
  const freqKhz = s.tsc_khz;
  const ns = (cyc: bigint | number) => Number(cyc) * 1e6 / freqKhz;
  const tr = prof.traceRecord.value, launch = prof.vmiLaunch.value;
  const detect: number[] = [], trace: number[] = [], notify: number[] = [], start: number[] = [], hd: number[] = [], hn: number[] = [];
  for (let i = 0; i < c.requests; i++) {
    detect.push(ns(det[i] - t0[i]));
    trace.push(ns(det[i] - t0[i] + BigInt(tr)));
    const n = ns(dom0At[i] - t0[i] + BigInt(tr));
    notify.push(n);
    start.push(n + ns(launch));
    hd.push((hDet[i] - h0[i]) * 1e6);
    hn.push((hDom0[i] - h0[i]) * 1e6);
  }
  return {
    name: `linux ${c.mode}`, mech: 'vmfunc', profile: prof.name, requests: c.requests,
    rdtsc_per_s: busy > 0n ? Math.round(rdtscExits / (Number(busy) / (freqKhz * 1000))) : null,
    modelled_ns: { detect: percentiles(detect), trace: percentiles(trace), notify: percentiles(notify), vmi_start: percentiles(start) },
    host_ns: { detect: percentiles(hd), notify: percentiles(hn) },
    // vmibench's request is XOR EAX,EAX; MOV ECX,11; VMFUNC, as the TVM rows' guest: two one-cycle
    // instructions (the flat cost class, assembly/ops.ts) and the profile's VMFUNC.
    request_cost_cycles: (prof.insn.VMFUNC?.value ?? 1) + 2,
    woken_by: woken,
    host_ms: Math.round(performance.now() - hostStart),
  };
}

/** `bench trigger --guest linux`: the spin and sleep rows, `requests` each. */
export function benchTriggerLinux(o: { profile?: string; requests?: number; seed?: number; onProgress?: (done: number, total: number, what: string) => void } = {}): TriggerBench {
  const profile = o.profile ?? 'haswell', requests = o.requests ?? 20, seed = o.seed ?? 1;
  const modes: LinuxTriggerMode[] = ['spin', 'sleep'];
  const rows = modes.map((mode, i) => {
    o.onProgress?.(i, modes.length, `linux ${mode}`);
    const r = runLinuxTriggerCase({ mode, requests, seed }, profile);
    o.onProgress?.(i + 1, modes.length, `linux ${mode}`);
    return r;
  });
  return { guest: 'linux', profile, freq_khz: getProfile(profile).freqKhz.value, mechanisms: rows, rdtsc_rate: [] };
}
