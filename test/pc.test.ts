// The 'pc' platform of a domain (src/xen/hvm/pc.ts): which ports answer, and
// that ports no device claims behave as on a PC's bus (reads all ones,
// writes dropped: devices/portio.ts), so Linux's probes find no device there
// (drivers/input/serio/i8042.c i8042_controller_check: a status of 0xff
// means "No controller found"; 8250 autoconfig's IER test fails on COM2).
import { describe, it, expect } from 'vitest';
import { Domain } from '../src/xen/domain.js';

describe('the pc platform: devices at the PC\'s ports, nothing elsewhere', () => {
  const d = new Domain({ memMiB: 4, platform: 'pc', pc: { rtcStart: new Date(Date.UTC(2030, 0, 2, 3, 4, 5)) } });
  const inb = (p: number) => d.io.read(p, 1), outb = (p: number, v: number) => d.io.write(p, 1, v);

  it('the PICs, PIT, port 0x61, RTC and COM1 answer; the vpic is the domain\'s interrupt controller', () => {
    expect(d.irq).toBe(d.pc!.vpic);
    expect(d.tvmIrq).toBeUndefined();
    outb(0x21, 0x5a); expect(inb(0x21)).toBe(0x5a);
    outb(0xa1, 0xa5); expect(inb(0xa1)).toBe(0xa5);
    outb(0x43, 0x34); outb(0x40, 0x34); outb(0x40, 0x12);
    outb(0x43, 0x00); expect(inb(0x40) | (inb(0x40) << 8)).toBe(0x1234);       // no virtual time has passed
    expect(inb(0x61) & 0x01).toBe(0);                          // channel 2's gate starts low
    outb(0x70, 0x09); expect(inb(0x71)).toBe(0x30);            // the run option's start year
    outb(0x70, 0x04); expect(inb(0x71)).toBe(0x03);
    outb(0x3ff, 0x77); expect(inb(0x3ff)).toBe(0x77);          // COM1 scratch
  });

  it('unclaimed ports read all ones at every size and drop writes: no i8042 at 0x60/0x64, no COM2', () => {
    const before = d.io.unclaimed;
    expect(inb(0x64)).toBe(0xff);                              // i8042_controller_check: no controller
    expect(inb(0x60)).toBe(0xff);
    outb(0x64, 0xaa);                                          // a self-test command goes nowhere
    expect(inb(0x60)).toBe(0xff);
    expect(d.io.read(0x64, 2)).toBe(0xffff);
    expect(d.io.read(0xcfc, 4)).toBe(0xffffffff);
    outb(0x2f9, 0); expect(inb(0x2f9) & 0x0f).toBe(0x0f);      // 8250 autoconfig: IER reads back 0x0f: no UART
    expect(d.io.unclaimed - before).toBe(8);
  });

  it('the tvm platform (the default) has none of them', () => {
    const t = new Domain({ memMiB: 4 });
    expect(t.platform).toBe('tvm');
    expect(t.pc).toBeUndefined();
    expect(t.vcpus[0].timer).toBeDefined();
    expect(t.io.read(0x21, 1)).toBe(0xff);
    expect(t.io.read(0x40, 1)).toBe(0xff);
    expect(t.io.read(0x71, 1)).toBe(0xff);
  });
});
