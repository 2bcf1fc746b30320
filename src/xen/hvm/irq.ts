// The guest's interrupt controller as the vCPU sees it, in the shape of Xen's
// xen/arch/x86/hvm/irq.c: before each VM entry vmx_intr_assist() asks
// hvm_vcpu_has_pending_irq() for the highest-priority pending interrupt
// (struct hvm_intack: source and vector) and, once the guest can take it,
// hvm_vcpu_ack_pending_irq() acknowledges it; devices raise and lower their
// lines (hvm_isa_irq_assert / hvm_isa_irq_deassert) and never name a vector.
//
// HvmIrq is the trivial controller the TVM needs: each line is wired to one
// vCPU and one vector, delivered directly (Xen's hvm_intsrc_vector: no PIC or
// APIC between, no EOI), lower line numbers first. Acknowledging a line
// lowers it (edge-triggered) and tells its device (Xen's pt_intr_post for a
// periodic timer). A vlapic/vpic/vioapic implements InterruptController in
// its place.
import type { Vcpu } from '../vcpu.js';

/** enum hvm_intsrc (less hvm_intsrc_none: no pending interrupt is `undefined`). */
export type HvmIntsrc = 'pic' | 'lapic' | 'nmi' | 'mce' | 'vector';

/** struct hvm_intack. */
export interface HvmIntack { source: HvmIntsrc; vector: number }

/** What vmx_intr_assist asks of the domain's interrupt controller. */
export interface InterruptController {
  /** hvm_vcpu_has_pending_irq(): the interrupt `v` would take next, if any. */
  hvmVcpuHasPendingIrq(v: Vcpu): HvmIntack | undefined;
  /** hvm_vcpu_ack_pending_irq(): the guest takes `intack`; undefined if it is no longer pending. */
  hvmVcpuAckPendingIrq(v: Vcpu, intack: HvmIntack): HvmIntack | undefined;
}

/** An interrupt line as a device holds it. */
export interface IrqLine {
  readonly irq: number;
  readonly asserted: boolean;
  /** hvm_isa_irq_assert(). */
  assert(): void;
  /** hvm_isa_irq_deassert(). */
  deassert(): void;
}

class DirectLine implements IrqLine {
  asserted = false;
  constructor(readonly irq: number, readonly vcpu: number, readonly vector: number, readonly intrPost: () => void) {}
  assert(): void { this.asserted = true; }
  deassert(): void { this.asserted = false; }
}

/** struct hvm_irq with direct vector delivery. */
export class HvmIrq implements InterruptController {
  private readonly lines: DirectLine[] = [];

  /**
   * Wires the next line to vCPU `vcpu` and `vector`; `intrPost` runs when that vCPU takes the
   * interrupt (the device's pt_intr_post).
   */
  connect(vcpu: number, vector: number, intrPost: () => void = () => {}): IrqLine {
    const line = new DirectLine(this.lines.length, vcpu, vector, intrPost);
    this.lines.push(line);
    return line;
  }

  hvmVcpuHasPendingIrq(v: Vcpu): HvmIntack | undefined {
    for (const l of this.lines) if (l.asserted && l.vcpu === v.id) return { source: 'vector', vector: l.vector };
    return undefined;
  }

  hvmVcpuAckPendingIrq(v: Vcpu, intack: HvmIntack): HvmIntack | undefined {
    for (const l of this.lines) {
      if (!l.asserted || l.vcpu !== v.id || l.vector !== intack.vector) continue;
      l.deassert();
      l.intrPost();
      return intack;
    }
    return undefined;
  }
}
