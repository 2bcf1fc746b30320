// The local APIC of a vCPU in xAPIC mode, in the shape of Xen's
// xen/arch/x86/hvm/vlapic.c: the 4 KiB register page at the IA32_APIC_BASE
// address (MMIO, devices/mmio.ts), IRR/ISR/TMR, TPR and the processor
// priority, EOI, the spurious-interrupt vector register (software enable),
// the local vector table (timer, thermal, performance counters, LINT0,
// LINT1, error), the error status register, self-IPIs through the ICR, and
// the APIC timer (one-shot and periodic) on virtual time. Registers,
// priorities and the timer follow the Intel SDM vol. 3A chapter 11
// ("Advanced Programmable Interrupt Controller": 11.4 local APIC registers,
// 11.5.4 APIC timer, 11.8 handling interrupts, 11.8.3.1 task and processor
// priorities, 11.8.5 EOI, 11.9 spurious interrupt).
//
// The timer counts the bus clock divided by the divide configuration; as
// Xen's APIC_BUS_CYCLE_NS (1) the bus clock is 1 GHz of guest time.
// The 8259A's INT reaches vCPU 0 through LINT0 (vlapic_accept_pic_intr): the
// PIC's interrupts are taken when LVT0 is unmasked ExtINT or the local APIC
// is disabled (hardware or software), as after reset.
//
// Not modelled: x2APIC (MSR access), the TSC-deadline timer mode (the
// current count reads 0 and the timer does not fire), NMI/INIT/SIPI IPIs
// (one vCPU: they are counted and dropped), the thermal, performance and
// error LVT sources, level-triggered EOI broadcast (there is no IO-APIC).
import type { MmioDevice, MmioRange, MmioSize } from '../devices/mmio.js';
import type { GuestClock } from './vpt.js';
import type { Timer } from '../timer.js';

export const APIC_DEFAULT_PHYS_BASE = 0xfee00000;
export const APIC_ID = 0x20, APIC_LVR = 0x30, APIC_TASKPRI = 0x80, APIC_ARBPRI = 0x90, APIC_PROCPRI = 0xa0,
  APIC_EOI = 0xb0, APIC_RRR = 0xc0, APIC_LDR = 0xd0, APIC_DFR = 0xe0, APIC_SPIV = 0xf0, APIC_ISR = 0x100,
  APIC_TMR = 0x180, APIC_IRR = 0x200, APIC_ESR = 0x280, APIC_ICR = 0x300, APIC_ICR2 = 0x310, APIC_LVTT = 0x320,
  APIC_LVTTHMR = 0x330, APIC_LVTPC = 0x340, APIC_LVT0 = 0x350, APIC_LVT1 = 0x360, APIC_LVTERR = 0x370,
  APIC_TMICT = 0x380, APIC_TMCCT = 0x390, APIC_TDCR = 0x3e0;
/** Xen's VLAPIC_VERSION: version 0x14, six LVT entries. */
export const VLAPIC_VERSION = 0x00050014;
export const APIC_SPIV_APIC_ENABLED = 0x100;
export const APIC_LVT_MASKED = 1 << 16, APIC_MODE_MASK = 0x700, APIC_DM_EXTINT = 0x700, APIC_DM_NMI = 0x400;
export const APIC_LVT_TIMER_PERIODIC = 1 << 17, APIC_TIMER_MODE_MASK = 3 << 17, APIC_LVT_TIMER_TSCDEADLINE = 2 << 17;
export const APIC_ESR_SENDILL = 0x20, APIC_ESR_RECVILL = 0x40;
/** The bus clock the timer counts (Xen's APIC_BUS_CYCLE_NS = 1). */
export const APIC_BUS_HZ = 1_000_000_000n;
const APIC_BASE_ENABLE = 1n << 11n;

const LVT_MASK = APIC_LVT_MASKED | 0xff;
const LINT_MASK = LVT_MASK | APIC_MODE_MASK | (1 << 13) | (1 << 15);
/** Writable bits of LVTT, LVTTHMR, LVTPC, LVT0, LVT1, LVTERR (Xen's vlapic_lvt_mask, less the read-only status bits). */
const LVT_WRITABLE = [LVT_MASK | APIC_TIMER_MODE_MASK, LVT_MASK | APIC_MODE_MASK, LVT_MASK | APIC_MODE_MASK,
  LINT_MASK, LINT_MASK, LVT_MASK];

