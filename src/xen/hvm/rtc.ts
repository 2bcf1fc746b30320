// The MC146818 real-time clock and CMOS RAM at ports 0x70 (index) and 0x71
// (data), in the shape of Xen's xen/arch/x86/hvm/rtc.c, on the one virtual
// clock: the time is a fixed start (a run option; default 2026-01-01
// 00:00:00 UTC, so runs are deterministic) plus the virtual time since the
// domain was built. The registers follow the Motorola MC146818A datasheet:
//   0-9   seconds, seconds alarm, minutes, minutes alarm, hours, hours alarm,
//         day of week (1 = Sunday), date, month, year (00-99), in BCD or
//         binary (register B DM) and 12- or 24-hour form (register B 24/12;
//         in 12-hour form bit 7 of the hours is PM);
//   A     UIP (bit 7, read-only), DV2-0, RS3-0 (periodic rate);
//   B     SET, PIE, AIE, UIE, SQWE, DM, 24/12, DSE;
//   C     IRQF, PF, AF, UF: read-only, cleared by reading;
//   D     VRT (valid RAM and time): always 1;
//   0x0E-0x7F CMOS RAM bytes (0x32 reads as the century in the time format).
// UIP is 1 in the last 244 us of each second (Xen's update_in_progress: the
// update transfer then happens at the second boundary). SET = 1 stops the
// updates: the time registers hold what they read when SET was written and
// what the guest writes into them; clearing SET starts the clock from them
// (rtc_set_time). A write to a time register with SET = 0 also sets the time.
// The periodic (PF), update-ended (UF) and alarm (AF) flags are brought up to
// date whenever the device is touched; while PIE, UIE or AIE is set a timer
// (timer.ts) brings them up to date at each event so that IRQF raises ISA
// IRQ8, which stays asserted until register C is read.
// Bit 7 of the index port is the NMI mask on a PC: it is not part of the
// index and is otherwise ignored (no NMI source exists here).
// Not modelled: daylight saving (DSE), the square-wave output, the DV divider
// states other than "running".
import type { PortIoDevice } from '../devices/portio.js';
import type { IrqLine } from './irq.js';
import type { GuestClock } from './vpt.js';
import type { Timer } from '../timer.js';

export const RTC_PORT_INDEX = 0x70, RTC_PORT_DATA = 0x71;
export const RTC_SECONDS = 0, RTC_SECONDS_ALARM = 1, RTC_MINUTES = 2, RTC_MINUTES_ALARM = 3, RTC_HOURS = 4,
  RTC_HOURS_ALARM = 5, RTC_DAY_OF_WEEK = 6, RTC_DAY_OF_MONTH = 7, RTC_MONTH = 8, RTC_YEAR = 9,
  RTC_REG_A = 0x0a, RTC_REG_B = 0x0b, RTC_REG_C = 0x0c, RTC_REG_D = 0x0d, RTC_CENTURY = 0x32;
export const RTC_UIP = 0x80;
export const RTC_SET = 0x80, RTC_PIE = 0x40, RTC_AIE = 0x20, RTC_UIE = 0x10, RTC_DM_BINARY = 0x04, RTC_24H = 0x02;
export const RTC_IRQF = 0x80, RTC_PF = 0x40, RTC_AF = 0x20, RTC_UF = 0x10;
export const RTC_VRT = 0x80;
/** The default start time: 2026-01-01 00:00:00 UTC. */
export const RTC_DEFAULT_START = new Date(Date.UTC(2026, 0, 1, 0, 0, 0));
/** UIP is set this long before each update (datasheet: 244 us). */
const UIP_US = 244n;

const toBcd = (v: number) => ((Math.floor(v / 10) % 10) << 4) | (v % 10);
const fromBcd = (v: number) => (v >> 4) * 10 + (v & 15);

/** struct RTCState. */
export class Rtc implements PortIoDevice {
  readonly name = 'mc146818 (rtc)';
  /** cmos_data[]: registers A-D and the RAM; the time registers' bytes while SET = 1. */
  readonly cmos = new Uint8Array(128);
  index = 0;
  /** The time (seconds since 1970) at virtual time `baseCycles`. */
  private baseSec: number;
  private baseCycles: bigint;
  /** Events up to this virtual time have been accounted in register C. */
  private doneTo: bigint;
  private readonly timer: Timer;
  /** Interrupts raised on IRQ8. */
  irqs = 0;

  constructor(private readonly clock: GuestClock, private readonly irq8: IrqLine, start: Date = RTC_DEFAULT_START) {
    const ms = start.getTime();
    if (!Number.isFinite(ms)) throw new RangeError('RTC start time is not a valid date');
    this.baseSec = Math.floor(ms / 1000);
    this.baseCycles = clock.now();
    this.doneTo = this.baseCycles;
    this.cmos[RTC_REG_A] = 0x26;                       // 32.768 kHz time base, 1024 Hz periodic rate
    this.cmos[RTC_REG_B] = RTC_24H;                    // BCD, 24-hour
    this.cmos[RTC_REG_D] = RTC_VRT;
    this.timer = clock.timers.initTimer((_t, now) => this.timerFn(now), clock.cpu);
  }

