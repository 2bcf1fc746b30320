// The 16550A UART (src/xen/devices/uart16550.ts) through its ports, after the
// National Semiconductor PC16550D datasheet (Table 2 register summary,
// Table 4 "Interrupt Control Functions", section 8.6 FCR, 8.8 MCR loopback,
// 8.9 MSR) and the probe of Linux's drivers/tty/serial/8250/8250_port.c
// (autoconfig, autoconfig_16550a, serial8250_do_startup's THRE tests).
import { describe, it, expect } from 'vitest';
import { Uart16550 } from '../src/xen/devices/uart16550.js';
import { Vpic } from '../src/xen/hvm/vpic.js';
import type { Vcpu } from '../src/xen/vcpu.js';
import { portBus } from './helpers/pc.js';

const B = 0x3f8;
const RX = B, IER = B + 1, IIR = B + 2, FCR = B + 2, LCR = B + 3, MCR = B + 4, LSR = B + 5, MSR = B + 6, SCR = B + 7;

function uart(withPic = false) {
  const b = portBus(), sent: number[] = [];
  const u = new Uart16550(B, (c) => sent.push(c));
  b.io.register(B, 8, u);
  let pic: Vpic | undefined;
  if (withPic) {
    pic = new Vpic(); pic.registerPorts(b.io);
    u.connectIrq(pic.isaLine(4));
    b.out(0x20, 0x11); b.out(0x21, 0x30); b.out(0x21, 0x04); b.out(0x21, 0x01); b.out(0x21, 0x00);
  }
  const irq4 = () => {
    const i = pic!.hvmVcpuHasPendingIrq({ id: 0 } as Vcpu);
    if (!i) return false;
    expect(pic!.hvmVcpuAckPendingIrq({ id: 0 } as Vcpu, i)?.vector).toBe(0x34);
    b.out(0x20, 0x20);
    return true;
  };
  return { u, sent, irq4, ...b };
}

describe('Linux 8250 autoconfig finds a 16550A', () => {
  it('IER holds bits 3-0 only; loopback MSR; FIFO bits 7-6 of IIR = 11; no EFR, no NS SuperIO, no 16750, no UUE', () => {
    const t = uart();
    // The scratch test of IER (autoconfig): 0 then 0x0f read back as written, bits 7-4 are 0.
    t.out(IER, 0); expect(t.inb(IER) & 0x0f).toBe(0);
    t.out(IER, 0x0f); expect(t.inb(IER) & 0x0f).toBe(0x0f);
    t.out(IER, 0xff); expect(t.inb(IER)).toBe(0x0f);
    t.out(IER, 0);
    // Loopback: MCR = LOOP | OUT2 | RTS must read MSR status DCD | CTS (UART_MSR_STATUS_BITS).
    const saveMcr = t.inb(MCR);
    t.out(MCR, 0x1a);
    expect(t.inb(MSR) & 0xf0).toBe(0x90);
    t.out(MCR, saveMcr);
    // FIFO type: LCR = 0xBF, EFR (offset 2) = 0; LCR = 0; FCR = ENABLE_FIFO; IIR >> 6 == 3 -> 16550A.
    t.out(LCR, 0xbf); t.out(B + 2, 0);
    t.out(LCR, 0); t.out(FCR, 0x01);
    expect(t.inb(IIR) >> 6).toBe(3);
    // autoconfig_16550a: the EFR reads (offset 2 with LCR 0x80 or 0xBF) are not 0: no ST16C650.
    t.out(LCR, 0x80); expect(t.inb(B + 2)).not.toBe(0);
    t.out(LCR, 0xbf); expect(t.inb(B + 2)).not.toBe(0);
    // NS SuperIO: IIR bit 4 does not follow MCR LOOP.
    t.out(LCR, 0);
    const s1 = t.inb(MCR);
    t.out(LCR, 0xe0); const s2 = t.inb(B + 2);
    expect((s2 ^ s1) & 0x10).toBe(0);
    t.out(LCR, 0); t.out(MCR, s1 ^ 0x10);
    t.out(LCR, 0xe0); const s3 = t.inb(B + 2);
    t.out(LCR, 0); t.out(MCR, s1);
    expect((s3 ^ s1) & 0x10).toBe(0);                // would be an NS16550 if EXCR1 bit 4 followed LOOP
    // 16750: IIR >> 5 with and without the 64-byte FIFO bit under DLAB stays 6 (bit 5 never set).
    t.out(FCR, 0x01);
    const a = t.inb(IIR) >> 5;
    t.out(LCR, 0x80); t.out(FCR, 0x21);
    const b2 = t.inb(IIR) >> 5;
    t.out(LCR, 0);
    expect([a, b2]).toEqual([6, 6]);
    // UUE (IER bit 6) does not stick: not an XScale UART.
    t.out(IER, 0x40); expect(t.inb(IER) & 0x40).toBe(0);
    // The LSR safety check of serial8250_do_startup: LSR is not 0xff.
    expect(t.inb(LSR)).toBe(0x60);
  });

  it('scratch register and divisor latch keep what is written (LCR.DLAB switches offsets 0 and 1)', () => {
    const t = uart();
    t.out(SCR, 0xa5); expect(t.inb(SCR)).toBe(0xa5);
    t.out(LCR, 0x83); t.out(B, 0x0c); t.out(B + 1, 0x00);
    expect([t.inb(B), t.inb(B + 1)]).toEqual([0x0c, 0x00]);
    t.out(LCR, 0x03);
    t.out(B, 0x41);
    expect(t.sent).toEqual([0x41]);
    expect(t.inb(LCR)).toBe(0x03);
  });

  it('the TVM\'s polled console: LSR THRE and TEMT always set, IIR no interrupt, bytes to the sink in order', () => {
    const t = uart();
    t.out(LCR, 0x03); t.out(IER, 0); t.out(FCR, 0); t.out(MCR, 0x03);
    for (const c of 'hi\n') { expect(t.inb(LSR) & 0x20).toBe(0x20); t.out(B, c.charCodeAt(0)); }
    expect(String.fromCharCode(...t.sent)).toBe('hi\n');
    expect(t.inb(IIR)).toBe(0x01);
    expect(t.inb(MSR)).toBe(0xb0);
    expect(t.u.txBytes).toBe(3);
  });
});

