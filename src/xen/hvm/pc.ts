// The PC platform of an HVM guest without an APIC (Xen's hvm_domain_initialise
// with the emulated devices of XEN_X86_EMU_PIC | _PIT | _RTC): the two 8259A
// PICs (vpic.ts) as the interrupt controller, the 8254 PIT (i8254.ts) on
// IRQ0, the MC146818 RTC (rtc.ts) on IRQ8, and the COM1 16550's interrupt on
// IRQ4. Ports nobody claims (the i8042 at 0x60/0x64 among them) read all
// ones, as on a PC without the device (devices/portio.ts).
//
// Usage: `new Domain({ ..., platform: 'pc', pc: { rtcStart } })`; the
// devices are then `d.pc.vpic`, `d.pc.pit`, `d.pc.rtc`, and `d.irq` is the vpic.
import type { PortIoBus } from '../devices/portio.js';
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
}

export class PcPlatform {
  readonly vpic = new Vpic();
  readonly pit: I8254;
  readonly rtc: Rtc;

  constructor(readonly clock: GuestClock, io: PortIoBus, readonly uart: Uart16550, opts: PcPlatformOptions = {}) {
    this.vpic.registerPorts(io);
    this.pit = new I8254(clock, this.vpic.isaLine(ISA_IRQ_PIT));
    this.pit.registerPorts(io);
    this.rtc = new Rtc(clock, this.vpic.isaLine(ISA_IRQ_RTC), opts.rtcStart);
    this.rtc.registerPorts(io);
    uart.connectIrq(this.vpic.isaLine(ISA_IRQ_COM1));
  }
}
