// The MC146818 RTC (src/xen/hvm/rtc.ts) through ports 0x70/0x71 on virtual
// time, after the Motorola MC146818A datasheet ("Address Map", "Time,
// Calendar and Alarm Data Modes", "Update Cycle", registers A-D) and Xen's
// xen/arch/x86/hvm/rtc.c; the reads are Linux's mc146818_get_time
// (drivers/rtc/rtc-mc146818-lib.c).
import { describe, it, expect } from 'vitest';
import { Rtc, RTC_DEFAULT_START } from '../src/xen/hvm/rtc.js';
import { Vpic } from '../src/xen/hvm/vpic.js';
import type { Vcpu } from '../src/xen/vcpu.js';
import { TestClock, portBus } from './helpers/pc.js';

const HZ = 1_000_000n;                                  // a cycle is a microsecond
const SEC = HZ;

function rtc(start?: Date) {
  const clock = new TestClock(HZ), b = portBus();
  const pic = new Vpic(); pic.registerPorts(b.io);
  const r = new Rtc(clock, pic.isaLine(8), start);
  r.registerPorts(b.io);
  const cmos = (i: number) => { b.out(0x70, i); return b.inb(0x71); };
  const setCmos = (i: number, v: number) => { b.out(0x70, i); b.out(0x71, v); };
  // Linux's initialisation of the PICs, so IRQ8 can be seen as vector 0x38.
  b.out(0x20, 0x11); b.out(0x21, 0x30); b.out(0x21, 0x04); b.out(0x21, 0x01);
  b.out(0xa0, 0x11); b.out(0xa1, 0x38); b.out(0xa1, 0x02); b.out(0xa1, 0x01);
  b.out(0x21, 0); b.out(0xa1, 0);
  const irq = () => pic.hvmVcpuHasPendingIrq({ id: 0 } as Vcpu)?.vector;
  return { clock, r, cmos, setCmos, pic, irq, ...b };
}

const timeRegs = (t: ReturnType<typeof rtc>) => [0, 2, 4, 6, 7, 8, 9].map(t.cmos);

