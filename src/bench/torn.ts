// `vmfunc-vmi bench torn` (issue 11, item 3): how often a VMI program's walk of a changing guest
// is torn. The TVM boots the churn scenario (kernel command line "init=churn initarg=N",
// firmware/tvm/user/churn.c): N VMI requests one after another while short-lived tasks are created
// and reaped all the time. Each request launches process-list (vmi/README.md): exit 0 with no
// retry line is a walk consistent at once; exit 0 after "walk i of n torn" lines on stderr, one
// consistent after a retry; exit 3 ("inconsistent snapshot"), torn on every try and reported.
// Per Dom0 mode (pause: the guest waits; vtime: the guest runs on, on virtual time; worker: the
// host-time race, not deterministic; snapshot: vtime with every program on a copy-before-write
// snapshot of guest memory taken at its launch, src/xen/snapshot.ts) and per cost profile.
import { runImageWithLaunches, type VmiProgramSummary } from '../run-launch.js';
import { getProfile } from '../xen/cost-profiles.js';
import { DEFAULT_LAUNCH_CONFIG, type LaunchConfig } from '../dom0/launch.js';

export type TornMode = 'pause' | 'vtime' | 'snapshot' | 'worker';
export const TORN_MODES: readonly TornMode[] = ['pause', 'vtime', 'snapshot', 'worker'];

/** The default programs, each on a snapshot (launch configuration {"name": ..., "snapshot": true}). */
const SNAPSHOT_CONFIG: LaunchConfig = {
  ...DEFAULT_LAUNCH_CONFIG,
  snapshot: Object.fromEntries(Object.keys(DEFAULT_LAUNCH_CONFIG.programs).map((k) => [k, true])),
};
export const TORN_PROFILES: readonly string[] = ['placeholder', 'haswell', 'icelake-sp'];

export interface TornRow {
  mode: TornMode;
  profile: string;
  deterministic: boolean;
  requests: number;
  /** Programs launched (one per request the guest raised). */
  walks: number;
  consistent: number;
  retried: number;
  torn: number;
  /** Programs that ended otherwise (an error, another exit code). */
  other: number;
  /** Retry lines over all walks. */
  retries: number;
  guest_insns_during: number;
  /** snapshot mode: frames copied over all walks, and walks whose snapshot hit its copy bound. */
  snapshot_copies: number;
  snapshot_exhausted: number;
  guest_exit: string;
  host_ms: number;
}

export interface TornBench { requests: number; cmdline: string; rows: TornRow[] }

export interface TornOptions {
  requests?: number;
  modes?: readonly TornMode[];
  profiles?: readonly string[];
  image?: string;
  onProgress?: (done: number, total: number, what: string) => void;
}

const RETRY = / torn \(.*\); walking again$/;
const INCONSISTENT_EXIT = 3;

export type WalkOutcome = 'consistent' | 'retried' | 'torn' | 'other';

/** One program's outcome, from its exit code and its stderr (vmi/README.md, "Retries"). */
export function walkOutcome(p: VmiProgramSummary): { outcome: WalkOutcome; retries: number } {
  const retries = p.stderr.split('\n').filter((l) => RETRY.test(l)).length;
  if (p.exit_code === 0) return { outcome: retries ? 'retried' : 'consistent', retries };
  if (p.exit_code === INCONSISTENT_EXIT) return { outcome: 'torn', retries };
  return { outcome: 'other', retries };
}

export function churnCmdline(requests: number): string { return `init=churn initarg=${requests}`; }

export async function benchTorn(o: TornOptions = {}): Promise<TornBench> {
  const requests = o.requests ?? 20;
  const modes = o.modes ?? TORN_MODES;
  const profiles = (o.profiles ?? TORN_PROFILES).map((p) => getProfile(p).name);
  const cmdline = churnCmdline(requests);
  const rows: TornRow[] = [];
  const total = modes.length * profiles.length;
  for (const mode of modes) {
    for (const profile of profiles) {
      o.onProgress?.(rows.length, total, `${mode} ${profile}`);
      const t0 = performance.now();
      const s = await runImageWithLaunches({
        profile, image: o.image, cmdline, launchMode: mode === 'snapshot' ? 'vtime' : mode,
        ...(mode === 'snapshot' ? { launchConfig: SNAPSHOT_CONFIG } : {}),
      });
      const row: TornRow = {
        mode, profile, deterministic: mode !== 'worker', requests, walks: s.vmi_programs.length,
        consistent: 0, retried: 0, torn: 0, other: 0, retries: 0, guest_insns_during: 0,
        snapshot_copies: 0, snapshot_exhausted: 0,
        guest_exit: s.exit.detail, host_ms: Math.round(performance.now() - t0),
      };
      for (const p of s.vmi_programs) {
        const w = walkOutcome(p);
        row[w.outcome]++;
        row.retries += w.retries;
        row.guest_insns_during += p.guest_insns_during ?? 0;
        row.snapshot_copies += p.snapshot?.copies ?? 0;
        if (p.snapshot?.exhausted) row.snapshot_exhausted++;
      }
      rows.push(row);
    }
  }
  o.onProgress?.(total, total, 'done');
  return { requests, cmdline, rows };
}

/** The figures that must repeat in a deterministic mode (host time left out). */
export function tornFigures(r: TornRow): Omit<TornRow, 'host_ms'> {
  const { host_ms: _h, ...rest } = r;
  return rest;
}

export function formatTornBench(b: TornBench): string {
  const L: string[] = [];
  L.push(`bench torn: ${b.requests} VMI requests (process-list) while the guest creates and reaps tasks (kernel command line "${b.cmdline}")`);
  L.push('');
  const head = ['mode', 'profile', 'walks', 'consistent', 'after retry', 'torn (reported)', 'other', 'retries', 'guest insns during walks'];
  const label = (m: TornMode) => m === 'worker' ? 'worker (host time, varies)' : m === 'snapshot' ? 'vtime + snapshot' : m;
  const body = b.rows.map((r) => [label(r.mode), r.profile, String(r.walks), String(r.consistent), String(r.retried),
    String(r.torn), String(r.other), String(r.retries), String(r.guest_insns_during)]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((x) => x[i].length)));
  const line = (c: string[]) => '| ' + c.map((x, i) => i < 2 ? x.padEnd(w[i]) : x.padStart(w[i])).join(' | ') + ' |';
  L.push(line(head));
  L.push('|' + w.map((x, i) => i < 2 ? '-'.repeat(x + 2) : '-'.repeat(x + 1) + ':').join('|') + '|');
  for (const r of body) L.push(line(r));
  L.push('');
  L.push('consistent: exit 0 at the first walk; after retry: exit 0 after "walk i of n torn" lines; torn: exit 3, "inconsistent snapshot".');
  const snaps = b.rows.filter((r) => r.mode === 'snapshot');
  if (snaps.length) {
    L.push(`vtime + snapshot: each program reads a copy-before-write snapshot taken at its launch; frames copied: ` +
      snaps.map((r) => `${r.profile} ${r.snapshot_copies}${r.snapshot_exhausted ? ` (${r.snapshot_exhausted} walks hit the copy bound)` : ''}`).join(', ') + '.');
  }
  L.push('pause, vtime and vtime + snapshot are deterministic (the same figures every run); worker races the guest on host time.');
  return L.join('\n');
}
