// A 16550A UART (the device model QEMU provides to Xen HVM guests at 0x3f8),
// after the National Semiconductor PC16550D datasheet: registers RBR/THR,
// IER, IIR/FCR, LCR, MCR, LSR, MSR, SCR, the divisor latch (LCR.DLAB), the
// 16-byte receive FIFO (FCR bit 0, trigger levels 1/4/8/14), the interrupt
// priorities of IIR (receiver line status > received data available /
// character timeout > THR empty > modem status), and the loopback mode
// (MCR bit 4: THR to RBR, DTR/RTS/OUT1/OUT2 to DSR/CTS/RI/DCD) that Linux's
// 8250 autoconfig (drivers/tty/serial/8250/8250_port.c) tests.
//
// Transmission takes no virtual time: a THR write goes to the console sink
// at once, so THRE and TEMT always read 1 and a THRE interrupt (IER.ETBEI)
// is pending whenever it has not been cleared by reading IIR or writing THR
// since the transmitter became empty. Received bytes come from a host queue
// (pushInput) into the receive FIFO as room frees up, with no overrun from
// the host side; in FIFO mode data below the trigger level reports the
// character timeout (IIR 0x0C) at once rather than after four character times.
//
// The INTR output reaches the PC's IRQ line (connectIrq, IRQ4 for COM1 on the
// 'pc' platform) through OUT2 (MCR bit 3) as on a PC's serial port, and not
// in loopback mode (the OUT2 pin is then inactive). The TVM platform connects
// no line and polls LSR.
import type { PortIoDevice } from './portio.js';
import type { IrqLine } from '../hvm/irq.js';

const RBR_THR = 0, IER = 1, IIR_FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7;
export const UART_LCR_DLAB = 0x80;
export const UART_IER_RDI = 0x01, UART_IER_THRI = 0x02, UART_IER_RLSI = 0x04, UART_IER_MSI = 0x08;
export const UART_IIR_NO_INT = 0x01, UART_IIR_MSI = 0x00, UART_IIR_THRI = 0x02, UART_IIR_RDI = 0x04,
  UART_IIR_RLSI = 0x06, UART_IIR_TIMEOUT = 0x0c, UART_IIR_FIFO_ENABLED = 0xc0;
export const UART_FCR_ENABLE_FIFO = 0x01, UART_FCR_CLEAR_RCVR = 0x02, UART_FCR_CLEAR_XMIT = 0x04;
export const UART_MCR_DTR = 0x01, UART_MCR_RTS = 0x02, UART_MCR_OUT1 = 0x04, UART_MCR_OUT2 = 0x08, UART_MCR_LOOP = 0x10;
export const UART_LSR_DR = 0x01, UART_LSR_OE = 0x02, UART_LSR_BI_FE_PE = 0x1c, UART_LSR_THRE = 0x20, UART_LSR_TEMT = 0x40;
export const UART_MSR_CTS = 0x10, UART_MSR_DSR = 0x20, UART_MSR_RI = 0x40, UART_MSR_DCD = 0x80;
const FIFO_SIZE = 16;
const TRIGGER = [1, 4, 8, 14];
/** The modem lines the far end presents when not in loopback: DCD, DSR, CTS (a null-modem console). */
const EXTERNAL_STATUS = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;

export class Uart16550 implements PortIoDevice {
  readonly name = 'serial (16550A)';
  private ier = 0; private lcr = 0; private mcr = 0; private scr = 0; private dll = 1; private dlm = 0;
  private fcr = 0;
  /** Receive FIFO (one byte deep with FIFOs disabled) and the host's queue behind it. */
  private readonly rx: number[] = [];
  private readonly input: number[] = [];
  /** LSR error bits (OE; PE/FE/BI are never produced) until LSR is read. */
  private lsrErrors = 0;
  /** MSR status bits 7-4 as last seen, and the delta bits 3-0 accumulated until MSR is read. */
  private msrStatus = EXTERNAL_STATUS;
  private msrDelta = 0;
  /** The THR-empty interrupt is pending (thr_ipending). */
  private thrIpending = false;
  private line: IrqLine | undefined;
  /** Bytes transmitted (to the sink; loopback bytes are not counted). */
  txBytes = 0;
  /** Bytes the guest has read from RBR. */
  rxBytes = 0;

  constructor(readonly base: number, private readonly sink: (byte: number) => void) {}

  /** Wires the INTR output (through OUT2) to an interrupt line. */
  connectIrq(line: IrqLine): void {
    this.line = line;
    this.updateIrq();
  }

  /** Host input: bytes the far end sends, received in order as the guest reads. */
  pushInput(bytes: Iterable<number>): void {
    for (const b of bytes) this.input.push(b & 0xff);
    this.fillRx();
    this.updateIrq();
  }

  /** Bytes of host input not yet in the receive FIFO. */
  get inputPending(): number { return this.input.length; }

  private get fifoOn(): boolean { return (this.fcr & UART_FCR_ENABLE_FIFO) !== 0; }
  private get loop(): boolean { return (this.mcr & UART_MCR_LOOP) !== 0; }
  private get rxCapacity(): number { return this.fifoOn ? FIFO_SIZE : 1; }

  /** Moves host input into the receive buffer while there is room (not in loopback: the input is disconnected). */
  private fillRx(): void {
    if (this.loop) return;
    while (this.input.length && this.rx.length < this.rxCapacity) this.rx.push(this.input.shift()!);
  }

