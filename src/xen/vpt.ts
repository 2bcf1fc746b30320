// The virtual platform timer (Xen's vpt.c, reduced to what the TVM needs): a
// periodic timer on virtual time that raises the guest's timer interrupt.
// No emulated PIC/APIC stands between: the interrupt is injected with its
// vector and needs no EOI. Missed ticks are not queued (at most one tick is
// pending; Xen's "no_missed_ticks_pending" mode): the guest catches up from
// the TSC, as Linux's timekeeping does.

export class PeriodicTimer {
  /** Virtual time (cycles) of the next tick. */
  next: bigint;
  /** A tick is due and waits to be injected. */
  pending = false;
  /** Ticks that fell due, ticks injected, ticks dropped while one was already pending. */
  fired = 0;
  injected = 0;
  missed = 0;

  constructor(readonly period: bigint, readonly vector: number, start: bigint) {
    if (period <= 0n) throw new RangeError('timer period must be positive');
    this.next = start + period;
  }

  /** Advances to virtual time `now`: a deadline that passed makes a tick pending. */
  update(now: bigint): void {
    if (now < this.next) return;
    const n = (now - this.next) / this.period + 1n;
    this.fired += Number(n);
    this.missed += Number(this.pending ? n : n - 1n);
    this.pending = true;
    this.next += n * this.period;
  }

  /** The pending tick was injected. */
  ack(): void { this.pending = false; this.injected++; }
}
