// A virtual clock and port bus for driving the PC platform's devices
// (src/xen/hvm/) in unit tests: time moves only when the test says, and the
// timers due by then run as timer_softirq_action would before a VM entry.
import { TimerQueue } from '../../src/xen/timer.js';
import { PortIoBus } from '../../src/xen/devices/portio.js';
import type { GuestClock } from '../../src/xen/hvm/vpt.js';

export class TestClock implements GuestClock {
  readonly timers = new TimerQueue();
  readonly cpu = 0;
  t = 0n;
  constructor(readonly hz: bigint) {}
  now(): bigint { return this.t; }
  /** Moves time to `t` (cycles) and runs the timers due. */
  at(t: bigint): void { this.t = t; this.timers.timerSoftirqAction(this.cpu, t); }
  /** Moves time forward by `d` cycles, stopping at every timer deadline on the way. */
  advance(d: bigint): void {
    const end = this.t + d;
    for (;;) {
      const next = this.timers.nextDeadline(this.cpu);
      if (next === undefined || next > end) break;
      this.at(next);
    }
    this.at(end);
  }
}

export function portBus(): { io: PortIoBus; out: (p: number, v: number) => void; inb: (p: number) => number } {
  const io = new PortIoBus();
  return { io, out: (p, v) => io.write(p, 1, v), inb: (p) => io.read(p, 1) };
}