export class Vlapic implements MmioDevice {
  readonly name = 'vlapic';
  /** The register page as 32-bit words (offset >> 2). */
  private readonly regs = new Uint32Array(0x400);
  /** Errors detected since the last ESR write (the ESR shows them after the next write). */
  private pendingEsr = 0;
  /** Timer: bus tick when the current count was loaded (or rebased), and whether it runs. */
  private timerBase = 0n;
  private readonly timer: Timer;
  /** Timer interrupts raised; IPIs this model drops (NMI, INIT, SIPI). */
  timerFired = 0;
  droppedIpis = 0;

  /**
   * `apicBase` reads IA32_APIC_BASE (the CPU holds it: base address and the global enable bit 11).
   */
  constructor(private readonly clock: GuestClock, readonly vcpuId: number, private readonly apicBase: () => bigint) {
    this.timer = clock.timers.initTimer((_t, now) => this.timerFn(now), clock.cpu);
    this.reset();
  }

  /** vlapic_reset(): the state after INIT/power-up (SDM 11.4.7.1). */
  reset(): void {
    this.regs.fill(0);
    this.set(APIC_ID, this.vcpuId << 24);
    this.set(APIC_LVR, VLAPIC_VERSION);
    this.set(APIC_DFR, 0xffffffff);
    this.set(APIC_SPIV, 0xff);
    for (let i = 0; i < 6; i++) this.set(APIC_LVTT + i * 0x10, APIC_LVT_MASKED);
    this.clock.timers.stopTimer(this.timer);
  }

  get range(): MmioRange { return { base: Number(this.apicBase() & 0xfffff000n), size: 0x1000 }; }

  private get(off: number): number { return this.regs[off >> 2]; }
  private set(off: number, v: number): void { this.regs[off >> 2] = v >>> 0; }

  get hwEnabled(): boolean { return (this.apicBase() & APIC_BASE_ENABLE) !== 0n; }
  get swEnabled(): boolean { return (this.get(APIC_SPIV) & APIC_SPIV_APIC_ENABLED) !== 0; }
  /** vlapic_enabled(). */
  get enabled(): boolean { return this.hwEnabled && this.swEnabled; }

  /** vlapic_accept_pic_intr(): the 8259A's INT is taken through LINT0 (vCPU 0 only). */
  acceptPicIntr(): boolean {
    if (this.vcpuId !== 0) return false;
    return (this.get(APIC_LVT0) & (APIC_MODE_MASK | APIC_LVT_MASKED)) === APIC_DM_EXTINT || !this.enabled;
  }

  // ---- the 256-bit vector registers ----

  private testBit(base: number, vec: number): boolean { return (this.get(base + ((vec >> 5) << 4)) & (1 << (vec & 31))) !== 0; }
  private setBit(base: number, vec: number, on: boolean): void {
    const off = base + ((vec >> 5) << 4), m = 1 << (vec & 31);
    this.set(off, on ? this.get(off) | m : this.get(off) & ~m);
  }
  private highest(base: number): number {
    for (let i = 7; i >= 0; i--) {
      const w = this.get(base + (i << 4));
      if (w) return i * 32 + 31 - Math.clz32(w);
    }
    return -1;
  }

  /** SDM 11.8.3.1: PPR = TPR if TPR[7:4] >= ISRV[7:4], else ISRV[7:4] << 4. */
  ppr(): number {
    const tpr = this.get(APIC_TASKPRI) & 0xff, isr = Math.max(this.highest(APIC_ISR), 0);
    return (tpr & 0xf0) >= (isr & 0xf0) ? tpr : isr & 0xf0;
  }

  /** vlapic_set_irq(): an interrupt for `vector` arrives (edge, or level with TMR). */
  setIrq(vector: number, level = false): void {
    if (vector < 16) { this.pendingEsr |= APIC_ESR_RECVILL; return; }
    this.setBit(APIC_TMR, vector, level);
    this.setBit(APIC_IRR, vector, true);
  }

