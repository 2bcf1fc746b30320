// The two cascaded 8259A programmable interrupt controllers of a PC, in the
// shape of Xen's xen/arch/x86/hvm/vpic.c (itself after QEMU's i8259): the
// master at ports 0x20/0x21, the slave at 0xA0/0xA1 on the master's IR2, the
// edge/level control registers (ELCR) at 0x4D0/0x4D1.
//
// The model follows the 8259A datasheet (Intel 231468): ICW1-ICW4 (section
// "Initialization Command Words"), OCW1 mask, OCW2 EOI / rotate / set
// priority, OCW3 read IRR or ISR, poll and special mask mode ("Operation
// Command Words"), fully nested and special fully nested modes, automatic
// EOI. vpic_update_int_output keeps each chip's INT output current; the
// slave's INT drives the master's IR2. The master's INT is what
// vmx_intr_assist sees (hvm_vcpu_has_pending_irq: source 'pic'); the
// acknowledge is the two INTA cycles (vpic_intack / cpu_get_pic_interrupt).
//
// ISA interrupt lines (hvm_isa_irq_assert / _deassert, xen/arch/x86/hvm/irq.c)
// reach the chips as vpic_irq_positive_edge / vpic_irq_negative_edge: a
// rising line sets its IRR bit, a falling line clears it. An edge-triggered
// request is forgotten when acknowledged (the edge latch), a level-triggered
// one (ELCR bit set) stays in IRR while the line is high.
//
// Spurious interrupts (datasheet "Interrupt Sequence": a request that goes
// away before the INTA cycle yields the IR7 vector with no ISR bit set) are
// modelled in intack(): an acknowledge with nothing to deliver answers IR7 of
// that chip (IRQ7 on the master, IRQ15 on the slave via IR2) and sets no ISR
// bit. Xen's vpic_intack never reaches that state because it checks
// int_output first; so does hvmVcpuAckPendingIrq here (it answers undefined).
//
// Where this differs from Xen's vpic.c: the poll command (OCW3 P=1) answers
// the datasheet's poll word (bit 7 = an interrupt was pending, bits 2-0 its
// level; 0 when none) where Xen returns the bare IRQ number or -1.
import type { PortIoDevice } from '../devices/portio.js';
import type { Vcpu } from '../vcpu.js';
import type { HvmIntack, InterruptController, IrqLine } from './irq.js';

export const PIC_MASTER_CMD = 0x20, PIC_MASTER_DATA = 0x21;
export const PIC_SLAVE_CMD = 0xa0, PIC_SLAVE_DATA = 0xa1;
export const PIC_ELCR1 = 0x4d0, PIC_ELCR2 = 0x4d1;
/** The master's input the slave's INT output is wired to. */
export const PIC_CASCADE_IR = 2;

/** vpic_get_priority's answer for an empty mask. */
const PRIO_NONE = 8;

/** One 8259A (struct hvm_hw_vpic). */
export class I8259 {
  irr = 0;
  imr = 0;
  isr = 0;
  /** ICW2: vector of IR0 (bits 7-3). */
  irqBase = 0;
  /** The IR that has the lowest priority is (priorityAdd + 7) & 7 (rotation). */
  priorityAdd = 0;
  /** ELCR: 1 = level-triggered. */
  elcr = 0;
  /** Initialization state: bits 1-0 the next ICW (1 = ICW2, 2 = ICW3, 3 = ICW4, 0 = done), bit 2 IC4, bit 3 SNGL. */
  initState = 0;
  autoEoi = false;
  rotateOnAutoEoi = false;
  specialFullyNested = false;
  specialMask = false;
  readIsr = false;
  poll = false;
  /** The INT output. */
  intOutput = false;

  constructor(readonly isMaster: boolean) {}

  /** ELCR bits that can be level-triggered: IRQ0, 1, 2 and 8, 13 are always edge (Xen's vpic_elcr_mask). */
  get elcrMask(): number { return this.isMaster ? 0xf8 : 0xde; }

