// The 8254 programmable interval timer at ports 0x40-0x43, and the PC's
// port 0x61 (channel 2's gate, the speaker data bit, channel 2's OUT and the
// refresh toggle), in the shape of Xen's xen/arch/x86/emul-i8254.c (itself
// after QEMU's i8254), on the one virtual clock: the counters run at
// PIT_HZ = 1.193182 MHz of virtual time, derived from the TSC cycles the cost
// model advances (GuestClock, vpt.ts). A channel is a formula of the time
// since its count was loaded; it is evaluated when the guest touches a port,
// and channel 0 sets a timer (timer.ts) for each rising edge of its OUT,
// which pulses ISA IRQ0 (Xen's pt_update_irq: deassert then assert).
//
// After the Intel 8254 datasheet (231164): the control word (SC, RW, M,
// BCD), counter latch and read-back commands, LSB / MSB / LSB-then-MSB
// access, status byte (OUT, NULL COUNT, RW, M, BCD), and the modes:
//   0 interrupt on terminal count: OUT low from the control word, high when
//     the count reaches 0; GATE low suspends counting; writing the first byte
//     of a two-byte count stops counting until the second;
//   1 hardware-retriggerable one-shot: a GATE rising edge starts the count,
//     OUT low until terminal count;
//   2 rate generator: OUT high, low for one clock when the count reaches 1,
//     reloads every N clocks; GATE low forces OUT high and a rising edge reloads;
//   3 square wave: OUT high for ceil(N/2), low for floor(N/2) clocks; the
//     count read decrements by two (as Xen's pit_get_count, "may be incorrect
//     for odd counts");
//   4 software-triggered strobe: OUT low for one clock at terminal count;
//   5 hardware-triggered strobe: as 4, started by a GATE rising edge.
// Not modelled: the one-clock delay before a written count is loaded (the
// count loads at the write, as in Xen), BCD counting (the BCD bit is kept and
// reported in the status but the counter counts in binary, as in Xen), and a
// count written in modes 2/3 while counting taking effect only at the next
// period (it restarts the period at once, as in Xen).
import type { PortIoDevice } from '../devices/portio.js';
import type { IrqLine } from './irq.js';
import type { GuestClock } from './vpt.js';
import type { Timer } from '../timer.js';

/** The PIT's input clock (Linux's PIT_TICK_RATE). */
export const PIT_HZ = 1193182n;
export const PIT_CH0 = 0x40, PIT_MODE = 0x43, PIT_SPEAKER = 0x61;

const RW_LATCH = 0, RW_LSB = 1, RW_MSB = 2, RW_WORD = 3;

/** struct hvm_hw_pit_channel with its timing (count_load_time, count_stop_time). */
export class PitChannel {
  /** Initial count N (1-0x10000; 0 written means 0x10000). */
  count = 0x10000;
  mode = 0;
  rwMode = RW_WORD;
  bcd = false;
  gate: boolean;
  /** A count has been loaded since the last control word (NULL COUNT is its negation). */
  loaded = false;
  /** Counting has begun: a count is loaded and, in modes 1 and 5, the gate has triggered. */
  started = false;
  /** Tick at which the count was (virtually) loaded; elapsed = now - base while running. */
  base = 0n;
  /** Tick at which counting was suspended (gate low, or the first byte of a new count), if it is. */
  pausedAt: bigint | undefined;
  /** Byte sequencing for LSB-then-MSB reads and writes: the low byte is next when true. */
  readLow = true;
  writeLow = true;
  writeLatch = 0;
  /** Count latch: the latched value and how many bytes remain to read (0 = none latched). */
  latched = 0;
  latchBytes = 0;
  latchHighNext = false;
  statusLatched = false;
  status = 0;
  /** The count read while counting was stopped, held for reads (the counting element keeps its value). */
  held = 0;

  constructor(readonly index: number) { this.gate = index !== 2; }

  /** Clocks counted since the count was loaded (or triggered), at tick `t`. */
  elapsed(t: bigint): bigint { return (this.pausedAt ?? t) - this.base; }

  /** The counting element's value at tick `t` (pit_get_count). */
  countAt(t: bigint): number {
    if (!this.started) return this.held;
    const d = this.elapsed(t), n = BigInt(this.count);
    switch (this.mode) {
      case 2: return Number(n - (d % n));
      case 3: return Number(n - ((2n * d) % n));
      default: return Number((n - d) & 0xffffn);
    }
  }

  /** OUT at tick `t` (pit_get_out, with the datasheet's levels). */
  outAt(t: bigint): boolean {
    if (!this.started) return this.mode !== 0;          // the state a control word sets: low in mode 0, else high
    const d = this.elapsed(t), n = BigInt(this.count);
    switch (this.mode) {
      case 0: return d >= n;
      case 1: return d >= n;
      case 2: return !this.gate || d % n !== n - 1n;
      case 3: return !this.gate || d % n < (n + 1n) >> 1n;
      default: return d !== n;                            // 4, 5: low for the one clock at terminal count
    }
  }