describe('PC16550D: THRE interrupt (Table 4 priority 3) on IRQ4 through OUT2', () => {
  it('enabling ETBEI with THR empty raises it; reading IIR clears it; re-enabling raises it again (UART_BUG_THRE test)', () => {
    const t = uart();
    t.out(IER, 0x02);
    const iir1 = t.inb(IIR);
    expect(iir1 & 0x0f).toBe(0x02);
    expect(t.inb(IIR) & 0x01).toBe(0x01);            // cleared by the read
    t.out(IER, 0); t.out(IER, 0x02);
    expect(t.inb(IIR) & 0x0f).toBe(0x02);            // a working UART re-asserts THRE
    t.out(IER, 0);
  });

  it('writing THR clears it and the empty THR raises it again: a new edge on IRQ4 for each byte', () => {
    const t = uart(true);
    t.out(MCR, 0x0b);                                // DTR RTS OUT2
    expect(t.irq4()).toBe(false);
    t.out(IER, 0x02);
    expect(t.irq4()).toBe(true);
    t.out(B, 0x61);
    expect(t.irq4()).toBe(true);
    expect(t.inb(IIR)).toBe(0x02);
    expect(t.irq4()).toBe(false);                    // the IIR read took the THRE away: line low, request gone
    t.out(B, 0x62); t.out(IER, 0);                   // the driver stops TX after its last byte
    expect(t.irq4()).toBe(false);
    expect(t.sent).toEqual([0x61, 0x62]);
  });

  it('without OUT2 (or in loopback) the interrupt stays inside the UART: IIR shows it, IRQ4 does not', () => {
    const t = uart(true);
    t.out(MCR, 0x03); t.out(IER, 0x02);
    expect(t.irq4()).toBe(false);
    t.out(MCR, 0x0b);
    expect(t.irq4()).toBe(true);
    t.out(MCR, 0x1b);
    t.out(B, 0x55);                                  // loopback: the byte comes back, nothing is sent
    expect(t.irq4()).toBe(false);
    expect(t.inb(IIR) & 0x0f).toBe(0x02);
    expect(t.sent).toEqual([]);
  });
});

