// The 8259A pair (src/xen/hvm/vpic.ts) driven through its ports, after the
// Intel 8259A datasheet (231468: "Initialization Command Words", "Operation
// Command Words", "Interrupt Sequence") and Xen's xen/arch/x86/hvm/vpic.c.
import { describe, it, expect } from 'vitest';
import { Vpic } from '../src/xen/hvm/vpic.js';
import { PortIoBus } from '../src/xen/devices/portio.js';
import type { Vcpu } from '../src/xen/vcpu.js';

const bsp = { id: 0 } as Vcpu;

/** A PC's PICs on a bus, initialised as Linux's init_8259A (arch/x86/kernel/i8259.c) does. */
function linuxPic(opts: { autoEoi?: boolean } = {}): { pic: Vpic; io: PortIoBus; out: (p: number, v: number) => void; inb: (p: number) => number } {
  const pic = new Vpic(), io = new PortIoBus();
  pic.registerPorts(io);
  const out = (p: number, v: number) => io.write(p, 1, v), inb = (p: number) => io.read(p, 1);
  out(0x21, 0xff); out(0xa1, 0xff);                 // mask all
  out(0x20, 0x11);                                  // ICW1: edge, cascade, ICW4 needed
  out(0x21, 0x30);                                  // ICW2: IR0-7 at vectors 0x30-0x37
  out(0x21, 0x04);                                  // ICW3: slave on IR2
  out(0x21, opts.autoEoi ? 0x03 : 0x01);            // ICW4: 8086 mode (+ AEOI)
  out(0xa0, 0x11); out(0xa1, 0x38); out(0xa1, 0x02); out(0xa1, 0x01);
  out(0x21, 0x00); out(0xa1, 0x00);                 // OCW1: unmask all
  return { pic, io, out, inb };
}

/** Delivers the pending interrupt as vmx_intr_assist would: the vector, or undefined. */
function take(pic: Vpic): number | undefined {
  const i = pic.hvmVcpuHasPendingIrq(bsp);
  if (!i) return undefined;
  const a = pic.hvmVcpuAckPendingIrq(bsp, i)!;
  expect(a.vector).toBe(i.vector);                  // the peeked vector is what the INTA cycle gives
  return a.vector;
}

const readIsr = (t: ReturnType<typeof linuxPic>, port = 0x20) => { t.out(port, 0x0b); return t.inb(port); };
const readIrr = (t: ReturnType<typeof linuxPic>, port = 0x20) => { t.out(port, 0x0a); return t.inb(port); };

describe('8259A datasheet: initialization (ICW1-ICW4) and OCW1', () => {
  it('after the ICW sequence the vector is ICW2 T7-T3 plus the level; IMR reads back at A0 = 1', () => {
    const t = linuxPic();
    expect(t.inb(0x21)).toBe(0);
    t.out(0x21, 0xfa);
    expect(t.inb(0x21)).toBe(0xfa);                  // OCW1 is the mask register
    t.out(0x21, 0);
    t.pic.isaLine(1).assert();
    expect(take(t.pic)).toBe(0x31);
    expect(readIsr(t)).toBe(0x02);                   // in service until EOI
    expect(readIrr(t)).toBe(0x00);                   // edge: the request is gone once acknowledged
    t.out(0x20, 0x20);                               // OCW2 non-specific EOI
    expect(readIsr(t)).toBe(0);
  });

  it('ICW1 resets IMR, ISR, rotation and the edge latches; without IC4 the ICW4 functions are cleared', () => {
    const t = linuxPic({ autoEoi: true });
    t.out(0x21, 0x55);
    t.pic.isaLine(3).assert();
    t.out(0x20, 0x13);                               // ICW1 with SNGL (no ICW3), IC4
    expect(t.inb(0x21)).toBe(0);                     // IMR cleared
    expect(readIrr(t)).toBe(0);                      // edge-sense latch reset
    t.out(0x21, 0x40);                               // ICW2
    t.out(0x21, 0x01);                               // ICW4 directly (single mode skips ICW3)
    expect(t.pic.master.initState).toBe(0);
    t.out(0x21, 0x7f);                               // and the next data write is OCW1 again
    expect(t.inb(0x21)).toBe(0x7f);
    t.out(0x20, 0x10);                               // ICW1 without IC4
    expect(t.pic.master.autoEoi).toBe(false);
  });

  it('a masked request stays in IRR and is delivered when unmasked', () => {
    const t = linuxPic();
    t.out(0x21, 0x01);
    t.pic.isaLine(0).assert();
    expect(take(t.pic)).toBeUndefined();
    expect(readIrr(t)).toBe(0x01);
    t.out(0x21, 0x00);
    expect(take(t.pic)).toBe(0x30);
  });
});

