// `vmfunc-vmi run` with Dom0's launch module: the guest runs in slices so that
// VMI programs started on demand (in sandbox threads) are served between them,
// concurrently with the guest -- no pause -- or, in the inline mode used by
// tests, to completion at the next slice boundary (deterministic).
import { prepareRun, summarizeRun, type RunOptions, type RunSummary } from './run.js';
import type { StopReason } from './xen/sched.js';
import { LaunchModule, DEFAULT_LAUNCH_CONFIG, type LaunchConfig, type LaunchMode } from './dom0/launch.js';

export interface LaunchRunOptions extends RunOptions {
  launchConfig?: LaunchConfig;
  /** 'worker' (default): programs run concurrently with the guest; 'inline': deterministic. */
  launchMode?: LaunchMode;
  /** Guest instructions per slice between Dom0's turns (default 200,000). */
  sliceInsns?: bigint;
  /** The launch module's log and each program's output. */
  onLaunchLog?: (line: string) => void;
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
  /** Guest instructions retired while the program ran (0 when inline: the guest waited). */
  guest_insns_during?: number;
}

export interface LaunchRunSummary extends RunSummary { vmi_programs: VmiProgramSummary[] }

const yieldToDom0 = () => new Promise<void>((r) => setImmediate(r));

export async function runImageWithLaunches(opts: LaunchRunOptions = {}): Promise<LaunchRunSummary> {
  const log = opts.onLaunchLog ?? (() => {});
  const vmiOpts = opts.vmi || {};
  let launch: LaunchModule | undefined;
  const p = prepareRun({
    ...opts,
    vmi: { ...vmiOpts, onRequest: (h, d) => { void launch?.launch(h); vmiOpts.onRequest?.(h, d); } },
  });
  const mode = opts.launchMode ?? 'worker';
  launch = new LaunchModule(p.d, opts.launchConfig ?? DEFAULT_LAUNCH_CONFIG, mode, undefined, log);
  opts.beforeRun?.(p.d, p.layout);
  const m = p.d.machine;
  const slice = opts.sliceInsns ?? 200_000n;
  let stop: StopReason;
  for (;;) {
    while (launch.paused > 0) await yieldToDom0(); // vmi_pause_vm() holds the guest
    const end = m.insnsRetired + slice;
    const limit = opts.maxInsns !== undefined && opts.maxInsns < end ? opts.maxInsns : end;
    stop = p.d.sched.run({ maxInsns: limit, maxVcycles: opts.maxVtime });
    if (stop.kind === 'paused') { await yieldToDom0(); continue; } // every vCPU waits for Dom0
    const sliceOver = stop.kind === 'limit' && stop.which === 'max-insns' && limit === end && limit !== opts.maxInsns;
    if (!sliceOver) break;
    if (launch.busy) {
      if (mode === 'inline') await launch.drain();
      else await yieldToDom0();
    }
  }
  await launch.close();
  const summary = summarizeRun(p, opts, stop);
  const programs: VmiProgramSummary[] = launch.launches.map((l) => ({
    parameter: l.handled.request.parameter, eptp_index: l.handled.request.eptpIndex, program: l.program, args: l.args,
    exit_code: l.result?.exitCode ?? null, ...(l.result?.error ? { error: l.result.error } : {}),
    stdout: l.result?.stdout ?? '', stderr: l.result?.stderr ?? '',
    host_ms: l.result ? Math.round(l.result.hostNs / 1e3) / 1e3 : undefined,
    launch_ms: l.result?.launchNs !== undefined ? Math.round(l.result.launchNs / 1e3) / 1e3 : undefined,
    libvmi_calls: l.result?.calls, guest_insns_during: l.guestInsnsDuring,
  }));
  return { ...summary, vmi_programs: programs };
}