describe('PC16550D: receiver, FIFO (FCR) and interrupt priorities', () => {
  it('received data (priority 2) outranks THRE (priority 3); reading RBR clears it; DR follows the buffer', () => {
    const t = uart(true);
    t.out(MCR, 0x0b); t.out(IER, 0x03);
    t.u.pushInput([0x31]);
    expect(t.inb(LSR) & 0x01).toBe(0x01);
    expect(t.inb(IIR)).toBe(0x04);
    expect(t.inb(RX)).toBe(0x31);
    expect(t.inb(LSR) & 0x01).toBe(0);
    expect(t.inb(IIR)).toBe(0x02);                   // THRE was waiting behind it
    expect(t.inb(IIR)).toBe(0x01);
    expect(t.u.rxBytes).toBe(1);
  });

  it('without FIFOs the receiver holds one byte and the host queue waits behind it', () => {
    const t = uart();
    t.u.pushInput([1, 2, 3]);
    expect(t.u.inputPending).toBe(2);
    expect([t.inb(RX), t.inb(RX), t.inb(RX)]).toEqual([1, 2, 3]);
    expect(t.inb(LSR) & 0x03).toBe(0);
  });

  it('FIFO mode: RDA at the trigger level (FCR bits 7-6: 1/4/8/14), the character timeout (0x0C) below it', () => {
    const t = uart();
    t.out(FCR, 0x81);                                // enable, trigger 8
    t.out(IER, 0x01);
    t.u.pushInput([1, 2, 3, 4, 5]);
    expect(t.inb(IIR)).toBe(0xcc);
    t.u.pushInput([6, 7, 8]);
    expect(t.inb(IIR)).toBe(0xc4);
    t.u.pushInput(Array.from({ length: 20 }, (_, i) => 9 + i));
    expect(t.u.inputPending).toBe(28 - 16);          // 16 bytes deep
    const got: number[] = [];
    while (t.inb(LSR) & 1) got.push(t.inb(RX));
    expect(got).toEqual(Array.from({ length: 28 }, (_, i) => i + 1));
    t.u.pushInput([1, 2]);
    t.out(FCR, 0x83);                                // clear the receive FIFO
    expect(t.inb(LSR) & 1).toBe(0);
    t.out(FCR, 0x00);
    expect(t.inb(IIR) & 0xc0).toBe(0);               // FIFOs off: bits 7-6 are 0
  });

  it('loopback (MCR bit 4): THR comes back in RBR; overrun sets LSR OE, a receiver line status interrupt (priority 1)', () => {
    const t = uart();
    t.out(MCR, 0x10); t.out(IER, 0x07);
    t.out(B, 0x11);
    expect(t.inb(IIR)).toBe(0x04);
    t.out(B, 0x22);                                  // no FIFO: the second byte overruns the first
    expect(t.inb(IIR)).toBe(0x06);
    expect(t.inb(LSR) & 0x03).toBe(0x03);
    expect(t.inb(LSR) & 0x02).toBe(0);               // OE cleared by reading LSR
    expect(t.inb(RX)).toBe(0x22);
    t.u.pushInput([0x99]);                           // the serial input is disconnected in loopback
    expect(t.inb(LSR) & 0x01).toBe(0);
    t.out(MCR, 0x00);
    expect(t.inb(RX)).toBe(0x99);
  });

  it('modem status (priority 4): loopback MCR changes set the MSR deltas; reading MSR clears them', () => {
    const t = uart();
    t.out(IER, 0x08);
    t.out(MCR, 0x10);                                // loopback with all outputs off: CTS, DSR, DCD fall
    expect(t.inb(IIR)).toBe(0x00);
    expect(t.inb(MSR)).toBe(0x0b);
    expect(t.inb(IIR)).toBe(0x01);
    t.out(MCR, 0x14);                                // OUT1 -> RI rises: no TERI yet
    expect(t.inb(MSR)).toBe(0x40);
    t.out(MCR, 0x10);                                // RI falls: trailing edge
    expect(t.inb(MSR)).toBe(0x04);
    t.out(MCR, 0x1f);
    expect(t.inb(MSR)).toBe(0xf0 | 0x0b);
  });
});