  /** vlapic_has_pending_irq() with the TPR check of hvm_interrupt_blocked: the vector to deliver, or -1. */
  hasPendingIrq(): number {
    if (!this.enabled) return -1;
    const irr = this.highest(APIC_IRR);
    if (irr < 0 || (irr & 0xf0) <= (this.ppr() & 0xf0)) return -1;
    return irr;
  }

  /** vlapic_ack_pending_irq(): IRR to ISR. */
  ackPendingIrq(vector: number): boolean {
    if (this.hasPendingIrq() !== vector) return false;
    this.setBit(APIC_IRR, vector, false);
    this.setBit(APIC_ISR, vector, true);
    return true;
  }

  /** vlapic_EOI_set(): the highest in-service vector is done. */
  private eoi(): void {
    const v = this.highest(APIC_ISR);
    if (v < 0) return;
    this.setBit(APIC_ISR, v, false);
    this.setBit(APIC_TMR, v, false);
  }

  // ---- the timer (SDM 11.5.4) ----

  private busTick(now: bigint): bigint { return now * APIC_BUS_HZ / this.clock.hz; }
  private cyclesAt(tick: bigint): bigint { return (tick * this.clock.hz + APIC_BUS_HZ - 1n) / APIC_BUS_HZ; }

  /** The divide configuration's divisor: TDCR bits 3, 1, 0 (111 is divide by 1). */
  divisor(): bigint {
    const d = this.get(APIC_TDCR), v = (d & 3) | ((d & 8) >> 1);
    return v === 7 ? 1n : 2n << BigInt(v);
  }

  private timerMode(): number { return this.get(APIC_LVTT) & APIC_TIMER_MODE_MASK; }

  /** Timer counts elapsed since the count was loaded, at virtual time `now`. */
  private elapsedCounts(now: bigint): bigint { return (this.busTick(now) - this.timerBase) / this.divisor(); }

  /** The current count register at `now`. */
  currentCount(now = this.clock.now()): number {
    const init = BigInt(this.get(APIC_TMICT));
    if (init === 0n || this.timerMode() === APIC_LVT_TIMER_TSCDEADLINE) return 0;
    const e = this.elapsedCounts(now);
    if (this.timerMode() === APIC_LVT_TIMER_PERIODIC) return Number(init - (e % init));
    return e >= init ? 0 : Number(init - e);
  }

  /**
   * Arms the timer for the next time the count reaches 0 after `now`, if that raises an interrupt
   * (a masked timer counts all the same: the current count is computed when read).
   */
  private armTimer(now: bigint): void {
    const init = BigInt(this.get(APIC_TMICT)), mode = this.timerMode();
    if (init === 0n || mode === APIC_LVT_TIMER_TSCDEADLINE || this.get(APIC_LVTT) & APIC_LVT_MASKED) {
      this.clock.timers.stopTimer(this.timer);
      return;
    }
    const period = init * this.divisor(), d = this.busTick(now) - this.timerBase;
    let at: bigint;
    if (mode === APIC_LVT_TIMER_PERIODIC) at = this.timerBase + (d / period + 1n) * period;
    else if (d < period) at = this.timerBase + period;
    else { this.clock.timers.stopTimer(this.timer); return; }
    this.clock.timers.setTimer(this.timer, this.cyclesAt(at));
  }

  /** The count reached 0 with LVTT unmasked: the timer interrupt. */
  private timerFn(now: bigint): void {
    this.timerFired++;
    this.setIrq(this.get(APIC_LVTT) & 0xff);
    this.armTimer(now);
  }

  // ---- the ICR ----

  /** vlapic_ipi(): with one vCPU, fixed and lowest-priority IPIs reach this APIC when it is addressed. */
  private sendIpi(low: number, high: number): void {
    const mode = low & APIC_MODE_MASK, vector = low & 0xff, shorthand = (low >> 18) & 3;
    let toSelf: boolean;
    if (shorthand === 1 || shorthand === 2) toSelf = true;
    else if (shorthand === 3) toSelf = false;
    else {
      const dest = high >>> 24;
      if (low & (1 << 11)) toSelf = (dest & (this.get(APIC_LDR) >>> 24)) !== 0;            // logical, flat model
      else toSelf = dest === 0xff || dest === this.get(APIC_ID) >>> 24;                        // physical
    }
    if (mode !== 0 && mode !== 0x100) { this.droppedIpis++; return; }
    if (vector < 16) { this.pendingEsr |= APIC_ESR_SENDILL; return; }
    if (toSelf) this.setIrq(vector, (low & (1 << 15)) !== 0);
  }