  /** The first rising edge of OUT after tick `t`, if counting would produce one. */
  nextRisingEdge(t: bigint): bigint | undefined {
    if (!this.started || this.pausedAt !== undefined) return undefined;
    const n = BigInt(this.count), d = t - this.base;
    switch (this.mode) {
      case 0: case 1: return d < n ? this.base + n : undefined;
      case 2: case 3: return this.base + (d < 0n ? n : (d / n + 1n) * n);
      default: return d < n + 1n ? this.base + n + 1n : undefined;
    }
  }
}

/** The 8254 and port 0x61 (Xen's PITState). */
export class I8254 implements PortIoDevice {
  readonly name = 'i8254 (pit)';
  readonly channels = [new PitChannel(0), new PitChannel(1), new PitChannel(2)];
  /** Port 0x61 bit 1: speaker data enable. */
  speakerDataOn = false;
  /** Rising edges of channel 0's OUT that raised IRQ0. */
  irqPulses = 0;
  private readonly timer: Timer;

  /** Port 0x61 as its own device (Xen's handle_speaker_io). */
  readonly speaker: PortIoDevice = {
    name: 'pc speaker / port 0x61',
    read: (_port, size) => (size === 1 ? this.speakerRead() : size === 2 ? 0xffff : 0xffffffff),
    write: (_port, size, value) => { if (size === 1) this.speakerWrite(value & 0xff); },
  };

  constructor(private readonly clock: GuestClock, private readonly irq0: IrqLine) {
    this.timer = clock.timers.initTimer((_t, now) => this.ch0Edge(now), clock.cpu);
  }

  registerPorts(bus: { register(base: number, count: number, dev: PortIoDevice): void }): void {
    bus.register(PIT_CH0, 4, this);
    bus.register(PIT_SPEAKER, 1, this.speaker);
  }

  /** The PIT clock's tick count now. */
  tick(): bigint { return this.clock.now() * PIT_HZ / this.clock.hz; }
  /** Virtual time (TSC cycles) at which tick `t` begins. */
  private cyclesAt(t: bigint): bigint { return (t * this.clock.hz + PIT_HZ - 1n) / PIT_HZ; }

  /** Channel `i`'s OUT now. */
  out(i: number): boolean { return this.channels[i].outAt(this.tick()); }
  /** Channel `i`'s counting element now. */
  count(i: number): number { return this.channels[i].countAt(this.tick()); }

  // ---- channel 0's interrupt ----

  /** Re-arms the timer for channel 0's next rising edge after tick `t`. */
  private scheduleCh0(t: bigint): void {
    const e = this.channels[0].nextRisingEdge(t);
    if (e === undefined) this.clock.timers.stopTimer(this.timer);
    else this.clock.timers.setTimer(this.timer, this.cyclesAt(e));
  }

  /** The timer: OUT rose; pulse IRQ0 (edges missed while the guest ran coalesce, as the PIC's IRR does). */
  private ch0Edge(now: bigint): void {
    this.irqPulses++;
    this.irq0.deassert();
    this.irq0.assert();
    this.scheduleCh0(now * PIT_HZ / this.clock.hz);
  }

  /** Channel `c` changed at tick `t`: the IRQ0 line and timer follow OUT. */
  private changed(c: PitChannel, t: bigint): void {
    if (c.index !== 0) return;
    if (!c.outAt(t)) this.irq0.deassert();
    this.scheduleCh0(t);
  }

  // ---- loading and gating (pit_load_count, pit_set_gate) ----

  private loadCount(c: PitChannel, val: number, t: bigint): void {
    c.count = val === 0 ? 0x10000 : val;
    c.loaded = true;
    c.base = t;
    c.pausedAt = undefined;
    // Modes 1 and 5 wait for a gate trigger; the others count from the write (gate permitting).
    if (c.mode === 1 || c.mode === 5) {
      if (!c.started) c.held = c.count & 0xffff;
      this.changed(c, t);
      return;
    }
    c.started = true;
    if (!c.gate) c.pausedAt = t;
    this.changed(c, t);
  }

  /** Sets channel `i`'s GATE input at tick `t` (only channel 2's is wired, to port 0x61 bit 0). */
  setGate(i: number, level: boolean, t = this.tick()): void {
    const c = this.channels[i];
    if (c.gate === level) return;
    c.gate = level;
    if (!level) {
      // Modes 0, 2, 3, 4 suspend counting; 1 and 5 are unaffected.
      if (c.started && c.mode !== 1 && c.mode !== 5 && c.pausedAt === undefined) c.pausedAt = t;
    } else if (c.loaded) {
      if (c.mode === 0 || c.mode === 4) {
        if (c.pausedAt !== undefined) { c.base += t - c.pausedAt; c.pausedAt = undefined; }
      } else {
        // Modes 1, 2, 3, 5: a rising edge (re)starts the count from N.
        c.started = true; c.base = t; c.pausedAt = undefined;
      }
    }
    this.changed(c, t);
  }

