// The local APIC (src/xen/hvm/vlapic.ts) through its MMIO page, after the
// Intel SDM vol. 3A chapter 11 (11.4.7.1 reset state, 11.5.3 ESR, 11.5.4 APIC
// timer, 11.6.1 ICR, 11.8.3.1 TPR/PPR, 11.8.4-5 acceptance and EOI, 11.4.7.2
// software disable) and Xen's xen/arch/x86/hvm/vlapic.c (VLAPIC_VERSION,
// APIC_BUS_CYCLE_NS, vlapic_accept_pic_intr) and hvm/irq.c
// (hvm_vcpu_has_pending_irq's order: the PIC through LINT0, then the APIC).
import { describe, it, expect } from 'vitest';
import { Vlapic, APIC_DEFAULT_PHYS_BASE as BASE } from '../src/xen/hvm/vlapic.js';
import { Vpic } from '../src/xen/hvm/vpic.js';
import { PcInterrupts } from '../src/xen/hvm/pc.js';
import { MmioBus } from '../src/xen/devices/mmio.js';
import { Domain } from '../src/xen/domain.js';
import type { Vcpu } from '../src/xen/vcpu.js';
import { TestClock } from './helpers/pc.js';

const bsp = { id: 0 } as Vcpu;

function apic(hz = 1_000_000_000n) {
  const clock = new TestClock(hz);
  let msr = BigInt(BASE) | 0x900n;
  const l = new Vlapic(clock, 0, () => msr);
  const bus = new MmioBus((m) => { throw new Error(m); });
  bus.registerMmioHandler(l);
  const rd = (off: number) => Number(bus.read(BASE + off, 4));
  const wr = (off: number, v: number) => bus.write(BASE + off, 4, BigInt(v >>> 0));
  return { clock, l, rd, wr, setMsr: (v: bigint) => { msr = v; } };
}

describe('SDM 11.4.7.1: the local APIC after reset', () => {
  it('ID, version (Xen\'s 0x00050014), DFR all ones, SVR 0xFF (software disabled), every LVT masked', () => {
    const t = apic();
    expect(t.rd(0x20)).toBe(0);
    expect(t.rd(0x30)).toBe(0x00050014);
    expect(t.rd(0xe0) >>> 0).toBe(0xffffffff);
    expect(t.rd(0xf0)).toBe(0xff);
    for (let off = 0x320; off <= 0x370; off += 0x10) expect(t.rd(off)).toBe(0x10000);
    expect(t.l.enabled).toBe(false);
    expect(t.l.acceptPicIntr()).toBe(true);          // disabled: the PIC's INT passes (virtual wire)
  });

  it('registers are the first dword of their 16-byte slot; byte reads come out of it; odd writes are dropped', () => {
    const t = apic();
    t.wr(0x80, 0x12345678);
    expect(t.rd(0x80)).toBe(0x78);                   // TPR holds bits 7-0
    expect(Number(t.l.read(BASE + 0x30 + 2, 1))).toBe(0x05);
    expect(Number(t.l.read(BASE + 0x34, 4))).toBe(0);
    t.l.write(BASE + 0x80, 1, 0x44n);
    expect(t.rd(0x80)).toBe(0x78);
  });
});

