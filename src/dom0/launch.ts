// Dom0's dispatch, the paper's VMI launch module (its third module): for
// each VMI request Dom0 reads from the trace buffers, look up the VMI
// program the request's parameter names (a launch configuration with
// defaults), and start it on demand in the sandbox with argv [program,
// domid, eptp_index]; nothing stays resident. Programs read the guest
// through one LibVMI instance over the domain's original view (view 0, the
// host p2m).
//
// Modes (LaunchMode): 'vtime' (the default) runs the program in its sandbox
// thread on Dom0's virtual time (vtime.ts): deterministic, the guest runs
// meanwhile by the model; 'worker' runs it on host time, racing the guest
// (what the guest does meanwhile depends on the host's load: for
// experiments); 'pause' runs it in its sandbox thread to its end while the
// guest waits, one program at a time ('inline' is its old name). Every mode
// keeps the same limits (the sandbox's, src/dom0/sandbox/limits.ts).
//
// Requests are bounded per domain: each holds a slot of the hypervisor's
// request ring (src/xen/vm_event.ts) until its program ends -- the launch
// module answers then (VmiTrigger.vmEventResponse) -- and at most
// `concurrency` programs run at once; the other requests wait here, in the
// order Dom0 read them.
//
// A program may run on a copy-before-write snapshot of the guest's RAM taken
// at its launch (src/xen/snapshot.ts): configured per program as
// {"name": ..., "snapshot": true}, it reads memory as of the launch instant
// while the guest runs on; released at the program's end. Pause mode takes
// none (the guest waits anyway).
import { existsSync } from 'node:fs';
import { readInputFile, InputFileError } from '../util/files.js';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { Domain } from '../xen/domain.js';
import type { HandledRequest } from './dom0.js';
import { Vmi, eptDomainAccess } from './libvmi/index.js';
import { loadProfile, type Profile } from './profile.js';
import { Sandbox, DEFAULT_VMI_LIMITS, type SandboxResult } from './sandbox/index.js';
import { Dom0Vtime } from './vtime.js';
import type { MemSnapshot, SnapshotStats } from '../xen/snapshot.js';
import { vmiProgramCosts } from '../xen/cost-profiles.js';
import { packageRoot } from '../util/paths.js';
import { fmtNs } from '../util/format.js';

export class LaunchConfigError extends Error {}

export interface LaunchConfig {
  /** Program by request parameter ("0".."9"): a bundled program's name or a path to a WASI module. */
  programs: Record<string, string>;
  timeLimitMs: number;
  memoryLimitMiB: number;
  maxCalls?: number;
  /** Where programs' /out files land on the host (dump-memory). */
  outDir?: string;
  /** Request parameters whose program runs on a copy-before-write snapshot (programs."1": {"snapshot": true}). */
  snapshot?: Record<string, boolean>;
  /** Bound on a snapshot's copied frames (default DEFAULT_SNAPSHOT_MAX_COPIES). */
  snapshotMaxCopies?: number;
  /** Programs running at once (default DEFAULT_VMI_CONCURRENCY; pause mode runs one at a time); later requests wait their turn. */
  concurrency?: number;
}

/** Programs running at once per domain by default (`run --vmi-concurrency`; vmi/README.md). */
export const DEFAULT_VMI_CONCURRENCY = 4;

export const DEFAULT_LAUNCH_CONFIG: LaunchConfig = {
  programs: { 0: 'vmi-request', 1: 'process-list', 2: 'syscall-check', 3: 'dump-memory' },
  timeLimitMs: DEFAULT_VMI_LIMITS.timeLimitMs,
  memoryLimitMiB: DEFAULT_VMI_LIMITS.memoryLimitMiB,
};

