// Where a debugging session writes: the guest's serial console (raw bytes, as
// they come), the hypervisor's and Dom0's log lines, and the debugger's own
// lines. Debugger and log lines always start on a fresh line, even when the
// guest is in the middle of one.

export class Output {
  private midLine = false;
  /** When false, the guest console and the logs are dropped (the debugger's lines remain). */
  showGuest = true;

  constructor(private readonly write: (text: string) => void) {}

  console(bytes: Uint8Array): void {
    if (!this.showGuest || !bytes.length) return;
    this.write(Buffer.from(bytes).toString('latin1'));
    this.midLine = bytes[bytes.length - 1] !== 10;
  }

  log(prefix: string, line: string): void {
    if (!this.showGuest) return;
    this.line(`${prefix} ${line}`);
  }

  line(text = ''): void {
    if (this.midLine) { this.write('\n'); this.midLine = false; }
    this.write(text + '\n');
  }

  lines(texts: readonly string[]): void { for (const t of texts) this.line(t); }

  /** Raw text (a prompt); leaves the line open. */
  raw(text: string): void {
    if (this.midLine) { this.write('\n'); this.midLine = false; }
    this.write(text);
  }
}