describe('SDM 11.8: acceptance, priorities, EOI; 11.6.1 self-IPIs through the ICR', () => {
  it('a fixed self-IPI lands in IRR; TPR and in-service classes hold back equal or lower classes; EOI ends the highest', () => {
    const t = apic();
    t.wr(0xf0, 0x1ff);                               // software enable, spurious vector 0xFF
    t.wr(0x300, 0x40000 | 0x45);                     // shorthand self, fixed, vector 0x45
    expect(t.rd(0x200 + 0x20)).toBe(1 << 5);         // IRR bit 0x45
    t.wr(0x80, 0x40);
    expect(t.l.hasPendingIrq()).toBe(-1);            // class 4 not above TPR class 4
    t.wr(0x80, 0x3f);
    expect(t.l.hasPendingIrq()).toBe(0x45);
    expect(t.l.ackPendingIrq(0x45)).toBe(true);
    expect(t.rd(0x100 + 0x20)).toBe(1 << 5);         // ISR
    expect(t.rd(0xa0)).toBe(0x40);                   // PPR = ISRV class
    t.wr(0x300, 0x40000 | 0x4a);
    expect(t.l.hasPendingIrq()).toBe(-1);
    t.wr(0x300, 0x40000 | 0x51);
    expect(t.l.hasPendingIrq()).toBe(0x51);
    t.l.ackPendingIrq(0x51);
    t.wr(0xb0, 0);                                   // EOI: 0x51 (the highest in service) done
    expect(t.rd(0x100 + 0x40)).toBe(0);
    expect(t.rd(0x100 + 0x20)).toBe(1 << 5);
    t.wr(0xb0, 0);
    expect(t.rd(0xa0)).toBe(0x3f);                   // PPR = TPR again
    expect(t.l.hasPendingIrq()).toBe(0x4a);
  });

  it('physical destination matches the APIC ID or 0xFF; all-excluding-self does not reach it; vectors 0-15 set ESR', () => {
    const t = apic();
    t.wr(0xf0, 0x100);
    t.wr(0x310, 0x01000000); t.wr(0x300, 0x60);       // to APIC 1: nobody
    t.wr(0x300, 0xc0000 | 0x61);                     // all excluding self
    expect(t.l.hasPendingIrq()).toBe(-1);
    t.wr(0x310, 0xff000000); t.wr(0x300, 0x62);
    expect(t.l.hasPendingIrq()).toBe(0x62);
    t.wr(0x300, 0x40000 | 0x05);                     // illegal vector
    expect(t.rd(0x280)).toBe(0);                     // ESR shows errors only after a write
    t.wr(0x280, 0);
    expect(t.rd(0x280)).toBe(0x20);                  // send illegal vector
    t.wr(0x280, 0);
    expect(t.rd(0x280)).toBe(0);
  });

  it('software disable masks every LVT and they cannot be unmasked until re-enabled (11.4.7.2); hardware disable (IA32_APIC_BASE[11]) stops delivery', () => {
    const t = apic();
    t.wr(0x350, 0x700);
    expect(t.rd(0x350)).toBe(0x10700);
    t.wr(0xf0, 0x100);
    t.wr(0x350, 0x700);
    expect(t.rd(0x350)).toBe(0x700);
    t.wr(0xf0, 0x0ff);
    expect(t.rd(0x350)).toBe(0x10700);
    t.wr(0xf0, 0x1ff);
    t.wr(0x300, 0x40000 | 0x80);
    expect(t.l.hasPendingIrq()).toBe(0x80);
    t.setMsr(BigInt(BASE));
    expect(t.l.hasPendingIrq()).toBe(-1);
  });
});

