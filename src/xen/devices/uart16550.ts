// A 16550 UART's transmit side, enough for a polled serial console (the
// device model QEMU provides to Xen HVM guests at 0x3f8): THR writes go to
// the console sink; LSR always reports the transmitter empty; there is no
// input and no interrupt.
import type { PortIoDevice } from './portio.js';

const RBR_THR = 0, IER = 1, IIR_FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7;
const LCR_DLAB = 0x80;
const LSR_THRE = 0x20, LSR_TEMT = 0x40;

export class Uart16550 implements PortIoDevice {
  readonly name = 'serial (16550)';
  private ier = 0; private lcr = 0; private mcr = 0; private scr = 0; private dll = 1; private dlm = 0;
  /** Bytes transmitted. */
  txBytes = 0;

  constructor(readonly base: number, private readonly sink: (byte: number) => void) {}

  read(port: number, _size: 1 | 2 | 4): number {
    const dlab = (this.lcr & LCR_DLAB) !== 0;
    switch (port - this.base) {
      case RBR_THR: return dlab ? this.dll : 0;       // no received data
      case IER: return dlab ? this.dlm : this.ier;
      case IIR_FCR: return 0x01;                     // no interrupt pending
      case LCR: return this.lcr;
      case MCR: return this.mcr;
      case LSR: return LSR_THRE | LSR_TEMT;          // always ready to transmit
      case MSR: return 0xb0;                         // DCD, DSR, CTS
      case SCR: return this.scr;
      default: return 0xff;
    }
  }

  write(port: number, _size: 1 | 2 | 4, value: number): void {
    const v = value & 0xff;
    const dlab = (this.lcr & LCR_DLAB) !== 0;
    switch (port - this.base) {
      case RBR_THR:
        if (dlab) this.dll = v;
        else { this.txBytes++; this.sink(v); }
        break;
      case IER: if (dlab) this.dlm = v; else this.ier = v & 0x0f; break;
      case IIR_FCR: break;
      case LCR: this.lcr = v; break;
      case MCR: this.mcr = v & 0x1f; break;
      case SCR: this.scr = v; break;
      default: break;
    }
  }
}