describe('8259A datasheet: priority (fully nested mode), EOI and rotation', () => {
  it('the lowest-numbered request wins; a lower priority waits for EOI, a higher one nests', () => {
    const t = linuxPic();
    t.pic.isaLine(3).assert(); t.pic.isaLine(1).assert();
    expect(take(t.pic)).toBe(0x31);
    expect(take(t.pic)).toBeUndefined();             // IR3 is blocked by IR1 in service
    t.pic.isaLine(0).assert();
    expect(take(t.pic)).toBe(0x30);                  // IR0 has higher priority: nests
    expect(readIsr(t)).toBe(0x03);
    t.out(0x20, 0x20);                               // non-specific EOI clears the highest in service (IR0)
    expect(readIsr(t)).toBe(0x02);
    expect(take(t.pic)).toBeUndefined();
    t.out(0x20, 0x61);                               // specific EOI for IR1
    expect(take(t.pic)).toBe(0x33);
  });

  it('specific EOI with rotate makes that level the lowest priority; set priority names the lowest', () => {
    const t = linuxPic();
    t.pic.isaLine(1).assert();
    expect(take(t.pic)).toBe(0x31);
    t.out(0x20, 0xe1);                               // rotate on specific EOI, level 1: IR2 is now highest
    expect(t.pic.master.priorityAdd).toBe(2);
    t.pic.isaLine(1).deassert(); t.pic.isaLine(1).assert();
    t.pic.isaLine(4).assert();
    expect(take(t.pic)).toBe(0x34);                  // IR4 now outranks IR1
    t.out(0x20, 0x20);
    expect(take(t.pic)).toBe(0x31);
    t.out(0x20, 0x20);
    t.out(0x20, 0xc4);                               // set priority: IR4 lowest, IR5 highest
    t.pic.isaLine(4).deassert(); t.pic.isaLine(4).assert();
    t.pic.isaLine(6).assert();
    expect(take(t.pic)).toBe(0x36);
  });

  it('non-specific EOI with rotate: the level just served becomes the lowest (equal-priority devices)', () => {
    const t = linuxPic();
    t.pic.isaLine(5).assert();
    expect(take(t.pic)).toBe(0x35);
    t.out(0x20, 0xa0);                               // rotate on non-specific EOI
    expect(t.pic.master.priorityAdd).toBe(6);
    expect(readIsr(t)).toBe(0);
  });

  it('automatic EOI: no ISR bit is set, so an equal or lower request is not blocked', () => {
    const t = linuxPic({ autoEoi: true });
    t.pic.isaLine(0).assert();
    expect(take(t.pic)).toBe(0x30);
    expect(readIsr(t)).toBe(0);
    t.pic.isaLine(7).assert();
    expect(take(t.pic)).toBe(0x37);
  });

  it('rotate in automatic EOI mode (OCW2 R=1 SL=0 EOI=0): each acknowledge rotates', () => {
    const t = linuxPic({ autoEoi: true });
    t.out(0x20, 0x80);
    t.pic.isaLine(3).assert();
    expect(take(t.pic)).toBe(0x33);
    expect(t.pic.master.priorityAdd).toBe(4);
  });

  it('special mask mode: a masked level in service no longer blocks lower priorities', () => {
    const t = linuxPic();
    t.pic.isaLine(1).assert();
    expect(take(t.pic)).toBe(0x31);
    t.pic.isaLine(5).assert();
    expect(take(t.pic)).toBeUndefined();
    t.out(0x21, 0x02);                               // mask IR1 while it is in service
    t.out(0x20, 0x68);                               // OCW3 ESMM=1 SMM=1
    expect(take(t.pic)).toBe(0x35);
    t.out(0x20, 0x48);                               // reset special mask
    expect(t.pic.master.specialMask).toBe(false);
  });
});