  /** vpic_get_priority(): the highest priority (0 highest) among `mask`'s bits under the current rotation; 8 if none. */
  priority(mask: number): number {
    if ((mask & 0xff) === 0) return PRIO_NONE;
    for (let p = 0; p < 8; p++) if (mask & (1 << ((p + this.priorityAdd) & 7))) return p;
    return PRIO_NONE;
  }

  /** vpic_get_highest_priority_irq(): the IR that should interrupt now, or -1. */
  highestIrq(): number {
    const p = this.priority(this.irr & ~this.imr);
    if (p === PRIO_NONE) return -1;
    const irq = (p + this.priorityAdd) & 7;
    // In service, only a higher priority interrupts (fully nested mode). Special fully nested mode
    // on the master: a further request from the slave may interrupt its own in-service IR2.
    // Special mask mode: masked IRs in service do not block lower priorities.
    let inService = this.isr;
    if (this.specialFullyNested && this.isMaster && irq === PIC_CASCADE_IR) inService &= ~(1 << PIC_CASCADE_IR);
    if (this.specialMask) inService &= ~this.imr;
    return p < this.priority(inService) ? irq : -1;
  }
}

/** An ISA interrupt line into the PICs (hvm_isa_irq_assert / hvm_isa_irq_deassert). */
class IsaLine implements IrqLine {
  asserted = false;
  constructor(readonly irq: number, private readonly pic: Vpic) {}
  assert(): void {
    if (this.asserted) return;
    this.asserted = true;
    this.pic.irqPositiveEdge(this.irq);
  }
  deassert(): void {
    if (!this.asserted) return;
    this.asserted = false;
    this.pic.irqNegativeEdge(this.irq);
  }
}

/**
 * The PC's pair of 8259As (Xen's vpic[2] in struct hvm_irq), one device on ports 0x20-0x21,
 * 0xA0-0xA1 and 0x4D0-0x4D1, and the interrupt controller of vCPU 0 (the master's INT is wired
 * to the BSP; Xen routes it through LVT0 of a vlapic, which this platform does not have).
 */
export class Vpic implements PortIoDevice, InterruptController {
  readonly name = 'i8259 (vpic)';
  readonly master = new I8259(true);
  readonly slave = new I8259(false);
  private readonly lines: IsaLine[] = [];
  /** Interrupts delivered, and spurious (IR7) acknowledges. */
  delivered = 0;
  spurious = 0;

  constructor() {
    // vpic_init(): the cascade input is level-triggered on the master.
    this.master.elcr = 1 << PIC_CASCADE_IR;
    for (let i = 0; i < 16; i++) this.lines.push(new IsaLine(i, this));
  }

  /** Registers the device's ports on `bus`. */
  registerPorts(bus: { register(base: number, count: number, dev: PortIoDevice): void }): void {
    bus.register(PIC_MASTER_CMD, 2, this);
    bus.register(PIC_SLAVE_CMD, 2, this);
    bus.register(PIC_ELCR1, 2, this);
  }

  /** ISA IRQ line `irq` (0-15; 2 is the cascade and has no device). */
  isaLine(irq: number): IrqLine {
    if (!Number.isInteger(irq) || irq < 0 || irq > 15 || irq === PIC_CASCADE_IR) throw new RangeError(`no ISA line ${irq}`);
    return this.lines[irq];
  }

  private chip(irq: number): I8259 { return irq < 8 ? this.master : this.slave; }

  /** vpic_irq_positive_edge(). */
  irqPositiveEdge(irq: number): void {
    const c = this.chip(irq);
    c.irr |= 1 << (irq & 7);
    this.updateIntOutput(c);
  }

  /** vpic_irq_negative_edge(): the request goes away (edge or level) unless already acknowledged. */
  irqNegativeEdge(irq: number): void {
    const c = this.chip(irq);
    c.irr &= ~(1 << (irq & 7));
    this.updateIntOutput(c);
  }

