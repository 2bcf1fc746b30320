// `vmfunc-vmi run` with Dom0's launch module: VMI programs started on demand
// (in sandbox threads) beside the guest, in one of three modes (LaunchMode,
// src/dom0/launch.ts):
//   vtime   (default) a co-simulation on the one virtual clock: the runner
//           waits for each program's next libvmi call, runs the guest up to
//           that call's modelled instant (src/dom0/vtime.ts), where a timer on
//           Dom0's CPU serves it. Deterministic on any host, at any load.
//   worker  the program races the guest on host time: the guest runs in
//           slices and calls are served between them (for experiments; what
//           the guest does meanwhile depends on the host).
//   pause   the program runs to its end at the next slice boundary while the
//           guest waits ('inline' is its old name). Deterministic.
import { prepareRun, summarizeRun, type PreparedRun, type RunOptions, type RunSummary } from './run.js';
import type { StopReason } from './xen/sched.js';
import type { Domain } from './xen/domain.js';
import { LaunchModule, DEFAULT_LAUNCH_CONFIG, launchMode, type LaunchConfig, type LaunchMode } from './dom0/launch.js';
import type { Dom0Vtime } from './dom0/vtime.js';
import { loadProfile, type Profile } from './dom0/profile.js';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface LaunchRunOptions extends RunOptions {
  launchConfig?: LaunchConfig;
  /** 'vtime' (default): on virtual time, deterministic; 'worker': host-time race; 'pause' (alias 'inline'): the guest waits. */
  launchMode?: LaunchMode | 'inline';
  /** Programs running at once (default: the launch configuration's, else DEFAULT_VMI_CONCURRENCY; pause mode: one). */
  vmiConcurrency?: number;
  /** Guest instructions per slice between Dom0's turns (default 200,000). */
  sliceInsns?: bigint;
  /** The launch module's log and each program's output. */
  onLaunchLog?: (line: string) => void;
  /**
   * The LibVMI profile the programs read (src/dom0/profile.ts). Default: for a Linux bzImage, the
   * linux.profile.json beside it (firmware/linux/profile.py writes one); otherwise the TVM's.
   */
  vmiProfile?: string;
}

/** The profile for a run: the one asked for, a Linux kernel's own beside it, or undefined (the TVM's). */
function runProfile(p: PreparedRun, asked: string | undefined): Profile | undefined {
  if (asked !== undefined) return loadProfile(asked);
  if (!p.linux) return undefined;
  const beside = join(dirname(p.image), 'linux.profile.json');
  return existsSync(beside) ? loadProfile(beside) : undefined;
}

export interface VmiProgramSummary {
  parameter: number;
  eptp_index: number;
  program: string;
  args: string[];
  exit_code: number | null;
  error?: string;
  stdout: string;
  stderr: string;
  host_ms?: number;
  launch_ms?: number;
  libvmi_calls?: number;
  /** Guest instructions retired while the program ran (pause mode: those of the slice's rest; the guest waited for the program). */
  guest_insns_during?: number;
  /** vtime: the program's modelled start (the daemon's pass) and end, virtual cycles. */
  start_vcycles?: number;
  end_vcycles?: number;
  /** vtime: the Wasm instructions the program executed (its compute, counted in the sandbox). */
  wasm_insns?: number;
  /** The program's copy-before-write snapshot, when it had one (src/xen/snapshot.ts). */
  snapshot?: ProgramSnapshotSummary;
}

/** A snapshot's figures in `run --json`: what it protected and copied, modelled and host cost. */
export interface ProgramSnapshotSummary {
  protected_entries: number;
  views: number;
  copies: number;
  max_copies: number;
  /** The copy bound was reached: the snapshot was abandoned and the program read live memory. */
  exhausted: boolean;
  pass_vcycles: number;
  copy_vcycles: number;
  pass_host_ms: number;
  copy_host_ms: number;
}

export interface LaunchRunSummary extends RunSummary { vmi_programs: VmiProgramSummary[] }

const yieldToDom0 = () => new Promise<void>((r) => setImmediate(r));

/** Did this stop only end the slice (the host's budget), not the run? */
function sliceOver(stop: StopReason, limit: bigint, end: bigint, opts: LaunchRunOptions): boolean {
  return stop.kind === 'limit' && stop.which === 'max-insns' && limit === end && limit !== opts.maxInsns;
}

/** Runs the guest for up to `n` instructions (a slice), and past no VM entry at or after `until`; the run's own limits apply. */
function runSlice(d: Domain, n: bigint, opts: LaunchRunOptions, until?: bigint): { stop: StopReason; over: boolean } {
  const end = d.machine.insnsRetired + n;
  const limit = opts.maxInsns !== undefined && opts.maxInsns < end ? opts.maxInsns : end;
  const stop = d.sched.run({ maxInsns: limit, maxVcycles: opts.maxVtime, hostVcycles: until });
  return { stop, over: sliceOver(stop, limit, end, opts) };
}

/**
 * vtime: the guest in lock-step with Dom0 on the one virtual clock. Dom0's wake-ups (the xentrace
 * daemon's VIRQs and polls, src/dom0/dom0.ts) are timers on Dom0's CPU, and each running program's
 * next event (its next libvmi call, or its end, src/dom0/vtime.ts) waits at its instant; the
 * runner brings the guest to the earliest of them -- the first instruction boundary at or after it
 * -- and serves it there (Dom0's timers first on a tie), so a program started by a wake-up reads the
 * guest as it is at each call's instant. The guest runs in instruction slices of at most half the
 * remaining distance: each instruction costs at least a cycle, so a slice never passes the instant
 * by more than its last instruction's cost, and the run stops at the first VM entry after it (an
 * exit's cost or a halt may pass it: a halted guest changes no memory). Slicing by the host's
 * budget is invisible to the guest (Scheduler.run). While the guest is paused (vmi_pause_vm) the
 * clock moves on without it. Before serving anything the runner waits (in host time) until every
 * running program has posted its next event.
 */