describe('8259A datasheet: cascade on IR2, edge and level triggering (ELCR)', () => {
  it('a slave request comes through IR2 with the slave\'s vector; both chips need an EOI', () => {
    const t = linuxPic();
    t.pic.isaLine(8).assert();
    expect(readIrr(t)).toBe(0x04);                   // the slave's INT is the master's IR2
    expect(take(t.pic)).toBe(0x38);
    expect(readIsr(t)).toBe(0x04);
    expect(readIsr(t, 0xa0)).toBe(0x01);
    t.pic.isaLine(12).assert();
    expect(take(t.pic)).toBeUndefined();             // IR2 in service on the master blocks the slave
    t.out(0xa0, 0x20); t.out(0x20, 0x20);
    expect(take(t.pic)).toBe(0x3c);
  });

  it('special fully nested mode: a higher slave request interrupts the slave\'s own service', () => {
    const t = linuxPic();
    t.out(0x20, 0x11); t.out(0x21, 0x30); t.out(0x21, 0x04); t.out(0x21, 0x11);   // ICW4 SFNM
    t.pic.isaLine(12).assert();
    expect(take(t.pic)).toBe(0x3c);
    t.pic.isaLine(9).assert();
    expect(take(t.pic)).toBe(0x39);
  });

  it('edge-triggered: a line held high requests once; level-triggered: again after EOI while high', () => {
    const t = linuxPic();
    t.pic.isaLine(10).assert();
    expect(take(t.pic)).toBe(0x3a);
    t.out(0xa0, 0x20); t.out(0x20, 0x20);
    expect(take(t.pic)).toBeUndefined();             // edge latched once
    t.pic.isaLine(10).deassert();
    t.out(0x4d1, 0x04);                              // IRQ10 level-triggered
    t.pic.isaLine(10).assert();
    expect(take(t.pic)).toBe(0x3a);
    expect(readIrr(t, 0xa0)).toBe(0x04);             // level: IRR follows the line
    t.out(0xa0, 0x20); t.out(0x20, 0x20);
    expect(take(t.pic)).toBe(0x3a);                  // still high: requested again
    t.out(0xa0, 0x20); t.out(0x20, 0x20);
    t.pic.isaLine(10).deassert();
    expect(take(t.pic)).toBeUndefined();
  });

  it('ELCR: IRQ0-2 and 8, 13 are always edge; the hard-wired cascade bit is not read back (vpic_intercept_elcr_io)', () => {
    const t = linuxPic();
    t.out(0x4d0, 0xff); t.out(0x4d1, 0xff);
    expect(t.inb(0x4d0)).toBe(0xf8);
    expect(t.inb(0x4d1)).toBe(0xde);
    expect(t.pic.master.elcr & 0x04).toBe(0x04);
  });

  it('a request that goes away before the acknowledge is not delivered (vpic_irq_negative_edge)', () => {
    const t = linuxPic();
    t.pic.isaLine(6).assert();
    t.pic.isaLine(6).deassert();
    expect(take(t.pic)).toBeUndefined();
  });
});

describe('8259A datasheet: OCW3 read register, poll command, spurious IR7', () => {
  it('RR/RIS select IRR or ISR for A0 = 0 reads and the choice sticks', () => {
    const t = linuxPic();
    t.pic.isaLine(4).assert();
    expect(readIrr(t)).toBe(0x10);
    take(t.pic);
    t.out(0x20, 0x0b);
    expect(t.inb(0x20)).toBe(0x10);
    expect(t.inb(0x20)).toBe(0x10);
    t.out(0x20, 0x08);                               // RR = 0: no change of the selection
    expect(t.inb(0x20)).toBe(0x10);
  });

  it('poll: the next read acknowledges and answers I (bit 7) with W2-W0; 0 when nothing is pending', () => {
    const t = linuxPic();
    t.pic.isaLine(5).assert();
    t.out(0x20, 0x0c);
    expect(t.inb(0x20)).toBe(0x85);
    expect(readIsr(t)).toBe(0x20);                   // the poll read was the acknowledge
    t.out(0x20, 0x20);
    t.out(0x20, 0x0c);
    expect(t.inb(0x20)).toBe(0x00);
    expect(t.inb(0x21)).toBe(0x00);                  // poll is one read only
  });

  it('an INTA with nothing to deliver answers IR7 (IRQ7 or IRQ15) without setting ISR', () => {
    const t = linuxPic();
    expect(t.pic.intack()).toEqual({ irq: 7, spurious: true });
    expect(readIsr(t)).toBe(0);
    expect(t.pic.intack(t.pic.slave)).toEqual({ irq: 15, spurious: true });
    expect(t.pic.hvmVcpuAckPendingIrq(bsp, { source: 'pic', vector: 0x30 })).toBeUndefined();
  });

  it('the PICs decode byte accesses only; other vCPUs see no interrupt (INT goes to the BSP)', () => {
    const t = linuxPic();
    expect(t.io.read(0x20, 2)).toBe(0xffff);
    t.pic.isaLine(0).assert();
    expect(t.pic.hvmVcpuHasPendingIrq({ id: 1 } as Vcpu)).toBeUndefined();
    expect(t.pic.hvmVcpuHasPendingIrq(bsp)).toEqual({ source: 'pic', vector: 0x30 });
  });
});