/** Reads a launch configuration (JSON); errors name the file and the field. */
export function loadLaunchConfig(path: string): LaunchConfig {
  let raw: unknown;
  try { raw = JSON.parse(Buffer.from(readInputFile(path, 'launch configuration', 'the launch configuration')).toString('utf8')); } catch (e) {
    if (e instanceof InputFileError) throw new LaunchConfigError(e.message);
    throw new LaunchConfigError(`${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new LaunchConfigError(`${path}: expected a JSON object`);
  const o = raw as Record<string, unknown>;
  const cfg: LaunchConfig = { ...DEFAULT_LAUNCH_CONFIG, programs: { ...DEFAULT_LAUNCH_CONFIG.programs } };
  for (const [k, v] of Object.entries(o)) {
    switch (k) {
      case 'programs':
        if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new LaunchConfigError(`${path}: "programs" must be an object`);
        for (const [p, prog] of Object.entries(v as Record<string, unknown>)) {
          if (!/^\d+$/.test(p) || Number(p) > 0xffff) throw new LaunchConfigError(`${path}: programs."${p}": the key must be a request parameter (0..65535)`);
          let name = prog;
          if (typeof prog === 'object' && prog !== null && !Array.isArray(prog)) {
            // The object form: {"name": program, "snapshot": true|false}.
            const po = prog as Record<string, unknown>;
            for (const f of Object.keys(po)) if (f !== 'name' && f !== 'snapshot') throw new LaunchConfigError(`${path}: programs."${p}": unknown field "${f}"`);
            if (po.snapshot !== undefined && typeof po.snapshot !== 'boolean') throw new LaunchConfigError(`${path}: programs."${p}".snapshot must be true or false`);
            if (po.snapshot) cfg.snapshot = { ...cfg.snapshot, [p]: true };
            name = po.name;
          }
          if (typeof name !== 'string' || name === '') throw new LaunchConfigError(`${path}: programs."${p}" must be a program name or path, or {"name": ..., "snapshot": true}`);
          cfg.programs[p] = isAbsolute(name) || name.includes('/') ? resolve(dirname(path), name) : name;
        }
        break;
      case 'time_limit_ms': case 'memory_limit_mib': case 'max_calls': case 'snapshot_max_copies': case 'concurrency': {
        if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new LaunchConfigError(`${path}: "${k}" must be a positive integer`);
        if (k === 'time_limit_ms') cfg.timeLimitMs = v; else if (k === 'memory_limit_mib') cfg.memoryLimitMiB = v;
        else if (k === 'max_calls') cfg.maxCalls = v; else if (k === 'concurrency') cfg.concurrency = v; else cfg.snapshotMaxCopies = v;
        break;
      }
      case 'out_dir':
        if (typeof v !== 'string') throw new LaunchConfigError(`${path}: "out_dir" must be a path`);
        cfg.outDir = resolve(dirname(path), v);
        break;
      default: throw new LaunchConfigError(`${path}: unknown field "${k}"`);
    }
  }
  return cfg;
}

/** One launch: the request, the program, its result, and how far the guest ran meanwhile. */
export interface LaunchRecord {
  handled: HandledRequest;
  program: string;
  args: string[];
  result?: SandboxResult;
  /** Guest instructions retired between the launch and the program's end (the guest is not paused). */
  guestInsnsDuring?: number;
  /** 'vtime': the program's modelled start (the daemon's pass) and end, virtual cycles. */
  startVcycles?: bigint;
  endVcycles?: bigint;
  /** The program's snapshot, once released: copies, bound, modelled and host costs. */
  snapshot?: SnapshotStats;
}

/** How a VMI program runs beside the guest (see above); 'inline' is accepted for 'pause'. */
export type LaunchMode = 'vtime' | 'worker' | 'pause';
export const LAUNCH_MODES: readonly (LaunchMode | 'inline')[] = ['vtime', 'worker', 'pause', 'inline'];
export const DEFAULT_LAUNCH_MODE: LaunchMode = 'vtime';

/** A mode's current name ('inline' -> 'pause'). */
export function launchMode(m: LaunchMode | 'inline' | undefined): LaunchMode {
  return m === undefined ? DEFAULT_LAUNCH_MODE : m === 'inline' ? 'pause' : m;
}

export class LaunchModule {
  readonly launches: LaunchRecord[] = [];
  /** 'vtime' mode: the programs' timelines, in lock-step with the runner (src/run-launch.ts). */
  readonly vtime?: Dom0Vtime;
  private readonly pending = new Set<Promise<void>>();
  /** Requests waiting for a free program slot (bounded by the hypervisor's ring: each holds a slot there). */
  private readonly waiting: HandledRequest[] = [];
  private running = 0;
  /** Programs at once: the configuration's, one in pause mode (the guest waits for each in turn). */
  readonly concurrency: number;
  private readonly sandbox: Sandbox;
  private readonly vmi: Vmi;
  private readonly mode: LaunchMode;

  constructor(private readonly d: Domain, private readonly cfg: LaunchConfig = DEFAULT_LAUNCH_CONFIG,
              mode: LaunchMode | 'inline' = DEFAULT_LAUNCH_MODE, profile?: Profile,
              private readonly log: (line: string) => void = () => {}) {
    this.mode = launchMode(mode);
    this.concurrency = this.mode === 'pause' ? 1 : cfg.concurrency ?? DEFAULT_VMI_CONCURRENCY;
    // A spare sandbox thread (the WASI library loaded, no program) cuts a launch from ~100 ms to ~10 ms.
    this.sandbox = new Sandbox({ prewarm: true });
    if (this.mode === 'vtime') this.vtime = new Dom0Vtime(vmiProgramCosts(d.profile), d.tscKhz);
    this.prof = profile ?? defaultProfile();
    this.vmi = this.newVmi();
  }

  private readonly prof: Profile;

  /** A LibVMI instance over view 0; with a snapshot, reading its copies of written frames. */
  private newVmi(snap?: MemSnapshot): Vmi {
    const d = this.d;
    const access = eptDomainAccess(d.machine, {
      id: d.id, name: d.name, memsize: d.memBytes, eptp: () => d.p2m.eptp(),
      pause: () => d.sched.domainPause(), resume: () => { if (d.pauseCount > 0) d.sched.domainUnpause(); },
      snapshotCopy: snap && ((gpa) => snap.copyOf(gpa)),
    });
    return new Vmi(access, { profile: this.prof });
  }

  /** The program's snapshot if configured (none in pause mode, none while another program holds one). */
  private takeSnapshot(key: string, prog: string): MemSnapshot | undefined {
    if (!this.cfg.snapshot?.[key]) return undefined;
    if (this.mode === 'pause') { this.log(`${prog}: no snapshot in pause mode (the guest waits for the program)`); return undefined; }
    const snap = this.d.takeSnapshot(this.cfg.snapshotMaxCopies);
    if (!snap) { this.log(`${prog}: no snapshot: another program holds one; reading live memory`); return undefined; }
    const s = snap.stats;
    this.log(`${prog}: snapshot of guest memory taken: ${s.protectedEntries} EPT leaf entries write-protected in ${s.views} views ` +
      `(${s.passCycles} cycles modelled, ${(s.passHostNs / 1e6).toFixed(3)} ms host)`);
    return snap;
  }

  /** vmi_pause_vm() calls outstanding (the domain's pause count): the runner holds the guest while this is non-zero. */
  get paused(): number { return this.d.pauseCount; }
  get busy(): boolean { return this.pending.size > 0 || this.waiting.length > 0; }

  /**
   * A request from Dom0's daemon: its program starts now if fewer than `concurrency` run, else when
   * one ends (in vtime mode at that program's end instant). Each request's end answers the hypervisor
   * (VmiTrigger.vmEventResponse), freeing its slot in the request ring.
   */
  launch(h: HandledRequest): void {
    if (this.running < this.concurrency) this.begin(h, h.dom0At);
    else this.waiting.push(h);
  }

  /** Starts `h`'s program at `at` (virtual time: when Dom0 got to it); when it ends, the next waiting one starts. */
  private begin(h: HandledRequest, at: bigint): void {
    this.running++;
    let done = false;
    const ended = (endAt: bigint) => {
      if (done) return;
      done = true;
      this.running--;
      this.d.trigger?.vmEventResponse();
      const next = this.waiting.shift();
      if (next) this.begin(next, endAt > next.dom0At ? endAt : next.dom0At);
    };
    const p = this.start(h, at, ended);
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** Starts the program for a request at `at`; calls `ended` at its end (virtual instant in vtime mode); resolves when it has finished. */
  private start(h: HandledRequest, at: bigint, ended: (at: bigint) => void): Promise<void> {
    const key = String(h.request.parameter);
    const name = this.cfg.programs[key];
    const rec: LaunchRecord = { handled: h, program: name ?? '', args: [] };
    this.launches.push(rec);
    if (!name) {
      this.log(`no VMI program configured for parameter ${key}: request ignored`);
      ended(at);
      return Promise.resolve();
    }
    const path = name.includes('/') ? name : bundledProgram(name);
    const prog = name.includes('/') ? name.replace(/^.*\//, '').replace(/\.wasm$/, '') : name;
    rec.args = [prog, String(h.request.domid), String(h.request.eptpIndex)];
    if (!existsSync(path)) {
      rec.result = { exitCode: null, stdout: '', stderr: '', hostNs: 0, calls: 0, files: [], pausesReleased: 0,
        error: `${path}: no such VMI program (npm run build:vmi builds the bundled ones)`, errorKind: 'load' };
      this.log(`${prog}: ${rec.result.error}`);
      ended(at);
      return Promise.resolve();
    }
    this.log(`launching ${rec.args.join(' ')}`);
    const m = this.d.machine;
    const snap = this.takeSnapshot(key, prog);
    const vmi = snap ? this.newVmi(snap) : this.vmi;
    const startInsns = m.insnsRetired;
    const opts = {
      args: rec.args, timeLimitMs: this.cfg.timeLimitMs, memoryLimitMiB: this.cfg.memoryLimitMiB,
      maxCalls: this.cfg.maxCalls, outDir: this.cfg.outDir,
    };
    const report = (r: SandboxResult, timing: string) => {
      rec.result = r;
      if (snap) {
        const s = rec.snapshot = snap.release();
        this.log(`${prog}: snapshot released: ${s.copies} frames copied (limit ${s.maxCopies}${s.exhausted ? ', reached: abandoned' : ''}), ` +
          `${s.copyCycles} cycles modelled, ${(s.copyHostNs / 1e3).toFixed(1)} us host`);
      }
      rec.guestInsnsDuring = Number(m.insnsRetired - startInsns);
      if (r.error) this.log(`${prog} stopped: ${r.error}`);
      else this.log(`${prog} exited with status ${r.exitCode} after ${timing}, ` +
        `${r.calls} libvmi calls; the guest retired ${rec.guestInsnsDuring} instructions meanwhile`);
      for (const line of r.stdout.split('\n').filter(Boolean)) this.log(`${prog}: ${line}`);
      for (const line of r.stderr.split('\n').filter(Boolean)) this.log(`${prog} (stderr): ${line}`);
    };
    const hostTime = (r: SandboxResult) => `${(r.hostNs / 1e6).toFixed(1)} ms host time`;
    let p: Promise<void>;
    if (this.vtime) {
      // The program's end is reported when the runner has brought the guest to its instant.
      const vt = this.vtime;
      rec.startVcycles = at;
      let result: SandboxResult | undefined;
      let finished!: () => void;
      p = new Promise<void>((res) => { finished = res; });
      const tl = vt.begin(at, this.cfg.timeLimitMs, (endAt) => {
        rec.endVcycles = endAt;
        result!.pausesReleased = vmi.releasePauses();   // vmi_pause_vm held to the end's instant
        const ns = Number(endAt - at) * 1e6 / this.d.tscKhz;
        report(result!, `${fmtNs(ns)} of modelled Dom0 time (${hostTime(result!)})`);
        ended(endAt);
        finished();
      });
      void this.sandbox.run(path, vmi, { ...opts, mode: 'vtime', clock: tl }).then((r) => {
        result = r;
        tl.end(r.calls, r.insns ?? 0, r.errorKind === 'timeout');
      }, (e: Error) => {
        result = { exitCode: null, stdout: '', stderr: '', hostNs: 0, calls: 0, files: [], pausesReleased: 0,
          error: e.message, errorKind: 'sandbox' };
        tl.end(0, 0, false);
      });
    } else {
      p = this.sandbox.run(path, vmi, { ...opts, mode: this.mode === 'pause' ? 'inline' : 'worker' })
        .then((r) => { report(r, hostTime(r)); ended(this.d.machine.vcycles); },
          (e: Error) => { snap?.release(); ended(this.d.machine.vcycles); throw e; });
    }
    return p;
  }

  /** Waits for every launched program to finish. */
  async drain(): Promise<void> { while (this.pending.size) await Promise.all([...this.pending]); }
  /** The guest will not run again: programs still running are served at once, to their end. */
  async close(): Promise<void> { this.vtime?.close(); await this.drain(); await this.sandbox.close(); }
}

/** The bundled TVM's profile (firmware/tvm/tvm.profile.json). */
export function defaultProfile(): Profile {
  return loadProfile(join(packageRoot(), 'firmware', 'tvm', 'tvm.profile.json'));
}

/** Where the bundled VMI programs are built (npm run build:vmi): build/vmi/<name>.wasm. */
export function bundledProgram(name: 'process-list' | 'map-addr' | 'dump-memory' | 'vmi-request' | string): string {
  return join(packageRoot(), 'build', 'vmi', `${name}.wasm`);
}
