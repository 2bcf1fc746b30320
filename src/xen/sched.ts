// The scheduler: who runs next on the one virtual clock, in the shape of
// Xen's xen/common/sched/core.c. It owns the guest vCPUs' turns (a turn is
// one VM entry up to the next exit) and Dom0's turns, and keeps each vCPU's
// run state under Xen's names: the runstate (public/vcpu.h RUNSTATE_running,
// runnable, blocked, offline), the pause flags (VPF_blocked: vcpu_block();
// VPF_down: the vCPU was taken down), the pause counts (vcpu_pause(),
// domain_pause(), and vm_event_vcpu_pause()'s v->vm_event_pause_count, the
// "blocked until Dom0 answers" state). vcpu_runnable() is Xen's test: no pause
// flag and no pause count.
//
// Dom0 runs on a physical CPU of its own (dom0Cpu), so the guest never waits
// for it: its wake-ups are timers on that CPU, run at the guest's VM entries
// once their deadline has come, each at the virtual instant it was due, or,
// for the vtime runner, by the runner with the guest brought to that instant
// (dom0AtEntries). Its timers do not arm the guest CPU's VMX-preemption timer.
//
// Left out: time slices and credit (the current vCPU keeps the CPU while it
// is runnable; the machine holds one VMCS, so a second vCPU also needs a
// VMPTRLD per switch), idle time for Dom0 (when no vCPU is runnable the run
// stops with 'paused' and virtual time stands still).
import type { Domain } from './domain.js';
import type { Vcpu } from './vcpu.js';
import { EXIT_REASON_VMX_PREEMPTION_TIMER_EXPIRED } from '../vmcs.js';
import { RUNSTATE_RUNNING, RUNSTATE_RUNNABLE, RUNSTATE_BLOCKED, RUNSTATE_OFFLINE } from './trace-events.js';

/** v->pause_flags bits (xen/sched.h). */
export const VPF_blocked = 1 << 0, VPF_down = 1 << 1;

export interface RunLimits {
  maxInsns?: bigint; maxVcycles?: bigint;
  /**
   * The host's own stop in virtual time, for a runner that serves other work at an instant: the run
   * stops between VM entries once the clock has reached it ({ kind: 'host' }). Unlike maxVcycles it
   * arms no VMX-preemption timer, so the guest sees no exit for it.
   */
  hostVcycles?: bigint;
}
export type StopReason =
  | { kind: 'shutdown' }
  | { kind: 'limit'; which: 'max-insns' | 'max-vtime' }
  /** No vCPU is runnable: each is paused (vcpu_pause, domain_pause, vm_event) or down. */
  | { kind: 'paused' }
  /** A wake-up on Dom0's CPU is due and the runner serves Dom0 (dom0AtEntries false): not the run's end. */
  | { kind: 'dom0' }
  /** The clock reached RunLimits.hostVcycles: not the run's end. */
  | { kind: 'host' };

/** The host's instruction budget when the run has no instruction limit. */
const BIG = 0xffffffffffffn;

export class Scheduler {
  /** The vCPU whose turn it is or was last (Xen's `current`). */
  current: Vcpu | undefined;
  /** The physical CPU Dom0 runs on: one after the guest's. */
  readonly dom0Cpu: number;
  /**
   * Whether Dom0's turns happen here, at the guest's VM entries (its timers then run late by up to
   * one entry's run). The vtime runner (src/run-launch.ts) sets it false and serves Dom0 itself at
   * each wake-up's instant: run() then stops before any VM entry once a Dom0 wake-up is due.
   */
  dom0AtEntries = true;
  private limits: RunLimits = {};

  constructor(private readonly d: Domain, guestCpus: number) { this.dom0Cpu = guestCpus; }

  /** vcpu_runnable(). */
  vcpuRunnable(v: Vcpu): boolean { return v.pauseFlags === 0 && v.pauseCount === 0 && this.d.pauseCount === 0; }

  /**
   * Runs the domain's vCPUs until the domain shuts down, a limit is reached
   * or no vCPU is runnable. Each turn: the vCPU's entry (prepareEntry), VMRESUME,
   * the exit counted, charged and dispatched.
   */
  run(limits: RunLimits = {}): StopReason {
    const m = this.d.machine, d = this.d;
    this.limits = limits;
    while (!d.isShutdown) {
      if (limits.maxInsns !== undefined && m.insnsRetired >= limits.maxInsns) return { kind: 'limit', which: 'max-insns' };
      if (limits.maxVcycles !== undefined && m.vcycles >= limits.maxVcycles) return { kind: 'limit', which: 'max-vtime' };
      if (!this.dom0AtEntries && this.dom0Due()) return { kind: 'dom0' };
      if (limits.hostVcycles !== undefined && m.vcycles >= limits.hostVcycles) return { kind: 'host' };
      const v = this.doSchedule();
      if (!v) return { kind: 'paused' };
      const timerAt = this.prepareEntry(v);
      if (d.isShutdown) break;
      const budget = limits.maxInsns !== undefined ? limits.maxInsns - m.insnsRetired : BIG;
      const reason = m.vmresume(budget);
      // The host's instruction budget ran out before the preemption timer: in the model no exit
      // happened (nothing is counted or charged), so slicing a run does not change it.
      if (reason === EXIT_REASON_VMX_PREEMPTION_TIMER_EXPIRED && limits.maxInsns !== undefined && m.insnsRetired >= limits.maxInsns && m.vcycles < timerAt) {
        return { kind: 'limit', which: 'max-insns' };
      }
      v.recordExit(reason);
      v.handleExit(reason);
    }
    return { kind: 'shutdown' };
  }

