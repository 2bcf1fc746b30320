// A debugging session on one domain: the domain is created and booted exactly
// as `vmfunc-vmi run` does it (run.ts prepareRun), and the vCPU loop of
// Scheduler.run (src/xen/sched.ts) is driven here one step at a time, so the debugger can stop
//   - inside the guest: at an address breakpoint or before a VMFUNC (the CPU's
//     DEBUG_STOP), or after N instructions (a VMRESUME budget);
//   - at a VM exit, after the exit is recorded and before Xen's handler runs
//     (exit-reason breakpoints, next-exit);
//   - after a handler that raised a VMI request (VMI breakpoints).
//
// Stops inside the guest are invisible to it. Such a stop ends a VMRESUME that
// the hypervisor did not ask to end, so on resuming nothing of a VM entry is
// repeated (no interrupt assist, no entry hooks, no exit charged), and the
// VMX-preemption timer is re-armed for the cycles left to the deadline of the
// entry in progress (the CPU's timer counts at the TSC rate: one tick a
// cycle). A budget exit before that deadline belongs to the debugger; one at
// or after it is the timer the hypervisor armed. A
// session therefore retires the same instructions in the same virtual time
// as a plain run, whatever breakpoints and steps it takes.
import type { Machine } from '../machine.js';
import { DEBUG_STOP } from '../machine.js';
import type { Domain } from '../xen/domain.js';
import type { Vcpu } from '../xen/vcpu.js';
import type { VmiTrigger, NotifyMode } from '../xen/trigger.js';
import type { Dom0 } from '../dom0/dom0.js';
import type { VmiRequest } from '../xen/vmfunc-awareness.js';
import { VMI_MIRROR_BASE } from '../xen/altp2m.js';
import { prepareRun, defaultImagePath, type PreparedRun } from '../run.js';
import { captureExit, type ExitInfo } from './exit-decode.js';
import { Breakpoints, MAX_ADDRESS_BREAKPOINTS, type Breakpoint } from './breakpoints.js';
import { SymbolTable } from './symbols.js';
import { Disassembler } from './disasm.js';
import { GuestMemory } from './memory.js';
import { DebugError } from './format.js';
import { EXIT_REASON_VMX_PREEMPTION_TIMER_EXPIRED } from '../vmcs.js';

const BIG = 0xffffffffffffn;
/** Instructions per slice of a long run: between slices the event loop runs (Ctrl-C, gdb's interrupt). */
export const SLICE_INSNS = 2_000_000n;

export interface DebugOptions {
  /** As for `run`: an ELF image, a bzImage, or `tvm` / `linux`. */
  image?: string;
  initrd?: string;
  /** Files added to the initrd as /bin/<name> (as `run --add`). */
  addFiles?: string[];
  memMiB?: number;
  cmdline?: string;
  /** System.map: a path, false for none; default System.map beside the image. */
  systemMap?: string | false;
  /** CPU cost profile, as for `run` (default placeholder). */
  profile?: string;
  /** The paper's mechanism (default on, as for `run`); false: a plain boot. */
  vmi?: false | { views?: number; notify?: NotifyMode; traceHvm?: boolean; tracePages?: number };
  onConsole?: (bytes: Uint8Array) => void;
  /** Hypervisor log lines (without "(XEN) "). */
  onLog?: (line: string) => void;
  /** Dom0's log lines. */
  onDom0Log?: (line: string) => void;
}

export type Phase = 'entry' | 'guest' | 'exit' | 'shutdown';
export type ResumeMode = { kind: 'continue' } | { kind: 'step'; count: bigint } | { kind: 'next-exit' };
export type StopKind = 'breakpoint' | 'vmfunc' | 'step' | 'exit' | 'vmi-request' | 'shutdown' | 'interrupted';

/** A change of EPT view seen during a resume. */
export interface ViewSwitch {
  from: bigint; to: bigint;
  fromIndex: number | undefined; toIndex: number | undefined;
  /** The guest's VMFUNC (no VM exit), or the hypervisor (a handler writing EPT_POINTER). */
  by: 'VMFUNC' | 'hypervisor';
  /** Guest RIP after the switch; for the hypervisor, the exit that led to it. */
  rip: bigint;
  exit?: ExitInfo;
}

export interface Stop {
  kind: StopKind;
  /** Breakpoints that caused the stop. */
  breakpoints: Breakpoint[];
  /** A gdb (Z0/Z1) breakpoint stopped the guest. */
  gdbBreakpoint: boolean;
  /** The exit the vCPU stopped at (kind 'exit'). */
  exit?: ExitInfo;
  /** The VMI request just raised (kind 'vmi-request'). */
  request?: VmiRequest;
  switches: ViewSwitch[];
  /** VM exits that happened (and were handled) during the resume, and the last few of them. */
  exitCount: number;
  recentExits: ExitInfo[];
  /** Guest instructions retired during the resume. */
  insns: bigint;
}

