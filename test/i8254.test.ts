// The 8254 PIT and port 0x61 (src/xen/hvm/i8254.ts) on virtual time, after
// the Intel 8254 datasheet (231164: "Control Word Format", "Read Operations",
// "Read-Back Command", "Modes") and Xen's xen/arch/x86/emul-i8254.c; the
// accesses are Linux's (drivers/clocksource/i8253.c, arch/x86/kernel/tsc.c).
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { I8254, PIT_HZ } from '../src/xen/hvm/i8254.js';
import { Vpic } from '../src/xen/hvm/vpic.js';
import type { IrqLine } from '../src/xen/hvm/irq.js';
import type { Vcpu } from '../src/xen/vcpu.js';
import { prepareRun } from '../src/run.js';
import { TestClock, portBus } from './helpers/pc.js';
import { asm, haveAssembler, tickLoop } from './helpers/asm.js';
import { makeElf } from './helpers/elf.js';

/** 1000 cycles per PIT clock: tick k begins at cycle 1000 k. */
const TICK = 1000n;

function pit(hz = PIT_HZ * TICK) {
  const clock = new TestClock(hz), b = portBus();
  const edges: bigint[] = [];
  let level = false;
  const line: IrqLine = {
    irq: 0, get asserted() { return level; },
    assert() { if (!level) edges.push(clock.t); level = true; },
    deassert() { level = false; },
  };
  const p = new I8254(clock, line);
  p.registerPorts(b.io);
  /** Reads a 16-bit count LSB then MSB. */
  const read16 = (port: number) => { const lo = b.inb(port); return lo | (b.inb(port) << 8); };
  return { clock, p, edges, read16, ...b };
}