  /** do_schedule(): the current vCPU while it is runnable, else the first runnable one. */
  private doSchedule(): Vcpu | undefined {
    const prev = this.current;
    const next = prev && this.vcpuRunnable(prev) ? prev : this.d.vcpus.find((v) => this.vcpuRunnable(v));
    if (!next) return undefined;
    if (next !== prev) {
      this.current = next;
      if (prev) this.updateRunstate(prev);
    }
    this.updateRunstate(next);
    return next;
  }

  /**
   * The work before a VM entry of `v` (the pieces of run(), for the debugger): the timers due
   * on its CPU (TIMER_SOFTIRQ), interrupt assist, the VMX-preemption timer armed for the next
   * event, the entry hooks, then Dom0's turn. Returns the virtual time at which the armed timer
   * fires.
   */
  prepareEntry(v: Vcpu): bigint {
    const m = this.d.machine;
    this.current = v;
    this.updateRunstate(v);
    this.d.timers.timerSoftirqAction(v.processor, m.vcycles);
    v.intrAssist();
    const at = v.armPreemptionTimer(this.nextEvent(v));
    for (const h of v.entryHooks) h(v);
    if (this.dom0AtEntries) this.dom0Turn();
    return at;
  }

  /** Dom0's turn: the timers on its CPU whose deadline has come run, earliest first. */
  dom0Turn(): void {
    // Reading the clock costs a call into the CPU: only when Dom0 has a timer at all.
    if (this.d.timers.nextDeadline(this.dom0Cpu) !== undefined) this.d.timers.timerSoftirqAction(this.dom0Cpu, this.d.machine.vcycles);
  }

  /** A wake-up on Dom0's CPU is due now. */
  dom0Due(): boolean {
    const t = this.d.timers.nextDeadline(this.dom0Cpu);
    return t !== undefined && t <= this.d.machine.vcycles;
  }

  /** The virtual time `v` must stop at next: the earliest timer on its CPU or the run's time limit. */
  nextEvent(v: Vcpu): bigint | undefined {
    const t = this.d.timers.nextDeadline(v.processor), lim = this.limits.maxVcycles;
    if (t === undefined) return lim;
    return lim !== undefined && lim < t ? lim : t;
  }

  /**
   * vcpu_block_unless_event_pending() for HLT and SCHEDOP_block: unless an interrupt is already
   * pending, `v` blocks until its next event. On virtual time the block takes no host time:
   * the clock jumps to that event (counted as halted), whose timer then runs and wakes `v`.
   */
  block(v: Vcpu): void {
    const m = this.d.machine;
    this.d.timers.timerSoftirqAction(v.processor, m.vcycles);
    if (this.d.irq.hvmVcpuHasPendingIrq(v)) return;
    v.pauseFlags |= VPF_blocked;
    this.updateRunstate(v);
    const now = m.vcycles, wake = this.nextEvent(v);
    if (wake !== undefined && wake > now) {
      m.addVcycles(wake - now);
      v.stats.haltedCycles += wake - now;
    }
    this.d.timers.timerSoftirqAction(v.processor, m.vcycles);
    this.vcpuUnblock(v);
  }

  /** vcpu_unblock(): clear VPF_blocked (an event arrived, or the run's time limit came). */
  vcpuUnblock(v: Vcpu): void {
    v.pauseFlags &= ~VPF_blocked;
    this.updateRunstate(v);
  }

  /** hvm_vcpu_down(): `v` goes offline; false while another vCPU is still up. */
  vcpuDown(v: Vcpu): boolean {
    v.pauseFlags |= VPF_down;
    this.updateRunstate(v);
    return this.d.vcpus.every((x) => x.pauseFlags & VPF_down);
  }

  /** vcpu_pause(): `v` does not run until as many vcpu_unpause() calls. */
  vcpuPause(v: Vcpu): void { v.pauseCount++; this.updateRunstate(v); }
  vcpuUnpause(v: Vcpu): void {
    if (v.pauseCount === 0) throw new Error(`d${this.d.id}v${v.id}: vcpu_unpause without a pause`);
    v.pauseCount--;
    this.updateRunstate(v);
  }

  /** domain_pause(): every vCPU of the domain stops until domain_unpause(). */
  domainPause(): void { this.d.pauseCount++; for (const v of this.d.vcpus) this.updateRunstate(v); }
  domainUnpause(): void {
    if (this.d.pauseCount === 0) throw new Error(`d${this.d.id}: domain_unpause without a pause`);
    this.d.pauseCount--;
    for (const v of this.d.vcpus) this.updateRunstate(v);
  }

  /** vm_event_vcpu_pause(): `v` waits for Dom0's answer to its event. */
  vmEventVcpuPause(v: Vcpu): void { v.vmEventPauseCount++; this.vcpuPause(v); }

  /** vm_event_vcpu_unpause(): Dom0 answered; an answer without a waiting event is refused, as in Xen. */
  vmEventVcpuUnpause(v: Vcpu): void {
    if (v.vmEventPauseCount === 0) { this.d.log(`d${this.d.id}v${v.id} vm_event: Too many unpause attempts`); return; }
    v.vmEventPauseCount--;
    this.vcpuUnpause(v);
  }

  /** The runstate the flags and counts give (Xen's choice at a context switch). */
  private updateRunstate(v: Vcpu): void {
    v.runstate = v.pauseFlags & VPF_blocked ? RUNSTATE_BLOCKED
      : !this.vcpuRunnable(v) ? RUNSTATE_OFFLINE
        : v === this.current ? RUNSTATE_RUNNING : RUNSTATE_RUNNABLE;
  }
}