interface Ctx {
  mode: ResumeMode;
  stepsLeft: bigint | undefined;
  switches: ViewSwitch[];
  exitCount: number;
  recentExits: ExitInfo[];
  insns0: bigint;
}

export class DebugSession {
  readonly d: Domain;
  readonly m: Machine;
  readonly v: Vcpu;
  readonly mech: VmiTrigger | undefined;
  readonly dom0: Dom0 | undefined;
  readonly image: string;
  readonly tscKhz: number;
  readonly mem: GuestMemory;
  readonly bps = new Breakpoints();
  /** Breakpoints the gdb client set (Z0/Z1), by address; they share the CPU's list with the console's. */
  readonly gdbBreakpoints = new Set<bigint>();
  /** Where the vCPU is: before a VM entry, inside the guest, at an unhandled exit, or shut down. */
  phase: Phase = 'entry';
  /** The exit the vCPU is stopped at (phase 'exit'), its handler not yet run. */
  pendingExit: ExitInfo | undefined;
  lastExit: ExitInfo | undefined;
  lastStop: Stop | undefined;
  exitSeq = 0;
  /** Set (e.g. by Ctrl-C) to stop a running resume at the next slice. */
  interruptRequested = false;
  /** Instructions per slice of resume() (the event loop turns between slices). */
  sliceInsns = SLICE_INSNS;
  private deadline = 0n;
  private fresh = false;
  private skipAt: bigint | undefined;
  private flushed = false;

  private constructor(readonly prep: PreparedRun, readonly symbols: SymbolTable, readonly disasm: Disassembler) {
    this.d = prep.d;
    this.m = prep.d.machine;
    this.v = prep.d.vcpus[0];   // the vCPU the debugger follows
    this.mech = prep.mech;
    this.dom0 = prep.dom0;
    this.image = prep.image;
    this.tscKhz = prep.tscKhz;
    this.mem = new GuestMemory(this.m);
  }

  /** Creates and boots the domain (as `run` would) and stops before its first instruction. */
  static async create(opts: DebugOptions = {}): Promise<DebugSession> {
    const disasm = await Disassembler.load();
    const vmi = opts.vmi === false ? false : {
      views: opts.vmi?.views, notify: opts.vmi?.notify, traceHvm: opts.vmi?.traceHvm ?? true, tracePages: opts.vmi?.tracePages ?? 256,
      onDom0Log: opts.onDom0Log,
    };
    const prep = prepareRun({
      image: opts.image ?? defaultImagePath(), initrd: opts.initrd, addFiles: opts.addFiles, memMiB: opts.memMiB, cmdline: opts.cmdline, systemMap: opts.systemMap, profile: opts.profile,
      onConsole: opts.onConsole, onLog: opts.onLog, vmi,
    });
    const symbols = prep.systemMap ? SymbolTable.parse(new TextDecoder().decode(prep.systemMap)) : SymbolTable.empty();
    return new DebugSession(prep, symbols, disasm);
  }

  // ---- state -----------------------------------------------------------------

  get rip(): bigint { return this.m.vmread('GUEST_RIP'); }
  get cr3(): bigint { return this.m.vmread('GUEST_CR3'); }
  get cpl(): number { return Number((this.m.vmread('GUEST_SS_AR_BYTES') >> 5n) & 3n); }
  get eptp(): bigint { return this.m.vmread('EPT_POINTER'); }

  /** The EPTP-list index of an EPTP (by the list, as Xen matches it), or undefined. */
  viewIndex(eptp = this.eptp): number | undefined {
    if (this.mech) return this.mech.altp2m.indexOfEptp(eptp);
    return (eptp & ~0xfffn) === BigInt(this.d.p2m.root) ? 0 : undefined;
  }

  /** "view 11 (the VMI-request mirror of view 1)" */
  describeView(eptp = this.eptp): string {
    const i = this.viewIndex(eptp);
    if (i === undefined) return `EPTP 0x${eptp.toString(16)} (not in the EPTP list)`;
    if (this.mech?.altp2m.isRequestIndex(i)) return `view ${i} (the VMI-request mirror of view ${i - VMI_MIRROR_BASE})`;
    return `view ${i}${this.mech ? '' : ' (the p2m)'}`;
  }

  get isShutdown(): boolean { return this.d.isShutdown; }

