// Port I/O dispatch: the device model behind the hypervisor's I/O exits
// (Xen's register_portio_handler / hvm_io_intercept). A port no device
// claims reads as all ones and drops writes, as on a PC's bus.

export interface PortIoDevice {
  readonly name: string;
  read(port: number, size: 1 | 2 | 4): number;
  write(port: number, size: 1 | 2 | 4, value: number): void;
}

interface Range { base: number; count: number; dev: PortIoDevice }

export class PortIoBus {
  private readonly ranges: Range[] = [];
  /** Accesses to ports no device claims. */
  unclaimed = 0;

  register(base: number, count: number, dev: PortIoDevice): void {
    for (const r of this.ranges) {
      if (base < r.base + r.count && r.base < base + count) {
        throw new Error(`I/O ports 0x${base.toString(16)}+${count} overlap ${r.dev.name} at 0x${r.base.toString(16)}`);
      }
    }
    this.ranges.push({ base, count, dev });
  }

  private find(port: number): PortIoDevice | undefined {
    for (const r of this.ranges) if (port >= r.base && port < r.base + r.count) return r.dev;
    return undefined;
  }

  read(port: number, size: 1 | 2 | 4): number {
    const dev = this.find(port);
    if (!dev) { this.unclaimed++; return size === 4 ? 0xffffffff : (1 << (size * 8)) - 1; }
    return dev.read(port, size);
  }

  write(port: number, size: 1 | 2 | 4, value: number): void {
    const dev = this.find(port);
    if (!dev) { this.unclaimed++; return; }
    dev.write(port, size, value);
  }
}