describe('8254 datasheet: counting, modes 0-5', () => {
  it('mode 2 (Linux\'s periodic clockevent: 0x34, LATCH lo, hi): decrements each clock, reloads every N, IRQ0 each period', () => {
    const t = pit();
    t.out(0x43, 0x34); t.out(0x40, 100); t.out(0x40, 0);
    expect(t.read16(0x40)).toBe(100);
    t.clock.advance(30n * TICK);
    expect(t.read16(0x40)).toBe(70);
    expect(t.p.out(0)).toBe(true);
    t.clock.advance(69n * TICK);                    // d = 99: count is 1, OUT low for this one clock
    expect(t.read16(0x40)).toBe(1);
    expect(t.p.out(0)).toBe(false);
    t.clock.advance(TICK);                          // d = 100: reloaded, OUT high again: the rising edge
    expect(t.read16(0x40)).toBe(100);
    expect(t.edges).toEqual([100n * TICK]);
    t.clock.advance(1000n * TICK);
    expect(t.edges.length).toBe(11);
    expect(t.edges[10]).toBe(1100n * TICK);
    expect(t.p.irqPulses).toBe(11);
  });

  it('mode 3 square wave: OUT high for ceil(N/2), low for floor(N/2) clocks; the count steps by two', () => {
    const t = pit();
    t.out(0x43, 0x36); t.out(0x40, 11); t.out(0x40, 0);
    const outs: boolean[] = [];
    for (let i = 0; i < 22; i++) { outs.push(t.p.out(0)); t.clock.advance(TICK); }
    expect(outs.slice(0, 11).filter(Boolean).length).toBe(6);
    expect(outs.slice(0, 6).every(Boolean) && outs.slice(6, 11).every((o) => !o)).toBe(true);
    expect(outs.slice(11)).toEqual(outs.slice(0, 11));
    const t2 = pit();
    t2.out(0x43, 0x36); t2.out(0x40, 10); t2.out(0x40, 0);
    t2.clock.advance(2n * TICK);
    expect(t2.read16(0x40)).toBe(6);                // 10 - 2*2
    expect(t2.edges).toEqual([]);
    t2.clock.advance(8n * TICK);
    expect(t2.edges).toEqual([10n * TICK]);
  });

  it('mode 0: OUT low from the control word, high at terminal count (one IRQ0), the count wraps and goes on', () => {
    const t = pit();
    t.out(0x43, 0x30);
    expect(t.p.out(0)).toBe(false);
    t.out(0x40, 50); t.out(0x40, 0);
    t.clock.advance(49n * TICK);
    expect(t.p.out(0)).toBe(false);
    expect(t.read16(0x40)).toBe(1);
    t.clock.advance(TICK);
    expect(t.p.out(0)).toBe(true);
    expect(t.read16(0x40)).toBe(0);
    t.clock.advance(TICK);
    expect(t.read16(0x40)).toBe(0xffff);
    t.clock.advance(100_000n * TICK);
    expect(t.edges).toEqual([50n * TICK]);
    expect(t.p.out(0)).toBe(true);
  });

  it('mode 0: writing the first byte of a new count stops counting (OUT low) until the second', () => {
    const t = pit();
    t.out(0x43, 0x30); t.out(0x40, 0); t.out(0x40, 1);   // 256
    t.clock.advance(10n * TICK);
    t.out(0x40, 20);
    t.clock.advance(5n * TICK);
    expect(t.read16(0x40)).toBe(246);                    // held
    t.out(0x40, 0);
    t.clock.advance(5n * TICK);
    expect(t.read16(0x40)).toBe(15);
  });

  it('mode 4 (Linux\'s oneshot clockevent: 0x38): OUT low for one clock at terminal count, IRQ0 on the rising edge, once', () => {
    const t = pit();
    t.out(0x43, 0x38); t.out(0x40, 40); t.out(0x40, 0);
    expect(t.p.out(0)).toBe(true);
    t.clock.advance(40n * TICK);
    expect(t.p.out(0)).toBe(false);
    t.clock.advance(TICK);
    expect(t.p.out(0)).toBe(true);
    t.clock.advance(70_000n * TICK);
    expect(t.edges).toEqual([41n * TICK]);
  });

  it('modes 1 and 5 wait for a gate trigger (channel 2 via port 0x61 bit 0); mode 1 OUT is low until terminal count', () => {
    const t = pit();
    t.out(0x61, 0x00);
    t.out(0x43, 0xb2); t.out(0x42, 30); t.out(0x42, 0);   // channel 2, mode 1
    t.clock.advance(100n * TICK);
    expect(t.inb(0x61) & 0x20).toBe(0x20);               // not triggered: OUT high
    t.out(0x61, 0x01);                                   // gate rising edge: trigger
    expect(t.inb(0x61) & 0x20).toBe(0);
    t.clock.advance(29n * TICK);
    expect(t.inb(0x61) & 0x20).toBe(0);
    t.clock.advance(TICK);
    expect(t.inb(0x61) & 0x20).toBe(0x20);
    t.out(0x43, 0xba); t.out(0x42, 10); t.out(0x42, 0);   // mode 5
    t.out(0x61, 0x00); t.out(0x61, 0x01);
    t.clock.advance(10n * TICK);
    expect(t.inb(0x61) & 0x20).toBe(0);                  // the strobe
    t.clock.advance(TICK);
    expect(t.inb(0x61) & 0x20).toBe(0x20);
  });

  it('GATE low suspends mode 0 and resumes it; in mode 2 it forces OUT high and a rising edge reloads', () => {
    const t = pit();
    t.out(0x61, 0x01);
    t.out(0x43, 0xb0); t.out(0x42, 100); t.out(0x42, 0);
    t.clock.advance(10n * TICK);
    t.out(0x61, 0x00);
    t.clock.advance(50n * TICK);
    t.out(0x43, 0x80);                                   // latch channel 2
    expect(t.read16(0x42)).toBe(90);
    t.out(0x61, 0x01);
    t.clock.advance(5n * TICK);
    expect(t.read16(0x42)).toBe(85);
    t.out(0x43, 0xb4); t.out(0x42, 20); t.out(0x42, 0);   // mode 2
    t.clock.advance(19n * TICK);
    expect(t.inb(0x61) & 0x20).toBe(0);                  // count 1: OUT low
    t.out(0x61, 0x00);
    expect(t.inb(0x61) & 0x20).toBe(0x20);               // gate low forces OUT high
    t.clock.advance(7n * TICK);
    t.out(0x61, 0x01);                                   // rising edge: reload from N
    expect(t.read16(0x42)).toBe(20);
  });
});

