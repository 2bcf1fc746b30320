// Dom0's VMI programs on the guest's virtual time: a co-simulation. A
// program still runs sandboxed in its own thread on host time, but its
// progress is measured in modelled time on Dom0's CPU, and the guest is run
// up to the virtual instant of each of the program's libvmi calls (the first
// instruction boundary at or after it) before the call is served, by a timer
// on Dom0's CPU, from guest memory as it is at that instant (the runner:
// src/run-launch.ts). The host waits (in host time) for the program's next
// call; nothing that shapes the run reads the host's clock (but a watchdog
// for programs that never call again), so a run is the same every time, on
// any host, at any load.
//
// A program launched at virtual time t0 (the xentrace daemon's pass that
// read the request, Dom0.service) reaches its call k (k = 1, 2, ...) at
//   t0 + launch + (k - 1) x call + insns_k x insn
// and ends at t0 + launch + n x call + insns_end x insn, where launch is the
// cost profile's vmiLaunch (fork/exec + LibVMI init), call its libvmiCall
// (one LibVMI read: map + copy), insn its vmiWasmInsn, and insns_k the Wasm
// instructions the program has executed by then, the call included: its own
// deterministic progress measure, counted by a counter the sandbox injects
// into its binary (sandbox/insn-counter.ts). Every cost is in
// src/xen/cost-profiles.ts with its source.
//
// Left out: contention on Dom0's CPU (each program has a timeline of its own,
// as if Dom0 had a CPU per program -- at most the launch module's
// concurrency of them: a waiting request's program starts at the instant
// the one before it ended, src/dom0/launch.ts); the program's wall clock (WASI
// clock_time_get still reads the host's).
import type { ProgramClock } from './sandbox/index.js';

/** The modelled costs of a program on Dom0's CPU, TSC cycles (CostProfile.vmiLaunch, libvmiCall, vmiWasmInsn). */
export interface VtimeCosts { launch: number; call: number; insn: number }

/** What a program waits at: its next call (served, or refused at the time limit: ok false) or its end. */
interface ClockEvent { at: bigint; end: boolean; ok: boolean; resolve: (ok: boolean) => void }

/** One program's timeline: its start, its calls' instants, its end. */
export class ProgramTimeline implements ProgramClock {
  /** The event the program waits at (its next call, or its end), once posted. */
  pending?: ClockEvent;
  ended = false;
  /** Set when a call's instant fell past the time limit: the program is stopped there. */
  private stoppedAt?: bigint;

  constructor(private readonly co: Dom0Vtime, readonly startAt: bigint,
              private readonly limitCycles: bigint, private readonly onEnd: (at: bigint) => void) {}

  /** The instant of call number `calls` + 1 (or the end after `calls` calls) after `insns` Wasm instructions. */
  instant(calls: number, insns: number): bigint {
    const c = this.co.costs;
    return this.startAt + BigInt(c.launch) + BigInt(calls) * BigInt(c.call) + BigInt(insns) * BigInt(c.insn);
  }

  call(calls: number, insns: number): Promise<boolean> {
    let at = this.instant(calls - 1, insns);
    const ok = at - this.startAt <= this.limitCycles;
    if (!ok) { at = this.startAt + this.limitCycles; this.stoppedAt = at; }
    return new Promise<boolean>((resolve) => this.co.post(this, { at, end: false, ok, resolve }));
  }

  /**
   * The program ended after `calls` calls and `insns` instructions; `timedOut`: its time limit
   * stopped it (a loop without calls: the host's watchdog), so it ends at the limit.
   */
  end(calls: number, insns: number, timedOut: boolean): void {
    if (this.ended || this.pending?.end) return;
    const at = this.stoppedAt ?? (timedOut ? this.startAt + this.limitCycles : this.instant(calls, insns));
    this.co.post(this, { at, end: true, ok: true, resolve: () => {} });
  }

  /** The runner has brought the guest to the pending event's instant. */
  release(): void {
    const e = this.pending!;
    this.pending = undefined;
    if (e.end) { this.ended = true; this.onEnd(e.at); }
    e.resolve(e.ok);
  }
}

/** The co-simulation: Dom0's programs' timelines and the runner's lock-step with them. */
export class Dom0Vtime {
  /** Running programs, in launch order (which breaks ties between equal instants). */
  private readonly active: ProgramTimeline[] = [];
  private wake?: () => void;
  private closed = false;

  constructor(readonly costs: VtimeCosts, readonly cyclesPerMs: number) {}

  /** A program starts at `startAt`; its timeline stays active until its end is served. */
  begin(startAt: bigint, timeLimitMs: number, onEnd: (at: bigint) => void): ProgramTimeline {
    const t = new ProgramTimeline(this, startAt, BigInt(Math.round(timeLimitMs * this.cyclesPerMs)), onEnd);
    this.active.push(t);
    return t;
  }

  /** Programs whose end has not been served. */
  get busy(): boolean { return this.active.length > 0; }

  /** A program waits at an event. After close() (the guest is gone) it is served at once. */
  post(t: ProgramTimeline, e: ClockEvent): void {
    t.pending = e;
    if (this.closed) { this.serve(t); return; }
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /**
   * Waits (in host time) until every active program waits at an event, and returns the
   * program whose event is earliest in virtual time (ties: the earlier launch).
   */
  async next(): Promise<ProgramTimeline | undefined> {
    while (this.active.some((t) => !t.pending)) await new Promise<void>((r) => { this.wake = r; });
    let best: ProgramTimeline | undefined;
    for (const t of this.active) if (!best || t.pending!.at < best.pending!.at) best = t;
    return best;
  }

  /** Serves `t`'s pending event (the guest has been run to its instant). */
  serve(t: ProgramTimeline): void {
    if (t.pending?.end) this.active.splice(this.active.indexOf(t), 1);
    t.release();
  }

  /** The guest will not run again: every event from now on is served as it comes. */
  close(): void {
    this.closed = true;
    for (const t of [...this.active]) if (t.pending) this.serve(t);
  }
}
