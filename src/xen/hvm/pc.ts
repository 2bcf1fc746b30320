// The PC platform of an HVM guest (Xen's hvm_domain_initialise with the
// emulated devices of XEN_X86_EMU_PIC | _PIT | _RTC, and _LAPIC on request):
// the two 8259A PICs (vpic.ts) as the interrupt controller, the 8254 PIT
// (i8254.ts) on IRQ0, the MC146818 RTC (rtc.ts) on IRQ8, the COM1 16550's
// interrupt on IRQ4, and optionally vCPU 0's local APIC (vlapic.ts). Ports nobody claims (the i8042 at 0x60/0x64 among them) read all
// ones, as on a PC without the device (devices/portio.ts).
//
// Usage: `new Domain({ ..., platform: 'pc', pc: { rtcStart, lapic } })`; the
// devices are then `d.pc.vpic`, `d.pc.pit`, `d.pc.rtc` (and `d.pc.vlapic`),
// `d.uart` is COM1 on IRQ4, and `d.irq` is `d.pc.irq`: the vpic, or with the
// local APIC the two as Xen's hvm_vcpu_has_pending_irq orders them.
import type { PortIoBus } from '../devices/portio.js';
import type { MmioBus } from '../devices/mmio.js';
import type { Vcpu } from '../vcpu.js';
import type { HvmIntack, InterruptController } from './irq.js';
import { Vlapic } from './vlapic.js';
import type { Uart16550 } from '../devices/uart16550.js';
import type { GuestClock } from './vpt.js';
import { Vpic } from './vpic.js';
import { I8254 } from './i8254.js';
import { Rtc } from './rtc.js';

/** ISA IRQs of the PC's devices. */
export const ISA_IRQ_PIT = 0, ISA_IRQ_COM1 = 4, ISA_IRQ_RTC = 8;

export interface PcPlatformOptions {
  /** The RTC's time when the domain is built (UTC; default 2026-01-01 00:00:00). */
  rtcStart?: Date;
  /**
   * A local APIC (vlapic.ts) for vCPU 0 at the IA32_APIC_BASE address (default off: Linux is
   * booted with `nolapic`, the PIC and PIT path). With it, the 8259A reaches the vCPU through
   * LINT0 (ExtINT) or while the local APIC is disabled, as on Xen.
   */
  lapic?: boolean;
}

/** What the local APIC needs from the domain: the MMIO bus and IA32_APIC_BASE. */
export interface PcApicHooks { mmio: MmioBus; apicBase: () => bigint }

/**
 * hvm_vcpu_has_pending_irq / hvm_vcpu_ack_pending_irq (xen/arch/x86/hvm/irq.c) with a vpic and a
 * vlapic: the PIC's INT first if LINT0 accepts it, then the local APIC's highest deliverable vector.
 */
export class PcInterrupts implements InterruptController {
  constructor(readonly vpic: Vpic, readonly vlapic: Vlapic) {}

  hvmVcpuHasPendingIrq(v: Vcpu): HvmIntack | undefined {
    if (v.id !== this.vlapic.vcpuId) return undefined;
    if (this.vlapic.acceptPicIntr()) {
      const pic = this.vpic.hvmVcpuHasPendingIrq(v);
      if (pic) return pic;
    }
    const vec = this.vlapic.hasPendingIrq();
    return vec < 0 ? undefined : { source: 'lapic', vector: vec };
  }

  hvmVcpuAckPendingIrq(v: Vcpu, intack: HvmIntack): HvmIntack | undefined {
    if (v.id !== this.vlapic.vcpuId) return undefined;
    if (intack.source === 'pic') return this.vlapic.acceptPicIntr() ? this.vpic.hvmVcpuAckPendingIrq(v, intack) : undefined;
    return this.vlapic.ackPendingIrq(intack.vector) ? intack : undefined;
  }
}

export class PcPlatform {
  readonly vpic = new Vpic();
  readonly pit: I8254;
  readonly rtc: Rtc;
  /** vCPU 0's local APIC, with the `lapic` option. */
  readonly vlapic: Vlapic | undefined;
  /** The domain's interrupt controller: the vpic alone, or the vpic behind the vlapic's LINT0. */
  readonly irq: InterruptController;

  constructor(readonly clock: GuestClock, io: PortIoBus, readonly uart: Uart16550, opts: PcPlatformOptions = {},
              apic?: PcApicHooks) {
    this.vpic.registerPorts(io);
    this.pit = new I8254(clock, this.vpic.isaLine(ISA_IRQ_PIT));
    this.pit.registerPorts(io);
    this.rtc = new Rtc(clock, this.vpic.isaLine(ISA_IRQ_RTC), opts.rtcStart);
    this.rtc.registerPorts(io);
    uart.connectIrq(this.vpic.isaLine(ISA_IRQ_COM1));
    if (opts.lapic) {
      if (!apic) throw new Error('the pc platform\'s local APIC needs the domain\'s MMIO bus and APIC base');
      this.vlapic = new Vlapic(clock, 0, apic.apicBase);
      apic.mmio.registerMmioHandler(this.vlapic);
      this.irq = new PcInterrupts(this.vpic, this.vlapic);
    } else {
      this.vlapic = undefined;
      this.irq = this.vpic;
    }
  }
}