  registerPorts(bus: { register(base: number, count: number, dev: PortIoDevice): void }): void {
    bus.register(RTC_PORT_INDEX, 2, this);
  }

  private get set(): boolean { return (this.cmos[RTC_REG_B] & RTC_SET) !== 0; }

  /** The time now, in whole seconds since 1970, and the microseconds into the current second. */
  private timeAt(now: bigint): { sec: number; us: bigint } {
    const d = now - this.baseCycles, hz = this.clock.hz;
    const whole = d / hz;
    return { sec: this.baseSec + Number(whole), us: (d - whole * hz) * 1_000_000n / hz };
  }

  /** The current time in seconds (what the time registers show), for the host's inspection. */
  seconds(): number { return this.set ? this.timeFromRegs() : this.timeAt(this.clock.now()).sec; }

  // ---- register encoding ----

  private enc(v: number): number { return this.cmos[RTC_REG_B] & RTC_DM_BINARY ? v : toBcd(v); }
  private dec(v: number): number { return this.cmos[RTC_REG_B] & RTC_DM_BINARY ? v : fromBcd(v); }

  private encHour(h: number): number {
    if (this.cmos[RTC_REG_B] & RTC_24H) return this.enc(h);
    return this.enc(h % 12 === 0 ? 12 : h % 12) | (h >= 12 ? 0x80 : 0);
  }

  private decHour(v: number): number {
    if (this.cmos[RTC_REG_B] & RTC_24H) return this.dec(v & 0x7f);
    const h = this.dec(v & 0x7f) % 12;
    return v & 0x80 ? h + 12 : h;
  }

  /** The time registers' values for time `sec`. */
  private regsFor(sec: number): Map<number, number> {
    const t = new Date(sec * 1000), y = t.getUTCFullYear();
    return new Map([
      [RTC_SECONDS, this.enc(t.getUTCSeconds())], [RTC_MINUTES, this.enc(t.getUTCMinutes())],
      [RTC_HOURS, this.encHour(t.getUTCHours())], [RTC_DAY_OF_WEEK, this.enc(t.getUTCDay() + 1)],
      [RTC_DAY_OF_MONTH, this.enc(t.getUTCDate())], [RTC_MONTH, this.enc(t.getUTCMonth() + 1)],
      [RTC_YEAR, this.enc(y % 100)], [RTC_CENTURY, this.enc(Math.floor(y / 100))],
    ]);
  }

  /** rtc_set_time(): the time the time registers (and the century byte) name. */
  private timeFromRegs(): number {
    const c = this.cmos;
    const yy = this.dec(c[RTC_YEAR]), cent = this.dec(c[RTC_CENTURY]);
    const year = cent >= 19 && cent <= 99 ? cent * 100 + yy : (yy < 70 ? 2000 : 1900) + yy;
    return Math.floor(Date.UTC(year, this.dec(c[RTC_MONTH]) - 1, this.dec(c[RTC_DAY_OF_MONTH]),
      this.decHour(c[RTC_HOURS]), this.dec(c[RTC_MINUTES]), this.dec(c[RTC_SECONDS])) / 1000);
  }

  private isTimeReg(r: number): boolean { return (r <= RTC_YEAR && r !== RTC_SECONDS_ALARM && r !== RTC_MINUTES_ALARM && r !== RTC_HOURS_ALARM) || r === RTC_CENTURY; }

  /** Copies the running time into the time registers (before SET = 1 or a partial write). */
  private latchTime(now: bigint): void {
    for (const [r, v] of this.regsFor(this.timeAt(now).sec)) this.cmos[r] = v;
  }

  /** Starts the clock from the time registers now (a new second begins). */
  private startFromRegs(now: bigint): void {
    this.baseSec = this.timeFromRegs();
    this.baseCycles = now;
    this.doneTo = now;
  }

  // ---- the flags of register C and IRQ8 ----

  /** The periodic interrupt's period in cycles (RS3-0 with the 32.768 kHz time base), or undefined. */
  private periodCycles(): bigint | undefined {
    const a = this.cmos[RTC_REG_A], rs = a & 15;
    if (rs === 0 || ((a >> 4) & 7) !== 2) return undefined;
    const div = rs <= 2 ? 1n << BigInt(rs + 6) : 1n << BigInt(rs - 1);   // RS 1, 2 give 256 and 128 Hz
    return div * this.clock.hz / 32768n;
  }