  /** A character arrives at the receiver (from loopback): overrun if the buffer is full. */
  private receive(b: number): void {
    if (this.rx.length < this.rxCapacity) this.rx.push(b);
    else if (this.fifoOn) this.lsrErrors |= UART_LSR_OE;            // FIFO full: the character is lost
    else { this.rx[0] = b; this.lsrErrors |= UART_LSR_OE; }          // RBR overwritten
  }

  /** The modem status inputs now: from MCR in loopback, else the far end's. */
  private modemInputs(): number {
    if (!this.loop) return EXTERNAL_STATUS;
    const m = this.mcr;
    return (m & UART_MCR_DTR ? UART_MSR_DSR : 0) | (m & UART_MCR_RTS ? UART_MSR_CTS : 0) |
      (m & UART_MCR_OUT1 ? UART_MSR_RI : 0) | (m & UART_MCR_OUT2 ? UART_MSR_DCD : 0);
  }

  private updateModemStatus(): void {
    const now = this.modemInputs(), changed = now ^ this.msrStatus;
    if (changed & UART_MSR_CTS) this.msrDelta |= 0x01;
    if (changed & UART_MSR_DSR) this.msrDelta |= 0x02;
    if (changed & UART_MSR_RI && !(now & UART_MSR_RI)) this.msrDelta |= 0x04;   // trailing edge of RI
    if (changed & UART_MSR_DCD) this.msrDelta |= 0x08;
    this.msrStatus = now;
  }

  /** The highest-priority pending interrupt's IIR bits 3-0 (datasheet Table 4), or UART_IIR_NO_INT. */
  private interruptId(): number {
    const ier = this.ier;
    if (ier & UART_IER_RLSI && this.lsrErrors) return UART_IIR_RLSI;
    if (ier & UART_IER_RDI && this.rx.length) {
      if (!this.fifoOn || this.rx.length >= TRIGGER[this.fcr >> 6]) return UART_IIR_RDI;
      return UART_IIR_TIMEOUT;
    }
    if (ier & UART_IER_THRI && this.thrIpending) return UART_IIR_THRI;
    if (ier & UART_IER_MSI && this.msrDelta) return UART_IIR_MSI;
    return UART_IIR_NO_INT;
  }

  private updateIrq(): void {
    if (!this.line) return;
    const on = this.interruptId() !== UART_IIR_NO_INT && (this.mcr & UART_MCR_OUT2) !== 0 && !this.loop;
    if (on) this.line.assert(); else this.line.deassert();
  }

  read(port: number, _size: 1 | 2 | 4): number {
    const dlab = (this.lcr & UART_LCR_DLAB) !== 0;
    let v: number;
    switch (port - this.base) {
      case RBR_THR:
        if (dlab) { v = this.dll; break; }
        if (this.rx.length) { v = this.rx.shift()!; this.rxBytes++; } else v = 0;
        this.fillRx();
        break;
      case IER: v = dlab ? this.dlm : this.ier; break;
      case IIR_FCR: {
        const id = this.interruptId();
        if (id === UART_IIR_THRI) this.thrIpending = false;           // reading IIR clears THRE when it is the source
        v = id | (this.fifoOn ? UART_IIR_FIFO_ENABLED : 0);
        break;
      }
      case LCR: v = this.lcr; break;
      case MCR: v = this.mcr; break;
      case LSR:
        v = (this.rx.length ? UART_LSR_DR : 0) | this.lsrErrors | UART_LSR_THRE | UART_LSR_TEMT;
        this.lsrErrors = 0;
        break;
      case MSR:
        v = this.msrStatus | this.msrDelta;
        this.msrDelta = 0;
        break;
      case SCR: v = this.scr; break;
      default: return 0xff;
    }
    this.updateIrq();
    return v;
  }

  write(port: number, _size: 1 | 2 | 4, value: number): void {
    const v = value & 0xff;
    const dlab = (this.lcr & UART_LCR_DLAB) !== 0;
    switch (port - this.base) {
      case RBR_THR:
        if (dlab) { this.dll = v; break; }
        // Writing THR clears the THRE interrupt (INTR falls unless another source holds it) ...
        this.thrIpending = false;
        this.updateIrq();
        if (this.loop) this.receive(v);
        else { this.txBytes++; this.sink(v); }
        // ... and the byte leaves the THR at once: THR is empty again, which raises THRE anew.
        this.thrIpending = true;
        break;
      case IER:
        if (dlab) { this.dlm = v; break; }
        // Enabling ETBEI while THR is empty raises THRE (Linux's UART_BUG_THRE and TXEN tests rely on it).
        if (v & UART_IER_THRI && !(this.ier & UART_IER_THRI)) this.thrIpending = true;
        this.ier = v & 0x0f;
        break;
      case IIR_FCR: {
        const was = this.fifoOn;
        this.fcr = v & 0xc9;                                           // trigger level, DMA mode, enable
        if (was !== this.fifoOn || v & UART_FCR_CLEAR_RCVR) { this.rx.length = 0; this.fillRx(); }
        break;
      }
      case LCR: this.lcr = v; break;
      case MCR:
        this.mcr = v & 0x1f;
        this.updateModemStatus();
        this.fillRx();
        break;
      case SCR: this.scr = v; break;
      default: break;                                                  // LSR and MSR are read-only here
    }
    this.updateIrq();
  }
}