describe('8254 datasheet: read operations, latch and read-back', () => {
  it('counter latch: the count is held while time passes until both bytes are read; a second latch is ignored', () => {
    const t = pit();
    t.out(0x43, 0x34); t.out(0x40, 0x00); t.out(0x40, 0x10);   // 4096
    t.clock.advance(0x123n * TICK);
    t.out(0x43, 0x00);
    t.clock.advance(500n * TICK);
    t.out(0x43, 0x00);                                   // ignored: the first latch is unread
    expect(t.inb(0x40)).toBe((0x1000 - 0x123) & 0xff);
    t.clock.advance(500n * TICK);
    expect(t.inb(0x40)).toBe((0x1000 - 0x123) >> 8);
    expect(t.read16(0x40)).toBe(0x1000 - 0x123 - 1000);  // live again
  });

  it('LSB-only and MSB-only access', () => {
    const t = pit();
    t.out(0x43, 0x54); t.out(0x41, 0x80);                // channel 1, LSB only, mode 2: N = 0x80
    t.clock.advance(0x10n * TICK);
    expect(t.inb(0x41)).toBe(0x70);
    expect(t.inb(0x41)).toBe(0x70);
    t.out(0x43, 0x64); t.out(0x41, 0x02);                // MSB only: N = 0x200
    t.clock.advance(0x100n * TICK);
    expect(t.inb(0x41)).toBe(0x01);
  });

  it('a count of 0 is 0x10000 (65536 clocks a period)', () => {
    const t = pit();
    t.out(0x43, 0x34); t.out(0x40, 0); t.out(0x40, 0);
    t.clock.advance(1n * TICK);
    expect(t.read16(0x40)).toBe(0xffff);
    t.clock.advance(0x10000n * TICK);
    expect(t.edges).toEqual([0x10000n * TICK]);
  });

  it('read-back: status (OUT, NULL COUNT, RW, mode, BCD) then the count; status first when both are latched', () => {
    const t = pit();
    t.out(0x43, 0x36);                                   // channel 0, LSB/MSB, mode 3
    t.out(0x43, 0xe2);                                   // read-back status of counter 0 (COUNT bit 5 = 1: no count)
    expect(t.inb(0x40)).toBe(0x80 | 0x40 | 0x30 | 0x06); // OUT high, NULL COUNT (no count yet)
    t.out(0x40, 0x00); t.out(0x40, 0x01);
    t.clock.advance(0x10n * TICK);
    t.out(0x43, 0xc2);                                   // latch count and status
    t.clock.advance(0x40n * TICK);
    expect(t.inb(0x40)).toBe(0x80 | 0x30 | 0x06);        // count loaded
    expect(t.read16(0x40)).toBe(0x100 - 0x20);           // mode 3 steps by two
    t.out(0x43, 0x3a);                                   // channel 0, LSB/MSB, mode 5, binary
    t.out(0x43, 0xe2);
    expect(t.inb(0x40) & 0x4f).toBe(0x40 | 0x0a);
  });

  it('mode 6 and 7 are modes 2 and 3 (datasheet: M2 M1 M0 = X10, X11)', () => {
    const t = pit();
    t.out(0x43, 0x3c); t.out(0x43, 0xe2);
    expect(t.inb(0x40) & 0x0e).toBe(0x04);
    t.out(0x43, 0x3e); t.out(0x43, 0xe2);
    expect(t.inb(0x40) & 0x0e).toBe(0x06);
  });
});

describe('port 0x61 (emul-i8254.c speaker_ioport_read): gate, speaker data, OUT2, refresh toggle', () => {
  it('bits 0 and 1 read back; bit 4 toggles every 2^14 ns of virtual time; bit 5 is channel 2\'s OUT', () => {
    const t = pit(1_000_000_000n);                       // 1 GHz: a cycle is a nanosecond
    t.out(0x61, 0x03);
    expect(t.inb(0x61) & 0x03).toBe(0x03);
    t.out(0x61, 0x01);
    expect(t.inb(0x61) & 0x13).toBe(0x01);
    t.clock.advance(16384n);
    expect(t.inb(0x61) & 0x10).toBe(0x10);
    t.clock.advance(16384n);
    expect(t.inb(0x61) & 0x10).toBe(0);
  });

  it('Linux\'s pit_calibrate_tsc loop sees OUT2 rise after the latch\'s time: 10 ms of TSC at 2 GHz', () => {
    const hz = 2_000_000_000n, t = pit(hz);
    t.clock.at(123_456_789n);
    t.out(0x61, (t.inb(0x61) & ~0x02) | 0x01);          // gate high, speaker off
    const latch = Number(PIT_HZ / (1000n / 10n));          // CAL_LATCH for 10 ms
    t.out(0x43, 0xb0); t.out(0x42, latch & 0xff); t.out(0x42, latch >> 8);
    const t1 = t.clock.t;
    let loops = 0;
    while ((t.inb(0x61) & 0x20) === 0) { t.clock.advance(1500n); loops++; }
    const cycles = t.clock.t - t1;
    const expected = BigInt(latch) * hz / PIT_HZ;
    expect(Number(cycles - expected)).toBeGreaterThanOrEqual(0);
    expect(Number(cycles - expected)).toBeLessThan(1500 + 2);
    expect(loops).toBeGreaterThan(1000);                 // CAL_PIT_LOOPS
  });

  it('Linux\'s quick_pit_calibrate: the MSB of channel 2 steps every 256 clocks of virtual time', () => {
    const hz = 2_000_000_000n, t = pit(hz);
    t.out(0x61, 0x01);
    t.out(0x43, 0xb0); t.out(0x42, 0xff); t.out(0x42, 0xff);
    const msbAt: bigint[] = [];
    let last = 0xff;
    while (msbAt.length < 4) {
      t.inb(0x42); const msb = t.inb(0x42);
      if (msb !== last) { msbAt.push(t.clock.t); last = msb; }
      t.clock.advance(997n);
    }
    const per256 = Number(256n * hz / PIT_HZ);
    for (let i = 1; i < 4; i++) expect(Math.abs(Number(msbAt[i] - msbAt[i - 1]) - per256)).toBeLessThan(1000);
  });
});