async function runOnVirtualTime(p: PreparedRun, vt: Dom0Vtime, opts: LaunchRunOptions): Promise<StopReason> {
  const d = p.d, m = d.machine, sched = d.sched;
  const slice = opts.sliceInsns ?? 200_000n;
  sched.dom0AtEntries = false;
  let stop: StopReason | undefined;
  for (;;) {
    const prog = vt.busy ? await vt.next() : undefined;
    if (vt.busy && !prog) continue;
    if (stop) {                                   // the guest has stopped: Dom0 serves at once
      if (!prog) return stop;
      vt.serve(prog);
      continue;
    }
    const wake = d.timers.nextDeadline(sched.dom0Cpu);
    const event = prog?.pending!.at;
    if (wake !== undefined && wake <= m.vcycles && (event === undefined || wake <= event)) { sched.dom0Turn(); continue; }
    if (prog && event! <= m.vcycles) { vt.serve(prog); continue; }
    const to = wake === undefined ? event : event === undefined || wake < event ? wake : event;
    let n = slice;
    if (to !== undefined) {
      const half = (to - m.vcycles) / 2n;
      n = half < 1n ? 1n : half < slice ? half : slice;
    }
    const r = runSlice(d, n, opts, to);
    if (r.stop.kind === 'paused') {               // no vCPU runnable: the clock moves on to the next event
      if (to === undefined) stop = r.stop;
      else m.addVcycles(to - m.vcycles);
      continue;
    }
    if (r.stop.kind === 'dom0' || r.stop.kind === 'host') continue;  // an instant came: served above
    if (!r.over) stop = r.stop;
  }
}

/** worker and pause: the guest in slices, Dom0's programs served between them. */
async function runInSlices(p: PreparedRun, launch: LaunchModule, mode: LaunchMode, opts: LaunchRunOptions): Promise<StopReason> {
  const slice = opts.sliceInsns ?? 200_000n;
  for (;;) {
    while (launch.paused > 0) await yieldToDom0(); // vmi_pause_vm() holds the guest
    const r = runSlice(p.d, slice, opts);
    if (r.stop.kind === 'paused') { await yieldToDom0(); continue; } // every vCPU waits for Dom0
    if (!r.over) return r.stop;
    if (launch.busy) {
      if (mode === 'pause') await launch.drain();
      else await yieldToDom0();
    }
  }
}

export async function runImageWithLaunches(opts: LaunchRunOptions = {}): Promise<LaunchRunSummary> {
  const log = opts.onLaunchLog ?? (() => {});
  const vmiOpts = opts.vmi || {};
  let launch: LaunchModule | undefined;
  const p = prepareRun({
    ...opts,
    vmi: { ...vmiOpts, onRequest: (h, d) => { void launch?.launch(h); vmiOpts.onRequest?.(h, d); } },
  });
  const mode = launchMode(opts.launchMode);
  const cfg = opts.launchConfig ?? DEFAULT_LAUNCH_CONFIG;
  launch = new LaunchModule(p.d, opts.vmiConcurrency !== undefined ? { ...cfg, concurrency: opts.vmiConcurrency } : cfg, mode, runProfile(p, opts.vmiProfile), log);
  // Dom0 answers each request at its program's end: the hypervisor's request ring bounds those in flight.
  if (p.dom0) p.dom0.respondOnRead = false;
  opts.beforeRun?.(p.d, p.layout);
  const stop = launch.vtime ? await runOnVirtualTime(p, launch.vtime, opts) : await runInSlices(p, launch, mode, opts);
  // Dom0's last read of the trace buffers first: requests raised just before the guest stopped
  // get their programs too, and are waited for with the rest.
  p.dom0?.flush();
  await launch.close();
  const summary = summarizeRun(p, opts, stop);
  const programs: VmiProgramSummary[] = launch.launches.map((l) => ({
    parameter: l.handled.request.parameter, eptp_index: l.handled.request.eptpIndex, program: l.program, args: l.args,
    exit_code: l.result?.exitCode ?? null, ...(l.result?.error ? { error: l.result.error } : {}),
    stdout: l.result?.stdout ?? '', stderr: l.result?.stderr ?? '',
    host_ms: l.result ? Math.round(l.result.hostNs / 1e3) / 1e3 : undefined,
    launch_ms: l.result?.launchNs !== undefined ? Math.round(l.result.launchNs / 1e3) / 1e3 : undefined,
    libvmi_calls: l.result?.calls, guest_insns_during: l.guestInsnsDuring,
    start_vcycles: l.startVcycles !== undefined ? Number(l.startVcycles) : undefined,
    end_vcycles: l.endVcycles !== undefined ? Number(l.endVcycles) : undefined,
    wasm_insns: l.result?.insns,
    ...(l.snapshot ? { snapshot: {
      protected_entries: l.snapshot.protectedEntries, views: l.snapshot.views, copies: l.snapshot.copies,
      max_copies: l.snapshot.maxCopies, exhausted: l.snapshot.exhausted,
      pass_vcycles: l.snapshot.passCycles, copy_vcycles: l.snapshot.copyCycles,
      pass_host_ms: Math.round(l.snapshot.passHostNs / 1e3) / 1e3, copy_host_ms: Math.round(l.snapshot.copyHostNs / 1e3) / 1e3,
    } } : {}),
  }));
  return { ...summary, vmi_programs: programs };
}