  // ---- the register page ----

  private readReg(off: number, now: bigint): number {
    switch (off) {
      case APIC_PROCPRI: return this.ppr();
      case APIC_ARBPRI: case APIC_EOI: case APIC_RRR: return 0;
      case APIC_TMCCT: return this.currentCount(now);
      default: return off < 0x400 ? this.get(off) : 0;
    }
  }

  read(gpa: number, size: MmioSize): bigint {
    const off = gpa - this.range.base, now = this.clock.now();
    if (size === 8) return BigInt(this.read(gpa, 4)) | (BigInt(this.read(gpa + 4, 4)) << 32n);
    // Each register is the first dword of a 16-byte slot; bytes are read out of that dword.
    const slot = off & ~0xf, within = off & 0xf;
    if (within >= 4) return 0n;
    const v = this.readReg(slot, now) >>> (within * 8);
    return BigInt(size === 4 ? v : v & ((1 << (size * 8)) - 1));
  }

  write(gpa: number, size: MmioSize, value: bigint): void {
    const off = gpa - this.range.base;
    if (size === 8) { this.write(gpa, 4, value & 0xffffffffn); this.write(gpa + 4, 4, value >> 32n); return; }
    if (size !== 4 || off & 0xf) return;                 // registers are written as aligned dwords
    const v = Number(value & 0xffffffffn) >>> 0, now = this.clock.now();
    switch (off) {
      case APIC_ID: this.set(APIC_ID, v & 0xff000000); break;
      case APIC_TASKPRI: this.set(APIC_TASKPRI, v & 0xff); break;
      case APIC_EOI: this.eoi(); break;
      case APIC_LDR: this.set(APIC_LDR, v & 0xff000000); break;
      case APIC_DFR: this.set(APIC_DFR, v | 0x0fffffff); break;
      case APIC_SPIV:
        this.set(APIC_SPIV, v & 0x3ff);
        // Software disable masks every LVT entry (SDM 11.4.7.2).
        if (!(v & APIC_SPIV_APIC_ENABLED)) for (let i = 0; i < 6; i++) this.set(APIC_LVTT + i * 0x10, this.get(APIC_LVTT + i * 0x10) | APIC_LVT_MASKED);
        this.armTimer(now);
        break;
      case APIC_ESR: this.set(APIC_ESR, this.pendingEsr); this.pendingEsr = 0; break;
      case APIC_ICR: this.set(APIC_ICR, v & ~(1 << 12)); this.sendIpi(v, this.get(APIC_ICR2)); break;
      case APIC_ICR2: this.set(APIC_ICR2, v & 0xff000000); break;
      case APIC_LVTT: case APIC_LVTTHMR: case APIC_LVTPC: case APIC_LVT0: case APIC_LVT1: case APIC_LVTERR: {
        const i = (off - APIC_LVTT) >> 4;
        let w = v & LVT_WRITABLE[i];
        if (!this.swEnabled) w |= APIC_LVT_MASKED;       // cannot be unmasked while software disabled
        const keep = this.get(off) & ~LVT_WRITABLE[i] & (i === 3 || i === 4 ? 1 << 14 : 0);   // remote IRR
        this.set(off, w | keep);
        if (off === APIC_LVTT) this.armTimer(now);
        break;
      }
      case APIC_TMICT:
        this.set(APIC_TMICT, v);
        this.timerBase = this.busTick(now);
        this.armTimer(now);
        break;
      case APIC_TDCR: {
        // The count goes on from where it is at the new rate.
        const counted = this.elapsedCounts(now);
        this.set(APIC_TDCR, v & 0xb);
        this.timerBase = this.busTick(now) - counted * this.divisor();
        this.armTimer(now);
        break;
      }
      default: break;                                    // read-only or reserved
    }
  }
}