describe('8254 channel 0 on IRQ0 through the 8259A', () => {
  it('a mode-2 period delivers vector ICW2+0 once per period while the guest EOIs', () => {
    const clock = new TestClock(PIT_HZ * TICK), b = portBus();
    const pic = new Vpic(); pic.registerPorts(b.io);
    const p = new I8254(clock, pic.isaLine(0)); p.registerPorts(b.io);
    b.out(0x20, 0x11); b.out(0x21, 0x20); b.out(0x21, 0x04); b.out(0x21, 0x01); b.out(0x21, 0xfe);
    b.out(0x43, 0x34); b.out(0x40, 0xe8); b.out(0x40, 0x03);           // 1000 clocks
    const bsp = { id: 0 } as Vcpu;
    const got: bigint[] = [];
    for (let i = 0; i < 5000; i++) {
      clock.advance(10n * TICK);
      const intack = pic.hvmVcpuHasPendingIrq(bsp);
      if (intack) {
        expect(pic.hvmVcpuAckPendingIrq(bsp, intack)?.vector).toBe(0x20);
        got.push(clock.t);
        b.out(0x20, 0x20);
      }
    }
    expect(got.length).toBe(50);
    expect(got[0]).toBe(1000n * TICK);
    expect(got[49]).toBe(50_000n * TICK);
  });
});

const dir = mkdtempSync(join(tmpdir(), 'vmvmi-pc-'));

describe.skipIf(!haveAssembler())('the pc platform in a domain: PIT IRQ0 through the vpic to the guest (vmx_intr_assist)', () => {
  it('a guest that programs the PICs and the PIT at 1 kHz counts ticks on vector 0x20 in STI; HLT', () => {
    // 8259 init (ICW1-4: vectors 0x20-0x27, slave on IRQ2, 8086 mode), only IRQ0 unmasked; PIT
    // channel 0 mode 2, count 0x4a9 (1 kHz); the handler sends a non-specific EOI (OCW2 0x20).
    const src = tickLoop(20, 'xor eax, eax\nmov dx, 0x501\nout dx, eax',
      `mov al, 0x11; out 0x20, al; mov al, 0x20; out 0x21, al; mov al, 4; out 0x21, al; mov al, 1; out 0x21, al
      mov al, 0xfe; out 0x21, al
      mov al, 0x34; out 0x43, al; mov al, 0xa9; out 0x40, al; mov al, 0x04; out 0x40, al`,
      'push rax\nmov al, 0x20\nout 0x20, al\npop rax');
    const file = join(dir, 'pit.elf');
    writeFileSync(file, makeElf(0x100000, [{ paddr: 0x100000, data: asm(src, 0x100000) }]));
    const p = prepareRun({ image: file, systemMap: false, domain: { platform: 'pc' } });
    const d = p.d;
    expect(d.platform).toBe('pc');
    expect(d.vcpus[0].timer).toBeUndefined();
    expect(d.sched.run({ maxInsns: 1_000_000n })).toEqual({ kind: 'shutdown' });
    expect(d.shutdownInfo?.status).toBe(0);
    expect(d.pc!.vpic.delivered).toBe(20);
    // 0x4a9 = 1193 clocks: 20 periods are 20 ms of virtual time (the clock starts near 0).
    const ms = Number(d.machine.vcycles) / d.tscKhz;
    expect(ms).toBeGreaterThan(19.9);
    expect(ms).toBeLessThan(20.5);
  });
});