  /** Does the alarm match time `sec`? (A value of 0xC0-0xFF is "don't care".) */
  private alarmMatches(sec: number): boolean {
    const r = this.regsFor(sec), c = this.cmos;
    const dc = (v: number) => (v & 0xc0) === 0xc0;
    return (dc(c[RTC_SECONDS_ALARM]) || c[RTC_SECONDS_ALARM] === r.get(RTC_SECONDS)) &&
      (dc(c[RTC_MINUTES_ALARM]) || c[RTC_MINUTES_ALARM] === r.get(RTC_MINUTES)) &&
      (dc(c[RTC_HOURS_ALARM]) || c[RTC_HOURS_ALARM] === r.get(RTC_HOURS));
  }

  /** Accounts the periodic ticks, updates and alarms between the last catch-up and `now`. */
  private catchUp(now: bigint): void {
    if (now <= this.doneTo) return;
    const from = this.doneTo;
    this.doneTo = now;
    let flags = 0;
    const p = this.periodCycles();
    if (p !== undefined && (now - this.baseCycles) / p > (from - this.baseCycles) / p) flags |= RTC_PF;
    if (!this.set) {
      const s0 = this.timeAt(from).sec, s1 = this.timeAt(now).sec;
      if (s1 > s0) {
        flags |= RTC_UF;
        // The alarm is compared at each update (unless AF is already up); a day of updates covers
        // every alarm setting.
        if (!(this.cmos[RTC_REG_C] & RTC_AF)) {
          for (let s = Math.max(s0 + 1, s1 - 86400); s <= s1; s++) if (this.alarmMatches(s)) { flags |= RTC_AF; break; }
        }
      }
    }
    this.raise(flags);
  }

  /** rtc_update_irq(): set flags; IRQF and an IRQ8 edge when an enabled one is set. */
  private raise(flags: number): void {
    const c = this.cmos;
    c[RTC_REG_C] |= flags;
    const enabled = c[RTC_REG_C] & c[RTC_REG_B] & (RTC_PF | RTC_AF | RTC_UF);
    if (enabled && !(c[RTC_REG_C] & RTC_IRQF)) {
      c[RTC_REG_C] |= RTC_IRQF;
      this.irqs++;
      this.irq8.assert();
    }
  }

  /** Arms the timer for the next event an enabled interrupt waits for. */
  private schedule(now: bigint): void {
    const b = this.cmos[RTC_REG_B];
    let next: bigint | undefined;
    const p = this.periodCycles();
    if (b & RTC_PIE && p !== undefined) next = this.baseCycles + ((now - this.baseCycles) / p + 1n) * p;
    if (b & (RTC_UIE | RTC_AIE) && !this.set) {
      const hz = this.clock.hz, s = this.baseCycles + ((now - this.baseCycles) / hz + 1n) * hz;
      if (next === undefined || s < next) next = s;
    }
    if (next === undefined) this.clock.timers.stopTimer(this.timer);
    else this.clock.timers.setTimer(this.timer, next);
  }

  private timerFn(now: bigint): void {
    this.catchUp(now);
    this.schedule(now);
  }

  // ---- the ports ----

  read(port: number, size: 1 | 2 | 4): number {
    if (size !== 1) return size === 2 ? 0xffff : 0xffffffff;
    if (port === RTC_PORT_INDEX) return 0xff;            // the index register is write-only
    const now = this.clock.now();
    this.catchUp(now);
    const r = this.index, c = this.cmos;
    if (this.isTimeReg(r) && !this.set) return this.regsFor(this.timeAt(now).sec).get(r)!;
    switch (r) {
      case RTC_REG_A: {
        const uip = !this.set && this.timeAt(now).us >= 1_000_000n - UIP_US;
        return (c[RTC_REG_A] & 0x7f) | (uip ? RTC_UIP : 0);
      }
      case RTC_REG_C: {
        const v = c[RTC_REG_C];
        c[RTC_REG_C] = 0;
        this.irq8.deassert();
        return v;
      }
      case RTC_REG_D: return RTC_VRT;
      default: return c[r];
    }
  }

  write(port: number, size: 1 | 2 | 4, value: number): void {
    if (size !== 1) return;
    const v = value & 0xff;
    if (port === RTC_PORT_INDEX) { this.index = v & 0x7f; return; }
    const now = this.clock.now();
    this.catchUp(now);
    const r = this.index, c = this.cmos;
    if (this.isTimeReg(r)) {
      if (!this.set) {
        this.latchTime(now);
        c[r] = v;
        this.startFromRegs(now);
      } else {
        c[r] = v;
      }
    } else switch (r) {
      case RTC_REG_A: c[RTC_REG_A] = v & 0x7f; break;
      case RTC_REG_B: {
        const wasSet = this.set;
        let b = v;
        if (b & RTC_SET) {
          b &= ~RTC_UIE;                                 // SET = 1 clears UIE
          if (!wasSet) this.latchTime(now);
        }
        c[RTC_REG_B] = b;
        if (wasSet && !(b & RTC_SET)) this.startFromRegs(now);
        this.raise(0);                                   // newly enabled flags already set interrupt now
        break;
      }
      case RTC_REG_C: case RTC_REG_D: break;             // read-only
      default: c[r] = v;
    }
    this.schedule(now);
  }
}