  // ---- 0x40-0x43 ----

  read(port: number, size: 1 | 2 | 4): number {
    if (size !== 1) return size === 2 ? 0xffff : 0xffffffff;
    const i = port - PIT_CH0;
    if (i === 3) return 0xff;                         // the control word register is write-only
    const c = this.channels[i];
    if (c.statusLatched) { c.statusLatched = false; return c.status; }
    if (c.latchBytes) {
      c.latchBytes--;
      if (c.latchHighNext) { c.latchHighNext = false; return (c.latched >> 8) & 0xff; }
      if (c.rwMode === RW_MSB) return (c.latched >> 8) & 0xff;
      c.latchHighNext = c.latchBytes > 0;
      return c.latched & 0xff;
    }
    const v = c.countAt(this.tick());
    switch (c.rwMode) {
      case RW_LSB: return v & 0xff;
      case RW_MSB: return (v >> 8) & 0xff;
      default: {
        const low = c.readLow;
        c.readLow = !low;
        return low ? v & 0xff : (v >> 8) & 0xff;
      }
    }
  }

  write(port: number, size: 1 | 2 | 4, value: number): void {
    if (size !== 1) return;
    const val = value & 0xff, t = this.tick();
    const i = port - PIT_CH0;
    if (i === 3) { this.writeControl(val, t); return; }
    const c = this.channels[i];
    switch (c.rwMode) {
      case RW_LSB: this.loadCount(c, val, t); break;
      case RW_MSB: this.loadCount(c, val << 8, t); break;
      default:
        if (c.writeLow) {
          c.writeLatch = val;
          c.writeLow = false;
          // Mode 0: writing the first byte stops the count (OUT stays low) until the second.
          if (c.mode === 0 && c.started) { c.held = c.countAt(t); c.started = false; this.changed(c, t); }
        } else {
          c.writeLow = true;
          this.loadCount(c, c.writeLatch | (val << 8), t);
        }
    }
  }

  private latchCount(c: PitChannel, t: bigint): void {
    if (c.latchBytes) return;                          // a second latch before the read is ignored
    c.latched = c.countAt(t);
    c.latchBytes = c.rwMode === RW_WORD ? 2 : 1;
    c.latchHighNext = false;
  }

  private latchStatus(c: PitChannel, t: bigint): void {
    if (c.statusLatched) return;
    c.status = (c.outAt(t) ? 0x80 : 0) | (c.loaded ? 0 : 0x40) | (c.rwMode << 4) | (c.mode << 1) | (c.bcd ? 1 : 0);
    c.statusLatched = true;
  }

  private writeControl(val: number, t: bigint): void {
    const sc = val >> 6;
    if (sc === 3) {
      // Read-back: bit 5 = 0 latches the counts, bit 4 = 0 the status, of the counters in bits 3-1.
      for (let i = 0; i < 3; i++) {
        if (!(val & (2 << i))) continue;
        const c = this.channels[i];
        if (!(val & 0x20)) this.latchCount(c, t);
        if (!(val & 0x10)) this.latchStatus(c, t);
      }
      return;
    }
    const c = this.channels[sc];
    const rw = (val >> 4) & 3;
    if (rw === RW_LATCH) { this.latchCount(c, t); return; }
    // A control word resets the counter's logic: new mode, NULL COUNT, OUT to its initial state.
    c.held = c.countAt(t);
    c.rwMode = rw;
    c.mode = (val >> 1) & 7;
    if (c.mode > 5) c.mode -= 4;                      // 6 and 7 are modes 2 and 3
    c.bcd = (val & 1) !== 0;
    c.readLow = true; c.writeLow = true;
    c.latchBytes = 0; c.statusLatched = false;
    c.loaded = false; c.started = false; c.pausedAt = undefined;
    this.changed(c, t);
  }

  // ---- port 0x61 (speaker_ioport_read / _write) ----

  private speakerRead(): number {
    const t = this.tick();
    // The refresh request toggles about every 15 us; Xen approximates 2^14 ns. On the virtual clock.
    const ns = this.clock.now() * 1_000_000_000n / this.clock.hz;
    const refresh = Number((ns >> 14n) & 1n);
    const c2 = this.channels[2];
    return (c2.outAt(t) ? 0x20 : 0) | (refresh << 4) | (this.speakerDataOn ? 0x02 : 0) | (c2.gate ? 0x01 : 0);
  }

  private speakerWrite(val: number): void {
    this.speakerDataOn = (val & 0x02) !== 0;
    this.setGate(2, (val & 0x01) !== 0);
  }
}