describe('MC146818A datasheet: time, calendar and data modes', () => {
  it('starts at the fixed time (default 2026-01-01 00:00:00, a Thursday) in BCD, 24-hour form', () => {
    const t = rtc();
    expect(RTC_DEFAULT_START.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(t.cmos(0x0b)).toBe(0x02);
    expect(timeRegs(t)).toEqual([0x00, 0x00, 0x00, 0x05, 0x01, 0x01, 0x26]);   // day of week 5 = Thursday
    expect(t.cmos(0x32)).toBe(0x20);
    expect(t.cmos(0x0d)).toBe(0x80);                                            // VRT
    expect(t.cmos(0x0a)).toBe(0x26);
  });

  it('advances with virtual time: seconds roll into minutes, hours, the date and the year', () => {
    const t = rtc(new Date(Date.UTC(2026, 11, 31, 23, 59, 58)));
    expect(timeRegs(t)).toEqual([0x58, 0x59, 0x23, 0x05, 0x31, 0x12, 0x26]);
    t.clock.advance(SEC - 1n);
    expect(t.cmos(0)).toBe(0x58);
    t.clock.advance(1n);
    expect(t.cmos(0)).toBe(0x59);
    t.clock.advance(SEC);
    expect(timeRegs(t)).toEqual([0x00, 0x00, 0x00, 0x06, 0x01, 0x01, 0x27]);
    t.clock.advance(3723n * SEC);                                               // 1 h 2 min 3 s
    expect([t.cmos(4), t.cmos(2), t.cmos(0)]).toEqual([0x01, 0x02, 0x03]);
  });

  it('register B DM = 1 gives binary; 24/12 = 0 gives 12-hour form with PM in bit 7', () => {
    const t = rtc(new Date(Date.UTC(2026, 5, 15, 13, 45, 30)));
    t.setCmos(0x0b, 0x06);
    expect(timeRegs(t)).toEqual([30, 45, 13, 2, 15, 6, 26]);
    t.setCmos(0x0b, 0x04);                                                      // binary, 12-hour
    expect(t.cmos(4)).toBe(0x80 | 1);
    t.setCmos(0x0b, 0x00);                                                      // BCD, 12-hour
    expect(t.cmos(4)).toBe(0x81);
    const mid = rtc(new Date(Date.UTC(2026, 0, 1, 0, 5, 0)));
    mid.setCmos(0x0b, 0x00);
    expect(mid.cmos(4)).toBe(0x12);                                             // 12 AM
    const noon = rtc(new Date(Date.UTC(2026, 0, 1, 12, 5, 0)));
    noon.setCmos(0x0b, 0x00);
    expect(noon.cmos(4)).toBe(0x92);                                            // 12 PM
  });

  it('SET = 1 stops the update; the guest writes the time; clearing SET starts the clock from it (rtc_set_time)', () => {
    const t = rtc();
    t.clock.advance(5n * SEC);
    t.setCmos(0x0b, 0x82);
    t.clock.advance(10n * SEC);
    expect(t.cmos(0)).toBe(0x05);                                               // frozen
    expect(t.cmos(0x0a) & 0x80).toBe(0);                                        // no update in progress while SET
    t.setCmos(0, 0x30); t.setCmos(2, 0x15); t.setCmos(4, 0x08);
    t.setCmos(7, 0x04); t.setCmos(8, 0x07); t.setCmos(9, 0x30);
    t.clock.advance(SEC / 2n);
    t.setCmos(0x0b, 0x02);
    expect(new Date(t.r.seconds() * 1000).toISOString()).toBe('2030-07-04T08:15:30.000Z');
    t.clock.advance(SEC - 1n);
    expect(t.cmos(0)).toBe(0x30);
    t.clock.advance(1n);
    expect(t.cmos(0)).toBe(0x31);                                               // a full second after SET was cleared
    expect(t.cmos(6)).toBe(0x05);                                               // 2030-07-04 is a Thursday
  });

  it('a time register written while running sets that field at once', () => {
    const t = rtc();
    t.setCmos(2, 0x42);
    expect([t.cmos(4), t.cmos(2), t.cmos(0)]).toEqual([0x00, 0x42, 0x00]);
    t.clock.advance(61n * SEC);
    expect([t.cmos(2), t.cmos(0)]).toEqual([0x43, 0x01]);
  });

  it('CMOS RAM 0x0E-0x7F keeps what is written; bit 7 of the index (NMI mask) is not part of the index', () => {
    const t = rtc();
    t.setCmos(0x0e, 0xab); t.setCmos(0x7f, 0x5a);
    expect(t.cmos(0x0e)).toBe(0xab);
    expect(t.cmos(0x7f)).toBe(0x5a);
    t.out(0x70, 0x80 | 0x0e);
    expect(t.inb(0x71)).toBe(0xab);
    t.out(0x70, 0x80 | 0x00);
    expect(t.inb(0x71)).toBe(0x00);
    t.setCmos(0x0d, 0x00); t.setCmos(0x0c, 0xff);                               // read-only
    expect(t.cmos(0x0d)).toBe(0x80);
    expect(t.cmos(0x0c)).toBe(0x00);
    expect(t.inb(0x70)).toBe(0xff);
  });
});

describe('MC146818A datasheet: update cycle (UIP) and register C flags', () => {
  it('UIP is 1 in the last 244 us of each second, as Xen\'s update_in_progress', () => {
    const t = rtc();
    t.clock.advance(SEC - 245n);
    expect(t.cmos(0x0a) & 0x80).toBe(0);
    t.clock.advance(1n);
    expect(t.cmos(0x0a) & 0x80).toBe(0x80);
    expect(t.cmos(0)).toBe(0x00);
    t.clock.advance(244n);
    expect(t.cmos(0x0a) & 0x80).toBe(0);
    expect(t.cmos(0)).toBe(0x01);
  });

  it('Linux\'s mc146818_get_time: wait for UIP = 0, read the registers, UIP still 0: a consistent time', () => {
    const t = rtc(new Date(Date.UTC(2026, 2, 3, 4, 5, 59)));
    t.clock.advance(SEC - 100n);                                                // inside the update window
    let polls = 0;
    while (t.cmos(0x0a) & 0x80) { t.clock.advance(50n); polls++; }
    const regs = timeRegs(t);
    expect(t.cmos(0x0a) & 0x80).toBe(0);
    expect(polls).toBeGreaterThan(0);
    expect(regs).toEqual([0x00, 0x06, 0x04, 0x03, 0x03, 0x03, 0x26]);           // 2026-03-03 (Tuesday) 04:06:00
  });

  it('UF and PF are set as time passes and cleared by reading C; without enables IRQF stays 0 and IRQ8 is quiet', () => {
    const t = rtc();
    t.clock.advance(SEC);
    expect(t.cmos(0x0c)).toBe(0x40 | 0x10);                                     // PF (1024 Hz) and UF
    expect(t.cmos(0x0c)).toBe(0);
    expect(t.irq()).toBeUndefined();
  });

  it('UIE: IRQ8 (vector 0x38 here) at each update, IRQF until C is read', () => {
    const t = rtc();
    t.setCmos(0x0b, 0x12);
    t.clock.advance(SEC - 1n);
    expect(t.irq()).toBeUndefined();
    t.clock.advance(1n);                                                        // the timer fires at the boundary
    expect(t.irq()).toBe(0x38);
    expect(t.cmos(0x0c) & 0x90).toBe(0x90);
    expect(t.r.irqs).toBe(1);
  });

  it('PIE: RS = 6 gives 1024 interrupts a second (976.5625 us), RS = 15 gives 2', () => {
    const t = rtc();
    t.setCmos(0x0b, 0x42);
    const seen: bigint[] = [];
    for (let i = 0; i < 2_000_000 && seen.length < 5; i++) {
      t.clock.advance(10n);
      if (t.irq() !== undefined) {
        seen.push(t.clock.t);
        t.pic.hvmVcpuAckPendingIrq({ id: 0 } as Vcpu, { source: 'pic', vector: 0x38 });
        expect(t.cmos(0x0c) & 0xc0).toBe(0xc0);
        t.out(0xa0, 0x20); t.out(0x20, 0x20);
      }
    }
    expect(seen.length).toBe(5);
    for (let i = 1; i < 5; i++) expect(Math.abs(Number(seen[i] - seen[i - 1]) - 976.5625)).toBeLessThan(11);
    t.setCmos(0x0a, 0x2f);
    t.cmos(0x0c);
    const before = t.r.irqs;
    t.clock.advance(SEC);
    t.cmos(0x0c);
    t.clock.advance(SEC);
    expect(t.r.irqs - before).toBeGreaterThanOrEqual(2);
    expect(t.r.irqs - before).toBeLessThanOrEqual(4);                           // 2 a second; C read once a second here
  });

  it('AIE: the alarm fires when seconds, minutes and hours match; 0xC0-0xFF is don\'t care', () => {
    const t = rtc();
    t.setCmos(1, 0x05); t.setCmos(3, 0xff); t.setCmos(5, 0xff);               // at second 5 of every minute
    t.setCmos(0x0b, 0x22);
    t.clock.advance(4n * SEC);
    expect(t.irq()).toBeUndefined();
    t.clock.advance(SEC);
    expect(t.irq()).toBe(0x38);
    expect(t.cmos(0x0c) & 0xa0).toBe(0xa0);
    expect(t.irq()).toBeUndefined();
    t.clock.advance(59n * SEC);
    expect(t.irq()).toBeUndefined();
    t.clock.advance(SEC);
    expect(t.cmos(0x0c) & 0x20).toBe(0x20);
  });

  it('SET = 1 clears UIE (datasheet, register B bit 4)', () => {
    const t = rtc();
    t.setCmos(0x0b, 0x12);
    t.setCmos(0x0b, 0x92);
    expect(t.cmos(0x0b)).toBe(0x82);
  });
});