  /** Puts the console's and gdb's address breakpoints and the VMFUNC stop into the CPU. */
  syncBreakpoints(): void {
    const addrs = [...new Set([...this.bps.addresses(), ...this.gdbBreakpoints])];
    if (addrs.length > MAX_ADDRESS_BREAKPOINTS) throw new DebugError(`the CPU holds at most ${MAX_ADDRESS_BREAKPOINTS} address breakpoints`);
    this.m.setBreakpoints(addrs);
    this.m.breakOnVmfunc = this.bps.vmfunc !== undefined;
  }

  // ---- running -----------------------------------------------------------------

  /**
   * Resumes the guest until something stops it; long runs go in slices of
   * SLICE_INSNS instructions with the event loop turning in between, so that
   * `interruptRequested` (Ctrl-C, gdb's ^C) can stop them.
   */
  async resume(mode: ResumeMode, opts: { slice?: bigint } = {}): Promise<Stop> {
    const ctx = this.begin(mode);
    this.interruptRequested = false;
    for (;;) {
      const stop = this.advance(ctx, opts.slice ?? this.sliceInsns);
      if (stop) return stop;
      await new Promise((r) => setImmediate(r));
      if (this.interruptRequested) { this.interruptRequested = false; return this.stop(ctx, 'interrupted'); }
    }
  }

  /** The same without slices (library use, tests): runs until a stop. */
  resumeSync(mode: ResumeMode): Stop {
    const ctx = this.begin(mode);
    for (;;) {
      const stop = this.advance(ctx, BIG);
      if (stop) return stop;
    }
  }

  private begin(mode: ResumeMode): Ctx {
    if (this.phase === 'shutdown' || this.d.isShutdown) {
      const s = this.d.shutdownInfo;
      throw new DebugError(`the domain has shut down (${s ? `${s.reason}, status ${s.status & 0xff}` : 'shut down'}): there is nothing left to run`);
    }
    if (mode.kind === 'step' && mode.count <= 0n) throw new DebugError('step: the count must be positive');
    this.syncBreakpoints();
    // As in gdb, resuming runs the instruction at RIP even if a breakpoint is on it.
    this.skipAt = this.rip;
    return { mode, stepsLeft: mode.kind === 'step' ? mode.count : undefined, switches: [], exitCount: 0, recentExits: [], insns0: this.m.insnsRetired };
  }

  private stop(ctx: Ctx, kind: StopKind, extra: Partial<Stop> = {}): Stop {
    const s: Stop = { kind, breakpoints: [], gdbBreakpoint: false, switches: ctx.switches, exitCount: ctx.exitCount,
      recentExits: ctx.recentExits, insns: this.m.insnsRetired - ctx.insns0, ...extra };
    this.lastStop = s;
    return s;
  }

  private noteSwitch(ctx: Ctx, before: bigint, by: ViewSwitch['by'], exit?: ExitInfo): void {
    const after = this.eptp;
    if (after === before) return;
    if (ctx.switches.length >= 1000) ctx.switches.shift();
    ctx.switches.push({ from: before, to: after, fromIndex: this.viewIndex(before), toIndex: this.viewIndex(after), by, rip: this.rip, exit });
  }

