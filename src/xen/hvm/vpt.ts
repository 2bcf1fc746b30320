// The virtual platform timer (Xen's xen/arch/x86/hvm/vpt.c, reduced to what
// the TVM needs): a periodic timer on virtual time, a client of the timer
// queue (src/xen/timer.ts), that raises an interrupt line (src/xen/hvm/irq.ts)
// at each deadline; the controller delivers it. Missed ticks are not queued
// (at most one tick is pending; Xen's "no_missed_ticks_pending" mode): the
// guest catches up from the TSC, as Linux's timekeeping does.
import type { Timer, TimerQueue } from '../timer.js';
import type { HvmIrq, IrqLine } from './irq.js';

export class PeriodicTimer {
  readonly period: bigint;
  readonly vector: number;
  readonly timer: Timer;
  readonly line: IrqLine;
  /** Ticks that fell due, ticks injected, ticks dropped while one was already pending. */
  fired = 0;
  injected = 0;
  missed = 0;

  /** create_periodic_time(): the first tick one period after `start`, on `cpu`'s timers, delivered to vCPU `vcpu`. */
  constructor(private readonly timers: TimerQueue, irq: HvmIrq,
              opts: { period: bigint; vector: number; vcpu: number; cpu: number; start: bigint }) {
    if (opts.period <= 0n) throw new RangeError('timer period must be positive');
    this.period = opts.period;
    this.vector = opts.vector;
    this.line = irq.connect(opts.vcpu, opts.vector, () => { this.injected++; });
    this.timer = timers.initTimer((_t, now) => this.ptTimerFn(now), opts.cpu);
    timers.setTimer(this.timer, opts.start + opts.period);
  }

  /** Virtual time (cycles) of the next tick. */
  get next(): bigint { return this.timer.expires; }
  /** A tick is due and waits to be injected. */
  get pending(): boolean { return this.line.asserted; }

  /** pt_timer_fn() with pt_process_missed_ticks(): count the ticks due by `now`, raise the line, re-arm. */
  private ptTimerFn(now: bigint): void {
    const n = (now - this.next) / this.period + 1n;
    this.fired += Number(n);
    this.missed += Number(this.pending ? n : n - 1n);
    this.line.assert();
    this.timers.setTimer(this.timer, this.next + n * this.period);
  }
}

/**
 * The guest's clock as platform devices see it (Xen's hvm_get_guest_time): the one virtual clock
 * (TSC cycles, Machine.vcycles) at `hz` cycles a second, and the timer queue of the CPU the
 * devices' timers run on (the vCPU's, so the VMX-preemption timer stops the guest for them).
 * A device catches up with this clock when it is touched and sets timers for the events it must
 * raise on its own (an interrupt line's edge).
 */
export interface GuestClock {
  readonly timers: TimerQueue;
  readonly cpu: number;
  /** TSC cycles a second. */
  readonly hz: bigint;
  /** Now, in TSC cycles. */
  now(): bigint;
}