describe('SDM 11.5.4: the APIC timer on virtual time (1 GHz bus, Xen\'s APIC_BUS_CYCLE_NS)', () => {
  it('one-shot: the current count falls at bus/divisor and the vector arrives once when it reaches 0', () => {
    const t = apic();
    t.wr(0xf0, 0x1ff);
    t.wr(0x3e0, 0x3);                                // divide by 16
    t.wr(0x320, 0xec);                               // one-shot, vector 0xEC
    t.wr(0x380, 1000);
    t.clock.advance(1600n);
    expect(t.rd(0x390)).toBe(900);
    t.clock.advance(16000n - 1600n - 1n);
    expect(t.l.hasPendingIrq()).toBe(-1);
    t.clock.advance(1n);
    expect(t.l.hasPendingIrq()).toBe(0xec);
    expect(t.rd(0x390)).toBe(0);
    t.l.ackPendingIrq(0xec); t.wr(0xb0, 0);
    t.clock.advance(1_000_000n);
    expect(t.l.timerFired).toBe(1);
  });

  it('periodic: reloads from the initial count; divide by 1 is TDCR 1011b; a masked timer counts without interrupts', () => {
    const t = apic(2_000_000_000n);                  // 2 cycles a bus clock
    t.wr(0xf0, 0x1ff);
    t.wr(0x3e0, 0xb);
    t.wr(0x320, 0x20000 | 0x30);
    t.wr(0x380, 500);
    t.clock.advance(2n * 500n * 10n);
    expect(t.l.timerFired).toBe(10);
    t.clock.advance(2n * 125n);
    expect(t.rd(0x390)).toBe(375);
    t.wr(0x320, 0x30000 | 0x30);                     // masked
    expect(t.clock.timers.nextDeadline(0)).toBeUndefined();   // no timer: nothing to raise
    t.clock.advance(2n * 500n * 10n);
    expect(t.l.timerFired).toBe(10);
    expect(t.rd(0x390)).toBe(375);
    t.wr(0x320, 0x20000 | 0x30);                     // unmasked: the next zero raises it
    t.clock.advance(2n * 375n);
    expect(t.l.timerFired).toBe(11);
  });

  it('changing the divisor mid-count goes on from the current count at the new rate; TMICT 0 stops it', () => {
    const t = apic();
    t.wr(0xf0, 0x1ff);
    t.wr(0x3e0, 0x0);                                // divide by 2
    t.wr(0x320, 0x40);
    t.wr(0x380, 100);
    t.clock.advance(80n);                            // 40 counts
    t.wr(0x3e0, 0x1);                                // divide by 4
    expect(t.rd(0x390)).toBe(60);
    t.clock.advance(40n);
    expect(t.rd(0x390)).toBe(50);
    t.wr(0x380, 0);
    t.clock.advance(1_000_000n);
    expect(t.l.timerFired).toBe(0);
    expect(t.rd(0x390)).toBe(0);
  });
});

describe('Xen hvm_vcpu_has_pending_irq with a vpic and a vlapic', () => {
  it('the PIC is taken through LINT0 ExtINT (or while the APIC is disabled); masked LINT0 leaves only APIC vectors', () => {
    const t = apic(), pic = new Vpic(), irq = new PcInterrupts(pic, t.l);
    const w = (p: number, v: number) => pic.write(p, 1, v);
    w(0x20, 0x11); w(0x21, 0x30); w(0x21, 0x04); w(0x21, 0x01); w(0x21, 0);
    pic.isaLine(0).assert();
    expect(irq.hvmVcpuHasPendingIrq(bsp)).toEqual({ source: 'pic', vector: 0x30 });   // APIC disabled after reset
    t.wr(0xf0, 0x1ff);
    expect(irq.hvmVcpuHasPendingIrq(bsp)).toBeUndefined();                               // LINT0 masked
    t.wr(0x300, 0x40000 | 0x41);
    expect(irq.hvmVcpuHasPendingIrq(bsp)).toEqual({ source: 'lapic', vector: 0x41 });
    t.wr(0x350, 0x700);                                                                  // LINT0 ExtINT: the PIC first
    const i = irq.hvmVcpuHasPendingIrq(bsp)!;
    expect(i).toEqual({ source: 'pic', vector: 0x30 });
    expect(irq.hvmVcpuAckPendingIrq(bsp, i)).toEqual(i);
    const j = irq.hvmVcpuHasPendingIrq(bsp)!;
    expect(irq.hvmVcpuAckPendingIrq(bsp, j)).toEqual({ source: 'lapic', vector: 0x41 });
    expect(irq.hvmVcpuHasPendingIrq(bsp)).toBeUndefined();
  });

  it('a pc domain with lapic: the page answers at IA32_APIC_BASE (0xFEE00000) and is the domain\'s controller', () => {
    const d = new Domain({ memMiB: 4, platform: 'pc', pc: { lapic: true } });
    expect(d.pc!.vlapic).toBeDefined();
    expect(d.mmio.hvmMmioInternal(BASE)).toBe(true);
    expect(Number(d.mmio.read(BASE + 0x30, 4))).toBe(0x00050014);
    expect(d.irq).toBeInstanceOf(PcInterrupts);
    const plain = new Domain({ memMiB: 4, platform: 'pc' });
    expect(plain.mmio.hvmMmioInternal(BASE)).toBe(false);
  });
});