  /** vpic_update_int_output(): recompute INT; the slave's INT is the master's IR2 (level). */
  private updateIntOutput(c: I8259): void {
    const out = c.highestIrq() >= 0;
    if (c.intOutput === out) return;
    c.intOutput = out;
    if (c === this.slave) {
      if (out) this.master.irr |= 1 << PIC_CASCADE_IR;
      else this.master.irr &= ~(1 << PIC_CASCADE_IR);
      this.updateIntOutput(this.master);
    }
  }

  /** __vpic_intack(): the INTA cycle on one chip for `irq`. */
  private ackOne(c: I8259, irq: number): void {
    const mask = 1 << irq;
    if (!(c.elcr & mask)) c.irr &= ~mask;              // edge: forget the edge
    if (!c.autoEoi) c.isr |= mask;
    else if (c.rotateOnAutoEoi) c.priorityAdd = (irq + 1) & 7;
    this.updateIntOutput(c);
  }

  /**
   * The INTA sequence on chip `c` (vpic_intack): the IRQ number (0-15) acknowledged. With no
   * request to deliver the chip answers IR7 and sets no ISR bit (the datasheet's spurious
   * interrupt); a master IR2 with nothing pending on the slave answers IRQ15 the same way.
   */
  intack(c: I8259 = this.master): { irq: number; spurious: boolean } {
    let irq = c.highestIrq();
    if (irq < 0) { this.spurious++; return { irq: c === this.master ? 7 : 15, spurious: true }; }
    this.ackOne(c, irq);
    if (c === this.master && irq === PIC_CASCADE_IR) {
      const s = this.slave;
      irq = s.highestIrq();
      if (irq < 0) { this.spurious++; return { irq: 15, spurious: true }; }
      this.ackOne(s, irq);
      return { irq: irq + 8, spurious: false };
    }
    return { irq: c === this.master ? irq : irq + 8, spurious: false };
  }

  private vectorOf(irq: number): number { return (this.chip(irq).irqBase + (irq & 7)) & 0xff; }

  /** The IRQ the next INTA would deliver, without acknowledging it; -1 if INT is low. */
  pendingIrq(): number {
    if (!this.master.intOutput) return -1;
    const irq = this.master.highestIrq();
    if (irq !== PIC_CASCADE_IR) return irq;
    const s = this.slave.highestIrq();
    return s < 0 ? 15 : s + 8;
  }

  // ---- InterruptController (hvm_vcpu_has_pending_irq / hvm_vcpu_ack_pending_irq, source pic) ----

  hvmVcpuHasPendingIrq(v: Vcpu): HvmIntack | undefined {
    if (v.id !== 0) return undefined;
    const irq = this.pendingIrq();
    return irq < 0 ? undefined : { source: 'pic', vector: this.vectorOf(irq) };
  }

  /** cpu_get_pic_interrupt(): the INTA cycles; the vector comes from the acknowledge, not from `intack`. */
  hvmVcpuAckPendingIrq(v: Vcpu, _intack: HvmIntack): HvmIntack | undefined {
    if (v.id !== 0 || !this.master.intOutput) return undefined;
    const { irq } = this.intack(this.master);
    this.delivered++;
    return { source: 'pic', vector: this.vectorOf(irq) };
  }

  // ---- the ports ----

  read(port: number, size: 1 | 2 | 4): number {
    if (size !== 1) return size === 2 ? 0xffff : 0xffffffff;  // the PICs decode byte accesses only
    if (port === PIC_ELCR1 || port === PIC_ELCR2) {
      const c = port === PIC_ELCR1 ? this.master : this.slave;
      return c.elcr & c.elcrMask;                       // the hard-wired cascade bit is not shown
    }
    const c = port < PIC_SLAVE_CMD ? this.master : this.slave;
    if (c.poll) {
      // Poll command: the next read is an acknowledge; the poll word is I (bit 7) and W2-W0.
      c.poll = false;
      if (c.highestIrq() < 0) return 0;
      const { irq } = this.intack(c);
      return 0x80 | (irq & 7);
    }
    if ((port & 1) === 0) return c.readIsr ? c.isr : c.irr;
    return c.imr;
  }