  /** One stretch of the vCPU loop; undefined when `cap` instructions have retired without a stop. */
  private advance(ctx: Ctx, cap: bigint): Stop | undefined {
    const m = this.m, d = this.d, v = this.v;
    const capAt = m.insnsRetired + cap;
    for (;;) {
      if (d.isShutdown) {
        this.phase = 'shutdown';
        if (!this.flushed) { this.flushed = true; this.dom0?.flush(); }
        return this.stop(ctx, 'shutdown');
      }
      if (this.phase === 'exit') {
        // Xen's handler for the exit we stopped at (or passed): charge, dispatch.
        const ex = this.pendingExit!;
        this.pendingExit = undefined;
        const requests = this.mech?.requests.length ?? 0;
        const before = this.eptp;
        v.handleExit(ex.reason);
        this.phase = 'entry';
        this.noteSwitch(ctx, before, 'hypervisor', ex);
        // An instruction the hypervisor emulated (RIP moved past it) counts as a step.
        if (ctx.stepsLeft !== undefined && ex.instrLen > 0 && this.rip === BigInt.asUintN(64, ex.rip + BigInt(ex.instrLen))) ctx.stepsLeft--;
        if (this.mech && this.mech.requests.length > requests) {
          const bp = this.bps.vmi;
          if (bp) {
            bp.hits++;
            return this.stop(ctx, 'vmi-request', { breakpoints: [bp], request: this.mech.requests[this.mech.requests.length - 1] });
          }
        }
        if (d.isShutdown) continue;
        if (ctx.stepsLeft === 0n) return this.stop(ctx, 'step');
        continue;
      }
      if (ctx.stepsLeft === 0n) return this.stop(ctx, 'step');
      if (m.insnsRetired >= capAt) return undefined;

      let budget = BIG;
      if (this.phase === 'entry') {
        // What the scheduler's run loop does before each VMRESUME.
        this.deadline = d.sched.prepareEntry(v);
        if (d.isShutdown) continue;
        this.phase = 'guest';
        this.fresh = true;
      }
      if (!this.fresh) {
        // Continuing an entry a debugger stop interrupted: re-arm the preemption timer for its deadline.
        const left = this.deadline - m.vcycles;
        if (left >= 1n) m.vmwrite('VMX_PREEMPTION_TIMER_VALUE', left > 0xffffffffn ? 0xffffffffn : left);
        else { m.vmwrite('VMX_PREEMPTION_TIMER_VALUE', 1n); budget = 1n; }
      }
      if (ctx.stepsLeft !== undefined && ctx.stepsLeft < budget) budget = ctx.stepsLeft;
      if (capAt - m.insnsRetired < budget) budget = capAt - m.insnsRetired;
      if (this.skipAt !== undefined) {
        // Run the instruction the vCPU stands on even if a breakpoint is there -- only when one is (the CPU's
        // skip flag lasts until a breakpoint check) and no event is about to be injected (which would move RIP).
        const rip = this.rip;
        if (rip === this.skipAt && this.cpuStopsAt(rip) && !(m.vmread('VM_ENTRY_INTR_INFO_FIELD') & 0x80000000n)) m.resumePastBreakpoint();
        this.skipAt = undefined;
      }
      const eptpBefore = this.eptp, insns0 = m.insnsRetired;
      const reason = m.vmresume(budget);
      this.fresh = false;
      if (ctx.stepsLeft !== undefined) ctx.stepsLeft -= m.insnsRetired - insns0;
      this.noteSwitch(ctx, eptpBefore, 'VMFUNC');

      if (reason === DEBUG_STOP) {
        const rip = this.rip;
        this.skipAt = rip;
        const hits = this.bps.at(rip, this.cr3);
        const gdbHit = this.gdbBreakpoints.has(rip);
        const vmfunc = this.bps.vmfunc !== undefined && this.isVmfuncAt(rip);
        if (!hits.length && !gdbHit && !vmfunc) continue; // an address breakpoint for another address space
        const bps = [...hits];
        if (vmfunc && !hits.length) bps.push(this.bps.vmfunc!);
        for (const b of bps) b.hits++;
        return this.stop(ctx, hits.length || gdbHit ? 'breakpoint' : 'vmfunc', { breakpoints: bps, gdbBreakpoint: gdbHit });
      }
      if (reason === EXIT_REASON_VMX_PREEMPTION_TIMER_EXPIRED && m.vcycles < this.deadline) {
        // The debugger's budget ran out (a step, a slice, the last fraction of a timer unit): not an exit.
        if (ctx.stepsLeft === 0n) return this.stop(ctx, 'step');
        continue;
      }
      // A VM exit: counted and traced now, handled when the vCPU moves on.
      this.phase = 'exit';
      v.recordExit(reason);
      const ex = captureExit(m, reason, ++this.exitSeq);
      this.pendingExit = ex;
      this.lastExit = ex;
      ctx.exitCount++;
      ctx.recentExits.push(ex);
      if (ctx.recentExits.length > 16) ctx.recentExits.shift();
      const bp = this.bps.onExit(reason);
      if (bp) bp.hits++;
      if (bp || ctx.mode.kind === 'next-exit') return this.stop(ctx, 'exit', { exit: ex, breakpoints: bp ? [bp] : [] });
    }
  }

  /** Whether the CPU would stop before the instruction at `rip` (an address breakpoint, or VMFUNC with the VMFUNC stop on). */
  private cpuStopsAt(rip: bigint): boolean {
    return this.bps.addresses().includes(rip) || this.gdbBreakpoints.has(rip) || (this.bps.vmfunc !== undefined && this.isVmfuncAt(rip));
  }

  /** Whether the instruction at `rip` is VMFUNC (0f 01 d4, after any prefixes). */
  private isVmfuncAt(rip: bigint): boolean {
    const r = this.mem.read('linear', rip, 15);
    const b = r.bytes;
    let i = 0;
    while (i < b.length && (b[i] === 0x66 || b[i] === 0x67 || b[i] === 0xf2 || b[i] === 0xf3 || b[i] === 0xf0 ||
      b[i] === 0x2e || b[i] === 0x36 || b[i] === 0x3e || b[i] === 0x26 || b[i] === 0x64 || b[i] === 0x65 || (b[i] & 0xf0) === 0x40)) i++;
    return b[i] === 0x0f && b[i + 1] === 0x01 && b[i + 2] === 0xd4;
  }
}