  write(port: number, size: 1 | 2 | 4, value: number): void {
    if (size !== 1) return;
    const val = value & 0xff;
    if (port === PIC_ELCR1 || port === PIC_ELCR2) {
      const c = port === PIC_ELCR1 ? this.master : this.slave;
      c.elcr = (val & c.elcrMask) | (c.isMaster ? 1 << PIC_CASCADE_IR : 0);
      this.updateIntOutput(c);
      return;
    }
    const c = port < PIC_SLAVE_CMD ? this.master : this.slave;
    if ((port & 1) === 0) this.writeCommand(c, val);
    else this.writeData(c, val);
    this.updateIntOutput(c);
  }

  /** A0 = 0: ICW1 (D4 = 1), OCW3 (D4 = 0, D3 = 1) or OCW2 (D4 = D3 = 0). */
  private writeCommand(c: I8259, val: number): void {
    if (val & 0x10) {
      // ICW1: edge sense reset, IMR and ISR cleared, IR7 lowest priority, special mask off,
      // read IRR selected; without IC4 the ICW4 functions are cleared.
      c.irr &= c.elcr;
      c.imr = 0; c.isr = 0;
      c.priorityAdd = 0;
      c.rotateOnAutoEoi = false;
      c.specialMask = false;
      c.readIsr = false;
      c.poll = false;
      if (!(val & 1)) { c.autoEoi = false; c.specialFullyNested = false; }
      c.initState = ((val & 3) << 2) | 1;
      return;
    }
    if (val & 0x08) {
      // OCW3: P (bit 2) poll; RR (bit 1) with RIS (bit 0) selects IRR/ISR; ESMM (bit 6) with SMM (bit 5).
      if (val & 0x04) c.poll = true;
      if (val & 0x02) c.readIsr = (val & 1) !== 0;
      if (val & 0x40) c.specialMask = ((val >> 5) & 1) !== 0;
      return;
    }
    // OCW2: R (bit 7), SL (bit 6), EOI (bit 5); L2-L0 the level.
    const cmd = val >> 5;
    switch (cmd) {
      case 0: case 4:                                   // rotate in automatic EOI mode: clear / set
        c.rotateOnAutoEoi = cmd === 4;
        break;
      case 1: case 5: {                                 // non-specific EOI (and rotate)
        let mask = c.isr;
        if (c.specialMask) mask &= ~c.imr;
        const p = c.priority(mask);
        if (p === PRIO_NONE) break;
        const irq = (p + c.priorityAdd) & 7;
        c.isr &= ~(1 << irq);
        if (cmd === 5) c.priorityAdd = (irq + 1) & 7;
        break;
      }
      case 3: case 7: {                                 // specific EOI (and rotate)
        const irq = val & 7;
        c.isr &= ~(1 << irq);
        if (cmd === 7) c.priorityAdd = (irq + 1) & 7;
        break;
      }
      case 6:                                           // set priority: L2-L0 becomes the lowest
        c.priorityAdd = (val + 1) & 7;
        break;
      default:                                          // 2: no operation
        break;
    }
  }

  /** A0 = 1: the next ICW during initialization, else OCW1 (the mask). */
  private writeData(c: I8259, val: number): void {
    switch (c.initState & 3) {
      case 0:
        c.imr = val;
        return;
      case 1:                                           // ICW2: T7-T3
        c.irqBase = val & 0xf8;
        c.initState++;
        if (!(c.initState & 8)) return;                 // cascade mode: ICW3 follows
        // single mode: no ICW3
        c.initState++;
        if (!(c.initState & 4)) c.initState = 0;
        return;
      case 2:                                           // ICW3: slave map / slave ID (cascade wiring is fixed)
        c.initState++;
        if (!(c.initState & 4)) c.initState = 0;        // no ICW4
        return;
      case 3:                                           // ICW4: SFNM (bit 4), AEOI (bit 1)
        c.specialFullyNested = ((val >> 4) & 1) !== 0;
        c.autoEoi = ((val >> 1) & 1) !== 0;
        c.initState = 0;
        return;
    }
  }
}
